/* lbcache.h: the rendered public leaderboards, built once per change and served from memory (issue 18, item 1).
 *
 * An entry holds one challenge's public board at one lb_version (a counter that triggers bump on every change the
 * board shows: a scoring, a team's rename or disqualification, a rule or publication change): the whole JSON body
 * with its ETag, the same body gzip'd, and each row's place in the body, so that a page (?limit=&offset=) or a
 * search on team names (?q=) is cut from it without touching the database.
 *
 * Entries are immutable once built and reference-counted: readers share them without copying, and a newer version
 * replaces an entry in its slot while older readers finish with theirs. Thread-safe. */
#ifndef CONCOURS_LBCACHE_H
#define CONCOURS_LBCACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct lb_entry {
  atomic_int refs;
  int64_t challenge_id, version;
  char etag[40]; /* "\"<32 hex of the body's SHA-256>\"" */
  char *body;    /* the whole board: PREFIX,"rows":[ROW,ROW...]} */
  size_t len;
  unsigned char *gz; /* BODY gzip'd, or NULL when it could not be */
  size_t gz_len;
  size_t prefix_len; /* BODY[0..prefix_len) is the object's fields before "rows", without the closing '}' */
  size_t nrows;
  size_t *row_off, *row_len; /* row I is BODY[row_off[I] .. + row_len[I]) */
  char **name_lc;            /* each row's team name, ASCII letters lower-cased, for ?q= */
};

/* The cached entry of CHALLENGE_ID at VERSION with a reference taken, or NULL (release with lb_entry_release). */
struct lb_entry *lbcache_get(int64_t challenge_id, int64_t version);
/* Builds an entry from FIELDS (the board's object without "rows", borrowed) and ROWS (an array of row objects,
 * each with a "name", borrowed), stores it (replacing an older one) and returns it with a reference taken for the
 * caller; NULL when out of memory. */
struct lb_entry *lbcache_put(int64_t challenge_id, int64_t version, json_t *fields, json_t *rows);
void lb_entry_release(struct lb_entry *e);
/* The same entry, not cached (a private board, built for each request): one reference, for the caller. */
struct lb_entry *lb_entry_new(json_t *fields, json_t *rows);

/* A page of E: the rows whose team name holds Q (case-insensitive for ASCII letters; NULL or "" for all), from the
 * OFFSET-th match, at most LIMIT, as E's object with "total", "matched", "offset" and "limit" added. Returns a
 * malloc'd NUL-terminated body (length in *LEN), or NULL when out of memory. */
char *lb_entry_page(const struct lb_entry *e, const char *q, size_t offset, size_t limit, size_t *len);

/* Frees every entry (at stop). */
void lbcache_clear(void);

#endif
