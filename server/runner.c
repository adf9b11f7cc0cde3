/* runner.c: see runner.h. */
#include "runner.h"

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

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct capture {
  char *buf;
  size_t len, cap;
  int truncated;
};

static void capture_add(struct capture *c, const char *data, size_t n)
{
  size_t room = c->cap - c->len;
  if (n > room) {
    c->truncated = 1;
    n = room;
  }
  memcpy(c->buf + c->len, data, n);
  c->len += n;
  c->buf[c->len] = '\0';
}

/* In the child: limits, fds, environment, then exec. Never returns. */
static void child(char *const argv[], const struct runner_limits *l, int out_fd, int err_fd)
{
  static char *const envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "HOME=/nonexistent", NULL};
  struct rlimit rl;
  setpgid(0, 0);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
    _exit(126);
  closefrom(3);
  rl.rlim_cur = rl.rlim_max = (rlim_t)l->cpu_s;
  setrlimit(RLIMIT_CPU, &rl);
  rl.rlim_cur = rl.rlim_max = (rlim_t)l->memory_mb * 1024 * 1024;
  setrlimit(RLIMIT_AS, &rl);
  rl.rlim_cur = rl.rlim_max = (rlim_t)l->file_mb * 1024 * 1024;
  setrlimit(RLIMIT_FSIZE, &rl);
  rl.rlim_cur = rl.rlim_max = 64;
  setrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max = 0;
  setrlimit(RLIMIT_CORE, &rl);
  execve(argv[0], argv, envp);
  _exit(127);
}

int runner_run(char *const argv[], const struct runner_limits *l, const volatile int *stop,
               struct runner_result *res)
{
  int outp[2] = {-1, -1}, errp[2] = {-1, -1};
  struct capture cap[2];
  pid_t pid = -1;
  memset(res, 0, sizeof(*res));
  memset(cap, 0, sizeof(cap));
  for (int i = 0; i < 2; i++) {
    cap[i].cap = l->output_max;
    cap[i].buf = malloc(l->output_max + 1);
    if (cap[i].buf == NULL)
      goto fail;
    cap[i].buf[0] = '\0';
  }
  if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0)
    goto fail;
  pid = fork();
  if (pid < 0)
    goto fail;
  if (pid == 0)
    child(argv, l, outp[1], errp[1]);
  setpgid(pid, pid); /* also in the parent, so killpg works whichever runs first */
  close(outp[1]);
  close(errp[1]);
  outp[1] = errp[1] = -1;

  int64_t deadline = now_ms() + (int64_t)l->wall_s * 1000;
  int open_fds = 2, killed = 0;
  struct pollfd pfd[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
  while (open_fds > 0) {
    int64_t left = deadline - now_ms();
    if (left <= 0 || (stop != NULL && *stop)) {
      res->timed_out = left <= 0;
      kill(-pid, SIGKILL);
      killed = 1;
      break;
    }
    int r = poll(pfd, 2, (int)(left < 200 ? left : 200));
    if (r < 0 && errno != EINTR)
      break;
    for (int i = 0; i < 2 && r > 0; i++) {
      if (pfd[i].fd < 0 || (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
        continue;
      char buf[8192];
      ssize_t n = read(pfd[i].fd, buf, sizeof(buf));
      if (n > 0) {
        capture_add(&cap[i], buf, (size_t)n);
      } else if (n == 0 || errno != EINTR) {
        pfd[i].fd = -1;
        open_fds--;
      }
    }
  }
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
  close(outp[0]);
  close(errp[0]);
  res->truncated = cap[0].truncated || cap[1].truncated;
  res->out = cap[0].buf;
  res->err = cap[1].buf;
  return 0;
fail:
  for (int i = 0; i < 2; i++) {
    if (outp[i] >= 0)
      close(outp[i]);
    if (errp[i] >= 0)
      close(errp[i]);
    free(cap[i].buf);
  }
  return -1;
}

void runner_result_free(struct runner_result *res)
{
  free(res->out);
  free(res->err);
  res->out = res->err = NULL;
}
