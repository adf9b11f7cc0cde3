/* db_sandbox.c: see db_sandbox.h. */
#include "db_sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *db_sandbox_definition(sqlite3 *db, const char *slug)
{
  sqlite3_stmt *st = NULL;
  char *out = NULL;
  if (sqlite3_prepare_v2(db, "SELECT definition FROM challenges WHERE slug=?", -1, &st, NULL) != SQLITE_OK ||
      sqlite3_bind_text(st, 1, slug, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
    fprintf(stderr, "concours: db: definition of %s: %s\n", slug, sqlite3_errmsg(db));
    goto out;
  }
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const unsigned char *text = sqlite3_column_text(st, 0);
    out = strdup(text != NULL ? (const char *)text : "");
  } else if (rc != SQLITE_DONE) {
    fprintf(stderr, "concours: db: definition of %s: %s\n", slug, sqlite3_errmsg(db));
  }
out:
  sqlite3_finalize(st);
  return out;
}
