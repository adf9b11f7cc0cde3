/* sandbox_warm.c: warm sandboxes (see sandbox_warm.h): the thread that holds the sandbox's run, and the requests
 * to its exec server. */
#include "sandbox_warm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/mount.h>

#include "exec_server.h"
#include "sandbox_internal.h"
#include "util.h"

#define WARM_MAX_AGE_MS (3600 * 1000LL) /* then another: a sandbox's own deadline and CPU count never come near */
#define WARM_MAX_RUNS 10000
#define WARM_FILE_MB (1L << 20) /* the sandbox's RLIMIT_FSIZE: each run lowers it to its own */

struct sandbox_warm {
  struct sandbox_spec spec;
  char *argv[3];
  char scorer[APP_PATH_MAX];
  int sock;         /* the server's end of the exec server's stdin */
  int peer;         /* the exec server's end, closed by the thread once the sandbox ended */
  pthread_t thread; /* runs the sandbox (sandbox_run) for as long as it lives */
  atomic_int stop;  /* set: sandbox_run kills the sandbox */
  atomic_int ended; /* set by the thread once sandbox_run returned */
  int joined;       /* the thread was joined */
  long memory_mb;
  int64_t started_ms;
  long runs;
  struct sandbox_result res; /* the sandbox's own run: why it ended */
  char err[256];
};

/* ------------------------------------------------------------------------------------------ a run's files */

/* The detached copy of the first root sandbox_warm_open was given: its fd, -1 when the kernel refused it. */
static struct {
  pthread_mutex_t lock;
  int fd;
  char root[APP_PATH_MAX]; /* "" until the first call */
} tree = {PTHREAD_MUTEX_INITIALIZER, -1, ""};

/* The fd of ROOT's detached copy, made at the first call and kept for the process's life; -1 when there is none
 * (another root than the first call's, or the kernel refused: not root, before Linux 5.2). */
static int tree_of(const char *root)
{
  int fd = -1;
  pthread_mutex_lock(&tree.lock);
  if (tree.root[0] == '\0' && strlen(root) < sizeof(tree.root)) {
    tree.fd = (int)syscall(SYS_open_tree, AT_FDCWD, root, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    memcpy(tree.root, root, strlen(root) + 1);
  }
  if (strcmp(tree.root, root) == 0)
    fd = tree.fd;
  pthread_mutex_unlock(&tree.lock);
  return fd;
}

int sandbox_warm_open(const char *root, const char *path, int flags, mode_t mode)
{
  size_t n = strlen(root);
  if (n > 0 && strncmp(path, root, n) == 0 && path[n] == '/') {
    const char *rel = path + n + 1; /* within PATH: its byte N is the '/' */
    int fd;
    if (rel[0] != '\0' && rel[0] != '/' && strncmp(rel, "../", 3) != 0 && strstr(rel, "/../") == NULL &&
        (fd = tree_of(root)) >= 0)
      return openat(fd, rel, flags | O_CLOEXEC, mode);
  }
  return open(path, flags | O_CLOEXEC, mode);
}

static void *warm_thread(void *arg)
{
  struct sandbox_warm *w = arg;
  if (sandbox_run(&w->spec, &w->stop, &w->res, w->err, sizeof(w->err)) == 0 && !atomic_load(&w->stop)) {
    if (w->res.run.err != NULL && w->res.run.err[0] != '\0')
      util_strlcpy(w->err, w->res.run.err, sizeof(w->err));
    else /* it said nothing: how it ended */
      snprintf(w->err, sizeof(w->err), "its exec server ended (exit %d, signal %d)", w->res.run.exit_code,
               w->res.run.signal);
  }
  close(w->peer); /* the last copy: the server's end now reads end of file */
  w->peer = -1;
  atomic_store(&w->ended, 1);
  return NULL;
}

struct sandbox_warm *sandbox_warm_start(const char *scorer, long memory_mb, char *err, size_t errlen)
{
  int sv[2] = {-1, -1};
  struct sandbox_warm *w = NULL;
  if (!sandbox_confined()) {
    snprintf(err, errlen, "runs are not confined");
    return NULL;
  }
  w = calloc(1, sizeof(*w));
  if (w == NULL || strlen(scorer) >= sizeof(w->scorer) ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    snprintf(err, errlen, "cannot start a warm sandbox: %s", w == NULL ? "out of memory" : strerror(errno));
    free(w);
    return NULL;
  }
  memcpy(w->scorer, scorer, strlen(scorer) + 1);
  w->sock = sv[0];
  w->peer = sv[1];
  w->memory_mb = memory_mb;
  w->argv[0] = "/sandbox/bin/concours-score";
  w->argv[1] = "--exec-server";
  w->spec.argv = w->argv;
  w->spec.binds[0] = (struct sandbox_bind){w->scorer, "/sandbox/bin/concours-score"};
  w->spec.nbinds = 1;
  w->spec.limits.wall_s = SANDBOX_WALL_MAX_S;
  w->spec.limits.cpu_s = SANDBOX_WALL_MAX_S;
  w->spec.limits.memory_mb = memory_mb;
  w->spec.limits.file_mb = WARM_FILE_MB;
  w->spec.limits.output_max = 4096; /* the exec server writes only why it stopped */
  w->spec.tmp_mb = 1;
  w->spec.pid1 = 1;
  w->spec.no_tmp = 1;
  w->spec.channel = 1;
  w->spec.channel_fd = w->peer;
  w->started_ms = runner_now_ms();
  if (pthread_create(&w->thread, NULL, warm_thread, w) != 0) {
    snprintf(err, errlen, "cannot start a warm sandbox: no thread");
    close(sv[0]);
    close(sv[1]);
    free(w);
    return NULL;
  }
  pthread_setname_np(w->thread, "sandbox-warm"); /* not its creator's: the scoring threads are counted by name */
  return w;
}

long sandbox_warm_memory_mb(const struct sandbox_warm *w)
{
  return w->memory_mb;
}

int sandbox_warm_usable(const struct sandbox_warm *w)
{
  return !atomic_load(&w->ended) && !atomic_load(&w->stop) && w->runs < WARM_MAX_RUNS &&
         runner_now_ms() - w->started_ms < WARM_MAX_AGE_MS;
}

/* Ends W's sandbox and waits until every process of it is gone. */
static void warm_end(struct sandbox_warm *w)
{
  atomic_store(&w->stop, 1);
  if (!w->joined)
    pthread_join(w->thread, NULL);
  w->joined = 1;
}

static void kill_warm(pid_t pid, void *arg)
{
  (void)pid;
  atomic_store(&((struct sandbox_warm *)arg)->stop, 1);
}

/* The request for ARGV with NFDS fds into BUF (EXEC_MSG_MAX bytes). Returns its length, or 0 when it does not fit. */
static size_t pack_request(char *buf, char *const argv[], int nfds, const struct runner_limits *lim)
{
  struct exec_request h = {EXEC_MAGIC, 0, (uint32_t)nfds, 0, lim->cpu_s, lim->memory_mb, lim->file_mb};
  size_t len = sizeof(h);
  for (; argv[h.argc] != NULL; h.argc++) {
    size_t n = strlen(argv[h.argc]) + 1;
    if (h.argc == EXEC_ARGS_MAX || n > EXEC_MSG_MAX - len)
      return 0;
    memcpy(buf + len, argv[h.argc], n);
    len += n;
  }
  memcpy(buf, &h, sizeof(h));
  return h.argc > 0 ? len : 0;
}

/* The exec server's answer, once the run's streams have ended: until DEADLINE_MS, or *STOP. Returns 1 with *R,
 * 0 when the deadline passed or STOP was set (*TIMED_OUT says which), -1 when the sandbox ended or broke the
 * protocol. */
static int await_reply(struct sandbox_warm *w, int64_t deadline_ms, const atomic_int *stop, struct exec_reply *r,
                       int *timed_out)
{
  for (;;) {
    int64_t left = deadline_ms - runner_now_ms();
    if (left <= 0 || (stop != NULL && atomic_load(stop))) {
      *timed_out = left <= 0;
      return 0;
    }
    struct pollfd pfd = {w->sock, POLLIN, 0};
    int ready = poll(&pfd, 1, (int)(left < 200 ? left : 200));
    if (ready < 0 && errno != EINTR)
      return -1;
    if (ready <= 0)
      continue;
    ssize_t n = recv(w->sock, r, sizeof(*r), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    return n == (ssize_t)sizeof(*r) && r->magic == EXEC_MAGIC ? 1 : -1;
  }
}

int sandbox_warm_run(struct sandbox_warm *w, char *const argv[], const int *files, int nfiles,
                     const struct runner_limits *lim, const atomic_int *stop, struct sandbox_result *res, char *err,
                     size_t errlen)
{
  int outp[2] = {-1, -1}, errp[2] = {-1, -1}, fds[2 + SANDBOX_WARM_FILES_MAX], rc = -1;
  struct runner_stream st[2];
  struct exec_reply r;
  char *buf = NULL;
  size_t len = 0;
  memset(res, 0, sizeof(*res));
  memset(st, 0, sizeof(st));
  st[0].fd = st[1].fd = -1;
  err[0] = '\0';
  if (!sandbox_warm_usable(w) || nfiles < 0 || nfiles > SANDBOX_WARM_FILES_MAX || lim->memory_mb > w->memory_mb) {
    int ended = atomic_load(&w->ended); /* its thread wrote ERR before it said so */
    snprintf(err, errlen, "the warm sandbox cannot take this run%s%s", ended && w->err[0] ? ": " : "",
             ended ? w->err : "");
    return -1;
  }
  buf = malloc(EXEC_MSG_MAX);
  if (buf == NULL || (len = pack_request(buf, argv, 2 + nfiles, lim)) == 0) {
    snprintf(err, errlen, buf == NULL ? "out of memory" : "the run's command line is too long");
    goto out;
  }
  if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    goto out;
  }
  fds[0] = outp[1];
  fds[1] = errp[1];
  for (int i = 0; i < nfiles; i++)
    fds[2 + i] = files[i];
  int64_t started = runner_now_ms();
  if (sandbox_send_fds(w->sock, buf, len, fds, 2 + nfiles) != 0) {
    snprintf(err, errlen, "the warm sandbox ended: %s", w->err[0] ? w->err : "no reason given");
    warm_end(w);
    goto out;
  }
  close(outp[1]);
  close(errp[1]);
  outp[1] = errp[1] = -1;
  if (runner_stream_init(&st[0], outp[0], lim->output_max) != 0 ||
      runner_stream_init(&st[1], errp[0], lim->output_max) != 0) {
    snprintf(err, errlen, "out of memory");
    warm_end(w); /* the run is under way: it must not outlive this call */
    goto out;
  }
  outp[0] = errp[0] = -1;
  int64_t deadline = started + (int64_t)lim->wall_s * 1000;
  /* the streams end once the child and everything it started are gone (the exec server kills what is left) */
  int killed = runner_watch(0, st, 2, deadline, stop, NULL, kill_warm, w, &res->run.timed_out);
  int got = killed ? 0 : await_reply(w, deadline, stop, &r, &res->run.timed_out);
  res->wall_ms = runner_now_ms() - started;
  res->run.truncated = st[0].truncated || st[1].truncated;
  res->run.out = st[0].buf;
  res->run.err = st[1].buf;
  st[0].buf = st[1].buf = NULL;
  if (got == 0) { /* a deadline or a stop: the whole sandbox goes, as a cold run's chain would */
    warm_end(w);
    res->stopped = !res->run.timed_out;
    res->run.exit_code = -1;
    res->run.signal = SIGKILL;
    if (res->run.timed_out)
      res->limit = SANDBOX_LIMIT_WALL;
    rc = 0;
    goto out;
  }
  if (got < 0 || r.status < 0) {
    snprintf(err, errlen, "the warm sandbox ended during the run: %s", w->err[0] ? w->err : "no reason given");
    warm_end(w);
    goto out;
  }
  w->runs++;
  res->maxrss_kb = (long)r.maxrss_kb;
  res->cpu_s = (double)r.cpu_ms / 1000.0;
  sandbox_classify(lim, 0, res, r.status);
  rc = 0;
out:
  for (int i = 0; i < 2; i++) {
    if (outp[i] >= 0)
      close(outp[i]);
    if (errp[i] >= 0)
      close(errp[i]);
    runner_stream_free(&st[i]);
  }
  free(buf);
  return rc;
}

void sandbox_warm_stop(struct sandbox_warm *w)
{
  if (w == NULL)
    return;
  close(w->sock); /* the exec server reads end of file and exits; the stop below makes sure */
  warm_end(w);
  sandbox_result_free(&w->res);
  free(w);
}
