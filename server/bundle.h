/* bundle.h: challenge bundles (a folder: challenge.json, overview.md, terms.md, data/, private/solution.csv; or
 * a .zip / .tar.gz of one; or a CodaLab competition, converted). bundle_run validates everything first (the
 * definition through def.h, then the files it names: data files, the ground truth read by the scorer's own
 * reader, the sample submission scored, the scoring program, the anonymity gate) and lists every problem with
 * its file and field; only a valid bundle is copied into the data folder (a new version folder, then the
 * database row points at it, with its audit entry; the old version goes once no run reads it: versions.h).
 * After the first import the database is the truth: an unchanged bundle is recognised by its hash and left alone,
 * a changed one is reported, and applied only when asked (BUNDLE_APPLY), re-scoring every submission when the
 * ground truth changed. */
#ifndef CONCOURS_BUNDLE_H
#define CONCOURS_BUNDLE_H

#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>

#include <jansson.h>

#define BUNDLE_MAX_PROBLEMS 64
#define BUNDLE_PROBLEM_LEN 512

struct bundle_problems {
  int n;                                              /* problems recorded (at most BUNDLE_MAX_PROBLEMS) */
  int dropped;                                        /* further problems not recorded */
  char text[BUNDLE_MAX_PROBLEMS][BUNDLE_PROBLEM_LEN]; /* "FILE: FIELD: message" */
};

/* Records the problem "FILE: FIELD: message" (FIELD may be NULL; message from FMT and AP) in P, or counts it as
 * dropped when P is full. For every module that checks bundles (bundle.c, def.c, codalab.c). */
void bundle_problemv(struct bundle_problems *p, const char *file, const char *field, const char *fmt, va_list ap)
  __attribute__((format(printf, 4, 0)));
/* The same with the message's arguments inline. */
void bundle_problem(struct bundle_problems *p, const char *file, const char *field, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

/* What an import may do. */
enum bundle_mode {
  BUNDLE_CHECK = 0, /* validate only (`concours challenge check`): nothing is written anywhere */
  BUNDLE_ADD,       /* import a new challenge; an existing one that changed is reported, not applied
                       (`serve --challenges`: after the first import the database is the truth) */
  BUNDLE_APPLY      /* import, and apply the changes to an existing challenge (`challenge import --apply`,
                       HTTP import with ?apply=1) */
};

/* How an import runs. Every pointer is borrowed for the duration of the call. */
struct bundle_options {
  /* NULL or empty: a public data file failing the anonymity check (docs/anonymity.md) makes the bundle fail.
   * Otherwise the reason the organizer gives to import it anyway; the override is written to the audit log
   * (action "anonymity.override", details: the failing files' problems). */
  const char *anonymity_override;
  const char *actor; /* who imports, for the audit log; NULL: "cli" */
  enum bundle_mode mode;
  int rescore;            /* with BUNDLE_APPLY: a changed ground truth re-scores even while a phase is open */
  int default_wall_s;     /* scoring time limit when the bundle sets none; 0: 600 */
  int draft;              /* a new challenge starts as a draft (seen by its staff only); an existing one keeps
                             its state */
  int build_runtime;      /* with BUNDLE_CHECK and a data folder open: build (or unpack) the code runtime into its cache
                         (`concours runtime build`) */
  int codalab_phase;      /* > 0: a CodaLab / Codabench bundle keeps only this phase (1-based: one track) */
  const char *convert_to; /* with BUNDLE_CHECK: a CodaLab / Codabench bundle is converted into this new folder (with
                             its CONVERSION.md report) and left there, then checked (`concours challenge convert`) */
};

/* What an import did (filled when it returns 0). */
enum bundle_state {
  BUNDLE_VALID = 0, /* BUNDLE_CHECK: valid, nothing written */
  BUNDLE_NEW,       /* imported as a new challenge */
  BUNDLE_UNCHANGED, /* the same bundle as last imported: nothing done (edits made since are kept) */
  BUNDLE_CHANGED,   /* BUNDLE_ADD: differs from the last import; not applied (see changes) */
  BUNDLE_UPDATED    /* BUNDLE_APPLY: the changes were applied */
};

struct bundle_result {
  char slug[64];
  enum bundle_state state;
  json_t *changes; /* list of sentences ("phases changed", "data/train.csv changed"...); caller frees */
  int rescored;    /* submissions re-queued because the ground truth changed */
  char bundle_sha256[65];
  json_t *parts; /* NULL, or a CodaLab competition that made several challenges (tracks, phases scored apart):
                    [{"slug","state","bundle_sha256","rescored"}] (then slug, bundle_sha256 are the first's, state the
                    most telling of theirs, changes prefixed "SLUG: "); caller frees */
};

/* Frees what RES holds (its changes and parts); RES itself stays. */
void bundle_result_free(struct bundle_result *res);

/* Name of STATE for messages and JSON: "valid", "new", "unchanged", "changed", "updated". */
const char *bundle_state_name(enum bundle_state state);

/* Checks and imports the bundle folder (or .zip / .tar / .tar.gz archive, unpacked safely under DATA/tmp when
 * a data folder is open, else under $TMPDIR) at PATH as OPTS says. DB may be NULL with BUNDLE_CHECK. Returns 0
 * (RES filled; free RES->changes), 1 when the bundle has problems (listed in P, nothing changed), -1 on an
 * internal error (described in P). Runs on a thread of its own with a full-size stack: safe to call from an
 * HTTP handler. */
int bundle_run(sqlite3 *db, const char *path, const struct bundle_options *opts, struct bundle_result *res,
               struct bundle_problems *p);

#endif
