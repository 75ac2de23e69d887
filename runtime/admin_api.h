#pragma once
// What the admin listener answers, apart from its HTTP plumbing
// (admin_server.h): /healthz, /readyz, /metrics, and the token-protected
// /admin/config, /admin/stats and POST /admin/cache/purge.
//
// Threads: the main thread sets the running deployment, the token and the
// readiness; the admin thread calls handle(). Both may run at once: the
// deployment and token sit behind a mutex (never taken by workers),
// readiness is atomic.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "runtime/http_message.h"

namespace isogate {

class Deployment;
namespace cache {
class Store;
}

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HeaderList headers;  // besides Content-Type and Content-Length
};

class AdminApi {
 public:
  // Main thread. `token` is the value of admin.token_env ("" when unset or
  // empty: /admin/* then answers 404, it is never open).
  void setDeployment(std::shared_ptr<const Deployment> deployment, int64_t loaded_unix_ms, std::string token);
  // Main thread, before the admin thread starts: the process's response
  // cache (null when off) for POST /admin/cache/purge.
  void setResponseCache(std::shared_ptr<cache::Store> store) { response_cache_ = std::move(store); }
  // Listening with a loaded deployment.
  void setReady() { ready_.store(true, std::memory_order_release); }
  // SIGTERM/SIGINT: /readyz answers 503 from now on.
  void setDraining() { draining_.store(true, std::memory_order_release); }

  // Admin thread. `authorization` is the Authorization header, or null;
  // `body` the request body. GET and HEAD are served (405 otherwise), and
  // POST on /admin/cache/purge; the caller drops the body of a HEAD response.
  AdminResponse handle(std::string_view method, std::string_view target, const std::string* authorization,
                       std::string_view body = {}) const;

 private:
  AdminResponse configJson() const;
  AdminResponse statsJson() const;
  AdminResponse cachePurge(std::string_view body) const;
  // Whether `authorization` carries the token, compared in constant time.
  bool authorized(const std::string* authorization) const;

  mutable std::mutex mutex_;  // guards the three below
  std::shared_ptr<const Deployment> deployment_;
  int64_t loaded_unix_ms_ = 0;
  std::string token_;
  std::shared_ptr<cache::Store> response_cache_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace isogate
