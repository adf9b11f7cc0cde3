/* lbcache.c: see lbcache.h. */
#include "lbcache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "util.h"

#define SLOTS 64

static struct {
  pthread_mutex_t lock;
  struct lb_entry *slot[SLOTS];
} cache = {PTHREAD_MUTEX_INITIALIZER, {NULL}};

static void entry_free(struct lb_entry *e)
{
  if (e == NULL)
    return;
  for (size_t i = 0; e->name_lc != NULL && i < e->nrows; i++)
    free(e->name_lc[i]);
  free(e->name_lc);
  free(e->row_off);
  free(e->row_len);
  free(e->gz);
  free(e->body);
  free(e);
}

void lb_entry_release(struct lb_entry *e)
{
  if (e != NULL && atomic_fetch_sub(&e->refs, 1) == 1)
    entry_free(e);
}

struct lb_entry *lbcache_get(int64_t challenge_id, int64_t version)
{
  struct lb_entry *e = NULL;
  pthread_mutex_lock(&cache.lock);
  struct lb_entry *s = cache.slot[(uint64_t)challenge_id % SLOTS];
  if (s != NULL && s->challenge_id == challenge_id && s->version == version) {
    atomic_fetch_add(&s->refs, 1);
    e = s;
  }
  pthread_mutex_unlock(&cache.lock);
  return e;
}

/* Growable text: the body is appended to it. */
struct buf {
  char *p;
  size_t len, cap;
};

static int add(struct buf *b, const char *s, size_t n)
{
  if (n > ((size_t)1 << 40) || b->len > ((size_t)1 << 40)) /* a board is a few MiB: anything near this is a bug */
    return -1;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap > 0 ? b->cap : 4096;
    while (b->len + n + 1 > cap)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL)
      return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static char *lower_copy(const char *s)
{
  size_t n = strlen(s);
  char *c = malloc(n + 1);
  if (c == NULL)
    return NULL;
  for (size_t i = 0; i <= n; i++)
    c[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
  return c;
}

/* E->body gzip'd into E->gz (left NULL on failure: the plain body is served). */
static void compress_body(struct lb_entry *e)
{
  z_stream z;
  memset(&z, 0, sizeof(z));
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return;
  uLong cap = deflateBound(&z, (uLong)e->len);
  unsigned char *out = malloc(cap);
  if (out != NULL) {
    z.next_in = (Bytef *)e->body;
    z.avail_in = (uInt)e->len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) == Z_STREAM_END) {
      e->gz = out;
      e->gz_len = (size_t)z.total_out;
      out = NULL;
    }
  }
  free(out);
  deflateEnd(&z);
}

struct lb_entry *lb_entry_new(json_t *fields, json_t *rows)
{
  struct lb_entry *e = calloc(1, sizeof(*e));
  struct buf b = {NULL, 0, 0};
  char *head = json_dumps(fields, JSON_COMPACT | JSON_REAL_PRECISION(15));
  size_t n = json_array_size(rows), hl = head != NULL ? strlen(head) : 0;
  if (e == NULL || head == NULL || hl < 2 || head[hl - 1] != '}')
    goto fail;
  e->nrows = n;
  e->row_off = calloc(n + 1, sizeof(size_t));
  e->row_len = calloc(n + 1, sizeof(size_t));
  e->name_lc = calloc(n + 1, sizeof(char *));
  if (e->row_off == NULL || e->row_len == NULL || e->name_lc == NULL)
    goto fail;
  /* "{...fields" then ,"rows":[ (an empty object's "{}" gives "{" and no comma) */
  if (add(&b, head, hl - 1) != 0 || add(&b, hl > 2 ? ",\"rows\":[" : "\"rows\":[", hl > 2 ? 9 : 8) != 0)
    goto fail;
  e->prefix_len = hl - 1;
  for (size_t i = 0; i < n; i++) {
    json_t *row = json_array_get(rows, i);
    char *text = json_dumps(row, JSON_COMPACT | JSON_REAL_PRECISION(15));
    const char *name = json_string_value(json_object_get(row, "name"));
    e->name_lc[i] = lower_copy(name != NULL ? name : "");
    int bad = text == NULL || e->name_lc[i] == NULL || (i > 0 && add(&b, ",", 1) != 0);
    e->row_off[i] = b.len;
    bad = bad || add(&b, text, strlen(text)) != 0;
    e->row_len[i] = text != NULL ? strlen(text) : 0;
    free(text);
    if (bad)
      goto fail;
  }
  if (add(&b, "]}", 2) != 0)
    goto fail;
  e->body = b.p;
  e->len = b.len;
  b.p = NULL;
  char sha[65];
  util_sha256_hex(e->body, e->len, sha);
  snprintf(e->etag, sizeof(e->etag), "\"%.32s\"", sha);
  compress_body(e);
  free(head);
  atomic_store(&e->refs, 1);
  return e;
fail:
  free(b.p);
  free(head);
  entry_free(e);
  return NULL;
}

struct lb_entry *lbcache_put(int64_t challenge_id, int64_t version, json_t *fields, json_t *rows)
{
  struct lb_entry *e = lb_entry_new(fields, rows);
  if (e == NULL)
    return NULL;
  e->challenge_id = challenge_id;
  e->version = version;
  atomic_fetch_add(&e->refs, 1); /* the cache's, beside the caller's */
  pthread_mutex_lock(&cache.lock);
  size_t k = (uint64_t)challenge_id % SLOTS;
  struct lb_entry *old = cache.slot[k];
  cache.slot[k] = e;
  pthread_mutex_unlock(&cache.lock);
  lb_entry_release(old);
  return e;
}

/* Appends rows [FROM, TO) of E, which sit side by side in its body with their commas: one copy. */
static int add_rows(struct buf *b, const struct lb_entry *e, size_t from, size_t to)
{
  if (from >= to)
    return 0;
  return add(b, e->body + e->row_off[from], e->row_off[to - 1] + e->row_len[to - 1] - e->row_off[from]);
}

char *lb_entry_page(const struct lb_entry *e, const char *q, size_t offset, size_t limit, size_t *len)
{
  struct buf b = {NULL, 0, 0};
  size_t matched = 0, shown = 0;
  int all = q == NULL || q[0] == '\0';
  char *needle = lower_copy(q != NULL ? q : "");
  if (needle == NULL)
    return NULL;
  for (size_t i = 0; !all && i < e->nrows; i++)
    matched += strstr(e->name_lc[i], needle) != NULL;
  if (all)
    matched = e->nrows;
  char meta[160];
  snprintf(meta, sizeof(meta), "%s\"total\":%zu,\"matched\":%zu,\"offset\":%zu,\"limit\":%zu,\"rows\":[",
           e->prefix_len > 1 ? "," : "", e->nrows, matched, offset, limit);
  int bad = add(&b, e->body, e->prefix_len) != 0 || add(&b, meta, strlen(meta)) != 0;
  if (all) { /* the page every visitor asks for first: one slice of the cached body, whatever the board's size */
    size_t from = offset < e->nrows ? offset : e->nrows;
    size_t to = e->nrows - from > limit ? from + limit : e->nrows;
    bad = bad || add_rows(&b, e, from, to);
  }
  for (size_t i = 0, seen = 0; !all && !bad && i < e->nrows && shown < limit; i++) {
    if (strstr(e->name_lc[i], needle) == NULL)
      continue;
    if (seen++ < offset)
      continue;
    bad = (shown > 0 && add(&b, ",", 1) != 0) || add(&b, e->body + e->row_off[i], e->row_len[i]) != 0;
    shown++;
  }
  bad = bad || add(&b, "]}", 2) != 0;
  free(needle);
  if (bad) {
    free(b.p);
    return NULL;
  }
  *len = b.len;
  return b.p;
}

void lbcache_clear(void)
{
  pthread_mutex_lock(&cache.lock);
  for (size_t k = 0; k < SLOTS; k++) {
    lb_entry_release(cache.slot[k]);
    cache.slot[k] = NULL;
  }
  pthread_mutex_unlock(&cache.lock);
}
