// RequestParser: strict RFC 9112 framing on top of llhttp.
#include "runtime/request_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace isogate {
namespace {

struct Recorder : RequestParserDelegate {
  std::vector<RequestHead> heads;
  std::string body;
  int completes = 0;
  void onRequestHead(RequestHead&& head) override { heads.push_back(std::move(head)); }
  void onRequestBody(const char* data, size_t len) override { body.append(data, len); }
  void onRequestComplete() override { ++completes; }
};

struct Outcome {
  RequestParser::Status status;
  int error_status = 0;
  size_t consumed = 0;
};

Outcome parse(Recorder& r, const std::string& input, size_t max_head = 1024, uint64_t max_body = 1024) {
  RequestParser parser(r, max_head, max_body);
  Outcome o;
  o.status = parser.feed(input.data(), input.size(), &o.consumed);
  if (o.status == RequestParser::Status::kError) o.error_status = parser.error().status;
  return o;
}

int errorFor(const std::string& input, size_t max_head = 1024, uint64_t max_body = 1024) {
  Recorder r;
  Outcome o = parse(r, input, max_head, max_body);
  return o.status == RequestParser::Status::kError ? o.error_status : 0;
}

TEST(RequestParser, ParsesASimpleGet) {
  Recorder r;
  Outcome o = parse(r, "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n");
  ASSERT_EQ(o.status, RequestParser::Status::kMessageComplete);
  ASSERT_EQ(r.heads.size(), 1u);
  EXPECT_EQ(r.heads[0].method, "GET");
  EXPECT_EQ(r.heads[0].path, "/a/b");
  EXPECT_EQ(r.heads[0].query, "?x=1");
  EXPECT_EQ(r.heads[0].host, "example.com");
  EXPECT_TRUE(r.heads[0].keep_alive);
  EXPECT_EQ(r.completes, 1);
}

TEST(RequestParser, StopsAfterEachPipelinedMessage) {
  Recorder r;
  RequestParser parser(r, 1024, 1024);
  std::string input =
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
      "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n";
  size_t offset = 0;
  int messages = 0;
  while (offset < input.size()) {
    size_t consumed = 0;
    auto status = parser.feed(input.data() + offset, input.size() - offset, &consumed);
    ASSERT_EQ(status, RequestParser::Status::kMessageComplete);
    offset += consumed;
    ++messages;
  }
  EXPECT_EQ(messages, 3);
  ASSERT_EQ(r.heads.size(), 3u);
  EXPECT_EQ(r.heads[2].path, "/3");
  EXPECT_EQ(r.body, "abc");
}

TEST(RequestParser, DecodesChunkedBodies) {
  Recorder r;
  Outcome o = parse(r,
                    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n");
  ASSERT_EQ(o.status, RequestParser::Status::kMessageComplete);
  EXPECT_EQ(r.body, "abcde");
  EXPECT_TRUE(r.heads[0].chunked);
}

TEST(RequestParser, AcceptsIncrementalInputByteByByte) {
  Recorder r;
  RequestParser parser(r, 1024, 1024);
  std::string input = "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi";
  RequestParser::Status last = RequestParser::Status::kNeedMore;
  for (char c : input) {
    size_t consumed = 0;
    last = parser.feed(&c, 1, &consumed);
    ASSERT_NE(last, RequestParser::Status::kError) << parser.error().message;
  }
  EXPECT_EQ(last, RequestParser::Status::kMessageComplete);
  EXPECT_EQ(r.body, "hi");
}

TEST(RequestParser, RejectsSmugglingVectors) {
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"), 400);
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"), 400);
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc"), 400);
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc"), 400);
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n"), 400);
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"), 400);
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n"), 400);
  // Chunk data not followed by CRLF (llhttp 8 alone accepts this).
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n"), 400);
  // Control bytes in a chunk extension, bare LF after the last chunk.
  EXPECT_EQ(errorFor(std::string("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\x01\r\nabc\r\n0\r\n\r\n")), 400);
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\n"), 400);
  // Trailers are allowed.
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"), 0);
}

TEST(RequestParser, RejectsMalformedHeads) {
  EXPECT_EQ(errorFor("GET / HTTP/1.1\nHost: a\n\n"), 400);                 // bare LF
  EXPECT_EQ(errorFor("GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n"), 400);      // bare CR
  EXPECT_EQ(errorFor("GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n z\r\n\r\n"), 400);  // obs-fold
  EXPECT_EQ(errorFor(std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 36)), 400);
  EXPECT_EQ(errorFor("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);          // space before colon
  EXPECT_EQ(errorFor("GET / HTTP/1.1\r\n\r\n"), 400);                        // missing Host
  EXPECT_EQ(errorFor("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);  // repeated Host
  EXPECT_EQ(errorFor("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
  EXPECT_EQ(errorFor("GET / HTTP/3.0\r\nHost: a\r\n\r\n"), 505);
  EXPECT_EQ(errorFor("GET / HTTP/1.0\r\n\r\n"), 0);  // HTTP/1.0 needs no Host
}

TEST(RequestParser, EnforcesSizeLimits) {
  EXPECT_EQ(errorFor("GET /" + std::string(200, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 100), 414);
  EXPECT_EQ(errorFor("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(200, 'a') + "\r\n\r\n", 100), 431);
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n", 1024, 1000), 413);
  EXPECT_EQ(errorFor("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "400\r\n" + std::string(1024, 'x') + "\r\n400\r\n" + std::string(1024, 'x') + "\r\n",
                     1024, 1500),
            413);
}

TEST(RequestParser, SkipsALeadingEmptyLine) {
  Recorder r;
  Outcome o = parse(r, "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(o.status, RequestParser::Status::kMessageComplete);
}

TEST(RequestParser, TakesTheHostFromAnAbsoluteFormTarget) {
  Recorder r;
  Outcome o = parse(r, "GET http://Upstream.example:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n");
  ASSERT_EQ(o.status, RequestParser::Status::kMessageComplete);
  EXPECT_EQ(r.heads[0].host, "Upstream.example:8080");
  EXPECT_EQ(r.heads[0].path, "/p");
  EXPECT_EQ(r.heads[0].query, "?q");
}

}  // namespace
}  // namespace isogate
