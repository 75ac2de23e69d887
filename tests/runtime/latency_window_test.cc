// runtime/latency_window.cc: buckets, percentiles, and slots leaving the
// one-minute window.

#include "runtime/latency_window.h"

#include <gtest/gtest.h>

#include <memory>

namespace isogate {
namespace {

TEST(LatencyWindowTest, BucketsAreLogLinearWithinSixPercent) {
  EXPECT_EQ(LatencyWindow::bucketOf(0), 0);
  EXPECT_EQ(LatencyWindow::bucketOf(-1), 0);
  EXPECT_EQ(LatencyWindow::bucketOf(1e-6), 1);
  EXPECT_EQ(LatencyWindow::bucketOf(1e9), LatencyWindow::kBuckets - 1);
  for (double s : {0.000003, 0.0004, 0.0123, 0.5, 1.7, 42.0}) {
    int b = LatencyWindow::bucketOf(s);
    EXPECT_LE(LatencyWindow::bucketLower(b), s * (1 + 1e-12)) << s;
    EXPECT_GT(LatencyWindow::bucketUpper(b), s) << s;
    double mid = (LatencyWindow::bucketLower(b) + LatencyWindow::bucketUpper(b)) / 2;
    EXPECT_NEAR(mid, s, s * 0.0625) << s;
  }
}

TEST(LatencyWindowTest, PercentilesByNearestRank) {
  auto window = std::make_unique<LatencyWindow>();
  for (int i = 1; i <= 100; ++i) window->record(1000, i / 1000.0, i > 98);  // 1..100 ms
  LatencyWindow::Totals totals;
  window->addTo(&totals, 1000);
  EXPECT_EQ(totals.requests, 100u);
  EXPECT_EQ(totals.errors, 2u);
  EXPECT_NEAR(totals.quantile(0.50), 0.050, 0.050 * 0.07);
  EXPECT_NEAR(totals.quantile(0.95), 0.095, 0.095 * 0.07);
  EXPECT_NEAR(totals.quantile(0.99), 0.099, 0.099 * 0.07);
  LatencyWindow::Totals none;
  EXPECT_EQ(none.quantile(0.5), 0);
}

TEST(LatencyWindowTest, OnlyTheLastMinuteCounts) {
  auto window = std::make_unique<LatencyWindow>();
  window->record(1'000, 0.001, false);
  window->record(31'000, 0.001, false);
  LatencyWindow::Totals at_40s;
  window->addTo(&at_40s, 40'000);
  EXPECT_EQ(at_40s.requests, 2u);
  LatencyWindow::Totals at_62s;
  window->addTo(&at_62s, 62'000);
  EXPECT_EQ(at_62s.requests, 1u) << "the slot of t=1s has left the window";
  // A slot is reused a full ring later and starts from zero.
  window->record(61'000, 0.001, true);
  LatencyWindow::Totals reused;
  window->addTo(&reused, 61'000);
  EXPECT_EQ(reused.requests, 2u);
  EXPECT_EQ(reused.errors, 1u);
}

}  // namespace
}  // namespace isogate
