#include "kv/hit_combiner.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace isogate::kv {

namespace {

// How long a waiter spins for its answer before sleeping: a combined
// transaction takes a few microseconds, and a futex sleep and wake-up costs
// more than that on a VM.
constexpr std::chrono::microseconds kSpinFor{50};

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

}  // namespace

void HitCombiner::SpinLock::lock() {
  for (int spins = 0;; ++spins) {
    if (!locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire)) return;
    // The holder may have been preempted (more threads than cores).
    if ((spins & 1023) == 1023) {
      std::this_thread::yield();
    } else {
      cpuRelax();
    }
  }
}

Status HitCombiner::hit(const HitRequest& request, uint64_t now_ms, RateDecision* out) {
  Pending mine{&request, now_ms, {}, {}};
  std::unique_lock<SpinLock> lock(mu_);
  queue_.push_back(&mine);
  if (combining_) {
    lock.unlock();
    auto deadline = std::chrono::steady_clock::now() + kSpinFor;
    for (int spins = 0; !mine.done.load(std::memory_order_acquire); ++spins) {
      cpuRelax();
      if ((spins & 63) == 63 && std::chrono::steady_clock::now() > deadline) break;
    }
    lock.lock();
    if (!mine.done.load(std::memory_order_acquire)) {
      ++sleepers_;
      answered_.wait(lock, [&] { return mine.done.load(std::memory_order_acquire) || !combining_; });
      --sleepers_;
      // The combiner may have finished just before our request was queued;
      // then nobody will count it but us.
      if (!mine.done.load(std::memory_order_acquire)) combine(lock);
    }
  } else {
    combine(lock);
  }
  *out = mine.decision;
  return mine.status;
}

void HitCombiner::combine(std::unique_lock<SpinLock>& lock) {
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
    for (size_t i = 0; i < batch.size(); ++i) {
      Pending* pending = batch[i];
      pending->status = status;
      if (status.isOk()) pending->decision = decisions[i];
      // A spinning waiter may return as soon as it sees this.
      pending->done.store(true, std::memory_order_release);
    }
    batch.clear();
    lock.lock();
    if (sleepers_ > 0 && !queue_.empty()) answered_.notify_all();  // wake this batch's sleepers now
  }
  combining_ = false;
  if (sleepers_ > 0) answered_.notify_all();
}

}  // namespace isogate::kv
