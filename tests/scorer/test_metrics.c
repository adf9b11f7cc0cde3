/*
 * test_metrics.c: metrics on tiny hand-worked cases, called through the metric table (scorer/metrics.h),
 * including the degenerate inputs: one class only, all ties, a single row.
 */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures;

static char *names2[] = {"0", "1"};
static char *names3[] = {"0", "1", "2"};

/* Runs METRIC on D (all rows) and checks the value, or that it is undefined when WANT is NAN. */
static void expect(const char *what, const char *metric, const struct score_data *d, double want)
{
	const struct score_metric *m = score_metric_find(metric);
	char why[256] = "";
	double got = -12345.0;
	enum score_fn_status st;

	if (!m) {
		fprintf(stderr, "%s: no metric %s\n", what, metric);
		failures++;
		return;
	}
	st = m->fn(d, NULL, d->n, &got, why, sizeof why);
	if (isnan(want)) {
		if (st != SCORE_FN_UNDEFINED || strstr(why, "undefined") == NULL) {
			fprintf(stderr, "%s: expected undefined, got %d %.17g\n", what, (int)st, got);
			failures++;
		}
		return;
	}
	if (st != SCORE_FN_OK || fabs(got - want) > 1e-12) {
		fprintf(stderr, "%s: %s = %.17g (status %d %s), expected %.17g\n", what, metric, got, (int)st, why,
		        want);
		failures++;
	}
}

static void binary_ranking(void)
{
	/* positives 0.5 and 0.9, negatives 0.5 and 0.1: pairs 1/2 (tie), 1, 1, 1 */
	int32_t y[] = {1, 0, 1, 0};
	double p[] = {0.5, 0.5, 0.9, 0.1};
	struct score_data d = {.n = 4, .nclass = 2, .class_name = names2, .y = y, .binary_pos = 1, .p = p, .ncol = 1};
	double ties[] = {0.3, 0.3, 0.3, 0.3};
	int32_t ones[] = {1, 1, 1, 1};

	expect("AUC with a tie", "roc_auc", &d, 3.5 / 4.0);
	/* thresholds 0.9 (tp 1, fp 0), 0.5 (tp 2, fp 1), 0.1: AP = 1/2 * 1 + 1/2 * 2/3 */
	expect("AP with a tie", "average_precision", &d, 0.5 + 0.5 * 2.0 / 3.0);
	expect("Brier", "brier", &d, (0.25 + 0.25 + 0.01 + 0.01) / 4.0);
	expect("log loss", "log_loss", &d, -(log(0.5) + log(0.5) + log(0.9) + log(0.9)) / 4.0);
	{ /* no row list: rows 0..N-1, however many rows D has */
		const struct score_metric *m = score_metric_find("log_loss");
		char why[64];
		double v = 0.0;

		if (m->fn(&d, NULL, 2, &v, why, sizeof why) != SCORE_FN_OK || fabs(v - -log(0.5)) > 1e-15) {
			fprintf(stderr, "log loss of the first 2 rows of 4: %.17g, expected %.17g\n", v, -log(0.5));
			failures++;
		}
	}
	d.p = ties;
	expect("AUC all ties", "roc_auc", &d, 0.5);
	expect("AP all ties is the positive rate", "average_precision", &d, 0.5);
	d.y = ones;
	expect("AUC one class only", "roc_auc", &d, NAN);
	d.n = 1;
	expect("AUC single row", "roc_auc", &d, NAN);
	p[0] = 0.0; /* clipped to 1e-15 */
	d.p = p;
	d.y = ones;
	expect("log loss clipping", "log_loss", &d, -log(1e-15));
}

static void labels(void)
{
	/* truth 0 0 1 1 2 2, predicted 0 1 1 1 2 0 */
	int32_t y[] = {0, 0, 1, 1, 2, 2};
	int32_t yhat[] = {0, 1, 1, 1, 2, 0};
	double cost[] = {0, 0.1, 0.7, 0.1, 0, 0.3, 0.7, 0.3, 0};
	struct score_data d = {.n = 6,
	                       .nclass = 3,
	                       .class_name = names3,
	                       .y = y,
	                       .yhat = yhat,
	                       .cost = cost,
	                       .binary_pos = -1,
	                       .ncol = 1};
	/* per class: precision 1/2, 2/3, 1; recall 1/2, 1, 1/2; F1 1/2, 4/5, 2/3 */
	double f1[] = {0.5, 0.8, 2.0 / 3.0};

	expect("accuracy", "accuracy", &d, 4.0 / 6.0);
	expect("balanced accuracy", "balanced_accuracy", &d, (0.5 + 1.0 + 0.5) / 3.0);
	expect("F1 macro", "f1_macro", &d, (f1[0] + f1[1] + f1[2]) / 3.0);
	expect("F1 weighted", "f1_weighted", &d, (2 * f1[0] + 2 * f1[1] + 2 * f1[2]) / 6.0);
	expect("F1 micro", "f1_micro", &d, 4.0 / 6.0);
	/* observed agreement 4/6, expected (2*2 + 2*3 + 2*1)/36 = 1/3: kappa = (2/3 - 1/3) / (2/3) */
	expect("Cohen's kappa", "cohen_kappa", &d, 0.5);
	/*
	 * quadratic weights (i - j)^2: observed 1 (0 -> 1) + 4 (2 -> 0) = 5; expected sum over i, j of
	 * w * t_i * p_j / 6 with t = (2,2,2), p = (2,3,1): (7 + 3 + 11) / 3 = 7
	 */
	expect("quadratic weighted kappa", "quadratic_weighted_kappa", &d, 1.0 - 5.0 / 7.0);
	/* MCC: c = 4, s = 6, t = (2,2,2), p = (2,3,1): (24 - 12) / sqrt((36 - 14) * (36 - 12)) */
	expect("MCC", "mcc", &d, 12.0 / sqrt(22.0 * 24.0));
	expect("cost matrix", "cost_matrix", &d, 1.0 - (0.1 + 0.7) / 6.0);
	d.n = 1;
	expect("accuracy single row", "accuracy", &d, 1.0);
	expect("MCC single row is 0", "mcc", &d, 0.0);
	expect("kappa single class", "cohen_kappa", &d, NAN);
}

static void regression_and_survival(void)
{
	double y[] = {1.0, 2.0, 4.0};
	double p[] = {2.0, 2.0, 2.0};
	struct score_data d = {.n = 3, .yv = y, .p = p, .ncol = 1, .binary_pos = -1};
	double time[] = {1.0, 2.0, 3.0, 3.0};
	uint8_t event[] = {1, 1, 0, 1};
	double risk[] = {4.0, 3.0, 3.0, 1.0};
	struct score_data s = {.n = 4, .yv = time, .event = event, .p = risk, .ncol = 1, .binary_pos = -1};

	expect("RMSE", "rmse", &d, sqrt((1.0 + 0.0 + 4.0) / 3.0));
	expect("MAE", "mae", &d, 1.0);
	expect("MAPE", "mape", &d, (1.0 + 0.0 + 0.5) / 3.0);
	/* mean 7/3: SStot = 16/9 + 1/9 + 25/9 = 42/9, SSres = 5 */
	expect("R2", "r2", &d, 1.0 - 5.0 / (42.0 / 9.0));
	d.yv = p;
	expect("R2 constant truth, perfect", "r2", &d, 1.0);
	d.yv = y;
	d.n = 1;
	expect("RMSE single row", "rmse", &d, 1.0);
	/*
	 * comparable pairs: subject 0 (event at 1) with 1, 2, 3; subject 1 (event at 2) with 2, 3; subject 3
	 * (event at 3) with 2 (censored at 3). Concordant: (0,1) (0,2) (0,3) (1,3); tied risk: (1,2) = 1/2;
	 * (3,2): risk 1 < 3, discordant. C = 4.5 / 6.
	 */
	expect("Harrell's C with ties", "c_index", &s, 4.5 / 6.0);
	s.n = 1;
	expect("C without a comparable pair", "c_index", &s, NAN);
}

int main(void)
{
	binary_ranking();
	labels();
	regression_and_survival();
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	puts("scorer hand-worked metric tests passed");
	return 0;
}
