#pragma once
// A JSON Web Key Set (RFC 7517 §5) reduced to the keys that can verify JWT
// signatures. A KeySet is immutable once parsed and is shared (shared_ptr)
// by every worker thread and by in-flight verifications; swapping in a
// refetched set never disturbs a verification holding the old one.
//
// Parsing is forgiving per key and strict per document: a key that is
// malformed, private, symmetric, too weak or not meant for signature
// verification is skipped with a warning the caller can log, while a document
// that is not a {"keys":[...]} object within the size limit fails as a whole.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/jwt_algorithm.h"
#include "crypto/key.h"

namespace isogate::crypto {

inline constexpr size_t kMaxJwksBytes = 1 << 20;  // 1 MiB
inline constexpr size_t kMaxJwksKeys = 100;       // later entries are ignored
inline constexpr size_t kMaxKidBytes = 256;       // longer kids are refused
inline constexpr size_t kMinRsaModulusBits = 2048;
// Verification cost grows with the modulus; nobody publishes larger keys.
inline constexpr size_t kMaxRsaModulusBits = 8192;

// One verification key of a set with the JWK members that restrict its use.
// Every JwksKey is a public RSA (2048..8192 bits), P-256, P-384 or Ed25519 key
// whose "use" (if present) is "sig" and whose "key_ops" (if present) contain
// "verify"; symmetric ("oct") keys are never taken from a JWKS.
struct JwksKey {
  std::shared_ptr<const Key> key;
  std::optional<std::string> kid;
  std::optional<JwtAlgorithm> alg;  // the JWK's "alg", when present

  // Whether this key may verify a token signed with `alg`: the key kind must
  // be the one `alg` needs and the JWK's own "alg", if any, must equal it.
  bool canVerify(JwtAlgorithm token_alg) const;
};

class KeySet {
 public:
  // Parses a JWKS document. nullptr with a reason in *error when the document
  // itself is unusable (larger than kMaxJwksBytes, not JSON, no "keys" array);
  // individual bad keys only add warnings. An empty result is not an error.
  static std::shared_ptr<const KeySet> parse(std::string_view json_text, std::string* error);

  // The key whose kid is byte-for-byte `kid` (no normalization of any kind),
  // or nullptr. The pointer lives as long as this KeySet.
  const JwksKey* findByKid(std::string_view kid) const;
  // All keys, in document order.
  const std::vector<JwksKey>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }
  // Why keys were skipped, one line each ("keys[3] (kid \"a\"): RSA modulus of
  // 1024 bits is below 2048"), for the caller's log.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  KeySet() = default;
  std::vector<JwksKey> keys_;
  std::map<std::string, size_t, std::less<>> by_kid_;  // kid -> index in keys_
  std::vector<std::string> warnings_;
};

// How long a fetched JWKS may be reused, from the response's Cache-Control
// header value: s-maxage, else max-age (the first well-formed occurrence of
// each; quoted values accepted); no-store or no-cache give floor_s; without
// a usable directive, default_s. The result is clamped to [floor_s, ceiling_s].
int64_t jwksMaxAge(std::string_view cache_control, int64_t floor_s, int64_t ceiling_s,
                   int64_t default_s);

}  // namespace isogate::crypto
