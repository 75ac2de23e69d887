#pragma once
// Test-only token issuer: generates keys for every JWS algorithm, signs
// tokens with OpenSSL EVP directly (independently of crypto/key.cc, so a bug
// there cannot cancel out), and publishes the public halves as JWKs.
// Generated keys are cached for the life of the test binary because RSA key
// generation is slow. Single-threaded, like the tests that use it.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "crypto/jwt_algorithm.h"

namespace isogate::crypto::test_issuer {

using nlohmann::json;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test issuer: ") + what);
}

// Base64url without padding, written here rather than taken from
// crypto/base64url so tokens are built independently of the code under test.
inline std::string b64u(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 63];
  return out;
}

// Which key a JwtAlgorithm needs, as the cache key of generated keys.
enum class KeyType { kRsa2048, kRsa1024, kP256, kP384, kEd25519 };

// A generated private key, cached per (type, index) for the whole binary.
inline EVP_PKEY* generatedKey(KeyType type, int index = 0) {
  static std::map<std::pair<KeyType, int>, Pkey> cache;
  Pkey& slot = cache[{type, index}];
  if (!slot) {
    EVP_PKEY* key = nullptr;
    switch (type) {
      case KeyType::kRsa2048:
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
        break;
      case KeyType::kRsa1024:
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
        break;
      case KeyType::kP256:
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        break;
      case KeyType::kP384:
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
        break;
      case KeyType::kEd25519:
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
        break;
    }
    require(key != nullptr, "key generation failed");
    slot.reset(key);
  }
  return slot.get();
}

inline KeyType keyTypeFor(JwtAlgorithm alg) {
  switch (jwtAlgorithmKeyKind(alg)) {
    case KeyKind::kRsa:
      return KeyType::kRsa2048;
    case KeyKind::kEcP256:
      return KeyType::kP256;
    case KeyKind::kEcP384:
      return KeyType::kP384;
    case KeyKind::kEd25519:
      return KeyType::kEd25519;
    case KeyKind::kSecret:
      break;
  }
  throw std::runtime_error("test issuer: HS* algorithms use a secret, not a generated key");
}

inline const EVP_MD* mdFor(JwtAlgorithm alg) {
  switch (jwtAlgorithmHash(alg)) {
    case Hash::kSha1:
      return EVP_sha1();
    case Hash::kSha256:
      return EVP_sha256();
    case Hash::kSha384:
      return EVP_sha384();
    case Hash::kSha512:
      return EVP_sha512();
  }
  return nullptr;
}

inline std::string bignumBytes(EVP_PKEY* key, const char* param, size_t pad_to = 0) {
  BIGNUM* bn = nullptr;
  require(EVP_PKEY_get_bn_param(key, param, &bn) == 1, "EVP_PKEY_get_bn_param");
  size_t size = pad_to != 0 ? pad_to : static_cast<size_t>(BN_num_bytes(bn));
  std::string out(size, '\0');
  int written =
      BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size));
  BN_free(bn);
  require(written == static_cast<int>(size), "BN_bn2binpad");
  return out;
}

// The public half of a generated key as a JWK (kty and key members only).
inline json publicJwk(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return {{"kty", "RSA"},
              {"n", b64u(bignumBytes(key, OSSL_PKEY_PARAM_RSA_N))},
              {"e", b64u(bignumBytes(key, OSSL_PKEY_PARAM_RSA_E))}};
    case EVP_PKEY_EC: {
      char group[64] = {0};
      size_t group_len = 0;
      require(EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                             &group_len) == 1,
              "EC group name");
      const bool p384 = std::string_view(group) == "secp384r1";
      const size_t field = p384 ? 48 : 32;
      return {{"kty", "EC"},
              {"crv", p384 ? "P-384" : "P-256"},
              {"x", b64u(bignumBytes(key, OSSL_PKEY_PARAM_EC_PUB_X, field))},
              {"y", b64u(bignumBytes(key, OSSL_PKEY_PARAM_EC_PUB_Y, field))}};
    }
    case EVP_PKEY_ED25519: {
      std::string raw(32, '\0');
      size_t len = raw.size();
      require(
          EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &len) == 1,
          "raw Ed25519 public key");
      return {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", b64u(raw)}};
    }
  }
  throw std::runtime_error("test issuer: unexpected key type");
}

// DER SubjectPublicKeyInfo and its PEM form, for algorithm-confusion tests.
inline std::string publicKeyDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  require(len > 0, "i2d_PUBKEY");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

inline std::string publicKeyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  require(bio != nullptr && PEM_write_bio_PUBKEY(bio, key) == 1, "PEM_write_bio_PUBKEY");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

// Signs `input` for `alg`: with `key` for asymmetric algorithms (ECDSA
// signatures converted from DER to raw r||s, PSS with salt = hash length),
// with `secret` for HS*.
inline std::string signJws(JwtAlgorithm alg, EVP_PKEY* key, std::string_view secret,
                           std::string_view input) {
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (jwtAlgorithmKeyKind(alg) == KeyKind::kSecret) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    require(HMAC(mdFor(alg), secret.data(), static_cast<int>(secret.size()), data, input.size(),
                 mac, &mac_len) != nullptr,
            "HMAC");
    return std::string(reinterpret_cast<char*>(mac), mac_len);
  }
  require(key != nullptr, "no signing key");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = alg == JwtAlgorithm::kEdDsa ? nullptr : mdFor(alg);
  require(EVP_DigestSignInit(ctx, &pctx, md, nullptr, key) == 1, "EVP_DigestSignInit");
  if (alg == JwtAlgorithm::kPs256 || alg == JwtAlgorithm::kPs384 || alg == JwtAlgorithm::kPs512) {
    require(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1,
            "PSS parameters");
  }
  size_t len = 0;
  require(EVP_DigestSign(ctx, nullptr, &len, data, input.size()) == 1, "EVP_DigestSign size");
  std::string signature(len, '\0');
  require(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &len, data,
                         input.size()) == 1,
          "EVP_DigestSign");
  EVP_MD_CTX_free(ctx);
  signature.resize(len);
  if (alg != JwtAlgorithm::kEs256 && alg != JwtAlgorithm::kEs384) return signature;

  // JWS wants the fixed-size r||s, not the DER SEQUENCE OpenSSL produces.
  const size_t field = alg == JwtAlgorithm::kEs256 ? 32 : 48;
  const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
  require(sig != nullptr, "d2i_ECDSA_SIG");
  std::string raw(2 * field, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, static_cast<int>(field));
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + field, static_cast<int>(field));
  ECDSA_SIG_free(sig);
  return raw;
}

// header.payload.signature from exact JSON texts (any bytes, so tests can
// write duplicate members or broken JSON).
inline std::string tokenFromText(std::string_view header_text, std::string_view claims_text,
                                 JwtAlgorithm alg, EVP_PKEY* key, std::string_view secret = {}) {
  std::string input = b64u(header_text) + "." + b64u(claims_text);
  return input + "." + b64u(signJws(alg, key, secret, input));
}

// A token whose header is `header` plus "alg" (unless `header` has one).
inline std::string makeToken(JwtAlgorithm alg, EVP_PKEY* key, json header, const json& claims,
                             std::string_view secret = {}) {
  if (!header.contains("alg")) header["alg"] = jwtAlgorithmName(alg);
  return tokenFromText(header.dump(), claims.dump(), alg, key, secret);
}

inline std::string jwksText(std::initializer_list<json> keys) {
  return json{{"keys", json::array_t(keys)}}.dump();
}

}  // namespace isogate::crypto::test_issuer
