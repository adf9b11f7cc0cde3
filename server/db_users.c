/* db_users.c: the SQL of accounts (db.h): users, the throttle on failed logins, sessions and API tokens. A session's
 * or a token's user is kept in memory between commits (db_memo.h), as every signed-in request reads it. */
#include <string.h>

#include "db.h"
#include "db_internal.h"
#include "util.h"

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

/* dbi_memo_read_fn: the session ARG (a struct session_key) names. */
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
  enum app_status s = dbi_memo_record(db, util_fmt(key, sizeof(key), "session:%s", token_hash) == 0 ? key : NULL, &rec,
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

/* dbi_memo_read_fn: the API token whose hash is ARG. */
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
  enum app_status s = dbi_memo_record(db, util_fmt(key, sizeof(key), "token:%s", token_hash) == 0 ? key : NULL, &rec,
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
