#pragma once
// The process-wide response store: one per process, created at start from
// cache.max_mb and kept across reloads, shared by every worker thread.
//
// - Sharded (16 shards, one mutex each): a hit locks one shard for a map
//   look-up and an LRU splice; there is no global lock on the hit path.
// - Bounded: entries are charged body + fields + a fixed overhead
//   (CachedResponse::charge); inserting past max_bytes evicts the least
//   recently used entries across all shards. One entry may use at most
//   maxEntryBytes() (1/8 of max_bytes); bigger responses are not stored.
// - Entries are immutable and shared (std::shared_ptr<const CachedResponse>):
//   a thread serving a hit keeps its pointer, so eviction never frees bytes
//   that are being written.
// - Expired entries are never returned as hits (lookup says kStale).
// - Coalescing: join() makes the first miss for a key its Fill's leader and
//   later misses its waiters, across threads.
//
// Every method is thread-safe. Times are Unix ms passed by the caller.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/entry.h"
#include "cache/policy.h"

namespace isogate::cache {

enum class LookupResult {
  kHit,       // fresh entry matching the request's Vary values
  kUriMiss,   // nothing stored under the key
  kVaryMiss,  // entries under the key, none for this request's Vary values
  kStale,     // the matching entry has expired (it is dropped)
};

struct Lookup {
  LookupResult result = LookupResult::kUriMiss;
  std::shared_ptr<const CachedResponse> entry;  // set for kHit only
};

// The wall clock in Unix ms (CLOCK_REALTIME_COARSE: a few ms resolution,
// no system call). What callers pass as `now_ms` outside of tests.
int64_t wallClockMs();

// The forward reason for a miss (kHit has none): kVaryMiss, kStale, and
// kMiss for "nothing stored for the URL" (DESIGN.md's "fwd=miss").
Forward forwardFor(LookupResult result);

// ---- coalescing ----

enum class FillOutcome {
  kStored,     // the leader stored an entry: look up again (it may not match your Vary)
  kNotStored,  // not storable, upstream error, or the leader went away: go to the origin yourself
};

// One in-flight origin request for a key, shared by its leader and waiters.
class Fill {
 public:
  // Called once, on the leader's thread (or the thread that dropped the
  // leader), with the store's shard lock NOT held. Must be cheap and
  // thread-safe: post to your own loop (runtime/cache_wait.h does this).
  using Waker = std::function<void(FillOutcome)>;

  // Registers a waiter. Returns false (not registered, `wake` dropped) when
  // the fill has already finished: read outcome() then.
  bool addWaiter(Waker wake, uint64_t* id);
  // The waiter gave up (timeout, client gone). After it returns its waker is
  // never called (it may have been called already).
  void removeWaiter(uint64_t id);
  std::optional<FillOutcome> outcome() const;
  size_t waiterCount() const;

 private:
  friend class Store;
  friend class FillLeader;
  void finish(FillOutcome outcome);

  mutable std::mutex mutex_;
  std::vector<std::pair<uint64_t, Waker>> waiters_;
  uint64_t next_id_ = 1;
  std::optional<FillOutcome> outcome_;
};

class Store;

// The leader's handle on a Fill: move-only. finish() (or destruction
// without it, = kNotStored) removes the fill from the store and wakes the
// waiters. Insert the entry BEFORE finish(kStored).
class FillLeader {
 public:
  FillLeader() = default;
  FillLeader(FillLeader&& other) noexcept;
  FillLeader& operator=(FillLeader&& other) noexcept;
  ~FillLeader();
  explicit operator bool() const { return fill_ != nullptr; }
  void finish(FillOutcome outcome);

 private:
  friend class Store;
  FillLeader(Store* store, std::string key, std::shared_ptr<Fill> fill);
  Store* store_ = nullptr;
  std::string key_;
  std::shared_ptr<Fill> fill_;
};

struct Join {
  FillLeader leader;          // set: you lead; fetch, insert, then leader.finish()
  std::shared_ptr<Fill> wait;  // set: another request leads; wait on it
};

// ---- building an entry while the body streams ----

// Collects one response into a CachedResponse. Append body bytes as they
// pass to the client; once they exceed `max_bytes` the builder gives up
// (overflowed(), the buffer is freed) and the response simply passes
// through uncached. Single-threaded.
class EntryBuilder {
 public:
  // `decision` must have store == true; `vary_values` =
  // varyValues(decision.vary_names, request). `headers`: end-to-end
  // response fields (hop-by-hop ones are dropped here anyway, as are
  // Age, Content-Length, Transfer-Encoding and decision.strip_fields).
  // `expected_length` (Content-Length, if known) reserves the buffer; a
  // value over max_bytes overflows at once.
  EntryBuilder(std::string_view ns, std::string_view url, int status, std::string reason, const Fields& headers,
               const StoreDecision& decision, std::vector<std::optional<std::string>> vary_values, size_t max_bytes,
               int64_t now_ms, std::optional<uint64_t> expected_length = std::nullopt);
  template <class Headers>
  static EntryBuilder from(std::string_view ns, std::string_view url, int status, std::string reason,
                           const Headers& headers, const StoreDecision& decision,
                           std::vector<std::optional<std::string>> vary_values, size_t max_bytes, int64_t now_ms,
                           std::optional<uint64_t> expected_length = std::nullopt) {
    return EntryBuilder(ns, url, status, std::move(reason), toFields(headers), decision, std::move(vary_values),
                        max_bytes, now_ms, expected_length);
  }
  EntryBuilder(EntryBuilder&&) = default;
  EntryBuilder& operator=(EntryBuilder&&) = default;

  // Returns false once the entry is over the cap (further calls do nothing).
  bool append(const char* data, size_t len);
  bool overflowed() const { return overflowed_; }
  // The entry being built (fields, validators, status; the body so far), or
  // null after an overflow: e.g. to answer a conditional request with 304
  // from the response that is being stored.
  const CachedResponse* pending() const { return entry_.get(); }
  // The finished entry, or null after an overflow. Call once.
  std::shared_ptr<const CachedResponse> finish();

 private:
  std::unique_ptr<CachedResponse> entry_;
  size_t max_bytes_;
  bool overflowed_ = false;
};

// ---- the store ----

struct StoreOptions {
  size_t max_bytes = 256u << 20;
  size_t max_entry_bytes = 0;  // 0: max_bytes / 8
  size_t max_variants = 32;    // per key; the oldest goes first
};

struct StoreStats {
  size_t entries = 0;
  size_t bytes = 0;
  size_t max_bytes = 0;
  uint64_t inserts = 0;
  uint64_t evictions = 0;
  uint64_t purged = 0;
  size_t fills_in_flight = 0;
};

class Store {
 public:
  explicit Store(StoreOptions options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The store for cache.max_mb, or null when it is 0 (caching off).
  static std::shared_ptr<Store> create(uint32_t max_mb);

  size_t maxBytes() const { return options_.max_bytes; }
  size_t maxEntryBytes() const { return options_.max_entry_bytes; }

  // Finds the newest entry under `key` whose Vary values match `request`.
  Lookup lookupWith(const std::string& key, const FieldReader& request, int64_t now_ms);
  template <class Headers>
  Lookup lookup(const std::string& key, const Headers& request_headers, int64_t now_ms) {
    return lookupWith(key, fieldReader(request_headers), now_ms);
  }

  // Stores `entry` (replacing an entry with the same key and Vary values),
  // evicting least recently used entries until the store fits. Returns
  // false, storing nothing, when the entry is larger than maxEntryBytes().
  bool insert(std::shared_ptr<const CachedResponse> entry, int64_t now_ms);

  // Removes the entries under `key` that match `request`'s Vary values
  // (caches.default.delete); returns how many.
  size_t eraseWith(const std::string& key, const FieldReader& request);
  template <class Headers>
  size_t erase(const std::string& key, const Headers& request_headers) {
    return eraseWith(key, fieldReader(request_headers));
  }
  // Removes every variant stored under `key` (an unsafe method succeeded on
  // the URL, RFC 9111 4.4); returns how many.
  size_t eraseKey(const std::string& key);
  // Removes every entry (all namespaces) whose URL starts with `url_prefix`
  // ("" = everything); returns how many (POST /admin/cache/purge).
  size_t purgePrefix(std::string_view url_prefix);

  // Request coalescing: the first caller for `key` leads, callers while
  // the leader is in flight wait on its Fill.
  Join join(const std::string& key);

  StoreStats stats() const;

 private:
  friend class FillLeader;
  struct Shard;
  struct Node;

  Shard& shardFor(const std::string& key);
  void evictUntilFits();
  void endFill(const std::string& key, const std::shared_ptr<Fill>& fill, FillOutcome outcome);

  StoreOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<size_t> bytes_{0};
  std::atomic<size_t> entries_{0};
  std::atomic<uint64_t> inserts_{0};
  std::atomic<uint64_t> evictions_{0};
  std::atomic<uint64_t> purged_{0};
  std::mutex evict_mutex_;  // one evictor at a time (inserts only, never hits)
};

}  // namespace isogate::cache
