#include "runtime/http2_connection.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "runtime/http2_stream.h"
#include "runtime/worker.h"

namespace isogate {

namespace {

// Receive windows. The stream window bounds what one paused request body
// may hold in memory; the connection window bounds the whole connection.
constexpr int32_t kStreamWindow = 256 * 1024;
constexpr int32_t kConnectionWindow = 1024 * 1024;
constexpr uint32_t kMaxConcurrentStreams = 128;
// Output gathered from nghttp2 before one Http2Output::sendBytes call.
constexpr size_t kBatchBytes = 64 * 1024;

}  // namespace

// ---- Http2Connection ----

Http2Connection::Http2Connection(Worker& worker, const Limits& limits, std::string remote_addr,
                                 Http2Output& output)
    : worker_(worker),
      limits_(limits),
      remote_addr_(std::move(remote_addr)),
      output_(output),
      alive_(std::make_shared<bool>(true)) {
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  // Windows reopen only as handlers take the body (pauseRequestBody).
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_max_send_header_block_length(
      option, std::max<size_t>(64 * 1024, static_cast<size_t>(limits_.header_bytes) + 16 * 1024));
  nghttp2_session_server_new2(&session_, callbacks(), this, option);
  nghttp2_option_del(option);
}

Http2Connection::~Http2Connection() {
  if (!finished_) {
    finished_ = true;
    abortAllStreams(499);
  }
  tick_timer_.reset();
  // nghttp2_session_del runs no callbacks.
  nghttp2_session_del(session_);
  session_ = nullptr;
  streams_.clear();
  closed_streams_.clear();
  alive_.reset();
}

nghttp2_session_callbacks* Http2Connection::callbacks() {
  static nghttp2_session_callbacks* cbs = [] {
    nghttp2_session_callbacks* c = nullptr;
    nghttp2_session_callbacks_new(&c);
    nghttp2_session_callbacks_set_on_begin_headers_callback(c, onBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(c, onHeader);
    nghttp2_session_callbacks_set_on_invalid_header_callback(c, onInvalidHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, onFrameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, onDataChunkRecv);
    nghttp2_session_callbacks_set_on_frame_send_callback(c, onFrameSend);
    nghttp2_session_callbacks_set_on_stream_close_callback(c, onStreamClose);
    return c;
  }();
  return cbs;
}

void Http2Connection::start() {
  if (finished_) return;
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(limits_.header_bytes)},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, sizeof settings / sizeof settings[0]);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  started_ms_ = last_activity_ms_ = uv_now(worker_.loop());
  startTicking();
  flush();
}

void Http2Connection::startTicking() {
  uint64_t tick = 1000;
  if (limits_.header_timeout_ms > 0) tick = std::min<uint64_t>(tick, limits_.header_timeout_ms / 4);
  if (limits_.idle_timeout_ms > 0) tick = std::min<uint64_t>(tick, limits_.idle_timeout_ms / 4);
  tick = std::max<uint64_t>(tick, 10);
  tick_timer_ = std::make_unique<Timer>(worker_.loop(), [this] { onTick(); });
  tick_timer_->start(tick, tick);
}

void Http2Connection::receive(const char* data, size_t len) {
  if (finished_ || len == 0) return;
  received_ = true;
  last_activity_ms_ = uv_now(worker_.loop());
  ++in_nghttp2_;
  ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), len);
  --in_nghttp2_;
  if (rv < 0) {
    // Bad preface, flooding, or a broken session: GOAWAY and close.
    fatal(rv == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
    return;
  }
  flush();
}

void Http2Connection::onOutputDrained() { flush(); }

void Http2Connection::onPeerClosed() {
  if (finished_) return;
  finished_ = true;
  abortAllStreams(499);
  tick_timer_.reset();
}

void Http2Connection::drain() {
  if (finished_ || draining_) return;
  draining_ = true;
  // Streams above the last one processed are refused; the client may retry
  // them on a new connection.
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
  if (in_nghttp2_ > 0 || in_flush_) {
    scheduleFlush();
  } else {
    flush();
  }
}

void Http2Connection::forceClose() {
  if (finished_) return;
  nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
  abortAllStreams(503);
  // Send the GOAWAY (stream data is no longer read: the streams are gone).
  for (int i = 0; i < 4 && !output_.outputBackedUp(); ++i) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n <= 0) break;
    output_.sendBytes(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  closeNow();
}

void Http2Connection::fatal(uint32_t error_code) {
  if (finished_) return;
  nghttp2_session_terminate_session(session_, error_code);
  ++in_nghttp2_;
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n <= 0) break;
    batch_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    if (batch_.size() > 4 * kBatchBytes) break;
  }
  --in_nghttp2_;
  if (!batch_.empty()) {
    output_.sendBytes(batch_.data(), batch_.size());
    batch_.clear();
  }
  closeNow();
}

void Http2Connection::closeNow() {
  if (finished_) return;
  finished_ = true;
  abortAllStreams(499);
  tick_timer_.reset();
  output_.closeOutput();
}

void Http2Connection::abortAllStreams(int status_if_not_started) {
  // After this no nghttp2 call may run callbacks: the streams are gone.
  for (auto& [id, stream] : streams_) {
    stream->closed_ = true;
    stream->abortHandler();
    stream->logOnce(status_if_not_started);
    closed_streams_.push_back(std::move(stream));
  }
  streams_.clear();
}

Http2Stream* Http2Connection::findStream(int32_t stream_id) const {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

void Http2Connection::releaseClosedStreams() {
  if (closed_streams_.empty()) return;
  // Destroyed after the handlers retired with them (the worker destroys
  // retired handlers before it runs deferred work), so a handler never
  // outlives the Exchange it points to.
  auto streams = std::make_shared<std::vector<std::unique_ptr<Http2Stream>>>(std::move(closed_streams_));
  closed_streams_.clear();
  worker_.defer([streams] {});
}

void Http2Connection::scheduleFlush() {
  if (flush_scheduled_ || finished_) return;
  flush_scheduled_ = true;
  worker_.defer([this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    flush_scheduled_ = false;
    flush();
  });
}

void Http2Connection::flush() {
  if (finished_ || in_flush_ || in_nghttp2_ > 0) return;
  in_flush_ = true;
  for (int round = 0; round < 8; ++round) {
    // Request bodies whose handlers resumed (may submit frames).
    std::vector<int32_t> resumed;
    resumed.swap(resumed_streams_);
    for (int32_t id : resumed) {
      if (Http2Stream* s = findStream(id)) s->deliverPendingBody();
    }
    // Everything nghttp2 has to send, unless the transport is backed up.
    while (!finished_ && !output_.outputBackedUp()) {
      const uint8_t* data = nullptr;
      ++in_nghttp2_;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      --in_nghttp2_;
      if (n < 0) {
        in_flush_ = false;
        batch_.clear();
        fatal(NGHTTP2_INTERNAL_ERROR);
        return;
      }
      if (n == 0) break;
      batch_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
      if (batch_.size() >= kBatchBytes) {
        output_.sendBytes(batch_.data(), batch_.size());
        batch_.clear();
      }
    }
    if (!batch_.empty()) {
      output_.sendBytes(batch_.data(), batch_.size());
      batch_.clear();
    }
    // Handlers whose streams drained may produce again.
    std::vector<int32_t> drained;
    drained.swap(drained_streams_);
    for (int32_t id : drained) {
      Http2Stream* s = findStream(id);
      if (s && s->handler_ && !s->response_finished_) s->handler_->onResponseDrained();
    }
    const bool more = !resumed_streams_.empty() || !drained_streams_.empty() ||
                      (!drained.empty() && nghttp2_session_want_write(session_));
    if (!more || output_.outputBackedUp()) break;
  }
  in_flush_ = false;
  releaseClosedStreams();
  if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) {
    // GOAWAY exchanged and no stream left, or a connection error was sent.
    closeNow();
  }
}

void Http2Connection::onTick() {
  if (finished_) return;
  const uint64_t now = uv_now(worker_.loop());
  if (!saw_request_ && streams_.empty() && limits_.header_timeout_ms > 0 &&
      now - started_ms_ >= limits_.header_timeout_ms && !received_) {
    fatal(NGHTTP2_NO_ERROR);  // nothing at all arrived (not even the preface)
    return;
  }
  if (streams_.empty()) {
    if (limits_.idle_timeout_ms > 0 && now - last_activity_ms_ >= limits_.idle_timeout_ms) {
      drain();
    }
    return;
  }
  last_activity_ms_ = now;  // streams open: not idle
  std::vector<int32_t> stalled_headers;
  std::vector<int32_t> stalled_bodies;
  for (auto& [id, s] : streams_) {
    if (!s->headers_done_) {
      if (limits_.header_timeout_ms > 0 && now - s->headers_started_ms_ >= limits_.header_timeout_ms) {
        stalled_headers.push_back(id);
      }
    } else if (s->handler_ && !s->request_ended_ && !s->body_paused_ && s->pending_body_.empty() &&
               !s->response_finished_ && limits_.idle_timeout_ms > 0 &&
               now - s->last_body_ms_ >= limits_.idle_timeout_ms) {
      stalled_bodies.push_back(id);
    }
  }
  if (!stalled_headers.empty()) {
    // A header block that never ends holds the whole connection.
    fatal(NGHTTP2_PROTOCOL_ERROR);
    return;
  }
  for (int32_t id : stalled_bodies) {
    if (Http2Stream* s = findStream(id)) s->rejectBody(408, "request_timeout", "request body stalled");
  }
  if (!stalled_bodies.empty()) flush();
}

// ---- nghttp2 callbacks ----

int Http2Connection::onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  auto* self = static_cast<Http2Connection*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  const int32_t id = frame->hd.stream_id;
  auto stream = std::make_unique<Http2Stream>(*self, id);
  nghttp2_session_set_stream_user_data(self->session_, id, stream.get());
  self->streams_[id] = std::move(stream);
  return 0;
}

int Http2Connection::onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                              size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                              void* user_data) {
  auto* self = static_cast<Http2Connection*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  Http2Stream* s = self->findStream(frame->hd.stream_id);
  if (!s) return 0;
  // RFC 9113 6.5.2's header list size: name + value + 32 per field.
  s->header_list_bytes_ += namelen + valuelen + 32;
  if (s->header_list_bytes_ > self->limits_.header_bytes) {
    s->headers_too_large_ = true;
    if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) return 0;
  }
  if (frame->headers.cat != NGHTTP2_HCAT_REQUEST || s->headers_too_large_) {
    return 0;  // trailers are not passed on; over-size fields are dropped
  }
  std::string_view n(reinterpret_cast<const char*>(name), namelen);
  std::string_view v(reinterpret_cast<const char*>(value), valuelen);
  // nghttp2 has validated the fields (RFC 9113 8.2 and 8.3): lower-case
  // names, no connection-specific fields, pseudo-headers once and first.
  if (!n.empty() && n[0] == ':') {
    if (n == ":method") {
      s->request_.method.assign(v);
    } else if (n == ":path") {
      s->request_.target.assign(v);
    } else if (n == ":authority") {
      s->authority_.assign(v);
      s->has_authority_ = true;
    }
    return 0;
  }
  if (n == "cookie") {
    if (!s->cookie_.empty()) s->cookie_.append("; ");
    s->cookie_.append(v);
    return 0;
  }
  s->request_.headers.push_back({std::string(n), std::string(v)});
  return 0;
}

int Http2Connection::onInvalidHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t*,
                                     size_t, const uint8_t*, size_t, uint8_t, void*) {
  // A field nghttp2 would silently drop (bad characters, surrounding
  // whitespace): the request is malformed (RFC 9113 8.1.1).
  nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_PROTOCOL_ERROR);
  return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

int Http2Connection::onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  auto* self = static_cast<Http2Connection*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  Http2Stream* s = self->findStream(frame->hd.stream_id);
  if (!s) return 0;
  const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    if (end_stream) s->request_ended_ = true;
    s->onHeadersComplete();
    return 0;
  }
  if (end_stream) s->onRequestEnd();
  return 0;
}

int Http2Connection::onDataChunkRecv(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                                     size_t len, void* user_data) {
  auto* self = static_cast<Http2Connection*>(user_data);
  Http2Stream* s = self->findStream(stream_id);
  if (!s || s->closed_) {
    nghttp2_session_consume(session, stream_id, len);
    return 0;
  }
  s->onBodyData(data, len);
  return 0;
}

int Http2Connection::onFrameSend(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
  auto* self = static_cast<Http2Connection*>(user_data);
  if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
      !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    return 0;
  }
  Http2Stream* s = self->findStream(frame->hd.stream_id);
  if (s && !s->request_ended_ && !s->reset_sent_) {
    // The response is complete but the request body is not: tell the client
    // to stop sending it (RFC 9113 8.1).
    s->reset_sent_ = true;
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, s->id_, NGHTTP2_NO_ERROR);
  }
  return 0;
}

int Http2Connection::onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user_data) {
  auto* self = static_cast<Http2Connection*>(user_data);
  auto it = self->streams_.find(stream_id);
  if (it == self->streams_.end()) return 0;
  std::unique_ptr<Http2Stream> stream = std::move(it->second);
  self->streams_.erase(it);
  stream->closed_ = true;
  // A handler still attached means the response did not complete: the
  // client reset the stream or the connection failed.
  stream->abortHandler();
  if (stream->pending_body_.size()) {
    nghttp2_session_consume_connection(self->session_, stream->pending_body_.size());
    stream->pending_body_.clear();
  }
  stream->logOnce(499);
  self->closed_streams_.push_back(std::move(stream));
  return 0;
}

ssize_t Http2Connection::readResponseData(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                                          uint32_t* data_flags, nghttp2_data_source* source, void* user_data) {
  auto* self = static_cast<Http2Connection*>(user_data);
  auto* s = static_cast<Http2Stream*>(source->ptr);
  const size_t n = std::min(length, s->buffered());
  if (n > 0) {
    memcpy(buf, s->out_.data() + s->out_offset_, n);
    s->out_offset_ += n;
    if (s->out_offset_ == s->out_.size()) {
      s->out_.clear();
      s->out_offset_ = 0;
    } else if (s->out_offset_ >= Http2Stream::kLowWater && s->out_offset_ * 2 >= s->out_.size()) {
      s->out_.erase(0, s->out_offset_);
      s->out_offset_ = 0;
    }
    if (s->backed_up_ && s->buffered() <= Http2Stream::kLowWater) {
      s->backed_up_ = false;
      self->drained_streams_.push_back(s->id_);
    }
  }
  if (s->buffered() == 0 && s->response_finished_) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  if (n == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(n);
}

}  // namespace isogate
