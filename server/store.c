/* store.c: see store.h. */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "db.h"
#include "util.h"

static char data_dir[APP_PATH_MAX];

const char *store_data_dir(void)
{
  return data_dir;
}

int store_path(char *out, size_t n, const char *rel)
{
  int len = snprintf(out, n, "%s/%s", data_dir, rel);
  return (len < 0 || (size_t)len >= n) ? -1 : 0;
}

static int empty_tmp(void)
{
  char dir[APP_PATH_MAX], path[APP_PATH_MAX];
  if (store_path(dir, sizeof(dir), "tmp") != 0)
    return -1;
  DIR *d = opendir(dir);
  if (d == NULL)
    return -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    int n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    if (n > 0 && (size_t)n < sizeof(path))
      store_remove_tree(path);
  }
  closedir(d);
  return 0;
}

int store_init(const char *dir, int owner, char *err, size_t errlen)
{
  static const char *const subdirs[] = {"tmp", "submissions", "challenges"};
  char path[APP_PATH_MAX];
  if (util_strlcpy(data_dir, dir, sizeof(data_dir)) != 0) {
    snprintf(err, errlen, "data folder path too long");
    return -1;
  }
  if (util_mkdirs(data_dir, 0700) != 0) {
    snprintf(err, errlen, "cannot create the data folder %s: %s", data_dir, strerror(errno));
    return -1;
  }
  for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
    if (store_path(path, sizeof(path), subdirs[i]) != 0 || util_mkdirs(path, 0700) != 0) {
      snprintf(err, errlen, "cannot create %s/%s: %s", data_dir, subdirs[i], strerror(errno));
      return -1;
    }
    /* Private whatever made it: the files inside are readable by all (a scoring links them into its sandbox), the
     * folders are what keeps them from other local users. */
    if (chmod(path, 0700) != 0) {
      snprintf(err, errlen, "cannot make %s/%s private (mode 0700): %s", data_dir, subdirs[i], strerror(errno));
      return -1;
    }
  }
  if (owner && empty_tmp() != 0) {
    snprintf(err, errlen, "cannot empty %s/tmp: %s", data_dir, strerror(errno));
    return -1;
  }
  return 0;
}

int store_upload_begin(struct store_upload *u)
{
  char rnd[32];
  memset(u, 0, sizeof(*u));
  u->fd = -1;
  if (util_random_token(12, rnd, sizeof(rnd)) != 0)
    return -1;
  int n = snprintf(u->tmp_path, sizeof(u->tmp_path), "%s/tmp/upload-%s", data_dir, rnd);
  if (n < 0 || (size_t)n >= sizeof(u->tmp_path))
    return -1;
  u->md = EVP_MD_CTX_new();
  if (u->md == NULL || EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1)
    goto fail;
  /* World-readable in a private folder (store_init): the scoring links the stored file into its run folder for the
   * sandbox's uid instead of copying it (sandbox_stage_file), and mounts it read-only. */
  u->fd = open(u->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (u->fd < 0 || fchmod(u->fd, 0644) != 0)
    goto fail;
  return 0;
fail:
  store_upload_abort(u);
  return -1;
}

static enum app_status io_status(void)
{
  return (errno == ENOSPC || errno == EDQUOT) ? APP_NO_SPACE : APP_INTERNAL;
}

enum app_status store_upload_buffer(struct store_upload *u, char **buf)
{
  *buf = NULL;
  if (u->pipe == NULL && !u->pipe_tried && u->size >= STORE_PIPE_FROM) {
    u->pipe_tried = 1;
    u->pipe = upload_pipe_start(u->md, u->fd, u->size); /* without one, this thread hashes, finish flushes */
  }
  if (u->pipe != NULL) {
    enum app_status s = upload_pipe_buffer(u->pipe, buf);
    u->slot = *buf;
    return s;
  }
  if (u->buf == NULL)
    u->buf = malloc(STORE_UPLOAD_CHUNK);
  *buf = u->slot = u->buf;
  return u->buf != NULL ? APP_OK : APP_INTERNAL;
}

enum app_status store_upload_write(struct store_upload *u, const char *buf, size_t n)
{
  const char *p = buf;
  if (u->pipe != NULL && (buf != u->slot || n > STORE_UPLOAD_CHUNK))
    return APP_INTERNAL; /* the hasher reads the ring: bytes from elsewhere would go unhashed */
  if (u->pipe == NULL && EVP_DigestUpdate(u->md, buf, n) != 1)
    return APP_INTERNAL;
  while (n > 0) {
    ssize_t w = write(u->fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return io_status();
    p += w;
    n -= (size_t)w;
    u->size += w;
  }
  return u->pipe != NULL ? upload_pipe_post(u->pipe, (size_t)(p - buf), u->size) : APP_OK;
}

enum app_status store_upload_finish(struct store_upload *u)
{
  unsigned char md[32];
  unsigned int len = 0;
  enum app_status s = upload_pipe_stop(u->pipe, 1);
  u->pipe = NULL;
  if (s != APP_OK)
    return s;
  if (fsync(u->fd) != 0)
    return io_status();
  int rc = close(u->fd);
  u->fd = -1;
  if (rc != 0)
    return io_status();
  if (EVP_DigestFinal_ex(u->md, md, &len) != 1 || len != 32)
    return APP_INTERNAL;
  util_hex(md, 32, u->sha256);
  return APP_OK;
}

int store_submission_path(const char *sha256, char *out, size_t n)
{
  if (strlen(sha256) != 64 || strspn(sha256, "0123456789abcdef") != 64)
    return -1;
  int len = snprintf(out, n, "%s/submissions/%.2s/%s", data_dir, sha256, sha256);
  return (len < 0 || (size_t)len >= n) ? -1 : 0;
}

enum app_status store_upload_commit(struct store_upload *u)
{
  char final[APP_PATH_MAX], dir[APP_PATH_MAX];
  struct stat st;
  if (store_submission_path(u->sha256, final, sizeof(final)) != 0)
    return APP_INTERNAL;
  int n = snprintf(dir, sizeof(dir), "%s/submissions/%.2s", data_dir, u->sha256);
  if (n < 0 || (size_t)n >= sizeof(dir))
    return APP_INTERNAL;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return io_status();
  /* content already stored: the copy stays in tmp/ for store_upload_abort, which runs after the reply */
  if (!(lstat(final, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == u->size)) {
    if (rename(u->tmp_path, final) != 0)
      return io_status();
    u->committed = 1;
  }
  if (util_fsync_dir(dir, 1) != 0 || util_fsync_dir(dir, 0) != 0)
    return io_status();
  return APP_OK;
}

void store_upload_abort(struct store_upload *u)
{
  upload_pipe_stop(u->pipe, 0);
  u->pipe = NULL;
  free(u->buf);
  u->buf = NULL;
  if (u->fd >= 0)
    close(u->fd);
  u->fd = -1;
  if (!u->committed && u->tmp_path[0] != '\0')
    unlink(u->tmp_path); /* freeing a large file's pages takes tens of ms: a reply does not wait for it */
  u->tmp_path[0] = '\0';
  EVP_MD_CTX_free(u->md);
  u->md = NULL;
}

int store_sweep_orphans(sqlite3 *db)
{
  char root[APP_PATH_MAX], sub[APP_PATH_MAX], path[APP_PATH_MAX];
  int removed = 0;
  if (store_path(root, sizeof(root), "submissions") != 0)
    return -1;
  DIR *d = opendir(root);
  if (d == NULL)
    return -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    int n = snprintf(sub, sizeof(sub), "%s/%s", root, e->d_name);
    if (n < 0 || (size_t)n >= sizeof(sub))
      continue;
    DIR *d2 = opendir(sub);
    if (d2 == NULL)
      continue;
    struct dirent *f;
    while ((f = readdir(d2)) != NULL) {
      if (f->d_name[0] == '.')
        continue;
      n = snprintf(path, sizeof(path), "%s/%s", sub, f->d_name);
      if (n < 0 || (size_t)n >= sizeof(path))
        continue;
      if (db_sha_referenced(db, f->d_name) == 0 && unlink(path) == 0)
        removed++;
    }
    closedir(d2);
  }
  closedir(d);
  return removed;
}

int store_copy_file(const char *src, const char *dst, int64_t *size, char sha256[65], char *err, size_t errlen)
{
  char tmp[APP_PATH_MAX];
  /* a whole aligned STORE_WRITE_UNIT per write: the copy is kept in 2 MiB pages (store.h), and ground truths are
   * copied this way when a bundle is installed, then mapped by every scoring; on the heap: this also runs in HTTP
   * threads with 100 KiB stacks */
  char *buf = malloc(STORE_WRITE_UNIT);
  int in = -1, out = -1;
  struct stat st;
  unsigned char md[32];
  unsigned int mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  *size = 0;
  int n = snprintf(tmp, sizeof(tmp), "%s.part", dst);
  if (buf == NULL || ctx == NULL || n < 0 || (size_t)n >= sizeof(tmp) ||
      EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0 || fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "not a readable regular file");
    goto fail;
  }
  out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0) {
    snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
    goto fail;
  }
  for (;;) {
    ssize_t r = read(in, buf, STORE_WRITE_UNIT);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      snprintf(err, errlen, "read error: %s", strerror(errno));
      goto fail;
    }
    if (r == 0)
      break;
    if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1)
      goto fail;
    for (ssize_t off = 0; off < r;) {
      ssize_t w = write(out, buf + off, (size_t)(r - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        snprintf(err, errlen, "write error: %s", strerror(errno));
        goto fail;
      }
      off += w;
    }
    *size += r;
  }
  if (fsync(out) != 0 || close(out) != 0) {
    out = -1;
    snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
    goto fail;
  }
  out = -1;
  if (rename(tmp, dst) != 0 || util_fsync_dir(dst, 0) != 0) {
    snprintf(err, errlen, "cannot move %s into place: %s", dst, strerror(errno));
    goto fail;
  }
  if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
    goto fail;
  util_hex(md, 32, sha256);
  close(in);
  EVP_MD_CTX_free(ctx);
  free(buf);
  return 0;
fail:
  free(buf);
  if (in >= 0)
    close(in);
  if (out >= 0)
    close(out);
  unlink(tmp);
  EVP_MD_CTX_free(ctx);
  if (err[0] == '\0')
    snprintf(err, errlen, "copy failed");
  return -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

int store_remove_tree(const char *path)
{
  return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int store_disk_full(void)
{
  struct statvfs vfs;
  if (data_dir[0] == '\0' || statvfs(data_dir, &vfs) != 0)
    return 0;
  return (unsigned long long)vfs.f_bavail * vfs.f_frsize < 1024ull * 1024;
}

int store_discard_if_orphan(sqlite3 *db, const char *sha256)
{
  char path[APP_PATH_MAX];
  if (db_sha_referenced(db, sha256) != 0 || store_submission_path(sha256, path, sizeof(path)) != 0)
    return -1;
  return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}
