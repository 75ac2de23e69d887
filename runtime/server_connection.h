#pragma once
// The server side of one client TCP connection speaking HTTP/1.1: parses
// requests one at a time (pipelined ones wait their turn), applies the
// limits and timeouts, hands each routed request to an ExchangeHandler and
// writes its response with backpressure. Lives on one worker thread; deletes
// itself after its handle is closed.
//
// Transport: plain TCP, or TLS (a TlsStream over memory BIOs between the
// socket and the same HTTP code). With TLS, ALPN "h2" hands the decrypted
// bytes to an Http2Connection instead of the HTTP/1.1 parser; the
// connection is then only its transport (Http2Output).

#include <uv.h>

#include <memory>
#include <string>

#include "runtime/config.h"
#include "runtime/exchange.h"
#include "runtime/http2_connection.h"
#include "runtime/request_parser.h"
#include "runtime/timer.h"
#include "runtime/tls_stream.h"

namespace isogate {

class Worker;
class TlsServerContext;

class ServerConnection final : public Exchange, private RequestParserDelegate, private Http2Output {
 public:
  // `tls`: the certificates of an HTTPS listener (null for plain HTTP). The
  // connection keeps them for its lifetime, across reloads.
  ServerConnection(Worker& worker, const Limits& limits, std::shared_ptr<const TlsServerContext> tls = nullptr);

  // Accepts a pending connection from `server` and starts reading. On
  // failure the connection closes itself.
  void accept(uv_stream_t* server);
  // Graceful stop: close now when idle, else after the current response.
  void drain();
  // Immediate stop (end of the shutdown grace period).
  void forceClose();

  // Exchange
  const RequestHead& request() const override { return request_; }
  const std::string& requestId() const override { return log_.request_id; }
  const std::string& remoteAddress() const override { return remote_addr_; }
  const std::string& normalizedPath() const override { return normalized_path_; }
  AccessLogEntry& logEntry() override { return log_; }
  bool secure() const override { return tls_ != nullptr; }
  void pauseRequestBody() override;
  void resumeRequestBody() override;
  void sendResponseHead(ResponseHead&& head, BodyFraming framing, uint64_t content_length) override;
  void sendResponseBody(const char* data, size_t len) override;
  void finishResponse() override;
  void flushResponse() override;
  void abortResponse() override;
  void sendError(int status, std::string_view code, std::string_view message,
                 const HeaderList& extra_headers) override;
  bool responseStarted() const override { return response_started_; }
  bool responseBackedUp() const override;

  // Intrusive list of the worker's connections.
  ServerConnection* prev = nullptr;
  ServerConnection* next = nullptr;

 private:
  enum class TimerPurpose { kNone, kHeader, kIdle, kBody, kLinger };

  ~ServerConnection() override;

  // Http2Output (after ALPN chose h2)
  void sendBytes(const char* data, size_t len) override;
  bool outputBackedUp() const override { return write_backed_up_; }
  void closeOutput() override;

  // RequestParserDelegate
  void onRequestHead(RequestHead&& head) override;
  void onRequestBody(const char* data, size_t len) override;
  void onRequestComplete() override;

  static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onWrite(uv_write_t* req, int status);
  static void onShutdown(uv_shutdown_t* req, int status);
  static void onClose(uv_handle_t* handle);

  // Bytes from the client (decrypted, with TLS), and the end of its input.
  void onInput(const char* data, size_t len);
  void onInputEnd();
  void handleTlsInput(const char* data, size_t len);
  void onHandshakeDone();
  void onHandshakeFailed(bool timeout);
  // Writes what the TLS session produced to the socket.
  void flushTls();
  void writeRaw(const uv_buf_t* bufs, unsigned count);
  void processInput(const char* data, size_t len);
  void onParseError(int status, const std::string& message);
  void finishExchange();
  void continueAfterExchange();
  void startReading();
  void stopReading();
  void write(const uv_buf_t* bufs, unsigned count);
  void armTimer(TimerPurpose purpose, uint64_t ms);
  void onTimer();
  void closeAfterWrites();
  void close();
  bool idle() const;
  void retireHandler();
  void deferToLoop(void (ServerConnection::*fn)());

  Worker& worker_;
  Limits limits_;
  uv_tcp_t tcp_;
  std::shared_ptr<const TlsServerContext> tls_context_;
  std::unique_ptr<TlsStream> tls_;  // HTTPS connections
  bool tls_bytes_seen_ = false;      // some of a ClientHello arrived
  std::unique_ptr<Http2Connection> h2_;  // when ALPN selected "h2"; destroyed with the connection
  std::unique_ptr<Timer> timer_;
  TimerPurpose timer_purpose_ = TimerPurpose::kNone;
  RequestParser parser_;
  std::string remote_addr_;
  std::string pending_input_;  // bytes after a complete request, parsed after its response
  bool awaiting_turn_ = false;  // a complete request waits for the current response
  std::string head_buffer_;     // response head not yet written (corked)

  // Current exchange.
  RequestHead request_;
  std::string normalized_path_;
  AccessLogEntry log_;
  std::unique_ptr<ExchangeHandler> handler_;
  bool exchange_active_ = false;   // a request head arrived and its response is not finished
  bool request_complete_ = false;
  bool response_started_ = false;
  bool response_finished_ = false;
  bool head_request_ = false;
  bool chunked_response_ = false;
  bool sent_continue_ = false;
  bool body_paused_ = false;
  bool close_after_response_ = false;

  bool reading_ = false;
  bool in_input_ = false;      // inside processInput: do not re-enter it
  bool closing_ = false;       // uv_close called or shutting down writes
  bool handle_closed_ = false;
  bool close_done_ = false;     // onClose ran
  int deferred_ = 0;           // deferred calls pending; delete waits for them
  size_t write_queued_ = 0;    // bytes handed to uv_write and not yet written
  bool write_backed_up_ = false;
};

}  // namespace isogate
