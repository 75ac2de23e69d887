#include "kv/rate_counters.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <unordered_map>

#include "kv/hit_combiner.h"
#include "kv/lmdb_env.h"
#include "kv/lmdb_status.h"
#include "kv/periodic_task.h"
#include "kv/rate_window.h"

namespace isogate::kv {
namespace {

constexpr char kCountersDb[] = "counters";
constexpr char kRecoveryLockFile[] = "/recovery.lock";
constexpr size_t kValueBytes = 24;
constexpr size_t kSweepChunk = 4096;

struct CountersRegistry {
  std::mutex mu;
  std::unordered_map<std::string, std::weak_ptr<RateCounters>> counters;
};
CountersRegistry& countersRegistry() {
  static CountersRegistry* registry = new CountersRegistry;  // never destroyed
  return *registry;
}

// LMDB key: period (4 bytes, big-endian), algorithm (1 byte), the key.
void encodeKey(std::string_view key, const RateRule& rule, std::string* out) {
  out->clear();
  uint32_t p = rule.period_s;
  char head[5] = {char(p >> 24), char(p >> 16), char(p >> 8), char(p), char(rule.algorithm)};
  out->append(head, sizeof head);
  out->append(key);
}

uint32_t periodOfKey(const MDB_val& key) {
  if (key.mv_size < 5) return 0;
  auto* b = static_cast<const uint8_t*>(key.mv_data);
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
}

void putLe(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = char((v >> (8 * i)) & 0xff);
}
uint64_t getLe(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(in[i])) << (8 * i);
  return v;
}

// False for a value that is not 24 bytes (treated as a fresh counter:
// counters are soft state).
bool decodeCounts(const MDB_val& value, WindowCounts* counts) {
  if (value.mv_size != kValueBytes) return false;
  auto* p = static_cast<const char*>(value.mv_data);
  counts->window = getLe(p);
  counts->current = getLe(p + 8);
  counts->previous = getLe(p + 16);
  return true;
}

Status checkRequest(const HitRequest& request) {
  if (request.key.size() > kMaxRateKeyBytes) {
    return Status(Status::Code::kInvalidArgument, "rate-limit key is " + std::to_string(request.key.size()) +
                                                      " bytes; the limit is " + std::to_string(kMaxRateKeyBytes));
  }
  return checkRule(request.rule);
}

// Opens the env and its database and reads every record once, so a
// corrupt file shows up here and not in the middle of serving.
Status openAndCheck(const RateCountersOptions& options, const std::string& path,
                    std::shared_ptr<LmdbEnv>* env, MDB_dbi* dbi) {
  LmdbEnvOptions env_options;
  env_options.path = path;
  env_options.map_size = std::max<uint64_t>(options.map_size_mb, 1) << 20;
  env_options.max_map_size = std::max(options.max_map_size_mb, options.map_size_mb) << 20;
  env_options.flags = options.sync ? 0 : MDB_WRITEMAP | MDB_NOSYNC | MDB_NOMETASYNC;
  env_options.max_dbs = 1;
  Status status = LmdbEnv::open(env_options, env);
  if (!status.isOk()) return status;
  LmdbEnv& opened = **env;
  int rc = opened.write([&](MDB_txn* txn) { return opened.openDbiInWrite(txn, kCountersDb, true, dbi); });
  if (rc == 0) {
    LmdbEnv::ReadTxn txn(opened);
    rc = txn.begin();
    MDB_cursor* cursor = nullptr;
    if (rc == 0) rc = mdb_cursor_open(txn.txn(), *dbi, &cursor);
    if (rc == 0) {
      MDB_val k, v;
      for (rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
      }
      mdb_cursor_close(cursor);
      if (rc == MDB_NOTFOUND) rc = 0;
    }
  }
  if (rc != 0) {
    env->reset();
    return statusFromLmdb(rc, "open counters " + path);
  }
  return Status();
}

// Moves data.mdb aside and removes lock.mdb; *moved is the new name.
Status moveAside(const std::string& path, std::string* moved) {
  *moved = path + "/data.mdb.corrupt-" + std::to_string(time(nullptr)) + "-" + std::to_string(getpid());
  if (rename((path + "/data.mdb").c_str(), moved->c_str()) != 0 && errno != ENOENT) {
    return statusFromLmdb(errno, "move aside corrupt counters " + path);
  }
  if (unlink((path + "/lock.mdb").c_str()) != 0 && errno != ENOENT) {
    return statusFromLmdb(errno, "remove counters lock file in " + path);
  }
  return Status();
}

}  // namespace

Status RateCounters::open(const RateCountersOptions& options, std::shared_ptr<RateCounters>* out) {
  Status status = createDirectories(options.path);
  if (!status.isOk()) return status;
  char resolved[PATH_MAX];
  if (realpath(options.path.c_str(), resolved) == nullptr) return statusFromLmdb(errno, "open " + options.path);
  std::string path(resolved);

  std::shared_ptr<RateCounters> existing;
  CountersRegistry& reg = countersRegistry();
  {
    std::lock_guard<std::mutex> lock(reg.mu);
    std::weak_ptr<RateCounters>& slot = reg.counters[path];
    existing = slot.lock();
    if (!existing) {
      // Serializes open-and-recover across processes; LMDB's own lock file
      // cannot, as it may be the thing that is corrupt.
      int lock_fd = ::open((path + kRecoveryLockFile).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
      if (lock_fd < 0) return statusFromLmdb(errno, "open " + path + kRecoveryLockFile);
      while (flock(lock_fd, LOCK_EX) != 0 && errno == EINTR) {
      }
      std::shared_ptr<LmdbEnv> env;
      MDB_dbi dbi = 0;
      std::string moved;
      status = openAndCheck(options, path, &env, &dbi);
      if (status.code() == Status::Code::kCorrupted || status.code() == Status::Code::kIoError) {
        status = moveAside(path, &moved);
        if (status.isOk()) status = openAndCheck(options, path, &env, &dbi);
      }
      flock(lock_fd, LOCK_UN);
      close(lock_fd);
      if (!status.isOk()) return status;
      std::shared_ptr<RateCounters> created(new RateCounters(std::move(env), dbi, options));
      created->moved_aside_ = std::move(moved);
      slot = created;
      *out = std::move(created);
      return Status();
    }
  }
  *out = std::move(existing);
  return Status();
}

RateCounters::RateCounters(std::shared_ptr<LmdbEnv> env, unsigned dbi, const RateCountersOptions& options)
    : options_(options),
      env_(std::move(env)),
      dbi_(dbi),
      combiner_(std::make_unique<HitCombiner>(
          [this](std::span<const HitRequest> requests, uint64_t now_ms, std::vector<RateDecision>* out) {
            return hitBatch(requests, now_ms, out);
          })) {
  bool flush = !options_.sync && options_.flush_interval.count() > 0;
  bool sweep = options_.sweep_interval.count() > 0;
  if (!flush && !sweep) return;
  auto tick = flush ? options_.flush_interval
                    : std::chrono::duration_cast<std::chrono::milliseconds>(options_.sweep_interval);
  auto last_sweep = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  background_ = std::make_unique<PeriodicTask>(tick, [this, flush, sweep, last_sweep] {
    if (flush) env_->sync();  // a failure only delays durability; the next tick retries
    auto now = std::chrono::steady_clock::now();
    if (sweep && now - *last_sweep >= options_.sweep_interval) {
      *last_sweep = now;
      env_->clearStaleReaders();
      sweepStale(uint64_t(time(nullptr)) * 1000);  // errors: the next pass retries
    }
  });
}

RateCounters::~RateCounters() {
  background_.reset();
  if (!options_.sync) env_->sync();
  CountersRegistry& reg = countersRegistry();
  std::lock_guard<std::mutex> lock(reg.mu);
  auto it = reg.counters.find(env_->path());
  if (it != reg.counters.end() && it->second.expired()) reg.counters.erase(it);
}

const std::string& RateCounters::path() const { return env_->path(); }

Status RateCounters::hit(std::string_view key, const RateRule& rule, uint64_t now_ms, RateDecision* out) {
  HitRequest request{key, rule};
  // Checked alone: a combined batch fails or succeeds as a whole.
  Status status = checkRequest(request);
  if (!status.isOk()) return status;
  return combiner_->hit(request, now_ms, out);
}

Status RateCounters::hitBatch(std::span<const HitRequest> requests, uint64_t now_ms,
                              std::vector<RateDecision>* out) {
  out->clear();
  for (const HitRequest& request : requests) {
    Status status = checkRequest(request);
    if (!status.isOk()) return status;
  }
  std::string key;
  int rc = env_->write([&](MDB_txn* txn) {
    out->clear();  // write() may run this again after growing the map
    for (const HitRequest& request : requests) {
      encodeKey(request.key, request.rule, &key);
      MDB_val k{key.size(), key.data()}, v;
      WindowCounts counts;
      int get_rc = mdb_get(txn, dbi_, &k, &v);
      if (get_rc != 0 && get_rc != MDB_NOTFOUND) return get_rc;
      bool found = get_rc == 0 && decodeCounts(v, &counts);
      WindowCounts before = counts;
      out->push_back(applyHit(request.rule, now_ms, &counts));
      if (found && counts.window == before.window && counts.current == before.current &&
          counts.previous == before.previous) {
        continue;  // rejected in the same window: nothing changed
      }
      if (!found && !out->back().success) continue;  // nothing worth storing
      char value[kValueBytes];
      putLe(value, counts.window);
      putLe(value + 8, counts.current);
      putLe(value + 16, counts.previous);
      MDB_val nv{kValueBytes, value};
      int put_rc = mdb_put(txn, dbi_, &k, &nv, 0);
      if (put_rc != 0) return put_rc;
    }
    return 0;
  });
  if (rc != 0) {
    out->clear();
    return statusFromLmdb(rc, "rate limit");
  }
  return Status();
}

Status RateCounters::sweepStale(uint64_t now_ms, size_t* removed) {
  if (removed != nullptr) *removed = 0;
  std::string start;
  for (bool done = false; !done;) {
    std::vector<std::string> stale;
    {
      LmdbEnv::ReadTxn txn(*env_);
      int rc = txn.begin();
      MDB_cursor* cursor = nullptr;
      if (rc == 0) rc = mdb_cursor_open(txn.txn(), dbi_, &cursor);
      if (rc != 0) return statusFromLmdb(rc, "sweep counters");
      MDB_val k{start.size(), start.data()}, v;
      rc = mdb_cursor_get(cursor, &k, &v, start.empty() ? MDB_FIRST : MDB_SET_RANGE);
      if (rc == 0 && !start.empty() && std::string_view(static_cast<char*>(k.mv_data), k.mv_size) == start) {
        rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
      }
      size_t seen = 0;
      for (; rc == 0 && seen < kSweepChunk; ++seen) {
        WindowCounts counts;
        if (!decodeCounts(v, &counts) || isStale(periodOfKey(k), counts, now_ms)) {
          stale.emplace_back(static_cast<char*>(k.mv_data), k.mv_size);
        }
        start.assign(static_cast<char*>(k.mv_data), k.mv_size);
        rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
      }
      mdb_cursor_close(cursor);
      if (rc != 0 && rc != MDB_NOTFOUND) return statusFromLmdb(rc, "sweep counters");
      done = rc == MDB_NOTFOUND;
    }
    if (stale.empty()) continue;
    size_t deleted = 0;
    int rc = env_->write([&](MDB_txn* txn) {
      deleted = 0;
      for (std::string& key : stale) {
        MDB_val k{key.size(), key.data()}, v;
        int get_rc = mdb_get(txn, dbi_, &k, &v);
        if (get_rc == MDB_NOTFOUND) continue;
        if (get_rc != 0) return get_rc;
        // Another thread or process may have counted since the scan.
        WindowCounts counts;
        if (decodeCounts(v, &counts) && !isStale(periodOfKey(k), counts, now_ms)) continue;
        int del_rc = mdb_del(txn, dbi_, &k, nullptr);
        if (del_rc != 0) return del_rc;
        ++deleted;
      }
      return 0;
    });
    if (rc != 0) return statusFromLmdb(rc, "sweep counters");
    if (removed != nullptr) *removed += deleted;
  }
  return Status();
}

}  // namespace isogate::kv
