/* db_schema.c: the database's schema (see db.h): its migrations, each applied once in its own transaction and
 * recorded in PRAGMA user_version, and db_open(), which sets a connection up (WAL, synchronous writes, foreign
 * keys, the score_round() SQL function) and brings the schema to DB_SCHEMA_VERSION. A migration is never edited once
 * released: a change is a new migration at the end. */
#include "db.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "db_internal.h"
#include "def.h"
#include "util.h"

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
