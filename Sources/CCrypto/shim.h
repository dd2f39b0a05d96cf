// The parts of OpenSSL's libcrypto setuplink uses: SHA-256, HMAC and RAND_bytes.
#ifndef SETUPLINK_CCRYPTO_SHIM_H
#define SETUPLINK_CCRYPTO_SHIM_H
#include <openssl/sha.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#endif
