#pragma once
// A background thread that runs one function every `interval` until stopped
// (the KV sweeper, the counters' flush and sweep). The owner creates and
// destroys it; stop() (or the destructor) wakes the thread, waits for a run
// in progress to finish, and joins. The function runs on that thread only.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace isogate::kv {

class PeriodicTask {
 public:
  PeriodicTask(std::chrono::milliseconds interval, std::function<void()> fn);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void stop();

 private:
  void run();

  std::chrono::milliseconds interval_;
  std::function<void()> fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace isogate::kv
