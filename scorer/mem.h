/*
 * mem.h: allocation of the scorer's large column arrays.
 *
 * Exists because first-touching fresh memory is the most expensive thing a large scoring run does (on the
 * reference VM, about 1.3 s per GiB, more than parsing it): big blocks are recycled within a run instead of
 * being returned to the kernel and faulted in again.
 */
#ifndef CONCOURS_MEM_H
#define CONCOURS_MEM_H

#include <stddef.h>

/* Whether a block, or a mapped input file, of LEN bytes asks for transparent huge pages: from 4 MiB, unless the
 * environment has CONCOURS_SCORE_HUGE_PAGES=0. */
int score_huge_pages_wanted(size_t len);

/* Returns N * SIZE bytes of zeroed memory, or NULL (also on overflow). Free with score_big_free(). */
void *score_big_array(size_t n, size_t size);

/* Same as score_big_array() without zeroing: for arrays the caller fills completely. */
void *score_big_raw(size_t n, size_t size);

/*
 * Grows the block P (from this module, or NULL) to hold N * SIZE bytes, keeping its content; the new tail is
 * not zeroed. Large blocks are moved with mremap, without copying. Returns the block (maybe moved), or NULL
 * with P untouched.
 */
void *score_big_grow(void *p, size_t n, size_t size);

/* Gives a block back for reuse by later allocations of this process. Accepts NULL. Thread-safe. */
void score_big_free(void *p);

/* Gives a block back to the kernel at once, not for reuse: when other memory needs its pages (a mapped
 * file read again). Accepts NULL. */
void score_big_drop(void *p);

/* Returns every recycled block to the kernel. Call when a run is over; blocks still in use are unaffected. */
void score_big_trim(void);

#endif
