/* h_worker.c: the HTTP side of remote workers (API.md section 5, docs/workers.md). Workers authenticate with
 * `Authorization: Worker TOKEN` (a token of `concours worker-token add`, scoped to one queue); they claim a code
 * run (long poll), fetch its code and inputs through short-lived signed URLs, renew their lease by heartbeat, send
 * its log, and send back the file the code wrote, which the server scores itself (the ground truth never leaves
 * it). Every call after the claim names the run's fence; a call under an older fence gets 409 lease_lost. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "db_sandbox.h"
#include "db_workers.h"
#include "def.h"
#include "handlers.h"
#include "livelog.h"
#include "queue.h"
#include "sandbox_program.h"
#include "store.h"
#include "util.h"

#define CLAIM_WAIT_MAX_S 25
#define URL_TTL_S 900
#define LOG_CHUNK_MAX (256 * 1024)
#define MANIFEST_MAX (64 << 20) /* a declared manifest: about 300,000 files */

static unsigned char url_key[32];
static pthread_once_t url_key_once = PTHREAD_ONCE_INIT;

static void url_key_init(void)
{
  if (RAND_bytes(url_key, sizeof(url_key)) != 1)
    abort(); /* no randomness: nothing safe can be signed */
}

/* HMAC-SHA256 of "ID|FENCE|REL|EXP" with the server's URL key, hex, into OUT. */
static void url_sig(int64_t id, int64_t fence, const char *rel, long long exp, char out[65])
{
  char msg[1400];
  unsigned char mac[32];
  unsigned int len = 0;
  pthread_once(&url_key_once, url_key_init);
  snprintf(msg, sizeof(msg), "%lld|%lld|%s|%lld", (long long)id, (long long)fence, rel, exp);
  HMAC(EVP_sha256(), url_key, sizeof(url_key), (const unsigned char *)msg, strlen(msg), mac, &len);
  for (int i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

static json_t *signed_url(int64_t id, int64_t fence, const char *rel)
{
  char sig[65], url[1600];
  long long exp = (long long)app_now() + URL_TTL_S;
  url_sig(id, fence, rel, exp, sig);
  snprintf(url, sizeof(url), "/api/v1/worker/files/%lld/%s?fence=%lld&exp=%lld&sig=%s", (long long)id, rel,
           (long long)fence, exp, sig);
  return json_string(url);
}

/* The worker token of the request: 0 with its id and queue, or -1 after a 401. */
static int worker_or_reply(struct req *r, int64_t *token_id, char *queue, size_t n)
{
  const char *h = http_header(r, "Authorization");
  if (h == NULL || strncmp(h, "Worker ", 7) != 0 || strlen(h + 7) > 128 ||
      db_worker_token_check(r->db, h + 7, token_id, queue, n) != 1) {
    http_reply_error(r, APP_UNAUTHORIZED, "send a valid, unrevoked worker token: Authorization: Worker TOKEN");
    return -1;
  }
  return 0;
}

/* The run id of the path and the ?fence=; 0, or -1 after a 400. */
static int run_and_fence(struct req *r, int64_t *id, int64_t *fence)
{
  char f[24];
  long long v = 0, w = 0;
  if (util_parse_ll(r->param[0], 1, INT64_MAX, &v) != 0 || http_query(r, "fence", f, sizeof(f)) < 0 ||
      util_parse_ll(f, 1, INT64_MAX, &w) != 0) {
    http_reply_error(r, APP_BAD_REQUEST, "a run id in the path and ?fence=N (the claim's fence) are required");
    return -1;
  }
  *id = v;
  *fence = w;
  return 0;
}

static int holds_or_reply(struct req *r, int64_t id, int64_t fence)
{
  int h = db_worker_holds(r->db, id, fence);
  if (h == 1)
    return 0;
  if (h < 0)
    http_reply_error(r, APP_INTERNAL, "could not check the lease");
  else
    http_reply_error(r, APP_LEASE_LOST, "this worker no longer holds run %lld under fence %lld", (long long)id,
                     (long long)fence);
  return -1;
}

static int manifest_entry(const char *path, const char *rel, const struct stat *st, void *arg)
{
  char sha[65];
  if (!S_ISREG(st->st_mode))
    return 0;
  if (util_sha256_file(path, sha, NULL) != 0)
    return -1;
  json_array_append_new(arg, json_pack("{s:s,s:s,s:I}", "path", rel, "sha256", sha, "size", (json_int_t)st->st_size));
  return 0;
}

/* [{"path","sha256","size"}] of the inputs folder INPUTS: hashed once per imported version of the challenge (its
 * folder never changes) and kept beside it in MANIFEST, so that a claim does not hash every hidden input again. */
static json_t *inputs_manifest(const char *inputs, const char *manifest)
{
  json_t *files = json_load_file(manifest, JSON_REJECT_DUPLICATES, NULL);
  if (json_is_array(files))
    return files;
  json_decref(files);
  files = json_array();
  if (files == NULL || util_walk(inputs, 32, 1000000, manifest_entry, files) != 0) {
    json_decref(files);
    return NULL;
  }
  char *text = json_dumps(files, JSON_COMPACT);
  if (text != NULL)
    util_write_file_atomic(manifest, text, strlen(text), 0600); /* a cache: a failed write only costs time */
  free(text);
  return files;
}

/* FILES (a manifest, or NULL) with a signed URL "PREFIX/path" of run J on each; NULL (FILES released) on failure. */
static json_t *signed_files(json_t *files, const struct worker_job *j, const char *prefix)
{
  size_t i;
  json_t *f;
  json_array_foreach(files, i, f)
  {
    char urlrel[1100];
    if (util_fmt(urlrel, sizeof(urlrel), "%s/%s", prefix, json_string_value(json_object_get(f, "path"))) != 0) {
      json_decref(files);
      return NULL;
    }
    json_object_set_new(f, "url", signed_url(j->id, j->fence, urlrel));
  }
  return files;
}

/* The run description a worker needs (without the ground truth, which stays here). */
static json_t *run_json(struct req *r, const struct worker_job *j, int *log_public, int *wall_s)
{
  struct challenge *c = malloc(sizeof(*c));
  struct challenge_def *def = calloc(1, sizeof(*def));
  struct bundle_problems *p = calloc(1, sizeof(*p));
  char rel[APP_PATH_MAX], inputs[APP_PATH_MAX], archive[APP_PATH_MAX];
  json_t *out = NULL;
  struct stat st;
  char *definition = NULL;
  if (c == NULL || def == NULL || p == NULL || db_challenge_get(r->db, j->slug, c) != APP_OK)
    goto done;
  definition = db_sandbox_definition(r->db, j->slug);
  if (definition == NULL || def_parse(definition, strlen(definition), "challenge.json", 600, def, p) < 0 ||
      def->root == NULL)
    goto done;
  int smoke = strcmp(j->mode, "smoke") == 0;
  const struct def_code *k = &def->code;
  *log_public = smoke ? strcmp(k->participant_logs, "none") != 0 : strcmp(k->participant_logs, "all") == 0;
  *wall_s = smoke ? k->smoke_wall_s : k->wall_s;
  char manifest[APP_PATH_MAX];
  if (util_fmt(rel, sizeof(rel), "%s/inputs/%s", c->dir, smoke ? "smoke" : "test") != 0 ||
      store_path(inputs, sizeof(inputs), rel) != 0 ||
      util_fmt(rel, sizeof(rel), "%s/inputs-%s.manifest.json", c->dir, smoke ? "smoke" : "test") != 0 ||
      store_path(manifest, sizeof(manifest), rel) != 0 ||
      store_submission_path(j->sha256, archive, sizeof(archive)) != 0 || stat(archive, &st) != 0)
    goto done;
  json_t *files = signed_files(inputs_manifest(inputs, manifest), j, "inputs");
  if (files == NULL)
    goto done;
  const char *command = k->command;
  char cmd[SANDBOX_PROGRAM_CMD_MAX], err[512], ingestion[APP_PATH_MAX];
  json_t *ingestion_files = NULL;
  if (k->ingestion_rel[0] != '\0') { /* the organizer's ingestion program runs the code: its files and command */
    if (util_fmt(rel, sizeof(rel), "%s/ingestion", c->dir) != 0 || store_path(ingestion, sizeof(ingestion), rel) != 0 ||
        sandbox_program_ingestion_command(ingestion, cmd, sizeof(cmd), err, sizeof(err)) != 0 ||
        util_fmt(rel, sizeof(rel), "%s/ingestion.manifest.json", c->dir) != 0 ||
        store_path(manifest, sizeof(manifest), rel) != 0 ||
        (ingestion_files = signed_files(inputs_manifest(ingestion, manifest), j, "ingestion")) == NULL) {
      json_decref(files);
      goto done;
    }
    command = cmd;
  }
  out = json_pack("{s:I,s:I,s:i,s:i,s:s,s:s,s:s,s:{s:i,s:i,s:i,s:i,s:i},s:I,s:b,s:{s:s,s:I,s:o},s:o,s:s}", "id",
                  (json_int_t)j->id, "fence", (json_int_t)j->fence, "lease_seconds", r->cfg->lease_s,
                  "heartbeat_seconds", r->cfg->lease_s / 3 > 0 ? r->cfg->lease_s / 3 : 1, "mode", j->mode, "command",
                  command, "output", k->output, "limits", "wall_seconds", smoke ? k->smoke_wall_s : k->wall_s,
                  "memory_mb", k->memory_mb, "output_mb", k->output_mb, "gpus", k->gpus, "file_mb", k->output_mb,
                  "max_code_bytes", (json_int_t)c->code_max_mb << 20, "log_public", *log_public, "code", "sha256",
                  j->sha256, "size", (json_int_t)st.st_size, "url", signed_url(j->id, j->fence, "code"), "inputs",
                  files, "challenge", j->slug);
  if (out != NULL && k->output_folder)
    json_object_set_new(out, "output_folder", json_true());
  if (out != NULL && ingestion_files != NULL)
    json_object_set_new(out, "ingestion", ingestion_files);
  else
    json_decref(ingestion_files);
done:
  free(definition);
  def_free(def);
  free(def);
  free(p);
  free(c);
  return out;
}

struct describe {
  struct req *r;
  const struct worker_job *j;
  int log_public, wall_s;
  json_t *run;
};

static int describe_run(void *arg)
{
  struct describe *d = arg;
  d->run = run_json(d->r, d->j, &d->log_public, &d->wall_s);
  return 0;
}

/* POST /api/v1/worker/claim {"node","wait"} → 200 {"run":{...}} or 204 when nothing came within WAIT seconds. */
void h_worker_claim(struct req *r)
{
  int64_t token_id = 0;
  char queue[64];
  if (worker_or_reply(r, &token_id, queue, sizeof(queue)) != 0)
    return;
  const char *node = json_string_value(json_object_get(r->body, "node"));
  json_t *wait = json_object_get(r->body, "wait");
  if (node == NULL || strlen(node) < 1 || strlen(node) > 200 || (wait != NULL && !json_is_integer(wait))) {
    http_reply_error(r, APP_MISSING_FIELD, "{\"node\": \"its host name\", \"wait\": seconds (0-%d)} is expected",
                     CLAIM_WAIT_MAX_S);
    return;
  }
  long long w = wait != NULL ? json_integer_value(wait) : 0;
  int64_t until = app_now() + (w < 0 ? 0 : w > CLAIM_WAIT_MAX_S ? CLAIM_WAIT_MAX_S : w);
  struct worker_job j;
  for (;;) {
    db_worker_sweep(r->db, app_now());
    int got = db_worker_claim(r->db, token_id, queue, node, app_now(), r->cfg->lease_s, &j);
    if (got < 0) {
      http_reply_error(r, APP_INTERNAL, "could not claim a run");
      return;
    }
    if (got == 1)
      break;
    if (app_now() >= until) {
      http_reply_empty(r, 204, NULL);
      return;
    }
    /* no pooled connection held while waiting */
    db_release(r->db);
    usleep(250 * 1000);
    r->db = db_acquire();
  }
  /* hashing the inputs (util_sha256_file has a 64 KiB buffer) does not fit on a CivetWeb worker's stack */
  struct describe d = {r, &j, 0, 0, NULL};
  if (util_run_with_stack(describe_run, &d, 16u << 20) != 0)
    d.run = NULL;
  int log_public = d.log_public;
  json_t *run = d.run;
  if (run != NULL && db_worker_wall_limit(r->db, j.id, j.fence, d.wall_s) != 1) {
    json_decref(run);
    run = NULL;
  }
  if (run == NULL) { /* the run cannot be described (its challenge changed?): give it back */
    db_worker_release(r->db, j.id, j.fence);
    http_reply_error(r, APP_INTERNAL, "could not describe run %lld", (long long)j.id);
    return;
  }
  livelog_open(j.id, log_public);
  http_reply_json(r, 200, json_pack("{s:o}", "run", run));
}

/* GET /api/v1/worker/files/{id}/code|inputs/PATH|ingestion/PATH?fence&exp&sig: a signed, short-lived URL of a leased
 * run. */
void h_worker_file(struct req *r)
{
  char f[24], e[24], sig[80], want[65], rel[APP_PATH_MAX], path[APP_PATH_MAX], dirrel[APP_PATH_MAX];
  long long id = 0, fence = 0, exp = 0;
  if (util_parse_ll(r->param[0], 1, INT64_MAX, &id) != 0 || http_query(r, "fence", f, sizeof(f)) < 0 ||
      http_query(r, "exp", e, sizeof(e)) < 0 || http_query(r, "sig", sig, sizeof(sig)) < 0 ||
      util_parse_ll(f, 1, INT64_MAX, &fence) != 0 || util_parse_ll(e, 0, INT64_MAX, &exp) != 0) {
    http_reply_error(r, APP_NOT_FOUND, "no such file");
    return;
  }
  url_sig(id, fence, r->param[1], exp, want);
  if (strlen(sig) != 64 || CRYPTO_memcmp(sig, want, 64) != 0 || exp < app_now()) {
    http_reply_error(r, APP_FORBIDDEN, "the link is not valid (expired or altered): claim the run again");
    return;
  }
  if (holds_or_reply(r, id, fence) != 0)
    return;
  char slug[64] = "", sha[65] = "", mode[8] = "";
  if (db_run_source(r->db, id, slug, sizeof(slug), sha, sizeof(sha), mode, sizeof(mode)) != 1) {
    http_reply_error(r, APP_NOT_FOUND, "no such run");
    return;
  }
  if (strcmp(r->param[1], "code") == 0) {
    if (store_submission_path(sha, path, sizeof(path)) != 0) {
      http_reply_error(r, APP_NOT_FOUND, "no such file");
      return;
    }
  } else {
    struct challenge c;
    int ingestion = strncmp(r->param[1], "ingestion/", 10) == 0; /* the organizer's ingestion program's files */
    const char *name = strncmp(r->param[1], "inputs/", 7) == 0 ? r->param[1] + 7 : ingestion ? r->param[1] + 10 : NULL;
    if (name == NULL || strstr(name, "..") != NULL || name[0] == '/' || db_challenge_get(r->db, slug, &c) != APP_OK ||
        (ingestion ? util_fmt(dirrel, sizeof(dirrel), "%s/ingestion/%s", c.dir, name)
                   : util_fmt(dirrel, sizeof(dirrel), "%s/inputs/%s/%s", c.dir,
                              strcmp(mode, "smoke") == 0 ? "smoke" : "test", name)) != 0 ||
        util_fmt(rel, sizeof(rel), "%s", dirrel) != 0 || store_path(path, sizeof(path), rel) != 0) {
      http_reply_error(r, APP_NOT_FOUND, "no such file");
      return;
    }
  }
  http_reply_file(r, path, "application/octet-stream", NULL);
}

/* POST /api/v1/worker/runs/{id}/heartbeat?fence=F[&running=1] → 200 {"lease_expires_at","cancel":false}, 200
 * {"cancel":true,"reason":"cancelled"|"failed"} when the run ended here (cancelled by its team or the organizers;
 * failed past its deadline): the worker stops it and sends nothing more, or 409 lease_lost. running=1 once the code has started: the run's
 * deadline (its wall limit plus a lease) counts from the first such heartbeat. */
void h_worker_heartbeat(struct req *r)
{
  int64_t token_id = 0, id = 0, fence = 0;
  char queue[64], running[4] = "";
  if (worker_or_reply(r, &token_id, queue, sizeof(queue)) != 0 || run_and_fence(r, &id, &fence) != 0)
    return;
  http_query(r, "running", running, sizeof(running));
  int64_t now = app_now();
  int h = db_worker_heartbeat(r->db, id, fence, now, r->cfg->lease_s, strcmp(running, "1") == 0);
  if (h == 2 || h == 3) {
    http_reply_json(r, 200, json_pack("{s:b,s:s}", "cancel", 1, "reason", h == 2 ? "cancelled" : "failed"));
    return;
  }
  if (h != 1) {
    http_reply_error(r, h < 0 ? APP_INTERNAL : APP_LEASE_LOST, "this worker no longer holds run %lld under fence %lld",
                     (long long)id, (long long)fence);
    return;
  }
  char at[32];
  util_iso8601(now + r->cfg->lease_s, at);
  http_reply_json(r, 200, json_pack("{s:s,s:b}", "lease_expires_at", at, "cancel", 0));
}

/* Reads the request body (at most MAX bytes) into a malloc'd buffer. NULL after a reply. */
static char *read_small_body(struct req *r, size_t max, size_t *len)
{
  long long declared = r->ri->content_length;
  if (declared < 0 || (unsigned long long)declared > max) {
    http_reply_error(r, APP_TOO_LARGE, "send at most %zu bytes with a Content-Length", max);
    return NULL;
  }
  char *buf = malloc((size_t)declared + 1);
  size_t got = 0;
  while (buf != NULL && got < (size_t)declared) {
    int n = mg_read(r->conn, buf + got, (size_t)declared - got);
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  if (buf == NULL || got != (size_t)declared) {
    free(buf);
    http_reply_error(r, APP_BAD_REQUEST, "the body was cut short");
    return NULL;
  }
  buf[got] = '\0';
  *len = got;
  return buf;
}

/* The body (at most MAX bytes, malloc'd, *LEN long) of a call about a run this worker holds (*ID, under its fence).
 * NULL after a reply. */
static char *leased_body(struct req *r, size_t max, int64_t *id, size_t *len)
{
  int64_t token_id = 0, fence = 0;
  char queue[64];
  if (worker_or_reply(r, &token_id, queue, sizeof(queue)) != 0 || run_and_fence(r, id, &fence) != 0 ||
      holds_or_reply(r, *id, fence) != 0)
    return NULL;
  return read_small_body(r, max, len);
}

/* POST /api/v1/worker/runs/{id}/log?fence=F, body: the next bytes of the run's output. 204. */
void h_worker_log(struct req *r)
{
  int64_t id = 0;
  size_t len = 0;
  char *buf = leased_body(r, LOG_CHUNK_MAX, &id, &len);
  if (buf == NULL)
    return;
  livelog_append(id, buf, len);
  free(buf);
  http_reply_empty(r, 204, NULL);
}

struct mounted_check {
  struct req *r;
  int64_t id;
  const char *text;
  size_t len;
  enum app_status status;
  char why[600];
};

/* Compares the manifest a worker declared (TEXT) with the run's own. Runs on a large stack (see h_worker_claim). */
static int check_mounted(void *arg)
{
  struct mounted_check *m = arg;
  char slug[64] = "", sha[65] = "", mode[8] = "", rel[APP_PATH_MAX], inputs[APP_PATH_MAX], manifest[APP_PATH_MAX];
  struct challenge *c = malloc(sizeof(*c));
  json_t *declared = NULL, *want = NULL, *index = json_object();
  m->status = APP_INTERNAL;
  snprintf(m->why, sizeof(m->why), "the run's inputs cannot be read here");
  if (c == NULL || index == NULL ||
      db_run_source(m->r->db, m->id, slug, sizeof(slug), sha, sizeof(sha), mode, sizeof(mode)) != 1 ||
      db_challenge_get(m->r->db, slug, c) != APP_OK)
    goto out;
  const char *which = strcmp(mode, "smoke") == 0 ? "smoke" : "test";
  if (util_fmt(rel, sizeof(rel), "%s/inputs/%s", c->dir, which) != 0 || store_path(inputs, sizeof(inputs), rel) != 0 ||
      util_fmt(rel, sizeof(rel), "%s/inputs-%s.manifest.json", c->dir, which) != 0 ||
      store_path(manifest, sizeof(manifest), rel) != 0 || (want = inputs_manifest(inputs, manifest)) == NULL)
    goto out;
  m->status = APP_BAD_REQUEST;
  snprintf(m->why, sizeof(m->why), "the body must be {\"files\": [{\"path\", \"sha256\", \"size\"}, ...]}");
  if (util_json_depth_exceeds(m->text, m->len, 8))
    goto out;
  declared = json_loadb(m->text, m->len, JSON_REJECT_DUPLICATES, NULL);
  json_t *files = json_object_get(declared, "files");
  if (!json_is_array(files))
    goto out;
  size_t i;
  json_t *f;
  json_array_foreach(want, i, f) json_object_set(index, json_string_value(json_object_get(f, "path")), f);
  m->status = APP_INPUTS_MISMATCH;
  json_array_foreach(files, i, f)
  {
    const char *path = json_string_value(json_object_get(f, "path"));
    const char *h = json_string_value(json_object_get(f, "sha256"));
    json_t *mine = path != NULL ? json_object_get(index, path) : NULL;
    if (path == NULL || h == NULL) {
      m->status = APP_BAD_REQUEST;
      goto out;
    }
    if (mine == NULL) {
      snprintf(m->why, sizeof(m->why), "%.300s is not one of the challenge's %s inputs", path, which);
      goto out;
    }
    if (strcmp(h, json_string_value(json_object_get(mine, "sha256"))) != 0) {
      snprintf(m->why, sizeof(m->why), "%.300s differs from the challenge's (SHA-256)", path);
      goto out;
    }
    json_object_del(index, path);
  }
  if (json_object_size(index) > 0) {
    snprintf(m->why, sizeof(m->why), "%.300s is missing (%zu of the challenge's %s inputs are)",
             json_object_iter_key(json_object_iter(index)), json_object_size(index), which);
    goto out;
  }
  m->status = APP_OK;
out:
  json_decref(declared);
  json_decref(want);
  json_decref(index);
  free(c);
  return 0;
}

/* POST /api/v1/worker/runs/{id}/inputs?fence=F {"files": [{"path","sha256","size"}]}: the worker declares the run's
 * inputs already mounted on its node. 204 when they are exactly the run's inputs (the same paths and SHA-256, no
 * file more or less): the run reads them in place; 409 inputs_mismatch naming the first difference otherwise. */
void h_worker_inputs(struct req *r)
{
  int64_t id = 0;
  size_t len = 0;
  char *buf = leased_body(r, MANIFEST_MAX, &id, &len);
  if (buf == NULL)
    return;
  struct mounted_check m = {r, id, buf, len, APP_INTERNAL, ""};
  if (util_run_with_stack(check_mounted, &m, 16u << 20) != 0)
    m.status = APP_INTERNAL;
  free(buf);
  if (m.status != APP_OK) {
    http_reply_error(r, m.status, "%s", m.why[0] != '\0' ? m.why : "could not check the inputs");
    return;
  }
  http_reply_empty(r, 204, NULL);
}

/* POST /api/v1/worker/runs/{id}/release?fence=F: the worker gives the run back (it stops). 204. */
void h_worker_release(struct req *r)
{
  int64_t token_id = 0, id = 0, fence = 0;
  char queue[64];
  if (worker_or_reply(r, &token_id, queue, sizeof(queue)) != 0 || run_and_fence(r, &id, &fence) != 0)
    return;
  int rel = db_worker_release(r->db, id, fence);
  if (rel != 1) {
    http_reply_error(r, rel < 0 ? APP_INTERNAL : APP_LEASE_LOST, "this worker no longer holds run %lld", (long long)id);
    return;
  }
  livelog_close(id);
  queue_notify();
  http_reply_empty(r, 204, NULL);
}

/* The run's log as the server has it (what the worker sent), malloc'd. */
static char *final_log(int64_t id)
{
  char *log = NULL;
  if (livelog_read(id, 1, &log) != 1)
    log = strdup("");
  return log;
}

/* POST /api/v1/worker/runs/{id}/result?fence=F&sha256=H[&wall_ms=&maxrss_kb=&runtime=], body: the file the code
 * wrote. Stored (hashed, fsynced), then scored here like any code run's output. 200 {"id","status":"queued"}. */
void h_worker_result(struct req *r)
{
  int64_t token_id = 0, id = 0, fence = 0;
  char queue[64], sha[80], num[24], runtime[80] = "", rel[64], dest[APP_PATH_MAX];
  long long wall = 0, rss = 0;
  struct store_upload u;
  memset(&u, 0, sizeof(u));
  u.fd = -1;
  if (worker_or_reply(r, &token_id, queue, sizeof(queue)) != 0 || run_and_fence(r, &id, &fence) != 0 ||
      holds_or_reply(r, id, fence) != 0)
    return;
  if (http_query(r, "sha256", sha, sizeof(sha)) != 64 || strspn(sha, "0123456789abcdef") != 64) {
    http_reply_error(r, APP_BAD_REQUEST, "?sha256= (the file's SHA-256, 64 hex digits) is required");
    return;
  }
  if (http_query(r, "wall_ms", num, sizeof(num)) > 0)
    util_parse_ll(num, 0, INT64_MAX, &wall);
  if (http_query(r, "maxrss_kb", num, sizeof(num)) > 0)
    util_parse_ll(num, 0, INT64_MAX, &rss);
  if (http_query(r, "runtime", runtime, sizeof(runtime)) > 0 &&
      (strlen(runtime) != 64 || strspn(runtime, "0123456789abcdef") != 64))
    runtime[0] = '\0';
  enum app_status s = receive_body(r, &u, r->cfg->max_upload_bytes);
  if (s != APP_OK) {
    http_reply_error(r, s, "could not receive the file");
    goto out;
  }
  if (strcmp(u.sha256, sha) != 0) {
    http_reply_error(r, APP_BAD_REQUEST, "the file's SHA-256 is %s, not the %s the worker announced", u.sha256, sha);
    goto out;
  }
  if (util_fmt(rel, sizeof(rel), "tmp/output-%lld-%lld", (long long)id, (long long)fence) != 0 ||
      store_path(dest, sizeof(dest), rel) != 0 || rename(u.tmp_path, dest) != 0) {
    http_reply_error(r, APP_INTERNAL, "could not store the file");
    goto out;
  }
  u.tmp_path[0] = '\0';
  char *log = final_log(id);
  int log_public = livelog_is_public(id) == 1; /* the policy the claim set */
  int done = db_worker_output(r->db, id, fence, dest, log != NULL ? log : "", log_public, wall, (long)rss,
                              runtime[0] != '\0' ? runtime : NULL);
  free(log);
  if (done != 1) {
    unlink(dest);
    http_reply_error(r, done < 0 ? APP_INTERNAL : APP_LEASE_LOST, "this worker no longer holds run %lld",
                     (long long)id);
    goto out;
  }
  livelog_close(id);
  queue_notify();
  http_reply_json(r, 200, json_pack("{s:I,s:s}", "id", (json_int_t)id, "status", "queued"));
out:
  store_upload_abort(&u);
}

/* POST /api/v1/worker/runs/{id}/failed?fence=F {"code","message","wall_ms","maxrss_kb","runtime_sha256"}: the code
 * failed (a participant-safe code and message, as coderun.c gives them), or the worker could not run it. */
void h_worker_failed(struct req *r)
{
  int64_t token_id = 0, id = 0, fence = 0;
  char queue[64];
  if (worker_or_reply(r, &token_id, queue, sizeof(queue)) != 0 || run_and_fence(r, &id, &fence) != 0 ||
      holds_or_reply(r, id, fence) != 0)
    return;
  const char *code = json_string_value(json_object_get(r->body, "code"));
  const char *msg = json_string_value(json_object_get(r->body, "message"));
  const char *runtime = json_string_value(json_object_get(r->body, "runtime_sha256"));
  static const char *const known[] = {"invalid_archive", "time_limit", "cpu_limit",    "memory_limit",
                                      "code_failed",     "no_output",  "scoring_error"};
  int ok = code != NULL && msg != NULL && strlen(msg) < 1000;
  int is_known = 0;
  for (size_t i = 0; ok && i < sizeof(known) / sizeof(known[0]); i++)
    is_known |= strcmp(code, known[i]) == 0;
  if (!ok || !is_known) {
    http_reply_error(r, APP_MISSING_FIELD, "{\"code\": one of coderun's codes, \"message\": \"...\"} is expected");
    return;
  }
  if (runtime != NULL && (strlen(runtime) != 64 || strspn(runtime, "0123456789abcdef") != 64))
    runtime = NULL;
  char *log = final_log(id);
  int log_public = livelog_is_public(id) == 1;
  db_submission_run(r->db, id, log != NULL ? log : "", log_public,
                    (int64_t)json_integer_value(json_object_get(r->body, "wall_ms")),
                    (long)json_integer_value(json_object_get(r->body, "maxrss_kb")), runtime);
  free(log);
  if (db_worker_holds(r->db, id, fence) != 1 ||
      db_queue_failed(r->db, id, code, msg, "the code failed on a remote worker", app_now()) != APP_OK) {
    http_reply_error(r, APP_LEASE_LOST, "this worker no longer holds run %lld", (long long)id);
    return;
  }
  livelog_close(id);
  http_reply_json(r, 200, json_pack("{s:I,s:s}", "id", (json_int_t)id, "status", "failed"));
}
