/* sandbox_program.h: the pieces of running an organizer's scoring program under the CodaLab / Codabench
 * contract (API.md §2), kept out of queue.c so that each is small and testable: reading the `command:` line of
 * `metadata` / `metadata.yaml`, substituting $input $output $program $hidden $shared $tmp $predictions,
 * writing one split's rows of the ground truth (without the split column), laying the submission out in
 * $input/res (archives unpacked with extract.c), and reading the scores the program wrote. */
#ifndef CONCOURS_SANDBOX_PROGRAM_H
#define CONCOURS_SANDBOX_PROGRAM_H

#include <stddef.h>

#define SANDBOX_PROGRAM_CMD_MAX 4096

/* Reads the `command:` of PROGRAM_DIR/metadata (or metadata.yaml) into CMD (size N). A command starting with
 * `python ` runs `python3 ` (CodaLab's images called Python 3 "python"); `python2` is refused. Returns 0, or -1
 * with a sentence for the organizer in ERR (no metadata, no command, too long, Python 2). */
int sandbox_program_command(const char *program_dir, char *cmd, size_t n, char *err, size_t errlen);

/* The folders a command's variables stand for, as the program sees them (NULL: the variable is left as it is). */
struct sandbox_program_vars {
  const char *input, *output, *program, *hidden, *shared, *tmp, *predictions;
  const char *ingestion_program, *submission_program; /* an ingestion program's: itself, the participant's code */
};

/* Replaces $input, $output, $program, $hidden, $shared, $tmp, $predictions, $ingestion_program,
 * $submission_program (also ${name}) in CMD by V's paths into OUT (size N); any other $word is left as it is.
 * Returns 0, or -1 when it does not fit. */
int sandbox_program_expand(const char *cmd, const struct sandbox_program_vars *v, char *out, size_t n);

enum sandbox_split { SANDBOX_SPLIT_ALL = 0, SANDBOX_SPLIT_PUBLIC, SANDBOX_SPLIT_PRIVATE };

/* Writes to DST (created, mode 0644) the header and the rows of the CSV TRUTH whose SPLIT_COLUMN is "Public"
 * or "Private" (case-insensitive) as WHICH asks, or every row for SANDBOX_SPLIT_ALL, leaving the split column
 * out. *HAS_SPLIT (may be NULL) tells whether TRUTH has that column. Returns the number of rows written, or -1
 * with a message in ERR. */
long sandbox_program_split_truth(const char *truth, const char *split_column, enum sandbox_split which, const char *dst,
                                 int *has_split, char *err, size_t errlen);

/* Lays the submission PRED out in the folder RES_DIR: a zip / tar / tar.gz is unpacked (extract.c), a gzip
 * file is decompressed to predictions.csv, any other file is copied to predictions.csv; files are 0644,
 * folders 0755. Returns 0, 1 when the file itself is unacceptable (MSG is fit for the participant), or -1 on
 * an internal error (MSG for the organizers). */
int sandbox_program_stage_submission(const char *pred, const char *res_dir, char *msg, size_t msglen);

/* Picks the score KEY from the program's scores.json (JSON, an object of numbers, duplicate keys refused) when
 * JSON is not NULL, else from scores.txt TXT (`key: value` or `key:value` lines). Values must be finite.
 * Returns 0 with *VALUE, or -1 with a sentence for the organizers in ERR. */
int sandbox_program_parse_scores(const char *json, const char *txt, const char *key, double *value, char *err,
                                 size_t errlen);

/* The command of an organizer's ingestion program (CodaLab's code submissions, docs/code.md) in INGESTION_DIR, read
 * as sandbox_program_command reads it, with its variables as a code run sees them: $input /data, $output /output,
 * $program and $ingestion_program /ingestion, $submission_program /code, $tmp and $shared /tmp. Returns 0 with CMD
 * (size N), or -1 with a sentence for the organizer in ERR. */
int sandbox_program_ingestion_command(const char *ingestion_dir, char *cmd, size_t n, char *err, size_t errlen);

#endif
