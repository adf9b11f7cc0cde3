/*
 * join.c: the prediction file's rows joined to the ground truth's by id (see load.h): in place when both list the
 * same ids in the same order, from the id's text when the ground truth's ids are numbered (ids.h), and otherwise by
 * hash, in partitions small enough for the cache, on both cores; then every row checked byte for byte, and the
 * problems of the join (an unknown or repeated id, ids with no row) listed in the file's line order.
 */
#include "arc.h"
#include "ids.h"
#include "load.h"
#include "mem.h"
#include "par.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

#define GROUP_AHEAD 8 /* keys between a partition's next place and the one fetched for it (a 64-byte line) */

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
				/* Q's next key is read when a key of Q comes again, and which partition comes after it
				 * depends on it: a chain of misses, one a line, unless the line after is asked for now */
				if (next[q] + GROUP_AHEAD < n)
					__builtin_prefetch(&keys[next[q] + GROUP_AHEAD], 1);
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
		score_hash_ids(g->hash, g->first, g->last);
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
	int fd = arc_open(path, O_RDONLY | O_NONBLOCK, 0); /* a FIFO without a writer must not block */
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
 * the same partition (a table in cache), and verify the candidates' bytes: first in the ground truth's order
 * (OWNER from the lookup, ground-truth rows [TFIRST, TLAST)), which settles a clean join; else again in the
 * prediction's row order (MATCH from the lookup), which says what each row matched.
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
	size_t tfirst; /* join_verify_owners()' ground-truth rows */
	size_t tlast;
	uint32_t *owner; /* set: join_lookup() writes OWNER[candidate] = 1 + row; NULL: MATCH[row] = 1 + candidate */
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
 * Pass 3: partitions [part_first, part_last): the ground-truth row whose key has row r's tag is r's candidate,
 * stored as OWNER[candidate] = 1 + r (OWNER set: a relaxed atomic store; a row without one stores nothing) or
 * MATCH[r] = 1 + candidate (0: none). A tag that two ground-truth ids of the partition share is settled here by
 * comparing bytes; any other candidate is verified by join_verify_owners() or join_verify().
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
			if (!jp->owner)
				jp->match[r] = cand;
			else if (cand != 0)
				__atomic_store_n(&jp->owner[cand - 1], r + 1, __ATOMIC_RELAXED);
		}
	}
	free(pt.slot);
	return NULL;
}

/* Passes 1 and 2 on both halves: HALF[h].grouped gets the prediction's keys by partition, PSTART (ID_PARTS + 1)
 * where each partition starts. */
static void group_pred(struct join_part half[2], size_t *pstart)
{
	unsigned part;

	score_par2(join_count, &half[1], join_count, &half[0]);
	/* partition by partition, the first half's keys before the second's: the grouping is deterministic */
	pstart[0] = 0;
	for (part = 0; part < ID_PARTS; part++) {
		size_t c0 = half[0].count[part];

		half[0].count[part] = pstart[part];
		pstart[part + 1] = pstart[part] + c0 + half[1].count[part];
		half[1].count[part] = pstart[part] + c0;
	}
	score_par2(join_group, &half[1], join_group, &half[0]);
}

#define AHEAD 24 /* rows between the prefetch of a candidate's slice and its comparison */

/* Asks for the cache lines of the id at BUF + S, its first and its last: an id read at a random place crosses a
 * line one time in two (a 32-digit id on 42-byte rows), and the second line missed alone cost the verify 12 %. */
static inline void prefetch_id(const char *buf, struct slice s)
{
	__builtin_prefetch(buf + s.off, 0);
	if (s.len > 0)
		__builtin_prefetch(buf + s.off + s.len - 1, 0);
}

/*
 * Pass 4, the ground truth's order: ground-truth rows [tfirst, tlast) each need an owner (join_lookup() with OWNER)
 * whose id is the row's, byte for byte, or CLEAN is cleared. The ground truth is read in order and the prediction
 * at random: one random place a row (the owner's slice, then its bytes) where the prediction's order reads three
 * (the candidate's slice, its bytes, its OWNER word). When each of the rows owned by a prediction row past the
 * prefix matched in place passes, the join is clean: as many prediction rows as ground-truth rows, each storing
 * at most one owner, own them all with their own ids (a repeated or unknown id leaves some row unowned, or owned by
 * another id).
 */
static void *join_verify_owners(void *arg)
{
	struct join_part *jp = arg;
	const struct truth *t = jp->t;
	const struct pred *p = jp->p;
	const uint32_t *owner = jp->owner;
	size_t g;

	for (g = jp->tfirst; g < jp->tlast; g++) {
		uint32_t o;

		if (g + 2 * AHEAD < jp->tlast && owner[g + 2 * AHEAD] != 0)
			__builtin_prefetch(&p->id[owner[g + 2 * AHEAD] - 1], 0);
		if (g + AHEAD < jp->tlast && owner[g + AHEAD] != 0)
			prefetch_id(p->in.data, p->id[owner[g + AHEAD] - 1]);
		o = owner[g];
		if (o == 0 || !slice_eq(t->in.data, t->id[g], p->in.data, p->id[o - 1])) {
			jp->clean = 0;
			break;
		}
	}
	return NULL;
}

/*
 * Pass 4 again, the prediction's order, when join_verify_owners() found the join unclean: rows [first, last) (their
 * MATCH from join_lookup()): a candidate whose id differs from the row's is no match (the id is unknown), which
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
			prefetch_id(t->in.data, t->id[jp->match[r + AHEAD] - 1]);
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

/* The first R ground-truth rows (matched in place) owned by the same rows in OWNER. */
static void own_prefix(uint32_t *owner, size_t r)
{
	size_t i;

	for (i = 0; i < r; i++)
		owner[i] = (uint32_t)(i + 1);
}

/* A zeroed OWNER array of N ground-truth rows, its first R owned (own_prefix()); NULL on no memory. */
static uint32_t *owner_array(size_t n, size_t r)
{
	uint32_t *owner = score_big_array(n, sizeof *owner);

	if (owner)
		own_prefix(owner, r);
	return owner;
}

/*
 * The join (load.h). Rows are first compared in place (files usually follow the sample submission's order); from
 * the first difference on, they are joined by their ids' numbers (numbered ids) or by partitions of their id hashes
 * (the ground truth's were grouped by score_check_unique()), two threads at a time: sequential passes and tables in
 * cache instead of a large table's random accesses. A clean join fills OWNER alone; MATCH is filled (its rows
 * matched again) only when the join is not clean, for score_join_rows() to say which rows are wrong.
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
	size_t tmid;
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
	group_pred(half, pstart);
	half[0].part_first = 0;
	half[0].part_last = half[1].part_first = middle_part(pstart, 1);
	half[1].part_last = ID_PARTS;
	/* OWNER first, verified in the ground truth's order: a clean join needs no MATCH, whose pages are then never
	 * taken */
	*owner = owner_array(t->n, r);
	if (!*owner)
		goto out;
	tmid = r + (t->n - r) / 2;
	for (h = 0; h < 2; h++) {
		half[h].owner = *owner;
		half[h].tfirst = h ? tmid : r;
		half[h].tlast = h ? t->n : tmid;
	}
	score_par2(join_lookup, &half[1], join_lookup, &half[0]);
	if (half[0].nomem || half[1].nomem)
		goto out;
	t->shared_tags = half[0].shared + half[1].shared;
	/* the prediction's keys are done with, unless the join is not clean: the kernel takes their pages, which the
	 * ground truth's file needs */
	score_big_drop(grouped);
	grouped = NULL;
#ifdef MADV_POPULATE_READ
	/* the ground truth's pages, mapped again in one call rather than one fault per 64 KiB read (score.c released
	 * them); a hint: before Linux 5.14 (EINVAL) the faults do it */
	(void)madvise(t->in.data, t->in.len, MADV_POPULATE_READ);
#endif
	if (half[0].clean && half[1].clean) /* as many rows as the ground truth's */
		score_par2(join_verify_owners, &half[1], join_verify_owners, &half[0]);
	*clean = half[0].clean && half[1].clean;
	if (*clean)
		goto bijection;
	/* unknown or repeated ids: the keys again, the lookup into MATCH, each row's candidate verified in row order; the
	 * ground truth's pages go back to the cache meanwhile, as before the first lookup */
	arc_input_release(&t->in);
	grouped = score_big_raw(p->n - r, sizeof *grouped);
	if (!grouped)
		goto out;
	memset(match + r, 0, (p->n - r) * sizeof *match);
	for (h = 0; h < 2; h++) {
		half[h].grouped = grouped;
		half[h].owner = NULL; /* the lookup into MATCH */
		half[h].clean = p->n == t->n;
	}
	group_pred(half, pstart);
	score_par2(join_lookup, &half[1], join_lookup, &half[0]);
	if (half[0].nomem || half[1].nomem)
		goto out;
	/* the keys are done with: the prediction's pages go back to the kernel (the ground truth's file is read again
	 * next), the ground truth's to later arrays */
	score_big_drop(grouped);
	score_big_free(t->grouped);
	grouped = t->grouped = NULL;
	memset(*owner, 0, t->n * sizeof **owner);
	own_prefix(*owner, r);
	half[0].owner = half[1].owner = *owner;
#ifdef MADV_POPULATE_READ
	(void)madvise(t->in.data, t->in.len, MADV_POPULATE_READ); /* as above */
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
