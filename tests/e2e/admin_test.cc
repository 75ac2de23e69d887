// The admin listener (admin.listen) of the real binary: /metrics grows with
// traffic in the strict text format, /readyz turns 503 on SIGTERM while an
// in-flight request still completes, the /admin/* token rules, plausible
// /admin/stats, answers while every worker runs CPU-bound JavaScript, bad
// input, and `isogate status`.

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <random>
#include <regex>
#include <thread>

#include "tests/e2e/harness.h"
#include "tests/runtime/prometheus_format_check.h"

namespace isogate::e2e {
namespace {

using isogate::testing::checkPrometheusText;
using isogate::testing::findSample;
using isogate::testing::PromSample;

constexpr const char* kTokenEnv = "ISOGATE_E2E_ADMIN_TOKEN";
constexpr const char* kToken = "e2e-admin-token-7f3a";

class AdminTest : public GatewayTest {
 protected:
  void SetUp() override { setenv(kTokenEnv, kToken, 1); }
  void TearDown() override {
    GatewayTest::TearDown();
    unsetenv(kTokenEnv);
  }

  nlohmann::json adminConfig() const {
    auto cfg = baseConfig();
    cfg["admin"] = {{"listen", "127.0.0.1:0"}, {"token_env", kTokenEnv}};
    return cfg;
  }

  // Starts the gateway and reads the admin port from its start-up line.
  bool startWithAdmin(const nlohmann::json& cfg) {
    if (!startGateway(cfg)) return false;
    admin_port_ = gateway_->waitForListeningPort("admin listening on http");
    EXPECT_NE(admin_port_, 0) << "no admin listening line; stderr:\n" << gateway_->stderrText();
    EXPECT_NE(admin_port_, port_);
    return admin_port_ != 0;
  }

  HttpResponse admin(const std::string& target, Headers headers = {}, const std::string& method = "GET",
                     Millis timeout = Millis(5000)) {
    headers.emplace_back("Connection", "close");
    ReadOptions options;
    options.head_request = method == "HEAD";
    return roundTrip(admin_port_, buildRequest(method, target, headers, "", "127.0.0.1"), timeout, options);
  }
  HttpResponse adminWithToken(const std::string& target) {
    return admin(target, {{"Authorization", std::string("Bearer ") + kToken}});
  }

  std::vector<PromSample> scrape() {
    HttpResponse r = admin("/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
    std::vector<PromSample> samples;
    EXPECT_EQ(checkPrometheusText(r.body, &samples), "") << r.body;
    return samples;
  }

  // Polls /metrics until the sample has `want` (counters are recorded when
  // the access-log line is written, just after the response is sent).
  bool waitForSample(const std::string& name, const std::map<std::string, std::string>& labels, double want) {
    return pollUntil(
        [&] {
          auto v = findSample(scrape(), name, labels);
          return v && *v == want;
        },
        Millis(3000));
  }

  uint16_t admin_port_ = 0;
};

TEST_F(AdminTest, MetricsGrowWithTrafficInTheStrictTextFormat) {
  dir_.write("hello.js", R"JS(
export default {
  fetch(request, env, ctx) {
    ctx.log({ api_key: new URL(request.url).searchParams.get("key") });
    return new Response("hi");
  }
};)JS");
  auto cfg = adminConfig();
  nlohmann::json hello = {{"name", "hello"}, {"match", {{"path", "/hello"}}}, {"script", "hello.js"}};
  cfg["routes"].insert(cfg["routes"].begin(), hello);
  ASSERT_TRUE(startWithAdmin(cfg));

  auto before = scrape();
  EXPECT_FALSE(findSample(before, "isogate_requests_total", {{"route", "api"}, {"status", "200"}}));
  for (int i = 0; i < 5; ++i) ASSERT_EQ(get("/api/x").status, 200);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(get("/nowhere").status, 404);
  for (const char* key : {"alice", "alice", "bob"}) ASSERT_EQ(get(std::string("/hello?key=") + key).status, 200);

  EXPECT_TRUE(waitForSample("isogate_requests_total", {{"route", "api"}, {"status", "200"}}, 5));
  EXPECT_TRUE(waitForSample("isogate_requests_total", {{"route", ""}, {"status", "404"}}, 2));
  EXPECT_TRUE(waitForSample("isogate_requests_total", {{"route", "hello"}, {"status", "200"}}, 3));
  auto samples = scrape();
  EXPECT_EQ(findSample(samples, "isogate_request_duration_seconds_count", {{"route", "api"}}).value_or(-1), 5);
  EXPECT_EQ(findSample(samples, "isogate_requests_by_key_total", {{"route", "hello"}, {"key", "alice"}}).value_or(-1),
            2);
  EXPECT_EQ(findSample(samples, "isogate_requests_by_key_total", {{"route", "hello"}, {"key", "bob"}}).value_or(-1),
            1);
  EXPECT_GE(findSample(samples, "isogate_isolates", {{"route", "hello"}}).value_or(0), 1);
  EXPECT_GT(findSample(samples, "isogate_script_cpu_seconds_total", {{"route", "hello"}}).value_or(0), 0);
  EXPECT_GE(findSample(samples, "isogate_active_connections", {}).value_or(-1), 0);

  for (int i = 0; i < 3; ++i) ASSERT_EQ(get("/api/y").status, 200);
  EXPECT_TRUE(waitForSample("isogate_requests_total", {{"route", "api"}, {"status", "200"}}, 8));

  HttpResponse head = admin("/metrics", {}, "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

TEST_F(AdminTest, ReadyzTurns503OnSigtermWhileInFlightRequestsFinish) {
  origin_.on("/api/slow", TestOrigin::Behaviour::slow(1500));
  auto cfg = adminConfig();
  cfg["shutdown_grace_ms"] = 5000;
  ASSERT_TRUE(startWithAdmin(cfg));
  HttpResponse ready = admin("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");

  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/slow")));
  ASSERT_TRUE(origin_.waitForRequests(1, Millis(5000)));
  gateway_->signal(SIGTERM);
  auto start = Clock::now();
  EXPECT_TRUE(pollUntil([&] { return admin("/readyz").status == 503; }, Millis(1000)))
      << "/readyz must turn 503 as soon as draining starts";
  EXPECT_LT(elapsedMs(start), 1000);
  EXPECT_EQ(admin("/healthz").status, 200) << "still alive while draining";

  auto resp = client.readResponse(Millis(5000));
  ASSERT_TRUE(resp) << "the in-flight request was not completed";
  EXPECT_EQ(resp->status, 200);
  auto status = gateway_->waitExit(Millis(5000));
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 0);
}

TEST_F(AdminTest, AdminApiIs404WithoutAToken) {
  unsetenv(kTokenEnv);
  ASSERT_TRUE(startWithAdmin(adminConfig()));
  EXPECT_EQ(adminWithToken("/admin/stats").status, 404);
  EXPECT_EQ(admin("/admin/config").status, 404);
  EXPECT_EQ(admin("/metrics").status, 200) << "metrics and health need no token";
  EXPECT_EQ(admin("/healthz").status, 200);
}

TEST_F(AdminTest, AdminApiNeedsTheToken) {
  ASSERT_TRUE(startWithAdmin(adminConfig()));
  HttpResponse missing = admin("/admin/config");
  EXPECT_EQ(missing.status, 401);
  EXPECT_TRUE(missing.header("www-authenticate").value_or("").rfind("Bearer", 0) == 0);
  EXPECT_EQ(missing.json()["error"], "unauthorized");
  EXPECT_EQ(admin("/admin/config", {{"Authorization", "Bearer not-the-token"}}).status, 401);
  EXPECT_EQ(admin("/admin/config", {{"Authorization", std::string("Basic ") + kToken}}).status, 401);

  HttpResponse config = adminWithToken("/admin/config");
  ASSERT_EQ(config.status, 200) << config.body;
  auto j = config.json();
  EXPECT_TRUE(j["id"].is_number());
  EXPECT_TRUE(j["loaded_at"].is_string());
  EXPECT_TRUE(j["loaded_at_ms"].is_number());
  EXPECT_EQ(j["config_file"], configPath());
  ASSERT_EQ(j["routes"].size(), 1u);
  EXPECT_EQ(j["routes"][0]["name"], "api");
  EXPECT_EQ(j["routes"][0]["kind"], "proxy");
  EXPECT_EQ(admin("/nope").status, 404);
  EXPECT_EQ(admin("/metrics", {}, "DELETE").status, 405);
}

TEST_F(AdminTest, StatsAndTheStatusCommand) {
  origin_.on("/api/slow", TestOrigin::Behaviour::slow(250));
  TestOrigin::Behaviour failing;
  failing.status = 503;
  origin_.on("/api/fail", failing);
  ASSERT_TRUE(startWithAdmin(adminConfig()));
  for (int i = 0; i < 20; ++i) ASSERT_EQ(get("/api/fast").status, 200);
  // Concurrent, so the slow ones cost ~250 ms in all.
  std::vector<std::thread> slow;
  for (int i = 0; i < 3; ++i) slow.emplace_back([&] { EXPECT_EQ(get("/api/slow").status, 200); });
  for (auto& t : slow) t.join();
  for (int i = 0; i < 2; ++i) ASSERT_EQ(get("/api/fail").status, 503);

  nlohmann::json route;
  pollUntil(
      [&] {
        auto j = adminWithToken("/admin/stats").json();
        if (!j.is_object() || !j["routes"].is_array()) return false;
        for (const auto& r : j["routes"]) {
          if (r["route"] == "api") route = r;
        }
        return route.is_object() && route["requests"] == 25;
      },
      Millis(3000));
  ASSERT_TRUE(route.is_object());
  EXPECT_EQ(route["requests"], 25);
  EXPECT_EQ(route["requests_total"], 25);
  EXPECT_EQ(route["errors"], 2);
  EXPECT_GT(route["rps"].get<double>(), 0);
  const double p50 = route["p50_ms"].get<double>(), p95 = route["p95_ms"].get<double>(),
               p99 = route["p99_ms"].get<double>();
  EXPECT_GT(p50, 0);
  EXPECT_LT(p50, 200) << "most requests were fast";
  EXPECT_LE(p50, p95);
  EXPECT_LE(p95, p99);
  EXPECT_GE(p99, 230) << "3 of 25 took 250 ms";
  EXPECT_LT(p99, 2000);

  auto status = runCommand({isogateBinary(), "status", "--admin", "127.0.0.1:" + std::to_string(admin_port_),
                            "--token-env", kTokenEnv},
                           Millis(10000));
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("ROUTE"), std::string::npos) << status.out;
  std::regex row(R"((^|\n)api +[0-9.]+ +25 +8\.0% )");
  EXPECT_TRUE(std::regex_search(status.out, row)) << status.out;

  setenv("ISOGATE_E2E_WRONG_TOKEN", "wrong", 1);
  auto refused = runCommand({isogateBinary(), "status", "--admin", "127.0.0.1:" + std::to_string(admin_port_),
                             "--token-env", "ISOGATE_E2E_WRONG_TOKEN"},
                            Millis(10000));
  unsetenv("ISOGATE_E2E_WRONG_TOKEN");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("refused the token"), std::string::npos) << refused.err;

  auto unreachable = runCommand(
      {isogateBinary(), "status", "--admin", "127.0.0.1:" + std::to_string(unusedPort()), "--token-env", kTokenEnv},
      Millis(10000));
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_NE(unreachable.err.find("cannot reach the admin listener"), std::string::npos) << unreachable.err;
}

TEST_F(AdminTest, AnswersWhileEveryWorkerRunsCpuBoundScripts) {
  dir_.write("spin.js", R"JS(export default { fetch() { while (true) {} } };)JS");
  auto cfg = adminConfig();
  cfg["workers"] = 2;
  cfg["limits"]["cpu_ms"] = 700;
  nlohmann::json spin = {{"name", "spin"}, {"match", {{"path", "/spin"}}}, {"script", "spin.js"}};
  cfg["routes"].insert(cfg["routes"].begin(), spin);
  ASSERT_TRUE(startWithAdmin(cfg));

  // More connections than workers, so that (SO_REUSEPORT spreading them)
  // both workers are stuck in JavaScript.
  std::vector<std::unique_ptr<RawClient>> spinners;
  for (int i = 0; i < 6; ++i) {
    auto c = std::make_unique<RawClient>();
    ASSERT_TRUE(c->connect(port_));
    ASSERT_TRUE(c->sendAll(buildRequest("GET", "/spin")));
    spinners.push_back(std::move(c));
  }
  std::this_thread::sleep_for(Millis(300));  // let the scripts start spinning (not readiness: load)

  for (const char* path : {"/healthz", "/readyz", "/metrics"}) {
    auto start = Clock::now();
    HttpResponse r = admin(path, {}, "GET", Millis(3000));
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_LT(elapsedMs(start), 1000) << path << " must not wait for the workers";
  }
  // The spinning requests end with 503 once cpu_ms is used up.
  for (auto& c : spinners) {
    auto resp = c->readResponse(Millis(15000));
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->status, 503);
  }
}

TEST_F(AdminTest, MalformedInputIsRefusedAndTheListenerKeepsServing) {
  ASSERT_TRUE(startWithAdmin(adminConfig()));
  auto bad = roundTrip(admin_port_, "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(bad.status, 400);
  auto huge = roundTrip(admin_port_, buildRequest("GET", "/healthz", {{"X-Big", std::string(10000, 'a')}}));
  EXPECT_EQ(huge.status, 431);
  auto body = roundTrip(admin_port_, buildRequest("POST", "/metrics", {}, "payload"));
  EXPECT_EQ(body.status, 413);
  auto no_host = roundTrip(admin_port_, "GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(no_host.status, 400);

  // Keep-alive with pipelined requests: answered in order on one connection.
  RawClient client;
  ASSERT_TRUE(client.connect(admin_port_));
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/healthz", {}, "", "127.0.0.1") +
                             buildRequest("GET", "/readyz", {}, "", "127.0.0.1")));
  auto first = client.readResponse(Millis(3000));
  auto second = client.readResponse(Millis(3000));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, "ok\n");
  EXPECT_EQ(second->body, "ready\n");

  // Random bytes and mangled requests, each on its own connection, cut off
  // at a random point: the listener answers or closes, and keeps serving.
  std::mt19937 rng(1234);
  const std::string valid = buildRequest("GET", "/metrics", {{"Authorization", "Bearer x"}}, "", "127.0.0.1");
  for (int i = 0; i < 200; ++i) {
    std::string input = valid;
    if (i % 2) {
      for (auto& c : input) c = static_cast<char>(rng());
    } else {
      for (int k = 0; k < 3; ++k) input[rng() % input.size()] = static_cast<char>(rng());
    }
    input.resize(rng() % input.size() + 1);
    RawClient fuzz;
    ASSERT_TRUE(fuzz.connect(admin_port_));
    fuzz.sendAll(input, Millis(1000));
    fuzz.shutdownWrite();
    fuzz.waitClosed(Millis(2000));
  }
  EXPECT_EQ(admin("/healthz").status, 200);
  EXPECT_TRUE(gateway_->running()) << "the process must still run";
}

}  // namespace
}  // namespace isogate::e2e
