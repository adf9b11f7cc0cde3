/* db_workers.c: see db_workers.h. */
#include "db_workers.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "db_internal.h"
#include "util.h"

enum app_status db_worker_token_add(sqlite3 *db, const char *name, const char *queue, int64_t now, char *token,
                                    size_t n)
{
  char rnd[64], hash[65];
  if (n < 64 || util_random_token(32, rnd, sizeof(rnd)) != 0 || util_fmt(token, n, "cw_%s", rnd) != 0)
    return APP_INTERNAL;
  util_sha256_hex(token, strlen(token), hash);
  sqlite3_stmt *st = dbi_prepare(db, "INSERT INTO worker_tokens(name,queue,token_hash,created_at) VALUES(?,?,?,?)");
  if (st == NULL)
    return APP_INTERNAL;
  dbi_bind_text(st, 1, name);
  dbi_bind_text(st, 2, queue);
  dbi_bind_text(st, 3, hash);
  sqlite3_bind_int64(st, 4, now);
  int rc = sqlite3_step(st);
  dbi_finalize(st);
  return rc == SQLITE_DONE ? APP_OK : rc == SQLITE_CONSTRAINT ? APP_CONFLICT : APP_INTERNAL;
}

enum app_status db_worker_token_revoke(sqlite3 *db, const char *name, int64_t now)
{
  sqlite3_stmt *st =
    dbi_prepare(db, "UPDATE worker_tokens SET revoked_at=coalesce(revoked_at, ?) WHERE name=? RETURNING id");
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int64(st, 1, now);
  dbi_bind_text(st, 2, name);
  int rc = sqlite3_step(st);
  enum app_status s = rc == SQLITE_ROW ? APP_OK : rc == SQLITE_DONE ? APP_NOT_FOUND : APP_INTERNAL;
  if (rc == SQLITE_ROW)
    sqlite3_step(st);
  dbi_finalize(st);
  return s;
}

int db_worker_token_check(sqlite3 *db, const char *token, int64_t *id, char *queue, size_t n)
{
  char hash[65];
  util_sha256_hex(token, strlen(token), hash);
  sqlite3_stmt *st = dbi_prepare(db, "SELECT id, queue FROM worker_tokens WHERE token_hash=? AND revoked_at IS NULL");
  if (st == NULL)
    return -1;
  dbi_bind_text(st, 1, hash);
  int rc = sqlite3_step(st), r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
  if (r == 1) {
    *id = sqlite3_column_int64(st, 0);
    util_strlcpy(queue, dbi_col_text(st, 1), n);
  }
  dbi_finalize(st);
  return r;
}

int db_worker_claim(sqlite3 *db, int64_t token_id, const char *queue, const char *node, int64_t now, int lease_s,
                    struct worker_job *j)
{
  int r = -1;
  if (dbi_begin(db) != APP_OK)
    return -1;
  sqlite3_stmt *st = dbi_prepare(
    db, "UPDATE submissions SET status='running', stage='running', started_at=?1, attempts=attempts+1, "
        "fence=fence+1, lease_expires_at=?1+?2, worker_node=?3 WHERE id=("
        "  SELECT s.id FROM submissions s JOIN challenges c ON c.id=s.challenge_id "
        "  WHERE s.status='queued' AND s.mode IS NOT NULL AND s.output_path IS NULL AND c.queue=?4 "
        "  AND c.code_runtime='host' "
        "  ORDER BY (SELECT max(o.started_at) FROM submissions o WHERE o.team_id=s.team_id AND o.mode IS NOT NULL) "
        "  NULLS FIRST, s.id LIMIT 1) "
        "RETURNING id, fence, sha256, (SELECT slug FROM challenges WHERE id=challenge_id), mode");
  if (st == NULL)
    goto out;
  sqlite3_bind_int64(st, 1, now);
  sqlite3_bind_int(st, 2, lease_s);
  dbi_bind_text(st, 3, node);
  dbi_bind_text(st, 4, queue);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    j->id = sqlite3_column_int64(st, 0);
    j->fence = sqlite3_column_int64(st, 1);
    util_strlcpy(j->sha256, dbi_col_text(st, 2), sizeof(j->sha256));
    util_strlcpy(j->slug, dbi_col_text(st, 3), sizeof(j->slug));
    util_strlcpy(j->mode, dbi_col_text(st, 4), sizeof(j->mode));
    rc = sqlite3_step(st);
    r = rc == SQLITE_DONE ? 1 : -1;
  } else {
    r = rc == SQLITE_DONE ? 0 : -1;
  }
  dbi_finalize(st);
  st = dbi_prepare(db, "INSERT INTO workers(token_id,node,last_seen_at) VALUES(?,?,?) "
                       "ON CONFLICT(token_id,node) DO UPDATE SET last_seen_at=excluded.last_seen_at");
  if (st == NULL || r < 0) {
    r = -1;
    goto out;
  }
  sqlite3_bind_int64(st, 1, token_id);
  dbi_bind_text(st, 2, node);
  sqlite3_bind_int64(st, 3, now);
  if (dbi_step_done(db, st) != 0)
    r = -1;
out:
  dbi_finalize(st);
  return dbi_finish(db, r >= 0 ? APP_OK : APP_INTERNAL) == APP_OK ? r : -1;
}

/* Runs SQL (binding ID ?1, FENCE ?2, then A ?3, B ?4) on a leased run: 1 when it changed a row, 0 none, -1 fault. */
static int on_lease(sqlite3 *db, const char *sql, int64_t id, int64_t fence, int64_t a, int64_t b)
{
  sqlite3_stmt *st = dbi_prepare(db, sql);
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, fence);
  sqlite3_bind_int64(st, 3, a);
  sqlite3_bind_int64(st, 4, b);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc != 0 ? -1 : sqlite3_changes(db) > 0 ? 1 : 0;
}

#define LEASED " WHERE id=?1 AND fence=?2 AND status='running' AND lease_expires_at IS NOT NULL"

int db_worker_wall_limit(sqlite3 *db, int64_t id, int64_t fence, int wall_s)
{
  return on_lease(db, "UPDATE submissions SET run_wall_limit_s=?3, run_deadline_at=NULL" LEASED, id, fence, wall_s, 0);
}

int db_worker_heartbeat(sqlite3 *db, int64_t id, int64_t fence, int64_t now, int lease_s, int code_running)
{
  int r = on_lease(db,
                   code_running ? "UPDATE submissions SET lease_expires_at=?3+?4, run_deadline_at=coalesce("
                                  "run_deadline_at, ?3+run_wall_limit_s+?4)" LEASED
                                : "UPDATE submissions SET lease_expires_at=?3+?4" LEASED,
                   id, fence, now, lease_s);
  if (r != 0)
    return r;
  /* not leased under FENCE: ended on the server (the same fence, no longer running), or handed to someone else */
  sqlite3_stmt *st = dbi_prepare(db, "SELECT status='cancelled' FROM submissions WHERE id=? AND fence=? AND "
                                     "worker_node IS NOT NULL AND status IN ('cancelled','failed')");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, fence);
  int rc = sqlite3_step(st);
  r = rc == SQLITE_ROW ? (sqlite3_column_int(st, 0) ? 2 : 3) : rc == SQLITE_DONE ? 0 : -1;
  dbi_finalize(st);
  return r;
}

int db_worker_holds(sqlite3 *db, int64_t id, int64_t fence)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT 1 FROM submissions" LEASED);
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, fence);
  int rc = sqlite3_step(st);
  dbi_finalize(st);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int db_worker_release(sqlite3 *db, int64_t id, int64_t fence)
{
  return on_lease(db,
                  "UPDATE submissions SET status='queued', stage='queued', started_at=NULL, lease_expires_at=NULL, "
                  "worker_node=NULL, run_deadline_at=NULL, attempts=max(attempts-1,0)" LEASED,
                  id, fence, 0, 0);
}

int db_worker_output(sqlite3 *db, int64_t id, int64_t fence, const char *output_path, const char *log, int log_public,
                     int64_t wall_ms, long maxrss_kb, const char *runtime_sha256)
{
  sqlite3_stmt *st = dbi_prepare(db, "UPDATE submissions SET status='queued', stage='scoring', output_path=?3, "
                                     "run_log=?4, run_wall_ms=?5, run_maxrss_kb=?6, runtime_sha256=?7, "
                                     "lease_expires_at=NULL, log_public=?8" LEASED);
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, fence);
  dbi_bind_text(st, 3, output_path);
  dbi_bind_text(st, 4, log);
  sqlite3_bind_int64(st, 5, wall_ms);
  sqlite3_bind_int64(st, 6, maxrss_kb);
  dbi_bind_text(st, 7, runtime_sha256);
  sqlite3_bind_int(st, 8, log_public);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc != 0 ? -1 : sqlite3_changes(db) > 0 ? 1 : 0;
}

/* The sweeper's statements, in order (?1: now, ?2: WORKER_MAX_ATTEMPTS): runs past their deadline fail; runs whose
 * lease ended fail after too many attempts, else go back to the queue. */
static const char *const sweep_sql[] = {
  "UPDATE submissions SET status='failed', error_code='time_limit', error_message='Your code ran longer than its "
  "time limit of ' || run_wall_limit_s || ' s and was stopped. It does not count against your quota.', "
  "log=coalesce(log,'') || 'past its deadline on ' || coalesce(worker_node,'?') || char(10), scored_at=?1, "
  "stage=NULL, lease_expires_at=NULL WHERE status='running' AND lease_expires_at IS NOT NULL "
  "AND run_deadline_at<?1 AND ?2 > 0",
  "UPDATE submissions SET status='failed', error_code='worker_lost', error_message='The machine running your code "
  "was lost ' || ?2 || ' times in a row. It does not count against your quota; the organizers can see the "
  "details.', log=coalesce(log,'') || 'leases lost: ' || attempts || char(10), scored_at=?1, stage=NULL, "
  "lease_expires_at=NULL WHERE status='running' AND lease_expires_at IS NOT NULL AND lease_expires_at<?1 "
  "AND attempts>=?2",
  "UPDATE submissions SET status='queued', stage='queued', started_at=NULL, lease_expires_at=NULL, "
  "worker_node=NULL, run_deadline_at=NULL WHERE status='running' AND lease_expires_at IS NOT NULL "
  "AND lease_expires_at<?1 AND ?2 > 0",
};

int db_worker_sweep(sqlite3 *db, int64_t now)
{
  int total = 0;
  for (size_t i = 0; i < sizeof(sweep_sql) / sizeof(sweep_sql[0]); i++) {
    sqlite3_stmt *st = dbi_prepare(db, sweep_sql[i]);
    if (st == NULL)
      return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, WORKER_MAX_ATTEMPTS);
    int rc = dbi_step_done(db, st);
    dbi_finalize(st);
    if (rc != 0)
      return -1;
    total += sqlite3_changes(db);
  }
  return total;
}

static json_t *worker_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  return json_pack("{s:s,s:s,s:s,s:o}", "name", dbi_col_text(st, 0), "queue", dbi_col_text(st, 1), "node",
                   dbi_col_text(st, 2), "last_seen_at", dbi_col_time(st, 3));
}

static json_t *run_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  return json_pack("{s:I,s:s,s:o,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0), "stage", dbi_col_text(st, 1),
                   "node", sqlite3_column_type(st, 2) != SQLITE_NULL ? json_string(dbi_col_text(st, 2)) : json_null(),
                   "lease_expires_at", dbi_col_time(st, 3));
}

json_t *db_workers_json(sqlite3 *db, int64_t challenge_id)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT t.name, t.queue, w.node, w.last_seen_at FROM workers w JOIN "
                                     "worker_tokens t ON t.id=w.token_id WHERE t.revoked_at IS NULL "
                                     "ORDER BY w.last_seen_at DESC LIMIT 200");
  json_t *workers = dbi_rows(db, st, worker_row, NULL);
  st = dbi_prepare(db, "SELECT id, coalesce(stage,'running'), worker_node, lease_expires_at FROM submissions "
                       "WHERE challenge_id=? AND status='running' ORDER BY id LIMIT 500");
  if (st != NULL)
    sqlite3_bind_int64(st, 1, challenge_id);
  json_t *runs = dbi_rows(db, st, run_row, NULL);
  if (workers == NULL || runs == NULL) {
    json_decref(workers);
    json_decref(runs);
    return NULL;
  }
  return json_pack("{s:o,s:o}", "workers", workers, "runs", runs);
}

int db_run_source(sqlite3 *db, int64_t id, char *slug, size_t slugn, char *sha, size_t shan, char *mode, size_t moden)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT c.slug, s.sha256, coalesce(s.mode,'') FROM submissions s JOIN "
                                     "challenges c ON c.id=s.challenge_id WHERE s.id=?");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, id);
  int rc = sqlite3_step(st), r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
  if (r == 1) {
    util_strlcpy(slug, dbi_col_text(st, 0), slugn);
    util_strlcpy(sha, dbi_col_text(st, 1), shan);
    util_strlcpy(mode, dbi_col_text(st, 2), moden);
  }
  dbi_finalize(st);
  return r;
}
