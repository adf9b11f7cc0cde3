/*
 * score.c: the scoring pipeline behind concours-score (see score.h).
 *
 * Order of work: parse the ground truth and the prediction file (in two threads; the prediction parse needs
 * nothing from the ground truth), check the prediction header against the ground truth, join rows by id (a
 * position check first, since most files follow the sample submission's order, then a hash table), list
 * problems, then run the metric on the whole file and on each split from the same columns.
 */
#include "score.h"
#include "arc.h"
#include "csv.h"
#include "mem.h"
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FIELDS (SCORE_MAX_CLASSES + 16)
#define MAX_ID_BYTES 1024
#define MAX_BOOTSTRAP 100000
#define MSG_LEN 512

void score_limits_default(struct score_limits *l)
{
	l->max_bytes = UINT64_C(2) << 30;
	l->max_rows = 100000000;
	l->max_record = 256 * 1024;
	l->max_entries = 16;
}

/* ---- problems: the first SCORE_MAX_PROBLEMS are kept, all are counted ---- */

struct problem {
	char code[32];
	char message[400];
	size_t line;
	char column[160];
};

struct problems {
	size_t count;
	size_t kept;
	struct problem item[SCORE_MAX_PROBLEMS];
};

static void problem_add(struct problems *ps, const char *code, size_t line, const char *column,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void problem_add(struct problems *ps, const char *code, size_t line, const char *column,
			const char *fmt, ...)
{
	struct problem *p;
	va_list ap;

	ps->count++;
	if (ps->kept >= SCORE_MAX_PROBLEMS)
		return;
	p = &ps->item[ps->kept++];
	snprintf(p->code, sizeof p->code, "%s", code);
	snprintf(p->column, sizeof p->column, "%s", column ? column : "");
	p->line = line;
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof p->message, fmt, ap);
	va_end(ap);
}

/* Appends B to A, both in line order, keeping line order among the kept items. */
static void problems_merge(struct problems *a, const struct problems *b)
{
	struct problems out;
	size_t i = 0;
	size_t j = 0;

	out.count = a->count + b->count;
	out.kept = 0;
	while (out.kept < SCORE_MAX_PROBLEMS && (i < a->kept || j < b->kept)) {
		if (j >= b->kept || (i < a->kept && a->item[i].line <= b->item[j].line))
			out.item[out.kept++] = a->item[i++];
		else
			out.item[out.kept++] = b->item[j++];
	}
	*a = out;
}

static void problems_append(struct problems *a, const struct problems *b)
{
	size_t j;

	for (j = 0; j < b->kept && a->kept < SCORE_MAX_PROBLEMS; j++)
		a->item[a->kept++] = b->item[j];
	a->count += b->count;
}

/* ---- classes: the labels of a LABEL ground truth, interned ---- */

#define CLASS_SLOTS 4096 /* power of two, > 2 x SCORE_MAX_CLASSES */

struct classes {
	int n;
	char *name[SCORE_MAX_CLASSES];
	size_t len[SCORE_MAX_CLASSES];
	int16_t slot[CLASS_SLOTS]; /* class index + 1, 0 = empty */
};

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)n;
	uint64_t w;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 32;
		s += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 29;
	h *= UINT64_C(0x9E3779B97F4A7C15);
	h ^= h >> 32;
	return h;
}

static int classes_find(const struct classes *c, const char *s, size_t len)
{
	size_t i;

	if (c->n <= 8) { /* a few classes: a scan beats hashing */
		int k;

		for (k = 0; k < c->n; k++) {
			size_t b;

			if (c->len[k] != len)
				continue;
			for (b = 0; b < len && c->name[k][b] == s[b]; b++)
				;
			if (b == len)
				return k;
		}
		return -1;
	}
	i = (size_t)hash_bytes(s, len) & (CLASS_SLOTS - 1);

	for (;;) {
		int k = c->slot[i] - 1;

		if (k < 0)
			return -1;
		if (c->len[k] == len && memcmp(c->name[k], s, len) == 0)
			return k;
		i = (i + 1) & (CLASS_SLOTS - 1);
	}
}

/* Adds S as a class (or finds it). Returns its index, -1 when there are too many classes, -2 on no memory. */
static int classes_add(struct classes *c, const char *s, size_t len)
{
	size_t i;
	char *copy;
	int known = classes_find(c, s, len);

	if (known >= 0)
		return known;
	i = (size_t)hash_bytes(s, len) & (CLASS_SLOTS - 1);

	for (;;) {
		int k = c->slot[i] - 1;

		if (k < 0)
			break;
		if (c->len[k] == len && memcmp(c->name[k], s, len) == 0)
			return k;
		i = (i + 1) & (CLASS_SLOTS - 1);
	}
	if (c->n >= SCORE_MAX_CLASSES)
		return -1;
	copy = malloc(len + 1);
	if (!copy)
		return -2;
	memcpy(copy, s, len);
	copy[len] = '\0';
	c->name[c->n] = copy;
	c->len[c->n] = len;
	c->slot[i] = (int16_t)(c->n + 1);
	return c->n++;
}

static void classes_free(struct classes *c)
{
	int k;

	if (!c)
		return;
	for (k = 0; k < c->n; k++)
		free(c->name[k]);
	free(c);
}

static const struct classes *sort_ctx;

static int class_cmp(const void *a, const void *b)
{
	int x = *(const int *)a;
	int y = *(const int *)b;
	double dx;
	double dy;
	size_t l;
	int r;

	if (csv_parse_double(sort_ctx->name[x], sort_ctx->len[x], &dx) == CSV_NUM_OK &&
	    csv_parse_double(sort_ctx->name[y], sort_ctx->len[y], &dy) == CSV_NUM_OK && dx != dy)
		return dx < dy ? -1 : 1;
	l = sort_ctx->len[x] < sort_ctx->len[y] ? sort_ctx->len[x] : sort_ctx->len[y];
	r = memcmp(sort_ctx->name[x], sort_ctx->name[y], l);
	if (r != 0)
		return r;
	return (sort_ctx->len[x] > sort_ctx->len[y]) - (sort_ctx->len[x] < sort_ctx->len[y]);
}

/*
 * Sorts the classes as sklearn's unique_labels does (numerically when every label is a number, else
 * bytewise) and writes old index -> new index to REMAP.
 */
static void classes_sort(struct classes *c, int *remap)
{
	int order[SCORE_MAX_CLASSES];
	char *name[SCORE_MAX_CLASSES];
	size_t len[SCORE_MAX_CLASSES];
	int all_numeric = 1;
	int k;

	for (k = 0; k < c->n; k++) {
		double v;

		order[k] = k;
		if (csv_parse_double(c->name[k], c->len[k], &v) != CSV_NUM_OK)
			all_numeric = 0;
	}
	sort_ctx = c;
	if (all_numeric) {
		qsort(order, (size_t)c->n, sizeof order[0], class_cmp);
	} else {
		/* bytewise only: compare as if no label were numeric */
		int i;
		int j;

		for (i = 1; i < c->n; i++) {
			int v = order[i];

			for (j = i; j > 0; j--) {
				int o = order[j - 1];
				size_t l = c->len[o] < c->len[v] ? c->len[o] : c->len[v];
				int r = memcmp(c->name[o], c->name[v], l);

				if (r < 0 || (r == 0 && c->len[o] <= c->len[v]))
					break;
				order[j] = o;
			}
			order[j] = v;
		}
	}
	for (k = 0; k < c->n; k++) {
		name[k] = c->name[order[k]];
		len[k] = c->len[order[k]];
		remap[order[k]] = k;
	}
	memset(c->slot, 0, sizeof c->slot);
	for (k = 0; k < c->n; k++) {
		size_t i = (size_t)hash_bytes(name[k], len[k]) & (CLASS_SLOTS - 1);

		c->name[k] = name[k];
		c->len[k] = len[k];
		while (c->slot[i] != 0)
			i = (i + 1) & (CLASS_SLOTS - 1);
		c->slot[i] = (int16_t)(k + 1);
	}
}

/* "0, 1, 2" (bounded), for messages. */
static void classes_list(const struct classes *c, char *out, size_t outlen)
{
	size_t o = 0;
	int k;

	out[0] = '\0';
	for (k = 0; k < c->n && o + 1 < outlen; k++) {
		char shown[64];
		int w;

		csv_printable(c->name[k], c->len[k], 30, shown, sizeof shown);
		w = snprintf(out + o, outlen - o, "%s%s", k ? ", " : "", shown);
		if (w < 0 || (size_t)w >= outlen - o) {
			if (outlen > 4)
				memcpy(out + outlen - 4, "...", 4);
			return;
		}
		o += (size_t)w;
	}
}

/* ---- the two files ---- */

struct slice {
	uint32_t off;
	uint32_t len;
};

struct truth {
	struct arc_input in;
	size_t n;
	struct csv_field hdr[MAX_FIELDS];
	int ncols;
	int id_col;
	int split_col;           /* -1: none */
	int target[MAX_FIELDS];  /* columns that are neither id nor split */
	int ntarget;
	struct slice *id;
	uint64_t *idkey;         /* per row: (id hash high 32 bits) << 32 | row, for find_repeat() */
	uint8_t *split;          /* 0 public, 1 private; NULL without split column */
	int32_t *y;
	double *yv;
	uint8_t *event;
	struct classes *cls;
	uint64_t *table;         /* id hash table: (hash high 32 bits) << 32 | (row + 1) */
	size_t mask;
};

#define NO_LABEL UINT32_MAX /* label slice of a row that was already reported malformed */

struct pred {
	struct arc_input in;
	size_t n;
	struct csv_field hdr[MAX_FIELDS];
	int ncols;
	int label_mode;          /* one label column: values kept as slices */
	struct slice *id;
	uint32_t *line;          /* physical line of each row; NULL while every row i is on line0 + i */
	size_t line0;
	double *p;               /* n x (ncols - 1), file column order */
	struct slice *label;
	struct problems probs;
	enum score_status st;    /* SCORE_OK, or an error with msg */
	char msg[MSG_LEN];
};

struct job {
	const struct score_request *req;
	const struct score_metric *m;
	struct truth t;
	struct pred p;
	enum score_status truth_st;
	char truth_msg[MSG_LEN];
	double *cost;             /* cost_matrix in params order, k x k */
	char **cost_label;
	int cost_k;
};

static void shown_field(const char *s, size_t len, char *out, size_t outlen)
{
	csv_printable(s, len, 60, out, outlen);
}

/*
 * First guess at the records in LEN bytes of NCOLS fields (about two bytes a field), capped by the row limit:
 * row arrays start at that size and grow (without copying) if the file has shorter lines. Avoids a counting
 * pass over the file; untouched pages of a guess too large cost address space, not memory.
 */
static size_t first_capacity(size_t len, int ncols, size_t max_rows)
{
	size_t guess = len / (2 * (size_t)(ncols > 0 ? ncols : 1)) + 1024;

	return guess < max_rows + 1 ? guess : max_rows + 1;
}

/* The next capacity after CAP rows, or 0 when CAP already reaches the row limit. */
static size_t next_capacity(size_t cap, size_t max_rows)
{
	if (cap > max_rows)
		return 0;
	return cap < (max_rows + 1) / 2 ? cap * 2 : max_rows + 1;
}

/* Grows the row array ARR (NULL: an unused column, left alone) to N rows, or jumps to FAIL. */
#define GROW_ROWS(arr, n, per_row, fail)                                          \
	do {                                                                      \
		if (arr) {                                                        \
			void *grown_ = score_big_grow((arr), (n), (per_row));     \
			if (!grown_)                                              \
				goto fail;                                        \
			(arr) = grown_;                                           \
		}                                                                 \
	} while (0)

static enum score_status load_input(const char *path, const struct score_limits *lim, struct arc_input *in,
				    char *msg, size_t msglen, int is_pred)
{
	struct arc_limits al;
	enum arc_status as;

	al.max_bytes = lim->max_bytes;
	al.max_entries = lim->max_entries;
	as = arc_load(path, &al, in, msg, msglen);
	if (as == ARC_OK)
		return SCORE_OK;
	if (as == ARC_ERR_NOMEM) {
		snprintf(msg, msglen, "out of memory while reading %s", path);
		return SCORE_INTERNAL;
	}
	if (as == ARC_ERR_REJECTED && is_pred)
		return SCORE_INVALID;
	return SCORE_CONFIG;
}

static inline int bytes_eq(const char *a, const char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (a[i] != b[i])
			return 0;
	}
	return 1;
}

static inline int field_is(const struct csv_field *f, const char *name)
{
	return strlen(name) == f->len && bytes_eq(f->s, name, f->len);
}

static int is_one(const char *s, size_t len)
{
	double v;

	return csv_parse_double(s, len, &v) == CSV_NUM_OK && v == 1.0;
}

/* Reads the ground truth into T (columns per the metric). Errors are configuration errors. */
static enum score_status load_truth(struct job *j)
{
	const struct score_request *req = j->req;
	struct truth *t = &j->t;
	char *msg = j->truth_msg;
	struct csv_reader rd;
	struct csv_field *f = NULL;
	enum score_status st;
	enum csv_status cs;
	const char *split_name = req->split_column ? req->split_column : "Usage";
	size_t cap;
	int nf;
	int c;
	int remap[SCORE_MAX_CLASSES];
	int16_t byte_class[256]; /* class of each one-byte label seen so far, -1 if none */

	memset(byte_class, 0xff, sizeof byte_class);
	st = load_input(req->truth_path, &req->lim, &t->in, msg, MSG_LEN, 0);
	if (st != SCORE_OK)
		goto out;
	st = SCORE_CONFIG;
	csv_reader_init(&rd, t->in.data, t->in.len, req->lim.max_record);
	cs = csv_next(&rd, t->hdr, MAX_FIELDS, &nf);
	if (cs == CSV_EOF) {
		snprintf(msg, MSG_LEN, "ground truth %s is empty", req->truth_path);
		goto out;
	}
	if (cs != CSV_OK || nf > MAX_FIELDS) {
		snprintf(msg, MSG_LEN, "ground truth header: %s", cs != CSV_OK ? csv_status_text(cs) : "too many columns");
		goto out;
	}
	t->ncols = nf;
	t->id_col = req->id_column ? -1 : 0;
	t->split_col = -1;
	for (c = 0; c < nf; c++) {
		if (req->id_column && field_is(&t->hdr[c], req->id_column))
			t->id_col = c;
	}
	if (t->id_col < 0) {
		snprintf(msg, MSG_LEN, "ground truth has no id column '%s'", req->id_column);
		goto out;
	}
	for (c = 0; c < nf && t->split_col < 0; c++) {
		if (c != t->id_col && field_is(&t->hdr[c], split_name))
			t->split_col = c;
	}
	for (c = 0; c < nf && t->split_col < 0; c++) {
		if (c != t->id_col && csv_field_ieq(t->hdr[c].s, t->hdr[c].len, split_name))
			t->split_col = c;
	}
	for (c = 0; c < nf; c++) {
		if (c != t->id_col && c != t->split_col)
			t->target[t->ntarget++] = c;
	}
	if (t->ntarget == 0 || (j->m->truth == SCORE_TRUTH_NUMBER && t->ntarget != 1) ||
	    (j->m->truth == SCORE_TRUTH_SURVIVAL && t->ntarget != 2)) {
		snprintf(msg, MSG_LEN, "metric %s needs %s in the ground truth besides the id and split columns; "
			 "it has %d", j->m->name, j->m->truth == SCORE_TRUTH_SURVIVAL ? "two columns (time, event)"
			 : j->m->truth == SCORE_TRUTH_NUMBER ? "one target column" : "a label column (or one column per class)",
			 t->ntarget);
		goto out;
	}
	if (j->m->truth == SCORE_TRUTH_SURVIVAL && csv_field_ieq(t->hdr[t->target[0]].s, t->hdr[t->target[0]].len, "event")) {
		int tmp = t->target[0];

		t->target[0] = t->target[1];
		t->target[1] = tmp;
	}
	cap = first_capacity((size_t)(rd.end - rd.p), t->ncols, req->lim.max_rows);
	t->id = score_big_raw(cap, sizeof *t->id);
	t->idkey = score_big_raw(cap, sizeof *t->idkey);
	t->y = j->m->truth == SCORE_TRUTH_LABEL ? score_big_raw(cap, sizeof *t->y) : NULL;
	t->yv = j->m->truth != SCORE_TRUTH_LABEL ? score_big_raw(cap, sizeof *t->yv) : NULL;
	t->event = j->m->truth == SCORE_TRUTH_SURVIVAL ? score_big_raw(cap, 1) : NULL;
	t->split = t->split_col >= 0 ? score_big_raw(cap, 1) : NULL;
	t->cls = j->m->truth == SCORE_TRUTH_LABEL ? calloc(1, sizeof *t->cls) : NULL;
	f = malloc((size_t)t->ncols * sizeof *f);
	if (!t->id || !t->idkey || (j->m->truth == SCORE_TRUTH_LABEL && (!t->y || !t->cls)) ||
	    (j->m->truth != SCORE_TRUTH_LABEL && !t->yv) || (j->m->truth == SCORE_TRUTH_SURVIVAL && !t->event) ||
	    (t->split_col >= 0 && !t->split) || !f) {
		snprintf(msg, MSG_LEN, "out of memory reading the ground truth");
		st = SCORE_INTERNAL;
		goto out;
	}
	if (t->cls && j->cost_k > 0) {
		for (c = 0; c < j->cost_k; c++) {
			if (classes_add(t->cls, j->cost_label[c], strlen(j->cost_label[c])) != c) {
				snprintf(msg, MSG_LEN, "params.labels must be distinct");
				goto out;
			}
		}
	}
	if (t->cls && t->ntarget > 1) { /* one column per class: the class is the column holding the maximum */
		for (c = 0; c < t->ntarget; c++) {
			const struct csv_field *h = &t->hdr[t->target[c]];
			int k = j->cost_k > 0 ? classes_find(t->cls, h->s, h->len) : classes_add(t->cls, h->s, h->len);

			if (k != (j->cost_k > 0 ? k : c) || k < 0) {
				char shown[80];

				shown_field(h->s, h->len, shown, sizeof shown);
				snprintf(msg, MSG_LEN, "ground truth column '%s' is not a class of params.labels, or is repeated",
					 shown);
				goto out;
			}
		}
	}
	for (;;) {
		const struct csv_field *idf;
		size_t row = t->n;
		char shown[80];

		cs = csv_next(&rd, f, t->ncols, &nf);
		if (cs == CSV_EOF)
			break;
		if (cs != CSV_OK) {
			snprintf(msg, MSG_LEN, "ground truth line %zu: %s", rd.line, csv_status_text(cs));
			goto out;
		}
		if (nf != t->ncols) {
			snprintf(msg, MSG_LEN, "ground truth line %zu has %d fields, expected %d", rd.line, nf, t->ncols);
			goto out;
		}
		if (row >= req->lim.max_rows) {
			snprintf(msg, MSG_LEN, "ground truth has more than %zu rows", req->lim.max_rows);
			goto out;
		}
		if (row >= cap) { /* lines shorter than guessed */
			cap = next_capacity(cap, req->lim.max_rows);
			snprintf(msg, MSG_LEN, "out of memory reading the ground truth");
			st = SCORE_INTERNAL;
			GROW_ROWS(t->id, cap, sizeof *t->id, out);
			GROW_ROWS(t->idkey, cap, sizeof *t->idkey, out);
			GROW_ROWS(t->y, cap, sizeof *t->y, out);
			GROW_ROWS(t->yv, cap, sizeof *t->yv, out);
			GROW_ROWS(t->event, cap, 1, out);
			GROW_ROWS(t->split, cap, 1, out);
			st = SCORE_CONFIG;
		}
		idf = &f[t->id_col];
		if (idf->len == 0 || idf->len > MAX_ID_BYTES) {
			snprintf(msg, MSG_LEN, "ground truth line %zu: the id is empty or longer than %d bytes", rd.line,
				 MAX_ID_BYTES);
			goto out;
		}
		t->id[row].off = (uint32_t)(idf->s - t->in.data);
		t->id[row].len = (uint32_t)idf->len;
		t->idkey[row] = (hash_bytes(idf->s, idf->len) & UINT64_C(0xFFFFFFFF00000000)) | row;
		if (t->split) {
			const struct csv_field *sf = &f[t->split_col];

			if ((sf->len == 6 && memcmp(sf->s, "Public", 6) == 0) || csv_field_ieq(sf->s, sf->len, "public")) {
				t->split[row] = 0;
			} else if ((sf->len == 7 && memcmp(sf->s, "Private", 7) == 0) ||
				   csv_field_ieq(sf->s, sf->len, "private")) {
				t->split[row] = 1;
			} else {
				shown_field(sf->s, sf->len, shown, sizeof shown);
				snprintf(msg, MSG_LEN, "ground truth line %zu: split value '%s' is neither Public nor Private",
					 rd.line, shown);
				goto out;
			}
		}
		if (j->m->truth == SCORE_TRUTH_LABEL && t->ntarget == 1) {
			const struct csv_field *lf = &f[t->target[0]];
			int k = lf->len == 1 ? byte_class[(unsigned char)lf->s[0]] : -1;

			if (k < 0) /* not a one-byte label seen before */
				k = j->cost_k > 0 ? classes_find(t->cls, lf->s, lf->len) : classes_add(t->cls, lf->s, lf->len);
			if (k >= 0 && lf->len == 1)
				byte_class[(unsigned char)lf->s[0]] = (int16_t)k;

			if (k < 0) {
				shown_field(lf->s, lf->len, shown, sizeof shown);
				if (k == -2) {
					snprintf(msg, MSG_LEN, "out of memory reading the ground truth");
					st = SCORE_INTERNAL;
				} else if (j->cost_k > 0) {
					snprintf(msg, MSG_LEN, "ground truth line %zu: label '%s' is not in params.labels", rd.line, shown);
				} else {
					snprintf(msg, MSG_LEN, "ground truth has more than %d classes", SCORE_MAX_CLASSES);
				}
				goto out;
			}
			t->y[row] = k;
		} else if (j->m->truth == SCORE_TRUTH_LABEL) {
			double best = 0.0;
			int arg = -1;

			for (c = 0; c < t->ntarget; c++) {
				const struct csv_field *vf = &f[t->target[c]];
				double v;

				if (csv_parse_double(vf->s, vf->len, &v) != CSV_NUM_OK) {
					shown_field(vf->s, vf->len, shown, sizeof shown);
					snprintf(msg, MSG_LEN, "ground truth line %zu: '%s' is not a finite number", rd.line, shown);
					goto out;
				}
				if (arg < 0 || v > best) {
					best = v;
					arg = c;
				}
			}
			t->y[row] = j->cost_k > 0 ? classes_find(t->cls, t->hdr[t->target[arg]].s, t->hdr[t->target[arg]].len) : arg;
		} else {
			for (c = 0; c < t->ntarget; c++) {
				const struct csv_field *vf = &f[t->target[c]];
				double v;

				if (csv_parse_double(vf->s, vf->len, &v) != CSV_NUM_OK) {
					shown_field(vf->s, vf->len, shown, sizeof shown);
					snprintf(msg, MSG_LEN, "ground truth line %zu: '%s' is not a finite number", rd.line, shown);
					goto out;
				}
				if (c == 0) {
					t->yv[row] = v;
				} else if (v == 0.0 || v == 1.0) {
					t->event[row] = (uint8_t)v;
				} else {
					snprintf(msg, MSG_LEN, "ground truth line %zu: event must be 0 or 1", rd.line);
					goto out;
				}
			}
		}
		t->n++;
	}
	if (t->n == 0) {
		snprintf(msg, MSG_LEN, "ground truth %s has no data rows", req->truth_path);
		goto out;
	}
	if (t->cls) {
		size_t i;

		classes_sort(t->cls, remap);
		for (i = 0; i < t->n; i++)
			t->y[i] = remap[t->y[i]];
	}
	st = SCORE_OK;
out:
	free(f);
	return st;
}

/* Compares two ids word by word (inline: ids are short and compared ten million times a run). */
static inline int slice_eq(const char *abuf, struct slice a, const char *bbuf, struct slice b)
{
	const char *x = abuf + a.off;
	const char *y = bbuf + b.off;
	size_t len = a.len;

	if (a.len != b.len)
		return 0;
	while (len >= 8) {
		uint64_t u;
		uint64_t v;

		memcpy(&u, x, 8);
		memcpy(&v, y, 8);
		if (u != v)
			return 0;
		x += 8;
		y += 8;
		len -= 8;
	}
	while (len > 0) {
		if (*x++ != *y++)
			return 0;
		len--;
	}
	return 1;
}

struct half_sort {
	uint64_t *keys;
	uint64_t *tmp;
	size_t n;
};

static void *sort_half(void *arg)
{
	struct half_sort *h = arg;

	score_sort_keys_from(h->keys, h->tmp, h->n, 32);
	return NULL;
}

/*
 * Finds an id given twice among the N ids IDS (slices of BUF) by sorting KEYS, which must hold
 * (id hash high 32 bits) << 32 | row and are reordered: sequential passes instead of a hash table's random
 * accesses. Empty ids are ignored. Returns the row of one occurrence of a repeated id, -1 if all are
 * distinct, -2 on no memory.
 */
static long long find_repeat(const char *buf, const struct slice *ids, uint64_t *keys, size_t n)
{
	uint64_t *tmp = score_big_raw(n, sizeof *tmp);
	struct half_sort first;
	long long found = -1;
	pthread_t th;
	int threaded;
	size_t i;

	if (!tmp)
		return -2;
	/* two halves sorted side by side (two cores), then merged into TMP */
	first.keys = keys;
	first.tmp = tmp;
	first.n = n / 2;
	threaded = pthread_create(&th, NULL, sort_half, &first) == 0;
	score_sort_keys_from(keys + n / 2, tmp + n / 2, n - n / 2, 32);
	if (threaded)
		pthread_join(th, NULL);
	else
		sort_half(&first);
	score_merge_keys(keys, n / 2, keys + n / 2, n - n / 2, tmp);
	keys = tmp;
	for (i = 1; i < n && found < 0; i++) {
		struct slice b = ids[keys[i] & 0xFFFFFFFFu];
		size_t g;

		if ((keys[i] >> 32) != (keys[i - 1] >> 32) || b.len == 0)
			continue;
		for (g = i; g > 0 && (keys[g - 1] >> 32) == (keys[i] >> 32); g--) {
			if (slice_eq(buf, ids[keys[g - 1] & 0xFFFFFFFFu], buf, b)) {
				found = (long long)(keys[i] & 0xFFFFFFFFu);
				break;
			}
		}
	}
	score_big_free(keys);
	return found;
}

/* A repeated id in the ground truth is a configuration error: the message names it. */
static enum score_status truth_repeat_error(const struct truth *t, long long row, char *msg)
{
	char shown[80];

	if (row == -2) {
		snprintf(msg, MSG_LEN, "out of memory indexing the ground truth");
		return SCORE_INTERNAL;
	}
	shown_field(t->in.data + t->id[row].off, t->id[row].len, shown, sizeof shown);
	snprintf(msg, MSG_LEN, "ground truth: id '%s' appears more than once", shown);
	return SCORE_CONFIG;
}

/* Checks that the ground truth's ids are distinct, with the keys hashed while parsing (consumed). */
static enum score_status check_unique(struct truth *t, char *msg)
{
	long long row = find_repeat(t->in.data, t->id, t->idkey, t->n);

	score_big_free(t->idkey);
	t->idkey = NULL;
	return row == -1 ? SCORE_OK : truth_repeat_error(t, row, msg);
}

#define BATCH 32

/* Hashes the M ids IDS (slices of BUF) into H and prefetches their slots in T's table. */
static void hash_batch(const struct truth *t, const char *buf, const struct slice *ids, size_t m, uint64_t *h)
{
	size_t b;

	for (b = 0; b < m; b++) {
		h[b] = hash_bytes(buf + ids[b].off, ids[b].len);
		__builtin_prefetch(&t->table[(size_t)h[b] & t->mask], 1);
	}
}

/* Builds the id hash table of T (ids are known to be unique). Returns 0, or -1 on no memory. */
static int build_table(struct truth *t)
{
	size_t cap = 16;
	size_t i;

	while (cap < t->n + t->n / 2 + 1)
		cap <<= 1;
	t->table = score_big_array(cap, sizeof *t->table);
	if (!t->table)
		return -1;
	t->mask = cap - 1;
	for (i = 0; i < t->n; i += BATCH) {
		uint64_t h[BATCH];
		size_t m = t->n - i < BATCH ? t->n - i : BATCH;
		size_t b;

		hash_batch(t, t->in.data, t->id + i, m, h);
		for (b = 0; b < m; b++) {
			size_t s = (size_t)h[b] & t->mask;

			while (t->table[s] != 0)
				s = (s + 1) & t->mask;
			t->table[s] = (h[b] & UINT64_C(0xFFFFFFFF00000000)) | (uint64_t)(i + b + 1);
		}
	}
	return 0;
}

/* True if the prediction file lists exactly the ground truth's ids in the same order (the usual case). */
static int same_ids(const struct truth *t, const struct pred *p)
{
	size_t r;

	if (p->n != t->n)
		return 0;
	for (r = 0; r < p->n; r++) {
		if (p->id[r].len == 0 || !slice_eq(t->in.data, t->id[r], p->in.data, p->id[r]))
			return 0;
	}
	return 1;
}

/*
 * MATCH[r] = 1 + the ground-truth row holding prediction row r's id, or 0. Rows are first compared in
 * place (files usually follow the sample submission's order); from the first difference on, ids are looked
 * up in the hash table, built on that first need, in prefetched batches. Returns 0, or -1 on no memory.
 */
static int match_rows(struct truth *t, const struct pred *p, uint32_t *match)
{
	size_t nmin = p->n < t->n ? p->n : t->n;
	size_t r = 0;

	while (r < nmin && p->id[r].len > 0 && slice_eq(t->in.data, t->id[r], p->in.data, p->id[r])) {
		match[r] = (uint32_t)(r + 1);
		r++;
	}
	if (r == p->n)
		return 0;
	if (!t->table && build_table(t) != 0)
		return -1;
	for (; r < p->n; r += BATCH) {
		uint64_t h[BATCH];
		size_t cand[BATCH];
		size_t m = p->n - r < BATCH ? p->n - r : BATCH;
		size_t b;

		/* stages over the batch, each prefetching what the next one reads: slot, then id slice, then bytes */
		hash_batch(t, p->in.data, p->id + r, m, h);
		for (b = 0; b < m; b++) {
			uint64_t e = t->table[(size_t)h[b] & t->mask];

			cand[b] = e != 0 ? (size_t)(e & 0xFFFFFFFFu) - 1 : 0;
			__builtin_prefetch(&t->id[cand[b]], 0);
		}
		for (b = 0; b < m; b++)
			__builtin_prefetch(t->in.data + t->id[cand[b]].off, 0);
		for (b = 0; b < m; b++) {
			struct slice s = p->id[r + b];
			size_t i = (size_t)h[b] & t->mask;
			uint64_t tag = h[b] & UINT64_C(0xFFFFFFFF00000000);

			match[r + b] = 0;
			if (s.len == 0)
				continue;
			for (;;) {
				uint64_t e = t->table[i];
				size_t row;

				if (e == 0)
					break;
				row = (size_t)(e & 0xFFFFFFFFu) - 1;
				if ((e & UINT64_C(0xFFFFFFFF00000000)) == tag && slice_eq(t->in.data, t->id[row], p->in.data, s)) {
					match[r + b] = (uint32_t)(row + 1);
					break;
				}
				i = (i + 1) & t->mask;
			}
		}
	}
	return 0;
}

static void *truth_thread(void *arg)
{
	struct job *j = arg;

	j->truth_st = load_truth(j);
	return NULL;
}

/* ---- the prediction file: parsed on its own, checked against the ground truth afterwards ---- */

static void parse_pred(struct job *j)
{
	const struct score_request *req = j->req;
	struct pred *p = &j->p;
	struct csv_reader rd;
	struct csv_field *f = NULL;
	char (*colname)[64] = NULL;
	enum csv_status cs;
	size_t cap;
	size_t nval;
	int nf;
	int c;
	int proba = j->m->pred == SCORE_PRED_PROBA;

	p->st = load_input(req->pred_path, &req->lim, &p->in, p->msg, MSG_LEN, 1);
	if (p->st == SCORE_INVALID)
		problem_add(&p->probs, "bad_file", 0, "", "%s", p->msg);
	if (p->st != SCORE_OK)
		goto out;
	p->st = SCORE_INVALID;
	csv_reader_init(&rd, p->in.data, p->in.len, req->lim.max_record);
	cs = csv_next(&rd, p->hdr, MAX_FIELDS, &nf);
	if (cs == CSV_EOF) {
		problem_add(&p->probs, "empty_file", 0, "", "the file is empty: expected a header line, then one line per id");
		goto out;
	}
	if (cs != CSV_OK) {
		problem_add(&p->probs, "bad_csv", rd.line, "", "line %zu: %s", rd.line, csv_status_text(cs));
		goto out;
	}
	if (nf > MAX_FIELDS) {
		problem_add(&p->probs, "wrong_header", rd.line, "", "the header has %d columns; at most %d are accepted",
			    nf, MAX_FIELDS);
		goto out;
	}
	if (nf < 2) {
		problem_add(&p->probs, "wrong_header", rd.line, "",
			    "the header has one column; expected the id column, then the prediction column(s)");
		goto out;
	}
	p->ncols = nf;
	nval = (size_t)nf - 1;
	p->label_mode = j->m->pred == SCORE_PRED_LABEL && nval == 1;
	colname = malloc((size_t)nf * sizeof *colname);
	f = malloc((size_t)nf * sizeof *f);
	cap = first_capacity((size_t)(rd.end - rd.p), p->ncols, req->lim.max_rows);
	p->id = score_big_raw(cap, sizeof *p->id);
	if (p->label_mode)
		p->label = score_big_raw(cap, sizeof *p->label);
	else
		p->p = score_big_raw(cap, nval * sizeof *p->p);
	if (!colname || !f || !p->id || (p->label_mode ? !p->label : !p->p)) {
		p->st = SCORE_INTERNAL;
		snprintf(p->msg, MSG_LEN, "out of memory reading the prediction file");
		goto out;
	}
	for (c = 0; c < nf; c++)
		shown_field(p->hdr[c].s, p->hdr[c].len, colname[c], sizeof colname[c]);
	for (;;) {
		size_t row = p->n;
		size_t line;
		const struct csv_field *idf;

		cs = csv_next(&rd, f, p->ncols, &nf);
		if (cs == CSV_EOF)
			break;
		if (cs != CSV_OK) {
			problem_add(&p->probs, "bad_csv", rd.line, "", "line %zu: %s", rd.line, csv_status_text(cs));
			break;
		}
		if (row >= req->lim.max_rows) {
			problem_add(&p->probs, "too_many_rows", rd.line, "", "the file has more than %zu rows",
				    req->lim.max_rows);
			break;
		}
		if (row >= cap) { /* lines shorter than guessed: only possible with empty fields */
			cap = next_capacity(cap, req->lim.max_rows);
			p->st = SCORE_INTERNAL;
			snprintf(p->msg, MSG_LEN, "out of memory reading the prediction file");
			GROW_ROWS(p->id, cap, sizeof *p->id, out);
			GROW_ROWS(p->label, cap, sizeof *p->label, out);
			GROW_ROWS(p->p, cap, nval * sizeof *p->p, out);
			GROW_ROWS(p->line, cap, sizeof *p->line, out);
			p->st = SCORE_INVALID;
		}
		line = rd.line > UINT32_MAX ? UINT32_MAX : rd.line;
		if (row == 0)
			p->line0 = line;
		if (!p->line && line != p->line0 + row) { /* blank lines or quoted newlines: keep every line */
			size_t i;

			p->line = score_big_raw(cap, sizeof *p->line);
			if (!p->line) {
				p->st = SCORE_INTERNAL;
				snprintf(p->msg, MSG_LEN, "out of memory reading the prediction file");
				goto out;
			}
			for (i = 0; i < row; i++)
				p->line[i] = (uint32_t)(p->line0 + i);
		}
		if (p->line)
			p->line[row] = (uint32_t)line;
		p->id[row].off = 0;
		p->id[row].len = 0;
		p->n++;
		idf = &f[0];
		if (nf >= 1 && idf->len > 0 && idf->len <= MAX_ID_BYTES) {
			p->id[row].off = (uint32_t)(idf->s - p->in.data);
			p->id[row].len = (uint32_t)idf->len;
		} else if (nf >= 1) {
			problem_add(&p->probs, "bad_id", line, colname[0], "line %zu: the id is %s", line,
				    idf->len == 0 ? "empty" : "too long");
		}
		if (nf != p->ncols) {
			problem_add(&p->probs, "wrong_field_count", line, "", "line %zu has %d fields, expected %d like the header",
				    line, nf, p->ncols);
			if (p->label_mode)
				p->label[row].len = NO_LABEL;
			continue;
		}
		if (p->label_mode) {
			p->label[row].off = (uint32_t)(f[1].s - p->in.data);
			p->label[row].len = (uint32_t)f[1].len;
			continue;
		}
		for (c = 1; c < p->ncols; c++) {
			double v = 0.0;
			enum csv_num nr = csv_parse_double(f[c].s, f[c].len, &v);
			char shown[80];

			if (nr == CSV_NUM_OK && (!proba || (v >= 0.0 && v <= 1.0))) {
				p->p[row * nval + (size_t)(c - 1)] = v;
				continue;
			}
			p->p[row * nval + (size_t)(c - 1)] = 0.0;
			if (p->probs.kept >= SCORE_MAX_PROBLEMS) {
				p->probs.count++;
				continue;
			}
			shown_field(f[c].s, f[c].len, shown, sizeof shown);
			if (nr == CSV_NUM_BAD)
				problem_add(&p->probs, "not_a_number", line, colname[c],
					    "line %zu, column '%s': '%s' is not a number", line, colname[c], shown);
			else if (nr == CSV_NUM_NONFINITE)
				problem_add(&p->probs, "not_finite", line, colname[c],
					    "line %zu, column '%s': '%s' is not a finite number (NaN and infinity are not accepted)",
					    line, colname[c], shown);
			else
				problem_add(&p->probs, "not_a_probability", line, colname[c],
					    "line %zu, column '%s': %s is not a probability (expected a number from 0 to 1)",
					    line, colname[c], shown);
		}
	}
	p->st = SCORE_OK;
out:
	free(f);
	free(colname);
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
	fprintf(stderr, "timing: %-8s %.3f s wall (process cpu so far %.3f s)\n", phase,
		(double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9,
		(double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9);
	*since = now;
}

static unsigned pred_line(const struct pred *p, size_t r)
{
	return p->line ? p->line[r] : (unsigned)(p->line0 + r);
}

static void thread_timing(const char *what)
{
	struct timespec cpu;

	if (!getenv("CONCOURS_SCORE_TIMING"))
		return;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	fprintf(stderr, "timing: %s thread cpu %.3f s\n", what, (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9);
}

static void *pred_thread(void *arg)
{
	parse_pred(arg);
	thread_timing("prediction");
	return NULL;
}

/*
 * Checks the prediction header against the ground truth. Fills COLMAP (class -> value column, 0-based after
 * the id) when the file has one column per class, and *PER_CLASS.
 */
static void check_header(struct job *j, struct problems *hp, int *colmap, int *per_class)
{
	const struct truth *t = &j->t;
	const struct pred *p = &j->p;
	const struct csv_field *tid = &t->hdr[t->id_col];
	int nval = p->ncols - 1;
	char shown[80];
	char want[80];
	char list[300];
	int c;
	int k;

	*per_class = 0;
	shown_field(tid->s, tid->len, want, sizeof want);
	if (p->hdr[0].len != tid->len || memcmp(p->hdr[0].s, tid->s, tid->len) != 0) {
		shown_field(p->hdr[0].s, p->hdr[0].len, shown, sizeof shown);
		problem_add(hp, "wrong_header", 1, shown, "header: the first column must be the id column '%s', found '%s'",
			    want, shown);
	}
	if (j->m->pred == SCORE_PRED_NUMBER && nval != 1) {
		problem_add(hp, "wrong_header", 1, "", "header: expected exactly one prediction column after '%s', found %d",
			    want, nval);
		return;
	}
	if (j->m->pred == SCORE_PRED_NUMBER || (j->m->pred == SCORE_PRED_LABEL && nval == 1))
		return;
	classes_list(t->cls, list, sizeof list);
	if (nval == 1) {
		if (t->cls->n > 2)
			problem_add(hp, "wrong_header", 1, "", "header: %s needs one probability column per class (%s), "
				    "found a single column", j->m->name, list);
		return;
	}
	*per_class = 1;
	for (k = 0; k < t->cls->n; k++)
		colmap[k] = -1;
	for (c = 1; c <= nval; c++) {
		const struct csv_field *h = &p->hdr[c];

		shown_field(h->s, h->len, shown, sizeof shown);
		k = classes_find(t->cls, h->s, h->len);
		if (k < 0) {
			problem_add(hp, "wrong_header", 1, shown, "header: column '%s' is not a class; expected one column per "
				    "class: %s", shown, list);
		} else if (colmap[k] >= 0) {
			problem_add(hp, "wrong_header", 1, shown, "header: column '%s' appears twice", shown);
		} else {
			colmap[k] = c - 1;
		}
	}
	for (k = 0; k < t->cls->n; k++) {
		if (colmap[k] < 0) {
			shown_field(t->cls->name[k], t->cls->len[k], shown, sizeof shown);
			problem_add(hp, "wrong_header", 1, "", "header: no column for class '%s'; expected one column per "
				    "class: %s", shown, list);
		}
	}
}

/* Maps prediction row R's label to its class in YHAT_PRED; an unknown label is a problem. */
static void map_label(const struct job *j, size_t r, int32_t *yhat_pred, struct problems *rp)
{
	const struct pred *p = &j->p;
	struct slice l = p->label[r];
	int k = l.len == NO_LABEL ? -1 : classes_find(j->t.cls, p->in.data + l.off, l.len);
	char col[80];
	char shown[80];
	char list[300];

	yhat_pred[r] = k;
	if (k >= 0 || l.len == NO_LABEL)
		return;
	if (rp->kept >= SCORE_MAX_PROBLEMS) {
		rp->count++;
		return;
	}
	shown_field(p->hdr[1].s, p->hdr[1].len, col, sizeof col);
	shown_field(p->in.data + l.off, l.len, shown, sizeof shown);
	classes_list(j->t.cls, list, sizeof list);
	problem_add(rp, "unknown_label", pred_line(p, r), col, "line %u, column '%s': '%s' is not one of the classes: %s",
		    pred_line(p, r), col, shown, list);
}

/*
 * Joins prediction rows to ground-truth rows (MATCH from match_rows(); MATCH and OWNER are NULL when row i
 * is known to match row i throughout). OWNER[t] gets 1 + the prediction row of truth row t (0: none),
 * YHAT_PRED (label mode) the class of each prediction row. *IDENTITY says whether row i matched row i
 * throughout. Row problems go to RP (in line order), missing ids to MP.
 */
static void join_rows(struct job *j, const uint32_t *match, uint32_t *owner, int32_t *yhat_pred, int *identity,
		      struct problems *rp, struct problems *mp)
{
	const struct truth *t = &j->t;
	const struct pred *p = &j->p;
	char idname[80];
	char shown[80];
	size_t r;
	size_t i;

	shown_field(t->hdr[t->id_col].s, t->hdr[t->id_col].len, idname, sizeof idname);
	*identity = p->n == t->n;
	for (r = 0; r < p->n; r++) {
		if (!match) { /* same ids in the same order: only labels to map */
			if (p->label_mode)
				map_label(j, r, yhat_pred, rp);
			continue;
		}
		struct slice s = p->id[r];
		long long row;

		if (s.len == 0) {
			*identity = 0;
			continue;
		}
		row = (long long)match[r] - 1;
		if (row != (long long)r)
			*identity = 0;
		if (row < 0) {
			shown_field(p->in.data + s.off, s.len, shown, sizeof shown);
			problem_add(rp, "unknown_id", pred_line(p, r), idname, "line %u: id '%s' is not in the test set",
				    pred_line(p, r), shown);
			continue;
		}
		if (owner[row] != 0) {
			shown_field(p->in.data + s.off, s.len, shown, sizeof shown);
			problem_add(rp, "duplicate_id", pred_line(p, r), idname, "line %u: id '%s' appears twice (first on line %u)",
				    pred_line(p, r), shown, pred_line(p, owner[row] - 1));
			*identity = 0;
			continue;
		}
		owner[row] = (uint32_t)(r + 1);
		if (p->label_mode)
			map_label(j, r, yhat_pred, rp);
	}
	for (i = 0; owner && i < t->n; i++) {
		if (owner[i] != 0)
			continue;
		if (mp->kept >= SCORE_MAX_PROBLEMS) {
			mp->count++;
			continue;
		}
		shown_field(t->in.data + t->id[i].off, t->id[i].len, shown, sizeof shown);
		problem_add(mp, "missing_id", 0, idname, "id '%s' is missing: every id of the test set needs one line", shown);
	}
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
		int w = snprintf(message + o, sizeof message - o, "%s%s", ps->count > 1 ? "\n- " : "", ps->item[i].message);

		o += w > 0 ? (size_t)w : 0;
	}
	if (ps->count > ps->kept && o < sizeof message)
		snprintf(message + o, sizeof message - o, "\n- ... and %zu more", ps->count - ps->kept);
	return error_json(ps->item[0].code, message, ps->item[0].line, ps->item[0].column, ps);
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z;

	*s += UINT64_C(0x9E3779B97F4A7C15);
	z = *s;
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

/* numpy's default (linear) percentile of sorted V[0..N). */
static double percentile(const double *v, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)pos;
	double frac = pos - (double)lo;

	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

/* Resamples [FIRST, LAST) of one bootstrap, run by one thread; VALS[it] gets NAN when undefined. */
struct resampler {
	const struct score_metric *m;
	const struct score_data *d;
	const uint32_t *rows;
	size_t n;
	uint64_t seed;
	unsigned first;
	unsigned last;
	double *vals;
	int nomem;
};

static void *resample(void *arg)
{
	struct resampler *rs = arg;
	uint32_t *sample = score_big_raw(rs->n, sizeof *sample);
	unsigned it;

	if (!sample) {
		rs->nomem = 1;
		return NULL;
	}
	for (it = rs->first; it < rs->last; it++) {
		/* each resample has its own stream: the result does not depend on how work is split */
		uint64_t s = rs->seed ^ (UINT64_C(0xD1B54A32D192ED03) * (it + 1));
		enum score_fn_status fs;
		char why[256];
		double v = NAN;
		size_t i;

		for (i = 0; i < rs->n; i++) {
			size_t k = (size_t)(splitmix64(&s) % rs->n);

			sample[i] = rs->rows ? rs->rows[k] : (uint32_t)k;
		}
		fs = rs->m->fn(rs->d, sample, rs->n, &v, why, sizeof why);
		if (fs == SCORE_FN_NOMEM) {
			rs->nomem = 1;
			break;
		}
		rs->vals[it] = fs == SCORE_FN_OK && isfinite(v) ? v : NAN;
	}
	score_big_free(sample);
	return NULL;
}

/*
 * Percentile 95 % bootstrap interval of the metric over ROWS[0..N) (NULL: all rows), B resamples split
 * between two threads. Resamples where the metric is undefined are skipped. Returns 0 with LO/HI, 1 when no
 * resample was defined, -1 on no memory.
 */
static int bootstrap(const struct score_metric *m, const struct score_data *d, const uint32_t *rows, size_t n,
		     unsigned b, uint64_t seed, double *lo, double *hi)
{
	double *vals = malloc((b ? b : 1) * sizeof *vals);
	struct resampler half[2];
	size_t got = 0;
	pthread_t th;
	int threaded;
	unsigned it;
	int rc = -1;

	if (!vals || n == 0)
		goto out;
	for (it = 0; it < 2; it++) {
		half[it] = (struct resampler){m, d, rows, n, seed, it == 0 ? 0 : b / 2, it == 0 ? b / 2 : b, vals, 0};
	}
	threaded = pthread_create(&th, NULL, resample, &half[0]) == 0;
	resample(&half[1]);
	if (threaded)
		pthread_join(th, NULL);
	else
		resample(&half[0]);
	if (half[0].nomem || half[1].nomem)
		goto out;
	for (it = 0; it < b; it++) {
		if (!isnan(vals[it]))
			vals[got++] = vals[it];
	}
	rc = 1;
	if (got == 0)
		goto out;
	qsort(vals, got, sizeof *vals, cmp_double);
	*lo = percentile(vals, got, 0.025);
	*hi = percentile(vals, got, 0.975);
	rc = 0;
out:
	free(vals);
	return rc;
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

static void job_free(struct job *j)
{
	int c;

	arc_input_free(&j->t.in);
	score_big_free(j->t.id);
	score_big_free(j->t.split);
	score_big_free(j->t.y);
	score_big_free(j->t.yv);
	score_big_free(j->t.event);
	score_big_free(j->t.table);
	score_big_free(j->t.idkey);
	classes_free(j->t.cls);
	arc_input_free(&j->p.in);
	score_big_free(j->p.id);
	score_big_free(j->p.line);
	score_big_free(j->p.p);
	score_big_free(j->p.label);
	free(j->cost);
	for (c = 0; j->cost_label && c < j->cost_k; c++)
		free(j->cost_label[c]);
	free(j->cost_label);
}

static json_t *simple_error(enum score_status st, const char *msg)
{
	return error_json(st == SCORE_INTERNAL ? "internal_error" : st == SCORE_INVALID ? "invalid_file"
			  : "configuration_error", msg, 0, "", NULL);
}

/* Argmax over the class columns of each row (ties go to the leftmost column of the file). */
static void argmax_rows(const double *p, size_t n, int nval, const int *col_class, int32_t *out)
{
	size_t r;

	for (r = 0; r < n; r++) {
		const double *row = p + r * (size_t)nval;
		int best = 0;
		int c;

		for (c = 1; c < nval; c++) {
			if (row[c] > row[best])
				best = c;
		}
		out[r] = col_class[best];
	}
}

static const char *const split_key[] = {"score", "public", "private"};

/*
 * The metric over all rows (VAL[0]) and, with a split column, each split (VAL[1], VAL[2]); HAVE[s] says which
 * exist. Uses the metric's one-pass split function when it has one, derives the all-rows value of mean-type
 * metrics from the splits, else computes each. Returns 0, or -1 with *ST and MSG set (an undefined metric is
 * a configuration error: the ground truth cannot rank anyone).
 */
static int compute_splits(const struct score_metric *m, const struct score_data *d, const uint8_t *split,
			  const uint32_t *split_rows, const size_t *nsplit, double *val, int *have, char *msg,
			  size_t msglen, enum score_status *st)
{
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
		const uint32_t *rows = s == 0 ? NULL : split_rows + (s == 2 ? nsplit[0] : 0);
		size_t n = s == 0 ? d->n : nsplit[s - 1];

		if (!have[s])
			continue;
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
		snprintf(msg, msglen, "%s (%s)", why, s == 0 || handled ? "all rows" : s == 1 ? "public split" : "private split");
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
	uint32_t *split_rows = NULL;
	json_t *res = NULL;
	json_t *ci = NULL;
	pthread_t th;
	struct timespec clock0;
	int threaded = 0;
	int identity = 0;
	int per_class = 0;
	int colmap[SCORE_MAX_CLASSES];
	int col_class[SCORE_MAX_CLASSES];
	enum score_status st = SCORE_INTERNAL;
	char msg[MSG_LEN] = "out of memory";
	size_t nsplit[2] = {0, 0};
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
	threaded = pthread_create(&th, NULL, pred_thread, j) == 0;
	truth_thread(j);
	thread_timing("ground truth");
	if (threaded)
		pthread_join(th, NULL);
	else
		parse_pred(j);
	timing("parse", &clock0);
	if (j->truth_st == SCORE_OK)
		j->truth_st = check_unique(&j->t, j->truth_msg);
	timing("unique", &clock0);
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
	check_header(j, hp, colmap, &per_class);
	if (hp->count > 0) {
		problems_append(hp, &j->p.probs);
		st = SCORE_INVALID;
		res = problems_json(hp);
		goto out;
	}
	if (j->p.label_mode) {
		yhat_pred = score_big_raw(j->p.n, sizeof *yhat_pred);
		if (!yhat_pred)
			goto out;
	}
	if (!same_ids(&j->t, &j->p)) {
		owner = score_big_array(j->t.n, sizeof *owner);
		match = score_big_raw(j->p.n, sizeof *match);
		if (!owner || !match || match_rows(&j->t, &j->p, match) != 0)
			goto out;
	}
	join_rows(j, match, owner, yhat_pred, &identity, rp, mp);
	score_big_free(match);
	match = NULL;
	timing("join", &clock0);
	problems_merge(rp, &j->p.probs);
	problems_append(rp, mp);
	if (rp->count > 0) {
		st = SCORE_INVALID;
		res = problems_json(rp);
		goto out;
	}

	/* align the predictions with the ground truth's rows, class columns in class order */
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
		else if (d.nclass == 1 && is_one(j->t.cls->name[0], j->t.cls->len[0]))
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
				int ka = classes_find(j->t.cls, j->cost_label[a], strlen(j->cost_label[a]));
				int kb = classes_find(j->t.cls, j->cost_label[b], strlen(j->cost_label[b]));

				cm[(size_t)ka * (size_t)d.nclass + (size_t)kb] = j->cost[(size_t)a * (size_t)j->cost_k + (size_t)b];
			}
		}
		free(j->cost);
		j->cost = cm;
		d.cost = cm;
	}
	if (j->m->pred == SCORE_PRED_LABEL) {
		size_t r;

		yhat = score_big_raw(d.n, sizeof *yhat);
		if (!yhat)
			goto out;
		if (!j->p.label_mode) {
			int k;

			for (k = 0; k < d.nclass; k++)
				col_class[colmap[k]] = k;
			yhat_pred = score_big_array(j->p.n, sizeof *yhat_pred);
			if (!yhat_pred)
				goto out;
			argmax_rows(j->p.p, j->p.n, j->p.ncols - 1, col_class, yhat_pred);
		}
		for (r = 0; r < d.n; r++)
			yhat[r] = yhat_pred[identity ? r : owner[r] - 1];
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
		} else {
			size_t r;

			aligned = score_big_raw(d.n, nval * sizeof *aligned);
			if (!aligned)
				goto out;
			for (r = 0; r < d.n; r++) {
				const double *src = j->p.p + (identity ? r : (size_t)(owner[r] - 1)) * nval;
				double *dst = aligned + r * nval;

				if (!per_class) {
					dst[0] = src[0];
					continue;
				}
				for (k = 0; k < d.nclass; k++)
					dst[k] = src[colmap[k]];
			}
			d.p = aligned;
		}
	}

	timing("align", &clock0);
	/* splits */
	if (j->t.split) {
		size_t r;
		size_t o[2];

		for (r = 0; r < d.n; r++)
			nsplit[j->t.split[r]]++;
		split_rows = score_big_raw(d.n, sizeof *split_rows);
		if (!split_rows)
			goto out;
		o[0] = 0;
		o[1] = nsplit[0];
		for (r = 0; r < d.n; r++)
			split_rows[o[j->t.split[r]]++] = (uint32_t)r;
	}
	res = json_object();
	ci = json_object();
	if (!res || !ci)
		goto out;
	json_object_set_new(res, "metric", json_string(j->m->name));
	json_object_set_new(res, "higher_is_better", json_boolean(j->m->higher_is_better));
	json_object_set_new(res, "rows", json_integer((json_int_t)d.n));
	if (compute_splits(j->m, &d, j->t.split, split_rows, nsplit, val, have, msg, sizeof msg, &st) != 0) {
		json_decref(res);
		res = NULL;
		goto out;
	}
	for (s = 0; s < 3; s++) {
		const uint32_t *rows = s == 0 ? NULL : split_rows + (s == 2 ? nsplit[0] : 0);
		size_t n = s == 0 ? d.n : nsplit[s - 1];
		double lo = 0.0;
		double hi = 0.0;
		int br;

		if (!have[s])
			continue;
		json_object_set_new(res, split_key[s], json_real(val[s]));
		if (req->bootstrap == 0)
			continue;
		br = bootstrap(j->m, &d, rows, n, req->bootstrap, req->seed + (uint64_t)s, &lo, &hi);
		if (br < 0) {
			json_decref(res);
			res = NULL;
			goto out;
		}
		json_object_set_new(ci, split_key[s], br == 0 ? json_pack("[f,f]", lo, hi) : json_null());
	}
	timing("metric", &clock0);
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
	score_big_free(split_rows);
	score_big_trim();
	return st;
}

enum score_status score_request_from_challenge(const char *dir, struct score_request *req, json_t **hold,
					       char *msg, size_t msglen)
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
