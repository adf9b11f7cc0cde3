/* bundle_changes.c: what an import compares with the last one (see bundle_internal.h): the hash of everything it
 * copies (an unchanged bundle is not imported again), the sentences saying what changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bundle_internal.h"
#include "util.h"

static int cmp_json_strings(const void *a, const void *b)
{
  return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

void bundle_sort_strings(json_t *arr)
{
  size_t n = json_array_size(arr);
  json_t **v = n > 0 ? malloc(n * sizeof(*v)) : NULL;
  if (v == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    v[i] = json_incref(json_array_get(arr, i));
  qsort(v, n, sizeof(*v), cmp_json_strings);
  json_array_clear(arr);
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, v[i]);
  free(v);
}

int bundle_hash(const char *definition, const char *overview, const char *terms, json_t *files, const char *truth_sha,
                const char *dir, const struct challenge_def *d, char out[65])
{
  int program = d->program;
  char path[APP_PATH_MAX], err[256];
  size_t i;
  json_t *f;
  json_t *parts = json_pack("[s,s,s,o,s]", definition, overview, terms, json_deep_copy(files), truth_sha);
  if (parts == NULL)
    return -1;
  json_array_foreach(json_array_get(parts, 3), i, f) json_object_del(f, "anonymity");
  const char *programs[2] = {program ? "scoring_program" : "", d->c.code ? d->code.ingestion_rel : ""};
  for (int k = 0; k < 2; k++) { /* the organizer's programs: scoring, ingestion */
    if (programs[k][0] == '\0')
      continue;
    json_t *listing = json_array();
    if (listing == NULL || util_fmt(path, sizeof(path), "%s/%s", dir, programs[k]) != 0 ||
        bundle_program_tree(path, NULL, err, sizeof(err), listing) != 0) {
      json_decref(listing);
      json_decref(parts);
      return -1;
    }
    bundle_sort_strings(listing); /* readdir's order differs between two copies of one folder */
    json_array_append_new(parts, k == 0 ? listing : json_pack("{so}", "ingestion", listing));
  }
  if (d->code.runtime.sha256[0] != '\0') /* a debian or oci runtime: its identity */
    json_array_append_new(parts, json_string(d->code.runtime.sha256));
  if (d->program_runtime.sha256[0] != '\0') /* the program's, told apart from the code's */
    json_array_append_new(parts, json_pack("{ss}", "metric.runtime", d->program_runtime.sha256));
  const char *inputs[2] = {d->c.code ? d->code.test_rel : "", d->c.code ? d->code.smoke_rel : ""};
  for (int k = 0; k < 2; k++) { /* a code challenge's inputs, hidden and smoke */
    if (inputs[k][0] == '\0')
      continue;
    json_t *listing = json_array();
    if (listing == NULL || util_fmt(path, sizeof(path), "%s/%s", dir, inputs[k]) != 0 ||
        bundle_inputs_tree(path, NULL, err, sizeof(err), listing, NULL) != 0) {
      json_decref(listing);
      json_decref(parts);
      return -1;
    }
    bundle_sort_strings(listing);
    json_array_append_new(parts, listing);
  }
  char *text = json_dumps(parts, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(parts);
  if (text == NULL)
    return -1;
  util_sha256_hex(text, strlen(text), out);
  free(text);
  return 0;
}

json_t *bundle_list_changes(const json_t *old, const json_t *def, const char *overview, const char *terms,
                            const json_t *files, const char *truth_sha)
{
  char msg[256];
  const char *key;
  json_t *v, *changes = json_array();
  json_t *old_def = json_loads(json_string_value(json_object_get(old, "definition")), 0, NULL);
  size_t i, k;
  json_t *f, *g;
  if (changes == NULL)
    return NULL;
  json_object_foreach((json_t *)def, key, v)
  {
    if (!json_equal(v, json_object_get(old_def, key))) {
      snprintf(msg, sizeof(msg), "challenge.json: \"%.60s\" %s", key,
               json_object_get(old_def, key) != NULL ? "changed" : "added");
      json_array_append_new(changes, json_string(msg));
    }
  }
  json_object_foreach(old_def, key, v)
  {
    if (json_object_get(def, key) == NULL) {
      snprintf(msg, sizeof(msg), "challenge.json: \"%.60s\" removed", key);
      json_array_append_new(changes, json_string(msg));
    }
  }
  json_decref(old_def);
  json_t *old_files = json_object_get(old, "files");
  json_array_foreach(files, i, f)
  {
    const char *name = json_string_value(json_object_get(f, "name"));
    const char *state = "added";
    json_array_foreach(old_files, k, g)
    {
      if (strcmp(json_string_value(json_object_get(g, "name")), name) == 0)
        state =
          strcmp(json_string_value(json_object_get(g, "sha256")), json_string_value(json_object_get(f, "sha256"))) == 0
            ? NULL
            : "changed";
    }
    if (state != NULL) {
      snprintf(msg, sizeof(msg), "data/%.100s %s", name, state);
      json_array_append_new(changes, json_string(msg));
    }
  }
  json_array_foreach(old_files, k, g)
  {
    const char *name = json_string_value(json_object_get(g, "name"));
    int found = 0;
    json_array_foreach(files, i, f) found |= strcmp(json_string_value(json_object_get(f, "name")), name) == 0;
    if (!found) {
      snprintf(msg, sizeof(msg), "data/%.100s removed", name);
      json_array_append_new(changes, json_string(msg));
    }
  }
  const char *old_truth = json_string_value(json_object_get(old, "truth_sha256"));
  if (old_truth == NULL || strcmp(old_truth, truth_sha) != 0) {
    snprintf(msg, sizeof(msg), "ground truth changed (sha256 %.12s... -> %.12s...)",
             old_truth != NULL && old_truth[0] != '\0' ? old_truth : "unknown", truth_sha);
    json_array_append_new(changes, json_string(msg));
  }
  if (strcmp(json_string_value(json_object_get(old, "overview")), overview) != 0)
    json_array_append_new(changes, json_string("overview.md changed"));
  if (strcmp(json_string_value(json_object_get(old, "terms")), terms) != 0)
    json_array_append_new(changes, json_string("terms.md changed"));
  if (json_array_size(changes) == 0)
    json_array_append_new(changes, json_string("scoring_program/ changed"));
  return changes;
}
