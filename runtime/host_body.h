#pragma once
// A body that lives in the host rather than in JavaScript: the client's
// request body or an origin's response body. Scripts see it as an opaque
// handle; it is read at most once, either into memory (text(), json(), ...)
// or piped without copying into JS (a Response returned as is, a Request
// passed to fetch). Loop-thread only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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
  // start() handed the buffered data over and a sink is attached: producers
  // that push only on demand begin here.
  virtual void onStarted() {}
  static constexpr size_t kBufferLimit = 64 * 1024;

 private:
  BodySink* sink_ = nullptr;
  std::string buffer_;  // data pushed before start()
  enum class End { kNone, kEnd, kError } end_ = End::kNone;
  bool abandoned_ = false;
};

// Immutable bytes someone else owns (a cached response's body), served as a
// host body: nothing is copied until the sink's own write, chunks follow the
// sink's backpressure, and a JavaScript read gets the bytes once. `owner`
// keeps `bytes` alive for as long as this body exists.
class SharedBytesBody final : public HostBody {
 public:
  SharedBytesBody(std::shared_ptr<const void> owner, std::string_view bytes)
      : owner_(std::move(owner)), bytes_(bytes) {}

  void pause() override { paused_ = true; }
  void resume() override;
  void cancel() override { cancelled_ = true; }
  std::optional<uint64_t> knownLength() const override { return bytes_.size(); }

 private:
  void onStarted() override { pump(); }
  void pump();

  static constexpr size_t kChunk = 256 * 1024;
  std::shared_ptr<const void> owner_;
  std::string_view bytes_;
  size_t offset_ = 0;
  bool started_ = false;
  bool paused_ = false;
  bool cancelled_ = false;
  bool pumping_ = false;
};

}  // namespace isogate
