/* upload_pipe.c: see upload_pipe.h. One mutex guards the ring's counters, the bytes written, the stop request and
 * the first failure; the hasher and the flusher each wait on their own condition, the request thread on a third
 * for a buffer to come free. Buffer K of the ring holds post number K, K + RING... : POSTED - HASHED buffers are
 * waiting for the hasher, and the request thread may fill buffer POSTED % RING while fewer than RING wait. */
#include "upload_pipe.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

enum { RUNNING, DRAIN, ABANDON };

struct upload_pipe {
  pthread_mutex_t lock;
  pthread_cond_t to_hash;  /* the hasher waits: a buffer posted, or a stop */
  pthread_cond_t to_flush; /* the flusher waits: more bytes written, or a stop */
  pthread_cond_t freed;    /* the request thread waits: a buffer hashed, or a failure */
  pthread_t hasher, flusher;
  char *ring; /* UPLOAD_PIPE_RING buffers of UPLOAD_PIPE_CHUNK bytes */
  size_t len[UPLOAD_PIPE_RING];
  uint64_t posted, hashed; /* under LOCK */
  int64_t written;         /* under LOCK */
  int stop;                /* under LOCK: RUNNING, DRAIN or ABANDON */
  enum app_status status;  /* under LOCK: APP_OK, or the first failure */
  EVP_MD_CTX *md;
  int fd;
};

/* Records failure S (the first one wins) and wakes everyone. Called with LOCK held. */
static void fail_locked(struct upload_pipe *p, enum app_status s)
{
  if (p->status == APP_OK)
    p->status = s;
  pthread_cond_broadcast(&p->freed);
  pthread_cond_broadcast(&p->to_hash);
  pthread_cond_broadcast(&p->to_flush);
}

static void *hasher_main(void *arg)
{
  struct upload_pipe *p = arg;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (p->hashed == p->posted && p->stop == RUNNING && p->status == APP_OK)
      pthread_cond_wait(&p->to_hash, &p->lock);
    if (p->stop == ABANDON || p->status != APP_OK || p->hashed == p->posted)
      break; /* abandoned, failed, or drained */
    size_t k = p->hashed % UPLOAD_PIPE_RING;
    size_t n = p->len[k];
    pthread_mutex_unlock(&p->lock);
    int ok = EVP_DigestUpdate(p->md, p->ring + k * UPLOAD_PIPE_CHUNK, n) == 1;
    pthread_mutex_lock(&p->lock);
    if (!ok) {
      fail_locked(p, APP_INTERNAL);
      break;
    }
    p->hashed++;
    pthread_cond_signal(&p->freed);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

static void *flusher_main(void *arg)
{
  struct upload_pipe *p = arg;
  pthread_mutex_lock(&p->lock);
  int64_t synced = p->written;
  for (;;) {
    while (p->written - synced < UPLOAD_PIPE_FLUSH_EVERY && p->stop == RUNNING && p->status == APP_OK)
      pthread_cond_wait(&p->to_flush, &p->lock);
    if (p->stop != RUNNING || p->status != APP_OK)
      break;
    int64_t upto = p->written;
    pthread_mutex_unlock(&p->lock);
    int rc = fdatasync(p->fd);
    int err = errno;
    pthread_mutex_lock(&p->lock);
    if (rc != 0) {
      fail_locked(p, (err == ENOSPC || err == EDQUOT) ? APP_NO_SPACE : APP_INTERNAL);
      break;
    }
    synced = upto;
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

struct upload_pipe *upload_pipe_start(EVP_MD_CTX *md, int fd, int64_t written)
{
  struct upload_pipe *p = calloc(1, sizeof(*p));
  if (p == NULL)
    return NULL;
  p->ring = malloc((size_t)UPLOAD_PIPE_RING * UPLOAD_PIPE_CHUNK);
  p->md = md;
  p->fd = fd;
  p->written = written;
  p->status = APP_OK;
  int inited = 0;
  if (p->ring == NULL || pthread_mutex_init(&p->lock, NULL) != 0)
    goto fail;
  inited = 1;
  if (pthread_cond_init(&p->to_hash, NULL) != 0)
    goto fail;
  inited = 2;
  if (pthread_cond_init(&p->to_flush, NULL) != 0)
    goto fail;
  inited = 3;
  if (pthread_cond_init(&p->freed, NULL) != 0)
    goto fail;
  inited = 4;
  if (pthread_create(&p->hasher, NULL, hasher_main, p) != 0)
    goto fail;
  if (pthread_create(&p->flusher, NULL, flusher_main, p) != 0) {
    pthread_mutex_lock(&p->lock);
    p->stop = ABANDON;
    pthread_cond_signal(&p->to_hash);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->hasher, NULL);
    goto fail;
  }
  return p;
fail:
  if (inited >= 4)
    pthread_cond_destroy(&p->freed);
  if (inited >= 3)
    pthread_cond_destroy(&p->to_flush);
  if (inited >= 2)
    pthread_cond_destroy(&p->to_hash);
  if (inited >= 1)
    pthread_mutex_destroy(&p->lock);
  free(p->ring);
  free(p);
  return NULL;
}

enum app_status upload_pipe_buffer(struct upload_pipe *p, char **buf)
{
  pthread_mutex_lock(&p->lock);
  while (p->posted - p->hashed == UPLOAD_PIPE_RING && p->status == APP_OK)
    pthread_cond_wait(&p->freed, &p->lock);
  enum app_status s = p->status;
  *buf = s == APP_OK ? p->ring + (p->posted % UPLOAD_PIPE_RING) * UPLOAD_PIPE_CHUNK : NULL;
  pthread_mutex_unlock(&p->lock);
  return s;
}

enum app_status upload_pipe_post(struct upload_pipe *p, size_t n, int64_t written)
{
  pthread_mutex_lock(&p->lock);
  p->len[p->posted % UPLOAD_PIPE_RING] = n;
  p->posted++;
  p->written = written;
  enum app_status s = p->status;
  pthread_cond_signal(&p->to_hash);
  pthread_cond_signal(&p->to_flush);
  pthread_mutex_unlock(&p->lock);
  return s;
}

enum app_status upload_pipe_stop(struct upload_pipe *p, int drain)
{
  if (p == NULL)
    return APP_OK;
  pthread_mutex_lock(&p->lock);
  p->stop = drain ? DRAIN : ABANDON;
  pthread_cond_signal(&p->to_hash);
  pthread_cond_signal(&p->to_flush);
  pthread_mutex_unlock(&p->lock);
  pthread_join(p->hasher, NULL);
  pthread_join(p->flusher, NULL);
  enum app_status s = p->status;
  if (s == APP_OK && drain && p->hashed != p->posted)
    s = APP_INTERNAL; /* cannot happen: the hasher only leaves a drain once it caught up, or after a failure */
  pthread_cond_destroy(&p->freed);
  pthread_cond_destroy(&p->to_flush);
  pthread_cond_destroy(&p->to_hash);
  pthread_mutex_destroy(&p->lock);
  free(p->ring);
  free(p);
  return s;
}
