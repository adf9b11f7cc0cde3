/* backup.c: see backup.h. */
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "app.h"
#include "store.h"
#include "util.h"
#include "versions.h"

#define BACKUP_DEPTH 32
#define BACKUP_MAX_ENTRIES 10000000L

/* Puts the regular file SRC at DST: a hard link when possible (the store never changes a file in place), else a
 * durable copy. *SIZE gets its size. 0, or -1 with ERR. */
static int link_or_copy(const char *src, const char *dst, int64_t *size, char *err, size_t errlen)
{
  char sha[65];
  struct stat st;
  if (lstat(src, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%.300s is missing or not a regular file", src);
    return -1;
  }
  *size = st.st_size;
  if (link(src, dst) == 0)
    return 0;
  return store_copy_file(src, dst, size, sha, err, errlen);
}

/* Makes the folders above the file PATH (0700). 0 or -1. */
static int make_parent(const char *path)
{
  char parent[APP_PATH_MAX];
  if (util_strlcpy(parent, path, sizeof(parent)) != 0)
    return -1;
  char *slash = strrchr(parent, '/');
  if (slash == NULL)
    return 0;
  *slash = '\0';
  return util_mkdirs(parent, 0700);
}

struct tree_copy {
  const char *dst;
  struct backup_report *rep;
  char *err;
  size_t errlen;
};

static int copy_entry(const char *path, const char *rel, const struct stat *st, void *arg)
{
  struct tree_copy *t = arg;
  char d[APP_PATH_MAX];
  int64_t size = 0;
  if (strcmp(rel, "backup.json") == 0 || strcmp(rel, "tmp") == 0 || strncmp(rel, "tmp/", 4) == 0 ||
      strcmp(rel, "concours.lock") == 0 || strncmp(rel, "concours.db", 11) == 0)
    return 0; /* not data: the manifest, uploads in progress, the lock; the database is copied on its own */
  if (util_fmt(d, sizeof(d), "%s/%s", t->dst, rel) != 0) {
    snprintf(t->err, t->errlen, "path too long: %.200s", rel);
    return 1;
  }
  if (S_ISDIR(st->st_mode))
    return util_mkdirs(d, 0700) == 0 ? 0 : 1;
  if (!S_ISREG(st->st_mode)) {
    snprintf(t->err, t->errlen, "%.200s is not a regular file", rel);
    return 1;
  }
  if (make_parent(d) != 0 || link_or_copy(path, d, &size, t->err, t->errlen) != 0)
    return 1;
  t->rep->files++;
  t->rep->bytes += size;
  return 0;
}

/* Copies the tree SRC/REL into DST/REL. 0, or -1 with ERR. */
static int copy_tree(const char *src, const char *dst, const char *rel, struct backup_report *rep, char *err,
                     size_t errlen)
{
  char from[APP_PATH_MAX], to[APP_PATH_MAX];
  struct tree_copy t = {to, rep, err, errlen};
  if (util_fmt(from, sizeof(from), "%s%s%s", src, rel[0] != '\0' ? "/" : "", rel) != 0 ||
      util_fmt(to, sizeof(to), "%s%s%s", dst, rel[0] != '\0' ? "/" : "", rel) != 0 || util_mkdirs(to, 0700) != 0) {
    snprintf(err, errlen, "cannot create %.200s", rel);
    return -1;
  }
  int rc = util_walk(from, BACKUP_DEPTH, BACKUP_MAX_ENTRIES, copy_entry, &t);
  if (rc != 0 && err[0] == '\0')
    snprintf(err, errlen, "cannot copy %.200s: %s", from, rc == -2 ? "too deep or too many files" : strerror(errno));
  return rc == 0 ? 0 : -1;
}

/* Copies the live database DATA/concours.db into DST with the online backup API (one read transaction: one
 * consistent snapshot while writers go on in the WAL). 0, or -1 with ERR. */
static int snapshot_db(const char *src_path, const char *dst_path, char *err, size_t errlen)
{
  sqlite3 *src = NULL, *dst = NULL;
  int rc = -1;
  if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
      sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot open the databases: %s", sqlite3_errmsg(src != NULL ? src : dst));
    goto out;
  }
  sqlite3_busy_timeout(src, 10000);
  sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
  if (b == NULL) {
    snprintf(err, errlen, "cannot start the backup: %s", sqlite3_errmsg(dst));
    goto out;
  }
  int step = sqlite3_backup_step(b, -1); /* every page at once: one snapshot */
  sqlite3_backup_finish(b);
  if (step != SQLITE_DONE) {
    snprintf(err, errlen, "the database backup failed: %s", sqlite3_errstr(step));
    goto out;
  }
  rc = 0;
out:
  sqlite3_close(src);
  sqlite3_close(dst);
  return rc;
}

/* One string column of every row of SQL in DB, into a new JSON array; NULL on error. */
static json_t *column_list(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  json_t *out = json_array();
  if (out == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    json_decref(out);
    return NULL;
  }
  int rc = sqlite3_step(st);
  for (; rc == SQLITE_ROW; rc = sqlite3_step(st))
    json_array_append_new(out, json_string((const char *)sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    json_decref(out);
    return NULL;
  }
  return out;
}

/* The files the database of DIR names, as relative paths: submissions/ab/<sha> for each distinct file, and each
 * challenge's current version folder. *SUBS gets the number of submission rows. */
static int named_files(sqlite3 *db, json_t **shas, json_t **dirs, long *subs)
{
  sqlite3_stmt *st = NULL;
  *shas = column_list(db, "SELECT DISTINCT sha256 FROM submissions");
  *dirs = column_list(db, "SELECT dir FROM challenges");
  *subs = -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM submissions", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    *subs = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return *shas != NULL && *dirs != NULL && *subs >= 0 ? 0 : -1;
}

static int count_entry(const char *path, const char *rel, const struct stat *st, void *arg)
{
  struct backup_report *rep = arg;
  (void)path;
  (void)rel;
  if (S_ISREG(st->st_mode)) {
    rep->files++;
    rep->bytes += st->st_size;
  }
  return 0;
}

int backup_verify(const char *dir, struct backup_report *rep, char *err, size_t errlen)
{
  char path[APP_PATH_MAX], sha[65];
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  json_t *shas = NULL, *dirs = NULL;
  int rc = -1;
  size_t i;
  json_t *v;
  memset(rep, 0, sizeof(*rep));
  if (util_fmt(path, sizeof(path), "%s/concours.db", dir) != 0 ||
      sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%.300s/concours.db cannot be opened", dir);
    goto out;
  }
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW ||
      strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
    snprintf(err, errlen, "the database fails its integrity check: %.200s",
             st != NULL && sqlite3_column_text(st, 0) != NULL ? (const char *)sqlite3_column_text(st, 0) : "?");
    goto out;
  }
  if (named_files(db, &shas, &dirs, &rep->submissions) != 0) {
    snprintf(err, errlen, "cannot read the database: %s", sqlite3_errmsg(db));
    goto out;
  }
  json_array_foreach(shas, i, v)
  {
    const char *want = json_string_value(v);
    int64_t size = 0;
    if (want == NULL || strlen(want) != 64 ||
        util_fmt(path, sizeof(path), "%s/submissions/%.2s/%s", dir, want, want) != 0 ||
        util_sha256_file(path, sha, &size) != 0 || strcmp(sha, want) != 0) {
      snprintf(err, errlen, "the submission file %.64s is missing or damaged", want != NULL ? want : "?");
      goto out;
    }
    rep->files++;
    rep->bytes += size;
  }
  json_array_foreach(dirs, i, v)
  {
    struct stat s;
    char ref[APP_PATH_MAX]; /* the ground truth: a CSV file, or a program's reference folder */
    if (util_fmt(path, sizeof(path), "%s/%s/private/solution.csv", dir, json_string_value(v)) != 0 ||
        util_fmt(ref, sizeof(ref), "%s/%s/private/reference", dir, json_string_value(v)) != 0 ||
        (stat(path, &s) != 0 && stat(ref, &s) != 0) ||
        util_fmt(path, sizeof(path), "%s/%s", dir, json_string_value(v)) != 0 ||
        util_walk(path, BACKUP_DEPTH, BACKUP_MAX_ENTRIES, count_entry, rep) != 0) {
      snprintf(err, errlen, "the challenge folder %.200s is missing or unreadable", json_string_value(v));
      goto out;
    }
    rep->challenges++;
  }
  struct stat ks, dbs;
  if (util_fmt(path, sizeof(path), "%s/signing-key.pem", dir) != 0 || stat(path, &ks) != 0) {
    snprintf(err, errlen, "the signing key is missing");
    goto out;
  }
  if (util_fmt(path, sizeof(path), "%s/concours.db", dir) == 0 && stat(path, &dbs) == 0) {
    rep->files += 2;
    rep->bytes += ks.st_size + dbs.st_size;
  }
  rc = 0;
out:
  sqlite3_finalize(st);
  sqlite3_close(db);
  json_decref(shas);
  json_decref(dirs);
  return rc;
}

/* The new folder DEST.partial-XXXX next to DEST into OUT. 0 or -1. */
static int partial_dir(const char *dest, char *out, size_t n)
{
  char rnd[32];
  return util_random_token(6, rnd, sizeof(rnd)) == 0 && util_fmt(out, n, "%s.partial-%s", dest, rnd) == 0 &&
             mkdir(out, 0700) == 0
           ? 0
           : -1;
}

/* Renames the finished PARTIAL to DEST and makes it durable. 0, or -1 with ERR. */
static int publish(const char *partial, const char *dest, char *err, size_t errlen)
{
  if (rename(partial, dest) != 0 || util_fsync_dir(dest, 0) != 0) {
    snprintf(err, errlen, "cannot rename %.200s to %.200s: %s", partial, dest, strerror(errno));
    return -1;
  }
  return 0;
}

int backup_create(const char *data_dir, const char *dest, struct backup_report *rep, char *err, size_t errlen)
{
  char partial[APP_PATH_MAX] = "", from[APP_PATH_MAX], to[APP_PATH_MAX];
  struct stat st;
  sqlite3 *db = NULL;
  json_t *shas = NULL, *dirs = NULL, *manifest = NULL;
  char *text = NULL;
  int rc = -1, keep = -1;
  size_t i;
  json_t *v;
  memset(rep, 0, sizeof(*rep));
  err[0] = '\0';
  if (lstat(dest, &st) == 0) {
    snprintf(err, errlen, "%.300s exists: give a new folder", dest);
    return -1;
  }
  if (util_fmt(from, sizeof(from), "%s/concours.db", data_dir) != 0 || lstat(from, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%.300s holds no concours.db: not a concours data folder", data_dir);
    return -1;
  }
  /* from the snapshot to the last copy, no sweep (the server's, every 10 s) removes a version folder the snapshot
   * names, replaced by an import meanwhile: the import lock, shared (imports go on) */
  keep = versions_keep_all(data_dir);
  if (keep < 0) {
    snprintf(err, errlen, "cannot lock %.300s/import.lock: %s", data_dir, strerror(errno));
    return -1;
  }
  if (partial_dir(dest, partial, sizeof(partial)) != 0) {
    snprintf(err, errlen, "cannot create a folder next to %.300s: %s", dest, strerror(errno));
    partial[0] = '\0';
    goto out;
  }
  if (util_fmt(from, sizeof(from), "%s/concours.db", data_dir) != 0 ||
      util_fmt(to, sizeof(to), "%s/concours.db", partial) != 0 || snapshot_db(from, to, err, errlen) != 0)
    goto out;
  /* the files named by the snapshot, not by the live database: the backup is one point in time */
  if (sqlite3_open_v2(to, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
      named_files(db, &shas, &dirs, &rep->submissions) != 0) {
    snprintf(err, errlen, "cannot read the snapshot");
    goto out;
  }
  json_array_foreach(shas, i, v)
  {
    const char *sha = json_string_value(v);
    int64_t size = 0;
    if (sha == NULL || util_fmt(from, sizeof(from), "%s/submissions/%.2s/%s", data_dir, sha, sha) != 0 ||
        util_fmt(to, sizeof(to), "%s/submissions/%.2s/%s", partial, sha, sha) != 0 || make_parent(to) != 0 ||
        link_or_copy(from, to, &size, err, errlen) != 0)
      goto out;
  }
  json_array_foreach(dirs, i, v)
  {
    if (copy_tree(data_dir, partial, json_string_value(v), rep, err, errlen) != 0)
      goto out;
  }
  int64_t size = 0;
  if (util_fmt(from, sizeof(from), "%s/signing-key.pem", data_dir) != 0 ||
      util_fmt(to, sizeof(to), "%s/signing-key.pem", partial) != 0 || link_or_copy(from, to, &size, err, errlen) != 0)
    goto out;
  sqlite3_close(db);
  db = NULL;
  /* checked before it is published: a backup that does not restore is worse than none */
  if (backup_verify(partial, rep, err, errlen) != 0)
    goto out;
  manifest = json_pack("{s:I,s:I,s:I,s:I,s:I}", "created_at", (json_int_t)app_now(), "submissions",
                       (json_int_t)rep->submissions, "files", (json_int_t)rep->files, "bytes", (json_int_t)rep->bytes,
                       "challenges", (json_int_t)rep->challenges);
  text = manifest != NULL ? json_dumps(manifest, JSON_INDENT(2)) : NULL;
  if (text == NULL || util_fmt(to, sizeof(to), "%s/backup.json", partial) != 0 ||
      util_write_file_atomic(to, text, strlen(text), 0600) != 0 || publish(partial, dest, err, errlen) != 0) {
    if (err[0] == '\0')
      snprintf(err, errlen, "cannot write the manifest");
    goto out;
  }
  partial[0] = '\0';
  rc = 0;
out:
  versions_import_end(keep);
  sqlite3_close(db);
  if (partial[0] != '\0')
    store_remove_tree(partial);
  json_decref(shas);
  json_decref(dirs);
  json_decref(manifest);
  free(text);
  return rc;
}

/* 1 when DIR does not exist or is an empty folder. */
static int absent_or_empty(const char *dir)
{
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT;
  int entries = 0;
  for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      entries++;
  }
  closedir(d);
  return entries == 0;
}

int backup_restore(const char *src, const char *data_dir, struct backup_report *rep, char *err, size_t errlen)
{
  char partial[APP_PATH_MAX] = "", from[APP_PATH_MAX], to[APP_PATH_MAX];
  struct backup_report copied;
  int64_t size = 0;
  int rc = -1;
  err[0] = '\0';
  memset(&copied, 0, sizeof(copied));
  if (backup_verify(src, rep, err, errlen) != 0)
    return -1;
  if (!absent_or_empty(data_dir)) {
    snprintf(err, errlen, "%.300s is not empty: restore into a new data folder (a live one is never overwritten)",
             data_dir);
    return -1;
  }
  rmdir(data_dir); /* an empty folder is replaced by the restored one */
  if (partial_dir(data_dir, partial, sizeof(partial)) != 0) {
    snprintf(err, errlen, "cannot create a folder next to %.300s: %s", data_dir, strerror(errno));
    partial[0] = '\0';
    goto out;
  }
  /* files are linked (never changed in place); the database is copied: the new server will write into it */
  char sha[65];
  if (copy_tree(src, partial, "", &copied, err, errlen) != 0 ||
      util_fmt(from, sizeof(from), "%s/concours.db", src) != 0 ||
      util_fmt(to, sizeof(to), "%s/concours.db", partial) != 0 ||
      store_copy_file(from, to, &size, sha, err, errlen) != 0)
    goto out;
  if (util_fmt(to, sizeof(to), "%s/tmp", partial) != 0 || util_mkdirs(to, 0700) != 0 ||
      backup_verify(partial, &copied, err, errlen) != 0 || publish(partial, data_dir, err, errlen) != 0)
    goto out;
  partial[0] = '\0';
  rc = 0;
out:
  if (partial[0] != '\0')
    store_remove_tree(partial);
  return rc;
}
