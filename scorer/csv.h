/*
 * csv.h: the RFC 4180 reader every scorer input goes through.
 *
 * Exists so that ground truth and prediction files are tokenised once, in one place, fast and with caps:
 * the reader walks a writable in-memory buffer (an mmap'd file or a decompressed archive entry), hands back
 * fields as slices of that buffer (no per-field allocation), unescapes quoted fields in place, and reports
 * the physical line of every record so validation messages can point at it.
 */
#ifndef CONCOURS_CSV_H
#define CONCOURS_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One field: a slice of the reader's buffer, not NUL-terminated. Valid while the buffer lives. */
struct csv_field {
	char *s;
	size_t len;
};

enum csv_status {
	CSV_OK = 0,            /* a record was read */
	CSV_EOF,               /* no more records */
	CSV_ERR_QUOTE,         /* unterminated quoted field, or garbage after a closing quote */
	CSV_ERR_LINE_TOO_LONG, /* a record is longer than max_record bytes */
	CSV_ERR_NUL,           /* a NUL byte: the file is binary, not CSV */
	CSV_ERR_REWRITE        /* a quoted field with a doubled quote, in a reader that keeps its bytes (keep_bytes) */
};

struct csv_reader {
	char *p;           /* cursor */
	char *end;         /* one past the last byte */
	size_t line;       /* physical line (1-based) where the last record returned starts */
	size_t next_line;  /* physical line where the next record starts */
	size_t max_record; /* cap on one record's length in bytes */
	char *written_lo;  /* [written_lo, written_hi): the bytes unescaping rewrote; both NULL while none */
	char *written_hi;
	/* never rewrite the buffer: a second reader of the same file, whose bytes another reader may read at the same
	 * time, or again after it; a field that would need unescaping is CSV_ERR_REWRITE instead. 0 after init */
	int keep_bytes;
};

/*
 * Prepares R to read BUF[0..LEN). Skips a UTF-8 byte order mark. The buffer must stay alive and writable
 * while fields are used (quoted fields are unescaped in place). MAX_RECORD caps one record's bytes.
 */
void csv_reader_init(struct csv_reader *r, char *buf, size_t len, size_t max_record);

/*
 * Prepares R to read BUF[0..LEN) from a record boundary in the middle of a file whose next record starts on
 * physical line LINE: no byte order mark is looked for. Used by a second reader of the same file.
 */
void csv_reader_at(struct csv_reader *r, char *buf, size_t len, size_t line, size_t max_record);

/*
 * The physical line breaks in S[0..LEN) as csv_next() moves its line count on by them: LF, CRLF and a lone CR each
 * count one, a quoted field's LF and CRLF too; SIZE_MAX if the range holds both a double quote and a lone CR
 * (csv_next() counts none in a quoted field). The count is at least the records that end in the range (a quoted
 * field's line breaks and blank lines end none). S must not start or end between the CR and the LF of a CRLF.
 */
size_t csv_count_breaks(const char *s, size_t len);

/*
 * Reads the next record. Stores up to MAX fields in F and the real number of fields in *NFIELDS (which may
 * exceed MAX: the extra fields are skipped, not stored). Empty lines are skipped. A trailing CR before LF
 * is dropped. Returns CSV_OK, CSV_EOF, or an error status; after an error r->line is the record's line and
 * the reader should not be used again.
 */
enum csv_status csv_next(struct csv_reader *r, struct csv_field *f, int max, int *nfields);

/*
 * The fast path of csv_next() for a record of exactly NF fields (a ground truth's usual row): unquoted, or quoted
 * when the text between the quotes holds no quote, LF, CR or NUL; no NUL or lone CR, ended by LF or CRLF, at most
 * max_record bytes. Stores the NF fields and moves on as csv_next() would; returns 0. Returns -1, R untouched (F
 * may be written), for any other record (a blank line, another field count, a doubled quote, a lone CR, the file's
 * last 16 bytes...): csv_next() reads it, and words its errors.
 */
int csv_next_plain(struct csv_reader *r, struct csv_field *f, int nf);

/*
 * The fast path of csv_next() for a record of an id then NV plain numbers (a prediction file's usual row):
 * a non-empty id, then NV decimals ([+-]digits[.digits][e[+-]digits], at most 19 significant digits) that
 * csv_parse_double() converts without strtod, in [0, 1] when PROBA, then LF, CRLF or the end. The id
 * and each number may be quoted when the text between the quotes holds no quote, LF, CR or NUL. Stores the id, the
 * values (as csv_parse_double() gives them) and moves on, as csv_next() would; returns 0. Returns -1, R untouched,
 * for any other record (a blank line, other quotes, spaces, NaN, a wrong field count...): csv_next() reads it.
 * With MICRO set (V unused), the values go there in millionths instead, and only records whose values are all
 * written 0, 1, 0.ddd... or .ddd... with six digits at most after the dot, at most 1, are taken: the value of each
 * is its millionths over 10^6 (what csv_parse_double() gives, correctly rounded).
 */
int csv_next_numbers(struct csv_reader *r, struct csv_field *id, double *v, uint32_t *micro, int nv, int proba);

/* A static English description of STATUS, for messages. */
const char *csv_status_text(enum csv_status status);

enum csv_num {
	CSV_NUM_OK = 0,
	CSV_NUM_BAD,      /* not a decimal number */
	CSV_NUM_NONFINITE /* NaN, Inf, or a value that overflows a double (1e309) */
};

/*
 * Parses S[0..LEN) as a decimal number ([+-]digits[.digits][e[+-]digits], surrounding spaces allowed) into
 * *OUT, correctly rounded. Rejects hexadecimal, empty fields and anything strtod would half-accept; spells
 * nan/inf/infinity (any case) and overflow as CSV_NUM_NONFINITE.
 */
enum csv_num csv_parse_double(const char *s, size_t len, double *out);

/* True if S[0..LEN) equals the NUL-terminated WORD ignoring ASCII case. */
int csv_field_ieq(const char *s, size_t len, const char *word);

/*
 * Writes a printable, bounded rendering of S[0..LEN) to OUT (size OUTLEN >= 8): valid UTF-8 kept, control
 * and invalid bytes as \xNN, cut with "..." after MAXCHARS characters. Used to echo file content in messages.
 */
void csv_printable(const char *s, size_t len, size_t maxchars, char *out, size_t outlen);

/* How many of the 8 bytes X (little-endian, as loaded: the first byte lowest) are ASCII digits before another
 * byte. A byte's carry reaches only the bytes after it, so the first byte that is not a digit is found right. */
static inline unsigned csv_digit_run(uint64_t x)
{
	const uint64_t high = UINT64_C(0xF0F0F0F0F0F0F0F0);
	const uint64_t zeros = UINT64_C(0x3030303030303030);
	uint64_t other = ((x & high) ^ zeros) | (((x + UINT64_C(0x0606060606060606)) & high) ^ zeros);

	return other ? (unsigned)__builtin_ctzll(other) / 8 : 8;
}

/* The value of the first K digits of X (1 <= K <= 8, csv_digit_run(X) >= K): moved to the top and led by '0's,
 * as eight digits converted with three multiplications instead of K dependent ones. */
static inline uint64_t csv_digits_value(uint64_t x, unsigned k)
{
	const uint64_t zeros = UINT64_C(0x3030303030303030);

	x = k == 8 ? x : (x << (64 - 8 * k)) | (zeros >> (8 * k));
	x -= zeros;
	x = x * 10 + (x >> 8);
	return ((x & UINT64_C(0x000000FF000000FF)) * (100 + (UINT64_C(1000000) << 32)) +
	        ((x >> 16) & UINT64_C(0x000000FF000000FF)) * (1 + (UINT64_C(10000) << 32))) >>
	       32;
}

/* The value of the N ASCII digits S[0..N) (1 <= N <= 8) in *V: returns 1, or 0 when a byte is not a digit. The
 * bytes are gathered into a word (no read past S + N) and converted at once. */
static inline int csv_digits8(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n; i++)
		x |= (uint64_t)(unsigned char)s[i] << (8 * i);
	if (csv_digit_run(x) < n)
		return 0;
	*v = csv_digits_value(x, (unsigned)n);
	return 1;
}

/* The value of the N ASCII digits S[0..N) (1 <= N <= 18: below 10^18) in *V: returns 1, or 0 when a byte is not a
 * digit. Eight digits at a time (csv_digits8()). */
static inline int csv_digits18(const char *s, size_t n, uint64_t *v)
{
	uint64_t lo;
	uint64_t mid;
	uint64_t top;

	if (n <= 8)
		return csv_digits8(s, n, v);
	if (!csv_digits8(s + n - 8, 8, &lo)) /* the last 8 digits, then the 1 to 10 before them */
		return 0;
	if (n <= 16) {
		if (!csv_digits8(s, n - 8, &mid))
			return 0;
	} else if (!csv_digits8(s, n - 16, &top) || !csv_digits8(s + n - 16, 8, &mid)) {
		return 0;
	} else {
		mid += top * 100000000;
	}
	*v = mid * 100000000 + lo;
	return 1;
}

/* Like csv_digits18() for the N digits that end at END, when the 16 bytes before END may be read (they are loaded
 * as two words: no byte gathering). */
static inline int csv_digits18_tail(const char *end, size_t n, uint64_t *v)
{
	uint64_t x;
	uint64_t lo;
	size_t k = n > 8 ? n - 8 : n; /* the digits of the word that holds the first one */

	if (n > 16)
		return csv_digits18(end - n, n, v);
	memcpy(&x, end - (n > 8 ? 16 : 8), sizeof x);
	x >>= 8 * (8 - k); /* the digits to the low bytes, zeros above them */
	if (csv_digit_run(x) < k)
		return 0;
	*v = csv_digits_value(x, (unsigned)k);
	if (n <= 8)
		return 1;
	memcpy(&x, end - 8, sizeof x);
	if (csv_digit_run(x) < 8)
		return 0;
	lo = csv_digits_value(x, 8);
	*v = *v * 100000000 + lo;
	return 1;
}

#endif
