/* store.h: the files concours keeps in its data folder, and how they get there durably.
 *   DATA/concours.db              the database
 *   DATA/tmp/                     uploads in progress (emptied at start)
 *   DATA/submissions/ab/<sha256>  prediction files, content-addressed by SHA-256
 *   DATA/challenges/<slug>/<ver>/ an imported bundle (data/, private/, texts), one folder per version
 * A file is written to tmp/, fsynced, renamed into place and its folder fsynced before any row refers to it. */
#ifndef CONCOURS_STORE_H
#define CONCOURS_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "app.h"
#include "upload_pipe.h"

/* Creates the data folder layout under DATA_DIR (absolute). OWNER (the server holding the data folder's lock, or a
 * worker in its own folder) also empties tmp/, which holds only the owner's work in flight (uploads, run folders):
 * an admin command beside a running server passes 0, or it would take the server's runs and uploads from under it.
 * Returns 0, or -1 with ERR. */
int store_init(const char *data_dir, int owner, char *err, size_t errlen);
/* The data folder given to store_init. */
const char *store_data_dir(void);
/* Joins the data folder and REL into OUT. Returns 0, or -1 when it does not fit. */
int store_path(char *out, size_t n, const char *rel);

/* An upload streaming into tmp/ while being hashed. Start with store_upload_begin; then, for each chunk,
 * store_upload_buffer, receive into it, store_upload_write; then either store_upload_finish +
 * store_upload_commit, or store_upload_abort (always safe to call, also after commit). From STORE_PIPE_FROM bytes
 * on, an upload_pipe hashes and flushes beside the receiving thread (upload_pipe.h). */
#define STORE_UPLOAD_CHUNK UPLOAD_PIPE_CHUNK
#define STORE_PIPE_FROM (1 << 20)
struct store_upload {
  int fd;
  char tmp_path[APP_PATH_MAX];
  EVP_MD_CTX *md;
  int64_t size;
  char *buf;                /* a small upload's buffer, STORE_UPLOAD_CHUNK bytes */
  struct upload_pipe *pipe; /* from STORE_PIPE_FROM bytes on; NULL before, or when it could not start */
  char *slot;               /* the buffer the last store_upload_buffer gave */
  int pipe_tried;
  char sha256[65];
  int committed; /* moved into place under submissions/ by this upload (not when the content was there) */
};
int store_upload_begin(struct store_upload *u);
/* Sets *BUF to the buffer the next chunk is received into, STORE_UPLOAD_CHUNK bytes, owned by U. Returns APP_OK,
 * or APP_NO_SPACE / APP_INTERNAL when a flush or the hash failed (*BUF NULL). */
enum app_status store_upload_buffer(struct store_upload *u, char **buf);
/* Appends the first N bytes of BUF. Only store_upload_buffer starts the pipe; once it runs, BUF must be the buffer
 * of the last store_upload_buffer and N at most STORE_UPLOAD_CHUNK (else APP_INTERNAL); before, any buffer will do.
 * Returns APP_OK, APP_NO_SPACE (disk full) or APP_INTERNAL. */
enum app_status store_upload_write(struct store_upload *u, const char *buf, size_t n);
/* fsyncs and closes the temp file and computes the SHA-256. APP_OK, APP_NO_SPACE or APP_INTERNAL. */
enum app_status store_upload_finish(struct store_upload *u);
/* Moves the finished upload to submissions/ab/<sha256> and fsyncs the folder; when that content exists already,
 * the copy stays in tmp/ for store_upload_abort. APP_OK, APP_NO_SPACE or APP_INTERNAL. */
enum app_status store_upload_commit(struct store_upload *u);
/* Stops the pipe, closes the file and removes it from tmp/ unless it was moved into place. */
void store_upload_abort(struct store_upload *u);

/* Path of the stored submission with SHA256 into OUT. Returns 0 or -1. */
int store_submission_path(const char *sha256, char *out, size_t n);

/* 1 when the data folder's file system has less than 1 MiB free (writes are failing, or about to). */
int store_disk_full(void);

/* After a failed insert: removes the stored file SHA256 when no row refers to it (the upload had been moved into
 * place by the commit hook of a transaction that then rolled back). 0, or -1. */
int store_discard_if_orphan(sqlite3 *db, const char *sha256);

/* Deletes stored submission files no row refers to (after a crash between rename and commit). Returns how
 * many were removed, or -1. */
int store_sweep_orphans(sqlite3 *db);

/* Copies SRC to DST (durably: temp, fsync, rename), computing SIZE and SHA256 on the way. Refuses anything
 * but a regular file (no symlinks). Returns 0, or -1 with a message in ERR.
 *
 * Every write but the last covers a whole aligned STORE_WRITE_UNIT (2 MiB): Linux 6.x on ext4 or xfs sizes a file's
 * page-cache pages by the writes that made them, so the copy is cached in 2 MiB pages, and the scorer's mapping of
 * it (a ground truth, installed once, mapped by every scoring) takes one fault and one TLB entry per 2 MiB instead
 * of 512. scripts/bench/folio.sh measures it. Uploads are not written so: their receiving measured slower with
 * 2 MiB buffers (docs/scorer.md). */
#define STORE_WRITE_UNIT (2 << 20)
int store_copy_file(const char *src, const char *dst, int64_t *size, char sha256[65], char *err, size_t errlen);

/* Removes the folder PATH and everything under it (no symlink is followed). Returns 0 or -1. */
int store_remove_tree(const char *path);

#endif
