/* worker.c: `concours worker`, a remote worker (API.md section 5, docs/workers.md). It claims code runs from a
 * concours server over HTTP with a worker token, fetches their code and inputs (content-addressed cache, every file's
 * SHA-256 checked), runs them with coderun.c in the very sandbox the server uses, renews its lease by heartbeat while
 * sending the log, and sends back the file the code wrote (the server scores it: the ground truth never leaves the
 * server). It survives server restarts (retries with backoff), and on SIGTERM stops its run and gives the lease back.
 * Any scheduler can start it: scripts/slurm/ has a Slurm batch script. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli.h"
#include "coderun.h"
#include "livelog.h"
#include "cgroup.h"
#include "sandbox.h"
#include "store.h"
#include "curlbuf.h"
#include "util.h"

static atomic_int terminating; /* SIGTERM or SIGINT */

static void on_signal(int sig)
{
  (void)sig;
  atomic_store(&terminating, 1);
}

struct worker {
  char base[1024]; /* server URL, no trailing slash */
  char auth[256];  /* "Authorization: Worker TOKEN" */
  char node[256];
  char work[APP_PATH_MAX];
  char own[APP_PATH_MAX];     /* this process's folder in the work folder: its runs and sandbox staging */
  char host[64];              /* this machine's name in the work folder's names (host_part()) */
  char mounted[APP_PATH_MAX]; /* --inputs-mounted: challenges' inputs already on this node, or "" */
  int once, idle_exit;
};

/* One HTTP call to the server: METHOD PATH (relative to the base URL), with BODY (LEN bytes, CTYPE) or the file
 * UPLOAD, the response into OUT (when not NULL) or the file DOWNLOAD. Returns the HTTP status, or -1 when the server
 * cannot be reached. */
static long call(const struct worker *w, const char *method, const char *path, const char *ctype, const char *body,
                 size_t len, const char *upload, struct curlbuf *out, const char *download)
{
  char url[2600];
  long status = -1;
  FILE *up = NULL, *down = NULL;
  struct curl_slist *h = NULL;
  CURL *c = curl_easy_init();
  snprintf(url, sizeof(url), "%s%s", w->base, path);
  if (c == NULL)
    return -1;
  h = curl_slist_append(h, w->auth);
  if (ctype != NULL) {
    char line[128];
    snprintf(line, sizeof(line), "Content-Type: %s", ctype);
    h = curl_slist_append(h, line);
  }
  h = curl_slist_append(h, "Expect:");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 3600L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (upload != NULL) {
    struct stat st;
    up = fopen(upload, "rb");
    if (up == NULL || fstat(fileno(up), &st) != 0)
      goto out;
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READDATA, up);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
  } else if (strcmp(method, "POST") == 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
  }
  if (download != NULL) {
    down = fopen(download, "wb");
    if (down == NULL)
      goto out;
    curl_easy_setopt(c, CURLOPT_WRITEDATA, down);
  } else {
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curlbuf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  }
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
out:
  if (up != NULL)
    fclose(up);
  if (down != NULL && fclose(down) != 0)
    status = -1;
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return status;
}

/* Fetches URL into the cache as SHA (checked), then links it at DEST. 0 or -1. */
static int fetch(const struct worker *w, const char *url, const char *sha, const char *dest)
{
  char cached[APP_PATH_MAX], tmp[APP_PATH_MAX], got[65], dir[APP_PATH_MAX];
  struct stat st;
  if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64 ||
      util_fmt(cached, sizeof(cached), "%s/cache/%s", w->work, sha) != 0 ||
      util_fmt(tmp, sizeof(tmp), "%s.part-%s-%d", cached, w->host, (int)getpid()) != 0)
    return -1; /* a part file of this process: workers of a node, or of several on a shared file system, share it */
  if (stat(cached, &st) != 0) {
    long status = call(w, "GET", url, NULL, NULL, 0, NULL, NULL, tmp);
    /* link, not rename: a cache entry is never replaced, so another worker of the node linking it meanwhile never
     * finds it gone (a replaced inode cannot be linked any more) */
    if (status != 200 || util_sha256_file(tmp, got, NULL) != 0 || strcmp(got, sha) != 0 || chmod(tmp, 0644) != 0 ||
        (link(tmp, cached) != 0 && errno != EEXIST)) {
      unlink(tmp);
      fprintf(stderr, "concours worker: could not fetch %s: %s\n", url,
              status == 409   ? "the lease was lost"
              : status == 200 ? "its SHA-256 differs from the claim's"
                              : "the server did not send it");
      return -1;
    }
    unlink(tmp);
  }
  util_strlcpy(dir, dest, sizeof(dir));
  char *slash = strrchr(dir, '/');
  if (slash != NULL) {
    *slash = '\0';
    if (util_mkdirs(dir, 0755) != 0) {
      fprintf(stderr, "concours worker: cannot create %s: %s\n", dir, strerror(errno));
      return -1;
    }
  }
  if (link(cached, dest) == 0 || errno == EEXIST)
    return 0;
  fprintf(stderr, "concours worker: cannot link %s at %s: %s\n", cached, dest, strerror(errno));
  return -1;
}

struct beat {
  const struct worker *w;
  int64_t id, fence;
  int every_s;
  atomic_int done, lost;
  atomic_int cancelled; /* the server ended the run (cancelled, or past its deadline): stop, send nothing more */
  atomic_int running;   /* the code has started: heartbeats say so (the run's deadline counts from then) */
  atomic_int *stop;     /* set when the lease is lost or the run cancelled: the run stops */
  size_t sent;          /* log bytes sent */
};

/* Sends the log bytes the server has not seen yet. */
static void send_log(struct beat *b)
{
  char *log = NULL, path[128];
  if (livelog_read(b->id, 1, &log) != 1)
    return;
  size_t len = strlen(log);
  if (len > b->sent) {
    snprintf(path, sizeof(path), "/api/v1/worker/runs/%lld/log?fence=%lld", (long long)b->id, (long long)b->fence);
    struct curlbuf out = {NULL, 0};
    size_t chunk = len - b->sent < 200000 ? len - b->sent : 200000;
    long st = call(b->w, "POST", path, "application/octet-stream", log + b->sent, chunk, NULL, &out, NULL);
    if (st == 204)
      b->sent += chunk;
    else if (st == 409)
      atomic_store(&b->lost, 1);
    free(out.data);
  }
  free(log);
}

static void *heartbeat(void *arg)
{
  struct beat *b = arg;
  char path[160];
  int64_t next = 0;
  while (!atomic_load(&b->done)) {
    if (time(NULL) >= next) {
      struct curlbuf out = {NULL, 0};
      snprintf(path, sizeof(path), "/api/v1/worker/runs/%lld/heartbeat?fence=%lld%s", (long long)b->id,
               (long long)b->fence, atomic_load(&b->running) ? "&running=1" : "");
      long st = call(b->w, "POST", path, NULL, "", 0, NULL, &out, NULL);
      json_t *reply = st == 200 && out.data != NULL ? json_loadb(out.data, out.len, 0, NULL) : NULL;
      if (json_is_true(json_object_get(reply, "cancel"))) {
        atomic_store(&b->cancelled, 1);
        fprintf(stderr, "concours worker: run %lld ended on the server (%s): stopping it\n", (long long)b->id,
                json_string_value(json_object_get(reply, "reason"))
                  ? json_string_value(json_object_get(reply, "reason"))
                  : "?");
      }
      json_decref(reply);
      free(out.data);
      if (st == 409 || st == 401) {
        atomic_store(&b->lost, 1);
        fprintf(stderr, "concours worker: lease of run %lld lost: stopping it\n", (long long)b->id);
      }
      next = time(NULL) + b->every_s;
    }
    if (!atomic_load(&b->cancelled))
      send_log(b);
    if (atomic_load(&b->lost) || atomic_load(&b->cancelled))
      atomic_store(b->stop, 1);
    if (atomic_load(&terminating))
      atomic_store(b->stop, 1);
    for (int k = 0; k < 30 && !atomic_load(&b->done); k++) /* 0.3 s, but the run's end is seen at once */
      usleep(10 * 1000);
  }
  return NULL;
}

struct mounted_walk {
  json_t *files; /* [{"path","sha256","size"}] */
  json_t *known; /* the cache: {"/abs/path": [size, mtime_ns, ino, "sha256"]} */
  int changed;
};

static int mounted_entry(const char *path, const char *rel, const struct stat *st, void *arg)
{
  struct mounted_walk *m = arg;
  char sha[65];
  if (S_ISDIR(st->st_mode))
    return 0;
  if (!S_ISREG(st->st_mode))
    return -1; /* a link or device among the inputs: not something to declare */
  json_int_t mtime = (json_int_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
  json_t *k = json_object_get(m->known, path);
  if (json_array_size(k) == 4 && json_integer_value(json_array_get(k, 0)) == (json_int_t)st->st_size &&
      json_integer_value(json_array_get(k, 1)) == mtime &&
      json_integer_value(json_array_get(k, 2)) == (json_int_t)st->st_ino &&
      json_string_length(json_array_get(k, 3)) == 64) {
    util_strlcpy(sha, json_string_value(json_array_get(k, 3)), sizeof(sha));
  } else {
    if (util_sha256_file(path, sha, NULL) != 0)
      return -1;
    json_object_set_new(m->known, path,
                        json_pack("[I,I,I,s]", (json_int_t)st->st_size, mtime, (json_int_t)st->st_ino, sha));
    m->changed = 1;
  }
  json_array_append_new(m->files,
                        json_pack("{s:s,s:s,s:I}", "path", rel, "sha256", sha, "size", (json_int_t)st->st_size));
  return 0;
}

/* The manifest [{"path","sha256","size"}] of the mounted folder DIR. Each file is hashed once while its size,
 * modification time and inode stay the same (the hashes are kept in the node's cache folder, shared by its
 * workers: a lost update only costs a hash). NULL when DIR holds anything but files and folders, or on a fault. */
static json_t *mounted_manifest(const struct worker *w, const char *dir)
{
  char cache[APP_PATH_MAX];
  struct mounted_walk m = {json_array(), NULL, 0};
  if (util_fmt(cache, sizeof(cache), "%s/cache/mounted-hashes.json", w->work) != 0) {
    json_decref(m.files);
    return NULL;
  }
  m.known = json_load_file(cache, 0, NULL);
  if (!json_is_object(m.known)) {
    json_decref(m.known);
    m.known = json_object();
  }
  if (m.files == NULL || m.known == NULL || util_walk(dir, 32, 1000000, mounted_entry, &m) != 0) {
    fprintf(stderr, "concours worker: %s cannot be declared (only files and folders, readable)\n", dir);
    json_decref(m.files);
    m.files = NULL;
  } else if (m.changed) {
    char *text = json_dumps(m.known, JSON_COMPACT);
    if (text != NULL)
      util_write_file_atomic(cache, text, strlen(text), 0644);
    free(text);
  }
  json_decref(m.known);
  return m.files;
}

/* Sends to the server what is checked against its manifest of the run's inputs: BODY, the manifest of the folder
 * mounted on this node. 1 when the server agrees, 0 when it does not (it said why), -1 when it cannot be asked. */
static int declare_mounted(const struct worker *w, int64_t id, int64_t fence, json_t *files)
{
  char path[160];
  json_t *req = json_pack("{s:O}", "files", files);
  char *text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
  json_decref(req);
  if (text == NULL)
    return -1;
  snprintf(path, sizeof(path), "/api/v1/worker/runs/%lld/inputs?fence=%lld", (long long)id, (long long)fence);
  struct curlbuf out = {NULL, 0};
  long st = call(w, "POST", path, "application/json", text, strlen(text), NULL, &out, NULL);
  free(text);
  if (st != 204)
    fprintf(stderr, "concours worker: run %lld: the server refused the mounted inputs (%ld): %.300s\n", (long long)id,
            st, out.data != NULL ? out.data : "");
  free(out.data);
  return st == 204 ? 1 : st == 409 || st == 400 ? 0 : -1;
}

/* Fetches each of FILES ([{"path","url","sha256"}]) to DIR/path (folders 0755, files 0644: the sandbox's uid reads
 * them), its SHA-256 checked. 0, or -1. */
static int fetch_files(const struct worker *w, json_t *files, const char *dir)
{
  size_t i;
  json_t *f;
  json_array_foreach(files, i, f)
  {
    const char *rel = json_string_value(json_object_get(f, "path"));
    char dest[APP_PATH_MAX];
    if (rel == NULL || strstr(rel, "..") != NULL || rel[0] == '/' ||
        util_fmt(dest, sizeof(dest), "%s/%s", dir, rel) != 0 ||
        fetch(w, json_string_value(json_object_get(f, "url")), json_string_value(json_object_get(f, "sha256")), dest) !=
          0)
      return -1;
  }
  return 0;
}

/* Puts the run's inputs where the sandbox reads them: the node's mounted copy (--inputs-mounted DIR, its folder
 * DIR/SLUG/test or DIR/SLUG/smoke) when the server accepts its manifest, else files fetched into INPUTS (a folder
 * of the run) through the signed links of the claim. Fills USE with the folder to show at /data. 0 or -1. */
static int place_inputs(const struct worker *w, json_t *run, const char *inputs, char *use, size_t n)
{
  int64_t id = json_integer_value(json_object_get(run, "id"));
  int64_t fence = json_integer_value(json_object_get(run, "fence"));
  const char *slug = json_string_value(json_object_get(run, "challenge"));
  const char *mode = json_string_value(json_object_get(run, "mode"));
  char mounted[APP_PATH_MAX];
  struct stat st;
  if (w->mounted[0] != '\0' && slug != NULL && mode != NULL &&
      util_fmt(mounted, sizeof(mounted), "%s/%s/%s", w->mounted, slug, strcmp(mode, "smoke") == 0 ? "smoke" : "test") ==
        0 &&
      stat(mounted, &st) == 0 && S_ISDIR(st.st_mode)) {
    json_t *files = mounted_manifest(w, mounted);
    int ok = files != NULL ? declare_mounted(w, id, fence, files) : -1;
    json_decref(files);
    if (ok == 1) {
      fprintf(stderr, "concours worker: run %lld reads its inputs from %s (manifest checked by the server)\n",
              (long long)id, mounted);
      return util_strlcpy(use, mounted, n);
    }
    fprintf(stderr, "concours worker: run %lld: %s does not match the challenge's inputs: fetching them\n",
            (long long)id, mounted);
  }
  if (fetch_files(w, json_object_get(run, "inputs"), inputs) != 0)
    return -1;
  return util_strlcpy(use, inputs, n);
}

/* Tells the server how run ID under FENCE ended; RES is what coderun.c said. Returns the HTTP status. */
static long report(const struct worker *w, int64_t id, int64_t fence, const struct coderun_result *res,
                   const char *pred)
{
  char q[400], sha[65];
  struct curlbuf out = {NULL, 0};
  long st = -1;
  if (res->state == CODERUN_OK && util_sha256_file(pred, sha, NULL) == 0) {
    snprintf(q, sizeof(q), "/api/v1/worker/runs/%lld/result?fence=%lld&sha256=%s&wall_ms=%lld&maxrss_kb=%ld&runtime=%s",
             (long long)id, (long long)fence, sha, (long long)res->wall_ms, res->maxrss_kb,
             coderun_host_runtime_sha256());
    st = call(w, "POST", q, "application/octet-stream", NULL, 0, pred, &out, NULL);
    fprintf(stderr, "concours worker: run %lld: output sent (%ld)\n", (long long)id, st);
  } else {
    int failed = res->state == CODERUN_FAILED;
    json_t *body = json_pack("{s:s,s:s,s:I,s:I,s:s}", "code", failed ? res->code : "scoring_error", "message",
                             failed ? res->msg
                                    : "Your code could not be run. It does not count against your quota; the "
                                      "organizers can see the details.",
                             "wall_ms", (json_int_t)res->wall_ms, "maxrss_kb", (json_int_t)res->maxrss_kb,
                             "runtime_sha256", coderun_host_runtime_sha256());
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!failed)
      fprintf(stderr, "concours worker: run %lld could not run: %s\n", (long long)id,
              res->state == CODERUN_OK ? "its output cannot be read" : res->err);
    snprintf(q, sizeof(q), "/api/v1/worker/runs/%lld/failed?fence=%lld", (long long)id, (long long)fence);
    st = text != NULL ? call(w, "POST", q, "application/json", text, strlen(text), NULL, &out, NULL) : -1;
    free(text);
    fprintf(stderr, "concours worker: run %lld: failure sent (%ld)\n", (long long)id, st);
  }
  free(out.data);
  return st;
}

/* Runs the claimed RUN. Returns 0, or -1 when the worker should stop (SIGTERM). */
static int run_one(const struct worker *w, json_t *run)
{
  int64_t id = json_integer_value(json_object_get(run, "id"));
  int64_t fence = json_integer_value(json_object_get(run, "fence"));
  json_t *lim = json_object_get(run, "limits");
  char dir[APP_PATH_MAX], archive[APP_PATH_MAX], inputs[APP_PATH_MAX], data[APP_PATH_MAX], pred[APP_PATH_MAX],
    ingestion[APP_PATH_MAX];
  char path[256];
  struct coderun_result res;
  atomic_int stop = 0;
  int rc = 0, prepared = 0;
  const char *step = "its folders";
  memset(&res, 0, sizeof(res));
  fprintf(stderr, "concours worker: run %lld (fence %lld, %s)\n", (long long)id, (long long)fence,
          json_string_value(json_object_get(run, "mode")));
  if (util_fmt(dir, sizeof(dir), "%s/run-%lld-%lld", w->own, (long long)id, (long long)fence) != 0 ||
      util_fmt(archive, sizeof(archive), "%s/code.archive", dir) != 0 ||
      util_fmt(inputs, sizeof(inputs), "%s/inputs", dir) != 0 || util_fmt(pred, sizeof(pred), "%s/output", dir) != 0 ||
      util_fmt(ingestion, sizeof(ingestion), "%s/ingestion", dir) != 0 || util_mkdirs(inputs, 0755) != 0 ||
      chmod(dir, 0755) != 0) {
    fprintf(stderr, "concours worker: run %lld: cannot create %s: %s\n", (long long)id, dir, strerror(errno));
    snprintf(path, sizeof(path), "/api/v1/worker/runs/%lld/release?fence=%lld", (long long)id, (long long)fence);
    struct curlbuf out = {NULL, 0};
    call(w, "POST", path, NULL, "", 0, NULL, &out, NULL);
    free(out.data);
    return 0;
  }
  /* the lease is renewed from the start: fetching large inputs may take longer than a lease */
  struct beat b = {w, id,    fence, (int)json_integer_value(json_object_get(run, "heartbeat_seconds")), 0, 0, 0,
                   0, &stop, 0};
  if (b.every_s < 1)
    b.every_s = 1;
  pthread_t t;
  int started = pthread_create(&t, NULL, heartbeat, &b) == 0;
  json_t *code = json_object_get(run, "code");
  struct coderun_spec spec;
  memset(&spec, 0, sizeof(spec));
  spec.id = id;
  spec.archive = archive;
  spec.inputs = data;
  spec.command = json_string_value(json_object_get(run, "command"));
  spec.output = json_string_value(json_object_get(run, "output"));
  spec.pred_path = pred;
  const char *mode = json_string_value(json_object_get(run, "mode"));
  spec.mode_smoke = mode != NULL && strcmp(mode, "smoke") == 0;
  spec.limit_field = spec.mode_smoke ? "submission.limits.smoke_wall_seconds" : "submission.limits.wall_seconds";
  spec.limits.wall_s = (int)json_integer_value(json_object_get(lim, "wall_seconds"));
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  spec.limits.cpu_s = spec.limits.wall_s * (int)(ncpu > 0 && ncpu < 1024 ? ncpu : 1);
  spec.limits.memory_mb = (long)json_integer_value(json_object_get(lim, "memory_mb"));
  spec.output_mb = (long)json_integer_value(json_object_get(lim, "output_mb"));
  spec.gpus = (int)json_integer_value(json_object_get(lim, "gpus"));
  spec.code_max_bytes = (uint64_t)json_integer_value(json_object_get(run, "max_code_bytes"));
  spec.output_folder = json_is_true(json_object_get(run, "output_folder"));
  if (json_object_get(run, "ingestion") != NULL) /* the organizer's program runs the code (CodaLab) */
    spec.ingestion = ingestion;
  if (spec.command == NULL || spec.output == NULL || spec.limits.wall_s <= 0) {
    step = "its description";
  } else if (fetch(w, json_string_value(json_object_get(code, "url")),
                   json_string_value(json_object_get(code, "sha256")), archive) != 0) {
    step = "its code";
  } else if (place_inputs(w, run, inputs, data, sizeof(data)) != 0) {
    step = "its inputs";
  } else if (json_object_get(run, "ingestion") != NULL &&
             fetch_files(w, json_object_get(run, "ingestion"), ingestion) != 0) {
    step = "its ingestion program";
  } else {
    prepared = 1;
  }
  if (prepared && !atomic_load(&stop)) {
    livelog_open(id, 1);
    atomic_store(&b.running, 1);
    coderun_run(&spec, &stop, &res);
  }
  atomic_store(&b.done, 1);
  if (started)
    pthread_join(t, NULL);
  if (prepared && !atomic_load(&b.cancelled))
    send_log(&b); /* the end of the log, before the result */
  livelog_close(id);
  if (atomic_load(&b.cancelled)) {
    fprintf(stderr, "concours worker: run %lld was ended by the server: nothing sent\n", (long long)id);
  } else if (atomic_load(&b.lost)) {
    fprintf(stderr, "concours worker: run %lld: the lease was lost, its result is dropped\n", (long long)id);
  } else if (!prepared || res.state == CODERUN_STOPPED || atomic_load(&terminating)) {
    if (!prepared) /* errno may be stale here: the message is for the node's log */
      fprintf(stderr, "concours worker: run %lld could not be prepared (%s: %s): giving it back\n", (long long)id, step,
              strerror(errno));
    snprintf(path, sizeof(path), "/api/v1/worker/runs/%lld/release?fence=%lld", (long long)id, (long long)fence);
    struct curlbuf out = {NULL, 0};
    long st = call(w, "POST", path, NULL, "", 0, NULL, &out, NULL);
    free(out.data);
    fprintf(stderr, "concours worker: run %lld given back (%ld)\n", (long long)id, st);
    rc = atomic_load(&terminating) ? -1 : 0;
  } else {
    report(w, id, fence, &res, pred);
  }
  coderun_result_free(&res);
  store_remove_tree(dir);
  return rc;
}

/* This machine's name as a part of a folder's name (w-HOST-PID): letters, digits, '.' and '_' (anything else becomes
 * '_', so that the last '-' of a name ends it), at most 63 bytes, into OUT (N > 63). */
static void host_part(char *out, size_t n)
{
  char host[256] = "";
  size_t i;
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
    util_strlcpy(host, "host", sizeof(host));
  for (i = 0; host[i] != '\0' && i < 63 && i + 1 < n; i++) {
    char ch = host[i];
    out[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ? ch : '_';
  }
  out[i] = '\0';
}

/* Removes the folders w-HOST-PID of WORK that this machine's (HOST) workers left, their process gone (a worker
 * killed with SIGKILL leaves its own behind). A work folder on a shared file system (a Slurm site's scratch) holds
 * other machines' folders too: their PIDs mean nothing here, and they are left to their own machine. A folder w-PID
 * (as workers named theirs before 2026-12-07) is taken for this machine's. */
static void remove_dead_workers(const char *work, const char *host)
{
  DIR *d = opendir(work);
  struct dirent *e;
  char path[APP_PATH_MAX];
  size_t hlen = strlen(host);
  while (d != NULL && (e = readdir(d)) != NULL) {
    long long pid = 0;
    const char *name = e->d_name, *dash = strrchr(name, '-');
    if (strncmp(name, "w-", 2) != 0 || dash == NULL)
      continue;
    if (dash > name + 1 && ((size_t)(dash - (name + 2)) != hlen || strncmp(name + 2, host, hlen) != 0))
      continue; /* another machine's */
    if (util_parse_ll(dash + 1, 1, 1 << 22, &pid) != 0)
      continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
      continue;
    if (util_fmt(path, sizeof(path), "%s/%s", work, e->d_name) != 0)
      continue;
    /* what its runs left in their cgroups (a worker killed between two steps of a run's kill) */
    char report[1024], real[APP_PATH_MAX];
    if (realpath(path, real) != NULL && cgroup_init(real, report, sizeof(report)) == 1) {
      int killed = cgroup_sweep();
      if (killed > 0)
        fprintf(stderr, "concours worker: killed %d sandbox process(es) left by worker %lld\n", killed, pid);
      cgroup_shutdown();
    }
    store_remove_tree(path);
  }
  if (d != NULL)
    closedir(d);
}

static int read_token(const char *file, char *out, size_t n)
{
  size_t len = 0;
  char *text = util_read_file(file, 4096, &len);
  if (text == NULL)
    return -1;
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
    text[--len] = '\0';
  int ok =
    len > 0 && len < n && strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == len;
  if (ok)
    util_strlcpy(out, text, n);
  free(text);
  return ok ? 0 : -1;
}

int worker_main(int argc, char **argv)
{
  static const char usage[] =
    "usage: concours worker --server URL --token-file FILE [--queue Q] [--once] [--idle-exit S] [--work DIR]\n"
    "                       [--node NAME] [--inputs-mounted DIR]\n"
    "  claims code runs of its token's queue from the server, runs them sandboxed here, and sends their output\n"
    "  back. --once: one run, then exit. --idle-exit S: exit after S seconds without a run.\n"
    "  --inputs-mounted DIR: the hidden inputs are already on this node as DIR/SLUG/test (and DIR/SLUG/smoke);\n"
    "  the server checks their manifest of SHA-256 hashes, and the run reads them in place (fetched otherwise).\n"
    "  Exit 0 when done, 3 when the token is refused, 1 on a local fault. SIGTERM gives the current run back.\n";
  struct worker w;
  char token_file[APP_PATH_MAX] = "", token[160], err[512];
  memset(&w, 0, sizeof(w));
  w.idle_exit = 0;
  snprintf(w.work, sizeof(w.work), "%s/concours-worker", getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
  if (gethostname(w.node, sizeof(w.node) - 1) != 0)
    util_strlcpy(w.node, "worker", sizeof(w.node));
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long long n = 0;
    if (strcmp(a, "--once") == 0) {
      w.once = 1;
    } else if (v != NULL && strcmp(a, "--server") == 0) {
      util_strlcpy(w.base, v, sizeof(w.base));
      i++;
    } else if (v != NULL && strcmp(a, "--token-file") == 0) {
      util_strlcpy(token_file, v, sizeof(token_file));
      i++;
    } else if (v != NULL && strcmp(a, "--queue") == 0) {
      i++; /* the token decides the queue; the flag documents it in a job script */
    } else if (v != NULL && strcmp(a, "--work") == 0) {
      util_strlcpy(w.work, v, sizeof(w.work));
      i++;
    } else if (v != NULL && strcmp(a, "--inputs-mounted") == 0) {
      util_strlcpy(w.mounted, v, sizeof(w.mounted));
      i++;
    } else if (v != NULL && strcmp(a, "--node") == 0) {
      util_strlcpy(w.node, v, sizeof(w.node));
      i++;
    } else if (v != NULL && strcmp(a, "--idle-exit") == 0 && util_parse_ll(v, 1, 86400 * 30, &n) == 0) {
      w.idle_exit = (int)n;
      i++;
    } else {
      fputs(usage, stderr);
      return 2;
    }
  }
  size_t blen = strlen(w.base);
  while (blen > 0 && w.base[blen - 1] == '/')
    w.base[--blen] = '\0';
  if (blen == 0 || token_file[0] == '\0') {
    fputs(usage, stderr);
    return 2;
  }
  if (read_token(token_file, token, sizeof(token)) != 0) {
    fprintf(stderr, "concours worker: %s holds no token (one line, as `concours worker-token add` printed it)\n",
            token_file);
    return 2;
  }
  snprintf(w.auth, sizeof(w.auth), "Authorization: Worker %s", token);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);
  char cache[APP_PATH_MAX];
  /* the cache is shared by the workers of a node; the rest is this process's own, so that two workers never touch
   * each other's runs (and those of workers that died go) */
  host_part(w.host, sizeof(w.host));
  if (util_fmt(cache, sizeof(cache), "%s/cache", w.work) != 0 || util_mkdirs(cache, 0755) != 0 ||
      chmod(w.work, 0755) != 0 || util_fmt(w.own, sizeof(w.own), "%s/w-%s-%d", w.work, w.host, (int)getpid()) != 0) {
    fprintf(stderr, "concours worker: cannot use the work folder %s: %s\n", w.work, strerror(errno));
    return 1;
  }
  remove_dead_workers(w.work, w.host);
  if (util_mkdirs(w.own, 0755) != 0 || chmod(w.own, 0755) != 0 || store_init(w.own, 1, err, sizeof(err)) != 0) {
    fprintf(stderr, "concours worker: cannot use the work folder %s: %s\n", w.work, err);
    return 1;
  }
  if (sandbox_init(0, err, sizeof(err)) != 0) {
    fprintf(stderr, "concours worker: the sandbox does not work here: %s\n", err);
    return 1;
  }
  char cg_report[1024], cg_key[APP_PATH_MAX];
  if (realpath(w.own, cg_key) == NULL)
    util_strlcpy(cg_key, w.own, sizeof(cg_key));
  cgroup_init(cg_key, cg_report, sizeof(cg_report)); /* after the sweep of dead workers, which used it too */
  fprintf(stderr, "concours worker: %s\n", cg_report);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  fprintf(stderr, "concours worker: node %s, server %s, work folder %s\n", w.node, w.base, w.work);
  int backoff = 1, rc = 0;
  time_t idle_since = time(NULL);
  while (!atomic_load(&terminating)) {
    json_t *req = json_pack("{s:s,s:i}", "node", w.node, "wait", 20);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    struct curlbuf out = {NULL, 0};
    long st = body != NULL
                ? call(&w, "POST", "/api/v1/worker/claim", "application/json", body, strlen(body), NULL, &out, NULL)
                : -1;
    free(body);
    if (st == 401) {
      fprintf(stderr, "concours worker: the server refuses this token (revoked?): exiting\n");
      free(out.data);
      rc = 3;
      break;
    }
    if (st == 200) {
      json_t *o = json_loads(out.data != NULL ? out.data : "", 0, NULL);
      json_t *run = json_object_get(o, "run");
      int stop = json_is_object(run) ? run_one(&w, run) : 0;
      json_decref(o);
      free(out.data);
      backoff = 1;
      idle_since = time(NULL);
      if (stop != 0 || w.once)
        break;
      continue;
    }
    free(out.data);
    if (st == 204) {
      backoff = 1;
    } else { /* the server is away (restarting?) or answered oddly: try again later, up to 30 s apart */
      fprintf(stderr, "concours worker: claim failed (%ld): retrying in %d s\n", st, backoff);
      for (int k = 0; k < backoff * 10 && !atomic_load(&terminating); k++)
        usleep(100 * 1000);
      backoff = backoff < 16 ? backoff * 2 : 30;
    }
    if (w.idle_exit > 0 && time(NULL) - idle_since >= w.idle_exit) {
      fprintf(stderr, "concours worker: idle for %d s: exiting\n", w.idle_exit);
      break;
    }
  }
  cgroup_shutdown();
  sandbox_shutdown();
  curl_global_cleanup();
  store_remove_tree(w.own); /* its runs are over (each removed its own); the cache stays for the next worker */
  return rc;
}
