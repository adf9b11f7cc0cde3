/* sandbox_filter.c: the system calls a sandboxed run may make, as two seccomp filters (see sandbox_filter.h). Kept
 * apart from sandbox.c, which starts and watches runs, so that the policy itself reads as one list: what is allowed,
 * what kills the process, and which arguments are checked. docs/sandbox.md lists the same allow-list (a test
 * compares). */
#include "sandbox_filter.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"

/* The allow-list: what scorers, organizers' programs and participants' code (Python, R, Julia, numpy, PyTorch on a
 * CPU) use, after Docker's default profile, less what reaches the host's kernel surface for no scoring need.
 * Anything else fails with ENOSYS (libraries fall back as on an older kernel); the calls of `denied` kill the
 * process. Names this architecture lacks are skipped. docs/sandbox.md lists the same set (a test compares). */
static const char *const allowed[] = {
  /* files and folders */
  "read",
  "write",
  "open",
  "openat",
  "openat2",
  "close",
  "close_range",
  "creat",
  "stat",
  "fstat",
  "lstat",
  "newfstatat",
  "statx",
  "statfs",
  "fstatfs",
  "lseek",
  "pread64",
  "pwrite64",
  "readv",
  "writev",
  "preadv",
  "pwritev",
  "preadv2",
  "pwritev2",
  "access",
  "faccessat",
  "faccessat2",
  "dup",
  "dup2",
  "dup3",
  "fcntl",
  "flock",
  "fsync",
  "fdatasync",
  "sync",
  "syncfs",
  "sync_file_range",
  "truncate",
  "ftruncate",
  "fallocate",
  "fadvise64",
  "readahead",
  "getdents",
  "getdents64",
  "getcwd",
  "chdir",
  "fchdir",
  "rename",
  "renameat",
  "renameat2",
  "mkdir",
  "mkdirat",
  "rmdir",
  "link",
  "linkat",
  "unlink",
  "unlinkat",
  "symlink",
  "symlinkat",
  "readlink",
  "readlinkat",
  "chmod",
  "fchmod",
  "fchmodat",
  "fchmodat2",
  "chown",
  "fchown",
  "lchown",
  "fchownat",
  "umask",
  "utime",
  "utimes",
  "utimensat",
  "futimesat",
  "mknod",
  "mknodat",
  "copy_file_range",
  "sendfile",
  "splice",
  "tee",
  "vmsplice",
  "getxattr",
  "lgetxattr",
  "fgetxattr",
  "listxattr",
  "llistxattr",
  "flistxattr",
  "setxattr",
  "lsetxattr",
  "fsetxattr",
  "removexattr",
  "lremovexattr",
  "fremovexattr",
  "inotify_init",
  "inotify_init1",
  "inotify_add_watch",
  "inotify_rm_watch",
  "pipe",
  "pipe2",
  "ioctl",
  /* memory */
  "brk",
  "mmap",
  "munmap",
  "mremap",
  "mprotect",
  "msync",
  "mincore",
  "madvise",
  "mlock",
  "mlock2",
  "munlock",
  "mlockall",
  "munlockall",
  "mbind",
  "set_mempolicy",
  "get_mempolicy",
  "set_mempolicy_home_node",
  "membarrier",
  "pkey_alloc",
  "pkey_free",
  "pkey_mprotect",
  "map_shadow_stack",
  "shmget",
  "shmat",
  "shmdt",
  "shmctl",
  /* processes, threads, signals */
  "clone",
  "fork",
  "vfork",
  "execve",
  "execveat",
  "exit",
  "exit_group",
  "wait4",
  "waitid",
  "kill",
  "tkill",
  "tgkill",
  "getpid",
  "getppid",
  "gettid",
  "getpgid",
  "setpgid",
  "getpgrp",
  "getsid",
  "setsid",
  "set_tid_address",
  "set_robust_list",
  "get_robust_list",
  "rseq",
  "futex",
  "futex_waitv",
  "futex_wake",
  "futex_wait",
  "futex_requeue",
  "rt_sigaction",
  "rt_sigprocmask",
  "rt_sigreturn",
  "rt_sigpending",
  "rt_sigtimedwait",
  "rt_sigqueueinfo",
  "rt_tgsigqueueinfo",
  "rt_sigsuspend",
  "sigaltstack",
  "signalfd",
  "signalfd4",
  "pause",
  "pidfd_open",
  "pidfd_send_signal",
  "prctl",
  "arch_prctl",
  "set_thread_area",
  "get_thread_area",
  "capget",
  "capset",
  "restart_syscall",
  "uretprobe",
  /* identity and limits (inside the sandbox's own user namespace) */
  "getuid",
  "geteuid",
  "getgid",
  "getegid",
  "getresuid",
  "getresgid",
  "getgroups",
  "setuid",
  "setgid",
  "setreuid",
  "setregid",
  "setresuid",
  "setresgid",
  "setgroups",
  "setfsuid",
  "setfsgid",
  "getrlimit",
  "setrlimit",
  "prlimit64",
  "getrusage",
  "getpriority",
  "setpriority",
  "sched_yield",
  "sched_getaffinity",
  "sched_setaffinity",
  "sched_getparam",
  "sched_setparam",
  "sched_getscheduler",
  "sched_setscheduler",
  "sched_getattr",
  "sched_setattr",
  "sched_get_priority_max",
  "sched_get_priority_min",
  "sched_rr_get_interval",
  "getcpu",
  /* time */
  "time",
  "gettimeofday",
  "clock_gettime",
  "clock_getres",
  "clock_nanosleep",
  "nanosleep",
  "alarm",
  "getitimer",
  "setitimer",
  "timer_create",
  "timer_settime",
  "timer_gettime",
  "timer_getoverrun",
  "timer_delete",
  "timerfd_create",
  "timerfd_settime",
  "timerfd_gettime",
  "times",
  /* waiting on fds */
  "poll",
  "ppoll",
  "select",
  "pselect6",
  "epoll_create",
  "epoll_create1",
  "epoll_ctl",
  "epoll_wait",
  "epoll_pwait",
  "epoll_pwait2",
  "eventfd",
  "eventfd2",
  /* sockets: the network namespace has only its own loopback; socket() is checked for the family below */
  "socket",
  "socketpair",
  "bind",
  "listen",
  "accept",
  "accept4",
  "connect",
  "getsockname",
  "getpeername",
  "sendto",
  "recvfrom",
  "sendmsg",
  "recvmsg",
  "sendmmsg",
  "recvmmsg",
  "shutdown",
  "setsockopt",
  "getsockopt",
  /* System V IPC and message queues, private to the sandbox's IPC namespace */
  "semget",
  "semop",
  "semtimedop",
  "semctl",
  "msgget",
  "msgsnd",
  "msgrcv",
  "msgctl",
  "mq_open",
  "mq_unlink",
  "mq_timedsend",
  "mq_timedreceive",
  "mq_notify",
  "mq_getsetattr",
  /* the rest */
  "uname",
  "sysinfo",
  "getrandom",
};

/* Syscalls a run never needs and that widen the kernel's attack surface: the process is killed. */
static const char *const denied[] = {
  "ptrace",
  "process_vm_readv",
  "process_vm_writev",
  "mount",
  "umount2",
  "pivot_root",
  "chroot",
  "move_mount",
  "open_tree",
  "fsopen",
  "fsconfig",
  "fsmount",
  "fspick",
  "mount_setattr",
  "bpf",
  "unshare",
  "setns",
  "keyctl",
  "add_key",
  "request_key",
  "perf_event_open",
  "io_uring_setup",
  "io_uring_enter",
  "io_uring_register",
  "kexec_load",
  "kexec_file_load",
  "init_module",
  "finit_module",
  "delete_module",
  "swapon",
  "swapoff",
  "reboot",
  "open_by_handle_at",
  "name_to_handle_at",
  "userfaultfd",
  "acct",
  "quotactl",
  "syslog",
  "vhangup",
  "uselib",
  "lookup_dcookie",
  "personality",
  "settimeofday",
  "clock_settime",
  "adjtimex",
  "clock_adjtime",
  "iopl",
  "ioperm",
  "modify_ldt",
  "fanotify_init",
  "kcmp",
  "pidfd_getfd",
};

const char *const *sandbox_allowed_syscalls(size_t *n)
{
  *n = sizeof(allowed) / sizeof(allowed[0]);
  return allowed;
}

/* The first filter: the allow-list (its default is ENOSYS), with socket's family and clone's flags checked. */
static int add_allow_rules(scmp_filter_ctx ctx)
{
  const uint64_t families[] = {AF_UNIX, AF_INET, AF_INET6};
  for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
    int nr = seccomp_syscall_resolve_name(allowed[i]);
    if (nr == __NR_SCMP_ERROR)
      continue; /* not on this architecture */
    if (nr == SCMP_SYS(clone) || nr == SCMP_SYS(socket) || nr == SCMP_SYS(socketpair))
      continue; /* allowed below, with their arguments checked */
    if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
      return -1;
  }
  /* families a run may open: local sockets and the namespace's own loopback; netlink (the host's routing and
   * audit), vsock (the hypervisor), packet sockets and the rest answer EAFNOSUPPORT */
  for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
    if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, families[i])) != 0)
      return -1;
  }
  if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX)) != 0 ||
      seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                       SCMP_A0(SCMP_CMP_GT, (uint64_t)AF_INET6)) != 0)
    return -1;
  for (uint64_t fam = 0; fam < AF_INET6; fam++) {
    if (fam != AF_UNIX && fam != AF_INET &&
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, fam)) != 0)
      return -1;
  }
  /* Left out, so ENOSYS: memfd_create (no executable in memory that no file system ever held) and clone3, whose
   * flags lie in memory a filter cannot read (glibc falls back to clone, whose flags the second filter reads). */
  return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0);
}

/* The second filter (its default is to allow; the kernel applies the stricter answer of the two): the calls of
 * `denied`, clone with a namespace flag, and TIOCSTI and TIOCLINUX, which push characters into a terminal's
 * input, kill the process. One filter cannot say "ioctl but these two" with a default that refuses. */
static int add_deny_rules(scmp_filter_ctx ctx)
{
  const uint64_t ns_flags[] = {CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,   CLONE_NEWNET,
                               CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP};
  for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
    int nr = seccomp_syscall_resolve_name(denied[i]);
    if (nr == __NR_SCMP_ERROR)
      continue;
    if (seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0) != 0)
      return -1;
  }
  for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
    if (seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1,
                         SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i])) != 0)
      return -1;
  }
  if (seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(ioctl), 1,
                       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, (uint64_t)TIOCSTI)) != 0 ||
      seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(ioctl), 1,
                       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, (uint64_t)TIOCLINUX)) != 0)
    return -1;
  return 0;
}

int sandbox_filter_build(int which, unsigned char **bpf, size_t *len, char *err, size_t errlen)
{
  scmp_filter_ctx ctx = seccomp_init(which == 0 ? SCMP_ACT_ERRNO(ENOSYS) : SCMP_ACT_ALLOW);
  int fd = -1, rc = -1;
  struct stat st;
  *bpf = NULL;
  *len = 0;
  if (ctx == NULL) {
    snprintf(err, errlen, "seccomp_init failed");
    goto out;
  }
  if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0 ||
      (which == 0 ? add_allow_rules(ctx) : add_deny_rules(ctx)) != 0) {
    snprintf(err, errlen, "cannot build the seccomp filter");
    goto out;
  }
  fd = memfd_create("concours-seccomp", MFD_CLOEXEC);
  if (fd < 0 || seccomp_export_bpf(ctx, fd) != 0 || fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size > 32768) {
    snprintf(err, errlen, "cannot export the seccomp filter");
    goto out;
  }
  *bpf = malloc((size_t)st.st_size);
  if (*bpf == NULL || pread(fd, *bpf, (size_t)st.st_size, 0) != st.st_size) {
    snprintf(err, errlen, "cannot read the seccomp filter back");
    free(*bpf);
    *bpf = NULL;
    goto out;
  }
  *len = (size_t)st.st_size;
  rc = 0;
out:
  if (fd >= 0)
    close(fd);
  seccomp_release(ctx);
  return rc;
}
