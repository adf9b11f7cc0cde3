/* db_mail.h: the SQL of e-mail (issue 16, docs/mail.md): the outgoing queue in SQLite (a mail is queued in the
 * transaction that causes it and sent by mail.c; a mail server that is away loses nothing), password-reset tokens
 * (only their SHA-256 kept, single use, expiring) and each user's choice of notifications. */
#ifndef CONCOURS_DB_MAIL_H
#define CONCOURS_DB_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "app.h"
#include "i18n.h"

#define MAIL_MAX_ATTEMPTS 12      /* then the mail is given up (its last error kept) */
#define RESET_TTL_S 3600          /* a password-reset link works for an hour */
#define RESET_PER_USER_PER_HOUR 3 /* more requests send nothing more (the answer does not say so) */
#define VERIFY_TTL_S (2 * 86400)  /* a link confirming an address works for two days */

/* Queues a mail to TO at NOW. APP_OK or APP_INTERNAL. TO, SUBJECT: one line each (checked by the caller). */
enum app_status db_mail_queue(sqlite3 *db, const char *to, const char *subject, const char *body, int64_t now);

/* One queued mail, as the sender takes it. */
struct mail_row {
  int64_t id;
  int attempts;
  char to[320];
  char subject[256];
  char *body; /* malloc'd; mail.c frees it */
};

/* Up to N mails due at NOW into ROWS (oldest first). Returns how many, or -1. */
int db_mail_due(sqlite3 *db, int64_t now, struct mail_row *rows, int n);
/* Marks mail ID sent at NOW, or (ERROR not NULL) failed: tried again later, after a backoff, or given up. */
enum app_status db_mail_done(sqlite3 *db, int64_t id, const char *error, int attempts, int64_t now);

/* Password reset, step one: for the account whose username or e-mail is LOGIN, stores TOKEN_HASH (expiring at
 * NOW + RESET_TTL_S) and gives its e-mail address and username. 1 when a link is to be sent; 0 when there is no
 * such account or it asked RESET_PER_USER_PER_HOUR times in the last hour (the caller answers the same either way);
 * -1 on a fault. */
int db_reset_begin(sqlite3 *db, const char *login, const char *token_hash, int64_t now, char *email, size_t emaillen,
                   char *username, size_t userlen);
/* Step two: when TOKEN_HASH is unused and unexpired at NOW, sets the password hash PW_HASH, uses the token up and
 * ends every session of the account, in one transaction. APP_OK, APP_INVALID_TOKEN, APP_INTERNAL. */
enum app_status db_reset_finish(sqlite3 *db, const char *token_hash, const char *pw_hash, int64_t now);

/* Whether USER_ID wants a mail when a submission is scored or fails: 1, 0, or -1 on a fault; *NEWS whether they want
 * the challenges' news (phase reminders, publication, organizers' announcements). */
int db_notify_get(sqlite3 *db, int64_t user_id, int *news);
enum app_status db_notify_set(sqlite3 *db, int64_t user_id, int submissions, int news);

/* Queues SUBJECT and BODY to the participants of CHALLENGE_ID (they accepted its terms) who want news and have an
 * address; TO narrows them: "all", "submitted" (with a scored submission) or "not_submitted"; LANG, when not
 * NULL, to the accounts that read that language (a mail the server writes goes once per language; an organizer's
 * announcement to all at once). Returns how many, or -1. Call it inside the caller's transaction when it must go
 * with another write. */
int db_mail_participants(sqlite3 *db, int64_t challenge_id, const char *to, const enum i18n_lang *lang,
                         const char *subject, const char *body, int64_t now);

/* The language of USERNAME's mails (English when there is no such account). */
enum i18n_lang db_user_lang(sqlite3 *db, const char *username);
/* Sets it. APP_OK, APP_INTERNAL. */
enum app_status db_user_set_lang(sqlite3 *db, int64_t user_id, enum i18n_lang lang);
/* An organizer's announcement: db_mail_participants and the audit entry (ACTOR, REASON, the subject and how many)
 * in one transaction. Returns how many mails, or -1. */
int db_announce(sqlite3 *db, int64_t challenge_id, const char *slug, const char *actor, const char *to,
                const char *subject, const char *body, const char *reason, int64_t now);
/* Queues, once each, the mails saying a phase opened (within the last day) or closes within a day, for open
 * challenges (at most 20 phases a call). Returns how many mails, or -1. */
int db_phase_reminders(sqlite3 *db, const char *base_url, int64_t now);

/* Queues the mail telling the submitter of SUBMISSION_ID how it ended (scored or failed), when they want it, it was
 * not a smoke run, and they have an address. BASE_URL: the server's public address for the link. */
enum app_status db_mail_submission_outcome(sqlite3 *db, int64_t submission_id, const char *base_url, int64_t now);

/* ---- address verification (serve --verify-email) ---- */

/* Stores TOKEN_HASH to confirm USER_ID's current address (into EMAIL, size N), which counts as unconfirmed until
 * then. 1 when a link is to be mailed, 0 when the account asked 3 times in the hour (or has no address), -1. */
int db_verify_begin(sqlite3 *db, int64_t user_id, const char *token_hash, int64_t now, char *email, size_t n);
/* Confirms the address TOKEN_HASH was sent to, if the link is unused, unexpired and the address is still the
 * account's. APP_OK, APP_INVALID_TOKEN, APP_INTERNAL. */
enum app_status db_verify_finish(sqlite3 *db, const char *token_hash, int64_t now);
/* 1 when USER_ID's address is confirmed, 0 when not, -1 on a fault. */
int db_email_verified(sqlite3 *db, int64_t user_id);

/* ---- the account's own page (they live here with the account's mail settings) ---- */

/* USER_ID's e-mail address (size N) and creation time. APP_OK, APP_NOT_FOUND, APP_INTERNAL. */
enum app_status db_account_email(sqlite3 *db, int64_t user_id, char *email, size_t n, int64_t *created_at);
/* Sets USER_ID's password hash PW_HASH and/or EMAIL (NULL: unchanged); a new password ends every session of the
 * account but KEEP_SESSION (the hash of the caller's own, or NULL). One transaction. */
enum app_status db_account_update(sqlite3 *db, int64_t user_id, const char *pw_hash, const char *email,
                                  const char *keep_session);
/* Deletes USER_ID's account: its username becomes "deleted-ID" (and so does its solo teams' name), its address,
 * password, sessions, tokens, reset links and unsent mails go; its submissions and scores stay (boards and
 * published rankings keep their meaning). Audited without personal data. One transaction. */
enum app_status db_account_delete(sqlite3 *db, int64_t user_id, int64_t now);

#endif
