/* test_mail.c: the message a mail becomes (server/mail.c): headers that refuse a line break in an address or the
 * subject (header injection), a non-ASCII subject RFC 2047-encoded, CRLF line ends and a lone "." line doubled (SMTP's
 * end of data), addresses checked, and long addresses and subjects written whole, never past the buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mail.h"

int main(void)
{
  if (check_begin() != 0)
    return 1;
  char *m = mail_message("c@example.org", "ana@example.org", "Hello", "line one\n.\n..two\nend", 7, 0);
  CHECK(m != NULL);
  CHECK(strstr(m, "From: c@example.org\r\nTo: ana@example.org\r\nSubject: Hello\r\n") == m);
  CHECK(strstr(m, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n") != NULL);
  CHECK(strstr(m, "Message-ID: <mail-7-0@example.org>\r\n") != NULL);
  CHECK(strstr(m, "\r\n\r\nline one\r\n..\r\n...two\r\nend\r\n") != NULL); /* dots doubled, CRLF, a final CRLF */
  free(m);
  m = mail_message("c@example.org", "ana@example.org", "Résultat", "x", 1, 0);
  CHECK(m != NULL && strstr(m, "Subject: =?UTF-8?B?UsOpc3VsdGF0?=\r\n") != NULL);
  free(m);
  /* header injection: refused, not sent */
  CHECK(mail_message("c@example.org", "ana@example.org\r\nBcc: x@y.z", "s", "b", 1, 0) == NULL);
  CHECK(mail_message("c@example.org", "ana@example.org", "s\nBcc: x@y.z", "b", 1, 0) == NULL);
  /* the longest addresses and subject the server allows, and an empty body: written whole */
  char to[301], from[256], subject[256];
  memset(to, 'a', 300);
  to[300] = '\0';
  to[150] = '@';
  memset(from, 'f', 255);
  from[255] = '\0';
  from[10] = '@';
  memset(subject, 0xc3, 255);
  for (int i = 1; i < 254; i += 2)
    subject[i] = (char)0xa9;
  subject[254] = '\0';
  m = mail_message(from, to, subject, "", 99999999, 4102444800LL);
  CHECK(m != NULL && strstr(m, to) != NULL && strstr(m, "Auto-Submitted: auto-generated\r\n\r\n") != NULL);
  free(m);
  /* addresses */
  CHECK(mail_address_ok("a@b.c"));
  CHECK(!mail_address_ok("no-at-sign"));
  CHECK(!mail_address_ok("a@b@c"));
  CHECK(!mail_address_ok("a b@c.d"));
  CHECK(!mail_address_ok("<a@b.c>"));
  CHECK(!mail_address_ok("a@b.c\n"));
  return check_end("mail");
}
