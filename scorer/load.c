/*
 * load.c: reading the ground truth into columns, validating it, and joining the prediction file's rows to it by id
 * (see load.h; the prediction file itself is read by pred.c).
 *
 * Hot path of every run: fields are slices of the mapped file, numbers go through csv_parse_double()'s fast
 * path, ground-truth ids are hashed while parsed and checked for repeats by a two-thread radix sort, and
 * prediction rows are matched in place first, through a hash table only when the order differs.
 */
#include "load.h"
#include "mem.h"
#include "par.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

__extension__ typedef unsigned __int128 u128;

/* The 128-bit product of A and B folded to 64 bits (wyhash's mixing step): every input bit reaches every
 * output bit, upward and downward. */
static uint64_t mix(uint64_t a, uint64_t b)
{
	u128 r = (u128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * A 64-bit hash of S[0..N): 8-byte words (the tail is the last 8 bytes, overlapping), each folded in by
 * mix(). A multiply alone only carries differences upward: ids that differ in two characters
 * (id_000975910 and id_000905917) then collided on all 64 bits.
 */
static uint64_t hash_bytes(const char *s, size_t n)
{
	const char *end = s + n;
	uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)n;
	uint64_t w;

	/* fixed-size loads only (they compile to plain moves) */
	if (n >= 8) {
		for (; end - s > 8; s += 8) {
			memcpy(&w, s, 8);
			h = mix(h ^ w, UINT64_C(0xa0761d6478bd642f));
		}
		memcpy(&w, end - 8, 8);
	} else if (n >= 4) {
		uint32_t lo;
		uint32_t hi;

		memcpy(&lo, s, 4);
		memcpy(&hi, end - 4, 4);
		w = ((uint64_t)hi << 32) | lo;
	} else if (n > 0) {
		w = ((uint64_t)(unsigned char)s[0] << 16) | ((uint64_t)(unsigned char)s[n / 2] << 8) |
		    (unsigned char)end[-1];
	} else {
		w = 0;
	}
	return mix(mix(h ^ w, UINT64_C(0xe7037ed1a0b428db)), UINT64_C(0x8ebc6af09c88c6e3));
}

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

#define NUM_DIGITS 18 /* below 10^18: no overflow with a row added */

/*
 * Reads the digits that end S[0..LEN) from byte AT on: *V their value, returns their count, or 0 when a byte from
 * AT is not a digit, or when there are none or more than NUM_DIGITS. S lies in a buffer that starts at FLOOR: from
 * 16 bytes in, the digits are loaded as words ending at the id's end.
 */
static unsigned num_digits(const char *s, size_t len, size_t at, uint64_t *v, const char *floor)
{
	size_t n = len - at;

	if (at >= len || n > NUM_DIGITS)
		return 0;
	if ((size_t)(s + len - floor) >= 16 ? !csv_digits18_tail(s + len, n, v) : !csv_digits18(s + at, n, v))
		return 0;
	return (unsigned)n;
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

/* The number that ends S[0..LEN) (in a buffer from FLOOR) after D's prefix in *V, and its digits' count, or 0
 * (num_digits()). */
static unsigned num_number(const struct numbered_ids *d, const char *s, size_t len, uint64_t *v, const char *floor)
{
	size_t i;

	if (len <= d->plen)
		return 0;
	for (i = 0; i < d->plen; i++) /* a few bytes: a call to memcmp() costs more than the loop */
		if (s[i] != d->prefix[i])
			return 0;
	return num_digits(s, len, d->plen, v, floor);
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

/* The bits set in X (inline: without -mpopcnt, __builtin_popcountll is a call into libgcc). */
static inline unsigned ones64(uint64_t x)
{
#if defined(__POPCNT__)
	return (unsigned)__builtin_popcountll(x);
#else
	x -= (x >> 1) & UINT64_C(0x5555555555555555);
	x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
	x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
	return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
#endif
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

/*
 * The number of the id S[0..LEN) less T's base when T's ids are numbered (t->num), or UINT64_MAX: the text must
 * be the prefix then a number in the ground truth's range written as it writes them. num_row() then says
 * whether it is one of its ids, byte for byte.
 */
static uint64_t num_offset(const struct truth *t, const char *s, size_t len, const char *floor)
{
	const struct numbered_ids *d = &t->num;
	uint64_t v = 0;
	unsigned nd = num_number(d, s, len, &v, floor);

	if (nd == 0 || v < d->base || v > d->top)
		return UINT64_MAX;
	if (d->fixed ? nd != d->width : nd > 1 && s[d->plen] == '0')
		return UINT64_MAX; /* another writing of the same number */
	return v - d->base;
}

/* The ground-truth row of the number BASE + OFF (num_offset(), UINT64_MAX passes through), or SIZE_MAX. */
static size_t num_row(const struct truth *t, uint64_t off)
{
	const struct rank_word *w;

	if (off == UINT64_MAX)
		return SIZE_MAX;
	if (t->num.table)
		return t->num.table[off] != 0 ? (size_t)t->num.table[off] - 1 : SIZE_MAX;
	if (!t->num.gaps)
		return (size_t)off;
	w = &t->num.rank[off >> 6];
	if (!((w->bits >> (off & 63)) & 1))
		return SIZE_MAX; /* a number between two of the ground truth's */
	return (size_t)(w->ones + ones64(w->bits & ((UINT64_C(1) << (off & 63)) - 1)));
}

/* T's keys of rows [FROM, TO) from their ids (T's file mapped); returns TO. */
static size_t hash_ids(struct truth *t, size_t from, size_t to)
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
			hashed = hash_ids(t, hashed, row + 1);
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
		hash_ids(t, hashed, t->n);
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

/* Whether the prediction id at PBUF + S is T's id of row R, byte for byte: by the slices, or by the number. */
static inline int id_is_row(const struct truth *t, size_t r, const char *pbuf, struct slice s)
{
	if (t->id)
		return slice_eq(t->in.data, t->id[r], pbuf, s);
	return s.len > 0 && num_row(t, num_offset(t, pbuf + s.off, s.len, pbuf)) == r;
}

#define ID_TEXT (NUM_PREFIX + 24) /* an id written from its number: the prefix, then at most 20 digits */

/* The number of T's row R when its ids are numbered in increasing order (struct truth's ID is NULL). */
static uint64_t row_number(const struct truth *t, size_t r)
{
	const struct rank_word *w = t->num.rank;
	size_t lo = 0;
	size_t hi = t->num.words;
	uint64_t bits;
	size_t k;

	if (!t->num.gaps)
		return t->num.base + r;
	while (hi - lo > 1) { /* the last word whose ids before it are at most R */
		size_t mid = lo + (hi - lo) / 2;

		if (w[mid].ones <= r)
			lo = mid;
		else
			hi = mid;
	}
	bits = w[lo].bits;
	for (k = r - w[lo].ones; k > 0; k--)
		bits &= bits - 1; /* the (R - ones)-th bit set: the ones below it cleared */
	return t->num.base + 64 * (uint64_t)lo + (uint64_t)__builtin_ctzll(bits);
}

/* T's id of row R, *LEN bytes: in T's file, or written from its number into BUF (ID_TEXT bytes). */
static const char *truth_id(const struct truth *t, size_t r, char *buf, size_t *len)
{
	char digits[24];
	int nd;

	if (t->id) {
		*len = t->id[r].len;
		return t->in.data + t->id[r].off;
	}
	nd = snprintf(digits, sizeof digits, "%0*llu", t->num.fixed ? (int)t->num.width : 1,
	              (unsigned long long)row_number(t, r));
	memcpy(buf, t->num.prefix, t->num.plen);
	memcpy(buf + t->num.plen, digits, (size_t)nd);
	*len = t->num.plen + (size_t)nd;
	return buf;
}

#define PART_OF(k) ((unsigned)((k) >> (64 - ID_PART_BITS)))

/*
 * A key is an id's hash with a row in its low ROW_BITS bits, as few as the rows need: the hash bits left (the
 * tag) tell ids apart in a partition's table, and an id whose tag another shares must be compared byte by
 * byte, in a file that may be anywhere in memory. 10M rows leave 40-bit tags, where 32-bit ones made about
 * 23,000 rows share tags. CONCOURS_SCORE_SHORT_TAGS=1 gives rows 32 bits (tests use it to make tags meet).
 */
static unsigned row_bits(size_t n)
{
	const char *v = getenv("CONCOURS_SCORE_SHORT_TAGS");
	unsigned bits = 1;

	if (v && strcmp(v, "1") == 0)
		return 32;
	while (bits < 32 && (((uint64_t)1 << bits) - 1) < (uint64_t)n) /* row + 1 never carries into the tag */
		bits++;
	return bits;
}

#define ROW_MASK(bits) ((UINT64_C(1) << (bits)) - 1)
#define KEY_ROW(k, bits) ((uint32_t)((k)&ROW_MASK(bits)))

/* Slot of tag TAG (a key without its row bits) in a partition table of 2^BITS slots: the tag's low 32 bits,
 * mixed, so that a partition's keys spread whatever its size. */
static size_t part_slot(uint64_t tag, unsigned bits)
{
	return (size_t)((uint32_t)((uint32_t)tag * 2654435761u) >> (32 - bits));
}

/* Bits of a partition table for M keys: at least 2M slots. */
static unsigned part_bits(size_t m)
{
	unsigned bits = 4;

	while (((size_t)1 << bits) < 2 * m)
		bits++;
	return bits;
}

/* A growable scratch table of one thread (reused across partitions). */
struct part_table {
	uint64_t *slot;
	size_t cap;
};

/* Empties PT with at least 2^BITS slots. Returns 0, or -1 on no memory. */
static int part_table_reset(struct part_table *pt, unsigned bits)
{
	size_t need = (size_t)1 << bits;

	if (need > pt->cap) {
		free(pt->slot);
		pt->slot = malloc(need * sizeof *pt->slot);
		pt->cap = pt->slot ? need : 0;
		if (!pt->slot)
			return -1;
	}
	memset(pt->slot, 0, need * sizeof *pt->slot);
	return 0;
}

/* Keys of partition PART in the NSEG segments of offsets START (GSTART_LEN, or ID_PARTS + 1 for one). */
static size_t part_size(const size_t *start, int nseg, unsigned part)
{
	size_t m = 0;
	int seg;

	for (seg = 0; seg < nseg; seg++)
		m += start[seg * (ID_PARTS + 1) + part + 1] - start[seg * (ID_PARTS + 1) + part];
	return m;
}

/* Where the I-th key of partition PART is, across START's two segments. */
static size_t part_index(const size_t *start, unsigned part, size_t i)
{
	size_t m0 = start[part + 1] - start[part];

	return i < m0 ? start[part] + i : start[ID_PARTS + 1 + part] + (i - m0);
}

/* One thread's share of find_repeat(): partitions [FIRST, LAST). */
struct repeat_scan {
	const char *buf;
	const struct slice *ids;
	const uint64_t *keys; /* grouped by partition, in two segments */
	const size_t *start;  /* GSTART_LEN offsets into KEYS */
	unsigned bits;        /* row bits of the keys */
	unsigned first;
	unsigned last;
	long long found; /* -1 none, a row, or -2 on no memory */
};

/*
 * Each partition holds the keys whose hashes share their top bits: a few thousand keys, checked with a small
 * open-addressing table that stays in cache.
 */
static void *scan_parts(void *arg)
{
	struct repeat_scan *rs = arg;
	struct part_table pt = {NULL, 0};
	unsigned part;

	for (part = rs->first; part < rs->last && rs->found == -1; part++) {
		unsigned bits = part_bits(part_size(rs->start, 2, part));
		size_t mask = ((size_t)1 << bits) - 1;
		size_t i;

		if (part_table_reset(&pt, bits) != 0) {
			rs->found = -2;
			break;
		}
		for (i = 0; i < part_size(rs->start, 2, part) && rs->found == -1; i++) {
			uint64_t k = rs->keys[part_index(rs->start, part, i)];
			uint64_t tag = k >> rs->bits;
			size_t at = part_slot(tag, bits);

			while (pt.slot[at] != 0) {
				uint64_t e = pt.slot[at] - 1;

				/* ids are only read on a hash match: rows are in random order here */
				if ((e >> rs->bits) == tag && slice_eq(rs->buf, rs->ids[KEY_ROW(e, rs->bits)], rs->buf,
				                                       rs->ids[KEY_ROW(k, rs->bits)])) {
					rs->found = (long long)KEY_ROW(k, rs->bits);
					break;
				}
				at = (at + 1) & mask;
			}
			pt.slot[at] = k + 1; /* a row's mask is never all ones (row_bits()): never wraps to 0 */
		}
	}
	free(pt.slot);
	return NULL;
}

/*
 * Groups the N keys KEYS by partition in place (one pass of an American flag sort: each key moves once, to the
 * next free place of its partition), START[p] the offset of partition p (ID_PARTS + 1 offsets). KEYS hold
 * hashes on entry; key i gets row FIRST + i in its low BITS bits first.
 */
static void group_keys(uint64_t *keys, size_t n, size_t first, unsigned bits, size_t *start)
{
	size_t next[ID_PARTS];
	size_t i;
	unsigned part;

	memset(start, 0, (ID_PARTS + 1) * sizeof *start);
	for (i = 0; i < n; i++) {
		keys[i] = (keys[i] & ~ROW_MASK(bits)) | (first + i);
		start[PART_OF(keys[i]) + 1]++;
	}
	for (part = 1; part <= ID_PARTS; part++)
		start[part] += start[part - 1];
	memcpy(next, start, sizeof next);
	for (part = 0; part < ID_PARTS; part++) {
		while (next[part] < start[part + 1]) {
			uint64_t k = keys[next[part]];
			unsigned q = PART_OF(k);

			while (q !=
			       part) { /* K's place is in partition Q: put it there, carry on with whom it displaces */
				uint64_t d = keys[next[q]];

				keys[next[q]++] = k;
				k = d;
				q = PART_OF(k);
			}
			keys[next[part]++] = k;
		}
	}
}

/* The first partition of the second half of the work: the keys of START's NSEG segments split in two. */
static unsigned middle_part(const size_t *start, int nseg)
{
	size_t total = 0;
	size_t below = 0;
	unsigned mid = 0;
	unsigned part;

	for (part = 0; part < ID_PARTS; part++)
		total += part_size(start, nseg, part);
	while (mid < ID_PARTS && below < total / 2)
		below += part_size(start, nseg, mid++);
	return mid;
}

/* Groups KEYS[first, last) in place, START (ID_PARTS + 1) receiving absolute offsets: one thread's half. With
 * HASH, the keys are first computed from its ids. */
struct group_half {
	uint64_t *keys;
	size_t first;
	size_t last;
	unsigned bits;
	size_t *start;
	struct truth *hash;
};

static void *group_half(void *arg)
{
	struct group_half *g = arg;
	unsigned part;

	if (g->hash)
		hash_ids(g->hash, g->first, g->last);
	group_keys(g->keys + g->first, g->last - g->first, g->first, g->bits, g->start);
	for (part = 0; part <= ID_PARTS; part++)
		g->start[part] += g->first;
	return NULL;
}

/*
 * Finds an id given twice among the N ids IDS (slices of BUF), KEYS grouped by group_truth() (START: the groups'
 * offsets). The groups are checked in cache, half of them by a second thread: sequential passes instead of a
 * big hash table's random accesses. Returns the row of one occurrence of a repeated id (the same one whatever
 * the timing), -1 if all are distinct, -2 on no memory.
 */
static long long find_repeat(const char *buf, const struct slice *ids, const uint64_t *keys, unsigned bits,
                             const size_t *start, int threads)
{
	struct repeat_scan half[2];
	unsigned mid = middle_part(start, 2);

	half[0] = (struct repeat_scan){buf, ids, keys, start, bits, 0, mid, -1};
	half[1] = (struct repeat_scan){buf, ids, keys, start, bits, mid, ID_PARTS, -1};
	score_par2_on(threads, scan_parts, &half[1], scan_parts, &half[0]);
	if (half[0].found == -2 || half[1].found == -2)
		return -2;
	return half[0].found != -1 ? half[0].found : half[1].found;
}

/*
 * T's keys (hashed from the ids first with HASH) become keys holding their row, each half grouped in place by
 * partition on its own thread (THREADS: 1 or 2): t->grouped and t->gstart. Returns 0, or -1 on no memory.
 */
static int group_truth(struct truth *t, int threads, int hash)
{
	struct group_half g[2];

	t->gstart = malloc(GSTART_LEN * sizeof *t->gstart);
	if (!t->gstart || !t->idkey)
		return -1;
	t->row_bits = row_bits(t->n);
	g[0] = (struct group_half){t->idkey, 0, t->n / 2, t->row_bits, t->gstart, hash ? t : NULL};
	g[1] = (struct group_half){t->idkey, t->n / 2, t->n, t->row_bits, t->gstart + ID_PARTS + 1, hash ? t : NULL};
	score_par2_on(threads, group_half, &g[1], group_half, &g[0]);
	t->grouped = t->idkey;
	t->idkey = NULL;
	return 0;
}

/* A repeated id in the ground truth is a configuration error: the message names it. */
static enum score_status truth_repeat_error(const struct truth *t, long long row, char *msg)
{
	char shown[80];

	if (row == -2) {
		snprintf(msg, MSG_LEN, "out of memory indexing the ground truth");
		return SCORE_INTERNAL;
	}
	score_shown_field(t->in.data + t->id[row].off, t->id[row].len, shown, sizeof shown);
	snprintf(msg, MSG_LEN, "ground truth: id '%s' appears more than once", shown);
	return SCORE_CONFIG;
}

/* Checks that the ground truth's ids are distinct, with the keys hashed while parsing (grouped in place). */
enum score_status score_check_unique(struct truth *t, int threads, char *msg)
{
	long long row = -2;

	if (t->ordered || t->num.on)
		return SCORE_OK; /* distinct by their order or their table; the keys are grouped if a join needs them */
	if (group_truth(t, threads, 0) == 0)
		row = find_repeat(t->in.data, t->id, t->grouped, t->row_bits, t->gstart, threads);
	return row == -1 ? SCORE_OK : truth_repeat_error(t, row, msg);
}

int score_group_truth(struct truth *t, int threads)
{
	if (t->grouped || t->num.on)
		return 0; /* grouped already, or numbered ids: no key needed */
	return group_truth(t, threads, 1);
}

#define PEEK_BYTES 65536 /* the prediction file's header and first row, as a rule */

int score_pred_looks_aligned(const struct truth *t, const char *path)
{
	char *buf = malloc(PEEK_BYTES); /* not on the stack: the calling thread may be a server's, with a small one */
	const char *p;
	const char *end;
	const char *id;
	const char *first;
	char text[ID_TEXT];
	size_t len;
	ssize_t got = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO without a writer must not block */
	struct stat st;
	int same = 0;

	if (fd >= 0 && buf && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		got = pread(fd, buf, PEEK_BYTES, 0);
	if (fd >= 0)
		close(fd);
	if (got <= 0 || t->n == 0)
		goto out;
	p = buf;
	end = buf + got;
	if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	p = memchr(p, '\n', (size_t)(end - p)); /* past the header (a header with a quoted line break: a wrong guess) */
	if (!p)
		goto out;
	id = ++p;
	while (p < end && *p != ',' && *p != '\r' && *p != '\n')
		p++;
	first = truth_id(t, 0, text, &len);
	same = p < end && (size_t)(p - id) == len && memcmp(id, first, len) == 0;
out:
	free(buf);
	return same;
}

/*
 * Prediction rows [FIRST, LAST) of a pass that compares ids, one half on each core: score_same_ids() (OK stays 1
 * while every id matches the ground truth's of the same row) or the join by numbered ids (num_join(): MATCH and
 * OWNER as join_verify() fills them, OK as its CLEAN).
 */
struct id_half {
	const struct truth *t;
	const struct pred *p;
	uint32_t *match;
	uint32_t *owner;
	size_t first;
	size_t last;
	int ok;
};

static void *same_half(void *arg)
{
	struct id_half *h = arg;
	size_t r;

	for (r = h->first; r < h->last; r++) {
		if (h->p->id[r].len == 0 || !id_is_row(h->t, r, h->p->in.data, h->p->id[r])) {
			h->ok = 0;
			break;
		}
	}
	return NULL;
}

int score_same_ids(const struct truth *t, const struct pred *p)
{
	struct id_half half[2];

	if (p->n != t->n)
		return 0;
	half[0] = (struct id_half){t, p, NULL, NULL, 0, p->n / 2, 1};
	half[1] = (struct id_half){t, p, NULL, NULL, p->n / 2, p->n, 1};
	score_par2_on(p->n < SCORE_PAR_MIN_ROWS ? 1 : 2, same_half, &half[1], same_half, &half[0]);
	return half[0].ok && half[1].ok;
}

/*
 * The join of prediction rows [FIRST, LAST) by partitions of their id hashes, in passes over two threads:
 * count the keys per partition, group them, look up each partition's keys among the ground truth's keys of
 * the same partition (a table in cache), and verify the candidates' bytes in row order.
 */
struct join_part {
	const struct truth *t;
	const struct pred *p;
	uint32_t *match;
	uint64_t *grouped; /* prediction keys (row in the low BITS bits), grouped by partition */
	unsigned bits;     /* row bits of the prediction keys */
	unsigned shift;    /* tags are keys shifted by the larger row bits of both sides */
	size_t *count;     /* ID_PARTS: this half's keys per partition, then where its next key goes */
	const size_t *pstart;
	size_t first;
	size_t last;
	uint32_t *owner; /* join_verify()'s, allocated once the lookup is done */
	unsigned part_first;
	unsigned part_last;
	size_t shared; /* rows whose tag two ground-truth keys of the partition share */
	int nomem;
	int clean;
};

static uint64_t pred_hash(const struct pred *p, size_t r)
{
	struct slice s = p->id[r];

	return hash_bytes(p->in.data + s.off, s.len);
}

/* Pass 1: counts rows [first, last)'s keys per partition; an empty id matches nothing. */
static void *join_count(void *arg)
{
	struct join_part *jp = arg;
	size_t r;

	memset(jp->count, 0, ID_PARTS * sizeof *jp->count);
	for (r = jp->first; r < jp->last; r++) {
		jp->match[r] = 0;
		if (jp->p->id[r].len > 0)
			jp->count[PART_OF(pred_hash(jp->p, r))]++;
	}
	return NULL;
}

/* Pass 2: puts rows [first, last)'s keys in their partitions (count holds the first place of each); the
 * keys are hashed again rather than kept, which would cost one more array of the file's size. */
static void *join_group(void *arg)
{
	struct join_part *jp = arg;
	size_t r;

	for (r = jp->first; r < jp->last; r++) {
		if (jp->p->id[r].len > 0) {
			uint64_t k = (pred_hash(jp->p, r) & ~ROW_MASK(jp->bits)) | r;

			jp->grouped[jp->count[PART_OF(k)]++] = k;
		}
	}
	return NULL;
}

/*
 * Pass 3: partitions [part_first, part_last): MATCH[r] = 1 + the ground-truth row whose key has r's tag. A tag
 * that two ground-truth ids of the partition share is settled here by comparing bytes; any other candidate
 * is verified by join_verify().
 */
static void *join_lookup(void *arg)
{
	struct join_part *jp = arg;
	const struct truth *t = jp->t;
	const unsigned sh = jp->shift;
	struct part_table pt = {NULL, 0};
	unsigned part;

	for (part = jp->part_first; part < jp->part_last; part++) {
		size_t m = part_size(t->gstart, 2, part);
		unsigned bits = part_bits(m);
		size_t mask = ((size_t)1 << bits) - 1;
		size_t i;

		if (part_table_reset(&pt, bits) != 0) {
			jp->nomem = 1;
			break;
		}
		for (i = 0; i < m; i++) {
			uint64_t k = t->grouped[part_index(t->gstart, part, i)];
			size_t at = part_slot(k >> sh, bits);

			while (pt.slot[at] != 0)
				at = (at + 1) & mask;
			pt.slot[at] = k + 1;
		}
		for (i = jp->pstart[part]; i < jp->pstart[part + 1]; i++) {
			uint64_t k = jp->grouped[i];
			uint64_t tag = k >> sh;
			uint32_t r = KEY_ROW(k, jp->bits);
			size_t at = part_slot(tag, bits);
			uint32_t cand = 0;
			int seen = 0;

			for (; pt.slot[at] != 0 && seen < 2; at = (at + 1) & mask) {
				uint64_t e = pt.slot[at] - 1;

				if ((e >> sh) == tag) {
					seen++;
					cand = KEY_ROW(e, t->row_bits) + 1;
				}
			}
			if (seen == 2) { /* a shared tag: compare bytes with each holder */
				jp->shared++;
				cand = 0;
				for (at = part_slot(tag, bits); pt.slot[at] != 0; at = (at + 1) & mask) {
					uint64_t e = pt.slot[at] - 1;
					uint32_t row = KEY_ROW(e, t->row_bits);

					if ((e >> sh) == tag &&
					    slice_eq(t->in.data, t->id[row], jp->p->in.data, jp->p->id[r])) {
						cand = row + 1;
						break;
					}
				}
			}
			jp->match[r] = cand;
		}
	}
	free(pt.slot);
	return NULL;
}

#define AHEAD 24 /* rows between the prefetch of a candidate's slice and its comparison */

/*
 * Pass 4: rows [first, last): a candidate whose id differs from the row's is no match (the id is unknown), which
 * clears CLEAN. OWNER[row] = 1 + a row matching ground-truth row ROW: a relaxed atomic store, a plain move (a
 * compare-and-swap here would order every access and cost the prefetches their overlap). Two rows of one id
 * may both store; score_match_rows() then finds a ground-truth row that nobody owns.
 */
static void *join_verify(void *arg)
{
	struct join_part *jp = arg;
	const struct truth *t = jp->t;
	const struct pred *p = jp->p;
	size_t r;

	for (r = jp->first; r < jp->last; r++) {
		uint32_t c;

		if (r + 2 * AHEAD < jp->last && jp->match[r + 2 * AHEAD] != 0)
			__builtin_prefetch(&t->id[jp->match[r + 2 * AHEAD] - 1], 0);
		if (r + AHEAD < jp->last && jp->match[r + AHEAD] != 0) {
			__builtin_prefetch(t->in.data + t->id[jp->match[r + AHEAD] - 1].off, 0);
			__builtin_prefetch(&jp->owner[jp->match[r + AHEAD] - 1], 1);
		}
		c = jp->match[r];
		if (c != 0 && !slice_eq(t->in.data, t->id[c - 1], p->in.data, p->id[r]))
			c = jp->match[r] = 0;
		if (c == 0)
			jp->clean = 0;
		else
			__atomic_store_n(&jp->owner[c - 1], (uint32_t)(r + 1), __ATOMIC_RELAXED);
	}
	return NULL;
}

#define NUM_BLOCK 32 /* rows of num_join() read together, while their RANK words and the next block's ids are fetched */

/* Rows [FIRST, LAST) of the join by numbered ids (t->num): each id's text gives its ground-truth row (struct id_half),
 * into OWNER, and into MATCH unless it is NULL. */
static void *num_join(void *arg)
{
	struct id_half *h = arg;
	uint64_t off[NUM_BLOCK];
	size_t r;
	size_t i;

	/* by blocks: the numbers first (their RANK words and the next block's id texts fetched meanwhile), then the rows */
	for (r = h->first; r < h->last; r += NUM_BLOCK) {
		size_t m = h->last - r < NUM_BLOCK ? h->last - r : NUM_BLOCK;

		for (i = 0; i < m; i++) {
			struct slice s = h->p->id[r + i];

			/* the next block's id, its first and last bytes */
			if (r + i + NUM_BLOCK < h->last && h->p->id[r + i + NUM_BLOCK].len > 0) {
				struct slice a = h->p->id[r + i + NUM_BLOCK];

				__builtin_prefetch(h->p->in.data + a.off, 0);
				__builtin_prefetch(h->p->in.data + a.off + a.len - 1, 0);
			}
			off[i] = s.len > 0 ? num_offset(h->t, h->p->in.data + s.off, s.len, h->p->in.data) : UINT64_MAX;
			if (off[i] == UINT64_MAX)
				continue;
			if (h->t->num.table)
				__builtin_prefetch(&h->t->num.table[off[i]], 0);
			else if (h->t->num.gaps)
				__builtin_prefetch(&h->t->num.rank[off[i] >> 6], 0);
		}
		for (i = 0; i < m; i++) {
			size_t row = num_row(h->t, off[i]);

			if (h->match)
				h->match[r + i] = row == SIZE_MAX ? 0 : (uint32_t)(row + 1);
			if (row == SIZE_MAX) {
				h->ok = 0;
			} else {
				__atomic_store_n(&h->owner[row], (uint32_t)(r + i + 1), __ATOMIC_RELAXED);
			}
		}
	}
	return NULL;
}

/* Whether each of the N ground-truth rows has an owner. After a join whose rows all matched, as many as the
 * ground truth's: then the rows and the ground truth's are a bijection. */
static int owned_all(const uint32_t *owner, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (owner[i] == 0)
			return 0;
	}
	return 1;
}

/* A zeroed OWNER array of N ground-truth rows, its first R (matched in place) owned by the same rows; NULL on no
 * memory. */
static uint32_t *owner_array(size_t n, size_t r)
{
	uint32_t *owner = score_big_array(n, sizeof *owner);
	size_t i;

	for (i = 0; owner && i < r; i++)
		owner[i] = (uint32_t)(i + 1);
	return owner;
}

/*
 * MATCH[r] = 1 + the ground-truth row holding prediction row r's id, or 0. Rows are first compared in
 * place (files usually follow the sample submission's order); from the first difference on, they are joined by
 * partitions of their id hashes (the ground truth's were grouped by score_check_unique()), two threads at a
 * time: sequential passes and tables in cache instead of a large table's random accesses. *OWNER gets a zeroed
 * array of t->n, filled (OWNER[row] = 1 + its prediction row) when every ground-truth row was matched exactly
 * once, which *CLEAN then says. Returns 0, or -1 on no memory.
 */
int score_match_rows(struct truth *t, const struct pred *p, uint32_t *match, uint32_t **owner, int *clean)
{
	size_t nmin = p->n < t->n ? p->n : t->n;
	size_t r = 0;
	size_t count[2][ID_PARTS];
	size_t pstart[ID_PARTS + 1];
	struct join_part half[2];
	uint64_t *grouped = NULL;
	size_t mid;
	unsigned part;
	unsigned bits;
	int h;
	int rc = -1;

	*owner = NULL;
	*clean = 0;
	while (r < nmin && p->id[r].len > 0 && id_is_row(t, r, p->in.data, p->id[r])) {
		match[r] = (uint32_t)(r + 1);
		r++;
	}
	if (r == p->n) { /* a prefix of the ground truth: rows are missing, score_join_rows() says which */
		*owner = score_big_array(t->n, sizeof **owner);
		rc = *owner ? 0 : -1;
		goto out;
	}
	if (t->num.on) { /* each id says its row: one pass, no key, no read of the ground truth */
		struct id_half dh[2];

		*owner = owner_array(t->n, r);
		if (!*owner)
			goto out;
		mid = r + (p->n - r) / 2;
		/* OWNER alone first: a clean join needs no MATCH, whose pages are then never taken (40 MB of fresh
		 * memory for 10M rows, 0.05-0.1 s of CPU on a VM); a row off the bijection has the join done again
		 * with it */
		dh[0] = (struct id_half){t, p, NULL, *owner, r, mid, p->n == t->n};
		dh[1] = (struct id_half){t, p, NULL, *owner, mid, p->n, p->n == t->n};
		score_par2(num_join, &dh[1], num_join, &dh[0]);
		*clean = dh[0].ok && dh[1].ok && owned_all(*owner, t->n);
		if (!*clean) {
			dh[0].match = dh[1].match = match;
			score_par2(num_join, &dh[1], num_join, &dh[0]);
		}
		goto bijection;
	}
	grouped = score_big_raw(p->n - r, sizeof *grouped);
	if (!t->grouped || !t->gstart || !grouped)
		goto out;
	mid = r + (p->n - r) / 2;
	bits = row_bits(p->n);
	for (h = 0; h < 2; h++)
		half[h] = (struct join_part){.t = t,
		                             .p = p,
		                             .match = match,
		                             .grouped = grouped,
		                             .bits = bits,
		                             .shift = bits > t->row_bits ? bits : t->row_bits,
		                             .count = count[h],
		                             .pstart = pstart,
		                             .first = h ? mid : r,
		                             .last = h ? p->n : mid,
		                             .clean = p->n == t->n};
	score_par2(join_count, &half[1], join_count, &half[0]);
	/* partition by partition, the first half's keys before the second's: the grouping is deterministic */
	pstart[0] = 0;
	for (part = 0; part < ID_PARTS; part++) {
		size_t c0 = count[0][part];

		count[0][part] = pstart[part];
		pstart[part + 1] = pstart[part] + c0 + count[1][part];
		count[1][part] = pstart[part] + c0;
	}
	score_par2(join_group, &half[1], join_group, &half[0]);
	half[0].part_first = 0;
	half[0].part_last = half[1].part_first = middle_part(pstart, 1);
	half[1].part_last = ID_PARTS;
	score_par2(join_lookup, &half[1], join_lookup, &half[0]);
	if (half[0].nomem || half[1].nomem)
		goto out;
	t->shared_tags = half[0].shared + half[1].shared;
	/* the keys are done with: OWNER takes the ground truth's pages, the kernel the others, which the
	 * ground truth's file, read again by join_verify(), needs (score.c released it) */
	score_big_drop(grouped);
	score_big_free(t->grouped);
	grouped = t->grouped = NULL;
	*owner = owner_array(t->n, r);
	if (!*owner)
		goto out;
	half[0].owner = half[1].owner = *owner;
#ifdef MADV_POPULATE_READ
	/* the ground truth's pages, mapped again in one call rather than one fault per 64 KiB read at random; a hint:
	 * before Linux 5.14 (EINVAL) the faults do it */
	(void)madvise(t->in.data, t->in.len, MADV_POPULATE_READ);
#endif
	score_par2(join_verify, &half[1], join_verify, &half[0]);
	*clean = half[0].clean && half[1].clean && owned_all(*owner, t->n);
bijection:
	if (!*clean) /* unknown or repeated ids: score_join_rows() goes through the rows again and words them */
		memset(*owner, 0, t->n * sizeof **owner);
	rc = 0;
out:
	score_big_free(grouped);
	score_big_free(t->grouped);
	t->grouped = NULL;
	return rc;
}

/* Maps prediction row R's label to its class in YHAT_PRED; an unknown label is a problem. */
static void map_label(const struct job *j, size_t r, int32_t *yhat_pred, struct problems *rp)
{
	const struct pred *p = &j->p;
	struct slice l = p->label[r];
	int k = l.len == NO_LABEL ? -1 : score_classes_find(j->t.cls, p->in.data + l.off, l.len);
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
	score_shown_field(p->hdr[1].s, p->hdr[1].len, col, sizeof col);
	score_shown_field(p->in.data + l.off, l.len, shown, sizeof shown);
	score_classes_list(j->t.cls, list, sizeof list);
	score_problem_add(rp, "unknown_label", score_pred_line(p, r), col,
	                  "line %u, column '%s': '%s' is not one of the classes: %s", score_pred_line(p, r), col, shown,
	                  list);
}

/*
 * Missing ids make one problem, whatever their number: the count and the first few, so that they do not
 * crowd out the other problems.
 */
static void report_missing(const struct truth *t, const uint32_t *owner, const char *idname, struct problems *mp)
{
	char some[400] = "";
	size_t o = 0;
	size_t missing = 0;
	size_t first = 0;
	size_t i;
	char buf[ID_TEXT];
	const char *id;
	size_t len;

	for (i = 0; i < t->n; i++) {
		char shown[80];
		int w;

		if (owner[i] != 0)
			continue;
		if (missing++ == 0)
			first = i;
		if (missing > 5)
			continue;
		id = truth_id(t, i, buf, &len);
		score_shown_field(id, len, shown, sizeof shown);
		w = snprintf(some + o, sizeof some - o, "%s'%s'", missing > 1 ? ", " : "", shown);
		if (w > 0 && (size_t)w < sizeof some - o)
			o += (size_t)w;
	}
	if (missing == 1) {
		char shown[80];

		id = truth_id(t, first, buf, &len);
		score_shown_field(id, len, shown, sizeof shown);
		score_problem_add(mp, "missing_id", 0, idname,
		                  "id '%s' is missing: every id of the test set needs one line", shown);
	} else if (missing > 1) {
		score_problem_add(mp, "missing_id", 0, idname,
		                  "%zu ids of the test set have no line (every id needs one): %s%s", missing, some,
		                  missing > 5 ? ", ..." : "");
	}
}

/*
 * Joins prediction rows to ground-truth rows (MATCH from score_match_rows(); MATCH and OWNER are NULL when row i
 * is known to match row i throughout). OWNER[t] gets 1 + the prediction row of truth row t (0: none),
 * YHAT_PRED (label mode) the class of each prediction row. *IDENTITY says whether row i matched row i
 * throughout. Row problems go to RP (in line order), missing ids to MP.
 */
void score_join_rows(struct job *j, const uint32_t *match, uint32_t *owner, int32_t *yhat_pred, int *identity,
                     struct problems *rp, struct problems *mp)
{
	const struct truth *t = &j->t;
	const struct pred *p = &j->p;
	char idname[80];
	char shown[80];
	size_t r;

	score_shown_field(t->hdr[t->id_col].s, t->hdr[t->id_col].len, idname, sizeof idname);
	*identity = p->n == t->n;
	for (r = 0; r < p->n; r++) {
		struct slice s = p->id[r];
		long long row;

		if (!match) { /* same ids in the same order: only labels to map */
			if (p->label_mode)
				map_label(j, r, yhat_pred, rp);
			continue;
		}
		if (s.len == 0) {
			*identity = 0;
			continue;
		}
		row = (long long)match[r] - 1;
		if (row != (long long)r)
			*identity = 0;
		if (row >= 0 && owner[row] == 0) {
			owner[row] = (uint32_t)(r + 1);
			if (p->label_mode)
				map_label(j, r, yhat_pred, rp);
			continue;
		}
		*identity = 0;
		if (rp->kept >= SCORE_MAX_PROBLEMS) { /* counted, not worded */
			rp->count++;
			continue;
		}
		score_shown_field(p->in.data + s.off, s.len, shown, sizeof shown);
		if (row < 0)
			score_problem_add(rp, "unknown_id", score_pred_line(p, r), idname,
			                  "line %u: id '%s' is not in the test set", score_pred_line(p, r), shown);
		else
			score_problem_add(rp, "duplicate_id", score_pred_line(p, r), idname,
			                  "line %u: id '%s' appears twice (first on line %u)", score_pred_line(p, r),
			                  shown, score_pred_line(p, owner[row] - 1));
	}
	if (owner)
		report_missing(t, owner, idname, mp);
}
