/* codalab.c: see codalab.h. The CodaLab v1 conversion, the conversion report, and what both versions write
 * (phases, challenge.json, the code-submission block); codalab_internal.h lists the other files. */
#include "codalab.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "app.h"
#include "codalab_internal.h"
#include "sandbox.h"
#include "store.h"
#include "util.h"

void codalab_note(struct bundle_problems *p, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  bundle_problemv(p, "competition.yaml", field, fmt, ap);
  va_end(ap);
}

void codalab_say(FILE *log, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("codalab: ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  if (log == NULL)
    return;
  va_start(ap, fmt);
  fputs("- ", log);
  vfprintf(log, fmt, ap);
  fputc('\n', log);
  va_end(ap);
}

void codalab_ignored(const char *where, json_t *obj, const char *const *known, FILE *log)
{
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v)
  {
    int k = 0;
    while (known[k] != NULL && strcmp(known[k], key) != 0)
      k++;
    if (known[k] == NULL)
      codalab_say(log, "ignored %s%s", where, key);
  }
}

void codalab_image_note(json_t *y, FILE *log)
{
  static const char *const keys[] = {"docker_image", "competition_docker_image"};
  for (size_t i = 0; i < 2; i++) {
    const char *image = json_string_value(json_object_get(y, keys[i]));
    if (image != NULL)
      codalab_say(log,
                  "%s %.200s: not pulled; the scoring program runs on the host's Python 3 (numpy, pandas, "
                  "scikit-learn, scipy) unless metric.runtime gives it that image: `docker save %.200s -o "
                  "runtime/scoring.tar` into this folder, then set \"runtime\": {\"kind\": \"oci\", \"archive\": "
                  "\"runtime/scoring.tar\"} in challenge.json's metric",
                  keys[i], image, image);
  }
}

int64_t codalab_never_ends(int64_t start)
{
  const int64_t year_2100 = 4102444800LL;
  return start < year_2100 ? year_2100 : start + 10LL * 365 * 86400;
}

/* Do the bundle paths A and B name the same file or folder ("scoring_program/" is "scoring_program")? */
static int same_path(const char *a, const char *b)
{
  size_t na = strlen(a), nb = strlen(b);
  while (na > 0 && a[na - 1] == '/')
    na--;
  while (nb > 0 && b[nb - 1] == '/')
    nb--;
  return na == nb && strncmp(a, b, na) == 0;
}

void codalab_append_phase(json_t *out, const char *label, size_t i, int64_t t0, int64_t t1, json_t *ph, FILE *log)
{
  char name[64], start[32], end[32];
  if (label != NULL && label[0] != '\0' && strlen(label) < sizeof(name))
    util_strlcpy(name, label, sizeof(name));
  else
    snprintf(name, sizeof(name), "phase %zu", i + 1);
  util_iso8601(t0, start);
  util_iso8601(t1, end);
  json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:i}", "name", name, "start", start, "end", end, "max_per_day",
                        codalab_int(json_object_get(ph, "max_submissions_per_day"), 0), "max_total",
                        codalab_int(json_object_get(ph, "max_submissions"), 0));
  if (o != NULL && codalab_int(json_object_get(ph, "max_submissions"), -1) == 0) { /* CodaLab: 0 means no submission */
    json_object_set_new(o, "closed", json_true());
    codalab_say(log, "phase %s accepts no submission (max_submissions: 0)", name);
  }
  json_array_append_new(out, o);
}

int codalab_keep_one_phase(json_t **phases, int only, const char *label_key, const char **title, char *buf, size_t n,
                           FILE *log, struct bundle_problems *p)
{
  if (only <= 0)
    return 0;
  json_t *ph = json_array_get(*phases, (size_t)only - 1);
  if (ph == NULL) {
    codalab_note(p, "phases", "--phase %d: the bundle has %zu phase(s)", only, json_array_size(*phases));
    return -1;
  }
  const char *label = json_string_value(json_object_get(ph, label_key));
  json_t *one = json_pack("[O]", ph);
  if (one == NULL)
    return -1;
  json_decref(*phases);
  *phases = one;
  snprintf(buf, n, "%s \u2014 %s", *title != NULL ? *title : "Competition", label != NULL ? label : "phase");
  *title = buf;
  codalab_say(log, "only phase %d (%s) is imported (--phase %d), as the challenge \"%s\"", only,
              label != NULL ? label : "unnamed", only, buf);
  return 0;
}

int codalab_is_bundle(const char *dir)
{
  char path[APP_PATH_MAX];
  struct stat st;
  if (util_fmt(path, sizeof(path), "%s/challenge.json", dir) != 0 || lstat(path, &st) == 0)
    return 0;
  return util_fmt(path, sizeof(path), "%s/competition.yaml", dir) == 0 && lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int codalab_write_definition(const char *dst, json_t *out, const char *truth_rel, int full, const char *title,
                             const char *slug, const char *description, const char *key, int higher,
                             struct bundle_problems *p)
{
  const char *shown = title != NULL ? title : slug;
  json_object_set_new(out, "slug", json_string(slug));
  json_object_set_new(out, "title", json_stringn(shown, strlen(shown) > 200 ? 200 : strlen(shown)));
  if (description != NULL)
    json_object_set_new(out, "summary",
                        json_stringn(description, strlen(description) > 500 ? 500 : strlen(description)));
  json_object_set_new(out, "terms_version", json_integer(1));
  if (json_object_get(out, "data") == NULL)
    json_object_set_new(out, "data", json_array());
  json_object_set_new(out, "ground_truth", json_string(truth_rel));
  if (full) /* nothing for concours to split: the score is public, as on CodaLab */
    json_object_set_new(out, "split_column", json_null());
  json_object_set_new(out, "metric", /* CodaLab programs write -1 when they cannot score: a failure, not a rank */
                      json_pack("{s:s,s:s,s:b,s:[i],s:b,s:s}", "program", "scoring_program", "score_key", key,
                                "higher_is_better", higher, "failure_values", -1, "show_errors", 1, "runs",
                                full ? "full" : "per_split"));
  char *def = json_dumps(out, JSON_INDENT(2));
  int rc = def != NULL && codalab_write_text(dst, "challenge.json", def) == 0 ? 0 : -1;
  if (rc != 0)
    codalab_note(p, "(import)", "cannot write challenge.json");
  free(def);
  return rc;
}

int codalab_code_submission(const char *src, const char *dst, const char *ingestion, const char *input, int wall_s,
                            int inputs_public, const char *where, json_t *out, struct bundle_problems *p, FILE *log)
{
  char path[APP_PATH_MAX], field[96];
  snprintf(field, sizeof(field), "%singestion_program", where);
  if (util_fmt(path, sizeof(path), "%s/ingestion_program", dst) != 0 ||
      codalab_task_files(src, ingestion, path, field, p, log) != 0 || codalab_app_paths(path, log, p) != 0 ||
      codalab_numpy_compat(path, log, p) != 0)
    return -1;
  snprintf(field, sizeof(field), "%sinput_data", where);
  if (util_fmt(path, sizeof(path), "%s/input_data", dst) != 0 ||
      codalab_task_files(src, input, path, field, p, log) != 0)
    return -1;
  json_t *sub = json_pack("{s:s,s:s,s:{s:s},s:b,s:{s:i}}", "kind", "code", "ingestion", "ingestion_program", "inputs",
                          "test", "input_data", "output_folder", 1, "limits", "wall_seconds",
                          wall_s > 0 && wall_s <= SANDBOX_WALL_MAX_S ? wall_s : 3600);
  json_object_set_new(out, "submission", sub);
  if (inputs_public) /* the log can show the inputs only (never the reference): participants read it, as there */
    json_object_set_new(sub, "participant_logs", json_string("all"));
  codalab_say(
    log,
    "%singestion_program: code submissions, as on CodaLab: the participant's code (at $submission_program) is "
    "run by the ingestion program on input_data, and the whole of its $output is handed to the scoring program "
    "as $input/res; %s",
    where,
    inputs_public ? "input_data is also served as public data, so participants read the ingestion log of their "
                    "runs, as on CodaLab (submission.participant_logs \"all\": a run never sees the reference)"
                  : "input_data is hidden, so participants see a safe message, not the ingestion log, of these "
                    "runs (submission.participant_logs \"all\" would show it, with whatever the code prints about "
                    "the hidden data)");
  return 0;
}

int codalab_convert(const char *src, const char *dst, int only_phase, int part, struct bundle_problems *p)
{
  static const char *const top_known[] = {
    "title", "description", "html", "phases", "leaderboard", "end_date", "version", "competition_docker_image", NULL};
  static const char *const phase_known[] = {"phasenumber",
                                            "label",
                                            "start_date",
                                            "max_submissions",
                                            "max_submissions_per_day",
                                            "scoring_program",
                                            "reference_data",
                                            "public_data",
                                            "starting_kit",
                                            "leaderboard_management_mode",
                                            "ingestion_program",
                                            "input_data",
                                            "is_scoring_only",
                                            "execution_time_limit",
                                            "ingestion_program_only_during_scoring",
                                            NULL};
  char path[APP_PATH_MAX], err[512], key[128], truth_rel[160], slug[64] = "", ref_dir[APP_PATH_MAX], part_title[320];
  json_t *competition = NULL; /* set by codalab_keep_part, then owned by out */
  json_t *y = NULL, *out = NULL, *phases = NULL, *all_phases = NULL;
  char *overview = NULL, *evaluation = NULL, *terms = NULL, *text = NULL;
  int rc = -1, higher = 1, precision = 4, full = 0;
  char *report = NULL; /* CONVERSION.md: every mapping decision, for the organizer to review */
  size_t report_len = 0;
  FILE *log = open_memstream(&report, &report_len);
  memset(p, 0, sizeof(*p));
  if (log == NULL || util_fmt(path, sizeof(path), "%s/competition.yaml", src) != 0 || mkdir(dst, 0700) != 0) {
    codalab_note(p, "(import)", "cannot create %s: %s", dst, strerror(errno));
    goto out;
  }
  y = codalab_load_yaml(path, err, sizeof(err));
  if (y == NULL) {
    codalab_note(p, "(file)", "%s", err);
    rc = 1;
    goto out;
  }
  const char *version = json_string_value(json_object_get(y, "version"));
  int v2 = version != NULL && strcmp(version, "2") == 0;
  fprintf(log,
          "# How concours mapped this competition\n\nconcours converted competition.yaml (%s) into this "
          "bundle. Each line is one decision; review them, then version the folder.\n\n",
          v2 ? "Codabench, version 2" : "CodaLab, version 1");
  if (v2) {
    rc = codalab_convert_v2(src, dst, y, only_phase, part, p, log);
    goto out;
  }
  if (version != NULL && strcmp(version, "1") != 0) {
    codalab_note(p, "version", "\"%s\" is neither 1 (CodaLab) nor 2 (Codabench)", version);
    rc = 1;
    goto out;
  }
  codalab_ignored("", y, top_known, log);
  codalab_image_note(y, log);
  const char *title = json_string_value(json_object_get(y, "title"));
  const char *description = json_string_value(json_object_get(y, "description"));
  json_t *html = json_object_get(y, "html");
  const char *k;
  json_t *v;
  json_object_foreach(html, k, v)
  {
    if (strcmp(k, "overview") != 0 && strcmp(k, "evaluation") != 0 && strcmp(k, "terms") != 0)
      codalab_say(log, "ignored html.%s (page %s)", k, json_string_value(v) != NULL ? json_string_value(v) : "?");
  }
  overview = codalab_page_text(src, json_string_value(json_object_get(html, "overview")));
  evaluation = codalab_page_text(src, json_string_value(json_object_get(html, "evaluation")));
  terms = codalab_page_text(src, json_string_value(json_object_get(html, "terms")));
  size_t tlen = strlen(title != NULL ? title : "") + strlen(overview != NULL ? overview : "") +
                strlen(evaluation != NULL ? evaluation : "") + 64;
  text = malloc(tlen);
  if (text == NULL)
    goto out;
  snprintf(text, tlen, "# %s\n\n%s\n\n## Evaluation\n\n%s\n", title != NULL ? title : "Competition",
           overview != NULL ? overview : "", evaluation != NULL ? evaluation : "");
  if (codalab_write_texts(dst, text, terms, "CodaLab", p) != 0)
    goto out;

  /* phases */
  all_phases = codalab_phases(y, 0);
  phases = json_copy(all_phases);
  if (phases == NULL ||
      codalab_keep_one_phase(&phases, only_phase, "label", &title, part_title, sizeof(part_title), log, p) != 0 ||
      codalab_keep_part(y, &phases, 0, part, &title, part_title, sizeof(part_title), slug, &competition, log, p) != 0) {
    rc = 1;
    goto out;
  }
  if (slug[0] == '\0') /* the whole competition, or one phase: the slug of its title */
    codalab_slug_of(title, slug, sizeof(slug));
  size_t nph = json_array_size(phases);
  if (nph == 0) {
    codalab_note(p, "phases", "no phase");
    rc = 1;
    goto out;
  }
  out = json_object();
  json_t *out_phases = json_array();
  json_object_set_new(out, "phases", out_phases);
  if (competition != NULL) {
    json_object_set_new(out, "competition", competition);
    competition = NULL;
  }
  int64_t end_all = codalab_date(json_string_value(json_object_get(y, "end_date")));
  for (size_t i = 0; i < nph; i++) {
    json_t *ph = json_array_get(phases, i);
    char where[48];
    size_t at = codalab_phase_pos(all_phases, ph, i);
    snprintf(where, sizeof(where), "phases[%zu].", at);
    codalab_ignored(where, ph, phase_known, log);
    int64_t t0 = codalab_date(json_string_value(json_object_get(ph, "start_date")));
    /* a phase ends when the next one of the competition begins (in any challenge made from it) */
    int64_t later = codalab_next_start(all_phases, t0, 0);
    int64_t t1 = later > t0     ? later
                 : end_all > t0 ? end_all
                                : codalab_never_ends(t0); /* end_date null: CodaLab's last phase never ends */
    char start_field[64];
    snprintf(start_field, sizeof(start_field), "phases[%zu].start_date", at);
    if (t0 < 0 || (i + 1 < nph && codalab_phase_start(json_array_get(phases, i + 1), 0) <= t0)) {
      codalab_note(p, start_field, "must be a date like 2026-01-31, each phase after the previous one");
      rc = 1;
      continue;
    }
    codalab_append_phase(out_phases, json_string_value(json_object_get(ph, "label")), i, t0, t1, ph, log);
    const char *mode = json_string_value(json_object_get(ph, "leaderboard_management_mode"));
    if (mode != NULL && strcmp(mode, "hide_results") == 0) {
      json_object_set_new(json_array_get(out_phases, json_array_size(out_phases) - 1), "hide_results", json_true());
      codalab_say(log,
                  "%sresults are hidden from participants until the jury publishes (leaderboard_management_mode: "
                  "hide_results)",
                  where);
    } else if (mode != NULL && strcmp(mode, "default") != 0) {
      codalab_say(log, "ignored %sleaderboard_management_mode %s", where, mode);
    }
    if (codalab_truthy(json_object_get(ph, "ingestion_program_only_during_scoring")))
      codalab_say(
        log,
        "%singestion_program_only_during_scoring: the ingestion program is not run on result files; they reach "
        "the scoring program as they are",
        where);
    else if (json_object_get(ph, "ingestion_program") != NULL && !codalab_takes_code(ph))
      codalab_say(
        log,
        "%singestion_program is not run: the phase scores results only (is_scoring_only, CodaLab's default, and "
        "input_data), so participants upload their results (prediction files), which the scoring program reads "
        "as on CodaLab",
        where);
  }
  for (size_t i = 0; i < json_array_size(all_phases); i++) { /* every phase's public files: they are public */
    json_t *ph = json_array_get(all_phases, i);
    char where[48];
    snprintf(where, sizeof(where), "phases[%zu].", i);
    if (codalab_served_file(src, dst, json_string_value(json_object_get(ph, "public_data")), out, where, p, log) != 0 ||
        codalab_served_file(src, dst, json_string_value(json_object_get(ph, "starting_kit")), out, where, p, log) != 0)
      rc = 1;
  }
  if (rc == 1)
    goto out;
  /* the last phase's program and reference score (codalab_phases gave each phase the one it is scored with) */
  json_t *last = json_array_get(phases, nph - 1);
  const char *program_zip = json_string_value(json_object_get(last, "scoring_program"));
  const char *reference_zip = json_string_value(json_object_get(last, "reference_data"));
  if (program_zip == NULL || reference_zip == NULL) {
    codalab_note(p, "phases", "no phase names a scoring_program and a reference_data zip");
    rc = 1;
    goto out;
  }
  snprintf(path, sizeof(path), "phases[%zu].", codalab_phase_pos(all_phases, last, nph - 1));
  const char *input = json_string_value(json_object_get(last, "input_data"));
  int inputs_public = 0; /* the input data is also a phase's public_data, served to participants */
  for (size_t i = 0; i < json_array_size(all_phases) && input != NULL; i++) {
    const char *pd = json_string_value(json_object_get(json_array_get(all_phases, i), "public_data"));
    inputs_public |= pd != NULL && same_path(pd, input);
  }
  if (codalab_takes_code(last) &&
      codalab_code_submission(src, dst, json_string_value(json_object_get(last, "ingestion_program")), input,
                              codalab_int(json_object_get(last, "execution_time_limit"), 0), inputs_public, path, out,
                              p, log) != 0)
    goto out;
  if (util_fmt(path, sizeof(path), "%s/scoring_program", dst) != 0 ||
      codalab_task_files(src, program_zip, path, "scoring_program", p, log) != 0 ||
      util_fmt(ref_dir, sizeof(ref_dir), "%s/reference_data", dst) != 0 ||
      codalab_task_files(src, reference_zip, ref_dir, "reference_data", p, log) != 0) {
    rc = 1;
    goto out;
  }
  json_t *cols = codalab_columns_v1(json_object_get(y, "leaderboard"));
  int mapped = codalab_map_columns(cols, out, key, sizeof(key), &higher, &precision, log);
  json_decref(cols);
  if (mapped != 0) {
    codalab_note(p, "leaderboard.columns", "no column: the leaderboard needs one score key");
    rc = 1;
    goto out;
  }
  json_object_set_new(out, "leaderboard", json_pack("{s:i}", "precision", precision));
  if (codalab_numpy_compat(path, log, p) != 0 ||
      codalab_place_reference(ref_dir, path, dst, truth_rel, sizeof(truth_rel), &full, log, p) != 0 ||
      codalab_write_definition(dst, out, truth_rel, full, title, slug, description, key, higher, p) != 0)
    goto out;
  store_remove_tree(ref_dir);
  codalab_say(log, "mapped \"%s\" to slug %s, %zu phase(s), leaderboard score \"%s\" (%s is better)",
              title != NULL ? title : slug, slug, nph, key, higher ? "higher" : "lower");
  rc = 0;
out:
  if (log != NULL) {
    fclose(log);
    if (rc == 0 && (report == NULL ||
                    codalab_write_text(dst, "CONVERSION.md", report) != 0)) { /* the report is part of the result */
      codalab_note(p, "(import)", "cannot write CONVERSION.md");
      rc = -1;
    }
  }
  free(report);
  json_decref(y);
  json_decref(out);
  json_decref(phases);
  json_decref(all_phases);
  json_decref(competition);
  free(overview);
  free(evaluation);
  free(terms);
  free(text);
  return rc;
}
