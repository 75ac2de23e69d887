// runtime/key_ranking.cc: at most 100 shown keys, the busiest win places,
// and every series (and "other") only grows however the traffic moves.

#include "runtime/key_ranking.h"

#include <gtest/gtest.h>

#include <random>

namespace isogate {
namespace {

TEST(KeyRankingTest, FewKeysAreAllShownWithFullCounts) {
  KeyRanking ranking;
  auto r = ranking.rank({{"a", 5}, {"b", 7}}, 3);
  ASSERT_EQ(r.shown.size(), 2u);
  EXPECT_EQ(r.shown[0], (std::pair<std::string, uint64_t>{"a", 5}));
  EXPECT_EQ(r.shown[1], (std::pair<std::string, uint64_t>{"b", 7}));
  EXPECT_EQ(r.other, 3u);
}

TEST(KeyRankingTest, AKeyShownLaterCountsFromThePreviousRank) {
  KeyRanking ranking;
  std::map<std::string, uint64_t> counts;
  for (size_t i = 0; i < KeyRanking::kMaxShown; ++i) counts["k" + std::to_string(i)] = 10;
  counts["late"] = 5;
  auto first = ranking.rank(counts, 0);
  EXPECT_EQ(first.other, 5u);
  counts["late"] = 45;  // 40 more: at least twice the weakest (10)
  auto second = ranking.rank(counts, 0);
  auto it = std::find_if(second.shown.begin(), second.shown.end(), [](const auto& s) { return s.first == "late"; });
  ASSERT_NE(it, second.shown.end());
  EXPECT_EQ(it->second, 40u) << "its first 5 were reported under other";
  EXPECT_EQ(second.other, 5u + 10u) << "the displaced key's count moves to other";
}

TEST(KeyRankingTest, RandomTrafficKeepsEverySeriesMonotonicAndTheSumExact) {
  std::mt19937 rng(7);
  KeyRanking ranking;
  std::map<std::string, uint64_t> counts;
  uint64_t untracked = 0;
  std::map<std::string, uint64_t> last_shown;
  uint64_t last_other = 0;
  for (int round = 0; round < 200; ++round) {
    // Traffic shifts: a moving window of hot keys over 400 keys.
    for (int n = 0; n < 500; ++n) {
      int key = static_cast<int>((round + std::geometric_distribution<int>(0.02)(rng)) % 400);
      ++counts["key" + std::to_string(key)];
    }
    untracked += rng() % 3;
    auto r = ranking.rank(counts, untracked);
    ASSERT_LE(r.shown.size(), KeyRanking::kMaxShown);
    uint64_t total = untracked, sum = r.other;
    for (const auto& [k, c] : counts) total += c;
    std::map<std::string, uint64_t> shown;
    for (const auto& [k, v] : r.shown) {
      sum += v;
      shown[k] = v;
      auto prev = last_shown.find(k);
      if (prev != last_shown.end()) {
        ASSERT_GE(v, prev->second) << k << " went down in round " << round;
      }
    }
    ASSERT_EQ(sum, total);
    ASSERT_GE(r.other, last_other) << "other went down in round " << round;
    last_other = r.other;
    last_shown = shown;
  }
}

}  // namespace
}  // namespace isogate
