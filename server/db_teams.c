/* db_teams.c: the SQL of teams. Every participant competes in exactly one team per challenge: a solo team named
 * after them until they create or join one. Moves between teams are refused once the team being left has a
 * submission, so quotas and rankings cannot be gamed by hopping. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "db_internal.h"
#include "util.h"

static void fill_team(sqlite3_stmt *st, struct team *t)
{
  t->id = sqlite3_column_int64(st, 0);
  util_strlcpy(t->name, dbi_col_text(st, 1), sizeof(t->name));
  t->solo = sqlite3_column_int(st, 2);
  util_strlcpy(t->invite_code, dbi_col_text(st, 3), sizeof(t->invite_code));
  t->disqualified = sqlite3_column_type(st, 4) != SQLITE_NULL;
}

#define TEAM_COLS "t.id, t.name, t.solo, t.invite_code, t.disqualified_at"

/* Makes USER a member of TEAM in CHALLENGE (the user must be in no team of it). 0 or -1. */
static int add_member(sqlite3 *db, int64_t challenge_id, int64_t user_id, int64_t team_id, int64_t now)
{
  sqlite3_stmt *st =
    dbi_prepare(db, "INSERT INTO team_members(challenge_id,user_id,team_id,joined_at) VALUES(?,?,?,?)");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, challenge_id);
  sqlite3_bind_int64(st, 2, user_id);
  sqlite3_bind_int64(st, 3, team_id);
  sqlite3_bind_int64(st, 4, now);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? 0 : -1;
}

static int create_solo(sqlite3 *db, int64_t challenge_id, int64_t user_id, int64_t now)
{
  char code[32];
  int rc = -1;
  if (util_random_token(12, code, sizeof(code)) != 0)
    return -1;
  sqlite3_stmt *st = dbi_prepare(db, "INSERT INTO teams(challenge_id,name,solo,invite_code,created_at) "
                                     "SELECT ?, username, 1, ?, ? FROM users WHERE id=? RETURNING id");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, challenge_id);
  dbi_bind_text(st, 2, code);
  sqlite3_bind_int64(st, 3, now);
  sqlite3_bind_int64(st, 4, user_id);
  if (sqlite3_step(st) != SQLITE_ROW) {
    dbi_log(db, "solo team");
    goto out;
  }
  int64_t team_id = sqlite3_column_int64(st, 0);
  dbi_finalize(st);
  st = NULL;
  rc = add_member(db, challenge_id, user_id, team_id, now);
out:
  dbi_finalize(st);
  return rc;
}

int db_team_of_user(sqlite3 *db, int64_t challenge_id, int64_t user_id, int create_solo_team, int64_t now,
                    struct team *t)
{
  for (int attempt = 0; attempt < 2; attempt++) {
    sqlite3_stmt *st = dbi_prepare(db, "SELECT " TEAM_COLS " FROM team_members m JOIN teams t ON t.id=m.team_id "
                                       "WHERE m.challenge_id=? AND m.user_id=?");
    if (st == NULL)
      return -1;
    sqlite3_bind_int64(st, 1, challenge_id);
    sqlite3_bind_int64(st, 2, user_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
      fill_team(st, t);
    dbi_finalize(st);
    if (rc == SQLITE_ROW)
      return 1;
    if (rc != SQLITE_DONE)
      return -1;
    if (!create_solo_team || attempt > 0)
      return 0;
    if (create_solo(db, challenge_id, user_id, now) != 0)
      return -1;
  }
  return 0;
}

/* 1 when team TEAM_ID of CHALLENGE_ID has any submission, 0 when not, -1 on error. Both ids: the index on
 * (challenge_id, team_id, ...) answers it; by team alone, SQLite scanned every submission (1.2 s at a million). */
static int team_has_submissions(sqlite3 *db, int64_t challenge_id, int64_t team_id)
{
  int r = -1;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT EXISTS(SELECT 1 FROM submissions WHERE challenge_id=? AND team_id=?)");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, challenge_id);
  sqlite3_bind_int64(st, 2, team_id);
  if (sqlite3_step(st) == SQLITE_ROW)
    r = sqlite3_column_int(st, 0);
  dbi_finalize(st);
  return r;
}

/* Removes USER from TEAM (deleting the team when it is left empty). 0 or -1. */
static int leave_team(sqlite3 *db, int64_t challenge_id, int64_t user_id, int64_t team_id)
{
  sqlite3_stmt *st = dbi_prepare(db, "DELETE FROM team_members WHERE challenge_id=? AND user_id=?");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, challenge_id);
  sqlite3_bind_int64(st, 2, user_id);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  if (rc != 0)
    return -1;
  st = dbi_prepare(db, "DELETE FROM teams WHERE id=? AND NOT EXISTS(SELECT 1 FROM team_members WHERE team_id=?)");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, team_id);
  sqlite3_bind_int64(st, 2, team_id);
  rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? 0 : -1;
}

/* In a write transaction: the caller's current team, which must be free to leave. */
static enum app_status movable_team(sqlite3 *db, int64_t challenge_id, int64_t user_id, int64_t now, struct team *cur)
{
  if (db_team_of_user(db, challenge_id, user_id, 1, now, cur) != 1)
    return APP_INTERNAL;
  int has = team_has_submissions(db, challenge_id, cur->id);
  if (has < 0)
    return APP_INTERNAL;
  return has ? APP_TEAM_LOCKED : APP_OK;
}

static int name_is_other_username(sqlite3 *db, const char *name, int64_t user_id)
{
  int r = 1;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT EXISTS(SELECT 1 FROM users WHERE username=? AND id!=?)");
  if (st == NULL)
    return 1;
  dbi_bind_text(st, 1, name);
  sqlite3_bind_int64(st, 2, user_id);
  if (sqlite3_step(st) == SQLITE_ROW)
    r = sqlite3_column_int(st, 0);
  dbi_finalize(st);
  return r;
}

enum app_status db_team_create(sqlite3 *db, int64_t challenge_id, int64_t user_id, const char *name, int64_t now,
                               int64_t *team_id)
{
  struct team cur;
  char code[32];
  sqlite3_stmt *st = NULL;
  enum app_status s = APP_INTERNAL;
  if (util_random_token(12, code, sizeof(code)) != 0 || dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  s = movable_team(db, challenge_id, user_id, now, &cur);
  if (s != APP_OK)
    goto fail;
  if (name_is_other_username(db, name, user_id)) {
    s = APP_TEAM_NAME_TAKEN; /* solo teams carry usernames: no impersonation */
    goto fail;
  }
  s = APP_INTERNAL;
  if (leave_team(db, challenge_id, user_id, cur.id) != 0)
    goto fail;
  st = dbi_prepare(db, "INSERT INTO teams(challenge_id,name,solo,invite_code,created_at) VALUES(?,?,0,?,?) "
                       "RETURNING id");
  if (st == NULL)
    goto fail;
  sqlite3_bind_int64(st, 1, challenge_id);
  dbi_bind_text(st, 2, name);
  dbi_bind_text(st, 3, code);
  sqlite3_bind_int64(st, 4, now);
  int rc = sqlite3_step(st);
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    s = APP_TEAM_NAME_TAKEN;
    goto fail;
  }
  if (rc != SQLITE_ROW)
    goto fail;
  *team_id = sqlite3_column_int64(st, 0);
  dbi_finalize(st);
  st = NULL;
  if (add_member(db, challenge_id, user_id, *team_id, now) != 0)
    goto fail;
  return dbi_finish(db, APP_OK);
fail:
  dbi_finalize(st);
  return dbi_finish(db, s);
}

enum app_status db_team_join(sqlite3 *db, int64_t challenge_id, int64_t user_id, const char *code, int max_size,
                             int64_t now, int64_t *team_id)
{
  struct team cur;
  sqlite3_stmt *st = NULL;
  enum app_status s = APP_INTERNAL;
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  st = dbi_prepare(db, "SELECT t.id, (SELECT count(*) FROM team_members WHERE team_id=t.id) FROM teams t "
                       "WHERE t.challenge_id=? AND t.invite_code=? AND t.solo=0");
  if (st == NULL)
    goto fail;
  sqlite3_bind_int64(st, 1, challenge_id);
  dbi_bind_text(st, 2, code);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    s = APP_NOT_FOUND;
    goto fail;
  }
  if (rc != SQLITE_ROW)
    goto fail;
  *team_id = sqlite3_column_int64(st, 0);
  int members = sqlite3_column_int(st, 1);
  dbi_finalize(st);
  st = NULL;
  s = movable_team(db, challenge_id, user_id, now, &cur);
  if (cur.id == *team_id) { /* already a member */
    s = APP_OK;
    goto fail;
  }
  if (s != APP_OK)
    goto fail;
  if (members >= max_size) {
    s = APP_TEAM_FULL;
    goto fail;
  }
  s = APP_INTERNAL;
  if (leave_team(db, challenge_id, user_id, cur.id) != 0)
    goto fail;
  if (add_member(db, challenge_id, user_id, *team_id, now) != 0)
    goto fail;
  return dbi_finish(db, APP_OK);
fail:
  dbi_finalize(st);
  return dbi_finish(db, s);
}

enum app_status db_team_leave(sqlite3 *db, int64_t challenge_id, int64_t user_id, int64_t now)
{
  struct team cur;
  enum app_status s = APP_INTERNAL;
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  s = movable_team(db, challenge_id, user_id, now, &cur);
  if (s != APP_OK)
    goto fail;
  if (cur.solo) /* nothing to leave */
    return dbi_finish(db, APP_OK);
  s = APP_INTERNAL;
  if (leave_team(db, challenge_id, user_id, cur.id) != 0 || create_solo(db, challenge_id, user_id, now) != 0)
    goto fail;
  return dbi_finish(db, APP_OK);
fail:
  return dbi_finish(db, s);
}

static json_t *member_row(sqlite3_stmt *st, void *arg)
{
  (void)arg;
  return json_pack("{s:s,s:o}", "username", dbi_col_text(st, 0), "joined_at", dbi_col_time(st, 1));
}

json_t *db_team_json(sqlite3 *db, int64_t team_id, int with_code, int max_size)
{
  json_t *o = NULL, *members = NULL;
  struct team t;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT " TEAM_COLS ", (SELECT count(*) FROM submissions WHERE team_id=t.id) "
                                     "FROM teams t WHERE t.id=?");
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64(st, 1, team_id);
  if (sqlite3_step(st) == SQLITE_ROW) {
    fill_team(st, &t);
    o = json_pack("{s:I,s:s,s:b,s:i,s:b,s:i}", "id", (json_int_t)t.id, "name", t.name, "solo", t.solo, "max_size",
                  max_size, "disqualified", t.disqualified, "submissions", sqlite3_column_int(st, 5));
  }
  dbi_finalize(st);
  if (o == NULL)
    return NULL;
  if (with_code && !t.solo)
    json_object_set_new(o, "invite_code", json_string(t.invite_code));
  st = dbi_prepare(db, "SELECT u.username, m.joined_at FROM team_members m JOIN users u ON u.id=m.user_id "
                       "WHERE m.team_id=? ORDER BY m.joined_at, u.id");
  if (st != NULL)
    sqlite3_bind_int64(st, 1, team_id);
  members = dbi_rows(db, st, member_row, NULL);
  if (members == NULL) {
    json_decref(o);
    return NULL;
  }
  json_object_set_new(o, "members", members);
  return o;
}
