/* test_def.c: unit tests of def.c, the one owner of challenge.json: defaults from the table, strictness (unknown
 * keys with suggestions, at the right level or another one), types and ranges, the rules between keys, the phase
 * PATCH (editable keys only, same ranges), the phase JSON and the Markdown reference. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "def.h"

#include "check.h"

static const char minimal[] =
  "{\"slug\":\"demo\",\"title\":\"Demo\",\"terms_version\":1,\"ground_truth\":\"private/solution.csv\","
  "\"metric\":{\"name\":\"roc_auc\"},"
  "\"phases\":[{\"name\":\"dev\",\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"2026-02-01T00:00:00Z\"}]}";

/* Parses TEXT; returns def_parse's result and leaves the problems in P. */
static int parse(const char *text, struct challenge_def *d, struct bundle_problems *p)
{
  memset(p, 0, sizeof(*p));
  return def_parse(text, strlen(text), "challenge.json", 600, d, p);
}

static int has_problem(const struct bundle_problems *p, const char *text)
{
  for (int i = 0; i < p->n; i++) {
    if (strstr(p->text[i], text) != NULL)
      return 1;
  }
  return 0;
}

static void test_defaults(void)
{
  struct challenge_def d;
  struct bundle_problems p;
  CHECK(parse(minimal, &d, &p) == 0 && p.n == 0);
  CHECK(strcmp(d.c.slug, "demo") == 0 && d.c.precision == 4 && d.c.team_max_size == 1);
  CHECK(strcmp(d.c.split_column, "Usage") == 0 && !d.split_none && d.id_default);
  CHECK(d.c.higher_is_better == 1 && strcmp(d.c.metric_name, "roc_auc") == 0 && !d.program);
  CHECK(d.c.nphases == 1 && d.c.phases[0].max_per_day == 0 &&
        d.c.phases[0].end_at - d.c.phases[0].start_at == 31 * 86400);
  CHECK(d.limits.wall_s == 600 && d.limits.memory_mb == 4096);
  CHECK(d.sample_rel[0] == '\0');
  def_free(&d);
}

static void test_strict(void)
{
  struct challenge_def d;
  struct bundle_problems p;
  char text[2048];
  snprintf(text, sizeof(text), "%.*s,\"final_selecton\":2,\"leaderboard\":{\"precison\":2}}", (int)strlen(minimal) - 1,
           minimal);
  CHECK(parse(text, &d, &p) == 1);
  CHECK(
    has_problem(&p, "final_selecton: unknown key here: did you mean \"final_selection\", which belongs in phases[]?"));
  CHECK(has_problem(&p, "leaderboard.precison: unknown key: did you mean \"precision\"?"));
  def_free(&d);
  CHECK(parse("{\"slug\":1}", &d, &p) == 1 && has_problem(&p, "slug: must be a string of 2 to 63 bytes"));
  CHECK(has_problem(&p, "title: missing (required)") && has_problem(&p, "phases: missing (required)"));
  def_free(&d);
  CHECK(parse("[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]", &d, &p) == 1 && has_problem(&p, "nested more than 16"));
  def_free(&d);
  CHECK(parse("{\"a\":1,\"a\":2}", &d, &p) == 1 && has_problem(&p, "duplicate"));
  def_free(&d);
  const char *near = NULL;
  const char *names[] = {"max_per_day", "max_total"};
  near = def_suggest("max_per_days", names, 2);
  CHECK(near != NULL && strcmp(near, "max_per_day") == 0);
  CHECK(def_suggest("sponsor", names, 2) == NULL);
}

static void test_phase_patch(void)
{
  struct phase ph;
  char err[256];
  memset(&ph, 0, sizeof(ph));
  json_t *ok = json_pack("{s:i,s:s,s:s}", "max_per_day", 7, "end", "2026-05-01T00:00:00Z", "reason", "why");
  CHECK(def_phase_patch(&ph, ok, err, sizeof(err)) == 0 && ph.max_per_day == 7 && ph.end_at == 1777593600);
  json_t *typo = json_pack("{s:i}", "max_per_days", 3);
  CHECK(def_phase_patch(&ph, typo, err, sizeof(err)) != 0 && strstr(err, "did you mean \"max_per_day\"") != NULL);
  json_t *name = json_pack("{s:s}", "name", "x");
  CHECK(def_phase_patch(&ph, name, err, sizeof(err)) != 0 && strstr(err, "cannot be changed") != NULL);
  json_t *neg = json_pack("{s:i}", "max_total", -1);
  CHECK(def_phase_patch(&ph, neg, err, sizeof(err)) != 0 && strstr(err, "from 0 to 1000000") != NULL &&
        ph.max_total == 0);
  json_decref(ok);
  json_decref(typo);
  json_decref(name);
  json_decref(neg);
  json_t *j = def_phase_json(&ph);
  CHECK(j != NULL && json_integer_value(json_object_get(j, "max_per_day")) == 7 &&
        strcmp(json_string_value(json_object_get(j, "end")), "2026-05-01T00:00:00Z") == 0 &&
        json_object_get(j, "final_selection") != NULL);
  json_decref(j);
}

static void test_markdown(void)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  CHECK(f != NULL);
  if (f == NULL)
    return;
  def_markdown(f);
  fclose(f);
  CHECK(strstr(buf, "| `max_per_day` | integer >= 0 | no | 0 |") != NULL);
  CHECK(strstr(buf, "### `phases[]`") != NULL && strstr(buf, "### `limits`") != NULL);
  free(buf);
}

/* The phases' SQL follows the table: columns in table order, a missing column added with the key's default, and a
 * phase written with def_phase_bind reads back the same through def_phase_read. */
static void test_phase_sql(void)
{
  sqlite3 *db = NULL;
  size_t n = 0;
  const char *cols = def_phase_sql_columns(&n);
  CHECK(strcmp(cols, "name,start_at,end_at,max_per_day,max_total,final_selection,fact_sheet,closed,hide_results") ==
          0 &&
        n == 9);
  CHECK(strcmp(def_phase_sql_marks(), "?,?,?,?,?,?,?,?,?") == 0);
  char err[256], sql[512];
  CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db,
                     "CREATE TABLE phases(challenge_id INTEGER, idx INTEGER, name TEXT NOT NULL, "
                     "start_at INTEGER NOT NULL, end_at INTEGER NOT NULL)",
                     NULL, NULL, NULL) == SQLITE_OK);
  CHECK(def_phase_migrate(db, err, sizeof(err)) == 0);
  CHECK(def_phase_migrate(db, err, sizeof(err)) == 0); /* nothing left to add */
  struct phase in, out;
  memset(&in, 0, sizeof(in));
  memset(&out, 0, sizeof(out));
  snprintf(in.name, sizeof(in.name), "final");
  in.start_at = 100;
  in.end_at = 200;
  in.max_per_day = 3;
  in.max_total = 9;
  in.final_selection = 2;
  in.closed = 1; /* booleans go through as integers */
  in.hide_results = 1;
  sqlite3_stmt *st = NULL;
  snprintf(sql, sizeof(sql), "INSERT INTO phases(challenge_id,idx,%s) VALUES(1,0,%s)", cols, def_phase_sql_marks());
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  def_phase_bind(st, 1, &in);
  CHECK(sqlite3_step(st) == SQLITE_DONE);
  sqlite3_finalize(st);
  snprintf(sql, sizeof(sql), "SELECT %s FROM phases", cols);
  CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW);
  def_phase_read(st, 0, &out);
  sqlite3_finalize(st);
  CHECK(memcmp(&in, &out, sizeof(in)) == 0);
  sqlite3_close(db);
}

/* Several metrics (docs/bundle.md): the summary the server ranks by, and every rule between the keys. */
static void test_secondary(void)
{
  struct challenge_def d;
  struct bundle_problems p;
  char text[4096];
  const char *base =
    "{\"slug\":\"demo\",\"title\":\"Demo\",\"terms_version\":1,\"ground_truth\":\"private/s.csv\","
    "\"phases\":[{\"name\":\"dev\",\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"2026-02-01T00:00:00Z\"}],"
    "\"leaderboard\":{\"precision\":3},";
  snprintf(text, sizeof(text),
           "%s\"metric\":{\"name\":\"log_loss\"},\"secondary_metrics\":[{\"name\":\"roc_auc\",\"label\":\"AUC\","
           "\"precision\":2},{\"name\":\"brier\"}],\"ranking\":{\"rule\":\"mean_rank\",\"weights\":{\"roc_auc\":2}}}",
           base);
  CHECK(parse(text, &d, &p) == 0 && p.n == 0);
  CHECK(d.nsecondary == 2 && strcmp(d.secondary[0].name, "roc_auc") == 0 && d.secondary[1].precision == -1);
  json_t *sum = json_loads(d.c.metrics_json, 0, NULL);
  CHECK(sum != NULL && strcmp(json_string_value(json_object_get(sum, "rule")), "mean_rank") == 0);
  json_t *m = json_object_get(sum, "metrics");
  CHECK(json_array_size(m) == 3);
  CHECK(json_is_true(json_object_get(json_array_get(m, 0), "primary")));
  CHECK(json_is_false(json_object_get(json_array_get(m, 0), "higher_is_better"))); /* log_loss */
  CHECK(strcmp(json_string_value(json_object_get(json_array_get(m, 1), "label")), "AUC") == 0);
  CHECK(json_is_true(json_object_get(json_array_get(m, 1), "higher_is_better")));
  CHECK(json_integer_value(json_object_get(json_array_get(m, 1), "precision")) == 2);
  CHECK(json_integer_value(json_object_get(json_array_get(m, 2), "precision")) == 3); /* the leaderboard's */
  CHECK(json_number_value(json_object_get(json_object_get(sum, "weights"), "roc_auc")) == 2);
  CHECK(json_number_value(json_object_get(json_object_get(sum, "weights"), "log_loss")) == 1);
  json_decref(sum);
  def_free(&d);
  /* without secondaries: the primary alone, rule primary */
  CHECK(parse(minimal, &d, &p) == 0 && strstr(d.c.metrics_json, "\"rule\":\"primary\"") != NULL);
  def_free(&d);
  /* refusals */
  const char *bad[][2] = {
    {"\"metric\":{\"name\":\"log_loss\"},\"secondary_metrics\":[{\"name\":\"roc_aux\"}]}", "is not a built-in metric"},
    {"\"metric\":{\"name\":\"log_loss\"},\"secondary_metrics\":[{\"name\":\"log_loss\"}]}", "is already a metric"},
    {"\"metric\":{\"name\":\"log_loss\"},\"secondary_metrics\":[{\"name\":\"roc_auc\",\"higher_is_better\":false}]}",
     "roc_auc is higher-is-better"},
    {"\"metric\":{\"name\":\"log_loss\"},\"ranking\":{\"rule\":\"mean_rank\"}}", "needs \"secondary_metrics\""},
    {"\"metric\":{\"name\":\"log_loss\"},\"secondary_metrics\":[{\"name\":\"brier\"}],\"ranking\":{\"rule\":\"vote\"}}",
     "is \"primary\" or \"mean_rank\""},
    {"\"metric\":{\"name\":\"log_loss\"},\"secondary_metrics\":[{\"name\":\"brier\"}],\"ranking\":{\"rule\":"
     "\"mean_rank\",\"weights\":{\"auc\":1}}}",
     "\"auc\" is not a metric of this challenge"},
    {"\"metric\":{\"name\":\"log_loss\"},\"secondary_metrics\":[{\"name\":\"brier\"}],\"ranking\":{\"rule\":"
     "\"mean_rank\",\"weights\":{\"brier\":0}}}",
     "a number above 0"},
    {"\"metric\":{\"name\":\"log_loss\"},\"secondary_metrics\":[{\"name\":\"brier\"}],\"ranking\":{\"weights\":"
     "{\"brier\":2}}}",
     "go with the rule \"mean_rank\""},
    {"\"metric\":{\"program\":\"scoring_program\",\"score_key\":\"acc\",\"higher_is_better\":true},"
     "\"secondary_metrics\":[{\"name\":\"brier\"}]}",
     "a \"score_key\" of its scores"},
    {"\"metric\":{\"name\":\"log_loss\"},\"secondary_metrics\":[{\"score_key\":\"f1\",\"higher_is_better\":true}]}",
     "is not a built-in metric"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    snprintf(text, sizeof(text), "%s%s", base, bad[i][0]);
    int rc = parse(text, &d, &p);
    CHECK(rc == 1 && has_problem(&p, bad[i][1]));
    if (rc != 1 || !has_problem(&p, bad[i][1]))
      fprintf(stderr, "case %zu: %s\n", i, p.n > 0 ? p.text[0] : "(no problem)");
    def_free(&d);
  }
  /* a program's secondary keys */
  snprintf(text, sizeof(text),
           "%s\"metric\":{\"program\":\"scoring_program\",\"score_key\":\"acc\",\"higher_is_better\":true},"
           "\"secondary_metrics\":[{\"score_key\":\"f1\",\"higher_is_better\":true,\"label\":\"F1\"}]}",
           base);
  CHECK(parse(text, &d, &p) == 0);
  CHECK(strstr(d.c.metrics_json, "\"key\":\"f1\"") != NULL && strstr(d.c.metrics_json, "\"key\":\"acc\"") != NULL);
  def_free(&d);
}

int main(void)
{
  if (check_begin() != 0)
    return 1;
  test_defaults();
  test_strict();
  test_phase_patch();
  test_markdown();
  test_phase_sql();
  test_secondary();
  return check_end("def");
}
