/* test_routes.c: unit tests of routes.c. routes.c is included so that its static path decoder and matcher can be
 * tested directly (the h2o way). */
#include "../../server/routes.c"

#include <string.h>

#include "check.h"

static void test_paths(void)
{
  struct path p;
  struct req r;
  memset(&r, 0, sizeof(r));
  CHECK(split_path("/api/v1/challenges/demo/files/train.csv", &p) == 0 && p.n == 4);
  CHECK(match("challenges/{}/files/{*}", &p, &r) && strcmp(r.param[0], "demo") == 0 &&
        strcmp(r.param[1], "train.csv") == 0);
  CHECK(split_path("/api/v1/challenges/demo/files/sub/x.csv", &p) == 0);
  CHECK(match("challenges/{}/files/{*}", &p, &r) && strcmp(r.param[1], "sub/x.csv") == 0);
  CHECK(!match("challenges/{}/files", &p, &r));
  CHECK(split_path("/api/v1/challenges/%2e%2e/files", &p) == -1);   /* ".." in any encoding */
  CHECK(split_path("/api/v1/challenges/a%2fb", &p) == -1);          /* encoded slash */
  CHECK(split_path("/api/v1/challenges/a%5cb", &p) == -1);          /* backslash */
  CHECK(split_path("/api/v1/challenges/a%00b", &p) == -1);          /* NUL */
  CHECK(split_path("/api/v1/challenges/a%zz", &p) == -1);           /* bad escape */
  CHECK(split_path("/api/v1/challenges/a%2", &p) == -1);            /* truncated escape */
  CHECK(split_path("/api/v1/challenges//files", &p) == -1);         /* empty segment */
  CHECK(split_path("/api/v1/challenges/", &p) == -1);               /* trailing slash */
  CHECK(split_path("/api/v2/challenges", &p) == -2);                /* not ours */
  CHECK(split_path("/api/v1/a/b/c/d/e/f/g/h/i/j/k/l/m", &p) == -1); /* too many segments */
  CHECK(split_path("/api/v1/challenges/caf%C3%A9", &p) == 0 && strcmp(p.seg[1], "caf\xc3\xa9") == 0);
}

int main(void)
{
  if (check_begin() != 0)
    return 1;
  test_paths();
  return check_end("routes");
}
