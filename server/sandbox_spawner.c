/* sandbox_spawner.c: the spawner, the process that forks each run's supervisor for the server (see below), and the
 * server's side of it: the request (the run's spec and fds on a socket), the supervisor's pid and pidfd back. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "sandbox.h"
#include "sandbox_internal.h"

/* A run's supervisor lives as long as the run. Forked from the server, it would share the server's pages (gigabytes
 * at a million submissions) copy-on-write for that long, and every page the server wrote meanwhile would become a
 * copy-on-write fault: a whole export at 1M submissions took 8-13 s alone and 50 s while runs went on. So
 * supervisors are forked from the spawner, a process sandbox_init forks while the server is still small and
 * single-threaded. The server sends it each run's spec and fds (SCM_RIGHTS) on a socket, with a socket of the run's
 * own; the spawner forks the supervisor, which rebuilds the run's prep from the spec as the server did
 * (sandbox_prep_fill), and answers on the run's socket with the supervisor's pid and a pidfd, which the server polls
 * for its end. The spawner reaps a supervisor once the server closes the run's socket, so a pid the server may still
 * signal is never recycled meanwhile. It dies with the server (parent-death signal), and its supervisors with it.
 * When the spawner is gone, the server forks supervisors itself, as before. */

#define SPAWN_MAGIC 0x636f6e63u
#define SPAWN_MSG_MAX (64 * 1024)
#define SPAWN_FIXED_FDS 7 /* the run's socket, then out, err, allow-list, deny-list, info, report */
#define SPAWN_FDS_MAX (SPAWN_FIXED_FDS + 2 + CGROUP_MAX_HIER) /* then the copy fd, stdin, the cgroups' */
#define SPAWN_ARGV_MAX SANDBOX_MAX_ARGS
#define SPAWN_KIDS (2 * SANDBOX_MAX_RUNS)

static atomic_int spawner_sock = -1; /* the server's end, -1 without a spawner */
static pid_t spawner_pid = -1;

/* The fixed part of a request; the spec's strings follow (see pack_str). */
struct spawn_head {
  uint32_t magic;
  int slot;
  struct runner_limits limits;
  long tmp_mb;
  int nbinds, noutputs, copy_folder, merge_stderr, has_copy, has_in, pid1, no_tmp;
  struct cgroup_run cgr; /* its fds: the ones received, in order, where the server's were >= 0 */
};

struct packer {
  char *buf;
  size_t len, cap;
  int overflow;
};

/* A string as its 32-bit length (UINT32_MAX for NULL), then its bytes and a NUL. */
static void pack_str(struct packer *k, const char *s)
{
  size_t n = s != NULL ? strlen(s) : 0;
  uint32_t len = s != NULL ? (uint32_t)n : UINT32_MAX;
  if (k->overflow || n >= UINT32_MAX || sizeof(len) + n + 1 > k->cap - k->len) {
    k->overflow = 1;
    return;
  }
  memcpy(k->buf + k->len, &len, sizeof(len));
  k->len += sizeof(len);
  if (s != NULL) {
    memcpy(k->buf + k->len, s, n + 1);
    k->len += n + 1;
  }
}

/* The strings of V up to its first NULL (at most MAX): their count as a string's length, then each. */
static void pack_list(struct packer *k, const char *const *v, int max)
{
  uint32_t n = 0;
  while ((int)n < max && v[n] != NULL)
    n++;
  if (k->overflow || sizeof(n) > k->cap - k->len) {
    k->overflow = 1;
    return;
  }
  memcpy(k->buf + k->len, &n, sizeof(n));
  k->len += sizeof(n);
  for (uint32_t i = 0; i < n; i++)
    pack_str(k, v[i]);
}

struct unpacker {
  char *buf;
  size_t len, off;
  int bad;
};

static uint32_t unpack_u32(struct unpacker *u)
{
  uint32_t v = 0;
  if (u->bad || u->len - u->off < sizeof(v)) {
    u->bad = 1;
    return 0;
  }
  memcpy(&v, u->buf + u->off, sizeof(v));
  u->off += sizeof(v);
  return v;
}

/* The next string (pointing into the buffer), or NULL (also when the buffer is malformed: u->bad). */
static char *unpack_str(struct unpacker *u)
{
  uint32_t n = unpack_u32(u);
  if (u->bad || n == UINT32_MAX)
    return NULL;
  char *s = u->buf + u->off;
  if ((size_t)n >= u->len - u->off || s[n] != '\0' || memchr(s, '\0', n) != NULL) {
    u->bad = 1;
    return NULL;
  }
  u->off += (size_t)n + 1;
  return s;
}

/* Fills V[0..MAX) with a list of strings, NULL after the last. */
static void unpack_list(struct unpacker *u, const char **v, int max)
{
  uint32_t n = unpack_u32(u);
  if (n > (uint32_t)max)
    u->bad = 1;
  for (int i = 0; i < max; i++)
    v[i] = !u->bad && (uint32_t)i < n ? unpack_str(u) : NULL;
}

/* Writes the request for P's run (slot SLOT) into K. */
static void spawn_pack(const struct prep *p, int slot, struct packer *k)
{
  const struct sandbox_spec *s = p->spec;
  struct spawn_head h;
  memset(&h, 0, sizeof(h));
  h.magic = SPAWN_MAGIC;
  h.slot = slot;
  h.limits = s->limits;
  h.tmp_mb = s->tmp_mb;
  h.nbinds = s->nbinds;
  h.noutputs = s->noutputs;
  h.copy_folder = s->copy_folder;
  h.merge_stderr = s->merge_stderr;
  h.has_copy = s->copy_name != NULL && s->copy_fd >= 0;
  h.has_in = p->in_fd >= 0;
  h.pid1 = s->pid1;
  h.no_tmp = s->no_tmp;
  h.cgr = p->cgr;
  if (sizeof(h) > k->cap) {
    k->overflow = 1;
    return;
  }
  memcpy(k->buf, &h, sizeof(h));
  k->len = sizeof(h);
  for (int n = 0; s->argv[n] != NULL; n++) {
    if (n >= SPAWN_ARGV_MAX) { /* (build_bwrap_args refuses far fewer) */
      k->overflow = 1;
      return;
    }
  }
  pack_list(k, (const char *const *)s->argv, SPAWN_ARGV_MAX);
  for (int i = 0; i < s->nbinds; i++) {
    pack_str(k, s->binds[i].host);
    pack_str(k, s->binds[i].inside);
  }
  for (int i = 0; i < s->noutputs; i++)
    pack_str(k, s->outputs[i]);
  pack_str(k, s->output_host);
  pack_str(k, s->chdir);
  pack_str(k, s->output_inside);
  pack_str(k, s->copy_name);
  pack_str(k, s->rootfs);
  pack_list(k, s->env, SANDBOX_MAX_ENV);
  pack_list(k, s->devices, SANDBOX_MAX_DEVICES);
}

/* In a supervisor forked by the spawner: the spec and prep of the request BUF (LEN bytes) whose NFDS fds are FDS
 * (the run's socket first), then the supervisor itself. PARENT is the spawner. Never returns. */
static void spawned_supervisor(char *buf, size_t len, const int *fds, int nfds, pid_t parent)
{
  static struct prep p;
  static struct sandbox_spec s;
  static char *argv[SPAWN_ARGV_MAX + 1];
  struct report_head fail = {-1, EINVAL, 4, 0, 0, SANDBOX_FILE_UNREAD, 0};
  struct unpacker u = {buf, len, sizeof(struct spawn_head), 0};
  struct spawn_head h;
  char err[256];
  sigset_t term;
  int need = SPAWN_FIXED_FDS;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  /* as a supervisor forked by the server starts: its own process group, SIGTERM blocked until its handler is set */
  if (setpgid(0, 0) != 0 || sigprocmask(SIG_BLOCK, &term, NULL) != 0)
    _exit(125);
  memcpy(&h, buf, sizeof(h));
  h.has_copy = h.has_copy != 0;
  h.has_in = h.has_in != 0;
  for (int i = 0; i < h.cgr.n && i < CGROUP_MAX_HIER; i++)
    need += h.cgr.procs_fd[i] >= 0;
  need += h.has_copy + h.has_in;
  memset(&s, 0, sizeof(s));
  unpack_list(&u, (const char **)argv, SPAWN_ARGV_MAX);
  s.argv = argv;
  if (h.nbinds < 0 || h.nbinds > SANDBOX_MAX_BINDS || h.noutputs < 0 || h.noutputs > SANDBOX_MAX_OUTPUTS)
    u.bad = 1;
  s.nbinds = u.bad ? 0 : h.nbinds;
  s.noutputs = u.bad ? 0 : h.noutputs;
  for (int i = 0; i < s.nbinds; i++) {
    s.binds[i].host = unpack_str(&u);
    s.binds[i].inside = unpack_str(&u);
  }
  for (int i = 0; i < s.noutputs; i++)
    s.outputs[i] = unpack_str(&u);
  s.output_host = unpack_str(&u);
  s.chdir = unpack_str(&u);
  s.output_inside = unpack_str(&u);
  s.copy_name = unpack_str(&u);
  s.rootfs = unpack_str(&u);
  unpack_list(&u, s.env, SANDBOX_MAX_ENV);
  unpack_list(&u, s.devices, SANDBOX_MAX_DEVICES);
  s.limits = h.limits;
  s.tmp_mb = h.tmp_mb;
  s.copy_folder = h.copy_folder;
  s.merge_stderr = h.merge_stderr;
  s.copy_fd = -1;
  s.pid1 = h.pid1 != 0;
  s.no_tmp = h.no_tmp != 0;
  s.channel = h.has_in; /* its fd: set in P below, once prep_fill has set it to -1 */
  s.channel_fd = -1;
  if (u.bad || nfds != need || h.cgr.n < 0 || h.cgr.n > CGROUP_MAX_HIER || argv[0] == NULL ||
      sandbox_prep_fill(&p, &s, h.slot, err, sizeof(err)) != 0) {
    if (nfds >= SPAWN_FIXED_FDS)
      sandbox_write_all(fds[6], &fail, sizeof(fail));
    _exit(125);
  }
  p.parent = parent;
  p.cgr = h.cgr;
  int next = SPAWN_FIXED_FDS + h.has_copy;
  p.in_fd = h.has_in ? fds[next++] : -1;
  for (int i = 0; i < h.cgr.n; i++) {
    if (h.cgr.procs_fd[i] >= 0)
      p.cgr.procs_fd[i] = fds[next++];
  }
  int bpf[2] = {fds[3], fds[4]};
  close(fds[0]);
  sandbox_supervisor(&p, fds[1], fds[2], bpf, fds[5], fds[6], h.has_copy ? fds[SPAWN_FIXED_FDS] : -1);
}

int sandbox_send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
  union {
    char space[CMSG_SPACE(SPAWN_FDS_MAX * sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {(void *)buf, len};
  struct msghdr m = {NULL, 0, &iov, 1, NULL, 0, 0};
  if (nfds < 0 || nfds > SPAWN_FDS_MAX)
    return -1;
  _Static_assert(SPAWN_FDS_MAX >= SANDBOX_SEND_FDS_MAX, "sandbox_send_fds takes SANDBOX_SEND_FDS_MAX fds");
  if (nfds > 0) {
    memset(&ctl, 0, sizeof(ctl));
    m.msg_control = ctl.space;
    m.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
  }
  return sendmsg(sock, &m, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Receives one message of at most CAP bytes on SOCK into BUF, and its fds (close-on-exec) into FDS, *NFDS their
 * count (at most MAX: more are closed). Returns its length (0: the peer closed its end), -1 with errno set, or -2
 * when the message or its fds were cut short (then none is kept). */
static ssize_t recv_fds(int sock, void *buf, size_t cap, int *fds, int max, int *nfds)
{
  union {
    char space[CMSG_SPACE(SPAWN_FDS_MAX * sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {buf, cap};
  struct msghdr m = {NULL, 0, &iov, 1, ctl.space, sizeof(ctl.space), 0};
  ssize_t got = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
  *nfds = 0;
  if (got < 0)
    return -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (*nfds < max)
        fds[(*nfds)++] = fd;
      else
        close(fd);
    }
  }
  if ((m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    while (*nfds > 0)
      close(fds[--*nfds]);
    return -2;
  }
  return got;
}

struct kid {
  pid_t pid;
  int link; /* the spawner's end of the run's socket; -1: free */
};

/* Sends PID, and PIDFD unless it is -1, on the run's socket LINK. Returns 0, or -1 when the server did not get it. */
static int send_pid(int link, pid_t pid, int pidfd)
{
  return sandbox_send_fds(link, &pid, sizeof(pid), &pidfd, pidfd >= 0);
}

/* Forks the supervisor of the request BUF (LEN bytes, NFDS fds FDS, the run's socket first) and answers on that
 * socket: the supervisor's pid and a pidfd, or -1 when there is none (the server then forks one itself). The
 * supervisor starts only once the answer is sent (a byte on the GO pipe): one the server never heard of never
 * runs. SOCK and KIDS are the spawner's, closed in the supervisor. Returns its pid, or -1. */
static pid_t spawn_supervisor(char *buf, size_t len, const int *fds, int nfds, int sock, const struct kid *kids)
{
  int go[2] = {-1, -1}, pidfd = -1, sent = 0;
  pid_t me = getpid(), pid = -1;
  if (pipe2(go, O_CLOEXEC) == 0) {
    pid = fork();
    if (pid == 0) {
      char c;
      close(go[1]);
      close(sock);
      for (int i = 0; i < SPAWN_KIDS; i++) {
        if (kids[i].link >= 0)
          close(kids[i].link);
      }
      if (read(go[0], &c, 1) != 1)
        _exit(0);
      close(go[0]);
      spawned_supervisor(buf, len, fds, nfds, me);
    }
    close(go[0]);
  }
  if (pid > 0) {
    setpgid(pid, pid); /* also here, so that the group exists whichever runs first */
    pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  }
  if (pid > 0 && pidfd >= 0) {
    sent = send_pid(fds[0], pid, pidfd) == 0;
    if (sent && write(go[1], "g", 1) == 1) {
      close(pidfd);
      close(go[1]);
      return pid;
    }
  }
  /* no supervisor for this run: it never started (its GO pipe closes unwritten) */
  if (go[1] >= 0)
    close(go[1]);
  if (pidfd >= 0)
    close(pidfd);
  if (pid > 0) {
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
  }
  if (!sent)
    (void)send_pid(fds[0], -1, -1);
  return -1;
}

/* Receives one request on SOCK (0 when the server closed it: the spawner exits), forks its supervisor and
 * answers on the run's socket, which joins KIDS. */
static int spawn_one(int sock, struct kid *kids, char *buf)
{
  int fds[SPAWN_FDS_MAX], nfds = 0, slot = -1;
  ssize_t got = recv_fds(sock, buf, SPAWN_MSG_MAX, fds, SPAWN_FDS_MAX, &nfds);
  if (got == -2) /* cut short: dropped, its fds closed (the server sees the run's socket close, and gives the run up) */
    return 1;
  if (got <= 0)
    return got == 0 || errno != EINTR ? 0 : 1;
  uint32_t magic = 0;
  if ((size_t)got >= sizeof(magic))
    memcpy(&magic, buf, sizeof(magic));
  for (int i = 0; i < SPAWN_KIDS && slot < 0; i++) {
    if (kids[i].link < 0)
      slot = i;
  }
  if ((size_t)got >= sizeof(struct spawn_head) && magic == SPAWN_MAGIC && nfds >= SPAWN_FIXED_FDS && slot >= 0) {
    pid_t pid = spawn_supervisor(buf, (size_t)got, fds, nfds, sock, kids);
    if (pid > 0) {
      kids[slot].pid = pid;
      kids[slot].link = fds[0];
      fds[0] = -1;
    }
  }
  for (int i = 0; i < nfds; i++) {
    if (fds[i] >= 0)
      close(fds[i]);
  }
  return 1;
}

/* Ends the supervisor K holds (killed, reaped: its pid is free again) and frees K. */
static void end_kid(struct kid *k)
{
  kill(k->pid, SIGKILL);
  while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  close(k->link);
  *k = (struct kid){-1, -1};
}

/* The spawner's loop: requests on SOCK, and the end of each run (the server closed its socket: the supervisor is
 * gone or must go), then reaps it. Never returns. */
static void spawner(int sock, pid_t server)
{
  static struct kid kids[SPAWN_KIDS];
  static char buf[SPAWN_MSG_MAX];
  struct pollfd pfd[SPAWN_KIDS + 1];
  sigset_t all;
  /* it lives and dies with the server: no terminal signal reaches it on its own */
  sigfillset(&all);
  sigdelset(&all, SIGCHLD);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != server || sigprocmask(SIG_SETMASK, &all, NULL) != 0 ||
      signal(SIGPIPE, SIG_IGN) == SIG_ERR)
    _exit(0);
  /* nothing of what the process held at start: every run's fds come with its request. The server's stdin and
   * stdout become /dev/null (whoever reads the server's output sees its end when the server ends); its stderr
   * stays, for what a supervisor says before its run's capture is set up. */
  if (sock != 3 && (dup2(sock, 3) != 3 || close(sock) != 0))
    _exit(1);
  sock = 3;
  closefrom(4);
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0 || dup2(devnull, 0) != 0 || dup2(devnull, 1) != 1)
    _exit(1);
  if (devnull > 2)
    close(devnull);
  for (int i = 0; i < SPAWN_KIDS; i++)
    kids[i] = (struct kid){-1, -1};
  for (;;) {
    int n = 1;
    pfd[0] = (struct pollfd){sock, POLLIN, 0};
    for (int i = 0; i < SPAWN_KIDS; i++) {
      if (kids[i].link >= 0)
        pfd[n++] = (struct pollfd){kids[i].link, 0, 0};
    }
    if (poll(pfd, (nfds_t)n, -1) < 0) {
      if (errno == EINTR)
        continue;
      _exit(1);
    }
    for (int i = 0, j = 1; i < SPAWN_KIDS; i++) {
      if (kids[i].link < 0)
        continue;
      if (pfd[j++].revents != 0) /* the server is done with this run */
        end_kid(&kids[i]);
    }
    if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && spawn_one(sock, kids, buf) == 0)
      break;
  }
  /* the server closed the socket (sandbox_shutdown): no supervisor outlives the spawner */
  for (int i = 0; i < SPAWN_KIDS; i++) {
    if (kids[i].link >= 0)
      end_kid(&kids[i]);
  }
  _exit(0);
}

/* Forks the spawner (once, from sandbox_init). Without it, runs are forked from the server. */
void sandbox_spawner_start(void)
{
  int sv[2];
  if (atomic_load(&spawner_sock) >= 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return;
  pid_t server = getpid(), pid = fork();
  if (pid == 0) {
    close(sv[0]);
    spawner(sv[1], server);
  }
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    return;
  }
  spawner_pid = pid;
  atomic_store(&spawner_sock, sv[0]);
}

/* The spawner sees its socket close, ends its supervisors and exits; it is reaped here. */
void sandbox_shutdown(void)
{
  int sock = atomic_exchange(&spawner_sock, -1);
  if (sock < 0)
    return;
  close(sock);
  while (waitpid(spawner_pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

pid_t sandbox_spawner(void)
{
  return atomic_load(&spawner_sock) >= 0 ? spawner_pid : -1;
}

/* Asks the spawner for P's supervisor (slot SLOT), with FDS: out, err, allow-list, deny-list, info, report, copy
 * (or -1). Returns its pid with *PIDFD (readable once it exited) and *LINK (closing it lets the spawner reap it);
 * -1 when there is no spawner (the caller forks), -2 when the request failed (ERR says why). */
pid_t sandbox_spawn_request(const struct prep *p, int slot, const int fds[7], int *pidfd, int *link, char *err,
                            size_t errlen)
{
  int sock = atomic_load(&spawner_sock), sv[2] = {-1, -1}, all[SPAWN_FDS_MAX], n = 0;
  struct packer k = {NULL, 0, SPAWN_MSG_MAX, 0};
  pid_t pid = -1;
  *pidfd = *link = -1;
  if (sock < 0)
    return -1;
  k.buf = malloc(SPAWN_MSG_MAX);
  if (k.buf == NULL || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    snprintf(err, errlen, "cannot ask the sandbox's spawner: %s", strerror(errno));
    pid = -2;
    goto out;
  }
  spawn_pack(p, slot, &k);
  if (k.overflow) {
    snprintf(err, errlen, "the run's description is too large");
    pid = -2;
    goto out;
  }
  all[n++] = sv[1];
  for (int i = 0; i < 6; i++)
    all[n++] = fds[i];
  if (fds[6] >= 0)
    all[n++] = fds[6];
  if (p->in_fd >= 0)
    all[n++] = p->in_fd;
  for (int i = 0; i < p->cgr.n; i++) {
    if (p->cgr.procs_fd[i] >= 0)
      all[n++] = p->cgr.procs_fd[i];
  }
  if (sandbox_send_fds(sock, k.buf, k.len, all, n) != 0) { /* the spawner is gone: fork from here from now on */
    if (atomic_compare_exchange_strong(&spawner_sock, &sock, -1)) {
      close(sock);
      waitpid(spawner_pid, NULL, WNOHANG);
    }
    goto out;
  }
  close(sv[1]);
  sv[1] = -1;
  /* the answer: the supervisor's pid and a pidfd, within 30 s (the spawner does nothing else that takes time) */
  pid_t got = -1;
  int fd = -1, nfd = 0, ready;
  struct pollfd pfd = {sv[0], POLLIN, 0};
  do
    ready = poll(&pfd, 1, 30000);
  while (ready < 0 && errno == EINTR);
  ssize_t len = ready > 0 ? recv_fds(sv[0], &got, sizeof(got), &fd, 1, &nfd) : -1;
  if (len != (ssize_t)sizeof(got) || nfd != 1 || got <= 0) {
    if (nfd == 1)
      close(fd);
    /* a clear "no" (it could not fork, or has no pidfd to give): no supervisor exists, the caller forks one */
    if (len == (ssize_t)sizeof(got) && got == -1)
      goto out;
    snprintf(err, errlen, "the sandbox's spawner could not start the run");
    pid = -2;
    goto out;
  }
  *pidfd = fd;
  *link = sv[0];
  sv[0] = -1;
  pid = got;
out:
  if (sv[0] >= 0)
    close(sv[0]);
  if (sv[1] >= 0)
    close(sv[1]);
  free(k.buf);
  return pid;
}

/* Waits for the supervisor PID (through PIDFD when the spawner started it, else as the server's child): 1 once it
 * is gone, 0 while it runs and BLOCK is 0. */
int sandbox_supervisor_gone(pid_t pid, int pidfd, int block)
{
  if (pidfd >= 0) {
    struct pollfd pfd = {pidfd, POLLIN, 0};
    int r;
    do
      r = poll(&pfd, 1, block ? -1 : 0);
    while (r < 0 && errno == EINTR);
    return r != 0;
  }
  pid_t w;
  do
    w = waitpid(pid, NULL, block ? 0 : WNOHANG);
  while (w < 0 && errno == EINTR);
  return w != 0;
}
