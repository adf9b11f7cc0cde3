/* cgroup.h: one control group per sandbox run, so that a run is limited and killed as a whole (issue 10).
 *
 * Per-process rlimits do not bound a run: 8 children under memory_mb 256 could hold 2 GiB between them, and a
 * process that escaped its parent's death (a server SIGKILLed between two steps) lived on. With a cgroup:
 *   - memory (memory.max, or v1 memory.limit_in_bytes, no swap), pids (pids.max) and CPU time (the cgroup's
 *     usage, checked by the server while the run goes) bound the whole run;
 *   - the run is killed as a whole at its deadline, at cancel and at stop (cgroup.kill, or a freeze-kill-thaw loop
 *     on cgroup v1);
 *   - every run cgroup lives under a base of its owner's (concours-<hash of the data folder>): at start the server
 *     kills what a previous life left in it (cgroup_sweep) and removes it.
 *
 * Hierarchies: the cgroup v2 hierarchy when its controllers are delegated (the base lies under the server's own
 * cgroup, or beside it when the server is alone in a delegated cgroup); the cgroup v1 hierarchies for the
 * controllers v2 lacks (hybrid hosts); v2 alone for killing when it has no controller. What is missing is said at
 * start (cgroup_init's report) and the run falls back to rlimits for it.
 *
 * Thread-safety: cgroup_init and cgroup_sweep at start, before any run; the cgroup_run_* calls from any thread,
 * one struct cgroup_run per run; cgroup_run_join in a forked child (async-signal-safe). */
#ifndef CONCOURS_CGROUP_H
#define CONCOURS_CGROUP_H

#include <stddef.h>

#include "app.h"

#define CGROUP_MAX_HIER 5 /* v2 (kill, CPU time), then v1 memory, pids, freezer, cpuacct where v2 lacks them */

/* Finds the hierarchies, makes this owner's base in each (KEY names the owner: the server's data folder, a
 * worker's own folder) and fills REPORT (size N) with what the runs will get, one line, prefixed "WARNING: " when
 * something is missing. Returns 1 when runs get at least a kill group, 0 when there is no usable cgroup at all
 * (rlimits only: said in REPORT). Calling it again replaces the previous base. */
int cgroup_init(const char *key, char *report, size_t n);
/* 1 after a cgroup_init that found a usable hierarchy. */
int cgroup_enabled(void);
/* The base folder in the kill hierarchy (for tests and the start-up line), "" when disabled. */
const char *cgroup_base(void);

/* Kills every process left in a run cgroup of this owner's base (a previous life's) and removes those cgroups.
 * Returns the number of processes killed, or -1 when a cgroup could not be emptied (said on stderr). */
int cgroup_sweep(void);
/* Removes the (empty) base folders, at a clean stop; runs opened after it get no cgroup until the next cgroup_init. */
void cgroup_shutdown(void);

struct cgroup_run {
  int n; /* hierarchies this run has a folder in */
  char dir[CGROUP_MAX_HIER][APP_PATH_MAX];
  int procs_fd[CGROUP_MAX_HIER];           /* each folder's cgroup.procs, open for writing (-1 when unused) */
  int kill_hier;                           /* index of the v2 folder with cgroup.kill, or -1 */
  int memory_hier, cpu_hier, freezer_hier; /* indexes, or -1 */
  int memory_v2, cpu_v2;
};

/* Creates the run's folders (named after SLOT and a counter) with MEMORY_MB (whole run, no swap) and PIDS_MAX,
 * and opens their cgroup.procs. Returns 0, or -1 with the reason in ERR; on -1 nothing is left. Only after
 * cgroup_enabled(). Free with cgroup_run_close. */
int cgroup_run_open(struct cgroup_run *r, int slot, long memory_mb, int pids_max, char *err, size_t errlen);
/* In the forked child, before exec: moves the calling process into every folder of R. Async-signal-safe.
 * Returns 0 or -1. */
int cgroup_run_join(const struct cgroup_run *r);
/* CPU time used by the run's processes so far, in microseconds, or -1 when unknown. */
long long cgroup_run_cpu_us(const struct cgroup_run *r);
/* Peak memory of the run in KiB (-1 when unknown) and the number of processes the kernel killed for going past
 * the memory limit. */
void cgroup_run_memory(const struct cgroup_run *r, long *peak_kb, long *oom_kills);
/* Kills every process of the run (never the caller: it is not in the run's cgroup). */
void cgroup_run_kill(const struct cgroup_run *r);
/* Kills what is left, waits until the folders are empty (up to 5 s), removes them, closes the fds. Accepts a
 * zeroed (n == 0) or half-opened R. */
void cgroup_run_close(struct cgroup_run *r);

#endif
