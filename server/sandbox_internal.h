/* sandbox_internal.h: what sandbox.c (a run: prepared in the server, confined and watched by its supervisor) and
 * sandbox_spawner.c (the small process that forks supervisors for the server) share, and only they. */
#ifndef CONCOURS_SANDBOX_INTERNAL_H
#define CONCOURS_SANDBOX_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#include "app.h"
#include "cgroup.h"
#include "sandbox.h"

#define SANDBOX_MAX_RUNS 64  /* runs at once: each has a uid of its own */
#define SANDBOX_MAX_ARGS 192 /* words of a run's bwrap command line */

/* The bwrap command line of a run, built by the parent (sandbox.c) before any fork. */
struct args {
  char *v[SANDBOX_MAX_ARGS + 1];
  int n, overflow;
};

/* What the parent prepares for the supervisor and the run. */
struct prep {
  struct args a;
  char tmp_size[24], out_opts[128], chdir[APP_PATH_MAX];
  /* privileged runs: where the supervisor re-mounts each bind source (VIEW_DIR/bN for a folder, VIEW_DIR/bN/NAME
   * for a file) and the output tmpfs (VIEW_DIR/out), so that the sandbox uid needs no search permission on the
   * source's folders; see view() */
  char view_src[SANDBOX_MAX_BINDS + 1][APP_PATH_MAX], view_fd[SANDBOX_MAX_BINDS + 1][32], view_out[24];
  char view_pfd[SANDBOX_MAX_BINDS + 1][32], view_mnt[SANDBOX_MAX_BINDS + 1][24], view_stage[SANDBOX_MAX_BINDS + 1][24];
  char view_lower[SANDBOX_MAX_BINDS + 1][32];            /* overlay options: "lowerdir=sN:e", relative to VIEW_DIR */
  char view_parent[SANDBOX_MAX_BINDS + 1][APP_PATH_MAX]; /* a file source's folder */
  int view_is_dir[SANDBOX_MAX_BINDS + 1];
  const char *src[SANDBOX_MAX_BINDS + 1], *out_src;
  /* the spec's binds, then its root file system (inside "/") when it names one */
  struct sandbox_bind binds[SANDBOX_MAX_BINDS + 1];
  int nbinds, root_bind;
  const struct sandbox_spec *spec;
  uid_t uid;
  int confined, privileged;
  pid_t parent;
  struct cgroup_run cgr; /* the run's cgroup (n == 0: none); its procs fds are lifted by the supervisor */
  int in_fd;             /* the run's stdin: the spec's channel (its fd in this process), or -1 for /dev/null */
};

/* The head of a supervisor's report to the server (the files copied out follow it). */
struct report_head {
  int status;      /* wait status of the run, or -1 when it could not be started */
  int setup_errno; /* errno of the failed supervisor step, 0 when none */
  int setup_step;  /* which step failed (1 mount, 2 fds, 3 fork, 4 the spawner's request) */
  long maxrss_kb;
  long cpu_ms;
  int copy_state;       /* spec->copy_name: an enum sandbox_file_state */
  long long copy_bytes; /* bytes copied */
};

/* Fills P for SPEC's run in SLOT, all but its cgroup: in the server, which reports what is wrong, and again in a
 * supervisor started by the spawner, from the same spec. Returns 0, or -1 with the reason in ERR. */
int sandbox_prep_fill(struct prep *p, const struct sandbox_spec *spec, int slot, char *err, size_t errlen);
/* The supervisor of P's run, in a process of its own (forked by the server or the spawner, P->parent): builds the
 * run's view, moves the fds OUT, ERR, BPF (allow-list, deny-list), INFO, REP (the report) and COPY (-1: none) where
 * bwrap expects them, runs it, then writes the report (struct report_head, then the files) to REP. Never returns. */
void sandbox_supervisor(struct prep *p, int out, int err, int bpf[2], int info, int rep, int copy);
/* The run's exit code or signal (RES->run) from its wait STATUS (VIA_BWRAP: bwrap's, which says 128+S for a
 * program killed by signal S), and the limit of LIM it hit, if any, from the signal and RES's CPU time and memory. */
void sandbox_classify(const struct runner_limits *lim, int via_bwrap, struct sandbox_result *res, int status);
/* Sends LEN bytes of BUF as one message on the SOCK_SEQPACKET socket SOCK, with the NFDS (at most
 * SANDBOX_SEND_FDS_MAX) fds FDS (SCM_RIGHTS), never raising SIGPIPE. Returns 0 once the whole message is sent, else
 * -1. */
#define SANDBOX_SEND_FDS_MAX 9
int sandbox_send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds);
/* Writes the N bytes of BUF to FD, again after EINTR; stops at another error (async-signal-safe). */
void sandbox_write_all(int fd, const void *buf, size_t n);

/* Forks the spawner (once, from sandbox_init). Without it, runs are forked from the server. */
void sandbox_spawner_start(void);
/* Asks the spawner for P's supervisor (slot SLOT), with FDS: out, err, allow-list, deny-list, info, report, copy
 * (or -1), then P->in_fd when >= 0. Returns its pid with *PIDFD (readable once it exited) and *LINK (closing it
 * lets the spawner reap it); -1 when there is no spawner (the caller forks), -2 when the request failed (ERR, size
 * ERRLEN, says why). */
pid_t sandbox_spawn_request(const struct prep *p, int slot, const int fds[7], int *pidfd, int *link, char *err,
                            size_t errlen);
/* Waits for the supervisor PID (through PIDFD when the spawner started it, else as the server's child): 1 once it
 * is gone, 0 while it runs and BLOCK is 0. */
int sandbox_supervisor_gone(pid_t pid, int pidfd, int block);

#endif
