/* h_factsheet.c: method descriptions ("fact sheets", issue 14, docs/factsheets.md). A team sends its own (PUT, the
 * raw body: a PDF or a Markdown file, with ?link= to its code or paper) until the ranking is published, reads it
 * back and sees the jury's verdict; the jury downloads each team's, accepts or refuses it with a reason (audited),
 * and may not publish while a ranked team lacks an accepted one when a phase requires them (h_jury.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_factsheet.h"
#include "handlers.h"
#include "store.h"
#include "util.h"

#define FACT_SHEET_MAX_BYTES (5 * 1024 * 1024)
#define LINK_MAX 500

/* 0 when C asks for fact sheets; else replies 404 and returns -1. */
static int asked_or_reply(struct req *r, const struct challenge *c)
{
  if (db_fact_sheet_mode(c) != 0)
    return 0;
  http_reply_error(r, APP_NOT_FOUND, "this challenge asks for no method description");
  return -1;
}

/* The optional ?link= into OUT: 0 (empty when absent), or -1 after replying 400. An http(s) address of printable
 * ASCII, as the page shows it as a link. */
static int link_or_reply(struct req *r, char *out, size_t n)
{
  int len = http_query(r, "link", out, n);
  if (len == -1) {
    out[0] = '\0';
    return 0;
  }
  int ok = len > 0 && len <= LINK_MAX && (strncmp(out, "https://", 8) == 0 || strncmp(out, "http://", 7) == 0);
  for (int i = 0; ok && i < len; i++)
    ok = out[i] > 0x20 && out[i] < 0x7f && out[i] != '"' && out[i] != '<' && out[i] != '>';
  if (!ok) {
    http_reply_error(r, APP_BAD_REQUEST, "link is an http:// or https:// address of at most %d characters", LINK_MAX);
    return -1;
  }
  return 0;
}

/* 1 when the N bytes of P are UTF-8 text without NUL (a Markdown file), else 0. */
static int utf8_text(const unsigned char *p, size_t n)
{
  size_t i = 0;
  while (i < n) {
    unsigned char b = p[i];
    size_t more = b < 0x80 ? 0 : (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2 : (b & 0xF8) == 0xF0 ? 3 : 9;
    if (b == 0 || more == 9 || (more == 1 && b < 0xC2) || (more > 0 && i + more >= n))
      return 0;
    for (size_t k = 1; k <= more; k++)
      if ((p[i + k] & 0xC0) != 0x80)
        return 0;
    i += more + 1;
  }
  return 1;
}

/* The kind of the stored file SHA256 ("pdf" or "markdown") into KIND, or "" when it is neither. */
static void sniff(const char *sha256, char *kind, size_t n)
{
  char path[APP_PATH_MAX];
  unsigned char *buf = malloc(FACT_SHEET_MAX_BYTES);
  int fd = -1;
  ssize_t got = -1;
  kind[0] = '\0';
  if (buf != NULL && store_submission_path(sha256, path, sizeof(path)) == 0)
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0)
    got = read(fd, buf, FACT_SHEET_MAX_BYTES);
  if (got >= 5 && memcmp(buf, "%PDF-", 5) == 0)
    util_strlcpy(kind, "pdf", n);
  else if (got > 0 && utf8_text(buf, (size_t)got))
    util_strlcpy(kind, "markdown", n);
  if (fd >= 0)
    close(fd);
  free(buf);
}

static void reply_sheet(struct req *r, const struct challenge *c, const struct fact_sheet *f, int status)
{
  json_t *o = db_fact_sheet_json(f);
  if (o != NULL)
    json_object_set_new(o, "required", json_boolean(db_fact_sheet_mode(c) == 2));
  http_reply_json(r, status, o);
}

/* PUT /api/v1/challenges/{slug}/fact-sheet[?link=URL] (a participant who accepted the terms): the body is the
 * team's method description; it replaces the last one and waits for the jury again. */
void h_fact_sheet_put(struct req *r)
{
  struct challenge c;
  struct team t;
  struct store_upload u;
  struct fact_sheet f;
  memset(&f, 0, sizeof(f));
  memset(&u, 0, sizeof(u));
  u.fd = -1;
  if (challenge_or_reply(r, &c) != 0 || challenge_writable_or_reply(r, &c) != 0 || !terms_accepted_or_reply(r, &c) ||
      asked_or_reply(r, &c) != 0 || link_or_reply(r, f.link, sizeof(f.link)) != 0)
    return;
  if (c.published_at != 0) {
    http_reply_error(r, APP_PUBLISHED, "the ranking is published: the method descriptions are final");
    return;
  }
  if (db_team_of_user(r->db, c.id, r->user.id, 1, app_now(), &t) != 1) {
    http_reply_error(r, APP_INTERNAL, "could not find your team");
    return;
  }
  enum app_status s = receive_body(r, &u, FACT_SHEET_MAX_BYTES);
  if (s == APP_OK)
    s = store_upload_commit(&u);
  if (s != APP_OK) {
    store_upload_abort(&u);
    http_reply_error(r, s,
                     s == APP_TOO_LARGE    ? "a method description is at most 5 MB"
                     : s == APP_EMPTY_FILE ? "the file is empty"
                                           : "could not store the file");
    return;
  }
  util_strlcpy(f.sha256, u.sha256, sizeof(f.sha256));
  f.size = u.size;
  store_upload_abort(&u); /* committed: only closes what is left */
  sniff(f.sha256, f.kind, sizeof(f.kind));
  if (f.kind[0] == '\0') {
    store_discard_if_orphan(r->db, f.sha256);
    http_reply_error(r, APP_UNSUPPORTED_MEDIA_TYPE,
                     "a method description is a PDF file or a Markdown file (UTF-8 text): this file is neither");
    return;
  }
  int64_t now = app_now();
  struct fact_sheet old;
  int had = db_fact_sheet_get(r->db, c.id, t.id, &old) == APP_OK;
  s = db_fact_sheet_put(r->db, &c, t.id, &f, r->user.id, now);
  if (s != APP_OK) {
    store_discard_if_orphan(r->db, f.sha256);
    http_reply_error(r, s, "could not store the file");
    return;
  }
  if (had) /* the replaced file goes, unless another row holds the same bytes */
    store_discard_if_orphan(r->db, old.sha256);
  util_strlcpy(f.status, "pending", sizeof(f.status));
  f.uploaded_at = now;
  reply_sheet(r, &c, &f, 200);
}

/* The fact sheet of TEAM_ID in C into F, or replies 404 and returns -1. */
static int sheet_or_reply(struct req *r, const struct challenge *c, int64_t team_id, struct fact_sheet *f)
{
  enum app_status s = db_fact_sheet_get(r->db, c->id, team_id, f);
  if (s == APP_OK)
    return 0;
  http_reply_error(r, s, s == APP_NOT_FOUND ? "no method description yet" : "could not read the method description");
  return -1;
}

/* Serves F's file as an attachment named after the challenge and the team. */
static void send_sheet(struct req *r, const struct challenge *c, int64_t team_id, const struct fact_sheet *f)
{
  char path[APP_PATH_MAX], extra[256];
  int pdf = strcmp(f->kind, "pdf") == 0;
  if (store_submission_path(f->sha256, path, sizeof(path)) != 0) {
    http_reply_error(r, APP_INTERNAL, "could not read the method description");
    return;
  }
  snprintf(extra, sizeof(extra), "Content-Disposition: attachment; filename=\"%s-team%lld-method.%s\"\r\n", c->slug,
           (long long)team_id, pdf ? "pdf" : "md");
  http_reply_file(r, path, pdf ? "application/pdf" : "text/markdown; charset=utf-8", extra);
}

/* The challenge of the route into C, the caller's team into *TEAM_ID and its fact sheet into F; or replies (404
 * when there is none yet) and returns -1. */
static int my_sheet_or_reply(struct req *r, struct challenge *c, int64_t *team_id, struct fact_sheet *f)
{
  struct team t;
  if (challenge_or_reply(r, c) != 0 || !terms_accepted_or_reply(r, c) || asked_or_reply(r, c) != 0)
    return -1;
  if (db_team_of_user(r->db, c->id, r->user.id, 0, 0, &t) != 1) {
    http_reply_error(r, APP_NOT_FOUND, "no method description yet");
    return -1;
  }
  *team_id = t.id;
  return sheet_or_reply(r, c, t.id, f);
}

/* GET /api/v1/challenges/{slug}/fact-sheet: the caller's team's, with the jury's verdict. */
void h_fact_sheet_get(struct req *r)
{
  struct challenge c;
  struct fact_sheet f;
  int64_t team_id = 0;
  if (my_sheet_or_reply(r, &c, &team_id, &f) == 0)
    reply_sheet(r, &c, &f, 200);
}

/* GET /api/v1/challenges/{slug}/fact-sheet/file: the caller's team's file. */
void h_fact_sheet_file(struct req *r)
{
  struct challenge c;
  struct fact_sheet f;
  int64_t team_id = 0;
  if (my_sheet_or_reply(r, &c, &team_id, &f) == 0)
    send_sheet(r, &c, team_id, &f);
}

/* The team of the route's second parameter into *ID, or replies 404 and returns -1. */
static int team_param_or_reply(struct req *r, int64_t *id)
{
  long long v = 0;
  if (util_parse_ll(r->param[1], 1, INT64_MAX, &v) != 0) {
    http_reply_error(r, APP_NOT_FOUND, "no such team");
    return -1;
  }
  *id = v;
  return 0;
}

/* GET /api/v1/challenges/{slug}/teams/{team_id}/fact-sheet/file (jury and organizers). */
void h_fact_sheet_staff_file(struct req *r)
{
  struct challenge c;
  struct fact_sheet f;
  int64_t team_id = 0;
  if (challenge_or_reply(r, &c) != 0 || team_param_or_reply(r, &team_id) != 0 ||
      sheet_or_reply(r, &c, team_id, &f) != 0)
    return;
  send_sheet(r, &c, team_id, &f);
}

static void review(struct req *r, int accept)
{
  struct challenge c;
  struct fact_sheet f;
  int64_t team_id = 0;
  const char *reason = http_reason_or_reply(r);
  if (reason == NULL || challenge_or_reply(r, &c) != 0 || team_param_or_reply(r, &team_id) != 0)
    return;
  if (c.published_at != 0) {
    http_reply_error(r, APP_PUBLISHED, "the ranking of this challenge is published and frozen");
    return;
  }
  enum app_status s = db_fact_sheet_review(r->db, &c, team_id, accept, &r->user, reason, app_now());
  if (s != APP_OK) {
    http_reply_error(r, s, s == APP_NOT_FOUND ? "no method description yet" : "could not record the verdict");
    return;
  }
  if (sheet_or_reply(r, &c, team_id, &f) == 0)
    reply_sheet(r, &c, &f, 200);
}

/* POST /api/v1/challenges/{slug}/teams/{team_id}/fact-sheet/accept {"reason"} (jury). */
void h_fact_sheet_accept(struct req *r)
{
  review(r, 1);
}

/* POST /api/v1/challenges/{slug}/teams/{team_id}/fact-sheet/refuse {"reason"} (jury): the team sees the reason
 * and may send a new one. */
void h_fact_sheet_refuse(struct req *r)
{
  review(r, 0);
}
