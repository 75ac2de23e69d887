#include "crypto/jwt_claims.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

namespace isogate::crypto {
namespace {

using nlohmann::json;

// NumericDates and the skew are clamped far beyond any real date so that the
// sums below can never overflow.
constexpr int64_t kNumericDateLimit = int64_t{1} << 53;
constexpr int64_t kMaxSkewS = int64_t{1} << 32;

// A NumericDate (seconds, possibly fractional) as whole seconds, rounded
// down or up.
int64_t wholeSeconds(const json& value, bool round_up) {
  if (value.is_number_unsigned()) {
    return static_cast<int64_t>(std::min<uint64_t>(value.get<uint64_t>(), kNumericDateLimit));
  }
  if (value.is_number_integer()) {
    return std::clamp<int64_t>(value.get<int64_t>(), -kNumericDateLimit, kNumericDateLimit);
  }
  double seconds = value.get<double>();
  if (std::isnan(seconds)) return round_up ? kNumericDateLimit : -kNumericDateLimit;
  seconds = round_up ? std::ceil(seconds) : std::floor(seconds);
  seconds = std::clamp(seconds, static_cast<double>(-kNumericDateLimit),
                       static_cast<double>(kNumericDateLimit));
  return static_cast<int64_t>(seconds);
}

bool audienceMatches(const json& aud, const std::vector<std::string>& accepted) {
  auto accepts = [&accepted](const json& value) {
    return value.is_string() && std::find(accepted.begin(), accepted.end(),
                                          value.get_ref<const std::string&>()) != accepted.end();
  };
  if (aud.is_string()) return accepts(aud);
  if (aud.is_array()) return std::any_of(aud.begin(), aud.end(), accepts);
  return false;
}

}  // namespace

JwtError checkJwtClaims(const json& claims, const JwtPolicy& policy, int64_t now_s,
                        JwtResult* result) {
  auto exp = claims.find("exp");
  auto nbf = claims.find("nbf");
  auto iat = claims.find("iat");
  for (auto it : {exp, nbf, iat}) {
    if (it != claims.end() && !it->is_number()) {
      result->detail = "exp, nbf and iat must be numbers";
      return JwtError::kMalformed;
    }
  }

  const int64_t skew = std::clamp<int64_t>(policy.clock_skew_s, 0, kMaxSkewS);
  const int64_t now = std::clamp<int64_t>(now_s, -kNumericDateLimit, kNumericDateLimit);
  if (exp != claims.end()) {
    result->exp = wholeSeconds(*exp, /*round_up=*/false);
    if (*result->exp <= now - skew) {
      result->detail = "the token has expired";
      return JwtError::kExpired;
    }
  }
  if (nbf != claims.end()) {
    result->nbf = wholeSeconds(*nbf, /*round_up=*/true);
    if (*result->nbf > now + skew) {
      result->detail = "the token is not valid yet";
      return JwtError::kNotYetValid;
    }
  }

  if (policy.issuer) {
    auto iss = claims.find("iss");
    if (iss == claims.end() || !iss->is_string() ||
        iss->get_ref<const std::string&>() != *policy.issuer) {
      result->detail = "iss is not the configured issuer";
      return JwtError::kInvalidIssuer;
    }
  }

  if (!policy.audience.empty()) {
    auto aud = claims.find("aud");
    if (aud == claims.end() || !audienceMatches(*aud, policy.audience)) {
      result->detail = "aud names none of the configured audiences";
      return JwtError::kInvalidAudience;
    }
  }

  for (const std::string& name : policy.required_claims) {
    if (!claims.contains(name)) {
      result->detail = "a required claim is missing";
      return JwtError::kMissingClaim;
    }
  }
  return JwtError::kNone;
}

}  // namespace isogate::crypto
