/* h_submissions.c: taking prediction files (raw request body streamed to disk while hashed, size cap,
 * Idempotency-Key, quota and deadline enforced in one transaction) and showing them to their owner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extract.h"
#include "handlers.h"
#include "livelog.h"
#include "queue.h"
#include "store.h"
#include "util.h"

#define DESCRIPTION_MAX 500
#define IDEMPOTENCY_MAX 128

static enum app_status commit_upload(void *arg)
{
  return store_upload_commit(arg);
}

/* Checks the optional Idempotency-Key header: 0 none, 1 valid (copied to KEY), -1 replied 400. */
static int idempotency_key_or_reply(struct req *r, char *key, size_t n)
{
  const char *h = http_header(r, "Idempotency-Key");
  if (h == NULL)
    return 0;
  size_t len = strlen(h);
  int ok = len >= 1 && len <= IDEMPOTENCY_MAX && len < n;
  for (size_t i = 0; ok && i < len; i++)
    ok = h[i] > 0x20 && h[i] < 0x7f;
  if (!ok) {
    http_reply_error(r, APP_BAD_REQUEST, "Idempotency-Key is 1 to %d printable ASCII characters", IDEMPOTENCY_MAX);
    return -1;
  }
  util_strlcpy(key, h, n);
  return 1;
}

/* Reads the optional description: 0 ok (possibly empty), -1 replied 400. Control characters are refused. */
static int description_or_reply(struct req *r, char *out, size_t n)
{
  int len = http_query(r, "description", out, n);
  if (len == -1) {
    out[0] = '\0';
    return 0;
  }
  if (len == -2 || len > DESCRIPTION_MAX) {
    http_reply_error(r, APP_BAD_REQUEST, "description is at most %d bytes, URL-encoded", DESCRIPTION_MAX);
    return -1;
  }
  for (int i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)out[i];
    if (ch < 0x20 || ch == 0x7f) {
      http_reply_error(r, APP_BAD_REQUEST, "description may not hold control characters");
      return -1;
    }
  }
  return 0;
}

static void reply_created(struct req *r, int64_t id, const char *status)
{
  http_reply_json(r, 201, json_pack("{s:I,s:s}", "id", (json_int_t)id, "status", status));
}

enum app_status receive_body(struct req *r, struct store_upload *u, long long max)
{
  long long declared = r->ri->content_length;
  enum app_status s = APP_OK;
  if (store_upload_begin(u) != 0)
    return APP_INTERNAL;
  /* A client that asked to wait (curl does above 1 MiB) is told to send now: every check passed by the time a
   * handler reads the body, so a refused upload never sends it, and an accepted one does not wait a second. */
  const char *expect = http_header(r, "Expect");
  if (expect != NULL && strcasecmp(expect, "100-continue") == 0)
    mg_printf(r->conn, "HTTP/1.1 100 Continue\r\n\r\n");
  /* mg_read() returns once its buffer is full: a chunk of 256 KiB keeps the write and the hash of one chunk
   * beside the receiving of the next (1 MiB measured slower, 64 KiB the same). */
  for (;;) {
    char *buf;
    s = store_upload_buffer(u, &buf);
    if (s != APP_OK)
      break;
    int got = mg_read(r->conn, buf, STORE_UPLOAD_CHUNK);
    if (got < 0) {
      s = APP_BAD_REQUEST;
      break;
    }
    if (got == 0)
      break;
    if (u->size + got > max) {
      s = APP_TOO_LARGE;
      break;
    }
    s = store_upload_write(u, buf, (size_t)got);
    if (s != APP_OK)
      break;
  }
  if (s == APP_OK && declared >= 0 && u->size != declared)
    s = APP_BAD_REQUEST;
  if (s == APP_OK && u->size == 0)
    s = APP_EMPTY_FILE;
  return s == APP_OK ? store_upload_finish(u) : s;
}

/* The ?mode= of an upload: NULL for a prediction-file challenge, "full" (default) or "smoke" for a code challenge.
 * Returns 0, or -1 after a 400. */
static int mode_or_reply(struct req *r, const struct challenge *c, const char **mode)
{
  char m[16];
  int n = http_query(r, "mode", m, sizeof(m));
  *mode = c->code ? "full" : NULL;
  if (n == -1)
    return 0;
  if (n < 0 || (strcmp(m, "full") != 0 && strcmp(m, "smoke") != 0)) {
    http_reply_error(r, APP_BAD_REQUEST, "mode is \"full\" (the default) or \"smoke\"");
    return -1;
  }
  if (!c->code) {
    http_reply_error(r, APP_NOT_CODE_CHALLENGE, "this challenge takes prediction files: mode does not apply");
    return -1;
  }
  if (strcmp(m, "smoke") == 0 && !c->has_smoke) {
    http_reply_error(r, APP_NOT_CODE_CHALLENGE, "this challenge has no smoke sample: send your code without mode");
    return -1;
  }
  *mode = strcmp(m, "smoke") == 0 ? "smoke" : "full";
  return 0;
}

/* 429 quota_exceeded for Q in phase PH at NOW, saying when a submission is possible again: with Retry-After (and
 * "resets_at") when the daily limit is the one reached and the phase's total leaves room, never otherwise. */
static void quota_reply(struct req *r, const struct phase *ph, const struct quota *q, int64_t now)
{
  char msg[400], at[32], extra[64];
  int daily = q->max_per_day > 0 && q->used_today >= q->max_per_day;
  int total = q->max_total > 0 && q->used_total >= q->max_total;
  int64_t reset = now - now % 86400 + 86400;
  util_iso8601(reset, at);
  if (total)
    snprintf(msg, sizeof(msg), "no submission left in phase %s: all %d are used (%d today)", ph->name, q->max_total,
             q->used_today);
  else
    snprintf(msg, sizeof(msg),
             "no submission left today in phase %s (%d of %d): the count starts again at 00:00 UTC, in %lld h %02lld "
             "min (%s)",
             ph->name, q->used_today, q->max_per_day, (long long)((reset - now) / 3600),
             (long long)((reset - now) % 3600 / 60), at);
  snprintf(extra, sizeof(extra), "Retry-After: %lld\r\n", (long long)(reset - now));
  char text[sizeof(msg) * 2];
  i18n_text(http_lang(r), msg, text, sizeof(text));
  http_reply_json_headers(r, 429,
                          json_pack("{s:{s:s,s:s,s:o}}", "error", "code", "quota_exceeded", "message", text,
                                    "resets_at", daily && !total ? json_string(at) : json_null()),
                          daily && !total ? extra : NULL);
}

static int is_archive(const char *path)
{
  int gz = 0;
  return extract_is_archive(path, &gz);
}

void h_submission_create(struct req *r)
{
  struct challenge c;
  struct store_upload u;
  char key[IDEMPOTENCY_MAX + 1], scoped[IDEMPOTENCY_MAX + 96], description[DESCRIPTION_MAX + 8], status[16];
  int64_t now = app_now(), id = 0;
  int replayed = 0;
  memset(&u, 0, sizeof(u));
  u.fd = -1;

  if (challenge_or_reply(r, &c) != 0 || challenge_writable_or_reply(r, &c) != 0 || !terms_accepted_or_reply(r, &c))
    return;
  const struct phase *ph = db_challenge_open_phase(&c, now);
  if (ph == NULL) {
    http_reply_error(r, APP_PHASE_CLOSED, "no phase of this challenge is open now");
    return;
  }
  if (ph->closed) {
    http_reply_error(r, APP_PHASE_CLOSED, "the phase accepts no submissions");
    return;
  }
  /* a form upload (curl -F, an HTML form) would be stored with its multipart framing around the file, and then
   * fail to score with a message about the first line: refused here, saying what to send instead */
  const char *ctype = http_header(r, "Content-Type");
  if (ctype != NULL && strncasecmp(ctype, "multipart/", 10) == 0) {
    http_reply_error(r, APP_UNSUPPORTED_MEDIA_TYPE,
                     "send the file itself as the request body (curl --data-binary @FILE, or concours-cli submit), "
                     "not as a form upload (curl -F)");
    return;
  }
  int has_key = idempotency_key_or_reply(r, key, sizeof(key));
  if (has_key < 0 || description_or_reply(r, description, sizeof(description)) != 0)
    return;
  const char *mode = NULL; /* code challenges: "full" or "smoke" */
  if (mode_or_reply(r, &c, &mode) != 0)
    return;
  int smoke = mode != NULL && strcmp(mode, "smoke") == 0;
  /* A key names one upload of one phase and mode: the same file (its SHA-256 as the key, as the documented curl
   * line does) sent again in the final phase, or as a full run after a smoke test, is a new submission. Stored as
   * "PHASE\nMODE\nKEY" (a newline is never in a key, so no two scopes meet). */
  if (has_key == 1) {
    snprintf(scoped, sizeof(scoped), "%s\n%s\n%s", ph->name, mode != NULL ? mode : "file", key);
  }
  long long max_bytes = c.code ? (long long)c.code_max_mb << 20 : r->cfg->max_upload_bytes;
  const char *what = c.code ? "code archives" : "prediction files";
  if (has_key == 1 && db_submission_by_key(r->db, c.id, r->user.id, scoped, &id, status, sizeof(status)) == 1) {
    reply_created(r, id, status);
    return;
  }
  /* Cheap early refusals before reading a large body; the transaction below decides for good. */
  struct quota q;
  struct team team;
  if (db_team_of_user(r->db, c.id, r->user.id, 1, now, &team) != 1 ||
      db_quota(r->db, c.id, team.id, ph, now, &q) != APP_OK) {
    http_reply_error(r, APP_INTERNAL, "could not check the quota");
    return;
  }
  if (smoke) {
    int used = db_smoke_used(r->db, c.id, team.id, now);
    if (used < 0 || used >= c.smoke_per_day) {
      http_reply_error(r, used < 0 ? APP_INTERNAL : APP_SMOKE_QUOTA_EXCEEDED,
                       "no smoke run left today (%d of %d); the count starts again at 00:00 UTC", used,
                       c.smoke_per_day);
      return;
    }
  } else if (db_quota_exhausted(&q)) {
    quota_reply(r, ph, &q, now);
    return;
  }
  if (r->ri->content_length > max_bytes) {
    http_reply_error(r, APP_TOO_LARGE, "%s are limited to %lld bytes", what, max_bytes);
    return;
  }
  int64_t team_bytes = 0, all_bytes = 0, declared = r->ri->content_length > 0 ? r->ri->content_length : 0;
  if (db_storage_used(r->db, c.id, team.id, &team_bytes, &all_bytes) != APP_OK) {
    http_reply_error(r, APP_INTERNAL, "could not check the storage quota");
    return;
  }
  if ((c.storage_team_mb > 0 && team_bytes + declared > ((int64_t)c.storage_team_mb << 20)) ||
      (c.storage_challenge_mb > 0 && all_bytes + declared > ((int64_t)c.storage_challenge_mb << 20))) {
    http_reply_error(r, APP_STORAGE_EXCEEDED,
                     "no room left: your team's files take %lld of its %d MB (every upload counts, failed ones "
                     "too)%s",
                     (long long)team_bytes, c.storage_team_mb,
                     c.storage_challenge_mb > 0 ? ", or the challenge's storage is full" : "");
    return;
  }
  if (r->ri->content_length == 0) {
    http_reply_error(r, APP_EMPTY_FILE, "the file is empty");
    return;
  }
  enum app_status s = receive_body(r, &u, max_bytes);
  if (s == APP_OK && c.code && !is_archive(u.tmp_path))
    s = APP_UNSUPPORTED_MEDIA_TYPE;
  if (s != APP_OK) {
    store_upload_abort(&u); /* the partial file goes before the client hears of it */
    if (s == APP_TOO_LARGE)
      http_reply_error(r, s, "%s are limited to %lld bytes", what, max_bytes);
    else if (s == APP_UNSUPPORTED_MEDIA_TYPE)
      http_reply_error(r, s,
                       "this challenge runs code: send a zip or tar.gz of your code (with %s at its root), "
                       "not a prediction file",
                       "main.py");
    else if (s == APP_EMPTY_FILE)
      http_reply_error(r, s, "the file is empty");
    else if (s == APP_BAD_REQUEST)
      http_reply_error(r, s, "the upload was interrupted");
    else
      http_reply_error(r, s, "could not store the file");
    goto out;
  }
  /* CodaLab's rule where an ingestion program runs the code: an upload without a `metadata` file (at its top, or in
   * its lone top folder) is result files, scored as they are without running code */
  if (c.ingestion && mode != NULL && strcmp(mode, "full") == 0 && extract_has_file(u.tmp_path, "metadata") == 0)
    mode = NULL;
  /* The deadline is checked again with the clock after the upload: a slow upload cannot outlive the phase. */
  now = app_now();
  ph = db_challenge_open_phase(&c, now);
  if (ph == NULL) {
    store_upload_abort(&u);
    http_reply_error(r, APP_PHASE_CLOSED, "the phase closed during the upload");
    goto out;
  }
  struct new_submission ns = {c.id,
                              r->user.id,
                              ph,
                              u.sha256,
                              u.size,
                              description,
                              has_key == 1 ? scoped : NULL,
                              (int64_t)c.storage_team_mb << 20,
                              (int64_t)c.storage_challenge_mb << 20,
                              mode,
                              c.smoke_per_day};
  s = db_submission_insert(r->db, &ns, now, commit_upload, &u, &id, &replayed);
  if (s != APP_OK)
    store_upload_abort(&u);
  if (s == APP_QUOTA_EXCEEDED && smoke) {
    http_reply_error(r, APP_SMOKE_QUOTA_EXCEEDED, "no smoke run left today (%d a day)", c.smoke_per_day);
  } else if (s == APP_QUOTA_EXCEEDED) {
    if (db_quota(r->db, c.id, team.id, ph, now, &q) == APP_OK)
      quota_reply(r, ph, &q, now);
    else
      http_reply_error(r, s, "no submission left in phase %s", ph->name);
  } else if (s == APP_STORAGE_EXCEEDED) {
    http_reply_error(r, s,
                     "no room left for this file: your team's storage quota is %d MB (every upload counts, "
                     "failed ones too)",
                     c.storage_team_mb);
  } else if (s != APP_OK) {
    if (u.committed) /* moved into place by the rolled-back transaction: no file without its row */
      store_discard_if_orphan(r->db, u.sha256);
    http_reply_error(r, s, "could not store the submission");
  } else {
    reply_created(r, id, "queued");
    if (!replayed)
      queue_notify();
  }
out:
  store_upload_abort(&u);
}

void h_submissions_list(struct req *r)
{
  struct challenge c;
  if (challenge_or_reply(r, &c) != 0)
    return;
  json_t *list = db_submission_list(r->db, c.id, r->user.id, req_is_staff(r) || c.published_at != 0);
  if (list == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not list the submissions");
    return;
  }
  http_translate_errors(r, list);
  http_reply_json(r, 200, list);
}

void h_submission_get(struct req *r)
{
  long long id = 0;
  if (util_parse_ll(r->param[0], 1, INT64_MAX, &id) != 0) {
    http_reply_error(r, APP_NOT_FOUND, "no such submission");
    return;
  }
  /* Private scores: staff, and the team's members once the ranking is published. */
  json_t *o = NULL;
  enum app_status s = db_submission_json(r->db, id, &r->user, req_is_staff(r), 1, &o);
  if (s != APP_OK) {
    http_reply_error(r, s, s == APP_NOT_FOUND ? "no such submission" : "could not load the submission");
    return;
  }
  http_translate_errors(r, o);
  http_reply_json(r, 200, o);
}

void h_submission_cancel(struct req *r)
{
  long long id = 0;
  if (util_parse_ll(r->param[0], 1, INT64_MAX, &id) != 0) {
    http_reply_error(r, APP_NOT_FOUND, "no such submission");
    return;
  }
  json_t *o = NULL;
  enum app_status s = db_submission_json(r->db, id, &r->user, 0, 0, &o);
  if (s != APP_OK) {
    http_reply_error(r, s, s == APP_NOT_FOUND ? "no such submission" : "could not load the submission");
    return;
  }
  json_decref(o);
  s = db_cancel(r->db, id, &r->user, NULL, NULL, app_now());
  if (s != APP_OK) {
    http_reply_error(
      r, s, s == APP_NOT_CANCELLABLE ? "only a queued or running submission can be cancelled" : "could not cancel");
    return;
  }
  queue_cancel(id); /* a run in progress here stops; a worker's stops at its next heartbeat */
  http_reply_empty(r, 204, NULL);
}

/* GET /api/v1/submissions/{id}/log[?offset=N]: {"id","log","offset","length","running"} where LOG is the part from
 * byte OFFSET on (a client following a run asks again from the LENGTH it has). For a code run, LOG is what the code
 * printed (stdout and stderr, in order), read live while it runs; the team sees it for smoke runs (and full runs when
 * the challenge says "participant_logs": "all"), staff always, and staff also get "scoring_log", the organizers'
 * log of the scorer. For a prediction file, staff get the scorer's log; participants 403 log_hidden. */
void h_submission_log(struct req *r)
{
  long long id = 0, offset = 0;
  char off[24];
  int staff = req_is_staff(r), running = 0;
  const char *why = NULL;
  char *log = NULL;
  json_t *scoring = NULL;
  if (util_parse_ll(r->param[0], 1, INT64_MAX, &id) != 0) {
    http_reply_error(r, APP_NOT_FOUND, "no such submission");
    return;
  }
  int n = http_query(r, "offset", off, sizeof(off));
  if (n == -2 || (n >= 0 && util_parse_ll(off, 0, INT64_MAX, &offset) != 0)) {
    http_reply_error(r, APP_BAD_REQUEST, "offset is a byte count (an integer >= 0)");
    return;
  }
  int found = db_run_log(r->db, id, &r->user, staff, &log, &running, &why);
  if (found < 0) {
    http_reply_error(r, APP_INTERNAL, "could not read the log");
    return;
  }
  if (found == 1 && running) { /* in progress: the live copy, when the run has started */
    char *live = NULL;
    int lr = livelog_read(id, staff, &live);
    if (lr == 2) {
      free(log);
      http_reply_error(r, APP_LOG_HIDDEN, "the log of a run on the hidden inputs is shown to the organizers only");
      return;
    }
    if (lr == 1) {
      free(log);
      log = live;
    }
  }
  if (found == 0 && why != NULL && strcmp(why, "log_hidden") == 0) {
    http_reply_error(r, APP_LOG_HIDDEN, "the log of a run on the hidden inputs is shown to the organizers only");
    return;
  }
  if (found == 0 && why != NULL && strcmp(why, "not_code") == 0 && !staff) {
    http_reply_error(r, APP_LOG_HIDDEN, "only code runs have a log participants may read");
    return;
  }
  if (found == 0 && (why == NULL || strcmp(why, "not_code") != 0)) {
    http_reply_error(r, APP_NOT_FOUND, "no such submission");
    return;
  }
  if (staff && db_submission_log(r->db, id, &scoring) != APP_OK) {
    free(log);
    http_reply_error(r, APP_INTERNAL, "could not read the log");
    return;
  }
  const char *text = log != NULL ? log : json_string_value(json_object_get(scoring, "log"));
  size_t len = text != NULL ? strlen(text) : 0;
  size_t from = (unsigned long long)offset < len ? (size_t)offset : len;
  json_t *o = json_pack("{s:I,s:s,s:I,s:I,s:b}", "id", (json_int_t)id, "log", text != NULL ? text + from : "", "offset",
                        (json_int_t)from, "length", (json_int_t)len, "running", running);
  if (o != NULL && staff && log != NULL)
    json_object_set(o, "scoring_log", json_object_get(scoring, "log"));
  free(log);
  json_decref(scoring);
  if (o == NULL) {
    http_reply_error(r, APP_INTERNAL, "out of memory");
    return;
  }
  http_reply_json(r, 200, o);
}
