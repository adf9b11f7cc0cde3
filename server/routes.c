/* routes.c: the one route table of the API, and the dispatcher that runs the common checks before any handler:
 * path decoding and bounds, method, cross-site refusal, authentication (Bearer token or session cookie),
 * role, CSRF for cookie-authenticated changes, and the JSON body (content type, size cap, depth cap). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "handlers.h"
#include "http.h"
#include "util.h"

enum auth_need { AUTH_NONE, AUTH_OPTIONAL, AUTH_USER };

#define ROLES_ANY 0u
#define ROLE_BIT(r) (1u << (r))
#define ROLES_ORGANIZER (ROLE_BIT(ROLE_ORGANIZER) | ROLE_BIT(ROLE_ADMIN))
#define ROLES_JURY (ROLE_BIT(ROLE_JURY) | ROLE_BIT(ROLE_ADMIN))
#define ROLES_STAFF (ROLE_BIT(ROLE_ORGANIZER) | ROLE_BIT(ROLE_JURY) | ROLE_BIT(ROLE_ADMIN))

struct route {
  const char *method;
  const char *pattern; /* after /api/v1/: literal segments, {} one segment, {*} the rest */
  enum auth_need auth;
  unsigned roles; /* ROLES_ANY or a mask of ROLE_BIT() */
  int json_body;
  void (*handler)(struct req *r);
};

static const struct route routes[] = {
  {"POST", "users", AUTH_NONE, ROLES_ANY, 1, h_users_create},
  {"POST", "sessions", AUTH_NONE, ROLES_ANY, 1, h_sessions_create},
  {"DELETE", "sessions/current", AUTH_USER, ROLES_ANY, 0, h_sessions_delete},
  {"GET", "me", AUTH_USER, ROLES_ANY, 0, h_me},
  {"POST", "tokens", AUTH_USER, ROLES_ANY, 1, h_tokens_create},
  {"GET", "tokens", AUTH_USER, ROLES_ANY, 0, h_tokens_list},
  {"POST", "password-reset", AUTH_NONE, ROLES_ANY, 1, h_password_reset},
  {"POST", "email-verification", AUTH_USER, ROLES_ANY, 0, h_verify_resend},
  {"POST", "email-verification/confirm", AUTH_NONE, ROLES_ANY, 1, h_verify_confirm},
  {"POST", "password-reset/confirm", AUTH_NONE, ROLES_ANY, 1, h_password_reset_confirm},
  {"PUT", "me/password", AUTH_USER, ROLES_ANY, 1, h_me_password},
  {"PUT", "me/email", AUTH_USER, ROLES_ANY, 1, h_me_email},
  {"DELETE", "me", AUTH_USER, ROLES_ANY, 1, h_me_delete},
  {"GET", "me/notifications", AUTH_USER, ROLES_ANY, 0, h_notifications},
  {"PUT", "me/notifications", AUTH_USER, ROLES_ANY, 1, h_notifications},
  {"PUT", "me/language", AUTH_USER, ROLES_ANY, 1, h_me_language},
  {"DELETE", "tokens/{}", AUTH_USER, ROLES_ANY, 0, h_token_revoke},
  {"GET", "challenges", AUTH_OPTIONAL, ROLES_ANY, 0, h_challenges_list},
  {"GET", "challenges/{}", AUTH_OPTIONAL, ROLES_ANY, 0, h_challenge_get},
  {"POST", "challenges/{}/terms", AUTH_USER, ROLES_ANY, 1, h_terms_accept},
  {"GET", "challenges/{}/files", AUTH_USER, ROLES_ANY, 0, h_files_list},
  {"GET", "challenges/{}/files/{*}", AUTH_USER, ROLES_ANY, 0, h_file_get},
  {"POST", "challenges/{}/submissions", AUTH_USER, ROLES_ANY, 0, h_submission_create},
  {"GET", "challenges/{}/submissions", AUTH_USER, ROLES_ANY, 0, h_submissions_list},
  {"GET", "submissions/{}", AUTH_USER, ROLES_ANY, 0, h_submission_get},
  {"GET", "challenges/{}/leaderboard", AUTH_OPTIONAL, ROLES_ANY, 0, h_leaderboard},
  {"DELETE", "submissions/{}", AUTH_USER, ROLES_ANY, 0, h_submission_cancel},
  {"GET", "submissions/{}/log", AUTH_USER, ROLES_ANY, 0, h_submission_log},
  /* teams and final selection */
  {"GET", "challenges/{}/team", AUTH_USER, ROLES_ANY, 0, h_team_get},
  {"DELETE", "challenges/{}/team", AUTH_USER, ROLES_ANY, 0, h_team_leave},
  {"POST", "challenges/{}/teams", AUTH_USER, ROLES_ANY, 1, h_team_create},
  {"POST", "challenges/{}/teams/join", AUTH_USER, ROLES_ANY, 1, h_team_join},
  {"GET", "challenges/{}/selection", AUTH_USER, ROLES_ANY, 0, h_selection_get},
  {"PUT", "challenges/{}/selection", AUTH_USER, ROLES_ANY, 1, h_selection_put},
  /* method descriptions (docs/factsheets.md) */
  {"PUT", "challenges/{}/fact-sheet", AUTH_USER, ROLES_ANY, 0, h_fact_sheet_put},
  {"GET", "challenges/{}/fact-sheet", AUTH_USER, ROLES_ANY, 0, h_fact_sheet_get},
  {"GET", "challenges/{}/fact-sheet/file", AUTH_USER, ROLES_ANY, 0, h_fact_sheet_file},
  {"GET", "challenges/{}/teams/{}/fact-sheet/file", AUTH_USER, ROLES_STAFF, 0, h_fact_sheet_staff_file},
  {"POST", "challenges/{}/teams/{}/fact-sheet/accept", AUTH_USER, ROLES_JURY, 1, h_fact_sheet_accept},
  {"POST", "challenges/{}/teams/{}/fact-sheet/refuse", AUTH_USER, ROLES_JURY, 1, h_fact_sheet_refuse},
  /* organizers */
  {"POST", "challenges", AUTH_USER, ROLES_ORGANIZER, 0, h_challenge_import},
  {"PATCH", "challenges/{}/phases/{}", AUTH_USER, ROLES_ORGANIZER, 1, h_phase_update},
  {"PUT", "challenges/{}/state", AUTH_USER, ROLES_ORGANIZER, 1, h_challenge_state},
  {"GET", "challenges/{}/staff", AUTH_USER, ROLES_STAFF, 0, h_staff_list},
  {"PUT", "challenges/{}/staff/{}", AUTH_USER, ROLES_ORGANIZER, 1, h_staff_set},
  {"POST", "challenges/{}/rescore", AUTH_USER, ROLES_ORGANIZER, 1, h_challenge_rescore},
  {"GET", "challenges/{}/queue", AUTH_USER, ROLES_ORGANIZER, 0, h_queue_stats},
  {"POST", "challenges/{}/announcements", AUTH_USER, ROLES_ORGANIZER, 1, h_announce},
  {"POST", "submissions/{}/cancel", AUTH_USER, ROLES_ORGANIZER, 1, h_submission_cancel_staff},
  {"GET", "challenges/{}/export", AUTH_USER, ROLES_ORGANIZER, 0, h_export},
  {"GET", "challenges/{}/anonymity", AUTH_USER, ROLES_STAFF, 0, h_challenge_anonymity},
  {"GET", "challenges/{}/downloads", AUTH_USER, ROLES_STAFF, 0, h_downloads_export},
  {"GET", "audit", AUTH_USER, ROLES_STAFF, 0, h_audit_list},
  /* jury */
  {"GET", "challenges/{}/review", AUTH_USER, ROLES_STAFF, 0, h_review},
  {"GET", "challenges/{}/review/export", AUTH_USER, ROLES_STAFF, 0, h_review_export},
  {"GET", "challenges/{}/review/stability", AUTH_USER, ROLES_STAFF, 0, h_review_stability},
  {"POST", "submissions/{}/disqualify", AUTH_USER, ROLES_JURY, 1, h_submission_disqualify},
  {"POST", "submissions/{}/reinstate", AUTH_USER, ROLES_JURY, 1, h_submission_reinstate},
  {"POST", "submissions/{}/rescore", AUTH_USER, ROLES_JURY, 1, h_submission_rescore},
  {"POST", "challenges/{}/teams/{}/disqualify", AUTH_USER, ROLES_JURY, 1, h_team_disqualify},
  {"POST", "challenges/{}/teams/{}/reinstate", AUTH_USER, ROLES_JURY, 1, h_team_reinstate},
  {"POST", "challenges/{}/notes", AUTH_USER, ROLES_JURY, 1, h_note_add},
  {"POST", "challenges/{}/publish", AUTH_USER, ROLES_JURY, 1, h_publish},
  /* the published ranking: anyone */
  {"GET", "challenges/{}/ranking", AUTH_OPTIONAL, ROLES_ANY, 0, h_ranking},
  {"GET", "challenges/{}/ranking.sig", AUTH_OPTIONAL, ROLES_ANY, 0, h_ranking_sig},
  {"GET", "signing-key", AUTH_NONE, ROLES_ANY, 0, h_signing_key},
  /* remote workers: a worker token in "Authorization: Worker TOKEN", checked by h_worker.c */
  {"POST", "worker/claim", AUTH_NONE, ROLES_ANY, 1, h_worker_claim},
  {"GET", "worker/files/{}/{*}", AUTH_NONE, ROLES_ANY, 0, h_worker_file},
  {"POST", "worker/runs/{}/heartbeat", AUTH_NONE, ROLES_ANY, 0, h_worker_heartbeat},
  {"POST", "worker/runs/{}/log", AUTH_NONE, ROLES_ANY, 0, h_worker_log},
  {"POST", "worker/runs/{}/inputs", AUTH_NONE, ROLES_ANY, 0, h_worker_inputs},
  {"POST", "worker/runs/{}/release", AUTH_NONE, ROLES_ANY, 0, h_worker_release},
  {"POST", "worker/runs/{}/result", AUTH_NONE, ROLES_ANY, 0, h_worker_result},
  {"POST", "worker/runs/{}/failed", AUTH_NONE, ROLES_ANY, 1, h_worker_failed},
  /* admins */
  {"PUT", "users/{}/role", AUTH_USER, ROLE_BIT(ROLE_ADMIN), 1, h_role_set},
};

struct path {
  char seg[HTTP_MAX_SEGMENTS][HTTP_SEGMENT_MAX];
  int n;
};

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decodes one raw path segment [S, S+LEN) into OUT. Refuses bad %-escapes, NUL, '/', '\', control bytes and
 * the names "." and "..". Returns 0 or -1. */
static int decode_segment(const char *s, size_t len, char *out, size_t n)
{
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    int c = (unsigned char)s[i];
    if (c == '%') {
      int hi = i + 1 < len ? hexval(s[i + 1]) : -1, lo = i + 2 < len ? hexval(s[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return -1;
      c = hi * 16 + lo;
      i += 2;
    }
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
      return -1;
    if (o + 1 >= n)
      return -1;
    out[o++] = (char)c;
  }
  out[o] = '\0';
  if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
    return -1;
  return 0;
}

/* Splits the raw URI after "/api/v1/" into decoded segments. Returns 0, or -1 for a malformed path. */
static int split_path(const char *uri, struct path *p)
{
  static const char prefix[] = "/api/v1/";
  p->n = 0;
  if (strncmp(uri, prefix, sizeof(prefix) - 1) != 0)
    return -2;
  const char *s = uri + sizeof(prefix) - 1;
  while (*s != '\0') {
    const char *end = strchr(s, '/');
    size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
    if (p->n >= HTTP_MAX_SEGMENTS || decode_segment(s, len, p->seg[p->n], HTTP_SEGMENT_MAX) != 0)
      return -1;
    p->n++;
    if (end == NULL)
      break;
    s = end + 1;
    if (*s == '\0')
      return -1; /* trailing slash */
  }
  return p->n > 0 ? 0 : -2;
}

/* Matches P against PATTERN, filling R's params. 1 on a match, 0 otherwise. */
static int match(const char *pattern, const struct path *p, struct req *r)
{
  char pat[128];
  int i = 0, nparam = 0;
  util_strlcpy(pat, pattern, sizeof(pat));
  char *save = NULL;
  for (char *tok = strtok_r(pat, "/", &save); tok != NULL; tok = strtok_r(NULL, "/", &save)) {
    if (strcmp(tok, "{*}") == 0) {
      if (i >= p->n || nparam >= 2)
        return 0;
      char *out = r->param[nparam++];
      size_t used = 0;
      out[0] = '\0';
      for (int k = i; k < p->n; k++) {
        int w = snprintf(out + used, HTTP_SEGMENT_MAX - used, "%s%s", k > i ? "/" : "", p->seg[k]);
        if (w < 0 || (size_t)w >= HTTP_SEGMENT_MAX - used)
          return 0;
        used += (size_t)w;
      }
      return 1;
    }
    if (i >= p->n)
      return 0;
    if (strcmp(tok, "{}") == 0) {
      if (nparam >= 2)
        return 0;
      util_strlcpy(r->param[nparam++], p->seg[i], HTTP_SEGMENT_MAX);
    } else if (strcmp(tok, p->seg[i]) != 0) {
      return 0;
    }
    i++;
  }
  return i == p->n;
}

/* Reads and parses the JSON object body into r->body, or replies with the error and returns -1. */
static int read_json_body_or_reply(struct req *r)
{
  const char *ctype = http_header(r, "Content-Type");
  char *buf = NULL;
  size_t len = 0;
  int rc = -1;
  if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0) {
    http_reply_error(r, APP_UNSUPPORTED_MEDIA_TYPE, "send the body as application/json");
    return -1;
  }
  if (r->ri->content_length > HTTP_JSON_MAX) {
    http_reply_error(r, APP_TOO_LARGE, "JSON bodies are limited to %d bytes", HTTP_JSON_MAX);
    return -1;
  }
  buf = malloc(HTTP_JSON_MAX + 1);
  if (buf == NULL) {
    http_reply_error(r, APP_INTERNAL, "out of memory");
    return -1;
  }
  for (;;) {
    int got = mg_read(r->conn, buf + len, HTTP_JSON_MAX + 1 - len);
    if (got <= 0)
      break;
    len += (size_t)got;
    if (len > HTTP_JSON_MAX) {
      http_reply_error(r, APP_TOO_LARGE, "JSON bodies are limited to %d bytes", HTTP_JSON_MAX);
      goto out;
    }
  }
  /* depth first, without recursion: jansson's parser recurses once per level, on CivetWeb's small stack */
  if (util_json_depth_exceeds(buf, len, HTTP_JSON_DEPTH)) {
    http_reply_error(r, APP_INVALID_JSON, "the body must be a JSON object nested at most %d deep", HTTP_JSON_DEPTH);
    goto out;
  }
  json_error_t jerr;
  r->body = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
  if (r->body == NULL) {
    http_reply_error(r, APP_INVALID_JSON, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    goto out;
  }
  if (!json_is_object(r->body)) {
    http_reply_error(r, APP_INVALID_JSON, "the body must be a JSON object nested at most %d deep", HTTP_JSON_DEPTH);
    goto out;
  }
  rc = 0;
out:
  free(buf);
  return rc;
}

/* Fills r->user from a Bearer token or the session cookie. Returns APP_OK (authenticated or anonymous),
 * APP_UNAUTHORIZED for a bad Bearer token, or APP_INTERNAL. */
static enum app_status authenticate(struct req *r)
{
  const char *authz = http_header(r, "Authorization");
  char hash[65];
  if (authz != NULL) {
    if (strncasecmp(authz, "Bearer ", 7) != 0 || strlen(authz + 7) >= AUTH_TOKEN_MAX)
      return APP_UNAUTHORIZED;
    auth_secret_hash(authz + 7, hash);
    int stale = 0;
    int64_t now = app_now();
    enum app_status s = db_token_user(r->db, hash, now, &r->user, r->token_scope, sizeof(r->token_scope), &stale);
    if (s == APP_OK) {
      r->authenticated = 1;
      if (stale)
        db_token_touch(r->db, hash, now); /* "last used" on the token page, to the minute; a failure only costs that */
    }
    return s;
  }
  const char *cookies = http_header(r, "Cookie");
  char token[AUTH_TOKEN_MAX];
  if (cookies != NULL && mg_get_cookie(cookies, "concours_session", token, sizeof(token)) > 0) {
    auth_secret_hash(token, hash);
    enum app_status s = db_session_user(r->db, hash, app_now(), &r->user, r->csrf, sizeof(r->csrf));
    if (s == APP_OK) {
      r->authenticated = 1;
      r->via_cookie = 1;
      util_strlcpy(r->session_hash, hash, sizeof(r->session_hash));
    } else if (s != APP_UNAUTHORIZED) {
      return s;
    }
  }
  return APP_OK;
}

/* The staff role the user holds on the challenge ROUTE is about (challenges/{slug}/..., or the challenge of
 * submissions/{id}/...), into r->challenge_role. A role given per challenge never reaches another challenge. */
static enum app_status challenge_role(struct req *r, const struct route *route)
{
  char slug[64];
  /* anonymous callers have none; server-wide staff whose role the route accepts need none (one query saved on
   * their every request) */
  if (!r->authenticated ||
      (r->user.role != ROLE_PARTICIPANT && (route->roles == ROLES_ANY || (route->roles & ROLE_BIT(r->user.role)) != 0)))
    return APP_OK;
  if (strncmp(route->pattern, "challenges/{}", 13) == 0) {
    if (util_strlcpy(slug, r->param[0], sizeof(slug)) != 0)
      return APP_OK; /* no such slug: the handler answers 404 */
  } else if (strncmp(route->pattern, "submissions/{}", 14) == 0) {
    long long id;
    if (util_parse_ll(r->param[0], 1, INT64_MAX, &id) != 0)
      return APP_OK;
    enum app_status s = db_submission_challenge(r->db, id, slug);
    if (s != APP_OK)
      return s == APP_NOT_FOUND ? APP_OK : s;
  } else {
    return APP_OK;
  }
  int found = db_staff_role(r->db, slug, r->user.id, &r->challenge_role);
  if (found < 0)
    return APP_INTERNAL;
  r->has_challenge_role = found;
  return APP_OK;
}

static int is_safe_method(const char *m)
{
  return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

static void dispatch(struct req *r)
{
  struct path p;
  const struct route *route = NULL;
  int path_known = 0;
  const char *method = r->ri->request_method;
  const char *uri = r->ri->local_uri_raw != NULL ? r->ri->local_uri_raw : r->ri->local_uri;

  if (http_ambiguous_framing(r->ri)) {
    mg_disable_connection_keep_alive(r->conn);
    http_reply_error(r, APP_BAD_REQUEST, "conflicting Content-Length / Transfer-Encoding headers");
    return;
  }
  int sp = uri != NULL ? split_path(uri, &p) : -1;
  if (sp == -1) {
    http_reply_error(r, APP_BAD_REQUEST, "malformed path");
    return;
  }
  if (sp == -2) {
    http_reply_error(r, APP_NOT_FOUND, "no such endpoint");
    return;
  }
  for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
    struct req probe;
    memset(probe.param, 0, sizeof(probe.param));
    if (!match(routes[i].pattern, &p, &probe))
      continue;
    path_known = 1;
    if (strcmp(routes[i].method, method) == 0 ||
        (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
      route = &routes[i];
      memcpy(r->param, probe.param, sizeof(r->param));
      break;
    }
  }
  if (route == NULL) {
    if (path_known)
      http_reply_error(r, APP_METHOD_NOT_ALLOWED, "%s is not allowed here", method);
    else
      http_reply_error(r, APP_NOT_FOUND, "no such endpoint");
    return;
  }
  const char *site = http_header(r, "Sec-Fetch-Site");
  if (site != NULL && strcasecmp(site, "cross-site") == 0) {
    http_reply_error(r, APP_CSRF_FAILED, "cross-site requests are refused");
    return;
  }
  if (route->auth != AUTH_NONE) {
    enum app_status s = authenticate(r);
    if (s != APP_OK) {
      http_reply_error(r, s, s == APP_UNAUTHORIZED ? "invalid or expired credentials" : "authentication failed");
      return;
    }
    if (route->auth == AUTH_USER && !r->authenticated) {
      http_reply_error(r, APP_UNAUTHORIZED, "log in or send an API token");
      return;
    }
    if (challenge_role(r, route) != APP_OK) {
      http_reply_error(r, APP_INTERNAL, "authorization failed");
      return;
    }
    if (route->roles != ROLES_ANY &&
        (!r->authenticated || ((route->roles & ROLE_BIT(r->user.role)) == 0 &&
                               (!r->has_challenge_role || (route->roles & ROLE_BIT(r->challenge_role)) == 0)))) {
      http_reply_error(r, APP_FORBIDDEN, "your role may not do this");
      return;
    }
    /* API tokens (issue 16): a "read" token only reads; no token changes the account itself (its password,
     * address, tokens, deletion): a leaked script token cannot take the account over */
    if (r->authenticated && !r->via_cookie && !is_safe_method(method)) {
      int account = strncmp(route->pattern, "tokens", 6) == 0 || strcmp(route->pattern, "me") == 0 ||
                    strncmp(route->pattern, "me/", 3) == 0;
      if (account || strcmp(r->token_scope, "read") == 0) {
        http_reply_error(r, APP_FORBIDDEN,
                         account ? "account settings are changed after logging in, not with an API token"
                                 : "this API token may only read (scope \"read\"): make a \"submit\" token to act");
        return;
      }
    }
    if (r->via_cookie && !is_safe_method(method)) {
      const char *token = http_header(r, "X-CSRF-Token");
      if (token == NULL || !util_ct_streq(token, r->csrf)) {
        http_reply_error(r, APP_CSRF_FAILED, "missing or wrong X-CSRF-Token header");
        return;
      }
    }
  }
  if (route->json_body && read_json_body_or_reply(r) != 0)
    return;
  route->handler(r);
  if (!r->replied)
    http_reply_error(r, APP_INTERNAL, "no reply");
}

int http_api_handler(struct mg_connection *conn, void *cbdata)
{
  struct req *r = calloc(1, sizeof(*r));
  if (r == NULL) {
    mg_send_http_error(conn, 500, "out of memory");
    return 500;
  }
  r->conn = conn;
  r->ri = mg_get_request_info(conn);
  r->cfg = cbdata;
  r->db = db_acquire();
  dispatch(r);
  db_release(r->db);
  json_decref(r->body);
  free(r);
  return 1;
}
