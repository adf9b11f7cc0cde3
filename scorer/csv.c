/*
 * csv.c: RFC 4180 tokenising and number parsing for the scorer.
 *
 * Hot path of every scoring run: one pass over the buffer, a byte-class table for unquoted fields, no
 * allocation. Quoted fields are rare and take a slower path that unescapes in place.
 */
#include "csv.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/*
 * Bytes ahead of a reader's position fetched into the cache as it goes: the hardware's prefetcher stops at each
 * 4 KiB page of a mapped file, and the readers waited on memory for about a tenth of their time (8-10 % more
 * CPU for 10M-row files without it).
 */
#define READ_AHEAD 2048

/* Fetches the line READ_AHEAD bytes after P. An address, not a pointer into the buffer: it may lie past its end,
 * and a prefetch never faults. */
static inline void read_ahead(const char *p)
{
	__builtin_prefetch((const void *)((uintptr_t)p + READ_AHEAD));
}

/* Bytes that end an unquoted field, or must be looked at: , LF CR NUL. */
static const unsigned char stop_byte[256] = {
        ['\0'] = 1,
        ['\n'] = 1,
        ['\r'] = 1,
        [','] = 1,
};

static const double pow10_exact[23] = {
        1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#if defined(__x86_64__) && LDBL_MANT_DIG == 64
/* 10^0 .. 10^27, each exact in x87's 64-bit mantissa (5^27 < 2^64) */
static const long double pow10_ext[28] = {
        1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,  1e10L, 1e11L, 1e12L, 1e13L,
        1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L,
};
#endif

__extension__ typedef unsigned __int128 u128;

#define POW5_MIN (-64) /* 10^-64 and above: probabilities a softmax writes, however small */

/* 5^q for q = POW5_MIN..0 in 128 bits, the top one set (Eisel-Lemire's table, as fast_float has it; generated with
 * Python's integers). With 2^(z-1) < 5^-q < 2^z: 2^(127 + z) / 5^-q + 1 from -27 on; below, 2^(128 + 2z) / 5^-q + 1
 * with its bits below the top 128 dropped. */
static const uint64_t pow5_128[-POW5_MIN + 1][2] = {
        {UINT64_C(0xa87fea27a539e9a5), UINT64_C(0x3f2398d747b36224)}, /* 5^-64 */
        {UINT64_C(0xd29fe4b18e88640e), UINT64_C(0x8eec7f0d19a03aad)}, /* 5^-63 */
        {UINT64_C(0x83a3eeeef9153e89), UINT64_C(0x1953cf68300424ac)}, /* 5^-62 */
        {UINT64_C(0xa48ceaaab75a8e2b), UINT64_C(0x5fa8c3423c052dd7)}, /* 5^-61 */
        {UINT64_C(0xcdb02555653131b6), UINT64_C(0x3792f412cb06794d)}, /* 5^-60 */
        {UINT64_C(0x808e17555f3ebf11), UINT64_C(0xe2bbd88bbee40bd0)}, /* 5^-59 */
        {UINT64_C(0xa0b19d2ab70e6ed6), UINT64_C(0x5b6aceaeae9d0ec4)}, /* 5^-58 */
        {UINT64_C(0xc8de047564d20a8b), UINT64_C(0xf245825a5a445275)}, /* 5^-57 */
        {UINT64_C(0xfb158592be068d2e), UINT64_C(0xeed6e2f0f0d56712)}, /* 5^-56 */
        {UINT64_C(0x9ced737bb6c4183d), UINT64_C(0x55464dd69685606b)}, /* 5^-55 */
        {UINT64_C(0xc428d05aa4751e4c), UINT64_C(0xaa97e14c3c26b886)}, /* 5^-54 */
        {UINT64_C(0xf53304714d9265df), UINT64_C(0xd53dd99f4b3066a8)}, /* 5^-53 */
        {UINT64_C(0x993fe2c6d07b7fab), UINT64_C(0xe546a8038efe4029)}, /* 5^-52 */
        {UINT64_C(0xbf8fdb78849a5f96), UINT64_C(0xde98520472bdd033)}, /* 5^-51 */
        {UINT64_C(0xef73d256a5c0f77c), UINT64_C(0x963e66858f6d4440)}, /* 5^-50 */
        {UINT64_C(0x95a8637627989aad), UINT64_C(0xdde7001379a44aa8)}, /* 5^-49 */
        {UINT64_C(0xbb127c53b17ec159), UINT64_C(0x5560c018580d5d52)}, /* 5^-48 */
        {UINT64_C(0xe9d71b689dde71af), UINT64_C(0xaab8f01e6e10b4a6)}, /* 5^-47 */
        {UINT64_C(0x9226712162ab070d), UINT64_C(0xcab3961304ca70e8)}, /* 5^-46 */
        {UINT64_C(0xb6b00d69bb55c8d1), UINT64_C(0x3d607b97c5fd0d22)}, /* 5^-45 */
        {UINT64_C(0xe45c10c42a2b3b05), UINT64_C(0x8cb89a7db77c506a)}, /* 5^-44 */
        {UINT64_C(0x8eb98a7a9a5b04e3), UINT64_C(0x77f3608e92adb242)}, /* 5^-43 */
        {UINT64_C(0xb267ed1940f1c61c), UINT64_C(0x55f038b237591ed3)}, /* 5^-42 */
        {UINT64_C(0xdf01e85f912e37a3), UINT64_C(0x6b6c46dec52f6688)}, /* 5^-41 */
        {UINT64_C(0x8b61313bbabce2c6), UINT64_C(0x2323ac4b3b3da015)}, /* 5^-40 */
        {UINT64_C(0xae397d8aa96c1b77), UINT64_C(0xabec975e0a0d081a)}, /* 5^-39 */
        {UINT64_C(0xd9c7dced53c72255), UINT64_C(0x96e7bd358c904a21)}, /* 5^-38 */
        {UINT64_C(0x881cea14545c7575), UINT64_C(0x7e50d64177da2e54)}, /* 5^-37 */
        {UINT64_C(0xaa242499697392d2), UINT64_C(0xdde50bd1d5d0b9e9)}, /* 5^-36 */
        {UINT64_C(0xd4ad2dbfc3d07787), UINT64_C(0x955e4ec64b44e864)}, /* 5^-35 */
        {UINT64_C(0x84ec3c97da624ab4), UINT64_C(0xbd5af13bef0b113e)}, /* 5^-34 */
        {UINT64_C(0xa6274bbdd0fadd61), UINT64_C(0xecb1ad8aeacdd58e)}, /* 5^-33 */
        {UINT64_C(0xcfb11ead453994ba), UINT64_C(0x67de18eda5814af2)}, /* 5^-32 */
        {UINT64_C(0x81ceb32c4b43fcf4), UINT64_C(0x80eacf948770ced7)}, /* 5^-31 */
        {UINT64_C(0xa2425ff75e14fc31), UINT64_C(0xa1258379a94d028d)}, /* 5^-30 */
        {UINT64_C(0xcad2f7f5359a3b3e), UINT64_C(0x096ee45813a04330)}, /* 5^-29 */
        {UINT64_C(0xfd87b5f28300ca0d), UINT64_C(0x8bca9d6e188853fc)}, /* 5^-28 */
        {UINT64_C(0x9e74d1b791e07e48), UINT64_C(0x775ea264cf55347e)}, /* 5^-27 */
        {UINT64_C(0xc612062576589dda), UINT64_C(0x95364afe032a819e)}, /* 5^-26 */
        {UINT64_C(0xf79687aed3eec551), UINT64_C(0x3a83ddbd83f52205)}, /* 5^-25 */
        {UINT64_C(0x9abe14cd44753b52), UINT64_C(0xc4926a9672793543)}, /* 5^-24 */
        {UINT64_C(0xc16d9a0095928a27), UINT64_C(0x75b7053c0f178294)}, /* 5^-23 */
        {UINT64_C(0xf1c90080baf72cb1), UINT64_C(0x5324c68b12dd6339)}, /* 5^-22 */
        {UINT64_C(0x971da05074da7bee), UINT64_C(0xd3f6fc16ebca5e04)}, /* 5^-21 */
        {UINT64_C(0xbce5086492111aea), UINT64_C(0x88f4bb1ca6bcf585)}, /* 5^-20 */
        {UINT64_C(0xec1e4a7db69561a5), UINT64_C(0x2b31e9e3d06c32e6)}, /* 5^-19 */
        {UINT64_C(0x9392ee8e921d5d07), UINT64_C(0x3aff322e62439fd0)}, /* 5^-18 */
        {UINT64_C(0xb877aa3236a4b449), UINT64_C(0x09befeb9fad487c3)}, /* 5^-17 */
        {UINT64_C(0xe69594bec44de15b), UINT64_C(0x4c2ebe687989a9b4)}, /* 5^-16 */
        {UINT64_C(0x901d7cf73ab0acd9), UINT64_C(0x0f9d37014bf60a11)}, /* 5^-15 */
        {UINT64_C(0xb424dc35095cd80f), UINT64_C(0x538484c19ef38c95)}, /* 5^-14 */
        {UINT64_C(0xe12e13424bb40e13), UINT64_C(0x2865a5f206b06fba)}, /* 5^-13 */
        {UINT64_C(0x8cbccc096f5088cb), UINT64_C(0xf93f87b7442e45d4)}, /* 5^-12 */
        {UINT64_C(0xafebff0bcb24aafe), UINT64_C(0xf78f69a51539d749)}, /* 5^-11 */
        {UINT64_C(0xdbe6fecebdedd5be), UINT64_C(0xb573440e5a884d1c)}, /* 5^-10 */
        {UINT64_C(0x89705f4136b4a597), UINT64_C(0x31680a88f8953031)}, /* 5^-9 */
        {UINT64_C(0xabcc77118461cefc), UINT64_C(0xfdc20d2b36ba7c3e)}, /* 5^-8 */
        {UINT64_C(0xd6bf94d5e57a42bc), UINT64_C(0x3d32907604691b4d)}, /* 5^-7 */
        {UINT64_C(0x8637bd05af6c69b5), UINT64_C(0xa63f9a49c2c1b110)}, /* 5^-6 */
        {UINT64_C(0xa7c5ac471b478423), UINT64_C(0x0fcf80dc33721d54)}, /* 5^-5 */
        {UINT64_C(0xd1b71758e219652b), UINT64_C(0xd3c36113404ea4a9)}, /* 5^-4 */
        {UINT64_C(0x83126e978d4fdf3b), UINT64_C(0x645a1cac083126ea)}, /* 5^-3 */
        {UINT64_C(0xa3d70a3d70a3d70a), UINT64_C(0x3d70a3d70a3d70a4)}, /* 5^-2 */
        {UINT64_C(0xcccccccccccccccc), UINT64_C(0xcccccccccccccccd)}, /* 5^-1 */
        {UINT64_C(0x8000000000000000), UINT64_C(0x0000000000000000)}, /* 5^0 */
};

/*
 * W x 10^Q for W > 0 and POW5_MIN <= Q <= 0, correctly rounded (to even on a tie) into *OUT: the Eisel-Lemire
 * algorithm (as fast_float computes it, binary64): W shifted to its top bit times 5^Q's 128 bits, the low product
 * only when the high one's 9 bits below the mantissa are all ones. Every significant digit is in W (at most 19).
 * From 10^-27 on, 5^-Q < 2^64 and the result is exact in every case; below, the table's 128 bits are truncated, and
 * a product whose low word is all ones could round either way: -1, *OUT untouched (the caller asks strtod). Returns
 * 0 otherwise. The values are normal doubles (at least 10^-64): no subnormal case.
 */
static int eisel_lemire(uint64_t w, int q, double *out)
{
	const uint64_t *t = pow5_128[q - POW5_MIN];
	int lz = __builtin_clzll(w);
	u128 prod;
	uint64_t hi;
	uint64_t lo;
	uint64_t mant;
	uint64_t bits;
	int shift;
	long power2;

	w <<= lz;
	prod = (u128)w * t[0];
	hi = (uint64_t)(prod >> 64);
	lo = (uint64_t)prod;
	if ((hi & 0x1FF) == 0x1FF) {
		uint64_t more = (uint64_t)(((u128)w * t[1]) >> 64);

		lo += more;
		hi += more > lo; /* the carry */
	}
	if (lo == UINT64_MAX && q < -27)
		return -1;
	shift = (int)(hi >> 63) + 9;
	mant = hi >> shift;
	/* floor(q log2(10)) + 63, written for q <= 0 without shifting a negative number; 1023 the bias */
	power2 = -(long)((217706 * (unsigned long)-q + 65535) >> 16) + 63 + (long)(hi >> 63) - lz + 1023;
	if (lo <= 1 && q >= -4 && (mant & 3) == 1 && (mant << shift) == hi)
		mant &= ~UINT64_C(1); /* exactly halfway: to even */
	mant += mant & 1;
	mant >>= 1;
	if (mant >= (UINT64_C(2) << 52)) { /* rounded up to the next power of two */
		mant = UINT64_C(1) << 52;
		power2++;
	}
	bits = (mant & ~(UINT64_C(1) << 52)) | ((uint64_t)power2 << 52);
	memcpy(out, &bits, sizeof bits);
	return 0;
}

/*
 * M x 10^EXP10 (M > 0, every significant digit of the text in M) correctly rounded into *OUT without strtod when
 * that can be done exactly; returns -1 when it cannot (the caller asks strtod). With M <= 2^53 and |EXP10| <= 22
 * both factors are exact doubles and one operation rounds once. Otherwise (16 to 19 digits, what Python and
 * pandas write): from 10^-64 to 10^0, eisel_lemire(); above, on x86-64, the operation is done in x87's 64-bit
 * mantissa, exact inputs again, then rounded to 53 bits: two roundings give the one right answer unless the first
 * lands exactly halfway between two doubles (its low 11 bits 10000000000), which is then left to strtod.
 */
static int exact_decimal(uint64_t m, long exp10, double *out)
{
	if (m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
		double v = (double)m;

		*out = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
		return 0;
	}
	if (exp10 >= POW5_MIN && exp10 <= 0)
		return eisel_lemire(m, (int)exp10, out);
#if defined(__x86_64__) && LDBL_MANT_DIG == 64
	if (exp10 >= -27 && exp10 <= 27) {
		long double q = exp10 < 0 ? (long double)m / pow10_ext[-exp10] : (long double)m * pow10_ext[exp10];
		uint64_t mant;

		memcpy(&mant, &q, sizeof mant); /* x87 layout: the 64-bit mantissa first */
		if ((mant & 0x7FF) != 0x400) {
			*out = (double)q;
			return 0;
		}
	}
#endif
	return -1;
}

void csv_reader_init(struct csv_reader *r, char *buf, size_t len, size_t max_record)
{
	r->p = buf;
	r->end = buf + len;
	if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB && (unsigned char)buf[2] == 0xBF)
		r->p += 3;
	r->line = 0;
	r->next_line = 1;
	r->max_record = max_record;
	r->written_lo = NULL;
	r->written_hi = NULL;
	r->keep_bytes = 0;
}

void csv_reader_at(struct csv_reader *r, char *buf, size_t len, size_t line, size_t max_record)
{
	csv_reader_init(r, buf, 0, max_record);
	r->end = buf + len;
	r->next_line = line;
}

#if defined(__SSE2__)
/* The sum of the 16 byte counters of ACC. */
static size_t byte_sum(__m128i acc)
{
	__m128i sad = _mm_sad_epu8(acc, _mm_setzero_si128());

	return (size_t)_mm_cvtsi128_si32(sad) + (size_t)_mm_cvtsi128_si32(_mm_unpackhi_epi64(sad, sad));
}
#endif

size_t csv_count_breaks(const char *s, size_t len)
{
	size_t lf = 0;
	size_t cr = 0;
	size_t crlf = 0; /* counted in both LF and CR: one break */
	int quoted = 0;
	size_t i = 0;

#if defined(__SSE2__)
	const __m128i nl = _mm_set1_epi8('\n');
	const __m128i ret = _mm_set1_epi8('\r');
	const __m128i quote = _mm_set1_epi8('"');

	/* one pass (the caller's range is read here first), by 16 bytes and the byte after them: each byte of a
	 * counter adds 1 per match (a compare gives -1), up to 255 blocks, then goes into the totals */
	while (i + 17 <= len) {
		__m128i alf = _mm_setzero_si128();
		__m128i acr = _mm_setzero_si128();
		__m128i apair = _mm_setzero_si128();
		__m128i aq = _mm_setzero_si128();
		int k;

		for (k = 0; k < 255 && i + 17 <= len; k++, i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			__m128i next = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 1));
			__m128i isr = _mm_cmpeq_epi8(v, ret);

			read_ahead(s + i);

			alf = _mm_sub_epi8(alf, _mm_cmpeq_epi8(v, nl));
			acr = _mm_sub_epi8(acr, isr);
			apair = _mm_sub_epi8(apair, _mm_and_si128(isr, _mm_cmpeq_epi8(next, nl)));
			aq = _mm_or_si128(aq, _mm_cmpeq_epi8(v, quote));
		}
		quoted |= _mm_movemask_epi8(aq) != 0;
		lf += byte_sum(alf);
		cr += byte_sum(acr);
		crlf += byte_sum(apair);
	}
#endif
	for (; i < len; i++) {
		quoted |= s[i] == '"';
		lf += s[i] == '\n';
		cr += s[i] == '\r';
		crlf += s[i] == '\r' && i + 1 < len && s[i + 1] == '\n';
	}
	/* csv_next() counts a quoted field's LF (and CRLF) as a line, but not its lone CR */
	return quoted && cr != crlf ? SIZE_MAX : lf + cr - crlf;
}

const char *csv_status_text(enum csv_status status)
{
	switch (status) {
	case CSV_OK:
		return "ok";
	case CSV_EOF:
		return "end of file";
	case CSV_ERR_QUOTE:
		return "a quoted field is not closed, or a closing quote is followed by something other than a "
		       "comma or a line end";
	case CSV_ERR_LINE_TOO_LONG:
		return "the line is too long";
	case CSV_ERR_REWRITE:
		return "a quoted field with a doubled quote, which this reader may not unescape";
	case CSV_ERR_NUL:
		return "the file contains a NUL byte: it is not a text CSV file";
	}
	return "unknown CSV error";
}

/* Bytes that end a quoted field's fast read (quote_close()): " LF CR NUL. */
static const unsigned char quote_stop[256] = {
        ['\0'] = 1,
        ['\n'] = 1,
        ['\r'] = 1,
        ['"'] = 1,
};

/* First byte at or after P that is FIRST, LF, CR or NUL (the bytes STOP marks), or END. 16 bytes at a time. */
static inline const char *scan_to(const char *p, const char *end, char first, const unsigned char *stop)
{
#if defined(__SSE2__)
	const __m128i lead = _mm_set1_epi8(first);
	const __m128i lf = _mm_set1_epi8('\n');
	const __m128i cr = _mm_set1_epi8('\r');
	const __m128i nul = _mm_setzero_si128();

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, lead), _mm_cmpeq_epi8(v, lf)),
		                           _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, nul)));
		unsigned mask = (unsigned)_mm_movemask_epi8(hit);

		if (mask != 0)
			return p + __builtin_ctz(mask);
		p += 16;
	}
#else
	(void)first;
#endif
	while (p < end && !stop[(unsigned char)*p])
		p++;
	return p;
}

/* First byte at or after P that ends an unquoted field (see stop_byte), or END. */
static char *scan_unquoted(char *p, char *end)
{
	return (char *)(uintptr_t)scan_to(p, end, ',', stop_byte); /* P's own bytes: as writable as P */
}

/*
 * The closing quote of a quoted field whose text starts at P (after the opening quote) when csv_next() would read
 * that text as it stands: no LF, CR or NUL before the quote, and no second quote right after it (a doubled quote,
 * which csv_next() unescapes). NULL otherwise, or when END comes first. What follows the quote is the caller's.
 */
static const char *quote_close(const char *p, const char *end)
{
	const char *q = scan_to(p, end, '"', quote_stop);

	return q < end && *q == '"' && !(q + 1 < end && q[1] == '"') ? q : NULL;
}

/* True when P is END or a byte that may follow a field: a comma or a line break. */
static inline int at_field_end(const char *p, const char *end)
{
	return p >= end || *p == ',' || *p == '\n' || *p == '\r';
}

/*
 * Reads a quoted field starting at *PP (on the opening quote), unescaping in place. Bytes are written only from
 * the first doubled quote on, and that range is added to R's written range: the other pages of a mapped file
 * stay clean copies of the page cache, which the loader may give back (arc_input_release()).
 */
static enum csv_status read_quoted(struct csv_reader *r, char **pp, struct csv_field *out)
{
	char *p = *pp + 1;
	char *w = p;
	char *w0 = NULL; /* the first byte rewritten */
	char *end = r->end;
	enum csv_status st = CSV_OK;

	out->s = p;
	for (;;) {
		if (p >= end) {
			st = CSV_ERR_QUOTE;
			break;
		}
		if (*p == '"') {
			if (p + 1 < end && p[1] == '"') {
				if (!w0 && r->keep_bytes) {
					st = CSV_ERR_REWRITE;
					break;
				}
				if (!w0)
					w0 = w;
				*w++ = '"';
				p += 2;
				continue;
			}
			p++;
			if (!at_field_end(p, end))
				st = CSV_ERR_QUOTE;
			break;
		}
		if (*p == '\0') {
			st = CSV_ERR_NUL;
			break;
		}
		if (*p == '\n')
			r->next_line++;
		if (w0)
			*w = *p;
		w++;
		p++;
	}
	if (w0) {
		if (!r->written_lo || w0 < r->written_lo)
			r->written_lo = w0;
		if (!r->written_hi || w > r->written_hi)
			r->written_hi = w;
	}
	out->len = (size_t)(w - out->s);
	*pp = p;
	return st;
}

enum csv_status csv_next(struct csv_reader *r, struct csv_field *f, int max, int *nfields)
{
	char *p = r->p;
	char *end = r->end;
	char *start;
	int n = 0;

	*nfields = 0;
	read_ahead(p);
	for (;;) { /* skip empty lines */
		if (p >= end) {
			r->p = p;
			return CSV_EOF;
		}
		if (*p == '\n') {
			p++;
			r->next_line++;
		} else if (*p == '\r') {
			p++;
			if (p < end && *p == '\n')
				p++;
			r->next_line++;
		} else {
			break;
		}
	}
	r->line = r->next_line;
	start = p;
	for (;;) {
		struct csv_field fld;

		if (p < end && *p == '"') {
			enum csv_status st = read_quoted(r, &p, &fld);

			if (st != CSV_OK)
				return st;
		} else {
			fld.s = p;
			p = scan_unquoted(p, end);
			if (p < end && *p == '\0')
				return CSV_ERR_NUL;
			fld.len = (size_t)(p - fld.s);
		}
		if (n < max)
			f[n] = fld;
		if (n < INT32_MAX)
			n++;
		if (p >= end)
			break;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\r') {
			p++;
			if (p < end && *p == '\n')
				p++;
		} else {
			p++;
		}
		r->next_line++;
		break;
	}
	if ((size_t)(p - start) > r->max_record)
		return CSV_ERR_LINE_TOO_LONG;
	r->p = p;
	*nfields = n;
	return CSV_OK;
}

/*
 * csv_next_plain()'s end of a record that started at START: Q, after its last field (the N-th of NF), must be LF or
 * CRLF (as Excel and Windows write) before the reader's end, and the record at most max_record bytes long. Moves the
 * reader past it and returns 0; returns -1, R untouched, otherwise.
 */
static int plain_end(struct csv_reader *r, const char *start, const char *q, int n, int nf)
{
	const char *lf = q < r->end && *q == '\r' ? q + 1 : q;

	if (lf >= r->end || *lf != '\n' || n != nf || (size_t)(lf + 1 - start) > r->max_record)
		return -1;
	r->line = r->next_line++;
	r->p = (char *)(uintptr_t)lf + 1; /* the reader's own bytes */
	return 0;
}

int csv_next_plain(struct csv_reader *r, struct csv_field *f, int nf)
{
#if defined(__SSE2__)
	const __m128i comma = _mm_set1_epi8(',');
	const __m128i lf = _mm_set1_epi8('\n');
	const __m128i cr = _mm_set1_epi8('\r');
	const __m128i nul = _mm_setzero_si128();
	char *start = r->p;
	char *p = start; /* the block read next: 16 bytes, all before r->end */
	char *s = start; /* the field being read */
	int n = 0;

	read_ahead(start);
	if (r->end - p < 16 || *p == '\n' || *p == '\r')
		return -1;
	/* the bytes that end a field, a whole block at a time, walked in order: one load for several fields */
	while (r->end - p >= 16) {
		__m128i v;
		unsigned mask;
		char *next = p + 16;

		if (p == s && *s == '"') { /* a quoted field (R's write.csv() quotes ids): its text, if it holds no
		                            * quote, LF, CR or NUL; then the block after it */
			const char *q = quote_close(s + 1, r->end);

			if (!q || n == nf || (size_t)(q + 1 - start) > r->max_record)
				return -1;
			f[n].s = s + 1;
			f[n].len = (size_t)(q - f[n].s);
			n++;
			p = s = (char *)(uintptr_t)q + 1; /* the reader's own bytes */
			if (p < r->end && *p == ',') {
				p = ++s;
				continue;
			}
			return plain_end(r, start, p, n, nf);
		}
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		mask = (unsigned)_mm_movemask_epi8(
		        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, lf)),
		                     _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, nul))));
		for (; mask != 0; mask &= mask - 1) {
			char *q = p + __builtin_ctz(mask);

			if (n == nf)
				return -1; /* a field too many */
			f[n].s = s;
			f[n].len = (size_t)(q - s);
			n++;
			if (*q == ',') {
				s = q + 1;
				if (s < r->end && *s == '"') {
					next = s; /* read from its quote on */
					break;
				}
				continue;
			}
			return plain_end(r, start, q, n, nf); /* or a lone CR, a NUL: csv_next()'s */
		}
		if ((size_t)(next - start) > r->max_record)
			return -1;
		p = next;
	}
#else
	(void)r;
	(void)f;
	(void)nf;
#endif
	return -1;
}

static const uint64_t pow10_int[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/*
 * The exponent whose text starts at P, after its e or E ([+-]digits, before END), into *OUT; at most 100000 either
 * way (far past a double's range: the same double). Returns the byte after its digits, or NULL when it has none.
 */
static const char *exponent(const char *p, const char *end, long *out)
{
	int neg = 0;
	long v = 0;
	const char *digits;

	if (p < end && (*p == '+' || *p == '-')) {
		neg = *p == '-';
		p++;
	}
	for (digits = p; p < end && (unsigned)(*p - '0') < 10; p++)
		if (v < 100000)
			v = v * 10 + (*p - '0');
	*out = neg ? -v : v;
	return p > digits ? p : NULL;
}

/*
 * The plain decimal at *PP ([+-]digits[.digits][e[+-]digits], at most 19 significant digits), ended by a comma, a
 * line break or END, into *OUT exactly as csv_parse_double() would (the same digits and exponent to exact_decimal());
 * *PP moves to the end byte. Returns -1, *PP unmoved, for anything else, or a number exact_decimal() leaves to strtod
 * (csv_parse_double() decides).
 */
static int plain_number(const char **pp, const char *end, double *out)
{
	const char *p = *pp;
	uint64_t m = 0;
	int nsig = 0;
	int ndigits = 0;
	long frac = 0;
	long exp10 = 0; /* the exponent as written */
	int neg = 0;

	if (p < end && (*p == '-' || *p == '+')) {
		neg = *p == '-';
		p++;
	}
	for (; p < end && (unsigned)(*p - '0') < 10; p++, ndigits++) {
		if (m == 0 && *p == '0')
			continue;
		m = m * 10 + (unsigned)(*p - '0');
		nsig++;
	}
	if (p < end && *p == '.') {
		/* up to 8 digits at a time (6 in most files, 16-17 as Python and pandas write them), while they fit
		 * in 19; the rest, near the end of the file, one at a time */
		for (p++; end - p >= 8 && nsig <= 11;) {
			uint64_t x;
			unsigned k;

			memcpy(&x, p, sizeof x);
			k = csv_digit_run(x);
			if (k == 0)
				break;
			if (m == 0) { /* leading zeros are not significant */
				uint64_t nz = x ^ UINT64_C(0x3030303030303030);
				unsigned z = nz ? (unsigned)__builtin_ctzll(nz) / 8 : 8;

				nsig = z < k ? (int)(k - z) : 0;
			} else {
				nsig += (int)k;
			}
			m = m * pow10_int[k] + csv_digits_value(x, k);
			p += k;
			ndigits += (int)k;
			frac += (int)k;
			if (k < 8)
				break;
		}
		for (; p < end && (unsigned)(*p - '0') < 10; p++, ndigits++, frac++) {
			if (m == 0 && *p == '0')
				continue;
			m = m * 10 + (unsigned)(*p - '0');
			nsig++;
		}
	}
	if (p < end && (*p | 0x20) == 'e' && !(p = exponent(p + 1, end, &exp10))) /* 7.785064452804982e-05 */
		return -1;
	if (ndigits == 0 || nsig > 19 || !at_field_end(p, end))
		return -1;
	if (m == 0) {
		*out = neg ? -0.0 : 0.0;
	} else {
		double v;

		if (exact_decimal(m, exp10 - frac, &v) != 0) /* csv_parse_double() takes the same path */
			return -1;
		*out = neg ? -v : v;
	}
	*pp = p;
	return 0;
}

static const uint32_t micro_place[6] = {100000, 10000, 1000, 100, 10, 1};

/*
 * The decimal at *PP in millionths when it is written 0 or 1, then a dot and one to six digits or nothing, or a dot
 * and one to six digits, at most 1, and ended by a comma, a line break or END: into *OUT, *PP moved to the end
 * byte. The double plain_number() reads from such text is the millionths' quotient by 10^6, correctly rounded
 * (score_micro() in metrics.h). Returns -1, *PP unmoved, for anything else. A reader of its own rather than
 * plain_number()'s digits: sharing them cost 5-7 % more CPU on six-place files (measured on 2026-12-05); scorer_csv
 * checks that both agree on random records.
 */
static int micro_number(const char **pp, const char *end, uint32_t *out)
{
	const char *p = *pp;
	uint32_t v = 0;
	int k = 0;

	if (p < end && (*p == '0' || *p == '1')) {
		v = (uint32_t)(*p - '0') * 1000000u;
		p++;
	} else if (p >= end || *p != '.') {
		return -1;
	}
	if (p < end && *p == '.') {
		for (p++; k < 6 && p < end && (unsigned)(*p - '0') < 10; k++, p++)
			v += (uint32_t)(*p - '0') * micro_place[k];
		if (k == 0)
			return -1; /* "0." and "." are plain_number()'s to judge */
	}
	if (v > 1000000u || !at_field_end(p, end))
		return -1; /* above 1, a seventh digit, an exponent...: not millionths */
	*out = v;
	*pp = p;
	return 0;
}

int csv_next_numbers(struct csv_reader *r, struct csv_field *id, double *v, uint32_t *micro, int nv, int proba)
{
	const char *start = r->p;
	const char *end = r->end;
	const char *p;
	int k;

	read_ahead(r->p);
	if (start < end && *start == '"') { /* quoted, as R's write.csv() and Python's csv.QUOTE_NONNUMERIC write it */
		const char *q = quote_close(start + 1, end);

		if (!q)
			return -1;
		id->s = r->p + 1;
		id->len = (size_t)(q - id->s);
		p = q + 1;
	} else {
		p = scan_unquoted(r->p, r->end);
		id->s = r->p;
		id->len = (size_t)(p - start);
		if (memchr(start, '"', id->len))
			return -1;
	}
	if (p >= end || *p != ',' || id->len == 0)
		return -1;
	for (k = 0; k < nv; k++) {
		const char *q = NULL; /* a quoted value's closing quote (csv.QUOTE_ALL) */
		const char *vend = end;

		p++; /* the comma */
		if (p < end && *p == '"') {
			if (!(q = quote_close(p + 1, end)))
				return -1;
			p++;
			vend = q; /* the number must end there */
		}
		if (micro ? micro_number(&p, vend, &micro[k]) != 0
		          : plain_number(&p, vend, &v[k]) != 0 || (proba && !(v[k] >= 0.0 && v[k] <= 1.0)))
			return -1;
		if (q) {
			if (p != q || !at_field_end(q + 1, end))
				return -1;
			p = q + 1;
		}
		if ((k + 1 < nv) != (p < end && *p == ','))
			return -1; /* a field too few or too many: csv_next() counts them */
	}
	if (p < end && *p == '\r') {
		if (p + 1 >= end || p[1] != '\n')
			return -1; /* a lone CR: csv_next() */
		p++;
	}
	if ((size_t)(p + (p < end) - start) > r->max_record)
		return -1;
	r->line = r->next_line;
	if (p < end) { /* the LF; at the end of the file, no line break to count */
		p++;
		r->next_line++;
	}
	r->p = (char *)p;
	return 0;
}

int csv_field_ieq(const char *s, size_t len, const char *word)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char a = (unsigned char)s[i];
		unsigned char b = (unsigned char)word[i];

		if (b == '\0')
			return 0;
		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a + 32);
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b + 32);
		if (a != b)
			return 0;
	}
	return word[len] == '\0';
}

#define NUM_TEXT_MAX 400

enum csv_num csv_parse_double(const char *s, size_t len, double *out)
{
	const char *p = s;
	const char *e = s + len;
	const char *num;
	uint64_t m = 0;
	int nsig = 0;
	int ndigits = 0;
	int inexact = 0;
	long exp10 = 0;
	int neg = 0;

	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	num = p;
	if (p < e && (*p == '+' || *p == '-')) {
		neg = *p == '-';
		p++;
	}
	if (p < e && (*p == 'n' || *p == 'N' || *p == 'i' || *p == 'I')) {
		size_t wl = (size_t)(e - p);

		if (csv_field_ieq(p, wl, "nan") || csv_field_ieq(p, wl, "inf") || csv_field_ieq(p, wl, "infinity"))
			return CSV_NUM_NONFINITE;
		return CSV_NUM_BAD;
	}
	for (; p < e && *p >= '0' && *p <= '9'; p++, ndigits++) {
		unsigned d = (unsigned)(*p - '0');

		if (m == 0 && d == 0)
			continue;
		if (nsig < 19) {
			m = m * 10 + d;
			nsig++;
		} else {
			exp10++;
			inexact = 1;
		}
	}
	if (p < e && *p == '.') {
		for (p++; p < e && *p >= '0' && *p <= '9'; p++, ndigits++) {
			unsigned d = (unsigned)(*p - '0');

			if (m == 0 && d == 0) {
				exp10--;
			} else if (nsig < 19) {
				m = m * 10 + d;
				nsig++;
				exp10--;
			} else {
				inexact = 1;
			}
		}
	}
	if (ndigits == 0)
		return CSV_NUM_BAD;
	if (p < e && (*p == 'e' || *p == 'E')) {
		long ev;

		if (!(p = exponent(p + 1, e, &ev)))
			return CSV_NUM_BAD;
		exp10 += ev;
	}
	if (p != e)
		return CSV_NUM_BAD;
	if (m == 0) {
		*out = neg ? -0.0 : 0.0;
		return CSV_NUM_OK;
	}
	if (!inexact) {
		double v;

		if (exact_decimal(m, exp10, &v) == 0) {
			*out = neg ? -v : v;
			return CSV_NUM_OK;
		}
	}
	{
		char buf[NUM_TEXT_MAX + 1];
		size_t n = (size_t)(e - num);
		char *endp = NULL;
		double v;

		if (n > NUM_TEXT_MAX)
			return CSV_NUM_BAD;
		memcpy(buf, num, n);
		buf[n] = '\0';
		errno = 0;
		v = strtod(buf, &endp);
		if (endp != buf + n)
			return CSV_NUM_BAD;
		if (!isfinite(v))
			return CSV_NUM_NONFINITE;
		*out = v;
	}
	return CSV_NUM_OK;
}

/* Length of the valid UTF-8 sequence at S (at most N bytes), or 0 if it is not valid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t need;
	size_t i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		need = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		need = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
		return 0; /* line separators and bidi overrides are shown escaped */
	return need;
}

void csv_printable(const char *s, size_t len, size_t maxchars, char *out, size_t outlen)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	size_t o = 0;
	size_t chars = 0;

	if (outlen == 0)
		return;
	while (i < len) {
		size_t l = utf8_seq(u + i, len - i);
		char esc[8];
		const char *piece = (const char *)(u + i);
		size_t plen = l;

		if (chars >= maxchars) {
			if (o + 4 <= outlen - 1) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (l == 0 || (l == 1 && (u[i] < 0x20 || u[i] == 0x7F))) {
			static const char hex[] = "0123456789abcdef";

			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[u[i] >> 4];
			esc[3] = hex[u[i] & 15];
			piece = esc;
			plen = 4;
			l = 1;
		}
		if (o + plen + 4 > outlen - 1) {
			if (o + 4 <= outlen - 1) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, piece, plen);
		o += plen;
		i += l;
		chars++;
	}
	out[o] = '\0';
}
