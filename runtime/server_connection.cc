#include "runtime/server_connection.h"

#include <netinet/in.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/metrics.h"
#include "runtime/request_id.h"
#include "runtime/router.h"
#include "runtime/tls_context.h"
#include "runtime/worker.h"

namespace isogate {

namespace {

// Response bytes queued in the kernel-facing write queue before the handler is
// asked to pause, and the level at which it may resume.
constexpr size_t kWriteHighWater = 256 * 1024;
constexpr size_t kWriteLowWater = 64 * 1024;
// How long a closing connection keeps reading (and discarding) so that the
// client sees our final response instead of a reset.
constexpr uint64_t kLingerMs = 2000;
constexpr uint64_t kDrainLingerMs = 200;
// Bytes of pipelined requests buffered while an earlier response is pending.
constexpr size_t kMaxPendingInput = 64 * 1024;
// Small writes (a response head and its body) are encrypted together, as one
// TLS record; larger ones in chunks of this size, so that the session's
// output buffer stays small.
constexpr size_t kTlsCoalesceBytes = 16 * 1024;
constexpr size_t kTlsWriteChunk = 64 * 1024;

// Handshake failures are normal on the internet (scanners, old clients):
// logged only with ISOGATE_LOG_LEVEL=debug.
bool debugLogging() {
  static const bool enabled = [] {
    const char* level = getenv("ISOGATE_LOG_LEVEL");
    return level && strcmp(level, "debug") == 0;
  }();
  return enabled;
}

struct WriteRequest {
  uv_write_t req;
  std::string data;
};

std::string peerAddress(uv_tcp_t* tcp) {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  char ip[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    uv_ip4_name(reinterpret_cast<sockaddr_in*>(&addr), ip, sizeof ip);
  } else if (addr.ss_family == AF_INET6) {
    uv_ip6_name(reinterpret_cast<sockaddr_in6*>(&addr), ip, sizeof ip);
  }
  return ip;
}

int64_t unixMillis() {
  uv_timeval64_t tv;
  uv_gettimeofday(&tv);
  return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

bool statusHasNoBody(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

}  // namespace

ServerConnection::ServerConnection(Worker& worker, const Limits& limits,
                                   std::shared_ptr<const TlsServerContext> tls)
    : worker_(worker),
      limits_(limits),
      tls_context_(std::move(tls)),
      parser_(*this, limits.header_bytes, limits.body_bytes) {
  uv_tcp_init(worker_.loop(), &tcp_);
  tcp_.data = this;
  timer_ = std::make_unique<Timer>(worker_.loop(), [this] { onTimer(); });
  worker_.addConnection(this);
}

ServerConnection::~ServerConnection() { worker_.removeConnection(this); }

void ServerConnection::accept(uv_stream_t* server) {
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&tcp_)) != 0) {
    close();
    return;
  }
  uv_tcp_nodelay(&tcp_, 1);
  remote_addr_ = peerAddress(&tcp_);
  if (tls_context_) {
    tls_ = TlsStream::server(tls_context_->defaultContext());
    if (!tls_) {
      close();
      return;
    }
  }
  // With TLS the handshake and the first head share this deadline.
  armTimer(TimerPurpose::kHeader, limits_.header_timeout_ms);
  startReading();
}

// ---- reading and parsing ----

void ServerConnection::startReading() {
  if (reading_ || closing_) return;
  reading_ = true;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), onAlloc, onRead);
}

void ServerConnection::stopReading() {
  if (!reading_) return;
  reading_ = false;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
}

void ServerConnection::onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<ServerConnection*>(handle->data);
  // One buffer per worker: input is parsed synchronously in onRead and
  // anything kept beyond it is copied.
  *buf = uv_buf_init(self->worker_.readBuffer(), Worker::kReadBufferSize);
}

void ServerConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<ServerConnection*>(stream->data);
  if (nread > 0) {
    if (self->timer_purpose_ == TimerPurpose::kLinger) return;  // discarding
    if (self->tls_) {
      self->handleTlsInput(buf->base, static_cast<size_t>(nread));
    } else {
      self->onInput(buf->base, static_cast<size_t>(nread));
    }
    return;
  }
  if (nread == 0) return;
  self->onInputEnd();
}

void ServerConnection::onInput(const char* data, size_t len) {
  if (timer_purpose_ == TimerPurpose::kLinger || handle_closed_) return;  // discarding
  if (h2_) {
    if (!h2_->finished()) h2_->receive(data, len);
    return;
  }
  if (awaiting_turn_) {
    // Pipelined requests wait for the current response; keep reading (no
    // watcher churn per request) until the backlog is large.
    pending_input_.append(data, len);
    if (pending_input_.size() > kMaxPendingInput) stopReading();
    return;
  }
  processInput(data, len);
}

void ServerConnection::onInputEnd() {
  // EOF or error. A client half-closing after a complete request still wants
  // its response; anything else ends the exchange.
  stopReading();
  if (handle_closed_) return;
  if (tls_ && !tls_->handshakeDone()) {
    // A client that gives up mid-handshake is a failed handshake; one that
    // connects and leaves without a byte (a port probe) is not.
    if (tls_bytes_seen_) {
      onHandshakeFailed(false);
    } else {
      close();
    }
    return;
  }
  if (h2_) {
    h2_->onPeerClosed();
    close();
    return;
  }
  if (timer_purpose_ == TimerPurpose::kLinger || !exchange_active_ || !request_complete_) {
    if (exchange_active_ && handler_) {
      handler_->onExchangeAborted();
      retireHandler();
    }
    if (exchange_active_) {
      log_.status = response_started_ ? log_.status : 499;
      finishExchange();
    }
    close();
  } else {
    close_after_response_ = true;
  }
}

// ---- TLS ----

void ServerConnection::handleTlsInput(const char* data, size_t len) {
  tls_bytes_seen_ = true;
  tls_->feed(data, len);
  if (!tls_->handshakeDone()) {
    TlsStream::Result result = tls_->handshake();
    flushTls();
    if (result == TlsStream::Result::kWantMore) return;
    if (result != TlsStream::Result::kOk) {
      onHandshakeFailed(false);
      return;
    }
    onHandshakeDone();
    if (closing_) return;
  }
  // Decrypt into the worker's read buffer: the ciphertext it held is inside
  // the session now. Everything fed is decrypted at once, as a plain read
  // delivers its whole buffer.
  char* plain = worker_.readBuffer();
  while (!handle_closed_) {
    size_t n = 0;
    TlsStream::Result result = tls_->read(plain, Worker::kReadBufferSize, &n);
    if (result == TlsStream::Result::kOk) {
      onInput(plain, n);
      continue;
    }
    flushTls();
    if (result == TlsStream::Result::kWantMore) return;
    // close_notify ends the client's input like a FIN; a broken record too.
    onInputEnd();
    return;
  }
}

void ServerConnection::onHandshakeDone() {
  if (tls_->alpn() != "h2") return;  // HTTP/1.1: the header clock started at accept keeps running
  // HTTP/2 keeps its own clocks (preface, header blocks, idle).
  armTimer(TimerPurpose::kNone, 0);
  h2_ = std::make_unique<Http2Connection>(worker_, limits_, remote_addr_, static_cast<Http2Output&>(*this));
  h2_->start();
}

void ServerConnection::sendBytes(const char* data, size_t len) {
  uv_buf_t buf = uv_buf_init(const_cast<char*>(data), len);
  write(&buf, 1);
}

void ServerConnection::closeOutput() { closeAfterWrites(); }

void ServerConnection::onHandshakeFailed(bool timeout) {
  metrics::recordTlsHandshakeError(timeout);
  if (debugLogging()) {
    fprintf(stderr, "isogate: debug: TLS handshake from %s %s\n", remote_addr_.c_str(),
            timeout                        ? "timed out"
            : tls_->errorText().empty() ? "failed: the client closed the connection"
                                        : ("failed: " + tls_->errorText()).c_str());
  }
  close();
}

void ServerConnection::flushTls() {
  std::string_view out = tls_->pendingOutput();
  if (out.empty()) return;
  uv_buf_t buf = uv_buf_init(const_cast<char*>(out.data()), out.size());
  writeRaw(&buf, 1);
  tls_->clearOutput();
}

void ServerConnection::processInput(const char* data, size_t len) {
  in_input_ = true;
  while (len > 0 && !closing_) {
    if (!exchange_active_ && !parser_.messageStarted()) {
      // First byte of a new request: the whole head must now arrive in time.
      armTimer(TimerPurpose::kHeader, limits_.header_timeout_ms);
    }
    size_t consumed = 0;
    RequestParser::Status status = parser_.feed(data, len, &consumed);
    if (status == RequestParser::Status::kError) {
      onParseError(parser_.error().status, parser_.error().message);
      break;
    }
    data += consumed;
    len -= consumed;
    if (status == RequestParser::Status::kNeedMore) break;
    // A request is complete. Later bytes wait until its response is done.
    if (exchange_active_ || write_backed_up_) {
      pending_input_.assign(data, len);
      awaiting_turn_ = true;
      if (write_backed_up_ || pending_input_.size() > kMaxPendingInput) stopReading();
      break;
    }
  }
  in_input_ = false;
  if (!closing_ && !exchange_active_ && !parser_.messageStarted() &&
      timer_purpose_ != TimerPurpose::kIdle) {
    armTimer(TimerPurpose::kIdle, limits_.idle_timeout_ms);
  }
}

void ServerConnection::onRequestHead(RequestHead&& head) {
  request_ = std::move(head);
  exchange_active_ = true;
  request_complete_ = false;
  response_started_ = false;
  response_finished_ = false;
  chunked_response_ = false;
  sent_continue_ = false;
  head_request_ = request_.method == "HEAD";
  if (!request_.keep_alive || worker_.draining()) close_after_response_ = true;

  log_ = AccessLogEntry{};
  log_.bytes_in = parser_.headBytes();
  log_.start_ns = uv_hrtime();
  log_.start_unix_ms = unixMillis();
  log_.method = request_.method;
  log_.path = request_.path;
  log_.remote_addr = remote_addr_;
  if (const Header* ua = findHeader(request_.headers, "user-agent")) log_.user_agent = ua->value;
  const Header* id = findHeader(request_.headers, "x-request-id");
  log_.request_id = id && isAcceptableRequestId(id->value) ? id->value : generateRequestId();

  // The head is in: stop the header clock; a body has its own idle clock.
  armTimer(request_.hasBody() ? TimerPurpose::kBody : TimerPurpose::kNone,
           limits_.idle_timeout_ms);

  if (!normalizePath(request_.path, &normalized_path_)) {
    sendError(400, "bad_request", "request target must be an absolute path", {});
    return;
  }
  handler_ = worker_.dispatch(*this);
  if (!handler_) return;  // answered already
  if (request_.expect_continue && request_.hasBody() && !response_started_) {
    static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    uv_buf_t buf = uv_buf_init(const_cast<char*>(kContinue), sizeof kContinue - 1);
    write(&buf, 1);
    sent_continue_ = true;
  }
  handler_->start();
}

void ServerConnection::onRequestBody(const char* data, size_t len) {
  armTimer(TimerPurpose::kBody, limits_.idle_timeout_ms);
  if (handler_ && !response_finished_) handler_->onRequestBody(data, len);
  // Otherwise the response is already out: the body is read and discarded so
  // the connection stays usable.
}

void ServerConnection::onRequestComplete() {
  request_complete_ = true;
  if (timer_purpose_ == TimerPurpose::kBody) armTimer(TimerPurpose::kNone, 0);
  if (handler_ && !response_finished_) {
    handler_->onRequestEnd();
  } else if (response_finished_) {
    finishExchange();
  }
}

void ServerConnection::onParseError(int status, const std::string& message) {
  close_after_response_ = true;
  if (exchange_active_) {
    // The body broke (bad chunk framing, over body_bytes): the handler's work
    // is void, and an origin must never see a short body as complete.
    if (handler_) {
      handler_->onExchangeAborted();
      retireHandler();
    }
    if (response_started_) {
      abortResponse();
      return;
    }
  } else {
    // No complete head: log the rejected request too, with what arrived of it.
    const RequestHead& partial = parser_.partialHead();
    log_ = AccessLogEntry{};
    log_.start_ns = uv_hrtime();
    log_.start_unix_ms = unixMillis();
    log_.remote_addr = remote_addr_;
    log_.method = partial.method;
    log_.path = partial.target.substr(0, partial.target.find('?'));
    const Header* id = findHeader(partial.headers, "x-request-id");
    log_.request_id = id && isAcceptableRequestId(id->value) ? id->value : generateRequestId();
    request_ = RequestHead{};
    head_request_ = false;
    response_started_ = false;
    response_finished_ = false;
    exchange_active_ = true;
    request_complete_ = true;
  }
  const char* code = status == 413   ? "body_too_large"
                     : status == 431 ? "headers_too_large"
                     : status == 414 ? "uri_too_long"
                     : status == 505 ? "http_version_not_supported"
                     : status == 501 ? "not_implemented"
                     : status == 408 ? "request_timeout"
                     : status == 417 ? "expectation_failed"
                                     : "bad_request";
  sendError(status, code, message, {});
}

void ServerConnection::pauseRequestBody() {
  body_paused_ = true;
  if (!request_complete_) stopReading();
  if (timer_purpose_ == TimerPurpose::kBody) armTimer(TimerPurpose::kNone, 0);
}

void ServerConnection::resumeRequestBody() {
  if (!body_paused_) return;
  body_paused_ = false;
  if (!request_complete_ && !closing_) {
    armTimer(TimerPurpose::kBody, limits_.idle_timeout_ms);
    startReading();
  }
}

// ---- responses ----

void ServerConnection::sendResponseHead(ResponseHead&& head, BodyFraming framing,
                                        uint64_t content_length) {
  if (response_started_ || closing_) return;
  response_started_ = true;
  log_.status = head.status;

  std::string out;
  out.reserve(256);
  appendStatusLine(out, head.status, head.reason);
  bool has_date = false;
  for (const Header& h : head.headers) {
    if (equalsIgnoreCase(h.name, "content-length") || equalsIgnoreCase(h.name, "transfer-encoding") ||
        equalsIgnoreCase(h.name, "connection") || equalsIgnoreCase(h.name, "keep-alive") ||
        equalsIgnoreCase(h.name, "x-request-id")) {
      continue;
    }
    if (!has_date && equalsIgnoreCase(h.name, "date")) has_date = true;
    appendHeader(out, h.name, h.value);
  }
  if (!has_date) out.append(worker_.dateHeader());
  appendHeader(out, "X-Request-ID", log_.request_id);

  if (worker_.draining()) close_after_response_ = true;
  if (!statusHasNoBody(head.status)) {
    switch (framing) {
      case BodyFraming::kContentLength: {
        char num[24];
        snprintf(num, sizeof num, "%" PRIu64, content_length);
        appendHeader(out, "Content-Length", num);
        break;
      }
      case BodyFraming::kNone:
        appendHeader(out, "Content-Length", "0");
        break;
      case BodyFraming::kChunked:
      case BodyFraming::kUntilClose:
        if (request_.version_minor >= 1) {
          // A HEAD response announces the framing a GET would have had.
          appendHeader(out, "Transfer-Encoding", "chunked");
          chunked_response_ = !head_request_;
        } else {
          close_after_response_ = true;
        }
        break;
    }
  }
  if (close_after_response_) {
    appendHeader(out, "Connection", "close");
  } else if (request_.version_minor == 0) {
    appendHeader(out, "Connection", "keep-alive");
  }
  out.append("\r\n");
  // Corked: sent with the first body bytes (one writev), at the end of the
  // response, or on flushResponse().
  head_buffer_ = std::move(out);
}

void ServerConnection::flushResponse() {
  if (head_buffer_.empty() || closing_) return;
  std::string head = std::move(head_buffer_);
  head_buffer_.clear();
  uv_buf_t buf = uv_buf_init(head.data(), head.size());
  write(&buf, 1);
}

void ServerConnection::sendResponseBody(const char* data, size_t len) {
  if (!response_started_ || response_finished_ || head_request_ || len == 0 || closing_) return;
  std::string head = std::move(head_buffer_);
  head_buffer_.clear();
  uv_buf_t bufs[4];
  unsigned n = 0;
  if (!head.empty()) bufs[n++] = uv_buf_init(head.data(), head.size());
  char size_line[24];
  if (chunked_response_) {
    int size_len = snprintf(size_line, sizeof size_line, "%zx\r\n", len);
    bufs[n++] = uv_buf_init(size_line, size_len);
  }
  bufs[n++] = uv_buf_init(const_cast<char*>(data), len);
  if (chunked_response_) bufs[n++] = uv_buf_init(const_cast<char*>("\r\n"), 2);
  write(bufs, n);
}

void ServerConnection::finishResponse() {
  if (!response_started_ || response_finished_) return;
  if (chunked_response_ && !closing_) {
    head_buffer_.append("0\r\n\r\n");
  }
  flushResponse();
  response_finished_ = true;
  retireHandler();
  // An Expect: 100-continue client we never told to send its body may not
  // send it, and a discarded body we cannot wait for: close instead.
  if (!request_complete_ && request_.expect_continue && !sent_continue_) close_after_response_ = true;
  if (request_complete_ || close_after_response_) finishExchange();
}

void ServerConnection::abortResponse() {
  if (!exchange_active_) return;
  retireHandler();
  response_finished_ = true;
  close_after_response_ = true;
  finishExchange();
  close();
}

void ServerConnection::sendError(int status, std::string_view code, std::string_view message,
                                 const HeaderList& extra_headers) {
  if (response_started_) {
    abortResponse();
    return;
  }
  std::string body = jsonErrorBody(code, message, log_.request_id);
  ResponseHead head;
  head.status = status;
  head.headers = extra_headers;
  head.headers.push_back({"Content-Type", "application/json"});
  if (status == 400 || status == 408 || status == 413 || status == 414 || status == 431 ||
      status == 501 || status == 505) {
    close_after_response_ = true;  // framing is not trustworthy after these
  }
  sendResponseHead(std::move(head), BodyFraming::kContentLength, body.size());
  sendResponseBody(body.data(), body.size());
  finishResponse();
}

bool ServerConnection::responseBackedUp() const { return write_backed_up_; }

void ServerConnection::write(const uv_buf_t* bufs, unsigned count) {
  if (handle_closed_) return;
  size_t total = 0;
  for (unsigned i = 0; i < count; ++i) total += bufs[i].len;
  log_.bytes_out += total;
  if (!tls_) {
    writeRaw(bufs, count);
    return;
  }
  if (count > 1 && total <= kTlsCoalesceBytes) {
    char joined[kTlsCoalesceBytes];
    size_t at = 0;
    for (unsigned i = 0; i < count; ++i) {
      memcpy(joined + at, bufs[i].base, bufs[i].len);
      at += bufs[i].len;
    }
    if (tls_->write(joined, at)) flushTls();
    return;
  }
  for (unsigned i = 0; i < count; ++i) {
    const char* data = bufs[i].base;
    size_t len = bufs[i].len;
    while (len > 0) {
      size_t chunk = len < kTlsWriteChunk ? len : kTlsWriteChunk;
      // A failed session is reported by the read side, like a failed send.
      if (!tls_->write(data, chunk)) return;
      flushTls();
      data += chunk;
      len -= chunk;
    }
  }
}

void ServerConnection::writeRaw(const uv_buf_t* bufs, unsigned count) {
  if (handle_closed_) return;
  size_t total = 0;
  for (unsigned i = 0; i < count; ++i) total += bufs[i].len;
  size_t written = 0;
  if (write_queued_ == 0) {
    int r = uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), bufs, count);
    if (r < 0 && r != UV_EAGAIN) {
      // The client is gone; the read side will notice and clean up.
      return;
    }
    if (r > 0) written = static_cast<size_t>(r);
    if (written == total) return;
  }
  auto* req = new WriteRequest;
  req->data.reserve(total - written);
  size_t skip = written;
  for (unsigned i = 0; i < count; ++i) {
    if (skip >= bufs[i].len) {
      skip -= bufs[i].len;
      continue;
    }
    req->data.append(bufs[i].base + skip, bufs[i].len - skip);
    skip = 0;
  }
  req->req.data = this;
  uv_buf_t buf = uv_buf_init(req->data.data(), req->data.size());
  if (uv_write(&req->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, onWrite) != 0) {
    delete req;
    return;
  }
  write_queued_ += req->data.size();
  if (write_queued_ > kWriteHighWater) write_backed_up_ = true;
}

void ServerConnection::onWrite(uv_write_t* req, int status) {
  auto* write = reinterpret_cast<WriteRequest*>(req);
  auto* self = static_cast<ServerConnection*>(req->data);
  self->write_queued_ -= write->data.size();
  delete write;
  if (status != 0 || self->handle_closed_) return;
  if (self->write_backed_up_ && self->write_queued_ <= kWriteLowWater) {
    self->write_backed_up_ = false;
    if (self->h2_) {
      if (!self->closing_) self->h2_->onOutputDrained();
    } else if (self->handler_ && !self->response_finished_) {
      self->handler_->onResponseDrained();
    } else if (!self->exchange_active_ && !self->closing_) {
      self->deferToLoop(&ServerConnection::continueAfterExchange);
    }
  }
}

// ---- exchange lifecycle ----

void ServerConnection::finishExchange() {
  if (!exchange_active_) return;
  exchange_active_ = false;
  log_.bytes_in += parser_.bodyBytes();
  const double latency_ms = static_cast<double>(uv_hrtime() - log_.start_ns) / 1e6;
  worker_.logRequest(log_, latency_ms);
  if (close_after_response_) {
    closeAfterWrites();
    return;
  }
  if (in_input_) return;  // processInput's loop carries on with the next request
  deferToLoop(&ServerConnection::continueAfterExchange);
}

void ServerConnection::continueAfterExchange() {
  if (closing_ || exchange_active_ || write_backed_up_) return;
  awaiting_turn_ = false;
  if (!pending_input_.empty()) {
    std::string input = std::move(pending_input_);
    pending_input_.clear();
    processInput(input.data(), input.size());
    if (closing_ || exchange_active_) return;
  }
  if (!parser_.messageStarted()) armTimer(TimerPurpose::kIdle, limits_.idle_timeout_ms);
  startReading();
}

void ServerConnection::retireHandler() {
  if (handler_) worker_.retire(std::move(handler_));
}

bool ServerConnection::idle() const { return !exchange_active_ && !parser_.messageStarted(); }

void ServerConnection::drain() {
  if (h2_) {
    h2_->drain();  // GOAWAY; closeOutput() once its streams are done
    return;
  }
  close_after_response_ = true;
  if (idle() && write_queued_ == 0) close();
}

void ServerConnection::forceClose() {
  if (h2_) {
    if (!h2_->finished()) h2_->forceClose();
    close();
    return;
  }
  if (handler_) {
    handler_->onExchangeAborted();
    retireHandler();
  }
  if (exchange_active_) {
    if (!response_started_) log_.status = 503;
    finishExchange();
  }
  close();
}

// ---- timers ----

void ServerConnection::armTimer(TimerPurpose purpose, uint64_t ms) {
  timer_purpose_ = purpose;
  if (purpose == TimerPurpose::kNone) {
    timer_->stop();
  } else {
    timer_->start(ms);
  }
}

void ServerConnection::onTimer() {
  TimerPurpose purpose = timer_purpose_;
  timer_purpose_ = TimerPurpose::kNone;
  switch (purpose) {
    case TimerPurpose::kHeader:
      if (tls_ && !tls_->handshakeDone()) {
        onHandshakeFailed(true);  // no HTTP yet: nothing to answer
        break;
      }
      onParseError(408, "request head not received in time");
      break;
    case TimerPurpose::kBody:
      if (exchange_active_ && !response_started_) {
        onParseError(408, "request body stalled");
      } else {
        forceClose();
      }
      break;
    case TimerPurpose::kIdle:
    case TimerPurpose::kLinger:
      close();
      break;
    case TimerPurpose::kNone:
      break;
  }
}

// ---- closing ----

void ServerConnection::closeAfterWrites() {
  if (closing_) return;
  closing_ = true;
  if (tls_ && tls_->handshakeDone()) {
    tls_->shutdown();  // close_notify before the FIN
    flushTls();
  }
  auto* req = new uv_shutdown_t;
  req->data = this;
  if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&tcp_), onShutdown) != 0) {
    delete req;
    closing_ = false;
    close();
  }
}

void ServerConnection::onShutdown(uv_shutdown_t* req, int status) {
  auto* self = static_cast<ServerConnection*>(req->data);
  delete req;
  if (self->handle_closed_) return;
  if (status != 0) {
    self->closing_ = false;
    self->close();
    return;
  }
  // Lingering close: read and drop what the client still sends for a moment,
  // so a reset does not destroy the response it has not read yet.
  // While draining, do not let lingering hold up the process exit for long.
  self->armTimer(TimerPurpose::kLinger, self->worker_.draining() ? kDrainLingerMs : kLingerMs);
  if (!self->reading_) {
    self->reading_ = true;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp_), onAlloc, onRead);
  }
}

void ServerConnection::close() {
  if (handle_closed_) return;
  if (tls_ && tls_->handshakeDone()) {
    // close_notify (unless sent already), best effort: a client that reads
    // EOF without one treats it as an error and forgets the session.
    tls_->shutdown();
    std::string_view out = tls_->pendingOutput();
    if (!out.empty() && write_queued_ == 0) {
      uv_buf_t buf = uv_buf_init(const_cast<char*>(out.data()), out.size());
      uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1);
    }
    tls_->clearOutput();
  }
  handle_closed_ = true;
  closing_ = true;
  if (h2_ && !h2_->finished()) h2_->onPeerClosed();  // streams end; nothing more is sent
  if (handler_) {
    handler_->onExchangeAborted();
    retireHandler();
  }
  timer_.reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), onClose);
}

void ServerConnection::onClose(uv_handle_t* handle) {
  auto* self = static_cast<ServerConnection*>(handle->data);
  self->close_done_ = true;
  if (self->deferred_ == 0) delete self;
}

void ServerConnection::deferToLoop(void (ServerConnection::*fn)()) {
  ++deferred_;
  worker_.defer([this, fn] {
    --deferred_;
    if (handle_closed_) {
      if (close_done_ && deferred_ == 0) delete this;
      return;
    }
    (this->*fn)();
  });
}

}  // namespace isogate
