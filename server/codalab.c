/* codalab.c: see codalab.h. competition.yaml is read with libyaml's event parser into a jansson tree (scalars as
 * strings; anchors and aliases resolved by reference, never copied, so an alias bomb costs nothing; depth, size
 * and node count capped). The zips are unpacked with extract.c. */
#include "codalab.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <yaml.h>

#include "def.h"
#include "extract.h"
#include "sandbox.h"
#include "sandbox_program.h"
#include "store.h"
#include "util.h"

#define YAML_MAX (1024 * 1024)
#define YAML_MAX_DEPTH 32
#define YAML_MAX_NODES 100000
#define YAML_MAX_ANCHORS 256
#define PAGE_MAX (1024 * 1024)

static void note(struct bundle_problems *p, const char *field, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void note(struct bundle_problems *p, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  bundle_problemv(p, "competition.yaml", field, fmt, ap);
  va_end(ap);
}

static void say(FILE *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One mapping decision: a "codalab: " line on stdout and, when LOG is not NULL, a "- " line of the conversion
 * report (CONVERSION.md of the converted bundle). */
static void say(FILE *log, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("codalab: ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  if (log == NULL)
    return;
  va_start(ap, fmt);
  fputs("- ", log);
  vfprintf(log, fmt, ap);
  fputc('\n', log);
  va_end(ap);
}

/* 1 when the first line of the CSV at PATH has a column named Usage (any case, quoted or not). */
static int has_usage_column(const char *path)
{
  char line[8192];
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return 0;
  char *got = fgets(line, sizeof(line), f);
  fclose(f);
  if (got == NULL)
    return 0;
  line[strcspn(line, "\r\n")] = '\0';
  char *save = NULL;
  for (char *tok = strtok_r(line, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
    if (strcasecmp(tok, "Usage") == 0 || strcasecmp(tok, "\"Usage\"") == 0)
      return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------ YAML -> JSON */

struct yconv {
  yaml_parser_t parser;
  int nodes;
  int nanchors;
  char *anchor_names[YAML_MAX_ANCHORS];
  json_t *anchor_values[YAML_MAX_ANCHORS];
};

static void remember(struct yconv *y, const unsigned char *anchor, json_t *v)
{
  if (anchor == NULL || y->nanchors >= YAML_MAX_ANCHORS)
    return;
  y->anchor_names[y->nanchors] = strdup((const char *)anchor);
  if (y->anchor_names[y->nanchors] == NULL)
    return;
  y->anchor_values[y->nanchors++] = json_incref(v);
}

/* Parses the node whose first event is EV into a new reference, or NULL (malformed or over a cap). */
static json_t *ynode(struct yconv *y, yaml_event_t *ev, int depth)
{
  json_t *v = NULL;
  if (++y->nodes > YAML_MAX_NODES || depth > YAML_MAX_DEPTH)
    return NULL;
  if (ev->type == YAML_SCALAR_EVENT) {
    v = json_stringn((const char *)ev->data.scalar.value, ev->data.scalar.length);
    remember(y, ev->data.scalar.anchor, v);
    return v;
  }
  if (ev->type == YAML_ALIAS_EVENT) {
    for (int i = 0; i < y->nanchors; i++) {
      if (strcmp(y->anchor_names[i], (const char *)ev->data.alias.anchor) == 0)
        return json_incref(y->anchor_values[i]);
    }
    return NULL;
  }
  int mapping = ev->type == YAML_MAPPING_START_EVENT;
  if (!mapping && ev->type != YAML_SEQUENCE_START_EVENT)
    return NULL;
  const unsigned char *anchor = mapping ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
  char *anchor_copy = anchor != NULL ? strdup((const char *)anchor) : NULL;
  v = mapping ? json_object() : json_array();
  for (;;) {
    yaml_event_t k;
    if (v == NULL || !yaml_parser_parse(&y->parser, &k))
      goto fail;
    if (k.type == YAML_MAPPING_END_EVENT || k.type == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&k);
      break;
    }
    json_t *key = ynode(y, &k, depth + 1);
    yaml_event_delete(&k);
    if (key == NULL)
      goto fail;
    if (!mapping) {
      json_array_append_new(v, key);
      continue;
    }
    yaml_event_t e;
    if (!json_is_string(key) || !yaml_parser_parse(&y->parser, &e)) {
      json_decref(key);
      goto fail;
    }
    json_t *val = ynode(y, &e, depth + 1);
    yaml_event_delete(&e);
    if (val == NULL) {
      json_decref(key);
      goto fail;
    }
    json_object_set_new(v, json_string_value(key), val);
    json_decref(key);
  }
  remember(y, (const unsigned char *)anchor_copy, v);
  free(anchor_copy);
  return v;
fail:
  free(anchor_copy);
  json_decref(v);
  return NULL;
}

/* competition.yaml as JSON (new reference), or NULL with a message in ERR. */
static json_t *load_yaml(const char *path, char *err, size_t errlen)
{
  size_t len = 0;
  char *text = util_read_file(path, YAML_MAX, &len);
  struct yconv y;
  json_t *root = NULL;
  yaml_event_t ev;
  memset(&y, 0, sizeof(y));
  if (text == NULL) {
    snprintf(err, errlen, "unreadable or larger than %d bytes", YAML_MAX);
    return NULL;
  }
  if (!yaml_parser_initialize(&y.parser)) {
    free(text);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
  for (;;) {
    if (!yaml_parser_parse(&y.parser, &ev))
      break;
    yaml_event_type_t t = ev.type;
    if (t == YAML_MAPPING_START_EVENT && root == NULL) {
      root = ynode(&y, &ev, 0);
      yaml_event_delete(&ev);
      break;
    }
    yaml_event_delete(&ev);
    if (t == YAML_STREAM_END_EVENT || t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT)
      break;
  }
  if (root == NULL)
    snprintf(err, errlen, "not a YAML mapping (line %zu: %s)", y.parser.problem_mark.line + 1,
             y.parser.problem != NULL ? y.parser.problem : "unexpected content or over a size cap");
  for (int i = 0; i < y.nanchors; i++) {
    free(y.anchor_names[i]);
    json_decref(y.anchor_values[i]);
  }
  yaml_parser_delete(&y.parser);
  free(text);
  return root;
}

/* ------------------------------------------------------------------------------------------ helpers */

/* The HTML page SRC/NAME as text: tags dropped, common entities decoded, into a new malloc'd string. */
static char *page_text(const char *src, const char *name)
{
  char path[APP_PATH_MAX];
  if (name == NULL || strstr(name, "..") != NULL || name[0] == '/' ||
      util_fmt(path, sizeof(path), "%s/%s", src, name) != 0)
    return NULL;
  char *html = util_read_file(path, PAGE_MAX, NULL);
  if (html == NULL)
    return NULL;
  size_t o = 0;
  int in_tag = 0;
  for (size_t i = 0; html[i] != '\0'; i++) {
    char c = html[i];
    if (c == '<') {
      in_tag = 1;
      if (strncasecmp(html + i, "<p", 2) == 0 || strncasecmp(html + i, "<br", 3) == 0 ||
          strncasecmp(html + i, "<h", 2) == 0 || strncasecmp(html + i, "<li", 3) == 0)
        html[o++] = '\n';
    } else if (c == '>' && in_tag) {
      in_tag = 0;
    } else if (!in_tag) {
      static const struct {
        const char *ent;
        char c;
      } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&nbsp;", ' '}};
      int done = 0;
      for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]) && !done; k++) {
        size_t n = strlen(ents[k].ent);
        if (strncmp(html + i, ents[k].ent, n) == 0) {
          html[o++] = ents[k].c;
          i += n - 1;
          done = 1;
        }
      }
      if (!done)
        html[o++] = c;
    }
  }
  html[o] = '\0';
  return html;
}

static int write_text(const char *dst, const char *name, const char *text)
{
  char path[APP_PATH_MAX];
  return util_fmt(path, sizeof(path), "%s/%s", dst, name) == 0 &&
             util_write_file_atomic(path, text, strlen(text), 0600) == 0
           ? 0
           : -1;
}

/* The text of the bundle file SRC/NAME (a Markdown page), or NULL when absent, unsafe or too large. */
static char *bundle_text(const char *src, const char *name)
{
  char path[APP_PATH_MAX];
  if (name == NULL || strstr(name, "..") != NULL || name[0] == '/' ||
      util_fmt(path, sizeof(path), "%s/%s", src, name) != 0)
    return NULL;
  return util_read_file(path, PAGE_MAX, NULL);
}

/* Writes DST/overview.md and DST/terms.md (placeholder terms naming the PLATFORM when TERMS is NULL). 0, or -1
 * with a problem noted. */
static int write_texts(const char *dst, const char *overview, const char *terms, const char *platform,
                       struct bundle_problems *p)
{
  char fallback[160];
  snprintf(fallback, sizeof(fallback), "# Terms\n\nThe organizers' terms (none were given in the %s bundle).\n",
           platform);
  if (write_text(dst, "overview.md", overview) != 0 ||
      write_text(dst, "terms.md", terms != NULL ? terms : fallback) != 0) {
    note(p, "(import)", "cannot write the texts");
    return -1;
  }
  return 0;
}

/* When DIR holds nothing but one folder (and dot or __MACOSX entries), moves that folder's content up into DIR,
 * as CodaLab's worker does with a program or reference zipped with its folder. 0, or -1 on a file system error. */
static int lone_folder_up(const char *dir, FILE *log)
{
  char only[256] = "", from[APP_PATH_MAX], to[APP_PATH_MAX], tmp[APP_PATH_MAX];
  DIR *d = opendir(dir);
  struct dirent *e;
  int entries = 0, rc = 0;
  if (d == NULL)
    return -1;
  for (e = readdir(d); e != NULL; e = readdir(d)) {
    struct stat st;
    if (e->d_name[0] == '.' || strcmp(e->d_name, "__MACOSX") == 0)
      continue;
    entries++;
    if (util_fmt(from, sizeof(from), "%s/%s", dir, e->d_name) == 0 && lstat(from, &st) == 0 && S_ISDIR(st.st_mode))
      util_strlcpy(only, e->d_name, sizeof(only));
  }
  closedir(d);
  if (entries != 1 || only[0] == '\0' || util_fmt(from, sizeof(from), "%s/%s", dir, only) != 0 ||
      util_fmt(tmp, sizeof(tmp), "%s/.lone-folder", dir) != 0 || rename(from, tmp) != 0)
    return 0;
  say(log, "moved the content of the lone folder %s up, as CodaLab does", only);
  d = opendir(tmp);
  if (d == NULL)
    return -1;
  for (e = readdir(d); e != NULL && rc == 0; e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (util_fmt(from, sizeof(from), "%s/%s", tmp, e->d_name) != 0 ||
        util_fmt(to, sizeof(to), "%s/%s", dir, e->d_name) != 0 || rename(from, to) != 0)
      rc = -1;
  }
  closedir(d);
  return rc == 0 && rmdir(tmp) == 0 ? 0 : -1;
}

/* Unpacks the zip SRC/NAME into the new folder DIR (a later entry of a name given twice wins, and a lone folder's
 * content is moved up, as CodaLab did). 0, or -1 with a problem noted. */
static int unzip(const char *src, const char *name, const char *dir, const char *field, struct bundle_problems *p,
                 FILE *log)
{
  char path[APP_PATH_MAX], err[512];
  struct extract_limits lim = {1ull << 30, 10000, 255, 0644, 0755, 1};
  if (strstr(name, "..") != NULL || name[0] == '/' || util_fmt(path, sizeof(path), "%s/%s", src, name) != 0) {
    note(p, field, "\"%s\" must be a file of the bundle", name);
    return -1;
  }
  if (mkdir(dir, 0700) != 0) {
    note(p, field, "cannot create a folder: %s", strerror(errno));
    return -1;
  }
  int rc = extract_archive(path, dir, &lim, err, sizeof(err));
  if (rc != 0)
    note(p, field, "%s: %s", name, err);
  else if (lone_folder_up(dir, log) != 0)
    note(p, field, "%s: cannot move its lone folder's content up: %s", name, strerror(errno));
  return rc == 0 ? 0 : -1;
}

/* When the only entry of DIR (dot entries and __MACOSX aside) is a regular *.csv file named with A-Z a-z 0-9 . _ -,
 * its name into NAME (size N) and 1; else 0. */
static int lone_csv(const char *dir, char *name, size_t n)
{
  char path[APP_PATH_MAX];
  int entries = 0, csv = 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
    struct stat st;
    size_t len = strlen(e->d_name);
    if (e->d_name[0] == '.' || strcmp(e->d_name, "__MACOSX") == 0)
      continue;
    entries++;
    csv = len > 4 && len <= 100 && strcasecmp(e->d_name + len - 4, ".csv") == 0 &&
          strspn(e->d_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len &&
          util_fmt(path, sizeof(path), "%s/%s", dir, e->d_name) == 0 && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
          util_strlcpy(name, e->d_name, n) == 0;
  }
  closedir(d);
  return entries == 1 && csv;
}

/* Reads 1 to max digits at s[*i] into *v. Returns the count read. */
static int date_digits(const char *s, size_t *i, int max, int *v)
{
  int n = 0;
  *v = 0;
  while (n < max && s[*i] >= '0' && s[*i] <= '9') {
    *v = *v * 10 + (s[*i] - '0');
    (*i)++;
    n++;
  }
  return n;
}

/* A CodaLab date, as competition.yaml files write them: YYYY-M-D, then optionally a time ("T" or a blank, H:MM
 * with one- or two-digit hours, optional :SS and fraction), then optionally a zone (Z, UTC, +HH:MM, +HHMM, +HH).
 * A date without a zone is UTC, as CodaLab's server ran. Returns the UTC time, or -1 when s is no such date. */
static int64_t codalab_date(const char *s)
{
  int y, mo, d, h = 0, mi = 0, sec = 0, zh = 0, zm = 0, sign = 0;
  size_t i = 0;
  char iso[32];
  int64_t t;
  if (s == NULL || date_digits(s, &i, 4, &y) != 4 || s[i++] != '-' || date_digits(s, &i, 2, &mo) == 0 ||
      s[i++] != '-' || date_digits(s, &i, 2, &d) == 0)
    return -1;
  if (s[i] == 'T' || s[i] == ' ') {
    size_t j = i + 1;
    while (s[j] == ' ')
      j++;
    if (date_digits(s, &j, 2, &h) > 0 && s[j] == ':' && (j++, date_digits(s, &j, 2, &mi) == 2)) {
      i = j;
      if (s[i] == ':' && (i++, date_digits(s, &i, 2, &sec) != 2))
        return -1;
      if (s[i] == '.')
        for (i++; s[i] >= '0' && s[i] <= '9'; i++)
          ;
    }
  }
  while (s[i] == ' ')
    i++;
  if (s[i] == 'Z' || strcmp(s + i, "UTC") == 0) {
    i += s[i] == 'Z' ? 1 : 3;
  } else if (s[i] == '+' || s[i] == '-') {
    sign = s[i++] == '+' ? 1 : -1;
    if (date_digits(s, &i, 2, &zh) != 2)
      return -1;
    if (s[i] == ':')
      i++;
    if (s[i] >= '0' && s[i] <= '9' && date_digits(s, &i, 2, &zm) != 2)
      return -1;
  }
  if (s[i] != '\0' || h > 23 || mi > 59 || sec > 60 || zh > 14 || zm > 59)
    return -1;
  snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, sec > 59 ? 59 : sec);
  if (util_parse_iso8601(iso, &t) != 0)
    return -1;
  return t - (int64_t)sign * (zh * 3600 + zm * 60);
}

static int int_of_str(const char *s, int dflt)
{
  long long x;
  return s != NULL && util_parse_ll(s, 0, 1000000, &x) == 0 ? (int)x : dflt;
}

static int int_of(json_t *v, int dflt)
{
  return int_of_str(json_string_value(v), dflt);
}

/* A YAML boolean as the bundle wrote it (true, True, yes, 1), as a JSON true or a string. */
static int truthy(json_t *v)
{
  const char *s = json_string_value(v);
  return json_is_true(v) ||
         (s != NULL && (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcmp(s, "1") == 0));
}

static void ignored(const char *where, json_t *obj, const char *const *known, FILE *log)
{
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v)
  {
    int k = 0;
    while (known[k] != NULL && strcmp(known[k], key) != 0)
      k++;
    if (known[k] == NULL)
      say(log, "ignored %s%s", where, key);
  }
}

/* The competition's image (Codabench's docker_image, CodaLab's competition_docker_image) is not pulled: says how the
 * organizer gives it to the scoring program (metric.runtime). */
static void image_note(json_t *y, FILE *log)
{
  static const char *const keys[] = {"docker_image", "competition_docker_image"};
  for (size_t i = 0; i < 2; i++) {
    const char *image = json_string_value(json_object_get(y, keys[i]));
    if (image != NULL)
      say(log,
          "%s %.200s: not pulled; the scoring program runs on the host's Python 3 (numpy, pandas, "
          "scikit-learn, scipy) unless metric.runtime gives it that image: `docker save %.200s -o "
          "runtime/scoring.tar` into this folder, then set \"runtime\": {\"kind\": \"oci\", \"archive\": "
          "\"runtime/scoring.tar\"} in challenge.json's metric",
          keys[i], image, image);
  }
}

/* The end of a last phase that never ends (CodaLab's end_date: null, a Codabench phase without end): 2100-01-01,
 * so that a competition imported years after it started still takes submissions in its last phase, as there. */
static int64_t never_ends(int64_t start)
{
  const int64_t year_2100 = 4102444800LL;
  return start < year_2100 ? year_2100 : start + 10LL * 365 * 86400;
}

/* Do the bundle paths A and B name the same file or folder ("scoring_program/" is "scoring_program")? */
static int same_path(const char *a, const char *b)
{
  size_t na = strlen(a), nb = strlen(b);
  while (na > 0 && a[na - 1] == '/')
    na--;
  while (nb > 0 && b[nb - 1] == '/')
    nb--;
  return na == nb && strncmp(a, b, na) == 0;
}

/* Appends to OUT the concours phase I named LABEL (or "phase I+1"), from T0 to T1, with the submission limits of
 * the CodaLab / Codabench phase PH (max_submissions_per_day, max_submissions). */
static void append_phase(json_t *out, const char *label, size_t i, int64_t t0, int64_t t1, json_t *ph, FILE *log)
{
  char name[64], start[32], end[32];
  if (label != NULL && label[0] != '\0' && strlen(label) < sizeof(name))
    util_strlcpy(name, label, sizeof(name));
  else
    snprintf(name, sizeof(name), "phase %zu", i + 1);
  util_iso8601(t0, start);
  util_iso8601(t1, end);
  json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:i}", "name", name, "start", start, "end", end, "max_per_day",
                        int_of(json_object_get(ph, "max_submissions_per_day"), 0), "max_total",
                        int_of(json_object_get(ph, "max_submissions"), 0));
  if (o != NULL && int_of(json_object_get(ph, "max_submissions"), -1) == 0) { /* CodaLab: 0 means no submission */
    json_object_set_new(o, "closed", json_true());
    say(log, "phase %s accepts no submission (max_submissions: 0)", name);
  }
  json_array_append_new(out, o);
}

/* The phases of the bundle in phasenumber order (a new array of borrowed objects). */
static json_t *sorted_phases(json_t *phases)
{
  json_t *out = json_array();
  const char *key;
  json_t *ph;
  size_t i;
  if (json_is_array(phases)) {
    json_array_foreach(phases, i, ph) json_array_append(out, ph);
    return out;
  }
  for (int want = 0; want <= 1000 && json_array_size(out) < json_object_size(phases); want++) {
    json_object_foreach(phases, key, ph)
    {
      if (int_of(json_object_get(ph, "phasenumber"), int_of_str(key, -1)) == want)
        json_array_append(out, ph);
    }
  }
  return out;
}

/* ------------------------------------------------------------------------------------------ convert */

/* With ONLY > 0 (`--phase N`: one phase alone), keeps only the ONLYth of *PHASES (an owned array, replaced) and
 * writes into BUF (size N) the title TITLE followed by that phase's name (its LABEL_KEY), so that it imports as a
 * challenge of its own; *TITLE then points at BUF. 0, or -1 with a problem noted. */
static int keep_one_phase(json_t **phases, int only, const char *label_key, const char **title, char *buf, size_t n,
                          FILE *log, struct bundle_problems *p)
{
  if (only <= 0)
    return 0;
  json_t *ph = json_array_get(*phases, (size_t)only - 1);
  if (ph == NULL) {
    note(p, "phases", "--phase %d: the bundle has %zu phase(s)", only, json_array_size(*phases));
    return -1;
  }
  const char *label = json_string_value(json_object_get(ph, label_key));
  json_t *one = json_pack("[O]", ph);
  if (one == NULL)
    return -1;
  json_decref(*phases);
  *phases = one;
  snprintf(buf, n, "%s \u2014 %s", *title != NULL ? *title : "Competition", label != NULL ? label : "phase");
  *title = buf;
  say(log, "only phase %d (%s) is imported (--phase %d), as the challenge \"%s\"", only,
      label != NULL ? label : "unnamed", only, buf);
  return 0;
}

int codalab_is_bundle(const char *dir)
{
  char path[APP_PATH_MAX];
  struct stat st;
  if (util_fmt(path, sizeof(path), "%s/challenge.json", dir) != 0 || lstat(path, &st) == 0)
    return 0;
  return util_fmt(path, sizeof(path), "%s/competition.yaml", dir) == 0 && lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* One leaderboard column in the shape map_columns reads: {key, label (KEY when NULL), order, higher (unless SORT is
 * "asc"), precision (-1: the leaderboard's), hidden (HIDDEN is the string "true")}. New reference, or NULL. */
static json_t *column_json(const char *key, const char *label, int order, const char *sort, int precision,
                           json_t *hidden)
{
  return json_pack("{s:s,s:s,s:i,s:b,s:i,s:b}", "key", key, "label", label != NULL ? label : key, "order", order,
                   "higher", sort == NULL || strcasecmp(sort, "asc") != 0, "precision", precision, "hidden",
                   json_is_string(hidden) && strcasecmp(json_string_value(hidden), "true") == 0);
}

/* The columns of a CodaLab leaderboard (an object KEY: {label, rank, sort, numeric_format, hidden, computed:
 * {operation, fields}}) as the common shape map_columns reads: a new array of {key, label, order, higher,
 * precision, hidden, fields} ("fields": the averaged keys of a computed column, else absent). */
static json_t *v1_columns(json_t *lb)
{
  json_t *out = json_array(), *col;
  const char *k;
  json_object_foreach(json_object_get(lb, "columns"), k, col)
  {
    json_t *c = column_json(k, json_string_value(json_object_get(col, "label")),
                            int_of(json_object_get(col, "rank"), 1000), json_string_value(json_object_get(col, "sort")),
                            int_of(json_object_get(col, "numeric_format"), -1), json_object_get(col, "hidden"));
    json_t *computed = json_object_get(col, "computed");
    if (c != NULL && computed != NULL) {
      json_t *fields = json_array(), *f;
      const char *text = json_string_value(json_object_get(computed, "fields"));
      size_t i;
      if (text != NULL) { /* "fields: a, b" */
        char buf[1024], *save = NULL;
        util_strlcpy(buf, text, sizeof(buf));
        for (char *t = strtok_r(buf, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save))
          json_array_append_new(fields, json_string(t));
      }
      json_array_foreach(json_object_get(computed, "fields"), i, f) json_array_append(fields, f);
      json_object_set_new(c, "fields", fields);
      json_object_set(c, "operation", json_object_get(computed, "operation"));
      json_object_set(c, "weights", json_object_get(computed, "weights")); /* "2, 1": one per field */
    }
    json_array_append_new(out, c);
  }
  return out;
}

/* 1 when the JSON array LIST holds a value equal to V. */
static int in_list(json_t *list, json_t *v)
{
  size_t i;
  json_t *e;
  json_array_foreach(list, i, e)
  {
    if (json_equal(e, v))
      return 1;
  }
  return 0;
}

/* Maps the leaderboard COLS (v1_columns / v2_columns) onto OUT: the column ranked first (lowest rank or index)
 * ranks. When it is a plain column, its key is the score (KEY, *HIGHER, *PRECISION) and the other plain columns are
 * shown beside it as secondary metrics. When it is a computed average (CodaLab's Avg), the challenge ranks by
 * mean rank over the averaged columns, the first of them being the primary metric. Hidden columns are not shown.
 * Every decision is said to LOG. 0, or -1 when no plain column can be the score. */
static int map_columns(json_t *cols, json_t *out, char *key, size_t n, int *higher, int *precision, FILE *log)
{
  json_t *c, *first = NULL, *primary = NULL, *fields = NULL, *secondary = json_array();
  size_t i;
  json_array_foreach(cols, i, c)
  {
    if (first == NULL ||
        json_integer_value(json_object_get(c, "order")) < json_integer_value(json_object_get(first, "order")))
      first = c;
  }
  if (first != NULL && json_object_get(first, "fields") != NULL) {
    const char *op = json_string_value(json_object_get(first, "operation"));
    fields = json_object_get(first, "fields");
    if (op != NULL && strcasecmp(op, "avg") != 0) {
      say(log, "leaderboard column %s computes the %s, which concours does not: the first plain column ranks",
          json_string_value(json_object_get(first, "key")), op);
      fields = NULL;
    }
  }
  /* the primary metric: the first averaged column, else the plain column ranked first (a second pass when the
   * average names no plain column) */
  for (int pass = 0; pass < 2 && primary == NULL; pass++) {
    if (pass == 1 && fields != NULL) {
      say(log, "leaderboard column %s averages no plain column: the first plain column ranks",
          json_string_value(json_object_get(first, "key")));
      fields = NULL;
    }
    json_array_foreach(cols, i, c)
    {
      if (json_object_get(c, "fields") != NULL || json_is_true(json_object_get(c, "hidden")) ||
          (fields != NULL && !in_list(fields, json_object_get(c, "key"))))
        continue;
      if (primary == NULL ||
          json_integer_value(json_object_get(c, "order")) < json_integer_value(json_object_get(primary, "order")))
        primary = c;
    }
  }
  if (primary == NULL) {
    json_decref(secondary);
    return -1;
  }
  util_strlcpy(key, json_string_value(json_object_get(primary, "key")), n);
  *higher = json_is_true(json_object_get(primary, "higher"));
  *precision = (int)json_integer_value(json_object_get(primary, "precision"));
  if (*precision < 0 || *precision > 12)
    *precision = 4;
  json_array_foreach(cols, i, c)
  {
    const char *k = json_string_value(json_object_get(c, "key"));
    const char *label = json_string_value(json_object_get(c, "label"));
    int in_fields = fields == NULL || in_list(fields, json_object_get(c, "key"));
    int prec = (int)json_integer_value(json_object_get(c, "precision"));
    if (c == primary)
      continue;
    if (json_object_get(c, "fields") != NULL) {
      say(log,
          c == first && fields != NULL ? "leaderboard column %s (Avg) ranks: the teams rank by their mean rank "
                                         "over its columns"
                                       : "ignored leaderboard column %s (a computed column that does not rank)",
          k);
      continue;
    }
    if (json_is_true(json_object_get(c, "hidden"))) {
      say(log, "ignored leaderboard column %s (hidden on CodaLab: not shown)", k);
      continue;
    }
    if (!in_fields || json_array_size(secondary) >= DEF_MAX_SECONDARY) {
      say(log, "ignored leaderboard column %s (%s)", k,
          in_fields ? "more than 8 columns" : "not averaged by the ranking column: shown nowhere");
      continue;
    }
    json_t *m = json_pack("{s:s,s:s%,s:b}", "score_key", k, "label", label, strlen(label) > 64 ? 64 : strlen(label),
                          "higher_is_better", json_is_true(json_object_get(c, "higher")));
    if (m != NULL && prec >= 0 && prec <= 12)
      json_object_set_new(m, "precision", json_integer(prec));
    json_array_append_new(secondary, m);
    say(log, "leaderboard column %s shown beside %s (%s is better)", k, key,
        json_is_true(json_object_get(c, "higher")) ? "higher" : "lower");
  }
  if (json_array_size(secondary) > 0)
    json_object_set(out, "secondary_metrics", secondary);
  if (fields != NULL && json_array_size(secondary) > 0) {
    json_t *ranking = json_pack("{s:s}", "rule", "mean_rank"), *weights = json_object(), *f;
    const char *wtext = json_string_value(json_object_get(first, "weights"));
    char buf[512], *save = NULL, *w = NULL;
    util_strlcpy(buf, wtext != NULL ? wtext : "", sizeof(buf));
    w = wtext != NULL ? strtok_r(buf, ", ", &save) : NULL;
    json_array_foreach(fields, i, f)
    {
      double x = w != NULL ? strtod(w, NULL) : 0;
      if (w != NULL && x > 0 && x <= 1000)
        json_object_set_new(weights, json_string_value(f), json_real(x));
      w = w != NULL ? strtok_r(NULL, ", ", &save) : NULL;
    }
    if (json_object_size(weights) == json_array_size(fields)) /* CodaLab's weighted average rank */
      json_object_set(ranking, "weights", weights);
    json_decref(weights);
    json_object_set_new(out, "ranking", ranking);
  }
  json_decref(secondary);
  say(log, "leaderboard column %s is the score (%s is better, %d decimals)", key, *higher ? "higher" : "lower",
      *precision);
  return 0;
}

/* TITLE in lower-case letters, digits and single dashes, at most MAX characters, into SLUG (size N). Returns its
 * length. */
static size_t slugify(const char *title, char *slug, size_t n, size_t max)
{
  size_t o = 0;
  for (size_t i = 0; title != NULL && title[i] != '\0' && o + 1 < n && o < max; i++) {
    char c = title[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
      slug[o++] = c;
    else if (o > 0 && slug[o - 1] != '-')
      slug[o++] = '-';
  }
  while (o > 0 && slug[o - 1] == '-')
    o--;
  slug[o] = '\0';
  return o;
}

static void slug_of(const char *title, char *slug, size_t n)
{
  if (slugify(title, slug, n, 48) < 2)
    util_strlcpy(slug, "codalab-import", n);
}

/* Copies the bundle's file SRC/NAME (a phase's public_data or starting_kit zip) to DST/data/ under its own name
 * and lists it in OUT's "data", once: participants download it as CodaLab served it, after the anonymity gate has
 * checked every member. NAME NULL: nothing to do. 0, or -1 with a problem noted. */
static int served_file(const char *src, const char *dst, const char *name, json_t *out, const char *where,
                       struct bundle_problems *p, FILE *log)
{
  char from[APP_PATH_MAX], to[APP_PATH_MAX], rel[160], err[256] = "", sha[65];
  json_t *data = json_object_get(out, "data"), *e;
  const char *base;
  struct stat st;
  int64_t size;
  size_t i;
  if (name == NULL)
    return 0;
  base = strrchr(name, '/') != NULL ? strrchr(name, '/') + 1 : name;
  if (strstr(name, "..") != NULL || name[0] == '/' || base[0] == '.' || strlen(base) > 100 ||
      strspn(base, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(base) ||
      util_fmt(from, sizeof(from), "%s/%s", src, name) != 0 || lstat(from, &st) != 0 || !S_ISREG(st.st_mode)) {
    note(p, where, "\"%s\" must be a file of the bundle named with A-Z a-z 0-9 . _ -", name);
    return -1;
  }
  if (util_fmt(rel, sizeof(rel), "data/%s", base) != 0)
    return -1;
  if (data == NULL) {
    data = json_array();
    json_object_set_new(out, "data", data);
  }
  json_array_foreach(data, i, e)
  {
    if (strcmp(json_string_value(e), rel) == 0)
      return 0; /* the same file for several phases */
  }
  if (util_fmt(to, sizeof(to), "%s/data", dst) != 0 || (mkdir(to, 0755) != 0 && errno != EEXIST) ||
      util_fmt(to, sizeof(to), "%s/%s", dst, rel) != 0 ||
      store_copy_file(from, to, &size, sha, err, sizeof(err)) != 0) {
    note(p, where, "cannot copy %s: %s", name, err);
    return -1;
  }
  say(log, "%s%s served as %s", where, name, rel);
  return json_array_append_new(data, json_string(rel));
}

/* A scan of a program folder's files (each up to PAGE_MAX, those ending in SUFFIX when not NULL) for one that MATCH
 * says yes to, given WORD. */
struct program_scan {
  const char *suffix, *word;
  int (*match)(const char *text, const char *word);
  int found;
};

static int scan_entry(const char *path, const char *rel, const struct stat *st, void *arg)
{
  struct program_scan *s = arg;
  size_t len = strlen(rel), slen = s->suffix != NULL ? strlen(s->suffix) : 0;
  if (!S_ISREG(st->st_mode) || st->st_size > PAGE_MAX || len < slen ||
      (slen > 0 && strcmp(rel + len - slen, s->suffix) != 0))
    return 0;
  char *text = util_read_file(path, PAGE_MAX, NULL);
  s->found |= text != NULL && s->match(text, s->word);
  free(text);
  return s->found; /* non-zero stops the walk */
}

/* 1 when a file of the program folder DIR ending in SUFFIX (any file: NULL) is one MATCH(text, WORD) accepts. */
static int program_has(const char *dir, const char *suffix, int (*match)(const char *, const char *), const char *word)
{
  struct program_scan s = {suffix, word, match, 0};
  util_walk(dir, 16, 10000, scan_entry, &s);
  return s.found;
}

static int holds_word(const char *text, const char *word)
{
  return strstr(text, word) != NULL;
}

/* The shim concours adds to a program that uses NumPy's removed aliases (written as C text: it is copied as is). */
static const char numpy_compat_py[] =
  "\"\"\"Added by concours when it converted this CodaLab bundle: the program uses NumPy aliases (np.float, "
  "np.int...)\n"
  "that NumPy 1.24 removed. This restores them as the builtins they always meant, then runs the program unchanged.\n"
  "Usage: python3 concours_numpy_compat.py PROGRAM.py ARGS...\"\"\"\n"
  "import os\n"
  "import runpy\n"
  "import sys\n"
  "\n"
  "try:\n"
  "    import numpy\n"
  "    for _name, _type in ((\"float\", float), (\"int\", int), (\"bool\", bool), (\"object\", object), (\"str\", "
  "str),\n"
  "                         (\"complex\", complex), (\"long\", int), (\"unicode\", str)):\n"
  "        if _name not in numpy.__dict__:\n"
  "            setattr(numpy, _name, _type)\n"
  "except ImportError:\n"
  "    pass\n"
  "sys.argv = sys.argv[1:]\n"
  "sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))\n"
  "runpy.run_path(sys.argv[0], run_name=\"__main__\")\n";

/* 1 when TEXT uses one of NumPy's removed aliases: np.float, np.int, np.bool, np.object, np.str, np.complex (or
 * numpy.X), not followed by a name character (np.float64 is fine). */
static int uses_numpy_alias(const char *text, const char *unused)
{
  (void)unused;
  static const char *const prefixes[] = {"np.", "numpy."};
  static const char *const aliases[] = {"float", "int", "bool", "object", "str", "complex", "long", "unicode"};
  for (size_t p = 0; p < 2; p++) {
    size_t plen = strlen(prefixes[p]);
    for (const char *at = strstr(text, prefixes[p]); at != NULL; at = strstr(at + 1, prefixes[p])) {
      if (at > text && (isalnum((unsigned char)at[-1]) || at[-1] == '_' || at[-1] == '.'))
        continue; /* part of another name */
      for (size_t k = 0; k < sizeof(aliases) / sizeof(aliases[0]); k++) {
        size_t n = strlen(aliases[k]);
        char after = at[plen + n];
        if (strncmp(at + plen, aliases[k], n) == 0 && !isalnum((unsigned char)after) && after != '_')
          return 1;
      }
    }
  }
  return 0;
}

/* Rewrites the command: line of the program folder DIR's metadata (or metadata.yaml) to CMD, keeping its other
 * lines. 0, or -1. */
static int set_command(const char *dir, const char *cmd)
{
  static const char *const names[] = {"metadata", "metadata.yaml"};
  char path[APP_PATH_MAX], *text = NULL, *out = NULL;
  int rc = -1;
  for (size_t i = 0; i < 2 && text == NULL; i++) {
    if (util_fmt(path, sizeof(path), "%s/%s", dir, names[i]) == 0)
      text = util_read_file(path, 64 * 1024, NULL);
  }
  size_t cap = text != NULL ? strlen(text) + strlen(cmd) + 64 : 0, used = 0;
  out = text != NULL ? malloc(cap) : NULL;
  if (out == NULL)
    goto done;
  used = (size_t)snprintf(out, cap, "command: %s\n", cmd);
  for (char *line = text; line != NULL && *line != '\0';) { /* the other lines, as they were */
    char *next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    if (strncmp(line, "command:", 8) != 0 && used < cap)
      used += (size_t)snprintf(out + used, cap - used, "%s\n", line);
    line = next;
  }
  rc = used < cap && util_write_file_atomic(path, out, used, 0644) == 0 ? 0 : -1;
done:
  free(text);
  free(out);
  return rc;
}

/* When a Python file of the program folder DIR uses NumPy's removed aliases, adds concours_numpy_compat.py to DIR
 * and rewrites its metadata's command (`python3 SCRIPT ...`) to run SCRIPT through it. 0 (done, or nothing to do),
 * or -1 with a problem noted. */
static int numpy_compat(const char *dir, FILE *log, struct bundle_problems *p)
{
  char cmd[SANDBOX_PROGRAM_CMD_MAX], err[256], shim[APP_PATH_MAX], next[SANDBOX_PROGRAM_CMD_MAX + 64];
  if (!program_has(dir, ".py", uses_numpy_alias, NULL) ||
      sandbox_program_command(dir, cmd, sizeof(cmd), err, sizeof(err)) != 0)
    return 0; /* no alias, or no usable command: the import check says why */
  if (strncmp(cmd, "python3 ", 8) != 0 || cmd[8] == '-') {
    say(log,
        "the program uses NumPy aliases that NumPy 1.24 removed (np.float...), and its command (%s) is not "
        "\"python3 SCRIPT ...\": it may fail",
        cmd);
    return 0;
  }
  if (util_fmt(next, sizeof(next), "python3 $program/concours_numpy_compat.py %s", cmd + 8) != 0 ||
      util_fmt(shim, sizeof(shim), "%s/concours_numpy_compat.py", dir) != 0 ||
      util_write_file_atomic(shim, numpy_compat_py, strlen(numpy_compat_py), 0644) != 0 ||
      set_command(dir, next) != 0) {
    note(p, "scoring_program", "cannot add the NumPy compatibility shim");
    return -1;
  }
  say(log, "the program uses NumPy aliases that NumPy 1.24 removed (np.float...): its command now runs it through "
           "concours_numpy_compat.py, which restores them as the builtins they meant");
  return 0;
}

/* Codabench runs programs in /app/program with /app/input, /app/output and /app/shared (an ingestion program with
 * /app/input_data and the participant's code in /app/ingested_program): a command naming those folders (the
 * examples' `python3 /app/program/scoring.py /app/input/ /app/output/`) gets $program, $input, $output, $shared and
 * $submission_program instead. 0, or -1 with a problem noted. */
static int codabench_paths(const char *dir, FILE *log, struct bundle_problems *p)
{
  /* longest first: /app/input_data is not /app/input followed by _data */
  static const char *const from[] = {"/app/ingested_program", "/app/input_data", "/app/program", "/app/input",
                                     "/app/output",           "/app/shared"};
  static const char *const to[] = {"$submission_program", "$input", "$program", "$input", "$output", "$shared"};
  const size_t nfrom = sizeof(from) / sizeof(from[0]);
  char cmd[SANDBOX_PROGRAM_CMD_MAX], err[256], next[SANDBOX_PROGRAM_CMD_MAX];
  size_t o = 0;
  int changed = 0;
  if (sandbox_program_command(dir, cmd, sizeof(cmd), err, sizeof(err)) != 0)
    return 0; /* the import check says why */
  for (size_t i = 0; cmd[i] != '\0' && o + 1 < sizeof(next);) {
    size_t k = 0;
    while (k < nfrom &&
           (strncmp(cmd + i, from[k], strlen(from[k])) != 0 || (i > 0 && cmd[i - 1] != ' ' && cmd[i - 1] != '=')))
      k++;
    if (k < nfrom && o + strlen(to[k]) + 1 < sizeof(next)) {
      memcpy(next + o, to[k], strlen(to[k]));
      o += strlen(to[k]);
      i += strlen(from[k]);
      changed = 1;
    } else {
      next[o++] = cmd[i++];
    }
  }
  next[o] = '\0';
  if (!changed)
    return 0;
  if (set_command(dir, next) != 0) {
    note(p, strrchr(dir, '/') != NULL ? strrchr(dir, '/') + 1 : dir, "cannot rewrite the command");
    return -1;
  }
  say(log, "the %s's command named Codabench's /app folders: it is now \"%s\"",
      strrchr(dir, '/') != NULL ? strrchr(dir, '/') + 1 : dir, next);
  return 0;
}

/* Places the unpacked reference REF_DIR in DST/private as the ground truth and fills TRUTH_REL and *FULL: when it
 * holds one CSV at its top with a Usage column the program (PROGRAM_DIR) never names, concours splits it and runs
 * the program once per split (its contract: the private rows stay unseen until the jury publishes); otherwise the
 * whole folder is handed to the program as it is, once, as CodaLab did. 0, or -1 with a problem noted. */
static int place_reference(const char *ref_dir, const char *program_dir, const char *dst, char *truth_rel, size_t n,
                           int *full, FILE *log, struct bundle_problems *p)
{
  char base[128] = "", csv[APP_PATH_MAX], path[APP_PATH_MAX];
  int one_csv = lone_csv(ref_dir, base, sizeof(base)) && util_fmt(csv, sizeof(csv), "%s/%s", ref_dir, base) == 0;
  *full = !(one_csv && has_usage_column(csv) && !program_has(program_dir, NULL, holds_word, "Usage"));
  if (util_fmt(path, sizeof(path), "%s/private", dst) != 0 || mkdir(path, 0700) != 0 ||
      util_fmt(truth_rel, n, *full ? "private/reference" : "private/%s", base) != 0 ||
      util_fmt(path, sizeof(path), "%s/%s", dst, truth_rel) != 0 || rename(*full ? ref_dir : csv, path) != 0) {
    note(p, "(import)", "cannot move the reference data into place");
    return -1;
  }
  if (*full)
    say(log, "the program runs once on the whole reference data, handed to it as it is (CodaLab's way): its "
             "score is public, as CodaLab showed it");
  else
    say(log,
        "the reference %s has a Usage column the program does not read: concours runs the program once per "
        "split, and the Private rows' score stays hidden until the jury publishes",
        base);
  return 0;
}

/* Writes DST/challenge.json from OUT (which holds the phases) with what every conversion sets: SLUG, the title
 * TITLE, summary from DESCRIPTION, the ground truth TRUTH_REL (placed by place_reference; FULL: run once on it, no
 * split), the program's score KEY and direction. 0, or -1 with a problem noted. */
static int write_definition(const char *dst, json_t *out, const char *truth_rel, int full, const char *title,
                            const char *slug, const char *description, const char *key, int higher,
                            struct bundle_problems *p)
{
  const char *shown = title != NULL ? title : slug;
  json_object_set_new(out, "slug", json_string(slug));
  json_object_set_new(out, "title", json_stringn(shown, strlen(shown) > 200 ? 200 : strlen(shown)));
  if (description != NULL)
    json_object_set_new(out, "summary",
                        json_stringn(description, strlen(description) > 500 ? 500 : strlen(description)));
  json_object_set_new(out, "terms_version", json_integer(1));
  if (json_object_get(out, "data") == NULL)
    json_object_set_new(out, "data", json_array());
  json_object_set_new(out, "ground_truth", json_string(truth_rel));
  if (full) /* nothing for concours to split: the score is public, as on CodaLab */
    json_object_set_new(out, "split_column", json_null());
  json_object_set_new(out, "metric", /* CodaLab programs write -1 when they cannot score: a failure, not a rank */
                      json_pack("{s:s,s:s,s:b,s:[i],s:b,s:s}", "program", "scoring_program", "score_key", key,
                                "higher_is_better", higher, "failure_values", -1, "show_errors", 1, "runs",
                                full ? "full" : "per_split"));
  char *def = json_dumps(out, JSON_INDENT(2));
  int rc = def != NULL && write_text(dst, "challenge.json", def) == 0 ? 0 : -1;
  if (rc != 0)
    note(p, "(import)", "cannot write challenge.json");
  free(def);
  return rc;
}

static int task_files(const char *src, const char *name, const char *dir, const char *field, struct bundle_problems *p,
                      FILE *log);

/* Whether the CodaLab phase PH takes code: an ingestion program, input data, and is_scoring_only false (CodaLab's
 * default is true: results only); an ingestion program run "only during scoring" (on result files) is not. */
static int takes_code(json_t *ph)
{
  json_t *only = json_object_get(ph, "is_scoring_only");
  int scoring_only = only == NULL || truthy(only);
  return json_object_get(ph, "ingestion_program") != NULL && json_object_get(ph, "input_data") != NULL &&
         !scoring_only && !truthy(json_object_get(ph, "ingestion_program_only_during_scoring"));
}

/* A code challenge from an ingestion program (CodaLab's code submissions, docs/code.md): the bundle's zip or folder
 * INGESTION goes to DST/ingestion_program, the hidden input data INPUT to DST/input_data, and OUT gets the "submission"
 * block: the ingestion program runs on the input data with the participant's code at /code (no command of its own),
 * and the whole of its output folder is handed to the scoring program as $input/res. WALL_S (CodaLab's
 * execution_time_limit) bounds a run when positive. WHERE names the source in the report. 0, or -1 with a problem
 * noted. */
static int code_submission(const char *src, const char *dst, const char *ingestion, const char *input, int wall_s,
                           int inputs_public, const char *where, json_t *out, struct bundle_problems *p, FILE *log)
{
  char path[APP_PATH_MAX], field[96];
  snprintf(field, sizeof(field), "%singestion_program", where);
  if (util_fmt(path, sizeof(path), "%s/ingestion_program", dst) != 0 ||
      task_files(src, ingestion, path, field, p, log) != 0 || codabench_paths(path, log, p) != 0 ||
      numpy_compat(path, log, p) != 0)
    return -1;
  snprintf(field, sizeof(field), "%sinput_data", where);
  if (util_fmt(path, sizeof(path), "%s/input_data", dst) != 0 || task_files(src, input, path, field, p, log) != 0)
    return -1;
  json_t *sub = json_pack("{s:s,s:s,s:{s:s},s:b,s:{s:i}}", "kind", "code", "ingestion", "ingestion_program", "inputs",
                          "test", "input_data", "output_folder", 1, "limits", "wall_seconds",
                          wall_s > 0 && wall_s <= SANDBOX_WALL_MAX_S ? wall_s : 3600);
  json_object_set_new(out, "submission", sub);
  if (inputs_public) /* the log can show the inputs only (never the reference): participants read it, as there */
    json_object_set_new(sub, "participant_logs", json_string("all"));
  say(log,
      "%singestion_program: code submissions, as on CodaLab: the participant's code (at $submission_program) is "
      "run by the ingestion program on input_data, and the whole of its $output is handed to the scoring program "
      "as $input/res; %s",
      where,
      inputs_public ? "input_data is also served as public data, so participants read the ingestion log of their "
                      "runs, as on CodaLab (submission.participant_logs \"all\": a run never sees the reference)"
                    : "input_data is hidden, so participants see a safe message, not the ingestion log, of these "
                      "runs (submission.participant_logs \"all\" would show it, with whatever the code prints about "
                      "the hidden data)");
  return 0;
}

/* ------------------------------------------------------------------------------------------ Codabench v2 */

/* A Codabench date: "1-31-2026" (month-day-year, as its examples write them), or a CodaLab one; -1 when
 * malformed. */
static int64_t codabench_date(const char *s)
{
  int m = 0, d = 0, y = 0, used = 0;
  if (s != NULL && sscanf(s, "%d-%d-%d%n", &m, &d, &y, &used) == 3 && s[used] == '\0' && y > 1900 && m >= 1 &&
      m <= 12 && d >= 1 && d <= 31) {
    char iso[32];
    int64_t t;
    snprintf(iso, sizeof(iso), "%04d-%02d-%02dT00:00:00Z", y, m, d);
    return util_parse_iso8601(iso, &t) == 0 ? t : -1;
  }
  return codalab_date(s);
}

/* Puts the bundle's folder or zip NAME (a task's program or data) at DIR. 0, or -1 with a problem noted. */
static int task_files(const char *src, const char *name, const char *dir, const char *field, struct bundle_problems *p,
                      FILE *log)
{
  char path[APP_PATH_MAX], clean[APP_PATH_MAX];
  struct stat st;
  size_t n = name != NULL ? strlen(name) : 0;
  if (n == 0 || n >= sizeof(clean) || strstr(name, "..") != NULL || name[0] == '/') {
    note(p, field, "must name a folder or a zip of the bundle");
    return -1;
  }
  util_strlcpy(clean, name, sizeof(clean));
  while (n > 1 && clean[n - 1] == '/')
    clean[--n] = '\0';
  if (util_fmt(path, sizeof(path), "%s/%s", src, clean) != 0 || lstat(path, &st) != 0) {
    note(p, field, "\"%s\" is not in the bundle", name);
    return -1;
  }
  if (S_ISREG(st.st_mode))
    return unzip(src, clean, dir, field, p, log);
  if (!S_ISDIR(st.st_mode) || sandbox_stage_tree(path, dir, 0) != 0) {
    note(p, field, "\"%s\" must be a folder of regular files (no links) or a zip", name);
    return -1;
  }
  return 0;
}

/* The task of index INDEX among TASKS, or NULL. */
static json_t *task_of(json_t *tasks, int index)
{
  size_t i;
  json_t *t;
  json_array_foreach(tasks, i, t)
  {
    if (int_of(json_object_get(t, "index"), (int)i) == index)
      return t;
  }
  return NULL;
}

/* The columns of a Codabench leaderboard (an array of {title, key, index, sorting, precision, hidden, computation,
 * computation_indexes}) in map_columns' shape (see v1_columns). */
static json_t *v2_columns(json_t *lb)
{
  json_t *out = json_array(), *cols = json_object_get(lb, "columns"), *col;
  size_t i;
  json_array_foreach(cols, i, col)
  {
    const char *key = json_string_value(json_object_get(col, "key"));
    json_t *comp = json_object_get(col, "computation");
    if (key == NULL)
      continue;
    json_t *c =
      column_json(key, json_string_value(json_object_get(col, "title")), int_of(json_object_get(col, "index"), (int)i),
                  json_string_value(json_object_get(col, "sorting")), int_of(json_object_get(col, "precision"), -1),
                  json_object_get(col, "hidden"));
    if (c != NULL && json_is_string(comp)) {
      json_t *fields = json_array(), *ix, *other;
      size_t j, k;
      json_array_foreach(json_object_get(col, "computation_indexes"), j, ix)
      {
        json_array_foreach(cols, k, other)
        {
          if (int_of(json_object_get(other, "index"), (int)k) == int_of(ix, -1) &&
              json_string_value(json_object_get(other, "key")) != NULL)
            json_array_append_new(fields, json_string(json_string_value(json_object_get(other, "key"))));
        }
      }
      json_object_set_new(c, "fields", fields);
      /* Codabench computes the avg, sum, min or max of the values, not of the ranks: no concours equivalent */
      json_object_set_new(c, "operation", json_sprintf("%s of the values", json_string_value(comp)));
    }
    json_array_append_new(out, c);
  }
  return out;
}

/* ------------------------------------------------------------------------------------------ parts */

/* The start of phase PH (Codabench's "start" when V2, else CodaLab's "start_date"), or -1 when it has none. */
static int64_t phase_start(json_t *ph, int v2)
{
  return v2 ? codabench_date(json_string_value(json_object_get(ph, "start")))
            : codalab_date(json_string_value(json_object_get(ph, "start_date")));
}

/* The first start among the phases ALL later than T0 (a phase without an end ends when the next one of the
 * competition begins), or -1. */
static int64_t next_start(json_t *all, int64_t t0, int v2)
{
  int64_t best = -1;
  for (size_t i = 0; i < json_array_size(all); i++) {
    int64_t t = phase_start(json_array_get(all, i), v2);
    if (t > t0 && (best < 0 || t < best))
      best = t;
  }
  return best;
}

/* The position of phase PH in ALL (the competition's phases as the bundle lists them), so that a report names a phase
 * as the bundle does even in a challenge made of some of them; FALLBACK when it is not there. */
static size_t phase_pos(json_t *all, json_t *ph, size_t fallback)
{
  for (size_t i = 0; i < json_array_size(all); i++) {
    if (json_array_get(all, i) == ph)
      return i;
  }
  return fallback;
}

/* The phases of competition Y as the converters read them: CodaLab's in phasenumber order, each naming the
 * scoring_program and reference_data that score it (a phase naming none is scored with the phase's before);
 * Codabench's with a phase that runs several tasks (at most CODALAB_MAX_PARTS) made into one phase per task, of the
 * same name and starting together, so that each task becomes a track (a challenge of its own, named after its task:
 * track_label), scored as Codabench scores a submission on each of them. A new array, or NULL out of memory. */
static json_t *competition_phases(json_t *y, int v2)
{
  if (!v2) {
    json_t *sorted = sorted_phases(json_object_get(y, "phases")), *out = json_array(), *ph, *prog = NULL, *ref = NULL;
    size_t i;
    json_array_foreach(sorted, i, ph)
    {
      json_t *copy = json_copy(ph);
      prog = json_object_get(ph, "scoring_program") != NULL ? json_object_get(ph, "scoring_program") : prog;
      ref = json_object_get(ph, "reference_data") != NULL ? json_object_get(ph, "reference_data") : ref;
      if (copy != NULL && prog != NULL)
        json_object_set(copy, "scoring_program", prog);
      if (copy != NULL && ref != NULL)
        json_object_set(copy, "reference_data", ref);
      json_array_append_new(out, copy);
    }
    json_decref(sorted);
    return out;
  }
  json_t *in = json_object_get(y, "phases"), *out = json_array(), *ph, *t;
  size_t i, k;
  json_array_foreach(in, i, ph)
  {
    json_t *tasks = json_object_get(ph, "tasks");
    if (json_array_size(tasks) <= 1 || json_array_size(tasks) > CODALAB_MAX_PARTS) {
      json_array_append(out, ph); /* checked (one task per phase) by convert_v2 */
      continue;
    }
    json_array_foreach(tasks, k, t)
    {
      json_t *copy = json_copy(ph);
      if (copy == NULL)
        break;
      json_object_set_new(copy, "tasks", json_pack("[O]", t));
      json_array_append_new(out, copy);
    }
  }
  return out;
}

/* Groups the phases (in order) into runs of consecutive phases that start at the same date (CodaLab's parallel
 * phases). FIRST (NPH + 1 entries) gets each group's first index, then NPH. Returns the group count. */
static size_t phase_groups(json_t *phases, int v2, size_t *first)
{
  size_t nph = json_array_size(phases), g = 0;
  int64_t at = -1;
  for (size_t i = 0; i < nph; i++) {
    int64_t t = phase_start(json_array_get(phases, i), v2);
    if (i == 0 || t < 0 || t != at)
      first[g++] = i;
    at = t;
  }
  first[g] = nph;
  return g;
}

/* The track count of PHASES (FIRST and NG from phase_groups): K when every group of parallel phases holds 1 or K
 * phases (track T is then made of each group's only phase, or its Tth), 1 when no phases run in parallel, 0 (a
 * problem noted) when groups hold other counts. *WIDEST gets the first group of K. */
static int track_count(const size_t *first, size_t ng, size_t *widest, struct bundle_problems *p)
{
  size_t k = 1;
  *widest = 0;
  for (size_t g = 0; g < ng; g++) {
    if (first[g + 1] - first[g] > k) {
      k = first[g + 1] - first[g];
      *widest = g;
    }
  }
  for (size_t g = 0; g < ng; g++) {
    size_t n = first[g + 1] - first[g];
    if (n != 1 && n != k) {
      note(p, "phases",
           "phases %zu to %zu start together (%zu tracks) but phases %zu to %zu are %zu in parallel: every group of "
           "phases starting at one date must hold one phase per track (or a single phase, shared by every track); "
           "import one phase with --phase N",
           first[*widest] + 1, first[*widest] + k, k, first[g] + 1, first[g] + n, n);
      return 0;
    }
  }
  return (int)k;
}

/* The name of track T (1-based) of PHASES, FIRST being the first of a group of K phases starting together: its phase's
 * name there (LABEL_KEY), or, when these phases share one name (a Codabench phase running several tasks), the name of
 * its task in Y (NULL when it has none). */
static const char *track_label(json_t *y, json_t *phases, size_t first, int k, int t, int v2, const char *label_key)
{
  json_t *ph = json_array_get(phases, first + (size_t)t - 1);
  const char *label = json_string_value(json_object_get(ph, label_key));
  int shared = 1;
  for (int u = 0; u < k && v2; u++) {
    const char *other = json_string_value(json_object_get(json_array_get(phases, first + (size_t)u), label_key));
    shared &= label != NULL && other != NULL && strcmp(label, other) == 0;
  }
  if (!v2 || !shared)
    return label;
  json_t *task = task_of(json_object_get(y, "tasks"), int_of(json_array_get(json_object_get(ph, "tasks"), 0), -1));
  return json_string_value(json_object_get(task, "name"));
}

/* What scores phase PH (of competition_phases) of competition Y, as a comparable string in BUF (size N): CodaLab's
 * scoring_program, reference_data and the input data when it takes code; Codabench's task's program, reference and
 * input data. Paths compare without their trailing '/'. */
static void phase_scorer(json_t *y, json_t *ph, int v2, char *buf, size_t n)
{
  json_t *from =
    v2 ? task_of(json_object_get(y, "tasks"), int_of(json_array_get(json_object_get(ph, "tasks"), 0), -1)) : ph;
  const char *program = json_string_value(json_object_get(from, "scoring_program"));
  const char *reference = json_string_value(json_object_get(from, "reference_data"));
  const char *code = v2 || takes_code(ph) ? json_string_value(json_object_get(from, "input_data")) : NULL;
  size_t np = program != NULL ? strlen(program) : 0, nr = reference != NULL ? strlen(reference) : 0;
  while (np > 0 && program[np - 1] == '/')
    np--;
  while (nr > 0 && reference[nr - 1] == '/')
    nr--;
  snprintf(buf, n, "%.*s\n%.*s\n%s", (int)np, program != NULL ? program : "", (int)nr,
           reference != NULL ? reference : "", code != NULL ? code : "");
}

/* Appends to PARTS the part {"phases": [the indices IDX[0..N) whose scorer is WANT], "label": LABEL or null, "why":
 * WHY, "scorer": WANT}, unless a part already there has the same scorer and every one of these phases (a phase that
 * several tracks share, scored as one of them scores it, is not made a challenge again). */
static void add_part(json_t *parts, const size_t *idx, char (*scorer)[512], size_t n, const char *want,
                     const char *label, const char *why)
{
  json_t *list = json_array(), *other;
  size_t i, j;
  for (i = 0; i < n; i++) {
    if (strcmp(scorer[i], want) == 0)
      json_array_append_new(list, json_integer((json_int_t)idx[i]));
  }
  json_array_foreach(parts, i, other)
  {
    size_t found = 0;
    for (j = 0; j < json_array_size(list) && strcmp(json_string_value(json_object_get(other, "scorer")), want) == 0;
         j++) {
      json_t *mine = json_array_get(list, j), *theirs;
      size_t k;
      json_array_foreach(json_object_get(other, "phases"), k, theirs) found += json_equal(mine, theirs) ? 1 : 0;
    }
    if (json_array_size(list) > 0 && found == json_array_size(list)) {
      json_decref(list);
      return;
    }
  }
  json_array_append_new(parts,
                        json_pack("{s:o,s:s?,s:s,s:s}", "phases", list, "label", label, "why", why, "scorer", want));
}

/* The challenges competition Y (PHASES from competition_phases) converts into, as CodaLab and Codabench showed a
 * leaderboard per phase: each track (phases starting together, track_count) is a challenge, and within a track the
 * phases scored by another program, reference or kind of submission than its last phase form challenges of their
 * own (one per scorer, named after their first phase), after the track's main one. A new array of
 * {"phases": [indices], "label": appended to the title or null, "why"}, or NULL (a problem noted in P). */
static json_t *plan_parts(json_t *y, json_t *phases, int v2, struct bundle_problems *p)
{
  size_t nph = json_array_size(phases), widest;
  size_t *first = malloc((nph + 1) * sizeof(*first)), *idx = malloc((nph + 1) * sizeof(*idx));
  char(*scorer)[512] = malloc((nph + 1) * sizeof(*scorer));
  json_t *parts = json_array();
  const char *label_key = v2 ? "name" : "label";
  int k = 0;
  if (first == NULL || idx == NULL || scorer == NULL || parts == NULL)
    goto fail;
  size_t ng = phase_groups(phases, v2, first);
  k = track_count(first, ng, &widest, p);
  if (k == 0)
    goto fail;
  for (int t = 1; t <= k && ng > 0; t++) { /* no phase: one challenge, which the conversion refuses */
    const char *label = k > 1 ? track_label(y, phases, first[widest], k, t, v2, label_key) : NULL;
    char name[32];
    snprintf(name, sizeof(name), "track %d", t);
    for (size_t g = 0; g < ng; g++) {
      idx[g] = first[g] + (first[g + 1] - first[g] == 1 ? 0 : (size_t)t - 1);
      phase_scorer(y, json_array_get(phases, idx[g]), v2, scorer[g], sizeof(scorer[0]));
    }
    add_part(parts, idx, scorer, ng, scorer[ng - 1], k > 1 ? (label != NULL ? label : name) : NULL,
             k > 1 ? "a track (phases starting together)" : "the last phase's scorer");
    for (size_t g = 0; g + 1 < ng; g++) { /* each other scorer, at its first phase */
      int seen = strcmp(scorer[g], scorer[ng - 1]) == 0;
      for (size_t h = 0; h < g && !seen; h++)
        seen = strcmp(scorer[h], scorer[g]) == 0;
      if (!seen)
        add_part(parts, idx, scorer, ng, scorer[g],
                 json_string_value(json_object_get(json_array_get(phases, idx[g]), label_key)),
                 "scored apart on CodaLab (its own program, reference or kind of submission), with a leaderboard of "
                 "its own");
    }
  }
  if (ng == 0)
    json_array_append_new(parts, json_pack("{s:[],s:s,s:s}", "phases", "why", "no phase", "scorer", ""));
  if (json_array_size(parts) > CODALAB_MAX_PARTS) {
    note(p, "phases",
         "the competition makes %zu challenges (tracks and phases scored apart): at most %d are imported "
         "from one bundle; import one phase with --phase N",
         json_array_size(parts), CODALAB_MAX_PARTS);
    goto fail;
  }
  free(first);
  free(idx);
  free(scorer);
  return parts;
fail:
  free(first);
  free(idx);
  free(scorer);
  json_decref(parts);
  return NULL;
}

/* The name of challenge PART (1-based) made from the competition titled TITLE (NULL: "Competition") under LABEL
 * (NULL: the main one, named as the competition): its title into BUF (size N), its slug into SLUG (size 64). The
 * label's last words tell challenges apart ("... First Task", "... Second Task"), so the slug keeps them and cuts the
 * title's words; a label without letters or digits gives "part-PART". */
static void part_name(const char *title, const char *label, int part, char *buf, size_t n, char *slug)
{
  char base[64], tail[64];
  slug_of(title, base, sizeof(base));
  util_strlcpy(slug, base, 64);
  snprintf(buf, n, "%s", title != NULL ? title : "Competition");
  if (label == NULL)
    return;
  size_t nt = slugify(label, tail, sizeof(tail), sizeof(tail));
  if (nt == 0)
    nt = (size_t)snprintf(tail, sizeof(tail), "part-%d", part);
  size_t from = nt > 24 ? nt - 24 : 0;
  while (from > 0 && from < nt && tail[from - 1] != '-')
    from++;
  size_t keep = strlen(base) < 62 - (nt - from) ? strlen(base) : 62 - (nt - from);
  while (keep < strlen(base) && keep > 0 && base[keep] != '-') /* cut between words */
    keep--;
  while (keep > 0 && base[keep - 1] == '-')
    keep--;
  snprintf(slug, 64, "%.*s-%s", (int)keep, base, tail + from);
  snprintf(buf, n, "%s \u2014 %s", title != NULL ? title : "Competition", label);
}

/* With PART > 0 (1-based, of plan_parts' list), keeps in *PHASES (an owned array, replaced) the phases of that part;
 * BUF (size N) gets its title and SLUG (size 64) its slug (part_name), so that each part imports as a challenge of its
 * own, *TITLE then pointing at BUF; *COMPETITION gets the definition's "competition" object that links them all (a new
 * reference). 0, or -1 (a problem noted). */
static int keep_part(json_t *y, json_t **phases, int v2, int part, const char **title, char *buf, size_t n, char *slug,
                     json_t **competition, FILE *log, struct bundle_problems *p)
{
  if (part <= 0)
    return 0;
  json_t *parts = plan_parts(y, *phases, v2, p), *kept = json_array(), *v, *list = json_array();
  json_t *one = json_array_get(parts, (size_t)part - 1);
  size_t i;
  if (one == NULL || kept == NULL || list == NULL) {
    if (parts != NULL)
      note(p, "phases", "part %d: the competition makes %zu challenge(s)", part, json_array_size(parts));
    json_decref(parts);
    json_decref(kept);
    json_decref(list);
    return -1;
  }
  json_array_foreach(json_object_get(one, "phases"), i, v)
    json_array_append(kept, json_array_get(*phases, (size_t)json_integer_value(v)));
  json_array_foreach(parts, i, v)
  {
    char other_title[320], other_slug[64];
    part_name(*title, json_string_value(json_object_get(v, "label")), (int)i + 1, other_title, sizeof(other_title),
              other_slug);
    json_array_append_new(list, json_pack("{s:s,s:s%}", "slug", other_slug, "title", other_title,
                                          strlen(other_title) > 200 ? (size_t)200 : strlen(other_title)));
  }
  *competition =
    json_pack("{s:s%,s:o}", "title", *title != NULL ? *title : "Competition",
              *title != NULL && strlen(*title) > 200 ? (size_t)200 : strlen(*title != NULL ? *title : "Competition"),
              "challenges", list);
  part_name(*title, json_string_value(json_object_get(one, "label")), part, buf, n, slug);
  *title = buf;
  say(log, "challenge %d of %zu made from this competition (%s): %zu phase(s), as \"%s\" (%s)", part,
      json_array_size(parts), json_string_value(json_object_get(one, "why")), json_array_size(kept), buf, slug);
  json_decref(parts);
  json_decref(*phases);
  *phases = kept;
  return 0;
}

int codalab_parts(const char *src, struct bundle_problems *p)
{
  char path[APP_PATH_MAX], err[512];
  if (util_fmt(path, sizeof(path), "%s/competition.yaml", src) != 0)
    return 1;
  json_t *y = load_yaml(path, err, sizeof(err));
  if (y == NULL)
    return 1; /* codalab_convert names the problem */
  const char *version = json_string_value(json_object_get(y, "version"));
  int v2 = version != NULL && strcmp(version, "2") == 0;
  json_t *phases = competition_phases(y, v2);
  json_t *parts = phases != NULL ? plan_parts(y, phases, v2, p) : NULL;
  int n = parts != NULL ? (int)json_array_size(parts) : p->n > 0 ? 0 : -1;
  json_decref(parts);
  json_decref(phases);
  json_decref(y);
  return n;
}

/* A Codabench v2 bundle (version: 2): tasks, solutions, phases with tasks, leaderboards with columns, converted
 * (its part PART, when the competition makes several challenges) into DST. What cannot be mapped is refused with its
 * key named. */
static int convert_v2(const char *src, const char *dst, json_t *y, int only_phase, int part, struct bundle_problems *p,
                      FILE *log)
{
  /* what is mapped (docker_image: image_note); every other top-level key (image, registration...) is reported as
   * ignored */
  static const char *const top_known[] = {"version", "title",     "description",  "terms",        "pages", "tasks",
                                          "phases",  "solutions", "leaderboards", "docker_image", NULL};
  static const char *const phase_known[] = {
    "index", "name",      "description",          "start", "end", "max_submissions_per_day", "max_submissions",
    "tasks", "solutions", "execution_time_limit", NULL};
  char path[APP_PATH_MAX], key[128], truth_rel[160], slug[64] = "", ref_dir[APP_PATH_MAX], field[64];
  json_t *out = json_object(), *out_phases = json_array(), *page, *phases = NULL, *all_phases = NULL;
  char part_title[320];
  json_t *competition = NULL; /* set by keep_part, then owned by out */
  char *text = NULL, *overview = NULL;
  int rc = 1, higher = 1, program_task = -1, precision = 4, full = 0;
  size_t i;
  if (out == NULL || out_phases == NULL) {
    json_decref(out);
    json_decref(out_phases);
    return -1;
  }
  json_object_set_new(out, "phases", out_phases);
  ignored("", y, top_known, log);
  image_note(y, log);
  const char *title = json_string_value(json_object_get(y, "title"));
  const char *description = json_string_value(json_object_get(y, "description"));
  /* pages are Markdown files: the overview first, the others as its sections */
  size_t cap = 1 << 20, used = 0;
  overview = malloc(cap);
  if (overview == NULL)
    goto fail;
  used = (size_t)snprintf(overview, cap, "# %s\n\n%s\n", title != NULL ? title : "Competition",
                          description != NULL ? description : "");
  json_array_foreach(json_object_get(y, "pages"), i, page)
  {
    const char *file = json_string_value(json_object_get(page, "file"));
    const char *ptitle = json_string_value(json_object_get(page, "title"));
    free(text);
    text = bundle_text(src, file);
    if (text != NULL && used < cap)
      used += (size_t)snprintf(overview + used, cap - used, "\n## %s\n\n%s\n", ptitle != NULL ? ptitle : file, text);
  }
  free(text);
  text = NULL;
  text = bundle_text(src, json_string_value(json_object_get(y, "terms")));
  if (write_texts(dst, overview, text, "Codabench", p) != 0) {
    rc = -1;
    goto fail;
  }
  json_t *tasks = json_object_get(y, "tasks"), *ph;
  all_phases = competition_phases(y, 1);
  phases = json_copy(all_phases);
  if (phases == NULL ||
      keep_one_phase(&phases, only_phase, "name", &title, part_title, sizeof(part_title), log, p) != 0 ||
      keep_part(y, &phases, 1, part, &title, part_title, sizeof(part_title), slug, &competition, log, p) != 0)
    goto fail;
  if (slug[0] == '\0') /* the whole competition, or one phase: the slug of its title */
    slug_of(title, slug, sizeof(slug));
  if (competition != NULL)
    json_object_set_new(out, "competition", competition);
  size_t nph = json_array_size(phases);
  if (nph == 0) {
    note(p, "phases", "no phase");
    goto fail;
  }
  json_t *t;
  json_array_foreach(tasks, i, t)
  {
    /* with input data, the task takes code (below, for the task that scores); without, Codabench scores a result
     * submission without running it */
    if (json_object_get(t, "ingestion_program") != NULL && truthy(json_object_get(t, "ingestion_only_during_scoring")))
      say(log,
          "tasks[%zu].ingestion_only_during_scoring: the ingestion program is not run on result files; they reach "
          "the scoring program as they are",
          i);
    else if (json_object_get(t, "ingestion_program") != NULL && json_object_get(t, "input_data") == NULL)
      say(log,
          "tasks[%zu].ingestion_program is not run: it has no input_data, so participants upload their results "
          "(prediction files), which the scoring program reads as on Codabench",
          i);
  }
  json_array_foreach(phases, i, ph)
  {
    char where[48];
    size_t at = phase_pos(json_object_get(y, "phases"), ph, (size_t)int_of(json_object_get(ph, "index"), (int)i));
    snprintf(where, sizeof(where), "phases[%zu].", at);
    ignored(where, ph, phase_known, log);
    int64_t t0 = codabench_date(json_string_value(json_object_get(ph, "start")));
    const char *end_text = json_string_value(json_object_get(ph, "end"));
    int64_t later = next_start(all_phases, t0, 1);
    int64_t t1 = end_text != NULL ? codabench_date(end_text) : later > t0 ? later : never_ends(t0);
    if (t0 < 0 || t1 <= t0 || (i + 1 < nph && phase_start(json_array_get(phases, i + 1), 1) <= t0)) {
      snprintf(field, sizeof(field), "phases[%zu].start", at);
      note(p, field,
           "start (and end) must be dates like 1-31-2026 or 2026-01-31, the end after the start, each phase after the "
           "previous one");
      continue;
    }
    append_phase(out_phases, json_string_value(json_object_get(ph, "name")), i, t0, t1, ph, log);
    json_t *pt = json_object_get(ph, "tasks");
    if (json_array_size(pt) != 1) {
      snprintf(field, sizeof(field), "phases[%zu].tasks", at);
      note(p, field, "a phase runs 1 to %d tasks (each task becomes a challenge of its own); it has %zu",
           CODALAB_MAX_PARTS, json_array_size(pt));
      continue;
    }
    program_task = int_of(json_array_get(pt, 0), -1); /* the last phase's task scores: its reference is the truth */
  }
  if (p->n > 0)
    goto fail;
  json_t *task = task_of(tasks, program_task);
  snprintf(field, sizeof(field), "tasks[%d]", program_task);
  if (task == NULL) {
    note(p, "phases", "the last phase names task %d, which tasks does not define", program_task);
    goto fail;
  }
  const char *ingestion = json_string_value(json_object_get(task, "ingestion_program"));
  const char *input = json_string_value(json_object_get(task, "input_data"));
  snprintf(field, sizeof(field), "tasks[%d].", program_task);
  if (ingestion != NULL && input != NULL && !truthy(json_object_get(task, "ingestion_only_during_scoring")) &&
      code_submission(src, dst, ingestion, input,
                      int_of(json_object_get(json_array_get(phases, nph - 1), "execution_time_limit"), 0), 0, field,
                      out, p, log) != 0)
    goto fail;
  if (util_fmt(path, sizeof(path), "%s/scoring_program", dst) != 0 ||
      task_files(src, json_string_value(json_object_get(task, "scoring_program")), path, "tasks[].scoring_program", p,
                 log) != 0 ||
      util_fmt(ref_dir, sizeof(ref_dir), "%s/reference_data", dst) != 0 ||
      task_files(src, json_string_value(json_object_get(task, "reference_data")), ref_dir, "tasks[].reference_data", p,
                 log) != 0)
    goto fail;
  json_t *cols = v2_columns(json_array_get(json_object_get(y, "leaderboards"), 0));
  int mapped = map_columns(cols, out, key, sizeof(key), &higher, &precision, log);
  json_decref(cols);
  if (mapped != 0) {
    note(p, "leaderboards[0].columns", "no plain column (a key without computation) to rank on");
    goto fail;
  }
  if (json_array_size(json_object_get(y, "leaderboards")) > 1)
    say(log, "ignored leaderboards after the first");
  json_object_set_new(out, "leaderboard", json_pack("{s:i}", "precision", precision));
  if (codabench_paths(path, log, p) != 0 || numpy_compat(path, log, p) != 0 ||
      place_reference(ref_dir, path, dst, truth_rel, sizeof(truth_rel), &full, log, p) != 0 ||
      write_definition(dst, out, truth_rel, full, title, slug, description, key, higher, p) != 0) {
    rc = -1;
    goto fail;
  }
  store_remove_tree(ref_dir);
  say(log,
      "mapped the Codabench bundle \"%s\" to slug %s, %zu phase(s), task %d scores, leaderboard "
      "score \"%s\" (%s is better)",
      title != NULL ? title : slug, slug, nph, program_task, key, higher ? "higher" : "lower");
  rc = 0;
fail:
  json_decref(out);
  json_decref(phases);
  json_decref(all_phases);
  free(overview);
  free(text);
  return rc;
}

int codalab_convert(const char *src, const char *dst, int only_phase, int part, struct bundle_problems *p)
{
  static const char *const top_known[] = {
    "title", "description", "html", "phases", "leaderboard", "end_date", "version", "competition_docker_image", NULL};
  static const char *const phase_known[] = {"phasenumber",
                                            "label",
                                            "start_date",
                                            "max_submissions",
                                            "max_submissions_per_day",
                                            "scoring_program",
                                            "reference_data",
                                            "public_data",
                                            "starting_kit",
                                            "leaderboard_management_mode",
                                            "ingestion_program",
                                            "input_data",
                                            "is_scoring_only",
                                            "execution_time_limit",
                                            "ingestion_program_only_during_scoring",
                                            NULL};
  char path[APP_PATH_MAX], err[512], key[128], truth_rel[160], slug[64] = "", ref_dir[APP_PATH_MAX], part_title[320];
  json_t *competition = NULL; /* set by keep_part, then owned by out */
  json_t *y = NULL, *out = NULL, *phases = NULL, *all_phases = NULL;
  char *overview = NULL, *evaluation = NULL, *terms = NULL, *text = NULL;
  int rc = -1, higher = 1, precision = 4, full = 0;
  char *report = NULL; /* CONVERSION.md: every mapping decision, for the organizer to review */
  size_t report_len = 0;
  FILE *log = open_memstream(&report, &report_len);
  memset(p, 0, sizeof(*p));
  if (log == NULL || util_fmt(path, sizeof(path), "%s/competition.yaml", src) != 0 || mkdir(dst, 0700) != 0) {
    note(p, "(import)", "cannot create %s: %s", dst, strerror(errno));
    goto out;
  }
  y = load_yaml(path, err, sizeof(err));
  if (y == NULL) {
    note(p, "(file)", "%s", err);
    rc = 1;
    goto out;
  }
  const char *version = json_string_value(json_object_get(y, "version"));
  int v2 = version != NULL && strcmp(version, "2") == 0;
  fprintf(log,
          "# How concours mapped this competition\n\nconcours converted competition.yaml (%s) into this "
          "bundle. Each line is one decision; review them, then version the folder.\n\n",
          v2 ? "Codabench, version 2" : "CodaLab, version 1");
  if (v2) {
    rc = convert_v2(src, dst, y, only_phase, part, p, log);
    goto out;
  }
  if (version != NULL && strcmp(version, "1") != 0) {
    note(p, "version", "\"%s\" is neither 1 (CodaLab) nor 2 (Codabench)", version);
    rc = 1;
    goto out;
  }
  ignored("", y, top_known, log);
  image_note(y, log);
  const char *title = json_string_value(json_object_get(y, "title"));
  const char *description = json_string_value(json_object_get(y, "description"));
  json_t *html = json_object_get(y, "html");
  const char *k;
  json_t *v;
  json_object_foreach(html, k, v)
  {
    if (strcmp(k, "overview") != 0 && strcmp(k, "evaluation") != 0 && strcmp(k, "terms") != 0)
      say(log, "ignored html.%s (page %s)", k, json_string_value(v) != NULL ? json_string_value(v) : "?");
  }
  overview = page_text(src, json_string_value(json_object_get(html, "overview")));
  evaluation = page_text(src, json_string_value(json_object_get(html, "evaluation")));
  terms = page_text(src, json_string_value(json_object_get(html, "terms")));
  size_t tlen = strlen(title != NULL ? title : "") + strlen(overview != NULL ? overview : "") +
                strlen(evaluation != NULL ? evaluation : "") + 64;
  text = malloc(tlen);
  if (text == NULL)
    goto out;
  snprintf(text, tlen, "# %s\n\n%s\n\n## Evaluation\n\n%s\n", title != NULL ? title : "Competition",
           overview != NULL ? overview : "", evaluation != NULL ? evaluation : "");
  if (write_texts(dst, text, terms, "CodaLab", p) != 0)
    goto out;

  /* phases */
  all_phases = competition_phases(y, 0);
  phases = json_copy(all_phases);
  if (phases == NULL ||
      keep_one_phase(&phases, only_phase, "label", &title, part_title, sizeof(part_title), log, p) != 0 ||
      keep_part(y, &phases, 0, part, &title, part_title, sizeof(part_title), slug, &competition, log, p) != 0) {
    rc = 1;
    goto out;
  }
  if (slug[0] == '\0') /* the whole competition, or one phase: the slug of its title */
    slug_of(title, slug, sizeof(slug));
  size_t nph = json_array_size(phases);
  if (nph == 0) {
    note(p, "phases", "no phase");
    rc = 1;
    goto out;
  }
  out = json_object();
  json_t *out_phases = json_array();
  json_object_set_new(out, "phases", out_phases);
  if (competition != NULL) {
    json_object_set_new(out, "competition", competition);
    competition = NULL;
  }
  int64_t end_all = codalab_date(json_string_value(json_object_get(y, "end_date")));
  for (size_t i = 0; i < nph; i++) {
    json_t *ph = json_array_get(phases, i);
    char where[48];
    size_t at = phase_pos(all_phases, ph, i);
    snprintf(where, sizeof(where), "phases[%zu].", at);
    ignored(where, ph, phase_known, log);
    int64_t t0 = codalab_date(json_string_value(json_object_get(ph, "start_date")));
    /* a phase ends when the next one of the competition begins (in any challenge made from it) */
    int64_t later = next_start(all_phases, t0, 0);
    int64_t t1 = later > t0     ? later
                 : end_all > t0 ? end_all
                                : never_ends(t0); /* end_date null: CodaLab's last phase never ends */
    char start_field[64];
    snprintf(start_field, sizeof(start_field), "phases[%zu].start_date", at);
    if (t0 < 0 || (i + 1 < nph && phase_start(json_array_get(phases, i + 1), 0) <= t0)) {
      note(p, start_field, "must be a date like 2026-01-31, each phase after the previous one");
      rc = 1;
      continue;
    }
    append_phase(out_phases, json_string_value(json_object_get(ph, "label")), i, t0, t1, ph, log);
    const char *mode = json_string_value(json_object_get(ph, "leaderboard_management_mode"));
    if (mode != NULL && strcmp(mode, "hide_results") == 0) {
      json_object_set_new(json_array_get(out_phases, json_array_size(out_phases) - 1), "hide_results", json_true());
      say(log,
          "%sresults are hidden from participants until the jury publishes (leaderboard_management_mode: "
          "hide_results)",
          where);
    } else if (mode != NULL && strcmp(mode, "default") != 0) {
      say(log, "ignored %sleaderboard_management_mode %s", where, mode);
    }
    if (truthy(json_object_get(ph, "ingestion_program_only_during_scoring")))
      say(log,
          "%singestion_program_only_during_scoring: the ingestion program is not run on result files; they reach "
          "the scoring program as they are",
          where);
    else if (json_object_get(ph, "ingestion_program") != NULL && !takes_code(ph))
      say(log,
          "%singestion_program is not run: the phase scores results only (is_scoring_only, CodaLab's default, and "
          "input_data), so participants upload their results (prediction files), which the scoring program reads "
          "as on CodaLab",
          where);
  }
  for (size_t i = 0; i < json_array_size(all_phases); i++) { /* every phase's public files: they are public */
    json_t *ph = json_array_get(all_phases, i);
    char where[48];
    snprintf(where, sizeof(where), "phases[%zu].", i);
    if (served_file(src, dst, json_string_value(json_object_get(ph, "public_data")), out, where, p, log) != 0 ||
        served_file(src, dst, json_string_value(json_object_get(ph, "starting_kit")), out, where, p, log) != 0)
      rc = 1;
  }
  if (rc == 1)
    goto out;
  /* the last phase's program and reference score (competition_phases gave each phase the one it is scored with) */
  json_t *last = json_array_get(phases, nph - 1);
  const char *program_zip = json_string_value(json_object_get(last, "scoring_program"));
  const char *reference_zip = json_string_value(json_object_get(last, "reference_data"));
  if (program_zip == NULL || reference_zip == NULL) {
    note(p, "phases", "no phase names a scoring_program and a reference_data zip");
    rc = 1;
    goto out;
  }
  snprintf(path, sizeof(path), "phases[%zu].", phase_pos(all_phases, last, nph - 1));
  const char *input = json_string_value(json_object_get(last, "input_data"));
  int inputs_public = 0; /* the input data is also a phase's public_data, served to participants */
  for (size_t i = 0; i < json_array_size(all_phases) && input != NULL; i++) {
    const char *pd = json_string_value(json_object_get(json_array_get(all_phases, i), "public_data"));
    inputs_public |= pd != NULL && same_path(pd, input);
  }
  if (takes_code(last) &&
      code_submission(src, dst, json_string_value(json_object_get(last, "ingestion_program")), input,
                      int_of(json_object_get(last, "execution_time_limit"), 0), inputs_public, path, out, p, log) != 0)
    goto out;
  if (util_fmt(path, sizeof(path), "%s/scoring_program", dst) != 0 ||
      task_files(src, program_zip, path, "scoring_program", p, log) != 0 ||
      util_fmt(ref_dir, sizeof(ref_dir), "%s/reference_data", dst) != 0 ||
      task_files(src, reference_zip, ref_dir, "reference_data", p, log) != 0) {
    rc = 1;
    goto out;
  }
  json_t *cols = v1_columns(json_object_get(y, "leaderboard"));
  int mapped = map_columns(cols, out, key, sizeof(key), &higher, &precision, log);
  json_decref(cols);
  if (mapped != 0) {
    note(p, "leaderboard.columns", "no column: the leaderboard needs one score key");
    rc = 1;
    goto out;
  }
  json_object_set_new(out, "leaderboard", json_pack("{s:i}", "precision", precision));
  if (numpy_compat(path, log, p) != 0 ||
      place_reference(ref_dir, path, dst, truth_rel, sizeof(truth_rel), &full, log, p) != 0 ||
      write_definition(dst, out, truth_rel, full, title, slug, description, key, higher, p) != 0)
    goto out;
  store_remove_tree(ref_dir);
  say(log, "mapped \"%s\" to slug %s, %zu phase(s), leaderboard score \"%s\" (%s is better)",
      title != NULL ? title : slug, slug, nph, key, higher ? "higher" : "lower");
  rc = 0;
out:
  if (log != NULL) {
    fclose(log);
    if (rc == 0 &&
        (report == NULL || write_text(dst, "CONVERSION.md", report) != 0)) { /* the report is part of the result */
      note(p, "(import)", "cannot write CONVERSION.md");
      rc = -1;
    }
  }
  free(report);
  json_decref(y);
  json_decref(out);
  json_decref(phases);
  json_decref(all_phases);
  json_decref(competition);
  free(overview);
  free(evaluation);
  free(terms);
  free(text);
  return rc;
}
