#include "crypto/verification_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace isogate::crypto {
namespace {

constexpr int64_t kNow = 1700000000;
constexpr int64_t kSkew = 60;

JwtResult validResult(std::optional<int64_t> exp, std::optional<int64_t> nbf = std::nullopt,
                      std::string claims = "{\"sub\":\"user-1\"}") {
  JwtResult result;
  result.header_json = "{\"alg\":\"ES256\",\"kid\":\"k1\"}";
  result.claims_json = std::move(claims);
  result.alg = JwtAlgorithm::kEs256;
  result.kid = "k1";
  result.exp = exp;
  result.nbf = nbf;
  return result;
}

// Distinct, JWT-looking token bytes.
std::string token(int i) {
  return "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ." + std::string(86, 'A' + (i % 26)) +
         std::to_string(i);
}

TEST(VerificationCache, HitReturnsTheStoredResult) {
  VerificationCache cache(16);
  EXPECT_EQ(cache.lookup(token(1), kNow), nullptr);
  cache.insert(token(1), validResult(kNow + 3600), kSkew, kNow);
  EXPECT_EQ(cache.size(), 1u);

  const JwtResult* hit = cache.lookup(token(1), kNow + 1);
  ASSERT_NE(hit, nullptr);
  EXPECT_TRUE(hit->valid());
  EXPECT_EQ(hit->claims_json, "{\"sub\":\"user-1\"}");
  EXPECT_EQ(hit->header_json, "{\"alg\":\"ES256\",\"kid\":\"k1\"}");
  EXPECT_EQ(hit->kid, "k1");
  EXPECT_EQ(hit->alg, JwtAlgorithm::kEs256);
  EXPECT_EQ(hit->exp, kNow + 3600);
}

TEST(VerificationCache, KeysAreTheFullTokenBytes) {
  VerificationCache cache(16);
  const std::string t = token(1);
  cache.insert(t, validResult(kNow + 3600), kSkew, kNow);
  std::string last_byte_changed = t;
  last_byte_changed.back() ^= 1;
  std::string first_byte_changed = t;
  first_byte_changed.front() ^= 1;
  EXPECT_EQ(cache.lookup(last_byte_changed, kNow), nullptr);
  EXPECT_EQ(cache.lookup(first_byte_changed, kNow), nullptr);
  EXPECT_EQ(cache.lookup(t.substr(0, t.size() - 1), kNow), nullptr);
  EXPECT_EQ(cache.lookup(t + "A", kNow), nullptr);
  EXPECT_EQ(cache.lookup(std::string(t.data(), t.size()) + std::string(1, '\0'), kNow), nullptr);
  EXPECT_NE(cache.lookup(t, kNow), nullptr);
}

TEST(VerificationCache, EntriesLiveUntilExpPlusSkew) {
  VerificationCache cache(16);
  cache.insert(token(1), validResult(kNow + 100), kSkew, kNow);
  EXPECT_NE(cache.lookup(token(1), kNow + 100 + kSkew - 1), nullptr);
  EXPECT_EQ(cache.lookup(token(1), kNow + 100 + kSkew), nullptr);
  EXPECT_EQ(cache.size(), 0u);  // dropped, not just hidden
  EXPECT_EQ(cache.lookup(token(1), kNow), nullptr);

  // With no skew the window ends at exp itself.
  cache.insert(token(2), validResult(kNow + 100), 0, kNow);
  EXPECT_NE(cache.lookup(token(2), kNow + 99), nullptr);
  EXPECT_EQ(cache.lookup(token(2), kNow + 100), nullptr);
}

TEST(VerificationCache, TokensWithoutExpAreKeptBriefly) {
  VerificationCache cache(16);
  cache.insert(token(1), validResult(std::nullopt), kSkew, kNow);
  EXPECT_NE(cache.lookup(token(1), kNow + VerificationCache::kMaxLifetimeWithoutExpS - 1), nullptr);
  EXPECT_EQ(cache.lookup(token(1), kNow + VerificationCache::kMaxLifetimeWithoutExpS), nullptr);
}

TEST(VerificationCache, NotBeforeIsHonouredIfTheClockGoesBack) {
  VerificationCache cache(16);
  cache.insert(token(1), validResult(kNow + 3600, kNow), kSkew, kNow);
  EXPECT_NE(cache.lookup(token(1), kNow - kSkew), nullptr);
  EXPECT_EQ(cache.lookup(token(1), kNow - kSkew - 1), nullptr);
}

TEST(VerificationCache, OnlyValidLiveResultsAreStored) {
  VerificationCache cache(16);
  JwtResult invalid = validResult(kNow + 3600);
  invalid.error = JwtError::kInvalidSignature;
  cache.insert(token(1), invalid, kSkew, kNow);
  cache.insert(token(2), validResult(kNow - kSkew), kSkew, kNow);  // already expired
  cache.insert(token(3), validResult(kNow + 3600, kNow + kSkew + 1), kSkew, kNow);  // not yet valid
  cache.insert("", validResult(kNow + 3600), kSkew, kNow);
  cache.insert(std::string(kMaxJwtBytes + 1, 'a'), validResult(kNow + 3600), kSkew, kNow);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(VerificationCache, EvictsTheLeastRecentlyUsed) {
  VerificationCache cache(3);
  for (int i = 1; i <= 3; ++i) cache.insert(token(i), validResult(kNow + 3600), kSkew, kNow);
  ASSERT_NE(cache.lookup(token(1), kNow), nullptr);  // 1 is now the most recent; 2 the least
  cache.insert(token(4), validResult(kNow + 3600), kSkew, kNow);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.lookup(token(2), kNow), nullptr);
  // Order is now (most recent first) 4, 1, 3; touching 3 leaves 1 the oldest.
  ASSERT_NE(cache.lookup(token(3), kNow), nullptr);
  ASSERT_NE(cache.lookup(token(4), kNow), nullptr);
  cache.insert(token(5), validResult(kNow + 3600), kSkew, kNow);
  EXPECT_EQ(cache.lookup(token(1), kNow), nullptr);
  EXPECT_NE(cache.lookup(token(3), kNow), nullptr);
  EXPECT_NE(cache.lookup(token(4), kNow), nullptr);
  EXPECT_NE(cache.lookup(token(5), kNow), nullptr);
}

TEST(VerificationCache, ReinsertingReplacesAndRefreshes) {
  VerificationCache cache(2);
  cache.insert(token(1), validResult(kNow + 100), kSkew, kNow);
  cache.insert(token(2), validResult(kNow + 100), kSkew, kNow);
  cache.insert(token(1), validResult(kNow + 3600, std::nullopt, "{\"v\":2}"), kSkew, kNow);
  EXPECT_EQ(cache.size(), 2u);
  cache.insert(token(3), validResult(kNow + 100), kSkew, kNow);  // evicts 2, not 1
  const JwtResult* hit = cache.lookup(token(1), kNow + 1000);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->claims_json, "{\"v\":2}");
  EXPECT_EQ(cache.lookup(token(2), kNow), nullptr);
}

TEST(VerificationCache, CapacityIsABound) {
  VerificationCache cache(100);
  for (int i = 0; i < 1000; ++i) cache.insert(token(i), validResult(kNow + 3600), kSkew, kNow);
  EXPECT_EQ(cache.size(), 100u);
  EXPECT_NE(cache.lookup(token(999), kNow), nullptr);
  EXPECT_NE(cache.lookup(token(900), kNow), nullptr);
  EXPECT_EQ(cache.lookup(token(899), kNow), nullptr);

  VerificationCache none(0);
  none.insert(token(1), validResult(kNow + 3600), kSkew, kNow);
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.lookup(token(1), kNow), nullptr);
}

TEST(VerificationCache, BytesAreABound) {
  const std::string big_claims = "{\"pad\":\"" + std::string(10000, 'p') + "\"}";
  VerificationCache cache(1000, 50000);
  for (int i = 0; i < 20; ++i) {
    cache.insert(token(i), validResult(kNow + 3600, std::nullopt, big_claims), kSkew, kNow);
    EXPECT_LE(cache.bytes(), 50000u);
  }
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_NE(cache.lookup(token(19), kNow), nullptr);
  // An entry larger than the whole budget is not stored.
  cache.insert(token(100), validResult(kNow + 3600, std::nullopt, std::string(60000, 'x')), kSkew,
               kNow);
  EXPECT_EQ(cache.lookup(token(100), kNow), nullptr);
  EXPECT_EQ(cache.size(), 4u);
}

TEST(VerificationCache, ClearDropsEverything) {
  VerificationCache cache(16);
  for (int i = 0; i < 10; ++i) cache.insert(token(i), validResult(kNow + 3600), kSkew, kNow);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(cache.lookup(token(i), kNow), nullptr);
  cache.insert(token(1), validResult(kNow + 3600), kSkew, kNow);
  EXPECT_NE(cache.lookup(token(1), kNow), nullptr);
}

}  // namespace
}  // namespace isogate::crypto
