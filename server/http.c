/* http.c: replies (JSON, errors, empty) with the security headers, and request accessors. */
#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *const http_security_headers =
  "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'\r\n"
  "X-Content-Type-Options: nosniff\r\n"
  "Referrer-Policy: same-origin\r\n"
  "X-Frame-Options: DENY\r\n"
  "Cross-Origin-Opener-Policy: same-origin";

static const char *reason(int status)
{
  switch (status) {
  case 200: return "OK";
  case 201: return "Created";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 409: return "Conflict";
  case 413: return "Payload Too Large";
  case 415: return "Unsupported Media Type";
  case 429: return "Too Many Requests";
  case 507: return "Insufficient Storage";
  default: return status >= 500 ? "Internal Server Error" : "Error";
  }
}

static void send(struct req *r, int status, const char *ctype, const char *body, size_t len, const char *extra)
{
  if (r->replied)
    return;
  r->replied = 1;
  mg_printf(r->conn,
            "HTTP/1.1 %d %s\r\n"
            "Content-Type: %s\r\n"
            "Content-Length: %zu\r\n"
            "Cache-Control: no-store\r\n"
            "%s\r\n"
            "%s"
            "\r\n",
            status, reason(status), ctype, len, http_security_headers, extra != NULL ? extra : "");
  if (len > 0 && strcmp(r->ri->request_method, "HEAD") != 0)
    mg_write(r->conn, body, len);
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

void http_reply_error(struct req *r, enum app_status s, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  const char *extra = s == APP_RATE_LIMITED ? "Retry-After: 900\r\n" : NULL;
  http_reply_json_headers(r, app_status_http(s),
                          json_pack("{s:{s:s,s:s}}", "error", "code", app_status_code(s), "message", msg), extra);
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
