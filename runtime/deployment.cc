#include "runtime/deployment.h"

#include <atomic>

namespace isogate {

namespace {
std::atomic<uint64_t> next_deployment_id{1};

void requireSupported(const Config& config) {
  for (size_t i = 0; i < config.routes.size(); ++i) {
    if (config.routes[i].script) {
      throw ConfigError(config.file + ": routes[" + std::to_string(i) +
                        "].script: JavaScript routes need the V8 runtime, which this build does not include yet");
    }
  }
}
}  // namespace

Deployment::Deployment(Config config)
    : config_((requireSupported(config), std::move(config))),
      router_(config_.routes),
      id_(next_deployment_id++) {}

std::vector<std::string> inactiveSettings(const Config& config) {
  std::vector<std::string> out;
  if (config.admin.listen) {
    out.push_back(config.file + ": admin.listen: the admin listener is not available in this build yet; ignored");
  }
  for (size_t i = 0; i < config.routes.size(); ++i) {
    if (config.routes[i].cache) {
      out.push_back(config.file + ": routes[" + std::to_string(i) +
                    "].cache: response caching is not available in this build yet; ignored");
    }
  }
  return out;
}

DeploymentInstance::DeploymentInstance(uv_loop_t* loop, std::shared_ptr<const Deployment> deployment)
    : deployment_(std::move(deployment)) {
  const Config& config = deployment_->config();
  for (const auto& [name, origin] : config.origins) {
    pools_.emplace(name, std::make_unique<OriginPool>(loop, origin, config.limits));
  }
}

OriginPool* DeploymentInstance::pool(const std::string& origin_name) {
  auto it = pools_.find(origin_name);
  return it == pools_.end() ? nullptr : it->second.get();
}

}  // namespace isogate
