#include "runtime/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace isogate {
namespace {

namespace fs = std::filesystem;

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "isogate-config-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  std::string write(const std::string& name, const std::string& text) const {
    fs::path file = fs::path(path_) / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file.string();
  }

 private:
  std::string path_;
};

// The example from DESIGN.md, verbatim.
constexpr const char* kDesignExample = R"json({
  "listen": ["0.0.0.0:8080"],
  "tls": null,
  "admin": { "listen": "127.0.0.1:9090", "token_env": "ISOGATE_ADMIN_TOKEN" },
  "workers": 0,
  "shutdown_grace_ms": 10000,
  "limits": { "cpu_ms": 50, "memory_mb": 128, "wall_ms": 30000, "startup_ms": 1000,
              "subrequests": 50, "header_bytes": 65536, "body_bytes": 10485760,
              "header_timeout_ms": 10000, "idle_timeout_ms": 60000 },
  "egress": ["https://api.partner.example/"],
  "kv": { "path": ".isogate/kv", "map_size_mb": 1024 },
  "cache": { "max_mb": 256 },
  "origins": {
    "users":  { "url": "http://127.0.0.1:9001", "connect_timeout_ms": 1000, "timeout_ms": 10000,
                "max_connections": 256, "retries": 1,
                "circuit_breaker": { "failures": 5, "cooldown_ms": 10000 },
                "health_check": { "path": "/health", "interval_ms": 5000 } },
    "orders": { "url": "http://127.0.0.1:9002" }
  },
  "routes": [
    { "match": { "path": "/v1/users/*", "methods": ["GET", "POST"] },
      "script": "users.js",
      "bindings": {
        "USERS":   { "type": "origin", "origin": "users" },
        "AUTH":    { "type": "jwt", "jwks_url": "http://127.0.0.1:9001/.well-known/jwks.json",
                     "issuer": "https://auth.example.com", "audience": "api", "algorithms": ["RS256", "ES256"] },
        "LIMITER": { "type": "ratelimit", "limit": 100, "period": 60 },
        "KV":      { "type": "kv", "namespace": "main" },
        "MODE":    "production" } },
    { "match": { "path": "/v1/orders/*" },
      "proxy": { "origin": "orders", "strip_prefix": "/v1" }, "cache": { "ttl_s": 60 } }
  ]
})json";

// Two origins and one proxy route, for tests that need a valid base.
constexpr const char* kOrigins = R"("origins": { "users": { "url": "http://127.0.0.1:9001" },
                                                "orders": { "url": "http://127.0.0.1:9002" } })";

std::string withOrigins(const std::string& rest) { return std::string("{") + kOrigins + ", " + rest + "}"; }

// The message of the ConfigError that parsing `text` as "isogate.json" throws.
std::string errorFor(const std::string& text, const std::string& file = "isogate.json") {
  try {
    parseConfig(text, file);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(no error)";
}

std::string routeError(const std::string& route) { return errorFor(withOrigins(R"("routes": [)" + route + "]")); }

const BindingConfig* findBinding(const RouteConfig& route, const std::string& name) {
  for (const BindingConfig& binding : route.bindings) {
    if (binding.name == name) return &binding;
  }
  return nullptr;
}

// --- The DESIGN.md example ---------------------------------------------------

TEST(ConfigTest, DesignExampleLoads) {
  TempDir dir;
  dir.write("users.js", "export default {};\n");
  std::string file = dir.write("isogate.json", kDesignExample);

  Config config = loadConfig(file);

  EXPECT_EQ(config.file, file);
  EXPECT_EQ(config.dir, dir.path());
  ASSERT_EQ(config.listen.size(), 1u);
  EXPECT_EQ(config.listen[0].display(), "0.0.0.0:8080");
  ASSERT_TRUE(config.admin.listen);
  EXPECT_EQ(config.admin.listen->display(), "127.0.0.1:9090");
  EXPECT_EQ(config.admin.token_env, "ISOGATE_ADMIN_TOKEN");
  EXPECT_EQ(config.workers, 0u);
  EXPECT_EQ(config.shutdown_grace_ms, 10000u);
  EXPECT_EQ(config.limits.cpu_ms, 50u);
  EXPECT_EQ(config.limits.memory_mb, 128u);
  EXPECT_EQ(config.limits.wall_ms, 30000u);
  EXPECT_EQ(config.limits.startup_ms, 1000u);
  EXPECT_EQ(config.limits.subrequests, 50u);
  EXPECT_EQ(config.limits.header_bytes, 65536u);
  EXPECT_EQ(config.limits.body_bytes, 10485760u);
  EXPECT_EQ(config.limits.header_timeout_ms, 10000u);
  EXPECT_EQ(config.limits.idle_timeout_ms, 60000u);
  EXPECT_EQ(config.egress, std::vector<std::string>{"https://api.partner.example/"});
  EXPECT_EQ(config.kv.path, dir.path() + "/.isogate/kv");
  EXPECT_EQ(config.kv.map_size_mb, 1024u);
  EXPECT_EQ(config.cache.max_mb, 256u);

  ASSERT_EQ(config.origins.size(), 2u);
  const OriginConfig& users = config.origins.at("users");
  EXPECT_EQ(users.name, "users");
  EXPECT_EQ(users.url, "http://127.0.0.1:9001");
  EXPECT_EQ(users.parsed.scheme, "http");
  EXPECT_EQ(users.parsed.host, "127.0.0.1");
  EXPECT_EQ(users.parsed.port, 9001);
  EXPECT_EQ(users.parsed.base_path, "");
  EXPECT_EQ(users.connect_timeout_ms, 1000u);
  EXPECT_EQ(users.timeout_ms, 10000u);
  EXPECT_EQ(users.max_connections, 256u);
  EXPECT_EQ(users.retries, 1u);
  ASSERT_TRUE(users.circuit_breaker);
  EXPECT_EQ(users.circuit_breaker->failures, 5u);
  EXPECT_EQ(users.circuit_breaker->cooldown_ms, 10000u);
  ASSERT_TRUE(users.health_check);
  EXPECT_EQ(users.health_check->path, "/health");
  EXPECT_EQ(users.health_check->interval_ms, 5000u);
  const OriginConfig& orders = config.origins.at("orders");
  EXPECT_EQ(orders.parsed.port, 9002);
  EXPECT_FALSE(orders.circuit_breaker);
  EXPECT_FALSE(orders.health_check);

  ASSERT_EQ(config.routes.size(), 2u);
  const RouteConfig& script_route = config.routes[0];
  EXPECT_EQ(script_route.name, "/v1/users/*");
  EXPECT_EQ(script_route.match.path, "/v1/users/*");
  EXPECT_EQ(script_route.match.methods, (std::vector<std::string>{"GET", "POST"}));
  EXPECT_FALSE(script_route.match.host);
  ASSERT_TRUE(script_route.script);
  EXPECT_EQ(*script_route.script, dir.path() + "/users.js");
  EXPECT_FALSE(script_route.proxy);
  EXPECT_FALSE(script_route.cache);
  ASSERT_EQ(script_route.bindings.size(), 5u);

  const BindingConfig* users_binding = findBinding(script_route, "USERS");
  ASSERT_NE(users_binding, nullptr);
  EXPECT_EQ(users_binding->type, BindingConfig::Type::kOrigin);
  EXPECT_EQ(users_binding->origin, "users");

  const BindingConfig* auth = findBinding(script_route, "AUTH");
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->type, BindingConfig::Type::kJwt);
  EXPECT_EQ(auth->jwt.algorithms, (std::vector<std::string>{"RS256", "ES256"}));
  EXPECT_EQ(auth->jwt.jwks_url, "http://127.0.0.1:9001/.well-known/jwks.json");
  EXPECT_FALSE(auth->jwt.jwks_file);
  EXPECT_FALSE(auth->jwt.secret_env);
  EXPECT_EQ(auth->jwt.issuer, "https://auth.example.com");
  EXPECT_EQ(auth->jwt.audience, std::vector<std::string>{"api"});
  EXPECT_EQ(auth->jwt.clock_skew_s, 60u);
  EXPECT_TRUE(auth->jwt.required_claims.empty());

  const BindingConfig* limiter = findBinding(script_route, "LIMITER");
  ASSERT_NE(limiter, nullptr);
  EXPECT_EQ(limiter->type, BindingConfig::Type::kRateLimit);
  EXPECT_EQ(limiter->ratelimit.limit, 100u);
  EXPECT_EQ(limiter->ratelimit.period_s, 60u);
  EXPECT_EQ(limiter->ratelimit.algorithm, "sliding");

  const BindingConfig* kv = findBinding(script_route, "KV");
  ASSERT_NE(kv, nullptr);
  EXPECT_EQ(kv->type, BindingConfig::Type::kKv);
  EXPECT_EQ(kv->kv_namespace, "main");

  const BindingConfig* mode = findBinding(script_route, "MODE");
  ASSERT_NE(mode, nullptr);
  EXPECT_EQ(mode->type, BindingConfig::Type::kPlain);
  EXPECT_EQ(mode->plain_json, "\"production\"");

  const RouteConfig& proxy_route = config.routes[1];
  EXPECT_EQ(proxy_route.name, "/v1/orders/*");
  EXPECT_TRUE(proxy_route.match.methods.empty());
  EXPECT_FALSE(proxy_route.script);
  ASSERT_TRUE(proxy_route.proxy);
  EXPECT_EQ(proxy_route.proxy->origin, "orders");
  EXPECT_EQ(proxy_route.proxy->strip_prefix, "/v1");
  ASSERT_TRUE(proxy_route.cache);
  EXPECT_EQ(proxy_route.cache->ttl_s, 60u);
}

TEST(ConfigTest, DesignExampleNeedsItsScript) {
  TempDir dir;
  std::string file = dir.write("isogate.json", kDesignExample);
  EXPECT_EQ(errorFor(kDesignExample, file),
            file + ": routes[0].script: cannot read \"users.js\": No such file or directory");
}

// --- Defaults -----------------------------------------------------------------

TEST(ConfigTest, EmptyObjectGivesDefaults) {
  Config config = parseConfig("{}", "isogate.json");
  ASSERT_EQ(config.listen.size(), 1u);
  EXPECT_EQ(config.listen[0].display(), "0.0.0.0:8080");
  EXPECT_FALSE(config.admin.listen);
  EXPECT_EQ(config.admin.token_env, "ISOGATE_ADMIN_TOKEN");
  EXPECT_EQ(config.workers, 0u);
  EXPECT_EQ(config.shutdown_grace_ms, 10000u);
  EXPECT_EQ(config.limits.cpu_ms, 50u);
  EXPECT_EQ(config.limits.header_timeout_ms, 10000u);
  EXPECT_EQ(config.limits.idle_timeout_ms, 60000u);
  EXPECT_TRUE(config.egress.empty());
  EXPECT_EQ(config.kv.path, (fs::current_path() / ".isogate/kv").lexically_normal().string());
  EXPECT_EQ(config.kv.map_size_mb, 1024u);
  EXPECT_EQ(config.cache.max_mb, 256u);
  EXPECT_TRUE(config.origins.empty());
  EXPECT_TRUE(config.routes.empty());
  EXPECT_EQ(config.dir, fs::current_path().lexically_normal().string());
}

TEST(ConfigTest, OriginAndBindingDefaults) {
  Config config = parseConfig(withOrigins(R"("routes": [
      { "match": { "path": "/a" }, "proxy": { "origin": "users" } }])"),
                              "isogate.json");
  const OriginConfig& origin = config.origins.at("orders");
  EXPECT_EQ(origin.connect_timeout_ms, 1000u);
  EXPECT_EQ(origin.timeout_ms, 10000u);
  EXPECT_EQ(origin.max_connections, 256u);
  EXPECT_EQ(origin.retries, 1u);
  EXPECT_EQ(config.routes[0].proxy->strip_prefix, "");
  EXPECT_FALSE(config.routes[0].cache);
}

TEST(ConfigTest, PartialSectionsKeepOtherDefaults) {
  Config config = parseConfig(R"({ "limits": { "cpu_ms": 10 }, "origins": { "o": { "url": "http://o",
      "circuit_breaker": {}, "health_check": { "interval_ms": 100 } } } })",
                              "isogate.json");
  EXPECT_EQ(config.limits.cpu_ms, 10u);
  EXPECT_EQ(config.limits.memory_mb, 128u);
  const OriginConfig& origin = config.origins.at("o");
  ASSERT_TRUE(origin.circuit_breaker);
  EXPECT_EQ(origin.circuit_breaker->failures, 5u);
  EXPECT_EQ(origin.circuit_breaker->cooldown_ms, 10000u);
  ASSERT_TRUE(origin.health_check);
  EXPECT_EQ(origin.health_check->path, "/health");
  EXPECT_EQ(origin.health_check->interval_ms, 100u);
}

// --- Paths relative to the config file ------------------------------------------

TEST(ConfigTest, RelativePathsResolveAgainstConfigDir) {
  TempDir dir;
  dir.write("scripts/users.js", "export default {};\n");
  dir.write("keys/jwks.json", R"({"keys": []})");
  std::string file = dir.write("conf/isogate.json", R"({
    "kv": { "path": "../data/kv" },
    "routes": [ { "match": { "path": "/" }, "script": "../scripts/users.js",
                  "bindings": { "AUTH": { "type": "jwt", "algorithms": ["EdDSA"],
                                          "jwks_file": "../keys/jwks.json" } } } ] })");

  Config config = loadConfig(file);

  EXPECT_EQ(config.dir, dir.path() + "/conf");
  EXPECT_EQ(config.kv.path, dir.path() + "/data/kv");
  EXPECT_EQ(config.routes[0].script, dir.path() + "/scripts/users.js");
  EXPECT_EQ(config.routes[0].bindings[0].jwt.jwks_file, dir.path() + "/keys/jwks.json");
}

TEST(ConfigTest, AbsolutePathsStay) {
  TempDir dir;
  std::string script = dir.write("a.js", "");
  Config config = parseConfig(R"({ "kv": { "path": "/var/lib/isogate/kv" },
      "routes": [ { "match": { "path": "/" }, "script": ")" + script + R"(" } ] })",
                              "elsewhere/isogate.json");
  EXPECT_EQ(config.kv.path, "/var/lib/isogate/kv");
  EXPECT_EQ(config.routes[0].script, script);
}

TEST(ConfigTest, ScriptMustBeARegularFile) {
  TempDir dir;
  fs::create_directories(dir.path() + "/lib");
  std::string file = dir.path() + "/isogate.json";
  EXPECT_EQ(errorFor(R"({ "routes": [ { "match": { "path": "/" }, "script": "lib" } ] })", file),
            file + ": routes[0].script: cannot read \"lib\": not a regular file");
}

// --- Reading the file -------------------------------------------------------------

TEST(ConfigTest, MissingFile) {
  TempDir dir;
  std::string file = dir.path() + "/nope.json";
  try {
    loadConfig(file);
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), file + ": cannot read: No such file or directory");
  }
}

TEST(ConfigTest, SyntaxErrorGivesLineAndColumn) {
  EXPECT_EQ(errorFor("{\n  \"workers\": 1,\n  \"limits\": { \"cpu_ms\" 5 }\n}"),
            "isogate.json:3:24: syntax error while parsing object separator - unexpected number literal; "
            "expected ':'");
  EXPECT_EQ(errorFor("{\n  \"workers\": 1,\n"),
            "isogate.json:3:1: syntax error while parsing object key - unexpected end of input; "
            "expected string literal");
  // A raw newline inside a string is reported on the line it ends, not the next.
  EXPECT_EQ(errorFor("{\"a\": \"x\ny\"}"),
            "isogate.json:1:9: syntax error while parsing value - invalid string: control character U+000A (LF) "
            "must be escaped to \\u000A or \\n; last read: '\"x<U+000A>'");
  EXPECT_EQ(errorFor(""),
            "isogate.json:1:1: syntax error while parsing value - unexpected end of input; "
            "expected '[', '{', or a literal");
}

TEST(ConfigTest, DuplicateKey) {
  EXPECT_EQ(errorFor(R"({ "limits": { "cpu_ms": 5, "cpu_ms": 6 } })"), "isogate.json: json: duplicate key \"cpu_ms\"");
  EXPECT_NO_THROW(parseConfig(R"({ "limits": { "cpu_ms": 5 }, "cache": { "max_mb": 6 } })", "isogate.json"));
}

TEST(ConfigTest, TopLevelMustBeAnObject) {
  EXPECT_EQ(errorFor("[]"), "isogate.json: json: the top level must be an object");
}

// --- Unknown keys and wrong types ------------------------------------------------------

TEST(ConfigTest, UnknownKeysNameTheirPath) {
  EXPECT_EQ(errorFor(R"({ "listn": [] })"), "isogate.json: listn: unknown key");
  EXPECT_EQ(errorFor(R"({ "limits": { "cpu": 1 } })"), "isogate.json: limits.cpu: unknown key");
  EXPECT_EQ(routeError(R"({ "match": { "pth": "/" }, "proxy": { "origin": "users" } })"),
            "isogate.json: routes[0].match.pth: unknown key");
  EXPECT_EQ(errorFor(withOrigins(R"("routes": [{ "match": { "path": "/" }, "proxy": { "origin": "users" } },
      { "match": { "path": "/" }, "proxy": { "origin": "users", "strip": "/v1" } }])")),
            "isogate.json: routes[1].proxy.strip: unknown key");
  EXPECT_EQ(errorFor(R"({ "origins": { "users": { "url": "http://a", "timeout": 5 } } })"),
            "isogate.json: origins.users.timeout: unknown key");
  EXPECT_EQ(routeError(R"({ "match": { "path": "/" }, "script": "x.js",
      "bindings": { "AUTH": { "type": "jwt", "algorithms": ["RS256"], "jwks_url": "http://a/", "isuer": "x" } } })"),
            "isogate.json: routes[0].bindings.AUTH.isuer: unknown key");
  EXPECT_EQ(routeError(R"({ "match": { "path": "/" }, "script": "x.js",
      "bindings": { "S": { "type": "secret", "env": "X", "origin": "users" } } })"),
            "isogate.json: routes[0].bindings.S.origin: unknown key");
}

TEST(ConfigTest, WrongTypesNameTheExpectedType) {
  EXPECT_EQ(errorFor(R"({ "limits": { "cpu_ms": -1 } })"), "isogate.json: limits.cpu_ms: expected a positive integer");
  EXPECT_EQ(errorFor(R"({ "limits": { "subrequests": "5" } })"),
            "isogate.json: limits.subrequests: expected a non-negative integer");
  EXPECT_EQ(errorFor(R"({ "workers": 1.5 })"), "isogate.json: workers: expected a non-negative integer");
  EXPECT_EQ(errorFor(R"({ "workers": true })"), "isogate.json: workers: expected a non-negative integer");
  EXPECT_EQ(errorFor(R"({ "limits": [] })"), "isogate.json: limits: expected an object");
  EXPECT_EQ(errorFor(R"({ "listen": "0.0.0.0:80" })"), "isogate.json: listen: expected an array");
  EXPECT_EQ(errorFor(R"({ "listen": [80] })"), "isogate.json: listen[0]: expected a string");
  EXPECT_EQ(errorFor(R"({ "origins": { "users": { "url": "http://a", "retries": -1 } } })"),
            "isogate.json: origins.users.retries: expected a non-negative integer");
  EXPECT_EQ(routeError(R"({ "match": { "path": "/", "methods": "GET" }, "proxy": { "origin": "users" } })"),
            "isogate.json: routes[0].match.methods: expected an array");
  EXPECT_EQ(routeError(R"({ "match": { "path": "/" }, "proxy": { "origin": "users" }, "cache": { "ttl_s": "60" } })"),
            "isogate.json: routes[0].cache.ttl_s: expected a non-negative integer");
  EXPECT_EQ(routeError(R"({ "match": { "path": "/" }, "script": "x.js",
      "bindings": { "AUTH": { "type": "jwt", "algorithms": ["RS256"], "jwks_url": "http://a/", "issuer": 5 } } })"),
            "isogate.json: routes[0].bindings.AUTH.issuer: expected a string");
}

TEST(ConfigTest, NumbersMustFitAndZeroOnlyWhereMeaningful) {
  EXPECT_EQ(errorFor(R"({ "limits": { "cpu_ms": 4294967296 } })"),
            "isogate.json: limits.cpu_ms: must be at most 4294967295");
  EXPECT_EQ(errorFor(R"({ "limits": { "header_bytes": 0 } })"), "isogate.json: limits.header_bytes: must be greater than 0");
  EXPECT_EQ(errorFor(R"({ "limits": { "body_bytes": 0 } })"), "isogate.json: limits.body_bytes: must be greater than 0");
  EXPECT_EQ(errorFor(R"({ "limits": { "idle_timeout_ms": 0 } })"),
            "isogate.json: limits.idle_timeout_ms: must be greater than 0");
  EXPECT_EQ(errorFor(R"({ "origins": { "users": { "url": "http://a", "max_connections": 0 } } })"),
            "isogate.json: origins.users.max_connections: must be greater than 0");
  EXPECT_EQ(errorFor(R"({ "origins": { "users": { "url": "http://a", "timeout_ms": 0 } } })"),
            "isogate.json: origins.users.timeout_ms: must be greater than 0");

  Config config = parseConfig(R"({ "workers": 0, "shutdown_grace_ms": 0, "cache": { "max_mb": 0 },
      "limits": { "subrequests": 0, "body_bytes": 17179869184 },
      "origins": { "users": { "url": "http://a", "retries": 0 } } })",
                              "isogate.json");
  EXPECT_EQ(config.limits.body_bytes, 17179869184u);
  EXPECT_EQ(config.origins.at("users").retries, 0u);
}

TEST(ConfigTest, MissingRequiredKeys) {
  EXPECT_EQ(errorFor(R"({ "origins": { "users": {} } })"), "isogate.json: origins.users.url: missing required key");
  EXPECT_EQ(errorFor(R"({ "routes": [ { "script": "x.js" } ] })"), "isogate.json: routes[0].match: missing required key");
  EXPECT_EQ(routeError(R"({ "match": { "path": "/" }, "script": "x.js",
      "bindings": { "L": { "type": "ratelimit", "limit": 5 } } })"),
            "isogate.json: routes[0].bindings.L.period: missing required key");
}

TEST(ConfigTest, TlsSection) {
  EXPECT_NO_THROW(parseConfig(R"({ "tls": null })", "isogate.json"));
  EXPECT_EQ(errorFor(R"({ "tls": { "cert": "a.pem" } })"), "isogate.json: tls.cert: unknown key");
  EXPECT_EQ(errorFor(R"({ "tls": { "listen": ["127.0.0.1:0"] } })"),
            "isogate.json: tls.certificates: missing required key");
  EXPECT_EQ(errorFor(R"({ "tls": { "listen": ["127.0.0.1:0"], "certificates": [] } })"),
            "isogate.json: tls.certificates: must not be empty");
  EXPECT_EQ(errorFor(R"({ "tls": { "listen": ["127.0.0.1:0"], "certificates": [{ "cert": "a.pem" }] } })"),
            "isogate.json: tls.certificates[0].key: missing required key");
  EXPECT_EQ(errorFor(R"({ "tls": { "listen": ["127.0.0.1:0"], "certificates": [{ "cert": "a", "key": "b" }],
                                   "min_version": "1.1" } })"),
            "isogate.json: tls.min_version: expected \"1.2\" or \"1.3\"");
  EXPECT_EQ(errorFor(R"({ "tls": { "listen": ["127.0.0.1:0"],
                                   "certificates": [{ "cert": "/nonexistent/a.pem", "key": "b" }] } })"),
            "isogate.json: tls.certificates[0].cert: cannot read \"/nonexistent/a.pem\": No such file or directory");
}

TEST(ConfigTest, TlsListenNeedsItsOwnPort) {
  EXPECT_EQ(errorFor(R"({ "listen": ["0.0.0.0:8080"], "tls": { "listen": ["127.0.0.1:8080"],
                                                               "certificates": [{ "cert": "a", "key": "b" }] } })"),
            "isogate.json: tls.listen[0]: port 8080 is also in \"listen\" (0.0.0.0:8080); HTTPS needs a port of its own");
}

TEST(ConfigTest, OriginTlsOptionsNeedHttps) {
  EXPECT_EQ(errorFor(R"({ "origins": { "o": { "url": "http://a", "tls_verify": false } } })"),
            "isogate.json: origins.o.tls_verify: only https:// origins verify certificates");
  EXPECT_EQ(errorFor(R"({ "origins": { "o": { "url": "http://a", "ca": "ca.pem" } } })"),
            "isogate.json: origins.o.ca: only https:// origins use a CA file");
  Config config = parseConfig(R"({ "origins": { "o": { "url": "https://a", "tls_verify": false } } })", "isogate.json");
  EXPECT_FALSE(config.origins.at("o").tls_verify);
}

// --- Listen addresses ----------------------------------------------------------------

TEST(ConfigTest, ListenAddresses) {
  Config config = parseConfig(R"({ "listen": ["127.0.0.1:80", "[::1]:8443", "localhost:0", ":9000", "[0:0::1]:1"],
                                   "admin": { "listen": "[::]:9090" } })",
                              "isogate.json");
  ASSERT_EQ(config.listen.size(), 5u);
  EXPECT_EQ(config.listen[0].display(), "127.0.0.1:80");
  EXPECT_EQ(config.listen[1].host, "::1");
  EXPECT_EQ(config.listen[1].port, 8443);
  EXPECT_EQ(config.listen[1].display(), "[::1]:8443");
  EXPECT_EQ(config.listen[2].display(), "127.0.0.1:0");
  EXPECT_EQ(config.listen[3].display(), "0.0.0.0:9000");
  EXPECT_EQ(config.listen[4].display(), "[::1]:1");
  EXPECT_EQ(config.admin.listen->display(), "[::]:9090");
}

TEST(ConfigTest, BadListenAddresses) {
  EXPECT_EQ(errorFor(R"({ "listen": ["0.0.0.0:8080", "0.0.0.0:99999"] })"),
            "isogate.json: listen[1]: invalid address \"0.0.0.0:99999\": port must be a number from 0 to 65535");
  EXPECT_EQ(errorFor(R"({ "listen": ["0.0.0.0"] })"),
            "isogate.json: listen[0]: invalid address \"0.0.0.0\": expected host:port");
  EXPECT_EQ(errorFor(R"({ "listen": ["example.com:80"] })"),
            "isogate.json: listen[0]: invalid address \"example.com:80\": host must be a numeric IP address or "
            "localhost");
  EXPECT_EQ(errorFor(R"({ "listen": ["::1:80"] })"),
            "isogate.json: listen[0]: invalid address \"::1:80\": IPv6 addresses need brackets, as in \"[::1]:8080\"");
  EXPECT_EQ(errorFor(R"({ "listen": ["[::g]:80"] })"),
            "isogate.json: listen[0]: invalid address \"[::g]:80\": invalid IPv6 address");
  EXPECT_EQ(errorFor(R"({ "listen": [] })"), "isogate.json: listen: must not be empty");
  EXPECT_EQ(errorFor(R"({ "admin": { "listen": "1.2.3:80" } })"),
            "isogate.json: admin.listen: invalid address \"1.2.3:80\": host must be a numeric IP address or localhost");
}

TEST(ConfigTest, ParseListenAddressThrowsInvalidArgument) {
  EXPECT_THROW(parseListenAddress("1.2.3.4:"), std::invalid_argument);
  EXPECT_THROW(parseListenAddress("1.2.3.4:8a"), std::invalid_argument);
  EXPECT_THROW(parseListenAddress("[::1]8080"), std::invalid_argument);
  EXPECT_EQ(parseListenAddress("LOCALHOST:1").host, "127.0.0.1");
}

// --- Origins -------------------------------------------------------------------------------

TEST(ConfigTest, OriginUrls) {
  OriginUrl url = parseOriginUrl("HTTPS://API.Example.COM/v1/");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "api.example.com");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.base_path, "/v1");
  EXPECT_EQ(url.authority(), "api.example.com");

  url = parseOriginUrl("http://[::1]:8080");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.base_path, "");
  EXPECT_EQ(url.authority(), "[::1]:8080");

  EXPECT_EQ(parseOriginUrl("http://users:80/").authority(), "users");
  EXPECT_EQ(parseOriginUrl("https://a:80").authority(), "a:80");
  EXPECT_EQ(parseOriginUrl("http://a/").base_path, "");
}

TEST(ConfigTest, BadOriginUrls) {
  auto reason = [](const std::string& text) {
    try {
      parseOriginUrl(text);
    } catch (const std::invalid_argument& error) {
      return std::string(error.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(reason("ftp://a"), "scheme must be http or https");
  EXPECT_EQ(reason("127.0.0.1:9001"), "expected an absolute http:// or https:// URL");
  EXPECT_EQ(reason("http://a:0"), "port must be a number from 1 to 65535");
  EXPECT_EQ(reason("http://a:65536"), "port must be a number from 1 to 65535");
  EXPECT_EQ(reason("http://a/x?y=1"), "a query or fragment is not allowed");
  EXPECT_EQ(reason("http://a#top"), "a query or fragment is not allowed");
  EXPECT_EQ(reason("http://u:p@a/"), "user info is not allowed");
  EXPECT_EQ(reason("http:///x"), "missing host");
  EXPECT_EQ(reason("http://a b/"), "must not contain spaces or control characters");
  EXPECT_EQ(reason("http://a%2f/"), "invalid host \"a%2f\"");

  EXPECT_EQ(errorFor(R"({ "origins": { "users": { "url": "ftp://127.0.0.1" } } })"),
            "isogate.json: origins.users.url: invalid URL \"ftp://127.0.0.1\": scheme must be http or https");
  EXPECT_EQ(errorFor(R"({ "origins": { "my origin": { "url": "http://a" } } })"),
            "isogate.json: origins.my origin: origin names may only contain letters, digits, '_' and '-'");
  EXPECT_EQ(errorFor(R"({ "origins": { "users": { "url": "http://a", "health_check": { "path": "health" } } } })"),
            "isogate.json: origins.users.health_check.path: must start with '/'");
}

TEST(ConfigTest, OriginUrlLists) {
  Config config = parseConfig(R"({ "origins": {
      "one":  { "url": "http://127.0.0.1:9001/api" },
      "many": { "url": ["http://10.0.0.1:9001/api/", "http://10.0.0.2:9001/api", "http://[::1]:9003/api"] } } })",
                              "isogate.json");
  const OriginConfig& one = config.origins.at("one");
  ASSERT_EQ(one.addresses.size(), 1u);
  EXPECT_EQ(one.addresses[0].authority(), "127.0.0.1:9001");
  EXPECT_EQ(one.addresses[0].base_path, "/api");

  const OriginConfig& many = config.origins.at("many");
  EXPECT_EQ(many.url, "http://10.0.0.1:9001/api/");
  EXPECT_EQ(many.parsed.authority(), "10.0.0.1:9001") << "the first URL gives the Host header";
  EXPECT_EQ(many.parsed.base_path, "/api");
  ASSERT_EQ(many.addresses.size(), 3u);
  EXPECT_EQ(many.addresses[0].authority(), "10.0.0.1:9001");
  EXPECT_EQ(many.addresses[1].authority(), "10.0.0.2:9001");
  EXPECT_EQ(many.addresses[2].host, "::1");
  EXPECT_EQ(many.addresses[2].port, 9003);
}

TEST(ConfigTest, BadOriginUrlLists) {
  auto origin = [](const std::string& url) { return R"({ "origins": { "users": { "url": )" + url + " } } }"; };
  EXPECT_EQ(errorFor(origin("[]")), "isogate.json: origins.users.url: must not be empty");
  EXPECT_EQ(errorFor(origin("5")), "isogate.json: origins.users.url: expected a URL string or an array of URL strings");
  EXPECT_EQ(errorFor(origin(R"(["http://a", 5])")), "isogate.json: origins.users.url[1]: expected a string");
  EXPECT_EQ(errorFor(origin(R"(["http://a", "ftp://b"])")),
            "isogate.json: origins.users.url[1]: invalid URL \"ftp://b\": scheme must be http or https");
  EXPECT_EQ(errorFor(origin(R"(["http://a", "https://b"])")),
            "isogate.json: origins.users.url[1]: must have the same scheme as url[0] (\"http\")");
  EXPECT_EQ(errorFor(origin(R"(["http://a/v1", "http://b/v2"])")),
            "isogate.json: origins.users.url[1]: must have the same base path as url[0] (\"/v1\")");
  EXPECT_EQ(errorFor(origin(R"(["http://a:80", "http://b", "http://A/"])")),
            "isogate.json: origins.users.url[2]: duplicate address \"a\"");
  std::string many = "[";
  for (int i = 0; i <= 64; ++i) many += std::string(i ? "," : "") + "\"http://h" + std::to_string(i) + "\"";
  EXPECT_EQ(errorFor(origin(many + "]")), "isogate.json: origins.users.url: at most 64 URLs");
}

TEST(ConfigTest, HealthCheckThresholds) {
  Config config = parseConfig(R"({ "origins": {
      "a": { "url": "http://a", "health_check": {} },
      "b": { "url": "http://b", "health_check": { "path": "/ready", "interval_ms": 250,
                                                  "healthy_threshold": 1, "unhealthy_threshold": 5 } } } })",
                              "isogate.json");
  const HealthCheckConfig& a = *config.origins.at("a").health_check;
  EXPECT_EQ(a.path, "/health");
  EXPECT_EQ(a.interval_ms, 5000u);
  EXPECT_EQ(a.healthy_threshold, 2u);
  EXPECT_EQ(a.unhealthy_threshold, 3u);
  const HealthCheckConfig& b = *config.origins.at("b").health_check;
  EXPECT_EQ(b.path, "/ready");
  EXPECT_EQ(b.interval_ms, 250u);
  EXPECT_EQ(b.healthy_threshold, 1u);
  EXPECT_EQ(b.unhealthy_threshold, 5u);

  auto check = [](const std::string& body) {
    return errorFor(R"({ "origins": { "users": { "url": "http://a", "health_check": )" + body + " } } }");
  };
  EXPECT_EQ(check(R"({ "healthy_threshold": 0 })"),
            "isogate.json: origins.users.health_check.healthy_threshold: must be greater than 0");
  EXPECT_EQ(check(R"({ "unhealthy_threshold": "3" })"),
            "isogate.json: origins.users.health_check.unhealthy_threshold: expected a positive integer");
  EXPECT_EQ(check(R"({ "interval_ms": 0 })"), "isogate.json: origins.users.health_check.interval_ms: must be greater than 0");
  EXPECT_EQ(check(R"({ "timeout_ms": 5 })"), "isogate.json: origins.users.health_check.timeout_ms: unknown key");
  EXPECT_EQ(errorFor(R"({ "origins": { "users": { "url": "http://a", "circuit_breaker": { "failures": 0 } } } })"),
            "isogate.json: origins.users.circuit_breaker.failures: must be greater than 0");
}

TEST(ConfigTest, EgressPrefixesAreNormalised) {
  Config config = parseConfig(R"({ "egress": ["https://API.partner.example", "HTTP://b.example:80/v1/",
                                              "https://c.example:8443/x"] })",
                              "isogate.json");
  EXPECT_EQ(config.egress, (std::vector<std::string>{"https://api.partner.example/", "http://b.example/v1/",
                                                     "https://c.example:8443/x"}));
  EXPECT_EQ(errorFor(R"({ "egress": ["api.partner.example"] })"),
            "isogate.json: egress[0]: invalid URL \"api.partner.example\": expected an absolute http:// or "
            "https:// URL");
}

// --- Routes ------------------------------------------------------------------------------------

TEST(ConfigTest, UnknownOrigin) {
  EXPECT_EQ(errorFor(withOrigins(R"("routes": [ { "match": { "path": "/" }, "proxy": { "origin": "users" } },
      { "match": { "path": "/o" }, "proxy": { "origin": "ordrs" } } ])")),
            "isogate.json: routes[1].proxy.origin: unknown origin \"ordrs\"");
  TempDir dir;
  dir.write("x.js", "");
  std::string file = dir.path() + "/isogate.json";
  EXPECT_EQ(errorFor(withOrigins(R"("routes": [ { "match": { "path": "/" }, "script": "x.js",
      "bindings": { "API": { "type": "origin", "origin": "user" } } } ])"),
                     file),
            file + ": routes[0].bindings.API.origin: unknown origin \"user\"");
}

TEST(ConfigTest, ExactlyOneOfScriptAndProxy) {
  EXPECT_EQ(routeError(R"({ "match": { "path": "/" }, "script": "x.js", "proxy": { "origin": "users" } })"),
            "isogate.json: routes[0]: a route has either \"script\" or \"proxy\", not both");
  EXPECT_EQ(routeError(R"({ "match": { "path": "/" } })"), "isogate.json: routes[0]: a route needs \"script\" or \"proxy\"");
  EXPECT_EQ(routeError(R"({ "match": { "path": "/" }, "proxy": { "origin": "users" }, "bindings": { "A": 1 } })"),
            "isogate.json: routes[0].bindings: only script routes have bindings");
}

TEST(ConfigTest, RouteMatchIsNormalised) {
  Config config = parseConfig(withOrigins(R"("routes": [
      { "name": "users", "match": { "path": "/users/:id/*", "methods": ["get", "Post"], "host": "API.Example.com" },
        "proxy": { "origin": "users", "strip_prefix": "/users/" } },
      { "match": { "path": "/", "host": "*.Example.com" }, "proxy": { "origin": "users", "strip_prefix": "/" } },
      { "match": { "path": "/x", "host": "[::1]" }, "proxy": { "origin": "users" } },
      { "match": { "path": "/y", "host": "*" }, "proxy": { "origin": "users" } } ])"),
                              "isogate.json");
  const RouteMatch& match = config.routes[0].match;
  EXPECT_EQ(config.routes[0].name, "users");
  EXPECT_EQ(match.path, "/users/:id/*");
  EXPECT_EQ(match.methods, (std::vector<std::string>{"GET", "POST"}));
  EXPECT_EQ(match.host, "api.example.com");
  EXPECT_EQ(config.routes[0].proxy->strip_prefix, "/users");
  EXPECT_EQ(config.routes[1].match.host, "*.example.com");
  EXPECT_EQ(config.routes[1].proxy->strip_prefix, "");
  EXPECT_EQ(config.routes[2].match.host, "::1");
  EXPECT_FALSE(config.routes[3].match.host);
}

TEST(ConfigTest, BadRouteMatches) {
  auto matchError = [](const std::string& match) {
    return routeError(R"({ "match": )" + match + R"(, "proxy": { "origin": "users" } })");
  };
  EXPECT_EQ(matchError(R"({ "path": "v1" })"), "isogate.json: routes[0].match.path: must start with '/'");
  EXPECT_EQ(matchError(R"({ "path": "/v1/*/x" })"),
            "isogate.json: routes[0].match.path: '*' is only allowed as the whole last segment (\"/prefix/*\")");
  EXPECT_EQ(matchError(R"({ "path": "/v1*" })"),
            "isogate.json: routes[0].match.path: '*' is only allowed as the whole last segment (\"/prefix/*\")");
  EXPECT_EQ(matchError(R"({ "path": "/users/:1d" })"),
            "isogate.json: routes[0].match.path: parameter names must match [A-Za-z_][A-Za-z0-9_]*: \":1d\"");
  EXPECT_EQ(matchError(R"({ "path": "/:id/:id" })"), "isogate.json: routes[0].match.path: duplicate parameter \":id\"");
  EXPECT_EQ(matchError(R"({ "path": "/a?b=1" })"),
            "isogate.json: routes[0].match.path: must not contain spaces, control characters, '?' or '#'");
  EXPECT_EQ(matchError(R"({ "path": "/a//b" })"), "isogate.json: routes[0].match.path: empty path segment (\"//\")");
  EXPECT_EQ(matchError(R"({ "path": "/a/../b" })"),
            "isogate.json: routes[0].match.path: dot segments never match (request paths are normalised)");
  EXPECT_EQ(matchError(R"({ "path": "/", "methods": ["GET", "G T"] })"),
            "isogate.json: routes[0].match.methods[1]: invalid method \"G T\"");
  EXPECT_EQ(matchError(R"({ "path": "/", "methods": ["GET", "get"] })"),
            "isogate.json: routes[0].match.methods[1]: duplicate method \"GET\"");
  EXPECT_EQ(matchError(R"({ "path": "/", "methods": [] })"),
            "isogate.json: routes[0].match.methods: must not be empty (leave \"methods\" out to allow any method)");
  EXPECT_EQ(matchError(R"({ "path": "/", "host": "a.com:80" })"),
            "isogate.json: routes[0].match.host: expected a host name, \"*.suffix\" or an IP address, without a port");
  EXPECT_EQ(matchError(R"({ "path": "/", "host": "a.*.com" })"),
            "isogate.json: routes[0].match.host: expected a host name, \"*.suffix\" or an IP address, without a port");
  EXPECT_EQ(routeError(R"({ "match": { "path": "/" }, "proxy": { "origin": "users", "strip_prefix": "v1" } })"),
            "isogate.json: routes[0].proxy.strip_prefix: must start with '/'");
  EXPECT_EQ(routeError(R"({ "name": "", "match": { "path": "/" }, "proxy": { "origin": "users" } })"),
            "isogate.json: routes[0].name: must not be empty");
}

TEST(ConfigTest, MissingScriptFile) {
  TempDir dir;
  std::string file = dir.path() + "/isogate.json";
  EXPECT_EQ(errorFor(R"({ "routes": [ { "match": { "path": "/" }, "script": "users.js" } ] })", file),
            file + ": routes[0].script: cannot read \"users.js\": No such file or directory");
}

// --- Bindings ------------------------------------------------------------------------------------

class ConfigBindingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("x.js", "");
    file_ = dir_.path() + "/isogate.json";
  }

  std::string text(const std::string& bindings) const {
    return withOrigins(R"("routes": [ { "match": { "path": "/" }, "script": "x.js", "bindings": )" + bindings + " } ]");
  }
  // The error message without the "FILE: " prefix.
  std::string error(const std::string& bindings) const {
    std::string message = errorFor(text(bindings), file_);
    return message.starts_with(file_ + ": ") ? message.substr(file_.size() + 2) : message;
  }
  std::vector<BindingConfig> parse(const std::string& bindings) const {
    return parseConfig(text(bindings), file_).routes[0].bindings;
  }

  TempDir dir_;
  std::string file_;
};

TEST_F(ConfigBindingTest, PlainValuesKeepTheirJson) {
  std::vector<BindingConfig> bindings =
      parse(R"({ "A": "text", "B": 42, "C": true, "D": [1, "x"], "E": { "kind": "secret" }, "F": null })");
  ASSERT_EQ(bindings.size(), 6u);
  std::vector<std::string> json;
  for (const BindingConfig& binding : bindings) {
    EXPECT_EQ(binding.type, BindingConfig::Type::kPlain) << binding.name;
    json.push_back(binding.plain_json);
  }
  EXPECT_EQ(json, (std::vector<std::string>{"\"text\"", "42", "true", "[1,\"x\"]", "{\"kind\":\"secret\"}", "null"}));
}

TEST_F(ConfigBindingTest, TypedBindings) {
  setenv("JWT_KEY", "an hmac key", 1);
  std::vector<BindingConfig> bindings = parse(R"({
      "TOKEN": { "type": "secret", "env": "API_TOKEN_THAT_IS_NOT_SET" },
      "HMAC": { "type": "jwt", "algorithms": ["HS256", "HS512"], "secret": "JWT_KEY",
                "audience": ["a", "b"], "clock_skew_s": 0, "required_claims": ["sub", "exp"] },
      "LIMIT": { "type": "ratelimit", "limit": 10, "period": 1, "algorithm": "fixed" },
      "$store": { "type": "kv", "namespace": "sessions" } })");
  ASSERT_EQ(bindings.size(), 4u);
  // nlohmann keeps object keys sorted.
  EXPECT_EQ(bindings[0].name, "$store");
  EXPECT_EQ(bindings[0].kv_namespace, "sessions");
  const JwtBindingConfig& jwt = bindings[1].jwt;
  EXPECT_EQ(bindings[1].type, BindingConfig::Type::kJwt);
  EXPECT_EQ(jwt.secret_env, "JWT_KEY");
  EXPECT_FALSE(jwt.jwks_url);
  EXPECT_FALSE(jwt.issuer);
  EXPECT_EQ(jwt.audience, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(jwt.clock_skew_s, 0u);
  EXPECT_EQ(jwt.required_claims, (std::vector<std::string>{"sub", "exp"}));
  EXPECT_EQ(bindings[2].type, BindingConfig::Type::kRateLimit);
  EXPECT_EQ(bindings[2].ratelimit.algorithm, "fixed");
  EXPECT_EQ(bindings[3].type, BindingConfig::Type::kSecret);
  EXPECT_EQ(bindings[3].secret_env, "API_TOKEN_THAT_IS_NOT_SET");
}

TEST_F(ConfigBindingTest, UnknownType) {
  EXPECT_EQ(error(R"({ "DB": { "type": "postgres", "url": "x" } })"),
            "routes[0].bindings.DB.type: unknown binding type \"postgres\"; expected secret, origin, jwt, ratelimit or kv");
  EXPECT_EQ(error(R"({ "DB": { "type": 1 } })"), "routes[0].bindings.DB.type: expected a string");
}

TEST_F(ConfigBindingTest, NamesMustBeIdentifiers) {
  EXPECT_EQ(error(R"({ "my-binding": 1 })"), "routes[0].bindings.my-binding: binding names must be JavaScript identifiers");
  EXPECT_EQ(error(R"({ "1A": 1 })"), "routes[0].bindings.1A: binding names must be JavaScript identifiers");
  EXPECT_EQ(error(R"([])"), "routes[0].bindings: expected an object");
}

TEST_F(ConfigBindingTest, JwtAlgorithms) {
  const std::string source = R"("jwks_url": "http://auth.example.com/jwks.json?v=2")";
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["RS256", "none"], )" + source + " } }"),
            "routes[0].bindings.AUTH.algorithms[1]: \"none\" is not allowed: it accepts unsigned tokens");
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["rs256"], )" + source + " } }"),
            "routes[0].bindings.AUTH.algorithms[0]: unknown algorithm \"rs256\"; expected RS256/384/512, "
            "PS256/384/512, ES256/384, EdDSA or HS256/384/512");
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["ES384", "ES384"], )" + source + " } }"),
            "routes[0].bindings.AUTH.algorithms[1]: duplicate algorithm \"ES384\"");
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": [], )" + source + " } }"),
            "routes[0].bindings.AUTH.algorithms: must not be empty");
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", )" + source + " } }"),
            "routes[0].bindings.AUTH.algorithms: missing required key");
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["RS256", "HS256"], )" + source + " } }"),
            "routes[0].bindings.AUTH.algorithms[1]: HS256 needs \"secret\" (an HMAC key), not a JWKS");
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["PS256"], "secret": "K" } })"),
            "routes[0].bindings.AUTH.algorithms[0]: PS256 needs a public key from \"jwks_url\" or \"jwks_file\", "
            "not \"secret\"");
}

TEST_F(ConfigBindingTest, JwtSecretForms) {
  setenv("ISOGATE_TEST_HMAC", "k", 1);
  unsetenv("ISOGATE_TEST_UNSET");
  // The name of a secret binding of the same route resolves to its variable.
  std::vector<BindingConfig> bindings = parse(R"({
      "KEY": { "type": "secret", "env": "ISOGATE_TEST_HMAC" },
      "AUTH": { "type": "jwt", "algorithms": ["HS256"], "secret": "KEY" } })");
  ASSERT_EQ(bindings.size(), 2u);
  EXPECT_EQ(bindings[0].name, "AUTH");
  EXPECT_EQ(bindings[0].jwt.secret_env, "ISOGATE_TEST_HMAC");
  // An inline secret binding.
  bindings = parse(R"({ "AUTH": { "type": "jwt", "algorithms": ["HS256"],
                                  "secret": { "type": "secret", "env": "ISOGATE_TEST_HMAC" } } })");
  EXPECT_EQ(bindings[0].jwt.secret_env, "ISOGATE_TEST_HMAC");
  // A missing variable would be an empty key anyone can sign with.
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["HS256"], "secret": "ISOGATE_TEST_UNSET" } })"),
            "routes[0].bindings.AUTH.secret: environment variable ISOGATE_TEST_UNSET is not set");
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["HS256"], "secret": { "type": "origin" } } })"),
            "routes[0].bindings.AUTH.secret.type: expected \"secret\"");
}

TEST_F(ConfigBindingTest, JwtHttpsJwksIsAllowed) {
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["RS256"], "jwks_url": "https://a.example/jwks" } })"),
            "(no error)");
}

TEST_F(ConfigBindingTest, JwtKeySources) {
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["RS256"] } })"),
            "routes[0].bindings.AUTH: needs exactly one key source: \"jwks_url\", \"jwks_file\" or \"secret\"");
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["RS256"], "jwks_url": "http://a/", "jwks_file": "k" } })"),
            "routes[0].bindings.AUTH: needs exactly one key source: \"jwks_url\", \"jwks_file\" or \"secret\"");
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["RS256"], "jwks_url": "jwks.json" } })"),
            "routes[0].bindings.AUTH.jwks_url: invalid URL \"jwks.json\": expected an absolute http:// or https:// URL");
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["RS256"], "jwks_file": "missing.json" } })"),
            "routes[0].bindings.AUTH.jwks_file: cannot read \"missing.json\": No such file or directory");
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["HS256"], "secret": "my key" } })"),
            "routes[0].bindings.AUTH.secret: expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["HS256"], "secret": "K", "audience": [] } })"),
            "routes[0].bindings.AUTH.audience: must not be empty");
  EXPECT_EQ(error(R"({ "AUTH": { "type": "jwt", "algorithms": ["HS256"], "secret": "K", "audience": 1 } })"),
            "routes[0].bindings.AUTH.audience: expected a string or an array of strings");
}

TEST_F(ConfigBindingTest, OtherBindingErrors) {
  EXPECT_EQ(error(R"({ "S": { "type": "secret" } })"), "routes[0].bindings.S.env: missing required key");
  EXPECT_EQ(error(R"({ "L": { "type": "ratelimit", "limit": 0, "period": 1 } })"),
            "routes[0].bindings.L.limit: must be greater than 0");
  EXPECT_EQ(error(R"({ "L": { "type": "ratelimit", "limit": 1, "period": 0 } })"),
            "routes[0].bindings.L.period: must be greater than 0");
  EXPECT_EQ(error(R"({ "L": { "type": "ratelimit", "limit": 1, "period": 1, "algorithm": "token" } })"),
            "routes[0].bindings.L.algorithm: expected \"sliding\" or \"fixed\"");
  EXPECT_EQ(error(R"({ "K": { "type": "kv", "namespace": "" } })"), "routes[0].bindings.K.namespace: must not be empty");
}

}  // namespace
}  // namespace isogate
