/* bundle.c: see bundle.h. Validation collects every problem instead of stopping at the first one, so that an
 * organizer fixes a bundle in one round. The definition itself is def.c's; this file checks what the
 * definition points at (files, the ground truth, the sample submission, the scoring program), then writes. */
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
#include "bundle_internal.h"
#include "codalab.h"
#include "db.h"
#include "def.h"
#include "extract.h"
#include "progcheck.h"
#include "sandbox_program.h"
#include "store.h"
#include "util.h"
#include "versions.h"

#define TEXT_MAX (1024 * 1024)
#define IMPORT_STACK (16 * 1024 * 1024)
#define ARCHIVE_MAX_BYTES (4ULL * 1024 * 1024 * 1024)
#define ARCHIVE_MAX_ENTRIES 20000

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

void bundle_problem(struct bundle_problems *p, const char *file, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  bundle_problemv(p, file, field, fmt, ap);
  va_end(ap);
}

int bundle_has_problems(const struct bundle_problems *p)
{
  return p->n > 0 || p->dropped > 0;
}

const char *bundle_state_name(enum bundle_state state)
{
  static const char *const names[] = {"valid", "new", "unchanged", "changed", "updated"};
  return (unsigned)state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

/* A file or folder name inside a bundle: [A-Za-z0-9._-], not "." or "..". */
static int safe_relpath(const char *s)
{
  size_t n = strlen(s);
  return n > 0 && n <= 200 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
         strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int bundle_regular_file(const char *dir, const char *rel, char *path, size_t n)
{
  struct stat st;
  if (util_fmt(path, n, "%s/%s", dir, rel) != 0)
    return 0;
  return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int bundle_truth_is_folder(const char *dir, const char *gt)
{
  char path[APP_PATH_MAX];
  struct stat st;
  return util_fmt(path, sizeof(path), "%s/%s", dir, gt) == 0 && lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

struct program_walk {
  const char *dst; /* copy into this folder, or NULL */
  json_t *listing; /* append "relpath sha256" of each file, or NULL */
  int files;
  int64_t bytes;
  char *err;
  size_t errlen;
  int max_files; /* limits of the folder */
  int64_t max_bytes;
  const char *skip; /* a top-level file name left out (the smoke sample's solution.csv), or NULL */
};

static int program_entry(const char *path, const char *rel, const struct stat *st, void *arg)
{
  struct program_walk *w = arg;
  char d[APP_PATH_MAX], sha[65];
  int64_t size = 0;
  const char *name = strrchr(rel, '/') != NULL ? strrchr(rel, '/') + 1 : rel;
  if (!safe_relpath(name) || (w->dst != NULL && util_fmt(d, sizeof(d), "%s/%s", w->dst, rel) != 0)) {
    snprintf(w->err, w->errlen, "\"%.100s\": names must be made of A-Z a-z 0-9 . _ -", name);
    return 1;
  }
  if (w->skip != NULL && strcmp(rel, w->skip) == 0)
    return 0;
  if (++w->files > w->max_files || (S_ISREG(st->st_mode) && (w->bytes += st->st_size) > w->max_bytes)) {
    snprintf(w->err, w->errlen, "more than %d files or %lld MB", w->max_files, (long long)(w->max_bytes >> 20));
    return 1;
  }
  if (S_ISDIR(st->st_mode)) {
    if (w->dst != NULL && (mkdir(d, 0755) != 0 || chmod(d, 0755) != 0)) {
      snprintf(w->err, w->errlen, "cannot create %.200s: %s", d, strerror(errno));
      return 1;
    }
    return 0;
  }
  if (!S_ISREG(st->st_mode)) {
    snprintf(w->err, w->errlen, "\"%.100s\" is not a regular file or folder (symlinks are refused)", rel);
    return 1;
  }
  if (w->dst != NULL && (store_copy_file(path, d, &size, sha, w->err, w->errlen) != 0 ||
                         chmod(d, (st->st_mode & 0100) != 0 ? 0755 : 0644) != 0))
    return 1;
  if (w->listing != NULL) {
    char line[APP_PATH_MAX + 80];
    if (util_sha256_file(path, sha, NULL) != 0) {
      snprintf(w->err, w->errlen, "\"%.100s\" cannot be read", rel);
      return 1;
    }
    snprintf(line, sizeof(line), "%s %s", rel, sha);
    json_array_append_new(w->listing, json_string(line));
  }
  return 0;
}

/* Walks the scoring program folder SRC (regular files and folders only, at most 16 deep, 2,000 files and 256 MB;
 * no recursion: util_walk), copying it to DST when not NULL (folders 0755, files 0644 or 0755 when executable:
 * the sandbox uid reads them through an fd bind; the data folder stays 0700) and appending "relpath sha256" of
 * each file to LISTING when not NULL. Returns 0, or -1 with a message in ERR. */
static int tree_walk(struct program_walk *w, const char *src)
{
  const char *dst = w->dst;
  char *err = w->err;
  size_t errlen = w->errlen;
  err[0] = '\0';
  if (dst != NULL && (mkdir(dst, 0755) != 0 || chmod(dst, 0755) != 0)) {
    snprintf(err, errlen, "cannot create %.200s: %s", dst, strerror(errno));
    return -1;
  }
  int rc = util_walk(src, 16, 100000, program_entry, w);
  if (rc == -2)
    snprintf(err, errlen, "nested more than 16 folders deep, or too many entries");
  else if (rc == -1 && err[0] == '\0')
    snprintf(err, errlen, "cannot read the folder: %s", strerror(errno));
  return rc == 0 ? 0 : -1;
}

int bundle_program_tree(const char *src, const char *dst, char *err, size_t errlen, json_t *listing)
{
  struct program_walk w = {dst, listing, 0, 0, err, errlen, 2000, 256LL << 20, NULL};
  return tree_walk(&w, src);
}

int bundle_inputs_tree(const char *src, const char *dst, char *err, size_t errlen, json_t *listing, const char *skip)
{
  struct program_walk w = {dst, listing, 0, 0, err, errlen, 100000, 4LL << 40, skip};
  return tree_walk(&w, src);
}

/* The program folder PROG->rel of the bundle DIR: present, safe, with a command line, which goes to PROG->cmd. The
 * program is checked against the host (progcheck) when ON_HOST; against its runtime by bundle_check_runtime()
 * otherwise. */
static void check_program_dir(const char *dir, struct org_program *prog, int on_host, struct bundle_problems *p)
{
  char path[APP_PATH_MAX], err[512], name[256];
  struct stat st;
  prog->cmd[0] = '\0';
  snprintf(name, sizeof(name), "%s/", prog->rel);
  if (util_fmt(path, sizeof(path), "%s/%s", dir, prog->rel) != 0 || lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    bundle_problem(p, name, NULL, "missing or unreadable folder");
    return;
  }
  if (bundle_program_tree(path, NULL, err, sizeof(err), NULL) != 0) {
    bundle_problem(p, name, NULL, "%s", err);
    return;
  }
  snprintf(name, sizeof(name), "%s/metadata", prog->rel);
  if (sandbox_program_command(path, prog->cmd, sizeof(prog->cmd), err, sizeof(err)) != 0) {
    bundle_problem(p, name, NULL, "%s", err);
    prog->cmd[0] = '\0';
  } else if (on_host) {
    /* its interpreter, Python 2 syntax and missing packages: named now, not by the first submission's crash */
    progcheck_run(path, prog->rel, prog->cmd, NULL, prog->kind, p);
  }
}

/* Appends to WHY (a JSON array of strings) the reasons REPORT (from anon_check_file) failed: column names, rules
 * and counts, never a cell value. */
static void anonymity_reasons(const json_t *report, json_t *why)
{
  char msg[384];
  size_t i;
  json_t *d;
  json_array_foreach(json_object_get(report, "direct_identifiers"), i, d)
  {
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
    snprintf(msg, sizeof(msg),
             "l-diversity %lld below l = %lld for \"%.100s\" (%lld records in classes with fewer "
             "distinct values)",
             (long long)json_integer_value(ld), (long long)l, sens != NULL ? sens : "?",
             (long long)json_integer_value(json_object_get(report, "records_below_l")));
    json_array_append_new(why, json_string(msg));
  }
  if (json_array_size(why) == 0 && !json_is_true(json_object_get(report, "passed"))) {
    json_array_foreach(json_object_get(report, "failures"), i, d) json_array_append(why, d);
  }
}

#define MAX_LINKED_FILES 64 /* files joined pairwise by the linkability check; more are not joined */

/* Linkability: pairs of data files that single people out once joined on a shared pseudonym column
 * (anon_check_links) are problems named "A + B" unless OVERRIDE, and go to FAILED either way. */
static void check_links(const char *dir, const struct anon_check_options *opt, json_t *files, int override,
                        json_t *failed, struct bundle_problems *p)
{
  char(*paths)[APP_PATH_MAX] = calloc(MAX_LINKED_FILES, APP_PATH_MAX), err[512], pair[512], msg[384];
  const char *path_ptrs[MAX_LINKED_FILES], *names[MAX_LINKED_FILES];
  json_t *reports = json_array(), *links = NULL, *f, *l;
  size_t i, n = 0;
  if (paths == NULL)
    goto out;
  json_array_foreach(files, i, f)
  {
    const char *rel = json_string_value(json_object_get(f, "src"));
    json_t *rep = json_object_get(f, "anonymity");
    if (rel == NULL || rep == NULL || json_object_get(rep, "k") == NULL || n == MAX_LINKED_FILES ||
        util_fmt(paths[n], sizeof(paths[n]), "%s/%s", dir, rel) != 0)
      continue;
    path_ptrs[n] = paths[n];
    names[n] = rel;
    json_array_append(reports, rep);
    n++;
  }
  if (reports == NULL || n < 2 ||
      anon_check_links(path_ptrs, names, reports, opt, &links, err, sizeof(err)) != ANON_FAIL)
    goto out;
  json_array_foreach(links, i, l)
  {
    const json_t *pf = json_object_get(l, "files");
    if (json_is_true(json_object_get(l, "passed")))
      continue;
    snprintf(pair, sizeof(pair), "%.200s + %.200s", json_string_value(json_array_get(pf, 0)),
             json_string_value(json_array_get(pf, 1)));
    snprintf(msg, sizeof(msg), "joined on \"%.64s\", k-anonymity %lld below k = %u (%lld of %lld linked records)",
             json_string_value(json_object_get(l, "on")),
             (long long)json_integer_value(json_object_get(l, "k_anonymity")), opt->k,
             (long long)json_integer_value(json_object_get(l, "records_below_k")),
             (long long)json_integer_value(json_object_get(l, "joined_records")));
    if (!override)
      bundle_problem(p, pair, "anonymity", "%s", msg);
    json_array_append_new(failed, json_pack("{s:s,s:[s]}", "file", pair, "problems", msg));
  }
out:
  free(paths);
  json_decref(reports);
  json_decref(links);
}

/* Checks every file of FILES (entries {"name","src"}), whatever its format (anon_check_path: tables, text, JSON
 * lines, gzip, zip, TIFF, PNG, DICOM; any other format cannot be checked and fails), with OPT and sets each
 * entry's "anonymity" to its report. The reasons a file fails (or cannot be checked) are appended to FAILED as {"file","problems"}; they are
 * also problems of P unless OVERRIDE. */
static void check_anonymity(const char *dir, const struct anon_check_options *opt, json_t *files, int override,
                            json_t *failed, struct bundle_problems *p)
{
  char path[APP_PATH_MAX], err[512];
  size_t i, k;
  json_t *f, *w;
  json_array_foreach(files, i, f)
  {
    const char *rel = json_string_value(json_object_get(f, "src"));
    json_t *report = NULL;
    if (rel == NULL)
      continue;
    json_t *why = json_array();
    if (why == NULL || util_fmt(path, sizeof(path), "%s/%s", dir, rel) != 0) {
      bundle_problem(p, rel, "anonymity", "could not be checked (out of memory or path too long)");
      json_decref(why);
      continue;
    }
    int rc = anon_check_path(path, rel, opt, &report, err, sizeof(err)); /* by its real format */
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
      json_array_foreach(why, k, w) bundle_problem(p, rel, "anonymity", "%s", json_string_value(w));
    }
    json_array_append_new(failed, json_pack("{s:s,s:o}", "file", rel, "problems", why));
  }
  check_links(dir, opt, files, override, failed, p);
}

static char *read_text(const char *dir, const char *rel, int required, struct bundle_problems *p)
{
  char path[APP_PATH_MAX];
  size_t len = 0;
  if (!bundle_regular_file(dir, rel, path, sizeof(path))) {
    if (required)
      bundle_problem(p, rel, NULL, "missing (participants must see it)");
    return strdup("");
  }
  char *s = util_read_file(path, TEXT_MAX, &len);
  if (s == NULL)
    bundle_problem(p, rel, NULL, "unreadable or larger than %d bytes", TEXT_MAX);
  return s != NULL ? s : strdup("");
}

/* Copies the validated files into DATA/challenges/<slug>/<version>/, filling sizes and hashes in FILES. */
static int copy_bundle(const char *dir, const struct challenge_def *d, json_t *files, const char *version_dir,
                       struct bundle_problems *p)
{
  char src[APP_PATH_MAX], dst[APP_PATH_MAX], folder[APP_PATH_MAX], err[256] = "", sha[65];
  const struct challenge *c = &d->c;
  const char *truth_rel = d->truth_rel;
  int64_t size = 0;
  size_t i;
  json_t *f;
  static const char *const texts[] = {"challenge.json", "overview.md", "terms.md"};
  for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
    if (!bundle_regular_file(dir, texts[k], src, sizeof(src)))
      continue;
    if (util_fmt(dst, sizeof(dst), "%s/%s", version_dir, texts[k]) != 0 ||
        store_copy_file(src, dst, &size, sha, err, sizeof(err)) != 0)
      goto fail;
  }
  json_array_foreach(files, i, f)
  {
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
      util_fmt(folder, sizeof(folder), "%s/private", version_dir) != 0 || util_mkdirs(folder, 0700) != 0)
    goto fail;
  if (bundle_truth_is_folder(dir, truth_rel)) { /* a program's reference of any files, handed to it as it is */
    if (util_fmt(dst, sizeof(dst), "%s/private/reference", version_dir) != 0 ||
        bundle_inputs_tree(src, dst, err, sizeof(err), NULL, NULL) != 0)
      goto fail;
  } else if (util_fmt(dst, sizeof(dst), "%s/private/solution.csv", version_dir) != 0 ||
             store_copy_file(src, dst, &size, sha, err, sizeof(err)) != 0 ||
             chmod(dst, 0644) != 0) { /* the sandboxed scorer (an unprivileged uid) reads it through a bind */
    goto fail;
  }
  if (c->metric_name[0] == '\0') {
    if (util_fmt(src, sizeof(src), "%s/scoring_program", dir) != 0 ||
        util_fmt(dst, sizeof(dst), "%s/scoring_program", version_dir) != 0 ||
        bundle_program_tree(src, dst, err, sizeof(err), NULL) != 0)
      goto fail;
  }
  if (c->code && bundle_copy_code_inputs(dir, d, version_dir, err, sizeof(err)) != 0)
    goto fail;
  if (c->code && d->code.ingestion_rel[0] != '\0' &&
      (util_fmt(src, sizeof(src), "%s/%s", dir, d->code.ingestion_rel) != 0 ||
       util_fmt(dst, sizeof(dst), "%s/ingestion", version_dir) != 0 ||
       bundle_program_tree(src, dst, err, sizeof(err), NULL) != 0))
    goto fail;
  if (d->code.runtime.sha256[0] != '\0' && (util_fmt(dst, sizeof(dst), "%s/runtime.sha256", version_dir) != 0 ||
                                            util_write_file_atomic(dst, d->code.runtime.sha256, 64, 0644) != 0))
    goto fail;
  if (d->program_runtime.sha256[0] != '\0' &&
      (util_fmt(dst, sizeof(dst), "%s/program-runtime.sha256", version_dir) != 0 ||
       util_write_file_atomic(dst, d->program_runtime.sha256, 64, 0644) != 0))
    goto fail;
  return 0;
fail:
  bundle_problem(p, "(import)", NULL, "could not copy the bundle into the data folder: %s", err);
  return -1;
}

/* ------------------------------------------------------------------------------------------ import */

struct import_job {
  sqlite3 *db;
  const char *path;
  const struct bundle_options *opts;
  struct bundle_result *res;
  struct bundle_problems *p;
};

/* Checks and imports the bundle folder DIR (see bundle_run). */
static int import_folder(const struct import_job *job, const char *dir)
{
  const struct bundle_options *opts = job->opts;
  struct bundle_problems *p = job->p;
  struct bundle_result *res = job->res;
  sqlite3 *db = job->db;
  char path[APP_PATH_MAX], version[64], rel[APP_PATH_MAX], version_dir[APP_PATH_MAX];
  char rnd[32], aerr[512], truth_sha[65] = "", bundle_sha[65] = "";
  struct challenge_def *d = calloc(1, sizeof(*d));
  struct org_program scoring = {"scoring_program", PROGCHECK_SCORING, ""}, ingestion = {"", PROGCHECK_INGESTION, ""};
  json_t *files = json_array(), *failed = json_array(), *old = NULL, *details = NULL;
  char *overview = NULL, *terms = NULL, *definition = NULL;
  struct anon_check_options aopt;
  const char *override =
    opts->anonymity_override != NULL && opts->anonymity_override[0] != '\0' ? opts->anonymity_override : NULL;
  const char *actor = opts->actor != NULL ? opts->actor : "cli";
  size_t deflen = 0;
  int rc = -1, truth_changed = 0, import_lock = -1;
  anon_check_options_init(&aopt);
  if (d == NULL || files == NULL || failed == NULL) {
    bundle_problem(p, "(import)", NULL, "out of memory");
    goto out;
  }
  rc = 1;
  if (!bundle_regular_file(dir, "challenge.json", path, sizeof(path))) {
    bundle_problem(p, "challenge.json", NULL, "missing: a bundle is a folder holding challenge.json");
    goto out;
  }
  definition = util_read_file(path, DEF_MAX_BYTES, &deflen);
  if (definition == NULL) {
    bundle_problem(p, "challenge.json", NULL, "unreadable or larger than %d bytes", DEF_MAX_BYTES);
    goto out;
  }
  if (def_parse(definition, deflen, "challenge.json", opts->default_wall_s > 0 ? opts->default_wall_s : 600, d, p) < 0)
    goto out;
  if (d->root == NULL || !json_is_object(d->root))
    goto out;
  int has_ingestion = d->c.code && d->code.ingestion_rel[0] != '\0';
  ingestion.rel = d->code.ingestion_rel;
  if (d->program)
    check_program_dir(dir, &scoring, strcmp(d->program_runtime.kind, "host") == 0, p);
  if (has_ingestion)
    check_program_dir(dir, &ingestion, strcmp(d->code.runtime.kind, "host") == 0, p);
  bundle_check_files(dir, d, files, p);
  bundle_check_truth(dir, d, p, truth_sha);
  bundle_check_code(dir, d, p);
  if (!bundle_has_problems(p) && d->c.code)
    bundle_check_runtime(dir, &d->code.runtime, has_ingestion ? &ingestion : NULL, opts->mode == BUNDLE_CHECK,
                         opts->build_runtime, p);
  if (!bundle_has_problems(p) && d->program)
    bundle_check_runtime(dir, &d->program_runtime, &scoring, opts->mode == BUNDLE_CHECK, opts->build_runtime, p);
  overview = read_text(dir, "overview.md", 0, p);
  terms = read_text(dir, "terms.md", 1, p);
  if (anon_check_options_from_json(&aopt, d->anonymity, aerr, sizeof(aerr)) != 0)
    bundle_problem(p, "challenge.json", "anonymity", "%s", aerr);
  if (bundle_has_problems(p))
    goto out;
  /* Valid: no public data file is served before its anonymity check passed, or was overridden. */
  check_anonymity(dir, &aopt, files, override != NULL, failed, p);
  if (bundle_has_problems(p))
    goto out;
  util_strlcpy(res->slug, d->c.slug, sizeof(res->slug));
  rc = -1;
  if (bundle_hash(definition, overview, terms, files, truth_sha, dir, d, bundle_sha) != 0) {
    bundle_problem(p, "(import)", NULL, "cannot hash the bundle");
    goto out;
  }
  util_strlcpy(res->bundle_sha256, bundle_sha, sizeof(res->bundle_sha256));
  if (opts->mode == BUNDLE_CHECK) {
    res->state = BUNDLE_VALID;
    rc = 0;
    goto out;
  }
  if (db_challenge_import_state(db, d->c.slug, &old) != APP_OK) {
    bundle_problem(p, "(import)", NULL, "cannot read the challenge from the database");
    goto out;
  }
  res->state = BUNDLE_NEW;
  if (old != NULL) {
    if (strcmp(json_string_value(json_object_get(old, "bundle_sha256")), bundle_sha) == 0) {
      res->state = BUNDLE_UNCHANGED;
      rc = 0;
      goto out;
    }
    res->changes = bundle_list_changes(old, d->root, overview, terms, files, truth_sha);
    if (res->changes == NULL) {
      bundle_problem(p, "(import)", NULL, "out of memory");
      goto out;
    }
    if (opts->mode == BUNDLE_ADD) {
      res->state = BUNDLE_CHANGED;
      rc = 0;
      goto out;
    }
    res->state = BUNDLE_UPDATED;
    truth_changed = strcmp(json_string_value(json_object_get(old, "truth_sha256")), truth_sha) != 0;
    struct challenge cur;
    const struct phase *ph = NULL;
    if (truth_changed && db_challenge_get(db, d->c.slug, &cur) == APP_OK) {
      ph = db_challenge_open_phase(&cur, app_now());
      if (cur.published_at != 0) {
        bundle_problem(p, d->truth_rel, NULL,
                       "the ground truth changed, but the final ranking of %s is published and "
                       "frozen",
                       d->c.slug);
        rc = 1;
        goto out;
      }
    }
    if (ph != NULL && !opts->rescore) {
      bundle_problem(
        p, d->truth_rel, NULL,
        "the ground truth changed while phase \"%s\" is open: import again with "
        "--rescore (every submission is scored again against the new ground truth) or after the phase ends",
        ph->name);
      rc = 1;
      goto out;
    }
  }
  if (json_array_size(failed) > 0) { /* audited before anything is recorded: never an unaudited override */
    json_t *a = json_pack("{s:O}", "files", failed);
    enum app_status as = a != NULL
                           ? db_audit_append(db, actor, "anonymity.override", d->c.slug, NULL, override, a, app_now())
                           : APP_INTERNAL;
    json_decref(a);
    if (as != APP_OK) {
      bundle_problem(p, "(import)", NULL, "could not record the anonymity override in the audit log");
      goto out;
    }
  }

  /* Copy into a new version folder and point the database at it (audited in the same transaction), under the
   * import lock: no sweep takes the folder meanwhile. The old version goes in a later sweep (versions.h), once no
   * run reads it. */
  if (util_random_token(6, rnd, sizeof(rnd)) != 0)
    goto out;
  import_lock = versions_import_begin();
  if (import_lock < 0) {
    bundle_problem(p, "(import)", NULL, "cannot take the data folder's import lock (import.lock): %s", strerror(errno));
    goto out;
  }
  snprintf(version, sizeof(version), "v%lld-%s", (long long)app_now(), rnd);
  snprintf(rel, sizeof(rel), "challenges/%s/%s", d->c.slug, version);
  if (store_path(version_dir, sizeof(version_dir), rel) != 0 || util_mkdirs(version_dir, 0700) != 0) {
    bundle_problem(p, "(import)", NULL, "cannot create %s: %s", rel, strerror(errno));
    goto out;
  }
  if (copy_bundle(dir, d, files, version_dir, p) != 0) {
    store_remove_tree(version_dir);
    goto out;
  }
  util_strlcpy(d->c.dir, rel, sizeof(d->c.dir));
  size_t i;
  json_t *f;
  json_array_foreach(files, i, f) json_object_del(f, "src");
  details = json_pack("{s:s,s:s,s:s,s:O?}", "state", bundle_state_name(res->state), "bundle_sha256", bundle_sha,
                      "truth_sha256", truth_sha, "changes", res->changes);
  if (details != NULL && old != NULL && truth_changed)
    json_object_set(details, "previous_truth_sha256", json_object_get(old, "truth_sha256"));
  struct db_import imp = {&d->c,
                          d->title,
                          d->summary,
                          overview,
                          terms,
                          definition,
                          files,
                          bundle_sha,
                          truth_sha,
                          actor,
                          details,
                          opts->draft ? CHALLENGE_DRAFT : CHALLENGE_OPEN,
                          d->code.runtime.kind};
  if (details == NULL || db_challenge_upsert(db, &imp, app_now()) != APP_OK) {
    bundle_problem(p, "(import)", NULL, "could not record the challenge in the database");
    store_remove_tree(version_dir);
    goto out;
  }
  versions_import_end(import_lock);
  import_lock = -1;
  if (truth_changed) {
    struct challenge cur;
    struct user who;
    char reason[200];
    memset(&who, 0, sizeof(who));
    util_strlcpy(who.username, actor, sizeof(who.username));
    snprintf(reason, sizeof(reason), "ground truth changed (sha256 %.12s... -> %.12s...)",
             json_string_value(json_object_get(old, "truth_sha256")), truth_sha);
    if (db_challenge_get(db, d->c.slug, &cur) != APP_OK ||
        db_rescore(db, &cur, 0, NULL, &who, reason, app_now(), &res->rescored) != APP_OK) {
      bundle_problem(p, "(import)", NULL,
                     "the bundle was imported but its submissions could not be re-queued: re-score them "
                     "from the organizer page");
      goto out;
    }
  }
  rc = 0;
out:
  versions_import_end(import_lock);
  anon_check_options_free(&aopt);
  def_free(d);
  free(d);
  json_decref(files);
  json_decref(failed);
  json_decref(old);
  json_decref(details);
  free(definition);
  free(overview);
  free(terms);
  return rc;
}

void bundle_work_base(char *out, size_t n)
{
  const char *data = store_data_dir();
  const char *tmp = getenv("TMPDIR");
  if (data != NULL && data[0] != '\0')
    snprintf(out, n, "%s/tmp", data);
  else
    snprintf(out, n, "%s", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
}

/* The folder holding challenge.json (or competition.yaml): ROOT itself, or its only subfolder. 0 or -1. */
static int bundle_root(const char *root, char *out, size_t n)
{
  char path[APP_PATH_MAX], only[APP_PATH_MAX] = "";
  struct stat st;
  int entries = 0;
  if (util_fmt(path, sizeof(path), "%s/challenge.json", root) == 0 && lstat(path, &st) == 0)
    return util_strlcpy(out, root, n);
  if (codalab_is_bundle(root))
    return util_strlcpy(out, root, n);
  DIR *d = opendir(root);
  if (d == NULL)
    return -1;
  struct dirent *e;
  for (e = readdir(d); e != NULL; e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    entries++;
    util_fmt(only, sizeof(only), "%s/%s", root, e->d_name);
  }
  closedir(d);
  if (entries != 1 || lstat(only, &st) != 0 || !S_ISDIR(st.st_mode))
    return -1;
  return util_strlcpy(out, only, n);
}

/* Converts part PART (0: the whole competition; codalab_parts) of the CodaLab bundle ROOT into DST and checks or
 * imports it as JOB says, with OPTS instead of JOB's options. 0, 1 or -1 as bundle_run. */
static int convert_one(const struct import_job *job, const struct bundle_options *opts, const char *root,
                       const char *dst, int part)
{
  struct import_job one = *job;
  one.opts = opts;
  int rc = codalab_convert(root, dst, opts->codalab_phase, part, job->p);
  if (rc != 0) {
    if (opts->convert_to != NULL && job->p->n > 0 && strstr(job->p->text[0], "cannot create") == NULL)
      store_remove_tree(dst); /* no half-converted folder left behind (one that existed is never touched) */
    return rc;
  }
  return import_folder(&one, dst);
}

/* Adds the result R of one challenge made from a competition to the combined result RES (the first gives the slug
 * and hash; a changed one makes the whole import "changed", its changes prefixed by its slug). 0, or -1 out of
 * memory. */
static int add_part(struct bundle_result *res, struct bundle_result *r)
{
  int first = res->parts == NULL;
  if (first)
    res->parts = json_array();
  json_t *t = json_pack("{s:s,s:s,s:s,s:i}", "slug", r->slug, "state", bundle_state_name(r->state), "bundle_sha256",
                        r->bundle_sha256, "rescored", r->rescored);
  if (res->parts == NULL || t == NULL || json_array_append_new(res->parts, t) != 0)
    return -1;
  if (first) {
    util_strlcpy(res->slug, r->slug, sizeof(res->slug));
    util_strlcpy(res->bundle_sha256, r->bundle_sha256, sizeof(res->bundle_sha256));
    res->state = r->state;
  }
  res->rescored += r->rescored;
  static const int rank[] = {
    [BUNDLE_VALID] = 0, [BUNDLE_UNCHANGED] = 1, [BUNDLE_UPDATED] = 2, [BUNDLE_NEW] = 3, [BUNDLE_CHANGED] = 4};
  if (rank[r->state] > rank[res->state])
    res->state = r->state;
  size_t i;
  json_t *c;
  json_array_foreach(r->changes, i, c)
  {
    if (res->changes == NULL)
      res->changes = json_array();
    if (res->changes == NULL ||
        json_array_append_new(res->changes, json_sprintf("%s: %s", r->slug, json_string_value(c))) != 0)
      return -1;
  }
  return 0;
}

/* A CodaLab / Codabench bundle at ROOT, converted under WORK (or into opts->convert_to) and checked or imported. A
 * competition that makes several challenges (codalab_parts: tracks, phases scored apart) is converted into one
 * folder per challenge, named by its slug, and every one is checked before any is imported, so that either all or
 * none are. */
static int import_codalab(const struct import_job *job, const char *root, const char *work)
{
  const struct bundle_options *opts = job->opts;
  struct bundle_problems *p = job->p;
  struct bundle_result *res = job->res;
  struct bundle_options check = *opts;
  char dst[APP_PATH_MAX], slugs[CODALAB_MAX_PARTS][64], parent[APP_PATH_MAX];
  int k = opts->codalab_phase > 0 ? 1 : codalab_parts(root, p), rc = 1;
  if (k <= 0)
    return k == 0 ? 1 : -1;
  if (k == 1) {
    if (opts->convert_to != NULL ? util_strlcpy(dst, opts->convert_to, sizeof(dst)) != 0
                                 : util_fmt(dst, sizeof(dst), "%s/converted", work) != 0) {
      bundle_problem(p, "(import)", NULL, "path too long");
      return -1;
    }
    return convert_one(job, opts, root, dst, 0);
  }
  /* the challenges' folders, named by their slugs: apart from the bundle, which may be unpacked right in WORK */
  if ((opts->convert_to != NULL ? util_strlcpy(parent, opts->convert_to, sizeof(parent))
                                : util_fmt(parent, sizeof(parent), "%s/.challenges", work)) != 0 ||
      mkdir(parent, 0700) != 0) {
    bundle_problem(p, "(import)", NULL, "cannot create %s: %s", parent, strerror(errno));
    return -1;
  }
  check.mode = BUNDLE_CHECK;
  check.build_runtime = 0;
  for (int pass = opts->mode == BUNDLE_CHECK ? 1 : 0; pass < 2; pass++) {
    for (int t = 1; t <= k; t++) {
      struct bundle_result r;
      char named[APP_PATH_MAX];
      memset(&r, 0, sizeof(r));
      struct import_job one = *job;
      one.res = &r;
      if (pass == 1 && opts->mode != BUNDLE_CHECK) { /* the import pass imports what the check pass converted */
        rc = util_fmt(dst, sizeof(dst), "%s/%s", parent, slugs[t - 1]) == 0 ? import_folder(&one, dst) : -1;
      } else {
        rc = util_fmt(dst, sizeof(dst), "%s/.part-%d", parent, t) == 0
               ? convert_one(&one, pass == 0 ? &check : opts, root, dst, t)
               : -1;
        for (int u = 1; u < t && rc == 0; u++) {
          if (strcmp(slugs[u - 1], r.slug) == 0) {
            bundle_problem(p, "phases", NULL,
                           "challenges %d and %d made from this competition would both be %s: give their phases "
                           "names of their own",
                           u, t, r.slug);
            rc = 1;
          }
        }
        if (rc == 0) { /* its folder is named by its slug */
          util_strlcpy(slugs[t - 1], r.slug, sizeof(slugs[0]));
          if (util_fmt(named, sizeof(named), "%s/%s", parent, r.slug) != 0 || rename(dst, named) != 0) {
            bundle_problem(p, "(import)", NULL, "cannot name the folder of %s: %s", r.slug, strerror(errno));
            rc = -1;
          }
        }
      }
      if (rc == 0 && pass == 1 && add_part(res, &r) != 0) {
        bundle_problem(p, "(import)", NULL, "out of memory");
        rc = -1;
      }
      json_decref(r.changes);
      if (rc != 0) {
        if (pass == 0 || opts->mode == BUNDLE_CHECK)
          bundle_problem(p, "(import)", NULL,
                         "challenge %d of the %d this competition makes has the problems above: none was %s", t, k,
                         opts->mode == BUNDLE_CHECK ? "converted" : "imported");
        else
          bundle_problem(p, "(import)", NULL,
                         "challenge %d of the %d this competition makes could not be imported (the %d before it were)",
                         t, k, t - 1);
        goto out;
      }
    }
  }
out:
  if (rc != 0 && opts->convert_to != NULL) /* made here: nothing half-converted is left */
    store_remove_tree(parent);
  return rc;
}

/* bundle_run on the big stack: unpack an archive, convert a CodaLab bundle, then import_folder. */
static int run_job(void *arg)
{
  const struct import_job *job = arg;
  struct bundle_problems *p = job->p;
  char base[APP_PATH_MAX], rnd[32], work[APP_PATH_MAX] = "", root[APP_PATH_MAX], err[512] = "";
  /* an organizer's archive: a name given twice keeps its later entry, as Python's zipfile writes and unzip reads them
   * (CodaLab bundles hold such zips) */
  struct extract_limits lim = {ARCHIVE_MAX_BYTES, ARCHIVE_MAX_ENTRIES, 255, 0600, 0700, 1};
  struct stat st;
  int rc = -1;
  if (stat(job->path, &st) != 0) {
    bundle_problem(p, job->path, NULL, "cannot be read: %s", strerror(errno));
    return 1;
  }
  bundle_work_base(base, sizeof(base));
  if (util_random_token(9, rnd, sizeof(rnd)) != 0 || util_fmt(work, sizeof(work), "%s/bundle-%s", base, rnd) != 0 ||
      mkdir(work, 0700) != 0) {
    bundle_problem(p, "(import)", NULL, "cannot create a work folder under %s: %s", base, strerror(errno));
    work[0] = '\0';
    goto out;
  }
  if (S_ISREG(st.st_mode)) {
    if (extract_archive(job->path, work, &lim, err, sizeof(err)) != 0) {
      bundle_problem(p, "(archive)", NULL, "%s", err);
      rc = 1;
      goto out;
    }
    if (bundle_root(work, root, sizeof(root)) != 0) {
      bundle_problem(p, "challenge.json", NULL,
                     "missing: the archive must hold the bundle folder (challenge.json at its "
                     "top, or in its only folder)");
      rc = 1;
      goto out;
    }
  } else {
    util_strlcpy(root, job->path, sizeof(root));
  }
  if (job->opts->codalab_phase > 0 && !codalab_is_bundle(root)) {
    bundle_problem(p, "(import)", NULL, "--phase goes with a CodaLab or Codabench bundle (competition.yaml)");
    rc = 1;
    goto out;
  }
  if (job->opts->convert_to != NULL && !codalab_is_bundle(root)) {
    bundle_problem(p, "competition.yaml", NULL,
                   "missing: only a CodaLab or Codabench bundle (competition.yaml at its top) is converted");
    rc = 1;
    goto out;
  }
  if (codalab_is_bundle(root)) { /* a CodaLab competition: converted into a concours bundle, then imported */
    rc = import_codalab(job, root, work);
    goto out;
  }
  rc = import_folder(job, root);
out:
  if (work[0] != '\0')
    store_remove_tree(work);
  return rc;
}

void bundle_result_free(struct bundle_result *res)
{
  json_decref(res->changes);
  json_decref(res->parts);
  res->changes = NULL;
  res->parts = NULL;
}

int bundle_run(sqlite3 *db, const char *path, const struct bundle_options *opts, struct bundle_result *res,
               struct bundle_problems *p)
{
  struct import_job job = {db, path, opts, res, p};
  memset(p, 0, sizeof(*p));
  memset(res, 0, sizeof(*res));
  int rc = util_run_with_stack(run_job, &job, IMPORT_STACK);
  if (rc < 0 && p->n == 0)
    bundle_problem(p, "(import)", NULL, "internal error (out of memory or threads)");
  if (rc != 0)
    bundle_result_free(res);
  return rc;
}
