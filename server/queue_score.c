/* queue_score.c: how one job of the scoring queue is scored (see queue_internal.h): the built-in scorer in the
 * sandbox, with the challenge's secondary metrics; the organizer's program on each split (CodaLab's kind, its
 * runtime, its failure values, the errors participants may see); a code challenge's run of the participant's code
 * first. Each ends in a struct outcome that queue.c records. */
#include "queue.h"
#include "queue_internal.h"

#include <stdatomic.h>
#include <stdint.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "db.h"
#include "coderun.h"
#include "db_sandbox.h"
#include "db_mail.h"
#include "db_workers.h"
#include "def.h"
#include "livelog.h"
#include "mail.h"
#include "oci.h"
#include "sandbox.h"
#include "sandbox_program.h"
#include "sandbox_warm.h"
#include "stability.h"
#include "store.h"
#include "util.h"

#define QUEUE_BOOTSTRAP "200" /* resamples for the 95 % intervals the jury sees */

const char queue_generic_failure[] =
  "The scorer could not score this file. It does not count against your quota; the organizers can see the "
  "details.";

/* Parses the scorer's stdout; fills the scores and returns 0, or -1 when it is not the documented object. */
static int parse_scores(const char *out, double *score, double *pub, double *priv, double ci[2])
{
  json_error_t jerr;
  json_t *o = json_loads(out, JSON_REJECT_DUPLICATES, &jerr);
  int rc = -1;
  *pub = *priv = NAN;
  ci[0] = ci[1] = NAN;
  /* the private split's bootstrap interval (the jury's rank stability), when the scorer gave one */
  json_t *pci = json_object_get(json_object_get(o, "ci"), "private");
  if (json_array_size(pci) == 2 && json_is_number(json_array_get(pci, 0)) && json_is_number(json_array_get(pci, 1))) {
    ci[0] = json_number_value(json_array_get(pci, 0));
    ci[1] = json_number_value(json_array_get(pci, 1));
  }
  if (!json_is_object(o) || !json_is_number(json_object_get(o, "score")))
    goto out;
  *score = json_number_value(json_object_get(o, "score"));
  if (json_is_number(json_object_get(o, "public")))
    *pub = json_number_value(json_object_get(o, "public"));
  if (json_is_number(json_object_get(o, "private")))
    *priv = json_number_value(json_object_get(o, "private"));
  if (!isfinite(*score) || (!isnan(*pub) && !isfinite(*pub)) || (!isnan(*priv) && !isfinite(*priv)))
    goto out;
  rc = 0;
out:
  json_decref(o);
  return rc;
}

/* The participant-safe error of an exit-1 run: code and message from the scorer's JSON, bounded. */
static void parse_error(const char *out, char *code, size_t codelen, char *msg, size_t msglen)
{
  json_t *o = json_loads(out, 0, NULL);
  json_t *e = json_object_get(o, "error");
  const char *c = json_string_value(json_object_get(e, "code"));
  const char *m = json_string_value(json_object_get(e, "message"));
  util_strlcpy(code, c != NULL ? c : "invalid_prediction", codelen);
  util_shorten(msg, m != NULL ? m : "The prediction file is invalid.", msglen);
  json_decref(o);
}

/* A score for JSON: a number, or null when there is none (NAN). */
static json_t *score_json(double v)
{
  return isfinite(v) ? json_real(v) : json_null();
}

void queue_outcome_fail(struct outcome *o, const char *code, const char *msg)
{
  o->state = OUTCOME_FAILED;
  util_strlcpy(o->code, code, sizeof(o->code));
  util_shorten(o->msg, msg, sizeof(o->msg));
}

/* Appends a line to the organizers' log. */
void queue_log_add(struct outcome *o, const char *text)
{
  size_t len = strlen(o->log);
  if (len + 1 < QUEUE_LOG_MAX)
    snprintf(o->log + len, QUEUE_LOG_MAX - len, "%s\n", text);
}

static void log_run(struct outcome *o, const char *what, const struct sandbox_result *res)
{
  char head[256];
  snprintf(head, sizeof(head), "%s: exit=%d signal=%d limit=%s truncated=%d cpu=%.2fs maxrss=%ldkB", what,
           res->run.exit_code, res->run.signal,
           res->limit != SANDBOX_LIMIT_NONE ? sandbox_limit_name(res->limit) : "none", res->run.truncated, res->cpu_s,
           res->maxrss_kb);
  queue_log_add(o, head);
  queue_log_add(o, "--- stderr ---");
  queue_log_add(o, res->run.err != NULL ? res->run.err : "");
  queue_log_add(o, "--- stdout ---");
  queue_log_add(o, res->run.out != NULL ? res->run.out : "");
}

/* A run that hit LIMIT: failed, the limit named, nothing about the data. */
static void outcome_limit(struct outcome *o, enum sandbox_limit limit, const struct runner_limits *l)
{
  char msg[256];
  if (limit == SANDBOX_LIMIT_WALL) {
    snprintf(msg, sizeof(msg),
             "Scoring took longer than the time limit of %d s. It does not count against your "
             "quota.",
             l->wall_s);
    queue_outcome_fail(o, "time_limit", msg);
  } else if (limit == SANDBOX_LIMIT_CPU) {
    snprintf(msg, sizeof(msg),
             "Scoring used more than the CPU time limit of %d s. It does not count against "
             "your quota.",
             l->cpu_s);
    queue_outcome_fail(o, "cpu_limit", msg);
  } else {
    snprintf(msg, sizeof(msg),
             "Scoring used more than the memory limit of %ld MB. It does not count against "
             "your quota.",
             l->memory_mb);
    queue_outcome_fail(o, "memory_limit", msg);
  }
}

/* The built-in concours-score, confined: the scorer, the ground truth and a copy of the submission are the only
 * files it sees. */
/* The secondary built-in metrics of DEF (docs/bundle.md, "Several metrics") on the files the primary run scored,
 * each a run of its own in SPEC's sandbox (no interval, no per-case terms), into O->metrics; O becomes failed when
 * the file does not fit one of them (the scorer's message), re-queued when the server stops. */
static void score_secondary(const struct challenge_def *def, struct sandbox_spec *spec, char *const *argv,
                            const atomic_int *stop, struct outcome *o)
{
  json_t *all = json_object();
  char err[512];
  spec->output_host = NULL;
  spec->copy_name = NULL;
  spec->copy_fd = -1;
  for (int i = 0; i < def->nsecondary && all != NULL && o->state == OUTCOME_SCORED; i++) {
    char *args[24];
    double sc = NAN, pub = NAN, priv = NAN, ci[2];
    size_t n = 0;
    for (; argv[n] != NULL && n < 15; n++) /* the primary run's files and columns (its first 15 words: up to
                                             * --split-column's value), then this metric and its params */
      args[n] = argv[n];
    args[n] = NULL;
    for (size_t k = 0; k + 1 < n; k++) {
      if (strcmp(args[k], "--metric") == 0)
        args[k + 1] = (char *)def->secondary[i].name;
      else if (strcmp(args[k], "--params") == 0)
        args[k + 1] = (char *)def->secondary[i].params;
    }
    struct sandbox_result res;
    memset(&res, 0, sizeof(res));
    spec->argv = args;
    if (sandbox_run(spec, stop, &res, err, sizeof(err)) != 0) {
      queue_outcome_fail(o, "scoring_error", queue_generic_failure);
      queue_log_add(o, err);
    } else {
      log_run(o, def->secondary[i].name, &res);
      if (res.stopped)
        o->state = OUTCOME_REQUEUE;
      else if (res.limit != SANDBOX_LIMIT_NONE)
        outcome_limit(o, res.limit, &spec->limits);
      else if (res.run.exit_code == 0 && parse_scores(res.run.out, &sc, &pub, &priv, ci) == 0)
        json_object_set_new(all, def->secondary[i].name,
                            json_pack("{s:o,s:o,s:o}", "score", score_json(sc), "public",
                                      score_json(isnan(pub) ? sc : pub), "private", score_json(priv)));
      else if (res.run.exit_code == 1) {
        o->state = OUTCOME_FAILED;
        parse_error(res.run.out, o->code, sizeof(o->code), o->msg, sizeof(o->msg));
      } else
        queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    }
    sandbox_result_free(&res);
  }
  if (o->state == OUTCOME_SCORED)
    o->metrics = all;
  else
    json_decref(all);
}

/* The scorer's command line for one run (ARGV, 22 words at least): the files at A_TRUTH and A_PRED, the per-case
 * terms to A_PER_CASE (or none: NULL), the interval's resamples when BOOTSTRAP. */
static void builtin_argv(char **argv, const struct challenge *c, const char *a_bin, const char *a_truth,
                         const char *a_pred, const char *a_per_case, const char *max_bytes, const char *params,
                         const char *split_column, const char *seed, int bootstrap)
{
  /* without the interval, the NULL in place of "--bootstrap" ends argv before the bootstrap options */
  char *v[] = {(char *)a_bin,
               "--max-bytes",
               (char *)max_bytes,
               "--truth",
               (char *)a_truth,
               "--pred",
               (char *)a_pred,
               "--metric",
               (char *)c->metric_name,
               "--params",
               (char *)params,
               "--id-column",
               (char *)c->id_column,
               "--split-column",
               (char *)split_column,
               a_per_case != NULL ? "--per-case" : "--seed", /* (the seed twice is harmless) */
               (char *)(a_per_case != NULL ? a_per_case : seed),
               bootstrap ? "--bootstrap" : NULL,
               QUEUE_BOOTSTRAP,
               "--seed",
               (char *)seed,
               NULL};
  memcpy(argv, v, sizeof(v));
}

/* The run in the calling thread's warm sandbox (queue_warm_slot), its files passed as fds: 0 with RES filled, or -1
 * when there is none to take it (not a queue thread, runs not confined, a sandbox that could not start or ended:
 * the caller ends it with queue_warm_drop and runs the file cold). ARGV names the files /dev/fd/3, 4 and 5 (the
 * per-case terms, PER_CASE_FD). */
static int builtin_warm(const struct app_config *cfg, const char *truth, const char *pred, int per_case_fd,
                        char *const *argv, const struct runner_limits *lim, const atomic_int *stop,
                        struct sandbox_result *res, struct outcome *o)
{
  struct sandbox_warm **w = queue_warm_slot();
  char err[512];
  int files[3] = {-1, -1, per_case_fd}, rc = -1;
  if (w == NULL || !sandbox_confined())
    return -1;
  if (*w != NULL && (!sandbox_warm_usable(*w) || sandbox_warm_memory_mb(*w) != lim->memory_mb)) {
    sandbox_warm_stop(*w);
    *w = NULL;
  }
  if (*w == NULL && (*w = sandbox_warm_start(cfg->scorer_path, lim->memory_mb, err, sizeof(err))) == NULL) {
    queue_log_add(o, err);
    return -1;
  }
  /* named from the data folder in the run's /proc/self/fd, as a cold run's view names them from /sandbox/in */
  files[0] = sandbox_warm_open(store_data_dir(), truth, O_RDONLY, 0);
  files[1] = sandbox_warm_open(store_data_dir(), pred, O_RDONLY, 0);
  if (files[0] >= 0 && files[1] >= 0) {
    rc = sandbox_warm_run(*w, argv, files, per_case_fd >= 0 ? 3 : 2, lim, stop, res, err, sizeof(err));
    if (rc != 0) {
      queue_log_add(o, err); /* the organizers see why; the run goes cold */
      /* what it wrote of the per-case terms goes (should this fail, the cold run's file is not whole: not kept) */
      if (per_case_fd >= 0 && ftruncate(per_case_fd, 0) == 0)
        lseek(per_case_fd, 0, SEEK_SET);
    }
  }
  for (int i = 0; i < 2; i++) {
    if (files[i] >= 0)
      close(files[i]);
  }
  return rc;
}

void queue_score_builtin(const struct app_config *cfg, const struct challenge *c, const struct challenge_def *def,
                         const struct job *job, const char *truth, const char *pred, const char *split_column,
                         const struct runner_limits *lim, const atomic_int *stop, struct outcome *o)
{
  char stage[APP_PATH_MAX] = "", params[4096] = "{}";
  char staged[APP_PATH_MAX], staged_truth[APP_PATH_MAX], a_truth[APP_PATH_MAX], a_pred[APP_PATH_MAX];
  char a_bin[APP_PATH_MAX], err[512], seed[32], outdir[APP_PATH_MAX], per_case[APP_PATH_MAX] = "";
  char per_case_part[APP_PATH_MAX + 8] = "";
  char *argv[24];
  int per_case_fd = -1;
  struct sandbox_result res;
  struct runner_limits run_lim = *lim;
  memset(&res, 0, sizeof(res));
  json_t *metric = json_loads(c->metric_json, 0, NULL);
  json_t *p = json_object_get(metric, "params");
  if (json_is_object(p)) {
    char *text = json_dumps(p, JSON_COMPACT);
    if (text != NULL)
      util_strlcpy(params, text, sizeof(params));
    free(text);
  }
  json_decref(metric);
  snprintf(seed, sizeof(seed), "%lld", (long long)job->submission_id); /* reproducible per submission */
  /* The per-case terms of the private split (stability.c, the jury's paired statistics), into
   * DATA/percase/ID.cpc.part, renamed when whole. A case is at least 6 bytes of ground truth and 8 of terms: the
   * output and the file size limit grow with the truth. Smoke runs are never ranked: none. */
  struct stat tst;
  int truth_known = stat(truth, &tst) == 0;
  long truth_mb = truth_known ? (long)(tst.st_size >> 20) : 0;
  if (!job->ci_only && stability_per_case_path(job->submission_id, per_case, sizeof(per_case)) == 0)
    unlink(per_case); /* a rescore's figures replace the last ones, or there are none (an interval's run: kept) */
  if (strcmp(job->mode, "smoke") != 0 && !job->ci_only &&
      stability_per_case_path(job->submission_id, per_case, sizeof(per_case)) == 0 &&
      util_fmt(per_case_part, sizeof(per_case_part), "%s.part", per_case) == 0)
    per_case_fd = sandbox_warm_open(store_data_dir(), per_case_part, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
  if (per_case_fd >= 0 && run_lim.file_mb < 16 + 2 * truth_mb)
    run_lim.file_mb = 16 + 2 * truth_mb;
  /* The jury's 95 % intervals cost N resamples of the metric: worth it on files of up to ~100k rows (a few MB);
   * above that the run would take seconds, so large files are scored without an interval (ci null). A prediction
   * file's score is stored first and its interval computed when the queue is idle (ci_only runs): on deadline day
   * the bootstrap would take most of each scoring's time. A code run's output is not kept: its interval now. */
  struct stat pst;
  int interval = stat(pred, &pst) == 0 && pst.st_size <= QUEUE_SMALL_FILE_BYTES && strcmp(job->mode, "smoke") != 0;
  int bootstrap = interval && (job->ci_only || job->mode[0] != '\0');
  o->ci_pending = interval && !bootstrap;
  /* A prediction file holds the ground truth's rows and a few columns: decompressed, it may be 64 times the truth
   * plus 64 MiB (many class columns fit), never the scorer's default 2 GiB; bombs also stop at 100 times their
   * compressed size. Checked on bytes actually read. */
  char max_bytes[32];
  long long cap = truth_known ? 64LL * tst.st_size + (64LL << 20) : (2LL << 30);
  snprintf(max_bytes, sizeof(max_bytes), "%lld", cap < (2LL << 30) ? cap : (2LL << 30));
  /* A queue thread's run goes to its warm sandbox (sandbox_warm.h: one fork and exec, the files as fds), but for a
   * challenge with secondary metrics (their runs take the cold run's staged files). */
  builtin_argv(argv, c, "/sandbox/bin/concours-score", "/dev/fd/3", "/dev/fd/4", per_case_fd >= 0 ? "/dev/fd/5" : NULL,
               max_bytes, params, split_column, seed, bootstrap);
  int warm = def->nsecondary == 0 && builtin_warm(cfg, truth, pred, per_case_fd, argv, &run_lim, stop, &res, o) == 0;
  if (warm && res.run.exit_code == 0)
    res.copy.state = SANDBOX_FILE_OK; /* written to the fd itself: checked whole below */
  struct sandbox_spec spec;
  memset(&spec, 0, sizeof(spec));
  if (!warm) {
    queue_warm_drop(); /* kept when this file never went to it: secondary metrics, an input it could not open */
    if (sandbox_stage_create(stage, sizeof(stage)) != 0 || util_fmt(staged, sizeof(staged), "%s/pred", stage) != 0 ||
        util_fmt(staged_truth, sizeof(staged_truth), "%s/truth.csv", stage) != 0) {
      queue_outcome_fail(o, "scoring_error", queue_generic_failure);
      queue_log_add(o, "cannot prepare the run folder");
      goto out;
    }
    /* The run folder is all the sandbox uid can reach: the ground truth and the submission are linked
     * (world-readable in the data folder's private folders: store.c), mounted read-only; a file kept 0600 (stored
     * before) is copied. */
    if (sandbox_stage_file(pred, staged) != 0 || sandbox_stage_file(truth, staged_truth) != 0) {
      queue_outcome_fail(o, "scoring_error", queue_generic_failure);
      queue_log_add(o, "cannot copy the inputs into the run folder");
      goto out;
    }
    spec.binds[0] = (struct sandbox_bind){cfg->scorer_path, "/sandbox/bin/concours-score"};
    spec.binds[1] = (struct sandbox_bind){stage, "/sandbox/in"};
    spec.nbinds = 2;
    spec.limits = run_lim;
    spec.tmp_mb = 16;
    /* the per-case file is written in the run's output folder and copied out of it into the .part file */
    if (per_case_fd >= 0 && util_fmt(outdir, sizeof(outdir), "%s/out", stage) == 0 && mkdir(outdir, 0700) == 0) {
      spec.output_host = outdir;
      spec.copy_name = "per_case.cpc";
      spec.copy_fd = per_case_fd;
      spec.tmp_mb = 16 + 2 * truth_mb;
    } else if (per_case_fd >= 0) {
      close(per_case_fd);
      per_case_fd = -1;
    }
    if (sandbox_inside_path(&spec, "/sandbox/bin/concours-score", a_bin, sizeof(a_bin)) != 0 ||
        sandbox_inside_path(&spec, "/sandbox/in/truth.csv", a_truth, sizeof(a_truth)) != 0 ||
        sandbox_inside_path(&spec, "/sandbox/in/pred", a_pred, sizeof(a_pred)) != 0) {
      queue_outcome_fail(o, "scoring_error", queue_generic_failure);
      goto out;
    }
    builtin_argv(argv, c, a_bin, a_truth, a_pred, per_case_fd >= 0 ? "/sandbox/output/per_case.cpc" : NULL, max_bytes,
                 params, split_column, seed, bootstrap);
    spec.argv = argv;
    sandbox_result_free(&res);
    if (sandbox_run(&spec, stop, &res, err, sizeof(err)) != 0) {
      queue_outcome_fail(o, "scoring_error", queue_generic_failure);
      queue_log_add(o, err);
      goto out;
    }
  }
  log_run(o, warm ? "concours-score (warm sandbox)" : "concours-score", &res);
  if (res.stopped) {
    o->state = OUTCOME_REQUEUE; /* shutting down: queue_stop puts it back in the queue */
  } else if (res.limit != SANDBOX_LIMIT_NONE) {
    outcome_limit(o, res.limit, lim);
  } else if (res.run.exit_code == 0 && parse_scores(res.run.out, &o->score, &o->pub, &o->priv, o->ci) == 0) {
    o->state = OUTCOME_SCORED;
    /* kept only whole: a metric with no per-case terms, or a file cut short, leaves none */
    if (per_case_fd >= 0 && res.copy.state == SANDBOX_FILE_OK && fsync(per_case_fd) == 0 &&
        stability_per_case_valid(per_case_part) == 1)
      rename(per_case_part, per_case);
    if (def->nsecondary > 0 && !job->ci_only) /* the same files and columns (argv's first 15 words), each one */
      score_secondary(def, &spec, argv, stop, o);
  } else if (res.run.exit_code == 1) {
    o->state = OUTCOME_FAILED;
    parse_error(res.run.out, o->code, sizeof(o->code), o->msg, sizeof(o->msg));
  } else {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
  }
out:
  if (per_case_fd >= 0)
    close(per_case_fd);
  if (per_case_part[0] != '\0' && per_case[0] != '\0')
    unlink(per_case_part); /* renamed when kept */
  sandbox_result_free(&res);
  if (stage[0] != '\0')
    sandbox_stage_remove(stage);
}

/* One run of the organizer's program on split WHICH (its own input folder, output tmpfs). 0 with *VALUE, or -1
 * with O filled (failed or to be re-queued). */
#define SHOWN_ERROR_LINES 10
#define SHOWN_ERROR_BYTES 1200

/* With "metric.show_errors", the message of a failed run of the public split, or of a full run when nothing is
 * private (never a run that saw private rows: its output could hold private values), ends with the last lines of
 * the program's stderr, as CodaLab showed participants. */
static void show_program_errors(struct outcome *o, const struct challenge_def *def, const char *split_name,
                                const struct sandbox_result *res)
{
  const char *e = res->run.err, *start;
  size_t len, lines = 0;
  char msg[sizeof(o->msg) + SHOWN_ERROR_BYTES + 64];
  int public_run = strcmp(split_name, "public") == 0 || (strcmp(split_name, "full") == 0 && def->split_none);
  if (!def->show_errors || !public_run || e == NULL)
    return;
  len = strlen(e);
  while (len > 0 && (e[len - 1] == '\n' || e[len - 1] == ' '))
    len--;
  if (len == 0)
    return;
  start = e + len;
  while (start > e && (size_t)(e + len - start) < SHOWN_ERROR_BYTES) {
    if (start[-1] == '\n' && ++lines == SHOWN_ERROR_LINES)
      break;
    start--;
  }
  if (snprintf(msg, sizeof(msg), "%s The scoring program said:\n%.*s", o->msg, (int)(e + len - start), start) < 0)
    return;
  util_shorten(o->msg, msg, sizeof(o->msg));
}

/* Is v one of the challenge's "metric.failure_values" (CodaLab programs write -1 when they cannot score)? */
static int is_failure_value(const struct challenge_def *def, double v)
{
  for (int i = 0; i < def->nfailure_values; i++) {
    if (def->failure_values[i] == v)
      return 1;
  }
  return 0;
}

/* The root file system of a challenge version C's runtime, by the identity bundle.c recorded in its FILE
 * ("runtime.sha256" for the code's, "program-runtime.sha256" for the scoring program's): SHA and ROOTFS (size N).
 * Returns 0, or -1 after failing O (the runtime is not in DATA/runtimes). */
static int runtime_root(const struct challenge *c, const char *file, char sha[65], char *rootfs, size_t n,
                        struct outcome *o)
{
  char rel[APP_PATH_MAX], path[APP_PATH_MAX];
  size_t len = 0;
  char *text = util_fmt(rel, sizeof(rel), "%s/%s", c->dir, file) == 0 && store_path(path, sizeof(path), rel) == 0
                 ? util_read_file(path, 64, &len)
                 : NULL;
  sha[0] = '\0';
  if (text != NULL && len == 64) {
    memcpy(sha, text, 64);
    sha[64] = '\0';
  }
  free(text);
  if (sha[0] == '\0' || oci_rootfs_path(sha, rootfs, n) != 0) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    queue_log_add(o, "the challenge's runtime is not in DATA/runtimes: import the bundle again");
    return -1;
  }
  return 0;
}

/* What every run of one submission's scoring by the organizer's program shares. */
struct program_ctx {
  const char *stage;  /* the staging folder: program/, input-SPLIT/, output-SPLIT/ */
  const char *cmd;    /* the program's command line, variables not yet expanded */
  const char *rootfs; /* the program's runtime (metric.runtime), or NULL for the host's /usr */
  const struct runner_limits *lim;
  const atomic_int *stop;
  const struct challenge_def *def;
  json_t *metrics; /* the secondary metrics' values, filled by each run */
};

static int program_run(const struct program_ctx *x, const char *split_name, struct outcome *o, double *value,
                       const char *field)
{
  const char *stage = x->stage, *score_key = x->def->score_key;
  const struct challenge_def *def = x->def;
  const struct runner_limits *lim = x->lim;
  char input[APP_PATH_MAX], output[APP_PATH_MAX], program_dir[APP_PATH_MAX], line[SANDBOX_PROGRAM_CMD_MAX * 2],
    err[512];
  char p_in[APP_PATH_MAX], p_out[APP_PATH_MAX], p_prog[APP_PATH_MAX], p_ref[APP_PATH_MAX], p_res[APP_PATH_MAX];
  struct sandbox_result res;
  struct sandbox_spec spec;
  int rc = -1;
  memset(&res, 0, sizeof(res));
  memset(&spec, 0, sizeof(spec));
  if (util_fmt(input, sizeof(input), "%s/input-%s", stage, split_name) != 0 ||
      util_fmt(output, sizeof(output), "%s/output-%s", stage, split_name) != 0 ||
      util_fmt(program_dir, sizeof(program_dir), "%s/program", stage) != 0 || mkdir(output, 0700) != 0) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    queue_log_add(o, "cannot prepare the output folder");
    goto out;
  }
  spec.binds[0] = (struct sandbox_bind){input, "/sandbox/input"};
  spec.binds[1] = (struct sandbox_bind){program_dir, "/sandbox/program"};
  spec.nbinds = 2;
  spec.output_host = output;
  spec.outputs[0] = "scores.json";
  spec.outputs[1] = "scores.txt";
  spec.noutputs = 2;
  spec.chdir = "/sandbox/program";
  spec.limits = *lim;
  spec.tmp_mb = 256;
  spec.rootfs = x->rootfs;
  if (sandbox_inside_path(&spec, "/sandbox/input", p_in, sizeof(p_in)) != 0 ||
      sandbox_inside_path(&spec, "/sandbox/output", p_out, sizeof(p_out)) != 0 ||
      sandbox_inside_path(&spec, "/sandbox/program", p_prog, sizeof(p_prog)) != 0 ||
      sandbox_inside_path(&spec, "/sandbox/input/ref", p_ref, sizeof(p_ref)) != 0 ||
      sandbox_inside_path(&spec, "/sandbox/input/res", p_res, sizeof(p_res)) != 0) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    goto out;
  }
  struct sandbox_program_vars vars = {p_in, p_out, p_prog, p_ref, "/tmp", "/tmp", p_res, NULL, NULL};
  if (sandbox_program_expand(x->cmd, &vars, line, sizeof(line)) != 0) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    queue_log_add(o, "the scoring program's command is too long once expanded");
    goto out;
  }
  char *argv[] = {"/bin/sh", "-c", line, NULL};
  spec.argv = argv;
  if (sandbox_run(&spec, x->stop, &res, err, sizeof(err)) != 0) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    queue_log_add(o, err);
    goto out;
  }
  snprintf(err, sizeof(err), "scoring program (%s split)", split_name);
  log_run(o, err, &res);
  if (res.stopped) {
    o->state = OUTCOME_REQUEUE;
  } else if (res.limit != SANDBOX_LIMIT_NONE) {
    outcome_limit(o, res.limit, lim);
  } else if (res.run.exit_code != 0) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    show_program_errors(o, def, split_name, &res);
  } else if (res.files[0].state > SANDBOX_FILE_MISSING || res.files[1].state > SANDBOX_FILE_MISSING) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    queue_log_add(o, "scores.json or scores.txt is not a regular file of at most 64 KiB (symlink, FIFO, folder, "
                     "too large): refused");
  } else if (sandbox_program_parse_scores(res.files[0].data, res.files[1].data, score_key, value, err, sizeof(err)) !=
             0) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    queue_log_add(o, err);
  } else if (is_failure_value(def, *value)) {
    snprintf(err, sizeof(err),
             "The scoring program could not score this submission (it wrote %s: %g, which the challenge "
             "declares a failure).",
             score_key, *value);
    queue_outcome_fail(o, "scoring_error", err);
    queue_log_add(o, err);
    show_program_errors(o, def, split_name, &res);
  } else if (strcmp(split_name, "full") == 0 && def->private_score_key[0] != '\0' &&
             sandbox_program_parse_scores(res.files[0].data, res.files[1].data, def->private_score_key, &o->priv, err,
                                          sizeof(err)) != 0) {
    queue_outcome_fail(o, "scoring_error",
                       queue_generic_failure); /* "runs": "full" with a split: the private score too */
    queue_log_add(o, err);
  } else {
    rc = 0;
    /* the secondary metrics (docs/bundle.md, "Several metrics"): other keys of the same scores, as FIELD */
    for (int i = 0; i < def->nsecondary && rc == 0; i++) {
      const char *key = def->secondary[i].score_key;
      double v = NAN;
      if (sandbox_program_parse_scores(res.files[0].data, res.files[1].data, key, &v, err, sizeof(err)) != 0) {
        queue_outcome_fail(o, "scoring_error", queue_generic_failure);
        queue_log_add(o, err);
        rc = -1;
        break;
      }
      json_t *entry = json_object_get(x->metrics, key);
      if (entry == NULL) {
        entry = json_pack("{s:n,s:n,s:n}", "score", "public", "private");
        json_object_set_new(x->metrics, key, entry);
      }
      json_object_set_new(entry, field, score_json(v));
    }
  }
out:
  sandbox_result_free(&res);
  return rc;
}

/* The ground truth a program's run sees: TRUTH (named TRUTH_NAME in $input/ref), split by SPLIT_COLUMN per run, or,
 * with AS_IS ("runs": "full"), as the bundle gave it: the CSV with its split column, or the reference FOLDER (the
 * challenge's private/reference) whole when not NULL. */
struct program_ref {
  const char *truth, *truth_name, *split_column, *folder;
  int as_is;
};

/* Prepares input-NAME/{ref, res/} for one run: ref holds R's ground truth (WHICH rows of it, unless R is as is),
 * res the submission PRED. *HAS_SPLIT (may be NULL) tells whether the truth has its split column. Returns 0, or -1
 * with O filled. */
static int program_input(const char *stage, const char *name, const struct program_ref *r, enum sandbox_split which,
                         const char *pred, int *has_split, struct outcome *o)
{
  char dir[APP_PATH_MAX], ref[APP_PATH_MAX], res[APP_PATH_MAX], file[APP_PATH_MAX], msg[512];
  if (util_fmt(dir, sizeof(dir), "%s/input-%s", stage, name) != 0 || util_fmt(ref, sizeof(ref), "%s/ref", dir) != 0 ||
      util_fmt(res, sizeof(res), "%s/res", dir) != 0 ||
      util_fmt(file, sizeof(file), "%s/%s", ref, r->truth_name) != 0 || mkdir(dir, 0755) != 0 ||
      mkdir(res, 0755) != 0 || chmod(dir, 0755) != 0 || chmod(res, 0755) != 0 ||
      (r->folder == NULL && (mkdir(ref, 0755) != 0 || chmod(ref, 0755) != 0))) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    queue_log_add(o, "cannot prepare the input folders");
    return -1;
  }
  if (r->folder != NULL ? sandbox_stage_tree(r->folder, ref, 0) != 0
      : r->as_is
        ? sandbox_stage_file(r->truth, file) != 0
        : sandbox_program_split_truth(r->truth, r->split_column, which, file, has_split, msg, sizeof(msg)) < 0) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    queue_log_add(o, r->as_is ? "cannot stage the reference for the program's run" : msg);
    return -1;
  }
  int rc = sandbox_program_stage_submission(pred, res, msg, sizeof(msg));
  if (rc == 1) {
    queue_outcome_fail(o, "invalid_submission", msg);
    return -1;
  }
  if (rc != 0) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    queue_log_add(o, msg);
    return -1;
  }
  return 0;
}

/* The organizer's program (challenge.json "metric": {"program", "score_key", "higher_is_better"}), once per
 * split of the ground truth, each run seeing only that split's rows: the public run gives the public score,
 * the private run the private score. Without a split column one run over every row gives the score. */
void queue_score_program(const struct challenge *c, const struct challenge_def *def, const char *truth,
                         const char *pred, const char *split_column, const struct runner_limits *lim,
                         const atomic_int *stop, struct outcome *o)
{
  char program_dir[APP_PATH_MAX], rel[APP_PATH_MAX], stage[APP_PATH_MAX] = "", folder[APP_PATH_MAX];
  char cmd[SANDBOX_PROGRAM_CMD_MAX], err[512], staged[APP_PATH_MAX], rootfs[APP_PATH_MAX], rt_sha[65];
  const char *key = def->score_key[0] != '\0' ? def->score_key : NULL;
  const char *gt = def->truth_rel;
  json_t *metrics = json_object(); /* the secondary metrics' values, filled by each run */
  const char *truth_name = strrchr(gt, '/') != NULL ? strrchr(gt, '/') + 1 : gt;
  int has_split = 0;
  struct stat st;
  struct program_ref ref = {truth, truth_name, split_column, NULL, def->full_run};
  if (def->full_run && util_fmt(rel, sizeof(rel), "%s/private/reference", c->dir) == 0 &&
      store_path(folder, sizeof(folder), rel) == 0 && lstat(folder, &st) == 0 && S_ISDIR(st.st_mode))
    ref.folder = folder; /* a reference of any files (bundle.c stored it there) */
  if (key == NULL || truth_name == NULL || truth_name[0] == '\0' ||
      util_fmt(rel, sizeof(rel), "%s/scoring_program", c->dir) != 0 ||
      store_path(program_dir, sizeof(program_dir), rel) != 0 || sandbox_stage_create(stage, sizeof(stage)) != 0) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    queue_log_add(o, "cannot prepare the run (definition or paths)");
    goto out;
  }
  if (sandbox_program_command(program_dir, cmd, sizeof(cmd), err, sizeof(err)) != 0) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    queue_log_add(o, err);
    goto out;
  }
  if (util_fmt(staged, sizeof(staged), "%s/program", stage) != 0 || sandbox_stage_tree(program_dir, staged, 0) != 0) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    queue_log_add(o, "cannot stage the scoring program");
    goto out;
  }
  if (metrics == NULL) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    goto out;
  }
  struct program_ctx x = {stage, cmd, NULL, lim, stop, def, metrics};
  if (strcmp(def->program_runtime.kind, "host") != 0) {
    if (runtime_root(c, "program-runtime.sha256", rt_sha, rootfs, sizeof(rootfs), o) != 0)
      goto out;
    x.rootfs = rootfs;
  }
  if (def->full_run) { /* once on the whole reference, CodaLab's way: the program splits, if anything */
    int split = def->private_score_key[0] != '\0';
    if (program_input(stage, "full", &ref, SANDBOX_SPLIT_ALL, pred, NULL, o) != 0 ||
        program_run(&x, "full", o, split ? &o->pub : &o->score, split ? "public" : "score") != 0)
      goto out;
    o->state = OUTCOME_SCORED;
    if (split)
      o->score = NAN; /* the private score came with the same run (program_run) */
    else
      o->pub = o->priv = NAN;
    o->ci[0] = o->ci[1] = NAN;
    json_t *m;
    const char *mk;
    if (!split) /* the secondary metrics' one value is their public one, as without a split */
      json_object_foreach(metrics, mk, m) json_object_set(m, "public", json_object_get(m, "score"));
    goto out;
  }
  if (program_input(stage, "public", &ref, SANDBOX_SPLIT_PUBLIC, pred, &has_split, o) != 0)
    goto out;
  if (!has_split) {
    if (program_run(&x, "public", o, &o->score, "score") == 0) {
      o->state = OUTCOME_SCORED;
      o->pub = o->priv = o->ci[0] = o->ci[1] = NAN;
      json_t *m;
      const char *mk;
      json_object_foreach(metrics, mk, m) json_object_set(m, "public", json_object_get(m, "score"));
    }
    goto out;
  }
  if (program_input(stage, "private", &ref, SANDBOX_SPLIT_PRIVATE, pred, NULL, o) != 0)
    goto out;
  if (program_run(&x, "public", o, &o->pub, "public") != 0 || program_run(&x, "private", o, &o->priv, "private") != 0)
    goto out;
  o->state = OUTCOME_SCORED;
  o->score = NAN; /* no run sees every row: the leaderboard uses the split scores */
  o->ci[0] = o->ci[1] = NAN;
out:
  if (o->state == OUTCOME_SCORED && def->nsecondary > 0) {
    o->metrics = metrics;
    metrics = NULL;
  }
  json_decref(metrics);
  sandbox_stage_remove(stage);
}

void queue_stage_set(int64_t id, const char *stage)
{
  sqlite3 *db = db_acquire();
  db_submission_stage(db, id, stage);
  db_release(db);
}

/* A code run (API.md section 4): the participant's code on the hidden inputs (or the smoke sample) in the sandbox,
 * its log recorded, its output left at PRED (a file of the run folder RUN_DIR, which the caller removes). Returns 0
 * when there is a file to score, -1 with O filled otherwise. */
int queue_run_code(const struct challenge *c, const struct challenge_def *def, const struct job *job,
                   const atomic_int *stop, struct outcome *o, char *run_dir, size_t run_dir_n, char *pred,
                   size_t pred_n)
{
  char archive[APP_PATH_MAX], inputs[APP_PATH_MAX], rel[APP_PATH_MAX];
  const struct def_code *k = &def->code;
  int smoke = strcmp(job->mode, "smoke") == 0;
  int log_public = smoke ? strcmp(k->participant_logs, "none") != 0 : strcmp(k->participant_logs, "all") == 0;
  struct coderun_result r;
  memset(&r, 0, sizeof(r));
  queue_warm_drop(); /* the code run takes a uid slot of its own */
  util_strlcpy(archive, pred, sizeof(archive));
  if (!def->c.code || (smoke && !def->c.has_smoke) ||
      util_fmt(rel, sizeof(rel), "%s/inputs/%s", c->dir, smoke ? "smoke" : "test") != 0 ||
      store_path(inputs, sizeof(inputs), rel) != 0 || sandbox_stage_create(run_dir, run_dir_n) != 0 ||
      util_fmt(pred, pred_n, "%s/output", run_dir) != 0) {
    queue_outcome_fail(o, "scoring_error", queue_generic_failure);
    queue_log_add(o,
                  !def->c.code ? "a code run of a challenge that no longer takes code" : "cannot prepare the code run");
    return -1;
  }
  struct coderun_spec spec = {job->submission_id,
                              archive,
                              inputs,
                              k->command,
                              k->output,
                              pred,
                              smoke ? "submission.limits.smoke_wall_seconds" : "submission.limits.wall_seconds",
                              def->limits,
                              k->output_mb,
                              (uint64_t)def->c.code_max_mb << 20,
                              smoke,
                              k->gpus,
                              NULL,
                              NULL,
                              0};
  char ingestion[APP_PATH_MAX], cmd[SANDBOX_PROGRAM_CMD_MAX], err[512] = "the ingestion program is not stored";
  if (k->ingestion_rel[0] != '\0') { /* the organizer's ingestion program runs, and loads the code (CodaLab) */
    if (util_fmt(rel, sizeof(rel), "%s/ingestion", c->dir) != 0 || store_path(ingestion, sizeof(ingestion), rel) != 0 ||
        sandbox_program_ingestion_command(ingestion, cmd, sizeof(cmd), err, sizeof(err)) != 0) {
      queue_outcome_fail(o, "scoring_error", queue_generic_failure);
      queue_log_add(o, err);
      return -1;
    }
    spec.ingestion = ingestion;
    spec.command = cmd;
  }
  spec.output_folder = k->output_folder;
  spec.limits.wall_s = smoke ? k->smoke_wall_s : k->wall_s;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  spec.limits.cpu_s = spec.limits.wall_s * (int)(ncpu > 0 && ncpu < 1024 ? ncpu : 1); /* threads: CPU > wall */
  spec.limits.memory_mb = k->memory_mb;
  const char *runtime = coderun_host_runtime_sha256();
  char rootfs[APP_PATH_MAX], oci_sha[65] = "";
  if (strcmp(k->runtime.kind, "host") != 0) {
    if (runtime_root(c, "runtime.sha256", oci_sha, rootfs, sizeof(rootfs), o) != 0)
      return -1;
    spec.rootfs = rootfs;
    runtime = oci_sha;
  }
  livelog_open(job->submission_id, log_public);
  queue_stage_set(job->submission_id, "running");
  coderun_run(&spec, stop, &r);
  char head[256];
  snprintf(head, sizeof(head), "code run (%s): %s, wall=%.1fs cpu=%.1fs maxrss=%ldkB output=%lld bytes", job->mode,
           r.state == CODERUN_OK       ? "ok"
           : r.state == CODERUN_FAILED ? r.code
                                       : "not run",
           (double)r.wall_ms / 1000.0, r.cpu_s, r.maxrss_kb, (long long)r.output_bytes);
  queue_log_add(o, head);
  if (r.state != CODERUN_STOPPED) {
    sqlite3 *db = db_acquire();
    db_submission_run(db, job->submission_id, r.log != NULL ? r.log : "", log_public, r.wall_ms, r.maxrss_kb, runtime);
    db_release(db);
  }
  livelog_close(job->submission_id);
  int rc = -1;
  if (r.state == CODERUN_OK) {
    rc = 0;
  } else if (r.state == CODERUN_STOPPED) {
    o->state = OUTCOME_REQUEUE;
  } else if (r.state == CODERUN_FAILED) {
    queue_outcome_fail(o, r.code, r.msg);
  } else {
    queue_outcome_fail(o, "scoring_error",
                       "Your code could not be run. It does not count against your quota; the "
                       "organizers can see the details.");
    queue_log_add(o, r.err);
  }
  coderun_result_free(&r);
  return rc;
}
