#include "crypto/verification_cache.h"

#include <algorithm>
#include <iterator>
#include <limits>

namespace isogate::crypto {
namespace {

// As in the claim checks: far beyond any real date, so sums cannot overflow.
constexpr int64_t kTimeLimit = int64_t{1} << 53;
constexpr int64_t kMaxSkewS = int64_t{1} << 32;
// Rough per-entry bookkeeping (list node, hash node, Entry fields).
constexpr size_t kEntryOverheadBytes = 256;
// Buckets allocated up front; larger caches grow on demand.
constexpr size_t kMaxReservedEntries = 1 << 16;

}  // namespace

VerificationCache::VerificationCache(size_t max_entries, size_t max_bytes)
    : max_entries_(max_entries), max_bytes_(max_bytes) {
  index_.reserve(std::min(max_entries, kMaxReservedEntries));
}

size_t VerificationCache::entryBytes(std::string_view token, const JwtResult& result) {
  return kEntryOverheadBytes + token.size() + result.header_json.size() +
         result.claims_json.size() + (result.kid ? result.kid->size() : 0);
}

const JwtResult* VerificationCache::lookup(std::string_view token, int64_t now_s) {
  auto found = index_.find(token);
  if (found == index_.end()) return nullptr;
  EntryList::iterator entry = found->second;
  if (now_s < entry->not_before_s || now_s >= entry->expires_at_s) {
    erase(entry);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, entry);
  return &entry->result;
}

void VerificationCache::insert(std::string_view token, const JwtResult& result,
                               int64_t clock_skew_s, int64_t now_s) {
  if (!result.valid() || token.empty() || token.size() > kMaxJwtBytes) return;
  const int64_t skew = std::clamp<int64_t>(clock_skew_s, 0, kMaxSkewS);
  const int64_t now = std::clamp<int64_t>(now_s, -kTimeLimit, kTimeLimit);
  // The same bounds checkJwtClaims() applies: exp <= now - skew is expired,
  // nbf > now + skew is not yet valid. JwtResult dates are already clamped.
  const int64_t expires_at = result.exp ? *result.exp + skew : now + kMaxLifetimeWithoutExpS;
  const int64_t not_before = result.nbf ? *result.nbf - skew : std::numeric_limits<int64_t>::min();
  if (now >= expires_at || now < not_before) return;
  const size_t bytes = entryBytes(token, result);
  if (max_entries_ == 0 || bytes > max_bytes_) return;

  if (auto found = index_.find(token); found != index_.end()) {
    EntryList::iterator entry = found->second;
    bytes_ = bytes_ - entry->bytes + bytes;
    entry->result = result;
    entry->not_before_s = not_before;
    entry->expires_at_s = expires_at;
    entry->bytes = bytes;
    lru_.splice(lru_.begin(), lru_, entry);
  } else {
    lru_.push_front(Entry{std::string(token), result, not_before, expires_at, bytes});
    index_.emplace(std::string_view(lru_.front().token), lru_.begin());
    bytes_ += bytes;
  }
  evictToFit();
}

void VerificationCache::clear() {
  index_.clear();
  lru_.clear();
  bytes_ = 0;
}

void VerificationCache::erase(EntryList::iterator entry) {
  bytes_ -= entry->bytes;
  index_.erase(std::string_view(entry->token));
  lru_.erase(entry);
}

void VerificationCache::evictToFit() {
  while (!lru_.empty() && (index_.size() > max_entries_ || bytes_ > max_bytes_)) {
    erase(std::prev(lru_.end()));
  }
}

}  // namespace isogate::crypto
