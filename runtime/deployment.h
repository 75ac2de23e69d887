#pragma once
// A Deployment is one loaded config (and, later, its compiled scripts):
// immutable, shared by all workers through shared_ptr. A reload builds a new
// Deployment; workers switch at request boundaries. A DeploymentInstance is
// one worker's live state for a Deployment (its origin pools); exchanges hold
// it so the pools they use outlive a reload.

#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/config.h"
#include "runtime/router.h"
#include "runtime/upstream.h"

namespace isogate {

class Deployment {
 public:
  // Throws ConfigError when the config uses something this build cannot run.
  explicit Deployment(Config config);

  const Config& config() const { return config_; }
  const Router& router() const { return router_; }
  uint64_t id() const { return id_; }

 private:
  Config config_;
  Router router_;
  uint64_t id_;
};

// Settings that load but have no effect in this build yet (admin listener,
// route caching), one line each, so `serve` and `check` can say so instead of
// silently ignoring them.
std::vector<std::string> inactiveSettings(const Config& config);

class DeploymentInstance {
 public:
  DeploymentInstance(uv_loop_t* loop, std::shared_ptr<const Deployment> deployment);
  const Deployment& deployment() const { return *deployment_; }
  // The worker-local pool for a configured origin; nullptr if unknown.
  OriginPool* pool(const std::string& origin_name);

 private:
  std::shared_ptr<const Deployment> deployment_;
  std::map<std::string, std::unique_ptr<OriginPool>> pools_;
};

}  // namespace isogate
