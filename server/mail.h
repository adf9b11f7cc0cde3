/* mail.h: sending the queued mails (db_mail.h) from a thread of the server: to an SMTP server with libcurl
 * (STARTTLS when the server offers it, smtps:// for TLS from the start, AUTH with --smtp-user and the password
 * file), or, for development and tests, as one file per mail in --mail-dir (written whole: temp file, rename).
 * A failed send is tried again with a growing wait; nothing is lost while the mail server is away or the server
 * restarts. docs/mail.md. */
#ifndef CONCOURS_MAIL_H
#define CONCOURS_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"

#define MAIL_PER_MINUTE 120 /* at most this many sends a minute: the mail server is not flooded */

/* Starts the sender (CFG must outlive mail_stop). Nothing is sent when neither SMTP nor a mail folder is set:
 * mails wait in the queue. 0 or -1. */
int mail_start(const struct app_config *cfg);
/* Wakes the sender: a mail was queued. */
void mail_notify(void);
/* Stops and joins the sender. */
void mail_stop(void);

/* The RFC 5322 message of one mail (headers and body, CRLF line ends) into a malloc'd string: From FROM, To TO,
 * SUBJECT (RFC 2047-encoded when not ASCII), a Message-ID from ID and NOW. NULL when TO or SUBJECT hold a line
 * break (header injection) or out of memory. */
char *mail_message(const char *from, const char *to, const char *subject, const char *body, int64_t id, int64_t now);

/* Whether ADDR may be used as a recipient or sender: one line, one @, printable, no <>. */
int mail_address_ok(const char *addr);

#endif
