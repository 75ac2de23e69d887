#include "runtime/timer.h"

namespace isogate {

Timer::Timer(uv_loop_t* loop, std::function<void()> callback)
    : handle_(new uv_timer_t), callback_(std::move(callback)) {
  uv_timer_init(loop, handle_);
  handle_->data = this;
}

Timer::~Timer() {
  handle_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

void Timer::start(uint64_t timeout_ms, uint64_t repeat_ms) {
  uv_timer_start(handle_, onTimer, timeout_ms, repeat_ms);
}

void Timer::stop() { uv_timer_stop(handle_); }

bool Timer::active() const { return uv_is_active(reinterpret_cast<uv_handle_t*>(handle_)); }

void Timer::unref() { uv_unref(reinterpret_cast<uv_handle_t*>(handle_)); }

void Timer::onTimer(uv_timer_t* handle) {
  auto* self = static_cast<Timer*>(handle->data);
  if (self) self->callback_();
}

}  // namespace isogate
