// Native proxy routes: routing, rewriting, forwarded headers, request ids,
// keep-alive to the origin, pipelining, HEAD, Expect and chunked bodies.

#include <gtest/gtest.h>

#include <set>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

class ProxyTest : public GatewayTest {
 protected:
  // Second origin for routing tests.
  TestOrigin other_;
};

bool isVisibleAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

TEST_F(ProxyTest, RoutesByPatternAndStripsPrefix) {
  auto cfg = baseConfig();
  cfg["origins"]["orders"] = {{"url", origin_.url()}, {"retries", 0}};
  cfg["origins"]["users"] = {{"url", other_.url() + "/base"}, {"retries", 0}};
  cfg["routes"] = {
      {{"name", "orders"}, {"match", {{"path", "/v1/orders/*"}}}, {"proxy", {{"origin", "orders"}, {"strip_prefix", "/v1"}}}},
      {{"name", "user"}, {"match", {{"path", "/v1/users/:id"}}}, {"proxy", {{"origin", "users"}}}},
      {{"name", "health"}, {"match", {{"path", "/health"}}}, {"proxy", {{"origin", "orders"}}}},
  };
  ASSERT_TRUE(startGateway(cfg));

  struct Case {
    std::string target;
    const TestOrigin* origin;
    std::string origin_target;  // "" = 404 expected
  };
  std::vector<Case> cases = {
      {"/v1/orders/7?x=1", &origin_, "/orders/7?x=1"},
      {"/v1/orders", &origin_, "/orders"},
      {"/v1/orders/", &origin_, "/orders/"},
      {"/v1/orders/a/b/c", &origin_, "/orders/a/b/c"},
      {"/v1/users/42?full=true", &other_, "/base/v1/users/42?full=true"},
      {"/health", &origin_, "/health"},
      {"/v1/ordersX", nullptr, ""},
      {"/v1/users/42/extra", nullptr, ""},
      {"/v1/users", nullptr, ""},
      {"/health/deep", nullptr, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.target);
    size_t before_a = origin_.requestCount(), before_b = other_.requestCount();
    auto resp = get(c.target);
    if (c.origin == nullptr) {
      EXPECT_EQ(resp.status, 404);
      EXPECT_EQ(origin_.requestCount(), before_a);
      EXPECT_EQ(other_.requestCount(), before_b);
      continue;
    }
    ASSERT_EQ(resp.status, 200) << resp.body;
    EXPECT_EQ(resp.json()["target"], c.origin_target);
    auto reqs = c.origin->requests();
    ASSERT_FALSE(reqs.empty());
    EXPECT_EQ(reqs.back().target, c.origin_target);
  }
}

TEST_F(ProxyTest, NormalisesDotSegmentsBeforeRouting) {
  auto cfg = baseConfig();
  cfg["origins"]["admin"] = {{"url", other_.url()}, {"retries", 0}};
  cfg["routes"] = {
      {{"match", {{"path", "/v1/public/*"}}}, {"proxy", {{"origin", "o"}}}},
      {{"match", {{"path", "/v1/admin/*"}}}, {"proxy", {{"origin", "admin"}}}},
  };
  ASSERT_TRUE(startGateway(cfg));
  // Raw bytes: curl would normalise the path itself.
  auto resp = roundTrip(port_, buildRequest("GET", "/v1/public/../admin/x", {{"Connection", "close"}}));
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(origin_.requestCount(), 0u) << "a dot-segment path must not reach the public route's origin";
  ASSERT_EQ(other_.requestCount(), 1u);
  EXPECT_EQ(other_.requests()[0].target, "/v1/admin/x");

  auto resp2 = roundTrip(port_, buildRequest("GET", "/v1/public/./a/../b", {{"Connection", "close"}}));
  ASSERT_EQ(resp2.status, 200);
  ASSERT_EQ(origin_.requestCount(), 1u);
  EXPECT_EQ(origin_.requests()[0].target, "/v1/public/b");
}

// An origin named "localhost" reaches a server on 127.0.0.1 even where
// localhost resolves to ::1 first.
TEST_F(ProxyTest, LocalhostOriginPrefersIpv4) {
  auto cfg = baseConfig();
  cfg["origins"]["o"] = {{"url", "http://localhost:" + std::to_string(origin_.port())}, {"retries", 0}};
  ASSERT_TRUE(startGateway(cfg));
  auto resp = get("/api/anything");
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(origin_.requestCount(), 1u);
}

TEST_F(ProxyTest, NoRouteIs404JsonError) {
  ASSERT_TRUE(startGateway(baseConfig()));
  auto resp = get("/nothing/here");
  EXPECT_EQ(resp.status, 404);
  expectErrorBody(resp, "no_route");
  EXPECT_EQ(origin_.requestCount(), 0u);
}

TEST_F(ProxyTest, WrongMethodIs405WithAllow) {
  auto cfg = baseConfig();
  cfg["routes"][0]["match"]["methods"] = {"GET", "POST"};
  ASSERT_TRUE(startGateway(cfg));
  auto resp = request("DELETE", "/api/thing");
  EXPECT_EQ(resp.status, 405);
  auto allow = resp.header("allow");
  ASSERT_TRUE(allow) << "405 needs an Allow header";
  EXPECT_NE(allow->find("GET"), std::string::npos) << *allow;
  EXPECT_NE(allow->find("POST"), std::string::npos) << *allow;
  auto j = resp.json();
  ASSERT_TRUE(j.is_object()) << resp.body;
  EXPECT_TRUE(j["error"].is_string());
  EXPECT_TRUE(j["request_id"].is_string());
  EXPECT_EQ(origin_.requestCount(), 0u);

  EXPECT_EQ(request("POST", "/api/thing", {}, "x").status, 200);
}

TEST_F(ProxyTest, ValidRequestIdIsKeptEverywhere) {
  ASSERT_TRUE(startGateway(baseConfig()));
  const std::string id = "req-" + std::string(124, 'a');  // exactly 128 visible characters
  auto resp = get("/api/id", {{"X-Request-ID", id}});
  ASSERT_EQ(resp.status, 200);
  EXPECT_EQ(resp.header("x-request-id").value_or(""), id);
  ASSERT_EQ(origin_.requestCount(), 1u);
  EXPECT_EQ(findHeaders(origin_.requests()[0].headers, "x-request-id"), std::vector<std::string>{id});
  auto line = gateway_->waitForLogLine([&](const nlohmann::json& j) { return j.value("request_id", "") == id; },
                                       Millis(3000));
  EXPECT_TRUE(line) << "no access-log line with the client's request id";

  auto err = get("/none", {{"X-Request-ID", "trace-404"}});
  EXPECT_EQ(err.status, 404);
  EXPECT_EQ(err.header("x-request-id").value_or(""), "trace-404");
  EXPECT_EQ(err.json().value("request_id", ""), "trace-404");
}

TEST_F(ProxyTest, InvalidOrMissingRequestIdIsReplaced) {
  ASSERT_TRUE(startGateway(baseConfig()));
  std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"too long", std::string(129, 'b')},
      {"space inside", std::string("has space")},
      {"non-ascii", std::string("caf\xc3\xa9")},
      {"missing", std::nullopt},
      {"missing again", std::nullopt},
  };
  std::set<std::string> seen;
  for (const auto& [name, value] : cases) {
    SCOPED_TRACE(name);
    Headers h;
    if (value) h.emplace_back("X-Request-ID", *value);
    auto resp = get("/api/rid", h);
    ASSERT_EQ(resp.status, 200);
    auto rid = resp.header("x-request-id");
    ASSERT_TRUE(rid) << "response must carry X-Request-ID";
    if (value) {
      EXPECT_NE(*rid, *value);
    }
    EXPECT_FALSE(rid->empty());
    EXPECT_LE(rid->size(), 128u);
    EXPECT_TRUE(isVisibleAscii(*rid)) << *rid;
    EXPECT_TRUE(seen.insert(*rid).second) << "generated ids must differ: " << *rid;
    auto sent = findHeaders(origin_.requests().back().headers, "x-request-id");
    EXPECT_EQ(sent, std::vector<std::string>{*rid}) << "origin must see exactly the generated id";
  }
}

TEST_F(ProxyTest, SendsForwardedHeadersAndOriginHost) {
  ASSERT_TRUE(startGateway(baseConfig()));
  auto resp = get("/api/fwd", {{"Host", "shop.example.test:8443"}});
  ASSERT_EQ(resp.status, 200);
  auto req = origin_.requests().at(0);
  EXPECT_EQ(findHeaders(req.headers, "host"), std::vector<std::string>{"127.0.0.1:" + std::to_string(origin_.port())});
  EXPECT_EQ(req.header("x-forwarded-for").value_or(""), "127.0.0.1");
  EXPECT_EQ(req.header("x-forwarded-proto").value_or(""), "http");
  EXPECT_EQ(req.header("x-forwarded-host").value_or(""), "shop.example.test:8443");
  EXPECT_EQ(req.version, "HTTP/1.1");

  auto resp2 = get("/api/fwd2", {{"X-Forwarded-For", "10.1.2.3"}});
  ASSERT_EQ(resp2.status, 200);
  auto fwd = findHeaders(origin_.requests().at(1).headers, "x-forwarded-for");
  ASSERT_EQ(fwd.size(), 1u);
  EXPECT_EQ(fwd[0], "10.1.2.3, 127.0.0.1");
}

TEST_F(ProxyTest, DoesNotForwardHopByHopRequestHeaders) {
  ASSERT_TRUE(startGateway(baseConfig()));
  auto resp = get("/api/hop", {{"Connection", "keep-alive, X-Secret-Hop"},
                               {"X-Secret-Hop", "1"},
                               {"Keep-Alive", "timeout=5"},
                               {"TE", "trailers, deflate"},
                               {"Upgrade", "h2c"},
                               {"Proxy-Connection", "keep-alive"},
                               {"X-End-To-End", "kept"}});
  ASSERT_EQ(resp.status, 200);
  auto req = origin_.requests().at(0);
  for (const char* name : {"x-secret-hop", "keep-alive", "te", "upgrade", "proxy-connection"}) {
    EXPECT_FALSE(req.header(name)) << name << " reached the origin";
  }
  if (auto c = req.header("connection")) {
    EXPECT_EQ(toLower(*c).find("x-secret-hop"), std::string::npos) << "Connection: " << *c;
  }
  EXPECT_EQ(req.header("x-end-to-end").value_or(""), "kept");
}

TEST_F(ProxyTest, DoesNotRelayHopByHopResponseHeaders) {
  auto b = TestOrigin::Behaviour::echo();
  b.extra_headers = {{"Connection", "X-Origin-Hop"}, {"X-Origin-Hop", "1"}, {"Keep-Alive", "timeout=1"},
                     {"X-Origin-Kept", "yes"}};
  origin_.on("/api/resp-hop", b);
  ASSERT_TRUE(startGateway(baseConfig()));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/resp-hop")));
  auto resp = client.readResponse(Millis(5000));
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  EXPECT_FALSE(resp->header("x-origin-hop"));
  EXPECT_FALSE(resp->header("keep-alive"));
  EXPECT_EQ(resp->header("x-origin-kept").value_or(""), "yes");
  // The client connection is still usable.
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/after")));
  auto resp2 = client.readResponse(Millis(5000));
  ASSERT_TRUE(resp2);
  EXPECT_EQ(resp2->status, 200);
}

TEST_F(ProxyTest, ReusesOriginConnections) {
  auto cfg = baseConfig();
  cfg["workers"] = 1;
  ASSERT_TRUE(startGateway(cfg));
  // Sequential requests on separate client connections (curl processes).
  for (int i = 0; i < 10; ++i) {
    auto r = runCurl({"-o", "/dev/null", "-w", "%{http_code}",
                      "http://127.0.0.1:" + std::to_string(port_) + "/api/seq/" + std::to_string(i)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "200");
  }
  // Sequential requests on one keep-alive client connection.
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/ka/" + std::to_string(i))));
    auto resp = client.readResponse(Millis(5000));
    ASSERT_TRUE(resp) << i;
    EXPECT_EQ(resp->status, 200);
  }
  EXPECT_EQ(origin_.requestCount(), 20u);
  // One pooled connection; allow one extra for a release racing the next request.
  EXPECT_LE(origin_.acceptedConnections(), 2u) << "the gateway should reuse idle origin connections";
}

TEST_F(ProxyTest, PipelinedRequestsAreAnsweredInOrder) {
  origin_.on("/api/slow", TestOrigin::Behaviour::slow(300));
  ASSERT_TRUE(startGateway(baseConfig()));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  std::vector<std::string> targets = {"/api/slow/0", "/api/fast/1", "/api/slow/2", "/api/fast/3", "/api/fast/4"};
  std::string batch;
  for (size_t i = 0; i < targets.size(); ++i) {
    batch += buildRequest("GET", targets[i], {{"X-Request-ID", "pipe-" + std::to_string(i)}});
  }
  batch += buildRequest("POST", "/api/fast/5", {{"X-Request-ID", "pipe-5"}}, "body-five");
  targets.push_back("/api/fast/5");
  ASSERT_TRUE(client.sendAll(batch));
  for (size_t i = 0; i < targets.size(); ++i) {
    auto resp = client.readResponse(Millis(5000));
    ASSERT_TRUE(resp) << "response " << i << " missing";
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->json()["target"], targets[i]);
    EXPECT_EQ(resp->header("x-request-id").value_or(""), "pipe-" + std::to_string(i));
  }
  EXPECT_EQ(origin_.requestsTo("/api/fast/5").at(0).body, "body-five");
}

TEST_F(ProxyTest, HeadResponseHasNoBody) {
  origin_.on("/api/big", TestOrigin::Behaviour::stream(5000));
  ASSERT_TRUE(startGateway(baseConfig()));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll(buildRequest("HEAD", "/api/big")));
  ReadOptions head;
  head.head_request = true;
  auto resp = client.readResponse(Millis(5000), head);
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->header("content-length").value_or(""), "5000");
  EXPECT_EQ(origin_.requests().at(0).method, "HEAD");
  // No stray body bytes: the next response on the connection parses cleanly.
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/next")));
  auto next = client.readResponse(Millis(5000));
  ASSERT_TRUE(next) << "buffered: " << client.buffered();
  EXPECT_EQ(next->version, "HTTP/1.1");
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->json()["target"], "/api/next");
}

TEST_F(ProxyTest, ExpectContinueGets100BeforeBodyIsSent) {
  ASSERT_TRUE(startGateway(baseConfig()));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll("POST /api/expect HTTP/1.1\r\nHost: gw\r\nContent-Length: 10\r\n"
                             "Expect: 100-continue\r\n\r\n"));
  auto interim = client.readResponse(Millis(3000));
  ASSERT_TRUE(interim) << "no 100 Continue before the body";
  EXPECT_EQ(interim->status, 100);
  EXPECT_EQ(interim->version, "HTTP/1.1");
  ASSERT_TRUE(client.sendAll("0123456789"));
  auto final_resp = client.readResponse(Millis(5000));
  ASSERT_TRUE(final_resp);
  EXPECT_EQ(final_resp->status, 200);
  auto j = final_resp->json();
  EXPECT_EQ(j["body"], "0123456789");
  EXPECT_EQ(j["body_bytes"], 10);
}

TEST_F(ProxyTest, ChunkedRequestBodyIsForwardedIntact) {
  ASSERT_TRUE(startGateway(baseConfig()));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  std::string body = "5\r\nhello\r\n1;name=value\r\n \r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
  ASSERT_TRUE(client.sendAll(buildRequest("POST", "/api/chunked", {{"Transfer-Encoding", "chunked"}}, body)));
  auto resp = client.readResponse(Millis(5000));
  ASSERT_TRUE(resp);
  ASSERT_EQ(resp->status, 200);
  auto req = origin_.requests().at(0);
  EXPECT_EQ(req.body, "hello abcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(req.body_bytes, 32u);
  EXPECT_EQ(req.state, TestOrigin::Request::State::kComplete);
  EXPECT_FALSE(req.header("content-length") && req.chunked) << "origin request must not carry CL and TE";

  // A bigger chunked body from curl (stdin of unknown size is sent chunked).
  const uint64_t total = 512 * 1024 + 7;
  uint64_t offset = 0;
  StdinSource source = [&](std::string& chunk) {
    if (offset >= total) return false;
    size_t n = static_cast<size_t>(std::min<uint64_t>(10000, total - offset));
    chunk.resize(n);
    fillPattern(offset, chunk.data(), n);
    offset += n;
    return true;
  };
  auto r = runCurl({"-T", "-", "-X", "POST", "-H", "Transfer-Encoding: chunked", "-H",
                    "Content-Type: application/octet-stream", "-o", "/dev/null", "-w",
                    "%{http_code}", "http://127.0.0.1:" + std::to_string(port_) + "/api/curl-chunked"},
                   Millis(30000), source);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200");
  auto up = origin_.requestsTo("/api/curl-chunked").at(0);
  EXPECT_EQ(up.body_bytes, total);
  EXPECT_TRUE(up.body_matches_pattern);
}

TEST_F(ProxyTest, OriginConnectionRefusedIs502) {
  auto cfg = baseConfig();
  cfg["origins"]["o"]["url"] = "http://127.0.0.1:" + std::to_string(unusedPort());
  ASSERT_TRUE(startGateway(cfg));
  auto resp = get("/api/down", {{"X-Request-ID", "refused-1"}});
  EXPECT_EQ(resp.status, 502);
  expectErrorBody(resp, "origin_unreachable");
  EXPECT_EQ(resp.json().value("request_id", ""), "refused-1");
}

TEST_F(ProxyTest, OriginResetIs502) {
  origin_.on("/api/reset", TestOrigin::Behaviour::reset());
  ASSERT_TRUE(startGateway(baseConfig()));
  auto resp = get("/api/reset");
  EXPECT_EQ(resp.status, 502);
  expectErrorBody(resp, "origin_unreachable");
}

TEST_F(ProxyTest, OriginClosingWithoutResponseIs502) {
  origin_.on("/api/close", TestOrigin::Behaviour::closeImmediately());
  ASSERT_TRUE(startGateway(baseConfig()));
  auto resp = get("/api/close");
  EXPECT_EQ(resp.status, 502);
  EXPECT_TRUE(resp.json().is_object()) << resp.body;
}

TEST_F(ProxyTest, OriginTimeoutIs504) {
  origin_.on("/api/hang", TestOrigin::Behaviour::noResponse());
  auto cfg = baseConfig();
  cfg["origins"]["o"]["timeout_ms"] = 500;
  ASSERT_TRUE(startGateway(cfg));
  auto start = Clock::now();
  auto resp = get("/api/hang", {{"X-Request-ID", "hang-1"}}, Millis(10000));
  auto ms = elapsedMs(start);
  EXPECT_EQ(resp.status, 504);
  expectErrorBody(resp, "origin_timeout");
  EXPECT_EQ(resp.json().value("request_id", ""), "hang-1");
  EXPECT_GE(ms, 450);
  EXPECT_LT(ms, 3000);
}

TEST_F(ProxyTest, OriginTimeoutStartsWhenRequestIsFullySent) {
  auto cfg = baseConfig();
  cfg["origins"]["o"]["timeout_ms"] = 500;
  ASSERT_TRUE(startGateway(cfg));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll("POST /api/slow-client HTTP/1.1\r\nHost: gw\r\nContent-Length: 10\r\n\r\n01234"));
  // The client takes longer than timeout_ms to send its body; the origin
  // answers as soon as the body is complete, so this is not a 504.
  std::this_thread::sleep_for(Millis(800));
  ASSERT_TRUE(client.sendAll("56789"));
  auto resp = client.readResponse(Millis(5000));
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200) << resp->body;
  EXPECT_EQ(resp->json()["body"], "0123456789");
}

TEST_F(ProxyTest, TruncatedOriginBodyClosesClientConnection) {
  origin_.on("/api/truncated",
             TestOrigin::Behaviour::rawResponse("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(500, 'z')));
  ASSERT_TRUE(startGateway(baseConfig()));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/truncated")));
  auto resp = client.readResponse(Millis(5000));
  ASSERT_TRUE(resp);
  // Relaying had started: the client sees a short body and a closed connection, never a hang.
  if (resp->status == 200) {
    EXPECT_FALSE(resp->complete);
    EXPECT_LE(resp->body_bytes, 500u);
  } else {
    EXPECT_EQ(resp->status, 502);
  }
  EXPECT_TRUE(client.peerClosed() || client.waitClosed(Millis(3000)));
}

TEST_F(ProxyTest, SlowOriginWithinTimeoutSucceeds) {
  origin_.on("/api/slowish", TestOrigin::Behaviour::slow(300));
  auto cfg = baseConfig();
  cfg["origins"]["o"]["timeout_ms"] = 1000;
  ASSERT_TRUE(startGateway(cfg));
  EXPECT_EQ(get("/api/slowish").status, 200);
}

struct MalformedOriginCase {
  std::string name;
  std::string raw;
};

void PrintTo(const MalformedOriginCase& c, std::ostream* os) { *os << c.name; }

class MalformedOriginTest : public GatewayTest, public ::testing::WithParamInterface<MalformedOriginCase> {};

TEST_P(MalformedOriginTest, Is502) {
  origin_.on("/api/bad", TestOrigin::Behaviour::rawResponse(GetParam().raw));
  ASSERT_TRUE(startGateway(baseConfig()));
  auto resp = get("/api/bad");
  EXPECT_EQ(resp.status, 502) << resp.body;
  EXPECT_TRUE(resp.json().is_object()) << resp.body;
}

INSTANTIATE_TEST_SUITE_P(
    Responses, MalformedOriginTest,
    ::testing::Values(
        MalformedOriginCase{"garbage", "this is not http\r\n\r\n"},
        MalformedOriginCase{"bad_status", "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n"},
        MalformedOriginCase{"two_content_lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello"},
        MalformedOriginCase{"cl_and_te",
                            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
        MalformedOriginCase{"bad_header", "HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 0\r\n\r\n"},
        // header_bytes is 4096 in baseConfig(); an origin head over it gives 502.
        MalformedOriginCase{"head_over_header_bytes",
                            "HTTP/1.1 200 OK\r\nX-Big: " + std::string(6000, 'a') + "\r\nContent-Length: 0\r\n\r\n"},
        MalformedOriginCase{"truncated_head", "HTTP/1.1 200 OK\r\nContent-Len"}),
    [](const ::testing::TestParamInfo<MalformedOriginCase>& info) { return info.param.name; });

TEST_F(ProxyTest, PostIsNeverRetried) {
  origin_.on("/api/reset", TestOrigin::Behaviour::reset());
  auto cfg = baseConfig();
  cfg["origins"]["o"]["retries"] = 2;
  ASSERT_TRUE(startGateway(cfg));
  auto resp = request("POST", "/api/reset", {}, "payload");
  EXPECT_EQ(resp.status, 502);
  EXPECT_EQ(origin_.requestsTo("/api/reset").size(), 1u) << "a POST that reached the origin must not be repeated";
  auto patch = request("PATCH", "/api/reset", {}, "payload");
  EXPECT_EQ(patch.status, 502);
  EXPECT_EQ(origin_.requestsTo("/api/reset").size(), 2u);
}

}  // namespace
}  // namespace isogate::e2e
