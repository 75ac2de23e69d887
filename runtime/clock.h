#pragma once
// A monotonic millisecond clock behind an interface, so that time-driven
// state machines (the circuit breaker) can be tested with a fake one.
// Implementations must be callable from any thread.

#include <cstdint>

namespace isogate {

class MonotonicClock {
 public:
  virtual ~MonotonicClock() = default;
  virtual uint64_t nowMs() const = 0;
  // The process's steady clock (a static instance that lives forever).
  static const MonotonicClock& system();
};

}  // namespace isogate
