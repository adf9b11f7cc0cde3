/* sign.h: the server's Ed25519 signing key (created on first start in DATA/signing-key.pem, mode 0600) and the
 * signing and verification of published rankings, checkable with the openssl command line. */
#ifndef CONCOURS_SIGN_H
#define CONCOURS_SIGN_H

#include <stddef.h>

/* Loads DATA/signing-key.pem, creating it when absent. Returns 0, or -1 with ERR. */
int sign_init(const char *data_dir, char *err, size_t errlen);
/* The public key in PEM (static buffer filled by sign_init), or NULL before it. */
const char *sign_public_pem(void);
/* Signs LEN bytes of MSG: base64 of the 64-byte signature into OUT (at least 100 bytes). Returns 0 or -1. */
int sign_message(const void *msg, size_t len, char *out, size_t outlen);
/* Verifies the base64 signature SIG_B64 of MSG with the PEM public key PEM. 1 valid, 0 invalid, -1 on error. */
int sign_verify(const void *msg, size_t len, const char *sig_b64, const char *pem);

#endif
