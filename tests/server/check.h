/* check.h: what every server unit test shares: CHECK (prints the failed condition, counts it), a temporary
 * folder removed at the end, and the closing line ctest's log shows. One test program per server module. */
#ifndef CONCOURS_TEST_CHECK_H
#define CONCOURS_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include "store.h"

static int failures;
static int checks;
static const char *tmpdir;

#define CHECK(cond)                                                                                                    \
  do {                                                                                                                 \
    checks++;                                                                                                          \
    if (!(cond)) {                                                                                                     \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                                         \
      failures++;                                                                                                      \
    }                                                                                                                  \
  } while (0)

/* Makes the temporary folder (tmpdir). 0, or -1. */
static inline int check_begin(void)
{
  static char templ[] = "/tmp/concours-units-XXXXXX";
  tmpdir = mkdtemp(templ);
  return tmpdir != NULL ? 0 : -1;
}

/* Removes the folder, prints the count, and returns the exit code. */
static inline int check_end(const char *what)
{
  store_remove_tree(tmpdir);
  printf("%s: %d checks, %d failed\n", what, checks, failures);
  return failures == 0 ? 0 : 1;
}

#endif
