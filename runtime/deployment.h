#pragma once
// A Deployment is one loaded config and its checked scripts: immutable,
// shared by all workers through shared_ptr, except for the process-wide
// health of its origins (OriginHealth: circuit breakers, addresses up), which
// is thread-safe. A reload builds a new Deployment; workers switch at request
// boundaries. A DeploymentInstance is one worker's live state for a
// Deployment (its origin pools, isolates and, on one worker, the health
// checker); exchanges hold it so the pools they use outlive a reload.

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kv/rate_counters.h"
#include "kv/store.h"
#include "runtime/config.h"
#include "runtime/router.h"
#include "runtime/script_bundle.h"
#include "runtime/timer.h"
#include "runtime/upstream.h"

namespace isogate {

class HealthChecker;
class OriginHealth;
class ScriptInstance;
class TlsServerContext;
class Worker;

class Deployment {
 public:
  enum class Use { kCheck, kServe };
  // Loads and checks every script bundle (main thread). Throws ConfigError
  // when the config uses something this build cannot run, ScriptError when a
  // script does not compile or link. kServe also opens the KV store and the
  // rate-limit counters under kv.path when a binding needs them; failing to
  // open them is not fatal (see kvStore()).
  explicit Deployment(Config config, Use use = Use::kServe);
  ~Deployment();

  const Config& config() const { return config_; }
  const Router& router() const { return router_; }
  uint64_t id() const { return id_; }
  // The bundle of a script route (null for proxy routes).
  std::shared_ptr<const ScriptBundle> bundle(size_t route_index) const;
  // The HTTPS listener's certificates (null without a "tls" section). Its
  // https:// origins carry their client settings in OriginConfig::tls_client.
  const std::shared_ptr<const TlsServerContext>& tlsServer() const { return tls_server_; }

  // The process-wide health (breaker, addresses up) of a configured origin;
  // null for unknown names and for kCheck deployments, which never serve.
  // Thread-safe; lives as long as the Deployment.
  OriginHealth* originHealth(const std::string& origin_name) const;
  // True for exactly one caller per Deployment: the one that runs its health
  // checks (so they run once per process, not once per worker).
  bool claimHealthChecks() const { return !health_checks_claimed_.exchange(true); }

  // The process's KV store and rate counters for kv.path (shared by every
  // deployment on the same path), or null when no binding needs them or they
  // could not be opened; then *Error() says why and kv operations fail while
  // rate limiters fail open.
  const std::shared_ptr<kv::Store>& kvStore() const { return kv_store_; }
  const std::string& kvStoreError() const { return kv_store_error_; }
  const std::shared_ptr<kv::RateCounters>& rateCounters() const { return rate_counters_; }
  const std::string& rateCountersError() const { return rate_counters_error_; }

 private:
  void openStores();

  Config config_;
  Router router_;
  uint64_t id_;
  std::shared_ptr<kv::Store> kv_store_;
  std::string kv_store_error_;
  std::shared_ptr<kv::RateCounters> rate_counters_;
  std::string rate_counters_error_;
  std::vector<std::shared_ptr<const ScriptBundle>> bundles_;  // by route index
  std::shared_ptr<const TlsServerContext> tls_server_;
  std::map<std::string, std::unique_ptr<OriginHealth>> origin_health_;
  mutable std::atomic<bool> health_checks_claimed_{false};
};

// Settings that load but have no effect (a route's cache while
// cache.max_mb is 0), one line each, so `serve` and `check` can say so instead of
// silently ignoring them.
std::vector<std::string> inactiveSettings(const Config& config);

// Per-worker state a binding keeps across requests and isolate rebuilds
// (a JWT binding's key set and verification cache). Loop thread only.
class BindingState {
 public:
  virtual ~BindingState() = default;
};

class DeploymentInstance {
 public:
  // Built on the worker's thread, or before that thread starts.
  DeploymentInstance(Worker& worker, std::shared_ptr<const Deployment> deployment);
  ~DeploymentInstance();
  const Deployment& deployment() const { return *deployment_; }
  Worker& worker() const { return worker_; }
  // The worker-local pool for a configured origin; nullptr if unknown.
  OriginPool* pool(const std::string& origin_name);
  // A pool for a host reached through the egress allow-list (created on first use).
  OriginPool* egressPool(const std::string& scheme, const std::string& host, uint16_t port);
  const std::map<std::string, std::unique_ptr<OriginPool>>& pools() const { return pools_; }

  // The route's script instance on this worker, created on first use.
  // nullptr with *error set when it cannot be created.
  ScriptInstance* scriptInstance(size_t route_index, std::string* error);
  // Drops a broken instance (cpu_ms, memory_mb): its requests get 503 and the
  // next request builds a fresh one. The isolate is disposed on the next loop
  // iteration, outside any JavaScript.
  void discardScriptInstance(size_t route_index);
  // Whether a script still has work in flight (responses or waitUntil):
  // a worker keeps a replaced instance until this turns false.
  bool hasLiveWork() const;
  // Builds a spare isolate (bindings installed, no route) if the deployment
  // has script routes and none is ready. Loop thread; takes a few ms.
  void prepareSpare();

  // The state a binding keeps on this worker, by a key the binding chooses
  // (e.g. "<route index>/<binding name>"); null until set.
  BindingState* bindingState(const std::string& key) const;
  BindingState* setBindingState(const std::string& key, std::unique_ptr<BindingState> state);

 private:
  void prepareSpareWhenQuiet();

  Worker& worker_;
  std::shared_ptr<const Deployment> deployment_;
  std::map<std::string, std::unique_ptr<OriginPool>> pools_;
  std::map<std::string, std::unique_ptr<OriginPool>> egress_pools_;
  std::unique_ptr<HealthChecker> health_checker_;
  std::map<std::string, std::unique_ptr<BindingState>> binding_states_;
  std::map<size_t, std::unique_ptr<ScriptInstance>> scripts_;
  std::unique_ptr<ScriptInstance> spare_;
  std::unique_ptr<Timer> spare_timer_;  // replenishes the spare after a request used it
  uint64_t spare_wait_started_ms_ = 0;
};

}  // namespace isogate
