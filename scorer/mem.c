/*
 * mem.c: large arrays from anonymous mappings, recycled through a small best-fit cache (see mem.h).
 */
#include "mem.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HEADER 64                 /* holds the block's mapped length; keeps the payload 64-byte aligned */
#define SMALL ((size_t)256 << 10) /* below this, malloc */
#define CACHE_SLOTS 16
#define HUGE ((size_t)4 << 20) /* from this size, ask for transparent huge pages */

struct block {
	unsigned char *base;
	size_t len;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct block cache[CACHE_SLOTS];

/* Takes the smallest cached block of at least LEN bytes, or returns NULL. */
static unsigned char *cache_take(size_t len)
{
	unsigned char *p = NULL;
	int best = -1;
	int i;

	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].base && cache[i].len >= len && (best < 0 || cache[i].len < cache[best].len))
			best = i;
	}
	if (best >= 0) {
		p = cache[best].base;
		cache[best].base = NULL;
	}
	pthread_mutex_unlock(&cache_lock);
	return p;
}

int score_huge_pages_wanted(size_t len)
{
	const char *v = getenv("CONCOURS_SCORE_HUGE_PAGES");

	return len >= HUGE && (!v || strcmp(v, "0") != 0);
}

static void *alloc(size_t n, size_t size, int zero)
{
	size_t bytes;
	size_t len;
	unsigned char *p;

	if (size != 0 && n > (SIZE_MAX - HEADER - 4096) / size)
		return NULL;
	bytes = n * size;
	len = bytes + HEADER;
	if (len < SMALL) {
		p = zero ? calloc(1, len) : malloc(len);
		if (!p)
			return NULL;
		memset(p, 0, sizeof len); /* length 0 marks a malloc'd block */
		return p + HEADER;
	}
	len = (len + 4095) & ~(size_t)4095;
	p = cache_take(len);
	if (p) {
		size_t have;

		memcpy(&have, p, sizeof have);
		/* a block half as large again as asked for keeps only the pages its new use needs resident */
		if (have - len >= len / 2)
			(void)madvise(p + len, have - len, MADV_DONTNEED); /* a hint: failure only costs memory */
		if (zero)
			memset(p + HEADER, 0, bytes);
		return p + HEADER;
	}
	/* NORESERVE: row arrays are sized from a bound on the row count, and only touched pages cost */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	/* huge pages where the host allows them: first-touching fresh memory is a run's largest single cost on
	 * a VM, and it costs less in 2 MiB pages (docs/scorer.md); CONCOURS_SCORE_HUGE_PAGES=0 turns it off */
	if (score_huge_pages_wanted(len))
		(void)madvise(p, len, MADV_HUGEPAGE); /* a hint: failure only costs speed */
#endif
	memcpy(p, &len, sizeof len);
	return p + HEADER;
}

void *score_big_array(size_t n, size_t size)
{
	return alloc(n, size, 1);
}

void *score_big_raw(size_t n, size_t size)
{
	return alloc(n, size, 0);
}

void *score_big_grow(void *ptr, size_t n, size_t size)
{
	unsigned char *p;
	unsigned char *np;
	size_t len;
	size_t want;

	if (!ptr)
		return score_big_raw(n, size);
	if (size != 0 && n > (SIZE_MAX - HEADER - 4096) / size)
		return NULL;
	want = n * size + HEADER;
	p = (unsigned char *)ptr - HEADER;
	memcpy(&len, p, sizeof len);
	if (len == 0) { /* a malloc'd block */
		np = realloc(p, want);
		return np ? np + HEADER : NULL;
	}
	if (want <= len)
		return ptr;
	want = (want + 4095) & ~(size_t)4095;
	np = mremap(p, len, want, MREMAP_MAYMOVE);
	if (np == MAP_FAILED)
		return NULL;
	memcpy(np, &want, sizeof want);
	return np + HEADER;
}

/* The mapping or malloc'd block (LEN 0) starting at P goes back to the kernel or to malloc. */
static void release(unsigned char *p, size_t len)
{
	if (len == 0)
		free(p);
	else
		munmap(p, len);
}

void score_big_free(void *ptr)
{
	unsigned char *p;
	size_t len;
	int i;

	if (!ptr)
		return;
	p = (unsigned char *)ptr - HEADER;
	memcpy(&len, p, sizeof len);
	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < CACHE_SLOTS && len > 0; i++) { /* mappings only: malloc keeps its own */
		if (!cache[i].base) {
			cache[i].base = p;
			cache[i].len = len;
			p = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	if (p)
		release(p, len);
}

void score_big_drop(void *ptr)
{
	unsigned char *p;
	size_t len;

	if (!ptr)
		return;
	p = (unsigned char *)ptr - HEADER;
	memcpy(&len, p, sizeof len);
	release(p, len);
}

void score_big_trim(void)
{
	int i;

	pthread_mutex_lock(&cache_lock);
	for (i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].base)
			munmap(cache[i].base, cache[i].len);
		cache[i].base = NULL;
	}
	pthread_mutex_unlock(&cache_lock);
}
