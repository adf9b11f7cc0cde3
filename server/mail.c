/* mail.c: see mail.h. */
#include "mail.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "db.h"
#include "db_mail.h"
#include "util.h"

static struct {
  pthread_t thread;
  int started;
  atomic_int stop;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  const struct app_config *cfg;
} m = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

int mail_address_ok(const char *addr)
{
  size_t n = addr != NULL ? strlen(addr) : 0;
  const char *at = n > 0 ? strchr(addr, '@') : NULL;
  if (n < 3 || n > 300 || at == NULL || at == addr || at[1] == '\0' || strchr(at + 1, '@') != NULL)
    return 0;
  for (const char *p = addr; *p != '\0'; p++)
    if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == ',' || *p == ';' || *p == '"' || *p == 0x7f)
      return 0;
  return 1;
}

/* SUBJECT as a header value: itself when ASCII, else one RFC 2047 encoded word (base64 of the UTF-8). */
static char *header_text(const char *subject)
{
  int ascii = 1;
  for (const char *p = subject; *p != '\0'; p++)
    ascii &= (unsigned char)*p < 0x80;
  if (ascii)
    return strdup(subject);
  size_t n = strlen(subject), cap = 16 + 4 * ((n + 2) / 3) + 1;
  char *out = malloc(cap);
  if (out == NULL)
    return NULL;
  memcpy(out, "=?UTF-8?B?", 10);
  int len = EVP_EncodeBlock((unsigned char *)out + 10, (const unsigned char *)subject, (int)n);
  memcpy(out + 10 + len, "?=", 3);
  return out;
}

char *mail_message(const char *from, const char *to, const char *subject, const char *body, int64_t id, int64_t now)
{
  if (strpbrk(to, "\r\n") != NULL || strpbrk(subject, "\r\n") != NULL || strpbrk(from, "\r\n") != NULL)
    return NULL;
  char date[64], *subj = header_text(subject);
  time_t t = (time_t)now;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  /* the body with CRLF line ends, and a lone "." line doubled (SMTP's end of data) */
  size_t blen = strlen(body);
  size_t cap = blen * 2 + strlen(subj != NULL ? subj : "") + 2 * strlen(from) + strlen(to) + 1024;
  char *out = subj != NULL ? malloc(cap) : NULL;
  if (out == NULL) {
    free(subj);
    return NULL;
  }
  const char *domain = strchr(from, '@') != NULL ? strchr(from, '@') + 1 : "concours";
  int at = snprintf(out, cap,
                    "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <mail-%lld-%lld@%s>\r\n"
                    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n",
                    from, to, subj, date, (long long)id, (long long)now, domain);
  free(subj);
  if (at < 0 || (size_t)at + 4 >= cap) { /* the headers never fill the buffer (CAP counts them); should they: none */
    free(out);
    return NULL;
  }
  size_t o = (size_t)at;
  int line_start = 1;
  for (size_t i = 0; i < blen && o + 4 < cap; i++) {
    if (line_start && body[i] == '.')
      out[o++] = '.';
    if (body[i] == '\n') {
      out[o++] = '\r';
      out[o++] = '\n';
      line_start = 1;
      continue;
    }
    if (body[i] != '\r')
      out[o++] = body[i];
    line_start = 0;
  }
  if (o >= 2 && !(out[o - 2] == '\r' && out[o - 1] == '\n') && o + 2 < cap) {
    out[o++] = '\r';
    out[o++] = '\n';
  }
  out[o] = '\0';
  return out;
}

struct reader {
  const char *data;
  size_t len, at;
};

static size_t read_message(char *buf, size_t size, size_t n, void *arg)
{
  struct reader *r = arg;
  size_t want = size * n, left = r->len - r->at;
  size_t k = want < left ? want : left;
  memcpy(buf, r->data + r->at, k);
  r->at += k;
  return k;
}

/* Sends MSG to TO by SMTP. 0, or -1 with the reason in ERR. */
static int send_smtp(const struct app_config *cfg, const char *to, const char *msg, char *err, size_t errlen)
{
  CURL *c = curl_easy_init();
  struct curl_slist *rcpt = NULL;
  char addr[340], from[280];
  struct reader r = {msg, strlen(msg), 0};
  if (c == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  snprintf(addr, sizeof(addr), "<%s>", to);
  snprintf(from, sizeof(from), "<%s>", cfg->mail_from);
  rcpt = curl_slist_append(rcpt, addr);
  curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
  curl_easy_setopt(c, CURLOPT_READDATA, &r);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY); /* STARTTLS when offered */
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (cfg->smtp_user[0] != '\0') {
    curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp_user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->smtp_password);
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK)
    snprintf(err, errlen, "%s", curl_easy_strerror(rc));
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(c);
  return rc == CURLE_OK ? 0 : -1;
}

/* Writes MSG as DIR/mail-ID.eml (whole or not at all). 0, or -1 with ERR. */
static int send_dir(const struct app_config *cfg, int64_t id, const char *msg, char *err, size_t errlen)
{
  char path[APP_PATH_MAX];
  if (util_fmt(path, sizeof(path), "%s/mail-%08lld.eml", cfg->mail_dir, (long long)id) != 0 ||
      util_mkdirs(cfg->mail_dir, 0700) != 0 || util_write_file_atomic(path, msg, strlen(msg), 0600) != 0) {
    snprintf(err, errlen, "cannot write in %.200s: %s", cfg->mail_dir, strerror(errno));
    return -1;
  }
  return 0;
}

/* Sends what is due now; returns how many were handled (sent or failed), at most LEFT. */
static int send_due(int left)
{
  struct mail_row rows[16];
  sqlite3 *db = db_acquire();
  int64_t now = app_now();
  int n = db_mail_due(db, now, rows, left < 16 ? left : 16);
  db_release(db);
  for (int k = 0; k < n; k++) {
    char err[300] = "";
    int ok = -1;
    char *msg = mail_message(m.cfg->mail_from, rows[k].to, rows[k].subject, rows[k].body, rows[k].id, now);
    if (msg == NULL)
      snprintf(err, sizeof(err), "the recipient or subject holds a line break");
    else if (m.cfg->mail_dir[0] != '\0')
      ok = send_dir(m.cfg, rows[k].id, msg, err, sizeof(err));
    else
      ok = send_smtp(m.cfg, rows[k].to, msg, err, sizeof(err));
    free(msg);
    free(rows[k].body);
    if (ok != 0)
      fprintf(stderr, "concours: mail %lld to %s not sent (try %d): %s\n", (long long)rows[k].id, rows[k].to,
              rows[k].attempts + 1, err);
    db = db_acquire();
    db_mail_done(db, rows[k].id, ok == 0 ? NULL : err, rows[k].attempts, app_now());
    db_release(db);
  }
  return n < 0 ? 0 : n;
}

static void *sender(void *arg)
{
  (void)arg;
  int64_t minute = 0;
  int sent = 0;
  while (!atomic_load(&m.stop)) {
    int64_t now = app_now();
    if (now / 60 != minute) { /* once a minute: the sending budget, and the phases' reminders */
      minute = now / 60;
      sent = 0;
      sqlite3 *db = db_acquire();
      db_phase_reminders(db, m.cfg->public_url, now);
      db_release(db);
    }
    if (sent < MAIL_PER_MINUTE)
      sent += send_due(MAIL_PER_MINUTE - sent);
    pthread_mutex_lock(&m.lock);
    if (!atomic_load(&m.stop)) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += 1;
      pthread_cond_timedwait(&m.wake, &m.lock, &ts);
    }
    pthread_mutex_unlock(&m.lock);
  }
  return NULL;
}

int mail_start(const struct app_config *cfg)
{
  m.cfg = cfg;
  atomic_store(&m.stop, 0);
  if (cfg->mail_dir[0] == '\0' && cfg->smtp_url[0] == '\0') {
    printf("mail: none configured (--smtp URL or --mail-dir DIR): mails wait in the queue\n");
    return 0;
  }
  printf("mail: %s %s\n", cfg->mail_dir[0] != '\0' ? "written to" : "sent through",
         cfg->mail_dir[0] != '\0' ? cfg->mail_dir : cfg->smtp_url);
  if (pthread_create(&m.thread, NULL, sender, NULL) != 0)
    return -1;
  m.started = 1;
  return 0;
}

void mail_notify(void)
{
  pthread_mutex_lock(&m.lock);
  pthread_cond_signal(&m.wake);
  pthread_mutex_unlock(&m.lock);
}

void mail_stop(void)
{
  if (!m.started)
    return;
  pthread_mutex_lock(&m.lock);
  atomic_store(&m.stop, 1);
  pthread_cond_broadcast(&m.wake);
  pthread_mutex_unlock(&m.lock);
  pthread_join(m.thread, NULL);
  m.started = 0;
}
