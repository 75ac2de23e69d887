#include "kv/hit_combiner.h"

#include <algorithm>

namespace isogate::kv {

Status HitCombiner::hit(const HitRequest& request, uint64_t now_ms, RateDecision* out) {
  Pending mine{&request, now_ms, {}, {}};
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&mine);
  if (combining_) {
    answered_.wait(lock, [&] { return mine.done || !combining_; });
    // The combiner may have finished just before our request was queued;
    // then nobody will count it but us.
    if (!mine.done) combine(lock);
  } else {
    combine(lock);
  }
  *out = mine.decision;
  return mine.status;
}

void HitCombiner::combine(std::unique_lock<std::mutex>& lock) {
  combining_ = true;
  thread_local std::vector<Pending*> batch;
  thread_local std::vector<HitRequest> requests;
  thread_local std::vector<RateDecision> decisions;
  while (!queue_.empty()) {
    batch.swap(queue_);
    lock.unlock();
    requests.clear();
    uint64_t now_ms = 0;
    for (Pending* pending : batch) {
      requests.push_back(*pending->request);
      now_ms = std::max(now_ms, pending->now_ms);
    }
    Status status = batch_(requests, now_ms, &decisions);
    lock.lock();
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->status = status;
      if (status.isOk()) batch[i]->decision = decisions[i];
      batch[i]->done = true;
    }
    batch.clear();
    if (!queue_.empty()) answered_.notify_all();  // wake this batch's waiters now
  }
  combining_ = false;
  answered_.notify_all();
}

}  // namespace isogate::kv
