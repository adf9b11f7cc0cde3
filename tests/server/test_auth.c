/* test_auth.c: unit tests of auth.c (password hashing, input checks). */
#include <string.h>

#include "auth.h"

#include "check.h"

static void test_auth(void)
{
  char hash[AUTH_HASH_MAX], hash2[AUTH_HASH_MAX];
  CHECK(auth_hash_password("correct horse battery", hash) == 0);
  CHECK(strncmp(hash, "pbkdf2_sha256$600000$", 21) == 0);
  CHECK(auth_hash_password("correct horse battery", hash2) == 0);
  CHECK(strcmp(hash, hash2) != 0); /* unique salt */
  CHECK(auth_verify_password("correct horse battery", hash) == 1);
  CHECK(auth_verify_password("correct horse batterx", hash) == 0);
  CHECK(auth_verify_password("correct horse battery", NULL) == 0);
  CHECK(auth_verify_password("x", "pbkdf2_sha256$600000$zz$zz") == 0);
  CHECK(auth_check_username("ab") == APP_INVALID_USERNAME);
  CHECK(auth_check_username("alice_01.x-y") == APP_OK);
  CHECK(auth_check_username("<script>") == APP_INVALID_USERNAME);
  CHECK(auth_check_password("short") == APP_WEAK_PASSWORD);
  CHECK(auth_check_password("aaaaaaaaaaaa") == APP_WEAK_PASSWORD);
  CHECK(auth_check_password("long enough pass") == APP_OK);
  CHECK(auth_check_email("a@b.org") == APP_OK);
  CHECK(auth_check_email("a@@b") == APP_INVALID_EMAIL);
  CHECK(auth_check_email("no-at") == APP_INVALID_EMAIL);
  CHECK(auth_check_email("a b@c.org") == APP_INVALID_EMAIL);
}

int main(void)
{
  if (check_begin() != 0)
    return 1;
  test_auth();
  return check_end("auth");
}
