/* stability.c: see stability.h. */
#include "stability.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "score.h"
#include "store.h"
#include "util.h"

#define MAX_THREADS 8
#define CACHE_MAX 64            /* analyses kept in DATA/stability (the oldest go first) */
#define BLOCK_SAMPLES 16        /* bootstrap samples summed in one pass over the cases (fewer on many cases) */
#define BLOCK_COUNTS (8u << 20) /* case counts a thread holds for one block: 32 MiB */

int stability_per_case_path(int64_t submission_id, char *out, size_t n)
{
  char dir[APP_PATH_MAX], rel[64];
  if (store_path(dir, sizeof(dir), "percase") != 0 || (mkdir(dir, 0700) != 0 && errno != EEXIST))
    return -1;
  snprintf(rel, sizeof(rel), "percase/%lld.cpc", (long long)submission_id);
  return store_path(out, n, rel);
}

struct header {
  uint32_t kind, higher_is_better;
  uint64_t n;
  /* SCORE_PER_CASE_DATA only */
  uint32_t truth, pred, nclass, ncol, has_cost;
  int32_t binary_pos;
  char metric[32];
};

static uint64_t le(const unsigned char *p, int bytes)
{
  uint64_t v = 0;
  for (int k = bytes - 1; k >= 0; k--)
    v = (v << 8) | p[k];
  return v;
}

/* Bytes per case of a data file's truth and predictions, and of its cost matrix: the size it must have. */
static int64_t data_size(const struct header *h)
{
  uint64_t truth = h->truth == SCORE_TRUTH_LABEL ? 4 : h->truth == SCORE_TRUTH_NUMBER ? 8 : 9;
  uint64_t pred = h->pred == SCORE_PRED_LABEL ? 4 : 8 * (uint64_t)h->ncol;
  uint64_t cost = h->has_cost ? 8 * (uint64_t)h->nclass * h->nclass : 0;
  return (int64_t)(SCORE_PER_CASE_HEADER + SCORE_PER_CASE_DATA_HEADER + h->n * (truth + pred) + cost);
}

/* Reads the header of the open per-case file FD (of SIZE bytes) into H: 1 when whole (its size is what the header
 * says, every field in range), 0 when not, -1 on I/O. */
static int read_header(int fd, int64_t size, struct header *h)
{
  unsigned char head[SCORE_PER_CASE_HEADER + SCORE_PER_CASE_DATA_HEADER];
  ssize_t got = pread(fd, head, sizeof(head), 0);
  memset(h, 0, sizeof(*h));
  if (got < 0)
    return -1;
  if (got < SCORE_PER_CASE_HEADER || memcmp(head, SCORE_PER_CASE_MAGIC, 4) != 0)
    return 0;
  h->kind = (uint32_t)le(head + 4, 4);
  h->higher_is_better = (uint32_t)le(head + 8, 4);
  h->n = le(head + 16, 8);
  if (h->higher_is_better > 1 || h->n > (uint64_t)size)
    return 0;
  if (h->kind == SCORE_PER_CASE_MEAN || h->kind == SCORE_PER_CASE_RMS)
    return (int64_t)(SCORE_PER_CASE_HEADER + h->n * 8) == size;
  if (h->kind != SCORE_PER_CASE_DATA || got != (ssize_t)sizeof(head))
    return 0;
  const unsigned char *x = head + SCORE_PER_CASE_HEADER;
  h->truth = (uint32_t)le(x, 4);
  h->pred = (uint32_t)le(x + 4, 4);
  h->nclass = (uint32_t)le(x + 8, 4);
  h->binary_pos = (int32_t)(uint32_t)le(x + 12, 4);
  h->ncol = (uint32_t)le(x + 16, 4);
  h->has_cost = (uint32_t)le(x + 20, 4);
  memcpy(h->metric, x + 24, 31);
  h->metric[31] = '\0';
  const struct score_metric *m = score_metric_find(h->metric);
  return m != NULL && m->truth == (enum score_truth)h->truth && m->pred == (enum score_pred)h->pred &&
         h->nclass <= SCORE_MAX_CLASSES && h->has_cost <= 1 && h->binary_pos >= -1 &&
         h->binary_pos < (int32_t)h->nclass && (h->pred == SCORE_PRED_LABEL ? h->ncol == 0 : h->ncol >= 1) &&
         h->ncol <= SCORE_MAX_CLASSES && data_size(h) == size;
}

int stability_per_case_valid(const char *path)
{
  struct header h;
  struct stat st;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int r = fstat(fd, &st) == 0 ? read_header(fd, st.st_size, &h) : -1;
  close(fd);
  return r;
}

/* ------------------------------------------------------------------------------------------------ statistics */

/* The upper tail of the standard normal distribution at Z. */
static double normal_upper(double z)
{
  return 0.5 * erfc(z / sqrt(2.0));
}

int stability_wilcoxon_greater(const double *x, const double *y, size_t n, uint64_t *scratch, double *p_greater,
                               double *p_less)
{
  uint64_t *pos = scratch, *neg = scratch + n, *tmp = scratch + 2 * n;
  size_t np = 0, nn = 0;
  for (size_t i = 0; i < n; i++) {
    double d = x[i] - y[i];
    if (!isfinite(d))
      return -1;
    if (d > 0)
      pos[np++] = score_sort_key(d);
    else if (d < 0)
      neg[nn++] = score_sort_key(-d);
  }
  score_sort_keys(pos, tmp, np);
  score_sort_keys(neg, tmp, nn);
  /* walk both sorted lists as one: a run of equal |d| (from either side) shares the average of its ranks */
  double w_plus = 0, ties = 0;
  size_t i = 0, j = 0, rank = 0;
  while (i < np || j < nn) {
    uint64_t v = i < np && (j >= nn || pos[i] <= neg[j]) ? pos[i] : neg[j];
    size_t cp = 0, cn = 0;
    while (i < np && pos[i] == v) {
      i++;
      cp++;
    }
    while (j < nn && neg[j] == v) {
      j++;
      cn++;
    }
    double t = (double)(cp + cn);
    w_plus += (double)cp * ((double)rank + (t + 1) / 2);
    ties += t * t * t - t;
    rank += cp + cn;
  }
  double m = (double)(np + nn);
  double sigma = sqrt(m * (m + 1) * (2 * m + 1) / 24 - ties / 48);
  if (m == 0 || !(sigma > 0)) {
    *p_greater = 1;
    *p_less = 1;
    return 0;
  }
  double z = w_plus - m * (m + 1) / 4;
  *p_greater = normal_upper((z - 0.5) / sigma);
  *p_less = normal_upper((-z - 0.5) / sigma); /* W- = m(m+1)/2 - W+ */
  return 0;
}

struct ranked_p {
  double p;
  size_t at;
};

static int by_p(const void *a, const void *b)
{
  const struct ranked_p *x = a, *y = b;
  return x->p < y->p ? -1 : x->p > y->p ? 1 : x->at < y->at ? -1 : x->at > y->at;
}

int stability_holm(const double *p, double *adj, size_t n)
{
  struct ranked_p *o = malloc((n > 0 ? n : 1) * sizeof(*o));
  if (o == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    o[i] = (struct ranked_p){p[i], i};
  qsort(o, n, sizeof(*o), by_p);
  double run = 0;
  for (size_t i = 0; i < n; i++) {
    double v = (double)(n - i) * o[i].p;
    run = v > run ? v : run;
    adj[o[i].at] = run < 1 ? run : 1;
  }
  free(o);
  return 0;
}

double stability_kendall_tau_b(const int *a, const int *b, size_t n)
{
  double concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      int da = (a[i] > a[j]) - (a[i] < a[j]), db = (b[i] > b[j]) - (b[i] < b[j]);
      if (da == 0 && db == 0)
        continue;
      if (da == 0)
        ties_a++;
      else if (db == 0)
        ties_b++;
      else if (da == db)
        concordant++;
      else
        discordant++;
    }
  double denom = sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b));
  return denom > 0 ? (concordant - discordant) / denom : 1;
}

/* R's quantile(x, q) (type 7) of the sorted X[0..N). */
static double quantile7(const double *x, size_t n, double q)
{
  if (n == 0)
    return NAN;
  double h = (double)(n - 1) * q;
  size_t lo = (size_t)floor(h);
  size_t hi = lo + 1 < n ? lo + 1 : lo;
  return x[lo] + (h - (double)lo) * (x[hi] - x[lo]);
}

static int by_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------------------------------------------ the analysis */

struct work {
  size_t t, n;     /* teams, cases */
  const double *g; /* case-major: g[i * t + k], oriented so that greater is better */
  const double *v; /* team-major: v[k * n + i], the same values */
  const int *full; /* the full ranking's ranks */
  unsigned b;
  uint64_t seed;
  int *ranks;  /* b x t: each sample's ranks */
  double *tau; /* b */
  double *p;   /* t x t: p[a * t + b], one-sided "a better than b" */
  /* metrics that are not a mean over cases: each team's inputs, and how often a beat b (t x t) */
  const struct score_metric *m;
  int higher_is_better;
  struct team_data *td;
  uint32_t *beats;
  int failed;
  unsigned next; /* the next block of samples, or of pairs (under lock) */
  pthread_mutex_t lock;
};

/* One team's inputs of a metric that is not a mean over cases (a SCORE_PER_CASE_DATA file): D points into BLOB. */
struct team_data {
  struct score_data d;
  unsigned char *blob;
};

static uint64_t splitmix(uint64_t *s)
{
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* ORDER[0..T): the indices of S, the greatest value first (stable). An insertion sort: T is a few hundred at most. */
static void sort_desc(const double *s, size_t t, size_t *order)
{
  for (size_t k = 0; k < t; k++)
    order[k] = k;
  for (size_t k = 1; k < t; k++) {
    size_t x = order[k], j = k;
    while (j > 0 && s[order[j - 1]] < s[x]) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = x;
  }
}

/* Ranks (1 = best, ties share the smallest rank) of the T values S, into R; ORDER is scratch of T. */
static void rank_desc(const double *s, size_t t, int *r, size_t *order)
{
  sort_desc(s, t, order);
  for (size_t k = 0; k < t; k++)
    r[order[k]] = k > 0 && s[order[k]] == s[order[k - 1]] ? r[order[k - 1]] : (int)k + 1;
}

/* Average ranks (1 = the greatest value; a tie shares the mean of its ranks) of S[0..T) into AVG. ORDER: T
 * scratch slots. */
static void case_ranks(const double *s, size_t t, double *avg, size_t *order)
{
  sort_desc(s, t, order);
  for (size_t k = 0; k < t;) {
    size_t end = k + 1;
    while (end < t && s[order[end]] == s[order[k]])
      end++;
    double mean = (double)(k + 1 + end) / 2.0; /* ranks k+1 .. end */
    for (size_t q = k; q < end; q++)
      avg[order[q]] = mean;
    k = end;
  }
}

/* challengeR's other ranking method, rank-then-aggregate: the teams ranked on each case (average ranks for ties),
 * each team's mean rank over the cases into MEAN, and the teams ranked by it (the lowest first, ties sharing a rank)
 * into RANK. The official ranking aggregates (the metric over every case) then ranks. 0, or -1 out of memory. */
static int rank_then_aggregate(const struct work *w, double *mean, int *rank)
{
  size_t t = w->t;
  double *avg = malloc(t * sizeof(*avg)), *neg = malloc(t * sizeof(*neg));
  size_t *order = malloc(t * sizeof(*order));
  int rc = -1;
  if (avg == NULL || neg == NULL || order == NULL || w->n == 0)
    goto out;
  for (size_t k = 0; k < t; k++)
    mean[k] = 0;
  for (size_t i = 0; i < w->n; i++) {
    case_ranks(&w->g[i * t], t, avg, order);
    for (size_t k = 0; k < t; k++)
      mean[k] += avg[k];
  }
  for (size_t k = 0; k < t; k++) {
    mean[k] /= (double)w->n;
    neg[k] = -mean[k];
  }
  rank_desc(neg, t, rank, order);
  rc = 0;
out:
  free(avg);
  free(neg);
  free(order);
  return rc;
}

static unsigned take(struct work *w, unsigned step, unsigned end)
{
  pthread_mutex_lock(&w->lock);
  unsigned at = w->next;
  w->next = at < end ? (at + step < end ? at + step : end) : end;
  pthread_mutex_unlock(&w->lock);
  return at;
}

/* Bootstrap samples, BLOCK_SAMPLES at a time: each sample's case counts (multinomial, from its own seed), then
 * every team's sum in one pass over the cases, which reads each case's row of scores once per block. */
static void *bootstrap_thread(void *arg)
{
  struct work *w = arg;
  size_t t = w->t, n = w->n;
  unsigned block = n * BLOCK_SAMPLES <= BLOCK_COUNTS ? BLOCK_SAMPLES : n < BLOCK_COUNTS ? BLOCK_COUNTS / n : 1;
  uint32_t *counts = calloc(block * n, sizeof(*counts));
  double *acc = malloc(BLOCK_SAMPLES * t * sizeof(*acc));
  size_t *order = malloc(t * sizeof(*order));
  if (counts == NULL || acc == NULL || order == NULL) {
    w->failed = 1;
    goto out;
  }
  for (;;) {
    unsigned b0 = take(w, block, w->b);
    if (b0 >= w->b)
      break;
    unsigned kb = w->b - b0 < block ? w->b - b0 : block;
    memset(counts, 0, (size_t)kb * n * sizeof(*counts));
    memset(acc, 0, (size_t)kb * t * sizeof(*acc));
    for (unsigned k = 0; k < kb; k++) {
      uint64_t s = w->seed * 0x2545F4914F6CDD1DULL + (uint64_t)(b0 + k) * 0x9E3779B97F4A7C15ULL;
      uint32_t *c = counts + (size_t)k * n;
      for (size_t i = 0; i < n; i++)
        c[(size_t)(((unsigned __int128)splitmix(&s) * n) >> 64)]++;
    }
    for (size_t i = 0; i < n; i++) {
      const double *row = w->g + i * t;
      for (unsigned k = 0; k < kb; k++) {
        uint32_t c = counts[(size_t)k * n + i];
        if (c == 0)
          continue;
        double *a = acc + (size_t)k * t, f = (double)c;
        for (size_t x = 0; x < t; x++)
          a[x] += f * row[x];
      }
    }
    for (unsigned k = 0; k < kb; k++) {
      int *r = w->ranks + (size_t)(b0 + k) * t;
      rank_desc(acc + (size_t)k * t, t, r, order);
      w->tau[b0 + k] = stability_kendall_tau_b(w->full, r, t);
    }
  }
out:
  free(counts);
  free(acc);
  free(order);
  return NULL;
}

/* Bootstrap samples of a metric that is not a mean over cases: each sample's cases (drawn as the mean path draws
 * them), the metric computed again for every team on them, ranks, tau, and which team beat which. */
static void *bootstrap_data_thread(void *arg)
{
  struct work *w = arg;
  size_t t = w->t, n = w->n;
  uint32_t *rows = malloc((n > 0 ? n : 1) * sizeof(*rows)), *beats = calloc(t * t, sizeof(*beats));
  double *score = malloc(t * sizeof(*score));
  size_t *order = malloc(t * sizeof(*order));
  if (rows == NULL || beats == NULL || score == NULL || order == NULL) {
    w->failed = 1;
    goto out;
  }
  for (;;) {
    unsigned b = take(w, 1, w->b);
    if (b >= w->b)
      break;
    uint64_t s = w->seed * 0x2545F4914F6CDD1DULL + (uint64_t)b * 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < n; i++)
      rows[i] = (uint32_t)(((unsigned __int128)splitmix(&s) * n) >> 64);
    for (size_t k = 0; k < t; k++) {
      double v = NAN;
      char why[128];
      enum score_fn_status st = w->m->fn(&w->td[k].d, rows, n, &v, why, sizeof(why));
      if (st == SCORE_FN_NOMEM)
        w->failed = 1;
      /* undefined on this sample (one class only...): the worst score */
      score[k] = st != SCORE_FN_OK || !isfinite(v) ? -INFINITY : w->higher_is_better ? v : -v;
    }
    int *r = w->ranks + (size_t)b * t;
    rank_desc(score, t, r, order);
    w->tau[b] = stability_kendall_tau_b(w->full, r, t);
    for (size_t a = 0; a < t; a++)
      for (size_t c = 0; c < t; c++)
        beats[a * t + c] += score[a] > score[c];
  }
  pthread_mutex_lock(&w->lock);
  for (size_t q = 0; q < t * t; q++)
    w->beats[q] += beats[q];
  pthread_mutex_unlock(&w->lock);
out:
  free(rows);
  free(beats);
  free(score);
  free(order);
  return NULL;
}

/* Wilcoxon tests of the unordered pairs (a < b), numbered a * t + b, taken in runs. */
static void *pairs_thread(void *arg)
{
  struct work *w = arg;
  size_t t = w->t, n = w->n;
  uint64_t *scratch = malloc(3 * (n > 0 ? n : 1) * sizeof(*scratch));
  if (scratch == NULL) {
    w->failed = 1;
    return NULL;
  }
  for (;;) {
    unsigned at = take(w, 16, (unsigned)(t * t));
    if (at >= t * t)
      break;
    for (unsigned q = at; q < at + 16 && q < t * t; q++) {
      size_t a = q / t, b = q % t;
      if (a >= b)
        continue;
      if (stability_wilcoxon_greater(w->v + a * n, w->v + b * n, n, scratch, &w->p[a * t + b], &w->p[b * t + a]) != 0)
        w->failed = 1;
    }
  }
  free(scratch);
  return NULL;
}

static int run_threads(struct work *w, void *(*fn)(void *))
{
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int nt = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus, started = 0;
  pthread_t th[MAX_THREADS];
  w->next = 0;
  for (int k = 0; k < nt; k++)
    if (pthread_create(&th[k], NULL, fn, w) == 0)
      started++;
  if (started == 0)
    w->failed = 1; /* (never run inline: the caller may be on a small request stack) */
  for (int k = 0; k < started; k++)
    pthread_join(th[k], NULL);
  return w->failed ? -1 : 0;
}

/* Reads the inputs of the data file at PATH (header H, already checked) into TD, every index and value checked:
 * the file comes out of a sandbox. 0, or -1 with WHY naming TEAM. */
static int read_data(const char *path, const struct header *h, const char *team, struct team_data *td, char *why,
                     size_t whylen)
{
  size_t n = (size_t)h->n, size = (size_t)(data_size(h) - SCORE_PER_CASE_HEADER - SCORE_PER_CASE_DATA_HEADER);
  size_t got = 0;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  td->blob = malloc(size + 1);
  while (fd >= 0 && td->blob != NULL && got < size) {
    ssize_t r = pread(fd, td->blob + got, size - got, SCORE_PER_CASE_HEADER + SCORE_PER_CASE_DATA_HEADER + (off_t)got);
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  if (fd >= 0)
    close(fd);
  if (got != size) {
    snprintf(why, whylen, "the per-case scores of %s cannot be read", team);
    return -1;
  }
  struct score_data *d = &td->d;
  unsigned char *at = td->blob;
  memset(d, 0, sizeof(*d));
  d->n = n;
  d->nclass = (int)h->nclass;
  d->binary_pos = h->binary_pos;
  d->ncol = (int)h->ncol;
  int ok = 1;
  if (h->truth == SCORE_TRUTH_LABEL) { /* the blob is malloc'd: its offsets below keep 4- and 8-byte alignment */
    d->y = (const int32_t *)(void *)at;
    for (size_t i = 0; i < n; i++)
      ok &= d->y[i] >= 0 && d->y[i] < d->nclass;
    at += 4 * n;
  } else {
    d->yv = (const double *)(void *)at;
    for (size_t i = 0; i < n; i++)
      ok &= isfinite(d->yv[i]);
    at += 8 * n;
  }
  const unsigned char *event = NULL;
  if (h->truth == SCORE_TRUTH_SURVIVAL) {
    event = at; /* bytes: read after the predictions so that those stay aligned */
    at += n;
  }
  if (h->pred == SCORE_PRED_LABEL) {
    /* label predictions go with label truths only (read_header checked the metric): 4-byte aligned here */
    d->yhat = (const int32_t *)(void *)at;
    for (size_t i = 0; i < n; i++)
      ok &= d->yhat[i] >= 0 && d->yhat[i] < d->nclass;
    at += 4 * n;
  } else {
    size_t m = n * (size_t)d->ncol;
    double *p = malloc((m > 0 ? m : 1) * sizeof(double));
    if (p == NULL) {
      snprintf(why, whylen, "out of memory");
      return -1;
    }
    memcpy(p, at, m * sizeof(double));
    for (size_t i = 0; i < m; i++)
      ok &= isfinite(p[i]);
    d->p = p;
    at += m * sizeof(double);
  }
  if (event != NULL) {
    uint8_t *e = malloc(n > 0 ? n : 1);
    if (e == NULL) {
      snprintf(why, whylen, "out of memory");
      return -1;
    }
    memcpy(e, event, n);
    for (size_t i = 0; i < n; i++)
      ok &= e[i] <= 1;
    d->event = e;
  }
  if (h->has_cost) {
    size_t m = (size_t)d->nclass * (size_t)d->nclass;
    double *c = malloc((m > 0 ? m : 1) * sizeof(double));
    if (c == NULL) {
      snprintf(why, whylen, "out of memory");
      return -1;
    }
    memcpy(c, at, m * sizeof(double));
    for (size_t i = 0; i < m; i++)
      ok &= isfinite(c[i]);
    d->cost = c;
  }
  if (!ok)
    snprintf(why, whylen, "the per-case scores of %s hold a value out of range", team);
  return ok ? 0 : -1;
}

static void team_data_free(struct team_data *td)
{
  if (td == NULL)
    return;
  free(td->blob);
  free((void *)td->d.p);
  free((void *)td->d.event);
  free((void *)td->d.cost);
}

/* The data files of the kept TEAMS (header FIRST) into W->td. 0, or -1 with WHY. */
static int load_data(const struct stability_team *teams, size_t n, const int *keep, const struct header *first,
                     struct work *w, char *why, size_t whylen)
{
  w->m = score_metric_find(first->metric);
  w->higher_is_better = (int)first->higher_is_better;
  w->td = calloc(w->t, sizeof(*w->td));
  if (w->m == NULL || w->td == NULL) {
    snprintf(why, whylen, "out of memory");
    return -1;
  }
  for (size_t k = 0, slot = 0; k < n; k++) {
    char path[APP_PATH_MAX];
    if (!keep[k])
      continue;
    if (stability_per_case_path(teams[k].submission_id, path, sizeof(path)) != 0 ||
        read_data(path, first, teams[k].name, &w->td[slot], why, whylen) != 0)
      return -1;
    slot++;
  }
  return 0;
}

/* Loads the per-case files of TEAMS into W (oriented values, both layouts). KEEP[k] says which teams have one. */
static int load(const struct stability_team *teams, size_t n, int *keep, struct work *w, double **g, double **v,
                char *why, size_t whylen)
{
  struct header first, h;
  memset(&first, 0, sizeof(first));
  size_t have = 0;
  *g = *v = NULL;
  for (size_t k = 0; k < n; k++) { /* which teams have a whole file, and do they pair? */
    char path[APP_PATH_MAX];
    struct stat st;
    keep[k] = 0;
    int fd = stability_per_case_path(teams[k].submission_id, path, sizeof(path)) == 0
               ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
               : -1;
    if (fd < 0)
      continue;
    if (fstat(fd, &st) == 0 && read_header(fd, st.st_size, &h) == 1) {
      if (have > 0 && (h.n != first.n || h.kind != first.kind || h.higher_is_better != first.higher_is_better ||
                       strcmp(h.metric, first.metric) != 0 || h.nclass != first.nclass || h.ncol != first.ncol ||
                       h.binary_pos != first.binary_pos)) {
        snprintf(why, whylen,
                 "the per-case scores of %s do not pair with the others (%llu cases, not %llu): "
                 "re-score the challenge",
                 teams[k].name, (unsigned long long)h.n, (unsigned long long)first.n);
        close(fd);
        return -1;
      }
      first = have == 0 ? h : first;
      keep[k] = 1;
      have++;
    }
    close(fd);
  }
  if (have < 2) {
    snprintf(why, whylen, "%s",
             have == 0 && n > 0 ? "no per-case scores: the challenge is scored by the organizers' program, or its "
                                  "submissions were scored before concours kept them (re-score the challenge)"
                                : "fewer than two ranked teams have per-case scores");
    return -1;
  }
  if ((long long)have * (long long)first.n > STABILITY_MAX_VALUES || first.n == 0) {
    snprintf(why, whylen, "%zu teams x %llu cases is beyond what the analysis holds in memory", have,
             (unsigned long long)first.n);
    return -1;
  }
  w->t = have;
  w->n = (size_t)first.n;
  if (first.kind == SCORE_PER_CASE_DATA)
    return load_data(teams, n, keep, &first, w, why, whylen);
  *g = malloc(have * w->n * sizeof(double));
  *v = malloc(have * w->n * sizeof(double));
  if (*g == NULL || *v == NULL) {
    snprintf(why, whylen, "out of memory");
    return -1;
  }
  double sign = first.higher_is_better ? 1 : -1;
  size_t slot = 0;
  for (size_t k = 0; k < n; k++) {
    if (!keep[k])
      continue;
    char path[APP_PATH_MAX];
    double *dst = *v + slot * w->n;
    int fd = stability_per_case_path(teams[k].submission_id, path, sizeof(path)) == 0
               ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
               : -1;
    size_t want = w->n * sizeof(double), got = 0;
    while (fd >= 0 && got < want) {
      ssize_t r = pread(fd, (char *)dst + got, want - got, SCORE_PER_CASE_HEADER + (off_t)got);
      if (r <= 0)
        break;
      got += (size_t)r;
    }
    if (fd >= 0)
      close(fd);
    if (got != want) {
      snprintf(why, whylen, "the per-case scores of %s cannot be read", teams[k].name);
      return -1;
    }
    for (size_t i = 0; i < w->n; i++) {
      if (!isfinite(dst[i])) {
        snprintf(why, whylen, "the per-case scores of %s hold an undefined case", teams[k].name);
        return -1;
      }
      dst[i] *= sign;
      (*g)[i * have + slot] = dst[i];
    }
    slot++;
  }
  w->g = *g;
  w->v = *v;
  return 0;
}

json_t *stability_analyse(const struct stability_team *teams, size_t n, unsigned b, uint64_t seed, char *why,
                          size_t whylen)
{
  struct work w;
  memset(&w, 0, sizeof(w));
  pthread_mutex_init(&w.lock, NULL);
  int *keep = calloc(n > 0 ? n : 1, sizeof(*keep)), *full = NULL;
  size_t *idx = NULL;
  double *g = NULL, *v = NULL, *adj = NULL, *col = NULL;
  json_t *out = NULL;
  if (keep == NULL || b < 1 || b > STABILITY_BOOTSTRAP_MAX) {
    snprintf(why, whylen, "bootstrap must be 1 to %d", STABILITY_BOOTSTRAP_MAX);
    goto done;
  }
  if (load(teams, n, keep, &w, &g, &v, why, whylen) != 0)
    goto done;
  size_t t = w.t;
  full = malloc(t * sizeof(*full));
  idx = malloc(t * sizeof(*idx));
  w.ranks = malloc((size_t)b * t * sizeof(*w.ranks));
  w.tau = malloc((size_t)b * sizeof(*w.tau));
  w.p = calloc(t * t, sizeof(*w.p));
  adj = malloc(t * t * sizeof(*adj));
  col = malloc(((size_t)b > t * t ? (size_t)b : t * t) * sizeof(*col));
  if (full == NULL || idx == NULL || w.ranks == NULL || w.tau == NULL || w.p == NULL || adj == NULL || col == NULL) {
    snprintf(why, whylen, "out of memory");
    goto done;
  }
  for (size_t k = 0, s = 0; k < n; k++)
    if (keep[k]) {
      idx[s] = k;
      full[s++] = teams[k].rank;
    }
  w.full = full;
  w.b = b;
  w.seed = seed;
  if (w.td != NULL) { /* not a mean over cases: the metric again on each sample; a pair's p is a share */
    w.beats = calloc(t * t, sizeof(*w.beats));
    if (w.beats == NULL || run_threads(&w, bootstrap_data_thread) != 0) {
      snprintf(why, whylen, "the analysis could not run (out of memory or threads)");
      goto done;
    }
    for (size_t q = 0; q < t * t; q++)
      w.p[q] = q / t == q % t ? 1 : 1 - (double)w.beats[q] / b;
  } else if (run_threads(&w, bootstrap_thread) != 0 || run_threads(&w, pairs_thread) != 0) {
    snprintf(why, whylen, "the analysis could not run (out of memory or threads)");
    goto done;
  }
  /* Holm over every ordered pair (a, b), a != b */
  size_t m = 0;
  for (size_t a = 0; a < t; a++)
    for (size_t c = 0; c < t; c++)
      if (a != c)
        col[m++] = w.p[a * t + c];
  if (stability_holm(col, adj, m) != 0) {
    snprintf(why, whylen, "out of memory");
    goto done;
  }
  json_t *team_rows = json_array(), *pairs = json_array(), *groups = json_array(), *missing = json_array();
  out = json_pack("{s:s,s:s,s:i,s:I,s:I,s:o,s:o,s:o,s:o}", "split", "private", "test",
                  w.td != NULL ? "bootstrap" : "wilcoxon", "bootstrap", (int)b, "seed", (json_int_t)seed, "cases",
                  (json_int_t)w.n, "teams", team_rows, "pairs", pairs, "groups", groups, "missing", missing);
  if (out == NULL)
    goto done;
  for (size_t s = 0; s < t; s++) {
    json_t *freq = json_array();
    for (size_t r = 0; r < t; r++) {
      size_t c = 0;
      for (unsigned x = 0; x < b; x++)
        c += w.ranks[(size_t)x * t + s] == (int)r + 1;
      json_array_append_new(freq, json_real((double)c / b));
    }
    for (unsigned x = 0; x < b; x++)
      col[x] = w.ranks[(size_t)x * t + s];
    qsort(col, b, sizeof(*col), by_double);
    const struct stability_team *tm = &teams[idx[s]];
    json_array_append_new(team_rows,
                          json_pack("{s:s,s:i,s:f,s:[f,f],s:o}", "team", tm->name, "rank", tm->rank, "score", tm->score,
                                    "rank_ci", quantile7(col, b, 0.025), quantile7(col, b, 0.975), "rank_freq", freq));
  }
  memcpy(col, w.tau, (size_t)b * sizeof(*col));
  qsort(col, b, sizeof(*col), by_double);
  json_object_set_new(out, "kendall_tau",
                      json_pack("{s:f,s:f}", "median", quantile7(col, b, 0.5), "q05", quantile7(col, b, 0.05)));
  m = 0;
  for (size_t a = 0; a < t; a++)
    for (size_t c = 0; c < t; c++)
      if (a != c) {
        json_array_append_new(pairs,
                              json_pack("{s:s,s:s,s:f,s:f,s:b}", "a", teams[idx[a]].name, "b", teams[idx[c]].name, "p",
                                        w.p[a * t + c], "p_holm", adj[m], "a_better", full[a] < full[c]));
        m++;
      }
  /* tie groups: down the full ranking, a team joins the group above it unless the team just above is shown better
   * than it (adjusted p below STABILITY_ALPHA); teams hold their rows in full-ranking order already */
  json_t *group = NULL;
  for (size_t s = 0; s < t; s++) {
    size_t above = s - 1, pos = 0;
    if (s > 0) { /* the adjusted p of (above, s) in the ordered-pair numbering */
      pos = above * (t - 1) + (s > above ? s - 1 : s);
    }
    if (s == 0 || adj[pos] < STABILITY_ALPHA) {
      group = json_array();
      json_array_append_new(groups, group);
    }
    json_array_append_new(group, json_string(teams[idx[s]].name));
  }
  for (size_t k = 0; k < n; k++)
    if (!keep[k])
      json_array_append_new(missing, json_string(teams[k].name));
  /* how the ranking depends on the ranking method (metrics that are a mean over cases: a case has a value) */
  json_object_set_new(out, "rank_then_aggregate", json_null());
  if (w.td == NULL) {
    double *mean = malloc(t * sizeof(*mean));
    int *rta = malloc(t * sizeof(*rta));
    if (mean != NULL && rta != NULL && rank_then_aggregate(&w, mean, rta) == 0) {
      size_t moved = 0;
      for (size_t s = 0; s < t; s++) {
        json_t *row = json_array_get(team_rows, s);
        json_object_set_new(row, "rank_then_aggregate", json_integer(rta[s]));
        json_object_set_new(row, "mean_case_rank", json_real(mean[s]));
        moved += rta[s] != full[s];
      }
      json_object_set_new(
        out, "rank_then_aggregate",
        json_pack("{s:f,s:I}", "kendall_tau", stability_kendall_tau_b(full, rta, t), "teams_moved", (json_int_t)moved));
    }
    free(mean);
    free(rta);
  }
done:
  for (size_t k = 0; w.td != NULL && k < w.t; k++)
    team_data_free(&w.td[k]);
  free(w.td);
  free(w.beats);
  pthread_mutex_destroy(&w.lock);
  free(keep);
  free(full);
  free(idx);
  free(g);
  free(v);
  free(adj);
  free(col);
  free(w.ranks);
  free(w.tau);
  free(w.p);
  return out;
}

/* ------------------------------------------------------------------------------------------------ the cache */

/* The cache file of an analysis of TEAMS with B and SEED into OUT: DATA/stability/KEY.json, KEY the SHA-256 of
 * what the result depends on (each team's name, rank, score and submission, its per-case file's size and
 * modification time, B, SEED). 0, or -1. */
static int cache_path(const struct stability_team *teams, size_t n, unsigned b, uint64_t seed, char *out, size_t len)
{
  size_t cap = 256 + n * 256, at = 0;
  char *text = malloc(cap), key[65], rel[96];
  if (text == NULL)
    return -1;
  at += (size_t)snprintf(text, cap, "v2 %u %llu\n", b, (unsigned long long)seed); /* v2: rank_then_aggregate */
  for (size_t k = 0; k < n && at < cap; k++) {
    char path[APP_PATH_MAX];
    struct stat st;
    memset(&st, 0, sizeof(st));
    if (stability_per_case_path(teams[k].submission_id, path, sizeof(path)) == 0 && stat(path, &st) != 0)
      memset(&st, 0, sizeof(st));
    at += (size_t)snprintf(text + at, cap - at, "%.120s\t%d\t%.17g\t%lld\t%lld\t%lld.%09ld\n", teams[k].name,
                           teams[k].rank, teams[k].score, (long long)teams[k].submission_id, (long long)st.st_size,
                           (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  }
  util_sha256_hex(text, at < cap ? at : cap, key);
  free(text);
  snprintf(rel, sizeof(rel), "stability/%s.json", key);
  return store_path(out, len, rel);
}

/* Removes the oldest files of the cache folder DIR while it holds more than CACHE_MAX. */
static void cache_trim(const char *dir)
{
  for (int round = 0; round < 8; round++) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char oldest[APP_PATH_MAX] = "", path[APP_PATH_MAX];
    struct timespec when = {0, 0};
    int count = 0;
    while (d != NULL && (e = readdir(d)) != NULL) {
      struct stat st;
      if (e->d_name[0] == '.' || util_fmt(path, sizeof(path), "%s/%s", dir, e->d_name) != 0 || stat(path, &st) != 0)
        continue;
      count++;
      if (oldest[0] == '\0' || st.st_mtim.tv_sec < when.tv_sec ||
          (st.st_mtim.tv_sec == when.tv_sec && st.st_mtim.tv_nsec < when.tv_nsec)) {
        when = st.st_mtim;
        util_strlcpy(oldest, path, sizeof(oldest));
      }
    }
    if (d != NULL)
      closedir(d);
    if (count <= CACHE_MAX || oldest[0] == '\0')
      return;
    unlink(oldest);
  }
}

json_t *stability_analyse_cached(const struct stability_team *teams, size_t n, unsigned b, uint64_t seed, char *why,
                                 size_t whylen)
{
  char path[APP_PATH_MAX], dir[APP_PATH_MAX];
  int cacheable = store_path(dir, sizeof(dir), "stability") == 0 && (mkdir(dir, 0700) == 0 || errno == EEXIST) &&
                  cache_path(teams, n, b, seed, path, sizeof(path)) == 0;
  if (cacheable) {
    json_t *kept = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(kept))
      return kept;
    json_decref(kept);
  }
  json_t *out = stability_analyse(teams, n, b, seed, why, whylen);
  char *text = out != NULL && cacheable ? json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
  if (text != NULL && util_write_file_atomic(path, text, strlen(text), 0600) == 0)
    cache_trim(dir);
  free(text);
  return out;
}
