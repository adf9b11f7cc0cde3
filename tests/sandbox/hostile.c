/* hostile.c: a scorer that misbehaves on purpose, one way per sub-command, run inside the sandbox by
 * test_hostile.py. A denied syscall must kill it (seccomp, SIGSYS); when a call returns, it prints
 * "survived <errno>" and exits 0, which the test counts as a failure of the sandbox.
 *
 *   hostile int80 | x32 | ptrace | mount | bpf | unshare | setns | keyctl | perf | io_uring | tiocsti |
 *           clone_newuser | fds | forkbomb | spin */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int survived(long r)
{
  printf("survived %ld errno=%d (%s)\n", r, errno, strerror(errno));
  return 0;
}

int main(int argc, char **argv)
{
  const char *what = argc > 1 ? argv[1] : "";
  long r = -1;
  if (strcmp(what, "int80") == 0) {
    long ret = 20; /* getpid in the i386 table */
    __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
    return survived(ret);
  }
  if (strcmp(what, "x32") == 0)
    return survived(syscall(0x40000000L | SYS_getpid));
  if (strcmp(what, "ptrace") == 0)
    return survived(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
  if (strcmp(what, "mount") == 0)
    return survived(mount("none", "/tmp", "tmpfs", 0, NULL));
  if (strcmp(what, "bpf") == 0)
    return survived(syscall(SYS_bpf, 0, NULL, 0));
  if (strcmp(what, "unshare") == 0)
    return survived(unshare(CLONE_NEWUSER));
  if (strcmp(what, "setns") == 0)
    return survived(syscall(SYS_setns, 0, 0));
  if (strcmp(what, "keyctl") == 0)
    return survived(syscall(SYS_keyctl, 0, 0, 0, 0, 0));
  if (strcmp(what, "perf") == 0)
    return survived(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
  if (strcmp(what, "io_uring") == 0)
    return survived(syscall(SYS_io_uring_setup, 4, NULL));
  if (strcmp(what, "tiocsti") == 0) {
    char c = 'x';
    return survived(ioctl(0, TIOCSTI, &c));
  }
  if (strcmp(what, "clone_newuser") == 0)
    return survived(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0));
  if (strcmp(what, "fds") == 0) {
    int open_fds = 0;
    for (int fd = 3; fd < 4096; fd++) {
      if (fcntl(fd, F_GETFD) != -1) {
        printf("open fd %d\n", fd);
        open_fds++;
      }
    }
    printf("extra fds: %d\n", open_fds);
    return 0;
  }
  if (strcmp(what, "forkbomb") == 0) {
    int failures = 0;
    for (;;) {
      pid_t pid = fork();
      if (pid == 0) {
        for (;;)
          pause();
      }
      if (pid < 0 && ++failures == 1) {
        printf("fork refused: %s\n", strerror(errno));
        fflush(stdout);
      }
    }
  }
  if (strcmp(what, "spin") == 0) {
    for (volatile unsigned long i = 0;; i++)
      ;
  }
  fprintf(stderr, "unknown sub-command %s\n", what);
  return r == -1 ? 2 : 0;
}
