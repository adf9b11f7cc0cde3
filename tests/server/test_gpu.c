/* test_gpu.c: the GPU plumbing of code runs (server/gpu.c) against a fake /dev and a fake driver folder: which device
 * nodes a run gets, the refusal naming a missing one, GPUs handed out whole to one run at a time, and the driver
 * libraries staged under their names. (No GPU on the machines this runs on: what real hardware adds is not tested.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "gpu.h"
#include "util.h"

static void touch(const char *dir, const char *name)
{
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  fputs("x", f);
  fclose(f);
}

int main(void)
{
  char dev[256], lib[256], out[256], err[256], paths[GPU_MAX_DEVICES][64];
  if (check_begin() != 0)
    return 1;
  snprintf(dev, sizeof(dev), "%s/dev", tmpdir);
  snprintf(lib, sizeof(lib), "%s/lib", tmpdir);
  snprintf(out, sizeof(out), "%s/out", tmpdir);
  CHECK(mkdir(dev, 0755) == 0 && mkdir(lib, 0755) == 0 && mkdir(out, 0755) == 0);
  int idx[GPU_MAX] = {0}, other[GPU_MAX] = {0};

  /* no driver: no GPU, and a clear refusal */
  CHECK(gpu_count(dev) == 0);
  CHECK(gpu_devices(dev, 1, idx, paths, err, sizeof(err)) == -1);
  CHECK(strstr(err, "nvidiactl is missing") != NULL);

  touch(dev, "nvidiactl");
  touch(dev, "nvidia-uvm");
  touch(dev, "nvidia0");
  touch(dev, "nvidia1");
  CHECK(gpu_count(dev) == 2);

  /* two runs of one GPU each get different GPUs; a run of three GPUs on a two-GPU machine is refused */
  CHECK(gpu_acquire(1, 2, idx) == 0);
  CHECK(gpu_acquire(1, 2, other) == 0);
  CHECK(idx[0] != other[0]);
  CHECK(gpu_acquire(3, 2, idx) == -1);
  int n = gpu_devices(dev, 1, other, paths, err, sizeof(err));
  CHECK(n == 3);
  char want[300];
  snprintf(want, sizeof(want), "%s/nvidia%d", dev, other[0]);
  CHECK(strcmp(paths[0] + strlen(dev), "/nvidiactl") == 0);
  CHECK(strcmp(paths[1] + strlen(dev), "/nvidia-uvm") == 0);
  CHECK(strcmp(paths[2], want) == 0);
  gpu_release(1, idx);
  gpu_release(1, other);
  int both[GPU_MAX] = {0};
  CHECK(gpu_acquire(2, 2, both) == 0 && both[0] != both[1]);
  int missing[GPU_MAX] = {5};
  CHECK(gpu_devices(dev, 1, missing, paths, err, sizeof(err)) == -1);
  CHECK(strstr(err, "nvidia5 is missing") != NULL);
  gpu_release(2, both);

  /* the driver's libraries, links resolved, under their own names; other libraries left out */
  touch(lib, "libcuda.so.535.1");
  char link[512];
  snprintf(link, sizeof(link), "%s/libcuda.so.1", lib);
  CHECK(symlink("libcuda.so.535.1", link) == 0);
  touch(lib, "libnvidia-ml.so.535.1");
  touch(lib, "libz.so.1");
  CHECK(gpu_stage_libraries(lib, out) == 3);
  struct stat st;
  snprintf(link, sizeof(link), "%s/libcuda.so.1", out);
  CHECK(lstat(link, &st) == 0 && S_ISREG(st.st_mode));
  snprintf(link, sizeof(link), "%s/libz.so.1", out);
  CHECK(lstat(link, &st) != 0);

  return check_end("gpu");
}
