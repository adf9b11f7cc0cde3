/* bundle.h: challenge bundles (a folder: challenge.json, overview.md, terms.md, data/, private/solution.csv).
 * bundle_import validates everything first and lists every problem with its file and field; only a valid
 * bundle is copied into the data folder (a new version folder, then the database row points at it) and
 * registered. Re-importing a slug updates the challenge and keeps its submissions. */
#ifndef CONCOURS_BUNDLE_H
#define CONCOURS_BUNDLE_H

#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>

#define BUNDLE_MAX_PROBLEMS 64
#define BUNDLE_PROBLEM_LEN 512

struct bundle_problems {
  int n;        /* problems recorded (at most BUNDLE_MAX_PROBLEMS) */
  int dropped;  /* further problems not recorded */
  char text[BUNDLE_MAX_PROBLEMS][BUNDLE_PROBLEM_LEN]; /* "FILE: FIELD: message" */
};

/* Records the problem "FILE: FIELD: message" (FIELD may be NULL; message from FMT and AP) in P, or counts it as
 * dropped when P is full. For modules that convert bundles (codalab.c). */
void bundle_problemv(struct bundle_problems *p, const char *file, const char *field, const char *fmt, va_list ap)
  __attribute__((format(printf, 4, 0)));

/* How an import runs. Every pointer is borrowed for the duration of the call. */
struct bundle_options {
  /* NULL or empty: a public data file failing the anonymity check (docs/anonymity.md) makes the bundle fail.
   * Otherwise the reason the organizer gives to import it anyway; the override is written to the audit log
   * (action "anonymity.override", details: the failing files' problems). */
  const char *anonymity_override;
  const char *actor; /* who imports, for the audit log; NULL: "cli" */
};

/* Validates the bundle folder DIR and, when valid, imports it into DB and the data folder (store_init must
 * have run). Every public data file named *.csv is checked for direct identifiers and k-anonymity with the
 * options of the bundle's optional "anonymity" object; its report is stored with the file. A failing file is
 * a problem unless OPTS (may be NULL) carries an override reason. Returns 0 when imported (SLUG, if not NULL,
 * gets its slug: 64 bytes), 1 when the bundle has problems (listed in P, nothing changed), -1 on an internal
 * error (described in P). */
int bundle_import_opts(sqlite3 *db, const char *dir, char slug[64], struct bundle_problems *p,
                       const struct bundle_options *opts);

/* bundle_import_opts without options (no override). */
int bundle_import(sqlite3 *db, const char *dir, char slug[64], struct bundle_problems *p);

/* The same for a .zip / .tar / .tar.gz of a bundle folder at ARCHIVE (unpacked safely under DATA/tmp, removed
 * afterwards). Unsafe or malformed archives are problems (return 1). OPTS may be NULL. */
int bundle_import_archive_opts(sqlite3 *db, const char *archive, char slug[64], struct bundle_problems *p,
                               const struct bundle_options *opts);

/* bundle_import_archive_opts without options (no override). */
int bundle_import_archive(sqlite3 *db, const char *archive, char slug[64], struct bundle_problems *p);

#endif
