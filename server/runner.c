/* runner.c: see runner.h. */
#include "runner.h"

#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WATCH_MAX 8

int64_t runner_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int runner_stream_init(struct runner_stream *s, int fd, size_t max)
{
  memset(s, 0, sizeof(*s));
  s->fd = fd;
  s->max = max;
  s->buf = malloc(max + 1);
  if (s->buf == NULL)
    return -1;
  s->buf[0] = '\0';
  return 0;
}

void runner_stream_free(struct runner_stream *s)
{
  if (s->fd >= 0 && s->buf != NULL)
    close(s->fd);
  free(s->buf);
  s->buf = NULL;
  s->fd = -1;
}

static void stream_add(struct runner_stream *s, const char *data, size_t n)
{
  if (s->tee != NULL)
    s->tee(s->tee_arg, data, n);
  size_t room = s->max - s->len;
  if (n > room) {
    s->truncated = 1;
    n = room;
  }
  memcpy(s->buf + s->len, data, n);
  s->len += n;
  s->buf[s->len] = '\0';
}

int runner_watch(pid_t pid, struct runner_stream *s, int n, int64_t deadline_ms, const atomic_int *stop,
                 runner_check_fn check, runner_kill_fn kill_fn, void *arg, int *timed_out)
{
  struct pollfd pfd[WATCH_MAX];
  int open_fds = 0, killed = 0;
  *timed_out = 0;
  if (n > WATCH_MAX)
    n = WATCH_MAX;
  for (int i = 0; i < n; i++) {
    pfd[i].fd = s[i].fd;
    pfd[i].events = POLLIN;
    pfd[i].revents = 0;
    if (s[i].fd >= 0)
      open_fds++;
  }
  while (open_fds > 0) {
    int64_t left = deadline_ms - runner_now_ms();
    if (left <= 0 || (stop != NULL && atomic_load(stop)) || (check != NULL && check(arg) != 0)) {
      *timed_out = left <= 0;
      kill_fn(pid, arg);
      killed = 1;
      break;
    }
    int r = poll(pfd, (nfds_t)n, (int)(left < 200 ? left : 200));
    if (r < 0 && errno != EINTR)
      break;
    for (int i = 0; i < n && r > 0; i++) {
      if (pfd[i].fd < 0 || (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
        continue;
      char buf[16384];
      ssize_t got = read(pfd[i].fd, buf, sizeof(buf));
      if (got > 0) {
        stream_add(&s[i], buf, (size_t)got);
      } else if (got == 0 || errno != EINTR) {
        pfd[i].fd = -1;
        open_fds--;
      }
    }
  }
  for (int i = 0; i < n; i++) {
    if (s[i].fd >= 0)
      close(s[i].fd);
    s[i].fd = -1;
  }
  return killed;
}

int runner_apply_limits(const struct runner_limits *l, long nofile, long nproc)
{
  struct rlimit rl;
  int rc = 0;
  rl.rlim_cur = (rlim_t)l->cpu_s;
  rl.rlim_max = (rlim_t)l->cpu_s + 1;
  rc |= setrlimit(RLIMIT_CPU, &rl);
  rl.rlim_cur = rl.rlim_max = (rlim_t)l->memory_mb * 1024 * 1024;
  rc |= setrlimit(RLIMIT_AS, &rl);
  rl.rlim_cur = rl.rlim_max = (rlim_t)l->file_mb * 1024 * 1024;
  rc |= setrlimit(RLIMIT_FSIZE, &rl);
  rl.rlim_cur = rl.rlim_max = (rlim_t)nofile;
  rc |= setrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max = 0;
  rc |= setrlimit(RLIMIT_CORE, &rl);
  if (nproc > 0) {
    rl.rlim_cur = rl.rlim_max = (rlim_t)nproc;
    rc |= setrlimit(RLIMIT_NPROC, &rl);
  }
  return rc == 0 ? 0 : -1;
}

/* In the child: limits, fds, environment, then exec. Never returns. */
static void child(char *const argv[], const struct runner_limits *l, int out_fd, int err_fd)
{
  static char *const envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "HOME=/nonexistent", NULL};
  setpgid(0, 0);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
    _exit(126);
  closefrom(3);
  if (runner_apply_limits(l, 64, 0) != 0)
    _exit(126);
  execve(argv[0], argv, envp);
  _exit(127);
}

static void kill_group(pid_t pid, void *arg)
{
  (void)arg;
  kill(-pid, SIGKILL);
}

int runner_run(char *const argv[], const struct runner_limits *l, const atomic_int *stop, struct runner_result *res)
{
  int outp[2] = {-1, -1}, errp[2] = {-1, -1};
  struct runner_stream s[2];
  pid_t pid = -1;
  memset(res, 0, sizeof(*res));
  memset(s, 0, sizeof(s));
  s[0].fd = s[1].fd = -1;
  if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0)
    goto fail;
  if (runner_stream_init(&s[0], outp[0], l->output_max) != 0 || runner_stream_init(&s[1], errp[0], l->output_max) != 0)
    goto fail;
  outp[0] = errp[0] = -1;
  pid = fork();
  if (pid < 0)
    goto fail;
  if (pid == 0)
    child(argv, l, outp[1], errp[1]);
  setpgid(pid, pid); /* also in the parent, so killpg works whichever runs first */
  close(outp[1]);
  close(errp[1]);
  outp[1] = errp[1] = -1;
  int killed =
    runner_watch(pid, s, 2, runner_now_ms() + (int64_t)l->wall_s * 1000, stop, NULL, kill_group, NULL, &res->timed_out);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!killed)
    kill(-pid, SIGKILL); /* whatever the child left behind in its group */
  if (WIFEXITED(status)) {
    res->exit_code = WEXITSTATUS(status);
  } else {
    res->exit_code = -1;
    res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
  }
  res->truncated = s[0].truncated || s[1].truncated;
  res->out = s[0].buf;
  res->err = s[1].buf;
  return 0;
fail:
  for (int i = 0; i < 2; i++) {
    if (outp[i] >= 0)
      close(outp[i]);
    if (errp[i] >= 0)
      close(errp[i]);
    runner_stream_free(&s[i]);
  }
  return -1;
}

void runner_result_free(struct runner_result *res)
{
  free(res->out);
  free(res->err);
  res->out = res->err = NULL;
}
