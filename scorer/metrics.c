/*
 * metrics.c: the built-in metrics, with scikit-learn's semantics (ties, averaging, clipping).
 *
 * Every function reads the same parsed columns (struct score_data) through an optional row subset, so the
 * public split, the private split, the whole file and every bootstrap resample are scored by the same code.
 * Counts are exact integers where they can be. The ranking metrics (ROC AUC, average precision) and the radix sort
 * they share with the c-index and the jury's statistics are in rank.c.
 */
#include "metrics.h"
#include "par.h"
#include "rank.h"
#include "xsum.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
			xsum_lane_add(&sum[0], &lane[0], log_loss_row(d, SCORE_ROW(list, i)));
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
		*out = 0.0 - log_loss_row(d, SCORE_ROW(rows, 0));
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
		size_t r = SCORE_ROW(rows, i);
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
		size_t r = SCORE_ROW(rows, i);
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
			long double dy = d->yv[SCORE_ROW(rows, i)] - mean;

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
			size_t r = SCORE_ROW(rows, i);

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
		size_t r = SCORE_ROW(rows, i);

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

/* Sorts A[0..N) and keeps its distinct keys at its front; returns how many (TMP[0..N): scratch). */
static size_t distinct_keys(uint64_t *a, uint64_t *tmp, size_t n)
{
	size_t m = 0;
	size_t i;

	score_sort_keys(a, tmp, n);
	for (i = 0; i < n; i++) {
		if (m == 0 || a[m - 1] != a[i])
			a[m++] = a[i];
	}
	return m;
}

/* The place of K among the M distinct ascending keys A (K is one of them): the first key not below K, without a
 * branch on the comparisons (a data-dependent branch mispredicts one time in two). */
static uint64_t rank_of(const uint64_t *a, size_t m, uint64_t k)
{
	size_t lo = 0;
	size_t len = m;

	while (len > 1) { /* the answer is in [lo, lo + len]; M >= 1, so LEN ends at 1 */
		size_t half = len / 2;

		lo = a[lo + half] < k ? lo + half : lo;
		len -= half;
	}
	return lo + (a[lo] < k);
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

/* A subject as the c-index's walk reads it, one word: its time's rank (among the distinct times) in the high 32 bits,
 * its risk's rank (among the distinct risks) above the low bit, whether its time is an event in the low bit. */
#define SUBJ_RISK(w) ((size_t)(((w) >> 1) & 0x7fffffffu))
#define SUBJ_TIME(w) ((w) >> 32)
#define SUBJ_EVENT(w) ((w)&1u)

/*
 * A subject with an event at time t is comparable with every subject whose time is greater, and with
 * subjects censored at t (scikit-survival's convention). Higher risk should mean the earlier event;
 * tied risks count 1/2.
 * Each subject becomes one word (SUBJ_*), the words are sorted by time rank (radix sorts throughout: qsort() and its
 * comparisons were 47-54 % of its time in perf), then walked from the latest time with a Fenwick tree of risk ranks.
 */
static enum score_fn_status m_c_index(const struct score_data *d, const uint32_t *rows, size_t n, double *out,
                                      char *why, size_t whylen)
{
	uint64_t *subj = NULL;  /* per subject: its risk's key, then its word */
	uint64_t *risks = NULL; /* the distinct risks' keys, ascending */
	uint64_t *times = NULL; /* the distinct times' keys, ascending */
	uint64_t *tmp = NULL;
	uint32_t *tree = NULL;
	enum score_fn_status st = SCORE_FN_OK;
	uint64_t twice = 0;
	uint64_t pairs = 0;
	size_t m;  /* distinct risks */
	size_t nt; /* distinct times */
	size_t i;
	size_t g;

	if (n == 0)
		return empty_rows("c_index", why, whylen);
	if (n > 0x7fffffffu) /* a risk's rank in 31 bits (the row limit and the file size keep N far below) */
		return SCORE_FN_NOMEM;
	subj = malloc(n * sizeof *subj);
	risks = malloc(n * sizeof *risks);
	times = malloc(n * sizeof *times);
	tmp = malloc(n * sizeof *tmp);
	tree = calloc(n, sizeof *tree);
	if (!subj || !risks || !times || !tmp || !tree) {
		st = SCORE_FN_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		size_t r = SCORE_ROW(rows, i);

		subj[i] = risks[i] = score_sort_key(score_value(d, r));
		times[i] = score_sort_key(d->yv[r]);
	}
	m = distinct_keys(risks, tmp, n);
	nt = distinct_keys(times, tmp, n);
	for (i = 0; i < n; i++) { /* the time's key computed again: keeping it would take a fifth array */
		size_t r = SCORE_ROW(rows, i);

		subj[i] = rank_of(times, nt, score_sort_key(d->yv[r])) << 32 | rank_of(risks, m, subj[i]) << 1 |
		          (d->event[r] != 0);
	}
	score_sort_keys_from(subj, tmp, n, 32); /* by time rank */
	g = n;
	while (g > 0) { /* groups of equal time, from the latest */
		size_t start = g;
		uint64_t inserted;

		while (start > 0 && SUBJ_TIME(subj[start - 1]) == SUBJ_TIME(subj[g - 1]))
			start--;
		for (i = start; i < g; i++) {
			if (!SUBJ_EVENT(subj[i]))
				fenwick_add(tree, m, SUBJ_RISK(subj[i]));
		}
		inserted = fenwick_below(tree, m);
		for (i = start; i < g; i++) {
			uint64_t below;
			uint64_t tied;

			if (!SUBJ_EVENT(subj[i]))
				continue;
			below = fenwick_below(tree, SUBJ_RISK(subj[i]));
			tied = fenwick_below(tree, SUBJ_RISK(subj[i]) + 1) - below;
			twice += 2 * below + tied;
			pairs += inserted;
		}
		for (i = start; i < g; i++) {
			if (SUBJ_EVENT(subj[i]))
				fenwick_add(tree, m, SUBJ_RISK(subj[i]));
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
	free(subj);
	free(risks);
	free(times);
	free(tmp);
	free(tree);
	return st;
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
         .fn = score_roc_auc,
         .combine = SCORE_COMBINE_NONE,
         .splits = score_roc_auc_splits,
         .order_free = 1,
         .help = "area under the ROC curve, ties count 1/2; multiclass: one-vs-rest, macro average"},
        {.name = "average_precision",
         .higher_is_better = 1,
         .truth = SCORE_TRUTH_LABEL,
         .pred = SCORE_PRED_PROBA,
         .fn = score_average_precision,
         .combine = SCORE_COMBINE_NONE,
         .splits = score_average_precision_splits,
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
