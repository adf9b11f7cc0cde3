/*
 * rank.c: the ranking metrics, ROC AUC and average precision, one class against the rest (see rank.h), and the radix
 * sort on order-preserving 64-bit keys they rank by (metrics.h: score_sort_keys(), which the c-index and the jury's
 * statistics use too).
 *
 * Hot path of every ranking run: values of six decimals at most are counted in bins of 10^-6 instead of sorted (one
 * pass, no key array); others are sorted as keys, the positives and negatives of each split apart (without a split
 * column, of each half of the rows), on both cores.
 * Pair counts are exact integers, ties counting one half, as scikit-learn's.
 */
#include "rank.h"
#include "mem.h"
#include "par.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RADIX_BITS_MAX 11 /* a pass's digit: 2,048 counters; wider digits (8,192) made 10M keys slower to sort */

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return (a > b) - (a < b);
}

#define HIGH_BIT 31         /* keys are sorted by their bits from here up first: three passes instead of six */
#define SMALL_TIE 16        /* runs that tie on those bits: sorted by insertion up to this length, */
#define LARGE_TIE (1 << 16) /* by qsort up to this one, by the radix sort above it */

/* Sorts A[0..N) ascending by insertion (a short run, often already in order). */
static void insertion_sort(uint64_t *a, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++) {
		uint64_t k = a[i];
		size_t j = i;

		while (j > 0 && a[j - 1] > k) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = k;
	}
}

/* Sorts A[0..N), keys that tie on their high bits, with TMP[0..N) as scratch. */
static void sort_tie_run(uint64_t *a, uint64_t *tmp, size_t n)
{
	if (n <= SMALL_TIE)
		insertion_sort(a, n);
	else if (n <= LARGE_TIE)
		qsort(a, n, sizeof *a, cmp_u64);
	else
		score_sort_keys_from(a, tmp, n, 0);
}

void score_sort_keys(uint64_t *a, uint64_t *tmp, size_t n)
{
	size_t i = 1;

	/* the high 33 bits of a probability's key (sign, exponent, 21 bits of mantissa) tell apart values 1e-6 apart
	 * from 0.5 to 1: ties on them are mostly equal values, already in order */
	score_sort_keys_from(a, tmp, n, HIGH_BIT);
	/* a key below the one before it is in a run that ties on the high bits (they are in order) and kept the order
	 * it came in: only such runs are sorted, found by one look at each pair rather than run by run */
	while (i < n) {
		uint64_t high;
		size_t first;
		size_t end;

		if (a[i] >= a[i - 1]) {
			i++;
			continue;
		}
		high = a[i] >> HIGH_BIT;
		first = i - 1;
		while (first > 0 && a[first - 1] >> HIGH_BIT == high)
			first--;
		end = i + 1;
		while (end < n && a[end] >> HIGH_BIT == high)
			end++;
		sort_tie_run(a + first, tmp, end - first);
		i = end + 1; /* a[end] starts higher bits: above a[end - 1] */
	}
}

void score_sort_keys_from(uint64_t *a, uint64_t *tmp, size_t n, unsigned lowbit)
{
	/* On the heap: 96 KiB of thread-local storage would be charged to every thread of every program that
	 * links this library, and the HTTP server's worker threads have 100 KiB stacks. */
	size_t *count;
	uint64_t *src = a;
	uint64_t *dst = tmp;
	uint64_t diff = 0;
	size_t i;
	unsigned width;
	unsigned digit;
	unsigned npass;
	unsigned pass;
	size_t mask;

	if (n < 2 || lowbit >= 64)
		return;
	for (i = 1; i < n; i++)
		diff |= a[i] ^ a[0];
	diff >>= lowbit;
	if (diff == 0)
		return; /* every key has the same bits from LOWBIT up */
	/* only the bits that vary are sorted on, in as few passes of at most RADIX_BITS_MAX bits as they need, of equal
	 * width: probabilities from 1e-7 to 1 vary in 26 bits from HIGH_BIT up: three passes of 9 bits,
	 * 0.12 s for 10M keys instead of 0.16 s with 11-bit digits over all 33 */
	width = 64 - (unsigned)__builtin_clzll(diff);
	npass = (width + RADIX_BITS_MAX - 1) / RADIX_BITS_MAX;
	digit = (width + npass - 1) / npass;
	mask = ((size_t)1 << digit) - 1;
	count = calloc((size_t)npass << digit, sizeof *count);
	if (count == NULL) {
		qsort(a, n, sizeof *a, cmp_u64);
		return;
	}
	for (i = 0; i < n; i++) {
		uint64_t k = a[i] >> lowbit;

		for (pass = 0; pass < npass; pass++)
			count[((size_t)pass << digit) + ((k >> (pass * digit)) & mask)]++;
	}
	for (pass = 0; pass < npass; pass++) {
		size_t *c = count + ((size_t)pass << digit);
		unsigned shift = pass * digit + lowbit;
		size_t sum = 0;
		size_t d;
		uint64_t *t;

		if (c[(src[0] >> shift) & mask] == n)
			continue; /* every key has the same digit: nothing to do */
		for (d = 0; d <= mask; d++) {
			size_t v = c[d];

			c[d] = sum;
			sum += v;
		}
		for (i = 0; i < n; i++) {
			uint64_t k = src[i];

			dst[c[(k >> shift) & mask]++] = k;
		}
		t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof *a);
	free(count);
}

/* ---- ranking metrics: ROC AUC and average precision, one class against the rest ---- */

/*
 * Gathers the scores of column COL as sort keys: positives (truth == POS) at the front of KEYS, negatives at
 * the back, then sorts both parts ascending. *NPOS gets the positives' count.
 */
static void gather_ranked(const struct score_data *d, const uint32_t *rows, size_t n, int pos, int col, uint64_t *keys,
                          uint64_t *tmp, size_t *npos)
{
	size_t i;
	size_t np = 0;
	size_t nn = 0;

	for (i = 0; i < n; i++) {
		size_t r = SCORE_ROW(rows, i);
		uint64_t k = score_sort_key(score_value(d, r * (size_t)d->ncol + (size_t)col));

		if (d->y[r] == pos)
			keys[np++] = k;
		else
			keys[n - 1 - nn++] = k;
	}
	score_sort_keys(keys, tmp, np);
	score_sort_keys(keys + np, tmp, nn);
	*npos = np;
}

/*
 * Twice the number of (positive, negative) pairs the keys put in order, a tie counting one: exact. The Mann-Whitney
 * form of the area under the ROC curve is that over twice the number of pairs.
 */
static uint64_t pairs_sorted(const uint64_t *pos, size_t np, const uint64_t *neg, size_t nn)
{
	size_t i = 0;
	size_t j = 0;
	uint64_t twice = 0; /* 2 x the number of correctly ordered pairs, exact */

	while (i < np) {
		uint64_t v = pos[i];
		size_t cp = 0;
		size_t below;
		size_t tied = 0;

		while (j < nn && neg[j] < v)
			j++;
		below = j;
		while (j + tied < nn && neg[j + tied] == v)
			tied++;
		while (i < np && pos[i] == v) {
			i++;
			cp++;
		}
		twice += (uint64_t)cp * (2 * (uint64_t)below + (uint64_t)tied);
	}
	return twice;
}

static double auc_sorted(const uint64_t *pos, size_t np, const uint64_t *neg, size_t nn)
{
	return (double)pairs_sorted(pos, np, neg, nn) / (2.0 * (double)np * (double)nn);
}

/*
 * Two sorted runs read as one, highest first (ap_walk()): run2_top() gives the highest key left, run2_take(V)
 * removes the keys equal to V left at the top of either run (none when V is above both) and counts them.
 */
struct run2 {
	const uint64_t *a;
	size_t na;
	const uint64_t *b;
	size_t nb;
};

static int run2_top(const struct run2 *r, uint64_t *v)
{
	if (r->na == 0 && r->nb == 0)
		return 0;
	*v = r->na == 0                                         ? r->b[r->nb - 1]
	     : r->nb == 0 || r->a[r->na - 1] >= r->b[r->nb - 1] ? r->a[r->na - 1]
	                                                        : r->b[r->nb - 1];
	return 1;
}

static size_t run2_take(struct run2 *r, uint64_t v)
{
	size_t c = 0;

	while (r->na > 0 && r->a[r->na - 1] == v) {
		r->na--;
		c++;
	}
	while (r->nb > 0 && r->b[r->nb - 1] == v) {
		r->nb--;
		c++;
	}
	return c;
}

/* The keys of the sorted run A[0..*N) at or above V, taken from its top: *N goes below them. */
static inline size_t take_at_or_above(const uint64_t *a, size_t *n, uint64_t v)
{
	size_t k = *n;
	size_t taken;

	while (k > 0 && a[k - 1] >= v)
		k--;
	taken = *n - k;
	*n = k;
	return taken;
}

/*
 * sklearn's average_precision_score: sum over distinct thresholds (highest first) of dRecall x precision. Only
 * thresholds that are a positive's value add a term: the walk goes down the positives' distinct values, and at each
 * counts the negatives at or above it (a cursor down each negative run). The positives and the negatives may each be
 * in two runs: the thresholds are the same, and so is the sum to the bit, as over the runs merged.
 */
static double ap_walk(struct run2 pos, struct run2 neg)
{
	double np = (double)(pos.na + pos.nb);
	size_t tp = 0;
	size_t fp = 0;
	double ap = 0.0;
	uint64_t v;

	while (run2_top(&pos, &v)) {
		size_t cp = run2_take(&pos, v);

		tp += cp;
		fp += take_at_or_above(neg.a, &neg.na, v);
		fp += take_at_or_above(neg.b, &neg.nb, v);
		ap += ((double)cp / np) * ((double)tp / (double)(tp + fp));
	}
	return ap;
}

enum rank_kind { RANK_AUC, RANK_AP };

/*
 * The walks of one class of ranked_splits() over its four sorted runs (OFF, CNT: public positives, public
 * negatives, private positives, private negatives), one HALF on each thread, no run merged: for roc_auc, half
 * 0 counts the public positives' pairs with each split's negatives, half 1 the private positives'; the pairs
 * over all rows are the sum of the four counts. For average_precision, half 0 walks all rows (the runs read
 * two by two as one), half 1 each split.
 */
struct walk_job {
	const uint64_t *keys;
	const size_t *off;
	const size_t *cnt;
	enum rank_kind kind;
	int half;
	int all_only;      /* the value over all rows only (no split): half 1 has no average_precision to walk */
	uint64_t twice[2]; /* roc_auc: pairs with this split's negatives, with the other split's */
	double ap[2];      /* average_precision: half 0 all rows; half 1 public, private */
};

/*
 * Ranking metrics on decimals of at most six places, as most prediction files write probabilities: a value's bin,
 * round(v x 10^6), orders the values as their sort keys do (distinct such values are 1e-6 apart at least), so
 * a count of each run's values per bin replaces the sort: one pass over the rows, no key array, and the walk of
 * the bins gives the same pair counts and the same average precision (its thresholds are the bins in use, highest
 * first, as ap_walk()'s are the distinct keys). A column with any other value goes to the sort.
 */
#define QUANT_BINS (SCORE_MICRO_MAX + 1) /* 0, 1e-6, ..., 1: a value's bin is its millionths (score_micro()) */
#define QUANT_MIN_ROWS 250000            /* below, sorting costs less than walking the bins */

/*
 * One thread's counts: rows [FIRST, LAST) of column COL into COUNT, 4 x QUANT_BINS, by run (public positives,
 * public negatives, private positives, private negatives; every row public without SPLIT) and bin. OK is 0 when
 * a value has no bin (COUNT is then partly filled). The runs' sizes are not counted here: an increment of one of
 * four counters a row, in memory, chains each row to the last (it took half the pass).
 */
struct quant_half {
	const struct score_data *d;
	const uint8_t *split;
	int own; /* without SPLIT: the split of all this half's rows (struct rank_half) */
	size_t first;
	size_t last;
	size_t col;
	int pos;
	uint32_t *count;
	int ok;
};

/* The counter of row R in Q's counts, or -1 when its value has no bin. */
static inline ptrdiff_t quant_slot(const struct quant_half *q, size_t r)
{
	const struct score_data *d = q->d;
	size_t i = r * (size_t)d->ncol + q->col;
	int32_t b = d->micro ? (int32_t)d->micro[i] : score_micro(d->p[i]);
	size_t run = (size_t)(q->split ? q->split[r] : q->own) * 2 + (d->y[r] != q->pos);

	return b < 0 ? -1 : (ptrdiff_t)(run * QUANT_BINS + (size_t)b);
}

#define QUANT_AHEAD 16 /* rows whose counter is fetched ahead: the counters are 16 MB a core, out of the caches */

static void *quant_count(void *arg)
{
	struct quant_half *q = arg;
	ptrdiff_t ahead[QUANT_AHEAD]; /* the counters of the last QUANT_AHEAD rows found, fetched, not counted yet */
	size_t r;

	q->ok = 0;
	for (r = q->first; r < q->last + QUANT_AHEAD; r++) {
		if (r >= q->first + QUANT_AHEAD)
			q->count[ahead[r % QUANT_AHEAD]]++; /* row r - QUANT_AHEAD's */
		if (r < q->last) {
			ahead[r % QUANT_AHEAD] = quant_slot(q, r);
			if (ahead[r % QUANT_AHEAD] < 0)
				return NULL;
			__builtin_prefetch(q->count + ahead[r % QUANT_AHEAD], 1);
		}
	}
	q->ok = 1;
	return NULL;
}

/* Bin B of each run, both halves summed, into V; zeroes it for the next class. Returns 0 when all four are 0. */
static int bin_take(uint32_t *run[2][4], size_t b, uint64_t v[4])
{
	int i;

	for (i = 0; i < 4; i++) {
		v[i] = (uint64_t)run[0][i][b] + run[1][i][b];
		run[0][i][b] = run[1][i][b] = 0;
	}
	return (v[0] | v[1] | v[2] | v[3]) != 0;
}

/*
 * Walks the bins of both halves' counts C0 and C1 (zeroing them for the next class) into WJ, as walk_runs() fills
 * it from the sorted runs: roc_auc's pairs (lowest bin first, the negatives below counted as it goes), or
 * average_precision's three sums (highest bin first, each in the order and with the operations of ap_walk()).
 */
static void quant_walk(uint32_t *c0, uint32_t *c1, const size_t *cnt, struct walk_job wj[2])
{
	uint32_t *run[2][4];
	size_t b;
	int i;

	for (i = 0; i < 4; i++) {
		run[0][i] = c0 + (size_t)i * QUANT_BINS;
		run[1][i] = c1 + (size_t)i * QUANT_BINS;
	}
	if (wj[0].kind == RANK_AUC) {
		uint64_t below[2] = {0, 0}; /* negatives of each split in the bins walked */

		for (b = 0; b < QUANT_BINS; b++) {
			uint64_t v[4];

			if (!bin_take(run, b, v))
				continue;
			wj[0].twice[0] += v[0] * (2 * below[0] + v[1]);
			wj[0].twice[1] += v[0] * (2 * below[1] + v[3]);
			wj[1].twice[0] += v[2] * (2 * below[1] + v[3]);
			wj[1].twice[1] += v[2] * (2 * below[0] + v[1]);
			below[0] += v[1];
			below[1] += v[3];
		}
		return;
	}
	{
		double np[3] = {(double)(cnt[0] + cnt[2]), (double)cnt[0], (double)cnt[2]};
		size_t tp[3] = {0, 0, 0};
		size_t fp[3] = {0, 0, 0};
		double ap[3] = {0.0, 0.0, 0.0};
		int s;

		for (b = QUANT_BINS; b-- > 0;) {
			uint64_t v[4];

			if (!bin_take(run, b, v))
				continue;
			for (s = 0; s < 3; s++) { /* all rows, public, private */
				size_t cp = s == 0 ? v[0] + v[2] : v[(s - 1) * 2];

				fp[s] += s == 0 ? v[1] + v[3] : v[(s - 1) * 2 + 1];
				tp[s] += cp;
				if (cp > 0)
					ap[s] += ((double)cp / np[s]) * ((double)tp[s] / (double)(tp[s] + fp[s]));
			}
		}
		wj[0].ap[0] = ap[0];
		wj[1].ap[0] = ap[1];
		wj[1].ap[1] = ap[2];
	}
}

/*
 * Class POS's column COL of all rows by bins (SPLIT as in quant_count(); without it, each half of the rows is a
 * split of its own, as in struct rank_half), on THREADS threads: counts into *QUANT (8 x QUANT_BINS, allocated at
 * the first call), then the walk into WJ (their KIND set). CNT holds the runs' sizes. Returns 1, or 0 when a value
 * has no bin or memory is short: *QUANT is then freed and *OFF set, and this class and the next ones are sorted.
 */
static int quant_ranked(const struct score_data *d, const uint8_t *split, int pos, size_t col, int threads,
                        uint32_t **quant, int *off, const size_t cnt[4], struct walk_job wj[2])
{
	struct quant_half q[2];
	int h;

	/* CONCOURS_SCORE_BINS_TEST (tests): bins however few the rows, so that small files meet this path too */
	if (*off || (d->n < QUANT_MIN_ROWS && !getenv("CONCOURS_SCORE_BINS_TEST")) ||
	    getenv("CONCOURS_SCORE_NO_BINS")) {
		*off = 1;
		return 0;
	}
	if (!*quant)
		*quant = score_big_array((size_t)8 * QUANT_BINS, sizeof **quant);
	if (!*quant) {
		*off = 1;
		return 0;
	}
	for (h = 0; h < 2; h++)
		q[h] = (struct quant_half){.d = d,
		                           .split = split,
		                           .own = split ? 0 : h,
		                           .first = h ? d->n / 2 : 0,
		                           .last = h ? d->n : d->n / 2,
		                           .col = col,
		                           .pos = pos,
		                           .count = *quant + (size_t)h * 4 * QUANT_BINS};
	score_par2_on(threads, quant_count, &q[1], quant_count, &q[0]);
	if (!q[0].ok || !q[1].ok) {
		score_big_free(*quant);
		*quant = NULL;
		*off = 1;
		return 0;
	}
	quant_walk(*quant, *quant + (size_t)4 * QUANT_BINS, cnt, wj);
	return 1;
}

/* The metric KIND of the sorted positives KEYS[0..NP) and negatives KEYS[NP..NP + NN). */
static double rank_value(enum rank_kind kind, const uint64_t *keys, size_t np, size_t nn)
{
	return kind == RANK_AUC ? auc_sorted(keys, np, keys + np, nn)
	                        : ap_walk((struct run2){keys, np, NULL, 0}, (struct run2){keys + np, nn, NULL, 0});
}

/* The keys and the scratch of a sort of N values, allocated at the first class that needs them (a file whose values
 * all have bins needs none). Returns 0, or -1 when memory is short (*KEYS and *TMP are freed by the caller). */
static int sort_arrays(size_t n, uint64_t **keys, uint64_t **tmp)
{
	if (!*keys)
		*keys = score_big_raw(n, sizeof **keys);
	if (!*tmp)
		*tmp = score_big_raw(n, sizeof **tmp);
	return *keys && *tmp ? 0 : -1;
}

static enum score_fn_status ranked_runs(const struct score_data *d, const uint8_t *split, double out[3], char *why,
                                        size_t whylen, enum rank_kind kind);

/* False for a binary metric whose ground truth names no positive class (one class, not "1"): no run to sort. */
static int counts_positives(const struct score_data *d)
{
	return !(d->ncol == 1 || d->nclass == 2) || (d->binary_pos >= 0 && d->binary_pos < d->nclass);
}

/*
 * The metric KIND over rows ROWS[0..N) of D (or its first N): over all rows, the runs of ranked_runs() on both cores;
 * over a subset (a split without the split function, a bootstrap resample, whose callers run on both cores already),
 * one sort of each class's positives and negatives on this thread.
 */
static enum score_fn_status ranked(const struct score_data *d, const uint32_t *rows, size_t n, double *out, char *why,
                                   size_t whylen, enum rank_kind kind)
{
	const char *name = kind == RANK_AUC ? "roc_auc" : "average_precision";
	int binary = d->ncol == 1 || d->nclass == 2;
	int ntarget = binary ? 1 : d->nclass;
	uint64_t *keys = NULL;
	uint64_t *tmp = NULL;
	enum score_fn_status st = SCORE_FN_OK;
	double sum = 0.0;
	int used = 0;
	int target;

	if (rows == NULL && n == d->n && counts_positives(d)) {
		double all[3];

		st = ranked_runs(d, NULL, all, why, whylen, kind);
		*out = all[0];
		return st;
	}
	/* binary: the positive class's column; multiclass: one class against the rest, macro average over the
	 * classes present in these rows */
	for (target = 0; target < ntarget; target++) {
		int pos = binary ? d->binary_pos : target;
		int col = binary ? (d->ncol == 1 ? 0 : d->binary_pos) : target;
		size_t np;

		if (sort_arrays(n, &keys, &tmp) != 0) {
			st = SCORE_FN_NOMEM;
			goto out;
		}
		gather_ranked(d, rows, n, pos, col, keys, tmp, &np);
		if (binary && (np == 0 || np == n)) {
			snprintf(why, whylen,
			         "%s is undefined: the ground truth holds only one class (%s) in these rows", name,
			         np == 0 ? "no positives" : "no negatives");
			st = SCORE_FN_UNDEFINED;
			goto out;
		}
		if (np == 0)
			continue;
		if (np == n) {
			snprintf(why, whylen,
			         "%s is undefined: the ground truth holds only one class ('%s') in these rows", name,
			         d->class_name[target]);
			st = SCORE_FN_UNDEFINED;
			goto out;
		}
		sum += rank_value(kind, keys, np, n - np);
		used++;
	}
	if (used == 0) {
		snprintf(why, whylen, "%s is undefined on zero rows", name);
		st = SCORE_FN_UNDEFINED;
		goto out;
	}
	*out = sum / used;
out:
	score_big_free(keys);
	score_big_free(tmp);
	return st;
}

enum score_fn_status score_roc_auc(const struct score_data *d, const uint32_t *rows, size_t n, double *out, char *why,
                                   size_t whylen)
{
	return ranked(d, rows, n, out, why, whylen, RANK_AUC);
}

enum score_fn_status score_average_precision(const struct score_data *d, const uint32_t *rows, size_t n, double *out,
                                             char *why, size_t whylen)
{
	return ranked(d, rows, n, out, why, whylen, RANK_AP);
}

/* Runs of ranked_splits() sorted by one thread (runs and their scratch are disjoint). */
struct sort_job {
	uint64_t *keys;
	uint64_t *tmp;
	const size_t *off;
	const size_t *cnt;
	int run[4];
	int nrun;
};

static void *sort_runs(void *arg)
{
	struct sort_job *sj = arg;
	int i;

	for (i = 0; i < sj->nrun; i++)
		score_sort_keys(sj->keys + sj->off[sj->run[i]], sj->tmp + sj->off[sj->run[i]], sj->cnt[sj->run[i]]);
	return NULL;
}

/* Sorts the four runs on two threads, largest first to the less loaded one. */
static void sort_four_runs(uint64_t *keys, uint64_t *tmp, const size_t *off, const size_t *cnt)
{
	struct sort_job job[2] = {{keys, tmp, off, cnt, {0}, 0}, {keys, tmp, off, cnt, {0}, 0}};
	size_t load[2] = {0, 0};
	int done[4] = {0, 0, 0, 0};
	int k;

	for (k = 0; k < 4; k++) {
		int big = -1;
		int r;
		int who;

		for (r = 0; r < 4; r++) {
			if (!done[r] && (big < 0 || cnt[r] > cnt[big]))
				big = r;
		}
		done[big] = 1;
		who = load[1] < load[0];
		job[who].run[job[who].nrun++] = big;
		load[who] += cnt[big];
	}
	score_par2(sort_runs, &job[1], sort_runs, &job[0]);
}

/*
 * One thread's half of the rows of ranked_runs(): first the rows of each split per class (COUNT, 2 x
 * (nclass + 1), the last column for labels outside the classes), then, for one class at a time, their keys
 * into the four runs, from AT on (this half's places in each run). Without SPLIT (the metric over all rows only),
 * the half's rows are a split of their own, OWN (0 for the first half, 1 for the second): the four runs of two
 * sizes, as two splits give, keep both cores busy, and the pairs over all rows are the sum of their four counts.
 */
struct rank_half {
	const struct score_data *d;
	const uint8_t *split;
	int own;
	size_t first;
	size_t last;
	size_t *count;
	int pos;
	size_t col;
	uint64_t *keys;
	size_t at[4];
};

static void *count_classes(void *arg)
{
	struct rank_half *h = arg;
	size_t w = (size_t)h->d->nclass + 1;
	size_t r;

	for (r = h->first; r < h->last; r++) {
		int32_t y = h->d->y[r];

		h->count[(size_t)(h->split ? h->split[r] : h->own) * w +
		         (y >= 0 && y < h->d->nclass ? (size_t)y : w - 1)]++;
	}
	return NULL;
}

static void *gather_runs(void *arg)
{
	struct rank_half *h = arg;
	const struct score_data *d = h->d;
	size_t r;

	for (r = h->first; r < h->last; r++)
		h->keys[h->at[(h->split ? h->split[r] : h->own) * 2 + (d->y[r] != h->pos)]++] =
		        score_sort_key(score_value(d, r * (size_t)d->ncol + h->col));
	return NULL;
}

static void *walk_runs(void *arg)
{
	struct walk_job *wj = arg;
	const uint64_t *k = wj->keys;
	const size_t *o = wj->off;
	const size_t *c = wj->cnt;
	int mine = wj->half ? 2 : 0; /* this half's split's positives; its negatives follow */
	int other = 2 - mine;

	if (wj->kind == RANK_AUC) {
		wj->twice[0] = pairs_sorted(k + o[mine], c[mine], k + o[mine + 1], c[mine + 1]);
		wj->twice[1] = pairs_sorted(k + o[mine], c[mine], k + o[other + 1], c[other + 1]);
	} else if (wj->half == 0) {
		wj->ap[0] = ap_walk((struct run2){k + o[0], c[0], k + o[2], c[2]},
		                    (struct run2){k + o[1], c[1], k + o[3], c[3]});
	} else if (!wj->all_only) {
		wj->ap[0] = ap_walk((struct run2){k + o[0], c[0], NULL, 0}, (struct run2){k + o[1], c[1], NULL, 0});
		wj->ap[1] = ap_walk((struct run2){k + o[2], c[2], NULL, 0}, (struct run2){k + o[3], c[3], NULL, 0});
	}
	return NULL;
}

/* The positives' and negatives' counts of all rows (S 0), the public (1) or the private split (2), from CNT's runs
 * (public positives, public negatives, private positives, private negatives). */
static void split_runs(const size_t *cnt, int s, size_t *np, size_t *nn)
{
	*np = s == 0 ? cnt[0] + cnt[2] : cnt[(s - 1) * 2];
	*nn = s == 0 ? cnt[1] + cnt[3] : cnt[(s - 1) * 2 + 1];
}

/*
 * Which of all rows, the public and the private split (USE[0..3)) a class with CNT's runs (public positives,
 * public negatives, private positives, private negatives) has a value on; with ALL_ONLY, all rows only (the runs
 * are halves of the rows, not splits). SCORE_FN_UNDEFINED with WHY set when one has a single class.
 */
static enum score_fn_status runs_usable(const struct score_data *d, int binary, int target, const size_t *cnt, int *use,
                                        int all_only, char *why, size_t whylen, enum rank_kind kind)
{
	const char *name = kind == RANK_AUC ? "roc_auc" : "average_precision";
	static const char *const where[] = {"all rows", "public split", "private split"};
	int s;

	use[1] = use[2] = 0;
	for (s = 0; s < (all_only ? 1 : 3); s++) {
		size_t np;
		size_t nn;

		split_runs(cnt, s, &np, &nn);
		use[s] = 0;
		if (s > 0 && np + nn == 0)
			continue; /* empty split: no value */
		if (!binary && np == 0)
			continue; /* class absent from these rows */
		if (np == 0 || nn == 0) {
			if (binary)
				snprintf(why, whylen,
				         "%s is undefined: the ground truth holds only one class (%s) in %s%s", name,
				         np == 0 ? "no positives" : "no negatives", all_only ? "these rows" : "the ",
				         all_only ? "" : where[s]);
			else
				snprintf(why, whylen,
				         "%s is undefined: the ground truth holds only one class ('%s') in %s%s", name,
				         d->class_name[target], all_only ? "these rows" : "the ",
				         all_only ? "" : where[s]);
			return SCORE_FN_UNDEFINED;
		}
		use[s] = 1;
	}
	return SCORE_FN_OK;
}

/*
 * Ranking metrics over all rows and each split of SPLIT (OUT[0..3)), or over all rows only without SPLIT (OUT[0]),
 * with one sort per class: positives and negatives of each split (or half of the rows, struct rank_half) are
 * sorted apart (four runs that together are one sort of all rows) and walked, on both cores throughout: the rows
 * counted and gathered by halves, the runs sorted two by two, walked by halves (struct walk_job).
 */
static enum score_fn_status ranked_runs(const struct score_data *d, const uint8_t *split, double out[3], char *why,
                                        size_t whylen, enum rank_kind kind)
{
	int binary = d->ncol == 1 || d->nclass == 2;
	int ntarget = binary ? 1 : d->nclass;
	size_t n = d->n;
	size_t w = (size_t)d->nclass + 1;
	int threads = n < SCORE_PAR_MIN_ROWS ? 1 : 2;
	struct rank_half half[2];
	uint64_t *keys = NULL;
	uint64_t *tmp = NULL;
	size_t *count = NULL;
	uint32_t *quant = NULL; /* the bins of decimals of six places at most (quant_ranked()) */
	int quant_off = 0;
	enum score_fn_status st = SCORE_FN_OK;
	double sum[3] = {0.0, 0.0, 0.0};
	int used[3] = {0, 0, 0};
	int target;
	int s;
	int h;

	out[0] = out[1] = out[2] = NAN;
	count = calloc(2 * 2 * w, sizeof *count);
	if (!count) {
		st = SCORE_FN_NOMEM;
		goto out;
	}
	for (h = 0; h < 2; h++)
		half[h] = (struct rank_half){.d = d,
		                             .split = split,
		                             .own = h,
		                             .first = h ? n / 2 : 0,
		                             .last = h ? n : n / 2,
		                             .count = count + (size_t)h * 2 * w,
		                             .keys = keys};
	score_par2_on(threads, count_classes, &half[1], count_classes, &half[0]);
	/* binary: the positive class's column; multiclass: each class against the rest, macro average */
	for (target = 0; target < ntarget; target++) {
		int pos = binary ? d->binary_pos : target;
		size_t col = binary ? (d->ncol == 1 ? 0 : (size_t)d->binary_pos) : (size_t)target;
		size_t hc[2]
		         [4]; /* per half: public positives, public negatives, private positives, private negatives */
		size_t cnt[4];
		size_t off[4];
		struct walk_job wj[2];
		int use[3];

		for (h = 0; h < 2; h++) {
			for (s = 0; s < 2; s++) {
				const size_t *c = half[h].count + (size_t)s * w;
				size_t total = 0;
				size_t i;

				for (i = 0; i < w; i++)
					total += c[i];
				hc[h][s * 2] = c[pos];
				hc[h][s * 2 + 1] = total - c[pos];
			}
		}
		for (s = 0; s < 4; s++)
			cnt[s] = hc[0][s] + hc[1][s];
		st = runs_usable(d, binary, target, cnt, use, split == NULL, why, whylen, kind);
		if (st != SCORE_FN_OK)
			goto out;
		if (!use[0])
			continue; /* a class absent from every row */
		for (s = 0; s < 4; s++) {
			off[s] = s == 0 ? 0 : off[s - 1] + cnt[s - 1];
			half[0].at[s] = off[s];
			half[1].at[s] = off[s] + hc[0][s];
		}
		for (h = 0; h < 2; h++) {
			half[h].pos = pos;
			half[h].col = col;
			wj[h] = (struct walk_job){.off = off, .cnt = cnt, .kind = kind, .half = h, .all_only = !split};
		}
		if (!quant_ranked(d, split, pos, col, threads, &quant, &quant_off, cnt, wj)) {
			if (sort_arrays(n, &keys, &tmp) != 0) {
				st = SCORE_FN_NOMEM;
				goto out;
			}
			half[0].keys = half[1].keys = keys;
			score_par2_on(threads, gather_runs, &half[1], gather_runs, &half[0]);
			sort_four_runs(keys, tmp, off, cnt); /* two cores */
			wj[0].keys = wj[1].keys = keys;
			score_par2_on(threads, walk_runs, &wj[1], walk_runs, &wj[0]);
		}
		for (s = 0; s < 3; s++) {
			size_t np;
			size_t nn;
			uint64_t twice = s == 0 ? wj[0].twice[0] + wj[0].twice[1] + wj[1].twice[0] + wj[1].twice[1]
			                        : wj[s - 1].twice[0];

			if (!use[s])
				continue;
			split_runs(cnt, s, &np, &nn);
			if (kind == RANK_AUC)
				sum[s] += (double)twice / (2.0 * (double)np * (double)nn);
			else
				sum[s] += s == 0 ? wj[0].ap[0] : wj[1].ap[s - 1];
			used[s]++;
		}
	}
	if (!split && used[0] == 0) {
		snprintf(why, whylen, "%s is undefined on zero rows",
		         kind == RANK_AUC ? "roc_auc" : "average_precision");
		st = SCORE_FN_UNDEFINED;
		goto out;
	}
	for (s = 0; s < 3; s++)
		out[s] = used[s] > 0 ? sum[s] / used[s] : NAN;
out:
	free(count);
	score_big_free(quant);
	score_big_free(keys);
	score_big_free(tmp);
	return st;
}

/* ranked_runs() with a split, when the metric has a positive class to count (else its own function says why not). */
static enum score_fn_status ranked_splits(const struct score_data *d, const uint8_t *split, double out[3], int *handled,
                                          char *why, size_t whylen, enum rank_kind kind)
{
	enum score_fn_status st;

	*handled = 0;
	if (!counts_positives(d))
		return SCORE_FN_OK;
	st = ranked_runs(d, split, out, why, whylen, kind);
	*handled = st == SCORE_FN_OK;
	return st;
}

enum score_fn_status score_roc_auc_splits(const struct score_data *d, const uint8_t *split, double out[3], int *handled,
                                          char *why, size_t whylen)
{
	return ranked_splits(d, split, out, handled, why, whylen, RANK_AUC);
}

enum score_fn_status score_average_precision_splits(const struct score_data *d, const uint8_t *split, double out[3],
                                                    int *handled, char *why, size_t whylen)
{
	return ranked_splits(d, split, out, handled, why, whylen, RANK_AP);
}
