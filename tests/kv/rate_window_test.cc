#include "kv/rate_window.h"

#include <gtest/gtest.h>

#include <random>

namespace isogate::kv {
namespace {

constexpr uint64_t kT0 = 1'700'000'040'000;  // a multiple of 60 s, in ms

RateRule rule(uint64_t limit, uint32_t period_s, RateAlgorithm algorithm) { return {limit, period_s, algorithm}; }

TEST(RateWindowTest, FreshWindowAllowsExactlyLimit) {
  for (RateAlgorithm algorithm : {RateAlgorithm::kSliding, RateAlgorithm::kFixed}) {
    WindowCounts counts;
    RateRule r = rule(10, 60, algorithm);
    for (uint64_t i = 0; i < 10; ++i) {
      RateDecision d = applyHit(r, kT0 + 30'000 + i, &counts);
      ASSERT_TRUE(d.success) << i;
      EXPECT_EQ(d.limit, 10u);
      EXPECT_EQ(d.remaining, 9 - i);
      EXPECT_EQ(d.reset_s, 30u);  // until the window ends
    }
    RateDecision d = applyHit(r, kT0 + 30'500, &counts);
    EXPECT_FALSE(d.success);
    EXPECT_EQ(d.remaining, 0u);
    EXPECT_GE(d.reset_s, 1u);
    EXPECT_LE(d.reset_s, 60u);
  }
}

TEST(RateWindowTest, FixedWindowsAlignToThePeriod) {
  WindowCounts counts;
  RateRule r = rule(2, 60, RateAlgorithm::kFixed);
  EXPECT_TRUE(applyHit(r, kT0 + 59'000, &counts).success);
  EXPECT_TRUE(applyHit(r, kT0 + 59'100, &counts).success);
  RateDecision rejected = applyHit(r, kT0 + 59'200, &counts);
  EXPECT_FALSE(rejected.success);
  EXPECT_EQ(rejected.reset_s, 1u);  // 0.8 s left, rounded up
  // A new window one second later: the full budget again.
  RateDecision next = applyHit(r, kT0 + 60'000, &counts);
  EXPECT_TRUE(next.success);
  EXPECT_EQ(next.remaining, 1u);
  EXPECT_EQ(next.reset_s, 60u);
}

TEST(RateWindowTest, SlidingWindowWeighsThePreviousWindow) {
  WindowCounts counts;
  RateRule r = rule(10, 60, RateAlgorithm::kSliding);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(applyHit(r, kT0 + 1'000, &counts).success);
  // 15 s into the next window the previous 10 weigh floor(10 * 45/60) = 7.
  uint64_t now = kT0 + 60'000 + 15'000;
  RateDecision first = applyHit(r, now, &counts);
  ASSERT_TRUE(first.success);                    // 7 + 1 <= 10
  EXPECT_EQ(first.remaining, 2u);
  ASSERT_TRUE(applyHit(r, now, &counts).success);  // 7 + 2 <= 10
  ASSERT_TRUE(applyHit(r, now, &counts).success);  // 7 + 3 <= 10
  RateDecision rejected = applyHit(r, now, &counts);  // 7 + 4 > 10
  ASSERT_FALSE(rejected.success);
  // Allowed once floor(10 * (45 - t)/60) <= 6, i.e. t > 3 s: 4 whole seconds.
  EXPECT_EQ(rejected.reset_s, 4u);
  WindowCounts copy = counts;
  EXPECT_FALSE(applyHit(r, now + 3'000, &copy).success);
  copy = counts;
  EXPECT_TRUE(applyHit(r, now + 3'001, &copy).success);
}

// A client that spent its whole budget is let in again when the next window
// begins, so reset never exceeds the period (the seed: Retry-After 1..60).
TEST(RateWindowTest, SlidingResetAfterAFullWindowIsTheRestOfTheWindow) {
  WindowCounts counts;
  RateRule r = rule(100, 60, RateAlgorithm::kSliding);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(applyHit(r, kT0 + 500, &counts).success);
  RateDecision rejected = applyHit(r, kT0 + 700, &counts);
  ASSERT_FALSE(rejected.success);
  EXPECT_EQ(rejected.reset_s, 60u);  // 59.3 s + 1 ms, rounded up
  WindowCounts copy = counts;
  EXPECT_FALSE(applyHit(r, kT0 + 60'000, &copy).success);
  copy = counts;
  EXPECT_TRUE(applyHit(r, kT0 + 60'001, &copy).success);
}

TEST(RateWindowTest, ARejectedRequestDoesNotConsumeBudget) {
  for (RateAlgorithm algorithm : {RateAlgorithm::kSliding, RateAlgorithm::kFixed}) {
    WindowCounts counts;
    RateRule r = rule(5, 60, algorithm);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(applyHit(r, kT0, &counts).success);
    for (int i = 0; i < 100; ++i) ASSERT_FALSE(applyHit(r, kT0 + 10'000, &counts).success);
    EXPECT_EQ(counts.current, 5u);
    // Two windows later nothing is left of either.
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(applyHit(r, kT0 + 120'000, &counts).success) << i;
  }
}

TEST(RateWindowTest, ZeroLimitRejectsEverything) {
  WindowCounts counts;
  RateDecision d = applyHit(rule(0, 10, RateAlgorithm::kSliding), kT0, &counts);
  EXPECT_FALSE(d.success);
  EXPECT_EQ(d.reset_s, 10u);
  d = applyHit(rule(0, 10, RateAlgorithm::kFixed), kT0 + 4'000, &counts);
  EXPECT_FALSE(d.success);
  EXPECT_EQ(d.reset_s, 6u);
}

// When rejected with reset r < period, a request at now + r seconds is
// allowed and one at now + r - 1 seconds is not; reset is always in
// 1..period.
TEST(RateWindowTest, ResetIsWhenARequestWouldBeAllowed) {
  std::mt19937_64 rng(42);
  int checked = 0;
  for (int round = 0; round < 20000; ++round) {
    uint32_t period = 1 + rng() % 120;
    uint64_t limit = 1 + rng() % 50;
    RateRule r = rule(limit, period, RateAlgorithm::kSliding);
    uint64_t period_ms = uint64_t(period) * 1000;
    uint64_t now = kT0 + (rng() % period_ms);
    WindowCounts counts;
    counts.window = now / period_ms;
    counts.previous = rng() % (limit + 1);
    counts.current = rng() % (limit + 1);
    RateDecision d = applyHit(r, now, &counts);
    ASSERT_GE(d.reset_s, 1u);
    ASSERT_LE(d.reset_s, period);
    if (d.success || d.reset_s == period) continue;
    WindowCounts later = counts;
    ASSERT_TRUE(applyHit(r, now + d.reset_s * 1000, &later).success)
        << "period " << period << " limit " << limit << " reset " << d.reset_s;
    if (d.reset_s > 1) {
      later = counts;
      ASSERT_FALSE(applyHit(r, now + (d.reset_s - 1) * 1000, &later).success);
    }
    ++checked;
  }
  EXPECT_GT(checked, 1000);
}

TEST(RateWindowTest, StaleOnceBothWindowsAreOver) {
  WindowCounts counts;
  applyHit(rule(1, 60, RateAlgorithm::kSliding), kT0, &counts);
  EXPECT_FALSE(isStale(60, counts, kT0 + 119'999));
  EXPECT_TRUE(isStale(60, counts, kT0 + 120'000));
}

}  // namespace
}  // namespace isogate::kv
