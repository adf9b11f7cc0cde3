/* db.c: all SQL of concours (see db.h): connection set-up and checks, migrations, and one function per
 * query. Every statement is prepared with bound parameters; nothing is ever formatted into SQL. */
#include "db.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anon.h"
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

/* ---------------------------------------------------------------- users */

enum app_status db_user_create(sqlite3 *db, const char *username, const char *email, enum app_role role,
                               const char *pw_hash, int64_t *id)
{
  enum app_status s = APP_INTERNAL;
  /* confirmed from the start: serve --verify-email asks a new participant to confirm it (db_mail.c) */
  sqlite3_stmt *st = dbi_prepare(
    db, "INSERT INTO users(username,email,role,pw_hash,created_at,email_verified_at) VALUES(?1,?2,?3,?4,?5,?5)");
  if (st == NULL)
    return APP_INTERNAL;
  dbi_bind_text(st, 1, username);
  dbi_bind_text(st, 2, email);
  dbi_bind_text(st, 3, app_role_name(role));
  dbi_bind_text(st, 4, pw_hash);
  sqlite3_bind_int64(st, 5, app_now());
  int rc = dbi_step_done(db, st);
  if (rc == SQLITE_CONSTRAINT) {
    s = APP_USERNAME_TAKEN;
  } else if (rc == 0) {
    *id = sqlite3_last_insert_rowid(db);
    s = APP_OK;
  }
  dbi_finalize(st);
  return s;
}

/* 1 with STAMP set when what DB reads now may be kept, or taken, from memory (db_memo.h): outside a transaction of
 * DB's own, whose writes no other connection sees yet, what was read since the last commit is still true. */
static int memo_stamp(sqlite3 *db, unsigned char stamp[DB_MEMO_STAMP])
{
  return sqlite3_get_autocommit(db) && db_memo_stamp(stamp) == 0;
}

/* Reads the record ARG names into REC from the database: APP_OK, APP_NOT_FOUND, or APP_INTERNAL. */
typedef enum app_status (*memo_read_fn)(sqlite3 *db, const void *arg, void *rec);

/* The record KEY names, into REC: from memory when it was read since the last commit (db_memo.h), else by READ
 * (with ARG) and then kept. KEY NULL: always READ, never kept. Returns READ's status. */
static enum app_status memo_record(sqlite3 *db, const char *key, void *rec, size_t len, memo_read_fn read,
                                   const void *arg)
{
  unsigned char stamp[DB_MEMO_STAMP];
  int stamped = key != NULL && memo_stamp(db, stamp);
  if (stamped && db_memo_record_get(key, stamp, rec, len))
    return APP_OK;
  enum app_status s = read(db, arg, rec);
  if (s == APP_OK && stamped)
    db_memo_record_put(key, stamp, rec, len);
  return s;
}

static void fill_user(sqlite3_stmt *st, int first, struct user *u)
{
  u->id = sqlite3_column_int64(st, first);
  util_strlcpy(u->username, dbi_col_text(st, first + 1), sizeof(u->username));
  if (app_role_parse(dbi_col_text(st, first + 2), &u->role) != 0)
    u->role = ROLE_PARTICIPANT;
}

/* A user's row (id, username, role) and, in column 3, one more text (the password hash) copied to EXTRA when it is
 * not NULL: the fill of a user lookup (a session's and a token's: fill_user_rec). */
struct user_row {
  struct user *u;
  char *extra;
  size_t extralen;
};

static int fill_user_row(sqlite3_stmt *st, void *arg)
{
  struct user_row *r = arg;
  fill_user(st, 0, r->u);
  if (r->extra != NULL)
    util_strlcpy(r->extra, dbi_col_text(st, 3), r->extralen);
  return 0;
}

enum app_status db_user_by_name(sqlite3 *db, const char *username, struct user *u, char *pw_hash, size_t hashlen)
{
  struct user_row r = {u, pw_hash, hashlen};
  sqlite3_stmt *st = dbi_prepare(db, "SELECT id,username,role,pw_hash FROM users WHERE username=?");
  if (st != NULL)
    dbi_bind_text(st, 1, username);
  return dbi_row(db, st, fill_user_row, &r, "user lookup");
}

/* ---------------------------------------------------------------- login throttling */

/* The failures counted under KEY in the window ending at NOW, and when that window started (*START). */
static int attempts(sqlite3 *db, const char *key, int64_t now, int64_t window, int64_t *start)
{
  int n = 0;
  *start = now;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT count, window_start FROM login_failures WHERE username=? AND "
                                     "window_start>?");
  if (st == NULL)
    return -1;
  dbi_bind_text(st, 1, key);
  sqlite3_bind_int64(st, 2, now - window);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    n = sqlite3_column_int(st, 0);
    *start = sqlite3_column_int64(st, 1);
  } else if (rc != SQLITE_DONE) {
    n = -1;
  }
  dbi_finalize(st);
  return n;
}

/* Adds DELTA (+1 or -1) to the counter KEY (a new window when the last one ended). 0 or -1. */
static int count_attempt(sqlite3 *db, const char *key, int delta, int64_t now, int64_t window)
{
  sqlite3_stmt *st = dbi_prepare(db, "INSERT INTO login_failures(username,count,window_start) VALUES(?1,max(?4,0),?2) "
                                     "ON CONFLICT(username) DO UPDATE SET "
                                     "count=max(0, CASE WHEN window_start>?2-?3 THEN count+?4 ELSE ?4 END),"
                                     "window_start=CASE WHEN window_start>?2-?3 THEN window_start ELSE ?2 END");
  if (st == NULL)
    return -1;
  dbi_bind_text(st, 1, key);
  sqlite3_bind_int64(st, 2, now);
  sqlite3_bind_int64(st, 3, window);
  sqlite3_bind_int(st, 4, delta);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? 0 : -1;
}

enum app_status db_login_attempt(sqlite3 *db, const char *username, const char *address, const struct login_limits *l,
                                 int64_t now, int64_t *retry_after)
{
  char akey[128], ukey[128];
  int64_t astart = now, ustart = now;
  enum app_status s = APP_INTERNAL;
  *retry_after = 0;
  if (util_fmt(akey, sizeof(akey), "address:%s", address) != 0 ||
      util_fmt(ukey, sizeof(ukey), "user:%s", username) != 0)
    return APP_INTERNAL;
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  int na = attempts(db, akey, now, l->window, &astart);
  int nu = attempts(db, ukey, now, l->window, &ustart);
  int known = 0;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT 1 FROM known_clients k JOIN users u ON u.id=k.user_id WHERE "
                                     "u.username=? AND k.address=?");
  if (st == NULL || na < 0 || nu < 0)
    goto out;
  dbi_bind_text(st, 1, username);
  dbi_bind_text(st, 2, address);
  int rc = sqlite3_step(st);
  known = rc == SQLITE_ROW;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    goto out;
  if (na >= l->per_address || (!known && nu >= l->per_account)) {
    int64_t end = (na >= l->per_address ? astart : ustart) + l->window;
    *retry_after = end > now ? end - now : 1;
    s = APP_RATE_LIMITED;
    goto out;
  }
  /* counted now, as a failure until the password proves right: concurrent guesses see each other */
  if (count_attempt(db, akey, 1, now, l->window) != 0 || count_attempt(db, ukey, 1, now, l->window) != 0)
    goto out;
  s = APP_OK;
out:
  dbi_finalize(st);
  return dbi_finish(db, s == APP_RATE_LIMITED ? APP_OK : s) == APP_OK ? s : APP_INTERNAL;
}

enum app_status db_login_succeeded(sqlite3 *db, const char *username, int64_t user_id, const char *address, int64_t now)
{
  char akey[128], ukey[128];
  if (util_fmt(akey, sizeof(akey), "address:%s", address) != 0 ||
      util_fmt(ukey, sizeof(ukey), "user:%s", username) != 0)
    return APP_INTERNAL;
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  enum app_status s = APP_INTERNAL;
  sqlite3_stmt *st = dbi_prepare(db, "INSERT INTO known_clients(user_id,address,last_at) VALUES(?,?,?) "
                                     "ON CONFLICT(user_id,address) DO UPDATE SET last_at=excluded.last_at");
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, user_id);
    dbi_bind_text(st, 2, address);
    sqlite3_bind_int64(st, 3, now);
    if (dbi_step_done(db, st) == 0 && count_attempt(db, akey, -1, now, 86400 * 365) == 0 &&
        count_attempt(db, ukey, -1, now, 86400 * 365) == 0)
      s = APP_OK;
  }
  dbi_finalize(st);
  return dbi_finish(db, s);
}

/* ---------------------------------------------------------------- sessions and tokens */

enum app_status db_session_create(sqlite3 *db, const char *token_hash, int64_t user_id, const char *csrf, int64_t now,
                                  int64_t expires_at)
{
  sqlite3_stmt *st = dbi_prepare(db, "INSERT INTO sessions(token_hash,user_id,csrf_token,created_at,expires_at) "
                                     "VALUES(?,?,?,?,?)");
  if (st == NULL)
    return APP_INTERNAL;
  dbi_bind_text(st, 1, token_hash);
  sqlite3_bind_int64(st, 2, user_id);
  dbi_bind_text(st, 3, csrf);
  sqlite3_bind_int64(st, 4, now);
  sqlite3_bind_int64(st, 5, expires_at);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  /* expired sessions are cleaned up opportunistically at each login */
  st = dbi_prepare(db, "DELETE FROM sessions WHERE expires_at<?");
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, now);
    dbi_step_done(db, st);
    dbi_finalize(st);
  }
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

/* A session or an API token as kept in memory between commits (db_memo.h): its user, then a session's CSRF token
 * and expiry, or a token's scope and "last used" mark (-1: never). */
struct user_rec {
  struct user u;
  int64_t at;
  char text[64];
};
_Static_assert(sizeof(struct user_rec) <= DB_MEMO_RECORD, "a session or token fits a memo record");

/* A user's row (id, username, role), column 3's text and column 4's time (NULL: -1) into a struct user_rec. */
static int fill_user_rec(sqlite3_stmt *st, void *arg)
{
  struct user_rec *rec = arg;
  fill_user(st, 0, &rec->u);
  util_strlcpy(rec->text, dbi_col_text(st, 3), sizeof(rec->text));
  rec->at = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 4);
  return 0;
}

/* What names a session to read: its token's hash, and the time it must not have expired at. */
struct session_key {
  const char *hash;
  int64_t now;
};

/* memo_read_fn: the session ARG (a struct session_key) names. */
static enum app_status read_session(sqlite3 *db, const void *arg, void *rec)
{
  const struct session_key *a = arg;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT u.id,u.username,u.role,s.csrf_token,s.expires_at FROM sessions s "
                                     "JOIN users u ON u.id=s.user_id WHERE s.token_hash=? AND s.expires_at>?");
  if (st != NULL) {
    dbi_bind_text(st, 1, a->hash);
    sqlite3_bind_int64(st, 2, a->now);
  }
  return dbi_row(db, st, fill_user_rec, rec, "session lookup");
}

enum app_status db_session_user(sqlite3 *db, const char *token_hash, int64_t now, struct user *u, char *csrf,
                                size_t csrflen)
{
  struct user_rec rec;
  struct session_key arg = {token_hash, now};
  char key[DB_MEMO_KEY];
  memset(&rec, 0, sizeof(rec));
  /* kept until the next commit (a logout, a password change, a role change: each commits) */
  enum app_status s = memo_record(db, util_fmt(key, sizeof(key), "session:%s", token_hash) == 0 ? key : NULL, &rec,
                                  sizeof(rec), read_session, &arg);
  if (s == APP_OK && rec.at <= now) /* kept before it expired */
    s = APP_NOT_FOUND;
  if (s != APP_OK)
    return s == APP_NOT_FOUND ? APP_UNAUTHORIZED : s;
  *u = rec.u;
  util_strlcpy(csrf, rec.text, csrflen);
  return APP_OK;
}

enum app_status db_session_delete(sqlite3 *db, const char *token_hash)
{
  sqlite3_stmt *st = dbi_prepare(db, "DELETE FROM sessions WHERE token_hash=?");
  if (st == NULL)
    return APP_INTERNAL;
  dbi_bind_text(st, 1, token_hash);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

enum app_status db_token_create(sqlite3 *db, int64_t user_id, const char *name, const char *scope,
                                const char *token_hash, int64_t now, int64_t *id)
{
  sqlite3_stmt *st =
    dbi_prepare(db, "INSERT INTO api_tokens(user_id,name,token_hash,created_at,scope) VALUES(?,?,?,?,?)");
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int64(st, 1, user_id);
  dbi_bind_text(st, 2, name);
  dbi_bind_text(st, 3, token_hash);
  sqlite3_bind_int64(st, 4, now);
  dbi_bind_text(st, 5, scope);
  int rc = dbi_step_done(db, st);
  if (rc == 0)
    *id = sqlite3_last_insert_rowid(db);
  dbi_finalize(st);
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

/* memo_read_fn: the API token whose hash is ARG. */
static enum app_status read_token(sqlite3 *db, const void *arg, void *rec)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT u.id,u.username,u.role,t.scope,t.last_used_at FROM api_tokens t "
                                     "JOIN users u ON u.id=t.user_id WHERE t.token_hash=?1");
  if (st != NULL)
    dbi_bind_text(st, 1, arg);
  return dbi_row(db, st, fill_user_rec, rec, "token lookup");
}

enum app_status db_token_user(sqlite3 *db, const char *token_hash, int64_t now, struct user *u, char *scope,
                              size_t scopelen, int *stale)
{
  struct user_rec rec;
  char key[DB_MEMO_KEY];
  memset(&rec, 0, sizeof(rec));
  /* kept until the next commit (its revocation, its "last used" mark, its user's role: each commits) */
  enum app_status s = memo_record(db, util_fmt(key, sizeof(key), "token:%s", token_hash) == 0 ? key : NULL, &rec,
                                  sizeof(rec), read_token, token_hash);
  if (s != APP_OK)
    return s == APP_NOT_FOUND ? APP_UNAUTHORIZED : s;
  *u = rec.u;
  util_strlcpy(scope, rec.text, scopelen);
  *stale = rec.at < 0 || rec.at <= now - 60; /* the mark is kept to the minute */
  return APP_OK;
}

enum app_status db_token_touch(sqlite3 *db, const char *token_hash, int64_t now)
{
  sqlite3_stmt *st = dbi_prepare(db, "UPDATE api_tokens SET last_used_at=?2 WHERE token_hash=?1");
  if (st == NULL)
    return APP_INTERNAL;
  dbi_bind_text(st, 1, token_hash);
  sqlite3_bind_int64(st, 2, now);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

static json_t *token_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  return json_pack("{s:I,s:s,s:o,s:o,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0), "name", dbi_col_text(st, 1),
                   "created_at", dbi_col_time(st, 2), "last_used_at", dbi_col_time(st, 3), "scope",
                   dbi_col_text(st, 4));
}

json_t *db_tokens_list(sqlite3 *db, int64_t user_id)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT id, name, created_at, last_used_at, scope FROM api_tokens WHERE user_id=? "
                                     "ORDER BY id DESC LIMIT 500");
  if (st != NULL)
    sqlite3_bind_int64(st, 1, user_id);
  return dbi_rows(db, st, token_row, NULL);
}

enum app_status db_token_revoke(sqlite3 *db, int64_t user_id, int64_t token_id)
{
  sqlite3_stmt *st = dbi_prepare(db, "DELETE FROM api_tokens WHERE id=? AND user_id=?");
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int64(st, 1, token_id);
  sqlite3_bind_int64(st, 2, user_id);
  int rc = dbi_step_done(db, st);
  int changed = sqlite3_changes(db);
  dbi_finalize(st);
  return rc != 0 ? APP_INTERNAL : changed > 0 ? APP_OK : APP_NOT_FOUND;
}

/* ---------------------------------------------------------------- challenges */

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
  int stamped = memo_stamp(db, stamp);
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
  sqlite3 *db;
  json_t *out;
};

static int fill_import_state(sqlite3_stmt *st, void *arg)
{
  struct import_state_row *r = arg;
  json_t *files = db_challenge_files(r->db, sqlite3_column_int64(st, 0));
  r->out = files != NULL ? json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "definition", dbi_col_text(st, 1), "bundle_sha256",
                                     dbi_col_text(st, 2), "truth_sha256", dbi_col_text(st, 3), "overview",
                                     dbi_col_text(st, 4), "terms", dbi_col_text(st, 5), "files", files)
                         : NULL;
  return r->out != NULL ? 0 : -1;
}

enum app_status db_challenge_import_state(sqlite3 *db, const char *slug, json_t **state)
{
  struct import_state_row r = {db, NULL};
  sqlite3_stmt *st = dbi_prepare(db, "SELECT id,definition,bundle_sha256,truth_sha256,overview,terms FROM challenges "
                                     "WHERE slug=?");
  if (st != NULL)
    dbi_bind_text(st, 1, slug);
  enum app_status s = dbi_row(db, st, fill_import_state, &r, "challenge import state");
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
  int stamped = memo_stamp(db, stamp);
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

/* memo_read_fn: the role ARG (a struct role_key) names. */
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
  if (memo_record(db, keyed ? key : NULL, &rec, sizeof(rec), read_role, &arg) != APP_OK)
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

int db_queue_claim(sqlite3 *db, int64_t now, int allow_code_runs, struct job *j)
{
  sqlite3_stmt *st = dbi_prepare(
    db, "UPDATE submissions SET status='running', started_at=?1, attempts=attempts+1, fence=fence+1, "
        "lease_expires_at=NULL, worker_node=NULL WHERE id=(SELECT id FROM submissions WHERE status='queued' AND "
        "(mode IS NULL OR output_path IS NOT NULL OR ?2) ORDER BY id LIMIT 1) "
        "RETURNING id, sha256, (SELECT slug FROM challenges WHERE id=challenge_id), coalesce(mode,''), "
        "coalesce(output_path,'')");
  if (st != NULL) {
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, allow_code_runs);
  }
  return claim_row(db, st, j, "queue claim");
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
