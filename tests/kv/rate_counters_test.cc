#include "kv/rate_counters.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "tests/kv/kv_test_util.h"

namespace isogate::kv {
namespace {

using testing::TempDir;
using Code = Status::Code;

constexpr uint64_t kT0 = 1'700'000'040'000;  // a multiple of 60 s, in ms

class RateCountersTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    RateCountersOptions options;
    options.path = dir_.sub("counters");
    options.sweep_interval = std::chrono::seconds(0);
    Status status = RateCounters::open(options, &counters_);
    ASSERT_TRUE(status.isOk()) << status.message();
  }
  RateDecision hit(std::string_view key, RateRule rule, uint64_t now_ms) {
    RateDecision decision;
    Status status = counters_->hit(key, rule, now_ms, &decision);
    EXPECT_TRUE(status.isOk()) << status.message();
    return decision;
  }

  TempDir dir_;
  std::shared_ptr<RateCounters> counters_;
};

TEST_F(RateCountersTest, CountsPerKeyPeriodAndAlgorithm) {
  RateRule sliding{3, 60, RateAlgorithm::kSliding};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(hit("user-1", sliding, kT0).success);
  RateDecision rejected = hit("user-1", sliding, kT0);
  EXPECT_FALSE(rejected.success);
  EXPECT_EQ(rejected.limit, 3u);
  EXPECT_GE(rejected.reset_s, 1u);
  EXPECT_TRUE(hit("user-2", sliding, kT0).success);
  EXPECT_TRUE(hit("user-1", RateRule{3, 10, RateAlgorithm::kSliding}, kT0).success);
  EXPECT_TRUE(hit("user-1", RateRule{3, 60, RateAlgorithm::kFixed}, kT0).success);
  // A changed limit applies to the counts so far.
  EXPECT_TRUE(hit("user-1", RateRule{4, 60, RateAlgorithm::kSliding}, kT0).success);
}

TEST_F(RateCountersTest, RejectedHitsDoNotConsumeBudget) {
  RateRule fixed{5, 60, RateAlgorithm::kFixed};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(hit("k", fixed, kT0).success);
  for (int i = 0; i < 50; ++i) ASSERT_FALSE(hit("k", fixed, kT0 + 1'000).success);
  RateDecision next_window = hit("k", fixed, kT0 + 60'000);
  EXPECT_TRUE(next_window.success);
  EXPECT_EQ(next_window.remaining, 4u);
}

TEST_F(RateCountersTest, BatchIsSequentialHitsInOneTransaction) {
  RateRule r{2, 60, RateAlgorithm::kSliding};
  std::vector<HitRequest> requests = {{"a", r}, {"a", r}, {"b", r}, {"a", r}, {"b", r}};
  std::vector<RateDecision> decisions;
  ASSERT_TRUE(counters_->hitBatch(requests, kT0, &decisions).isOk());
  ASSERT_EQ(decisions.size(), 5u);
  EXPECT_TRUE(decisions[0].success);
  EXPECT_EQ(decisions[0].remaining, 1u);
  EXPECT_TRUE(decisions[1].success);
  EXPECT_TRUE(decisions[2].success);
  EXPECT_FALSE(decisions[3].success);
  EXPECT_TRUE(decisions[4].success);
  EXPECT_FALSE(hit("b", r, kT0).success);
}

TEST_F(RateCountersTest, RejectsBadRequests) {
  RateDecision decision;
  EXPECT_EQ(counters_->hit(std::string(kMaxRateKeyBytes + 1, 'k'), RateRule{1, 60}, kT0, &decision).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(counters_->hit("k", RateRule{1, 0}, kT0, &decision).code(), Code::kInvalidArgument);
  EXPECT_TRUE(counters_->hit(std::string(kMaxRateKeyBytes, 'k'), RateRule{1, 60}, kT0, &decision).isOk());
}

TEST_F(RateCountersTest, SweepDeletesFinishedCounters) {
  RateRule minute{10, 60, RateAlgorithm::kSliding};
  RateRule hour{10, 3600, RateAlgorithm::kFixed};
  for (int i = 0; i < 20; ++i) hit("m" + std::to_string(i), minute, kT0);
  hit("h", hour, kT0);
  size_t removed = 0;
  ASSERT_TRUE(counters_->sweepStale(kT0 + 60'000, &removed).isOk());
  EXPECT_EQ(removed, 0u);  // the previous window still counts
  ASSERT_TRUE(counters_->sweepStale(kT0 + 120'000, &removed).isOk());
  EXPECT_EQ(removed, 20u);
  // Gone: a hit back at kT0 starts from zero.
  EXPECT_EQ(hit("m1", minute, kT0).remaining, 9u);
  EXPECT_EQ(hit("h", hour, kT0).remaining, 8u);
}

TEST_F(RateCountersTest, CountsSurviveReopen) {
  RateRule r{3, 60, RateAlgorithm::kFixed};
  hit("k", r, kT0);
  hit("k", r, kT0);
  counters_.reset();
  open();
  EXPECT_EQ(hit("k", r, kT0).remaining, 0u);
  EXPECT_FALSE(hit("k", r, kT0).success);
}

TEST_F(RateCountersTest, ThreadsShareCountersExactly) {
  RateRule r{300, 3600, RateAlgorithm::kFixed};
  std::atomic<int> successes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        RateDecision decision;
        if (counters_->hit("shared", r, kT0, &decision).isOk() && decision.success) ++successes;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(successes.load(), 300);
}

TEST(RateCountersRecoveryTest, GarbageEnvironmentIsMovedAsideAndRecreated) {
  TempDir dir;
  std::string path = dir.sub("counters");
  ASSERT_EQ(mkdir(path.c_str(), 0777), 0);
  {
    std::ofstream garbage(path + "/data.mdb", std::ios::binary);
    garbage << std::string(64 * 1024, 'Z');
  }
  RateCountersOptions options;
  options.path = path;
  options.sweep_interval = std::chrono::seconds(0);
  std::shared_ptr<RateCounters> counters;
  Status status = RateCounters::open(options, &counters);
  ASSERT_TRUE(status.isOk()) << status.message();
  ASSERT_FALSE(counters->movedAside().empty());
  struct stat st;
  EXPECT_EQ(stat(counters->movedAside().c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 64 * 1024);
  RateDecision decision;
  ASSERT_TRUE(counters->hit("k", RateRule{1, 60}, kT0, &decision).isOk());
  EXPECT_TRUE(decision.success);
}

TEST(RateCountersRecoveryTest, GarbageLockFileIsRecreated) {
  TempDir dir;
  std::string path = dir.sub("counters");
  {
    RateCountersOptions options;
    options.path = path;
    std::shared_ptr<RateCounters> counters;
    ASSERT_TRUE(RateCounters::open(options, &counters).isOk());
  }
  {
    std::ofstream garbage(path + "/lock.mdb", std::ios::binary | std::ios::trunc);
    garbage << std::string(8192, '\x7f');
  }
  RateCountersOptions options;
  options.path = path;
  options.sweep_interval = std::chrono::seconds(0);
  std::shared_ptr<RateCounters> counters;
  Status status = RateCounters::open(options, &counters);
  ASSERT_TRUE(status.isOk()) << status.message();
  RateDecision decision;
  ASSERT_TRUE(counters->hit("k", RateRule{1, 60}, kT0, &decision).isOk());
}

}  // namespace
}  // namespace isogate::kv
