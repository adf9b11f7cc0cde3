/* db_jury.c: the SQL of the end of a challenge and of its organizers' and jury's actions: final selection, the
 * final ranking on the private split, disqualification, notes, re-scoring, the queue view, exports, phase edits,
 * cancellation and publication of the frozen ranking. Every action that changes something writes its audit
 * entry in the same transaction. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_internal.h"
#include "def.h"
#include "multirank.h"
#include "util.h"

static enum app_status audit(sqlite3 *db, const struct user *actor, const char *action, const struct challenge *c,
                             const char *target, const char *reason, json_t *details, int64_t now)
{
  enum app_status s =
    db_audit_append(db, actor->username, action, c != NULL ? c->slug : NULL, target, reason, details, now);
  json_decref(details);
  return s;
}

/* ---------------------------------------------------------------- selection */

enum app_status db_selection_set(sqlite3 *db, const struct challenge *c, const struct phase *ph, int64_t team_id,
                                 const int64_t *ids, size_t n, int64_t now)
{
  sqlite3_stmt *st = NULL;
  enum app_status s = APP_INTERNAL;
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  st = dbi_prepare(db, "DELETE FROM selections WHERE team_id=? AND phase=?");
  if (st == NULL)
    goto out;
  sqlite3_bind_int64(st, 1, team_id);
  dbi_bind_text(st, 2, ph->name);
  if (dbi_step_done(db, st) != 0)
    goto out;
  dbi_finalize(st);
  st = dbi_prepare(db, "INSERT INTO selections(challenge_id,team_id,submission_id,phase,selected_at) "
                       "SELECT challenge_id, team_id, id, phase, ? FROM submissions WHERE id=? AND team_id=? "
                       "AND challenge_id=? AND phase=? AND status='scored' AND mode IS NOT 'smoke'");
  if (st == NULL)
    goto out;
  for (size_t i = 0; i < n; i++) {
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, ids[i]);
    sqlite3_bind_int64(st, 3, team_id);
    sqlite3_bind_int64(st, 4, c->id);
    dbi_bind_text(st, 5, ph->name);
    int rc = dbi_step_done(db, st);
    if (rc == SQLITE_CONSTRAINT || (rc == 0 && sqlite3_changes(db) == 0)) {
      s = APP_BAD_REQUEST; /* not the team's scored submission of this phase, or listed twice */
      goto out;
    }
    if (rc != 0)
      goto out;
  }
  s = APP_OK;
out:
  dbi_finalize(st);
  return dbi_finish(db, s);
}

static json_t *id_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  return json_integer(sqlite3_column_int64(st, 0));
}

json_t *db_selection_get(sqlite3 *db, int64_t team_id, const char *phase)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT submission_id FROM selections WHERE team_id=? AND (?2 IS NULL OR "
                                     "phase=?2) ORDER BY submission_id");
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, team_id);
    dbi_bind_text(st, 2, phase);
  }
  return dbi_rows(db, st, id_row, NULL);
}

/* ---------------------------------------------------------------- the final ranking */

/* Fills rank and rank_range of ROWS (non-disqualified first, already sorted) from their 95 % intervals. */
static void rank_rows(json_t *rows, int higher)
{
  size_t n = json_array_size(rows), ranked = 0;
  double *lo = calloc(n + 1, sizeof(double)), *hi = calloc(n + 1, sizeof(double));
  if (lo == NULL || hi == NULL)
    goto out;
  for (size_t i = 0; i < n; i++) {
    json_t *r = json_array_get(rows, i);
    if (json_is_true(json_object_get(r, "disqualified")))
      continue;
    json_t *ci = json_object_get(r, "ci");
    double v = json_number_value(json_object_get(r, "private_score"));
    lo[ranked] = json_is_array(ci) ? json_number_value(json_array_get(ci, 0)) : v;
    hi[ranked] = json_is_array(ci) ? json_number_value(json_array_get(ci, 1)) : v;
    json_object_set_new(r, "rank", json_integer((json_int_t)ranked + 1));
    ranked++;
  }
  for (size_t i = 0; i < ranked; i++) {
    size_t surely_better = 0, surely_worse = 0;
    for (size_t j = 0; j < ranked; j++) {
      if (j == i)
        continue;
      if (higher ? lo[j] > hi[i] : hi[j] < lo[i])
        surely_better++;
      if (higher ? hi[j] < lo[i] : lo[j] > hi[i])
        surely_worse++;
    }
    json_object_set_new(json_array_get(rows, i), "rank_range",
                        json_pack("[I,I]", (json_int_t)(surely_better + 1), (json_int_t)(ranked - surely_worse)));
  }
out:
  free(lo);
  free(hi);
}

static json_t *ranking_row(sqlite3_stmt *st, void *arg)
{
  int precision = *(const int *)arg;
  json_t *ci = json_null();
  if (sqlite3_column_type(st, 7) != SQLITE_NULL && sqlite3_column_type(st, 8) != SQLITE_NULL)
    ci = json_pack("[f,f]", dbi_round(sqlite3_column_double(st, 7), precision),
                   dbi_round(sqlite3_column_double(st, 8), precision));
  json_t *o =
    json_pack("{s:n,s:s,s:I,s:b,s:I,s:b,s:o,s:o,s:o,s:n,s:o,s:b}", "rank", "team", dbi_col_text(st, 2), "team_id",
              (json_int_t)sqlite3_column_int64(st, 1), "disqualified", sqlite3_column_int(st, 3), "submission_id",
              (json_int_t)sqlite3_column_int64(st, 0), "selected", sqlite3_column_int(st, 4), "public_score",
              dbi_col_score(st, 5, precision), "private_score", dbi_col_score(st, 6, precision), "ci", ci, "rank_range",
              "created_at", dbi_col_time(st, 9), "log_available", sqlite3_column_int(st, 10));
  if (o != NULL && sqlite3_column_type(st, 11) != SQLITE_NULL) /* a code run: the runtime it ran on */
    json_object_set_new(o, "runtime_sha256", json_string(dbi_col_text(st, 11)));
  if (o != NULL && sqlite3_column_type(st, 12) != SQLITE_NULL) { /* secondary metrics: the private split's */
    json_object_set_new(o, "metrics", db_metrics_values(dbi_col_text(st, 12), "private"));
    json_object_set_new(o, "public_metrics", db_metrics_values(dbi_col_text(st, 12), "public"));
  }
  return o;
}

json_t *db_final_ranking(sqlite3 *db, const struct challenge *c)
{
  /* Per team: its selected submissions (its best public one when it selected none), the best private score
   * among them. Disqualified submissions count only for a team that has nothing else, so that every team and
   * disqualification stays visible to the jury: such rows, and disqualified teams, come last without a rank. */
  sqlite3_stmt *st = dbi_prepare(
    db,
    /* only the submissions that can matter: the selected ones, each team's leaderboard best (the first by the
     * same order as pub_rank below, kept by db_best_recompute), and every submission of a team whose best is not
     * a scored candidate (a disqualified team, one with disqualified submissions only, one being re-scored):
     * a million submissions cost what their teams' handful do */
    "WITH ids AS (SELECT submission_id AS id FROM selections WHERE challenge_id=?1"
    "  UNION SELECT submission_id FROM leaderboard_best WHERE challenge_id=?1"
    "  UNION SELECT s.id FROM submissions s WHERE s.challenge_id=?1 AND s.team_id IN (SELECT t.id FROM teams t "
    "    WHERE t.challenge_id=?1 AND NOT EXISTS(SELECT 1 FROM leaderboard_best b JOIN submissions bs "
    "    ON bs.id=b.submission_id WHERE b.challenge_id=?1 AND b.team_id=t.id AND bs.status='scored' "
    "    AND bs.private_score IS NOT NULL))),"
    " cand AS (SELECT s.id, s.team_id, s.public_score, s.private_score, s.private_ci_lo, s.private_ci_hi,"
    "  s.created_at, s.log IS NOT NULL AS has_log, s.disqualified_at IS NOT NULL AS dq, s.runtime_sha256, s.metrics,"
    "  EXISTS(SELECT 1 FROM selections x WHERE x.submission_id=s.id) AS selected,"
    "  row_number() OVER (PARTITION BY s.team_id ORDER BY s.disqualified_at IS NOT NULL, CASE WHEN ?2 "
    "    THEN -score_round(s.public_score,?3) ELSE score_round(s.public_score,?3) END, s.created_at, s.id) AS "
    "pub_rank "
    "  FROM ids JOIN submissions s ON s.id=ids.id WHERE s.challenge_id=?1 AND s.status='scored' "
    "  AND s.private_score IS NOT NULL AND s.public_score IS NOT NULL),"
    " sel AS (SELECT DISTINCT team_id FROM cand WHERE selected AND NOT dq),"
    " pool AS (SELECT * FROM cand WHERE (selected AND NOT dq) OR "
    "   (pub_rank=1 AND team_id NOT IN (SELECT team_id FROM sel))),"
    " final AS (SELECT pool.*, row_number() OVER (PARTITION BY team_id ORDER BY dq, CASE WHEN ?2 "
    "   THEN -score_round(private_score,?3) ELSE score_round(private_score,?3) END, created_at, id) AS r FROM pool) "
    "SELECT f.id, f.team_id, t.name, t.disqualified_at IS NOT NULL OR f.dq, f.selected, f.public_score,"
    "  f.private_score, f.private_ci_lo, f.private_ci_hi, f.created_at, f.has_log, f.runtime_sha256, f.metrics "
    "FROM final f JOIN teams t ON t.id=f.team_id WHERE f.r=1 "
    "ORDER BY t.disqualified_at IS NOT NULL OR f.dq, CASE WHEN ?2 THEN -score_round(f.private_score,?3) "
    "  ELSE score_round(f.private_score,?3) END, f.created_at, f.id");
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_int(st, 2, c->higher_is_better);
    sqlite3_bind_int(st, 3, c->precision);
  }
  json_t *rows = dbi_rows(db, st, ranking_row, (void *)&c->precision);
  if (rows != NULL)
    rank_rows(rows, c->higher_is_better);
  /* several metrics (docs/bundle.md): the challenge's rule orders the teams; the rank ranges, drawn from the
   * primary metric's intervals, then say nothing about the rank */
  int reordered = rows != NULL ? multirank_apply(c, rows, "private_score") : 0;
  if (reordered < 0) {
    json_decref(rows);
    return NULL;
  }
  size_t i;
  json_t *row;
  if (reordered)
    json_array_foreach(rows, i, row) json_object_set_new(row, "rank_range", json_null());
  return rows;
}

static json_t *disqualified_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  return json_pack("{s:s,s:I,s:s,s:s,s:o}", "kind", dbi_col_text(st, 0), "id", (json_int_t)sqlite3_column_int64(st, 1),
                   "team", dbi_col_text(st, 2), "reason", dbi_col_text(st, 3), "at", dbi_col_time(st, 4));
}

json_t *db_disqualified_list(sqlite3 *db, const struct challenge *c)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT 'submission', s.id, t.name, s.disqualify_reason, s.disqualified_at "
                                     "FROM submissions s JOIN teams t ON t.id=s.team_id WHERE s.challenge_id=?1 "
                                     "AND s.disqualified_at IS NOT NULL UNION ALL SELECT 'team', t.id, t.name, "
                                     "t.disqualify_reason, t.disqualified_at FROM teams t WHERE t.challenge_id=?1 "
                                     "AND t.disqualified_at IS NOT NULL ORDER BY 5");
  if (st != NULL)
    sqlite3_bind_int64(st, 1, c->id);
  return dbi_rows(db, st, disqualified_row, NULL);
}

static json_t *int_or_null(sqlite3_stmt *st, int col)
{
  return sqlite3_column_type(st, col) == SQLITE_NULL ? json_null() : json_integer(sqlite3_column_int64(st, col));
}

static json_t *note_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  return json_pack("{s:I,s:s,s:s,s:o,s:o,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0), "author",
                   dbi_col_text(st, 1), "text", dbi_col_text(st, 4), "created_at", dbi_col_time(st, 5), "submission_id",
                   int_or_null(st, 2), "team_id", int_or_null(st, 3));
}

json_t *db_notes(sqlite3 *db, const struct challenge *c)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT n.id, u.username, n.submission_id, n.team_id, n.text, n.created_at "
                                     "FROM notes n JOIN users u ON u.id=n.author_id WHERE n.challenge_id=? "
                                     "ORDER BY n.id");
  if (st != NULL)
    sqlite3_bind_int64(st, 1, c->id);
  return dbi_rows(db, st, note_row, NULL);
}

/* ---------------------------------------------------------------- jury actions */

/* The challenge and team of submission ID, when it belongs to challenge C (or to any when C is NULL). */
static int submission_owner(sqlite3 *db, int64_t id, int64_t *challenge_id, int64_t *team_id)
{
  int r = -1;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT challenge_id, team_id FROM submissions WHERE id=?");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *challenge_id = sqlite3_column_int64(st, 0);
    *team_id = sqlite3_column_int64(st, 1);
    r = 1;
  } else if (rc == SQLITE_DONE) {
    r = 0;
  }
  dbi_finalize(st);
  return r;
}

static int fill_slug(sqlite3_stmt *st, void *arg)
{
  return util_strlcpy(arg, dbi_col_text(st, 0), 64);
}

enum app_status db_submission_challenge(sqlite3 *db, int64_t id, char slug[64])
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT c.slug FROM submissions s JOIN challenges c ON c.id=s.challenge_id "
                                     "WHERE s.id=?");
  if (st != NULL)
    sqlite3_bind_int64(st, 1, id);
  return dbi_row(db, st, fill_slug, slug, "submission's challenge");
}

enum app_status db_disqualify(sqlite3 *db, const struct challenge *c, int team, int64_t id, int on,
                              const struct user *actor, const char *reason, int64_t now)
{
  char target[48];
  int64_t challenge_id = c->id, team_id = id;
  sqlite3_stmt *st = NULL;
  enum app_status s = APP_INTERNAL;
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  if (!team) {
    int found = submission_owner(db, id, &challenge_id, &team_id);
    if (found != 1 || challenge_id != c->id) {
      s = found < 0 ? APP_INTERNAL : APP_NOT_FOUND;
      goto out;
    }
  }
  st = dbi_prepare(db, team ? "UPDATE teams SET disqualified_at=?1, disqualify_reason=?2 WHERE id=?3 AND "
                              "challenge_id=?4"
                            : "UPDATE submissions SET disqualified_at=?1, disqualify_reason=?2 WHERE id=?3 AND "
                              "challenge_id=?4");
  if (st == NULL)
    goto out;
  if (on)
    sqlite3_bind_int64(st, 1, now);
  else
    sqlite3_bind_null(st, 1);
  dbi_bind_text(st, 2, on ? reason : NULL);
  sqlite3_bind_int64(st, 3, id);
  sqlite3_bind_int64(st, 4, c->id);
  if (dbi_step_done(db, st) != 0)
    goto out;
  if (sqlite3_changes(db) == 0) {
    s = APP_NOT_FOUND;
    goto out;
  }
  if (db_best_recompute(db, c->id, team_id) != 0)
    goto out;
  snprintf(target, sizeof(target), "%s:%lld", team ? "team" : "submission", (long long)id);
  s = audit(db, actor,
            on ? (team ? "team.disqualify" : "submission.disqualify")
               : (team ? "team.reinstate" : "submission.reinstate"),
            c, target, reason, NULL, now);
out:
  dbi_finalize(st);
  return dbi_finish(db, s);
}

enum app_status db_note_add(sqlite3 *db, const struct challenge *c, const struct user *actor, int64_t submission_id,
                            int64_t team_id, const char *text, int64_t now, int64_t *id)
{
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  enum app_status s = APP_INTERNAL;
  sqlite3_stmt *st = dbi_prepare(db, "INSERT INTO notes(challenge_id,author_id,submission_id,team_id,text,created_at)"
                                     " VALUES(?,?,?,?,?,?)");
  if (st == NULL)
    goto out;
  sqlite3_bind_int64(st, 1, c->id);
  sqlite3_bind_int64(st, 2, actor->id);
  if (submission_id > 0)
    sqlite3_bind_int64(st, 3, submission_id);
  else
    sqlite3_bind_null(st, 3);
  if (team_id > 0)
    sqlite3_bind_int64(st, 4, team_id);
  else
    sqlite3_bind_null(st, 4);
  dbi_bind_text(st, 5, text);
  sqlite3_bind_int64(st, 6, now);
  if (dbi_step_done(db, st) != 0)
    goto out;
  *id = sqlite3_last_insert_rowid(db);
  s = audit(db, actor, "note.add", c, NULL, text,
            json_pack("{s:I,s:I}", "submission_id", (json_int_t)submission_id, "team_id", (json_int_t)team_id), now);
out:
  dbi_finalize(st);
  return dbi_finish(db, s);
}

enum app_status db_rescore(sqlite3 *db, const struct challenge *c, int64_t submission_id, const char *phase,
                           const struct user *actor, const char *reason, int64_t now, int *queued)
{
  char target[48] = "";
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  enum app_status s = APP_INTERNAL;
  sqlite3_stmt *st = dbi_prepare(
    db,
    "UPDATE submissions SET status='queued', started_at=NULL WHERE challenge_id=?1 AND status IN ('scored','failed') "
    "AND (?2 = 0 OR id=?2) AND (?3 IS NULL OR phase=?3) AND (?2 <> 0 OR mode IS NOT 'smoke')");
  if (st == NULL)
    goto out;
  sqlite3_bind_int64(st, 1, c->id);
  sqlite3_bind_int64(st, 2, submission_id);
  dbi_bind_text(st, 3, phase);
  if (dbi_step_done(db, st) != 0)
    goto out;
  *queued = sqlite3_changes(db);
  if (submission_id > 0 && *queued == 0) {
    s = APP_NOT_FOUND;
    goto out;
  }
  if (submission_id > 0)
    snprintf(target, sizeof(target), "submission:%lld", (long long)submission_id);
  s = audit(db, actor, "rescore", c, target[0] != '\0' ? target : NULL, reason,
            json_pack("{s:s?,s:i}", "phase", phase, "queued", *queued), now);
out:
  dbi_finalize(st);
  return dbi_finish(db, s);
}

enum app_status db_cancel(sqlite3 *db, int64_t submission_id, const struct user *viewer, const struct challenge *c,
                          const char *reason, int64_t now)
{
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  enum app_status s = APP_INTERNAL;
  sqlite3_stmt *st = dbi_prepare(
    db, "UPDATE submissions SET status='cancelled', stage=NULL, lease_expires_at=NULL, run_deadline_at=NULL "
        "WHERE id=?1 AND status IN ('queued','running') AND (CASE WHEN ?3 > 0 THEN challenge_id=?3 "
        "ELSE team_id IN (SELECT team_id FROM team_members WHERE user_id=?2) END)");
  if (st == NULL)
    goto out;
  sqlite3_bind_int64(st, 1, submission_id);
  sqlite3_bind_int64(st, 2, viewer->id);
  sqlite3_bind_int64(st, 3, c != NULL ? c->id : 0);
  if (dbi_step_done(db, st) != 0)
    goto out;
  if (sqlite3_changes(db) == 0) {
    s = APP_NOT_CANCELLABLE;
    goto out;
  }
  s = APP_OK;
  if (c != NULL) {
    char target[48];
    snprintf(target, sizeof(target), "submission:%lld", (long long)submission_id);
    s = audit(db, viewer, "cancel", c, target, reason, json_object(), now);
  }
out:
  dbi_finalize(st);
  return dbi_finish(db, s);
}

/* ---------------------------------------------------------------- organizers */

static json_t *failure_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  return json_pack("{s:I,s:s,s:{s:s,s:s},s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0), "team",
                   dbi_col_text(st, 1), "error", "code", dbi_col_text(st, 2), "message", dbi_col_text(st, 3),
                   "created_at", dbi_col_time(st, 4));
}

json_t *db_queue_stats(sqlite3 *db, const struct challenge *c)
{
  json_t *o = json_pack("{s:i,s:i,s:i,s:i,s:i,s:n}", "queued", 0, "running", 0, "scored", 0, "failed", 0, "cancelled",
                        0, "oldest_queued_at");
  /* the counts the triggers keep (schema 20): no submission is read */
  sqlite3_stmt *st = dbi_prepare(db, "SELECT status, n FROM submission_counts WHERE challenge_id=?");
  if (st == NULL || o == NULL)
    goto fail;
  sqlite3_bind_int64(st, 1, c->id);
  int rc;
  for (rc = sqlite3_step(st); rc == SQLITE_ROW; rc = sqlite3_step(st))
    json_object_set_new(o, dbi_col_text(st, 0), json_integer(sqlite3_column_int64(st, 1)));
  if (rc != SQLITE_DONE)
    goto fail;
  dbi_finalize(st);
  /* the oldest queued is the first queued by id (ids grow with time); the index on (challenge_id, status, id) */
  st =
    dbi_prepare(db, "SELECT created_at FROM submissions WHERE challenge_id=? AND status='queued' ORDER BY id LIMIT 1");
  if (st == NULL)
    goto fail;
  sqlite3_bind_int64(st, 1, c->id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    json_object_set_new(o, "oldest_queued_at", dbi_col_time(st, 0));
  else if (rc != SQLITE_DONE)
    goto fail;
  dbi_finalize(st);
  st = dbi_prepare(db, "SELECT s.id, t.name, s.error_code, s.error_message, s.created_at FROM submissions s "
                       "JOIN teams t ON t.id=s.team_id WHERE s.challenge_id=? AND s.status='failed' "
                       "ORDER BY s.id DESC LIMIT 50");
  if (st != NULL)
    sqlite3_bind_int64(st, 1, c->id);
  json_t *failures = dbi_rows(db, st, failure_row, NULL);
  if (failures == NULL) {
    json_decref(o);
    return NULL;
  }
  json_object_set_new(o, "recent_failures", failures);
  return o;
fail:
  dbi_finalize(st);
  json_decref(o);
  return NULL;
}

static int fill_log(sqlite3_stmt *st, void *arg)
{
  *(json_t **)arg = json_pack("{s:I,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0), "log", dbi_col_text(st, 1));
  return *(json_t **)arg != NULL ? 0 : -1;
}

enum app_status db_submission_log(sqlite3 *db, int64_t id, json_t **out)
{
  *out = NULL;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT id, log FROM submissions WHERE id=?");
  if (st != NULL)
    sqlite3_bind_int64(st, 1, id);
  return dbi_row(db, st, fill_log, out, "submission log");
}

static json_t *export_row(sqlite3_stmt *st, void *arg)
{
  int precision = *(const int *)arg;
  return json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:I,s:s,s:s,s:b}", "id",
                   (json_int_t)sqlite3_column_int64(st, 0), "team", dbi_col_text(st, 1), "user", dbi_col_text(st, 2),
                   "phase", dbi_col_text(st, 3), "status", dbi_col_text(st, 4), "public_score",
                   dbi_col_score(st, 5, precision), "private_score", dbi_col_score(st, 6, precision), "created_at",
                   dbi_col_time(st, 7), "scored_at", dbi_col_time(st, 8), "description", dbi_col_text(st, 9), "size",
                   (json_int_t)sqlite3_column_int64(st, 10), "sha256", dbi_col_text(st, 11), "error_code",
                   dbi_col_text(st, 12), "disqualified", sqlite3_column_int(st, 13));
}

json_t *db_export_submissions(sqlite3 *db, const struct challenge *c, int64_t from_id, int newest_first, int limit)
{
  /* two texts, one per order: each reads the index on (challenge_id, id) from FROM_ID on */
  sqlite3_stmt *st = dbi_prepare(
    db, newest_first ? "SELECT s.id, t.name, u.username, s.phase, s.status, s.public_score, s.private_score, "
                       "s.created_at, s.scored_at, s.description, s.size, s.sha256, s.error_code, "
                       "s.disqualified_at IS NOT NULL FROM submissions s JOIN teams t ON t.id=s.team_id "
                       "JOIN users u ON u.id=s.user_id WHERE s.challenge_id=? AND s.id<? ORDER BY s.id DESC LIMIT ?"
                     : "SELECT s.id, t.name, u.username, s.phase, s.status, s.public_score, s.private_score, "
                       "s.created_at, s.scored_at, s.description, s.size, s.sha256, s.error_code, "
                       "s.disqualified_at IS NOT NULL FROM submissions s JOIN teams t ON t.id=s.team_id "
                       "JOIN users u ON u.id=s.user_id WHERE s.challenge_id=? AND s.id>? ORDER BY s.id LIMIT ?");
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_int64(st, 2, newest_first && from_id <= 0 ? INT64_MAX : from_id);
    sqlite3_bind_int(st, 3, limit);
  }
  return dbi_rows(db, st, export_row, (void *)&c->precision);
}

int64_t db_submission_total(sqlite3 *db, const struct challenge *c)
{
  int64_t n = -1;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT coalesce(sum(n), 0) FROM submission_counts WHERE challenge_id=?");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, c->id);
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  dbi_finalize(st);
  return n;
}

enum app_status db_phase_update(sqlite3 *db, const struct challenge *c, int idx, const struct phase *p,
                                const struct user *actor, const char *reason, int64_t now)
{
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  enum app_status s = APP_INTERNAL;
  char sql[768];
  size_t ncols = 0;
  const char *cols = def_phase_sql_columns(&ncols);
  sqlite3_stmt *st = NULL;
  if (util_fmt(sql, sizeof(sql), "UPDATE phases SET (%s)=(%s) WHERE challenge_id=? AND idx=?", cols,
               def_phase_sql_marks()) != 0)
    goto out;
  st = dbi_prepare(db, sql);
  if (st == NULL)
    goto out;
  def_phase_bind(st, 1, p);
  sqlite3_bind_int64(st, (int)ncols + 1, c->id);
  sqlite3_bind_int(st, (int)ncols + 2, idx);
  if (dbi_step_done(db, st) != 0)
    goto out;
  s = audit(db, actor, "phase.update", c, p->name, reason, def_phase_json(p), now);
out:
  dbi_finalize(st);
  return dbi_finish(db, s);
}

enum app_status db_role_set(sqlite3 *db, const char *username, enum app_role role, const struct user *actor,
                            const char *reason, int64_t now)
{
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  enum app_status s = APP_INTERNAL;
  sqlite3_stmt *st = dbi_prepare(db, "UPDATE users SET role=? WHERE username=?");
  if (st == NULL)
    goto out;
  dbi_bind_text(st, 1, app_role_name(role));
  dbi_bind_text(st, 2, username);
  if (dbi_step_done(db, st) != 0)
    goto out;
  if (sqlite3_changes(db) == 0) {
    s = APP_NOT_FOUND;
    goto out;
  }
  s = audit(db, actor, "user.role", NULL, username, reason, json_pack("{s:s}", "role", app_role_name(role)), now);
out:
  dbi_finalize(st);
  return dbi_finish(db, s);
}

/* ---------------------------------------------------------------- publication */

enum app_status db_publish(sqlite3 *db, const struct challenge *c, const char *ranking, const char *sig,
                           const struct user *actor, const char *reason, int64_t now)
{
  char sha[65];
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  enum app_status s = APP_INTERNAL;
  sqlite3_stmt *st = dbi_prepare(db, "UPDATE challenges SET published_at=?, ranking_json=?, ranking_sig=? "
                                     "WHERE id=? AND published_at IS NULL");
  if (st == NULL)
    goto out;
  sqlite3_bind_int64(st, 1, now);
  dbi_bind_text(st, 2, ranking);
  dbi_bind_text(st, 3, sig);
  sqlite3_bind_int64(st, 4, c->id);
  if (dbi_step_done(db, st) != 0)
    goto out;
  if (sqlite3_changes(db) == 0) {
    s = APP_PUBLISHED;
    goto out;
  }
  util_sha256_hex(ranking, strlen(ranking), sha);
  s = audit(db, actor, "publish", c, NULL, reason, json_pack("{s:s}", "ranking_sha256", sha), now);
out:
  dbi_finalize(st);
  return dbi_finish(db, s);
}

enum app_status db_ranking_get(sqlite3 *db, const struct challenge *c, char **ranking, char **sig)
{
  enum app_status s = APP_NOT_FOUND;
  *ranking = *sig = NULL;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT ranking_json, ranking_sig FROM challenges WHERE id=? AND "
                                     "published_at IS NOT NULL AND ranking_json IS NOT NULL");
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int64(st, 1, c->id);
  if (sqlite3_step(st) == SQLITE_ROW) {
    *ranking = strdup(dbi_col_text(st, 0));
    *sig = strdup(dbi_col_text(st, 1));
    s = (*ranking != NULL && *sig != NULL) ? APP_OK : APP_INTERNAL;
  }
  dbi_finalize(st);
  return s;
}
