#pragma once
// Enforces limits.cpu_ms: a background thread samples the CPU clock of each
// worker thread while that thread runs JavaScript and calls
// TerminateExecution on its isolate past the deadline. Arming and disarming
// are lock-free (atomics) and cheap: they run around every entry into JS.

#include <pthread.h>
#include <time.h>
#include <v8.h>

#include <atomic>
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
    // `budget_ns` more CPU time. Returns the CPU clock at arming.
    int64_t arm(v8::Isolate* isolate, int64_t budget_ns);
    // Stops watching; returns CPU nanoseconds used since arm().
    int64_t disarm();
    // Whether the watchdog terminated the isolate during the last arming.
    bool fired() const { return fired_.load(std::memory_order_acquire); }
    int64_t armedAt() const { return armed_at_; }

   private:
    friend class CpuWatchdog;
    clockid_t clock_{};
    int64_t armed_at_ = 0;
    std::atomic<v8::Isolate*> isolate_{nullptr};
    std::atomic<int64_t> deadline_ns_{0};
    std::atomic<bool> fired_{false};
  };

  static CpuWatchdog& instance();
  // Registers the calling thread. The slot lives as long as the process.
  Slot* registerThread();

 private:
  CpuWatchdog() = default;
  void run();

  std::mutex mutex_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<size_t> slot_count_{0};
  std::thread thread_;
};

}  // namespace isogate
