#pragma once
// Enforces limits.cpu_ms: a background thread samples the CPU clock of each
// worker thread while that thread runs JavaScript and calls
// TerminateExecution on its isolate past the deadline. Arming publishes a
// generation number and a budget (lock-free); the watchdog measures from its
// own first reading of the thread's clock. A thread CPU clock is a system
// call (not vDSO), so an entry shorter than a poll is charged its wall time,
// and a longer one the CPU time since the watchdog's reading: time spent
// waiting for a CPU on a busy machine is not charged.

#include <pthread.h>
#include <time.h>
#include <v8.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace isogate {

// Thread CPU time of the calling thread, in nanoseconds.
int64_t threadCpuNanos();

class CpuWatchdog {
 public:
  // One per worker thread, created and used on that thread.
  class Slot {
   public:
    // Starts watching `isolate`: terminate once this thread has used
    // `budget_ns` more CPU time (measured from the watchdog's first look,
    // at most one poll interval after arming).
    void arm(v8::Isolate* isolate, int64_t budget_ns);
    // Stops watching; returns the CPU nanoseconds used since arm() (see above).
    int64_t disarm();
    // Whether the watchdog terminated the isolate during the last arming.
    bool fired() const { return fired_.load(std::memory_order_acquire); }
    // Wall nanoseconds since arm() (while armed): a cheap estimate for logs.
    int64_t elapsed() const;

   private:
    friend class CpuWatchdog;
    clockid_t clock_{};
    uint64_t armed_at_ = 0;  // monotonic, owner thread only
    // Published by the watchdog for the owner: the arming it read the CPU
    // clock for, that reading, and when (monotonic).
    std::atomic<uint64_t> observed_generation_{0};
    std::atomic<int64_t> observed_cpu_ns_{0};
    std::atomic<uint64_t> observed_at_{0};
    std::atomic<v8::Isolate*> isolate_{nullptr};
    std::atomic<uint64_t> generation_{0};
    std::atomic<int64_t> budget_ns_{0};
    std::atomic<bool> fired_{false};
    // Watchdog thread only: the arming it last saw and the thread's CPU then.
    uint64_t seen_generation_ = 0;
    int64_t seen_cpu_ns_ = 0;
  };

  static CpuWatchdog& instance();
  // Wakes the watchdog if it parked itself for lack of work.
  void wake();
  // Registers the calling thread. The slot lives as long as the process.
  Slot* registerThread();

 private:
  CpuWatchdog() = default;
  void run();

  std::mutex mutex_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<size_t> slot_count_{0};
  std::thread thread_;
  // With no JavaScript running for a while the thread parks on this instead
  // of polling every millisecond.
  std::atomic<bool> parked_{false};
  std::mutex park_mutex_;
  std::condition_variable park_cv_;
};

}  // namespace isogate
