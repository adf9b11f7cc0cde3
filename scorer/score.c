/*
 * score.c: one scoring run (see score.h): from a request to the JSON object concours-score prints.
 *
 * Reads both files side by side (load.c and pred.c: the prediction parse needs nothing from the ground truth), checks
 * the prediction header, joins rows by id, turns problems into the error object, then computes the metric
 * (metrics.c) on the whole file and on each split from the same columns, with an optional bootstrap interval.
 */
#include "score.h"
#include "load.h"
#include "mem.h"
#include "par.h"
#include "metrics.h"
#include "resample.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BOOTSTRAP 100000

void score_limits_default(struct score_limits *l)
{
	l->max_bytes = UINT64_C(2) << 30;
	l->max_rows = 100000000;
	l->max_record = 256 * 1024;
	l->max_entries = 16;
	l->max_ratio = 100;
}

/* The process's resident memory in MiB (mapped input files included), or -1. */
static long resident_mib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = -1;
	long rss = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024) / 1024;
}

/* How T's numbered ids find their rows, for the timing lines. */
static const char *num_shape(const struct truth *t)
{
	return t->num.table ? "a table of rows" : t->num.gaps ? "with gaps, ranked" : "consecutive";
}

/* With CONCOURS_SCORE_TIMING set, prints how long each phase took to stderr (for the benchmark). */
static void timing(const char *phase, struct timespec *since)
{
	struct timespec now;
	struct timespec cpu;

	if (!getenv("CONCOURS_SCORE_TIMING"))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	fprintf(stderr, "timing: %-8s %.3f s wall (process cpu so far %.3f s, resident %ld MiB)\n", phase,
	        (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9,
	        (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9, resident_mib());
	*since = now;
}

static void thread_timing(const char *what)
{
	struct timespec cpu;

	if (!getenv("CONCOURS_SCORE_TIMING"))
		return;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	fprintf(stderr, "timing: %s thread cpu %.3f s\n", what, (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9);
}

/* The ground truth, then, while the prediction file is still being read (wide files: five numbers a row take
 * longer than the ground truth), the check that its ids are distinct, on this thread alone (otherwise both
 * threads do it together afterwards), then the second half of what is left of the prediction file. */
static void *truth_thread(void *arg)
{
	struct job *j = arg;
	const struct timespec ms = {0, 1000000};
	int n;

	j->truth_st = score_load_truth(j);
	thread_timing("ground truth");
	if (j->truth_st == SCORE_OK && !atomic_load(&j->pred_done)) {
		j->truth_st = score_check_unique(&j->t, 1, j->truth_msg);
		/* ids in order need no check, but a join needs their keys: while the prediction file is still being
		 * read, this thread groups them unless the file seems to follow the ground truth */
		if (j->truth_st == SCORE_OK && j->t.ordered && !j->t.num.on &&
		    !score_pred_looks_aligned(&j->t, j->req->pred_path) && score_group_truth(&j->t, 1) != 0) {
			snprintf(j->truth_msg, MSG_LEN, "out of memory indexing the ground truth");
			j->truth_st = SCORE_INTERNAL;
		}
		j->unique_done = 1;
		thread_timing("ground truth, ids checked");
	}
	if (j->truth_st == SCORE_OK && j->p.split_test) /* the reader waits for this thread's answer */
		for (n = 0; n < 60000 && !atomic_load(&j->pred_started); n++)
			nanosleep(&ms, NULL); /* bounded: without a second thread it runs after this one */
	if (j->truth_st == SCORE_OK && atomic_load(&j->pred_started) && !atomic_load(&j->pred_done)) {
		score_help_pred(j);
		thread_timing("ground truth, prediction helped");
	} else {
		atomic_store(&j->p.help_asked, 2);
	}
	return NULL;
}

static void *pred_thread(void *arg)
{
	struct job *j = arg;

	atomic_store(&j->pred_started, 1);
	score_load_pred(j);
	atomic_store(&j->pred_done, 1);
	thread_timing("prediction");
	return NULL;
}

/*
 * The prediction values in the ground truth's row order: row r of the output is prediction row OWNER[r] - 1
 * (r itself when OWNER is NULL). Either P, or MICRO when P is NULL (NVAL values a row, reordered into class order
 * through COLMAP when NCLASS > 0), to OUT as doubles, or the labels YLAB to YOUT. Rows [FIRST, LAST);
 * gather_rows() splits them between two threads (the reads are random: two cores keep twice as many in flight).
 */
struct gather {
	const uint32_t *owner;
	const double *p;
	double *out;
	const int32_t *ylab;
	int32_t *yout;
	size_t nval;
	int nclass;
	const int *colmap;
	size_t first;
	size_t last;
	score_term_fn term; /* set: OUT gets each row's term (D's labels, the NVAL values of a row) */
	const struct score_data *d;
	const uint32_t *micro; /* the values in millionths (score_data.micro) */
};

#define GATHER_AHEAD 32 /* rows between the prefetch of a row's read and the read */

static void *gather_part(void *arg)
{
	const struct gather *g = arg;
	size_t r;
	int k;

	for (r = g->first; r < g->last; r++) {
		size_t from = g->owner ? (size_t)g->owner[r] - 1 : r;

		/* the reads land at random: the row GATHER_AHEAD on is asked for now, or they would wait in turn (a label
		 * metric's labels: 0.04-0.085 s instead of 0.08-0.125 s for 10M shuffled rows) */
		if (g->owner && r + GATHER_AHEAD < g->last) {
			size_t ahead = (size_t)g->owner[r + GATHER_AHEAD] - 1;

			__builtin_prefetch(g->yout ? (const void *)(g->ylab + ahead)
			                           : score_value_addr(g->p, g->micro, ahead * g->nval));
		}
		if (g->yout) {
			g->yout[r] = g->ylab[from];
		} else if (g->term) {
			g->out[r] = g->p ? g->term(g->d, g->d->y[r], g->p + from * g->nval, NULL, g->colmap)
			                 : g->term(g->d, g->d->y[r], NULL, g->micro + from * g->nval, g->colmap);
		} else if (g->nclass == 0) { /* one value read a row (a per-class file comes with NCLASS) */
			g->out[r * g->nval] = score_value_of(g->p, g->micro, from * g->nval);
		} else {
			for (k = 0; k < g->nclass; k++)
				g->out[r * g->nval + (size_t)k] =
				        score_value_of(g->p, g->micro, from * g->nval + (size_t)g->colmap[k]);
		}
	}
	return NULL;
}

static void gather_rows(const struct gather *g)
{
	struct gather half[2];

	half[0] = half[1] = *g;
	half[0].last = half[1].first = g->first + (g->last - g->first) / 2;
	score_par2(gather_part, &half[1], gather_part, &half[0]);
}

/* ---- results ---- */

static json_t *jstr(const char *s)
{
	json_t *v = json_string(s);

	return v ? v : json_string("(unprintable text)");
}

static json_t *error_json(const char *code, const char *message, size_t line, const char *column,
                          const struct problems *ps)
{
	json_t *err = json_object();
	json_t *root = json_object();
	json_t *list = json_array();
	size_t i;

	if (!err || !root || !list) {
		json_decref(err);
		json_decref(root);
		json_decref(list);
		return NULL;
	}
	json_object_set_new(err, "code", jstr(code));
	json_object_set_new(err, "message", jstr(message));
	json_object_set_new(err, "line", json_integer((json_int_t)line));
	json_object_set_new(err, "column", jstr(column));
	for (i = 0; ps && i < ps->kept; i++) {
		json_t *pj = json_pack("{s:s, s:s, s:I, s:s}", "code", ps->item[i].code, "message", ps->item[i].message,
		                       "line", (json_int_t)ps->item[i].line, "column", ps->item[i].column);

		if (pj)
			json_array_append_new(list, pj);
	}
	json_object_set_new(err, "problems", list);
	json_object_set_new(err, "problem_count", json_integer(ps ? (json_int_t)ps->count : 1));
	json_object_set_new(root, "error", err);
	return root;
}

static json_t *problems_json(const struct problems *ps)
{
	char message[SCORE_MAX_PROBLEMS * 410 + 128];
	size_t o = 0;
	size_t i;

	message[0] = '\0';
	if (ps->count > 1) {
		int w = snprintf(message, sizeof message, "%zu problems in the prediction file:", ps->count);

		o = w > 0 ? (size_t)w : 0;
	}
	for (i = 0; i < ps->kept && o < sizeof message; i++) {
		int w = snprintf(message + o, sizeof message - o, "%s%s", ps->count > 1 ? "\n- " : "",
		                 ps->item[i].message);

		o += w > 0 ? (size_t)w : 0;
	}
	if (ps->count > ps->kept && o < sizeof message)
		snprintf(message + o, sizeof message - o, "\n- ... and %zu more", ps->count - ps->kept);
	return error_json(ps->item[0].code, message, ps->item[0].line, ps->item[0].column, ps);
}

/* Parses params for the metric: cost_matrix needs {"matrix":[[...]],"labels":[...]}. */
static enum score_status parse_params(struct job *j, char *msg)
{
	json_t *root = NULL;
	json_error_t jerr;
	json_t *matrix;
	json_t *labels;
	enum score_status st = SCORE_CONFIG;
	size_t k;
	size_t a;
	size_t b;

	if (!j->req->params_json || j->req->params_json[0] == '\0')
		root = json_object();
	else
		root = json_loads(j->req->params_json, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		snprintf(msg, MSG_LEN, "--params must be a JSON object%s%s", root ? "" : ": ", root ? "" : jerr.text);
		goto out;
	}
	if (strcmp(j->m->name, "cost_matrix") != 0) {
		st = SCORE_OK;
		goto out;
	}
	matrix = json_object_get(root, "matrix");
	labels = json_object_get(root, "labels");
	k = json_array_size(matrix);
	if (k == 0 || k > SCORE_MAX_CLASSES || (labels && json_array_size(labels) != k)) {
		snprintf(msg, MSG_LEN, "cost_matrix needs params {\"matrix\":[[...]] (k x k), \"labels\":[...] (k)}");
		goto out;
	}
	j->cost_k = (int)k;
	j->cost = calloc(k * k, sizeof *j->cost);
	j->cost_label = calloc(k, sizeof *j->cost_label);
	if (!j->cost || !j->cost_label) {
		snprintf(msg, MSG_LEN, "out of memory");
		st = SCORE_INTERNAL;
		goto out;
	}
	for (a = 0; a < k; a++) {
		json_t *rowj = json_array_get(matrix, a);
		json_t *l = labels ? json_array_get(labels, a) : NULL;
		char buf[64];

		if (json_array_size(rowj) != k) {
			snprintf(msg, MSG_LEN, "cost_matrix: params.matrix must be %zu x %zu", k, k);
			goto out;
		}
		for (b = 0; b < k; b++) {
			json_t *v = json_array_get(rowj, b);

			if (!json_is_number(v) || !isfinite(json_number_value(v))) {
				snprintf(msg, MSG_LEN, "cost_matrix: params.matrix[%zu][%zu] is not a number", a, b);
				goto out;
			}
			j->cost[a * k + b] = json_number_value(v);
		}
		if (!l)
			snprintf(buf, sizeof buf, "%zu", a);
		else if (json_is_string(l))
			snprintf(buf, sizeof buf, "%s", json_string_value(l));
		else if (json_is_integer(l))
			snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(l));
		else {
			snprintf(msg, MSG_LEN, "cost_matrix: params.labels must hold strings or integers");
			goto out;
		}
		j->cost_label[a] = strdup(buf);
		if (!j->cost_label[a]) {
			snprintf(msg, MSG_LEN, "out of memory");
			st = SCORE_INTERNAL;
			goto out;
		}
	}
	st = SCORE_OK;
out:
	json_decref(root);
	return st;
}

/* True if COLMAP (class -> value column) sends every one of the N classes to its own column. */
static int identity_columns(const int *colmap, int n)
{
	int k;

	for (k = 0; k < n; k++) {
		if (colmap[k] != k)
			return 0;
	}
	return 1;
}

/* Rows [FIRST, LAST) of to_pred_order(): one thread's half. */
struct pred_order {
	const struct truth *t;
	const uint32_t *owner;
	int32_t *y_pred;
	uint8_t *split_pred;
	size_t first;
	size_t last;
};

#define ORDER_AHEAD 16 /* rows between the prefetch of a row's places and its writes */

static void *pred_order_part(void *arg)
{
	const struct pred_order *o = arg;
	size_t r;

	for (r = o->first; r < o->last; r++) {
		size_t to = (size_t)o->owner[r] - 1;

		/* the writes land at random: their lines asked for ahead, or each would wait in turn */
		if (r + ORDER_AHEAD < o->last) {
			__builtin_prefetch(o->y_pred + o->owner[r + ORDER_AHEAD] - 1, 1);
			if (o->split_pred)
				__builtin_prefetch(o->split_pred + o->owner[r + ORDER_AHEAD] - 1, 1);
		}
		o->y_pred[to] = o->t->y[r];
		if (o->split_pred)
			o->split_pred[to] = o->t->split[r];
	}
	return NULL;
}

/*
 * The ground truth's labels (and split) in the prediction file's row order: *Y_PRED[OWNER[t] - 1] = t->y[t],
 * for a join where every ground-truth row has its prediction row (OWNER from score_join_rows(), no 0), half the
 * rows on each core (each place is written once: the owners are a bijection). Returns 0, or -1 on no memory. The
 * caller frees both arrays.
 */
static int to_pred_order(const struct truth *t, const uint32_t *owner, int32_t **y_pred, uint8_t **split_pred)
{
	struct pred_order half[2];

	*y_pred = score_big_raw(t->n, sizeof **y_pred);
	*split_pred = t->split ? score_big_raw(t->n, sizeof **split_pred) : NULL;
	if (!*y_pred || (t->split && !*split_pred))
		return -1;
	half[0] = (struct pred_order){t, owner, *y_pred, *split_pred, 0, t->n / 2};
	half[1] = (struct pred_order){t, owner, *y_pred, *split_pred, t->n / 2, t->n};
	score_par2_on(t->n < SCORE_PAR_MIN_ROWS ? 1 : 2, pred_order_part, &half[1], pred_order_part, &half[0]);
	return 0;
}

/*
 * The prediction rows of the per-case file's cases (the private split's rows, all rows without a split) in the
 * ground truth's order, for data held in the prediction file's order: *ROWS (freed by the caller), *N of them.
 */
static int case_rows_of(const struct truth *t, const uint32_t *owner, uint32_t **rows, size_t *n)
{
	size_t r;

	*n = 0;
	*rows = score_big_raw(t->n, sizeof **rows);
	if (!*rows)
		return -1;
	for (r = 0; r < t->n; r++) {
		if (!t->split || t->split[r] == 1)
			(*rows)[(*n)++] = owner[r] - 1;
	}
	return 0;
}

static void job_free(struct job *j)
{
	int c;

	score_truth_free(&j->t);
	arc_input_free(&j->p.in);
	score_big_free(j->p.id);
	score_big_free(j->p.line);
	score_big_free(j->p.p);
	score_big_free(j->p.micro);
	score_big_free(j->p.best);
	score_big_free(j->p.label);
	free(j->cost);
	for (c = 0; j->cost_label && c < j->cost_k; c++)
		free(j->cost_label[c]);
	free(j->cost_label);
}

static json_t *simple_error(enum score_status st, const char *msg)
{
	return error_json(st == SCORE_INTERNAL  ? "internal_error"
	                  : st == SCORE_INVALID ? "invalid_file"
	                                        : "configuration_error",
	                  msg, 0, "", NULL);
}

/*
 * The rows of each split of a run, built at the first call that needs them (rows_of_split()): only what reads a
 * split row by row does (a metric without a one-pass split function, a bootstrap, the per-case file), and building
 * them took 0.04-0.1 s of a 10M-row run.
 */
struct split_rows {
	const uint8_t *split; /* per row: 0 public, 1 private; NULL without a split column */
	size_t n;             /* rows */
	size_t count[2];      /* public rows, private rows */
	uint32_t *rows;       /* the public rows, then the private ones; NULL until asked for */
};

/* *OUT = the rows of S: NULL (every row) for 0, the public rows for 1, the private ones for 2 (SR's split set).
 * Returns 0, or -1 on no memory. */
static int rows_of_split(struct split_rows *sr, int s, const uint32_t **out)
{
	size_t o[2] = {0, sr->count[0]};
	size_t r;

	*out = NULL;
	if (s == 0)
		return 0;
	if (!sr->rows) {
		sr->rows = score_big_raw(sr->n, sizeof *sr->rows);
		if (!sr->rows)
			return -1;
		for (r = 0; r < sr->n; r++)
			sr->rows[o[sr->split[r]]++] = (uint32_t)r;
	}
	*out = sr->rows + (s == 2 ? sr->count[0] : 0);
	return 0;
}

static const char *const split_key[] = {"score", "public", "private"};

/*
 * The metric over all rows (VAL[0]) and, with a split column, each split (VAL[1], VAL[2]); HAVE[s] says which
 * exist. Uses the metric's one-pass split function when it has one, derives the all-rows value of mean-type
 * metrics from the splits, else computes each (on SR's rows). Returns 0, or -1 with *ST and MSG set (an undefined
 * metric is a configuration error: the ground truth cannot rank anyone).
 */
static int compute_splits(const struct score_metric *m, const struct score_data *d, struct split_rows *sr, double *val,
                          int *have, char *msg, size_t msglen, enum score_status *st)
{
	const uint8_t *split = sr->split;
	const size_t *nsplit = sr->count;
	char why[256] = "";
	enum score_fn_status fs = SCORE_FN_OK;
	int handled = 0;
	int s = 0;

	have[0] = 1;
	have[1] = split && nsplit[0] > 0;
	have[2] = split && nsplit[1] > 0;
	if (split && m->splits) {
		fs = m->splits(d, split, val, &handled, why, sizeof why);
		if (fs != SCORE_FN_OK)
			goto fail;
	}
	for (s = 2; s >= 0 && !handled; s--) {
		const uint32_t *rows;
		size_t n = s == 0 ? d->n : nsplit[s - 1];

		if (!have[s])
			continue;
		if (rows_of_split(sr, s, &rows) != 0) {
			fs = SCORE_FN_NOMEM;
			goto fail;
		}
		if (s == 0 && split && m->combine != SCORE_COMBINE_NONE) {
			double w1 = (double)nsplit[0] / (double)d->n;
			double w2 = (double)nsplit[1] / (double)d->n;
			double v1 = have[1] ? val[1] : 0.0;
			double v2 = have[2] ? val[2] : 0.0;

			if (m->combine == SCORE_COMBINE_MEAN)
				val[0] = w1 * v1 + w2 * v2;
			else
				val[0] = sqrt(w1 * v1 * v1 + w2 * v2 * v2);
			if (!have[1] || !have[2]) /* one split holds every row: same value, exactly */
				val[0] = have[1] ? v1 : v2;
			continue;
		}
		fs = m->fn(d, rows, n, &val[s], why, sizeof why);
		if (fs != SCORE_FN_OK)
			goto fail;
		if (!isfinite(val[s])) {
			snprintf(why, sizeof why, "%s is not finite on these rows", m->name);
			fs = SCORE_FN_UNDEFINED;
			goto fail;
		}
	}
	return 0;
fail:
	*st = fs == SCORE_FN_NOMEM ? SCORE_INTERNAL : SCORE_CONFIG;
	if (fs == SCORE_FN_NOMEM)
		snprintf(msg, msglen, "out of memory computing %s", m->name);
	else
		snprintf(msg, msglen, "%s (%s)", why,
		         s == 0 || handled ? "all rows"
		         : s == 1          ? "public split"
		                           : "private split");
	return -1;
}

enum score_status score_run(const struct score_request *req, json_t **out)
{
	struct job *j = NULL;
	struct problems *hp = NULL;
	struct problems *rp = NULL;
	struct problems *mp = NULL;
	struct score_data d;
	uint32_t *owner = NULL;
	uint32_t *match = NULL;
	int32_t *yhat_pred = NULL;
	int32_t *yhat = NULL;
	double *aligned = NULL;
	int32_t *y_pred = NULL;
	uint8_t *split_pred = NULL;
	uint32_t *case_rows = NULL;
	size_t ncase = 0;
	const uint8_t *split = NULL;
	struct split_rows sr = {NULL, 0, {0, 0}, NULL};
	json_t *res = NULL;
	json_t *ci = NULL;
	struct timespec clock0;
	int identity = 0;
	int clean = 0;
	int per_class = 0;
	int colmap[SCORE_MAX_CLASSES];
	int col_class[SCORE_MAX_CLASSES];
	enum score_status st = SCORE_INTERNAL;
	char msg[MSG_LEN] = "out of memory";
	double val[3];
	int have[3];
	int s;

	*out = NULL;
	j = calloc(1, sizeof *j);
	hp = calloc(1, sizeof *hp);
	rp = calloc(1, sizeof *rp);
	mp = calloc(1, sizeof *mp);
	if (!j || !hp || !rp || !mp)
		goto out;
	j->req = req;
	j->m = score_metric_find(req->metric);
	if (!j->m) {
		snprintf(msg, sizeof msg, "unknown metric '%.100s' (concours-score --help lists them)",
		         req->metric ? req->metric : "");
		st = SCORE_CONFIG;
		goto out;
	}
	if (req->lim.max_bytes == 0 || req->lim.max_bytes > UINT32_MAX || req->lim.max_rows == 0 ||
	    req->lim.max_rows >= UINT32_MAX || req->bootstrap > MAX_BOOTSTRAP) {
		snprintf(msg, sizeof msg, "limits out of range (bytes 1..4 GiB-1, rows 1..2^32-2, bootstrap <= %d)",
		         MAX_BOOTSTRAP);
		st = SCORE_CONFIG;
		goto out;
	}
	st = parse_params(j, msg);
	if (st != SCORE_OK)
		goto out;
	st = SCORE_INTERNAL; /* until proven otherwise: every allocation failure below lands here */

	clock_gettime(CLOCK_MONOTONIC, &clock0);
	/* the two parses share nothing: run them side by side */
	j->p.split_test = getenv("CONCOURS_SCORE_SPLIT_TEST") != NULL;
	score_par2(pred_thread, j, truth_thread, j);
	score_finish_pred(j);
	timing("parse", &clock0);
	if (j->truth_st == SCORE_OK && !j->unique_done)
		j->truth_st = score_check_unique(&j->t, 2, j->truth_msg);
	timing("unique", &clock0);
	if (getenv("CONCOURS_SCORE_TIMING") && (j->t.ordered || j->t.num.on))
		fprintf(stderr, "timing: the ground truth's ids are %s%s%s%s\n",
		        j->t.ordered ? "in order: distinct without a check"
		                     : "numbers in any order: distinct by their table",
		        j->t.num.on ? "; numbered (a prefix and numbers, " : "", j->t.num.on ? num_shape(&j->t) : "",
		        j->t.num.on ? "): rows found from the ids' text" : "");
	if (j->truth_st != SCORE_OK) {
		st = j->truth_st;
		snprintf(msg, sizeof msg, "%s", j->truth_msg);
		goto out;
	}
	if (j->p.st != SCORE_OK && j->p.st != SCORE_INVALID) {
		st = j->p.st;
		snprintf(msg, sizeof msg, "%s", j->p.msg);
		goto out;
	}
	if (j->p.ncols < 2) { /* unreadable or header-less file: nothing to join */
		st = SCORE_INVALID;
		res = problems_json(&j->p.probs);
		goto out;
	}
	score_check_header(j, hp, colmap, &per_class);
	if (hp->count > 0) { /* with a wrong header, problems of the rows would be noise */
		st = SCORE_INVALID;
		res = problems_json(hp);
		goto out;
	}
	if (j->p.label_mode) {
		yhat_pred = score_big_raw(j->p.n, sizeof *yhat_pred);
		if (!yhat_pred)
			goto out;
	}
	if (!score_same_ids(&j->t, &j->p)) {
		/* ids in order get their keys here, with the ground truth still mapped; then the join's arrays take
		 * its pages: the join reads its ids again only at the end (join_verify), after freeing the keys */
		if (score_group_truth(&j->t, 2) != 0)
			goto out;
		arc_input_release(&j->t.in);
		match = score_big_raw(j->p.n, sizeof *match);
		if (!match || score_match_rows(&j->t, &j->p, match, &owner, &clean) != 0)
			goto out;
	}
	score_big_free(j->t.grouped); /* the join's, if it needed one: its pages serve the metric next */
	j->t.grouped = NULL;
	score_truth_drop_keys(&j->t); /* ids in order, in files that needed no join: the keys were not used */
	if (clean) {                  /* every row matched once, OWNER filled: only labels are left to map */
		score_join_rows(j, NULL, NULL, yhat_pred, &identity, rp, mp);
		identity = 0;
	} else {
		score_join_rows(j, match, owner, yhat_pred, &identity, rp, mp);
	}
	score_big_free(match);
	match = NULL;
	/* ids and labels are read: the files' pages go back to the cache before the aligned arrays and the
	 * metric's take memory (only problems' messages may read an id again) */
	arc_input_release(&j->t.in);
	arc_input_release(&j->p.in);
	timing("join", &clock0);
	if (getenv("CONCOURS_SCORE_TIMING") && owner && j->t.num.on)
		fprintf(stderr, "timing: join by the ids' text (numbered ids, %s)\n", num_shape(&j->t));
	else if (getenv("CONCOURS_SCORE_TIMING") && owner)
		fprintf(stderr, "timing: join by hash, %zu row(s) on a tag two ids share\n", j->t.shared_tags);
	score_problems_merge(rp, &j->p.probs);
	score_problems_append(rp, mp);
	if (rp->count > 0) {
		st = SCORE_INVALID;
		res = problems_json(rp);
		goto out;
	}
	/* no message will name an id: their slices' pages go to the aligned arrays below (one of them, a label
	 * metric's classes, even in a file in the ground truth's order) instead of new ones */
	score_big_free(j->t.id);
	score_big_free(j->p.id);
	j->t.id = NULL;
	j->p.id = NULL;

	/* align the predictions with the ground truth's rows, class columns in class order */
	split = j->t.split;
	memset(&d, 0, sizeof d);
	d.n = j->t.n;
	d.y = j->t.y;
	d.yv = j->t.yv;
	d.event = j->t.event;
	d.binary_pos = -1;
	d.ncol = 1;
	if (j->t.cls) {
		d.nclass = j->t.cls->n;
		d.class_name = j->t.cls->name;
		if (d.nclass == 2)
			d.binary_pos = 1;
		else if (d.nclass == 1 && score_is_one(j->t.cls->name[0], j->t.cls->len[0]))
			d.binary_pos = 0;
	}
	if (j->t.cls && j->cost_k > 0) {
		/* params order -> sorted class order */
		double *cm = malloc((size_t)d.nclass * (size_t)d.nclass * sizeof *cm);
		int a;
		int b;

		if (!cm)
			goto out;
		for (a = 0; a < j->cost_k; a++) {
			for (b = 0; b < j->cost_k; b++) {
				int ka = score_classes_find(j->t.cls, j->cost_label[a], strlen(j->cost_label[a]));
				int kb = score_classes_find(j->t.cls, j->cost_label[b], strlen(j->cost_label[b]));

				cm[(size_t)ka * (size_t)d.nclass + (size_t)kb] =
				        j->cost[(size_t)a * (size_t)j->cost_k + (size_t)b];
			}
		}
		free(j->cost);
		j->cost = cm;
		d.cost = cm;
	}
	if (j->m->pred == SCORE_PRED_LABEL) {
		yhat = score_big_raw(d.n, sizeof *yhat);
		if (!yhat)
			goto out;
		if (!j->p.label_mode) { /* each row's best column, read with the file, becomes its class in place */
			size_t r;
			int k;

			for (k = 0; k < d.nclass; k++)
				col_class[colmap[k]] = k;
			yhat_pred = j->p.best;
			j->p.best = NULL;
			for (r = 0; r < j->p.n; r++)
				yhat_pred[r] = col_class[yhat_pred[r]];
		}
		gather_rows(&(struct gather){
		        .owner = identity ? NULL : owner, .ylab = yhat_pred, .yout = yhat, .last = d.n});
		d.yhat = yhat;
	} else {
		size_t nval = (size_t)j->p.ncols - 1;
		int same = identity;
		int k;

		if (per_class) {
			for (k = 0; k < d.nclass; k++) {
				if (colmap[k] != k)
					same = 0;
			}
		}
		d.ncol = (int)nval;
		if (same) {
			d.p = j->p.p;
			d.micro = j->p.micro;
		} else if (owner && j->m->order_free && req->bootstrap == 0 &&
		           (!per_class || identity_columns(colmap, d.nclass)) && j->p.n == d.n) {
			/* the value does not depend on the rows' order: the ground truth's few bytes a row go to
			 * the prediction rows, instead of the values (nval doubles a row) to the ground truth's;
			 * the per-case file still lists its rows in the ground truth's order (CASE_ROWS) */
			if (to_pred_order(&j->t, owner, &y_pred, &split_pred) != 0 ||
			    (req->per_case_path && case_rows_of(&j->t, owner, &case_rows, &ncase) != 0))
				goto out;
			d.p = j->p.p;
			d.micro = j->p.micro;
			d.y = y_pred;
			split = split_pred;
			if (getenv("CONCOURS_SCORE_TIMING"))
				fprintf(stderr, "timing: the metric reads the rows in the prediction file's order\n");
		} else if (j->m->term && (!per_class || nval == (size_t)d.nclass)) {
			/* a sum of a term per row: the terms in the ground truth's order, one double a row
			 * instead of the NVAL values */
			aligned = score_big_raw(d.n, sizeof *aligned);
			if (!aligned)
				goto out;
			gather_rows(&(struct gather){.owner = identity ? NULL : owner,
			                             .p = j->p.p,
			                             .micro = j->p.micro,
			                             .out = aligned,
			                             .nval = nval,
			                             .colmap = per_class ? colmap : NULL,
			                             .last = d.n,
			                             .term = j->m->term,
			                             .d = &d});
			d.term = aligned;
			d.p = NULL;
			if (getenv("CONCOURS_SCORE_TIMING"))
				fprintf(stderr,
				        "timing: the metric sums per-row terms taken in the ground truth's order\n");
		} else {
			aligned = score_big_raw(d.n, nval * sizeof *aligned);
			if (!aligned)
				goto out;
			gather_rows(&(struct gather){.owner = identity ? NULL : owner,
			                             .p = j->p.p,
			                             .micro = j->p.micro,
			                             .out = aligned,
			                             .nval = nval,
			                             .nclass = per_class ? d.nclass : 0,
			                             .colmap = colmap,
			                             .last = d.n});
			d.p = aligned;
		}
	}

	timing("align", &clock0);
	/* the metric reads D only: what the join needed goes back to the allocator, whose cached pages the
	 * metric's arrays take instead of touching new ones */
	score_big_free(owner);
	score_big_free(yhat_pred);
	owner = NULL;
	yhat_pred = NULL;
	if (d.p != j->p.p) {
		score_big_free(j->p.p);
		j->p.p = NULL;
	}
	if (d.micro != j->p.micro) {
		score_big_free(j->p.micro);
		j->p.micro = NULL;
	}
	/* splits */
	sr.split = split;
	sr.n = d.n;
	if (split) {
		size_t r;

		for (r = 0; r < d.n; r++)
			sr.count[split[r]]++;
	}
	res = json_object();
	ci = json_object();
	if (!res || !ci)
		goto out;
	json_object_set_new(res, "metric", json_string(j->m->name));
	json_object_set_new(res, "higher_is_better", json_boolean(j->m->higher_is_better));
	json_object_set_new(res, "rows", json_integer((json_int_t)d.n));
	if (compute_splits(j->m, &d, &sr, val, have, msg, sizeof msg, &st) != 0) {
		json_decref(res);
		res = NULL;
		goto out;
	}
	for (s = 0; s < 3; s++) {
		const uint32_t *rows;
		size_t n = s == 0 ? d.n : sr.count[s - 1];
		double lo = 0.0;
		double hi = 0.0;
		int br;

		if (!have[s])
			continue;
		json_object_set_new(res, split_key[s], json_real(val[s]));
		if (req->bootstrap == 0)
			continue;
		if (rows_of_split(&sr, s, &rows) != 0) {
			json_decref(res);
			res = NULL;
			goto out;
		}
		br = score_bootstrap(j->m, &d, rows, n, req->bootstrap, req->seed + (uint64_t)s, &lo, &hi);
		if (br < 0) {
			json_decref(res);
			res = NULL;
			goto out;
		}
		json_object_set_new(ci, split_key[s], br == 0 ? json_pack("[f,f]", lo, hi) : json_null());
	}
	timing("metric", &clock0);
	if (req->per_case_path) {
		/* the private split's rows, all rows without a split; in the prediction file's order, CASE_ROWS */
		const uint32_t *rows = case_rows;
		size_t n = case_rows ? ncase : split ? sr.count[1] : d.n;

		/* the score stands without it: the jury's statistics then leave this submission out */
		if (!case_rows && rows_of_split(&sr, split ? 2 : 0, &rows) != 0)
			fprintf(stderr, "concours-score: out of memory writing the per-case file\n");
		else if (score_write_per_case(req->per_case_path, j->m, &d, rows, n, msg, sizeof msg) != 0)
			fprintf(stderr, "concours-score: %s\n", msg);
		timing("per-case", &clock0);
	}
	if (req->bootstrap > 0) {
		json_object_set_new(res, "ci", ci);
		ci = NULL;
		json_object_set_new(res, "bootstrap", json_integer((json_int_t)req->bootstrap));
		json_object_set_new(res, "seed", json_integer((json_int_t)req->seed));
	}
	st = SCORE_OK;
out:
	if (!res)
		res = simple_error(st, msg);
	*out = res;
	json_decref(ci);
	if (j)
		job_free(j);
	free(j);
	free(hp);
	free(rp);
	free(mp);
	score_big_free(owner);
	score_big_free(match);
	score_big_free(yhat_pred);
	score_big_free(yhat);
	score_big_free(aligned);
	score_big_free(y_pred);
	score_big_free(split_pred);
	score_big_free(case_rows);
	score_big_free(sr.rows);
	score_big_trim();
	return st;
}

enum score_status score_check_truth(const struct score_request *req, json_t **out)
{
	struct job *j = calloc(1, sizeof *j);
	json_t *res = NULL;
	json_t *classes = NULL;
	enum score_status st = SCORE_INTERNAL;
	char msg[MSG_LEN] = "out of memory";
	size_t nsplit[2] = {0, 0};
	size_t r;
	int c;

	*out = NULL;
	if (!j)
		goto out;
	j->req = req;
	j->m = score_metric_find(req->metric);
	if (!j->m) {
		snprintf(msg, sizeof msg, "unknown metric '%.100s'", req->metric ? req->metric : "");
		st = SCORE_CONFIG;
		goto out;
	}
	st = parse_params(j, msg);
	if (st != SCORE_OK)
		goto out;
	j->truth_st = score_load_truth(j);
	if (j->truth_st == SCORE_OK)
		j->truth_st = score_check_unique(&j->t, 2, j->truth_msg);
	if (j->truth_st != SCORE_OK) {
		st = j->truth_st;
		snprintf(msg, sizeof msg, "%s", j->truth_msg);
		goto out;
	}
	st = SCORE_INTERNAL;
	for (r = 0; j->t.split && r < j->t.n; r++)
		nsplit[j->t.split[r] ? 1 : 0]++;
	res = json_object();
	if (!res)
		goto out;
	if (j->t.cls) {
		classes = json_array();
		for (c = 0; classes && c < j->t.cls->n; c++)
			json_array_append_new(classes, json_stringn(j->t.cls->name[c], j->t.cls->len[c]));
		if (!classes)
			goto out;
		json_object_set_new(res, "classes", classes);
	}
	json_object_set_new(res, "rows", json_integer((json_int_t)j->t.n));
	json_object_set_new(res, "split", json_boolean(j->t.split != NULL));
	json_object_set_new(res, "public_rows", json_integer((json_int_t)nsplit[0]));
	json_object_set_new(res, "private_rows", json_integer((json_int_t)nsplit[1]));
	st = SCORE_OK;
out:
	if (st != SCORE_OK) {
		json_decref(res);
		res = simple_error(st, msg);
	}
	*out = res;
	if (j)
		job_free(j);
	free(j);
	score_big_trim();
	return st;
}

enum score_status score_request_from_challenge(const char *dir, struct score_request *req, json_t **hold, char *msg,
                                               size_t msglen)
{
	char path[4096];
	json_error_t jerr;
	json_t *root = NULL;
	json_t *metric;
	json_t *params;
	const char *gt;
	const char *name;
	char *params_text = NULL;
	json_t *strings = NULL;
	enum score_status st = SCORE_CONFIG;
	int w;

	*hold = NULL;
	w = snprintf(path, sizeof path, "%s/challenge.json", dir);
	if (w < 0 || (size_t)w >= sizeof path) {
		snprintf(msg, msglen, "challenge folder path too long");
		goto out;
	}
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		snprintf(msg, msglen, "%s: %s", path, root ? "not a JSON object" : jerr.text);
		goto out;
	}
	gt = json_string_value(json_object_get(root, "ground_truth"));
	if (!gt)
		gt = "private/solution.csv";
	if (gt[0] == '/' || strstr(gt, "..")) {
		snprintf(msg, msglen, "challenge.json: ground_truth must be a relative path inside the bundle");
		goto out;
	}
	metric = json_object_get(root, "metric");
	name = json_string_value(json_object_get(metric, "name"));
	if (!name) {
		snprintf(msg, msglen, "challenge.json: metric.name is missing%s",
		         json_object_get(metric, "program") ? " (this challenge uses its own scoring program)" : "");
		goto out;
	}
	params = json_object_get(metric, "params");
	if (params && !json_is_object(params)) {
		snprintf(msg, msglen, "challenge.json: metric.params must be an object");
		goto out;
	}
	strings = json_array();
	params_text = params ? json_dumps(params, JSON_COMPACT) : NULL;
	w = snprintf(path, sizeof path, "%s/%s", dir, gt);
	if (!strings || (params && !params_text) || w < 0 || (size_t)w >= sizeof path ||
	    json_array_append_new(strings, json_string(path)) != 0 ||
	    (params_text && json_array_append_new(strings, json_string(params_text)) != 0)) {
		snprintf(msg, msglen, "out of memory or path too long reading challenge.json");
		st = SCORE_INTERNAL;
		goto out;
	}
	req->truth_path = json_string_value(json_array_get(strings, 0));
	req->params_json = params_text ? json_string_value(json_array_get(strings, 1)) : NULL;
	req->metric = name;
	req->id_column = json_string_value(json_object_get(root, "id_column"));
	req->split_column = json_string_value(json_object_get(root, "split_column"));
	json_object_set_new(root, "_strings", strings);
	strings = NULL;
	*hold = root;
	root = NULL;
	st = SCORE_OK;
out:
	free(params_text);
	json_decref(strings);
	json_decref(root);
	return st;
}
