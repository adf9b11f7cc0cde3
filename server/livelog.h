/* livelog.h: the log of each code run in progress, kept in memory so that a participant watching a smoke run (or
 * an organizer, any run) reads it while it is written (GET /api/v1/submissions/{id}/log). One owner per run: the
 * queue thread running it opens, appends and closes; HTTP threads only read. When the run ends its log is stored
 * with the submission (db_submission_run) and the in-memory copy is dropped. */
#ifndef CONCOURS_LIVELOG_H
#define CONCOURS_LIVELOG_H

#include <stddef.h>
#include <stdint.h>

#define LIVELOG_MAX (256 * 1024) /* bytes kept of one run's log; what comes after is counted, not kept */

/* Starts the log of submission ID; PUBLIC says whether its team may read it. Returns 0, or -1 when every slot is
 * taken or memory is short (the run then goes on without a live log). */
int livelog_open(int64_t id, int public);
/* Appends N bytes of output to ID's log (a tee of the run's pipes; any thread). */
void livelog_append(int64_t id, const char *data, size_t n);
/* Copies ID's log so far into *OUT (malloc'd, NUL-terminated) when STAFF or the log is public. Returns 1 with the
 * copy, 0 when no run of ID is in progress, 2 when the log exists but is hidden from this viewer, -1 out of
 * memory. */
int livelog_read(int64_t id, int staff, char **out);
/* 1 when ID's log is open and its team may read it, 0 when open and hidden, -1 when no run of ID is in progress. */
int livelog_is_public(int64_t id);
/* Drops ID's log. */
void livelog_close(int64_t id);

#endif
