#include "runtime/worker.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "runtime/metrics.h"
#include "runtime/proxy_handler.h"
#include "runtime/request_id.h"
#include "runtime/script_handler.h"
#include "runtime/server_connection.h"
#include "runtime/tls_context.h"

namespace isogate {

namespace {
// How often replaced deployments are checked for finished waitUntil work.
constexpr uint64_t kRetiringCheckMs = 1000;
}  // namespace

Worker::Worker(Options options, std::shared_ptr<const Deployment> deployment, LogOutput& log_output)
    : options_(std::move(options)), log_output_(log_output), read_buffer_(new char[kReadBufferSize]) {
  uv_loop_init(&loop_);
  loop_.data = this;
  mailbox_ = LoopMailbox::create(&loop_);
  uv_idle_init(&loop_, &idle_);
  idle_.data = this;
  uv_check_init(&loop_, &check_);
  check_.data = this;
  access_log_ = std::make_unique<AccessLog>(&loop_, options_.log_format, log_output_);
  tls_context_ = deployment->tlsServer();
  instance_ = std::make_shared<DeploymentInstance>(*this, std::move(deployment));
  for (int fd : options_.listen_fds) addListener(fd, false);
  for (int fd : options_.tls_listen_fds) addListener(fd, true);
}

void Worker::addListener(int fd, bool secure) {
  auto* listener = new Listener{{}, this, secure};
  uv_tcp_init(&loop_, &listener->tcp);
  listener->tcp.data = listener;
  uv_tcp_open(&listener->tcp, fd);
  listeners_.push_back(listener);
}

Worker::~Worker() {
  if (thread_.joinable()) thread_.join();
  uv_loop_close(&loop_);
}

void Worker::start() {
  for (Listener* listener : listeners_) {
    uv_listen(reinterpret_cast<uv_stream_t*>(&listener->tcp), 1024, onConnection);
  }
  thread_ = std::thread([this] { run(); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::run() {
  watchdog_slot_ = CpuWatchdog::instance().registerThread();
  generateRequestId();  // seeds this thread's generator now, not on the first request
  instance_->prepareSpare();
  uv_run(&loop_, UV_RUN_DEFAULT);
  // Everything is closed; let the close callbacks of the last handles run.
  access_log_->flush();
  access_log_.reset();
  instance_.reset();
  retired_.clear();
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void Worker::setDeployment(std::shared_ptr<const Deployment> deployment) {
  post([this, deployment = std::move(deployment)]() mutable {
    // In-flight exchanges keep the old instance (and its pools) alive.
    // Scripts of the old deployment may still have waitUntil work after their
    // responses; keep the instance until it is done.
    if (instance_->hasLiveWork()) {
      retiring_.push_back(instance_);
      if (!retiring_timer_) {
        retiring_timer_ = std::make_unique<Timer>(&loop_, [this] { pruneRetiring(); });
        retiring_timer_->start(kRetiringCheckMs, kRetiringCheckMs);
        retiring_timer_->unref();
      }
    }
    // New handshakes use the new certificates; established connections
    // keep the context they started with.
    if (deployment->tlsServer()) tls_context_ = deployment->tlsServer();
    instance_ = std::make_shared<DeploymentInstance>(*this, std::move(deployment));
    instance_->prepareSpare();
  });
}

void Worker::pruneRetiring() {
  for (auto it = retiring_.begin(); it != retiring_.end();) {
    if ((*it)->hasLiveWork()) {
      ++it;
    } else {
      it = retiring_.erase(it);
    }
  }
}

void Worker::drain(uint64_t grace_ms) {
  post([this, grace_ms] { beginDrain(grace_ms); });
}

void Worker::beginDrain(uint64_t grace_ms) {
  if (draining_) return;
  draining_ = true;
  for (Listener* listener : listeners_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener->tcp),
             [](uv_handle_t* h) { delete reinterpret_cast<Listener*>(h); });
  }
  listeners_.clear();
  for (ServerConnection* c = connections_; c;) {
    ServerConnection* next = c->next;
    c->drain();
    c = next;
  }
  grace_timer_ = std::make_unique<Timer>(&loop_, [this] {
    for (ServerConnection* c = connections_; c;) {
      ServerConnection* next = c->next;
      c->forceClose();
      c = next;
    }
  });
  grace_timer_->start(grace_ms);
  maybeFinish();
}

void Worker::maybeFinish() {
  if (!draining_ || connection_count_ > 0 || finished_) return;
  // Last connection gone: release everything that keeps the loop alive so
  // that run() returns.
  finished_ = true;
  grace_timer_.reset();
  retiring_timer_.reset();
  retiring_.clear();
  instance_.reset();
  mailbox_->close();
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
}

void Worker::onConnection(uv_stream_t* server, int status) {
  auto* listener = static_cast<Listener*>(server->data);
  Worker* self = listener->worker;
  if (status != 0 || self->draining_) return;
  std::shared_ptr<const TlsServerContext> tls;
  if (listener->secure) {
    tls = self->tls_context_;
    if (!tls) return;  // cannot happen: HTTPS listeners start with certificates
  }
  auto* connection = new ServerConnection(*self, self->deployment().config().limits, std::move(tls));
  connection->accept(server);
}

void Worker::addConnection(ServerConnection* connection) {
  connection->next = connections_;
  if (connections_) connections_->prev = connection;
  connections_ = connection;
  ++connection_count_;
  metrics::addActiveConnections(1);
}

void Worker::removeConnection(ServerConnection* connection) {
  if (connection->prev) connection->prev->next = connection->next;
  if (connection->next) connection->next->prev = connection->prev;
  if (connections_ == connection) connections_ = connection->next;
  --connection_count_;
  metrics::addActiveConnections(-1);
  maybeFinish();
}

void Worker::logRequest(const AccessLogEntry& entry, double latency_ms) {
  access_log_->write(entry, latency_ms);
  metrics::recordRequest(entry.route, entry.status, latency_ms / 1000.0);
  if (entry.cache != CacheUse::kNone) metrics::recordCacheRequest(entry.route, cacheUseName(entry.cache));
}

const std::string& Worker::dateHeader() {
  uv_timeval64_t tv;
  uv_gettimeofday(&tv);
  const uint64_t second = static_cast<uint64_t>(tv.tv_sec);
  if (second != date_second_ || date_header_.empty()) {
    date_second_ = second;
    time_t t = static_cast<time_t>(second);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[64];
    strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    date_header_ = buf;
  }
  return date_header_;
}

void Worker::defer(std::function<void()> fn) {
  if (finished_) return;
  scheduleDeferred();
  deferred_.push_back(std::move(fn));
}

void Worker::retire(std::unique_ptr<ExchangeHandler> handler) {
  if (finished_) return;  // destroyed right here: nothing can still call it
  scheduleDeferred();
  retired_.push_back(std::move(handler));
}

void Worker::scheduleDeferred() {
  if (!deferred_.empty() || !retired_.empty()) return;
  // The check phase runs right after this iteration's I/O callbacks. The idle
  // handle keeps poll from blocking when the work was queued before poll
  // (timers) or by the check phase itself; check stops it again, so queuing
  // from an I/O callback costs no extra poll.
  uv_check_start(&check_, onCheck);
  uv_idle_start(&idle_, [](uv_idle_t*) {});
}

void Worker::onCheck(uv_check_t* handle) {
  auto* self = static_cast<Worker*>(handle->data);
  uv_idle_stop(&self->idle_);
  std::vector<std::function<void()>> tasks;
  tasks.swap(self->deferred_);
  std::vector<std::unique_ptr<ExchangeHandler>> retired;
  retired.swap(self->retired_);
  retired.clear();
  for (auto& task : tasks) task();
  if (self->deferred_.empty() && self->retired_.empty()) uv_check_stop(&self->check_);
}

std::unique_ptr<ExchangeHandler> Worker::dispatch(Exchange& exchange) {
  last_request_ms_ = uv_now(&loop_);
  const RequestHead& req = exchange.request();
  const Deployment& deployment = instance_->deployment();
  RouteMatchResult match = deployment.router().match(req.method, req.host, exchange.normalizedPath());
  if (match.kind == RouteMatchResult::Kind::kNoRoute) {
    exchange.sendError(404, "no_route", "no route matches " + req.method + " " + exchange.normalizedPath());
    return nullptr;
  }
  if (match.kind == RouteMatchResult::Kind::kMethodNotAllowed) {
    exchange.sendError(405, "method_not_allowed", "method " + req.method + " is not allowed here",
                       {{"Allow", match.allow}});
    return nullptr;
  }
  const RouteConfig& route = deployment.config().routes[match.route_index];
  exchange.logEntry().route = route.name;
  if (route.proxy) {
    OriginPool* pool = instance_->pool(route.proxy->origin);
    if (pool) return std::make_unique<ProxyHandler>(exchange, instance_, route, *pool);
  }
  if (route.script) return std::make_unique<ScriptHandler>(exchange, instance_, match.route_index);
  exchange.sendError(500, "internal_error", "route has no runnable action");
  return nullptr;
}

}  // namespace isogate
