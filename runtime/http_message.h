#pragma once
// HTTP/1.1 message heads as the gateway sees them after parsing, and helpers
// to serialise canonical heads. Plain values: owned by whoever holds them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isogate {

struct Header {
  std::string name;
  std::string value;
};
using HeaderList = std::vector<Header>;

bool equalsIgnoreCase(std::string_view a, std::string_view b);
// First header with this name (case-insensitive), or nullptr.
const Header* findHeader(const HeaderList& headers, std::string_view name);
// Whether a comma-separated header value (e.g. Connection) contains `token`.
bool headerHasToken(std::string_view value, std::string_view token);
// Hop-by-hop headers (RFC 9110 7.6.1) plus those named in `connection`.
bool isHopByHop(std::string_view name, std::string_view connection);

struct RequestHead {
  std::string method;   // upper-case token as sent
  std::string target;   // request-target as sent
  std::string path;     // target's path (origin-form), without the query
  std::string query;    // "" or "?a=b"
  uint8_t version_minor = 1;  // HTTP/1.x
  HeaderList headers;
  std::string host;     // the Host header value ("" for HTTP/1.0 without Host)
  std::optional<uint64_t> content_length;
  bool chunked = false;
  bool keep_alive = true;
  bool expect_continue = false;
  bool hasBody() const { return chunked || content_length.value_or(0) > 0; }
};

struct ResponseHead {
  int status = 200;
  std::string reason;  // "" = the standard phrase
  HeaderList headers;  // end-to-end headers only; framing is added on serialisation
};

const char* reasonPhrase(int status);

// How a body is delimited on the wire.
enum class BodyFraming { kNone, kContentLength, kChunked, kUntilClose };

// Appends "HTTP/1.1 status reason\r\n" and the headers, not the final CRLF.
void appendStatusLine(std::string& out, int status, std::string_view reason);
// The body of an error the gateway itself answers with (any protocol):
// {"error": code, "message": message, "request_id": id}.
std::string jsonErrorBody(std::string_view code, std::string_view message, std::string_view request_id);
void appendHeader(std::string& out, std::string_view name, std::string_view value);

}  // namespace isogate
