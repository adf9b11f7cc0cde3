/* coderun.h: one run of a participant's code (API.md section 4): the uploaded archive unpacked with the archive
 * rules of SECURITY.md (extract.c) into a read-only /code, the inputs read-only at /data, a size-capped writable
 * /output and private /tmp, no network, its own unprivileged uid, seccomp and rlimits: the sandbox of sandbox.c,
 * the same one that runs scorers. The file the code writes in /output (or the whole folder, as a tar) is copied
 * out for the scorer; an organizer's ingestion program (CodaLab's code submissions) may run instead of the code,
 * the code then at /code for it to load; the run's
 * stdout and stderr form one log, streamed to livelog.c while it runs. Scoring the output is the caller's (queue.c),
 * so that a remote worker can run the code and the server still scores it. */
#ifndef CONCOURS_CODERUN_H
#define CONCOURS_CODERUN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "runner.h"

struct coderun_spec {
  int64_t id;              /* the submission: names the live log */
  const char *archive;     /* the uploaded zip / tar / tar.gz */
  const char *inputs;      /* host folder shown read-only at /data */
  const char *command;     /* run by /bin/sh -c in /code */
  const char *output;      /* file name the code must write in /output */
  const char *pred_path;   /* where that file is copied (created; must not exist) */
  const char *limit_field; /* the bundle field the wall limit comes from, named in messages */
  struct runner_limits limits;
  long output_mb;          /* size of /output and of /tmp */
  uint64_t code_max_bytes; /* unpacked archive */
  int mode_smoke;          /* told to the code in CONCOURS_MODE */
  int gpus;                /* NVIDIA GPUs the run holds (gpu.c) */
  const char *rootfs;      /* the runtime image root, see oci.c; NULL for the host's /usr */
  const char *ingestion;   /* the organizer's ingestion program (host folder) shown read-only at /ingestion, the
                              working folder then; NULL when none */
  int output_folder;       /* the whole /output is copied to pred_path, as a tar (OUTPUT then only names it) */
};

enum coderun_state {
  CODERUN_OK = 0,  /* the output file is at pred_path */
  CODERUN_FAILED,  /* the participant's failure: CODE and MSG say why, fit for the participant */
  CODERUN_STOPPED, /* the server is stopping: queue the run again */
  CODERUN_ERROR    /* the server's own trouble: ERR says why, for the organizers */
};

struct coderun_result {
  enum coderun_state state;
  char code[64];
  char msg[512];
  char err[512];
  char *log; /* the run's stdout and stderr (malloc'd, NUL-terminated), or NULL */
  int64_t wall_ms;
  long maxrss_kb;
  double cpu_s;
  int64_t output_bytes;
};

/* Runs SPEC (see above) and fills RES. STOP as in sandbox_run. Free RES with coderun_result_free. */
void coderun_run(const struct coderun_spec *spec, const atomic_int *stop, struct coderun_result *res);
void coderun_result_free(struct coderun_result *res);

/* The identity of the "host" runtime: SHA-256 of a manifest naming the machine's Debian release and every installed
 * package with its version (/etc/os-release, /var/lib/dpkg/status). Computed once. */
const char *coderun_host_runtime_sha256(void);

#endif
