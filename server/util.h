/* util.h: small helpers every module needs: bounded string copies, time formatting, hex and base64url,
 * random tokens, SHA-256, and durable file operations (fsync of a file and of its directory). */
#ifndef CONCOURS_UTIL_H
#define CONCOURS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Copies SRC into DST of size N, always NUL-terminated. Returns 0, or -1 when SRC was truncated. */
int util_strlcpy(char *dst, const char *src, size_t n);
/* Copies SRC into DST (size N) for a reader: when it does not fit, it is cut at a word's end (or at least never
 * inside a UTF-8 character) and ends with "…". Returns 0, or -1 when it was cut. */
int util_shorten(char *dst, const char *src, size_t n);

/* Formats T (UTC seconds) as "2026-11-22T10:00:00Z" into OUT (at least 21 bytes). */
void util_iso8601(int64_t t, char out[32]);
/* Parses "YYYY-MM-DDTHH:MM:SSZ" (also "+00:00") into *T. Returns 0, or -1 when malformed. */
int util_parse_iso8601(const char *s, int64_t *t);

/* Writes the lowercase hex of N bytes of IN into OUT (2N+1 bytes). */
void util_hex(const unsigned char *in, size_t n, char *out);

/* Fills OUT (size N >= 2*BYTES+1... see below) with a random URL-safe token of BYTES random bytes
 * (base64url, no padding). OUT must hold 4*BYTES/3+2 bytes. Returns 0, or -1 if RAND_bytes failed. */
int util_random_token(size_t bytes, char *out, size_t n);

/* SHA-256 of LEN bytes of DATA as 64 hex characters + NUL into OUT. */
void util_sha256_hex(const void *data, size_t len, char out[65]);

/* Constant-time comparison of two NUL-terminated strings; 1 when equal. */
int util_ct_streq(const char *a, const char *b);

/* fsyncs the directory holding PATH (or PATH itself when IS_DIR). Returns 0 or -1 with errno set. */
int util_fsync_dir(const char *path, int is_dir);

/* mkdir -p with MODE; returns 0 or -1 with errno set. */
int util_mkdirs(const char *path, int mode);

/* Reads the whole regular file PATH (at most MAX bytes) into a malloc'd NUL-terminated buffer the caller
 * frees; *LEN gets its size. Returns NULL on error or when the file is larger than MAX. */
char *util_read_file(const char *path, size_t max, size_t *len);

/* Writes LEN bytes to PATH atomically: temp file in the same folder, fsync, rename, fsync of the folder.
 * Returns 0 or -1 (nothing is left behind on failure). */
int util_write_file_atomic(const char *path, const void *data, size_t len, int mode);

/* snprintf into OUT of size N that reports truncation: 0 when it fit, -1 otherwise (OUT then holds "" ). */
int util_fmt(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parses a decimal integer in [MIN, MAX] from all of S. Returns 0, or -1. */
int util_parse_ll(const char *s, long long min, long long max, long long *out);

/* SHA-256 of the regular file PATH (never through a symlink) as 64 hex characters into OUT, its size in *SIZE
 * (may be NULL). Returns 0, or -1 with errno set. */
int util_sha256_file(const char *path, char out[65], int64_t *size);

/* Runs FN(ARG) on a new thread with a stack of STACK_BYTES and waits for it: for work whose worst call chain
 * (recursive parsers, tree walks, imports) does not fit the small stacks of CivetWeb's worker threads. Returns
 * FN's result, or -1 when the thread could not be started. */
int util_run_with_stack(int (*fn)(void *), void *arg, size_t stack_bytes);

struct stat;
/* Called by util_walk for each entry: PATH is ROOT/REL; ST its lstat. Returns 0 to go on, UTIL_WALK_PRUNE to go on
 * without entering that folder; anything else stops the walk and is returned by it. */
#define UTIL_WALK_PRUNE (-3)
typedef int (*util_walk_fn)(const char *path, const char *rel, const struct stat *st, void *arg);

/* Visits every entry under the folder ROOT without recursion (an explicit stack on the heap, so a deep tree costs
 * no call stack), never following links: each folder is reported before what it holds. Returns 0; FN's non-zero
 * value; -2 when a folder is deeper than MAX_DEPTH or more than MAX_ENTRIES entries were seen; -1 on an I/O error
 * or out of memory (errno set). */
int util_walk(const char *root, int max_depth, long max_entries, util_walk_fn fn, void *arg);

/* 1 when the JSON text TEXT[0..LEN) opens more than MAX_DEPTH nested arrays or objects (brackets inside strings
 * do not count), 0 otherwise. A linear scan with no recursion: run it before a recursive parser sees the text. */
int util_json_depth_exceeds(const char *text, size_t len, int max_depth);

#endif
