#pragma once
// `isogate kv get|put|delete|list`: operators read and write the LMDB store
// from the shell. It opens the store the way the server does (kv/), so it
// works while a server runs on the same path. main() calls addKvCommand()
// before parsing and runKvCommand() if the `kv` subcommand was chosen; the
// returned KvCommand holds the parsed arguments and must outlive parsing.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace isogate {

struct KvCommand {
  CLI::App* kv = nullptr;
  CLI::App* get = nullptr;
  CLI::App* put = nullptr;
  CLI::App* remove = nullptr;
  CLI::App* list = nullptr;

  std::string path = ".isogate/kv";
  std::string ns;
  std::string key;
  std::string value;
  CLI::Option* value_opt = nullptr;  // absent: put reads the value from stdin
  uint64_t ttl_s = 0;
  CLI::Option* ttl_opt = nullptr;
  uint64_t expiration = 0;
  CLI::Option* expiration_opt = nullptr;
  std::string metadata;
  CLI::Option* metadata_opt = nullptr;
  std::string prefix;
  uint32_t limit = 1000;
  CLI::Option* limit_opt = nullptr;  // absent (plain output): every key
  std::string cursor;
  bool json = false;

  bool selected() const { return kv != nullptr && kv->parsed(); }
};

std::unique_ptr<KvCommand> addKvCommand(CLI::App& app);
// Exit code: 0 ok, 1 user error (a one-line message on stderr).
int runKvCommand(const KvCommand& command);

}  // namespace isogate
