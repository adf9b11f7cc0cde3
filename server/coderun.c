/* coderun.c: see coderun.h. */
#include "coderun.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "extract.h"
#include "gpu.h"
#include "livelog.h"
#include "sandbox.h"
#include "util.h"

#define CODE_MAX_ENTRIES 20000
#define LOG_CAPTURE (256 * 1024)

static void fail(struct coderun_result *r, const char *code, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void fail(struct coderun_result *r, const char *code, const char *fmt, ...)
{
  va_list ap;
  r->state = CODERUN_FAILED;
  util_strlcpy(r->code, code, sizeof(r->code));
  va_start(ap, fmt);
  vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
  va_end(ap);
}

static void error(struct coderun_result *r, const char *what)
{
  r->state = CODERUN_ERROR;
  snprintf(r->err, sizeof(r->err), "%s: %s", what, strerror(errno));
}

/* The code's root: DIR itself, or its only entry when that is a folder and DIR holds nothing else (an archive of a
 * folder, as zip tools make when a folder is zipped). */
static int code_root(const char *dir, char *out, size_t n)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char only[256] = "";
  int count = 0;
  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (++count == 1)
      util_strlcpy(only, e->d_name, sizeof(only));
  }
  closedir(d);
  struct stat st;
  if (count == 1 && util_fmt(out, n, "%s/%s", dir, only) == 0 && lstat(out, &st) == 0 && S_ISDIR(st.st_mode))
    return 0;
  return util_strlcpy(out, dir, n);
}

static void tee_log(void *arg, const char *data, size_t n)
{
  livelog_append(*(const int64_t *)arg, data, n);
}

static void outcome(const struct coderun_spec *spec, const struct sandbox_result *sr, struct coderun_result *r)
{
  const char *where = spec->mode_smoke ? "Its log shows what it printed." : "It does not count against your quota.";
  if (sr->stopped) {
    r->state = CODERUN_STOPPED;
  } else if (sr->limit == SANDBOX_LIMIT_WALL) {
    fail(r, "time_limit", "Your code ran longer than the time limit of %d s (%s) and was stopped. %s",
         spec->limits.wall_s, spec->limit_field, where);
  } else if (sr->limit == SANDBOX_LIMIT_CPU) {
    fail(r, "cpu_limit", "Your code used more than %d s of CPU time and was stopped. %s", spec->limits.cpu_s, where);
  } else if (sr->limit == SANDBOX_LIMIT_MEMORY) {
    fail(r, "memory_limit",
         "Your code ran out of memory: each of its processes may use %ld MB (submission.limits.memory_mb). %s",
         spec->limits.memory_mb, where);
  } else if (sr->run.signal != 0) {
    fail(r, "code_failed", "Your code was killed by signal %d. %s", sr->run.signal, where);
  } else if (sr->run.exit_code != 0) {
    fail(r, "code_failed", "Your code exited with status %d. %s", sr->run.exit_code, where);
  } else if (sr->copy.state == SANDBOX_FILE_MISSING && spec->output_folder) {
    fail(r, "no_output", "Your code finished without writing any file in /output. %s", where);
  } else if (sr->copy.state == SANDBOX_FILE_MISSING) {
    fail(r, "no_output", "Your code finished without writing /output/%s. %s", spec->output, where);
  } else if (sr->copy.state == SANDBOX_FILE_UNSAFE) {
    fail(r, "no_output", "/output/%s is not a regular file (a folder, link or device). %s", spec->output, where);
  } else if (sr->copy.state != SANDBOX_FILE_OK) {
    r->state = CODERUN_ERROR;
    snprintf(r->err, sizeof(r->err), "the output file could not be copied out of the run (disk full?)");
  } else if (sr->copy.len == 0 && spec->output_folder) {
    fail(r, "no_output", "Your code wrote only empty files in /output. %s", where);
  } else if (sr->copy.len == 0) {
    fail(r, "no_output", "Your code wrote an empty /output/%s. %s", spec->output, where);
  } else {
    r->state = CODERUN_OK;
    r->output_bytes = (int64_t)sr->copy.len;
  }
}

void coderun_run(const struct coderun_spec *spec, const atomic_int *stop, struct coderun_result *r)
{
  char stage[APP_PATH_MAX] = "", code[APP_PATH_MAX], root[APP_PATH_MAX], output[APP_PATH_MAX], msg[400];
  struct sandbox_result sr;
  int pred = -1;
  memset(r, 0, sizeof(*r));
  memset(&sr, 0, sizeof(sr));
  if (!sandbox_confined()) {
    r->state = CODERUN_ERROR;
    snprintf(r->err, sizeof(r->err), "code runs need the sandbox: the server runs with --insecure-no-sandbox");
    return;
  }
  if (sandbox_stage_create(stage, sizeof(stage)) != 0 || util_fmt(code, sizeof(code), "%s/code", stage) != 0 ||
      util_fmt(output, sizeof(output), "%s/output", stage) != 0 || mkdir(code, 0755) != 0 || mkdir(output, 0700) != 0) {
    error(r, "cannot prepare the run folder");
    goto out;
  }
  struct extract_limits lim = {spec->code_max_bytes, CODE_MAX_ENTRIES, 255, 0644, 0755, 0};
  int x = extract_archive(spec->archive, code, &lim, msg, sizeof(msg));
  if (x == 1) {
    fail(r, "invalid_archive", "Your code archive was refused: %s", msg);
    goto out;
  }
  if (x != 0 || code_root(code, root, sizeof(root)) != 0) {
    r->state = CODERUN_ERROR;
    snprintf(r->err, sizeof(r->err), "cannot unpack the code archive: %s", msg);
    goto out;
  }
  pred = open(spec->pred_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (pred < 0) {
    error(r, "cannot create the output copy");
    goto out;
  }
  char *argv[] = {"/bin/sh", "-c", (char *)spec->command, NULL};
  struct sandbox_spec s;
  memset(&s, 0, sizeof(s));
  s.argv = argv;
  s.rootfs = spec->rootfs;
  s.env[0] = "CONCOURS_MODE";
  s.env[1] = spec->mode_smoke ? "smoke" : "full";
  s.binds[0] = (struct sandbox_bind){root, "/code"};
  s.binds[1] = (struct sandbox_bind){spec->inputs, "/data"};
  s.nbinds = 2;
  s.output_host = output;
  s.output_inside = "/output";
  s.copy_name = spec->output;
  s.copy_fd = pred;
  s.copy_folder = spec->output_folder;
  s.chdir = "/code";
  if (spec->ingestion != NULL) { /* the organizer's program runs, in its folder, and loads the code from /code */
    s.binds[s.nbinds++] = (struct sandbox_bind){spec->ingestion, "/ingestion"};
    s.chdir = "/ingestion";
  }
  s.limits = spec->limits;
  s.limits.file_mb = spec->output_mb;
  s.limits.output_max = LOG_CAPTURE;
  s.tmp_mb = spec->output_mb;
  s.merge_stderr = 1;
  s.tee = tee_log;
  s.tee_arg = (void *)&spec->id;
  int gpu_idx[GPU_MAX], gpus_held = 0;
  char devices[GPU_MAX_DEVICES][64], gpu_lib[APP_PATH_MAX];
  if (spec->gpus > 0) { /* whole GPUs, one run at a time each; their nodes (and libraries for images) bound in */
    int total = gpu_count("/dev");
    if (gpu_acquire(spec->gpus, total, gpu_idx) != 0) {
      r->state = CODERUN_ERROR;
      snprintf(r->err, sizeof(r->err), "the run needs %d GPU(s) and this machine has %d", spec->gpus, total);
      goto out;
    }
    gpus_held = spec->gpus;
    int nd = gpu_devices("/dev", spec->gpus, gpu_idx, devices, r->err, sizeof(r->err));
    if (nd < 0 || nd > SANDBOX_MAX_DEVICES - 1) {
      r->state = CODERUN_ERROR;
      gpu_release(gpus_held, gpu_idx);
      goto out;
    }
    for (int i = 0; i < nd; i++)
      s.devices[i] = devices[i];
    if (spec->rootfs != NULL) {
      if (util_fmt(gpu_lib, sizeof(gpu_lib), "%s/gpu-lib", stage) != 0 || mkdir(gpu_lib, 0755) != 0 ||
          gpu_stage_libraries("/usr/lib/x86_64-linux-gnu", gpu_lib) < 0) {
        error(r, "cannot stage the NVIDIA driver libraries");
        gpu_release(gpus_held, gpu_idx);
        goto out;
      }
      s.binds[s.nbinds++] = (struct sandbox_bind){gpu_lib, "/usr/local/nvidia/lib64"};
      s.env[2] = "LD_LIBRARY_PATH";
      s.env[3] = "/usr/local/nvidia/lib64";
    }
  }
  int ran = sandbox_run(&s, stop, &sr, r->err, sizeof(r->err));
  if (gpus_held > 0)
    gpu_release(gpus_held, gpu_idx);
  if (ran != 0) {
    r->state = CODERUN_ERROR;
    goto out;
  }
  r->wall_ms = sr.wall_ms;
  r->maxrss_kb = sr.maxrss_kb;
  r->cpu_s = sr.cpu_s;
  size_t len = sr.run.out != NULL ? strlen(sr.run.out) : 0;
  r->log = malloc(len + 64);
  if (r->log != NULL)
    snprintf(r->log, len + 64, "%s%s", sr.run.out != NULL ? sr.run.out : "",
             sr.run.truncated ? "\n[... the rest of the log was not kept]\n" : "");
  outcome(spec, &sr, r);
out:
  if (pred >= 0 && close(pred) != 0 && r->state == CODERUN_OK)
    error(r, "cannot write the output copy");
  sandbox_result_free(&sr);
  sandbox_stage_remove(stage);
}

void coderun_result_free(struct coderun_result *r)
{
  free(r->log);
  r->log = NULL;
}

static pthread_once_t host_once = PTHREAD_ONCE_INIT;
static char host_sha[65];

static void host_compute(void)
{
  char a[65] = "", b[65] = "", manifest[256];
  if (util_sha256_file("/etc/os-release", a, NULL) != 0)
    util_strlcpy(a, "none", sizeof(a));
  if (util_sha256_file("/var/lib/dpkg/status", b, NULL) != 0)
    util_strlcpy(b, "none", sizeof(b));
  snprintf(manifest, sizeof(manifest), "concours runtime host\nos-release %s\ndpkg-status %s\n", a, b);
  util_sha256_hex(manifest, strlen(manifest), host_sha);
}

const char *coderun_host_runtime_sha256(void)
{
  pthread_once(&host_once, host_compute);
  return host_sha;
}
