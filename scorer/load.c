/*
 * load.c: reading the ground truth into columns and validating it (see load.h): its header, ids (hashed, or
 * numbered: ids.h), classes and values, with the problems of its own; the prediction file is read by pred.c and
 * joined to it by join.c.
 *
 * Hot path of every run: fields are slices of the mapped file, numbers go through csv_parse_double()'s fast
 * path, ground-truth ids are hashed while parsed and checked for repeats by a two-thread radix sort, and
 * prediction rows are matched in place first, through a hash table only when the order differs.
 */
#include "ids.h"
#include "load.h"
#include "mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- problems: the first SCORE_MAX_PROBLEMS are kept, all are counted ---- */

void score_problem_add(struct problems *ps, const char *code, size_t line, const char *column, const char *fmt, ...)
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
void score_problems_merge(struct problems *a, const struct problems *b)
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

void score_problems_append(struct problems *a, const struct problems *b)
{
	size_t j;

	for (j = 0; j < b->kept && a->kept < SCORE_MAX_PROBLEMS; j++)
		a->item[a->kept++] = b->item[j];
	a->count += b->count;
}

/* ---- classes: the labels of a LABEL ground truth, interned ---- */

int score_classes_find(const struct classes *c, const char *s, size_t len)
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
	int known = score_classes_find(c, s, len);

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

void score_classes_free(struct classes *c)
{
	int k;

	if (!c)
		return;
	for (k = 0; k < c->n; k++)
		free(c->name[k]);
	free(c);
}

/* A class while sorting: no shared context, so sorting is safe in any thread. */
struct class_ref {
	char *name;
	size_t len;
	double value; /* the label as a number, when every label is one */
	int index;
	int numeric;
};

static int class_cmp(const void *a, const void *b)
{
	const struct class_ref *x = a;
	const struct class_ref *y = b;
	size_t l = x->len < y->len ? x->len : y->len;
	int r;

	if (x->numeric && x->value != y->value)
		return x->value < y->value ? -1 : 1;
	r = memcmp(x->name, y->name, l);
	if (r != 0)
		return r;
	return (x->len > y->len) - (x->len < y->len);
}

/*
 * Sorts the classes as sklearn's unique_labels does (numerically when every label is a number, else
 * bytewise) and writes old index -> new index to REMAP. Returns 0, or -1 on no memory.
 */
static int classes_sort(struct classes *c, int *remap)
{
	struct class_ref *ref = malloc((size_t)(c->n > 0 ? c->n : 1) * sizeof *ref);
	int all_numeric = 1;
	int k;

	if (!ref)
		return -1;
	for (k = 0; k < c->n; k++) {
		ref[k].name = c->name[k];
		ref[k].len = c->len[k];
		ref[k].index = k;
		if (csv_parse_double(c->name[k], c->len[k], &ref[k].value) != CSV_NUM_OK)
			all_numeric = 0;
	}
	for (k = 0; k < c->n; k++)
		ref[k].numeric = all_numeric;
	qsort(ref, (size_t)c->n, sizeof ref[0], class_cmp);
	memset(c->slot, 0, sizeof c->slot);
	for (k = 0; k < c->n; k++) {
		size_t i = (size_t)hash_bytes(ref[k].name, ref[k].len) & (CLASS_SLOTS - 1);

		c->name[k] = ref[k].name;
		c->len[k] = ref[k].len;
		remap[ref[k].index] = k;
		while (c->slot[i] != 0)
			i = (i + 1) & (CLASS_SLOTS - 1);
		c->slot[i] = (int16_t)(k + 1);
	}
	free(ref);
	return 0;
}

/* "0, 1, 2" (bounded), for messages. */
void score_classes_list(const struct classes *c, char *out, size_t outlen)
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

void score_shown_field(const char *s, size_t len, char *out, size_t outlen)
{
	csv_printable(s, len, 60, out, outlen);
}

#define SAMPLE_BYTES ((size_t)64 << 10) /* the start of a file whose lines score_first_capacity() counts */

/*
 * First guess at the records in S[0..LEN) (records of NCOLS fields), capped by the row limit: row arrays start at
 * that size and grow (without copying) if the file has shorter lines. Avoids a counting pass over the file: the
 * line breaks in its first SAMPLE_BYTES give a mean line length, and the guess is the file's length over it, plus a
 * quarter. At most the rows of two bytes a field, all the guess there is for a smaller file or one of longer lines.
 * Untouched pages of a guess too large cost address space, not memory; but a scoring run's address space is
 * bounded (memory_mb, 4 GiB by default), and two bytes a field reserved 8 GiB for 10M 5-class rows of 17 digits.
 */
size_t score_first_capacity(const char *s, size_t len, int ncols, size_t max_rows)
{
	size_t guess = len / (2 * (size_t)(ncols > 0 ? ncols : 1)) + 1024;
	size_t sample = SAMPLE_BYTES - (len > SAMPLE_BYTES && s[SAMPLE_BYTES - 1] == '\r'); /* not inside a CRLF */
	size_t breaks = len > SAMPLE_BYTES ? csv_count_breaks(s, sample) : 0;

	if (breaks >= 64 && breaks != SIZE_MAX) {
		size_t mean = sample / breaks; /* rounded down: the guess rounds up */
		size_t sampled = len / (mean > 0 ? mean : 1);

		sampled += sampled / 4 + 1024;
		guess = sampled < guess ? sampled : guess;
	}
	return guess < max_rows + 1 ? guess : max_rows + 1;
}

/* The next capacity after CAP rows, or 0 when CAP already reaches the row limit. */
size_t score_next_capacity(size_t cap, size_t max_rows)
{
	if (cap > max_rows)
		return 0;
	return cap < (max_rows + 1) / 2 ? cap * 2 : max_rows + 1;
}

enum score_status score_load_input(const char *path, const struct score_limits *lim, struct arc_input *in, char *msg,
                                   size_t msglen, int is_pred)
{
	struct arc_limits al;
	enum arc_status as;

	al.max_bytes = lim->max_bytes;
	al.max_entries = lim->max_entries;
	al.max_ratio = lim->max_ratio;
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

/* memcmp()'s order of A[0..LEN) and B[0..LEN), inline: ids are a few words, and a call cost a ground truth's
 * reader 7 % of its time. Reads no byte past LEN. */
static inline int bytes_order(const char *a, const char *b, size_t len)
{
	uint64_t x;
	uint64_t y;
	size_t i;

	if (len < 8) {
		for (i = 0; i < len; i++) {
			if (a[i] != b[i])
				return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
		}
		return 0;
	}
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			break;
	}
	if (i + 8 > len) { /* the last bytes, as a word that ends at LEN (it may overlap words found equal) */
		if (i == len)
			return 0;
		memcpy(&x, a + len - 8, 8);
		memcpy(&y, b + len - 8, 8);
		if (x == y)
			return 0;
	}
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	x = __builtin_bswap64(x); /* the first byte most significant: unsigned order is memcmp()'s */
	y = __builtin_bswap64(y);
#endif
	return x < y ? -1 : 1;
}

int score_field_is(const struct csv_field *f, const char *name)
{
	return strlen(name) == f->len && bytes_eq(f->s, name, f->len);
}

int score_is_one(const char *s, size_t len)
{
	double v;

	return csv_parse_double(s, len, &v) == CSV_NUM_OK && v == 1.0;
}

/* Reads the ground truth into T (columns per the metric). Errors are configuration errors. */
/* Parses a ground-truth number; on failure writes MSG (MSG_LEN) and returns -1. */
static int truth_number(const struct csv_field *f, size_t line, double *v, char *msg)
{
	char shown[80];

	if (csv_parse_double(f->s, f->len, v) == CSV_NUM_OK)
		return 0;
	score_shown_field(f->s, f->len, shown, sizeof shown);
	snprintf(msg, MSG_LEN, "ground truth line %zu: '%s' is not a finite number", line, shown);
	return -1;
}

/* Tells IN which of its bytes RD rewrote, so that arc_input_release() keeps their pages; with the range of an
 * earlier reader of the same file (the prediction file's helper), the range covering both. */
void score_note_written(struct arc_input *in, const struct csv_reader *rd)
{
	size_t lo;
	size_t hi;

	if (!rd->written_lo)
		return;
	lo = (size_t)(rd->written_lo - in->data);
	hi = (size_t)(rd->written_hi - in->data);
	if (in->written_lo < in->written_hi) {
		lo = lo < in->written_lo ? lo : in->written_lo;
		hi = hi > in->written_hi ? hi : in->written_hi;
	}
	in->written_lo = lo;
	in->written_hi = hi;
}

/*
 * The orders ids still follow once the id S[0..LEN) follows PREV[0..PLEN): ORDER's bit 0 while each is above the
 * one before byte by byte, bit 1 while above in (length, bytes) order, which is the numeric order of integers
 * written without leading zeros. Ids that follow either order to the end are all distinct.
 */
static unsigned ids_order(unsigned order, const char *prev, size_t plen, const char *s, size_t len)
{
	int c = bytes_order(prev, s, plen < len ? plen : len);

	if (c > 0 || (c == 0 && plen >= len))
		order &= ~1u;
	if (plen > len || (plen == len && c >= 0))
		order &= ~2u;
	return order;
}

/*
 * Numbers at most this far above the first id's (the row's) make RANK words: at most 4 bytes a row, 16 KiB to start
 * with. Sparser numbers take the keyed join.
 */
#define NUM_SPAN(row) (16 * ((uint64_t)(row) + 1) + 65536)

/* Marks the number BASE + OFF in D's RANK, growing it; OFF is above every number marked. Returns 0, or -1 when
 * OFF is too far for ROW (NUM_SPAN) or on no memory (the ids then take the keyed join). */
static int num_mark(struct numbered_ids *d, size_t row, uint64_t off)
{
	size_t w = (size_t)(off >> 6);

	if (off >= NUM_SPAN(row))
		return -1;
	if (w >= d->words) {
		size_t words = d->words ? 2 * d->words : 1024;
		struct rank_word *r;

		while (words <= w)
			words *= 2;
		r = realloc(d->rank, words * sizeof *r);
		if (!r)
			return -1;
		memset(r + d->words, 0, (words - d->words) * sizeof *r);
		d->rank = r;
		d->words = words;
	}
	d->rank[w].bits |= UINT64_C(1) << (off & 63);
	return 0;
}

/* Marks the numbers BASE + [0, COUNT) in D's RANK at once: consecutive numbers, read before the first gap. Returns 0,
 * or -1 on no memory (num_mark()). */
static int num_mark_first(struct numbered_ids *d, size_t row, uint64_t count)
{
	size_t w;

	if (num_mark(d, row, count - 1) != 0)
		return -1;
	for (w = 0; w < (size_t)((count - 1) >> 6); w++)
		d->rank[w].bits = ~UINT64_C(0);
	d->rank[w].bits = ~UINT64_C(0) >> (63 - ((count - 1) & 63));
	return 0;
}

/* Notes the id S[0..LEN) of row ROW in D (struct numbered_ids: the first id sets the prefix, the base and the width).
 * Ids off the pattern turn D off; a number not above the one before ends INCREASING. Either frees D's RANK. */
static void num_note(struct numbered_ids *d, size_t row, const char *s, size_t len, const char *floor)
{
	uint64_t v = 0;
	unsigned nd;
	int fixed;
	int natural;

	if (row == 0) {
		size_t at = len;

		while (at > 0 && (unsigned)(unsigned char)s[at - 1] - '0' <= 9)
			at--;
		nd = num_digits(s, len, at, &v, floor);
		*d = (struct numbered_ids){.on = nd > 0 && at <= NUM_PREFIX,
		                           .plen = at,
		                           .base = v,
		                           .top = v,
		                           .increasing = 1,
		                           .width = nd,
		                           .fixed = 1,
		                           .natural = nd == 1 || (nd > 1 && s[at] != '0')};
		if (d->on)
			memcpy(d->prefix, s, at);
		d->increasing = d->on; /* no mark until the first gap: consecutive numbers need no RANK */
		return;
	}
	if (!d->on)
		return;
	nd = num_number(d, s, len, &v, floor);
	/* from locals: D's two ints read as one after a store to one of them would stall on every id */
	fixed = d->fixed && nd == d->width;
	natural = d->natural && (nd == 1 || (nd > 1 && s[d->plen] != '0'));
	d->fixed = fixed;
	d->natural = natural;
	d->on = nd > 0 && (fixed || natural);
	/* while the numbers increase, TOP is the one before and BASE stays the first (the rank's origin) */
	d->increasing = d->on && d->increasing && v > d->top;
	if (d->increasing && (d->gaps || v != d->top + 1)) /* a gap, now or before: RANK from here on */
		d->increasing = (d->gaps || num_mark_first(d, row, d->top - d->base + 1) == 0) &&
		                num_mark(d, row, v - d->base) == 0;
	d->gaps = d->gaps || v != d->top + 1;
	d->base = v < d->base ? v : d->base;
	d->top = v > d->top ? v : d->top;
	if (!d->increasing) {
		free(d->rank);
		d->rank = NULL;
	}
}

/* Numbers in any order whose span is at most this for N ids get a TABLE: at most 8 bytes an id. */
#define NUM_TABLE_SPAN(n) (2 * (uint64_t)(n) + 65536)

/*
 * After the last of N ids: increasing numbers keep D's RANK only with gaps, each word then counting the ids before
 * it; numbers in another order are left for num_table() when their span is narrow enough.
 */
static void num_finish(struct numbered_ids *d, size_t n)
{
	uint64_t ones = 0;
	size_t w;

	if (!d->on || !d->increasing || !d->gaps) {
		free(d->rank);
		d->rank = NULL;
	}
	if (d->on && !d->increasing) {
		d->on = d->top - d->base < NUM_TABLE_SPAN(n);
		return;
	}
	for (w = 0; d->rank && w < d->words; w++) {
		d->rank[w].ones = ones;
		ones += ones64(d->rank[w].bits);
	}
}

/* T's rows [FROM, TO) get their ids' numbers in t->idkey (ids that num_note() found numbered); returns TO. */
static size_t number_ids(struct truth *t, const struct numbered_ids *d, size_t from, size_t to)
{
	size_t r;

	for (r = from; r < to; r++) {
		uint64_t v = 0;

		(void)num_digits(t->in.data + t->id[r].off, t->id[r].len, d->plen, &v, t->in.data);
		t->idkey[r] = v;
	}
	return to;
}

#define TABLE_AHEAD 16 /* rows between the prefetch of a table slot and its write */

/*
 * Numbers in another order (num_finish()), rows [0, NUMBERED) numbered in t->idkey: D's TABLE gets 1 + the row
 * of each number. Returns 0, or -1 when a number is there twice (the repeat check then finds and words it) or on
 * no memory; D's TABLE is then NULL.
 */
static int num_table(struct truth *t, struct numbered_ids *d, size_t numbered)
{
	size_t r;

	number_ids(t, d, numbered, t->n);
	d->table = score_big_array((size_t)(d->top - d->base) + 1, sizeof *d->table);
	for (r = 0; d->table && r < t->n; r++) {
		uint64_t off = t->idkey[r] - d->base;

		if (r + TABLE_AHEAD < t->n)
			__builtin_prefetch(&d->table[t->idkey[r + TABLE_AHEAD] - d->base], 1);
		if (d->table[off] != 0) {
			score_big_free(d->table);
			d->table = NULL;
		} else {
			d->table[off] = (uint32_t)(r + 1);
		}
	}
	return d->table ? 0 : -1;
}

size_t score_hash_ids(struct truth *t, size_t from, size_t to)
{
	size_t r;

	for (r = from; r < to; r++)
		t->idkey[r] = hash_bytes(t->in.data + t->id[r].off, t->id[r].len);
	return to;
}

/* Keeps the place of F, a field of T's file, as row ROW's id (T->id holds a slice for it). */
static inline void keep_id_place(struct truth *t, size_t row, const struct csv_field *f)
{
	t->id[row].off = (uint32_t)(f->s - t->in.data);
	t->id[row].len = (uint32_t)f->len;
}

/*
 * T's slices of its first N rows (numbered ids, none kept so far), CAP of them, found again by a second reader from
 * DATA0, the first byte after the header, which only splits those rows into fields. Returns 0, or -1 (T's ID then
 * NULL) on no memory, or when the reader does not find the rows the first one read (it cannot: the same bytes).
 */
static int find_id_places(struct truth *t, char *data0, size_t n, size_t cap, size_t max_record)
{
	struct csv_reader r2;
	struct csv_field *f = malloc((size_t)t->ncols * sizeof *f);
	size_t row;
	int nf;

	t->id = score_big_raw(cap, sizeof *t->id);
	if (!f || !t->id)
		goto fail;
	csv_reader_at(&r2, data0, (size_t)(t->in.data + t->in.len - data0), 2, max_record);
	r2.keep_bytes = 1;
	for (row = 0; row < n; row++) {
		if (csv_next(&r2, f, t->ncols, &nf) != CSV_OK || nf != t->ncols)
			goto fail;
		keep_id_place(t, row, &f[t->id_col]);
	}
	free(f);
	return 0;
fail:
	free(f);
	score_big_free(t->id);
	t->id = NULL;
	return -1;
}

/*
 * Reads the ground truth into j->t (score_load_truth()). Unless KEEP_IDS, or a switch that turns off the numbered ids'
 * join or the ids' order (they need the slices), the ids' slices are not kept while the ids are numbered in
 * increasing order (their rows' texts follow from the numbers: truth_id()); at the first id that breaks that
 * pattern, the rows before get their slices from find_id_places(), or, when unescaping rewrote some of their bytes,
 * *AGAIN gets its line and the read stops, to be done again with KEEP_IDS.
 */
static enum score_status load_truth(struct job *j, int keep_ids, size_t *again)
{
	int check_ids = getenv("CONCOURS_SCORE_CHECK_IDS") != NULL; /* ids in order checked for repeats all the same */
	int dense = !getenv("CONCOURS_SCORE_NO_DENSE") && !check_ids; /* numbered ids join from their text */
	const struct score_request *req = j->req;
	struct truth *t = &j->t;
	char *msg = j->truth_msg;
	struct csv_reader rd = {0};
	struct csv_field *f = NULL;
	enum score_status st;
	enum csv_status cs;
	const char *split_name = req->split_column ? req->split_column : "Usage";
	size_t cap;
	int nf;
	int c;
	int remap[SCORE_MAX_CLASSES];
	int16_t byte_class[256];       /* class of each one-byte label seen so far, -1 if none */
	unsigned order = 3;            /* ids_order() */
	size_t hashed = 0;             /* t->idkey holds the keys of rows [0, hashed) */
	size_t numbered = 0;           /* or, while the ids are numbers in any order, their numbers (num_table()) */
	struct numbered_ids num = {0}; /* t->num once read: on this stack, not beside the prediction's state */
	const char *prev_id = NULL;    /* the id of the row before, for ids_order() */
	size_t prev_len = 0;
	char *data0 = NULL; /* the first byte after the header */

	memset(byte_class, 0xff, sizeof byte_class);
	st = score_load_input(req->truth_path, &req->lim, &t->in, msg, MSG_LEN, 0);
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
		snprintf(msg, MSG_LEN, "ground truth header: %s",
		         cs != CSV_OK ? csv_status_text(cs) : "too many columns");
		goto out;
	}
	t->ncols = nf;
	data0 = rd.p;
	t->id_col = req->id_column ? -1 : 0;
	t->split_col = -1;
	for (c = 0; c < nf; c++) {
		if (req->id_column && score_field_is(&t->hdr[c], req->id_column))
			t->id_col = c;
	}
	if (t->id_col < 0) {
		snprintf(msg, MSG_LEN, "ground truth has no id column '%s'", req->id_column);
		goto out;
	}
	for (c = 0; split_name[0] != '\0' && c < nf && t->split_col < 0; c++) {
		if (c != t->id_col && score_field_is(&t->hdr[c], split_name))
			t->split_col = c;
	}
	for (c = 0; split_name[0] != '\0' && c < nf && t->split_col < 0; c++) {
		if (c != t->id_col && csv_field_ieq(t->hdr[c].s, t->hdr[c].len, split_name))
			t->split_col = c;
	}
	for (c = 0; c < nf; c++) {
		if (c != t->id_col && c != t->split_col)
			t->target[t->ntarget++] = c;
	}
	if (t->ntarget == 0 || (j->m->truth == SCORE_TRUTH_NUMBER && t->ntarget != 1) ||
	    (j->m->truth == SCORE_TRUTH_SURVIVAL && t->ntarget != 2)) {
		snprintf(msg, MSG_LEN,
		         "metric %s needs %s in the ground truth besides the id and split columns; "
		         "it has %d",
		         j->m->name,
		         j->m->truth == SCORE_TRUTH_SURVIVAL ? "two columns (time, event)"
		         : j->m->truth == SCORE_TRUTH_NUMBER ? "one target column"
		                                             : "a label column (or one column per class)",
		         t->ntarget);
		goto out;
	}
	if (j->m->truth == SCORE_TRUTH_SURVIVAL &&
	    csv_field_ieq(t->hdr[t->target[0]].s, t->hdr[t->target[0]].len, "event")) {
		int tmp = t->target[0];

		t->target[0] = t->target[1];
		t->target[1] = tmp;
	}
	cap = score_first_capacity(rd.p, (size_t)(rd.end - rd.p), t->ncols, req->lim.max_rows);
	keep_ids = keep_ids || !dense; /* without the numbers' join or the order, the keyed join reads the slices */
	t->id = keep_ids ? score_big_raw(cap, sizeof *t->id) : NULL;
	t->idkey = score_big_raw(cap, sizeof *t->idkey);
	t->y = j->m->truth == SCORE_TRUTH_LABEL ? score_big_raw(cap, sizeof *t->y) : NULL;
	t->yv = j->m->truth != SCORE_TRUTH_LABEL ? score_big_raw(cap, sizeof *t->yv) : NULL;
	t->event = j->m->truth == SCORE_TRUTH_SURVIVAL ? score_big_raw(cap, 1) : NULL;
	t->split = t->split_col >= 0 ? score_big_raw(cap, 1) : NULL;
	t->cls = j->m->truth == SCORE_TRUTH_LABEL ? calloc(1, sizeof *t->cls) : NULL;
	f = malloc((size_t)t->ncols * sizeof *f);
	if ((keep_ids && !t->id) || !t->idkey || (j->m->truth == SCORE_TRUTH_LABEL && (!t->y || !t->cls)) ||
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
			int k = j->cost_k > 0 ? score_classes_find(t->cls, h->s, h->len)
			                      : classes_add(t->cls, h->s, h->len);

			if (k != (j->cost_k > 0 ? k : c) || k < 0) {
				char shown[80];

				score_shown_field(h->s, h->len, shown, sizeof shown);
				snprintf(msg, MSG_LEN,
				         "ground truth column '%s' is not a class of params.labels, or is repeated",
				         shown);
				goto out;
			}
		}
	}
	for (;;) {
		const struct csv_field *idf;
		size_t row = t->n;
		char shown[80];

		if (csv_next_plain(&rd, f, t->ncols) == 0) {
			cs = CSV_OK;
			nf = t->ncols;
		} else {
			cs = csv_next(&rd, f, t->ncols, &nf);
		}
		if (cs == CSV_EOF)
			break;
		if (cs != CSV_OK) {
			snprintf(msg, MSG_LEN, "ground truth line %zu: %s", rd.line, csv_status_text(cs));
			goto out;
		}
		if (nf != t->ncols) {
			snprintf(msg, MSG_LEN, "ground truth line %zu has %d fields, expected %d", rd.line, nf,
			         t->ncols);
			goto out;
		}
		if (row >= req->lim.max_rows) {
			snprintf(msg, MSG_LEN, "ground truth has more than %zu rows", req->lim.max_rows);
			goto out;
		}
		if (row >= cap) { /* lines shorter than guessed */
			cap = score_next_capacity(cap, req->lim.max_rows);
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
			snprintf(msg, MSG_LEN, "ground truth line %zu: the id is empty or longer than %d bytes",
			         rd.line, MAX_ID_BYTES);
			goto out;
		}
		if (row > 0 && order != 0)
			order = ids_order(order, prev_id, prev_len, idf->s, idf->len);
		prev_id = idf->s;
		prev_len = idf->len;
		num_note(&num, row, idf->s, idf->len, t->in.data);
		if (!t->id && !(order != 0 && num.on && num.increasing)) { /* the rows read so far need their slices */
			/* bytes rewritten in place (doubled quotes): the whole file is read again, from the file */
			if (rd.written_lo || find_id_places(t, data0, row, cap, req->lim.max_record) != 0) {
				*again = rd.line;
				st = SCORE_OK;
				goto out;
			}
			if (getenv("CONCOURS_SCORE_TIMING"))
				fprintf(stderr,
				        "timing: ground truth's id places read again: line %zu is off the numbers\n",
				        rd.line);
		}
		if (t->id)
			keep_id_place(t, row, idf);
		/* out of order: the repeat check needs every key (score_check_unique() puts the row in) */
		if (order == 0 && num.on) /* numbers in any order may need no key (num_table()) */
			numbered = number_ids(t, &num, numbered, row + 1);
		else if (order == 0)
			hashed = score_hash_ids(t, hashed, row + 1);
		if (t->split) {
			const struct csv_field *sf = &f[t->split_col];

			/* as written most often first, then in any case */
			if (sf->len == 6 && memcmp(sf->s, "Public", 6) == 0) {
				t->split[row] = 0;
			} else if (sf->len == 7 && memcmp(sf->s, "Private", 7) == 0) {
				t->split[row] = 1;
			} else if (csv_field_ieq(sf->s, sf->len, "public")) {
				t->split[row] = 0;
			} else if (csv_field_ieq(sf->s, sf->len, "private")) {
				t->split[row] = 1;
			} else {
				score_shown_field(sf->s, sf->len, shown, sizeof shown);
				snprintf(msg, MSG_LEN,
				         "ground truth line %zu: split value '%s' is neither Public nor Private",
				         rd.line, shown);
				goto out;
			}
		}
		if (j->m->truth == SCORE_TRUTH_LABEL && t->ntarget == 1) {
			const struct csv_field *lf = &f[t->target[0]];
			int k = lf->len == 1 ? byte_class[(unsigned char)lf->s[0]] : -1;

			if (k < 0) /* not a one-byte label seen before */
				k = j->cost_k > 0 ? score_classes_find(t->cls, lf->s, lf->len)
				                  : classes_add(t->cls, lf->s, lf->len);
			if (k >= 0 && lf->len == 1)
				byte_class[(unsigned char)lf->s[0]] = (int16_t)k;

			if (k < 0) {
				score_shown_field(lf->s, lf->len, shown, sizeof shown);
				if (k == -2) {
					snprintf(msg, MSG_LEN, "out of memory reading the ground truth");
					st = SCORE_INTERNAL;
				} else if (j->cost_k > 0) {
					snprintf(msg, MSG_LEN,
					         "ground truth line %zu: label '%s' is not in params.labels", rd.line,
					         shown);
				} else {
					snprintf(msg, MSG_LEN, "ground truth has more than %d classes",
					         SCORE_MAX_CLASSES);
				}
				goto out;
			}
			t->y[row] = k;
		} else if (j->m->truth == SCORE_TRUTH_LABEL) {
			double best = 0.0;
			int arg = -1;

			for (c = 0; c < t->ntarget; c++) {
				double v;

				if (truth_number(&f[t->target[c]], rd.line, &v, msg) != 0)
					goto out;
				if (arg < 0 || v > best) {
					best = v;
					arg = c;
				}
			}
			t->y[row] = j->cost_k > 0 ? score_classes_find(t->cls, t->hdr[t->target[arg]].s,
			                                               t->hdr[t->target[arg]].len)
			                          : arg;
		} else {
			for (c = 0; c < t->ntarget; c++) {
				double v;

				if (truth_number(&f[t->target[c]], rd.line, &v, msg) != 0)
					goto out;
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
	t->ordered = order != 0 && !check_ids;
	num.on = num.on && dense;
	num_finish(&num, t->n);
	if (num.on && !num.increasing && num_table(t, &num, numbered) != 0)
		num.on = 0;
	t->num = num;
	num.rank = NULL; /* t's now (job_free()) */
	if (!t->ordered && !t->num.on)
		score_hash_ids(t, hashed, t->n);
	if (t->cls) {
		size_t i;

		if (classes_sort(t->cls, remap) != 0) {
			snprintf(msg, MSG_LEN, "out of memory sorting the classes");
			st = SCORE_INTERNAL;
			goto out;
		}
		for (i = 0; i < t->n; i++)
			t->y[i] = remap[t->y[i]];
	}
	st = SCORE_OK;
out:
	score_note_written(&t->in, &rd);
	free(num.rank);
	free(f);
	return st;
}

enum score_status score_load_truth(struct job *j)
{
	size_t again = 0;
	enum score_status st = load_truth(j, getenv("CONCOURS_SCORE_KEEP_IDS") != NULL, &again);

	if (again) { /* read again from the file: the first read may have rewritten bytes (doubled quotes) */
		if (getenv("CONCOURS_SCORE_TIMING"))
			fprintf(stderr,
			        "timing: ground truth read again, with its ids' places: line %zu is off the numbers\n",
			        again);
		score_truth_free(&j->t);
		memset(&j->t, 0, sizeof j->t);
		st = load_truth(j, 1, &again);
	}
	return st;
}

void score_truth_drop_keys(struct truth *t)
{
	if (t->ordered && !t->num.table)
		score_big_drop(t->idkey); /* never computed: no page of theirs was touched */
	else
		score_big_free(t->idkey);
	t->idkey = NULL;
}

void score_truth_free(struct truth *t)
{
	arc_input_free(&t->in);
	score_big_free(t->id);
	score_big_free(t->split);
	score_big_free(t->y);
	score_big_free(t->yv);
	score_big_free(t->event);
	score_big_free(t->grouped);
	free(t->gstart);
	free(t->num.rank);
	score_big_free(t->num.table);
	score_big_free(t->idkey);
	score_classes_free(t->cls);
}
