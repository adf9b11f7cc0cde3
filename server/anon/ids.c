/* ids.c: identifiers with a checksum or a fixed shape, found anywhere inside a value.
 *
 * Strong forms are identifiers on their own: an IBAN whose mod-97 check holds, a Belgian national number
 * written with its dots and dash, a Spanish DNI or NIE with its letter, an Italian codice fiscale with its
 * check character, a Swiss AVS number (756...) with its EAN-13 check, a UK NHS number written 3-3-4, an IPv6
 * address. Weak forms are bare digit strings that pass a checksum by chance often enough (about 1 in 10 to
 * 1 in 100) that one value proves nothing: the check flags a column when most of its values are weak hits
 * (check.c). Every rule is documented in docs/anonymity.md; change both together.
 */
#include <string.h>

#include "anon_internal.h"

static int is_digit(unsigned char c)
{
  return c >= '0' && c <= '9';
}

static int is_upper(unsigned char c)
{
  return c >= 'A' && c <= 'Z';
}

static int is_alnum(unsigned char c)
{
  return is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z');
}

static int is_hex(unsigned char c)
{
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* ---- IBAN ---- */

/* IBAN lengths of the countries whose accounts French health data may hold (ISO 13616 registry). */
static const struct {
  char cc[3];
  int len;
} iban_lengths[] = {
  {"FR", 27}, {"MC", 27}, {"DE", 22}, {"BE", 16}, {"LU", 20}, {"CH", 21}, {"LI", 21}, {"IT", 27}, {"SM", 27},
  {"ES", 24}, {"AD", 24}, {"PT", 25}, {"NL", 18}, {"GB", 22}, {"IE", 22}, {"AT", 20}, {"DK", 18}, {"SE", 24},
  {"NO", 15}, {"FI", 18}, {"PL", 28}, {"CZ", 24}, {"SK", 24}, {"HU", 28}, {"RO", 24}, {"BG", 22}, {"GR", 27},
  {"HR", 21}, {"SI", 19}, {"EE", 20}, {"LV", 21}, {"LT", 20}, {"MT", 31}, {"CY", 28}, {"MA", 28}, {"TN", 24},
  {"DZ", 26}, {"SN", 28}, {"CI", 28}, {"TR", 26}, {"GP", 27}, {"MQ", 27}, {"RE", 27}, {"NC", 27}, {"PF", 27},
};

static int iban_length(const unsigned char *cc)
{
  for (size_t i = 0; i < sizeof(iban_lengths) / sizeof(iban_lengths[0]); i++) {
    if (iban_lengths[i].cc[0] == (char)cc[0] && iban_lengths[i].cc[1] == (char)cc[1])
      return iban_lengths[i].len;
  }
  return 0;
}

/* mod 97 of the IBAN u[0..n) rearranged (first four characters moved to the end, letters as 10..35). */
static int iban_mod97(const char *u, int n)
{
  int r = 0;

  for (int k = 0; k < n; k++) {
    unsigned char c = (unsigned char)u[(k + 4) % n];

    if (is_digit(c))
      r = (r * 10 + (c - '0')) % 97;
    else
      r = (r * 100 + (c - 'A' + 10)) % 97;
  }
  return r;
}

size_t anon_iban_at(const unsigned char *s, size_t len, size_t i)
{
  char u[34];
  int want, n = 0;
  size_t p = i;

  if (i + 15 > len || !is_upper(s[i]) || !is_upper(s[i + 1]) || !is_digit(s[i + 2]) || !is_digit(s[i + 3]) ||
      (i > 0 && is_alnum(s[i - 1])))
    return 0;
  want = iban_length(s + i);
  if (want == 0)
    return 0;
  while (p < len && n < want) {
    unsigned char c = s[p];

    if (c == ' ' && n > 0 && n % 4 == 0 && p + 1 < len && is_alnum(s[p + 1])) { /* groups of four */
      p++;
      continue;
    }
    if (!is_alnum(c))
      break;
    u[n++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    p++;
  }
  if (n != want || (p < len && is_alnum(s[p])))
    return 0;
  return iban_mod97(u, n) == 1 ? p - i : 0;
}

int anon_iban_in(const unsigned char *s, size_t len)
{
  for (size_t i = 0; i + 15 <= len; i++) {
    if (anon_iban_at(s, len, i) > 0)
      return 1;
  }
  return 0;
}

/* ---- national identifiers ---- */

/* Gathers up to max digits from s[*p], skipping the separators in seps between them; stops at anything else.
   Returns the count; the digits go to out. */
static int gather_digits(const unsigned char *s, size_t len, size_t *p, const char *seps, int max, char *out,
                         int *n_seps)
{
  int n = 0;

  *n_seps = 0;
  while (*p < len && n < max) {
    if (is_digit(s[*p])) {
      out[n++] = (char)s[*p];
      (*p)++;
    } else if (n > 0 && strchr(seps, s[*p]) != NULL && s[*p] != '\0' && *p + 1 < len && is_digit(s[*p + 1])) {
      (*n_seps)++;
      (*p)++;
    } else {
      break;
    }
  }
  return n;
}

static long long number_of(const char *d, int n)
{
  long long v = 0;

  for (int i = 0; i < n; i++)
    v = v * 10 + (d[i] - '0');
  return v;
}

/* Belgian national number YYMMDD SSS CC: CC = 97 - (first nine mod 97), or with 2 prepended for 2000 births. */
static int be_nn_valid(const char d[11])
{
  long long first = number_of(d, 9), cc = number_of(d + 9, 2);
  int mm = (d[2] - '0') * 10 + (d[3] - '0'), dd = (d[4] - '0') * 10 + (d[5] - '0');

  if (mm > 12 || dd > 31) /* 00 is allowed: birth date partly unknown */
    return 0;
  return cc == 97 - first % 97 || cc == 97 - (2000000000LL + first) % 97;
}

/* German tax id (Steuer-ID): 11 digits, first not 0, ISO 7064 MOD 11,10 check digit. */
static int de_taxid_valid(const char d[11])
{
  int product = 10;

  if (d[0] == '0')
    return 0;
  for (int i = 0; i < 10; i++) {
    int sum = (d[i] - '0' + product) % 10;

    if (sum == 0)
      sum = 10;
    product = (sum * 2) % 11;
  }
  return (11 - product) % 10 == d[10] - '0';
}

/* UK NHS number: 10 digits, weights 10..2, check = 11 - (sum mod 11), 11 -> 0, 10 invalid. */
static int nhs_valid(const char d[10])
{
  int sum = 0, check;

  for (int i = 0; i < 9; i++)
    sum += (d[i] - '0') * (10 - i);
  check = 11 - sum % 11;
  if (check == 11)
    check = 0;
  return check != 10 && check == d[9] - '0';
}

/* EAN-13 check digit, as the Swiss AVS number (756.XXXX.XXXX.XX) uses it. */
static int ean13_valid(const char d[13])
{
  int sum = 0;

  for (int i = 0; i < 12; i++)
    sum += (d[i] - '0') * (i % 2 == 0 ? 1 : 3);
  return (10 - sum % 10) % 10 == d[12] - '0';
}

/* Luxembourg's national identification number: YYYYMMDD, 3 digits, a Luhn check digit and a Verhoeff check
   digit, both over the first 11 digits. */
static int lu_valid(const char d[13])
{
  static const unsigned char mul[10][10] = {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
                                            {2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
                                            {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
                                            {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
                                            {8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}};
  static const unsigned char perm[8][10] = {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
                                            {5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
                                            {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
                                            {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}};
  static const unsigned char inv[10] = {0, 4, 3, 2, 1, 5, 6, 7, 8, 9};
  int year = (int)number_of(d, 4), month = (int)number_of(d + 4, 2), day = (int)number_of(d + 6, 2), sum = 0, c = 0;

  if (year < 1900 || year > 2100 || month < 1 || month > 12 || day < 1 || day > 31)
    return 0;
  for (int i = 10, k = 0; i >= 0; i--, k++) { /* Luhn: double every other digit from the right of the payload */
    int v = d[i] - '0';

    if (k % 2 == 0)
      v = v * 2 > 9 ? v * 2 - 9 : v * 2;
    sum += v;
  }
  if ((10 - sum % 10) % 10 != d[11] - '0')
    return 0;
  for (int i = 10, k = 1; i >= 0; i--, k++) /* Verhoeff: the check digit would take position 0 */
    c = mul[c][perm[k % 8][d[i] - '0']];
  return inv[c] == d[12] - '0';
}

static const char dni_letters[] = "TRWAGMYFPDXBNJZSQVHLCKE";

/* Spanish DNI (8 digits + letter) or NIE (X, Y or Z + 7 digits + letter) at s[i], optional '-' or ' '. */
static size_t dni_at(const unsigned char *s, size_t len, size_t i)
{
  char d[9];
  size_t p = i;
  int n = 0;
  long long v;

  if (s[p] == 'X' || s[p] == 'Y' || s[p] == 'Z') {
    d[n++] = (char)('0' + (s[p] - 'X'));
    p++;
  }
  while (p < len && is_digit(s[p]) && n < 8)
    d[n++] = (char)s[p++];
  if (n != 8 || (p < len && is_digit(s[p])))
    return 0;
  if (p < len && (s[p] == '-' || s[p] == ' '))
    p++;
  if (p >= len || !is_upper(s[p]) || (p + 1 < len && is_alnum(s[p + 1])))
    return 0;
  v = number_of(d, 8);
  return dni_letters[v % 23] == (char)s[p] ? p + 1 - i : 0;
}

/* Italian codice fiscale: 6 letters, 2 digits, a month letter, 2 digits, a letter, 3 digits, a check letter
   (digits may be replaced by LMNPQRSTUV for homocodes). */
static size_t cf_at(const unsigned char *s, size_t len, size_t i)
{
  static const char shape[] = "AAAAAANNANNANNNA";
  static const int odd[36] = {1,  0,  5, 7, 9,  13, 15, 17, 19, 21, 1,  0,  5,  7,  9,  13, 15, 17,
                              19, 21, 2, 4, 18, 20, 11, 3,  6,  8,  12, 14, 16, 10, 22, 25, 24, 23};
  int sum = 0;

  if (i + 16 > len || (i + 16 < len && is_alnum(s[i + 16])))
    return 0;
  for (int k = 0; k < 16; k++) {
    unsigned char c = s[i + k];

    if (shape[k] == 'A' && !is_upper(c))
      return 0;
    if (shape[k] == 'N' && !is_digit(c) && strchr("LMNPQRSTUV", c) == NULL)
      return 0;
  }
  if (strchr("ABCDEHLMPRST", s[i + 8]) == NULL)
    return 0;
  for (int k = 0; k < 15; k++) {
    unsigned char c = s[i + k];
    int v = is_digit(c) ? c - '0' : c - 'A' + 10; /* odd table indexed 0-9 then A-Z */
    int even_v = is_digit(c) ? c - '0' : c - 'A';

    sum += k % 2 == 0 ? odd[v] : even_v;
  }
  return s[i + 15] == 'A' + sum % 26 ? 16 : 0;
}

/* Looks for national identifiers starting at s[i]. Returns ANON_V_NATIONAL_ID for a strong form,
   ANON_W_NATIONAL_ID for a weak one, 0 for none; *n_bytes is the match's length. */
unsigned anon_national_at(const unsigned char *s, size_t len, size_t i, size_t *n_bytes)
{
  char d[16];
  size_t p = i, m;
  int n, seps;

  if (i > 0 && (is_alnum(s[i - 1]) || ((s[i - 1] == '.' || s[i - 1] == ',') && i >= 2 && is_digit(s[i - 2]))))
    return 0;
  m = dni_at(s, len, i);
  if (m == 0 && is_upper(s[i]))
    m = cf_at(s, len, i);
  if (m > 0 || is_upper(s[i])) {
    *n_bytes = m;
    return m > 0 ? ANON_V_NATIONAL_ID : 0;
  }
  n = gather_digits(s, len, &p, ".- ", 13, d, &seps);
  if (p < len && is_alnum(s[p]))
    return 0;
  *n_bytes = p - i;
  if (n == 11 && be_nn_valid(d)) /* 85.07.30-033.28 */
    return seps >= 2 ? ANON_V_NATIONAL_ID : ANON_W_NATIONAL_ID;
  if (n == 13 && d[0] == '7' && d[1] == '5' && d[2] == '6' && ean13_valid(d)) /* 756.1234.5678.97 */
    return seps >= 2 ? ANON_V_NATIONAL_ID : ANON_W_NATIONAL_ID;
  if (n == 13 && lu_valid(d)) /* 1983 0101 123 45 */
    return seps >= 2 ? ANON_V_NATIONAL_ID : ANON_W_NATIONAL_ID;
  if (n == 10 && nhs_valid(d)) /* 943 476 5919 */
    return seps == 2 && s[i + 3] == s[i + 7] && (s[i + 3] == ' ' || s[i + 3] == '-') ? ANON_V_NATIONAL_ID
                                                                                     : ANON_W_NATIONAL_ID;
  if (n == 11 && seps == 0 && de_taxid_valid(d))
    return ANON_W_NATIONAL_ID;
  return 0;
}

unsigned anon_national_in(const unsigned char *s, size_t len)
{
  unsigned found = 0;

  size_t n;

  for (size_t i = 0; i + 9 <= len && !(found & ANON_V_NATIONAL_ID); i++) {
    if (is_digit(s[i]) || is_upper(s[i]))
      found |= anon_national_at(s, len, i, &n);
  }
  return found;
}

/* ---- IPv6 ---- */

size_t anon_ipv6_at(const unsigned char *s, size_t len, size_t i)
{
  size_t p = i;
  int groups = 0, double_colon = 0, hex_letter = 0;

  if (p + 1 < len && s[p] == ':' && s[p + 1] == ':') {
    double_colon = 1;
    p += 2;
  }
  while (p < len) {
    int n = 0;

    while (p < len && is_hex(s[p]) && n < 5) {
      hex_letter |= !is_digit(s[p]);
      p++;
      n++;
    }
    if (n == 5)
      return 0;
    if (n > 0)
      groups++;
    else if (!(double_colon && groups == 0 && p == i + 2))
      break;
    if (p + 1 < len && s[p] == ':' && s[p + 1] == ':' && !double_colon) {
      double_colon = 1;
      p += 2;
      continue;
    }
    if (p + 1 < len && s[p] == ':' && is_hex(s[p + 1])) {
      p++;
      continue;
    }
    break;
  }
  if ((i > 0 && (is_alnum(s[i - 1]) || s[i - 1] == ':')) || (p < len && (is_alnum(s[p]) || s[p] == ':')))
    return 0;
  if (double_colon)
    return groups >= 1 && groups <= 7 && (hex_letter || groups >= 2) ? p - i : 0;
  return groups == 8 ? p - i : 0;
}

int anon_ipv6_in(const unsigned char *s, size_t len)
{
  for (size_t i = 0; i + 3 <= len; i++) {
    if ((is_hex(s[i]) || s[i] == ':') && anon_ipv6_at(s, len, i) > 0)
      return 1;
  }
  return 0;
}
