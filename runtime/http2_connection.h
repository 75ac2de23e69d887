#pragma once
// The server side of one HTTP/2 client connection (RFC 9113), on top of
// nghttp2's server session. Transport-agnostic: the TLS connection feeds it
// decrypted bytes (receive) and takes the bytes to send through Http2Output.
// Every request stream is an Exchange handed to Worker::dispatch, so routing,
// scripts and proxying work as for HTTP/1.1. Lives on one worker thread and is
// owned by the transport (see Http2Output for the rules that go with that).

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/config.h"
#include "runtime/exchange.h"
#include "runtime/timer.h"

namespace isogate {

class Worker;
class Http2Stream;

// Where an Http2Connection's output goes; implemented by the transport (the
// TLS connection). The transport owns the Http2Connection and may destroy it
// at any time on the loop thread except from inside one of these calls.
class Http2Output {
 public:
  virtual ~Http2Output() = default;
  // Plaintext to encrypt and queue. Never re-enters the Http2Connection.
  virtual void sendBytes(const char* data, size_t len) = 0;
  // The write queue is above its high-water mark: stop producing until
  // Http2Connection::onOutputDrained().
  virtual bool outputBackedUp() const = 0;
  // Flush what is queued, then close the connection. Called at most once;
  // nothing is sent afterwards.
  virtual void closeOutput() = 0;
};

class Http2Connection {
 public:
  // Limits used: header_bytes (SETTINGS_MAX_HEADER_LIST_SIZE, 431 above it),
  // body_bytes (413), header_timeout_ms (preface and each request's header
  // block), idle_timeout_ms (no open stream; a request body that stalls).
  Http2Connection(Worker& worker, const Limits& limits, std::string remote_addr, Http2Output& output);
  ~Http2Connection();
  Http2Connection(const Http2Connection&) = delete;
  Http2Connection& operator=(const Http2Connection&) = delete;

  // Sends the server connection preface (SETTINGS) and starts the clocks.
  void start();
  // Decrypted bytes from the client. Any bytes after the TLS handshake,
  // including ones that arrived with it, go here in order.
  void receive(const char* data, size_t len);
  // The output fell below its low-water mark: produce again.
  void onOutputDrained();
  // EOF or a transport error: every open stream is aborted (their handlers
  // see onExchangeAborted, the log says 499). Nothing is sent afterwards and
  // closeOutput() is not called: the transport is closing already.
  void onPeerClosed();
  // Graceful stop: GOAWAY, active streams finish, then closeOutput().
  void drain();
  // Immediate stop: aborts every stream, GOAWAY, closeOutput().
  void forceClose();

  // Whether closeOutput() was called (or onPeerClosed()): nothing more happens.
  bool finished() const { return finished_; }
  size_t openStreams() const { return streams_.size(); }

  // Routes a stream's request. Worker::dispatch by default; tests replace it.
  using Dispatcher = std::function<std::unique_ptr<ExchangeHandler>(Exchange&)>;
  void setDispatcher(Dispatcher dispatcher) { dispatcher_ = std::move(dispatcher); }

 private:
  friend class Http2Stream;

  static nghttp2_session_callbacks* callbacks();
  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                      const uint8_t* value, size_t valuelen, uint8_t flags, void* user_data);
  static int onInvalidHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                             size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                             void* user_data);
  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int onDataChunkRecv(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                             size_t len, void* user_data);
  static int onFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user_data);
  static ssize_t readResponseData(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                                  uint32_t* data_flags, nghttp2_data_source* source, void* user_data);

  Http2Stream* findStream(int32_t stream_id) const;
  // Sends what nghttp2 has queued (unless inside nghttp2 or backed up),
  // then runs the work that must happen outside nghttp2's callbacks.
  void flush();
  // From Exchange methods: flush on this loop iteration's check phase.
  void scheduleFlush();
  void releaseClosedStreams();
  void fatal(uint32_t error_code);
  void closeNow();
  void abortAllStreams(int status_if_not_started);
  void onTick();
  void startTicking();

  Worker& worker_;
  Limits limits_;
  std::string remote_addr_;
  Http2Output& output_;
  Dispatcher dispatcher_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, std::unique_ptr<Http2Stream>> streams_;
  // Closed streams, destroyed once no nghttp2 callback or handler call is on the stack.
  std::vector<std::unique_ptr<Http2Stream>> closed_streams_;
  // Streams whose handler may produce again / whose buffered body may go on.
  std::vector<int32_t> drained_streams_;
  std::vector<int32_t> resumed_streams_;
  std::unique_ptr<Timer> tick_timer_;
  std::shared_ptr<bool> alive_;  // false once destroyed; checked by deferred work
  std::string batch_;            // output gathered for one sendBytes call
  uint64_t last_activity_ms_ = 0;
  uint64_t started_ms_ = 0;
  int in_nghttp2_ = 0;  // depth of nghttp2 calls that may run callbacks
  bool in_flush_ = false;
  bool flush_scheduled_ = false;
  bool received_ = false;
  bool saw_request_ = false;
  bool draining_ = false;
  bool finished_ = false;
};

}  // namespace isogate
