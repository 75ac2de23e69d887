// The response cache as scripts see it, end to end against a counting origin:
// `env.ORIGIN.fetch(req, {cacheTtl})` and global `fetch(url, {cf: {cacheTtl}})`
// (hits never reach the origin, the TTL expires, POST and `private` are never
// stored, concurrent misses are coalesced, Cache-Status and the access log's
// `cache` field), and the Workers Cache API (`caches.default`,
// `caches.open(name)`: put/match/delete round trips, namespaces, Vary,
// conditional matches, Workers' TypeErrors, binary bodies byte for byte).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

// /c/origin/PATH?ttl=N   env.ORIGIN.fetch("http://o/PATH", {method, headers, body, cacheTtl: N})
// /c/global/PATH?ttl=N   fetch("http://o/PATH", {headers, cf: {cacheTtl: N}})
// /c/put/PATH?...        caches.default (or caches.open(ns)).put(key, new Response(...))
// /c/put-fetched/PATH    put(key, await env.ORIGIN.fetch("http://o/PATH")) (a streamed host body)
// /c/match/PATH?...      the matched Response returned as is (404 "miss" for undefined)
// /c/match-read/PATH     the matched body read in JS and sent back
// /c/delete/PATH?...     {"deleted": boolean}
// Query: ns (a named cache), method (of the key request), rh (request headers
// of the key, JSON), h (response headers, JSON), status, body, binary=1
// (256 KB of every byte value), ignoreMethod=1, url=1 (key as a URL string).
// Errors thrown by the Cache API come back as 400 {"name", "message"}.
constexpr char kCacheScript[] = R"JS(
function allBytes() {
  const out = new Uint8Array(256 * 1024);
  for (let i = 0; i < out.length; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  return out;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const p = url.searchParams;
    const parts = url.pathname.split("/");
    const op = parts[2];
    const rest = "/" + parts.slice(3).join("/");
    const cache = p.has("ns") ? await caches.open(p.get("ns")) : caches.default;
    const keyUrl = "http://cache.test" + rest;
    const key = () => p.has("url") ? keyUrl : new Request(keyUrl, {
      method: p.get("method") ?? "GET", headers: JSON.parse(p.get("rh") ?? "{}") });
    const options = p.has("ignoreMethod") ? { ignoreMethod: true } : undefined;
    try {
      switch (op) {
        case "origin": {
          const init = { method: request.method, headers: request.headers };
          if (request.method !== "GET" && request.method !== "HEAD") init.body = await request.text();
          if (p.has("ttl")) init.cacheTtl = Number(p.get("ttl"));
          return await env.ORIGIN.fetch("http://o" + rest, init);
        }
        case "global":
          return await fetch("http://o" + rest, { headers: request.headers, cf: { cacheTtl: Number(p.get("ttl")) } });
        case "put": {
          const status = Number(p.get("status") ?? 200);
          const body = status === 304 ? null : p.has("binary") ? allBytes() : (p.get("body") ?? "");
          const result = await cache.put(key(), new Response(body, { status, headers: JSON.parse(p.get("h") ?? "{}") }));
          return new Response("stored " + String(result));
        }
        case "put-fetched": {
          const response = await env.ORIGIN.fetch("http://o" + rest);
          await cache.put(key(), response);
          return new Response("stored, bodyUsed " + response.bodyUsed);
        }
        case "match": {
          const response = await cache.match(key(), options);
          return response ?? new Response("miss", { status: 404 });
        }
        case "match-read": {
          const response = await cache.match(key(), options);
          if (response === undefined) return new Response("miss", { status: 404 });
          return new Response(await response.arrayBuffer(), response);
        }
        case "delete":
          return Response.json({ deleted: await cache.delete(key(), options) });
        case "workers-pattern": {
          // The usual Workers idiom: match, else fetch, set Cache-Control, put a clone.
          const request2 = new Request(keyUrl, request);
          let response = await cache.match(request2);
          if (response) return response;
          response = await env.ORIGIN.fetch("http://o" + rest);
          response = new Response(response.body, response);
          response.headers.set("Cache-Control", "s-maxage=300");
          response.headers.set("X-Built", "1");
          ctx.waitUntil(cache.put(request2, response.clone()));
          return response;
        }
        case "origin-key": {
          // What a cacheTtl fetch stored, seen through caches.default under the origin's URL.
          const originKey = env.ORIGIN_URL + rest;
          if (request.method === "DELETE") return Response.json({ deleted: await caches.default.delete(originKey) });
          const hit = await caches.default.match(originKey);
          return hit ?? new Response("miss", { status: 404 });
        }
        case "types":
          return Response.json({
            caches: Object.prototype.toString.call(caches),
            isDefault: caches.default === caches.default,
            cache: Object.prototype.toString.call(caches.default),
            match: typeof (await caches.default.match("http://cache.test/none")),
          });
      }
    } catch (e) {
      return Response.json({ name: e.name, message: e.message }, { status: 400 });
    }
    return new Response("no such op", { status: 404 });
  },
};
)JS";

std::string allBytes() {
  std::string out(256 * 1024, '\0');
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>((i * 7 + (i >> 8)) & 0xff);
  return out;
}

class CacheJsTest : public GatewayTest {
 protected:
  bool start(uint32_t cache_max_mb = 0, bool with_admin = false) {
    dir_.write("cache.js", kCacheScript);
    nlohmann::json config = baseConfig();
    if (cache_max_mb) config["cache"] = {{"max_mb", cache_max_mb}};
    if (with_admin) config["admin"] = {{"listen", "127.0.0.1:0"}, {"token_env", "CACHE_JS_TEST_TOKEN"}};
    config["routes"] = {{{"name", "cached"},
                         {"match", {{"path", "/c/*"}}},
                         {"script", "cache.js"},
                         {"bindings", {{"ORIGIN", {{"type", "origin"}, {"origin", "o"}}},
                                       {"ORIGIN_URL", origin_.url()}}}}};
    if (!startGateway(config)) return false;
    if (!with_admin) return true;
    admin_port_ = gateway_->waitForListeningPort("admin listening on http");
    return admin_port_ != 0;
  }

  HttpResponse admin(const std::string& method, const std::string& target, const std::string& body = "") {
    Headers headers{{"Connection", "close"}, {"Authorization", "Bearer cache-js-token"}};
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    return roundTrip(admin_port_, buildRequest(method, target, headers, body, "127.0.0.1"));
  }

  size_t originHits(const std::string& path) { return origin_.requestsTo(path).size(); }
  uint16_t admin_port_ = 0;

  // The access-log line of the request with this X-Request-ID.
  nlohmann::json logLine(const std::string& request_id) {
    auto line = gateway_->waitForLogLine(
        [&](const nlohmann::json& j) { return j.value("request_id", "") == request_id; }, Millis(5000));
    return line ? *line : nlohmann::json();
  }
};

TEST_F(CacheJsTest, OriginFetchWithCacheTtlReachesTheOriginOnceFor50Gets) {
  ASSERT_TRUE(start());
  std::string first_body;
  for (int i = 0; i < 50; ++i) {
    HttpResponse r = get("/c/origin/item?ttl=60");
    ASSERT_EQ(r.status, 200) << i << " " << r.body;
    const std::string status = r.header("Cache-Status").value_or("");
    if (i == 0) {
      EXPECT_EQ(status, "isogate; fwd=miss; stored");
      EXPECT_FALSE(r.header("Age"));
      first_body = r.body;
    } else {
      EXPECT_EQ(status.rfind("isogate; hit", 0), 0u) << i << ": " << status;
      EXPECT_TRUE(r.header("Age")) << i;
      EXPECT_EQ(r.body, first_body) << i;
    }
  }
  EXPECT_EQ(originHits("/item"), 1u);
  EXPECT_EQ(TestOrigin::echoJson(origin_.requestsTo("/item")[0])["method"], "GET");
}

TEST_F(CacheJsTest, AnExpiredEntryIsFetchedAgain) {
  ASSERT_TRUE(start());
  EXPECT_EQ(get("/c/origin/short?ttl=1").status, 200);
  HttpResponse hit = get("/c/origin/short?ttl=1");
  EXPECT_EQ(hit.header("Cache-Status").value_or("").rfind("isogate; hit", 0), 0u);
  EXPECT_EQ(originHits("/short"), 1u);
  std::this_thread::sleep_for(Millis(2100));  // the TTL itself, not readiness
  HttpResponse again = get("/c/origin/short?ttl=1");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.header("Cache-Status").value_or(""), "isogate; fwd=stale; stored");
  EXPECT_EQ(originHits("/short"), 2u);
}

TEST_F(CacheJsTest, PostIsNeverCached) {
  ASSERT_TRUE(start());
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = request("POST", "/c/origin/post?ttl=60", {}, "body " + std::to_string(i));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Cache-Status").value_or(""), "isogate; fwd=method");
    EXPECT_EQ(r.json()["body"], "body " + std::to_string(i));
  }
  EXPECT_EQ(originHits("/post"), 3u);
}

TEST_F(CacheJsTest, PrivateAndNoStoreResponsesAreNeverCached) {
  TestOrigin::Behaviour priv;
  priv.extra_headers = {{"Cache-Control", "private, max-age=600"}};
  origin_.on("/private", priv);
  TestOrigin::Behaviour no_store;
  no_store.extra_headers = {{"Cache-Control", "no-store"}};
  origin_.on("/nostore", no_store);
  ASSERT_TRUE(start());
  for (int i = 0; i < 3; ++i) {
    HttpResponse a = get("/c/origin/private?ttl=60");
    HttpResponse b = get("/c/origin/nostore?ttl=60");
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(b.status, 200);
    EXPECT_EQ(a.header("Cache-Status").value_or(""), "isogate; fwd=miss; detail=private");
    EXPECT_EQ(b.header("Cache-Status").value_or(""), "isogate; fwd=miss; detail=no-store");
  }
  EXPECT_EQ(originHits("/private"), 3u);
  EXPECT_EQ(originHits("/nostore"), 3u);
}

TEST_F(CacheJsTest, CacheTtlOverridesOriginFreshnessAndZeroDoesNotCache) {
  TestOrigin::Behaviour short_lived;
  short_lived.extra_headers = {{"Cache-Control", "max-age=0"}};
  origin_.on("/maxage0", short_lived);
  ASSERT_TRUE(start());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get("/c/origin/maxage0?ttl=60").status, 200);
  EXPECT_EQ(originHits("/maxage0"), 1u);  // the script's TTL wins over max-age=0
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get("/c/origin/zero?ttl=0").status, 200);
  EXPECT_EQ(originHits("/zero"), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get("/c/origin/negative?ttl=-1").status, 200);
  EXPECT_EQ(originHits("/negative"), 3u);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(get("/c/origin/nottl").status, 200);
  EXPECT_EQ(originHits("/nottl"), 2u);
}

TEST_F(CacheJsTest, GlobalFetchWithCfCacheTtl) {
  ASSERT_TRUE(start());
  for (int i = 0; i < 10; ++i) {
    HttpResponse r = get("/c/global/g?ttl=60");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Cache-Status").value_or("").rfind(i == 0 ? "isogate; fwd=miss" : "isogate; hit", 0), 0u)
        << r.header("Cache-Status").value_or("");
  }
  EXPECT_EQ(originHits("/g"), 1u);
}

TEST_F(CacheJsTest, ConcurrentMissesReachTheOriginOnce) {
  origin_.on("/slow", TestOrigin::Behaviour::slow(300));
  ASSERT_TRUE(start());
  constexpr int kClients = 40;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      HttpResponse r = roundTrip(port_, buildRequest("GET", "/c/origin/slow?ttl=60", {{"Connection", "close"}}),
                                 Millis(10000));
      if (r.status == 200) ++ok;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients);
  EXPECT_EQ(originHits("/slow"), 1u);
}

TEST_F(CacheJsTest, StreamedBinaryBodyIsCapturedAndServedByteForByte) {
  constexpr uint64_t kSize = 3 * kMiB / 2;
  origin_.on("/blob", TestOrigin::Behaviour::stream(kSize));
  ASSERT_TRUE(start());
  for (int i = 0; i < 3; ++i) {
    PatternChecker checker;
    ReadOptions options;
    options.body_sink = [&](const char* data, size_t len) { checker.update(data, len); };
    HttpResponse r = roundTrip(port_, buildRequest("GET", "/c/origin/blob?ttl=60", {{"Connection", "close"}}),
                               Millis(20000), options);
    ASSERT_EQ(r.status, 200) << i;
    EXPECT_TRUE(r.complete) << i;
    EXPECT_EQ(checker.bytes(), kSize) << i;
    EXPECT_TRUE(checker.ok()) << i;
    if (i > 0) {
      EXPECT_EQ(r.header("Cache-Status").value_or("").rfind("isogate; hit", 0), 0u) << i;
    }
  }
  EXPECT_EQ(originHits("/blob"), 1u);
}

TEST_F(CacheJsTest, AccessLogCacheFieldMetricsAndAdminPurge) {
  setenv("CACHE_JS_TEST_TOKEN", "cache-js-token", 1);  // inherited by the gateway
  ASSERT_TRUE(start(0, /*with_admin=*/true));
  get("/c/origin/logged?ttl=60", {{"X-Request-ID", "cache-js-miss"}});
  get("/c/origin/logged?ttl=60", {{"X-Request-ID", "cache-js-hit"}});
  request("POST", "/c/origin/logged?ttl=60", {{"X-Request-ID", "cache-js-bypass"}}, "x");
  get("/c/origin/logged", {{"X-Request-ID", "cache-js-none"}});
  EXPECT_EQ(logLine("cache-js-miss").value("cache", ""), "miss");
  EXPECT_EQ(logLine("cache-js-hit").value("cache", ""), "hit");
  EXPECT_EQ(logLine("cache-js-bypass").value("cache", ""), "bypass");
  EXPECT_EQ(logLine("cache-js-none").value("cache", "none"), "none");

  bool counted = pollUntil(
      [&] {
        HttpResponse m = admin("GET", "/metrics");
        return m.body.find("isogate_cache_requests_total{route=\"cached\",result=\"hit\"} 1") != std::string::npos &&
               m.body.find("isogate_cache_requests_total{route=\"cached\",result=\"miss\"} 1") != std::string::npos &&
               m.body.find("isogate_cache_requests_total{route=\"cached\",result=\"bypass\"} 1") != std::string::npos;
      },
      Millis(3000));
  EXPECT_TRUE(counted) << admin("GET", "/metrics").body;

  // The admin purge reaches what scripts stored (keys are origin URLs).
  HttpResponse purged = admin("POST", "/admin/cache/purge", R"({"prefix": ")" + origin_.url() + R"(/logged"})");
  EXPECT_EQ(purged.status, 200) << purged.body;
  EXPECT_EQ(purged.json()["purged"], 1);
  EXPECT_EQ(get("/c/origin/logged?ttl=60").header("Cache-Status").value_or(""), "isogate; fwd=miss; stored");
  EXPECT_EQ(originHits("/logged"), 4u);
}

TEST_F(CacheJsTest, CacheApiPutMatchDeleteRoundTrip) {
  ASSERT_TRUE(start());
  HttpResponse types = get("/c/types");
  ASSERT_EQ(types.status, 200) << types.body;
  EXPECT_EQ(types.json()["caches"], "[object CacheStorage]");
  EXPECT_EQ(types.json()["cache"], "[object Cache]");
  EXPECT_EQ(types.json()["isDefault"], true);
  EXPECT_EQ(types.json()["match"], "undefined");

  EXPECT_EQ(get("/c/match/a").status, 404);
  HttpResponse put = get("/c/put/a?body=hello&h=" + std::string("%7B%22Cache-Control%22%3A%22max-age%3D60%22%2C%22X-Kind%22%3A%22a%22%7D"));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.body, "stored undefined");
  for (int i = 0; i < 3; ++i) {
    HttpResponse hit = get("/c/match/a");
    ASSERT_EQ(hit.status, 200) << hit.body;
    EXPECT_EQ(hit.body, "hello");
    EXPECT_EQ(hit.header("X-Kind").value_or(""), "a");
    EXPECT_EQ(hit.header("Cache-Status").value_or("").rfind("isogate; hit", 0), 0u);
    EXPECT_TRUE(hit.header("Age"));
  }
  HttpResponse read = get("/c/match-read/a");
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.body, "hello");
  // The key may be a URL string too.
  EXPECT_EQ(get("/c/match/a?url=1").body, "hello");

  EXPECT_EQ(get("/c/delete/a").json()["deleted"], true);
  EXPECT_EQ(get("/c/match/a").status, 404);
  EXPECT_EQ(get("/c/delete/a").json()["deleted"], false);
}

TEST_F(CacheJsTest, CacheApiNamedCachesAreSeparateNamespaces) {
  ASSERT_TRUE(start());
  const std::string fresh = "&h=%7B%22Cache-Control%22%3A%22max-age%3D60%22%7D";
  ASSERT_EQ(get("/c/put/k?body=default" + fresh).status, 200);
  EXPECT_EQ(get("/c/match/k?ns=one").status, 404);
  ASSERT_EQ(get("/c/put/k?ns=one&body=one" + fresh).status, 200);
  ASSERT_EQ(get("/c/put/k?ns=default&body=named-default" + fresh).status, 200);
  EXPECT_EQ(get("/c/match/k").body, "default");
  EXPECT_EQ(get("/c/match/k?ns=one").body, "one");
  EXPECT_EQ(get("/c/match/k?ns=default").body, "named-default");
  EXPECT_EQ(get("/c/delete/k?ns=one").json()["deleted"], true);
  EXPECT_EQ(get("/c/match/k").body, "default");
}

TEST_F(CacheJsTest, CacheApiRespectsVary) {
  ASSERT_TRUE(start());
  // Vary: Accept-Encoding, stored for a gzip request.
  const std::string h = "&h=%7B%22Cache-Control%22%3A%22max-age%3D60%22%2C%22Vary%22%3A%22Accept-Encoding%22%7D";
  const std::string gzip = "&rh=%7B%22Accept-Encoding%22%3A%22gzip%22%7D";
  const std::string identity = "&rh=%7B%22Accept-Encoding%22%3A%22identity%22%7D";
  ASSERT_EQ(get("/c/put/v?body=gzipped" + h + gzip).status, 200);
  EXPECT_EQ(get("/c/match/v?x=1" + gzip).body, "gzipped");
  EXPECT_EQ(get("/c/match/v?x=1" + identity).status, 404);
  EXPECT_EQ(get("/c/match/v").status, 404);
  ASSERT_EQ(get("/c/put/v?body=plain" + h + identity).status, 200);
  EXPECT_EQ(get("/c/match/v?x=1" + identity).body, "plain");
  EXPECT_EQ(get("/c/match/v?x=1" + gzip).body, "gzipped");
}

TEST_F(CacheJsTest, CacheApiPutErrorsAreWorkersTypeErrors) {
  ASSERT_TRUE(start());
  HttpResponse post = get("/c/put/e?method=POST");
  EXPECT_EQ(post.status, 400);
  EXPECT_EQ(post.json()["name"], "TypeError");
  EXPECT_EQ(post.json()["message"], "Cannot cache response to non-GET request.");
  HttpResponse partial = get("/c/put/e?status=206");
  EXPECT_EQ(partial.json()["name"], "TypeError");
  EXPECT_EQ(partial.json()["message"], "Cannot cache response to a range request (206 Partial Content).");
  HttpResponse vary = get("/c/put/e?h=%7B%22Vary%22%3A%22*%22%7D");
  EXPECT_EQ(vary.json()["name"], "TypeError");
  EXPECT_EQ(vary.json()["message"], "Cannot cache response with 'Vary: *' header.");
  EXPECT_EQ(get("/c/match/e").status, 404);
}

TEST_F(CacheJsTest, CacheApiDoesNotStoreWhatWorkersWouldNot) {
  ASSERT_TRUE(start());
  // no-store, private and Set-Cookie: put() resolves, nothing is stored.
  EXPECT_EQ(get("/c/put/ns?h=%7B%22Cache-Control%22%3A%22no-store%22%7D").body, "stored undefined");
  EXPECT_EQ(get("/c/match/ns").status, 404);
  EXPECT_EQ(get("/c/put/pr?h=%7B%22Cache-Control%22%3A%22private%2C%20max-age%3D60%22%7D").status, 200);
  EXPECT_EQ(get("/c/match/pr").status, 404);
  EXPECT_EQ(get("/c/put/sc?h=%7B%22Cache-Control%22%3A%22max-age%3D60%22%2C%22Set-Cookie%22%3A%22a%3Db%22%7D").status, 200);
  EXPECT_EQ(get("/c/match/sc").status, 404);
  // A 304 is dropped silently.
  EXPECT_EQ(get("/c/put/nm?status=304").body, "stored undefined");
  EXPECT_EQ(get("/c/match/nm").status, 404);
  // Without Cache-Control or Expires, a 200 gets Workers' default edge TTL.
  EXPECT_EQ(get("/c/put/plain?body=p").status, 200);
  EXPECT_EQ(get("/c/match/plain").body, "p");
}

TEST_F(CacheJsTest, CacheApiMatchIgnoresNonGetUnlessIgnoreMethod) {
  ASSERT_TRUE(start());
  ASSERT_EQ(get("/c/put/m?body=m&h=%7B%22Cache-Control%22%3A%22max-age%3D60%22%7D").status, 200);
  EXPECT_EQ(get("/c/match/m?method=POST").status, 404);
  EXPECT_EQ(get("/c/match/m?method=POST&ignoreMethod=1").body, "m");
  EXPECT_EQ(get("/c/delete/m?method=POST").json()["deleted"], false);
  EXPECT_EQ(get("/c/delete/m?method=POST&ignoreMethod=1").json()["deleted"], true);
}

TEST_F(CacheJsTest, CacheApiConditionalMatchGives304) {
  ASSERT_TRUE(start());
  ASSERT_EQ(get("/c/put/etag?body=tagged&h=%7B%22Cache-Control%22%3A%22max-age%3D60%22%2C%22ETag%22%3A%22%5C%22v1%5C%22%22%7D").status,
            200);
  HttpResponse full = get("/c/match/etag");
  EXPECT_EQ(full.status, 200);
  EXPECT_EQ(full.header("ETag").value_or(""), "\"v1\"");
  HttpResponse not_modified = get("/c/match/etag?rh=%7B%22If-None-Match%22%3A%22%5C%22v1%5C%22%22%7D");
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.body, "");
  HttpResponse other = get("/c/match/etag?rh=%7B%22If-None-Match%22%3A%22%5C%22v2%5C%22%22%7D");
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body, "tagged");
}

TEST_F(CacheJsTest, CacheApiBinaryBodiesAreByteIdentical) {
  origin_.on("/bin", TestOrigin::Behaviour::stream(200000));
  ASSERT_TRUE(start());
  const std::string fresh = "&h=%7B%22Cache-Control%22%3A%22max-age%3D60%22%7D";
  ASSERT_EQ(get("/c/put/b?binary=1" + fresh).status, 200);
  const std::string expected = allBytes();
  HttpResponse streamed = get("/c/match/b");
  ASSERT_EQ(streamed.status, 200);
  EXPECT_TRUE(streamed.body == expected) << streamed.body.size();
  HttpResponse read = get("/c/match-read/b");
  EXPECT_TRUE(read.body == expected) << read.body.size();

  // A fetched response put as is: its host body is read natively and stored.
  HttpResponse put = get("/c/put-fetched/bin");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.body, "stored, bodyUsed true");
  HttpResponse fetched = get("/c/match/bin");
  ASSERT_EQ(fetched.status, 200);
  std::string pattern(200000, '\0');
  fillPattern(0, pattern.data(), pattern.size());
  EXPECT_TRUE(fetched.body == pattern) << fetched.body.size();
}

TEST_F(CacheJsTest, CacheApiWorkersIdiomWithAClonedFetchResponse) {
  ASSERT_TRUE(start());
  HttpResponse built = get("/c/workers-pattern/idiom");
  ASSERT_EQ(built.status, 200) << built.body;
  EXPECT_EQ(built.header("X-Built").value_or(""), "1");
  EXPECT_FALSE(built.header("Cache-Status"));
  // The put runs in waitUntil: poll until it is visible.
  HttpResponse hit;
  EXPECT_TRUE(pollUntil([&] {
    hit = get("/c/workers-pattern/idiom");
    return hit.header("Cache-Status").value_or("") == "isogate; hit";
  }, Millis(3000)));
  EXPECT_EQ(hit.body, built.body);
  EXPECT_EQ(hit.header("Cache-Control").value_or(""), "s-maxage=300");
  EXPECT_EQ(originHits("/idiom"), 1u);
}

TEST_F(CacheJsTest, CacheTtlEntriesAreInCachesDefaultUnderTheOriginUrl) {
  ASSERT_TRUE(start());
  EXPECT_EQ(get("/c/origin-key/shared").status, 404);
  EXPECT_EQ(get("/c/origin/shared?ttl=60").status, 200);
  HttpResponse seen = get("/c/origin-key/shared");
  EXPECT_EQ(seen.status, 200);
  EXPECT_EQ(seen.header("Cache-Status").value_or(""), "isogate; hit");
  EXPECT_EQ(request("DELETE", "/c/origin-key/shared").json()["deleted"], true);
  HttpResponse again = get("/c/origin/shared?ttl=60");
  EXPECT_EQ(again.header("Cache-Status").value_or(""), "isogate; fwd=miss; stored");
  EXPECT_EQ(originHits("/shared"), 2u);
}

TEST_F(CacheJsTest, HeadIsAnsweredFromTheGetEntry) {
  ASSERT_TRUE(start());
  HttpResponse miss = get("/c/origin/h?ttl=60");
  ASSERT_EQ(miss.status, 200);
  ReadOptions head_options;
  head_options.head_request = true;
  HttpResponse head = roundTrip(port_, buildRequest("HEAD", "/c/origin/h?ttl=60", {{"Connection", "close"}}),
                                Millis(10000), head_options);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Cache-Status").value_or(""), "isogate; hit");
  EXPECT_EQ(originHits("/h"), 1u);
}

// Bodies over the per-entry cap (cache.max_mb / 8 = 1 MiB here) stream
// through uncached, in bounded memory, with and without a Content-Length.
TEST_F(CacheJsTest, BodiesOverTheEntryCapStreamThroughUncached) {
  constexpr uint64_t kSize = 24 * kMiB;
  origin_.on("/big", TestOrigin::Behaviour::stream(kSize));
  origin_.on("/bigchunked", TestOrigin::Behaviour::stream(kSize, /*chunked_body=*/true));
  ASSERT_TRUE(start(8));
  // Both workers' isolates are built before the baseline is taken.
  for (int i = 0; i < 4; ++i) ASSERT_EQ(get("/c/types").status, 200);
  long baseline_kb = gateway_->rssKb();
  RssSampler rss(gateway_->pid());
  for (const std::string path : {"/big", "/bigchunked"}) {
    for (int i = 0; i < 2; ++i) {
      PatternChecker checker;
      ReadOptions options;
      options.body_sink = [&](const char* data, size_t len) { checker.update(data, len); };
      HttpResponse r = roundTrip(port_, buildRequest("GET", "/c/origin" + path + "?ttl=60", {{"Connection", "close"}}),
                                 Millis(30000), options);
      ASSERT_EQ(r.status, 200) << path;
      EXPECT_TRUE(r.complete) << path;
      EXPECT_EQ(checker.bytes(), kSize) << path;
      EXPECT_TRUE(checker.ok()) << path;
      EXPECT_EQ(r.header("Cache-Status").value_or("").find("hit"), std::string::npos) << path;
    }
    EXPECT_EQ(originHits(path), 2u) << path;
  }
  HttpResponse sized = get("/c/origin/big?ttl=60");
  EXPECT_EQ(sized.header("Cache-Status").value_or(""), "isogate; fwd=miss; detail=too-large");
  rss.stop();
  EXPECT_LT(rss.maxKb() - baseline_kb, 16 * 1024) << "baseline " << baseline_kb << " kB, max " << rss.maxKb();
}

TEST_F(CacheJsTest, ConditionalFetchesFillTheCacheAndGet304FromIt) {
  TestOrigin::Behaviour tagged;
  tagged.extra_headers = {{"ETag", "\"e1\""}};
  origin_.on("/tagged", tagged);
  ASSERT_TRUE(start());
  // A miss asks the origin for the whole response (the validator is not forwarded).
  HttpResponse first = get("/c/origin/tagged?ttl=60", {{"If-None-Match", "\"e1\""}});
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("Cache-Status").value_or(""), "isogate; fwd=miss; stored");
  ASSERT_EQ(originHits("/tagged"), 1u);
  EXPECT_FALSE(origin_.requestsTo("/tagged")[0].header("If-None-Match"));
  HttpResponse second = get("/c/origin/tagged?ttl=60", {{"If-None-Match", "\"e1\""}});
  EXPECT_EQ(second.status, 304);
  EXPECT_EQ(second.header("ETag").value_or(""), "\"e1\"");
  EXPECT_EQ(second.header("Cache-Status").value_or(""), "isogate; hit");
  HttpResponse other = get("/c/origin/tagged?ttl=60", {{"If-None-Match", "\"e2\""}});
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body, first.body);
  EXPECT_EQ(originHits("/tagged"), 1u);
}

}  // namespace
}  // namespace isogate::e2e
