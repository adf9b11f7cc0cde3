/* queue.h: the scoring queue. Submissions wait in SQLite with status 'queued'; worker threads claim the
 * oldest, run the scorer confined (sandbox.c: the built-in concours-score, or the organizer's program once per
 * split under the CodaLab contract, sandbox_program.c) within the challenge's limits, and record the scores (and
 * the leaderboard's best row) or a participant-safe failure (a limit hit is named). A run interrupted by a shutdown goes back to the queue; one interrupted by a crash
 * is re-queued at the next start. */
#ifndef CONCOURS_QUEUE_H
#include <stdatomic.h>
#include <stdint.h>

#define CONCOURS_QUEUE_H

#include "app.h"

/* Starts CFG->workers threads and the small-file lane's. Returns 0 or -1. CFG must outlive queue_stop. */
int queue_start(const struct app_config *cfg);
/* The scoring threads queue_start starts for WORKERS (--workers, 1 to 64): WORKERS that claim any run, and the
 * small-file lane's, as many again and 8 at least, 64 in all at most (the sandbox's run uids). */
int queue_threads(int workers);
/* Wakes a worker: a submission was queued. */
void queue_notify(void);
/* Stops the run of SUBMISSION_ID if a worker thread of this server is running it (its row already says
 * 'cancelled': nothing of the run is recorded). */
void queue_cancel(int64_t submission_id);
/* Kills running scorers, re-queues their submissions, and joins the workers. */
void queue_stop(void);

/* Scores submission JOB synchronously (used by the workers; exposed for tests). */
struct job;
void queue_run_job(const struct app_config *cfg, const struct job *job, const atomic_int *stop);

#endif
