/* bundle_archive.c: a bundle sent as a .zip or .tar.gz of its folder (the CLI's `challenge import FILE` and the
 * organizers' `POST /api/v1/challenges`): unpacked safely (extract.c: format allow-list, byte and entry caps, no
 * links or devices) into a private folder under DATA/tmp, then imported like a folder, then removed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dirent.h>

#include "bundle.h"
#include "codalab.h"
#include "extract.h"
#include "store.h"
#include "util.h"

#define BUNDLE_MAX_BYTES (4ULL * 1024 * 1024 * 1024)
#define BUNDLE_MAX_ENTRIES 20000

/* The folder holding challenge.json: ROOT itself, or its only subfolder. Returns 0 (OUT filled) or -1. */
static int bundle_root(const char *root, char *out, size_t n)
{
  char path[APP_PATH_MAX], only[APP_PATH_MAX] = "";
  struct stat st;
  int entries = 0;
  if (util_fmt(path, sizeof(path), "%s/challenge.json", root) == 0 && lstat(path, &st) == 0)
    return util_strlcpy(out, root, n);
  if (codalab_is_bundle(root)) /* a zipped CodaLab competition: competition.yaml at the top */
    return util_strlcpy(out, root, n);
  DIR *d = opendir(root);
  if (d == NULL)
    return -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
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

int bundle_import_archive(sqlite3 *db, const char *archive, char slug[64], struct bundle_problems *p)
{
  return bundle_import_archive_opts(db, archive, slug, p, NULL);
}

int bundle_import_archive_opts(sqlite3 *db, const char *archive, char slug[64], struct bundle_problems *p,
                               const struct bundle_options *opts)
{
  char rnd[32], work[APP_PATH_MAX], root[APP_PATH_MAX], err[512] = "";
  struct extract_limits lim = {BUNDLE_MAX_BYTES, BUNDLE_MAX_ENTRIES, 255, 0600, 0700};
  int rc = -1;
  memset(p, 0, sizeof(*p));
  if (util_random_token(9, rnd, sizeof(rnd)) != 0 || util_fmt(work, sizeof(work), "%s/tmp/bundle-%s",
                                                                store_data_dir(), rnd) != 0 ||
      mkdir(work, 0700) != 0) {
    snprintf(p->text[p->n++], BUNDLE_PROBLEM_LEN, "(import): cannot create a work folder: %s", strerror(errno));
    return -1;
  }
  if (extract_archive(archive, work, &lim, err, sizeof(err)) != 0) {
    snprintf(p->text[p->n++], BUNDLE_PROBLEM_LEN, "(archive): %s", err);
    rc = 1;
    goto out;
  }
  if (bundle_root(work, root, sizeof(root)) != 0) {
    snprintf(p->text[p->n++], BUNDLE_PROBLEM_LEN,
             "challenge.json: missing: the archive must hold the bundle folder (challenge.json at its top, or in "
             "its only folder)");
    rc = 1;
    goto out;
  }
  rc = bundle_import_opts(db, root, slug, p, opts);
out:
  store_remove_tree(work);
  return rc;
}
