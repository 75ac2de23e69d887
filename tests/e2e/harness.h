#pragma once
// End-to-end test harness: runs the real isogate binary (ISOGATE_BINARY) on
// loopback against a real origin (TestOrigin) and real clients (RawClient,
// curl via runCommand). Everything binds to 127.0.0.1 port 0 and waits by
// polling with a bound, never by sleeping for readiness.
//
// Threading: TestOrigin and GatewayProcess own background threads; their
// accessors are thread-safe and return copies. RawClient is single-threaded.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace isogate::e2e {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr uint64_t kMiB = 1024 * 1024;

// Case-insensitive ASCII comparison of header names.
bool equalsIgnoreCase(std::string_view a, std::string_view b);
std::string toLower(std::string_view s);
// First value of `name` in `headers`, case-insensitively.
std::optional<std::string> findHeader(const Headers& headers, std::string_view name);
// Every value of `name`, in order.
std::vector<std::string> findHeaders(const Headers& headers, std::string_view name);

// Milliseconds elapsed since `start`.
int64_t elapsedMs(Clock::time_point start);

// Polls `condition` every few milliseconds until it holds or `timeout` passes.
bool pollUntil(const std::function<bool()>& condition, Millis timeout);

// ---------------------------------------------------------------------------
// Deterministic byte pattern for big bodies: byte i is a function of i only,
// so a receiver can verify any slice without storing the stream.
void fillPattern(uint64_t offset, char* out, size_t len);

// Verifies a stream against the pattern, starting at offset 0.
class PatternChecker {
 public:
  void update(const char* data, size_t len);
  uint64_t bytes() const { return offset_; }
  bool ok() const { return ok_; }

 private:
  uint64_t offset_ = 0;
  bool ok_ = true;
  std::vector<char> scratch_;
};

// ---------------------------------------------------------------------------
// A temporary directory, removed with its contents at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `content` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------
// A finished child process.
struct CommandResult {
  bool exited = false;  // false: killed by a signal (see term_signal) or timed out
  int exit_code = -1;
  int term_signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Supplies stdin for runCommand: append the next chunk to `chunk` and return
// true, or return false at end of input.
using StdinSource = std::function<bool(std::string& chunk)>;

// Runs argv (argv[0] an absolute path) with stdout/stderr captured, stdin from
// `input` (or /dev/null), and kills it after `timeout`.
CommandResult runCommand(const std::vector<std::string>& argv, Millis timeout = Millis(30000),
                         StdinSource input = {}, const std::string& cwd = "");

// Runs /usr/bin/curl -sS --max-time 30 <args...>.
CommandResult runCurl(const std::vector<std::string>& args, Millis timeout = Millis(60000),
                      StdinSource input = {});

// The isogate binary under test.
std::string isogateBinary();

// ---------------------------------------------------------------------------
// The real isogate binary as a child process. stdout and stderr are collected
// line by line by a background thread. The destructor kills the process
// (SIGKILL) if it is still running.
class GatewayProcess {
 public:
  struct ExitStatus {
    bool exited = false;  // normal exit; otherwise killed by term_signal
    int code = -1;
    int term_signal = 0;
  };

  // Starts `isogate <args...>` with its working directory `cwd`.
  GatewayProcess(std::vector<std::string> args, std::string cwd);
  ~GatewayProcess();
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Waits for "isogate: listening on http://HOST:PORT" on stderr and returns
  // PORT, or 0 when the process exits or `timeout` passes first.
  uint16_t waitForListening(Millis timeout);
  // Every port announced so far, in order.
  std::vector<uint16_t> listeningPorts() const;

  void signal(int sig);
  // Reaps the process if it exits within `timeout`.
  std::optional<ExitStatus> waitExit(Millis timeout);
  bool running();

  // VmRSS in kB from /proc/PID/status, or -1.
  long rssKb() const;

  std::vector<std::string> stdoutLines() const;
  std::string stderrText() const;
  // stdout lines that parse as JSON objects, in order.
  std::vector<nlohmann::json> accessLogLines() const;
  // Waits until an access-log line satisfies `pred` and returns it.
  std::optional<nlohmann::json> waitForLogLine(const std::function<bool(const nlohmann::json&)>& pred,
                                               Millis timeout) const;
  // Waits until at least `n` stdout lines arrived.
  bool waitForStdoutLines(size_t n, Millis timeout) const;
  // The port of the first "isogate: <what> on <scheme>://HOST:PORT" start-up
  // line on stderr (`what_scheme` e.g. "admin listening on http", "listening
  // on https"), waiting up to `timeout`; 0 if none appeared.
  uint16_t waitForListeningPort(const std::string& what_scheme, Millis timeout = Millis(5000)) const;

 private:
  void readerLoop();

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::optional<ExitStatus> exit_status_;
  std::thread reader_;
  std::atomic<bool> stop_reader_{false};

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::string> out_lines_;
  std::string out_partial_;
  std::string err_text_;
  bool out_eof_ = false;
  bool err_eof_ = false;
};

// Samples a process's RSS on a background thread until destroyed or stop().
class RssSampler {
 public:
  explicit RssSampler(pid_t pid, Millis interval = Millis(20));
  ~RssSampler();
  void stop();
  long maxKb() const { return max_kb_.load(); }
  size_t samples() const { return samples_.load(); }

 private:
  pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<long> max_kb_{0};
  std::atomic<size_t> samples_{0};
  std::thread thread_;
};

long readRssKb(pid_t pid);

// ---------------------------------------------------------------------------
// A small threaded HTTP/1.1 origin on 127.0.0.1:0. Keep-alive, Content-Length
// and chunked request bodies. The behaviour for a request is chosen by the
// longest registered path prefix of its target (default: echo).
class TestOrigin {
 public:
  struct Behaviour {
    enum class Kind {
      kEcho,        // 200, JSON description of the request (see echoJson)
      kStream,      // 200 with `bytes` pattern bytes generated on the fly
      kRaw,         // write `raw` verbatim after reading the request, then close
      kNoResponse,  // read the request, never answer, keep the connection open
      kClose,       // close right after reading the request head (FIN)
      kReset,       // close right after reading the request head (RST)
    };
    Kind kind = Kind::kEcho;
    int delay_ms = 0;          // wait before answering (echo and stream)
    uint64_t bytes = 0;        // kStream: body size
    bool chunked = false;      // kStream: Transfer-Encoding: chunked instead of Content-Length
    std::string raw;           // kRaw
    int status = 200;          // kEcho / kStream
    Headers extra_headers;     // added to kEcho / kStream responses
    uint64_t pause_after_body_bytes = 0;  // request body: pause reading after this many bytes...
    int pause_ms = 0;                     // ...for this long (0 = never)

    static Behaviour echo() { return {}; }
    static Behaviour slow(int ms) {
      Behaviour b;
      b.delay_ms = ms;
      return b;
    }
    static Behaviour stream(uint64_t n, bool chunked_body = false) {
      Behaviour b;
      b.kind = Kind::kStream;
      b.bytes = n;
      b.chunked = chunked_body;
      return b;
    }
    static Behaviour rawResponse(std::string bytes) {
      Behaviour b;
      b.kind = Kind::kRaw;
      b.raw = std::move(bytes);
      return b;
    }
    static Behaviour noResponse() {
      Behaviour b;
      b.kind = Kind::kNoResponse;
      return b;
    }
    static Behaviour closeImmediately() {
      Behaviour b;
      b.kind = Kind::kClose;
      return b;
    }
    static Behaviour reset() {
      Behaviour b;
      b.kind = Kind::kReset;
      return b;
    }
  };

  struct Request {
    enum class State { kReceivingBody, kComplete, kAborted };
    uint64_t connection_id = 0;
    int index_on_connection = 0;
    std::string method;
    std::string target;
    std::string version;
    Headers headers;
    bool chunked = false;
    uint64_t body_bytes = 0;   // received so far
    std::string body;          // first kMaxStoredBody bytes
    bool body_matches_pattern = true;
    State state = State::kReceivingBody;

    std::string path() const;  // target without the query
    std::optional<std::string> header(std::string_view name) const { return findHeader(headers, name); }
  };

  static constexpr size_t kMaxStoredBody = 64 * 1024;

  TestOrigin();
  ~TestOrigin();
  TestOrigin(const TestOrigin&) = delete;
  TestOrigin& operator=(const TestOrigin&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:PORT"

  void on(const std::string& path_prefix, Behaviour behaviour);

  std::vector<Request> requests() const;
  // Requests whose path starts with `path_prefix`.
  std::vector<Request> requestsTo(const std::string& path_prefix) const;
  size_t requestCount() const;
  uint64_t acceptedConnections() const;
  int openConnections() const;
  // Waits until `pred` holds over the recorded requests.
  bool waitFor(const std::function<bool(const std::vector<Request>&)>& pred, Millis timeout) const;
  bool waitForRequests(size_t n, Millis timeout) const;

  // The echo body for a request (also what kEcho sends).
  static nlohmann::json echoJson(const Request& request);

 private:
  void acceptLoop();
  void serveConnection(int fd, uint64_t connection_id);
  Behaviour behaviourFor(const std::string& path) const;
  // Sleeps up to `ms` unless the origin is being destroyed; false if stopping.
  bool interruptibleSleep(int ms);
  void updateRequest(size_t index, const std::function<void(Request&)>& fn);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, Behaviour> behaviours_;
  std::vector<Request> requests_;
  std::vector<std::thread> connection_threads_;
  std::vector<int> open_fds_;
  uint64_t accepted_ = 0;
};

// ---------------------------------------------------------------------------
struct HttpResponse {
  std::string version;
  int status = 0;
  std::string reason;
  Headers headers;
  std::string body;        // empty when a body sink was used
  uint64_t body_bytes = 0;
  bool complete = false;   // body framing fully satisfied

  std::optional<std::string> header(std::string_view name) const { return findHeader(headers, name); }
  // The body parsed as JSON, or a discarded value.
  nlohmann::json json() const;
};

struct ReadOptions {
  bool head_request = false;  // response to HEAD: no body whatever the headers say
  std::function<void(const char*, size_t)> body_sink;  // if set, body is streamed here, not stored
};

// A raw TCP client to 127.0.0.1. Keeps unread bytes between reads so that
// pipelined responses can be read one after another.
class RawClient {
 public:
  RawClient() = default;
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Connects to 127.0.0.1:port; false (and lastErrno()) on failure.
  bool connect(uint16_t port);
  int lastErrno() const { return last_errno_; }
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void close();
  void shutdownWrite();

  // Sends everything; false if the peer closed or reset, or the send blocked
  // longer than `timeout`.
  bool sendAll(std::string_view data, Millis timeout = Millis(10000));

  // Reads one response (a 1xx interim response is returned on its own).
  // nullopt when no complete head arrives within `timeout` or the peer closes.
  std::optional<HttpResponse> readResponse(Millis timeout, const ReadOptions& options = {});

  // True if the peer closes (EOF or reset) within `timeout`; bytes read on the
  // way are kept in buffered().
  bool waitClosed(Millis timeout);
  // True if bytes are readable (or EOF) right now / within `timeout`.
  bool readable(Millis timeout);
  // Reads whatever arrives within `timeout` (at least one read attempt).
  std::string readSome(Millis timeout);

  const std::string& buffered() const { return buf_; }
  bool peerClosed() const { return peer_closed_; }

 private:
  // Reads more bytes into buf_; false on EOF, error or deadline.
  bool fill(Clock::time_point deadline);

  int fd_ = -1;
  int last_errno_ = 0;
  bool peer_closed_ = false;
  std::string buf_;
};

// "GET /x HTTP/1.1\r\nHost: ...\r\n...\r\n\r\nbody" (adds Content-Length when
// a body is given and no framing header is present).
std::string buildRequest(const std::string& method, const std::string& target, const Headers& headers = {},
                         const std::string& body = "", const std::string& host = "gateway.test");

// Connects, sends `raw`, reads one response. Status 0 on failure.
HttpResponse roundTrip(uint16_t port, const std::string& raw, Millis timeout = Millis(10000),
                       const ReadOptions& options = {});

// A port on 127.0.0.1 that nothing listens on (bound, read back, closed).
uint16_t unusedPort();

// ---------------------------------------------------------------------------
// Fixture: one TestOrigin, one temp dir, and a gateway started from a config.
class GatewayTest : public ::testing::Test {
 protected:
  void TearDown() override;

  // listen 127.0.0.1:0, 2 workers, small limits, origin "o" = origin_ (retries
  // 0), one route {"name": "api", "match": {"path": "/api/*"}, "proxy": {"origin": "o"}}.
  nlohmann::json baseConfig() const;

  // Writes `config` to isogate.json and runs `isogate serve -c FILE`; waits
  // for the listening line and sets port_. Adds a failure and returns false
  // otherwise.
  bool startGateway(const nlohmann::json& config, Millis timeout = Millis(15000));
  // Same with arbitrary arguments (CONFIG is replaced by the config path).
  bool startGatewayWithArgs(const nlohmann::json& config, std::vector<std::string> args,
                            Millis timeout = Millis(15000));

  std::string configPath() const { return dir_.path() + "/isogate.json"; }

  // GET/POST helpers over a fresh connection ("Connection: close").
  HttpResponse get(const std::string& target, const Headers& headers = {}, Millis timeout = Millis(10000));
  HttpResponse request(const std::string& method, const std::string& target, const Headers& headers = {},
                       const std::string& body = "", Millis timeout = Millis(10000));

  TestOrigin origin_;
  TempDir dir_;
  std::unique_ptr<GatewayProcess> gateway_;
  uint16_t port_ = 0;
};

// Expects an error JSON body {"error": code, "message": string, "request_id": string}.
void expectErrorBody(const HttpResponse& response, const std::string& code);

}  // namespace isogate::e2e
