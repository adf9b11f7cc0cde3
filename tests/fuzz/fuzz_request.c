/* fuzz_request.c: a libFuzzer target for what the server does with a request before and around its handlers,
 * on input nobody vetted: the path decoder and route matcher (routes.c, included for its static functions), the
 * framing check, the JSON body's depth scan and parse, the phase PATCH and the challenge definition (def.c). The
 * first byte picks the target; the rest is the input. Built with clang by scripts/fuzz/run.sh and run in CI for
 * 500,000 inputs with a fixed seed, from the committed corpus (tests/fuzz/corpus; def-data-not-string-regression
 * is the crash it found in def.c: a non-string item of "data" before a path). */
#include "../../server/routes.c"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "def.h"

static const char *const patterns[] = {"challenges/{}/files/{*}", "challenges/{}", "submissions/{}/log",
                                       "challenges/{}/teams/{}/disqualify", "users/{}/role"};

static void fuzz_path(const char *text)
{
  struct path p;
  struct req r;
  memset(&r, 0, sizeof(r));
  if (split_path(text, &p) != 0)
    return;
  for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
    if (match(patterns[i], &p, &r) && strlen(r.param[0]) >= HTTP_SEGMENT_MAX)
      abort(); /* a capture longer than its buffer */
  }
}

static void fuzz_framing(const uint8_t *data, size_t n)
{
  struct mg_request_info ri;
  memset(&ri, 0, sizeof(ri));
  for (size_t i = 0; i < n && i < 16; i++) {
    ri.http_headers[i].name = (data[i] & 3) == 0 ? "Content-Length" : (data[i] & 3) == 1 ? "Transfer-Encoding" : "Host";
    ri.http_headers[i].value = "1";
    ri.num_headers++;
  }
  int lengths = 0, encodings = 0;
  for (int i = 0; i < ri.num_headers; i++) {
    lengths += strcmp(ri.http_headers[i].name, "Content-Length") == 0;
    encodings += strcmp(ri.http_headers[i].name, "Transfer-Encoding") == 0;
  }
  int expect = lengths > 1 || encodings > 1 || (lengths > 0 && encodings > 0);
  if (http_ambiguous_framing(&ri) != expect)
    abort();
}

static void fuzz_json(const char *text, size_t n, int as_definition)
{
  if (util_json_depth_exceeds(text, n, HTTP_JSON_DEPTH) && !as_definition)
    return; /* the server refuses it before parsing: jansson never sees it */
  if (as_definition) {
    struct challenge_def *d = calloc(1, sizeof(*d));
    struct bundle_problems *p = calloc(1, sizeof(*p));
    if (d != NULL && p != NULL)
      def_parse(text, n, "challenge.json", 600, d, p);
    if (d != NULL)
      def_free(d);
    free(d);
    free(p);
    return;
  }
  json_t *body = json_loadb(text, n, JSON_REJECT_DUPLICATES, NULL);
  if (json_is_object(body)) {
    struct phase ph;
    char err[256];
    memset(&ph, 0, sizeof(ph));
    def_phase_patch(&ph, body, err, sizeof(err));
  }
  json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 65536)
    return 0;
  char *text = malloc(size);
  if (text == NULL)
    return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  switch (data[0] % 4) {
  case 0:
    fuzz_path(text);
    break;
  case 1:
    fuzz_framing(data + 1, size - 1);
    break;
  case 2:
    fuzz_json(text, size - 1, 0);
    break;
  default:
    fuzz_json(text, size - 1, 1);
    break;
  }
  free(text);
  return 0;
}
