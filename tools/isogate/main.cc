// The isogate command line: dev, serve, check, kv, status, version.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "bindings/registry.h"
#include "kv_command.h"
#include "status_command.h"
#include "runtime/config.h"
#include "runtime/deployment.h"
#include "runtime/gateway.h"
#include "runtime/tls_context.h"

namespace {

constexpr int kExitUserError = 1;
constexpr int kExitUsage = 2;

int runCheck(const std::string& file) {
  try {
    isogate::Deployment deployment(isogate::loadConfig(file), isogate::Deployment::Use::kCheck);
    const isogate::Config& config = deployment.config();
    for (const std::string& warning : isogate::inactiveSettings(config)) {
      fprintf(stderr, "warning: %s\n", warning.c_str());
    }
    for (const std::string& warning : isogate::tlsWarnings(config)) {
      fprintf(stderr, "warning: %s\n", warning.c_str());
    }
    fprintf(stderr, "%s: ok (%zu routes, %zu origins)\n", file.c_str(), config.routes.size(),
            config.origins.size());
    return 0;
  } catch (const isogate::ConfigError& e) {
    fprintf(stderr, "%s\n", e.what());
    return kExitUserError;
  } catch (const isogate::ScriptError& e) {
    fprintf(stderr, "%s\n", e.what());
    return kExitUserError;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"isogate: an edge API gateway that runs Workers-style JavaScript handlers", "isogate"};
  app.require_subcommand(1);

  isogate::GatewayOptions dev_options;
  dev_options.dev = true;
  uint16_t dev_port = 0;
  CLI::App* dev = app.add_subcommand("dev", "Run locally: one worker, pretty logs, reload on change");
  dev->add_option("-c,--config", dev_options.config_file, "Config file")->capture_default_str();
  CLI::Option* port_opt = dev->add_option("--port", dev_port, "Port on 127.0.0.1 (default 8787)");
  uint16_t dev_tls_port = 0;
  dev->add_flag("--tls", dev_options.tls,
                "Also listen with HTTPS (a self-signed certificate for localhost is made under .isogate/tls/)");
  CLI::Option* tls_port_opt =
      dev->add_option("--tls-port", dev_tls_port, "HTTPS port on 127.0.0.1 (default: the HTTP port + 1)");

  isogate::GatewayOptions serve_options;
  CLI::App* serve = app.add_subcommand("serve", "Run in production: workers, JSON access logs");
  serve->add_option("-c,--config", serve_options.config_file, "Config file")->capture_default_str();

  std::string check_file = "isogate.json";
  CLI::App* check = app.add_subcommand("check", "Validate a config and everything it references");
  check->add_option("-c,--config", check_file, "Config file")->capture_default_str();

  CLI::App* version = app.add_subcommand("version", "Print the version");
  std::unique_ptr<isogate::KvCommand> kv = isogate::addKvCommand(app);
  std::unique_ptr<isogate::StatusCommand> status = isogate::addStatusCommand(app);

  isogate::setScriptBindings(&isogate::allBindings());
  isogate::setEnvBindings(&isogate::allEnvBindings());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  if (*version) {
    printf("isogate %s\n", ISOGATE_VERSION);
    return 0;
  }
  if (*check) return runCheck(check_file);
  if (kv->selected()) return isogate::runKvCommand(*kv);
  if (status->selected()) return isogate::runStatusCommand(*status);
  if (*dev) {
    if (*port_opt) dev_options.port = dev_port;
    if (*tls_port_opt) dev_options.tls_port = dev_tls_port;
    return isogate::runGateway(dev_options);
  }
  if (*serve) return isogate::runGateway(serve_options);
  return kExitUsage;
}
