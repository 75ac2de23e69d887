#include "crypto/digest_verifier.h"

#include <openssl/err.h>
#include <openssl/rsa.h>

#include <array>
#include <cstdint>

namespace isogate::crypto::detail {

namespace {

// A few keys per thread cover a JWKS in rotation; the least recently used
// context is dropped when a new one is needed.
constexpr size_t kContextsPerThread = 16;

struct CachedContext {
  EVP_PKEY* pkey = nullptr;  // identity only; ctx holds the reference
  const EVP_MD* md = nullptr;
  VerifyPadding padding;
  EVP_PKEY_CTX* ctx = nullptr;
  uint64_t last_used = 0;
};

class ContextCache {
 public:
  ~ContextCache() {
    for (CachedContext& entry : entries_) EVP_PKEY_CTX_free(entry.ctx);
  }

  // The context for (pkey, md, padding), made on first use; nullptr if
  // OpenSSL refuses the combination.
  EVP_PKEY_CTX* get(EVP_PKEY* pkey, const EVP_MD* md, VerifyPadding padding) {
    ++clock_;
    CachedContext* victim = &entries_[0];
    for (CachedContext& entry : entries_) {
      if (entry.ctx && entry.pkey == pkey && entry.md == md && entry.padding.rsa_padding == padding.rsa_padding &&
          entry.padding.pss_salt_length == padding.pss_salt_length) {
        entry.last_used = clock_;
        return entry.ctx;
      }
      if (entry.last_used < victim->last_used) victim = &entry;
    }
    EVP_PKEY_CTX* ctx = makeContext(pkey, md, padding);
    if (!ctx) return nullptr;
    EVP_PKEY_CTX_free(victim->ctx);
    *victim = CachedContext{pkey, md, padding, ctx, clock_};
    return ctx;
  }

 private:
  static EVP_PKEY_CTX* makeContext(EVP_PKEY* pkey, const EVP_MD* md, VerifyPadding padding) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
    bool ok = ctx && EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, md) > 0;
    if (ok && padding.rsa_padding != 0) {
      ok = EVP_PKEY_CTX_set_rsa_padding(ctx, padding.rsa_padding) > 0;
      if (ok && padding.rsa_padding == RSA_PKCS1_PSS_PADDING) {
        ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, padding.pss_salt_length) > 0 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) > 0;
      }
    }
    if (!ok) {
      EVP_PKEY_CTX_free(ctx);
      return nullptr;
    }
    return ctx;
  }

  std::array<CachedContext, kContextsPerThread> entries_{};
  uint64_t clock_ = 0;
};

}  // namespace

bool verifyDigest(EVP_PKEY* pkey, const EVP_MD* md, VerifyPadding padding, std::string_view digest,
                  std::string_view signature) {
  thread_local ContextCache cache;
  ERR_set_mark();
  EVP_PKEY_CTX* ctx = cache.get(pkey, md, padding);
  bool ok = ctx && EVP_PKEY_verify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                   reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
  ERR_pop_to_mark();
  return ok;
}

}  // namespace isogate::crypto::detail
