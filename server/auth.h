/* auth.h: password hashing (PBKDF2-HMAC-SHA256, 600,000 iterations, 16-byte random salt per password),
 * secret generation (session tokens, CSRF tokens, API tokens from RAND_bytes) and their storage form
 * (SHA-256 hex: secrets are never stored in the clear), and the input rules for accounts. */
#ifndef CONCOURS_AUTH_H
#define CONCOURS_AUTH_H

#include <stddef.h>

#include "app.h"

#define AUTH_PBKDF2_ITERATIONS 600000
#define AUTH_HASH_MAX 160
#define AUTH_TOKEN_MAX 64

/* Hashes PASSWORD into OUT as "pbkdf2_sha256$ITER$SALT_HEX$HASH_HEX". Returns 0, or -1 on a crypto failure. */
int auth_hash_password(const char *password, char out[AUTH_HASH_MAX]);

/* 1 when PASSWORD matches STORED (constant-time comparison), 0 otherwise (also for a malformed STORED).
 * With STORED == NULL it still spends the time of one verification and returns 0, so that an unknown user
 * and a wrong password take the same time. */
int auth_verify_password(const char *password, const char *stored);

/* A new random secret of 32 bytes, base64url, into OUT. Returns 0 or -1. */
int auth_new_secret(char out[AUTH_TOKEN_MAX]);

/* The storage form of SECRET: SHA-256 hex. */
void auth_secret_hash(const char *secret, char out[65]);

/* Input rules: APP_OK or the specific status. */
enum app_status auth_check_username(const char *username);
enum app_status auth_check_password(const char *password);
enum app_status auth_check_email(const char *email);

#endif
