#include "tests/e2e/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

extern char** environ;

namespace isogate::e2e {
namespace {

// A test process writes to sockets and pipes whose peer may be gone.
[[maybe_unused]] const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

int remainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 1 << 30));
}

void setNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

char patternByte(uint64_t i) { return static_cast<char>((splitmix64(i >> 3) >> ((i & 7) * 8)) & 0xff); }

std::string trimOws(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

// Splits a head (without the final CRLFCRLF) into the start line and fields.
bool parseHead(const std::string& head, std::string& start_line, Headers& headers) {
  size_t pos = head.find("\r\n");
  start_line = head.substr(0, pos);
  headers.clear();
  while (pos != std::string::npos) {
    size_t begin = pos + 2;
    if (begin >= head.size()) break;
    size_t end = head.find("\r\n", begin);
    std::string line = head.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    pos = end;
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) return false;
    headers.emplace_back(line.substr(0, colon), trimOws(std::string_view(line).substr(colon + 1)));
  }
  return true;
}

bool hasChunkedCoding(const Headers& headers) {
  for (const auto& v : findHeaders(headers, "transfer-encoding")) {
    if (toLower(v).find("chunked") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------
bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string> findHeader(const Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (equalsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

std::vector<std::string> findHeaders(const Headers& headers, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : headers) {
    if (equalsIgnoreCase(n, name)) out.push_back(v);
  }
  return out;
}

int64_t elapsedMs(Clock::time_point start) {
  return std::chrono::duration_cast<Millis>(Clock::now() - start).count();
}

bool pollUntil(const std::function<bool()>& condition, Millis timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(Millis(5));
  }
}

// ---------------------------------------------------------------------------
void fillPattern(uint64_t offset, char* out, size_t len) {
  size_t j = 0;
  while (j < len && ((offset + j) & 7) != 0) {
    out[j] = patternByte(offset + j);
    ++j;
  }
  while (j + 8 <= len) {
    uint64_t w = splitmix64((offset + j) >> 3);
    for (int k = 0; k < 8; ++k) out[j + k] = static_cast<char>((w >> (k * 8)) & 0xff);
    j += 8;
  }
  while (j < len) {
    out[j] = patternByte(offset + j);
    ++j;
  }
}

void PatternChecker::update(const char* data, size_t len) {
  constexpr size_t kBlock = 64 * 1024;
  if (scratch_.size() < kBlock) scratch_.resize(kBlock);
  while (len > 0) {
    size_t n = std::min(len, kBlock);
    if (ok_) {
      fillPattern(offset_, scratch_.data(), n);
      if (std::memcmp(scratch_.data(), data, n) != 0) ok_ = false;
    }
    offset_ += n;
    data += n;
    len -= n;
  }
}

// ---------------------------------------------------------------------------
TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "isogate-e2e-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string full = path_ + "/" + name;
  std::filesystem::create_directories(std::filesystem::path(full).parent_path());
  std::ofstream f(full, std::ios::binary | std::ios::trunc);
  f << content;
  return full;
}

// ---------------------------------------------------------------------------
namespace {

struct Spawned {
  pid_t pid = -1;
  int in_fd = -1;
  int out_fd = -1;
  int err_fd = -1;
};

// posix_spawn with stdout/stderr to pipes and stdin from a pipe or /dev/null.
// All our descriptors are O_CLOEXEC, so nothing else leaks into the child.
Spawned spawnWithPipes(const std::vector<std::string>& argv, bool want_stdin, const std::string& cwd) {
  Spawned s;
  int out_pipe[2], err_pipe[2], in_pipe[2] = {-1, -1};
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return s;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return s;
  }
  if (want_stdin && pipe2(in_pipe, O_CLOEXEC) != 0) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    return s;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (want_stdin) {
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Children start with default signal dispositions (we ignore SIGPIPE).
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);

  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (want_stdin) ::close(in_pipe[0]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    if (want_stdin) ::close(in_pipe[1]);
    return s;
  }
  s.pid = pid;
  s.out_fd = out_pipe[0];
  s.err_fd = err_pipe[0];
  s.in_fd = want_stdin ? in_pipe[1] : -1;
  return s;
}

}  // namespace

CommandResult runCommand(const std::vector<std::string>& argv, Millis timeout, StdinSource input,
                         const std::string& cwd) {
  CommandResult result;
  Spawned s = spawnWithPipes(argv, static_cast<bool>(input), cwd);
  if (s.pid <= 0) {
    result.err = "spawn failed: " + argv[0];
    return result;
  }
  setNonBlocking(s.out_fd);
  setNonBlocking(s.err_fd);
  if (s.in_fd >= 0) setNonBlocking(s.in_fd);

  auto deadline = Clock::now() + timeout;
  std::string pending;  // stdin bytes not yet written
  bool input_done = !input;
  char buf[65536];
  while (s.out_fd >= 0 || s.err_fd >= 0 || s.in_fd >= 0) {
    if (Clock::now() >= deadline) {
      result.timed_out = true;
      kill(s.pid, SIGKILL);
      break;
    }
    if (s.in_fd >= 0 && pending.empty() && !input_done) {
      if (!input(pending)) input_done = true;
    }
    if (s.in_fd >= 0 && pending.empty() && input_done) {
      ::close(s.in_fd);
      s.in_fd = -1;
    }
    pollfd fds[3];
    int n = 0;
    int out_idx = -1, err_idx = -1, in_idx = -1;
    if (s.out_fd >= 0) { fds[n] = {s.out_fd, POLLIN, 0}; out_idx = n++; }
    if (s.err_fd >= 0) { fds[n] = {s.err_fd, POLLIN, 0}; err_idx = n++; }
    if (s.in_fd >= 0 && !pending.empty()) { fds[n] = {s.in_fd, POLLOUT, 0}; in_idx = n++; }
    if (n == 0) continue;
    int rc = poll(fds, n, std::min(remainingMs(deadline), 100));
    if (rc < 0 && errno != EINTR) break;
    auto drain = [&](int idx, int& fd, std::string& sink) {
      if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return;
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r > 0) {
        sink.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(fd);
        fd = -1;
      }
    };
    drain(out_idx, s.out_fd, result.out);
    drain(err_idx, s.err_fd, result.err);
    if (in_idx >= 0 && (fds[in_idx].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::write(s.in_fd, pending.data(), pending.size());
      if (w > 0) {
        pending.erase(0, static_cast<size_t>(w));
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        // The child stopped reading its stdin.
        ::close(s.in_fd);
        s.in_fd = -1;
        pending.clear();
        input_done = true;
      }
    }
  }
  for (int fd : {s.in_fd, s.out_fd, s.err_fd}) {
    if (fd >= 0) ::close(fd);
  }
  int status = 0;
  // The pipes are closed; the child is exiting (or was killed).
  auto reap_deadline = Clock::now() + Millis(5000);
  while (true) {
    pid_t r = waitpid(s.pid, &status, WNOHANG);
    if (r == s.pid) break;
    if (r < 0) return result;
    if (Clock::now() >= reap_deadline) {
      kill(s.pid, SIGKILL);
      waitpid(s.pid, &status, 0);
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(Millis(2));
  }
  if (WIFEXITED(status)) {
    result.exited = !result.timed_out;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  return result;
}

CommandResult runCurl(const std::vector<std::string>& args, Millis timeout, StdinSource input) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "--max-time", "30", "--noproxy", "*"};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv, timeout, std::move(input));
}

std::string isogateBinary() { return ISOGATE_BINARY; }

// ---------------------------------------------------------------------------
GatewayProcess::GatewayProcess(std::vector<std::string> args, std::string cwd) {
  std::vector<std::string> argv = {isogateBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  Spawned s = spawnWithPipes(argv, false, cwd);
  if (s.pid <= 0) return;
  pid_ = s.pid;
  out_fd_ = s.out_fd;
  err_fd_ = s.err_fd;
  reader_ = std::thread([this] { readerLoop(); });
}

GatewayProcess::~GatewayProcess() {
  if (pid_ > 0 && !exit_status_) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  stop_reader_ = true;
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

void GatewayProcess::readerLoop() {
  char buf[65536];
  bool out_open = true, err_open = true;
  while ((out_open || err_open) && !stop_reader_) {
    pollfd fds[2];
    int n = 0;
    int oi = -1, ei = -1;
    if (out_open) { fds[n] = {out_fd_, POLLIN, 0}; oi = n++; }
    if (err_open) { fds[n] = {err_fd_, POLLIN, 0}; ei = n++; }
    int rc = poll(fds, n, 50);
    if (rc <= 0) continue;
    if (oi >= 0 && (fds[oi].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = ::read(out_fd_, buf, sizeof buf);
      std::lock_guard<std::mutex> lock(mu_);
      if (r > 0) {
        out_partial_.append(buf, static_cast<size_t>(r));
        size_t nl;
        while ((nl = out_partial_.find('\n')) != std::string::npos) {
          out_lines_.push_back(out_partial_.substr(0, nl));
          out_partial_.erase(0, nl + 1);
        }
      } else if (r == 0 || errno != EINTR) {
        out_open = false;
        out_eof_ = true;
        if (!out_partial_.empty()) {
          out_lines_.push_back(out_partial_);
          out_partial_.clear();
        }
      }
      cv_.notify_all();
    }
    if (ei >= 0 && (fds[ei].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = ::read(err_fd_, buf, sizeof buf);
      std::lock_guard<std::mutex> lock(mu_);
      if (r > 0) {
        err_text_.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        err_open = false;
        err_eof_ = true;
      }
      cv_.notify_all();
    }
  }
}

uint16_t GatewayProcess::waitForListening(Millis timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    auto ports = listeningPorts();
    if (!ports.empty()) return ports.front();
    if (!running()) {
      // Give the reader a moment to collect the last stderr bytes.
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, Millis(200), [&] { return err_eof_; });
      return 0;
    }
    if (Clock::now() >= deadline) return 0;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, Millis(20));
  }
}

std::vector<uint16_t> GatewayProcess::listeningPorts() const {
  static const std::regex kListening(R"(isogate: listening on http://(\S+):(\d+))");
  std::string text = stderrText();
  std::vector<uint16_t> ports;
  for (std::sregex_iterator it(text.begin(), text.end(), kListening), end; it != end; ++it) {
    ports.push_back(static_cast<uint16_t>(std::stoi((*it)[2].str())));
  }
  return ports;
}

void GatewayProcess::signal(int sig) {
  if (pid_ > 0 && !exit_status_) kill(pid_, sig);
}

std::optional<GatewayProcess::ExitStatus> GatewayProcess::waitExit(Millis timeout) {
  if (pid_ <= 0) return std::nullopt;
  if (exit_status_) return exit_status_;
  auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      ExitStatus es;
      if (WIFEXITED(status)) {
        es.exited = true;
        es.code = WEXITSTATUS(status);
      } else if (WIFSIGNALED(status)) {
        es.term_signal = WTERMSIG(status);
      }
      exit_status_ = es;
      return es;
    }
    if (r < 0) return std::nullopt;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(Millis(5));
  }
}

bool GatewayProcess::running() {
  if (pid_ <= 0) return false;
  if (exit_status_) return false;
  return !waitExit(Millis(0)).has_value();
}

long GatewayProcess::rssKb() const { return readRssKb(pid_); }

std::vector<std::string> GatewayProcess::stdoutLines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return out_lines_;
}

std::string GatewayProcess::stderrText() const {
  std::lock_guard<std::mutex> lock(mu_);
  return err_text_;
}

std::vector<nlohmann::json> GatewayProcess::accessLogLines() const {
  std::vector<nlohmann::json> out;
  for (const auto& line : stdoutLines()) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

std::optional<nlohmann::json> GatewayProcess::waitForLogLine(
    const std::function<bool(const nlohmann::json&)>& pred, Millis timeout) const {
  std::optional<nlohmann::json> found;
  pollUntil(
      [&] {
        for (auto& j : accessLogLines()) {
          if (pred(j)) {
            found = j;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

bool GatewayProcess::waitForStdoutLines(size_t n, Millis timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return out_lines_.size() >= n; });
}

long readRssKb(pid_t pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

RssSampler::RssSampler(pid_t pid, Millis interval) : pid_(pid) {
  thread_ = std::thread([this, interval] {
    while (!stop_) {
      long kb = readRssKb(pid_);
      if (kb > 0) {
        ++samples_;
        long prev = max_kb_.load();
        while (kb > prev && !max_kb_.compare_exchange_weak(prev, kb)) {
        }
      }
      std::this_thread::sleep_for(interval);
    }
  });
}

RssSampler::~RssSampler() { stop(); }

void RssSampler::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

// ---------------------------------------------------------------------------
std::string TestOrigin::Request::path() const { return target.substr(0, target.find('?')); }

TestOrigin::TestOrigin() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listen_fd_, 128) != 0) {
    throw std::runtime_error("TestOrigin: bind/listen failed");
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { acceptLoop(); });
}

TestOrigin::~TestOrigin() {
  stop_ = true;
  cv_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
    threads.swap(connection_threads_);
  }
  for (auto& t : threads) t.join();
}

std::string TestOrigin::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void TestOrigin::on(const std::string& path_prefix, Behaviour behaviour) {
  std::lock_guard<std::mutex> lock(mu_);
  behaviours_[path_prefix] = std::move(behaviour);
}

TestOrigin::Behaviour TestOrigin::behaviourFor(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Behaviour* best = nullptr;
  size_t best_len = 0;
  for (const auto& [prefix, b] : behaviours_) {
    if (path.rfind(prefix, 0) == 0 && (best == nullptr || prefix.size() > best_len)) {
      best = &b;
      best_len = prefix.size();
    }
  }
  return best ? *best : Behaviour::echo();
}

std::vector<TestOrigin::Request> TestOrigin::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::vector<TestOrigin::Request> TestOrigin::requestsTo(const std::string& path_prefix) const {
  std::vector<Request> out;
  for (auto& r : requests()) {
    if (r.path().rfind(path_prefix, 0) == 0) out.push_back(r);
  }
  return out;
}

size_t TestOrigin::requestCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

uint64_t TestOrigin::acceptedConnections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

int TestOrigin::openConnections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(open_fds_.size());
}

bool TestOrigin::waitFor(const std::function<bool(const std::vector<Request>&)>& pred, Millis timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return pred(requests_); });
}

bool TestOrigin::waitForRequests(size_t n, Millis timeout) const {
  return waitFor([n](const std::vector<Request>& r) { return r.size() >= n; }, timeout);
}

bool TestOrigin::interruptibleSleep(int ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, Millis(ms), [&] { return stop_.load(); });
  return !stop_;
}

void TestOrigin::updateRequest(size_t index, const std::function<void(Request&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  fn(requests_[index]);
  cv_.notify_all();
}

void TestOrigin::acceptLoop() {
  uint64_t next_id = 1;
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard<std::mutex> lock(mu_);
    ++accepted_;
    open_fds_.push_back(fd);
    uint64_t id = next_id++;
    connection_threads_.emplace_back([this, fd, id] { serveConnection(fd, id); });
    cv_.notify_all();
  }
}

nlohmann::json TestOrigin::echoJson(const Request& r) {
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [n, v] : r.headers) headers.push_back({n, v});
  return {{"method", r.method},
          {"target", r.target},
          {"version", r.version},
          {"headers", headers},
          {"chunked", r.chunked},
          {"body_bytes", r.body_bytes},
          {"body", r.body},
          {"body_matches_pattern", r.body_matches_pattern},
          {"connection_id", r.connection_id},
          {"index_on_connection", r.index_on_connection}};
}

namespace {

// Blocking socket I/O for the origin's connection threads.
class OriginConn {
 public:
  explicit OriginConn(int fd) : fd_(fd) {}

  // Reads until buf_ holds "\r\n\r\n"; returns the head without it.
  std::optional<std::string> readHead() {
    while (true) {
      size_t end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = buf_.substr(0, end);
        buf_.erase(0, end + 4);
        return head;
      }
      if (buf_.size() > 1024 * 1024 || !fill()) return std::nullopt;
    }
  }

  std::optional<std::string> readLine() {
    while (true) {
      size_t end = buf_.find("\r\n");
      if (end != std::string::npos) {
        std::string line = buf_.substr(0, end);
        buf_.erase(0, end + 2);
        return line;
      }
      if (buf_.size() > 64 * 1024 || !fill()) return std::nullopt;
    }
  }

  // Delivers exactly n bytes to `sink`; false on EOF.
  bool readExactly(uint64_t n, const std::function<void(const char*, size_t)>& sink) {
    while (n > 0) {
      if (buf_.empty() && !fill(std::min<uint64_t>(n, 256 * 1024))) return false;
      size_t take = static_cast<size_t>(std::min<uint64_t>(n, buf_.size()));
      sink(buf_.data(), take);
      buf_.erase(0, take);
      n -= take;
    }
    return true;
  }

  bool sendAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t w = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      data.remove_prefix(static_cast<size_t>(w));
    }
    return true;
  }

  // Waits for the peer to close; bytes it sends meanwhile are discarded.
  void waitPeerClose(const std::atomic<bool>& stop) {
    char tmp[4096];
    while (!stop) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      ssize_t r = ::recv(fd_, tmp, sizeof tmp, 0);
      if (r == 0 || (r < 0 && errno != EINTR)) return;
    }
  }

 private:
  bool fill(size_t max = 256 * 1024) {
    char tmp[256 * 1024];
    while (true) {
      ssize_t r = ::recv(fd_, tmp, std::min(max, sizeof tmp), 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(r));
      return true;
    }
  }

  int fd_;
  std::string buf_;
};

std::string reasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

}  // namespace

void TestOrigin::serveConnection(int fd, uint64_t connection_id) {
  OriginConn conn(fd);
  int index_on_connection = 0;
  auto finish = [&](bool rst) {
    if (rst) {
      linger l{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    ::close(fd);
    cv_.notify_all();
  };

  while (!stop_) {
    auto head = conn.readHead();
    if (!head) break;
    Request req;
    req.connection_id = connection_id;
    req.index_on_connection = index_on_connection++;
    std::string start_line;
    if (!parseHead(*head, start_line, req.headers)) break;
    {
      std::istringstream in(start_line);
      in >> req.method >> req.target >> req.version;
    }
    req.chunked = hasChunkedCoding(req.headers);
    size_t index;
    {
      std::lock_guard<std::mutex> lock(mu_);
      index = requests_.size();
      requests_.push_back(req);
      cv_.notify_all();
    }
    Behaviour behaviour = behaviourFor(req.path());
    if (behaviour.kind == Behaviour::Kind::kClose || behaviour.kind == Behaviour::Kind::kReset) {
      updateRequest(index, [](Request& r) { r.state = Request::State::kAborted; });
      finish(behaviour.kind == Behaviour::Kind::kReset);
      return;
    }
    auto expect = req.header("expect");
    if (expect && equalsIgnoreCase(*expect, "100-continue")) {
      if (!conn.sendAll("HTTP/1.1 100 Continue\r\n\r\n")) break;
    }

    // The request body: counted, checked against the pattern, the first
    // kMaxStoredBody bytes kept. Progress is published as it arrives so that
    // tests can see a request that is still receiving its body.
    PatternChecker checker;
    uint64_t received = 0;
    bool paused = false;
    std::string stored;
    uint64_t published = 0;
    auto sink = [&](const char* data, size_t len) {
      checker.update(data, len);
      if (stored.size() < kMaxStoredBody) stored.append(data, std::min(len, kMaxStoredBody - stored.size()));
      received += len;
      if (received - published >= 64 * 1024) {
        published = received;
        updateRequest(index, [&](Request& r) { r.body_bytes = received; });
      }
      if (!paused && behaviour.pause_ms > 0 && received >= behaviour.pause_after_body_bytes) {
        paused = true;
        interruptibleSleep(behaviour.pause_ms);
      }
    };
    bool body_ok = true;
    if (req.chunked) {
      while (body_ok) {
        auto line = conn.readLine();
        if (!line) { body_ok = false; break; }
        uint64_t size = 0;
        try {
          size = std::stoull(line->substr(0, line->find(';')), nullptr, 16);
        } catch (...) {
          body_ok = false;
          break;
        }
        if (size == 0) {
          while (true) {  // trailer section
            auto trailer = conn.readLine();
            if (!trailer) { body_ok = false; break; }
            if (trailer->empty()) break;
          }
          break;
        }
        if (!conn.readExactly(size, sink)) { body_ok = false; break; }
        auto crlf = conn.readLine();
        if (!crlf || !crlf->empty()) body_ok = false;
      }
    } else if (auto cl = req.header("content-length")) {
      uint64_t n = 0;
      try {
        n = std::stoull(*cl);
      } catch (...) {
        body_ok = false;
      }
      if (body_ok) body_ok = conn.readExactly(n, sink);
    }
    updateRequest(index, [&](Request& r) {
      r.body_bytes = received;
      r.body = stored;
      r.body_matches_pattern = checker.ok();
      r.state = body_ok ? Request::State::kComplete : Request::State::kAborted;
      req = r;
    });
    if (!body_ok) break;

    if (behaviour.delay_ms > 0 && !interruptibleSleep(behaviour.delay_ms)) break;

    bool is_head = req.method == "HEAD";
    auto conn_header = req.header("connection");
    bool close_after = (conn_header && toLower(*conn_header).find("close") != std::string::npos) ||
                       req.version == "HTTP/1.0";
    bool sent = true;
    switch (behaviour.kind) {
      case Behaviour::Kind::kEcho: {
        std::string body = echoJson(req).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::string out = "HTTP/1.1 " + std::to_string(behaviour.status) + " " + reasonPhrase(behaviour.status) +
                          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n";
        for (const auto& [n, v] : behaviour.extra_headers) out += n + ": " + v + "\r\n";
        if (close_after) out += "Connection: close\r\n";
        out += "\r\n";
        if (!is_head) out += body;
        sent = conn.sendAll(out);
        break;
      }
      case Behaviour::Kind::kStream: {
        std::string out = "HTTP/1.1 " + std::to_string(behaviour.status) + " " + reasonPhrase(behaviour.status) +
                          "\r\nContent-Type: application/octet-stream\r\n";
        out += behaviour.chunked ? std::string("Transfer-Encoding: chunked\r\n")
                                 : "Content-Length: " + std::to_string(behaviour.bytes) + "\r\n";
        for (const auto& [n, v] : behaviour.extra_headers) out += n + ": " + v + "\r\n";
        if (close_after) out += "Connection: close\r\n";
        out += "\r\n";
        sent = conn.sendAll(out);
        if (is_head) break;
        std::vector<char> chunk(256 * 1024);
        uint64_t offset = 0;
        while (sent && offset < behaviour.bytes && !stop_) {
          size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), behaviour.bytes - offset));
          fillPattern(offset, chunk.data(), n);
          if (behaviour.chunked) {
            char size_line[32];
            snprintf(size_line, sizeof size_line, "%zx\r\n", n);
            sent = conn.sendAll(size_line);
          }
          sent = sent && conn.sendAll(std::string_view(chunk.data(), n));
          if (behaviour.chunked) sent = sent && conn.sendAll("\r\n");
          offset += n;
        }
        if (sent && behaviour.chunked) sent = conn.sendAll("0\r\n\r\n");
        break;
      }
      case Behaviour::Kind::kRaw:
        conn.sendAll(behaviour.raw);
        sent = false;  // always close after raw bytes
        break;
      case Behaviour::Kind::kNoResponse:
        conn.waitPeerClose(stop_);
        sent = false;
        break;
      case Behaviour::Kind::kClose:
      case Behaviour::Kind::kReset:
        break;
    }
    if (!sent || close_after) break;
  }
  finish(false);
}

// ---------------------------------------------------------------------------
nlohmann::json HttpResponse::json() const { return nlohmann::json::parse(body, nullptr, false); }

RawClient::~RawClient() { close(); }

bool RawClient::connect(uint16_t port) {
  close();
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    last_errno_ = errno;
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    last_errno_ = errno;
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setNonBlocking(fd_);
  peer_closed_ = false;
  buf_.clear();
  return true;
}

void RawClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RawClient::shutdownWrite() {
  if (fd_ >= 0) shutdown(fd_, SHUT_WR);
}

bool RawClient::sendAll(std::string_view data, Millis timeout) {
  if (fd_ < 0) return false;
  auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    ssize_t w = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (w > 0) {
      data.remove_prefix(static_cast<size_t>(w));
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      pollfd p{fd_, POLLOUT, 0};
      if (Clock::now() >= deadline) return false;
      poll(&p, 1, std::min(remainingMs(deadline), 50));
      continue;
    }
    last_errno_ = errno;
    return false;
  }
  return true;
}

bool RawClient::fill(Clock::time_point deadline) {
  if (fd_ < 0 || peer_closed_) return false;
  char tmp[256 * 1024];
  while (true) {
    ssize_t r = ::recv(fd_, tmp, sizeof tmp, 0);
    if (r > 0) {
      buf_.append(tmp, static_cast<size_t>(r));
      return true;
    }
    if (r == 0) {
      peer_closed_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      last_errno_ = errno;
      peer_closed_ = true;  // reset
      return false;
    }
    int left = remainingMs(deadline);
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    poll(&p, 1, left);
  }
}

bool RawClient::readable(Millis timeout) {
  if (!buf_.empty() || peer_closed_) return true;
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  return poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

std::string RawClient::readSome(Millis timeout) {
  fill(Clock::now() + timeout);
  std::string out;
  out.swap(buf_);
  return out;
}

bool RawClient::waitClosed(Millis timeout) {
  auto deadline = Clock::now() + timeout;
  while (!peer_closed_) {
    if (buf_.size() > 64 * 1024 * 1024) buf_.clear();
    if (!fill(deadline) && !peer_closed_) return false;
  }
  return true;
}

std::optional<HttpResponse> RawClient::readResponse(Millis timeout, const ReadOptions& options) {
  auto deadline = Clock::now() + timeout;
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) return std::nullopt;
  }
  HttpResponse resp;
  std::string head = buf_.substr(0, end);
  buf_.erase(0, end + 4);
  std::string status_line;
  parseHead(head, status_line, resp.headers);
  {
    std::istringstream in(status_line);
    std::string code;
    in >> resp.version >> code;
    try {
      resp.status = std::stoi(code);
    } catch (...) {
      resp.status = -1;
    }
    std::getline(in, resp.reason);
    resp.reason = trimOws(resp.reason);
  }
  auto deliver = [&](const char* data, size_t len) {
    resp.body_bytes += len;
    if (options.body_sink) {
      options.body_sink(data, len);
    } else {
      resp.body.append(data, len);
    }
  };
  if ((resp.status >= 100 && resp.status < 200) || resp.status == 204 || resp.status == 304 ||
      options.head_request) {
    resp.complete = true;
    return resp;
  }
  // Takes n bytes from buf_ and the socket.
  auto take = [&](uint64_t n) -> bool {
    while (n > 0) {
      if (buf_.empty() && !fill(deadline)) return false;
      size_t k = static_cast<size_t>(std::min<uint64_t>(n, buf_.size()));
      deliver(buf_.data(), k);
      buf_.erase(0, k);
      n -= k;
    }
    return true;
  };
  auto take_line = [&](std::string& line) -> bool {
    size_t e;
    while ((e = buf_.find("\r\n")) == std::string::npos) {
      if (!fill(deadline)) return false;
    }
    line = buf_.substr(0, e);
    buf_.erase(0, e + 2);
    return true;
  };
  if (hasChunkedCoding(resp.headers)) {
    while (true) {
      std::string line;
      if (!take_line(line)) return resp;
      uint64_t size = 0;
      try {
        size = std::stoull(line.substr(0, line.find(';')), nullptr, 16);
      } catch (...) {
        return resp;
      }
      if (size == 0) {
        while (true) {
          if (!take_line(line)) return resp;
          if (line.empty()) break;
        }
        resp.complete = true;
        return resp;
      }
      if (!take(size)) return resp;
      if (!take_line(line) || !line.empty()) return resp;
    }
  }
  if (auto cl = resp.header("content-length")) {
    uint64_t n = 0;
    try {
      n = std::stoull(*cl);
    } catch (...) {
      return resp;
    }
    resp.complete = take(n);
    return resp;
  }
  // Read until close.
  while (true) {
    if (!buf_.empty()) {
      deliver(buf_.data(), buf_.size());
      buf_.clear();
    }
    if (!fill(deadline)) break;
  }
  resp.complete = peer_closed_;
  return resp;
}

std::string buildRequest(const std::string& method, const std::string& target, const Headers& headers,
                         const std::string& body, const std::string& host) {
  std::string out = method + " " + target + " HTTP/1.1\r\n";
  if (!findHeader(headers, "host")) out += "Host: " + host + "\r\n";
  for (const auto& [n, v] : headers) out += n + ": " + v + "\r\n";
  if (!body.empty() && !findHeader(headers, "content-length") && !findHeader(headers, "transfer-encoding")) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

HttpResponse roundTrip(uint16_t port, const std::string& raw, Millis timeout, const ReadOptions& options) {
  RawClient client;
  if (!client.connect(port)) return {};
  if (!client.sendAll(raw)) return {};
  auto resp = client.readResponse(timeout, options);
  while (resp && resp->status >= 100 && resp->status < 200) resp = client.readResponse(timeout, options);
  return resp ? *resp : HttpResponse{};
}

uint16_t unusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// ---------------------------------------------------------------------------
void GatewayTest::TearDown() {
  if (HasFailure() && gateway_) {
    std::string err = gateway_->stderrText();
    if (err.size() > 4000) err = "..." + err.substr(err.size() - 4000);
    std::cerr << "---- isogate stderr (tail) ----\n" << err << "\n-------------------------------\n";
  }
}

nlohmann::json GatewayTest::baseConfig() const {
  return {
      {"listen", {"127.0.0.1:0"}},
      {"workers", 2},
      {"shutdown_grace_ms", 3000},
      {"limits",
       {{"header_bytes", 4096},
        {"body_bytes", 1 * kMiB},
        {"header_timeout_ms", 3000},
        {"idle_timeout_ms", 10000}}},
      {"origins", {{"o", {{"url", origin_.url()}, {"timeout_ms", 3000}, {"retries", 0}}}}},
      {"routes", {{{"name", "api"}, {"match", {{"path", "/api/*"}}}, {"proxy", {{"origin", "o"}}}}}},
  };
}

uint16_t GatewayProcess::waitForListeningPort(const std::string& what_scheme, Millis timeout) const {
  const std::string prefix = "isogate: " + what_scheme + "://";
  uint16_t port = 0;
  pollUntil(
      [&] {
        std::string text = stderrText();
        size_t at = text.find(prefix);
        if (at == std::string::npos) return false;
        size_t end = text.find('\n', at);
        std::string line = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
        size_t colon = line.rfind(':');
        if (colon == std::string::npos || colon + 1 >= line.size()) return false;
        port = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
        return port != 0;
      },
      timeout);
  return port;
}

bool GatewayTest::startGateway(const nlohmann::json& config, Millis timeout) {
  return startGatewayWithArgs(config, {"serve", "-c", "CONFIG"}, timeout);
}

bool GatewayTest::startGatewayWithArgs(const nlohmann::json& config, std::vector<std::string> args,
                                       Millis timeout) {
  std::string path = dir_.write("isogate.json", config.dump(2));
  for (auto& a : args) {
    if (a == "CONFIG") a = path;
  }
  gateway_ = std::make_unique<GatewayProcess>(args, dir_.path());
  if (!gateway_->started()) {
    ADD_FAILURE() << "could not start " << isogateBinary();
    return false;
  }
  port_ = gateway_->waitForListening(timeout);
  if (port_ == 0) {
    auto status = gateway_->waitExit(Millis(0));
    ADD_FAILURE() << "isogate did not report 'isogate: listening on http://HOST:PORT' within " << timeout.count()
                  << " ms" << (status ? " (it exited with code " + std::to_string(status->code) + ")" : "")
                  << "; stderr:\n"
                  << gateway_->stderrText();
    return false;
  }
  return true;
}

HttpResponse GatewayTest::get(const std::string& target, const Headers& headers, Millis timeout) {
  return request("GET", target, headers, "", timeout);
}

HttpResponse GatewayTest::request(const std::string& method, const std::string& target, const Headers& headers,
                                  const std::string& body, Millis timeout) {
  Headers h = headers;
  if (!findHeader(h, "connection")) h.emplace_back("Connection", "close");
  ReadOptions options;
  options.head_request = method == "HEAD";
  return roundTrip(port_, buildRequest(method, target, h, body), timeout, options);
}

void expectErrorBody(const HttpResponse& response, const std::string& code) {
  auto ct = response.header("content-type");
  EXPECT_TRUE(ct && toLower(*ct).find("application/json") != std::string::npos)
      << "Content-Type: " << ct.value_or("(none)");
  auto j = response.json();
  ASSERT_TRUE(j.is_object()) << "error body is not a JSON object: " << response.body;
  EXPECT_EQ(j.value("error", ""), code) << response.body;
  EXPECT_TRUE(j.contains("message") && j["message"].is_string()) << response.body;
  ASSERT_TRUE(j.contains("request_id") && j["request_id"].is_string()) << response.body;
  EXPECT_FALSE(j["request_id"].get<std::string>().empty());
  if (auto rid = response.header("x-request-id")) {
    EXPECT_EQ(j["request_id"].get<std::string>(), *rid) << "body request_id differs from X-Request-ID";
  }
}

}  // namespace isogate::e2e
