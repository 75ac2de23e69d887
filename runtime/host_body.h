#pragma once
// A body that lives in the host rather than in JavaScript: the client's
// request body or an origin's response body. Scripts see it as an opaque
// handle; it is read at most once, either into memory (text(), json(), ...)
// or piped without copying into JS (a Response returned as is, a Request
// passed to fetch). Loop-thread only.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace isogate {

class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual void onBodyData(const char* data, size_t len) = 0;
  virtual void onBodyEnd() = 0;
  // The source failed (client gone, origin reset or timed out).
  virtual void onBodyError() = 0;
  // The source delivered what one read brought: a good moment to flush
  // anything batched (a corked response head).
  virtual void onBodyInputProcessed() {}
};

class HostBody {
 public:
  virtual ~HostBody() = default;
  // Starts delivery to `sink` (once). Data buffered so far is delivered first,
  // possibly synchronously.
  void start(BodySink* sink);
  // Backpressure from the sink.
  virtual void pause() = 0;
  virtual void resume() = 0;
  // The reader gave up; the source may abort.
  virtual void cancel() = 0;
  bool started() const { return sink_ != nullptr || abandoned_; }
  // The reader gave up: no more calls to its sink; later data is dropped.
  void abandon();
  // Exact size when known up front (Content-Length).
  virtual std::optional<uint64_t> knownLength() const = 0;
  // Whether more data is about to arrive within the current callback (the
  // source is in the middle of processing a read), so a reader may wait for
  // onBodyInputProcessed() before flushing.
  virtual bool deliveringSoon() const { return false; }

  // For the producer side.
  void push(const char* data, size_t len);
  void end();
  void fail();
  void inputProcessed() {
    if (sink_) sink_->onBodyInputProcessed();
  }

 protected:
  // Producers pause themselves while nothing reads and the buffer is full.
  virtual void onBufferFull() {}
  virtual void onBufferDrained() {}
  static constexpr size_t kBufferLimit = 64 * 1024;

 private:
  BodySink* sink_ = nullptr;
  std::string buffer_;  // data pushed before start()
  enum class End { kNone, kEnd, kError } end_ = End::kNone;
  bool abandoned_ = false;
};

}  // namespace isogate
