/* debian_rt.c: see debian_rt.h. */
#include "debian_rt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "oci.h"
#include "store.h"
#include "util.h"

#define MMDEBSTRAP "/usr/bin/mmdebstrap"

int debian_rt_available(void)
{
  return access(MMDEBSTRAP, X_OK) == 0;
}

/* The host's Debian release (VERSION_CODENAME of /etc/os-release) into OUT, "bookworm" when it says none. */
static void suite(char *out, size_t n)
{
  size_t len = 0;
  char *text = util_read_file("/etc/os-release", 65536, &len);
  const char *k = text != NULL ? strstr(text, "VERSION_CODENAME=") : NULL;
  util_strlcpy(out, "bookworm", n);
  if (k != NULL) {
    k += strlen("VERSION_CODENAME=");
    size_t w = strspn(k, "abcdefghijklmnopqrstuvwxyz");
    if (w > 0 && w < n) {
      memcpy(out, k, w);
      out[w] = '\0';
    }
  }
  free(text);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sorted, unique package names of PACKAGES joined by commas into OUT. 0, or 1 with ERR. */
static int package_list(json_t *packages, char *out, size_t n, char *err, size_t errlen)
{
  const char *names[DEBIAN_RT_MAX_PACKAGES];
  size_t count = 0, i, used = 0;
  json_t *v;
  out[0] = '\0';
  if (packages != NULL && !json_is_array(packages)) {
    snprintf(err, errlen, "packages must be a list of Debian package names");
    return 1;
  }
  if (json_array_size(packages) > DEBIAN_RT_MAX_PACKAGES) {
    snprintf(err, errlen, "at most %d packages", DEBIAN_RT_MAX_PACKAGES);
    return 1;
  }
  json_array_foreach(packages, i, v)
  {
    const char *s = json_string_value(v);
    size_t len = s != NULL ? strlen(s) : 0;
    if (len < 2 || len > 100 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')) ||
        strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+.-") != len) {
      snprintf(err, errlen, "packages[%zu] is not a Debian package name (a-z 0-9 + . -)", i);
      return 1;
    }
    names[count++] = s;
  }
  qsort(names, count, sizeof(names[0]), cmp_str);
  for (i = 0; i < count; i++) {
    if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
      continue;
    int w = snprintf(out + used, n - used, "%s%s", used > 0 ? "," : "", names[i]);
    if (w < 0 || (size_t)w >= n - used) {
      snprintf(err, errlen, "the package list is too long");
      return 1;
    }
    used += (size_t)w;
  }
  return 0;
}

/* The manifest of PACKAGES into OUT (size N); 0 or 1 with ERR. */
static int manifest(json_t *packages, char *out, size_t n, char *list, size_t listn, char *err, size_t errlen)
{
  char codename[32];
  if (package_list(packages, list, listn, err, errlen) != 0)
    return 1;
  suite(codename, sizeof(codename));
  if (util_fmt(out, n, "concours runtime debian v1\nsuite %s\nvariant minbase\npackages %s\n", codename, list) != 0) {
    snprintf(err, errlen, "the package list is too long");
    return 1;
  }
  return 0;
}

int debian_rt_identity(json_t *packages, char sha[65], char *err, size_t errlen)
{
  char *text = malloc(65536), *list = malloc(60000);
  int rc = -1;
  if (text != NULL && list != NULL && (rc = manifest(packages, text, 65536, list, 60000, err, errlen)) == 0)
    util_sha256_hex(text, strlen(text), sha);
  free(text);
  free(list);
  return rc;
}

/* Runs mmdebstrap into ROOTFS, its output on stderr. 0, or 1 with ERR. */
static int build(const char *list, const char *codename, const char *rootfs, char *err, size_t errlen)
{
  char include[60100];
  snprintf(include, sizeof(include), "--include=%s", list);
  char *argv[] = {MMDEBSTRAP,           "--variant=minbase", "--mode=root",
                  "--format=directory", "--quiet",           list[0] != '\0' ? include : "--include=ca-certificates",
                  (char *)codename,     (char *)rootfs,      NULL};
  static char *env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8", "DEBIAN_FRONTEND=noninteractive",
                        "TMPDIR=/tmp", NULL};
  fprintf(stderr, "concours: building the debian runtime (%s: %s) with mmdebstrap...\n", codename,
          list[0] != '\0' ? list : "minbase");
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    return 1;
  }
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(2, 1) < 0)
      _exit(126);
    closefrom(3);
    setpgid(0, 0);
    execve(MMDEBSTRAP, argv, env);
    _exit(127);
  }
  int status = 0;
  time_t until = time(NULL) + DEBIAN_RT_BUILD_TIMEOUT_S;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid)
      break;
    if (w < 0 && errno != EINTR) {
      snprintf(err, errlen, "waitpid: %s", strerror(errno));
      return 1;
    }
    if (time(NULL) > until) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      snprintf(err, errlen, "mmdebstrap took longer than %d s", DEBIAN_RT_BUILD_TIMEOUT_S);
      return 1;
    }
    usleep(200 * 1000);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    snprintf(err, errlen,
             "mmdebstrap failed (exit %d): a package name may not exist in Debian %s, or the mirror is out of "
             "reach; its output is in the log above",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1, codename);
    return 1;
  }
  fprintf(stderr, "concours: the debian runtime is built\n");
  return 0;
}

int debian_rt_cached(json_t *packages, char sha[65], char *rootfs, size_t n, char *err, size_t errlen)
{
  char *text = malloc(65536), *list = malloc(60000);
  char tmp[APP_PATH_MAX] = "", root[APP_PATH_MAX], mpath[APP_PATH_MAX], codename[32];
  int rc = -1;
  if (text == NULL || list == NULL)
    goto out;
  rc = manifest(packages, text, 65536, list, 60000, err, errlen);
  if (rc != 0)
    goto out;
  util_sha256_hex(text, strlen(text), sha);
  if (oci_rootfs_path(sha, rootfs, n) == 0) /* built before: the cache is keyed by the list */
    goto out;
  rc = 1;
  if (!debian_rt_available()) {
    snprintf(err, errlen, "mmdebstrap is not installed (scripts/install-deps.sh installs it)");
    goto out;
  }
  rc = -1;
  suite(codename, sizeof(codename));
  if (oci_stage_create(tmp, sizeof(tmp)) != 0 || util_fmt(root, sizeof(root), "%s/rootfs", tmp) != 0) {
    snprintf(err, errlen, "cannot create a folder under DATA/runtimes: %s", strerror(errno));
    goto out;
  }
  rc = build(list, codename, root, err, errlen);
  if (rc != 0)
    goto out;
  rc = -1;
  if (oci_mount_points(root) != 0 || util_fmt(mpath, sizeof(mpath), "%s/manifest", tmp) != 0 ||
      util_write_file_atomic(mpath, text, strlen(text), 0644) != 0 || oci_install(tmp, sha, rootfs, n) != 0) {
    snprintf(err, errlen, "cannot move the runtime into place: %s", strerror(errno));
    goto out;
  }
  tmp[0] = '\0';
  rc = 0;
out:
  if (tmp[0] != '\0')
    store_remove_tree(tmp);
  free(text);
  free(list);
  return rc;
}
