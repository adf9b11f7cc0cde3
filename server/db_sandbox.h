/* db_sandbox.h: the queries the scoring sandbox needs beyond db.h (kept apart so that db.c, which others change,
 * stays untouched): the challenge definition, from which the per-challenge "limits" are read at each run. */
#ifndef CONCOURS_DB_SANDBOX_H
#define CONCOURS_DB_SANDBOX_H

#include <sqlite3.h>

/* The challenge.json text of challenge SLUG as a malloc'd NUL-terminated string the caller frees, or NULL when
 * the challenge is absent or on a database error (logged to stderr). */
char *db_sandbox_definition(sqlite3 *db, const char *slug);

#endif
