/*
 * test_xsum.c: the exact sum (scorer/xsum.h) against sums worked by hand (cancellation, ties to even, subnormals,
 * infinities) and against a 128-bit integer reference on random terms: the value is the exact sum rounded once,
 * whatever the terms' order, however they are split and merged, through the lane and the digits alike.
 */
#include "xsum.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int failures;

static void same(const char *what, double got, double want)
{
	/* bit for bit: +0 and -0 differ, NaN equals NaN */
	if (memcmp(&got, &want, sizeof got) != 0 && !(isnan(got) && isnan(want))) {
		fprintf(stderr, "%s: got %a (%.17g), expected %a (%.17g)\n", what, got, got, want, want);
		failures++;
	}
}

static double sum_of(const double *x, size_t n)
{
	struct xsum s;
	size_t i;

	xsum_init(&s);
	for (i = 0; i < n; i++)
		xsum_add(&s, x[i]);
	return xsum_value(&s);
}

#define SUM(what, want, ...)                                                                                           \
	do {                                                                                                           \
		const double x_[] = {__VA_ARGS__};                                                                     \
		same(what, sum_of(x_, sizeof x_ / sizeof x_[0]), want);                                                \
	} while (0)

static void by_hand(void)
{
	const double two53 = 9007199254740992.0;

	same("no term", sum_of(NULL, 0), 0.0);
	SUM("one term", 0.1, 0.1);
	SUM("-0 alone sums to +0", 0.0, -0.0);
	SUM("a cancelling sum is +0", 0.0, 0.1, -0.1);
	SUM("1 between two huge terms that cancel", 1.0, 1e100, 1.0, -1e100);
	SUM("no overflow on the way", 1e308, 1e308, 1e308, 1e308, -1e308, -1e308);
	SUM("beyond every double", INFINITY, DBL_MAX, DBL_MAX);
	SUM("2^53 + 1: a tie, to the even 2^53", two53, two53, 1.0);
	SUM("2^53 + 3: a tie, to the even 2^53 + 4", two53 + 4.0, two53 + 2.0, 1.0);
	SUM("2^53 + 1 + 2^-60: above the tie, up", two53 + 2.0, two53, 1.0, 0x1p-60);
	SUM("2^53 + 1 - 2^-60: below the tie, down", two53, two53, 1.0, -0x1p-60);
	SUM("2^53 + 1 + 1: exact", two53 + 2.0, two53, 1.0, 1.0);
	SUM("negative, a tie to even", -two53, -two53, -1.0);
	SUM("0.1 ten times, rounded once", 1.0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1);
	SUM("subnormals", 3 * DBL_TRUE_MIN, DBL_TRUE_MIN, DBL_TRUE_MIN, DBL_TRUE_MIN);
	SUM("the smallest normal less the smallest subnormal", DBL_MIN - DBL_TRUE_MIN, DBL_MIN, -DBL_TRUE_MIN);
	SUM("a huge term and a subnormal", DBL_MAX, DBL_MAX, DBL_TRUE_MIN);
	SUM("infinity wins over finite terms", -INFINITY, 1.0, -INFINITY, 1e300);
	SUM("inf - inf is NaN", NAN, INFINITY, 1.0, -INFINITY);
	SUM("NaN", NAN, 1.0, NAN);
	/* the lane takes [2^-44, 2^8) with every bit at least 2^-96; the digits the rest: mixed, exactly */
	SUM("lane and digits", 256.0 + 0x1p-44 + 0x1p-45, 256.0, 0x1p-44, 0x1p-45);
	SUM("lane and digits cancel", 0x1p-100, 255.5, 0x1p-100, -255.5);
	SUM("a lane term's lowest bit at 2^-96", 0x1p-44 + 0x1p-96, 0x1p-44 + 0x1p-96, 0.0);
	SUM("just below the lane's top", 0x1p8 - 0x1p-45, 0x1p8 - 0x1p-45, -0.0);
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t next(void)
{
	uint64_t z = (rng += 0x9E3779B97F4A7C15u);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

/*
 * N random terms, each K x 2^-SCALE with |K| < 2^62 and at most 53 significant bits (so exact as doubles), into X;
 * their sum, exact in 128 bits, converted once (correctly rounded) and scaled (exactly) is the reference.
 */
static double random_terms(double *x, size_t n, int scale)
{
	__int128 ref = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int64_t k = (int64_t)((next() >> 11) << (next() % 10)) >> (next() % 40);

		if (next() & 1)
			k = -k;
		x[i] = ldexp((double)k, -scale);
		ref += k;
	}
	return ldexp((double)ref, -scale);
}

/* The value of X[0..N) added in the order of PERM, in two parts merged when SPLIT < N. */
static double sum_perm(const double *x, const size_t *perm, size_t n, size_t split)
{
	struct xsum a;
	struct xsum b;
	size_t i;

	xsum_init(&a);
	xsum_init(&b);
	for (i = 0; i < n; i++)
		xsum_add(i < split ? &a : &b, x[perm[i]]);
	xsum_merge(&a, &b);
	return xsum_value(&a);
}

static void random_sums(void)
{
	size_t n = 100000;
	double *x = malloc(n * sizeof *x);
	size_t *perm = malloc(n * sizeof *perm);
	int scales[] = {20, 60, 100,
	                1074}; /* terms up to 2^42 (digits), around 1 (the lane), tiny, near the subnormals */
	size_t i;
	int s;

	if (!x || !perm) {
		fprintf(stderr, "no memory\n");
		exit(1);
	}
	for (s = 0; s < 4; s++) {
		double want = random_terms(x, n, scales[s]);
		char what[96];

		for (i = 0; i < n; i++)
			perm[i] = i;
		snprintf(what, sizeof what, "random terms times 2^-%d, in order", scales[s]);
		same(what, sum_perm(x, perm, n, n), want);
		for (i = n - 1; i > 0; i--) { /* Fisher-Yates */
			size_t j = (size_t)(next() % (i + 1));
			size_t t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		snprintf(what, sizeof what, "random terms times 2^-%d, shuffled, in two merged parts", scales[s]);
		same(what, sum_perm(x, perm, n, n / 3), want);
	}
	free(x);
	free(perm);
}

/* More terms than the lane holds (2^22) go to the digits on the way; a carry midway changes nothing. */
static void long_sums(void)
{
	size_t n = ((size_t)1 << 23) + 12345; /* 2^24 terms near 2^8: 2^22 of them in the lane come near its 2^127 */
	struct xsum s;
	size_t i;
	double want;

	xsum_init(&s);
	for (i = 0; i < n; i++) {
		xsum_add(&s, 255.75);
		xsum_add(&s, -0x1p-44);
		if (i == n / 2)
			xsum_carry(&s);
	}
	want = (double)n * 255.75 - (double)n * 0x1p-44; /* both products exact; their difference rounds once */
	same("2^23 + 12345 pairs of lane terms", xsum_value(&s), want);
}

int main(void)
{
	by_hand();
	random_sums();
	long_sums();
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	puts("scorer exact sum tests passed");
	return 0;
}
