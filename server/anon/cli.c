/* cli.c: `concours dataset check|pseudonymize ...`, the organizer's command line for the anon module.
 *
 * It only turns arguments into anon_check_options / anon_pseudo_options, calls the library and prints:
 * reports on stdout, problems on stderr, and the exit code says passed (0), failed (1) or unusable (2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "anon_internal.h"

#define DEFAULT_DATA_DIR "concours-data"
#define KEY_FILE_NAME "pseudonym.key"

static const char usage_text[] =
  "usage:\n"
  "  concours dataset check FILE... [--quasi COL,...] [--k N] [--sensitive COL] [--l N] [--json | --html]\n"
  "                                 [--max-record-bytes N] [--max-columns N]\n"
  "  concours dataset pseudonymize IN OUT --id COL [--key-file F | --data DIR] [--drop COL,...]\n"
  "                                 [--shift-dates COL,...] [--shift-max-days N]\n"
  "                                 [--generalize COL:N[,COL:band:N,COL:prefix:N...]] [--redact COL,...]\n"
  "  concours dataset strip-tiff IN OUT   (label and macro images and identifying tags removed,\n"
  "                                        pixel data copied bit for bit)\n"
  "  concours dataset deidentify-dicom IN OUT [--key-file F | --data DIR]   (PS3.15 basic profile)\n"
  "check reads each FILE by its real format: CSV / TSV / ';' or '|' tables, text, JSON lines (gzip'd or not),\n"
  "zip archives (every member), TIFF and whole-slide images (tags, label and macro images), PNG, DICOM\n"
  "(PS3.15 basic profile, via DCMTK's dcmdump); any other format is an input error.\n"
  "check exits 0 when every file passes, 1 when one fails, 2 on a usage or input error.\n"
  "See docs/anonymity.md for the rules, the report and the limits.\n";

/* A growing list of strings cut from comma-separated arguments; owns its strings. */
struct list {
  char **items;
  size_t n, cap;
};

static void list_free(struct list *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->items[i]);
  free(l->items);
  memset(l, 0, sizeof(*l));
}

/* Appends every comma-separated item of arg. Returns 0, or -1 (message printed) on an empty item or OOM. */
static int list_add(struct list *l, const char *option, const char *arg)
{
  const char *p = arg;

  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

    if (len == 0) {
      fprintf(stderr, "concours dataset: %s: empty column name in \"%s\"\n", option, arg);
      return -1;
    }
    if (l->n == l->cap) {
      size_t cap = l->cap == 0 ? 8 : l->cap * 2;
      char **items = realloc(l->items, cap * sizeof(*items));

      if (items == NULL)
        goto oom;
      l->items = items;
      l->cap = cap;
    }
    l->items[l->n] = strndup(p, len);
    if (l->items[l->n] == NULL)
      goto oom;
    l->n++;
    if (comma == NULL)
      return 0;
    p = comma + 1;
  }
oom:
  fprintf(stderr, "concours dataset: out of memory\n");
  return -1;
}

static int parse_count(const char *option, const char *s, unsigned long long max, unsigned long long *out)
{
  char *end = NULL;
  unsigned long long v;

  errno = 0;
  v = strtoull(s, &end, 10);
  if (s[0] < '0' || s[0] > '9' || errno != 0 || end == s || *end != '\0' || v < 1 || v > max) {
    fprintf(stderr, "concours dataset: %s needs a whole number from 1 to %llu, not \"%s\"\n", option, max, s);
    return -1;
  }
  *out = v;
  return 0;
}

enum option_id {
  OPT_JSON,
  OPT_HTML,
  OPT_QUASI,
  OPT_K,
  OPT_L,
  OPT_SENSITIVE,
  OPT_MAX_RECORD_BYTES,
  OPT_MAX_COLUMNS,
  OPT_ID,
  OPT_KEY_FILE,
  OPT_DATA,
  OPT_DROP,
  OPT_SHIFT_DATES,
  OPT_SHIFT_MAX_DAYS,
  OPT_GENERALIZE,
  OPT_REDACT,
  OPT_POSITIONAL = -1,
};

/* Every option of both subcommands: name, whether it takes a value. */
static const struct {
  const char *name;
  int has_value;
} options[] = {
  [OPT_JSON] = {"--json", 0},
  [OPT_HTML] = {"--html", 0},
  [OPT_QUASI] = {"--quasi", 1},
  [OPT_K] = {"--k", 1},
  [OPT_L] = {"--l", 1},
  [OPT_SENSITIVE] = {"--sensitive", 1},
  [OPT_MAX_RECORD_BYTES] = {"--max-record-bytes", 1},
  [OPT_MAX_COLUMNS] = {"--max-columns", 1},
  [OPT_ID] = {"--id", 1},
  [OPT_KEY_FILE] = {"--key-file", 1},
  [OPT_DATA] = {"--data", 1},
  [OPT_DROP] = {"--drop", 1},
  [OPT_SHIFT_DATES] = {"--shift-dates", 1},
  [OPT_SHIFT_MAX_DAYS] = {"--shift-max-days", 1},
  [OPT_GENERALIZE] = {"--generalize", 1},
  [OPT_REDACT] = {"--redact", 1},
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))
#define CHECK_OPTIONS                                                                                                  \
  ((1u << OPT_JSON) | (1u << OPT_HTML) | (1u << OPT_QUASI) | (1u << OPT_K) | (1u << OPT_L) | (1u << OPT_SENSITIVE) |   \
   (1u << OPT_MAX_RECORD_BYTES) | (1u << OPT_MAX_COLUMNS))
#define PSEUDO_OPTIONS                                                                                                 \
  ((1u << OPT_ID) | (1u << OPT_KEY_FILE) | (1u << OPT_DATA) | (1u << OPT_DROP) | (1u << OPT_SHIFT_DATES) |             \
   (1u << OPT_SHIFT_MAX_DAYS) | (1u << OPT_GENERALIZE) | (1u << OPT_REDACT) | (1u << OPT_MAX_RECORD_BYTES) |           \
   (1u << OPT_MAX_COLUMNS))

/* Reads argv[*i] ("--name VALUE", "--name=VALUE", "--flag" or a positional argument), advancing *i past a
   separate value. Sets *id (OPT_POSITIONAL for a positional argument) and *value. Returns 0, or -1 with a
   message printed for an unknown option (allowed is a mask of option ids) or a missing value. */
static int next_arg(const char *cmd, int argc, char **argv, int *i, unsigned allowed, int *id, const char **value)
{
  const char *a = argv[*i];

  *value = a;
  *id = OPT_POSITIONAL;
  if (a[0] != '-' || a[1] == '\0')
    return 0;
  for (size_t o = 0; o < N_OPTIONS; o++) {
    size_t n = strlen(options[o].name);

    if (!(allowed & (1u << o)) || strncmp(a, options[o].name, n) != 0)
      continue;
    if (a[n] == '=' && options[o].has_value) {
      *value = a + n + 1;
    } else if (a[n] != '\0') {
      continue;
    } else if (options[o].has_value) {
      if (*i + 1 >= argc) {
        fprintf(stderr, "concours dataset %s: %s needs a value\n", cmd, a);
        return -1;
      }
      *value = argv[++*i];
    }
    *id = (int)o;
    return 0;
  }
  fprintf(stderr, "concours dataset %s: unknown option %s\n%s", cmd, a, usage_text);
  return -1;
}

/* Sets the input cap of option id (OPT_MAX_RECORD_BYTES or OPT_MAX_COLUMNS). Returns 0, or -1 (message
   printed) on a bad number. */
static int set_limit(int id, const char *v, struct anon_limits *lim)
{
  unsigned long long n = 0;

  if (id == OPT_MAX_RECORD_BYTES) {
    if (parse_count("--max-record-bytes", v, (unsigned long long)1 << 30, &n) != 0)
      return -1;
    lim->max_record_bytes = (size_t)n;
    return 0;
  }
  if (parse_count("--max-columns", v, 1000000, &n) != 0)
    return -1;
  lim->max_columns = (size_t)n;
  return 0;
}

/* ---- check ---- */

/* Prints one report (or the multi-file object) to stdout. Returns 0, or -1 with a message on stderr. */
/* The text lines of the links between files (anon_check_links). */
static int print_links(const json_t *links)
{
  size_t i;
  json_t *l;

  json_array_foreach(links, i, l)
  {
    const json_t *files = json_object_get(l, "files");

    if (printf("%s + %s joined on %s: %s, k-anonymity %lld over %lld linked records\n",
               json_string_value(json_array_get(files, 0)), json_string_value(json_array_get(files, 1)),
               json_string_value(json_object_get(l, "on")),
               json_is_true(json_object_get(l, "passed")) ? "PASSED" : "FAILED",
               (long long)json_integer_value(json_object_get(l, "k_anonymity")),
               (long long)json_integer_value(json_object_get(l, "joined_records"))) < 0)
      return -1;
  }
  return 0;
}

static int print_report(const json_t *rep, int as_json)
{
  int rc;

  if (as_json)
    rc = json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 && fputc('\n', stdout) != EOF ? 0 : -1;
  else
    rc = anon_report_write_text(stdout, rep);
  if (rc != 0)
    fprintf(stderr, "concours dataset check: cannot write the report: %s\n", strerror(errno));
  return rc;
}

static int cmd_check(int argc, char **argv)
{
  struct anon_check_options opt;
  struct list quasi = {NULL, 0, 0}, files = {NULL, 0, 0};
  json_t *reports = NULL, *all = NULL, *links = NULL;
  char err[512];
  int as_json = 0, as_html = 0, rc = ANON_ERROR, failed = 0, sensitive_found = 0;
  int *quasi_found = NULL;

  anon_check_options_init(&opt);
  for (int i = 2; i < argc; i++) {
    const char *v = NULL;
    unsigned long long n = 0;
    int id, bad = 0;

    if (next_arg("check", argc, argv, &i, CHECK_OPTIONS, &id, &v) != 0)
      goto out;
    switch (id) {
    case OPT_JSON:
      as_json = 1;
      break;
    case OPT_HTML:
      as_html = 1;
      break;
    case OPT_QUASI:
      bad = list_add(&quasi, "--quasi", v);
      break;
    case OPT_K:
      bad = parse_count("--k", v, 1000000, &n);
      opt.k = (unsigned)n;
      break;
    case OPT_L:
      bad = parse_count("--l", v, 1000000, &n);
      opt.l = (unsigned)n;
      break;
    case OPT_SENSITIVE:
      opt.sensitive = v;
      break;
    case OPT_MAX_RECORD_BYTES:
    case OPT_MAX_COLUMNS:
      bad = set_limit(id, v, &opt.limits);
      break;
    default:
      bad = list_add(&files, "FILE", v);
      break;
    }
    if (bad)
      goto out;
  }
  if (files.n == 0) {
    fprintf(stderr, "concours dataset check: no FILE given\n%s", usage_text);
    goto out;
  }
  if (quasi.n > 0) {
    opt.quasi = (const char *const *)quasi.items;
    opt.n_quasi = quasi.n;
  }
  quasi_found = calloc(quasi.n + 1, sizeof(*quasi_found));
  reports = json_array();
  if (quasi_found == NULL || reports == NULL) {
    fprintf(stderr, "concours dataset: out of memory\n");
    goto out;
  }
  for (size_t f = 0; f < files.n; f++) {
    json_t *rep = NULL;
    const json_t *missing;
    int r = anon_check_path(files.items[f], NULL, &opt, &rep, err, sizeof(err));

    if (r == ANON_ERROR) {
      fprintf(stderr, "concours dataset check: %s\n", err);
      goto out;
    }
    failed |= r == ANON_FAIL;
    missing = json_object_get(rep, "quasi_identifiers_missing");
    for (size_t q = 0; missing != NULL && q < quasi.n; q++) { /* tables only */
      int absent = 0;
      size_t j;
      json_t *e;

      json_array_foreach(missing, j, e)
      {
        absent |= strcmp(json_string_value(e), quasi.items[q]) == 0;
      }
      quasi_found[q] |= !absent;
    }
    sensitive_found |= json_object_get(rep, "sensitive") != NULL;
    if (json_array_append_new(reports, rep) != 0) {
      fprintf(stderr, "concours dataset: out of memory\n");
      goto out;
    }
  }
  for (size_t q = 0; q < quasi.n; q++) {
    if (!quasi_found[q]) {
      fprintf(stderr, "concours dataset check: --quasi: no column named \"%s\" in any file\n", quasi.items[q]);
      goto out;
    }
  }
  if (opt.sensitive != NULL && !sensitive_found) {
    fprintf(stderr, "concours dataset check: --sensitive: no column named \"%s\" in any file\n", opt.sensitive);
    goto out;
  }
  if (files.n > 1) { /* files that pass one by one may single people out once joined */
    int lr = anon_check_links((const char *const *)files.items, (const char *const *)files.items, reports, &opt, &links,
                              err, sizeof(err));

    if (lr == ANON_ERROR) {
      fprintf(stderr, "concours dataset check: %s\n", err);
      goto out;
    }
    failed |= lr == ANON_FAIL;
  }
  if (as_html) {
    if (anon_report_write_html(stdout, reports) != 0)
      goto out;
  } else if (as_json && files.n > 1) {
    all = json_pack("{s:b, s:O, s:O}", "passed", !failed, "files", reports, "links", links);
    if (all == NULL) {
      fprintf(stderr, "concours dataset: out of memory\n");
      goto out;
    }
    if (print_report(all, 1) != 0)
      goto out;
  } else {
    for (size_t f = 0; f < files.n; f++) {
      if (print_report(json_array_get(reports, f), as_json) != 0)
        goto out;
    }
    if (!as_json && print_links(links) != 0)
      goto out;
  }
  if (fflush(stdout) != 0) {
    fprintf(stderr, "concours dataset check: cannot write the report: %s\n", strerror(errno));
    goto out;
  }
  rc = failed ? ANON_FAIL : ANON_PASS;
out:
  json_decref(all);
  json_decref(links);
  json_decref(reports);
  free(quasi_found);
  list_free(&quasi);
  list_free(&files);
  return rc;
}

/* ---- pseudonymize ---- */

/* "age:5", "age:band:5", "cp:prefix:2" -> g (column borrowed from spec, which the caller keeps alive). */
static int parse_generalize(char *spec, struct anon_generalize *g)
{
  char *colon = strrchr(spec, ':');
  unsigned long long n;
  size_t len;

  if (colon == NULL || colon == spec) {
    fprintf(stderr, "concours dataset: --generalize: \"%s\" is not COLUMN:N, COLUMN:band:N or COLUMN:prefix:N\n", spec);
    return -1;
  }
  if (parse_count("--generalize", colon + 1, 1000, &n) != 0)
    return -1;
  *colon = '\0';
  g->kind = ANON_GEN_AUTO;
  g->width = (unsigned)n;
  len = strlen(spec);
  if (len > 5 && strcmp(spec + len - 5, ":band") == 0) {
    g->kind = ANON_GEN_BAND;
    spec[len - 5] = '\0';
  } else if (len > 7 && strcmp(spec + len - 7, ":prefix") == 0) {
    g->kind = ANON_GEN_PREFIX;
    spec[len - 7] = '\0';
  }
  g->column = spec;
  return 0;
}

/* Makes dir (mode 0700) unless it exists. */
static int ensure_dir(const char *dir)
{
  if (mkdir(dir, 0700) == 0 || errno == EEXIST)
    return 0;
  fprintf(stderr, "concours dataset: cannot create %s: %s\n", dir, strerror(errno));
  return -1;
}

static int cmd_pseudonymize(int argc, char **argv)
{
  struct anon_pseudo_options opt;
  struct anon_pseudo_stats stats = {0, 0};
  struct list drop = {NULL, 0, 0}, shift = {NULL, 0, 0}, gen = {NULL, 0, 0}, redact = {NULL, 0, 0}, pos = {NULL, 0, 0};
  struct anon_generalize *g = NULL;
  unsigned char key[ANON_KEY_LEN];
  const char *key_file = NULL, *data_dir = NULL;
  char key_path[4096], err[512];
  int rc = ANON_ERROR, created = 0;

  anon_pseudo_options_init(&opt);
  for (int i = 2; i < argc; i++) {
    const char *v = NULL;
    unsigned long long n = 0;
    int id, bad = 0;

    if (next_arg("pseudonymize", argc, argv, &i, PSEUDO_OPTIONS, &id, &v) != 0)
      goto out;
    switch (id) {
    case OPT_ID:
      opt.id_column = v;
      break;
    case OPT_KEY_FILE:
      key_file = v;
      break;
    case OPT_DATA:
      data_dir = v;
      break;
    case OPT_DROP:
      bad = list_add(&drop, "--drop", v);
      break;
    case OPT_SHIFT_DATES:
      bad = list_add(&shift, "--shift-dates", v);
      break;
    case OPT_GENERALIZE:
      bad = list_add(&gen, "--generalize", v);
      break;
    case OPT_REDACT:
      bad = list_add(&redact, "--redact", v);
      break;
    case OPT_SHIFT_MAX_DAYS:
      bad = parse_count("--shift-max-days", v, 36500, &n);
      opt.shift_max_days = (unsigned)n;
      break;
    case OPT_MAX_RECORD_BYTES:
    case OPT_MAX_COLUMNS:
      bad = set_limit(id, v, &opt.limits);
      break;
    default:
      bad = list_add(&pos, "IN/OUT", v);
      break;
    }
    if (bad)
      goto out;
  }
  if (pos.n != 2 || opt.id_column == NULL) {
    fprintf(stderr, "concours dataset pseudonymize: needs IN, OUT and --id COLUMN\n%s", usage_text);
    goto out;
  }
  if (key_file != NULL && data_dir != NULL) {
    fprintf(stderr, "concours dataset pseudonymize: give --key-file or --data, not both\n");
    goto out;
  }
  if (key_file == NULL) {
    if (data_dir == NULL)
      data_dir = DEFAULT_DATA_DIR;
    if ((size_t)snprintf(key_path, sizeof(key_path), "%s/%s", data_dir, KEY_FILE_NAME) >= sizeof(key_path)) {
      fprintf(stderr, "concours dataset pseudonymize: --data path too long\n");
      goto out;
    }
    if (ensure_dir(data_dir) != 0)
      goto out;
    key_file = key_path;
  }
  g = calloc(gen.n + 1, sizeof(*g));
  if (g == NULL) {
    fprintf(stderr, "concours dataset: out of memory\n");
    goto out;
  }
  for (size_t i = 0; i < gen.n; i++) {
    if (parse_generalize(gen.items[i], &g[i]) != 0)
      goto out;
  }
  opt.drop = (const char *const *)drop.items;
  opt.n_drop = drop.n;
  opt.shift_dates = (const char *const *)shift.items;
  opt.n_shift_dates = shift.n;
  opt.generalize = g;
  opt.n_generalize = gen.n;
  opt.redact = (const char *const *)redact.items;
  opt.n_redact = redact.n;
  if (anon_key_load_or_create(key_file, key, &created, err, sizeof(err)) != 0) {
    fprintf(stderr, "concours dataset pseudonymize: %s\n", err);
    goto out;
  }
  if (created)
    fprintf(stderr,
            "concours dataset: created a new key in %s (mode 0600); keep it and keep it secret: "
            "the same key gives the same pseudonyms\n",
            key_file);
  rc = anon_pseudonymize_file(pos.items[0], pos.items[1], key, &opt, &stats, err, sizeof(err));
  if (rc != ANON_PASS) {
    fprintf(stderr, "concours dataset pseudonymize: %s\n", err);
    goto out;
  }
  printf("%s: %llu rows pseudonymized into %s\n", pos.items[0], stats.rows, pos.items[1]);
  if (fflush(stdout) != 0)
    rc = ANON_ERROR;
out:
  OPENSSL_cleanse(key, sizeof(key));
  free(g);
  list_free(&drop);
  list_free(&shift);
  list_free(&gen);
  list_free(&redact);
  list_free(&pos);
  return rc;
}

static int cmd_strip_tiff(int argc, char **argv)
{
  struct anon_strip_stats st;
  char err[512];

  if (argc != 4 || argv[2][0] == '-' || argv[3][0] == '-') {
    fprintf(stderr, "concours dataset strip-tiff: needs IN and OUT\n%s", usage_text);
    return ANON_ERROR;
  }
  if (strcmp(argv[2], argv[3]) == 0) {
    fprintf(stderr, "concours dataset strip-tiff: IN and OUT must differ\n");
    return ANON_ERROR;
  }
  if (anon_strip_tiff(argv[2], argv[3], &st, err, sizeof(err)) != ANON_PASS) {
    fprintf(stderr, "concours dataset strip-tiff: %s\n", err);
    return ANON_ERROR;
  }
  printf("%s: %u page(s) kept, %u label or macro page(s) removed, %u description(s) cleaned, into %s\n", argv[2],
         st.pages_kept, st.pages_dropped, st.descriptions_cleaned, argv[3]);
  return fflush(stdout) == 0 ? ANON_PASS : ANON_ERROR;
}

/* `deidentify-dicom IN OUT [--key-file F | --data DIR]`: the key is the pseudonymizer's. */
static int cmd_deidentify_dicom(int argc, char **argv)
{
  struct anon_dicom_stats st;
  unsigned char key[ANON_KEY_LEN];
  const char *pos[2] = {NULL, NULL}, *key_file = NULL, *data_dir = DEFAULT_DATA_DIR;
  char key_path[4096], err[512];
  int n_pos = 0, created = 0, rc = ANON_ERROR;

  for (int i = 2; i < argc; i++) {
    if ((strcmp(argv[i], "--key-file") == 0 || strcmp(argv[i], "--data") == 0) && i + 1 < argc) {
      *(argv[i][2] == 'k' ? &key_file : &data_dir) = argv[i + 1];
      i++;
    } else if (argv[i][0] != '-' && n_pos < 2) {
      pos[n_pos++] = argv[i];
    } else {
      fprintf(stderr, "concours dataset deidentify-dicom: unexpected argument \"%s\"\n%s", argv[i], usage_text);
      return ANON_ERROR;
    }
  }
  if (n_pos != 2 || strcmp(pos[0], pos[1]) == 0) {
    fprintf(stderr, "concours dataset deidentify-dicom: needs IN and OUT, two different files\n%s", usage_text);
    return ANON_ERROR;
  }
  if (key_file == NULL) {
    if ((size_t)snprintf(key_path, sizeof(key_path), "%s/%s", data_dir, KEY_FILE_NAME) >= sizeof(key_path) ||
        ensure_dir(data_dir) != 0)
      return ANON_ERROR;
    key_file = key_path;
  }
  if (anon_key_load_or_create(key_file, key, &created, err, sizeof(err)) != 0) {
    fprintf(stderr, "concours dataset deidentify-dicom: %s\n", err);
    goto out;
  }
  if (anon_deidentify_dicom(pos[0], pos[1], key, &st, err, sizeof(err)) != ANON_PASS) {
    fprintf(stderr, "concours dataset deidentify-dicom: %s\n", err);
    goto out;
  }
  printf("%s: %u attribute(s) removed, %u emptied, %u UID(s) remapped, %u date(s) shifted, private elements "
         "removed, into %s\n",
         pos[0], st.removed, st.blanked, st.uids, st.dates, pos[1]);
  if (st.burned_in)
    fprintf(stderr,
            "concours dataset deidentify-dicom: %s: BurnedInAnnotation is YES: mask the pixels before "
            "publishing (the check still fails it)\n",
            pos[0]);
  rc = fflush(stdout) == 0 ? ANON_PASS : ANON_ERROR;
out:
  OPENSSL_cleanse(key, sizeof(key));
  return rc;
}

int anon_cli_main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "%s", usage_text);
    return ANON_ERROR;
  }
  if (strcmp(argv[1], "check") == 0)
    return cmd_check(argc, argv);
  if (strcmp(argv[1], "pseudonymize") == 0)
    return cmd_pseudonymize(argc, argv);
  if (strcmp(argv[1], "strip-tiff") == 0)
    return cmd_strip_tiff(argc, argv);
  if (strcmp(argv[1], "deidentify-dicom") == 0)
    return cmd_deidentify_dicom(argc, argv);
  if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage_text, stdout);
    return ANON_PASS;
  }
  fprintf(stderr, "concours dataset: unknown subcommand \"%s\"\n%s", argv[1], usage_text);
  return ANON_ERROR;
}
