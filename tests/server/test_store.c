/* test_store.c: unit tests of store.c (uploads, paths, the orphan sweep) and of upload_pipe.c (a large upload's
 * hasher and flusher). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "oci.h"
#include "store.h"
#include "util.h"

#include "check.h"

/* Every write(2) of this program and the modules under test comes here first (this program is linked with
 * -Wl,--wrap=write): while WATCHING, the file offset and size of each write to a regular file are recorded with
 * its inode. */
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);

#define MAX_WRITES 256
static struct {
  ino_t ino;
  off_t at;
  size_t n;
} writes[MAX_WRITES];
static int nwrites;
static int watching;

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
  struct stat st;
  if (watching && nwrites < MAX_WRITES && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    writes[nwrites].ino = st.st_ino;
    writes[nwrites].at = lseek(fd, 0, SEEK_CUR);
    writes[nwrites].n = n;
    nwrites++;
  }
  return __real_write(fd, buf, n);
}

/* Whether the recorded writes to PATH's inode are N bytes written in order, each ending on a multiple of
 * STORE_WRITE_UNIT but the last (at N): the page cache can keep every whole unit in one 2 MiB page. */
static int written_by_units(const char *path, size_t n)
{
  struct stat st;
  off_t at = 0;
  if (stat(path, &st) != 0 || nwrites >= MAX_WRITES)
    return 0;
  for (int i = 0; i < nwrites; i++) {
    if (writes[i].ino != st.st_ino)
      continue;
    off_t end = writes[i].at + (off_t)writes[i].n;
    if (writes[i].at != at || (end % STORE_WRITE_UNIT != 0 && (size_t)end != n))
      return 0;
    at = end;
  }
  return (size_t)at == n;
}

static void test_store(void)
{
  char err[256], dir[512], path[1024], dbpath[1024];
  snprintf(dir, sizeof(dir), "%s/data", tmpdir);
  /* a folder made open by someone else is made private: the files inside are readable by all */
  struct stat st;
  snprintf(path, sizeof(path), "%s/data/submissions", tmpdir);
  CHECK(util_mkdirs(path, 0755) == 0 && chmod(path, 0755) == 0);
  CHECK(store_init(dir, 1, err, sizeof(err)) == 0);
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700);
  snprintf(path, sizeof(path), "%s/data/tmp", tmpdir);
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700);
  /* tmp/ holds the owner's work in flight: an admin command (not the owner) leaves it, the owner's start empties it */
  snprintf(path, sizeof(path), "%s/data/tmp/run-inflight", tmpdir);
  CHECK(mkdir(path, 0755) == 0);
  CHECK(store_init(dir, 0, err, sizeof(err)) == 0);
  CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
  CHECK(store_init(dir, 1, err, sizeof(err)) == 0);
  CHECK(stat(path, &st) != 0 && errno == ENOENT);
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

/* Fills BUF with N bytes of a stream that depends on the position POS only. */
static void fill(char *buf, size_t n, uint64_t pos)
{
  for (size_t i = 0; i < n; i++)
    buf[i] = (char)(((pos + i) * 2654435761u) >> 11);
}

/* Sends ALL's N bytes to U through store_upload_buffer in chunks of uneven sizes. Returns 1 when every write
 * succeeded, and sets *PIPED when the pipe ran. */
static int send_all(struct store_upload *u, const char *all, size_t n, int *piped)
{
  size_t off = 0;
  for (int k = 0; off < n; k++) {
    char *buf;
    size_t len = STORE_UPLOAD_CHUNK - (size_t)(k % 5) * 4099;
    if (len > n - off)
      len = n - off;
    if (store_upload_buffer(u, &buf) != APP_OK || buf == NULL)
      return 0;
    memcpy(buf, all + off, len);
    if (store_upload_write(u, buf, len) != APP_OK)
      return 0;
    *piped |= u->pipe != NULL;
    off += len;
  }
  return 1;
}

/* 40 MiB: the pipe starts past STORE_PIPE_FROM and flushes every 8 MiB; the name is the SHA-256 of every byte in
 * order, and the file holds them. */
static void test_large_upload(void)
{
  size_t total = (size_t)40 << 20;
  char *all = malloc(total), *back = malloc(total), want[65], path[1024], tmp[APP_PATH_MAX];
  CHECK(all != NULL && back != NULL);
  if (all == NULL || back == NULL)
    goto out;
  fill(all, total, 0);
  util_sha256_hex(all, total, want);
  struct store_upload u;
  int piped = 0;
  CHECK(store_upload_begin(&u) == 0);
  CHECK(send_all(&u, all, total, &piped));
  CHECK(piped);
  util_strlcpy(tmp, u.tmp_path, sizeof(tmp));
  CHECK(store_upload_finish(&u) == APP_OK);
  CHECK(u.pipe == NULL);
  CHECK(strcmp(u.sha256, want) == 0);
  struct stat st;
  CHECK(stat(tmp, &st) == 0 && st.st_size == (off_t)total && (st.st_mode & 0777) == 0644);
  int fd = open(tmp, O_RDONLY);
  CHECK(fd >= 0 && read(fd, back, total) == (ssize_t)total && memcmp(all, back, total) == 0);
  if (fd >= 0)
    close(fd);
  CHECK(store_upload_commit(&u) == APP_OK && u.committed);
  store_upload_abort(&u);
  CHECK(store_submission_path(want, path, sizeof(path)) == 0 && stat(path, &st) == 0 && st.st_size == (off_t)total);

  /* the same bytes again: found in place, the copy in tmp/ waits for the abort (after the reply) */
  struct store_upload d;
  CHECK(store_upload_begin(&d) == 0);
  CHECK(send_all(&d, all, total, &piped));
  CHECK(store_upload_finish(&d) == APP_OK && strcmp(d.sha256, want) == 0);
  CHECK(store_upload_commit(&d) == APP_OK && !d.committed);
  util_strlcpy(tmp, d.tmp_path, sizeof(tmp));
  CHECK(access(tmp, F_OK) == 0);
  store_upload_abort(&d);
  CHECK(access(tmp, F_OK) != 0);
  CHECK(access(path, R_OK) == 0);

  /* once the pipe runs, bytes from another buffer are refused; an abort then stops it and removes the file */
  struct store_upload f;
  piped = 0;
  CHECK(store_upload_begin(&f) == 0);
  CHECK(send_all(&f, all, (size_t)3 << 20, &piped) && piped);
  CHECK(store_upload_write(&f, all, 10) == APP_INTERNAL);
  char *buf = NULL;
  CHECK(store_upload_buffer(&f, &buf) == APP_OK && buf != NULL);
  CHECK(store_upload_write(&f, buf, STORE_UPLOAD_CHUNK + 1) == APP_INTERNAL);
  util_strlcpy(tmp, f.tmp_path, sizeof(tmp));
  store_upload_abort(&f);
  CHECK(f.pipe == NULL && access(tmp, F_OK) != 0);
out:
  free(all);
  free(back);
}

/* Files copied by store_copy_file are written by whole aligned 2 MiB units (store.h), whether their size is a
 * multiple of the unit or not; the copy's bytes and name stay right. */
static void test_unit_writes(void)
{
  size_t total = ((size_t)9 << 20) + 12345;
  char *all = malloc(total), *back = malloc(total), want[65], src[APP_PATH_MAX], copy[APP_PATH_MAX], sha[65];
  char err[256];
  CHECK(all != NULL && back != NULL);
  if (all == NULL || back == NULL)
    goto out;
  fill(all, total, 7);
  size_t sizes[] = {100, (size_t)2 << 20, ((size_t)2 << 20) + 1, (size_t)8 << 20, total};
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    size_t n = sizes[k];
    int64_t size = 0;
    util_sha256_hex(all, n, want);
    snprintf(src, sizeof(src), "%s/src-%zu", tmpdir, k);
    snprintf(copy, sizeof(copy), "%s/copy-%zu", tmpdir, k);
    int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, all, n) == (ssize_t)n);
    if (fd >= 0)
      close(fd);
    nwrites = 0;
    watching = 1;
    CHECK(store_copy_file(src, copy, &size, sha, err, sizeof(err)) == 0);
    watching = 0;
    CHECK(size == (int64_t)n && strcmp(sha, want) == 0);
    CHECK(written_by_units(copy, n));
    CHECK(nwrites == (int)((n + STORE_WRITE_UNIT - 1) / STORE_WRITE_UNIT));
    fd = open(copy, O_RDONLY);
    CHECK(fd >= 0 && read(fd, back, n) == (ssize_t)n && memcmp(all, back, n) == 0);
    if (fd >= 0)
      close(fd);
  }
  /* the recorder sees writes that break the rule: an upload's first chunk is not a whole unit */
  struct store_upload v;
  CHECK(store_upload_begin(&v) == 0);
  nwrites = 0;
  watching = 1;
  CHECK(store_upload_write(&v, all, 1000) == APP_OK && store_upload_write(&v, all, (size_t)2 << 20) == APP_OK);
  watching = 0;
  util_strlcpy(src, v.tmp_path, sizeof(src));
  CHECK(nwrites == 2 && !written_by_units(src, ((size_t)2 << 20) + 1000));
  store_upload_abort(&v);
out:
  free(all);
  free(back);
}

/* A flush that fails (fdatasync of a pipe: EINVAL) reaches the request thread at its next call, and
 * upload_pipe_stop reports it too. */
static void test_pipe_failure(void)
{
  int fds[2];
  CHECK(pipe(fds) == 0);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  CHECK(md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1);
  struct upload_pipe *p = upload_pipe_start(md, fds[1], 0);
  CHECK(p != NULL);
  enum app_status s = APP_OK;
  int64_t written = 0;
  char *buf = NULL;
  /* 1 GiB at most: the first flush comes after UPLOAD_PIPE_FLUSH_EVERY bytes */
  for (int i = 0; p != NULL && i < 4096 && s == APP_OK; i++) {
    s = upload_pipe_buffer(p, &buf);
    if (s != APP_OK)
      break;
    memset(buf, 'x', 64);
    written += UPLOAD_PIPE_CHUNK;
    s = upload_pipe_post(p, UPLOAD_PIPE_CHUNK, written);
  }
  CHECK(s == APP_INTERNAL);
  CHECK(written >= UPLOAD_PIPE_FLUSH_EVERY);
  if (p != NULL)
    CHECK(upload_pipe_stop(p, 1) == APP_INTERNAL);
  CHECK(upload_pipe_stop(NULL, 1) == APP_OK);
  EVP_MD_CTX_free(md);
  close(fds[0]);
  close(fds[1]);
}

/* A staged runtime in TMP (oci_stage_create) whose rootfs holds the file NAME. */
static void stage_runtime(char *tmp, size_t n, const char *name)
{
  char path[1024];
  CHECK(oci_stage_create(tmp, n) == 0);
  snprintf(path, sizeof(path), "%s/rootfs", tmp);
  CHECK(mkdir(path, 0755) == 0);
  snprintf(path, sizeof(path), "%s/rootfs/%s", tmp, name);
  CHECK(util_write_file_atomic(path, "x", 1, 0644) == 0);
}

/* The runtime cache (oci.h): a complete runtime is never replaced, as a run may have it mounted: a second install of
 * the same identity (two imports of one image at once) keeps the first and drops its own copy; an incomplete one (an
 * earlier install stopped midway) is replaced. Runs after test_store (the data folder). */
static void test_runtime_install(void)
{
  static const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  char a[1024], b[1024], rootfs[1024], path[2048];
  struct stat st;
  CHECK(oci_rootfs_path(sha, rootfs, sizeof(rootfs)) == -1);
  stage_runtime(a, sizeof(a), "first");
  stage_runtime(b, sizeof(b), "second");
  CHECK(oci_install(a, sha, rootfs, sizeof(rootfs)) == 0);
  CHECK(oci_install(b, sha, rootfs, sizeof(rootfs)) == 0);
  snprintf(path, sizeof(path), "%s/first", rootfs);
  CHECK(stat(path, &st) == 0); /* the first stays, */
  snprintf(path, sizeof(path), "%s/second", rootfs);
  CHECK(stat(path, &st) != 0);
  CHECK(stat(b, &st) != 0 && errno == ENOENT); /* the second's copy went */
  /* an incomplete one: no mark */
  snprintf(path, sizeof(path), "%s/../complete", rootfs);
  CHECK(unlink(path) == 0);
  CHECK(oci_rootfs_path(sha, rootfs, sizeof(rootfs)) == -1);
  stage_runtime(b, sizeof(b), "third");
  CHECK(oci_install(b, sha, rootfs, sizeof(rootfs)) == 0);
  snprintf(path, sizeof(path), "%s/third", rootfs);
  CHECK(stat(path, &st) == 0);
  snprintf(path, sizeof(path), "%s/first", rootfs);
  CHECK(stat(path, &st) != 0);
}

int main(void)
{
  if (check_begin() != 0)
    return 1;
  test_store();
  test_runtime_install();
  test_large_upload();
  test_unit_writes();
  test_pipe_failure();
  return check_end("store");
}
