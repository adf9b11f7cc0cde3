/* auth.c: see auth.h. */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util.h"

static int pbkdf2(const char *password, const unsigned char *salt, size_t saltlen, int iter, unsigned char out[32])
{
  return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)saltlen, iter, EVP_sha256(), 32, out) == 1 ? 0
                                                                                                                  : -1;
}

int auth_hash_password(const char *password, char out[AUTH_HASH_MAX])
{
  unsigned char salt[16], dk[32];
  char salt_hex[33], dk_hex[65];
  if (RAND_bytes(salt, sizeof(salt)) != 1 || pbkdf2(password, salt, sizeof(salt), AUTH_PBKDF2_ITERATIONS, dk) != 0)
    return -1;
  util_hex(salt, sizeof(salt), salt_hex);
  util_hex(dk, sizeof(dk), dk_hex);
  OPENSSL_cleanse(dk, sizeof(dk));
  int n = snprintf(out, AUTH_HASH_MAX, "pbkdf2_sha256$%d$%s$%s", AUTH_PBKDF2_ITERATIONS, salt_hex, dk_hex);
  return (n > 0 && n < AUTH_HASH_MAX) ? 0 : -1;
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
  if (strlen(s) != 2 * n)
    return -1;
  for (size_t i = 0; i < n; i++) {
    int v = 0;
    for (int k = 0; k < 2; k++) {
      char c = s[2 * i + (size_t)k];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
    out[i] = (unsigned char)v;
  }
  return 0;
}

int auth_verify_password(const char *password, const char *stored)
{
  unsigned char salt[16] = {0}, want[32] = {0}, got[32];
  char salt_hex[33], hash_hex[65];
  int iter = AUTH_PBKDF2_ITERATIONS, ok = 0;
  int parsed = stored != NULL &&
               sscanf(stored, "pbkdf2_sha256$%d$%32[0-9a-f]$%64[0-9a-f]", &iter, salt_hex, hash_hex) == 3 &&
               iter >= 1000 && iter <= 10000000 && unhex(salt_hex, salt, sizeof(salt)) == 0 &&
               unhex(hash_hex, want, sizeof(want)) == 0;
  if (!parsed)
    iter = AUTH_PBKDF2_ITERATIONS; /* same cost for unknown users */
  if (pbkdf2(password, salt, sizeof(salt), iter, got) != 0)
    return 0;
  ok = parsed && CRYPTO_memcmp(got, want, sizeof(got)) == 0;
  OPENSSL_cleanse(got, sizeof(got));
  return ok;
}

int auth_new_secret(char out[AUTH_TOKEN_MAX])
{
  return util_random_token(32, out, AUTH_TOKEN_MAX);
}

void auth_secret_hash(const char *secret, char out[65])
{
  util_sha256_hex(secret, strlen(secret), out);
}

enum app_status auth_check_username(const char *u)
{
  size_t n = u != NULL ? strlen(u) : 0;
  if (n < 3 || n > 32)
    return APP_INVALID_USERNAME;
  for (size_t i = 0; i < n; i++) {
    char c = u[i];
    int ok =
      (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok)
      return APP_INVALID_USERNAME;
  }
  return APP_OK;
}

enum app_status auth_check_password(const char *p)
{
  size_t n = p != NULL ? strlen(p) : 0;
  if (n < 10 || n > 256)
    return APP_WEAK_PASSWORD;
  size_t same = 1;
  while (same < n && p[same] == p[0])
    same++;
  return same == n ? APP_WEAK_PASSWORD : APP_OK;
}

enum app_status auth_check_email(const char *e)
{
  size_t n = e != NULL ? strlen(e) : 0;
  if (n < 3 || n > 254)
    return APP_INVALID_EMAIL;
  const char *at = strchr(e, '@');
  if (at == NULL || at == e || at[1] == '\0' || strchr(at + 1, '@') != NULL)
    return APP_INVALID_EMAIL;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)e[i];
    if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"')
      return APP_INVALID_EMAIL;
  }
  return APP_OK;
}
