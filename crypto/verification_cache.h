#pragma once
// A bounded LRU of successful JWT verifications, so a token presented again
// skips signature and claim checks. Keyed by the full token bytes: the hash
// only picks a bucket and entries are compared byte for byte, so a hash
// collision can never return another token's result (and since only verified
// tokens get in, nobody can flood a bucket with chosen keys). Only valid
// results are stored, and only for as long as they would still verify: until
// exp + skew (and from nbf - skew), or at most kMaxLifetimeWithoutExpS when
// the token has no exp, which bounds how long a forgotten clear() could matter.
//
// One cache per worker thread and per (policy, key source): it is NOT thread
// safe, and its entries are only meaningful for the policy and keys they
// were verified with. Call clear() whenever the key set or secret changes.

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "crypto/jwt.h"

namespace isogate::crypto {

class VerificationCache {
 public:
  static constexpr int64_t kMaxLifetimeWithoutExpS = 300;
  static constexpr size_t kDefaultMaxBytes = size_t{16} << 20;

  // At most `max_entries` entries and about `max_bytes` of token, header and
  // claims text (whichever bound is hit first evicts the least recently used).
  explicit VerificationCache(size_t max_entries, size_t max_bytes = kDefaultMaxBytes);
  VerificationCache(const VerificationCache&) = delete;
  VerificationCache& operator=(const VerificationCache&) = delete;

  // The cached result for exactly these token bytes while it is still valid
  // at `now_s`, else nullptr (an entry found outside its window is dropped).
  // A hit becomes the most recently used entry. The pointer stays valid until
  // the next insert(), clear() or lookup() of the same token.
  const JwtResult* lookup(std::string_view token, int64_t now_s);

  // Remembers a result verifyJwt() returned at `now_s` under a policy with
  // `clock_skew_s`. Invalid results, oversized tokens and results whose
  // window has already closed are ignored. Re-inserting a token replaces it.
  void insert(std::string_view token, const JwtResult& result, int64_t clock_skew_s, int64_t now_s);

  void clear();
  size_t size() const { return index_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  struct Entry {
    std::string token;  // index_ keys view these bytes; a list node never moves
    JwtResult result;
    int64_t not_before_s;  // valid while not_before_s <= now < expires_at_s
    int64_t expires_at_s;
    size_t bytes;
  };
  using EntryList = std::list<Entry>;

  static size_t entryBytes(std::string_view token, const JwtResult& result);
  void erase(EntryList::iterator entry);
  void evictToFit();

  size_t max_entries_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  EntryList lru_;  // front: most recently used
  std::unordered_map<std::string_view, EntryList::iterator> index_;
};

}  // namespace isogate::crypto
