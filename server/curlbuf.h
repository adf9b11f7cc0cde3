/* curlbuf.h: a libcurl response read into memory, for the server's HTTP clients (`concours worker`, worker.c, and
 * `concours-cli`, pcli.c). */
#ifndef CONCOURS_CURLBUF_H
#define CONCOURS_CURLBUF_H

#include <stddef.h>

#define CURLBUF_MAX (64 << 20) /* a longer answer is cut and the transfer fails */

/* DATA: malloc'd, NUL-terminated, LEN bytes (NULL while empty); the caller frees DATA. */
struct curlbuf {
  char *data;
  size_t len;
};

/* CURLOPT_WRITEFUNCTION appending to the struct curlbuf given as CURLOPT_WRITEDATA. */
size_t curlbuf_write(char *p, size_t size, size_t n, void *arg);

#endif
