/*
 * xsum.c: the exact sum of doubles, rounded once (see xsum.h).
 */
#include "xsum.h"

#include <math.h>

void xsum_init(struct xsum *s)
{
	memset(s, 0, sizeof *s);
}

/* Carries DIGIT[0..XSUM_DIGITS-1) into the digit above, leaving each in [0, 2^32). */
static void carry_digits(int64_t *digit)
{
	int k;

	for (k = 0; k < XSUM_DIGITS - 1; k++) {
		int64_t c = digit[k] >> 32; /* arithmetic shift: floor, so the rest is in [0, 2^32) */

		digit[k] -= (int64_t)((uint64_t)c << 32);
		digit[k + 1] += c;
	}
}

void xsum_carry(struct xsum *s)
{
	carry_digits(s->digit);
	s->adds = 0;
}

void xsum_add_digits(struct xsum *s, double x)
{
	uint64_t bits;
	uint64_t m;
	unsigned e;
	unsigned pos;
	unsigned __int128 v;
	int64_t neg;
	int64_t *d;

	memcpy(&bits, &x, sizeof bits);
	e = (unsigned)(bits >> 52) & 0x7FF;
	m = bits & ((UINT64_C(1) << 52) - 1);
	if (e == 0x7FF) {
		s->special += x;
		s->has_special = 1;
		return;
	}
	if (e != 0)
		m |= UINT64_C(1) << 52;
	else
		e = 1; /* subnormal: the same weight as the smallest normal, no hidden bit */
	pos = e - 1;   /* the weight of m's lowest bit, 2^(pos - 1074) */
	v = (unsigned __int128)m << (pos & 31);
	neg = -(int64_t)(bits >> 63); /* 0 or -1: (c ^ neg) - neg negates for a negative X */
	d = s->digit + (pos >> 5);
	d[0] += ((int64_t)((uint64_t)v & 0xFFFFFFFFu) ^ neg) - neg;
	d[1] += ((int64_t)((uint64_t)(v >> 32) & 0xFFFFFFFFu) ^ neg) - neg;
	d[2] += ((int64_t)(uint64_t)(v >> 64) ^ neg) - neg;
	if (++s->adds == XSUM_CARRY_EVERY)
		xsum_carry(s);
}

void xsum_put_lane(struct xsum *s, struct xsum_lane lane)
{
	/* LANE, in units of 2^-96 = 2^(978 - 1074), is 2^18 times digit 30's unit (978 = 32 x 30 + 18): its three low
	 * 32-bit pieces and its signed top go to digits 30-33, each times 2^18 (below 2^50: the digits, below 2^62
	 * between carries, hold it), then every digit is carried */
	unsigned __int128 u = (unsigned __int128)lane.v;
	int k;

	for (k = 0; k < 3; k++)
		s->digit[30 + k] += (int64_t)(((uint64_t)(u >> (32 * k)) & 0xFFFFFFFFu) << 18);
	s->digit[33] += (int64_t)(lane.v >> 96) * (INT64_C(1) << 18); /* arithmetic shift: the signed top */
	xsum_carry(s);
}

/* Moves S's own lane into its digits. The value is unchanged. */
static void flush_lane(struct xsum *s)
{
	xsum_put_lane(s, s->lane);
	s->lane.v = 0;
	s->lane.n = 0;
}

void xsum_merge(struct xsum *into, const struct xsum *from)
{
	struct xsum f = *from;
	int k;

	flush_lane(&f);
	flush_lane(into);
	carry_digits(f.digit);
	xsum_carry(into);
	for (k = 0; k < XSUM_DIGITS; k++)
		into->digit[k] += f.digit[k];
	into->adds = 2; /* two digits below 2^32 each: as much as two additions */
	if (f.has_special) {
		into->special += f.special;
		into->has_special = 1;
	}
}

double xsum_value(const struct xsum *s)
{
	struct xsum t;
	int64_t *digit = t.digit;
	uint64_t top64;
	uint64_t q;
	uint64_t rem;
	unsigned __int128 w = 0;
	int sticky = 0;
	int neg;
	int h;
	int k;
	int low; /* the weight of W's lowest bit, as a power of two above 2^-1074 */
	int shift;

	if (s->has_special)
		return s->special;
	t = *s;
	flush_lane(&t); /* carries the digits too */
	neg = digit[XSUM_DIGITS - 1] < 0;
	if (neg) { /* the magnitude: every digit negated, then carried again (the top one ends positive) */
		for (k = 0; k < XSUM_DIGITS; k++)
			digit[k] = -digit[k];
		carry_digits(digit);
	}
	for (h = XSUM_DIGITS - 1; h >= 0 && digit[h] == 0; h--)
		;
	if (h < 0)
		return 0.0;
	/* the top three digits in W (the top one below 2^32 but for a sum beyond every double), the rest sticky */
	for (k = h; k >= h - 2; k--)
		w = (w << 32) | (unsigned __int128)(k >= 0 ? (uint64_t)digit[k] : 0);
	for (k = h - 3; k >= 0 && !sticky; k--)
		sticky = digit[k] != 0;
	low = 32 * (h - 2);
	/* digit H is in W's bits 64-95: W's top 64 bits start at bit SHIFT */
	shift = 64 - __builtin_clzll((uint64_t)(w >> 64));
	top64 = (uint64_t)(w >> shift);
	if (((uint64_t)w & ((UINT64_C(1) << shift) - 1)) != 0)
		sticky = 1;
	/* 53 bits and the rest, to nearest, ties to even; a carry to 2^53 is still exact in a double. A sum of fewer
	 * than 54 bits has no rest: ldexp() then gives it exactly, subnormals included. */
	q = top64 >> 11;
	rem = top64 & 0x7FF;
	if (rem > 0x400 || (rem == 0x400 && (sticky || (q & 1))))
		q++;
	{
		double v = ldexp((double)q, low + shift + 11 - 1074);

		return neg ? -v : v;
	}
}
