/* date.c: calendar dates for the anon module.
 *
 * The checker recognises exact dates (a quasi-identifier, or a date of birth) and the pseudonymizer shifts
 * them by whole days while keeping each value's own format, so both need one parser and exact day arithmetic.
 * Day-first is assumed for slashed dates (DD/MM/YYYY), as in French data.
 */
#include <stdio.h>

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
