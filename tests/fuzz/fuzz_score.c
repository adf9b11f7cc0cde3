/*
 * fuzz_score.c: a differential libFuzzer target for the scorer (score.h), on prediction files nobody vetted.
 *
 * Each input makes a ground truth and a prediction file, scores them once as concours-score does by default, then
 * again with each switch that must not change the answer (CONCOURS_SCORE_SPLIT_TEST: a second reader for the file's
 * second half; NO_DENSE and SHORT_TAGS: the keyed join instead of numbered ids', tags that collide more;
 * CHECK_IDS, KEEP_IDS, NO_MICRO, NO_BINS; PAR_TEST: two threads for each step that splits its rows, however few;
 * BINS_TEST: roc_auc's and average_precision's values of six decimals counted by bin, however few),
 * and the file gzip'd. Every run must answer the same status and the same JSON, byte for byte: score, splits,
 * bootstrap interval, or the error with its problems, lines and counts. A difference aborts, and so does any
 * sanitizer report (scripts/fuzz/run.sh builds it with ASan and UBSan).
 *
 * The input: byte 0 picks the metric, byte 1 the ground truth's shape (id style, order, a split column, classes,
 * line ends, a bootstrap), byte 2 its rows; then the ground truth's mutations (mutate_lines()); the rest is a program
 * of rows for the prediction file (write_pred()), or, when it starts with 0xFF, the prediction file's bytes after its
 * header, as they are.
 */
#include "score.h"

#include <zlib.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ROWS 600
#define TEXT_CAP (1 << 20)

enum kind { K_PROBA, K_LABEL, K_NUMBER, K_SURVIVAL };

static const struct {
  const char *name;
  enum kind kind;
} metrics[] = {
  {"roc_auc", K_PROBA},  {"log_loss", K_PROBA}, {"average_precision", K_PROBA}, {"brier", K_PROBA},
  {"accuracy", K_LABEL}, {"f1_macro", K_LABEL}, {"cost_matrix", K_LABEL},       {"quadratic_weighted_kappa", K_LABEL},
  {"rmse", K_NUMBER},    {"mape", K_NUMBER},    {"c_index", K_SURVIVAL},
};
#define NMETRIC (sizeof(metrics) / sizeof(metrics[0]))

/* The switches that must leave every answer as it is; run 0 sets none. */
#define SWITCHES_MAX 4 /* the most variables a run sets */
static const char *const switches[][SWITCHES_MAX] = {
  {NULL},
  {"CONCOURS_SCORE_SPLIT_TEST", NULL},
  {"CONCOURS_SCORE_NO_DENSE", NULL},
  {"CONCOURS_SCORE_NO_DENSE", "CONCOURS_SCORE_SHORT_TAGS", NULL},
  {"CONCOURS_SCORE_CHECK_IDS", "CONCOURS_SCORE_SPLIT_TEST", NULL},
  {"CONCOURS_SCORE_KEEP_IDS", NULL},
  {"CONCOURS_SCORE_NO_MICRO", "CONCOURS_SCORE_SPLIT_TEST", NULL},
  {"CONCOURS_SCORE_NO_BINS", "CONCOURS_SCORE_NO_DENSE", "CONCOURS_SCORE_SPLIT_TEST", "CONCOURS_SCORE_PAR_TEST"},
  {"CONCOURS_SCORE_PAR_TEST", NULL},
  {"CONCOURS_SCORE_BINS_TEST", "CONCOURS_SCORE_PAR_TEST", NULL},
};
#define NSWITCH (sizeof(switches) / sizeof(switches[0]))
static const char *const every_switch[] = {
  "CONCOURS_SCORE_SPLIT_TEST", "CONCOURS_SCORE_NO_DENSE", "CONCOURS_SCORE_SHORT_TAGS",
  "CONCOURS_SCORE_CHECK_IDS",  "CONCOURS_SCORE_KEEP_IDS", "CONCOURS_SCORE_NO_MICRO",
  "CONCOURS_SCORE_NO_BINS",    "CONCOURS_SCORE_PAR_TEST", "CONCOURS_SCORE_BINS_TEST"};

/* A bounded text being written; FULL once a write did not fit (the input is then skipped). */
struct text {
  char *s;
  size_t len;
  int full;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
  va_list ap;
  int n;

  if (t->full)
    return;
  va_start(ap, fmt);
  n = vsnprintf(t->s + t->len, TEXT_CAP - t->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= TEXT_CAP - t->len)
    t->full = 1;
  else
    t->len += (size_t)n;
}

static void put_bytes(struct text *t, const uint8_t *b, size_t n)
{
  if (t->full || n >= TEXT_CAP - t->len) {
    t->full = 1;
    return;
  }
  memcpy(t->s + t->len, b, n);
  t->len += n;
}

/* The input's bytes, read in order; past the end, zeros. */
struct cursor {
  const uint8_t *p;
  size_t left;
};

static uint8_t take(struct cursor *c)
{
  if (c->left == 0)
    return 0;
  c->left--;
  return *c->p++;
}

/* The ground truth's shape, from bytes 1 and 2. */
struct shape {
  enum kind kind;
  int ids;     /* 0 zero-padded numbers, 1 plain numbers, 2 numbers with gaps, 3 hex words (keyed join) */
  int reverse; /* ids written in decreasing order */
  int split;   /* a Usage column */
  int nclass;  /* 2 to 4 */
  int crlf;
  unsigned bootstrap;
  size_t n;
};

static void id_text(const struct shape *sh, size_t i, char *out, size_t cap)
{
  size_t k = sh->reverse ? sh->n - 1 - i : i;

  switch (sh->ids) {
  case 0:
    snprintf(out, cap, "id_%03zu", k);
    break;
  case 1:
    snprintf(out, cap, "%zu", 95 + k);
    break;
  case 2:
    snprintf(out, cap, "g%zu", 7 + k * 5 + (k * k) % 5); /* steps of 2 to 8: increasing, with gaps */
    break;
  default:
    snprintf(out, cap, "%08x-%zu", (unsigned)((k + 1) * 2654435761u), k % 7);
    break;
  }
}

/* A value of row I's truth: deterministic, and every class present from the first NCLASS rows. */
static unsigned truth_value(size_t i, unsigned salt)
{
  uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ull + salt;

  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  return (unsigned)(x >> 40);
}

#define TRUTH_LINES (MAX_ROWS + 16)
#define LINE_CAP 96

/* The ground truth's data lines, as written, before the mutations of its program. */
struct truth_lines {
  char line[TRUTH_LINES][LINE_CAP];
  size_t n;
};

static void make_lines(struct truth_lines *tl, const struct shape *sh, unsigned salt)
{
  char id[64];
  size_t i;

  tl->n = sh->n;
  for (i = 0; i < sh->n; i++) {
    unsigned v = truth_value(i, salt);
    char *l = tl->line[i];
    int k;

    id_text(sh, i, id, sizeof id);
    switch (sh->kind) {
    case K_NUMBER:
      k = snprintf(l, LINE_CAP, "%s,%.3f", id, (double)(v % 20000) / 100.0 - 50.0);
      break;
    case K_SURVIVAL:
      k = snprintf(l, LINE_CAP, "%s,%u,%u", id, 1 + v % 50, i < 2 ? (unsigned)i : (v >> 8) % 2);
      break;
    default:
      k = snprintf(l, LINE_CAP, "%s,%u", id, i < (size_t)sh->nclass ? (unsigned)i : v % (unsigned)sh->nclass);
      break;
    }
    if (sh->split && k > 0 && k < LINE_CAP)
      snprintf(l + k, LINE_CAP - (size_t)k, ",%s", i % 3 == 1 || (v >> 4) % 2 ? "Public" : "Private");
  }
}

/* The length of LINE's first field (its id): up to the first comma, or the whole line. */
static size_t id_len(const char *line)
{
  const char *comma = strchr(line, ',');

  return comma ? (size_t)(comma - line) : strlen(line);
}

/*
 * Up to seven mutations of the ground truth from the program at C (the organizer's file is checked, not trusted):
 * a row repeated, two rows swapped (ids out of order), an id quoted, a blank line, a target or split value of raw
 * bytes, an id taken from another row, an id written another way (a numbered id's zero or suffix), a row dropped.
 */
static void mutate_lines(struct truth_lines *tl, struct cursor *c)
{
  uint8_t head = take(c);
  int left = head & 8 ? head & 7 : 0;

  while (left-- > 0 && tl->n > 0) {
    uint8_t op = take(c);
    size_t a = take(c) % tl->n;
    size_t b = take(c) % tl->n;
    char keep[LINE_CAP];
    size_t idlen = id_len(tl->line[a]);

    switch (op % 8) {
    case 0: /* a row repeated at B */
    case 3: /* a blank line at B */
      if (tl->n >= TRUTH_LINES)
        break;
      memmove(tl->line[b + 1], tl->line[b], (tl->n - b) * LINE_CAP);
      tl->n++;
      if (op % 8 == 3)
        tl->line[b][0] = '\0';
      else
        memcpy(tl->line[b], tl->line[a + (a >= b)], LINE_CAP);
      break;
    case 1:
      memcpy(keep, tl->line[a], LINE_CAP);
      memcpy(tl->line[a], tl->line[b], LINE_CAP);
      memcpy(tl->line[b], keep, LINE_CAP);
      break;
    case 2:
      snprintf(keep, LINE_CAP, "\"%.*s\"%s", (int)idlen, tl->line[a], tl->line[a] + idlen);
      memcpy(tl->line[a], keep, LINE_CAP);
      break;
    case 4: { /* raw bytes for the last field */
      char *last = strrchr(tl->line[a], ',');
      size_t at = last ? (size_t)(last - tl->line[a]) + 1 : 0;
      size_t k = take(c) % 4;

      while (k-- > 0 && at + 1 < LINE_CAP) {
        uint8_t x = take(c);

        tl->line[a][at++] = x == 0 || x == '\n' ? 'z' : (char)x; /* a line stays one line */
      }
      tl->line[a][at] = '\0';
      break;
    }
    case 5: /* B's id for A */
      snprintf(keep, LINE_CAP, "%.*s%s", (int)id_len(tl->line[b]), tl->line[b], tl->line[a] + idlen);
      memcpy(tl->line[a], keep, LINE_CAP);
      break;
    case 6: /* another writing of A's id */
      snprintf(keep, LINE_CAP, "%.*s%c%s", (int)idlen, tl->line[a], "0x-"[take(c) % 3], tl -> line[a] + idlen);
      memcpy(tl->line[a], keep, LINE_CAP);
      break;
    default:
      memmove(tl->line[a], tl->line[a + 1], (tl->n - a - 1) * LINE_CAP);
      tl->n--;
      break;
    }
  }
}

static void write_truth(struct text *t, const struct shape *sh, const struct truth_lines *tl)
{
  const char *eol = sh->crlf ? "\r\n" : "\n";
  size_t i;

  switch (sh->kind) {
  case K_NUMBER:
    put(t, "id,y%s%s", sh->split ? ",Usage" : "", eol);
    break;
  case K_SURVIVAL:
    put(t, "id,time,event%s%s", sh->split ? ",Usage" : "", eol);
    break;
  default:
    put(t, "id,label%s%s", sh->split ? ",Usage" : "", eol);
    break;
  }
  for (i = 0; i < tl->n; i++)
    put(t, "%s%s", tl->line[i], eol);
}

/* The prediction file's header: the id column, then the value columns the metric reads. */
static void write_header(struct text *t, const struct shape *sh, int per_class)
{
  int c;

  switch (sh->kind) {
  case K_NUMBER:
    put(t, "id,y\n");
    break;
  case K_SURVIVAL:
    put(t, "id,risk\n");
    break;
  default:
    if (!per_class) {
      put(t, "id,label\n");
      break;
    }
    put(t, "id");
    for (c = 0; c < sh->nclass; c++)
      put(t, ",%d", c);
    put(t, "\n");
    break;
  }
}

/* One value, written in the form FORM picks (six decimals, 17 digits, an exponent, a few raw bytes). */
static void write_value(struct text *t, struct cursor *c, const struct shape *sh, int form)
{
  uint8_t b = take(c);
  double v;

  if (form == 3) { /* raw bytes: anything the reader must refuse or read as the others do */
    size_t n = take(c) % 6;

    while (n-- > 0) {
      uint8_t x = take(c);

      put_bytes(t, &x, 1);
    }
    return;
  }
  if (sh->kind == K_LABEL) {
    put(t, "%d", b % (sh->nclass + 1)); /* one past the classes: an unknown label */
    return;
  }
  v = sh->kind == K_PROBA ? (double)b / 255.0 : (double)b * 3.7 - 100.0;
  if (b == 255)
    v = sh->kind == K_PROBA ? 1.0 + 1e-9 : 1e300; /* out of range */
  if (form == 0)
    put(t, "%.6f", v);
  else if (form == 1)
    put(t, "%.17g", v * (1.0 + (double)take(c) / 1e9));
  else
    put(t, "%.4e", v);
}

/* The prediction file from the program at C: a row per instruction byte, then, unless the first says no, every id
 * the rows did not name, in the truth's order. */
static void write_pred(struct text *t, struct cursor *c, const struct shape *sh)
{
  uint8_t head = take(c);
  int per_class = sh->kind == K_PROBA && (sh->nclass > 2 || (head & 1));
  int values = per_class ? sh->nclass : 1;
  int complete = !(head & 2);
  uint8_t *named = calloc(sh->n, 1);
  size_t next = 0;
  size_t last = 0;
  char id[64];
  size_t i;

  if (!named) {
    t->full = 1;
    return;
  }
  write_header(t, sh, per_class);
  while (c->left > 0 && !t->full) {
    uint8_t op = take(c);
    int k;

    switch (op & 7) {
    case 4: /* the last id again */
      id_text(sh, last, id, sizeof id);
      put(t, "%s", id);
      break;
    case 5: /* an id the truth does not have, near one it has */
      id_text(sh, take(c) % sh->n, id, sizeof id);
      put(t, "%s%c", id, "0x _\"'"[take(c) % 6]);
      break;
    case 6: /* a quoted id */
      last = take(c) % sh->n;
      named[last] = 1;
      id_text(sh, last, id, sizeof id);
      put(t, "\"%s\"", id);
      break;
    case 7: /* a row from further on */
      last = (next + take(c)) % sh->n;
      named[last] = 1;
      id_text(sh, last, id, sizeof id);
      put(t, "%s", id);
      break;
    default: /* the next id */
      last = next % sh->n;
      next++;
      named[last] = 1;
      id_text(sh, last, id, sizeof id);
      put(t, "%s", id);
      break;
    }
    for (k = 0; k < values; k++) {
      put(t, ",");
      write_value(t, c, sh, (op >> 3) & 3);
    }
    switch (op >> 5) {
    case 0:
      put(t, ",extra");
      break;
    case 1:
      put(t, "\r\n");
      break;
    case 2:
      put(t, "\n\n");
      break;
    default:
      put(t, "\n");
      break;
    }
  }
  if (complete) {
    for (i = 0; i < sh->n; i++) {
      int k;

      if (named[i])
        continue;
      id_text(sh, i, id, sizeof id);
      put(t, "%s", id);
      for (k = 0; k < values; k++)
        put(t, ",%.6f", sh->kind == K_LABEL ? (double)(i % (size_t)sh->nclass) : (double)(i % 97) / 97.0);
      put(t, "\n");
    }
  }
  free(named);
}

static char dir[64];
static char truth_path[96];
static char pred_path[96];
static char gz_path[96];

static int save(const char *path, const struct text *t)
{
  FILE *f = fopen(path, "wb");
  int ok;

  if (!f)
    return -1;
  ok = fwrite(t->s, 1, t->len, f) == t->len;
  return fclose(f) == 0 && ok ? 0 : -1;
}

/* T gzip'd into PATH. */
static int save_gz(const char *path, const struct text *t)
{
  gzFile f = gzopen(path, "wb1");
  int ok;

  if (!f)
    return -1;
  ok = t->len == 0 || gzwrite(f, t->s, (unsigned)t->len) == (int)t->len;
  return gzclose(f) == Z_OK && ok ? 0 : -1;
}

/* Scores REQ with switch set S: the status, and the answer as JSON text (malloc'ed) into *TEXT. */
static enum score_status score_with(const struct score_request *req, size_t s, char **text)
{
  json_t *out = NULL;
  enum score_status st;
  size_t i;

  for (i = 0; i < sizeof(every_switch) / sizeof(every_switch[0]); i++)
    unsetenv(every_switch[i]);
  for (i = 0; i < SWITCHES_MAX && switches[s][i]; i++)
    setenv(switches[s][i], "1", 1);
  st = score_run(req, &out);
  *text = out ? json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
  json_decref(out);
  return st;
}

/* Aborts unless REQ scored with switch set S answers ST0 and FIRST, the default's answer, byte for byte; WHAT names
 * the file in the message. */
static void expect_same(const struct score_request *req, size_t s, enum score_status st0, const char *first,
                        const char *what)
{
  char *again = NULL;
  enum score_status st = score_with(req, s, &again);

  if (!again)
    abort();
  if (st != st0 || strcmp(first, again) != 0) {
    fprintf(stderr,
            "fuzz_score: %s answers differently for %s with switch set %zu (%s...)\n  default: %d %s\n"
            "  here: %d %s\n",
            req->metric, what, s, s ? switches[s][0] : "none", (int)st0, first, (int)st, again);
    abort();
  }
  free(again);
}

/* At exit, the files of the last input and their folder go (an abort leaves them, for a look at that input). */
static void remove_files(void)
{
  unlink(truth_path);
  unlink(pred_path);
  unlink(gz_path);
  rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  snprintf(dir, sizeof dir, "/tmp/fuzz_score.XXXXXX");
  if (!mkdtemp(dir))
    abort();
  snprintf(truth_path, sizeof truth_path, "%s/truth.csv", dir);
  snprintf(pred_path, sizeof pred_path, "%s/pred.csv", dir);
  snprintf(gz_path, sizeof gz_path, "%s/pred.csv.gz", dir);
  atexit(remove_files);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct cursor c = {data, size};
  struct text truth = {NULL, 0, 0};
  struct text pred = {NULL, 0, 0};
  struct score_request req;
  struct shape sh;
  uint8_t m;
  uint8_t b1;
  uint8_t b2;
  struct truth_lines *lines = NULL;
  char *first = NULL;
  enum score_status st0;
  size_t s;

  if (size < 3)
    return 0;
  m = take(&c) % NMETRIC;
  b1 = take(&c);
  b2 = take(&c);
  sh = (struct shape){.kind = metrics[m].kind,
                      .ids = b1 & 3,
                      .reverse = (b1 >> 2) & 1,
                      .split = (b1 >> 3) & 1,
                      .nclass = metrics[m].kind == K_LABEL || metrics[m].kind == K_PROBA ? 2 + (b1 >> 4) % 3 : 2,
                      .crlf = (b1 >> 6) & 1,
                      .bootstrap = (b1 >> 7) ? 7 : 0,
                      .n = 1 + (size_t)b2 * MAX_ROWS / 256};
  if (sh.n < (size_t)sh.nclass)
    sh.n = (size_t)sh.nclass;
  truth.s = malloc(TEXT_CAP);
  pred.s = malloc(TEXT_CAP);
  if (!truth.s || !pred.s)
    goto out;
  lines = malloc(sizeof *lines);
  if (!lines)
    goto out;
  make_lines(lines, &sh, (unsigned)size);
  mutate_lines(lines, &c);
  write_truth(&truth, &sh, lines);
  if (c.left > 0 && *c.p == 0xFF) { /* the file's bytes after its header, as they are */
    take(&c);
    write_header(&pred, &sh, sh.kind == K_PROBA && sh.nclass > 2);
    put_bytes(&pred, c.p, c.left);
  } else {
    write_pred(&pred, &c, &sh);
  }
  if (truth.full || pred.full || save(truth_path, &truth) != 0 || save(pred_path, &pred) != 0)
    goto out;
  memset(&req, 0, sizeof req);
  req.truth_path = truth_path;
  req.pred_path = pred_path;
  req.metric = metrics[m].name;
  if (strcmp(req.metric, "cost_matrix") == 0)
    req.params_json = sh.nclass == 2   ? "{\"labels\":[\"0\",\"1\"],\"matrix\":[[0,1],[0.5,0]]}"
                      : sh.nclass == 3 ? "{\"labels\":[\"0\",\"1\",\"2\"],\"matrix\":[[0,1,2],[1,0,1],[2,1,0]]}"
                                       : "{\"labels\":[\"0\",\"1\",\"2\",\"3\"],\"matrix\":[[0,1,2,3],[1,0,1,2],"
                                         "[2,1,0,1],[3,2,1,0]]}";
  req.bootstrap = sh.bootstrap;
  req.seed = 3;
  score_limits_default(&req.lim);
  req.lim.max_record = 4096; /* records cut short are refused the same way by every reader */
  st0 = score_with(&req, 0, &first);
  if (!first)
    abort();
  for (s = 1; s < NSWITCH; s++)
    expect_same(&req, s, st0, first, "the file as written");
  /* the same file gzip'd: read from the decompressed copy instead of the mapped file, with the switches of the
   * second reader (which then splits that copy) */
  if (pred.len > 0 && save_gz(gz_path, &pred) == 0) {
    req.pred_path = gz_path;
    for (s = 0; s < 2; s++)
      expect_same(&req, s, st0, first, "the file gzip'd");
  }
out:
  free(lines);
  free(first);
  free(truth.s);
  free(pred.s);
  return 0;
}
