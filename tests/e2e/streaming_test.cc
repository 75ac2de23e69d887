// 200 MB uploads and downloads through the proxy: bodies arrive intact and
// the gateway streams them (RSS stays under 100 MB, also when one side is slow).

#include <gtest/gtest.h>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

constexpr uint64_t kTotal = 200 * kMiB;
constexpr long kMaxRssKb = 100 * 1024;

class StreamingTest : public GatewayTest {
 protected:
  nlohmann::json streamingConfig() const {
    auto cfg = baseConfig();
    cfg["limits"]["body_bytes"] = 300 * kMiB;
    cfg["origins"]["o"]["timeout_ms"] = 20000;
    return cfg;
  }

  // Sends a Content-Length upload of kTotal pattern bytes on `client`.
  static bool sendPatternBody(RawClient& client, uint64_t total) {
    std::string chunk(256 * 1024, '\0');
    auto start = Clock::now();
    for (uint64_t offset = 0; offset < total;) {
      if (elapsedMs(start) > 60000) return false;
      size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), total - offset));
      fillPattern(offset, chunk.data(), n);
      if (!client.sendAll(std::string_view(chunk.data(), n), Millis(10000))) return false;
      offset += n;
    }
    return true;
  }

  void expectRssBounded(const RssSampler& rss) {
    RecordProperty("gateway_max_rss_kb", std::to_string(rss.maxKb()));
    EXPECT_GT(rss.samples(), 0u);
    EXPECT_LT(rss.maxKb(), kMaxRssKb) << "gateway RSS peaked at " << rss.maxKb() << " kB";
  }

  void expectUploadArrived(const std::string& path) {
    auto reqs = origin_.requestsTo(path);
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].state, TestOrigin::Request::State::kComplete);
    EXPECT_EQ(reqs[0].body_bytes, kTotal);
    EXPECT_TRUE(reqs[0].body_matches_pattern);
  }
};

TEST_F(StreamingTest, Upload200MBWithContentLength) {
  ASSERT_TRUE(startGateway(streamingConfig()));
  RssSampler rss(gateway_->pid());
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll("POST /api/upload HTTP/1.1\r\nHost: gw\r\nContent-Type: application/octet-stream\r\n"
                             "Content-Length: " + std::to_string(kTotal) + "\r\n\r\n"));
  ASSERT_TRUE(sendPatternBody(client, kTotal));
  auto resp = client.readResponse(Millis(30000));
  rss.stop();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->json()["body_bytes"], kTotal);
  expectUploadArrived("/api/upload");
  expectRssBounded(rss);
}

TEST_F(StreamingTest, Upload200MBChunkedWithCurl) {
  ASSERT_TRUE(startGateway(streamingConfig()));
  RssSampler rss(gateway_->pid());
  uint64_t offset = 0;
  StdinSource source = [&](std::string& chunk) {
    if (offset >= kTotal) return false;
    size_t n = static_cast<size_t>(std::min<uint64_t>(256 * 1024, kTotal - offset));
    chunk.resize(n);
    fillPattern(offset, chunk.data(), n);
    offset += n;
    return true;
  };
  auto r = runCurl({"-T", "-", "-X", "POST", "-H", "Transfer-Encoding: chunked", "-H",
                    "Content-Type: application/octet-stream", "-o", "/dev/null", "-w", "%{http_code}",
                    "http://127.0.0.1:" + std::to_string(port_) + "/api/curl-upload"},
                   Millis(90000), source);
  rss.stop();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200");
  expectUploadArrived("/api/curl-upload");
  expectRssBounded(rss);
}

TEST_F(StreamingTest, Upload200MBToSlowOriginIsBackpressured) {
  auto b = TestOrigin::Behaviour::echo();
  b.pause_after_body_bytes = kMiB;
  b.pause_ms = 1500;  // the origin stops reading; the gateway must not buffer the rest
  origin_.on("/api/slow-upload", b);
  ASSERT_TRUE(startGateway(streamingConfig()));
  RssSampler rss(gateway_->pid());
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll("POST /api/slow-upload HTTP/1.1\r\nHost: gw\r\nContent-Length: " +
                             std::to_string(kTotal) + "\r\n\r\n"));
  ASSERT_TRUE(sendPatternBody(client, kTotal));
  auto resp = client.readResponse(Millis(30000));
  rss.stop();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  expectUploadArrived("/api/slow-upload");
  expectRssBounded(rss);
}

TEST_F(StreamingTest, Download200MBWithContentLength) {
  origin_.on("/api/download", TestOrigin::Behaviour::stream(kTotal));
  ASSERT_TRUE(startGateway(streamingConfig()));
  RssSampler rss(gateway_->pid());
  PatternChecker checker;
  ReadOptions options;
  options.body_sink = [&](const char* d, size_t n) { checker.update(d, n); };
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/download")));
  auto resp = client.readResponse(Millis(60000), options);
  rss.stop();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  EXPECT_TRUE(resp->complete);
  EXPECT_EQ(checker.bytes(), kTotal);
  EXPECT_TRUE(checker.ok()) << "downloaded bytes differ from what the origin sent";
  expectRssBounded(rss);
}

TEST_F(StreamingTest, Download200MBChunkedWithCurl) {
  origin_.on("/api/download-chunked", TestOrigin::Behaviour::stream(kTotal, true));
  ASSERT_TRUE(startGateway(streamingConfig()));
  RssSampler rss(gateway_->pid());
  auto r = runCurl({"-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                    "http://127.0.0.1:" + std::to_string(port_) + "/api/download-chunked"},
                   Millis(90000));
  rss.stop();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200 " + std::to_string(kTotal));
  expectRssBounded(rss);
}

TEST_F(StreamingTest, Download200MBToSlowClientIsBackpressured) {
  origin_.on("/api/download", TestOrigin::Behaviour::stream(kTotal));
  ASSERT_TRUE(startGateway(streamingConfig()));
  RssSampler rss(gateway_->pid());
  PatternChecker checker;
  bool paused = false;
  ReadOptions options;
  options.body_sink = [&](const char* d, size_t n) {
    checker.update(d, n);
    if (!paused && checker.bytes() >= kMiB) {
      paused = true;
      // The client stops reading; the gateway must not buffer the origin's rest.
      std::this_thread::sleep_for(Millis(1500));
    }
  };
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/api/download")));
  auto resp = client.readResponse(Millis(60000), options);
  rss.stop();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(checker.bytes(), kTotal);
  EXPECT_TRUE(checker.ok());
  expectRssBounded(rss);
}

}  // namespace
}  // namespace isogate::e2e
