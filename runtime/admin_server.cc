#include "runtime/admin_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string_view>

#include "runtime/admin_api.h"
#include "runtime/loop_mailbox.h"
#include "runtime/request_parser.h"
#include "runtime/timer.h"

namespace isogate {

namespace {

constexpr size_t kMaxHeadBytes = 8 * 1024;
// Request bodies (POST /admin/cache/purge) are small JSON documents.
constexpr uint64_t kMaxBodyBytes = 64 * 1024;
// A request must arrive whole within this long after the connection opened
// or the previous response went out; idle connections close after it too.
constexpr uint64_t kRequestTimeoutMs = 10000;
constexpr size_t kMaxConnections = 64;
// Pipelined requests wait (the socket is not read) while this much response
// data is queued: /metrics answers can be large.
constexpr size_t kMaxQueuedBytes = 1024 * 1024;

}  // namespace

// One admin client connection. Admin thread only; deletes itself after its
// handle is closed.
class AdminConnection final : private RequestParserDelegate {
 public:
  explicit AdminConnection(AdminServer& server)
      : server_(server), parser_(*this, kMaxHeadBytes, kMaxBodyBytes) {
    uv_tcp_init(server_.loop(), &tcp_);
    tcp_.data = this;
    server_.addConnection(this);
  }

  void accept(uv_stream_t* listener, bool over_limit) {
    if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_)) != 0 || over_limit) {
      close();
      return;
    }
    timer_ = std::make_unique<Timer>(server_.loop(), [this] { close(); });
    timer_->start(kRequestTimeoutMs);
    startReading();
  }

  void close() {
    if (closing_) return;
    closing_ = true;
    timer_.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), [](uv_handle_t* handle) {
      delete static_cast<AdminConnection*>(handle->data);
    });
  }

  AdminConnection* prev = nullptr;
  AdminConnection* next = nullptr;

 private:
  struct WriteRequest {
    uv_write_t req;
    std::string data;
    AdminConnection* connection;
  };

  ~AdminConnection() override { server_.removeConnection(this); }

  // RequestParserDelegate. Bodies over kMaxBodyBytes are refused by the parser.
  void onRequestHead(RequestHead&& head) override {
    head_ = std::move(head);
    body_.clear();
  }
  void onRequestBody(const char* data, size_t len) override { body_.append(data, len); }
  void onRequestComplete() override {}

  void startReading() {
    if (reading_ || closing_) return;
    reading_ = true;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), onAlloc, onRead);
  }

  void stopReading() {
    if (!reading_) return;
    reading_ = false;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  }

  static void onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
    auto* self = static_cast<AdminConnection*>(handle->data);
    *buf = uv_buf_init(self->server_.readBuffer(), AdminServer::kReadBufferSize);
  }

  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* self = static_cast<AdminConnection*>(stream->data);
    if (nread > 0) {
      self->processInput(buf->base, static_cast<size_t>(nread));
    } else if (nread < 0) {
      self->close();  // EOF or error: nothing is owed on a half-sent request
    }
  }

  void processInput(const char* data, size_t len) {
    while (len > 0 && !closing_ && !close_after_write_) {
      size_t consumed = 0;
      RequestParser::Status status = parser_.feed(data, len, &consumed);
      if (status == RequestParser::Status::kError) {
        const RequestParser::Error& error = parser_.error();
        AdminResponse r;
        r.status = error.status;
        r.body = "{\"error\":\"bad_request\",\"message\":\"malformed or unsupported request\"}\n";
        send(r, false, false);
        return;
      }
      if (status == RequestParser::Status::kNeedMore) return;
      data += consumed;
      len -= consumed;
      answer();
      if (closing_ || close_after_write_) return;
      timer_->start(kRequestTimeoutMs);
      if (queued_ > kMaxQueuedBytes && len > 0) {
        pending_.assign(data, len);
        stopReading();
        return;
      }
    }
  }

  void answer() {
    // Only POST /admin/cache/purge takes a body; elsewhere a body is refused
    // as before bodies were parsed at all.
    if (head_.hasBody() && head_.target.substr(0, head_.target.find('?')) != "/admin/cache/purge") {
      AdminResponse r;
      r.status = 413;
      r.body = "{\"error\":\"bad_request\",\"message\":\"malformed or unsupported request\"}\n";
      send(r, false, false);
      return;
    }
    const Header* authorization = nullptr;
    int count = 0;
    for (const Header& h : head_.headers) {
      if (equalsIgnoreCase(h.name, "authorization")) {
        authorization = &h;
        ++count;
      }
    }
    if (count > 1) {
      AdminResponse r;
      r.status = 400;
      r.body = "{\"error\":\"bad_request\",\"message\":\"more than one Authorization header\"}\n";
      send(r, false, false);
      return;
    }
    AdminResponse r =
        server_.api().handle(head_.method, head_.target, authorization ? &authorization->value : nullptr, body_);
    send(r, head_.method == "HEAD", head_.keep_alive && !server_.stopping());
  }

  void send(const AdminResponse& r, bool head_only, bool keep_alive) {
    std::string out;
    out.reserve(256 + (head_only ? 0 : r.body.size()));
    appendStatusLine(out, r.status, "");
    appendHeader(out, "Content-Type", r.content_type);
    appendHeader(out, "Content-Length", std::to_string(r.body.size()));
    appendHeader(out, "Cache-Control", "no-store");
    for (const Header& h : r.headers) appendHeader(out, h.name, h.value);
    if (!keep_alive) appendHeader(out, "Connection", "close");
    out.append("\r\n");
    if (!head_only) out.append(r.body);
    if (!keep_alive) {
      close_after_write_ = true;
      stopReading();
    }
    write(std::move(out));
  }

  void write(std::string data) {
    auto* w = new WriteRequest;
    w->data = std::move(data);
    w->connection = this;
    w->req.data = w;
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    queued_ += w->data.size();
    if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, onWrite) != 0) {
      queued_ -= w->data.size();
      delete w;
      close();
    }
  }

  static void onWrite(uv_write_t* req, int status) {
    auto* w = static_cast<WriteRequest*>(req->data);
    AdminConnection* self = w->connection;
    self->queued_ -= w->data.size();
    delete w;
    // The connection is still alive: uv_close runs write callbacks first.
    if (self->closing_) return;
    if (status != 0 || (self->close_after_write_ && self->queued_ == 0)) {
      self->close();
      return;
    }
    if (!self->pending_.empty() && self->queued_ <= kMaxQueuedBytes) {
      std::string input = std::move(self->pending_);
      self->pending_.clear();
      self->processInput(input.data(), input.size());
      if (self->pending_.empty()) self->startReading();
    }
  }

  AdminServer& server_;
  uv_tcp_t tcp_;
  RequestParser parser_;
  RequestHead head_;
  std::string body_;
  std::unique_ptr<Timer> timer_;
  std::string pending_;  // pipelined input waiting for queued responses to drain
  size_t queued_ = 0;    // response bytes handed to uv_write and not yet written
  bool reading_ = false;
  bool closing_ = false;
  bool close_after_write_ = false;
};

AdminServer::AdminServer(AdminApi& api) : api_(api), read_buffer_(new char[kReadBufferSize]) {
  uv_loop_init(&loop_);
  uv_tcp_init(&loop_, &listener_);
  listener_.data = this;
  listener_open_ = true;
  mailbox_ = LoopMailbox::create(&loop_);
}

std::unique_ptr<AdminServer> AdminServer::bind(const ListenAddress& address, AdminApi& api, std::string* error) {
  std::unique_ptr<AdminServer> server(new AdminServer(api));
  sockaddr_storage addr{};
  unsigned flags = 0;
  if (uv_ip4_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(&addr)) != 0) {
    if (uv_ip6_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
      *error = "invalid address " + address.host;
      return nullptr;
    }
    flags = UV_TCP_IPV6ONLY;
  }
  // No SO_REUSEPORT here (unlike the workers' sockets): a second process on
  // the same admin port must fail, not silently share its scrapes.
  int r = uv_tcp_bind(&server->listener_, reinterpret_cast<sockaddr*>(&addr), flags);
  if (r == 0) r = uv_listen(reinterpret_cast<uv_stream_t*>(&server->listener_), 128, onConnection);
  if (r != 0) {
    *error = uv_strerror(r);
    return nullptr;
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&server->listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  server->port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                    : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return server;
}

AdminServer::~AdminServer() {
  stop();
  uv_loop_close(&loop_);
}

void AdminServer::start() {
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
}

void AdminServer::stop() {
  if (thread_.joinable()) {
    mailbox_->post([this] { closeAll(); });
    thread_.join();
  } else if (!stopping_) {
    closeAll();  // never started (or failed to bind): close on this thread
  }
  uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks still due
}

void AdminServer::closeAll() {
  if (stopping_) return;
  stopping_ = true;
  if (listener_open_) {
    listener_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  }
  for (AdminConnection* c = connections_; c;) {
    AdminConnection* next = c->next;
    c->close();
    c = next;
  }
  mailbox_->close();
}

void AdminServer::onConnection(uv_stream_t* listener, int status) {
  auto* self = static_cast<AdminServer*>(listener->data);
  if (status != 0 || self->stopping_) return;
  const bool over_limit = self->connection_count_ >= kMaxConnections;
  auto* connection = new AdminConnection(*self);
  connection->accept(listener, over_limit);
}

void AdminServer::addConnection(AdminConnection* connection) {
  connection->next = connections_;
  if (connections_) connections_->prev = connection;
  connections_ = connection;
  ++connection_count_;
}

void AdminServer::removeConnection(AdminConnection* connection) {
  if (connection->prev) connection->prev->next = connection->next;
  if (connection->next) connection->next->prev = connection->prev;
  if (connections_ == connection) connections_ = connection->next;
  --connection_count_;
}

}  // namespace isogate
