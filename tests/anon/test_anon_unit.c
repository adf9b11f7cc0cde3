/* test_anon_unit.c: unit tests of the anon module's rules, dates, hash table and CSV reader.
 *
 * The check is only as good as its detectors, so each rule is pinned here with cases that must match and
 * look-alikes that must not, and the exact k / l arithmetic is checked on small hand-counted tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anon_internal.h"

static int failures;

#define EXPECT(cond, ...)                                                                                              \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      failures++;                                                                                                      \
      fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond);                                                  \
      fprintf(stderr, __VA_ARGS__);                                                                                    \
      fputc('\n', stderr);                                                                                             \
    }                                                                                                                  \
  } while (0)

static unsigned scan(const char *s)
{
  return anon_value_scan(s, strlen(s), NULL);
}

static void test_nir(void)
{
  /* Keys computed by hand as 97 - (n mod 97), 2A -> 19, 2B -> 18. */
  EXPECT(anon_nir_valid("185057800608491"), "valid NIR");
  EXPECT(anon_nir_valid("269029934173285"), "valid NIR");
  EXPECT(!anon_nir_valid("185057800608492"), "wrong key");
  EXPECT(anon_nir_valid("180012A01234566"), "Corsica 2A");
  EXPECT(anon_nir_valid("275102B12345695"), "Corsica 2B");
  EXPECT(!anon_nir_valid("180012B01234566"), "2B with the 2A key");
  EXPECT(!anon_nir_valid("585057800608491"), "first digit 5 is not a sex");
  EXPECT(scan("1 85 05 78 006 084 91") & ANON_V_NIR, "spaced NIR");
  EXPECT(scan("secu: 185057800608491.") & ANON_V_NIR, "NIR inside text");
  EXPECT(!(scan("9185057800608491") & ANON_V_NIR), "NIR glued to a digit");
  EXPECT(!(scan("185057800608491234") & ANON_V_NIR), "longer number");
}

static void test_phone(void)
{
  const char *yes[] = {"0612345678",           "06 12 34 56 78",   "06.12.34.56.78",       "06-12-34-56-78",
                       "+33 6 12 34 56 78",    "+33612345678",     "+33 (0)6 12 34 56 78", "0033 6 12 34 56 78",
                       "tel: 01 23 45 67 89.", "+44 20 7946 0958", "+1 415 555 0100"};
  const char *no[] = {"3.0612345678", "0612345678.5", "06123456789", "12345678", "2020-03-12",
                      "05/03/2020",   "1234567890",   "0.5 0.6",     "+12"};

  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
    EXPECT(scan(yes[i]) & ANON_V_PHONE, "phone not found in \"%s\"", yes[i]);
  for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
    EXPECT(!(scan(no[i]) & ANON_V_PHONE), "false phone in \"%s\"", no[i]);
}

static void test_email_ip(void)
{
  EXPECT(scan("jean.dupont@chu-lyon.fr") & ANON_V_EMAIL, "email");
  EXPECT(scan("écrire à j_d+x@exemple.org.") & ANON_V_EMAIL, "email in text");
  EXPECT(!(scan("a@b") & ANON_V_EMAIL), "no domain");
  EXPECT(!(scan("@handle") & ANON_V_EMAIL), "no local part");
  EXPECT(!(scan("x@y.z") & ANON_V_EMAIL), "one-letter tld");
  EXPECT(scan("192.168.1.20") & ANON_V_IPV4, "ipv4");
  EXPECT(scan("from 10.0.0.1, then") & ANON_V_IPV4, "ipv4 in text");
  EXPECT(!(scan("256.1.1.1") & ANON_V_IPV4), "octet > 255");
  EXPECT(!(scan("1.2.3") & ANON_V_IPV4), "three parts");
  EXPECT(!(scan("1.2.3.4.5") & ANON_V_IPV4), "five parts");
}

static void test_names_in_text(void)
{
  const char *yes[] = {"vu par Dr Martin ce jour",      "appel de Mme DURAND",     "Jean Dupont revu en consultation",
                       "DUPONT Jean, 3e visite",        "adressé par M. Lefebvre", "patient suivi par Paul Garnier",
                       "consultation avec Élodie Petit"};
  const char *no[] = {"douleur thoracique, pas de fièvre", "Bilan IRM normal",
                      "Traitement par Doliprane",          "HTA et diabète",
                      "Pas de fièvre. Suivi à trois mois", "Paris"};

  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
    EXPECT(scan(yes[i]) & ANON_V_NAMES, "name not found in \"%s\"", yes[i]);
  for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
    EXPECT(!(scan(no[i]) & ANON_V_NAMES), "false name in \"%s\"", no[i]);
}

static void test_tokens_and_types(void)
{
  EXPECT(scan("9f86d081884c7d659a2feaa0c55ad015") & ANON_V_HEX_TOKEN, "hex");
  EXPECT(scan("123e4567-e89b-12d3-a456-426614174000") & ANON_V_HEX_TOKEN, "uuid");
  EXPECT(scan("dGhpcyBpcyBhIHRva2VuMTIz==") & ANON_V_B64_TOKEN, "base64");
  EXPECT(scan("Xk3_pQ9-vL2mN8rT") & ANON_V_B64_TOKEN, "base64url");
  EXPECT(!(scan("1234567890123456") & (ANON_V_HEX_TOKEN | ANON_V_B64_TOKEN)), "digits only");
  EXPECT(!(scan("anticonstitutionnellement") & ANON_V_B64_TOKEN), "a word");
  EXPECT(scan("I21.0") & ANON_V_ICD10, "icd");
  EXPECT(scan("C50") & ANON_V_ICD10, "icd 3");
  EXPECT(!(scan("c50") & ANON_V_ICD10), "lower case");
  EXPECT(scan("2020-02-29") & ANON_V_DATE, "leap day");
  EXPECT(!(scan("2021-02-29") & ANON_V_DATE), "no leap day");
  EXPECT(scan("31/12/1999") & ANON_V_DATE, "dmy");
  EXPECT(scan("2020-03-12T08:30:00Z") & ANON_V_DATE, "datetime");
  EXPECT(!(scan("2020-03") & ANON_V_DATE), "month only");
}

static void test_dates(void)
{
  struct anon_date d;
  char out[32];
  int y, m, dd;

  EXPECT(anon_days_from_civil(1970, 1, 1) == 0, "epoch");
  EXPECT(anon_days_from_civil(2000, 3, 1) - anon_days_from_civil(2000, 2, 28) == 2, "2000 is leap");
  EXPECT(anon_days_from_civil(1900, 3, 1) - anon_days_from_civil(1900, 2, 28) == 1, "1900 is not");
  for (long z = -200000; z < 200000; z += 37) {
    anon_civil_from_days(z, &y, &m, &dd);
    if (anon_days_from_civil(y, m, dd) != z) {
      EXPECT(0, "round trip of day %ld", z);
      break;
    }
  }
  EXPECT(anon_date_parse("05.03.2020", 10, &d) == 0 && d.day == 5 && d.month == 3 && d.format == ANON_DATE_DMY_DOT,
         "dotted");
  EXPECT(anon_date_format(&d, out, sizeof(out)) == 10 && strcmp(out, "05.03.2020") == 0, "format %s", out);
}

static void test_column_names(void)
{
  static const struct {
    const char *name;
    enum anon_name_class cls;
    const char *category;
  } cases[] = {
    {"Nom", ANON_NAME_DIRECT, "surname"},
    {"NOM_PATIENT", ANON_NAME_DIRECT, "surname"},
    {"Prénom", ANON_NAME_DIRECT, "first_name"},
    {"firstName", ANON_NAME_DIRECT, "first_name"},
    {"last_name", ANON_NAME_DIRECT, "surname"},
    {"E-mail", ANON_NAME_DIRECT, "email"},
    {"Adresse mail", ANON_NAME_DIRECT, "email"},
    {"Téléphone portable", ANON_NAME_DIRECT, "phone"},
    {"Adresse postale", ANON_NAME_DIRECT, "address"},
    {"Date de naissance", ANON_NAME_DIRECT, "birth_date"},
    {"date_of_birth", ANON_NAME_DIRECT, "birth_date"},
    {"DDN", ANON_NAME_DIRECT, "birth_date"},
    {"Lieu de naissance", ANON_NAME_DIRECT, "birth_place"},
    {"N° sécurité sociale", ANON_NAME_DIRECT, "nir"},
    {"Numéro de sécurité sociale", ANON_NAME_DIRECT, "nir"},
    {"NIR", ANON_NAME_DIRECT, "nir"},
    {"IPP", ANON_NAME_DIRECT, "patient_number"},
    {"adresse_ip", ANON_NAME_DIRECT, "ip_address"},
    {"nom_commune", ANON_NAME_QUASI, "postcode"},
    {"Code postal", ANON_NAME_QUASI, "postcode"},
    {"âge", ANON_NAME_QUASI, "age"},
    {"Sexe", ANON_NAME_QUASI, "sex"},
    {"date_admission", ANON_NAME_QUASI, "date"},
    {"code_cim10", ANON_NAME_QUASI, "diagnosis"},
    {"filename", ANON_NAME_NONE, NULL},
    {"drug_name", ANON_NAME_NONE, NULL},
    {"label", ANON_NAME_NONE, NULL},
    {"creatinine", ANON_NAME_NONE, NULL},
  };

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *cat = NULL;
    enum anon_name_class cls = anon_name_classify(cases[i].name, &cat);

    EXPECT(cls == cases[i].cls && (cases[i].category == NULL || (cat != NULL && strcmp(cat, cases[i].category) == 0)),
           "\"%s\" classified %d/%s", cases[i].name, (int)cls, cls == ANON_NAME_NONE ? "-" : cat);
  }
}

static void test_htab(void)
{
  struct anon_htab h;
  int is_new = 0;
  long a, b;
  char key[16];

  memset(&h, 0, sizeof(h));
  for (int i = 0; i < 100000; i++) {
    int n = snprintf(key, sizeof(key), "k%d", i % 5000);

    a = anon_htab_upsert(&h, key, (size_t)n, &is_new);
    if (a < 0) {
      EXPECT(0, "upsert failed");
      break;
    }
    h.entries[a].count++;
  }
  EXPECT(h.n_entries == 5000, "entries %zu", h.n_entries);
  a = anon_htab_upsert(&h, "k42", 3, &is_new);
  EXPECT(a >= 0 && !is_new && h.entries[a].count == 20, "count of k42");
  b = anon_htab_upsert(&h, "", 0, &is_new);
  EXPECT(b >= 0 && is_new, "empty key is a key");
  anon_htab_free(&h);
}

/* Writes text to a temporary file and returns its path (static buffer). */
static const char *write_tmp(const char *text, size_t len)
{
  static char path[64];
  FILE *f;
  int fd;

  snprintf(path, sizeof(path), "/tmp/anon_unit_XXXXXX");
  fd = mkstemp(path);
  if (fd < 0)
    return NULL;
  f = fdopen(fd, "wb");
  if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0)
    return NULL;
  return path;
}

/* Checks a CSV text and returns the report (or NULL with err filled). */
static json_t *check_text(const char *text, const struct anon_check_options *opt, int *rc, char *err, size_t errlen)
{
  const char *path = write_tmp(text, strlen(text));
  json_t *rep = NULL;

  if (path == NULL)
    return NULL;
  *rc = anon_check_file(path, opt, &rep, err, errlen);
  unlink(path);
  return rep;
}

static long long get_int(const json_t *rep, const char *key)
{
  return (long long)json_integer_value(json_object_get(rep, key));
}

static void test_k_and_l(void)
{
  /* Hand count over (age, sex, zip): (30,M,75) x3 with diag {A,B}; (40,F,69) x2 with {A}; (50,M,13) x1. */
  static const char table[] = "age,sex,zip,diag\n30,M,75,A\n30,M,75,B\n40,F,69,A\n30,M,75,A\n40,F,69,A\n50,M,13,C\n";
  const char *qi[] = {"age", "sex", "zip"};
  const char *qi_sex[] = {"sex"};
  struct anon_check_options opt;
  char err[256];
  json_t *rep;
  int rc = -1;

  anon_check_options_init(&opt);
  opt.quasi = qi;
  opt.n_quasi = 3;
  opt.k = 3;
  opt.sensitive = "diag";
  rep = check_text(table, &opt, &rc, err, sizeof(err));
  EXPECT(rep != NULL && rc == ANON_FAIL, "rc %d", rc);
  EXPECT(get_int(rep, "k_anonymity") == 1, "k %lld", get_int(rep, "k_anonymity"));
  EXPECT(get_int(rep, "records_below_k") == 3, "below k %lld", get_int(rep, "records_below_k"));
  EXPECT(get_int(rep, "equivalence_classes") == 3, "classes");
  EXPECT(get_int(rep, "l_diversity") == 1, "l %lld", get_int(rep, "l_diversity"));
  EXPECT(get_int(rep, "records_below_l") == 3, "below l %lld", get_int(rep, "records_below_l"));
  EXPECT(json_real_value(json_object_get(rep, "uniqueness_rate")) > 0.1666 &&
           json_real_value(json_object_get(rep, "uniqueness_rate")) < 0.1667,
         "uniqueness");
  json_decref(rep);

  opt.quasi = qi_sex; /* M: 4 rows {A,B,C}; F: 2 rows {A} */
  opt.n_quasi = 1;
  opt.k = 2;
  opt.l = 1;
  rep = check_text(table, &opt, &rc, err, sizeof(err));
  EXPECT(rep != NULL && rc == ANON_PASS, "rc %d", rc);
  EXPECT(get_int(rep, "k_anonymity") == 2 && get_int(rep, "records_below_k") == 0, "k by sex");
  EXPECT(get_int(rep, "l_diversity") == 1, "l by sex");
  json_decref(rep);

  opt.l = 2;
  rep = check_text(table, &opt, &rc, err, sizeof(err));
  EXPECT(rep != NULL && rc == ANON_FAIL && get_int(rep, "records_below_l") == 2, "l = 2 fails on F");
  json_decref(rep);
}

static void expect_csv_error(const char *text, size_t len, const struct anon_limits *lim, const char *want)
{
  struct anon_check_options opt;
  const char *path = write_tmp(text, len);
  json_t *rep = NULL;
  char err[512] = "";
  int rc;

  anon_check_options_init(&opt);
  if (lim != NULL)
    opt.limits = *lim;
  if (path == NULL) {
    EXPECT(0, "tmp file");
    return;
  }
  rc = anon_check_file(path, &opt, &rep, err, sizeof(err));
  unlink(path);
  EXPECT(rc == ANON_ERROR && rep == NULL && strstr(err, want) != NULL, "want \"%s\", got rc %d \"%s\"", want, rc, err);
  json_decref(rep);
}

static void test_csv(void)
{
  static const char good[] = "\xEF\xBB\xBFid,\"note, with comma\"\r\n1,\"two\r\nlines \"\"quoted\"\"\"\r\n\r\n2,x\r\n";
  struct anon_limits small = {64, 3, 0};
  struct anon_check_options opt;
  char err[256];
  int rc = -1;
  json_t *rep;

  anon_check_options_init(&opt);
  rep = check_text(good, &opt, &rc, err, sizeof(err));
  EXPECT(rep != NULL && get_int(rep, "rows") == 2 && get_int(rep, "columns") == 2, "BOM, CRLF, quoted newline: %s",
         rep == NULL ? err : "wrong counts");
  json_decref(rep);

  expect_csv_error("a,b\n1,\"x\"y\n", 12, NULL, "line 2, column 2 (\"b\"): character after a closing quote");
  expect_csv_error("a,b\n1,x\"y\n", 11, NULL, "line 2, column 2 (\"b\"): quote inside an unquoted field");
  expect_csv_error("a,b\n1,2\n3,\"open\n\n", 18, NULL, "line 3, column 2 (\"b\"): quoted field never closed");
  expect_csv_error("a,b\n1,2\n3\n", 10, NULL, "line 3: 1 fields, the header has 2");
  expect_csv_error("a,b\n1,\xC3\x28\n", 9, NULL, "line 2, column 2 (\"b\"): invalid UTF-8");
  expect_csv_error("a,b\n1,x\0y\n", 10, NULL, "line 2, column 2 (\"b\"): invalid UTF-8 or NUL");
  expect_csv_error("a,b\n1,2\r3,4\n", 12, NULL, "line 2, column 2 (\"b\"): carriage return");
  expect_csv_error("", 0, NULL, "empty file");
  expect_csv_error("a,b,c,d\n", 8, &small, "line 1: more than 3 columns");
  expect_csv_error("a,a\n1,2\n", 8, NULL, "column name \"a\" appears twice");
  {
    char big[200];

    memset(big, 'x', sizeof(big));
    memcpy(big, "a\n", 2);
    big[sizeof(big) - 1] = '\n';
    expect_csv_error(big, sizeof(big), &small, "line 2: record longer than 64 bytes");
  }
}

static void test_messages_are_clean_utf8(void)
{
  char err[7];
  char big[64];

  anon_errf(err, sizeof(err), "abcde\xC3\xA9"); /* the buffer's end cuts the e-acute after its lead byte */
  EXPECT(strcmp(err, "abcde?") == 0, "cut character: %s", err);
  anon_errf(big, sizeof(big), "name \"%s\"",
            "a\x1b[31mb\xFF"
            "c");
  EXPECT(strcmp(big, "name \"a?[31mb?c\"") == 0, "control and invalid bytes replaced: %s", big);
}

static void test_birth_dates_vs_event_dates(void)
{
  static const char table[] = "date_admission,dn,x\n1980-01-02,02/01/1935,a\n2023-05-06,06/05/1999,a\n"
                              "2001-07-08,08/07/1950,a\n";
  struct anon_check_options opt;
  const json_t *direct;
  char err[256];
  int rc = -1;
  json_t *rep;

  anon_check_options_init(&opt);
  opt.k = 1;
  rep = check_text(table, &opt, &rc, err, sizeof(err));
  direct = json_object_get(rep, "direct_identifiers");
  EXPECT(rep != NULL && json_array_size(direct) == 1, "one direct identifier");
  EXPECT(strcmp(json_string_value(json_object_get(json_array_get(direct, 0), "column")), "dn") == 0 &&
           strcmp(json_string_value(json_object_get(json_array_get(direct, 0), "rule")), "date_of_birth") == 0,
         "dn holds dates of birth");
  EXPECT(json_array_size(json_object_get(rep, "quasi_identifiers")) == 1 &&
           strcmp(json_string_value(json_array_get(json_object_get(rep, "quasi_identifiers"), 0)), "date_admission") ==
             0,
         "date_admission is a quasi-identifier");
  json_decref(rep);
}

static void expect_options_error(const char *text, const char *want)
{
  struct anon_check_options opt;
  json_t *j = json_loads(text, 0, NULL);
  char err[256] = "";

  EXPECT(j != NULL && anon_check_options_from_json(&opt, j, err, sizeof(err)) == -1 && strstr(err, want) != NULL,
         "%s: want \"%s\", got \"%s\"", text, want, err);
  anon_check_options_free(&opt);
  json_decref(j);
}

static void test_options_from_challenge_json(void)
{
  static const char table[] = "age,sex,diag\n30,M,A\n30,M,B\n30,M,A\n";
  json_t *j = json_loads("{\"quasi_identifiers\": [\"age\", \"sex\"], \"k\": 3, \"sensitive\": \"diag\"}", 0, NULL);
  struct anon_check_options opt;
  json_t *rep, *pub;
  char err[256];
  int rc = -1;

  EXPECT(j != NULL && anon_check_options_from_json(&opt, j, err, sizeof(err)) == 0, "valid: %s", err);
  EXPECT(opt.n_quasi == 2 && strcmp(opt.quasi[1], "sex") == 0 && opt.k == 3 && opt.l == 2 &&
           strcmp(opt.sensitive, "diag") == 0,
         "fields");
  rep = check_text(table, &opt, &rc, err, sizeof(err));
  EXPECT(rc == ANON_PASS && get_int(rep, "k_anonymity") == 3 && get_int(rep, "l_diversity") == 2, "rc %d", rc);
  pub = anon_report_public(rep);
  EXPECT(pub != NULL && json_object_size(pub) == 4 && json_is_true(json_object_get(pub, "passed")) &&
           get_int(pub, "direct_identifiers_found") == 0,
         "public summary");
  json_decref(pub);
  json_decref(rep);
  anon_check_options_free(&opt);
  json_decref(j);
  EXPECT(anon_check_options_from_json(&opt, NULL, err, sizeof(err)) == 0 && opt.quasi == NULL && opt.k == 5,
         "no declaration");
  anon_check_options_free(&opt);
  expect_options_error("{\"kk\": 5}", "unknown field \"kk\"");
  expect_options_error("{\"k\": 0}", "anonymity.k: a whole number");
  expect_options_error("{\"k\": \"5\"}", "anonymity.k: a whole number");
  expect_options_error("{\"quasi_identifiers\": \"age\"}", "anonymity.quasi_identifiers: a list");
  expect_options_error("{\"quasi_identifiers\": [\"age\", 3]}", "anonymity.quasi_identifiers[1]");
  expect_options_error("{\"sensitive\": \"\"}", "anonymity.sensitive");
  expect_options_error("[]", "an object is required");
}

int main(void)
{
  test_nir();
  test_phone();
  test_email_ip();
  test_names_in_text();
  test_tokens_and_types();
  test_dates();
  test_column_names();
  test_htab();
  test_k_and_l();
  test_csv();
  test_messages_are_clean_utf8();
  test_birth_dates_vs_event_dates();
  test_options_from_challenge_json();
  if (failures > 0) {
    fprintf(stderr, "%d failure(s)\n", failures);
    return 1;
  }
  printf("anon unit tests passed\n");
  return 0;
}
