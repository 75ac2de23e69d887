#include "cache/policy.h"

#include <gtest/gtest.h>

#include "cache/http_date.h"
#include "cache/store.h"

namespace isogate::cache {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;  // Unix ms

RequestFacts get(const Fields& headers = {}) { return requestFacts("GET", headers); }

StoreDecision decide(const Fields& response, std::optional<int64_t> ttl = std::nullopt, int status = 200,
                     const RequestFacts& request = get()) {
  return decideStore(request, status, response, ttl, kNow);
}

TEST(KeyTest, UrlAndKey) {
  EXPECT_EQ(requestUrl("HTTP", "Example.COM:80", "/a?b=1"), "http://example.com/a?b=1");
  EXPECT_EQ(requestUrl("http", "example.com:8080", "/a"), "http://example.com:8080/a");
  EXPECT_EQ(requestUrl("https", "[::1]:443", "/"), "https://[::1]/");
  EXPECT_EQ(makeKey("", "http://a/x"), "GET http://a/x");
  EXPECT_NE(makeKey("mine", "http://a/x"), makeKey("", "http://a/x"));
}

TEST(RequestUseTest, MethodsAndRequestDirectives) {
  EXPECT_EQ(requestUse(get()), RequestUse::kLookup);
  EXPECT_EQ(requestUse(requestFacts("HEAD", Fields{})), RequestUse::kLookup);
  EXPECT_EQ(requestUse(requestFacts("POST", Fields{})), RequestUse::kBypassMethod);
  EXPECT_EQ(requestUse(get({{"Cache-Control", "no-cache"}})), RequestUse::kBypassRequest);
  EXPECT_EQ(requestUse(get({{"Cache-Control", "max-age=0"}})), RequestUse::kBypassRequest);
  EXPECT_EQ(requestUse(get({{"Pragma", "no-cache"}})), RequestUse::kBypassRequest);
  // Pragma is ignored when Cache-Control is present.
  EXPECT_EQ(requestUse(get({{"Pragma", "no-cache"}, {"Cache-Control", "max-age=10"}})), RequestUse::kLookup);
}

TEST(FreshnessTest, SMaxageThenMaxAgeThenExpires) {
  EXPECT_EQ(decide({{"Cache-Control", "max-age=10, s-maxage=30"}}).lifetime_ms, 30000);
  EXPECT_EQ(decide({{"Cache-Control", "max-age=10"}}).lifetime_ms, 10000);
  std::string date = formatHttpDate(kNow / 1000);
  std::string expires = formatHttpDate(kNow / 1000 + 50);
  EXPECT_EQ(decide({{"Date", date}, {"Expires", expires}}).lifetime_ms, 50000);
  StoreDecision none = decide({{"Content-Type", "text/plain"}});
  EXPECT_FALSE(none.store);
  EXPECT_EQ(none.detail, "no-freshness");
  EXPECT_EQ(decide({{"Expires", "0"}}).detail, "stale");
}

TEST(FreshnessTest, AgeIsSubtracted) {
  StoreDecision d = decide({{"Cache-Control", "max-age=100"}, {"Age", "40"}});
  EXPECT_TRUE(d.store);
  EXPECT_EQ(d.initial_age_s, 40);
  EXPECT_EQ(d.lifetime_ms, 60000);
  EXPECT_EQ(decide({{"Cache-Control", "max-age=100"}, {"Age", "100"}}).detail, "stale");
}

TEST(FreshnessTest, RouteTtlWinsOverOriginFreshness) {
  EXPECT_EQ(decide({{"Cache-Control", "max-age=5"}}, 60).lifetime_ms, 60000);
  EXPECT_EQ(decide({{"Cache-Control", "max-age=0"}}, 60).lifetime_ms, 60000);
  EXPECT_EQ(decide({}, 60).lifetime_ms, 60000);
  // ... but not over no-store or private.
  EXPECT_EQ(decide({{"Cache-Control", "no-store"}}, 60).detail, "no-store");
  EXPECT_EQ(decide({{"Cache-Control", "private, max-age=60"}}, 60).detail, "private");
}

TEST(StorabilityTest, NeverStored) {
  EXPECT_EQ(decide({{"Set-Cookie", "a=b"}}, 60).detail, "set-cookie");
  EXPECT_EQ(decide({{"Vary", "Accept, *"}}, 60).detail, "vary-star");
  EXPECT_EQ(decide({}, 60, 206).detail, "status");
  EXPECT_EQ(decide({}, 60, 500).detail, "status");
  EXPECT_EQ(decide({}, 60, 302).detail, "status");
  EXPECT_EQ(decide({}, 60, 200, requestFacts("POST", Fields{})).detail, "method");
  EXPECT_EQ(decide({}, 60, 200, requestFacts("HEAD", Fields{})).detail, "method");
  EXPECT_EQ(decide({}, 60, 200, get({{"Cache-Control", "no-store"}})).detail, "request-no-store");
  EXPECT_EQ(decide({{"Cache-Control", "no-cache"}}, 60).detail, "no-cache");
}

TEST(StorabilityTest, CacheableStatuses) {
  for (int status : {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501}) {
    EXPECT_TRUE(decide({}, 60, status).store) << status;
  }
  for (int status : {201, 202, 206, 302, 303, 304, 307, 400, 401, 403, 500, 502, 503}) {
    EXPECT_FALSE(decide({}, 60, status).store) << status;
  }
}

TEST(StorabilityTest, PrivateSetCookieStoresWithoutTheField) {
  StoreDecision d = decide({{"Set-Cookie", "a=b"}, {"Cache-Control", "private=\"Set-Cookie\", max-age=60"}});
  EXPECT_TRUE(d.store);
  EXPECT_EQ(d.strip_fields, (std::vector<std::string>{"set-cookie"}));
}

TEST(StorabilityTest, AuthorizationNeedsExplicitPermission) {
  RequestFacts authed = get({{"Authorization", "Bearer x"}});
  EXPECT_EQ(decide({{"Cache-Control", "max-age=60"}}, 60, 200, authed).detail, "authorization");
  EXPECT_TRUE(decide({{"Cache-Control", "public, max-age=60"}}, std::nullopt, 200, authed).store);
  EXPECT_TRUE(decide({{"Cache-Control", "s-maxage=60"}}, std::nullopt, 200, authed).store);
  EXPECT_TRUE(decide({{"Cache-Control", "must-revalidate, max-age=60"}}, std::nullopt, 200, authed).store);
}

TEST(StorabilityTest, VaryNamesAndContentEncodingSafety) {
  StoreDecision d = decide({{"Vary", "Accept-Encoding, accept-language"}, {"Vary", "Accept-Encoding"}}, 60);
  EXPECT_EQ(d.vary_names, (std::vector<std::string>{"accept-encoding", "accept-language"}));
  // A gzip body without Vary still varies on Accept-Encoding.
  StoreDecision gz = decide({{"Content-Encoding", "gzip"}}, 60);
  EXPECT_EQ(gz.vary_names, (std::vector<std::string>{"accept-encoding"}));
  EXPECT_TRUE(decide({{"Content-Encoding", "identity"}}, 60).vary_names.empty());
}

TEST(VaryTest, ValuesAreNormalised) {
  Fields a{{"Accept-Encoding", " gzip,deflate "}};
  Fields b{{"accept-encoding", "gzip, deflate"}};
  std::vector<std::string> names{"accept-encoding"};
  EXPECT_EQ(varyValues(names, fieldReader(a)), varyValues(names, fieldReader(b)));
  EXPECT_EQ(varyValues(names, fieldReader(Fields{}))[0], std::nullopt);
  EXPECT_EQ(normalizeVaryValue("a ,  b,,c"), "a, b, c");
}

CachedResponse entryWith(Fields headers) {
  CachedResponse e;
  for (const Field& f : headers) {
    if (equalsIgnoreCase(f.name, "etag")) e.etag = f.value;
    if (equalsIgnoreCase(f.name, "last-modified")) e.last_modified = f.value;
  }
  e.headers = std::move(headers);
  e.stored_ms = kNow;
  e.expires_ms = kNow + 60000;
  return e;
}

TEST(ConditionalTest, IfNoneMatchWeakComparisonListsAndStar) {
  CachedResponse e = entryWith({{"ETag", "W/\"v1\""}, {"Cache-Control", "max-age=60"}, {"Content-Type", "x"}});
  EXPECT_TRUE(notModified(e, get({{"If-None-Match", "\"v1\""}})));
  EXPECT_TRUE(notModified(e, get({{"If-None-Match", "\"a\", W/\"v1\""}})));
  EXPECT_TRUE(notModified(e, get({{"If-None-Match", "*"}})));
  EXPECT_FALSE(notModified(e, get({{"If-None-Match", "\"v2\""}})));
  EXPECT_FALSE(notModified(e, get({{"If-None-Match", "\"v1,\""}})));
  EXPECT_FALSE(notModified(e, requestFacts("POST", Fields{{"If-None-Match", "\"v1\""}})));
  EXPECT_TRUE(etagMatches("\"a,b\", \"c\"", "\"a,b\""));
  CachedResponse missing = e;
  missing.status = 404;
  EXPECT_FALSE(notModified(missing, get({{"If-None-Match", "\"v1\""}})));
  Fields fields = notModifiedFields(e);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].name, "ETag");
  EXPECT_EQ(fields[1].name, "Cache-Control");
}

TEST(ConditionalTest, IfModifiedSinceOnlyWithoutIfNoneMatch) {
  CachedResponse e = entryWith({{"Last-Modified", formatHttpDate(kNow / 1000 - 100)}, {"ETag", "\"x\""}});
  std::string later = formatHttpDate(kNow / 1000 - 50);
  std::string earlier = formatHttpDate(kNow / 1000 - 200);
  EXPECT_TRUE(notModified(e, get({{"If-Modified-Since", later}})));
  EXPECT_FALSE(notModified(e, get({{"If-Modified-Since", earlier}})));
  EXPECT_FALSE(notModified(e, get({{"If-Modified-Since", later}, {"If-None-Match", "\"other\""}})));
  EXPECT_FALSE(notModified(e, get({{"If-Modified-Since", "garbage"}})));
}

TEST(CacheStatusTest, Values) {
  EXPECT_EQ(cacheStatusHit(), "isogate; hit");
  EXPECT_EQ(cacheStatusHit(42), "isogate; hit");
  EXPECT_EQ(forwardFor(LookupResult::kUriMiss), Forward::kMiss);
  EXPECT_EQ(forwardFor(LookupResult::kVaryMiss), Forward::kVaryMiss);
  EXPECT_EQ(forwardFor(LookupResult::kStale), Forward::kStale);
  EXPECT_EQ(cacheStatusForward(Forward::kUriMiss, true), "isogate; fwd=uri-miss; stored");
  EXPECT_EQ(cacheStatusForward(Forward::kMiss, false, "no-store"), "isogate; fwd=miss; detail=no-store");
  EXPECT_EQ(cacheStatusForward(Forward::kVaryMiss, true, {}, 200), "isogate; fwd=vary-miss; fwd-status=200; stored");
  EXPECT_EQ(cacheStatusForward(Forward::kUriMiss, false, {}, 0, true), "isogate; fwd=uri-miss; collapsed");
  EXPECT_EQ(cacheStatusForward(Forward::kMethod, false), "isogate; fwd=method");
  EXPECT_EQ(cacheStatusForward(Forward::kRequest, false), "isogate; fwd=request");
  EXPECT_EQ(cacheStatusForward(Forward::kStale, false), "isogate; fwd=stale");
}

}  // namespace
}  // namespace isogate::cache
