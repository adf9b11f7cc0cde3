/* link.c: linkability across the files of one challenge (issue 15, "risk beyond one k").
 *
 * Two files that each pass k-anonymity can still single people out once joined: train.csv holds age and sex,
 * visits.csv holds postcode and admission date, and both hold the same patient_id pseudonym. For every pair of
 * table files sharing a pseudonymous id column (same name, a pseudonym in both reports) where one file brings
 * quasi-identifiers the other lacks, the pair is joined on that id and k-anonymity is measured over the union of
 * their quasi-identifiers. Memory: the first file's ids and quasi-identifier tuples, exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "anon_internal.h"

/* Is name in the string array list? */
static int has_name(const json_t *list, const char *name)
{
  size_t i;
  json_t *e;

  json_array_foreach(list, i, e)
  {
    if (json_is_string(e) && strcmp(json_string_value(e), name) == 0)
      return 1;
  }
  return 0;
}

/* The id column two reports share: a column both list as pseudonymous ids. NULL if none. */
static const char *shared_id(const json_t *a, const json_t *b)
{
  size_t i, j;
  json_t *x, *y;

  json_array_foreach(json_object_get(a, "pseudonymous_ids"), i, x)
  {
    json_array_foreach(json_object_get(b, "pseudonymous_ids"), j, y)
    {
      const char *cx = json_string_value(json_object_get(x, "column"));
      const char *cy = json_string_value(json_object_get(y, "column"));

      if (cx != NULL && cy != NULL && strcmp(cx, cy) == 0)
        return cx;
    }
  }
  return NULL;
}

/* Appends to key (at *len, within cap) the length-prefixed fields cols[0..n) of r. Returns 0 or -1 (too long). */
static int append_fields(const struct anon_csv_reader *r, const long *cols, size_t n, char *key, size_t *len,
                         size_t cap)
{
  for (size_t q = 0; q < n; q++) {
    uint32_t flen = (uint32_t)r->field_len[cols[q]];

    if (*len + 4 + flen > cap)
      return -1;
    memcpy(key + *len, &flen, 4);
    memcpy(key + *len + 4, anon_csv_field(r, (size_t)cols[q]), flen);
    *len += 4 + flen;
  }
  return 0;
}

struct join {
  struct anon_csv_reader ra, rb;
  struct anon_htab ids, tuples, classes;
  long *qa, *qb; /* column indexes of the quasi-identifiers taken from each file */
  size_t nqa, nqb;
  char *key;
  size_t cap;
};

/* Column indexes in r of the names of list, those also in skip left out (skip NULL: none). */
static size_t columns_of(const struct anon_csv_reader *r, const json_t *list, const json_t *skip, long *out)
{
  size_t i, n = 0;
  json_t *e;

  json_array_foreach(list, i, e)
  {
    long c = json_is_string(e) ? anon_csv_column(r, json_string_value(e)) : -1;

    if (c >= 0 && (skip == NULL || !has_name(skip, json_string_value(e))))
      out[n++] = c;
  }
  return n;
}

/* Joins a and b on id over the union of their quasi-identifiers. Returns a new link entry, NULL when nothing new
   is learnt by joining them, or with *failed set and err filled on an input error. */
static json_t *join_pair(const char *path_a, const struct anon_table_spec *sa, const json_t *rep_a, const char *path_b,
                         const struct anon_table_spec *sb, const json_t *rep_b, const char *id,
                         const struct anon_check_options *opt, int *failed, char *err, size_t errlen)
{
  const json_t *qa = json_object_get(rep_a, "quasi_identifiers"), *qb = json_object_get(rep_b, "quasi_identifiers");
  struct join j;
  json_t *entry = NULL, *qis = NULL;
  unsigned long long joined = 0, min_class = 0, below = 0;
  long ida, idb;
  int got, is_new;

  memset(&j, 0, sizeof(j));
  j.ra.fd = j.rb.fd = -1;
  *failed = 1;
  if (anon_table_open(&j.ra, path_a, sa, &opt->limits, err, errlen) != 0 ||
      anon_table_open(&j.rb, path_b, sb, &opt->limits, err, errlen) != 0)
    goto out;
  j.qa = calloc(json_array_size(qa) + 1, sizeof(*j.qa));
  j.qb = calloc(json_array_size(qb) + 1, sizeof(*j.qb));
  j.cap = j.ra.lim.max_record_bytes + 4 * (j.ra.n_header + j.rb.n_header) + j.rb.lim.max_record_bytes;
  j.key = malloc(j.cap);
  if (j.qa == NULL || j.qb == NULL || j.key == NULL) {
    anon_errf(err, errlen, "out of memory joining files");
    goto out;
  }
  j.nqb = columns_of(&j.rb, qb, qa, j.qb); /* b's quasi-identifiers that a lacks: is there any? */
  j.nqa = columns_of(&j.ra, qa, qb, j.qa); /* a's that b lacks */
  ida = anon_csv_column(&j.ra, id);
  idb = anon_csv_column(&j.rb, id);
  *failed = 0;
  if (j.nqa == 0 || j.nqb == 0 || ida < 0 || idb < 0)
    goto out; /* one file's quasi-identifiers hold the other's: joining them tells nothing new */
  j.nqb = columns_of(&j.rb, qb, NULL, j.qb); /* the key: all of b's, then a's that b lacks */
  while ((got = anon_csv_next(&j.ra, err, errlen)) == 1) {
    size_t len = 0;
    long t, e;

    if (append_fields(&j.ra, j.qa, j.nqa, j.key, &len, j.cap) != 0)
      goto too_long;
    t = anon_htab_upsert(&j.tuples, j.key, len, &is_new);
    e = t < 0 ? -1 : anon_htab_upsert(&j.ids, anon_csv_field(&j.ra, (size_t)ida), j.ra.field_len[ida], &is_new);
    if (e < 0)
      goto oom;
    j.ids.entries[e].count = (uint64_t)t + 1; /* the subject's tuple (the last one seen) */
  }
  if (got < 0)
    goto fail;
  while ((got = anon_csv_next(&j.rb, err, errlen)) == 1) {
    size_t len = 0;
    long e = anon_htab_upsert(&j.ids, anon_csv_field(&j.rb, (size_t)idb), j.rb.field_len[idb], &is_new), c;
    const struct anon_hentry *tuple;

    if (e < 0)
      goto oom;
    if (is_new || j.ids.entries[e].count == 0)
      continue; /* not in the first file: nothing to link */
    tuple = &j.tuples.entries[j.ids.entries[e].count - 1];
    if (append_fields(&j.rb, j.qb, j.nqb, j.key, &len, j.cap) != 0 || len + tuple->key_len > j.cap)
      goto too_long;
    memcpy(j.key + len, j.tuples.keys + tuple->key_off, tuple->key_len);
    c = anon_htab_upsert(&j.classes, j.key, len + tuple->key_len, &is_new);
    if (c < 0)
      goto oom;
    j.classes.entries[c].count++;
    joined++;
  }
  if (got < 0)
    goto fail;
  if (joined == 0)
    goto out; /* disjoint rows (a train and a test file): nothing links */
  for (size_t k = 0; k < j.classes.n_entries; k++) {
    unsigned long long n = j.classes.entries[k].count;

    if (k == 0 || n < min_class)
      min_class = n;
    if (n < opt->k)
      below += n;
  }
  qis = json_array();
  for (size_t q = 0; qis != NULL && q < j.nqb; q++)
    json_array_append_new(qis, json_string(anon_csv_header(&j.rb, (size_t)j.qb[q])));
  for (size_t q = 0; qis != NULL && q < j.nqa; q++)
    json_array_append_new(qis, json_string(anon_csv_header(&j.ra, (size_t)j.qa[q])));
  entry =
    json_pack("{s:[s,s], s:s, s:o, s:I, s:I, s:I, s:b}", "files", j.ra.path, j.rb.path, "on", id, "quasi_identifiers",
              qis != NULL ? qis : json_array(), "joined_records", (json_int_t)joined, "k_anonymity",
              (json_int_t)min_class, "records_below_k", (json_int_t)below, "passed", min_class >= opt->k);
  if (entry == NULL)
    goto oom;
  goto out;
too_long:
  anon_errf(err, errlen, "%s joined with %s: a record is too long", j.ra.path, j.rb.path);
  goto fail;
oom:
  anon_errf(err, errlen, "out of memory joining %s and %s", j.ra.path, j.rb.path);
fail:
  *failed = 1;
out:
  anon_csv_close(&j.ra);
  anon_csv_close(&j.rb);
  anon_htab_free(&j.ids);
  anon_htab_free(&j.tuples);
  anon_htab_free(&j.classes);
  free(j.qa);
  free(j.qb);
  free(j.key);
  return entry;
}

int anon_check_links(const char *const *paths, const char *const *names, json_t *reports,
                     const struct anon_check_options *opt_in, json_t **links_out, char *err, size_t errlen)
{
  struct anon_check_options defaults;
  json_t *links = json_array();
  size_t n = json_array_size(reports);
  int rc = ANON_PASS;

  *links_out = NULL;
  if (opt_in == NULL) {
    anon_check_options_init(&defaults);
    opt_in = &defaults;
  }
  if (links == NULL) {
    anon_errf(err, errlen, "out of memory");
    return ANON_ERROR;
  }
  for (size_t a = 0; a < n; a++) {
    for (size_t b = a + 1; b < n; b++) {
      const json_t *ra = json_array_get(reports, a), *rb = json_array_get(reports, b);
      struct anon_table_spec sa, sb;
      const char *id;
      json_t *entry;
      int failed = 0;

      if (json_object_get(ra, "k") == NULL || json_object_get(rb, "k") == NULL ||
          anon_table_spec_for(paths[a], names[a], &sa) != 0 || anon_table_spec_for(paths[b], names[b], &sb) != 0)
        continue;
      id = shared_id(ra, rb);
      if (id == NULL)
        continue;
      entry = join_pair(paths[a], &sa, ra, paths[b], &sb, rb, id, opt_in, &failed, err, errlen);
      if (failed) {
        json_decref(links);
        return ANON_ERROR;
      }
      if (entry == NULL)
        continue;
      if (!json_is_true(json_object_get(entry, "passed")))
        rc = ANON_FAIL;
      json_array_append_new(links, entry);
    }
  }
  *links_out = links;
  return rc;
}
