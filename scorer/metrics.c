/*
 * metrics.c: the built-in metrics, with scikit-learn's semantics (ties, averaging, clipping).
 *
 * Every function reads the same parsed columns (struct score_data) through an optional row subset, so the
 * public split, the private split, the whole file and every bootstrap resample are scored by the same code.
 * Sorting is a radix sort on order-preserving 64-bit keys; counts are exact integers where they can be.
 */
#include "metrics.h"
#include "mem.h"
#include "par.h"
#include "xsum.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW(rows, i) ((rows) ? (size_t)(rows)[i] : (size_t)(i))

uint64_t score_sort_key(double v)
{
	uint64_t b;

	if (v == 0.0)
		v = 0.0; /* -0.0 and 0.0 tie */
	memcpy(&b, &v, sizeof b);
	return (b >> 63) ? ~b : (b | (UINT64_C(1) << 63));
}

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
		size_t r = ROW(rows, i);
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

/*
 * sklearn's average_precision_score: sum over distinct thresholds (highest first) of dRecall x precision. The
 * positives and the negatives may each be in two runs: the thresholds are the same, and so is the sum to the
 * bit, as over the runs merged.
 */
static double ap_walk(struct run2 pos, struct run2 neg)
{
	double np = (double)(pos.na + pos.nb);
	size_t tp = 0;
	size_t fp = 0;
	double ap = 0.0;

	for (;;) {
		uint64_t vp = 0;
		uint64_t vn = 0;
		int hp = run2_top(&pos, &vp);
		int hn = run2_top(&neg, &vn);
		uint64_t v;
		size_t cp;

		if (!hp && !hn)
			break;
		v = !hn || (hp && vp >= vn) ? vp : vn;
		cp = run2_take(&pos, v);
		fp += run2_take(&neg, v);
		tp += cp;
		if (cp > 0)
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
	size_t run = (size_t)(q->split ? q->split[r] * 2 : 0) + (d->y[r] != q->pos);

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
 * Class POS's column COL of all rows by bins (SPLIT as in quant_count()), on THREADS threads: counts into *QUANT
 * (8 x QUANT_BINS, allocated at the first call), then the walk into WJ (their KIND set). CNT holds the runs' sizes,
 * or with COUNT_RUNS gets them from the bins. Returns 1, or 0 when a value has no bin or memory is short: *QUANT is
 * then freed and *OFF set, and this class and the next ones are sorted.
 */
static int quant_ranked(const struct score_data *d, const uint8_t *split, int pos, size_t col, int threads,
                        uint32_t **quant, int *off, int count_runs, size_t cnt[4], struct walk_job wj[2])
{
	struct quant_half q[2];
	int h;
	int i;

	if (*off || d->n < QUANT_MIN_ROWS || getenv("CONCOURS_SCORE_NO_BINS")) {
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
	if (count_runs) {
		const uint32_t *c = *quant;
		size_t k;

		for (i = 0; i < 4; i++)
			cnt[i] = 0;
		for (h = 0; h < 2; h++)
			for (i = 0; i < 4; i++)
				for (k = 0; k < QUANT_BINS; k++)
					cnt[i] += c[((size_t)h * 4 + (size_t)i) * QUANT_BINS + k];
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

static enum score_fn_status ranked(const struct score_data *d, const uint32_t *rows, size_t n, double *out, char *why,
                                   size_t whylen, enum rank_kind kind)
{
	const char *name = kind == RANK_AUC ? "roc_auc" : "average_precision";
	int binary = d->ncol == 1 || d->nclass == 2;
	int ntarget = binary ? 1 : d->nclass;
	uint64_t *keys = NULL;
	uint64_t *tmp = NULL;
	uint32_t *quant = NULL;                    /* the bins of decimals of six places at most (quant_ranked()) */
	int quant_off = rows != NULL || n != d->n; /* a subset of the rows (a split, a resample) is sorted */
	enum score_fn_status st = SCORE_FN_OK;
	double sum = 0.0;
	int used = 0;
	int target;

	/* binary: the positive class's column; multiclass: one class against the rest, macro average over the
	 * classes present in these rows */
	for (target = 0; target < ntarget; target++) {
		int pos = binary ? d->binary_pos : target;
		int col = binary ? (d->ncol == 1 ? 0 : d->binary_pos) : target;
		struct walk_job wj[2] = {{.kind = kind, .half = 0}, {.kind = kind, .half = 1}};
		size_t cnt[4];
		size_t np;
		int binned = quant_ranked(d, NULL, pos, (size_t)col, n < SCORE_PAR_MIN_ROWS ? 1 : 2, &quant, &quant_off,
		                          1, cnt, wj);

		if (binned) {
			np = cnt[0];
		} else {
			if (sort_arrays(n, &keys, &tmp) != 0) {
				st = SCORE_FN_NOMEM;
				goto out;
			}
			gather_ranked(d, rows, n, pos, col, keys, tmp, &np);
		}
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
		if (!binned)
			sum += rank_value(kind, keys, np, n - np);
		else if (kind == RANK_AUC)
			sum += (double)wj[0].twice[0] / (2.0 * (double)np * (double)(n - np));
		else
			sum += wj[0].ap[0];
		used++;
	}
	if (used == 0) {
		snprintf(why, whylen, "%s is undefined on zero rows", name);
		st = SCORE_FN_UNDEFINED;
		goto out;
	}
	*out = sum / used;
out:
	score_big_free(quant);
	score_big_free(keys);
	score_big_free(tmp);
	return st;
}

static enum score_fn_status m_roc_auc(const struct score_data *d, const uint32_t *rows, size_t n, double *out,
                                      char *why, size_t whylen)
{
	return ranked(d, rows, n, out, why, whylen, RANK_AUC);
}

static enum score_fn_status m_average_precision(const struct score_data *d, const uint32_t *rows, size_t n, double *out,
                                                char *why, size_t whylen)
{
	return ranked(d, rows, n, out, why, whylen, RANK_AP);
}

/* ---- probability losses ---- */

#define LOG_LOSS_EPS 1e-15

static double clip01(double p)
{
	if (p < LOG_LOSS_EPS)
		return LOG_LOSS_EPS;
	if (p > 1.0 - LOG_LOSS_EPS)
		return 1.0 - LOG_LOSS_EPS;
	return p;
}

static enum score_fn_status empty_rows(const char *name, char *why, size_t whylen)
{
	snprintf(why, whylen, "%s is undefined on zero rows", name);
	return SCORE_FN_UNDEFINED;
}

static double log_loss_term(const struct score_data *d, int32_t y, const double *v, const uint32_t *micro,
                            const int *colmap)
{
	double s = 0.0;
	int c;

	if (d->ncol == 1) {
		double p = clip01(score_value_of(v, micro, 0));
		double q = 1.0 - p;

		return log((y == d->binary_pos ? p : q) / (q + p));
	}
	for (c = 0; c < d->ncol; c++)
		s += clip01(score_value_of(v, micro, (size_t)(colmap ? colmap[c] : c)));
	return log(clip01(score_value_of(v, micro, (size_t)(colmap ? colmap[y] : y))) / s);
}

/* Row R's log-likelihood: taken beforehand (score_data.term) or from the row's values. */
static inline double log_loss_row(const struct score_data *d, size_t r)
{
	size_t at = r * (size_t)d->ncol;

	if (d->term)
		return d->term[r];
	return d->micro ? log_loss_term(d, d->y[r], NULL, d->micro + at, NULL)
	                : log_loss_term(d, d->y[r], d->p + at, NULL, NULL);
}

#define LOG_LOSS_AHEAD 16 /* rows of a row list (a bootstrap's, drawn at random) fetched ahead of their turn */

/* The exact sums of the log-likelihoods of rows ROWS[FIRST..LAST) of D (ROWS NULL: rows FIRST..LAST-1), one a
 * split (SPLIT NULL: all in SUM[0]; a row list comes without a split), and their rows. */
struct log_loss_part {
	const struct score_data *d;
	const uint8_t *split;
	const uint32_t *rows;
	size_t first;
	size_t last;
	struct xsum sum[2];
	size_t rows_in[2];
};

static void *log_loss_part_sum(void *arg)
{
	struct log_loss_part *t = arg;
	const struct score_data *d = t->d;
	const uint8_t *split = t->split;
	const uint32_t *list = t->rows;
	struct xsum sum[2]; /* on this thread's stack: the other half's struct may share a cache line with T */
	struct xsum_lane lane[2] = {{0, 0}, {0, 0}}; /* never passed by address: kept out of memory the calls touch */
	size_t rows[2] = {0, 0};
	size_t i;

	xsum_init(&sum[0]);
	xsum_init(&sum[1]);
	if (split) {
		for (i = t->first; i < t->last; i++) {
			xsum_lane_add(&sum[split[i]], &lane[split[i]], log_loss_row(d, i));
			rows[split[i]]++;
		}
	} else {
		for (i = t->first; i < t->last; i++) {
			if (list && i + LOG_LOSS_AHEAD < t->last) { /* or each random row waits for the one before */
				size_t ahead = list[i + LOG_LOSS_AHEAD];

				if (d->term) {
					__builtin_prefetch(d->term + ahead);
				} else {
					__builtin_prefetch(score_value_addr(d->p, d->micro, ahead * (size_t)d->ncol));
					__builtin_prefetch(d->y + ahead);
				}
			}
			xsum_lane_add(&sum[0], &lane[0], log_loss_row(d, ROW(list, i)));
		}
		rows[0] = t->last - t->first;
	}
	xsum_put_lane(&sum[0], lane[0]);
	xsum_put_lane(&sum[1], lane[1]);
	memcpy(t->sum, sum, sizeof sum);
	memcpy(t->rows_in, rows, sizeof rows);
	return NULL;
}

/*
 * The exact sums of the log-likelihoods of rows ROWS[0..N) of D (ROWS NULL: rows 0..N-1) into SUM[0] (public, or
 * all rows when SPLIT is NULL) and SUM[1] (private), their rows into COUNTED. Without a row list, the two halves of
 * the rows on two threads from SCORE_PAR_MIN_ROWS rows on; a row list is a resample's, whose caller already shares
 * the machine with another. The sums are exact, so neither the rows' order nor the halves change them.
 */
static void log_loss_sums(const struct score_data *d, const uint8_t *split, const uint32_t *rows, size_t n,
                          struct xsum sum[2], size_t counted[2])
{
	struct log_loss_part half[2];
	int s;

	half[0] = (struct log_loss_part){.d = d, .split = split, .rows = rows, .first = 0, .last = n / 2};
	half[1] = half[0];
	half[1].first = half[0].last;
	half[1].last = n;
	score_par2_on(rows || n < SCORE_PAR_MIN_ROWS ? 1 : 2, log_loss_part_sum, &half[1], log_loss_part_sum, &half[0]);
	for (s = 0; s < 2; s++) {
		sum[s] = half[0].sum[s];
		xsum_merge(&sum[s], &half[1].sum[s]);
		counted[s] = half[0].rows_in[s] + half[1].rows_in[s];
	}
}

/* The loss from the log-likelihoods summed in SUM over N rows: their mean, negated; one rounding of the exact sum,
 * one of the division. */
static double neg_mean(const struct xsum *sum, size_t n)
{
	return (0.0 - xsum_value(sum)) / (double)n;
}

static enum score_fn_status m_log_loss(const struct score_data *d, const uint32_t *rows, size_t n, double *out,
                                       char *why, size_t whylen)
{
	struct xsum sum[2];
	size_t counted[2];

	if (n == 0)
		return empty_rows("log_loss", why, whylen);
	if (n == 1) { /* one case (the per-case file's): the exact sum of one term is that term */
		*out = 0.0 - log_loss_row(d, ROW(rows, 0));
		return SCORE_FN_OK;
	}
	log_loss_sums(d, NULL, rows, n, sum, counted);
	*out = neg_mean(&sum[0], n);
	return SCORE_FN_OK;
}

/* log_loss over all rows and each split in one pass over the rows; the value over all rows is the same as
 * without a split, to the last bit. */
static enum score_fn_status log_loss_splits(const struct score_data *d, const uint8_t *split, double out[3],
                                            int *handled, char *why, size_t whylen)
{
	struct xsum sum[2];
	struct xsum all;
	size_t rows[2];
	int s;

	*handled = 1;
	if (d->n == 0)
		return empty_rows("log_loss", why, whylen);
	log_loss_sums(d, split, NULL, d->n, sum, rows);
	all = sum[0];
	xsum_merge(&all, &sum[1]);
	out[0] = neg_mean(&all, d->n);
	for (s = 0; s < 2; s++)
		out[s + 1] = rows[s] > 0 ? neg_mean(&sum[s], rows[s]) : NAN;
	return SCORE_FN_OK;
}

static enum score_fn_status m_brier(const struct score_data *d, const uint32_t *rows, size_t n, double *out, char *why,
                                    size_t whylen)
{
	double sum = 0.0;
	size_t i;

	if (n == 0)
		return empty_rows("brier", why, whylen);
	if (d->ncol != 1 && d->nclass != 2) {
		snprintf(why, whylen, "brier needs a binary ground truth (two classes)");
		return SCORE_FN_UNDEFINED;
	}
	for (i = 0; i < n; i++) {
		size_t r = ROW(rows, i);
		size_t col = d->ncol == 1 ? 0 : (size_t)d->binary_pos;
		double e = score_value(d, r * (size_t)d->ncol + col) - (d->y[r] == d->binary_pos ? 1.0 : 0.0);

		sum += e * e;
	}
	*out = sum / (double)n;
	return SCORE_FN_OK;
}

/* ---- regression ---- */

enum reg_kind { REG_RMSE, REG_MAE, REG_R2, REG_MAPE };

static enum score_fn_status regression(const struct score_data *d, const uint32_t *rows, size_t n, double *out,
                                       char *why, size_t whylen, enum reg_kind kind)
{
	static const char *const names[] = {"rmse", "mae", "r2", "mape"};
	long double sum = 0.0L;
	long double ysum = 0.0L;
	size_t i;

	if (n == 0)
		return empty_rows(names[kind], why, whylen);
	for (i = 0; i < n; i++) {
		size_t r = ROW(rows, i);
		double y = d->yv[r];
		double e = y - score_value(d, r);

		switch (kind) {
		case REG_RMSE:
		case REG_R2:
			sum += (long double)e * e;
			ysum += y;
			break;
		case REG_MAE:
			sum += fabs(e);
			break;
		case REG_MAPE:
			sum += fabs(e) / fmax(fabs(y), 2.220446049250313e-16);
			break;
		}
	}
	if (kind == REG_RMSE) {
		*out = (double)sqrtl(sum / (long double)n);
	} else if (kind == REG_R2) {
		long double mean = ysum / (long double)n;
		long double tot = 0.0L;

		for (i = 0; i < n; i++) {
			long double dy = d->yv[ROW(rows, i)] - mean;

			tot += dy * dy;
		}
		/* sklearn's force_finite: constant truth gives 1 for a perfect fit, else 0 */
		if (tot == 0.0L)
			*out = sum == 0.0L ? 1.0 : 0.0;
		else
			*out = (double)(1.0L - sum / tot);
	} else {
		*out = (double)(sum / (long double)n);
	}
	return SCORE_FN_OK;
}

static enum score_fn_status m_rmse(const struct score_data *d, const uint32_t *rows, size_t n, double *out, char *why,
                                   size_t whylen)
{
	return regression(d, rows, n, out, why, whylen, REG_RMSE);
}

static enum score_fn_status m_mae(const struct score_data *d, const uint32_t *rows, size_t n, double *out, char *why,
                                  size_t whylen)
{
	return regression(d, rows, n, out, why, whylen, REG_MAE);
}

static enum score_fn_status m_r2(const struct score_data *d, const uint32_t *rows, size_t n, double *out, char *why,
                                 size_t whylen)
{
	return regression(d, rows, n, out, why, whylen, REG_R2);
}

static enum score_fn_status m_mape(const struct score_data *d, const uint32_t *rows, size_t n, double *out, char *why,
                                   size_t whylen)
{
	return regression(d, rows, n, out, why, whylen, REG_MAPE);
}

/* ---- label metrics, all from one confusion matrix ---- */

enum label_kind {
	LAB_ACCURACY,
	LAB_BALANCED,
	LAB_F1_MACRO,
	LAB_F1_MICRO,
	LAB_F1_WEIGHTED,
	LAB_MCC,
	LAB_KAPPA,
	LAB_QWK,
	LAB_COST
};

static const char *const label_names[] = {
        "accuracy",    "balanced_accuracy",        "f1_macro",    "f1_micro", "f1_weighted", "mcc",
        "cohen_kappa", "quadratic_weighted_kappa", "cost_matrix",
};

static double f1_of(double tp, double npred, double ntrue)
{
	double prec = npred > 0 ? tp / npred : 0.0;
	double rec = ntrue > 0 ? tp / ntrue : 0.0;

	return prec + rec > 0 ? 2.0 * prec * rec / (prec + rec) : 0.0;
}

/* Cohen's kappa over the labels present in these rows (sklearn's unique_labels), optionally weighted. */
static int kappa(const double *cm, const double *tsum, const double *psum, int k, double n, int quadratic, double *out)
{
	int idx[SCORE_MAX_CLASSES];
	int m = 0;
	double obs = 0.0;
	double exp = 0.0;
	int a;
	int b;

	for (a = 0; a < k; a++) {
		if (tsum[a] > 0 || psum[a] > 0)
			idx[m++] = a;
	}
	for (a = 0; a < m; a++) {
		for (b = 0; b < m; b++) {
			double w = quadratic ? (double)(a - b) * (double)(a - b) : (a != b);

			obs += w * cm[(size_t)idx[a] * (size_t)k + (size_t)idx[b]];
			exp += w * tsum[idx[a]] * psum[idx[b]] / n;
		}
	}
	if (exp == 0.0)
		return -1;
	*out = 1.0 - obs / exp;
	return 0;
}

static enum score_fn_status labels(const struct score_data *d, const uint32_t *rows, size_t n, double *out, char *why,
                                   size_t whylen, enum label_kind kind)
{
	size_t k = (size_t)d->nclass;
	double *cm = NULL;
	double *tsum = NULL;
	double *psum = NULL;
	enum score_fn_status st = SCORE_FN_OK;
	double dn = (double)n;
	double trace = 0.0;
	size_t i;
	size_t c;

	if (n == 0)
		return empty_rows(label_names[kind], why, whylen);
	if (kind == LAB_ACCURACY || kind == LAB_F1_MICRO || kind == LAB_COST) {
		double sum = 0.0;

		for (i = 0; i < n; i++) {
			size_t r = ROW(rows, i);

			if (kind == LAB_COST)
				sum += d->cost[(size_t)d->y[r] * k + (size_t)d->yhat[r]];
			else
				sum += d->y[r] == d->yhat[r];
		}
		*out = kind == LAB_COST ? 1.0 - sum / dn : sum / dn;
		return SCORE_FN_OK;
	}
	cm = calloc(k * k, sizeof *cm);
	tsum = calloc(k, sizeof *tsum);
	psum = calloc(k, sizeof *psum);
	if (!cm || !tsum || !psum) {
		st = SCORE_FN_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		size_t r = ROW(rows, i);

		cm[(size_t)d->y[r] * k + (size_t)d->yhat[r]] += 1.0;
	}
	for (c = 0; c < k; c++) {
		size_t j;

		for (j = 0; j < k; j++) {
			tsum[c] += cm[c * k + j];
			psum[j] += cm[c * k + j];
		}
		trace += cm[c * k + c];
	}
	switch (kind) {
	case LAB_BALANCED: {
		double s = 0.0;
		int m = 0;

		for (c = 0; c < k; c++) {
			if (tsum[c] > 0) {
				s += cm[c * k + c] / tsum[c];
				m++;
			}
		}
		*out = s / m;
		break;
	}
	case LAB_F1_MACRO:
	case LAB_F1_WEIGHTED: {
		double s = 0.0;
		int m = 0;

		for (c = 0; c < k; c++) {
			double f;

			if (tsum[c] == 0 && psum[c] == 0)
				continue;
			f = f1_of(cm[c * k + c], psum[c], tsum[c]);
			s += kind == LAB_F1_MACRO ? f : f * tsum[c];
			m++;
		}
		*out = kind == LAB_F1_MACRO ? s / m : s / dn;
		break;
	}
	case LAB_MCC: {
		double tp = 0.0;
		double pp = 0.0;
		double tt = 0.0;
		double cov_tp;
		double cov_pp;
		double cov_tt;

		for (c = 0; c < k; c++) {
			tp += tsum[c] * psum[c];
			pp += psum[c] * psum[c];
			tt += tsum[c] * tsum[c];
		}
		cov_tp = trace * dn - tp;
		cov_pp = dn * dn - pp;
		cov_tt = dn * dn - tt;
		*out = cov_pp * cov_tt == 0.0 ? 0.0 : cov_tp / sqrt(cov_tt * cov_pp);
		break;
	}
	case LAB_KAPPA:
	case LAB_QWK:
		if (kappa(cm, tsum, psum, (int)k, dn, kind == LAB_QWK, out) != 0) {
			snprintf(why, whylen,
			         "%s is undefined: the ground truth and the predictions hold the same "
			         "single class in these rows",
			         label_names[kind]);
			st = SCORE_FN_UNDEFINED;
		}
		break;
	default:
		break;
	}
out:
	free(cm);
	free(tsum);
	free(psum);
	return st;
}

#define LABEL_FN(fname, kind)                                                                                          \
	static enum score_fn_status fname(const struct score_data *d, const uint32_t *rows, size_t n, double *out,     \
	                                  char *why, size_t whylen)                                                    \
	{                                                                                                              \
		return labels(d, rows, n, out, why, whylen, kind);                                                     \
	}

LABEL_FN(m_accuracy, LAB_ACCURACY)
LABEL_FN(m_balanced_accuracy, LAB_BALANCED)
LABEL_FN(m_f1_macro, LAB_F1_MACRO)
LABEL_FN(m_f1_micro, LAB_F1_MICRO)
LABEL_FN(m_f1_weighted, LAB_F1_WEIGHTED)
LABEL_FN(m_mcc, LAB_MCC)
LABEL_FN(m_cohen_kappa, LAB_KAPPA)
LABEL_FN(m_qwk, LAB_QWK)
LABEL_FN(m_cost_matrix, LAB_COST)

/* ---- survival: Harrell's concordance index ---- */

struct surv_item {
	double time;
	uint64_t risk;
	uint32_t rank;
	uint8_t event;
};

static int by_time(const void *a, const void *b)
{
	const struct surv_item *x = a;
	const struct surv_item *y = b;

	return (x->time > y->time) - (x->time < y->time);
}

static int by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void fenwick_add(uint32_t *t, size_t m, size_t i)
{
	for (i++; i <= m; i += i & (~i + 1))
		t[i - 1]++;
}

/* Number of inserted items with rank < I. */
static uint64_t fenwick_below(const uint32_t *t, size_t i)
{
	uint64_t s = 0;

	for (; i > 0; i -= i & (~i + 1))
		s += t[i - 1];
	return s;
}

/*
 * A subject with an event at time t is comparable with every subject whose time is greater, and with
 * subjects censored at t (scikit-survival's convention). Higher risk should mean the earlier event;
 * tied risks count 1/2.
 */
static enum score_fn_status m_c_index(const struct score_data *d, const uint32_t *rows, size_t n, double *out,
                                      char *why, size_t whylen)
{
	struct surv_item *it = NULL;
	uint64_t *risks = NULL;
	uint32_t *tree = NULL;
	enum score_fn_status st = SCORE_FN_OK;
	uint64_t twice = 0;
	uint64_t pairs = 0;
	size_t m = 0;
	size_t i;
	size_t g;

	if (n == 0)
		return empty_rows("c_index", why, whylen);
	it = malloc(n * sizeof *it);
	risks = malloc(n * sizeof *risks);
	tree = calloc(n, sizeof *tree);
	if (!it || !risks || !tree) {
		st = SCORE_FN_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		size_t r = ROW(rows, i);

		it[i].time = d->yv[r];
		it[i].event = d->event[r];
		it[i].risk = score_sort_key(score_value(d, r));
		risks[i] = it[i].risk;
	}
	qsort(risks, n, sizeof *risks, by_u64);
	for (i = 0; i < n; i++) {
		if (m == 0 || risks[m - 1] != risks[i])
			risks[m++] = risks[i];
	}
	for (i = 0; i < n; i++) {
		size_t lo = 0;
		size_t hi = m;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (risks[mid] < it[i].risk)
				lo = mid + 1;
			else
				hi = mid;
		}
		it[i].rank = (uint32_t)lo;
	}
	qsort(it, n, sizeof *it, by_time);
	g = n;
	while (g > 0) { /* groups of equal time, from the latest */
		size_t start = g;
		uint64_t inserted;

		while (start > 0 && it[start - 1].time == it[g - 1].time)
			start--;
		for (i = start; i < g; i++) {
			if (!it[i].event)
				fenwick_add(tree, m, it[i].rank);
		}
		inserted = fenwick_below(tree, m);
		for (i = start; i < g; i++) {
			uint64_t below;
			uint64_t tied;

			if (!it[i].event)
				continue;
			below = fenwick_below(tree, it[i].rank);
			tied = fenwick_below(tree, it[i].rank + 1) - below;
			twice += 2 * below + tied;
			pairs += inserted;
		}
		for (i = start; i < g; i++) {
			if (it[i].event)
				fenwick_add(tree, m, it[i].rank);
		}
		g = start;
	}
	if (pairs == 0) {
		snprintf(why, whylen,
		         "c_index is undefined: no comparable pair (no event before another subject's "
		         "time) in these rows");
		st = SCORE_FN_UNDEFINED;
		goto out;
	}
	*out = (double)twice / (2.0 * (double)pairs);
out:
	free(it);
	free(risks);
	free(tree);
	return st;
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
 * One thread's half of the rows of ranked_splits(): first the rows of each split per class (COUNT, 2 x
 * (nclass + 1), the last column for labels outside the classes), then, for one class at a time, their keys
 * into the four runs, from AT on (this half's places in each run).
 */
struct rank_half {
	const struct score_data *d;
	const uint8_t *split;
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

		h->count[h->split[r] * w + (y >= 0 && y < h->d->nclass ? (size_t)y : w - 1)]++;
	}
	return NULL;
}

static void *gather_runs(void *arg)
{
	struct rank_half *h = arg;
	const struct score_data *d = h->d;
	size_t r;

	for (r = h->first; r < h->last; r++)
		h->keys[h->at[h->split[r] * 2 + (d->y[r] != h->pos)]++] =
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
	} else {
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
 * public negatives, private positives, private negatives) has a value on. SCORE_FN_UNDEFINED with WHY set when
 * one has a single class.
 */
static enum score_fn_status runs_usable(const struct score_data *d, int binary, int target, const size_t *cnt, int *use,
                                        char *why, size_t whylen, enum rank_kind kind)
{
	const char *name = kind == RANK_AUC ? "roc_auc" : "average_precision";
	static const char *const where[] = {"all rows", "public split", "private split"};
	int s;

	for (s = 0; s < 3; s++) {
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
				         "%s is undefined: the ground truth holds only one class (%s) in the %s", name,
				         np == 0 ? "no positives" : "no negatives", where[s]);
			else
				snprintf(why, whylen,
				         "%s is undefined: the ground truth holds only one class ('%s') in the %s",
				         name, d->class_name[target], where[s]);
			return SCORE_FN_UNDEFINED;
		}
		use[s] = 1;
	}
	return SCORE_FN_OK;
}

/*
 * Ranking metrics on a split ground truth with one sort per class: positives and negatives of each split are
 * sorted apart (four runs that together are one sort of all rows) and walked, on both cores throughout: the
 * rows counted and gathered by halves, the runs sorted two by two, walked by halves (struct walk_job).
 */
static enum score_fn_status ranked_splits(const struct score_data *d, const uint8_t *split, double out[3], int *handled,
                                          char *why, size_t whylen, enum rank_kind kind)
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

	*handled = 0;
	if (binary && (d->binary_pos < 0 || d->binary_pos >= d->nclass))
		return SCORE_FN_OK; /* no positive class to count: the metric's own function says so */
	count = calloc(2 * 2 * w, sizeof *count);
	if (!count) {
		st = SCORE_FN_NOMEM;
		goto out;
	}
	for (h = 0; h < 2; h++)
		half[h] = (struct rank_half){.d = d,
		                             .split = split,
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
		st = runs_usable(d, binary, target, cnt, use, why, whylen, kind);
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
			wj[h] = (struct walk_job){.off = off, .cnt = cnt, .kind = kind, .half = h};
		}
		if (!quant_ranked(d, split, pos, col, threads, &quant, &quant_off, 0, cnt, wj)) {
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
	for (s = 0; s < 3; s++)
		out[s] = used[s] > 0 ? sum[s] / used[s] : NAN;
	*handled = 1;
out:
	free(count);
	score_big_free(quant);
	score_big_free(keys);
	score_big_free(tmp);
	return st;
}

static enum score_fn_status ranked_splits_auc(const struct score_data *d, const uint8_t *split, double out[3],
                                              int *handled, char *why, size_t whylen)
{
	return ranked_splits(d, split, out, handled, why, whylen, RANK_AUC);
}

static enum score_fn_status ranked_splits_ap(const struct score_data *d, const uint8_t *split, double out[3],
                                             int *handled, char *why, size_t whylen)
{
	return ranked_splits(d, split, out, handled, why, whylen, RANK_AP);
}

static const struct score_metric metric_table[] = {
        {.name = "accuracy",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_LABEL,
         .fn = m_accuracy,
         .combine = SCORE_COMBINE_MEAN,
         .splits = NULL,
         .help = "share of rows whose predicted class is the true class"},
        {.name = "balanced_accuracy",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_LABEL,
         .fn = m_balanced_accuracy,
         .combine = SCORE_COMBINE_NONE,
         .splits = NULL,
         .help = "mean recall over the classes present in the ground truth"},
        {.name = "f1_macro",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_LABEL,
         .fn = m_f1_macro,
         .combine = SCORE_COMBINE_NONE,
         .splits = NULL,
         .help = "unweighted mean F1 over the classes present in truth or predictions (absent precision counts 0)"},
        {.name = "f1_micro",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_LABEL,
         .fn = m_f1_micro,
         .combine = SCORE_COMBINE_MEAN,
         .splits = NULL,
         .help = "F1 of the pooled counts (equals accuracy for single-label data)"},
        {.name = "f1_weighted",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_LABEL,
         .fn = m_f1_weighted,
         .combine = SCORE_COMBINE_NONE,
         .splits = NULL,
         .help = "mean F1 over classes weighted by their count in the ground truth"},
        {.name = "mcc",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_LABEL,
         .fn = m_mcc,
         .combine = SCORE_COMBINE_NONE,
         .splits = NULL,
         .help = "Matthews correlation coefficient (multiclass form; 0 when undefined, as sklearn)"},
        {.name = "cohen_kappa",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_LABEL,
         .fn = m_cohen_kappa,
         .combine = SCORE_COMBINE_NONE,
         .splits = NULL,
         .help = "Cohen's kappa, unweighted"},
        {.name = "quadratic_weighted_kappa",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_LABEL,
         .fn = m_qwk,
         .combine = SCORE_COMBINE_NONE,
         .splits = NULL,
         .help = "Cohen's kappa with quadratic weights over the sorted labels"},
        {.name = "roc_auc",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_PROBA,
         .fn = m_roc_auc,
         .combine = SCORE_COMBINE_NONE,
         .splits = ranked_splits_auc,
         .order_free = 1,
         .help = "area under the ROC curve, ties count 1/2; multiclass: one-vs-rest, macro average"},
        {.name = "average_precision",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_PROBA,
         .fn = m_average_precision,
         .combine = SCORE_COMBINE_NONE,
         .splits = ranked_splits_ap,
         .order_free = 1,
         .help = "area under the precision-recall curve (step sum, as sklearn); multiclass: one-vs-rest, macro"},
        {.name = "log_loss",
         .higher_is_better = 0,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_PROBA,
         .fn = m_log_loss,
         .term = log_loss_term,
         .combine = SCORE_COMBINE_MEAN,
         .splits = log_loss_splits,
         .order_free = 1,
         .help = "cross-entropy, probabilities clipped to [1e-15, 1-1e-15], multiclass rows renormalised"},
        {.name = "brier",
         .higher_is_better = 0,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_PROBA,
         .fn = m_brier,
         .combine = SCORE_COMBINE_MEAN,
         .splits = NULL,
         .help = "mean squared difference between the probability and the 0/1 outcome"},
        {.name = "rmse",
         .higher_is_better = 0,
         .truth = SCORE_TRUTH_NUMBER,
         .pred = SCORE_PRED_NUMBER,
         .fn = m_rmse,
         .combine = SCORE_COMBINE_RMS,
         .splits = NULL,
         .help = "root mean squared error"},
        {.name = "mae",
         .higher_is_better = 0,
         .truth = SCORE_TRUTH_NUMBER,
         .pred = SCORE_PRED_NUMBER,
         .fn = m_mae,
         .combine = SCORE_COMBINE_MEAN,
         .splits = NULL,
         .help = "mean absolute error"},
        {.name = "r2",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_NUMBER,
         .pred = SCORE_PRED_NUMBER,
         .fn = m_r2,
         .combine = SCORE_COMBINE_NONE,
         .splits = NULL,
         .help = "coefficient of determination (constant truth: 1 if perfect, else 0)"},
        {.name = "mape",
         .higher_is_better = 0,
         .truth = SCORE_TRUTH_NUMBER,
         .pred = SCORE_PRED_NUMBER,
         .fn = m_mape,
         .combine = SCORE_COMBINE_MEAN,
         .splits = NULL,
         .help = "mean absolute percentage error as a fraction, |y| floored at machine epsilon"},
        {.name = "cost_matrix",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_LABEL,
         .fn = m_cost_matrix,
         .combine = SCORE_COMBINE_MEAN,
         .splits = NULL,
         .help = "1 - mean cost[true][predicted]; params {\"matrix\":[[...]],\"labels\":[...]}"},
        {.name = "c_index",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_SURVIVAL,
         .pred = SCORE_PRED_NUMBER,
         .fn = m_c_index,
         .combine = SCORE_COMBINE_NONE,
         .splits = NULL,
         .help = "Harrell's concordance index; truth time,event; higher risk = earlier event; risk ties count 1/2"},
        {.name = NULL},
};

const struct score_metric *score_metric_find(const char *name)
{
	const struct score_metric *m;

	if (!name)
		return NULL;
	for (m = metric_table; m->name; m++) {
		if (strcmp(m->name, name) == 0)
			return m;
	}
	return NULL;
}

const struct score_metric *score_metric_table(void)
{
	return metric_table;
}
