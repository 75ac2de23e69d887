#pragma once
// Process-wide metrics for Prometheus (/metrics on the admin listener) and
// /admin/stats. Recording is lock-free and cheap enough for every request:
// each thread counts into its own cells (relaxed atomics), and a scrape
// merges all threads' cells. Label values are copied on first use; label
// sets are never forgotten (bounded by routes, origins, statuses, and the
// api_key cap). Any thread may call any function. Built with
// -DISOGATE_METRICS=OFF, the record functions do nothing (to measure what
// recording costs); the exposition then shows zeros.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace isogate::metrics {

// One finished client request (after the response, at access-log time).
// `route` is the route's name ("" when no route matched).
void recordRequest(std::string_view route, int status, double seconds);

// One request to an origin: `status` is the response status, or 0 when no
// response head arrived (refused, reset, timeout).
void recordUpstream(std::string_view origin, int status, double seconds);

// Circuit breaker state of an origin: 0 closed, 1 open, 2 half-open. One
// value per origin for the process: the latest call wins.
void setCircuitState(std::string_view origin, int state);

// Open client connections, across workers.
void addActiveConnections(int delta);

// Live isolates of a script route, across workers (+1 built, -1 disposed).
void addIsolates(std::string_view route, int delta);

// CPU time a request spent in JavaScript.
void recordScriptCpu(std::string_view route, double seconds);

// A request that ended in a script error or an exceeded limit: kind is
// "exception" (uncaught), "bad_response" (not a Response), "load" (the
// script failed to load), "exceeded_cpu", "exceeded_memory" or
// "exceeded_wall_time".
void recordScriptError(std::string_view route, std::string_view kind);

// The `api_key` a handler set with ctx.log({ api_key }); the busiest keys
// per route get their own series, the rest count as "other" (the rule is
// in runtime/key_ranking.h). Empty keys are not counted.
void recordApiKey(std::string_view route, std::string_view key);

// KV binding operations: op is "get", "put", "delete" or "list".
void recordKvOperation(std::string_view op);

// A ratelimit binding refused a request / allowed one because its counter
// store failed.
void recordRateLimitRejected(std::string_view route);
void recordRateLimitFailOpen();

// A client TLS handshake that failed (malformed ClientHello, no common
// version or cipher, the client gave up: reason "failed") or did not finish
// within header_timeout_ms (reason "timeout"). Rare: one shared counter.
void recordTlsHandshakeError(bool timeout);

// A request on a route that uses the response cache: result is "hit",
// "miss" or "bypass" (other values are ignored). Worker::logRequest records
// it from AccessLogEntry::cache.
void recordCacheRequest(std::string_view route, std::string_view result);

// The Prometheus text exposition (format 0.0.4) of everything recorded:
// families sorted by name, samples by label values.
std::string prometheusText();

// What /admin/stats reports for one route.
struct RouteStats {
  std::string route;            // "" for requests that matched no route
  uint64_t requests_total = 0;  // since start
  uint64_t errors_total = 0;    // responses with status >= 500, since start
  // Over the last minute (window_seconds: 55 to 60 s, less right after start).
  uint64_t window_requests = 0;
  uint64_t window_errors = 0;
  double window_seconds = 0;
  double p50_seconds = 0, p95_seconds = 0, p99_seconds = 0;  // 0 without requests in the window
};
// Every route that has seen a request, sorted by route.
std::vector<RouteStats> routeStats();
// The length of that window now (what routeStats() would put in window_seconds).
double statsWindowSeconds();

}  // namespace isogate::metrics
