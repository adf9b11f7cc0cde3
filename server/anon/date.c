/* date.c: calendar dates for the anon module.
 *
 * The checker recognises exact dates (a quasi-identifier, or a date of birth) and the pseudonymizer shifts
 * them by whole days while keeping each value's own format, so both need one parser and exact day arithmetic.
 * Day-first is assumed for slashed dates (DD/MM/YYYY), as in French data.
 */
#include <stdio.h>
#include <string.h>

#include "anon_internal.h"

static int is_digit(char c)
{
  return c >= '0' && c <= '9';
}

/* Reads n digits at s into *v; returns 0 or -1. */
static int digits(const char *s, int n, int *v)
{
  int x = 0;

  for (int i = 0; i < n; i++) {
    if (!is_digit(s[i]))
      return -1;
    x = x * 10 + (s[i] - '0');
  }
  *v = x;
  return 0;
}

static int days_in_month(int y, int m)
{
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

  return m == 2 && leap ? 29 : days[m - 1];
}

int anon_date_parse(const char *s, size_t len, struct anon_date *d)
{
  if (len < 10)
    return -1;
  if (is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3])) {
    char sep = s[4];

    if ((sep != '-' && sep != '/') || s[7] != sep)
      return -1;
    if (digits(s, 4, &d->year) != 0 || digits(s + 5, 2, &d->month) != 0 || digits(s + 8, 2, &d->day) != 0)
      return -1;
    d->format = sep == '-' ? ANON_DATE_ISO : ANON_DATE_ISO_SLASH;
  } else {
    char sep = s[2];

    if ((sep != '/' && sep != '-' && sep != '.') || s[5] != sep)
      return -1;
    if (digits(s, 2, &d->day) != 0 || digits(s + 3, 2, &d->month) != 0 || digits(s + 6, 4, &d->year) != 0)
      return -1;
    d->format = sep == '/' ? ANON_DATE_DMY_SLASH : sep == '-' ? ANON_DATE_DMY_DASH : ANON_DATE_DMY_DOT;
  }
  if (d->year < 1000 || d->month < 1 || d->month > 12 || d->day < 1 || d->day > days_in_month(d->year, d->month))
    return -1;
  d->date_len = 10;
  if (len == 10)
    return 0;
  /* A time may follow: "T12:30", " 12:30:00", "T12:30:00Z"... it must start with HH:MM. */
  if ((s[10] != 'T' && s[10] != ' ') || len < 16 || !is_digit(s[11]) || !is_digit(s[12]) || s[13] != ':' ||
      !is_digit(s[14]) || !is_digit(s[15]))
    return -1;
  return 0;
}

/* Howard Hinnant's days_from_civil / civil_from_days, exact over the proleptic Gregorian calendar. */
long anon_days_from_civil(int y, int m, int d)
{
  long yy = y - (m <= 2);
  long era = (yy >= 0 ? yy : yy - 399) / 400;
  long yoe = yy - era * 400;
  long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

  return era * 146097 + doe - 719468;
}

void anon_civil_from_days(long z, int *y, int *m, int *d)
{
  long era, doe, yoe, doy, mp;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

size_t anon_date_format(const struct anon_date *d, char *out, size_t outlen)
{
  int n;

  switch (d->format) {
  case ANON_DATE_ISO:
    n = snprintf(out, outlen, "%04d-%02d-%02d", d->year, d->month, d->day);
    break;
  case ANON_DATE_ISO_SLASH:
    n = snprintf(out, outlen, "%04d/%02d/%02d", d->year, d->month, d->day);
    break;
  case ANON_DATE_DMY_SLASH:
    n = snprintf(out, outlen, "%02d/%02d/%04d", d->day, d->month, d->year);
    break;
  case ANON_DATE_DMY_DASH:
    n = snprintf(out, outlen, "%02d-%02d-%04d", d->day, d->month, d->year);
    break;
  default:
    n = snprintf(out, outlen, "%02d.%02d.%04d", d->day, d->month, d->year);
    break;
  }
  if (n < 0)
    return 0;
  return (size_t)n < outlen ? (size_t)n : outlen - 1;
}

/* ---- dates written any way, for detection only ---- */

/* Month names, French and English, full and abbreviated, compared without case or accents. */
static const struct {
  const char *name;
  int month;
} month_names[] = {
  {"janvier", 1},   {"janv", 1},      {"january", 1}, {"jan", 1},       {"fevrier", 2},   {"fevr", 2},     {"fev", 2},
  {"february", 2},  {"feb", 2},       {"mars", 3},    {"march", 3},     {"mar", 3},       {"avril", 4},    {"avr", 4},
  {"april", 4},     {"apr", 4},       {"mai", 5},     {"may", 5},       {"juin", 6},      {"june", 6},     {"jun", 6},
  {"juillet", 7},   {"juil", 7},      {"july", 7},    {"jul", 7},       {"aout", 8},      {"august", 8},   {"aug", 8},
  {"septembre", 9}, {"september", 9}, {"sept", 9},    {"sep", 9},       {"octobre", 10},  {"october", 10}, {"oct", 10},
  {"novembre", 11}, {"november", 11}, {"nov", 11},    {"decembre", 12}, {"december", 12}, {"dec", 12},
};

/* Reads a month name at s[i..len) (letters, Latin-1 accents folded), then an optional '.'. Returns the month
   and sets *end, or 0. */
static int month_at(const char *s, size_t len, size_t i, size_t *end)
{
  char word[16];
  size_t w = 0, p = i;

  while (p < len && w + 1 < sizeof(word)) {
    unsigned char c = (unsigned char)s[p];

    if (c >= 'A' && c <= 'Z')
      c = (unsigned char)(c - 'A' + 'a');
    if (c >= 'a' && c <= 'z') {
      word[w++] = (char)c;
      p++;
    } else if (c == 0xC3 && p + 1 < len && ((unsigned char)s[p + 1] == 0xA9 || (unsigned char)s[p + 1] == 0x89)) {
      word[w++] = 'e'; /* é É */
      p += 2;
    } else if (c == 0xC3 && p + 1 < len && ((unsigned char)s[p + 1] == 0xBB || (unsigned char)s[p + 1] == 0x9B)) {
      word[w++] = 'u'; /* û Û */
      p += 2;
    } else {
      break;
    }
  }
  if (p < len && ((s[p] >= 'a' && s[p] <= 'z') || (s[p] >= 'A' && s[p] <= 'Z')))
    return 0;
  word[w] = '\0';
  for (size_t m = 0; w > 0 && m < sizeof(month_names) / sizeof(month_names[0]); m++) {
    if (strcmp(word, month_names[m].name) == 0) {
      if (p < len && s[p] == '.')
        p++;
      *end = p;
      return month_names[m].month;
    }
  }
  return 0;
}

/* Reads 1 to max digits at s[*p], not followed by another digit. Returns the count read (0: none). */
static int number_at(const char *s, size_t len, size_t *p, int max, int *v)
{
  int n = 0, x = 0;

  while (*p < len && is_digit(s[*p]) && n < max) {
    x = x * 10 + (s[*p] - '0');
    (*p)++;
    n++;
  }
  if (*p < len && is_digit(s[*p]))
    return 0;
  *v = x;
  return n;
}

static size_t skip_blanks(const char *s, size_t len, size_t p)
{
  while (p < len && s[p] == ' ')
    p++;
  return p;
}

/* Two-digit years: 00-30 are 20xx, 31-99 are 19xx (birth dates of living patients). */
static int full_year(int y, int digits_read)
{
  if (digits_read == 4)
    return y;
  return y <= 30 ? 2000 + y : 1900 + y;
}

static int valid_day(int y, int m, int d)
{
  return y >= 1000 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

/* "14 mars 1962", "1er mars 1962", "14 March 1962": day first. */
static size_t day_month_year(const char *s, size_t len, size_t i, int *year)
{
  size_t p = i, q;
  int d, m, y, n;

  if (number_at(s, len, &p, 2, &d) == 0)
    return 0;
  if (p + 1 < len && s[p] == 'e' && s[p + 1] == 'r') /* 1er */
    p += 2;
  else if (p + 1 < len && ((s[p] == 's' && s[p + 1] == 't') || (s[p] == 't' && s[p + 1] == 'h')))
    p += 2;
  q = skip_blanks(s, len, p);
  if (q == p || q >= len)
    return 0;
  m = month_at(s, len, q, &p);
  if (m == 0)
    return 0;
  p = skip_blanks(s, len, p);
  n = number_at(s, len, &p, 4, &y);
  if (n != 4 && n != 2)
    return 0;
  y = full_year(y, n);
  if (!valid_day(y, m, d))
    return 0;
  *year = y;
  return p - i;
}

/* "March 14, 1962", "Mar 14th 1962": month first (English). */
static size_t month_day_year(const char *s, size_t len, size_t i, int *year)
{
  size_t p = i;
  int d, m, y;

  m = month_at(s, len, i, &p);
  if (m == 0 || p >= len || s[p] != ' ')
    return 0;
  p = skip_blanks(s, len, p);
  if (number_at(s, len, &p, 2, &d) == 0)
    return 0;
  if (p + 1 < len && ((s[p] == 's' && s[p + 1] == 't') || (s[p] == 't' && s[p + 1] == 'h') ||
                      (s[p] == 'n' && s[p + 1] == 'd') || (s[p] == 'r' && s[p + 1] == 'd')))
    p += 2;
  if (p < len && s[p] == ',')
    p++;
  p = skip_blanks(s, len, p);
  if (number_at(s, len, &p, 4, &y) != 4 || !valid_day(y, m, d))
    return 0;
  *year = y;
  return p - i;
}

/* Numeric forms: YYYY-MM-DD, YYYY/MM/DD, DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY, the same with a two-digit year
   (DD/MM/YY), and YYYYMMDD. */
static size_t numeric_date(const char *s, size_t len, size_t i, int *year)
{
  size_t p = i;
  int a, b, c, na, nb, nc;
  char sep;

  na = number_at(s, len, &p, 8, &a);
  if (na == 8) { /* YYYYMMDD */
    int y = a / 10000, m = a / 100 % 100, d = a % 100;

    if (y < 1900 || y > 2099 || !valid_day(y, m, d))
      return 0;
    *year = y;
    return 8;
  }
  if ((na != 4 && na != 2 && na != 1) || p >= len)
    return 0;
  sep = s[p];
  if (sep != '-' && sep != '/' && sep != '.')
    return 0;
  p++;
  nb = number_at(s, len, &p, 2, &b);
  if (nb == 0 || p >= len || s[p] != sep)
    return 0;
  p++;
  nc = number_at(s, len, &p, 4, &c);
  if (na == 4 && nc >= 1 && nc <= 2 && valid_day(a, b, c)) {
    *year = a;
    return p - i;
  }
  if (na <= 2 && (nc == 4 || (nc == 2 && sep != '.')) && valid_day(full_year(c, nc), b, a)) {
    *year = full_year(c, nc);
    return p - i;
  }
  return 0;
}

size_t anon_date_at(const char *s, size_t len, size_t i, int *year)
{
  size_t n;

  if (i >= len)
    return 0;
  if (is_digit(s[i])) {
    n = numeric_date(s, len, i, year);
    return n > 0 ? n : day_month_year(s, len, i, year);
  }
  return month_day_year(s, len, i, year);
}
