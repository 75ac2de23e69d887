#pragma once
// Typed configuration (isogate.json), parsed once at load and validated.
// Nothing downstream of loadConfig() touches JSON. A Config is immutable
// once loaded and shared read-only by all worker threads via a Deployment.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace isogate {

class TlsClientContext;

// A config problem. what() is the full user-facing line:
// "FILE: json.path: message" (e.g. "isogate.json: routes[1].proxy.origin: unknown origin \"ordrs\"").
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ListenAddress {
  std::string host;  // numeric IPv4 or IPv6 (without brackets)
  uint16_t port = 0;  // 0 = pick a free port
  std::string display() const;  // "127.0.0.1:8080" or "[::1]:8080"
};

struct Limits {
  uint32_t cpu_ms = 50;
  uint32_t memory_mb = 128;
  uint32_t wall_ms = 30000;
  uint32_t startup_ms = 1000;
  uint32_t subrequests = 50;
  uint32_t header_bytes = 65536;
  uint64_t body_bytes = 10485760;
  uint32_t header_timeout_ms = 10000;
  uint32_t idle_timeout_ms = 60000;
};

struct AdminConfig {
  std::optional<ListenAddress> listen;  // absent: no admin listener
  std::string token_env = "ISOGATE_ADMIN_TOKEN";
};

struct KvConfig {
  std::string path = ".isogate/kv";  // absolute after load (relative to the config file)
  uint32_t map_size_mb = 1024;
  // Whether a KV write reaches the disk before it is acknowledged (survives
  // power loss) or only the OS (survives a crash of the process). Rate-limit
  // counters never wait for the disk.
  bool sync = true;
};

struct CacheConfig {
  uint32_t max_mb = 256;
};

struct CircuitBreakerConfig {
  uint32_t failures = 5;
  uint32_t cooldown_ms = 10000;
};

struct HealthCheckConfig {
  std::string path = "/health";  // requested as is (the url's base path is not prepended)
  uint32_t interval_ms = 5000;
  uint32_t healthy_threshold = 2;    // consecutive passes that bring a down address back
  uint32_t unhealthy_threshold = 3;  // consecutive failures that take an address down
};

// A parsed http:// or https:// URL.
struct OriginUrl {
  std::string scheme;     // "http" or "https"
  std::string host;       // hostname or IP literal, without brackets, lower-case
  uint16_t port = 0;      // explicit or the scheme's default
  std::string base_path;  // "" or "/api" (never ends with '/')
  std::string authority() const;  // Host header value: "host" or "host:port"
};

// At most this many URLs per origin (attempts track tried addresses in a 64-bit mask).
inline constexpr size_t kMaxOriginAddresses = 64;

struct OriginConfig {
  std::string name;
  std::string url;  // the first URL, as written
  // The first URL. Its authority is the Host header sent to every address,
  // and every address shares its scheme and base path.
  OriginUrl parsed;
  // Every URL ("url" may be a list), in order; addresses[0] equals parsed.
  // Code that builds an OriginConfig by hand may leave it empty: parsed is
  // then the only address.
  std::vector<OriginUrl> addresses;
  uint32_t connect_timeout_ms = 1000;
  uint32_t timeout_ms = 10000;
  uint32_t max_connections = 256;
  uint32_t retries = 1;
  std::optional<CircuitBreakerConfig> circuit_breaker;
  std::optional<HealthCheckConfig> health_check;
  // https:// origins: "ca" (absolute after load) replaces the system trust
  // store; tls_verify false skips certificate and host name checks (an
  // explicit opt-out, warned about at load).
  std::optional<std::string> ca;
  bool tls_verify = true;
  // The client TLS settings built from the above when the Deployment loads
  // (null for http:// origins, and in configs not loaded by a Deployment:
  // the pool then uses the system store with verification).
  std::shared_ptr<const TlsClientContext> tls_client;
};

struct RouteMatch {
  std::string path;                  // "/exact", "/prefix/*", "/users/:id"
  std::vector<std::string> methods;  // upper-case; empty = any
  std::optional<std::string> host;   // exact or "*.example.com", lower-case
};

struct ProxyAction {
  std::string origin;        // key into Config::origins (validated)
  std::string strip_prefix;  // "" = none; starts with '/', no trailing '/'
};

struct RouteCacheConfig {
  uint32_t ttl_s = 0;
};

struct JwtBindingConfig {
  std::vector<std::string> algorithms;  // required; never "none"
  std::optional<std::string> jwks_url;
  std::optional<std::string> jwks_file;  // absolute after load
  std::optional<std::string> secret_env;  // HS* key from this environment variable
  std::optional<std::string> issuer;
  std::vector<std::string> audience;     // string or list in JSON
  uint32_t clock_skew_s = 60;
  std::vector<std::string> required_claims;
};

struct RateLimitBindingConfig {
  uint64_t limit = 0;
  uint32_t period_s = 0;
  std::string algorithm = "sliding";  // "sliding" or "fixed"
};

// A binding on a script route's env.
struct BindingConfig {
  enum class Type { kPlain, kSecret, kOrigin, kJwt, kRateLimit, kKv };
  std::string name;
  Type type = Type::kPlain;
  std::string plain_json;  // kPlain: the value as JSON text (strings stay JSON-quoted)
  std::string secret_env;  // kSecret: environment variable name
  std::string origin;      // kOrigin: key into Config::origins
  std::string kv_namespace;  // kKv
  JwtBindingConfig jwt;
  RateLimitBindingConfig ratelimit;
};

struct RouteConfig {
  std::string name;  // "name" key, or the match path when absent
  RouteMatch match;
  std::optional<std::string> script;  // absolute path after load
  std::optional<ProxyAction> proxy;
  std::optional<RouteCacheConfig> cache;
  std::vector<BindingConfig> bindings;
};

// One certificate of the HTTPS listener: PEM chain (leaf first) and key.
struct TlsCertificateConfig {
  std::string cert;  // absolute after load
  std::string key;   // absolute after load
};

// "tls": the HTTPS listener. The first certificate is the default; SNI picks
// another by its subjectAltName DNS names.
struct TlsConfig {
  std::vector<ListenAddress> listen;
  std::vector<TlsCertificateConfig> certificates;
  std::string min_version = "1.2";  // "1.2" or "1.3"
};

struct Config {
  std::string file;  // the config file as given (used in messages)
  std::string dir;   // absolute directory of the config file
  std::vector<ListenAddress> listen{ListenAddress{"0.0.0.0", 8080}};
  std::optional<TlsConfig> tls;  // absent or null: no HTTPS listener
  uint32_t workers = 0;  // 0 = number of cores
  uint32_t shutdown_grace_ms = 10000;
  Limits limits;
  AdminConfig admin;
  // URL prefixes scripts may fetch, normalised: lower-case scheme and host, no
  // default port, path at least "/" (so "https://a.example" cannot match
  // "https://a.example.evil.net/").
  std::vector<std::string> egress;
  KvConfig kv;
  CacheConfig cache;
  std::map<std::string, OriginConfig> origins;
  std::vector<RouteConfig> routes;
};

// Reads and validates a config file. Throws ConfigError with the full message.
Config loadConfig(const std::string& file);

// Same, from text already in memory; `file` is used for messages and to
// resolve relative paths.
Config parseConfig(const std::string& text, const std::string& file);

// Parses "host:port", "[v6]:port" or ":port" (0.0.0.0); the host must be an
// IP literal or "localhost" (127.0.0.1). Throws std::invalid_argument.
ListenAddress parseListenAddress(const std::string& text);

// Parses an origin URL. Throws std::invalid_argument with a short reason.
OriginUrl parseOriginUrl(const std::string& text);

}  // namespace isogate
