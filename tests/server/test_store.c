/* test_store.c: unit tests of store.c (uploads, paths, the orphan sweep). */
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "store.h"
#include "util.h"

#include "check.h"

static void test_store(void)
{
  char err[256], dir[512], path[1024], dbpath[1024];
  snprintf(dir, sizeof(dir), "%s/data", tmpdir);
  CHECK(store_init(dir, err, sizeof(err)) == 0);
  struct store_upload u;
  CHECK(store_upload_begin(&u) == 0);
  CHECK(store_upload_write(&u, "abc", 3) == APP_OK);
  CHECK(store_upload_finish(&u) == APP_OK);
  CHECK(strcmp(u.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
  CHECK(store_upload_commit(&u) == APP_OK);
  store_upload_abort(&u);
  CHECK(store_submission_path(u.sha256, path, sizeof(path)) == 0);
  CHECK(access(path, R_OK) == 0);
  CHECK(store_submission_path("../../etc/passwd", path, sizeof(path)) == -1);
  /* an aborted upload leaves nothing in tmp/ */
  struct store_upload v;
  CHECK(store_upload_begin(&v) == 0);
  CHECK(store_upload_write(&v, "zz", 2) == APP_OK);
  char tmp_path[APP_PATH_MAX];
  util_strlcpy(tmp_path, v.tmp_path, sizeof(tmp_path));
  store_upload_abort(&v);
  CHECK(access(tmp_path, F_OK) != 0);
  /* no row refers to "abc": the sweep removes it */
  snprintf(dbpath, sizeof(dbpath), "%s/concours.db", dir);
  sqlite3 *db = db_open(dbpath, err, sizeof(err));
  CHECK(db != NULL);
  CHECK(store_sweep_orphans(db) == 1);
  CHECK(store_submission_path(u.sha256, path, sizeof(path)) == 0 && access(path, F_OK) != 0);
  sqlite3_close(db);
}

int main(void)
{
  if (check_begin() != 0)
    return 1;
  test_store();
  return check_end("store");
}
