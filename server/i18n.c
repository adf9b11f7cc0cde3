/* i18n.c: the French catalogue, looked up by English key (i18n.h). Why this file exists: every message a
 * participant reads goes through one place that knows the catalogue, whether it is written now (a format) or was
 * written in English earlier (a scorer error stored with a submission). */
#include "i18n.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CONV 8    /* conversions a key may hold and still be matched against a written message */
#define MAX_LINE 2048 /* longer lines are kept as they are */
#define MIN_LITERAL 3 /* a key with conversions needs this much fixed text to be matched against messages */

struct entry {
  char *key;
  char *text;
  int nconv;
  size_t literal; /* bytes of fixed text in the key (orders the matching: the most specific first) */
};

static struct {
  struct entry *e;
  size_t count;
  size_t *slot; /* open addressing, index + 1, 0 when free */
  size_t nslot;
  size_t *pattern; /* entries with conversions, most fixed text first */
  size_t npattern;
} cat;

static uint64_t hash(const char *s)
{
  uint64_t h = 1469598103934665603ULL;
  for (; *s != '\0'; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* Past a printf width or precision at P: "*" or digits. */
static const char *skip_width(const char *p)
{
  if (*p == '*')
    return p + 1;
  while (*p >= '0' && *p <= '9')
    p++;
  return p;
}

/* The end of the conversion starting at P ('%', not "%%"), or NULL when it is not one printf accepts. */
static const char *conv_end(const char *p)
{
  p++;
  while (*p != '\0' && strchr("-+ #0'", *p) != NULL)
    p++;
  p = skip_width(p);
  if (*p == '.')
    p = skip_width(p + 1);
  while (*p != '\0' && strchr("hlLqjzt", *p) != NULL)
    p++;
  if (*p == '\0' || strchr("diouxXeEfFgGaAcsp", *p) == NULL)
    return NULL;
  return p + 1;
}

/* Counts the conversions of FMT and its fixed bytes; -1 when a '%' is not a conversion printf accepts. */
static int scan(const char *fmt, size_t *literal)
{
  int n = 0;
  size_t lit = 0;
  const char *p = fmt;
  while (*p != '\0') {
    if (*p != '%') {
      lit++;
      p++;
    } else if (p[1] == '%') {
      lit++;
      p += 2;
    } else {
      const char *e = conv_end(p);
      if (e == NULL)
        return -1;
      n++;
      p = e;
    }
  }
  if (literal != NULL)
    *literal = lit;
  return n;
}

/* 1 when A and B hold the same conversions, written alike, in the same order. */
static int same_conversions(const char *a, const char *b)
{
  for (;;) {
    while (*a != '\0' && (*a != '%' || a[1] == '%'))
      a += *a == '%' ? 2 : 1;
    while (*b != '\0' && (*b != '%' || b[1] == '%'))
      b += *b == '%' ? 2 : 1;
    if (*a == '\0' || *b == '\0')
      return *a == *b;
    const char *ea = conv_end(a);
    const char *eb = conv_end(b);
    if (ea == NULL || eb == NULL || ea - a != eb - b || memcmp(a, b, (size_t)(ea - a)) != 0)
      return 0;
    a = ea;
    b = eb;
  }
}

static const struct entry *lookup(const char *key)
{
  if (cat.nslot == 0)
    return NULL;
  size_t i = (size_t)(hash(key) & (cat.nslot - 1));
  while (cat.slot[i] != 0) {
    const struct entry *e = &cat.e[cat.slot[i] - 1];
    if (strcmp(e->key, key) == 0)
      return e;
    i = (i + 1) & (cat.nslot - 1);
  }
  return NULL;
}

static int by_literal(const void *a, const void *b)
{
  size_t la = cat.e[*(const size_t *)a].literal;
  size_t lb = cat.e[*(const size_t *)b].literal;
  return la < lb ? 1 : la > lb ? -1 : 0;
}

void i18n_free(void)
{
  for (size_t i = 0; i < cat.count; i++) {
    free(cat.e[i].key);
    free(cat.e[i].text);
  }
  free(cat.e);
  free(cat.slot);
  free(cat.pattern);
  memset(&cat, 0, sizeof(cat));
}

int i18n_load(const char *web_dir, size_t *dropped, char *err, size_t errlen)
{
  char path[4096];
  json_error_t je;
  json_t *root = NULL;
  const char *key;
  json_t *val;
  size_t skipped = 0;
  int rc = -1;

  i18n_free();
  if (dropped != NULL)
    *dropped = 0;
  if ((size_t)snprintf(path, sizeof(path), "%s/i18n/fr.json", web_dir) >= sizeof(path)) {
    snprintf(err, errlen, "the web folder's path is too long");
    return -1;
  }
  root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  json_t *msgs = json_object_get(root, "server");
  if (!json_is_object(msgs)) {
    snprintf(err, errlen, "%s: line %d: %s", path, je.line, root == NULL ? je.text : "no \"server\" object");
    goto out;
  }
  size_t n = json_object_size(msgs);
  cat.nslot = 16;
  while (cat.nslot < 2 * n + 1)
    cat.nslot *= 2;
  cat.e = calloc(n + 1, sizeof(*cat.e));
  cat.slot = calloc(cat.nslot, sizeof(*cat.slot));
  cat.pattern = calloc(n + 1, sizeof(*cat.pattern));
  if (cat.e == NULL || cat.slot == NULL || cat.pattern == NULL) {
    snprintf(err, errlen, "out of memory loading %s", path);
    goto out;
  }
  json_object_foreach(msgs, key, val)
  {
    const char *text = json_string_value(val);
    if (text == NULL) {
      snprintf(err, errlen, "%s: the value of \"%.80s\" is not a string", path, key);
      goto out;
    }
    size_t literal = 0;
    int nconv = scan(key, &literal);
    if (nconv < 0 || scan(text, NULL) != nconv || !same_conversions(key, text)) {
      skipped++;
      continue;
    }
    struct entry *e = &cat.e[cat.count];
    e->key = strdup(key);
    e->text = strdup(text);
    if (e->key == NULL || e->text == NULL) {
      free(e->key);
      free(e->text);
      snprintf(err, errlen, "out of memory loading %s", path);
      goto out;
    }
    e->nconv = nconv;
    e->literal = literal;
    size_t i = (size_t)(hash(key) & (cat.nslot - 1));
    while (cat.slot[i] != 0)
      i = (i + 1) & (cat.nslot - 1);
    cat.slot[i] = ++cat.count;
    if (nconv > 0 && nconv <= MAX_CONV && literal >= MIN_LITERAL)
      cat.pattern[cat.npattern++] = cat.count - 1;
  }
  qsort(cat.pattern, cat.npattern, sizeof(*cat.pattern), by_literal);
  if (dropped != NULL)
    *dropped = skipped;
  rc = 0;
out:
  json_decref(root);
  if (rc != 0)
    i18n_free();
  return rc;
}

/* ---- choosing the language ---- */

/* The weight of "q=0.xyz" or "q=1" at *P (past "q="), in thousandths, and *P past it. */
static int q_value(const char **p)
{
  const char *h = *p;
  int q = 0;
  if (*h == '1')
    q = 1000;
  if (*h == '0' || *h == '1') {
    h++;
    if (*h == '.') {
      h++;
      for (int scale = 100, digits = 0; *h >= '0' && *h <= '9' && digits < 3; h++, digits++, scale /= 10)
        if (q < 1000)
          q += (*h - '0') * scale;
    }
  }
  *p = h;
  return q;
}

/* 1 when TAG is LANG ("fr") or one of its regions ("fr-CA", "fr_FR"), any case. */
static int is_lang(const char *tag, const char *lang)
{
  return strncasecmp(tag, lang, 2) == 0 && (tag[2] == '\0' || tag[2] == '-' || tag[2] == '_');
}

enum i18n_lang i18n_pick(const char *h)
{
  enum i18n_lang best = I18N_EN;
  int best_q = -1;
  if (h == NULL)
    return I18N_EN;
  while (*h != '\0') {
    char tag[16];
    size_t t = 0;
    int q = 1000;
    while (*h == ' ' || *h == '\t' || *h == ',')
      h++;
    for (; *h != '\0' && *h != ',' && *h != ';' && *h != ' ' && *h != '\t'; h++)
      if (t + 1 < sizeof(tag))
        tag[t++] = *h;
    tag[t] = '\0';
    while (*h != '\0' && *h != ',') { /* parameters: only q counts */
      if (*h++ != ';')
        continue;
      while (*h == ' ')
        h++;
      if ((h[0] == 'q' || h[0] == 'Q') && h[1] == '=') {
        h += 2;
        q = q_value(&h);
      }
    }
    int fr = is_lang(tag, "fr");
    if (t > 0 && q > 0 && (fr || is_lang(tag, "en") || strcmp(tag, "*") == 0) && q > best_q) {
      best_q = q;
      best = fr ? I18N_FR : I18N_EN;
    }
  }
  return best;
}

const char *i18n_code(enum i18n_lang lang)
{
  return lang == I18N_FR ? "fr" : "en";
}

const char *i18n_format(enum i18n_lang lang, const char *fmt)
{
  if (lang != I18N_FR || fmt == NULL)
    return fmt;
  const struct entry *e = lookup(fmt);
  return e != NULL ? e->text : fmt;
}

void i18n_snprintf(enum i18n_lang lang, char *out, size_t n, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out, n, i18n_format(lang, fmt), ap);
  va_end(ap);
}

int i18n_has(const char *fmt)
{
  return fmt != NULL && lookup(fmt) != NULL;
}

/* ---- translating a written message ---- */

struct out {
  char *p;
  size_t n, len;
};

static void put(struct out *o, const char *s, size_t len)
{
  if (o->len + 1 >= o->n)
    return;
  if (len > o->n - 1 - o->len)
    len = o->n - 1 - o->len;
  memcpy(o->p + o->len, s, len);
  o->len += len;
  o->p[o->len] = '\0';
}

struct capture {
  const char *s;
  size_t len;
};

static int numeric_char(char c, char conv)
{
  if (c >= '0' && c <= '9')
    return 1;
  if (conv == 'x' || conv == 'X' || conv == 'p')
    return strchr("abcdefABCDEFx", c) != NULL;
  if (strchr("eEfFgGaA", conv) != NULL)
    return strchr("+-.eEinfaINFA", c) != NULL;
  return c == '-' || c == '+';
}

/* The bytes of S (AVAIL of them) that the fixed text LIT (FLEN bytes of a format, "%%" standing for '%') matches
 * at its start, or -1. */
static long lit_at(const char *lit, size_t flen, const char *s, size_t avail)
{
  size_t i = 0, used = 0;
  while (i < flen) {
    if (used >= avail || s[used] != lit[i])
      return -1;
    i += lit[i] == '%' ? 2 : 1;
    used++;
  }
  return (long)used;
}

/* One piece of a key: the conversion before it (0 for the first) and the fixed text after that. */
struct seg {
  char conv;
  const char *lit;
  size_t flen;
};

/* Splits FMT into SEG (at most MAX_CONV + 1); the number of conversions, or -1 when it has too many. */
static int split(const char *fmt, struct seg *seg)
{
  int n = 0;
  const char *p = fmt;
  seg[0].conv = 0;
  seg[0].lit = p;
  for (;;) {
    while (*p != '\0' && (*p != '%' || p[1] == '%'))
      p += *p == '%' ? 2 : 1;
    seg[n].flen = (size_t)(p - seg[n].lit);
    if (*p == '\0')
      return n;
    const char *e = conv_end(p);
    if (e == NULL || n == MAX_CONV)
      return -1;
    n++;
    seg[n].conv = e[-1];
    seg[n].lit = e;
    p = e;
  }
}

/* Matches S (LEN bytes) against the format FMT, filling CAP (one per conversion); 1 on a whole match. The search
 * backtracks over where each value ends, with a stack of MAX_CONV positions (no recursion on a request path). */
static int match(const char *fmt, const char *s, size_t len, struct capture *cap)
{
  struct seg seg[MAX_CONV + 1];
  size_t begin[MAX_CONV + 2], next[MAX_CONV + 2];
  int n = split(fmt, seg);
  if (n < 0)
    return 0;
  long first = lit_at(seg[0].lit, seg[0].flen, s, len);
  if (first < 0)
    return 0;
  if (n == 0)
    return (size_t)first == len;
  int k = 1;
  begin[1] = (size_t)first;
  next[1] = begin[1] + (seg[1].conv == 's' ? 0 : 1);
  while (k >= 1) {
    char conv = seg[k].conv;
    int found = 0;
    for (size_t e = next[k]; e <= len; e++) {
      if (conv == 'c' && e != begin[k] + 1)
        break;
      if (conv != 's' && conv != 'c' && !numeric_char(s[e - 1], conv))
        break; /* a number ends at the first byte that cannot be in one */
      long used = lit_at(seg[k].lit, seg[k].flen, s + e, len - e);
      if (used < 0 || (k == n && e + (size_t)used != len))
        continue;
      cap[k - 1].s = s + begin[k];
      cap[k - 1].len = e - begin[k];
      next[k] = e + 1;
      if (k == n)
        return 1;
      begin[k + 1] = e + (size_t)used;
      next[k + 1] = begin[k + 1] + (seg[k + 1].conv == 's' ? 0 : 1);
      found = 1;
      break;
    }
    k += found ? 1 : -1;
  }
  return 0;
}

/* The entry whose key is the one-line message S (LEN bytes), or matches it (CAP filled); NULL when none does. */
static const struct entry *find(const char *s, size_t len, struct capture *cap)
{
  char line[MAX_LINE];
  if (len == 0 || len >= sizeof(line))
    return NULL;
  memcpy(line, s, len);
  line[len] = '\0';
  const struct entry *e = lookup(line);
  if (e != NULL && e->nconv == 0)
    return e;
  for (size_t i = 0; i < cat.npattern; i++) {
    const struct entry *pe = &cat.e[cat.pattern[i]];
    if (pe->key[0] != '%' && pe->key[0] != line[0])
      continue;
    if (match(pe->key, line, len, cap)) {
      for (int k = 0; k < pe->nconv; k++) /* the values point into S, not into this frame's copy */
        cap[k].s = s + (cap[k].s - line);
      return pe;
    }
  }
  return NULL;
}

/* Walks the translation TEXT one piece at a time from *P: fixed text is written to O ("%%" as '%'); at a
 * conversion, returns its letter and moves *P past it. 0 at the end (or at a '%' that is not a conversion, which a
 * loaded catalogue never holds). */
static char next_conversion(const char **p, struct out *o)
{
  while (**p != '\0') {
    if (**p != '%') {
      const char *q = strchr(*p, '%');
      size_t run = q != NULL ? (size_t)(q - *p) : strlen(*p);
      put(o, *p, run);
      *p += run;
    } else if ((*p)[1] == '%') {
      put(o, "%", 1);
      *p += 2;
    } else {
      const char *e = conv_end(*p);
      if (e == NULL)
        return 0;
      *p = e;
      return e[-1];
    }
  }
  return 0;
}

/* Writes TEXT, the translation of a matched key, its conversions replaced by the values CAP held. */
static void fill(const char *text, const struct capture *cap, struct out *o)
{
  const char *p = text;
  for (int k = 0; next_conversion(&p, o) != 0; k++)
    put(o, cap[k].s, cap[k].len);
}

/* The same, and a value that is itself a message (a key, or matched by one) is translated too, one level deep:
 * its own values are written as they are. */
static void fill_nested(const char *text, const struct capture *cap, struct out *o)
{
  const char *p = text;
  char conv;
  for (int k = 0; (conv = next_conversion(&p, o)) != 0; k++) {
    struct capture inner[MAX_CONV];
    const struct entry *v = conv == 's' ? find(cap[k].s, cap[k].len, inner) : NULL;
    if (v != NULL)
      fill(v->text, inner, o);
    else
      put(o, cap[k].s, cap[k].len);
  }
}

/* Writes the translation of the one-line message S (LEN bytes), or S itself. */
static void translate(const char *s, size_t len, struct out *o)
{
  struct capture cap[MAX_CONV];
  const struct entry *e = find(s, len, cap);
  if (e != NULL)
    fill_nested(e->text, cap, o);
  else
    put(o, s, len);
}

void i18n_text(enum i18n_lang lang, const char *text, char *out, size_t n)
{
  struct out o = {out, n, 0};
  if (n == 0)
    return;
  out[0] = '\0';
  if (text == NULL)
    return;
  if (lang != I18N_FR || cat.count == 0) {
    put(&o, text, strlen(text));
    return;
  }
  const char *p = text;
  for (;;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
    if (len >= 2 && p[0] == '-' && p[1] == ' ') {
      put(&o, p, 2);
      translate(p + 2, len - 2, &o);
    } else {
      translate(p, len, &o);
    }
    if (nl == NULL)
      break;
    put(&o, "\n", 1);
    p = nl + 1;
  }
}
