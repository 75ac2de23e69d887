#pragma once
// Imported keys and the primitive operations on them, over OpenSSL 3 EVP.
// A Key is immutable once built and may be shared by any number of threads
// (verification only reads the EVP_PKEY; every call uses its own EVP_MD_CTX).
// Functions here never throw; failures come back as false / nullptr with a
// short reason in *error where one is asked for. They leave the calling
// thread's OpenSSL error queue as they found it.

#include <openssl/evp.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace isogate::crypto {

enum class Hash { kSha1, kSha256, kSha384, kSha512 };

// "SHA-1", "SHA-256", "SHA-384", "SHA-512" (Web Crypto names, case-insensitive).
std::optional<Hash> hashFromName(std::string_view name);
const char* hashName(Hash hash);  // "SHA-256"
size_t hashSize(Hash hash);       // bytes of output

// RSA moduli accepted on import (JWK and SPKI). Web Crypto allows smaller
// ones, but below 1024 bits a signature proves nothing; above 16384 bits
// OpenSSL refuses the key and a verify would cost milliseconds.
constexpr size_t kRsaImportMinBits = 1024;
constexpr size_t kRsaImportMaxBits = 16384;

enum class KeyKind {
  kSecret,   // HMAC key bytes (raw or JWK "oct")
  kRsa,      // RSA public key
  kEcP256,   // EC public key on P-256
  kEcP384,   // EC public key on P-384
  kEd25519,  // Ed25519 public key
};

class Key {
 public:
  ~Key();
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;

  // An HMAC secret (any length, including empty).
  static std::unique_ptr<Key> fromSecret(std::string bytes);
  // A public JWK as parsed JSON: kty RSA (n, e), EC (crv P-256/P-384, x, y,
  // point checked to be on the curve), OKP (crv Ed25519, x) or oct (k).
  // Members with private parts ("d", "p", ...) are refused: only public
  // keys are imported. Base64url members must be strict (no padding). RSA:
  // a modulus of kRsaImportMinBits..kRsaImportMaxBits, odd e >= 3.
  // Other members (alg, use, kid, ...) are the caller's to check.
  static std::unique_ptr<Key> fromJwk(const nlohmann::json& jwk, std::string* error);
  // A DER SubjectPublicKeyInfo (nothing after it) holding an RSA key
  // (rsaEncryption, not id-RSASSA-PSS; same limits as above), an EC key on
  // the named curve P-256/P-384 (point checked) or an Ed25519 key.
  static std::unique_ptr<Key> fromSpki(std::string_view der, std::string* error);
  // A public key as Web Crypto's "raw" format has it: for kEcP256/kEcP384 a
  // SEC1 point (uncompressed 04||x||y or compressed 02/03||x, checked to be
  // on the curve), for kEd25519 the 32 key bytes. Other kinds are refused.
  static std::unique_ptr<Key> fromRawPublic(KeyKind kind, std::string_view bytes, std::string* error);

  KeyKind kind() const { return kind_; }
  bool isAsymmetric() const { return kind_ != KeyKind::kSecret; }
  // RSA modulus length in bits (0 for other kinds).
  size_t rsaModulusBits() const;
  // RSA public exponent, big-endian without leading zero bytes ("" for
  // other kinds).
  std::string rsaPublicExponent() const;
  // kSecret only: the key bytes.
  const std::string& secret() const { return secret_; }
  // Asymmetric only: the key (owned by this Key).
  EVP_PKEY* pkey() const { return pkey_; }

  // The key as a public JWK (kty and its members; no alg/use/kid).
  nlohmann::json toJwk() const;
  // Asymmetric only: DER SubjectPublicKeyInfo.
  std::string toSpki() const;
  // kEcP256/kEcP384: the uncompressed point 04||x||y; kEd25519: the 32 key
  // bytes; "" for other kinds.
  std::string toRawPublic() const;

 private:
  Key(KeyKind kind, EVP_PKEY* pkey, std::string secret);
  KeyKind kind_;
  EVP_PKEY* pkey_ = nullptr;
  std::string secret_;
};

std::string digest(Hash hash, std::string_view data);
std::string hmac(Hash hash, std::string_view key, std::string_view data);
// Constant-time comparison of two byte strings (false when lengths differ;
// the length itself is not secret).
bool timingSafeEqual(std::string_view a, std::string_view b);

// Signature checks. Each returns false for a wrong key kind, a malformed
// signature or a mismatch; none of them throws or crashes on any input.
bool verifyHmac(const Key& key, Hash hash, std::string_view data, std::string_view mac);
bool verifyRsaPkcs1(const Key& key, Hash hash, std::string_view data, std::string_view signature);
bool verifyRsaPss(const Key& key, Hash hash, size_t salt_length, std::string_view data,
                  std::string_view signature);
// ECDSA with the raw r||s encoding Web Crypto and JWS use (2 × field size).
bool verifyEcdsa(const Key& key, Hash hash, std::string_view data, std::string_view signature);
// Also false when the key or R (the signature's first half) is a point of
// small order, as Web Crypto requires (OpenSSL alone accepts those).
bool verifyEd25519(const Key& key, std::string_view data, std::string_view signature);

namespace detail {
// Whether a 32-byte Ed25519 point encoding is one of the points of small
// order (either sign bit, canonical or not). Used by verifyEd25519; declared
// here for key_test.cc.
bool isSmallOrderEd25519Point(const unsigned char* encoded);
}  // namespace detail

}  // namespace isogate::crypto
