/* csvout.c: see csvout.h. */
#include "csvout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct strbuf {
  char *buf;
  size_t len, cap;
  int failed;
};

static void sb_add(struct strbuf *b, const char *s, size_t n)
{
  if (b->failed)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->buf, cap);
    if (p == NULL) {
      b->failed = 1;
      return;
    }
    b->buf = p;
    b->cap = cap;
  }
  memcpy(b->buf + b->len, s, n);
  b->len += n;
  b->buf[b->len] = '\0';
}

static void cell(struct strbuf *b, const char *v)
{
  sb_add(b, "\"", 1);
  if (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r')
    sb_add(b, "'", 1);
  for (const char *p = v; *p != '\0';) { /* runs without a quote in one copy, each quote doubled */
    size_t run = strcspn(p, "\"");
    sb_add(b, p, run);
    p += run;
    if (*p == '"') {
      sb_add(b, "\"\"", 2);
      p++;
    }
  }
  sb_add(b, "\"", 1);
}

static void value_cell(struct strbuf *b, json_t *v)
{
  char num[64];
  char *dumped = NULL;
  if (v == NULL || json_is_null(v)) {
    sb_add(b, "\"\"", 2);
  } else if (json_is_string(v)) {
    cell(b, json_string_value(v));
  } else if (json_is_integer(v)) {
    snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
    cell(b, num);
  } else if (json_is_real(v)) {
    snprintf(num, sizeof(num), "%.15g", json_real_value(v));
    cell(b, num);
  } else if (json_is_boolean(v)) {
    cell(b, json_is_true(v) ? "1" : "0");
  } else {
    dumped = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    cell(b, dumped != NULL ? dumped : "");
    free(dumped);
  }
}

char *csvout_render(json_t *rows, const char *const cols[], size_t n, size_t *len)
{
  return csvout_render_rows(rows, cols, n, 1, len);
}

char *csvout_render_rows(json_t *rows, const char *const cols[], size_t n, int header, size_t *len)
{
  struct strbuf b = {NULL, 0, 0, 0};
  size_t i;
  json_t *row;
  for (size_t k = 0; header && k < n; k++) {
    if (k > 0)
      sb_add(&b, ",", 1);
    cell(&b, cols[k]);
  }
  if (header)
    sb_add(&b, "\r\n", 2);
  sb_add(&b, "", 0); /* an empty batch is an empty string, not NULL */
  json_array_foreach(rows, i, row)
  {
    for (size_t k = 0; k < n; k++) {
      if (k > 0)
        sb_add(&b, ",", 1);
      value_cell(&b, json_object_get(row, cols[k]));
    }
    sb_add(&b, "\r\n", 2);
  }
  if (b.failed) {
    free(b.buf);
    return NULL;
  }
  *len = b.len;
  return b.buf;
}
