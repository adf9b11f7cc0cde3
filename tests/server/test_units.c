/* test_units.c: unit tests of the server modules. routes.c is included so that its static path decoder and
 * matcher can be tested directly (the h2o way). Each check prints what failed; the exit code is the count. */
#include "../../server/routes.c"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "db.h"
#include "store.h"
#include "util.h"

static int failures;
#define CHECK(cond)                                                                                 \
  do {                                                                                              \
    if (!(cond)) {                                                                                  \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                      \
      failures++;                                                                                   \
    }                                                                                               \
  } while (0)

static void test_util(void)
{
  char buf[32];
  int64_t t = 0;
  CHECK(util_parse_iso8601("2026-03-01T12:30:00Z", &t) == 0);
  CHECK(t == 1772368200);
  util_iso8601(t, buf);
  CHECK(strcmp(buf, "2026-03-01T12:30:00Z") == 0);
  CHECK(util_parse_iso8601("2026-03-01 12:30:00", &t) != 0);
  CHECK(util_parse_iso8601("2026-03-01T12:30:00+02:00", &t) != 0);
  CHECK(util_parse_iso8601(NULL, &t) != 0);
  char small[4];
  CHECK(util_strlcpy(small, "abcdef", sizeof(small)) == -1 && strcmp(small, "abc") == 0);
  CHECK(util_fmt(small, sizeof(small), "%s", "toolong") == -1 && small[0] == '\0');
  long long v;
  CHECK(util_parse_ll("42", 0, 100, &v) == 0 && v == 42);
  CHECK(util_parse_ll("42x", 0, 100, &v) != 0);
  CHECK(util_parse_ll("101", 0, 100, &v) != 0);
  CHECK(util_parse_ll("", 0, 100, &v) != 0);
  char a[64], b[64];
  CHECK(util_random_token(32, a, sizeof(a)) == 0 && util_random_token(32, b, sizeof(b)) == 0);
  CHECK(strlen(a) == 43 && strcmp(a, b) != 0);
  CHECK(util_random_token(32, a, 10) != 0); /* refuses a buffer too small */
  char hex[65];
  util_sha256_hex("abc", 3, hex);
  CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
  CHECK(util_ct_streq("same", "same") && !util_ct_streq("same", "samf") && !util_ct_streq("a", "ab"));
}

static void test_auth(void)
{
  char hash[AUTH_HASH_MAX], hash2[AUTH_HASH_MAX];
  CHECK(auth_hash_password("correct horse battery", hash) == 0);
  CHECK(strncmp(hash, "pbkdf2_sha256$600000$", 21) == 0);
  CHECK(auth_hash_password("correct horse battery", hash2) == 0);
  CHECK(strcmp(hash, hash2) != 0); /* unique salt */
  CHECK(auth_verify_password("correct horse battery", hash) == 1);
  CHECK(auth_verify_password("correct horse batterx", hash) == 0);
  CHECK(auth_verify_password("correct horse battery", NULL) == 0);
  CHECK(auth_verify_password("x", "pbkdf2_sha256$600000$zz$zz") == 0);
  CHECK(auth_check_username("ab") == APP_INVALID_USERNAME);
  CHECK(auth_check_username("alice_01.x-y") == APP_OK);
  CHECK(auth_check_username("<script>") == APP_INVALID_USERNAME);
  CHECK(auth_check_password("short") == APP_WEAK_PASSWORD);
  CHECK(auth_check_password("aaaaaaaaaaaa") == APP_WEAK_PASSWORD);
  CHECK(auth_check_password("long enough pass") == APP_OK);
  CHECK(auth_check_email("a@b.org") == APP_OK);
  CHECK(auth_check_email("a@@b") == APP_INVALID_EMAIL);
  CHECK(auth_check_email("no-at") == APP_INVALID_EMAIL);
  CHECK(auth_check_email("a b@c.org") == APP_INVALID_EMAIL);
}

static void test_paths(void)
{
  struct path p;
  struct req r;
  memset(&r, 0, sizeof(r));
  CHECK(split_path("/api/v1/challenges/demo/files/train.csv", &p) == 0 && p.n == 4);
  CHECK(match("challenges/{}/files/{*}", &p, &r) && strcmp(r.param[0], "demo") == 0 &&
        strcmp(r.param[1], "train.csv") == 0);
  CHECK(split_path("/api/v1/challenges/demo/files/sub/x.csv", &p) == 0);
  CHECK(match("challenges/{}/files/{*}", &p, &r) && strcmp(r.param[1], "sub/x.csv") == 0);
  CHECK(!match("challenges/{}/files", &p, &r));
  CHECK(split_path("/api/v1/challenges/%2e%2e/files", &p) == -1);    /* ".." in any encoding */
  CHECK(split_path("/api/v1/challenges/a%2fb", &p) == -1);           /* encoded slash */
  CHECK(split_path("/api/v1/challenges/a%5cb", &p) == -1);           /* backslash */
  CHECK(split_path("/api/v1/challenges/a%00b", &p) == -1);           /* NUL */
  CHECK(split_path("/api/v1/challenges/a%zz", &p) == -1);            /* bad escape */
  CHECK(split_path("/api/v1/challenges/a%2", &p) == -1);             /* truncated escape */
  CHECK(split_path("/api/v1/challenges//files", &p) == -1);          /* empty segment */
  CHECK(split_path("/api/v1/challenges/", &p) == -1);                /* trailing slash */
  CHECK(split_path("/api/v2/challenges", &p) == -2);                 /* not ours */
  CHECK(split_path("/api/v1/a/b/c/d/e/f/g/h/i/j/k/l/m", &p) == -1);  /* too many segments */
  CHECK(split_path("/api/v1/challenges/caf%C3%A9", &p) == 0 && strcmp(p.seg[1], "caf\xc3\xa9") == 0);
}

static const char *tmpdir;

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
  struct new_submission ns = {cid, uid, ph,
                              "0000000000000000000000000000000000000000000000000000000000000000", 10, "", key};
  *s = db_submission_insert(db, &ns, now, hook_ok, &calls, &id, &replayed);
  return replayed ? -id : id;
}

static void score(sqlite3 *db, int64_t now, double pub, double priv)
{
  struct job j;
  CHECK(db_queue_claim(db, now, &j) == 1);
  CHECK(db_queue_scored(db, j.submission_id, pub, pub, priv, priv - 0.01, priv + 0.01, "log", now) == APP_OK);
}

static int64_t team_id_of(sqlite3 *db, int64_t cid, int64_t uid)
{
  struct team t;
  return db_team_of_user(db, cid, uid, 1, 0, &t) == 1 ? t.id : -1;
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
  memset(&c, 0, sizeof(c));
  util_strlcpy(c.slug, "demo", sizeof(c.slug));
  util_strlcpy(c.metric_name, "rmse", sizeof(c.metric_name));
  util_strlcpy(c.metric_json, "{\"name\":\"rmse\"}", sizeof(c.metric_json));
  util_strlcpy(c.id_column, "id", sizeof(c.id_column));
  util_strlcpy(c.split_column, "Usage", sizeof(c.split_column));
  util_strlcpy(c.dir, "challenges/demo/v1", sizeof(c.dir));
  c.terms_version = 1;
  c.precision = 2;
  c.higher_is_better = 0;
  c.nphases = 1;
  util_strlcpy(c.phases[0].name, "dev", sizeof(c.phases[0].name));
  c.phases[0].start_at = 0;
  c.phases[0].end_at = 4000000000LL;
  c.phases[0].max_per_day = 3;
  c.phases[0].max_total = 4;
  json_t *files = json_pack("[{s:s,s:i,s:s}]", "name", "train.csv", "size", 5, "sha256", "ab");
  struct db_import imp = {&c, "T", "S", "O", "Terms", "{}", files, "b1", "t1", "test", NULL, CHALLENGE_OPEN};
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
  struct new_submission ns = {got.id, bob, ph, "00", 1, "", NULL};
  CHECK(db_submission_insert(db, &ns, day + 60, hook_fail, &calls, &id, &replayed) == APP_NO_SPACE);
  struct quota q;
  int64_t ta = team_id_of(db, got.id, alice), tb = team_id_of(db, got.id, bob);
  CHECK(ta > 0 && tb > 0 && ta != tb);
  CHECK(db_quota(db, got.id, tb, ph, day + 70, &q) == APP_OK && q.used_total == 0); /* rolled back */
  CHECK(db_quota(db, got.id, ta, ph, day + 70, &q) == APP_OK && q.used_today == 3 && q.used_total == 3);
  CHECK(q.resets_at == day + 86400);

  /* the queue: claim in order, fail one (frees a slot), score the others */
  struct job j;
  CHECK(db_queue_claim(db, day + 100, &j) == 1);
  CHECK(db_queue_failed(db, j.submission_id, "bad", "msg", "log", day + 101) == APP_OK);
  CHECK(db_quota(db, got.id, ta, ph, day + 102, &q) == APP_OK && q.used_today == 2);
  score(db, day + 110, 0.504, 0.9);  /* alice: 0.50 at precision 2 */
  score(db, day + 120, 0.496, 0.8);  /* alice: also 0.50 once rounded: the earlier one stays best */
  CHECK(add_submission(db, got.id, bob, ph, NULL, day + 130, &s) > 0);
  score(db, day + 140, 0.70, 0.1);   /* bob: worse public, better private */

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
    CHECK(db_queue_claim(db, day + 153, &rj) == 1);
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
  json_t *mine = db_submission_json(db, 2, &va, 0, 1);
  CHECK(mine != NULL && json_object_get(mine, "private_score") == NULL);
  json_decref(mine);
  CHECK(db_submission_json(db, 2, &vb, 0, 1) == NULL);
  json_t *staff = db_submission_json(db, 2, &jury, 1, 1);
  CHECK(staff != NULL && json_object_get(staff, "private_score") != NULL);
  json_decref(staff);

  /* a crash leaves a run 'running': it is re-queued at start */
  CHECK(add_submission(db, got.id, bob, ph, NULL, day + 200, &s) > 0);
  CHECK(db_queue_claim(db, day + 201, &j) == 1);
  CHECK(db_queue_requeue_running(db) == 1);
  struct job again;
  CHECK(db_queue_claim(db, day + 202, &again) == 1 && again.submission_id == j.submission_id);
  sqlite3_close(db);
}

static void test_store(void)
{
  char err[256], dir[512], path[1024], dbpath[1024];
  snprintf(dir, sizeof(dir), "%s/data", tmpdir);
  CHECK(store_init(dir, err, sizeof(err)) == 0);
  struct store_upload u;
  CHECK(store_upload_begin(&u) == 0);
  CHECK(store_upload_write(&u, "abc", 3) == APP_OK);
  CHECK(store_upload_finish(&u) == APP_OK);
  CHECK(strcmp(u.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
  CHECK(store_upload_commit(&u) == APP_OK);
  store_upload_abort(&u);
  CHECK(store_submission_path(u.sha256, path, sizeof(path)) == 0);
  CHECK(access(path, R_OK) == 0);
  CHECK(store_submission_path("../../etc/passwd", path, sizeof(path)) == -1);
  /* an aborted upload leaves nothing in tmp/ */
  struct store_upload v;
  CHECK(store_upload_begin(&v) == 0);
  CHECK(store_upload_write(&v, "zz", 2) == APP_OK);
  char tmp_path[APP_PATH_MAX];
  util_strlcpy(tmp_path, v.tmp_path, sizeof(tmp_path));
  store_upload_abort(&v);
  CHECK(access(tmp_path, F_OK) != 0);
  /* no row refers to "abc": the sweep removes it */
  snprintf(dbpath, sizeof(dbpath), "%s/concours.db", dir);
  sqlite3 *db = db_open(dbpath, err, sizeof(err));
  CHECK(db != NULL);
  CHECK(store_sweep_orphans(db) == 1);
  CHECK(store_submission_path(u.sha256, path, sizeof(path)) == 0 && access(path, F_OK) != 0);
  sqlite3_close(db);
}

int main(void)
{
  char templ[] = "/tmp/concours-units-XXXXXX";
  tmpdir = mkdtemp(templ);
  if (tmpdir == NULL)
    return 1;
  test_util();
  test_auth();
  test_paths();
  test_db();
  test_store();
  store_remove_tree(tmpdir);
  if (failures == 0)
    printf("server units: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
