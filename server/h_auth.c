/* h_auth.c: accounts: registration, login and logout (session cookie + CSRF token), who am I, API tokens. */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "db_mail.h"
#include "mail.h"
#include "handlers.h"
#include "util.h"

#define SESSION_TTL (14 * 86400)
/* Failed logins allowed per 15 minutes: from one client address (any username), and on one account from
 * addresses it never logged in from (db.h explains the two counters). */
static const struct login_limits login_limits = {15 * 60, 10, 10};

/* The string field NAME of the body, or NULL after replying 400 missing_field. */
static const char *field_or_reply(struct req *r, const char *name, size_t max)
{
  const char *v = json_string_value(json_object_get(r->body, name));
  if (v == NULL || strlen(v) > max) {
    http_reply_error(r, APP_MISSING_FIELD, "\"%s\" must be a string of at most %zu bytes", name, max);
    return NULL;
  }
  return v;
}

/* Mails USER_ID (named USER) a link confirming its address, when the server asks for confirmed addresses. 1 sent,
 * 0 not (3 an hour), -1 on a fault. */
static int send_verification(struct req *r, int64_t user_id, const char *user)
{
  char secret[AUTH_TOKEN_MAX], hash[65], email[320], body[1200];
  if (auth_new_secret(secret) != 0)
    return -1;
  auth_secret_hash(secret, hash);
  int64_t now = app_now();
  int got = db_verify_begin(r->db, user_id, hash, now, email, sizeof(email));
  if (got != 1 || !mail_address_ok(email))
    return got < 0 ? -1 : 0;
  enum i18n_lang lang = db_user_lang(r->db, user);
  i18n_snprintf(lang, body, sizeof(body),
                "Hello %s,\n\nconfirm that this address is yours to take part in challenges on concours (the link "
                "works for two days):\n\n  %s/verify.html#token=%s\n\nIf you did not make this account, do nothing.\n",
                user, r->cfg->public_url, secret);
  if (db_mail_queue(r->db, email, i18n_format(lang, "Confirm your address for concours"), body, now) != APP_OK)
    return -1;
  mail_notify();
  return 1;
}

void h_users_create(struct req *r)
{
  char hash[AUTH_HASH_MAX];
  int64_t id = 0;
  const char *username = field_or_reply(r, "username", 64);
  if (username == NULL)
    return;
  const char *email = field_or_reply(r, "email", 300);
  if (email == NULL)
    return;
  const char *password = field_or_reply(r, "password", 1024);
  if (password == NULL)
    return;
  if (auth_check_username(username) != APP_OK) {
    http_reply_error(r, APP_INVALID_USERNAME, "a username is 3 to 32 characters among A-Z a-z 0-9 _ . -");
    return;
  }
  if (auth_check_email(email) != APP_OK) {
    http_reply_error(r, APP_INVALID_EMAIL, "give an e-mail address like name@example.org");
    return;
  }
  if (auth_check_password(password) != APP_OK) {
    http_reply_error(r, APP_WEAK_PASSWORD, "a password is 10 to 256 characters, not one character repeated");
    return;
  }
  if (auth_hash_password(password, hash) != 0) {
    http_reply_error(r, APP_INTERNAL, "could not hash the password");
    return;
  }
  enum app_status s = db_user_create(r->db, username, email, ROLE_PARTICIPANT, hash, &id);
  if (s != APP_OK) {
    http_reply_error(r, s, s == APP_USERNAME_TAKEN ? "this username is taken" : "could not create the account");
    return;
  }
  /* the mails of the account are in the language of its registration until the pages' switch changes it */
  if (http_lang(r) != I18N_EN && db_user_set_lang(r->db, id, http_lang(r)) != APP_OK)
    fprintf(stderr, "concours: could not record the language of %s\n", username);
  if (r->cfg->verify_email && send_verification(r, id, username) < 0)
    fprintf(stderr, "concours: could not mail the confirmation link of %s\n", username);
  http_reply_json(r, 201, json_pack("{s:I,s:s}", "id", (json_int_t)id, "username", username));
}

void h_sessions_create(struct req *r)
{
  char stored[AUTH_HASH_MAX], token[AUTH_TOKEN_MAX], csrf[AUTH_TOKEN_MAX], hash[65], cookie[256];
  struct user u;
  const char *username = json_string_value(json_object_get(r->body, "username"));
  const char *password = json_string_value(json_object_get(r->body, "password"));
  int64_t now = app_now();
  if (username == NULL || password == NULL || strlen(username) > 64 || strlen(password) > 1024) {
    http_reply_error(r, APP_INVALID_CREDENTIALS, "wrong username or password");
    return;
  }
  char address[64], retry[64];
  int64_t wait = 0;
  http_client_address(r, address, sizeof(address));
  enum app_status s = db_login_attempt(r->db, username, address, &login_limits, now, &wait);
  if (s == APP_RATE_LIMITED) {
    snprintf(retry, sizeof(retry), "Retry-After: %lld\r\n", (long long)wait);
    http_reply_error_headers(r, 429, "rate_limited",
                             "too many failed logins from this address or for this account; try again later", retry);
    return;
  }
  if (s != APP_OK) {
    http_reply_error(r, s, "could not check the credentials");
    return;
  }
  s = db_user_by_name(r->db, username, &u, stored, sizeof(stored));
  if (s == APP_INTERNAL) {
    http_reply_error(r, s, "could not check the credentials");
    return;
  }
  /* An unknown user costs one PBKDF2 run too, and gets the same answer as a wrong password. */
  int ok = auth_verify_password(password, s == APP_OK ? stored : NULL);
  if (!ok) { /* the attempt stays counted */
    http_reply_error(r, APP_INVALID_CREDENTIALS, "wrong username or password");
    return;
  }
  if (db_login_succeeded(r->db, username, u.id, address, now) != APP_OK) {
    http_reply_error(r, APP_INTERNAL, "could not create a session");
    return;
  }
  if (auth_new_secret(token) != 0 || auth_new_secret(csrf) != 0) {
    http_reply_error(r, APP_INTERNAL, "could not create a session");
    return;
  }
  auth_secret_hash(token, hash);
  if (db_session_create(r->db, hash, u.id, csrf, now, now + SESSION_TTL) != APP_OK) {
    http_reply_error(r, APP_INTERNAL, "could not create a session");
    return;
  }
  snprintf(cookie, sizeof(cookie),
           "Set-Cookie: concours_session=%s; Path=/; HttpOnly; SameSite=Strict; "
           "Max-Age=%d%s\r\n",
           token, SESSION_TTL, r->cfg->secure_cookies ? "; Secure" : "");
  http_reply_json_headers(
    r, 200, json_pack("{s:s,s:s,s:s}", "username", u.username, "role", app_role_name(u.role), "csrf_token", csrf),
    cookie);
}

void h_sessions_delete(struct req *r)
{
  if (r->via_cookie && db_session_delete(r->db, r->session_hash) != APP_OK) {
    http_reply_error(r, APP_INTERNAL, "could not end the session");
    return;
  }
  http_reply_empty(r, 204, "Set-Cookie: concours_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0\r\n");
}

void h_me(struct req *r)
{
  char email[320] = "", at[32] = "";
  int64_t created = 0;
  if (db_account_email(r->db, r->user.id, email, sizeof(email), &created) == APP_OK)
    util_iso8601(created, at);
  json_t *o = json_pack("{s:I,s:s,s:s,s:n,s:s,s:s}", "id", (json_int_t)r->user.id, "username", r->user.username, "role",
                        app_role_name(r->user.role), "team", "email", email, "created_at", at);
  if (o != NULL) {
    json_object_set_new(o, "email_verified", json_boolean(db_email_verified(r->db, r->user.id) == 1));
    json_object_set_new(o, "language", json_string(i18n_code(db_user_lang(r->db, r->user.username))));
  }
  /* The browser may reload and lose the CSRF token it got at login: give it back to its own session only. */
  if (o != NULL && r->via_cookie)
    json_object_set_new(o, "csrf_token", json_string(r->csrf));
  http_reply_json(r, 200, o);
}

void h_tokens_create(struct req *r)
{
  char token[AUTH_TOKEN_MAX + 8], secret[AUTH_TOKEN_MAX], hash[65];
  int64_t id = 0;
  const char *name = field_or_reply(r, "name", 100);
  if (name == NULL)
    return;
  if (name[0] == '\0') {
    http_reply_error(r, APP_MISSING_FIELD, "give the token a name");
    return;
  }
  if (auth_new_secret(secret) != 0) {
    http_reply_error(r, APP_INTERNAL, "could not create a token");
    return;
  }
  snprintf(token, sizeof(token), "cct_%s", secret);
  auth_secret_hash(token, hash);
  json_t *js = json_object_get(r->body, "scope");
  const char *scope = js == NULL ? "submit" : json_string_value(js);
  if (scope == NULL || (strcmp(scope, "read") != 0 && strcmp(scope, "submit") != 0)) {
    http_reply_error(r, APP_BAD_REQUEST, "\"scope\" is \"read\" (reading only) or \"submit\" (the default)");
    return;
  }
  if (db_token_create(r->db, r->user.id, name, scope, hash, app_now(), &id) != APP_OK) {
    http_reply_error(r, APP_INTERNAL, "could not create a token");
    return;
  }
  http_reply_json(r, 201,
                  json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)id, "name", name, "token", token, "scope", scope));
}

/* GET /api/v1/tokens → your API tokens (never their secrets). */
void h_tokens_list(struct req *r)
{
  json_t *list = db_tokens_list(r->db, r->user.id);
  if (list == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not list the tokens");
    return;
  }
  http_reply_json(r, 200, list);
}

/* DELETE /api/v1/tokens/{id} → 204: the token stops working at once. 404 for a token that is not yours. */
void h_token_revoke(struct req *r)
{
  long long id = 0;
  enum app_status s =
    util_parse_ll(r->param[0], 1, INT64_MAX, &id) == 0 ? db_token_revoke(r->db, r->user.id, id) : APP_NOT_FOUND;
  if (s != APP_OK) {
    http_reply_error(r, s, s == APP_NOT_FOUND ? "no such token of yours" : "could not revoke the token");
    return;
  }
  http_reply_empty(r, 204, NULL);
}

/* POST /api/v1/password-reset {"login"} (a username or an e-mail address) → 202, whatever the account: when one
 * matches (and it asked fewer than 3 times in the hour), a single-use link valid an hour is mailed to it. The answer
 * never says whether an account exists. */
void h_password_reset(struct req *r)
{
  char secret[AUTH_TOKEN_MAX], hash[65], email[320], user[64], link[600], body[1500];
  const char *login = field_or_reply(r, "login", 300);
  if (login == NULL)
    return;
  int64_t now = app_now();
  int found = 0;
  if (login[0] != '\0' && auth_new_secret(secret) == 0) {
    auth_secret_hash(secret, hash);
    found = db_reset_begin(r->db, login, hash, now, email, sizeof(email), user, sizeof(user));
  }
  if (found < 0) {
    http_reply_error(r, APP_INTERNAL, "could not start the reset");
    return;
  }
  if (found == 1 && mail_address_ok(email)) {
    /* the token in the fragment: it never reaches a server log or a Referer header */
    snprintf(link, sizeof(link), "%s/reset.html#token=%s", r->cfg->public_url, secret);
    enum i18n_lang lang = db_user_lang(r->db, user);
    i18n_snprintf(lang, body, sizeof(body),
                  "Hello %s,\n\nsomeone (you, we hope) asked to reset the password of your concours account.\n"
                  "Choose a new one here within the hour; the link works once:\n\n  %s\n\n"
                  "If it was not you, do nothing: your password stays as it is.\n",
                  user, link);
    if (db_mail_queue(r->db, email, i18n_format(lang, "Reset your concours password"), body, now) == APP_OK)
      mail_notify();
  }
  http_reply_message(r, 202,
                     "If an account has this username or address, a link to choose a new password was "
                     "mailed to it. It works once, within the hour.");
}

/* POST /api/v1/password-reset/confirm {"token","password"} → 204: the new password is set, the link used up and
 * every session of the account ended. 400 invalid_token for an unknown, used or expired link. */
void h_password_reset_confirm(struct req *r)
{
  char hash[65], pw[AUTH_HASH_MAX];
  const char *token = field_or_reply(r, "token", AUTH_TOKEN_MAX - 1);
  const char *password = token != NULL ? field_or_reply(r, "password", 1024) : NULL;
  if (password == NULL)
    return;
  if (auth_check_password(password) != APP_OK) {
    http_reply_error(r, APP_WEAK_PASSWORD, "a password is 10 to 256 characters, not one character repeated");
    return;
  }
  if (auth_hash_password(password, pw) != 0) {
    http_reply_error(r, APP_INTERNAL, "could not hash the password");
    return;
  }
  auth_secret_hash(token, hash);
  enum app_status s = db_reset_finish(r->db, hash, pw, app_now());
  if (s != APP_OK) {
    http_reply_error(r, s,
                     s == APP_INVALID_TOKEN ? "this link is unknown, used or expired: ask for a new one"
                                            : "could not set the password");
    return;
  }
  http_reply_empty(r, 204, NULL);
}

/* GET /api/v1/me/notifications → {"submissions","news"}; PUT with either or both booleans → 200 the whole setting.
 * submissions: a mail when a submission is scored or fails; news: the challenges' phase reminders, publication
 * and organizers' announcements. */
void h_notifications(struct req *r)
{
  int news = 1, on = db_notify_get(r->db, r->user.id, &news);
  if (on >= 0 && strcmp(r->ri->request_method, "PUT") == 0) {
    json_t *js = json_object_get(r->body, "submissions"), *jn = json_object_get(r->body, "news");
    if ((js != NULL && !json_is_boolean(js)) || (jn != NULL && !json_is_boolean(jn)) || (js == NULL && jn == NULL)) {
      http_reply_error(r, APP_BAD_REQUEST, "{\"submissions\": true|false, \"news\": true|false} is expected");
      return;
    }
    on = js != NULL ? json_is_true(js) : on;
    news = jn != NULL ? json_is_true(jn) : news;
    if (db_notify_set(r->db, r->user.id, on, news) != APP_OK) {
      http_reply_error(r, APP_INTERNAL, "could not save the setting");
      return;
    }
  }
  if (on < 0) {
    http_reply_error(r, APP_INTERNAL, "could not read the setting");
    return;
  }
  http_reply_json(r, 200, json_pack("{s:b,s:b}", "submissions", on, "news", news));
}

/* PUT /api/v1/me/language {"language": "en"|"fr"} → 200 {"language"}: the language of the account's mails (the
 * pages' switch sets it; registration set it from Accept-Language). */
void h_me_language(struct req *r)
{
  const char *code = json_string_value(json_object_get(r->body, "language"));
  if (code == NULL || (strcmp(code, "en") != 0 && strcmp(code, "fr") != 0)) {
    http_reply_error(r, APP_BAD_REQUEST, "\"language\" is \"en\" or \"fr\"");
    return;
  }
  enum i18n_lang lang = strcmp(code, "fr") == 0 ? I18N_FR : I18N_EN;
  if (db_user_set_lang(r->db, r->user.id, lang) != APP_OK) {
    http_reply_error(r, APP_INTERNAL, "could not save the setting");
    return;
  }
  http_reply_json(r, 200, json_pack("{s:s}", "language", i18n_code(lang)));
}

/* The password of the caller, checked (the body's "password" field): 1, or 0 after replying 403. */
static int password_ok_or_reply(struct req *r, const char *field)
{
  char stored[AUTH_HASH_MAX];
  struct user u;
  const char *given = json_string_value(json_object_get(r->body, field));
  int ok = given != NULL && strlen(given) <= 1024 &&
           db_user_by_name(r->db, r->user.username, &u, stored, sizeof(stored)) == APP_OK &&
           auth_verify_password(given, stored);
  if (!ok)
    http_reply_error(r, APP_FORBIDDEN, "your current password is needed (\"%s\"), and this one is not it", field);
  return ok;
}

/* PUT /api/v1/me/password {"current","password"} → 204: the new password; every other session ends. */
void h_me_password(struct req *r)
{
  char hash[AUTH_HASH_MAX];
  const char *password = field_or_reply(r, "password", 1024);
  if (password == NULL || !password_ok_or_reply(r, "current"))
    return;
  if (auth_check_password(password) != APP_OK) {
    http_reply_error(r, APP_WEAK_PASSWORD, "a password is 10 to 256 characters, not one character repeated");
    return;
  }
  if (auth_hash_password(password, hash) != 0 ||
      db_account_update(r->db, r->user.id, hash, NULL, r->via_cookie ? r->session_hash : NULL) != APP_OK) {
    http_reply_error(r, APP_INTERNAL, "could not change the password");
    return;
  }
  http_reply_empty(r, 204, NULL);
}

/* PUT /api/v1/me/email {"email","password"} → 200 {"email"}. */
void h_me_email(struct req *r)
{
  const char *email = field_or_reply(r, "email", 300);
  if (email == NULL || !password_ok_or_reply(r, "password"))
    return;
  if (auth_check_email(email) != APP_OK || !mail_address_ok(email)) {
    http_reply_error(r, APP_INVALID_EMAIL, "give an e-mail address like name@example.org");
    return;
  }
  if (db_account_update(r->db, r->user.id, NULL, email, NULL) != APP_OK) {
    http_reply_error(r, APP_INTERNAL, "could not change the address");
    return;
  }
  if (r->cfg->verify_email && r->user.role == ROLE_PARTICIPANT &&
      send_verification(r, r->user.id, r->user.username) < 0)
    fprintf(stderr, "concours: could not mail the confirmation link of %s\n", r->user.username);
  http_reply_json(r, 200, json_pack("{s:s}", "email", email));
}

/* DELETE /api/v1/me {"password"} → 204: the account is deleted (db_account_delete says what goes and what stays). */
void h_me_delete(struct req *r)
{
  if (!password_ok_or_reply(r, "password"))
    return;
  if (r->user.role != ROLE_PARTICIPANT) {
    http_reply_error(r, APP_FORBIDDEN, "staff accounts are removed by an administrator");
    return;
  }
  if (db_account_delete(r->db, r->user.id, app_now()) != APP_OK) {
    http_reply_error(r, APP_INTERNAL, "could not delete the account");
    return;
  }
  http_reply_empty(r, 204, "Set-Cookie: concours_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict\r\n");
}

/* POST /api/v1/email-verification → 202: the link confirming your address is mailed again (3 links an hour in all);
 * 200 when it is confirmed already. */
void h_verify_resend(struct req *r)
{
  if (!r->cfg->verify_email) {
    http_reply_error(r, APP_BAD_REQUEST, "this server does not ask for confirmed addresses");
    return;
  }
  int verified = db_email_verified(r->db, r->user.id);
  if (verified == 1) {
    http_reply_message(r, 200, "Your address is already confirmed.");
    return;
  }
  if (verified < 0 || send_verification(r, r->user.id, r->user.username) < 0) {
    http_reply_error(r, APP_INTERNAL, "could not send the link");
    return;
  }
  http_reply_message(r, 202,
                     "A link to confirm your address was mailed to it (at most 3 an hour). It works for two days.");
}

/* POST /api/v1/email-verification/confirm {"token"} → 204: the address the link was sent to is confirmed. */
void h_verify_confirm(struct req *r)
{
  char hash[65];
  const char *token = field_or_reply(r, "token", AUTH_TOKEN_MAX - 1);
  if (token == NULL)
    return;
  auth_secret_hash(token, hash);
  enum app_status s = db_verify_finish(r->db, hash, app_now());
  if (s != APP_OK) {
    http_reply_error(r, s,
                     s == APP_INVALID_TOKEN ? "this link is unknown, used, expired or for another address: ask for a "
                                              "new one"
                                            : "could not confirm the address");
    return;
  }
  http_reply_empty(r, 204, NULL);
}
