/* cgroup.c: see cgroup.h. Files of /sys/fs/cgroup are read and written whole with small bounded buffers; the
 * only code a forked child runs is cgroup_run_join (write(2) on fds opened before the fork). */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

enum kind { K_V2 = 0, K_MEMORY, K_PIDS, K_FREEZER, K_CPUACCT, K_COUNT };
static const char *const v1_names[K_COUNT] = {"", "memory", "pids", "freezer", "cpuacct"};

static struct {
  int enabled;
  char base[K_COUNT][APP_PATH_MAX]; /* "" when that kind is not used */
  int v2_kill, v2_memory, v2_pids;  /* what the v2 base offers */
  atomic_uint seq;
} cg;

/* ------------------------------------------------------------------------------------------ small files */

/* Writes TEXT to PATH (an existing cgroup file). Returns 0 or -1 with errno set. */
static int put(const char *path, const char *text)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = write(fd, text, strlen(text));
  int saved = errno;
  close(fd);
  errno = saved;
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Reads PATH into BUF (size N, NUL-terminated). Returns the length, or -1. */
static ssize_t get(const char *path, char *buf, size_t n)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t got = 0;
  while (got + 1 < n) {
    ssize_t r = read(fd, buf + got, n - 1 - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  buf[got] = '\0';
  return (ssize_t)got;
}

static int exists(const char *dir, const char *file)
{
  char p[APP_PATH_MAX];
  return util_fmt(p, sizeof(p), "%s/%s", dir, file) == 0 && access(p, F_OK) == 0;
}

/* The value after "KEY " on a line of TEXT (memory.events, cpu.stat, memory.oom_control), or -1. */
static long long keyed(const char *text, const char *key)
{
  size_t k = strlen(key);
  for (const char *l = text; l != NULL && *l != '\0';) {
    if (strncmp(l, key, k) == 0 && l[k] == ' ') {
      long long v = -1;
      char num[24];
      size_t i = 0;
      for (const char *d = l + k + 1; i + 1 < sizeof(num) && *d >= '0' && *d <= '9'; d++)
        num[i++] = *d;
      num[i] = '\0';
      return util_parse_ll(num, 0, (long long)1 << 62, &v) == 0 ? v : -1;
    }
    l = strchr(l, '\n');
    if (l != NULL)
      l++;
  }
  return -1;
}

/* ------------------------------------------------------------------------------------------ discovery */

/* 1 when the comma-separated LIST holds NAME. */
static int in_list(const char *list, const char *name)
{
  size_t len = strlen(name);
  for (const char *t = list; t != NULL && *t != '\0';) {
    if (strncmp(t, name, len) == 0 && (t[len] == ',' || t[len] == '\0'))
      return 1;
    t = strchr(t, ',');
    if (t != NULL)
      t++;
  }
  return 0;
}

/* This process's cgroup in the hierarchy whose /proc/self/cgroup controller list holds NAME ("" for v2) into OUT. */
static int own_path(const char *name, char *out, size_t n)
{
  char buf[4096];
  if (get("/proc/self/cgroup", buf, sizeof(buf)) <= 0)
    return -1;
  for (char *line = buf; line != NULL && *line != '\0';) {
    char *next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    char *c1 = strchr(line, ':');
    char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    if (c2 != NULL) {
      *c2 = '\0';
      const char *list = c1 + 1;
      int match = name[0] == '\0' ? list[0] == '\0' && strncmp(line, "0:", 2) == 0 : in_list(list, name);
      if (match)
        return util_strlcpy(out, c2 + 1, n);
    }
    line = next;
  }
  return -1;
}

/* The mount point of the hierarchy (cgroup2 when NAME is "", else the v1 mount whose options hold NAME) and the
 * root of that mount, from /proc/self/mountinfo. Mount points with escaped characters are skipped. */
static int find_mount(const char *name, char *mnt, size_t n, char *root, size_t rn)
{
  static char buf[65536];
  if (get("/proc/self/mountinfo", buf, sizeof(buf)) <= 0)
    return -1;
  for (char *line = buf; line != NULL && *line != '\0';) {
    char *next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS" */
    char r[APP_PATH_MAX], mp[APP_PATH_MAX], type[16] = "", opts[512] = "";
    const char *sep = strstr(line, " - ");
    int match = 0;
    if (sep != NULL && sscanf(line, "%*s %*s %*s %4095s %4095s", r, mp) == 2 && strchr(mp, '\\') == NULL &&
        sscanf(sep, " - %15s %*s %511s", type, opts) == 2) {
      if (name[0] == '\0')
        match = strcmp(type, "cgroup2") == 0;
      else if (strcmp(type, "cgroup") == 0)
        match = in_list(opts, name);
    }
    if (match)
      return util_strlcpy(mnt, mp, n) == 0 && util_strlcpy(root, r, rn) == 0 ? 0 : -1;
    line = next;
  }
  return -1;
}

/* The folder of this process's own cgroup in the hierarchy NAME (see find_mount), into OUT. */
static int own_dir(const char *name, char *out, size_t n)
{
  char mnt[APP_PATH_MAX], root[APP_PATH_MAX], own[APP_PATH_MAX];
  if (find_mount(name, mnt, sizeof(mnt), root, sizeof(root)) != 0 || own_path(name, own, sizeof(own)) != 0)
    return -1;
  const char *rel = own;
  size_t rl = strlen(root);
  if (strcmp(root, "/") != 0 && strncmp(own, root, rl) == 0 && (own[rl] == '/' || own[rl] == '\0'))
    rel = own + rl; /* the mount shows a sub-tree (a container): its root is the mount point */
  if (strstr(rel, "/..") != NULL)
    return -1;
  return util_fmt(out, n, "%s%s", mnt, strcmp(rel, "/") == 0 ? "" : rel);
}

/* Makes the base folder DIR/concours-<hash> (mode 0755). */
static int make_base(const char *dir, const char *hash, char *out, size_t n)
{
  if (util_fmt(out, n, "%s/concours-%s", dir, hash) != 0)
    return -1;
  if (mkdir(out, 0755) != 0 && errno != EEXIST)
    return -1;
  struct stat st;
  return stat(out, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* 1 when the space-separated file PATH lists NAME. */
static int in_file(const char *path, const char *name)
{
  char buf[512];
  if (get(path, buf, sizeof(buf)) < 0)
    return 0;
  for (char *t = buf; *t != '\0'; t++) {
    if (*t == ' ' || *t == '\n')
      *t = ',';
  }
  return in_list(buf, name);
}

/* Turns on CONTROLLER in the v2 base's subtree (and in every folder from its parent up to the hierarchy's top that
 * lacks it). Returns 1 when run folders will have it. */
static int v2_enable(const char *own, const char *controller)
{
  char p[APP_PATH_MAX], want[32];
  snprintf(want, sizeof(want), "+%s", controller);
  /* the server's own cgroup must pass the controller down; the root cgroup may hold processes, others may not */
  if (util_fmt(p, sizeof(p), "%s/cgroup.controllers", own) != 0 || !in_file(p, controller))
    return 0;
  if (util_fmt(p, sizeof(p), "%s/cgroup.subtree_control", own) != 0)
    return 0;
  if (put(p, want) != 0 && errno == EBUSY) {
    /* a delegated cgroup (systemd's Delegate=yes) that holds this process: controllers pass down only from a
     * cgroup without processes, so the server moves into a leaf of its own and tries again */
    char leaf[APP_PATH_MAX], procs[APP_PATH_MAX];
    if (util_fmt(leaf, sizeof(leaf), "%s/concours-server", own) != 0 || (mkdir(leaf, 0755) != 0 && errno != EEXIST) ||
        util_fmt(procs, sizeof(procs), "%s/cgroup.procs", leaf) != 0 || put(procs, "0") != 0)
      return 0;
  }
  if (put(p, want) != 0 && !in_file(p, controller))
    return 0;
  if (util_fmt(p, sizeof(p), "%s/cgroup.subtree_control", cg.base[K_V2]) != 0 || put(p, want) != 0)
    return 0;
  return 1;
}

int cgroup_init(const char *key, char *report, size_t n)
{
  char hex[65], hash[17], own[APP_PATH_MAX], line[1024] = "", missing[128] = "";
  memset(cg.base, 0, sizeof(cg.base));
  cg.enabled = cg.v2_kill = cg.v2_memory = cg.v2_pids = 0;
  util_sha256_hex(key, strlen(key), hex);
  memcpy(hash, hex, 16);
  hash[16] = '\0';
  if (own_dir("", own, sizeof(own)) == 0 && make_base(own, hash, cg.base[K_V2], sizeof(cg.base[K_V2])) == 0) {
    cg.v2_kill = exists(cg.base[K_V2], "cgroup.kill");
    cg.v2_memory = v2_enable(own, "memory");
    cg.v2_pids = v2_enable(own, "pids");
  } else {
    cg.base[K_V2][0] = '\0';
  }
  for (int k = K_MEMORY; k < K_COUNT; k++) {
    int needed = (k == K_MEMORY && !cg.v2_memory) || (k == K_PIDS && !cg.v2_pids) ||
                 ((k == K_FREEZER || k == K_CPUACCT) && cg.base[K_V2][0] == '\0') || (k == K_FREEZER && !cg.v2_kill);
    char dir[APP_PATH_MAX];
    if (needed &&
        (own_dir(v1_names[k], dir, sizeof(dir)) != 0 || make_base(dir, hash, cg.base[k], sizeof(cg.base[k])) != 0))
      cg.base[k][0] = '\0';
  }
  cg.enabled = cg.base[K_V2][0] != '\0' || cg.base[K_FREEZER][0] != '\0' || cg.base[K_MEMORY][0] != '\0' ||
               cg.base[K_PIDS][0] != '\0';
  if (!cg.v2_memory && cg.base[K_MEMORY][0] == '\0')
    util_fmt(missing + strlen(missing), sizeof(missing) - strlen(missing), " memory");
  if (!cg.v2_pids && cg.base[K_PIDS][0] == '\0')
    util_fmt(missing + strlen(missing), sizeof(missing) - strlen(missing), " pids");
  if (!cg.enabled) {
    util_fmt(report, n,
             "WARNING: no writable cgroup here (cgroup v2 not delegated, no v1 hierarchy): each sandbox process is "
             "limited by rlimits alone, and processes a crash leaves behind are not found at the next start");
    return 0;
  }
  util_fmt(line, sizeof(line), "run cgroups under %s", cgroup_base());
  if (cg.base[K_V2][0] != '\0' && (!cg.v2_memory || !cg.v2_pids))
    util_fmt(line + strlen(line), sizeof(line) - strlen(line),
             "; WARNING: cgroup v2 controllers%s%s are not "
             "delegated to concours here: cgroup v1 used for them",
             cg.v2_memory ? "" : " memory", cg.v2_pids ? "" : " pids");
  if (missing[0] != '\0')
    util_fmt(line + strlen(line), sizeof(line) - strlen(line), "; WARNING: no cgroup for%s: rlimits only for it",
             missing);
  if (!cg.v2_kill)
    util_fmt(line + strlen(line), sizeof(line) - strlen(line), "; no cgroup.kill: runs are killed by %s",
             cg.base[K_FREEZER][0] != '\0' ? "freezing them" : "repeated signals");
  util_strlcpy(report, line, n);
  return 1;
}

int cgroup_enabled(void)
{
  return cg.enabled;
}

const char *cgroup_base(void)
{
  for (int k = 0; k < K_COUNT; k++) {
    if (cg.base[k][0] != '\0' && (k == K_V2 || k == K_FREEZER || k == K_PIDS || k == K_MEMORY))
      return cg.base[k];
  }
  return "";
}

/* ------------------------------------------------------------------------------------------ killing */

/* SIGKILLs every process listed in DIR/cgroup.procs (only counts them when !KILL). Returns how many were listed, or
 * -1 when unreadable. */
static int list_procs(const char *dir, int kill_them)
{
  char p[APP_PATH_MAX], buf[16384];
  if (util_fmt(p, sizeof(p), "%s/cgroup.procs", dir) != 0 || get(p, buf, sizeof(buf)) < 0)
    return -1;
  int count = 0;
  for (char *s = buf; *s != '\0';) {
    long long pid = 0;
    char num[24];
    size_t i = 0;
    while (i + 1 < sizeof(num) && *s >= '0' && *s <= '9')
      num[i++] = *s++;
    num[i] = '\0';
    if (i > 0 && util_parse_ll(num, 2, 1 << 22, &pid) == 0 && pid != getpid()) {
      if (kill_them)
        kill((pid_t)pid, SIGKILL);
      count++;
    }
    while (*s != '\0' && (*s < '0' || *s > '9'))
      s++;
  }
  return count;
}

/* One pass of SIGKILLs over every process listed in the COUNT folders DIRS, frozen meanwhile when FREEZE_DIR (a v1
 * freezer folder) is given so that none forks in between. Returns how many were listed. */
static int kill_pass(const char (*dirs)[APP_PATH_MAX], int count, const char *freeze_dir)
{
  char p[APP_PATH_MAX];
  int listed = 0;
  if (freeze_dir != NULL && util_fmt(p, sizeof(p), "%s/freezer.state", freeze_dir) == 0)
    put(p, "FROZEN");
  for (int i = 0; i < count; i++) {
    int k = dirs[i][0] != '\0' ? list_procs(dirs[i], 1) : 0;
    listed += k > 0 ? k : 0;
  }
  if (freeze_dir != NULL && util_fmt(p, sizeof(p), "%s/freezer.state", freeze_dir) == 0)
    put(p, "THAWED");
  return listed;
}

static void pause_ms(int ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Kills everything in the run folders DIRS (COUNT of them, KILL_DIR the v2 one with cgroup.kill or NULL,
 * FREEZE_DIR the v1 freezer one or NULL), waits until they are empty (5 s at most) and removes them. Returns the
 * number of processes seen, or -1 when a folder stayed. */
static int empty_and_remove(char dirs[][APP_PATH_MAX], int count, const char *kill_dir, const char *freeze_dir)
{
  char p[APP_PATH_MAX];
  int seen = 0, rc = 0;
  /* counted before the kill (cgroup.kill may have emptied the list by the time it is read again); the same
   * processes are listed in every hierarchy: the largest count is theirs */
  for (int i = 0; i < count; i++) {
    int k = dirs[i][0] != '\0' ? list_procs(dirs[i], 0) : 0;
    seen = k > seen ? k : seen;
  }
  if (kill_dir != NULL && util_fmt(p, sizeof(p), "%s/cgroup.kill", kill_dir) == 0)
    put(p, "1");
  for (int round = 0; round < 250 && kill_pass((const char(*)[APP_PATH_MAX])dirs, count, freeze_dir) > 0; round++)
    pause_ms(20);
  for (int i = 0; i < count; i++) {
    if (dirs[i][0] == '\0')
      continue;
    int removed = 0;
    for (int tries = 0; tries < 50 && !removed; tries++) {
      removed = rmdir(dirs[i]) == 0 || errno == ENOENT;
      if (!removed)
        pause_ms(20);
    }
    if (!removed) {
      fprintf(stderr, "concours: cannot remove the cgroup %s: %s\n", dirs[i], strerror(errno));
      rc = -1;
    }
  }
  return rc == 0 ? seen : -1;
}

int cgroup_sweep(void)
{
  int total = 0, failed = 0;
  if (!cg.enabled)
    return 0;
  /* the names come from the kill hierarchy (or the first base there is); every base holds the same names */
  const char *list = cgroup_base();
  DIR *d = opendir(list);
  if (d == NULL)
    return 0;
  struct dirent *e;
  char names[256][64];
  int nn = 0;
  while (nn < 256 && (e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, "run-", 4) == 0 && strlen(e->d_name) < sizeof(names[0]))
      util_strlcpy(names[nn++], e->d_name, sizeof(names[0]));
  }
  closedir(d);
  for (int i = 0; i < nn; i++) {
    char dirs[K_COUNT][APP_PATH_MAX];
    memset(dirs, 0, sizeof(dirs));
    for (int k = 0; k < K_COUNT; k++) {
      if (cg.base[k][0] != '\0' && util_fmt(dirs[k], sizeof(dirs[k]), "%s/%s", cg.base[k], names[i]) != 0)
        dirs[k][0] = '\0';
      if (dirs[k][0] != '\0' && access(dirs[k], F_OK) != 0)
        dirs[k][0] = '\0';
    }
    int k = empty_and_remove(dirs, K_COUNT, cg.v2_kill && dirs[K_V2][0] != '\0' ? dirs[K_V2] : NULL,
                             dirs[K_FREEZER][0] != '\0' ? dirs[K_FREEZER] : NULL);
    if (k < 0)
      failed = 1;
    else
      total += k;
  }
  return failed ? -1 : total;
}

void cgroup_shutdown(void)
{
  for (int k = 0; k < K_COUNT; k++) {
    if (cg.base[k][0] != '\0')
      rmdir(cg.base[k]);
  }
  /* no base any more: runs opened from now on get no cgroup, until the next cgroup_init (a worker sweeps a dead
   * worker's bases, then probes its sandbox, before it takes its own) */
  memset(cg.base, 0, sizeof(cg.base));
  cg.enabled = cg.v2_kill = cg.v2_memory = cg.v2_pids = 0;
}

/* ------------------------------------------------------------------------------------------ runs */

static void run_reset(struct cgroup_run *r)
{
  memset(r, 0, sizeof(*r));
  for (int i = 0; i < CGROUP_MAX_HIER; i++)
    r->procs_fd[i] = -1;
  r->kill_hier = r->memory_hier = r->cpu_hier = r->freezer_hier = -1;
}

/* Whether DIR has the control FILE. */
static int has(const char *dir, const char *file)
{
  char p[APP_PATH_MAX];
  return util_fmt(p, sizeof(p), "%s/%s", dir, file) == 0 && access(p, F_OK) == 0;
}

/* Sets a limit file of DIR; a file the kernel lacks (memsw without swap accounting) is skipped when OPTIONAL. */
static int limit(const char *dir, const char *file, long long value, int optional)
{
  char p[APP_PATH_MAX], v[32];
  snprintf(v, sizeof(v), "%lld", value);
  if (util_fmt(p, sizeof(p), "%s/%s", dir, file) != 0)
    return -1;
  if (optional && !has(dir, file))
    return 0;
  return put(p, v);
}

int cgroup_run_open(struct cgroup_run *r, int slot, long memory_mb, int pids_max, char *err, size_t errlen)
{
  char name[48];
  long long bytes = (long long)memory_mb * 1024 * 1024;
  run_reset(r);
  snprintf(name, sizeof(name), "run-%d-%u-%u", (int)getpid(), (unsigned)slot, atomic_fetch_add(&cg.seq, 1));
  for (int k = 0; k < K_COUNT; k++) {
    if (cg.base[k][0] == '\0')
      continue;
    int i = r->n;
    if (util_fmt(r->dir[i], sizeof(r->dir[i]), "%s/%s", cg.base[k], name) != 0 || mkdir(r->dir[i], 0755) != 0) {
      snprintf(err, errlen, "cannot create the run's cgroup %s: %s", r->dir[i], strerror(errno));
      r->dir[i][0] = '\0';
      goto fail;
    }
    r->n++;
    int bad = 0;
    if (k == K_V2) {
      r->kill_hier = cg.v2_kill ? i : -1;
      r->cpu_hier = i;
      if (cg.v2_memory) {
        r->memory_hier = i;
        r->memory_v2 = 1;
        bad |= limit(r->dir[i], "memory.max", bytes, 0) | limit(r->dir[i], "memory.swap.max", 0, 1);
      }
      if (cg.v2_pids)
        bad |= limit(r->dir[i], "pids.max", pids_max, 0);
      r->cpu_v2 = 1;
    } else if (k == K_MEMORY) {
      r->memory_hier = i;
      bad |=
        limit(r->dir[i], "memory.limit_in_bytes", bytes, 0) | limit(r->dir[i], "memory.memsw.limit_in_bytes", bytes, 1);
      /* Without swap accounting (no memsw file) the run could push its excess to swap; a memcg with swappiness 0
       * never swaps on its own limit (the kernel's cgroup-v1 memory documentation), so the limit stays whole. */
      if (!bad && !has(r->dir[i], "memory.memsw.limit_in_bytes"))
        bad |= limit(r->dir[i], "memory.swappiness", 0, 1);
    } else if (k == K_PIDS) {
      bad |= limit(r->dir[i], "pids.max", pids_max, 0);
    } else if (k == K_FREEZER) {
      r->freezer_hier = i;
    } else if (k == K_CPUACCT && r->cpu_hier < 0) {
      r->cpu_hier = i;
    }
    if (bad) {
      snprintf(err, errlen, "cannot set the limits of the run's cgroup %s: %s", r->dir[i], strerror(errno));
      goto fail;
    }
    char p[APP_PATH_MAX];
    if (util_fmt(p, sizeof(p), "%s/cgroup.procs", r->dir[i]) != 0 ||
        (r->procs_fd[i] = open(p, O_WRONLY | O_CLOEXEC)) < 0) {
      snprintf(err, errlen, "cannot open %s: %s", p, strerror(errno));
      goto fail;
    }
  }
  return 0;
fail:
  cgroup_run_close(r);
  return -1;
}

int cgroup_run_join(const struct cgroup_run *r)
{
  for (int i = 0; i < r->n; i++) {
    if (r->procs_fd[i] >= 0 && write(r->procs_fd[i], "0", 1) != 1)
      return -1;
  }
  return 0;
}

long long cgroup_run_cpu_us(const struct cgroup_run *r)
{
  char p[APP_PATH_MAX], buf[1024];
  long long v = -1;
  if (r->cpu_hier < 0)
    return -1;
  if (r->cpu_v2) { /* v2: cpu.stat is in every cgroup, whatever the controllers */
    if (util_fmt(p, sizeof(p), "%s/cpu.stat", r->dir[r->cpu_hier]) == 0 && get(p, buf, sizeof(buf)) > 0)
      v = keyed(buf, "usage_usec");
    return v;
  }
  if (util_fmt(p, sizeof(p), "%s/cpuacct.usage", r->dir[r->cpu_hier]) == 0 && get(p, buf, sizeof(buf)) > 0) {
    buf[strcspn(buf, "\n")] = '\0';
    if (util_parse_ll(buf, 0, (long long)1 << 62, &v) != 0)
      v = -1;
  }
  return v >= 0 ? v / 1000 : -1;
}

void cgroup_run_memory(const struct cgroup_run *r, long *peak_kb, long *oom_kills)
{
  char p[APP_PATH_MAX], buf[2048];
  *peak_kb = -1;
  *oom_kills = 0;
  if (r->memory_hier < 0)
    return;
  const char *dir = r->dir[r->memory_hier];
  long long peak = -1;
  if (util_fmt(p, sizeof(p), "%s/%s", dir, r->memory_v2 ? "memory.peak" : "memory.max_usage_in_bytes") == 0 &&
      get(p, buf, sizeof(buf)) > 0) {
    buf[strcspn(buf, "\n")] = '\0';
    if (util_parse_ll(buf, 0, (long long)1 << 62, &peak) != 0)
      peak = -1;
  }
  *peak_kb = peak >= 0 ? (long)(peak / 1024) : -1;
  if (util_fmt(p, sizeof(p), "%s/%s", dir, r->memory_v2 ? "memory.events" : "memory.oom_control") == 0 &&
      get(p, buf, sizeof(buf)) > 0) {
    long long k = keyed(buf, "oom_kill");
    *oom_kills = k > 0 ? (long)k : 0;
  }
}

void cgroup_run_kill(const struct cgroup_run *r)
{
  char p[APP_PATH_MAX];
  if (r->kill_hier >= 0 && util_fmt(p, sizeof(p), "%s/cgroup.kill", r->dir[r->kill_hier]) == 0 && put(p, "1") == 0)
    return;
  kill_pass(r->dir, r->n, r->freezer_hier >= 0 ? r->dir[r->freezer_hier] : NULL);
}

void cgroup_run_close(struct cgroup_run *r)
{
  for (int i = 0; i < r->n && i < CGROUP_MAX_HIER; i++) {
    if (r->procs_fd[i] >= 0)
      close(r->procs_fd[i]);
  }
  if (r->n > 0)
    empty_and_remove(r->dir, r->n, r->kill_hier >= 0 ? r->dir[r->kill_hier] : NULL,
                     r->freezer_hier >= 0 ? r->dir[r->freezer_hier] : NULL);
  run_reset(r);
}
