/* sign.c: see sign.h. Ed25519 through OpenSSL's EVP one-shot interface (no digest: the message is signed as is,
 * which is what `openssl pkeyutl -rawin` checks). */
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "util.h"

static EVP_PKEY *key;
static char public_pem[512];

static int write_private_key(const char *path, EVP_PKEY *k)
{
  BIO *mem = BIO_new(BIO_s_mem());
  char *data = NULL;
  int rc = -1;
  if (mem == NULL || PEM_write_bio_PrivateKey(mem, k, NULL, NULL, 0, NULL, NULL) != 1)
    goto out;
  long len = BIO_get_mem_data(mem, &data);
  if (len <= 0)
    goto out;
  rc = util_write_file_atomic(path, data, (size_t)len, 0600);
out:
  BIO_free(mem);
  return rc;
}

int sign_init(const char *data_dir, char *err, size_t errlen)
{
  char path[4096];
  BIO *bio = NULL;
  if (util_fmt(path, sizeof(path), "%s/signing-key.pem", data_dir) != 0) {
    snprintf(err, errlen, "data folder path too long");
    return -1;
  }
  FILE *f = fopen(path, "rb");
  if (f != NULL) {
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
      fchmod(fileno(f), 0600);
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
      snprintf(err, errlen, "%s is not an Ed25519 private key", path);
      return -1;
    }
  } else {
    key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (key == NULL || write_private_key(path, key) != 0) {
      snprintf(err, errlen, "cannot create the signing key %s: %s", path, strerror(errno));
      return -1;
    }
  }
  bio = BIO_new(BIO_s_mem());
  char *data = NULL;
  if (bio == NULL || PEM_write_bio_PUBKEY(bio, key) != 1) {
    BIO_free(bio);
    snprintf(err, errlen, "cannot export the public key");
    return -1;
  }
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || (size_t)len >= sizeof(public_pem)) {
    BIO_free(bio);
    snprintf(err, errlen, "cannot export the public key");
    return -1;
  }
  memcpy(public_pem, data, (size_t)len);
  public_pem[len] = '\0';
  BIO_free(bio);
  return 0;
}

const char *sign_public_pem(void)
{
  return public_pem[0] != '\0' ? public_pem : NULL;
}

int sign_message(const void *msg, size_t len, char *out, size_t outlen)
{
  unsigned char sig[64];
  size_t siglen = sizeof(sig);
  int rc = -1;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (key == NULL || ctx == NULL || outlen < 100)
    goto out;
  if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 || EVP_DigestSign(ctx, sig, &siglen, msg, len) != 1 ||
      siglen != 64)
    goto out;
  if (EVP_EncodeBlock((unsigned char *)out, sig, (int)siglen) <= 0)
    goto out;
  rc = 0;
out:
  EVP_MD_CTX_free(ctx);
  return rc;
}

int sign_verify(const void *msg, size_t len, const char *sig_b64, const char *pem)
{
  unsigned char sig[128];
  char clean[200];
  size_t n = 0;
  int rc = -1;
  EVP_PKEY *pub = NULL;
  EVP_MD_CTX *ctx = NULL;
  for (const char *p = sig_b64; *p != '\0' && n + 1 < sizeof(clean); p++) {
    if (*p != '\n' && *p != '\r' && *p != ' ')
      clean[n++] = *p;
  }
  clean[n] = '\0';
  int decoded = EVP_DecodeBlock(sig, (const unsigned char *)clean, (int)n);
  if (decoded < 64)
    return 0;
  BIO *bio = BIO_new_mem_buf(pem, -1);
  if (bio == NULL)
    return -1;
  pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
  BIO_free(bio);
  ctx = EVP_MD_CTX_new();
  if (pub == NULL || ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) != 1)
    goto out;
  rc = EVP_DigestVerify(ctx, sig, 64, msg, len) == 1 ? 1 : 0;
out:
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pub);
  return rc;
}
