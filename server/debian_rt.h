/* debian_rt.h: "debian" runtimes of code-execution challenges (API.md section 4): a root file system built once from
 * a list of Debian packages with mmdebstrap (minbase variant, the host's Debian release), cached in
 * DATA/runtimes/<identity>/rootfs by the hash of its manifest, and shared by every challenge that names the same
 * list. The identity is the SHA-256 of the manifest "concours runtime debian v1 / suite / variant / packages (sorted,
 * unique)": the same list gives the same identity, so the cache is found without building. */
#ifndef CONCOURS_DEBIAN_RT_H
#define CONCOURS_DEBIAN_RT_H

#include <stddef.h>

#include <jansson.h>

#define DEBIAN_RT_MAX_PACKAGES 500
#define DEBIAN_RT_BUILD_TIMEOUT_S 3600

/* Checks PACKAGES (a JSON array of Debian package names: [a-z0-9][a-z0-9+.-]*, at most 100 bytes) and computes the
 * identity into SHA. Returns 0, or 1 with a sentence in ERR. */
int debian_rt_identity(json_t *packages, char sha[65], char *err, size_t errlen);

/* The root file system of PACKAGES in the data folder's cache, built with mmdebstrap when it is not there yet
 * (its progress goes to stderr, prefixed). Fills SHA and ROOTFS (size N). Returns 0, 1 when the list is refused or
 * the build failed (ERR says why), -1 on an internal error. */
int debian_rt_cached(json_t *packages, char sha[65], char *rootfs, size_t n, char *err, size_t errlen);

/* 1 when mmdebstrap is installed. */
int debian_rt_available(void);

#endif
