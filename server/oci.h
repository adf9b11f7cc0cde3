/* oci.h: container images as root file systems for code runs (API.md section 4, runtime "oci"), with no container
 * daemon. An image is a tar archive (optionally gzip-compressed): either an OCI image layout (oci-layout,
 * index.json, blobs/sha256/...) or what `docker save` writes (manifest.json naming each layer's tar). Its layers
 * are applied in order into a folder, with the care of extract.c: names checked, nothing written through a
 * symlink or outside the folder, whiteouts (.wh.NAME removes NAME, .wh..wh..opq empties a folder) honoured,
 * devices skipped, set-uid bits dropped, bytes and entries capped, every blob's SHA-256 checked against its name.
 * The image's identity is the SHA-256 of its manifest. Images are unpacked once, into DATA/runtimes/<identity>/,
 * and shared by every challenge that uses them. */
#ifndef CONCOURS_OCI_H
#define CONCOURS_OCI_H

#include <stddef.h>
#include <stdint.h>

#define OCI_MAX_BYTES (32ULL << 30) /* unpacked, all layers together */
#define OCI_MAX_ENTRIES 2000000u

/* Reads the image ARCHIVE's manifest (unpacking the archive into the empty folder WORK) and applies its layers into
 * the empty folder ROOTFS. Fills SHA (the identity). Returns 0, 1 when the image is refused (ERR, a sentence for the
 * organizer), -1 on an internal error. */
int oci_unpack(const char *archive, const char *work, const char *rootfs, char sha[65], char *err, size_t errlen);

/* The unpacked root file system of ARCHIVE in the data folder's cache (DATA/runtimes/<identity>/rootfs), unpacking it
 * when it is not there yet. Fills SHA and ROOTFS (size N). Returns as oci_unpack. */
int oci_cached(const char *archive, char sha[65], char *rootfs, size_t n, char *err, size_t errlen);

/* The runtime cache's staging: a fresh folder DATA/runtimes/tmp-<random> (mode 0755) into TMP (size N), 0 or -1;
 * oci_install marks it complete and moves it to DATA/runtimes/SHA (replacing an incomplete one; a complete one, as
 * another import installed meanwhile, stays and TMP goes) and fills ROOTFS (its rootfs folder), 0 or -1. */
int oci_stage_create(char *tmp, size_t n);
int oci_install(const char *tmp, const char *sha, char *rootfs, size_t n);

/* Creates the sandbox's mount points (code, data, output, tmp, proc, dev, sandbox, ingestion) as folders in ROOTFS: 0 or -1. */
int oci_mount_points(const char *rootfs);

/* DATA/runtimes/<SHA>/rootfs into OUT (size N) when that root file system is complete: 0, else -1. */
int oci_rootfs_path(const char *sha, char *out, size_t n);

#endif
