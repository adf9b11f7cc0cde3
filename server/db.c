/* db.c: the database's set-up (see db.h): the schema and its migrations, the connection pool and its checks, the
 * query-plan check of the tests, and the helpers every db_*.c file shares (db_internal.h). The queries are in
 * db_*.c, one file per resource (accounts, challenges, submissions, the queue, teams, the jury...). Every
 * statement is prepared with bound parameters; nothing is ever formatted into SQL. */
#include "db.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "db_memo.h"
#include "def.h"
#include "util.h"

/* ---------------------------------------------------------------- schema */

static const char *const migrations[DB_SCHEMA_VERSION] = {
  /* 1: the foundation */
  "CREATE TABLE users("
  "  id INTEGER PRIMARY KEY,"
  "  username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
  "  email TEXT NOT NULL,"
  "  role TEXT NOT NULL CHECK(role IN ('participant','organizer','jury','admin')),"
  "  pw_hash TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL);"
  "CREATE TABLE sessions("
  "  token_hash TEXT PRIMARY KEY,"
  "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
  "  csrf_token TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL,"
  "  expires_at INTEGER NOT NULL);"
  "CREATE TABLE api_tokens("
  "  id INTEGER PRIMARY KEY,"
  "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
  "  name TEXT NOT NULL,"
  "  token_hash TEXT NOT NULL UNIQUE,"
  "  created_at INTEGER NOT NULL,"
  "  last_used_at INTEGER);"
  "CREATE TABLE login_failures("
  "  username TEXT PRIMARY KEY COLLATE NOCASE,"
  "  count INTEGER NOT NULL,"
  "  window_start INTEGER NOT NULL);"
  "CREATE TABLE challenges("
  "  id INTEGER PRIMARY KEY,"
  "  slug TEXT NOT NULL UNIQUE,"
  "  title TEXT NOT NULL, summary TEXT NOT NULL, overview TEXT NOT NULL, terms TEXT NOT NULL,"
  "  terms_version INTEGER NOT NULL,"
  "  metric_name TEXT NOT NULL, metric_json TEXT NOT NULL, higher_is_better INTEGER NOT NULL,"
  "  id_column TEXT NOT NULL, split_column TEXT NOT NULL, precision INTEGER NOT NULL,"
  "  definition TEXT NOT NULL, dir TEXT NOT NULL,"
  "  published_at INTEGER,"
  "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
  "CREATE TABLE phases("
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,"
  "  idx INTEGER NOT NULL, name TEXT NOT NULL,"
  "  start_at INTEGER NOT NULL, end_at INTEGER NOT NULL,"
  "  max_per_day INTEGER NOT NULL, max_total INTEGER NOT NULL, final_selection INTEGER NOT NULL,"
  "  PRIMARY KEY(challenge_id, idx));"
  "CREATE TABLE challenge_files("
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,"
  "  idx INTEGER NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,"
  "  PRIMARY KEY(challenge_id, name));"
  "CREATE TABLE terms_acceptances("
  "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,"
  "  version INTEGER NOT NULL, accepted_at INTEGER NOT NULL,"
  "  PRIMARY KEY(user_id, challenge_id, version));"
  "CREATE TABLE submissions("
  "  id INTEGER PRIMARY KEY,"
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id),"
  "  user_id INTEGER NOT NULL REFERENCES users(id),"
  "  phase TEXT NOT NULL,"
  "  sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
  "  description TEXT NOT NULL DEFAULT '',"
  "  idempotency_key TEXT,"
  "  status TEXT NOT NULL CHECK(status IN ('queued','running','scored','failed')),"
  "  score REAL, public_score REAL, private_score REAL,"
  "  error_code TEXT, error_message TEXT, log TEXT,"
  "  created_at INTEGER NOT NULL, started_at INTEGER, scored_at INTEGER,"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  UNIQUE(challenge_id, user_id, idempotency_key));"
  "CREATE INDEX submissions_queue ON submissions(status, id);"
  "CREATE INDEX submissions_user ON submissions(challenge_id, user_id, created_at);"
  "CREATE INDEX submissions_sha ON submissions(sha256);"
  "CREATE TABLE leaderboard_best("
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,"
  "  user_id INTEGER NOT NULL REFERENCES users(id),"
  "  submission_id INTEGER NOT NULL REFERENCES submissions(id),"
  "  score REAL NOT NULL,"
  "  best_created_at INTEGER NOT NULL,"
  "  n_scored INTEGER NOT NULL,"
  "  last_at INTEGER NOT NULL,"
  "  PRIMARY KEY(challenge_id, user_id));",
  /* 2: teams (every participant competes in a team, solo by default), cancelled runs, disqualification,
   * final selection, jury notes, the signed ranking and the append-only, hash-chained audit log. */
  "CREATE TABLE teams("
  "  id INTEGER PRIMARY KEY,"
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,"
  "  name TEXT NOT NULL COLLATE NOCASE,"
  "  solo INTEGER NOT NULL DEFAULT 0,"
  "  invite_code TEXT NOT NULL UNIQUE,"
  "  disqualified_at INTEGER, disqualify_reason TEXT,"
  "  created_at INTEGER NOT NULL);"
  "CREATE UNIQUE INDEX teams_name ON teams(challenge_id, name) WHERE solo=0;"
  "CREATE TABLE team_members("
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,"
  "  user_id INTEGER NOT NULL REFERENCES users(id),"
  "  team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,"
  "  joined_at INTEGER NOT NULL,"
  "  PRIMARY KEY(challenge_id, user_id));"
  "CREATE INDEX team_members_team ON team_members(team_id);"
  "INSERT INTO teams(challenge_id,name,solo,invite_code,created_at) "
  "  SELECT x.challenge_id, u.username, 1, lower(hex(randomblob(12))), min(x.at) FROM "
  "  (SELECT challenge_id, user_id, accepted_at AS at FROM terms_acceptances "
  "   UNION ALL SELECT challenge_id, user_id, created_at FROM submissions) x "
  "  JOIN users u ON u.id=x.user_id GROUP BY x.challenge_id, x.user_id;"
  "INSERT INTO team_members(challenge_id,user_id,team_id,joined_at) "
  "  SELECT t.challenge_id, u.id, t.id, t.created_at FROM teams t JOIN users u ON u.username=t.name WHERE t.solo=1;"
  "CREATE TABLE submissions2("
  "  id INTEGER PRIMARY KEY,"
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id),"
  "  user_id INTEGER NOT NULL REFERENCES users(id),"
  "  team_id INTEGER NOT NULL REFERENCES teams(id),"
  "  phase TEXT NOT NULL,"
  "  sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
  "  description TEXT NOT NULL DEFAULT '',"
  "  idempotency_key TEXT,"
  "  status TEXT NOT NULL CHECK(status IN ('queued','running','scored','failed','cancelled')),"
  "  score REAL, public_score REAL, private_score REAL, private_ci_lo REAL, private_ci_hi REAL,"
  "  error_code TEXT, error_message TEXT, log TEXT,"
  "  created_at INTEGER NOT NULL, started_at INTEGER, scored_at INTEGER,"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  disqualified_at INTEGER, disqualify_reason TEXT,"
  "  UNIQUE(challenge_id, user_id, idempotency_key));"
  "INSERT INTO submissions2(id,challenge_id,user_id,team_id,phase,sha256,size,description,idempotency_key,status,"
  "  score,public_score,private_score,error_code,error_message,log,created_at,started_at,scored_at,attempts) "
  "  SELECT s.id,s.challenge_id,s.user_id,m.team_id,s.phase,s.sha256,s.size,s.description,s.idempotency_key,"
  "  s.status,s.score,s.public_score,s.private_score,s.error_code,s.error_message,s.log,s.created_at,"
  "  s.started_at,s.scored_at,s.attempts FROM submissions s "
  "  JOIN team_members m ON m.challenge_id=s.challenge_id AND m.user_id=s.user_id;"
  "DROP TABLE leaderboard_best;"
  "DROP TABLE submissions;"
  "ALTER TABLE submissions2 RENAME TO submissions;"
  "CREATE INDEX submissions_queue ON submissions(status, id);"
  "CREATE INDEX submissions_team ON submissions(challenge_id, team_id, created_at);"
  "CREATE INDEX submissions_sha ON submissions(sha256);"
  "CREATE TABLE leaderboard_best("
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,"
  "  team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,"
  "  submission_id INTEGER NOT NULL REFERENCES submissions(id),"
  "  score REAL NOT NULL,"
  "  best_created_at INTEGER NOT NULL,"
  "  n_scored INTEGER NOT NULL,"
  "  last_at INTEGER NOT NULL,"
  "  PRIMARY KEY(challenge_id, team_id));"
  "INSERT INTO leaderboard_best(challenge_id,team_id,submission_id,score,best_created_at,n_scored,last_at) "
  "  SELECT challenge_id, team_id, id, public_score, created_at, n, last_at FROM ("
  "  SELECT s.challenge_id, s.team_id, s.id, s.public_score, s.created_at,"
  "  row_number() OVER (PARTITION BY s.challenge_id, s.team_id ORDER BY CASE WHEN c.higher_is_better "
  "    THEN -score_round(s.public_score, c.precision) ELSE score_round(s.public_score, c.precision) END, "
  "s.created_at, s.id) AS r,"
  "  count(*) OVER (PARTITION BY s.challenge_id, s.team_id) AS n,"
  "  max(s.created_at) OVER (PARTITION BY s.challenge_id, s.team_id) AS last_at "
  "  FROM submissions s JOIN challenges c ON c.id=s.challenge_id "
  "  WHERE s.status='scored' AND s.public_score IS NOT NULL AND s.disqualified_at IS NULL) WHERE r=1;"
  "ALTER TABLE challenges ADD COLUMN team_max_size INTEGER NOT NULL DEFAULT 1;"
  "ALTER TABLE challenges ADD COLUMN ranking_json TEXT;"
  "ALTER TABLE challenges ADD COLUMN ranking_sig TEXT;"
  "CREATE TABLE selections("
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,"
  "  team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,"
  "  submission_id INTEGER NOT NULL REFERENCES submissions(id),"
  "  phase TEXT NOT NULL,"
  "  selected_at INTEGER NOT NULL,"
  "  PRIMARY KEY(team_id, submission_id));"
  "CREATE TABLE notes("
  "  id INTEGER PRIMARY KEY,"
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,"
  "  author_id INTEGER NOT NULL REFERENCES users(id),"
  "  submission_id INTEGER, team_id INTEGER,"
  "  text TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL);"
  "CREATE TABLE audit_log("
  "  id INTEGER PRIMARY KEY,"
  "  at INTEGER NOT NULL,"
  "  actor TEXT NOT NULL,"
  "  action TEXT NOT NULL,"
  "  challenge TEXT,"
  "  target TEXT,"
  "  reason TEXT,"
  "  details TEXT NOT NULL,"
  "  prev_hash TEXT NOT NULL,"
  "  hash TEXT NOT NULL);"
  "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
  "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
  "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
  "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
  /* 3: the anonymity report of each data file (issue 7) */
  "ALTER TABLE challenge_files ADD COLUMN anonymity TEXT;",
  /* 4: what the last import copied, so that an unchanged bundle is recognised and a changed one reported (issue 17) */
  "ALTER TABLE challenges ADD COLUMN bundle_sha256 TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE challenges ADD COLUMN truth_sha256 TEXT NOT NULL DEFAULT '';",
  /* 5: challenge states and staff per challenge (issue 17) */
  "ALTER TABLE challenges ADD COLUMN state TEXT NOT NULL DEFAULT 'open' CHECK(state IN ('open','draft','archived'));"
  "CREATE TABLE challenge_staff("
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id),"
  "  user_id INTEGER NOT NULL REFERENCES users(id),"
  "  role TEXT NOT NULL CHECK(role IN ('organizer','jury')),"
  "  granted_at INTEGER NOT NULL,"
  "  PRIMARY KEY(challenge_id, user_id)) WITHOUT ROWID;"
  "CREATE INDEX challenge_staff_user ON challenge_staff(user_id);",
  /* 6: downloads audited once per user, file and hour (issue 10) */
  "CREATE INDEX audit_log_download ON audit_log(action, challenge, target, actor, at);",
  /* 7: the addresses each account logged in from, for the login throttle (issue 10) */
  "CREATE TABLE known_clients("
  "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
  "  address TEXT NOT NULL,"
  "  last_at INTEGER NOT NULL,"
  "  PRIMARY KEY(user_id, address)) WITHOUT ROWID;"
  "DELETE FROM login_failures;",
  /* 8: storage quotas (issue 10) */
  "ALTER TABLE challenges ADD COLUMN storage_team_mb INTEGER NOT NULL DEFAULT 1024;"
  "ALTER TABLE challenges ADD COLUMN storage_challenge_mb INTEGER NOT NULL DEFAULT 0;"
  "CREATE INDEX submissions_team_size ON submissions(challenge_id, team_id, size);",
  /* 9: the leaderboard's version, bumped by every change it shows, so that it is built once per change (issue 18) */
  "ALTER TABLE challenges ADD COLUMN lb_version INTEGER NOT NULL DEFAULT 0;"
  "CREATE TRIGGER lb_best_insert AFTER INSERT ON leaderboard_best BEGIN "
  "  UPDATE challenges SET lb_version=lb_version+1 WHERE id=NEW.challenge_id; END;"
  "CREATE TRIGGER lb_best_update AFTER UPDATE ON leaderboard_best BEGIN "
  "  UPDATE challenges SET lb_version=lb_version+1 WHERE id=NEW.challenge_id; END;"
  "CREATE TRIGGER lb_best_delete AFTER DELETE ON leaderboard_best BEGIN "
  "  UPDATE challenges SET lb_version=lb_version+1 WHERE id=OLD.challenge_id; END;"
  "CREATE TRIGGER lb_team_update AFTER UPDATE OF name, disqualified_at ON teams BEGIN "
  "  UPDATE challenges SET lb_version=lb_version+1 WHERE id=NEW.challenge_id; END;"
  "CREATE TRIGGER lb_challenge_update AFTER UPDATE OF precision, higher_is_better, metric_name, published_at, state "
  "  ON challenges BEGIN UPDATE challenges SET lb_version=lb_version+1 WHERE id=NEW.id; END;",
  /* 10: code-execution challenges (issue 11): the challenge's submission kind, smoke runs, and what a code run
   * leaves (its stage, log, wall time, peak memory, runtime identity) */
  "ALTER TABLE challenges ADD COLUMN code INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE challenges ADD COLUMN code_max_mb INTEGER NOT NULL DEFAULT 100;"
  "ALTER TABLE challenges ADD COLUMN smoke_per_day INTEGER NOT NULL DEFAULT 10;"
  "ALTER TABLE challenges ADD COLUMN has_smoke INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE submissions ADD COLUMN mode TEXT CHECK(mode IN ('full','smoke'));"
  "ALTER TABLE submissions ADD COLUMN stage TEXT;"
  "ALTER TABLE submissions ADD COLUMN run_log TEXT;"
  "ALTER TABLE submissions ADD COLUMN log_public INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE submissions ADD COLUMN run_wall_ms INTEGER;"
  "ALTER TABLE submissions ADD COLUMN run_maxrss_kb INTEGER;"
  "ALTER TABLE submissions ADD COLUMN runtime_sha256 TEXT;",
  /* 11: remote workers (issue 12): worker tokens scoped to a queue, the workers seen, and each code run's lease: a
   * fence bumped at every claim, when the lease ends, the node running it, and a worker's output waiting to be scored */
  "CREATE TABLE worker_tokens("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  queue TEXT NOT NULL,"
  "  token_hash TEXT NOT NULL UNIQUE,"
  "  created_at INTEGER NOT NULL,"
  "  revoked_at INTEGER);"
  "CREATE TABLE workers("
  "  token_id INTEGER NOT NULL REFERENCES worker_tokens(id),"
  "  node TEXT NOT NULL,"
  "  last_seen_at INTEGER NOT NULL,"
  "  PRIMARY KEY(token_id, node)) WITHOUT ROWID;"
  "ALTER TABLE challenges ADD COLUMN queue TEXT NOT NULL DEFAULT 'default';"
  "ALTER TABLE challenges ADD COLUMN code_runtime TEXT NOT NULL DEFAULT 'host';"
  "ALTER TABLE submissions ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE submissions ADD COLUMN lease_expires_at INTEGER;"
  "ALTER TABLE submissions ADD COLUMN worker_node TEXT;"
  "ALTER TABLE submissions ADD COLUMN output_path TEXT;",
  /* 12: a code run's own deadline (its wall limit from when its code starts, plus a lease), which a remote worker
   * cannot outlive, and the wall limit the run was handed out with */
  "ALTER TABLE submissions ADD COLUMN run_wall_limit_s INTEGER;"
  "ALTER TABLE submissions ADD COLUMN run_deadline_at INTEGER;",
  /* 13: e-mail (issue 16): the outgoing queue (nothing lost while the mail server is away), password-reset tokens
   * (hashed, single use, expiring) and each user's choice of notifications */
  "CREATE TABLE mails("
  "  id INTEGER PRIMARY KEY,"
  "  to_addr TEXT NOT NULL,"
  "  subject TEXT NOT NULL,"
  "  body TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL,"
  "  next_try_at INTEGER NOT NULL,"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  sent_at INTEGER,"
  "  last_error TEXT);"
  "CREATE INDEX mails_due ON mails(next_try_at) WHERE sent_at IS NULL;"
  "CREATE TABLE password_resets("
  "  token_hash TEXT PRIMARY KEY,"
  "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
  "  created_at INTEGER NOT NULL,"
  "  expires_at INTEGER NOT NULL,"
  "  used_at INTEGER);"
  "ALTER TABLE users ADD COLUMN notify_submissions INTEGER NOT NULL DEFAULT 1;",
  /* 14: API token scopes (issue 16): "read" (reading only) or "submit" (a participant's actions too) */
  "ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'submit' CHECK(scope IN ('read','submit'));",
  /* 15: news by mail (issue 16): each user's choice, and the phase reminders already sent (once each) */
  "ALTER TABLE users ADD COLUMN notify_news INTEGER NOT NULL DEFAULT 1;"
  "CREATE TABLE phase_mails("
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,"
  "  phase TEXT NOT NULL,"
  "  kind TEXT NOT NULL CHECK(kind IN ('opens','closes')),"
  "  sent_at INTEGER NOT NULL,"
  "  PRIMARY KEY(challenge_id, phase, kind));",
  /* 16: address verification (issue 16, serve --verify-email): when an address was confirmed (accounts made before
   * count as confirmed), and the links sent to confirm one (hashed, single use, expiring) */
  "ALTER TABLE users ADD COLUMN email_verified_at INTEGER;"
  "UPDATE users SET email_verified_at=created_at;"
  "CREATE TABLE email_verifications("
  "  token_hash TEXT PRIMARY KEY,"
  "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
  "  email TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL,"
  "  expires_at INTEGER NOT NULL,"
  "  used_at INTEGER);",
  /* 17: the language of the account's mails (issue 16): the one of its registration, then of the pages' switch */
  "ALTER TABLE users ADD COLUMN lang TEXT NOT NULL DEFAULT 'en' CHECK(lang IN ('en','fr'));",
  /* 18: method descriptions (issue 14, docs/factsheets.md): one per team and challenge, its file content-addressed in
   * the submissions store, and the jury's verdict */
  "CREATE TABLE fact_sheets("
  "  challenge_id INTEGER NOT NULL REFERENCES challenges(id) ON DELETE CASCADE,"
  "  team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,"
  "  sha256 TEXT NOT NULL,"
  "  kind TEXT NOT NULL CHECK(kind IN ('pdf','markdown')),"
  "  size INTEGER NOT NULL,"
  "  link TEXT,"
  "  status TEXT NOT NULL CHECK(status IN ('pending','accepted','refused')),"
  "  reason TEXT,"
  "  uploaded_at INTEGER NOT NULL,"
  "  uploaded_by INTEGER REFERENCES users(id) ON DELETE SET NULL,"
  "  reviewed_at INTEGER,"
  "  PRIMARY KEY(challenge_id, team_id));"
  "CREATE INDEX fact_sheets_sha ON fact_sheets(sha256);",
  /* 19: several metrics (issue 14): a challenge's metrics and ranking rule (def.c builds the summary), and each
   * submission's values of its secondary metrics {"KEY":{"score","public","private"}} */
  "ALTER TABLE challenges ADD COLUMN metrics_json TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE submissions ADD COLUMN metrics TEXT;"
  /* a new rule or new metrics change the leaderboard's order and columns: a new version of it */
  "DROP TRIGGER lb_challenge_update;"
  "CREATE TRIGGER lb_challenge_update AFTER UPDATE OF precision, higher_is_better, metric_name, published_at, state, "
  "  metrics_json ON challenges BEGIN UPDATE challenges SET lb_version=lb_version+1 WHERE id=NEW.id; END;",
  /* 20: organizer views at a million submissions (issue 18): submissions counted per challenge and status by
   * triggers (the queue view and the export's total read the counts instead of counting), and indexes for a
   * challenge's submissions by id (the export's pages) and by status (the oldest queued, the latest failures) */
  "CREATE TABLE submission_counts("
  "  challenge_id INTEGER NOT NULL,"
  "  status TEXT NOT NULL,"
  "  n INTEGER NOT NULL,"
  "  PRIMARY KEY(challenge_id, status)) WITHOUT ROWID;"
  "INSERT INTO submission_counts SELECT challenge_id, status, count(*) FROM submissions GROUP BY challenge_id, status;"
  "CREATE TRIGGER submission_count_insert AFTER INSERT ON submissions BEGIN "
  "  INSERT INTO submission_counts VALUES(NEW.challenge_id, NEW.status, 1) "
  "  ON CONFLICT(challenge_id, status) DO UPDATE SET n=n+1; END;"
  "CREATE TRIGGER submission_count_delete AFTER DELETE ON submissions BEGIN "
  "  UPDATE submission_counts SET n=n-1 WHERE challenge_id=OLD.challenge_id AND status=OLD.status; END;"
  "CREATE TRIGGER submission_count_update AFTER UPDATE OF status, challenge_id ON submissions "
  "  WHEN OLD.status IS NOT NEW.status OR OLD.challenge_id IS NOT NEW.challenge_id BEGIN "
  "  UPDATE submission_counts SET n=n-1 WHERE challenge_id=OLD.challenge_id AND status=OLD.status;"
  "  INSERT INTO submission_counts VALUES(NEW.challenge_id, NEW.status, 1) "
  "  ON CONFLICT(challenge_id, status) DO UPDATE SET n=n+1; END;"
  "CREATE INDEX submissions_challenge ON submissions(challenge_id, id);"
  "CREATE INDEX submissions_status ON submissions(challenge_id, status, id);"
  /* the jury's bootstrap intervals off the scoring path: 1 due, 2 computing (back to 1 at start), 0 done or none */
  "ALTER TABLE submissions ADD COLUMN ci_pending INTEGER NOT NULL DEFAULT 0;"
  "CREATE INDEX submissions_ci_pending ON submissions(id) WHERE ci_pending>0;"
  /* the jury's list of disqualifications: few rows among many */
  "CREATE INDEX submissions_disqualified ON submissions(challenge_id) WHERE disqualified_at IS NOT NULL;"
  /* the foreign-key checks of a new team or user look for submissions referring to it: by index (a new solo team
   * scanned every submission) */
  "CREATE INDEX submissions_team_id ON submissions(team_id);"
  "CREATE INDEX submissions_user_id ON submissions(user_id);"
  "CREATE INDEX audit_log_challenge ON audit_log(challenge, id);"
  /* the public list of challenges, cached while this version holds (every change of a challenge or a phase bumps
   * it; a leaderboard's own version, bumped by every scoring, does not) */
  "CREATE TABLE catalogue(version INTEGER NOT NULL);"
  "INSERT INTO catalogue VALUES(0);"
  "CREATE TRIGGER catalogue_challenge_insert AFTER INSERT ON challenges BEGIN "
  "  UPDATE catalogue SET version=version+1; END;"
  "CREATE TRIGGER catalogue_challenge_delete AFTER DELETE ON challenges BEGIN "
  "  UPDATE catalogue SET version=version+1; END;"
  "CREATE TRIGGER catalogue_challenge_update AFTER UPDATE ON challenges WHEN OLD.lb_version IS NEW.lb_version BEGIN "
  "  UPDATE catalogue SET version=version+1; END;"
  "CREATE TRIGGER catalogue_phase_insert AFTER INSERT ON phases BEGIN UPDATE catalogue SET version=version+1; END;"
  "CREATE TRIGGER catalogue_phase_delete AFTER DELETE ON phases BEGIN UPDATE catalogue SET version=version+1; END;"
  "CREATE TRIGGER catalogue_phase_update AFTER UPDATE ON phases BEGIN UPDATE catalogue SET version=version+1; END;",
  /* 21: CodaLab's code submissions (issue 13): the code runs under an organizer's ingestion program, and an upload
   * without a metadata file is result files */
  "ALTER TABLE challenges ADD COLUMN ingestion INTEGER NOT NULL DEFAULT 0;",
  /* 22: a newly scored submission updates its team's best row in place (best_add) unless a submission of the team
   * is being scored again (rescored: queued or running, scored before): those few rows, found by this index */
  "CREATE INDEX submissions_rescoring ON submissions(challenge_id, team_id) "
  "  WHERE status IN ('queued','running') AND scored_at IS NOT NULL;",
};

void dbi_log(sqlite3 *db, const char *what)
{
  fprintf(stderr, "concours: database: %s: %s\n", what, db != NULL ? sqlite3_errmsg(db) : "no connection");
}

static int pragma_int(sqlite3 *db, const char *sql, long long *out)
{
  sqlite3_stmt *st = NULL;
  int rc = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    goto out;
  if (sqlite3_step(st) != SQLITE_ROW)
    goto out;
  *out = sqlite3_column_int64(st, 0);
  rc = 0;
out:
  dbi_finalize(st);
  return rc;
}

static int pragma_text(sqlite3 *db, const char *sql, char *out, size_t n)
{
  sqlite3_stmt *st = NULL;
  int rc = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    goto out;
  if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL)
    goto out;
  util_strlcpy(out, (const char *)sqlite3_column_text(st, 0), n);
  rc = 0;
out:
  dbi_finalize(st);
  return rc;
}

static int migrate(sqlite3 *db, char *err, size_t errlen)
{
  long long version = 0;
  char *msg = NULL;
  if (pragma_int(db, "PRAGMA user_version", &version) != 0) {
    snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
    return -1;
  }
  if (version > DB_SCHEMA_VERSION) {
    snprintf(err, errlen, "the database has schema version %lld, newer than this concours (%d)", version,
             DB_SCHEMA_VERSION);
    return -1;
  }
  while (version < DB_SCHEMA_VERSION) {
    char sql[64];
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
      goto fail;
    if (sqlite3_exec(db, migrations[version], NULL, NULL, &msg) != SQLITE_OK)
      goto fail;
    snprintf(sql, sizeof(sql), "PRAGMA user_version=%lld", version + 1);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
      goto fail;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
      goto fail;
    version++;
  }
  return 0;
fail:
  snprintf(err, errlen, "migration to schema version %lld failed: %s", version + 1, msg ? msg : "?");
  sqlite3_free(msg);
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

/* score_round(v, precision) in SQL: dbi_round, so that ranking (ORDER BY), display, exports and the signed
 * ranking round every score by one rule (SQLite's own round() disagrees with C's on values like 0.575). */
static void sql_score_round(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  (void)argc;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  sqlite3_result_double(ctx, dbi_round(sqlite3_value_double(argv[0]), sqlite3_value_int(argv[1])));
}

/* Before SQLite's first use: no memory statistics. Debian's SQLite keeps them by default, under one global mutex
 * taken on every allocation of every connection; switching them off halved the CPU of a cached leaderboard read. */
static void sqlite_setup(void)
{
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

sqlite3 *db_open(const char *path, char *err, size_t errlen)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, sqlite_setup);
  sqlite3 *db = NULL;
  char mode[32] = "";
  long long sync = -1, fk = -1, timeout = -1;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    goto fail;
  }
  sqlite3_busy_timeout(db, 10000);
  if (sqlite3_create_function(db, "score_round", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_score_round, NULL,
                              NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot register score_round: %s", sqlite3_errmsg(db));
    goto fail;
  }
  sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
  sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
  sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
  sqlite3_exec(db, "PRAGMA busy_timeout=10000", NULL, NULL, NULL);
  if (pragma_text(db, "PRAGMA journal_mode", mode, sizeof(mode)) != 0 || strcmp(mode, "wal") != 0 ||
      pragma_int(db, "PRAGMA synchronous", &sync) != 0 || sync != 2 ||
      pragma_int(db, "PRAGMA foreign_keys", &fk) != 0 || fk != 1 ||
      pragma_int(db, "PRAGMA busy_timeout", &timeout) != 0 || timeout < 1000) {
    snprintf(err, errlen,
             "%s: the database refused its settings (journal_mode=%s synchronous=%lld "
             "foreign_keys=%lld busy_timeout=%lld; need wal, 2, 1, >=1000)",
             path, mode, sync, fk, timeout);
    goto fail;
  }
  if (migrate(db, err, errlen) != 0 || def_phase_migrate(db, err, errlen) != 0)
    goto fail;
  return db;
fail:
  sqlite3_close(db);
  return NULL;
}

/* ---------------------------------------------------------------- pool */

#define POOL_MAX 128
static struct {
  pthread_mutex_t lock;
  pthread_cond_t freed;
  sqlite3 *conns[POOL_MAX];
  int nfree;
  int size;
  sqlite3 *all[POOL_MAX]; /* every pooled connection, by slot: set at init, then read without the lock */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {NULL}, 0, 0, {NULL}};

/* Prepared statements kept per pooled connection (issue 18: parsing the same SQL on every request cost a third of
 * a cached leaderboard read): dbi_prepare hands out an idle one whose SQL is the same text, dbi_finalize resets
 * it instead of finalizing it. Only the thread holding the connection touches its slot's table. */
#define STMT_CACHE 64
static struct stmt_slot {
  struct {
    const char *key; /* the caller's SQL pointer (a literal), checked against the statement's own text */
    sqlite3_stmt *st;
    int in_use;
  } e[STMT_CACHE];
  int n;
} stmt_cache[POOL_MAX];

static struct stmt_slot *slot_of(sqlite3 *db)
{
  for (int i = 0; db != NULL && i < POOL_MAX && pool.all[i] != NULL; i++) {
    if (pool.all[i] == db)
      return &stmt_cache[i];
  }
  return NULL;
}

int db_pool_init(const char *path, int size, char *err, size_t errlen)
{
  if (size < 1 || size > POOL_MAX) {
    snprintf(err, errlen, "database pool size %d out of range", size);
    return -1;
  }
  for (int i = 0; i < size; i++) {
    sqlite3 *db = db_open(path, err, errlen);
    if (db == NULL) {
      db_pool_close();
      return -1;
    }
    pool.all[i] = db;
    pool.conns[pool.nfree++] = db;
    pool.size++;
  }
  if (db_memo_open(pool.all[0]) != 0) /* a pooled connection in WAL mode has the index mapped */
    fprintf(stderr, "concours: note: the WAL index of %s cannot be read: every read goes to the database\n", path);
  return 0;
}

sqlite3 *db_acquire(void)
{
  pthread_mutex_lock(&pool.lock);
  while (pool.nfree == 0)
    pthread_cond_wait(&pool.freed, &pool.lock);
  sqlite3 *db = pool.conns[--pool.nfree];
  pthread_mutex_unlock(&pool.lock);
  return db;
}

void db_release(sqlite3 *db)
{
  if (db == NULL)
    return;
  pthread_mutex_lock(&pool.lock);
  pool.conns[pool.nfree++] = db;
  pthread_cond_signal(&pool.freed);
  pthread_mutex_unlock(&pool.lock);
}

void db_pool_close(void)
{
  db_memo_close();
  pthread_mutex_lock(&pool.lock);
  for (int i = 0; i < pool.nfree; i++) { /* a connection still held elsewhere keeps its statements (as before) */
    struct stmt_slot *slot = slot_of(pool.conns[i]);
    for (int k = 0; slot != NULL && k < slot->n; k++)
      sqlite3_finalize(slot->e[k].st);
    if (slot != NULL)
      slot->n = 0;
    sqlite3_close(pool.conns[i]);
    pool.conns[i] = NULL;
  }
  memset(pool.all, 0, sizeof(pool.all));
  pool.nfree = 0;
  pool.size = 0;
  pthread_mutex_unlock(&pool.lock);
}

/* ---------------------------------------------------------------- helpers */

static atomic_long fault_after = -1; /* db_fault_inject: -1 off, else statements left before faults */

void db_fault_inject(long after)
{
  atomic_store(&fault_after, after);
}

/* 1 when the statement about to run must fail (db_fault_inject). */
static int fault_now(void)
{
  long left = atomic_load(&fault_after);
  while (left > 0) {
    if (atomic_compare_exchange_weak(&fault_after, &left, left - 1))
      return 0;
  }
  return left == 0;
}

/* ---------------------------------------------------------------- query plans (tests) */

/* Tables that grow with the submissions: a statement must reach their rows through an index. */
static const char *const big_tables[] = {"submissions", "audit_log"};

/* True if NAME[0..LEN) is TABLE or an alias SQL gives it ("FROM submissions s", "JOIN audit_log AS a"). */
static int names_big_table(const char *sql, const char *name, size_t len, const char *table)
{
  static const char *const not_alias[] = {"WHERE",  "JOIN",  "ON",     "GROUP",   "ORDER",  "LIMIT",
                                          "LEFT",   "INNER", "CROSS",  "USING",   "SET",    "VALUES",
                                          "WINDOW", "UNION", "EXCEPT", "NATURAL", "INDEXED"};
  size_t tl = strlen(table);
  if (len == tl && strncmp(name, table, len) == 0)
    return 1;
  for (const char *at = strstr(sql, table); at != NULL; at = strstr(at + tl, table)) {
    const char *p = at + tl;
    if (at > sql && (at[-1] == '_' || (at[-1] >= 'a' && at[-1] <= 'z')))
      continue;
    while (*p == ' ')
      p++;
    if (strncmp(p, "AS ", 3) == 0)
      p += 3;
    size_t n = 0;
    while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || p[n] == '_' ||
           (n > 0 && p[n] >= '0' && p[n] <= '9'))
      n++;
    int keyword = 0;
    for (size_t k = 0; k < sizeof(not_alias) / sizeof(not_alias[0]); k++)
      keyword |= strlen(not_alias[k]) == n && strncmp(p, not_alias[k], n) == 0;
    if (n == len && !keyword && strncmp(p, name, n) == 0)
      return 1;
  }
  return 0;
}

/* True if the plan step DETAIL ("SCAN s USING INDEX name", "... COVERING INDEX name") reads a partial index: only
 * the rows its condition keeps (ci_pending>0, disqualified_at IS NOT NULL), few by design. */
static int partial_index_scan(sqlite3 *db, const char *detail)
{
  const char *at = strstr(detail, " INDEX ");
  if (at == NULL)
    return 0;
  char name[64];
  size_t n = strcspn(at + 7, " ");
  if (n == 0 || n >= sizeof(name))
    return 0;
  memcpy(name, at + 7, n);
  name[n] = '\0';
  int partial = 0;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "SELECT sql LIKE '% WHERE %' FROM sqlite_master WHERE type='index' AND name=?", -1, &st,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
      partial = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  return partial;
}

/* With CONCOURS_SQL_PLAN_CHECK set (the HTTP tests set it), prints to stderr every statement whose plan reads a big
 * table whole ("concours: sql plan: full scan of TABLE: SQL"); the tests' harness fails a server that printed one.
 * Run once per statement text and connection (prepared statements are kept). */
static void plan_check(sqlite3 *db, const char *sql)
{
  static atomic_int wanted = -1;
  int w = atomic_load(&wanted);
  if (w < 0) {
    w = getenv("CONCOURS_SQL_PLAN_CHECK") != NULL;
    atomic_store(&wanted, w);
  }
  if (!w || strncmp(sql, "EXPLAIN", 7) == 0)
    return;
  char buf[64];
  sqlite3_stmt *st = NULL;
  char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
  if (q == NULL || sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
    sqlite3_free(q);
    sqlite3_finalize(st);
    return;
  }
  sqlite3_free(q);
  /* rows read in rowid order up to a LIMIT, with no condition: the scan stops after LIMIT rows */
  int bounded = strstr(sql, " LIMIT ") != NULL && strstr(sql, " WHERE ") == NULL;
  while (!bounded && sqlite3_step(st) == SQLITE_ROW) {
    const char *detail = (const char *)sqlite3_column_text(st, 3);
    if (detail == NULL || strncmp(detail, "SCAN ", 5) != 0 || partial_index_scan(db, detail))
      continue;
    const char *name = detail + 5;
    size_t len = strcspn(name, " ");
    for (size_t k = 0; k < sizeof(big_tables) / sizeof(big_tables[0]); k++) {
      if (names_big_table(sql, name, len, big_tables[k]) && util_fmt(buf, sizeof(buf), "%s", big_tables[k]) == 0)
        fprintf(stderr, "concours: sql plan: full scan of %s (%s): %s\n", buf, detail, sql);
    }
  }
  sqlite3_finalize(st);
}

sqlite3_stmt *dbi_prepare(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  if (fault_now()) {
    fprintf(stderr, "concours: database: injected fault: %s\n", sql);
    return NULL;
  }
  struct stmt_slot *slot = slot_of(db);
  for (int k = 0; slot != NULL && k < slot->n; k++) {
    if (slot->e[k].key == sql && !slot->e[k].in_use && strcmp(sqlite3_sql(slot->e[k].st), sql) == 0) {
      slot->e[k].in_use = 1;
      return slot->e[k].st;
    }
  }
  int keep = slot != NULL && slot->n < STMT_CACHE;
  if (sqlite3_prepare_v3(db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) != SQLITE_OK) {
    dbi_log(db, sql);
    sqlite3_finalize(st);
    return NULL;
  }
  plan_check(db, sql);
  if (keep) {
    slot->e[slot->n].key = sql;
    slot->e[slot->n].st = st;
    slot->e[slot->n].in_use = 1;
    slot->n++;
  }
  return st;
}

void dbi_finalize(sqlite3_stmt *st)
{
  struct stmt_slot *slot = st != NULL ? slot_of(sqlite3_db_handle(st)) : NULL;
  for (int k = 0; slot != NULL && k < slot->n; k++) {
    if (slot->e[k].st == st) {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      slot->e[k].in_use = 0;
      return;
    }
  }
  sqlite3_finalize(st);
}

/* Runs a statement that returns no rows. 0 ok, SQLITE_CONSTRAINT for a constraint, -1 other errors. */
int dbi_step_done(sqlite3 *db, sqlite3_stmt *st)
{
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE)
    return 0;
  if ((rc & 0xff) == SQLITE_CONSTRAINT)
    return SQLITE_CONSTRAINT;
  dbi_log(db, sqlite3_sql(st));
  return -1;
}

json_t *dbi_rows(sqlite3 *db, sqlite3_stmt *st, dbi_row_fn row, void *arg)
{
  json_t *arr = json_array();
  int rc = SQLITE_ERROR;
  if (st == NULL || arr == NULL)
    goto fail;
  for (rc = sqlite3_step(st); rc == SQLITE_ROW; rc = sqlite3_step(st)) {
    if (json_array_append_new(arr, row(st, arg)) != 0)
      goto fail;
  }
  if (rc != SQLITE_DONE) {
    dbi_log(db, sqlite3_sql(st));
    goto fail;
  }
  dbi_finalize(st);
  return arr;
fail:
  dbi_finalize(st);
  json_decref(arr);
  return NULL;
}

void dbi_bind_text(sqlite3_stmt *st, int i, const char *s)
{
  if (s == NULL)
    sqlite3_bind_null(st, i);
  else
    sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

const char *dbi_col_text(sqlite3_stmt *st, int i)
{
  const unsigned char *t = sqlite3_column_text(st, i);
  return t != NULL ? (const char *)t : "";
}

json_t *dbi_col_time(sqlite3_stmt *st, int i)
{
  char buf[32];
  if (sqlite3_column_type(st, i) == SQLITE_NULL)
    return json_null();
  util_iso8601(sqlite3_column_int64(st, i), buf);
  return json_string(buf);
}

/* Rounds V to PRECISION decimals the same way for every response (and for ranking). */
double dbi_round(double v, int precision)
{
  double p = pow(10.0, precision);
  return round(v * p) / p;
}

json_t *dbi_col_score(sqlite3_stmt *st, int i, int precision)
{
  if (sqlite3_column_type(st, i) == SQLITE_NULL)
    return json_null();
  return json_real(dbi_round(sqlite3_column_double(st, i), precision));
}

int dbi_exec(sqlite3 *db, const char *sql)
{
  /* a ROLLBACK always runs: a fault there would leave the transaction open for the next user of the connection */
  if ((strcmp(sql, "ROLLBACK") != 0 && fault_now()) || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
    dbi_log(db, sql);
    return -1;
  }
  return 0;
}

enum app_status dbi_begin(sqlite3 *db)
{
  return dbi_exec(db, "BEGIN IMMEDIATE") == 0 ? APP_OK : APP_INTERNAL;
}

enum app_status dbi_finish(sqlite3 *db, enum app_status s)
{
  if (s == APP_OK && dbi_exec(db, "COMMIT") == 0)
    return APP_OK;
  if (!sqlite3_get_autocommit(db)) /* a failed COMMIT may have ended the transaction already */
    dbi_exec(db, "ROLLBACK");
  return s == APP_OK ? APP_INTERNAL : s;
}

enum app_status dbi_row(sqlite3 *db, sqlite3_stmt *st, dbi_fill_fn fill, void *arg, const char *what)
{
  enum app_status s = APP_INTERNAL;
  if (st == NULL)
    return APP_INTERNAL;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    s = fill(st, arg) == 0 ? APP_OK : APP_INTERNAL;
  else if (rc == SQLITE_DONE)
    s = APP_NOT_FOUND;
  else
    dbi_log(db, what);
  dbi_finalize(st);
  return s;
}

int dbi_memo_stamp(sqlite3 *db, unsigned char stamp[DB_MEMO_STAMP])
{
  return sqlite3_get_autocommit(db) && db_memo_stamp(stamp) == 0;
}

enum app_status dbi_memo_record(sqlite3 *db, const char *key, void *rec, size_t len, dbi_memo_read_fn read,
                                const void *arg)
{
  unsigned char stamp[DB_MEMO_STAMP];
  int stamped = key != NULL && dbi_memo_stamp(db, stamp);
  if (stamped && db_memo_record_get(key, stamp, rec, len))
    return APP_OK;
  enum app_status s = read(db, arg, rec);
  if (s == APP_OK && stamped)
    db_memo_record_put(key, stamp, rec, len);
  return s;
}
