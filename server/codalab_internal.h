/* codalab_internal.h: what the codalab*.c and codabench.c files share (and only they) to convert a CodaLab or
 * Codabench bundle (codalab.h). One file a concept:
 *   codalab.c          the entry points, the CodaLab v1 conversion, the report, and the parts both versions write;
 *   codabench.c        the Codabench v2 conversion;
 *   codalab_yaml.c     competition.yaml read into JSON, and its values read as CodaLab meant them;
 *   codalab_parts.c    the phases, and the challenges (tracks, phases scored apart) a competition makes;
 *   codalab_columns.c  the leaderboard's columns: which one ranks, which are shown beside it;
 *   codalab_files.c    the bundle's pages, zips and folders copied or unpacked into the new bundle;
 *   codalab_program.c  what is done to a program's folder (NumPy aliases, Codabench paths) and the reference's place.
 * Every function that can fail notes a problem in P naming the competition.yaml field (codalab_note), and every
 * mapping decision is said on stdout and in the conversion report LOG (codalab_say). */
#ifndef CONCOURS_CODALAB_INTERNAL_H
#define CONCOURS_CODALAB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "bundle.h"

#define CODALAB_PAGE_MAX (1024 * 1024) /* bytes of a page, a program's file or a Markdown text read */

/* ---------------------------------------------------------------- the report (codalab.c) */

/* Notes a problem of competition.yaml's FIELD in P. */
void codalab_note(struct bundle_problems *p, const char *field, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* One mapping decision: a "codalab: " line on stdout and, when LOG is not NULL, a "- " line of the conversion
 * report (CONVERSION.md of the converted bundle). */
void codalab_say(FILE *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Says "ignored WHERE KEY" for each key of OBJ not in KNOWN (NULL-terminated). */
void codalab_ignored(const char *where, json_t *obj, const char *const *known, FILE *log);
/* The competition's image (Codabench's docker_image, CodaLab's competition_docker_image) is not pulled: says how the
 * organizer gives it to the scoring program (metric.runtime). */
void codalab_image_note(json_t *y, FILE *log);

/* ---------------------------------------------------------------- what both conversions write (codalab.c) */

/* The end of a last phase that never ends (CodaLab's end_date: null, a Codabench phase without end): 2100-01-01,
 * so that a competition imported years after it started still takes submissions in its last phase, as there. */
int64_t codalab_never_ends(int64_t start);
/* Appends to OUT the concours phase I named LABEL (or "phase I+1"), from T0 to T1, with the submission limits of
 * the CodaLab / Codabench phase PH (max_submissions_per_day, max_submissions). */
void codalab_append_phase(json_t *out, const char *label, size_t i, int64_t t0, int64_t t1, json_t *ph, FILE *log);
/* With ONLY > 0 (`--phase N`: one phase alone), keeps only the ONLYth of *PHASES (an owned array, replaced) and
 * writes into BUF (size N) the title TITLE followed by that phase's name (its LABEL_KEY), so that it imports as a
 * challenge of its own; *TITLE then points at BUF. 0, or -1 with a problem noted. */
int codalab_keep_one_phase(json_t **phases, int only, const char *label_key, const char **title, char *buf, size_t n,
                           FILE *log, struct bundle_problems *p);
/* Writes DST/challenge.json from OUT (which holds the phases) with what every conversion sets: SLUG, the title
 * TITLE, summary from DESCRIPTION, the ground truth TRUTH_REL (placed by codalab_place_reference; FULL: run once on
 * it, no split), the program's score KEY and direction. 0, or -1 with a problem noted. */
int codalab_write_definition(const char *dst, json_t *out, const char *truth_rel, int full, const char *title,
                             const char *slug, const char *description, const char *key, int higher,
                             struct bundle_problems *p);
/* A code challenge from an ingestion program (CodaLab's code submissions, docs/code.md): the bundle's zip or folder
 * INGESTION goes to DST/ingestion_program, the hidden input data INPUT to DST/input_data, and OUT gets the
 * "submission" block: the ingestion program runs on the input data with the participant's code at /code (no command
 * of its own), and the whole of its output folder is handed to the scoring program as $input/res. WALL_S (CodaLab's
 * execution_time_limit) bounds a run when positive; INPUTS_PUBLIC (the input data is also served) lets participants
 * read the ingestion log. WHERE names the source in the report. 0, or -1 with a problem noted. */
int codalab_code_submission(const char *src, const char *dst, const char *ingestion, const char *input, int wall_s,
                            int inputs_public, const char *where, json_t *out, struct bundle_problems *p, FILE *log);

/* ---------------------------------------------------------------- the Codabench conversion (codabench.c) */

/* A Codabench v2 bundle (version: 2): tasks, solutions, phases with tasks, leaderboards with columns, converted
 * (its part PART, when the competition makes several challenges; only its phase ONLY_PHASE when positive) from the
 * folder SRC, whose competition.yaml is Y, into DST. What cannot be mapped is refused with its key named. Returns as
 * codalab_convert does. */
int codalab_convert_v2(const char *src, const char *dst, json_t *y, int only_phase, int part, struct bundle_problems *p,
                       FILE *log);

/* ---------------------------------------------------------------- competition.yaml (codalab_yaml.c) */

/* The YAML file PATH (competition.yaml) as JSON (new reference; scalars as strings, aliases shared, never copied;
 * size, depth and node count capped), or NULL with a message in ERR (size ERRLEN). */
json_t *codalab_load_yaml(const char *path, char *err, size_t errlen);
/* A CodaLab date, as competition.yaml files write them: YYYY-M-D, then optionally a time ("T" or a blank, H:MM
 * with one- or two-digit hours, optional :SS and fraction), then optionally a zone (Z, UTC, +HH:MM, +HHMM, +HH).
 * A date without a zone is UTC, as CodaLab's server ran. Returns the UTC time, or -1 when S is no such date. */
int64_t codalab_date(const char *s);
/* A Codabench date: "1-31-2026" (month-day-year, as its examples write them), or a CodaLab one; -1 when
 * malformed. */
int64_t codalab_date_v2(const char *s);
/* The whole number 0 to 1,000,000 that S writes, else DFLT. */
int codalab_int_str(const char *s, int dflt);
/* The whole number 0 to 1,000,000 that the YAML scalar V writes, else DFLT. */
int codalab_int(json_t *v, int dflt);
/* A YAML boolean as the bundle wrote it (true, True, yes, 1), as a JSON true or a string. */
int codalab_truthy(json_t *v);

/* ---------------------------------------------------------------- phases and parts (codalab_parts.c) */

/* The phases of competition Y as the converters read them: CodaLab's in phasenumber order, each naming the
 * scoring_program and reference_data that score it (a phase naming none is scored with the phase's before);
 * Codabench's (V2) with a phase that runs several tasks (at most CODALAB_MAX_PARTS) made into one phase per task, of
 * the same name and starting together, so that each task becomes a track (a challenge of its own, named after its
 * task), scored as Codabench scores a submission on each of them. A new array, or NULL out of memory. */
json_t *codalab_phases(json_t *y, int v2);
/* With PART > 0 (1-based, of codalab_parts' count), keeps in *PHASES (an owned array, replaced) the phases of that
 * part; BUF (size N) gets its title and SLUG (size 64) its slug, so that each part imports as a challenge of its
 * own, *TITLE then pointing at BUF; *COMPETITION gets the definition's "competition" object that links them all (a
 * new reference). 0, or -1 (a problem noted). */
int codalab_keep_part(json_t *y, json_t **phases, int v2, int part, const char **title, char *buf, size_t n, char *slug,
                      json_t **competition, FILE *log, struct bundle_problems *p);
/* The start of phase PH (Codabench's "start" when V2, else CodaLab's "start_date"), or -1 when it has none. */
int64_t codalab_phase_start(json_t *ph, int v2);
/* The first start among the phases ALL later than T0 (a phase without an end ends when the next one of the
 * competition begins), or -1. */
int64_t codalab_next_start(json_t *all, int64_t t0, int v2);
/* The position of phase PH in ALL (the competition's phases as the bundle lists them), so that a report names a
 * phase as the bundle does even in a challenge made of some of them; FALLBACK when it is not there. */
size_t codalab_phase_pos(json_t *all, json_t *ph, size_t fallback);
/* Whether the CodaLab phase PH takes code: an ingestion program, input data, and is_scoring_only false (CodaLab's
 * default is true: results only); an ingestion program run "only during scoring" (on result files) is not. */
int codalab_takes_code(json_t *ph);
/* The task of index INDEX among the Codabench TASKS, or NULL. */
json_t *codalab_task_of(json_t *tasks, int index);
/* TITLE as a slug (lower-case letters, digits and single dashes, at most 48 characters; "codalab-import" when that
 * leaves less than 2) into SLUG (size N). */
void codalab_slug_of(const char *title, char *slug, size_t n);

/* ---------------------------------------------------------------- leaderboard columns (codalab_columns.c) */

/* The columns of a CodaLab leaderboard (an object KEY: {label, rank, sort, numeric_format, hidden, computed:
 * {operation, fields}}) as the common shape codalab_map_columns reads: a new array of {key, label, order, higher,
 * precision, hidden, fields} ("fields": the averaged keys of a computed column, else absent). */
json_t *codalab_columns_v1(json_t *lb);
/* The columns of a Codabench leaderboard (an array of {title, key, index, sorting, precision, hidden, computation,
 * computation_indexes}) in codalab_map_columns' shape (see codalab_columns_v1). */
json_t *codalab_columns_v2(json_t *lb);
/* Maps the leaderboard COLS (codalab_columns_v1 / _v2) onto OUT: the column ranked first (lowest rank or index)
 * ranks. When it is a plain column, its key is the score (KEY, size N; *HIGHER, *PRECISION) and the other plain
 * columns are shown beside it as secondary metrics. When it is a computed average (CodaLab's Avg), the challenge
 * ranks by mean rank over the averaged columns, the first of them being the primary metric. Hidden columns are not
 * shown. Every decision is said to LOG. 0, or -1 when no plain column can be the score. */
int codalab_map_columns(json_t *cols, json_t *out, char *key, size_t n, int *higher, int *precision, FILE *log);

/* ---------------------------------------------------------------- the bundle's files (codalab_files.c) */

/* The HTML page SRC/NAME as text: tags dropped, common entities decoded, into a new malloc'd string; NULL when
 * absent, unsafe (a ".." or absolute NAME) or larger than CODALAB_PAGE_MAX. */
char *codalab_page_text(const char *src, const char *name);
/* The text of the bundle file SRC/NAME (a Markdown page), or NULL when absent, unsafe or too large. */
char *codalab_bundle_text(const char *src, const char *name);
/* Writes TEXT to DST/NAME (atomically, 0600). 0, or -1. */
int codalab_write_text(const char *dst, const char *name, const char *text);
/* Writes DST/overview.md and DST/terms.md (placeholder terms naming the PLATFORM when TERMS is NULL). 0, or -1
 * with a problem noted. */
int codalab_write_texts(const char *dst, const char *overview, const char *terms, const char *platform,
                        struct bundle_problems *p);
/* Copies the bundle's file SRC/NAME (a phase's public_data or starting_kit zip) to DST/data/ under its own name
 * and lists it in OUT's "data", once: participants download it as CodaLab served it, after the anonymity gate has
 * checked every member. NAME NULL: nothing to do. WHERE names the phase in problems and the report. 0, or -1 with a
 * problem noted. */
int codalab_served_file(const char *src, const char *dst, const char *name, json_t *out, const char *where,
                        struct bundle_problems *p, FILE *log);
/* Puts the bundle's folder or zip NAME (a task's program or data) at the new folder DIR (a zip unpacked, its lone
 * folder's content moved up as CodaLab did). FIELD names it in problems. 0, or -1 with a problem noted. */
int codalab_task_files(const char *src, const char *name, const char *dir, const char *field, struct bundle_problems *p,
                       FILE *log);

/* ---------------------------------------------------------------- programs and reference (codalab_program.c) */

/* When a Python file of the program folder DIR uses NumPy's removed aliases, adds concours_numpy_compat.py to DIR
 * and rewrites its metadata's command (`python3 SCRIPT ...`) to run SCRIPT through it. 0 (done, or nothing to do),
 * or -1 with a problem noted. */
int codalab_numpy_compat(const char *dir, FILE *log, struct bundle_problems *p);
/* Codabench runs programs in /app/program with /app/input, /app/output and /app/shared (an ingestion program with
 * /app/input_data and the participant's code in /app/ingested_program): a command of the program folder DIR naming
 * those folders (the examples' `python3 /app/program/scoring.py /app/input/ /app/output/`) gets $program, $input,
 * $output, $shared and $submission_program instead. 0, or -1 with a problem noted. */
int codalab_app_paths(const char *dir, FILE *log, struct bundle_problems *p);
/* Places the unpacked reference REF_DIR in DST/private as the ground truth and fills TRUTH_REL (size N) and *FULL:
 * when it holds one CSV at its top with a Usage column the program (PROGRAM_DIR) never names, concours splits it and
 * runs the program once per split (its contract: the private rows stay unseen until the jury publishes); otherwise
 * the whole folder is handed to the program as it is, once, as CodaLab did. 0, or -1 with a problem noted. */
int codalab_place_reference(const char *ref_dir, const char *program_dir, const char *dst, char *truth_rel, size_t n,
                            int *full, FILE *log, struct bundle_problems *p);

#endif
