#include "runtime/host_body.h"

#include <algorithm>

namespace isogate {

void HostBody::start(BodySink* sink) {
  if (sink_ || abandoned_) return;
  sink_ = sink;
  if (!buffer_.empty()) {
    std::string data = std::move(buffer_);
    buffer_.clear();
    sink_->onBodyData(data.data(), data.size());
    onBufferDrained();
  }
  if (end_ == End::kEnd) sink_->onBodyEnd();
  if (end_ == End::kError) sink_->onBodyError();
  if (end_ == End::kNone && sink_) onStarted();
}

void HostBody::abandon() {
  sink_ = nullptr;
  abandoned_ = true;
  buffer_.clear();
  cancel();
  resume();  // a paused producer must not stall: it now feeds nothing
}

void HostBody::push(const char* data, size_t len) {
  if (abandoned_) return;
  if (sink_) {
    sink_->onBodyData(data, len);
    return;
  }
  buffer_.append(data, len);
  if (buffer_.size() >= kBufferLimit) onBufferFull();
}

void HostBody::end() {
  if (end_ != End::kNone) return;
  end_ = End::kEnd;
  if (sink_) sink_->onBodyEnd();
}

void HostBody::fail() {
  if (end_ != End::kNone) return;
  end_ = End::kError;
  if (sink_) sink_->onBodyError();
}

void SharedBytesBody::resume() {
  paused_ = false;
  if (started_) pump();
}

void SharedBytesBody::pump() {
  started_ = true;
  if (pumping_) return;  // a sink resuming us from inside push(): the loop below goes on
  pumping_ = true;
  while (!paused_ && !cancelled_ && offset_ < bytes_.size()) {
    const size_t n = std::min(kChunk, bytes_.size() - offset_);
    const char* data = bytes_.data() + offset_;
    offset_ += n;
    push(data, n);
  }
  pumping_ = false;
  // end() may let the sink finish its exchange; nothing of ours is touched after it.
  if (!cancelled_ && offset_ == bytes_.size()) end();
}

}  // namespace isogate
