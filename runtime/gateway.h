#pragma once
// The process: loads the config into a Deployment, binds the listening
// sockets, runs the worker threads and the admin listener (admin.listen, on
// its own thread), and handles signals (SIGTERM/SIGINT drain with /readyz
// turning 503, SIGHUP reload) and, in dev mode, config file changes. Runs
// on the main thread; returns the process exit code.

#include <cstdint>
#include <optional>
#include <string>

namespace isogate {

struct GatewayOptions {
  std::string config_file = "isogate.json";
  bool dev = false;                      // one worker, pretty logs, reload on change, 127.0.0.1
  std::optional<uint16_t> port;          // dev: overrides the default 8787
  // dev: also listen with HTTPS, with the config's "tls" certificates or a
  // self-signed one generated under .isogate/tls/ next to the config.
  bool tls = false;
  std::optional<uint16_t> tls_port;      // dev: overrides the default (HTTP port + 1; 0 with --port 0)
};

int runGateway(const GatewayOptions& options);

}  // namespace isogate
