#pragma once
// The circuit breaker of one origin (DESIGN.md "Circuit breaker"). Counts
// consecutive failed upstream attempts (connection errors, timeouts, 5xx
// responses): `failures` in a row open it for `cooldown_ms`, during which
// requests are refused without contacting the origin; after the cooldown one
// probe request is let through (half-open) and its outcome closes or re-opens
// it. Active health checks may open or close it too.
//
// One per configured origin with a `circuit_breaker`, owned by the origin's
// OriginHealth (so by the Deployment), shared by every worker of the process:
// "N failures" are N across the process. Thread-safe. Admission in the closed
// state is one atomic load; transitions take a mutex and report the new state
// through OnTransition, in order, under that mutex.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>

#include "runtime/clock.h"
#include "runtime/config.h"

namespace isogate {

class CircuitBreaker {
 public:
  // Values are those of the isogate_circuit_state metrics gauge.
  enum class State : int { kClosed = 0, kOpen = 1, kHalfOpen = 2 };
  enum class Admission {
    kAllowed,   // closed: go ahead
    kProbe,     // half-open: this request is the one probe; report its outcome with probe = true
    kRejected,  // open, or half-open with the probe still out: do not contact the origin
  };
  // Called on every transition and once from the constructor (kClosed).
  using OnTransition = std::function<void(State)>;

  // `clock` must outlive the breaker.
  CircuitBreaker(const CircuitBreakerConfig& config, const MonotonicClock& clock, OnTransition on_transition);
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // Before each upstream attempt.
  Admission admit();
  // The outcome of an admitted attempt. A success resets the count of
  // consecutive failures; the probe's outcome closes or re-opens the circuit.
  // Outcomes of requests admitted before the circuit opened do not move an
  // open circuit: only the probe decides.
  void recordSuccess(bool probe);
  void recordFailure(bool probe);
  // The probe ended without an outcome (its client went away): the next
  // request becomes the probe instead.
  void abandonProbe();

  // Health checks: every address is down / an address is healthy again.
  void forceOpen();
  void forceClose();

  State state() const { return state_.load(std::memory_order_acquire); }
  // How many times the circuit has opened (lets a health checker count only
  // the passes that came after an opening).
  uint64_t openings() const { return openings_.load(std::memory_order_acquire); }

 private:
  void openLocked();
  void closeLocked();
  void setStateLocked(State state);

  const CircuitBreakerConfig config_;
  const MonotonicClock& clock_;
  OnTransition on_transition_;
  std::atomic<State> state_{State::kClosed};
  std::atomic<uint32_t> consecutive_failures_{0};
  std::atomic<uint64_t> openings_{0};
  std::mutex mutex_;           // serialises transitions
  uint64_t open_until_ms_ = 0;  // guarded by mutex_
  bool probe_out_ = false;      // guarded by mutex_: half-open and the probe is in flight
};

}  // namespace isogate
