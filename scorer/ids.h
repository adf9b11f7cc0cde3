/*
 * ids.h: how the scorer finds a row by its id, shared by the ground truth's reader (load.c) and the join (join.c):
 * the 64-bit hash every id is keyed by, and the lookup of numbered ids (a prefix then a number: struct
 * numbered_ids), whose row follows from the id's text. Inline: both are called once per row of ten-million-row files.
 */
#ifndef CONCOURS_IDS_H
#define CONCOURS_IDS_H

#include "csv.h"
#include "load.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

/* The 128-bit product of A and B folded to 64 bits (wyhash's mixing step): every input bit reaches every
 * output bit, upward and downward. */
static inline uint64_t mix(uint64_t a, uint64_t b)
{
	u128 r = (u128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * A 64-bit hash of S[0..N): 8-byte words (the tail is the last 8 bytes, overlapping), each folded in by
 * mix(). A multiply alone only carries differences upward: ids that differ in two characters
 * (id_000975910 and id_000905917) then collided on all 64 bits.
 */
static inline uint64_t hash_bytes(const char *s, size_t n)
{
	const char *end = s + n;
	uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)n;
	uint64_t w;

	/* fixed-size loads only (they compile to plain moves) */
	if (n >= 8) {
		for (; end - s > 8; s += 8) {
			memcpy(&w, s, 8);
			h = mix(h ^ w, UINT64_C(0xa0761d6478bd642f));
		}
		memcpy(&w, end - 8, 8);
	} else if (n >= 4) {
		uint32_t lo;
		uint32_t hi;

		memcpy(&lo, s, 4);
		memcpy(&hi, end - 4, 4);
		w = ((uint64_t)hi << 32) | lo;
	} else if (n > 0) {
		w = ((uint64_t)(unsigned char)s[0] << 16) | ((uint64_t)(unsigned char)s[n / 2] << 8) |
		    (unsigned char)end[-1];
	} else {
		w = 0;
	}
	return mix(mix(h ^ w, UINT64_C(0xe7037ed1a0b428db)), UINT64_C(0x8ebc6af09c88c6e3));
}

#define NUM_DIGITS 18 /* below 10^18: no overflow with a row added */

/*
 * Reads the digits that end S[0..LEN) from byte AT on: *V their value, returns their count, or 0 when a byte from
 * AT is not a digit, or when there are none or more than NUM_DIGITS. S lies in a buffer that starts at FLOOR: from
 * 16 bytes in, the digits are loaded as words ending at the id's end.
 */
static inline unsigned num_digits(const char *s, size_t len, size_t at, uint64_t *v, const char *floor)
{
	size_t n = len - at;

	if (at >= len || n > NUM_DIGITS)
		return 0;
	if ((size_t)(s + len - floor) >= 16 ? !csv_digits18_tail(s + len, n, v) : !csv_digits18(s + at, n, v))
		return 0;
	return (unsigned)n;
}

/* The number that ends S[0..LEN) (in a buffer from FLOOR) after D's prefix in *V, and its digits' count, or 0
 * (num_digits()). */
static inline unsigned num_number(const struct numbered_ids *d, const char *s, size_t len, uint64_t *v,
                                  const char *floor)
{
	size_t i;

	if (len <= d->plen)
		return 0;
	for (i = 0; i < d->plen; i++) /* a few bytes: a call to memcmp() costs more than the loop */
		if (s[i] != d->prefix[i])
			return 0;
	return num_digits(s, len, d->plen, v, floor);
}

/* The bits set in X (inline: without -mpopcnt, __builtin_popcountll is a call into libgcc). */
static inline unsigned ones64(uint64_t x)
{
#if defined(__POPCNT__)
	return (unsigned)__builtin_popcountll(x);
#else
	x -= (x >> 1) & UINT64_C(0x5555555555555555);
	x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
	x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
	return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
#endif
}

/*
 * The number of the id S[0..LEN) less T's base when T's ids are numbered (t->num), or UINT64_MAX: the text must
 * be the prefix then a number in the ground truth's range written as it writes them. num_row() then says
 * whether it is one of its ids, byte for byte.
 */
static inline uint64_t num_offset(const struct truth *t, const char *s, size_t len, const char *floor)
{
	const struct numbered_ids *d = &t->num;
	uint64_t v = 0;
	unsigned nd = num_number(d, s, len, &v, floor);

	if (nd == 0 || v < d->base || v > d->top)
		return UINT64_MAX;
	if (d->fixed ? nd != d->width : nd > 1 && s[d->plen] == '0')
		return UINT64_MAX; /* another writing of the same number */
	return v - d->base;
}

/* The ground-truth row of the number BASE + OFF (num_offset(), UINT64_MAX passes through), or SIZE_MAX. */
static inline size_t num_row(const struct truth *t, uint64_t off)
{
	const struct rank_word *w;

	if (off == UINT64_MAX)
		return SIZE_MAX;
	if (t->num.table)
		return t->num.table[off] != 0 ? (size_t)t->num.table[off] - 1 : SIZE_MAX;
	if (!t->num.gaps)
		return (size_t)off;
	w = &t->num.rank[off >> 6];
	if (!((w->bits >> (off & 63)) & 1))
		return SIZE_MAX; /* a number between two of the ground truth's */
	return (size_t)(w->ones + ones64(w->bits & ((UINT64_C(1) << (off & 63)) - 1)));
}

#endif
