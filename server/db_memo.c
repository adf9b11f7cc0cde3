/* db_memo.c: see db_memo.h. */
#include "db_memo.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define MEMO_SLOTS 32     /* challenges kept (by a hash of the slug; a collision replaces) */
#define RECORD_SLOTS 4096 /* records kept (sessions, API tokens and staff roles of the callers): about 1.3 MiB */
#define HDR_WORDS (DB_MEMO_STAMP / 4)
#define SHM_REGION 32768 /* SQLite maps the index in regions of this size; the first begins with the header */

struct slot {
  int used;
  unsigned char stamp[DB_MEMO_STAMP];
  struct challenge c;
};

struct record {
  int used;
  unsigned char stamp[DB_MEMO_STAMP];
  char key[DB_MEMO_KEY];
  size_t len;
  unsigned char data[DB_MEMO_RECORD];
};

static struct record records[RECORD_SLOTS]; /* under memo.lock */

static struct {
  pthread_mutex_t lock;
  _Atomic(const uint32_t *) hdr; /* the mapped index, NULL when off */
  struct slot slots[MEMO_SLOTS];
  int catalogue_used;
  unsigned char catalogue_stamp[DB_MEMO_STAMP];
  int64_t version, from, until;
} memo = {.lock = PTHREAD_MUTEX_INITIALIZER, .hdr = NULL};

static atomic_long hits;

int db_memo_open(sqlite3 *db)
{
  sqlite3_file *file = NULL;
  void volatile *region = NULL;
  db_memo_close();
  /* SQLite's own mapping of the index, which every connection of this process shares: opening the -shm file here
   * and closing it would drop the process's POSIX locks on it, SQLite's included */
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || file == NULL ||
      file->pMethods == NULL || file->pMethods->iVersion < 2 || file->pMethods->xShmMap == NULL ||
      file->pMethods->xShmMap(file, 0, SHM_REGION, 0, &region) != SQLITE_OK || region == NULL)
    return -1;
  pthread_mutex_lock(&memo.lock);
  atomic_store(&memo.hdr, (const uint32_t *)(const void *)region);
  pthread_mutex_unlock(&memo.lock);
  return 0;
}

void db_memo_close(void)
{
  pthread_mutex_lock(&memo.lock);
  atomic_store(&memo.hdr, NULL); /* SQLite unmaps it when its connections close */
  memset(memo.slots, 0, sizeof(memo.slots));
  memset(records, 0, sizeof(records));
  memo.catalogue_used = 0;
  pthread_mutex_unlock(&memo.lock);
}

int db_memo_stamp(unsigned char stamp[DB_MEMO_STAMP])
{
  uint32_t a[HDR_WORDS], b[HDR_WORDS];
  const uint32_t *hdr = atomic_load(&memo.hdr); /* mapped before the server serves, unmapped once it stopped */
  if (hdr == NULL)
    return -1;
  /* SQLite writes the second copy, then the first: the first read first, equal copies are one whole header */
  for (int i = 0; i < HDR_WORDS; i++)
    a[i] = __atomic_load_n(&hdr[i], __ATOMIC_ACQUIRE);
  for (int i = 0; i < HDR_WORDS; i++)
    b[i] = __atomic_load_n(&hdr[HDR_WORDS + i], __ATOMIC_ACQUIRE);
  if (memcmp(a, b, sizeof(a)) != 0 || ((const unsigned char *)a)[12] == 0) /* isInit */
    return -1;
  memcpy(stamp, a, DB_MEMO_STAMP);
  return 0;
}

/* 1 when an entry kept (USED) under KEPT may answer a read stamped STAMP: the memo is on and nothing committed. */
static int fresh(int used, const unsigned char *kept, const unsigned char stamp[DB_MEMO_STAMP])
{
  return atomic_load(&memo.hdr) != NULL && used && memcmp(kept, stamp, DB_MEMO_STAMP) == 0;
}

/* FNV-1a of the string S. */
static uint32_t hash_of(const char *s)
{
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
    h = (h ^ *p) * 16777619u;
  return h;
}

/* The slot of SLUG. */
static struct slot *slot_of(const char *slug)
{
  return &memo.slots[hash_of(slug) % MEMO_SLOTS];
}

int db_memo_challenge_get(const char *slug, const unsigned char stamp[DB_MEMO_STAMP], struct challenge *c)
{
  int hit = 0;
  pthread_mutex_lock(&memo.lock);
  struct slot *s = slot_of(slug);
  if (fresh(s->used, s->stamp, stamp) && strcmp(s->c.slug, slug) == 0) {
    memcpy(c, &s->c, sizeof(*c));
    hit = 1;
  }
  pthread_mutex_unlock(&memo.lock);
  if (hit)
    atomic_fetch_add(&hits, 1);
  return hit;
}

void db_memo_challenge_put(const unsigned char stamp[DB_MEMO_STAMP], const struct challenge *c)
{
  pthread_mutex_lock(&memo.lock);
  struct slot *s = slot_of(c->slug);
  if (atomic_load(&memo.hdr) != NULL) {
    memcpy(s->stamp, stamp, DB_MEMO_STAMP);
    memcpy(&s->c, c, sizeof(*c));
    s->used = 1;
  }
  pthread_mutex_unlock(&memo.lock);
}

int db_memo_catalogue_get(const unsigned char stamp[DB_MEMO_STAMP], int64_t now, int64_t *version, int64_t *from,
                          int64_t *until)
{
  int hit = 0;
  pthread_mutex_lock(&memo.lock);
  if (fresh(memo.catalogue_used, memo.catalogue_stamp, stamp) && memo.from <= now && now < memo.until) {
    *version = memo.version;
    *from = memo.from;
    *until = memo.until;
    hit = 1;
  }
  pthread_mutex_unlock(&memo.lock);
  if (hit)
    atomic_fetch_add(&hits, 1);
  return hit;
}

void db_memo_catalogue_put(const unsigned char stamp[DB_MEMO_STAMP], int64_t version, int64_t from, int64_t until)
{
  pthread_mutex_lock(&memo.lock);
  if (atomic_load(&memo.hdr) != NULL) {
    memcpy(memo.catalogue_stamp, stamp, DB_MEMO_STAMP);
    memo.version = version;
    memo.from = from;
    memo.until = until;
    memo.catalogue_used = 1;
  }
  pthread_mutex_unlock(&memo.lock);
}

int db_memo_record_get(const char *key, const unsigned char stamp[DB_MEMO_STAMP], void *out, size_t len)
{
  int hit = 0;
  pthread_mutex_lock(&memo.lock);
  struct record *r = &records[hash_of(key) % RECORD_SLOTS];
  if (fresh(r->used, r->stamp, stamp) && r->len == len && strcmp(r->key, key) == 0) {
    memcpy(out, r->data, len);
    hit = 1;
  }
  pthread_mutex_unlock(&memo.lock);
  if (hit)
    atomic_fetch_add(&hits, 1);
  return hit;
}

void db_memo_record_put(const char *key, const unsigned char stamp[DB_MEMO_STAMP], const void *rec, size_t len)
{
  size_t klen = strlen(key);
  if (klen >= DB_MEMO_KEY || len > DB_MEMO_RECORD)
    return;
  pthread_mutex_lock(&memo.lock);
  struct record *r = &records[hash_of(key) % RECORD_SLOTS];
  if (atomic_load(&memo.hdr) != NULL) {
    memcpy(r->stamp, stamp, DB_MEMO_STAMP);
    memcpy(r->key, key, klen + 1);
    memcpy(r->data, rec, len);
    r->len = len;
    r->used = 1;
  }
  pthread_mutex_unlock(&memo.lock);
}

long db_memo_hits(void)
{
  return atomic_load(&hits);
}
