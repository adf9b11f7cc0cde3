/* codalab_program.c: what a conversion does to a program's folder (a shim for NumPy's removed aliases, Codabench's
 * /app paths turned into concours' variables, both in the metadata's command) and where the reference goes: split by
 * concours when the program never reads its Usage column, else handed whole to the program. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "app.h"
#include "codalab_internal.h"
#include "sandbox_program.h"
#include "util.h"

/* 1 when the first line of the CSV at PATH has a column named Usage (any case, quoted or not). */
static int has_usage_column(const char *path)
{
  char line[8192];
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return 0;
  char *got = fgets(line, sizeof(line), f);
  fclose(f);
  if (got == NULL)
    return 0;
  line[strcspn(line, "\r\n")] = '\0';
  char *save = NULL;
  for (char *tok = strtok_r(line, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
    if (strcasecmp(tok, "Usage") == 0 || strcasecmp(tok, "\"Usage\"") == 0)
      return 1;
  }
  return 0;
}

/* When the only entry of DIR (dot entries and __MACOSX aside) is a regular *.csv file named with A-Z a-z 0-9 . _ -,
 * its name into NAME (size N) and 1; else 0. */
static int lone_csv(const char *dir, char *name, size_t n)
{
  char path[APP_PATH_MAX];
  int entries = 0, csv = 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
    struct stat st;
    size_t len = strlen(e->d_name);
    if (e->d_name[0] == '.' || strcmp(e->d_name, "__MACOSX") == 0)
      continue;
    entries++;
    csv = len > 4 && len <= 100 && strcasecmp(e->d_name + len - 4, ".csv") == 0 &&
          strspn(e->d_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len &&
          util_fmt(path, sizeof(path), "%s/%s", dir, e->d_name) == 0 && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
          util_strlcpy(name, e->d_name, n) == 0;
  }
  closedir(d);
  return entries == 1 && csv;
}

/* A scan of a program folder's files (each up to CODALAB_PAGE_MAX, those ending in SUFFIX when not NULL) for one that
 * MATCH says yes to, given WORD. */
struct program_scan {
  const char *suffix, *word;
  int (*match)(const char *text, const char *word);
  int found;
};

static int scan_entry(const char *path, const char *rel, const struct stat *st, void *arg)
{
  struct program_scan *s = arg;
  size_t len = strlen(rel), slen = s->suffix != NULL ? strlen(s->suffix) : 0;
  if (!S_ISREG(st->st_mode) || st->st_size > CODALAB_PAGE_MAX || len < slen ||
      (slen > 0 && strcmp(rel + len - slen, s->suffix) != 0))
    return 0;
  char *text = util_read_file(path, CODALAB_PAGE_MAX, NULL);
  s->found |= text != NULL && s->match(text, s->word);
  free(text);
  return s->found; /* non-zero stops the walk */
}

/* 1 when a file of the program folder DIR ending in SUFFIX (any file: NULL) is one MATCH(text, WORD) accepts. */
static int program_has(const char *dir, const char *suffix, int (*match)(const char *, const char *), const char *word)
{
  struct program_scan s = {suffix, word, match, 0};
  util_walk(dir, 16, 10000, scan_entry, &s);
  return s.found;
}

static int holds_word(const char *text, const char *word)
{
  return strstr(text, word) != NULL;
}

/* The shim concours adds to a program that uses NumPy's removed aliases (written as C text: it is copied as is). */
static const char numpy_compat_py[] =
  "\"\"\"Added by concours when it converted this CodaLab bundle: the program uses NumPy aliases (np.float, "
  "np.int...)\n"
  "that NumPy 1.24 removed. This restores them as the builtins they always meant, then runs the program unchanged.\n"
  "Usage: python3 concours_numpy_compat.py PROGRAM.py ARGS...\"\"\"\n"
  "import os\n"
  "import runpy\n"
  "import sys\n"
  "\n"
  "try:\n"
  "    import numpy\n"
  "    for _name, _type in ((\"float\", float), (\"int\", int), (\"bool\", bool), (\"object\", object), (\"str\", "
  "str),\n"
  "                         (\"complex\", complex), (\"long\", int), (\"unicode\", str)):\n"
  "        if _name not in numpy.__dict__:\n"
  "            setattr(numpy, _name, _type)\n"
  "except ImportError:\n"
  "    pass\n"
  "sys.argv = sys.argv[1:]\n"
  "sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))\n"
  "runpy.run_path(sys.argv[0], run_name=\"__main__\")\n";

/* 1 when TEXT uses one of NumPy's removed aliases: np.float, np.int, np.bool, np.object, np.str, np.complex (or
 * numpy.X), not followed by a name character (np.float64 is fine). */
static int uses_numpy_alias(const char *text, const char *unused)
{
  (void)unused;
  static const char *const prefixes[] = {"np.", "numpy."};
  static const char *const aliases[] = {"float", "int", "bool", "object", "str", "complex", "long", "unicode"};
  for (size_t p = 0; p < 2; p++) {
    size_t plen = strlen(prefixes[p]);
    for (const char *at = strstr(text, prefixes[p]); at != NULL; at = strstr(at + 1, prefixes[p])) {
      if (at > text && (isalnum((unsigned char)at[-1]) || at[-1] == '_' || at[-1] == '.'))
        continue; /* part of another name */
      for (size_t k = 0; k < sizeof(aliases) / sizeof(aliases[0]); k++) {
        size_t n = strlen(aliases[k]);
        char after = at[plen + n];
        if (strncmp(at + plen, aliases[k], n) == 0 && !isalnum((unsigned char)after) && after != '_')
          return 1;
      }
    }
  }
  return 0;
}

/* Rewrites the command: line of the program folder DIR's metadata (or metadata.yaml) to CMD, keeping its other
 * lines. 0, or -1. */
static int set_command(const char *dir, const char *cmd)
{
  static const char *const names[] = {"metadata", "metadata.yaml"};
  char path[APP_PATH_MAX], *text = NULL, *out = NULL;
  int rc = -1;
  for (size_t i = 0; i < 2 && text == NULL; i++) {
    if (util_fmt(path, sizeof(path), "%s/%s", dir, names[i]) == 0)
      text = util_read_file(path, 64 * 1024, NULL);
  }
  size_t cap = text != NULL ? strlen(text) + strlen(cmd) + 64 : 0, used = 0;
  out = text != NULL ? malloc(cap) : NULL;
  if (out == NULL)
    goto done;
  used = (size_t)snprintf(out, cap, "command: %s\n", cmd);
  for (char *line = text; line != NULL && *line != '\0';) { /* the other lines, as they were */
    char *next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    if (strncmp(line, "command:", 8) != 0 && used < cap)
      used += (size_t)snprintf(out + used, cap - used, "%s\n", line);
    line = next;
  }
  rc = used < cap && util_write_file_atomic(path, out, used, 0644) == 0 ? 0 : -1;
done:
  free(text);
  free(out);
  return rc;
}

int codalab_numpy_compat(const char *dir, FILE *log, struct bundle_problems *p)
{
  char cmd[SANDBOX_PROGRAM_CMD_MAX], err[256], shim[APP_PATH_MAX], next[SANDBOX_PROGRAM_CMD_MAX + 64];
  if (!program_has(dir, ".py", uses_numpy_alias, NULL) ||
      sandbox_program_command(dir, cmd, sizeof(cmd), err, sizeof(err)) != 0)
    return 0; /* no alias, or no usable command: the import check says why */
  if (strncmp(cmd, "python3 ", 8) != 0 || cmd[8] == '-') {
    codalab_say(log,
                "the program uses NumPy aliases that NumPy 1.24 removed (np.float...), and its command (%s) is not "
                "\"python3 SCRIPT ...\": it may fail",
                cmd);
    return 0;
  }
  if (util_fmt(next, sizeof(next), "python3 $program/concours_numpy_compat.py %s", cmd + 8) != 0 ||
      util_fmt(shim, sizeof(shim), "%s/concours_numpy_compat.py", dir) != 0 ||
      util_write_file_atomic(shim, numpy_compat_py, strlen(numpy_compat_py), 0644) != 0 ||
      set_command(dir, next) != 0) {
    codalab_note(p, "scoring_program", "cannot add the NumPy compatibility shim");
    return -1;
  }
  codalab_say(log,
              "the program uses NumPy aliases that NumPy 1.24 removed (np.float...): its command now runs it through "
              "concours_numpy_compat.py, which restores them as the builtins they meant");
  return 0;
}

int codalab_app_paths(const char *dir, FILE *log, struct bundle_problems *p)
{
  /* longest first: /app/input_data is not /app/input followed by _data */
  static const char *const from[] = {"/app/ingested_program", "/app/input_data", "/app/program", "/app/input",
                                     "/app/output",           "/app/shared"};
  static const char *const to[] = {"$submission_program", "$input", "$program", "$input", "$output", "$shared"};
  const size_t nfrom = sizeof(from) / sizeof(from[0]);
  char cmd[SANDBOX_PROGRAM_CMD_MAX], err[256], next[SANDBOX_PROGRAM_CMD_MAX];
  size_t o = 0;
  int changed = 0;
  if (sandbox_program_command(dir, cmd, sizeof(cmd), err, sizeof(err)) != 0)
    return 0; /* the import check says why */
  for (size_t i = 0; cmd[i] != '\0' && o + 1 < sizeof(next);) {
    size_t k = 0;
    while (k < nfrom &&
           (strncmp(cmd + i, from[k], strlen(from[k])) != 0 || (i > 0 && cmd[i - 1] != ' ' && cmd[i - 1] != '=')))
      k++;
    if (k < nfrom && o + strlen(to[k]) + 1 < sizeof(next)) {
      memcpy(next + o, to[k], strlen(to[k]));
      o += strlen(to[k]);
      i += strlen(from[k]);
      changed = 1;
    } else {
      next[o++] = cmd[i++];
    }
  }
  next[o] = '\0';
  if (!changed)
    return 0;
  if (set_command(dir, next) != 0) {
    codalab_note(p, strrchr(dir, '/') != NULL ? strrchr(dir, '/') + 1 : dir, "cannot rewrite the command");
    return -1;
  }
  codalab_say(log, "the %s's command named Codabench's /app folders: it is now \"%s\"",
              strrchr(dir, '/') != NULL ? strrchr(dir, '/') + 1 : dir, next);
  return 0;
}

int codalab_place_reference(const char *ref_dir, const char *program_dir, const char *dst, char *truth_rel, size_t n,
                            int *full, FILE *log, struct bundle_problems *p)
{
  char base[128] = "", csv[APP_PATH_MAX], path[APP_PATH_MAX];
  int one_csv = lone_csv(ref_dir, base, sizeof(base)) && util_fmt(csv, sizeof(csv), "%s/%s", ref_dir, base) == 0;
  *full = !(one_csv && has_usage_column(csv) && !program_has(program_dir, NULL, holds_word, "Usage"));
  if (util_fmt(path, sizeof(path), "%s/private", dst) != 0 || mkdir(path, 0700) != 0 ||
      util_fmt(truth_rel, n, *full ? "private/reference" : "private/%s", base) != 0 ||
      util_fmt(path, sizeof(path), "%s/%s", dst, truth_rel) != 0 || rename(*full ? ref_dir : csv, path) != 0) {
    codalab_note(p, "(import)", "cannot move the reference data into place");
    return -1;
  }
  if (*full)
    codalab_say(log, "the program runs once on the whole reference data, handed to it as it is (CodaLab's way): its "
                     "score is public, as CodaLab showed it");
  else
    codalab_say(log,
                "the reference %s has a Usage column the program does not read: concours runs the program once per "
                "split, and the Private rows' score stays hidden until the jury publishes",
                base);
  return 0;
}
