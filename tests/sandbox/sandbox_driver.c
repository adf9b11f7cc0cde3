/* sandbox_driver.c: runs one program through sandbox_run exactly as the scoring queue does, and prints what came
 * back as one JSON object, so that the hostile suite (test_hostile.py) and the benchmark can drive the sandbox
 * from outside.
 *
 *   sandbox_driver [--insecure | --plain] [--wall S] [--cpu S] [--mem MB] [--tmp MB] [--bind HOST:INSIDE]...
 *                  [--output DIR] [--chdir DIR] [--repeat N] -- PROGRAM ARGS...
 *
 * --plain runs PROGRAM with runner_run (a plain fork/exec under rlimits: the benchmark's baseline).
 * --list-syscalls prints the seccomp allow-list as a JSON array and exits.
 * --cgroup-key K takes the cgroup base of owner K (default: one of the driver's own) and --sweep empties it first,
 * as the server does at start; the count of processes killed is "swept".
 * --ballast MB fills MB MiB of memory after sandbox_init, as a server grows after start; --kill-spawner kills the
 * sandbox's spawner first, so that supervisors are forked from the driver (the fallback); "spawner" says which.
 * --threads N runs the --repeat runs in each of N threads at once (the server's workers do); "runs" counts them all,
 * "runs_failed" those that did not run or exit 0, "outputs_differ" those whose stdout differs from the first's.
 * --no-cgroup runs without the run's cgroup (as on a host without writable cgroups); otherwise the driver takes a
 * cgroup base of its own (cgroup_init keyed by its pid), as the server does with its data folder.
 * Output: {"rc","exit","signal","limit","stopped","truncated","cpu","maxrss_kb","stdout","stderr","error",
 *          "files":[{"name","state","data"}...], "ms_per_run"} (scores.json and scores.txt when --output). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cgroup.h"
#include "runner.h"
#include "sandbox.h"
#include "util.h"

static const char *const state_names[] = {"ok", "missing", "unsafe", "too_large", "unread"};

/* --threads: runs of one spec from several threads at once, with what they got in common. */
struct batch {
  const struct sandbox_spec *spec;
  int repeat;
  pthread_mutex_t lock;
  char *first_out; /* the first successful run's stdout */
  int runs, failed, differ;
};

/* Counts one run (RC from sandbox_run, RES its result) into B. */
static void batch_note(struct batch *b, int rc, const struct sandbox_result *res)
{
  const char *out = res->run.out != NULL ? res->run.out : "";
  pthread_mutex_lock(&b->lock);
  b->runs++;
  if (rc != 0 || res->run.exit_code != 0)
    b->failed++;
  else if (b->first_out == NULL)
    b->first_out = strdup(out);
  else if (strcmp(b->first_out, out) != 0)
    b->differ++;
  pthread_mutex_unlock(&b->lock);
}

static void *batch_runs(void *arg)
{
  struct batch *b = arg;
  for (int k = 0; k < b->repeat; k++) {
    struct sandbox_result res;
    char err[512];
    memset(&res, 0, sizeof(res));
    batch_note(b, sandbox_run(b->spec, NULL, &res, err, sizeof(err)), &res);
    sandbox_result_free(&res);
  }
  return NULL;
}

int main(int argc, char **argv)
{
  struct sandbox_spec spec;
  struct sandbox_result res;
  char err[1024] = "", *hosts[SANDBOX_MAX_BINDS];
  int insecure = 0, plain = 0, i, repeat = 1, rc = 0, use_cgroup = 1, sweep = 0, swept = 0, kill_spawner = 0;
  long ballast_mb = 0;
  int threads = 1;
  struct batch batch = {NULL, 0, PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0};
  char cgroup_report[1024] = "", key[256] = "";
  long long v;
  memset(&spec, 0, sizeof(spec));
  spec.limits = (struct runner_limits){20, 20, 1024, 64, 64 * 1024};
  spec.tmp_mb = 16;
  for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : "";
    if (strcmp(a, "--insecure") == 0 || strcmp(a, "--plain") == 0) {
      insecure = 1;
      plain = a[2] == 'p';
      continue;
    }
    if (strcmp(a, "--no-cgroup") == 0 || strcmp(a, "--sweep") == 0) {
      use_cgroup = a[2] != 'n';
      sweep = a[2] == 's';
      continue;
    }
    if (strcmp(a, "--kill-spawner") == 0) {
      kill_spawner = 1;
      continue;
    }
    if (strcmp(a, "--list-syscalls") == 0) {
      size_t n = 0;
      const char *const *names = sandbox_allowed_syscalls(&n);
      json_t *list = json_array();
      for (size_t k = 0; k < n; k++)
        json_array_append_new(list, json_string(names[k]));
      char *text = json_dumps(list, JSON_COMPACT);
      printf("%s\n", text != NULL ? text : "null");
      free(text);
      json_decref(list);
      return 0;
    }
    if (strcmp(a, "--cgroup-key") == 0 && i + 1 < argc) {
      snprintf(key, sizeof(key), "%s", argv[++i]);
      continue;
    }
    i++;
    if (strcmp(a, "--bind") == 0 && spec.nbinds < SANDBOX_MAX_BINDS && strchr(val, ':') != NULL) {
      hosts[spec.nbinds] = strdup(val);
      if (hosts[spec.nbinds] == NULL)
        return 2;
      char *colon = strchr(hosts[spec.nbinds], ':');
      *colon = '\0';
      spec.binds[spec.nbinds].host = hosts[spec.nbinds];
      spec.binds[spec.nbinds].inside = colon + 1;
      spec.nbinds++;
    } else if (strcmp(a, "--output") == 0) {
      spec.output_host = val;
      spec.outputs[0] = "scores.json";
      spec.outputs[1] = "scores.txt";
      spec.noutputs = 2;
    } else if (strcmp(a, "--chdir") == 0) {
      spec.chdir = val;
    } else if (util_parse_ll(val, 1, 1000000, &v) != 0) {
      fprintf(stderr, "sandbox_driver: bad option %s %s\n", a, val);
      return 2;
    } else if (strcmp(a, "--wall") == 0) {
      spec.limits.wall_s = (int)v;
    } else if (strcmp(a, "--cpu") == 0) {
      spec.limits.cpu_s = (int)v;
    } else if (strcmp(a, "--mem") == 0) {
      spec.limits.memory_mb = (long)v;
    } else if (strcmp(a, "--tmp") == 0) {
      spec.tmp_mb = (long)v;
    } else if (strcmp(a, "--repeat") == 0) {
      repeat = (int)v;
    } else if (strcmp(a, "--ballast") == 0) {
      ballast_mb = (long)v;
    } else if (strcmp(a, "--threads") == 0 && v <= 64) {
      threads = (int)v;
    } else {
      fprintf(stderr, "sandbox_driver: unknown option %s\n", a);
      return 2;
    }
  }
  if (i + 1 >= argc) {
    fprintf(stderr, "usage: sandbox_driver [options] -- PROGRAM ARGS...\n");
    return 2;
  }
  spec.argv = argv + i + 1;
  if (!plain && sandbox_init(insecure, err, sizeof(err)) != 0) {
    printf("{\"rc\":-1,\"error\":\"sandbox_init: %s\"}\n", err);
    return 1;
  }
  char *ballast = ballast_mb > 0 ? malloc((size_t)ballast_mb << 20) : NULL;
  if (ballast != NULL)
    memset(ballast, 1, (size_t)ballast_mb << 20);
  if (kill_spawner && sandbox_spawner() > 0) {
    kill(sandbox_spawner(), SIGKILL);
    waitpid(sandbox_spawner(), NULL, 0);
  }
  if (key[0] == '\0')
    snprintf(key, sizeof(key), "sandbox-driver-%d", (int)getpid());
  if (!plain && use_cgroup && cgroup_init(key, cgroup_report, sizeof(cgroup_report)) == 1 && sweep)
    swept = cgroup_sweep();
  int64_t t0 = runner_now_ms();
  pthread_t tid[64];
  int started = 0;
  batch.spec = &spec;
  batch.repeat = repeat;
  for (; !plain && started < threads - 1; started++) {
    if (pthread_create(&tid[started], NULL, batch_runs, &batch) != 0)
      break;
  }
  for (int k = 0; k < repeat; k++) {
    memset(&res, 0, sizeof(res));
    rc = plain ? runner_run(spec.argv, &spec.limits, NULL, &res.run) : sandbox_run(&spec, NULL, &res, err, sizeof(err));
    batch_note(&batch, rc, &res);
    if (k + 1 < repeat)
      sandbox_result_free(&res);
  }
  for (int k = 0; k < started; k++)
    pthread_join(tid[k], NULL);
  if (started < threads - 1) /* a thread that could not start counts as failed runs */
    batch.failed += (threads - 1 - started) * repeat;
  double ms = (double)(runner_now_ms() - t0) / repeat;
  json_t *files = json_array();
  for (int k = 0; k < spec.noutputs; k++)
    json_array_append_new(files, json_pack("{s:s,s:s,s:s?}", "name", spec.outputs[k], "state",
                                           state_names[res.files[k].state], "data", res.files[k].data));
  json_t *o = json_pack(
    "{s:i,s:i,s:i,s:s,s:b,s:b,s:f,s:I,s:s,s:s,s:s,s:o,s:f,s:s,s:s,s:i,s:b,s:i,s:i,s:i}", "rc", rc, "exit",
    res.run.exit_code, "signal", res.run.signal, "limit", sandbox_limit_name(res.limit), "stopped", res.stopped,
    "truncated", res.run.truncated, "cpu", res.cpu_s, "maxrss_kb", (json_int_t)res.maxrss_kb, "stdout",
    res.run.out != NULL ? res.run.out : "", "stderr", res.run.err != NULL ? res.run.err : "", "error", err, "files",
    files, "ms_per_run", ms, "cgroup", cgroup_report, "cgroup_base", cgroup_base(), "swept", swept, "spawner",
    sandbox_spawner() > 0, "runs", batch.runs, "runs_failed", batch.failed, "outputs_differ", batch.differ);
  free(batch.first_out);
  free(ballast);
  char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
  if (text == NULL)
    return 3;
  printf("%s\n", text);
  free(text);
  json_decref(o);
  sandbox_result_free(&res);
  cgroup_shutdown();
  for (int k = 0; k < spec.nbinds; k++)
    free(hosts[k]);
  return 0;
}
