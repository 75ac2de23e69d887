#include "runtime/router.h"

#include <cstddef>

namespace isogate {

namespace {

constexpr std::string_view kWildcardTail = "/*";

char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// `lower` is already lower-case (compiled from the config).
bool equalsIgnoreCase(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (asciiLower(text[i]) != lower[i]) return false;
  }
  return true;
}

// Host header value -> bare host: "a.com:8080" -> "a.com", "[::1]:8080" -> "::1".
// An unbracketed value with several colons is not a valid Host; it is left
// as is (and will not match any host-restricted route).
std::string_view hostWithoutPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return host;
    return host.substr(1, close - 1);
  }
  size_t colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) {
    return host.substr(0, colon);
  }
  return host;
}

// Returns how many dots a path segment spells ('.' or "%2e"/"%2E" each count
// as one), or 0 when the segment is anything else.
int dotCount(std::string_view segment) {
  int dots = 0;
  size_t i = 0;
  while (i < segment.size()) {
    if (segment[i] == '.') {
      i += 1;
    } else if (segment[i] == '%' && i + 2 < segment.size() && segment[i + 1] == '2' &&
               (segment[i + 2] == 'e' || segment[i + 2] == 'E')) {
      i += 3;
    } else {
      return 0;
    }
    if (++dots > 2) return 0;
  }
  return dots;
}

// True when the comma-separated list `allow` already holds `method`.
bool allowContains(std::string_view allow, std::string_view method) {
  while (!allow.empty()) {
    size_t comma = allow.find(", ");
    std::string_view item = allow.substr(0, comma);
    if (item == method) return true;
    if (comma == std::string_view::npos) break;
    allow.remove_prefix(comma + 2);
  }
  return false;
}

void appendAllow(std::string* allow, std::string_view method) {
  if (!allow->empty()) allow->append(", ");
  allow->append(method);
}

}  // namespace

Router::Router(const std::vector<RouteConfig>& routes) {
  routes_.reserve(routes.size());
  for (const RouteConfig& config : routes) {
    CompiledRoute route;
    route.methods = config.match.methods;

    if (config.match.host && *config.match.host != "*") {
      std::string_view host = *config.match.host;
      // Config writes IPv6 hosts with or without brackets; compare without.
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      route.host.reserve(host.size());
      for (char c : host) route.host.push_back(asciiLower(c));
    }

    std::string_view pattern = config.match.path;
    bool tail = pattern.ends_with(kWildcardTail);
    std::string_view fixed = tail ? pattern.substr(0, pattern.size() - kWildcardTail.size()) : pattern;
    bool has_params = fixed.starts_with(':') || fixed.find("/:") != std::string_view::npos;

    if (has_params) {
      route.kind = CompiledRoute::Kind::kParams;
      route.prefix_tail = tail;
      // Segments follow the leading '/'; an empty trailing segment (pattern
      // ending in '/') is kept so that it only matches a trailing slash.
      std::string_view rest = fixed.starts_with('/') ? fixed.substr(1) : fixed;
      while (true) {
        size_t slash = rest.find('/');
        std::string_view text = rest.substr(0, slash);
        Segment segment;
        if (text.starts_with(':')) {
          segment.is_param = true;
          segment.text = std::string(text.substr(1));
          ++route.param_count;
        } else {
          segment.text = std::string(text);
        }
        route.segments.push_back(std::move(segment));
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
      }
    } else if (tail) {
      route.kind = CompiledRoute::Kind::kPrefix;
      route.literal = std::string(fixed);  // "" for "/*": matches every path
    } else {
      route.kind = CompiledRoute::Kind::kExact;
      route.literal = std::string(pattern);
    }
    routes_.push_back(std::move(route));
  }
}

bool Router::pathMatches(const CompiledRoute& route, std::string_view path,
                         std::vector<std::pair<std::string, std::string>>* params) const {
  switch (route.kind) {
    case CompiledRoute::Kind::kExact:
      // Byte-exact, as Envoy's `path` match: "/v1/health/" does not match
      // "/v1/health" (a trailing slash may name a different resource upstream).
      return path == route.literal;

    case CompiledRoute::Kind::kPrefix:
      // "/v1/users/*" covers "/v1/users" itself and anything below it, but
      // must stop at a segment boundary so "/v1/usersX" stays out.
      if (!path.starts_with(route.literal)) return false;
      return path.size() == route.literal.size() || path[route.literal.size()] == '/';

    case CompiledRoute::Kind::kParams: {
      if (!path.starts_with('/')) return false;
      std::string_view rest = path.substr(1);
      bool first = true;
      for (const Segment& segment : route.segments) {
        if (!first) {
          // Every segment after the first needs its own '/' in the path.
          if (!rest.starts_with('/')) return false;
          rest.remove_prefix(1);
        }
        first = false;
        size_t slash = rest.find('/');
        std::string_view value = rest.substr(0, slash);
        if (segment.is_param) {
          if (value.empty()) return false;
          if (params) params->emplace_back(segment.text, std::string(value));
        } else if (value != segment.text) {
          return false;
        }
        rest.remove_prefix(value.size());
      }
      // Without a tail the whole path must be used up; with "/*" the rest is
      // either nothing or starts a new segment (same boundary rule as kPrefix).
      return rest.empty() || (route.prefix_tail && rest.front() == '/');
    }
  }
  return false;
}

bool Router::hostMatches(const CompiledRoute& route, std::string_view host) {
  if (route.host.empty()) return true;
  std::string_view want = route.host;
  if (want.starts_with("*.")) {
    // "*.example.com" needs at least one label before ".example.com", so the
    // apex "example.com" does not match; deeper names ("a.b.example.com") do.
    std::string_view suffix = want.substr(1);
    if (host.size() <= suffix.size()) return false;
    return equalsIgnoreCase(host.substr(host.size() - suffix.size()), suffix);
  }
  return equalsIgnoreCase(host, want);
}

bool Router::methodMatches(const CompiledRoute& route, std::string_view method) {
  if (route.methods.empty()) return true;
  for (const std::string& allowed : route.methods) {
    if (allowed == method) return true;
    // A route that serves GET serves HEAD too (RFC 9110 9.3.2).
    if (method == "HEAD" && allowed == "GET") return true;
  }
  return false;
}

RouteMatchResult Router::match(std::string_view method, std::string_view host,
                               std::string_view path) const {
  RouteMatchResult result;
  std::string_view bare_host = hostWithoutPort(host);
  bool path_matched = false;

  for (size_t i = 0; i < routes_.size(); ++i) {
    const CompiledRoute& route = routes_[i];
    if (!hostMatches(route, bare_host) || !pathMatches(route, path, nullptr)) continue;
    if (!methodMatches(route, method)) {
      path_matched = true;
      continue;
    }
    result.kind = RouteMatchResult::Kind::kMatched;
    result.route_index = i;
    if (route.kind == CompiledRoute::Kind::kParams && route.param_count > 0) {
      result.params.reserve(route.param_count);
      pathMatches(route, path, &result.params);
    }
    return result;
  }

  if (!path_matched) return result;  // kNoRoute

  // Error path only: walk the routes again to build Allow. Every route that
  // matches host and path here has a non-empty method list (else it matched).
  bool head_listed = false;
  for (const CompiledRoute& route : routes_) {
    if (!hostMatches(route, bare_host) || !pathMatches(route, path, nullptr)) continue;
    for (const std::string& m : route.methods) head_listed = head_listed || m == "HEAD";
  }
  result.kind = RouteMatchResult::Kind::kMethodNotAllowed;
  for (const CompiledRoute& route : routes_) {
    if (!hostMatches(route, bare_host) || !pathMatches(route, path, nullptr)) continue;
    for (const std::string& m : route.methods) {
      if (allowContains(result.allow, m)) continue;
      appendAllow(&result.allow, m);
      if (m == "GET" && !head_listed) appendAllow(&result.allow, "HEAD");
    }
  }
  return result;
}

bool normalizePath(std::string_view raw_path, std::string* out) {
  if (raw_path.empty() || raw_path.front() != '/') return false;
  if (raw_path.find_first_of(".%") == std::string_view::npos) {
    out->assign(raw_path);
    return true;
  }

  // RFC 3986 5.2.4 remove_dot_segments. The input always starts with '/'
  // here, so only rules B, C and E apply; each step takes one "/segment".
  out->clear();
  out->reserve(raw_path.size());
  std::string_view in = raw_path;
  while (!in.empty()) {
    size_t end = in.find('/', 1);
    std::string_view segment = in.substr(1, end == std::string_view::npos ? std::string_view::npos
                                                                          : end - 1);
    std::string_view rest = end == std::string_view::npos ? std::string_view() : in.substr(end);
    int dots = dotCount(segment);
    if (dots == 0) {
      out->push_back('/');
      out->append(segment);
      in = rest;
      continue;
    }
    if (dots == 2) {
      size_t last = out->rfind('/');
      out->resize(last == std::string::npos ? 0 : last);
    }
    // "/./x" -> "/x" and "/." -> "/": a final dot segment leaves a '/'.
    in = rest.empty() ? std::string_view("/") : rest;
  }
  return true;
}

}  // namespace isogate
