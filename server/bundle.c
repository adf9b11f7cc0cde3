/* bundle.c: see bundle.h. Validation collects every problem instead of stopping at the first one, so that an
 * organizer fixes a bundle in one round. */
#include "bundle.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "anon.h"
#include "codalab.h"
#include "db.h"
#include "metrics.h"
#include "sandbox.h"
#include "sandbox_program.h"
#include "store.h"
#include "util.h"

#define TEXT_MAX (1024 * 1024)
#define DEFINITION_MAX (256 * 1024)
#define MAX_DATA_FILES 256

void bundle_problemv(struct bundle_problems *p, const char *file, const char *field, const char *fmt, va_list ap)
{
  char msg[384];
  if (p->n >= BUNDLE_MAX_PROBLEMS) {
    p->dropped++;
    return;
  }
  vsnprintf(msg, sizeof(msg), fmt, ap);
  if (field != NULL)
    snprintf(p->text[p->n++], BUNDLE_PROBLEM_LEN, "%s: %s: %s", file, field, msg);
  else
    snprintf(p->text[p->n++], BUNDLE_PROBLEM_LEN, "%s: %s", file, msg);
}

static void problem(struct bundle_problems *p, const char *file, const char *field, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

static void problem(struct bundle_problems *p, const char *file, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  bundle_problemv(p, file, field, fmt, ap);
  va_end(ap);
}

/* A relative path inside the bundle: segments of [A-Za-z0-9._-], no "." or "..", no leading '/'. */
static int safe_relpath(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > 200 || s[0] == '/')
    return 0;
  const char *seg = s;
  for (size_t i = 0; i <= n; i++) {
    char c = s[i];
    if (c == '/' || c == '\0') {
      size_t len = (size_t)(s + i - seg);
      if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
        return 0;
      seg = s + i + 1;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      return 0;
  }
  return 1;
}

static int safe_slug(const char *s)
{
  size_t n = strlen(s);
  if (n < 2 || n > 63 || s[0] == '-')
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return 0;
  }
  return 1;
}

/* 1 when DIR/REL is a regular file (not a symlink), 0 otherwise. */
static int regular_file(const char *dir, const char *rel, char *path, size_t n)
{
  struct stat st;
  int len = snprintf(path, n, "%s/%s", dir, rel);
  if (len < 0 || (size_t)len >= n)
    return 0;
  return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Reads the first line of the CSV at PATH into LINE (header check). Returns 0 or -1. */
static int first_line(const char *path, char *line, size_t n)
{
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return -1;
  char *ok = fgets(line, (int)n, f);
  fclose(f);
  if (ok == NULL)
    return -1;
  line[strcspn(line, "\r\n")] = '\0';
  if ((unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB && (unsigned char)line[2] == 0xBF)
    memmove(line, line + 3, strlen(line + 3) + 1);
  return 0;
}

/* 1 when the comma-separated HEADER has the column NAME (unquoted or quoted), and its index in *IDX. */
static int header_has(const char *header, const char *name, int *idx)
{
  char buf[8192];
  util_strlcpy(buf, header, sizeof(buf));
  int i = 0;
  char *save = NULL;
  for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save), i++) {
    size_t len = strlen(tok);
    if (len >= 2 && tok[0] == '"' && tok[len - 1] == '"') {
      tok[len - 1] = '\0';
      tok++;
    }
    if (strcasecmp(tok, name) == 0) {
      if (idx != NULL)
        *idx = i;
      return 1;
    }
  }
  return 0;
}

static int int_field(json_t *o, const char *key, int min, int max, int dflt, int *out)
{
  json_t *v = json_object_get(o, key);
  if (v == NULL) {
    *out = dflt;
    return 0;
  }
  if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
    return -1;
  *out = (int)json_integer_value(v);
  return 0;
}

static void check_phases(json_t *def, struct challenge *c, struct bundle_problems *p)
{
  json_t *phases = json_object_get(def, "phases");
  size_t i;
  json_t *ph;
  if (!json_is_array(phases) || json_array_size(phases) == 0 || json_array_size(phases) > DB_MAX_PHASES) {
    problem(p, "challenge.json", "phases", "must be a list of 1 to %d phases", DB_MAX_PHASES);
    return;
  }
  json_array_foreach(phases, i, ph) {
    char field[64];
    struct phase *out = &c->phases[c->nphases];
    memset(out, 0, sizeof(*out));
    snprintf(field, sizeof(field), "phases[%zu]", i);
    if (!json_is_object(ph)) {
      problem(p, "challenge.json", field, "must be an object");
      continue;
    }
    const char *name = json_string_value(json_object_get(ph, "name"));
    if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(out->name))
      problem(p, "challenge.json", field, "\"name\" must be a string of 1 to %zu characters", sizeof(out->name) - 1);
    else
      util_strlcpy(out->name, name, sizeof(out->name));
    for (int k = 0; k < c->nphases; k++) {
      if (name != NULL && strcmp(c->phases[k].name, name) == 0)
        problem(p, "challenge.json", field, "phase name \"%s\" is used twice", name);
    }
    const char *start = json_string_value(json_object_get(ph, "start"));
    const char *end = json_string_value(json_object_get(ph, "end"));
    if (util_parse_iso8601(start, &out->start_at) != 0)
      problem(p, "challenge.json", field, "\"start\" must be a UTC time like 2026-01-01T00:00:00Z");
    if (util_parse_iso8601(end, &out->end_at) != 0)
      problem(p, "challenge.json", field, "\"end\" must be a UTC time like 2026-03-01T00:00:00Z");
    else if (out->end_at <= out->start_at)
      problem(p, "challenge.json", field, "\"end\" must come after \"start\"");
    if (c->nphases > 0 && out->start_at < c->phases[c->nphases - 1].end_at && out->start_at != 0)
      problem(p, "challenge.json", field, "phases must follow each other without overlapping");
    if (int_field(ph, "max_per_day", 0, 1000000, 0, &out->max_per_day) != 0)
      problem(p, "challenge.json", field, "\"max_per_day\" must be an integer >= 0 (0: unlimited)");
    if (int_field(ph, "max_total", 0, 1000000, 0, &out->max_total) != 0)
      problem(p, "challenge.json", field, "\"max_total\" must be an integer >= 0 (0: unlimited)");
    if (int_field(ph, "final_selection", 0, 1000, 0, &out->final_selection) != 0)
      problem(p, "challenge.json", field, "\"final_selection\" must be an integer >= 0");
    c->nphases++;
  }
}

/* "metric": {"program": "scoring_program", "score_key": "auc", "higher_is_better": true} (API.md §2). */
static void check_program(json_t *m, struct challenge *c, struct bundle_problems *p)
{
  const char *prog = json_string_value(json_object_get(m, "program"));
  const char *key = json_string_value(json_object_get(m, "score_key"));
  json_t *hib = json_object_get(m, "higher_is_better");
  if (prog == NULL || strcmp(prog, "scoring_program") != 0)
    problem(p, "challenge.json", "metric.program", "must be \"scoring_program\" (the folder holding the program)");
  if (key == NULL || key[0] == '\0' || strlen(key) > 64 || strspn(key, "abcdefghijklmnopqrstuvwxyz"
                                                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(key))
    problem(p, "challenge.json", "metric.score_key",
            "must name the key of scores.txt / scores.json that is the leaderboard score (1 to 64 of A-Z a-z 0-9 _ . -)");
  if (!json_is_boolean(hib))
    problem(p, "challenge.json", "metric.higher_is_better", "must be true or false");
  c->metric_name[0] = '\0';
  c->higher_is_better = json_is_true(hib);
}

/* Walks the scoring program folder SRC (regular files and folders only, capped), copying it to DST when not
 * NULL (folders 0755, files 0644 or 0755 when executable: the sandbox uid reads them through an fd bind; the data
 * folder stays 0700). Returns 0, or -1 with a message in ERR. */
static int program_tree(const char *src, const char *dst, int depth, int *files, int64_t *bytes, char *err,
                        size_t errlen)
{
  char s[APP_PATH_MAX], d[APP_PATH_MAX], sha[65];
  struct dirent *e;
  int rc = -1;
  DIR *dir = opendir(src);
  if (dir == NULL || depth > 16) {
    snprintf(err, errlen, "cannot read the folder (or nested too deep)");
    goto out;
  }
  if (dst != NULL && (mkdir(dst, 0755) != 0 || chmod(dst, 0755) != 0)) {
    snprintf(err, errlen, "cannot create %s: %s", dst, strerror(errno));
    goto out;
  }
  for (e = readdir(dir); e != NULL; e = readdir(dir)) {
    struct stat st;
    int64_t size = 0;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (!safe_relpath(e->d_name) || util_fmt(s, sizeof(s), "%s/%s", src, e->d_name) != 0 ||
        (dst != NULL && util_fmt(d, sizeof(d), "%s/%s", dst, e->d_name) != 0) || lstat(s, &st) != 0) {
      snprintf(err, errlen, "\"%.100s\": names must be made of A-Z a-z 0-9 . _ -", e->d_name);
      goto out;
    }
    if (++*files > 2000 || (S_ISREG(st.st_mode) && (*bytes += st.st_size) > 256LL * 1024 * 1024)) {
      snprintf(err, errlen, "more than 2000 files or 256 MB");
      goto out;
    }
    if (S_ISDIR(st.st_mode)) {
      if (program_tree(s, dst != NULL ? d : NULL, depth + 1, files, bytes, err, errlen) != 0)
        goto out;
    } else if (!S_ISREG(st.st_mode)) {
      snprintf(err, errlen, "\"%.100s\" is not a regular file or folder (symlinks are refused)", e->d_name);
      goto out;
    } else if (dst != NULL && (store_copy_file(s, d, &size, sha, err, errlen) != 0 ||
                               chmod(d, (st.st_mode & 0100) != 0 ? 0755 : 0644) != 0)) {
      goto out;
    }
  }
  rc = 0;
out:
  if (dir != NULL)
    closedir(dir);
  return rc;
}

/* The scoring_program folder of a bundle whose metric names a program: present, safe, with a command line. */
static void check_program_dir(const char *dir, json_t *def, struct bundle_problems *p)
{
  char path[APP_PATH_MAX], cmd[SANDBOX_PROGRAM_CMD_MAX], err[512];
  int files = 0;
  int64_t bytes = 0;
  if (json_object_get(json_object_get(def, "metric"), "program") == NULL)
    return;
  if (util_fmt(path, sizeof(path), "%s/scoring_program", dir) != 0 || program_tree(path, NULL, 0, &files, &bytes,
                                                                                   err, sizeof(err)) != 0) {
    problem(p, "scoring_program/", NULL, "%s", files == 0 && bytes == 0 ? "missing or unreadable folder" : err);
    return;
  }
  if (sandbox_program_command(path, cmd, sizeof(cmd), err, sizeof(err)) != 0)
    problem(p, "scoring_program/metadata", NULL, "%s", err);
}

static void check_limits(json_t *def, struct bundle_problems *p)
{
  struct runner_limits l;
  char err[256];
  if (sandbox_limits_parse(json_object_get(def, "limits"), 600, &l, err, sizeof(err)) != 0)
    problem(p, "challenge.json", "limits", "%s", err);
}

static void check_metric(json_t *def, struct challenge *c, struct bundle_problems *p)
{
  json_t *m = json_object_get(def, "metric");
  if (!json_is_object(m)) {
    problem(p, "challenge.json", "metric", "must be an object like {\"name\": \"roc_auc\", \"params\": {}}");
    return;
  }
  char *text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
  if (text == NULL || strlen(text) >= sizeof(c->metric_json))
    problem(p, "challenge.json", "metric", "is too large");
  else
    util_strlcpy(c->metric_json, text, sizeof(c->metric_json));
  free(text);
  if (json_object_get(m, "program") != NULL) {
    check_program(m, c, p);
    return;
  }
  const char *name = json_string_value(json_object_get(m, "name"));
  const struct score_metric *sm = name != NULL ? score_metric_find(name) : NULL;
  if (sm == NULL) {
    problem(p, "challenge.json", "metric.name", "\"%s\" is not a built-in metric (see concours-score --help)",
            name != NULL ? name : "(missing)");
    return;
  }
  json_t *params = json_object_get(m, "params");
  if (params != NULL && !json_is_object(params))
    problem(p, "challenge.json", "metric.params", "must be an object");
  util_strlcpy(c->metric_name, sm->name, sizeof(c->metric_name));
  c->higher_is_better = sm->higher_is_better;
}

/* Validates data files and builds FILES ([{"name","size":0,"sha256":""}]; filled at copy time). */
static void check_data(const char *dir, json_t *def, json_t *files, struct bundle_problems *p)
{
  json_t *data = json_object_get(def, "data");
  size_t i;
  json_t *v;
  char path[APP_PATH_MAX];
  if (!json_is_array(data) || json_array_size(data) > MAX_DATA_FILES) {
    problem(p, "challenge.json", "data", "must be a list of at most %d paths under data/", MAX_DATA_FILES);
    return;
  }
  json_array_foreach(data, i, v) {
    char field[32];
    const char *rel = json_string_value(v);
    snprintf(field, sizeof(field), "data[%zu]", i);
    if (rel == NULL || strncmp(rel, "data/", 5) != 0 || !safe_relpath(rel)) {
      problem(p, "challenge.json", field, "must be a path under data/ made of A-Z a-z 0-9 . _ - (got \"%s\")",
              rel != NULL ? rel : "?");
      continue;
    }
    if (!regular_file(dir, rel, path, sizeof(path))) {
      problem(p, rel, NULL, "listed in challenge.json but missing or not a regular file");
      continue;
    }
    json_array_append_new(files, json_pack("{s:s,s:s}", "name", rel + 5, "src", rel));
  }
}

static void check_truth(const char *dir, json_t *def, struct challenge *c, char *truth_rel, size_t n,
                        struct bundle_problems *p)
{
  char path[APP_PATH_MAX], header[8192];
  const char *gt = json_string_value(json_object_get(def, "ground_truth"));
  const char *idc = json_string_value(json_object_get(def, "id_column"));
  const char *split = json_string_value(json_object_get(def, "split_column"));
  if (json_object_get(def, "id_column") != NULL && (idc == NULL || idc[0] == '\0'))
    problem(p, "challenge.json", "id_column", "must be a column name");
  if (json_object_get(def, "split_column") != NULL && (split == NULL || split[0] == '\0'))
    problem(p, "challenge.json", "split_column", "must be a column name");
  util_strlcpy(c->split_column, split != NULL ? split : "Usage", sizeof(c->split_column));
  if (gt == NULL || !safe_relpath(gt) || strncmp(gt, "data/", 5) == 0) {
    problem(p, "challenge.json", "ground_truth", "must be a path outside data/, like private/solution.csv");
    return;
  }
  util_strlcpy(truth_rel, gt, n);
  if (!regular_file(dir, gt, path, sizeof(path))) {
    problem(p, gt, NULL, "the ground truth file is missing or not a regular file");
    return;
  }
  if (first_line(path, header, sizeof(header)) != 0 || header[0] == '\0') {
    problem(p, gt, NULL, "cannot read the header row");
    return;
  }
  if (idc != NULL) {
    if (!header_has(header, idc, NULL))
      problem(p, gt, "id_column", "the ground truth has no column \"%s\"", idc);
    util_strlcpy(c->id_column, idc, sizeof(c->id_column));
  } else {
    size_t len = strcspn(header, ",");
    char first[128];
    snprintf(first, sizeof(first), "%.*s", (int)(len < sizeof(first) - 1 ? len : sizeof(first) - 1), header);
    util_strlcpy(c->id_column, first, sizeof(c->id_column));
  }
}

/* 1 when REL names a CSV file, the only kind the anonymity check reads. */
static int is_csv(const char *rel)
{
  size_t n = strlen(rel);
  return n > 4 && strcasecmp(rel + n - 4, ".csv") == 0;
}

/* Appends to WHY (a JSON array of strings) the reasons REPORT (from anon_check_file) failed: column names, rules
 * and counts, never a cell value. */
static void anonymity_reasons(const json_t *report, json_t *why)
{
  char msg[384];
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(report, "direct_identifiers"), i, d) {
    const char *col = json_string_value(json_object_get(d, "column"));
    const char *rule = json_string_value(json_object_get(d, "rule"));
    snprintf(msg, sizeof(msg), "direct identifier in column \"%.100s\" (rule %.80s, %lld values)",
             col != NULL ? col : "?", rule != NULL ? rule : "?",
             (long long)json_integer_value(json_object_get(d, "count")));
    json_array_append_new(why, json_string(msg));
  }
  json_int_t rows = json_integer_value(json_object_get(report, "rows"));
  json_int_t k = json_integer_value(json_object_get(report, "k"));
  json_int_t ka = json_integer_value(json_object_get(report, "k_anonymity"));
  if (rows > 0 && ka < k) {
    snprintf(msg, sizeof(msg), "k-anonymity %lld below k = %lld (%lld records in smaller classes)", (long long)ka,
             (long long)k, (long long)json_integer_value(json_object_get(report, "records_below_k")));
    json_array_append_new(why, json_string(msg));
  }
  json_t *ld = json_object_get(report, "l_diversity");
  json_int_t l = json_integer_value(json_object_get(report, "l"));
  if (json_is_integer(ld) && rows > 0 && json_integer_value(ld) < l) {
    const char *sens = json_string_value(json_object_get(report, "sensitive"));
    snprintf(msg, sizeof(msg), "l-diversity %lld below l = %lld for \"%.100s\" (%lld records in classes with fewer "
             "distinct values)", (long long)json_integer_value(ld), (long long)l, sens != NULL ? sens : "?",
             (long long)json_integer_value(json_object_get(report, "records_below_l")));
    json_array_append_new(why, json_string(msg));
  }
  if (json_array_size(why) == 0 && !json_is_true(json_object_get(report, "passed"))) {
    json_array_foreach(json_object_get(report, "failures"), i, d)
      json_array_append(why, d);
  }
}

/* Checks every CSV file of FILES (entries {"name","src"}) with OPT and sets each entry's "anonymity" to its
 * report. The reasons a file fails (or cannot be checked) are appended to FAILED as {"file","problems"}; they are
 * also problems of P unless OVERRIDE. */
static void check_anonymity(const char *dir, const struct anon_check_options *opt, json_t *files, int override,
                            json_t *failed, struct bundle_problems *p)
{
  char path[APP_PATH_MAX], err[512];
  size_t i, k;
  json_t *f, *w;
  json_array_foreach(files, i, f) {
    const char *rel = json_string_value(json_object_get(f, "src"));
    json_t *report = NULL;
    if (rel == NULL || !is_csv(rel))
      continue;
    json_t *why = json_array();
    if (why == NULL || util_fmt(path, sizeof(path), "%s/%s", dir, rel) != 0) {
      problem(p, rel, "anonymity", "could not be checked (out of memory or path too long)");
      json_decref(why);
      continue;
    }
    int rc = anon_check_file(path, opt, &report, err, sizeof(err));
    if (rc == ANON_ERROR) {
      char msg[640];
      snprintf(msg, sizeof(msg), "cannot be checked: %s", err);
      json_array_append_new(why, json_string(msg));
    } else if (rc == ANON_FAIL) {
      anonymity_reasons(report, why);
      if (json_array_size(why) == 0) /* a reason cut inside a UTF-8 character is no reason to pass */
        json_array_append_new(why, json_string("failed the anonymity check (see the report)"));
    }
    if (report != NULL)
      json_object_set_new(f, "anonymity", report);
    if (json_array_size(why) == 0) {
      json_decref(why);
      continue;
    }
    if (!override) {
      json_array_foreach(why, k, w)
        problem(p, rel, "anonymity", "%s", json_string_value(w));
    }
    json_array_append_new(failed, json_pack("{s:s,s:o}", "file", rel, "problems", why));
  }
}

static char *read_text(const char *dir, const char *rel, int required, struct bundle_problems *p)
{
  char path[APP_PATH_MAX];
  size_t len = 0;
  if (!regular_file(dir, rel, path, sizeof(path))) {
    if (required)
      problem(p, rel, NULL, "missing (participants must see it)");
    return strdup("");
  }
  char *s = util_read_file(path, TEXT_MAX, &len);
  if (s == NULL)
    problem(p, rel, NULL, "unreadable or larger than %d bytes", TEXT_MAX);
  return s != NULL ? s : strdup("");
}

/* Copies the validated files into DATA/challenges/<slug>/<version>/, filling sizes and hashes in FILES. */
static int copy_bundle(const char *dir, const struct challenge *c, const char *truth_rel, json_t *files,
                       const char *version_dir, struct bundle_problems *p)
{
  char src[APP_PATH_MAX], dst[APP_PATH_MAX], folder[APP_PATH_MAX], err[256] = "", sha[65];
  int64_t size = 0;
  size_t i;
  json_t *f;
  static const char *const texts[] = {"challenge.json", "overview.md", "terms.md"};
  for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
    if (!regular_file(dir, texts[k], src, sizeof(src)))
      continue;
    if (util_fmt(dst, sizeof(dst), "%s/%s", version_dir, texts[k]) != 0 ||
        store_copy_file(src, dst, &size, sha, err, sizeof(err)) != 0)
      goto fail;
  }
  json_array_foreach(files, i, f) {
    const char *rel = json_string_value(json_object_get(f, "src"));
    if (util_fmt(src, sizeof(src), "%s/%s", dir, rel) != 0 ||
        util_fmt(dst, sizeof(dst), "%s/%s", version_dir, rel) != 0)
      goto fail;
    util_strlcpy(folder, dst, sizeof(folder));
    *strrchr(folder, '/') = '\0';
    if (util_mkdirs(folder, 0700) != 0 || store_copy_file(src, dst, &size, sha, err, sizeof(err)) != 0)
      goto fail;
    json_object_set_new(f, "size", json_integer(size));
    json_object_set_new(f, "sha256", json_string(sha));
  }
  if (util_fmt(src, sizeof(src), "%s/%s", dir, truth_rel) != 0 ||
      util_fmt(folder, sizeof(folder), "%s/private", version_dir) != 0 ||
      util_fmt(dst, sizeof(dst), "%s/private/solution.csv", version_dir) != 0 ||
      util_mkdirs(folder, 0700) != 0 || store_copy_file(src, dst, &size, sha, err, sizeof(err)) != 0)
    goto fail;
  /* The sandboxed scorer runs as an unprivileged uid and reaches this file through an fd bind only. */
  if (chmod(dst, 0644) != 0)
    goto fail;
  if (c->metric_name[0] == '\0') {
    int nfiles = 0;
    int64_t bytes = 0;
    if (util_fmt(src, sizeof(src), "%s/scoring_program", dir) != 0 ||
        util_fmt(dst, sizeof(dst), "%s/scoring_program", version_dir) != 0 ||
        program_tree(src, dst, 0, &nfiles, &bytes, err, sizeof(err)) != 0)
      goto fail;
  }
  return 0;
fail:
  problem(p, "(import)", NULL, "could not copy the bundle into the data folder: %s", err);
  return -1;
}

/* Removes every version folder of the challenge but KEEP. */
static void remove_old_versions(const char *slug_dir, const char *keep)
{
  char path[APP_PATH_MAX];
  DIR *d = opendir(slug_dir);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || strcmp(e->d_name, keep) == 0)
      continue;
    int n = snprintf(path, sizeof(path), "%s/%s", slug_dir, e->d_name);
    if (n > 0 && (size_t)n < sizeof(path))
      store_remove_tree(path);
  }
  closedir(d);
}

int bundle_import(sqlite3 *db, const char *dir, char slug_out[64], struct bundle_problems *p)
{
  return bundle_import_opts(db, dir, slug_out, p, NULL);
}

int bundle_import_opts(sqlite3 *db, const char *dir, char slug_out[64], struct bundle_problems *p,
                       const struct bundle_options *opts)
{
  char path[APP_PATH_MAX], truth_rel[256] = "", version[64], rel[APP_PATH_MAX], version_dir[APP_PATH_MAX];
  char slug_dir[APP_PATH_MAX], rnd[32], aerr[512];
  struct challenge *c = calloc(1, sizeof(*c));
  json_t *def = NULL, *files = json_array(), *failed = json_array();
  char *overview = NULL, *terms = NULL, *definition = NULL;
  struct anon_check_options aopt;
  const char *override = opts != NULL && opts->anonymity_override != NULL && opts->anonymity_override[0] != '\0'
                           ? opts->anonymity_override : NULL;
  int rc = -1;
  json_error_t jerr;
  memset(p, 0, sizeof(*p));
  anon_check_options_init(&aopt);
  if (codalab_is_bundle(dir)) { /* a CodaLab v1.5 competition bundle: converted, then imported as ours */
    free(c);
    json_decref(files);
    json_decref(failed);
    return codalab_import(db, dir, slug_out, p);
  }
  if (c == NULL || files == NULL || failed == NULL) {
    problem(p, "(import)", NULL, "out of memory");
    goto out;
  }
  if (!regular_file(dir, "challenge.json", path, sizeof(path))) {
    problem(p, "challenge.json", NULL, "missing: a bundle is a folder holding challenge.json");
    rc = 1;
    goto out;
  }
  definition = util_read_file(path, DEFINITION_MAX, NULL);
  def = definition != NULL ? json_loads(definition, JSON_REJECT_DUPLICATES, &jerr) : NULL;
  if (definition == NULL) {
    problem(p, "challenge.json", NULL, "unreadable or larger than %d bytes", DEFINITION_MAX);
    rc = 1;
    goto out;
  }
  if (!json_is_object(def)) {
    if (def == NULL)
      problem(p, "challenge.json", NULL, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    else
      problem(p, "challenge.json", NULL, "must be a JSON object");
    rc = 1;
    goto out;
  }
  const char *slug = json_string_value(json_object_get(def, "slug"));
  if (slug == NULL || !safe_slug(slug))
    problem(p, "challenge.json", "slug", "must be 2 to 63 characters of a-z 0-9 - (got \"%s\")",
            slug != NULL ? slug : "?");
  else
    util_strlcpy(c->slug, slug, sizeof(c->slug));
  const char *title = json_string_value(json_object_get(def, "title"));
  if (title == NULL || title[0] == '\0' || strlen(title) > 200)
    problem(p, "challenge.json", "title", "must be a string of 1 to 200 characters");
  const char *summary = json_string_value(json_object_get(def, "summary"));
  if (json_object_get(def, "summary") != NULL && (summary == NULL || strlen(summary) > 500))
    problem(p, "challenge.json", "summary", "must be a string of at most 500 characters");
  if (int_field(def, "terms_version", 1, 1000000, -1, &c->terms_version) != 0 || c->terms_version < 1)
    problem(p, "challenge.json", "terms_version", "must be an integer >= 1");
  json_t *lb = json_object_get(def, "leaderboard");
  c->precision = 4;
  if (lb != NULL && (!json_is_object(lb) || int_field(lb, "precision", 0, 12, 4, &c->precision) != 0))
    problem(p, "challenge.json", "leaderboard.precision", "must be an integer from 0 to 12");
  json_t *teams = json_object_get(def, "teams");
  int max_size = 1;
  if (teams != NULL && (!json_is_object(teams) || int_field(teams, "max_size", 1, 1000, 1, &max_size) != 0))
    problem(p, "challenge.json", "teams.max_size", "must be an integer >= 1");
  c->team_max_size = max_size;
  check_metric(def, c, p);
  check_program_dir(dir, def, p);
  check_limits(def, p);
  check_phases(def, c, p);
  check_data(dir, def, files, p);
  check_truth(dir, def, c, truth_rel, sizeof(truth_rel), p);
  overview = read_text(dir, "overview.md", 0, p);
  terms = read_text(dir, "terms.md", 1, p);
  if (anon_check_options_from_json(&aopt, json_object_get(def, "anonymity"), aerr, sizeof(aerr)) != 0)
    problem(p, "challenge.json", NULL, "%s", aerr);
  if (p->n > 0 || p->dropped > 0) {
    rc = 1;
    goto out;
  }
  /* Valid: no public data file is served before its anonymity check passed, or was overridden. */
  check_anonymity(dir, &aopt, files, override != NULL, failed, p);
  if (p->n > 0 || p->dropped > 0) {
    rc = 1;
    goto out;
  }
  if (json_array_size(failed) > 0) { /* audited before anything is recorded: never an unaudited override */
    json_t *d = json_pack("{s:O}", "files", failed);
    enum app_status as = d != NULL ? db_audit_append(db, opts->actor != NULL ? opts->actor : "cli",
                                                     "anonymity.override", c->slug, NULL, override, d, app_now())
                                   : APP_INTERNAL;
    json_decref(d);
    if (as != APP_OK) {
      problem(p, "(import)", NULL, "could not record the anonymity override in the audit log");
      goto out;
    }
  }

  /* Valid: copy into a new version folder, point the database at it, then drop the old versions. */
  if (util_random_token(6, rnd, sizeof(rnd)) != 0)
    goto out;
  snprintf(version, sizeof(version), "v%lld-%s", (long long)app_now(), rnd);
  snprintf(rel, sizeof(rel), "challenges/%s/%s", c->slug, version);
  if (store_path(version_dir, sizeof(version_dir), rel) != 0 || util_mkdirs(version_dir, 0700) != 0) {
    problem(p, "(import)", NULL, "cannot create %s: %s", rel, strerror(errno));
    goto out;
  }
  if (copy_bundle(dir, c, truth_rel, files, version_dir, p) != 0) {
    store_remove_tree(version_dir);
    goto out;
  }
  util_strlcpy(c->dir, rel, sizeof(c->dir));
  size_t i;
  json_t *f;
  json_array_foreach(files, i, f)
    json_object_del(f, "src");
  if (db_challenge_upsert(db, c, title, summary != NULL ? summary : "", overview, terms, definition, files,
                          app_now()) != APP_OK) {
    problem(p, "(import)", NULL, "could not record the challenge in the database");
    store_remove_tree(version_dir);
    goto out;
  }
  snprintf(rel, sizeof(rel), "challenges/%s", c->slug);
  if (store_path(slug_dir, sizeof(slug_dir), rel) == 0)
    remove_old_versions(slug_dir, version);
  if (slug_out != NULL)
    util_strlcpy(slug_out, c->slug, 64);
  rc = 0;
out:
  anon_check_options_free(&aopt);
  json_decref(def);
  json_decref(files);
  json_decref(failed);
  free(definition);
  free(overview);
  free(terms);
  free(c);
  return rc;
}
