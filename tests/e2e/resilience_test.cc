// Origin resilience end to end: the circuit breaker (opens after N failed
// attempts, then refuses with 503 origin_unavailable without contacting the
// origin; health checks close it), active health checks (take an address
// down and bring it back), retries (only idempotent requests, only on
// connection failures, to the next address; never after a 5xx, never POST),
// and script fetch() to an origin whose circuit is open.

#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

class ResilienceTest : public GatewayTest {
 protected:
  size_t apiRequests(const TestOrigin& origin) const { return origin.requestsTo("/api").size(); }

  // Sends GETs until one answers `status` (a bounded poll, not a sleep).
  bool pollStatus(const std::string& target, int status, Millis timeout = Millis(5000)) {
    return pollUntil([&] { return get(target).status == status; }, timeout);
  }

  TestOrigin other_;
};

TestOrigin::Behaviour answering(int status) {
  TestOrigin::Behaviour b;
  b.status = status;
  return b;
}

TEST_F(ResilienceTest, CircuitOpensAfterFailedAttemptsAndHealthChecksCloseIt) {
  origin_.on("/", TestOrigin::Behaviour::reset());  // every request, health checks included
  auto cfg = baseConfig();
  cfg["origins"]["o"]["retries"] = 1;
  cfg["origins"]["o"]["circuit_breaker"] = {{"failures", 3}, {"cooldown_ms", 60000}};
  // Failing checks never take the address down here: only traffic opens the
  // circuit, so the attempts that reach the origin can be counted exactly.
  cfg["origins"]["o"]["health_check"] = {
      {"path", "/health"}, {"interval_ms", 100}, {"healthy_threshold", 2}, {"unhealthy_threshold", 100000}};
  ASSERT_TRUE(startGateway(cfg));

  // A reset before any response byte is retried once for a GET: the first
  // request makes two attempts, the second one more, which opens the circuit.
  auto first = get("/api/a");
  EXPECT_EQ(first.status, 502);
  expectErrorBody(first, "origin_unreachable");
  EXPECT_EQ(apiRequests(origin_), 2u);
  EXPECT_EQ(get("/api/b").status, 502);
  EXPECT_EQ(apiRequests(origin_), 3u) << "the attempt that opened the circuit is not retried";

  for (int i = 0; i < 3; ++i) {
    auto refused = get("/api/c", {{"X-Request-ID", "open-" + std::to_string(i)}});
    EXPECT_EQ(refused.status, 503);
    expectErrorBody(refused, "origin_unavailable");
    EXPECT_EQ(refused.json().value("request_id", ""), "open-" + std::to_string(i));
  }
  EXPECT_EQ(request("DELETE", "/api/c").status, 503);
  EXPECT_EQ(apiRequests(origin_), 3u) << "an open circuit must not contact the origin";

  // The origin recovers; two passing checks close the circuit long before the cooldown.
  origin_.on("/", TestOrigin::Behaviour::echo());
  EXPECT_TRUE(pollStatus("/api/d", 200));
  EXPECT_EQ(get("/api/e").status, 200);
  EXPECT_NE(gateway_->stderrText().find("isogate: origin o: circuit open"), std::string::npos);
}

TEST_F(ResilienceTest, RefusedConnectionsOpenTheCircuit) {
  auto cfg = baseConfig();
  cfg["origins"]["o"]["url"] = "http://127.0.0.1:" + std::to_string(unusedPort());
  cfg["origins"]["o"]["circuit_breaker"] = {{"failures", 2}, {"cooldown_ms", 60000}};
  ASSERT_TRUE(startGateway(cfg));
  EXPECT_EQ(get("/api/x").status, 502);
  EXPECT_EQ(get("/api/x").status, 502);
  auto refused = get("/api/x");
  EXPECT_EQ(refused.status, 503);
  expectErrorBody(refused, "origin_unavailable");
  EXPECT_NE(refused.json().value("message", "").find("circuit breaker open"), std::string::npos) << refused.body;
}

TEST_F(ResilienceTest, FailingHealthChecksTakeTheOriginDownAndPassingOnesBringItBack) {
  origin_.on("/health", answering(503));
  auto cfg = baseConfig();
  cfg["origins"]["o"]["circuit_breaker"] = {{"failures", 1000}, {"cooldown_ms", 60000}};
  cfg["origins"]["o"]["health_check"] = {
      {"path", "/health"}, {"interval_ms", 100}, {"healthy_threshold", 2}, {"unhealthy_threshold", 2}};
  ASSERT_TRUE(startGateway(cfg));

  ASSERT_TRUE(pollStatus("/api/x", 503)) << "two failed checks should take the only address down";
  const size_t reached = apiRequests(origin_);
  auto refused = get("/api/x");
  EXPECT_EQ(refused.status, 503);
  expectErrorBody(refused, "origin_unavailable");
  EXPECT_EQ(apiRequests(origin_), reached);
  EXPECT_NE(gateway_->stderrText().find("is down (2 failed health checks, last: status 503)"), std::string::npos)
      << gateway_->stderrText();

  origin_.on("/health", TestOrigin::Behaviour::echo());
  EXPECT_TRUE(pollStatus("/api/y", 200));
  EXPECT_GE(origin_.requestsTo("/health").size(), 4u);
  auto check = origin_.requestsTo("/health").back();
  EXPECT_EQ(check.method, "GET");
  EXPECT_EQ(check.header("host").value_or(""), "127.0.0.1:" + std::to_string(origin_.port()));
}

TEST_F(ResilienceTest, RetriesGoToTheNextAddress) {
  // Address 0 resets every request after reading it; address 1 serves.
  origin_.on("/", TestOrigin::Behaviour::reset());
  auto cfg = baseConfig();
  cfg["workers"] = 1;  // one round-robin cursor: the order below is exact
  cfg["origins"]["o"]["url"] = {origin_.url(), other_.url()};
  cfg["origins"]["o"]["retries"] = 1;
  ASSERT_TRUE(startGateway(cfg));

  auto first = get("/api/one");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(apiRequests(origin_), 1u) << "one attempt on the first address";
  EXPECT_EQ(apiRequests(other_), 1u);
  EXPECT_EQ(first.json()["target"], "/api/one");
  // Every address gets the first URL's Host.
  EXPECT_EQ(other_.requests().back().header("host").value_or(""), "127.0.0.1:" + std::to_string(origin_.port()));

  EXPECT_EQ(get("/api/two").status, 200);  // round-robin: starts at the second address
  EXPECT_EQ(apiRequests(origin_), 1u);
  EXPECT_EQ(apiRequests(other_), 2u);
  EXPECT_EQ(get("/api/three").status, 200);  // the first again, then the retry
  EXPECT_EQ(apiRequests(origin_), 2u);
  EXPECT_EQ(apiRequests(other_), 3u);
}

TEST_F(ResilienceTest, RefusedConnectionIsRetriedOnTheNextAddressButNeverForPost) {
  auto cfg = baseConfig();
  cfg["workers"] = 1;
  cfg["origins"]["o"]["url"] = {"http://127.0.0.1:" + std::to_string(unusedPort()), other_.url()};
  cfg["origins"]["o"]["retries"] = 2;
  ASSERT_TRUE(startGateway(cfg));

  // The round-robin starts at the refusing address: a POST is not sent again.
  auto post = request("POST", "/api/p", {}, "payload");
  EXPECT_EQ(post.status, 502);
  expectErrorBody(post, "origin_unreachable");
  EXPECT_EQ(apiRequests(other_), 0u);
  EXPECT_EQ(request("PUT", "/api/skip", {}, "payload").status, 200);  // the second address, directly
  auto put = request("PUT", "/api/q", {}, "payload");  // refused first: nothing was sent, so it goes again
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json()["body"], "payload");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(get("/api/g" + std::to_string(i)).status, 200);
  EXPECT_EQ(apiRequests(other_), 6u);
}

TEST_F(ResilienceTest, NeverRetriesAfterA5xxOrASentBodyOrForPost) {
  origin_.on("/api/500", answering(500));
  origin_.on("/api/reset", TestOrigin::Behaviour::reset());
  auto cfg = baseConfig();
  // One worker: the kept-alive connection of the 500 is reused (and reset) by
  // the POST, so no later request meets a stale connection (whose silent
  // resend would add an attempt).
  cfg["workers"] = 1;
  cfg["origins"]["o"]["retries"] = 3;
  ASSERT_TRUE(startGateway(cfg));

  EXPECT_EQ(get("/api/500").status, 500);
  EXPECT_EQ(origin_.requestsTo("/api/500").size(), 1u) << "a 5xx is an answer, not a connection failure";

  EXPECT_EQ(request("POST", "/api/reset", {}, "payload").status, 502);
  EXPECT_EQ(origin_.requestsTo("/api/reset").size(), 1u);
  EXPECT_EQ(request("PATCH", "/api/reset", {}, "payload").status, 502);
  EXPECT_EQ(origin_.requestsTo("/api/reset").size(), 2u);
  EXPECT_EQ(request("PUT", "/api/reset", {}, "payload").status, 502);
  EXPECT_EQ(origin_.requestsTo("/api/reset").size(), 3u) << "a body that was sent is not sent again";

  EXPECT_EQ(get("/api/reset").status, 502);
  EXPECT_EQ(origin_.requestsTo("/api/reset").size(), 7u) << "a bodiless GET: the attempt and 3 retries";
}

TEST_F(ResilienceTest, ScriptFetchToAnOpenCircuitRejectsWithoutContactingTheOrigin) {
  origin_.on("/api/boom", answering(500));
  dir_.write("handler.js", R"(
export default {
  async fetch(request, env) {
    const how = new URL(request.url).searchParams.get("how");
    try {
      const r = how === "global" ? await fetch("http://o/api/from-global")
                                 : await env.ORIGIN.fetch("http://x/api/from-env");
      return new Response("status " + r.status);
    } catch (e) {
      return Response.json({ name: e.name, message: e.message });
    }
  }
};
)");
  auto cfg = baseConfig();
  cfg["origins"]["o"]["circuit_breaker"] = {{"failures", 1}, {"cooldown_ms", 60000}};
  cfg["routes"] = {
      {{"name", "s"},
       {"match", {{"path", "/s/*"}}},
       {"script", "handler.js"},
       {"bindings", {{"ORIGIN", {{"type", "origin"}, {"origin", "o"}}}}}},
      cfg["routes"][0],
  };
  ASSERT_TRUE(startGateway(cfg));

  EXPECT_EQ(get("/s/x?how=env").body, "status 200");
  EXPECT_EQ(get("/api/boom").status, 500);  // one 5xx opens this circuit
  const size_t reached = origin_.requestCount();
  for (const std::string how : {"env", "global"}) {
    SCOPED_TRACE(how);
    auto resp = get("/s/x?how=" + how);
    ASSERT_EQ(resp.status, 200) << resp.body;
    auto j = resp.json();
    EXPECT_EQ(j.value("name", ""), "TypeError") << resp.body;
    const std::string message = j.value("message", "");
    EXPECT_NE(message.find("origin \"o\""), std::string::npos) << message;
    EXPECT_NE(message.find("circuit breaker open"), std::string::npos) << message;
  }
  EXPECT_EQ(origin_.requestCount(), reached);
}

TEST_F(ResilienceTest, ReloadReplacesTheHealthChecker) {
  auto cfg = baseConfig();
  cfg["origins"]["o"]["health_check"] = {{"path", "/h1"}, {"interval_ms", 50}};
  ASSERT_TRUE(startGateway(cfg));
  auto count = [&](const std::string& path) { return origin_.requestsTo(path).size(); };
  ASSERT_TRUE(pollUntil([&] { return count("/h1") >= 2; }, Millis(5000)));

  cfg["origins"]["o"]["health_check"]["path"] = "/h2";
  dir_.write("isogate.json", cfg.dump(2));
  gateway_->signal(SIGHUP);
  ASSERT_TRUE(pollUntil([&] { return count("/h2") >= 1; }, Millis(5000))) << gateway_->stderrText();
  // The old checker may still finish the check it had started, nothing more.
  const size_t old_checks = count("/h1");
  ASSERT_TRUE(pollUntil([&] { return count("/h2") >= 6; }, Millis(5000)));
  EXPECT_LE(count("/h1"), old_checks + 1);
}

}  // namespace
}  // namespace isogate::e2e
