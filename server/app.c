/* app.c: the status table (HTTP status + stable code per app_status), roles, defaults and the clock. */
#include "app.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct {
  int http;
  const char *code;
} status_table[APP_STATUS_COUNT] = {
  [APP_OK] = {200, "ok"},
  [APP_INVALID_JSON] = {400, "invalid_json"},
  [APP_BAD_REQUEST] = {400, "bad_request"},
  [APP_MISSING_FIELD] = {400, "missing_field"},
  [APP_WEAK_PASSWORD] = {400, "weak_password"},
  [APP_INVALID_USERNAME] = {400, "invalid_username"},
  [APP_INVALID_EMAIL] = {400, "invalid_email"},
  [APP_EMPTY_FILE] = {400, "empty_file"},
  [APP_INVALID_CREDENTIALS] = {401, "invalid_credentials"},
  [APP_UNAUTHORIZED] = {401, "unauthorized"},
  [APP_FORBIDDEN] = {403, "forbidden"},
  [APP_CSRF_FAILED] = {403, "csrf_failed"},
  [APP_TERMS_NOT_ACCEPTED] = {403, "terms_not_accepted"},
  [APP_PHASE_CLOSED] = {403, "phase_closed"},
  [APP_NOT_FOUND] = {404, "not_found"},
  [APP_METHOD_NOT_ALLOWED] = {405, "method_not_allowed"},
  [APP_USERNAME_TAKEN] = {409, "username_taken"},
  [APP_TERMS_OUTDATED] = {409, "terms_outdated"},
  [APP_CONFLICT] = {409, "conflict"},
  [APP_TOO_LARGE] = {413, "too_large"},
  [APP_UNSUPPORTED_MEDIA_TYPE] = {415, "unsupported_media_type"},
  [APP_QUOTA_EXCEEDED] = {429, "quota_exceeded"},
  [APP_RATE_LIMITED] = {429, "rate_limited"},
  [APP_INTERNAL] = {500, "internal_error"},
  [APP_NO_SPACE] = {507, "insufficient_storage"},
  [APP_INVALID_BUNDLE] = {400, "invalid_bundle"},
  [APP_TEAM_NAME_TAKEN] = {409, "team_name_taken"},
  [APP_TEAM_FULL] = {409, "team_full"},
  [APP_TEAM_LOCKED] = {409, "team_locked"},
  [APP_NOT_CANCELLABLE] = {409, "not_cancellable"},
  [APP_PHASE_OPEN] = {409, "phase_open"},
  [APP_PUBLISHED] = {409, "published"},
  [APP_CHALLENGE_ARCHIVED] = {403, "challenge_archived"},
  [APP_STORAGE_EXCEEDED] = {403, "storage_quota_exceeded"},
  [APP_LOG_HIDDEN] = {403, "log_hidden"},
  [APP_SMOKE_QUOTA_EXCEEDED] = {429, "smoke_quota_exceeded"},
  [APP_NOT_CODE_CHALLENGE] = {400, "not_a_code_challenge"},
  [APP_LEASE_LOST] = {409, "lease_lost"},
  [APP_INPUTS_MISMATCH] = {409, "inputs_mismatch"},
  [APP_STABILITY_UNAVAILABLE] = {409, "stability_unavailable"},
  [APP_INVALID_TOKEN] = {400, "invalid_token"},
  [APP_EMAIL_UNVERIFIED] = {403, "email_unverified"},
  [APP_FACT_SHEET_MISSING] = {409, "fact_sheet_missing"},
};

int app_status_http(enum app_status s)
{
  if ((int)s < 0 || s >= APP_STATUS_COUNT || status_table[s].code == NULL)
    return 500;
  return status_table[s].http;
}

const char *app_status_code(enum app_status s)
{
  if ((int)s < 0 || s >= APP_STATUS_COUNT || status_table[s].code == NULL)
    return "internal_error";
  return status_table[s].code;
}

static const char *const role_names[ROLE_COUNT] = {"participant", "organizer", "jury", "admin"};

const char *app_role_name(enum app_role r)
{
  if ((int)r < 0 || r >= ROLE_COUNT)
    return NULL;
  return role_names[r];
}

int app_role_parse(const char *name, enum app_role *out)
{
  for (int i = 0; i < ROLE_COUNT; i++) {
    if (name != NULL && strcmp(name, role_names[i]) == 0) {
      *out = (enum app_role)i;
      return 0;
    }
  }
  return -1;
}

void app_config_defaults(struct app_config *c)
{
  memset(c, 0, sizeof(*c));
  util_strlcpy(c->data_dir, "./concours-data", sizeof(c->data_dir));
  util_strlcpy(c->listen, "127.0.0.1:8080", sizeof(c->listen));
  util_strlcpy(c->web_dir, CONCOURS_WEB_DIR, sizeof(c->web_dir));
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  c->workers = n > 0 ? (int)n : 1;
  /* CivetWeb serves one connection per thread: enough threads that a few slow clients cannot starve the others
   * (nginx in front buffers requests for real slow-client protection, see scripts/nginx). */
  c->http_threads = 256; /* a slow client holds one until the 10 s header timeout cuts it */
  c->max_upload_bytes = 200LL * 1024 * 1024;
  c->score_timeout_s = 600;
  c->local_runs = -1;
  c->lease_s = 60;
}

static char test_clock_path[APP_PATH_MAX];

int app_set_test_clock(const char *path)
{
  if (path == NULL) {
    test_clock_path[0] = '\0';
    return 0;
  }
  return util_strlcpy(test_clock_path, path, sizeof(test_clock_path));
}

int64_t app_now(void)
{
  if (test_clock_path[0] != '\0') {
    char buf[32];
    FILE *f = fopen(test_clock_path, "r");
    if (f != NULL) {
      size_t n = fread(buf, 1, sizeof(buf) - 1, f);
      fclose(f);
      buf[n] = '\0';
      buf[strcspn(buf, " \r\n")] = '\0';
      long long v;
      if (util_parse_ll(buf, 0, INT64_MAX / 2, &v) == 0)
        return (int64_t)v;
    }
  }
  return (int64_t)time(NULL);
}
