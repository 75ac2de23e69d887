#pragma once
// One HTTP/2 request stream of an Http2Connection: the Exchange its handler
// talks to (request head and body in, response head and body out). Internal
// to runtime/http2_connection.cc and http2_stream.cc, which share their
// private state (friends): a stream is its connection's part.

#include <nghttp2/nghttp2.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/access_log.h"
#include "runtime/exchange.h"
#include "runtime/http2_connection.h"
#include "runtime/worker.h"

namespace isogate {

// One request stream: the Exchange its handler talks to. Owned by its
// Http2Connection; destroyed after nghttp2 closed the stream, outside any
// nghttp2 callback.
class Http2Stream final : public Exchange {
 public:
  // Response bytes buffered before the handler is asked to pause, and the
  // level at which it may go on (as for HTTP/1.1's write queue).
  static constexpr size_t kHighWater = 256 * 1024;
  static constexpr size_t kLowWater = 64 * 1024;

  Http2Stream(Http2Connection& connection, int32_t id);
  // Runs on a later loop iteration than the stream's close (the connection
  // may be gone by then); the handler was detached at close.
  ~Http2Stream() override = default;

  // Exchange
  const RequestHead& request() const override { return request_; }
  const std::string& requestId() const override { return log_.request_id; }
  const std::string& remoteAddress() const override { return connection_.remote_addr_; }
  const std::string& normalizedPath() const override { return normalized_path_; }
  AccessLogEntry& logEntry() override { return log_; }
  bool secure() const override { return true; }
  void pauseRequestBody() override { body_paused_ = true; }
  void resumeRequestBody() override;
  void sendResponseHead(ResponseHead&& head, BodyFraming framing, uint64_t content_length) override;
  void sendResponseBody(const char* data, size_t len) override;
  void finishResponse() override;
  void flushResponse() override;
  void abortResponse() override;
  void sendError(int status, std::string_view code, std::string_view message,
                 const HeaderList& extra_headers) override;
  bool responseStarted() const override { return response_started_; }
  bool responseBackedUp() const override { return buffered() > kHighWater; }

 private:
  friend class Http2Connection;

  size_t buffered() const { return out_.size() - out_offset_; }
  void retireHandler() {
    if (handler_) connection_.worker_.retire(std::move(handler_));
  }
  void abortHandler() {
    if (!handler_) return;
    std::unique_ptr<ExchangeHandler> handler = std::move(handler_);
    handler->onExchangeAborted();
    connection_.worker_.retire(std::move(handler));
  }
  void submitHead(bool end_stream);
  void resumeData();
  void deliverPendingBody();
  void onHeadersComplete();
  void onBodyData(const uint8_t* data, size_t len);
  void onRequestEnd();
  void rejectBody(int status, std::string_view code, const std::string& message);
  void logOnce(int status_if_unanswered);

  Http2Connection& connection_;
  const int32_t id_;
  RequestHead request_;
  std::string normalized_path_;
  AccessLogEntry log_;
  std::unique_ptr<ExchangeHandler> handler_;

  // Request head as it arrives.
  std::string authority_;
  std::string cookie_;
  bool has_authority_ = false;
  size_t header_list_bytes_ = 0;
  bool headers_too_large_ = false;
  bool headers_done_ = false;
  uint64_t headers_started_ms_ = 0;

  // Request body.
  uint64_t body_bytes_ = 0;
  std::string pending_body_;  // arrived while paused; its window is not reopened yet
  uint64_t last_body_ms_ = 0;
  bool body_paused_ = false;
  bool body_rejected_ = false;
  bool request_ended_ = false;  // END_STREAM received
  bool end_delivered_ = false;

  // Response.
  std::vector<std::pair<std::string, std::string>> response_fields_;  // corked head
  bool head_request_ = false;
  bool body_allowed_ = true;
  bool head_corked_ = false;
  bool has_data_provider_ = false;
  bool response_started_ = false;
  bool response_finished_ = false;  // nothing more will be added
  bool reset_sent_ = false;
  bool backed_up_ = false;
  bool closed_ = false;  // nghttp2 closed the stream
  bool logged_ = false;
  std::string out_;
  size_t out_offset_ = 0;
};

}  // namespace isogate
