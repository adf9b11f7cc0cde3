/* h_jury.c: the jury's review (final ranking on the private split with intervals and rank ranges),
 * disqualification, notes, re-scoring, publication of the signed ranking, and the ranking, signature and public
 * key anyone can download after publication. Every action needs a reason and is audited (db_jury.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvout.h"
#include "handlers.h"
#include "queue.h"
#include "sign.h"
#include "util.h"

/* Refuses changes to a published challenge: 0 when open, -1 after replying 409 published. */
static int not_published_or_reply(struct req *r, const struct challenge *c)
{
  if (c->published_at != 0) {
    http_reply_error(r, APP_PUBLISHED, "the ranking of this challenge is published and frozen");
    return -1;
  }
  return 0;
}

/* The submission id in r->param[0] and its challenge, or replies 404 and returns -1. */
static int submission_challenge_or_reply(struct req *r, int64_t *id, struct challenge *c)
{
  long long v = 0;
  char slug[64];
  enum app_status s =
    util_parse_ll(r->param[0], 1, INT64_MAX, &v) == 0 ? db_submission_challenge(r->db, v, slug) : APP_NOT_FOUND;
  if (s == APP_OK)
    s = db_challenge_get(r->db, slug, c);
  if (s != APP_OK) {
    http_reply_error(r, s, s == APP_NOT_FOUND ? "no such submission" : "could not load the submission");
    return -1;
  }
  *id = v;
  return 0;
}

static int last_phase_open(const struct challenge *c, int64_t now)
{
  return c->nphases > 0 && now < c->phases[c->nphases - 1].end_at;
}

void h_review(struct req *r)
{
  struct challenge c;
  if (challenge_or_reply(r, &c) != 0)
    return;
  json_t *rows = db_final_ranking(r->db, &c);
  json_t *dq = db_disqualified_list(r->db, &c);
  json_t *notes = db_notes(r->db, &c);
  if (rows == NULL || dq == NULL || notes == NULL) {
    json_decref(rows);
    json_decref(dq);
    json_decref(notes);
    http_reply_error(r, APP_INTERNAL, "could not compute the review");
    return;
  }
  http_reply_json(r, 200,
                  json_pack("{s:s,s:s,s:b,s:b,s:b,s:o,s:o,s:o}", "challenge", c.slug, "metric", c.metric_name,
                            "higher_is_better", c.higher_is_better, "published", c.published_at != 0, "phase_open",
                            last_phase_open(&c, app_now()), "rows", rows, "disqualified", dq, "notes", notes));
}

static const char *const review_cols[] = {"rank",       "team",         "team_id",       "submission_id",
                                          "selected",   "public_score", "private_score", "ci",
                                          "rank_range", "disqualified", "created_at"};

void export_reply(struct req *r, json_t *rows, const char *const cols[], size_t ncols, const char *name)
{
  char format[8] = "json", extra[256];
  int n = http_query(r, "format", format, sizeof(format));
  if (n == -2 || (n >= 0 && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)) {
    json_decref(rows);
    http_reply_error(r, APP_BAD_REQUEST, "format is json or csv");
    return;
  }
  if (strcmp(format, "json") == 0) {
    http_reply_json(r, 200, rows);
    return;
  }
  size_t len = 0;
  char *csv = csvout_render(rows, cols, ncols, &len);
  json_decref(rows);
  if (csv == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not render the CSV");
    return;
  }
  snprintf(extra, sizeof(extra), "Content-Disposition: attachment; filename=\"%s.csv\"\r\n", name);
  http_reply_bytes(r, 200, "text/csv; charset=utf-8", csv, len, extra);
  free(csv);
}

void h_review_export(struct req *r)
{
  struct challenge c;
  char name[96];
  if (challenge_or_reply(r, &c) != 0)
    return;
  json_t *rows = db_final_ranking(r->db, &c);
  if (rows == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not compute the review");
    return;
  }
  snprintf(name, sizeof(name), "%s-review", c.slug);
  export_reply(r, rows, review_cols, sizeof(review_cols) / sizeof(review_cols[0]), name);
}

static void disqualify(struct req *r, int team, int on)
{
  struct challenge c;
  int64_t id = 0;
  long long v = 0;
  const char *reason = http_reason_or_reply(r);
  if (reason == NULL)
    return;
  if (team) {
    if (challenge_or_reply(r, &c) != 0)
      return;
    if (util_parse_ll(r->param[1], 1, INT64_MAX, &v) != 0) {
      http_reply_error(r, APP_NOT_FOUND, "no such team");
      return;
    }
    id = v;
  } else if (submission_challenge_or_reply(r, &id, &c) != 0) {
    return;
  }
  if (not_published_or_reply(r, &c) != 0)
    return;
  enum app_status s = db_disqualify(r->db, &c, team, id, on, &r->user, reason, app_now());
  if (s != APP_OK) {
    http_reply_error(r, s, s == APP_NOT_FOUND ? "no such %s in this challenge" : "could not record it (%s)",
                     team ? "team" : "submission");
    return;
  }
  http_reply_json(
    r, 200, json_pack("{s:s,s:I,s:b}", "kind", team ? "team" : "submission", "id", (json_int_t)id, "disqualified", on));
}

void h_submission_disqualify(struct req *r)
{
  disqualify(r, 0, 1);
}
void h_submission_reinstate(struct req *r)
{
  disqualify(r, 0, 0);
}
void h_team_disqualify(struct req *r)
{
  disqualify(r, 1, 1);
}
void h_team_reinstate(struct req *r)
{
  disqualify(r, 1, 0);
}

void h_submission_rescore(struct req *r)
{
  struct challenge c;
  int64_t id = 0;
  int queued = 0;
  const char *reason = http_reason_or_reply(r);
  if (reason == NULL || submission_challenge_or_reply(r, &id, &c) != 0 || not_published_or_reply(r, &c) != 0)
    return;
  enum app_status s = db_rescore(r->db, &c, id, NULL, &r->user, reason, app_now(), &queued);
  if (s != APP_OK) {
    http_reply_error(r, s == APP_NOT_FOUND ? APP_CONFLICT : s, "only scored or failed submissions can be re-scored");
    return;
  }
  queue_notify();
  http_reply_json(r, 200, json_pack("{s:I,s:s}", "id", (json_int_t)id, "status", "queued"));
}

/* POST /api/v1/submissions/{id}/cancel {"reason"} (organizers): stops a queued or running submission of any team,
 * recorded in the audit chain; costs the team no quota. */
void h_submission_cancel_staff(struct req *r)
{
  struct challenge c;
  int64_t id = 0;
  const char *reason = http_reason_or_reply(r);
  if (reason == NULL || submission_challenge_or_reply(r, &id, &c) != 0)
    return;
  enum app_status s = db_cancel(r->db, id, &r->user, &c, reason, app_now());
  if (s != APP_OK) {
    http_reply_error(
      r, s, s == APP_NOT_CANCELLABLE ? "only a queued or running submission can be cancelled" : "could not cancel");
    return;
  }
  queue_cancel(id);
  http_reply_json(r, 200, json_pack("{s:I,s:s}", "id", (json_int_t)id, "status", "cancelled"));
}

void h_note_add(struct req *r)
{
  struct challenge c;
  int64_t id = 0;
  const char *reason = http_reason_or_reply(r);
  if (reason == NULL || challenge_or_reply(r, &c) != 0 || not_published_or_reply(r, &c) != 0)
    return;
  json_t *sid = json_object_get(r->body, "submission_id"), *tid = json_object_get(r->body, "team_id");
  if ((sid != NULL && !json_is_integer(sid)) || (tid != NULL && !json_is_integer(tid))) {
    http_reply_error(r, APP_BAD_REQUEST, "submission_id and team_id are integers");
    return;
  }
  enum app_status s =
    db_note_add(r->db, &c, &r->user, json_integer_value(sid), json_integer_value(tid), reason, app_now(), &id);
  if (s != APP_OK) {
    http_reply_error(r, s, "could not record the note");
    return;
  }
  http_reply_json(r, 201, json_pack("{s:I,s:s}", "id", (json_int_t)id, "text", reason));
}

/* The canonical ranking document of C published at NOW: malloc'd, the caller frees. */
static char *ranking_document(struct req *r, const struct challenge *c, int64_t now)
{
  char at[32];
  json_t *rows = db_final_ranking(r->db, c), *out = json_array();
  size_t i;
  json_t *row;
  char *text = NULL;
  if (rows == NULL || out == NULL)
    goto out;
  json_array_foreach(rows, i, row)
  {
    if (json_is_true(json_object_get(row, "disqualified")))
      continue;
    json_t *item =
      json_pack("{s:O,s:O,s:O,s:O,s:O}", "rank", json_object_get(row, "rank"), "team", json_object_get(row, "team"),
                "submission_id", json_object_get(row, "submission_id"), "private_score",
                json_object_get(row, "private_score"), "public_score", json_object_get(row, "public_score"));
    json_t *runtime = json_object_get(row, "runtime_sha256"); /* code runs: what the code ran on (API.md 4) */
    if (item != NULL && runtime != NULL)
      json_object_set(item, "runtime_sha256", runtime);
    json_array_append_new(out, item);
  }
  util_iso8601(now, at);
  json_t *doc =
    json_pack("{s:s,s:s,s:b,s:s,s:i,s:O}", "challenge", c->slug, "metric", c->metric_name, "higher_is_better",
              c->higher_is_better, "published_at", at, "precision", c->precision, "rows", out);
  if (doc != NULL)
    text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15));
  json_decref(doc);
out:
  json_decref(rows);
  json_decref(out);
  return text;
}

void h_publish(struct req *r)
{
  struct challenge c;
  char sig[128], sha[65];
  int64_t now = app_now();
  const char *reason = http_reason_or_reply(r);
  if (reason == NULL || challenge_or_reply(r, &c) != 0 || not_published_or_reply(r, &c) != 0)
    return;
  if (last_phase_open(&c, now)) {
    http_reply_error(r, APP_PHASE_OPEN, "the last phase is still open: publish after it ends");
    return;
  }
  char *doc = ranking_document(r, &c, now);
  if (doc == NULL || sign_message(doc, strlen(doc), sig, sizeof(sig)) != 0) {
    free(doc);
    http_reply_error(r, APP_INTERNAL, "could not sign the ranking");
    return;
  }
  enum app_status s = db_publish(r->db, &c, doc, sig, &r->user, reason, now);
  if (s != APP_OK) {
    free(doc);
    http_reply_error(r, s, s == APP_PUBLISHED ? "already published" : "could not publish");
    return;
  }
  util_sha256_hex(doc, strlen(doc), sha);
  free(doc);
  char at[32];
  util_iso8601(now, at);
  http_reply_json(r, 200, json_pack("{s:s,s:s}", "published_at", at, "sha256", sha));
}

/* Serves the published ranking (SIG=0) or its signature (SIG=1): 404 before publication. */
static void ranking(struct req *r, int sig)
{
  struct challenge c;
  char *doc = NULL, *signature = NULL;
  if (challenge_or_reply(r, &c) != 0)
    return;
  enum app_status s = db_ranking_get(r->db, &c, &doc, &signature);
  if (s != APP_OK) {
    http_reply_error(r, s, s == APP_NOT_FOUND ? "the ranking is not published yet" : "could not read the ranking");
  } else if (sig) {
    char line[160];
    int n = snprintf(line, sizeof(line), "%s\n", signature);
    http_reply_bytes(r, 200, "text/plain; charset=us-ascii", line, (size_t)n, NULL);
  } else {
    http_reply_bytes(r, 200, "application/json", doc, strlen(doc), NULL);
  }
  free(doc);
  free(signature);
}

void h_ranking(struct req *r)
{
  ranking(r, 0);
}
void h_ranking_sig(struct req *r)
{
  ranking(r, 1);
}

void h_signing_key(struct req *r)
{
  const char *pem = sign_public_pem();
  if (pem == NULL) {
    http_reply_error(r, APP_INTERNAL, "no signing key");
    return;
  }
  http_reply_bytes(r, 200, "application/x-pem-file", pem, strlen(pem), NULL);
}
