#include "runtime/loop_mailbox.h"

namespace isogate {

std::shared_ptr<LoopMailbox> LoopMailbox::create(uv_loop_t* loop) {
  std::shared_ptr<LoopMailbox> mailbox(new LoopMailbox());
  uv_async_init(loop, &mailbox->async_, onAsync);
  mailbox->async_.data = mailbox.get();
  mailbox->self_ = mailbox;
  return mailbox;
}

bool LoopMailbox::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    tasks_.push_back(std::move(task));
    uv_async_send(&async_);
  }
  return true;
}

void LoopMailbox::onAsync(uv_async_t* handle) {
  auto* self = static_cast<LoopMailbox*>(handle->data);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(self->mutex_);
    tasks.swap(self->tasks_);
  }
  for (auto& task : tasks) task();
}

void LoopMailbox::close() {
  std::vector<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
    dropped.swap(tasks_);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), [](uv_handle_t* handle) {
    auto* self = static_cast<LoopMailbox*>(handle->data);
    self->self_.reset();  // may destroy the mailbox
  });
}

}  // namespace isogate
