/*
 * arc.c: reads a scorer input (plain CSV, gzip, zip, tar, tar.gz) into memory under caps.
 *
 * The format comes from magic bytes, never from the file name; libarchive is then configured for that one
 * format only, so a rar, 7z, cpio or iso renamed .zip is refused before any parser of it runs. Every byte
 * decompressed is counted against the cap, whatever sizes the archive declares.
 *
 * libarchive is loaded (dlopen) at the first archive only: with the libraries it needs (ICU, libxml2,
 * libstdc++ among them) it costs every run 3.5 MiB resident at start, and most inputs are plain CSV.
 */
#include "arc.h"
#include "csv.h"
#include "mem.h"

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum form { FORM_CSV, FORM_GZIP, FORM_ZIP, FORM_TAR };

/* Debian 12's libarchive (package libarchive13), the one the build's headers describe */
#define LIBARCHIVE_SONAME "libarchive.so.13"
#define BIG_PAGE ((size_t)2 << 20)
#define RECACHE_MIN ((size_t)32 << 20) /* from this size, a file cached in small pages may be cached again */
#define PROBE ((size_t)4 << 20)        /* each of recache()'s two windows */
#define RECACHE_RATIO 1.5              /* the most reading a window again may cost, times reading it as cached */
#define CHEAP_PAGE 0.5e-6 /* s: a cached page read for less than this (2 MiB pages, bare metal) is left so */

/* The libarchive functions this file calls, once la_ready() returned 1. */
static struct {
	struct archive *(*read_new)(void);
	int (*support_filter_gzip)(struct archive *);
	int (*support_format_raw)(struct archive *);
	int (*support_format_tar)(struct archive *);
	int (*support_format_zip)(struct archive *);
	int (*open_memory)(struct archive *, const void *, size_t);
	int (*next_header)(struct archive *, struct archive_entry **);
	la_ssize_t (*read_data)(struct archive *, void *, size_t);
	int (*read_free)(struct archive *);
	const char *(*error_string)(struct archive *);
	int (*format)(struct archive *);
	const char *(*pathname)(struct archive_entry *);
	const char *(*hardlink)(struct archive_entry *);
	const char *(*symlink)(struct archive_entry *);
	mode_t (*filetype)(struct archive_entry *);
} la;
static pthread_once_t la_once = PTHREAD_ONCE_INIT;
static int la_loaded;
static char la_why[200];

_Static_assert(sizeof la.read_new == sizeof(void *), "a function pointer is the size of dlsym's result");

/* Sets *FN (one of la's function pointers) to the symbol NAME of H; 0 when found. */
static int la_sym(void *h, const char *name, void *fn)
{
	void *sym = dlsym(h, name);

	if (!sym)
		return -1;
	memcpy(fn, &sym, sizeof sym); /* POSIX: a dlsym result converts to the function pointer it names */
	return 0;
}

#define LA_SYM(h, field, name) la_sym(h, name, &la.field)

/* libarchive's message for A's last error, or DFLT when it has none. */
static const char *la_error(struct archive *a, const char *dflt)
{
	const char *why = la.error_string(a);

	return why ? why : dflt;
}

static void la_load(void)
{
	void *h = dlopen(LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		const char *why = dlerror();

		snprintf(la_why, sizeof la_why, "%s", why ? why : LIBARCHIVE_SONAME " cannot be loaded");
		return;
	}
	if (LA_SYM(h, read_new, "archive_read_new") ||
	    LA_SYM(h, support_filter_gzip, "archive_read_support_filter_gzip") ||
	    LA_SYM(h, support_format_raw, "archive_read_support_format_raw") ||
	    LA_SYM(h, support_format_tar, "archive_read_support_format_tar") ||
	    LA_SYM(h, support_format_zip, "archive_read_support_format_zip") ||
	    LA_SYM(h, open_memory, "archive_read_open_memory") || LA_SYM(h, next_header, "archive_read_next_header") ||
	    LA_SYM(h, read_data, "archive_read_data") || LA_SYM(h, read_free, "archive_read_free") ||
	    LA_SYM(h, error_string, "archive_error_string") || LA_SYM(h, format, "archive_format") ||
	    LA_SYM(h, pathname, "archive_entry_pathname") || LA_SYM(h, hardlink, "archive_entry_hardlink") ||
	    LA_SYM(h, symlink, "archive_entry_symlink") || LA_SYM(h, filetype, "archive_entry_filetype")) {
		snprintf(la_why, sizeof la_why, "%s lacks a function this scorer calls", LIBARCHIVE_SONAME);
		return; /* the handle stays: dlclose would only race the other thread's la_ready() */
	}
	la_loaded = 1;
}

/* 1 once libarchive is loaded (thread-safe; loaded at the first call), else 0 with the reason in la_why. */
static int la_ready(void)
{
	pthread_once(&la_once, la_load);
	return la_loaded;
}

/* Names the formats refused on sight, so the message can say what the file really is. */
static const char *foreign_format(const unsigned char *b, size_t n)
{
	static const struct {
		size_t off;
		const char *magic;
		size_t len;
		const char *name;
	} sigs[] = {
	        {0, "Rar!\x1a\x07", 6, "RAR"},
	        {0, "7z\xbc\xaf\x27\x1c", 6, "7z"},
	        {0, "070707", 6, "cpio"},
	        {0, "070701", 6, "cpio"},
	        {0, "070702", 6, "cpio"},
	        {0, "\xc7\x71", 2, "cpio"},
	        {0, "\x71\xc7", 2, "cpio"},
	        {0,
	         "\xfd"
	         "7zXZ\x00",
	         6, "xz"},
	        {0, "BZh", 3, "bzip2"},
	        {0, "\x28\xb5\x2f\xfd", 4, "zstd"},
	        {0, "\x04\x22\x4d\x18", 4, "lz4"},
	        {0, "LZIP", 4, "lzip"},
	        {0, "\x1f\x9d", 2, "compress (.Z)"},
	        {0, "MSCF", 4, "cab"},
	        {0, "xar!", 4, "xar"},
	        {0, "!<arch>\n", 8, "ar"},
	        {0, "\x60\xea", 2, "arj"},
	        {0, "%PDF", 4, "PDF"},
	        {0, "\xd0\xcf\x11\xe0", 4, "OLE (old Excel)"},
	        {0x8001, "CD001", 5, "ISO 9660"},
	        {2, "-lh", 3, "LHA"},
	};
	size_t i;

	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		if (n >= sigs[i].off + sigs[i].len && memcmp(b + sigs[i].off, sigs[i].magic, sigs[i].len) == 0)
			return sigs[i].name;
	}
	return NULL;
}

static enum form sniff(const unsigned char *b, size_t n)
{
	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return FORM_GZIP;
	if (n >= 4 && b[0] == 'P' && b[1] == 'K' &&
	    ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6) || (b[2] == 7 && b[3] == 8)))
		return FORM_ZIP;
	if (n >= 262 && memcmp(b + 257, "ustar", 5) == 0)
		return FORM_TAR;
	return FORM_CSV;
}

/* An entry name is safe if it is relative, has no "..", no backslash, no drive, and is valid UTF-8. */
static int safe_name(const char *name, char *why, size_t whylen)
{
	size_t len = strlen(name);
	const char *seg = name;
	size_t i;

	if (len == 0 || len > 255) {
		snprintf(why, whylen, "an entry name is %s", len == 0 ? "empty" : "longer than 255 bytes");
		return 0;
	}
	if (name[0] == '/' || (len >= 2 && name[1] == ':')) {
		snprintf(why, whylen, "entry names must be relative paths");
		return 0;
	}
	for (i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '\\') {
			snprintf(why, whylen, "entry names must not contain backslashes");
			return 0;
		}
		if (c != 0 && c < 0x20) {
			snprintf(why, whylen, "entry names must not contain control characters");
			return 0;
		}
		if (c == '/' || c == 0) {
			if (name + i - seg == 2 && seg[0] == '.' && seg[1] == '.') {
				snprintf(why, whylen, "entry names must not contain '..'");
				return 0;
			}
			seg = name + i + 1;
		}
	}
	{
		char shown[1200];

		csv_printable(name, len, 256, shown, sizeof shown);
		if (strcmp(shown, name) != 0) {
			snprintf(why, whylen, "entry names must be printable UTF-8");
			return 0;
		}
	}
	return 1;
}

/* Files that archivers add beside the real content: skipped (after the same safety checks). */
static int noise_entry(const char *name)
{
	const char *base = strrchr(name, '/');

	base = base ? base + 1 : name;
	return strncmp(name, "__MACOSX/", 9) == 0 || strncmp(base, "._", 2) == 0 || strcmp(base, ".DS_Store") == 0;
}

/*
 * Reads the current entry's data into *BUF (a new malloc'd buffer the caller frees, grown as needed; *LEN
 * bytes), counting every byte actually decompressed against *BUDGET (what is left of LIMIT for the whole
 * archive). KEEP == 0 reads and discards. Returns 0, or -1 with MSG set, -2 on out of memory.
 */
static int read_entry(struct archive *a, int keep, char **buf, size_t *len, uint64_t *budget, char *msg, size_t msglen,
                      uint64_t limit)
{
	size_t cap_buf = keep ? (size_t)1 << 20 : 0;
	char scratch[65536];

	*len = 0;
	if (keep) {
		*buf = malloc(cap_buf);
		if (!*buf)
			return -2;
	}
	for (;;) {
		char *dst = scratch;
		size_t room = sizeof scratch;
		la_ssize_t got;

		if (keep) {
			if (*len == cap_buf) {
				/* double, up to one byte past the limit (reading that byte is the overflow check) */
				size_t ncap = cap_buf * 2 < limit + 1 ? cap_buf * 2 : (size_t)limit + 1;
				char *nb;

				if (ncap <= cap_buf)
					ncap = cap_buf + 1;
				nb = realloc(*buf, ncap);
				if (!nb)
					return -2;
				*buf = nb;
				cap_buf = ncap;
			}
			dst = *buf + *len;
			room = cap_buf - *len;
		}
		if ((uint64_t)room > *budget + 1)
			room = (size_t)(*budget + 1);
		got = la.read_data(a, dst, room);
		if (got < 0) {
			snprintf(msg, msglen, "the archive is damaged or encrypted: %s", la_error(a, "read error"));
			return -1;
		}
		if (got == 0)
			return 0;
		if ((uint64_t)got > *budget) {
			snprintf(msg, msglen, "the file is larger than %llu bytes once decompressed",
			         (unsigned long long)limit);
			return -1;
		}
		*budget -= (uint64_t)got;
		if (keep)
			*len += (size_t)got;
	}
}

static enum arc_status load_archive(const unsigned char *bytes, size_t n, enum form form, const struct arc_limits *lim,
                                    struct arc_input *in, char *msg, size_t msglen)
{
	struct archive *a = NULL;
	struct archive_entry *ent = NULL;
	enum arc_status st = ARC_ERR_REJECTED;
	uint64_t budget = lim->max_bytes;
	uint64_t limit = lim->max_bytes;
	unsigned entries = 0;
	int files = 0;
	const char *office = NULL; /* what a spreadsheet zip turned out to be, when it is one */
	int r;

	/* a bomb is stopped by its ratio before it costs seconds or memory: real CSV compresses 3 to 20 times */
	if (lim->max_ratio > 0 && (uint64_t)n * lim->max_ratio + (UINT64_C(1) << 20) < budget)
		budget = limit = (uint64_t)n * lim->max_ratio + (UINT64_C(1) << 20);
	if (!la_ready()) {
		snprintf(msg, msglen, "internal error: archives cannot be read here: %s", la_why);
		st = ARC_ERR_OPEN;
		goto out;
	}
	a = la.read_new();
	if (!a) {
		st = ARC_ERR_NOMEM;
		goto out;
	}
	if (form == FORM_GZIP) {
		r = la.support_filter_gzip(a);
		if (r == ARCHIVE_OK)
			r = la.support_format_tar(a);
		if (r == ARCHIVE_OK)
			r = la.support_format_raw(a);
	} else if (form == FORM_ZIP) {
		r = la.support_format_zip(a);
	} else {
		r = la.support_format_tar(a);
	}
	if (r != ARCHIVE_OK) {
		snprintf(msg, msglen, "internal error: libarchive setup failed");
		st = ARC_ERR_OPEN;
		goto out;
	}
	if (la.open_memory(a, bytes, n) != ARCHIVE_OK) {
		snprintf(msg, msglen, "the file is not a readable %s archive: %s",
		         form == FORM_GZIP  ? "gzip"
		         : form == FORM_ZIP ? "zip"
		                            : "tar",
		         la_error(a, "unknown error"));
		goto out;
	}
	for (;;) {
		const char *name;
		char why[128];
		int keep;
		int rr;
		char *buf = NULL;
		size_t blen = 0;

		r = la.next_header(a, &ent);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			snprintf(msg, msglen, "the archive is damaged: %s", la_error(a, "bad header"));
			goto out;
		}
		if (++entries > lim->max_entries) {
			snprintf(msg, msglen, "the archive has more than %u entries; it must hold exactly one CSV file",
			         lim->max_entries);
			goto out;
		}
		name = la.pathname(ent);
		if (!name) {
			snprintf(msg, msglen, "an archive entry has no readable name");
			goto out;
		}
		if (!safe_name(name, why, sizeof why)) {
			snprintf(msg, msglen, "unsafe archive entry: %s", why);
			goto out;
		}
		if (la.hardlink(ent) || la.symlink(ent)) {
			snprintf(msg, msglen, "archive entry '%.100s' is a link; only regular files are accepted",
			         name);
			goto out;
		}
		if (la.filetype(ent) == AE_IFDIR)
			continue;
		if (la.filetype(ent) != AE_IFREG) {
			snprintf(msg, msglen, "archive entry '%.100s' is not a regular file (device, FIFO or socket)",
			         name);
			goto out;
		}
		keep = !noise_entry(name);
		/* a spreadsheet is a zip too: say what it is rather than that it holds several files */
		if (strcmp(name, "[Content_Types].xml") == 0 || strncmp(name, "xl/", 3) == 0)
			office = "an Excel workbook (.xlsx)";
		else if (strcmp(name, "mimetype") == 0 && office == NULL)
			office = "an OpenDocument file (.ods)";
		if (keep && ++files > 1) {
			if (office != NULL)
				snprintf(msg, msglen,
				         "this is %s, not a CSV file: open it and save the sheet as CSV (UTF-8, comma "
				         "separated), then upload that file",
				         office);
			else
				snprintf(msg, msglen,
				         "the archive holds more than one file; it must hold exactly one CSV file");
			goto out;
		}
		rr = read_entry(a, keep, &buf, &blen, &budget, msg, msglen, limit);
		if (rr != 0) {
			free(buf);
			st = rr == -2 ? ARC_ERR_NOMEM : ARC_ERR_REJECTED;
			goto out;
		}
		if (keep) {
			in->data = buf;
			in->len = blen;
			csv_printable(name, strlen(name), 120, in->entry, sizeof in->entry);
			if (form == FORM_GZIP)
				snprintf(in->format, sizeof in->format, "%s",
				         la.format(a) == ARCHIVE_FORMAT_RAW ? "gzip" : "tar.gz");
		}
	}
	if (files == 0) {
		snprintf(msg, msglen, "the archive holds no file; it must hold exactly one CSV file");
		goto out;
	}
	st = ARC_OK;
out:
	if (a)
		la.read_free(a);
	return st;
}

/* Reads one byte of every 4 KiB page of [P, P + LEN), which maps them all; returns the wall time it took (s). */
static double touch_pages(const volatile char *p, size_t len)
{
	struct timespec a;
	struct timespec b;
	char sink = 0;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < len; i += 4096)
		sink ^= p[i];
	clock_gettime(CLOCK_MONOTONIC, &b);
	(void)sink;
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
}

/* Whether every page of [P, P + LEN) (P page-aligned, LEN at most PROBE) is in the page cache. */
static int cached(void *p, size_t len)
{
	unsigned char vec[PROBE / 4096];
	size_t i;

	if (len > PROBE || mincore(p, len, vec) != 0)
		return 0;
	for (i = 0; i < (len + 4095) / 4096; i++) {
		if (!(vec[i] & 1))
			return 0;
	}
	return 1;
}

/* With CONCOURS_SCORE_TIMING set, prints recache()'s decision about PATH (escaped: a path may hold any byte), worded
 * by FMT: a timing line, not a message (not formatted by snprintf(), whose formats in this file are the messages
 * tests/i18n translates). */
static void recache_say(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void recache_say(const char *path, const char *fmt, ...)
{
	char shown[512];
	char what[256];
	va_list ap;

	if (!getenv("CONCOURS_SCORE_TIMING"))
		return;
	csv_printable(path, strlen(path), 200, shown, sizeof shown);
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	fprintf(stderr, "timing: %s %s\n", shown, what);
}

/*
 * Whether the page cache holds the file FD (PATH, for a timing line), of RECACHE_MIN bytes or more and mapped at IN
 * asking for huge pages, in small pages that the disk reads again fast enough: then the caller drops them once the
 * file is done with (drop_cache()), and the next run reads it into 2 MiB pages. Through a mapping, a file cached in
 * 4 KiB pages costs a fault per page, each run (about 2 us each on the reference VM: 0.3 s for 580 MB); read from the
 * disk through a mapping asking for huge pages (arc_load()), it is cached in 2 MiB pages, one fault each, and stays
 * so (docs/scorer.md). This run reads it as cached: dropping it first would add the disk's read to it.
 * Measured on two windows of the file: B read as cached, then, unless that cost less than CHEAP_PAGE a page (a file
 * held in 2 MiB pages already, or a machine whose faults are cheap), A dropped and read again. The answer is 1 when
 * A cost at most RECACHE_RATIO times B: never on a slow disk, nor when the file is not cached (what is missing is
 * read into 2 MiB pages anyway). The kernel keeps the pages that are dirty or that another process maps: only how fast
 * the file is read changes, never its bytes. CONCOURS_SCORE_RECACHE=0 answers 0; =1 answers 1 without measuring
 * (tests), and says so in a timing line too.
 */
static int recache(struct arc_input *in, int fd, const char *path)
{
	const char *mode = getenv("CONCOURS_SCORE_RECACHE");
	char *a = (char *)in->map + BIG_PAGE;
	char *b = a + PROBE;
	double t_a;
	double t_b;
	int drop;

	if (mode && strcmp(mode, "1") == 0) {
		recache_say(path, "dropped from the cache once read, without a measure (CONCOURS_SCORE_RECACHE=1)");
		return 1;
	}
	if (in->map_len < RECACHE_MIN || (mode && strcmp(mode, "0") == 0) || !cached(a, PROBE) || !cached(b, PROBE))
		return 0;
	t_b = touch_pages(b, PROBE);
	if (t_b < CHEAP_PAGE * (double)(PROBE / 4096))
		return 0;
	(void)posix_fadvise(fd, (off_t)BIG_PAGE, (off_t)PROBE, POSIX_FADV_DONTNEED);
	if (cached(a, PROBE))
		return 0; /* kept (dirty, or mapped elsewhere): nothing to learn */
	t_a = touch_pages(a, PROBE);
	drop = t_a <= RECACHE_RATIO * t_b;
	recache_say(path, "cached in small pages: %zu MiB read as cached in %.4f s, again from the disk in %.4f s: %s",
	            PROBE >> 20, t_b, t_a,
	            drop ? "dropped once read, for the next run to read it into 2 MiB pages" : "kept as cached");
	return drop;
}

/* Drops IN's file from the page cache when recache() said so (the mapping let go of its pages before). */
static void drop_cache(struct arc_input *in)
{
	if (!in->recache)
		return;
	(void)posix_fadvise(in->cache_fd, 0, 0, POSIX_FADV_DONTNEED); /* a hint: failure only costs speed */
	close(in->cache_fd);
	in->recache = 0;
}

int arc_open(const char *path, int flags, unsigned mode)
{
	if (strncmp(path, "/dev/fd/", 8) == 0) {
		const char *d = path + 8;
		int n = 0;

		while (*d >= '0' && *d <= '9' && n < 100000)
			n = n * 10 + (*d++ - '0');
		if (d > path + 8 && *d == '\0' && n < 100000)
			return fcntl(n, F_DUPFD_CLOEXEC, 0);
	}
	return open(path, flags | O_CLOEXEC, (mode_t)mode);
}

enum arc_status arc_load(const char *path, const struct arc_limits *lim, struct arc_input *in, char *msg, size_t msglen)
{
	enum arc_status st = ARC_ERR_OPEN;
	struct stat sb;
	int fd = -1;
	const char *foreign;
	enum form form;

	memset(in, 0, sizeof *in);
	msg[0] = '\0';
	fd = arc_open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(msg, msglen, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0) {
		snprintf(msg, msglen, "cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(msg, msglen, "%s is not a regular file", path);
		goto out;
	}
	if ((uint64_t)sb.st_size > lim->max_bytes) {
		snprintf(msg, msglen, "the file is larger than %llu bytes", (unsigned long long)lim->max_bytes);
		st = ARC_ERR_REJECTED;
		goto out;
	}
	if (sb.st_size > 0) {
		in->map_len = (size_t)sb.st_size;
		/* private and writable (the CSV reader unescapes quoted fields in place), but not MAP_POPULATE:
		 * populating a writable private mapping would copy every page up front */
		in->map = mmap(NULL, in->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		if (in->map == MAP_FAILED) {
			in->map = NULL;
			snprintf(msg, msglen, "cannot map %s: %s", path, strerror(errno));
			goto out;
		}
		(void)madvise(in->map, in->map_len, MADV_SEQUENTIAL); /* hints: failure only costs speed */
#ifdef MADV_HUGEPAGE
		/* what the page cache does not hold yet is read from the disk into 2 MiB pages, each mapped by one
		 * fault instead of 512 (580 MB from the disk's cache: 0.12 s instead of 0.46 s on the reference VM,
		 * docs/scorer.md); not with MADV_WILLNEED, whose read-ahead would fill the cache in small pages first */
		if (score_huge_pages_wanted(in->map_len) && madvise(in->map, in->map_len, MADV_HUGEPAGE) == 0) {
			if (recache(in, fd, path)) {
				in->recache = 1;
				in->cache_fd = fd;
				fd = -1;
			}
		} else
#endif
			(void)madvise(in->map, in->map_len, MADV_WILLNEED);
	}
	form = sniff(in->map, in->map_len);
	foreign = form == FORM_CSV ? foreign_format(in->map, in->map_len) : NULL;
	if (foreign) {
		snprintf(msg, msglen,
		         "the file is a %s archive; accepted forms are CSV, .csv.gz, and zip, tar or "
		         "tar.gz holding one CSV",
		         foreign);
		st = ARC_ERR_REJECTED;
		goto out;
	}
	if (form == FORM_CSV) {
		in->data = in->map ? in->map : NULL;
		in->len = in->map_len;
		snprintf(in->format, sizeof in->format, "csv");
		st = ARC_OK;
		goto out;
	}
	snprintf(in->format, sizeof in->format, "%s", form == FORM_ZIP ? "zip" : form == FORM_TAR ? "tar" : "gzip");
	st = load_archive(in->map, in->map_len, form, lim, in, msg, msglen);
	if (in->map) {
		munmap(in->map, in->map_len);
		in->map = NULL;
		in->map_len = 0;
	}
	drop_cache(in); /* the compressed file is done with */
out:
	if (fd >= 0)
		close(fd);
	return st;
}

void arc_input_free(struct arc_input *in)
{
	if (!in)
		return;
	if (in->map) {
		munmap(in->map, in->map_len);
	} else {
		free(in->data);
	}
	drop_cache(in);
	in->map = NULL;
	in->data = NULL;
	in->len = 0;
	in->map_len = 0;
}

/* Drops the pages of mapped bytes [LO, HI) of IN (rounded inwards to whole pages). */
static void release_range(struct arc_input *in, size_t lo, size_t hi)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	lo = (lo + page - 1) / page * page;
	hi = hi >= in->map_len ? in->map_len : hi / page * page;
	if (lo < hi)
		(void)madvise((char *)in->map + lo, hi - lo, MADV_DONTNEED); /* only costs memory if it fails */
}

void arc_input_release(struct arc_input *in)
{
	if (!in || !in->map)
		return;
	if (in->written_lo >= in->written_hi) {
		release_range(in, 0, in->map_len);
		return;
	}
	release_range(in, 0, in->written_lo);
	release_range(in, in->written_hi, in->map_len);
}
