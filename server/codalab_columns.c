/* codalab_columns.c: a CodaLab or Codabench leaderboard's columns mapped onto a challenge: the column that
 * ranks (a plain one, or CodaLab's average of ranks), its direction and decimals, and the columns shown beside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "codalab_internal.h"
#include "def.h"
#include "util.h"

/* One leaderboard column in the shape codalab_map_columns reads: {key, label (KEY when NULL), order, higher (unless
 * SORT is "asc"), precision (-1: the leaderboard's), hidden (HIDDEN is the string "true")}. New reference, or NULL. */
static json_t *column_json(const char *key, const char *label, int order, const char *sort, int precision,
                           json_t *hidden)
{
  return json_pack("{s:s,s:s,s:i,s:b,s:i,s:b}", "key", key, "label", label != NULL ? label : key, "order", order,
                   "higher", sort == NULL || strcasecmp(sort, "asc") != 0, "precision", precision, "hidden",
                   json_is_string(hidden) && strcasecmp(json_string_value(hidden), "true") == 0);
}

json_t *codalab_columns_v1(json_t *lb)
{
  json_t *out = json_array(), *col;
  const char *k;
  json_object_foreach(json_object_get(lb, "columns"), k, col)
  {
    json_t *c =
      column_json(k, json_string_value(json_object_get(col, "label")), codalab_int(json_object_get(col, "rank"), 1000),
                  json_string_value(json_object_get(col, "sort")),
                  codalab_int(json_object_get(col, "numeric_format"), -1), json_object_get(col, "hidden"));
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

int codalab_map_columns(json_t *cols, json_t *out, char *key, size_t n, int *higher, int *precision, FILE *log)
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
      codalab_say(log, "leaderboard column %s computes the %s, which concours does not: the first plain column ranks",
                  json_string_value(json_object_get(first, "key")), op);
      fields = NULL;
    }
  }
  /* the primary metric: the first averaged column, else the plain column ranked first (a second pass when the
   * average names no plain column) */
  for (int pass = 0; pass < 2 && primary == NULL; pass++) {
    if (pass == 1 && fields != NULL) {
      codalab_say(log, "leaderboard column %s averages no plain column: the first plain column ranks",
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
      codalab_say(log,
                  c == first && fields != NULL ? "leaderboard column %s (Avg) ranks: the teams rank by their mean rank "
                                                 "over its columns"
                                               : "ignored leaderboard column %s (a computed column that does not rank)",
                  k);
      continue;
    }
    if (json_is_true(json_object_get(c, "hidden"))) {
      codalab_say(log, "ignored leaderboard column %s (hidden on CodaLab: not shown)", k);
      continue;
    }
    if (!in_fields || json_array_size(secondary) >= DEF_MAX_SECONDARY) {
      codalab_say(log, "ignored leaderboard column %s (%s)", k,
                  in_fields ? "more than 8 columns" : "not averaged by the ranking column: shown nowhere");
      continue;
    }
    json_t *m = json_pack("{s:s,s:s%,s:b}", "score_key", k, "label", label, strlen(label) > 64 ? 64 : strlen(label),
                          "higher_is_better", json_is_true(json_object_get(c, "higher")));
    if (m != NULL && prec >= 0 && prec <= 12)
      json_object_set_new(m, "precision", json_integer(prec));
    json_array_append_new(secondary, m);
    codalab_say(log, "leaderboard column %s shown beside %s (%s is better)", k, key,
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
  codalab_say(log, "leaderboard column %s is the score (%s is better, %d decimals)", key, *higher ? "higher" : "lower",
              *precision);
  return 0;
}

json_t *codalab_columns_v2(json_t *lb)
{
  json_t *out = json_array(), *cols = json_object_get(lb, "columns"), *col;
  size_t i;
  json_array_foreach(cols, i, col)
  {
    const char *key = json_string_value(json_object_get(col, "key"));
    json_t *comp = json_object_get(col, "computation");
    if (key == NULL)
      continue;
    json_t *c = column_json(key, json_string_value(json_object_get(col, "title")),
                            codalab_int(json_object_get(col, "index"), (int)i),
                            json_string_value(json_object_get(col, "sorting")),
                            codalab_int(json_object_get(col, "precision"), -1), json_object_get(col, "hidden"));
    if (c != NULL && json_is_string(comp)) {
      json_t *fields = json_array(), *ix, *other;
      size_t j, k;
      json_array_foreach(json_object_get(col, "computation_indexes"), j, ix)
      {
        json_array_foreach(cols, k, other)
        {
          if (codalab_int(json_object_get(other, "index"), (int)k) == codalab_int(ix, -1) &&
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
