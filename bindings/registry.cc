#include "bindings/registry.h"

namespace isogate {

const std::vector<BindingInstaller>& allBindings() {
  static const std::vector<BindingInstaller> table = {
      {"console", installConsole},
      {"timers", installTimers},
      {"web_basics", installWebBasics},
      {"structuredClone", installStructuredClone},
      {"crypto", installCrypto},
      {"subtle_crypto", installSubtleCrypto},  // needs crypto and DOMException
      {"url", installUrl},
      {"fetch", installFetch},
      {"cache", installCache},  // needs fetch's Request and Response
  };
  return table;
}

const std::vector<EnvBindingMaker>& allEnvBindings() {
  static const std::vector<EnvBindingMaker> table = {
      {BindingConfig::Type::kJwt, makeJwtBinding},
      {BindingConfig::Type::kKv, makeKvBinding},
      {BindingConfig::Type::kRateLimit, makeRateLimitBinding},
  };
  return table;
}

}  // namespace isogate
