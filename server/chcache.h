/* chcache.h: the challenge page's JSON as every visitor gets it, built once per change and kept in memory (issue
 * 18, item 1).
 *
 * The shared part of GET /api/v1/challenges/{slug} (everything but the caller's "terms_accepted" and "quota") depends
 * on the challenge's row and phases (struct challenge, its bundle's texts through bundle_sha256) and on which phase
 * is open. An entry is kept per challenge with a copy of the struct it was built from (lb_version aside: a scoring
 * does not change the page) and the index of the phase open then; a request whose struct or open phase differs
 * rebuilds it. The server then only splices the caller's two fields onto a copy. The public list of challenges is
 * kept the same way, keyed on the catalogue's version (triggers) and the phase boundaries around its build. Thread-safe.
 */
#ifndef CONCOURS_CHCACHE_H
#define CONCOURS_CHCACHE_H

#include <stddef.h>

#include "db.h"

/* A malloc'd copy of the shared body cached for C with the open phase PHASE (-1: none), the JSON object without its
 * closing '}' (*LEN bytes, NUL-terminated), or NULL when there is none (build it and chcache_put it). */
char *chcache_get(const struct challenge *c, int phase, size_t *len);
/* Keeps BODY[0..LEN) (copied) as C's shared body with the open phase PHASE, replacing C's older one; out of memory,
 * nothing is kept. */
void chcache_put(const struct challenge *c, int phase, const char *body, size_t len);

/* The public list of challenges (GET /api/v1/challenges for a visitor who is not logged in): a malloc'd copy of the
 * body cached for catalogue VERSION and a NOW within its phase window (*LEN bytes), or NULL. */
char *chcache_list_get(int64_t version, int64_t now, size_t *len);
/* Keeps BODY[0..LEN) (copied) as the list for VERSION, valid while FROM <= now < UNTIL (db_catalogue_version). */
void chcache_list_put(int64_t version, int64_t from, int64_t until, const char *body, size_t len);

#endif
