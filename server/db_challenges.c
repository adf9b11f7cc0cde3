/* db_challenges.c: the SQL of challenges (db.h): their rows and phases, state, staff, texts, files and anonymity
 * reports, and the acceptance of their terms. A challenge's row and phases are kept in memory between commits
 * (db_memo.h), as every request on a challenge reads them. */
#include <stdlib.h>
#include <string.h>

#include "anon.h"
#include "db.h"
#include "db_internal.h"
#include "def.h"
#include "util.h"

/* ---------------------------------------------------------------- challenges */

const struct phase *db_challenge_open_phase(const struct challenge *c, int64_t now)
{
  for (int i = 0; i < c->nphases; i++) {
    if (now >= c->phases[i].start_at && now < c->phases[i].end_at)
      return &c->phases[i];
  }
  return NULL;
}

/* The phases' columns come from def.c's table, like their parse, PATCH and JSON. */
static enum app_status load_phases(sqlite3 *db, struct challenge *c)
{
  char sql[768];
  size_t ncols = 0;
  const char *cols = def_phase_sql_columns(&ncols);
  if (util_fmt(sql, sizeof(sql), "SELECT %s FROM phases WHERE challenge_id=? ORDER BY idx", cols) != 0)
    return APP_INTERNAL;
  sqlite3_stmt *st = dbi_prepare(db, sql);
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int64(st, 1, c->id);
  c->nphases = 0;
  int rc = sqlite3_step(st);
  for (; rc == SQLITE_ROW && c->nphases < DB_MAX_PHASES; rc = sqlite3_step(st))
    def_phase_read(st, 0, &c->phases[c->nphases++]);
  dbi_finalize(st);
  return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? APP_OK : APP_INTERNAL;
}

static int fill_challenge(sqlite3_stmt *st, void *arg)
{
  struct challenge *c = arg;
  c->id = sqlite3_column_int64(st, 0);
  util_strlcpy(c->slug, dbi_col_text(st, 1), sizeof(c->slug));
  util_strlcpy(c->metric_name, dbi_col_text(st, 2), sizeof(c->metric_name));
  util_strlcpy(c->metric_json, dbi_col_text(st, 3), sizeof(c->metric_json));
  util_strlcpy(c->id_column, dbi_col_text(st, 4), sizeof(c->id_column));
  util_strlcpy(c->split_column, dbi_col_text(st, 5), sizeof(c->split_column));
  util_strlcpy(c->dir, dbi_col_text(st, 6), sizeof(c->dir));
  c->terms_version = sqlite3_column_int(st, 7);
  c->precision = sqlite3_column_int(st, 8);
  c->higher_is_better = sqlite3_column_int(st, 9);
  c->published_at = sqlite3_column_int64(st, 10);
  c->team_max_size = sqlite3_column_int(st, 11);
  c->storage_team_mb = sqlite3_column_int(st, 13);
  c->storage_challenge_mb = sqlite3_column_int(st, 14);
  c->lb_version = sqlite3_column_int64(st, 15);
  c->code = sqlite3_column_int(st, 16);
  c->code_max_mb = sqlite3_column_int(st, 17);
  c->smoke_per_day = sqlite3_column_int(st, 18);
  c->has_smoke = sqlite3_column_int(st, 19);
  util_strlcpy(c->queue, dbi_col_text(st, 20), sizeof(c->queue));
  util_strlcpy(c->metrics_json, dbi_col_text(st, 21), sizeof(c->metrics_json));
  util_strlcpy(c->bundle_sha256, dbi_col_text(st, 22), sizeof(c->bundle_sha256));
  c->ingestion = sqlite3_column_int(st, 23);
  return db_challenge_state_parse(dbi_col_text(st, 12), &c->state);
}

enum app_status db_challenge_get(sqlite3 *db, const char *slug, struct challenge *c)
{
  unsigned char stamp[DB_MEMO_STAMP];
  int stamped = dbi_memo_stamp(db, stamp);
  if (stamped && db_memo_challenge_get(slug, stamp, c))
    return APP_OK;
  sqlite3_stmt *st =
    dbi_prepare(db, "SELECT id,slug,metric_name,metric_json,id_column,split_column,dir,terms_version,"
                    "precision,higher_is_better,coalesce(published_at,0),team_max_size,state,storage_team_mb,"
                    "storage_challenge_mb,lb_version,code,code_max_mb,smoke_per_day,has_smoke,queue,metrics_json,"
                    "coalesce(bundle_sha256,''),ingestion FROM challenges WHERE slug=?");
  memset(c, 0, sizeof(*c));
  if (st != NULL)
    dbi_bind_text(st, 1, slug);
  enum app_status s = dbi_row(db, st, fill_challenge, c, "challenge lookup");
  s = s == APP_OK ? load_phases(db, c) : s;
  if (s == APP_OK && stamped)
    db_memo_challenge_put(stamp, c);
  return s;
}

int db_challenge_dir_current(sqlite3 *db, const char *dir)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT 1 FROM challenges WHERE dir=?");
  if (st == NULL)
    return -1;
  dbi_bind_text(st, 1, dir);
  int rc = sqlite3_step(st);
  dbi_finalize(st);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

enum app_status db_challenge_upsert(sqlite3 *db, const struct db_import *imp, int64_t now)
{
  const struct challenge *c = imp->c;
  json_t *files = imp->files;
  sqlite3_stmt *st = NULL;
  int64_t id = 0;
  int reorder = 0; /* the ranking's precision or direction changes: every team's best entry may be another */
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  st = dbi_prepare(db, "SELECT precision IS NOT ?2 OR higher_is_better IS NOT ?3 FROM challenges WHERE slug=?1");
  if (st == NULL)
    goto fail;
  dbi_bind_text(st, 1, c->slug);
  sqlite3_bind_int(st, 2, c->precision);
  sqlite3_bind_int(st, 3, c->higher_is_better);
  reorder = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
  dbi_finalize(st);
  st = dbi_prepare(
    db,
    "INSERT INTO challenges(slug,title,summary,overview,terms,terms_version,metric_name,metric_json,"
    "higher_is_better,id_column,split_column,precision,definition,dir,created_at,updated_at,team_max_size,"
    "bundle_sha256,truth_sha256,state,storage_team_mb,storage_challenge_mb,code,code_max_mb,smoke_per_day,has_smoke,"
    "queue,code_runtime,metrics_json,ingestion) "
    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,"
    "?28,?29) "
    "ON CONFLICT(slug) DO UPDATE SET title=?2,summary=?3,overview=?4,terms=?5,terms_version=?6,metric_name=?7,"
    "metric_json=?8,higher_is_better=?9,id_column=?10,split_column=?11,precision=?12,definition=?13,dir=?14,"
    "updated_at=?15,team_max_size=?16,bundle_sha256=?17,truth_sha256=?18,storage_team_mb=?20,"
    "storage_challenge_mb=?21,code=?22,code_max_mb=?23,smoke_per_day=?24,has_smoke=?25,queue=?26,code_runtime=?27,"
    "metrics_json=?28,ingestion=?29 RETURNING id");
  if (st == NULL)
    goto fail;
  dbi_bind_text(st, 1, c->slug);
  dbi_bind_text(st, 2, imp->title);
  dbi_bind_text(st, 3, imp->summary);
  dbi_bind_text(st, 4, imp->overview);
  dbi_bind_text(st, 5, imp->terms);
  sqlite3_bind_int(st, 6, c->terms_version);
  dbi_bind_text(st, 7, c->metric_name);
  dbi_bind_text(st, 8, c->metric_json);
  sqlite3_bind_int(st, 9, c->higher_is_better);
  dbi_bind_text(st, 10, c->id_column);
  dbi_bind_text(st, 11, c->split_column);
  sqlite3_bind_int(st, 12, c->precision);
  dbi_bind_text(st, 13, imp->definition);
  dbi_bind_text(st, 14, c->dir);
  sqlite3_bind_int64(st, 15, now);
  sqlite3_bind_int(st, 16, c->team_max_size > 0 ? c->team_max_size : 1);
  dbi_bind_text(st, 17, imp->bundle_sha256);
  dbi_bind_text(st, 18, imp->truth_sha256);
  dbi_bind_text(st, 19, db_challenge_state_name(imp->initial_state));
  sqlite3_bind_int(st, 20, c->storage_team_mb);
  sqlite3_bind_int(st, 21, c->storage_challenge_mb);
  sqlite3_bind_int(st, 22, c->code);
  sqlite3_bind_int(st, 23, c->code_max_mb);
  sqlite3_bind_int(st, 24, c->smoke_per_day);
  sqlite3_bind_int(st, 25, c->has_smoke);
  dbi_bind_text(st, 26, c->queue[0] != '\0' ? c->queue : "default");
  dbi_bind_text(st, 27, imp->code_runtime != NULL ? imp->code_runtime : "host");
  dbi_bind_text(st, 28, c->metrics_json);
  sqlite3_bind_int(st, 29, c->ingestion);
  if (sqlite3_step(st) != SQLITE_ROW) {
    dbi_log(db, "challenge upsert");
    goto fail;
  }
  id = sqlite3_column_int64(st, 0);
  dbi_finalize(st);
  st = NULL;
  if (reorder && db_best_recompute(db, id, 0) != 0)
    goto fail;

  st = dbi_prepare(db, "DELETE FROM phases WHERE challenge_id=?");
  if (st == NULL)
    goto fail;
  sqlite3_bind_int64(st, 1, id);
  if (dbi_step_done(db, st) != 0)
    goto fail;
  dbi_finalize(st);
  {
    char sql[768];
    size_t ncols = 0;
    const char *cols = def_phase_sql_columns(&ncols);
    if (util_fmt(sql, sizeof(sql), "INSERT INTO phases(challenge_id,idx,%s) VALUES(?,?,%s)", cols,
                 def_phase_sql_marks()) != 0)
      goto fail;
    st = dbi_prepare(db, sql);
  }
  if (st == NULL)
    goto fail;
  for (int i = 0; i < c->nphases; i++) {
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, i);
    def_phase_bind(st, 3, &c->phases[i]);
    if (dbi_step_done(db, st) != 0)
      goto fail;
  }
  dbi_finalize(st);

  st = dbi_prepare(db, "DELETE FROM challenge_files WHERE challenge_id=?");
  if (st == NULL)
    goto fail;
  sqlite3_bind_int64(st, 1, id);
  if (dbi_step_done(db, st) != 0)
    goto fail;
  dbi_finalize(st);
  st = dbi_prepare(db, "INSERT INTO challenge_files(challenge_id,idx,name,size,sha256,anonymity) VALUES(?,?,?,?,?,?)");
  if (st == NULL)
    goto fail;
  size_t i;
  json_t *f;
  json_array_foreach(files, i, f)
  {
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, (int)i);
    dbi_bind_text(st, 3, json_string_value(json_object_get(f, "name")));
    sqlite3_bind_int64(st, 4, json_integer_value(json_object_get(f, "size")));
    dbi_bind_text(st, 5, json_string_value(json_object_get(f, "sha256")));
    json_t *report = json_object_get(f, "anonymity");
    char *rtext = report != NULL ? json_dumps(report, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (report != NULL && rtext == NULL)
      goto fail;
    dbi_bind_text(st, 6, rtext);
    int done = dbi_step_done(db, st);
    free(rtext);
    if (done != 0)
      goto fail;
  }
  dbi_finalize(st);
  st = NULL;
  if (db_audit_append(db, imp->actor, "challenge.import", c->slug, NULL, NULL, imp->details, now) != APP_OK)
    goto fail;
  return dbi_finish(db, APP_OK);
fail:
  dbi_finalize(st);
  return dbi_finish(db, APP_INTERNAL);
}

struct import_state_row {
  int64_t id;
  json_t *out;
};

/* The row's columns; its files are read once the statement is done (a row callback runs no other query). */
static int fill_import_state(sqlite3_stmt *st, void *arg)
{
  struct import_state_row *r = arg;
  r->id = sqlite3_column_int64(st, 0);
  r->out =
    json_pack("{s:s,s:s,s:s,s:s,s:s}", "definition", dbi_col_text(st, 1), "bundle_sha256", dbi_col_text(st, 2),
              "truth_sha256", dbi_col_text(st, 3), "overview", dbi_col_text(st, 4), "terms", dbi_col_text(st, 5));
  return r->out != NULL ? 0 : -1;
}

enum app_status db_challenge_import_state(sqlite3 *db, const char *slug, json_t **state)
{
  struct import_state_row r = {0, NULL};
  sqlite3_stmt *st = dbi_prepare(db, "SELECT id,definition,bundle_sha256,truth_sha256,overview,terms FROM challenges "
                                     "WHERE slug=?");
  if (st != NULL)
    dbi_bind_text(st, 1, slug);
  enum app_status s = dbi_row(db, st, fill_import_state, &r, "challenge import state");
  if (s == APP_OK) {
    json_t *files = db_challenge_files(db, r.id);
    if (files == NULL || json_object_set_new(r.out, "files", files) != 0) {
      json_decref(r.out);
      r.out = NULL;
      s = APP_INTERNAL;
    }
  }
  *state = r.out;
  return s == APP_NOT_FOUND ? APP_OK : s; /* no such challenge: a new one, *STATE NULL */
}

static json_t *challenge_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  return json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "slug", dbi_col_text(st, 0), "title", dbi_col_text(st, 1), "summary",
                   dbi_col_text(st, 2), "state", dbi_col_text(st, 3), "phase",
                   sqlite3_column_type(st, 4) == SQLITE_NULL ? json_null() : json_string(dbi_col_text(st, 4)),
                   "ends_at", dbi_col_time(st, 5));
}

json_t *db_challenge_list(sqlite3 *db, int64_t viewer_id, int all_drafts, int64_t now)
{
  /* the open phase (the first, in the bundle's order, whose [start, end) holds NOW) in the same query: one read
   * for the whole list, not two per challenge */
  sqlite3_stmt *st = dbi_prepare(
    db, "SELECT c.slug,c.title,c.summary,c.state,p.name,p.end_at FROM challenges c LEFT JOIN phases p ON "
        "p.challenge_id=c.id AND p.idx=(SELECT min(q.idx) FROM phases q WHERE q.challenge_id=c.id AND q.start_at<=?3 "
        "AND ?3<q.end_at) WHERE c.state!='draft' OR ?1 OR c.id IN (SELECT challenge_id FROM challenge_staff WHERE "
        "user_id=?2) ORDER BY c.id");
  if (st != NULL) {
    sqlite3_bind_int(st, 1, all_drafts != 0);
    sqlite3_bind_int64(st, 2, viewer_id);
    sqlite3_bind_int64(st, 3, now);
  }
  return dbi_rows(db, st, challenge_row, NULL);
}

int db_catalogue_version(sqlite3 *db, int64_t now, int64_t *version, int64_t *from, int64_t *until)
{
  int rc = -1;
  unsigned char stamp[DB_MEMO_STAMP];
  int stamped = dbi_memo_stamp(db, stamp);
  if (stamped && db_memo_catalogue_get(stamp, now, version, from, until))
    return 0;
  /* the phases' boundaries around NOW: between them, every challenge's open phase stays the same */
  sqlite3_stmt *st = dbi_prepare(
    db, "SELECT (SELECT version FROM catalogue), "
        "(SELECT max(b) FROM (SELECT start_at AS b FROM phases UNION ALL SELECT end_at FROM phases) WHERE b<=?1), "
        "(SELECT min(b) FROM (SELECT start_at AS b FROM phases UNION ALL SELECT end_at FROM phases) WHERE b>?1)");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, now);
  if (sqlite3_step(st) == SQLITE_ROW) {
    *version = sqlite3_column_int64(st, 0);
    *from = sqlite3_column_type(st, 1) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(st, 1);
    *until = sqlite3_column_type(st, 2) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, 2);
    rc = 0;
  }
  dbi_finalize(st);
  if (rc == 0 && stamped)
    db_memo_catalogue_put(stamp, *version, *from, *until);
  return rc;
}

const char *db_challenge_state_name(enum challenge_state s)
{
  return s == CHALLENGE_DRAFT ? "draft" : s == CHALLENGE_ARCHIVED ? "archived" : "open";
}

int db_challenge_state_parse(const char *name, enum challenge_state *s)
{
  static const enum challenge_state all[] = {CHALLENGE_OPEN, CHALLENGE_DRAFT, CHALLENGE_ARCHIVED};
  for (size_t i = 0; name != NULL && i < sizeof(all) / sizeof(all[0]); i++) {
    if (strcmp(name, db_challenge_state_name(all[i])) == 0) {
      *s = all[i];
      return 0;
    }
  }
  return -1;
}

enum app_status db_challenge_state_set(sqlite3 *db, const struct challenge *c, enum challenge_state state,
                                       const char *actor, const char *reason, int64_t now)
{
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  sqlite3_stmt *st = dbi_prepare(db, "UPDATE challenges SET state=?1, updated_at=?2 WHERE id=?3");
  if (st == NULL)
    goto fail;
  dbi_bind_text(st, 1, db_challenge_state_name(state));
  sqlite3_bind_int64(st, 2, now);
  sqlite3_bind_int64(st, 3, c->id);
  int done = dbi_step_done(db, st);
  dbi_finalize(st);
  json_t *d = json_pack("{s:s,s:s}", "from", db_challenge_state_name(c->state), "to", db_challenge_state_name(state));
  enum app_status a = done == 0 && d != NULL
                        ? db_audit_append(db, actor, "challenge.state", c->slug, NULL, reason, d, now)
                        : APP_INTERNAL;
  json_decref(d);
  if (a != APP_OK)
    goto fail;
  return dbi_finish(db, APP_OK);
fail:
  return dbi_finish(db, APP_INTERNAL);
}

static int fill_role(sqlite3_stmt *st, void *arg)
{
  return app_role_parse(dbi_col_text(st, 0), arg);
}

/* A staff role as kept in memory: none (FOUND 0) is kept too, most callers holding none. */
struct role_rec {
  int found;
  enum app_role role;
};

/* Whose staff role on which challenge. */
struct role_key {
  const char *slug;
  int64_t user_id;
};

/* dbi_memo_read_fn: the role ARG (a struct role_key) names. */
static enum app_status read_role(sqlite3 *db, const void *arg, void *rec)
{
  const struct role_key *a = arg;
  struct role_rec *r = rec;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT s.role FROM challenge_staff s JOIN challenges c ON c.id=s.challenge_id "
                                     "WHERE c.slug=?1 AND s.user_id=?2");
  if (st != NULL) {
    dbi_bind_text(st, 1, a->slug);
    sqlite3_bind_int64(st, 2, a->user_id);
  }
  enum app_status s = dbi_row(db, st, fill_role, &r->role, "staff role");
  r->found = s == APP_OK;
  return s == APP_NOT_FOUND ? APP_OK : s;
}

int db_staff_role(sqlite3 *db, const char *slug, int64_t user_id, enum app_role *role)
{
  struct role_rec rec = {0, ROLE_PARTICIPANT};
  struct role_key arg = {slug, user_id};
  char key[DB_MEMO_KEY];
  int keyed = util_fmt(key, sizeof(key), "role:%lld:%s", (long long)user_id, slug) == 0;
  if (dbi_memo_record(db, keyed ? key : NULL, &rec, sizeof(rec), read_role, &arg) != APP_OK)
    return -1;
  *role = rec.role;
  return rec.found;
}

enum app_status db_staff_set(sqlite3 *db, const struct challenge *c, const char *username, enum app_role role,
                             const char *actor, const char *reason, int64_t now)
{
  struct user u;
  char hash[8];
  enum app_status s;
  if (role != ROLE_ORGANIZER && role != ROLE_JURY && role != ROLE_PARTICIPANT)
    return APP_BAD_REQUEST;
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  s = db_user_by_name(db, username, &u, hash, sizeof(hash));
  if (s != APP_OK)
    goto fail;
  s = APP_INTERNAL;
  sqlite3_stmt *st =
    dbi_prepare(db, role == ROLE_PARTICIPANT
                      ? "DELETE FROM challenge_staff WHERE challenge_id=?1 AND user_id=?2"
                      : "INSERT INTO challenge_staff(challenge_id,user_id,role,granted_at) VALUES(?1,?2,?3,?4) "
                        "ON CONFLICT(challenge_id,user_id) DO UPDATE SET role=?3, granted_at=?4");
  if (st == NULL)
    goto fail;
  sqlite3_bind_int64(st, 1, c->id);
  sqlite3_bind_int64(st, 2, u.id);
  if (role != ROLE_PARTICIPANT) {
    dbi_bind_text(st, 3, app_role_name(role));
    sqlite3_bind_int64(st, 4, now);
  }
  int done = dbi_step_done(db, st);
  dbi_finalize(st);
  json_t *d = json_pack("{s:s}", "role", role == ROLE_PARTICIPANT ? "none" : app_role_name(role));
  enum app_status a = done == 0 && d != NULL
                        ? db_audit_append(db, actor, "challenge.staff", c->slug, u.username, reason, d, now)
                        : APP_INTERNAL;
  json_decref(d);
  if (a != APP_OK)
    goto fail;
  return dbi_finish(db, APP_OK);
fail:
  return dbi_finish(db, s);
}

static json_t *staff_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  return json_pack("{s:s,s:s,s:o}", "username", dbi_col_text(st, 0), "role", dbi_col_text(st, 1), "granted_at",
                   dbi_col_time(st, 2));
}

json_t *db_staff_list(sqlite3 *db, const struct challenge *c)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT u.username, s.role, s.granted_at FROM challenge_staff s JOIN users u "
                                     "ON u.id=s.user_id WHERE s.challenge_id=? ORDER BY u.username");
  if (st != NULL)
    sqlite3_bind_int64(st, 1, c->id);
  return dbi_rows(db, st, staff_row, NULL);
}

json_t *db_challenge_texts(sqlite3 *db, int64_t id)
{
  json_t *o = NULL;
  sqlite3_stmt *st = dbi_prepare(
    db, "SELECT title,summary,overview,terms,json_extract(definition,'$.competition') FROM challenges WHERE id=?");
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64(st, 1, id);
  if (sqlite3_step(st) == SQLITE_ROW) {
    const char *text = (const char *)sqlite3_column_text(st, 4);
    json_t *comp = text != NULL ? json_loads(text, 0, NULL) : NULL;
    o = json_pack("{s:s,s:s,s:s,s:s,s:o}", "title", dbi_col_text(st, 0), "summary", dbi_col_text(st, 1), "overview",
                  dbi_col_text(st, 2), "terms", dbi_col_text(st, 3), "competition", comp != NULL ? comp : json_null());
  }
  dbi_finalize(st);
  return o;
}

/* The stored report of column COL (NULL when absent or unreadable); the caller frees it. */
static json_t *col_report(sqlite3_stmt *st, int col)
{
  const char *text = (const char *)sqlite3_column_text(st, col);
  return text != NULL ? json_loads(text, 0, NULL) : NULL;
}

static json_t *file_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  json_t *report = col_report(st, 3);
  json_t *shown = report != NULL ? anon_report_public(report) : json_null();
  json_decref(report);
  if (shown == NULL)
    return NULL;
  return json_pack("{s:s,s:I,s:s,s:o}", "name", dbi_col_text(st, 0), "size", (json_int_t)sqlite3_column_int64(st, 1),
                   "sha256", dbi_col_text(st, 2), "anonymity", shown);
}

json_t *db_challenge_files(sqlite3 *db, int64_t id)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT name,size,sha256,anonymity FROM challenge_files WHERE challenge_id=? "
                                     "ORDER BY idx");
  if (st != NULL)
    sqlite3_bind_int64(st, 1, id);
  return dbi_rows(db, st, file_row, NULL);
}

static json_t *report_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  json_t *report = col_report(st, 1);
  return json_pack("{s:s,s:o}", "name", dbi_col_text(st, 0), "report", report != NULL ? report : json_null());
}

json_t *db_challenge_anonymity(sqlite3 *db, int64_t id)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT name,anonymity FROM challenge_files WHERE challenge_id=? ORDER BY idx");
  if (st != NULL)
    sqlite3_bind_int64(st, 1, id);
  return dbi_rows(db, st, report_row, NULL);
}

int db_challenge_file_exists(sqlite3 *db, int64_t id, const char *name, int64_t *size)
{
  int found = -1;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT size FROM challenge_files WHERE challenge_id=? AND name=?");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, id);
  dbi_bind_text(st, 2, name);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *size = sqlite3_column_int64(st, 0);
    found = 1;
  } else if (rc == SQLITE_DONE) {
    found = 0;
  }
  dbi_finalize(st);
  return found;
}

/* ---------------------------------------------------------------- terms */

enum app_status db_terms_accept(sqlite3 *db, const struct user *user, const struct challenge *c, int64_t now)
{
  struct team t;
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  sqlite3_stmt *st = dbi_prepare(db, "INSERT OR IGNORE INTO terms_acceptances(user_id,challenge_id,version,"
                                     "accepted_at) VALUES(?,?,?,?)");
  if (st == NULL)
    goto fail;
  sqlite3_bind_int64(st, 1, user->id);
  sqlite3_bind_int64(st, 2, c->id);
  sqlite3_bind_int(st, 3, c->terms_version);
  sqlite3_bind_int64(st, 4, now);
  int rc = dbi_step_done(db, st);
  int changed = sqlite3_changes(db);
  dbi_finalize(st);
  if (rc != 0 || db_team_of_user(db, c->id, user->id, 1, now, &t) != 1)
    goto fail;
  if (changed > 0) {
    json_t *d = json_pack("{s:i}", "terms_version", c->terms_version);
    enum app_status s = db_audit_append(db, user->username, "terms.accept", c->slug, NULL, NULL, d, now);
    json_decref(d);
    if (s != APP_OK)
      goto fail;
  }
  return dbi_finish(db, APP_OK);
fail:
  return dbi_finish(db, APP_INTERNAL);
}

int db_terms_accepted(sqlite3 *db, int64_t user_id, int64_t challenge_id, int version)
{
  int r = -1;
  sqlite3_stmt *st =
    dbi_prepare(db, "SELECT 1 FROM terms_acceptances WHERE user_id=? AND challenge_id=? AND version=?");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, user_id);
  sqlite3_bind_int64(st, 2, challenge_id);
  sqlite3_bind_int(st, 3, version);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    r = 1;
  else if (rc == SQLITE_DONE)
    r = 0;
  dbi_finalize(st);
  return r;
}
