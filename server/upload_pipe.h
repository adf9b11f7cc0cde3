/* upload_pipe.h: the two threads that keep a large upload's request thread receiving.
 *
 * Storing an upload costs three steps per byte: receive it, write it to the file, hash it (SHA-256 names the
 * stored file); then one flush to the disk before the client hears 201. Done in one thread, the sender waits
 * while the request thread hashes, and the disk's flush of the whole body (45-65 ms for 100 MB on a virtual disk,
 * whose flush writes the host's cache) comes after the last byte. With a pipe, the request thread only receives
 * into a ring of buffers and writes them; a hasher thread hashes each buffer once it is written, and a flusher
 * thread fdatasyncs the file every UPLOAD_PIPE_FLUSH_EVERY bytes, so the last fsync has only the tail left.
 *
 * The request thread owns the pipe: upload_pipe_start, then upload_pipe_buffer / upload_pipe_post for each
 * chunk, then upload_pipe_stop (always, also on failure), which joins both threads and frees the pipe. */
#ifndef CONCOURS_UPLOAD_PIPE_H
#define CONCOURS_UPLOAD_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "app.h"

#define UPLOAD_PIPE_CHUNK (256 << 10)     /* bytes of one ring buffer */
#define UPLOAD_PIPE_RING 4                /* buffers in the ring */
#define UPLOAD_PIPE_FLUSH_EVERY (8 << 20) /* bytes written between two flushes */

struct upload_pipe;

/* Starts the hasher, which feeds MD from the buffers posted, and the flusher of FD, whose first WRITTEN bytes are
 * already written (and hashed). MD and FD stay the caller's, unused by it until upload_pipe_stop returns. Returns
 * the pipe, or NULL when memory or a thread is missing (the caller then hashes and flushes in its own thread). */
struct upload_pipe *upload_pipe_start(EVP_MD_CTX *md, int fd, int64_t written);

/* Sets *BUF to the next ring buffer to receive into (UPLOAD_PIPE_CHUNK bytes), waiting while the hasher still
 * reads it. Returns APP_OK, or a helper's failure (APP_NO_SPACE, APP_INTERNAL) with *BUF NULL. */
enum app_status upload_pipe_buffer(struct upload_pipe *p, char **buf);

/* Hands the N bytes received into the buffer of the last upload_pipe_buffer, already written to the file, to the
 * hasher; WRITTEN is the file's size now. Returns APP_OK, or a helper's failure. */
enum app_status upload_pipe_post(struct upload_pipe *p, size_t n, int64_t written);

/* Stops P: with DRAIN, once every posted buffer is hashed; without, at once (an abandoned upload, whose hash will
 * not be used). Waits for both threads (and for a flush under way) and frees P. Returns APP_OK, or the first
 * failure of a helper (a flush's error is reported to one fsync only: the caller's own fsync may not see it).
 * NULL is APP_OK. */
enum app_status upload_pipe_stop(struct upload_pipe *p, int drain);

#endif
