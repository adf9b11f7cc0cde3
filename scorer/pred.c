/*
 * pred.c: reading the prediction file into row-aligned columns (see load.h): its header, ids and values, with the
 * problems a participant can act on, on the file's own thread and, for a large file, a helper thread that takes the
 * second half of what is left; then its header checked against the ground truth's.
 *
 * Hot path of every run: fields are slices of the mapped file and values are parsed where they lie
 * (csv_next_numbers()), kept in millionths while every value allows it (half the memory of doubles).
 */
#include "load.h"
#include "mem.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the prediction file: parsed on its own (by its thread, and a helper that may take the second half of
 * what is left), checked against the ground truth afterwards ---- */

/* The reader's side of the split (struct pred's atomics), checked between records. */
struct split_watch {
	int on;        /* still taking part */
	int published; /* the snapshot was given */
	size_t stop;   /* the helper's first byte; SIZE_MAX while unknown */
};

#define SPLIT_MIN_BYTES ((size_t)16 << 20) /* less left to read than this: one reader is as fast */
#define SPLIT_POLL_ROWS 64                 /* the reader looks at the helper's requests every this many rows */

/* The reader's end of the split: the helper's rows will not be used, and it may stop. */
static void split_leave(struct pred *p, struct split_watch *watch)
{
	int none = 0;

	atomic_store(&p->split_rejected, 1);
	atomic_compare_exchange_strong(&p->snap_state, &none, 2);
	if (watch)
		watch->on = 0;
}

/* Answers the helper: gives where the reader is, then learns where the helper starts (or that it does not). */
static void split_poll(struct pred *p, const struct pred_rows *w, struct split_watch *watch)
{
	size_t s;

	if (!watch->published) {
		int asked;

		if (p->split_test) /* the ground truth's thread always says whether it helps */
			while (atomic_load(&p->help_asked) == 0)
				sched_yield();
		asked = atomic_load_explicit(&p->help_asked, memory_order_relaxed);
		if (asked == 2) /* no help will come */
			watch->on = 0;
		if (asked != 1)
			return;
		p->snap_p = w->rd.p;
		p->snap_row = w->row0 + w->n;
		p->snap_line = w->rd.next_line;
		p->snap_cap = w->cap;
		atomic_store_explicit(&p->snap_state, 1, memory_order_release);
		watch->published = 1;
		if (!p->split_test)
			return;
		while (atomic_load(&p->split_at) == 0) /* the helper decides at once: a test must not race it */
			sched_yield();
	}
	s = atomic_load_explicit(&p->split_at, memory_order_acquire);
	if (s == SPLIT_NONE) {
		watch->on = 0;
	} else if (s != 0) {
		/* the helper writes no row before this answer: a reader already past S may have written rows where the
		 * helper's go (the rows between two polls can be megabytes) */
		if ((size_t)(w->rd.p - p->in.data) > s) {
			split_leave(p, watch);
			return;
		}
		watch->stop = s;
		atomic_store_explicit(&p->split_taken, 1, memory_order_release);
	}
}

/* Waits until the helper writes no more rows (it stops at its next look at split_rejected, set before). */
static void split_wait_helper(struct pred *p)
{
	while (!atomic_load(&p->helper_done))
		sched_yield();
}

/* Grows the reader's row arrays to their next capacity, after a helper that may still write into them stopped. */
static int grow_rows(struct job *j, struct pred_rows *w, struct split_watch *watch)
{
	struct pred *p = &j->p;
	size_t cap = score_next_capacity(w->cap, j->req->lim.max_rows);
	size_t nval = (size_t)p->ncols - 1;

	if (watch && watch->published) {
		split_leave(p, watch);
		while (atomic_load(&p->split_at) == 0)
			sched_yield(); /* the helper, which has the snapshot, is deciding */
		if (atomic_load(&p->split_at) != SPLIT_NONE)
			split_wait_helper(p);
	}
	if (cap == 0)
		return -1;
	GROW_ROWS(p->id, cap, sizeof *p->id, fail);
	GROW_ROWS(p->label, cap, sizeof *p->label, fail);
	GROW_ROWS(p->p, cap, nval * sizeof *p->p, fail);
	GROW_ROWS(p->micro, cap, nval * sizeof *p->micro, fail);
	GROW_ROWS(p->best, cap, sizeof *p->best, fail);
	GROW_ROWS(w->line, cap, sizeof *w->line, fail);
	w->cap = cap;
	return 0;
fail:
	return -1;
}

/* Starts W's table of lines (capacity: its rows up to W's cap) with the lines of its rows so far, each on the line
 * after the one before; -1 on no memory. */
static int keep_lines(struct pred_rows *w)
{
	size_t i;

	w->line = score_big_raw(w->cap - w->row0, sizeof *w->line);
	if (!w->line)
		return -1;
	for (i = 0; i < w->n; i++)
		w->line[i] = (uint32_t)(w->line0 + i);
	return 0;
}

/* Frees a helper's share. Accepts NULL. */
static void free_rows(struct pred_rows *b)
{
	if (!b)
		return;
	score_big_free(b->line);
	free(b->f);
	free(b->probs);
	free(b);
}

/* The leftmost column of the highest of the N values V. */
static int32_t best_column(const double *v, size_t n)
{
	size_t best = 0;
	size_t c;

	for (c = 1; c < n; c++) {
		if (v[c] > v[best])
			best = c;
	}
	return (int32_t)best;
}

/* The values of a record of P's that csv_next_numbers() did not take (fields F, on LINE) into VALS; each one that
 * is not a number (or, with PROBA, a probability) is 0 there and a problem in PROBS. */
static void read_values(const struct pred *p, struct problems *probs, const struct csv_field *f, size_t line, int proba,
                        double *vals)
{
	int c;

	for (c = 1; c < p->ncols; c++) {
		double v = 0.0;
		enum csv_num nr = csv_parse_double(f[c].s, f[c].len, &v);
		const char *name = p->colname[c];
		char shown[80];

		if (nr == CSV_NUM_OK && (!proba || (v >= 0.0 && v <= 1.0))) {
			vals[c - 1] = v;
			continue;
		}
		vals[c - 1] = 0.0;
		if (probs->kept >= SCORE_MAX_PROBLEMS) {
			probs->count++;
			continue;
		}
		score_shown_field(f[c].s, f[c].len, shown, sizeof shown);
		if (nr == CSV_NUM_BAD)
			score_problem_add(probs, "not_a_number", line, name,
			                  "line %zu, column '%s': '%s' is not a number", line, name, shown);
		else if (nr == CSV_NUM_NONFINITE)
			score_problem_add(probs, "not_finite", line, name,
			                  "line %zu, column '%s': '%s' is not a finite number (NaN and infinity are "
			                  "not accepted)",
			                  line, name, shown);
		else
			score_problem_add(probs, "not_a_probability", line, name,
			                  "line %zu, column '%s': %s is not a probability (expected a number from 0 "
			                  "to 1)",
			                  line, name, shown);
	}
}

/* Row ROW's NVAL values VALS into W's array: in millionths while every value of W's rows was a decimal of six
 * places at most, in doubles from the first row with another value on. */
static void store_values(struct pred *p, struct pred_rows *w, size_t row, const double *vals, size_t nval)
{
	if (w->micro_on) {
		uint32_t *m = p->micro + row * nval;
		size_t c;

		for (c = 0; c < nval; c++) {
			int32_t b = score_micro(vals[c]);

			if (b < 0)
				break;
			m[c] = (uint32_t)b;
		}
		if (c == nval)
			return;
		w->micro_on = 0;
		w->micro_end = row;
	}
	memcpy(p->p + row * nval, vals, nval * sizeof *vals);
}

/*
 * Reads records into W until the end of the file, an error of form (a problem), or the row limit; the reader
 * (WATCH set) also stops at the helper's first byte (w->at_split), a helper (w->helper) at its cap, the row
 * limit or when the reader gives up on it (w->full). Returns 0, or -1 on no memory with j->p.msg set.
 */
static int read_rows(struct job *j, struct pred_rows *w, struct split_watch *watch)
{
	const struct score_request *req = j->req;
	struct pred *p = &j->p;
	size_t nval = (size_t)p->ncols - 1;
	int proba = j->m->pred == SCORE_PRED_PROBA;
	double vals[MAX_FIELDS];  /* a record's values */
	uint32_t mic[MAX_FIELDS]; /* or in millionths, read as such (w->micro_on) */
	enum csv_status cs;
	int in_micro;
	int fast;
	int nf;

	for (;;) {
		size_t row = w->row0 + w->n;
		size_t line;
		const struct csv_field *f = w->f;
		const struct csv_field *idf;

		if (watch && watch->on) {
			size_t off = (size_t)(w->rd.p - p->in.data);

			if (off == watch->stop) {
				w->at_split = 1;
				return 0;
			}
			if (off > watch->stop) {
				/* the record just read went past it (a quoted line break, or blank lines before the
				 * record): the helper's rows are dropped. Its first row's place is above every row of
				 * this share so far (the line break before its first byte was in this share's
				 * records), but the next rows' places may be its: they wait until it stops */
				split_leave(p, watch);
				split_wait_helper(p);
			} else if (watch->stop == SIZE_MAX && w->n % SPLIT_POLL_ROWS == 0)
				split_poll(p, w, watch);
		}
		if (w->helper && w->n % SPLIT_POLL_ROWS == 0 &&
		    atomic_load_explicit(&p->split_rejected, memory_order_relaxed)) {
			w->full = 1;
			return 0;
		}
		in_micro = w->micro_on && csv_next_numbers(&w->rd, &w->f[0], NULL, mic, (int)nval, proba) == 0;
		fast = in_micro ||
		       (!p->label_mode && csv_next_numbers(&w->rd, &w->f[0], vals, NULL, (int)nval, proba) == 0);
		if (fast) {
			cs = CSV_OK;
			nf = p->ncols;
		} else {
			cs = csv_next(&w->rd, w->f, p->ncols, &nf);
		}
		if (cs == CSV_EOF)
			break;
		if (cs == CSV_ERR_REWRITE) { /* a helper's (keep_bytes): the reader reads these bytes, unchanged */
			w->full = 1;
			return 0;
		}
		if (cs != CSV_OK) {
			score_problem_add(w->probs, "bad_csv", w->rd.line, "", "line %zu: %s", w->rd.line,
			                  csv_status_text(cs));
			break;
		}
		if (w->helper && (row >= req->lim.max_rows || row >= w->cap)) {
			w->full = 1; /* the reader will read these rows again and say what they need */
			return 0;
		}
		if (row >= req->lim.max_rows) {
			score_problem_add(w->probs, "too_many_rows", w->rd.line, "", "the file has more than %zu rows",
			                  req->lim.max_rows);
			break;
		}
		if (row >= w->cap && grow_rows(j, w, watch) != 0) { /* lines shorter than guessed: empty fields */
			snprintf(p->msg, MSG_LEN, "out of memory reading the prediction file");
			return -1;
		}
		line = w->rd.line > UINT32_MAX ? UINT32_MAX : w->rd.line;
		if (w->n == 0)
			w->line0 = line;
		if (!w->line && line != w->line0 + w->n && keep_lines(w) != 0) { /* blank lines, quoted newlines */
			if (w->helper) {
				w->full = 1;
				return 0;
			}
			snprintf(p->msg, MSG_LEN, "out of memory reading the prediction file");
			return -1;
		}
		if (w->line)
			w->line[w->n] = (uint32_t)line;
		p->id[row].off = 0;
		p->id[row].len = 0;
		w->n++;
		idf = &f[0];
		if (nf >= 1 && idf->len > 0 && idf->len <= MAX_ID_BYTES) {
			p->id[row].off = (uint32_t)(idf->s - p->in.data);
			p->id[row].len = (uint32_t)idf->len;
		} else if (nf >= 1) {
			score_problem_add(w->probs, "bad_id", line, p->colname[0], "line %zu: the id is %s", line,
			                  idf->len == 0 ? "empty" : "too long");
		}
		if (nf != p->ncols) {
			score_problem_add(w->probs, "wrong_field_count", line, "",
			                  "line %zu has %d fields, expected %d like the header", line, nf, p->ncols);
			if (p->label_mode)
				p->label[row].len = NO_LABEL;
			continue;
		}
		if (p->label_mode) {
			p->label[row].off = (uint32_t)(f[1].s - p->in.data);
			p->label[row].len = (uint32_t)f[1].len;
			continue;
		}
		if (in_micro) {
			memcpy(p->micro + row * nval, mic, nval * sizeof *mic);
			continue;
		}
		if (!fast)
			read_values(p, w->probs, f, line, proba, vals);
		if (p->best)
			p->best[row] = best_column(vals, nval);
		else
			store_values(p, w, row, vals, nval);
	}
	return 0;
}

/* The reader's share is over (not at a split): its results become the file's. */
static void pred_rows_done(struct pred *p)
{
	p->n = p->a.n;
	p->line = p->a.line;
	p->line0 = p->a.line0;
	p->a.line = NULL;
	score_note_written(&p->in, &p->a.rd);
	p->st = SCORE_OK;
}

void score_load_pred(struct job *j)
{
	const struct score_request *req = j->req;
	struct pred *p = &j->p;
	struct pred_rows *w = &p->a;
	struct split_watch watch = {.on = 1, .published = 0, .stop = SIZE_MAX};
	enum csv_status cs;
	size_t nval;
	int nf;
	int c;

	p->st = score_load_input(req->pred_path, &req->lim, &p->in, p->msg, MSG_LEN, 1);
	if (p->st == SCORE_INVALID)
		score_problem_add(&p->probs, "bad_file", 0, "", "%s", p->msg);
	if (p->st != SCORE_OK)
		goto out;
	p->st = SCORE_INVALID;
	w->probs = &p->probs;
	csv_reader_init(&w->rd, p->in.data, p->in.len, req->lim.max_record);
	cs = csv_next(&w->rd, p->hdr, MAX_FIELDS, &nf);
	if (cs == CSV_EOF) {
		score_problem_add(&p->probs, "empty_file", 0, "",
		                  "the file is empty: expected a header line, then one line per id");
		goto out;
	}
	if (cs != CSV_OK) {
		score_problem_add(&p->probs, "bad_csv", w->rd.line, "", "line %zu: %s", w->rd.line,
		                  csv_status_text(cs));
		goto out;
	}
	if (nf > MAX_FIELDS) {
		score_problem_add(&p->probs, "wrong_header", w->rd.line, "",
		                  "the header has %d columns; at most %d are accepted", nf, MAX_FIELDS);
		goto out;
	}
	if (nf < 2) {
		const char *sep = memchr(p->hdr[0].s, ';', p->hdr[0].len)    ? "';'"
		                  : memchr(p->hdr[0].s, '\t', p->hdr[0].len) ? "tabs"
		                                                             : NULL;

		score_problem_add(
		        &p->probs, "wrong_header", w->rd.line, "",
		        "the header has one column; expected the id column, then the prediction column(s)%s%s%s",
		        sep ? " (the file seems to separate columns with " : "", sep ? sep : "",
		        sep ? ": use commas)" : "");
		goto out;
	}
	p->ncols = nf;
	nval = (size_t)nf - 1;
	p->label_mode = j->m->pred == SCORE_PRED_LABEL && nval == 1;
	p->colname = malloc((size_t)nf * sizeof *p->colname);
	w->f = malloc((size_t)nf * sizeof *w->f);
	w->cap = score_first_capacity(w->rd.p, (size_t)(w->rd.end - w->rd.p), p->ncols, req->lim.max_rows);
	p->id = score_big_raw(w->cap, sizeof *p->id);
	if (p->label_mode)
		p->label = score_big_raw(w->cap, sizeof *p->label);
	else if (j->m->pred == SCORE_PRED_LABEL)
		p->best = score_big_raw(w->cap, sizeof *p->best);
	else
		p->p = score_big_raw(w->cap, nval * sizeof *p->p);
	/* both arrays: the doubles' pages are touched only if a value is not a decimal of six places at most */
	if (p->p && j->m->pred == SCORE_PRED_PROBA && !getenv("CONCOURS_SCORE_NO_MICRO"))
		p->micro = score_big_raw(w->cap, nval * sizeof *p->micro);
	w->micro_on = p->micro != NULL;
	if (!p->colname || !w->f || !p->id || (!p->label && !p->best && !p->p)) {
		p->st = SCORE_INTERNAL;
		snprintf(p->msg, MSG_LEN, "out of memory reading the prediction file");
		goto out;
	}
	for (c = 0; c < nf; c++)
		score_shown_field(p->hdr[c].s, p->hdr[c].len, p->colname[c], sizeof p->colname[c]);
	if (read_rows(j, w, &watch) != 0) {
		p->st = SCORE_INTERNAL;
		goto out;
	}
	if (w->at_split)
		return; /* score_finish_pred() goes on */
	pred_rows_done(p);
out:
	split_leave(p, NULL);
}

void score_help_pred(struct job *j)
{
	struct pred *p = &j->p;
	struct pred_rows *b = NULL;
	const struct timespec nap = {0, 100000};
	const char *end;
	const char *s;
	size_t left;
	size_t breaks;
	size_t row0;
	int state;

	atomic_store(&p->help_asked, 1);
	while ((state = atomic_load_explicit(&p->snap_state, memory_order_acquire)) == 0)
		nanosleep(&nap, NULL); /* the reader answers every SPLIT_POLL_ROWS rows */
	if (state != 1)
		return;
	end = p->in.data + p->in.len;
	left = (size_t)(end - p->snap_p);
	if (left < (p->split_test ? 2 : SPLIT_MIN_BYTES))
		goto decline;
	s = memchr(p->snap_p + left / 2, '\n', (size_t)(end - (p->snap_p + left / 2)));
	if (!s || s + 1 >= end)
		goto decline;
	s++;
	/* the line breaks count the lines to S as the reader will, and bound its rows there (a quoted field's breaks and
	 * blank lines end no row: a gap, closed by join_shares()); whether S starts a record (it may be in a quoted
	 * field) is the reader's to find: it stops there exactly or passes it (split_leave()) */
	breaks = csv_count_breaks(p->snap_p, (size_t)(s - p->snap_p));
	if (breaks == SIZE_MAX)
		goto decline;
	row0 = p->snap_row + breaks; /* at least the reader's rows at S: each ends with a line break */
	if (row0 >= p->snap_cap || row0 >= j->req->lim.max_rows)
		goto decline;
	b = calloc(1, sizeof *b);
	if (!b || !(b->f = malloc((size_t)p->ncols * sizeof *b->f)) || !(b->probs = calloc(1, sizeof *b->probs)))
		goto decline;
	csv_reader_at(&b->rd, (char *)s, (size_t)(end - s), p->snap_line + breaks, j->req->lim.max_record);
	/* the reader may read these bytes too (again, after a helper that stopped short; or at the same time, when it
	 * passed the split point before it knew of it): the helper leaves them as they are */
	b->rd.keep_bytes = 1;
	b->row0 = row0;
	b->cap = p->snap_cap;
	b->helper = 1;
	b->micro_on = p->micro != NULL;
	p->b = b;
	atomic_store_explicit(&p->split_at, (size_t)(s - p->in.data), memory_order_release);
	/* no row is written before the reader says it was not past S yet (split_poll()), or that it was */
	while (!atomic_load_explicit(&p->split_taken, memory_order_acquire) && !atomic_load(&p->split_rejected))
		nanosleep(&nap, NULL);
	if (atomic_load_explicit(&p->split_taken, memory_order_acquire))
		read_rows(j, b, NULL); /* a helper never fails: it stops short (b->full) */
	else
		b->full = 1;
	atomic_store(&p->helper_done, 1);
	return;
decline:
	free_rows(b);
	atomic_store_explicit(&p->split_at, SPLIT_NONE, memory_order_release);
	atomic_store(&p->helper_done, 1);
}

/* Moves the helper's rows B right after the reader's A in the row arrays, lines and problems included. */
static int join_shares(struct pred *p, struct pred_rows *a, const struct pred_rows *b)
{
	size_t nval = (size_t)p->ncols - 1;
	size_t i;

	if (b->n > 0 && a->n < b->row0) { /* blank lines in the reader's share: the gap closes */
		memmove(p->id + a->n, p->id + b->row0, b->n * sizeof *p->id);
		if (p->label)
			memmove(p->label + a->n, p->label + b->row0, b->n * sizeof *p->label);
		if (p->p)
			memmove(p->p + a->n * nval, p->p + b->row0 * nval, b->n * nval * sizeof *p->p);
		if (p->micro)
			memmove(p->micro + a->n * nval, p->micro + b->row0 * nval, b->n * nval * sizeof *p->micro);
		if (p->best)
			memmove(p->best + a->n, p->best + b->row0, b->n * sizeof *p->best);
	}
	if (a->n == 0)
		a->line0 = b->line0;
	if (a->line || b->line || (b->n > 0 && b->line0 != a->line0 + a->n)) {
		if (!a->line && keep_lines(a) != 0)
			return -1;
		for (i = 0; i < b->n; i++)
			a->line[a->n + i] = b->line ? b->line[i] : (uint32_t)(b->line0 + i);
	}
	a->n += b->n;
	score_problems_merge(a->probs, b->probs);
	score_note_written(&p->in, &b->rd);
	return 0;
}

/*
 * After the last row: the values stay in millionths when every share (the reader's A; the helper's B, to be joined,
 * or NULL) kept them so, and P's doubles, never written, are dropped. Otherwise the rows kept in millionths are
 * written as doubles too (exactly: the double read is their quotient by 10^6), and the millionths dropped. A file
 * with problems is left as it is: its values are never read.
 */
static void settle_values(struct pred *p, const struct pred_rows *a, const struct pred_rows *b)
{
	const struct pred_rows *share[2] = {a, b};
	size_t nval = (size_t)p->ncols - 1;
	int k;

	if (!p->micro || a->probs->count > 0 || (b && b->probs->count > 0))
		return;
	if (a->micro_on && (!b || b->micro_on)) {
		score_big_drop(p->p); /* never touched: cached, a later array would take it for pages it lacks */
		p->p = NULL;
		return;
	}
	for (k = 0; k < 2 && share[k]; k++) {
		const struct pred_rows *w = share[k];
		size_t end = (w->micro_on ? w->row0 + w->n : w->micro_end) * nval;
		size_t i;

		for (i = w->row0 * nval; i < end; i++)
			p->p[i] = score_value_of(NULL, p->micro, i);
	}
	score_big_free(p->micro);
	p->micro = NULL;
}

void score_finish_pred(struct job *j)
{
	struct pred *p = &j->p;
	struct pred_rows *b = p->b;

	if (p->a.at_split) {
		p->a.at_split = 0;
		if (getenv("CONCOURS_SCORE_TIMING"))
			fprintf(stderr, "timing: prediction rows from line %zu read by the helper%s\n", b->line0,
			        b->full ? ", which stopped short: read again" : "");
		if (!b->full) {
			settle_values(p, &p->a, b);
			if (join_shares(p, &p->a, b) != 0) {
				p->st = SCORE_INTERNAL;
				snprintf(p->msg, MSG_LEN, "out of memory reading the prediction file");
				goto out;
			}
		} else if (read_rows(j, &p->a, NULL) != 0) { /* the helper stopped short: the reader reads it all */
			p->st = SCORE_INTERNAL;
			goto out;
		} else {
			settle_values(p, &p->a, NULL);
		}
		pred_rows_done(p);
	} else {
		settle_values(p, &p->a, NULL);
	}
	if (getenv("CONCOURS_SCORE_TIMING") && p->micro && !p->p)
		fprintf(stderr, "timing: the prediction's values kept in millionths\n");
out:
	free_rows(b);
	p->b = NULL;
	score_big_free(p->a.line);
	p->a.line = NULL;
	free(p->a.f);
	p->a.f = NULL;
	free(p->colname);
	p->colname = NULL;
}

unsigned score_pred_line(const struct pred *p, size_t r)
{
	return p->line ? p->line[r] : (unsigned)(p->line0 + r);
}

/*
 * Checks the prediction header against the ground truth. Fills COLMAP (class -> value column, 0-based after
 * the id) when the file has one column per class, and *PER_CLASS.
 */
void score_check_header(struct job *j, struct problems *hp, int *colmap, int *per_class)
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
	score_shown_field(tid->s, tid->len, want, sizeof want);
	if (p->hdr[0].len != tid->len || memcmp(p->hdr[0].s, tid->s, tid->len) != 0) {
		int index_col = p->hdr[0].len == 0 || score_field_is(&p->hdr[0], "Unnamed: 0");

		score_shown_field(p->hdr[0].s, p->hdr[0].len, shown, sizeof shown);
		score_problem_add(hp, "wrong_header", 1, shown,
		                  "header: the first column must be the id column '%s', found '%s'%s", want, shown,
		                  index_col ? " (an unnamed first column is usually a pandas index: write the file "
		                              "with to_csv(index=False))"
		                            : "");
		return; /* the other columns are then shifted: checking them would only add noise */
	}
	if (j->m->pred == SCORE_PRED_NUMBER && nval != 1) {
		score_problem_add(hp, "wrong_header", 1, "",
		                  "header: expected exactly one prediction column after '%s', found %d", want, nval);
		return;
	}
	if (j->m->pred == SCORE_PRED_NUMBER || (j->m->pred == SCORE_PRED_LABEL && nval == 1))
		return;
	score_classes_list(t->cls, list, sizeof list);
	if (nval == 1) {
		if (t->cls->n > 2)
			score_problem_add(hp, "wrong_header", 1, "",
			                  "header: %s needs one probability column per class (%s), "
			                  "found a single column",
			                  j->m->name, list);
		return;
	}
	*per_class = 1;
	for (k = 0; k < t->cls->n; k++)
		colmap[k] = -1;
	for (c = 1; c <= nval; c++) {
		const struct csv_field *h = &p->hdr[c];

		score_shown_field(h->s, h->len, shown, sizeof shown);
		k = score_classes_find(t->cls, h->s, h->len);
		if (k < 0) {
			score_problem_add(hp, "wrong_header", 1, shown,
			                  "header: column '%s' is not a class; expected one column per "
			                  "class: %s",
			                  shown, list);
		} else if (colmap[k] >= 0) {
			score_problem_add(hp, "wrong_header", 1, shown, "header: column '%s' appears twice", shown);
		} else {
			colmap[k] = c - 1;
		}
	}
	for (k = 0; k < t->cls->n; k++) {
		if (colmap[k] < 0) {
			score_shown_field(t->cls->name[k], t->cls->len[k], shown, sizeof shown);
			score_problem_add(hp, "wrong_header", 1, "",
			                  "header: no column for class '%s'; expected one column per "
			                  "class: %s",
			                  shown, list);
		}
	}
}
