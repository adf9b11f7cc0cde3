/* pcli.c: `concours-cli`, the participant's command line (docs/cli.md): log in once, list challenges, accept their
 * terms, download their data (resumable, every file's SHA-256 checked), submit a file and follow it until it is
 * scored, list one's submissions and the leaderboard. It speaks the public HTTP API with libcurl, as a script or a
 * browser would; every command takes --json and prints the server's JSON. Exit codes: 0 done (scored with --wait),
 * 1 the submission failed to score, 2 usage, 3 refused by the server (the message says why), 4 the server cannot be
 * reached or failed. */
#include "pcli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "curlbuf.h"
#include "util.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_REFUSED 3
#define EXIT_SERVER 4

struct pcli {
  char server[1024]; /* base URL, no trailing slash */
  char token[256];
  int json;
  int quiet;
};

/* A progress bar on stderr (a terminal only), for uploads and downloads. */
struct progress {
  const char *label;
  curl_off_t base; /* bytes already there (a resumed download) */
  time_t last;
};

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  struct progress *p = arg;
  curl_off_t total = ultotal > 0 ? ultotal : dltotal, now = ultotal > 0 ? ulnow : dlnow;
  time_t t = time(NULL);
  if (total <= 0 || (t == p->last && now < total))
    return 0;
  p->last = t;
  total += p->base;
  now += p->base;
  int width = 30, done = (int)(width * now / total);
  fprintf(stderr, "\r%-28.28s [%.*s%*s] %3d%% %8.1f / %.1f MB", p->label, done, "##############################",
          width - done, "", (int)(100 * now / total), (double)now / 1e6, (double)total / 1e6);
  if (now >= total)
    fputc('\n', stderr);
  return 0;
}

/* The Accept-Language header line of the user's locale (LANGUAGE, LC_ALL, LC_MESSAGES, LANG, as gettext reads
 * them): the server's messages then come in French to a French terminal, in English otherwise. */
static const char *accept_language(void)
{
  const char *names[] = {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    const char *v = getenv(names[i]);
    if (v == NULL || v[0] == '\0')
      continue;
    return strncmp(v, "fr", 2) == 0 && (v[2] == '\0' || strchr("_.@:-", v[2]) != NULL) ? "Accept-Language: fr"
                                                                                       : "Accept-Language: en";
  }
  return "Accept-Language: en";
}

/* One call: METHOD PATH (under /api/v1) with BODY (LEN bytes, CTYPE) or the file UPLOAD; the answer into OUT, or
 * appended to the open file DOWNLOAD from byte FROM (a Range request when FROM > 0). EXTRA: one more header line or
 * NULL. PROGRESS: the bar's label, or NULL. Returns the HTTP status, or -1 when the server cannot be reached. */
static long call(const struct pcli *p, const char *method, const char *path, const char *ctype, const char *body,
                 size_t len, const char *upload, struct curlbuf *out, FILE *download, curl_off_t from,
                 const char *extra, const char *progress)
{
  char url[2600], line[400];
  long status = -1;
  FILE *up = NULL;
  struct curl_slist *h = NULL;
  struct progress bar = {progress, from, 0};
  CURL *c = curl_easy_init();
  if (c == NULL)
    return -1;
  snprintf(url, sizeof(url), "%s/api/v1%s", p->server, path);
  if (p->token[0] != '\0') {
    snprintf(line, sizeof(line), "Authorization: Bearer %s", p->token);
    h = curl_slist_append(h, line);
  }
  if (ctype != NULL) {
    snprintf(line, sizeof(line), "Content-Type: %s", ctype);
    h = curl_slist_append(h, line);
  }
  if (extra != NULL)
    h = curl_slist_append(h, extra);
  h = curl_slist_append(h, accept_language());
  h = curl_slist_append(h, "Expect:");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "concours-cli/" CONCOURS_VERSION);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (upload != NULL) {
    struct stat st;
    up = fopen(upload, "rb");
    if (up == NULL || fstat(fileno(up), &st) != 0)
      goto out;
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READDATA, up);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size);
  } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
  }
  if (download != NULL) {
    curl_easy_setopt(c, CURLOPT_WRITEDATA, download);
    if (from > 0)
      curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, from);
  } else {
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curlbuf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  }
  if (progress != NULL && isatty(2) && !p->quiet) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &bar);
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && download == NULL))
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
out:
  if (up != NULL)
    fclose(up);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return status;
}

/* The JSON answer of a call (NULL when it is not JSON). */
static json_t *answer(const struct curlbuf *b)
{
  return b->data != NULL ? json_loadb(b->data, b->len, 0, NULL) : NULL;
}

/* Says why a call did not succeed (the server's error message, or that it cannot be reached) and returns the exit
 * code for it. */
static int explain(long status, const struct curlbuf *b, const char *what)
{
  if (status < 0) {
    fprintf(stderr, "concours-cli: %s: the server cannot be reached\n", what);
    return EXIT_SERVER;
  }
  json_t *o = answer(b), *err = json_object_get(o, "error");
  const char *msg = json_string_value(json_object_get(err, "message"));
  const char *code = json_string_value(json_object_get(err, "code"));
  fprintf(stderr, "concours-cli: %s: %s (%ld%s%s)\n", what, msg != NULL ? msg : "the server answered oddly", status,
          code != NULL ? " " : "", code != NULL ? code : "");
  const char *hint = status == 401 ? "log in again: concours-cli login"
                     : code != NULL && strcmp(code, "terms_not_accepted") == 0
                       ? "accept them first: concours-cli accept-terms SLUG"
                       : NULL;
  if (hint != NULL)
    fprintf(stderr, "concours-cli: %s\n", hint);
  json_decref(o);
  return status >= 500 ? EXIT_SERVER : EXIT_REFUSED;
}

/* GET PATH into *OUT (the parsed JSON, the caller frees). 0, or the exit code after explaining why. */
static int get_json(const struct pcli *p, const char *path, const char *what, json_t **out)
{
  struct curlbuf b = {NULL, 0};
  long st = call(p, "GET", path, NULL, NULL, 0, NULL, &b, NULL, 0, NULL, NULL);
  *out = st == 200 ? answer(&b) : NULL;
  int rc = st == 200 && *out != NULL ? 0 : explain(st, &b, what);
  free(b.data);
  return rc;
}

static void print_json(json_t *o)
{
  char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (text != NULL)
    puts(text);
  free(text);
}

/* ------------------------------------------------------------------------------------------------ credentials */

static int credentials_path(char *out, size_t n)
{
  const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
  if (xdg != NULL && xdg[0] == '/')
    return util_fmt(out, n, "%s/concours/credentials", xdg);
  if (home == NULL || home[0] != '/')
    return -1;
  return util_fmt(out, n, "%s/.config/concours/credentials", home);
}

/* Fills P's server and token: the credentials file, then CONCOURS_SERVER and CONCOURS_TOKEN over it. */
static void load_credentials(struct pcli *p)
{
  char path[1024];
  json_t *o = credentials_path(path, sizeof(path)) == 0 ? json_load_file(path, 0, NULL) : NULL;
  if (json_string_value(json_object_get(o, "server")) != NULL)
    util_strlcpy(p->server, json_string_value(json_object_get(o, "server")), sizeof(p->server));
  if (json_string_value(json_object_get(o, "token")) != NULL)
    util_strlcpy(p->token, json_string_value(json_object_get(o, "token")), sizeof(p->token));
  json_decref(o);
  if (getenv("CONCOURS_SERVER") != NULL && getenv("CONCOURS_SERVER")[0] != '\0')
    util_strlcpy(p->server, getenv("CONCOURS_SERVER"), sizeof(p->server));
  if (getenv("CONCOURS_TOKEN") != NULL && getenv("CONCOURS_TOKEN")[0] != '\0')
    util_strlcpy(p->token, getenv("CONCOURS_TOKEN"), sizeof(p->token));
}

/* Writes the credentials file (mode 0600, its folder 0700). 0, or -1 with the reason on stderr. */
static int save_credentials(const struct pcli *p, char *path, size_t n)
{
  char dir[1024];
  if (credentials_path(path, n) != 0) {
    fprintf(stderr, "concours-cli: no home folder to keep the credentials in (set HOME)\n");
    return -1;
  }
  util_strlcpy(dir, path, sizeof(dir));
  *strrchr(dir, '/') = '\0';
  json_t *o = json_pack("{s:s,s:s}", "server", p->server, "token", p->token);
  char *text = o != NULL ? json_dumps(o, JSON_INDENT(2)) : NULL;
  json_decref(o);
  int rc =
    text != NULL && util_mkdirs(dir, 0700) == 0 && util_write_file_atomic(path, text, strlen(text), 0600) == 0 ? 0 : -1;
  if (rc != 0)
    fprintf(stderr, "concours-cli: cannot write %s: %s\n", path, strerror(errno));
  free(text);
  return rc;
}

/* Reads one line from standard input into OUT (no newline), without echo when it is a terminal. 0 or -1. */
static int read_line(const char *prompt, int secret, char *out, size_t n)
{
  struct termios old, quiet;
  int tty = isatty(0);
  if (tty) {
    fputs(prompt, stderr);
    fflush(stderr);
  }
  if (tty && secret && tcgetattr(0, &old) == 0) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(0, TCSANOW, &quiet);
  }
  char *got = fgets(out, (int)n, stdin);
  if (tty && secret) {
    tcsetattr(0, TCSANOW, &old);
    fputc('\n', stderr);
  }
  if (got == NULL)
    return -1;
  out[strcspn(out, "\r\n")] = '\0';
  return out[0] != '\0' ? 0 : -1;
}

static int cmd_login(struct pcli *p, const char *username, const char *token)
{
  char user[128] = "", password[1100] = "", path[1024];
  struct curlbuf b = {NULL, 0};
  int rc = 0;
  if (p->server[0] == '\0') {
    fprintf(stderr, "concours-cli: which server? concours-cli login --server https://concours.example.org\n");
    return EXIT_USAGE;
  }
  if (token != NULL) {
    util_strlcpy(p->token, token, sizeof(p->token));
  } else {
    if (username != NULL)
      util_strlcpy(user, username, sizeof(user));
    else if (read_line("Username: ", 0, user, sizeof(user)) != 0)
      return EXIT_USAGE;
    if (read_line("Password: ", 1, password, sizeof(password)) != 0) {
      fprintf(stderr, "concours-cli: no password given (on a terminal, or one line on standard input)\n");
      return EXIT_USAGE;
    }
    /* a session, then an API token made with it: the token is what is kept, never the password */
    json_t *req = json_pack("{s:s,s:s}", "username", user, "password", password);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    memset(password, 0, sizeof(password));
    p->token[0] = '\0';
    CURL *c = curl_easy_init();
    char url[1200], csrf_line[200], host[64];
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, accept_language());
    long st = -1;
    snprintf(url, sizeof(url), "%s/api/v1/sessions", p->server);
    if (c != NULL && text != NULL) {
      curl_easy_setopt(c, CURLOPT_URL, url);
      curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
      curl_easy_setopt(c, CURLOPT_COOKIEFILE, ""); /* cookies kept in memory for the next call */
      curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curlbuf_write);
      curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
      curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
      if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    }
    free(text);
    json_t *session = st == 200 ? answer(&b) : NULL;
    const char *csrf = json_string_value(json_object_get(session, "csrf_token"));
    if (csrf == NULL) {
      rc = explain(st, &b, "login");
    } else {
      if (gethostname(host, sizeof(host) - 1) != 0)
        util_strlcpy(host, "a computer", sizeof(host));
      host[sizeof(host) - 1] = '\0';
      char name[128], body[256];
      snprintf(name, sizeof(name), "concours-cli on %.60s", host);
      json_t *tok = json_pack("{s:s}", "name", name);
      char *tt = json_dumps(tok, JSON_COMPACT);
      json_decref(tok);
      util_strlcpy(body, tt != NULL ? tt : "{}", sizeof(body));
      free(tt);
      snprintf(csrf_line, sizeof(csrf_line), "X-CSRF-Token: %s", csrf);
      h = curl_slist_append(h, csrf_line);
      snprintf(url, sizeof(url), "%s/api/v1/tokens", p->server);
      free(b.data);
      b.data = NULL;
      b.len = 0;
      curl_easy_setopt(c, CURLOPT_URL, url);
      curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
      st = -1;
      if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
      json_t *made = st == 201 ? answer(&b) : NULL;
      const char *t = json_string_value(json_object_get(made, "token"));
      if (t != NULL)
        util_strlcpy(p->token, t, sizeof(p->token));
      else
        rc = explain(st, &b, "making an API token");
      json_decref(made);
      /* the session served its purpose: end it */
      snprintf(url, sizeof(url), "%s/api/v1/sessions/current", p->server);
      curl_easy_setopt(c, CURLOPT_URL, url);
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
      curl_easy_perform(c);
    }
    json_decref(session);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(b.data);
    if (rc != 0)
      return rc;
  }
  json_t *me = NULL;
  if ((rc = get_json(p, "/me", "checking the token", &me)) != 0)
    return rc;
  if (save_credentials(p, path, sizeof(path)) != 0) {
    json_decref(me);
    return EXIT_FAILED;
  }
  if (p->json)
    print_json(me);
  else
    printf("Logged in to %s as %s (%s). The token is kept in %s.\n", p->server,
           json_string_value(json_object_get(me, "username")), json_string_value(json_object_get(me, "role")), path);
  json_decref(me);
  return 0;
}

/* ------------------------------------------------------------------------------------------------ commands */

/* GET PATH and print it: its JSON with --json, else TEXT's table of it (SLUG for the titles). 0 or the exit code. */
static int show(const struct pcli *p, const char *path, const char *what, void (*text)(json_t *, const char *),
                const char *slug)
{
  json_t *o = NULL;
  int rc = get_json(p, path, what, &o);
  if (rc != 0)
    return rc;
  if (p->json)
    print_json(o);
  else
    text(o, slug);
  json_decref(o);
  return 0;
}

static void challenges_text(json_t *list, const char *slug)
{
  size_t i;
  json_t *c;
  (void)slug;
  printf("%-28s %-14s %-20s %s\n", "SLUG", "PHASE", "ENDS", "TITLE");
  json_array_foreach(list, i, c)
  {
    const char *phase = json_string_value(json_object_get(c, "phase"));
    const char *ends = json_string_value(json_object_get(c, "ends_at"));
    printf("%-28s %-14s %-20s %s\n", json_string_value(json_object_get(c, "slug")), phase ? phase : "(closed)",
           ends ? ends : "-", json_string_value(json_object_get(c, "title")));
  }
}

/* Checks SLUG (letters, digits, - and _) so that it can go into a path. */
static int slug_ok(const char *slug)
{
  size_t n = slug != NULL ? strlen(slug) : 0;
  int ok = n > 0 && n < 64 && strspn(slug, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
  if (!ok)
    fprintf(stderr, "concours-cli: '%s' is not a challenge slug (see concours-cli challenges)\n", slug ? slug : "");
  return ok;
}

static int cmd_accept_terms(const struct pcli *p, const char *slug)
{
  char path[128], body[64];
  json_t *c = NULL;
  snprintf(path, sizeof(path), "/challenges/%s", slug);
  int rc = get_json(p, path, "reading the challenge", &c);
  if (rc != 0)
    return rc;
  json_int_t version = json_integer_value(json_object_get(c, "terms_version"));
  if (!p->json && !p->quiet)
    printf("Terms of %s (version %lld):\n\n%s\n\n", slug, (long long)version,
           json_string_value(json_object_get(c, "terms")) ? json_string_value(json_object_get(c, "terms")) : "");
  json_decref(c);
  snprintf(path, sizeof(path), "/challenges/%s/terms", slug);
  snprintf(body, sizeof(body), "{\"version\":%lld}", (long long)version);
  struct curlbuf b = {NULL, 0};
  long st = call(p, "POST", path, "application/json", body, strlen(body), NULL, &b, NULL, 0, NULL, NULL);
  rc = st == 204 ? 0 : explain(st, &b, "accepting the terms");
  free(b.data);
  if (rc == 0) {
    if (p->json)
      printf("{\"slug\": \"%s\", \"terms_version\": %lld, \"accepted\": true}\n", slug, (long long)version);
    else
      printf("Accepted the terms of %s (version %lld).\n", slug, (long long)version);
  }
  return rc;
}

/* A file name of the listing, safe to create under the output folder: relative, no "..", no empty part. */
static int safe_name(const char *name)
{
  if (name == NULL || name[0] == '\0' || name[0] == '/' || strlen(name) > 400)
    return 0;
  for (const char *s = name; *s != '\0'; s++)
    if ((unsigned char)*s < 0x20)
      return 0;
  char copy[420];
  util_strlcpy(copy, name, sizeof(copy));
  for (char *save = NULL, *part = strtok_r(copy, "/", &save); part != NULL; part = strtok_r(NULL, "/", &save))
    if (strcmp(part, "..") == 0 || strcmp(part, ".") == 0)
      return 0;
  return strstr(name, "//") == NULL;
}

/* Downloads one file F of SLUG into DIR: resumed from DEST.part, checked against its SHA-256, then renamed.
 * "up to date" when DEST already holds it. 0, or the exit code. */
static int download_one(const struct pcli *p, const char *slug, json_t *f, const char *dir, json_t *report)
{
  const char *name = json_string_value(json_object_get(f, "name"));
  const char *want = json_string_value(json_object_get(f, "sha256"));
  char dest[1200], part[1300], sub[1200], path[1200], got[65];
  if (!safe_name(name) || want == NULL || util_fmt(dest, sizeof(dest), "%s/%s", dir, name) != 0 ||
      util_fmt(part, sizeof(part), "%s.part", dest) != 0) {
    fprintf(stderr, "concours-cli: the server listed a file name that cannot be used: %s\n", name ? name : "?");
    return EXIT_SERVER;
  }
  util_strlcpy(sub, dest, sizeof(sub));
  *strrchr(sub, '/') = '\0';
  if (util_mkdirs(sub, 0755) != 0) {
    fprintf(stderr, "concours-cli: cannot create %s: %s\n", sub, strerror(errno));
    return EXIT_FAILED;
  }
  if (util_sha256_file(dest, got, NULL) == 0 && strcmp(got, want) == 0) {
    json_array_append_new(report, json_pack("{s:s,s:s,s:s}", "name", name, "path", dest, "status", "up to date"));
    if (!p->json && !p->quiet)
      printf("%s: up to date\n", dest);
    return 0;
  }
  struct stat st;
  curl_off_t from = stat(part, &st) == 0 && S_ISREG(st.st_mode) ? (curl_off_t)st.st_size : 0;
  FILE *out = fopen(part, from > 0 ? "ab" : "wb");
  if (out == NULL) {
    fprintf(stderr, "concours-cli: cannot write %s: %s\n", part, strerror(errno));
    return EXIT_FAILED;
  }
  char *esc = curl_easy_escape(NULL, name, 0);
  /* the name's slashes stay slashes: the route takes the relative path */
  for (char *s = esc; s != NULL && (s = strstr(s, "%2F")) != NULL;) {
    *s = '/';
    memmove(s + 1, s + 3, strlen(s + 3) + 1);
  }
  snprintf(path, sizeof(path), "/challenges/%s/files/%s", slug, esc != NULL ? esc : "");
  curl_free(esc);
  long code = call(p, "GET", path, NULL, NULL, 0, NULL, NULL, out, from, NULL, name);
  int closed = fclose(out) == 0;
  if (code == 416) { /* the part file is already whole (or longer): check it as it is */
    code = 206;
  } else if (code == 200 && from > 0) { /* the server sent it all again: start over */
    unlink(part);
    return download_one(p, slug, f, dir, report);
  }
  if ((code != 200 && code != 206) || !closed) {
    struct curlbuf none = {NULL, 0};
    fprintf(stderr, "concours-cli: %s: the download stopped (%ld); run the command again to resume it\n", name, code);
    return code < 0 ? explain(code, &none, "downloading") : code >= 500 ? EXIT_SERVER : EXIT_REFUSED;
  }
  if (util_sha256_file(part, got, NULL) != 0 || strcmp(got, want) != 0) {
    unlink(part);
    fprintf(stderr, "concours-cli: %s: its SHA-256 is not the one the server lists: removed, download it again\n",
            name);
    return EXIT_SERVER;
  }
  if (rename(part, dest) != 0) {
    fprintf(stderr, "concours-cli: cannot move %s into place: %s\n", dest, strerror(errno));
    return EXIT_FAILED;
  }
  json_array_append_new(report, json_pack("{s:s,s:s,s:s,s:s}", "name", name, "path", dest, "status",
                                          from > 0 ? "resumed" : "downloaded", "sha256", got));
  if (!p->json && !p->quiet)
    printf("%s: %s, SHA-256 checked\n", dest, from > 0 ? "resumed" : "downloaded");
  return 0;
}

static int cmd_download(const struct pcli *p, const char *slug, const char *dir)
{
  char path[128];
  json_t *files = NULL, *report = json_array();
  snprintf(path, sizeof(path), "/challenges/%s/files", slug);
  int rc = get_json(p, path, "listing the files", &files);
  size_t i;
  json_t *f;
  json_array_foreach(files, i, f)
  {
    if (rc != 0)
      break;
    rc = download_one(p, slug, f, dir, report);
  }
  if (rc == 0 && p->json)
    print_json(report);
  json_decref(files);
  json_decref(report);
  return rc;
}

static const char *content_type(const char *file)
{
  size_t n = strlen(file);
  if (n > 4 && strcmp(file + n - 4, ".zip") == 0)
    return "application/zip";
  if (n > 3 && strcmp(file + n - 3, ".gz") == 0)
    return "application/gzip";
  if (n > 4 && strcmp(file + n - 4, ".tar") == 0)
    return "application/x-tar";
  if (n > 4 && strcmp(file + n - 4, ".csv") == 0)
    return "text/csv";
  return "application/octet-stream";
}

/* Follows submission ID until it is scored, failed or cancelled, saying each change on stderr (a smoke run's log
 * as it comes). Returns the exit code and the last JSON in *LAST. */
static int follow(const struct pcli *p, long long id, json_t **last)
{
  char path[96], stage[64] = "";
  long long offset = 0;
  *last = NULL;
  for (int wait_ms = 500;; wait_ms = wait_ms < 3000 ? wait_ms + 250 : 3000) {
    json_t *s = NULL;
    snprintf(path, sizeof(path), "/submissions/%lld", id);
    int rc = get_json(p, path, "following the submission", &s);
    if (rc != 0)
      return rc;
    const char *status = json_string_value(json_object_get(s, "status"));
    const char *now = json_string_value(json_object_get(s, "stage"));
    char seen[64];
    snprintf(seen, sizeof(seen), "%s/%s", status ? status : "?", now ? now : "");
    if (strcmp(seen, stage) != 0 && !p->quiet)
      fprintf(stderr, "#%lld: %s%s%s\n", id, status ? status : "?", now ? ", " : "", now ? now : "");
    util_strlcpy(stage, seen, sizeof(stage));
    /* the run's log, when the participant may read it (smoke runs, or logs open to all) */
    if (json_is_string(json_object_get(s, "kind")) && !p->quiet) {
      struct curlbuf b = {NULL, 0};
      snprintf(path, sizeof(path), "/submissions/%lld/log?offset=%lld", id, offset);
      if (call(p, "GET", path, NULL, NULL, 0, NULL, &b, NULL, 0, NULL, NULL) == 200) {
        json_t *log = answer(&b);
        const char *text = json_string_value(json_object_get(log, "log"));
        if (text != NULL && text[0] != '\0') {
          fputs(text, stderr);
          offset += (long long)strlen(text);
        }
        json_decref(log);
      }
      free(b.data);
    }
    if (status != NULL && strcmp(status, "queued") != 0 && strcmp(status, "running") != 0) {
      *last = s;
      return strcmp(status, "scored") == 0 ? 0 : EXIT_FAILED;
    }
    json_decref(s);
    usleep((useconds_t)wait_ms * 1000);
  }
}

static int cmd_submit(const struct pcli *p, const char *slug, const char *file, const char *message, int smoke,
                      int wait)
{
  char sha[65], path[1400], key[128];
  int64_t size = 0;
  struct stat st;
  if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) || util_sha256_file(file, sha, &size) != 0) {
    fprintf(stderr, "concours-cli: cannot read %s: %s\n", file, strerror(errno != 0 ? errno : EINVAL));
    return EXIT_USAGE;
  }
  char *desc = message != NULL ? curl_easy_escape(NULL, message, 0) : NULL;
  snprintf(path, sizeof(path), "/challenges/%s/submissions%s%s%s%s", slug, desc != NULL || smoke ? "?" : "",
           desc != NULL ? "description=" : "", desc != NULL ? desc : "",
           smoke ? (desc != NULL ? "&mode=smoke" : "mode=smoke") : "");
  curl_free(desc);
  /* the same file sent twice in one phase is one submission (a retry after a cut connection is safe) */
  snprintf(key, sizeof(key), "Idempotency-Key: %s", sha);
  struct curlbuf b = {NULL, 0};
  long code = call(p, "POST", path, content_type(file), NULL, 0, file, &b, NULL, 0, key, file);
  json_t *made = code == 201 ? answer(&b) : NULL;
  json_int_t id = json_integer_value(json_object_get(made, "id"));
  int rc = made != NULL && id > 0 ? 0 : explain(code, &b, "submitting");
  free(b.data);
  json_decref(made);
  if (rc != 0)
    return rc;
  if (!p->quiet)
    fprintf(stderr, "Submitted %s to %s as #%lld%s.\n", file, slug, (long long)id, smoke ? " (smoke run)" : "");
  json_t *last = NULL;
  if (wait) {
    rc = follow(p, (long long)id, &last);
  } else {
    snprintf(path, sizeof(path), "/submissions/%lld", (long long)id);
    rc = get_json(p, path, "reading the submission", &last);
  }
  if (last != NULL) {
    if (p->json) {
      print_json(last);
    } else {
      const char *status = json_string_value(json_object_get(last, "status"));
      json_t *err = json_object_get(last, "error");
      json_t *score = json_object_get(last, "public_score");
      if (json_is_number(score))
        printf("#%lld %s: public score %.10g\n", (long long)id, status, json_number_value(score));
      else if (json_is_object(err))
        printf("#%lld %s: %s (%s)\n", (long long)id, status, json_string_value(json_object_get(err, "message")),
               json_string_value(json_object_get(err, "code")));
      else
        printf("#%lld %s\n", (long long)id, status ? status : "?");
    }
  }
  json_decref(last);
  return rc;
}

static void submissions_text(json_t *list, const char *slug)
{
  size_t i;
  json_t *s;
  (void)slug;
  printf("%-8s %-10s %-14s %-21s %s\n", "ID", "STATUS", "PUBLIC", "SENT", "DESCRIPTION");
  json_array_foreach(list, i, s)
  {
    char score[32] = "-";
    if (json_is_number(json_object_get(s, "public_score")))
      snprintf(score, sizeof(score), "%.10g", json_number_value(json_object_get(s, "public_score")));
    const char *d = json_string_value(json_object_get(s, "description"));
    printf("%-8lld %-10s %-14s %-21s %s\n", (long long)json_integer_value(json_object_get(s, "id")),
           json_string_value(json_object_get(s, "status")), score, json_string_value(json_object_get(s, "created_at")),
           d ? d : "");
  }
}

static void leaderboard_text(json_t *board, const char *slug)
{
  size_t i;
  json_t *r;
  printf("%s leaderboard of %s (%s, %s is better)\n", json_string_value(json_object_get(board, "split")), slug,
         json_string_value(json_object_get(board, "metric")),
         json_is_true(json_object_get(board, "higher_is_better")) ? "higher" : "lower");
  printf("%-6s %-30s %-14s %s\n", "RANK", "TEAM", "SCORE", "ENTRIES");
  json_array_foreach(json_object_get(board, "rows"), i, r)
  {
    printf("%-6lld %-30s %-14.10g %lld\n", (long long)json_integer_value(json_object_get(r, "rank")),
           json_string_value(json_object_get(r, "name")), json_number_value(json_object_get(r, "score")),
           (long long)json_integer_value(json_object_get(r, "submissions")));
  }
}

/* ------------------------------------------------------------------------------------------------ main */

static const char usage_text[] =
  "usage: concours-cli COMMAND [options]   (every command takes --json, --quiet, --server URL, --token T)\n"
  "  login [--server URL] [--username U] [--token T]   a password is read from the terminal (or one line of\n"
  "                                        standard input); an API token is made and kept in\n"
  "                                        ~/.config/concours/credentials (mode 0600)\n"
  "  challenges                            the challenges, the phase open now and its end\n"
  "  accept-terms SLUG                     prints the terms of SLUG and accepts them\n"
  "  download SLUG [--out DIR]             every data file of SLUG into DIR (default: SLUG), resumed where it\n"
  "                                        stopped, SHA-256 checked\n"
  "  submit SLUG FILE [-m MSG] [--smoke] [--wait]\n"
  "                                        sends FILE (predictions, or code for a code challenge; --smoke: a\n"
  "                                        smoke run); --wait follows it until it is scored\n"
  "  submissions SLUG                      your team's submissions, newest first\n"
  "  leaderboard SLUG [--private]          the leaderboard (the private one once published)\n"
  "Environment: CONCOURS_SERVER and CONCOURS_TOKEN override the credentials file.\n"
  "Exit codes: 0 done (scored, with --wait), 1 the submission failed, 2 usage, 3 refused by the server (the\n"
  "message says why), 4 the server cannot be reached or failed.\n";

int pcli_main(int argc, char **argv)
{
  struct pcli p;
  const char *args[4] = {NULL, NULL, NULL, NULL}, *out = NULL, *message = NULL, *username = NULL, *token = NULL;
  const char *server = NULL;
  int nargs = 0, smoke = 0, wait = 0, private_split = 0;
  memset(&p, 0, sizeof(p));
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--json") == 0) {
      p.json = 1;
    } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
      p.quiet = 1;
    } else if (strcmp(a, "--smoke") == 0) {
      smoke = 1;
    } else if (strcmp(a, "--wait") == 0) {
      wait = 1;
    } else if (strcmp(a, "--private") == 0) {
      private_split = 1;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage_text, stdout);
      return 0;
    } else if (v != NULL && (strcmp(a, "--server") == 0 || strcmp(a, "--token") == 0 || strcmp(a, "--out") == 0 ||
                             strcmp(a, "-m") == 0 || strcmp(a, "--message") == 0 || strcmp(a, "--username") == 0)) {
      if (strcmp(a, "--server") == 0)
        server = v;
      else if (strcmp(a, "--token") == 0)
        token = v;
      else if (strcmp(a, "--out") == 0)
        out = v;
      else if (strcmp(a, "--username") == 0)
        username = v;
      else
        message = v;
      i++;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "concours-cli: unknown or incomplete option %s\n%s", a, usage_text);
      return EXIT_USAGE;
    } else if (nargs < 4) {
      args[nargs++] = a;
    } else {
      fprintf(stderr, "concours-cli: too many arguments\n%s", usage_text);
      return EXIT_USAGE;
    }
  }
  if (nargs == 0) {
    fputs(usage_text, stderr);
    return EXIT_USAGE;
  }
  load_credentials(&p);
  if (server != NULL)
    util_strlcpy(p.server, server, sizeof(p.server));
  size_t n = strlen(p.server);
  while (n > 0 && p.server[n - 1] == '/')
    p.server[--n] = '\0';
  const char *cmd = args[0];
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
    return EXIT_SERVER;
  int rc = EXIT_USAGE;
  if (strcmp(cmd, "login") == 0 && nargs == 1) {
    rc = cmd_login(&p, username, token);
  } else if (p.server[0] == '\0' || (p.token[0] == '\0' && token == NULL)) {
    fprintf(stderr, "concours-cli: not logged in: concours-cli login --server URL (or set CONCOURS_SERVER and "
                    "CONCOURS_TOKEN)\n");
  } else {
    if (token != NULL)
      util_strlcpy(p.token, token, sizeof(p.token));
    char path[160];
    if (nargs == 2)
      snprintf(path, sizeof(path), "/challenges/%s/%s%s", args[1],
               strcmp(cmd, "submissions") == 0 ? "submissions" : "leaderboard", private_split ? "?split=private" : "");
    if (strcmp(cmd, "challenges") == 0 && nargs == 1)
      rc = show(&p, "/challenges", "listing the challenges", challenges_text, NULL);
    else if (strcmp(cmd, "accept-terms") == 0 && nargs == 2 && slug_ok(args[1]))
      rc = cmd_accept_terms(&p, args[1]);
    else if (strcmp(cmd, "download") == 0 && nargs == 2 && slug_ok(args[1]))
      rc = cmd_download(&p, args[1], out != NULL ? out : args[1]);
    else if (strcmp(cmd, "submit") == 0 && nargs == 3 && slug_ok(args[1]))
      rc = cmd_submit(&p, args[1], args[2], message, smoke, wait);
    else if (strcmp(cmd, "submissions") == 0 && nargs == 2 && slug_ok(args[1]))
      rc = show(&p, path, "listing your submissions", submissions_text, args[1]);
    else if (strcmp(cmd, "leaderboard") == 0 && nargs == 2 && slug_ok(args[1]))
      rc = show(&p, path, "reading the leaderboard", leaderboard_text, args[1]);
    else
      fprintf(stderr, "concours-cli: unknown command or wrong arguments: %s\n%s", cmd, usage_text);
  }
  curl_global_cleanup();
  return rc;
}
