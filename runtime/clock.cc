#include "runtime/clock.h"

#include <chrono>

namespace isogate {

namespace {
class SteadyClock final : public MonotonicClock {
 public:
  uint64_t nowMs() const override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }
};
}  // namespace

const MonotonicClock& MonotonicClock::system() {
  static const SteadyClock clock;
  return clock;
}

}  // namespace isogate
