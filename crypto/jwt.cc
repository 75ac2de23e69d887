#include "crypto/jwt.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "crypto/base64url.h"
#include "crypto/jwt_claims.h"
#include "crypto/strict_json.h"

namespace isogate::crypto {
namespace {

using nlohmann::json;

bool verifyWithKey(const Key& key, JwtAlgorithm alg, std::string_view signing_input,
                   std::string_view signature) {
  const Hash hash = jwtAlgorithmHash(alg);
  switch (alg) {
    case JwtAlgorithm::kRs256:
    case JwtAlgorithm::kRs384:
    case JwtAlgorithm::kRs512:
      return verifyRsaPkcs1(key, hash, signing_input, signature);
    case JwtAlgorithm::kPs256:
    case JwtAlgorithm::kPs384:
    case JwtAlgorithm::kPs512:
      // RFC 7518 §3.5: the salt is as long as the hash output.
      return verifyRsaPss(key, hash, hashSize(hash), signing_input, signature);
    case JwtAlgorithm::kEs256:
    case JwtAlgorithm::kEs384:
      return verifyEcdsa(key, hash, signing_input, signature);
    case JwtAlgorithm::kEdDsa:
      return verifyEd25519(key, signing_input, signature);
    case JwtAlgorithm::kHs256:
    case JwtAlgorithm::kHs384:
    case JwtAlgorithm::kHs512:
      return verifyHmac(key, hash, signing_input, signature);
  }
  return false;
}

// Picks the key(s) for `alg`/`kid` and checks the signature. Returns kNone or
// the error, with *detail set.
JwtError checkSignature(JwtAlgorithm alg, const std::optional<std::string>& kid,
                        std::string_view signing_input, std::string_view signature,
                        const KeySet* jwks, const Key* hmac_secret, const char** detail) {
  if (jwtAlgorithmKeyKind(alg) == KeyKind::kSecret) {
    // HS* is checked with the configured secret and nothing else. Taking a
    // JWKS key here would let anyone who knows a public key (i.e. everyone)
    // forge tokens by using its bytes as the HMAC secret.
    if (hmac_secret == nullptr || hmac_secret->kind() != KeyKind::kSecret) {
      *detail = "no HMAC secret is configured for this alg";
      return JwtError::kUnsupportedAlg;
    }
    if (!verifyWithKey(*hmac_secret, alg, signing_input, signature)) {
      *detail = "the signature does not match the HMAC secret";
      return JwtError::kInvalidSignature;
    }
    return JwtError::kNone;
  }

  if (kid) {
    // The kid is only ever an exact lookup key into the configured set.
    const JwksKey* key = jwks ? jwks->findByKid(*kid) : nullptr;
    if (key == nullptr) {
      *detail = "no JWKS key has the token's kid";
      return JwtError::kUnknownKid;
    }
    if (!key->canVerify(alg)) {
      *detail = "the JWKS key with the token's kid is not a key for the token's alg";
      return JwtError::kInvalidSignature;
    }
    if (!verifyWithKey(*key->key, alg, signing_input, signature)) {
      *detail = "the signature does not verify with the JWKS key of the token's kid";
      return JwtError::kInvalidSignature;
    }
    return JwtError::kNone;
  }

  size_t tried = 0;
  if (jwks != nullptr) {
    for (const JwksKey& key : jwks->keys()) {
      if (!key.canVerify(alg)) continue;
      if (tried == kMaxKeysTriedWithoutKid) break;
      ++tried;
      if (verifyWithKey(*key.key, alg, signing_input, signature)) return JwtError::kNone;
    }
  }
  if (tried == 0) {
    *detail = "the JWKS has no key for the token's alg";
    return JwtError::kUnknownKid;
  }
  *detail = "the signature does not verify with any JWKS key for the token's alg";
  return JwtError::kInvalidSignature;
}

JwtResult verifyUnguarded(std::string_view token, const JwtPolicy& policy, const KeySet* jwks,
                          const Key* hmac_secret, int64_t now_s) {
  JwtResult result;
  auto fail = [&result](JwtError error, const char* detail) {
    result.error = error;
    if (detail != nullptr) result.detail = detail;
    result.header_json.clear();
    result.claims_json.clear();
    result.exp.reset();
    result.nbf.reset();
    return std::move(result);
  };

  if (token.empty()) return fail(JwtError::kMissingToken, "no token");
  // Before anything else, so an oversized token costs nothing but this test.
  if (token.size() > kMaxJwtBytes) return fail(JwtError::kMalformed, "the token exceeds 16 KiB");

  const size_t first_dot = token.find('.');
  const size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return fail(JwtError::kMalformed, "the token does not have exactly three segments");
  }
  const std::string_view header_b64 = token.substr(0, first_dot);
  const std::string_view payload_b64 = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_b64 = token.substr(second_dot + 1);
  if (header_b64.empty() || payload_b64.empty() || signature_b64.empty()) {
    return fail(JwtError::kMalformed, "the token has an empty segment");
  }
  std::optional<std::string> header_text = base64urlDecode(header_b64);
  std::optional<std::string> payload_text = base64urlDecode(payload_b64);
  std::optional<std::string> signature = base64urlDecode(signature_b64);
  if (!header_text || !payload_text || !signature) {
    return fail(JwtError::kMalformed, "a token segment is not strict base64url");
  }

  std::optional<json> header = parseStrictJson(*header_text);
  if (!header || !header->is_object()) {
    return fail(JwtError::kMalformed, "the header is not a JSON object with distinct members");
  }

  auto alg_member = header->find("alg");
  if (alg_member == header->end() || !alg_member->is_string()) {
    return fail(JwtError::kUnsupportedAlg, "the header has no alg string");
  }
  // jwtAlgorithmFromName() knows no "none", in any spelling.
  result.alg = jwtAlgorithmFromName(alg_member->get_ref<const std::string&>());
  if (!result.alg || !policy.algorithms.contains(*result.alg)) {
    return fail(JwtError::kUnsupportedAlg, "the token's alg is not allowed");
  }
  if (header->contains("crit")) {
    return fail(JwtError::kMalformed, "the header lists critical extensions, none are supported");
  }
  if (auto kid = header->find("kid"); kid != header->end()) {
    if (!kid->is_string()) return fail(JwtError::kMalformed, "kid is not a string");
    if (kid->get_ref<const std::string&>().size() > kMaxKidBytes) {
      return fail(JwtError::kMalformed, "kid is longer than 256 bytes");
    }
    result.kid = kid->get_ref<const std::string&>();
  }
  // jku, x5u, x5c and jwk are deliberately never read: a token cannot choose
  // the key that verifies it.

  const std::string_view signing_input = token.substr(0, second_dot);
  JwtError error = checkSignature(*result.alg, result.kid, signing_input, *signature, jwks,
                                  hmac_secret, &result.detail);
  if (error != JwtError::kNone) return fail(error, nullptr);

  // Parsed only now, so unauthenticated bytes never reach the claims parser.
  std::optional<json> claims = parseStrictJson(*payload_text);
  if (!claims || !claims->is_object()) {
    return fail(JwtError::kMalformed, "the claims are not a JSON object with distinct members");
  }
  error = checkJwtClaims(*claims, policy, now_s, &result);
  if (error != JwtError::kNone) return fail(error, nullptr);

  result.header_json = std::move(*header_text);
  result.claims_json = std::move(*payload_text);
  return result;
}

bool isSpace(char c) { return c == ' ' || c == '\t'; }

}  // namespace

const char* jwtErrorCode(JwtError error) {
  switch (error) {
    case JwtError::kNone:
      return "ok";
    case JwtError::kMissingToken:
      return "missing_token";
    case JwtError::kMalformed:
      return "malformed";
    case JwtError::kUnsupportedAlg:
      return "unsupported_alg";
    case JwtError::kUnknownKid:
      return "unknown_kid";
    case JwtError::kInvalidSignature:
      return "invalid_signature";
    case JwtError::kExpired:
      return "expired";
    case JwtError::kNotYetValid:
      return "not_yet_valid";
    case JwtError::kInvalidIssuer:
      return "invalid_issuer";
    case JwtError::kInvalidAudience:
      return "invalid_audience";
    case JwtError::kMissingClaim:
      return "missing_claim";
  }
  return "malformed";
}

JwtResult verifyJwt(std::string_view token, const JwtPolicy& policy, const KeySet* jwks,
                    const Key* hmac_secret, int64_t now_s) noexcept {
  try {
    return verifyUnguarded(token, policy, jwks, hmac_secret, now_s);
  } catch (...) {
    // nlohmann, std::string or OpenSSL wrappers failing (e.g. bad_alloc):
    // the token is refused rather than the exception escaping into V8.
    JwtResult result;
    result.error = JwtError::kMalformed;
    result.detail = "the token could not be processed";
    return result;
  }
}

std::optional<std::string_view> bearerToken(std::string_view authorization) {
  while (!authorization.empty() && isSpace(authorization.front())) authorization.remove_prefix(1);
  while (!authorization.empty() && isSpace(authorization.back())) authorization.remove_suffix(1);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || !isSpace(authorization[kScheme.size()])) {
    return std::nullopt;
  }
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && isSpace(token.front())) token.remove_prefix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace isogate::crypto
