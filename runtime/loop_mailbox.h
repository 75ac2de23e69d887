#pragma once
// A way for other threads (the KV writer, the main thread) to run work on a
// uv loop's thread. Shared: a poster may hold it after the loop's owner is
// gone, and post() then just reports false. The loop's thread creates it and
// must close() it before the loop ends.

#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace isogate {

class LoopMailbox {
 public:
  // Loop thread.
  static std::shared_ptr<LoopMailbox> create(uv_loop_t* loop);
  LoopMailbox(const LoopMailbox&) = delete;
  LoopMailbox& operator=(const LoopMailbox&) = delete;

  // Any thread. Runs `task` on the loop thread soon, in posting order.
  // Returns false (and destroys `task` here) once the mailbox is closed.
  bool post(std::function<void()> task);

  // Loop thread. Drops tasks not yet run and releases the uv handle; the
  // object lives on while posters hold it.
  void close();

 private:
  LoopMailbox() = default;
  static void onAsync(uv_async_t* handle);

  uv_async_t async_;
  std::shared_ptr<LoopMailbox> self_;  // keeps the handle's memory alive until its close callback
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;  // guarded by mutex_
  bool closed_ = false;                       // guarded by mutex_
};

}  // namespace isogate
