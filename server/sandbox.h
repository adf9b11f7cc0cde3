/* sandbox.h: every scoring run (the built-in concours-score and organizers' programs) runs confined here,
 * because it parses files written by strangers and may be code written by strangers (SECURITY.md §Sandbox).
 *
 * How: a small supervisor (root, single-threaded) is forked for the run by the spawner, a process sandbox_init forks
 * while the server is still small (so that runs never share the grown server's pages; see sandbox.c). It enters a private mount namespace in
 * which it bind-mounts the run's inputs (staged under DATA/tmp) at /tmp/bN of that namespace only, so that the
 * unprivileged uid needs no access to the data folder, and mounts a size-capped tmpfs for the run's output;
 * then it forks the run itself, which takes rlimits, drops to
 * an unprivileged uid of its own (never 0; one uid per concurrent run, so RLIMIT_NPROC binds per run) and
 * execs bubblewrap: new user, PID, network, IPC, UTS and cgroup namespaces, --die-with-parent, --new-session,
 * a read-only view of /usr and of the binds the caller names, /proc of the new PID namespace only, /dev with null, zero and urandom,
 * a size-capped /tmp, an empty environment plus a whitelist, fds 0-2 only, and a seccomp filter (libseccomp,
 * loaded by bubblewrap just before exec). When the run ends the supervisor reads the named output files
 * (O_NOFOLLOW, regular files only, size-capped) and reports them with the run's status and resource usage
 * through a pipe. A deadline or a server stop kills the PID namespace's init, which kills every process in
 * it, and waits until it is gone.
 *
 * With --insecure-no-sandbox (development only) the same supervisor runs the program directly under rlimits. */
#ifndef CONCOURS_SANDBOX_H
#define CONCOURS_SANDBOX_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "runner.h"

#define SANDBOX_MAX_BINDS 6
#define SANDBOX_MAX_OUTPUTS 2
#define SANDBOX_MAX_ENV 8              /* strings of sandbox_spec.env: name, value pairs */
#define SANDBOX_MAX_DEVICES 20         /* device nodes of sandbox_spec.devices */
#define SANDBOX_OUTPUT_MAX (64 * 1024) /* bytes read of one output file */
#define SANDBOX_UID_BASE                                                                                               \
  1900000000u /* run N (0..63) of server process P runs as uid/gid
                                         SANDBOX_UID_BASE + (P mod 4096) * 64 + N */

/* Checks that the sandbox works on this host (bubblewrap present, unprivileged user namespaces, seccomp,
 * a run of /usr/bin/true confined) unless INSECURE, in which case it logs loudly that runs are not confined.
 * Returns 0, or -1 with the reason in ERR. Call once at start-up, before any sandbox_run. */
int sandbox_init(int insecure, char *err, size_t errlen);
/* The system calls a confined run may make (seccomp's allow-list; some with their arguments checked), N set to
 * their count. Static storage. */
const char *const *sandbox_allowed_syscalls(size_t *n);
/* 1 when runs are confined (sandbox_init succeeded without INSECURE). */
int sandbox_confined(void);
/* The pid of the spawner, the small process sandbox_init forks, from which each run's supervisor is forked (see
 * sandbox.c); -1 when there is none (then the server forks them). */
pid_t sandbox_spawner(void);
/* Ends the spawner and waits for it (it ends the supervisors it still holds first). Call at exit, once no
 * sandbox_run is in progress: after it, runs are forked from the calling process. */
void sandbox_shutdown(void);

/* A read-only bind: the host file or folder HOST appears at INSIDE (an absolute path under /sandbox). */
#define SANDBOX_PACK_ENTRIES 4096 /* entries of an output folder packed by copy_folder */

struct sandbox_bind {
  const char *host;
  const char *inside;
};

struct sandbox_spec {
  char *const *argv; /* argv[0] absolute; paths as the program sees them (see sandbox_inside_path) */
  struct sandbox_bind binds[SANDBOX_MAX_BINDS];
  int nbinds;
  const char *output_host; /* an empty folder (in DATA/tmp): its tmpfs appears at /sandbox/output; or NULL */
  const char *outputs[SANDBOX_MAX_OUTPUTS]; /* names of files read back from the output folder */
  int noutputs;
  const char *chdir; /* working folder as the program sees it, or NULL for /sandbox (or /) */
  struct runner_limits limits;
  long tmp_mb;               /* size of /tmp and of the output tmpfs */
  const char *output_inside; /* where the output tmpfs appears; NULL for /sandbox/output */
  /* Code runs: the file COPY_NAME of the output folder is copied (regular files only, never through a symlink) into
   * COPY_FD, an fd the caller opened for writing, whatever its size (the output tmpfs caps it). */
  const char *copy_name;
  int copy_fd;
  int copy_folder;    /* instead: the whole output folder (regular files and folders) as a tar, written to COPY_FD;
                      COPY_NAME is then only a label. A folder without any regular file is SANDBOX_FILE_MISSING */
  const char *rootfs; /* an image root, see oci.c, in place of the host's /usr; or NULL */
  const char *env[SANDBOX_MAX_ENV];         /* more environment: name, value, name, value... (NULL ends it) */
  const char *devices[SANDBOX_MAX_DEVICES]; /* host device nodes bound at the same path (GPUs), NULL ends them */
  int merge_stderr; /* stderr goes to the same pipe as stdout (res->run.out holds both, in order) */
  /* Warm sandboxes (sandbox_warm.h): the program is the PID namespace's init itself (bwrap --as-pid-1: no init of
   * bwrap's between), and no writable file system at all (no /tmp, no /dev/shm: nothing a process can leave for the
   * next one). CHANNEL set: CHANNEL_FD (the caller's, kept open by it) is the program's stdin in place of /dev/null. */
  int pid1;
  int no_tmp;
  int channel;
  int channel_fd;
  /* when set, sees the run's stdout (and stderr) as it is written, for a live log */
  void (*tee)(void *arg, const char *data, size_t n);
  void *tee_arg;
};

enum sandbox_limit {
  SANDBOX_LIMIT_NONE = 0,
  SANDBOX_LIMIT_WALL,  /* wall-clock deadline */
  SANDBOX_LIMIT_CPU,   /* RLIMIT_CPU */
  SANDBOX_LIMIT_MEMORY /* RLIMIT_AS (inferred: the run failed near the limit or said it ran out of memory) */
};

enum sandbox_file_state {
  SANDBOX_FILE_OK = 0,
  SANDBOX_FILE_MISSING,
  SANDBOX_FILE_UNSAFE, /* a symlink, FIFO, device or folder */
  SANDBOX_FILE_TOO_LARGE,
  SANDBOX_FILE_UNREAD /* the run did not get that far (killed) or the report was cut */
};

struct sandbox_file {
  enum sandbox_file_state state;
  char *data; /* NUL-terminated content when OK; owned by the result */
  size_t len;
};

struct sandbox_result {
  struct runner_result run; /* exit_code is the program's; a program killed by a signal has signal set */
  enum sandbox_limit limit; /* the limit the run hit, if any */
  long maxrss_kb;
  double cpu_s;
  int stopped;                                    /* killed because the server is stopping */
  struct sandbox_file files[SANDBOX_MAX_OUTPUTS]; /* in the order of spec->outputs */
  struct sandbox_file copy;                       /* spec->copy_name: state and bytes copied (data stays NULL) */
  int64_t wall_ms;                                /* wall-clock time of the run */
};

/* The path INSIDE names in the program's view: INSIDE itself when confined; the host path it is bound to (or
 * OUTPUT_HOST for /sandbox/output...) otherwise. Returns 0, or -1 when it does not fit in OUT (size N). */
int sandbox_inside_path(const struct sandbox_spec *spec, const char *inside, char *out, size_t n);

/* Runs SPEC and fills RES. Returns 0 when the program ran (whatever its exit), -1 when the sandbox could not
 * be set up (ERR says why, for the organizers' log). STOP as in runner_run. Free RES with
 * sandbox_result_free whatever the return. Thread-safe: at most 64 runs at once (others wait). */
int sandbox_run(const struct sandbox_spec *spec, const atomic_int *stop, struct sandbox_result *res, char *err,
                size_t errlen);
void sandbox_result_free(struct sandbox_result *res);

/* A name for LIMIT fit for a participant ("time", "CPU time", "memory"); "" for none. */
const char *sandbox_limit_name(enum sandbox_limit limit);

/* Per-challenge limits (challenge.json "limits": {"wall_s", "cpu_s", "memory_mb"}): defaults and maxima. */
#define SANDBOX_WALL_MAX_S 86400
#define SANDBOX_MEMORY_DEFAULT_MB 4096
#define SANDBOX_MEMORY_MIN_MB 64
#define SANDBOX_MEMORY_MAX_MB 65536

/* Reads LIMITS (the "limits" object, or NULL for the defaults) into L: wall_s (default DEFAULT_WALL_S, 1 to
 * SANDBOX_WALL_MAX_S), cpu_s (default: wall_s, 1 to SANDBOX_WALL_MAX_S), memory_mb (default
 * SANDBOX_MEMORY_DEFAULT_MB); file_mb and output_max get fixed values. Returns 0, or -1 with a sentence naming
 * the field in ERR (other keys are refused, so that a typo is not silently ignored). */
int sandbox_limits_parse(json_t *limits, int default_wall_s, struct runner_limits *l, char *err, size_t errlen);

/* Puts the regular file SRC (never through a symlink) at DST for a run to read: a hard link when SRC is
 * world-readable, else a copy (mode 0644, 0755 when SRC is executable). Returns 0, or -1 with errno set. */
int sandbox_stage_file(const char *src, const char *dst);
/* The same for the folder SRC and everything under it (regular files and folders only; DEPTH starts at 0). */
int sandbox_stage_tree(const char *src, const char *dst, int depth);

/* Creates a fresh staging folder DATA/tmp/run-<random> (mode 0755: the sandbox uid reads what is staged in it
 * through the supervisor's bind mounts; the data folder itself stays closed) into DIR (size N). Returns 0 or -1.
 * Remove it with sandbox_stage_remove. */
int sandbox_stage_create(char *dir, size_t n);
void sandbox_stage_remove(const char *dir);

#endif
