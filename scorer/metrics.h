/*
 * metrics.h: the table of built-in metrics and the columns they are computed from.
 *
 * A metric is a row of a table (name, direction, what it needs from the ground truth and the predictions,
 * function), so that the server can validate a challenge's metric name and leaderboard direction with
 * score_metric_find(), and the scorer can check inputs once, before any metric runs.
 */
#ifndef CONCOURS_METRICS_H
#define CONCOURS_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Most classes a label metric accepts (confusion matrices are nclass x nclass). */
#define SCORE_MAX_CLASSES 1000

/* What a metric reads from the ground truth's target column(s). */
enum score_truth {
	SCORE_TRUTH_LABEL,   /* a class label (or one-hot columns named by class) */
	SCORE_TRUTH_NUMBER,  /* one number column */
	SCORE_TRUTH_SURVIVAL /* two columns: time, event (0/1) */
};

/* What a metric reads from the prediction file. */
enum score_pred {
	SCORE_PRED_LABEL, /* one label column, or one column per class (highest wins, ties to the first) */
	SCORE_PRED_PROBA, /* one probability column (binary) or one per class; values in [0,1] */
	SCORE_PRED_NUMBER /* one number column (regression value or risk) */
};

/* Columns of one scoring run, row-aligned with the ground truth. Owned by the scorer, read by metrics. */
struct score_data {
	size_t n;   /* rows */
	int nclass; /* classes (LABEL truth), sorted; names in class_name */
	char **class_name;
	const int32_t *y;     /* LABEL truth: class index per row */
	const double *yv;     /* NUMBER truth, or SURVIVAL time */
	const uint8_t *event; /* SURVIVAL event (0/1) */
	int binary_pos;       /* PROBA with one column: class index of the positive class (1), else -1 */
	const int32_t *yhat;  /* LABEL prediction: class index per row */
	const double *p;      /* PROBA/NUMBER prediction: n x ncol, row-major; NULL when MICRO holds it */
	/* PROBA prediction in millionths when every value read was a decimal of six places at most (most files):
	 * value i is micro[i] / 10^6, correctly rounded, which is the double read; half the memory of P */
	const uint32_t *micro;
	int ncol;           /* 1, or nclass with column c holding class c */
	const double *cost; /* cost_matrix: nclass x nclass, [true][pred], or NULL */
	/* per row: the metric's term (score_metric.term) computed beforehand; NULL: from the values */
	const double *term;
};

enum score_fn_status {
	SCORE_FN_OK = 0,
	SCORE_FN_UNDEFINED, /* the metric has no value on these rows (e.g. one class only); WHY says why */
	SCORE_FN_NOMEM
};

/*
 * Computes a metric over the rows ROWS[0..N) of D (ROWS == NULL means rows 0..N-1). Writes the value to
 * *OUT, or on SCORE_FN_UNDEFINED a sentence for the organizer to WHY (bounded by WHYLEN).
 */
typedef enum score_fn_status (*score_fn)(const struct score_data *d, const uint32_t *rows, size_t n, double *out,
                                         char *why, size_t whylen);

/* How the value over all rows follows from the values over the public and private splits, if it does. */
enum score_combine {
	SCORE_COMBINE_NONE, /* compute it: ranks, confusion matrices... */
	SCORE_COMBINE_MEAN, /* a mean of per-row terms: the row-weighted mean of the split values */
	SCORE_COMBINE_RMS   /* the root of a mean of per-row terms */
};

/*
 * Computes the metric over all rows (OUT[0]), the public split (OUT[1]) and the private split (OUT[2]) in one
 * go, SPLIT[r] being 0 (public) or 1 (private). Returns SCORE_FN_UNDEFINED when any is undefined, or
 * SCORE_FN_NOMEM; returns SCORE_FN_OK with nothing written when the data is not of a kind it handles, so the
 * caller falls back to calling the score_fn per split (*HANDLED says which).
 */
typedef enum score_fn_status (*score_splits_fn)(const struct score_data *d, const uint8_t *split, double out[3],
                                                int *handled, char *why, size_t whylen);

/*
 * One row's term of a metric that is a sum of a term per row (log_loss): from the row's class Y and its values V, or
 * MICRO (millionths, score_data.micro) when V is NULL, value COLMAP[c] being class c's (value c when COLMAP is NULL).
 * The metric sums score_data.term when it is set, and these same terms otherwise, exactly (xsum.h: one rounding of
 * the exact sum), so its value is the same to the last bit whatever the rows' order: the terms may be computed
 * beforehand, reading the rows' values in any order.
 */
typedef double (*score_term_fn)(const struct score_data *d, int32_t y, const double *v, const uint32_t *micro,
                                const int *colmap);

struct score_metric {
	const char *name;
	int higher_is_better;
	enum score_truth truth;
	enum score_pred pred;
	score_fn fn;
	const char *help; /* one line for --help */
	enum score_combine combine;
	score_splits_fn splits; /* optional fast path for split ground truths, or NULL */
	score_term_fn term;     /* the metric is a sum of these terms, or NULL */
	/* the value depends on the (truth, prediction) pairs only, exactly (sorts, integer counts, exact sums; no
	 * sum that rounds in row order): rows may come in any order */
	int order_free;
};

/* Returns the built-in metric called NAME, or NULL. The table is static: never free. */
const struct score_metric *score_metric_find(const char *name);

/* The whole table, terminated by a row whose name is NULL. Static: never free. */
const struct score_metric *score_metric_table(void);

#define SCORE_MICRO_MAX 1000000 /* millionths in 1 */

/* V in millionths when V is the double nearest to a decimal of at most six places in [0, 1] (what reading one
 * gives: the quotient b / 10^6 of two exact doubles is that decimal correctly rounded), else -1. */
static inline int32_t score_micro(double v)
{
	int32_t b;

	if (!(v >= 0.0 && v <= 1.0))
		return -1;
	b = (int32_t)(v * 1e6 + 0.5);
	return (double)b / 1e6 == v ? b : -1;
}

/* Value I of a prediction held in doubles P, or in millionths MICRO when P is NULL: the same double either way. */
static inline double score_value_of(const double *p, const uint32_t *micro, size_t i)
{
	return p ? p[i] : (double)micro[i] / 1e6;
}

/* The address of value I of a prediction held in P, or in MICRO when P is NULL: for a prefetch. */
static inline const void *score_value_addr(const double *p, const uint32_t *micro, size_t i)
{
	return p ? (const void *)(p + i) : (const void *)(micro + i);
}

/* Row I of a metric's rows: ROWS[I], or I when ROWS is NULL (every row, in order). */
#define SCORE_ROW(rows, i) ((rows) ? (size_t)(rows)[i] : (size_t)(i))

/* Value I (row x ncol + column) of D's prediction, from whichever array holds it. */
static inline double score_value(const struct score_data *d, size_t i)
{
	return score_value_of(d->p, d->micro, i);
}

/* Maps a double to a 64-bit key whose unsigned order is the numeric order (-0 and 0 map alike). Inline: the ranking
 * metrics, the c-index and the jury's statistics call it for every value. */
static inline uint64_t score_sort_key(double v)
{
	uint64_t b;

	if (v == 0.0)
		v = 0.0; /* -0.0 and 0.0 tie */
	memcpy(&b, &v, sizeof b);
	return (b >> 63) ? ~b : (b | (UINT64_C(1) << 63));
}

/*
 * Sorts A[0..N) ascending, using TMP[0..N) as scratch (LSD radix sort, passes whose digit is constant are
 * skipped). Both arrays belong to the caller.
 */
void score_sort_keys(uint64_t *a, uint64_t *tmp, size_t n);

/* Like score_sort_keys(), ordering by the bits from LOWBIT up only; stable, so lower bits keep their order. */
void score_sort_keys_from(uint64_t *a, uint64_t *tmp, size_t n, unsigned lowbit);

#endif
