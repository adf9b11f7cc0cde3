/* h_teams.c: teams (create, join by invite code, leave, show) and a team's final selection. Every participant
 * competes as a team; moves are refused once the team left has a submission (db_teams.c). */
#include <string.h>

#include "handlers.h"

#define TEAM_NAME_MIN 2
#define TEAM_NAME_MAX 64
#define SELECTION_MAX 100

/* The caller's team in C, or replies and returns -1. */
static int my_team_or_reply(struct req *r, const struct challenge *c, struct team *t)
{
  int found = db_team_of_user(r->db, c->id, r->user.id, 1, app_now(), t);
  if (found != 1) {
    http_reply_error(r, APP_INTERNAL, "could not find your team");
    return -1;
  }
  return 0;
}

static void reply_team(struct req *r, const struct challenge *c, int64_t team_id, int status)
{
  json_t *o = db_team_json(r->db, team_id, 1, c->team_max_size);
  if (o == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not load the team");
    return;
  }
  http_reply_json(r, status, o);
}

/* Loads the challenge and checks the terms (teams are for participants who accepted them). */
static int team_context_or_reply(struct req *r, struct challenge *c)
{
  if (challenge_or_reply(r, c) != 0 || !terms_accepted_or_reply(r, c))
    return -1;
  return 0;
}

void h_team_get(struct req *r)
{
  struct challenge c;
  struct team t;
  if (team_context_or_reply(r, &c) != 0 || my_team_or_reply(r, &c, &t) != 0)
    return;
  reply_team(r, &c, t.id, 200);
}

static int valid_team_name(const char *name)
{
  size_t n = name != NULL ? strlen(name) : 0;
  if (n < TEAM_NAME_MIN || n > TEAM_NAME_MAX)
    return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)name[i];
    if (ch < 0x20 || ch == 0x7f)
      return 0;
  }
  /* Unicode bidi overrides (U+202A..U+202E, U+2066..U+2069) would reorder what others see. */
  return strstr(name, "\xe2\x80\xaa") == NULL && strstr(name, "\xe2\x80\xab") == NULL &&
         strstr(name, "\xe2\x80\xac") == NULL && strstr(name, "\xe2\x80\xad") == NULL &&
         strstr(name, "\xe2\x80\xae") == NULL && strstr(name, "\xe2\x81\xa6") == NULL &&
         strstr(name, "\xe2\x81\xa7") == NULL && strstr(name, "\xe2\x81\xa8") == NULL &&
         strstr(name, "\xe2\x81\xa9") == NULL;
}

static void reply_team_status(struct req *r, enum app_status s)
{
  const char *msg = s == APP_TEAM_NAME_TAKEN ? "this team name is taken"
                    : s == APP_TEAM_FULL     ? "this team is full"
                    : s == APP_TEAM_LOCKED   ? "your team has submissions: you can no longer leave it"
                    : s == APP_NOT_FOUND     ? "no team has this invite code"
                                             : "could not change your team";
  http_reply_error(r, s, "%s", msg);
}

void h_team_create(struct req *r)
{
  struct challenge c;
  int64_t id = 0;
  if (team_context_or_reply(r, &c) != 0 || challenge_writable_or_reply(r, &c) != 0)
    return;
  const char *name = json_string_value(json_object_get(r->body, "name"));
  if (!valid_team_name(name)) {
    http_reply_error(r, APP_BAD_REQUEST, "a team name is %d to %d characters, without control characters",
                     TEAM_NAME_MIN, TEAM_NAME_MAX);
    return;
  }
  enum app_status s = db_team_create(r->db, c.id, r->user.id, name, app_now(), &id);
  if (s != APP_OK) {
    reply_team_status(r, s);
    return;
  }
  reply_team(r, &c, id, 201);
}

void h_team_join(struct req *r)
{
  struct challenge c;
  int64_t id = 0;
  if (team_context_or_reply(r, &c) != 0 || challenge_writable_or_reply(r, &c) != 0)
    return;
  const char *code = json_string_value(json_object_get(r->body, "invite_code"));
  if (code == NULL || strlen(code) > 64) {
    http_reply_error(r, APP_MISSING_FIELD, "give the team's \"invite_code\"");
    return;
  }
  enum app_status s = db_team_join(r->db, c.id, r->user.id, code, c.team_max_size, app_now(), &id);
  if (s != APP_OK) {
    reply_team_status(r, s);
    return;
  }
  reply_team(r, &c, id, 200);
}

void h_team_leave(struct req *r)
{
  struct challenge c;
  if (team_context_or_reply(r, &c) != 0 || challenge_writable_or_reply(r, &c) != 0)
    return;
  enum app_status s = db_team_leave(r->db, c.id, r->user.id, app_now());
  if (s != APP_OK) {
    reply_team_status(r, s);
    return;
  }
  http_reply_empty(r, 204, NULL);
}

/* The open phase of C that has a final selection, or NULL. */
static const struct phase *selection_phase(const struct challenge *c, int64_t now)
{
  const struct phase *ph = db_challenge_open_phase(c, now);
  return (ph != NULL && ph->final_selection > 0) ? ph : NULL;
}

void h_selection_get(struct req *r)
{
  struct challenge c;
  struct team t;
  if (team_context_or_reply(r, &c) != 0 || my_team_or_reply(r, &c, &t) != 0)
    return;
  const struct phase *ph = selection_phase(&c, app_now());
  json_t *ids = db_selection_get(r->db, t.id, NULL);
  if (ids == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not read the selection");
    return;
  }
  http_reply_json(r, 200,
                  json_pack("{s:o,s:i,s:o}", "phase", ph != NULL ? json_string(ph->name) : json_null(), "max",
                            ph != NULL ? ph->final_selection : 0, "submission_ids", ids));
}

void h_selection_put(struct req *r)
{
  struct challenge c;
  struct team t;
  int64_t ids[SELECTION_MAX];
  if (team_context_or_reply(r, &c) != 0 || challenge_writable_or_reply(r, &c) != 0 || my_team_or_reply(r, &c, &t) != 0)
    return;
  const struct phase *ph = selection_phase(&c, app_now());
  if (ph == NULL) {
    http_reply_error(r, APP_PHASE_CLOSED, "no phase with a final selection is open now");
    return;
  }
  json_t *arr = json_object_get(r->body, "submission_ids");
  if (!json_is_array(arr)) {
    http_reply_error(r, APP_MISSING_FIELD, "\"submission_ids\" must be a list of submission ids");
    return;
  }
  size_t n = json_array_size(arr);
  if (n > (size_t)ph->final_selection || n > SELECTION_MAX) {
    http_reply_error(r, APP_BAD_REQUEST, "phase %s lets a team select at most %d submissions", ph->name,
                     ph->final_selection);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *v = json_array_get(arr, i);
    if (!json_is_integer(v)) {
      http_reply_error(r, APP_BAD_REQUEST, "submission ids are integers");
      return;
    }
    ids[i] = json_integer_value(v);
  }
  enum app_status s = db_selection_set(r->db, &c, ph, t.id, ids, n, app_now());
  if (s != APP_OK) {
    http_reply_error(r, s,
                     s == APP_BAD_REQUEST ? "select scored submissions of your team made in phase %s, once each"
                                          : "could not record the selection (%s)",
                     ph->name);
    return;
  }
  json_t *sel = db_selection_get(r->db, t.id, ph->name);
  http_reply_json(r, 200,
                  json_pack("{s:s,s:i,s:o}", "phase", ph->name, "max", ph->final_selection, "submission_ids",
                            sel != NULL ? sel : json_array()));
}
