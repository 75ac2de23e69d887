// Access log: one JSON line per request on stdout in `serve`, with the
// standard fields and types from DESIGN.md, flushed promptly.

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

class AccessLogTest : public GatewayTest {
 protected:
  nlohmann::json ordersConfig() const {
    auto cfg = baseConfig();
    cfg["routes"] = {{{"name", "orders"},
                      {"match", {{"path", "/v1/orders/*"}}},
                      {"proxy", {{"origin", "o"}, {"strip_prefix", "/v1"}}}}};
    return cfg;
  }

  std::optional<nlohmann::json> lineFor(const std::string& request_id, Millis timeout = Millis(3000)) {
    return gateway_->waitForLogLine(
        [&](const nlohmann::json& j) { return j.value("request_id", "") == request_id; }, timeout);
  }
};

TEST_F(AccessLogTest, LineHasStandardFields) {
  ASSERT_TRUE(startGateway(ordersConfig()));
  auto resp = get("/v1/orders/7?x=1&secret=abc", {{"X-Request-ID", "log-1"}, {"User-Agent", "e2e-agent/1.0"}});
  ASSERT_EQ(resp.status, 200);
  ASSERT_EQ(origin_.requests().at(0).target, "/orders/7?x=1&secret=abc");

  auto line = lineFor("log-1");
  ASSERT_TRUE(line) << "no access-log line; stdout has " << gateway_->stdoutLines().size() << " lines";
  const auto& j = *line;
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/v1/orders/7") << "path is the client's, before rewrite, without the query";
  EXPECT_EQ(j["route"], "orders");
  ASSERT_TRUE(j["status"].is_number_integer()) << j.dump();
  EXPECT_EQ(j["status"], 200);
  ASSERT_TRUE(j["latency_ms"].is_number()) << j.dump();
  EXPECT_GE(j["latency_ms"].get<double>(), 0.0);
  ASSERT_TRUE(j["upstream_ms"].is_number()) << j.dump();
  EXPECT_GE(j["upstream_ms"].get<double>(), 0.0);
  EXPECT_LE(j["upstream_ms"].get<double>(), j["latency_ms"].get<double>() + 1.0);
  EXPECT_TRUE(j["bytes_in"].is_number()) << j.dump();
  ASSERT_TRUE(j["bytes_out"].is_number()) << j.dump();
  EXPECT_GE(j["bytes_out"].get<double>(), static_cast<double>(resp.body.size()));
  EXPECT_EQ(j["user_agent"], "e2e-agent/1.0");
  ASSERT_TRUE(j["remote_addr"].is_string()) << j.dump();
  EXPECT_EQ(j["remote_addr"].get<std::string>().rfind("127.0.0.1", 0), 0u) << j["remote_addr"];
  ASSERT_TRUE(j["timestamp"].is_string()) << j.dump();
  EXPECT_TRUE(std::regex_match(j["timestamp"].get<std::string>(),
                               std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")))
      << j["timestamp"];
  EXPECT_EQ(j.dump().find("secret=abc"), std::string::npos) << "the query must not be logged";
}

TEST_F(AccessLogTest, CountsBodyBytes) {
  ASSERT_TRUE(startGateway(ordersConfig()));
  std::string body(1000, 'b');
  auto resp = request("POST", "/v1/orders", {{"X-Request-ID", "log-post"}}, body);
  ASSERT_EQ(resp.status, 200);
  auto line = lineFor("log-post");
  ASSERT_TRUE(line);
  EXPECT_EQ((*line)["method"], "POST");
  EXPECT_GE((*line)["bytes_in"].get<double>(), 1000.0);
  EXPECT_GE((*line)["bytes_out"].get<double>(), static_cast<double>(resp.body.size()));
}

TEST_F(AccessLogTest, ErrorsAreLoggedWithTheirStatus) {
  ASSERT_TRUE(startGateway(ordersConfig()));
  EXPECT_EQ(get("/nowhere", {{"X-Request-ID", "log-404"}}).status, 404);
  auto line = lineFor("log-404");
  ASSERT_TRUE(line);
  EXPECT_EQ((*line)["status"], 404);
  EXPECT_EQ((*line)["path"], "/nowhere");
}

TEST_F(AccessLogTest, OneLinePerRequestAndStdoutIsOnlyJson) {
  ASSERT_TRUE(startGateway(ordersConfig()));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(get("/v1/orders/" + std::to_string(i), {{"X-Request-ID", "n-" + std::to_string(i)}}).status, 200);
  }
  // Keep-alive requests on one connection are logged individually too.
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  for (int i = 5; i < 8; ++i) {
    ASSERT_TRUE(client.sendAll(buildRequest("GET", "/v1/orders/" + std::to_string(i),
                                            {{"X-Request-ID", "n-" + std::to_string(i)}})));
    auto resp = client.readResponse(Millis(5000));
    ASSERT_TRUE(resp);
  }
  // A sentinel logged after all of them bounds the wait without sleeping.
  EXPECT_EQ(get("/v1/orders/last", {{"X-Request-ID", "sentinel"}}).status, 200);
  ASSERT_TRUE(lineFor("sentinel"));
  ASSERT_TRUE(gateway_->waitForStdoutLines(9, Millis(3000)));
  auto lines = gateway_->stdoutLines();
  EXPECT_EQ(lines.size(), 9u);
  std::multiset<std::string> ids;
  for (const auto& l : lines) {
    auto j = nlohmann::json::parse(l, nullptr, false);
    ASSERT_TRUE(!j.is_discarded() && j.is_object()) << "non-JSON stdout line: " << l;
    ids.insert(j.value("request_id", ""));
  }
  for (int i = 0; i < 8; ++i) EXPECT_EQ(ids.count("n-" + std::to_string(i)), 1u) << i;
}

TEST_F(AccessLogTest, LinesAreFlushedPromptly) {
  ASSERT_TRUE(startGateway(ordersConfig()));
  for (int i = 0; i < 3; ++i) {
    std::string id = "flush-" + std::to_string(i);
    ASSERT_EQ(get("/v1/orders/f", {{"X-Request-ID", id}}).status, 200);
    auto start = Clock::now();
    auto line = lineFor(id, Millis(3000));
    ASSERT_TRUE(line);
    // Flushed at least every 100 ms; allow scheduling slack.
    EXPECT_LT(elapsedMs(start), 600) << "access-log line took too long to appear";
  }
}

}  // namespace
}  // namespace isogate::e2e
