/* anon_internal.h: the pieces the anon module's files share (CSV streaming, a byte-keyed hash table,
 * column-name and value rules, calendar dates). Not part of the public API: only the server/anon sources and the
 * module's unit tests include it. Names still carry the anon_ prefix because the library is linked into
 * the server beside other modules.
 */
#ifndef CONCOURS_ANON_INTERNAL_H
#define CONCOURS_ANON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "anon.h"

#define ANON_DEFAULT_RECORD_BYTES ((size_t)1 << 20)
#define ANON_DEFAULT_COLUMNS ((size_t)4096)
#define ANON_DEFAULT_ROWS 100000000ULL

/* Makes the complete temporary file tmp the file out_path: fsync, rename, fsync of the folder (pseudo.c).
   Returns 0, or -1 with err filled (tmp is then the caller's to remove). */
int anon_publish(const char *tmp, const char *out_path, char *err, size_t errlen);

/* Writes a formatted message into err (errlen bytes, NUL-terminated; nothing when errlen is 0). */
void anon_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fills out with lim where set, defaults elsewhere. */
void anon_limits_resolve(const struct anon_limits *lim, struct anon_limits *out);

/* ---- table streaming (csv.c) ---------------------------------------------------------------------------
 * A reader holds one record at a time: fields are NUL-terminated, quotes removed, valid UTF-8 without NUL.
 * The first record is the header; every later record must have as many fields. Blank lines are skipped.
 * Memory: a 64 KiB read buffer plus max_record_bytes + max_columns bytes, whatever the file size.
 * Tables come as delimited text (RFC 4180 with ',', or ';', tab, '|'), plain text (each line one value of a
 * single column named "text"), or JSON lines (each line an object; the columns are the first object's keys,
 * in order, plus "(other keys)" holding "key=value" pairs of keys the first object lacked), optionally
 * gzip-compressed. */
enum anon_table_kind { ANON_TABLE_CSV, ANON_TABLE_TEXT, ANON_TABLE_JSONL };

struct anon_table_spec {
  enum anon_table_kind kind;
  unsigned char delim; /* ANON_TABLE_CSV: ',' when 0 */
  int gzip;            /* the file is gzip-compressed */
  const char *name;    /* shown in messages instead of the path, or NULL */
};

struct anon_csv_reader {
  int fd;
  void *gz; /* gzFile when the input is compressed */
  struct anon_table_spec spec;
  unsigned char stop_unquoted[256];
  char *lbuf; /* TEXT and JSONL: the current line */
  size_t lbuf_len, lbuf_cap;
  int pending;        /* JSONL: the first object, read for the header, is still to be returned as a record */
  char *path;         /* owned copy, for messages */
  unsigned char *buf; /* read buffer */
  size_t buf_len, buf_pos;
  char *rec; /* current record: fields back to back, each NUL-terminated */
  size_t rec_len, rec_cap;
  size_t *field_off; /* offsets of fields in rec */
  size_t *field_len;
  size_t n_fields;
  char *header; /* copy of the header record, same layout */
  size_t *header_off;
  size_t n_header;
  unsigned long long line; /* physical line where the current record starts, 1-based */
  unsigned long long next_line;
  unsigned long long rows;  /* data records read so far */
  unsigned long long bytes; /* bytes read from the file */
  struct anon_limits lim;
  int eof;
};

/* Opens path as a comma-separated file and reads its header. Returns 0, or -1 with err filled (and r safe to
   close). r is caller storage; release it with anon_csv_close() in every case. */
int anon_csv_open(struct anon_csv_reader *r, const char *path, const struct anon_limits *lim, char *err, size_t errlen);
/* The same for any table kind of spec (spec == NULL: comma-separated, uncompressed). */
int anon_table_open(struct anon_csv_reader *r, const char *path, const struct anon_table_spec *spec,
                    const struct anon_limits *lim, char *err, size_t errlen);
/* Reads the next data record. Returns 1 with the record in r, 0 at end of file, -1 with err filled
   ("PATH: line L, column C ("name"): what"). */
int anon_csv_next(struct anon_csv_reader *r, char *err, size_t errlen);
/* Releases what r holds; safe on a zeroed or already closed reader. */
void anon_csv_close(struct anon_csv_reader *r);
/* Header name of column i (0-based), borrowed from r. */
const char *anon_csv_header(const struct anon_csv_reader *r, size_t i);
/* Index of the column named name in the header, or -1. */
long anon_csv_column(const struct anon_csv_reader *r, const char *name);
/* Field i of the current record, borrowed from r until the next call. */
static inline const char *anon_csv_field(const struct anon_csv_reader *r, size_t i)
{
  return r->rec + r->field_off[i];
}

/* A buffered writer to a file descriptor; the first error sticks and is returned by flush. */
struct anon_csv_writer {
  int fd;
  char *buf;
  size_t len, cap;
  int failed; /* errno of the first failed write, or 0 */
  int at_line_start;
};

/* Returns 0, or -1 when out of memory. The writer does not own fd. */
int anon_csv_writer_init(struct anon_csv_writer *w, int fd);
/* Appends one field (quoted when it holds a comma, quote, CR or LF). */
void anon_csv_put(struct anon_csv_writer *w, const char *s, size_t len);
/* Ends the current record with LF. */
void anon_csv_end_record(struct anon_csv_writer *w);
/* Writes out what is buffered. Returns 0, or the errno of the first failure. */
int anon_csv_flush(struct anon_csv_writer *w);
void anon_csv_writer_free(struct anon_csv_writer *w);

/* Checks a table of any kind (check.c); anon_check_file() is this with spec NULL (comma-separated). */
int anon_check_table(const char *path, const struct anon_table_spec *spec, const struct anon_check_options *opt,
                     json_t **report_out, char *err, size_t errlen);

/* ---- formats other than tables (formats.c, image.c, dicom.c) ----------------------------------------------
 * Each returns ANON_PASS / ANON_FAIL with *report set (caller frees), or ANON_ERROR with err filled. name is what
 * the report and messages call the file. */
int anon_check_tiff(const char *path, const char *name, json_t **report, char *err, size_t errlen);
int anon_check_png(const char *path, const char *name, json_t **report, char *err, size_t errlen);
int anon_check_dicom(const char *path, const char *name, json_t **report, char *err, size_t errlen);
/* libtiff options shared by the check and strip-tiff: a cap on single allocations (hostile files), warnings
   dropped, the first error written into msg (ANON_TIFF_MSG bytes). Returns NULL when out of memory; free with
   TIFFOpenOptionsFree(). The type is libtiff's; callers include tiffio.h. */
#define ANON_TIFF_MSG 256
struct TIFFOpenOptions;
struct TIFFOpenOptions *anon_tiff_options(char msg[ANON_TIFF_MSG]);

/* "label" or "macro" when a TIFF page's ImageDescription says it is an associated image, else NULL. */
const char *anon_tiff_associated_kind(const char *desc);
/* How to read path as a table (delimited, JSON lines, gzip'd or not), named name: 0 with *spec filled (spec->name
   = name), or -1 when it is not a table (text, image, archive...). */
int anon_table_spec_for(const char *path, const char *name, struct anon_table_spec *spec);
/* A report skeleton: {"file","format","passed":true,"failures":[],"warnings":[],"direct_identifiers":[]}. */
json_t *anon_report_new(const char *name, const char *format);
/* Scans a text found at `where` (a tag, a chunk, an attribute; len bytes of valid UTF-8): the value rules on the
   whole text, and "key = value" pairs whose key names a direct identifier. Findings go to rep's
   "direct_identifiers" (and fail it). Returns 0, or -1 when out of memory. */
int anon_scan_text_field(json_t *rep, const char *where, const char *text, size_t len);
/* Length of the valid UTF-8 prefix of s[0..len) (no NUL, no overlong forms, no surrogates). */
size_t anon_utf8_valid_prefix(const unsigned char *s, size_t len);

/* ---- byte-keyed hash table (htab.c) ----------------------------------------------------------------
 * Exact: keys are stored, not just hashed. Used for equivalence classes and l-diversity pairs. */
struct anon_hentry {
  uint64_t hash;
  size_t key_off;
  uint32_t key_len;
  uint32_t distinct; /* free for the caller (l-diversity counts distinct sensitive values) */
  uint64_t count;
};

struct anon_htab {
  uint32_t *slots; /* entry index + 1, 0 when empty */
  size_t n_slots;  /* power of two */
  struct anon_hentry *entries;
  size_t n_entries, cap_entries;
  char *keys;
  size_t keys_len, keys_cap;
};

/* Finds key or inserts it with count 0 and distinct 0. Returns the entry index and sets *is_new, or -1
   when out of memory or past 2^31 entries. */
long anon_htab_upsert(struct anon_htab *h, const void *key, size_t len, int *is_new);
/* Releases what h holds; a zeroed table is empty and valid. */
void anon_htab_free(struct anon_htab *h);

/* ---- rules (rules.c) -------------------------------------------------------------------------------- */
/* ANON_NAME_ID: a subject id column (patient_id, id_patient, code_patient...): a direct identifier when its
   values are hospital numbers (digits), a pseudonym when they are opaque tokens or study codes (check.c). */
enum anon_name_class { ANON_NAME_NONE, ANON_NAME_DIRECT, ANON_NAME_QUASI, ANON_NAME_ID };

/* Classifies a column by its name, French or English, ignoring case, accents and separators. Sets *category
   (a static string such as "email", "first_name", "age", "postcode") unless the result is ANON_NAME_NONE. */
enum anon_name_class anon_name_classify(const char *name, const char **category);

/* Does the column name say it holds codes of establishments, services or batches (FINESS, SIRET, UF...)? Their
   digits may pass a weak identifier rule by shape alone; such columns are not flagged by weak rules. */
int anon_name_is_code_column(const char *name);

/* Lower-cases name, strips Latin accents and turns every other non-alphanumeric run into one '_'. Writes at
   most outlen bytes, NUL-terminated. */
void anon_name_normalize(const char *name, char *out, size_t outlen);

/* Bits of anon_value_scan(). The first five are direct identifiers found anywhere inside the value. */
enum {
  ANON_V_EMAIL = 1u << 0,
  ANON_V_PHONE = 1u << 1,
  ANON_V_NIR = 1u << 2, /* French social security number whose key checks out */
  ANON_V_IPV4 = 1u << 3,
  ANON_V_NAMES = 1u << 4,     /* free text naming a person (title + name, first name + surname...) */
  ANON_V_DATE = 1u << 5,      /* the whole value is a day-precision date (optionally with a time) */
  ANON_V_HEX_TOKEN = 1u << 6, /* the whole value is an opaque hex token of 16+ characters */
  ANON_V_B64_TOKEN = 1u << 7, /* the whole value is an opaque base64 / base64url token of 16+ characters */
  ANON_V_ICD10 = 1u << 8,     /* the whole value looks like an ICD-10 (CIM-10) diagnosis code */
  /* More direct identifiers found anywhere inside the value (ids.c, rules.c). */
  ANON_V_IBAN = 1u << 9,         /* an IBAN of a known country whose mod-97 check holds */
  ANON_V_NATIONAL_ID = 1u << 10, /* BE national number, ES DNI/NIE, IT codice fiscale, CH AVS, UK NHS (written) */
  ANON_V_IPV6 = 1u << 11,
  ANON_V_BIRTH_TEXT = 1u << 12, /* a date in free text after "né le", "naissance", "born", "DOB"... */
  /* Weak forms: one value proves nothing, most of a column does (check.c). */
  ANON_W_NIR = 1u << 13,         /* 13 digits shaped as a NIR without its key */
  ANON_W_PHONE = 1u << 14,       /* a French mobile number whose leading 0 was lost (612345678, 33612345678) */
  ANON_W_NATIONAL_ID = 1u << 15, /* bare digits passing a national id checksum (BE, CH, UK, DE, LU) */
  ANON_W_NAME = 1u << 16,        /* the whole value is one first name or surname of the lists ("Dupont") */
};

/* ids.c: the identifiers above with a checksum or a fixed shape, anywhere in s[0..len). */
int anon_iban_in(const unsigned char *s, size_t len);
/* Returns ANON_V_NATIONAL_ID and / or ANON_W_NATIONAL_ID. */
unsigned anon_national_in(const unsigned char *s, size_t len);
int anon_ipv6_in(const unsigned char *s, size_t len);
/* The same at position i: the length of the match, 0 for none (national: the ANON_V/W bits, length in *n). */
size_t anon_iban_at(const unsigned char *s, size_t len, size_t i);
unsigned anon_national_at(const unsigned char *s, size_t len, size_t i, size_t *n);
size_t anon_ipv6_at(const unsigned char *s, size_t len, size_t i);

/* Rewrites the free text s[0..len) into out (outcap bytes, NUL-terminated) with each name, date and direct
   identifier replaced by a typed placeholder: <NOM>, <DATE>, <NIR>, <TEL>, <EMAIL>, <IBAN>, <ID>, <IP>. Returns
   the output length, or (size_t)-1 when outcap is below 8 * len + 16 or memory is short. */
size_t anon_redact(const char *s, size_t len, char *out, size_t outcap);

/* Scans one value (len bytes, valid UTF-8) and returns the ANON_V_ bits that apply. When ANON_V_DATE is set
   and year is not NULL, *year is the date's year. */
unsigned anon_value_scan(const char *s, size_t len, int *year);

/* Returns 1 when the 15 characters at s (13 digits, or 2A / 2B at offsets 5-6 for Corsica, then a 2-digit
   key) form a French NIR whose key is 97 - (number mod 97), with 2A read as 19 and 2B as 18; else 0. */
int anon_nir_valid(const char s[15]);

/* ---- name lists (names.c) ----------------------------------------------------------------------------
 * Lookups compare normalised forms (anon_name_normalize: case and Latin accents ignored). Words shorter
 * than three bytes or longer than 63 are never names. Thread-safe; the lists are inflated on first use. */
int anon_is_first_name(const char *word, size_t len);
int anon_is_last_name(const char *word, size_t len);
/* Number of names in the first-name list (surnames != 0: the surname list); 0 if it could not be loaded. */
size_t anon_name_list_size(int surnames);

/* ---- dates (date.c) ---------------------------------------------------------------------------------- */
enum anon_date_format {
  ANON_DATE_ISO,
  ANON_DATE_ISO_SLASH,
  ANON_DATE_DMY_SLASH,
  ANON_DATE_DMY_DASH,
  ANON_DATE_DMY_DOT
};

struct anon_date {
  int year, month, day;
  enum anon_date_format format;
  size_t date_len; /* bytes of the date part; the rest of the value (a time) is kept as is */
};

/* Parses a day-precision date at the start of s: YYYY-MM-DD, YYYY/MM/DD, DD/MM/YYYY, DD-MM-YYYY or
   DD.MM.YYYY, followed by nothing, or by 'T' or ' ' and a time. Years 1000-9999; the day must exist.
   Returns 0, or -1 when s is not such a date. */
int anon_date_parse(const char *s, size_t len, struct anon_date *d);
/* For detection: the length of a date written at s[i] in any common way (the forms above, two-digit years
   "14/03/62", "19620314", "14 mars 1962", "1er mars 1962", "March 14, 1962", "14 Mar 1962"; French and English
   month names, abbreviated or not), or 0. Two-digit years 00-30 are read 20xx, others 19xx. Sets *year. */
size_t anon_date_at(const char *s, size_t len, size_t i, int *year);
/* Days since 1970-01-01 (proleptic Gregorian) and back. */
long anon_days_from_civil(int y, int m, int d);
void anon_civil_from_days(long z, int *y, int *m, int *d);
/* Writes d in its own format (date part only) into out (at least 11 bytes). Returns the length written. */
size_t anon_date_format(const struct anon_date *d, char *out, size_t outlen);

#endif
