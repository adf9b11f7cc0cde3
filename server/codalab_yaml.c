/* codalab_yaml.c: competition.yaml read with libyaml's event parser into a jansson tree (scalars as strings;
 * anchors and aliases resolved by reference, never copied, so an alias bomb costs nothing; depth, size and node count
 * capped), and its values read as CodaLab and Codabench meant them: dates, whole numbers, booleans. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <yaml.h>

#include "codalab_internal.h"
#include "util.h"

#define YAML_MAX (1024 * 1024)
#define YAML_MAX_DEPTH 32
#define YAML_MAX_NODES 100000
#define YAML_MAX_ANCHORS 256

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

json_t *codalab_load_yaml(const char *path, char *err, size_t errlen)
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

int64_t codalab_date(const char *s)
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

int codalab_int_str(const char *s, int dflt)
{
  long long x;
  return s != NULL && util_parse_ll(s, 0, 1000000, &x) == 0 ? (int)x : dflt;
}

int codalab_int(json_t *v, int dflt)
{
  return codalab_int_str(json_string_value(v), dflt);
}

int codalab_truthy(json_t *v)
{
  const char *s = json_string_value(v);
  return json_is_true(v) ||
         (s != NULL && (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcmp(s, "1") == 0));
}

int64_t codalab_date_v2(const char *s)
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
