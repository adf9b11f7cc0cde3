/* db_workers.h: the SQL of remote workers (API.md section 5, docs/workers.md): worker tokens scoped to a queue
 * (stored hashed, revocable), the workers seen, and the lease of each code run a worker holds. A claim bumps the
 * run's fence; every later call of the worker names that fence, and a call under an older fence (the lease expired
 * and the run went to someone else, or the server gave it back) is refused: a run is scored once. */
#ifndef CONCOURS_DB_WORKERS_H
#define CONCOURS_DB_WORKERS_H

#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "app.h"

#define WORKER_MAX_ATTEMPTS 3 /* leases lost before a run fails with worker_lost (never the participant's quota) */

/* Creates the worker token NAME for QUEUE; the token itself (shown once) goes to TOKEN (size N, >= 64). APP_OK,
 * APP_CONFLICT when NAME exists, APP_INTERNAL. */
enum app_status db_worker_token_add(sqlite3 *db, const char *name, const char *queue, int64_t now, char *token,
                                    size_t n);
/* Revokes the token NAME: APP_OK, APP_NOT_FOUND, APP_INTERNAL. */
enum app_status db_worker_token_revoke(sqlite3 *db, const char *name, int64_t now);
/* The token TOKEN's id and queue (QUEUE, size N) when it exists and is not revoked: 1, 0 when not, -1 on a fault. */
int db_worker_token_check(sqlite3 *db, const char *token, int64_t *id, char *queue, size_t n);

/* A code run handed to a worker. */
struct worker_job {
  int64_t id, fence;
  char sha256[65], slug[64], mode[8];
};

/* Claims the next queued code run of QUEUE (host runtime, no output yet) for the worker NODE of token TOKEN_ID: fair
 * between teams (the team whose last run started longest ago first), then oldest first. The run becomes running
 * with a new fence and a lease until NOW + LEASE_S. 1 claimed, 0 none, -1 fault. */
int db_worker_claim(sqlite3 *db, int64_t token_id, const char *queue, const char *node, int64_t now, int lease_s,
                    struct worker_job *j);
/* Records WALL_S, the wall limit run ID (under FENCE) was handed out with: its deadline starts from it. 1, 0, -1. */
int db_worker_wall_limit(sqlite3 *db, int64_t id, int64_t fence, int wall_s);
/* Renews the lease of run ID under FENCE until NOW + LEASE_S. CODE_RUNNING: the worker has started the code, so the
 * run's deadline (NOW + its wall limit + LEASE_S) is set if it is not yet. 1 renewed; when the run ended on the server
 * meanwhile, so that the worker must stop it: 2 cancelled, 3 failed (past its deadline, or lost too often); 0 lease
 * lost; -1 fault. */
int db_worker_heartbeat(sqlite3 *db, int64_t id, int64_t fence, int64_t now, int lease_s, int code_running);
/* Gives run ID (under FENCE) back to the queue, not counting the attempt: 1, 0 lease lost, -1 fault. */
int db_worker_release(sqlite3 *db, int64_t id, int64_t fence);
/* Records a worker's output (OUTPUT_PATH, already on disk; NULL when the code failed and there is nothing to score)
 * of run ID under FENCE with the run's log (LOG_PUBLIC: its team may read it) and figures, and queues it for scoring
 * on the server: 1, 0 lease lost, -1 fault. */
int db_worker_output(sqlite3 *db, int64_t id, int64_t fence, const char *output_path, const char *log, int log_public,
                     int64_t wall_ms, long maxrss_kb, const char *runtime_sha256);
/* 1 when run ID is leased under FENCE now, 0 when not, -1 on a fault. */
int db_worker_holds(sqlite3 *db, int64_t id, int64_t fence);
/* Fails every leased run past its deadline (time_limit, no quota: its worker did not stop it), and puts back in the
 * queue every leased run whose lease ended before NOW, or fails it (worker_lost, no quota) after
 * WORKER_MAX_ATTEMPTS. Returns how many it touched, or -1. */
int db_worker_sweep(sqlite3 *db, int64_t now);
/* The challenge SLUG, uploaded file SHA and MODE of run ID: 1, 0 when there is none, -1 on a fault. */
int db_run_source(sqlite3 *db, int64_t id, char *slug, size_t slugn, char *sha, size_t shan, char *mode, size_t moden);
/* [{"name","queue","node","last_seen_at"}] of the workers seen, and the node of each running run of CHALLENGE. */
json_t *db_workers_json(sqlite3 *db, int64_t challenge_id);

#endif
