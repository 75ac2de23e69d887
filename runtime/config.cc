#include "runtime/config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "crypto/jwks.h"

namespace isogate {

namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------
// Errors with a JSON path.
//
// A parser throws PathError with a path relative to the value it was handed
// (often empty); atKey/atIndex prepend one segment each on the way out, so no
// parser needs to know where it sits in the document. parseConfig turns the
// final PathError into a ConfigError.

class PathError : public std::exception {
 public:
  PathError(std::string path, std::string message)
      : path_(std::move(path)), message_(std::move(message)) {}

  const std::string& path() const { return path_; }
  const char* what() const noexcept override { return message_.c_str(); }

  // `segment` is a key ("limits", "proxy.origin") or an index ("[3]").
  void prepend(const std::string& segment) {
    bool glued = path_.empty() || path_.front() == '[';
    path_ = segment + (glued ? "" : ".") + path_;
  }

 private:
  std::string path_;
  std::string message_;
};

[[noreturn]] void fail(std::string message) { throw PathError("", std::move(message)); }

template <typename Parse>
void within(const std::string& segment, Parse&& parse) {
  try {
    parse();
  } catch (PathError& error) {
    error.prepend(segment);
    throw;
  }
}

template <typename Parse>
void atKey(const std::string& key, Parse&& parse) {
  within(key, parse);
}

template <typename Parse>
void atIndex(size_t index, Parse&& parse) {
  within("[" + std::to_string(index) + "]", parse);
}

std::string inQuotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// ---------------------------------------------------------------------------
// Small text checks.

bool isAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::string lowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string upperAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// [A-Za-z_<extra>][A-Za-z0-9_<extra>]*: environment variables and path
// parameters (extra ""), JavaScript identifiers (extra "$").
bool isIdentifier(std::string_view text, std::string_view extra = "") {
  if (text.empty() || isDigit(text.front())) return false;
  return std::all_of(text.begin(), text.end(), [&](char c) {
    return isAlpha(c) || isDigit(c) || c == '_' || extra.find(c) != std::string_view::npos;
  });
}

bool isOriginName(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return isAlpha(c) || isDigit(c) || c == '_' || c == '-';
  });
}

// RFC 9110 token (method names).
bool isToken(std::string_view text) {
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return isAlpha(c) || isDigit(c) || kSymbols.find(c) != std::string_view::npos;
  });
}

bool hasSpaceOrControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

// Dot-separated labels of letters, digits, '-' and '_' (IPv4 literals pass too).
bool isHostName(std::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.' ||
      text.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return isAlpha(c) || isDigit(c) || c == '-' || c == '_' || c == '.';
  });
}

bool isIpv4(const std::string& text) {
  in_addr address;
  return inet_pton(AF_INET, text.c_str(), &address) == 1;
}

// The canonical text of an IPv6 literal (no brackets), or nullopt.
std::optional<std::string> canonicalIpv6(const std::string& text) {
  in6_addr address;
  if (inet_pton(AF_INET6, text.c_str(), &address) != 1) return std::nullopt;
  char buffer[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &address, buffer, sizeof buffer);
  return std::string(buffer);
}

std::optional<uint16_t> parsePort(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  uint32_t port = 0;
  for (char c : text) {
    if (!isDigit(c)) return std::nullopt;
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

// "host", "host:port", "[v6]" or "[v6]:port", split without judging the parts.
struct HostPort {
  std::string host;
  bool bracketed = false;
  std::optional<std::string> port;
};

HostPort splitHostPort(std::string_view text) {
  HostPort out;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("missing ']' after an IPv6 address");
    out.host = std::string(text.substr(1, close - 1));
    out.bracketed = true;
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return out;
    if (rest.front() != ':') throw std::invalid_argument("expected ':' after ']'");
    out.port = std::string(rest.substr(1));
    return out;
  }
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    out.host = std::string(text);
    return out;
  }
  if (text.find(':', colon + 1) != std::string_view::npos) {
    throw std::invalid_argument("IPv6 addresses need brackets, as in \"[::1]:8080\"");
  }
  out.host = std::string(text.substr(0, colon));
  out.port = std::string(text.substr(colon + 1));
  return out;
}

uint16_t defaultPort(const std::string& scheme) { return scheme == "https" ? 443 : 80; }

// An absolute http(s) URL; base_path is the path exactly as written ("" or
// starting with '/'). parseOriginUrl and egress prefixes build on it.
OriginUrl parseHttpUrl(std::string_view text) {
  if (hasSpaceOrControl(text)) throw std::invalid_argument("must not contain spaces or control characters");
  size_t separator = text.find("://");
  if (separator == std::string_view::npos) {
    throw std::invalid_argument("expected an absolute http:// or https:// URL");
  }
  OriginUrl url;
  url.scheme = lowerAscii(text.substr(0, separator));
  if (url.scheme != "http" && url.scheme != "https") throw std::invalid_argument("scheme must be http or https");

  std::string_view rest = text.substr(separator + 3);
  size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (path.find_first_of("?#") != std::string_view::npos) {
    throw std::invalid_argument("a query or fragment is not allowed");
  }
  if (authority.find('@') != std::string_view::npos) throw std::invalid_argument("user info is not allowed");

  HostPort parts = splitHostPort(authority);
  if (parts.bracketed) {
    std::optional<std::string> v6 = canonicalIpv6(parts.host);
    if (!v6) throw std::invalid_argument("invalid IPv6 address");
    url.host = *v6;
  } else if (parts.host.empty()) {
    throw std::invalid_argument("missing host");
  } else if (isHostName(parts.host)) {
    url.host = lowerAscii(parts.host);
  } else {
    throw std::invalid_argument("invalid host " + inQuotes(parts.host));
  }

  url.port = defaultPort(url.scheme);
  if (parts.port) {
    std::optional<uint16_t> port = parsePort(*parts.port);
    if (!port || *port == 0) throw std::invalid_argument("port must be a number from 1 to 65535");
    url.port = *port;
  }
  url.base_path = std::string(path);
  return url;
}

// ---------------------------------------------------------------------------
// Generic readers. Each reads one JSON value into a typed field and throws
// PathError (relative to that value) when it does not fit.

// Checks that `value` is an object whose keys are all in `known`.
void expectKeys(const json& value, std::initializer_list<std::string_view> known) {
  if (!value.is_object()) fail("expected an object");
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) throw PathError(it.key(), "unknown key");
  }
}

// Calls read(object[key]) when the key is present; errors are placed under it.
template <typename Read>
bool readField(const json& object, const std::string& key, Read&& read) {
  auto it = object.find(key);
  if (it == object.end()) return false;
  atKey(key, [&] { read(*it); });
  return true;
}

template <typename Read>
void requireField(const json& object, const std::string& key, Read&& read) {
  if (!readField(object, key, read)) throw PathError(key, "missing required key");
}

template <typename Read>
void readEach(const json& value, Read&& read) {
  if (!value.is_array()) fail("expected an array");
  for (size_t i = 0; i < value.size(); ++i) atIndex(i, [&] { read(value[i]); });
}

template <typename Read>
void readEntries(const json& value, Read&& read) {
  if (!value.is_object()) fail("expected an object");
  for (auto it = value.begin(); it != value.end(); ++it) atKey(it.key(), [&] { read(it.key(), it.value()); });
}

template <typename T>
void readInteger(const json& value, T* out, bool positive) {
  static_assert(std::is_unsigned_v<T>);
  // nlohmann stores every non-negative integer literal as unsigned; floats,
  // negatives and non-numbers all land here.
  if (!value.is_number_unsigned()) {
    fail(positive ? "expected a positive integer" : "expected a non-negative integer");
  }
  uint64_t number = value.get<uint64_t>();
  if (number > std::numeric_limits<T>::max()) {
    fail("must be at most " + std::to_string(std::numeric_limits<T>::max()));
  }
  if (positive && number == 0) fail("must be greater than 0");
  *out = static_cast<T>(number);
}

void readValue(const json& value, uint32_t* out) { readInteger(value, out, false); }

void readValue(const json& value, bool* out) {
  if (!value.is_boolean()) fail("expected true or false");
  *out = value.get<bool>();
}

void readValue(const json& value, std::string* out) {
  if (!value.is_string()) fail("expected a string");
  *out = value.get<std::string>();
  if (out->empty()) fail("must not be empty");
}

// Typed structs; defined below, declared here so the templates can see them.
void from_json(const json& j, ListenAddress& out);
void from_json(const json& j, Limits& out);
void from_json(const json& j, AdminConfig& out);
void from_json(const json& j, KvConfig& out);
void from_json(const json& j, CacheConfig& out);
void from_json(const json& j, CircuitBreakerConfig& out);
void from_json(const json& j, HealthCheckConfig& out);
void from_json(const json& j, OriginConfig& out);
void from_json(const json& j, TlsCertificateConfig& out);
void from_json(const json& j, TlsConfig& out);
void from_json(const json& j, RouteMatch& out);
void from_json(const json& j, ProxyAction& out);
void from_json(const json& j, RouteCacheConfig& out);
void from_json(const json& j, JwtBindingConfig& out);
void from_json(const json& j, RateLimitBindingConfig& out);
void from_json(const json& j, BindingConfig& out);
void from_json(const json& j, RouteConfig& out);
void from_json(const json& j, Config& out);

template <typename T>
void readValue(const json& value, T* out) {
  from_json(value, *out);
}

template <typename T>
void readValue(const json& value, std::optional<T>* out) {
  readValue(value, &out->emplace());
}

template <typename T>
void readValue(const json& value, std::vector<T>* out) {
  out->clear();
  readEach(value, [&](const json& item) { readValue(item, &out->emplace_back()); });
}

// Readers to hand to readField/requireField.
template <typename T>
auto into(T* out) {
  return [out](const json& value) { readValue(value, out); };
}

template <typename T>
auto positiveInto(T* out) {
  return [out](const json& value) { readInteger(value, out, true); };
}

auto envNameInto(std::string* out) {
  return [out](const json& value) {
    readValue(value, out);
    if (!isIdentifier(*out)) fail("expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
  };
}

auto absolutePathInto(std::string* out) {
  return [out](const json& value) {
    readValue(value, out);
    if (!out->starts_with('/')) fail("must start with '/'");
  };
}

// ---------------------------------------------------------------------------
// Top level, limits, admin, storage.

void from_json(const json& j, ListenAddress& out) {
  std::string text;
  readValue(j, &text);
  try {
    out = parseListenAddress(text);
  } catch (const std::invalid_argument& error) {
    fail("invalid address " + inQuotes(text) + ": " + error.what());
  }
}

void from_json(const json& j, Limits& out) {
  expectKeys(j, {"cpu_ms", "memory_mb", "wall_ms", "startup_ms", "subrequests", "header_bytes", "body_bytes",
                 "header_timeout_ms", "idle_timeout_ms"});
  readField(j, "cpu_ms", positiveInto(&out.cpu_ms));
  readField(j, "memory_mb", positiveInto(&out.memory_mb));
  readField(j, "wall_ms", positiveInto(&out.wall_ms));
  readField(j, "startup_ms", positiveInto(&out.startup_ms));
  readField(j, "subrequests", into(&out.subrequests));  // 0: scripts may not fetch
  readField(j, "header_bytes", positiveInto(&out.header_bytes));
  readField(j, "body_bytes", positiveInto(&out.body_bytes));
  readField(j, "header_timeout_ms", positiveInto(&out.header_timeout_ms));
  readField(j, "idle_timeout_ms", positiveInto(&out.idle_timeout_ms));
}

void from_json(const json& j, AdminConfig& out) {
  expectKeys(j, {"listen", "token_env"});
  readField(j, "listen", into(&out.listen));
  readField(j, "token_env", envNameInto(&out.token_env));
}

void from_json(const json& j, KvConfig& out) {
  expectKeys(j, {"path", "map_size_mb", "sync"});
  readField(j, "path", into(&out.path));
  readField(j, "map_size_mb", positiveInto(&out.map_size_mb));
  readField(j, "sync", into(&out.sync));
}

void from_json(const json& j, CacheConfig& out) {
  expectKeys(j, {"max_mb"});
  readField(j, "max_mb", into(&out.max_mb));  // 0: no response cache
}

// Stored normalised (see Config::egress) so that a prefix without a path
// cannot match a longer host name.
std::string egressPrefix(const json& value) {
  std::string text;
  readValue(value, &text);
  try {
    OriginUrl url = parseHttpUrl(text);
    return url.scheme + "://" + url.authority() + (url.base_path.empty() ? "/" : url.base_path);
  } catch (const std::invalid_argument& error) {
    fail("invalid URL " + inQuotes(text) + ": " + error.what());
  }
}

// ---------------------------------------------------------------------------
// Origins.

void from_json(const json& j, CircuitBreakerConfig& out) {
  expectKeys(j, {"failures", "cooldown_ms"});
  readField(j, "failures", positiveInto(&out.failures));
  readField(j, "cooldown_ms", positiveInto(&out.cooldown_ms));
}

void from_json(const json& j, HealthCheckConfig& out) {
  expectKeys(j, {"path", "interval_ms", "healthy_threshold", "unhealthy_threshold"});
  readField(j, "path", absolutePathInto(&out.path));
  readField(j, "interval_ms", positiveInto(&out.interval_ms));
  readField(j, "healthy_threshold", positiveInto(&out.healthy_threshold));
  readField(j, "unhealthy_threshold", positiveInto(&out.unhealthy_threshold));
}

OriginUrl originUrl(const std::string& text) {
  try {
    return parseOriginUrl(text);
  } catch (const std::invalid_argument& error) {
    fail("invalid URL " + inQuotes(text) + ": " + error.what());
  }
}

// "url": one URL, or a list of addresses of the same service (replicas).
// Requests carry the same bytes to each of them (the first URL's Host, one
// base path), so a retry on another address needs no re-serialisation.
void readOriginUrls(const json& value, OriginConfig* out) {
  if (value.is_string()) {
    readValue(value, &out->url);
    out->parsed = originUrl(out->url);
    out->addresses = {out->parsed};
    return;
  }
  if (!value.is_array()) fail("expected a URL string or an array of URL strings");
  if (value.empty()) fail("must not be empty");
  if (value.size() > kMaxOriginAddresses) fail("at most " + std::to_string(kMaxOriginAddresses) + " URLs");
  readEach(value, [&](const json& item) {
    std::string text;
    readValue(item, &text);
    OriginUrl url = originUrl(text);
    if (out->addresses.empty()) {
      out->url = text;
      out->parsed = url;
    } else {
      const OriginUrl& first = out->parsed;
      if (url.scheme != first.scheme) fail("must have the same scheme as url[0] (" + inQuotes(first.scheme) + ")");
      if (url.base_path != first.base_path) {
        fail("must have the same base path as url[0] (" + inQuotes(first.base_path) + ")");
      }
      for (const OriginUrl& seen : out->addresses) {
        if (seen.host == url.host && seen.port == url.port) fail("duplicate address " + inQuotes(url.authority()));
      }
    }
    out->addresses.push_back(std::move(url));
  });
}

void from_json(const json& j, OriginConfig& out) {
  expectKeys(j, {"url", "connect_timeout_ms", "timeout_ms", "max_connections", "retries", "circuit_breaker",
                 "health_check", "ca", "tls_verify"});
  requireField(j, "url", [&](const json& value) { readOriginUrls(value, &out); });
  readField(j, "connect_timeout_ms", positiveInto(&out.connect_timeout_ms));
  readField(j, "timeout_ms", positiveInto(&out.timeout_ms));
  readField(j, "max_connections", positiveInto(&out.max_connections));
  readField(j, "retries", into(&out.retries));
  readField(j, "circuit_breaker", into(&out.circuit_breaker));
  readField(j, "health_check", into(&out.health_check));
  readField(j, "ca", into(&out.ca));
  readField(j, "tls_verify", into(&out.tls_verify));
  if (out.parsed.scheme != "https") {
    if (out.ca) atKey("ca", [] { fail("only https:// origins use a CA file"); });
    if (!out.tls_verify) atKey("tls_verify", [] { fail("only https:// origins verify certificates"); });
  }
}

// ---------------------------------------------------------------------------
// TLS listener.

void from_json(const json& j, TlsCertificateConfig& out) {
  expectKeys(j, {"cert", "key"});
  requireField(j, "cert", into(&out.cert));
  requireField(j, "key", into(&out.key));
}

void from_json(const json& j, TlsConfig& out) {
  expectKeys(j, {"listen", "certificates", "min_version"});
  requireField(j, "listen", [&](const json& value) {
    readValue(value, &out.listen);
    if (out.listen.empty()) fail("must not be empty");
  });
  requireField(j, "certificates", [&](const json& value) {
    readValue(value, &out.certificates);
    if (out.certificates.empty()) fail("must not be empty");
  });
  readField(j, "min_version", [&](const json& value) {
    readValue(value, &out.min_version);
    if (out.min_version != "1.2" && out.min_version != "1.3") fail("expected \"1.2\" or \"1.3\"");
  });
}

void readOrigins(const json& value, std::map<std::string, OriginConfig>* out) {
  readEntries(value, [&](const std::string& name, const json& item) {
    if (!isOriginName(name)) fail("origin names may only contain letters, digits, '_' and '-'");
    OriginConfig origin;
    from_json(item, origin);
    origin.name = name;
    (*out)[name] = std::move(origin);
  });
}

// ---------------------------------------------------------------------------
// Route match.

// "/exact", "/prefix/*", "/users/:id", "/users/:id/*".
void checkRoutePath(const std::string& path) {
  if (!path.starts_with('/')) fail("must start with '/'");
  if (hasSpaceOrControl(path) || path.find_first_of("?#") != std::string::npos) {
    fail("must not contain spaces, control characters, '?' or '#'");
  }
  std::set<std::string_view> params;
  std::string_view rest = std::string_view(path).substr(1);
  while (true) {
    size_t slash = rest.find('/');
    bool last = slash == std::string_view::npos;
    std::string_view segment = rest.substr(0, slash);
    if (segment.find('*') != std::string_view::npos && !(last && segment == "*")) {
      fail("'*' is only allowed as the whole last segment (\"/prefix/*\")");
    }
    if (segment.empty() && !last) fail("empty path segment (\"//\")");
    if (segment == "." || segment == "..") fail("dot segments never match (request paths are normalised)");
    if (segment.starts_with(':')) {
      std::string_view name = segment.substr(1);
      if (!isIdentifier(name)) fail("parameter names must match [A-Za-z_][A-Za-z0-9_]*: " + inQuotes(segment));
      if (!params.insert(name).second) fail("duplicate parameter " + inQuotes(segment));
    }
    if (last) break;
    rest.remove_prefix(slash + 1);
  }
}

void readMethods(const json& value, std::vector<std::string>* out) {
  out->clear();
  readEach(value, [&](const json& item) {
    std::string method;
    readValue(item, &method);
    if (!isToken(method)) fail("invalid method " + inQuotes(method));
    method = upperAscii(method);
    if (std::find(out->begin(), out->end(), method) != out->end()) fail("duplicate method " + inQuotes(method));
    out->push_back(std::move(method));
  });
  if (out->empty()) fail("must not be empty (leave \"methods\" out to allow any method)");
}

// Exact name, "*.suffix", or an IP literal; stored lower-case, IPv6 without
// brackets. "*" alone means any host and is stored as no restriction.
std::optional<std::string> routeHost(const json& value) {
  std::string host;
  readValue(value, &host);
  host = lowerAscii(host);
  if (host == "*") return std::nullopt;
  std::string inner = host.size() > 2 && host.front() == '[' && host.back() == ']'
                          ? host.substr(1, host.size() - 2)
                          : host;
  if (std::optional<std::string> v6 = canonicalIpv6(inner)) return v6;
  std::string_view name = host;
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (!isHostName(name)) fail("expected a host name, \"*.suffix\" or an IP address, without a port");
  return host;
}

void from_json(const json& j, RouteMatch& out) {
  expectKeys(j, {"path", "methods", "host"});
  requireField(j, "path", [&](const json& value) {
    readValue(value, &out.path);
    checkRoutePath(out.path);
  });
  readField(j, "methods", [&](const json& value) { readMethods(value, &out.methods); });
  readField(j, "host", [&](const json& value) { out.host = routeHost(value); });
}

// ---------------------------------------------------------------------------
// Route actions.

void from_json(const json& j, ProxyAction& out) {
  expectKeys(j, {"origin", "strip_prefix"});
  requireField(j, "origin", into(&out.origin));
  readField(j, "strip_prefix", [&](const json& value) {
    absolutePathInto(&out.strip_prefix)(value);
    while (out.strip_prefix.ends_with('/')) out.strip_prefix.pop_back();
  });
}

void from_json(const json& j, RouteCacheConfig& out) {
  expectKeys(j, {"ttl_s"});
  readField(j, "ttl_s", into(&out.ttl_s));
}

// ---------------------------------------------------------------------------
// Bindings.

constexpr std::string_view kJwtAlgorithms[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
                                               "ES384", "EdDSA", "HS256", "HS384", "HS512"};

void readAlgorithms(const json& value, std::vector<std::string>* out) {
  readValue(value, out);
  if (out->empty()) fail("must not be empty");
  for (size_t i = 0; i < out->size(); ++i) {
    atIndex(i, [&] {
      const std::string& algorithm = (*out)[i];
      if (lowerAscii(algorithm) == "none") fail("\"none\" is not allowed: it accepts unsigned tokens");
      if (std::find(std::begin(kJwtAlgorithms), std::end(kJwtAlgorithms), algorithm) == std::end(kJwtAlgorithms)) {
        fail("unknown algorithm " + inQuotes(algorithm) +
             "; expected RS256/384/512, PS256/384/512, ES256/384, EdDSA or HS256/384/512");
      }
      if (std::find(out->begin(), out->begin() + i, algorithm) != out->begin() + i) {
        fail("duplicate algorithm " + inQuotes(algorithm));
      }
    });
  }
}

// HMAC keys come from `secret`, public keys from a JWKS; mixing them is the
// classic algorithm-confusion hole, so each algorithm must fit the key source.
void checkAlgorithmsFitKeys(const JwtBindingConfig& jwt) {
  bool has_secret = jwt.secret_env.has_value();
  for (size_t i = 0; i < jwt.algorithms.size(); ++i) {
    bool hmac = jwt.algorithms[i].starts_with("HS");
    if (hmac == has_secret) continue;
    atKey("algorithms", [&] {
      atIndex(i, [&] {
        fail(hmac ? jwt.algorithms[i] + " needs \"secret\" (an HMAC key), not a JWKS"
                  : jwt.algorithms[i] + " needs a public key from \"jwks_url\" or \"jwks_file\", not \"secret\"");
      });
    });
  }
}

void from_json(const json& j, JwtBindingConfig& out) {
  expectKeys(j, {"type", "algorithms", "jwks_url", "jwks_file", "secret", "issuer", "audience", "clock_skew_s",
                 "required_claims"});
  requireField(j, "algorithms", [&](const json& value) { readAlgorithms(value, &out.algorithms); });
  readField(j, "jwks_url", [&](const json& value) {
    std::string url;
    readValue(value, &url);
    try {
      parseHttpUrl(url.substr(0, url.find('?')));  // a query is fine here
    } catch (const std::invalid_argument& error) {
      fail("invalid URL " + inQuotes(url) + ": " + error.what());
    }
    out.jwks_url = url;
  });
  readField(j, "jwks_file", into(&out.jwks_file));
  // The HMAC key: an environment variable name, the name of a secret
  // binding of the same route (resolved later), or an inline secret binding.
  readField(j, "secret", [&](const json& value) {
    if (value.is_object()) {
      expectKeys(value, {"type", "env"});
      std::string type;
      requireField(value, "type", into(&type));
      if (type != "secret") atKey("type", [] { fail("expected \"secret\""); });
      requireField(value, "env", envNameInto(&out.secret_env.emplace()));
      return;
    }
    envNameInto(&out.secret_env.emplace())(value);
  });
  if (out.jwks_url.has_value() + out.jwks_file.has_value() + out.secret_env.has_value() != 1) {
    fail("needs exactly one key source: \"jwks_url\", \"jwks_file\" or \"secret\"");
  }
  checkAlgorithmsFitKeys(out);
  readField(j, "issuer", into(&out.issuer));
  readField(j, "audience", [&](const json& value) {
    if (value.is_string()) {
      out.audience.assign(1, std::string());
      readValue(value, &out.audience.front());
      return;
    }
    if (!value.is_array()) fail("expected a string or an array of strings");
    readValue(value, &out.audience);
    if (out.audience.empty()) fail("must not be empty");
  });
  readField(j, "clock_skew_s", into(&out.clock_skew_s));
  readField(j, "required_claims", into(&out.required_claims));
}

void from_json(const json& j, RateLimitBindingConfig& out) {
  expectKeys(j, {"type", "limit", "period", "algorithm"});
  requireField(j, "limit", positiveInto(&out.limit));
  requireField(j, "period", positiveInto(&out.period_s));
  readField(j, "algorithm", [&](const json& value) {
    readValue(value, &out.algorithm);
    if (out.algorithm != "sliding" && out.algorithm != "fixed") fail("expected \"sliding\" or \"fixed\"");
  });
}

// An object with a "type" key is a typed binding; any other value is a plain
// one, handed to the script as JSON. `name` is set by the caller.
void from_json(const json& j, BindingConfig& out) {
  using Type = BindingConfig::Type;
  if (!j.is_object() || !j.contains("type")) {
    out.type = Type::kPlain;
    out.plain_json = j.dump();
    return;
  }
  std::string type;
  requireField(j, "type", into(&type));
  if (type == "secret") {
    out.type = Type::kSecret;
    expectKeys(j, {"type", "env"});
    requireField(j, "env", envNameInto(&out.secret_env));
  } else if (type == "origin") {
    out.type = Type::kOrigin;
    expectKeys(j, {"type", "origin"});
    requireField(j, "origin", into(&out.origin));
  } else if (type == "jwt") {
    out.type = Type::kJwt;
    from_json(j, out.jwt);
  } else if (type == "ratelimit") {
    out.type = Type::kRateLimit;
    from_json(j, out.ratelimit);
  } else if (type == "kv") {
    out.type = Type::kKv;
    expectKeys(j, {"type", "namespace"});
    requireField(j, "namespace", into(&out.kv_namespace));
  } else {
    throw PathError("type", "unknown binding type " + inQuotes(type) +
                                "; expected secret, origin, jwt, ratelimit or kv");
  }
}

void readBindings(const json& value, std::vector<BindingConfig>* out) {
  readEntries(value, [&](const std::string& name, const json& item) {
    if (!isIdentifier(name, "$")) fail("binding names must be JavaScript identifiers");
    BindingConfig binding;
    from_json(item, binding);
    binding.name = name;
    out->push_back(std::move(binding));
  });
}

// ---------------------------------------------------------------------------
// Routes and the whole file.

void from_json(const json& j, RouteConfig& out) {
  expectKeys(j, {"name", "match", "script", "proxy", "cache", "bindings"});
  requireField(j, "match", into(&out.match));
  if (!readField(j, "name", into(&out.name))) out.name = out.match.path;
  readField(j, "script", into(&out.script));
  readField(j, "proxy", into(&out.proxy));
  if (out.script && out.proxy) fail("a route has either \"script\" or \"proxy\", not both");
  if (!out.script && !out.proxy) fail("a route needs \"script\" or \"proxy\"");
  readField(j, "cache", into(&out.cache));
  readField(j, "bindings", [&](const json& value) {
    if (out.proxy) fail("only script routes have bindings");
    readBindings(value, &out.bindings);
  });
}

void from_json(const json& j, Config& out) {
  expectKeys(j, {"listen", "tls", "admin", "workers", "shutdown_grace_ms", "limits", "egress", "kv", "cache",
                 "origins", "routes"});
  readField(j, "listen", [&](const json& value) {
    readValue(value, &out.listen);
    if (out.listen.empty()) fail("must not be empty");
  });
  readField(j, "tls", [&](const json& value) {
    if (!value.is_null()) readValue(value, &out.tls);
  });
  readField(j, "admin", into(&out.admin));
  readField(j, "workers", into(&out.workers));
  readField(j, "shutdown_grace_ms", into(&out.shutdown_grace_ms));
  readField(j, "limits", into(&out.limits));
  readField(j, "egress", [&](const json& value) {
    readEach(value, [&](const json& item) { out.egress.push_back(egressPrefix(item)); });
  });
  readField(j, "kv", into(&out.kv));
  readField(j, "cache", into(&out.cache));
  readField(j, "origins", [&](const json& value) { readOrigins(value, &out.origins); });
  readField(j, "routes", into(&out.routes));
}

// ---------------------------------------------------------------------------
// Second pass: cross-references and files, once every section is parsed.

std::string errnoText(int error) { return std::generic_category().message(error); }

std::string absolutePath(const std::string& dir, const std::string& path) {
  std::filesystem::path written(path);
  return (written.is_absolute() ? written : std::filesystem::path(dir) / written).lexically_normal().string();
}

// `written` resolved against the config directory; must be a readable file.
std::string readableFile(const std::string& dir, const std::string& written) {
  std::string path = absolutePath(dir, written);
  struct stat info;
  if (::stat(path.c_str(), &info) != 0 || ::access(path.c_str(), R_OK) != 0) {
    fail("cannot read " + inQuotes(written) + ": " + errnoText(errno));
  }
  if (!S_ISREG(info.st_mode)) fail("cannot read " + inQuotes(written) + ": not a regular file");
  return path;
}

void requireOrigin(const Config& config, const std::string& name) {
  if (!config.origins.contains(name)) fail("unknown origin " + inQuotes(name));
}

std::string readFile(const std::string& file);

void resolveBinding(const Config& config, const RouteConfig& route, BindingConfig* binding) {
  if (binding->type == BindingConfig::Type::kOrigin) {
    atKey("origin", [&] { requireOrigin(config, binding->origin); });
  }
  std::optional<std::string>& secret_env = binding->jwt.secret_env;
  if (binding->type == BindingConfig::Type::kJwt && secret_env) {
    for (const BindingConfig& other : route.bindings) {
      if (other.type == BindingConfig::Type::kSecret && other.name == *secret_env) {
        secret_env = other.secret_env;
        break;
      }
    }
  }
  if (binding->type == BindingConfig::Type::kJwt && secret_env && !getenv(secret_env->c_str())) {
    // An HMAC key that is missing must never turn into an empty key anyone can sign with.
    atKey("secret", [&] { fail("environment variable " + *secret_env + " is not set"); });
  }
  std::optional<std::string>& jwks_file = binding->jwt.jwks_file;
  if (binding->type == BindingConfig::Type::kJwt && jwks_file) {
    atKey("jwks_file", [&] {
      jwks_file = readableFile(config.dir, *jwks_file);
      std::string error;
      if (!crypto::KeySet::parse(readFile(*jwks_file), &error)) fail(error);
    });
  }
}

void resolveRoute(const Config& config, RouteConfig* route) {
  if (route->script) {
    atKey("script", [&] { route->script = readableFile(config.dir, *route->script); });
  }
  if (route->proxy) {
    atKey("proxy.origin", [&] { requireOrigin(config, route->proxy->origin); });
  }
  for (BindingConfig& binding : route->bindings) {
    atKey("bindings." + binding.name, [&] { resolveBinding(config, *route, &binding); });
  }
}

// Sockets use SO_REUSEPORT, so binding one port twice would succeed and
// the kernel would spread connections over plain and TLS listeners alike.
bool sameSocket(const ListenAddress& a, const ListenAddress& b) {
  if (a.port == 0 || a.port != b.port) return false;
  auto any = [](const std::string& host) { return host == "0.0.0.0" || host == "::"; };
  return a.host == b.host || any(a.host) || any(b.host);
}

void resolve(Config* config) {
  config->kv.path = absolutePath(config->dir, config->kv.path);
  if (config->tls) {
    for (size_t i = 0; i < config->tls->listen.size(); ++i) {
      for (const ListenAddress& plain : config->listen) {
        if (sameSocket(config->tls->listen[i], plain)) {
          atKey("tls.listen", [&] {
            atIndex(i, [&] {
              fail("port " + std::to_string(plain.port) + " is also in \"listen\" (" + plain.display() +
                   "); HTTPS needs a port of its own");
            });
          });
        }
      }
    }
    for (size_t i = 0; i < config->tls->certificates.size(); ++i) {
      TlsCertificateConfig& certificate = config->tls->certificates[i];
      atKey("tls.certificates", [&] {
        atIndex(i, [&] {
          atKey("cert", [&] { certificate.cert = readableFile(config->dir, certificate.cert); });
          atKey("key", [&] { certificate.key = readableFile(config->dir, certificate.key); });
        });
      });
    }
  }
  for (auto& [name, origin] : config->origins) {
    if (origin.ca) atKey("origins." + name + ".ca", [&] { origin.ca = readableFile(config->dir, *origin.ca); });
  }
  for (size_t i = 0; i < config->routes.size(); ++i) {
    atKey("routes", [&] { atIndex(i, [&] { resolveRoute(*config, &config->routes[i]); }); });
  }
}

// ---------------------------------------------------------------------------
// Text to JSON.

// nlohmann reports `byte` = characters read, the offending one included.
std::string lineAndColumn(const std::string& text, size_t byte) {
  size_t offset = std::min(byte == 0 ? 0 : byte - 1, text.size());
  size_t line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
  size_t newline = offset == 0 ? std::string::npos : text.rfind('\n', offset - 1);
  size_t column = offset - (newline == std::string::npos ? 0 : newline + 1) + 1;
  return std::to_string(line) + ":" + std::to_string(column);
}

// "[json.exception.parse_error.101] parse error at line 1, column 2: REASON" -> REASON.
std::string parseErrorReason(const json::parse_error& error) {
  std::string_view what = error.what();
  size_t start = what.find("parse error");
  size_t colon = start == std::string_view::npos ? start : what.find(": ", start);
  return std::string(colon == std::string_view::npos ? what : what.substr(colon + 2));
}

// Syntax errors become "FILE: LINE:COL: reason". A repeated key (which
// nlohmann would silently collapse) becomes "FILE: json: duplicate key ...":
// the parser callback knows no position.
json parseJsonText(const std::string& text, const std::string& file) {
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> duplicate;
  auto track_keys = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) open_objects.emplace_back();
    if (event == json::parse_event_t::object_end) open_objects.pop_back();
    if (event == json::parse_event_t::key && !open_objects.back().insert(parsed.get<std::string>()).second &&
        !duplicate) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json document;
  try {
    document = json::parse(text, track_keys);
  } catch (const json::parse_error& error) {
    throw ConfigError(file + ":" + lineAndColumn(text, error.byte) + ": " + parseErrorReason(error));
  }
  if (duplicate) throw ConfigError(file + ": json: duplicate key " + inQuotes(*duplicate));
  if (!document.is_object()) throw ConfigError(file + ": json: the top level must be an object");
  return document;
}

std::string readFile(const std::string& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ConfigError(file + ": cannot read: " + errnoText(errno));
  std::string text;
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  int error = n < 0 ? errno : 0;
  ::close(fd);
  if (error != 0) throw ConfigError(file + ": cannot read: " + errnoText(error));
  return text;
}

}  // namespace

std::string ListenAddress::display() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string OriginUrl::authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != defaultPort(scheme)) out += ":" + std::to_string(port);
  return out;
}

ListenAddress parseListenAddress(const std::string& text) {
  HostPort parts = splitHostPort(text);
  if (!parts.port) throw std::invalid_argument("expected host:port");
  std::optional<uint16_t> port = parsePort(*parts.port);
  if (!port) throw std::invalid_argument("port must be a number from 0 to 65535");

  ListenAddress address;
  address.port = *port;
  if (parts.bracketed) {
    std::optional<std::string> v6 = canonicalIpv6(parts.host);
    if (!v6) throw std::invalid_argument("invalid IPv6 address");
    address.host = *v6;
  } else if (parts.host.empty()) {
    address.host = "0.0.0.0";
  } else if (lowerAscii(parts.host) == "localhost") {
    address.host = "127.0.0.1";
  } else if (isIpv4(parts.host)) {
    address.host = parts.host;
  } else {
    throw std::invalid_argument("host must be a numeric IP address or localhost");
  }
  return address;
}

OriginUrl parseOriginUrl(const std::string& text) {
  OriginUrl url = parseHttpUrl(text);
  while (url.base_path.ends_with('/')) url.base_path.pop_back();
  return url;
}

Config parseConfig(const std::string& text, const std::string& file) {
  json document = parseJsonText(text, file);
  Config config;
  config.file = file;
  config.dir = std::filesystem::absolute(file).parent_path().lexically_normal().string();
  try {
    from_json(document, config);
    resolve(&config);
  } catch (const PathError& error) {
    throw ConfigError(file + ": " + error.path() + ": " + error.what());
  }
  return config;
}

Config loadConfig(const std::string& file) { return parseConfig(readFile(file), file); }

}  // namespace isogate
