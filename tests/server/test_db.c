/* test_db.c: unit tests of db.c and db_*.c: quota transaction with rollback, ties at precision, privacy, the
 * re-queue, the import state, the board's row cap, and fault injection on the acceptance path; and versions.c, the
 * version folders an import replaces, which go once no run holds them. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "db_internal.h"
#include "db_memo.h"
#include "store.h"
#include "util.h"
#include "versions.h"

#include "check.h"

static enum app_status hook_ok(void *arg)
{
  (*(int *)arg)++;
  return APP_OK;
}

static enum app_status hook_fail(void *arg)
{
  (void)arg;
  return APP_NO_SPACE;
}

static int64_t add_submission(sqlite3 *db, int64_t cid, int64_t uid, const struct phase *ph, const char *key,
                              int64_t now, enum app_status *s)
{
  int64_t id = 0;
  int replayed = 0, calls = 0;
  struct new_submission ns = {
    cid, uid, ph, "0000000000000000000000000000000000000000000000000000000000000000", 10, "", key, 0, 0, NULL, 0};
  *s = db_submission_insert(db, &ns, now, hook_ok, &calls, &id, &replayed);
  return replayed ? -id : id;
}

static void score(sqlite3 *db, int64_t now, double pub, double priv)
{
  struct job j;
  CHECK(db_queue_claim(db, now, 1, &j) == 1);
  CHECK(db_queue_scored(db, j.submission_id, pub, pub, priv, priv - 0.01, priv + 0.01, 0, NULL, "log", now) == APP_OK);
}

static int64_t team_id_of(sqlite3 *db, int64_t cid, int64_t uid)
{
  struct team t;
  return db_team_of_user(db, cid, uid, 1, 0, &t) == 1 ? t.id : -1;
}

/* C as an rmse challenge SLUG with one phase "dev" open from 0 to 2096, terms version 1. */
static void rmse_challenge(struct challenge *c, const char *slug)
{
  memset(c, 0, sizeof(*c));
  util_strlcpy(c->slug, slug, sizeof(c->slug));
  util_strlcpy(c->metric_name, "rmse", sizeof(c->metric_name));
  util_strlcpy(c->metric_json, "{\"name\":\"rmse\"}", sizeof(c->metric_json));
  util_strlcpy(c->id_column, "id", sizeof(c->id_column));
  snprintf(c->dir, sizeof(c->dir), "challenges/%s/v1", slug);
  c->terms_version = 1;
  c->nphases = 1;
  util_strlcpy(c->phases[0].name, "dev", sizeof(c->phases[0].name));
  c->phases[0].end_at = 4000000000LL;
}

static void test_db(void)
{
  char err[256], path[512];
  snprintf(path, sizeof(path), "%s/t.db", tmpdir);
  sqlite3 *db = db_open(path, err, sizeof(err));
  CHECK(db != NULL);
  if (db == NULL)
    return;
  /* reopening keeps the schema version and does not re-run migrations */
  sqlite3 *db2 = db_open(path, err, sizeof(err));
  CHECK(db2 != NULL);
  sqlite3_close(db2);

  int64_t alice = 0, bob = 0, dup = 0;
  CHECK(db_user_create(db, "alice", "a@x.org", ROLE_PARTICIPANT, "h", &alice) == APP_OK);
  CHECK(db_user_create(db, "bob", "b@x.org", ROLE_PARTICIPANT, "h", &bob) == APP_OK);
  CHECK(db_user_create(db, "ALICE", "c@x.org", ROLE_PARTICIPANT, "h", &dup) == APP_USERNAME_TAKEN);

  struct challenge c;
  rmse_challenge(&c, "demo");
  util_strlcpy(c.split_column, "Usage", sizeof(c.split_column));
  c.precision = 2;
  c.higher_is_better = 0;
  c.phases[0].max_per_day = 3;
  c.phases[0].max_total = 4;
  json_t *files = json_pack("[{s:s,s:i,s:s}]", "name", "train.csv", "size", 5, "sha256", "ab");
  struct db_import imp = {&c, "T", "S", "O", "Terms", "{}", files, "b1", "t1", "test", NULL, CHALLENGE_OPEN, NULL};
  CHECK(db_challenge_upsert(db, &imp, 1000) == APP_OK);
  imp.title = "T2";
  imp.bundle_sha256 = "b2";
  CHECK(db_challenge_upsert(db, &imp, 1001) == APP_OK); /* update */
  json_t *state = NULL;
  CHECK(db_challenge_import_state(db, "demo", &state) == APP_OK && state != NULL &&
        strcmp(json_string_value(json_object_get(state, "bundle_sha256")), "b2") == 0 &&
        json_array_size(json_object_get(state, "files")) == 1);
  json_decref(state);
  CHECK(db_challenge_import_state(db, "nope", &state) == APP_OK && state == NULL);
  json_decref(files);
  struct challenge got;
  CHECK(db_challenge_get(db, "demo", &got) == APP_OK && got.nphases == 1 && got.phases[0].max_total == 4);
  struct challenge none;
  CHECK(db_challenge_get(db, "nope", &none) == APP_NOT_FOUND);
  int64_t size = 0;
  CHECK(db_challenge_file_exists(db, got.id, "train.csv", &size) == 1 && size == 5);
  CHECK(db_challenge_file_exists(db, got.id, "../private/solution.csv", &size) == 0);

  /* quota: 3 per UTC day, 4 in all; failed runs do not count; the hook runs before the commit */
  const struct phase *ph = &got.phases[0];
  int64_t day = 1800000000LL - (1800000000LL % 86400);
  enum app_status s;
  CHECK(add_submission(db, got.id, alice, ph, NULL, day + 10, &s) > 0 && s == APP_OK);
  CHECK(add_submission(db, got.id, alice, ph, "k1", day + 20, &s) > 0 && s == APP_OK);
  int64_t replay = add_submission(db, got.id, alice, ph, "k1", day + 30, &s);
  CHECK(s == APP_OK && replay < 0); /* same key: replayed, nothing new */
  CHECK(add_submission(db, got.id, alice, ph, NULL, day + 40, &s) > 0 && s == APP_OK);
  add_submission(db, got.id, alice, ph, NULL, day + 50, &s);
  CHECK(s == APP_QUOTA_EXCEEDED); /* 3 today */
  int calls = 0, replayed = 0;
  int64_t id = 0;
  struct new_submission ns = {got.id, bob, ph, "00", 1, "", NULL, 0, 0, NULL, 0};
  CHECK(db_submission_insert(db, &ns, day + 60, hook_fail, &calls, &id, &replayed) == APP_NO_SPACE);
  struct quota q;
  int64_t ta = team_id_of(db, got.id, alice), tb = team_id_of(db, got.id, bob);
  CHECK(ta > 0 && tb > 0 && ta != tb);
  CHECK(db_quota(db, got.id, tb, ph, day + 70, &q) == APP_OK && q.used_total == 0); /* rolled back */
  CHECK(db_quota(db, got.id, ta, ph, day + 70, &q) == APP_OK && q.used_today == 3 && q.used_total == 3);
  CHECK(q.resets_at == day + 86400);

  /* the queue: claim in order, fail one (frees a slot), score the others */
  struct job j;
  CHECK(db_queue_claim(db, day + 100, 1, &j) == 1);
  CHECK(db_queue_failed(db, j.submission_id, "bad", "msg", "log", day + 101) == APP_OK);
  CHECK(db_quota(db, got.id, ta, ph, day + 102, &q) == APP_OK && q.used_today == 2);
  score(db, day + 110, 0.504, 0.9); /* alice: 0.50 at precision 2 */
  score(db, day + 120, 0.496, 0.8); /* alice: also 0.50 once rounded: the earlier one stays best */
  CHECK(add_submission(db, got.id, bob, ph, NULL, day + 130, &s) > 0);
  score(db, day + 140, 0.70, 0.1); /* bob: worse public, better private */

  json_t *rows = db_leaderboard(db, &got);
  CHECK(rows != NULL && json_array_size(rows) == 2);
  json_t *first = json_array_get(rows, 0);
  CHECK(strcmp(json_string_value(json_object_get(first, "name")), "alice") == 0);
  CHECK(fabs(json_real_value(json_object_get(first, "score")) - 0.50) < 1e-9);
  CHECK(json_integer_value(json_object_get(first, "submissions")) == 2);
  json_decref(rows);
  rows = db_final_ranking(db, &got); /* private split: bob's 0.1 wins (lower is better) */
  CHECK(rows != NULL && strcmp(json_string_value(json_object_get(json_array_get(rows, 0), "team")), "bob") == 0);
  /* intervals [0.09,0.11] and [0.89,0.91] do not overlap: each team holds exactly one rank */
  json_t *range = json_object_get(json_array_get(rows, 0), "rank_range");
  CHECK(json_integer_value(json_array_get(range, 0)) == 1 && json_integer_value(json_array_get(range, 1)) == 1);
  json_decref(rows);
  /* disqualifying bob's team removes it from the public leaderboard; reinstating restores it */
  struct user admin = {1, "admin", ROLE_ADMIN};
  CHECK(db_disqualify(db, &got, 1, tb, 1, &admin, "cheating", day + 150) == APP_OK);
  rows = db_leaderboard(db, &got);
  CHECK(rows != NULL && json_array_size(rows) == 1);
  json_decref(rows);
  CHECK(db_disqualify(db, &got, 1, tb, 0, &admin, "appeal", day + 151) == APP_OK);
  rows = db_leaderboard(db, &got);
  CHECK(rows != NULL && json_array_size(rows) == 2);
  json_decref(rows);
  /* a re-score that fails takes the team's best row away (no stale score on the leaderboard) */
  int requeued = 0;
  /* alice's failed and two scored submissions, and bob's scored one */
  CHECK(db_rescore(db, &got, 0, NULL, &admin, "scorer fixed", day + 152, &requeued) == APP_OK && requeued == 4);
  for (int k = 0; k < 4; k++) {
    struct job rj;
    CHECK(db_queue_claim(db, day + 153, 1, &rj) == 1);
    CHECK(db_queue_failed(db, rj.submission_id, "bad", "msg", "log", day + 154) == APP_OK);
  }
  rows = db_leaderboard(db, &got);
  CHECK(rows != NULL && json_array_size(rows) == 0);
  json_decref(rows);
  /* the audit chain holds the two imports and the three actions, and detects nothing wrong */
  int64_t bad = -5;
  CHECK(db_audit_verify(db, &bad) == 5 && bad == 0);

  /* privacy: a participant sees no private_score and nobody else's submission */
  struct user va = {alice, "alice", ROLE_PARTICIPANT}, vb = {bob, "bob", ROLE_PARTICIPANT};
  struct user jury = {99, "jury", ROLE_JURY};
  json_t *mine = NULL, *nobody = NULL, *staff = NULL;
  CHECK(db_submission_json(db, 2, &va, 0, 1, &mine) == APP_OK && json_object_get(mine, "private_score") == NULL);
  json_decref(mine);
  CHECK(db_submission_json(db, 2, &vb, 0, 1, &nobody) == APP_NOT_FOUND && nobody == NULL);
  CHECK(db_submission_json(db, 999, &va, 1, 1, &nobody) == APP_NOT_FOUND && nobody == NULL);
  CHECK(db_submission_json(db, 2, &jury, 1, 1, &staff) == APP_OK && json_object_get(staff, "private_score") != NULL);
  json_decref(staff);

  /* a deferred interval: claimed once; a claim whose interval could not be stored (a full disk) is due again at the
   * next claim, not only at the next start; once stored it is done */
  CHECK(add_submission(db, got.id, bob, ph, NULL, day + 190, &s) > 0);
  CHECK(db_queue_claim(db, day + 191, 1, &j) == 1);
  CHECK(db_queue_scored(db, j.submission_id, 0.5, 0.5, 0.5, NAN, NAN, 1, NULL, "log", day + 191) == APP_OK);
  struct job ci, ci2;
  CHECK(db_ci_claim(db, &ci) == 1 && ci.ci_only && ci.submission_id == j.submission_id);
  CHECK(db_ci_claim(db, &ci2) == 1 && ci2.submission_id == j.submission_id); /* the first never stored */
  CHECK(db_ci_store(db, ci2.submission_id, 0.4, 0.6) == APP_OK);
  CHECK(db_ci_claim(db, &ci2) == 0);
  CHECK(db_ci_store(db, ci.submission_id, 0.1, 0.2) == APP_OK); /* a late store of a finished claim changes nothing */
  sqlite3_stmt *lo = NULL;
  CHECK(sqlite3_prepare_v2(db, "SELECT private_ci_lo FROM submissions WHERE id=?", -1, &lo, NULL) == SQLITE_OK);
  sqlite3_bind_int64(lo, 1, j.submission_id);
  CHECK(sqlite3_step(lo) == SQLITE_ROW && sqlite3_column_double(lo, 0) == 0.4);
  sqlite3_finalize(lo);

  /* a crash leaves a run 'running': it is re-queued at start */
  CHECK(add_submission(db, got.id, bob, ph, NULL, day + 200, &s) > 0);
  CHECK(db_queue_claim(db, day + 201, 1, &j) == 1);
  CHECK(db_queue_requeue_running(db) == 1);
  struct job again;
  CHECK(db_queue_claim(db, day + 202, 1, &again) == 1 && again.submission_id == j.submission_id);
  sqlite3_close(db);
}

/* Fault injection (db_fault_inject): every statement of an import and of an accepted upload fails in turn; each
 * time the call reports APP_INTERNAL (never a success, never "not found"), and the database is left exactly as it
 * was: the transaction rolled back, nothing half-written. */
static void test_faults(void)
{
  char err[256], path[512];
  snprintf(path, sizeof(path), "%s/faults.db", tmpdir);
  sqlite3 *db = db_open(path, err, sizeof(err));
  CHECK(db != NULL);
  if (db == NULL)
    return;
  int64_t uid = 0;
  CHECK(db_user_create(db, "fay", "f@x.org", ROLE_PARTICIPANT, "h", &uid) == APP_OK);
  struct challenge c;
  memset(&c, 0, sizeof(c));
  util_strlcpy(c.slug, "faulty", sizeof(c.slug));
  util_strlcpy(c.metric_name, "rmse", sizeof(c.metric_name));
  c.terms_version = 1;
  c.nphases = 1;
  util_strlcpy(c.phases[0].name, "dev", sizeof(c.phases[0].name));
  c.phases[0].end_at = 4000000000LL;
  json_t *files = json_pack("[{s:s,s:i,s:s}]", "name", "a.csv", "size", 1, "sha256", "ab");
  struct db_import imp = {&c, "T", "S", "O", "Terms", "{}", files, "b1", "t1", "test", NULL, CHALLENGE_OPEN, NULL};
  int rolled_back = 0, tries = 0;
  for (long n = 0; n < 40; n++) {
    db_fault_inject(n);
    enum app_status s = db_challenge_upsert(db, &imp, 1000);
    db_fault_inject(-1);
    struct challenge got;
    enum app_status g = db_challenge_get(db, "faulty", &got);
    if (s == APP_OK) {
      CHECK(g == APP_OK); /* it went through once there were enough statements */
      break;
    }
    tries++;
    CHECK(s == APP_INTERNAL);
    CHECK(g == APP_NOT_FOUND); /* nothing of the failed import is left */
    rolled_back += g == APP_NOT_FOUND;
  }
  CHECK(tries >= 5 && rolled_back == tries);
  json_decref(files);
  struct challenge got;
  CHECK(db_challenge_get(db, "faulty", &got) == APP_OK);
  /* an upload: quota check, team, hook, insert */
  int inserted = 0;
  for (long n = 0; n < 40; n++) {
    int64_t id = 0;
    int replayed = 0, calls = 0;
    struct new_submission ns = {got.id,
                                uid,
                                &got.phases[0],
                                "0000000000000000000000000000000000000000000000000000000000000000",
                                10,
                                "",
                                NULL,
                                0,
                                0,
                                NULL,
                                0};
    db_fault_inject(n);
    enum app_status s = db_submission_insert(db, &ns, 2000, hook_ok, &calls, &id, &replayed);
    db_fault_inject(-1);
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM submissions", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    int rows = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    CHECK(sqlite3_get_autocommit(db)); /* no transaction left open on the connection */
    if (s == APP_OK) {
      CHECK(rows == 1);
      inserted = 1;
      break;
    }
    CHECK(s == APP_INTERNAL && rows == 0);
  }
  CHECK(inserted);
  /* a fault in a lookup is a fault, not "not found" */
  struct challenge none;
  db_fault_inject(0);
  CHECK(db_challenge_get(db, "faulty", &none) == APP_INTERNAL);
  json_t *o = NULL;
  CHECK(db_submission_json(db, 1, NULL, 1, 1, &o) == APP_INTERNAL && o == NULL);
  db_fault_inject(-1);
  sqlite3_close(db);
}

/* The pool's statement cache: the same SQL gets the same statement back, reset and with its bindings cleared; a
 * statement already in use is never handed out twice; a connection outside the pool caches nothing. */
static void test_stmt_cache(void)
{
  static const char *const sql = "SELECT ?1 + 1";
  char err[256], path[512];
  snprintf(path, sizeof(path), "%s/cache.db", tmpdir);
  CHECK(db_pool_init(path, 1, err, sizeof(err)) == 0);
  sqlite3 *db = db_acquire();
  sqlite3_stmt *a = dbi_prepare(db, sql);
  CHECK(a != NULL && sqlite3_bind_int(a, 1, 41) == SQLITE_OK && sqlite3_step(a) == SQLITE_ROW &&
        sqlite3_column_int(a, 0) == 42);
  dbi_finalize(a); /* mid-result: reset, kept */
  sqlite3_stmt *b = dbi_prepare(db, sql);
  CHECK(b == a);
  CHECK(sqlite3_step(b) == SQLITE_ROW && sqlite3_column_type(b, 0) == SQLITE_NULL); /* no binding left */
  sqlite3_stmt *c = dbi_prepare(db, sql);                                           /* B is still in use */
  CHECK(c != NULL && c != b);
  dbi_finalize(c);
  dbi_finalize(b);
  CHECK(dbi_prepare(db, sql) == a);
  dbi_finalize(a);
  db_release(db);
  db_pool_close();
  /* outside the pool: finalized, nothing left on the connection */
  sqlite3 *plain = db_open(path, err, sizeof(err));
  CHECK(plain != NULL);
  sqlite3_stmt *d = plain != NULL ? dbi_prepare(plain, sql) : NULL;
  CHECK(d != NULL);
  dbi_finalize(d);
  CHECK(plain == NULL || sqlite3_next_stmt(plain, NULL) == NULL);
  sqlite3_close(plain);
}

/* The memo of challenge reads (db_memo.h): a read after a commit by any connection, of this process or of another
 * (a plain connection, as `concours challenge import` beside the server), sees it; repeated reads with nothing
 * committed in between are answered from memory; a connection inside its own transaction reads the database. */
/* Sessions and staff roles read from memory between commits, and never past a logout, an expiry or a change of role
 * (DB and OTHER: two pooled connections; C: a challenge they hold). */
static void test_memo_callers(sqlite3 *db, sqlite3 *other, const struct challenge *c)
{
  struct user u, admin = {0, "admin", ROLE_ADMIN};
  char csrf[64];
  int64_t uid = 0;
  enum app_role role = ROLE_ADMIN;
  CHECK(db_user_create(db, "carol", "c@x.org", ROLE_PARTICIPANT, "h", &uid) == APP_OK);
  CHECK(db_session_create(db, "s1", uid, "csrf1", 1000, 5000) == APP_OK);
  CHECK(db_session_user(db, "s1", 2000, &u, csrf, sizeof(csrf)) == APP_OK && u.id == uid);
  long before = db_memo_hits();
  CHECK(db_session_user(other, "s1", 2000, &u, csrf, sizeof(csrf)) == APP_OK && u.id == uid &&
        strcmp(u.username, "carol") == 0 && u.role == ROLE_PARTICIPANT && strcmp(csrf, "csrf1") == 0);
  CHECK(db_memo_hits() == before + 1);
  /* expired, even though kept */
  CHECK(db_session_user(other, "s1", 5000, &u, csrf, sizeof(csrf)) == APP_UNAUTHORIZED);
  CHECK(db_session_user(other, "nobody", 2000, &u, csrf, sizeof(csrf)) == APP_UNAUTHORIZED);
  /* a change of role commits: the next request sees it */
  CHECK(db_role_set(db, "carol", ROLE_JURY, &admin, "test", 2001) == APP_OK);
  CHECK(db_session_user(other, "s1", 2002, &u, csrf, sizeof(csrf)) == APP_OK && u.role == ROLE_JURY);
  /* a logout on one connection ends the session on the other at once */
  CHECK(db_session_user(other, "s1", 2003, &u, csrf, sizeof(csrf)) == APP_OK);
  CHECK(db_session_delete(db, "s1") == APP_OK);
  CHECK(db_session_user(other, "s1", 2004, &u, csrf, sizeof(csrf)) == APP_UNAUTHORIZED);
  /* an API token: read from memory, its "last used" mark stale after a minute, gone once revoked */
  char scope[8];
  int stale = 0;
  int64_t tid = 0;
  CHECK(db_token_create(db, uid, "cli", "submit", "t1", 2000, &tid) == APP_OK);
  CHECK(db_token_user(db, "t1", 2001, &u, scope, sizeof(scope), &stale) == APP_OK && stale);
  CHECK(db_token_touch(db, "t1", 2001) == APP_OK);
  CHECK(db_token_user(db, "t1", 2002, &u, scope, sizeof(scope), &stale) == APP_OK && !stale);
  before = db_memo_hits();
  CHECK(db_token_user(other, "t1", 2030, &u, scope, sizeof(scope), &stale) == APP_OK && !stale && u.id == uid &&
        strcmp(scope, "submit") == 0 && db_memo_hits() == before + 1);
  CHECK(db_token_user(other, "t1", 2061, &u, scope, sizeof(scope), &stale) == APP_OK && stale);
  CHECK(db_token_revoke(db, uid, tid) == APP_OK);
  CHECK(db_token_user(other, "t1", 2062, &u, scope, sizeof(scope), &stale) == APP_UNAUTHORIZED);
  /* a staff role: none (kept, and read from memory), then given, then taken away */
  CHECK(db_staff_role(db, c->slug, uid, &role) == 0);
  before = db_memo_hits();
  CHECK(db_staff_role(other, c->slug, uid, &role) == 0 && db_memo_hits() == before + 1);
  CHECK(db_staff_set(db, c, "carol", ROLE_ORGANIZER, "admin", "test", 2005) == APP_OK);
  CHECK(db_staff_role(other, c->slug, uid, &role) == 1 && role == ROLE_ORGANIZER);
  CHECK(db_staff_role(db, c->slug, uid, &role) == 1 && role == ROLE_ORGANIZER);
  CHECK(db_staff_set(db, c, "carol", ROLE_PARTICIPANT, "admin", "test", 2006) == APP_OK);
  CHECK(db_staff_role(other, c->slug, uid, &role) == 0);
  /* inside its own transaction a connection sees its own change of role, which the other does not see yet */
  CHECK(db_session_create(db, "s2", uid, "csrf2", 2007, 9000) == APP_OK);
  CHECK(db_session_user(other, "s2", 2008, &u, csrf, sizeof(csrf)) == APP_OK && u.role == ROLE_JURY);
  CHECK(dbi_begin(db) == APP_OK);
  CHECK(dbi_exec(db, "UPDATE users SET role='organizer' WHERE username='carol'") == 0);
  CHECK(db_session_user(db, "s2", 2009, &u, csrf, sizeof(csrf)) == APP_OK && u.role == ROLE_ORGANIZER);
  CHECK(db_session_user(other, "s2", 2009, &u, csrf, sizeof(csrf)) == APP_OK && u.role == ROLE_JURY);
  CHECK(dbi_finish(db, APP_OK) == APP_OK);
  CHECK(db_session_user(other, "s2", 2010, &u, csrf, sizeof(csrf)) == APP_OK && u.role == ROLE_ORGANIZER);
}

static void test_memo(void)
{
  char err[256], path[512];
  snprintf(path, sizeof(path), "%s/memo.db", tmpdir);
  CHECK(db_pool_init(path, 2, err, sizeof(err)) == 0);
  sqlite3 *db = db_acquire(), *other = db_acquire();
  struct challenge c, got;
  rmse_challenge(&c, "memo");
  json_t *files = json_array();
  struct db_import imp = {&c, "T", "S", "O", "Terms", "{}", files, "b1", "t1", "test", NULL, CHALLENGE_OPEN, NULL};
  CHECK(db_challenge_upsert(db, &imp, 1000) == APP_OK);
  long before = db_memo_hits();
  CHECK(db_challenge_get(db, "memo", &got) == APP_OK && got.terms_version == 1);
  CHECK(db_challenge_get(other, "memo", &got) == APP_OK && got.terms_version == 1);
  CHECK(db_memo_hits() == before + 1); /* the second read, on another connection, came from memory */
  /* a commit of this process (another pooled connection) */
  c.terms_version = 2;
  CHECK(db_challenge_upsert(other, &imp, 1001) == APP_OK);
  CHECK(db_challenge_get(db, "memo", &got) == APP_OK && got.terms_version == 2);
  /* a commit of another process's kind of connection: outside the pool, its own WAL reader */
  sqlite3 *plain = db_open(path, err, sizeof(err));
  CHECK(plain != NULL);
  for (int v = 3; plain != NULL && v <= 40; v++) { /* many commits: the index header changes every time */
    char sql[128];
    snprintf(sql, sizeof(sql), "UPDATE challenges SET terms_version=%d WHERE slug='memo'", v);
    CHECK(sqlite3_exec(plain, sql, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(db_challenge_get(db, "memo", &got) == APP_OK && got.terms_version == v);
    CHECK(db_challenge_get(other, "memo", &got) == APP_OK && got.terms_version == v);
  }
  /* a checkpoint that restarts the log, then a write at its start: still seen */
  CHECK(plain == NULL || sqlite3_exec(plain, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) == SQLITE_OK);
  CHECK(plain == NULL ||
        sqlite3_exec(plain, "UPDATE challenges SET terms_version=41 WHERE slug='memo'", NULL, NULL, NULL) == SQLITE_OK);
  CHECK(db_challenge_get(db, "memo", &got) == APP_OK && got.terms_version == 41);
  sqlite3_close(plain);
  /* inside its own transaction a connection reads its own write, which no other connection sees yet */
  CHECK(dbi_begin(db) == APP_OK);
  CHECK(dbi_exec(db, "UPDATE challenges SET terms_version=42 WHERE slug='memo'") == 0);
  CHECK(db_challenge_get(db, "memo", &got) == APP_OK && got.terms_version == 42);
  CHECK(db_challenge_get(other, "memo", &got) == APP_OK && got.terms_version == 41);
  CHECK(dbi_finish(db, APP_OK) == APP_OK);
  CHECK(db_challenge_get(other, "memo", &got) == APP_OK && got.terms_version == 42);
  /* the catalogue's version: kept, then read again after a commit */
  int64_t v1 = 0, v2 = 0, from = 0, until = 0;
  CHECK(db_catalogue_version(db, 2000, &v1, &from, &until) == 0);
  before = db_memo_hits();
  CHECK(db_catalogue_version(other, 2000, &v2, &from, &until) == 0 && v2 == v1 && db_memo_hits() == before + 1);
  CHECK(db_catalogue_version(other, 4000000001LL, &v2, &from, &until) == 0 && db_memo_hits() == before + 1);
  c.terms_version = 43;
  CHECK(db_challenge_upsert(other, &imp, 1002) == APP_OK);
  CHECK(db_catalogue_version(db, 2000, &v2, &from, &until) == 0 && v2 != v1);
  CHECK(db_challenge_get(db, "memo", &got) == APP_OK);
  test_memo_callers(db, other, &got);
  json_decref(files);
  db_release(other);
  db_release(db);
  db_pool_close();
}

/* The leaderboard_best rows of challenge CID as text, one line a team, into OUT. */
static void best_rows(sqlite3 *db, int64_t cid, char *out, size_t n)
{
  sqlite3_stmt *st = NULL;
  size_t len = 0;
  out[0] = '\0';
  CHECK(sqlite3_prepare_v2(db,
                           "SELECT team_id, submission_id, score, best_created_at, n_scored, last_at FROM "
                           "leaderboard_best WHERE challenge_id=? ORDER BY team_id",
                           -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_int64(st, 1, cid);
  while (st != NULL && sqlite3_step(st) == SQLITE_ROW && len + 128 < n)
    len += (size_t)snprintf(out + len, n - len, "%lld %lld %.17g %lld %lld %lld\n", sqlite3_column_int64(st, 0),
                            sqlite3_column_int64(st, 1), sqlite3_column_double(st, 2), sqlite3_column_int64(st, 3),
                            sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5));
  sqlite3_finalize(st);
}

/* Submission ID, made running, scored PUB (NAN: no public score) through the queue's own path. */
static void score_id(sqlite3 *db, int64_t id, double pub, int64_t now)
{
  char sql[96];
  snprintf(sql, sizeof(sql), "UPDATE submissions SET status='running' WHERE id=%lld", (long long)id);
  CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
  CHECK(db_queue_scored(db, id, isnan(pub) ? NAN : pub, pub, pub, NAN, NAN, 0, NULL, "log", now) == APP_OK);
}

/* A newly scored submission updates its team's best row in place: after every step of a seeded run of scorings
 * (ties at the board's precision, equal times, no public score, smoke runs, disqualifications, rescorings still
 * running, a change of precision and of direction), the rows equal the ones recomputed from every submission. */
static void test_best_incremental(void)
{
  char err[256], path[512], kept[8192], again[8192];
  snprintf(path, sizeof(path), "%s/best.db", tmpdir);
  sqlite3 *db = db_open(path, err, sizeof(err));
  CHECK(db != NULL);
  if (db == NULL)
    return;
  struct challenge c, got;
  struct user jury = {0, "jury", ROLE_JURY};
  rmse_challenge(&c, "best");
  c.precision = 1;
  json_t *files = json_array();
  struct db_import imp = {&c, "T", "S", "O", "Terms", "{}", files, "b1", "t1", "test", NULL, CHALLENGE_OPEN, NULL};
  CHECK(db_challenge_upsert(db, &imp, 1000) == APP_OK);
  CHECK(db_challenge_get(db, "best", &got) == APP_OK);
  int64_t uid[5], ids[400];
  int nids = 0, compared = 0, rescoring = 0;
  for (int u = 0; u < 5; u++) {
    char name[16];
    snprintf(name, sizeof(name), "b%d", u);
    CHECK(db_user_create(db, name, "b@x.org", ROLE_PARTICIPANT, "h", &uid[u]) == APP_OK);
  }
  uint32_t x = 12345;
  int64_t now = 1800000000LL;
  for (int step = 0; step < 360; step++) {
    x = x * 1103515245u + 12345u;
    unsigned r = (x >> 16) % 100;
    enum app_status st;
    if (step == 150 || step == 250) { /* the ranking changes: precision, then direction */
      c.precision = step == 150 ? 2 : 0;
      c.higher_is_better = step == 250;
      CHECK(db_challenge_upsert(db, &imp, now) == APP_OK);
      CHECK(db_challenge_get(db, "best", &got) == APP_OK);
    } else if (r < 70 || nids == 0) { /* a new submission, scored among a few values: ties at the precision */
      int64_t id = add_submission(db, got.id, uid[(x >> 8) % 5], &got.phases[0], NULL, now + (r % 3 == 0 ? 0 : 1), &st);
      CHECK(st == APP_OK && id > 0 && nids < 400);
      if (id <= 0 || nids >= 400)
        break;
      ids[nids++] = id;
      now += r % 3 == 0 ? 0 : 1; /* some at the same second */
      if (r % 17 == 0) {
        char sql[96];
        snprintf(sql, sizeof(sql), "UPDATE submissions SET mode='smoke' WHERE id=%lld", (long long)id);
        CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
      }
      if (r % 5 == 1 && nids < 400) { /* a later one of the same team scored first: last_at is the later's */
        int64_t later = add_submission(db, got.id, uid[(x >> 8) % 5], &got.phases[0], NULL, now + 1, &st);
        CHECK(st == APP_OK && later > 0);
        ids[nids++] = later;
        score_id(db, later, 0.25 + (double)((x >> 6) % 9) * 0.0125, now + 2);
        now++;
      }
      score_id(db, id, r % 23 == 0 ? NAN : 0.25 + (double)((x >> 4) % 9) * 0.0125, now);
    } else if (r < 80) { /* a submission disqualified or reinstated */
      CHECK(db_disqualify(db, &got, 0, ids[(x >> 4) % (unsigned)nids], (x >> 3) & 1, &jury, "test", now) == APP_OK);
    } else if (r < 90 && !rescoring) { /* a scored submission queued again: scored later, others meanwhile */
      int q = 0;
      rescoring = (int)ids[(x >> 4) % (unsigned)nids];
      if (db_rescore(db, &got, rescoring, NULL, &jury, "test", now, &q) != APP_OK)
        rescoring = 0;
    } else if (rescoring) {
      score_id(db, rescoring, 0.3, now);
      rescoring = 0;
    }
    if (rescoring) /* the board keeps a rescored submission's old best until it is scored again */
      continue;
    best_rows(db, got.id, kept, sizeof(kept));
    for (int u = 0; u < 5; u++)
      CHECK(db_best_recompute(db, got.id, team_id_of(db, got.id, uid[u])) == 0);
    best_rows(db, got.id, again, sizeof(again));
    if (strcmp(kept, again) != 0)
      fprintf(stderr, "step %d: kept\n%sbut recomputed\n%s", step, kept, again);
    CHECK(strcmp(kept, again) == 0);
    compared++;
  }
  CHECK(compared > 200 && strlen(kept) > 20);
  json_decref(files);
  sqlite3_close(db);
}

/* A board holds its first DB_LEADERBOARD_MAX_ROWS teams, best first. */
static void test_board_cap(void)
{
  char err[256], path[512];
  snprintf(path, sizeof(path), "%s/cap.db", tmpdir);
  sqlite3 *db = db_open(path, err, sizeof(err));
  CHECK(db != NULL);
  if (db == NULL)
    return;
  struct challenge c, got;
  rmse_challenge(&c, "cap");
  json_t *files = json_array();
  struct db_import imp = {&c, "T", "S", "O", "Terms", "{}", files, "b1", "t1", "test", NULL, CHALLENGE_OPEN, NULL};
  CHECK(db_challenge_upsert(db, &imp, 1000) == APP_OK);
  CHECK(db_challenge_get(db, "cap", &got) == APP_OK);
  int64_t uid = 0;
  CHECK(db_user_create(db, "many", "m@x.org", ROLE_PARTICIPANT, "h", &uid) == APP_OK);
  char sql[1024];
  /* team i scores i (rmse: lower is better), so the last team is the one left out */
  snprintf(sql, sizeof(sql),
           "BEGIN;"
           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<%d) "
           "INSERT INTO teams(id,challenge_id,name,solo,invite_code,created_at) "
           "SELECT i, %lld, 'team ' || i, 0, hex(i), 1 FROM n;"
           "INSERT INTO submissions(id,challenge_id,user_id,team_id,phase,sha256,size,status,score,public_score,"
           "created_at) SELECT id, challenge_id, %lld, id, 'dev', 'x', 1, 'scored', id, id, 1 FROM teams;"
           "INSERT INTO leaderboard_best(challenge_id,team_id,submission_id,score,best_created_at,n_scored,last_at) "
           "SELECT challenge_id, id, id, id, 1, 1, 1 FROM teams;"
           "COMMIT;",
           DB_LEADERBOARD_MAX_ROWS + 1, (long long)got.id, (long long)uid);
  CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
  json_t *rows = db_leaderboard(db, &got);
  size_t n = json_array_size(rows);
  CHECK(n == DB_LEADERBOARD_MAX_ROWS);
  json_t *last = json_array_get(rows, n > 0 ? n - 1 : 0);
  CHECK(json_integer_value(json_object_get(last, "rank")) == DB_LEADERBOARD_MAX_ROWS);
  CHECK(strcmp(json_string_value(json_object_get(last, "name")) ? json_string_value(json_object_get(last, "name")) : "",
               "team 100000") == 0);
  json_decref(rows);
  json_decref(files);
  sqlite3_close(db);
}

/* Whether the version folder V of the challenge "vers" exists; MAKE creates it first. */
static int version_at(const char *v, int make)
{
  char rel[256], path[1024];
  struct stat st;
  snprintf(rel, sizeof(rel), "challenges/vers/%s", v);
  if (store_path(path, sizeof(path), rel) != 0 || (make && util_mkdirs(path, 0700) != 0))
    return 0;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_versions(void)
{
  char err[256], path[512];
  snprintf(path, sizeof(path), "%s/vdata", tmpdir);
  CHECK(store_init(path, 1, err, sizeof(err)) == 0);
  snprintf(path, sizeof(path), "%s/vdata/concours.db", tmpdir);
  sqlite3 *db = db_open(path, err, sizeof(err));
  CHECK(db != NULL);
  if (db == NULL)
    return;
  struct challenge c, got;
  rmse_challenge(&c, "vers");
  snprintf(c.dir, sizeof(c.dir), "challenges/vers/v0");
  json_t *files = json_array();
  struct db_import imp = {&c, "T", "S", "O", "Terms", "{}", files, "b1", "t1", "test", NULL, CHALLENGE_OPEN, NULL};
  CHECK(version_at("v0", 1));
  CHECK(db_challenge_upsert(db, &imp, 1000) == APP_OK);
  CHECK(db_challenge_dir_current(db, "challenges/vers/v0") == 1);
  CHECK(versions_get_held(db, "vers", &got) == APP_OK && strcmp(got.dir, "challenges/vers/v0") == 0);
  /* a re-import while a run reads v0: v1 is current, v0 stays until the run gives it back */
  CHECK(version_at("v1", 1));
  snprintf(c.dir, sizeof(c.dir), "challenges/vers/v1");
  CHECK(db_challenge_upsert(db, &imp, 1001) == APP_OK);
  CHECK(db_challenge_dir_current(db, "challenges/vers/v0") == 0);
  CHECK(versions_sweep(db) == 0);
  CHECK(version_at("v0", 0) && version_at("v1", 0));
  versions_release(got.dir);
  CHECK(versions_sweep(db) == 1);
  CHECK(!version_at("v0", 0) && version_at("v1", 0));
  /* an import copying into v2, its row not written yet: no sweep takes v2 meanwhile */
  int lock = versions_import_begin();
  CHECK(lock >= 0);
  CHECK(version_at("v2", 1));
  CHECK(versions_sweep(db) == 0);
  CHECK(version_at("v2", 0));
  versions_import_end(lock);
  CHECK(versions_sweep(db) == 1); /* the import failed: its folder has no row */
  CHECK(!version_at("v2", 0) && version_at("v1", 0));
  /* holds are counted: two runs read v1, then v3 is imported; v1 goes after both */
  CHECK(versions_get_held(db, "vers", &got) == APP_OK && versions_get_held(db, "vers", &got) == APP_OK);
  CHECK(versions_get_held(db, "nope", &got) == APP_NOT_FOUND);
  CHECK(version_at("v3", 1));
  snprintf(c.dir, sizeof(c.dir), "challenges/vers/v3");
  CHECK(db_challenge_upsert(db, &imp, 1002) == APP_OK);
  versions_release("challenges/vers/v1");
  CHECK(versions_sweep(db) == 0 && version_at("v1", 0));
  versions_release("challenges/vers/v1");
  CHECK(versions_sweep(db) == 1 && !version_at("v1", 0) && version_at("v3", 0));
  /* a backup (another process, the data folder by its path) copying v3 while v4 is imported: v3 stays until the
   * backup ends */
  snprintf(path, sizeof(path), "%s/vdata", tmpdir);
  int keep = versions_keep_all(path);
  CHECK(keep >= 0);
  CHECK(version_at("v4", 1));
  snprintf(c.dir, sizeof(c.dir), "challenges/vers/v4");
  CHECK(db_challenge_upsert(db, &imp, 1003) == APP_OK);
  CHECK(versions_sweep(db) == 0 && version_at("v3", 0));
  versions_import_end(keep);
  CHECK(versions_sweep(db) == 1 && !version_at("v3", 0) && version_at("v4", 0));
  snprintf(path, sizeof(path), "%s/no-such-data", tmpdir);
  CHECK(versions_keep_all(path) == -1);
  /* a data folder no import or sweep has locked yet: the backup creates the lock file, read-only ones lock too */
  snprintf(path, sizeof(path), "%s/kdata", tmpdir);
  CHECK(mkdir(path, 0700) == 0);
  int given = geteuid() == 0 && chown(path, 65534, 65534) == 0; /* a server's folder, the backup run as root */
  keep = versions_keep_all(path);
  CHECK(keep >= 0);
  versions_import_end(keep);
  snprintf(path, sizeof(path), "%s/kdata/import.lock", tmpdir);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (!given || (st.st_uid == 65534 && st.st_gid == 65534)));
  CHECK(chmod(path, 0400) == 0);
  snprintf(path, sizeof(path), "%s/kdata", tmpdir);
  keep = versions_keep_all(path);
  CHECK(keep >= 0);
  versions_import_end(keep);
  json_decref(files);
  sqlite3_close(db);
}

int main(void)
{
  if (check_begin() != 0)
    return 1;
  test_db();
  test_faults();
  test_stmt_cache();
  test_memo();
  test_board_cap();
  test_best_incremental();
  test_versions();
  return check_end("db");
}
