#include "runtime/cpu_watchdog.h"

#include <uv.h>

#include <algorithm>
#include <chrono>

namespace isogate {

namespace {
constexpr auto kPollInterval = std::chrono::milliseconds(1);
constexpr size_t kMaxSlots = 1024;
constexpr int kIdlePollsBeforeParking = 100;
constexpr auto kParkTimeout = std::chrono::milliseconds(100);
// The most wall time charged as CPU time for a stretch the watchdog did not
// observe. It polls every millisecond, so a longer unobserved stretch means
// the watchdog itself waited for a CPU: the machine is overloaded and the
// wall time is mostly waiting, not this script's work. Charging it would
// fail requests with exceeded_cpu for the machine's load.
constexpr int64_t kUnobservedChargeCapNs = 2 * 1000000;

int64_t clockNanos(clockid_t clock) {
  timespec ts;
  if (clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
}  // namespace

int64_t threadCpuNanos() { return clockNanos(CLOCK_THREAD_CPUTIME_ID); }

void CpuWatchdog::Slot::arm(v8::Isolate* isolate, int64_t budget_ns) {
  armed_at_ = uv_hrtime();
  fired_.store(false, std::memory_order_relaxed);
  budget_ns_.store(budget_ns, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_relaxed);
  isolate_.store(isolate, std::memory_order_release);
  CpuWatchdog& watchdog = CpuWatchdog::instance();
  if (watchdog.parked_.load(std::memory_order_acquire)) watchdog.wake();
}

int64_t CpuWatchdog::Slot::disarm() {
  isolate_.store(nullptr, std::memory_order_release);
  const int64_t wall = static_cast<int64_t>(uv_hrtime() - armed_at_);
  const uint64_t generation = generation_.load(std::memory_order_relaxed);
  if (observed_generation_.load(std::memory_order_acquire) != generation) {
    // Shorter than a watchdog poll: its wall time is its CPU time, give or
    // take a preemption, and costs no system call to measure.
    return std::min(wall, kUnobservedChargeCapNs);
  }
  // Long enough for the watchdog to have read this thread's CPU clock: count
  // the CPU since that reading plus the (short) wall time before it, so time
  // spent waiting for a CPU on a busy machine is not charged.
  const int64_t before = static_cast<int64_t>(observed_at_.load(std::memory_order_relaxed) - armed_at_);
  const int64_t cpu = threadCpuNanos() - observed_cpu_ns_.load(std::memory_order_relaxed);
  return std::min(wall, std::clamp<int64_t>(before, 0, kUnobservedChargeCapNs) + cpu);
}

int64_t CpuWatchdog::Slot::elapsed() const { return static_cast<int64_t>(uv_hrtime() - armed_at_); }

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

void CpuWatchdog::wake() {
  std::lock_guard<std::mutex> lock(park_mutex_);
  parked_.store(false, std::memory_order_release);
  park_cv_.notify_one();
}

void CpuWatchdog::run() {
  int idle_polls = 0;
  for (;;) {
    std::this_thread::sleep_for(kPollInterval);
    const size_t count = slot_count_.load(std::memory_order_acquire);
    bool any_armed = false;
    for (size_t i = 0; i < count; ++i) {
      Slot* slot = slots_[i].get();
      v8::Isolate* isolate = slot->isolate_.load(std::memory_order_acquire);
      if (!isolate) continue;
      any_armed = true;
      const uint64_t generation = slot->generation_.load(std::memory_order_relaxed);
      const int64_t cpu = clockNanos(slot->clock_);
      if (generation != slot->seen_generation_) {
        // A new entry into JavaScript: its CPU time counts from here.
        slot->seen_generation_ = generation;
        slot->seen_cpu_ns_ = cpu;
        slot->observed_cpu_ns_.store(cpu, std::memory_order_relaxed);
        slot->observed_at_.store(uv_hrtime(), std::memory_order_relaxed);
        slot->observed_generation_.store(generation, std::memory_order_release);
        continue;
      }
      if (cpu - slot->seen_cpu_ns_ < slot->budget_ns_.load(std::memory_order_relaxed)) continue;
      // Re-check: the thread may have left JavaScript meanwhile.
      if (slot->isolate_.load(std::memory_order_acquire) != isolate) continue;
      slot->fired_.store(true, std::memory_order_release);
      isolate->TerminateExecution();
    }
    idle_polls = any_armed ? 0 : idle_polls + 1;
    if (idle_polls >= kIdlePollsBeforeParking) {
      std::unique_lock<std::mutex> lock(park_mutex_);
      parked_.store(true, std::memory_order_release);
      // Re-check under the lock: an arm() that saw parked_ false may have
      // raced with us; the timeout bounds any such miss.
      const bool woken =
          park_cv_.wait_for(lock, kParkTimeout, [this] { return !parked_.load(std::memory_order_acquire); });
      parked_.store(false, std::memory_order_release);
      // A timeout without an arm() keeps us parked (one look per timeout);
      // only a wake-up resumes millisecond polling.
      idle_polls = woken ? 0 : kIdlePollsBeforeParking - 1;
    }
  }
}

}  // namespace isogate
