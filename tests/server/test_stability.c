/* test_stability.c: the jury's statistics (server/stability.c). The Wilcoxon p-values, Holm's adjustment and
 * Kendall's tau-b are compared with reference values SciPy computed (scripts/gen_stability_reference.py, ties and
 * zero differences included); the whole analysis is run on per-case files written as concours-score writes them:
 * a team clearly ahead, two teams tied, one without per-case scores, the same seed giving the same figures, and the
 * refusals (files that do not pair, an undefined case, a bad bootstrap count). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "score.h"
#include "stability.h"
#include "util.h"

static int close_to(double a, double b)
{
  return fabs(a - b) <= 1e-9 * (fabs(b) > 1e-300 ? fabs(b) : 1) || (a == b);
}

static double *doubles(json_t *arr)
{
  double *v = calloc(json_array_size(arr) + 1, sizeof(double));
  for (size_t i = 0; v != NULL && i < json_array_size(arr); i++)
    v[i] = json_number_value(json_array_get(arr, i));
  return v;
}

static void reference(const char *path)
{
  json_t *ref = json_load_file(path, 0, NULL);
  CHECK(ref != NULL);
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(ref, "wilcoxon"), i, c)
  {
    json_t *xs = json_object_get(c, "x");
    size_t n = json_array_size(xs);
    double *x = doubles(xs), *y = doubles(json_object_get(c, "y")), pg = -1, pl = -1;
    uint64_t *scratch = malloc(3 * (n + 1) * sizeof(uint64_t));
    CHECK(stability_wilcoxon_greater(x, y, n, scratch, &pg, &pl) == 0);
    double want_g = json_number_value(json_object_get(c, "p_greater"));
    double want_l = json_number_value(json_object_get(c, "p_less"));
    if (!close_to(pg, want_g) || !close_to(pl, want_l))
      fprintf(stderr, "wilcoxon case %zu (n=%zu): %.17g %.17g, SciPy %.17g %.17g\n", i, n, pg, pl, want_g, want_l);
    CHECK(close_to(pg, want_g));
    CHECK(close_to(pl, want_l));
    free(x);
    free(y);
    free(scratch);
  }
  CHECK(i >= 15);
  json_array_foreach(json_object_get(ref, "holm"), i, c)
  {
    size_t m = json_array_size(json_object_get(c, "p"));
    double *p = doubles(json_object_get(c, "p")), *want = doubles(json_object_get(c, "adj"));
    double *adj = calloc(m + 1, sizeof(double));
    CHECK(stability_holm(p, adj, m) == 0);
    for (size_t k = 0; k < m; k++)
      CHECK(close_to(adj[k], want[k]));
    free(p);
    free(want);
    free(adj);
  }
  json_array_foreach(json_object_get(ref, "kendall_tau_b"), i, c)
  {
    size_t t = json_array_size(json_object_get(c, "a"));
    int a[64], b[64];
    for (size_t k = 0; k < t && k < 64; k++) {
      a[k] = (int)json_integer_value(json_array_get(json_object_get(c, "a"), k));
      b[k] = (int)json_integer_value(json_array_get(json_object_get(c, "b"), k));
    }
    CHECK(close_to(stability_kendall_tau_b(a, b, t), json_number_value(json_object_get(c, "tau"))));
  }
  json_decref(ref);
}

/* Writes the per-case file of submission ID: N terms VALUES (kind 1, higher is better when HIB). */
static void per_case(int64_t id, const double *values, uint64_t n, int hib)
{
  char path[APP_PATH_MAX];
  CHECK(stability_per_case_path(id, path, sizeof(path)) == 0);
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  unsigned char head[SCORE_PER_CASE_HEADER] = {'C', 'P', 'C', '1', 1, 0, 0, 0, (unsigned char)hib};
  for (int k = 0; k < 8; k++)
    head[16 + k] = (unsigned char)(n >> (8 * k));
  fwrite(head, 1, sizeof(head), f);
  fwrite(values, sizeof(double), n, f);
  fclose(f);
  CHECK(stability_per_case_valid(path) == 1);
}

static json_t *team_row(json_t *out, const char *name)
{
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(out, "teams"), i,
                     t) if (strcmp(json_string_value(json_object_get(t, "team")), name) == 0) return t;
  return NULL;
}

static void analysis(void)
{
  char err[256], why[300];
  CHECK(store_init(tmpdir, 1, err, sizeof(err)) == 0);
  enum { N = 400 };
  double a[N], b[N], c[N], bad[N];
  unsigned s = 12345;
  for (int i = 0; i < N; i++) { /* accuracy terms: alpha right 90 % of cases, bravo and charlie about 60 % */
    s = s * 1103515245u + 12345u;
    a[i] = (s >> 16) % 10 != 0;
    b[i] = (s >> 8) % 10 < 6;
    c[i] = b[i];
    bad[i] = b[i];
  }
  c[0] = 1 - c[0]; /* charlie differs from bravo in two cases only: tied */
  c[1] = 1 - c[1];
  per_case(1, a, N, 1);
  per_case(2, b, N, 1);
  per_case(3, c, N, 1);
  struct stability_team teams[] = {
    {"alpha", 1, 0.9, 1}, {"bravo", 2, 0.6, 2}, {"charlie", 3, 0.6, 3}, {"delta", 4, 0.5, 99}};
  json_t *out = stability_analyse(teams, 4, 500, 7, why, sizeof(why));
  CHECK(out != NULL);
  if (out == NULL) {
    fprintf(stderr, "analysis refused: %s\n", why);
    return;
  }
  CHECK(json_integer_value(json_object_get(out, "bootstrap")) == 500);
  CHECK(json_integer_value(json_object_get(out, "cases")) == N);
  CHECK(json_array_size(json_object_get(out, "teams")) == 3);
  CHECK(json_array_size(json_object_get(out, "pairs")) == 6);
  CHECK(strcmp(json_string_value(json_array_get(json_object_get(out, "missing"), 0)), "delta") == 0);
  json_t *alpha = team_row(out, "alpha"), *bravo = team_row(out, "bravo");
  CHECK(json_number_value(json_array_get(json_object_get(alpha, "rank_ci"), 0)) == 1);
  CHECK(json_number_value(json_array_get(json_object_get(alpha, "rank_ci"), 1)) == 1);
  CHECK(json_number_value(json_array_get(json_object_get(alpha, "rank_freq"), 0)) == 1);
  double sum = 0;
  for (size_t k = 0; k < 3; k++)
    sum += json_number_value(json_array_get(json_object_get(bravo, "rank_freq"), k));
  CHECK(fabs(sum - 1) < 1e-12);
  CHECK(json_number_value(json_array_get(json_object_get(bravo, "rank_freq"), 0)) == 0);
  /* alpha is shown better than both; bravo and charlie are not shown apart: two groups */
  json_t *groups = json_object_get(out, "groups");
  CHECK(json_array_size(groups) == 2);
  CHECK(json_array_size(json_array_get(groups, 0)) == 1 && json_array_size(json_array_get(groups, 1)) == 2);
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(out, "pairs"), i, p)
  {
    const char *x = json_string_value(json_object_get(p, "a")), *y = json_string_value(json_object_get(p, "b"));
    double adj = json_number_value(json_object_get(p, "p_holm")), raw = json_number_value(json_object_get(p, "p"));
    CHECK(adj >= raw && adj <= 1);
    if (strcmp(x, "alpha") == 0)
      CHECK(adj < 0.001 && json_is_true(json_object_get(p, "a_better")));
    if (strcmp(y, "alpha") == 0)
      CHECK(adj > 0.5 && json_is_false(json_object_get(p, "a_better")));
  }
  CHECK(json_number_value(json_object_get(json_object_get(out, "kendall_tau"), "median")) > 0);
  /* reproducible for a seed; another seed draws other samples */
  json_t *again = stability_analyse(teams, 4, 500, 7, why, sizeof(why));
  json_t *other = stability_analyse(teams, 4, 500, 8, why, sizeof(why));
  CHECK(again != NULL && json_equal(out, again));
  CHECK(other != NULL && !json_equal(json_object_get(team_row(out, "bravo"), "rank_freq"),
                                     json_object_get(team_row(other, "bravo"), "rank_freq")));
  /* kept in DATA/stability: the second call reads what the first wrote; a changed file makes a new analysis */
  json_t *first = stability_analyse_cached(teams, 4, 500, 7, why, sizeof(why));
  json_t *kept = stability_analyse_cached(teams, 4, 500, 7, why, sizeof(why));
  CHECK(first != NULL && kept != NULL && json_equal(first, out) && json_equal(kept, out));
  char dir[APP_PATH_MAX];
  CHECK(store_path(dir, sizeof(dir), "stability") == 0);
  DIR *d = opendir(dir);
  int files = 0;
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL)
    files += e->d_name[0] != '.';
  if (d != NULL)
    closedir(d);
  CHECK(files == 1);
  c[2] = 1 - c[2];
  per_case(3, c, N, 1);
  json_t *changed = stability_analyse_cached(teams, 4, 500, 7, why, sizeof(why));
  CHECK(changed != NULL && !json_equal(changed, out));
  json_decref(first);
  json_decref(kept);
  json_decref(changed);
  json_decref(out);
  json_decref(again);
  json_decref(other);

  /* refusals: a bad count, files that do not pair, an undefined case, fewer than two teams */
  CHECK(stability_analyse(teams, 4, 0, 7, why, sizeof(why)) == NULL);
  per_case(3, c, N - 1, 1);
  CHECK(stability_analyse(teams, 3, 100, 7, why, sizeof(why)) == NULL && strstr(why, "do not pair") != NULL);
  bad[5] = NAN;
  per_case(3, bad, N, 1);
  CHECK(stability_analyse(teams, 3, 100, 7, why, sizeof(why)) == NULL && strstr(why, "undefined") != NULL);
  CHECK(stability_analyse(teams + 2, 2, 100, 7, why, sizeof(why)) == NULL);
  /* a file cut short is not whole */
  char path[APP_PATH_MAX];
  CHECK(stability_per_case_path(2, path, sizeof(path)) == 0);
  CHECK(truncate(path, SCORE_PER_CASE_HEADER + 8 * N - 3) == 0);
  CHECK(stability_per_case_valid(path) == 0);
}

/* Scores the predictions P (probability of class 1 per case) of submission ID with roc_auc through the scorer
 * itself, which writes the per-case file (its inputs: roc_auc is not a mean over cases). */
static void score_auc(int64_t id, const int *label, const double *p, int n)
{
  char truth[512], pred[512], per_case[APP_PATH_MAX];
  snprintf(truth, sizeof(truth), "%s/truth.csv", tmpdir);
  snprintf(pred, sizeof(pred), "%s/pred-%lld.csv", tmpdir, (long long)id);
  FILE *t = fopen(truth, "w"), *f = fopen(pred, "w");
  CHECK(t != NULL && f != NULL);
  fputs("id,Usage,label\n", t);
  fputs("id,label\n", f);
  for (int i = 0; i < n; i++) {
    fprintf(t, "c%d,%s,%d\n", i, i % 4 == 0 ? "Public" : "Private", label[i]);
    fprintf(f, "c%d,%.4f\n", i, p[i]);
  }
  fclose(t);
  fclose(f);
  CHECK(stability_per_case_path(id, per_case, sizeof(per_case)) == 0);
  struct score_request req;
  memset(&req, 0, sizeof(req));
  score_limits_default(&req.lim);
  req.truth_path = truth;
  req.pred_path = pred;
  req.metric = "roc_auc";
  req.per_case_path = per_case;
  json_t *out = NULL;
  CHECK(score_run(&req, &out) == SCORE_OK);
  json_decref(out);
  CHECK(stability_per_case_valid(per_case) == 1);
}

/* roc_auc is not a mean over cases: every sample computes it again, and a pair's p is the share of samples in which
 * a does not beat b. */
static void analysis_by_recomputing(void)
{
  enum { N = 600 };
  int label[N];
  double good[N], coin1[N], coin2[N];
  unsigned s = 777;
  for (int i = 0; i < N; i++) {
    s = s * 1103515245u + 12345u;
    label[i] = (s >> 16) % 3 == 0;
    good[i] = label[i] ? 0.6 + 0.3 * ((s >> 4) % 100) / 100.0 : 0.1 + 0.5 * ((s >> 6) % 100) / 100.0;
    coin1[i] = ((s >> 8) % 1000) / 1000.0;
    coin2[i] = ((s >> 12) % 1000) / 1000.0;
  }
  score_auc(11, label, good, N);
  score_auc(12, label, coin1, N);
  score_auc(13, label, coin2, N);
  struct stability_team teams[] = {{"good", 1, 0.95, 11}, {"coin-a", 2, 0.5, 12}, {"coin-b", 3, 0.5, 13}};
  char why[300];
  json_t *out = stability_analyse(teams, 3, 300, 5, why, sizeof(why));
  CHECK(out != NULL);
  if (out == NULL) {
    fprintf(stderr, "analysis refused: %s\n", why);
    return;
  }
  CHECK(strcmp(json_string_value(json_object_get(out, "test")), "bootstrap") == 0);
  CHECK(json_is_null(json_object_get(out, "rank_then_aggregate"))); /* a case has no AUC of its own */
  CHECK(json_integer_value(json_object_get(out, "cases")) == N - N / 4);
  json_t *good_row = team_row(out, "good");
  CHECK(json_number_value(json_array_get(json_object_get(good_row, "rank_freq"), 0)) == 1);
  json_t *groups = json_object_get(out, "groups");
  CHECK(json_array_size(groups) == 2 && json_array_size(json_array_get(groups, 1)) == 2);
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(out, "pairs"), i, p)
  {
    const char *a = json_string_value(json_object_get(p, "a")), *b = json_string_value(json_object_get(p, "b"));
    double raw = json_number_value(json_object_get(p, "p"));
    CHECK(raw >= 0 && raw <= 1);
    if (strcmp(a, "good") == 0)
      CHECK(raw == 0); /* it beats both coins on every sample */
    if (strcmp(b, "good") == 0)
      CHECK(raw == 1);
  }
  json_t *again = stability_analyse(teams, 3, 300, 5, why, sizeof(why));
  CHECK(again != NULL && json_equal(out, again));
  json_decref(out);
  json_decref(again);
  /* a class index out of range in a file (it comes out of a sandbox) is refused, never read past */
  char path[APP_PATH_MAX];
  CHECK(stability_per_case_path(12, path, sizeof(path)) == 0);
  FILE *f = fopen(path, "r+b");
  CHECK(f != NULL);
  int32_t bad = 1000;
  fseek(f, SCORE_PER_CASE_HEADER + SCORE_PER_CASE_DATA_HEADER, SEEK_SET);
  fwrite(&bad, sizeof(bad), 1, f);
  fclose(f);
  CHECK(stability_analyse(teams, 3, 50, 5, why, sizeof(why)) == NULL && strstr(why, "out of range") != NULL);
}

/* challengeR's two ranking methods disagree when a team wins most cases by a little and loses one by a lot: x
 * is first on three cases of four, but y, steady, has the best mean. Aggregate-then-rank (the official ranking):
 * y, x, z; rank-then-aggregate (mean case ranks x 1.5, y 2, z 2.5): x, y, z. Kendall's tau-b between them: one
 * discordant pair of three, (2 - 1) / 3. Also on a metric that is not a mean over cases: none. */
static void ranking_methods(void)
{
  char why[300];
  const double x[] = {10, 10, 10, 0}, y[] = {9, 9, 9, 9}, z[] = {0, 0, 0, 10};
  per_case(11, x, 4, 1);
  per_case(12, y, 4, 1);
  per_case(13, z, 4, 1);
  struct stability_team teams[] = {{"y", 1, 9, 12}, {"x", 2, 7.5, 11}, {"z", 3, 2.5, 13}};
  json_t *out = stability_analyse(teams, 3, 50, 1, why, sizeof(why));
  CHECK(out != NULL);
  if (out == NULL)
    return;
  json_t *rta = json_object_get(out, "rank_then_aggregate");
  CHECK(close_to(json_number_value(json_object_get(rta, "kendall_tau")), 1.0 / 3.0));
  CHECK(json_integer_value(json_object_get(rta, "teams_moved")) == 2);
  const char *names[] = {"x", "y", "z"};
  const double mean[] = {1.5, 2, 2.5};
  for (int k = 0; k < 3; k++) {
    json_t *row = team_row(out, names[k]);
    CHECK(json_integer_value(json_object_get(row, "rank_then_aggregate")) == k + 1);
    CHECK(close_to(json_number_value(json_object_get(row, "mean_case_rank")), mean[k]));
  }
  json_decref(out);
  /* ties on a case share the mean of their ranks: y and z equal everywhere, x below on every case */
  const double tie[] = {5, 5, 5, 5}, low[] = {1, 1, 1, 1};
  per_case(14, tie, 4, 1);
  per_case(15, tie, 4, 1);
  per_case(16, low, 4, 1);
  struct stability_team tied[] = {{"p", 1, 5, 14}, {"q", 1, 5, 15}, {"r", 3, 1, 16}};
  out = stability_analyse(tied, 3, 50, 1, why, sizeof(why));
  CHECK(out != NULL);
  if (out == NULL)
    return;
  CHECK(close_to(json_number_value(json_object_get(team_row(out, "p"), "mean_case_rank")), 1.5));
  CHECK(json_integer_value(json_object_get(team_row(out, "q"), "rank_then_aggregate")) == 1);
  CHECK(json_integer_value(json_object_get(team_row(out, "r"), "rank_then_aggregate")) == 3);
  CHECK(json_integer_value(json_object_get(json_object_get(out, "rank_then_aggregate"), "teams_moved")) == 0);
  json_decref(out);
}

int main(int argc, char **argv)
{
  if (argc != 2 || check_begin() != 0) {
    fprintf(stderr, "usage: test_server_stability tests/server/stability_reference.json\n");
    return 2;
  }
  reference(argv[1]);
  analysis();
  analysis_by_recomputing();
  ranking_methods();
  return check_end("stability");
}
