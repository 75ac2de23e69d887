#pragma once
// JWT verification: RFC 7519 tokens in the JWS compact serialization
// (RFC 7515), signed with one of the JwtAlgorithms. This is the core under
// env.AUTH.verify(): the policy a binding configures, the stable error codes
// it reports, and verifyJwt(), which decides one token.
//
// verifyJwt() does no I/O and reads no clock: keys and the time come from the
// caller. It never throws and may run on any thread, concurrently with other
// calls (Key and KeySet are immutable).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/jwks.h"
#include "crypto/jwt_algorithm.h"
#include "crypto/key.h"

namespace isogate::crypto {

// Larger tokens are refused before any decoding or cryptography.
inline constexpr size_t kMaxJwtBytes = 16 * 1024;
// A token without kid is tried against at most this many keys of its family,
// so one request cannot buy an unbounded number of signature checks.
inline constexpr size_t kMaxKeysTriedWithoutKid = 8;

enum class JwtError : uint8_t {
  kNone,
  kMissingToken,      // no token at all
  kMalformed,         // not a well-formed JWS/JWT (see verifyJwt for the rules)
  kUnsupportedAlg,    // alg absent, unknown, "none", not allowed, or no key source for it
  kUnknownKid,        // no JWKS key for the token (the caller may refetch the JWKS)
  kInvalidSignature,  // the selected key(s) do not verify the signature
  kExpired,
  kNotYetValid,
  kInvalidIssuer,
  kInvalidAudience,
  kMissingClaim,
};

// The stable code reported to scripts: "missing_token", "malformed",
// "unsupported_alg", "unknown_kid", "invalid_signature", "expired",
// "not_yet_valid", "invalid_issuer", "invalid_audience", "missing_claim";
// "ok" for kNone. Static storage.
const char* jwtErrorCode(JwtError error);

// What a binding accepts. Built once from configuration, then read-only.
struct JwtPolicy {
  // The allow-list; a token whose alg is not in it is unsupported_alg.
  // Build it with parseJwtAlgorithms(), which refuses "none".
  JwtAlgorithmSet algorithms;
  // When set, the iss claim must be a string equal to it, byte for byte.
  std::optional<std::string> issuer;
  // When non-empty, the aud claim (a string or an array of strings) must
  // contain at least one of these.
  std::vector<std::string> audience;
  // Tolerance for clock differences, applied to exp and nbf only (iat is not
  // compared with the clock, as in jose and jsonwebtoken). Negative means 0.
  int64_t clock_skew_s = 60;
  // Claims that must be present (any value, null included).
  std::vector<std::string> required_claims;
};

// The outcome of one verification. Owns its strings.
struct JwtResult {
  JwtError error = JwtError::kNone;
  // A short explanation for logs (never secret material). Static storage.
  const char* detail = "";
  // Valid tokens only: the decoded header and claims exactly as they were
  // signed, so numbers and member order survive into JSON.parse.
  std::string header_json;
  std::string claims_json;
  // Filled as soon as the header has been read (also for most failures), for
  // logging and metrics.
  std::optional<JwtAlgorithm> alg;
  std::optional<std::string> kid;
  // Valid tokens only: the exp and nbf claims as whole seconds (exp rounded
  // down, nbf rounded up, so a fractional date never extends validity).
  std::optional<int64_t> exp;
  std::optional<int64_t> nbf;

  bool valid() const { return error == JwtError::kNone; }
};

// Verifies `token` at time `now_s` (Unix seconds). Key sources: `jwks` for
// RS*/PS*/ES*/EdDSA (nullptr behaves as an empty set), `hmac_secret` (a
// KeyKind::kSecret key) for HS*; either may be null.
//
// Checks, in order, each failing with the code in brackets:
//  1. empty [missing_token]; longer than kMaxJwtBytes [malformed];
//  2. exactly three non-empty segments, each strict base64url [malformed];
//  3. the header is a JSON object without repeated member names [malformed];
//  4. alg is a string naming an algorithm in the allow-list [unsupported_alg]
//     ("none" never is);
//  5. no crit header, since no extension is understood (RFC 7515 §4.1.11);
//     kid, if present, is a string of at most kMaxKidBytes [malformed].
//     jku, x5u, x5c and jwk are ignored: keys never come from the token;
//  6. key selection and signature [unsupported_alg, unknown_kid,
//     invalid_signature]. HS* uses only `hmac_secret`, never a JWKS key (so a
//     public key can never serve as an HMAC secret). Other algorithms use
//     JWKS keys that JwksKey::canVerify() accepts: with a kid, exactly the key
//     with that kid (absent: unknown_kid; unfit for alg: invalid_signature);
//     without a kid, up to kMaxKeysTriedWithoutKid fitting keys (none at all:
//     unknown_kid);
//  7. the claims are a JSON object without repeated member names, and exp,
//     nbf, iat are numbers when present [malformed];
//  8. exp <= now - skew [expired]; nbf > now + skew [not_yet_valid];
//     issuer [invalid_issuer]; audience [invalid_audience];
//     required claims [missing_claim].
JwtResult verifyJwt(std::string_view token, const JwtPolicy& policy, const KeySet* jwks,
                    const Key* hmac_secret, int64_t now_s) noexcept;

// The token of an "Authorization: Bearer <token>" header value (RFC 6750
// §2.1; the scheme is case-insensitive), or nullopt when the value is not a
// Bearer credential. Points into `authorization`.
std::optional<std::string_view> bearerToken(std::string_view authorization);

}  // namespace isogate::crypto
