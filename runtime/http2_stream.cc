#include "runtime/http2_stream.h"

#include <algorithm>
#include <cstring>

#include "runtime/request_id.h"
#include "runtime/router.h"

namespace isogate {

namespace {

bool statusHasNoBody(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

int64_t unixMillis() {
  uv_timeval64_t tv;
  uv_gettimeofday(&tv);
  return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// Fields that are meaningless or forbidden in HTTP/2 (RFC 9113 8.2.2), and
// those the connection sets itself.
bool droppedResponseField(std::string_view lower_name) {
  static constexpr std::string_view kDropped[] = {
      "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
      "te",         "content-length", "x-request-id"};
  for (std::string_view d : kDropped) {
    if (lower_name == d) return true;
  }
  return lower_name.empty() || lower_name[0] == ':';
}

bool valueIsSendable(std::string_view value) {
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

nghttp2_nv makeNv(const std::string& name, const std::string& value) {
  nghttp2_nv nv;
  nv.name = reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()));
  nv.namelen = name.size();
  nv.value = reinterpret_cast<uint8_t*>(const_cast<char*>(value.data()));
  nv.valuelen = value.size();
  nv.flags = NGHTTP2_NV_FLAG_NONE;
  return nv;
}

}  // namespace

Http2Stream::Http2Stream(Http2Connection& connection, int32_t id) : connection_(connection), id_(id) {
  log_.start_ns = uv_hrtime();
  log_.start_unix_ms = unixMillis();
  log_.remote_addr = connection.remote_addr_;
  headers_started_ms_ = uv_now(connection.worker_.loop());
  last_body_ms_ = headers_started_ms_;
}

// ---- Http2Stream: request ----

void Http2Stream::onHeadersComplete() {
  Http2Connection& c = connection_;
  headers_done_ = true;
  c.saw_request_ = true;
  request_.version_minor = 1;
  request_.keep_alive = true;
  // RFC 9113 8.2.3: several cookie fields are joined with "; ".
  if (!cookie_.empty()) request_.headers.push_back({"cookie", std::move(cookie_)});
  const size_t q = request_.target.find('?');
  request_.path = request_.target.substr(0, q);
  request_.query = q == std::string::npos ? "" : request_.target.substr(q);
  if (const Header* cl = findHeader(request_.headers, "content-length")) {
    // nghttp2 has checked it is a number and will check it against the DATA.
    request_.content_length = strtoull(cl->value.c_str(), nullptr, 10);
  }
  // A body without a declared length reaches handlers as a chunked one.
  if (!request_ended_ && !request_.content_length) request_.chunked = true;
  head_request_ = request_.method == "HEAD";

  log_.bytes_in = header_list_bytes_;
  log_.method = request_.method;
  log_.path = request_.path;
  if (const Header* ua = findHeader(request_.headers, "user-agent")) log_.user_agent = ua->value;
  const Header* id = findHeader(request_.headers, "x-request-id");
  log_.request_id = id && isAcceptableRequestId(id->value) ? id->value : generateRequestId();

  const Header* host = findHeader(request_.headers, "host");
  if (has_authority_) {
    if (host && !equalsIgnoreCase(host->value, authority_)) {
      // RFC 9113 8.3.1: Host and :authority naming different servers.
      log_.status = 400;
      reset_sent_ = true;
      response_finished_ = true;
      nghttp2_submit_rst_stream(c.session_, NGHTTP2_FLAG_NONE, id_, NGHTTP2_PROTOCOL_ERROR);
      return;
    }
    request_.host = authority_;
    if (!host) request_.headers.push_back({"host", authority_});
  } else if (host) {
    request_.host = host->value;
  }

  if (c.worker_.draining()) c.drain();
  if (headers_too_large_) {
    sendError(431, "headers_too_large",
              "request header list exceeds " + std::to_string(c.limits_.header_bytes) + " bytes", {});
    return;
  }
  if (request_.content_length && *request_.content_length > c.limits_.body_bytes) {
    body_rejected_ = true;
    sendError(413, "body_too_large",
              "request body exceeds " + std::to_string(c.limits_.body_bytes) + " bytes", {});
    return;
  }
  if (!normalizePath(request_.path, &normalized_path_)) {
    sendError(400, "bad_request", "request target must be an absolute path", {});
    return;
  }
  std::unique_ptr<ExchangeHandler> handler =
      c.dispatcher_ ? c.dispatcher_(*this) : c.worker_.dispatch(*this);
  if (!handler || response_finished_ || closed_) {
    if (handler) c.worker_.retire(std::move(handler));
    return;  // answered already
  }
  handler_ = std::move(handler);
  handler_->start();
  if (handler_ && request_ended_ && !end_delivered_) {
    end_delivered_ = true;
    handler_->onRequestEnd();
  }
}

void Http2Stream::onBodyData(const uint8_t* data, size_t len) {
  Http2Connection& c = connection_;
  body_bytes_ += len;
  log_.bytes_in += len;
  last_body_ms_ = uv_now(c.worker_.loop());
  if (body_bytes_ > c.limits_.body_bytes && !body_rejected_) {
    nghttp2_session_consume(c.session_, id_, len);
    rejectBody(413, "body_too_large", "request body exceeds " + std::to_string(c.limits_.body_bytes) + " bytes");
    return;
  }
  if (!handler_ || response_finished_ || body_rejected_) {
    nghttp2_session_consume(c.session_, id_, len);  // nobody wants it
    return;
  }
  if (body_paused_ || !pending_body_.empty()) {
    // Held without reopening the window, so the client stops at the window.
    pending_body_.append(reinterpret_cast<const char*>(data), len);
    return;
  }
  handler_->onRequestBody(reinterpret_cast<const char*>(data), len);
  nghttp2_session_consume(c.session_, id_, len);
}

void Http2Stream::onRequestEnd() {
  request_ended_ = true;
  // As for HTTP/1.1 the end is delivered even while paused, but never
  // before body bytes that are still held.
  if (!handler_ || end_delivered_ || !pending_body_.empty()) return;
  end_delivered_ = true;
  handler_->onRequestEnd();
}

void Http2Stream::resumeRequestBody() {
  if (!body_paused_) return;
  body_paused_ = false;
  last_body_ms_ = uv_now(connection_.worker_.loop());
  if (!pending_body_.empty() || (request_ended_ && !end_delivered_)) {
    // Delivered from the connection's flush, not inside the handler's call.
    connection_.resumed_streams_.push_back(id_);
    connection_.scheduleFlush();
  }
}

void Http2Stream::deliverPendingBody() {
  Http2Connection& c = connection_;
  while (handler_ && !body_paused_ && !pending_body_.empty()) {
    std::string chunk = std::move(pending_body_);
    pending_body_.clear();
    handler_->onRequestBody(chunk.data(), chunk.size());
    nghttp2_session_consume(c.session_, id_, chunk.size());
  }
  if (!handler_ && !pending_body_.empty()) {
    nghttp2_session_consume(c.session_, id_, pending_body_.size());
    pending_body_.clear();
  }
  if (handler_ && pending_body_.empty() && request_ended_ && !end_delivered_) {
    end_delivered_ = true;
    handler_->onRequestEnd();
  }
}

void Http2Stream::rejectBody(int status, std::string_view code, const std::string& message) {
  body_rejected_ = true;
  abortHandler();  // its work is void: an origin must never see a short body as complete
  if (pending_body_.size()) {
    nghttp2_session_consume(connection_.session_, id_, pending_body_.size());
    pending_body_.clear();
  }
  if (response_started_) {
    abortResponse();
  } else {
    sendError(status, code, message, {});
  }
}

// ---- Http2Stream: response ----

void Http2Stream::sendResponseHead(ResponseHead&& head, BodyFraming framing, uint64_t content_length) {
  if (response_started_ || closed_ || reset_sent_ || connection_.finished_) return;
  response_started_ = true;
  log_.status = head.status;
  const bool no_body_status = statusHasNoBody(head.status);
  body_allowed_ = !head_request_ && !no_body_status;

  response_fields_.clear();
  response_fields_.reserve(head.headers.size() + 4);
  response_fields_.emplace_back(":status", std::to_string(head.status));
  bool has_date = false;
  for (Header& h : head.headers) {
    std::string name = lowercase(h.name);
    if (droppedResponseField(name) || !valueIsSendable(h.value)) continue;
    if (name == "date") has_date = true;
    response_fields_.emplace_back(std::move(name), std::move(h.value));
  }
  if (!has_date) {
    // "Date: <value>\r\n"
    const std::string& date = connection_.worker_.dateHeader();
    if (date.size() > 8) response_fields_.emplace_back("date", date.substr(6, date.size() - 8));
  }
  response_fields_.emplace_back("x-request-id", log_.request_id);
  if (!no_body_status) {
    // A HEAD response announces the length a GET would have had.
    if (framing == BodyFraming::kContentLength) {
      response_fields_.emplace_back("content-length", std::to_string(content_length));
    } else if (framing == BodyFraming::kNone) {
      response_fields_.emplace_back("content-length", "0");
    }
  }
  // Corked: submitted with the first body bytes, at the end of the response
  // (then as one HEADERS frame with END_STREAM when there is no body), or on
  // flushResponse().
  head_corked_ = true;
}

void Http2Stream::submitHead(bool end_stream) {
  if (!head_corked_) return;
  head_corked_ = false;
  Http2Connection& c = connection_;
  std::vector<nghttp2_nv> nva;
  nva.reserve(response_fields_.size());
  for (const auto& [name, value] : response_fields_) {
    nva.push_back(makeNv(name, value));
    log_.bytes_out += name.size() + value.size() + 4;
  }
  nghttp2_data_provider provider;
  provider.source.ptr = this;
  provider.read_callback = Http2Connection::readResponseData;
  has_data_provider_ = !end_stream;
  int rv = nghttp2_submit_response(c.session_, id_, nva.data(), nva.size(), end_stream ? nullptr : &provider);
  response_fields_.clear();
  if (rv != 0) {
    // The stream is gone or the session is shutting down.
    has_data_provider_ = false;
    return;
  }
  c.scheduleFlush();
}

void Http2Stream::resumeData() {
  if (has_data_provider_ && !closed_) {
    nghttp2_session_resume_data(connection_.session_, id_);  // fails harmlessly when not deferred
    connection_.scheduleFlush();
  }
}

void Http2Stream::flushResponse() {
  if (head_corked_ && !closed_ && !connection_.finished_) submitHead(false);
}

void Http2Stream::sendResponseBody(const char* data, size_t len) {
  if (!response_started_ || response_finished_ || closed_ || reset_sent_ || len == 0) return;
  if (!body_allowed_) return;
  log_.bytes_out += len;
  out_.append(data, len);
  if (head_corked_) {
    submitHead(false);
  } else {
    resumeData();
  }
  if (buffered() > kHighWater) backed_up_ = true;
}

void Http2Stream::finishResponse() {
  if (!response_started_ || response_finished_) return;
  response_finished_ = true;
  retireHandler();
  if (closed_ || reset_sent_ || connection_.finished_) return;
  if (head_corked_) {
    submitHead(/*end_stream=*/true);
  } else {
    resumeData();
  }
  // A request body still coming is discarded (and stopped by RST_STREAM
  // NO_ERROR once the response is out: see onFrameSend).
  if (!pending_body_.empty()) {
    nghttp2_session_consume(connection_.session_, id_, pending_body_.size());
    pending_body_.clear();
  }
}

void Http2Stream::abortResponse() {
  retireHandler();
  response_finished_ = true;
  head_corked_ = false;
  if (closed_ || reset_sent_ || connection_.finished_) return;
  reset_sent_ = true;
  nghttp2_submit_rst_stream(connection_.session_, NGHTTP2_FLAG_NONE, id_, NGHTTP2_INTERNAL_ERROR);
  connection_.scheduleFlush();
}

void Http2Stream::sendError(int status, std::string_view code, std::string_view message,
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
  sendResponseHead(std::move(head), BodyFraming::kContentLength, body.size());
  sendResponseBody(body.data(), body.size());
  finishResponse();
  if (!response_started_) {
    // The stream could not answer (closed, reset): still end the exchange.
    log_.status = status;
    response_finished_ = true;
    retireHandler();
  }
}

void Http2Stream::logOnce(int status_if_unanswered) {
  if (logged_ || !headers_done_) return;
  logged_ = true;
  if (!response_started_ && log_.status == 0) log_.status = status_if_unanswered;
  const double latency_ms = static_cast<double>(uv_hrtime() - log_.start_ns) / 1e6;
  connection_.worker_.logRequest(log_, latency_ms);
}

}  // namespace isogate
