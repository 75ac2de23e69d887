#include "kv/hit_combiner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace isogate::kv {
namespace {

// A batch function that answers each request with its key's number in
// `remaining` and counts calls and requests.
struct FakeStore {
  std::atomic<int> batches{0};
  std::atomic<int> requests{0};
  bool fail = false;

  HitCombiner::BatchFn fn() {
    return [this](std::span<const HitRequest> batch, uint64_t, std::vector<RateDecision>* out) {
      ++batches;
      requests += static_cast<int>(batch.size());
      out->clear();
      if (fail) return Status(Status::Code::kIoError, "disk gone");
      for (const HitRequest& request : batch) {
        RateDecision decision;
        decision.success = true;
        decision.remaining = std::stoull(std::string(request.key));
        out->push_back(decision);
      }
      return Status();
    };
  }
};

TEST(HitCombinerTest, OneThreadGetsItsOwnAnswer) {
  FakeStore store;
  HitCombiner combiner(store.fn());
  for (int i = 0; i < 10; ++i) {
    std::string key = std::to_string(i);
    RateDecision decision;
    ASSERT_TRUE(combiner.hit(HitRequest{key, RateRule{1, 1, RateAlgorithm::kFixed}}, 0, &decision).isOk());
    EXPECT_EQ(decision.remaining, static_cast<uint64_t>(i));
  }
  EXPECT_EQ(store.batches.load(), 10);
}

TEST(HitCombinerTest, ConcurrentHitsEachGetTheirAnswerAndShareBatches) {
  FakeStore store;
  HitCombiner combiner(store.fn());
  constexpr int kThreads = 4;
  constexpr int kHitsPerThread = 20000;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kHitsPerThread; ++i) {
        std::string key = std::to_string(t * kHitsPerThread + i);
        RateDecision decision;
        Status status = combiner.hit(HitRequest{key, RateRule{1, 1, RateAlgorithm::kFixed}}, 0, &decision);
        if (!status.isOk() || decision.remaining != static_cast<uint64_t>(t * kHitsPerThread + i)) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(store.requests.load(), kThreads * kHitsPerThread);
  EXPECT_LE(store.batches.load(), kThreads * kHitsPerThread);
}

TEST(HitCombinerTest, AFailedBatchFailsEveryHitInIt) {
  FakeStore store;
  store.fail = true;
  HitCombiner combiner(store.fn());
  RateDecision decision;
  Status status = combiner.hit(HitRequest{"1", RateRule{1, 1, RateAlgorithm::kFixed}}, 0, &decision);
  EXPECT_EQ(status.code(), Status::Code::kIoError);
}

}  // namespace
}  // namespace isogate::kv
