#pragma once
// Which api_key values of one route get their own
// isogate_requests_by_key_total series, so that a route with thousands of
// keys cannot blow up the metrics' cardinality. The rule:
//
// - At most kMaxShown keys per route are shown. At each scrape, free places
//   go to the busiest keys not shown yet (requests since start).
// - A shown key keeps its place until a key not shown has at least twice
//   its requests; then the busier key takes the place.
// - A key that gets a place counts from the previous scrape on; what it had
//   before stays in key="other". Everything not counted by a shown key is
//   "other", so summing over `key` gives the route's requests with an
//   api_key, every series only ever grows while it exists, and "other"
//   never goes down.
//
// Not thread-safe: the metrics scraper keeps one per route under its lock.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace isogate {

class KeyRanking {
 public:
  static constexpr size_t kMaxShown = 100;
  // A key takes a shown key's place once it has this many times its requests.
  static constexpr uint64_t kReplaceFactor = 2;

  struct Result {
    std::vector<std::pair<std::string, uint64_t>> shown;  // sorted by key
    uint64_t other = 0;
  };

  // `counts`: requests of every key tracked (since start, never decreasing);
  // `untracked`: requests whose key was not tracked (over the per-thread cap).
  Result rank(const std::map<std::string, uint64_t>& counts, uint64_t untracked);

 private:
  void show(const std::string& key);

  std::map<std::string, uint64_t> base_;      // shown key -> its count when it got its place
  std::map<std::string, uint64_t> previous_;  // every key's count at the previous rank()
};

}  // namespace isogate
