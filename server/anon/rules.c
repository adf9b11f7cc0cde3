/* rules.c: how the anonymity check recognises identifiers, by column name and by value.
 *
 * Column names are compared after normalisation (lower case, accents stripped, camelCase and separators
 * split into tokens, French and English stop words dropped) against ordered token patterns; the first
 * match wins. Values are scanned for e-mail addresses, phone numbers (French national and international
 * forms), French NIR numbers whose key checks out, IPv4 addresses and people named in free text, and
 * classified as dates, opaque tokens or diagnosis codes. Every rule is documented in docs/anonymity.md;
 * change both together.
 */
#include <stdlib.h>
#include <string.h>

#include "anon_internal.h"

#define MAX_TOKENS 16
#define MAX_TOKEN 40

/* ---- column names ---- */

/* Replacement letters for the UTF-8 sequences C3 80..C3 BF (Latin-1 letters), '_' for non-letters. */
static const char latin1_upper[] = "aaaaaaaceeeeiiiidnooooo_ouuuuy_s";
static const char latin1_lower[] = "aaaaaaaceeeeiiiidnooooo_ouuuuy_y";

static int is_lower_ascii(unsigned char c)
{
  return c >= 'a' && c <= 'z';
}

static int is_upper_ascii(unsigned char c)
{
  return c >= 'A' && c <= 'Z';
}

static int is_digit_ascii(unsigned char c)
{
  return c >= '0' && c <= '9';
}

static int is_alnum_ascii(unsigned char c)
{
  return is_lower_ascii(c) || is_upper_ascii(c) || is_digit_ascii(c);
}

void anon_name_normalize(const char *name, char *out, size_t outlen)
{
  const unsigned char *s = (const unsigned char *)name;
  size_t o = 0;
  int prev_lower = 0;

  if (outlen == 0)
    return;
  for (size_t i = 0; s[i] != '\0' && o + 3 < outlen; i++) {
    unsigned char c = s[i];
    char mapped = '_';

    if (is_upper_ascii(c)) {
      if (prev_lower && o > 0 && out[o - 1] != '_')
        out[o++] = '_'; /* camelCase boundary */
      mapped = (char)(c - 'A' + 'a');
      prev_lower = 0;
    } else if (is_lower_ascii(c) || is_digit_ascii(c)) {
      mapped = (char)c;
      prev_lower = 1;
    } else if (c == 0xC3 && s[i + 1] >= 0x80 && s[i + 1] <= 0xBF) {
      unsigned char d = s[++i];

      mapped = d < 0xA0 ? latin1_upper[d - 0x80] : latin1_lower[d - 0xA0];
      prev_lower = d >= 0xA0;
      if (d == 0x9F) { /* sharp s */
        out[o++] = 's';
      }
    } else if (c == 0xC5 && (s[i + 1] == 0x92 || s[i + 1] == 0x93)) { /* OE ligature */
      i++;
      out[o++] = 'o';
      mapped = 'e';
      prev_lower = 1;
    } else {
      prev_lower = 0;
      while ((s[i + 1] & 0xC0) == 0x80) /* skip the rest of any other UTF-8 sequence */
        i++;
    }
    if (mapped == '_' && (o == 0 || out[o - 1] == '_'))
      continue;
    out[o++] = mapped;
  }
  while (o > 0 && out[o - 1] == '_')
    o--;
  out[o] = '\0';
}

static const char *const stop_words[] = {"de", "du", "des", "d",   "la", "le",  "les", "l",  "of", "the",
                                         "en", "a",  "au",  "aux", "et", "and", "du",  "at", NULL};

struct name_rule {
  enum anon_name_class cls;
  const char *category;
  const char *patterns[32]; /* token sequences, space separated; any one matches */
  const char *exclude[32];  /* tokens that veto this rule */
};

/* Ordered: the first rule that matches decides. Specific patterns come before generic ones. */
static const struct name_rule name_rules[] = {
  {ANON_NAME_DIRECT, "ip_address", {"ip", "adresse ip", "ip address", "ipv4", "ipv6", NULL}, {NULL}},
  {ANON_NAME_DIRECT,
   "email",
   {"email", "e mail", "mail", "courriel", "adresse electronique", "emailaddress", NULL},
   {NULL}},
  {ANON_NAME_DIRECT, "surname", {"nom naissance", "nom jeune fille", "nom usage", "nom marital", NULL}, {NULL}},
  {ANON_NAME_QUASI,
   "nationality",
   {"pays naissance", "country birth", "nationalite", "nationality", "ethnie", "ethnicity", NULL},
   {NULL}},
  {ANON_NAME_DIRECT,
   "birth_place",
   {"lieu naissance", "commune naissance", "ville naissance", "place birth", "birth place", "birthplace", "city birth",
    "birth city", "lieunaissance", NULL},
   {NULL}},
  {ANON_NAME_DIRECT,
   "birth_date",
   {"date naissance", "datenaissance", "naissance", "ddn", "dob", "date birth", "birth date", "birthdate", "birthday",
    "date naiss", "naiss", "dnaiss", "born", NULL},
   {NULL}},
  {ANON_NAME_DIRECT,
   "nir",
   {"nir", "nss", "securite sociale", "secu", "numero insee", "num insee", "no insee", "n insee", "ssn",
    "social security", "nirpp", NULL},
   {NULL}},
  {ANON_NAME_DIRECT,
   "patient_number",
   {"ipp", "nip", "nda", "numero dossier", "num dossier", "no dossier", "n dossier", "dossier", "mrn", "medical record",
    "record number", "numero patient", "num patient", "patient number", "numero sejour", NULL},
   {NULL}},
  {ANON_NAME_ID,
   "patient_id",
   {"patient id", "id patient", "patient code", "code patient", "identifiant patient", "patient identifier",
    "patientid", "idpatient", "pat id", "id pat", "=patient", "=patients", "num pat", "no patient", NULL},
   {NULL}},
  {ANON_NAME_DIRECT,
   "phone",
   {"telephone", "tel", "phone", "portable", "mobile", "gsm", "fax", "phonenumber", "cellphone", "telephon", NULL},
   {NULL}},
  {ANON_NAME_DIRECT,
   "address",
   {"adresse", "address", "rue", "street", "domicile", "voie", "lieu dit", "lieudit", NULL},
   {NULL}},
  {ANON_NAME_DIRECT,
   "first_name",
   {"prenom", "prenoms", "first name", "firstname", "given name", "givenname", "forename", NULL},
   {NULL}},
  {ANON_NAME_DIRECT,
   "surname",
   {"nom", "noms", "surname", "last name", "lastname", "family name", "familyname", "name", "fullname", "full name",
    "patronyme", NULL},
   {"commune",  "ville",      "city", "etablissement", "hopital", "hospital",    "service", "fichier", "file",
    "variable", "medicament", "drug", "produit",       "product", "molecule",    "examen",  "exam",    "centre",
    "center",   "site",       "pays", "country",       "region",  "departement", NULL}},
  {ANON_NAME_QUASI, "age", {"age", "ages", "tranche age", "classe age", NULL}, {NULL}},
  {ANON_NAME_QUASI, "sex", {"sexe", "sex", "gender", "genre", NULL}, {NULL}},
  {ANON_NAME_QUASI,
   "postcode",
   {"code postal", "codepostal", "cp",     "postcode",     "postal code", "postalcode",  "zip",       "zipcode",
    "commune",     "ville",      "city",   "town",         "insee",       "departement", "dept",      "dep",
    "region",      "iris",       "canton", "municipality", "code geo",    "codegeo",     "residence", NULL},
   {NULL}},
  {ANON_NAME_QUASI, "date", {"date", "dt", "datetime", "timestamp", "jour", NULL}, {NULL}},
  {ANON_NAME_QUASI,
   "diagnosis",
   {"diagnostic", "diagnosis", "diag", "dp", "das", "cim", "cim10", "icd", "icd10", "pathologie", "maladie", "disease",
    "ghm", "ccam", NULL},
   {NULL}},
  {ANON_NAME_QUASI, "occupation", {"profession", "occupation", "metier", "emploi", "csp", "job", NULL}, {NULL}},
};

static int is_stop_word(const char *t)
{
  for (size_t i = 0; stop_words[i] != NULL; i++) {
    if (strcmp(stop_words[i], t) == 0)
      return 1;
  }
  return 0;
}

/* Splits a normalised name into tokens, stop words dropped. Returns the count. */
static size_t tokenize(const char *norm, char tok[MAX_TOKENS][MAX_TOKEN])
{
  size_t n = 0, len = 0;

  for (size_t i = 0;; i++) {
    char c = norm[i];

    if (c == '_' || c == '\0') {
      if (len > 0 && n < MAX_TOKENS) {
        tok[n][len] = '\0';
        if (!is_stop_word(tok[n]))
          n++;
      }
      len = 0;
      if (c == '\0')
        break;
      continue;
    }
    if (len + 1 < MAX_TOKEN && n < MAX_TOKENS)
      tok[n][len++] = c;
  }
  return n;
}

/* Does the space-separated token sequence pattern occur contiguously in tok[0..n)? A pattern starting with '='
   must be the whole name. */
static int pattern_matches(const char *pattern, char tok[MAX_TOKENS][MAX_TOKEN], size_t n)
{
  char pt[MAX_TOKENS][MAX_TOKEN];
  size_t np = 0, len = 0;
  int whole = pattern[0] == '=';

  pattern += whole;

  for (size_t i = 0;; i++) {
    char c = pattern[i];

    if (c == ' ' || c == '\0') {
      if (len > 0 && np < MAX_TOKENS)
        pt[np++][len] = '\0';
      len = 0;
      if (c == '\0')
        break;
      continue;
    }
    if (len + 1 < MAX_TOKEN && np < MAX_TOKENS)
      pt[np][len++] = c;
  }
  if (whole && np != n)
    return 0;
  for (size_t start = 0; np > 0 && start + np <= n; start++) {
    size_t j = 0;

    while (j < np && strcmp(tok[start + j], pt[j]) == 0)
      j++;
    if (j == np)
      return 1;
  }
  return 0;
}

static int has_token(const char *word, char tok[MAX_TOKENS][MAX_TOKEN], size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (strcmp(tok[i], word) == 0)
      return 1;
  }
  return 0;
}

enum anon_name_class anon_name_classify(const char *name, const char **category)
{
  char norm[256];
  char tok[MAX_TOKENS][MAX_TOKEN];
  size_t n;

  anon_name_normalize(name, norm, sizeof(norm));
  n = tokenize(norm, tok);
  for (size_t r = 0; r < sizeof(name_rules) / sizeof(name_rules[0]); r++) {
    const struct name_rule *rule = &name_rules[r];
    int matched = 0, vetoed = 0;

    for (size_t p = 0; rule->patterns[p] != NULL && !matched; p++)
      matched = pattern_matches(rule->patterns[p], tok, n);
    for (size_t x = 0; matched && rule->exclude[x] != NULL && !vetoed; x++)
      vetoed = has_token(rule->exclude[x], tok, n);
    if (matched && !vetoed) {
      *category = rule->category;
      return rule->cls;
    }
  }
  return ANON_NAME_NONE;
}

static const char *const code_words[] = {"finess", "siret",  "siren", "etablissement", "hopital",   "hospital",
                                         "centre", "center", "site",  "service",       "uf",        "lot",
                                         "batch",  "labo",   "lab",   "laboratoire",   "structure", NULL};

int anon_name_is_code_column(const char *name)
{
  char norm[256];
  char tok[MAX_TOKENS][MAX_TOKEN];
  size_t n;

  anon_name_normalize(name, norm, sizeof(norm));
  n = tokenize(norm, tok);
  for (size_t i = 0; code_words[i] != NULL; i++) {
    if (has_token(code_words[i], tok, n))
      return 1;
  }
  return 0;
}

/* ---- values ---- */

static int is_email_local(unsigned char c)
{
  return is_alnum_ascii(c) || c >= 0x80 || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static int is_email_domain(unsigned char c)
{
  return is_alnum_ascii(c) || c == '.' || c == '-';
}

static int email_in(const unsigned char *s, size_t len)
{
  for (size_t at = 1; at + 3 < len; at++) {
    size_t end = at + 1, dot = 0, tld = 0;

    if (s[at] != '@' || !is_email_local(s[at - 1]))
      continue;
    while (end < len && is_email_domain(s[end]))
      end++;
    while (end > at + 1 && s[end - 1] == '.') /* a sentence's full stop */
      end--;
    for (size_t i = at + 1; i < end; i++) {
      if (s[i] == '.') {
        dot = i;
        tld = 0;
      } else {
        tld = is_lower_ascii(s[i] | 0x20) ? tld + 1 : 0;
      }
    }
    if (dot > at + 1 && tld >= 2)
      return 1;
  }
  return 0;
}

/* Is the byte before position i the end of a number or a word (so a match cannot start at i)? */
static int glued_before(const unsigned char *s, size_t i)
{
  if (i == 0)
    return 0;
  if (is_alnum_ascii(s[i - 1]))
    return 1;
  return (s[i - 1] == '.' || s[i - 1] == ',') && i >= 2 && is_digit_ascii(s[i - 2]);
}

/* Is the match that ends before position i followed by more of a number or word? */
static int glued_after(const unsigned char *s, size_t len, size_t i)
{
  if (i >= len)
    return 0;
  if (is_alnum_ascii(s[i]))
    return 1;
  return (s[i] == '.' || s[i] == ',') && i + 1 < len && is_digit_ascii(s[i + 1]);
}

/* Sets *end to p when ok; returns ok. The detectors below report where a match ends for redaction. */
static int matched(int ok, size_t p, size_t *end)
{
  if (ok)
    *end = p;
  return ok;
}

/* Reads `pairs` groups of two digits at s[*i], each optionally preceded by one separator. */
static int digit_pairs(const unsigned char *s, size_t len, size_t *i, int pairs)
{
  size_t p = *i;

  for (int k = 0; k < pairs; k++) {
    if (p < len && (s[p] == ' ' || s[p] == '.' || s[p] == '-'))
      p++;
    if (p + 1 >= len || !is_digit_ascii(s[p]) || !is_digit_ascii(s[p + 1]))
      return 0;
    p += 2;
  }
  *i = p;
  return 1;
}

/* A French number (0X XX XX XX XX, +33 X XX XX XX XX, 0033..., +33 (0)X...) or an international one
   (+ then 8 to 15 digits with single separators) starting at i. */
static int phone_at(const unsigned char *s, size_t len, size_t i, size_t *end)
{
  size_t p = i;
  int ok;

  if (s[p] == '0' && p + 1 < len && s[p + 1] >= '1' && s[p + 1] <= '9') {
    p += 2;
    ok = digit_pairs(s, len, &p, 4) && !glued_after(s, len, p); /* p moves: read it after */
    return matched(ok, p, end);
  }
  if (s[p] == '+' || (s[p] == '0' && p + 1 < len && s[p + 1] == '0')) {
    size_t digits = 0;

    p += s[p] == '+' ? 1 : 2;
    if (p + 2 < len && s[p] == '3' && s[p + 1] == '3') { /* France: +33, (+33), optional (0) */
      p += 2;
      if (p < len && s[p] == ')' && i > 0 && s[i - 1] == '(')
        p++;
      if (p < len && (s[p] == ' ' || s[p] == '-' || s[p] == '.'))
        p++;
      if (p + 2 < len && s[p] == '(' && s[p + 1] == '0' && s[p + 2] == ')')
        p += 3;
      if (p < len && s[p] == ' ')
        p++;
      if (p >= len || s[p] < '1' || s[p] > '9')
        return 0;
      p++;
      ok = digit_pairs(s, len, &p, 4) && !glued_after(s, len, p);
      return matched(ok, p, end);
    }
    if (p >= len || s[p] < '1' || s[p] > '9')
      return 0;
    while (p < len) {
      if (is_digit_ascii(s[p])) {
        digits++;
        p++;
      } else if ((s[p] == ' ' || s[p] == '.' || s[p] == '-') && p + 1 < len && is_digit_ascii(s[p + 1])) {
        p++;
      } else {
        break;
      }
    }
    return matched(digits >= 8 && digits <= 15 && !glued_after(s, len, p), p, end);
  }
  return 0;
}

/* A French number whose leading 0 was dropped but whose groups were kept: "6 12 34 56 78". */
static int spaced_phone_at(const unsigned char *s, size_t len, size_t i, size_t *end)
{
  size_t p = i + 1;
  unsigned char sep;

  if (p >= len || (s[p] != ' ' && s[p] != '.' && s[p] != '-'))
    return 0;
  sep = s[p];
  for (int k = 0; k < 4; k++) {
    if (p + 2 >= len || s[p] != sep || !is_digit_ascii(s[p + 1]) || !is_digit_ascii(s[p + 2]))
      return 0;
    p += 3;
  }
  return matched(!glued_after(s, len, p), p, end);
}

/* A phone number starting at i (not glued to what precedes): returns 1 and sets *end. */
static int any_phone_at(const unsigned char *s, size_t len, size_t i, size_t *end)
{
  if (i + 10 > len || glued_before(s, i))
    return 0;
  if ((s[i] == '0' || s[i] == '+') && phone_at(s, len, i, end))
    return 1;
  return s[i] >= '1' && s[i] <= '9' && spaced_phone_at(s, len, i, end);
}

static int phone_in(const unsigned char *s, size_t len)
{
  size_t end;

  for (size_t i = 0; i + 10 <= len; i++) {
    if (any_phone_at(s, len, i, &end))
      return 1;
  }
  return 0;
}

/* The whole value (blanks trimmed) is a mobile number without its leading 0, as a spreadsheet leaves it:
   612345678, 33612345678. */
static int stripped_phone(const unsigned char *s, size_t len)
{
  size_t a = 0, b = len, n;

  while (a < b && s[a] == ' ')
    a++;
  while (b > a && s[b - 1] == ' ')
    b--;
  n = b - a;
  for (size_t i = a; i < b; i++) {
    if (!is_digit_ascii(s[i]))
      return 0;
  }
  if (n == 9)
    return s[a] == '6' || s[a] == '7';
  return n == 11 && s[a] == '3' && s[a + 1] == '3' && (s[a + 2] == '6' || s[a + 2] == '7');
}

int anon_nir_valid(const char s[15])
{
  unsigned long long n = 0;
  int key, month;

  if (strchr("123478", s[0]) == NULL || s[0] == '\0')
    return 0;
  for (int i = 0; i < 15; i++) {
    if (i == 5 && s[5] == '2' && (s[6] == 'A' || s[6] == 'B'))
      continue;
    if (i == 6 && s[5] == '2' && (s[6] == 'A' || s[6] == 'B'))
      continue;
    if (!is_digit_ascii((unsigned char)s[i]))
      return 0;
  }
  month = (s[3] - '0') * 10 + (s[4] - '0');
  if (!((month >= 1 && month <= 12) || month >= 20))
    return 0;
  for (int i = 0; i < 13; i++) {
    int digit = s[i] - '0';

    if (i == 5 && s[6] == 'A' && s[5] == '2')
      digit = 1; /* 2A counts as 19 */
    else if (i == 5 && s[6] == 'B' && s[5] == '2')
      digit = 1; /* 2B counts as 18 */
    else if (i == 6 && s[6] == 'A')
      digit = 9;
    else if (i == 6 && s[6] == 'B')
      digit = 8;
    n = n * 10 + (unsigned long long)digit;
  }
  key = (s[13] - '0') * 10 + (s[14] - '0');
  return key == (int)(97 - n % 97);
}

/* Is u[0..13) shaped as a NIR without its key: sex 1-4 / 7 / 8, month 01-12 or 20-99 (unknown), department
   01-99 or 2A / 2B, commune and order numbers not 000? */
static int nir13_shaped(const char u[13])
{
  int month = (u[3] - '0') * 10 + (u[4] - '0');

  if (strchr("123478", u[0]) == NULL || !((month >= 1 && month <= 12) || month >= 20))
    return 0;
  if (u[5] == '0' && u[6] == '0')
    return 0;
  return !(u[7] == '0' && u[8] == '0' && u[9] == '0') && !(u[10] == '0' && u[11] == '0' && u[12] == '0');
}

/* Gathers a NIR written with or without single separators (space, dot, dash) between groups, starting at i.
   Returns ANON_V_NIR for 15 characters whose key checks out, or for 13 written in groups (1 62 03 75 123 456);
   ANON_W_NIR for 13 bare digits shaped as a NIR; else 0. */
static unsigned nir_at(const unsigned char *s, size_t len, size_t i, size_t *end)
{
  char u[15];
  size_t n = 0, p = i, seps = 0;

  while (p < len && n < 15) {
    unsigned char c = s[p];

    if ((c == ' ' || c == '.' || c == '-') && n > 0 && p + 1 < len && is_alnum_ascii(s[p + 1])) {
      p++;
      seps++;
      continue;
    }
    if (is_digit_ascii(c) || (n == 6 && u[5] == '2' && (c == 'A' || c == 'B' || c == 'a' || c == 'b'))) {
      u[n++] = (char)(c == 'a' ? 'A' : c == 'b' ? 'B' : c);
      p++;
      continue;
    }
    break;
  }
  if (glued_after(s, len, p))
    return 0;
  *end = p;
  if (n == 15)
    return anon_nir_valid(u) ? ANON_V_NIR : 0;
  if (n == 13 && nir13_shaped(u))
    return seps >= 4 ? ANON_V_NIR : ANON_W_NIR;
  return 0;
}

static unsigned nir_in(const unsigned char *s, size_t len)
{
  unsigned found = 0;
  size_t end;

  for (size_t i = 0; i + 13 <= len && !(found & ANON_V_NIR); i++) {
    if (strchr("123478", s[i]) != NULL && s[i] != '\0' && !glued_before(s, i))
      found |= nir_at(s, len, i, &end);
  }
  return found;
}

/* Reads a decimal octet (1-3 digits, <= 255) at s[*p]. */
static int octet(const unsigned char *s, size_t len, size_t *p)
{
  int v = 0, n = 0;

  while (*p < len && is_digit_ascii(s[*p]) && n < 3) {
    v = v * 10 + (s[*p] - '0');
    (*p)++;
    n++;
  }
  return n > 0 && v <= 255 && !(*p < len && is_digit_ascii(s[*p]));
}

static int ipv4_at(const unsigned char *s, size_t len, size_t i, size_t *end)
{
  size_t p = i;
  int ok = 1;

  if (i + 7 > len || !is_digit_ascii(s[i]) || glued_before(s, i) || (i > 0 && s[i - 1] == '.'))
    return 0;
  for (int k = 0; k < 4 && ok; k++) {
    ok = octet(s, len, &p);
    if (ok && k < 3) {
      ok = p < len && s[p] == '.';
      p++;
    }
  }
  return matched(ok && !glued_after(s, len, p) && !(p < len && s[p] == '.'), p, end);
}

static int ipv4_in(const unsigned char *s, size_t len)
{
  size_t end;

  for (size_t i = 0; i + 7 <= len; i++) {
    if (ipv4_at(s, len, i, &end))
      return 1;
  }
  return 0;
}

/* ---- people named in free text ---- */

static const char *const titles[] = {"M",    "Mme",     "Mlle",       "Mr",       "Mrs",    "Ms",           "Dr",
                                     "Pr",   "Docteur", "Professeur", "Monsieur", "Madame", "Mademoiselle", "Doctor",
                                     "Prof", "Miss",    "Mister",     NULL};

struct word {
  const unsigned char *s;
  size_t len;
  int sentence_start;
  int follows_space; /* separated from the previous word by blanks only */
};

static int is_first_name(const struct word *w)
{
  return anon_is_first_name((const char *)w->s, w->len);
}

static int is_upper_at(const unsigned char *s, size_t len)
{
  return is_upper_ascii(s[0]) || (len >= 2 && s[0] == 0xC3 && s[1] >= 0x80 && s[1] <= 0x9E && s[1] != 0x97);
}

static int is_word_byte(unsigned char c)
{
  return is_alnum_ascii(c) || c >= 0x80 || c == '-' || c == '\'';
}

static int in_list(const struct word *w, const char *const *list)
{
  for (size_t i = 0; list[i] != NULL; i++) {
    if (list[i][0] == (char)w->s[0] && strlen(list[i]) == w->len && memcmp(list[i], w->s, w->len) == 0)
      return 1;
  }
  return 0;
}

/* "Dupont", "Jean-Pierre", "Élodie": a capital then at least one lower-case letter, no digits. */
static int is_capitalised(const struct word *w)
{
  int lower = 0;

  if (w->len < 2 || !is_upper_at(w->s, w->len))
    return 0;
  for (size_t i = 1; i < w->len; i++) {
    if (is_digit_ascii(w->s[i]))
      return 0;
    if (is_lower_ascii(w->s[i]) || (w->s[i] >= 0xA0 && w->s[i] <= 0xBF && w->s[i - 1] == 0xC3))
      lower = 1;
  }
  return lower;
}

/* "DUPONT": only capitals (and hyphens), at least min letters. */
static int is_all_caps(const struct word *w, size_t min)
{
  size_t letters = 0;

  for (size_t i = 0; i < w->len; i++) {
    unsigned char c = w->s[i];

    if (is_upper_ascii(c))
      letters++;
    else if (c == 0xC3 && i + 1 < w->len && w->s[i + 1] >= 0x80 && w->s[i + 1] <= 0x9E) {
      i++;
      letters++;
    } else if (c != '-')
      return 0;
  }
  return letters >= min;
}

static int names_pair(const struct word *a, const struct word *b)
{
  int b_name = is_capitalised(b) || is_all_caps(b, 2);

  if (!b->follows_space)
    return 0;
  if (in_list(a, titles) && b_name)
    return 1; /* Dr Martin, Mme DURAND */
  if (!b_name && !is_all_caps(a, 2))
    return 0; /* the cheap tests first: a list lookup costs a binary search */
  if (b_name && (is_capitalised(a) || is_all_caps(a, 3)) && is_first_name(a))
    return 1; /* Jean Dupont, Marie DURAND, JEAN DUPONT */
  if (is_all_caps(a, 2) && (is_capitalised(b) || is_all_caps(b, 3)) && is_first_name(b))
    return 1; /* DUPONT Jean, DUPONT JEAN */
  if (is_capitalised(a) && !a->sentence_start && !b->sentence_start && (is_capitalised(b) || is_all_caps(b, 3)) &&
      (anon_is_last_name((const char *)b->s, b->len) || anon_is_last_name((const char *)a->s, a->len)))
    return 1; /* ... vu par Garnier Lefebvre; not "Image Library", "Paris Nord" */
  return 0;
}

static int is_letters(const struct word *w)
{
  for (size_t i = 0; i < w->len; i++) {
    if (is_digit_ascii(w->s[i]))
      return 0;
  }
  return w->len >= 2;
}

/* A single capital letter, ASCII or Latin-1 (É). */
static int is_initial(const struct word *w)
{
  if (w->len == 1)
    return is_upper_ascii(w->s[0]);
  return w->len == 2 && w->s[0] == 0xC3 && w->s[1] >= 0x80 && w->s[1] <= 0x9E && w->s[1] != 0x97;
}

/* Does the text from p to end finish with a file extension ("...2019.tif")? */
static int has_extension(const unsigned char *p, const unsigned char *end)
{
  const unsigned char *dot = NULL;

  for (const unsigned char *q = p; q < end; q++) {
    if (*q == ' ')
      return 0;
    if (*q == '.')
      dot = q;
  }
  if (dot == NULL || end - dot < 2 || end - dot > 6)
    return 0;
  for (const unsigned char *q = dot + 1; q < end; q++) {
    if (!is_alnum_ascii(*q))
      return 0;
  }
  return 1;
}

/* Pairs whose separator says they are a name however they are capitalised:
 *   "DUPONT^JEAN" (a DICOM person name), "Dupont, Jean", and names in file names: "DUPONT_J_biopsy.tif",
 *   "dupont_jean_2019.svs". gap is the bytes between the two words. */
static int names_joined(const struct word *a, const struct word *b, const unsigned char *gap, size_t gap_len,
                        const unsigned char *end)
{
  if (gap_len == 1 && gap[0] == '^')
    return is_letters(a) && is_letters(b);
  if (gap_len == 2 && gap[0] == ',' && gap[1] == ' ')
    return (is_capitalised(a) || is_all_caps(a, 3)) && is_capitalised(b) && is_first_name(b);
  if (gap_len != 1 || (gap[0] != '_' && gap[0] != '-' && gap[0] != '.'))
    return 0;
  if (is_initial(b) && (b->s + b->len == end || b->s[b->len] == '_' || b->s[b->len] == '.'))
    return is_all_caps(a, 4) || (is_all_caps(a, 3) && anon_is_last_name((const char *)a->s, a->len));
  if (!is_letters(a) || !is_letters(b) || !is_first_name(b) || a->len < 3)
    return 0;
  /* dupont_jean: a known surname, or any word in a file name ("name.ext") */
  return anon_is_last_name((const char *)a->s, a->len) || has_extension(b->s + b->len, end);
}

/* Words that start the name of an institution: "Hôpital Henri Mondor", "Centre Léon Bérard", "Institut
   Gustave Roussy" name places, not patients. Compared normalised. */
static const char *const institution_words[] = {
  "hopital",  "hospital",   "chu",        "chr",     "ch",           "chi",       "centre",      "center",
  "institut", "institute",  "clinique",   "clinic",  "polyclinique", "fondation", "foundation",  "groupe",
  "gh",       "universite", "university", "faculte", "pole",         "unite",     "laboratoire", "maternite",
  "ehpad",    "lycee",      "ecole",      "college", "musee",        "service",   NULL};

static int is_institution_word(const struct word *w)
{
  char raw[32], norm[32];
  unsigned char c = w->s[0] | 0x20;

  if (w->len < 2 || w->len >= sizeof(raw) || strchr("hciegpuflms", c) == NULL)
    return 0;
  memcpy(raw, w->s, w->len);
  raw[w->len] = '\0';
  anon_name_normalize(raw, norm, sizeof(norm));
  for (size_t i = 0; institution_words[i] != NULL; i++) {
    if (strcmp(institution_words[i], norm) == 0)
      return 1;
  }
  return 0;
}

/* Finds the first pair of words naming a person in s[0..len): returns 1 with [*start, *end) their span. */
static int names_span(const unsigned char *s, size_t len, size_t *start, size_t *end)
{
  struct word prev = {NULL, 0, 1, 0}, cur;
  int sentence_start = 1, blanks_only = 0, institution = 0;
  size_t i = 0;

  while (i < len) {
    if (!is_word_byte(s[i])) {
      if (s[i] == '.' || s[i] == '!' || s[i] == '?' || s[i] == ':' || s[i] == ';' || s[i] == '\n') {
        /* "M." and "Dr." are titles, not the end of a sentence */
        if (!(s[i] == '.' && prev.s != NULL && prev.s + prev.len == s + i && in_list(&prev, titles)))
          sentence_start = 1;
        institution = 0;
      }
      if (s[i] == ',')
        institution = 0;
      if (!(s[i] == ' ' || s[i] == '\t' || (s[i] == '.' && !sentence_start)))
        blanks_only = 0;
      i++;
      continue;
    }
    cur.s = s + i;
    while (i < len && is_word_byte(s[i]))
      i++;
    cur.len = (size_t)(s + i - cur.s);
    cur.sentence_start = sentence_start;
    cur.follows_space = blanks_only && prev.s != NULL;
    institution |= is_institution_word(&cur);
    if (prev.s != NULL &&
        (((!institution || in_list(&prev, titles)) && names_pair(&prev, &cur)) ||
         names_joined(&prev, &cur, prev.s + prev.len, (size_t)(cur.s - prev.s - prev.len), s + len))) {
      *start = (size_t)(prev.s - s); /* "Service du Dr Martin" still names a person */
      *end = (size_t)(cur.s + cur.len - s);
      return 1;
    }
    prev = cur;
    sentence_start = 0;
    blanks_only = 1;
  }
  return 0;
}

static int names_in(const unsigned char *s, size_t len)
{
  size_t start, end;

  return names_span(s, len, &start, &end);
}

/* The whole value is one capitalised or upper-case word (hyphens allowed) found in a name list. */
static int lone_name(const unsigned char *s, size_t len)
{
  struct word w = {s, len, 0, 0};

  for (size_t i = 0; i < len; i++) {
    if (!is_word_byte(s[i]) || s[i] == '\'')
      return 0;
  }
  return (is_capitalised(&w) || is_all_caps(&w, 3)) && (is_first_name(&w) || anon_is_last_name((const char *)s, len));
}

/* ---- dates of birth in free text ---- */

static const char *const birth_words[] = {"ne le", "nee le", "ne(e) le", "ne en", "nee en", "naissance", "ddn",
                                          "naiss", "born",   "dob",      "d.o.b", "birth",  NULL};

/* Does the text just before position i (up to 40 bytes, case and accents folded) announce a birth date? */
static int birth_context(const unsigned char *s, size_t i)
{
  char low[48];
  size_t start = i > 40 ? i - 40 : 0, n = 0;

  for (size_t p = start; p < i && n + 1 < sizeof(low); p++) {
    unsigned char c = s[p];

    if (c == 0xC3 && p + 1 < i && (s[p + 1] == 0xA9 || s[p + 1] == 0x89)) { /* é É */
      low[n++] = 'e';
      p++;
      continue;
    }
    low[n++] = (char)(is_upper_ascii(c) ? c - 'A' + 'a' : c);
  }
  low[n] = '\0';
  for (size_t w = 0; birth_words[w] != NULL; w++) {
    const char *hit = strstr(low, birth_words[w]);

    /* a word of its own: "ne le" must not be the end of "une le..." */
    while (hit != NULL && hit > low && is_lower_ascii((unsigned char)hit[-1]))
      hit = strstr(hit + 1, birth_words[w]);
    if (hit != NULL)
      return 1;
  }
  return 0;
}

static int birth_date_in_text(const unsigned char *s, size_t len)
{
  int year;

  for (size_t i = 1; i < len; i++) {
    if (is_alnum_ascii(s[i - 1]) || !is_alnum_ascii(s[i]))
      continue;
    if (anon_date_at((const char *)s, len, i, &year) > 0 && birth_context(s, i))
      return 1;
  }
  return 0;
}

/* ---- whole-value classes ---- */

static unsigned token_class(const unsigned char *s, size_t len)
{
  size_t hex = 0, end = len;
  int letter_af = 0, upper = 0, lower = 0, digit = 0, b64 = 1, hexish = 1;

  while (end > 0 && s[end - 1] == '=' && len - end < 2)
    end--;
  for (size_t i = 0; i < end; i++) {
    unsigned char c = s[i];

    if (is_digit_ascii(c)) {
      digit = 1;
      hex++;
    } else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
      letter_af = 1;
      hex++;
    }
    if (is_upper_ascii(c))
      upper = 1;
    else if (is_lower_ascii(c))
      lower = 1;
    if (!(is_digit_ascii(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-'))
      hexish = 0;
    if (!(is_alnum_ascii(c) || c == '+' || c == '/' || c == '_' || c == '-'))
      b64 = 0;
  }
  if (hexish && end == len && hex >= 16 && letter_af && digit)
    return ANON_V_HEX_TOKEN;
  if (b64 && end >= 16 && upper && lower && digit)
    return ANON_V_B64_TOKEN;
  return 0;
}

static int icd10(const unsigned char *s, size_t len)
{
  size_t i = 3;

  if (len < 3 || len > 8 || !is_upper_ascii(s[0]) || !is_digit_ascii(s[1]) || !is_digit_ascii(s[2]))
    return 0;
  if (i < len && s[i] == '.')
    i++;
  if (i == len && len > 3)
    return 0;
  for (; i < len; i++) {
    if (!is_digit_ascii(s[i]) && !is_upper_ascii(s[i]) && s[i] != '+' && s[i] != '*')
      return 0;
  }
  return 1;
}

unsigned anon_value_scan(const char *value, size_t len, int *year)
{
  const unsigned char *s = (const unsigned char *)value;
  size_t digits = 0;
  int at = 0, space = 0, upper = 0, joiner = 0, colon = 0;
  unsigned bits = 0;
  struct anon_date d;

  for (size_t i = 0; i < len; i++) {
    unsigned char c = s[i];

    if (is_digit_ascii(c))
      digits++;
    else if (c == '@')
      at = 1;
    else if (c == ' ')
      space = 1;
    else if (is_upper_ascii(c) || c == 0xC3)
      upper = 1;
    else if (c == '_' || c == '^' || c == ',')
      joiner = 1;
    else if (c == ':')
      colon = 1;
  }
  if (at && email_in(s, len))
    bits |= ANON_V_EMAIL;
  if (digits >= 8 && phone_in(s, len))
    bits |= ANON_V_PHONE;
  if (digits >= 13)
    bits |= nir_in(s, len);
  if (digits == 9 || digits == 11)
    bits |= stripped_phone(s, len) ? ANON_W_PHONE : 0;
  if (digits >= 7 && len >= 9) /* a codice fiscale has 7 digits, a DNI 8 */
    bits |= anon_national_in(s, len);
  if (digits >= 11 && upper && anon_iban_in(s, len))
    bits |= ANON_V_IBAN;
  if (colon && len >= 3 && anon_ipv6_in(s, len))
    bits |= ANON_V_IPV6;
  if (!space && digits == 0 && len >= 3 && len < 40 && lone_name(s, len))
    bits |= ANON_W_NAME;
  if (digits >= 4 && ipv4_in(s, len))
    bits |= ANON_V_IPV4;
  if ((space || joiner) && names_in(s, len))
    bits |= ANON_V_NAMES;
  if (space && digits >= 2 && len > 12 && birth_date_in_text(s, len))
    bits |= ANON_V_BIRTH_TEXT;
  if (digits >= 8 && anon_date_parse(value, len, &d) == 0) {
    bits |= ANON_V_DATE;
    if (year != NULL)
      *year = d.year;
  } else if (digits >= 4 && len <= 24) {
    int y = 0;

    if (anon_date_at(value, len, 0, &y) == len) {
      bits |= ANON_V_DATE;
      if (year != NULL)
        *year = y;
    }
  }
  if (!space && len >= 16)
    bits |= token_class(s, len);
  if (len >= 3 && len <= 8 && icd10(s, len))
    bits |= ANON_V_ICD10;
  return bits;
}

/* ---- redaction of free text ---- */

enum redact_kind { R_NONE, R_NOM, R_DATE, R_NIR, R_TEL, R_EMAIL, R_IBAN, R_ID, R_IP };
static const char *const placeholders[] = {"",        "<NOM>",  "<DATE>", "<NIR>", "<TEL>",
                                           "<EMAIL>", "<IBAN>", "<ID>",   "<IP>"};

static void mark_span(unsigned char *mark, size_t a, size_t b, unsigned char kind)
{
  for (size_t i = a; i < b; i++) {
    if (mark[i] == R_NONE)
      mark[i] = kind;
  }
}

/* E-mail addresses: around each '@', the longest local part and domain that make one. */
static void mark_emails(const unsigned char *s, size_t len, unsigned char *mark)
{
  for (size_t at = 1; at + 1 < len; at++) {
    size_t l = at, r = at + 1;

    if (s[at] != '@')
      continue;
    while (l > 0 && is_email_local(s[l - 1]))
      l--;
    while (r < len && is_email_domain(s[r]))
      r++;
    while (r > at + 1 && s[r - 1] == '.')
      r--;
    if (email_in(s + l, r - l))
      mark_span(mark, l, r, R_EMAIL);
  }
}

/* The identifier starting at i, if any: its kind, and its end in *end. */
static unsigned char identifier_at(const unsigned char *s, size_t len, size_t i, size_t *end)
{
  size_t n;
  int year;

  n = anon_iban_at(s, len, i);
  if (n > 0) {
    *end = i + n;
    return R_IBAN;
  }
  if (strchr("123478", s[i]) != NULL && s[i] != '\0' && !glued_before(s, i) && nir_at(s, len, i, end) != 0)
    return R_NIR;
  if (any_phone_at(s, len, i, end))
    return R_TEL;
  if (anon_national_at(s, len, i, &n) != 0 && n > 0) {
    *end = i + n;
    return R_ID;
  }
  n = anon_ipv6_at(s, len, i);
  if (n > 0) {
    *end = i + n;
    return R_IP;
  }
  if (ipv4_at(s, len, i, end))
    return R_IP;
  if (!glued_before(s, i)) {
    n = anon_date_at((const char *)s, len, i, &year);
    if (n > 0 && !glued_after(s, len, i + n)) {
      *end = i + n;
      return R_DATE;
    }
  }
  return R_NONE;
}

size_t anon_redact(const char *text, size_t len, char *out, size_t outcap)
{
  const unsigned char *s = (const unsigned char *)text;
  unsigned char *mark = calloc(len + 1, 1);
  size_t o = 0, pos = 0, a, b;

  if (mark == NULL || outcap < 8 * len + 16) { /* a placeholder is at most 7 bytes, a run at least 1 */
    free(mark);
    return (size_t)-1;
  }
  mark_emails(s, len, mark);
  for (size_t i = 0; i < len; i++) {
    size_t end = 0;
    unsigned char kind;

    if (mark[i] != R_NONE || (i > 0 && is_alnum_ascii(s[i - 1]) && s[i] != '+'))
      continue;
    kind = identifier_at(s, len, i, &end);
    if (kind != R_NONE && end > i) {
      mark_span(mark, i, end, kind);
      i = end - 1;
    }
  }
  while (pos < len && names_span(s + pos, len - pos, &a, &b)) {
    mark_span(mark, pos + a, pos + b, R_NOM);
    pos += b;
  }
  for (size_t i = 0; i < len;) {
    if (mark[i] == R_NONE) {
      out[o++] = (char)s[i++];
      continue;
    }
    const char *ph = placeholders[mark[i]];
    size_t n = strlen(ph);
    unsigned char kind = mark[i];

    memcpy(out + o, ph, n);
    o += n;
    while (i < len && mark[i] == kind)
      i++;
  }
  out[o] = '\0';
  free(mark);
  return o;
}
