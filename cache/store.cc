#include "cache/store.h"

#include <time.h>

#include <algorithm>
#include <limits>

namespace isogate::cache {

namespace {

constexpr size_t kShards = 16;
// Per entry: the CachedResponse itself, its shared_ptr control block, the
// LRU node, the key-map slot and malloc's headers, rounded up.
constexpr size_t kEntryOverhead = 512;
// Per stored field: two std::string headers plus malloc rounding.
constexpr size_t kFieldOverhead = 2 * sizeof(std::string) + 16;

size_t stringCharge(const std::string& s) {
  // Short strings live inside the object (SSO); long ones cost their capacity.
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

size_t baseCharge(const CachedResponse& e) {
  size_t c = kEntryOverhead + stringCharge(e.key) + stringCharge(e.ns) + stringCharge(e.url) +
             stringCharge(e.reason) + stringCharge(e.etag) + stringCharge(e.last_modified);
  for (const Field& f : e.headers) c += kFieldOverhead + stringCharge(f.name) + stringCharge(f.value);
  for (const std::string& n : e.vary_names) c += sizeof(std::string) + stringCharge(n);
  for (const auto& v : e.vary_values) c += sizeof(std::optional<std::string>) + (v ? stringCharge(*v) : 0);
  return c;
}

}  // namespace

int64_t wallClockMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int64_t CachedResponse::ageSeconds(int64_t now_ms) const {
  return initial_age_s + std::max<int64_t>(0, now_ms - stored_ms) / 1000;
}

int64_t CachedResponse::ttlSeconds(int64_t now_ms) const {
  return std::max<int64_t>(0, expires_ms - now_ms) / 1000;
}

Forward forwardFor(LookupResult result) {
  switch (result) {
    case LookupResult::kVaryMiss: return Forward::kVaryMiss;
    case LookupResult::kStale: return Forward::kStale;
    case LookupResult::kUriMiss:
    case LookupResult::kHit: break;
  }
  return Forward::kMiss;
}

// ---- Fill ----

bool Fill::addWaiter(Waker wake, uint64_t* id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (outcome_) return false;
  *id = next_id_++;
  waiters_.emplace_back(*id, std::move(wake));
  return true;
}

void Fill::removeWaiter(uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
    if (it->first == id) {
      waiters_.erase(it);
      return;
    }
  }
}

std::optional<FillOutcome> Fill::outcome() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return outcome_;
}

size_t Fill::waiterCount() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiters_.size();
}

void Fill::finish(FillOutcome outcome) {
  // Wakers run under the mutex so that removeWaiter() really means "never
  // called after this"; they only post to a loop, never call back here.
  std::lock_guard<std::mutex> lock(mutex_);
  if (outcome_) return;
  outcome_ = outcome;
  for (auto& [id, wake] : waiters_) wake(outcome);
  waiters_.clear();
}

FillLeader::FillLeader(Store* store, std::string key, std::shared_ptr<Fill> fill)
    : store_(store), key_(std::move(key)), fill_(std::move(fill)) {}

FillLeader::FillLeader(FillLeader&& other) noexcept
    : store_(other.store_), key_(std::move(other.key_)), fill_(std::move(other.fill_)) {
  other.store_ = nullptr;
  other.fill_.reset();
}

FillLeader& FillLeader::operator=(FillLeader&& other) noexcept {
  if (this != &other) {
    finish(FillOutcome::kNotStored);
    store_ = other.store_;
    key_ = std::move(other.key_);
    fill_ = std::move(other.fill_);
    other.store_ = nullptr;
    other.fill_.reset();
  }
  return *this;
}

FillLeader::~FillLeader() { finish(FillOutcome::kNotStored); }

void FillLeader::finish(FillOutcome outcome) {
  if (!fill_) return;
  std::shared_ptr<Fill> fill = std::move(fill_);
  fill_.reset();
  store_->endFill(key_, fill, outcome);
}

// ---- EntryBuilder ----

EntryBuilder::EntryBuilder(std::string_view ns, std::string_view url, int status, std::string reason,
                           const Fields& headers, const StoreDecision& decision,
                           std::vector<std::optional<std::string>> vary_values, size_t max_bytes, int64_t now_ms,
                           std::optional<uint64_t> expected_length)
    : entry_(std::make_unique<CachedResponse>()), max_bytes_(max_bytes) {
  CachedResponse& e = *entry_;
  e.ns = std::string(ns);
  e.url = std::string(url);
  e.key = makeKey(ns, url);
  e.status = status;
  e.reason = std::move(reason);
  std::string connection;
  if (auto c = joinedField(headers, "connection")) connection = *c;
  for (const Field& f : headers) {
    if (hopByHopField(f.name, connection) || equalsIgnoreCase(f.name, "age") ||
        equalsIgnoreCase(f.name, "content-length")) {
      continue;
    }
    bool stripped = false;
    for (const std::string& s : decision.strip_fields) {
      if (equalsIgnoreCase(f.name, s)) stripped = true;
    }
    if (stripped) continue;
    if (e.etag.empty() && equalsIgnoreCase(f.name, "etag")) e.etag = f.value;
    if (e.last_modified.empty() && equalsIgnoreCase(f.name, "last-modified")) e.last_modified = f.value;
    e.headers.push_back(f);
  }
  e.stored_ms = now_ms;
  e.expires_ms = now_ms + decision.lifetime_ms;
  e.initial_age_s = decision.initial_age_s;
  e.vary_names = decision.vary_names;
  e.vary_values = std::move(vary_values);
  e.vary_values.resize(e.vary_names.size());
  e.charge = baseCharge(e);
  if (!decision.store || e.charge > max_bytes_ ||
      (expected_length && *expected_length > max_bytes_ - e.charge)) {
    overflowed_ = true;
    entry_.reset();
    return;
  }
  if (expected_length) e.body.reserve(*expected_length);
}

bool EntryBuilder::append(const char* data, size_t len) {
  if (overflowed_) return false;
  if (entry_->body.size() + len > max_bytes_ - entry_->charge) {
    overflowed_ = true;
    entry_.reset();
    return false;
  }
  entry_->body.append(data, len);
  return true;
}

std::shared_ptr<const CachedResponse> EntryBuilder::finish() {
  if (overflowed_ || !entry_) return nullptr;
  if (entry_->body.capacity() > entry_->body.size() + 64) entry_->body.shrink_to_fit();
  entry_->charge += stringCharge(entry_->body);
  return std::shared_ptr<const CachedResponse>(std::move(entry_));
}

// ---- Store ----

struct Store::Node {
  std::shared_ptr<const CachedResponse> entry;
  int64_t last_used_ms = 0;
};

struct Store::Shard {
  std::mutex mutex;
  std::list<Node> lru;  // front: most recently used
  // Variants per primary key, newest first.
  std::unordered_map<std::string, std::vector<std::list<Node>::iterator>> by_key;
  std::unordered_map<std::string, std::shared_ptr<Fill>> fills;
};

Store::Store(StoreOptions options) : options_(options) {
  if (options_.max_entry_bytes == 0) options_.max_entry_bytes = options_.max_bytes / 8;
  options_.max_entry_bytes = std::min(options_.max_entry_bytes, options_.max_bytes);
  if (options_.max_variants == 0) options_.max_variants = 1;
  for (size_t i = 0; i < kShards; ++i) shards_.push_back(std::make_unique<Shard>());
}

Store::~Store() = default;

std::shared_ptr<Store> Store::create(uint32_t max_mb) {
  if (max_mb == 0) return nullptr;
  StoreOptions options;
  options.max_bytes = static_cast<size_t>(max_mb) << 20;
  return std::make_shared<Store>(options);
}

Store::Shard& Store::shardFor(const std::string& key) {
  return *shards_[std::hash<std::string>{}(key) % shards_.size()];
}

namespace {

bool varyMatches(const CachedResponse& e, const FieldReader& request) {
  for (size_t i = 0; i < e.vary_names.size(); ++i) {
    std::optional<std::string> v = request(e.vary_names[i]);
    if (v) v = normalizeVaryValue(*v);
    if (v != e.vary_values[i]) return false;
  }
  return true;
}

}  // namespace

Lookup Store::lookupWith(const std::string& key, const FieldReader& request, int64_t now_ms) {
  Lookup out;
  std::shared_ptr<const CachedResponse> dropped;  // freed outside the lock
  Shard& shard = shardFor(key);
  std::lock_guard<std::mutex> lock(shard.mutex);
  auto found = shard.by_key.find(key);
  if (found == shard.by_key.end()) return out;
  auto& variants = found->second;
  for (size_t i = 0; i < variants.size(); ++i) {
    auto node = variants[i];
    if (!varyMatches(*node->entry, request)) continue;
    if (!node->entry->fresh(now_ms)) {
      out.result = LookupResult::kStale;
      dropped = std::move(node->entry);
      bytes_.fetch_sub(dropped->charge, std::memory_order_relaxed);
      entries_.fetch_sub(1, std::memory_order_relaxed);
      shard.lru.erase(node);
      variants.erase(variants.begin() + static_cast<ptrdiff_t>(i));
      if (variants.empty()) shard.by_key.erase(found);
      return out;
    }
    node->last_used_ms = now_ms;
    shard.lru.splice(shard.lru.begin(), shard.lru, node);
    out.result = LookupResult::kHit;
    out.entry = node->entry;
    return out;
  }
  out.result = LookupResult::kVaryMiss;
  return out;
}

bool Store::insert(std::shared_ptr<const CachedResponse> entry, int64_t now_ms) {
  if (!entry || entry->charge > options_.max_entry_bytes) return false;
  std::vector<std::shared_ptr<const CachedResponse>> dropped;  // freed outside the lock
  {
    Shard& shard = shardFor(entry->key);
    std::lock_guard<std::mutex> lock(shard.mutex);
    auto& variants = shard.by_key[entry->key];
    for (size_t i = 0; i < variants.size();) {
      const CachedResponse& old = *variants[i]->entry;
      bool same = old.vary_names == entry->vary_names && old.vary_values == entry->vary_values;
      bool too_many = i + 1 >= options_.max_variants;
      if (same || too_many) {
        dropped.push_back(std::move(variants[i]->entry));
        bytes_.fetch_sub(dropped.back()->charge, std::memory_order_relaxed);
        entries_.fetch_sub(1, std::memory_order_relaxed);
        shard.lru.erase(variants[i]);
        variants.erase(variants.begin() + static_cast<ptrdiff_t>(i));
        continue;
      }
      ++i;
    }
    shard.lru.push_front(Node{entry, now_ms});
    variants.insert(variants.begin(), shard.lru.begin());
    bytes_.fetch_add(entry->charge, std::memory_order_relaxed);
    entries_.fetch_add(1, std::memory_order_relaxed);
  }
  inserts_.fetch_add(1, std::memory_order_relaxed);
  evictUntilFits();
  return true;
}

void Store::evictUntilFits() {
  if (bytes_.load(std::memory_order_relaxed) <= options_.max_bytes) return;
  std::lock_guard<std::mutex> evicting(evict_mutex_);
  while (bytes_.load(std::memory_order_relaxed) > options_.max_bytes) {
    // The shard whose least recently used entry is the oldest.
    Shard* oldest = nullptr;
    int64_t oldest_ms = std::numeric_limits<int64_t>::max();
    for (auto& s : shards_) {
      std::lock_guard<std::mutex> lock(s->mutex);
      if (!s->lru.empty() && s->lru.back().last_used_ms < oldest_ms) {
        oldest_ms = s->lru.back().last_used_ms;
        oldest = s.get();
      }
    }
    if (!oldest) return;
    std::shared_ptr<const CachedResponse> victim;
    {
      std::lock_guard<std::mutex> lock(oldest->mutex);
      if (oldest->lru.empty()) continue;
      auto node = std::prev(oldest->lru.end());
      victim = std::move(node->entry);
      auto found = oldest->by_key.find(victim->key);
      if (found != oldest->by_key.end()) {
        auto& variants = found->second;
        variants.erase(std::remove(variants.begin(), variants.end(), node), variants.end());
        if (variants.empty()) oldest->by_key.erase(found);
      }
      oldest->lru.erase(node);
      bytes_.fetch_sub(victim->charge, std::memory_order_relaxed);
      entries_.fetch_sub(1, std::memory_order_relaxed);
    }
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
}

size_t Store::eraseWith(const std::string& key, const FieldReader& request) {
  std::vector<std::shared_ptr<const CachedResponse>> dropped;
  Shard& shard = shardFor(key);
  {
    std::lock_guard<std::mutex> lock(shard.mutex);
    auto found = shard.by_key.find(key);
    if (found == shard.by_key.end()) return 0;
    auto& variants = found->second;
    for (size_t i = 0; i < variants.size();) {
      if (!varyMatches(*variants[i]->entry, request)) {
        ++i;
        continue;
      }
      dropped.push_back(std::move(variants[i]->entry));
      bytes_.fetch_sub(dropped.back()->charge, std::memory_order_relaxed);
      entries_.fetch_sub(1, std::memory_order_relaxed);
      shard.lru.erase(variants[i]);
      variants.erase(variants.begin() + static_cast<ptrdiff_t>(i));
    }
    if (variants.empty()) shard.by_key.erase(found);
  }
  return dropped.size();
}

size_t Store::eraseKey(const std::string& key) {
  std::vector<std::shared_ptr<const CachedResponse>> dropped;  // freed outside the lock
  Shard& shard = shardFor(key);
  std::lock_guard<std::mutex> lock(shard.mutex);
  auto found = shard.by_key.find(key);
  if (found == shard.by_key.end()) return 0;
  for (auto node : found->second) {
    dropped.push_back(std::move(node->entry));
    bytes_.fetch_sub(dropped.back()->charge, std::memory_order_relaxed);
    entries_.fetch_sub(1, std::memory_order_relaxed);
    shard.lru.erase(node);
  }
  shard.by_key.erase(found);
  return dropped.size();
}

size_t Store::purgePrefix(std::string_view url_prefix) {
  size_t count = 0;
  for (auto& s : shards_) {
    std::vector<std::shared_ptr<const CachedResponse>> dropped;
    {
      std::lock_guard<std::mutex> lock(s->mutex);
      for (auto it = s->lru.begin(); it != s->lru.end();) {
        if (!std::string_view(it->entry->url).starts_with(url_prefix)) {
          ++it;
          continue;
        }
        dropped.push_back(std::move(it->entry));
        const std::string& key = dropped.back()->key;
        auto found = s->by_key.find(key);
        if (found != s->by_key.end()) {
          auto& variants = found->second;
          variants.erase(std::remove(variants.begin(), variants.end(), it), variants.end());
          if (variants.empty()) s->by_key.erase(found);
        }
        bytes_.fetch_sub(dropped.back()->charge, std::memory_order_relaxed);
        entries_.fetch_sub(1, std::memory_order_relaxed);
        it = s->lru.erase(it);
      }
    }
    count += dropped.size();
  }
  purged_.fetch_add(count, std::memory_order_relaxed);
  return count;
}

Join Store::join(const std::string& key) {
  Join out;
  Shard& shard = shardFor(key);
  std::lock_guard<std::mutex> lock(shard.mutex);
  auto [it, inserted] = shard.fills.try_emplace(key);
  if (!inserted) {
    out.wait = it->second;
    return out;
  }
  it->second = std::make_shared<Fill>();
  out.leader = FillLeader(this, key, it->second);
  return out;
}

void Store::endFill(const std::string& key, const std::shared_ptr<Fill>& fill, FillOutcome outcome) {
  {
    Shard& shard = shardFor(key);
    std::lock_guard<std::mutex> lock(shard.mutex);
    auto it = shard.fills.find(key);
    if (it != shard.fills.end() && it->second == fill) shard.fills.erase(it);
  }
  fill->finish(outcome);
}

StoreStats Store::stats() const {
  StoreStats s;
  s.entries = entries_.load(std::memory_order_relaxed);
  s.bytes = bytes_.load(std::memory_order_relaxed);
  s.max_bytes = options_.max_bytes;
  s.inserts = inserts_.load(std::memory_order_relaxed);
  s.evictions = evictions_.load(std::memory_order_relaxed);
  s.purged = purged_.load(std::memory_order_relaxed);
  for (const auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard->mutex);
    s.fills_in_flight += shard->fills.size();
  }
  return s;
}

}  // namespace isogate::cache
