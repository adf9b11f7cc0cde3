/* http.c: replies (JSON, errors, empty) with the security headers, and request accessors. */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "util.h"

const char *const http_security_headers =
  "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'\r\n"
  "X-Content-Type-Options: nosniff\r\n"
  "Referrer-Policy: same-origin\r\n"
  "X-Frame-Options: DENY\r\n"
  "Cross-Origin-Opener-Policy: same-origin";

const char *http_reason_phrase(int status)
{
  switch (status) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 204:
    return "No Content";
  case 304:
    return "Not Modified";
  case 206:
    return "Partial Content";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 413:
    return "Payload Too Large";
  case 415:
    return "Unsupported Media Type";
  case 416:
    return "Range Not Satisfiable";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  case 507:
    return "Insufficient Storage";
  default:
    return status >= 500 ? "Internal Server Error" : "Error";
  }
}

void http_client_address(const struct req *r, char *out, size_t n)
{
  util_strlcpy(out, r->ri->remote_addr, n);
  if (r->cfg == NULL || r->cfg->trusted_proxy[0] == '\0' || strcmp(r->ri->remote_addr, r->cfg->trusted_proxy) != 0)
    return;
  const char *xff = http_header(r, "X-Forwarded-For");
  if (xff == NULL)
    return;
  const char *last = strrchr(xff, ',');
  last = last != NULL ? last + 1 : xff;
  while (*last == ' ')
    last++;
  size_t len = strcspn(last, " \t");
  /* an address: digits, hex, '.', ':' only, so a forged value cannot carry anything else into the database */
  if (len == 0 || len >= n || len > 45 || strspn(last, "0123456789abcdefABCDEF.:") < len)
    return;
  memcpy(out, last, len);
  out[len] = '\0';
}

int http_ambiguous_framing(const struct mg_request_info *ri)
{
  int lengths = 0, encodings = 0;
  for (int i = 0; i < ri->num_headers; i++) {
    const char *name = ri->http_headers[i].name;
    if (strcasecmp(name, "Content-Length") == 0)
      lengths++;
    else if (strcasecmp(name, "Transfer-Encoding") == 0)
      encodings++;
  }
  return lengths > 1 || encodings > 1 || (lengths > 0 && encodings > 0);
}

#define HEAD_FORMAT                                                                                                    \
  "HTTP/1.1 %d %s\r\n"                                                                                                 \
  "Content-Type: %s\r\n"                                                                                               \
  "%s\r\n"                                                                                                             \
  "Cache-Control: no-store\r\n"                                                                                        \
  "%s\r\n"                                                                                                             \
  "%s"                                                                                                                 \
  "\r\n"
#define COALESCE_MAX (64 * 1024) /* a body up to this size goes out in the same write as its head */

/* The head of the one reply to R (status, type, FRAMING: "Content-Length: N" or "Transfer-Encoding: chunked", the
 * security headers and EXTRA), then BODY[0..LEN) when given: one write for both when the body is small (two cost a
 * second system call and, with TCP_NODELAY, a second packet on every small reply). 0, or -1 when R was already
 * answered. */
static int head(struct req *r, int status, const char *ctype, const char *framing, const char *extra, const char *body,
                size_t len)
{
  if (r->replied)
    return -1;
  r->replied = 1;
  const char *reason = http_reason_phrase(status), *more = extra != NULL ? extra : "";
  int n = snprintf(NULL, 0, HEAD_FORMAT, status, reason, ctype, framing, http_security_headers, more);
  char *buf = n > 0 ? malloc((size_t)n + 1 + (len <= COALESCE_MAX ? len : 0)) : NULL;
  if (buf == NULL) { /* out of memory: the head alone, as CivetWeb formats it */
    mg_printf(r->conn, HEAD_FORMAT, status, reason, ctype, framing, http_security_headers, more);
    if (len > 0)
      mg_write(r->conn, body, len);
    return 0;
  }
  snprintf(buf, (size_t)n + 1, HEAD_FORMAT, status, reason, ctype, framing, http_security_headers, more);
  size_t total = (size_t)n;
  if (len > 0 && len <= COALESCE_MAX) {
    memcpy(buf + total, body, len);
    total += len;
  }
  mg_write(r->conn, buf, total);
  if (len > COALESCE_MAX)
    mg_write(r->conn, body, len);
  free(buf);
  return 0;
}

static void send(struct req *r, int status, const char *ctype, const char *body, size_t len, const char *extra)
{
  char framing[48];
  snprintf(framing, sizeof(framing), "Content-Length: %zu", len);
  int with_body = len > 0 && strcmp(r->ri->request_method, "HEAD") != 0;
  head(r, status, ctype, framing, extra, with_body ? body : NULL, with_body ? len : 0);
}

void http_reply_bytes(struct req *r, int status, const char *ctype, const char *body, size_t len, const char *extra)
{
  send(r, status, ctype, body, len, extra);
}

void http_stream_begin(struct req *r, int status, const char *ctype, const char *extra)
{
  head(r, status, ctype, "Transfer-Encoding: chunked", extra, NULL, 0);
}

int http_stream_write(struct req *r, const char *data, size_t len)
{
  char head[24];
  if (len == 0 || strcmp(r->ri->request_method, "HEAD") == 0)
    return 0;
  int n = snprintf(head, sizeof(head), "%zx\r\n", len);
  if (mg_write(r->conn, head, (size_t)n) <= 0 || mg_write(r->conn, data, len) <= 0 || mg_write(r->conn, "\r\n", 2) <= 0)
    return -1;
  return 0;
}

void http_stream_end(struct req *r)
{
  if (strcmp(r->ri->request_method, "HEAD") != 0)
    mg_write(r->conn, "0\r\n\r\n", 5);
}

void http_stream_abort(struct req *r)
{
  if (strcmp(r->ri->request_method, "HEAD") != 0)
    mg_write(r->conn, "X\r\n", 3);
}

const char *http_reason_or_reply(struct req *r)
{
  const char *reason = json_string_value(json_object_get(r->body, "reason"));
  if (reason == NULL || reason[0] == '\0' || strlen(reason) > 1000) {
    http_reply_error(r, APP_MISSING_FIELD, "every action needs a \"reason\" of 1 to 1000 characters");
    return NULL;
  }
  return reason;
}

void http_reply_json_headers(struct req *r, int status, json_t *body, const char *extra)
{
  char *text = NULL;
  if (body != NULL)
    text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
  json_decref(body);
  if (text == NULL) {
    static const char fallback[] = "{\"error\":{\"code\":\"internal_error\",\"message\":\"out of memory\"}}";
    send(r, 500, "application/json", fallback, sizeof(fallback) - 1, NULL);
    return;
  }
  send(r, status, "application/json", text, strlen(text), extra);
  free(text);
}

void http_reply_json(struct req *r, int status, json_t *body)
{
  http_reply_json_headers(r, status, body, NULL);
}

enum i18n_lang http_lang(const struct req *r)
{
  return i18n_pick(mg_get_header(r->conn, "Accept-Language"));
}

void http_reply_error_headers(struct req *r, int status, const char *code, const char *msg, const char *extra)
{
  char text[1024];
  i18n_text(http_lang(r), msg, text, sizeof(text));
  http_reply_json_headers(r, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", text), extra);
}

/* Translates the "message" of O's "error" object in place. */
static void translate_error(json_t *o, enum i18n_lang lang)
{
  json_t *err = json_object_get(o, "error");
  const char *m = json_string_value(json_object_get(err, "message"));
  if (m == NULL)
    return;
  char *text = malloc(HTTP_MESSAGE_MAX);
  if (text == NULL)
    return;
  i18n_text(lang, m, text, HTTP_MESSAGE_MAX);
  json_object_set_new(err, "message", json_string(text));
  free(text);
}

void http_translate_errors(const struct req *r, json_t *v)
{
  enum i18n_lang lang = http_lang(r);
  size_t i;
  json_t *o;
  if (lang == I18N_EN)
    return;
  if (json_is_array(v))
    json_array_foreach(v, i, o) translate_error(o, lang);
  else
    translate_error(v, lang);
}

void http_reply_error(struct req *r, enum app_status s, const char *fmt, ...)
{
  char msg[1024];
  enum i18n_lang lang = http_lang(r);
  va_list ap;
  va_start(ap, fmt);
  if (i18n_has(fmt) || lang == I18N_EN) {
    vsnprintf(msg, sizeof(msg), i18n_format(lang, fmt), ap);
  } else { /* a message made elsewhere ("%s"), or one the catalogue lacks: matched once written */
    char en[1024];
    vsnprintf(en, sizeof(en), fmt, ap);
    i18n_text(lang, en, msg, sizeof(msg));
  }
  va_end(ap);
  const char *extra = s == APP_RATE_LIMITED ? "Retry-After: 900\r\n" : NULL;
  /* A fault of a request that wrote while the disk is full is that, not a bug: an upload (any change) gets 507;
   * a read or a login, which should keep working, gets 503 with a time to come back. */
  if (s == APP_INTERNAL && (sqlite3_errcode(r->db) == SQLITE_FULL || store_disk_full())) {
    const char *m = r->ri->request_method;
    int reading = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(r->ri->local_uri, "/api/v1/sessions") == 0;
    if (reading) {
      http_reply_error_headers(r, 503, "storage_full", "the server's disk is full: try again later",
                               "Retry-After: 60\r\n");
      return;
    }
    s = APP_NO_SPACE;
    i18n_text(lang, "the server's disk is full: nothing was stored; try again later", msg, sizeof(msg));
  }
  http_reply_json_headers(r, app_status_http(s),
                          json_pack("{s:{s:s,s:s}}", "error", "code", app_status_code(s), "message", msg), extra);
}

void http_reply_message(struct req *r, int status, const char *text)
{
  http_reply_json(r, status, json_pack("{s:s}", "message", i18n_format(http_lang(r), text)));
}

void http_reply_empty(struct req *r, int status, const char *extra)
{
  send(r, status, "application/json", "", 0, extra);
}

const char *http_header(const struct req *r, const char *name)
{
  return mg_get_header(r->conn, name);
}

int http_query(const struct req *r, const char *name, char *out, size_t n)
{
  const char *qs = r->ri->query_string;
  if (qs == NULL)
    return -1;
  int len = mg_get_var(qs, strlen(qs), name, out, n);
  if (len == -1)
    return -1;
  if (len < 0)
    return -2;
  return len;
}

/* http_reply_file()'s bodies: a pread and a write per 256 KiB (in L2; 64 KiB cost about 10 % more CPU per GiB).
 * Not sendfile(): CivetWeb gives a handler no socket, and its mg_send_file() falls back to 8 KiB copies on its
 * non-blocking sockets (3x the CPU per GiB when measured). scripts/bench/download.py compares with nginx. */
#define HTTP_FILE_CHUNK (256 * 1024)

/* Parses a single byte range of a file of SIZE bytes. 1: a satisfiable range [*START, *END]; 0: ignore the header
 * (absent, malformed, several ranges); -1: unsatisfiable (416). */
static int parse_range(const char *h, long long size, long long *start, long long *end)
{
  char *e = NULL;
  if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
    return 0;
  const char *p = h + 6;
  if (*p == '-') { /* the last N bytes */
    errno = 0;
    long long n = strtoll(p + 1, &e, 10);
    if (errno != 0 || e == p + 1 || *e != '\0' || n < 0)
      return 0;
    if (n == 0 || size == 0)
      return -1;
    *start = n >= size ? 0 : size - n;
    *end = size - 1;
    return 1;
  }
  errno = 0;
  long long a = strtoll(p, &e, 10);
  if (errno != 0 || e == p || *e != '-' || a < 0)
    return 0;
  const char *q = e + 1;
  long long b = size - 1;
  if (*q != '\0') {
    b = strtoll(q, &e, 10);
    if (errno != 0 || e == q || *e != '\0' || b < a)
      return 0;
  }
  if (a >= size)
    return -1;
  *start = a;
  *end = b >= size ? size - 1 : b;
  return 1;
}

void http_reply_file(struct req *r, const char *path, const char *ctype, const char *extra)
{
  struct stat st;
  char head[128];
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0)
      close(fd);
    http_reply_error(r, APP_NOT_FOUND, "no such file");
    return;
  }
  long long size = st.st_size, start = 0, end = size - 1;
  int range = parse_range(http_header(r, "Range"), size, &start, &end);
  if (range < 0) {
    snprintf(head, sizeof(head), "Content-Range: bytes */%lld\r\n", size);
    close(fd);
    http_reply_error_headers(r, 416, "range_not_satisfiable", "the range lies outside the file", head);
    return;
  }
  long long len = size == 0 ? 0 : end - start + 1;
  int status = range == 1 ? 206 : 200;
  char crange[128] = "";
  if (range == 1)
    snprintf(crange, sizeof(crange), "Content-Range: bytes %lld-%lld/%lld\r\n", start, end, size);
  r->replied = 1;
  mg_printf(r->conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %lld\r\nAccept-Ranges: bytes\r\n"
            "Cache-Control: private, no-store\r\n%s%s\r\n%s\r\n",
            status, http_reason_phrase(status), ctype, len, crange, http_security_headers, extra != NULL ? extra : "");
  /* on the heap: CivetWeb's worker threads have 100 KiB stacks */
  char *buf = strcmp(r->ri->request_method, "HEAD") != 0 ? malloc(HTTP_FILE_CHUNK) : NULL;
  if (buf != NULL) {
    long long off = start, left = len;
    while (left > 0) {
      ssize_t n = pread(fd, buf, left < HTTP_FILE_CHUNK ? (size_t)left : HTTP_FILE_CHUNK, off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || mg_write(r->conn, buf, (size_t)n) <= 0)
        break; /* the client went away, or the file shrank: the connection is closed by the short body */
      off += n;
      left -= n;
    }
  }
  free(buf);
  close(fd);
}
