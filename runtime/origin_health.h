#pragma once
// The process-wide health of one configured origin: its circuit breaker (when
// `circuit_breaker` is configured) and which of its addresses the active
// health checks consider up. Every worker's OriginPool for the origin reads
// it to admit requests and pick addresses; the one HealthChecker of the
// process writes the up/down marks. Owned by the Deployment (one per origin),
// so a reload starts from fresh state. Thread-safe; the request path only
// does atomic loads.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/circuit_breaker.h"
#include "runtime/clock.h"
#include "runtime/config.h"

namespace isogate {

class OriginHealth {
 public:
  // Reports the breaker's state to metrics while `current()` says so (a
  // replaced deployment's breaker must not overwrite the gauge of the one
  // serving now), and its transitions to stderr. `clock` must outlive this;
  // `current` may be called from any thread.
  OriginHealth(const OriginConfig& origin, std::function<bool()> current,
               const MonotonicClock& clock = MonotonicClock::system());
  OriginHealth(const OriginHealth&) = delete;
  OriginHealth& operator=(const OriginHealth&) = delete;

  const std::string& name() const { return name_; }
  // Null when the origin has no circuit_breaker.
  CircuitBreaker* breaker() { return breaker_ ? &*breaker_ : nullptr; }

  size_t addressCount() const { return address_count_; }
  bool addressUp(size_t index) const { return up_[index].load(std::memory_order_relaxed); }

  // The address for an attempt, scanning round-robin from `start`: one that
  // is up and not yet tried (bit i of `tried`), else one not yet tried, else
  // one that is up, else `start` itself. Down addresses are still used when
  // nothing better is left (fail open, like Envoy's panic threshold); the
  // breaker is what stops traffic to a dead origin.
  size_t pickAddress(size_t start, uint64_t tried) const;

  // Health checker only (one thread). Marking the last address down opens
  // the breaker; marking one up closes it.
  void markAddressDown(size_t index);
  void markAddressUp(size_t index);

 private:
  std::string name_;
  size_t address_count_;
  std::unique_ptr<std::atomic<bool>[]> up_;
  std::optional<CircuitBreaker> breaker_;
};

}  // namespace isogate
