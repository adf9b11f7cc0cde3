/* multirank.c: ranking by several metrics (multirank.h). */
#include "multirank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stability.h"

/* The rule of SUMMARY, "primary" when it says none. */
static const char *rule_of(json_t *summary)
{
  const char *r = json_string_value(json_object_get(summary, "rule"));
  return r != NULL ? r : "primary";
}

json_t *multirank_summary(const struct challenge *c)
{
  json_t *s = c->metrics_json[0] != '\0' ? json_loads(c->metrics_json, 0, NULL) : NULL;
  if (json_is_object(s))
    return s;
  json_decref(s);
  const char *key = c->metric_name[0] != '\0' ? c->metric_name : "score";
  return json_pack("{s:[{s:s,s:s,s:b,s:i,s:b}],s:s,s:{s:f}}", "metrics", "key", key, "label", key, "higher_is_better",
                   c->higher_is_better, "precision", c->precision, "primary", 1, "rule", "primary", "weights", key,
                   1.0);
}

/* The value of metric M (an entry of the summary) on ROW: its primary value in SCORE_FIELD, or its "metrics"; NAN
 * when there is none. */
static double value_of(json_t *row, json_t *m, const char *score_field)
{
  json_t *v = json_is_true(json_object_get(m, "primary"))
                ? json_object_get(row, score_field)
                : json_object_get(json_object_get(row, "metrics"), json_string_value(json_object_get(m, "key")));
  return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Ranks (1 the best, ties sharing the smallest rank, NAN last) of the N values V into R, HIGHER the direction. */
static void rank_values(const double *v, size_t n, int higher, int *r)
{
  for (size_t i = 0; i < n; i++) {
    int better = 0;
    for (size_t j = 0; j < n; j++) {
      if (j == i || isnan(v[j]))
        continue;
      if (isnan(v[i]) || (higher ? v[j] > v[i] : v[j] < v[i]))
        better++;
    }
    r[i] = better + 1;
  }
}

/* The ranked (not disqualified) rows of ROWS, in order, into OUT (N of them). */
static size_t ranked_rows(json_t *rows, json_t **out)
{
  size_t i, n = 0;
  json_t *row;
  json_array_foreach(rows, i, row) if (!json_is_true(json_object_get(row, "disqualified"))) out[n++] = row;
  return n;
}

struct slot {
  json_t *row;
  double mean;
  size_t order; /* the primary order */
};

static int by_mean(const void *a, const void *b)
{
  const struct slot *x = a, *y = b;
  if (x->mean != y->mean)
    return x->mean < y->mean ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* Per metric of SUMMARY, the ranks of the N rows ROW into RANKS[metric * n + row]. */
static void metric_ranks(json_t *summary, json_t **row, size_t n, const char *score_field, double *v, int *ranks)
{
  size_t k;
  json_t *m;
  json_array_foreach(json_object_get(summary, "metrics"), k, m)
  {
    for (size_t i = 0; i < n; i++)
      v[i] = value_of(row[i], m, score_field);
    rank_values(v, n, json_is_true(json_object_get(m, "higher_is_better")), &ranks[k * n]);
  }
}

int multirank_apply(const struct challenge *c, json_t *rows, const char *score_field)
{
  json_t *summary = multirank_summary(c);
  if (summary == NULL)
    return -1;
  if (strcmp(rule_of(summary), "mean_rank") != 0) { /* the common case: nothing to do */
    json_decref(summary);
    return 0;
  }
  size_t total = json_array_size(rows), nm = json_array_size(json_object_get(summary, "metrics"));
  json_t **row = malloc((total + 1) * sizeof(*row));
  double *v = malloc((total + 1) * sizeof(*v));
  int *ranks = malloc((total * nm + 1) * sizeof(*ranks));
  struct slot *slot = malloc((total + 1) * sizeof(*slot));
  json_t *out = json_array();
  int rc = -1;
  if (row == NULL || v == NULL || ranks == NULL || slot == NULL || out == NULL)
    goto done;
  size_t n = ranked_rows(rows, row);
  metric_ranks(summary, row, n, score_field, v, ranks);
  json_t *weights = json_object_get(summary, "weights"), *m;
  double wsum = 0;
  size_t k;
  json_array_foreach(json_object_get(summary, "metrics"), k, m)
  {
    json_t *w = json_object_get(weights, json_string_value(json_object_get(m, "key")));
    wsum += json_is_number(w) ? json_number_value(w) : 1.0;
  }
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    json_array_foreach(json_object_get(summary, "metrics"), k, m)
    {
      json_t *w = json_object_get(weights, json_string_value(json_object_get(m, "key")));
      s += (json_is_number(w) ? json_number_value(w) : 1.0) * ranks[k * n + i];
    }
    slot[i] = (struct slot){row[i], wsum > 0 ? s / wsum : 0, i};
  }
  qsort(slot, n, sizeof(*slot), by_mean);
  for (size_t i = 0; i < n; i++) {
    json_object_set_new(slot[i].row, "primary_rank", json_integer((json_int_t)slot[i].order + 1));
    json_object_set_new(slot[i].row, "rank", json_integer((json_int_t)i + 1));
    json_object_set_new(slot[i].row, "mean_rank", json_real(slot[i].mean));
    json_array_append(out, slot[i].row);
  }
  size_t i;
  json_t *r;
  json_array_foreach(rows, i, r) if (json_is_true(json_object_get(r, "disqualified"))) json_array_append(out, r);
  if (json_array_clear(rows) == 0 && json_array_extend(rows, out) == 0)
    rc = 1;
done:
  json_decref(summary);
  json_decref(out);
  free(row);
  free(v);
  free(ranks);
  free(slot);
  return rc;
}

json_t *multirank_methods(const struct challenge *c, json_t *rows, const char *score_field)
{
  json_t *summary = multirank_summary(c), *out = NULL;
  size_t total = json_array_size(rows), nm = json_array_size(json_object_get(summary, "metrics"));
  json_t **row = malloc((total + 1) * sizeof(*row));
  double *v = malloc((total + 1) * sizeof(*v));
  int *ranks = malloc((total * nm + 1) * sizeof(*ranks)), *official = malloc((total + 1) * sizeof(*official));
  if (summary == NULL || nm < 2 || row == NULL || v == NULL || ranks == NULL || official == NULL)
    goto done;
  size_t n = ranked_rows(rows, row);
  metric_ranks(summary, row, n, score_field, v, ranks);
  for (size_t i = 0; i < n; i++)
    official[i] = (int)json_integer_value(json_object_get(row[i], "rank"));
  json_t *taus = json_object(), *teams = json_array(), *m;
  out = json_pack("{s:s,s:o,s:o}", "rule", rule_of(summary), "kendall_tau", taus, "teams", teams);
  if (out == NULL)
    goto done;
  size_t k;
  json_array_foreach(json_object_get(summary, "metrics"), k, m) json_object_set_new(
    taus, json_string_value(json_object_get(m, "key")), json_real(stability_kendall_tau_b(official, &ranks[k * n], n)));
  for (size_t i = 0; i < n; i++) {
    json_t *by = json_object();
    json_array_foreach(json_object_get(summary, "metrics"), k, m)
      json_object_set_new(by, json_string_value(json_object_get(m, "key")), json_integer(ranks[k * n + i]));
    json_array_append_new(
      teams, json_pack("{s:O,s:i,s:o}", "team", json_object_get(row[i], "team"), "rank", official[i], "by", by));
  }
done:
  json_decref(summary);
  free(row);
  free(v);
  free(ranks);
  free(official);
  return out;
}
