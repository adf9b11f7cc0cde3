/* db_factsheet.h: the SQL of method descriptions ("fact sheets", issue 14, docs/factsheets.md). A team of a
 * challenge whose phases ask for one keeps one: a PDF or a Markdown file (stored content-addressed with the
 * submissions, store.h), an optional link, and the jury's verdict, pending until the jury accepts or refuses it
 * (audited). A new upload replaces the last one and is pending again. */
#ifndef CONCOURS_DB_FACTSHEET_H
#define CONCOURS_DB_FACTSHEET_H

#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "db.h"

struct fact_sheet {
  int64_t team_id;
  char sha256[65];
  char kind[12]; /* "pdf" or "markdown" */
  int64_t size;
  char link[512];  /* "" when none */
  char status[12]; /* "pending", "accepted" or "refused" */
  char reason[1024];
  int64_t uploaded_at, reviewed_at;
};

/* What C asks of its teams: 0 nothing, 1 an optional fact sheet, 2 a required one (a phase says "required"). */
int db_fact_sheet_mode(const struct challenge *c);
/* "none", "optional" or "required". */
const char *db_fact_sheet_mode_name(int mode);

/* Stores (or replaces) TEAM_ID's fact sheet in C, pending, uploaded by USER_ID at NOW. APP_OK or APP_INTERNAL. */
enum app_status db_fact_sheet_put(sqlite3 *db, const struct challenge *c, int64_t team_id, const struct fact_sheet *f,
                                  int64_t user_id, int64_t now);
/* TEAM_ID's fact sheet in CHALLENGE_ID into F. APP_OK, APP_NOT_FOUND, APP_INTERNAL. */
enum app_status db_fact_sheet_get(sqlite3 *db, int64_t challenge_id, int64_t team_id, struct fact_sheet *f);
/* The jury's verdict on TEAM_ID's fact sheet in C (ACCEPT 1 or 0), with REASON, audited ("fact_sheet.accept" or
 * "fact_sheet.refuse", ACTOR) in the same transaction. APP_OK, APP_NOT_FOUND, APP_INTERNAL. */
enum app_status db_fact_sheet_review(sqlite3 *db, const struct challenge *c, int64_t team_id, int accept,
                                     const struct user *actor, const char *reason, int64_t now);
/* F as the API shows it: {"status","kind","size","sha256","link","reason","uploaded_at","reviewed_at"}. */
json_t *db_fact_sheet_json(const struct fact_sheet *f);
/* Every fact sheet of CHALLENGE_ID as {"TEAM_ID": db_fact_sheet_json}, or NULL on a fault. */
json_t *db_fact_sheets(sqlite3 *db, int64_t challenge_id);

#endif
