#pragma once
// Maps a request (method, host, path) to the first matching route.
// Built once per Deployment from the config's routes; immutable afterwards,
// so any thread may call match() concurrently.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/config.h"

namespace isogate {

struct RouteMatchResult {
  enum class Kind { kMatched, kNoRoute, kMethodNotAllowed };
  Kind kind = Kind::kNoRoute;
  size_t route_index = 0;  // kMatched: index into the routes given to Router
  // kMatched: values of ":name" segments, in pattern order (still percent-encoded).
  std::vector<std::pair<std::string, std::string>> params;
  // kMethodNotAllowed: value for the Allow header, e.g. "GET, HEAD, POST".
  std::string allow;
};

class Router {
 public:
  explicit Router(const std::vector<RouteConfig>& routes);

  // `path` is a normalised origin-form path without the query (see
  // normalizePath). `host` is the Host header value (port and case are ignored).
  // A route with methods accepts HEAD whenever it accepts GET.
  RouteMatchResult match(std::string_view method, std::string_view host,
                         std::string_view path) const;

 private:
  struct Segment {
    std::string text;  // literal text, or the parameter name
    bool is_param = false;
  };
  struct CompiledRoute {
    enum class Kind { kExact, kPrefix, kParams } kind = Kind::kExact;
    std::string literal;  // kExact: the path; kPrefix: the prefix without "/*"
    std::vector<Segment> segments;  // kParams
    bool prefix_tail = false;       // kParams: pattern ends in "/*"
    size_t param_count = 0;         // kParams
    std::vector<std::string> methods;
    std::string host;  // "" = any; "*.example.com" = wildcard suffix; lower-case
  };
  // `params` may be null (check only); when given it is filled on a match.
  bool pathMatches(const CompiledRoute& route, std::string_view path,
                   std::vector<std::pair<std::string, std::string>>* params) const;
  // `host` is the request's Host with the port and IPv6 brackets removed.
  static bool hostMatches(const CompiledRoute& route, std::string_view host);
  static bool methodMatches(const CompiledRoute& route, std::string_view method);

  std::vector<CompiledRoute> routes_;
};

// Normalises an origin-form path for routing and forwarding: removes dot
// segments (RFC 3986 5.2.4), including percent-encoded ones ("%2e", "%2E"), so
// "/public/../admin" can never match "/public/*". Percent-encoding is otherwise
// kept as sent. Returns false when the path does not start with '/'.
bool normalizePath(std::string_view raw_path, std::string* out);

}  // namespace isogate
