/* bundle_check.c: what a bundle's definition names, checked (see bundle_internal.h): its data files, the ground
 * truth (a CSV the scorer reads, or a program's reference folder), a code challenge's hidden inputs and smoke sample,
 * the runtimes its programs run on; and the copy of a code challenge's inputs at import. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bundle_internal.h"
#include "csv.h"
#include "debian_rt.h"
#include "oci.h"
#include "score.h"
#include "store.h"
#include "util.h"

void bundle_check_files(const char *dir, const struct challenge_def *d, json_t *files, struct bundle_problems *p)
{
  char path[APP_PATH_MAX], sha[65];
  size_t i;
  json_t *v;
  json_array_foreach(d->data, i, v)
  {
    const char *rel = json_string_value(v);
    int64_t size = 0;
    if (rel == NULL || strncmp(rel, "data/", 5) != 0)
      continue; /* def.c reported it */
    if (!bundle_regular_file(dir, rel, path, sizeof(path))) {
      bundle_problem(p, rel, NULL, "listed in challenge.json but missing or not a regular file");
      continue;
    }
    if (util_sha256_file(path, sha, &size) != 0) {
      bundle_problem(p, rel, NULL, "cannot be read: %s", strerror(errno));
      continue;
    }
    json_array_append_new(
      files, json_pack("{s:s,s:s,s:I,s:s}", "name", rel + 5, "src", rel, "size", (json_int_t)size, "sha256", sha));
  }
}

/* The problems of a scorer error object ERR as problems of FILE: its message, then each listed problem. */
static void scorer_problems(const json_t *err, const char *file, const char *field, struct bundle_problems *p)
{
  json_t *e = json_object_get(err, "error");
  json_t *list = json_object_get(e, "problems");
  const char *msg = json_string_value(json_object_get(e, "message"));
  size_t i;
  json_t *it;
  if (json_array_size(list) == 0) {
    bundle_problem(p, file, field, "%s", msg != NULL ? msg : "rejected by the scorer");
    return;
  }
  json_array_foreach(list, i, it)
  {
    const char *m = json_string_value(json_object_get(it, "message"));
    json_int_t line = json_integer_value(json_object_get(it, "line"));
    if (line > 0)
      bundle_problem(p, file, field, "line %lld: %s", (long long)line, m != NULL ? m : "?");
    else
      bundle_problem(p, file, field, "%s", m != NULL ? m : "?");
  }
}

/* The columns of the CSV header of PATH (RFC 4180: quotes, BOM) as a JSON array of strings, or NULL with ERR. */
static json_t *csv_header(const char *path, char *err, size_t errlen)
{
  char line[65536];
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(err, errlen, "cannot be read: %s", strerror(errno));
    return NULL;
  }
  size_t n = fread(line, 1, sizeof(line) - 1, f);
  fclose(f);
  line[n] = '\0';
  struct csv_reader rd;
  struct csv_field fields[1100];
  int nf = 0;
  csv_reader_init(&rd, line, n, sizeof(line) - 1);
  enum csv_status cs = csv_next(&rd, fields, 1100, &nf);
  if (cs != CSV_OK || nf < 1 || nf > 1100) {
    snprintf(err, errlen, "cannot read the header row: %s",
             cs == CSV_OK    ? "too many columns"
             : cs == CSV_EOF ? "the file is empty"
                             : csv_status_text(cs));
    return NULL;
  }
  json_t *cols = json_array();
  for (int i = 0; cols != NULL && i < nf; i++)
    json_array_append_new(cols, json_stringn(fields[i].s, fields[i].len));
  return cols;
}

static int has_column(const json_t *cols, const char *name, int ignore_case)
{
  size_t i;
  json_t *v;
  json_array_foreach(cols, i, v)
  {
    if ((ignore_case ? strcasecmp : strcmp)(json_string_value(v), name) == 0)
      return 1;
  }
  return 0;
}

/* The ground truth: read with the scorer's own CSV reader, id column present (the first column when none is
 * named), split column present with both Public and Private rows (unless "split_column": null), and for a
 * built-in metric everything the scorer checks (unique ids, target columns, params, classes); then the sample
 * submission must score. Fills D's id column. */
/* The scorer's request for checking the ground truth PATH of D (SPLIT_COLUMN "" for none) into REQ. Returns the
 * metric's parameters as JSON text, which REQ points to: the caller frees it. */
static char *truth_request(const struct challenge_def *d, const char *path, const char *split_column,
                           struct score_request *req)
{
  memset(req, 0, sizeof(*req));
  score_limits_default(&req->lim);
  req->truth_path = path;
  req->metric = d->c.metric_name;
  char *params = json_dumps(json_object_get(json_object_get(d->root, "metric"), "params"), JSON_COMPACT);
  req->params_json = params;
  req->id_column = d->c.id_column;
  req->split_column = split_column;
  return params;
}

/* A ground truth folder: only for a program run once on it ("runs": "full"), which gets it as it is; its files
 * are regular, safely named and within the inputs' caps; no split column (nothing to split). TRUTH_SHA is the
 * hash of its sorted "relpath sha256" listing. */
static void truth_folder(const char *dir, struct challenge_def *d, struct bundle_problems *p, char truth_sha[65])
{
  char path[APP_PATH_MAX], err[256];
  const char *gt = d->truth_rel;
  json_t *listing = json_array();
  char *text = NULL;
  if (!d->program || !d->full_run) {
    bundle_problem(p, gt, "ground_truth",
                   "is a folder: only a scoring program run once on the whole reference takes one (\"metric\": "
                   "{\"program\": \"scoring_program\", \"runs\": \"full\", ...}); a built-in metric needs a CSV file");
    goto out;
  }
  if (listing == NULL || util_fmt(path, sizeof(path), "%s/%s", dir, gt) != 0 ||
      bundle_inputs_tree(path, NULL, err, sizeof(err), listing, NULL) != 0) {
    bundle_problem(p, gt, "ground_truth", "%s", listing == NULL ? "out of memory" : err);
    goto out;
  }
  if (json_array_size(listing) == 0) {
    bundle_problem(p, gt, "ground_truth", "the reference folder holds no file");
    goto out;
  }
  if (!d->split_none && json_object_get(d->root, "split_column") != NULL)
    bundle_problem(p, gt, "split_column", "a reference folder has no rows to split: set \"split_column\": null");
  d->split_none = 1;
  d->c.split_column[0] = '\0';
  bundle_sort_strings(listing); /* readdir's order differs between two copies of one folder */
  text = json_dumps(listing, JSON_COMPACT);
  if (text != NULL)
    util_sha256_hex(text, strlen(text), truth_sha);
out:
  free(text);
  json_decref(listing);
}

void bundle_check_truth(const char *dir, struct challenge_def *d, struct bundle_problems *p, char truth_sha[65])
{
  char path[APP_PATH_MAX], sample[APP_PATH_MAX], err[512];
  const char *gt = d->truth_rel;
  json_t *cols = NULL, *res = NULL;
  if (gt[0] == '\0' || strncmp(gt, "data/", 5) == 0)
    return; /* def.c reported it */
  if (bundle_truth_is_folder(dir, gt)) {
    truth_folder(dir, d, p, truth_sha);
    return;
  }
  if (!bundle_regular_file(dir, gt, path, sizeof(path))) {
    bundle_problem(p, gt, NULL, "the ground truth file is missing or not a regular file");
    return;
  }
  if (util_sha256_file(path, truth_sha, NULL) != 0) {
    bundle_problem(p, gt, NULL, "cannot be read: %s", strerror(errno));
    return;
  }
  cols = csv_header(path, err, sizeof(err));
  if (cols == NULL) {
    bundle_problem(p, gt, NULL, "%s", err);
    return;
  }
  if (d->id_default)
    util_strlcpy(d->c.id_column, json_string_value(json_array_get(cols, 0)), sizeof(d->c.id_column));
  else if (!has_column(cols, d->c.id_column, 0))
    bundle_problem(p, gt, "id_column", "the ground truth has no column \"%s\" (its columns: see its first line)",
                   d->c.id_column);
  if (!d->split_none && !has_column(cols, d->c.split_column, 1))
    bundle_problem(p, gt, "split_column",
                   "the ground truth has no column \"%s\": add one holding Public or Private for each "
                   "row, or set \"split_column\": null in challenge.json to score every row on the public leaderboard",
                   d->c.split_column);
  if (d->program || bundle_has_problems(p))
    goto out; /* an organizer's program reads the rows it wants; the scorer checks the rest */
  struct score_request req;
  char *params = truth_request(d, path, d->split_none ? "" : d->c.split_column, &req);
  enum score_status st = score_check_truth(&req, &res);
  if (st != SCORE_OK) {
    scorer_problems(res, gt, NULL, p);
    free(params);
    goto out;
  }
  if (!d->split_none && (json_integer_value(json_object_get(res, "public_rows")) == 0 ||
                         json_integer_value(json_object_get(res, "private_rows")) == 0))
    bundle_problem(p, gt, "split_column",
                   "\"%s\" must hold both Public and Private rows (found %lld Public, %lld Private)", d->c.split_column,
                   (long long)json_integer_value(json_object_get(res, "public_rows")),
                   (long long)json_integer_value(json_object_get(res, "private_rows")));
  json_decref(res);
  res = NULL;
  if (d->sample_rel[0] != '\0' && bundle_regular_file(dir, d->sample_rel, sample, sizeof(sample))) {
    req.pred_path = sample;
    if (score_run(&req, &res) != SCORE_OK)
      scorer_problems(res, d->sample_rel, "sample_submission", p);
  }
  /* each secondary metric (docs/bundle.md, "Several metrics") with its params: on the sample when there is one,
   * else on the ground truth alone, so that a bad param fails here rather than every submission */
  for (int i = 0; i < d->nsecondary && !bundle_has_problems(p); i++) {
    char field[40];
    snprintf(field, sizeof(field), "secondary_metrics[%d]", i);
    req.metric = d->secondary[i].name;
    req.params_json = d->secondary[i].params;
    json_decref(res);
    res = NULL;
    if ((req.pred_path != NULL ? score_run(&req, &res) : score_check_truth(&req, &res)) != SCORE_OK)
      scorer_problems(res, req.pred_path != NULL ? d->sample_rel : gt, field, p);
  }
  free(params);
out:
  json_decref(res);
  json_decref(cols);
}

void bundle_check_code(const char *dir, struct challenge_def *d, struct bundle_problems *p)
{
  char path[APP_PATH_MAX], err[512], rel[256];
  struct stat st;
  const struct def_code *k = &d->code;
  if (!d->c.code)
    return;
  const char *folders[2] = {k->test_rel, k->smoke_rel};
  const char *fields[2] = {"submission.inputs.test", "submission.inputs.smoke"};
  for (int i = 0; i < 2; i++) {
    if (folders[i][0] == '\0')
      continue;
    snprintf(rel, sizeof(rel), "%s/", folders[i]);
    if (util_fmt(path, sizeof(path), "%s/%s", dir, folders[i]) != 0 || lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
      bundle_problem(p, rel, fields[i], "missing: the folder \"%s\" is not in the bundle", folders[i]);
      continue;
    }
    if (bundle_inputs_tree(path, NULL, err, sizeof(err), NULL, NULL) != 0)
      bundle_problem(p, rel, fields[i], "%s", err);
  }
  if (k->gpus > 0 && access("/dev/nvidiactl", F_OK) != 0)
    bundle_problem(p, "challenge.json", "submission.limits.gpus",
                   "asks for %d GPU(s), but this machine has no NVIDIA device (/dev/nvidiactl is missing)", k->gpus);
  if (k->smoke_rel[0] == '\0' || bundle_has_problems(p))
    return;
  snprintf(rel, sizeof(rel), "%s/solution.csv", k->smoke_rel);
  if (!bundle_regular_file(dir, rel, path, sizeof(path))) {
    bundle_problem(p, rel, "submission.inputs.smoke",
                   "missing: the smoke sample's ground truth (the ground truth's columns, without the split column)");
    return;
  }
  json_t *cols = csv_header(path, err, sizeof(err));
  if (cols == NULL) {
    bundle_problem(p, rel, NULL, "%s", err);
    return;
  }
  if (!has_column(cols, d->c.id_column, 0))
    bundle_problem(p, rel, "id_column", "has no column \"%s\": it has the ground truth's columns", d->c.id_column);
  if (!d->split_none && has_column(cols, d->c.split_column, 1))
    bundle_problem(p, rel, "split_column",
                   "has the split column \"%s\": the smoke sample is public, give its rows without it",
                   d->c.split_column);
  json_decref(cols);
  if (d->program || bundle_has_problems(p))
    return;
  struct score_request req;
  json_t *res = NULL;
  char *params = truth_request(d, path, "", &req);
  if (score_check_truth(&req, &res) != SCORE_OK)
    scorer_problems(res, rel, "submission.inputs.smoke", p);
  else if (json_integer_value(json_object_get(res, "rows")) == 0)
    bundle_problem(p, rel, "submission.inputs.smoke", "holds no rows");
  json_decref(res);
  free(params);
}

void bundle_check_runtime(const char *dir, struct def_runtime *rt, const struct org_program *prog, int check_only,
                          int build, struct bundle_problems *p)
{
  char path[APP_PATH_MAX], err[512] = "", tmp[APP_PATH_MAX] = "", work[APP_PATH_MAX], rootfs[APP_PATH_MAX] = "";
  char key[64];
  int rc = 0;
  if (strcmp(rt->kind, "debian") == 0) {
    rc = check_only && !build ? debian_rt_identity(rt->packages, rt->sha256, err, sizeof(err))
                              : debian_rt_cached(rt->packages, rt->sha256, rootfs, sizeof(rootfs), err, sizeof(err));
    snprintf(key, sizeof(key), "%s.packages", rt->field);
    if (rc != 0)
      bundle_problem(p, "challenge.json", key, "%s", err[0] != '\0' ? err : "cannot build the runtime");
  } else if (strcmp(rt->kind, "oci") == 0 && rt->archive[0] != '\0') {
    snprintf(key, sizeof(key), "%s.archive", rt->field);
    if (!bundle_regular_file(dir, rt->archive, path, sizeof(path))) {
      bundle_problem(p, rt->archive, key, "missing: the image archive is not in the bundle");
      return;
    }
    if (check_only && !build) {
      bundle_work_base(tmp, sizeof(tmp));
      size_t len = strlen(tmp);
      if (util_fmt(tmp + len, sizeof(tmp) - len, "/concours-oci-XXXXXX") != 0 || mkdtemp(tmp) == NULL ||
          util_fmt(work, sizeof(work), "%s/work", tmp) != 0 ||
          util_fmt(rootfs, sizeof(rootfs), "%s/rootfs", tmp) != 0 || mkdir(work, 0700) != 0 ||
          mkdir(rootfs, 0755) != 0) {
        bundle_problem(p, rt->archive, NULL, "cannot create a temporary folder to unpack the image: %s",
                       strerror(errno));
        if (tmp[0] != '\0' && strstr(tmp, "XXXXXX") == NULL)
          store_remove_tree(tmp);
        return;
      }
      rc = oci_unpack(path, work, rootfs, rt->sha256, err, sizeof(err));
    } else {
      rc = oci_cached(path, rt->sha256, rootfs, sizeof(rootfs), err, sizeof(err));
    }
    if (rc != 0)
      bundle_problem(p, rt->archive, key, "%s", err[0] != '\0' ? err : "cannot unpack the image");
  } else {
    return;
  }
  if (rc == 0 && prog != NULL && prog->cmd[0] != '\0' && util_fmt(path, sizeof(path), "%s/%s", dir, prog->rel) == 0)
    progcheck_run(path, prog->rel, prog->cmd, rootfs, prog->kind, p);
  if (tmp[0] != '\0')
    store_remove_tree(tmp);
}

int bundle_copy_code_inputs(const char *dir, const struct challenge_def *d, const char *version_dir, char *err,
                            size_t errlen)
{
  char src[APP_PATH_MAX], dst[APP_PATH_MAX], sha[65];
  int64_t size = 0;
  const struct def_code *k = &d->code;
  if (util_fmt(dst, sizeof(dst), "%s/inputs", version_dir) != 0 || mkdir(dst, 0755) != 0 ||
      util_fmt(src, sizeof(src), "%s/%s", dir, k->test_rel) != 0 ||
      util_fmt(dst, sizeof(dst), "%s/inputs/test", version_dir) != 0 ||
      bundle_inputs_tree(src, dst, err, errlen, NULL, NULL) != 0)
    return -1;
  if (k->smoke_rel[0] == '\0')
    return 0;
  if (util_fmt(src, sizeof(src), "%s/%s", dir, k->smoke_rel) != 0 ||
      util_fmt(dst, sizeof(dst), "%s/inputs/smoke", version_dir) != 0 ||
      bundle_inputs_tree(src, dst, err, errlen, NULL, "solution.csv") != 0 ||
      util_fmt(src, sizeof(src), "%s/%s/solution.csv", dir, k->smoke_rel) != 0 ||
      util_fmt(dst, sizeof(dst), "%s/private/smoke_solution.csv", version_dir) != 0 ||
      store_copy_file(src, dst, &size, sha, err, errlen) != 0 || chmod(dst, 0644) != 0)
    return -1;
  return 0;
}
