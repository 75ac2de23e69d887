#pragma once
// A one-shot/repeating libuv timer owned by a C++ object. The uv handle is
// heap-allocated and freed in its close callback, so the owner can be
// destroyed at any time on the loop thread, even from inside the callback.

#include <uv.h>

#include <cstdint>
#include <functional>

namespace isogate {

class Timer {
 public:
  Timer(uv_loop_t* loop, std::function<void()> callback);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void start(uint64_t timeout_ms, uint64_t repeat_ms = 0);
  void stop();
  bool active() const;
  // A timer that must not keep the loop alive (flushes, sweeps).
  void unref();

 private:
  static void onTimer(uv_timer_t* handle);
  uv_timer_t* handle_;
  std::function<void()> callback_;
};

}  // namespace isogate
