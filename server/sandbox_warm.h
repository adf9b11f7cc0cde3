/* sandbox_warm.h: a warm sandbox, for the many short runs of the built-in scorer on deadline day.
 *
 * A cold run (sandbox_run) starts a supervisor, bubblewrap's processes and the namespaces, mounts and cgroups for
 * each program; a warm sandbox is one such confined sandbox (the same namespaces, read-only view, seccomp filters,
 * uid slot and cgroup) that stays up, its program the exec server (scorer/exec_server.h) as the init of its PID
 * namespace. Each run is then one fork and exec inside it: its files are passed as open fds (never staged), its
 * rlimits set by the exec server in the child, and when the child has ended every other process left in the
 * namespace is killed before the answer. Nothing is writable in a warm sandbox (no /tmp, no /dev/shm), so a run
 * leaves nothing for the next one; the exec server never reads the files it passes on.
 *
 * A deadline or a stop ends the whole warm sandbox (its runs' chain is killed as a cold run's is); the owner starts
 * another. One owner thread per warm sandbox: not thread-safe. Only when runs are confined (sandbox_confined()). */
#ifndef CONCOURS_SANDBOX_WARM_H
#define CONCOURS_SANDBOX_WARM_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#include "sandbox.h"

#define SANDBOX_WARM_FILES_MAX 4 /* files passed to a run, at fds 3.. */

struct sandbox_warm;

/* Starts a warm sandbox whose exec server is the concours-score at the host path SCORER (bound at
 * /sandbox/bin/concours-score, as for a cold run), under MEMORY_MB of memory in all (its cgroup's limit, and each
 * run's RLIMIT_AS at most). Returns it, or NULL with the reason in ERR. */
struct sandbox_warm *sandbox_warm_start(const char *scorer, long memory_mb, char *err, size_t errlen);

/* The memory limit W was started with; runs with another limit need another warm sandbox. */
long sandbox_warm_memory_mb(const struct sandbox_warm *w);

/* 1 while W can take a run: it has not ended, is less than an hour old and has run fewer than 10,000 programs. */
int sandbox_warm_usable(const struct sandbox_warm *w);

/* Runs ARGV (argv[0] a path inside the sandbox, such as /sandbox/bin/concours-score; the files at /dev/fd/3..)
 * with the NFILES (at most SANDBOX_WARM_FILES_MAX) open fds FILES at 3.., under LIM (wall_s, cpu_s, memory_mb at
 * most W's, file_mb, output_max), and fills RES as sandbox_run does: stdout and stderr, exit code or signal, the
 * limit hit, CPU time, peak memory, wall time; res.stopped when STOP ended it. Returns 0 when the program ran
 * (whatever its exit); -1 with ERR when W could not run it (it has ended then: stop it, and run the program cold
 * or in another). A deadline or a stop ends W too. Free RES with sandbox_result_free. */
int sandbox_warm_run(struct sandbox_warm *w, char *const argv[], const int *files, int nfiles,
                     const struct runner_limits *lim, const atomic_int *stop, struct sandbox_result *res, char *err,
                     size_t errlen);

/* Opens PATH, a file under the folder ROOT (the data folder), to be handed to a warm run: through a detached copy
 * of ROOT's mounts (open_tree(OPEN_TREE_CLONE), made at the first call and kept), so that the run's
 * /proc/self/fd/N names the file from ROOT ("/submissions/ab/..."), not where ROOT is on the host (a cold run's
 * overlay hides it too). FLAGS and MODE as open(2)'s, O_CLOEXEC added. A PATH outside ROOT (or with a ".."
 * component), another ROOT than the first call's, or a kernel that refuses the copy (a server that is not root)
 * get a plain open(2). Returns the fd, or -1 with errno set. Thread-safe. */
int sandbox_warm_open(const char *root, const char *path, int flags, mode_t mode);

/* Ends W (its sandbox and every process in it) and frees it. Accepts NULL. */
void sandbox_warm_stop(struct sandbox_warm *w);

#endif
