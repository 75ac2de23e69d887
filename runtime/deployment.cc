#include "runtime/deployment.h"

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "runtime/health_checker.h"
#include "runtime/origin_health.h"
#include "runtime/script_instance.h"
#include "runtime/tls_context.h"
#include "runtime/worker.h"

namespace isogate {

namespace {
std::atomic<uint64_t> next_deployment_id{1};
// The id of the newest deployment a worker has started serving. Health
// checkers of older deployments stop when they see a newer one here.
std::atomic<uint64_t> newest_served_id{0};

void noteServed(uint64_t id) {
  uint64_t seen = newest_served_id.load();
  while (seen < id && !newest_served_id.compare_exchange_weak(seen, id)) {
  }
}

void requireSupported(const Config& config) {
  for (size_t i = 0; i < config.routes.size(); ++i) {
    for (const BindingConfig& b : config.routes[i].bindings) {
      if (!envBindingSupported(b.type)) {
        throw ConfigError(config.file + ": routes[" + std::to_string(i) + "].bindings." + b.name +
                          ".type: this binding type is not available in this build");
      }
    }
  }
}
}  // namespace

Deployment::Deployment(Config config, Use use)
    : config_((requireSupported(config), std::move(config))),
      router_(config_.routes),
      id_(next_deployment_id++) {
  // Certificates and CA files load first: a bad one fails the load (and a
  // reload keeps the previous deployment serving).
  if (config_.tls) tls_server_ = TlsServerContext::create(config_);
  for (auto& [name, origin] : config_.origins) {
    if (origin.parsed.scheme == "https") origin.tls_client = TlsClientContext::create(origin, config_.file);
  }
  bundles_.resize(config_.routes.size());
  for (size_t i = 0; i < config_.routes.size(); ++i) {
    if (config_.routes[i].script) bundles_[i] = ScriptBundle::load(*config_.routes[i].script, config_.dir);
  }
  if (use == Use::kServe) {
    openStores();
    // Until a newer deployment serves, this one's breakers own the gauges.
    const uint64_t id = id_;
    auto current = [id] { return newest_served_id.load() <= id; };
    for (const auto& [name, origin] : config_.origins) {
      origin_health_.emplace(name, std::make_unique<OriginHealth>(origin, current));
    }
  }
}

Deployment::~Deployment() = default;

OriginHealth* Deployment::originHealth(const std::string& origin_name) const {
  auto it = origin_health_.find(origin_name);
  return it == origin_health_.end() ? nullptr : it->second.get();
}

void Deployment::openStores() {
  bool needs_kv = false, needs_counters = false;
  for (const RouteConfig& route : config_.routes) {
    for (const BindingConfig& binding : route.bindings) {
      needs_kv = needs_kv || binding.type == BindingConfig::Type::kKv;
      needs_counters = needs_counters || binding.type == BindingConfig::Type::kRateLimit;
    }
  }
  if (needs_kv) {
    kv::StoreOptions options;
    options.path = config_.kv.path;
    options.map_size_mb = config_.kv.map_size_mb;
    options.max_map_size_mb = std::max<uint64_t>(options.max_map_size_mb, config_.kv.map_size_mb);
    options.sync = config_.kv.sync;
    kv::Status status = kv::Store::open(options, &kv_store_);
    if (status.code() == kv::Status::Code::kInvalidArgument) {
      // A reload that flips kv.sync while the store is open: LMDB keeps its
      // open settings, so the change applies at the next start.
      options.sync = !options.sync;
      if (kv::Store::open(options, &kv_store_).isOk()) {
        fprintf(stderr, "isogate: %s: kv.sync: the store is open with sync=%s; the change applies after a restart\n",
                config_.file.c_str(), options.sync ? "true" : "false");
        status = kv::Status();
      }
    }
    if (!status.isOk()) {
      kv_store_error_ = "cannot open the KV store at " + config_.kv.path + ": " + status.message();
      fprintf(stderr, "isogate: %s: kv.path: %s; kv bindings will fail\n", config_.file.c_str(),
              kv_store_error_.c_str());
    }
  }
  if (needs_counters) {
    kv::RateCountersOptions options;
    options.path = config_.kv.path + "/counters";
    kv::Status status = kv::RateCounters::open(options, &rate_counters_);
    if (!status.isOk()) {
      rate_counters_error_ = "cannot open the rate-limit counters at " + options.path + ": " + status.message();
      fprintf(stderr, "isogate: %s: kv.path: %s; rate limiters will allow every request\n", config_.file.c_str(),
              rate_counters_error_.c_str());
    } else if (!rate_counters_->movedAside().empty()) {
      fprintf(stderr, "isogate: rate-limit counters at %s were unreadable; moved them to %s and started afresh\n",
              options.path.c_str(), rate_counters_->movedAside().c_str());
    }
  }
}

std::shared_ptr<const ScriptBundle> Deployment::bundle(size_t route_index) const {
  return route_index < bundles_.size() ? bundles_[route_index] : nullptr;
}

std::vector<std::string> inactiveSettings(const Config& config) {
  std::vector<std::string> out;
  for (size_t i = 0; i < config.routes.size(); ++i) {
    if (!config.routes[i].cache) continue;
    const std::string where = config.file + ": routes[" + std::to_string(i) + "].cache: ";
    if (!config.routes[i].proxy) {
      out.push_back(where + "applies to proxy routes only (scripts use fetch(req, {cacheTtl}) or caches.default); ignored");
    } else if (config.cache.max_mb == 0) {
      out.push_back(where + "cache.max_mb is 0 (response cache off); ignored");
    }
  }
  return out;
}

DeploymentInstance::DeploymentInstance(Worker& worker, std::shared_ptr<const Deployment> deployment)
    : worker_(worker), deployment_(std::move(deployment)) {
  const Config& config = deployment_->config();
  for (const auto& [name, origin] : config.origins) {
    pools_.emplace(name, std::make_unique<OriginPool>(worker_.loop(), origin, config.limits,
                                                      deployment_->originHealth(name)));
  }
  const uint64_t id = deployment_->id();
  noteServed(id);
  // The first worker to build its instance runs the checks for the process,
  // until a newer deployment serves or the worker drains.
  if (HealthChecker::wanted(*deployment_) && deployment_->claimHealthChecks()) {
    health_checker_ = std::make_unique<HealthChecker>(
        worker_.loop(), *deployment_, [this, id] { return worker_.draining() || newest_served_id.load() > id; });
  }
}

DeploymentInstance::~DeploymentInstance() {
  health_checker_.reset();
  // Isolates first: their pending fetches use the pools.
  spare_timer_.reset();
  spare_.reset();
  scripts_.clear();
  binding_states_.clear();
}

BindingState* DeploymentInstance::bindingState(const std::string& key) const {
  auto it = binding_states_.find(key);
  return it == binding_states_.end() ? nullptr : it->second.get();
}

BindingState* DeploymentInstance::setBindingState(const std::string& key, std::unique_ptr<BindingState> state) {
  std::unique_ptr<BindingState>& slot = binding_states_[key];
  slot = std::move(state);
  return slot.get();
}

namespace {
// Replenishing waits a little so the request that used the spare is answered first.
constexpr uint64_t kSpareDelayMs = 5;
// Building a spare blocks the worker for several ms: wait for a lull of this
// long without requests, but no longer than kSpareMaxWaitMs in total.
constexpr uint64_t kSpareQuietMs = 20;
constexpr uint64_t kSpareMaxWaitMs = 2000;
}  // namespace

void DeploymentInstance::prepareSpareWhenQuiet() {
  const uint64_t now = uv_now(worker_.loop());
  const bool busy = now - worker_.lastRequestMs() < kSpareQuietMs;
  if (busy && now - spare_wait_started_ms_ < kSpareMaxWaitMs) {
    spare_timer_->start(kSpareQuietMs);
    return;
  }
  prepareSpare();
}

bool DeploymentInstance::hasLiveWork() const {
  for (const auto& [index, script] : scripts_) {
    if (script->hasLiveRequests()) return true;
  }
  return false;
}

void DeploymentInstance::prepareSpare() {
  if (spare_) return;
  bool has_scripts = false;
  for (const RouteConfig& route : deployment_->config().routes) has_scripts = has_scripts || route.script;
  if (!has_scripts) return;
  ScriptInstance::Services services;
  services.worker = &worker_;
  services.deployment = this;
  services.config = &deployment_->config();
  services.dev = worker_.devMode();
  std::string error;
  spare_ = ScriptInstance::createSpare(services, &error);
  if (!spare_) fprintf(stderr, "isogate: cannot prepare an isolate: %s\n", error.c_str());
}

OriginPool* DeploymentInstance::egressPool(const std::string& scheme, const std::string& host, uint16_t port) {
  std::string key = scheme + "://" + host + ":" + std::to_string(port);
  auto it = egress_pools_.find(key);
  if (it != egress_pools_.end()) return it->second.get();
  OriginConfig origin;
  origin.name = host;
  origin.url = key;
  origin.parsed.scheme = scheme;
  origin.parsed.host = host;
  origin.parsed.port = port;
  origin.addresses = {origin.parsed};
  // A configured origin at the same scheme, host and port lends its TLS
  // settings ("ca", tls_verify); otherwise the system store verifies.
  for (const auto& [name, configured] : deployment_->config().origins) {
    for (const OriginUrl& address : configured.addresses) {
      if (configured.tls_client && address.scheme == scheme && address.host == host && address.port == port) {
        origin.tls_client = configured.tls_client;
      }
    }
  }
  auto pool = std::make_unique<OriginPool>(worker_.loop(), origin, deployment_->config().limits);
  return egress_pools_.emplace(key, std::move(pool)).first->second.get();
}

ScriptInstance* DeploymentInstance::scriptInstance(size_t route_index, std::string* error) {
  auto it = scripts_.find(route_index);
  if (it != scripts_.end()) return it->second.get();
  ScriptInstance::Services services;
  services.worker = &worker_;
  services.deployment = this;
  services.config = &deployment_->config();
  services.route = &deployment_->config().routes[route_index];
  services.route_index = route_index;
  services.dev = worker_.devMode();
  std::unique_ptr<ScriptInstance> instance;
  if (spare_) {
    instance = std::move(spare_);
    if (!instance->attach(services, deployment_->bundle(route_index), error)) instance.reset();
    if (!spare_timer_) spare_timer_ = std::make_unique<Timer>(worker_.loop(), [this] { prepareSpareWhenQuiet(); });
    spare_wait_started_ms_ = uv_now(worker_.loop());
    spare_timer_->start(kSpareDelayMs);
  } else {
    instance = ScriptInstance::create(services, deployment_->bundle(route_index), error);
  }
  if (!instance) return nullptr;
  return scripts_.emplace(route_index, std::move(instance)).first->second.get();
}

void DeploymentInstance::discardScriptInstance(size_t route_index) {
  auto it = scripts_.find(route_index);
  if (it == scripts_.end()) return;
  std::shared_ptr<ScriptInstance> instance(std::move(it->second));
  scripts_.erase(it);
  fprintf(stderr, "isogate: route %s: isolate discarded (%s)\n",
          deployment_->config().routes[route_index].name.c_str(), instance->brokenReason().c_str());
  instance->failAll();
  worker_.defer([instance] {});  // disposed after the current JavaScript has unwound
}

OriginPool* DeploymentInstance::pool(const std::string& origin_name) {
  auto it = pools_.find(origin_name);
  return it == pools_.end() ? nullptr : it->second.get();
}

}  // namespace isogate
