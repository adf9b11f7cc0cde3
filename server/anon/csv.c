/* csv.c: the anon module's streaming RFC 4180 reader and writer.
 *
 * The checker and the pseudonymizer read files that may be larger than memory and that come from outside,
 * so this reader holds one record at a time, caps its length and column count, validates UTF-8, and says
 * where a malformed file breaks (line and column) without quoting any cell value. The writer quotes only
 * what RFC 4180 requires and reports the first write error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <jansson.h>

#include "anon_internal.h"

#define READ_CHUNK 65536

void anon_limits_resolve(const struct anon_limits *lim, struct anon_limits *out)
{
  out->max_record_bytes = ANON_DEFAULT_RECORD_BYTES;
  out->max_columns = ANON_DEFAULT_COLUMNS;
  out->max_rows = ANON_DEFAULT_ROWS;
  if (lim == NULL)
    return;
  if (lim->max_record_bytes > 0)
    out->max_record_bytes = lim->max_record_bytes;
  if (lim->max_columns > 0)
    out->max_columns = lim->max_columns;
  if (lim->max_rows > 0)
    out->max_rows = lim->max_rows;
}

/* Returns the next byte, -1 at end of file, -2 on a read error (errno kept). */
static inline int next_byte(struct anon_csv_reader *r)
{
  ssize_t n;

  if (r->buf_pos < r->buf_len)
    return r->buf[r->buf_pos++];
  if (r->eof)
    return -1;
  if (r->gz != NULL) {
    int z = gzread((gzFile)r->gz, r->buf, READ_CHUNK);

    if (z < 0)
      errno = EIO; /* a corrupt or truncated stream */
    n = z;
  } else {
    do {
      n = read(r->fd, r->buf, READ_CHUNK);
    } while (n < 0 && errno == EINTR);
  }
  if (n < 0)
    return -2;
  if (n == 0) {
    r->eof = 1;
    return -1;
  }
  r->bytes += (unsigned long long)n;
  r->buf_len = (size_t)n;
  r->buf_pos = 1;
  return r->buf[0];
}

size_t anon_utf8_valid_prefix(const unsigned char *s, size_t len)
{
  size_t i = 0;

  while (i < len) {
    unsigned char c = s[i];
    size_t need;
    uint64_t w;

    if (i + 8 <= len) { /* eight ASCII bytes, none of them NUL, at a time */
      memcpy(&w, s + i, 8);
      if (((w | ((w - 0x0101010101010101ULL) & ~w)) & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned cp, min;

    if (c >= 0x01 && c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
      cp = c & 0x1F;
      min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      cp = c & 0x0F;
      min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      cp = c & 0x07;
      min = 0x10000;
    } else {
      return i;
    }
    if (len - i <= need)
      return i;
    for (size_t j = 1; j <= need; j++) {
      if ((s[i + j] & 0xC0) != 0x80)
        return i;
      cp = (cp << 6) | (s[i + j] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += need + 1;
  }
  return len;
}

void anon_errf(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  size_t len, i = 0;

  if (err == NULL || errlen == 0)
    return;
  va_start(ap, fmt);
  (void)vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  /* Messages end up in terminals and JSON: no control bytes, and valid UTF-8 even where a name or the
       buffer's end cut a character. */
  len = strlen(err);
  while (i < len) {
    i += anon_utf8_valid_prefix((const unsigned char *)err + i, len - i);
    if (i < len)
      err[i++] = '?';
  }
  for (i = 0; i < len; i++) {
    if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
      err[i] = '?';
  }
}

static const char *column_name(const struct anon_csv_reader *r, size_t col)
{
  if (r->header != NULL && col < r->n_header)
    return r->header + r->header_off[col];
  return "";
}

/* Fills err with "PATH: line L, column C ("name"): what", column C being 1-based. */
static void where_err(const struct anon_csv_reader *r, unsigned long long line, size_t col, char *err, size_t errlen,
                      const char *what)
{
  const char *name = column_name(r, col);

  if (name[0] != '\0')
    anon_errf(err, errlen, "%s: line %llu, column %zu (\"%.64s\"): %s", r->path, line, col + 1, name, what);
  else
    anon_errf(err, errlen, "%s: line %llu, column %zu: %s", r->path, line, col + 1, what);
}

/* Closes the field that started at rec offset start: NUL-terminates it, checks the column cap and UTF-8. */
static int end_field(struct anon_csv_reader *r, size_t start, char *err, size_t errlen)
{
  size_t len = r->rec_len - start;

  if (r->n_fields >= r->lim.max_columns) {
    anon_errf(err, errlen, "%s: line %llu: more than %zu columns", r->path, r->line, r->lim.max_columns);
    return -1;
  }
  if (anon_utf8_valid_prefix((const unsigned char *)r->rec + start, len) != len) {
    where_err(r, r->line, r->n_fields, err, errlen, "invalid UTF-8 or NUL byte (the file must be UTF-8 text)");
    return -1;
  }
  r->field_off[r->n_fields] = start;
  r->field_len[r->n_fields] = len;
  r->n_fields++;
  r->rec[r->rec_len++] = '\0';
  return 0;
}

enum { ST_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTE_IN_QUOTED };

/* Bytes that end a run of plain content inside quotes (outside quotes: r->stop_unquoted, which has the
   delimiter). */
static const unsigned char stop_quoted[256] = {['\n'] = 1, ['"'] = 1};

/* Copies the run of plain content at the read position into the record, within the record cap. */
static void copy_run(struct anon_csv_reader *r, const unsigned char *stop)
{
  size_t room = r->lim.max_record_bytes - (r->rec_len - r->n_fields);
  size_t p = r->buf_pos, end = r->buf_len, n;

  if (end - p > room)
    end = p + room;
  while (p < end && !stop[r->buf[p]])
    p++;
  n = p - r->buf_pos;
  memcpy(r->rec + r->rec_len, r->buf + r->buf_pos, n);
  r->rec_len += n;
  r->buf_pos = p;
}

/* Ends the current field at c, a ',' (returns 0: the record goes on) or a '\n' (returns 1: the record is
   complete). Returns -1 on error. */
static int delimiter(struct anon_csv_reader *r, int c, size_t *start, char *err, size_t errlen)
{
  if (end_field(r, *start, err, errlen) != 0)
    return -1;
  *start = r->rec_len;
  if (c == r->spec.delim)
    return 0;
  r->next_line++;
  return 1;
}

/* Reads one record into r. Returns 1, 0 at end of file, -1 on error. */
static int read_record(struct anon_csv_reader *r, char *err, size_t errlen)
{
  int state = ST_START;
  size_t start = 0;
  unsigned long long quote_line = 0;

  r->n_fields = 0;
  r->rec_len = 0;
  r->line = r->next_line;
  for (;;) {
    int c;

    if (state == ST_UNQUOTED)
      copy_run(r, r->stop_unquoted);
    else if (state == ST_QUOTED)
      copy_run(r, stop_quoted);
    c = next_byte(r);

    if (c == -2) {
      anon_errf(err, errlen, "%s: read error: %s", r->path, strerror(errno));
      return -1;
    }
    if (c == -1) {
      if (state == ST_QUOTED) {
        where_err(r, quote_line, r->n_fields, err, errlen, "quoted field never closed");
        return -1;
      }
      if (state == ST_START && r->n_fields == 0)
        return 0;
      return end_field(r, start, err, errlen) == 0 ? 1 : -1;
    }
    if (c == '\r' && state != ST_QUOTED) {
      int d = next_byte(r);

      if (d != '\n') {
        where_err(r, r->next_line, r->n_fields, err, errlen, "carriage return not followed by a line feed");
        return -1;
      }
      c = '\n';
    }
    if (c == '\n' && state == ST_START && r->n_fields == 0) { /* blank line: skipped */
      r->next_line++;
      r->line = r->next_line;
      continue;
    }
    if ((c == r->spec.delim || c == '\n') && state != ST_QUOTED) {
      int d = delimiter(r, c, &start, err, errlen);

      if (d != 0)
        return d;
      state = ST_START;
      continue;
    }
    switch (state) {
    case ST_START:
      if (c == '"') {
        state = ST_QUOTED;
        quote_line = r->next_line;
        continue;
      }
      state = ST_UNQUOTED;
      break;
    case ST_UNQUOTED:
      if (c == '"') {
        where_err(r, r->next_line, r->n_fields, err, errlen,
                  "quote inside an unquoted field (quote the whole field and double the quote)");
        return -1;
      }
      break;
    case ST_QUOTED:
      if (c == '"') {
        state = ST_QUOTE_IN_QUOTED;
        continue;
      }
      if (c == '\n')
        r->next_line++;
      break;
    default: /* ST_QUOTE_IN_QUOTED: a doubled quote, else the field should have ended */
      if (c == '"') {
        state = ST_QUOTED;
        break;
      }
      where_err(r, r->next_line, r->n_fields, err, errlen, "character after a closing quote");
      return -1;
    }
    if (r->rec_len - r->n_fields >= r->lim.max_record_bytes) { /* rec_len counts one NUL per field */
      anon_errf(err, errlen, "%s: line %llu: record longer than %zu bytes", r->path, r->line, r->lim.max_record_bytes);
      return -1;
    }
    r->rec[r->rec_len++] = (char)c;
  }
}

/* Reads one line (LF or CRLF ended, or the last one) into r->lbuf, NUL-terminated, blank lines skipped.
   Returns its length + 1 (so an empty result is impossible), 0 at end of file, -1 with err filled. */
static long read_line(struct anon_csv_reader *r, char *err, size_t errlen)
{
  size_t n = 0;

  for (;;) {
    int c = next_byte(r);

    if (c == -2) {
      anon_errf(err, errlen, "%s: read error: %s", r->path, strerror(errno));
      return -1;
    }
    if (c == -1 || c == '\n') {
      if (n > 0 && r->lbuf[n - 1] == '\r')
        n--;
      if (c == -1 && n == 0)
        return 0;
      r->lbuf[n] = '\0';
      if (n == 0) { /* a blank line */
        r->next_line++;
        continue;
      }
      r->lbuf_len = n;
      r->line = r->next_line++;
      if (anon_utf8_valid_prefix((const unsigned char *)r->lbuf, n) != n) {
        anon_errf(err, errlen, "%s: line %llu: invalid UTF-8 or NUL byte (the file must be UTF-8 text)", r->path,
                  r->line);
        return -1;
      }
      return (long)n + 1;
    }
    if (n + 1 >= r->lbuf_cap) {
      anon_errf(err, errlen, "%s: line %llu: longer than %zu bytes", r->path, r->next_line, r->lim.max_record_bytes);
      return -1;
    }
    r->lbuf[n++] = (char)c;
  }
}

/* Appends s[0..len) to the record as one field. */
static void put_field(struct anon_csv_reader *r, const char *s, size_t len)
{
  r->field_off[r->n_fields] = r->rec_len;
  r->field_len[r->n_fields] = len;
  memcpy(r->rec + r->rec_len, s, len);
  r->rec_len += len;
  r->rec[r->rec_len++] = '\0';
  r->n_fields++;
}

/* The text of a JSON value as a cell: strings as they are, null as empty, anything else in compact JSON.
   Writes into out (outlen bytes); returns the length, or (size_t)-1 when it does not fit. */
static size_t json_cell(const json_t *v, char *out, size_t outlen)
{
  if (json_is_string(v)) {
    size_t n = json_string_length(v);

    if (n >= outlen)
      return (size_t)-1;
    memcpy(out, json_string_value(v), n);
    return n;
  }
  if (json_is_null(v))
    return 0;
  return json_dumpb(v, out, outlen, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Parses r->lbuf as a JSON object into the record: the header's columns, then "(other keys)". */
static int jsonl_record(struct anon_csv_reader *r, char *err, size_t errlen)
{
  json_error_t jerr;
  json_t *o = json_loadb(r->lbuf, r->lbuf_len, 0, &jerr);
  size_t room = r->lim.max_record_bytes, other = 0;
  const char *key;
  json_t *v;
  int rc = -1;

  r->n_fields = 0;
  r->rec_len = 0;
  if (!json_is_object(o)) {
    anon_errf(err, errlen, "%s: line %llu: not a JSON object (%s)", r->path, r->line,
              o == NULL ? jerr.text : "another JSON value");
    goto out;
  }
  for (size_t i = 0; i + 1 < r->n_header; i++) {
    size_t n = json_cell(json_object_get(o, anon_csv_header(r, i)), r->rec + r->rec_len, room);

    if (n == (size_t)-1 || n + 1 > room)
      goto too_long;
    r->field_off[r->n_fields] = r->rec_len;
    r->field_len[r->n_fields++] = n;
    r->rec_len += n;
    r->rec[r->rec_len++] = '\0';
    room -= n + 1;
  }
  r->field_off[r->n_fields] = r->rec_len;
  json_object_foreach(o, key, v)
  {
    size_t klen = strlen(key), n;

    if (anon_csv_column(r, key) >= 0 && strcmp(key, "(other keys)") != 0)
      continue;
    if (klen + 3 > room)
      goto too_long;
    if (other > 0)
      r->rec[r->rec_len + other++] = ' ';
    memcpy(r->rec + r->rec_len + other, key, klen);
    other += klen;
    r->rec[r->rec_len + other++] = '=';
    n = json_cell(v, r->rec + r->rec_len + other, room - other - 1);
    if (n == (size_t)-1)
      goto too_long;
    other += n;
  }
  if (other + 1 > room)
    goto too_long;
  r->field_len[r->n_fields++] = other;
  r->rec_len += other;
  r->rec[r->rec_len++] = '\0';
  rc = 0;
  goto out;
too_long:
  anon_errf(err, errlen, "%s: line %llu: record longer than %zu bytes", r->path, r->line, r->lim.max_record_bytes);
out:
  json_decref(o);
  return rc;
}

/* Reads the next record of a TEXT or JSONL table. Returns 1, 0 at end of file, -1 with err filled. */
static int read_line_record(struct anon_csv_reader *r, char *err, size_t errlen)
{
  long n;

  if (r->pending) { /* JSONL: the first object gave the header, and is the first record too */
    r->pending = 0;
    return jsonl_record(r, err, errlen) == 0 ? 1 : -1;
  }
  n = read_line(r, err, errlen);
  if (n <= 0)
    return (int)n;
  r->rec_len = 0;
  r->n_fields = 0;
  r->lbuf_len = (size_t)n - 1;
  if (r->spec.kind == ANON_TABLE_TEXT) {
    put_field(r, r->lbuf, r->lbuf_len);
    return 1;
  }
  return jsonl_record(r, err, errlen) == 0 ? 1 : -1;
}

/* The header of a JSONL table: the first object's keys, then "(other keys)". */
static int jsonl_header(struct anon_csv_reader *r, char *err, size_t errlen)
{
  json_error_t jerr;
  json_t *o;
  const char *key;
  json_t *v;
  long n = read_line(r, err, errlen);
  int rc = -1;

  if (n == 0)
    anon_errf(err, errlen, "%s: empty file (a first JSON object is required)", r->path);
  if (n <= 0)
    return -1;
  r->lbuf_len = (size_t)n - 1;
  o = json_loadb(r->lbuf, r->lbuf_len, 0, &jerr);
  if (!json_is_object(o)) {
    anon_errf(err, errlen, "%s: line %llu: not a JSON object (%s)", r->path, r->line,
              o == NULL ? jerr.text : "another JSON value");
    goto out;
  }
  r->rec_len = 0;
  r->n_fields = 0;
  json_object_foreach(o, key, v)
  {
    size_t klen = strlen(key);

    if (r->n_fields + 1 >= r->lim.max_columns || r->rec_len + klen + 16 > r->lim.max_record_bytes) {
      anon_errf(err, errlen, "%s: line %llu: more than %zu keys", r->path, r->line, r->lim.max_columns);
      goto out;
    }
    put_field(r, key, klen);
  }
  put_field(r, "(other keys)", strlen("(other keys)"));
  r->pending = 1;
  rc = 0;
out:
  json_decref(o);
  return rc;
}

/* Reads the header record of r, by kind. Returns 0 or -1 with err filled. */
static int read_header(struct anon_csv_reader *r, char *err, size_t errlen)
{
  if (r->spec.kind == ANON_TABLE_TEXT) {
    r->rec_len = 0;
    r->n_fields = 0;
    put_field(r, "text", 4);
    return 0;
  }
  if (r->spec.kind == ANON_TABLE_JSONL)
    return jsonl_header(r, err, errlen);
  switch (read_record(r, err, errlen)) {
  case 1:
    return 0;
  case 0:
    anon_errf(err, errlen, "%s: empty file (a header row is required)", r->path);
    return -1;
  default:
    return -1;
  }
}

int anon_csv_open(struct anon_csv_reader *r, const char *path, const struct anon_limits *lim, char *err, size_t errlen)
{
  return anon_table_open(r, path, NULL, lim, err, errlen);
}

int anon_table_open(struct anon_csv_reader *r, const char *path, const struct anon_table_spec *spec,
                    const struct anon_limits *lim, char *err, size_t errlen)
{
  struct stat st;
  int c0, rc = -1;

  memset(r, 0, sizeof(*r));
  r->fd = -1;
  if (spec != NULL)
    r->spec = *spec;
  if (r->spec.delim == 0)
    r->spec.delim = ',';
  r->stop_unquoted[r->spec.delim] = r->stop_unquoted['\n'] = r->stop_unquoted['\r'] = r->stop_unquoted['"'] = 1;
  anon_limits_resolve(lim, &r->lim);
  r->next_line = 1;
  r->path = strdup(r->spec.name != NULL ? r->spec.name : path);
  r->buf = malloc(READ_CHUNK);
  r->rec_cap = r->lim.max_record_bytes + r->lim.max_columns + 1;
  r->rec = malloc(r->rec_cap);
  r->field_off = calloc(r->lim.max_columns, sizeof(*r->field_off));
  r->field_len = calloc(r->lim.max_columns, sizeof(*r->field_len));
  if (r->spec.kind != ANON_TABLE_CSV) {
    r->lbuf_cap = r->lim.max_record_bytes + 2;
    r->lbuf = malloc(r->lbuf_cap);
  }
  if (r->path == NULL || r->buf == NULL || r->rec == NULL || r->field_off == NULL || r->field_len == NULL ||
      (r->spec.kind != ANON_TABLE_CSV && r->lbuf == NULL)) {
    anon_errf(err, errlen, "%s: out of memory", path);
    goto out;
  }
  r->spec.name = NULL;                                   /* r->path is the name now */
  r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* O_NONBLOCK: a FIFO must not block the open */
  if (r->fd < 0) {
    anon_errf(err, errlen, "%s: cannot open: %s", r->path, strerror(errno));
    goto out;
  }
  if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    anon_errf(err, errlen, "%s: not a regular file", r->path);
    goto out;
  }
  if (r->spec.gzip) {
    int fd = dup(r->fd);

    r->gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
    if (r->gz == NULL) {
      if (fd >= 0)
        (void)close(fd);
      anon_errf(err, errlen, "%s: cannot read as gzip", r->path);
      goto out;
    }
    (void)gzbuffer((gzFile)r->gz, READ_CHUNK);
  }
  /* An optional UTF-8 byte order mark. */
  c0 = next_byte(r);
  if (c0 == 0xEF) {
    if (next_byte(r) != 0xBB || next_byte(r) != 0xBF) {
      anon_errf(err, errlen, "%s: line 1: invalid UTF-8 at the start of the file", r->path);
      goto out;
    }
  } else if (c0 >= 0) {
    r->buf_pos--;
  } else if (c0 == -2) {
    anon_errf(err, errlen, "%s: read error: %s", r->path, strerror(errno));
    goto out;
  }
  if (read_header(r, err, errlen) != 0)
    goto out;
  r->header = malloc(r->rec_len);
  r->header_off = malloc(r->n_fields * sizeof(*r->header_off));
  if (r->header == NULL || r->header_off == NULL) {
    anon_errf(err, errlen, "%s: out of memory", r->path);
    goto out;
  }
  memcpy(r->header, r->rec, r->rec_len);
  memcpy(r->header_off, r->field_off, r->n_fields * sizeof(*r->header_off));
  r->n_header = r->n_fields;
  for (size_t i = 0; i < r->n_header; i++) {
    for (size_t j = 0; j < i; j++) {
      if (strcmp(anon_csv_header(r, i), anon_csv_header(r, j)) == 0) {
        anon_errf(err, errlen, "%s: line %llu: column name \"%.64s\" appears twice (columns %zu and %zu)", r->path,
                  r->line, anon_csv_header(r, i), j + 1, i + 1);
        goto out;
      }
    }
  }
  rc = 0;
out:
  return rc;
}

int anon_csv_next(struct anon_csv_reader *r, char *err, size_t errlen)
{
  int rc = r->spec.kind == ANON_TABLE_CSV ? read_record(r, err, errlen) : read_line_record(r, err, errlen);

  if (rc != 1)
    return rc;
  if (r->n_fields != r->n_header) {
    anon_errf(err, errlen, "%s: line %llu: %zu fields, the header has %zu", r->path, r->line, r->n_fields, r->n_header);
    return -1;
  }
  if (r->rows >= r->lim.max_rows) {
    anon_errf(err, errlen, "%s: line %llu: more than %llu rows", r->path, r->line, r->lim.max_rows);
    return -1;
  }
  r->rows++;
  return 1;
}

void anon_csv_close(struct anon_csv_reader *r)
{
  if (r->gz != NULL)
    (void)gzclose((gzFile)r->gz);
  r->gz = NULL;
  if (r->fd >= 0)
    (void)close(r->fd);
  r->fd = -1;
  free(r->lbuf);
  r->lbuf = NULL;
  free(r->path);
  free(r->buf);
  free(r->rec);
  free(r->field_off);
  free(r->field_len);
  free(r->header);
  free(r->header_off);
  r->path = NULL;
  r->buf = NULL;
  r->rec = NULL;
  r->field_off = NULL;
  r->field_len = NULL;
  r->header = NULL;
  r->header_off = NULL;
}

const char *anon_csv_header(const struct anon_csv_reader *r, size_t i)
{
  return r->header + r->header_off[i];
}

long anon_csv_column(const struct anon_csv_reader *r, const char *name)
{
  for (size_t i = 0; i < r->n_header; i++) {
    if (strcmp(anon_csv_header(r, i), name) == 0)
      return (long)i;
  }
  return -1;
}

/* ---- writer ---- */

int anon_csv_writer_init(struct anon_csv_writer *w, int fd)
{
  memset(w, 0, sizeof(*w));
  w->fd = fd;
  w->cap = READ_CHUNK;
  w->at_line_start = 1;
  w->buf = malloc(w->cap);
  return w->buf == NULL ? -1 : 0;
}

static void drain(struct anon_csv_writer *w)
{
  size_t off = 0;

  while (off < w->len && w->failed == 0) {
    ssize_t n = write(w->fd, w->buf + off, w->len - off);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      w->failed = n < 0 ? errno : EIO;
      break;
    }
    off += (size_t)n;
  }
  w->len = 0;
}

static void put_bytes(struct anon_csv_writer *w, const char *s, size_t len)
{
  while (len > 0) {
    size_t room, n;

    if (w->len == w->cap)
      drain(w);
    room = w->cap - w->len;
    n = len < room ? len : room;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    s += n;
    len -= n;
  }
}

void anon_csv_put(struct anon_csv_writer *w, const char *s, size_t len)
{
  int quote = 0;

  if (!w->at_line_start)
    put_bytes(w, ",", 1);
  w->at_line_start = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n') {
      quote = 1;
      break;
    }
  }
  if (!quote) {
    put_bytes(w, s, len);
    return;
  }
  put_bytes(w, "\"", 1);
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '"')
      put_bytes(w, "\"", 1);
    put_bytes(w, s + i, 1);
  }
  put_bytes(w, "\"", 1);
}

void anon_csv_end_record(struct anon_csv_writer *w)
{
  put_bytes(w, "\n", 1);
  w->at_line_start = 1;
}

int anon_csv_flush(struct anon_csv_writer *w)
{
  drain(w);
  return w->failed;
}

void anon_csv_writer_free(struct anon_csv_writer *w)
{
  free(w->buf);
  w->buf = NULL;
}
