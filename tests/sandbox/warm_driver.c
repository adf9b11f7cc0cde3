/* warm_driver.c: runs programs one after another in one warm sandbox (sandbox_warm.h), exactly as the scoring
 * queue's small-file threads do, and prints what came back as a JSON array, one object a run, so that
 * test_warm.py and the benchmark can drive it from outside.
 *
 *   warm_driver --scorer PATH [--mem MB] [--wall S] [--cpu S] [--root DIR] [--file PATH]... [--repeat N]
 *               -- PROGRAM ARGS... [';;' PROGRAM ARGS...]...
 *
 * PROGRAM is a path inside the sandbox (/usr/bin/..., /sandbox/bin/concours-score); each --file is opened
 * read-only and passed to every run at fds 3... (after --root DIR, through sandbox_warm_open(DIR, PATH), as the
 * queue opens the data folder's files). When the warm sandbox cannot take a run (a deadline ended it), a
 * new one is started for the next ("restarted" counts them); a run it could not take is run in a new one.
 * --repeat N runs the whole list N times and prints the last round's results, with "ms_per_run".
 * Output: [{"rc","exit","signal","limit","stopped","stdout","stderr","error","restarted","first_error",
 *           "ms_per_run"}...] ("first_error": why the sandbox could not run it, when it ran in a new one) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cgroup.h"
#include "runner.h"
#include "sandbox.h"
#include "sandbox_warm.h"
#include "util.h"

#define MAX_RUNS 32

int main(int argc, char **argv)
{
  const char *scorer = NULL, *root = NULL;
  struct runner_limits lim = {20, 20, 1024, 64, 64 * 1024};
  int files[SANDBOX_WARM_FILES_MAX], nfiles = 0, repeat = 1, restarted = 0, i;
  char **cmd[MAX_RUNS];
  int ncmd = 0;
  char err[1024] = "", report[1024] = "", key[64];
  for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    long long v = 0;
    if (val == NULL)
      break;
    i++;
    if (strcmp(a, "--scorer") == 0)
      scorer = val;
    else if (strcmp(a, "--root") == 0)
      root = val;
    else if (strcmp(a, "--file") == 0 && nfiles < SANDBOX_WARM_FILES_MAX &&
             (files[nfiles] = root ? sandbox_warm_open(root, val, O_RDONLY, 0) : open(val, O_RDONLY)) >= 0)
      nfiles++;
    else if (util_parse_ll(val, 1, 1000000, &v) != 0)
      break;
    else if (strcmp(a, "--mem") == 0)
      lim.memory_mb = (long)v;
    else if (strcmp(a, "--wall") == 0)
      lim.wall_s = (int)v;
    else if (strcmp(a, "--cpu") == 0)
      lim.cpu_s = (int)v;
    else if (strcmp(a, "--repeat") == 0)
      repeat = (int)v;
    else
      break;
  }
  if (scorer == NULL || i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc || repeat < 1) {
    fprintf(stderr, "usage: warm_driver --scorer PATH [options] -- PROGRAM ARGS... [';;' PROGRAM ARGS...]...\n");
    return 2;
  }
  for (int k = i + 1, starts = 1; k < argc && ncmd < MAX_RUNS; k++) { /* each ";;" ends a command */
    if (starts)
      cmd[ncmd++] = argv + k;
    starts = strcmp(argv[k], ";;") == 0;
    if (starts)
      argv[k] = NULL;
  }
  if (sandbox_init(0, err, sizeof(err)) != 0) {
    printf("[{\"rc\":-1,\"error\":\"sandbox_init: %s\"}]\n", err);
    return 1;
  }
  snprintf(key, sizeof(key), "warm-driver-%d", (int)getpid());
  cgroup_init(key, report, sizeof(report));
  struct sandbox_warm *w = sandbox_warm_start(scorer, lim.memory_mb, err, sizeof(err));
  if (w == NULL) {
    printf("[{\"rc\":-1,\"error\":\"%s\"}]\n", err);
    return 1;
  }
  json_t *out = NULL;
  int64_t t0 = runner_now_ms();
  for (int r = 0; r < repeat; r++) {
    json_decref(out);
    out = json_array();
    for (int c = 0; c < ncmd; c++) {
      struct sandbox_result res;
      int rc = -1;
      char failed[1024] = ""; /* why a first attempt could not run (then the command runs in a new sandbox) */
      for (int attempt = 0; attempt < 2 && rc != 0; attempt++) {
        if (!sandbox_warm_usable(w)) {
          sandbox_warm_stop(w);
          restarted++;
          w = sandbox_warm_start(scorer, lim.memory_mb, err, sizeof(err));
          if (w == NULL) {
            printf("[{\"rc\":-1,\"error\":\"%s\"}]\n", err);
            return 1;
          }
        }
        rc = sandbox_warm_run(w, cmd[c], files, nfiles, &lim, NULL, &res, err, sizeof(err));
        if (rc != 0) {
          sandbox_result_free(&res);
          if (attempt == 0)
            snprintf(failed, sizeof(failed), "%s", err);
        }
      }
      json_array_append_new(
        out, json_pack("{s:i,s:i,s:i,s:s,s:b,s:s,s:s,s:s,s:i,s:s}", "rc", rc, "exit", rc == 0 ? res.run.exit_code : -1,
                       "signal", rc == 0 ? res.run.signal : 0, "limit", rc == 0 ? sandbox_limit_name(res.limit) : "",
                       "stopped", rc == 0 && res.stopped, "stdout", rc == 0 && res.run.out != NULL ? res.run.out : "",
                       "stderr", rc == 0 && res.run.err != NULL ? res.run.err : "", "error", err, "restarted",
                       restarted, "first_error", failed));
      if (rc == 0)
        sandbox_result_free(&res);
    }
  }
  double ms = (double)(runner_now_ms() - t0) / ((double)repeat * ncmd);
  for (size_t k = 0; k < json_array_size(out); k++)
    json_object_set_new(json_array_get(out, k), "ms_per_run", json_real(ms));
  sandbox_warm_stop(w);
  char *text = json_dumps(out, JSON_COMPACT | JSON_ENSURE_ASCII);
  printf("%s\n", text != NULL ? text : "[]");
  free(text);
  json_decref(out);
  cgroup_shutdown();
  return 0;
}
