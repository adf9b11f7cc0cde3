/* util.c: see util.h. */
#include "util.h"

#include "app.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

int util_shorten(char *dst, const char *src, size_t n)
{
  size_t len = strlen(src);
  if (n == 0)
    return -1;
  if (len < n) {
    memcpy(dst, src, len + 1);
    return 0;
  }
  if (n < 8) {
    dst[0] = '\0';
    return -1;
  }
  size_t cut = n - 4; /* room for the ellipsis (3 bytes of UTF-8) and the NUL */
  while (cut > 0 && ((unsigned char)src[cut] & 0xC0) == 0x80)
    cut--; /* never inside a UTF-8 sequence */
  size_t word = cut;
  while (word > n / 2 && src[word] != ' ' && src[word] != '\n')
    word--;
  if (word > n / 2)
    cut = word; /* at a word's end when one is near */
  while (cut > 0 && (src[cut - 1] == ' ' || src[cut - 1] == ',' || src[cut - 1] == ';'))
    cut--;
  memcpy(dst, src, cut);
  memcpy(dst + cut, "\xe2\x80\xa6", 4); /* "…" and the NUL */
  return -1;
}

int util_strlcpy(char *dst, const char *src, size_t n)
{
  size_t len = strlen(src);
  if (n == 0)
    return -1;
  if (len >= n) {
    memcpy(dst, src, n - 1);
    dst[n - 1] = '\0';
    return -1;
  }
  memcpy(dst, src, len + 1);
  return 0;
}

void util_iso8601(int64_t t, char out[32])
{
  time_t tt = (time_t)t;
  struct tm tm;
  if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    util_strlcpy(out, "1970-01-01T00:00:00Z", 32);
}

int util_parse_iso8601(const char *s, int64_t *t)
{
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  if (s == NULL)
    return -1;
  const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == NULL)
    return -1;
  if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
    return -1;
  time_t v = timegm(&tm);
  if (v == (time_t)-1)
    return -1;
  *t = (int64_t)v;
  return 0;
}

void util_hex(const unsigned char *in, size_t n, char *out)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

int util_random_token(size_t bytes, char *out, size_t n)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char buf[64];
  if (bytes > sizeof(buf) || n < (bytes * 4) / 3 + 2)
    return -1;
  if (RAND_bytes(buf, (int)bytes) != 1)
    return -1;
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < bytes; i++) {
    acc = (acc << 8) | buf[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out[o++] = alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0)
    out[o++] = alphabet[(acc << (6 - bits)) & 63];
  out[o] = '\0';
  OPENSSL_cleanse(buf, sizeof(buf));
  return 0;
}

void util_sha256_hex(const void *data, size_t len, char out[65])
{
  unsigned char md[32];
  unsigned int mdlen = 0;
  if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
    memset(out, '0', 64);
    out[64] = '\0';
    return;
  }
  util_hex(md, 32, out);
}

int util_ct_streq(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  if (la != lb)
    return 0;
  return CRYPTO_memcmp(a, b, la) == 0;
}

int util_fsync_dir(const char *path, int is_dir)
{
  char dir[PATH_MAX];
  if (util_strlcpy(dir, path, sizeof(dir)) != 0) {
    errno = ENAMETOOLONG;
    return -1;
  }
  if (!is_dir) {
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
      util_strlcpy(dir, ".", sizeof(dir));
    else if (slash == dir)
      dir[1] = '\0';
    else
      *slash = '\0';
  }
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

int util_mkdirs(const char *path, int mode)
{
  char buf[PATH_MAX];
  if (util_strlcpy(buf, path, sizeof(buf)) != 0) {
    errno = ENAMETOOLONG;
    return -1;
  }
  for (char *p = buf + 1; *p != '\0'; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
      return -1;
    *p = '/';
  }
  if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
    return -1;
  return 0;
}

char *util_read_file(const char *path, size_t max, size_t *len)
{
  char *buf = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd < 0)
    goto fail;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max)
    goto fail;
  buf = malloc((size_t)st.st_size + 1);
  if (buf == NULL)
    goto fail;
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      goto fail;
    got += (size_t)r;
  }
  buf[got] = '\0';
  if (len != NULL)
    *len = got;
  close(fd);
  return buf;
fail:
  free(buf);
  if (fd >= 0)
    close(fd);
  return NULL;
}

int util_write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
  char tmp[PATH_MAX];
  int fd = -1;
  int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
  if (n < 0 || (size_t)n >= sizeof(tmp))
    return -1;
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
  if (fd < 0)
    return -1;
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      goto fail;
    p += w;
    left -= (size_t)w;
  }
  if (fsync(fd) != 0)
    goto fail;
  if (close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  fd = -1;
  if (rename(tmp, path) != 0)
    goto fail;
  return util_fsync_dir(path, 0);
fail:
  if (fd >= 0)
    close(fd);
  unlink(tmp);
  return -1;
}

int util_parse_ll(const char *s, long long min, long long max, long long *out)
{
  if (s == NULL || *s == '\0')
    return -1;
  errno = 0;
  char *end = NULL;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

int util_fmt(char *out, size_t n, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(out, n, fmt, ap);
  va_end(ap);
  if (len < 0 || (size_t)len >= n) {
    if (n > 0)
      out[0] = '\0';
    return -1;
  }
  return 0;
}

int util_json_depth_exceeds(const char *text, size_t len, int max_depth)
{
  int depth = 0, in_string = 0;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = 0;
    } else if (c == '"') {
      in_string = 1;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        return 1;
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
  return 0;
}

int util_sha256_file(const char *path, char out[65], int64_t *size)
{
  unsigned char buf[1 << 16], md[32];
  unsigned int mdlen = 0;
  int64_t total = 0;
  int rc = -1;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (ctx == NULL || fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
    goto out;
  for (;;) {
    ssize_t got = read(fd, buf, sizeof(buf));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      goto out;
    if (got == 0)
      break;
    if (EVP_DigestUpdate(ctx, buf, (size_t)got) != 1)
      goto out;
    total += got;
  }
  if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
    goto out;
  util_hex(md, 32, out);
  if (size != NULL)
    *size = total;
  rc = 0;
out:
  if (fd >= 0)
    close(fd);
  EVP_MD_CTX_free(ctx);
  return rc;
}

struct stack_call {
  int (*fn)(void *);
  void *arg;
  int rc;
};

static void *stack_trampoline(void *arg)
{
  struct stack_call *c = arg;
  c->rc = c->fn(c->arg);
  return NULL;
}

int util_run_with_stack(int (*fn)(void *), void *arg, size_t stack_bytes)
{
  struct stack_call call = {fn, arg, -1};
  pthread_attr_t attr;
  pthread_t t;
  if (pthread_attr_init(&attr) != 0)
    return -1;
  int ok =
    pthread_attr_setstacksize(&attr, stack_bytes) == 0 && pthread_create(&t, &attr, stack_trampoline, &call) == 0;
  pthread_attr_destroy(&attr);
  if (!ok)
    return -1;
  pthread_join(t, NULL);
  return call.rc;
}

struct walk_dir {
  char *rel; /* relative to the root; "" for the root itself */
  int depth;
};

/* Pushes the folder REL (DEPTH) on the walk's stack. 0, or -1 out of memory. */
static int walk_push(struct walk_dir **todo, size_t *n, size_t *cap, const char *rel, int depth)
{
  if (*n == *cap) {
    size_t more = *cap == 0 ? 16 : 2 * *cap;
    struct walk_dir *grown = realloc(*todo, more * sizeof(**todo));
    if (grown == NULL)
      return -1;
    *todo = grown;
    *cap = more;
  }
  (*todo)[*n].rel = strdup(rel);
  (*todo)[*n].depth = depth;
  if ((*todo)[*n].rel == NULL)
    return -1;
  (*n)++;
  return 0;
}

int util_walk(const char *root, int max_depth, long max_entries, util_walk_fn fn, void *arg)
{
  struct walk_dir *todo = NULL, cur = {NULL, 0};
  size_t n = 0, cap = 0;
  long seen = 0;
  int rc = 0;
  char path[APP_PATH_MAX], rel[APP_PATH_MAX];
  DIR *d = NULL;
  if (walk_push(&todo, &n, &cap, "", 0) != 0) {
    rc = -1;
    goto out;
  }
  while (n > 0 && rc == 0) {
    cur = todo[--n];
    d =
      util_fmt(path, sizeof(path), "%s%s%s", root, cur.rel[0] != '\0' ? "/" : "", cur.rel) == 0 ? opendir(path) : NULL;
    if (d == NULL) {
      rc = -1;
      goto out;
    }
    for (struct dirent *e = readdir(d); e != NULL && rc == 0; e = readdir(d)) {
      struct stat st;
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
        continue;
      if (++seen > max_entries) {
        rc = -2;
      } else if (util_fmt(rel, sizeof(rel), "%s%s%s", cur.rel, cur.rel[0] != '\0' ? "/" : "", e->d_name) != 0 ||
                 util_fmt(path, sizeof(path), "%s/%s", root, rel) != 0 || lstat(path, &st) != 0) {
        rc = -1;
      } else {
        rc = fn(path, rel, &st, arg);
        if (rc == UTIL_WALK_PRUNE)
          rc = 0;
        else if (rc == 0 && S_ISDIR(st.st_mode))
          rc = cur.depth + 1 > max_depth ? -2 : walk_push(&todo, &n, &cap, rel, cur.depth + 1);
      }
    }
    closedir(d);
    d = NULL;
    free(cur.rel);
    cur.rel = NULL;
  }
out:
  if (d != NULL)
    closedir(d);
  free(cur.rel);
  for (size_t i = 0; i < n; i++)
    free(todo[i].rel);
  free(todo);
  return rc;
}
