/* sandbox.c: see sandbox.h. A run: prepared in the server, confined and watched by its supervisor (forked by the
 * spawner of sandbox_spawner.c, or by the server without it), its report read back. Everything a forked child does
 * is async-signal-safe (the server is multi-threaded): the parent prepares every string, fd number and the seccomp
 * program before fork. */
#include "sandbox.h"

#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sched.h>

#include "cgroup.h"
#include "extract.h"
#include "sandbox_filter.h"
#include "sandbox_internal.h"
#include "store.h"
#include "util.h"

#define BWRAP "/usr/bin/bwrap"
#define NOFILE_MAX 256
#define NPROC_MAX 64
#define FD_SECCOMP 3 /* the allow-list */
#define FD_INFO 4
#define FD_SECCOMP_DENY 5 /* the deny-list, stacked on it */
#define HIGH_FD 100
#define VIEW_FD0 90  /* O_PATH fds of the bind sources, in the supervisor */
#define VIEWP_FD0 80 /* O_PATH fds of the folders holding the file sources */
#define VIEW_DIR "/tmp"
#define REPORT_MAX (SANDBOX_MAX_OUTPUTS * (SANDBOX_OUTPUT_MAX + 64) + 256)

static struct {
  int initialized, confined, privileged;
  int have_alternatives, have_ldcache;
  unsigned char *bpf[2]; /* the allow-list and the deny-list, compiled (sandbox_filter.h) */
  size_t bpf_len[2];
  pthread_mutex_t lock;
  pthread_cond_t freed;
  uint64_t slots; /* bit N set: uid uid_base + N is in use */
  uid_t uid_base; /* this process's 64 uids: several servers on one host (or parallel tests) must not share
                   * uids, or one's runs count against the other's RLIMIT_NPROC and namespace creation fails */
} sb = {0, 0, 0, 0, 0, {NULL, NULL}, {0, 0}, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, SANDBOX_UID_BASE};

/* ------------------------------------------------------------------------------------------ uid slots */

static int slot_acquire(void)
{
  int slot = -1;
  pthread_mutex_lock(&sb.lock);
  while (slot < 0) {
    for (int i = 0; i < SANDBOX_MAX_RUNS && slot < 0; i++) {
      if ((sb.slots & (1ull << i)) == 0)
        slot = i;
    }
    if (slot < 0)
      pthread_cond_wait(&sb.freed, &sb.lock);
  }
  sb.slots |= 1ull << slot;
  pthread_mutex_unlock(&sb.lock);
  return slot;
}

static void slot_release(int slot)
{
  pthread_mutex_lock(&sb.lock);
  sb.slots &= ~(1ull << slot);
  pthread_cond_signal(&sb.freed);
  pthread_mutex_unlock(&sb.lock);
}

/* ------------------------------------------------------------------------------------------ argv */

static void arg(struct args *a, const char *s)
{
  if (a->n >= SANDBOX_MAX_ARGS) {
    a->overflow = 1;
    return;
  }
  a->v[a->n++] = (char *)s;
  a->v[a->n] = NULL;
}

static void arg2(struct args *a, const char *s1, const char *s2)
{
  arg(a, s1);
  arg(a, s2);
}

static void arg3(struct args *a, const char *s1, const char *s2, const char *s3)
{
  arg(a, s1);
  arg2(a, s2, s3);
}

static const char *const fd_names[] = {"0", "1", "2", "3", "4", "5"};

static void build_bwrap_args(struct prep *p)
{
  struct args *a = &p->a;
  const struct sandbox_spec *s = p->spec;
  arg(a, BWRAP);
  arg3(a, "--unshare-user", "--unshare-pid", "--unshare-net");
  arg3(a, "--unshare-ipc", "--unshare-uts", "--unshare-cgroup");
  arg3(a, "--disable-userns", "--die-with-parent", "--new-session");
  if (s->pid1) /* the program is the namespace's init: when it ends, the kernel kills whatever is left in it */
    arg(a, "--as-pid-1");
  arg2(a, "--hostname", "sandbox");
  if (p->root_bind >= 0) { /* the runtime image (oci.c made its mount points), read-only */
    arg3(a, "--ro-bind", p->src[p->root_bind], "/");
    arg2(a, "--tmpfs", "/dev");
  } else { /* the host's own /usr */
    arg3(a, "--ro-bind", "/usr", "/usr");
    arg3(a, "--symlink", "usr/lib", "/lib");
    arg3(a, "--symlink", "usr/lib64", "/lib64");
    arg3(a, "--symlink", "usr/bin", "/bin");
    arg3(a, "--symlink", "usr/sbin", "/sbin");
    if (sb.have_alternatives) /* Debian's libblas.so.3 and friends are symlinks into /etc/alternatives */
      arg3(a, "--ro-bind", "/etc/alternatives", "/etc/alternatives");
    if (sb.have_ldcache)
      arg3(a, "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache");
    arg2(a, "--dir", "/dev");
  }
  arg2(a, "--proc", "/proc");
  arg3(a, "--dev-bind", "/dev/null", "/dev/null");
  arg3(a, "--dev-bind", "/dev/zero", "/dev/zero");
  arg3(a, "--dev-bind", "/dev/urandom", "/dev/urandom");
  for (int i = 0; i < SANDBOX_MAX_DEVICES && s->devices[i] != NULL; i++)
    arg3(a, "--dev-bind", s->devices[i], s->devices[i]);
  if (!s->no_tmp) {
    arg2(a, "--size", p->tmp_size);
    arg2(a, "--tmpfs", "/tmp");
    arg2(a, "--size", p->tmp_size); /* POSIX shared memory and semaphores (Python's multiprocessing) */
    arg2(a, "--tmpfs", "/dev/shm");
  }
  if (p->root_bind >= 0) { /* a tmpfs for the mount points under /sandbox: the image's root is read-only */
    arg2(a, "--size", "1048576");
    arg2(a, "--tmpfs", "/sandbox");
  } else {
    arg2(a, "--dir", "/sandbox");
  }
  for (int i = 0; i < p->nbinds; i++) {
    if (i != p->root_bind)
      arg3(a, "--ro-bind", p->src[i], p->binds[i].inside);
  }
  if (s->output_host != NULL)
    arg3(a, "--bind", p->out_src, s->output_inside != NULL ? s->output_inside : "/sandbox/output");
  arg2(a, "--remount-ro", "/");
  if (p->root_bind >= 0)
    arg2(a, "--remount-ro", "/sandbox");
  arg2(a, "--chdir", s->chdir != NULL ? s->chdir : "/sandbox");
  arg(a, "--clearenv");
  arg3(a, "--setenv", "PATH",
       p->root_bind >= 0 ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" : "/usr/bin:/bin");
  for (int i = 0; i + 1 < SANDBOX_MAX_ENV && s->env[i] != NULL && s->env[i + 1] != NULL; i += 2)
    arg3(a, "--setenv", s->env[i], s->env[i + 1]);
  arg3(a, "--setenv", "LC_ALL", "C.UTF-8");
  arg3(a, "--setenv", "LANG", "C.UTF-8");
  arg3(a, "--setenv", "HOME", "/tmp");
  arg3(a, "--setenv", "TMPDIR", "/tmp");
  arg3(a, "--setenv", "PYTHONDONTWRITEBYTECODE", "1");
  arg3(a, "--setenv", "MPLCONFIGDIR", "/tmp");
  arg3(a, "--setenv", "OPENBLAS_NUM_THREADS", "1");
  arg3(a, "--setenv", "OMP_NUM_THREADS", "1");
  arg3(a, "--setenv", "MKL_NUM_THREADS", "1");
  arg2(a, "--info-fd", fd_names[FD_INFO]);
  arg2(a, "--add-seccomp-fd", fd_names[FD_SECCOMP]);
  arg2(a, "--add-seccomp-fd", fd_names[FD_SECCOMP_DENY]);
  arg(a, "--");
  for (int i = 0; s->argv[i] != NULL; i++)
    arg(a, s->argv[i]);
}

/* ------------------------------------------------------------------------------------------ children */

struct report_file {
  int state;
  uint32_t len;
};

void sandbox_write_all(int fd, const void *buf, size_t n)
{
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    p += w;
    n -= (size_t)w;
  }
}

/* In the supervisor: reads OUTPUT_HOST/NAME safely and appends it to the report. */
static void report_file(int rep, int dirfd, const char *name)
{
  static char buf[SANDBOX_OUTPUT_MAX + 1];
  struct report_file rf = {SANDBOX_FILE_OK, 0};
  struct stat st;
  int fd = dirfd >= 0 ? openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) : -1;
  if (fd < 0) {
    rf.state = errno == ENOENT ? SANDBOX_FILE_MISSING : SANDBOX_FILE_UNSAFE;
  } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rf.state = SANDBOX_FILE_UNSAFE;
  } else if (st.st_size > SANDBOX_OUTPUT_MAX) {
    rf.state = SANDBOX_FILE_TOO_LARGE;
  } else {
    size_t got = 0;
    for (;;) {
      ssize_t r = read(fd, buf + got, sizeof(buf) - got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      got += (size_t)r;
      if (got == sizeof(buf))
        break;
    }
    if (got > SANDBOX_OUTPUT_MAX)
      rf.state = SANDBOX_FILE_TOO_LARGE;
    else
      rf.len = (uint32_t)got;
  }
  if (fd >= 0)
    close(fd);
  sandbox_write_all(rep, &rf, sizeof(rf));
  if (rf.len > 0)
    sandbox_write_all(rep, buf, rf.len);
}

/* In the supervisor: copies OUTPUT/NAME (a regular file, never through a symlink) into DST. Returns the state and
 * sets *BYTES. */
static int copy_out(int dirfd, const char *name, int dst, long long *bytes)
{
  static char buf[65536];
  struct stat st;
  int state = SANDBOX_FILE_OK;
  *bytes = 0;
  int fd = dirfd >= 0 ? openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) : -1;
  if (fd < 0)
    return errno == ENOENT ? SANDBOX_FILE_MISSING : SANDBOX_FILE_UNSAFE;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return SANDBOX_FILE_UNSAFE;
  }
  for (;;) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      state = SANDBOX_FILE_UNREAD;
    if (r <= 0)
      break;
    for (ssize_t off = 0; off < r;) {
      ssize_t w = write(dst, buf + off, (size_t)(r - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        close(fd);
        return SANDBOX_FILE_UNREAD; /* the server's disk: not the run's fault */
      }
      off += w;
    }
    *bytes += r;
  }
  close(fd);
  return state;
}

/* Moves FD above HIGH_FD so that the fixed numbers 0..FD_BIND0+binds are free to be dup2'ed. */
static int lift(int fd)
{
  if (fd < 0)
    return -1;
  int hi = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD);
  close(fd);
  return hi;
}

/* In the run, before exec (async-signal-safe): says on stderr (fd 2, the server's capture once it is set up)
 * which step failed, for the organizers' log and the start-up self-check, and exits 126. */
static void child_fail(const char *step)
{
  static const char head[] = "concours sandbox: cannot ";
  if (write(2, head, sizeof(head) - 1) < 0 || write(2, step, strlen(step)) < 0 || write(2, "\n", 1) < 0)
    _exit(126);
  _exit(126);
}

/* The run itself: fds, limits, uid, then bwrap (or the program directly when not confined). Never returns. */
static void run_child(const struct prep *p, int out, int err, const int bpf[2], int info)
{
  const struct sandbox_spec *s = p->spec;
  static char *const no_env[] = {NULL};
  static char *const plain_env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "HOME=/tmp", "TMPDIR=/tmp", NULL};
  sigset_t none;
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  /* a process group of its own (the supervisor's SIGTERM handler kills it), default signal dispositions and
   * mask (the server ignores SIGPIPE and blocks SIGTERM in its threads) */
  sigemptyset(&none);
  if (setpgid(0, 0) != 0 || signal(SIGPIPE, SIG_DFL) == SIG_ERR || signal(SIGTERM, SIG_DFL) == SIG_ERR ||
      sigprocmask(SIG_SETMASK, &none, NULL) != 0)
    child_fail("reset signals");
  if (devnull < 0 || dup2(p->in_fd >= 0 ? p->in_fd : devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
    _exit(126);                      /* stderr is not the capture yet */
  if (cgroup_run_join(&p->cgr) != 0) /* before the uid changes: the whole run, bwrap included, is in it */
    child_fail("join the run's cgroup");
  if (p->confined) {
    if (dup2(bpf[0], FD_SECCOMP) < 0 || dup2(info, FD_INFO) < 0 || dup2(bpf[1], FD_SECCOMP_DENY) < 0)
      child_fail("place the seccomp and info fds");
    closefrom(FD_SECCOMP_DENY + 1);
  } else {
    closefrom(3);
    if (s->chdir != NULL && chdir(p->chdir) != 0)
      child_fail("enter the working folder");
  }
  if (runner_apply_limits(&s->limits, p->confined ? NOFILE_MAX : 64, p->privileged ? NPROC_MAX : 0) != 0)
    child_fail("set the rlimits");
  if (p->privileged) {
    gid_t g = (gid_t)p->uid;
    if (setgroups(1, &g) != 0 || setresgid(g, g, g) != 0 || setresuid(p->uid, p->uid, p->uid) != 0)
      child_fail("switch to the sandbox uid (is the server root in the host's user namespace?)");
  }
  /* The uid change cleared the parent-death signal: set it again, then make sure the parent is still there. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != p->parent)
    child_fail("arm the parent-death signal");
  if (p->confined)
    execve(BWRAP, p->a.v, no_env);
  else
    execve(s->argv[0], s->argv, plain_env);
  child_fail(p->confined ? "execute " BWRAP : "execute the program");
}

/* In the supervisor (root), privileged runs only: a private mount namespace in which a small tmpfs covers VIEW_DIR
 * (this namespace only; the host's stays as it is), and a size-capped tmpfs owned by the run's uid is mounted at
 * VIEW_DIR/out. Each bind source is mounted at VIEW_DIR/bN (a folder) or VIEW_DIR/bN/NAME (a file) from an O_PATH fd
 * opened before VIEW_DIR is covered (so a source under it is not hidden); bwrap then binds those, and every folder
 * on the way is the sandbox's to search.
 *
 * A bind mount shows its source's host path in /proc/self/mountinfo, which would tell the run where the data folder
 * lies. So the source (a file's folder, for a file) is first bind-mounted at VIEW_DIR/sN, out of the run's sight,
 * and VIEW_DIR/bN is a read-only overlay whose only layers are "sN" and an empty "e", named relative to VIEW_DIR:
 * the run's mountinfo shows "lowerdir=sN:e" and a path inside the overlay, no host path. Where overlayfs cannot
 * be mounted (or a file's folder is not searchable by others) the source is bind-mounted as it is.
 * Returns 0 or -1 (errno set). */
static int view(const struct prep *p)
{
  const struct sandbox_spec *s = p->spec;
  struct stat st;
  if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    return -1;
  /* opened in the new namespace (a bind source must belong to it), before VIEW_DIR is covered */
  for (int i = 0; i < p->nbinds; i++) {
    int fd = open(p->binds[i].host, O_PATH | O_CLOEXEC);
    if (fd < 0 || dup2(fd, VIEW_FD0 + i) < 0)
      return -1;
    close(fd);
    if (!p->view_is_dir[i]) {
      fd = open(p->view_parent[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0 || dup2(fd, VIEWP_FD0 + i) < 0)
        return -1;
      close(fd);
    }
  }
  if (mount("tmpfs", VIEW_DIR, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,nr_inodes=128,mode=0755") != 0 ||
      chdir(VIEW_DIR) != 0 || mkdir("e", 0755) != 0)
    return -1;
  for (int i = 0; i < p->nbinds; i++) {
    int lower = p->view_is_dir[i] ? VIEW_FD0 + i : VIEWP_FD0 + i;
    int layered = fstat(lower, &st) == 0 && (p->view_is_dir[i] || (st.st_mode & S_IXOTH) != 0) &&
                  mkdir(p->view_stage[i], 0755) == 0 &&
                  mount(p->view_is_dir[i] ? p->view_fd[i] : p->view_pfd[i], p->view_stage[i], NULL, MS_BIND, NULL) == 0;
    if (mkdir(p->view_mnt[i], 0755) != 0)
      return -1;
    if (layered)
      layered = mount("overlay", p->view_mnt[i], "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, p->view_lower[i]) == 0;
    if (!layered && !p->view_is_dir[i]) {
      int fd = open(p->view_src[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0)
        return -1;
      close(fd);
    }
    if (!layered && mount(p->view_fd[i], p->view_src[i], NULL, MS_BIND, NULL) != 0)
      return -1;
    close(VIEW_FD0 + i);
    if (!p->view_is_dir[i])
      close(VIEWP_FD0 + i);
  }
  if (s->output_host != NULL &&
      (mkdir(p->view_out, 0700) != 0 ||
       mount("tmpfs", p->view_out, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, p->out_opts) != 0))
    return -1;
  return 0;
}

/* The supervisor: the run's view, fds, the run, then the report. Never returns. */
static atomic_int run_pgid; /* set before the handler can run, read in it: lock-free, so signal-safe */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "a signal handler reads run_pgid: atomic_int must be lock-free");

/* The supervisor's SIGTERM (the server's deadline or stop): kill the run's process group (bwrap and the namespace's
 * init, which takes the namespace with it); the supervisor then reaps them all and exits. */
static void on_term(int sig)
{
  (void)sig;
  pid_t pgid = atomic_load(&run_pgid);
  if (pgid > 0)
    kill(-pgid, SIGKILL);
}

void sandbox_supervisor(struct prep *p, int out, int err, int bpf[2], int info, int rep, int copy)
{
  const struct sandbox_spec *s = p->spec;
  struct report_head h = {-1, 0, 0, 0, 0, SANDBOX_FILE_UNREAD, 0};
  struct rusage ru;
  pid_t me = getpid();
  /* A subreaper: bwrap's namespace init, which bwrap leaves behind when it exits, is reaped here rather than
   * becoming a zombie of the host's init (still counted against the uid's RLIMIT_NPROC). */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != p->parent || prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
    _exit(125);
  p->parent = me;
  out = lift(out);
  err = lift(err);
  bpf[0] = lift(bpf[0]);
  bpf[1] = lift(bpf[1]);
  info = lift(info);
  rep = lift(rep);
  copy = copy >= 0 ? lift(copy) : -1;
  p->in_fd = p->in_fd >= 0 ? lift(p->in_fd) : -1;
  for (int i = 0; i < p->cgr.n; i++) {
    p->cgr.procs_fd[i] = lift(p->cgr.procs_fd[i]);
    if (p->cgr.procs_fd[i] < 0) {
      h.setup_step = 2;
      goto fail;
    }
  }
  if (p->privileged && view(p) != 0) {
    h.setup_step = 1;
    goto fail;
  }
  h.setup_step = 2;
  if (out < 0 || err < 0 || rep < 0 || (p->confined && (bpf[0] < 0 || bpf[1] < 0 || info < 0)))
    goto fail;
  h.setup_step = 3;
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  if (signal(SIGTERM, on_term) == SIG_ERR)
    goto fail;
  pid_t pid = fork();
  if (pid < 0)
    goto fail;
  if (pid == 0)
    run_child(p, out, err, bpf, info);
  setpgid(pid, pid); /* also here, so that the group exists whichever runs first */
  atomic_store(&run_pgid, pid);
  if (sigprocmask(SIG_UNBLOCK, &term, NULL) != 0)
    kill(-pid, SIGKILL);
  close(out);
  close(err);
  close(info);
  close(bpf[0]);
  close(bpf[1]);
  if (p->in_fd >= 0)
    close(p->in_fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      goto fail;
  }
  /* every other descendant: the namespace's init, gone with its namespace once the program ended */
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
    ;
  if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
    memset(&ru, 0, sizeof(ru));
  h.status = status;
  h.setup_step = 0;
  h.maxrss_kb = ru.ru_maxrss;
  h.cpu_ms =
    (long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 + (long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
  int dirfd = s->output_host != NULL ? open(p->out_src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
  if (s->copy_name != NULL && copy >= 0 && s->copy_folder) { /* the whole output folder, as a tar */
    long packed = dirfd >= 0 ? extract_pack_dir(p->out_src, copy, SANDBOX_PACK_ENTRIES, &h.copy_bytes) : -1;
    h.copy_state = packed > 0 ? SANDBOX_FILE_OK : packed == 0 ? SANDBOX_FILE_MISSING : SANDBOX_FILE_UNREAD;
  } else if (s->copy_name != NULL && copy >= 0) {
    h.copy_state = copy_out(dirfd, s->copy_name, copy, &h.copy_bytes);
  }
  sandbox_write_all(rep, &h, sizeof(h));
  for (int i = 0; i < s->noutputs; i++)
    report_file(rep, dirfd, s->outputs[i]);
  _exit(0);
fail:
  h.setup_errno = errno;
  sandbox_write_all(rep, &h, sizeof(h));
  _exit(125);
}

/* ------------------------------------------------------------------------------------------ parent */

struct killer {
  struct runner_stream *info;
  uid_t uid;
  int privileged;
  const struct cgroup_run *cgr; /* NULL when the run has no cgroup */
  long long cpu_limit_us;       /* the whole run's CPU time: cpu_s plus the second RLIMIT_CPU's hard limit
                                 * gives, so that one process alone still meets its SIGXCPU first */
  int cpu_hit;                  /* set when check_run killed the run for it */
};

/* runner_watch's check: the whole run's CPU time, from its cgroup (RLIMIT_CPU binds each process alone). */
static int check_run(void *arg)
{
  struct killer *k = arg;
  if (k->cgr == NULL)
    return 0;
  long long used = cgroup_run_cpu_us(k->cgr);
  if (used >= 0 && used >= k->cpu_limit_us)
    k->cpu_hit = 1;
  return k->cpu_hit;
}

/* The PID namespace's init as reported by bwrap's --info-fd ({"child-pid": N}), or -1. */
static pid_t info_child_pid(const struct runner_stream *info)
{
  const char *k = info->buf != NULL ? strstr(info->buf, "\"child-pid\"") : NULL;
  if (k == NULL)
    return -1;
  k = strchr(k, ':');
  if (k == NULL)
    return -1;
  long long v = 0;
  char num[24];
  size_t n = 0;
  k++;
  while (*k == ' ')
    k++;
  while (n + 1 < sizeof(num) && k[n] >= '0' && k[n] <= '9') {
    num[n] = k[n];
    n++;
  }
  num[n] = '\0';
  if (n == 0 || util_parse_ll(num, 2, 1 << 22, &v) != 0)
    return -1;
  return (pid_t)v;
}

/* 1 when process PID runs as UID (so a recycled pid is never killed by mistake). */
static int runs_as(pid_t pid, uid_t uid)
{
  char path[64], buf[2048];
  snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  const char *u = strstr(buf, "\nUid:");
  long long v = -1;
  char num[24];
  size_t k = 0;
  if (u == NULL)
    return 0;
  u += 5;
  while (*u == '\t' || *u == ' ')
    u++;
  while (k + 1 < sizeof(num) && u[k] >= '0' && u[k] <= '9') {
    num[k] = u[k];
    k++;
  }
  num[k] = '\0';
  return util_parse_ll(num, 0, 4294967295LL, &v) == 0 && (uid_t)v == uid;
}

/* Kills the run: the namespace's init directly (which takes every process of the namespace with it), and the
 * run's process group through the supervisor's SIGTERM handler (the supervisor then reaps them, so no zombie is
 * left to the host's init); then waits up to 5 s until the namespace's init is gone. */
static void kill_run(pid_t pid, void *arg)
{
  struct killer *k = arg;
  pid_t init = info_child_pid(k->info);
  int pidfd = -1;
  if (k->cgr != NULL)
    cgroup_run_kill(k->cgr); /* every process of the run at once, wherever it went */
  if (init > 0 && (!k->privileged || runs_as(init, k->uid)))
    pidfd = (int)syscall(SYS_pidfd_open, init, 0);
  if (pidfd >= 0)
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
  kill(pid, SIGTERM);
  if (pidfd >= 0) {
    struct pollfd pfd = {pidfd, POLLIN, 0};
    int64_t until = runner_now_ms() + 5000;
    while (runner_now_ms() < until && poll(&pfd, 1, 100) == 0)
      ;
    close(pidfd);
  }
}

/* Parses the supervisor's report REP into RES. Returns 0, or -1 when the run could not be set up. */
static int parse_report(const struct sandbox_spec *spec, const struct runner_stream *rep, struct sandbox_result *res,
                        int *status, char *err, size_t errlen)
{
  struct report_head h;
  size_t off = sizeof(h);
  static const char *const steps[] = {"", "mount the run's view", "prepare fds", "fork",
                                      "rebuild the run from the spawner's request"};
  if (rep->len < sizeof(h)) {
    snprintf(err, errlen, "the sandbox supervisor died without a report");
    return -1;
  }
  memcpy(&h, rep->buf, sizeof(h));
  if (h.status < 0) {
    snprintf(err, errlen, "sandbox set-up failed: cannot %s: %s",
             steps[h.setup_step > 0 && h.setup_step < 5 ? h.setup_step : 0], strerror(h.setup_errno));
    return -1;
  }
  *status = h.status;
  res->copy.state = (enum sandbox_file_state)h.copy_state;
  res->copy.len = (size_t)h.copy_bytes;
  res->maxrss_kb = h.maxrss_kb;
  res->cpu_s = (double)h.cpu_ms / 1000.0;
  for (int i = 0; i < spec->noutputs; i++) {
    struct report_file rf;
    struct sandbox_file *f = &res->files[i];
    if (rep->len - off < sizeof(rf))
      break;
    memcpy(&rf, rep->buf + off, sizeof(rf));
    off += sizeof(rf);
    if (rf.len > SANDBOX_OUTPUT_MAX || rep->len - off < rf.len)
      break;
    f->state = (enum sandbox_file_state)rf.state;
    if (f->state == SANDBOX_FILE_OK) {
      f->data = malloc(rf.len + 1);
      if (f->data == NULL) {
        f->state = SANDBOX_FILE_UNREAD;
        break;
      }
      memcpy(f->data, rep->buf + off, rf.len);
      f->data[rf.len] = '\0';
      f->len = rf.len;
    }
    off += rf.len;
  }
  return 0;
}

void sandbox_classify(const struct runner_limits *lim, int via_bwrap, struct sandbox_result *res, int status)
{
  struct runner_result *r = &res->run;
  int sig = 0;
  if (WIFEXITED(status)) {
    r->exit_code = WEXITSTATUS(status);
    /* bwrap reports a program killed by signal S as exit 128+S */
    if (via_bwrap && r->exit_code > 128 && r->exit_code < 128 + 65)
      sig = r->exit_code - 128;
  } else if (WIFSIGNALED(status)) {
    sig = WTERMSIG(status);
  }
  if (sig != 0) {
    r->exit_code = -1;
    r->signal = sig;
  }
  if (r->timed_out) {
    res->limit = SANDBOX_LIMIT_WALL;
  } else if (sig == SIGXCPU || (sig == SIGKILL && res->cpu_s >= lim->cpu_s)) {
    res->limit = SANDBOX_LIMIT_CPU;
  } else if (r->exit_code != 0 &&
             ((double)res->maxrss_kb >= 0.8 * (double)lim->memory_mb * 1024.0 ||
              (r->err != NULL &&
               (strstr(r->err, "MemoryError") != NULL || strstr(r->err, "Cannot allocate memory") != NULL ||
                strstr(r->err, "out of memory") != NULL || strstr(r->err, "bad_alloc") != NULL)))) {
    res->limit = SANDBOX_LIMIT_MEMORY;
  }
}

/* Names bind I's places in the supervisor's view (see view()). Returns 0, or -1 when a path does not fit. */
static int view_names(struct prep *p, int i)
{
  struct stat st;
  const char *host = p->binds[i].host, *slash = strrchr(host, '/');
  p->view_is_dir[i] = stat(host, &st) == 0 && S_ISDIR(st.st_mode);
  snprintf(p->view_fd[i], sizeof(p->view_fd[i]), "/proc/self/fd/%d", VIEW_FD0 + i);
  snprintf(p->view_pfd[i], sizeof(p->view_pfd[i]), "/proc/self/fd/%d", VIEWP_FD0 + i);
  snprintf(p->view_stage[i], sizeof(p->view_stage[i]), "s%d", i);
  snprintf(p->view_mnt[i], sizeof(p->view_mnt[i]), "%s/b%d", VIEW_DIR, i);
  snprintf(p->view_lower[i], sizeof(p->view_lower[i]), "lowerdir=s%d:e", i);
  if (p->view_is_dir[i])
    return util_strlcpy(p->view_src[i], p->view_mnt[i], sizeof(p->view_src[i]));
  if (slash == NULL || slash[1] == '\0')
    return -1;
  size_t plen = slash == host ? 1 : (size_t)(slash - host);
  if (plen >= sizeof(p->view_parent[i]))
    return -1;
  memcpy(p->view_parent[i], host, plen);
  p->view_parent[i][plen] = '\0';
  return util_fmt(p->view_src[i], sizeof(p->view_src[i]), "%s/%s", p->view_mnt[i], slash + 1);
}

/* What the run's cgroup saw: the kernel killed a process for the whole run's memory (the per-process guess of
 * classify cannot see that), and the peak of the whole run. */
static void cgroup_limits(const struct cgroup_run *cgr, struct sandbox_result *res)
{
  long peak_kb = -1, oom = 0;
  cgroup_run_memory(cgr, &peak_kb, &oom);
  if (peak_kb > res->maxrss_kb)
    res->maxrss_kb = peak_kb;
  if (oom > 0 && res->limit == SANDBOX_LIMIT_NONE && res->run.exit_code != 0)
    res->limit = SANDBOX_LIMIT_MEMORY;
  long long cpu = cgroup_run_cpu_us(cgr);
  if (cpu >= 0 && (double)cpu / 1e6 > res->cpu_s)
    res->cpu_s = (double)cpu / 1e6;
}

/* Fills P for SPEC's run in SLOT, all but its cgroup: in the server, which reports what is wrong, and again in a
 * supervisor started by the spawner, from the same spec. Returns 0, or -1 with the reason in ERR. */
int sandbox_prep_fill(struct prep *p, const struct sandbox_spec *spec, int slot, char *err, size_t errlen)
{
  p->spec = spec;
  p->in_fd = spec->channel ? spec->channel_fd : -1;
  p->confined = sb.confined;
  p->privileged = sb.confined && sb.privileged;
  p->parent = getpid();
  p->uid = p->privileged ? (uid_t)(sb.uid_base + (unsigned)slot) : geteuid();
  snprintf(p->tmp_size, sizeof(p->tmp_size), "%ld", spec->tmp_mb * 1024 * 1024);
  snprintf(p->out_opts, sizeof(p->out_opts), "size=%ldm,nr_inodes=1024,mode=0700,uid=%u,gid=%u", spec->tmp_mb,
           (unsigned)p->uid, (unsigned)p->uid);
  if (!p->confined && spec->chdir != NULL && sandbox_inside_path(spec, spec->chdir, p->chdir, sizeof(p->chdir)) != 0) {
    snprintf(err, errlen, "working folder path too long");
    return -1;
  }
  if (spec->nbinds < 0 || spec->nbinds > SANDBOX_MAX_BINDS || spec->noutputs < 0 ||
      spec->noutputs > SANDBOX_MAX_OUTPUTS) {
    snprintf(err, errlen, "too many binds or outputs");
    return -1;
  }
  p->nbinds = spec->nbinds;
  p->root_bind = -1;
  memcpy(p->binds, spec->binds, sizeof(spec->binds));
  if (spec->rootfs != NULL) {
    p->root_bind = p->nbinds;
    p->binds[p->nbinds++] = (struct sandbox_bind){spec->rootfs, "/"};
  }
  for (int i = 0; i < p->nbinds; i++) {
    p->src[i] = p->binds[i].host;
    if (p->privileged && view_names(p, i) != 0) {
      snprintf(err, errlen, "bind source path too long");
      return -1;
    }
    if (p->privileged)
      p->src[i] = p->view_src[i];
  }
  snprintf(p->view_out, sizeof(p->view_out), "%s/out", VIEW_DIR);
  p->out_src = p->privileged ? p->view_out : spec->output_host;
  build_bwrap_args(p);
  if (p->a.overflow) {
    snprintf(err, errlen, "too many arguments");
    return -1;
  }
  return 0;
}

int sandbox_run(const struct sandbox_spec *spec, const atomic_int *stop, struct sandbox_result *res, char *err,
                size_t errlen)
{
  int outp[2] = {-1, -1}, errp[2] = {-1, -1}, infop[2] = {-1, -1}, repp[2] = {-1, -1}, bpfp[2] = {-1, -1},
      denyp[2] = {-1, -1};
  struct runner_stream st[4];
  struct prep *p = calloc(1, sizeof(*p));
  int slot = -1, rc = -1, status = 0, pidfd = -1, link = -1;
  pid_t pid = -1;
  memset(res, 0, sizeof(*res));
  memset(st, 0, sizeof(st));
  for (int i = 0; i < 4; i++)
    st[i].fd = -1;
  err[0] = '\0';
  if (p == NULL || !sb.initialized) {
    snprintf(err, errlen, p == NULL ? "out of memory" : "sandbox_init was not called");
    goto out;
  }
  slot = slot_acquire();
  if (cgroup_enabled() && cgroup_run_open(&p->cgr, slot, spec->limits.memory_mb, NPROC_MAX + 2, err, errlen) != 0)
    goto out;
  if (sandbox_prep_fill(p, spec, slot, err, errlen) != 0)
    goto out;
  if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0 || pipe2(infop, O_CLOEXEC) != 0 ||
      pipe2(repp, O_CLOEXEC) != 0 || pipe2(bpfp, O_CLOEXEC) != 0 || pipe2(denyp, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    goto out;
  }
  if (spec->merge_stderr) { /* stderr writes into stdout's pipe: one log, in the order it was written */
    close(errp[0]);
    close(errp[1]);
    errp[0] = -1;
    errp[1] = fcntl(outp[1], F_DUPFD_CLOEXEC, 0);
    if (errp[1] < 0) {
      snprintf(err, errlen, "dup: %s", strerror(errno));
      goto out;
    }
  }
  /* Each filter is a few KiB at most (sandbox_filter_build caps them at 32 KiB): it fits in its pipe, which bwrap
   * reads to the end. */
  if (write(bpfp[1], sb.bpf[0], sb.bpf_len[0]) != (ssize_t)sb.bpf_len[0] ||
      write(denyp[1], sb.bpf[1], sb.bpf_len[1]) != (ssize_t)sb.bpf_len[1]) {
    snprintf(err, errlen, "cannot hand the seccomp filter over");
    goto out;
  }
  close(bpfp[1]);
  close(denyp[1]);
  bpfp[1] = denyp[1] = -1;
  if (runner_stream_init(&st[0], outp[0], spec->limits.output_max) != 0 ||
      runner_stream_init(&st[1], errp[0], spec->limits.output_max) != 0 ||
      runner_stream_init(&st[2], infop[0], 4096) != 0 || runner_stream_init(&st[3], repp[0], REPORT_MAX) != 0) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  st[0].tee = st[1].tee = spec->tee;
  st[0].tee_arg = st[1].tee_arg = spec->tee_arg;
  outp[0] = errp[0] = infop[0] = repp[0] = -1;
  int64_t started = runner_now_ms();
  int spawn_fds[7] = {
    outp[1], errp[1], bpfp[0], denyp[0], infop[1], repp[1], spec->copy_name != NULL ? spec->copy_fd : -1};
  pid = sandbox_spawn_request(p, slot, spawn_fds, &pidfd, &link, err, errlen);
  if (pid == -2) {
    pid = -1;
    goto out;
  }
  if (pid < 0) { /* no spawner: the supervisor is forked from here */
    pid = fork();
    if (pid < 0) {
      snprintf(err, errlen, "fork: %s", strerror(errno));
      goto out;
    }
    if (pid == 0) {
      setpgid(0, 0);
      int bpf[2] = {bpfp[0], denyp[0]};
      sandbox_supervisor(p, outp[1], errp[1], bpf, infop[1], repp[1],
                         spec->copy_name != NULL ? fcntl(spec->copy_fd, F_DUPFD_CLOEXEC, 0) : -1);
    }
    setpgid(pid, pid);
  }
  close(outp[1]);
  close(errp[1]);
  close(infop[1]);
  close(repp[1]);
  close(bpfp[0]);
  close(denyp[0]);
  outp[1] = errp[1] = infop[1] = repp[1] = bpfp[0] = denyp[0] = -1;

  struct killer k = {
    &st[2], p->uid, p->privileged, p->cgr.n > 0 ? &p->cgr : NULL, ((long long)spec->limits.cpu_s + 1) * 1000000LL, 0};
  int killed = runner_watch(pid, st, 4, runner_now_ms() + (int64_t)spec->limits.wall_s * 1000, stop, check_run,
                            kill_run, &k, &res->run.timed_out);
  /* the supervisor exits once it has reaped the run (after a kill, its report meets a closed pipe); a supervisor
   * that does not within 5 s is killed with its whole group */
  int gone = 0;
  if (killed) {
    int64_t until = runner_now_ms() + 5000;
    for (;;) {
      gone = sandbox_supervisor_gone(pid, pidfd, 0);
      if (gone || runner_now_ms() >= until)
        break;
      usleep(2000);
    }
    if (!gone)
      kill(-pid, SIGKILL);
  }
  if (!gone)
    sandbox_supervisor_gone(pid, pidfd, 1);
  pid = -1;
  res->wall_ms = runner_now_ms() - started;
  res->run.truncated = st[0].truncated || st[1].truncated;
  res->run.out = st[0].buf;
  res->run.err = st[1].buf;
  st[0].buf = st[1].buf = NULL;
  if (killed) {
    res->stopped = !res->run.timed_out && !k.cpu_hit;
    res->run.exit_code = -1;
    res->run.signal = SIGKILL;
    if (res->run.timed_out)
      res->limit = SANDBOX_LIMIT_WALL;
    else if (k.cpu_hit)
      res->limit = SANDBOX_LIMIT_CPU;
    for (int i = 0; i < spec->noutputs; i++)
      res->files[i].state = SANDBOX_FILE_UNREAD;
    res->copy.state = SANDBOX_FILE_UNREAD;
    if (p->cgr.n > 0)
      cgroup_limits(&p->cgr, res);
    rc = 0;
    goto out;
  }
  if (parse_report(spec, &st[3], res, &status, err, errlen) != 0)
    goto out;
  sandbox_classify(&spec->limits, sb.confined, res, status);
  if (p->cgr.n > 0)
    cgroup_limits(&p->cgr, res);
  if (sb.confined && res->run.exit_code == 1 && strncmp(res->run.err, "bwrap: ", 7) == 0) {
    snprintf(err, errlen, "sandbox set-up failed: %.200s", res->run.err);
    goto out;
  }
  rc = 0;
out:
  if (pid > 0) {
    kill(-pid, SIGKILL);
    sandbox_supervisor_gone(pid, pidfd, 1);
  }
  if (pidfd >= 0)
    close(pidfd);
  if (link >= 0) /* the spawner reaps the supervisor now */
    close(link);
  int fds[] = {outp[0], outp[1], errp[0], errp[1], infop[0], infop[1],
               repp[0], repp[1], bpfp[0], bpfp[1], denyp[0], denyp[1]};
  for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
    if (fds[i] >= 0)
      close(fds[i]);
  }
  for (int i = 0; i < 4; i++)
    runner_stream_free(&st[i]);
  if (p != NULL)
    cgroup_run_close(&p->cgr); /* whatever is left of the run, then its folders */
  if (slot >= 0)
    slot_release(slot);
  free(p);
  return rc;
}

void sandbox_result_free(struct sandbox_result *res)
{
  runner_result_free(&res->run);
  for (int i = 0; i < SANDBOX_MAX_OUTPUTS; i++) {
    free(res->files[i].data);
    res->files[i].data = NULL;
  }
}

const char *sandbox_limit_name(enum sandbox_limit limit)
{
  switch (limit) {
  case SANDBOX_LIMIT_WALL:
    return "time";
  case SANDBOX_LIMIT_CPU:
    return "CPU time";
  case SANDBOX_LIMIT_MEMORY:
    return "memory";
  default:
    return "";
  }
}

int sandbox_inside_path(const struct sandbox_spec *spec, const char *inside, char *out, size_t n)
{
  if (sb.confined)
    return util_strlcpy(out, inside, n);
  if (spec->output_host != NULL && strncmp(inside, "/sandbox/output", 15) == 0 &&
      (inside[15] == '\0' || inside[15] == '/'))
    return util_fmt(out, n, "%s%s", spec->output_host, inside + 15);
  for (int i = 0; i < spec->nbinds; i++) {
    size_t len = strlen(spec->binds[i].inside);
    if (strncmp(inside, spec->binds[i].inside, len) == 0 && (inside[len] == '\0' || inside[len] == '/'))
      return util_fmt(out, n, "%s%s", spec->binds[i].host, inside + len);
  }
  return util_strlcpy(out, inside, n);
}

/* ------------------------------------------------------------------------------------------ staging */

int sandbox_stage_create(char *dir, size_t n)
{
  char name[40], rel[64];
  if (util_random_token(18, name, sizeof(name)) != 0 || util_fmt(rel, sizeof(rel), "tmp/run-%s", name) != 0 ||
      store_path(dir, n, rel) != 0 || mkdir(dir, 0755) != 0 || chmod(dir, 0755) != 0)
    return -1;
  return 0;
}

int sandbox_stage_file(const char *src, const char *dst)
{
  int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1, rc = -1;
  struct stat st;
  if (in < 0 || fstat(in, &st) != 0 || !S_ISREG(st.st_mode))
    goto out;
  /* A world-readable file (ground truth, program files: the data folder itself stays closed) is linked. */
  if ((st.st_mode & 0004) != 0 && link(src, dst) == 0) {
    rc = 0;
    goto out;
  }
  out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (out < 0 || fchmod(out, (st.st_mode & 0100) != 0 ? 0755 : 0644) != 0)
    goto out;
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      goto out;
    left -= n;
  }
  rc = 0;
out:
  if (in >= 0)
    close(in);
  if (out >= 0 && close(out) != 0)
    rc = -1;
  return rc;
}

static int stage_entry(const char *path, const char *rel, const struct stat *st, void *arg)
{
  char d[APP_PATH_MAX];
  if (util_fmt(d, sizeof(d), "%s/%s", (const char *)arg, rel) != 0)
    return -1;
  if (S_ISDIR(st->st_mode))
    return mkdir(d, 0755) == 0 && chmod(d, 0755) == 0 ? 0 : -1;
  return S_ISREG(st->st_mode) && sandbox_stage_file(path, d) == 0 ? 0 : -1;
}

int sandbox_stage_tree(const char *src, const char *dst, int depth)
{
  if (mkdir(dst, 0755) != 0 || chmod(dst, 0755) != 0)
    return -1;
  return util_walk(src, 16 - depth, 100000, stage_entry, (void *)dst) == 0 ? 0 : -1;
}

static int limit_field(json_t *o, const char *key, long long min, long long max, long long dflt, long long *v)
{
  json_t *x = json_object_get(o, key);
  *v = dflt;
  if (x == NULL)
    return 0;
  if (!json_is_integer(x) || json_integer_value(x) < min || json_integer_value(x) > max)
    return -1;
  *v = json_integer_value(x);
  return 0;
}

int sandbox_limits_parse(json_t *limits, int default_wall_s, struct runner_limits *l, char *err, size_t errlen)
{
  long long wall = 0, cpu = 0, mem = 0;
  const char *key;
  json_t *v;
  err[0] = '\0';
  if (limits != NULL && !json_is_object(limits)) {
    snprintf(err, errlen, "must be an object like {\"wall_s\": 600, \"cpu_s\": 600, \"memory_mb\": 4096}");
    return -1;
  }
  json_object_foreach(limits, key, v)
  {
    if (strcmp(key, "wall_s") != 0 && strcmp(key, "cpu_s") != 0 && strcmp(key, "memory_mb") != 0) {
      snprintf(err, errlen, "unknown key \"%.60s\" (known: wall_s, cpu_s, memory_mb)", key);
      return -1;
    }
  }
  if (limit_field(limits, "wall_s", 1, SANDBOX_WALL_MAX_S, default_wall_s, &wall) != 0) {
    snprintf(err, errlen, "wall_s must be an integer from 1 to %d (seconds)", SANDBOX_WALL_MAX_S);
    return -1;
  }
  if (limit_field(limits, "cpu_s", 1, SANDBOX_WALL_MAX_S, wall, &cpu) != 0) {
    snprintf(err, errlen, "cpu_s must be an integer from 1 to %d (seconds)", SANDBOX_WALL_MAX_S);
    return -1;
  }
  if (limit_field(limits, "memory_mb", SANDBOX_MEMORY_MIN_MB, SANDBOX_MEMORY_MAX_MB, SANDBOX_MEMORY_DEFAULT_MB, &mem) !=
      0) {
    snprintf(err, errlen, "memory_mb must be an integer from %d to %d", SANDBOX_MEMORY_MIN_MB, SANDBOX_MEMORY_MAX_MB);
    return -1;
  }
  l->wall_s = (int)wall;
  l->cpu_s = (int)cpu;
  l->memory_mb = (long)mem;
  l->file_mb = 64;
  l->output_max = 64 * 1024;
  return 0;
}

void sandbox_stage_remove(const char *dir)
{
  if (dir != NULL && dir[0] != '\0')
    store_remove_tree(dir);
}

/* ------------------------------------------------------------------------------------------ start-up */

static int self_test(char *err, size_t errlen)
{
  char *argv[] = {"/usr/bin/id", "-u", NULL};
  struct sandbox_spec spec;
  struct sandbox_result res;
  int rc = -1;
  memset(&spec, 0, sizeof(spec));
  spec.argv = argv;
  spec.limits = (struct runner_limits){10, 5, 512, 1, 4096};
  spec.tmp_mb = 1;
  if (sandbox_run(&spec, NULL, &res, err, errlen) != 0)
    goto out;
  if (res.run.exit_code != 0) {
    snprintf(err, errlen, "a confined run of /usr/bin/id failed (exit %d, signal %d): %.300s", res.run.exit_code,
             res.run.signal, res.run.err);
    goto out;
  }
  if (strcmp(res.run.out, "0\n") == 0) {
    snprintf(err, errlen, "the confined run ran as uid 0");
    goto out;
  }
  rc = 0;
out:
  sandbox_result_free(&res);
  return rc;
}

int sandbox_init(int insecure, char *err, size_t errlen)
{
  struct stat st;
  err[0] = '\0';
  sb.privileged = geteuid() == 0;
  sb.uid_base = (uid_t)(SANDBOX_UID_BASE + ((unsigned)getpid() % 4096u) * 64u);
  sb.have_alternatives = stat("/etc/alternatives", &st) == 0 && S_ISDIR(st.st_mode);
  sb.have_ldcache = stat("/etc/ld.so.cache", &st) == 0 && S_ISREG(st.st_mode);
  sb.initialized = 1;
  if (insecure) {
    sb.confined = 0;
    fprintf(stderr, "concours: WARNING: --insecure-no-sandbox: scoring programs run WITHOUT confinement (no "
                    "namespaces, no seccomp, no uid change). Never use this with real submissions.\n");
    sandbox_spawner_start();
    return 0;
  }
  sb.confined = 1;
  if (access(BWRAP, X_OK) != 0) {
    snprintf(err, errlen, "%s is missing (install Debian's bubblewrap: scripts/install-deps.sh)", BWRAP);
    goto fail;
  }
  if ((sb.bpf[0] == NULL && sandbox_filter_build(0, &sb.bpf[0], &sb.bpf_len[0], err, errlen) != 0) ||
      (sb.bpf[1] == NULL && sandbox_filter_build(1, &sb.bpf[1], &sb.bpf_len[1], err, errlen) != 0))
    goto fail;
  sandbox_spawner_start(); /* with the filters and sb as runs need them: the self-test goes through it */
  if (self_test(err, errlen) != 0) {
    size_t len = strlen(err);
    snprintf(err + len, errlen - len,
             " (are unprivileged user namespaces enabled? see "
             "user.max_user_namespaces and kernel.apparmor_restrict_unprivileged_userns)");
    goto fail;
  }
  return 0;
fail:
  sandbox_shutdown(); /* the spawner holds the state it was started with */
  sb.confined = 0;
  sb.initialized = 0;
  return -1;
}

int sandbox_confined(void)
{
  return sb.confined;
}
