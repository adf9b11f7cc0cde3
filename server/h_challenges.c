/* h_challenges.c: challenges as participants see them: list, details (phases, metric, quota), terms
 * acceptance, the data files (listing and download with Range) and the leaderboard. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "def.h"
#include "db_mail.h"
#include "db_factsheet.h"
#include "chcache.h"
#include "handlers.h"
#include "lbcache.h"
#include "multirank.h"
#include "store.h"
#include "util.h"

int challenge_or_reply(struct req *r, struct challenge *c)
{
  enum app_status s = db_challenge_get(r->db, r->param[0], c);
  if (s == APP_OK && c->state == CHALLENGE_DRAFT && !req_is_staff(r))
    s = APP_NOT_FOUND; /* a draft is seen by its staff only: to anyone else it does not exist */
  if (s != APP_OK) {
    http_reply_error(r, s, s == APP_NOT_FOUND ? "no such challenge" : "could not load the challenge");
    return -1;
  }
  return 0;
}

int challenge_writable_or_reply(struct req *r, const struct challenge *c)
{
  if (c->state != CHALLENGE_ARCHIVED)
    return 0;
  http_reply_error(r, APP_CHALLENGE_ARCHIVED, "this challenge is archived: it can be read, not joined or changed");
  return -1;
}

int challenge_hides_results(const struct challenge *c)
{
  for (int i = 0; i < c->nphases; i++) {
    if (c->phases[i].hide_results)
      return 1;
  }
  return 0;
}

const char *challenge_metric_label(const struct challenge *c, char *buf, size_t n)
{
  if (c->metric_name[0] != '\0')
    return c->metric_name;
  json_t *m = json_loads(c->metric_json, 0, NULL); /* an organizer's program: the key of its score */
  const char *key = json_string_value(json_object_get(m, "score_key"));
  util_strlcpy(buf, key != NULL ? key : "score", n);
  json_decref(m);
  return buf;
}

int req_is_staff(const struct req *r)
{
  return r->authenticated && (r->user.role == ROLE_ORGANIZER || r->user.role == ROLE_JURY ||
                              r->user.role == ROLE_ADMIN || r->has_challenge_role);
}

int terms_accepted_or_reply(struct req *r, const struct challenge *c)
{
  int ok = db_terms_accepted(r->db, r->user.id, c->id, c->terms_version);
  if (ok < 0)
    http_reply_error(r, APP_INTERNAL, "could not check the terms");
  else if (ok == 0)
    http_reply_error(r, APP_TERMS_NOT_ACCEPTED, "accept the terms of this challenge (version %d) first",
                     c->terms_version);
  return ok == 1;
}

static json_t *time_or_null(int64_t t)
{
  char buf[32];
  util_iso8601(t, buf);
  return json_string(buf);
}

/* GET challenges: a visitor who is not logged in gets the cached public list (chcache); a logged-in one may see
 * drafts (staff), so theirs is built for them. */
void h_challenges_list(struct req *r)
{
  int global_staff = r->authenticated && r->user.role != ROLE_PARTICIPANT;
  int64_t now = app_now(), version = 0, from = 0, until = 0;
  int cacheable = !r->authenticated && db_catalogue_version(r->db, now, &version, &from, &until) == 0;
  size_t len = 0;
  char *body = cacheable ? chcache_list_get(version, now, &len) : NULL;
  if (body != NULL) {
    http_reply_bytes(r, 200, "application/json", body, len, NULL);
    free(body);
    return;
  }
  json_t *list = db_challenge_list(r->db, r->authenticated ? r->user.id : 0, global_staff, now);
  if (list == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not list the challenges");
    return;
  }
  body = cacheable ? json_dumps(list, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
  if (body != NULL)
    chcache_list_put(version, from, until, body, strlen(body));
  free(body);
  http_reply_json(r, 200, list);
}

static json_t *quota_json(struct req *r, const struct challenge *c, const struct phase *ph, int64_t now)
{
  struct quota q;
  struct team t;
  if (!r->authenticated || ph == NULL)
    return json_null();
  int found = db_team_of_user(r->db, c->id, r->user.id, 0, now, &t);
  if (found < 0)
    return json_null();
  if (found == 0)
    t.id = -1; /* no team yet: nothing used */
  if (db_quota(r->db, c->id, t.id, ph, now, &q) != APP_OK)
    return json_null();
  int64_t team_bytes = 0, all_bytes = 0;
  if (found == 1 && db_storage_used(r->db, c->id, t.id, &team_bytes, &all_bytes) != APP_OK)
    return json_null();
  json_t *left_today = q.max_per_day > 0 ? json_integer(q.max_per_day - q.used_today) : json_null();
  json_t *left_total = q.max_total > 0 ? json_integer(q.max_total - q.used_total) : json_null();
  json_t *o = json_pack("{s:i,s:o,s:i,s:o,s:o,s:I,s:o}", "used_today", q.used_today, "left_today", left_today,
                        "used_total", q.used_total, "left_total", left_total, "resets_at", time_or_null(q.resets_at),
                        "storage_used_bytes", (json_int_t)team_bytes, "storage_max_bytes",
                        c->storage_team_mb > 0 ? json_integer((json_int_t)c->storage_team_mb << 20) : json_null());
  return o != NULL ? o : json_null();
}

/* The part of C's page every visitor gets, for the open phase PH: a new object, or NULL. */
static json_t *challenge_shared_json(struct req *r, const struct challenge *c, const struct phase *ph)
{
  json_t *o = db_challenge_texts(r->db, c->id);
  json_t *phases = json_array();
  if (o == NULL || phases == NULL) {
    json_decref(o);
    json_decref(phases);
    return NULL;
  }
  for (int i = 0; i < c->nphases; i++)
    json_array_append_new(phases, def_phase_json(&c->phases[i]));
  json_object_set_new(o, "slug", json_string(c->slug));
  json_object_set_new(o, "state", json_string(db_challenge_state_name(c->state)));
  json_object_set_new(o, "terms_version", json_integer(c->terms_version));
  /* every metric and the ranking rule (docs/bundle.md, "Several metrics"): participants see them from the start */
  json_t *summary = multirank_summary(c);
  if (summary != NULL) {
    json_object_set(o, "metrics", json_object_get(summary, "metrics"));
    json_object_set_new(
      o, "ranking",
      json_pack("{s:O,s:O}", "rule", json_object_get(summary, "rule"), "weights", json_object_get(summary, "weights")));
    json_decref(summary);
  }
  /* whether teams send a method description (docs/factsheets.md): "none", "optional" or "required" */
  json_object_set_new(o, "fact_sheets", json_string(db_fact_sheet_mode_name(db_fact_sheet_mode(c))));
  char label[80];
  json_object_set_new(o, "metric",
                      json_pack("{s:s,s:b,s:b}", "name", challenge_metric_label(c, label, sizeof(label)),
                                "higher_is_better", c->higher_is_better, "program", c->metric_name[0] == '\0'));
  json_object_set_new(o, "leaderboard", json_pack("{s:i}", "precision", c->precision));
  json_object_set_new(o, "submission",
                      c->code ? json_pack("{s:s,s:b,s:i,s:I,s:b}", "kind", "code", "smoke", c->has_smoke,
                                          "smoke_per_day", c->smoke_per_day, "max_bytes",
                                          (json_int_t)c->code_max_mb << 20, "ingestion", c->ingestion)
                              : json_pack("{s:s}", "kind", "predictions"));
  json_object_set_new(o, "phases", phases);
  json_object_set_new(o, "phase", ph != NULL ? json_string(ph->name) : json_null());
  json_object_set_new(o, "ends_at", ph != NULL ? time_or_null(ph->end_at) : json_null());
  json_object_set_new(o, "published", json_boolean(c->published_at != 0));
  return o;
}

/* GET challenges/{slug}: the shared part from chcache (built on a change), then the caller's "terms_accepted" and
 * "quota" spliced onto it. */
void h_challenge_get(struct req *r)
{
  struct challenge c;
  int64_t now = app_now();
  if (challenge_or_reply(r, &c) != 0)
    return;
  const struct phase *ph = db_challenge_open_phase(&c, now);
  int phase = ph != NULL ? (int)(ph - c.phases) : -1;
  size_t len = 0;
  char *shared = chcache_get(&c, phase, &len), *quota = NULL, *body = NULL;
  if (shared == NULL) {
    json_t *o = challenge_shared_json(r, &c, ph);
    shared = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(o);
    len = shared != NULL ? strlen(shared) - 1 : 0; /* without the closing '}' */
    if (shared != NULL)
      chcache_put(&c, phase, shared, len);
  }
  int accepted = r->authenticated && db_terms_accepted(r->db, r->user.id, c.id, c.terms_version) == 1;
  json_t *q = quota_json(r, &c, ph, now);
  quota = q != NULL ? json_dumps(q, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  json_decref(q);
  size_t cap = len + (quota != NULL ? strlen(quota) : 0) + 64;
  body = shared != NULL && quota != NULL ? malloc(cap) : NULL;
  if (body == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not load the challenge");
  } else {
    int n = snprintf(body, cap, "%.*s,\"terms_accepted\":%s,\"quota\":%s}", (int)len, shared,
                     accepted ? "true" : "false", quota);
    http_reply_bytes(r, 200, "application/json", body, (size_t)n, NULL);
  }
  free(shared);
  free(quota);
  free(body);
}

void h_terms_accept(struct req *r)
{
  struct challenge c;
  if (challenge_or_reply(r, &c) != 0 || challenge_writable_or_reply(r, &c) != 0)
    return;
  json_t *v = json_object_get(r->body, "version");
  if (!json_is_integer(v)) {
    http_reply_error(r, APP_MISSING_FIELD, "\"version\" must be the integer version of the terms you accept");
    return;
  }
  if (json_integer_value(v) != c.terms_version) {
    http_reply_error(r, APP_TERMS_OUTDATED, "the current terms are version %d", c.terms_version);
    return;
  }
  if (r->cfg->verify_email && r->user.role == ROLE_PARTICIPANT && db_email_verified(r->db, r->user.id) != 1) {
    http_reply_error(r, APP_EMAIL_UNVERIFIED,
                     "confirm your e-mail address first: follow the link mailed to it (your account page sends "
                     "it again)");
    return;
  }
  if (db_terms_accept(r->db, &r->user, &c, app_now()) != APP_OK) {
    http_reply_error(r, APP_INTERNAL, "could not record the acceptance");
    return;
  }
  http_reply_empty(r, 204, NULL);
}

void h_files_list(struct req *r)
{
  struct challenge c;
  if (challenge_or_reply(r, &c) != 0 || !terms_accepted_or_reply(r, &c))
    return;
  json_t *files = db_challenge_files(r->db, c.id);
  if (files == NULL) {
    http_reply_error(r, APP_INTERNAL, "could not list the files");
    return;
  }
  http_reply_json(r, 200, files);
}

void h_file_get(struct req *r)
{
  struct challenge c;
  char rel[APP_PATH_MAX], path[APP_PATH_MAX], extra[1024];
  int64_t size = 0;
  if (challenge_or_reply(r, &c) != 0 || !terms_accepted_or_reply(r, &c))
    return;
  /* Only names recorded at import are served: the ground truth is never among them. */
  int found = db_challenge_file_exists(r->db, c.id, r->param[1], &size);
  if (found != 1) {
    http_reply_error(r, found < 0 ? APP_INTERNAL : APP_NOT_FOUND, "no such file");
    return;
  }
  int n = snprintf(rel, sizeof(rel), "%s/data/%s", c.dir, r->param[1]);
  if (n < 0 || (size_t)n >= sizeof(rel) || store_path(path, sizeof(path), rel) != 0) {
    http_reply_error(r, APP_NOT_FOUND, "no such file");
    return;
  }
  const char *base = strrchr(r->param[1], '/');
  base = base != NULL ? base + 1 : r->param[1];
  /* Downloads are recorded (who, which file, which terms version) for the data controller, once per user, file
   * and hour; a HEAD transfers nothing and is not recorded. */
  if (strcmp(r->ri->request_method, "HEAD") != 0) {
    json_t *d =
      json_pack("{s:s,s:i,s:I}", "file", r->param[1], "terms_version", c.terms_version, "size", (json_int_t)size);
    enum app_status as = db_audit_download(r->db, r->user.username, c.slug, r->param[1], d, app_now());
    json_decref(d);
    if (as != APP_OK) {
      http_reply_error(r, APP_INTERNAL, "could not record the download");
      return;
    }
  }
  /* the name was checked at import ([A-Za-z0-9._-] only), so it is safe inside the quoted header */
  snprintf(extra, sizeof(extra), "Content-Disposition: attachment; filename=\"%s\"\r\n", base);
  http_reply_file(r, path, "application/octet-stream", extra);
}

/* The private leaderboard: after publication the frozen ranking's rows; before it (staff only) the live final
 * ranking. */
static json_t *private_rows(struct req *r, const struct challenge *c)
{
  char *doc = NULL, *sig = NULL;
  json_t *rows = json_array();
  size_t i;
  json_t *row;
  if (rows == NULL)
    return NULL;
  if (c->published_at != 0) {
    if (db_ranking_get(r->db, c, &doc, &sig) == APP_OK) {
      json_t *d = json_loads(doc, 0, NULL);
      json_array_foreach(json_object_get(d, "rows"), i, row)
      {
        json_t *item = json_pack("{s:O,s:O,s:O}", "rank", json_object_get(row, "rank"), "name",
                                 json_object_get(row, "team"), "score", json_object_get(row, "private_score"));
        if (item != NULL && json_object_get(row, "metrics") != NULL)
          json_object_set(item, "metrics", json_object_get(row, "metrics"));
        json_array_append_new(rows, item);
      }
      json_decref(d);
    }
    free(doc);
    free(sig);
    return rows;
  }
  json_t *final = db_final_ranking(r->db, c);
  json_array_foreach(final, i, row)
  {
    if (json_is_true(json_object_get(row, "disqualified")))
      continue;
    json_t *item = json_pack("{s:O,s:O,s:O}", "rank", json_object_get(row, "rank"), "name",
                             json_object_get(row, "team"), "score", json_object_get(row, "private_score"));
    if (item != NULL && json_object_get(row, "metrics") != NULL)
      json_object_set(item, "metrics", json_object_get(row, "metrics"));
    json_array_append_new(rows, item);
  }
  json_decref(final);
  return rows;
}

/* 1 when the request's Accept-Encoding takes gzip (a "gzip" token whose q, when given, is above 0). */
static int accepts_gzip(struct req *r)
{
  const char *ae = http_header(r, "Accept-Encoding");
  const char *g = ae != NULL ? strstr(ae, "gzip") : NULL;
  if (g == NULL)
    return 0;
  g += 4;
  while (*g == ' ')
    g++;
  if (strncmp(g, ";q=", 3) != 0)
    return 1;
  char *end = NULL;
  double q = strtod(g + 3, &end);
  return end != g + 3 && q > 0.0;
}

/* Replies BODY (LEN bytes, gzip'd when GZ) with ETAG, or 304 when the client holds it already. */
/* 1 when the request's If-None-Match holds ETAG: the client has these bytes. */
static int etag_matches(struct req *r, const char *etag)
{
  const char *inm = http_header(r, "If-None-Match");
  return inm != NULL && strstr(inm, etag) != NULL;
}

/* BODY with its ETAG (gzip'd when GZ), or 304 without it when the client has it (BODY may then be NULL). */
static void reply_with_etag(struct req *r, const char *body, size_t len, const char *etag, int gz)
{
  char extra[192];
  snprintf(extra, sizeof(extra), "ETag: %s\r\nCache-Control: no-cache\r\nVary: Accept-Encoding\r\n%s", etag,
           gz ? "Content-Encoding: gzip\r\n" : "");
  if (etag_matches(r, etag)) {
    http_reply_empty(r, 304, extra);
    return;
  }
  http_reply_bytes(r, 200, "application/json", body, len, extra);
}

/* The paging of a leaderboard request: ?limit= (1-1000), ?offset=, ?q= (a part of a team name, at most 64 bytes).
 * Returns 1 when the request asks for a page, 0 for the whole board, -1 after a 400. */
static int page_or_reply(struct req *r, char *q, size_t qn, size_t *offset, size_t *limit)
{
  char num[24];
  long long v = 0;
  int paged = 0, n;
  *offset = 0;
  *limit = 100;
  q[0] = '\0';
  n = http_query(r, "limit", num, sizeof(num));
  if (n >= 0 && util_parse_ll(num, 1, 1000, &v) != 0)
    n = -2;
  if (n >= 0)
    *limit = (size_t)v;
  paged |= n >= 0;
  int m = n == -2 ? -2 : http_query(r, "offset", num, sizeof(num));
  if (m >= 0 && util_parse_ll(num, 0, 1000000000, &v) != 0)
    m = -2;
  if (m >= 0)
    *offset = (size_t)v;
  paged |= m >= 0;
  int k = m == -2 ? -2 : http_query(r, "q", q, qn);
  paged |= k >= 0;
  if (n == -2 || m == -2 || k == -2) {
    http_reply_error(r, APP_BAD_REQUEST, "limit is 1 to 1000, offset 0 or more, q at most 64 bytes");
    return -1;
  }
  return paged;
}

/* Replies E: the whole board (gzip'd when the client takes it), or the page the request asks for. */
static void reply_board(struct req *r, const struct lb_entry *e)
{
  char q[65], etag[40], sha[65];
  size_t offset = 0, limit = 100, len = 0;
  int paged = page_or_reply(r, q, sizeof(q), &offset, &limit);
  if (paged < 0)
    return;
  if (paged == 0) {
    if (e->gz != NULL && accepts_gzip(r)) {
      snprintf(etag, sizeof(etag), "%.33s-gz\"", e->etag); /* another representation: another ETag */
      reply_with_etag(r, (const char *)e->gz, e->gz_len, etag, 1);
    } else {
      reply_with_etag(r, e->body, e->len, e->etag, 0);
    }
    return;
  }
  /* a page is cut from the board by its parameters alone: its ETag is theirs and the board's, known before the
   * page is cut (a 304 cuts nothing) */
  char key[256]; /* at most 34 + 3 + 2 x 20 + 64 bytes: the ETag, the separators, two numbers and the search */
  int kn = snprintf(key, sizeof(key), "%s|%zu|%zu|%s", e->etag, offset, limit, q);
  if (kn < 0 || (size_t)kn >= sizeof(key)) {
    http_reply_error(r, APP_INTERNAL, "could not read the leaderboard");
    return;
  }
  util_sha256_hex(key, (size_t)kn, sha);
  snprintf(etag, sizeof(etag), "\"%.32s\"", sha);
  if (etag_matches(r, etag)) {
    reply_with_etag(r, NULL, 0, etag, 0);
    return;
  }
  char *page = lb_entry_page(e, q, offset, limit, &len);
  if (page == NULL) {
    http_reply_error(r, APP_INTERNAL, "out of memory");
    return;
  }
  reply_with_etag(r, page, len, etag, 0);
  free(page);
}

void h_leaderboard(struct req *r)
{
  struct challenge c;
  char split[16] = "public";
  if (challenge_or_reply(r, &c) != 0)
    return;
  int n = http_query(r, "split", split, sizeof(split));
  if (n == -2 || (n >= 0 && strcmp(split, "public") != 0 && strcmp(split, "private") != 0)) {
    http_reply_error(r, APP_BAD_REQUEST, "split is public or private");
    return;
  }
  int private_split = strcmp(split, "private") == 0;
  char label[80];
  if (private_split && c.published_at == 0 && !req_is_staff(r)) {
    http_reply_error(r, APP_FORBIDDEN, "the private leaderboard is shown once the jury has published it");
    return;
  }
  if (!private_split && c.published_at == 0 && !req_is_staff(r) && challenge_hides_results(&c)) {
    /* a phase hides its results (CodaLab's hide_results): no row until the jury publishes; staff see the board */
    http_reply_json(r, 200,
                    json_pack("{s:s,s:b,s:s,s:i,s:b,s:b,s:[]}", "metric",
                              challenge_metric_label(&c, label, sizeof(label)), "higher_is_better", c.higher_is_better,
                              "split", split, "precision", c.precision, "published", 0, "results_hidden", 1, "rows"));
    return;
  }
  /* the public board is built once per change (lbcache.h); a private one (staff before publication, everyone
   * after: rare) every time */
  struct lb_entry *e = private_split ? NULL : lbcache_get(c.id, c.lb_version);
  if (e == NULL) {
    json_t *rows = private_split ? private_rows(r, &c) : db_leaderboard(r->db, &c);
    if (rows != NULL && !private_split && multirank_apply(&c, rows, "score") < 0) { /* the challenge's rule */
      json_decref(rows);
      rows = NULL;
    }
    json_t *fields =
      json_pack("{s:s,s:b,s:s,s:i,s:b}", "metric", challenge_metric_label(&c, label, sizeof(label)), "higher_is_better",
                c.higher_is_better, "split", split, "precision", c.precision, "published", c.published_at != 0);
    if (rows != NULL && fields != NULL)
      e = private_split ? lb_entry_new(fields, rows) : lbcache_put(c.id, c.lb_version, fields, rows);
    json_decref(rows);
    json_decref(fields);
    if (e == NULL) {
      http_reply_error(r, APP_INTERNAL, "could not read the leaderboard");
      return;
    }
  }
  reply_board(r, e);
  lb_entry_release(e);
}
