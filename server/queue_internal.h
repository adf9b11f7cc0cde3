/* queue_internal.h: what queue.c (the queue's threads and each job's recording) and queue_score.c (how a job is
 * scored) share, and only they. */
#ifndef CONCOURS_QUEUE_INTERNAL_H
#define CONCOURS_QUEUE_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>

#include <jansson.h>

#include "app.h"
#include "db.h"
#include "def.h"
#include "queue.h"
#include "runner.h"
#include "sandbox.h"

#define QUEUE_LOG_MAX (64 * 1024)
/* A prediction file up to this size is scored in milliseconds to a few tenths of a second: it gets its bootstrap
 * interval (queue_score.c), and the small-file lane may take it (queue.c). */
#define QUEUE_SMALL_FILE_BYTES (8LL * 1024 * 1024)

/* What one scoring job ends with, recorded by queue_run_job(). */
struct outcome {
  /* REQUEUE: the server stops (queue_stop puts it back); RETRY: the server's own trouble (a full disk), queued
   * again now and scored when it is over */
  enum { OUTCOME_FAILED = 0, OUTCOME_SCORED, OUTCOME_REQUEUE, OUTCOME_RETRY } state;
  double score, pub, priv, ci[2];
  char code[64];
  char msg[4096];  /* the scorer's or the program's message, whole (cut at a word's end beyond) */
  char *log;       /* QUEUE_LOG_MAX bytes, organizers only */
  json_t *metrics; /* the secondary metrics' values {"KEY":{"score","public","private"}}, or NULL (owned) */
  int ci_pending;  /* scored without the interval, which is due (computed when the queue is idle) */
};

/* What participants read when the server, not their file, failed the scoring. */
extern const char queue_generic_failure[];

/* Fails O with CODE and MSG (MSG shortened to fit, at a word's end). */
void queue_outcome_fail(struct outcome *o, const char *code, const char *msg);
/* Appends a line to O's log (organizers only), while it fits QUEUE_LOG_MAX. */
void queue_log_add(struct outcome *o, const char *text);
/* Records submission ID's stage ("running"...) for the pages that follow it. */
void queue_stage_set(int64_t id, const char *stage);

/* The calling thread's warm sandbox (sandbox_warm.h; NULL until its first run) when it is one of the queue's
 * threads, which keep one between their runs of the built-in scorer; NULL for other threads (cold runs). */
struct sandbox_warm **queue_warm_slot(void);

/* Ends the calling thread's warm sandbox, if it has one, before a cold run: a thread holds one uid slot at a time,
 * so the runs at once (at most 64 threads) never wait for a slot. */
void queue_warm_drop(void);

/* The built-in scorer (concours-score in the sandbox, with LIM) on JOB's file PRED against TRUTH (split by
 * SPLIT_COLUMN), then each of the challenge's secondary metrics: O scored (its 95 % interval now, or due when the file
 * is large), failed with the scorer's message, or to be re-queued when STOP is set. */
void queue_score_builtin(const struct app_config *cfg, const struct challenge *c, const struct challenge_def *def,
                         const struct job *job, const char *truth, const char *pred, const char *split_column,
                         const struct runner_limits *lim, const atomic_int *stop, struct outcome *o);
/* The organizer's program (challenge.json "metric": {"program", "score_key", "higher_is_better"}), once per split of
 * TRUTH, each run seeing only that split's rows: the public run gives the public score, the private run the private
 * score; without a split column one run over every row gives the score. Into O, as queue_score_builtin(). */
void queue_score_program(const struct challenge *c, const struct challenge_def *def, const char *truth,
                         const char *pred, const char *split_column, const struct runner_limits *lim,
                         const atomic_int *stop, struct outcome *o);
/* A code run (API.md section 4): the participant's code on the hidden inputs (or the smoke sample) in the sandbox,
 * its log recorded, its output left at PRED (size PRED_N: a file of the run folder RUN_DIR, size RUN_DIR_N, which
 * the caller removes). Returns 0 when there is a file to score, -1 with O filled otherwise. */
int queue_run_code(const struct challenge *c, const struct challenge_def *def, const struct job *job,
                   const atomic_int *stop, struct outcome *o, char *run_dir, size_t run_dir_n, char *pred,
                   size_t pred_n);
#endif
