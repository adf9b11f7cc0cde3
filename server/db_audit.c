/* db_audit.c: the append-only audit log. Each entry is chained to the previous one: hash = SHA-256(prev_hash ||
 * canonical JSON of the entry), so changing, removing or reordering any entry breaks every later hash. SQLite
 * triggers refuse UPDATE and DELETE; db_audit_verify recomputes the chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_internal.h"
#include "util.h"

static const char zero_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* The canonical text of an entry (sorted keys, compact); malloc'd, the caller frees. NULL on error. */
static char *canonical(int64_t id, int64_t at, const char *actor, const char *action, const char *challenge,
                       const char *target, const char *reason, const char *details)
{
  json_t *d = json_loads(details != NULL ? details : "{}", 0, NULL);
  json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s?,s:s?,s:s?,s:o}", "id", (json_int_t)id, "at", (json_int_t)at, "actor",
                        actor, "action", action, "challenge", challenge, "target", target, "reason", reason, "details",
                        d != NULL ? d : json_object());
  char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
  json_decref(o);
  return text;
}

static void chain_hash(const char *prev, const char *text, char out[65])
{
  size_t lp = strlen(prev), lt = strlen(text);
  char *buf = malloc(lp + lt + 1);
  if (buf == NULL) {
    util_strlcpy(out, zero_hash, 65);
    return;
  }
  memcpy(buf, prev, lp);
  memcpy(buf + lp, text, lt + 1);
  util_sha256_hex(buf, lp + lt, out);
  free(buf);
}

enum app_status db_audit_append(sqlite3 *db, const char *actor, const char *action, const char *challenge,
                                const char *target, const char *reason, json_t *details, int64_t now)
{
  int own_tx = sqlite3_get_autocommit(db);
  char prev[65], hash[65];
  char *dtext = NULL, *text = NULL;
  sqlite3_stmt *st = NULL;
  enum app_status s = APP_INTERNAL;
  if (own_tx && dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  dtext = json_dumps(details != NULL ? details : json_object(), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
  /* the last entry by its rowid: two searches, never a scan */
  st = dbi_prepare(db, "SELECT coalesce((SELECT max(id) FROM audit_log),0)+1, coalesce((SELECT hash FROM audit_log "
                       "WHERE id=(SELECT max(id) FROM audit_log)),?)");
  if (dtext == NULL || st == NULL)
    goto out;
  dbi_bind_text(st, 1, zero_hash);
  if (sqlite3_step(st) != SQLITE_ROW)
    goto out;
  int64_t id = sqlite3_column_int64(st, 0);
  util_strlcpy(prev, dbi_col_text(st, 1), sizeof(prev));
  dbi_finalize(st);
  st = NULL;
  text = canonical(id, now, actor, action, challenge, target, reason, dtext);
  if (text == NULL)
    goto out;
  chain_hash(prev, text, hash);
  st = dbi_prepare(db, "INSERT INTO audit_log(id,at,actor,action,challenge,target,reason,details,prev_hash,hash) "
                       "VALUES(?,?,?,?,?,?,?,?,?,?)");
  if (st == NULL)
    goto out;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, now);
  dbi_bind_text(st, 3, actor);
  dbi_bind_text(st, 4, action);
  dbi_bind_text(st, 5, challenge);
  dbi_bind_text(st, 6, target);
  dbi_bind_text(st, 7, reason);
  dbi_bind_text(st, 8, dtext);
  dbi_bind_text(st, 9, prev);
  dbi_bind_text(st, 10, hash);
  if (dbi_step_done(db, st) != 0)
    goto out;
  s = APP_OK;
out:
  dbi_finalize(st);
  free(dtext);
  free(text);
  if (own_tx)
    s = dbi_finish(db, s);
  return s;
}

static json_t *audit_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  json_t *details = json_loads(dbi_col_text(st, 7), 0, NULL);
  return json_pack("{s:I,s:o,s:s,s:s,s:s?,s:s?,s:s?,s:o,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0), "at",
                   dbi_col_time(st, 1), "actor", dbi_col_text(st, 2), "action", dbi_col_text(st, 3), "challenge",
                   (const char *)sqlite3_column_text(st, 4), "target", (const char *)sqlite3_column_text(st, 5),
                   "reason", (const char *)sqlite3_column_text(st, 6), "details",
                   details != NULL ? details : json_object(), "hash", dbi_col_text(st, 8));
}

json_t *db_audit_list(sqlite3 *db, const char *challenge, int limit)
{
  /* the newest LIMIT entries: by id, or by the index on (challenge, id) for one challenge */
  sqlite3_stmt *st =
    dbi_prepare(db, challenge == NULL ? "SELECT id,at,actor,action,challenge,target,reason,details,hash FROM audit_log "
                                        "ORDER BY id DESC LIMIT ?2"
                                      : "SELECT id,at,actor,action,challenge,target,reason,details,hash FROM audit_log "
                                        "WHERE challenge=?1 ORDER BY id DESC LIMIT ?2");
  if (st != NULL) {
    if (challenge != NULL)
      dbi_bind_text(st, 1, challenge);
    sqlite3_bind_int(st, 2, limit);
  }
  return dbi_rows(db, st, audit_row, NULL);
}

static json_t *download_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  json_t *tv = sqlite3_column_type(st, 4) == SQLITE_INTEGER ? json_integer(sqlite3_column_int64(st, 4)) : json_null();
  return json_pack("{s:I,s:o,s:s,s:s?,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0), "at", dbi_col_time(st, 1),
                   "user", dbi_col_text(st, 2), "file", (const char *)sqlite3_column_text(st, 3), "terms_version", tv);
}

json_t *db_audit_downloads(sqlite3 *db, const char *challenge)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT id,at,actor,target,json_extract(details,'$.terms_version') FROM audit_log "
                                     "WHERE action='dataset.download' AND challenge=? ORDER BY id");
  if (st != NULL)
    dbi_bind_text(st, 1, challenge);
  return dbi_rows(db, st, download_row, NULL);
}

int64_t db_audit_verify(sqlite3 *db, int64_t *bad_id)
{
  char prev[65], hash[65];
  int64_t n = 0, expect_id = 1;
  *bad_id = 0;
  util_strlcpy(prev, zero_hash, sizeof(prev));
  sqlite3_stmt *st = dbi_prepare(db, "SELECT id,at,actor,action,challenge,target,reason,details,prev_hash,hash "
                                     "FROM audit_log ORDER BY id");
  if (st == NULL)
    return -1;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(st, 0);
    char *text = canonical(id, sqlite3_column_int64(st, 1), dbi_col_text(st, 2), dbi_col_text(st, 3),
                           (const char *)sqlite3_column_text(st, 4), (const char *)sqlite3_column_text(st, 5),
                           (const char *)sqlite3_column_text(st, 6), dbi_col_text(st, 7));
    if (text == NULL) {
      *bad_id = id;
      break;
    }
    chain_hash(prev, text, hash);
    free(text);
    if (id != expect_id || strcmp(prev, dbi_col_text(st, 8)) != 0 || strcmp(hash, dbi_col_text(st, 9)) != 0) {
      *bad_id = id;
      break;
    }
    util_strlcpy(prev, hash, sizeof(prev));
    expect_id++;
    n++;
  }
  dbi_finalize(st);
  if (*bad_id != 0)
    return -1;
  return rc == SQLITE_DONE ? n : -1;
}

enum app_status db_audit_download(sqlite3 *db, const char *actor, const char *challenge, const char *file,
                                  json_t *details, int64_t now)
{
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  enum app_status s = APP_INTERNAL;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT 1 FROM audit_log WHERE action='dataset.download' AND challenge=?1 AND "
                                     "target=?2 AND actor=?3 AND at>=?4 LIMIT 1");
  if (st == NULL)
    return dbi_finish(db, APP_INTERNAL);
  dbi_bind_text(st, 1, challenge);
  dbi_bind_text(st, 2, file);
  dbi_bind_text(st, 3, actor);
  sqlite3_bind_int64(st, 4, now - now % 3600);
  int rc = sqlite3_step(st);
  dbi_finalize(st);
  if (rc == SQLITE_ROW)
    s = APP_OK; /* already recorded this hour */
  else if (rc == SQLITE_DONE)
    s = db_audit_append(db, actor, "dataset.download", challenge, file, NULL, details, now);
  else
    dbi_log(db, "download audit");
  return dbi_finish(db, s);
}
