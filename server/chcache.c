/* chcache.c: see chcache.h. A few dozen challenges at most: a small table, least recently used out. */
#include "chcache.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHCACHE_SLOTS 64

struct slot {
  struct challenge *c; /* what the body was built from; NULL: a free slot */
  int phase;
  char *body;
  size_t len;
  uint64_t used; /* the tick of its last use */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[CHCACHE_SLOTS];
static uint64_t ticks;

/* True if A and B are the same challenge as the page shows it: every field but lb_version (struct challenge is
 * zeroed before it is filled, so its padding compares equal too). */
static int same(const struct challenge *a, const struct challenge *b)
{
  const size_t at = offsetof(struct challenge, lb_version), after = at + sizeof(a->lb_version);
  return memcmp(a, b, at) == 0 && memcmp((const char *)a + after, (const char *)b + after, sizeof(*a) - after) == 0;
}

char *chcache_get(const struct challenge *c, int phase, size_t *len)
{
  char *copy = NULL;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < CHCACHE_SLOTS; i++) {
    struct slot *s = &slots[i];
    if (s->c == NULL || s->c->id != c->id)
      continue;
    if (s->phase == phase && same(s->c, c)) {
      copy = malloc(s->len + 1);
      if (copy != NULL) {
        memcpy(copy, s->body, s->len + 1);
        *len = s->len;
        s->used = ++ticks;
      }
    }
    break; /* one slot per challenge */
  }
  pthread_mutex_unlock(&lock);
  return copy;
}

void chcache_put(const struct challenge *c, int phase, const char *body, size_t len)
{
  struct challenge *cc = malloc(sizeof(*cc));
  char *b = malloc(len + 1);
  if (cc == NULL || b == NULL) {
    free(cc);
    free(b);
    return;
  }
  memcpy(cc, c, sizeof(*cc));
  memcpy(b, body, len);
  b[len] = '\0';
  pthread_mutex_lock(&lock);
  int pick = 0; /* the challenge's own slot, else a free one, else the least recently used */
  for (int i = 0; i < CHCACHE_SLOTS; i++) {
    if (slots[i].c != NULL && slots[i].c->id == c->id) {
      pick = i;
      break;
    }
    if (slots[pick].c != NULL && (slots[i].c == NULL || slots[i].used < slots[pick].used))
      pick = i;
  }
  struct slot old = slots[pick];
  slots[pick] = (struct slot){cc, phase, b, len, ++ticks};
  pthread_mutex_unlock(&lock);
  free(old.c);
  free(old.body);
}

static struct {
  char *body; /* NULL: none */
  size_t len;
  int64_t version, from, until;
} list;

char *chcache_list_get(int64_t version, int64_t now, size_t *len)
{
  char *copy = NULL;
  pthread_mutex_lock(&lock);
  if (list.body != NULL && list.version == version && list.from <= now && now < list.until) {
    copy = malloc(list.len + 1);
    if (copy != NULL) {
      memcpy(copy, list.body, list.len + 1);
      *len = list.len;
    }
  }
  pthread_mutex_unlock(&lock);
  return copy;
}

void chcache_list_put(int64_t version, int64_t from, int64_t until, const char *body, size_t len)
{
  char *b = malloc(len + 1);
  if (b == NULL)
    return;
  memcpy(b, body, len);
  b[len] = '\0';
  pthread_mutex_lock(&lock);
  char *old = list.body;
  list.body = b;
  list.len = len;
  list.version = version;
  list.from = from;
  list.until = until;
  pthread_mutex_unlock(&lock);
  free(old);
}
