// The response cache on a native proxy route with "cache": {"ttl_s": N},
// against a counting origin: hits never reach the origin, TTL expiry,
// methods and Cache-Control rules, Vary variants, conditional requests,
// HEAD from GET entries, request coalescing, Cache-Status/Age, the access
// log's cache field, metrics, purge through the admin API, and the memory
// bound (cache.max_mb).

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <thread>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

constexpr const char* kTokenEnv = "ISOGATE_E2E_CACHE_TOKEN";
constexpr const char* kToken = "e2e-cache-token-41c2";

class CacheTest : public GatewayTest {
 protected:
  void SetUp() override { setenv(kTokenEnv, kToken, 1); }
  void TearDown() override {
    GatewayTest::TearDown();
    unsetenv(kTokenEnv);
  }

  // baseConfig() with a 64 MB cache and `ttl_s` on the "api" route, plus an
  // uncached route "plain" (/plain/*) to the same origin.
  nlohmann::json cacheConfig(int ttl_s = 60, int max_mb = 64) const {
    auto cfg = baseConfig();
    cfg["cache"] = {{"max_mb", max_mb}};
    cfg["routes"] = {
        {{"name", "api"}, {"match", {{"path", "/api/*"}}}, {"proxy", {{"origin", "o"}}}, {"cache", {{"ttl_s", ttl_s}}}},
        {{"name", "plain"}, {"match", {{"path", "/plain/*"}}}, {"proxy", {{"origin", "o"}}}},
    };
    return cfg;
  }

  bool startWithAdmin(nlohmann::json cfg) {
    cfg["admin"] = {{"listen", "127.0.0.1:0"}, {"token_env", kTokenEnv}};
    if (!startGateway(cfg)) return false;
    admin_port_ = gateway_->waitForListeningPort("admin listening on http");
    return admin_port_ != 0;
  }

  HttpResponse admin(const std::string& method, const std::string& target, const std::string& body,
                     bool with_token = true) {
    Headers headers{{"Connection", "close"}};
    if (with_token) headers.emplace_back("Authorization", std::string("Bearer ") + kToken);
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    return roundTrip(admin_port_, buildRequest(method, target, headers, body, "127.0.0.1"));
  }

  size_t originHits(const std::string& path) const { return origin_.requestsTo(path).size(); }

  uint16_t admin_port_ = 0;
};

std::string cacheStatus(const HttpResponse& r) { return r.header("cache-status").value_or("<none>"); }

TEST_F(CacheTest, FiftyGetsWithinTheTtlReachTheOriginOnce) {
  ASSERT_TRUE(startGateway(cacheConfig(60)));
  HttpResponse first = get("/api/item?x=1");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(cacheStatus(first), "isogate; fwd=miss; stored");
  for (int i = 0; i < 49; ++i) {
    HttpResponse r = get("/api/item?x=1");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, first.body);  // the origin's echo of the first request, byte for byte
    EXPECT_EQ(cacheStatus(r), "isogate; hit");
    ASSERT_TRUE(r.header("age"));
    EXPECT_LE(std::stoi(*r.header("age")), 5);
    EXPECT_EQ(r.header("content-length"), std::to_string(first.body.size()));
    EXPECT_NE(r.header("x-request-id"), first.header("x-request-id"));  // ours, per request
  }
  EXPECT_EQ(originHits("/item"), 0u);
  EXPECT_EQ(originHits("/api/item"), 1u);
  // Another query string is another key.
  EXPECT_EQ(cacheStatus(get("/api/item?x=2")), "isogate; fwd=miss; stored");
  EXPECT_EQ(originHits("/api/item"), 2u);
  // An uncached route has no Cache-Status.
  EXPECT_EQ(cacheStatus(get("/plain/item")), "<none>");
}

TEST_F(CacheTest, FetchedAgainAfterTheTtl) {
  ASSERT_TRUE(startGateway(cacheConfig(1)));
  EXPECT_EQ(get("/api/short").status, 200);
  HttpResponse second = get("/api/short");
  EXPECT_TRUE(cacheStatus(second).starts_with("isogate; hit")) << cacheStatus(second);
  EXPECT_EQ(originHits("/api/short"), 1u);
  std::this_thread::sleep_for(Millis(1100));  // the TTL itself, not readiness
  HttpResponse after = get("/api/short");
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(cacheStatus(after), "isogate; fwd=stale; stored");
  EXPECT_EQ(originHits("/api/short"), 2u);
  EXPECT_TRUE(cacheStatus(get("/api/short")).starts_with("isogate; hit"));
  EXPECT_EQ(originHits("/api/short"), 2u);
}

TEST_F(CacheTest, PostIsNeverCachedAndInvalidates) {
  ASSERT_TRUE(startGateway(cacheConfig(60)));
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = request("POST", "/api/form", {}, "a=1");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(cacheStatus(r), "isogate; fwd=method");
  }
  EXPECT_EQ(originHits("/api/form"), 3u);
  // A successful POST drops the stored GET response of the same URL.
  get("/api/form");
  EXPECT_TRUE(cacheStatus(get("/api/form")).starts_with("isogate; hit"));
  request("POST", "/api/form", {}, "a=2");
  EXPECT_EQ(cacheStatus(get("/api/form")), "isogate; fwd=miss; stored");
  EXPECT_EQ(originHits("/api/form"), 6u);
}

TEST_F(CacheTest, OriginDirectivesThatForbidStoring) {
  TestOrigin::Behaviour priv;
  priv.extra_headers = {{"Cache-Control", "private, max-age=60"}};
  origin_.on("/api/private", priv);
  TestOrigin::Behaviour nostore;
  nostore.extra_headers = {{"Cache-Control", "no-store"}};
  origin_.on("/api/nostore", nostore);
  TestOrigin::Behaviour cookie;
  cookie.extra_headers = {{"Set-Cookie", "session=abc"}};
  origin_.on("/api/cookie", cookie);
  TestOrigin::Behaviour cookie_ok;
  cookie_ok.extra_headers = {{"Set-Cookie", "session=abc"}, {"Cache-Control", "private=\"Set-Cookie\""}};
  origin_.on("/api/cookie-ok", cookie_ok);
  TestOrigin::Behaviour error;
  error.status = 503;
  origin_.on("/api/error", error);
  ASSERT_TRUE(startGateway(cacheConfig(60)));

  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(cacheStatus(get("/api/private")), "isogate; fwd=miss; detail=private");
    EXPECT_EQ(cacheStatus(get("/api/nostore")), "isogate; fwd=miss; detail=no-store");
    EXPECT_EQ(cacheStatus(get("/api/cookie")), "isogate; fwd=miss; detail=set-cookie");
    EXPECT_EQ(get("/api/error").status, 503);
    // The request's own Cache-Control: no-cache skips the stored response.
    EXPECT_EQ(cacheStatus(get("/api/req", {{"Cache-Control", "no-cache"}})), "isogate; fwd=request; stored");
  }
  EXPECT_EQ(originHits("/api/private"), 3u);
  EXPECT_EQ(originHits("/api/nostore"), 3u);
  EXPECT_EQ(originHits("/api/cookie"), 3u);
  EXPECT_EQ(originHits("/api/error"), 3u);
  EXPECT_EQ(originHits("/api/req"), 3u);

  // private="Set-Cookie": stored without the cookie.
  HttpResponse first = get("/api/cookie-ok");
  EXPECT_EQ(first.header("set-cookie"), "session=abc");
  HttpResponse hit = get("/api/cookie-ok");
  EXPECT_TRUE(cacheStatus(hit).starts_with("isogate; hit")) << cacheStatus(hit);
  EXPECT_FALSE(hit.header("set-cookie"));

  // Authorization: not stored unless the origin says public / s-maxage.
  get("/api/authz", {{"Authorization", "Bearer t"}});
  EXPECT_EQ(cacheStatus(get("/api/authz", {{"Authorization", "Bearer t"}})),
            "isogate; fwd=miss; detail=authorization");
}

TEST_F(CacheTest, VaryAcceptEncodingKeepsTwoVariantsAndNeverMixesThem) {
  TestOrigin::Behaviour vary;
  vary.extra_headers = {{"Vary", "Accept-Encoding"}};
  origin_.on("/api/vary", vary);
  ASSERT_TRUE(startGateway(cacheConfig(60)));

  auto echoedEncoding = [](const HttpResponse& r) -> std::string {
    const nlohmann::json echo = r.json();
    for (const auto& h : echo["headers"]) {
      if (equalsIgnoreCase(h[0].get<std::string>(), "accept-encoding")) return h[1].get<std::string>();
    }
    return "<none>";
  };
  HttpResponse gz1 = get("/api/vary", {{"Accept-Encoding", "gzip"}});
  HttpResponse id1 = get("/api/vary");
  EXPECT_EQ(cacheStatus(gz1), "isogate; fwd=miss; stored");
  EXPECT_EQ(cacheStatus(id1), "isogate; fwd=vary-miss; stored");
  for (int i = 0; i < 5; ++i) {
    HttpResponse gz = get("/api/vary", {{"Accept-Encoding", i % 2 ? "gzip" : " gzip "}});
    HttpResponse id = get("/api/vary");
    EXPECT_TRUE(cacheStatus(gz).starts_with("isogate; hit"));
    EXPECT_TRUE(cacheStatus(id).starts_with("isogate; hit"));
    EXPECT_EQ(echoedEncoding(gz), "gzip") << gz.body;
    EXPECT_EQ(echoedEncoding(id), "<none>");
    EXPECT_EQ(gz.body, gz1.body);
    EXPECT_EQ(id.body, id1.body);
  }
  // A third variant (br) is its own miss.
  EXPECT_EQ(cacheStatus(get("/api/vary", {{"Accept-Encoding", "br"}})), "isogate; fwd=vary-miss; stored");
  EXPECT_EQ(originHits("/api/vary"), 3u);
}

TEST_F(CacheTest, ConditionalRequestsGet304FromAFreshEntry) {
  TestOrigin::Behaviour tagged;
  tagged.extra_headers = {{"ETag", "\"v1\""}, {"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"}};
  origin_.on("/api/etag", tagged);
  ASSERT_TRUE(startGateway(cacheConfig(60)));
  HttpResponse full = get("/api/etag");
  ASSERT_EQ(full.status, 200);

  for (std::string inm : {"\"v1\"", "W/\"v1\"", "\"x\", \"v1\"", "*"}) {
    SCOPED_TRACE(inm);
    HttpResponse r = get("/api/etag", {{"If-None-Match", inm}});
    EXPECT_EQ(r.status, 304);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.header("etag"), "\"v1\"");
    EXPECT_EQ(r.header("last-modified"), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_TRUE(cacheStatus(r).starts_with("isogate; hit"));
    EXPECT_TRUE(r.header("age"));
  }
  HttpResponse other = get("/api/etag", {{"If-None-Match", "\"v2\""}});
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body, full.body);
  EXPECT_EQ(get("/api/etag", {{"If-Modified-Since", "Mon, 07 Nov 1994 08:49:37 GMT"}}).status, 304);
  EXPECT_EQ(get("/api/etag", {{"If-Modified-Since", "Sat, 05 Nov 1994 08:49:37 GMT"}}).status, 200);
  EXPECT_EQ(originHits("/api/etag"), 1u);
  // only-if-cached: a miss is a 504 without the origin.
  HttpResponse not_cached = get("/api/never", {{"Cache-Control", "only-if-cached"}});
  EXPECT_EQ(not_cached.status, 504);
  expectErrorBody(not_cached, "not_cached");
  EXPECT_EQ(originHits("/api/never"), 0u);
  EXPECT_EQ(get("/api/etag", {{"Cache-Control", "only-if-cached"}}).status, 200);
}

TEST_F(CacheTest, AConditionalMissStoresTheFullResponseAndStillGets304) {
  TestOrigin::Behaviour tagged;
  tagged.extra_headers = {{"ETag", "\"v7\""}};
  origin_.on("/api/cond", tagged);
  origin_.on("/api/cond2", tagged);
  ASSERT_TRUE(startGateway(cacheConfig(60)));
  HttpResponse first = get("/api/cond", {{"If-None-Match", "\"v7\""}});
  EXPECT_EQ(first.status, 304);
  EXPECT_TRUE(first.body.empty());
  EXPECT_EQ(first.header("etag"), "\"v7\"");
  EXPECT_EQ(cacheStatus(first), "isogate; fwd=miss; stored");
  // The origin was asked for the full response...
  auto seen = origin_.requestsTo("/api/cond");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(seen[0].header("if-none-match"));
  // ...which is now served to everyone.
  ASSERT_TRUE(pollUntil([&] { return cacheStatus(get("/api/cond")) == "isogate; hit"; }, Millis(2000)));
  HttpResponse full = get("/api/cond");
  EXPECT_EQ(full.status, 200);
  EXPECT_FALSE(full.body.empty());
  EXPECT_EQ(originHits("/api/cond"), 1u);
  // A validator that does not match gets the full response on a miss too.
  HttpResponse other = get("/api/cond2", {{"If-None-Match", "\"old\""}});
  EXPECT_EQ(other.status, 200);
  EXPECT_FALSE(other.body.empty());
}

TEST_F(CacheTest, HeadIsServedFromTheGetEntry) {
  ASSERT_TRUE(startGateway(cacheConfig(60)));
  HttpResponse full = get("/api/head");
  HttpResponse head = request("HEAD", "/api/head");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-length"), std::to_string(full.body.size()));
  EXPECT_TRUE(cacheStatus(head).starts_with("isogate; hit"));
  EXPECT_EQ(originHits("/api/head"), 1u);
  // A HEAD miss is forwarded as HEAD and stores nothing.
  HttpResponse head_miss = request("HEAD", "/api/head2");
  EXPECT_EQ(cacheStatus(head_miss), "isogate; fwd=miss; detail=method");
  EXPECT_EQ(cacheStatus(get("/api/head2")), "isogate; fwd=miss; stored");
}

TEST_F(CacheTest, HundredConcurrentMissesReachTheOriginOnce) {
  origin_.on("/api/slow", TestOrigin::Behaviour::slow(400));
  ASSERT_TRUE(startGateway(cacheConfig(60)));
  constexpr int kClients = 100;
  std::vector<HttpResponse> responses(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] { responses[i] = get("/api/slow", {}, Millis(10000)); });
  }
  for (auto& t : threads) t.join();
  int collapsed = 0;
  for (const HttpResponse& r : responses) {
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, responses[0].body);
    if (cacheStatus(r).find("collapsed") != std::string::npos) ++collapsed;
  }
  EXPECT_EQ(originHits("/api/slow"), 1u);
  EXPECT_GT(collapsed, 0);
}

TEST_F(CacheTest, WaitersGoToTheOriginWhenTheLeaderCannotStore) {
  TestOrigin::Behaviour slow_private = TestOrigin::Behaviour::slow(300);
  slow_private.extra_headers = {{"Cache-Control", "private"}};
  origin_.on("/api/slowpriv", slow_private);
  ASSERT_TRUE(startGateway(cacheConfig(60)));
  std::vector<HttpResponse> responses(5);
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) threads.emplace_back([&, i] { responses[i] = get("/api/slowpriv"); });
  for (auto& t : threads) t.join();
  for (const HttpResponse& r : responses) EXPECT_EQ(r.status, 200);
  EXPECT_EQ(originHits("/api/slowpriv"), 5u);
}

TEST_F(CacheTest, WaitersWhoseClientsLeaveAreCleanedUp) {
  origin_.on("/api/slowgone", TestOrigin::Behaviour::slow(400));
  ASSERT_TRUE(startGateway(cacheConfig(60)));
  HttpResponse leader;
  std::thread lead([&] { leader = get("/api/slowgone"); });
  ASSERT_TRUE(origin_.waitForRequests(1, Millis(3000)));
  // Waiters on both workers that give up before the leader's response.
  for (int i = 0; i < 8; ++i) {
    RawClient c;
    ASSERT_TRUE(c.connect(port_));
    ASSERT_TRUE(c.sendAll(buildRequest("GET", "/api/slowgone")));
    c.close();
  }
  lead.join();
  EXPECT_EQ(leader.status, 200);
  EXPECT_TRUE(cacheStatus(get("/api/slowgone")).starts_with("isogate; hit"));
  EXPECT_EQ(originHits("/api/slowgone"), 1u);
  EXPECT_TRUE(gateway_->running());
}

TEST_F(CacheTest, EntriesSurviveAReload) {
  ASSERT_TRUE(startGateway(cacheConfig(60)));
  EXPECT_EQ(cacheStatus(get("/api/reload")), "isogate; fwd=miss; stored");
  gateway_->signal(SIGHUP);
  ASSERT_TRUE(pollUntil([&] { return gateway_->stderrText().find("isogate: reloaded") != std::string::npos; },
                        Millis(5000)))
      << gateway_->stderrText();
  EXPECT_EQ(cacheStatus(get("/api/reload")), "isogate; hit");
  EXPECT_EQ(originHits("/api/reload"), 1u);
}

TEST_F(CacheTest, AccessLogMetricsAndPurge) {
  ASSERT_TRUE(startWithAdmin(cacheConfig(60)));
  get("/api/p/1");
  get("/api/p/2");
  get("/api/q");
  EXPECT_TRUE(cacheStatus(get("/api/p/1")).starts_with("isogate; hit"));
  request("POST", "/api/p/3", {}, "x");
  get("/plain/x");

  // Access log: miss, hit, bypass, none.
  auto line = [&](const std::string& method, const std::string& path, const std::string& cache) {
    return gateway_->waitForLogLine(
        [&](const nlohmann::json& j) { return j["method"] == method && j["path"] == path && j["cache"] == cache; },
        Millis(3000));
  };
  EXPECT_TRUE(line("GET", "/api/p/1", "miss"));
  EXPECT_TRUE(line("GET", "/api/p/1", "hit"));
  EXPECT_TRUE(line("POST", "/api/p/3", "bypass"));
  EXPECT_TRUE(line("GET", "/plain/x", "none"));

  // Metrics.
  bool counted = pollUntil(
      [&] {
        HttpResponse m = roundTrip(admin_port_, buildRequest("GET", "/metrics", {{"Connection", "close"}}, "", "127.0.0.1"));
        return m.body.find("isogate_cache_requests_total{route=\"api\",result=\"hit\"} 1") != std::string::npos &&
               m.body.find("isogate_cache_requests_total{route=\"api\",result=\"miss\"} 3") != std::string::npos &&
               m.body.find("isogate_cache_requests_total{route=\"api\",result=\"bypass\"} 1") != std::string::npos;
      },
      Millis(3000));
  EXPECT_TRUE(counted);

  // Purge: token required, POST only, a URL prefix.
  EXPECT_EQ(admin("POST", "/admin/cache/purge", R"({"prefix": "http://gateway.test/api/p/"})", false).status, 401);
  EXPECT_EQ(admin("GET", "/admin/cache/purge", "").status, 405);
  EXPECT_EQ(admin("POST", "/admin/cache/purge", "not json").status, 400);
  EXPECT_EQ(admin("POST", "/admin/cache/purge", R"({"prefix": "/api/"})").status, 400);
  HttpResponse purged = admin("POST", "/admin/cache/purge", R"({"prefix": "http://GATEWAY.test:80/api/p/"})");
  ASSERT_EQ(purged.status, 200) << purged.body;
  EXPECT_EQ(purged.json()["purged"], 2);
  EXPECT_EQ(cacheStatus(get("/api/p/1")), "isogate; fwd=miss; stored");
  EXPECT_TRUE(cacheStatus(get("/api/q")).starts_with("isogate; hit"));
  EXPECT_EQ(originHits("/api/p/1"), 2u);
  EXPECT_EQ(originHits("/api/q"), 1u);
  nlohmann::json stats = admin("GET", "/admin/stats", "").json();
  EXPECT_EQ(stats["cache"]["entries"], 2) << stats.dump();
  EXPECT_EQ(stats["cache"]["max_bytes"], 64 * kMiB);
  EXPECT_EQ(stats["cache"]["purged"], 2);
  EXPECT_EQ(admin("POST", "/admin/cache/purge", R"({"prefix": ""})").json()["purged"], 2);
  EXPECT_EQ(admin("GET", "/admin/stats", "").json()["cache"]["bytes"], 0);
}

TEST_F(CacheTest, ResponsesOverTheEntryCapPassThroughUncached) {
  origin_.on("/api/large", TestOrigin::Behaviour::stream(2 * kMiB));             // cap: 8 MB / 8 = 1 MB
  origin_.on("/api/chunky", TestOrigin::Behaviour::stream(2 * kMiB, true));
  origin_.on("/api/fits", TestOrigin::Behaviour::stream(512 * 1024, true));
  ASSERT_TRUE(startGateway(cacheConfig(60, 8)));
  for (int i = 0; i < 2; ++i) {
    HttpResponse big = get("/api/large");
    EXPECT_EQ(big.body.size(), 2 * kMiB);
    EXPECT_EQ(cacheStatus(big), "isogate; fwd=miss; detail=too-large");
    HttpResponse chunked = get("/api/chunky");
    EXPECT_EQ(chunked.body.size(), 2 * kMiB);
    EXPECT_TRUE(cacheStatus(chunked).starts_with("isogate; fwd=miss"));  // "stored" was hoped, not done
  }
  EXPECT_EQ(originHits("/api/large"), 2u);
  EXPECT_EQ(originHits("/api/chunky"), 2u);
  EXPECT_EQ(get("/api/fits").body.size(), 512u * 1024);
  HttpResponse fits = get("/api/fits");
  EXPECT_EQ(cacheStatus(fits), "isogate; hit");
  EXPECT_EQ(fits.body.size(), 512u * 1024);
  EXPECT_EQ(originHits("/api/fits"), 1u);
}

TEST_F(CacheTest, MemoryStaysBoundedAfterTenTimesMaxMb) {
  constexpr int kMaxMb = 8;
  constexpr uint64_t kBody = 64 * 1024;
  origin_.on("/api/blob", TestOrigin::Behaviour::stream(kBody));
  ASSERT_TRUE(startGateway(cacheConfig(600, kMaxMb)));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  auto fetch = [&](int i) {
    ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/blob/" + std::to_string(i))));
    auto r = client.readResponse(Millis(10000));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    ASSERT_EQ(r->body.size(), kBody);
  };
  for (int i = 0; i < 50; ++i) fetch(i);  // warm up allocators, pools, buffers
  const long before_kb = gateway_->rssKb();
  const int count = static_cast<int>(10 * kMaxMb * kMiB / kBody);  // 10x max_mb of bodies
  for (int i = 50; i < 50 + count; ++i) fetch(i);
  const long after_kb = gateway_->rssKb();
  ASSERT_GT(before_kb, 0);
  std::cerr << "RSS before " << before_kb << " kB, after " << after_kb << " kB (" << count << " x " << kBody
            << " bytes through the cache)\n";
  // The cache may hold max_mb; allow 8 MB more for allocator slack.
  EXPECT_LT(after_kb - before_kb, (kMaxMb + 8) * 1024);
  // The newest entries are still served from the cache.
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/blob/" + std::to_string(49 + count))));
  auto r = client.readResponse(Millis(10000));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->header("cache-status").value_or("").starts_with("isogate; hit"));
}

}  // namespace
}  // namespace isogate::e2e
