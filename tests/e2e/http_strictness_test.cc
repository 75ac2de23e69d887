// HTTP/1.1 strictness (DESIGN.md "HTTP/1.1 strictness", RFC 9112), over raw
// sockets: ambiguous or malformed requests are rejected with the right status,
// the connection is closed, and nothing reaches the origin.

#include <gtest/gtest.h>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

struct StrictCase {
  std::string name;
  std::string raw;
  int status;
};

void PrintTo(const StrictCase& c, std::ostream* os) { *os << c.name << " -> " << c.status; }

std::string manyHeaders(size_t total_bytes) {
  std::string out;
  for (int i = 0; out.size() < total_bytes; ++i) {
    out += "X-Fill-" + std::to_string(i) + ": " + std::string(100, 'a') + "\r\n";
  }
  return out;
}

const std::string kHead = "GET /api/x HTTP/1.1\r\nHost: gw\r\n";

std::vector<StrictCase> rejectedCases() {
  return {
      {"cl_and_te", "POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400},
      {"te_and_cl", "POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
       400},
      {"cl_te_smuggle",
       "POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 47\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
       "GET /api/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n",
       400},
      {"two_different_content_lengths",
       "POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
      {"content_length_list", "POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 5, 6\r\n\r\nhello!", 400},
      {"content_length_not_a_number", "POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 5x\r\n\r\nhello", 400},
      {"content_length_negative", "POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: -1\r\n\r\n", 400},
      {"te_gzip_chunked", "POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
      {"te_unknown_coding", "POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: x-custom, chunked\r\n\r\n0\r\n\r\n",
       501},
      {"te_not_ending_in_chunked", "POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
       400},
      {"bad_chunk_size", "POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
       400},
      {"chunk_data_without_crlf",
       "POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXY0\r\n\r\n", 400},
      {"bare_lf_everywhere", "GET /api/x HTTP/1.1\nHost: gw\n\n", 400},
      {"bare_lf_in_header", "GET /api/x HTTP/1.1\r\nHost: gw\nX-A: 1\r\n\r\n", 400},
      {"bare_cr_in_header", kHead + "X-A: 1\rX-B: 2\r\n\r\n", 400},
      {"obs_fold", kHead + "X-A: 1\r\n  folded\r\n\r\n", 400},
      {"nul_in_field_value", kHead + std::string("X-A: a\0b\r\n\r\n", 12), 400},
      {"control_byte_in_field_value", kHead + "X-A: a\x01" "b\r\n\r\n", 400},
      {"space_before_colon", kHead + "X-A : 1\r\n\r\n", 400},
      {"invalid_field_name", kHead + "X(A): 1\r\n\r\n", 400},
      {"missing_host", "GET /api/x HTTP/1.1\r\nX-A: 1\r\n\r\n", 400},
      {"two_hosts", "GET /api/x HTTP/1.1\r\nHost: gw\r\nHost: other\r\n\r\n", 400},
      {"http2_request_line", "GET /api/x HTTP/2.0\r\nHost: gw\r\n\r\n", 505},
      {"http3_request_line", "GET /api/x HTTP/3.0\r\nHost: gw\r\n\r\n", 505},
      // header_bytes is 4096 in baseConfig().
      {"request_line_over_header_bytes", "GET /api/" + std::string(5000, 'a') + " HTTP/1.1\r\nHost: gw\r\n\r\n", 414},
      {"header_block_over_header_bytes", kHead + manyHeaders(5000) + "\r\n", 431},
  };
}

class RejectedRequestTest : public GatewayTest, public ::testing::WithParamInterface<StrictCase> {};

TEST_P(RejectedRequestTest, IsRejectedAndClosed) {
  const auto& c = GetParam();
  ASSERT_TRUE(startGateway(baseConfig()));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll(c.raw));
  auto resp = client.readResponse(Millis(5000));
  ASSERT_TRUE(resp) << "no response; received: '" << client.buffered() << "'";
  EXPECT_EQ(resp->status, c.status) << resp->body;
  auto j = resp->json();
  EXPECT_TRUE(j.is_object() && j["error"].is_string() && j["request_id"].is_string())
      << "error responses carry a JSON body: " << resp->body;
  EXPECT_TRUE(client.waitClosed(Millis(3000))) << "connection must close after a rejected request";
  EXPECT_TRUE(client.buffered().empty()) << "nothing may follow the error response: " << client.buffered();
  EXPECT_EQ(origin_.requestCount(), 0u) << "a rejected request must not reach the origin";
}

INSTANTIATE_TEST_SUITE_P(Strictness, RejectedRequestTest, ::testing::ValuesIn(rejectedCases()),
                         [](const ::testing::TestParamInfo<StrictCase>& info) { return info.param.name; });

// Close relatives of the rejected cases that are valid and must be served.
std::vector<StrictCase> acceptedCases() {
  return {
      {"http10_without_host", "GET /api/x HTTP/1.0\r\n\r\n", 200},
      {"chunked_mixed_case", "POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n"
                             "3\r\nabc\r\n0\r\n\r\n", 200},
      {"header_block_under_header_bytes", kHead + manyHeaders(3000) + "Connection: close\r\n\r\n", 200},
      {"tab_separated_value", kHead + "X-A:\tvalue\t\r\nConnection: close\r\n\r\n", 200},
  };
}

class AcceptedRequestTest : public GatewayTest, public ::testing::WithParamInterface<StrictCase> {};

TEST_P(AcceptedRequestTest, IsServed) {
  const auto& c = GetParam();
  ASSERT_TRUE(startGateway(baseConfig()));
  auto resp = roundTrip(port_, c.raw);
  EXPECT_EQ(resp.status, c.status) << resp.body;
  EXPECT_EQ(origin_.requestCount(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Strictness, AcceptedRequestTest, ::testing::ValuesIn(acceptedCases()),
                         [](const ::testing::TestParamInfo<StrictCase>& info) { return info.param.name; });

class StrictnessTest : public GatewayTest {};

TEST_F(StrictnessTest, PipelinedRequestsThenMalformedOne) {
  ASSERT_TRUE(startGateway(baseConfig()));
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  std::string batch = buildRequest("GET", "/api/p/0") + buildRequest("POST", "/api/p/1", {}, "one") +
                      buildRequest("GET", "/api/p/2") + "GET /api/p/bad HTTP/1.1\r\nHost : gw\r\n\r\n" +
                      buildRequest("GET", "/api/p/after");
  ASSERT_TRUE(client.sendAll(batch));
  for (int i = 0; i < 3; ++i) {
    auto resp = client.readResponse(Millis(5000));
    ASSERT_TRUE(resp) << "response " << i;
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->json()["target"], "/api/p/" + std::to_string(i));
  }
  auto bad = client.readResponse(Millis(5000));
  ASSERT_TRUE(bad) << "no 400 after the valid responses";
  EXPECT_EQ(bad->status, 400);
  EXPECT_TRUE(client.waitClosed(Millis(3000)));
  EXPECT_TRUE(client.buffered().empty()) << "the request after the malformed one must not be answered";
  EXPECT_EQ(origin_.requestCount(), 3u);
  EXPECT_TRUE(origin_.requestsTo("/api/p/after").empty());
  EXPECT_TRUE(origin_.requestsTo("/api/p/bad").empty());
}

TEST_F(StrictnessTest, OriginSeesCanonicalRequest) {
  ASSERT_TRUE(startGateway(baseConfig()));
  // An HTTP/1.0 client with lower-case framing: the origin gets a canonical
  // HTTP/1.1 request with the same body.
  auto resp = roundTrip(port_, "POST /api/canon HTTP/1.0\r\nHost: gw\r\ncontent-length: 3\r\n\r\nabc");
  ASSERT_EQ(resp.status, 200);
  auto req = origin_.requests().at(0);
  EXPECT_EQ(req.version, "HTTP/1.1");
  EXPECT_EQ(req.body, "abc");
  EXPECT_FALSE(req.header("content-length") && req.chunked);
}

}  // namespace
}  // namespace isogate::e2e
