/* extract_driver.c: runs extract_archive on one archive for test_extract.py and prints {"rc","error"}.
 *   extract_driver ARCHIVE DEST [MAX_BYTES [MAX_ENTRIES]] */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "extract.h"
#include "util.h"

int main(int argc, char **argv)
{
  struct extract_limits lim = {1 << 20, 100, 255, 0644, 0755, 0};
  long long v;
  char err[512];
  if (argc < 3) {
    fprintf(stderr, "usage: extract_driver ARCHIVE DEST [MAX_BYTES [MAX_ENTRIES]]\n");
    return 2;
  }
  if (argc > 3 && util_parse_ll(argv[3], 1, 1LL << 40, &v) == 0)
    lim.max_bytes = (uint64_t)v;
  if (argc > 4 && util_parse_ll(argv[4], 1, 1000000, &v) == 0)
    lim.max_entries = (unsigned)v;
  int rc = extract_archive(argv[1], argv[2], &lim, err, sizeof(err));
  json_t *o = json_pack("{s:i,s:s}", "rc", rc, "error", err);
  char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
  if (text == NULL)
    return 3;
  printf("%s\n", text);
  free(text);
  json_decref(o);
  return 0;
}
