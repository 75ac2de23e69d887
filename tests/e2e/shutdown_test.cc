// SIGTERM drain: stop accepting, let in-flight requests finish within
// shutdown_grace_ms, exit 0.

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

class ShutdownTest : public GatewayTest {
 protected:
  // Polls until a connect to the gateway port is refused.
  bool waitRefused(Millis timeout) {
    return pollUntil(
        [&] {
          RawClient probe;
          if (probe.connect(port_)) return false;
          return probe.lastErrno() == ECONNREFUSED;
        },
        timeout);
  }
};

TEST_F(ShutdownTest, SigtermDrainsInFlightRequest) {
  origin_.on("/api/slow", TestOrigin::Behaviour::slow(1000));
  auto cfg = baseConfig();
  cfg["shutdown_grace_ms"] = 4000;
  ASSERT_TRUE(startGateway(cfg));

  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/slow", {{"X-Request-ID", "inflight-1"}})));
  ASSERT_TRUE(origin_.waitForRequests(1, Millis(5000))) << "the slow request never reached the origin";

  auto start = Clock::now();
  gateway_->signal(SIGTERM);
  EXPECT_TRUE(waitRefused(Millis(2000))) << "new connections must be refused after SIGTERM";

  auto resp = client.readResponse(Millis(5000));
  ASSERT_TRUE(resp) << "the in-flight request was not completed";
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->json()["target"], "/api/slow");

  auto status = gateway_->waitExit(Millis(4000 + 2000));
  ASSERT_TRUE(status) << "isogate did not exit after draining";
  EXPECT_TRUE(status->exited) << "killed by signal " << status->term_signal;
  EXPECT_EQ(status->code, 0);
  EXPECT_LT(elapsedMs(start), 4000 + 500) << "exit should follow the last in-flight request, within the grace";

  // Its access-log line was written before exit.
  auto line = gateway_->waitForLogLine(
      [](const nlohmann::json& j) { return j.value("request_id", "") == "inflight-1"; }, Millis(2000));
  ASSERT_TRUE(line) << "no access-log line for the drained request";
  EXPECT_EQ((*line)["status"], 200);
}

TEST_F(ShutdownTest, SigtermWithRequestSlowerThanGraceStillExits) {
  origin_.on("/api/very-slow", TestOrigin::Behaviour::slow(10000));
  auto cfg = baseConfig();
  cfg["shutdown_grace_ms"] = 500;
  cfg["origins"]["o"]["timeout_ms"] = 20000;
  ASSERT_TRUE(startGateway(cfg));

  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/very-slow")));
  ASSERT_TRUE(origin_.waitForRequests(1, Millis(5000)));

  auto start = Clock::now();
  gateway_->signal(SIGTERM);
  auto status = gateway_->waitExit(Millis(500 + 3000));
  ASSERT_TRUE(status) << "isogate must exit once shutdown_grace_ms has passed";
  auto ms = elapsedMs(start);
  EXPECT_TRUE(status->exited) << "killed by signal " << status->term_signal;
  EXPECT_EQ(status->code, 0);
  EXPECT_GE(ms, 400) << "exited before the grace period although a request was in flight";
  EXPECT_TRUE(client.waitClosed(Millis(2000))) << "the client connection should be closed at exit";
}

TEST_F(ShutdownTest, SigtermWhenIdleExitsPromptly) {
  ASSERT_TRUE(startGateway(baseConfig()));  // shutdown_grace_ms 3000
  EXPECT_EQ(get("/api/warm").status, 200);
  auto start = Clock::now();
  gateway_->signal(SIGTERM);
  auto status = gateway_->waitExit(Millis(5000));
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 0);
  EXPECT_LT(elapsedMs(start), 2000) << "with nothing in flight there is nothing to wait for";
}

TEST_F(ShutdownTest, SigtermClosesIdleKeepAliveConnections) {
  ASSERT_TRUE(startGateway(baseConfig()));  // shutdown_grace_ms 3000
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/keep")));
  auto resp = client.readResponse(Millis(5000));
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  gateway_->signal(SIGTERM);
  EXPECT_TRUE(client.waitClosed(Millis(3000 + 1000))) << "idle keep-alive connection not closed on drain";
  auto status = gateway_->waitExit(Millis(3000 + 2000));
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 0);
}

}  // namespace
}  // namespace isogate::e2e
