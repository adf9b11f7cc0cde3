/* db.h: every SQL statement of concours lives behind this interface (prepared statements only).
 * A connection pool hands one sqlite3 connection to each thread that needs it; every connection runs in WAL
 * mode with synchronous=FULL, a busy timeout and foreign keys, checked when opened. The schema is versioned
 * with PRAGMA user_version and migrated forward at start.
 *
 * Ownership: functions returning json_t* return a new reference the caller releases with json_decref.
 * Functions returning enum app_status report APP_INTERNAL for database faults (logged to stderr). */
#ifndef CONCOURS_DB_H
#define CONCOURS_DB_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "app.h"

#define DB_SCHEMA_VERSION 1
#define DB_MAX_PHASES 16

/* ---- connections ---- */

/* Opens PATH (creating it), applies and verifies the pragmas, migrates the schema. Returns a connection the
 * caller closes with sqlite3_close, or NULL with a message in ERR. */
sqlite3 *db_open(const char *path, char *err, size_t errlen);

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

/* ---- login throttling ---- */
/* Failures recorded for USERNAME within the last WINDOW seconds. */
int db_login_failures(sqlite3 *db, const char *username, int64_t now, int64_t window);
void db_login_failure_add(sqlite3 *db, const char *username, int64_t now, int64_t window);
void db_login_failure_clear(sqlite3 *db, const char *username);

/* ---- sessions and API tokens (only SHA-256 hashes of the secrets are stored) ---- */
enum app_status db_session_create(sqlite3 *db, const char *token_hash, int64_t user_id, const char *csrf,
                                  int64_t now, int64_t expires_at);
/* Resolves a session: fills U and CSRF (at least 64 bytes). APP_UNAUTHORIZED when unknown or expired. */
enum app_status db_session_user(sqlite3 *db, const char *token_hash, int64_t now, struct user *u, char *csrf,
                                size_t csrflen);
enum app_status db_session_delete(sqlite3 *db, const char *token_hash);
enum app_status db_token_create(sqlite3 *db, int64_t user_id, const char *name, const char *token_hash,
                                int64_t now, int64_t *id);
enum app_status db_token_user(sqlite3 *db, const char *token_hash, int64_t now, struct user *u);

/* ---- challenges ---- */
struct phase {
  char name[64];
  int64_t start_at, end_at;
  int max_per_day, max_total, final_selection; /* 0 = unlimited / none */
};

struct challenge {
  int64_t id;
  char slug[64];
  char metric_name[64];   /* built-in metric, "" when a scoring program */
  char metric_json[4096]; /* the bundle's "metric" object */
  char id_column[128];
  char split_column[128];
  char dir[1024];         /* folder in the data dir: data/ and private/solution.csv */
  int terms_version;
  int precision;
  int higher_is_better;
  int64_t published_at;   /* 0 = not published */
  int nphases;
  struct phase phases[DB_MAX_PHASES];
};

/* Loads the challenge SLUG into C (with its phases). APP_NOT_FOUND when absent. */
enum app_status db_challenge_get(sqlite3 *db, const char *slug, struct challenge *c);

/* Inserts or updates the challenge described by C (slug is the key), with its texts, definition and files
 * (a JSON array of {"name","size","sha256"}), keeping its submissions. One transaction. */
enum app_status db_challenge_upsert(sqlite3 *db, const struct challenge *c, const char *title, const char *summary,
                                    const char *overview, const char *terms, const char *definition,
                                    json_t *files, int64_t now);

/* [{"slug","title","summary"}...] plus internal "_slug" for the phase lookup done by the caller. */
json_t *db_challenge_list(sqlite3 *db);
/* {"title","summary","overview","terms"} of challenge ID. */
json_t *db_challenge_texts(sqlite3 *db, int64_t id);
/* [{"name","size","sha256"}] of challenge ID, in bundle order. */
json_t *db_challenge_files(sqlite3 *db, int64_t id);
/* 1 when the file NAME belongs to challenge ID (fills SIZE), 0 when not, -1 on error. */
int db_challenge_file_exists(sqlite3 *db, int64_t id, const char *name, int64_t *size);

/* ---- terms ---- */
enum app_status db_terms_accept(sqlite3 *db, int64_t user_id, int64_t challenge_id, int version, int64_t now);
/* 1 when USER accepted VERSION of CHALLENGE, 0 when not, -1 on error. */
int db_terms_accepted(sqlite3 *db, int64_t user_id, int64_t challenge_id, int version);

/* ---- submissions ---- */
struct quota {
  int used_today, used_total;
  int max_per_day, max_total; /* 0 = unlimited */
  int64_t resets_at;
};

/* Counts what USER used of PHASE (failed submissions do not count) as of NOW. */
enum app_status db_quota(sqlite3 *db, int64_t challenge_id, int64_t user_id, const struct phase *ph, int64_t now,
                         struct quota *q);

/* Looks up an earlier submission of USER to CHALLENGE with KEY: 1 found (fills *ID and STATUS), 0 not, -1 error. */
int db_submission_by_key(sqlite3 *db, int64_t challenge_id, int64_t user_id, const char *key, int64_t *id,
                         char *status, size_t statuslen);

struct new_submission {
  int64_t challenge_id, user_id;
  const struct phase *phase;
  const char *sha256;
  int64_t size;
  const char *description;
  const char *idempotency_key; /* NULL when none */
};

/* Hook run by db_submission_insert inside its transaction, after every check passed and before COMMIT:
 * it moves the uploaded file into place. Returning non-zero rolls the transaction back with that status. */
typedef enum app_status (*db_commit_hook)(void *arg);

/* Accepts a submission in one BEGIN IMMEDIATE transaction: replays an existing Idempotency-Key (*REPLAYED=1,
 * hook not run), checks the quota of the phase as of NOW, runs HOOK, inserts the row, commits. */
enum app_status db_submission_insert(sqlite3 *db, const struct new_submission *s, int64_t now, db_commit_hook hook,
                                     void *hook_arg, int64_t *id, int *replayed);

/* The submission ID as JSON for a viewer: NULL when absent or when VIEWER (a participant) does not own it.
 * Private scores are included only when INCLUDE_PRIVATE. Public scores rounded to the challenge precision. */
json_t *db_submission_json(sqlite3 *db, int64_t id, const struct user *viewer, int include_private);
/* The submissions of USER to CHALLENGE, newest first (same shape, same privacy rule). */
json_t *db_submission_list(sqlite3 *db, int64_t challenge_id, int64_t user_id, int include_private);

/* Whether any submission row references SHA256 (for the orphan sweep): 1 yes, 0 no, -1 error. */
int db_sha_referenced(sqlite3 *db, const char *sha256);

/* ---- scoring queue ---- */
struct job {
  int64_t submission_id;
  char sha256[65];
  char slug[64];
};
/* Puts every submission left 'running' (by a crash) back to 'queued'. Returns how many, or -1. */
int db_queue_requeue_running(sqlite3 *db);
/* Claims the oldest queued submission (status -> running). 1 claimed, 0 none, -1 error. */
int db_queue_claim(sqlite3 *db, int64_t now, struct job *j);
/* Records a successful run (public may be NAN when the truth has no split; then SCORE is the public score)
 * and updates the leaderboard's best row of the submitter, in one transaction. */
enum app_status db_queue_scored(sqlite3 *db, int64_t submission_id, double score, double pub, double priv,
                                const char *log, int64_t now);
/* Records a failed run with a participant-safe CODE and MESSAGE and the organizer-only LOG. */
enum app_status db_queue_failed(sqlite3 *db, int64_t submission_id, const char *code, const char *message,
                                const char *log, int64_t now);

/* ---- leaderboard ---- */
/* [{"rank","name","score","submissions","last_at"}...] of CHALLENGE C. The public split reads the best rows kept
 * up to date by db_queue_scored (no aggregation over submissions); PRIVATE_SPLIT ranks each participant's best
 * private score (jury and organizers only, or after publication: the caller decides). */
json_t *db_leaderboard(sqlite3 *db, const struct challenge *c, int private_split);

#endif
