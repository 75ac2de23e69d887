#include "runtime/circuit_breaker.h"

namespace isogate {

CircuitBreaker::CircuitBreaker(const CircuitBreakerConfig& config, const MonotonicClock& clock,
                               OnTransition on_transition)
    : config_(config), clock_(clock), on_transition_(std::move(on_transition)) {
  if (on_transition_) on_transition_(State::kClosed);
}

CircuitBreaker::Admission CircuitBreaker::admit() {
  // The hot path: one load, no shared write.
  if (state_.load(std::memory_order_acquire) == State::kClosed) return Admission::kAllowed;
  std::lock_guard<std::mutex> lock(mutex_);
  switch (state_.load(std::memory_order_relaxed)) {
    case State::kClosed:
      return Admission::kAllowed;
    case State::kOpen:
      if (clock_.nowMs() < open_until_ms_) return Admission::kRejected;
      setStateLocked(State::kHalfOpen);
      probe_out_ = true;
      return Admission::kProbe;
    case State::kHalfOpen:
      if (probe_out_) return Admission::kRejected;
      probe_out_ = true;
      return Admission::kProbe;
  }
  return Admission::kRejected;
}

void CircuitBreaker::recordSuccess(bool probe) {
  // Only write the shared counter when there is something to reset, so that
  // successes on a healthy origin do not bounce its cache line between workers.
  if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
    consecutive_failures_.store(0, std::memory_order_relaxed);
  }
  if (!probe || state_.load(std::memory_order_acquire) == State::kClosed) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_.load(std::memory_order_relaxed) == State::kHalfOpen) closeLocked();
}

void CircuitBreaker::recordFailure(bool probe) {
  if (state_.load(std::memory_order_acquire) == State::kClosed) {
    uint32_t failures = consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (failures < config_.failures) return;
    std::lock_guard<std::mutex> lock(mutex_);
    // Several workers may reach the threshold at once; one opens.
    if (state_.load(std::memory_order_relaxed) == State::kClosed) openLocked();
    return;
  }
  if (!probe) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_.load(std::memory_order_relaxed) == State::kHalfOpen) openLocked();
}

void CircuitBreaker::abandonProbe() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_.load(std::memory_order_relaxed) == State::kHalfOpen) probe_out_ = false;
}

void CircuitBreaker::forceOpen() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_.load(std::memory_order_relaxed) != State::kOpen) openLocked();
}

void CircuitBreaker::forceClose() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_.load(std::memory_order_relaxed) != State::kClosed) closeLocked();
}

void CircuitBreaker::openLocked() {
  open_until_ms_ = clock_.nowMs() + config_.cooldown_ms;
  probe_out_ = false;
  consecutive_failures_.store(0, std::memory_order_relaxed);
  openings_.fetch_add(1, std::memory_order_release);
  setStateLocked(State::kOpen);
}

void CircuitBreaker::closeLocked() {
  probe_out_ = false;
  consecutive_failures_.store(0, std::memory_order_relaxed);
  setStateLocked(State::kClosed);
}

void CircuitBreaker::setStateLocked(State state) {
  state_.store(state, std::memory_order_release);
  if (on_transition_) on_transition_(state);
}

}  // namespace isogate
