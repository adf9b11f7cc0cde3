/* db_internal.h: helpers shared by the db_*.c files (and only them): statement preparation with logging,
 * binding and reading columns, and the one rounding rule used for every score shown or ranked. */
#ifndef CONCOURS_DB_INTERNAL_H
#define CONCOURS_DB_INTERNAL_H

#include <jansson.h>
#include <sqlite3.h>

/* Logs a database fault with the statement or context WHAT. */
void dbi_log(sqlite3 *db, const char *what);
/* Prepares SQL; NULL (logged) on error. The caller finalizes. */
sqlite3_stmt *dbi_prepare(sqlite3 *db, const char *sql);
/* Steps a statement that returns no row: 0 done, SQLITE_CONSTRAINT for a constraint, -1 other (logged). */
int dbi_step_done(sqlite3 *db, sqlite3_stmt *st);
/* Runs SQL without parameters (BEGIN, COMMIT, ...): 0 or -1 (logged). */
int dbi_exec(sqlite3 *db, const char *sql);
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

#endif
