/* db_queue.c: the SQL of the scoring queue (db.h): claiming a queued run, storing its score or its failure,
 * requeueing; smoke runs, and code runs' stages and logs; the bootstrap intervals the jury reads, computed off the
 * critical path (db_ci_claim); and the leaderboard those scores feed (each team's best entry kept in
 * leaderboard_best). */
#include <math.h>
#include <string.h>

#include "db.h"
#include "db_internal.h"
#include "util.h"

/* ---------------------------------------------------------------- queue */

enum app_status db_queue_requeue_one(sqlite3 *db, int64_t id)
{
  sqlite3_stmt *st = dbi_prepare(db, "UPDATE submissions SET status='queued', started_at=NULL WHERE id=? AND "
                                     "status='running'");
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int64(st, 1, id);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

int db_smoke_used(sqlite3 *db, int64_t challenge_id, int64_t team_id, int64_t now)
{
  int used = -1;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT count(*) FROM submissions WHERE challenge_id=? AND team_id=? AND "
                                     "mode='smoke' AND created_at>=? AND status<>'cancelled'");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, challenge_id);
  sqlite3_bind_int64(st, 2, team_id);
  sqlite3_bind_int64(st, 3, now - (now % 86400));
  if (sqlite3_step(st) == SQLITE_ROW)
    used = sqlite3_column_int(st, 0);
  dbi_finalize(st);
  return used;
}

enum app_status db_submission_stage(sqlite3 *db, int64_t id, const char *stage)
{
  sqlite3_stmt *st = dbi_prepare(db, "UPDATE submissions SET stage=? WHERE id=? AND status='running'");
  if (st == NULL)
    return APP_INTERNAL;
  dbi_bind_text(st, 1, stage);
  sqlite3_bind_int64(st, 2, id);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

enum app_status db_submission_run(sqlite3 *db, int64_t id, const char *log, int log_public, int64_t wall_ms,
                                  long maxrss_kb, const char *runtime_sha256)
{
  sqlite3_stmt *st = dbi_prepare(db, "UPDATE submissions SET run_log=?, log_public=?, run_wall_ms=?, run_maxrss_kb=?, "
                                     "runtime_sha256=? WHERE id=? AND status='running'");
  if (st == NULL)
    return APP_INTERNAL;
  dbi_bind_text(st, 1, log);
  sqlite3_bind_int(st, 2, log_public);
  sqlite3_bind_int64(st, 3, wall_ms);
  sqlite3_bind_int64(st, 4, maxrss_kb);
  dbi_bind_text(st, 5, runtime_sha256);
  sqlite3_bind_int64(st, 6, id);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

int db_run_log(sqlite3 *db, int64_t id, const struct user *viewer, int staff, char **log, int *running,
               const char **why)
{
  int r = 0;
  *log = NULL;
  *running = 0;
  *why = "not_found";
  sqlite3_stmt *st = dbi_prepare(db, "SELECT s.mode, s.run_log, s.log_public, s.status, EXISTS(SELECT 1 FROM "
                                     "team_members m WHERE m.team_id=s.team_id AND m.user_id=?2) "
                                     "FROM submissions s WHERE s.id=?1");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, viewer != NULL ? viewer->id : -1);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && (staff || sqlite3_column_int(st, 4))) {
    if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
      *why = "not_code";
    } else if (!staff && !sqlite3_column_int(st, 2) && sqlite3_column_type(st, 1) != SQLITE_NULL) {
      *why = "log_hidden";
    } else {
      *running = strcmp(dbi_col_text(st, 3), "running") == 0 || strcmp(dbi_col_text(st, 3), "queued") == 0;
      *log = strdup(dbi_col_text(st, 1));
      r = *log != NULL ? 1 : -1;
      *why = NULL;
    }
  } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    r = -1;
  }
  dbi_finalize(st);
  return r;
}

int db_queue_requeue_running(sqlite3 *db)
{
  sqlite3_stmt *st = dbi_prepare(db, "UPDATE submissions SET ci_pending=1 WHERE ci_pending>0 AND ci_pending=2");
  if (st == NULL)
    return -1;
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  if (rc != 0)
    return -1;
  /* runs leased to remote workers stay theirs: their leases expire on their own if the workers are gone */
  st = dbi_prepare(db, "UPDATE submissions SET status='queued', started_at=NULL WHERE status='running' "
                       "AND lease_expires_at IS NULL");
  if (st == NULL)
    return -1;
  rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? sqlite3_changes(db) : -1;
}

static void bind_score(sqlite3_stmt *st, int i, double v)
{
  if (isnan(v))
    sqlite3_bind_null(st, i);
  else
    sqlite3_bind_double(st, i, v);
}

/* Steps ST, a claim's UPDATE ... RETURNING id, sha256, slug, mode, output_path (ST may be NULL), into *J (zeroed
 * first). 1 claimed, 0 none, -1 error (logged as WHAT). Finalizes ST. */
static int claim_row(sqlite3 *db, sqlite3_stmt *st, struct job *j, const char *what)
{
  int r = -1;
  memset(j, 0, sizeof(*j));
  if (st == NULL)
    return -1;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    j->submission_id = sqlite3_column_int64(st, 0);
    util_strlcpy(j->sha256, dbi_col_text(st, 1), sizeof(j->sha256));
    util_strlcpy(j->slug, dbi_col_text(st, 2), sizeof(j->slug));
    util_strlcpy(j->mode, dbi_col_text(st, 3), sizeof(j->mode));
    util_strlcpy(j->output_path, dbi_col_text(st, 4), sizeof(j->output_path));
    r = 1;
    rc = sqlite3_step(st);
  } else if (rc == SQLITE_DONE) {
    r = 0;
  }
  if (rc != SQLITE_DONE) {
    dbi_log(db, what);
    r = -1;
  }
  dbi_finalize(st);
  return r;
}

int db_ci_claim(sqlite3 *db, struct job *j)
{
  /* the caller is the only one computing intervals: a mark "computing" left by a run that could not store its
   * interval (a full disk) is due again, instead of waiting for the next start */
  sqlite3_stmt *st = dbi_prepare(db, "UPDATE submissions SET ci_pending=1 WHERE ci_pending>0 AND ci_pending=2");
  int rc = st != NULL ? dbi_step_done(db, st) : -1;
  dbi_finalize(st);
  if (rc != 0)
    return -1;
  st = dbi_prepare(
    db,
    "UPDATE submissions SET ci_pending=2 WHERE id=(SELECT id FROM submissions WHERE ci_pending>0 AND ci_pending=1 AND "
    "status='scored' ORDER BY id LIMIT 1) RETURNING id, sha256, (SELECT slug FROM challenges WHERE id=challenge_id), "
    "'', ''");
  int r = claim_row(db, st, j, "interval claim");
  j->ci_only = r == 1;
  return r;
}

enum app_status db_ci_store(sqlite3 *db, int64_t submission_id, double lo, double hi)
{
  sqlite3_stmt *st = dbi_prepare(
    db, "UPDATE submissions SET private_ci_lo=?, private_ci_hi=?, ci_pending=0 WHERE id=? AND ci_pending=2");
  if (st == NULL)
    return APP_INTERNAL;
  bind_score(st, 1, isnan(hi) ? NAN : lo); /* both or neither */
  bind_score(st, 2, isnan(lo) ? NAN : hi);
  sqlite3_bind_int64(st, 3, submission_id);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

/* The oldest queued submission that WHERE (SQL, ?2 its parameter) picks, set running (a run of its own: started now,
 * one attempt more, its fence bumped so that no worker's late call counts), into J; RETURNING names the mode and the
 * output path to return. 1 claimed, 0 none, -1 error. */
#define CLAIM_SQL(WHERE, RETURNING)                                                                                    \
  "UPDATE submissions SET status='running', started_at=?1, attempts=attempts+1, fence=fence+1, "                       \
  "lease_expires_at=NULL, worker_node=NULL WHERE id=(SELECT id FROM submissions WHERE status='queued' AND " WHERE      \
  " ORDER BY id LIMIT 1) RETURNING id, sha256, (SELECT slug FROM challenges WHERE id=challenge_id), " RETURNING

static int claim_queued(sqlite3 *db, const char *sql, int64_t now, long long arg, struct job *j, const char *what)
{
  sqlite3_stmt *st = dbi_prepare(db, sql);
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, arg);
  }
  return claim_row(db, st, j, what);
}

int db_queue_claim(sqlite3 *db, int64_t now, int allow_code_runs, struct job *j)
{
  return claim_queued(
    db, CLAIM_SQL("(mode IS NULL OR output_path IS NOT NULL OR ?2)", "coalesce(mode,''), coalesce(output_path,'')"),
    now, allow_code_runs, j, "queue claim");
}

int db_queue_claim_small(sqlite3 *db, int64_t now, long long max_bytes, struct job *j)
{
  return claim_queued(db,
                      CLAIM_SQL("mode IS NULL AND size<=?2 AND challenge_id IN (SELECT id FROM challenges WHERE "
                                "json_extract(metric_json,'$.program') IS NULL)",
                                "'', ''"),
                      now, max_bytes, j, "small-file queue claim");
}

/* The submissions that rank on the board (S a submission, T its team): scored with a public score, not a smoke run,
 * neither disqualified. */
#define BEST_RANKED                                                                                                    \
  "s.status='scored' AND s.public_score IS NOT NULL AND s.mode IS NOT 'smoke' AND s.disqualified_at IS NULL AND "      \
  "t.disqualified_at IS NULL"
/* Each team's best row of challenge ?1 from all its ranked submissions: the earliest submission reaching the team's
 * best score at the leaderboard's precision (ties go to the earlier submission, then the lower id), how many rank,
 * and when the latest was made; the statement ends with the filter on teams. */
#define BEST_INSERT                                                                                                    \
  "INSERT INTO leaderboard_best(challenge_id,team_id,submission_id,score,best_created_at,n_scored,last_at) "           \
  "SELECT challenge_id, team_id, id, public_score, created_at, n, last_at FROM ("                                      \
  "  SELECT s.challenge_id, s.team_id, s.id, s.public_score, s.created_at,"                                            \
  "  row_number() OVER (PARTITION BY s.team_id ORDER BY CASE WHEN c.higher_is_better THEN "                            \
  "    -score_round(s.public_score, c.precision) ELSE score_round(s.public_score, c.precision) END, "                  \
  "    s.created_at, s.id) AS r,"                                                                                      \
  "  count(*) OVER (PARTITION BY s.team_id) AS n, max(s.created_at) OVER (PARTITION BY s.team_id) AS last_at "         \
  "  FROM submissions s JOIN challenges c ON c.id=s.challenge_id JOIN teams t ON t.id=s.team_id "                      \
  "  WHERE s.challenge_id=?1 AND " BEST_RANKED

int db_best_recompute(sqlite3 *db, int64_t challenge_id, int64_t team_id)
{
  int rc = -1;
  sqlite3_stmt *st = dbi_prepare(db, team_id != 0 ? "DELETE FROM leaderboard_best WHERE challenge_id=?1 AND team_id=?2"
                                                  : "DELETE FROM leaderboard_best WHERE challenge_id=?1");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, challenge_id);
  if (team_id != 0)
    sqlite3_bind_int64(st, 2, team_id);
  if (dbi_step_done(db, st) != 0)
    goto out;
  dbi_finalize(st);
  /* one team's rows through the index on (challenge_id, team_id), or every team's */
  st = dbi_prepare(db, team_id != 0 ? BEST_INSERT " AND s.team_id=?2) WHERE r=1" : BEST_INSERT ") WHERE r=1");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, challenge_id);
  if (team_id != 0)
    sqlite3_bind_int64(st, 2, team_id);
  rc = dbi_step_done(db, st) == 0 ? 0 : -1;
out:
  dbi_finalize(st);
  return rc;
}

/* 1 when an entry scored A at A_AT with id A_ID ranks before one scored B (B_AT, B_ID) on a board of precision
 * PREC in the metric's direction HIB: db_best_recompute()'s order (the rounded score, then the earlier, then the
 * lower id). */
static int ranks_before(int hib, int prec, double a, int64_t a_at, int64_t a_id, double b, int64_t b_at, int64_t b_id)
{
  double ka = hib ? -dbi_round(a, prec) : dbi_round(a, prec);
  double kb = hib ? -dbi_round(b, prec) : dbi_round(b, prec);
  if (ka != kb)
    return ka < kb;
  return a_at != b_at ? a_at < b_at : a_id < b_id;
}

/*
 * The team's best row after submission ID, scored for the first time (FIRST), joined the team's scored submissions:
 * updated in place (one more scored, the later last_at, and the new entry when it ranks before the best one in
 * db_best_recompute()'s order), which gives db_best_recompute()'s row without reading the team's other
 * submissions. Recomputed instead when the submission was scored before (its old score may be the best) or another
 * submission of the team is being scored again (a rescoring keeps the old best until it is done). A submission that
 * does not rank (smoke, no public score, disqualified, or its team) leaves the row as it is. 0 or -1.
 */
static int best_add(sqlite3 *db, int64_t id, int first, int64_t challenge_id, int64_t team_id)
{
  int rescoring = 1;
  sqlite3_stmt *st = NULL;
  if (first) {
    st = dbi_prepare(db, "SELECT EXISTS(SELECT 1 FROM submissions WHERE challenge_id=?1 AND team_id=?2 AND "
                         "status IN ('queued','running') AND scored_at IS NOT NULL)");
    if (st == NULL)
      return -1;
    sqlite3_bind_int64(st, 1, challenge_id);
    sqlite3_bind_int64(st, 2, team_id);
    rescoring = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    dbi_finalize(st);
    if (rescoring < 0)
      return -1;
  }
  if (rescoring)
    return db_best_recompute(db, challenge_id, team_id);
  st = dbi_prepare(db, "SELECT s.public_score, s.created_at, c.higher_is_better, c.precision, b.score, "
                       "b.best_created_at, b.submission_id FROM submissions s JOIN teams t ON t.id=s.team_id "
                       "JOIN challenges c ON c.id=s.challenge_id LEFT JOIN leaderboard_best b ON "
                       "b.challenge_id=s.challenge_id AND b.team_id=s.team_id WHERE s.id=? AND " BEST_RANKED);
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, id);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) { /* not ranked: the team's best row stays as it is */
    dbi_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
  }
  double pub = sqlite3_column_double(st, 0);
  int64_t created = sqlite3_column_int64(st, 1);
  int had = sqlite3_column_type(st, 6) != SQLITE_NULL;
  int better =
    !had || ranks_before(sqlite3_column_int(st, 2), sqlite3_column_int(st, 3), pub, created, id,
                         sqlite3_column_double(st, 4), sqlite3_column_int64(st, 5), sqlite3_column_int64(st, 6));
  dbi_finalize(st);
  st = dbi_prepare(db, had ? "UPDATE leaderboard_best SET n_scored=n_scored+1, last_at=max(last_at, ?4), "
                             "submission_id=CASE WHEN ?6 THEN ?3 ELSE submission_id END, "
                             "score=CASE WHEN ?6 THEN ?5 ELSE score END, "
                             "best_created_at=CASE WHEN ?6 THEN ?4 ELSE best_created_at END "
                             "WHERE challenge_id=?1 AND team_id=?2"
                           : "INSERT INTO leaderboard_best(challenge_id,team_id,submission_id,score,best_created_at,"
                             "n_scored,last_at) VALUES(?1, ?2, ?3, ?5, ?4, 1, ?4)");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, challenge_id);
  sqlite3_bind_int64(st, 2, team_id);
  sqlite3_bind_int64(st, 3, id);
  sqlite3_bind_int64(st, 4, created);
  sqlite3_bind_double(st, 5, pub);
  if (had)
    sqlite3_bind_int(st, 6, better);
  rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? 0 : -1;
}

enum app_status db_queue_scored(sqlite3 *db, int64_t submission_id, double score, double pub, double priv, double ci_lo,
                                double ci_hi, int ci_pending, const char *metrics, const char *log, int64_t now)
{
  sqlite3_stmt *st = NULL;
  int first = 0;
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  st = dbi_prepare(db, "SELECT scored_at IS NULL FROM submissions WHERE id=?"); /* never scored before */
  if (st == NULL)
    goto fail;
  sqlite3_bind_int64(st, 1, submission_id);
  first = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
  dbi_finalize(st);
  /* a smoke run keeps its score for the participant, and has no public or private score: never ranked */
  st = dbi_prepare(db, "UPDATE submissions SET status='scored', score=?1, public_score=CASE WHEN mode IS 'smoke' THEN "
                       "NULL ELSE ?2 END, private_score=CASE WHEN mode IS 'smoke' THEN NULL ELSE ?3 END, log=?4, "
                       "error_code=NULL, error_message=NULL, scored_at=?5, private_ci_lo=?6, private_ci_hi=?7, "
                       "stage=NULL, output_path=NULL, metrics=?9, ci_pending=?10 WHERE id=?8 AND status='running' "
                       "RETURNING challenge_id, team_id");
  if (st == NULL)
    goto fail;
  bind_score(st, 1, score);
  bind_score(st, 2, isnan(pub) ? score : pub);
  bind_score(st, 3, priv);
  dbi_bind_text(st, 4, log);
  sqlite3_bind_int64(st, 5, now);
  bind_score(st, 6, ci_lo);
  bind_score(st, 7, ci_hi);
  sqlite3_bind_int64(st, 8, submission_id);
  dbi_bind_text(st, 9, metrics);
  sqlite3_bind_int(st, 10, ci_pending ? 1 : 0);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) { /* no longer running (cancelled or re-queued meanwhile): nothing to record */
    dbi_finalize(st);
    return dbi_finish(db, APP_OK);
  }
  if (rc != SQLITE_ROW)
    goto fail;
  int64_t challenge_id = sqlite3_column_int64(st, 0), team_id = sqlite3_column_int64(st, 1);
  if (sqlite3_step(st) != SQLITE_DONE)
    goto fail;
  dbi_finalize(st);
  st = NULL;
  if (best_add(db, submission_id, first, challenge_id, team_id) != 0)
    goto fail;
  return dbi_finish(db, APP_OK);
fail:
  dbi_finalize(st);
  return dbi_finish(db, APP_INTERNAL);
}

enum app_status db_queue_failed(sqlite3 *db, int64_t submission_id, const char *code, const char *message,
                                const char *log, int64_t now)
{
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  sqlite3_stmt *st =
    dbi_prepare(db, "UPDATE submissions SET status='failed', error_code=?, error_message=?, log=?, "
                    "scored_at=?, stage=NULL, output_path=NULL, lease_expires_at=NULL WHERE id=? AND status='running' "
                    "RETURNING challenge_id, team_id");
  if (st == NULL)
    goto fail;
  dbi_bind_text(st, 1, code);
  dbi_bind_text(st, 2, message);
  dbi_bind_text(st, 3, log);
  sqlite3_bind_int64(st, 4, now);
  sqlite3_bind_int64(st, 5, submission_id);
  int rc = sqlite3_step(st);
  int64_t challenge_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  int64_t team_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
  if (rc == SQLITE_ROW)
    rc = sqlite3_step(st);
  dbi_finalize(st);
  if (rc != SQLITE_DONE)
    goto fail;
  /* A re-scored submission that now fails must leave the team's best row too. */
  if (challenge_id != 0 && db_best_recompute(db, challenge_id, team_id) != 0)
    goto fail;
  return dbi_finish(db, APP_OK);
fail:
  return dbi_finish(db, APP_INTERNAL);
}

/* ---------------------------------------------------------------- leaderboard */

static json_t *leaderboard_row(sqlite3_stmt *st, void *arg)
{
  json_t *o = json_pack("{s:I,s:s,s:o,s:i,s:o}", "rank", (json_int_t)sqlite3_column_int64(st, 4), "name",
                        dbi_col_text(st, 0), "score", dbi_col_score(st, 1, *(const int *)arg), "submissions",
                        sqlite3_column_int(st, 2), "last_at", dbi_col_time(st, 3));
  if (o != NULL && sqlite3_column_type(st, 5) != SQLITE_NULL) /* the secondary metrics of the team's best entry */
    json_object_set_new(o, "metrics", db_metrics_values(dbi_col_text(st, 5), "public"));
  return o;
}

json_t *db_leaderboard(sqlite3 *db, const struct challenge *c)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT t.name, b.score, b.n_scored, b.last_at, row_number() OVER (ORDER BY CASE "
                                     "WHEN ?2 THEN -score_round(b.score,?3) "
                                     "ELSE score_round(b.score,?3) END, b.best_created_at, b.team_id) AS rank, "
                                     "(SELECT s.metrics FROM submissions s WHERE s.id=b.submission_id) "
                                     "FROM leaderboard_best b JOIN teams t ON t.id=b.team_id "
                                     "WHERE b.challenge_id=?1 AND t.disqualified_at IS NULL ORDER BY rank LIMIT ?4");
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_int(st, 2, c->higher_is_better);
    sqlite3_bind_int(st, 3, c->precision);
    sqlite3_bind_int(st, 4, DB_LEADERBOARD_MAX_ROWS);
  }
  return dbi_rows(db, st, leaderboard_row, (void *)&c->precision);
}
