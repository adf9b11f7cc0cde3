/* gpu.c: see gpu.h. */
#include "gpu.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"
#include "util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t freed = PTHREAD_COND_INITIALIZER;
static unsigned in_use; /* bit I: GPU I is held by a run */

static int exists(const char *devroot, const char *name)
{
  char path[128];
  struct stat st;
  return util_fmt(path, sizeof(path), "%s/%s", devroot, name) == 0 && stat(path, &st) == 0;
}

int gpu_count(const char *devroot)
{
  int n = 0;
  char name[32];
  if (!exists(devroot, "nvidiactl"))
    return 0;
  for (int i = 0; i < GPU_MAX; i++) {
    snprintf(name, sizeof(name), "nvidia%d", i);
    if (exists(devroot, name))
      n = i + 1;
  }
  return n;
}

int gpu_acquire(int n, int total, int idx[GPU_MAX])
{
  if (n <= 0)
    return 0;
  if (n > total || total > GPU_MAX)
    return -1;
  pthread_mutex_lock(&lock);
  for (;;) {
    int got = 0;
    for (int i = 0; i < total && got < n; i++) {
      if ((in_use & (1u << i)) == 0)
        idx[got++] = i;
    }
    if (got == n)
      break;
    pthread_cond_wait(&freed, &lock);
  }
  for (int k = 0; k < n; k++)
    in_use |= 1u << idx[k];
  pthread_mutex_unlock(&lock);
  return 0;
}

void gpu_release(int n, const int idx[GPU_MAX])
{
  pthread_mutex_lock(&lock);
  for (int k = 0; k < n; k++)
    in_use &= ~(1u << idx[k]);
  pthread_cond_broadcast(&freed);
  pthread_mutex_unlock(&lock);
}

int gpu_devices(const char *devroot, int n, const int idx[GPU_MAX], char (*paths)[64], char *err, size_t errlen)
{
  static const char *const control[] = {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"};
  int count = 0;
  for (size_t i = 0; i < sizeof(control) / sizeof(control[0]); i++) {
    if (!exists(devroot, control[i])) {
      if (i == 0) {
        snprintf(err, errlen, "%s/nvidiactl is missing: this machine has no NVIDIA driver loaded", devroot);
        return -1;
      }
      continue;
    }
    if (util_fmt(paths[count++], 64, "%s/%s", devroot, control[i]) != 0)
      return -1;
  }
  for (int k = 0; k < n && count < GPU_MAX_DEVICES; k++) {
    char name[32];
    snprintf(name, sizeof(name), "nvidia%d", idx[k]);
    if (!exists(devroot, name)) {
      snprintf(err, errlen, "%s/%s is missing: the run needs %d GPU(s)", devroot, name, n);
      return -1;
    }
    if (util_fmt(paths[count++], 64, "%s/%s", devroot, name) != 0)
      return -1;
  }
  return count;
}

int gpu_stage_libraries(const char *libdir, const char *dst)
{
  static const char *const prefixes[] = {"libcuda.so", "libnvidia-", "libnvcuvid.so", "libnvoptix.so"};
  DIR *d = opendir(libdir);
  struct dirent *e;
  int n = 0;
  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL) {
    int match = 0;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
      match |= strncmp(e->d_name, prefixes[i], strlen(prefixes[i])) == 0;
    char src[1024], out[1024], real[1024];
    if (!match || util_fmt(src, sizeof(src), "%s/%s", libdir, e->d_name) != 0 ||
        util_fmt(out, sizeof(out), "%s/%s", dst, e->d_name) != 0)
      continue;
    /* a driver's libcuda.so.1 is a symlink to libcuda.so.<version>: the run gets the file itself under each name */
    if (realpath(src, real) == NULL || sandbox_stage_file(real, out) != 0) {
      closedir(d);
      return -1;
    }
    n++;
  }
  closedir(d);
  return n;
}
