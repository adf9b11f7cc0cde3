/*
 * arc.h: loading an input file into memory, whatever form it arrives in.
 *
 * Exists because a prediction file may be plain CSV, gzip-compressed, or a zip / tar / tar.gz holding one
 * CSV, and every one of those forms is an attack surface (SECURITY.md 11-13). The format is decided from
 * magic bytes against an allow-list, libarchive only ever sees the one format it was told, archive entries
 * must be regular files with safe names, and caps count the bytes actually decompressed, not the sizes an
 * archive declares.
 */
#ifndef CONCOURS_ARC_H
#define CONCOURS_ARC_H

#include <stddef.h>
#include <stdint.h>

struct arc_limits {
	uint64_t max_bytes;   /* cap on the file and on the decompressed bytes read from it */
	unsigned max_entries; /* cap on archive entries (directories included) */
	unsigned max_ratio;   /* decompressed bytes at most this many times the compressed size (+1 MiB); 0: none */
};

/* An input file's content, writable (the CSV reader unescapes quoted fields in place). */
struct arc_input {
	char *data;
	size_t len;
	void *map; /* non-NULL when DATA is an mmap of the file */
	size_t map_len;
	char format[8];    /* "csv", "gzip", "zip", "tar", "tar.gz" */
	char entry[256];   /* the file's name inside an archive (printable form), or "" */
	size_t written_lo; /* [written_lo, written_hi): bytes its reader rewrote in place (set by the reader) */
	size_t written_hi;
	/* 1: the page cache holds the file in small pages, and they are dropped when the file is done with, for the
	 * next run to read it again into 2 MiB pages (arc.c, recache()); CACHE_FD is then the file's descriptor */
	int recache;
	int cache_fd;
};

enum arc_status {
	ARC_OK = 0,
	ARC_ERR_OPEN, /* cannot open or read the file (not a participant's mistake) */
	ARC_ERR_NOMEM,
	ARC_ERR_REJECTED /* the file's form is not acceptable; the message says why */
};

/*
 * Loads PATH into *IN (zeroed first). Plain files are mapped; compressed files and archives are
 * decompressed into a buffer of at most LIM->max_bytes. On ARC_ERR_REJECTED or ARC_ERR_OPEN, MSG
 * (bounded by MSGLEN) holds a sentence fit to show the file's author. The caller frees *IN with
 * arc_input_free() whatever the result.
 */
/* Opens PATH as open(2) does, but "/dev/fd/N" names the open file N itself (a copy of the fd, sharing its offset),
 * never opened again by its path: a warm sandbox's child gets its files as fds it may not open by name
 * (exec_server.h). Returns the new fd (close-on-exec), or -1 with errno set. */
int arc_open(const char *path, int flags, unsigned mode);

enum arc_status arc_load(const char *path, const struct arc_limits *lim, struct arc_input *in, char *msg,
                         size_t msglen);

/* Releases what arc_load() holds in IN (and drops the file's cached pages when IN->recache says so). Accepts a
 * zeroed or already freed input. */
void arc_input_free(struct arc_input *in);

/*
 * Gives a mapped file's resident pages back to the page cache, except those holding bytes [written_lo,
 * written_hi) (the only ones that differ from the file). DATA stays valid: a later read maps its page again
 * from the cache, unchanged. For a run's memory peak, when the file is done with for a while. No-op for a
 * decompressed input, whose bytes exist nowhere else.
 */
void arc_input_release(struct arc_input *in);

#endif
