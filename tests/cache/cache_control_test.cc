#include "cache/cache_control.h"

#include <gtest/gtest.h>

namespace isogate::cache {
namespace {

TEST(CacheControlTest, ParsesDirectives) {
  CacheControl cc = parseCacheControl("public, max-age=60, s-maxage=\"120\", must-revalidate, Foo=bar");
  EXPECT_TRUE(cc.public_);
  EXPECT_TRUE(cc.must_revalidate);
  EXPECT_EQ(cc.max_age, 60);
  EXPECT_EQ(cc.s_maxage, 120);
  EXPECT_FALSE(cc.no_store);
  EXPECT_FALSE(cc.private_);
}

TEST(CacheControlTest, CaseAndSpacing) {
  CacheControl cc = parseCacheControl("  NO-STORE ,PRIVATE,max-age = 5");
  EXPECT_TRUE(cc.no_store);
  EXPECT_TRUE(cc.private_);
}

TEST(CacheControlTest, QualifiedPrivateAndNoCache) {
  CacheControl cc = parseCacheControl("private=\"Set-Cookie, X-Secret\", no-cache=\"X-Other\", max-age=10");
  EXPECT_FALSE(cc.private_);
  EXPECT_FALSE(cc.no_cache);
  EXPECT_EQ(cc.private_fields, (std::vector<std::string>{"set-cookie", "x-secret"}));
  EXPECT_EQ(cc.no_cache_fields, (std::vector<std::string>{"x-other"}));
}

TEST(CacheControlTest, MalformedMaxAgeIsStaleAndFirstWins) {
  EXPECT_EQ(parseCacheControl("max-age=abc").max_age, 0);
  EXPECT_EQ(parseCacheControl("max-age=5, max-age=100").max_age, 5);
  EXPECT_EQ(parseCacheControl("max-age=99999999999").max_age, int64_t{1} << 31);
}

}  // namespace
}  // namespace isogate::cache
