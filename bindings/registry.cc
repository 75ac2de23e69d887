#include "bindings/registry.h"

namespace isogate {

const std::vector<BindingInstaller>& allBindings() {
  static const std::vector<BindingInstaller> table = {
      {"console", installConsole},
      {"timers", installTimers},
      {"web_basics", installWebBasics},
      {"structuredClone", installStructuredClone},
      {"crypto", installCrypto},
      {"url", installUrl},
      {"fetch", installFetch},
  };
  return table;
}

}  // namespace isogate
