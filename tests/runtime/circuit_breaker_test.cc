// The circuit breaker's state machine with a fake clock: closed → open after
// N consecutive failures, successes reset the count, open refuses until the
// cooldown ends, half-open admits exactly one probe whose outcome decides,
// health checks force it either way, and every transition is reported.

#include "runtime/circuit_breaker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "runtime/origin_health.h"

namespace isogate {
namespace {

using State = CircuitBreaker::State;
using Admission = CircuitBreaker::Admission;

class FakeClock final : public MonotonicClock {
 public:
  uint64_t nowMs() const override { return now_; }
  void advance(uint64_t ms) { now_ += ms; }

 private:
  uint64_t now_ = 1000;
};

class CircuitBreakerTest : public ::testing::Test {
 protected:
  CircuitBreakerTest()
      : breaker_(CircuitBreakerConfig{3, 500}, clock_, [this](State s) { transitions_.push_back(s); }) {}

  void fail(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(breaker_.admit(), Admission::kAllowed);
      breaker_.recordFailure(false);
    }
  }

  FakeClock clock_;
  std::vector<State> transitions_;
  CircuitBreaker breaker_;
};

TEST_F(CircuitBreakerTest, StartsClosedAndReportsIt) {
  EXPECT_EQ(breaker_.state(), State::kClosed);
  EXPECT_EQ(transitions_, std::vector<State>{State::kClosed});
  EXPECT_EQ(breaker_.admit(), Admission::kAllowed);
}

TEST_F(CircuitBreakerTest, OpensAfterConsecutiveFailures) {
  fail(2);
  EXPECT_EQ(breaker_.state(), State::kClosed);
  fail(1);
  EXPECT_EQ(breaker_.state(), State::kOpen);
  EXPECT_EQ(breaker_.openings(), 1u);
  EXPECT_EQ(transitions_, (std::vector<State>{State::kClosed, State::kOpen}));
}

TEST_F(CircuitBreakerTest, SuccessResetsTheCount) {
  fail(2);
  breaker_.recordSuccess(false);
  fail(2);
  EXPECT_EQ(breaker_.state(), State::kClosed) << "failures were not consecutive";
  fail(1);
  EXPECT_EQ(breaker_.state(), State::kOpen);
}

TEST_F(CircuitBreakerTest, OpenRejectsUntilTheCooldownEnds) {
  fail(3);
  EXPECT_EQ(breaker_.admit(), Admission::kRejected);
  clock_.advance(499);
  EXPECT_EQ(breaker_.admit(), Admission::kRejected);
  EXPECT_EQ(breaker_.state(), State::kOpen);
}

TEST_F(CircuitBreakerTest, HalfOpenAdmitsExactlyOneProbe) {
  fail(3);
  clock_.advance(500);
  EXPECT_EQ(breaker_.admit(), Admission::kProbe);
  EXPECT_EQ(breaker_.state(), State::kHalfOpen);
  EXPECT_EQ(breaker_.admit(), Admission::kRejected);
  EXPECT_EQ(breaker_.admit(), Admission::kRejected);
  clock_.advance(10000);
  EXPECT_EQ(breaker_.admit(), Admission::kRejected) << "the probe is still out";
}

TEST_F(CircuitBreakerTest, ProbeSuccessCloses) {
  fail(3);
  clock_.advance(500);
  ASSERT_EQ(breaker_.admit(), Admission::kProbe);
  breaker_.recordSuccess(true);
  EXPECT_EQ(breaker_.state(), State::kClosed);
  EXPECT_EQ(breaker_.admit(), Admission::kAllowed);
  EXPECT_EQ(transitions_, (std::vector<State>{State::kClosed, State::kOpen, State::kHalfOpen, State::kClosed}));
  // The count starts over.
  fail(2);
  EXPECT_EQ(breaker_.state(), State::kClosed);
}

TEST_F(CircuitBreakerTest, ProbeFailureReopensForAnotherCooldown) {
  fail(3);
  clock_.advance(500);
  ASSERT_EQ(breaker_.admit(), Admission::kProbe);
  breaker_.recordFailure(true);
  EXPECT_EQ(breaker_.state(), State::kOpen);
  EXPECT_EQ(breaker_.openings(), 2u);
  EXPECT_EQ(breaker_.admit(), Admission::kRejected);
  clock_.advance(499);
  EXPECT_EQ(breaker_.admit(), Admission::kRejected);
  clock_.advance(1);
  EXPECT_EQ(breaker_.admit(), Admission::kProbe);
}

TEST_F(CircuitBreakerTest, OutcomesOfEarlierRequestsDoNotMoveAnOpenCircuit) {
  fail(3);
  breaker_.recordSuccess(false);  // admitted before it opened
  EXPECT_EQ(breaker_.state(), State::kOpen);
  clock_.advance(500);
  ASSERT_EQ(breaker_.admit(), Admission::kProbe);
  breaker_.recordSuccess(false);
  breaker_.recordFailure(false);
  EXPECT_EQ(breaker_.state(), State::kHalfOpen) << "only the probe decides";
  breaker_.recordSuccess(true);
  EXPECT_EQ(breaker_.state(), State::kClosed);
}

TEST_F(CircuitBreakerTest, AbandonedProbeLetsTheNextRequestProbe) {
  fail(3);
  clock_.advance(500);
  ASSERT_EQ(breaker_.admit(), Admission::kProbe);
  breaker_.abandonProbe();
  EXPECT_EQ(breaker_.state(), State::kHalfOpen);
  EXPECT_EQ(breaker_.admit(), Admission::kProbe);
  EXPECT_EQ(breaker_.admit(), Admission::kRejected);
}

TEST_F(CircuitBreakerTest, HealthChecksForceOpenAndClose) {
  breaker_.forceOpen();
  EXPECT_EQ(breaker_.state(), State::kOpen);
  EXPECT_EQ(breaker_.admit(), Admission::kRejected);
  breaker_.forceOpen();  // already open: no second transition
  breaker_.forceClose();
  EXPECT_EQ(breaker_.state(), State::kClosed);
  EXPECT_EQ(breaker_.admit(), Admission::kAllowed);
  breaker_.forceClose();
  EXPECT_EQ(transitions_, (std::vector<State>{State::kClosed, State::kOpen, State::kClosed}));
}

TEST_F(CircuitBreakerTest, ConcurrentFailuresOpenOnce) {
  CircuitBreaker breaker(CircuitBreakerConfig{100, 60000}, clock_, [this](State s) { transitions_.push_back(s); });
  transitions_.clear();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (breaker.admit() == Admission::kAllowed) breaker.recordFailure(false);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_EQ(transitions_, std::vector<State>{State::kOpen});
}

// --- OriginHealth: address choice and what health marks do to the breaker ---

OriginConfig twoAddresses(bool with_breaker) {
  OriginConfig origin;
  origin.name = "users";
  origin.parsed = parseOriginUrl("http://127.0.0.1:9001");
  origin.addresses = {origin.parsed, parseOriginUrl("http://127.0.0.1:9002"), parseOriginUrl("http://127.0.0.1:9003")};
  if (with_breaker) origin.circuit_breaker = CircuitBreakerConfig{5, 1000};
  return origin;
}

TEST(OriginHealthTest, PicksRoundRobinPreferringUpAndUntried) {
  FakeClock clock;
  OriginHealth health(twoAddresses(false), nullptr, clock);
  EXPECT_EQ(health.breaker(), nullptr);
  EXPECT_EQ(health.pickAddress(0, 0), 0u);
  EXPECT_EQ(health.pickAddress(1, 0), 1u);
  EXPECT_EQ(health.pickAddress(5, 0), 2u);
  // A retry after address 0 failed goes to the next untried one.
  EXPECT_EQ(health.pickAddress(1, 0b001), 1u);
  EXPECT_EQ(health.pickAddress(0, 0b001), 1u);
  health.markAddressDown(1);
  EXPECT_EQ(health.pickAddress(1, 0), 2u) << "down addresses are skipped";
  EXPECT_EQ(health.pickAddress(1, 0b101), 1u) << "...unless nothing untried is left";
  health.markAddressDown(0);
  health.markAddressDown(2);
  EXPECT_EQ(health.pickAddress(1, 0), 1u) << "all down: fail open";
  EXPECT_EQ(health.pickAddress(1, 0b111), 1u);
}

TEST(OriginHealthTest, LastAddressDownOpensTheBreakerAndOneUpClosesIt) {
  FakeClock clock;
  OriginHealth health(twoAddresses(true), [] { return false; }, clock);
  CircuitBreaker* breaker = health.breaker();
  ASSERT_NE(breaker, nullptr);
  health.markAddressDown(0);
  health.markAddressDown(1);
  EXPECT_EQ(breaker->state(), State::kClosed) << "address 2 still serves";
  health.markAddressDown(2);
  EXPECT_EQ(breaker->state(), State::kOpen);
  health.markAddressUp(1);
  EXPECT_EQ(breaker->state(), State::kClosed);
  EXPECT_TRUE(health.addressUp(1));
  EXPECT_FALSE(health.addressUp(0));
}

}  // namespace
}  // namespace isogate
