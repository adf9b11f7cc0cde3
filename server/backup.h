/* backup.h: `concours backup DEST` and `concours restore SRC`, consistent while the server runs.
 *
 * A backup is a folder: concours.db (a snapshot taken with SQLite's online backup API, in one read transaction,
 * so it is one consistent point in time even under writes), the files that snapshot names (every submission file,
 * every imported bundle version it points at: hard links when on the same file system, they are never changed in
 * place, else copies), the signing key, and backup.json (what it holds). It is written under DEST.partial-XXXX and
 * renamed to DEST only once complete and checked: PRAGMA integrity_check, and every file the database names present
 * with its SHA-256. A restore checks the backup the same way, then copies it into a new data folder. */
#ifndef CONCOURS_BACKUP_H
#define CONCOURS_BACKUP_H

#include <stddef.h>
#include <stdint.h>

struct backup_report {
  long submissions; /* submission rows */
  long files;       /* files in the backup, the database and the key included */
  int64_t bytes;    /* their size */
  long challenges;
};

/* Backs up the data folder DATA_DIR (a server may be running on it) into the new folder DEST (must not exist).
 * Returns 0 with REP filled, or -1 with a sentence in ERR (nothing is left at DEST). */
int backup_create(const char *data_dir, const char *dest, struct backup_report *rep, char *err, size_t errlen);

/* Checks the backup folder DIR: the database's integrity and every file it names with its SHA-256. Returns 0 with
 * REP filled, or -1 with the first problem in ERR. */
int backup_verify(const char *dir, struct backup_report *rep, char *err, size_t errlen);

/* Checks the backup SRC (backup_verify), then copies it into the data folder DATA_DIR, which must not exist or be
 * empty (a live data folder is never overwritten). Returns 0, or -1 with ERR (nothing is left at DATA_DIR). */
int backup_restore(const char *src, const char *data_dir, struct backup_report *rep, char *err, size_t errlen);

#endif
