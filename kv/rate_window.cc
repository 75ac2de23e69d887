#include "kv/rate_window.h"

#include <algorithm>

namespace isogate::kv {
namespace {

using u128 = unsigned __int128;

uint32_t ceilSeconds(uint64_t ms, uint32_t period_s) {
  uint64_t seconds = (ms + 999) / 1000;
  return uint32_t(std::clamp<uint64_t>(seconds, 1, period_s));
}

}  // namespace

Status checkRule(const RateRule& rule) {
  if (rule.period_s == 0) return Status(Status::Code::kInvalidArgument, "rate-limit period must be at least 1 second");
  return Status();
}

RateDecision applyHit(const RateRule& rule, uint64_t now_ms, WindowCounts* counts) {
  const uint64_t period_ms = uint64_t(rule.period_s) * 1000;
  uint64_t window = now_ms / period_ms;
  uint64_t elapsed = now_ms - window * period_ms;
  if (counts->window == window) {
    // same window
  } else if (counts->window + 1 == window) {
    counts->previous = counts->current;
    counts->current = 0;
  } else if (counts->window > window) {
    // Written by a process whose clock is ahead: count in its window, as if
    // it had just begun.
    window = counts->window;
    elapsed = 0;
  } else {
    counts->previous = 0;
    counts->current = 0;
  }
  counts->window = window;

  RateDecision decision;
  decision.limit = rule.limit;
  const uint64_t left_in_window = period_ms - elapsed;  // 1..period_ms

  if (rule.algorithm == RateAlgorithm::kFixed) {
    decision.success = counts->current < rule.limit;
    if (decision.success) ++counts->current;
    decision.remaining = rule.limit - std::min(counts->current, rule.limit);
    decision.reset_s = ceilSeconds(left_in_window, rule.period_s);
    return decision;
  }

  // The previous window's weight, in whole requests (rounded down, as
  // Cloudflare does): previous * (P - e) / P. Rounding down lets a client
  // that used its whole budget in one window in again as soon as the next
  // begins, so the honest wait never exceeds the period and Retry-After is
  // never early.
  const u128 P = period_ms;
  const uint64_t weighted_previous = uint64_t(u128(counts->previous) * left_in_window / P);
  const u128 used = u128(weighted_previous) + counts->current;
  decision.success = used + 1 <= rule.limit;
  if (decision.success) {
    ++counts->current;
    decision.remaining = uint64_t(u128(rule.limit) - used - 1);
    decision.reset_s = ceilSeconds(left_in_window, rule.period_s);
    return decision;
  }
  decision.remaining = 0;
  if (rule.limit == 0) {
    decision.reset_s = rule.period_s;
    return decision;
  }
  // The first t (ms) at which floor(previous' * (P - e') / P) + current' + 1
  // <= limit, i.e. previous' * (P - e') < (limit - current') * P.
  u128 wait_ms;
  if (counts->current < rule.limit) {
    // Within this window, once the previous window's weight has decayed
    // (previous > 0 here): previous * (left - t) < (limit - current) * P.
    const u128 threshold = (u128(rule.limit - counts->current) * P + counts->previous - 1) / counts->previous;
    wait_ms = u128(left_in_window) + 1 - std::min<u128>(threshold, u128(left_in_window) + 1);
  } else {
    // Not before the next window, where previous' = current and current' = 0:
    // current * (P - e') < limit * P.
    const u128 threshold = (u128(rule.limit) * P + counts->current - 1) / counts->current;
    wait_ms = u128(left_in_window) + (P + 1 - std::min<u128>(threshold, P + 1));
  }
  decision.reset_s = ceilSeconds(uint64_t(std::min<u128>(wait_ms, u128(UINT64_MAX))), rule.period_s);
  return decision;
}

bool isStale(uint32_t period_s, const WindowCounts& counts, uint64_t now_ms) {
  const uint64_t period_ms = uint64_t(period_s) * 1000;
  return period_ms == 0 || counts.window + 2 <= now_ms / period_ms;
}

}  // namespace isogate::kv
