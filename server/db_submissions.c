/* db_submissions.c: the SQL of submissions (db.h): storage and quotas, the insertion of an upload (with its
 * idempotency key), one submission and a team's list as JSON. */
#include <string.h>

#include "db.h"
#include "db_internal.h"
#include "util.h"

/* ---------------------------------------------------------------- submissions */

enum app_status db_storage_used(sqlite3 *db, int64_t challenge_id, int64_t team_id, int64_t *team_bytes,
                                int64_t *challenge_bytes)
{
  sqlite3_stmt *st =
    dbi_prepare(db, "SELECT coalesce(sum(CASE WHEN team_id=?2 THEN size END),0), coalesce(sum(size),0) "
                    "FROM submissions WHERE challenge_id=?1");
  enum app_status s = APP_INTERNAL;
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int64(st, 1, challenge_id);
  sqlite3_bind_int64(st, 2, team_id);
  if (sqlite3_step(st) == SQLITE_ROW) {
    *team_bytes = sqlite3_column_int64(st, 0);
    *challenge_bytes = sqlite3_column_int64(st, 1);
    s = APP_OK;
  } else {
    dbi_log(db, "storage used");
  }
  dbi_finalize(st);
  return s;
}

int db_quota_exhausted(const struct quota *q)
{
  return (q->max_per_day > 0 && q->used_today >= q->max_per_day) || (q->max_total > 0 && q->used_total >= q->max_total);
}

enum app_status db_quota(sqlite3 *db, int64_t challenge_id, int64_t team_id, const struct phase *ph, int64_t now,
                         struct quota *q)
{
  int64_t day_start = now - (now % 86400);
  sqlite3_stmt *st = dbi_prepare(db, "SELECT count(*), coalesce(sum(created_at>=?),0) FROM submissions "
                                     "WHERE challenge_id=? AND team_id=? AND phase=? "
                                     "AND status NOT IN ('failed','cancelled') AND mode IS NOT 'smoke'");
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int64(st, 1, day_start);
  sqlite3_bind_int64(st, 2, challenge_id);
  sqlite3_bind_int64(st, 3, team_id);
  dbi_bind_text(st, 4, ph->name);
  enum app_status s = APP_INTERNAL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    q->used_total = sqlite3_column_int(st, 0);
    q->used_today = sqlite3_column_int(st, 1);
    q->max_per_day = ph->max_per_day;
    q->max_total = ph->max_total;
    q->resets_at = day_start + 86400;
    s = APP_OK;
  }
  dbi_finalize(st);
  return s;
}

int db_submission_by_key(sqlite3 *db, int64_t challenge_id, int64_t user_id, const char *key, int64_t *id, char *status,
                         size_t statuslen)
{
  int r = -1;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT id,status FROM submissions WHERE challenge_id=? AND user_id=? "
                                     "AND idempotency_key=?");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, challenge_id);
  sqlite3_bind_int64(st, 2, user_id);
  dbi_bind_text(st, 3, key);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *id = sqlite3_column_int64(st, 0);
    util_strlcpy(status, dbi_col_text(st, 1), statuslen);
    r = 1;
  } else if (rc == SQLITE_DONE) {
    r = 0;
  }
  dbi_finalize(st);
  return r;
}

enum app_status db_submission_insert(sqlite3 *db, const struct new_submission *s, int64_t now, db_commit_hook hook,
                                     void *hook_arg, int64_t *id, int *replayed)
{
  enum app_status rc = APP_INTERNAL;
  sqlite3_stmt *st = NULL;
  struct quota q;
  char status[16];
  *replayed = 0;
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  if (s->idempotency_key != NULL) {
    int found = db_submission_by_key(db, s->challenge_id, s->user_id, s->idempotency_key, id, status, sizeof(status));
    if (found < 0)
      goto fail;
    if (found == 1) {
      *replayed = 1;
      rc = APP_OK;
      goto fail; /* nothing to write: roll back the empty transaction */
    }
  }
  struct team team;
  if (db_team_of_user(db, s->challenge_id, s->user_id, 1, now, &team) != 1)
    goto fail;
  if (s->mode != NULL && strcmp(s->mode, "smoke") == 0) { /* smoke runs: their own daily cap, not the quota */
    int used = db_smoke_used(db, s->challenge_id, team.id, now);
    if (used < 0)
      goto fail;
    if (used >= s->smoke_per_day) {
      rc = APP_QUOTA_EXCEEDED;
      goto fail;
    }
  } else {
    if (db_quota(db, s->challenge_id, team.id, s->phase, now, &q) != APP_OK)
      goto fail;
    if (db_quota_exhausted(&q)) {
      rc = APP_QUOTA_EXCEEDED;
      goto fail;
    }
  }
  if (s->max_team_bytes > 0 || s->max_challenge_bytes > 0) { /* checked and written under the same write lock */
    int64_t team_bytes = 0, all_bytes = 0;
    if (db_storage_used(db, s->challenge_id, team.id, &team_bytes, &all_bytes) != APP_OK)
      goto fail;
    if ((s->max_team_bytes > 0 && team_bytes + s->size > s->max_team_bytes) ||
        (s->max_challenge_bytes > 0 && all_bytes + s->size > s->max_challenge_bytes)) {
      rc = APP_STORAGE_EXCEEDED;
      goto fail;
    }
  }
  rc = hook != NULL ? hook(hook_arg) : APP_OK;
  if (rc != APP_OK)
    goto fail;
  rc = APP_INTERNAL;
  st = dbi_prepare(db, "INSERT INTO submissions(challenge_id,user_id,phase,sha256,size,description,idempotency_key,"
                       "status,created_at,team_id,mode,stage) VALUES(?,?,?,?,?,?,?,'queued',?,?,?,?)");
  if (st == NULL)
    goto fail;
  sqlite3_bind_int64(st, 1, s->challenge_id);
  sqlite3_bind_int64(st, 2, s->user_id);
  dbi_bind_text(st, 3, s->phase->name);
  dbi_bind_text(st, 4, s->sha256);
  sqlite3_bind_int64(st, 5, s->size);
  dbi_bind_text(st, 6, s->description != NULL ? s->description : "");
  dbi_bind_text(st, 7, s->idempotency_key);
  sqlite3_bind_int64(st, 8, now);
  sqlite3_bind_int64(st, 9, team.id);
  dbi_bind_text(st, 10, s->mode);
  dbi_bind_text(st, 11, s->mode != NULL ? "queued" : NULL);
  if (dbi_step_done(db, st) != 0)
    goto fail;
  *id = sqlite3_last_insert_rowid(db);
  dbi_finalize(st);
  st = NULL;
  return dbi_finish(db, APP_OK);
fail:
  dbi_finalize(st);
  return dbi_finish(db, rc);
}

#define SUBMISSION_COLS                                                                                                \
  "s.id,c.slug,s.status,s.public_score,s.private_score,s.error_code,s.error_message,s.created_at,s.scored_at,"         \
  "s.description,s.size,s.sha256,c.precision,s.team_id,s.phase,t.name,s.disqualified_at IS NOT NULL,"                  \
  "s.private_ci_lo,s.private_ci_hi,s.mode,s.stage,s.run_wall_ms,s.run_maxrss_kb,s.score,s.runtime_sha256,s."           \
  "metrics," DBI_SQL_RESULTS_HIDDEN
#define SUBMISSION_FROM " FROM submissions s JOIN challenges c ON c.id=s.challenge_id JOIN teams t ON t.id=s.team_id "

json_t *db_metrics_values(const char *text, const char *split)
{
  json_t *all = text != NULL && text[0] != '\0' ? json_loads(text, 0, NULL) : NULL, *out = json_object(), *m;
  const char *key;
  if (out == NULL) {
    json_decref(all);
    return NULL;
  }
  json_object_foreach(all, key, m)
  {
    json_t *v = json_object_get(m, split);
    json_object_set_new(out, key, json_is_number(v) ? json_real(json_number_value(v)) : json_null());
  }
  json_decref(all);
  return out;
}

static json_t *submission_row(sqlite3_stmt *st, int include_private)
{
  int precision = sqlite3_column_int(st, 12);
  json_t *err = json_null();
  if (sqlite3_column_type(st, 5) != SQLITE_NULL)
    err = json_pack("{s:s,s:s}", "code", dbi_col_text(st, 5), "message", dbi_col_text(st, 6));
  json_t *o = json_pack(
    "{s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:I,s:s,s:b}", "id", (json_int_t)sqlite3_column_int64(st, 0), "challenge",
    dbi_col_text(st, 1), "phase", dbi_col_text(st, 14), "team", dbi_col_text(st, 15), "status", dbi_col_text(st, 2),
    "public_score", dbi_col_score(st, 3, precision), "error", err, "created_at", dbi_col_time(st, 7), "scored_at",
    dbi_col_time(st, 8), "description", dbi_col_text(st, 9), "size", (json_int_t)sqlite3_column_int64(st, 10), "sha256",
    dbi_col_text(st, 11), "disqualified", sqlite3_column_int(st, 16));
  if (o != NULL && sqlite3_column_type(st, 19) != SQLITE_NULL) { /* a code run (API.md section 4) */
    const char *status = dbi_col_text(st, 2), *mode = dbi_col_text(st, 19);
    json_object_set_new(o, "kind", json_string("code"));
    json_object_set_new(o, "mode", json_string(mode));
    if (strcmp(status, "queued") == 0 || strcmp(status, "running") == 0)
      json_object_set_new(o, "stage",
                          json_string(strcmp(status, "running") == 0 && sqlite3_column_type(st, 20) != SQLITE_NULL
                                        ? dbi_col_text(st, 20)
                                        : status));
    if (sqlite3_column_type(st, 21) != SQLITE_NULL)
      json_object_set_new(o, "wall_seconds", json_real((double)sqlite3_column_int64(st, 21) / 1000.0));
    if (sqlite3_column_type(st, 22) != SQLITE_NULL)
      json_object_set_new(o, "peak_memory_mb", json_real((double)sqlite3_column_int64(st, 22) / 1024.0));
    if (sqlite3_column_type(st, 24) != SQLITE_NULL)
      json_object_set_new(o, "runtime_sha256", json_string(dbi_col_text(st, 24)));
    if (strcmp(mode, "smoke") == 0) /* scored on the public smoke sample: its score is the participant's to see */
      json_object_set_new(o, "smoke_score", dbi_col_score(st, 23, precision));
  }
  if (o != NULL && sqlite3_column_type(st, 25) != SQLITE_NULL) { /* secondary metrics (docs/bundle.md) */
    json_object_set_new(o, "metrics", db_metrics_values(dbi_col_text(st, 25), "public"));
    if (include_private)
      json_object_set_new(o, "private_metrics", db_metrics_values(dbi_col_text(st, 25), "private"));
  }
  if (o != NULL && !include_private && sqlite3_column_int(st, 26)) { /* a phase hiding results, unpublished */
    json_object_set_new(o, "public_score", json_null());
    json_object_del(o, "metrics");
    json_object_set_new(o, "results_hidden", json_true());
  }
  if (o != NULL && include_private) {
    json_object_set_new(o, "private_score", dbi_col_score(st, 4, precision));
    if (sqlite3_column_type(st, 17) != SQLITE_NULL && sqlite3_column_type(st, 18) != SQLITE_NULL)
      json_object_set_new(o, "private_ci",
                          json_pack("[f,f]", dbi_round(sqlite3_column_double(st, 17), precision),
                                    dbi_round(sqlite3_column_double(st, 18), precision)));
  }
  return o;
}

struct submission_view {
  int staff, published_ok;
  json_t *out; /* NULL when the viewer may not see it */
};

static int fill_submission(sqlite3_stmt *st, void *arg)
{
  struct submission_view *v = arg;
  int member = sqlite3_column_int(st, 27);
  int published = sqlite3_column_int(st, 28);
  if (!member && !v->staff)
    return 0;
  v->out = submission_row(st, v->staff || (published && v->published_ok));
  return v->out != NULL ? 0 : -1;
}

enum app_status db_submission_json(sqlite3 *db, int64_t id, const struct user *viewer, int staff, int published_ok,
                                   json_t **out)
{
  struct submission_view v = {staff, published_ok, NULL};
  sqlite3_stmt *st = dbi_prepare(
    db, "SELECT " SUBMISSION_COLS ", EXISTS(SELECT 1 FROM team_members m "
        "WHERE m.team_id=s.team_id AND m.user_id=?2), c.published_at IS NOT NULL" SUBMISSION_FROM "WHERE s.id=?1");
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, viewer != NULL ? viewer->id : -1);
  }
  enum app_status s = dbi_row(db, st, fill_submission, &v, "submission lookup");
  *out = v.out;
  return s == APP_OK && v.out == NULL ? APP_NOT_FOUND : s;
}

static json_t *submission_list_row(sqlite3_stmt *st, void *arg)
{
  return submission_row(st, *(const int *)arg);
}

json_t *db_submission_list(sqlite3 *db, int64_t challenge_id, int64_t user_id, int include_private)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT " SUBMISSION_COLS SUBMISSION_FROM
                                     "WHERE s.challenge_id=?1 AND s.team_id=(SELECT team_id FROM team_members "
                                     "WHERE challenge_id=?1 AND user_id=?2) ORDER BY s.id DESC LIMIT 1000");
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, challenge_id);
    sqlite3_bind_int64(st, 2, user_id);
  }
  return dbi_rows(db, st, submission_list_row, &include_private);
}

int db_sha_referenced(sqlite3 *db, const char *sha256)
{
  int r = -1;
  sqlite3_stmt *st = dbi_prepare(
    db, "SELECT 1 FROM submissions WHERE sha256=?1 UNION ALL SELECT 1 FROM fact_sheets WHERE sha256=?1 LIMIT 1");
  if (st == NULL)
    return -1;
  dbi_bind_text(st, 1, sha256);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    r = 1;
  else if (rc == SQLITE_DONE)
    r = 0;
  dbi_finalize(st);
  return r;
}
