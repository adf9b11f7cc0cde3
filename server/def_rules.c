/* def_rules.c: the rules of challenge.json between keys, once def.c's walk has read each key against its row of the
 * table: paths under data/ and outside it, the metric, its parameters and failure values, secondary metrics and the
 * ranking rule, phases, a code challenge's runtime, runs and limits (see def_internal.h). Every problem goes to P
 * (bundle_problem()), each one found rather than the first. */
#include "def.h"
#include "def_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "sandbox.h"
#include "util.h"

/* A relative path inside the bundle: segments of [A-Za-z0-9._-], no "." or "..", no leading '/'. */
static int safe_relpath(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > 200 || s[0] == '/')
    return 0;
  const char *seg = s;
  for (size_t i = 0; i <= n; i++) {
    char c = s[i];
    if (c == '/' || c == '\0') {
      size_t len = (size_t)(s + i - seg);
      if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
        return 0;
      seg = s + i + 1;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      return 0;
  }
  return 1;
}

static int safe_slug(const char *s)
{
  size_t n = strlen(s);
  if (n < 2 || n > 63 || s[0] == '-')
    return 0;
  return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* ------------------------------------------------------------------------------------------ rules between keys */

static void check_data_paths(struct challenge_def *d, const char *file, struct bundle_problems *p)
{
  size_t i;
  json_t *v;
  json_array_foreach(d->data, i, v)
  {
    char field[32];
    const char *rel = json_string_value(v);
    snprintf(field, sizeof(field), "data[%zu]", i);
    if (rel == NULL)
      continue; /* already a problem */
    if (strncmp(rel, "data/", 5) != 0 || !safe_relpath(rel)) {
      bundle_problem(p, file, field, "must be a path under data/ made of A-Z a-z 0-9 . _ - (got \"%.100s\")", rel);
      continue;
    }
    for (size_t k = 0; k < i; k++) {
      const char *earlier = json_string_value(json_array_get(d->data, k)); /* NULL when not a string */
      if (earlier != NULL && strcmp(earlier, rel) == 0)
        bundle_problem(p, file, field, "\"%.100s\" is listed twice", rel);
    }
  }
}

static int data_lists(const struct challenge_def *d, const char *rel)
{
  size_t i;
  json_t *v;
  json_array_foreach(d->data, i, v)
  {
    if (json_is_string(v) && strcmp(json_string_value(v), rel) == 0)
      return 1;
  }
  return 0;
}

/* "metric.failure_values": an array of at most DEF_MAX_FAILURE_VALUES finite numbers, into d. */
static void failure_values(struct challenge_def *d, const json_t *v, const char *file, struct bundle_problems *p)
{
  size_t i;
  json_t *x;
  d->nfailure_values = 0;
  if (v == NULL)
    return;
  if (!json_is_array(v) || json_array_size(v) > DEF_MAX_FAILURE_VALUES) {
    bundle_problem(p, file, "metric.failure_values", "must be a list of at most %d numbers", DEF_MAX_FAILURE_VALUES);
    return;
  }
  json_array_foreach(v, i, x)
  {
    if (!json_is_number(x) || !isfinite(json_number_value(x))) {
      bundle_problem(p, file, "metric.failure_values", "item %zu is not a finite number", i);
      return;
    }
    d->failure_values[d->nfailure_values++] = json_number_value(x);
  }
}

/* A runtime RT (read from OBJ, the JSON object at FIELD, or NULL): its default kind, its package list and field,
 * and the keys each kind takes (the archive and the packages are checked by bundle.c). */
static void check_runtime(struct def_runtime *rt, json_t *obj, const char *field, const char *file,
                          struct bundle_problems *p)
{
  char key[64];
  rt->packages = json_object_get(obj, "packages");
  rt->field = field;
  if (rt->kind[0] == '\0')
    util_strlcpy(rt->kind, "host", sizeof(rt->kind));
  if (strcmp(rt->kind, "host") != 0 && strcmp(rt->kind, "oci") != 0 && strcmp(rt->kind, "debian") != 0) {
    snprintf(key, sizeof(key), "%s.kind", field);
    bundle_problem(p, file, key, "must be \"host\", \"debian\" or \"oci\" (got \"%.40s\")", rt->kind);
  }
  snprintf(key, sizeof(key), "%s.archive", field);
  if (strcmp(rt->kind, "oci") == 0) {
    if (rt->archive[0] == '\0')
      bundle_problem(p, file, key,
                     "missing (required with \"kind\": \"oci\"): the image archive in the bundle, like "
                     "\"runtime/image.tar\"");
    else if (!safe_relpath(rt->archive) || strncmp(rt->archive, "data/", 5) == 0)
      bundle_problem(p, file, key, "must be a path of the bundle outside data/");
  } else if (rt->archive[0] != '\0') {
    bundle_problem(p, file, key, "only for \"kind\": \"oci\" runtimes");
  }
  snprintf(key, sizeof(key), "%s.packages", field);
  if (rt->packages != NULL && strcmp(rt->kind, "debian") != 0)
    bundle_problem(p, file, key, "only for \"kind\": \"debian\" runtimes");
}

/* "metric.runs" and "metric.private_score_key" of a program: one run per split (the default) or one on the whole
 * ground truth; a private key only with a full run over a split ground truth, and unlike the score key. */
static void check_runs(struct challenge_def *d, const char *file, struct bundle_problems *p)
{
  const char *k = d->private_score_key;
  if (d->runs[0] == '\0')
    util_strlcpy(d->runs, "per_split", sizeof(d->runs));
  d->full_run = strcmp(d->runs, "full") == 0;
  if (!d->full_run && strcmp(d->runs, "per_split") != 0)
    bundle_problem(p, file, "metric.runs", "must be \"per_split\" or \"full\" (got \"%.40s\")", d->runs);
  if (k[0] == '\0') {
    if (d->full_run && !d->split_none)
      bundle_problem(p, file, "metric.private_score_key",
                     "missing: a full run sees the private rows too, so the program must write their score apart "
                     "(give its key), or set \"split_column\": null to show the one score to participants");
    return;
  }
  if (!d->full_run)
    bundle_problem(p, file, "metric.private_score_key",
                   "goes with \"runs\": \"full\" (per split, the private run's score_key is the private score)");
  else if (d->split_none)
    bundle_problem(p, file, "metric.private_score_key",
                   "needs a split column: with \"split_column\": null every score is public");
  if (strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(k) ||
      strcmp(k, d->score_key) == 0)
    bundle_problem(p, file, "metric.private_score_key",
                   "must be a key of the program's scores (A-Z a-z 0-9 _ . -) other than score_key");
}

static void check_metric(struct challenge_def *d, const char *file, struct bundle_problems *p)
{
  json_t *m = json_object_get(d->root, "metric");
  json_t *prog = json_object_get(m, "program"), *name = json_object_get(m, "name");
  json_t *hib = json_object_get(m, "higher_is_better");
  if (!json_is_object(m))
    return;
  char *text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
  if (text == NULL || strlen(text) >= sizeof(d->c.metric_json))
    bundle_problem(p, file, "metric", "is too large (at most %zu bytes)", sizeof(d->c.metric_json) - 1);
  else
    util_strlcpy(d->c.metric_json, text, sizeof(d->c.metric_json));
  free(text);
  if ((prog == NULL) == (name == NULL)) {
    bundle_problem(p, file, "metric", "give either \"name\" (a built-in metric) or \"program\" (your scoring program)");
    return;
  }
  if (prog != NULL) {
    d->program = 1;
    d->c.metric_name[0] = '\0';
    if (!json_is_string(prog) || strcmp(json_string_value(prog), "scoring_program") != 0)
      bundle_problem(p, file, "metric.program", "must be \"scoring_program\" (the folder holding the program)");
    if (d->score_key[0] == '\0' || strspn(d->score_key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                        "0123456789_.-") != strlen(d->score_key))
      bundle_problem(p, file, "metric.score_key",
                     "must name the key of scores.txt / scores.json that is the leaderboard "
                     "score (1 to 64 of A-Z a-z 0-9 _ . -)");
    if (!json_is_boolean(hib))
      bundle_problem(p, file, "metric.higher_is_better", "must be true or false with a scoring program");
    d->c.higher_is_better = json_is_true(hib);
    if (json_object_get(m, "params") != NULL)
      bundle_problem(p, file, "metric.params", "goes with a built-in metric (\"name\"), not with a program");
    failure_values(d, json_object_get(m, "failure_values"), file, p);
    check_runs(d, file, p);
    check_runtime(&d->program_runtime, json_object_get(m, "runtime"), "metric.runtime", file, p);
    return;
  }
  if (json_object_get(m, "runtime") != NULL)
    bundle_problem(p, file, "metric.runtime", "goes with \"program\", not with a built-in metric");
  if (d->runs[0] != '\0' || d->private_score_key[0] != '\0')
    bundle_problem(p, file, d->runs[0] != '\0' ? "metric.runs" : "metric.private_score_key",
                   "goes with \"program\", not with a built-in metric");
  if (json_object_get(m, "failure_values") != NULL)
    bundle_problem(p, file, "metric.failure_values", "goes with \"program\", not with a built-in metric");
  if (d->score_key[0] != '\0')
    bundle_problem(p, file, "metric.score_key", "goes with \"program\", not with a built-in metric");
  if (!json_is_string(name))
    return;
  const struct score_metric *sm = score_metric_find(json_string_value(name));
  if (sm == NULL) {
    const char *names[64];
    size_t n = 0;
    for (const struct score_metric *t = score_metric_table(); t->name != NULL && n < 64; t++)
      names[n++] = t->name;
    const char *near = def_suggest(json_string_value(name), names, n);
    bundle_problem(p, file, "metric.name", "\"%.60s\" is not a built-in metric%s%s%s", json_string_value(name),
                   near != NULL ? ": did you mean \"" : " (concours-score --help lists them)", near != NULL ? near : "",
                   near != NULL ? "\"?" : "");
    return;
  }
  d->c.higher_is_better = sm->higher_is_better;
  if (json_is_boolean(hib) && json_is_true(hib) != sm->higher_is_better)
    bundle_problem(p, file, "metric.higher_is_better", "%s is %s-is-better; leave the key out", sm->name,
                   sm->higher_is_better ? "higher" : "lower");
}

/* "secondary_metrics" and "ranking" (docs/bundle.md, "Several metrics"): each secondary is a built-in metric when
 * the primary one is, a key of the program's scores when the program scores; keys are unique; the rule and its
 * weights name known keys. Builds d->c.metrics_json, the one summary the server shows and ranks by. */
static void check_secondary(struct challenge_def *d, const char *file, struct bundle_problems *p)
{
  json_t *list = json_object_get(d->root, "secondary_metrics"), *metrics = json_array(), *weights = json_object();
  json_t *wdef = json_object_get(json_object_get(d->root, "ranking"), "weights");
  char field[48];
  const char *primary = d->program ? d->score_key : d->c.metric_name;
  if (metrics == NULL || weights == NULL)
    goto out;
  json_array_append_new(metrics,
                        json_pack("{s:s,s:s,s:b,s:i,s:b}", "key", primary, "label", primary, "higher_is_better",
                                  d->c.higher_is_better, "precision", d->c.precision, "primary", 1));
  for (int i = 0; i < d->nsecondary; i++) {
    struct def_metric *m = &d->secondary[i];
    json_t *spec = json_array_get(list, (size_t)i), *hib = json_object_get(spec, "higher_is_better");
    int higher = 0;
    snprintf(field, sizeof(field), "secondary_metrics[%d]", i);
    if (d->program) {
      if (m->name[0] != '\0' || m->score_key[0] == '\0' || !json_is_boolean(hib))
        bundle_problem(p, file, field,
                       "with a scoring program, a secondary metric is a \"score_key\" of its scores with "
                       "\"higher_is_better\"");
      higher = json_is_true(hib);
    } else {
      const struct score_metric *sm = score_metric_find(m->name);
      if (m->score_key[0] != '\0' || sm == NULL) {
        bundle_problem(p, file, field, "\"%.60s\" is not a built-in metric (concours-score --help lists them)",
                       m->name);
        continue;
      }
      higher = sm->higher_is_better;
      if (json_is_boolean(hib) && json_is_true(hib) != higher)
        bundle_problem(p, file, field, "%s is %s-is-better; leave \"higher_is_better\" out", sm->name,
                       higher ? "higher" : "lower");
    }
    json_t *params = json_object_get(spec, "params");
    char *ptext = json_is_object(params) ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (ptext != NULL && strlen(ptext) >= sizeof(m->params))
      bundle_problem(p, file, field, "\"params\" is too large (at most %zu bytes)", sizeof(m->params) - 1);
    util_strlcpy(m->params, ptext != NULL && strlen(ptext) < sizeof(m->params) ? ptext : "{}", sizeof(m->params));
    free(ptext);
    const char *key = d->program ? m->score_key : m->name;
    if (key[0] == '\0')
      continue;
    for (size_t k = 0; k < json_array_size(metrics); k++)
      if (strcmp(json_string_value(json_object_get(json_array_get(metrics, k), "key")), key) == 0)
        bundle_problem(p, file, field, "\"%s\" is already a metric of this challenge", key);
    json_array_append_new(metrics,
                          json_pack("{s:s,s:s,s:b,s:i,s:b}", "key", key, "label", m->label[0] != '\0' ? m->label : key,
                                    "higher_is_better", higher, "precision",
                                    m->precision >= 0 ? m->precision : d->c.precision, "primary", 0));
  }
  if (d->ranking_rule[0] == '\0')
    util_strlcpy(d->ranking_rule, "primary", sizeof(d->ranking_rule));
  if (strcmp(d->ranking_rule, "primary") != 0 && strcmp(d->ranking_rule, "mean_rank") != 0)
    bundle_problem(p, file, "ranking.rule", "is \"primary\" or \"mean_rank\"");
  if (strcmp(d->ranking_rule, "mean_rank") == 0 && d->nsecondary == 0)
    bundle_problem(p, file, "ranking.rule", "\"mean_rank\" needs \"secondary_metrics\"");
  if (wdef != NULL && strcmp(d->ranking_rule, "mean_rank") != 0)
    bundle_problem(p, file, "ranking.weights", "go with the rule \"mean_rank\"");
  for (size_t k = 0; k < json_array_size(metrics); k++) {
    const char *key = json_string_value(json_object_get(json_array_get(metrics, k), "key"));
    json_t *w = json_object_get(wdef, key);
    if (w != NULL && (!json_is_number(w) || json_number_value(w) <= 0 || json_number_value(w) > 1000))
      bundle_problem(p, file, "ranking.weights", "the weight of \"%s\" is a number above 0 and at most 1000", key);
    json_object_set_new(weights, key, json_real(json_is_number(w) ? json_number_value(w) : 1.0));
  }
  const char *wkey;
  json_t *wval;
  json_object_foreach(wdef, wkey, wval) if (json_object_get(weights, wkey) == NULL)
    bundle_problem(p, file, "ranking.weights", "\"%.60s\" is not a metric of this challenge", wkey);
  json_t *summary = json_pack("{s:O,s:s,s:O}", "metrics", metrics, "rule", d->ranking_rule, "weights", weights);
  char *text = summary != NULL ? json_dumps(summary, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  if (text == NULL || strlen(text) >= sizeof(d->c.metrics_json))
    bundle_problem(p, file, "secondary_metrics", "too many or too long (at most %zu bytes in all)",
                   sizeof(d->c.metrics_json) - 1);
  else
    util_strlcpy(d->c.metrics_json, text, sizeof(d->c.metrics_json));
  free(text);
  json_decref(summary);
out:
  json_decref(metrics);
  json_decref(weights);
}

static void check_phases(struct challenge_def *d, const char *file, struct bundle_problems *p)
{
  for (int i = 0; i < d->c.nphases; i++) {
    struct phase *ph = &d->c.phases[i];
    char field[32];
    snprintf(field, sizeof(field), "phases[%d]", i);
    if (ph->fact_sheet[0] == '\0')
      util_strlcpy(ph->fact_sheet, "none", sizeof(ph->fact_sheet));
    for (int k = 0; k < i; k++) {
      if (ph->name[0] != '\0' && strcmp(d->c.phases[k].name, ph->name) == 0)
        bundle_problem(p, file, field, "phase name \"%s\" is used twice", ph->name);
    }
    if (ph->start_at != 0 && ph->end_at != 0 && ph->end_at <= ph->start_at)
      bundle_problem(p, file, field, "\"end\" must come after \"start\"");
    if (ph->fact_sheet[0] != '\0' && strcmp(ph->fact_sheet, "none") != 0 && strcmp(ph->fact_sheet, "optional") != 0 &&
        strcmp(ph->fact_sheet, "required") != 0)
      bundle_problem(p, file, field, "\"fact_sheet\" is \"none\", \"optional\" or \"required\"");
    if (i > 0 && ph->start_at != 0 && ph->start_at < d->c.phases[i - 1].end_at)
      bundle_problem(p, file, field, "starts before phases[%d] ends: phases follow each other without overlapping",
                     i - 1);
  }
}

/* The "submission" block: defaults, and the rules of a code-execution challenge (folders are checked by bundle.c). */
static void check_code(struct challenge_def *d, const char *file, struct bundle_problems *p)
{
  struct def_code *k = &d->code;
  if (k->kind[0] == '\0')
    util_strlcpy(k->kind, "predictions", sizeof(k->kind));
  if (k->command[0] == '\0')
    util_strlcpy(k->command, "python3 main.py", sizeof(k->command));
  if (k->runtime.kind[0] == '\0')
    util_strlcpy(k->runtime.kind, "host", sizeof(k->runtime.kind));
  if (k->output[0] == '\0')
    util_strlcpy(k->output, "submission.csv", sizeof(k->output));
  if (k->participant_logs[0] == '\0')
    util_strlcpy(k->participant_logs, "smoke", sizeof(k->participant_logs));
  if (d->c.queue[0] == '\0')
    util_strlcpy(d->c.queue, "default", sizeof(d->c.queue));
  if (strcmp(k->kind, "predictions") != 0 && strcmp(k->kind, "code") != 0) {
    bundle_problem(p, file, "submission.kind", "must be \"predictions\" or \"code\" (got \"%.40s\")", k->kind);
    return;
  }
  d->c.code = strcmp(k->kind, "code") == 0;
  json_t *sub = json_object_get(d->root, "submission");
  if (!d->c.code) {
    static const char *const code_only[] = {"command",          "runtime", "inputs",    "output",       "limits",
                                            "participant_logs", "queue",   "ingestion", "output_folder"};
    for (size_t i = 0; i < sizeof(code_only) / sizeof(code_only[0]); i++) {
      if (json_object_get(sub, code_only[i]) != NULL) {
        char field[64];
        snprintf(field, sizeof(field), "submission.%s", code_only[i]);
        bundle_problem(p, file, field, "only for code-execution challenges (\"kind\": \"code\")");
      }
    }
    return;
  }
  if (k->test_rel[0] == '\0')
    bundle_problem(p, file, "submission.inputs.test",
                   "missing (required with \"kind\": \"code\"): the folder of hidden inputs");
  else if (!safe_relpath(k->test_rel) || strncmp(k->test_rel, "data/", 5) == 0 || strcmp(k->test_rel, "data") == 0)
    bundle_problem(p, file, "submission.inputs.test", "must be a folder of the bundle outside data/, like \"hidden\"");
  if (k->smoke_rel[0] != '\0' && !safe_relpath(k->smoke_rel))
    bundle_problem(p, file, "submission.inputs.smoke", "must be a folder of the bundle, like \"smoke\"");
  if (k->smoke_rel[0] != '\0' && strcmp(k->smoke_rel, k->test_rel) == 0)
    bundle_problem(p, file, "submission.inputs.smoke", "must differ from inputs.test: the smoke sample is public");
  d->c.has_smoke = k->smoke_rel[0] != '\0';
  if (strchr(k->output, '/') != NULL || !safe_relpath(k->output))
    bundle_problem(p, file, "submission.output", "must be a file name made of A-Z a-z 0-9 . _ - (got \"%.60s\")",
                   k->output);
  if (strcmp(k->participant_logs, "smoke") != 0 && strcmp(k->participant_logs, "all") != 0 &&
      strcmp(k->participant_logs, "none") != 0)
    bundle_problem(p, file, "submission.participant_logs", "must be \"smoke\", \"all\" or \"none\" (got \"%.40s\")",
                   k->participant_logs);
  if (k->output_folder && !d->program)
    bundle_problem(p, file, "submission.output_folder",
                   "goes with an organizer's program (metric.program): a built-in metric scores one CSV file");
  if (k->output_folder && json_object_get(sub, "output") != NULL)
    bundle_problem(p, file, "submission.output", "names one file: leave it out with \"output_folder\": true");
  if (k->ingestion_rel[0] != '\0') {
    if (!safe_relpath(k->ingestion_rel) || strncmp(k->ingestion_rel, "data/", 5) == 0 ||
        strcmp(k->ingestion_rel, "data") == 0 || strcmp(k->ingestion_rel, k->test_rel) == 0 ||
        strcmp(k->ingestion_rel, k->smoke_rel) == 0 || strcmp(k->ingestion_rel, "scoring_program") == 0) {
      bundle_problem(p, file, "submission.ingestion",
                     "must be a folder of the bundle of its own (outside data/, not the inputs nor the scoring "
                     "program), like \"ingestion_program\"");
      k->ingestion_rel[0] = '\0'; /* refused: nothing reads a path outside the bundle */
    }
    if (json_object_get(sub, "command") != NULL)
      bundle_problem(p, file, "submission.command",
                     "goes without \"ingestion\": the ingestion program's metadata gives the command");
  }
  d->c.ingestion = k->ingestion_rel[0] != '\0';
  check_runtime(&k->runtime, json_object_get(sub, "runtime"), "submission.runtime", file, p);
}

/* ------------------------------------------------------------------------------------------ the rules, in order */

void def_check_rules(struct challenge_def *d, const char *file, int default_wall_s, struct bundle_problems *p)
{
  d->data = json_object_get(d->root, "data");
  if (!json_is_array(d->data))
    d->data = NULL;
  d->anonymity = json_object_get(d->root, "anonymity");
  if (d->c.slug[0] != '\0' && !safe_slug(d->c.slug))
    bundle_problem(p, file, "slug", "must be 2 to 63 characters of a-z 0-9 - not starting with - (got \"%s\")",
                   d->c.slug);
  check_data_paths(d, file, p);
  if (d->truth_rel[0] != '\0' && (!safe_relpath(d->truth_rel) || strncmp(d->truth_rel, "data/", 5) == 0))
    bundle_problem(p, file, "ground_truth", "must be a path outside data/, like private/solution.csv");
  if (d->sample_rel[0] != '\0' && !data_lists(d, d->sample_rel))
    bundle_problem(p, file, "sample_submission", "must be one of the files listed in \"data\"");
  if (d->sample_rel[0] == '\0' && data_lists(d, "data/sample_submission.csv"))
    util_strlcpy(d->sample_rel, "data/sample_submission.csv", sizeof(d->sample_rel));
  d->id_default = json_object_get(d->root, "id_column") == NULL;
  json_t *split = json_object_get(d->root, "split_column");
  d->split_none = json_is_null(split);
  if (split == NULL)
    util_strlcpy(d->c.split_column, "Usage", sizeof(d->c.split_column));
  check_metric(d, file, p);
  check_secondary(d, file, p);
  check_phases(d, file, p);
  char err[256];
  int limits_reported = 0;
  for (int i = 0; i < p->n; i++)
    limits_reported |= strstr(p->text[i], ": limits") != NULL;
  if (sandbox_limits_parse(json_object_get(d->root, "limits"), default_wall_s, &d->limits, err, sizeof(err)) != 0 &&
      !limits_reported)
    bundle_problem(p, file, "limits", "%s", err);
  check_code(d, file, p);
}
