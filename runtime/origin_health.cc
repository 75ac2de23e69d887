#include "runtime/origin_health.h"

#include <cstdio>

#include "runtime/metrics.h"

namespace isogate {

namespace {
const char* stateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed: return "closed";
    case CircuitBreaker::State::kOpen: return "open";
    case CircuitBreaker::State::kHalfOpen: return "half-open (letting one probe through)";
  }
  return "unknown";
}
}  // namespace

OriginHealth::OriginHealth(const OriginConfig& origin, std::function<bool()> current, const MonotonicClock& clock)
    : name_(origin.name), address_count_(origin.addresses.empty() ? 1 : origin.addresses.size()) {
  up_ = std::make_unique<std::atomic<bool>[]>(address_count_);
  for (size_t i = 0; i < address_count_; ++i) up_[i].store(true, std::memory_order_relaxed);
  if (origin.circuit_breaker) {
    auto report = [name = name_, current = std::move(current), first = true](CircuitBreaker::State state) mutable {
      if (!current || current()) metrics::setCircuitState(name, static_cast<int>(state));
      if (first) {
        first = false;  // the initial report is not a transition
        return;
      }
      fprintf(stderr, "isogate: origin %s: circuit %s\n", name.c_str(), stateName(state));
    };
    breaker_.emplace(*origin.circuit_breaker, clock, std::move(report));
  }
}

size_t OriginHealth::pickAddress(size_t start, uint64_t tried) const {
  const size_t n = address_count_;
  if (n == 1) return 0;
  auto scan = [&](bool need_up, bool need_untried) -> std::optional<size_t> {
    for (size_t i = 0; i < n; ++i) {
      size_t index = (start + i) % n;
      if (need_up && !addressUp(index)) continue;
      if (need_untried && (tried >> index) & 1) continue;
      return index;
    }
    return std::nullopt;
  };
  if (auto index = scan(true, true)) return *index;
  if (auto index = scan(false, true)) return *index;
  if (auto index = scan(true, false)) return *index;
  return start % n;
}

void OriginHealth::markAddressDown(size_t index) {
  up_[index].store(false, std::memory_order_relaxed);
  if (!breaker_) return;
  for (size_t i = 0; i < address_count_; ++i) {
    if (addressUp(i)) return;
  }
  breaker_->forceOpen();
}

void OriginHealth::markAddressUp(size_t index) {
  up_[index].store(true, std::memory_order_relaxed);
  if (breaker_) breaker_->forceClose();
}

}  // namespace isogate
