/* runner.h: runs one scoring program as a child process under limits, capturing its output with caps.
 * This is the seam for the sandbox: today a plain fork/exec with rlimits, its own process group, a wall-clock
 * deadline, only fds 0-2 and an empty environment plus PATH; the bubblewrap + seccomp sandbox replaces the
 * body of runner_run without changing its contract. */
#ifndef CONCOURS_RUNNER_H
#define CONCOURS_RUNNER_H

#include <stddef.h>

struct runner_limits {
  int wall_s;        /* killed after this many seconds of wall-clock time */
  int cpu_s;         /* RLIMIT_CPU */
  long memory_mb;    /* RLIMIT_AS */
  long file_mb;      /* RLIMIT_FSIZE */
  size_t output_max; /* bytes kept of stdout and of stderr each; the rest is drained and dropped */
};

struct runner_result {
  int exit_code;     /* the child's exit status, or -1 when killed by a signal */
  int signal;        /* the signal that killed it, or 0 */
  int timed_out;     /* 1 when the wall-clock deadline killed it */
  int truncated;     /* 1 when stdout or stderr went past output_max */
  char *out;         /* captured stdout, NUL-terminated; owned by the result */
  char *err;         /* captured stderr, NUL-terminated; owned by the result */
};

/* Runs ARGV (argv[0] an absolute path) under LIMITS and fills RES. Returns 0 when the child ran (whatever its
 * exit), -1 when it could not be started. STOP, when not NULL, is polled: a non-zero value kills the child
 * (server shutdown), reported as a signal. Free RES with runner_result_free. */
int runner_run(char *const argv[], const struct runner_limits *limits, const volatile int *stop,
               struct runner_result *res);
void runner_result_free(struct runner_result *res);

#endif
