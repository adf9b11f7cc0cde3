/* pseudo.c: streaming pseudonymization of one CSV file (`concours dataset pseudonymize`).
 *
 * Every file of a challenge (train, test, ground truth) must get the same pseudonym for the same subject so
 * joins still work, and no one without the server's key may link a pseudonym back. So identifiers become
 * keyed HMAC-SHA256 values, and each subject's dates move by an offset derived from the same HMAC, stable
 * across files and runs. The file is streamed record by record (constant memory) into a temporary file
 * that is fsynced and renamed over the output, so the output is never half-written.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "anon_internal.h"

#define DEFAULT_SHIFT_DAYS 365
#define AGE_TOP_CODE 90 /* ages from here on become "90+" */
#define MAX_AGE 150

/* Domain separation for the one HMAC computed per record; the NUL is part of the message. */
static const char pseudonym_domain[] = "concours-pseudonym-v1";

void anon_pseudo_options_init(struct anon_pseudo_options *opt)
{
  memset(opt, 0, sizeof(*opt));
  opt->shift_max_days = DEFAULT_SHIFT_DAYS;
}

/* ---- key file ---- */

static int fsync_parent(const char *path)
{
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  int fd, rc;

  if (slash == NULL) {
    dir[0] = '.';
    dir[1] = '\0';
  } else if (slash == path) {
    dir[0] = '/';
    dir[1] = '\0';
  } else {
    size_t n = (size_t)(slash - path);

    if (n >= sizeof(dir))
      return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
  }
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  rc = fsync(fd);
  (void)close(fd);
  return rc;
}

int anon_publish(const char *tmp, const char *out_path, char *err, size_t errlen)
{
  int fd = open(tmp, O_RDONLY | O_CLOEXEC), rc = -1;

  if (fd < 0 || fsync(fd) != 0)
    anon_errf(err, errlen, "%s: cannot write: %s", out_path, strerror(errno));
  else if (rename(tmp, out_path) != 0)
    anon_errf(err, errlen, "%s: cannot rename the temporary file into place: %s", out_path, strerror(errno));
  else if (fsync_parent(out_path) != 0)
    anon_errf(err, errlen, "%s: cannot sync its folder: %s", out_path, strerror(errno));
  else
    rc = 0;
  if (fd >= 0)
    (void)close(fd);
  return rc;
}

/* Reads (writing == 0) or writes exactly len bytes, across short transfers and EINTR. Returns 0 or -1. */
static int transfer_full(int fd, unsigned char *buf, size_t len, int writing)
{
  size_t off = 0;

  while (off < len) {
    ssize_t n = writing ? write(fd, buf + off, len - off) : read(fd, buf + off, len - off);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    off += (size_t)n;
  }
  return 0;
}

static int create_key(const char *path, unsigned char key[ANON_KEY_LEN], char *err, size_t errlen)
{
  int fd = -1, rc = -1, made = 0;

  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    anon_errf(err, errlen, "%s: cannot create the key file: %s", path, strerror(errno));
    goto out;
  }
  made = 1;
  if (RAND_bytes(key, ANON_KEY_LEN) != 1) {
    anon_errf(err, errlen, "%s: the random generator failed", path);
    goto out;
  }
  if (transfer_full(fd, key, ANON_KEY_LEN, 1) != 0 || fsync(fd) != 0) {
    anon_errf(err, errlen, "%s: cannot write the key file: %s", path, strerror(errno));
    goto out;
  }
  if (close(fd) != 0) {
    fd = -1;
    anon_errf(err, errlen, "%s: cannot write the key file: %s", path, strerror(errno));
    goto out;
  }
  fd = -1;
  if (fsync_parent(path) != 0) {
    anon_errf(err, errlen, "%s: cannot sync the key file's folder: %s", path, strerror(errno));
    goto out;
  }
  rc = 0;
out:
  if (fd >= 0)
    (void)close(fd);
  if (rc != 0 && made)
    (void)unlink(path); /* never leave a key that was not fully written */
  return rc;
}

int anon_key_load_or_create(const char *path, unsigned char key[ANON_KEY_LEN], int *created, char *err, size_t errlen)
{
  struct stat st;
  int fd = -1, rc = -1;

  if (created != NULL)
    *created = 0;
  fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (create_key(path, key, err, errlen) != 0)
      return -1;
    if (created != NULL)
      *created = 1;
    return 0;
  }
  if (fd < 0) {
    anon_errf(err, errlen, "%s: cannot open the key file: %s", path, strerror(errno));
    goto out;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    anon_errf(err, errlen, "%s: the key file is not a regular file", path);
    goto out;
  }
  if ((st.st_mode & 077) != 0) {
    anon_errf(err, errlen, "%s: the key file is open to group or others (mode %03o); run chmod 600 on it", path,
              (unsigned)(st.st_mode & 0777));
    goto out;
  }
  if (st.st_size != ANON_KEY_LEN || transfer_full(fd, key, ANON_KEY_LEN, 0) != 0) {
    anon_errf(err, errlen, "%s: a key file holds exactly %d bytes", path, ANON_KEY_LEN);
    goto out;
  }
  rc = 0;
out:
  if (fd >= 0)
    (void)close(fd);
  return rc;
}

/* ---- HMAC ---- */

struct mac {
  EVP_MAC *mac;
  EVP_MAC_CTX *ctx;
};

static void mac_free(struct mac *m)
{
  EVP_MAC_CTX_free(m->ctx);
  EVP_MAC_free(m->mac);
  m->ctx = NULL;
  m->mac = NULL;
}

static int mac_init(struct mac *m, const unsigned char key[ANON_KEY_LEN])
{
  char digest[] = "SHA256";
  OSSL_PARAM params[2];

  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
  params[1] = OSSL_PARAM_construct_end();
  m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  m->ctx = m->mac != NULL ? EVP_MAC_CTX_new(m->mac) : NULL;
  if (m->ctx == NULL || EVP_MAC_init(m->ctx, key, ANON_KEY_LEN, params) != 1) {
    mac_free(m);
    return -1;
  }
  return 0;
}

/* HMAC-SHA256(key, domain NUL value) into out[32]; the key set by mac_init() is reused. */
static int mac_compute(struct mac *m, const char *value, size_t len, unsigned char out[32])
{
  size_t outl = 0;

  if (EVP_MAC_init(m->ctx, NULL, 0, NULL) != 1 ||
      EVP_MAC_update(m->ctx, (const unsigned char *)pseudonym_domain, sizeof(pseudonym_domain)) != 1 ||
      EVP_MAC_update(m->ctx, (const unsigned char *)value, len) != 1 || EVP_MAC_final(m->ctx, out, &outl, 32) != 1 ||
      outl != 32)
    return -1;
  return 0;
}

/* A subject id as it is hashed: blanks removed, ASCII letters upper-cased (a join must not break on " ab12" vs
   "AB12"). Returns 0 with the normalised id in *norm (caller frees), or -1 when out of memory. */
static int normalize_id(const char *value, size_t len, char **norm, size_t *norm_len)
{
  char *n = malloc(len + 1);
  size_t o = 0;

  if (n == NULL)
    return -1;
  for (size_t i = 0; i < len; i++) {
    char c = value[i];

    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
      continue;
    n[o++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
  }
  n[o] = '\0';
  *norm = n;
  *norm_len = o;
  return 0;
}

/* HMAC of the normalised id. */
static int mac_id(struct mac *m, const char *value, size_t len, unsigned char out[32])
{
  char *norm = NULL;
  size_t n = 0;
  int rc = normalize_id(value, len, &norm, &n) == 0 ? mac_compute(m, norm, n, out) : -1;

  free(norm);
  return rc;
}

static void to_hex(const unsigned char *bytes, size_t n, char *out)
{
  static const char hex[] = "0123456789abcdef";

  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hex[bytes[i] >> 4];
    out[2 * i + 1] = hex[bytes[i] & 15];
  }
  out[2 * n] = '\0';
}

int anon_pseudonym(const unsigned char key[ANON_KEY_LEN], const char *value, size_t len,
                   char out[ANON_PSEUDONYM_LEN + 1])
{
  long shift;

  return anon_subject(key, value, len, out, &shift, 365);
}

/* The subject's date offset in days, from bytes 16..23 of its HMAC: in [-max, -1] or [1, max]. */
static long shift_days(const unsigned char h[32], unsigned max)
{
  uint64_t u = 0;
  long mag;

  for (int i = 0; i < 8; i++)
    u = (u << 8) | h[16 + i];
  mag = 1 + (long)((u >> 1) % max);
  return (u & 1) ? -mag : mag;
}

int anon_subject(const unsigned char key[ANON_KEY_LEN], const char *value, size_t len,
                 char pseudo[ANON_PSEUDONYM_LEN + 1], long *shift, unsigned max_days)
{
  struct mac m = {NULL, NULL};
  unsigned char h[32];
  int rc = -1;

  if (mac_init(&m, key) != 0 || mac_id(&m, value, len, h) != 0)
    goto out;
  to_hex(h, ANON_PSEUDONYM_LEN / 2, pseudo);
  *shift = shift_days(h, max_days);
  rc = 0;
out:
  OPENSSL_cleanse(h, sizeof(h));
  mac_free(&m);
  return rc;
}

int anon_uid_remap(const unsigned char key[ANON_KEY_LEN], const char *uid, char out[ANON_UID_MAX + 1])
{
  struct mac m = {NULL, NULL};
  unsigned char h[32];
  char value[ANON_UID_MAX + 8], digits[48];
  unsigned __int128 v = 0;
  size_t n = 0;
  int rc = -1;

  if ((size_t)snprintf(value, sizeof(value), "uid:%s", uid) >= sizeof(value) || mac_init(&m, key) != 0 ||
      mac_compute(&m, value, strlen(value), h) != 0)
    goto out;
  for (int i = 0; i < 16; i++)
    v = (v << 8) | h[i];
  do {
    digits[n++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v > 0);
  memcpy(out, "2.25.", 5);
  for (size_t i = 0; i < n; i++)
    out[5 + i] = digits[n - 1 - i];
  out[5 + n] = '\0';
  rc = 0;
out:
  mac_free(&m);
  return rc;
}

/* ---- the file ---- */

enum action { KEEP, DROP, ID, SHIFT, BAND, PREFIX, REDACT };

struct column_plan {
  enum action action;
  unsigned width;
};

static int set_action(struct anon_csv_reader *r, struct column_plan *plan, const char *name, enum action a,
                      unsigned width, const char *option, char *err, size_t errlen)
{
  long i = anon_csv_column(r, name);

  if (i < 0) {
    anon_errf(err, errlen, "%s: %s: no column named \"%.64s\"", r->path, option, name);
    return -1;
  }
  if (plan[i].action != KEEP) {
    anon_errf(err, errlen, "%s: %s: column \"%.64s\" is already given another treatment", r->path, option, name);
    return -1;
  }
  plan[i].action = a;
  plan[i].width = width;
  return 0;
}

static int make_plan(struct anon_csv_reader *r, const struct anon_pseudo_options *opt, struct column_plan *plan,
                     char *err, size_t errlen)
{
  if (set_action(r, plan, opt->id_column, ID, 0, "--id", err, errlen) != 0)
    return -1;
  for (size_t i = 0; i < opt->n_drop; i++) {
    if (set_action(r, plan, opt->drop[i], DROP, 0, "--drop", err, errlen) != 0)
      return -1;
  }
  for (size_t i = 0; i < opt->n_shift_dates; i++) {
    if (set_action(r, plan, opt->shift_dates[i], SHIFT, 0, "--shift-dates", err, errlen) != 0)
      return -1;
  }
  for (size_t i = 0; i < opt->n_redact; i++) {
    if (set_action(r, plan, opt->redact[i], REDACT, 0, "--redact", err, errlen) != 0)
      return -1;
  }
  for (size_t i = 0; i < opt->n_generalize; i++) {
    const struct anon_generalize *g = &opt->generalize[i];
    enum anon_generalize_kind kind = g->kind;
    const char *category = NULL;

    if (kind == ANON_GEN_AUTO) {
      kind = anon_name_classify(g->column, &category) == ANON_NAME_QUASI && strcmp(category, "age") == 0
               ? ANON_GEN_BAND
               : ANON_GEN_PREFIX;
    }
    if (g->width < 1) {
      anon_errf(err, errlen, "--generalize %s: the width must be at least 1", g->column);
      return -1;
    }
    if (set_action(r, plan, g->column, kind == ANON_GEN_BAND ? BAND : PREFIX, g->width, "--generalize", err, errlen) !=
        0)
      return -1;
  }
  return 0;
}

/* "42", "42.5", "42,5" -> 42. Returns -1 when value is not an age. */
static int parse_age(const char *s, size_t len)
{
  int v = 0;
  size_t i = 0;

  while (i < len && s[i] >= '0' && s[i] <= '9' && i < 4) {
    v = v * 10 + (s[i] - '0');
    i++;
  }
  if (i == 0 || v > MAX_AGE)
    return -1;
  if (i < len && (s[i] == '.' || s[i] == ',')) {
    i++;
    while (i < len && s[i] >= '0' && s[i] <= '9')
      i++;
  }
  return i == len ? v : -1;
}

/* Writes the transformed field; returns 0, or -1 with what set to the reason. */
static int put_field(struct anon_csv_writer *w, const struct column_plan *p, const char *s, size_t len,
                     const char *pseudonym, long shift, const char **what)
{
  char buf[64];
  struct anon_date d;
  int n;

  if (p->action == KEEP || (len == 0 && p->action != ID)) {
    anon_csv_put(w, s, len);
    return 0;
  }
  switch (p->action) {
  case ID:
    anon_csv_put(w, pseudonym, ANON_PSEUDONYM_LEN);
    return 0;
  case SHIFT: {
    size_t dl, rest;

    if (anon_date_parse(s, len, &d) != 0) {
      *what = "not a date (expected YYYY-MM-DD, YYYY/MM/DD, DD/MM/YYYY, DD-MM-YYYY or DD.MM.YYYY)";
      return -1;
    }
    anon_civil_from_days(anon_days_from_civil(d.year, d.month, d.day) + shift, &d.year, &d.month, &d.day);
    if (d.year < 1000 || d.year > 9999) {
      *what = "the shifted date leaves years 1000-9999";
      return -1;
    }
    dl = anon_date_format(&d, buf, sizeof(buf));
    rest = len - d.date_len; /* a time part, kept as it is */
    if (rest >= sizeof(buf) - dl) {
      *what = "the time after the date is too long";
      return -1;
    }
    memcpy(buf + dl, s + d.date_len, rest);
    anon_csv_put(w, buf, dl + rest);
    return 0;
  }
  case BAND: {
    int age = parse_age(s, len);
    int lo, hi;

    if (age < 0) {
      *what = "not an age (a whole number of years from 0 to 150)";
      return -1;
    }
    lo = age / (int)p->width * (int)p->width;
    hi = lo + (int)p->width - 1;
    if (lo >= AGE_TOP_CODE)
      n = snprintf(buf, sizeof(buf), "%d+", AGE_TOP_CODE);
    else if (p->width == 1)
      n = snprintf(buf, sizeof(buf), "%d", lo);
    else
      n = snprintf(buf, sizeof(buf), "%d-%d", lo, hi < AGE_TOP_CODE ? hi : AGE_TOP_CODE - 1);
    if (n < 0 || (size_t)n >= sizeof(buf)) {
      *what = "age band too long";
      return -1;
    }
    anon_csv_put(w, buf, (size_t)n);
    return 0;
  }
  case REDACT: { /* names, dates and identifiers in free text become typed placeholders */
    size_t cap = 8 * len + 16, got;
    char *out = malloc(cap);

    got = out != NULL ? anon_redact(s, len, out, cap) : (size_t)-1;
    if (got == (size_t)-1) {
      free(out);
      *what = "out of memory redacting the text";
      return -1;
    }
    anon_csv_put(w, out, got);
    free(out);
    return 0;
  }
  default: { /* PREFIX: the first width characters (code points, not bytes) */
    size_t cut = 0;
    unsigned chars = 0;

    while (cut < len && chars < p->width) {
      cut++;
      while (cut < len && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut++;
      chars++;
    }
    anon_csv_put(w, s, cut);
    return 0;
  }
  }
}

static int same_file(const char *a, const char *b)
{
  struct stat sa, sb;

  if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
    return 0;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int anon_pseudonymize_file(const char *in_path, const char *out_path, const unsigned char key[ANON_KEY_LEN],
                           const struct anon_pseudo_options *opt_in, struct anon_pseudo_stats *stats, char *err,
                           size_t errlen)
{
  struct anon_pseudo_options opt;
  struct anon_csv_reader r;
  struct anon_csv_writer w;
  struct column_plan *plan = NULL;
  struct mac m = {NULL, NULL};
  char tmp[PATH_MAX];
  int fd = -1, rc = ANON_ERROR, got, werr;
  long id_col;

  assert(opt_in != NULL && key != NULL); /* programmer errors, not input */
  opt = *opt_in;
  memset(&r, 0, sizeof(r));
  r.fd = -1;
  memset(&w, 0, sizeof(w));
  tmp[0] = '\0';
  if (opt.shift_max_days == 0)
    opt.shift_max_days = DEFAULT_SHIFT_DAYS;
  if (opt.id_column == NULL) {
    anon_errf(err, errlen, "--id COLUMN is required");
    goto out;
  }
  if (strcmp(in_path, out_path) == 0 || same_file(in_path, out_path)) {
    anon_errf(err, errlen, "%s: the output must be another file than the input", out_path);
    goto out;
  }
  if (anon_csv_open(&r, in_path, &opt.limits, err, errlen) != 0)
    goto out;
  plan = calloc(r.n_header, sizeof(*plan));
  if (plan == NULL) {
    anon_errf(err, errlen, "out of memory");
    goto out;
  }
  if (make_plan(&r, &opt, plan, err, errlen) != 0)
    goto out;
  id_col = anon_csv_column(&r, opt.id_column);
  if (mac_init(&m, key) != 0) {
    anon_errf(err, errlen, "OpenSSL HMAC-SHA256 is not available");
    goto out;
  }
  if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", out_path) >= sizeof(tmp)) {
    tmp[0] = '\0';
    anon_errf(err, errlen, "%s: path too long", out_path);
    goto out;
  }
  fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    anon_errf(err, errlen, "%s: cannot create a temporary file beside it: %s", out_path, strerror(errno));
    tmp[0] = '\0';
    goto out;
  }
  if (anon_csv_writer_init(&w, fd) != 0) {
    anon_errf(err, errlen, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < r.n_header; i++) {
    if (plan[i].action != DROP)
      anon_csv_put(&w, anon_csv_header(&r, i), strlen(anon_csv_header(&r, i)));
  }
  anon_csv_end_record(&w);
  for (;;) {
    unsigned char h[32];
    char pseudonym[ANON_PSEUDONYM_LEN + 1];
    long shift;

    got = anon_csv_next(&r, err, errlen);
    if (got < 0)
      goto out;
    if (got == 0)
      break;
    if (r.field_len[id_col] == 0) {
      anon_errf(err, errlen, "%s: line %llu, column %ld (\"%.64s\"): empty identifier", in_path, r.line, id_col + 1,
                opt.id_column);
      goto out;
    }
    if (mac_id(&m, anon_csv_field(&r, (size_t)id_col), r.field_len[id_col], h) != 0) {
      anon_errf(err, errlen, "OpenSSL HMAC-SHA256 failed");
      goto out;
    }
    to_hex(h, ANON_PSEUDONYM_LEN / 2, pseudonym);
    shift = shift_days(h, opt.shift_max_days);
    for (size_t i = 0; i < r.n_header; i++) {
      const char *what = NULL;

      if (plan[i].action == DROP)
        continue;
      if (put_field(&w, &plan[i], anon_csv_field(&r, i), r.field_len[i], pseudonym, shift, &what) != 0) {
        anon_errf(err, errlen, "%s: line %llu, column %zu (\"%.64s\"): %s", in_path, r.line, i + 1,
                  anon_csv_header(&r, i), what);
        goto out;
      }
    }
    anon_csv_end_record(&w);
  }
  werr = anon_csv_flush(&w);
  if (werr != 0 || fsync(fd) != 0) {
    anon_errf(err, errlen, "%s: cannot write: %s", out_path, strerror(werr != 0 ? werr : errno));
    goto out;
  }
  if (close(fd) != 0) {
    fd = -1;
    anon_errf(err, errlen, "%s: cannot write: %s", out_path, strerror(errno));
    goto out;
  }
  fd = -1;
  if (anon_publish(tmp, out_path, err, errlen) != 0)
    goto out;
  tmp[0] = '\0';
  if (stats != NULL) {
    stats->rows = r.rows;
    stats->bytes_in = r.bytes;
  }
  rc = ANON_PASS;
out:
  if (fd >= 0)
    (void)close(fd);
  if (tmp[0] != '\0')
    (void)unlink(tmp);
  anon_csv_writer_free(&w);
  mac_free(&m);
  free(plan);
  anon_csv_close(&r);
  return rc;
}
