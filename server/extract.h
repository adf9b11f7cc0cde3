/* extract.h: unpacks a zip, tar or tar.gz into a folder, safely (SECURITY.md 11-13): the format comes from
 * magic bytes against an allow-list and libarchive is configured for that one format only; bytes are counted as
 * they are actually decompressed (never trusting declared sizes); entries are capped in number; names must be
 * relative, without "..", backslashes or colons, valid UTF-8 without control characters, and short; only
 * regular files and folders are written (symlinks, hardlinks, devices, FIFOs refuse the archive); no entry is
 * written twice and nothing is ever written through a symlink or outside DEST_DIR.
 * Used for submissions unpacked into a scoring program's $input/res, and for bundle archives. */
#ifndef CONCOURS_EXTRACT_H
#define CONCOURS_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

struct extract_limits {
  uint64_t max_bytes;   /* total bytes written, counted as they are decompressed */
  unsigned max_entries; /* entries, folders included */
  size_t max_name;      /* bytes of one entry name */
  int file_mode;        /* mode of the files written (e.g. 0644) */
  int dir_mode;         /* mode of the folders created (e.g. 0755) */
  int later_entry_wins; /* 0: an entry given twice refuses the archive; 1: the later one replaces the file (as
                           Python's zipfile, which CodaLab bundles were made with, extracts them) */
};

/* Unpacks ARCHIVE_PATH (zip, tar or gzip-compressed tar, decided by content) into the existing empty folder
 * DEST_DIR under LIM. Returns 0 when unpacked; 1 when the archive is refused (ERR, size ERRLEN, says why in a
 * sentence fit for the archive's author); -1 on an internal error (ERR for the logs). On 1 and -1 whatever was
 * written under DEST_DIR is removed again (DEST_DIR itself stays, empty). */
int extract_archive(const char *archive_path, const char *dest_dir, const struct extract_limits *lim, char *err,
                    size_t errlen);

/* 1 when the first bytes of PATH are those of a zip, tar or gzip file (the forms extract_archive may accept),
 * 0 otherwise or when it cannot be read. *GZIP (may be NULL) is set for gzip. */
int extract_is_archive(const char *path, int *gzip);

/* 1 when the archive PATH (zip, tar or tar.gz) holds a file NAME at its top, or in its lone top folder; 0 when it
 * does not; -1 when it cannot be read. Reads the entries' headers only (at most 100,000). */
int extract_has_file(const char *path, const char *name);

/* The reverse, for what a sandboxed run leaves behind: writes to the fd DST a tar (POSIX pax) of the folder FOLDER:
 * its regular files (their names relative to it), folders up to 16 deep and the first MAX_ENTRIES entries; links,
 * FIFOs and devices are left out, and nothing is opened through a link (util_walk). *BYTES gets the files' bytes.
 * Returns the number of regular files packed (0: nothing to score), or -1 when DST cannot be written or the folder
 * read. */
long extract_pack_dir(const char *folder, int dst, unsigned max_entries, long long *bytes);

/* The pieces of extract_archive that oci.c reuses to apply container image layers with the same care. */
struct archive;
/* NULL when NAME (an entry name, at most MAX bytes) is acceptable, else why not (a sentence). */
const char *extract_bad_name(const char *name, size_t max);
/* Opens (creating when missing, mode DIR_MODE) the folder chain of the N-byte prefix of NAME under the folder fd
 * ROOT, never through a symlink (at most 32 deep). Returns a folder fd the caller closes, or -1. */
int extract_open_parent(int root, const char *name, size_t n, int dir_mode);
/* Removes everything under the folder fd DIRFD, never following a symlink (DEPTH starts at 0). */
void extract_empty_dir(int dirfd, int depth);
/* Copies the current entry's data of A into FD, adding its bytes to *TOTAL: 0, 1 past MAX (ERR says so) or when the
 * archive is damaged, -1 on a write error. */
int extract_write_entry(struct archive *a, int fd, uint64_t *total, uint64_t max, char *err, size_t errlen);

#endif
