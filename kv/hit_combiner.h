#pragma once
// kv::HitCombiner: flat combining for rate-limit hits. Threads that hit at
// the same moment do not queue on the LMDB writer lock one transaction
// each (a futex hand-over per hit, slow on VMs): the first becomes the
// combiner and counts everything queued meanwhile in one transaction
// (RateCounters::hitBatch); the others spin briefly for their answer, then
// sleep. One thread alone pays two uncontended mutex operations.

#include <atomic>
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
    std::atomic<bool> done{false};  // set by the combiner after decision and status
  };

  // Guards the queue for a few instructions at a time: spinning beats a
  // futex hand-over there.
  class SpinLock {
   public:
    void lock();
    void unlock() { locked_.store(false, std::memory_order_release); }

   private:
    std::atomic<bool> locked_{false};
  };

  void combine(std::unique_lock<SpinLock>& lock);

  BatchFn batch_;
  SpinLock mu_;
  std::condition_variable_any answered_;
  std::vector<Pending*> queue_;  // guarded by mu_
  bool combining_ = false;       // guarded by mu_
  int sleepers_ = 0;             // waiters blocked on answered_; guarded by mu_
};

}  // namespace isogate::kv
