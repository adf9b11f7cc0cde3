/* test_util.c: unit tests of util.c (times, bounded strings, tokens, hashes, the JSON depth scan, the big-stack runner). */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#include "check.h"

static void test_util(void)
{
  char buf[32];
  int64_t t = 0;
  CHECK(util_parse_iso8601("2026-03-01T12:30:00Z", &t) == 0);
  CHECK(t == 1772368200);
  util_iso8601(t, buf);
  CHECK(strcmp(buf, "2026-03-01T12:30:00Z") == 0);
  CHECK(util_parse_iso8601("2026-03-01 12:30:00", &t) != 0);
  CHECK(util_parse_iso8601("2026-03-01T12:30:00+02:00", &t) != 0);
  CHECK(util_parse_iso8601(NULL, &t) != 0);
  char small[4];
  CHECK(util_strlcpy(small, "abcdef", sizeof(small)) == -1 && strcmp(small, "abc") == 0);
  /* util_shorten: whole when it fits; else cut at a word's end, never inside a UTF-8 character, with "…" */
  char line[32];
  CHECK(util_shorten(line, "short enough", sizeof(line)) == 0 && strcmp(line, "short enough") == 0);
  CHECK(util_shorten(line, "line 12, column 3: the value 1.7 is not a probability", sizeof(line)) == -1);
  CHECK(strcmp(line, "line 12, column 3: the value\xe2\x80\xa6") == 0);
  CHECK(util_shorten(line,
                     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
                     sizeof(line)) == -1);
  CHECK(strlen(line) < sizeof(line) && strcmp(line + strlen(line) - 3, "\xe2\x80\xa6") == 0);
  CHECK((strlen(line) - 3) % 2 == 0); /* whole two-byte characters before the ellipsis */
  CHECK(util_fmt(small, sizeof(small), "%s", "toolong") == -1 && small[0] == '\0');
  long long v;
  CHECK(util_parse_ll("42", 0, 100, &v) == 0 && v == 42);
  CHECK(util_parse_ll("42x", 0, 100, &v) != 0);
  CHECK(util_parse_ll("101", 0, 100, &v) != 0);
  CHECK(util_parse_ll("", 0, 100, &v) != 0);
  char a[64], b[64];
  CHECK(util_random_token(32, a, sizeof(a)) == 0 && util_random_token(32, b, sizeof(b)) == 0);
  CHECK(strlen(a) == 43 && strcmp(a, b) != 0);
  CHECK(util_random_token(32, a, 10) != 0); /* refuses a buffer too small */
  char hex[65];
  util_sha256_hex("abc", 3, hex);
  CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
  CHECK(util_ct_streq("same", "same") && !util_ct_streq("same", "samf") && !util_ct_streq("a", "ab"));
}

static int deep_recursion(void *arg)
{
  /* about 4 MiB of stack: more than CivetWeb's threads have, well within util_run_with_stack's */
  volatile char frame[4096];
  int n = *(int *)arg;
  frame[0] = 1;
  if (n == 0)
    return 0;
  int next = n - 1;
  return deep_recursion(&next) + frame[0];
}

static int count_entry(const char *path, const char *rel, const struct stat *st, void *arg)
{
  (void)path;
  (void)rel;
  (void)st;
  (*(int *)arg)++;
  return 0;
}

/* A visit that does not enter folders 5 deep or more (UTIL_WALK_PRUNE), counting what it sees. */
static int prune_entry(const char *path, const char *rel, const struct stat *st, void *arg)
{
  (void)path;
  (*(int *)arg)++;
  return S_ISDIR(st->st_mode) && strlen(rel) >= 9 ? UTIL_WALK_PRUNE : 0; /* "d/d/d/d/d": 5 deep */
}

/* util_walk: a tree 40 folders deep is walked with no recursion; the depth and entry caps hold; links are
 * reported, never followed; a pruned folder is not entered, and the walk goes on. */
static void test_walk(void)
{
  char path[1024];
  int n = snprintf(path, sizeof(path), "%s/walk", tmpdir);
  CHECK(mkdir(path, 0700) == 0);
  for (int i = 0; i < 40; i++) {
    n += snprintf(path + n, sizeof(path) - (size_t)n, "/d");
    CHECK(mkdir(path, 0700) == 0);
  }
  char root[1024], link[1024];
  snprintf(root, sizeof(root), "%s/walk", tmpdir);
  snprintf(link, sizeof(link), "%s/walk/loop", tmpdir);
  CHECK(symlink(root, link) == 0);
  int count = 0;
  CHECK(util_walk(root, 50, 1000, count_entry, &count) == 0 && count == 41); /* 40 folders and the link */
  count = 0;
  CHECK(util_walk(root, 10, 1000, count_entry, &count) == -2);
  count = 0;
  CHECK(util_walk(root, 50, 5, count_entry, &count) == -2);
  CHECK(util_walk("/nonexistent-concours", 5, 5, count_entry, &count) == -1);
  count = 0;
  CHECK(util_walk(root, 10, 1000, prune_entry, &count) == 0 && count == 6); /* 5 folders and the link */
}

static void test_json_depth_and_stack(void)
{
  CHECK(util_json_depth_exceeds("[[[]]]", 6, 3) == 0);
  CHECK(util_json_depth_exceeds("[[[[]]]]", 8, 3) == 1);
  CHECK(util_json_depth_exceeds("{\"a\":\"[[[[[[\"}", 15, 2) == 0); /* brackets inside a string do not count */
  CHECK(util_json_depth_exceeds("[\"\\\"[[[[\"]", 11, 2) == 0);     /* nor after an escaped quote */
  CHECK(util_json_depth_exceeds("]]]][[", 6, 1) == 1);              /* stray closers do not hide openers */
  int n = 1000;
  CHECK(util_run_with_stack(deep_recursion, &n, 16u * 1024 * 1024) == 1000);
  char path[1024], hex[65];
  int64_t size = 0;
  snprintf(path, sizeof(path), "%s/abc", tmpdir);
  CHECK(util_write_file_atomic(path, "abc", 3, 0600) == 0);
  CHECK(util_sha256_file(path, hex, &size) == 0 && size == 3 &&
        strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
  char link[1024];
  snprintf(link, sizeof(link), "%s/link", tmpdir);
  CHECK(symlink(path, link) == 0 && util_sha256_file(link, hex, &size) != 0); /* never through a symlink */
}

int main(void)
{
  if (check_begin() != 0)
    return 1;
  test_util();
  test_json_depth_and_stack();
  test_walk();
  return check_end("util");
}
