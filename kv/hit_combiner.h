#pragma once
// kv::HitCombiner: flat combining for rate-limit hits. Threads that hit at
// the same moment do not queue on the LMDB writer lock one transaction
// each (a futex hand-over per hit, slow on VMs): the first becomes the
// combiner and counts everything queued meanwhile in one transaction
// (RateCounters::hitBatch); the others wait for their answer. One thread
// alone pays two uncontended mutex operations.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "kv/rate_counters.h"

namespace isogate::kv {

class HitCombiner {
 public:
  // Counts a batch in one transaction (RateCounters::hitBatch).
  using BatchFn =
      std::function<Status(std::span<const HitRequest>, uint64_t now_ms, std::vector<RateDecision>*)>;
  explicit HitCombiner(BatchFn batch) : batch_(std::move(batch)) {}

  // Counts `request` at now_ms, possibly together with other threads' hits
  // (the batch uses the latest now_ms of its requests).
  Status hit(const HitRequest& request, uint64_t now_ms, RateDecision* out);

 private:
  struct Pending {
    const HitRequest* request;
    uint64_t now_ms;
    RateDecision decision;
    Status status;
    bool done = false;
  };

  void combine(std::unique_lock<std::mutex>& lock);

  BatchFn batch_;
  std::mutex mu_;
  std::condition_variable answered_;
  std::vector<Pending*> queue_;  // guarded by mu_
  bool combining_ = false;       // guarded by mu_
};

}  // namespace isogate::kv
