#include "runtime/gateway.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <vector>

#include "cache/store.h"
#include "runtime/admin_api.h"
#include "runtime/admin_server.h"
#include "runtime/config.h"
#include "runtime/deployment.h"
#include "runtime/timer.h"
#include "runtime/tls_context.h"
#include "runtime/worker.h"

namespace isogate {

namespace {

constexpr uint16_t kDevPort = 8787;
constexpr uint64_t kDevReloadDebounceMs = 100;

// Creates a listening socket with SO_REUSEPORT so that every worker can have
// its own and the kernel spreads connections across them.
int bindListener(const ListenAddress& address, uint16_t port, std::string* error) {
  sockaddr_storage addr{};
  socklen_t len;
  int family;
  if (uv_ip4_addr(address.host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) == 0) {
    family = AF_INET;
    len = sizeof(sockaddr_in);
  } else if (uv_ip6_addr(address.host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    family = AF_INET6;
    len = sizeof(sockaddr_in6);
  } else {
    *error = "invalid address " + address.host;
    return -1;
  }
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, 1024) != 0) {
    *error = strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

uint16_t boundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

std::string urlHost(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

int64_t unixMillis() {
  uv_timeval64_t tv;
  uv_gettimeofday(&tv);
  return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

// The admin token, read when a deployment is loaded ("" when unset).
std::string adminToken(const Config& config) {
  const char* value = getenv(config.admin.token_env.c_str());
  return value ? value : "";
}

class Process {
 public:
  explicit Process(const GatewayOptions& options) : options_(options) {}
  int run();

 private:
  std::shared_ptr<const Deployment> load();
  bool bindAll(const std::vector<ListenAddress>& addresses, size_t workers, const char* scheme,
               std::vector<std::vector<int>>* fds_per_worker);
  // dev --tls: makes (or finds) the self-signed certificate; false on failure.
  bool prepareDevCertificate();
  void reload(const char* why);
  void shutdown();
  // dev: watch the config's directory and every directory holding a module
  // of the bundle; a change to the config or a script reloads.
  void watchBundle(const Deployment& deployment);
  void closeWatches();

  static void onSignal(uv_signal_t* handle, int signum);
  static void onFileChanged(uv_fs_event_t* handle, const char* filename, int events, int status);

  GatewayOptions options_;
  uv_loop_t loop_;
  uv_signal_t sigterm_, sigint_, sighup_;
  std::map<std::string, uv_fs_event_t*> watches_;  // directory -> watch
  std::set<std::string> watched_files_;             // absolute paths that trigger a reload
  std::unique_ptr<Timer> reload_debounce_;
  std::unique_ptr<LogOutput> log_output_;
  std::vector<std::unique_ptr<Worker>> workers_;
  // The process's response cache (cache.max_mb at start; null when 0).
  // Kept across reloads; workers and the admin API share it.
  std::shared_ptr<cache::Store> response_cache_;
  AdminApi admin_api_;                   // outlives admin_
  std::unique_ptr<AdminServer> admin_;   // when admin.listen is set
  uint32_t grace_ms_ = 10000;
  bool stopping_ = false;
  bool tls_listening_ = false;
  std::optional<TlsCertificateConfig> dev_certificate_;  // dev --tls without a "tls" section
};

std::shared_ptr<const Deployment> Process::load() {
  Config config = loadConfig(options_.config_file);
  if (dev_certificate_ && !config.tls) {
    config.tls.emplace();
    config.tls->listen = {ListenAddress{"127.0.0.1", 0}};  // dev binds its own address
    config.tls->certificates = {*dev_certificate_};
  }
  return std::make_shared<const Deployment>(std::move(config));
}

bool Process::prepareDevCertificate() {
  std::filesystem::path config_dir = std::filesystem::absolute(options_.config_file).parent_path();
  std::string dir = (config_dir / ".isogate" / "tls").lexically_normal().string();
  TlsCertificateConfig certificate;
  bool created = false;
  std::string error;
  if (!ensureDevCertificate(dir, &certificate.cert, &certificate.key, &created, &error)) {
    fprintf(stderr, "isogate: --tls: %s\n", error.c_str());
    return false;
  }
  fprintf(stderr, "isogate: %s TLS certificate for localhost: %s (trust it with curl --cacert %s)\n",
          created ? "created a self-signed" : "using the self-signed", certificate.cert.c_str(),
          certificate.cert.c_str());
  dev_certificate_ = certificate;
  return true;
}

bool Process::bindAll(const std::vector<ListenAddress>& addresses, size_t workers, const char* scheme,
                      std::vector<std::vector<int>>* fds_per_worker) {
  fds_per_worker->assign(workers, {});
  for (const ListenAddress& address : addresses) {
    uint16_t port = address.port;
    for (size_t w = 0; w < workers; ++w) {
      std::string error;
      int fd = bindListener(address, port, &error);
      if (fd < 0) {
        fprintf(stderr, "isogate: cannot listen on %s: %s\n", address.display().c_str(), error.c_str());
        return false;
      }
      if (port == 0) port = boundPort(fd);  // the other workers share the picked port
      (*fds_per_worker)[w].push_back(fd);
    }
    fprintf(stderr, "isogate: listening on %s://%s:%u\n", scheme, urlHost(address.host).c_str(), port);
  }
  return true;
}

int Process::run() {
  if (options_.dev && options_.tls && !prepareDevCertificate()) return 1;
  std::shared_ptr<const Deployment> deployment;
  try {
    deployment = load();
  } catch (const ConfigError& e) {
    fprintf(stderr, "%s\n", e.what());
    return 1;
  } catch (const ScriptError& e) {
    fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  const Config& config = deployment->config();
  for (const std::string& warning : inactiveSettings(config)) fprintf(stderr, "isogate: warning: %s\n", warning.c_str());
  for (const std::string& warning : tlsWarnings(config)) fprintf(stderr, "isogate: warning: %s\n", warning.c_str());
  grace_ms_ = config.shutdown_grace_ms;

  std::vector<ListenAddress> addresses = config.listen;
  size_t workers = config.workers;
  if (options_.dev) {
    addresses = {ListenAddress{"127.0.0.1", options_.port.value_or(kDevPort)}};
    workers = 1;
  }
  std::vector<ListenAddress> tls_addresses;
  if (config.tls) {
    tls_addresses = config.tls->listen;
    if (options_.dev) {
      // dev: loopback only, next to the HTTP port unless told otherwise.
      const uint16_t http_port = options_.port.value_or(kDevPort);
      const uint16_t tls_port = options_.tls_port.value_or(http_port == 0 ? 0 : http_port + 1);
      if (tls_port != 0 && tls_port == http_port) {
        fprintf(stderr, "isogate: --tls-port %u is the HTTP port too; pick another\n", tls_port);
        return 1;
      }
      tls_addresses = {ListenAddress{"127.0.0.1", tls_port}};
    }
  }
  if (workers == 0) workers = uv_available_parallelism();

  signal(SIGPIPE, SIG_IGN);
  uv_loop_init(&loop_);
  std::vector<std::vector<int>> fds;
  std::vector<std::vector<int>> tls_fds;
  if (!bindAll(addresses, workers, "http", &fds)) return 1;
  if (!bindAll(tls_addresses, workers, "https", &tls_fds)) return 1;
  tls_listening_ = !tls_addresses.empty();
  response_cache_ = cache::Store::create(config.cache.max_mb);
  admin_api_.setResponseCache(response_cache_);
  admin_api_.setDeployment(deployment, unixMillis(), adminToken(config));
  if (config.admin.listen) {
    // Fixed at start, like the other listen addresses.
    std::string error;
    admin_ = AdminServer::bind(*config.admin.listen, admin_api_, &error);
    if (!admin_) {
      fprintf(stderr, "isogate: cannot listen on %s (admin): %s\n", config.admin.listen->display().c_str(),
              error.c_str());
      return 1;
    }
    fprintf(stderr, "isogate: admin listening on http://%s:%u\n", urlHost(config.admin.listen->host).c_str(),
            admin_->port());
  }

  log_output_ = std::make_unique<LogOutput>(STDOUT_FILENO);
  for (size_t w = 0; w < workers; ++w) {
    Worker::Options wo;
    wo.index = static_cast<int>(w);
    wo.listen_fds = fds[w];
    wo.tls_listen_fds = tls_fds[w];
    wo.log_format = options_.dev ? AccessLog::Format::kPretty : AccessLog::Format::kJson;
    wo.dev = options_.dev;
    wo.response_cache = response_cache_;
    workers_.push_back(std::make_unique<Worker>(std::move(wo), deployment, *log_output_));
  }
  for (auto& w : workers_) w->start();
  // Ready before the admin thread answers anything: its socket has been
  // bound (and announced) already, so a /readyz may be queued waiting.
  admin_api_.setReady();
  if (admin_) admin_->start();

  for (auto [handle, signum] : {std::pair{&sigterm_, SIGTERM}, {&sigint_, SIGINT}, {&sighup_, SIGHUP}}) {
    uv_signal_init(&loop_, handle);
    handle->data = this;
    uv_signal_start(handle, onSignal, signum);
  }
  if (options_.dev) {
    reload_debounce_ = std::make_unique<Timer>(&loop_, [this] { reload("file changed"); });
    watchBundle(*deployment);
  }

  uv_run(&loop_, UV_RUN_DEFAULT);
  for (auto& w : workers_) w->join();
  workers_.clear();
  // The admin listener answers (/readyz 503) until the last worker is done.
  admin_.reset();
  uv_loop_close(&loop_);
  return 0;
}

void Process::onSignal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<Process*>(handle->data);
  if (signum == SIGHUP) {
    self->reload("SIGHUP");
  } else {
    self->shutdown();
  }
}

void Process::reload(const char* why) {
  if (stopping_) return;
  std::shared_ptr<const Deployment> deployment;
  try {
    deployment = load();
  } catch (const std::runtime_error& e) {  // ConfigError or ScriptError
    fprintf(stderr, "isogate: reload (%s) failed, still serving the previous config: %s\n", why, e.what());
    return;
  }
  const Config& config = deployment->config();
  for (const std::string& warning : tlsWarnings(config)) fprintf(stderr, "isogate: warning: %s\n", warning.c_str());
  if (config.tls.has_value() != tls_listening_) {
    fprintf(stderr, "isogate: warning: %s: tls: %s\n", config.file.c_str(),
            tls_listening_ ? "removed, but the HTTPS listeners keep serving the previous certificates until a restart"
                           : "HTTPS listeners start with the process; restart to listen with TLS");
  }
  if (response_cache_ ? deployment->config().cache.max_mb != response_cache_->maxBytes() >> 20
                      : deployment->config().cache.max_mb != 0) {
    fprintf(stderr, "isogate: reload: cache.max_mb is fixed at start; keeping %zu\n",
            response_cache_ ? response_cache_->maxBytes() >> 20 : size_t{0});
  }
  for (auto& w : workers_) w->setDeployment(deployment);
  admin_api_.setDeployment(deployment, unixMillis(), adminToken(deployment->config()));
  if (options_.dev) watchBundle(*deployment);
  fprintf(stderr, "isogate: reloaded %s (%s)\n", options_.config_file.c_str(), why);
}

void Process::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  admin_api_.setDraining();  // /readyz fails from the first moment of the drain
  fprintf(stderr, "isogate: draining (grace %u ms)\n", grace_ms_);
  for (auto& w : workers_) w->drain(grace_ms_);
  // The main loop ends once its own handles are closed; run() then joins the
  // workers, each of which finishes within the grace period.
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sighup_), nullptr);
  closeWatches();
  reload_debounce_.reset();
}

void Process::watchBundle(const Deployment& deployment) {
  // Editors replace files by rename, so directories are watched, not files.
  const Config& config = deployment.config();
  std::set<std::string> files{config.dir + "/" + options_.config_file.substr(options_.config_file.rfind('/') + 1)};
  for (size_t i = 0; i < config.routes.size(); ++i) {
    if (auto bundle = deployment.bundle(i)) {
      for (const auto& [path, module] : bundle->modules()) files.insert(path);
    }
  }
  watched_files_ = files;
  for (const std::string& file : files) {
    std::string dir = file.substr(0, file.rfind('/'));
    if (dir.empty()) dir = "/";
    if (watches_.count(dir)) continue;
    auto* watch = new uv_fs_event_t;
    uv_fs_event_init(&loop_, watch);
    watch->data = this;
    if (uv_fs_event_start(watch, onFileChanged, dir.c_str(), 0) != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(watch), [](uv_handle_t* h) { delete reinterpret_cast<uv_fs_event_t*>(h); });
      continue;
    }
    watches_[dir] = watch;
  }
}

void Process::closeWatches() {
  for (auto& [dir, watch] : watches_) {
    uv_close(reinterpret_cast<uv_handle_t*>(watch), [](uv_handle_t* h) { delete reinterpret_cast<uv_fs_event_t*>(h); });
  }
  watches_.clear();
}

void Process::onFileChanged(uv_fs_event_t* handle, const char* filename, int, int status) {
  auto* self = static_cast<Process*>(handle->data);
  if (status != 0 || !filename || self->stopping_) return;
  char dir[4096];
  size_t len = sizeof dir;
  if (uv_fs_event_getpath(handle, dir, &len) != 0) return;
  std::string path = std::string(dir, len) + "/" + filename;
  if (!self->watched_files_.count(path)) return;
  self->reload_debounce_->start(kDevReloadDebounceMs);
}

}  // namespace

int runGateway(const GatewayOptions& options) {
  Process process(options);
  return process.run();
}

}  // namespace isogate
