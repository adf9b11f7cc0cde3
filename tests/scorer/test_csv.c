/*
 * test_csv.c: unit tests of the CSV reader, the number parser and the metric table (scorer/csv.h,
 * scorer/metrics.h), the pieces every scoring run stands on.
 */
#include "csv.h"
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                       \
			failures++;                                                                                    \
		}                                                                                                      \
	} while (0)

static int field_eq(const struct csv_field *f, const char *s)
{
	return f->len == strlen(s) && memcmp(f->s, s, f->len) == 0;
}

static void test_records(void)
{
	char buf[] = "\xEF\xBB\xBFid,\"a \"\"q\"\"\",x\r\n"
	             "1,\"multi\nline\",\r\n"
	             "\n"
	             "2,,last";
	struct csv_reader r;
	struct csv_field f[4];
	int n = 0;

	csv_reader_init(&r, buf, sizeof buf - 1, 1000);
	CHECK(csv_next(&r, f, 4, &n) == CSV_OK);
	CHECK(n == 3 && field_eq(&f[0], "id") && field_eq(&f[1], "a \"q\"") && field_eq(&f[2], "x"));
	CHECK(r.line == 1);
	/* only the bytes from the first doubled quote on were rewritten: 'a ' stays, '"q"' moved left */
	CHECK(r.written_lo == buf + 9 && r.written_hi == buf + 12);
	CHECK(csv_next(&r, f, 4, &n) == CSV_OK);
	CHECK(n == 3 && field_eq(&f[1], "multi\nline") && f[2].len == 0);
	CHECK(r.line == 2);
	CHECK(csv_next(&r, f, 4, &n) == CSV_OK);
	CHECK(r.line == 5 && n == 3 && field_eq(&f[0], "2") && f[1].len == 0 && field_eq(&f[2], "last"));
	CHECK(csv_next(&r, f, 4, &n) == CSV_EOF);
	CHECK(r.written_lo == buf + 9 && r.written_hi == buf + 12); /* a quoted field without doubled quotes: none */
}

/* The breaks csv_count_breaks() must count in S[0..LEN): LF, CR and CRLF one each; SIZE_MAX when S holds a double
 * quote and a lone CR. */
static size_t breaks_expected(const char *s, size_t len)
{
	size_t lines = 0;
	int quote = 0;
	int lone_cr = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		quote |= s[i] == '"';
		lone_cr |= s[i] == '\r' && !(i + 1 < len && s[i + 1] == '\n');
		lines += s[i] == '\n' ? !(i > 0 && s[i - 1] == '\r') : s[i] == '\r';
	}
	return quote && lone_cr ? SIZE_MAX : lines;
}

/*
 * The text of K-th random test of test_breaks() into BUF (at most 200 bytes), its length returned: bytes of
 * "ab,\n\r" (with a double quote too for odd K), or for K % 4 == 2 records of fields that may be quoted, with line
 * breaks and doubled quotes inside, ended by LF, CRLF or a blank line.
 */
static size_t breaks_text(int k, unsigned *seed, char *buf)
{
	static const char *const fields[] = {"a", "", "\"q\"", "\"a\nb\"", "\"x\"\"y\"", "\"\"", "\"c\r\nd\"", "bb"};
	static const char *const ends[] = {"\n", "\r\n", "\n\n", ","};
	const char *alphabet = k % 2 ? "ab,\n\r\"" : "ab,\n\r";
	size_t len = 0;

	if (k % 4 == 2) {
		while (len < 180) {
			const char *f;
			const char *e;

			*seed = *seed * 1103515245u + 12345u;
			f = fields[(*seed >> 16) % (sizeof fields / sizeof fields[0])];
			e = ends[(*seed >> 8) % (sizeof ends / sizeof ends[0])];
			len += (size_t)snprintf(buf + len, 200 - len, "%s%s", f, e);
		}
		return len;
	}
	for (len = 0; len < (size_t)(k % 190) + 1; len++) {
		*seed = *seed * 1103515245u + 12345u;
		buf[len] = alphabet[(*seed >> 16) % strlen(alphabet)];
	}
	return len;
}

/*
 * csv_count_breaks() against the reader itself: on random text, quoted fields and quotes included, the count is
 * the breaks as written (SIZE_MAX for a quote and a lone CR), and when the reader reads the text to its end, the
 * lines it moves on by; a second reader started with csv_reader_at() after a line break where the first one stops
 * reads the same records on the same lines as the first.
 */
static void test_breaks(void)
{
	char buf[256];
	unsigned seed = 12345;
	int k;
	int quoted_seen = 0;

	for (k = 0; k < 4000; k++) {
		size_t len = breaks_text(k, &seed, buf);
		size_t i;
		size_t cut = 0;
		size_t count = csv_count_breaks(buf, len);
		struct csv_reader r;
		struct csv_reader r2;
		struct csv_field f[8];
		struct csv_field f2[8];
		enum csv_status st;
		int n = 0;
		int n2 = 0;

		CHECK(count == breaks_expected(buf, len));
		csv_reader_init(&r, buf, len, 1000);
		while ((st = csv_next(&r, f, 8, &n)) == CSV_OK)
			;
		if (st == CSV_EOF && count != SIZE_MAX) {
			CHECK(count == r.next_line - 1);
			quoted_seen += memchr(buf, '"', len) != NULL;
		}
		for (i = len / 2; i < len; i++) { /* a second reader from the first LF on or after the middle */
			if (buf[i] == '\n') {
				cut = i + 1;
				break;
			}
		}
		if (cut == 0 || cut == len || csv_count_breaks(buf, cut) == SIZE_MAX)
			continue;
		csv_reader_init(&r, buf, len, 1000);
		while (r.p < buf + cut && csv_next(&r, f, 8, &n) == CSV_OK)
			;
		if (r.p != buf + cut)
			continue; /* the cut fell inside a quoted field, or a CRLF's skipped blank lines: no second reader */
		csv_reader_at(&r2, buf + cut, len - cut, 1 + csv_count_breaks(buf, cut), 1000);
		for (;;) {
			enum csv_status a = csv_next(&r, f, 8, &n);
			enum csv_status b = csv_next(&r2, f2, 8, &n2);

			CHECK(a == b && n == n2 && (a != CSV_OK || r.line == r2.line));
			if (a != CSV_OK || b != CSV_OK)
				break;
		}
	}
	CHECK(quoted_seen > 500); /* texts with quotes were read to their end and counted */
	/* long texts: the counters go into the totals every 255 blocks of 16 bytes; CRLFs across blocks */
	for (k = 0; k < 6; k++) {
		static char big[20000];
		size_t len = k < 3 ? sizeof big : (size_t)4080 * (size_t)(k - 2) + 1;
		size_t i;

		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			big[i] = (i % 16 == 15 && k % 2) ? '\r' : "ab,\n\r"[(seed >> 16) % 5];
		}
		CHECK(csv_count_breaks(big, len) == breaks_expected(big, len));
		big[len - 1] = '"';
		CHECK(csv_count_breaks(big, len) == breaks_expected(big, len));
		big[len - 1] = 'a';
		big[len / 2] = '"';
		CHECK(csv_count_breaks(big, len) == breaks_expected(big, len));
		for (i = 0; i < len; i++) /* no lone CR left: the quote counts its breaks */
			big[i] = big[i] == '\r' ? 'b' : big[i];
		CHECK(csv_count_breaks(big, len) == breaks_expected(big, len) && breaks_expected(big, len) != SIZE_MAX);
	}
	{ /* every byte a break: each counter byte takes its 255 */
		static char same[9000];

		memset(same, '\n', sizeof same);
		CHECK(csv_count_breaks(same, sizeof same) == sizeof same);
		memset(same, '\r', sizeof same);
		CHECK(csv_count_breaks(same, sizeof same) == sizeof same);
	}
	CHECK(csv_count_breaks("a\r\nb\rc\n", 8) == 3);
	CHECK(csv_count_breaks("aaaaaaaaaaaaaaaaaaaa\"\n", 22) == 1);
	CHECK(csv_count_breaks("aaaaaaaaaaaaaaaaaaaa\"\n\"\r\n", 25) == 2);
	CHECK(csv_count_breaks("aaaaaaaaaaaaaaaaaaaa\"\n\"\r", 24) == SIZE_MAX);
	CHECK(csv_count_breaks("\"", 1) == 0);
	CHECK(csv_count_breaks("\"\r", 2) == SIZE_MAX);
	CHECK(csv_count_breaks("", 0) == 0);
}

/*
 * csv_next_numbers() against csv_next() + csv_parse_double() on random records of ids and numbers in every form
 * (plain, quoted, signs, many digits, exponents, spaces, out of [0, 1], NaN, CR, blank lines, fields too few or
 * too many, no final line break): where the fast path reads a record, the slow one must read the same fields,
 * values to the bit, position and lines; where it declines, the reader must be untouched. In millionths, a
 * record it reads must be read as doubles too, each value being its millionths (score_micro()) and the reader
 * where the doubles' read leaves it.
 */
static void test_numbers_fast(void)
{
	static const char *const num[] = {"0.5",
	                                  "1",
	                                  "0",
	                                  "-0",
	                                  "+0.25",
	                                  "0.000",
	                                  "1.",
	                                  ".5",
	                                  "0.1234567890123",
	                                  "0.12345678901234567",
	                                  "1e-3",
	                                  " 0.5",
	                                  "0.5 ",
	                                  "2",
	                                  "nan",
	                                  "0.999999999999999",
	                                  "1.0000000000000001",
	                                  "00000000000000000000.5",
	                                  "0.0000000000000000000001",
	                                  "0.1234567890123456789",     /* 19 digits: two blocks of 8, then 3 */
	                                  "0.12345678901234567890",    /* 20: the general reader's */
	                                  "0.12345678901234567890123", /* 23, 3 blocks of 8 and more */
	                                  "0.123456789012345678901234567",
	                                  "0.000000001234567812345678", /* leading zeros across a block */
	                                  "0.00000000",
	                                  "0.1234567a9",
	                                  "0.12345678e-3",
	                                  "0.12345678,",
	                                  "123.4567890123456789",
	                                  "",
	                                  "abc",
	                                  "-",
	                                  "0.223230",
	                                  "1.000000",
	                                  "1.000001",
	                                  "0.9999995",
	                                  ".000001",
	                                  "0.",
	                                  "1.5",
	                                  "-0.5",
	                                  "7.785064452804982e-05", /* as Python writes values below 1e-4 */
	                                  "1.2345678901234567E-11",
	                                  "1e+2",
	                                  "1e",
	                                  "1e-",
	                                  "2.5e-0001",
	                                  "2.5e-00001",
	                                  "5e-324",
	                                  "1e-400",
	                                  "0e5",
	                                  "1.5e-3x",
	                                  ".5e-1",
	                                  "\"3.0517578125e-05\"",
	                                  "\"0.5\"", /* quoted, as csv.QUOTE_ALL writes them */
	                                  "\"0.12345678901234567\"",
	                                  "\"0.223230\"",
	                                  "\"1\"",
	                                  "\"1e-3\"",
	                                  "\"\"",
	                                  "\"0.5\"x",
	                                  "\" 0.5\"",
	                                  "\"0.5,1\"",
	                                  "\"0.5\"\"\"",
	                                  "\"0.5\n\"",
	                                  "\"0.5"};
	static const char *const ids[] = {"a",        "id_1", "x\"y",       "",         "\"q\"",  "a b",
	                                  "\"id_1\"", "\"\"", "\"a\"\"b\"", "\"a\nb\"", "\"a\"b", "\"a"};
	static const char *const ends[] = {"\n", "\r\n", "\r", "", "\n\n"};
	char buf[512];
	unsigned seed = 777;
	int k;
	int fast_seen = 0;
	int micro_seen = 0;
	int quoted_seen = 0;
	int exp_seen = 0;

	for (k = 0; k < 20000; k++) {
		struct csv_reader r1;
		struct csv_reader r2;
		struct csv_reader r3;
		struct csv_field id;
		struct csv_field id3;
		uint32_t m[6];
		int micro_rc;
		struct csv_field f[8];
		double v[6];
		size_t len = 0;
		int nv = (int)(k % 3) + 1;
		int fields;
		int proba = k % 2;
		int nf = 0;
		int i;

#define PICK(arr) (seed = seed * 1103515245u + 12345u, (arr)[(seed >> 16) % (sizeof(arr) / sizeof(arr)[0])])
		fields = nv + ((seed >> 8) % 11 == 0 ? ((seed >> 4) % 2 ? 1 : -1) : 0);
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", (seed >> 3) % 7 == 0 ? PICK(ids) : "id_42");
		for (i = 0; i < fields; i++)
			len += (size_t)snprintf(buf + len, sizeof buf - len, ",%s",
			                        (seed >> 5) % 3 == 0 ? PICK(num) : (i % 2 ? "0.223230" : "0.5"));
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", PICK(ends));
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", (seed >> 6) % 2 ? "next,0.5\n" : "");
#undef PICK
		csv_reader_init(&r1, buf, len, 1000);
		r1.next_line = 7;
		r2 = r1;
		r3 = r1;
		micro_rc = csv_next_numbers(&r3, &id3, NULL, m, nv, proba);
		if (micro_rc != 0)
			CHECK(memcmp(&r3, &r2, sizeof r3) == 0);
		if (csv_next_numbers(&r1, &id, v, NULL, nv, proba) != 0) {
			CHECK(micro_rc != 0);
			CHECK(memcmp(&r1, &r2, sizeof r1) == 0);
			continue;
		}
		if (micro_rc == 0) {
			micro_seen++;
			CHECK(memcmp(&r3, &r1, sizeof r3) == 0 && id3.s == id.s && id3.len == id.len);
			for (i = 0; i < nv; i++)
				CHECK(score_micro(v[i]) >= 0 && (uint32_t)score_micro(v[i]) == m[i]);
		}
		fast_seen++;
		quoted_seen += memchr(buf, '"', (size_t)(r1.p - buf)) != NULL;
		exp_seen += memchr(buf, 'e', (size_t)(r1.p - buf)) || memchr(buf, 'E', (size_t)(r1.p - buf));
		CHECK(csv_next(&r2, f, 8, &nf) == CSV_OK && nf == nv + 1);
		CHECK(f[0].s == id.s && f[0].len == id.len);
		for (i = 0; i < nv && i + 1 < nf; i++) {
			double w = -1.0;

			CHECK(csv_parse_double(f[i + 1].s, f[i + 1].len, &w) == CSV_NUM_OK &&
			      memcmp(&w, &v[i], sizeof w) == 0);
			CHECK(!proba || (w >= 0.0 && w <= 1.0));
		}
		CHECK(r1.p == r2.p && r1.line == r2.line && r1.next_line == r2.next_line);
	}
	CHECK(fast_seen > 2000);  /* the plain records did take the fast path */
	CHECK(micro_seen > 1000); /* and most of them in millionths */
	CHECK(quoted_seen > 300); /* quoted ids and numbers too */
	CHECK(exp_seen > 300);    /* and exponents */
	{                         /* a plain record longer than the cap: the fast path declines, csv_next() says why */
		char longrec[] = "an_id_of_forty_bytes_aaaaaaaaaaaaaaaaaa,0.25,0.5,0.125,0.0625,0.03125\n";
		struct csv_reader r;
		struct csv_field id;
		struct csv_field f[8];
		double v[5];
		int nf = 0;

		csv_reader_init(&r, longrec, sizeof longrec - 1, 64);
		CHECK(csv_next_numbers(&r, &id, v, NULL, 5, 1) == -1 && r.p == longrec);
		CHECK(csv_next(&r, f, 8, &nf) == CSV_ERR_LINE_TOO_LONG);
		csv_reader_init(&r, longrec, sizeof longrec - 1, sizeof longrec - 1);
		CHECK(csv_next_numbers(&r, &id, v, NULL, 5, 1) == 0 && v[4] == 0.03125 &&
		      r.p == longrec + sizeof longrec - 1);
	}
}

struct piece {
	const char *s;
	size_t len;
};

#define PIECE(lit)                                                                                                     \
	{                                                                                                              \
		lit, sizeof lit - 1                                                                                    \
	}

static unsigned next_rand(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 16;
}

static void put_piece(char *buf, size_t *len, struct piece p)
{
	memcpy(buf + *len, p.s, p.len);
	*len += p.len;
}

/*
 * csv_next_plain()'s length cap on the record FIRST (3 fields, the first ID, the last Public; its quotes and its CR
 * count), then a plain record: FIRST over the cap by a byte is declined and csv_next() words it; at the cap, it is
 * read; the next record, which ends in the file's last 16 bytes, is csv_next()'s.
 */
static void plain_cap(const char *first, const char *id)
{
	char rec[256];
	size_t len = strlen(first);
	struct csv_reader r;
	struct csv_field f[3];
	int nf = 0;

	snprintf(rec, sizeof rec, "%snext_row_of_a_file,1,Public\n", first);
	csv_reader_init(&r, rec, strlen(rec), len - 1);
	CHECK(csv_next_plain(&r, f, 3) == -1 && r.p == rec);
	CHECK(csv_next(&r, f, 3, &nf) == CSV_ERR_LINE_TOO_LONG);
	csv_reader_init(&r, rec, strlen(rec), len);
	CHECK(csv_next_plain(&r, f, 3) == 0 && r.p == rec + len && field_eq(&f[0], id) && field_eq(&f[1], "1") &&
	      field_eq(&f[2], "Public"));
	CHECK(csv_next_plain(&r, f, 3) == -1 && r.p == rec + len);
	CHECK(csv_next(&r, f, 3, &nf) == CSV_OK && nf == 3 && field_eq(&f[0], "next_row_of_a_file"));
}

/*
 * csv_next_plain() against csv_next() on random records of fields in many forms (empty, long across 16-byte
 * blocks, quoted, a doubled quote, a quote inside, spaces, NUL, CR), line ends (LF, CRLF, CR, none, a blank line
 * after), field counts, and with the file's end near or far: where the fast path reads a record, csv_next() must
 * read the same fields, to the byte, and leave the reader at the same place and lines; where it declines, the
 * reader must be untouched. Then the length cap, quoted fields or not: a record over it is declined (csv_next()
 * words it), one at it is read.
 */
static void test_plain_fast(void)
{
	static const struct piece fld[] = {PIECE("id_000000042"),
	                                   PIECE("1"),
	                                   PIECE("Public"),
	                                   PIECE("Private"),
	                                   PIECE(""),
	                                   PIECE("a b"),
	                                   PIECE("x\"y"),
	                                   PIECE("\"q\""),
	                                   PIECE("\"a,b\""),
	                                   PIECE("a_field_longer_than_one_block_of_16"),
	                                   PIECE("0.5"),
	                                   PIECE("ab\0c"),
	                                   PIECE("z\r"),
	                                   PIECE("abcdefghijklmno"),
	                                   PIECE("abcdefghijklmnop"),
	                                   PIECE("\"id_000000042\""), /* as R's write.csv() writes it */
	                                   PIECE("\"Public\""),
	                                   PIECE("\"\""),
	                                   PIECE("\"a quoted field longer than 16\""),
	                                   PIECE("\"a\"\"b\""),
	                                   PIECE("\"a\nb\""),
	                                   PIECE("\"a\r\nb\""),
	                                   PIECE("\"q\"x"),
	                                   PIECE("\"q\" "),
	                                   PIECE("\"unclosed")};
	static const struct piece ends[] = {PIECE("\n"), PIECE("\n"), PIECE("\n"),  PIECE("\r\n"),
	                                    PIECE("\r"), PIECE(""),   PIECE("\n\n")};
	static const struct piece next = PIECE("next_row_of_a_file,1,Public\n");
	char buf[512];
	unsigned seed = 4242;
	int k;
	int fast_seen = 0;
	int declined = 0;
	int quoted_seen = 0;

	for (k = 0; k < 20000; k++) {
		struct csv_reader r1;
		struct csv_reader r2;
		struct csv_field f1[6];
		struct csv_field f2[6];
		size_t len = 0;
		int want = (int)(k % 4) + 1;
		int fields = want;
		int nf = 0;
		int i;

		if (next_rand(&seed) % 9 == 0)
			fields += next_rand(&seed) % 2 ? 1 : -1;
		for (i = 0; i < fields; i++) {
			if (i > 0)
				buf[len++] = ',';
			if (next_rand(&seed) % 3 == 0)
				put_piece(buf, &len, fld[next_rand(&seed) % (sizeof fld / sizeof fld[0])]);
			else
				put_piece(buf, &len, i % 2 ? fld[1] : fld[0]);
		}
		put_piece(buf, &len, ends[next_rand(&seed) % (sizeof ends / sizeof ends[0])]);
		if (next_rand(&seed) % 4 != 0)
			put_piece(buf, &len, next);
		csv_reader_init(&r1, buf, len, 1000);
		r1.next_line = 7;
		r2 = r1;
		if (csv_next_plain(&r1, f1, want) != 0) {
			CHECK(memcmp(&r1, &r2, sizeof r1) == 0);
			declined++;
			continue;
		}
		fast_seen++;
		quoted_seen += memchr(buf, '"', (size_t)(r1.p - buf)) != NULL;
		CHECK(csv_next(&r2, f2, 6, &nf) == CSV_OK && nf == want);
		for (i = 0; i < want && i < nf; i++)
			CHECK(f1[i].s == f2[i].s && f1[i].len == f2[i].len);
		CHECK(r1.p == r2.p && r1.line == r2.line && r1.next_line == r2.next_line && r1.line == 7);
	}
	CHECK(fast_seen > 5000 && declined > 2000 && quoted_seen > 500);
	plain_cap("an_id_of_some_length_aaaaaaaaaaaaaaaaaaaaaaaaa,1,Public\n",
	          "an_id_of_some_length_aaaaaaaaaaaaaaaaaaaaaaaaa");
	plain_cap("\"an_id_of_some_length_aaaaaaaaaaaaa\",1,\"Public\"\n", "an_id_of_some_length_aaaaaaaaaaaaa");
	plain_cap("an_id_of_some_length_aaaaaaaaaaaaaaaa,1,Public\r\n", "an_id_of_some_length_aaaaaaaaaaaaaaaa");
	plain_cap("\"an_id_of_some_length_aaaaaaaaaaaaa\",1,\"Public\"\r\n", "an_id_of_some_length_aaaaaaaaaaaaa");
}

/* A reader that keeps its bytes (a second reader of a file) reads quoted fields, but stops at one it would have to
 * unescape in place, the buffer left as it was; an ordinary reader then unescapes it. */
static void test_keep_bytes(void)
{
	char rec[] = "\"a\",\"x\"\"y\",1\n";
	char copy[sizeof rec];
	struct csv_reader r;
	struct csv_field f[4];
	int n = 0;

	memcpy(copy, rec, sizeof rec);
	csv_reader_init(&r, rec, sizeof rec - 1, 100);
	r.keep_bytes = 1;
	CHECK(csv_next(&r, f, 4, &n) == CSV_ERR_REWRITE && memcmp(rec, copy, sizeof rec) == 0);
	CHECK(strstr(csv_status_text(CSV_ERR_REWRITE), "doubled quote") != NULL);
	csv_reader_init(&r, rec + 4, sizeof rec - 5, 100); /* "x""y",1: from the second field */
	CHECK(csv_next(&r, f, 4, &n) == CSV_OK && n == 2 && f[0].len == 3 && memcmp(f[0].s, "x\"y", 3) == 0);
	csv_reader_init(&r, rec, 3, 100); /* "a" alone: quoted, nothing to rewrite */
	r.keep_bytes = 1;
	CHECK(csv_next(&r, f, 4, &n) == CSV_OK && n == 1 && f[0].len == 1 && f[0].s[0] == 'a');
}

static void test_errors(void)
{
	char unterminated[] = "a,\"b\n";
	char garbage[] = "a,\"b\"c\n";
	char nul[] = "a,b\0c\n";
	char longline[] = "aaaaaaaaaaaaaaaaaaaa,b\n";
	char many[] = "a,b,c,d,e,f\n";
	struct csv_reader r;
	struct csv_field f[2];
	int n = 0;

	csv_reader_init(&r, unterminated, sizeof unterminated - 1, 1000);
	CHECK(csv_next(&r, f, 2, &n) == CSV_ERR_QUOTE);
	csv_reader_init(&r, garbage, sizeof garbage - 1, 1000);
	CHECK(csv_next(&r, f, 2, &n) == CSV_ERR_QUOTE);
	csv_reader_init(&r, nul, sizeof nul - 1, 1000);
	CHECK(csv_next(&r, f, 2, &n) == CSV_ERR_NUL);
	csv_reader_init(&r, longline, sizeof longline - 1, 10);
	CHECK(csv_next(&r, f, 2, &n) == CSV_ERR_LINE_TOO_LONG);
	csv_reader_init(&r, many, sizeof many - 1, 1000);
	CHECK(csv_next(&r, f, 2, &n) == CSV_OK && n == 6 && field_eq(&f[1], "b"));
	csv_reader_init(&r, many, 0, 1000);
	CHECK(csv_next(&r, f, 2, &n) == CSV_EOF);
}

static void test_numbers(void)
{
	static const struct {
		const char *text;
		enum csv_num want;
		double value;
	} cases[] = {
	        {"0", CSV_NUM_OK, 0.0},
	        {"0.1", CSV_NUM_OK, 0.1},
	        {" 0.25 ", CSV_NUM_OK, 0.25},
	        {"-3.5e2", CSV_NUM_OK, -350.0},
	        {".5", CSV_NUM_OK, 0.5},
	        {"5.", CSV_NUM_OK, 5.0},
	        {"+1E-3", CSV_NUM_OK, 0.001},
	        {"0.8444218515250481", CSV_NUM_OK, 0.8444218515250481},
	        {"0.12345678901234567", CSV_NUM_OK, 0.12345678901234567},
	        {"123456789012345678901234567890", CSV_NUM_OK, 123456789012345678901234567890.0},
	        {"1e-400", CSV_NUM_OK, 0.0},
	        {"4.9e-324", CSV_NUM_OK, 4.9e-324},
	        {"1e309", CSV_NUM_NONFINITE, 0},
	        {"nan", CSV_NUM_NONFINITE, 0},
	        {"-Inf", CSV_NUM_NONFINITE, 0},
	        {"infinity", CSV_NUM_NONFINITE, 0},
	        {"", CSV_NUM_BAD, 0},
	        {"-", CSV_NUM_BAD, 0},
	        {".", CSV_NUM_BAD, 0},
	        {"1e", CSV_NUM_BAD, 0},
	        {"0x10", CSV_NUM_BAD, 0},
	        {"1,5", CSV_NUM_BAD, 0},
	        {"1 2", CSV_NUM_BAD, 0},
	        {"nanx", CSV_NUM_BAD, 0},
	        {"abc", CSV_NUM_BAD, 0},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		double v = -1.0;
		enum csv_num got = csv_parse_double(cases[i].text, strlen(cases[i].text), &v);

		if (got != cases[i].want || (got == CSV_NUM_OK && v != cases[i].value)) {
			fprintf(stderr, "number '%s': got %d %.17g\n", cases[i].text, (int)got, v);
			failures++;
		}
	}
	/* digit runs of every length around the 8-byte steps and the 19 significant digits, with leading zeros in both
	 * parts, agree with strtod */
	for (i = 0; i < 300000; i++) {
		char text[80];
		size_t n = 0;
		unsigned x = (unsigned)i * 2654435761u;
		int lead = (int)(x % 11), intd = (int)((x >> 4) % 23), frac = (int)((x >> 9) % 27), k;
		double v = 0.0;

		if (x & 1u)
			text[n++] = '-';
		for (k = 0; k < lead; k++)
			text[n++] = '0';
		for (k = 0; k < intd; k++)
			text[n++] = (char)('0' + (x >> (k % 27)) % 10);
		if (lead + intd == 0)
			text[n++] = '0';
		if (frac > 0 || (x & 2u)) {
			text[n++] = '.';
			for (k = 0; k < frac; k++)
				text[n++] = (char)('0' + (k < (int)((x >> 14) % 12) ? 0 : (x >> ((k * 3) % 29)) % 10));
		}
		text[n] = '\0';
		if (csv_parse_double(text, n, &v) != CSV_NUM_OK || v != strtod(text, NULL)) {
			fprintf(stderr, "number '%s': got %.17g want %.17g\n", text, v, strtod(text, NULL));
			failures++;
			break;
		}
	}
	/* the fast path agrees with strtod on many generated values */
	for (i = 0; i < 200000; i++) {
		char text[64];
		double want = (double)((i * 2654435761u) % 1000003u) / 1000003.0 * pow(10.0, (double)(i % 13) - 6.0);
		double v = 0.0;

		snprintf(text, sizeof text, "%.*g", (int)(i % 17) + 1, want);
		want = strtod(text, NULL);
		if (csv_parse_double(text, strlen(text), &v) != CSV_NUM_OK || v != want) {
			fprintf(stderr, "number '%s': got %.17g want %.17g\n", text, v, want);
			failures++;
			break;
		}
	}
}

/*
 * 16 to 19 significant digits (what Python's repr and pandas write): the extended-precision path agrees with
 * strtod to the bit, both in csv_parse_double() and in a plain record, including decimals whose first rounding
 * lands exactly halfway between two doubles (found by exact search: they must go to strtod).
 */
static void test_long_numbers(void)
{
	static const struct {
		unsigned long long m;
		int k;
	} halfway[] = {{4852416494747544187ull, 25}, {2521632653295522275ull, 24}, {8840162244218932031ull, 5},
	               {3934324616736663330ull, 6},  {434934373268255913ull, 13},  {2543213055045786999ull, 22}};
	uint64_t x = 0x9E3779B97F4A7C15u;
	size_t declined = 0;
	size_t i;

	for (i = 0; i < 400000 + sizeof halfway / sizeof halfway[0]; i++) {
		char text[64];
		char rec[80];
		double want;
		double v = -1.0;
		double w = -1.0;
		struct csv_reader r;
		struct csv_field id;
		int n;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (i >= 400000) { /* positional form of m x 10^-k */
			unsigned long long m = halfway[i - 400000].m;
			int k = halfway[i - 400000].k;
			char digits[32];
			int nd = snprintf(digits, sizeof digits, "%llu", m);

			if (k >= nd)
				n = snprintf(text, sizeof text, "0.%0*d%s", k - nd, 0, digits);
			else
				n = snprintf(text, sizeof text, "%.*s.%s", nd - k, digits, digits + nd - k);
			if (k - nd == 0 && k >= nd) /* "%0*d" with width 0 still prints one zero */
				n = snprintf(text, sizeof text, "0.%s", digits);
		} else {
			double d =
			        (double)(x >> 11) / 9007199254740992.0 * (i % 3 == 0 ? 1.0 : 1e-3 * (double)(i % 1000));
			int prec = 15 + (int)(i % 3); /* 15, 16, 17 significant digits */

			n = snprintf(text, sizeof text, "%.*g", prec, d);
			if (strchr(text, 'e'))
				continue;
		}
		want = strtod(text, NULL);
		if (csv_parse_double(text, (size_t)n, &v) != CSV_NUM_OK || memcmp(&v, &want, sizeof v) != 0) {
			fprintf(stderr, "long number '%s': got %.17g want %.17g\n", text, v, want);
			failures++;
			break;
		}
		snprintf(rec, sizeof rec, "id,%s\n", text);
		csv_reader_init(&r, rec, strlen(rec), 1000);
		if (want > 1.0)
			continue;
		if (csv_next_numbers(&r, &id, &w, NULL, 1, 1) != 0) {
			declined++; /* only the halfway cases and rare others */
			continue;
		}
		if (memcmp(&w, &want, sizeof w) != 0) {
			fprintf(stderr, "long number '%s' in a plain record: got %.17g want %.17g\n", text, w, want);
			failures++;
			break;
		}
	}
	CHECK(declined == 0); /* from 10^-27 to 10^0, every number of up to 19 digits is read here, halfway cases too */
}

/* The text of M x 10^-K in positional form ("0.000123", "12.5", "7") into TEXT; returns its length. */
static int positional(unsigned long long m, int k, char *text, size_t size)
{
	char digits[32];
	int nd = snprintf(digits, sizeof digits, "%llu", m);

	if (k == 0)
		return snprintf(text, size, "%s", digits);
	if (k >= nd)
		return snprintf(text, size, "0.%.*s%s", k - nd, "000000000000000000000000000000", digits);
	return snprintf(text, size, "%.*s.%s", nd - k, digits, digits + nd - k);
}

/*
 * eisel_lemire() (16 to 19 digits, 10^-64 to 10^0) against strtod, bit for bit: mantissas spread over their whole
 * range and every exponent, written out and with an exponent (as Python writes 5.6e-05), decimals exactly halfway
 * between two doubles, which go to the even one, and, below 10^-27 (where the table's bits are truncated), 19-digit
 * decimals next to the halfway point of two doubles.
 */
static void test_eisel_lemire(void)
{
	static const struct {
		unsigned long long m;
		int k;
	} ties[] = {{9007199254740993ull, 0}, /* halfway cases, then decimals that round up to a power of two */
	            {9007199254740995ull, 0},     {18014398509481986ull, 0},   {18014398509481990ull, 0},
	            {45035996273704965ull, 1},    {45035996273704975ull, 1},   {225179981368524825ull, 2},
	            {1125899906842624125ull, 3},  {5629499534213120625ull, 4}, {9999999999999999999ull, 0},
	            {90071992547409919ull, 1},    {99999999999999999ull, 17},  {9999999999999999999ull, 19},
	            {18446744073709551615ull, 27}};
	uint64_t x = 0x2545F4914F6CDD1Du;
	size_t i;

	for (i = 0; i < 1200000 + sizeof ties / sizeof ties[0]; i++) {
		char text[80];
		unsigned long long m;
		int k;
		int n;
		double v = -1.0;
		double want;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (i < 1000000) {
			m = (unsigned long long)(x % 9999999999999999999ull) + 1;
			m = m >> (x >> 58); /* fewer digits too: a mantissa's top bit anywhere */
			m = m < (1ull << 53) ? m + (1ull << 53) : m;
			k = (int)((x >> 40) % 65);
		} else if (i < 1200000) { /* next to the halfway point of two doubles from 1e-45 to 1e-11 */
			double d = pow(10.0, -11.0 - 34.0 * (double)(x >> 11) / 9007199254740992.0);
			long double mid = ((long double)d + (long double)nextafter(d, 1.0)) / 2;

			n = snprintf(text, sizeof text, "%.18Le", mid);
			goto parse;
		} else {
			m = ties[i - 1200000].m;
			k = ties[i - 1200000].k;
		}
		if (i % 2)
			n = positional(m, k, text, sizeof text);
		else
			n = snprintf(text, sizeof text, "%llue-%d", m, k);
	parse:
		want = strtod(text, NULL);
		if (csv_parse_double(text, (size_t)n, &v) != CSV_NUM_OK || memcmp(&v, &want, sizeof v) != 0) {
			fprintf(stderr, "number '%s': got %.17g want %.17g\n", text, v, want);
			failures++;
			break;
		}
	}
}

/* csv_digits18() and csv_digits18_tail() against strtoull on every length from 1 to 18, and a byte that is not a
 * digit at each place. */
static void test_digits18(void)
{
	uint64_t x = 0x9E3779B97F4A7C15u;
	size_t n;
	size_t i;

	for (n = 1; n <= 18; n++) {
		for (i = 0; i < 2000; i++) {
			char text[24];
			uint64_t v = 0;
			size_t k;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			for (k = 0; k < n; k++)
				text[k] = (char)('0' +
				                 (i < 10 ? (i + k) % 10 : (x >> (3 * k)) % 10)); /* leading zeros too */
			text[n] = '\0';
			char room[40]; /* the tail reader loads the 16 bytes before the end: any bytes, digits too */

			memset(room, i % 2 ? '7' : 'x', sizeof room);
			memcpy(room + sizeof room - n, text, n);
			CHECK(csv_digits18(text, n, &v) == 1 && v == strtoull(text, NULL, 10));
			v = 0;
			CHECK(csv_digits18_tail(room + sizeof room, n, &v) == 1 && v == strtoull(text, NULL, 10));
			text[x % n] = "/:a .-"[i % 6]; /* the bytes next to '0' and '9' too */
			room[sizeof room - n + x % n] = text[x % n];
			CHECK(csv_digits18(text, n, &v) == 0);
			CHECK(csv_digits18_tail(room + sizeof room, n, &v) == 0);
		}
	}
}

static void test_printable(void)
{
	char out[64];

	csv_printable("ab\xff\x01\xe2\x80\xae"
	              "c",
	              8, 40, out, sizeof out);
	CHECK(strcmp(out, "ab\\xff\\x01\\xe2\\x80\\xaec") == 0);
	csv_printable("abcdefghij", 10, 4, out, sizeof out);
	CHECK(strcmp(out, "abcd...") == 0);
	csv_printable("\xc3\xa9t\xc3\xa9", 5, 40, out, sizeof out);
	CHECK(strcmp(out, "\xc3\xa9t\xc3\xa9") == 0);
}

static void test_metric_table(void)
{
	const struct score_metric *m;
	static const char *const names[] = {
	        "accuracy",    "balanced_accuracy",
	        "f1_macro",    "f1_micro",
	        "f1_weighted", "mcc",
	        "cohen_kappa", "quadratic_weighted_kappa",
	        "roc_auc",     "average_precision",
	        "log_loss",    "brier",
	        "rmse",        "mae",
	        "r2",          "mape",
	        "cost_matrix", "c_index",
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		m = score_metric_find(names[i]);
		CHECK(m != NULL && strcmp(m->name, names[i]) == 0 && m->fn != NULL);
	}
	CHECK(score_metric_find("log_loss")->higher_is_better == 0);
	CHECK(score_metric_find("rmse")->higher_is_better == 0);
	CHECK(score_metric_find("r2")->higher_is_better == 1);
	CHECK(score_metric_find("roc_auc")->higher_is_better == 1);
	CHECK(score_metric_find("nope") == NULL);
	CHECK(score_metric_find(NULL) == NULL);
	CHECK(score_metric_find("ROC_AUC") == NULL);
}

static int cmp_keys(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x;
	uint64_t b = *(const uint64_t *)y;

	return (a > b) - (a < b);
}

/* True if score_sort_keys() puts A[0..N) in qsort's order (B and TMP: scratch of N keys). */
static int sorts_as_qsort(uint64_t *a, uint64_t *b, uint64_t *tmp, size_t n)
{
	memcpy(b, a, n * sizeof *a);
	qsort(b, n, sizeof *b, cmp_keys);
	score_sort_keys(a, tmp, n);
	return memcmp(a, b, n * sizeof *a) == 0;
}

#define HIGH_BITS_AT 31 /* score_sort_keys() sorts by the bits from here up first */

/* A key with its high bits and its place, for a stable sort by the high bits: qsort by (HIGH, AT). */
struct ranked {
	uint64_t high;
	size_t at;
	uint64_t key;
};

static int cmp_ranked(const void *x, const void *y)
{
	const struct ranked *a = x;
	const struct ranked *b = y;

	if (a->high != b->high)
		return a->high < b->high ? -1 : 1;
	return (a->at > b->at) - (a->at < b->at);
}

static void test_sort(void)
{
	size_t n = 100000;
	uint64_t *a = malloc(n * sizeof *a);
	uint64_t *tmp = malloc(n * sizeof *tmp);
	size_t i;

	CHECK(a && tmp);
	if (!a || !tmp)
		goto out;
	for (i = 0; i < n; i++)
		a[i] = score_sort_key(((double)((i * 2654435761u) % 99991u) - 50000.0) / 7.0);
	a[0] = score_sort_key(-0.0);
	a[1] = score_sort_key(0.0);
	CHECK(a[0] == a[1]);
	score_sort_keys(a, tmp, n);
	for (i = 1; i < n; i++) {
		if (a[i - 1] > a[i]) {
			failures++;
			fprintf(stderr, "sort: out of order at %zu\n", i);
			break;
		}
	}
	CHECK(score_sort_key(-1.0) < score_sort_key(-0.5) && score_sort_key(-0.5) < score_sort_key(0.0) &&
	      score_sort_key(0.0) < score_sort_key(1e-300) && score_sort_key(1e-300) < score_sort_key(2.0));
	{ /* keys that tie on their high 33 bits, in runs of every size the sort treats apart: the same as qsort */
		uint64_t *b = malloc(n * sizeof *b);
		uint64_t x = 88172645463325252u;

		CHECK(b != NULL);
		for (i = 0; b && i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			a[i] = i < 70000 ? (UINT64_C(0xBFE1234) << 31) | (x & 0x7FFFFFFF) /* one long run */
			       : i < 71000
			               ? ((UINT64_C(0xBFE0000) + (i % 10)) << 31) | (x & 0x7FFFFFFF) /* runs of 100 */
			       : i < 80000 ? ((UINT64_C(0xBF00000) + i) << 31) | (x & 7)             /* runs of one */
			       : i < 90000 ? UINT64_C(0xBFE8000000000000) | ((uint64_t)(i / 7) << 31) |
			                             (x & 3) /* runs of 7 */
			                   : x;
		}
		for (i = n - 1; b && i > 0; i--) { /* shuffled */
			size_t j;
			uint64_t t;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			j = (size_t)(x % (i + 1));
			t = a[i];
			a[i] = a[j];
			a[j] = t;
		}
		if (b)
			CHECK(sorts_as_qsort(a, b, tmp, n));
		free(b);
	}
	{ /* runs that tie on the high bits and come in order but for one key, or equal, or in reverse: only runs
	   * with a descent are sorted, and the whole of each must be */
		static const size_t lens[] = {1, 2, 3, 5, 16, 17, 100, 70000};
		uint64_t *b = malloc(n * sizeof *b);
		size_t m = 0;
		size_t li;
		int shape;

		CHECK(b != NULL);
		for (li = 0; b && li < sizeof lens / sizeof *lens; li++) {
			for (shape = 0; shape < 6; shape++) {
				size_t len = lens[li];
				uint64_t high = UINT64_C(0xBFE0000) +
				                (uint64_t)(100 - li * 6 - (size_t)shape); /* runs in reverse */
				size_t k;

				if (m + len > n)
					break;
				for (k = 0; k < len; k++) {
					uint64_t low =
					        shape == 0   ? 7                               /* equal keys */
					        : shape == 1 ? k + 10                          /* in order */
					        : shape == 2 ? (k + 1 == len ? 1 : k + 10)     /* a small key last */
					        : shape == 3 ? (k == 0 ? len + 100 : k + 10)   /* a large key first */
					        : shape == 4 ? len - k                         /* in reverse */
					                     : (k % 2 ? k + 10 : 3 * len + k); /* descents throughout */
					a[m++] = (high << HIGH_BITS_AT) | low;
				}
			}
		}
		if (b)
			CHECK(sorts_as_qsort(a, b, tmp, m));
		free(b);
	}
	{ /* values over ranges whose keys vary in fewer or more bits (passes of other widths), as qsort sorts them;
	   * and by the high bits only, stable: the order of a stable sort by (high bits, position) */
		static const double range[][2] = {{1e-7, 1.0},   {0.5, 1.0},   {0.25, 0.2500001}, {-1.0, 1.0},
		                                  {0.0, 1e-300}, {1e-12, 1.0}, {3.0, 3.0}};
		uint64_t *b = malloc(n * sizeof *b);
		struct ranked *rk = malloc(n * sizeof *rk);
		uint64_t x = 2463534242u;
		size_t ri;

		CHECK(b && rk);
		for (ri = 0; b && rk && ri < sizeof range / sizeof *range; ri++) {
			for (i = 0; i < n; i++) {
				double u;

				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				u = (double)(x >> 11) / 9007199254740992.0;
				a[i] = score_sort_key(range[ri][0] + (range[ri][1] - range[ri][0]) * u * u);
				rk[i] = (struct ranked){a[i] >> HIGH_BITS_AT, i, a[i]};
			}
			memcpy(b, a, n * sizeof *a);
			score_sort_keys_from(b, tmp, n, HIGH_BITS_AT);
			qsort(rk, n, sizeof *rk, cmp_ranked);
			for (i = 0; i < n && b[i] == rk[i].key; i++)
				;
			CHECK(i == n);
			CHECK(sorts_as_qsort(a, b, tmp, n));
		}
		free(b);
		free(rk);
	}
out:
	free(a);
	free(tmp);
}

int main(void)
{
	test_records();
	test_breaks();
	test_numbers_fast();
	test_plain_fast();
	test_long_numbers();
	test_eisel_lemire();
	test_digits18();
	test_keep_bytes();
	test_errors();
	test_numbers();
	test_printable();
	test_metric_table();
	test_sort();
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	puts("scorer csv/metrics unit tests passed");
	return 0;
}
