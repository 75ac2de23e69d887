#pragma once
// A worker thread: its own uv loop, its own SO_REUSEPORT listening sockets,
// its connections, its origin connection pools and its access-log buffer.
// Nothing here is shared with other workers except the immutable Deployment
// and the LogOutput; other threads talk to a worker only through post().

#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/access_log.h"
#include "runtime/cpu_watchdog.h"
#include "runtime/deployment.h"
#include "runtime/exchange.h"
#include "runtime/loop_mailbox.h"
#include "runtime/timer.h"

namespace isogate {

namespace cache {
class Store;
}
class ServerConnection;
class TlsServerContext;

class Worker {
 public:
  struct Options {
    int index = 0;
    std::vector<int> listen_fds;  // bound, listening sockets; the worker owns them
    std::vector<int> tls_listen_fds;  // the same for HTTPS (needs a deployment with "tls")
    AccessLog::Format log_format = AccessLog::Format::kJson;
    bool dev = false;
    // The process's response cache, shared by every worker; null when
    // cache.max_mb is 0.
    std::shared_ptr<cache::Store> response_cache;
  };
  Worker(Options options, std::shared_ptr<const Deployment> deployment, LogOutput& log_output);
  ~Worker();

  // Thread-safe controls.
  void start();
  void join();
  void setDeployment(std::shared_ptr<const Deployment> deployment);
  // Stops accepting, lets in-flight exchanges finish, force-closes what is
  // left after `grace_ms`; the thread ends when everything is closed.
  void drain(uint64_t grace_ms);

  // Loop-thread API (connections and handlers).
  uv_loop_t* loop() { return &loop_; }
  char* readBuffer() { return read_buffer_.get(); }
  static constexpr size_t kReadBufferSize = 64 * 1024;
  // "Date: <IMF-fixdate>\r\n", refreshed once a second.
  const std::string& dateHeader();
  // A finished exchange: writes its access-log line and counts it in the
  // metrics (every request, including 404s and errors).
  void logRequest(const AccessLogEntry& entry, double latency_ms);
  bool draining() const { return draining_; }
  bool devMode() const { return options_.dev; }
  // uv_now() of the last request dispatched (to find a lull for background work).
  uint64_t lastRequestMs() const { return last_request_ms_; }
  // This thread's CPU watchdog slot (registered when the thread starts).
  CpuWatchdog::Slot* cpuWatchdogSlot() const { return watchdog_slot_; }
  const Deployment& deployment() const { return instance_->deployment(); }
  // The process-wide response cache (thread-safe), or null when caching is
  // off (cache.max_mb 0). Lives as long as the process.
  cache::Store* responseCache() const { return options_.response_cache.get(); }

  // Routes a request whose head has arrived. Returns the handler that will
  // produce the response, or nullptr when the worker already answered
  // (404, 405, 400 for a bad path).
  std::unique_ptr<ExchangeHandler> dispatch(Exchange& exchange);

  // Runs `fn` on this worker's thread; callable from any thread. Work
  // posted after the worker finished is dropped.
  void post(std::function<void()> fn) { mailbox_->post(std::move(fn)); }
  // For posters that may outlive the worker (the KV writer thread).
  std::shared_ptr<LoopMailbox> mailbox() const { return mailbox_; }

  // Defers `fn` to the next loop iteration (never runs it inline).
  void defer(std::function<void()> fn);
  // Destroys a finished handler outside of its own call stack.
  void retire(std::unique_ptr<ExchangeHandler> handler);

  void addConnection(ServerConnection* connection);
  void removeConnection(ServerConnection* connection);

 private:
  void run();
  static void onCheck(uv_check_t* handle);
  void scheduleDeferred();
  static void onConnection(uv_stream_t* server, int status);
  void beginDrain(uint64_t grace_ms);
  void addListener(int fd, bool secure);
  void pruneRetiring();
  void maybeFinish();

  Options options_;
  LogOutput& log_output_;
  uv_loop_t loop_;
  std::shared_ptr<LoopMailbox> mailbox_;
  uv_idle_t idle_;    // keeps poll from blocking while deferred work waits
  uv_check_t check_;  // runs deferred work after each iteration's I/O
  struct Listener {
    uv_tcp_t tcp;  // first: the close callback frees the Listener through it
    Worker* worker;
    bool secure;
  };
  std::vector<Listener*> listeners_;
  // The certificates new HTTPS connections use: the newest deployment's
  // (a deployment without "tls" leaves the previous ones in place).
  std::shared_ptr<const TlsServerContext> tls_context_;
  std::unique_ptr<char[]> read_buffer_;
  std::unique_ptr<AccessLog> access_log_;
  std::shared_ptr<DeploymentInstance> instance_;
  std::unique_ptr<Timer> grace_timer_;
  // Replaced deployments whose scripts still have waitUntil work.
  std::vector<std::shared_ptr<DeploymentInstance>> retiring_;
  std::unique_ptr<Timer> retiring_timer_;
  std::string date_header_;
  uint64_t date_second_ = 0;
  bool draining_ = false;
  bool finished_ = false;
  uint64_t last_request_ms_ = 0;
  ServerConnection* connections_ = nullptr;
  size_t connection_count_ = 0;

  std::vector<std::function<void()>> deferred_;
  std::vector<std::unique_ptr<ExchangeHandler>> retired_;
  std::thread thread_;
  CpuWatchdog::Slot* watchdog_slot_ = nullptr;
};

}  // namespace isogate
