/* db_mail.c: see db_mail.h. */
#include "db_mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_internal.h"
#include "util.h"

enum app_status db_mail_queue(sqlite3 *db, const char *to, const char *subject, const char *body, int64_t now)
{
  sqlite3_stmt *st =
    dbi_prepare(db, "INSERT INTO mails(to_addr,subject,body,created_at,next_try_at) VALUES(?1,?2,?3,?4,?4)");
  if (st == NULL)
    return APP_INTERNAL;
  dbi_bind_text(st, 1, to);
  dbi_bind_text(st, 2, subject);
  dbi_bind_text(st, 3, body);
  sqlite3_bind_int64(st, 4, now);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

int db_mail_due(sqlite3 *db, int64_t now, struct mail_row *rows, int n)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT id, attempts, to_addr, subject, body FROM mails WHERE sent_at IS NULL "
                                     "AND attempts<? AND next_try_at<=? ORDER BY next_try_at, id LIMIT ?");
  if (st == NULL)
    return -1;
  sqlite3_bind_int(st, 1, MAIL_MAX_ATTEMPTS);
  sqlite3_bind_int64(st, 2, now);
  sqlite3_bind_int(st, 3, n);
  int got = 0, rc;
  while (got < n && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    rows[got].id = sqlite3_column_int64(st, 0);
    rows[got].attempts = sqlite3_column_int(st, 1);
    util_strlcpy(rows[got].to, dbi_col_text(st, 2), sizeof(rows[got].to));
    util_strlcpy(rows[got].subject, dbi_col_text(st, 3), sizeof(rows[got].subject));
    rows[got].body = strdup(dbi_col_text(st, 4));
    if (rows[got].body == NULL)
      break;
    got++;
  }
  dbi_finalize(st);
  return got;
}

enum app_status db_mail_done(sqlite3 *db, int64_t id, const char *error, int attempts, int64_t now)
{
  /* a failed send waits 30 s, then twice as long each time, at most an hour */
  int64_t wait = 30;
  for (int k = 0; k < attempts && wait < 3600; k++)
    wait *= 2;
  sqlite3_stmt *st = dbi_prepare(
    db, error == NULL ? "UPDATE mails SET sent_at=?2, attempts=attempts+1, last_error=NULL WHERE id=?1"
                      : "UPDATE mails SET attempts=attempts+1, next_try_at=?2+?3, last_error=?4 WHERE id=?1");
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, now);
  if (error != NULL) {
    sqlite3_bind_int64(st, 3, wait < 3600 ? wait : 3600);
    dbi_bind_text(st, 4, error);
  }
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

int db_reset_begin(sqlite3 *db, const char *login, const char *token_hash, int64_t now, char *email, size_t emaillen,
                   char *username, size_t userlen)
{
  int r = -1;
  if (dbi_begin(db) != APP_OK)
    return -1;
  sqlite3_stmt *st = dbi_prepare(
    db, "SELECT u.id, u.email, u.username, (SELECT count(*) FROM password_resets p WHERE p.user_id=u.id AND "
        "p.created_at>?2-3600) FROM users u WHERE u.username=?1 COLLATE NOCASE OR lower(u.email)=lower(?1) "
        "ORDER BY u.username=?1 COLLATE NOCASE DESC, u.id LIMIT 1");
  if (st == NULL)
    goto out;
  dbi_bind_text(st, 1, login);
  sqlite3_bind_int64(st, 2, now);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    r = 0;
    goto out;
  }
  if (rc != SQLITE_ROW)
    goto out;
  int64_t user_id = sqlite3_column_int64(st, 0);
  util_strlcpy(email, dbi_col_text(st, 1), emaillen);
  util_strlcpy(username, dbi_col_text(st, 2), userlen);
  int recent = sqlite3_column_int(st, 3);
  dbi_finalize(st);
  st = NULL;
  if (recent >= RESET_PER_USER_PER_HOUR || email[0] == '\0') {
    r = 0;
    goto out;
  }
  st = dbi_prepare(db, "INSERT INTO password_resets(token_hash,user_id,created_at,expires_at) VALUES(?,?,?,?)");
  if (st == NULL)
    goto out;
  dbi_bind_text(st, 1, token_hash);
  sqlite3_bind_int64(st, 2, user_id);
  sqlite3_bind_int64(st, 3, now);
  sqlite3_bind_int64(st, 4, now + RESET_TTL_S);
  r = dbi_step_done(db, st) == 0 ? 1 : -1;
out:
  dbi_finalize(st);
  return dbi_finish(db, r >= 0 ? APP_OK : APP_INTERNAL) == APP_OK ? r : -1;
}

enum app_status db_reset_finish(sqlite3 *db, const char *token_hash, const char *pw_hash, int64_t now)
{
  enum app_status s = APP_INTERNAL;
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  sqlite3_stmt *st = dbi_prepare(db, "UPDATE password_resets SET used_at=?2 WHERE token_hash=?1 AND used_at IS NULL "
                                     "AND expires_at>?2 RETURNING user_id");
  if (st == NULL)
    goto out;
  dbi_bind_text(st, 1, token_hash);
  sqlite3_bind_int64(st, 2, now);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    s = rc == SQLITE_DONE ? APP_INVALID_TOKEN : APP_INTERNAL;
    goto out;
  }
  int64_t user_id = sqlite3_column_int64(st, 0);
  sqlite3_step(st);
  dbi_finalize(st);
  /* the new password, every other link of the account used up, every session ended */
  static const char *const sql[] = {"UPDATE users SET pw_hash=?2 WHERE id=?1",
                                    "UPDATE password_resets SET used_at=?3 WHERE user_id=?1 AND used_at IS NULL",
                                    "DELETE FROM sessions WHERE user_id=?1"};
  for (size_t k = 0; k < sizeof(sql) / sizeof(sql[0]); k++) {
    st = dbi_prepare(db, sql[k]);
    if (st == NULL)
      goto out;
    sqlite3_bind_int64(st, 1, user_id);
    if (k == 0)
      dbi_bind_text(st, 2, pw_hash);
    if (k == 1)
      sqlite3_bind_int64(st, 3, now);
    if (dbi_step_done(db, st) != 0)
      goto out;
    dbi_finalize(st);
  }
  st = NULL;
  s = APP_OK;
out:
  dbi_finalize(st);
  return dbi_finish(db, s);
}

int db_notify_get(sqlite3 *db, int64_t user_id, int *news)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT notify_submissions, notify_news FROM users WHERE id=?");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, user_id);
  int r = -1;
  if (sqlite3_step(st) == SQLITE_ROW) {
    r = sqlite3_column_int(st, 0) != 0;
    *news = sqlite3_column_int(st, 1) != 0;
  }
  dbi_finalize(st);
  return r;
}

enum app_status db_notify_set(sqlite3 *db, int64_t user_id, int submissions, int news)
{
  sqlite3_stmt *st = dbi_prepare(db, "UPDATE users SET notify_submissions=?1, notify_news=?3 WHERE id=?2");
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int(st, 1, submissions != 0);
  sqlite3_bind_int(st, 3, news != 0);
  sqlite3_bind_int64(st, 2, user_id);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

enum app_status db_mail_submission_outcome(sqlite3 *db, int64_t submission_id, const char *base_url, int64_t now)
{
  sqlite3_stmt *st = dbi_prepare(
    db, "SELECT u.email, u.username, c.slug, c.title, s.status, CASE WHEN " DBI_SQL_RESULTS_HIDDEN " THEN NULL ELSE "
        "s.public_score END, s.error_message, c.precision, u.lang "
        "FROM submissions s JOIN users u ON u.id=s.user_id JOIN challenges c ON c.id=s.challenge_id "
        "WHERE s.id=? AND u.notify_submissions=1 AND s.mode IS NOT 'smoke' AND s.status IN ('scored','failed')");
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int64(st, 1, submission_id);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    dbi_finalize(st);
    return rc == SQLITE_DONE ? APP_OK : APP_INTERNAL;
  }
  char subject[256], body[2400], score[64] = "", why[1300];
  const char *email = dbi_col_text(st, 0), *user = dbi_col_text(st, 1), *slug = dbi_col_text(st, 2);
  const char *title = dbi_col_text(st, 3);
  int scored = strcmp(dbi_col_text(st, 4), "scored") == 0;
  enum i18n_lang lang = strcmp(dbi_col_text(st, 8), "fr") == 0 ? I18N_FR : I18N_EN;
  if (sqlite3_column_type(st, 5) != SQLITE_NULL)
    snprintf(score, sizeof(score), "%.*f", sqlite3_column_int(st, 7), sqlite3_column_double(st, 5));
  else if (scored) /* a phase hiding its results until the jury publishes */
    util_strlcpy(score, i18n_format(lang, "(hidden until the final ranking is published)"), sizeof(score));
  i18n_snprintf(lang, subject, sizeof(subject), "[%.60s] submission #%lld %s", slug, (long long)submission_id,
                i18n_format(lang, scored ? "scored" : "failed"));
  if (scored) {
    i18n_snprintf(lang, body, sizeof(body),
                  "Hello %s,\n\nyour submission #%lld to \"%.200s\" was scored: public score %s.\n\n"
                  "Your submissions and the leaderboard: %s/challenge.html?slug=%s\n\n"
                  "You get this mail because you asked for news of your submissions; turn it off on %s/account.html.\n",
                  user, (long long)submission_id, title, score[0] != '\0' ? score : i18n_format(lang, "(none)"),
                  base_url, slug, base_url);
  } else {
    i18n_text(lang, dbi_col_text(st, 6), why, sizeof(why)); /* the scorer's message, stored in English */
    i18n_snprintf(lang, body, sizeof(body),
                  "Hello %s,\n\nyour submission #%lld to \"%.200s\" could not be scored:\n\n  %.1200s\n\n"
                  "It does not count against your quota. Your submissions: %s/challenge.html?slug=%s\n\n"
                  "You get this mail because you asked for news of your submissions; turn it off on %s/account.html.\n",
                  user, (long long)submission_id, title, why, base_url, slug, base_url);
  }
  char to[320];
  util_strlcpy(to, email, sizeof(to));
  dbi_finalize(st);
  if (to[0] == '\0' || strchr(to, '\n') != NULL || strchr(to, '\r') != NULL)
    return APP_OK;
  return db_mail_queue(db, to, subject, body, now);
}

enum app_status db_account_email(sqlite3 *db, int64_t user_id, char *email, size_t n, int64_t *created_at)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT email, created_at FROM users WHERE id=?");
  if (st == NULL)
    return APP_INTERNAL;
  sqlite3_bind_int64(st, 1, user_id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    util_strlcpy(email, dbi_col_text(st, 0), n);
    *created_at = sqlite3_column_int64(st, 1);
  }
  dbi_finalize(st);
  return rc == SQLITE_ROW ? APP_OK : rc == SQLITE_DONE ? APP_NOT_FOUND : APP_INTERNAL;
}

enum app_status db_account_update(sqlite3 *db, int64_t user_id, const char *pw_hash, const char *email,
                                  const char *keep_session)
{
  enum app_status s = APP_INTERNAL;
  sqlite3_stmt *st = NULL;
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  st = dbi_prepare(db, "UPDATE users SET pw_hash=coalesce(?2,pw_hash), email=coalesce(?3,email) WHERE id=?1");
  if (st == NULL)
    goto out;
  sqlite3_bind_int64(st, 1, user_id);
  dbi_bind_text(st, 2, pw_hash);
  dbi_bind_text(st, 3, email);
  if (dbi_step_done(db, st) != 0)
    goto out;
  dbi_finalize(st);
  st = NULL;
  if (pw_hash != NULL) { /* a new password ends the other sessions (a stolen one among them) */
    st = dbi_prepare(db, "DELETE FROM sessions WHERE user_id=? AND token_hash IS NOT ?");
    if (st == NULL)
      goto out;
    sqlite3_bind_int64(st, 1, user_id);
    dbi_bind_text(st, 2, keep_session);
    if (dbi_step_done(db, st) != 0)
      goto out;
  }
  s = APP_OK;
out:
  dbi_finalize(st);
  return dbi_finish(db, s);
}

enum app_status db_account_delete(sqlite3 *db, int64_t user_id, int64_t now)
{
  enum app_status s = APP_INTERNAL;
  char gone[48];
  snprintf(gone, sizeof(gone), "deleted-%lld", (long long)user_id);
  if (dbi_begin(db) != APP_OK)
    return APP_INTERNAL;
  /* What names a person goes; what the challenges need stays: the submissions and their scores (boards and
   * published rankings keep their meaning), under the name "deleted-ID". */
  static const char *const sql[] = {
    "UPDATE teams SET name=?2 WHERE solo=1 AND id IN (SELECT team_id FROM team_members WHERE user_id=?1) AND "
    "name=(SELECT username FROM users WHERE id=?1)",
    "DELETE FROM mails WHERE sent_at IS NULL AND to_addr=(SELECT email FROM users WHERE id=?1)",
    "UPDATE users SET username=?2, email='', pw_hash='!', notify_submissions=0 WHERE id=?1",
    "DELETE FROM sessions WHERE user_id=?1",
    "DELETE FROM api_tokens WHERE user_id=?1",
    "DELETE FROM password_resets WHERE user_id=?1"};
  sqlite3_stmt *st = NULL;
  for (size_t k = 0; k < sizeof(sql) / sizeof(sql[0]); k++) {
    st = dbi_prepare(db, sql[k]);
    if (st == NULL)
      goto out;
    sqlite3_bind_int64(st, 1, user_id);
    if (sqlite3_bind_parameter_count(st) >= 2)
      dbi_bind_text(st, 2, gone);
    if (dbi_step_done(db, st) != 0)
      goto out;
    dbi_finalize(st);
    st = NULL;
  }
  json_t *details = json_object();
  s = db_audit_append(db, gone, "account.delete", NULL, gone, "deleted by its owner", details, now);
  json_decref(details);
out:
  dbi_finalize(st);
  return dbi_finish(db, s);
}

enum i18n_lang db_user_lang(sqlite3 *db, const char *username)
{
  enum i18n_lang lang = I18N_EN;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT lang FROM users WHERE username=?");
  if (st == NULL)
    return lang;
  dbi_bind_text(st, 1, username);
  if (sqlite3_step(st) == SQLITE_ROW && strcmp(dbi_col_text(st, 0), "fr") == 0)
    lang = I18N_FR;
  dbi_finalize(st);
  return lang;
}

enum app_status db_user_set_lang(sqlite3 *db, int64_t user_id, enum i18n_lang lang)
{
  sqlite3_stmt *st = dbi_prepare(db, "UPDATE users SET lang=? WHERE id=?");
  if (st == NULL)
    return APP_INTERNAL;
  dbi_bind_text(st, 1, i18n_code(lang));
  sqlite3_bind_int64(st, 2, user_id);
  int rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

int db_mail_participants(sqlite3 *db, int64_t challenge_id, const char *to, const enum i18n_lang *lang,
                         const char *subject, const char *body, int64_t now)
{
  /* the challenge's participants: they accepted its terms; who wants news and has an address */
  char sql[700];
  const char *filter = strcmp(to, "submitted") == 0
                         ? " AND EXISTS(SELECT 1 FROM submissions s WHERE s.challenge_id=?1 AND s.user_id=u.id "
                           "AND s.status='scored')"
                       : strcmp(to, "not_submitted") == 0
                         ? " AND NOT EXISTS(SELECT 1 FROM submissions s WHERE s.challenge_id=?1 AND s.user_id=u.id "
                           "AND s.status='scored')"
                         : "";
  if (util_fmt(sql, sizeof(sql),
               "INSERT INTO mails(to_addr,subject,body,created_at,next_try_at) SELECT u.email, ?2, ?3, ?4, ?4 "
               "FROM users u WHERE u.notify_news=1 AND u.email<>'' AND u.id IN (SELECT user_id FROM "
               "terms_acceptances WHERE challenge_id=?1)%s%s",
               filter, lang != NULL ? " AND u.lang=?5" : "") != 0)
    return -1;
  sqlite3_stmt *st = dbi_prepare(db, sql);
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, challenge_id);
  dbi_bind_text(st, 2, subject);
  dbi_bind_text(st, 3, body);
  sqlite3_bind_int64(st, 4, now);
  if (lang != NULL)
    dbi_bind_text(st, 5, i18n_code(*lang));
  int rc = dbi_step_done(db, st);
  int n = sqlite3_changes(db);
  dbi_finalize(st);
  return rc == 0 ? n : -1;
}

int db_phase_reminders(sqlite3 *db, const char *base_url, int64_t now)
{
  /* phases that opened in the last day, and phases that close within a day, not mailed yet, of open challenges */
  sqlite3_stmt *st = dbi_prepare(
    db, "SELECT c.id, c.slug, c.title, p.name, p.start_at, p.end_at, k.kind FROM phases p JOIN challenges c ON "
        "c.id=p.challenge_id JOIN (SELECT 'opens' AS kind UNION ALL SELECT 'closes') k WHERE c.state='open' AND "
        "((k.kind='opens' AND p.start_at<=?1 AND p.start_at>?1-86400 AND p.end_at>?1) OR "
        "(k.kind='closes' AND p.end_at>?1 AND p.end_at<=?1+86400 AND p.start_at<=?1)) AND NOT EXISTS(SELECT 1 FROM "
        "phase_mails m WHERE m.challenge_id=c.id AND m.phase=p.name AND m.kind=k.kind) LIMIT 20");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, now);
  struct due {
    int64_t id;
    char slug[64], title[200], phase[64], kind[8], end[32];
  } due[20];
  int n = 0;
  while (n < 20 && sqlite3_step(st) == SQLITE_ROW) {
    due[n].id = sqlite3_column_int64(st, 0);
    util_strlcpy(due[n].slug, dbi_col_text(st, 1), sizeof(due[n].slug));
    util_strlcpy(due[n].title, dbi_col_text(st, 2), sizeof(due[n].title));
    util_strlcpy(due[n].phase, dbi_col_text(st, 3), sizeof(due[n].phase));
    util_iso8601(sqlite3_column_int64(st, 5), due[n].end);
    util_strlcpy(due[n].kind, dbi_col_text(st, 6), sizeof(due[n].kind));
    n++;
  }
  dbi_finalize(st);
  int queued = 0;
  for (int k = 0; k < n; k++) {
    int opens = strcmp(due[k].kind, "opens") == 0;
    if (dbi_begin(db) != APP_OK)
      return -1;
    int m = 0;
    for (enum i18n_lang lang = I18N_EN; lang <= I18N_FR && m >= 0; lang++) {
      char subject[256], body[1400];
      const char *state = i18n_format(lang, opens ? "is open" : "closes within 24 hours");
      i18n_snprintf(lang, subject, sizeof(subject), "[%s] the %s phase %s", due[k].slug, due[k].phase, state);
      i18n_snprintf(lang, body, sizeof(body),
                    "Hello,\n\nthe %s phase of \"%s\" %s (it closes at %s UTC).\n\n%s/challenge.html?slug=%s\n\n"
                    "You get this mail because you take part in this challenge; turn such news off on "
                    "%s/account.html.\n",
                    due[k].phase, due[k].title, state, due[k].end, base_url, due[k].slug, base_url);
      int got = db_mail_participants(db, due[k].id, "all", &lang, subject, body, now);
      m = got < 0 ? -1 : m + got;
    }
    st = dbi_prepare(db, "INSERT INTO phase_mails(challenge_id,phase,kind,sent_at) VALUES(?,?,?,?)");
    int rc = -1;
    if (st != NULL && m >= 0) {
      sqlite3_bind_int64(st, 1, due[k].id);
      dbi_bind_text(st, 2, due[k].phase);
      dbi_bind_text(st, 3, due[k].kind);
      sqlite3_bind_int64(st, 4, now);
      rc = dbi_step_done(db, st);
    }
    dbi_finalize(st);
    if (dbi_finish(db, rc == 0 ? APP_OK : APP_INTERNAL) != APP_OK)
      return -1;
    queued += m;
  }
  return queued;
}

int db_announce(sqlite3 *db, int64_t challenge_id, const char *slug, const char *actor, const char *to,
                const char *subject, const char *body, const char *reason, int64_t now)
{
  char target[64];
  snprintf(target, sizeof(target), "announcement:%s", to);
  if (dbi_begin(db) != APP_OK)
    return -1;
  int n = db_mail_participants(db, challenge_id, to, NULL, subject, body, now);
  json_t *details = json_pack("{s:s,s:i}", "subject", subject, "queued", n);
  enum app_status s = n >= 0 && details != NULL
                        ? db_audit_append(db, actor, "challenge.announce", slug, target, reason, details, now)
                        : APP_INTERNAL;
  json_decref(details);
  return dbi_finish(db, s) == APP_OK ? n : -1;
}

int db_verify_begin(sqlite3 *db, int64_t user_id, const char *token_hash, int64_t now, char *email, size_t n)
{
  int r = -1;
  if (dbi_begin(db) != APP_OK)
    return -1;
  sqlite3_stmt *st = dbi_prepare(db, "SELECT u.email, (SELECT count(*) FROM email_verifications v WHERE "
                                     "v.user_id=u.id AND v.created_at>?2-3600) FROM users u WHERE u.id=?1");
  if (st == NULL)
    goto out;
  sqlite3_bind_int64(st, 1, user_id);
  sqlite3_bind_int64(st, 2, now);
  if (sqlite3_step(st) != SQLITE_ROW)
    goto out;
  util_strlcpy(email, dbi_col_text(st, 0), n);
  int recent = sqlite3_column_int(st, 1);
  dbi_finalize(st);
  st = NULL;
  if (recent >= RESET_PER_USER_PER_HOUR || email[0] == '\0') {
    r = 0;
    goto out;
  }
  /* the account counts as unconfirmed until the link comes back */
  st = dbi_prepare(db, "UPDATE users SET email_verified_at=NULL WHERE id=?");
  if (st == NULL)
    goto out;
  sqlite3_bind_int64(st, 1, user_id);
  if (dbi_step_done(db, st) != 0)
    goto out;
  dbi_finalize(st);
  st = dbi_prepare(db, "INSERT INTO email_verifications(token_hash,user_id,email,created_at,expires_at) "
                       "VALUES(?,?,?,?,?)");
  if (st == NULL)
    goto out;
  dbi_bind_text(st, 1, token_hash);
  sqlite3_bind_int64(st, 2, user_id);
  dbi_bind_text(st, 3, email);
  sqlite3_bind_int64(st, 4, now);
  sqlite3_bind_int64(st, 5, now + VERIFY_TTL_S);
  r = dbi_step_done(db, st) == 0 ? 1 : -1;
out:
  dbi_finalize(st);
  return dbi_finish(db, r >= 0 ? APP_OK : APP_INTERNAL) == APP_OK ? r : -1;
}

enum app_status db_verify_finish(sqlite3 *db, const char *token_hash, int64_t now)
{
  /* the link confirms the address it was sent to, and only while that is still the account's address */
  sqlite3_stmt *st = dbi_prepare(
    db, "UPDATE users SET email_verified_at=?2 WHERE id=(SELECT v.user_id FROM email_verifications v JOIN users u ON "
        "u.id=v.user_id WHERE v.token_hash=?1 AND v.used_at IS NULL AND v.expires_at>?2 AND v.email=u.email)");
  if (st == NULL)
    return APP_INTERNAL;
  dbi_bind_text(st, 1, token_hash);
  sqlite3_bind_int64(st, 2, now);
  int rc = dbi_step_done(db, st);
  int changed = sqlite3_changes(db);
  dbi_finalize(st);
  if (rc != 0)
    return APP_INTERNAL;
  if (changed == 0)
    return APP_INVALID_TOKEN;
  st = dbi_prepare(db, "UPDATE email_verifications SET used_at=?2 WHERE token_hash=?1");
  if (st == NULL)
    return APP_INTERNAL;
  dbi_bind_text(st, 1, token_hash);
  sqlite3_bind_int64(st, 2, now);
  rc = dbi_step_done(db, st);
  dbi_finalize(st);
  return rc == 0 ? APP_OK : APP_INTERNAL;
}

int db_email_verified(sqlite3 *db, int64_t user_id)
{
  sqlite3_stmt *st = dbi_prepare(db, "SELECT email_verified_at IS NOT NULL FROM users WHERE id=?");
  if (st == NULL)
    return -1;
  sqlite3_bind_int64(st, 1, user_id);
  int r = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  dbi_finalize(st);
  return r;
}
