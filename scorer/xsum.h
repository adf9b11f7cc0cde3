/*
 * xsum.h: the exact sum of doubles, rounded once.
 *
 * Exists so that a metric that is a mean of per-row terms (log_loss) gives the same value to the last bit
 * whatever order its rows come in and however they are split between threads: a running double sum rounds at
 * every addition, so its result depends on the order. Here every term is added exactly into a fixed-point
 * number that spans all doubles (a "small superaccumulator", after Radford Neal's xsum: 32-bit digits held in
 * 64-bit words, so carries wait), and only the final value is rounded, to nearest, ties to even.
 *
 * Usage: struct xsum s; xsum_init(&s); xsum_add(&s, x)...; xsum_merge(&s, &other); v = xsum_value(&s).
 * The struct is the caller's (about 600 bytes, no heap).
 */
#ifndef CONCOURS_XSUM_H
#define CONCOURS_XSUM_H

#include <stdint.h>
#include <string.h>

/* digit k weighs 2^(32k - 1074); a finite double's 53 bits start at bit 0..2045 and span three digits; the top
 * digits take the carries of up to 2^32 terms of the largest doubles */
#define XSUM_DIGITS 68
#define XSUM_CARRY_EVERY (UINT32_C(1) << 30) /* additions of < 2^32 a digit before an int64 could overflow */
/* The lane: terms from 2^-44 to below 2^8 whose every bit weighs at least 2^-96 (the biased exponents below) are
 * added as one 128-bit integer in units of 2^-96, each below 2^104, so 2^22 of them fit before it goes into the
 * digits. Most terms of a metric take it: an add of a few instructions in registers. */
#define XSUM_LANE_EMIN 979u /* 2^(979 - 1075) = 2^-96, the weight of the mantissa's lowest bit there */
#define XSUM_LANE_EMAX 1030u
#define XSUM_LANE_EVERY (UINT32_C(1) << 22)

/* Terms of the lane, in units of 2^-96, and how many. A hot loop keeps its own (a local whose address never leaves
 * xsum_lane_add(), so that the compiler keeps it in registers across the loop's calls) and hands it over at the end
 * with xsum_put_lane(). */
struct xsum_lane {
	__int128 v;
	uint32_t n;
};

struct xsum {
	struct xsum_lane lane; /* xsum_add()'s */
	uint32_t adds;         /* additions to the digits since they were last brought back under 2^32 */
	int64_t digit[XSUM_DIGITS];
	double special;  /* the sum of the infinite and NaN terms (IEEE rules: inf - inf is NaN) */
	int has_special; /* a term was not finite: the value is SPECIAL */
};

void xsum_init(struct xsum *s);

/* Brings every digit but the top one into [0, 2^32), the top one keeping the sign. The value is unchanged. */
void xsum_carry(struct xsum *s);

/* Adds X to S's digits, exactly (what xsum_lane_add() does with a term outside the lane). */
void xsum_add_digits(struct xsum *s, double x);

/* Adds the terms of LANE to S's digits, exactly. */
void xsum_put_lane(struct xsum *s, struct xsum_lane lane);

/* Adds X to the sum of S and L exactly: to L when it takes the lane (L going into S's digits every
 * XSUM_LANE_EVERY terms), to S's digits otherwise. */
static inline void xsum_lane_add(struct xsum *s, struct xsum_lane *l, double x)
{
	uint64_t bits;
	unsigned e;

	memcpy(&bits, &x, sizeof bits);
	e = (unsigned)(bits >> 52) & 0x7FF;
	if (e - XSUM_LANE_EMIN <= XSUM_LANE_EMAX - XSUM_LANE_EMIN) {
		__int128 v = (__int128)((bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52))
		             << (e - XSUM_LANE_EMIN);

		l->v += (bits >> 63) ? -v : v;
		if (++l->n == XSUM_LANE_EVERY) {
			xsum_put_lane(s, *l);
			l->v = 0;
			l->n = 0;
		}
	} else if ((bits << 1) != 0) { /* 0 and -0 add nothing */
		xsum_add_digits(s, x);
	}
}

/* Adds X to S exactly. */
static inline void xsum_add(struct xsum *s, double x)
{
	xsum_lane_add(s, &s->lane, x);
}

/* Adds the sum FROM into INTO, exactly. FROM is unchanged. */
void xsum_merge(struct xsum *into, const struct xsum *from);

/* The exact sum rounded to the nearest double, ties to even (+0.0 for an empty or cancelling sum; +-inf when it
 * exceeds the doubles; the IEEE sum of the non-finite terms when there was one). S is unchanged. */
double xsum_value(const struct xsum *s);

#endif
