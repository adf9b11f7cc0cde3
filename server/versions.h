/* versions.h: a challenge's version folders (DATA/challenges/SLUG/vTIME-RND, which an import writes: bundle.c) and
 * when an old one goes. An import copies the bundle into a new version folder and points the challenge's row at it;
 * the folder it replaces may still be read by a run of this server (a scoring opening the ground truth, a code run
 * reading the hidden inputs for minutes), so it goes later, in versions_sweep(), once no run holds it.
 *
 * Who may sweep: the process holding the data folder's lock (the server, or an admin command when no server runs:
 * server_lock_try()), as the holds are this process's. An import holds versions_import_begin()'s lock from its new
 * folder's creation to its row's commit, so that no sweep, in any process, takes a folder no row names yet. */
#ifndef CONCOURS_VERSIONS_H
#define CONCOURS_VERSIONS_H

#include <sqlite3.h>
#include <stddef.h>

#include "db.h"

/* Reads SLUG's challenge into *C (db_challenge_get) and holds its version folder C->dir against versions_sweep()
 * until versions_release(C->dir). Returns db_challenge_get's status; APP_INTERNAL, nothing held, when every hold is
 * taken (VERSIONS_HOLDS_MAX: more than the queue's threads). */
enum app_status versions_get_held(sqlite3 *db, const char *slug, struct challenge *c);
/* Gives back one hold of DIR (as versions_get_held() took it). */
void versions_release(const char *dir);

/* Takes the data folder's import lock (shared: imports run side by side; a sweep waits for none and skips while one
 * runs). Returns its descriptor for versions_import_end(), or -1: then the caller creates no folder (a sweep could
 * take it). */
int versions_import_begin(void);
void versions_import_end(int fd);

/* Keeps every version folder of the data folder DATA_DIR from any sweep, in any process, until
 * versions_import_end(fd): the import lock, shared, for a process that has not opened the store (concours backup,
 * which copies the folders its database snapshot names). Returns the descriptor, or -1 (errno set). */
int versions_keep_all(const char *data_dir);

/* Removes the version folders that no challenge's row names and no run of this process holds, unless an import runs
 * (then nothing, until the next sweep; an import waits for a sweep's removals). Returns how many went, or -1 when
 * the database could not say of a folder (that one stays). */
int versions_sweep(sqlite3 *db);

#endif
