#pragma once
// kv::Store: the KV store behind the `kv` binding and `isogate kv`: Workers
// KV semantics over one LMDB environment in a directory (kv.path).
//
// Ownership and threads. Store::open() returns the process's one Store for
// a path (shared_ptr; LMDB forbids opening an env twice in a process); it
// closes when the last owner lets go. Any thread may call any method.
// Several processes may open the same path at once (LMDB's lock file).
// Reads (get, list) run in the calling thread's own read transaction and
// never wait for writes. Writes (put, remove) go to the Store's one writer
// thread, which commits everything queued in one transaction (group
// commit) and then runs each op's callback on the writer thread.
//
// Durability. A callback (or putSync/removeSync returning) means the
// transaction committed, so a killed process (kill -9) loses nothing that
// was acknowledged.
//  - sync = true (default): LMDB's own synchronous commit: data pages are
//    flushed (fdatasync) before the meta page is written with O_DSYNC, so an
//    acknowledged write survives power loss and the file is never corrupt.
//  - sync = false: the env is opened with MDB_NOSYNC; commits reach the OS
//    page cache only and the writer flushes them about once a second. A
//    power loss (or kernel crash) loses up to about a second of
//    acknowledged writes and, as with any LMDB env in MDB_NOSYNC mode on a
//    filesystem that reorders writes, may leave the store unreadable.
//
// Expiry. Reads take the caller's `now` (epoch seconds); an entry whose
// expiration is <= now is invisible at once. A sweeper thread deletes
// expired entries (through the writer) every sweep_interval.
//
// Map growth. The map starts at map_size_mb; a write that does not fit
// grows it (doubling, up to max_map_size_mb) and retries. At the cap writes
// fail with kStoreFull; the store stays consistent and readable.
//
// Returned data (Entry, ListResult) are copies owned by the caller.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kv/limits.h"
#include "kv/status.h"

namespace isogate::kv {

class LmdbEnv;
class Writer;
class PeriodicTask;
struct NamespaceDbs;
struct WriteOp;

struct StoreOptions {
  std::string path;                   // kv.path; created with its parents
  uint64_t map_size_mb = 1024;        // kv.map_size_mb: the initial map size
  uint64_t max_map_size_mb = 65536;   // growth cap (at least map_size_mb)
  bool sync = true;                   // see "Durability" above
  std::chrono::seconds sweep_interval{60};  // 0: no sweeper thread
};

struct PutOptions {
  std::optional<uint64_t> expiration;   // absolute, epoch seconds
  std::optional<std::string> metadata;  // serialized JSON, opaque here
};

struct Entry {
  std::string value;
  std::optional<std::string> metadata;
  std::optional<uint64_t> expiration;
};

struct ListOptions {
  std::string prefix;
  uint32_t limit = kMaxListLimit;  // 1..1000
  std::string cursor;              // from a previous ListResult; "" to start
};

struct ListedKey {
  std::string name;
  std::optional<uint64_t> expiration;
  std::optional<std::string> metadata;
};

struct ListResult {
  std::vector<ListedKey> keys;  // sorted by the bytes of the key
  bool list_complete = true;
  std::string cursor;  // "" when list_complete
};

// A namespace (one per kv binding). Owned by its Store and valid as long
// as the Store; cheap to use from any thread. It exists on disk once
// something was put into it; reading an empty namespace finds nothing.
class Namespace {
 public:
  const std::string& name() const { return name_; }

 private:
  friend class Store;
  explicit Namespace(std::string name);
  std::string name_;
  std::string main_db_;
  std::string long_db_;
  // Cached LMDB database handles, 0 until found.
  mutable std::atomic<unsigned> main_dbi_{0};
  mutable std::atomic<unsigned> long_dbi_{0};
};

class Store {
 public:
  using Callback = std::function<void(Status)>;

  // Opens options.path, or returns this process's Store for the same
  // canonical path (which keeps its options; a different `sync` is
  // kInvalidArgument).
  static Status open(const StoreOptions& options, std::shared_ptr<Store>* out);
  // Stops the sweeper, commits what is queued (running its callbacks), and
  // closes the env if nothing else in the process uses it.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The handle for namespace `name` (checkNamespace() rules).
  Status openNamespace(std::string_view name, const Namespace** out);

  // kNotFound if absent or expired at now_s.
  Status get(const Namespace& ns, std::string_view key, uint64_t now_s, Entry* out);
  // Keys with `prefix`, sorted, after the cursor; skips expired entries.
  // May return fewer than `limit` keys with list_complete false (when many
  // expired entries were skipped): continue with the cursor.
  Status list(const Namespace& ns, const ListOptions& options, uint64_t now_s, ListResult* out);

  // Validates (limits.h) and enqueues. Non-ok: nothing was enqueued and
  // `done` is not called. Ok: `done` runs exactly once on the writer thread
  // after the commit (see "Durability"). Removing an absent key is ok.
  Status put(const Namespace& ns, std::string key, std::string value, PutOptions options, Callback done);
  Status remove(const Namespace& ns, std::string key, Callback done);
  // put/remove and wait for the commit. Not on the writer thread (i.e. not
  // from a callback).
  Status putSync(const Namespace& ns, std::string key, std::string value, PutOptions options = {});
  Status removeSync(const Namespace& ns, std::string key);

  // One sweeper pass now: deletes entries expired at now_s in every
  // namespace (including ones only other processes wrote). Blocks until
  // the deletes committed. *removed (optional) counts the expired entries
  // found (each is deleted unless it was put again meanwhile).
  Status sweepExpired(uint64_t now_s, size_t* removed = nullptr);

  const std::string& path() const;  // canonical
  bool syncCommits() const { return options_.sync; }
  uint64_t mapSizeBytes() const;

 private:
  Store(std::shared_ptr<LmdbEnv> env, const StoreOptions& options);
  Status readDbs(const Namespace& ns, bool with_long, NamespaceDbs* dbs);
  Status enqueue(WriteOp op);
  Status waitFor(std::function<Status(Callback)> start);

  StoreOptions options_;
  std::shared_ptr<LmdbEnv> env_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<PeriodicTask> sweeper_;
  std::mutex namespaces_mu_;
  std::unordered_map<std::string, std::unique_ptr<Namespace>> namespaces_;
  std::atomic<unsigned> blob_dbi_{0};
};

}  // namespace isogate::kv
