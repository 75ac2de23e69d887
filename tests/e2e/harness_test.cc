// Self-tests of the e2e harness (TestOrigin, RawClient, runCommand) without
// the gateway, so that a failing e2e test points at the gateway, not the rig.

#include <gtest/gtest.h>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

TEST(HarnessTest, OriginEchoesRequestToCurl) {
  TestOrigin origin;
  auto r = runCurl({"-H", "X-Probe: yes", origin.url() + "/echo/1?q=2"});
  ASSERT_TRUE(r.exited) << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["target"], "/echo/1?q=2");
  ASSERT_EQ(origin.requestCount(), 1u);
  auto req = origin.requests()[0];
  EXPECT_EQ(req.header("x-probe").value_or(""), "yes");
  EXPECT_EQ(req.state, TestOrigin::Request::State::kComplete);
}

TEST(HarnessTest, OriginKeepsAliveAndParsesChunkedBodies) {
  TestOrigin origin;
  RawClient client;
  ASSERT_TRUE(client.connect(origin.port()));
  std::string reqs = buildRequest("GET", "/a") +
                     buildRequest("POST", "/b", {{"Transfer-Encoding", "chunked"}}, "3\r\nabc\r\nA;ext=1\r\n0123456789\r\n0\r\n\r\n") +
                     buildRequest("POST", "/c", {}, "hello");
  ASSERT_TRUE(client.sendAll(reqs));
  for (const char* target : {"/a", "/b", "/c"}) {
    auto resp = client.readResponse(Millis(5000));
    ASSERT_TRUE(resp) << target;
    EXPECT_EQ(resp->status, 200);
    auto j = resp->json();
    EXPECT_EQ(j["target"], target);
    EXPECT_EQ(j["connection_id"], 1);
  }
  auto all = origin.requests();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_TRUE(all[1].chunked);
  EXPECT_EQ(all[1].body, "abc0123456789");
  EXPECT_EQ(all[2].body, "hello");
  EXPECT_EQ(origin.acceptedConnections(), 1u);
}

TEST(HarnessTest, OriginStreamsPatternBodies) {
  TestOrigin origin;
  origin.on("/cl", TestOrigin::Behaviour::stream(10 * kMiB + 3));
  origin.on("/chunked", TestOrigin::Behaviour::stream(10 * kMiB + 5, true));
  RawClient client;
  ASSERT_TRUE(client.connect(origin.port()));
  for (const char* target : {"/cl", "/chunked"}) {
    PatternChecker checker;
    ReadOptions options;
    options.body_sink = [&](const char* d, size_t n) { checker.update(d, n); };
    ASSERT_TRUE(client.sendAll(buildRequest("GET", target)));
    auto resp = client.readResponse(Millis(10000), options);
    ASSERT_TRUE(resp);
    EXPECT_TRUE(resp->complete);
    EXPECT_TRUE(checker.ok());
    EXPECT_EQ(checker.bytes(), std::string(target) == "/cl" ? 10 * kMiB + 3 : 10 * kMiB + 5);
  }
}

TEST(HarnessTest, OriginBehavioursForErrors) {
  TestOrigin origin;
  origin.on("/raw", TestOrigin::Behaviour::rawResponse("garbage\r\n\r\n"));
  origin.on("/close", TestOrigin::Behaviour::closeImmediately());
  origin.on("/slow", TestOrigin::Behaviour::slow(200));
  {
    RawClient c;
    ASSERT_TRUE(c.connect(origin.port()));
    ASSERT_TRUE(c.sendAll(buildRequest("GET", "/raw")));
    EXPECT_TRUE(c.waitClosed(Millis(3000)));
    EXPECT_EQ(c.buffered(), "garbage\r\n\r\n");
  }
  {
    RawClient c;
    ASSERT_TRUE(c.connect(origin.port()));
    ASSERT_TRUE(c.sendAll(buildRequest("GET", "/close")));
    EXPECT_TRUE(c.waitClosed(Millis(3000)));
    EXPECT_TRUE(c.buffered().empty());
  }
  {
    auto start = Clock::now();
    auto resp = roundTrip(origin.port(), buildRequest("GET", "/slow"));
    EXPECT_EQ(resp.status, 200);
    EXPECT_GE(elapsedMs(start), 180);
  }
}

TEST(HarnessTest, CurlStreamsStdinUploadThroughRunCommand) {
  TestOrigin origin;
  const uint64_t total = 20 * kMiB;
  uint64_t offset = 0;
  StdinSource source = [&](std::string& chunk) {
    if (offset >= total) return false;
    size_t n = static_cast<size_t>(std::min<uint64_t>(256 * 1024, total - offset));
    chunk.resize(n);
    fillPattern(offset, chunk.data(), n);
    offset += n;
    return true;
  };
  auto r = runCurl({"-T", "-", "-X", "POST", "-H", "Transfer-Encoding: chunked", "-H",
                    "Content-Type: application/octet-stream", origin.url() + "/up"},
                   Millis(30000), source);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto reqs = origin.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].body_bytes, total);
  EXPECT_TRUE(reqs[0].body_matches_pattern);
  EXPECT_TRUE(reqs[0].chunked);
  EXPECT_EQ(reqs[0].method, "POST");
}

TEST(HarnessTest, RunCommandReportsExitCodes) {
  auto ok = runCommand({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_TRUE(ok.exited);
  EXPECT_EQ(ok.exit_code, 3);
  EXPECT_EQ(ok.out, "out\n");
  EXPECT_EQ(ok.err, "err\n");
}

}  // namespace
}  // namespace isogate::e2e
