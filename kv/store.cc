#include "kv/store.h"

#include <algorithm>
#include <condition_variable>
#include <ctime>

#include "kv/list_cursor.h"
#include "kv/lmdb_env.h"
#include "kv/lmdb_status.h"
#include "kv/namespace_db.h"
#include "kv/periodic_task.h"
#include "kv/record.h"
#include "kv/writer.h"

namespace isogate::kv {
namespace {

constexpr unsigned kMaxNamespaces = 500;  // two LMDB databases each, at most
constexpr unsigned kMaxDbs = 2 * kMaxNamespaces + 2;
// Entries one list() call looks at, live or expired: bounds its time when
// many expired entries wait for the sweeper.
constexpr size_t kMaxListScan = 10000;
// Entries one sweeper read transaction looks at before handing the expired
// ones to the writer.
constexpr size_t kSweepChunk = 4096;
constexpr auto kFlushInterval = std::chrono::milliseconds(1000);

struct StoreRegistry {
  std::mutex mu;
  std::unordered_map<std::string, std::weak_ptr<Store>> stores;
};
StoreRegistry& storeRegistry() {
  static StoreRegistry* registry = new StoreRegistry;  // never destroyed
  return *registry;
}

Status notFound() { return Status(Status::Code::kNotFound, "key not found"); }
Status corrupted() { return Status(Status::Code::kCorrupted, "read: the store is corrupted (bad record)"); }

Status resolveDbi(LmdbEnv& env, const std::string& name, std::atomic<unsigned>& cache, unsigned* dbi) {
  *dbi = cache.load(std::memory_order_acquire);
  if (*dbi != 0) return Status();
  MDB_dbi found;
  int rc = env.findDbi(name, &found);
  if (rc == MDB_NOTFOUND) return Status();
  if (rc != 0) return statusFromLmdb(rc, "open namespace");
  cache.store(found, std::memory_order_release);
  *dbi = found;
  return Status();
}

uint64_t nowSeconds() { return uint64_t(time(nullptr)); }

}  // namespace

Namespace::Namespace(std::string name)
    : name_(std::move(name)), main_db_(mainDbName(name_)), long_db_(longDbName(name_)) {}

Status Store::open(const StoreOptions& options, std::shared_ptr<Store>* out) {
  constexpr uint64_t kMaxMapSizeMb = uint64_t(1) << 24;  // 16 TiB
  if (options.map_size_mb == 0 || options.map_size_mb > kMaxMapSizeMb) {
    return Status(Status::Code::kInvalidArgument, "kv map_size_mb must be between 1 and 16777216");
  }
  LmdbEnvOptions env_options;
  env_options.path = options.path;
  env_options.map_size = options.map_size_mb << 20;
  env_options.max_map_size = std::clamp(options.max_map_size_mb, options.map_size_mb, kMaxMapSizeMb) << 20;
  env_options.flags = options.sync ? 0 : MDB_NOSYNC;
  env_options.max_dbs = kMaxDbs;
  std::shared_ptr<LmdbEnv> env;
  Status status = LmdbEnv::open(env_options, &env);
  if (!status.isOk()) return status;

  StoreRegistry& reg = storeRegistry();
  std::shared_ptr<Store> existing;
  {
    std::lock_guard<std::mutex> lock(reg.mu);
    std::weak_ptr<Store>& slot = reg.stores[env->path()];
    existing = slot.lock();
    if (!existing) {
      std::shared_ptr<Store> store(new Store(std::move(env), options));
      slot = store;
      *out = std::move(store);
      return Status();
    }
  }
  *out = std::move(existing);
  return Status();
}

Store::Store(std::shared_ptr<LmdbEnv> env, const StoreOptions& options)
    : options_(options), env_(std::move(env)) {
  writer_ = std::make_unique<Writer>(env_, options_.sync ? std::chrono::milliseconds(0) : kFlushInterval);
  if (options_.sweep_interval.count() > 0) {
    sweeper_ = std::make_unique<PeriodicTask>(options_.sweep_interval, [this] {
      env_->clearStaleReaders();  // slots of killed processes pin old pages
      sweepExpired(nowSeconds());  // errors: the next pass retries
    });
  }
}

Store::~Store() {
  sweeper_.reset();
  writer_.reset();
  StoreRegistry& reg = storeRegistry();
  std::lock_guard<std::mutex> lock(reg.mu);
  auto it = reg.stores.find(env_->path());
  if (it != reg.stores.end() && it->second.expired()) reg.stores.erase(it);
}

const std::string& Store::path() const { return env_->path(); }
uint64_t Store::mapSizeBytes() const { return env_->mapSize(); }

Status Store::openNamespace(std::string_view name, const Namespace** out) {
  Status status = checkNamespace(name);
  if (!status.isOk()) return status;
  std::lock_guard<std::mutex> lock(namespaces_mu_);
  std::unique_ptr<Namespace>& slot = namespaces_[std::string(name)];
  if (!slot) slot.reset(new Namespace(std::string(name)));
  *out = slot.get();
  return Status();
}

Status Store::readDbs(const Namespace& ns, bool with_long, NamespaceDbs* dbs) {
  Status status = resolveDbi(*env_, ns.main_db_, ns.main_dbi_, &dbs->main);
  if (status.isOk() && with_long) status = resolveDbi(*env_, ns.long_db_, ns.long_dbi_, &dbs->longkeys);
  if (status.isOk() && dbs->longkeys != 0) status = resolveDbi(*env_, kBlobDbName, blob_dbi_, &dbs->blobs);
  return status;
}

Status Store::get(const Namespace& ns, std::string_view key, uint64_t now_s, Entry* out) {
  Status status = checkKey(key);
  if (!status.isOk()) return status;
  bool is_long = key.size() > kMaxLmdbKeyBytes;
  NamespaceDbs dbs;
  status = readDbs(ns, is_long, &dbs);
  if (!status.isOk()) return status;
  if (is_long ? dbs.longkeys == 0 : dbs.main == 0) return notFound();

  LmdbEnv::ReadTxn txn(*env_);
  int rc = txn.begin();
  if (rc != 0) return statusFromLmdb(rc, "read");
  std::string_view bytes;
  rc = readRecord(txn.txn(), dbs, key, &bytes);
  if (rc == MDB_NOTFOUND) return notFound();
  if (rc != 0) return statusFromLmdb(rc, "read");
  std::optional<RecordView> record = decodeRecord(bytes);
  if (!record) return corrupted();
  if (record->expiredAt(now_s)) return notFound();
  // Copy out before the transaction ends.
  out->value.assign(record->value);
  if (record->metadata) {
    out->metadata.emplace(*record->metadata);
  } else {
    out->metadata.reset();
  }
  out->expiration = record->expiration;
  return Status();
}

Status Store::list(const Namespace& ns, const ListOptions& options, uint64_t now_s, ListResult* out) {
  out->keys.clear();
  out->list_complete = true;
  out->cursor.clear();
  if (options.limit == 0 || options.limit > kMaxListLimit) {
    return Status(Status::Code::kInvalidArgument, "list limit must be between 1 and 1000");
  }
  std::string start = options.prefix;
  bool exclusive = false;
  if (!options.cursor.empty()) {
    std::optional<std::string> after = decodeListCursor(options.cursor);
    if (!after) return Status(Status::Code::kInvalidArgument, "invalid list cursor");
    if (*after >= start) {
      start = std::move(*after);
      exclusive = true;
    }
  }
  if (options.prefix.size() > kMaxKeyBytes) return Status();  // no key can match
  NamespaceDbs dbs;
  Status status = readDbs(ns, true, &dbs);
  if (!status.isOk()) return status;
  if (dbs.main == 0 && dbs.longkeys == 0) return Status();

  LmdbEnv::ReadTxn txn(*env_);
  int rc = txn.begin();
  if (rc != 0) return statusFromLmdb(rc, "list");
  NamespaceScan scan(txn.txn(), dbs);
  rc = scan.seek(start, exclusive);
  size_t scanned = 0;
  std::string last;
  bool more = false;
  while (rc == 0 && !scan.done()) {
    std::string_view key = scan.key();
    if (key.substr(0, options.prefix.size()) != options.prefix) break;  // past the prefix range
    if (out->keys.size() == options.limit || scanned == kMaxListScan) {
      more = true;
      break;
    }
    std::string_view bytes;
    rc = scan.record(&bytes);
    if (rc != 0) break;
    std::optional<RecordView> record = decodeRecord(bytes);
    if (!record) return corrupted();
    ++scanned;
    last.assign(key);
    if (!record->expiredAt(now_s)) {
      ListedKey& listed = out->keys.emplace_back();
      listed.name.assign(key);
      listed.expiration = record->expiration;
      if (record->metadata) listed.metadata.emplace(*record->metadata);
    }
    rc = scan.next();
  }
  if (rc != 0) {
    out->keys.clear();
    return statusFromLmdb(rc, "list");
  }
  if (more) {
    out->list_complete = false;
    out->cursor = encodeListCursor(last);
  }
  return Status();
}

Status Store::enqueue(WriteOp op) {
  if (!writer_->enqueue(std::move(op))) return Status(Status::Code::kUnavailable, "the store is closing");
  return Status();
}

Status Store::put(const Namespace& ns, std::string key, std::string value, PutOptions options, Callback done) {
  Status status = checkKey(key);
  if (status.isOk()) status = checkValueSize(value.size());
  if (status.isOk() && options.metadata) status = checkMetadata(*options.metadata);
  if (!status.isOk()) return status;
  WriteOp op;
  op.kind = WriteOp::Kind::kPut;
  op.ns = ns.name();
  op.key = std::move(key);
  op.value = std::move(value);
  op.metadata = std::move(options.metadata);
  op.expiration = options.expiration;
  op.done = std::move(done);
  return enqueue(std::move(op));
}

Status Store::remove(const Namespace& ns, std::string key, Callback done) {
  Status status = checkKey(key);
  if (!status.isOk()) return status;
  WriteOp op;
  op.kind = WriteOp::Kind::kRemove;
  op.ns = ns.name();
  op.key = std::move(key);
  op.done = std::move(done);
  return enqueue(std::move(op));
}

Status Store::waitFor(std::function<Status(Callback)> start) {
  if (writer_->onWriterThread()) {
    return Status(Status::Code::kInternal, "putSync/removeSync called on the writer thread");
  }
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool finished = false;
    Status result;
  };
  auto waiter = std::make_shared<Waiter>();
  Status status = start([waiter](Status result) {
    std::lock_guard<std::mutex> lock(waiter->mu);
    waiter->result = std::move(result);
    waiter->finished = true;
    waiter->cv.notify_one();
  });
  if (!status.isOk()) return status;
  std::unique_lock<std::mutex> lock(waiter->mu);
  waiter->cv.wait(lock, [&] { return waiter->finished; });
  return waiter->result;
}

Status Store::putSync(const Namespace& ns, std::string key, std::string value, PutOptions options) {
  return waitFor([&](Callback done) {
    return put(ns, std::move(key), std::move(value), std::move(options), std::move(done));
  });
}

Status Store::removeSync(const Namespace& ns, std::string key) {
  return waitFor([&](Callback done) { return remove(ns, std::move(key), std::move(done)); });
}

Status Store::sweepExpired(uint64_t now_s, size_t* removed) {
  if (removed != nullptr) *removed = 0;
  if (writer_->onWriterThread()) return Status(Status::Code::kInternal, "sweepExpired called on the writer thread");
  // Every namespace in the file: the main database lists the named ones.
  std::vector<std::string> names;
  {
    LmdbEnv::ReadTxn txn(*env_);
    int rc = txn.begin();
    if (rc != 0) return statusFromLmdb(rc, "sweep");
    MDB_dbi main_dbi;
    MDB_cursor* cursor = nullptr;
    rc = mdb_dbi_open(txn.txn(), nullptr, 0, &main_dbi);  // the unnamed database: no handle to register
    if (rc == 0) rc = mdb_cursor_open(txn.txn(), main_dbi, &cursor);
    if (rc != 0) return statusFromLmdb(rc, "sweep");
    MDB_val k, v;
    // A namespace has "kv:<ns>", "kvlong:<ns>" or both (namespace_db.h).
    std::string_view prefixes[] = {kMainDbPrefix, kLongDbPrefix};
    for (rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
      std::string_view db(static_cast<const char*>(k.mv_data), k.mv_size);
      for (std::string_view prefix : prefixes) {
        if (db.substr(0, prefix.size()) == prefix) names.emplace_back(db.substr(prefix.size()));
      }
    }
    mdb_cursor_close(cursor);
    if (rc != MDB_NOTFOUND) return statusFromLmdb(rc, "sweep");
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  struct Pending {
    std::mutex mu;
    std::condition_variable cv;
    size_t outstanding = 0;
    Status first_error;
  };
  for (const std::string& name : names) {
    const Namespace* ns;
    Status status = openNamespace(name, &ns);
    if (!status.isOk()) continue;  // a database this version did not create
    NamespaceDbs dbs;
    status = readDbs(*ns, true, &dbs);
    if (!status.isOk()) return status;
    std::string start;
    bool exclusive = false;
    for (bool done = false; !done;) {
      std::vector<std::string> expired;
      {
        LmdbEnv::ReadTxn txn(*env_);
        int rc = txn.begin();
        if (rc != 0) return statusFromLmdb(rc, "sweep");
        NamespaceScan scan(txn.txn(), dbs);
        rc = scan.seek(start, exclusive);
        for (size_t seen = 0; rc == 0 && !scan.done() && seen < kSweepChunk; ++seen) {
          std::string_view bytes;
          rc = scan.record(&bytes);
          if (rc != 0) break;
          std::optional<RecordView> record = decodeRecord(bytes);
          if (record && record->expiredAt(now_s)) expired.emplace_back(scan.key());
          start.assign(scan.key());
          rc = scan.next();
        }
        if (rc != 0) return statusFromLmdb(rc, "sweep");
        done = scan.done();
        exclusive = true;
      }
      if (expired.empty()) continue;
      auto pending = std::make_shared<Pending>();
      pending->outstanding = expired.size();
      for (std::string& key : expired) {
        WriteOp op;
        op.kind = WriteOp::Kind::kRemoveIfExpired;
        op.ns = name;
        op.key = std::move(key);
        op.expiration = now_s;
        op.done = [pending](Status result) {
          std::lock_guard<std::mutex> lock(pending->mu);
          if (!result.isOk() && pending->first_error.isOk()) pending->first_error = result;
          if (--pending->outstanding == 0) pending->cv.notify_one();
        };
        if (!writer_->enqueue(std::move(op))) {
          std::lock_guard<std::mutex> lock(pending->mu);
          --pending->outstanding;
        }
      }
      std::unique_lock<std::mutex> lock(pending->mu);
      pending->cv.wait(lock, [&] { return pending->outstanding == 0; });
      if (!pending->first_error.isOk()) return pending->first_error;
      if (removed != nullptr) *removed += expired.size();
    }
  }
  return Status();
}

}  // namespace isogate::kv
