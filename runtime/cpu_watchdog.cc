#include "runtime/cpu_watchdog.h"

#include <chrono>

namespace isogate {

namespace {
constexpr auto kPollInterval = std::chrono::milliseconds(1);
constexpr size_t kMaxSlots = 1024;

int64_t clockNanos(clockid_t clock) {
  timespec ts;
  if (clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
}  // namespace

int64_t threadCpuNanos() { return clockNanos(CLOCK_THREAD_CPUTIME_ID); }

int64_t CpuWatchdog::Slot::arm(v8::Isolate* isolate, int64_t budget_ns) {
  armed_at_ = threadCpuNanos();
  fired_.store(false, std::memory_order_relaxed);
  deadline_ns_.store(armed_at_ + budget_ns, std::memory_order_relaxed);
  isolate_.store(isolate, std::memory_order_release);
  return armed_at_;
}

int64_t CpuWatchdog::Slot::disarm() {
  isolate_.store(nullptr, std::memory_order_release);
  return threadCpuNanos() - armed_at_;
}

CpuWatchdog& CpuWatchdog::instance() {
  static CpuWatchdog* watchdog = new CpuWatchdog;  // lives until exit; its thread is detached
  return *watchdog;
}

CpuWatchdog::Slot* CpuWatchdog::registerThread() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (slots_.empty()) {
    slots_.reserve(kMaxSlots);  // never reallocates: the watchdog reads without the lock
    thread_ = std::thread([this] { run(); });
    thread_.detach();
  }
  if (slots_.size() >= kMaxSlots) return nullptr;
  auto slot = std::make_unique<Slot>();
  pthread_getcpuclockid(pthread_self(), &slot->clock_);
  slots_.push_back(std::move(slot));
  Slot* result = slots_.back().get();
  slot_count_.store(slots_.size(), std::memory_order_release);
  return result;
}

void CpuWatchdog::run() {
  for (;;) {
    std::this_thread::sleep_for(kPollInterval);
    const size_t count = slot_count_.load(std::memory_order_acquire);
    for (size_t i = 0; i < count; ++i) {
      Slot* slot = slots_[i].get();
      v8::Isolate* isolate = slot->isolate_.load(std::memory_order_acquire);
      if (!isolate) continue;
      if (clockNanos(slot->clock_) < slot->deadline_ns_.load(std::memory_order_relaxed)) continue;
      // Re-check: the thread may have left JavaScript meanwhile.
      if (slot->isolate_.load(std::memory_order_acquire) != isolate) continue;
      slot->fired_.store(true, std::memory_order_release);
      isolate->TerminateExecution();
    }
  }
}

}  // namespace isogate
