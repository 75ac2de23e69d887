#include "kv_command.h"

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include "kv/limits.h"
#include "kv/store.h"

namespace isogate {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUserError = 1;

int fail(const std::string& message) {
  fprintf(stderr, "isogate: kv: %s\n", message.c_str());
  return kExitUserError;
}

void addStoreOptions(CLI::App* sub, KvCommand* command) {
  sub->add_option("--path", command->path, "KV directory (kv.path)")->capture_default_str();
  sub->add_option("--namespace", command->ns, "Namespace (a kv binding's \"namespace\")")->required();
}

// Reads stdin to the end, binary-safe; false if it exceeds the value limit.
bool readStdin(std::string* out) {
  char buffer[65536];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, stdin)) > 0) {
    out->append(buffer, n);
    if (out->size() > kv::kMaxValueBytes) return false;
  }
  return !ferror(stdin);
}

int runGet(kv::Store& store, const kv::Namespace& ns, const KvCommand& command) {
  kv::Entry entry;
  kv::Status status = store.get(ns, command.key, uint64_t(time(nullptr)), &entry);
  if (status.code() == kv::Status::Code::kNotFound) return fail("key not found: " + command.key);
  if (!status.isOk()) return fail(status.message());
  if (fwrite(entry.value.data(), 1, entry.value.size(), stdout) != entry.value.size() || fflush(stdout) != 0) {
    return fail("cannot write to stdout");
  }
  return kExitOk;
}

int runPut(kv::Store& store, const kv::Namespace& ns, const KvCommand& command) {
  uint64_t now = uint64_t(time(nullptr));
  kv::PutOptions options;
  if (*command.ttl_opt) {
    uint64_t expiration;
    kv::Status status = kv::expirationFromTtl(command.ttl_s, now, &expiration);
    if (!status.isOk()) return fail(status.message());
    options.expiration = expiration;
  }
  if (*command.expiration_opt) {
    kv::Status status = kv::checkExpiration(command.expiration, now);
    if (!status.isOk()) return fail(status.message());
    options.expiration = command.expiration;
  }
  if (*command.metadata_opt) {
    nlohmann::json metadata = nlohmann::json::parse(command.metadata, nullptr, false);
    if (metadata.is_discarded()) return fail("--metadata is not valid JSON");
    options.metadata = metadata.dump();
  }
  std::string value;
  if (*command.value_opt) {
    value = command.value;
  } else if (!readStdin(&value)) {
    if (value.size() > kv::kMaxValueBytes) {
      return fail("value is more than " + std::to_string(kv::kMaxValueBytes) + " bytes; the limit is " +
                  std::to_string(kv::kMaxValueBytes));
    }
    return fail("cannot read the value from stdin");
  }
  kv::Status status = store.putSync(ns, command.key, std::move(value), std::move(options));
  if (!status.isOk()) return fail(status.message());
  return kExitOk;
}

int runDelete(kv::Store& store, const kv::Namespace& ns, const KvCommand& command) {
  kv::Status status = store.removeSync(ns, command.key);
  if (!status.isOk()) return fail(status.message());
  return kExitOk;
}

// The Workers list() result: {"keys":[{"name","expiration"?,"metadata"?}],
// "list_complete", "cursor"}. Invalid UTF-8 in names shows as U+FFFD.
std::string listJson(const kv::ListResult& result) {
  nlohmann::ordered_json keys = nlohmann::ordered_json::array();
  for (const kv::ListedKey& key : result.keys) {
    nlohmann::ordered_json item;
    item["name"] = key.name;
    if (key.expiration) item["expiration"] = *key.expiration;
    if (key.metadata) {
      nlohmann::ordered_json metadata = nlohmann::ordered_json::parse(*key.metadata, nullptr, false);
      item["metadata"] = metadata.is_discarded() ? nlohmann::ordered_json(*key.metadata) : metadata;
    }
    keys.push_back(std::move(item));
  }
  nlohmann::ordered_json out;
  out["keys"] = std::move(keys);
  out["list_complete"] = result.list_complete;
  out["cursor"] = result.cursor;
  return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

int runList(kv::Store& store, const kv::Namespace& ns, const KvCommand& command) {
  uint64_t now = uint64_t(time(nullptr));
  kv::ListOptions options;
  options.prefix = command.prefix;
  options.cursor = command.cursor;
  options.limit = command.limit;
  if (command.json) {
    kv::ListResult result;
    kv::Status status = store.list(ns, options, now, &result);
    if (!status.isOk()) return fail(status.message());
    printf("%s\n", listJson(result).c_str());
    return kExitOk;
  }
  // Plain: one key per line; all keys unless --limit is given.
  bool all = !*command.limit_opt;
  uint64_t left = all ? UINT64_MAX : command.limit;
  while (left > 0) {
    options.limit = uint32_t(std::min<uint64_t>(left, kv::kMaxListLimit));
    kv::ListResult result;
    kv::Status status = store.list(ns, options, now, &result);
    if (!status.isOk()) return fail(status.message());
    for (const kv::ListedKey& key : result.keys) {
      fwrite(key.name.data(), 1, key.name.size(), stdout);
      fputc('\n', stdout);
    }
    left -= std::min<uint64_t>(left, result.keys.size());
    if (result.list_complete) break;
    options.cursor = result.cursor;
  }
  if (fflush(stdout) != 0) return fail("cannot write to stdout");
  return kExitOk;
}

}  // namespace

std::unique_ptr<KvCommand> addKvCommand(CLI::App& app) {
  auto command = std::make_unique<KvCommand>();
  KvCommand* c = command.get();
  c->kv = app.add_subcommand("kv", "Read and write the KV store (works while a server runs)");
  c->kv->require_subcommand(1);

  c->get = c->kv->add_subcommand("get", "Write a key's value to stdout");
  addStoreOptions(c->get, c);
  c->get->add_option("key", c->key, "Key")->required();

  c->put = c->kv->add_subcommand("put", "Store a value (from the argument, or stdin if none)");
  addStoreOptions(c->put, c);
  c->put->add_option("key", c->key, "Key")->required();
  c->value_opt = c->put->add_option("value", c->value, "Value (default: read stdin)");
  c->ttl_opt = c->put->add_option("--ttl", c->ttl_s, "Expire after SECONDS (at least 60)");
  c->expiration_opt = c->put->add_option("--expiration", c->expiration, "Expire at EPOCH seconds");
  c->ttl_opt->excludes(c->expiration_opt);
  c->metadata_opt = c->put->add_option("--metadata", c->metadata, "Metadata: JSON, at most 1024 bytes");

  c->remove = c->kv->add_subcommand("delete", "Delete a key");
  addStoreOptions(c->remove, c);
  c->remove->add_option("key", c->key, "Key")->required();

  c->list = c->kv->add_subcommand("list", "List keys, sorted, one per line");
  addStoreOptions(c->list, c);
  c->list->add_option("--prefix", c->prefix, "Only keys that start with PREFIX");
  c->limit_opt = c->list->add_option("--limit", c->limit, "At most N keys (with --json: 1..1000, default 1000)")
                     ->check(CLI::Range(1u, kv::kMaxListLimit));
  c->list->add_option("--cursor", c->cursor, "Continue after a previous --json result's cursor");
  c->list->add_flag("--json", c->json, "Print the Workers list() result as JSON");
  return command;
}

int runKvCommand(const KvCommand& command) {
  // Reading must not create a store where an operator mistyped the path.
  struct stat st;
  if (!command.put->parsed() && stat(command.path.c_str(), &st) != 0 && errno == ENOENT) {
    return fail("no KV store at " + command.path);
  }
  kv::StoreOptions options;
  options.path = command.path;
  options.sweep_interval = std::chrono::seconds(0);
  std::shared_ptr<kv::Store> store;
  kv::Status status = kv::Store::open(options, &store);
  if (!status.isOk()) return fail(status.message());
  const kv::Namespace* ns;
  status = store->openNamespace(command.ns, &ns);
  if (!status.isOk()) return fail(status.message());
  if (command.get->parsed()) return runGet(*store, *ns, command);
  if (command.put->parsed()) return runPut(*store, *ns, command);
  if (command.remove->parsed()) return runDelete(*store, *ns, command);
  return runList(*store, *ns, command);
}

}  // namespace isogate
