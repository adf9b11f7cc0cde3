/* app.h: what every server module shares: the one status enum of the application (mapped once to HTTP
 * statuses and stable JSON error codes in http.c), the configuration the server runs with, and the clock. */
#ifndef CONCOURS_APP_H
#define CONCOURS_APP_H

#include <stddef.h>
#include <stdint.h>

enum app_status {
  APP_OK = 0,
  APP_INVALID_JSON,
  APP_BAD_REQUEST,
  APP_MISSING_FIELD,
  APP_WEAK_PASSWORD,
  APP_INVALID_USERNAME,
  APP_INVALID_EMAIL,
  APP_EMPTY_FILE,
  APP_INVALID_CREDENTIALS,
  APP_UNAUTHORIZED,
  APP_FORBIDDEN,
  APP_CSRF_FAILED,
  APP_TERMS_NOT_ACCEPTED,
  APP_PHASE_CLOSED,
  APP_NOT_FOUND,
  APP_METHOD_NOT_ALLOWED,
  APP_USERNAME_TAKEN,
  APP_TERMS_OUTDATED,
  APP_CONFLICT,
  APP_TOO_LARGE,
  APP_UNSUPPORTED_MEDIA_TYPE,
  APP_QUOTA_EXCEEDED,
  APP_RATE_LIMITED,
  APP_INTERNAL,
  APP_NO_SPACE,
  APP_INVALID_BUNDLE,
  APP_TEAM_NAME_TAKEN,
  APP_TEAM_FULL,
  APP_TEAM_LOCKED,
  APP_NOT_CANCELLABLE,
  APP_PHASE_OPEN,
  APP_PUBLISHED,
  APP_CHALLENGE_ARCHIVED,
  APP_STORAGE_EXCEEDED,
  APP_LOG_HIDDEN,
  APP_SMOKE_QUOTA_EXCEEDED,
  APP_NOT_CODE_CHALLENGE,
  APP_LEASE_LOST,
  APP_INPUTS_MISMATCH,
  APP_STABILITY_UNAVAILABLE,
  APP_INVALID_TOKEN,
  APP_EMAIL_UNVERIFIED,
  APP_FACT_SHEET_MISSING,
  APP_STATUS_COUNT
};

/* The HTTP status and stable error code of S. Never NULL. */
int app_status_http(enum app_status s);
const char *app_status_code(enum app_status s);

enum app_role { ROLE_PARTICIPANT = 0, ROLE_ORGANIZER, ROLE_JURY, ROLE_ADMIN, ROLE_COUNT };
/* "participant", ... for R; NULL when out of range. */
const char *app_role_name(enum app_role r);
/* Parses NAME into *OUT; returns 0, or -1 for an unknown role. */
int app_role_parse(const char *name, enum app_role *out);

#define APP_PATH_MAX 4096

struct app_config {
  char data_dir[APP_PATH_MAX];       /* absolute path of the data folder */
  char web_dir[APP_PATH_MAX];        /* static files served at / */
  char scorer_path[APP_PATH_MAX];    /* the concours-score executable */
  char listen[256];                  /* ADDR:PORT */
  char challenges_dir[APP_PATH_MAX]; /* bundles imported at start, "" for none */
  int workers;                       /* scoring worker threads */
  int http_threads;                  /* CivetWeb worker threads */
  long long max_upload_bytes;
  int score_timeout_s;    /* wall-clock limit of one scoring run */
  int local_runs;         /* code runs the server executes itself at once (-1: one per worker thread;
                                         0: remote workers only, docs/workers.md) */
  int lease_s;            /* a remote worker's lease on a run (heartbeats every third of it) */
  int secure_cookies;     /* add Secure to the session cookie (behind TLS) */
  char trusted_proxy[64]; /* the proxy's address (nginx): its X-Forwarded-For names the client; "" none */
  /* e-mail (mail.c, docs/mail.md): an SMTP server, or a folder where each mail is written as a file (development,
   * tests); neither: mails wait in the queue */
  char smtp_url[256]; /* smtp://host:587 (STARTTLS when offered) or smtps://host:465 */
  char smtp_user[128];
  char smtp_password[256];            /* read from --smtp-password-file at start */
  char mail_from[256];                /* the From address */
  char mail_dir[APP_PATH_MAX];        /* --mail-dir */
  char public_url[256];               /* the address participants use, for links in mails */
  int verify_email;                   /* --verify-email: a new participant confirms the address before taking part */
  char test_clock[APP_PATH_MAX];      /* tests only: file holding "now", "" for the system clock */
  char test_ready_file[APP_PATH_MAX]; /* tests only: the API answers 503 "starting" until this file exists */
};

/* Fills C with the documented defaults (data ./concours-data, listen 127.0.0.1:8080, ...). */
void app_config_defaults(struct app_config *c);

/* Seconds since the epoch (UTC). Every decision that depends on time reads this clock. */
int64_t app_now(void);
/* Tests only: makes app_now read the time (decimal seconds) from PATH at every call. NULL restores the system
 * clock. Returns 0, or -1 when PATH is too long. */
int app_set_test_clock(const char *path);

#endif
