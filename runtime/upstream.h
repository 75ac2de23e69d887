#pragma once
// HTTP/1.1 client to origins: per-worker pools (one per origin, holding one
// set of keep-alive connections per address, each bounded by
// max_connections), connect and response timeouts, round-robin over the
// addresses that health checks consider up, retries of idempotent requests
// on connection failures (to the next address), and the origin's circuit
// breaker. Request and response bodies stream in both directions with
// backpressure. Used by native proxy routes, script fetch() and host fetches.
// Loop-thread only, except the OriginHealth a pool points to (thread-safe).

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/config.h"
#include "runtime/http_message.h"
#include "runtime/timer.h"

namespace isogate {

class UpstreamConnection;
class OriginPool;
class AddressPool;
class OriginHealth;
class TlsClientContext;

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
  // Whether the request may be sent again after its connection failed with
  // request bytes written but no response byte received: a reused keep-alive
  // connection the origin had closed, or (for idempotent methods, with
  // retries left) any such reset. Never POST/PATCH, never with a body.
  bool replayable = false;
};

// GET, HEAD, PUT, DELETE, OPTIONS (and TRACE): the methods that may be sent
// again on another connection. Retries never repeat POST or PATCH.
bool isIdempotentMethod(const std::string& method);

// One request to an origin: one or more attempts (a retry after a
// connection failure is a new attempt, on the next address). Each attempt's
// outcome feeds the origin's circuit breaker and the upstream metrics.
// Owned by its creator; destroying it before the response completes aborts
// the exchange and closes the origin connection.
class UpstreamRequest {
 public:
  UpstreamRequest(OriginPool& pool, UpstreamRequestHead head, UpstreamResponseHandler& handler);
  ~UpstreamRequest();
  UpstreamRequest(const UpstreamRequest&) = delete;
  UpstreamRequest& operator=(const UpstreamRequest&) = delete;

  // Returns false, without contacting the origin or calling the handler,
  // when the origin's circuit breaker is open. Otherwise the handler may be
  // called from inside start() (a connection that fails at once).
  bool start();
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

  friend class AddressPool;

  // How an attempt's connection failed, as the connection saw it.
  struct AttemptFailure {
    UpstreamError error;
    bool connected;         // the connection was established (request bytes were written)
    bool reused;            // it was a kept-alive connection from the pool
    bool response_started;  // some response byte arrived
  };

  bool admit();
  void startAttempt();
  void attach(UpstreamConnection* connection);
  void attemptFailed(const AttemptFailure& failure);
  bool mayRetry(const AttemptFailure& failure) const;
  // Reports one attempt to the breaker and metrics: `status` 0 = no response.
  void recordAttempt(int status);
  void onResponseHead(int status);
  void fail(UpstreamError error);
  void onQueueTimeout();

  OriginPool& pool_;
  UpstreamRequestHead head_;
  UpstreamResponseHandler& handler_;
  AddressPool* address_ = nullptr;  // the current attempt's address
  size_t address_index_ = 0;
  uint64_t tried_ = 0;              // bit i: address i was tried
  uint32_t retries_left_ = 0;
  UpstreamConnection* connection_ = nullptr;
  std::string pending_;     // head and body bytes not yet handed to a connection
  bool body_finished_ = false;
  bool queued_ = false;
  bool done_ = false;
  bool response_paused_ = false;
  bool stale_replayed_ = false;  // already resent once after a dead kept-alive connection
  bool probe_ = false;           // the current attempt is the breaker's half-open probe
  uint64_t start_ns_ = 0;
  uint64_t attempt_start_ns_ = 0;
  double upstream_ms_ = -1;
  std::unique_ptr<Timer> queue_timer_;
};

// One worker's client for one origin: a set of connections per address.
// The request-facing API is UpstreamRequest; the pool picks addresses.
class OriginPool {
 public:
  // `health` is the origin's process-wide state (breaker, addresses up), or
  // null for pools without one (egress hosts, health checks); not owned, it
  // must outlive the pool (the Deployment owns both).
  OriginPool(uv_loop_t* loop, const OriginConfig& origin, const Limits& limits, OriginHealth* health = nullptr);
  ~OriginPool();
  OriginPool(const OriginPool&) = delete;
  OriginPool& operator=(const OriginPool&) = delete;

  const OriginConfig& origin() const { return origin_; }
  uv_loop_t* loop() const { return loop_; }
  size_t maxHeadBytes() const { return max_head_bytes_; }
  OriginHealth* health() const { return health_; }
  // Client TLS settings for https:// origins, null for http://.
  const TlsClientContext* tls() const { return origin_.tls_client.get(); }

 private:
  friend class UpstreamRequest;

  // The address for a request's first attempt (round-robin), or for a retry
  // (the next one after `previous`, preferring untried addresses).
  size_t pickAddress(uint64_t tried, size_t previous);
  AddressPool& address(size_t index) { return *addresses_[index]; }

  uv_loop_t* loop_;
  OriginConfig origin_;
  size_t max_head_bytes_;
  OriginHealth* health_;
  std::vector<std::unique_ptr<AddressPool>> addresses_;
  size_t cursor_ = 0;  // round-robin position, per worker
};

}  // namespace isogate
