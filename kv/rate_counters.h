#pragma once
// kv::RateCounters: the counters behind the `ratelimit` binding, in their
// own LMDB environment (a directory, e.g. <kv.path>/counters), shared by all
// threads of a process and all processes on the same path. Each hit is a
// read-modify-write in an LMDB write transaction, so concurrent hits from
// any thread or process are serialized by LMDB's writer lock: exactly
// `limit` requests per key and window succeed. hitBatch() does many hits in
// one transaction; hit() from several threads at once shares one
// transaction too (kv/hit_combiner.h).
//
// Ownership and threads. open() returns the process's one RateCounters for
// a path (shared_ptr); any thread may call any method; hit() blocks for one
// short write transaction. A background thread flushes and sweeps.
//
// Durability: counters are soft state.
//  - sync = false (default): MDB_WRITEMAP | MDB_NOSYNC | MDB_NOMETASYNC;
//    commits land in the shared mapping (a killed process loses nothing),
//    and the background thread flushes them to disk every flush_interval
//    (1 s). A power loss can lose the counts of about the last second, and
//    can leave the file corrupt: open() then moves the corrupt files aside
//    (data.mdb.corrupt-<time>-<pid>) and starts with empty counters. A
//    process that still has the old files open keeps counting in them
//    until it restarts.
//  - sync = true: every commit is synchronous (LMDB default).
//
// Counters whose windows are over are deleted by the background thread
// every sweep_interval. If the store fails, hit() returns a non-ok Status
// (the caller fails open).

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kv/rate_rule.h"
#include "kv/status.h"

namespace isogate::kv {

class HitCombiner;
class LmdbEnv;
class PeriodicTask;

// Rate-limit keys longer than this are rejected (kInvalidArgument): LMDB
// keys are at most 511 bytes. Hash longer ones before calling.
inline constexpr size_t kMaxRateKeyBytes = 500;

struct RateCountersOptions {
  std::string path;                 // a directory; created with its parents
  bool sync = false;                // see "Durability" above
  uint64_t map_size_mb = 64;        // grows by doubling when full
  uint64_t max_map_size_mb = 4096;
  std::chrono::milliseconds flush_interval{1000};  // sync = false
  std::chrono::seconds sweep_interval{60};          // 0: no sweeping
};

struct HitRequest {
  std::string_view key;
  RateRule rule;
};

class RateCounters {
 public:
  static Status open(const RateCountersOptions& options, std::shared_ptr<RateCounters>* out);
  ~RateCounters();
  RateCounters(const RateCounters&) = delete;
  RateCounters& operator=(const RateCounters&) = delete;

  // Counts one request for (key, rule) at now_ms (epoch milliseconds).
  // Counters are per key, period and algorithm (not per limit, so a new
  // limit applies to the counts so far).
  Status hit(std::string_view key, const RateRule& rule, uint64_t now_ms, RateDecision* out);
  // The same for many requests, in order, in one transaction. On error no
  // request was counted and *out is empty.
  Status hitBatch(std::span<const HitRequest> requests, uint64_t now_ms, std::vector<RateDecision>* out);

  // Deletes counters whose windows are over at now_ms (the background
  // thread does this every sweep_interval). *removed (optional) counts them.
  Status sweepStale(uint64_t now_ms, size_t* removed = nullptr);

  const std::string& path() const;
  // Where open() moved a corrupt environment, or "" if it did not.
  const std::string& movedAside() const { return moved_aside_; }

 private:
  RateCounters(std::shared_ptr<LmdbEnv> env, unsigned dbi, const RateCountersOptions& options);

  RateCountersOptions options_;
  std::shared_ptr<LmdbEnv> env_;
  unsigned dbi_;
  std::string moved_aside_;
  std::unique_ptr<HitCombiner> combiner_;
  std::unique_ptr<PeriodicTask> background_;
};

}  // namespace isogate::kv
