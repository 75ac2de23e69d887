#include "runtime/admin_api.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "cache/store.h"
#include "runtime/access_log.h"
#include "runtime/deployment.h"
#include "runtime/metrics.h"
#include "runtime/prometheus_text.h"

namespace isogate {

namespace {

// Keys in the order written: easier to read for people and diffs.
using json = nlohmann::ordered_json;

AdminResponse text(int status, std::string body) {
  AdminResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

AdminResponse jsonResponse(int status, const json& body) {
  AdminResponse r;
  r.status = status;
  // Replace, not throw, on invalid UTF-8 (route names and keys come from users).
  r.body = body.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

AdminResponse jsonError(int status, std::string_view code, std::string_view message) {
  return jsonResponse(status, json{{"error", code}, {"message", message}});
}

const char* bindingType(BindingConfig::Type type) {
  switch (type) {
    case BindingConfig::Type::kPlain: return "plain";
    case BindingConfig::Type::kSecret: return "secret";
    case BindingConfig::Type::kOrigin: return "origin";
    case BindingConfig::Type::kJwt: return "jwt";
    case BindingConfig::Type::kRateLimit: return "ratelimit";
    case BindingConfig::Type::kKv: return "kv";
  }
  return "unknown";
}

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && equalsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// Latency in ms rounded to 0.001, or null without requests.
json millis(double seconds, uint64_t requests) {
  if (requests == 0) return nullptr;
  return static_cast<double>(static_cast<int64_t>(seconds * 1e6 + 0.5)) / 1000.0;
}

}  // namespace

void AdminApi::setDeployment(std::shared_ptr<const Deployment> deployment, int64_t loaded_unix_ms,
                             std::string token) {
  std::lock_guard<std::mutex> lock(mutex_);
  deployment_ = std::move(deployment);
  loaded_unix_ms_ = loaded_unix_ms;
  token_ = std::move(token);
}

bool AdminApi::authorized(const std::string* authorization) const {
  std::string token;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    token = token_;
  }
  if (!authorization || !startsWithIgnoreCase(*authorization, "Bearer ")) return false;
  std::string_view given(*authorization);
  given.remove_prefix(7);
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  // Compare digests, so neither the comparison's time nor an early length
  // check tells anything about the token.
  unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
  unsigned int a_len = 0, b_len = 0;
  if (!EVP_Digest(given.data(), given.size(), a, &a_len, EVP_sha256(), nullptr) ||
      !EVP_Digest(token.data(), token.size(), b, &b_len, EVP_sha256(), nullptr) || a_len != b_len) {
    return false;
  }
  return CRYPTO_memcmp(a, b, a_len) == 0;
}

AdminResponse AdminApi::handle(std::string_view method, std::string_view target,
                               const std::string* authorization, std::string_view body) const {
  std::string_view path = target.substr(0, target.find('?'));
  const bool is_admin = path.substr(0, 7) == "/admin/";
  const bool known = path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/admin/config" ||
                     path == "/admin/stats" || path == "/admin/cache/purge";
  if (is_admin) {
    bool enabled;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      enabled = !token_.empty();
    }
    // Without a token the admin API does not exist, rather than being open.
    if (!enabled) return jsonError(404, "not_found", "the admin API is disabled: no token is configured (admin.token_env)");
  }
  if (!known) return jsonError(404, "not_found", "no such endpoint");
  const bool post_only = path == "/admin/cache/purge";
  if (post_only && method != "POST") {
    AdminResponse r = jsonError(405, "method_not_allowed", "only POST is allowed");
    r.headers.push_back({"Allow", "POST"});
    return r;
  }
  if (!post_only && method != "GET" && method != "HEAD") {
    AdminResponse r = jsonError(405, "method_not_allowed", "only GET and HEAD are allowed");
    r.headers.push_back({"Allow", "GET, HEAD"});
    return r;
  }
  if (is_admin && !authorized(authorization)) {
    AdminResponse r = jsonError(401, "unauthorized", "a valid Authorization: Bearer <token> header is required");
    r.headers.push_back({"WWW-Authenticate", "Bearer realm=\"isogate-admin\""});
    return r;
  }

  if (path == "/healthz") return text(200, "ok\n");
  if (path == "/readyz") {
    if (draining_.load(std::memory_order_acquire)) return text(503, "draining\n");
    if (!ready_.load(std::memory_order_acquire)) return text(503, "starting\n");
    return text(200, "ready\n");
  }
  if (path == "/metrics") {
    AdminResponse r = text(200, metrics::prometheusText());
    r.content_type = std::string(kPrometheusContentType);
    return r;
  }
  if (path == "/admin/config") return configJson();
  if (path == "/admin/cache/purge") return cachePurge(body);
  return statsJson();
}

// {"prefix": "http://host[:port]/path"}: removes every cached response whose
// URL starts with the prefix (scheme and host compared case-insensitively,
// the default port ignored); "" removes everything. Answers {"purged": N}.
AdminResponse AdminApi::cachePurge(std::string_view body) const {
  std::string prefix;
  try {
    nlohmann::json j = nlohmann::json::parse(body);
    if (!j.is_object() || !j.contains("prefix") || !j["prefix"].is_string()) {
      return jsonError(400, "bad_request", "expected a JSON body {\"prefix\": \"http://host/path\"}");
    }
    prefix = j["prefix"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return jsonError(400, "bad_request", "expected a JSON body {\"prefix\": \"http://host/path\"}");
  }
  if (!prefix.empty()) {
    size_t scheme_end = prefix.find("://");
    if (scheme_end == std::string::npos || scheme_end == 0) {
      return jsonError(400, "bad_request", "prefix must be an absolute http:// or https:// URL (or \"\" for all)");
    }
    size_t path_start = prefix.find('/', scheme_end + 3);
    std::string_view authority = std::string_view(prefix).substr(
        scheme_end + 3, path_start == std::string::npos ? std::string::npos : path_start - scheme_end - 3);
    std::string path = path_start == std::string::npos ? "/" : prefix.substr(path_start);
    prefix = cache::requestUrl(prefix.substr(0, scheme_end), authority, path);
  }
  const size_t purged = response_cache_ ? response_cache_->purgePrefix(prefix) : 0;
  return jsonResponse(200, json{{"purged", purged}, {"prefix", prefix}, {"enabled", response_cache_ != nullptr}});
}

AdminResponse AdminApi::configJson() const {
  std::shared_ptr<const Deployment> deployment;
  int64_t loaded_ms;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    deployment = deployment_;
    loaded_ms = loaded_unix_ms_;
  }
  if (!deployment) return jsonError(503, "not_ready", "no deployment is loaded yet");
  const Config& config = deployment->config();
  json routes = json::array();
  for (const RouteConfig& route : config.routes) {
    json match{{"path", route.match.path}};
    if (!route.match.methods.empty()) match["methods"] = route.match.methods;
    if (route.match.host) match["host"] = *route.match.host;
    json r{{"name", route.name}, {"match", match}, {"kind", route.script ? "script" : "proxy"}};
    if (route.script) r["script"] = *route.script;
    if (route.proxy) r["origin"] = route.proxy->origin;
    // Types only: plain values and secrets stay out of the admin API.
    json bindings = json::object();
    for (const BindingConfig& binding : route.bindings) bindings[binding.name] = bindingType(binding.type);
    r["bindings"] = bindings;
    routes.push_back(std::move(r));
  }
  const std::string file = config.dir + "/" + config.file.substr(config.file.rfind('/') + 1);
  return jsonResponse(200, json{{"id", deployment->id()},
                                {"loaded_at", formatTimestamp(loaded_ms)},
                                {"loaded_at_ms", loaded_ms},
                                {"config_file", file},
                                {"routes", routes}});
}

AdminResponse AdminApi::statsJson() const {
  std::shared_ptr<const Deployment> deployment;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    deployment = deployment_;
  }
  std::vector<metrics::RouteStats> stats = metrics::routeStats();
  const double window_seconds = stats.empty() ? metrics::statsWindowSeconds() : stats.front().window_seconds;
  // The running deployment's routes first, in config order (with zeros
  // before their first request), then whatever else has counts: requests
  // that matched no route (""), routes of earlier deployments.
  std::vector<const metrics::RouteStats*> ordered;
  std::set<std::string> listed;
  metrics::RouteStats empty;
  std::vector<metrics::RouteStats> zeros;
  if (deployment) {
    zeros.reserve(deployment->config().routes.size());
    for (const RouteConfig& route : deployment->config().routes) {
      if (!listed.insert(route.name).second) continue;
      auto it = std::find_if(stats.begin(), stats.end(), [&](const auto& s) { return s.route == route.name; });
      if (it != stats.end()) {
        ordered.push_back(&*it);
      } else {
        zeros.push_back(empty);
        zeros.back().route = route.name;
        ordered.push_back(&zeros.back());
      }
    }
  }
  for (const metrics::RouteStats& s : stats) {
    if (listed.insert(s.route).second) ordered.push_back(&s);
  }
  json routes = json::array();
  for (const metrics::RouteStats* s : ordered) {
    const double rps = window_seconds > 0 ? static_cast<double>(s->window_requests) / window_seconds : 0;
    routes.push_back(json{{"route", s->route},
                          {"requests", s->window_requests},
                          {"errors", s->window_errors},
                          {"rps", static_cast<double>(static_cast<int64_t>(rps * 100 + 0.5)) / 100.0},
                          {"p50_ms", millis(s->p50_seconds, s->window_requests)},
                          {"p95_ms", millis(s->p95_seconds, s->window_requests)},
                          {"p99_ms", millis(s->p99_seconds, s->window_requests)},
                          {"requests_total", s->requests_total},
                          {"errors_total", s->errors_total}});
  }
  json cache = nullptr;
  if (response_cache_) {
    const cache::StoreStats c = response_cache_->stats();
    cache = json{{"entries", c.entries},       {"bytes", c.bytes},         {"max_bytes", c.max_bytes},
                 {"inserts", c.inserts},       {"evictions", c.evictions}, {"purged", c.purged},
                 {"fills_in_flight", c.fills_in_flight}};
  }
  return jsonResponse(200, json{{"window_seconds", window_seconds}, {"routes", routes}, {"cache", cache}});
}

}  // namespace isogate
