/* queue.c: see queue.h. */
#include "queue.h"
#include "queue_internal.h"

#include <stdatomic.h>
#include <stdint.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "db.h"
#include "coderun.h"
#include "db_sandbox.h"
#include "db_mail.h"
#include "db_workers.h"
#include "def.h"
#include "livelog.h"
#include "mail.h"
#include "oci.h"
#include "sandbox.h"
#include "sandbox_program.h"
#include "sandbox_warm.h"
#include "stability.h"
#include "store.h"
#include "util.h"
#include "versions.h"

#define MAX_WORKERS 64
#define SMALL_LANE_MIN 8    /* the small-file lane's threads, whatever --workers */
#define VERSIONS_SWEEP_S 10 /* how often a thread looks for old version folders no run reads (versions.h) */

static struct {
  pthread_mutex_t lock;
  pthread_cond_t wake[2]; /* the --workers threads', the small-file lane's */
  pthread_t threads[MAX_WORKERS];
  int nthreads;
  int nworkers;               /* the --workers threads (slots 0..nworkers-1); the small-file lane's follow */
  atomic_int stop;            /* the server stops: read by the workers */
  atomic_int local_code_runs; /* code runs executing here now (bounded by --local-runs) */
  atomic_int ci_busy;         /* a thread computes a deferred interval (ci_claim) */
  atomic_llong swept_at;      /* CLOCK_MONOTONIC second of the last versions_sweep() */
  const struct app_config *cfg;
  int pending[2]; /* notifications not yet taken, per lane (as WAKE) */
  /* what each worker thread runs: the submission (0: none) and the flag its sandboxes read, set when the server
   * stops or when that submission is cancelled */
  struct {
    atomic_llong id;
    atomic_int stop;
  } slots[MAX_WORKERS];
} q = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = {PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER}};

void queue_run_job(const struct app_config *cfg, const struct job *job, const atomic_int *stop)
{
  struct challenge *c = malloc(sizeof(*c));
  struct outcome o;
  struct runner_limits lim;
  struct challenge_def *def = calloc(1, sizeof(*def));
  struct bundle_problems *problems = calloc(1, sizeof(*problems));
  sqlite3 *db = db_acquire();
  char *metrics_text = NULL;
  int held = 0;
  memset(&o, 0, sizeof(o));
  o.log = calloc(1, QUEUE_LOG_MAX);
  if (o.log == NULL || c == NULL || def == NULL || problems == NULL) {
    db_queue_failed(db, job->submission_id, "scoring_error", queue_generic_failure, "out of memory", app_now());
    goto out;
  }
  if (versions_get_held(db, job->slug, c) != APP_OK) { /* its version folder stays while the job reads it */
    db_queue_failed(db, job->submission_id, "scoring_error", queue_generic_failure, "challenge not found", app_now());
    goto out;
  }
  held = 1;
  /* the definition as imported (valid then; def.c is its only reader), for the limits and the program's key */
  char *definition = db_sandbox_definition(db, job->slug);
  int parsed = definition != NULL
                 ? def_parse(definition, strlen(definition), "challenge.json", cfg->score_timeout_s, def, problems)
                 : -1;
  free(definition);
  if (parsed < 0 || def->root == NULL) {
    db_queue_failed(db, job->submission_id, "scoring_error", queue_generic_failure,
                    parsed > 0 ? problems->text[0] : "the challenge definition cannot be read", app_now());
    goto out;
  }
  /* a definition imported by an older, less strict version may hold problems now: what parsed is used, and the
   * organizers see why */
  for (int i = 0; i < problems->n; i++)
    queue_log_add(&o, problems->text[i]);
  lim = def->limits;
  db_release(db); /* a run can take minutes: do not hold a pooled connection meanwhile */
  db = NULL;
  char truth[APP_PATH_MAX], pred[APP_PATH_MAX], rel[APP_PATH_MAX], run_dir[APP_PATH_MAX] = "";
  const char *split_column = c->split_column;
  int smoke = strcmp(job->mode, "smoke") == 0;
  if (util_fmt(rel, sizeof(rel), "%s/private/%s", c->dir, smoke ? "smoke_solution.csv" : "solution.csv") != 0 ||
      store_path(truth, sizeof(truth), rel) != 0 || store_submission_path(job->sha256, pred, sizeof(pred)) != 0) {
    queue_outcome_fail(&o, "scoring_error", queue_generic_failure);
    queue_log_add(&o, "paths too long");
  } else if (job->output_path[0] == '\0' && job->mode[0] != '\0' &&
             queue_run_code(c, def, job, stop, &o, run_dir, sizeof(run_dir), pred, sizeof(pred)) != 0) {
    /* the code did not produce a file to score: O says why */
  } else {
    if (job->output_path[0] != '\0') /* a remote worker ran the code: its output, scored here */
      util_strlcpy(pred, job->output_path, sizeof(pred));
    if (smoke)
      split_column = ""; /* the smoke sample's ground truth has no split column: one score, never ranked */
    if (job->mode[0] != '\0')
      queue_stage_set(job->submission_id, "scoring");
    if (def->program) {
      queue_warm_drop(); /* the organizers' program runs cold */
      queue_score_program(c, def, truth, pred, split_column, &lim, stop, &o);
    } else {
      queue_score_builtin(cfg, c, def, job, truth, pred, split_column, &lim, stop, &o);
    }
  }
  if (run_dir[0] != '\0')
    sandbox_stage_remove(run_dir);
  /* A result that cannot be recorded (the disk is full, the database busy past its timeout) is kept and recorded
   * again every 2 s until it is, or until the server stops: then the run stays 'running' and is re-queued at the
   * next start. Either way it is scored once, and never failed for the server's own trouble. */
  if (o.state == OUTCOME_FAILED && strcmp(o.code, "scoring_error") == 0 && store_disk_full()) {
    o.state = OUTCOME_RETRY; /* the run could not stage its files: not the participant's failure */
    fprintf(stderr, "concours: queue: submission %lld could not run (disk full): queued again\n",
            (long long)job->submission_id);
  }
  if (job->ci_only) { /* the interval alone: the score is stored; a stop or a full disk leaves it due */
    int stored = 0;
    if (o.state == OUTCOME_SCORED || o.state == OUTCOME_FAILED) {
      db = db_acquire();
      int ok = o.state == OUTCOME_SCORED;
      stored = db_ci_store(db, job->submission_id, ok ? o.ci[0] : NAN, ok ? o.ci[1] : NAN) == APP_OK;
      if (!stored || !ok)
        fprintf(stderr, "concours: queue: no interval for submission %lld (%s)\n", (long long)job->submission_id,
                ok ? "cannot record it" : o.code);
      db_release(db);
      db = NULL;
    }
    /* not stored (a full disk): the next claim takes it again (db_ci_claim); give the disk time meanwhile */
    for (int t = 0; !stored && o.state != OUTCOME_REQUEUE && t < 20 && !atomic_load(stop); t++)
      usleep(100 * 1000);
    goto out;
  }
  metrics_text = o.metrics != NULL ? json_dumps(o.metrics, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
  for (int tries = 0; o.state != OUTCOME_REQUEUE; tries++) {
    db = db_acquire();
    int64_t now = app_now();
    enum app_status rs =
      o.state == OUTCOME_SCORED  ? db_queue_scored(db, job->submission_id, o.score, o.pub, o.priv, o.ci[0], o.ci[1],
                                                   o.ci_pending, metrics_text, o.log, now)
      : o.state == OUTCOME_RETRY ? db_queue_requeue_one(db, job->submission_id)
                                 : db_queue_failed(db, job->submission_id, o.code, o.msg, o.log, now);
    if (rs == APP_OK && job->mode[0] != 's' && (o.state == OUTCOME_SCORED || o.state == OUTCOME_FAILED) &&
        db_mail_submission_outcome(db, job->submission_id, cfg->public_url, now) == APP_OK)
      mail_notify(); /* "your submission was scored / failed", when the participant wants it */
    if (rs == APP_OK || atomic_load(stop))
      break;
    db_release(db);
    db = NULL;
    if (tries == 0)
      fprintf(stderr, "concours: queue: cannot record the result of submission %lld (disk full?): retrying\n",
              (long long)job->submission_id);
    for (int t = 0; t < 20 && !atomic_load(stop); t++)
      usleep(100 * 1000);
  }
  if (job->output_path[0] != '\0' && o.state != OUTCOME_REQUEUE && o.state != OUTCOME_RETRY)
    unlink(job->output_path);   /* scored (or failed) and recorded: the worker's output is no longer needed */
  if (o.state == OUTCOME_RETRY) /* give the disk time: the same job comes back at once otherwise */
    for (int t = 0; t < 20 && !atomic_load(stop); t++)
      usleep(100 * 1000);
out:
  if (held)
    versions_release(c->dir);
  if (db != NULL)
    db_release(db);
  def_free(def);
  free(def);
  free(problems);
  free(o.log);
  free(metrics_text);
  json_decref(o.metrics);
  free(c);
}

/* With nothing queued, one thread at a time computes a due interval (the others stay free for new uploads). 1 with
 * *JOB claimed (release q.ci_busy after the run), 0 none. */
static int ci_claim(struct job *job)
{
  int idle = 0;
  if (!atomic_compare_exchange_strong(&q.ci_busy, &idle, 1))
    return 0;
  sqlite3 *db = db_acquire();
  int got = db_ci_claim(db, job);
  db_release(db);
  if (got != 1)
    atomic_store(&q.ci_busy, 0);
  return got == 1;
}

/* Every VERSIONS_SWEEP_S seconds, one thread removes the version folders that imports replaced and no run reads any
 * more (an import from the command line, beside the server, leaves them to it). */
static void sweep_versions(sqlite3 *db)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long last = atomic_load(&q.swept_at), now = (long long)ts.tv_sec;
  if (now - last >= VERSIONS_SWEEP_S && atomic_compare_exchange_strong(&q.swept_at, &last, now))
    versions_sweep(db);
}

/*
 * Beside the --workers threads, the small-file lane (queue_threads: as many again, 8 at least, up to 64 threads in
 * all) only claims prediction files of at most QUEUE_SMALL_FILE_BYTES scored by a built-in metric
 * (db_queue_claim_small), runs of milliseconds and tens of MB. So code runs (minutes to hours) or large files
 * holding every --workers thread never hold up a participant's small file, and a queue of small files is scored by
 * several runs at once: a run's chain of processes (supervisor, bubblewrap, scorer) waits for the CPU at every step
 * when the machine is saturated (a flood of reads), and more runs at once then score more, tens of MB each at most
 * (docs/speed.md, "Scoring under a read flood"). Every queue thread (the lane's and --workers') keeps a warm sandbox
 * (sandbox_warm.h) for its runs of the built-in scorer: one fork and exec a file instead of that chain; it ends it
 * before any cold run (queue_warm_drop), so that it holds one uid slot at a time.
 */
static _Thread_local struct sandbox_warm *thread_warm;
static _Thread_local int thread_queue; /* set in the queue's threads */

struct sandbox_warm **queue_warm_slot(void)
{
  return thread_queue ? &thread_warm : NULL;
}

void queue_warm_drop(void)
{
  sandbox_warm_stop(thread_warm);
  thread_warm = NULL;
}

static void *worker(void *arg)
{
  int slot = (int)(intptr_t)arg;
  int small_lane = slot >= q.nworkers;
  thread_queue = 1; /* its runs of the built-in scorer go to a warm sandbox of its own (queue_score_builtin) */
  while (!atomic_load(&q.stop)) {
    struct job job = {0};
    sqlite3 *db = db_acquire();
    int claimed;
    if (small_lane) {
      claimed = db_queue_claim_small(db, app_now(), QUEUE_SMALL_FILE_BYTES, &job);
    } else {
      db_worker_sweep(db, app_now()); /* remote workers' expired leases go back to the queue */
      sweep_versions(db);
      int allow_code = q.cfg->local_runs < 0 || atomic_load(&q.local_code_runs) < q.cfg->local_runs;
      claimed = db_queue_claim(db, app_now(), allow_code, &job);
    }
    db_release(db);
    if (claimed == 0 && !small_lane && ci_claim(&job)) {
      atomic_store(&q.slots[slot].stop, atomic_load(&q.stop));
      queue_run_job(q.cfg, &job, &q.slots[slot].stop);
      atomic_store(&q.ci_busy, 0);
      continue;
    }
    if (claimed == 1) {
      int code_run = job.mode[0] != '\0' && job.output_path[0] == '\0';
      if (code_run)
        atomic_fetch_add(&q.local_code_runs, 1);
      atomic_store(&q.slots[slot].id, job.submission_id);
      atomic_store(&q.slots[slot].stop, atomic_load(&q.stop));
      queue_run_job(q.cfg, &job, &q.slots[slot].stop);
      if (atomic_load(&q.slots[slot].stop) && !atomic_load(&q.stop))
        fprintf(stderr, "concours: queue: submission %lld cancelled: its run was stopped\n",
                (long long)job.submission_id);
      atomic_store(&q.slots[slot].id, 0);
      if (code_run)
        atomic_fetch_sub(&q.local_code_runs, 1);
      continue;
    }
    pthread_mutex_lock(&q.lock);
    if (!atomic_load(&q.stop) && q.pending[small_lane] == 0) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += 2;
      pthread_cond_timedwait(&q.wake[small_lane], &q.lock, &ts);
    }
    if (q.pending[small_lane] > 0)
      q.pending[small_lane]--;
    pthread_mutex_unlock(&q.lock);
  }
  queue_warm_drop();
  return NULL;
}

static int clamp_workers(int workers)
{
  return workers < 1 ? 1 : workers > MAX_WORKERS ? MAX_WORKERS : workers;
}

int queue_threads(int workers)
{
  int n = clamp_workers(workers);
  int small = n > SMALL_LANE_MIN ? n : SMALL_LANE_MIN;
  return n + (small < MAX_WORKERS - n ? small : MAX_WORKERS - n); /* within the runs' 64 uids */
}

int queue_start(const struct app_config *cfg)
{
  q.cfg = cfg;
  atomic_store(&q.stop, 0);
  int n = clamp_workers(cfg->workers);
  q.nworkers = n;
  int threads = queue_threads(n);
  for (int i = 0; i < threads; i++) {
    if (pthread_create(&q.threads[i], NULL, worker, (void *)(intptr_t)i) != 0)
      return -1;
    /* named here rather than by the thread, so that they have their names once queue_start returns (top -H) */
    pthread_setname_np(q.threads[i], i < n ? "score-any" : "score-small");
    q.nthreads++;
  }
  return 0;
}

void queue_notify(void)
{
  pthread_mutex_lock(&q.lock);
  /* one thread of each lane: whichever job came, one of them may claim it (a lane's thread woken for a code run
   * claims nothing), and no more threads than two try a claim per upload, however many --workers there are */
  for (int lane = 0; lane < 2; lane++) {
    q.pending[lane]++;
    pthread_cond_signal(&q.wake[lane]);
  }
  pthread_mutex_unlock(&q.lock);
}

void queue_cancel(int64_t submission_id)
{
  for (int i = 0; i < MAX_WORKERS; i++)
    if (atomic_load(&q.slots[i].id) == submission_id)
      atomic_store(&q.slots[i].stop, 1);
}

void queue_stop(void)
{
  pthread_mutex_lock(&q.lock);
  atomic_store(&q.stop, 1);
  for (int i = 0; i < MAX_WORKERS; i++)
    atomic_store(&q.slots[i].stop, 1);
  pthread_cond_broadcast(&q.wake[0]);
  pthread_cond_broadcast(&q.wake[1]);
  pthread_mutex_unlock(&q.lock);
  for (int i = 0; i < q.nthreads; i++)
    pthread_join(q.threads[i], NULL);
  q.nthreads = 0;
  sqlite3 *db = db_acquire();
  db_queue_requeue_running(db);
  db_release(db);
}
