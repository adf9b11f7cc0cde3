/* bundle_internal.h: what bundle.c (the bundle's own checks, copying, the import), bundle_check.c (what the definition
 * names: data files, the ground truth, a code challenge's inputs, runtimes) and bundle_changes.c (the bundle's hash,
 * what changed since the last import) share, and only they. Problems go to P (bundle_problem()), every one found
 * rather than the first. */
#ifndef CONCOURS_BUNDLE_INTERNAL_H
#define CONCOURS_BUNDLE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bundle.h"
#include "db.h"
#include "def.h"
#include "progcheck.h"
#include "sandbox_program.h"

/* An organizer's program of the bundle: its folder, its kind, and its command once check_program_dir read it. */
struct org_program {
  const char *rel;
  enum progcheck_program kind;
  char cmd[SANDBOX_PROGRAM_CMD_MAX]; /* "" while unread or unusable */
};

/* ---------------------------------------------------------------- bundle.c */

/* Whether P holds a problem (kept or dropped over the cap). */
int bundle_has_problems(const struct bundle_problems *p);
/* 1 when DIR/REL is a regular file (not a symlink), its path into PATH (size N); 0 otherwise. */
int bundle_regular_file(const char *dir, const char *rel, char *path, size_t n);
/* Is the ground truth GT of the bundle DIR a folder (a program's reference of any files)? */
int bundle_truth_is_folder(const char *dir, const char *gt);
/* Walks the scoring program folder SRC (regular files and folders only, at most 16 deep, 2,000 files and 256 MB),
 * copying it to DST when not NULL (folders 0755, files 0644 or 0755 when executable) and appending "relpath sha256"
 * of each file to LISTING when not NULL. Returns 0, or -1 with a message in ERR (size ERRLEN). */
int bundle_program_tree(const char *src, const char *dst, char *err, size_t errlen, json_t *listing);
/* The same walk for a code challenge's input folder: up to 100,000 files and 4 TiB, SKIP (a top-level name, or NULL)
 * left out. */
int bundle_inputs_tree(const char *src, const char *dst, char *err, size_t errlen, json_t *listing, const char *skip);
/* A folder for temporary files into OUT (size N): DATA/tmp when a data folder is open, else $TMPDIR or /tmp. */
void bundle_work_base(char *out, size_t n);

/* ---------------------------------------------------------------- bundle_check.c */

/* Checks that every data file of D exists in DIR and builds FILES ([{"name","src","size","sha256"}]). */
void bundle_check_files(const char *dir, const struct challenge_def *d, json_t *files, struct bundle_problems *p);
/* Checks D's ground truth in DIR, its hash into TRUTH_SHA: a file has the id column (the first one when D names
 * none: D's id column is then set) and the split column, and, unless an organizer's program scores, rows the scorer
 * accepts with both Public and Private ones; a folder is checked as a program's reference. */
void bundle_check_truth(const char *dir, struct challenge_def *d, struct bundle_problems *p, char truth_sha[65]);
/* A code-execution challenge (API.md section 4): the hidden inputs folder, the smoke sample and its ground truth
 * (smoke/solution.csv: the ground truth's columns without the split column, scored by the challenge's metric), and
 * GPUs the machine must have. */
void bundle_check_code(const char *dir, struct challenge_def *d, struct bundle_problems *p);
/* The runtime RT of the bundle DIR (the code's or the scoring program's, as def.c read it). A "debian" runtime: built
 * (or found) in the data folder's cache when importing or asked to BUILD; only its package list checked otherwise
 * (CHECK_ONLY). An "oci" runtime: the image archive of the bundle unpacked (into the data folder's cache when
 * importing; into a temporary folder, removed again, when only checking). Its identity goes to RT->sha256. When PROG
 * is not NULL (an organizer's program runs on it), that program is checked against the root file system while it is
 * there (progcheck; syntax only for a debian runtime that is not built). */
void bundle_check_runtime(const char *dir, struct def_runtime *rt, const struct org_program *prog, int check_only,
                          int build, struct bundle_problems *p);
/* Copies a code challenge's inputs: the hidden ones to VERSION_DIR/inputs/test, the smoke sample (its solution.csv
 * aside) to inputs/smoke, and that solution to private/smoke_solution.csv. Folders 0755 and files 0644: the sandbox
 * uid reads them through an fd bind; the data folder itself stays closed. Returns 0 or -1 with ERR (size ERRLEN). */
int bundle_copy_code_inputs(const char *dir, const struct challenge_def *d, const char *version_dir, char *err,
                            size_t errlen);

/* ---------------------------------------------------------------- bundle_changes.c */

/* Sorts the strings of ARR in place (readdir order differs between two copies of one folder). */
void bundle_sort_strings(json_t *arr);
/* SHA-256 of everything an import copies into OUT (hex): the definition, the texts, every data file (FILES), the
 * ground truth (TRUTH_SHA) and the scoring program's files of DIR (names and hashes). Two imports of the same bundle
 * give the same value. Returns 0, or -1. */
int bundle_hash(const char *definition, const char *overview, const char *terms, json_t *files, const char *truth_sha,
                const char *dir, const struct challenge_def *d, char out[65]);
/* Sentences (a new array) saying how the bundle about to be imported differs from the last import OLD
 * (db_challenge_import_state). */
json_t *bundle_list_changes(const json_t *old, const json_t *def, const char *overview, const char *terms,
                            const json_t *files, const char *truth_sha);

#endif
