// Connection and message limits: body_bytes (413), header_timeout_ms (408,
// slowloris), idle_timeout_ms. Header-size limits (414, 431) are in
// http_strictness_test.cc.

#include <gtest/gtest.h>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

class LimitsTest : public GatewayTest {};

TEST_F(LimitsTest, ContentLengthOverBodyBytesIs413) {
  ASSERT_TRUE(startGateway(baseConfig()));  // body_bytes 1 MiB
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  // Only the head: the gateway must answer from Content-Length alone.
  ASSERT_TRUE(client.sendAll("POST /api/upload HTTP/1.1\r\nHost: gw\r\nContent-Length: " +
                             std::to_string(2 * kMiB) + "\r\nX-Request-ID: big-1\r\n\r\n"));
  auto resp = client.readResponse(Millis(5000));
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 413);
  auto j = resp->json();
  EXPECT_TRUE(j.is_object() && j["error"].is_string()) << resp->body;
  EXPECT_EQ(j.value("request_id", ""), "big-1");
  EXPECT_TRUE(client.waitClosed(Millis(3000))) << "an unread body means the connection must close";
  EXPECT_EQ(origin_.requestCount(), 0u);
}

TEST_F(LimitsTest, BodyOfExactlyBodyBytesIsAccepted) {
  ASSERT_TRUE(startGateway(baseConfig()));
  std::string body(kMiB, '\0');
  fillPattern(0, body.data(), body.size());
  auto resp = request("POST", "/api/exact", {}, body);
  ASSERT_EQ(resp.status, 200) << resp.body;
  auto req = origin_.requests().at(0);
  EXPECT_EQ(req.body_bytes, kMiB);
  EXPECT_TRUE(req.body_matches_pattern);
}

TEST_F(LimitsTest, ExpectContinueOverBodyBytesGets413Without100) {
  ASSERT_TRUE(startGateway(baseConfig()));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll("POST /api/upload HTTP/1.1\r\nHost: gw\r\nContent-Length: " +
                             std::to_string(5 * kMiB) + "\r\nExpect: 100-continue\r\n\r\n"));
  auto resp = client.readResponse(Millis(5000));
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 413) << "no 100 Continue for a body that will be refused";
  EXPECT_EQ(origin_.requestCount(), 0u);
}

TEST_F(LimitsTest, ChunkedBodyOverBodyBytesIs413AndAbortsOriginRequest) {
  ASSERT_TRUE(startGateway(baseConfig()));  // body_bytes 1 MiB
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll("POST /api/upload HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n"));
  // Up to 3 MiB in 64 KiB chunks; stop as soon as the gateway answers or
  // stops reading, so that its response is not lost to a reset.
  const size_t kChunk = 64 * 1024;
  std::string chunk(kChunk, 'x');
  std::string framed = "10000\r\n" + chunk + "\r\n";
  uint64_t sent = 0;
  auto start = Clock::now();
  while (sent < 3 * kMiB && elapsedMs(start) < 10000) {
    if (client.readable(Millis(0))) break;
    if (!client.sendAll(framed, Millis(1000))) break;
    sent += kChunk;
  }
  auto resp = client.readResponse(Millis(5000));
  ASSERT_TRUE(resp) << "no 413 response (sent " << sent << " body bytes)";
  EXPECT_EQ(resp->status, 413);
  EXPECT_TRUE(client.waitClosed(Millis(3000)));

  // Whatever reached the origin was aborted, never completed short.
  bool settled = origin_.waitFor(
      [](const std::vector<TestOrigin::Request>& reqs) {
        for (const auto& r : reqs) {
          if (r.state == TestOrigin::Request::State::kReceivingBody) return false;
        }
        return true;
      },
      Millis(5000));
  EXPECT_TRUE(settled) << "the origin connection of an over-long body must be closed";
  for (const auto& r : origin_.requests()) {
    EXPECT_NE(r.state, TestOrigin::Request::State::kComplete)
        << "origin received a complete (short) request with " << r.body_bytes << " body bytes";
    EXPECT_LE(r.body_bytes, kMiB);
  }
}

TEST_F(LimitsTest, IncompleteHeadTimesOutWith408) {
  auto cfg = baseConfig();
  cfg["limits"]["header_timeout_ms"] = 500;
  ASSERT_TRUE(startGateway(cfg));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  auto start = Clock::now();
  ASSERT_TRUE(client.sendAll("GET /api/x HTTP/1.1\r\nHost: gw\r\nX-Partial: yes\r\n"));
  auto resp = client.readResponse(Millis(5000));
  auto ms = elapsedMs(start);
  ASSERT_TRUE(resp) << "expected a 408 before the close";
  EXPECT_EQ(resp->status, 408);
  EXPECT_GE(ms, 400);
  EXPECT_LT(ms, 2500);
  EXPECT_TRUE(client.waitClosed(Millis(3000)));
  EXPECT_EQ(origin_.requestCount(), 0u);
}

TEST_F(LimitsTest, SlowlorisTrickleDoesNotResetHeaderTimer) {
  auto cfg = baseConfig();
  cfg["limits"]["header_timeout_ms"] = 500;
  ASSERT_TRUE(startGateway(cfg));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  auto start = Clock::now();
  ASSERT_TRUE(client.sendAll("GET /api/x HTTP/1.1\r\nHost: gw\r\nX-Slow: "));
  // One byte every 50 ms, never finishing the head; bounded to 5 s.
  bool answered = false;
  while (elapsedMs(start) < 5000) {
    if (client.readable(Millis(50))) {
      answered = true;
      break;
    }
    if (!client.sendAll("a", Millis(200))) {
      answered = true;
      break;
    }
  }
  ASSERT_TRUE(answered) << "a trickled head was still open after 5 s";
  EXPECT_TRUE(client.waitClosed(Millis(3000)));
  auto ms = elapsedMs(start);
  EXPECT_LT(ms, 2000) << "the header timer must not be reset by each byte";
  if (!client.buffered().empty()) {
    EXPECT_EQ(client.buffered().rfind("HTTP/1.1 408", 0), 0u) << client.buffered();
  }
  EXPECT_EQ(origin_.requestCount(), 0u);
}

TEST_F(LimitsTest, IdleKeepAliveConnectionIsClosed) {
  auto cfg = baseConfig();
  cfg["limits"]["idle_timeout_ms"] = 500;
  cfg["limits"]["header_timeout_ms"] = 5000;
  ASSERT_TRUE(startGateway(cfg));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/once")));
  auto resp = client.readResponse(Millis(5000));
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  auto start = Clock::now();
  EXPECT_TRUE(client.waitClosed(Millis(5000))) << "idle keep-alive connection was not closed";
  auto ms = elapsedMs(start);
  EXPECT_GE(ms, 350);
  EXPECT_LT(ms, 2500);
}

TEST_F(LimitsTest, BusyKeepAliveConnectionStaysOpen) {
  auto cfg = baseConfig();
  cfg["limits"]["idle_timeout_ms"] = 500;
  ASSERT_TRUE(startGateway(cfg));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  // Seven requests 250 ms apart: 1.5 s in total, never 500 ms idle.
  for (int i = 0; i < 7; ++i) {
    if (i > 0) std::this_thread::sleep_for(Millis(250));  // pacing, not waiting for readiness
    ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/busy/" + std::to_string(i)))) << i;
    auto resp = client.readResponse(Millis(5000));
    ASSERT_TRUE(resp) << "request " << i << " on a busy connection got no response";
    EXPECT_EQ(resp->status, 200);
  }
}

}  // namespace
}  // namespace isogate::e2e
