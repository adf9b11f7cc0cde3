/* curlbuf.c: see curlbuf.h. */
#include "curlbuf.h"

#include <stdlib.h>
#include <string.h>

size_t curlbuf_write(char *p, size_t size, size_t n, void *arg)
{
  struct curlbuf *b = arg;
  size_t add = size * n;
  if (b->len + add > CURLBUF_MAX)
    return 0;
  char *d = realloc(b->data, b->len + add + 1);
  if (d == NULL)
    return 0;
  memcpy(d + b->len, p, add);
  b->data = d;
  b->len += add;
  d[b->len] = '\0';
  return add;
}
