// runtime/http2_connection.cc: an Http2Connection on a real Worker's loop,
// driven by an in-memory nghttp2 client session (no sockets). Covers the
// request/response mapping, 100 concurrent streams, flow control both ways,
// resets, malformed requests, limits, drain and a garbage preface.

#include "runtime/http2_connection.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "runtime/config.h"
#include "runtime/deployment.h"
#include "runtime/worker.h"

namespace isogate {
namespace {

// ---- the transport side ----

class MemoryOutput final : public Http2Output {
 public:
  void sendBytes(const char* data, size_t len) override {
    ASSERT_FALSE(closed) << "bytes sent after closeOutput()";
    bytes.append(data, len);
  }
  bool outputBackedUp() const override { return backed_up; }
  void closeOutput() override {
    ++close_calls;
    closed = true;
  }
  std::string bytes;
  bool backed_up = false;
  bool closed = false;
  int close_calls = 0;
};

// ---- the client side: an nghttp2 client session in memory ----

struct ClientStream {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  bool closed = false;
  uint32_t error_code = 0;
  // Request body fed by the data provider.
  std::string request_body;
  size_t request_offset = 0;
};

class Http2Client {
 public:
  explicit Http2Client(uint32_t window = 1 << 20) {
    nghttp2_session_callbacks* cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, onHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, onData);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, onClose);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, onFrame);
    nghttp2_option* option;
    nghttp2_option_new(&option);
    // Until our SETTINGS arrive, send whatever the test asks for (nghttp2
    // would otherwise hold streams beyond 100 back).
    nghttp2_option_set_peer_max_concurrent_streams(option, 1000);
    nghttp2_session_client_new2(&session_, cbs, this, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, window}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, 1);
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, static_cast<int32_t>(window));
  }
  ~Http2Client() { nghttp2_session_del(session_); }

  using Fields = std::vector<std::pair<std::string, std::string>>;

  // Submits a request with exactly these fields (pseudo-headers included).
  int32_t submitRaw(const Fields& fields, std::optional<std::string> body = std::nullopt) {
    std::vector<nghttp2_nv> nva;
    for (const auto& [n, v] : fields) {
      nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                     reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
                     NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_data_provider provider;
    provider.read_callback = readBody;
    auto pending = std::make_unique<ClientStream>();
    if (body) pending->request_body = *body;
    provider.source.ptr = pending.get();
    int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), body ? &provider : nullptr,
                                        nullptr);
    if (id > 0) streams_[id] = std::move(pending);
    return id;
  }
  int32_t request(const std::string& method, const std::string& path, Fields extra = {},
                  std::optional<std::string> body = std::nullopt) {
    Fields fields = {{":method", method}, {":scheme", "https"}, {":authority", "example.com"}, {":path", path}};
    for (auto& f : extra) fields.push_back(std::move(f));
    return submitRaw(fields, std::move(body));
  }

  std::string take() {
    std::string out;
    for (;;) {
      const uint8_t* data;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) break;
      out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    return out;
  }
  int feed(const std::string& bytes) {
    ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    return rv < 0 ? static_cast<int>(rv) : 0;
  }

  ClientStream& stream(int32_t id) { return *streams_.at(id); }
  nghttp2_session* session() { return session_; }
  bool goaway = false;
  uint32_t goaway_error = 0;
  int32_t goaway_last_stream = -1;

 private:
  static ClientStream* find(void* user, int32_t id) {
    auto* self = static_cast<Http2Client*>(user);
    auto it = self->streams_.find(id);
    return it == self->streams_.end() ? nullptr : it->second.get();
  }
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                      const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    ClientStream* s = find(user, frame->hd.stream_id);
    if (!s) return 0;
    std::string n(reinterpret_cast<const char*>(name), namelen);
    std::string v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") s->status = atoi(v.c_str());
    s->headers[n] = v;
    return 0;
  }
  static int onData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len, void* user) {
    if (ClientStream* s = find(user, id)) s->body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int onClose(nghttp2_session*, int32_t id, uint32_t error_code, void* user) {
    if (ClientStream* s = find(user, id)) {
      s->closed = true;
      s->error_code = error_code;
    }
    return 0;
  }
  static int onFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<Http2Client*>(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      self->goaway = true;
      self->goaway_error = frame->goaway.error_code;
      self->goaway_last_stream = frame->goaway.last_stream_id;
    }
    return 0;
  }
  static ssize_t readBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void*) {
    auto* s = static_cast<ClientStream*>(source->ptr);
    size_t n = std::min(length, s->request_body.size() - s->request_offset);
    memcpy(buf, s->request_body.data() + s->request_offset, n);
    s->request_offset += n;
    if (s->request_offset == s->request_body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::unique_ptr<ClientStream>> streams_;
};

// ---- handlers the tests script ----

struct HandlerState {
  Exchange* exchange = nullptr;
  std::string body;
  bool started = false;
  bool ended = false;
  bool aborted = false;
  int drained = 0;
};

struct Hooks {
  std::function<void(HandlerState&)> start;
  std::function<void(HandlerState&)> body;
  std::function<void(HandlerState&)> end;
  std::function<void(HandlerState&)> drained;
};

class TestHandler final : public ExchangeHandler {
 public:
  TestHandler(std::shared_ptr<HandlerState> state, const Hooks& hooks) : state_(std::move(state)), hooks_(hooks) {}
  void start() override {
    state_->started = true;
    if (hooks_.start) hooks_.start(*state_);
  }
  void onRequestBody(const char* data, size_t len) override {
    EXPECT_FALSE(state_->ended);
    state_->body.append(data, len);
    if (hooks_.body) hooks_.body(*state_);
  }
  void onRequestEnd() override {
    EXPECT_FALSE(state_->ended);
    state_->ended = true;
    if (hooks_.end) hooks_.end(*state_);
  }
  void onResponseDrained() override {
    ++state_->drained;
    if (hooks_.drained) hooks_.drained(*state_);
  }
  void onExchangeAborted() override {
    EXPECT_FALSE(state_->aborted);
    state_->aborted = true;
    state_->exchange = nullptr;
  }

 private:
  std::shared_ptr<HandlerState> state_;
  const Hooks& hooks_;
};

void respond(Exchange& exchange, int status, const std::string& body, HeaderList headers = {}) {
  ResponseHead head;
  head.status = status;
  head.headers = std::move(headers);
  exchange.sendResponseHead(std::move(head), BodyFraming::kContentLength, body.size());
  exchange.sendResponseBody(body.data(), body.size());
  exchange.finishResponse();
}


// A minimal HTTP/1.1 origin on the worker's loop: answers each request with
// the raw bytes it received (head and body), then closes.
class LoopbackOrigin {
 public:
  // Binds now (so the port can go into the config), listens on `loop` later.
  LoopbackOrigin() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 16);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  void start(uv_loop_t* loop) {
    uv_tcp_init(loop, &server_);
    server_.data = this;
    uv_tcp_open(&server_, fd_);
    uv_listen(reinterpret_cast<uv_stream_t*>(&server_), 16, onConnection);
  }
  void close() { uv_close(reinterpret_cast<uv_handle_t*>(&server_), nullptr); }
  int port = 0;
  int requests = 0;

 private:
  struct Conn {
    uv_tcp_t tcp;
    LoopbackOrigin* origin;
    std::string in;
    bool answered = false;
  };
  static void onConnection(uv_stream_t* server, int) {
    auto* self = static_cast<LoopbackOrigin*>(server->data);
    auto* c = new Conn;
    c->origin = self;
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp));
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&c->tcp),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          static char storage[65536];
          *buf = uv_buf_init(storage, sizeof storage);
        },
        onRead);
  }
  static void onRead(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
    auto* c = static_cast<Conn*>(stream->data);
    if (n < 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(stream), [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
      return;
    }
    c->in.append(buf->base, static_cast<size_t>(n));
    const size_t head_end = c->in.find("\r\n\r\n");
    if (c->answered || head_end == std::string::npos) return;
    const bool chunked = c->in.find("Transfer-Encoding: chunked") < head_end;
    if (chunked && c->in.find("\r\n0\r\n\r\n", head_end) == std::string::npos) return;
    c->answered = true;
    ++c->origin->requests;
    auto* out = new std::string("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                                "Content-Length: " + std::to_string(c->in.size()) + "\r\n\r\n" + c->in);
    auto* req = new uv_write_t;
    req->data = out;
    uv_buf_t b = uv_buf_init(out->data(), out->size());
    uv_write(req, stream, &b, 1, [](uv_write_t* r, int) {
      delete static_cast<std::string*>(r->data);
      uv_close(reinterpret_cast<uv_handle_t*>(r->handle), [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
      delete r;
    });
  }
  uv_tcp_t server_;
  int fd_ = -1;
};

std::shared_ptr<const Deployment> testDeployment(int origin_port = 9) {
  const char* text = R"({
    "listen": ["127.0.0.1:0"],
    "origins": {"o": {"url": "http://127.0.0.1:PORT"}},
    "routes": [{"name": "api", "match": {"path": "/api/*"}, "proxy": {"origin": "o", "strip_prefix": "/api"}}]})";
  std::string config = text;
  config.replace(config.find("PORT"), 4, std::to_string(origin_port));
  return std::make_shared<const Deployment>(parseConfig(config, "/tmp/isogate.json"), Deployment::Use::kServe);
}

// Frames (type, stream id, error code for RST_STREAM/GOAWAY) in raw server output.
struct RawFrame {
  uint8_t type;
  int32_t stream_id;
  uint32_t error_code;
};
std::vector<RawFrame> parseFrames(const std::string& bytes) {
  std::vector<RawFrame> frames;
  size_t pos = 0;
  while (pos + 9 <= bytes.size()) {
    auto b = [&](size_t i) { return static_cast<uint8_t>(bytes[pos + i]); };
    const size_t len = (size_t(b(0)) << 16) | (size_t(b(1)) << 8) | b(2);
    RawFrame f{b(3), static_cast<int32_t>(((b(5) & 0x7f) << 24) | (b(6) << 16) | (b(7) << 8) | b(8)), 0};
    if (pos + 9 + len > bytes.size()) break;
    auto u32 = [&](size_t i) {
      return (uint32_t(b(9 + i)) << 24) | (uint32_t(b(10 + i)) << 16) | (uint32_t(b(11 + i)) << 8) | b(12 + i);
    };
    if (f.type == NGHTTP2_RST_STREAM && len >= 4) f.error_code = u32(0);
    if (f.type == NGHTTP2_GOAWAY && len >= 8) f.error_code = u32(4);
    frames.push_back(f);
    pos += 9 + len;
  }
  return frames;
}

class Http2ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char path[] = "/tmp/isogate-h2-log-XXXXXX";
    log_fd_ = mkstemp(path);
    log_path_ = path;
    log_output_ = std::make_unique<LogOutput>(log_fd_);
    worker_ = std::make_unique<Worker>(Worker::Options{}, testDeployment(), *log_output_);
  }
  void TearDown() override {
    connection_.reset();
    worker_->drain(0);
    for (int i = 0; i < 20; ++i) uv_run(worker_->loop(), UV_RUN_NOWAIT);
    worker_.reset();
    close(log_fd_);
    unlink(log_path_.c_str());
  }

  // Replaces the worker with one serving `deployment`.
  void rebuildWorker(std::shared_ptr<const Deployment> deployment) {
    worker_->drain(0);
    for (int i = 0; i < 20; ++i) uv_run(worker_->loop(), UV_RUN_NOWAIT);
    worker_ = std::make_unique<Worker>(Worker::Options{}, std::move(deployment), *log_output_);
  }

  void startConnection(bool test_dispatcher = true) {
    connection_ = std::make_unique<Http2Connection>(*worker_, limits_, "192.0.2.7", output_);
    if (test_dispatcher) {
      connection_->setDispatcher([this](Exchange& exchange) -> std::unique_ptr<ExchangeHandler> {
        auto state = std::make_shared<HandlerState>();
        state->exchange = &exchange;
        states_.push_back(state);
        return std::make_unique<TestHandler>(state, hooks_);
      });
    }
    connection_->start();
  }

  // Moves bytes both ways and runs the worker's deferred work until quiet.
  void pump(int max_rounds = 2000) {
    int quiet = 0;
    for (int i = 0; i < max_rounds && quiet < 3; ++i) {
      bool progress = false;
      std::string to_server = client_.take();
      if (!to_server.empty() && connection_ && !output_.closed) {
        connection_->receive(to_server.data(), to_server.size());
        progress = true;
      }
      uv_run(worker_->loop(), UV_RUN_NOWAIT);
      if (!output_.bytes.empty()) {
        std::string to_client;
        to_client.swap(output_.bytes);
        raw_output_.append(to_client);
        client_.feed(to_client);
        progress = true;
      }
      quiet = progress ? 0 : quiet + 1;
    }
  }

  std::string readLog() {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  Limits limits_;
  int log_fd_ = -1;
  std::string log_path_;
  std::unique_ptr<LogOutput> log_output_;
  std::unique_ptr<Worker> worker_;
  MemoryOutput output_;
  std::string raw_output_;
  Http2Client client_;
  std::unique_ptr<Http2Connection> connection_;
  Hooks hooks_;
  std::vector<std::shared_ptr<HandlerState>> states_;
};

TEST_F(Http2ConnectionTest, RequestIsMappedAndResponseReturns) {
  hooks_.end = [](HandlerState& s) {
    respond(*s.exchange, 200, "hello",
            {{"Content-Type", "text/plain"}, {"Connection", "keep-alive"}, {"X-Custom", "yes"},
             {"Transfer-Encoding", "chunked"}, {"Keep-Alive", "timeout=5"}, {"Upgrade", "h2c"}});
  };
  startConnection();
  int32_t id = client_.request("GET", "/a/../b?x=1",
                               {{"cookie", "a=1"}, {"user-agent", "test-agent"}, {"cookie", "b=2"},
                                {"x-request-id", "abc-123"}, {"accept", "*/*"}});
  pump();
  ASSERT_EQ(states_.size(), 1u);
  const HandlerState& s = *states_[0];
  EXPECT_TRUE(s.started);
  EXPECT_TRUE(s.ended);
  EXPECT_FALSE(s.aborted);

  ClientStream& r = client_.stream(id);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.error_code, 0u);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.headers["content-length"], "5");
  EXPECT_EQ(r.headers["content-type"], "text/plain");
  EXPECT_EQ(r.headers["x-custom"], "yes");
  EXPECT_EQ(r.headers["x-request-id"], "abc-123");
  EXPECT_FALSE(r.headers["date"].empty());
  EXPECT_EQ(r.headers.count("connection"), 0u);
  EXPECT_EQ(r.headers.count("transfer-encoding"), 0u);
  EXPECT_EQ(r.headers.count("keep-alive"), 0u);
  EXPECT_EQ(r.headers.count("upgrade"), 0u);
  EXPECT_FALSE(output_.closed);
}

TEST_F(Http2ConnectionTest, ExchangeSeesTheRequestAsHttp11WouldShowIt) {
  std::string method, path, normalized, query, host, cookie, id, ua, remote, host_header;
  bool secure = false, has_body = true;
  hooks_.start = [&](HandlerState& s) {
    const RequestHead& req = s.exchange->request();
    method = req.method;
    path = req.path;
    query = req.query;
    host = req.host;
    has_body = req.hasBody();
    if (const Header* c = findHeader(req.headers, "cookie")) cookie = c->value;
    if (const Header* h = findHeader(req.headers, "host")) host_header = h->value;
    normalized = s.exchange->normalizedPath();
    id = s.exchange->requestId();
    ua = s.exchange->logEntry().user_agent;
    remote = s.exchange->remoteAddress();
    secure = s.exchange->secure();
    s.exchange->sendError(418, "teapot", "short and stout", {});
  };
  startConnection();
  int32_t sid = client_.request("GET", "/v1/%2e%2e/x/./y?q=1&r=2",
                                {{"cookie", "a=1"}, {"user-agent", "ua/1"}, {"cookie", "b=2"}, {"cookie", "c=3"}});
  pump();
  EXPECT_EQ(method, "GET");
  EXPECT_EQ(path, "/v1/%2e%2e/x/./y");
  EXPECT_EQ(normalized, "/x/y");
  EXPECT_EQ(query, "?q=1&r=2");
  EXPECT_EQ(host, "example.com");
  EXPECT_EQ(host_header, "example.com");
  EXPECT_EQ(cookie, "a=1; b=2; c=3");
  EXPECT_EQ(ua, "ua/1");
  EXPECT_EQ(remote, "192.0.2.7");
  EXPECT_TRUE(secure);
  EXPECT_FALSE(has_body);
  EXPECT_EQ(id.size(), 36u);  // generated UUID

  ClientStream& r = client_.stream(sid);
  EXPECT_EQ(r.status, 418);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"], "teapot");
  EXPECT_EQ(body["message"], "short and stout");
  EXPECT_EQ(body["request_id"], id);
  EXPECT_EQ(r.headers["x-request-id"], id);
  EXPECT_EQ(r.headers["content-type"], "application/json");
}

TEST_F(Http2ConnectionTest, WorkerDispatchAnswersUnroutedRequestsAndLogsThem) {
  startConnection(/*test_dispatcher=*/false);
  int32_t id = client_.request("GET", "/nope", {{"x-request-id", "log-me-1"}});
  int32_t bad = client_.request("OPTIONS", "*");
  pump();
  ClientStream& r = client_.stream(id);
  EXPECT_EQ(r.status, 404);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"], "no_route");
  EXPECT_EQ(body["request_id"], "log-me-1");
  // A path nghttp2 lets through but normalizePath refuses: 400 as for HTTP/1.1.
  EXPECT_EQ(client_.stream(bad).status, 400);

  std::string log;
  for (int i = 0; i < 100 && log.find("log-me-1") == std::string::npos; ++i) {
    uv_run(worker_->loop(), UV_RUN_NOWAIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = readLog();
  }
  ASSERT_NE(log.find("log-me-1"), std::string::npos) << log;
  auto line = nlohmann::json::parse(log.substr(0, log.find('\n')));
  EXPECT_EQ(line["status"], 404);
  EXPECT_EQ(line["path"], "/nope");
  EXPECT_EQ(line["method"], "GET");
}

TEST_F(Http2ConnectionTest, HundredConcurrentStreams) {
  startConnection();
  std::vector<int32_t> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(client_.request("GET", "/item/" + std::to_string(i)));
  pump();
  ASSERT_EQ(states_.size(), 100u);
  EXPECT_EQ(connection_->openStreams(), 100u);
  for (auto& s : states_) {
    EXPECT_TRUE(s->ended);
    EXPECT_FALSE(s->aborted);
  }
  // Answer in reverse order: streams are independent.
  for (auto it = states_.rbegin(); it != states_.rend(); ++it) {
    Exchange& e = *(*it)->exchange;
    respond(e, 200, "body of " + e.request().path);
  }
  pump();
  for (int i = 0; i < 100; ++i) {
    ClientStream& r = client_.stream(ids[i]);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "body of /item/" + std::to_string(i));
  }
  EXPECT_EQ(connection_->openStreams(), 0u);
}

TEST_F(Http2ConnectionTest, LargeRequestBodyFollowsHandlerFlowControl) {
  const size_t kSize = 4 * 1024 * 1024;
  std::string payload(kSize, '\0');
  for (size_t i = 0; i < kSize; ++i) payload[i] = static_cast<char>('a' + i % 23);
  size_t pause_at = 512 * 1024;
  hooks_.start = [](HandlerState& s) { s.exchange->pauseRequestBody(); };
  hooks_.body = [&](HandlerState& s) {
    if (s.body.size() >= pause_at) {
      pause_at += 512 * 1024;
      s.exchange->pauseRequestBody();
    }
  };
  hooks_.end = [](HandlerState& s) { respond(*s.exchange, 200, std::to_string(s.body.size())); };
  startConnection();
  int32_t id = client_.request("POST", "/upload", {{"content-length", std::to_string(kSize)}}, payload);
  pump();
  ASSERT_EQ(states_.size(), 1u);
  HandlerState& s = *states_[0];
  // Paused from the start: nothing delivered, and the client stopped at the
  // stream window instead of sending everything.
  EXPECT_TRUE(s.body.empty());
  EXPECT_LE(client_.stream(id).request_offset, 256u * 1024);
  EXPECT_GT(client_.stream(id).request_offset, 0u);

  int rounds = 0;
  while (!s.ended && rounds++ < 100) {
    size_t before = s.body.size();
    s.exchange->resumeRequestBody();
    pump();
    // Each resume lets through what was held plus at most a window more
    // before the next pause takes effect.
    EXPECT_LE(s.body.size() - before, 512u * 1024 + 256u * 1024 + 64u * 1024);
  }
  EXPECT_TRUE(s.ended);
  EXPECT_EQ(s.body.size(), kSize);
  EXPECT_TRUE(s.body == payload);
  EXPECT_EQ(client_.stream(id).status, 200);
  EXPECT_EQ(client_.stream(id).body, std::to_string(kSize));
}

TEST_F(Http2ConnectionTest, LargeResponseHonoursBackpressure) {
  const size_t kSize = 4 * 1024 * 1024;
  size_t sent = 0;
  bool saw_backed_up = false;
  auto produce = [&](HandlerState& s) {
    static const std::string chunk(16 * 1024, 'z');
    while (sent < kSize && !s.exchange->responseBackedUp()) {
      s.exchange->sendResponseBody(chunk.data(), chunk.size());
      sent += chunk.size();
    }
    if (s.exchange->responseBackedUp()) saw_backed_up = true;
    if (sent >= kSize) s.exchange->finishResponse();
  };
  hooks_.end = [&](HandlerState& s) {
    ResponseHead head;
    s.exchange->sendResponseHead(std::move(head), BodyFraming::kChunked, 0);
    produce(s);
  };
  hooks_.drained = produce;
  startConnection();
  int32_t id = client_.request("GET", "/big");
  // The transport is backed up: nothing may be produced.
  pump(3);
  output_.backed_up = true;
  pump();
  const size_t received_while_backed_up = client_.stream(id).body.size();
  pump();
  EXPECT_EQ(client_.stream(id).body.size(), received_while_backed_up);
  EXPECT_LT(sent, kSize);
  output_.backed_up = false;
  connection_->onOutputDrained();
  pump();
  ClientStream& r = client_.stream(id);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), kSize);
  EXPECT_EQ(r.headers.count("content-length"), 0u);
  EXPECT_TRUE(saw_backed_up);
  EXPECT_GT(states_[0]->drained, 0);
}

TEST_F(Http2ConnectionTest, ClientResetAbortsTheHandler) {
  startConnection();
  int32_t id = client_.request("GET", "/slow");
  int32_t other = client_.request("GET", "/other");
  pump();
  ASSERT_EQ(states_.size(), 2u);
  nghttp2_submit_rst_stream(client_.session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  pump();
  EXPECT_TRUE(states_[0]->aborted);
  EXPECT_FALSE(states_[1]->aborted);
  respond(*states_[1]->exchange, 200, "ok");
  pump();
  EXPECT_EQ(client_.stream(other).body, "ok");
  EXPECT_EQ(connection_->openStreams(), 0u);
}

TEST_F(Http2ConnectionTest, MalformedRequestsAreResetWithProtocolError) {
  startConnection();
  using F = Http2Client::Fields;
  const F base = {{":method", "GET"}, {":scheme", "https"}, {":authority", "example.com"}, {":path", "/x"}};
  std::vector<int32_t> bad;
  auto with = [&](F extra) {
    F f = base;
    for (auto& e : extra) f.push_back(e);
    return f;
  };
  bad.push_back(client_.submitRaw(with({{"connection", "keep-alive"}})));
  bad.push_back(client_.submitRaw(with({{"transfer-encoding", "chunked"}})));
  bad.push_back(client_.submitRaw(with({{"upgrade", "websocket"}})));
  bad.push_back(client_.submitRaw(with({{"te", "gzip"}})));
  bad.push_back(client_.submitRaw({{":method", "GET"}, {":scheme", "https"}, {":path", "no-slash"}}));
  bad.push_back(client_.submitRaw(with({{"x-ctl", "a\x01z"}})));
  bad.push_back(client_.submitRaw(with({{"x-crlf", "a\r\nb: c"}})));
  bad.push_back(client_.submitRaw({{":method", "GET"}, {":scheme", "https"}, {":authority", "example.com"}}));
  bad.push_back(client_.submitRaw(with({{":path", "/again"}})));
  bad.push_back(client_.submitRaw({{":method", "GET"}, {"x-a", "1"}, {":scheme", "https"}, {":path", "/"}}));
  bad.push_back(client_.submitRaw(with({{":bogus", "1"}})));
  bad.push_back(client_.submitRaw(with({{"host", "other.example"}})));
  bad.push_back(client_.submitRaw({{":method", "GET"}, {":scheme", "https"}, {":path", ""}}));
  int32_t ok = client_.request("GET", "/fine");
  hooks_.start = [](HandlerState& s) { respond(*s.exchange, 200, "fine"); };
  pump();
  for (size_t i = 0; i < bad.size(); ++i) {
    ClientStream& r = client_.stream(bad[i]);
    EXPECT_TRUE(r.closed) << "case " << i;
    EXPECT_EQ(r.status, 0) << "case " << i;
    EXPECT_EQ(r.error_code, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR)) << "case " << i;
  }
  // Only the valid request reached a handler, and the connection lives on.
  ASSERT_EQ(states_.size(), 1u);
  EXPECT_EQ(client_.stream(ok).body, "fine");
  EXPECT_FALSE(output_.closed);
  EXPECT_FALSE(client_.goaway);
}

TEST_F(Http2ConnectionTest, UpperCaseFieldNameIsResetWithProtocolError) {
  // nghttp2's client lower-cases names, so this request is written by hand:
  // HPACK ":method: GET", ":scheme: https", ":path: /", then a literal
  // "X-Upper: 1" (RFC 9113 8.2.1: upper case makes the request malformed).
  startConnection();
  std::string block = "\x82\x87\x84";
  block += std::string("\x00\x07X-Upper\x01" "1", 11);
  std::string input = NGHTTP2_CLIENT_MAGIC;
  input += std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);  // SETTINGS
  const char hdr[9] = {0, 0, static_cast<char>(block.size()), NGHTTP2_HEADERS,
                       NGHTTP2_FLAG_END_STREAM | NGHTTP2_FLAG_END_HEADERS, 0, 0, 0, 1};
  input.append(hdr, 9);
  input += block;
  output_.bytes.clear();
  connection_->receive(input.data(), input.size());
  uv_run(worker_->loop(), UV_RUN_NOWAIT);
  bool reset = false;
  for (const RawFrame& f : parseFrames(output_.bytes)) {
    if (f.type == NGHTTP2_RST_STREAM && f.stream_id == 1) {
      reset = true;
      EXPECT_EQ(f.error_code, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
    }
  }
  EXPECT_TRUE(reset);
  EXPECT_TRUE(states_.empty());
  EXPECT_FALSE(output_.closed);
}

TEST_F(Http2ConnectionTest, ContentLengthMismatchResetsTheStream) {
  startConnection();
  int32_t shorter = client_.request("POST", "/short", {{"content-length", "10"}}, std::string("hello"));
  int32_t longer = client_.request("POST", "/long", {{"content-length", "2"}}, std::string("hello"));
  pump();
  EXPECT_EQ(client_.stream(shorter).error_code, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_EQ(client_.stream(longer).error_code, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  for (auto& s : states_) {
    EXPECT_FALSE(s->ended);  // never seen as complete
    EXPECT_TRUE(s->aborted);
  }
  EXPECT_EQ(connection_->openStreams(), 0u);
}

TEST_F(Http2ConnectionTest, BodyOverLimitGets413) {
  limits_.body_bytes = 1000;
  startConnection();
  int32_t declared = client_.request("POST", "/a", {{"content-length", "5000"}}, std::string(5000, 'x'));
  int32_t streamed = client_.request("POST", "/b", {}, std::string(5000, 'y'));
  pump();
  EXPECT_EQ(client_.stream(declared).status, 413);
  EXPECT_EQ(nlohmann::json::parse(client_.stream(declared).body)["error"], "body_too_large");
  EXPECT_EQ(client_.stream(streamed).status, 413);
  // Only the streamed one was dispatched, and its handler learned its body was cut.
  ASSERT_EQ(states_.size(), 1u);
  EXPECT_TRUE(states_[0]->aborted);
  EXPECT_FALSE(states_[0]->ended);
  EXPECT_EQ(connection_->openStreams(), 0u);
  EXPECT_FALSE(output_.closed);
}

TEST_F(Http2ConnectionTest, HeaderListOverLimitGets431) {
  limits_.header_bytes = 1024;
  startConnection();
  int32_t id = client_.request("GET", "/h", {{"x-big", std::string(2000, 'b')}});
  pump();
  EXPECT_EQ(client_.stream(id).status, 431);
  EXPECT_TRUE(states_.empty());
}

TEST_F(Http2ConnectionTest, HeadResponseCarriesNoBody) {
  hooks_.end = [](HandlerState& s) { respond(*s.exchange, 200, "hello"); };
  startConnection();
  int32_t id = client_.request("HEAD", "/h");
  pump();
  ClientStream& r = client_.stream(id);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.error_code, 0u);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-length"], "5");
  EXPECT_EQ(r.body, "");
}

TEST_F(Http2ConnectionTest, EarlyResponseStopsTheRequestBody) {
  // The handler answers before the body is complete: the response goes out
  // and the client is told to stop (RST_STREAM NO_ERROR).
  hooks_.start = [](HandlerState& s) { respond(*s.exchange, 401, "no"); };
  startConnection();
  int32_t id = client_.request("POST", "/up", {}, std::string(2 * 1024 * 1024, 'u'));
  pump();
  ClientStream& r = client_.stream(id);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "no");
  EXPECT_TRUE(r.closed);
  EXPECT_LT(r.request_offset, 2u * 1024 * 1024);
  EXPECT_EQ(connection_->openStreams(), 0u);
  // The connection window is not leaked: another upload still goes through.
  hooks_.start = nullptr;
  hooks_.end = [](HandlerState& s) { respond(*s.exchange, 200, std::to_string(s.body.size())); };
  int32_t next = client_.request("POST", "/up2", {}, std::string(3 * 1024 * 1024, 'v'));
  pump();
  EXPECT_EQ(client_.stream(next).body, std::to_string(3 * 1024 * 1024));
}

TEST_F(Http2ConnectionTest, AbortResponseResetsTheStream) {
  hooks_.end = [](HandlerState& s) {
    ResponseHead head;
    s.exchange->sendResponseHead(std::move(head), BodyFraming::kContentLength, 100);
    s.exchange->sendResponseBody("partial", 7);
    s.exchange->abortResponse();
  };
  startConnection();
  int32_t id = client_.request("GET", "/broken");
  pump();
  EXPECT_EQ(client_.stream(id).error_code, static_cast<uint32_t>(NGHTTP2_INTERNAL_ERROR));
  EXPECT_FALSE(states_[0]->aborted);  // it ended the exchange itself
  EXPECT_FALSE(output_.closed);
}

TEST_F(Http2ConnectionTest, DrainLetsActiveStreamsFinishThenCloses) {
  startConnection();
  int32_t id = client_.request("GET", "/in-flight");
  pump();
  ASSERT_EQ(states_.size(), 1u);
  connection_->drain();
  pump();
  EXPECT_TRUE(client_.goaway);
  EXPECT_EQ(client_.goaway_error, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_EQ(client_.goaway_last_stream, id);
  EXPECT_FALSE(output_.closed);
  respond(*states_[0]->exchange, 200, "done");
  pump();
  EXPECT_EQ(client_.stream(id).body, "done");
  EXPECT_TRUE(output_.closed);
  EXPECT_EQ(output_.close_calls, 1);
  EXPECT_TRUE(connection_->finished());
}

TEST_F(Http2ConnectionTest, GarbagePrefaceGetsGoawayAndClose) {
  startConnection();
  raw_output_ = output_.bytes;
  output_.bytes.clear();
  const std::string garbage = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
  connection_->receive(garbage.data(), garbage.size());
  EXPECT_TRUE(output_.closed);
  EXPECT_EQ(output_.close_calls, 1);
  bool goaway = false;
  for (const RawFrame& f : parseFrames(output_.bytes)) {
    if (f.type == NGHTTP2_GOAWAY) {
      goaway = true;
      EXPECT_EQ(f.error_code, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
    }
  }
  EXPECT_TRUE(goaway);
  // Further input is ignored, not a crash.
  connection_->receive(garbage.data(), garbage.size());
  EXPECT_EQ(output_.close_calls, 1);
}

TEST_F(Http2ConnectionTest, ConnectionErrorAfterPrefaceGetsGoaway) {
  startConnection();
  std::string preface = client_.take();
  connection_->receive(preface.data(), preface.size());
  output_.bytes.clear();
  // A DATA frame on stream 0 is a connection error (RFC 9113 6.1).
  const char frame[] = {0, 0, 1, 0, 0, 0, 0, 0, 0, 'x'};
  connection_->receive(frame, sizeof frame);
  uv_run(worker_->loop(), UV_RUN_NOWAIT);
  EXPECT_TRUE(output_.closed);
  bool goaway = false;
  for (const RawFrame& f : parseFrames(output_.bytes)) goaway |= f.type == NGHTTP2_GOAWAY;
  EXPECT_TRUE(goaway);
}

TEST_F(Http2ConnectionTest, PeerCloseAbortsOpenStreams) {
  startConnection();
  client_.request("GET", "/a");
  client_.request("POST", "/b", {}, std::string(100, 'x'));
  pump();
  ASSERT_EQ(states_.size(), 2u);
  connection_->onPeerClosed();
  EXPECT_TRUE(states_[0]->aborted);
  EXPECT_TRUE(states_[1]->aborted);
  EXPECT_TRUE(connection_->finished());
  EXPECT_EQ(output_.close_calls, 0);
  connection_->receive("x", 1);  // ignored
}

TEST_F(Http2ConnectionTest, ForceCloseAbortsAndCloses) {
  startConnection();
  client_.request("GET", "/a");
  pump();
  connection_->forceClose();
  EXPECT_TRUE(states_[0]->aborted);
  EXPECT_TRUE(output_.closed);
  pump();
  EXPECT_TRUE(client_.goaway);
}

TEST_F(Http2ConnectionTest, IdleConnectionIsClosed) {
  limits_.idle_timeout_ms = 50;
  startConnection();
  client_.request("GET", "/a");
  hooks_.start = [](HandlerState& s) { respond(*s.exchange, 200, "x"); };
  pump();
  for (int i = 0; i < 200 && !output_.closed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    uv_run(worker_->loop(), UV_RUN_NOWAIT);
  }
  EXPECT_TRUE(output_.closed);
  pump();
  EXPECT_TRUE(client_.goaway);
}

TEST_F(Http2ConnectionTest, StalledRequestBodyGets408) {
  limits_.idle_timeout_ms = 50;
  startConnection();
  // Headers without END_STREAM and no DATA ever.
  Http2Client::Fields f = {{":method", "POST"}, {":scheme", "https"}, {":authority", "e"}, {":path", "/p"}};
  std::vector<nghttp2_nv> nva;
  for (auto& [n, v] : f) {
    nva.push_back({reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()), n.size(), v.size(),
                   NGHTTP2_NV_FLAG_NONE});
  }
  int32_t id = nghttp2_submit_headers(client_.session(), NGHTTP2_FLAG_NONE, -1, nullptr, nva.data(), nva.size(),
                                      nullptr);
  ASSERT_GT(id, 0);
  pump();
  ASSERT_EQ(states_.size(), 1u);
  for (int i = 0; i < 200 && !states_[0]->aborted; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    uv_run(worker_->loop(), UV_RUN_NOWAIT);
  }
  EXPECT_TRUE(states_[0]->aborted);
  std::string out = output_.bytes;
  output_.bytes.clear();
  bool headers_sent = false;
  for (const RawFrame& fr : parseFrames(out)) headers_sent |= fr.type == NGHTTP2_HEADERS && fr.stream_id == id;
  EXPECT_TRUE(headers_sent);
}

TEST_F(Http2ConnectionTest, ProxyRouteStreamsBothWaysThroughTheRealWorker) {
  // A proxy route on a real Worker: the HTTP/2 request body (no
  // content-length) reaches the origin re-chunked, and the origin's answer
  // comes back on the stream.
  LoopbackOrigin origin;
  rebuildWorker(testDeployment(origin.port));
  origin.start(worker_->loop());
  startConnection(/*test_dispatcher=*/false);
  const std::string payload(300 * 1024, 'p');
  int32_t post = client_.request("POST", "/api/echo?x=1", {{"x-request-id", "proxy-1"}}, payload);
  int32_t get = client_.request("GET", "/api/get");
  for (int i = 0; i < 500 && !(client_.stream(post).closed && client_.stream(get).closed); ++i) {
    pump(5);
    uv_run(worker_->loop(), UV_RUN_NOWAIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ClientStream& r = client_.stream(post);
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(r.error_code, 0u);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.count("connection"), 0u);
  EXPECT_EQ(r.headers["x-request-id"], "proxy-1");
  EXPECT_EQ(r.headers["content-length"], std::to_string(r.body.size()));
  EXPECT_EQ(r.body.rfind("POST /echo?x=1 HTTP/1.1\r\n", 0), 0u) << r.body.substr(0, 200);
  EXPECT_NE(r.body.find("Host: 127.0.0.1:"), std::string::npos);
  EXPECT_NE(r.body.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(r.body.find("X-Forwarded-Host: example.com"), std::string::npos);
  EXPECT_NE(r.body.find("X-Forwarded-Proto: https"), std::string::npos);
  EXPECT_NE(r.body.find("X-Request-ID: proxy-1"), std::string::npos);
  EXPECT_NE(r.body.find("\r\n0\r\n\r\n"), std::string::npos);
  // The body arrived whole (chunk framing aside).
  EXPECT_GE(std::count(r.body.begin(), r.body.end(), 'p'), static_cast<long>(payload.size()));
  ClientStream& g = client_.stream(get);
  EXPECT_EQ(g.status, 200);
  EXPECT_EQ(g.body.rfind("GET /get HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(g.body.find("Transfer-Encoding"), std::string::npos);
  EXPECT_EQ(origin.requests, 2);
  origin.close();
  for (int i = 0; i < 5; ++i) uv_run(worker_->loop(), UV_RUN_NOWAIT);  // its close callback
}

TEST_F(Http2ConnectionTest, StreamsBeyondTheLimitAreRefused) {
  startConnection();
  std::vector<int32_t> ids;
  // Sent before the client has seen our SETTINGS, so it does not hold them back.
  for (int i = 0; i < 130; ++i) ids.push_back(client_.request("GET", "/s"));
  pump();
  EXPECT_EQ(states_.size(), 128u);
  int refused = 0;
  for (int32_t id : ids) {
    if (client_.stream(id).closed && client_.stream(id).error_code == NGHTTP2_REFUSED_STREAM) ++refused;
  }
  EXPECT_EQ(refused, 2);
  for (auto& s : states_) respond(*s->exchange, 204, "");
  pump();
  EXPECT_EQ(connection_->openStreams(), 0u);
  EXPECT_EQ(states_.size(), 128u);
}

TEST_F(Http2ConnectionTest, RequestTrailersEndTheBody) {
  bool trailer_seen = true;
  hooks_.end = [&](HandlerState& s) {
    trailer_seen = findHeader(s.exchange->request().headers, "x-checksum") != nullptr;
    respond(*s.exchange, 200, s.body);
  };
  startConnection();
  // HEADERS, DATA without END_STREAM, then trailers with END_STREAM.
  nghttp2_session* c = client_.session();
  std::string n1 = ":method", v1 = "POST", n2 = ":scheme", v2 = "https", n3 = ":path", v3 = "/t", n4 = ":authority",
              v4 = "e", tn = "x-checksum", tv = "abc";
  auto nv = [](std::string& n, std::string& v) {
    return nghttp2_nv{reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()), n.size(), v.size(),
                      NGHTTP2_NV_FLAG_NONE};
  };
  nghttp2_nv head[] = {nv(n1, v1), nv(n2, v2), nv(n3, v3), nv(n4, v4)};
  int32_t id = nghttp2_submit_headers(c, NGHTTP2_FLAG_NONE, -1, nullptr, head, 4, nullptr);
  ASSERT_GT(id, 0);
  pump();
  std::string body = "trailing body";
  nghttp2_data_provider provider;
  provider.source.ptr = &body;
  provider.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t, uint32_t* flags,
                              nghttp2_data_source* source, void*) -> ssize_t {
    auto* b = static_cast<std::string*>(source->ptr);
    memcpy(buf, b->data(), b->size());
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    return static_cast<ssize_t>(b->size());
  };
  ASSERT_EQ(nghttp2_submit_data(c, NGHTTP2_FLAG_NONE, id, &provider), 0);
  pump();
  ASSERT_EQ(states_.size(), 1u);
  EXPECT_FALSE(states_[0]->ended);
  EXPECT_EQ(states_[0]->body, body);
  nghttp2_nv trailer[] = {nv(tn, tv)};
  ASSERT_EQ(nghttp2_submit_trailer(c, id, trailer, 1), 0);
  pump();
  EXPECT_TRUE(states_[0]->ended);
  EXPECT_FALSE(trailer_seen);  // trailers are not passed on
  bool response = false;
  for (const RawFrame& f : parseFrames(raw_output_)) response |= f.type == NGHTTP2_HEADERS && f.stream_id == id;
  EXPECT_TRUE(response);
}

TEST_F(Http2ConnectionTest, RapidResetEndsTheConnection) {
  // CVE-2023-44487: open and reset streams as fast as possible.
  startConnection();
  pump();
  std::string burst;
  for (int i = 0; i < 3000; ++i) {
    int32_t id = client_.request("GET", "/r");
    burst += client_.take();  // HEADERS on the wire before the reset
    nghttp2_submit_rst_stream(client_.session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    burst += client_.take();
  }
  connection_->receive(burst.data(), burst.size());
  pump();
  EXPECT_TRUE(output_.closed);
  EXPECT_TRUE(client_.goaway);
  for (auto& s : states_) EXPECT_TRUE(s->aborted);
}

TEST_F(Http2ConnectionTest, RandomInputNeverCrashes) {
  srand(12345);
  for (int round = 0; round < 200; ++round) {
    connection_.reset();
    output_ = MemoryOutput{};
    startConnection();
    std::string preface = round % 2 ? Http2Client().take() : std::string();
    std::string noise(static_cast<size_t>(rand() % 600), '\0');
    for (char& c : noise) c = static_cast<char>(rand());
    // Frame-shaped noise after a valid preface reaches deeper code.
    std::string input = preface + noise;
    connection_->receive(input.data(), input.size());
    uv_run(worker_->loop(), UV_RUN_NOWAIT);
  }
  SUCCEED();
}

}  // namespace
}  // namespace isogate
