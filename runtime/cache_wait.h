#pragma once
// Waiting, on a worker's loop, for another request's fill of the same cache
// key (request coalescing across worker threads). The leader may run on any
// worker; its outcome reaches this loop through the worker's LoopMailbox.
// Loop-thread only; `done` runs on this loop's thread, never inline from
// the constructor and never after the CacheWait is destroyed (destroying it
// deregisters from the fill: a client that went away leaves nothing behind).

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "cache/store.h"
#include "runtime/loop_mailbox.h"
#include "runtime/timer.h"

namespace isogate {

class CacheWait {
 public:
  enum class Result {
    kStored,     // look the key up again (a hit, or a vary-miss: then go to the origin)
    kNotStored,  // the leader's response was not stored: go to the origin yourself
    kTimedOut,   // no outcome within timeout_ms: go to the origin yourself
  };
  CacheWait(uv_loop_t* loop, std::shared_ptr<LoopMailbox> mailbox, std::shared_ptr<cache::Fill> fill,
            uint64_t timeout_ms, std::function<void(Result)> done);
  ~CacheWait();
  CacheWait(const CacheWait&) = delete;
  CacheWait& operator=(const CacheWait&) = delete;

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::unique_ptr<Timer> timer_;
};

// How long a waiter waits for a leader: min(the origin's timeout_ms, 5 s).
uint64_t cacheWaitMs(uint32_t origin_timeout_ms);

}  // namespace isogate
