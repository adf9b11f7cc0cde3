/* gpu.h: NVIDIA GPUs for code runs (challenge.json submission.limits.gpus), the way nvidia-container-cli gives them
 * to containers: the control nodes (nvidiactl, nvidia-uvm, nvidia-uvm-tools, nvidia-modeset) and one nvidiaN node per
 * GPU the run holds are bound into the sandbox, and for image runtimes the host's driver libraries (libcuda,
 * libnvidia-*) are bound at /usr/local/nvidia/lib64 (LD_LIBRARY_PATH points there). GPUs are handed out whole,
 * one run at a time each. Not verified on a machine with a GPU (docs/code.md says what was). */
#ifndef CONCOURS_GPU_H
#define CONCOURS_GPU_H

#include <stddef.h>

#define GPU_MAX 16
#define GPU_MAX_DEVICES (GPU_MAX + 4)

/* The number of nvidiaN nodes under DEVROOT (normally "/dev") whose control node nvidiactl exists; 0 without. */
int gpu_count(const char *devroot);

/* Takes N GPUs of the TOTAL the machine has for one run, waiting while others hold them; their indices go to IDX.
 * Returns 0, or -1 when N is more than TOTAL (never satisfiable). Give them back with gpu_release. */
int gpu_acquire(int n, int total, int idx[GPU_MAX]);
void gpu_release(int n, const int idx[GPU_MAX]);

/* The device nodes a run holding the N GPUs IDX needs, under DEVROOT, into PATHS (each PATHLEN bytes, at most
 * GPU_MAX_DEVICES): the control nodes that exist, then DEVROOT/nvidiaI for each I. Returns their number, or -1 when a
 * required node is missing (ERR says which). */
int gpu_devices(const char *devroot, int n, const int idx[GPU_MAX], char (*paths)[64], char *err, size_t errlen);

/* Links (or copies) the host's NVIDIA driver libraries found in LIBDIR into the empty folder DST. Returns how many,
 * or -1. */
int gpu_stage_libraries(const char *libdir, const char *dst);

#endif
