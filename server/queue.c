/* queue.c: see queue.h. */
#include "queue.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "db.h"
#include "runner.h"
#include "store.h"
#include "util.h"

#define MAX_WORKERS 64
#define LOG_MAX (64 * 1024)

static struct {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_t threads[MAX_WORKERS];
  int nthreads;
  volatile int stop;
  const struct app_config *cfg;
  int pending;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0, NULL, 0};

static const char generic_failure[] =
  "The scorer could not score this file. It does not count against your quota; the organizers can see the "
  "details.";

/* Parses the scorer's stdout; fills the scores and returns 0, or -1 when it is not the documented object. */
static int parse_scores(const char *out, double *score, double *pub, double *priv)
{
  json_error_t jerr;
  json_t *o = json_loads(out, JSON_REJECT_DUPLICATES, &jerr);
  int rc = -1;
  *pub = *priv = NAN;
  if (!json_is_object(o) || !json_is_number(json_object_get(o, "score")))
    goto out;
  *score = json_number_value(json_object_get(o, "score"));
  if (json_is_number(json_object_get(o, "public")))
    *pub = json_number_value(json_object_get(o, "public"));
  if (json_is_number(json_object_get(o, "private")))
    *priv = json_number_value(json_object_get(o, "private"));
  if (!isfinite(*score) || (!isnan(*pub) && !isfinite(*pub)) || (!isnan(*priv) && !isfinite(*priv)))
    goto out;
  rc = 0;
out:
  json_decref(o);
  return rc;
}

/* The participant-safe error of an exit-1 run: code and message from the scorer's JSON, bounded. */
static void parse_error(const char *out, char *code, size_t codelen, char *msg, size_t msglen)
{
  json_t *o = json_loads(out, 0, NULL);
  json_t *e = json_object_get(o, "error");
  const char *c = json_string_value(json_object_get(e, "code"));
  const char *m = json_string_value(json_object_get(e, "message"));
  util_strlcpy(code, c != NULL ? c : "invalid_prediction", codelen);
  util_strlcpy(msg, m != NULL ? m : "The prediction file is invalid.", msglen);
  json_decref(o);
}

static void build_log(char *log, size_t n, const struct runner_result *res)
{
  snprintf(log, n, "exit=%d signal=%d timed_out=%d truncated=%d\n--- stderr ---\n%s\n--- stdout ---\n%s",
           res->exit_code, res->signal, res->timed_out, res->truncated, res->err, res->out);
}

void queue_run_job(const struct app_config *cfg, const struct job *job, const volatile int *stop)
{
  struct challenge c;
  struct runner_result res = {0};
  char truth[APP_PATH_MAX], pred[APP_PATH_MAX], rel[APP_PATH_MAX], params[4096] = "{}";
  char *log = malloc(LOG_MAX);
  sqlite3 *db = db_acquire();
  int64_t now;
  if (log == NULL)
    goto out;
  if (db_challenge_get(db, job->slug, &c) != APP_OK) {
    db_queue_failed(db, job->submission_id, "scoring_error", generic_failure, "challenge not found", app_now());
    goto out;
  }
  json_t *metric = json_loads(c.metric_json, 0, NULL);
  json_t *p = json_object_get(metric, "params");
  if (json_is_object(p)) {
    char *s = json_dumps(p, JSON_COMPACT);
    if (s != NULL)
      util_strlcpy(params, s, sizeof(params));
    free(s);
  }
  json_decref(metric);
  snprintf(rel, sizeof(rel), "%s/private/solution.csv", c.dir);
  if (store_path(truth, sizeof(truth), rel) != 0 || store_submission_path(job->sha256, pred, sizeof(pred)) != 0) {
    db_queue_failed(db, job->submission_id, "scoring_error", generic_failure, "path too long", app_now());
    goto out;
  }
  char *argv[] = {(char *)cfg->scorer_path, "--truth", truth, "--pred", pred, "--metric", c.metric_name,
                  "--params", params, "--id-column", c.id_column, "--split-column", c.split_column, NULL};
  struct runner_limits limits = {cfg->score_timeout_s, cfg->score_timeout_s, 8192, 16, 64 * 1024};
  if (runner_run(argv, &limits, stop, &res) != 0) {
    db_queue_failed(db, job->submission_id, "scoring_error", generic_failure, "could not start the scorer",
                    app_now());
    goto out;
  }
  now = app_now();
  build_log(log, LOG_MAX, &res);
  if (stop != NULL && *stop && !res.timed_out && res.exit_code != 0) {
    goto out; /* shutting down: queue_stop puts it back in the queue */
  }
  double score, pub, priv;
  if (res.exit_code == 0 && parse_scores(res.out, &score, &pub, &priv) == 0) {
    db_queue_scored(db, job->submission_id, score, pub, priv, log, now);
  } else if (res.exit_code == 1) {
    char code[64], msg[1024];
    parse_error(res.out, code, sizeof(code), msg, sizeof(msg));
    db_queue_failed(db, job->submission_id, code, msg, log, now);
  } else if (res.timed_out) {
    char msg[256];
    snprintf(msg, sizeof(msg), "Scoring took longer than the limit of %d s. It does not count against your quota.",
             cfg->score_timeout_s);
    db_queue_failed(db, job->submission_id, "time_limit", msg, log, now);
  } else {
    db_queue_failed(db, job->submission_id, "scoring_error", generic_failure, log, now);
  }
out:
  runner_result_free(&res);
  free(log);
  db_release(db);
}

static void *worker(void *arg)
{
  (void)arg;
  while (!q.stop) {
    struct job job;
    sqlite3 *db = db_acquire();
    int claimed = db_queue_claim(db, app_now(), &job);
    db_release(db);
    if (claimed == 1) {
      queue_run_job(q.cfg, &job, &q.stop);
      continue;
    }
    pthread_mutex_lock(&q.lock);
    if (!q.stop && q.pending == 0) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += 2;
      pthread_cond_timedwait(&q.wake, &q.lock, &ts);
    }
    if (q.pending > 0)
      q.pending--;
    pthread_mutex_unlock(&q.lock);
  }
  return NULL;
}

int queue_start(const struct app_config *cfg)
{
  q.cfg = cfg;
  q.stop = 0;
  int n = cfg->workers < 1 ? 1 : cfg->workers > MAX_WORKERS ? MAX_WORKERS : cfg->workers;
  for (int i = 0; i < n; i++) {
    if (pthread_create(&q.threads[i], NULL, worker, NULL) != 0)
      return -1;
    q.nthreads++;
  }
  return 0;
}

void queue_notify(void)
{
  pthread_mutex_lock(&q.lock);
  q.pending++;
  pthread_cond_signal(&q.wake);
  pthread_mutex_unlock(&q.lock);
}

void queue_stop(void)
{
  pthread_mutex_lock(&q.lock);
  q.stop = 1;
  pthread_cond_broadcast(&q.wake);
  pthread_mutex_unlock(&q.lock);
  for (int i = 0; i < q.nthreads; i++)
    pthread_join(q.threads[i], NULL);
  q.nthreads = 0;
  sqlite3 *db = db_acquire();
  db_queue_requeue_running(db);
  db_release(db);
}
