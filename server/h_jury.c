/* h_jury.c: the jury's review (final ranking on the private split with intervals and rank ranges),
 * disqualification, notes, re-scoring, publication of the signed ranking, and the ranking, signature and public
 * key anyone can download after publication. Every action needs a reason and is audited (db_jury.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvout.h"
#include "handlers.h"
#include "db_factsheet.h"
#include "db_mail.h"
#include "multirank.h"
#include "mail.h"
#include "queue.h"
#include "stability.h"
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

/* Puts each team's method description on its row of ROWS (docs/factsheets.md): "fact_sheet" (the object, or null)
 * and, for the exports, "fact_sheet_status" ("none" when there is none) and "fact_sheet_sha256". 0, or -1. */
static int add_fact_sheets(sqlite3 *db, const struct challenge *c, json_t *rows)
{
  json_t *sheets = db_fact_sheets(db, c->id), *row;
  char key[24];
  size_t i;
  if (sheets == NULL)
    return -1;
  json_array_foreach(rows, i, row)
  {
    snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(json_object_get(row, "team_id")));
    json_t *f = json_object_get(sheets, key);
    json_object_set_new(row, "fact_sheet", f != NULL ? json_incref(f) : json_null());
    json_object_set_new(row, "fact_sheet_status",
                        f != NULL ? json_incref(json_object_get(f, "status")) : json_string("none"));
    json_object_set_new(row, "fact_sheet_sha256", f != NULL ? json_incref(json_object_get(f, "sha256")) : json_null());
  }
  json_decref(sheets);
  return 0;
}

void h_review(struct req *r)
{
  struct challenge c;
  if (challenge_or_reply(r, &c) != 0)
    return;
  json_t *rows = db_final_ranking(r->db, &c);
  if (rows != NULL && add_fact_sheets(r->db, &c, rows) != 0) {
    json_decref(rows);
    rows = NULL;
  }
  json_t *dq = db_disqualified_list(r->db, &c);
  json_t *notes = db_notes(r->db, &c);
  if (rows == NULL || dq == NULL || notes == NULL) {
    json_decref(rows);
    json_decref(dq);
    json_decref(notes);
    http_reply_error(r, APP_INTERNAL, "could not compute the review");
    return;
  }
  /* several metrics: every metric's ranking beside the rule's (docs/bundle.md, "Several metrics") */
  json_t *methods = multirank_methods(&c, rows, "private_score"), *summary = multirank_summary(&c);
  http_reply_json(r, 200,
                  json_pack("{s:s,s:s,s:b,s:b,s:b,s:o,s:o,s:o,s:s,s:o,s:o}", "challenge", c.slug, "metric",
                            c.metric_name, "higher_is_better", c.higher_is_better, "published", c.published_at != 0,
                            "phase_open", last_phase_open(&c, app_now()), "rows", rows, "disqualified", dq, "notes",
                            notes, "fact_sheets", db_fact_sheet_mode_name(db_fact_sheet_mode(&c)), "metrics",
                            summary != NULL ? summary : json_null(), "methods",
                            methods != NULL ? methods : json_null()));
}

static const char *const review_cols[] = {"rank",
                                          "team",
                                          "team_id",
                                          "submission_id",
                                          "selected",
                                          "public_score",
                                          "private_score",
                                          "ci",
                                          "rank_range",
                                          "disqualified",
                                          "created_at",
                                          "stability_rank_ci",
                                          "rank_freq",
                                          "tie_group",
                                          "rank_then_aggregate",
                                          "fact_sheet_status",
                                          "fact_sheet_sha256",
                                          "metrics",
                                          "metric_ranks",
                                          "mean_rank"};

/* The stability teams of the final ranking ROWS (its ranked, not disqualified rows, in order) into a malloc'd
 * array (*N of them; names and the rows stay owned by ROWS). NULL out of memory. */
static struct stability_team *stability_teams(json_t *rows, size_t *n)
{
  struct stability_team *teams = calloc(json_array_size(rows) + 1, sizeof(*teams));
  size_t i;
  json_t *row;
  *n = 0;
  json_array_foreach(rows, i, row)
  {
    if (teams == NULL || json_is_true(json_object_get(row, "disqualified")) ||
        !json_is_integer(json_object_get(row, "rank")))
      continue;
    teams[*n].name = json_string_value(json_object_get(row, "team"));
    /* the analysis is of the primary metric: under the rule "mean_rank" its own order, not the official one */
    json_t *primary_rank = json_object_get(row, "primary_rank");
    teams[*n].rank = (int)json_integer_value(primary_rank != NULL ? primary_rank : json_object_get(row, "rank"));
    teams[*n].score = json_number_value(json_object_get(row, "private_score"));
    teams[*n].submission_id = json_integer_value(json_object_get(row, "submission_id"));
    (*n)++;
  }
  return teams;
}

/* The stability analysis of C's final ranking (stability.c), or NULL with WHY. */
static json_t *stability_of(struct req *r, const struct challenge *c, unsigned b, uint64_t seed, char *why,
                            size_t whylen)
{
  size_t n = 0;
  json_t *rows = db_final_ranking(r->db, c), *out = NULL;
  struct stability_team *teams = rows != NULL ? stability_teams(rows, &n) : NULL;
  if (teams == NULL)
    snprintf(why, whylen, "could not read the final ranking");
  else
    out = stability_analyse_cached(teams, n, b, seed, why, whylen);
  free(teams);
  json_decref(rows);
  return out;
}

int export_format_or_reply(struct req *r)
{
  char format[8] = "json";
  int n = http_query(r, "format", format, sizeof(format));
  if (n == -2 || (n >= 0 && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)) {
    http_reply_error(r, APP_BAD_REQUEST, "format is json or csv");
    return -1;
  }
  return strcmp(format, "csv") == 0;
}

void export_reply(struct req *r, json_t *rows, const char *const cols[], size_t ncols, const char *name,
                  const char *extra_headers)
{
  char extra[512];
  int csv_wanted = export_format_or_reply(r);
  if (csv_wanted < 0) {
    json_decref(rows);
    return;
  }
  if (!csv_wanted) {
    http_reply_json_headers(r, 200, rows, extra_headers);
    return;
  }
  size_t len = 0;
  char *csv = csvout_render(rows, cols, ncols, &len);
  json_decref(rows);
  if (csv == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not render the CSV");
    return;
  }
  snprintf(extra, sizeof(extra), "Content-Disposition: attachment; filename=\"%s.csv\"\r\n%s", name,
           extra_headers != NULL ? extra_headers : "");
  http_reply_bytes(r, 200, "text/csv; charset=utf-8", csv, len, extra);
  free(csv);
}

/* Puts on each row of ROWS its team's figures from the stability analysis STAB (or nothing when NULL):
 * "stability_rank_ci", "rank_freq" and "tie_group" (1 for the group of the first). */
static void add_stability(json_t *rows, json_t *stab)
{
  size_t i, k, m;
  json_t *row, *t, *g, *member;
  json_array_foreach(rows, i, row)
  {
    const char *team = json_string_value(json_object_get(row, "team"));
    if (team == NULL)
      continue;
    json_array_foreach(json_object_get(stab, "teams"), k, t)
    {
      if (strcmp(team, json_string_value(json_object_get(t, "team"))) != 0)
        continue;
      json_object_set(row, "stability_rank_ci", json_object_get(t, "rank_ci"));
      json_object_set(row, "rank_freq", json_object_get(t, "rank_freq"));
      if (json_object_get(t, "rank_then_aggregate") != NULL)
        json_object_set(row, "rank_then_aggregate", json_object_get(t, "rank_then_aggregate"));
    }
    json_array_foreach(json_object_get(stab, "groups"), k, g)
    {
      json_array_foreach(g, m, member)
      {
        if (strcmp(team, json_string_value(member)) == 0)
          json_object_set_new(row, "tie_group", json_integer((json_int_t)k + 1));
      }
    }
  }
}

void h_review_export(struct req *r)
{
  struct challenge c;
  char name[96];
  if (challenge_or_reply(r, &c) != 0)
    return;
  json_t *rows = db_final_ranking(r->db, &c);
  if (rows == NULL || add_fact_sheets(r->db, &c, rows) != 0) {
    json_decref(rows);
    http_reply_error(r, APP_INTERNAL, "could not compute the review");
    return;
  }
  /* several metrics: each metric's rank of each team, beside its values (docs/bundle.md) */
  json_t *methods = multirank_methods(&c, rows, "private_score"), *tm, *row;
  size_t i, k;
  json_array_foreach(json_object_get(methods, "teams"), k, tm) json_array_foreach(rows, i, row)
  {
    if (json_equal(json_object_get(row, "team"), json_object_get(tm, "team")))
      json_object_set(row, "metric_ranks", json_object_get(tm, "by"));
  }
  json_decref(methods);
  /* the stability figures of the jury page (default bootstrap and seed), on each team's row */
  char why[300];
  json_t *stab = stability_of(r, &c, STABILITY_BOOTSTRAP_DEFAULT, STABILITY_SEED_DEFAULT, why, sizeof(why));
  add_stability(rows, stab);
  json_decref(stab);
  snprintf(name, sizeof(name), "%s-review", c.slug);
  export_reply(r, rows, review_cols, sizeof(review_cols) / sizeof(review_cols[0]), name, NULL);
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

/* GET /api/v1/challenges/{slug}/review/stability?bootstrap=B&seed=S (API.md section 6). */
void h_review_stability(struct req *r)
{
  struct challenge c;
  char bs[16], ss[24], why[300];
  long long b = STABILITY_BOOTSTRAP_DEFAULT, seed = STABILITY_SEED_DEFAULT;
  if (challenge_or_reply(r, &c) != 0)
    return;
  int hb = http_query(r, "bootstrap", bs, sizeof(bs)), hs = http_query(r, "seed", ss, sizeof(ss));
  if (hb == -2 || hs == -2 || (hb >= 0 && util_parse_ll(bs, 1, STABILITY_BOOTSTRAP_MAX, &b) != 0) ||
      (hs >= 0 && util_parse_ll(ss, 0, INT64_MAX, &seed) != 0)) {
    http_reply_error(r, APP_BAD_REQUEST, "bootstrap is 1 to %d, seed a non-negative integer", STABILITY_BOOTSTRAP_MAX);
    return;
  }
  json_t *out = stability_of(r, &c, (unsigned)b, (uint64_t)seed, why, sizeof(why));
  if (out == NULL) {
    http_reply_error(r, APP_STABILITY_UNAVAILABLE, "%s", why);
    return;
  }
  http_reply_json(r, 200, out);
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
  if (rows == NULL || out == NULL || add_fact_sheets(r->db, c, rows) != 0)
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
    if (item != NULL && json_object_get(row, "metrics") != NULL) /* the secondary metrics, private split */
      json_object_set(item, "metrics", json_object_get(row, "metrics"));
    const char *sheet = json_string_value(json_object_get(row, "fact_sheet_status"));
    if (item != NULL && sheet != NULL && strcmp(sheet, "accepted") == 0) /* the method the jury accepted */
      json_object_set(item, "fact_sheet_sha256", json_object_get(row, "fact_sheet_sha256"));
    json_array_append_new(out, item);
  }
  util_iso8601(now, at);
  /* the jury's stability figures (API.md section 6) with the default bootstrap and seed, so that the signature
   * covers them; null with the reason when there are none (a metric that is not a mean over cases...) */
  char why[300];
  json_t *stability = stability_of(r, c, STABILITY_BOOTSTRAP_DEFAULT, STABILITY_SEED_DEFAULT, why, sizeof(why));
  json_t *doc =
    json_pack("{s:s,s:s,s:b,s:s,s:i,s:O,s:o}", "challenge", c->slug, "metric", c->metric_name, "higher_is_better",
              c->higher_is_better, "published_at", at, "precision", c->precision, "rows", out, "stability",
              stability != NULL ? stability : json_pack("{s:s}", "unavailable", why));
  /* how the rows were ranked, and what they were ranked on: the data as imported (the ground truth, every served
   * file and the whole bundle, by SHA-256), so that anyone holding the files can check which ones the ranking is
   * about (each code run's runtime is in its row) */
  json_t *state = NULL, *files = json_array();
  if (doc != NULL && db_challenge_import_state(r->db, c->slug, &state) == APP_OK && state != NULL && files != NULL) {
    json_t *f;
    json_array_foreach(json_object_get(state, "files"), i, f) json_array_append_new(
      files, json_pack("{s:O,s:O}", "name", json_object_get(f, "name"), "sha256", json_object_get(f, "sha256")));
    json_object_set_new(doc, "data",
                        json_pack("{s:O,s:O,s:O}", "ground_truth_sha256", json_object_get(state, "truth_sha256"),
                                  "bundle_sha256", json_object_get(state, "bundle_sha256"), "files", files));
    files = NULL;
    /* codes, documented in docs/api.md ("Publication"): the team's best private score among its selected
     * submissions, else its best public one; scores equal at the precision: the earlier submission first; the
     * rule, its weights and every metric as the challenge declares them (docs/bundle.md, "Several metrics") */
    json_t *summary = multirank_summary(c);
    if (summary != NULL)
      json_object_set_new(
        doc, "ranking_rule",
        json_pack("{s:O,s:O,s:O,s:s,s:b,s:s,s:s,s:i,s:s}", "rule", json_object_get(summary, "rule"), "weights",
                  json_object_get(summary, "weights"), "metrics", json_object_get(summary, "metrics"), "metric",
                  c->metric_name, "higher_is_better", c->higher_is_better, "split", "private", "per_team",
                  "best_selected_else_best_public", "precision", c->precision, "ties", "earlier_submission"));
    json_decref(summary);
  }
  json_decref(files);
  json_decref(state);
  if (doc != NULL && (json_object_get(doc, "data") == NULL || json_object_get(doc, "ranking_rule") == NULL)) {
    /* the hashes or the rule cannot be read: nothing is signed */
    json_decref(doc);
    doc = NULL;
  }
  if (doc != NULL)
    text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15));
  json_decref(doc);
out:
  json_decref(rows);
  json_decref(out);
  return text;
}

/* When C's phases require method descriptions (docs/factsheets.md): 0 when every team of the final ranking has an
 * accepted one; else replies 409 fact_sheet_missing naming (some of) them and returns -1. */
static int fact_sheets_missing_or_reply(struct req *r, const struct challenge *c)
{
  if (db_fact_sheet_mode(c) != 2)
    return 0;
  json_t *rows = db_final_ranking(r->db, c), *row;
  char names[400] = "";
  size_t i, missing = 0;
  int rc = -1;
  if (rows == NULL || add_fact_sheets(r->db, c, rows) != 0) {
    http_reply_error(r, APP_INTERNAL, "could not read the ranking");
    goto out;
  }
  json_array_foreach(rows, i, row)
  {
    if (json_is_true(json_object_get(row, "disqualified")) ||
        strcmp(json_string_value(json_object_get(row, "fact_sheet_status")), "accepted") == 0)
      continue;
    size_t used = strlen(names);
    if (missing < 10 && used + 80 < sizeof(names))
      snprintf(names + used, sizeof(names) - used, "%s%.70s", missing > 0 ? ", " : "",
               json_string_value(json_object_get(row, "team")));
    missing++;
  }
  if (missing == 0)
    rc = 0;
  else
    http_reply_error(r, APP_FACT_SHEET_MISSING,
                     "%zu ranked team(s) have no accepted method description (accept or refuse each, or disqualify "
                     "the team): %s%s",
                     missing, names, missing > 10 ? ", ..." : "");
out:
  json_decref(rows);
  return rc;
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
  if (fact_sheets_missing_or_reply(r, &c) != 0)
    return;
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
  /* the participants who want news hear it, each in the language of their account */
  int mailed = 0;
  for (enum i18n_lang lang = I18N_EN; lang <= I18N_FR; lang++) {
    char subject[200], body[1400];
    i18n_snprintf(lang, subject, sizeof(subject), "[%s] the final ranking is published", c.slug);
    i18n_snprintf(lang, body, sizeof(body),
                  "Hello,\n\nthe jury of %s has published its final ranking, signed:\n\n  "
                  "%s/challenge.html?slug=%s\n\nYour private scores show in your submissions now.\n\nYou get this "
                  "mail because you take part in this challenge; turn such news off on %s/account.html.\n",
                  c.slug, r->cfg->public_url, c.slug, r->cfg->public_url);
    if (db_mail_participants(r->db, c.id, "all", &lang, subject, body, now) > 0)
      mailed = 1;
  }
  if (mailed)
    mail_notify();
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
