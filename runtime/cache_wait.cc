#include "runtime/cache_wait.h"

#include <algorithm>

namespace isogate {

struct CacheWait::State {
  std::shared_ptr<cache::Fill> fill;
  uint64_t id = 0;
  bool registered = false;
  std::function<void(Result)> done;

  void fire(Result result) {
    if (!done) return;
    if (registered) {
      fill->removeWaiter(id);
      registered = false;
    }
    auto callback = std::move(done);
    done = nullptr;
    callback(result);  // may destroy the CacheWait (and this State with it)
  }
};

namespace {
CacheWait::Result fromOutcome(cache::FillOutcome outcome) {
  return outcome == cache::FillOutcome::kStored ? CacheWait::Result::kStored : CacheWait::Result::kNotStored;
}
}  // namespace

CacheWait::CacheWait(uv_loop_t* loop, std::shared_ptr<LoopMailbox> mailbox, std::shared_ptr<cache::Fill> fill,
                     uint64_t timeout_ms, std::function<void(Result)> done)
    : state_(std::make_shared<State>()) {
  state_->fill = std::move(fill);
  state_->done = std::move(done);
  std::weak_ptr<State> weak = state_;
  // The waker runs on the leader's thread: it only posts to this loop, and
  // the posted task finds the State only if this CacheWait still exists
  // (the weak pointer is locked on this loop's thread, where it is destroyed).
  auto post = [weak, mailbox](Result result) {
    mailbox->post([weak, result] {
      if (auto state = weak.lock()) {
        state->registered = false;  // the fill already dropped us
        state->fire(result);
      }
    });
  };
  uint64_t id = 0;
  if (state_->fill->addWaiter([post](cache::FillOutcome outcome) { post(fromOutcome(outcome)); }, &id)) {
    state_->id = id;
    state_->registered = true;
  } else {
    post(fromOutcome(state_->fill->outcome().value_or(cache::FillOutcome::kNotStored)));
  }
  timer_ = std::make_unique<Timer>(loop, [weak] {
    if (auto state = weak.lock()) state->fire(Result::kTimedOut);
  });
  timer_->start(timeout_ms);
}

CacheWait::~CacheWait() {
  if (state_->registered) state_->fill->removeWaiter(state_->id);
  state_->done = nullptr;
}

uint64_t cacheWaitMs(uint32_t origin_timeout_ms) { return std::min<uint64_t>(origin_timeout_ms, 5000); }

}  // namespace isogate
