/* codabench.c: the Codabench v2 conversion (`version: 2`): Markdown pages, tasks with their programs and data,
 * phases naming their task, leaderboards with columns (docs/bundle.md has the table). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "codalab.h"
#include "codalab_internal.h"
#include "store.h"
#include "util.h"

int codalab_convert_v2(const char *src, const char *dst, json_t *y, int only_phase, int part, struct bundle_problems *p,
                       FILE *log)
{
  /* what is mapped (docker_image: codalab_image_note); every other top-level key (image, registration...) is
   * reported as ignored */
  static const char *const top_known[] = {"version", "title",     "description",  "terms",        "pages", "tasks",
                                          "phases",  "solutions", "leaderboards", "docker_image", NULL};
  static const char *const phase_known[] = {
    "index", "name",      "description",          "start", "end", "max_submissions_per_day", "max_submissions",
    "tasks", "solutions", "execution_time_limit", NULL};
  char path[APP_PATH_MAX], key[128], truth_rel[160], slug[64] = "", ref_dir[APP_PATH_MAX], field[64];
  json_t *out = json_object(), *out_phases = json_array(), *page, *phases = NULL, *all_phases = NULL;
  char part_title[320];
  json_t *competition = NULL; /* set by codalab_keep_part, then owned by out */
  char *text = NULL, *overview = NULL;
  int rc = 1, higher = 1, program_task = -1, precision = 4, full = 0;
  size_t i;
  if (out == NULL || out_phases == NULL) {
    json_decref(out);
    json_decref(out_phases);
    return -1;
  }
  json_object_set_new(out, "phases", out_phases);
  codalab_ignored("", y, top_known, log);
  codalab_image_note(y, log);
  const char *title = json_string_value(json_object_get(y, "title"));
  const char *description = json_string_value(json_object_get(y, "description"));
  /* pages are Markdown files: the overview first, the others as its sections */
  size_t cap = 1 << 20, used = 0;
  overview = malloc(cap);
  if (overview == NULL)
    goto fail;
  used = (size_t)snprintf(overview, cap, "# %s\n\n%s\n", title != NULL ? title : "Competition",
                          description != NULL ? description : "");
  json_array_foreach(json_object_get(y, "pages"), i, page)
  {
    const char *file = json_string_value(json_object_get(page, "file"));
    const char *ptitle = json_string_value(json_object_get(page, "title"));
    free(text);
    text = codalab_bundle_text(src, file);
    if (text != NULL && used < cap)
      used += (size_t)snprintf(overview + used, cap - used, "\n## %s\n\n%s\n", ptitle != NULL ? ptitle : file, text);
  }
  free(text);
  text = NULL;
  text = codalab_bundle_text(src, json_string_value(json_object_get(y, "terms")));
  if (codalab_write_texts(dst, overview, text, "Codabench", p) != 0) {
    rc = -1;
    goto fail;
  }
  json_t *tasks = json_object_get(y, "tasks"), *ph;
  all_phases = codalab_phases(y, 1);
  phases = json_copy(all_phases);
  if (phases == NULL ||
      codalab_keep_one_phase(&phases, only_phase, "name", &title, part_title, sizeof(part_title), log, p) != 0 ||
      codalab_keep_part(y, &phases, 1, part, &title, part_title, sizeof(part_title), slug, &competition, log, p) != 0)
    goto fail;
  if (slug[0] == '\0') /* the whole competition, or one phase: the slug of its title */
    codalab_slug_of(title, slug, sizeof(slug));
  if (competition != NULL)
    json_object_set_new(out, "competition", competition);
  size_t nph = json_array_size(phases);
  if (nph == 0) {
    codalab_note(p, "phases", "no phase");
    goto fail;
  }
  json_t *t;
  json_array_foreach(tasks, i, t)
  {
    /* with input data, the task takes code (below, for the task that scores); without, Codabench scores a result
     * submission without running it */
    if (json_object_get(t, "ingestion_program") != NULL &&
        codalab_truthy(json_object_get(t, "ingestion_only_during_scoring")))
      codalab_say(
        log,
        "tasks[%zu].ingestion_only_during_scoring: the ingestion program is not run on result files; they reach "
        "the scoring program as they are",
        i);
    else if (json_object_get(t, "ingestion_program") != NULL && json_object_get(t, "input_data") == NULL)
      codalab_say(log,
                  "tasks[%zu].ingestion_program is not run: it has no input_data, so participants upload their results "
                  "(prediction files), which the scoring program reads as on Codabench",
                  i);
  }
  json_array_foreach(phases, i, ph)
  {
    char where[48];
    size_t at =
      codalab_phase_pos(json_object_get(y, "phases"), ph, (size_t)codalab_int(json_object_get(ph, "index"), (int)i));
    snprintf(where, sizeof(where), "phases[%zu].", at);
    codalab_ignored(where, ph, phase_known, log);
    int64_t t0 = codalab_date_v2(json_string_value(json_object_get(ph, "start")));
    const char *end_text = json_string_value(json_object_get(ph, "end"));
    int64_t later = codalab_next_start(all_phases, t0, 1);
    int64_t t1 = end_text != NULL ? codalab_date_v2(end_text) : later > t0 ? later : codalab_never_ends(t0);
    if (t0 < 0 || t1 <= t0 || (i + 1 < nph && codalab_phase_start(json_array_get(phases, i + 1), 1) <= t0)) {
      snprintf(field, sizeof(field), "phases[%zu].start", at);
      codalab_note(
        p, field,
        "start (and end) must be dates like 1-31-2026 or 2026-01-31, the end after the start, each phase after the "
        "previous one");
      continue;
    }
    codalab_append_phase(out_phases, json_string_value(json_object_get(ph, "name")), i, t0, t1, ph, log);
    json_t *pt = json_object_get(ph, "tasks");
    if (json_array_size(pt) != 1) {
      snprintf(field, sizeof(field), "phases[%zu].tasks", at);
      codalab_note(p, field, "a phase runs 1 to %d tasks (each task becomes a challenge of its own); it has %zu",
                   CODALAB_MAX_PARTS, json_array_size(pt));
      continue;
    }
    program_task =
      codalab_int(json_array_get(pt, 0), -1); /* the last phase's task scores: its reference is the truth */
  }
  if (p->n > 0)
    goto fail;
  json_t *task = codalab_task_of(tasks, program_task);
  snprintf(field, sizeof(field), "tasks[%d]", program_task);
  if (task == NULL) {
    codalab_note(p, "phases", "the last phase names task %d, which tasks does not define", program_task);
    goto fail;
  }
  const char *ingestion = json_string_value(json_object_get(task, "ingestion_program"));
  const char *input = json_string_value(json_object_get(task, "input_data"));
  snprintf(field, sizeof(field), "tasks[%d].", program_task);
  if (ingestion != NULL && input != NULL && !codalab_truthy(json_object_get(task, "ingestion_only_during_scoring")) &&
      codalab_code_submission(src, dst, ingestion, input,
                              codalab_int(json_object_get(json_array_get(phases, nph - 1), "execution_time_limit"), 0),
                              0, field, out, p, log) != 0)
    goto fail;
  if (util_fmt(path, sizeof(path), "%s/scoring_program", dst) != 0 ||
      codalab_task_files(src, json_string_value(json_object_get(task, "scoring_program")), path,
                         "tasks[].scoring_program", p, log) != 0 ||
      util_fmt(ref_dir, sizeof(ref_dir), "%s/reference_data", dst) != 0 ||
      codalab_task_files(src, json_string_value(json_object_get(task, "reference_data")), ref_dir,
                         "tasks[].reference_data", p, log) != 0)
    goto fail;
  json_t *cols = codalab_columns_v2(json_array_get(json_object_get(y, "leaderboards"), 0));
  int mapped = codalab_map_columns(cols, out, key, sizeof(key), &higher, &precision, log);
  json_decref(cols);
  if (mapped != 0) {
    codalab_note(p, "leaderboards[0].columns", "no plain column (a key without computation) to rank on");
    goto fail;
  }
  if (json_array_size(json_object_get(y, "leaderboards")) > 1)
    codalab_say(log, "ignored leaderboards after the first");
  json_object_set_new(out, "leaderboard", json_pack("{s:i}", "precision", precision));
  if (codalab_app_paths(path, log, p) != 0 || codalab_numpy_compat(path, log, p) != 0 ||
      codalab_place_reference(ref_dir, path, dst, truth_rel, sizeof(truth_rel), &full, log, p) != 0 ||
      codalab_write_definition(dst, out, truth_rel, full, title, slug, description, key, higher, p) != 0) {
    rc = -1;
    goto fail;
  }
  store_remove_tree(ref_dir);
  codalab_say(log,
              "mapped the Codabench bundle \"%s\" to slug %s, %zu phase(s), task %d scores, leaderboard "
              "score \"%s\" (%s is better)",
              title != NULL ? title : slug, slug, nph, program_task, key, higher ? "higher" : "lower");
  rc = 0;
fail:
  json_decref(out);
  json_decref(phases);
  json_decref(all_phases);
  free(overview);
  free(text);
  return rc;
}
