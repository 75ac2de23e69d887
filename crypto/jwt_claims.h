#pragma once
// The claim checks of JWT verification (RFC 7519 §4.1), run by verifyJwt()
// on claims whose signature has already been verified. Pure; any thread.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>

#include "crypto/jwt.h"

namespace isogate::crypto {

// Checks `claims` (already known to be a JSON object) against `policy` at
// `now_s`. On success fills result->exp and result->nbf and returns kNone;
// otherwise returns the error and sets result->detail.
JwtError checkJwtClaims(const nlohmann::json& claims, const JwtPolicy& policy, int64_t now_s,
                        JwtResult* result);

}  // namespace isogate::crypto
