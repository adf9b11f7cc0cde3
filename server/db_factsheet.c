/* db_factsheet.c: method descriptions (db_factsheet.h). */
#include "db_factsheet.h"

#include <stdio.h>
#include <string.h>

#include "db_internal.h"
#include "util.h"

int db_fact_sheet_mode(const struct challenge *c)
{
  int mode = 0;
  for (int i = 0; i < c->nphases; i++) {
    if (strcmp(c->phases[i].fact_sheet, "required") == 0)
      mode = 2;
    else if (strcmp(c->phases[i].fact_sheet, "optional") == 0 && mode < 1)
      mode = 1;
  }
  return mode;
}

const char *db_fact_sheet_mode_name(int mode)
{
  return mode == 2 ? "required" : mode == 1 ? "optional" : "none";
}

enum app_status db_fact_sheet_put(sqlite3 *db, const struct challenge *c, int64_t team_id, const struct fact_sheet *f,
                                  int64_t user_id, int64_t now)
{
  sqlite3_stmt *st = dbi_prepare(
    db, "INSERT INTO fact_sheets(challenge_id,team_id,sha256,kind,size,link,status,reason,uploaded_at,uploaded_by,"
        "reviewed_at) VALUES(?1,?2,?3,?4,?5,?6,'pending',NULL,?7,?8,NULL) ON CONFLICT(challenge_id,team_id) DO UPDATE "
        "SET sha256=?3, kind=?4, size=?5, link=?6, status='pending', reason=NULL, uploaded_at=?7, uploaded_by=?8, "
        "reviewed_at=NULL");
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int64(st, 1, c->id);
  sqlite3_bind_int64(st, 2, team_id);
  dbi_bind_text(st, 3, f->sha256);
  dbi_bind_text(st, 4, f->kind);
  sqlite3_bind_int64(st, 5, f->size);
  dbi_bind_text(st, 6, f->link[0] != '\0' ? f->link : NULL);
  sqlite3_bind_int64(st, 7, now);
  sqlite3_bind_int64(st, 8, user_id);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

#define FACT_COLS "team_id,sha256,kind,size,link,status,reason,uploaded_at,reviewed_at"

static void fill(sqlite3_stmt *st, struct fact_sheet *f)
{
  memset(f, 0, sizeof(*f));
  f->team_id = sqlite3_column_int64(st, 0);
  util_strlcpy(f->sha256, dbi_col_text(st, 1), sizeof(f->sha256));
  util_strlcpy(f->kind, dbi_col_text(st, 2), sizeof(f->kind));
  f->size = sqlite3_column_int64(st, 3);
  util_strlcpy(f->link, dbi_col_text(st, 4), sizeof(f->link));
  util_strlcpy(f->status, dbi_col_text(st, 5), sizeof(f->status));
  util_strlcpy(f->reason, dbi_col_text(st, 6), sizeof(f->reason));
  f->uploaded_at = sqlite3_column_int64(st, 7);
  f->reviewed_at = sqlite3_column_int64(st, 8);
}

enum app_status db_fact_sheet_get(sqlite3 *db, int64_t challenge_id, int64_t team_id, struct fact_sheet *f)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT " FACT_COLS " FROM fact_sheets WHERE challenge_id=? AND team_id=?");
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int64(st, 1, challenge_id);
  sqlite3_bind_int64(st, 2, team_id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    fill(st, f);
  dbi_finalize(st);
  return rc == SQLITE_ROW ? APP_OK : rc == SQLITE_DONE ? APP_NOT_FOUND : APP_INTERNAL;
}

enum app_status db_fact_sheet_review(sqlite3 *db, const struct challenge *c, int64_t team_id, int accept,
                                     const struct user *actor, const char *reason, int64_t now)
{
  char target[48];
  struct fact_sheet f;
  enum app_status s = dbi_begin(db);
  if (s != APP_OK)
    return s;
  s = db_fact_sheet_get(db, c->id, team_id, &f);
  sqlite3_stmt *st = s == APP_OK ? dbi_prepare(db, "UPDATE fact_sheets SET status=?1, reason=?2, reviewed_at=?3 "
                                                   "WHERE challenge_id=?4 AND team_id=?5")
                                 : NULL;
  if (st == NULL) {
    s = s == APP_OK ? APP_INTERNAL : s;
    goto out;
  }
  dbi_bind_text(st, 1, accept ? "accepted" : "refused");
  dbi_bind_text(st, 2, reason);
  sqlite3_bind_int64(st, 3, now);
  sqlite3_bind_int64(st, 4, c->id);
  sqlite3_bind_int64(st, 5, team_id);
  s = dbi_step_done(db, st) == 0 ? APP_OK : APP_INTERNAL;
  dbi_finalize(st);
  if (s != APP_OK)
    goto out;
  snprintf(target, sizeof(target), "team:%lld", (long long)team_id);
  json_t *details = json_pack("{s:s,s:I}", "sha256", f.sha256, "size", (json_int_t)f.size);
  s = db_audit_append(db, actor->username, accept ? "fact_sheet.accept" : "fact_sheet.refuse", c->slug, target, reason,
                      details, now);
  json_decref(details);
out:
  return dbi_finish(db, s);
}

json_t *db_fact_sheet_json(const struct fact_sheet *f)
{
  char up[32], rev[32];
  util_iso8601(f->uploaded_at, up);
  util_iso8601(f->reviewed_at, rev);
  return json_pack("{s:s,s:s,s:I,s:s,s:o,s:o,s:s,s:o}", "status", f->status, "kind", f->kind, "size",
                   (json_int_t)f->size, "sha256", f->sha256, "link",
                   f->link[0] != '\0' ? json_string(f->link) : json_null(), "reason",
                   f->reason[0] != '\0' ? json_string(f->reason) : json_null(), "uploaded_at", up, "reviewed_at",
                   f->reviewed_at != 0 ? json_string(rev) : json_null());
}

json_t *db_fact_sheets(sqlite3 *db, int64_t challenge_id)
{
  struct fact_sheet f;
  char key[24];
  json_t *out = json_object();
  sqlite3_stmt *st = dbi_prepare(db, "SELECT " FACT_COLS " FROM fact_sheets WHERE challenge_id=?");
  if (st == NULL || out == NULL) {
    dbi_finalize(st);
    json_decref(out);
    return NULL;
  }
  sqlite3_bind_int64(st, 1, challenge_id);
  int rc = sqlite3_step(st);
  for (; rc == SQLITE_ROW; rc = sqlite3_step(st)) {
    fill(st, &f);
    snprintf(key, sizeof(key), "%lld", (long long)f.team_id);
    json_object_set_new(out, key, db_fact_sheet_json(&f));
  }
  dbi_finalize(st);
  if (rc != SQLITE_DONE) {
    json_decref(out);
    return NULL;
  }
  return out;
}
