/* http.h: the request context handlers receive, and the only ways they reply. Every reply carries the
 * security headers; every error is the app_status's HTTP status and {"error":{"code","message"}}.
 * A handler must reply exactly once (the _or_reply helpers say so in their name when they do). */
#ifndef CONCOURS_HTTP_H
#define CONCOURS_HTTP_H

#include <civetweb.h>
#include <jansson.h>
#include <sqlite3.h>

#include "app.h"
#include "auth.h"
#include "db.h"
#include "i18n.h"

#define HTTP_MAX_SEGMENTS 12
#define HTTP_SEGMENT_MAX 256
#define HTTP_JSON_MAX (64 * 1024)
#define HTTP_JSON_DEPTH 16

/* The headers every response carries (also given to CivetWeb for the static files it serves). */
extern const char *const http_security_headers;

struct req {
  struct mg_connection *conn;
  const struct mg_request_info *ri;
  const struct app_config *cfg;
  sqlite3 *db;                     /* a pooled connection held for the request */
  char param[2][HTTP_SEGMENT_MAX]; /* the route's {} captures, decoded; {*} joins the rest with '/' */
  struct user user;                /* valid when authenticated */
  int authenticated;
  int via_cookie;
  char token_scope[8]; /* authenticated by an API token: "read" or "submit" */
  char session_hash[65];
  char csrf[AUTH_TOKEN_MAX];
  json_t *body;                 /* parsed JSON object for routes that take one, else NULL */
  int has_challenge_role;       /* the user is staff of the challenge this request is about (routes.c) */
  enum app_role challenge_role; /* then: ROLE_ORGANIZER or ROLE_JURY, besides the server-wide user.role */
  int replied;
};

/* Replies STATUS with BODY (a reference this function steals) as JSON. */
void http_reply_json(struct req *r, int status, json_t *body);
/* The language the request asks for (its Accept-Language; the pages send the one the reader chose). */
enum i18n_lang http_lang(const struct req *r);
/* The longest message a stored error may hold once translated (queue.c keeps 4 KiB of English). */
#define HTTP_MESSAGE_MAX 8192
/* Translates, for the request's language, the "error"."message" of the submission object V, or of each object of
 * the array V (stored scorer messages, written in English). */
void http_translate_errors(const struct req *r, json_t *v);
/* Replies the error S with a message (printf-style), in the request's language (i18n.h): FMT is looked up in the
 * catalogue, or the written message is. */
void http_reply_error(struct req *r, enum app_status s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Replies an error with an explicit STATUS and CODE (for statuses outside app_status) and extra header lines; MSG
 * is translated like a written message (i18n_text). */
void http_reply_error_headers(struct req *r, int status, const char *code, const char *msg, const char *extra);
/* Replies STATUS with {"message": TEXT}, TEXT (a catalogue key) in the request's language. */
void http_reply_message(struct req *r, int status, const char *text);
/* Replies STATUS with no body (204), with optional EXTRA header lines ("Name: value\r\n...", or NULL). */
void http_reply_empty(struct req *r, int status, const char *extra);
/* Replies STATUS with BODY (steals) and extra header lines (e.g. Set-Cookie). */
void http_reply_json_headers(struct req *r, int status, json_t *body, const char *extra);

/* Replies STATUS with LEN bytes of BODY of content type CTYPE and extra header lines (or NULL). */
void http_reply_bytes(struct req *r, int status, const char *ctype, const char *body, size_t len, const char *extra);
/* A reply of unknown length, streamed in chunks (Transfer-Encoding: chunked): the head (EXTRA: more header lines,
 * each ending in CRLF, or NULL), any number of http_stream_write() calls, then http_stream_end(). A HEAD request gets
 * the head only. http_stream_write() returns 0, or -1 once the client is gone (the caller stops producing).
 * http_stream_abort() instead of the end sends a malformed chunk: the client sees an incomplete reply, never a
 * truncated one that looks whole. */
void http_stream_begin(struct req *r, int status, const char *ctype, const char *extra);
int http_stream_write(struct req *r, const char *data, size_t len);
void http_stream_end(struct req *r);
void http_stream_abort(struct req *r);

/* The required "reason" of a jury/organizer action (1 to 1000 bytes), or NULL after replying 400. */
const char *http_reason_or_reply(struct req *r);

/* Serves the regular file PATH (never through a symlink) with one optional byte range (RFC 9110: "bytes=a-b",
 * "bytes=a-", "bytes=-n"; 206, or 416 with "Content-Range: bytes *" + "/SIZE" when unsatisfiable; a malformed or
 * multi-range header is ignored and the whole file sent). EXTRA: header lines or NULL. Replies 404 when PATH
 * cannot be opened. */
void http_reply_file(struct req *r, const char *path, const char *ctype, const char *extra);

/* The client's address into OUT (size N): the connection's peer, or, when that peer is the configured trusted
 * proxy (--trusted-proxy), the last address of its X-Forwarded-For (the one nginx appends). Never fails: an
 * unusable header falls back to the peer. */
void http_client_address(const struct req *r, char *out, size_t n);

/* The reason phrase of STATUS ("Not Found"...), "Error" for one it does not know. */
const char *http_reason_phrase(int status);

/* 1 when the request's framing is ambiguous (several Content-Length, or one with Transfer-Encoding): the raw
 * material of request smuggling. Every request is checked, static files included. */
int http_ambiguous_framing(const struct mg_request_info *ri);

/* The value of request header NAME, or NULL. */
const char *http_header(const struct req *r, const char *name);
/* Copies query parameter NAME (URL-decoded) into OUT. Returns its length, -1 when absent, -2 when too long
 * or badly encoded. */
int http_query(const struct req *r, const char *name, char *out, size_t n);

/* CivetWeb request handler for /api/: routes, authenticates, checks, and runs the matching handler. */
int http_api_handler(struct mg_connection *conn, void *cbdata);

#endif
