/* db_memo.h: what the database last said about a challenge (its row and phases, and the catalogue's version) and
 * about a caller (the session's user, the staff role), kept in memory while no transaction has committed since, so
 * that the reads every request makes (a board, a page, the list; signed in or not) cost no SQLite transaction
 * (issue 18, item 1: each read transaction takes file locks, a few system calls that were most of a cached
 * leaderboard's cost).
 *
 * "No commit since" is read from the database's WAL index (the -shm file, as SQLite maps it): SQLite rewrites its
 * header on every commit, by any connection of any process (a `concours challenge import` beside the server
 * included), and writes its two copies so that a reader who finds them equal has a whole one (sqlite.org/walformat).
 * An entry is kept with the header seen before its read; it is used only while the header is the same, so it is never
 * older than the database. The caller uses it only outside a transaction of its own (whose writes the header does not
 * show yet). When the index cannot be mapped, nothing is kept and every read goes to the database. Thread-safe. */
#ifndef CONCOURS_DB_MEMO_H
#define CONCOURS_DB_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "db.h"

#define DB_MEMO_STAMP 48 /* bytes of the WAL index header */

/* Reads the WAL index through DB's own mapping of it (DB: a connection in WAL mode that stays open until
 * db_memo_close; the process's other connections share that mapping). 0, or -1: the memo stays off. */
int db_memo_open(sqlite3 *db);
/* Forgets the mapping and every entry (before the connections close). */
void db_memo_close(void);

/* 0 with the header into STAMP when a whole copy could be read, -1 otherwise (the memo is off or a commit is being
 * written: read the database). */
int db_memo_stamp(unsigned char stamp[DB_MEMO_STAMP]);

/* 1 with C filled when challenge SLUG was kept under STAMP, 0 otherwise. */
int db_memo_challenge_get(const char *slug, const unsigned char stamp[DB_MEMO_STAMP], struct challenge *c);
/* Keeps C, read from the database after STAMP was taken. */
void db_memo_challenge_put(const unsigned char stamp[DB_MEMO_STAMP], const struct challenge *c);

/* 1 with the catalogue's version and the phase window around NOW when they were kept under STAMP and NOW is still in
 * that window, 0 otherwise. */
int db_memo_catalogue_get(const unsigned char stamp[DB_MEMO_STAMP], int64_t now, int64_t *version, int64_t *from,
                          int64_t *until);
void db_memo_catalogue_put(const unsigned char stamp[DB_MEMO_STAMP], int64_t version, int64_t from, int64_t until);

/* Small records a request reads before its handler runs (a session's user, a user's staff role on a challenge), kept
 * like the challenges: a record is used only while no transaction has committed since it was read. KEY: at most
 * DB_MEMO_KEY - 1 bytes, naming the record's kind and its key ("session:<hash>"); LEN: at most DB_MEMO_RECORD.
 * Larger ones are not kept. Many are kept at once (by a hash of the key; a collision replaces). */
#define DB_MEMO_KEY 96
#define DB_MEMO_RECORD 192
/* 1 with OUT filled when KEY was kept under STAMP with LEN bytes, 0 otherwise. */
int db_memo_record_get(const char *key, const unsigned char stamp[DB_MEMO_STAMP], void *out, size_t len);
/* Keeps the LEN bytes at REC as KEY's record, read from the database after STAMP was taken. */
void db_memo_record_put(const char *key, const unsigned char stamp[DB_MEMO_STAMP], const void *rec, size_t len);

/* Reads answered from memory so far (for the tests). */
long db_memo_hits(void);

#endif
