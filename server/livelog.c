/* livelog.c: see livelog.h. A fixed table of slots under one mutex: appends and reads copy at most LIVELOG_MAX
 * bytes, so the lock is held for microseconds. */
#include "livelog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64

struct slot {
  int64_t id; /* 0: free */
  int public;
  size_t len;
  unsigned long long dropped;
  char *buf;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[SLOTS];

static struct slot *find(int64_t id)
{
  for (int i = 0; i < SLOTS; i++) {
    if (slots[i].id == id)
      return &slots[i];
  }
  return NULL;
}

int livelog_open(int64_t id, int public)
{
  char *buf = malloc(LIVELOG_MAX + 1);
  int rc = -1;
  if (buf == NULL || id <= 0)
    goto out;
  pthread_mutex_lock(&lock);
  struct slot *s = find(id) != NULL ? find(id) : find(0);
  if (s != NULL) {
    free(s->buf);
    *s = (struct slot){id, public, 0, 0, buf};
    buf = NULL;
    rc = 0;
  }
  pthread_mutex_unlock(&lock);
out:
  free(buf);
  return rc;
}

void livelog_append(int64_t id, const char *data, size_t n)
{
  pthread_mutex_lock(&lock);
  struct slot *s = find(id);
  if (s != NULL) {
    size_t room = LIVELOG_MAX - s->len, take = n < room ? n : room;
    memcpy(s->buf + s->len, data, take);
    s->len += take;
    s->dropped += n - take;
  }
  pthread_mutex_unlock(&lock);
}

int livelog_read(int64_t id, int staff, char **out)
{
  int rc = 0;
  *out = NULL;
  pthread_mutex_lock(&lock);
  struct slot *s = find(id);
  if (s != NULL && !staff && !s->public) {
    rc = 2;
  } else if (s != NULL) {
    char tail[96] = "";
    if (s->dropped > 0)
      snprintf(tail, sizeof(tail), "\n[... %llu more bytes not kept]\n", s->dropped);
    *out = malloc(s->len + strlen(tail) + 1);
    if (*out == NULL) {
      rc = -1;
    } else {
      memcpy(*out, s->buf, s->len);
      memcpy(*out + s->len, tail, strlen(tail) + 1);
      rc = 1;
    }
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

int livelog_is_public(int64_t id)
{
  pthread_mutex_lock(&lock);
  struct slot *s = find(id);
  int r = s != NULL ? s->public : -1;
  pthread_mutex_unlock(&lock);
  return r;
}

void livelog_close(int64_t id)
{
  pthread_mutex_lock(&lock);
  struct slot *s = find(id);
  if (s != NULL) {
    free(s->buf);
    *s = (struct slot){0, 0, 0, 0, NULL};
  }
  pthread_mutex_unlock(&lock);
}
