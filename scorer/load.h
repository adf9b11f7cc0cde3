/*
 * load.h: the ground truth and the prediction file, read into row-aligned columns and joined (internal to
 * the scorer library; score.c drives it): load.c reads the ground truth, pred.c the prediction file, join.c joins.
 *
 * Exists to keep reading and validating files apart from scoring: everything here turns bytes into columns
 * and problems a participant can act on; nothing here knows how a metric is computed.
 */
#ifndef CONCOURS_LOAD_H
#define CONCOURS_LOAD_H

#include "arc.h"
#include "csv.h"
#include "mem.h" /* GROW_ROWS() */
#include "metrics.h"
#include "score.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_FIELDS (SCORE_MAX_CLASSES + 16)
#define MAX_ID_BYTES 1024
#define MSG_LEN 512

/* Problems of a prediction file: the first SCORE_MAX_PROBLEMS are kept, all are counted. */
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

#define CLASS_SLOTS 4096 /* power of two, > 2 x SCORE_MAX_CLASSES */

struct classes {
	int n;
	char *name[SCORE_MAX_CLASSES];
	size_t len[SCORE_MAX_CLASSES];
	int16_t slot[CLASS_SLOTS]; /* class index + 1, 0 = empty */
};

#define ID_PART_BITS 11 /* ids are joined in 2^11 partitions of their hashes, each small enough for the cache */
#define ID_PARTS (1u << ID_PART_BITS)
#define GSTART_LEN (2 * (ID_PARTS + 1)) /* segment s, partition p: [s * (ID_PARTS + 1) + p] */

struct slice {
	uint32_t off;
	uint32_t len;
};

#define NUM_PREFIX 48 /* bytes at most before the number of numbered ids (struct numbered_ids) */

/* Word w of numbered ids with gaps (struct numbered_ids): which of 64 numbers from BASE + 64 w are ids, and a rank. */
struct rank_word {
	uint64_t bits; /* bit i: BASE + 64 w + i is an id's number */
	uint64_t ones; /* ids whose numbers are below BASE + 64 w: the row of the first bit set */
};

struct truth {
	struct arc_input in;
	size_t n;
	struct csv_field hdr[MAX_FIELDS];
	int ncols;
	int id_col;
	int split_col;          /* -1: none */
	int target[MAX_FIELDS]; /* columns that are neither id nor split */
	int ntarget;
	/* per row: the id's bytes in IN; NULL when the ids are numbered in increasing order (num.on and num.increasing,
	 * with ORDERED): each row's id is then written from its number (join.c: truth_id()) */
	struct slice *id;
	uint64_t *idkey; /* per row: the id's hash, for score_check_unique() */
	uint8_t *split;  /* 0 public, 1 private; NULL without split column */
	int32_t *y;
	double *yv;
	uint8_t *event;
	struct classes *cls;
	uint64_t *grouped;  /* keys (hash, row in the low row_bits bits) grouped by their top ID_PART_BITS bits */
	unsigned row_bits;  /* of the keys in GROUPED */
	size_t *gstart;     /* GSTART_LEN offsets into GROUPED: two halves of the rows, each grouped on its own */
	size_t shared_tags; /* score_match_rows(): prediction rows whose hash tag two ground-truth ids share */
	/* the ids are in increasing order, byte by byte or by (length, bytes) (numbers without leading zeros): each is
	 * distinct, with no check, and their keys are computed and grouped only if a join needs them
	 * (score_group_truth()) */
	int ordered;
	/* num_note(): every id is PREFIX then a decimal number, all written alike (WIDTH digits, zero-padded, or
	 * without leading zeros). Numbers INCREASING from BASE with the row are consecutive (BASE + row), or have GAPS,
	 * a row then being its number's rank in RANK; numbers in any other order, distinct and from BASE to TOP, have a
	 * TABLE of their rows. A prediction id's row follows from its text, with no key (score_match_rows()) */
	struct numbered_ids {
		int on;
		char prefix[NUM_PREFIX]; /* the first id's bytes before its last digits (a copy: the file's pages are
		                            * given back before the join, and reading them again costs a fault) */
		size_t plen;
		uint64_t base; /* the lowest number: the first while they increase */
		uint64_t top;  /* the highest: the last while they increase */
		int increasing;
		unsigned width;
		int fixed;              /* every id has WIDTH digits */
		int natural;            /* no id has a leading zero */
		int gaps;               /* some number is not the one before plus 1: rows are ranks in RANK */
		struct rank_word *rank; /* malloc'd, WORDS of them; NULL without gaps */
		size_t words;
		uint32_t *table; /* score_big_array(): 1 + the row of number BASE + i, or 0; NULL when INCREASING */
	} num;
};

#define NO_LABEL UINT32_MAX /* label slice of a row that was already reported malformed */

/* One reader's share of the prediction file's rows (pred.c: the reader thread's, and a helper's). */
struct pred_rows {
	struct csv_reader rd;
	struct csv_field *f; /* the fields of one record */
	size_t row0;         /* row index, in the shared row arrays, of this share's first row */
	size_t n;            /* rows read */
	size_t cap;          /* row index this share may not reach (the arrays' capacity, or the helper's bound) */
	size_t line0;        /* physical line of the first row */
	uint32_t *line;      /* line of row row0 + i; NULL while every row i is on line0 + i */
	struct problems *probs;
	int helper;       /* never grows the arrays: stops (full = 1) at cap or the row limit instead */
	int full;         /* a helper's share that stopped short: its rows are not used */
	int at_split;     /* the reader's share stopped at the helper's first byte */
	int micro_on;     /* values still go to the pred's MICRO */
	size_t micro_end; /* once MICRO_ON is 0: the row from which they went to P instead */
};

struct pred {
	struct arc_input in;
	size_t n;
	struct csv_field hdr[MAX_FIELDS];
	int ncols;
	int label_mode; /* one label column: values kept as slices */
	struct slice *id;
	uint32_t *line; /* physical line of each row; NULL while every row i is on line0 + i */
	size_t line0;
	double *p; /* n x (ncols - 1), file column order; NULL when BEST or MICRO holds the rows instead */
	/* a PROBA metric's values in millionths (score_data.micro), half the memory of P, while every value read is a
	 * decimal of six places at most; a share that meets another value goes on in P (score_finish_pred() then
	 * turns the millionths into doubles too), and one of MICRO and P is dropped once the file is read */
	uint32_t *micro;
	/* a label metric's rows of one column per class: the column of each row's highest value (the leftmost of
	 * ties), all the metric reads of them, instead of the values (a tenth of the memory with five classes) */
	int32_t *best;
	struct slice *label;
	struct problems probs;
	enum score_status st; /* SCORE_OK, or an error with msg */
	char msg[MSG_LEN];
	/* reading in two shares (score_help_pred()); the reader's share writes n, line, line0 and probs above */
	struct pred_rows a;    /* the reader thread's share, kept to go on after a helper that stopped */
	char (*colname)[64];   /* the header's names as shown in messages */
	atomic_int help_asked; /* helper -> reader: say where you are */
	atomic_int snap_state; /* reader -> helper: 0 nothing yet, 1 snapshot below, 2 reader done */
	const char *snap_p;    /* the snapshot: a record boundary, rows before it and line there */
	size_t snap_row;
	size_t snap_line;
	size_t snap_cap;
	atomic_size_t split_at;    /* helper -> reader: 0 undecided, SPLIT_NONE, or the helper's first byte */
	atomic_int split_rejected; /* reader -> helper: it was already past split_at, or is done */
	atomic_int split_taken;    /* reader -> helper: it was not past split_at when it learnt of it: rows may go in */
	atomic_int helper_done;    /* the helper writes no more rows */
	struct pred_rows *b;       /* the helper's share (rows from row b->row0) */
	int split_test;            /* CONCOURS_SCORE_SPLIT_TEST: the helper takes any file, however small */
};

#define SPLIT_NONE SIZE_MAX

struct job {
	const struct score_request *req;
	const struct score_metric *m;
	struct truth t;
	struct pred p;
	enum score_status truth_st;
	char truth_msg[MSG_LEN];
	atomic_int pred_started; /* the prediction file's thread runs (beside the ground truth's) */
	atomic_int pred_done;    /* the prediction file's thread is done */
	int unique_done;         /* the ground truth's thread checked its ids (score_check_unique) */
	double *cost;            /* cost_matrix in params order, k x k */
	char **cost_label;
	int cost_k;
};

/* Adds B's problems to A's, both in line order, keeping line order among the kept ones. */
void score_problems_merge(struct problems *a, const struct problems *b);

/* Adds B's problems after A's. */
void score_problems_append(struct problems *a, const struct problems *b);

/* Index of the class named S[0..LEN) in C, or -1. */
int score_classes_find(const struct classes *c, const char *s, size_t len);

/* Frees C and its names. Accepts NULL. */
void score_classes_free(struct classes *c);

/* True if S[0..LEN) is a number equal to 1. */
int score_is_one(const char *s, size_t len);

/*
 * Reads j->req's ground truth into j->t, the columns j->m needs (classes sorted as sklearn sorts them), with
 * id hashes for score_check_unique(). Returns SCORE_OK, or an error status with j->truth_msg set (a problem
 * of the ground truth is a configuration error). What it allocates is freed with the job.
 */
enum score_status score_load_truth(struct job *j);

/*
 * Gives back T's keys once no join needs them: to the allocator's cache when they were computed (their pages,
 * warm, serve the next array), to the kernel when not (a block never touched would be taken for one that was).
 */
void score_truth_drop_keys(struct truth *t);

/* Frees what score_load_truth() allocated in T (its fields are left dangling). */
void score_truth_free(struct truth *t);

/*
 * Checks that T's ids are distinct (consumes t->idkey, leaves t->grouped and t->gstart for
 * score_match_rows()), on THREADS (1 or 2) threads. SCORE_CONFIG with MSG naming a repeated id. Ids in order
 * (t->ordered) are distinct: nothing to do, t->idkey is left for score_match_rows() to group.
 */
enum score_status score_check_unique(struct truth *t, int threads, char *msg);

/*
 * Reads j->req's prediction file into j->p without looking at the ground truth (so both can be read at
 * once): header, ids, values, problems of form and of value in j->p.probs. Sets j->p.st: SCORE_OK when the
 * file could be read (it may still have problems), SCORE_INVALID when it could not (problems say why), or
 * SCORE_INTERNAL with j->p.msg.
 */
void score_load_pred(struct job *j);

/*
 * Called by another thread while score_load_pred() runs (the ground truth's, once its own work is done):
 * takes the second half of what the reader has left, when that is worth it, into j->p.b. Rows land where
 * score_finish_pred() expects them; the result is the same as one reader's, problems and lines included.
 */
void score_help_pred(struct job *j);

/*
 * After score_load_pred() and score_help_pred() both returned: joins the helper's rows to the reader's, or
 * reads the rest of the file when the helper stopped short. Sets j->p.st as score_load_pred() says.
 */
void score_finish_pred(struct job *j);

/*
 * Checks the prediction header against the ground truth; problems go to HP. Fills COLMAP (class -> value
 * column, 0-based after the id) when the file has one column per class, and *PER_CLASS.
 */
void score_check_header(struct job *j, struct problems *hp, int *colmap, int *per_class);

/*
 * Before score_match_rows(), with T's file mapped: the keys of ids in order (t->ordered), which
 * score_check_unique() did not need, computed and grouped on THREADS (1 or 2) threads. Nothing to do for other
 * ids. Returns 0, or -1 on no memory.
 */
int score_group_truth(struct truth *t, int threads);

/*
 * A guess, from the first row of the prediction file at PATH (read on its own, so while another thread reads
 * the file), that its rows follow T's: its first id is T's. Only speed depends on it (score_group_truth() early
 * or late); compressed files and quoted ids guess no.
 */
int score_pred_looks_aligned(const struct truth *t, const char *path);

/* True if the prediction file lists exactly the ground truth's ids in the same order (the usual case). */
int score_same_ids(const struct truth *t, const struct pred *p);

/*
 * Joins the prediction's rows to the ground truth's. Uses (and frees) t->grouped. *OWNER gets an array of t->n (the
 * caller frees it with score_big_free()): when every ground-truth row was matched by exactly one prediction row
 * (*CLEAN = 1), OWNER[row] = 1 + that row, and MATCH (P->n words) is left unspecified; else OWNER is zeroed and
 * MATCH[r] = 1 + the ground-truth row holding prediction row r's id, or 0. Returns 0, or -1 on no memory.
 */
int score_match_rows(struct truth *t, const struct pred *p, uint32_t *match, uint32_t **owner, int *clean);

/*
 * Joins prediction rows to ground-truth rows (MATCH from score_match_rows(); MATCH and OWNER are NULL when
 * score_same_ids() held). OWNER[t] gets 1 + the prediction row of truth row t (0: none), YHAT_PRED (label
 * column) the class of each prediction row. *IDENTITY says whether row i matched row i throughout. Row
 * problems go to RP (in line order); missing ids, counted as one problem, to MP.
 */
void score_join_rows(struct job *j, const uint32_t *match, uint32_t *owner, int32_t *yhat_pred, int *identity,
                     struct problems *rp, struct problems *mp);

/* ---- shared by load.c (the ground truth), join.c (the join) and pred.c (the prediction file) ---- */

/* Adds a problem (CODE, LINE, COLUMN, the message FMT) to PS: the first SCORE_MAX_PROBLEMS are kept, all counted. */
void score_problem_add(struct problems *ps, const char *code, size_t line, const char *column, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

/* "0, 1, 2" (C's class names, bounded by OUTLEN), for messages. */
void score_classes_list(const struct classes *c, char *out, size_t outlen);

/* S[0..LEN), a field of a file, as shown in a message: printable, at most 60 characters, into OUT. */
void score_shown_field(const char *s, size_t len, char *out, size_t outlen);

/* True when header field F is NAME, byte for byte. */
int score_field_is(const struct csv_field *f, const char *name);

/* The first capacity of the row arrays of S[0..LEN), a file of NCOLS columns: a guess from its first lines, capped by
 * MAX_ROWS + 1 (load.c says how it guesses). */
size_t score_first_capacity(const char *s, size_t len, int ncols, size_t max_rows);

/* The next capacity after CAP rows, or 0 when CAP already reaches the row limit. */
size_t score_next_capacity(size_t cap, size_t max_rows);

/* Grows the row array ARR (NULL: an unused column, left alone) to N rows, or jumps to FAIL. */
#define GROW_ROWS(arr, n, per_row, fail)                                                                               \
	do {                                                                                                           \
		if (arr) {                                                                                             \
			void *grown_ = score_big_grow((arr), (n), (per_row));                                          \
			if (!grown_)                                                                                   \
				goto fail;                                                                             \
			(arr) = grown_;                                                                                \
		}                                                                                                      \
	} while (0)

/* Opens the file at PATH (a CSV, or an archive holding one) into IN within LIM: SCORE_OK; with MSG set, SCORE_INTERNAL
 * when memory is short, and for a file refused (unreadable, too large, another format) SCORE_INVALID when it is the
 * prediction file (IS_PRED), SCORE_CONFIG when it is the ground truth. */
enum score_status score_load_input(const char *path, const struct score_limits *lim, struct arc_input *in, char *msg,
                                   size_t msglen, int is_pred);

/* Tells IN which of its bytes RD rewrote, so that arc_input_release() keeps their pages; with the range of an
 * earlier reader of the same file (the prediction file's helper), the range covering both. */
void score_note_written(struct arc_input *in, const struct csv_reader *rd);

/* T's keys (hashes of the ids, ids.h) of rows [FROM, TO) into t->idkey, from T's mapped file; returns TO. */
size_t score_hash_ids(struct truth *t, size_t from, size_t to);

/* The physical line of prediction row R (for messages). */
unsigned score_pred_line(const struct pred *p, size_t r);

#endif
