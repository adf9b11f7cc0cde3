/* def.h: the one owner of the challenge definition (challenge.json, docs/bundle.md).
 *
 * Every key of challenge.json is a row of one table (def.c): its name, type, range, default and description.
 * That table drives the strict parse (an unknown key is an error with the nearest known name as a suggestion),
 * the defaults, the organizer's PATCH of a phase, the phase JSON the API returns, and the key reference of
 * docs/bundle.md (`concours challenge keys` prints it; a test fails when the two drift apart). Nothing else in
 * concours reads challenge.json: bundle import, `concours challenge check`, the queue and the scorer's
 * `--challenge` all take this struct. */
#ifndef CONCOURS_DEF_H
#define CONCOURS_DEF_H

#include <stdio.h>

#include <jansson.h>
#include <sqlite3.h>

#include "bundle.h"
#include "db.h"
#include "runner.h"

#define DEF_MAX_BYTES (256 * 1024) /* challenge.json */
#define DEF_MAX_DEPTH 16           /* nesting of challenge.json, checked before it is parsed */
#define DEF_MAX_DATA_FILES 256

/* The root file system a run sees (API.md section 4, "runtime"): the participants' code's ("submission.runtime") or
 * the organizer's scoring program's ("metric.runtime"). */
struct def_runtime {
  char kind[17];     /* "host" (default), "debian" or "oci" */
  char archive[201]; /* oci: the archive inside the bundle */
  char sha256[65];   /* debian and oci: the identity, set by bundle.c once it is built or unpacked */
  json_t *packages;  /* debian: the package list (borrowed from the definition's root), or NULL */
  const char *field; /* where it is in challenge.json, for messages: "submission.runtime" or "metric.runtime" */
};

/* The "submission" block of a code-execution challenge (API.md section 4; docs/code.md). */
struct def_code {
  char kind[33];      /* "predictions" (default) or "code" */
  char command[1025]; /* run by /bin/sh -c in /code; default "python3 main.py" */
  struct def_runtime runtime;
  char test_rel[201];        /* the hidden inputs (bundle folder) */
  char smoke_rel[201];       /* the public smoke sample, "" when none */
  char output[129];          /* the file the code writes in /output; default "submission.csv" */
  char ingestion_rel[201];   /* the organizer's ingestion program (bundle folder) run instead of "command", or "" */
  int output_folder;         /* the whole /output, packed as a tar, is scored (by the organizer's program) */
  char participant_logs[17]; /* "smoke" (default), "all" or "none" */
  int wall_s, smoke_wall_s, memory_mb, gpus, output_mb;
};

/* A parsed, validated definition. Owned by the caller of def_parse, released with def_free. */
#define DEF_MAX_SECONDARY 8      /* secondary metrics of a challenge */
#define DEF_MAX_FAILURE_VALUES 8 /* "metric.failure_values" */

/* One secondary metric ("secondary_metrics", issue 14): a built-in metric (NAME, with its params in the definition)
 * or a key of the organizer's program's scores (SCORE_KEY), shown beside the primary metric and used by the ranking
 * rule "mean_rank". */
struct def_metric {
  char name[64];
  char score_key[65];
  char label[65];
  int precision;     /* -1: the leaderboard's */
  char params[2048]; /* a built-in metric's "params" as compact JSON ("{}" when none); set by def.c */
};

struct challenge_def {
  struct challenge c; /* what the database keeps (slug, metric, columns, phases, precision...) */
  char title[201];
  char summary[501];
  char truth_rel[256];  /* "ground_truth": a path inside the bundle, outside data/ */
  char sample_rel[256]; /* "sample_submission", or data/sample_submission.csv when listed; "" none */
  int split_none;       /* "split_column": null: every row is public, nothing is held back for the jury */
  int id_default;       /* "id_column" absent: the ground truth's first column (set after reading it) */
  int program;          /* the metric is the organizer's scoring program */
  char score_key[65];   /* with a program: the key of scores.txt / scores.json */
  double failure_values[DEF_MAX_FAILURE_VALUES]; /* with a program: scores meaning "could not score" */
  int show_errors; /* with a program: a failed public run shows the participant its stderr's last lines */
  char runs[16];   /* with a program: "per_split" (default: one run per split) or "full" (one run, CodaLab's way) */
  char private_score_key[65];         /* "runs": "full" with a split: the key of the private score the program writes */
  int full_run;                       /* runs == "full" */
  struct def_runtime program_runtime; /* with a program: "metric.runtime", where it runs */
  int nfailure_values;
  struct def_metric secondary[DEF_MAX_SECONDARY];
  int nsecondary;
  char ranking_rule[16];       /* "primary" (default) or "mean_rank" */
  struct def_code code;        /* "submission" */
  struct runner_limits limits; /* "limits", defaults applied (wall_s from the server's --score-timeout) */
  json_t *data;                /* "data": array of paths under data/ (borrowed from root) */
  json_t *anonymity;           /* "anonymity" object or NULL (borrowed from root; anon.h reads it) */
  json_t *root;                /* the whole definition (owned) */
};

/* Parses and validates the definition TEXT (LEN bytes; FILE names it in problems, e.g. "challenge.json") into
 * D: JSON syntax, nesting depth, every key against the table (unknown keys, types, ranges, required keys), and
 * the rules between keys (phases in order, a metric that exists, paths of the right shape). Files are not
 * looked at (bundle.c does that). DEFAULT_WALL_S is the run time limit when "limits" gives none. Returns 0 when
 * valid, 1 when P holds problems (D is still freed with def_free), -1 out of memory. */
int def_parse(const char *text, size_t len, const char *file, int default_wall_s, struct challenge_def *d,
              struct bundle_problems *p);

/* Releases what D holds (not D itself). Safe on a zeroed struct. */
void def_free(struct challenge_def *d);

/* Applies the PATCH body BODY (a JSON object) to the phase PH: only the keys the table marks as editable
 * (start, end, max_per_day, max_total, final_selection), with the same types and ranges as in challenge.json.
 * Returns 0, or -1 with a sentence naming the key in ERR. */
int def_phase_patch(struct phase *ph, json_t *body, char *err, size_t errlen);

/* The phase PH as the API shows it: {"name","start","end", and every other key of the table}. New reference. */
json_t *def_phase_json(const struct phase *ph);

/* The SQL side of the phase settings, from the same table: each phase key is a column of the phases table
 * (times as KEY_at, in seconds). def_phase_sql_columns gives "name,start_at,end_at,..." in table order and their
 * number in *N; def_phase_bind binds PH's values to the parameters FIRST.. of ST in that order; def_phase_read
 * reads them from the result columns FIRST.. of ST. def_phase_migrate adds to the phases table every column the
 * table names and the database lacks (with the key's default), so that a new phase setting needs its table row,
 * its member of struct phase and its test, nothing else. Returns 0, or -1 with ERR. */
const char *def_phase_sql_columns(size_t *n);
/* "?,?,...": one parameter per phase column, for VALUES(...) and row-value SETs. */
const char *def_phase_sql_marks(void);
void def_phase_bind(sqlite3_stmt *st, int first, const struct phase *ph);
void def_phase_read(sqlite3_stmt *st, int first, struct phase *ph);
int def_phase_migrate(sqlite3 *db, char *err, size_t errlen);

/* Writes the key reference (a Markdown table per object of challenge.json) to OUT. */
void def_markdown(FILE *out);

/* The known key nearest to KEY among NAMES[0..N) (edit distance at most 2, or a third of its length), or NULL. */
const char *def_suggest(const char *key, const char *const *names, size_t n);

#endif
