/* codalab_files.c: the bundle's files as a conversion takes them: HTML and Markdown pages read as text, the
 * new bundle's texts written, zips unpacked (with extract.c) and folders copied, public files served as data/. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "app.h"
#include "codalab_internal.h"
#include "extract.h"
#include "sandbox.h"
#include "store.h"
#include "util.h"

char *codalab_page_text(const char *src, const char *name)
{
  char path[APP_PATH_MAX];
  if (name == NULL || strstr(name, "..") != NULL || name[0] == '/' ||
      util_fmt(path, sizeof(path), "%s/%s", src, name) != 0)
    return NULL;
  char *html = util_read_file(path, CODALAB_PAGE_MAX, NULL);
  if (html == NULL)
    return NULL;
  size_t o = 0;
  int in_tag = 0;
  for (size_t i = 0; html[i] != '\0'; i++) {
    char c = html[i];
    if (c == '<') {
      in_tag = 1;
      if (strncasecmp(html + i, "<p", 2) == 0 || strncasecmp(html + i, "<br", 3) == 0 ||
          strncasecmp(html + i, "<h", 2) == 0 || strncasecmp(html + i, "<li", 3) == 0)
        html[o++] = '\n';
    } else if (c == '>' && in_tag) {
      in_tag = 0;
    } else if (!in_tag) {
      static const struct {
        const char *ent;
        char c;
      } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&nbsp;", ' '}};
      int done = 0;
      for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]) && !done; k++) {
        size_t n = strlen(ents[k].ent);
        if (strncmp(html + i, ents[k].ent, n) == 0) {
          html[o++] = ents[k].c;
          i += n - 1;
          done = 1;
        }
      }
      if (!done)
        html[o++] = c;
    }
  }
  html[o] = '\0';
  return html;
}

int codalab_write_text(const char *dst, const char *name, const char *text)
{
  char path[APP_PATH_MAX];
  return util_fmt(path, sizeof(path), "%s/%s", dst, name) == 0 &&
             util_write_file_atomic(path, text, strlen(text), 0600) == 0
           ? 0
           : -1;
}

char *codalab_bundle_text(const char *src, const char *name)
{
  char path[APP_PATH_MAX];
  if (name == NULL || strstr(name, "..") != NULL || name[0] == '/' ||
      util_fmt(path, sizeof(path), "%s/%s", src, name) != 0)
    return NULL;
  return util_read_file(path, CODALAB_PAGE_MAX, NULL);
}

int codalab_write_texts(const char *dst, const char *overview, const char *terms, const char *platform,
                        struct bundle_problems *p)
{
  char fallback[160];
  snprintf(fallback, sizeof(fallback), "# Terms\n\nThe organizers' terms (none were given in the %s bundle).\n",
           platform);
  if (codalab_write_text(dst, "overview.md", overview) != 0 ||
      codalab_write_text(dst, "terms.md", terms != NULL ? terms : fallback) != 0) {
    codalab_note(p, "(import)", "cannot write the texts");
    return -1;
  }
  return 0;
}

/* When DIR holds nothing but one folder (and dot or __MACOSX entries), moves that folder's content up into DIR,
 * as CodaLab's worker does with a program or reference zipped with its folder. 0, or -1 on a file system error. */
static int lone_folder_up(const char *dir, FILE *log)
{
  char only[256] = "", from[APP_PATH_MAX], to[APP_PATH_MAX], tmp[APP_PATH_MAX];
  DIR *d = opendir(dir);
  struct dirent *e;
  int entries = 0, rc = 0;
  if (d == NULL)
    return -1;
  for (e = readdir(d); e != NULL; e = readdir(d)) {
    struct stat st;
    if (e->d_name[0] == '.' || strcmp(e->d_name, "__MACOSX") == 0)
      continue;
    entries++;
    if (util_fmt(from, sizeof(from), "%s/%s", dir, e->d_name) == 0 && lstat(from, &st) == 0 && S_ISDIR(st.st_mode))
      util_strlcpy(only, e->d_name, sizeof(only));
  }
  closedir(d);
  if (entries != 1 || only[0] == '\0' || util_fmt(from, sizeof(from), "%s/%s", dir, only) != 0 ||
      util_fmt(tmp, sizeof(tmp), "%s/.lone-folder", dir) != 0 || rename(from, tmp) != 0)
    return 0;
  codalab_say(log, "moved the content of the lone folder %s up, as CodaLab does", only);
  d = opendir(tmp);
  if (d == NULL)
    return -1;
  for (e = readdir(d); e != NULL && rc == 0; e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (util_fmt(from, sizeof(from), "%s/%s", tmp, e->d_name) != 0 ||
        util_fmt(to, sizeof(to), "%s/%s", dir, e->d_name) != 0 || rename(from, to) != 0)
      rc = -1;
  }
  closedir(d);
  return rc == 0 && rmdir(tmp) == 0 ? 0 : -1;
}

/* Unpacks the zip SRC/NAME into the new folder DIR (a later entry of a name given twice wins, and a lone folder's
 * content is moved up, as CodaLab did). 0, or -1 with a problem noted. */
static int unzip(const char *src, const char *name, const char *dir, const char *field, struct bundle_problems *p,
                 FILE *log)
{
  char path[APP_PATH_MAX], err[512];
  struct extract_limits lim = {1ull << 30, 10000, 255, 0644, 0755, 1};
  if (strstr(name, "..") != NULL || name[0] == '/' || util_fmt(path, sizeof(path), "%s/%s", src, name) != 0) {
    codalab_note(p, field, "\"%s\" must be a file of the bundle", name);
    return -1;
  }
  if (mkdir(dir, 0700) != 0) {
    codalab_note(p, field, "cannot create a folder: %s", strerror(errno));
    return -1;
  }
  int rc = extract_archive(path, dir, &lim, err, sizeof(err));
  if (rc != 0)
    codalab_note(p, field, "%s: %s", name, err);
  else if (lone_folder_up(dir, log) != 0)
    codalab_note(p, field, "%s: cannot move its lone folder's content up: %s", name, strerror(errno));
  return rc == 0 ? 0 : -1;
}

int codalab_served_file(const char *src, const char *dst, const char *name, json_t *out, const char *where,
                        struct bundle_problems *p, FILE *log)
{
  char from[APP_PATH_MAX], to[APP_PATH_MAX], rel[160], err[256] = "", sha[65];
  json_t *data = json_object_get(out, "data"), *e;
  const char *base;
  struct stat st;
  int64_t size;
  size_t i;
  if (name == NULL)
    return 0;
  base = strrchr(name, '/') != NULL ? strrchr(name, '/') + 1 : name;
  if (strstr(name, "..") != NULL || name[0] == '/' || base[0] == '.' || strlen(base) > 100 ||
      strspn(base, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(base) ||
      util_fmt(from, sizeof(from), "%s/%s", src, name) != 0 || lstat(from, &st) != 0 || !S_ISREG(st.st_mode)) {
    codalab_note(p, where, "\"%s\" must be a file of the bundle named with A-Z a-z 0-9 . _ -", name);
    return -1;
  }
  if (util_fmt(rel, sizeof(rel), "data/%s", base) != 0)
    return -1;
  if (data == NULL) {
    data = json_array();
    json_object_set_new(out, "data", data);
  }
  json_array_foreach(data, i, e)
  {
    if (strcmp(json_string_value(e), rel) == 0)
      return 0; /* the same file for several phases */
  }
  if (util_fmt(to, sizeof(to), "%s/data", dst) != 0 || (mkdir(to, 0755) != 0 && errno != EEXIST) ||
      util_fmt(to, sizeof(to), "%s/%s", dst, rel) != 0 ||
      store_copy_file(from, to, &size, sha, err, sizeof(err)) != 0) {
    codalab_note(p, where, "cannot copy %s: %s", name, err);
    return -1;
  }
  codalab_say(log, "%s%s served as %s", where, name, rel);
  return json_array_append_new(data, json_string(rel));
}

int codalab_task_files(const char *src, const char *name, const char *dir, const char *field, struct bundle_problems *p,
                       FILE *log)
{
  char path[APP_PATH_MAX], clean[APP_PATH_MAX];
  struct stat st;
  size_t n = name != NULL ? strlen(name) : 0;
  if (n == 0 || n >= sizeof(clean) || strstr(name, "..") != NULL || name[0] == '/') {
    codalab_note(p, field, "must name a folder or a zip of the bundle");
    return -1;
  }
  util_strlcpy(clean, name, sizeof(clean));
  while (n > 1 && clean[n - 1] == '/')
    clean[--n] = '\0';
  if (util_fmt(path, sizeof(path), "%s/%s", src, clean) != 0 || lstat(path, &st) != 0) {
    codalab_note(p, field, "\"%s\" is not in the bundle", name);
    return -1;
  }
  if (S_ISREG(st.st_mode))
    return unzip(src, clean, dir, field, p, log);
  if (!S_ISDIR(st.st_mode) || sandbox_stage_tree(path, dir, 0) != 0) {
    codalab_note(p, field, "\"%s\" must be a folder of regular files (no links) or a zip", name);
    return -1;
  }
  return 0;
}
