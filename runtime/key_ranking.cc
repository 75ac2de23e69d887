#include "runtime/key_ranking.h"

#include <algorithm>
#include <tuple>

namespace isogate {

void KeyRanking::show(const std::string& key) {
  // Counts up to the previous scrape were already reported under "other".
  auto it = previous_.find(key);
  base_[key] = it == previous_.end() ? 0 : it->second;
}

KeyRanking::Result KeyRanking::rank(const std::map<std::string, uint64_t>& counts, uint64_t untracked) {
  auto countOf = [&](const std::string& key) -> uint64_t {
    auto it = counts.find(key);
    return it == counts.end() ? 0 : it->second;
  };
  // Keys without a place, busiest first (ties by key, so the choice is stable).
  std::vector<std::pair<uint64_t, const std::string*>> candidates;
  for (const auto& [key, count] : counts) {
    if (count > 0 && !base_.count(key)) candidates.emplace_back(count, &key);
  }
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  });
  size_t next = 0;
  while (base_.size() < kMaxShown && next < candidates.size()) show(*candidates[next++].second);

  if (next < candidates.size()) {
    // Full: the busiest candidates displace the least busy shown keys, one
    // for one, while the factor holds.
    std::vector<std::pair<uint64_t, std::string>> weakest;
    for (const auto& [key, base] : base_) weakest.emplace_back(countOf(key), key);
    std::sort(weakest.begin(), weakest.end());
    for (size_t w = 0; w < weakest.size() && next < candidates.size(); ++w, ++next) {
      const uint64_t bar = kReplaceFactor * std::max<uint64_t>(weakest[w].first, 1);
      if (candidates[next].first < bar) break;
      base_.erase(weakest[w].second);
      show(*candidates[next].second);
    }
  }

  Result result;
  uint64_t total = untracked;
  for (const auto& [key, count] : counts) total += count;
  uint64_t shown_sum = 0;
  for (const auto& [key, base] : base_) {
    const uint64_t count = countOf(key);
    const uint64_t value = count >= base ? count - base : 0;
    result.shown.emplace_back(key, value);
    shown_sum += value;
  }
  result.other = total - shown_sum;
  previous_ = counts;
  return result;
}

}  // namespace isogate
