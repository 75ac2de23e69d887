#pragma once
// The arithmetic of one rate-limit counter, separate from storage so it can
// be tested exactly. Times in milliseconds since the epoch; windows are
// aligned to multiples of the period.
//
// Sliding window: with e the time elapsed in the current window and P the
// period, the estimated count is floor(previous * (P - e) / P) + current; a
// request is allowed if estimate + 1 <= limit. With an empty previous window
// exactly `limit` requests pass, and a refused client waits at most until
// the next window begins (so reset <= period is the honest wait).

#include <cstdint>

#include "kv/rate_rule.h"

namespace isogate::kv {

// One counter's stored state: the window it counts and the counts of that
// window and the one before.
struct WindowCounts {
  uint64_t window = 0;  // now_ms / period_ms
  uint64_t current = 0;
  uint64_t previous = 0;
};

// Moves `counts` to the window of now_ms, decides, and counts the request
// only when it is allowed. rule.period_s must be >= 1.
RateDecision applyHit(const RateRule& rule, uint64_t now_ms, WindowCounts* counts);

// True when the counts can no longer affect a decision at now_ms (both
// windows are over), so the record may be deleted.
bool isStale(uint32_t period_s, const WindowCounts& counts, uint64_t now_ms);

}  // namespace isogate::kv
