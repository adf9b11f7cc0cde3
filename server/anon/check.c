/* check.c: the anonymity check of one CSV file (`concours dataset check`, and the server's import gate).
 *
 * Pass 1 streams the file and counts, per column, the values each identifier rule matches; it decides
 * which columns are direct identifiers, which hold opaque pseudonyms, and (when none are declared) which
 * are quasi-identifiers. Pass 2 (or pass 1 itself when quasi-identifiers are declared) groups records into
 * equivalence classes over the quasi-identifiers, exactly, to measure k-anonymity, uniqueness and the
 * l-diversity of a sensitive column. Counts only ever leave this file: never a cell value.
 */
#include <stdlib.h>
#include <string.h>

#include "anon_internal.h"

#define DEFAULT_K 5
#define DEFAULT_L 2
#define TOKEN_SHARE 0.95    /* share of values that must be opaque tokens for a pseudonym column */
#define WEAK_SHARE 0.50     /* share of values a weak identifier form must match to flag its column */
#define NUMERIC_ID_DIGITS 6 /* a subject id of this many digits or more is a hospital number, not a study code */
#define MAX_AGE 89          /* exact ages above this are too rare to publish (HIPAA safe harbour) */
#define ROWS_KEPT 5         /* row numbers kept per finding */
#define TYPE_SHARE 0.90     /* share of values that must be dates / diagnosis codes to type a column */
#define BIRTH_YEAR_SPAN 30  /* a column of exact dates spanning this many years holds dates of birth */

/* Value rules that make a column a direct identifier, in report order. A weak rule flags the column only when
   at least WEAK_SHARE of its non-empty values match. fix is the suggestion shown with a finding. */
static const struct {
  unsigned bit;
  const char *rule;
  int weak;
  const char *fix;
} value_rules[] = {
  {ANON_V_EMAIL, "email", 0, "drop"},
  {ANON_V_PHONE, "phone", 0, "drop"},
  {ANON_V_NIR, "nir", 0, "drop"},
  {ANON_V_IPV4, "ipv4", 0, "drop"},
  {ANON_V_IPV6, "ipv6", 0, "drop"},
  {ANON_V_IBAN, "iban", 0, "drop"},
  {ANON_V_NATIONAL_ID, "national_id", 0, "drop"},
  {ANON_V_NAMES, "free_text_names", 0, "redact"},
  {ANON_V_BIRTH_TEXT, "birth_date_in_text", 0, "redact"},
  {ANON_W_NIR, "nir_without_key", 1, "drop"},
  {ANON_W_PHONE, "phone_without_leading_zero", 1, "drop"},
  {ANON_W_NATIONAL_ID, "national_id_digits", 1, "drop"},
  {ANON_W_NAME, "names_alone", 1, "drop"},
};
#define N_VALUE_RULES (sizeof(value_rules) / sizeof(value_rules[0]))

struct column {
  enum anon_name_class name_class;
  const char *name_category;
  unsigned long long nonempty;
  unsigned long long hits[N_VALUE_RULES];
  unsigned long long dates, hex, b64, icd;
  unsigned long long numeric_ids;                    /* values of NUMERIC_ID_DIGITS+ digits and nothing else */
  unsigned long long over_age;                       /* in an age column, whole numbers above MAX_AGE */
  unsigned long long rows[N_VALUE_RULES][ROWS_KEPT]; /* first data rows (1-based) where each rule matched */
  unsigned long long first_rows[ROWS_KEPT];          /* first rows with a value (for column-name findings) */
  int min_year, max_year;
  const char *pseudonym_rule; /* set when the column holds opaque tokens or study codes */
  int direct;                 /* some direct-identifier rule fired */
  int id_direct;              /* a subject id column holding hospital numbers */
  int codes;                  /* the name says establishment or batch codes: weak rules do not apply */
  int is_age;                 /* named like an age */
  int quasi;                  /* used as a quasi-identifier */
};

/* A column of exact dates spanning decades holds dates of birth, unless its name says it holds event dates
   (date_admission...: a quasi-identifier). */
static int holds_birth_dates(const struct column *col)
{
  return col->nonempty > 0 && col->name_class != ANON_NAME_QUASI &&
         (double)col->dates >= TYPE_SHARE * (double)col->nonempty && col->max_year - col->min_year >= BIRTH_YEAR_SPAN;
}

struct check {
  const struct anon_check_options *opt;
  const struct anon_table_spec *spec; /* how the table is read, or NULL for plain CSV */
  struct anon_csv_reader head;        /* pass-1 reader, kept open for the header names */
  struct column *cols;
  size_t n_cols;
  size_t *qi; /* the quasi-identifiers k is measured over */
  size_t n_qi;
  size_t *extra; /* suggested quasi-identifiers the organizer did not declare */
  size_t n_extra;
  long sensitive;           /* column index, or -1 */
  int declared;             /* declared quasi-identifiers are used for this file */
  int declared_absent;      /* some were declared, none is in this file: the suggested ones are used */
  struct anon_htab classes; /* QI tuple -> count (and distinct sensitive values) */
  struct anon_htab pairs;   /* class index + sensitive value, for l-diversity */
  struct anon_htab wide;    /* QI tuple with the extra ones -> count */
  struct anon_htab *values; /* per quasi-identifier: value -> count, for rare values */
  char *key;
  size_t key_cap;
  unsigned long long rows;
};

void anon_check_options_init(struct anon_check_options *opt)
{
  memset(opt, 0, sizeof(*opt));
  opt->k = DEFAULT_K;
  opt->l = DEFAULT_L;
}

#define MAX_DECLARED_QUASI 256
#define MAX_K_OR_L 1000000

/* Reads a whole number from 1 to MAX_K_OR_L at key of o into *out (left alone when absent). */
static int json_count(const json_t *o, const char *key, unsigned *out, char *err, size_t errlen)
{
  const json_t *v = json_object_get(o, key);

  if (v == NULL)
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > MAX_K_OR_L) {
    anon_errf(err, errlen, "anonymity.%s: a whole number from 1 to %d is required", key, MAX_K_OR_L);
    return -1;
  }
  *out = (unsigned)json_integer_value(v);
  return 0;
}

int anon_check_options_from_json(struct anon_check_options *opt, const json_t *anonymity, char *err, size_t errlen)
{
  const json_t *qis, *sensitive, *v;
  const char **names = NULL, *key;
  size_t i;

  anon_check_options_init(opt);
  if (anonymity == NULL)
    return 0;
  if (!json_is_object(anonymity)) {
    anon_errf(err, errlen, "anonymity: an object is required");
    return -1;
  }
  json_object_foreach((json_t *)anonymity, key, v)
  {
    if (strcmp(key, "quasi_identifiers") != 0 && strcmp(key, "k") != 0 && strcmp(key, "sensitive") != 0 &&
        strcmp(key, "l") != 0) {
      anon_errf(err, errlen, "anonymity: unknown field \"%.64s\" (expected quasi_identifiers, k, sensitive, l)", key);
      return -1;
    }
  }
  if (json_count(anonymity, "k", &opt->k, err, errlen) != 0 || json_count(anonymity, "l", &opt->l, err, errlen) != 0)
    return -1;
  sensitive = json_object_get(anonymity, "sensitive");
  if (sensitive != NULL && (!json_is_string(sensitive) || json_string_length(sensitive) == 0)) {
    anon_errf(err, errlen, "anonymity.sensitive: a column name is required");
    return -1;
  }
  opt->sensitive = json_string_value(sensitive);
  qis = json_object_get(anonymity, "quasi_identifiers");
  if (qis == NULL)
    return 0;
  if (!json_is_array(qis) || json_array_size(qis) > MAX_DECLARED_QUASI) {
    anon_errf(err, errlen, "anonymity.quasi_identifiers: a list of at most %d column names is required",
              MAX_DECLARED_QUASI);
    return -1;
  }
  names = calloc(json_array_size(qis) + 1, sizeof(*names));
  if (names == NULL) {
    anon_errf(err, errlen, "out of memory");
    return -1;
  }
  opt->owned = names;
  json_array_foreach(qis, i, v)
  {
    if (!json_is_string(v) || json_string_length(v) == 0) {
      anon_errf(err, errlen, "anonymity.quasi_identifiers[%zu]: a column name is required", i);
      return -1;
    }
    names[i] = json_string_value(v);
  }
  opt->quasi = names;
  opt->n_quasi = json_array_size(qis);
  return 0;
}

void anon_check_options_free(struct anon_check_options *opt)
{
  free(opt->owned);
  opt->owned = NULL;
  opt->quasi = NULL;
  opt->n_quasi = 0;
}

json_t *anon_report_public(const json_t *report)
{
  /* k and k_anonymity are null for files that are not tables (images, archives, DICOM) */
  return json_pack("{s:b, s:O?, s:O?, s:I}", "passed", json_is_true(json_object_get(report, "passed")), "k",
                   json_object_get(report, "k"), "k_anonymity", json_object_get(report, "k_anonymity"),
                   "direct_identifiers_found",
                   (json_int_t)json_array_size(json_object_get(report, "direct_identifiers")));
}

/* Counts a value that is only digits: a hospital number in a subject id column, an exact age above MAX_AGE in
   an age column. */
static void note_number(struct column *col, const char *v, size_t len)
{
  unsigned long long n = 0;

  for (size_t i = 0; i < len; i++) {
    if (v[i] < '0' || v[i] > '9')
      return;
    if (i < 18)
      n = n * 10 + (unsigned long long)(v[i] - '0');
  }
  if (len >= NUMERIC_ID_DIGITS)
    col->numeric_ids++;
  if (col->is_age && n > MAX_AGE && n < 200)
    col->over_age++;
}

/* Does rule v flag the column: any match for a strong rule, most values for a weak one? */
static int rule_fires(const struct column *col, size_t v)
{
  if (col->hits[v] == 0)
    return 0;
  if (!value_rules[v].weak)
    return 1;
  if (col->name_class == ANON_NAME_QUASI)
    return 0; /* towns named like people (Lyon, Paris), millisecond timestamps shaped like a NIR... */
  return !col->codes && (double)col->hits[v] >= WEAK_SHARE * (double)col->nonempty;
}

static void count_values(struct check *c, const struct anon_csv_reader *r)
{
  for (size_t i = 0; i < c->n_cols; i++) {
    struct column *col = &c->cols[i];
    size_t len = r->field_len[i];
    unsigned bits;
    int year = 0;

    if (len == 0)
      continue;
    if (col->nonempty < ROWS_KEPT)
      col->first_rows[col->nonempty] = c->rows;
    col->nonempty++;
    note_number(col, anon_csv_field(r, i), len);
    bits = anon_value_scan(anon_csv_field(r, i), len, &year);
    if (bits == 0)
      continue;
    for (size_t v = 0; v < N_VALUE_RULES; v++) {
      if (bits & value_rules[v].bit) {
        if (col->hits[v] < ROWS_KEPT)
          col->rows[v][col->hits[v]] = c->rows;
        col->hits[v]++;
      }
    }
    if (bits & ANON_V_DATE) {
      if (col->dates == 0 || year < col->min_year)
        col->min_year = year;
      if (col->dates == 0 || year > col->max_year)
        col->max_year = year;
      col->dates++;
    }
    col->hex += (bits & ANON_V_HEX_TOKEN) != 0;
    col->b64 += (bits & ANON_V_B64_TOKEN) != 0;
    col->icd += (bits & ANON_V_ICD10) != 0;
  }
}

/* Builds in c->key the class key of the current record over qi[0..n) then extra[0..n_extra), with room for
   the sensitive value after it. Returns the key length, or -1 when out of memory. */
static long class_key(struct check *c, const struct anon_csv_reader *r, int with_extra)
{
  size_t need = 4, len = 0, n = c->n_qi + (with_extra ? c->n_extra : 0);

  for (size_t q = 0; q < n; q++)
    need += 4 + r->field_len[q < c->n_qi ? c->qi[q] : c->extra[q - c->n_qi]];
  if (c->sensitive >= 0)
    need += r->field_len[c->sensitive];
  if (need > c->key_cap) {
    char *k = realloc(c->key, need);

    if (k == NULL)
      return -1;
    c->key = k;
    c->key_cap = need;
  }
  for (size_t q = 0; q < n; q++) {
    size_t col = q < c->n_qi ? c->qi[q] : c->extra[q - c->n_qi];
    uint32_t flen = (uint32_t)r->field_len[col];

    memcpy(c->key + len, &flen, 4);
    memcpy(c->key + len + 4, anon_csv_field(r, col), flen);
    len += 4 + flen;
  }
  return (long)len;
}

/* Counts the record's value of each quasi-identifier, for the rare values of the report. */
static int count_values_of_qis(struct check *c, const struct anon_csv_reader *r)
{
  int is_new;

  for (size_t q = 0; q < c->n_qi; q++) {
    long e = anon_htab_upsert(&c->values[q], anon_csv_field(r, c->qi[q]), r->field_len[c->qi[q]], &is_new);

    if (e < 0)
      return -1;
    c->values[q].entries[e].count++;
  }
  return 0;
}

/* Adds the current record to its class over the declared and extra quasi-identifiers. */
static int count_wide(struct check *c, const struct anon_csv_reader *r, char *err, size_t errlen)
{
  long len = class_key(c, r, 1), e;
  int is_new;

  e = len < 0 ? -1 : anon_htab_upsert(&c->wide, c->key, (size_t)len, &is_new);
  if (e < 0) {
    anon_errf(err, errlen, "%s: out of memory counting equivalence classes", c->head.path);
    return -1;
  }
  c->wide.entries[e].count++;
  return 0;
}

/* Adds the current record to its equivalence class (and its sensitive value to that class's set). */
static int count_class(struct check *c, const struct anon_csv_reader *r, char *err, size_t errlen)
{
  long len, cls, pair;
  int is_new;

  if (count_values_of_qis(c, r) != 0)
    goto oom;
  len = class_key(c, r, 0);
  if (len < 0)
    goto oom;
  cls = anon_htab_upsert(&c->classes, c->key, (size_t)len, &is_new);
  if (cls < 0)
    goto oom;
  c->classes.entries[cls].count++;
  if (c->sensitive < 0)
    return 0;
  {
    uint32_t id = (uint32_t)cls;
    size_t slen = r->field_len[c->sensitive];

    memcpy(c->key, &id, 4);
    memcpy(c->key + 4, anon_csv_field(r, (size_t)c->sensitive), slen);
    pair = anon_htab_upsert(&c->pairs, c->key, 4 + slen, &is_new);
    if (pair < 0)
      goto oom;
    if (is_new)
      c->classes.entries[cls].distinct++;
  }
  return 0;
oom:
  anon_errf(err, errlen, "%s: out of memory counting equivalence classes", c->head.path);
  return -1;
}

/* Streams path once: counts values when detect is set, equivalence classes when classes is set, classes over
   the declared and extra quasi-identifiers when wide is set. */
static int scan(struct check *c, const char *path, int detect, int classes, int wide, char *err, size_t errlen)
{
  struct anon_csv_reader second;
  struct anon_csv_reader *r = &c->head;
  int rc = -1, got;

  memset(&second, 0, sizeof(second));
  second.fd = -1;
  if (!detect) { /* the second pass reads the file again */
    if (anon_table_open(&second, path, c->spec, &c->opt->limits, err, errlen) != 0)
      goto out;
    if (second.n_header != c->n_cols) {
      anon_errf(err, errlen, "%s: the file changed while it was being checked", path);
      goto out;
    }
    r = &second;
  }
  c->rows = 0;
  for (;;) {
    got = anon_csv_next(r, err, errlen);
    if (got < 0)
      goto out;
    if (got == 0)
      break;
    c->rows++;
    if (detect)
      count_values(c, r);
    if (classes && count_class(c, r, err, errlen) != 0)
      goto out;
    if (wide && count_wide(c, r, err, errlen) != 0)
      goto out;
  }
  rc = 0;
out:
  anon_csv_close(&second);
  return rc;
}

/* Decides, from pass-1 counts, which columns are pseudonyms, direct identifiers and suggested QIs. */
static void classify_columns(struct check *c)
{
  for (size_t i = 0; i < c->n_cols; i++) {
    struct column *col = &c->cols[i];
    double n = (double)col->nonempty;

    if (col->nonempty == 0)
      continue;
    for (size_t v = 0; v < N_VALUE_RULES; v++) /* first: a pseudonym column must be pure */
      col->direct |= rule_fires(col, v);
    if (holds_birth_dates(col))
      col->direct = 1;
    if (!col->direct && (double)(col->hex + col->b64) >= TOKEN_SHARE * n) {
      col->pseudonym_rule = col->hex >= col->b64 ? "hex_token" : "base64_token";
      continue;
    }
    if (col->name_class == ANON_NAME_DIRECT)
      col->direct = 1;
    if (col->name_class == ANON_NAME_ID && (double)col->numeric_ids >= WEAK_SHARE * n)
      col->direct = col->id_direct = 1;
    else if (col->name_class == ANON_NAME_ID && !col->direct)
      col->pseudonym_rule = "study_code";
  }
}

/* Would the check suggest column i as a quasi-identifier? */
static int suggested(const struct check *c, size_t i)
{
  const struct column *col = &c->cols[i];
  double n = (double)col->nonempty;
  int typed = col->nonempty > 0 && ((double)col->dates >= TYPE_SHARE * n || (double)col->icd >= TYPE_SHARE * n);

  if (col->pseudonym_rule != NULL || col->direct || (long)i == c->sensitive)
    return 0;
  return col->name_class == ANON_NAME_QUASI || typed;
}

/* Without declared quasi-identifiers, the suggested ones are used; with them, the suggested ones left out are
   the extra ones (warned about, and measured together with the declared ones). */
static void choose_suggested(struct check *c)
{
  if (!c->declared)
    c->n_qi = 0;
  c->n_extra = 0;
  for (size_t i = 0; i < c->n_cols; i++) {
    if (!suggested(c, i) || c->cols[i].quasi)
      continue;
    if (c->declared) {
      c->extra[c->n_extra++] = i;
      continue;
    }
    c->cols[i].quasi = 1;
    c->qi[c->n_qi++] = i;
  }
}

/* Appends {"column", "rule", "count"} to list, with "rows" (the first data rows, 1-based, never values) and
   "fix" (drop, band, shift, pseudonymize, redact) when given. */
static int add_entry(json_t *list, const char *column, const char *rule, unsigned long long count,
                     const unsigned long long *rows, const char *fix)
{
  json_t *o = json_pack("{s:s, s:s, s:I}", "column", column, "rule", rule, "count", (json_int_t)count);
  json_t *r = rows != NULL ? json_array() : NULL;

  if (o == NULL)
    goto fail;
  for (size_t i = 0; r != NULL && i < ROWS_KEPT && i < count && rows[i] > 0; i++) {
    if (json_array_append_new(r, json_integer((json_int_t)rows[i])) != 0)
      goto fail;
  }
  if ((r != NULL && json_object_set_new(o, "rows", r) != 0) ||
      (fix != NULL && json_object_set_new(o, "fix", json_string(fix)) != 0)) {
    r = NULL; /* json_object_set_new took it, even on failure */
    goto fail;
  }
  return json_array_append_new(list, o);
fail:
  json_decref(r);
  json_decref(o);
  return -1;
}

/* Appends a failure reason or a warning formatted by the caller. */
static int add_failure(json_t *failures, const char *msg)
{
  return json_array_append_new(failures, json_string(msg));
}

/* Adds one to summary[rule] (findings per rule). */
static int count_rule(json_t *summary, const char *rule)
{
  json_t *n = json_object_get(summary, rule);

  return json_object_set_new(summary, rule, json_integer(json_integer_value(n) + 1));
}

/* The direct-identifier findings of column i, appended to direct and counted in summary. */
static int column_findings(const struct check *c, size_t i, json_t *direct, json_t *summary)
{
  const struct column *col = &c->cols[i];
  const char *name = anon_csv_header(&c->head, i);
  char rule[64];

  if ((col->name_class == ANON_NAME_DIRECT && col->nonempty > 0) || col->id_direct) {
    (void)snprintf(rule, sizeof(rule), "column_name:%s", col->name_category);
    if (add_entry(direct, name, rule, col->id_direct ? col->numeric_ids : col->nonempty, col->first_rows,
                  col->id_direct ? "pseudonymize" : "drop") != 0 ||
        count_rule(summary, rule) != 0)
      return -1;
  }
  for (size_t v = 0; v < N_VALUE_RULES; v++) {
    if (rule_fires(col, v) &&
        (add_entry(direct, name, value_rules[v].rule, col->hits[v], col->rows[v], value_rules[v].fix) != 0 ||
         count_rule(summary, value_rules[v].rule) != 0))
      return -1;
  }
  if (holds_birth_dates(col) && (add_entry(direct, name, "date_of_birth", col->dates, NULL, "band") != 0 ||
                                 count_rule(summary, "date_of_birth") != 0))
    return -1;
  return 0;
}

/* Smallest class, records below k, unique records of a class table. */
static void class_stats(const struct anon_htab *h, unsigned k, unsigned long long *min_class,
                        unsigned long long *below_k, unsigned long long *unique)
{
  *min_class = *below_k = *unique = 0;
  for (size_t e = 0; e < h->n_entries; e++) {
    unsigned long long n = h->entries[e].count;

    if (e == 0 || n < *min_class)
      *min_class = n;
    if (n < k)
      *below_k += n;
    if (n == 1)
      (*unique)++;
  }
}

/* Rare values: per quasi-identifier, the values held by fewer than k records, and those records. Also warns
   about the suggested quasi-identifiers left out, and fails exact ages above MAX_AGE. */
static int risk_entries(const struct check *c, json_t *rep, json_t *failures, json_t *warnings)
{
  json_t *rare = json_array(), *extra = json_array();
  char msg[384];
  int ok = rare != NULL && extra != NULL;

  for (size_t q = 0; ok && q < c->n_qi && c->values != NULL; q++) {
    unsigned long long classes = 0, records = 0;

    for (size_t e = 0; e < c->values[q].n_entries; e++) {
      if (c->values[q].entries[e].count < c->opt->k) {
        classes++;
        records += c->values[q].entries[e].count;
      }
    }
    if (classes > 0)
      ok = json_array_append_new(rare,
                                 json_pack("{s:s, s:I, s:I}", "column", anon_csv_header(&c->head, c->qi[q]),
                                           "values_below_k", (json_int_t)classes, "records", (json_int_t)records)) == 0;
  }
  for (size_t x = 0; ok && x < c->n_extra; x++) {
    const char *name = anon_csv_header(&c->head, c->extra[x]);

    (void)snprintf(msg, sizeof(msg), "column \"%.100s\" looks like a quasi-identifier but is not declared", name);
    ok = json_array_append_new(extra, json_string(name)) == 0 && add_failure(warnings, msg) == 0;
  }
  for (size_t i = 0; ok && i < c->n_cols; i++) {
    if (c->cols[i].over_age == 0)
      continue;
    (void)snprintf(msg, sizeof(msg), "exact ages above %d in column \"%.100s\" (%llu records): band them (90+)",
                   MAX_AGE, anon_csv_header(&c->head, i), c->cols[i].over_age);
    ok = add_failure(failures, msg) == 0;
  }
  if (ok && c->declared_absent)
    ok =
      add_failure(warnings, "none of the declared quasi-identifiers is in this file: the suggested ones are used") == 0;
  if (ok && c->n_extra > 0 && c->rows > 0) {
    unsigned long long min_class, below_k, unique;

    class_stats(&c->wide, c->opt->k, &min_class, &below_k, &unique);
    ok = json_object_set_new(rep, "k_anonymity_with_suggested", json_integer((json_int_t)min_class)) == 0;
    if (ok && min_class < c->opt->k) {
      (void)snprintf(msg, sizeof(msg),
                     "with the suggested quasi-identifiers too, k-anonymity would be %llu (%llu records below k = %u)",
                     min_class, below_k, c->opt->k);
      ok = add_failure(warnings, msg) == 0;
    }
  }
  ok = ok && json_object_set(rep, "rare_values", rare) == 0 &&
       json_object_set(rep, "quasi_identifiers_suggested", extra) == 0;
  json_decref(rare);
  json_decref(extra);
  return ok ? 0 : -1;
}

static const char *format_name(const struct anon_table_spec *spec)
{
  if (spec == NULL || spec->kind == ANON_TABLE_CSV)
    return spec != NULL && spec->delim == '\t' ? "tsv" : "csv";
  return spec->kind == ANON_TABLE_TEXT ? "text" : "jsonl";
}

/* Plain text has one column of lines: no quasi-identifier, no k. */
static int is_text(const struct check *c)
{
  return c->spec != NULL && c->spec->kind == ANON_TABLE_TEXT;
}

/* Builds the report from the counts. Returns the report (owned by the caller) or NULL when out of memory. */
static json_t *build_report(struct check *c, const char *path, json_t *missing)
{
  const struct anon_check_options *opt = c->opt;
  json_t *rep = json_object(), *direct = json_array(), *pseudo = json_array(), *qis = json_array();
  json_t *failures = json_array(), *warnings = json_array(), *summary = json_object();
  unsigned long long min_class = 0, below_k = 0, unique = 0, below_l = 0, n_direct = 0;
  unsigned min_l = 0;
  char msg[256];
  int ok = rep != NULL && direct != NULL && pseudo != NULL && qis != NULL && failures != NULL && warnings != NULL &&
           summary != NULL;

  for (size_t i = 0; ok && i < c->n_cols; i++) {
    const struct column *col = &c->cols[i];

    if (col->pseudonym_rule != NULL) {
      ok = add_entry(pseudo, anon_csv_header(&c->head, i), col->pseudonym_rule, col->nonempty, NULL, NULL) == 0;
      continue;
    }
    if (col->direct)
      n_direct++;
    ok = column_findings(c, i, direct, summary) == 0;
  }
  for (size_t q = 0; ok && q < c->n_qi; q++)
    ok = json_array_append_new(qis, json_string(anon_csv_header(&c->head, c->qi[q]))) == 0;
  class_stats(&c->classes, opt->k, &min_class, &below_k, &unique);
  for (size_t e = 0; e < c->classes.n_entries; e++) {
    const struct anon_hentry *h = &c->classes.entries[e];

    if (e == 0 || h->distinct < min_l)
      min_l = h->distinct;
    if (h->distinct < opt->l)
      below_l += h->count;
  }
  if (ok && n_direct > 0) {
    (void)snprintf(msg, sizeof(msg), "direct identifiers found in %llu column(s)", n_direct);
    ok = add_failure(failures, msg) == 0;
  }
  if (ok && c->rows > 0 && min_class < opt->k && !is_text(c)) {
    (void)snprintf(msg, sizeof(msg), "k-anonymity is %llu, below k = %u (%llu records in smaller classes)", min_class,
                   opt->k, below_k);
    ok = add_failure(failures, msg) == 0;
  }
  if (ok && c->sensitive >= 0 && c->rows > 0 && min_l < opt->l) {
    (void)snprintf(msg, sizeof(msg), "l-diversity is %u, below l = %u (%llu records in less diverse classes)", min_l,
                   opt->l, below_l);
    ok = add_failure(failures, msg) == 0;
  }
  ok = ok && risk_entries(c, rep, failures, warnings) == 0;
  if (!ok)
    goto fail;
  if (json_object_set_new(rep, "file", json_string(path)) != 0 ||
      json_object_set_new(rep, "format", json_string(format_name(c->spec))) != 0 ||
      (c->spec != NULL && c->spec->gzip && json_object_set_new(rep, "compression", json_string("gzip")) != 0) ||
      json_object_set_new(rep, "rows", json_integer((json_int_t)c->rows)) != 0 ||
      json_object_set_new(rep, "columns", json_integer((json_int_t)c->n_cols)) != 0 ||
      json_object_set_new(rep, "passed", json_boolean(json_array_size(failures) == 0)) != 0 ||
      json_object_set(rep, "failures", failures) != 0 || json_object_set(rep, "warnings", warnings) != 0 ||
      json_object_set(rep, "direct_identifiers", direct) != 0 || json_object_set(rep, "summary", summary) != 0 ||
      json_object_set(rep, "pseudonymous_ids", pseudo) != 0 || json_object_set(rep, "quasi_identifiers", qis) != 0 ||
      json_object_set_new(rep, "quasi_identifiers_source", json_string(c->declared ? "declared" : "suggested")) != 0 ||
      json_object_set(rep, "quasi_identifiers_missing", missing) != 0 ||
      json_object_set_new(rep, "k", json_integer(opt->k)) != 0 ||
      json_object_set_new(rep, "k_anonymity", json_integer((json_int_t)min_class)) != 0 ||
      json_object_set_new(rep, "records_below_k", json_integer((json_int_t)below_k)) != 0 ||
      json_object_set_new(rep, "equivalence_classes", json_integer((json_int_t)c->classes.n_entries)) != 0 ||
      json_object_set_new(rep, "uniqueness_rate", json_real(c->rows > 0 ? (double)unique / (double)c->rows : 0.0)) != 0)
    goto fail;
  if (opt->sensitive != NULL && c->sensitive < 0 &&
      json_object_set_new(rep, "sensitive_missing", json_string(opt->sensitive)) != 0)
    goto fail;
  if (c->sensitive >= 0 &&
      (json_object_set_new(rep, "sensitive", json_string(anon_csv_header(&c->head, (size_t)c->sensitive))) != 0 ||
       json_object_set_new(rep, "l", json_integer(opt->l)) != 0 ||
       json_object_set_new(rep, "l_diversity", json_integer(min_l)) != 0 ||
       json_object_set_new(rep, "records_below_l", json_integer((json_int_t)below_l)) != 0))
    goto fail;
  json_decref(direct);
  json_decref(pseudo);
  json_decref(qis);
  json_decref(failures);
  json_decref(warnings);
  json_decref(summary);
  return rep;
fail:
  json_decref(rep);
  json_decref(direct);
  json_decref(pseudo);
  json_decref(qis);
  json_decref(failures);
  json_decref(warnings);
  json_decref(summary);
  return NULL;
}

int anon_check_file(const char *path, const struct anon_check_options *opt_in, json_t **report_out, char *err,
                    size_t errlen)
{
  return anon_check_table(path, NULL, opt_in, report_out, err, errlen);
}

int anon_check_table(const char *path, const struct anon_table_spec *spec, const struct anon_check_options *opt_in,
                     json_t **report_out, char *err, size_t errlen)
{
  struct anon_check_options defaults;
  struct check c;
  json_t *missing = NULL;
  int rc = ANON_ERROR;

  *report_out = NULL;
  if (opt_in == NULL) {
    anon_check_options_init(&defaults);
    opt_in = &defaults;
  }
  memset(&c, 0, sizeof(c));
  c.opt = opt_in;
  c.spec = spec;
  c.sensitive = -1;
  c.declared = opt_in->quasi != NULL;
  if (opt_in->k < 1 || opt_in->l < 1) {
    anon_errf(err, errlen, "k and l must be at least 1");
    goto out;
  }
  if (anon_table_open(&c.head, path, spec, &opt_in->limits, err, errlen) != 0)
    goto out;
  c.n_cols = c.head.n_header;
  c.cols = calloc(c.n_cols, sizeof(*c.cols));
  c.qi = calloc(c.n_cols, sizeof(*c.qi));
  c.extra = calloc(c.n_cols, sizeof(*c.extra));
  c.values = calloc(c.n_cols, sizeof(*c.values));
  missing = json_array();
  if (c.cols == NULL || c.qi == NULL || c.extra == NULL || c.values == NULL || missing == NULL) {
    anon_errf(err, errlen, "%s: out of memory", path);
    goto out;
  }
  for (size_t i = 0; i < c.n_cols; i++) {
    c.cols[i].name_class = anon_name_classify(anon_csv_header(&c.head, i), &c.cols[i].name_category);
    c.cols[i].codes = anon_name_is_code_column(anon_csv_header(&c.head, i));
    c.cols[i].is_age = c.cols[i].name_class == ANON_NAME_QUASI && strcmp(c.cols[i].name_category, "age") == 0;
  }
  if (opt_in->sensitive != NULL)
    c.sensitive = anon_csv_column(&c.head, opt_in->sensitive);
  for (size_t q = 0; c.declared && q < opt_in->n_quasi; q++) {
    long idx = anon_csv_column(&c.head, opt_in->quasi[q]);
    int dup = 0;

    if (idx < 0) {
      if (json_array_append_new(missing, json_string(opt_in->quasi[q])) != 0) {
        anon_errf(err, errlen, "%s: out of memory", path);
        goto out;
      }
      continue;
    }
    for (size_t j = 0; j < c.n_qi; j++)
      dup |= c.qi[j] == (size_t)idx;
    if (!dup) {
      c.qi[c.n_qi++] = (size_t)idx;
      c.cols[idx].quasi = 1;
    }
  }
  if (c.declared && c.n_qi == 0) { /* k over no column would be the row count: suggest instead */
    c.declared = 0;
    c.declared_absent = opt_in->n_quasi > 0;
  }
  if (scan(&c, path, 1, c.declared, 0, err, errlen) != 0)
    goto out;
  classify_columns(&c);
  choose_suggested(&c);
  if ((!c.declared || c.n_extra > 0) && scan(&c, path, 0, !c.declared, c.declared, err, errlen) != 0)
    goto out;
  *report_out = build_report(&c, spec != NULL && spec->name != NULL ? spec->name : path, missing);
  if (*report_out == NULL) {
    anon_errf(err, errlen, "%s: out of memory building the report", path);
    goto out;
  }
  rc = json_is_true(json_object_get(*report_out, "passed")) ? ANON_PASS : ANON_FAIL;
out:
  json_decref(missing);
  anon_htab_free(&c.classes);
  anon_htab_free(&c.pairs);
  anon_htab_free(&c.wide);
  for (size_t q = 0; c.values != NULL && q < c.n_cols; q++)
    anon_htab_free(&c.values[q]);
  free(c.values);
  free(c.key);
  free(c.cols);
  free(c.qi);
  free(c.extra);
  anon_csv_close(&c.head);
  return rc;
}

static const char *str_of(const json_t *o, const char *key)
{
  const char *s = json_string_value(json_object_get(o, key));

  return s != NULL ? s : "";
}

static long long int_of(const json_t *o, const char *key)
{
  return (long long)json_integer_value(json_object_get(o, key));
}

/* Writes "name (rule, N values)" items of a list, one per line. */
static int write_entries(FILE *out, const char *title, const json_t *list)
{
  size_t i;
  json_t *e;

  if (json_array_size(list) == 0)
    return 0;
  if (fprintf(out, "  %s:\n", title) < 0)
    return -1;
  json_array_foreach(list, i, e)
  {
    const json_t *rows = json_object_get(e, "rows");
    size_t r;
    json_t *row;

    if (fprintf(out, "    %-24s %-28s %lld values", str_of(e, "column"), str_of(e, "rule"), int_of(e, "count")) < 0)
      return -1;
    json_array_foreach(rows, r, row)
    {
      if (fprintf(out, "%s%lld", r == 0 ? " (rows " : ", ", (long long)json_integer_value(row)) < 0)
        return -1;
    }
    if ((json_array_size(rows) > 0 &&
         fputs(int_of(e, "count") > (long long)json_array_size(rows) ? ", ...)" : ")", out) < 0) ||
        (json_object_get(e, "fix") != NULL && fprintf(out, "; fix: %s", str_of(e, "fix")) < 0) || fputc('\n', out) < 0)
      return -1;
  }
  return 0;
}

/* The closing lines of a report: its warnings, then why it fails. */
static int write_verdicts(FILE *out, const json_t *rep)
{
  size_t i;
  json_t *e;

  json_array_foreach(json_object_get(rep, "warnings"), i, e)
  {
    if (fprintf(out, "  warning: %s\n", json_string_value(e)) < 0)
      return -1;
  }
  json_array_foreach(json_object_get(rep, "failures"), i, e)
  {
    if (fprintf(out, "  fails: %s\n", json_string_value(e)) < 0)
      return -1;
  }
  return 0;
}

int anon_report_write_text(FILE *out, const json_t *rep)
{
  const json_t *qis = json_object_get(rep, "quasi_identifiers");
  const json_t *missing = json_object_get(rep, "quasi_identifiers_missing");
  size_t i;
  json_t *e;

  const char *verdict = json_is_true(json_object_get(rep, "passed")) ? "PASSED" : "FAILED";

  if (json_object_get(rep, "k") == NULL) { /* not a table: an archive, an image, a DICOM file */
    if (fprintf(out, "%s: %s (%s)\n", str_of(rep, "file"), verdict, str_of(rep, "format")) < 0 ||
        write_entries(out, "direct identifiers", json_object_get(rep, "direct_identifiers")) != 0)
      return -1;
    json_array_foreach(json_object_get(rep, "members"), i, e)
    {
      if (fprintf(out, "  member %s: %s (%s)\n", str_of(e, "file"),
                  json_is_true(json_object_get(e, "passed")) ? "PASSED" : "FAILED", str_of(e, "format")) < 0)
        return -1;
    }
    return write_verdicts(out, rep);
  }
  if (fprintf(out, "%s: %s (%lld rows, %lld columns)\n", str_of(rep, "file"), verdict, int_of(rep, "rows"),
              int_of(rep, "columns")) < 0)
    return -1;
  if (write_entries(out, "direct identifiers", json_object_get(rep, "direct_identifiers")) != 0 ||
      write_entries(out, "pseudonymous ids (not a failure)", json_object_get(rep, "pseudonymous_ids")) != 0)
    return -1;
  if (fprintf(out, "  quasi-identifiers (%s):", str_of(rep, "quasi_identifiers_source")) < 0)
    return -1;
  json_array_foreach(qis, i, e)
  {
    if (fprintf(out, "%s %s", i == 0 ? "" : ",", json_string_value(e)) < 0)
      return -1;
  }
  if (fprintf(out, "%s\n", json_array_size(qis) == 0 ? " none" : "") < 0)
    return -1;
  json_array_foreach(missing, i, e)
  {
    if (fprintf(out, "  declared quasi-identifier not in this file: %s\n", json_string_value(e)) < 0)
      return -1;
  }
  if (fprintf(out,
              "  k-anonymity: %lld (k = %lld), %lld records in classes below k, %lld classes, "
              "uniqueness %.2f%%\n",
              int_of(rep, "k_anonymity"), int_of(rep, "k"), int_of(rep, "records_below_k"),
              int_of(rep, "equivalence_classes"), 100.0 * json_real_value(json_object_get(rep, "uniqueness_rate"))) < 0)
    return -1;
  if (json_object_get(rep, "l_diversity") != NULL &&
      fprintf(out, "  l-diversity of %s: %lld (l = %lld), %lld records in classes below l\n", str_of(rep, "sensitive"),
              int_of(rep, "l_diversity"), int_of(rep, "l"), int_of(rep, "records_below_l")) < 0)
    return -1;
  json_array_foreach(json_object_get(rep, "rare_values"), i, e)
  {
    if (fprintf(out, "  rare values in %s: %lld values held by fewer than k records (%lld records)\n",
                str_of(e, "column"), int_of(e, "values_below_k"), int_of(e, "records")) < 0)
      return -1;
  }
  return write_verdicts(out, rep);
}
