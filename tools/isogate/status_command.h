#pragma once
// `isogate status --admin HOST:PORT [--token-env NAME]`: asks a running
// server's admin listener for /admin/stats and prints one row per route
// (rps, requests, error %, p50/p95/p99 over the last minute) for a person at
// a terminal. main() calls addStatusCommand() before parsing and
// runStatusCommand() if `status` was chosen; the returned StatusCommand
// holds the parsed arguments and must outlive parsing.

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace isogate {

struct StatusCommand {
  CLI::App* app = nullptr;
  std::string admin;                            // "127.0.0.1:9090" or "http://127.0.0.1:9090"
  std::string token_env = "ISOGATE_ADMIN_TOKEN";  // environment variable holding the token
  bool selected() const { return app != nullptr && app->parsed(); }
};

std::unique_ptr<StatusCommand> addStatusCommand(CLI::App& app);
// Exit code: 0 ok, 1 unreachable, unauthorized or any other failure (one
// line on stderr).
int runStatusCommand(const StatusCommand& command);

}  // namespace isogate
