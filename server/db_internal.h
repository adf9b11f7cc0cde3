/* db_internal.h: helpers shared by the db_*.c files (and only them): statement preparation with logging,
 * binding and reading columns, and the one rounding rule used for every score shown or ranked. */
#ifndef CONCOURS_DB_INTERNAL_H
#define CONCOURS_DB_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <sqlite3.h>

#include "app.h"
#include "db_memo.h"

/* Logs a database fault with the statement or context WHAT. */
void dbi_log(sqlite3 *db, const char *what);
/* Prepares SQL; NULL (logged) on error. The caller releases it with dbi_finalize. */
sqlite3_stmt *dbi_prepare(sqlite3 *db, const char *sql);
/* Releases a statement of dbi_prepare (or any statement): one dbi_prepare keeps per pooled connection is reset and
 * kept for the next caller of the same SQL; any other is finalized. Every statement of dbi_prepare must end here,
 * never in sqlite3_finalize. Accepts NULL. */
void dbi_finalize(sqlite3_stmt *st);
/* Steps a statement that returns no row: 0 done, SQLITE_CONSTRAINT for a constraint, -1 other (logged). */
int dbi_step_done(sqlite3 *db, sqlite3_stmt *st);
/* Runs SQL without parameters: 0 or -1 (logged). */
int dbi_exec(sqlite3 *db, const char *sql);

/* The one way to write in a transaction: dbi_begin opens a write transaction (BEGIN IMMEDIATE: the write lock is
 * taken at once, so a check and the write it guards cannot interleave with another writer), returning APP_OK or
 * APP_INTERNAL; dbi_finish(DB, S) commits when S is APP_OK and rolls back otherwise, and returns S (APP_INTERNAL
 * when the commit failed, after rolling back). Every path out of a dbi_begin goes through one dbi_finish. */
enum app_status dbi_begin(sqlite3 *db);
enum app_status dbi_finish(sqlite3 *db, enum app_status s);

/* The one way to read a single row: steps ST (prepared and bound; finalized here in every case) once. A row:
 * FILL(st, ARG) copies it out and dbi_row returns APP_OK (APP_INTERNAL when FILL returns non-zero); no row:
 * APP_NOT_FOUND; a database error: APP_INTERNAL, logged with WHAT. So "not found" is only ever "no such row",
 * never a fault. ST may be NULL (a failed prepare): APP_INTERNAL. */
typedef int (*dbi_fill_fn)(sqlite3_stmt *st, void *arg);
enum app_status dbi_row(sqlite3 *db, sqlite3_stmt *st, dbi_fill_fn fill, void *arg, const char *what);
/* Builds the JSON value of the current row of ST (a new reference, NULL when out of memory). */
typedef json_t *(*dbi_row_fn)(sqlite3_stmt *st, void *arg);
/* Steps ST (prepared and bound; finalized here in every case) and returns the array of ROW(st, ARG) for each
 * row: a new reference, or NULL on a database error (logged) or when a row could not be built. */
json_t *dbi_rows(sqlite3 *db, sqlite3_stmt *st, dbi_row_fn row, void *arg);
/* Binds S (NULL binds NULL). */
void dbi_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Column I as text, "" for NULL. */
const char *dbi_col_text(sqlite3_stmt *st, int i);
/* Column I (epoch seconds) as an ISO 8601 string, or JSON null. New reference. */
json_t *dbi_col_time(sqlite3_stmt *st, int i);
/* V rounded to PRECISION decimals. */
double dbi_round(double v, int precision);
/* Column I rounded to PRECISION as a JSON real, or JSON null. New reference. */
json_t *dbi_col_score(sqlite3_stmt *st, int i, int precision);

/* 1 with STAMP set when what DB reads now may be kept, or taken, from memory (db_memo.h): outside a transaction of
 * DB's own, whose writes no other connection sees yet, what was read since the last commit is still true. */
int dbi_memo_stamp(sqlite3 *db, unsigned char stamp[DB_MEMO_STAMP]);
/* Reads the record ARG names into REC from the database: APP_OK, APP_NOT_FOUND, or APP_INTERNAL. */
typedef enum app_status (*dbi_memo_read_fn)(sqlite3 *db, const void *arg, void *rec);
/* The record KEY names, into REC (LEN bytes): from memory when it was read since the last commit (db_memo.h), else by
 * READ (with ARG) and then kept. KEY NULL: always READ, never kept. Returns READ's status. */
enum app_status dbi_memo_record(sqlite3 *db, const char *key, void *rec, size_t len, dbi_memo_read_fn read,
                                const void *arg);

/* SQL true when the score of the submission s (of the challenge c) is hidden from its team: its phase hides its
 * results ("hide_results") and the final ranking is not published. The one place that rule is written. */
#define DBI_SQL_RESULTS_HIDDEN                                                                                         \
  "(c.published_at IS NULL AND EXISTS(SELECT 1 FROM phases p WHERE p.challenge_id=s.challenge_id AND p.name=s.phase "  \
  "AND p.hide_results))"

#endif
