#pragma once
// What a rate-limit check asks and answers (the `ratelimit` binding's
// limit() result). Plain values; any thread.

#include <cstdint>

#include "kv/status.h"

namespace isogate::kv {

enum class RateAlgorithm : uint8_t {
  kSliding,  // weighted previous window + current window (Cloudflare, Kong)
  kFixed,    // windows aligned to multiples of the period since the epoch
};

struct RateRule {
  uint64_t limit = 0;     // requests allowed per period
  uint32_t period_s = 60; // at least 1
  RateAlgorithm algorithm = RateAlgorithm::kSliding;
};

struct RateDecision {
  bool success = false;  // the request is allowed (and was counted)
  uint64_t limit = 0;
  uint64_t remaining = 0;  // what is left after this request
  // Whole seconds, 1..period: when success is false, until a request would
  // be allowed; when true, until the current window ends.
  uint32_t reset_s = 0;
};

// kInvalidArgument for a zero period.
Status checkRule(const RateRule& rule);

}  // namespace isogate::kv
