#pragma once
// HTTP/1.1 client to origins: per-worker, per-origin connection pools with
// keep-alive, bounded by max_connections, with connect and response timeouts.
// Request and response bodies stream in both directions with backpressure.
// Used by native proxy routes and (later) by script fetch(). Loop-thread only.

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "runtime/config.h"
#include "runtime/http_message.h"
#include "runtime/timer.h"

namespace isogate {

class UpstreamConnection;
class OriginPool;

enum class UpstreamError {
  kConnectFailed,    // refused, unreachable, DNS failure
  kConnectTimeout,   // no connection within connect_timeout_ms (or pool wait)
  kReset,            // connection closed or reset before the response ended
  kResponseTimeout,  // no response head within timeout_ms, or a stalled body
  kBadResponse,      // malformed response or head over header_bytes
};
const char* upstreamErrorName(UpstreamError error);

// What the owner of an UpstreamRequest is told. Calls happen on the loop
// thread; the owner may destroy the request from inside any of them.
class UpstreamResponseHandler {
 public:
  virtual ~UpstreamResponseHandler() = default;
  virtual void onUpstreamHead(ResponseHead&& head, BodyFraming framing,
                              uint64_t content_length) = 0;
  virtual void onUpstreamBody(const char* data, size_t len) = 0;
  virtual void onUpstreamComplete() = 0;
  virtual void onUpstreamError(UpstreamError error) = 0;
  // Buffered request body fell below the low-water mark: send more.
  virtual void onUpstreamRequestDrained() = 0;
  // The bytes of one read from the origin have been delivered (a good time
  // to flush what was batched).
  virtual void onUpstreamInputProcessed() {}
};

struct UpstreamRequestHead {
  std::string method;
  std::string head;  // the serialised request head, including the final CRLF
  BodyFraming body_framing = BodyFraming::kNone;  // kNone, kContentLength or kChunked
  // Whether the request may be sent again on a fresh connection when a reused
  // keep-alive connection turns out to be dead (never POST/PATCH, never with a body).
  bool replayable = false;
};

// One request to an origin. Owned by its creator; destroying it before the
// response completes aborts the exchange and closes the origin connection.
class UpstreamRequest {
 public:
  UpstreamRequest(OriginPool& pool, UpstreamRequestHead head, UpstreamResponseHandler& handler);
  ~UpstreamRequest();
  UpstreamRequest(const UpstreamRequest&) = delete;
  UpstreamRequest& operator=(const UpstreamRequest&) = delete;

  void start();
  // Request body, raw bytes (chunk framing is added here when chunked).
  void sendBody(const char* data, size_t len);
  void finishBody();
  // Whether the caller should stop sending body until onUpstreamRequestDrained().
  bool bodyBackedUp() const;

  void pauseResponse();
  void resumeResponse();

  // Milliseconds from start() to the response head (or to the failure).
  double upstreamMs() const { return upstream_ms_; }

 private:
  friend class UpstreamConnection;
  friend class OriginPool;

  void attach(UpstreamConnection* connection);
  void fail(UpstreamError error);
  void onQueueTimeout();

  OriginPool& pool_;
  UpstreamRequestHead head_;
  UpstreamResponseHandler& handler_;
  UpstreamConnection* connection_ = nullptr;
  std::string pending_;     // head and body bytes not yet handed to a connection
  bool body_finished_ = false;
  bool queued_ = false;
  bool done_ = false;
  bool response_paused_ = false;
  bool retried_ = false;
  uint64_t start_ns_ = 0;
  double upstream_ms_ = -1;
  std::unique_ptr<Timer> queue_timer_;
};

// The connections of one worker to one origin.
class OriginPool {
 public:
  OriginPool(uv_loop_t* loop, const OriginConfig& origin, const Limits& limits);
  ~OriginPool();
  OriginPool(const OriginPool&) = delete;
  OriginPool& operator=(const OriginPool&) = delete;

  const OriginConfig& origin() const { return origin_; }
  uv_loop_t* loop() const { return loop_; }
  size_t maxHeadBytes() const { return max_head_bytes_; }

  // Gives `request` a connection now (idle or new) or queues it.
  void acquire(UpstreamRequest* request, bool fresh_connection = false);
  void cancel(UpstreamRequest* request);
  // Called by a connection when its exchange ended cleanly and it can be reused.
  void release(UpstreamConnection* connection);
  // Called by a connection when it closes.
  void onConnectionClosed(UpstreamConnection* connection, bool was_idle);

 private:
  void serveQueue();

  uv_loop_t* loop_;
  OriginConfig origin_;
  size_t max_head_bytes_;
  size_t open_connections_ = 0;
  std::deque<UpstreamConnection*> idle_;
  std::deque<UpstreamRequest*> queue_;
  bool destroying_ = false;
};

}  // namespace isogate
