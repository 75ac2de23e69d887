#pragma once
// The JWS algorithms a JWT may be signed with (RFC 7518 §3, RFC 8037 §3.1)
// and what each one needs from a key. "none" has no value here on purpose:
// an unsigned token can never be accepted, whatever a configuration says.
// Plain values and pure functions; any thread.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/key.h"

namespace isogate::crypto {

enum class JwtAlgorithm : uint8_t {
  // RSASSA-PKCS1-v1_5.
  kRs256,
  kRs384,
  kRs512,
  // RSASSA-PSS, salt length = hash length.
  kPs256,
  kPs384,
  kPs512,
  // ECDSA on P-256 / P-384, raw r||s signatures.
  kEs256,
  kEs384,
  // Ed25519 (Ed448 is not supported).
  kEdDsa,
  // HMAC.
  kHs256,
  kHs384,
  kHs512,
};

// Exact, case-sensitive JWS names ("RS256"); nullopt for anything else,
// including "none" in every spelling.
std::optional<JwtAlgorithm> jwtAlgorithmFromName(std::string_view name);
const char* jwtAlgorithmName(JwtAlgorithm alg);
// The kind of key that verifies `alg`: kSecret for HS*, kRsa for RS*/PS*,
// the matching curve for ES*, kEd25519 for EdDSA.
KeyKind jwtAlgorithmKeyKind(JwtAlgorithm alg);
// The hash of RS*/PS*/ES*/HS* (EdDSA hashes internally; kSha512 is returned
// and unused).
Hash jwtAlgorithmHash(JwtAlgorithm alg);

// A set of algorithms (an allow-list), as a bit mask so that membership
// tests on the request path cost nothing.
class JwtAlgorithmSet {
 public:
  JwtAlgorithmSet() = default;
  JwtAlgorithmSet(std::initializer_list<JwtAlgorithm> algs) {
    for (JwtAlgorithm alg : algs) add(alg);
  }
  void add(JwtAlgorithm alg) { bits_ |= bit(alg); }
  bool contains(JwtAlgorithm alg) const { return (bits_ & bit(alg)) != 0; }
  bool empty() const { return bits_ == 0; }
  // True when some member is HS* / some member is asymmetric.
  bool hasSymmetric() const;
  bool hasAsymmetric() const;

 private:
  static uint32_t bit(JwtAlgorithm alg) { return uint32_t{1} << static_cast<unsigned>(alg); }
  uint32_t bits_ = 0;
};

// Parses a configured allow-list ("algorithms": ["RS256", ...]). Fails, with
// a message for the user in *error, on an empty list, an unknown name, and on
// "none" in any case: unsigned tokens are never accepted.
std::optional<JwtAlgorithmSet> parseJwtAlgorithms(const std::vector<std::string>& names,
                                                  std::string* error);

}  // namespace isogate::crypto
