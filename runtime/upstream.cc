#include "runtime/upstream.h"

#include <llhttp.h>
#include <netinet/in.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>

#include "runtime/circuit_breaker.h"
#include "runtime/head_scanner.h"
#include "runtime/metrics.h"
#include "runtime/origin_health.h"
#include "runtime/tls_context.h"
#include "runtime/tls_stream.h"

namespace isogate {

namespace {
// Request bytes buffered towards an origin before the client is paused.
constexpr size_t kBodyHighWater = 256 * 1024;
constexpr size_t kBodyLowWater = 64 * 1024;
constexpr size_t kReadBufferSize = 64 * 1024;
// Plaintext encrypted per TLS write, so the session's output buffer stays small.
constexpr size_t kTlsWriteChunk = 64 * 1024;
// At most one TLS failure line per address in this interval (a broken
// certificate would otherwise log once per request).
constexpr uint64_t kTlsLogIntervalMs = 10000;

uint64_t nowNs() { return uv_hrtime(); }
}  // namespace

const char* upstreamErrorName(UpstreamError error) {
  switch (error) {
    case UpstreamError::kConnectFailed: return "connect_failed";
    case UpstreamError::kConnectTimeout: return "connect_timeout";
    case UpstreamError::kReset: return "reset";
    case UpstreamError::kResponseTimeout: return "response_timeout";
    case UpstreamError::kBadResponse: return "bad_response";
  }
  return "unknown";
}

bool isIdempotentMethod(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS" ||
         method == "TRACE";
}

// The connections of one worker to one address of an origin: idle
// keep-alive connections, and requests waiting for a connection while
// max_connections are open. Owned by the OriginPool.
class AddressPool {
 public:
  AddressPool(OriginPool& origin, const OriginUrl& address) : origin_(origin), address_(address) {}
  ~AddressPool();
  AddressPool(const AddressPool&) = delete;
  AddressPool& operator=(const AddressPool&) = delete;

  const OriginUrl& address() const { return address_; }
  const OriginConfig& config() const { return origin_.origin(); }
  uv_loop_t* loop() const { return origin_.loop(); }
  size_t maxHeadBytes() const { return origin_.maxHeadBytes(); }

  // Gives `request` a connection now (idle or new) or queues it.
  void acquire(UpstreamRequest* request, bool fresh_connection = false);
  void cancel(UpstreamRequest* request);
  // Called by a connection when its exchange ended cleanly and it can be reused.
  void release(UpstreamConnection* connection);
  // Called by a connection when it closes.
  void onConnectionClosed(UpstreamConnection* connection, bool was_idle);

  // https:// addresses: the client TLS settings, the session to resume
  // (kept per address), and the throttled log line for a failed handshake.
  const TlsClientContext* tls() const { return origin_.tls(); }
  SSL_SESSION* tlsSession() const { return tls_session_; }
  void storeTlsSession(SSL_SESSION* session) {
    if (tls_session_) SSL_SESSION_free(tls_session_);
    tls_session_ = session;
  }
  void logTlsFailure(const std::string& reason);

 private:
  void serveQueue();

  OriginPool& origin_;
  OriginUrl address_;
  size_t open_connections_ = 0;
  std::deque<UpstreamConnection*> idle_;
  std::deque<UpstreamRequest*> queue_;
  bool destroying_ = false;
  SSL_SESSION* tls_session_ = nullptr;
  uint64_t tls_logged_ms_ = 0;
  uint64_t tls_suppressed_ = 0;
};

// One TCP connection to an origin, carrying one exchange at a time.
class UpstreamConnection {
 public:
  UpstreamConnection(AddressPool& pool);
  void connect();
  void attach(UpstreamRequest* request);
  void detach();  // the request went away mid-exchange: the connection cannot be reused
  void write(const char* data, size_t len);
  void flushPending();
  size_t queuedBytes() const { return write_queued_; }
  void pauseReading();
  void resumeReading();
  void close();
  bool reused() const { return reused_; }

 private:
  enum class State { kResolving, kConnecting, kIdle, kActive, kClosed };
  struct WriteRequest {
    uv_write_t req;
    std::string data;
  };

  static void onResolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  static void onConnect(uv_connect_t* req, int status);
  static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onWrite(uv_write_t* req, int status);
  static void onClose(uv_handle_t* handle);
  static int onStatus(llhttp_t* p, const char* at, size_t len);
  static int onHeaderField(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int onHeadersComplete(llhttp_t* p);
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onMessageComplete(llhttp_t* p);

  void startConnect(const sockaddr* addr);
  // TCP (and, for https, the TLS handshake) is up: start or park.
  void onTransportReady();
  void continueTlsHandshake();
  void handleTlsInput(const char* data, size_t len);
  void writeRaw(const char* data, size_t len);
  void flushTls();
  void startExchange();
  void notifyIfDrained();
  void handleInput(const char* data, size_t len);
  void handleEof();
  void failExchange(UpstreamError error);
  void completeExchange();
  void armTimer(uint64_t ms);
  void onTimer();

  AddressPool& pool_;
  State state_ = State::kResolving;
  uv_tcp_t tcp_;
  uv_getaddrinfo_t resolve_req_;
  uv_connect_t connect_req_;
  std::unique_ptr<Timer> timer_;
  UpstreamRequest* request_ = nullptr;
  bool reused_ = false;
  bool reading_ = false;
  bool read_paused_ = false;
  bool response_started_ = false;  // any response byte received
  bool head_done_ = false;
  bool skip_message_ = false;      // a 1xx interim response being parsed
  bool keep_alive_ = false;
  bool exchange_complete_ = false;
  size_t write_queued_ = 0;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  HeadScanner scanner_;
  ResponseHead head_;
  bool last_was_value_ = false;
  bool scanner_done_ = false;
  bool resolving_ = false;      // a getaddrinfo request is outstanding
  bool handle_closed_ = false;  // onClose ran
  std::unique_ptr<char[]> read_buffer_;
  std::unique_ptr<TlsStream> tls_;  // https:// addresses
};

// ---------------- UpstreamRequest ----------------

UpstreamRequest::UpstreamRequest(OriginPool& pool, UpstreamRequestHead head,
                                 UpstreamResponseHandler& handler)
    : pool_(pool), head_(std::move(head)), handler_(handler) {}

UpstreamRequest::~UpstreamRequest() {
  if (connection_) {
    UpstreamConnection* c = connection_;
    connection_ = nullptr;
    c->detach();
  }
  if (queued_) address_->cancel(this);
  // A probe that never got an outcome (its client went away) must not keep
  // the breaker half-open forever.
  if (probe_) pool_.health()->breaker()->abandonProbe();
}

bool UpstreamRequest::start() {
  start_ns_ = nowNs();
  retries_left_ = pool_.origin().retries;
  if (!admit()) {
    done_ = true;
    return false;
  }
  pending_ = head_.head;
  address_index_ = pool_.pickAddress(0, 0);
  startAttempt();
  return true;
}

bool UpstreamRequest::admit() {
  OriginHealth* health = pool_.health();
  CircuitBreaker* breaker = health ? health->breaker() : nullptr;
  if (!breaker) return true;
  switch (breaker->admit()) {
    case CircuitBreaker::Admission::kAllowed:
      return true;
    case CircuitBreaker::Admission::kProbe:
      probe_ = true;
      return true;
    case CircuitBreaker::Admission::kRejected:
      return false;
  }
  return false;
}

void UpstreamRequest::startAttempt() {
  tried_ |= uint64_t{1} << address_index_;
  address_ = &pool_.address(address_index_);
  attempt_start_ns_ = nowNs();
  address_->acquire(this);
}

void UpstreamRequest::attach(UpstreamConnection* connection) {
  queued_ = false;
  queue_timer_.reset();
  connection_ = connection;
  connection_->attach(this);
}

void UpstreamRequest::attemptFailed(const AttemptFailure& failure) {
  // A reused keep-alive connection may have been closed by the origin just as
  // we sent on it. That says nothing about the origin's health, so the
  // request goes once more on a fresh connection without counting an attempt.
  if (failure.error == UpstreamError::kReset && failure.reused && !failure.response_started &&
      head_.replayable && !stale_replayed_) {
    stale_replayed_ = true;
    pending_ = head_.head;
    attempt_start_ns_ = nowNs();
    address_->acquire(this, /*fresh_connection=*/true);
    return;
  }
  recordAttempt(0);
  // admit() last: a retry is an attempt the breaker must allow, and the
  // failure just recorded may have opened it.
  if (retries_left_ > 0 && mayRetry(failure) && admit()) {
    --retries_left_;
    // Not connected: nothing was written, pending_ still holds every byte.
    // Connected: only bodiless requests get here, and the head is all of it.
    if (failure.connected) pending_ = head_.head;
    address_index_ = pool_.pickAddress(tried_, address_index_);
    startAttempt();
    return;
  }
  fail(failure.error);
}

bool UpstreamRequest::mayRetry(const AttemptFailure& failure) const {
  if (!isIdempotentMethod(head_.method)) return false;
  if (!failure.connected) return true;  // refused, unreachable or connect timeout: the origin saw nothing
  // Reset after the request was sent but before any response byte: only a
  // request without a body can be sent again (its body was not kept).
  return failure.error == UpstreamError::kReset && !failure.response_started && head_.replayable;
}

void UpstreamRequest::recordAttempt(int status) {
  OriginHealth* health = pool_.health();
  if (!health) return;  // egress hosts and health checks
  const double seconds = static_cast<double>(nowNs() - attempt_start_ns_) / 1e9;
  metrics::recordUpstream(health->name(), status, seconds);
  if (CircuitBreaker* breaker = health->breaker()) {
    if (status == 0 || status >= 500) {
      breaker->recordFailure(probe_);
    } else {
      breaker->recordSuccess(probe_);
    }
  }
  probe_ = false;
}

void UpstreamRequest::onResponseHead(int status) {
  upstream_ms_ = static_cast<double>(nowNs() - start_ns_) / 1e6;
  recordAttempt(status);
}

void UpstreamRequest::sendBody(const char* data, size_t len) {
  if (done_ || len == 0) return;
  if (head_.body_framing == BodyFraming::kChunked) {
    char size_line[24];
    int n = snprintf(size_line, sizeof size_line, "%zx\r\n", len);
    pending_.append(size_line, n);
    pending_.append(data, len);
    pending_.append("\r\n");
  } else {
    pending_.append(data, len);
  }
  if (connection_) connection_->flushPending();
}

void UpstreamRequest::finishBody() {
  if (done_ || body_finished_) return;
  body_finished_ = true;
  if (head_.body_framing == BodyFraming::kChunked) pending_.append("0\r\n\r\n");
  if (connection_) connection_->flushPending();
}

bool UpstreamRequest::bodyBackedUp() const {
  size_t queued = pending_.size() + (connection_ ? connection_->queuedBytes() : 0);
  return queued > kBodyHighWater;
}

void UpstreamRequest::pauseResponse() {
  response_paused_ = true;
  if (connection_) connection_->pauseReading();
}

void UpstreamRequest::resumeResponse() {
  response_paused_ = false;
  if (connection_) connection_->resumeReading();
}

void UpstreamRequest::fail(UpstreamError error) {
  if (done_) return;
  done_ = true;
  if (upstream_ms_ < 0) upstream_ms_ = static_cast<double>(nowNs() - start_ns_) / 1e6;
  if (probe_) {
    probe_ = false;
    pool_.health()->breaker()->abandonProbe();
  }
  handler_.onUpstreamError(error);  // may destroy this
}

void UpstreamRequest::onQueueTimeout() {
  address_->cancel(this);
  // Every connection to the address was busy for connect_timeout_ms: the
  // worker's own limit, not evidence about the origin, so the breaker does
  // not count it (and it is not retried).
  if (OriginHealth* health = pool_.health()) {
    metrics::recordUpstream(health->name(), 0, static_cast<double>(nowNs() - attempt_start_ns_) / 1e9);
  }
  fail(UpstreamError::kConnectTimeout);
}

// ---------------- OriginPool ----------------

OriginPool::OriginPool(uv_loop_t* loop, const OriginConfig& origin, const Limits& limits, OriginHealth* health)
    : loop_(loop), origin_(origin), max_head_bytes_(limits.header_bytes), health_(health) {
  if (origin_.addresses.empty()) origin_.addresses = {origin_.parsed};
  if (origin_.parsed.scheme == "https" && !origin_.tls_client) origin_.tls_client = TlsClientContext::systemDefault();
  for (const OriginUrl& address : origin_.addresses) {
    addresses_.push_back(std::make_unique<AddressPool>(*this, address));
  }
}

OriginPool::~OriginPool() = default;

size_t OriginPool::pickAddress(uint64_t tried, size_t previous) {
  const size_t n = addresses_.size();
  if (n == 1) return 0;
  const size_t start = tried == 0 ? cursor_++ % n : (previous + 1) % n;
  return health_ ? health_->pickAddress(start, tried) : start;
}

// ---------------- AddressPool ----------------

AddressPool::~AddressPool() {
  destroying_ = true;
  storeTlsSession(nullptr);
  while (!idle_.empty()) {
    UpstreamConnection* c = idle_.front();
    idle_.pop_front();
    c->close();
  }
  for (UpstreamRequest* r : queue_) r->queued_ = false;
}

void AddressPool::acquire(UpstreamRequest* request, bool fresh_connection) {
  if (!fresh_connection && !idle_.empty()) {
    // Most recently used first: it is the least likely to have been closed.
    UpstreamConnection* c = idle_.back();
    idle_.pop_back();
    request->attach(c);
    return;
  }
  if (open_connections_ < config().max_connections) {
    ++open_connections_;
    auto* c = new UpstreamConnection(*this);
    request->attach(c);
    c->connect();
    return;
  }
  request->queued_ = true;
  request->queue_timer_ = std::make_unique<Timer>(loop(), [request] { request->onQueueTimeout(); });
  request->queue_timer_->start(config().connect_timeout_ms);
  queue_.push_back(request);
}

void AddressPool::cancel(UpstreamRequest* request) {
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (*it == request) {
      queue_.erase(it);
      break;
    }
  }
  request->queued_ = false;
  request->queue_timer_.reset();
}

void AddressPool::release(UpstreamConnection* connection) {
  if (!queue_.empty()) {
    UpstreamRequest* next = queue_.front();
    queue_.pop_front();
    next->attach(connection);
    return;
  }
  idle_.push_back(connection);
}

void AddressPool::onConnectionClosed(UpstreamConnection* connection, bool was_idle) {
  --open_connections_;
  if (was_idle) {
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (*it == connection) {
        idle_.erase(it);
        break;
      }
    }
  }
  if (!destroying_) serveQueue();
}

void AddressPool::logTlsFailure(const std::string& reason) {
  const uint64_t now = uv_now(loop());
  if (tls_logged_ms_ != 0 && now - tls_logged_ms_ < kTlsLogIntervalMs) {
    ++tls_suppressed_;
    return;
  }
  std::string suppressed =
      tls_suppressed_ ? " (" + std::to_string(tls_suppressed_) + " more since the last report)" : "";
  fprintf(stderr, "isogate: origin %s: TLS handshake with %s failed: %s%s\n", config().name.c_str(),
          address_.authority().c_str(), reason.c_str(), suppressed.c_str());
  tls_logged_ms_ = now;
  tls_suppressed_ = 0;
}

void AddressPool::serveQueue() {
  while (!queue_.empty() && open_connections_ < config().max_connections) {
    UpstreamRequest* next = queue_.front();
    queue_.pop_front();
    acquire(next, true);
  }
}

// ---------------- UpstreamConnection ----------------

UpstreamConnection::UpstreamConnection(AddressPool& pool)
    : pool_(pool), scanner_(HeadScanner::Kind::kResponse, pool.maxHeadBytes()) {
  uv_tcp_init(pool_.loop(), &tcp_);
  tcp_.data = this;
  timer_ = std::make_unique<Timer>(pool_.loop(), [this] { onTimer(); });
  llhttp_settings_init(&settings_);
  settings_.on_status = onStatus;
  settings_.on_header_field = onHeaderField;
  settings_.on_header_value = onHeaderValue;
  settings_.on_headers_complete = onHeadersComplete;
  settings_.on_body = onBody;
  settings_.on_message_complete = onMessageComplete;
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;
}

void UpstreamConnection::connect() {
  const OriginUrl& url = pool_.address();
  armTimer(pool_.config().connect_timeout_ms);
  sockaddr_storage addr{};
  if (uv_ip4_addr(url.host.c_str(), url.port, reinterpret_cast<sockaddr_in*>(&addr)) == 0 ||
      uv_ip6_addr(url.host.c_str(), url.port, reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    startConnect(reinterpret_cast<sockaddr*>(&addr));
    return;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  resolve_req_.data = this;
  char port[8];
  snprintf(port, sizeof port, "%u", url.port);
  resolving_ = true;
  if (uv_getaddrinfo(pool_.loop(), &resolve_req_, onResolved, url.host.c_str(), port, &hints) != 0) {
    resolving_ = false;
    failExchange(UpstreamError::kConnectFailed);
    close();
  }
}

void UpstreamConnection::onResolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* self = static_cast<UpstreamConnection*>(req->data);
  self->resolving_ = false;
  if (self->state_ == State::kClosed) {
    if (res) uv_freeaddrinfo(res);
    if (self->handle_closed_) delete self;  // onClose left the deletion to us
    return;
  }
  if (status != 0 || !res) {
    if (res) uv_freeaddrinfo(res);
    self->failExchange(UpstreamError::kConnectFailed);
    self->close();
    return;
  }
  // IPv4 first, as Envoy's V4_PREFERRED: "localhost" often resolves to ::1
  // first while origins listen on 127.0.0.1.
  const addrinfo* chosen = res;
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      chosen = ai;
      break;
    }
  }
  self->startConnect(chosen->ai_addr);
  uv_freeaddrinfo(res);
}

void UpstreamConnection::startConnect(const sockaddr* addr) {
  state_ = State::kConnecting;
  connect_req_.data = this;
  if (uv_tcp_connect(&connect_req_, &tcp_, addr, onConnect) != 0) {
    failExchange(UpstreamError::kConnectFailed);
    close();
  }
}

void UpstreamConnection::onConnect(uv_connect_t* req, int status) {
  auto* self = static_cast<UpstreamConnection*>(req->data);
  if (self->state_ == State::kClosed) return;
  if (status != 0) {
    self->failExchange(UpstreamError::kConnectFailed);
    self->close();
    return;
  }
  uv_tcp_nodelay(&self->tcp_, 1);
  self->reading_ = true;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp_), onAlloc, onRead);
  if (const TlsClientContext* tls = self->pool_.tls()) {
    // The handshake runs under the connect timeout; the connection counts as
    // established (request bytes may be written) only once it is done.
    const OriginUrl& url = self->pool_.address();
    AddressPool* pool = &self->pool_;
    self->tls_ = TlsStream::client(tls->context(), url.host, tls->verify(), pool->tlsSession(),
                                   [pool](SSL_SESSION* session) { pool->storeTlsSession(session); });
    if (!self->tls_) {
      self->pool_.logTlsFailure("cannot set up TLS");
      self->failExchange(UpstreamError::kConnectFailed);
      self->close();
      return;
    }
    self->continueTlsHandshake();
    return;
  }
  self->onTransportReady();
}

void UpstreamConnection::onTransportReady() {
  timer_->stop();
  if (request_) {
    state_ = State::kActive;
    startExchange();
  } else {
    // The request went away while we connected: keep the connection.
    state_ = State::kIdle;
    pool_.release(this);
  }
}

void UpstreamConnection::continueTlsHandshake() {
  TlsStream::Result result = tls_->handshake();
  flushTls();
  if (state_ == State::kClosed) return;
  if (result == TlsStream::Result::kWantMore) return;
  if (result != TlsStream::Result::kOk) {
    // A certificate that does not verify is a connection failure (502).
    pool_.logTlsFailure(tls_->errorText());
    failExchange(UpstreamError::kConnectFailed);
    close();
    return;
  }
  onTransportReady();
}

void UpstreamConnection::handleTlsInput(const char* data, size_t len) {
  tls_->feed(data, len);
  if (!tls_->handshakeDone()) {
    continueTlsHandshake();
    if (state_ == State::kClosed || !tls_->handshakeDone()) return;
  }
  // Decrypt into the read buffer: its ciphertext is already inside the session.
  char* plain = read_buffer_.get();
  while (state_ != State::kClosed) {
    size_t n = 0;
    TlsStream::Result result = tls_->read(plain, kReadBufferSize, &n);
    if (result == TlsStream::Result::kOk) {
      if (state_ != State::kActive || !request_) {
        close();  // response bytes on an idle connection: the origin is out of step
        return;
      }
      handleInput(plain, n);
      continue;
    }
    flushTls();  // post-handshake messages may want an answer
    if (result == TlsStream::Result::kWantMore) return;
    handleEof();  // close_notify or a fatal error
    return;
  }
}

void UpstreamConnection::flushTls() {
  std::string_view out = tls_->pendingOutput();
  if (out.empty()) return;
  writeRaw(out.data(), out.size());
  tls_->clearOutput();
}

void UpstreamConnection::attach(UpstreamRequest* request) {
  request_ = request;
  if (state_ == State::kIdle) {
    reused_ = true;
    state_ = State::kActive;
    startExchange();
  }
  // Resolving/connecting: the exchange starts in onConnect.
}

void UpstreamConnection::startExchange() {
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;
  scanner_.reset();
  scanner_done_ = false;
  head_ = ResponseHead{};
  last_was_value_ = false;
  response_started_ = false;
  head_done_ = false;
  skip_message_ = false;
  exchange_complete_ = false;
  read_paused_ = request_->response_paused_;
  if (read_paused_) pauseReading();
  flushPending();
  notifyIfDrained();
}

void UpstreamConnection::notifyIfDrained() {
  // The sender may have paused while the connection was being set up or
  // while writes were queued; tell it when there is room again.
  if (state_ == State::kActive && request_ && !request_->body_finished_ && !request_->bodyBackedUp()) {
    request_->handler_.onUpstreamRequestDrained();
  }
}

void UpstreamConnection::detach() {
  request_ = nullptr;
  if (state_ == State::kActive) {
    // Mid-exchange: what is on the wire can no longer be completed.
    close();
  }
  // Resolving/connecting: onConnect parks the connection as idle.
}

void UpstreamConnection::flushPending() {
  if (state_ != State::kActive || !request_ || request_->pending_.empty()) return;
  std::string data = std::move(request_->pending_);
  request_->pending_.clear();
  write(data.data(), data.size());
  if (request_ && request_->body_finished_ && request_->pending_.empty() && !head_done_) {
    // The response clock starts once the whole request is on its way.
    armTimer(pool_.config().timeout_ms);
  }
}

void UpstreamConnection::write(const char* data, size_t len) {
  if (!tls_) {
    writeRaw(data, len);
    return;
  }
  while (len > 0 && state_ != State::kClosed) {
    size_t chunk = len < kTlsWriteChunk ? len : kTlsWriteChunk;
    if (!tls_->write(data, chunk)) return;  // the read side reports the failure
    flushTls();
    data += chunk;
    len -= chunk;
  }
}

void UpstreamConnection::writeRaw(const char* data, size_t len) {
  uv_buf_t buf = uv_buf_init(const_cast<char*>(data), len);
  size_t written = 0;
  if (write_queued_ == 0) {
    int r = uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1);
    if (r < 0 && r != UV_EAGAIN) {
      // The read side reports the reset; nothing else to do here.
      return;
    }
    if (r > 0) written = static_cast<size_t>(r);
    if (written == len) return;
  }
  auto* req = new WriteRequest;
  req->data.assign(data + written, len - written);
  req->req.data = this;
  uv_buf_t rest = uv_buf_init(req->data.data(), req->data.size());
  if (uv_write(&req->req, reinterpret_cast<uv_stream_t*>(&tcp_), &rest, 1, onWrite) != 0) {
    delete req;
    return;
  }
  write_queued_ += req->data.size();
}

void UpstreamConnection::onWrite(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteRequest*>(req);
  auto* self = static_cast<UpstreamConnection*>(req->data);
  self->write_queued_ -= w->data.size();
  delete w;
  if (status != 0) return;
  if (self->write_queued_ <= kBodyLowWater) self->notifyIfDrained();
}

void UpstreamConnection::pauseReading() {
  read_paused_ = true;
  if (reading_) {
    reading_ = false;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  }
}

void UpstreamConnection::resumeReading() {
  read_paused_ = false;
  if (!reading_ && (state_ == State::kActive || state_ == State::kIdle)) {
    reading_ = true;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), onAlloc, onRead);
  }
}

void UpstreamConnection::onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<UpstreamConnection*>(handle->data);
  if (!self->read_buffer_) self->read_buffer_.reset(new char[kReadBufferSize]);
  *buf = uv_buf_init(self->read_buffer_.get(), kReadBufferSize);
}

void UpstreamConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<UpstreamConnection*>(stream->data);
  if (nread > 0) {
    if (self->tls_) {
      // Ciphertext may arrive on an idle connection (TLS 1.3 session tickets).
      self->handleTlsInput(buf->base, static_cast<size_t>(nread));
      return;
    }
    if (self->state_ != State::kActive || !self->request_) {
      // Bytes on an idle connection: the origin is out of step; drop it.
      self->close();
      return;
    }
    self->handleInput(buf->base, static_cast<size_t>(nread));
  } else if (nread < 0) {
    self->handleEof();
  }
}

void UpstreamConnection::handleInput(const char* data, size_t len) {
  response_started_ = true;
  // Waiting for the head and a stalled body both restart on progress.
  armTimer(pool_.config().timeout_ms);
  if (!scanner_done_) {
    size_t head_part = 0;
    HeadScanner::Result r = scanner_.scan(data, len, &head_part);
    if (r == HeadScanner::Result::kError) {
      failExchange(UpstreamError::kBadResponse);
      close();
      return;
    }
    scanner_done_ = r == HeadScanner::Result::kComplete;
  }
  UpstreamRequest* request = request_;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (state_ == State::kClosed) return;
  if (err == HPE_OK) {
    if (request_ == request && request) request->handler_.onUpstreamInputProcessed();
    return;
  }
  if (err == HPE_PAUSED && exchange_complete_) {
    const char* pos = llhttp_get_error_pos(&parser_);
    const bool trailing = pos != data + len;
    completeExchange();
    if (trailing && state_ != State::kClosed) close();  // bytes beyond the response
    return;
  }
  failExchange(UpstreamError::kBadResponse);
  close();
}

void UpstreamConnection::handleEof() {
  if (state_ == State::kIdle) {
    close();  // the origin closed a kept-alive connection
    return;
  }
  if (state_ == State::kActive && request_ && response_started_ && head_done_ &&
      llhttp_message_needs_eof(&parser_)) {
    // Close-delimited body: EOF is its end.
    if (llhttp_finish(&parser_) == HPE_OK || exchange_complete_) {
      keep_alive_ = false;
      completeExchange();
      if (state_ != State::kClosed) close();
      return;
    }
  }
  failExchange(UpstreamError::kReset);
  close();
}

void UpstreamConnection::failExchange(UpstreamError error) {
  UpstreamRequest* request = request_;
  if (!request) return;
  request_ = nullptr;
  request->connection_ = nullptr;
  // The request decides: resend, retry elsewhere, or report the error. Its
  // next attempt uses another connection; this one is closed by the caller.
  request->attemptFailed({error, state_ == State::kActive, reused_, response_started_});
}

void UpstreamConnection::completeExchange() {
  UpstreamRequest* request = request_;
  timer_->stop();
  const bool reusable = keep_alive_ && request && request->body_finished_ &&
                        request->pending_.empty() && write_queued_ == 0;
  request_ = nullptr;
  if (request) {
    request->connection_ = nullptr;
    request->done_ = true;
  }
  if (reusable) {
    state_ = State::kIdle;
    if (read_paused_) resumeReading();
    pool_.release(this);
  } else {
    close();
  }
  if (request) request->handler_.onUpstreamComplete();  // may destroy request
}

void UpstreamConnection::armTimer(uint64_t ms) { timer_->start(ms); }

void UpstreamConnection::onTimer() {
  if (state_ == State::kResolving || state_ == State::kConnecting) {
    failExchange(UpstreamError::kConnectTimeout);
  } else {
    failExchange(UpstreamError::kResponseTimeout);
  }
  close();
}

void UpstreamConnection::close() {
  if (state_ == State::kClosed) return;
  const bool was_idle = state_ == State::kIdle;
  state_ = State::kClosed;
  if (request_) {
    UpstreamRequest* request = request_;
    request_ = nullptr;
    request->connection_ = nullptr;
  }
  timer_.reset();
  if (tls_ && tls_->handshakeDone()) {
    tls_->shutdown();  // close_notify, best effort
    std::string_view out = tls_->pendingOutput();
    uv_buf_t buf = uv_buf_init(const_cast<char*>(out.data()), out.size());
    if (write_queued_ == 0 && !out.empty()) uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1);
    tls_->clearOutput();
  }
  pool_.onConnectionClosed(this, was_idle);
  if (resolving_) uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_req_));
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), onClose);
}

void UpstreamConnection::onClose(uv_handle_t* handle) {
  auto* self = static_cast<UpstreamConnection*>(handle->data);
  self->handle_closed_ = true;
  if (!self->resolving_) delete self;  // else onResolved deletes
}

// ---- llhttp callbacks ----

static UpstreamConnection* conn(llhttp_t* p) { return static_cast<UpstreamConnection*>(p->data); }

int UpstreamConnection::onStatus(llhttp_t* p, const char* at, size_t len) {
  conn(p)->head_.reason.append(at, len);
  return 0;
}

int UpstreamConnection::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  UpstreamConnection* c = conn(p);
  if (c->last_was_value_ || c->head_.headers.empty()) {
    c->head_.headers.emplace_back();
    c->last_was_value_ = false;
  }
  c->head_.headers.back().name.append(at, len);
  return 0;
}

int UpstreamConnection::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  UpstreamConnection* c = conn(p);
  c->last_was_value_ = true;
  c->head_.headers.back().value.append(at, len);
  return 0;
}

int UpstreamConnection::onHeadersComplete(llhttp_t* p) {
  UpstreamConnection* c = conn(p);
  const int status = llhttp_get_status_code(p);
  if (status >= 100 && status < 200) {
    // Interim responses are not relayed; the final one follows.
    c->skip_message_ = true;
    c->head_ = ResponseHead{};
    c->last_was_value_ = false;
    return 0;
  }
  c->head_done_ = true;
  c->head_.status = status;
  c->keep_alive_ = llhttp_should_keep_alive(p);
  for (Header& h : c->head_.headers) {
    while (!h.value.empty() && (h.value.back() == ' ' || h.value.back() == '\t')) h.value.pop_back();
  }
  const bool head_request = c->request_->head_.method == "HEAD";
  BodyFraming framing;
  uint64_t length = 0;
  if (head_request || status == 204 || status == 304) {
    framing = BodyFraming::kNone;
    if (head_request) {
      // Relay the announced length of the GET body.
      if (const Header* cl = findHeader(c->head_.headers, "content-length")) {
        framing = BodyFraming::kContentLength;
        length = strtoull(cl->value.c_str(), nullptr, 10);
      } else if (p->flags & F_CHUNKED) {
        framing = BodyFraming::kChunked;
      }
    }
  } else if (p->flags & F_CHUNKED) {
    framing = BodyFraming::kChunked;
  } else if (p->flags & F_CONTENT_LENGTH) {
    framing = BodyFraming::kContentLength;
    length = p->content_length;
  } else {
    framing = BodyFraming::kUntilClose;
  }
  UpstreamRequest* request = c->request_;
  request->onResponseHead(status);
  request->handler_.onUpstreamHead(std::move(c->head_), framing, length);
  if (c->state_ == State::kClosed || c->request_ != request) return HPE_PAUSED;
  return head_request ? 1 : 0;
}

int UpstreamConnection::onBody(llhttp_t* p, const char* at, size_t len) {
  UpstreamConnection* c = conn(p);
  if (!c->request_) return HPE_PAUSED;
  UpstreamRequest* request = c->request_;
  request->handler_.onUpstreamBody(at, len);
  if (c->state_ == State::kClosed || c->request_ != request) return HPE_PAUSED;
  return 0;
}

int UpstreamConnection::onMessageComplete(llhttp_t* p) {
  UpstreamConnection* c = conn(p);
  if (c->skip_message_) {
    c->skip_message_ = false;
    return 0;
  }
  c->exchange_complete_ = true;
  return HPE_PAUSED;
}

}  // namespace isogate
