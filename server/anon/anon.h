/* anon.h: the dataset anonymity tools of concours (issue 7), as one self-contained module.
 *
 * Health datasets must not leave concours with direct identifiers in them, and their re-identification
 * risk must be measured before they are served. This module gives the server (at bundle import) and the
 * `concours dataset ...` command line the same two tools:
 *   - a check: direct identifiers by column name and by value pattern, opaque pseudonym columns,
 *     k-anonymity, records below k, l-diversity and uniqueness over quasi-identifiers;
 *   - a streaming pseudonymizer: keyed HMAC-SHA256 pseudonyms, dropped columns, per-subject date shifts,
 *     age bands and postcode prefixes, written atomically.
 * Nothing here ever prints or stores a cell value of the data it checks.
 *
 * Ownership: every pointer an anon_ function returns through an out-parameter belongs to the caller and
 * says how it is freed; every pointer passed in is only borrowed for the duration of the call.
 */
#ifndef CONCOURS_ANON_H
#define CONCOURS_ANON_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Return codes of anon_check_file(), anon_pseudonymize_file() and anon_cli_main() (process exit codes). */
enum anon_status {
  ANON_PASS = 0,  /* the check passed, or the work is done */
  ANON_FAIL = 1,  /* the check ran and the data failed it */
  ANON_ERROR = 2, /* usage, malformed input or I/O error: err holds one line fit to show an organizer */
};

/* Input caps. A zero field means "the default" given beside it. */
struct anon_limits {
  size_t max_record_bytes;     /* one CSV record, quotes removed: default 1 MiB */
  size_t max_columns;          /* default 4096 */
  unsigned long long max_rows; /* data rows per file: default 100,000,000 */
};

/* What anon_check_file() checks against. Initialise with anon_check_options_init(), then set fields. */
struct anon_check_options {
  const char *const *quasi; /* declared quasi-identifier column names (borrowed); NULL: suggest them */
  size_t n_quasi;
  unsigned k;            /* minimal equivalence class size; default 5 */
  const char *sensitive; /* column for l-diversity (borrowed), or NULL for none */
  unsigned l;            /* minimal distinct sensitive values per class; default 2 */
  struct anon_limits limits;
  void *owned; /* set by anon_check_options_from_json(), freed by anon_check_options_free() */
};

/* Fills opt with the defaults: suggested quasi-identifiers, k = 5, no sensitive column, l = 2,
   default limits. Never fails. */
void anon_check_options_init(struct anon_check_options *opt);

/* Fills opt (defaults first) from the "anonymity" object of a challenge.json, validated against its shape:
 *   {"quasi_identifiers": ["age", ...], "k": 5, "sensitive": "diagnosis", "l": 2}, every field optional,
 *   names non-empty strings (at most 256 of them), k and l whole numbers from 1 to 1,000,000, no other field.
 * anonymity may be NULL (no declaration: defaults, suggested quasi-identifiers). The names stay borrowed from
 * anonymity, which must outlive opt; the array holding them is owned by opt: release it with
 * anon_check_options_free() in every case. Returns 0, or -1 with err naming the offending field.
 */
int anon_check_options_from_json(struct anon_check_options *opt, const json_t *anonymity, char *err, size_t errlen);

/* Frees what anon_check_options_from_json() allocated; safe on options from anon_check_options_init(). */
void anon_check_options_free(struct anon_check_options *opt);

/* Checks one CSV file (RFC 4180, header row, optional BOM, LF or CRLF) and builds its report.
 *
 * Returns ANON_PASS or ANON_FAIL with *report_out set to a new JSON object the caller owns and frees with
 * json_decref(). The report holds: "file", "format", "rows", "columns", "passed", "failures" (reasons, as
 * text), "warnings" (text, never a failure), "direct_identifiers" [{"column","rule","count","rows" (first data
 * rows matched, never values),"fix"}], "summary" {rule: findings}, "pseudonymous_ids" [{"column","rule","count"}],
 * "rare_values" [{"column","values_below_k","records"}], "quasi_identifiers_suggested" (suggested columns the
 * declaration left out) and, when there are some, "k_anonymity_with_suggested",
 * "quasi_identifiers" (the columns used), "quasi_identifiers_source" ("declared" or "suggested"),
 * "quasi_identifiers_missing" (declared columns this file lacks), "k", "k_anonymity" (smallest class size,
 * 0 for a file without rows), "records_below_k", "equivalence_classes", "uniqueness_rate" (share of rows
 * alone in their class) and, when opt->sensitive is set and present, "sensitive", "l", "l_diversity" (smallest
 * number of distinct sensitive values in a class) and "records_below_l". No cell value ever appears in it.
 *
 * Returns ANON_ERROR with *report_out NULL and err (errlen bytes, always NUL-terminated when errlen > 0)
 * describing the problem, with line and column for malformed CSV. opt may be NULL for the defaults.
 */
int anon_check_file(const char *path, const struct anon_check_options *opt, json_t **report_out, char *err,
                    size_t errlen);

/* Linkability across files: for each pair of table files (paths[i], shown as names[i], with reports[i] from
 * anon_check_path()) that share a pseudonymous id column and where each brings quasi-identifiers the other lacks,
 * joins them on that id and measures k over the union. *links_out is a new array (caller frees) of
 * {"files":[a,b],"on","quasi_identifiers","joined_records","k_anonymity","records_below_k","passed"}; pairs
 * whose rows do not meet (a train and a test file) are left out. Returns ANON_PASS, ANON_FAIL (a pair below k)
 * or ANON_ERROR with err filled. */
int anon_check_links(const char *const *paths, const char *const *names, json_t *reports,
                     const struct anon_check_options *opt, json_t **links_out, char *err, size_t errlen);

/* Writes the reports (an array of anon_check_path() reports) as one self-contained HTML page, every string
   escaped. Returns 0, or -1 when writing failed. */
int anon_report_write_html(FILE *out, const json_t *reports);

/* Checks one file by its real format, whatever its name says: delimited tables (',', ';', tab or '|', sniffed
 * from the header line), plain text (each line a value), JSON lines, each of them gzip-compressed or not; zip
 * archives (every member, by its own format; an archive inside an archive is refused); TIFF and pyramidal
 * whole-slide images (text tags, vendor tags, label and macro images); PNG text chunks; DICOM (attributes of the
 * PS3.15 basic profile, private elements, burned-in annotation; read by DCMTK's dcmdump). The file's own name is
 * scanned too. Tables get the report of anon_check_file() with "format" ("csv", "tsv", "text", "jsonl") and
 * "compression"; other formats a report with "file", "format" ("zip", "tiff", "png", "dicom"), "passed",
 * "failures", "warnings", "direct_identifiers" (a "column" saying where: a tag, an attribute, a member) and,
 * for archives, "members" (their reports). Any other format is ANON_ERROR: it cannot be checked.
 * name is what reports and messages call the file (NULL: path). opt may be NULL for the defaults.
 */
int anon_check_path(const char *path, const char *name, const struct anon_check_options *opt, json_t **report,
                    char *err, size_t errlen);

/* Returns a new object (caller frees with json_decref(), NULL when out of memory) with what a participant may
   see of a report: {"passed", "k", "k_anonymity" (null for files that are not tables), "direct_identifiers_found"
   (a count)}; no column names. */
json_t *anon_report_public(const json_t *report);

/* Writes the human-readable form of a report built by anon_check_file() to out. Returns 0, or -1 when
   writing failed. Borrows both arguments. */
int anon_report_write_text(FILE *out, const json_t *report);

/* How --generalize treats a column: AUTO is BAND for an age-like column name, PREFIX otherwise. */
enum anon_generalize_kind { ANON_GEN_AUTO, ANON_GEN_BAND, ANON_GEN_PREFIX };

struct anon_generalize {
  const char *column; /* borrowed */
  enum anon_generalize_kind kind;
  unsigned width; /* band width in years, or prefix length in characters; >= 1 */
};

/* What anon_pseudonymize_file() does. Initialise with anon_pseudo_options_init(), then set fields.
   Every name and array is borrowed. */
struct anon_pseudo_options {
  const char *id_column;   /* required: the subject identifier, replaced by its pseudonym */
  const char *const *drop; /* columns removed from the output */
  size_t n_drop;
  const char *const *shift_dates; /* date columns shifted by the subject's offset */
  size_t n_shift_dates;
  const struct anon_generalize *generalize;
  size_t n_generalize;
  const char *const *redact; /* free-text columns whose names, dates and identifiers become placeholders */
  size_t n_redact;
  unsigned shift_max_days; /* offsets lie in [-max, -1] U [1, max]; default 365 */
  struct anon_limits limits;
};

/* Fills opt with the defaults (no id column yet, nothing dropped, shifted or generalized, 365 days). */
void anon_pseudo_options_init(struct anon_pseudo_options *opt);

/* Key length written by anon_key_load_or_create(); pseudonyms are ANON_PSEUDONYM_LEN hex characters. */
#define ANON_KEY_LEN 32
#define ANON_PSEUDONYM_LEN 32

/* Loads the pseudonymization key from path into key[ANON_KEY_LEN], or creates the file (mode 0600,
 * O_EXCL, ANON_KEY_LEN bytes from RAND_bytes, fsynced) when it does not exist. A key file that is not a
 * regular file, is readable or writable by group or others, or is not exactly ANON_KEY_LEN bytes is refused.
 * Sets *created to 1 when the file was created (created may be NULL). Returns 0, or -1 with err filled.
 */
int anon_key_load_or_create(const char *path, unsigned char key[ANON_KEY_LEN], int *created, char *err, size_t errlen);

/* Writes into out[ANON_PSEUDONYM_LEN + 1] the pseudonym of value[0..len): the first 16 bytes, in lower-case
   hex, of HMAC-SHA256(key, "concours-pseudonym-v1" NUL id), id being value normalised: blanks (space, tab, CR,
   LF) removed and ASCII letters upper-cased, so " ab 12" and "AB12" are one subject. Returns 0, or -1 if
   OpenSSL failed. */
int anon_pseudonym(const unsigned char key[ANON_KEY_LEN], const char *value, size_t len,
                   char out[ANON_PSEUDONYM_LEN + 1]);

/* Counters filled by anon_pseudonymize_file(). */
struct anon_pseudo_stats {
  unsigned long long rows;
  unsigned long long bytes_in;
};

/* Streams in_path to out_path, applying opt with key. Memory is bounded by the limits, not the file size.
 * The output goes to a temporary file beside out_path, is fsynced, then renamed over out_path: out_path is
 * either untouched or complete. in_path and out_path must differ. stats may be NULL.
 * Returns ANON_PASS, or ANON_ERROR with err filled (line and column for malformed CSV or unparsable values)
 * and no output file left behind.
 */
int anon_pseudonymize_file(const char *in_path, const char *out_path, const unsigned char key[ANON_KEY_LEN],
                           const struct anon_pseudo_options *opt, struct anon_pseudo_stats *stats, char *err,
                           size_t errlen);

/* The pseudonym of a subject id (as anon_pseudonym()) and its date offset in days (as `pseudonymize
   --shift-dates` with --shift-max-days max_days). Returns 0, or -1 if OpenSSL failed. */
int anon_subject(const unsigned char key[ANON_KEY_LEN], const char *value, size_t len,
                 char pseudo[ANON_PSEUDONYM_LEN + 1], long *shift, unsigned max_days);

/* A DICOM UID's keyed replacement: "2.25." then the decimal value of the first 16 bytes of
   HMAC-SHA256(key, "concours-pseudonym-v1" NUL "uid:" uid): the same UID gives the same replacement in every
   file, so a study stays one study. Returns 0, or -1. */
#define ANON_UID_MAX 64
int anon_uid_remap(const unsigned char key[ANON_KEY_LEN], const char *uid, char out[ANON_UID_MAX + 1]);

/* What anon_deidentify_dicom() did. */
struct anon_dicom_stats {
  unsigned removed, blanked, uids, dates; /* attributes erased, emptied, UIDs remapped, dates shifted */
  int burned_in;                          /* BurnedInAnnotation was YES: the pixels still need masking */
};

/* Applies the DICOM PS3.15 basic confidentiality profile to in_path, writing out_path (through a temporary file,
 * fsynced, renamed): PatientName and PatientID become the PatientID's pseudonym; the profile's identifying
 * attributes are removed (type 2 ones emptied); private elements are removed; Study, Series, SOP Instance and
 * Frame of Reference UIDs are remapped with anon_uid_remap(); dates are shifted by the patient's offset (the
 * "retain longitudinal temporal information with modified dates" option); PatientIdentityRemoved = YES and
 * DeidentificationMethod are written. DCMTK's dcmdump and dcmodify do the reading and writing. Returns ANON_PASS,
 * or ANON_ERROR with err filled and out_path untouched. */
int anon_deidentify_dicom(const char *in_path, const char *out_path, const unsigned char key[ANON_KEY_LEN],
                          struct anon_dicom_stats *stats, char *err, size_t errlen);

/* What anon_strip_tiff() did. */
struct anon_strip_stats {
  unsigned pages_kept, pages_dropped; /* dropped: associated label and macro images */
  unsigned descriptions_cleaned;      /* ImageDescriptions rewritten or removed */
};

/* Writes to out_path a copy of the TIFF at in_path without label and macro pages and without identifying tags:
 * each kept page keeps only the tags that describe its pixels and a cleaned ImageDescription (docs/anonymity.md);
 * tiles and strips are copied as raw bytes (the pixels are bit-identical). out_path is written through a
 * temporary file beside it, fsynced and renamed. Returns ANON_PASS, or ANON_ERROR with err filled and out_path
 * untouched. */
int anon_strip_tiff(const char *in_path, const char *out_path, struct anon_strip_stats *stats, char *err,
                    size_t errlen);

/* Runs `concours dataset SUBCOMMAND ...`; argv[0] is "dataset". Returns the process exit code
   (0 passed / done, 1 check failed, 2 usage or input error). Prints to stdout/stderr. */
int anon_cli_main(int argc, char **argv);

#endif
