// The parts of OpenSSL's libcrypto setuplink uses: SHA-256, HMAC, RAND_bytes, CRYPTO_memcmp and error strings.
#ifndef SETUPLINK_CCRYPTO_SHIM_H
#define SETUPLINK_CCRYPTO_SHIM_H
#include <openssl/sha.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

// HMAC-SHA256 under `key` of `a` followed by `b`, written to `out` (32 bytes),
// through libcrypto's EVP_MAC interface, so a webhook body of megabytes is
// signed as "<t>." + body without first being copied behind its prefix.
// Returns 1 on success, 0 on failure.
static inline int setuplink_hmac_sha256_2(const void *key, size_t key_length,
                                          const void *a, size_t a_length,
                                          const void *b, size_t b_length,
                                          unsigned char out[32]) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) return 0;
    EVP_MAC_CTX *context = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (context == NULL) return 0;
    char digest[] = "SHA256";
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    static const unsigned char empty = 0;
    size_t length = 0;
    int ok = EVP_MAC_init(context, key_length > 0 ? key : &empty, key_length, params)
        && EVP_MAC_update(context, a_length > 0 ? a : &empty, a_length)
        && EVP_MAC_update(context, b_length > 0 ? b : &empty, b_length)
        && EVP_MAC_final(context, out, &length, 32)
        && length == 32;
    EVP_MAC_CTX_free(context);
    return ok;
}
#endif
