/* h_organizer.c: what organizers (and admins) do with a running challenge: change phase dates and quotas,
 * re-score, watch the queue, read scorer logs, export every submission; the audit log; roles (admins). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "csvout.h"
#include "def.h"
#include "db_workers.h"
#include "db_mail.h"
#include "handlers.h"
#include "mail.h"
#include "store.h"
#include "queue.h"
#include "util.h"
#include "versions.h"

void h_phase_update(struct req *r)
{
  struct challenge c;
  const char *reason = http_reason_or_reply(r);
  if (reason == NULL || challenge_or_reply(r, &c) != 0)
    return;
  int idx = -1;
  for (int i = 0; i < c.nphases; i++) {
    if (strcmp(c.phases[i].name, r->param[1]) == 0)
      idx = i;
  }
  if (idx < 0) {
    http_reply_error(r, APP_NOT_FOUND, "no such phase");
    return;
  }
  struct phase p = c.phases[idx];
  char err[256];
  if (def_phase_patch(&p, r->body, err, sizeof(err)) != 0) {
    http_reply_error(r, APP_BAD_REQUEST, "%s", err);
    return;
  }
  if (p.end_at <= p.start_at || (idx > 0 && p.start_at < c.phases[idx - 1].end_at) ||
      (idx + 1 < c.nphases && p.end_at > c.phases[idx + 1].start_at)) {
    http_reply_error(r, APP_BAD_REQUEST, "a phase ends after it starts and does not overlap its neighbours");
    return;
  }
  enum app_status s = db_phase_update(r->db, &c, idx, &p, &r->user, reason, app_now());
  if (s != APP_OK) {
    http_reply_error(r, s, "could not update the phase");
    return;
  }
  h_challenge_get(r);
}

void h_challenge_rescore(struct req *r)
{
  struct challenge c;
  int queued = 0;
  const char *reason = http_reason_or_reply(r);
  if (reason == NULL || challenge_or_reply(r, &c) != 0)
    return;
  if (c.published_at != 0) {
    http_reply_error(r, APP_PUBLISHED, "the ranking of this challenge is published and frozen");
    return;
  }
  json_t *ph = json_object_get(r->body, "phase");
  if (ph != NULL && !json_is_string(ph)) {
    http_reply_error(r, APP_BAD_REQUEST, "\"phase\" is a phase name");
    return;
  }
  enum app_status s = db_rescore(r->db, &c, 0, json_string_value(ph), &r->user, reason, app_now(), &queued);
  if (s != APP_OK) {
    http_reply_error(r, s, "could not re-queue the submissions");
    return;
  }
  for (int i = 0; i < queued && i < 64; i++)
    queue_notify();
  http_reply_json(r, 200, json_pack("{s:i}", "queued", queued));
}

void h_queue_stats(struct req *r)
{
  struct challenge c;
  if (challenge_or_reply(r, &c) != 0)
    return;
  json_t *o = db_queue_stats(r->db, &c);
  json_t *w = o != NULL ? db_workers_json(r->db, c.id) : NULL; /* remote workers and each running run's node */
  if (o == NULL || w == NULL) {
    json_decref(o);
    http_reply_error(r, APP_INTERNAL, "could not read the queue");
    return;
  }
  json_object_set_new(o, "workers", w);
  http_reply_json(r, 200, o);
}

static const char *const export_cols[] = {"id",           "team",          "user",       "phase",       "status",
                                          "public_score", "private_score", "created_at", "scored_at",   "description",
                                          "size",         "sha256",        "error_code", "disqualified"};

#define EXPORT_PAGE_MAX 1000 /* rows of a ?limit= page, and of each batch of a whole export */

/* The whole export of C, streamed in batches of EXPORT_PAGE_MAX rows read by id (each a short read, no transaction
 * held while the client reads): the server's memory stays flat whatever the count. */
static void export_stream(struct req *r, const struct challenge *c, int csv, const char *name)
{
  char extra[160] = "";
  const size_t ncols = sizeof(export_cols) / sizeof(export_cols[0]);
  int64_t last = 0;
  int first = 1, broken = 0;
  json_t *rows = db_export_submissions(r->db, c, 0, 0, EXPORT_PAGE_MAX);
  if (rows == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not export");
    return;
  }
  if (csv)
    snprintf(extra, sizeof(extra), "Content-Disposition: attachment; filename=\"%s.csv\"\r\n", name);
  http_stream_begin(r, 200, csv ? "text/csv; charset=utf-8" : "application/json", extra);
  if (!csv)
    broken = http_stream_write(r, "[", 1) != 0;
  while (!broken && (first || json_array_size(rows) > 0)) {
    size_t len = 0, n = json_array_size(rows);
    char *text = NULL;
    if (csv) {
      text = csvout_render_rows(rows, export_cols, ncols, first, &len);
    } else if (n > 0) {
      text = json_dumps(rows, JSON_COMPACT | JSON_REAL_PRECISION(15));
      len = text != NULL ? strlen(text) : 0;
      if (text != NULL) { /* the batch's "[a,b]" sent as " a,b" (",a,b" after earlier rows): its "]" is cut */
        text[0] = first ? ' ' : ',';
        len--;
      }
    }
    broken = (csv || n > 0) && (text == NULL || http_stream_write(r, text, len) != 0);
    free(text);
    if (n > 0)
      last = json_integer_value(json_object_get(json_array_get(rows, n - 1), "id"));
    json_decref(rows);
    rows = NULL;
    if (n < EXPORT_PAGE_MAX || broken)
      break;
    first = 0;
    rows = db_export_submissions(r->db, c, last, 0, EXPORT_PAGE_MAX);
    broken = rows == NULL;
  }
  json_decref(rows);
  if (!broken && !csv)
    broken = http_stream_write(r, "]", 1) != 0;
  if (broken)
    http_stream_abort(r);
  else
    http_stream_end(r);
}

/* GET export?format=json|csv: every submission, streamed; with limit=N (1-1000) and optionally before=ID, the N
 * newest (below ID), the count of all in X-Total-Count: the organizer page's pages. */
void h_export(struct req *r)
{
  struct challenge c;
  char name[96], num[24], extra[64];
  long long limit = 0, before = 0;
  if (challenge_or_reply(r, &c) != 0)
    return;
  int csv = export_format_or_reply(r);
  if (csv < 0)
    return;
  int nl = http_query(r, "limit", num, sizeof(num));
  int bad = nl == -2 || (nl >= 0 && util_parse_ll(num, 1, EXPORT_PAGE_MAX, &limit) != 0);
  int nb = http_query(r, "before", num, sizeof(num));
  bad = bad || nb == -2 || (nb >= 0 && (nl < 0 || util_parse_ll(num, 1, INT64_MAX, &before) != 0));
  if (bad) {
    http_reply_error(r, APP_BAD_REQUEST, "limit is 1 to 1000, before a submission id (with limit)");
    return;
  }
  snprintf(name, sizeof(name), "%s-submissions", c.slug);
  if (nl < 0) {
    export_stream(r, &c, csv, name);
    return;
  }
  json_t *rows = db_export_submissions(r->db, &c, before, 1, (int)limit);
  int64_t total = rows != NULL ? db_submission_total(r->db, &c) : -1;
  if (total < 0) {
    json_decref(rows);
    http_reply_error(r, APP_INTERNAL, "could not export");
    return;
  }
  snprintf(extra, sizeof(extra), "X-Total-Count: %lld\r\n", (long long)total);
  export_reply(r, rows, export_cols, sizeof(export_cols) / sizeof(export_cols[0]), name, extra);
}

void h_audit_list(struct req *r)
{
  char slug[64];
  int n = http_query(r, "challenge", slug, sizeof(slug));
  if (n == -2) {
    http_reply_error(r, APP_BAD_REQUEST, "bad challenge parameter");
    return;
  }
  json_t *arr = db_audit_list(r->db, n >= 0 ? slug : NULL, 1000);
  if (arr == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not read the audit log");
    return;
  }
  http_reply_json(r, 200, arr);
}

void h_role_set(struct req *r)
{
  enum app_role role;
  const char *reason = http_reason_or_reply(r);
  if (reason == NULL)
    return;
  if (app_role_parse(json_string_value(json_object_get(r->body, "role")), &role) != 0) {
    http_reply_error(r, APP_BAD_REQUEST, "\"role\" is participant, organizer, jury or admin");
    return;
  }
  enum app_status s = db_role_set(r->db, r->param[0], role, &r->user, reason, app_now());
  if (s != APP_OK) {
    http_reply_error(r, s, s == APP_NOT_FOUND ? "no such user" : "could not change the role");
    return;
  }
  http_reply_json(r, 200, json_pack("{s:s,s:s}", "username", r->param[0], "role", app_role_name(role)));
}

#define BUNDLE_UPLOAD_MAX (2048LL * 1024 * 1024)
#define OVERRIDE_REASON_MAX 1000

void h_challenge_import(struct req *r)
{
  struct store_upload u;
  char reason[OVERRIDE_REASON_MAX + 1] = "", flag[8] = "";
  struct bundle_problems *p = NULL;
  struct bundle_options opts;
  struct bundle_result res;
  memset(&u, 0, sizeof(u)); /* store_upload_abort is safe on it from here on */
  u.fd = -1;
  memset(&opts, 0, sizeof(opts));
  memset(&res, 0, sizeof(res));
  opts.actor = r->user.username;
  opts.mode = BUNDLE_ADD;
  opts.default_wall_s = r->cfg->score_timeout_s;
  int n = http_query(r, "anonymity_override", reason, sizeof(reason));
  if (n == -2 || n == 0) {
    http_reply_error(r, APP_BAD_REQUEST, "anonymity_override is a reason of 1 to %d bytes", OVERRIDE_REASON_MAX);
    return;
  }
  if (n > 0)
    opts.anonymity_override = reason;
  for (int k = 0; k < 3; k++) {
    const char *name = k == 0 ? "apply" : k == 1 ? "rescore" : "draft";
    n = http_query(r, name, flag, sizeof(flag));
    if (n >= 0 && strcmp(flag, "1") != 0 && strcmp(flag, "0") != 0) {
      http_reply_error(r, APP_BAD_REQUEST, "%s is 0 or 1", name);
      return;
    }
    if (n > 0 && strcmp(flag, "1") == 0) {
      if (k == 0)
        opts.mode = BUNDLE_APPLY;
      else if (k == 1)
        opts.rescore = 1;
      else
        opts.draft = 1;
    }
  }
  char num[16];
  long long track = 0;
  n = http_query(r, "phase", num, sizeof(num)); /* a CodaLab / Codabench bundle: keep one phase (a track) */
  if (n == -2 || (n >= 0 && util_parse_ll(num, 1, 1000, &track) != 0)) {
    http_reply_error(r, APP_BAD_REQUEST, "phase is a phase number from 1 (the first phase) to 1000");
    return;
  }
  opts.codalab_phase = (int)track;
  if (r->ri->content_length > BUNDLE_UPLOAD_MAX) {
    http_reply_error(r, APP_TOO_LARGE, "bundle archives are limited to %lld bytes", BUNDLE_UPLOAD_MAX);
    return;
  }
  enum app_status s = receive_body(r, &u, BUNDLE_UPLOAD_MAX);
  if (s != APP_OK) {
    http_reply_error(r, s,
                     s == APP_TOO_LARGE    ? "the archive is too large"
                     : s == APP_EMPTY_FILE ? "send the bundle archive (.zip or .tar.gz) as the request body"
                                           : "could not store the archive");
    goto out;
  }
  p = malloc(sizeof(*p));
  if (p == NULL) {
    http_reply_error(r, APP_INTERNAL, "out of memory");
    goto out;
  }
  /* bundle_run works on a thread of its own with a full-size stack: CivetWeb's are too small for it */
  int rc = bundle_run(r->db, u.tmp_path, &opts, &res, p);
  if (rc != 0) {
    json_t *problems = json_array();
    for (int i = 0; i < p->n; i++)
      json_array_append_new(problems, json_string(p->text[i]));
    int status = rc == 1 ? 400 : 500;
    http_reply_json(r, status,
                    json_pack("{s:{s:s,s:s,s:o,s:i}}", "error", "code", rc == 1 ? "invalid_bundle" : "internal_error",
                              "message",
                              rc == 1 ? "the bundle has problems: fix them all and send it again"
                                      : "the bundle could not be imported",
                              "problems", problems, "more", p->dropped));
    goto out;
  }
  if (res.state == BUNDLE_CHANGED) {
    http_reply_json(r, 409,
                    json_pack("{s:{s:s,s:s,s:O}}", "error", "code", "bundle_changed", "message",
                              "this challenge exists and the bundle differs from its last import: review "
                              "the changes, then send it again with ?apply=1",
                              "changes", res.changes));
    goto out;
  }
  versions_sweep(r->db); /* the version it replaced goes unless a run reads it (then a later sweep) */
  json_t *body = json_pack("{s:s,s:s,s:s,s:i}", "slug", res.slug, "state", bundle_state_name(res.state),
                           "bundle_sha256", res.bundle_sha256, "rescored", res.rescored);
  if (body != NULL && res.changes != NULL)
    json_object_set(body, "changes", res.changes);
  if (body != NULL && res.parts != NULL) /* a CodaLab competition made several challenges (tracks, phases apart) */
    json_object_set(body, "challenges", res.parts);
  http_reply_json(r, res.state == BUNDLE_NEW ? 201 : 200, body);
out:
  bundle_result_free(&res);
  free(p);
  store_upload_abort(&u);
}

/* PUT challenges/{slug}/state {"state","reason"}: draft (its staff only), open, archived (read-only). */
void h_challenge_state(struct req *r)
{
  struct challenge c;
  enum challenge_state state;
  const char *reason = http_reason_or_reply(r);
  if (reason == NULL || challenge_or_reply(r, &c) != 0)
    return;
  if (db_challenge_state_parse(json_string_value(json_object_get(r->body, "state")), &state) != 0) {
    http_reply_error(r, APP_BAD_REQUEST, "\"state\" is draft, open or archived");
    return;
  }
  if (state != c.state && db_challenge_state_set(r->db, &c, state, r->user.username, reason, app_now()) != APP_OK) {
    http_reply_error(r, APP_INTERNAL, "could not change the state");
    return;
  }
  http_reply_json(r, 200, json_pack("{s:s,s:s}", "slug", c.slug, "state", db_challenge_state_name(state)));
}

/* GET challenges/{slug}/staff: who is organizer or jury of this challenge (besides the server-wide roles). */
void h_staff_list(struct req *r)
{
  struct challenge c;
  if (challenge_or_reply(r, &c) != 0)
    return;
  json_t *list = db_staff_list(r->db, &c);
  if (list == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not list the staff");
    return;
  }
  http_reply_json(r, 200, list);
}

/* PUT challenges/{slug}/staff/{username} {"role": "organizer"|"jury"|"none", "reason"}. */
void h_staff_set(struct req *r)
{
  struct challenge c;
  enum app_role role = ROLE_PARTICIPANT;
  const char *reason = http_reason_or_reply(r);
  if (reason == NULL || challenge_or_reply(r, &c) != 0)
    return;
  const char *name = json_string_value(json_object_get(r->body, "role"));
  if (name == NULL || (strcmp(name, "none") != 0 &&
                       (app_role_parse(name, &role) != 0 || (role != ROLE_ORGANIZER && role != ROLE_JURY)))) {
    http_reply_error(r, APP_BAD_REQUEST, "\"role\" is organizer, jury or none");
    return;
  }
  enum app_status s = db_staff_set(r->db, &c, r->param[1], role, r->user.username, reason, app_now());
  if (s != APP_OK) {
    http_reply_error(r, s, s == APP_NOT_FOUND ? "no such user" : "could not change the staff");
    return;
  }
  http_reply_json(r, 200,
                  json_pack("{s:s,s:s,s:s}", "slug", c.slug, "username", r->param[1], "role",
                            role == ROLE_PARTICIPANT ? "none" : app_role_name(role)));
}

/* GET challenges/{slug}/anonymity: the full anonymity report of every data file (organizers, jury, admins). */
void h_challenge_anonymity(struct req *r)
{
  struct challenge c;
  if (challenge_or_reply(r, &c) != 0)
    return;
  json_t *arr = db_challenge_anonymity(r->db, c.id);
  if (arr == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not read the anonymity reports");
    return;
  }
  http_reply_json(r, 200, arr);
}

static const char *const download_cols[] = {"id", "at", "user", "file", "terms_version"};

/* GET challenges/{slug}/downloads?format=json|csv: who downloaded which file, when, under which terms version
 * (from the audit log), for the data controller. */
void h_downloads_export(struct req *r)
{
  struct challenge c;
  char name[96];
  if (challenge_or_reply(r, &c) != 0)
    return;
  json_t *rows = db_audit_downloads(r->db, c.slug);
  if (rows == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not read the downloads");
    return;
  }
  snprintf(name, sizeof(name), "%s-downloads", c.slug);
  export_reply(r, rows, download_cols, sizeof(download_cols) / sizeof(download_cols[0]), name, NULL);
}

/* POST /api/v1/challenges/{slug}/announcements {"subject","body","to"?,"reason"} (organizers) → 202 {"queued"}:
 * a mail to the challenge's participants who want news: "all" (the default), "submitted" (with a scored
 * submission) or "not_submitted". Audited with its subject and audience. */
void h_announce(struct req *r)
{
  struct challenge c;
  const char *reason = http_reason_or_reply(r);
  if (reason == NULL || challenge_or_reply(r, &c) != 0)
    return;
  const char *subject = json_string_value(json_object_get(r->body, "subject"));
  const char *text = json_string_value(json_object_get(r->body, "body"));
  json_t *jto = json_object_get(r->body, "to");
  const char *to = jto != NULL ? json_string_value(jto) : "all";
  if (subject == NULL || text == NULL || subject[0] == '\0' || strlen(subject) > 150 ||
      strpbrk(subject, "\r\n") != NULL || text[0] == '\0' || strlen(text) > 20000 || to == NULL ||
      (strcmp(to, "all") != 0 && strcmp(to, "submitted") != 0 && strcmp(to, "not_submitted") != 0)) {
    http_reply_error(r, APP_BAD_REQUEST,
                     "{\"subject\": one line of 1 to 150 bytes, \"body\": 1 to 20000 bytes, \"to\": \"all\" | "
                     "\"submitted\" | \"not_submitted\", \"reason\"} is expected");
    return;
  }
  char full[240];
  snprintf(full, sizeof(full), "[%.60s] %.150s", c.slug, subject);
  int n = db_announce(r->db, c.id, c.slug, r->user.username, to, full, text, reason, app_now());
  if (n < 0) {
    http_reply_error(r, APP_INTERNAL, "could not queue the announcement");
    return;
  }
  mail_notify();
  http_reply_json(r, 202, json_pack("{s:i,s:s}", "queued", n, "to", to));
}
