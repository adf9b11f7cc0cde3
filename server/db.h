/* db.h: every SQL statement of concours lives behind this interface (prepared statements only).
 * A connection pool hands one sqlite3 connection to each thread that needs it; every connection runs in WAL
 * mode with synchronous=FULL, a busy timeout and foreign keys, checked when opened. The schema is versioned
 * with PRAGMA user_version and migrated forward at start.
 *
 * Ownership: functions returning json_t* return a new reference the caller releases with json_decref (NULL means
 * a fault, never "none": lists are empty arrays). Functions returning enum app_status report APP_NOT_FOUND only
 * when no such row exists and APP_INTERNAL for database faults (logged to stderr), so that a fault never becomes a
 * 404. Writes go through one transaction helper (dbi_begin / dbi_finish) and single-row reads through one helper
 * (dbi_row), both in db_internal.h. */
#ifndef CONCOURS_DB_H
#define CONCOURS_DB_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "app.h"

#define DB_SCHEMA_VERSION 22
#define DB_MAX_PHASES 16

/* ---- connections ---- */

/* Opens PATH (creating it), applies and verifies the pragmas, migrates the schema. Returns a connection the
 * caller closes with sqlite3_close, or NULL with a message in ERR. */
sqlite3 *db_open(const char *path, char *err, size_t errlen);

/* Fault injection for tests: after AFTER more statements are prepared or run on any connection, every next one
 * fails like a database fault (until called again; -1 turns it off). Lets tests drive the error paths of the
 * acceptance path (SQLite's own way of testing itself), and prove they roll back and report APP_INTERNAL. */
void db_fault_inject(long after);

/* The pool: db_pool_init opens SIZE connections to PATH (0 on success); db_acquire blocks until one is free
 * (never NULL after a successful init); db_release gives it back; db_pool_close closes them all. */
int db_pool_init(const char *path, int size, char *err, size_t errlen);
sqlite3 *db_acquire(void);
void db_release(sqlite3 *db);
void db_pool_close(void);

/* ---- users ---- */
struct user {
  int64_t id;
  char username[64];
  enum app_role role;
};

/* Inserts a user. APP_USERNAME_TAKEN when the name exists (case-insensitive). *ID gets the new id. */
enum app_status db_user_create(sqlite3 *db, const char *username, const char *email, enum app_role role,
                               const char *pw_hash, int64_t *id);
/* Finds USERNAME: fills U and PW_HASH (a buffer of HASHLEN). APP_NOT_FOUND when absent. */
enum app_status db_user_by_name(sqlite3 *db, const char *username, struct user *u, char *pw_hash, size_t hashlen);

/* ---- login throttling ----
 * Each attempt is counted before its password is checked, in one write transaction with the checks, so that N
 * concurrent guesses cost at most the limit's number of password checks. Two counters, per WINDOW seconds: the
 * client ADDRESS (any username: a stranger guessing is stopped at his address), and the account (any address:
 * past its limit only clients the account already logged in from get through, so a stranger cannot lock the
 * owner out). A successful login takes its attempt back from both counters and makes the address known. */
struct login_limits {
  int64_t window;  /* seconds */
  int per_address; /* failed attempts from one address */
  int per_account; /* failed attempts on one account from unknown addresses */
};
/* Counts an attempt to log in as USERNAME from ADDRESS. APP_OK: check the password; APP_RATE_LIMITED: refuse
 * (*RETRY_AFTER seconds until the window ends); APP_INTERNAL. */
enum app_status db_login_attempt(sqlite3 *db, const char *username, const char *address, const struct login_limits *l,
                                 int64_t now, int64_t *retry_after);
/* The password was right: takes the attempt back and records ADDRESS as known for USER_ID. */
enum app_status db_login_succeeded(sqlite3 *db, const char *username, int64_t user_id, const char *address,
                                   int64_t now);

/* ---- sessions and API tokens (only SHA-256 hashes of the secrets are stored) ---- */
enum app_status db_session_create(sqlite3 *db, const char *token_hash, int64_t user_id, const char *csrf, int64_t now,
                                  int64_t expires_at);
/* Resolves a session: fills U and CSRF (at least 64 bytes). APP_UNAUTHORIZED when unknown or expired. */
enum app_status db_session_user(sqlite3 *db, const char *token_hash, int64_t now, struct user *u, char *csrf,
                                size_t csrflen);
enum app_status db_session_delete(sqlite3 *db, const char *token_hash);
enum app_status db_token_create(sqlite3 *db, int64_t user_id, const char *name, const char *scope,
                                const char *token_hash, int64_t now, int64_t *id);
/* The user of the API token TOKEN_HASH, its scope ("read" or "submit", size SCOPELEN), and *STALE: whether its
 * "last used" mark is older than a minute at NOW (then db_token_touch). APP_UNAUTHORIZED when there is none. */
enum app_status db_token_user(sqlite3 *db, const char *token_hash, int64_t now, struct user *u, char *scope,
                              size_t scopelen, int *stale);
/* Records that the token TOKEN_HASH was used at NOW (the caller writes only when db_token_user said stale: most
 * requests write nothing). */
enum app_status db_token_touch(sqlite3 *db, const char *token_hash, int64_t now);
/* [{"id","name","created_at","last_used_at","scope"}] of USER_ID's API tokens, newest first (never their secrets); NULL on
 * a fault. The caller owns the array. */
json_t *db_tokens_list(sqlite3 *db, int64_t user_id);
/* Deletes USER_ID's token TOKEN_ID: it stops working at once. APP_NOT_FOUND when it is not theirs. */
enum app_status db_token_revoke(sqlite3 *db, int64_t user_id, int64_t token_id);

/* ---- challenges ---- */
struct phase {
  char name[64];
  int64_t start_at, end_at;
  int max_per_day, max_total, final_selection; /* 0 = unlimited / none */
  char fact_sheet[12];                         /* "", "none", "optional" or "required" (docs/factsheets.md) */
  int closed;                                  /* 1: accepts no submission (CodaLab's max_submissions: 0) */
  int hide_results; /* 1: participants see no score of this phase's submissions, nor the public leaderboard, until
                       the jury publishes (CodaLab's leaderboard_management_mode: hide_results) */
};

/* Where a challenge stands: a draft is seen by its staff only; an archived one is read-only. */
enum challenge_state { CHALLENGE_OPEN = 0, CHALLENGE_DRAFT, CHALLENGE_ARCHIVED };

/* "open", "draft", "archived". */
const char *db_challenge_state_name(enum challenge_state s);
/* The version of the challenges and their phases (triggers bump it on every change but a leaderboard's), and the
 * phase boundaries FROM (<= NOW) and UNTIL (> NOW) between which every challenge's open phase stays the same
 * (INT64_MIN / INT64_MAX when there is none). 0, or -1 on error. */
int db_catalogue_version(sqlite3 *db, int64_t now, int64_t *version, int64_t *from, int64_t *until);
/* Parses a state name into *S. Returns 0, or -1 when NAME is none of them. */
int db_challenge_state_parse(const char *name, enum challenge_state *s);

struct challenge {
  int64_t id;
  char slug[64];
  enum challenge_state state;
  char metric_name[64];    /* built-in metric, "" when a scoring program */
  char metric_json[4096];  /* the bundle's "metric" object */
  char metrics_json[2048]; /* every metric and the ranking rule (def.c builds it; docs/bundle.md "Several metrics"):
                            * {"metrics":[{"key","label","higher_is_better","precision","primary"}],"rule","weights"} */
  char id_column[128];
  char split_column[128];
  char dir[1024]; /* folder in the data dir: data/ and private/solution.csv */
  int terms_version;
  int precision;
  int higher_is_better;
  int64_t published_at; /* 0 = not published */
  int team_max_size;
  int storage_team_mb;      /* bytes of submission files a team may keep, in MB (0: unlimited) */
  int storage_challenge_mb; /* the same for all teams together */
  int code;                 /* 1: participants upload code (a code-execution challenge) */
  int code_max_mb;          /* code: size of an archive, packed and unpacked */
  int smoke_per_day;        /* code: smoke runs per team and day */
  int has_smoke;            /* code: the bundle has a smoke sample */
  int ingestion;            /* code: an organizer's ingestion program runs the code; an upload without a metadata
                               file is result files (CodaLab's rule) */
  char queue[64];           /* code: the queue its runs go to (worker tokens are scoped to one) */
  char bundle_sha256[65];   /* of the imported bundle: changes with its texts (chcache.c keys on it) */
  int64_t lb_version;       /* changes whenever the public leaderboard may change (triggers keep it) */
  int nphases;
  struct phase phases[DB_MAX_PHASES];
};

/* The phase of C open at NOW, or NULL. */
const struct phase *db_challenge_open_phase(const struct challenge *c, int64_t now);

/* Loads the challenge SLUG into C (with its phases). APP_NOT_FOUND when absent. */
enum app_status db_challenge_get(sqlite3 *db, const char *slug, struct challenge *c);
/* Whether DIR (a version folder relative to the data folder, "challenges/SLUG/vTIME-RND") is a challenge's current
 * one: 1 yes, 0 no, -1 the database could not say. */
int db_challenge_dir_current(sqlite3 *db, const char *dir);

/* One import of a bundle (bundle.c): every pointer borrowed. */
struct db_import {
  const struct challenge *c;
  const char *title, *summary, *overview, *terms, *definition;
  json_t *files;             /* [{"name","size","sha256","anonymity"?}] */
  const char *bundle_sha256; /* of everything the import copied: an unchanged bundle is recognised by it */
  const char *truth_sha256;
  const char *actor;                  /* for the audit entry "challenge.import" */
  json_t *details;                    /* its details */
  enum challenge_state initial_state; /* of a new challenge (an existing one keeps its state) */
  const char *code_runtime;           /* code challenges: "host", "debian" or "oci"; NULL: "host" */
};

/* The values of one split ("public", "private" or "score") of a submission's secondary metrics (the stored TEXT,
 * {"KEY":{"score","public","private"}}) as {"KEY": value or null}. New reference; NULL out of memory. */
json_t *db_metrics_values(const char *text, const char *split);

/* Inserts or updates the challenge described by IMP (slug is the key) with its texts, definition, phases and
 * files (the anonymity report stored as JSON), keeping its submissions, and appends the audit entry, in one
 * transaction. */
enum app_status db_challenge_upsert(sqlite3 *db, const struct db_import *imp, int64_t now);

/* What the last import of SLUG recorded: *STATE gets {"definition","bundle_sha256","truth_sha256","overview",
 * "terms","files":[{"name","sha256"}]} (the caller frees it), or NULL when there is no such challenge.
 * APP_INTERNAL on a database error. */
enum app_status db_challenge_import_state(sqlite3 *db, const char *slug, json_t **state);

/* [{"slug","title","summary","state","phase","ends_at"}...] of the challenges VIEWER may see: every one for
 * ALL_DRAFTS (server-wide staff), else the open and archived ones and the drafts VIEWER_ID is staff of (0:
 * anonymous). "phase" and "ends_at" are those of the phase open at NOW, or null. */
json_t *db_challenge_list(sqlite3 *db, int64_t viewer_id, int all_drafts, int64_t now);

/* Sets the state of C; audited ("challenge.state", ACTOR, REASON) in the same transaction. */
enum app_status db_challenge_state_set(sqlite3 *db, const struct challenge *c, enum challenge_state state,
                                       const char *actor, const char *reason, int64_t now);

/* ---- staff of one challenge (besides the server-wide roles) ---- */
/* The role USER_ID holds on the challenge SLUG into *ROLE (ROLE_ORGANIZER or ROLE_JURY): 1 found, 0 none, -1
 * error. */
int db_staff_role(sqlite3 *db, const char *slug, int64_t user_id, enum app_role *role);
/* Gives USERNAME the ROLE (ROLE_ORGANIZER, ROLE_JURY, or ROLE_PARTICIPANT to take it away) on C; audited
 * ("challenge.staff"). APP_NOT_FOUND for an unknown user, APP_BAD_REQUEST for another role. */
enum app_status db_staff_set(sqlite3 *db, const struct challenge *c, const char *username, enum app_role role,
                             const char *actor, const char *reason, int64_t now);
/* [{"username","role","granted_at"}] of C. */
json_t *db_staff_list(sqlite3 *db, const struct challenge *c);
/* {"title","summary","overview","terms","competition"} of challenge ID ("competition": its definition's object,
 * linking the challenges made from one CodaLab competition, or null). */
json_t *db_challenge_texts(sqlite3 *db, int64_t id);
/* [{"name","size","sha256","anonymity"}] of challenge ID, in bundle order. "anonymity" is what participants may
 * see of the file's anonymity report ({"passed","k","k_anonymity","direct_identifiers_found"}, no column name),
 * or null for a file that was not checked. */
json_t *db_challenge_files(sqlite3 *db, int64_t id);
/* [{"name","report"}] of challenge ID, in bundle order: the full anonymity report of each file (null when not
 * checked), for organizers and jury. */
json_t *db_challenge_anonymity(sqlite3 *db, int64_t id);
/* 1 when the file NAME belongs to challenge ID (fills SIZE), 0 when not, -1 on error. */
int db_challenge_file_exists(sqlite3 *db, int64_t id, const char *name, int64_t *size);

/* ---- terms ---- */
/* Records USER's acceptance of VERSION of CHALLENGE, creates the user's solo team when they have none, and
 * audits it, in one transaction. */
enum app_status db_terms_accept(sqlite3 *db, const struct user *user, const struct challenge *c, int64_t now);
/* 1 when USER accepted VERSION of CHALLENGE, 0 when not, -1 on error. */
int db_terms_accepted(sqlite3 *db, int64_t user_id, int64_t challenge_id, int version);

/* ---- submissions ---- */
struct quota {
  int used_today, used_total;
  int max_per_day, max_total; /* 0 = unlimited */
  int64_t resets_at;
};

/* The bytes of submission files stored for TEAM (every row: scored, failed and cancelled alike) and for the whole
 * CHALLENGE. APP_OK or APP_INTERNAL. */
enum app_status db_storage_used(sqlite3 *db, int64_t challenge_id, int64_t team_id, int64_t *team_bytes,
                                int64_t *challenge_bytes);
/* 1 when Q leaves no submission (per day or in all), 0 otherwise. */
int db_quota_exhausted(const struct quota *q);
/* Counts what TEAM used of PHASE (failed and cancelled submissions do not count) as of NOW. */
enum app_status db_quota(sqlite3 *db, int64_t challenge_id, int64_t team_id, const struct phase *ph, int64_t now,
                         struct quota *q);

/* Looks up an earlier submission of USER to CHALLENGE with KEY: 1 found (fills *ID and STATUS), 0 not, -1 error. */
int db_submission_by_key(sqlite3 *db, int64_t challenge_id, int64_t user_id, const char *key, int64_t *id, char *status,
                         size_t statuslen);

struct new_submission {
  int64_t challenge_id, user_id;
  const struct phase *phase;
  const char *sha256;
  int64_t size;
  const char *description;
  const char *idempotency_key; /* NULL when none */
  int64_t max_team_bytes;      /* storage the team's files may take, this one included; 0: unlimited */
  int64_t max_challenge_bytes; /* the same for the whole challenge */
  const char *mode;            /* code challenges: "full" or "smoke"; NULL for a prediction file */
  int smoke_per_day;           /* smoke runs a team may start per UTC day (its own cap, not the phase quota) */
};

/* Hook run by db_submission_insert inside its transaction, after every check passed and before COMMIT:
 * it moves the uploaded file into place. Returning non-zero rolls the transaction back with that status. */
typedef enum app_status (*db_commit_hook)(void *arg);

/* Accepts a submission in one BEGIN IMMEDIATE transaction: replays an existing Idempotency-Key (*REPLAYED=1,
 * hook not run), resolves the submitter's team (a solo team when none), checks the team's quota of the phase
 * as of NOW, runs HOOK, inserts the row, commits. */
enum app_status db_submission_insert(sqlite3 *db, const struct new_submission *s, int64_t now, db_commit_hook hook,
                                     void *hook_arg, int64_t *id, int *replayed);

/* The submission ID as JSON for VIEWER into *OUT (a new reference): APP_NOT_FOUND when absent, or when VIEWER is
 * neither a member of its team nor STAFF; APP_INTERNAL on a database fault. Private scores are included for STAFF,
 * and for members when PUBLISHED_OK and the challenge is published. Scores are rounded to the challenge
 * precision. */
enum app_status db_submission_json(sqlite3 *db, int64_t id, const struct user *viewer, int staff, int published_ok,
                                   json_t **out);
/* The submissions of USER's team in CHALLENGE, newest first (same shape; private scores when INCLUDE_PRIVATE). */
json_t *db_submission_list(sqlite3 *db, int64_t challenge_id, int64_t user_id, int include_private);

/* Whether any submission or fact sheet row references SHA256 (for the orphan sweep): 1 yes, 0 no, -1 error. */
int db_sha_referenced(sqlite3 *db, const char *sha256);

/* ---- scoring queue ---- */
struct job {
  int64_t submission_id;
  char sha256[65];
  char slug[64];
  char mode[8];           /* "full" or "smoke" for code runs, "" for a prediction file */
  char output_path[1024]; /* code runs: the output a remote worker sent, to score here; "" otherwise */
  int ci_only;            /* the deferred bootstrap interval of a scored prediction file (db_ci_claim) */
};
/* Smoke runs TEAM started in CHALLENGE since the start of NOW's UTC day (cancelled ones aside), or -1. */
int db_smoke_used(sqlite3 *db, int64_t challenge_id, int64_t team_id, int64_t now);
/* Code runs: records the stage the run is in ("running", "scoring"). */
enum app_status db_submission_stage(sqlite3 *db, int64_t id, const char *stage);
/* Code runs: records what the run left: its log (LOG_PUBLIC: the team may read it), wall time, peak memory and the
 * runtime's identity. Called when the code has run, before its output is scored. */
enum app_status db_submission_run(sqlite3 *db, int64_t id, const char *log, int log_public, int64_t wall_ms,
                                  long maxrss_kb, const char *runtime_sha256);
/* The code run log of submission ID for VIEWER: 1 with *LOG (malloc'd) and *RUNNING, 0 when there is none or the
 * viewer may not read it (*WHY says which: "not_found" or "log_hidden"), -1 on a database fault. STAFF see every
 * log; members of the team only those marked public. */
int db_run_log(sqlite3 *db, int64_t id, const struct user *viewer, int staff, char **log, int *running,
               const char **why);
/* Puts the submission ID back to 'queued' when it is 'running' (its run hit the server's own trouble). */
enum app_status db_queue_requeue_one(sqlite3 *db, int64_t id);
/* Puts every submission left 'running' (by a crash) back to 'queued', and every interval left computing back to
 * due. Returns how many submissions, or -1. */
int db_queue_requeue_running(sqlite3 *db);
/* Claims the oldest queued submission (status -> running): a prediction file, a remote worker's output to score, or,
 * when ALLOW_CODE_RUNS, a code run to execute here (its fence bumped, so that no worker's late call counts). 1
 * claimed, 0 none, -1 error. */
int db_queue_claim(sqlite3 *db, int64_t now, int allow_code_runs, struct job *j);
/* Like db_queue_claim, for the small-file lane (queue.c): the oldest queued prediction file of at most MAX_BYTES
 * whose challenge is scored by a built-in metric (not an organizer's program, nor a code run or its output). */
int db_queue_claim_small(sqlite3 *db, int64_t now, long long max_bytes, struct job *j);
/* Records a successful run (public may be NAN when the truth has no split; then SCORE is the public score; the
 * private 95 % interval CI_LO..CI_HI may be NAN; METRICS, the secondary metrics' values as JSON text, or NULL) and
 * updates the best row of the submitter's team, in one transaction. A submission no longer 'running' (cancelled,
 * re-queued) is left as it is. */
enum app_status db_queue_scored(sqlite3 *db, int64_t submission_id, double score, double pub, double priv, double ci_lo,
                                double ci_hi, int ci_pending, const char *metrics, const char *log, int64_t now);
/* The jury's bootstrap intervals, computed after the score is stored (CI_PENDING of db_queue_scored): claims the
 * oldest scored submission whose interval is due (1 with *J, ci_only set; 0 none; -1 error). The caller is the only
 * one computing intervals (queue.c's ci_busy): a claim left unfinished (its interval could not be stored: a full
 * disk) is due again. */
int db_ci_claim(sqlite3 *db, struct job *j);
/* Stores the interval LO..HI (NAN: none could be computed) of a claimed submission; a submission re-queued
 * meanwhile (its interval due again) is left as it is. */
enum app_status db_ci_store(sqlite3 *db, int64_t submission_id, double lo, double hi);
/* Recomputes the leaderboard's best row of TEAM from all its submissions (after a rescoring, a disqualification, a
 * reinstatement; a first scoring updates the row in place), or of every team of the challenge when TEAM is 0 (the
 * ranking's precision or direction changed). 0 or -1. */
int db_best_recompute(sqlite3 *db, int64_t challenge_id, int64_t team_id);
/* Records a failed run with a participant-safe CODE and MESSAGE and the organizer-only LOG. */
enum app_status db_queue_failed(sqlite3 *db, int64_t submission_id, const char *code, const char *message,
                                const char *log, int64_t now);

/* ---- leaderboard ---- */
/* The most rows a public board holds (a bound on the cached body: about 10 MB at 100 bytes a row). */
#define DB_LEADERBOARD_MAX_ROWS 100000
/* [{"rank","name","score","submissions","last_at"}...] of CHALLENGE C on the public split: the best rows kept up
 * to date at scoring time (reading never aggregates submissions); disqualified teams are left out; the first
 * DB_LEADERBOARD_MAX_ROWS. */
json_t *db_leaderboard(sqlite3 *db, const struct challenge *c);

/* ---- teams (db_teams.c) ---- */
struct team {
  int64_t id;
  char name[72];
  int solo;
  char invite_code[32];
  int disqualified;
};
/* The team of USER in CHALLENGE into T: 1 found, 0 none, -1 error. With CREATE_SOLO a solo team is created
 * when there is none (call inside a write transaction, or in autocommit). */
int db_team_of_user(sqlite3 *db, int64_t challenge_id, int64_t user_id, int create_solo, int64_t now, struct team *t);
/* Creates team NAME with USER as its only member (leaving the current team). APP_TEAM_NAME_TAKEN, APP_TEAM_LOCKED
 * when the current team has submissions. */
enum app_status db_team_create(sqlite3 *db, int64_t challenge_id, int64_t user_id, const char *name, int64_t now,
                               int64_t *team_id);
/* Joins the team with invite CODE: APP_NOT_FOUND, APP_TEAM_FULL (MAX_SIZE members), APP_TEAM_LOCKED. */
enum app_status db_team_join(sqlite3 *db, int64_t challenge_id, int64_t user_id, const char *code, int max_size,
                             int64_t now, int64_t *team_id);
/* Leaves the current team for a solo one (APP_TEAM_LOCKED when it has submissions). */
enum app_status db_team_leave(sqlite3 *db, int64_t challenge_id, int64_t user_id, int64_t now);
/* {"id","name","solo","max_size","disqualified","submissions","members":[...],"invite_code"?}, or NULL. */
json_t *db_team_json(sqlite3 *db, int64_t team_id, int with_code, int max_size);

/* ---- audit (db_audit.c) ---- */
/* Appends an entry chained to the previous one (inside the caller's transaction if one is open, else in its
 * own). DETAILS (borrowed, may be NULL) is a JSON object. */
enum app_status db_audit_append(sqlite3 *db, const char *actor, const char *action, const char *challenge,
                                const char *target, const char *reason, json_t *details, int64_t now);
/* Records that ACTOR downloaded FILE of CHALLENGE (action "dataset.download", DETAILS), once per user, file and
 * UTC hour: a client fetching a file in a loop (or with many Range requests) adds one entry an hour, not one a
 * request. Both the check and the append run in one transaction. */
enum app_status db_audit_download(sqlite3 *db, const char *actor, const char *challenge, const char *file,
                                  json_t *details, int64_t now);
/* The newest LIMIT entries (of CHALLENGE, or all when NULL). */
json_t *db_audit_list(sqlite3 *db, const char *challenge, int limit);
/* The data downloads of CHALLENGE, oldest first: [{"id","at","user","file","terms_version"}] (from the audit
 * entries "dataset.download"). The caller frees the array; NULL on error. */
json_t *db_audit_downloads(sqlite3 *db, const char *challenge);
/* Recomputes the chain: the number of entries when intact; -1 with *BAD_ID the first entry that does not match
 * (0 when the database failed). */
int64_t db_audit_verify(sqlite3 *db, int64_t *bad_id);

/* ---- end of a challenge: selection, final ranking, jury and organizer actions (db_jury.c) ----
 * Every action below that changes something writes its audit entry (actor, REASON) in the same transaction. */
/* Replaces TEAM's final selection in phase PH by IDS. APP_BAD_REQUEST when an id is not one of the team's scored
 * submissions of the phase. */
enum app_status db_selection_set(sqlite3 *db, const struct challenge *c, const struct phase *ph, int64_t team_id,
                                 const int64_t *ids, size_t n, int64_t now);
/* TEAM's selected submission ids (of PHASE, or all when NULL) as a JSON array. */
json_t *db_selection_get(sqlite3 *db, int64_t team_id, const char *phase);
/* The final ranking on the private split: per team, the best private score among its selected submissions (its
 * best public submission when it selected none); disqualified teams last without a rank; rank_range from the
 * 95 % intervals. */
json_t *db_final_ranking(sqlite3 *db, const struct challenge *c);
/* The disqualified submissions and teams of C, with reasons. */
json_t *db_disqualified_list(sqlite3 *db, const struct challenge *c);
/* The jury's notes on C. */
json_t *db_notes(sqlite3 *db, const struct challenge *c);
/* The slug of the challenge of submission ID (64 bytes). APP_NOT_FOUND when absent. */
enum app_status db_submission_challenge(sqlite3 *db, int64_t id, char slug[64]);
/* Disqualifies (ON=1) or reinstates (ON=0) the team (TEAM=1) or submission ID of C; updates the leaderboard. */
enum app_status db_disqualify(sqlite3 *db, const struct challenge *c, int team, int64_t id, int on,
                              const struct user *actor, const char *reason, int64_t now);
/* Adds a jury note (TEXT) about C, optionally a submission and/or a team (0 for none). */
enum app_status db_note_add(sqlite3 *db, const struct challenge *c, const struct user *actor, int64_t submission_id,
                            int64_t team_id, const char *text, int64_t now, int64_t *id);
/* Re-queues submission SUBMISSION_ID (0: all) of C (of PHASE when not NULL) that are scored or failed. */
enum app_status db_rescore(sqlite3 *db, const struct challenge *c, int64_t submission_id, const char *phase,
                           const struct user *actor, const char *reason, int64_t now, int *queued);
/* Cancels submission SUBMISSION_ID while it is queued or running (a run in progress is stopped by the caller:
 * queue_cancel, or its worker's next heartbeat): when C is NULL, a submission of VIEWER's team; else any submission
 * of challenge C, cancelled by the organizer VIEWER with REASON in the audit chain. Costs no quota.
 * APP_NOT_CANCELLABLE when there is no such submission that is queued or running. */
enum app_status db_cancel(sqlite3 *db, int64_t submission_id, const struct user *viewer, const struct challenge *c,
                          const char *reason, int64_t now);
/* {"queued","running","scored","failed","cancelled","oldest_queued_at","recent_failures"} of C. */
json_t *db_queue_stats(sqlite3 *db, const struct challenge *c);
/* {"id","log"} of submission ID into *OUT: APP_OK, APP_NOT_FOUND, or APP_INTERNAL. */
enum app_status db_submission_log(sqlite3 *db, int64_t id, json_t **out);
/* At most LIMIT submissions of C with team, user, scores (public and private) and metadata: those with an id above
 * FROM_ID in id order, or with NEWEST_FIRST those below FROM_ID (any, when FROM_ID <= 0) newest first. */
json_t *db_export_submissions(sqlite3 *db, const struct challenge *c, int64_t from_id, int newest_first, int limit);
/* How many submissions C has (of any status), from the counts kept by triggers; -1 on error. */
int64_t db_submission_total(sqlite3 *db, const struct challenge *c);
/* Sets dates and quotas of phase IDX of C to P's. */
enum app_status db_phase_update(sqlite3 *db, const struct challenge *c, int idx, const struct phase *p,
                                const struct user *actor, const char *reason, int64_t now);
/* Gives USERNAME the ROLE. APP_NOT_FOUND for an unknown user. */
enum app_status db_role_set(sqlite3 *db, const char *username, enum app_role role, const struct user *actor,
                            const char *reason, int64_t now);
/* Freezes C's ranking: stores the signed bytes RANKING and signature SIG. APP_PUBLISHED when already done. */
enum app_status db_publish(sqlite3 *db, const struct challenge *c, const char *ranking, const char *sig,
                           const struct user *actor, const char *reason, int64_t now);
/* The published ranking bytes and signature (malloc'd, the caller frees both). APP_NOT_FOUND before publication. */
enum app_status db_ranking_get(sqlite3 *db, const struct challenge *c, char **ranking, char **sig);

#endif
