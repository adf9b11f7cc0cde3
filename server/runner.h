/* runner.h: the parts of running an untrusted child process that every runner shares: rlimits set in the
 * child, and a parent-side loop that captures several pipes with caps while enforcing a wall-clock deadline
 * and a stop flag. sandbox.c builds the bubblewrap + seccomp confinement on top of these; runner_run is the
 * plain fork/exec (no confinement) kept for tools and tests that run trusted programs. */
#ifndef CONCOURS_RUNNER_H
#define CONCOURS_RUNNER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct runner_limits {
  int wall_s;        /* killed after this many seconds of wall-clock time */
  int cpu_s;         /* RLIMIT_CPU (soft; the hard limit is one second more) */
  long memory_mb;    /* RLIMIT_AS */
  long file_mb;      /* RLIMIT_FSIZE */
  size_t output_max; /* bytes kept of stdout and of stderr each; the rest is drained and dropped */
};

struct runner_result {
  int exit_code; /* the child's exit status, or -1 when killed by a signal */
  int signal;    /* the signal that killed it, or 0 */
  int timed_out; /* 1 when the wall-clock deadline killed it */
  int truncated; /* 1 when stdout or stderr went past output_max */
  char *out;     /* captured stdout, NUL-terminated; owned by the result */
  char *err;     /* captured stderr, NUL-terminated; owned by the result */
};

/* One pipe read by runner_watch: at most MAX bytes are kept in BUF (malloc'd by runner_stream_init, NUL-
 * terminated, owned by the stream until handed over), the rest is drained. */
struct runner_stream {
  int fd;
  size_t max, len;
  int truncated;
  char *buf;
  void (*tee)(void *arg, const char *data, size_t n); /* when set, sees every byte read, as it is read */
  void *tee_arg;
};

/* Allocates S's buffer for MAX bytes and sets its fd. Returns 0 or -1 (out of memory). */
int runner_stream_init(struct runner_stream *s, int fd, size_t max);
/* Frees S's buffer and closes its fd when still open. Accepts a zeroed stream. */
void runner_stream_free(struct runner_stream *s);

/* Called by runner_watch when the deadline passes or *STOP becomes non-zero: kills the child and whatever
 * it started. ARG is the caller's. */
typedef void (*runner_kill_fn)(pid_t pid, void *arg);

/* Called by runner_watch at least every 200 ms while the child runs: non-zero kills it (a limit the caller
 * measures itself, such as a whole run's CPU time). ARG is the caller's. */
typedef int (*runner_check_fn)(void *arg);

/* Reads the N streams until every one reaches end of file, or until DEADLINE_MS (CLOCK_MONOTONIC ms) passes,
 * *STOP (may be NULL) becomes non-zero or CHECK (may be NULL) says so: then KILL(PID, ARG) runs once and
 * reading stops. Streams are closed on return. Sets *TIMED_OUT when the deadline fired. Returns 1 when KILL
 * ran, 0 otherwise. The caller still reaps PID. */
int runner_watch(pid_t pid, struct runner_stream *s, int n, int64_t deadline_ms, const atomic_int *stop,
                 runner_check_fn check, runner_kill_fn kill_fn, void *arg, int *timed_out);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t runner_now_ms(void);

/* In a freshly forked child (async-signal-safe): applies L as rlimits (CPU, AS, FSIZE, no core files), at
 * most NOFILE open files and, when NPROC > 0, at most NPROC processes of the uid. Returns 0 or -1. */
int runner_apply_limits(const struct runner_limits *l, long nofile, long nproc);

/* Runs ARGV (argv[0] an absolute path) without confinement under LIMITS, in its own process group, with only
 * fds 0-2 and an empty environment plus PATH, and fills RES. Returns 0 when the child ran (whatever its exit),
 * -1 when it could not be started. STOP, when not NULL, is polled: a non-zero value kills the child, reported
 * as a signal. Free RES with runner_result_free. */
int runner_run(char *const argv[], const struct runner_limits *limits, const atomic_int *stop,
               struct runner_result *res);
/* Frees what RES holds; accepts a zeroed result. */
void runner_result_free(struct runner_result *res);

#endif
