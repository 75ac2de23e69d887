#pragma once
// Signature checks over a precomputed digest with a verify context kept per
// thread, key and padding. EVP_DigestVerifyInit (and EVP_PKEY_verify_init)
// look the signature implementation up in the provider store on every call
// (locks and hash lookups: ~8 % of an RSA-2048 JWT verify); a context made
// once verifies any number of digests. A cached context holds a reference to
// its key, so a cached key's address is never reused by another key.
// Internal to crypto/ (key.cc).

#include <openssl/evp.h>

#include <string_view>

namespace isogate::crypto::detail {

struct VerifyPadding {
  int rsa_padding = 0;      // RSA_PKCS1_PADDING or RSA_PKCS1_PSS_PADDING; 0 for EC keys
  int pss_salt_length = 0;  // RSA_PKCS1_PSS_PADDING only
};

// Checks `signature` (DER for ECDSA) over `digest`, the `md` hash of the
// signed data. False on any failure; leaves no OpenSSL errors queued.
bool verifyDigest(EVP_PKEY* pkey, const EVP_MD* md, VerifyPadding padding, std::string_view digest,
                  std::string_view signature);

}  // namespace isogate::crypto::detail
