/* server.c: see server.h. */
#include "server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <civetweb.h>

#include "bundle.h"
#include "cgroup.h"
#include "db.h"
#include "http.h"
#include "i18n.h"
#include "lbcache.h"
#include "mail.h"
#include "queue.h"
#include "sandbox.h"
#include "sign.h"
#include "store.h"
#include "util.h"
#include "versions.h"

/* Opens DATA_DIR/concours.lock (PATH, of N bytes, names it) and tries its lock. Returns the descriptor, with *HELD
 * saying whether the lock was taken, or -1 with errno. */
static int lock_open(const char *data_dir, char *path, size_t n, int *held)
{
  *held = 0;
  if (util_mkdirs(data_dir, 0700) != 0 || util_fmt(path, n, "%s/concours.lock", data_dir) != 0)
    return -1;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  *held = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;
  return fd;
}

int server_lock_try(const char *data_dir)
{
  char path[APP_PATH_MAX];
  int held, fd = lock_open(data_dir, path, sizeof(path), &held);
  if (fd >= 0 && !held) {
    close(fd);
    return -1;
  }
  return fd;
}

int server_lock_data(const char *data_dir)
{
  char path[APP_PATH_MAX], pid[32] = "";
  int held, fd = lock_open(data_dir, path, sizeof(path), &held);
  if (fd < 0) {
    fprintf(stderr, "concours: cannot use the data folder %s: %s\n", data_dir, strerror(errno));
    return -1;
  }
  if (!held) {
    ssize_t got = pread(fd, pid, sizeof(pid) - 1, 0);
    pid[got > 0 ? got : 0] = '\0';
    pid[strcspn(pid, "\n")] = '\0';
    fprintf(stderr,
            "concours: the data folder %s is in use by another concours server%s%s%s: stop it first, or "
            "give this one another --data\n",
            data_dir, pid[0] != '\0' ? " (pid " : "", pid, pid[0] != '\0' ? ")" : "");
    close(fd);
    return -1;
  }
  int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
    fprintf(stderr, "concours: warning: cannot write the pid into %s\n", path);
  return 0; /* the descriptor stays open, and the lock held, until the process ends */
}

int server_open_data(struct app_config *cfg, int pool_size, int owner)
{
  char err[512], abs[PATH_MAX], dbpath[APP_PATH_MAX];
  if (util_mkdirs(cfg->data_dir, 0700) != 0 || realpath(cfg->data_dir, abs) == NULL) {
    fprintf(stderr, "concours: cannot use the data folder %s: %s\n", cfg->data_dir, strerror(errno));
    return -1;
  }
  util_strlcpy(cfg->data_dir, abs, sizeof(cfg->data_dir));
  if (store_init(cfg->data_dir, owner, err, sizeof(err)) != 0) {
    fprintf(stderr, "concours: %s\n", err);
    return -1;
  }
  if (sign_init(cfg->data_dir, err, sizeof(err)) != 0) {
    fprintf(stderr, "concours: %s\n", err);
    return -1;
  }
  if (store_path(dbpath, sizeof(dbpath), "concours.db") != 0 ||
      db_pool_init(dbpath, pool_size, err, sizeof(err)) != 0) {
    fprintf(stderr, "concours: %s\n", err);
    return -1;
  }
  return 0;
}

/* Prints the changes of RES (an import of PATH), how to apply them when they were not, and what was re-queued. */
static void print_changes(const char *path, const struct bundle_result *res, const char *data_dir)
{
  size_t i;
  json_t *c;
  json_array_foreach(res->changes, i, c) printf("  - %s\n", json_string_value(c));
  if (res->state == BUNDLE_CHANGED)
    printf("  apply them with: concours challenge import %s --apply --data %s\n", path, data_dir);
  if (res->rescored > 0)
    printf("  %d submission(s) queued for scoring again against the new ground truth\n", res->rescored);
}

/* Prints what an import RES of the bundle at PATH did (or would do). */
void server_print_import(const char *path, const struct bundle_result *res, const char *data_dir)
{
  size_t i;
  json_t *c;
  if (res->parts != NULL) { /* a CodaLab competition that made several challenges (tracks, phases scored apart) */
    printf("%s: %zu challenges made from this competition (tracks, or phases scored apart):\n", path,
           json_array_size(res->parts));
    json_array_foreach(res->parts, i, c)
    {
      printf("  %s: %s\n", json_string_value(json_object_get(c, "slug")),
             json_string_value(json_object_get(c, "state")));
    }
    print_changes(path, res, data_dir);
    return;
  }
  switch (res->state) {
  case BUNDLE_VALID:
    printf("%s: valid bundle for challenge %s (bundle sha256 %s)\n", path, res->slug, res->bundle_sha256);
    break;
  case BUNDLE_NEW:
    printf("imported challenge %s from %s\n", res->slug, path);
    break;
  case BUNDLE_UNCHANGED:
    printf("challenge %s is up to date with %s\n", res->slug, path);
    break;
  case BUNDLE_CHANGED:
  case BUNDLE_UPDATED:
    printf(res->state == BUNDLE_CHANGED ? "challenge %s: %s differs from the imported bundle; NOT applied (the "
                                          "database is the truth after the first import):\n"
                                        : "updated challenge %s from %s:\n",
           res->slug, path);
    print_changes(path, res, data_dir);
    break;
  }
}

/* Imports the bundle folders under DIR that are new (each subfolder holding challenge.json or
 * competition.yaml); a bundle that changed since its import is reported, not applied. Returns 0 when all are
 * valid, or -1 after printing every problem. */
static int import_all(const char *dir, const char *data_dir)
{
  char path[APP_PATH_MAX], yaml[APP_PATH_MAX];
  struct bundle_problems *p = malloc(sizeof(*p));
  struct bundle_options opts;
  struct bundle_result res;
  struct dirent **names = NULL;
  int failed = 0, found = 0;
  if (p == NULL)
    return -1;
  memset(&opts, 0, sizeof(opts));
  opts.mode = BUNDLE_ADD;
  opts.actor = "serve --challenges";
  int n = scandir(dir, &names, NULL, alphasort);
  if (n < 0) {
    fprintf(stderr, "concours: cannot read the challenges folder %s: %s\n", dir, strerror(errno));
    free(p);
    return -1;
  }
  sqlite3 *db = db_acquire();
  for (int i = 0; i < n; i++) {
    struct stat st;
    if (names[i]->d_name[0] != '.' &&
        util_fmt(path, sizeof(path), "%s/%s/challenge.json", dir, names[i]->d_name) == 0 &&
        util_fmt(yaml, sizeof(yaml), "%s/%s/competition.yaml", dir, names[i]->d_name) == 0 &&
        (stat(path, &st) == 0 || stat(yaml, &st) == 0) &&
        util_fmt(path, sizeof(path), "%s/%s", dir, names[i]->d_name) == 0) {
      found++;
      if (bundle_run(db, path, &opts, &res, p) == 0) {
        server_print_import(path, &res, data_dir);
        bundle_result_free(&res);
      } else {
        fprintf(stderr, "concours: bundle %s was not imported:\n", path);
        for (int k = 0; k < p->n; k++)
          fprintf(stderr, "  %s\n", p->text[k]);
        if (p->dropped > 0)
          fprintf(stderr, "  ... and %d more problems\n", p->dropped);
        failed++;
      }
    }
    free(names[i]);
  }
  db_release(db);
  free(names);
  free(p);
  if (found == 0)
    printf("no challenge bundle found under %s\n", dir);
  return failed > 0 ? -1 : 0;
}

static int free_port_listen(const struct mg_context *ctx, const struct app_config *cfg)
{
  struct mg_server_port ports[4];
  int n = mg_get_server_ports(ctx, 4, ports);
  if (n <= 0)
    return -1;
  char host[256];
  util_strlcpy(host, cfg->listen, sizeof(host));
  char *colon = strrchr(host, ':');
  if (colon != NULL)
    *colon = '\0';
  else
    util_strlcpy(host, "127.0.0.1", sizeof(host));
  printf("listening on http://%s:%d\n", host, ports[0].port);
  return 0;
}

/* Writes a complete JSON error reply on CONN (for CivetWeb's callbacks, before any handler) and closes the
 * connection. Returns STATUS. */
static int raw_error(struct mg_connection *conn, int status, const char *code, const char *message, const char *extra)
{
  char body[256];
  int n = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, message);
  if (n < 0 || (size_t)n >= sizeof(body))
    return status;
  mg_disable_connection_keep_alive(conn); /* nothing after this reply is read as another request */
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            "Connection: close\r\n%s%s\r\n\r\n%s",
            status, http_reason_phrase(status), n, extra != NULL ? extra : "", http_security_headers, body);
  return status;
}

/* CivetWeb's own errors (malformed or oversized requests, refused before any handler): the same JSON error
 * shape as every API error, the reason phrase of the status, and the connection closed. CivetWeb 1.15 reports a
 * request head above max_request_size as "Malformed message" (400), indistinguishable here from other malformed
 * requests. */
/* A page, not JSON, for a web address that does not exist (a mistyped or stale link): the site's look, a way home,
 * in the reader's language (Accept-Language). The API keeps its JSON 404. Built once per language at start from the
 * catalogue (i18n.h; tests/i18n refuses '<' and '&' in its server texts, so they go into the HTML as they are). */
static char not_found_page[2][2048];
static size_t not_found_len[2];

static void build_not_found_pages(void)
{
  for (enum i18n_lang lang = I18N_EN; lang <= I18N_FR; lang++) {
    const char *title = i18n_format(lang, "Page not found");
    int n = snprintf(
      not_found_page[lang], sizeof(not_found_page[lang]),
      "<!doctype html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s · concours</title>\n"
      "<link rel=\"stylesheet\" href=\"/style.css\">\n<link rel=\"icon\" href=\"/favicon.svg\" "
      "type=\"image/svg+xml\">\n"
      "</head>\n<body>\n<main id=\"main\" class=\"not-found\">\n<h1>%s</h1>\n<p>%s</p>\n"
      "<p><a class=\"button primary\" href=\"/\">%s</a></p>\n</main>\n</body>\n</html>\n",
      i18n_code(lang), title, title,
      i18n_format(lang, "There is no page at this address. The link may be mistyped, or the page may have moved."),
      i18n_format(lang, "See the challenges"));
    not_found_len[lang] = n > 0 && (size_t)n < sizeof(not_found_page[lang]) ? (size_t)n : 0;
  }
}

static int on_http_error(struct mg_connection *conn, int status, const char *errmsg)
{
  const struct mg_request_info *ri = mg_get_request_info(conn);
  const char *uri = ri != NULL ? ri->local_uri : NULL;
  if (status == 404 && uri != NULL && strncmp(uri, "/api/", 5) != 0) {
    enum i18n_lang lang = i18n_pick(mg_get_header(conn, "Accept-Language"));
    mg_printf(conn,
              "HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
              "Content-Language: %s\r\nVary: Accept-Language\r\nCache-Control: no-cache\r\n%s\r\n\r\n%s",
              not_found_len[lang], i18n_code(lang), http_security_headers, not_found_page[lang]);
    return 0;
  }
  int too_large = status == 413 || (errmsg != NULL && strcasestr(errmsg, "too large") != NULL);
  const char *code = too_large       ? "too_large"
                     : status >= 500 ? "internal_error"
                     : status == 404 ? "not_found"
                     : status == 405 ? "method_not_allowed"
                                     : "bad_request";
  const char *message = too_large       ? "request too large"
                        : status == 404 ? "no such file or endpoint"
                        : status >= 500 ? "the server failed"
                                        : "malformed or oversized request";
  raw_error(conn, too_large ? 413 : status, code, message, NULL);
  return 0;
}

/* Set once the API handler and the scoring workers are in place: CivetWeb listens as soon as it starts, and an
 * API request in between must not fall through to the static files (a 404 that looks like a missing endpoint). */
static atomic_int api_ready;

static void *wait_ready_file(void *arg)
{
  struct stat st;
  while (stat((const char *)arg, &st) != 0)
    usleep(20000);
  atomic_store(&api_ready, 1);
  return NULL;
}

/* Every request, static files included, before CivetWeb handles it: ambiguous framing is refused (request
 * smuggling), and the API answers 503 until it is ready. Returns 0 to go on, or the status sent. */
static int on_begin_request(struct mg_connection *conn)
{
  const struct mg_request_info *ri = mg_get_request_info(conn);
  const char *uri = ri->local_uri_raw != NULL ? ri->local_uri_raw : ri->local_uri;
  if (http_ambiguous_framing(ri))
    return raw_error(conn, 400, "bad_request", "conflicting Content-Length / Transfer-Encoding headers", NULL);
  if (!atomic_load(&api_ready) && uri != NULL && strncmp(uri, "/api/", 5) == 0)
    return raw_error(conn, 503, "starting", "the server is starting: try again in a second", "Retry-After: 1\r\n");
  return 0;
}

/* One cgroup per scoring run under a base of this data folder's (cgroup.h); what a previous life left there (a
 * crash between two steps of a run's kill) is killed before anything else runs. Says on stderr what runs get. */
static void start_cgroups(const struct app_config *cfg)
{
  char report[1024], key[APP_PATH_MAX];
  if (realpath(cfg->data_dir, key) == NULL)
    util_strlcpy(key, cfg->data_dir, sizeof(key));
  if (cgroup_init(key, report, sizeof(report)) == 0) {
    fprintf(stderr, "concours: %s\n", report);
    return;
  }
  fprintf(stderr, "concours: %s\n", report);
  int killed = cgroup_sweep();
  if (killed > 0)
    printf("killed %d sandbox process(es) left by the last stop\n", killed);
  else if (killed < 0)
    fprintf(stderr, "concours: WARNING: a run cgroup of the last stop could not be emptied (see above)\n");
}

int server_run(struct app_config *cfg)
{
  char threads[16], origin_empty[] = "";
  struct mg_context *ctx = NULL;
  sigset_t sigs;
  int sig = 0, rc = 1;
  /* Block the stop signals in every thread; the main thread waits for them with sigwait. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (cfg->test_clock[0] != '\0') {
    app_set_test_clock(cfg->test_clock);
    fprintf(stderr, "concours: WARNING: the clock is read from %s (--test-clock): for tests only\n", cfg->test_clock);
  }
  /* Requests hold a connection only while they run: half the HTTP threads plus the scoring threads (the workers and
   * the small-file lane) is plenty, and db_acquire waits for a free one beyond that. */
  int pool = cfg->http_threads / 2 + queue_threads(cfg->workers) + 4;
  char why[512];
  size_t dropped = 0;
  if (i18n_load(cfg->web_dir, &dropped, why, sizeof(why)) != 0)
    fprintf(stderr, "concours: WARNING: no French messages: %s\n", why);
  else if (dropped > 0)
    fprintf(stderr, "concours: WARNING: %zu French message(s) dropped: their conversions differ from the English\n",
            dropped);
  build_not_found_pages();
  if (server_lock_data(cfg->data_dir) != 0)
    return 1;
  start_cgroups(cfg);
  if (server_open_data(cfg, pool > 120 ? 120 : pool, 1) != 0)
    return 1;
  sqlite3 *db = db_acquire();
  int requeued = db_queue_requeue_running(db);
  int swept = store_sweep_orphans(db);
  db_release(db);
  if (requeued > 0)
    printf("re-queued %d submission(s) interrupted by the last stop\n", requeued);
  if (swept > 0)
    printf("removed %d orphan submission file(s)\n", swept);
  if (cfg->challenges_dir[0] != '\0' && import_all(cfg->challenges_dir, cfg->data_dir) != 0) {
    fprintf(stderr, "concours: fix the bundles above (or leave them out of --challenges) and start again\n");
    goto out;
  }
  db = db_acquire(); /* no run yet: every version folder that imports replaced goes (versions.h) */
  int old_versions = versions_sweep(db);
  db_release(db);
  if (old_versions > 0)
    printf("removed %d replaced challenge version folder(s)\n", old_versions);

  snprintf(threads, sizeof(threads), "%d", cfg->http_threads);
  const char *options[] = {
    "listening_ports",
    cfg->listen,
    "num_threads",
    threads,
    "document_root",
    cfg->web_dir,
    "enable_directory_listing",
    "no",
    "decode_url",
    "no",
    "tcp_nodelay",
    "1",
    "enable_keep_alive",
    "yes",
    "keep_alive_timeout_ms",
    "5000",
    "request_timeout_ms", /* the whole request head must arrive within it; each later read or write too */
    "10000",
    "max_request_size",
    "16384",
    "access_control_allow_origin",
    origin_empty,
    "access_control_allow_methods",
    origin_empty,
    "access_control_allow_headers",
    origin_empty,
    "additional_header",
    http_security_headers,
    "hide_files_patterns",
    "**.map$|**/.*",
    "static_file_cache_control",
    "private, no-cache",
    NULL,
    NULL,
  };
  struct mg_callbacks callbacks;
  struct mg_init_data init;
  struct mg_error_data error;
  char errtext[256] = "";
  memset(&callbacks, 0, sizeof(callbacks));
  callbacks.http_error = on_http_error;
  callbacks.begin_request = on_begin_request;
  atomic_store(&api_ready, 0);
  memset(&init, 0, sizeof(init));
  memset(&error, 0, sizeof(error));
  init.callbacks = &callbacks;
  init.user_data = cfg;
  init.configuration_options = options;
  error.text = errtext;
  error.text_buffer_size = sizeof(errtext);
  mg_init_library(0);
  ctx = mg_start2(&init, &error);
  if (ctx == NULL) {
    fprintf(stderr, "concours: cannot start the HTTP server on %s: %s\n", cfg->listen, errtext);
    goto out;
  }
  mg_set_request_handler(ctx, "/api/", http_api_handler, cfg);
  if (queue_start(cfg) != 0) {
    fprintf(stderr, "concours: cannot start the scoring workers\n");
    goto out;
  }
  if (mail_start(cfg) != 0) {
    fprintf(stderr, "concours: cannot start the mail sender\n");
    goto out;
  }
  if (cfg->test_ready_file[0] != '\0') { /* tests only: hold the API back to show the start-up window */
    fprintf(stderr, "concours: WARNING: the API answers 503 until %s exists (--test-ready-file): for tests only\n",
            cfg->test_ready_file);
    pthread_t t;
    if (pthread_create(&t, NULL, wait_ready_file, cfg->test_ready_file) != 0 || pthread_detach(t) != 0)
      goto out;
  } else {
    atomic_store(&api_ready, 1);
  }
  if (free_port_listen(ctx, cfg) != 0)
    goto out;
  printf("data folder: %s\n", cfg->data_dir);
  /* the command as it can be pasted: this very executable, wherever it was built or installed */
  char self[APP_PATH_MAX];
  ssize_t selflen = readlink("/proc/self/exe", self, sizeof(self) - 1);
  self[selflen > 0 ? selflen : 0] = '\0';
  printf("accounts: %s user add NAME --role organizer|jury|admin --data %s\n", selflen > 0 ? self : "concours",
         cfg->data_dir);
  fflush(stdout);

  while (sigwait(&sigs, &sig) != 0)
    ;
  printf("stopping (signal %d)\n", sig);
  fflush(stdout);
  rc = 0;
out:
  queue_stop();
  mail_stop();
  cgroup_shutdown();
  if (ctx != NULL)
    mg_stop(ctx);
  sandbox_shutdown(); /* no run is left (queue and HTTP stopped): nothing of the server outlives it */
  lbcache_clear();
  mg_exit_library();
  db_pool_close();
  return rc;
}
