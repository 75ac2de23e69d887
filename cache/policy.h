#pragma once
// RFC 9111 shared-cache rules as pure functions: cache keys, what a request
// allows, whether and how long a response may be stored, conditional
// requests against a stored response, and RFC 9211 Cache-Status values.
// No clock: callers pass the time (Unix ms). Plain values, any thread.
//
// Header arguments are any list of objects with `name` and `value` string
// members (isogate::HeaderList, cache::Fields).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_control.h"
#include "cache/entry.h"
#include "cache/fields.h"

namespace isogate::cache {

// ---- keys ----

// "http://host[:port]/path?query": scheme and host lower-cased, the scheme's
// default port dropped. `authority` is the Host header as the client sent it
// (or an origin URL's authority); `path_and_query` starts with '/'.
std::string requestUrl(std::string_view scheme, std::string_view authority, std::string_view path_and_query);

// The primary key: "GET " + url, prefixed with "<ns>\n" for a named cache
// (caches.open(name)). Only GET responses are stored; HEAD looks up the GET
// key (pass "GET" for both). `ns` "" is the HTTP cache shared by proxy
// routes, fetch() with cacheTtl and caches.default.
std::string makeKey(std::string_view ns, std::string_view url);

// Reads a request field by lower-case name: every field of that name joined
// with ", ", or nullopt when absent.
using FieldReader = std::function<std::optional<std::string>(std::string_view lower_name)>;

template <class Headers>
FieldReader fieldReader(const Headers& headers) {
  return [&headers](std::string_view name) { return joinedField(headers, name); };
}

// The request's values for a response's Vary names, normalised (each
// comma-separated element trimmed of whitespace, empty elements dropped).
std::vector<std::optional<std::string>> varyValues(const std::vector<std::string>& vary_names,
                                                   const FieldReader& request);
std::string normalizeVaryValue(std::string_view value);

// ---- requests ----

struct RequestFacts {
  std::string method;
  CacheControl cache_control;
  bool pragma_no_cache = false;  // honoured only without a Cache-Control field
  bool authorization = false;
  std::optional<std::string> if_none_match;
  std::optional<std::string> if_modified_since;
};

RequestFacts requestFactsFrom(std::string_view method, const FieldReader& request);
template <class Headers>
RequestFacts requestFacts(std::string_view method, const Headers& headers) {
  return requestFactsFrom(method, fieldReader(headers));
}

enum class RequestUse {
  kLookup,         // GET or HEAD: look up, serve a fresh hit
  kBypassMethod,   // any other method: forward, never store (Cache-Status fwd=method)
  kBypassRequest,  // the request's Cache-Control (no-cache, max-age=0, no-store) or
                   // Pragma: no-cache forbids a stored answer: forward (fwd=request);
                   // the response may still be stored unless the request said no-store
};
RequestUse requestUse(const RequestFacts& request);

// ---- responses ----

struct StoreDecision {
  bool store = false;
  // Why not, as a Cache-Status detail token: "method", "request-no-store",
  // "status", "no-store", "private", "no-cache", "set-cookie", "vary-star",
  // "authorization", "no-freshness", "stale", "ttl-zero"; "" when stored.
  std::string detail;
  int64_t lifetime_ms = 0;   // freshness left from now: expires = now + lifetime_ms
  int64_t initial_age_s = 0;  // corrected age at receipt (Age header, Date)
  std::vector<std::string> vary_names;    // lower-case; see CachedResponse::vary_names
  std::vector<std::string> strip_fields;  // lower-case fields not to store
};

// Whether a response to `request` may be stored, and for how long.
// `ttl_override_s` (a route's ttl_s, fetch()'s cacheTtl; pass only values
// > 0) replaces the origin's freshness, but never stores what no-store,
// private, no-cache, Set-Cookie, Vary: * or the status forbid.
// Without an override, freshness is s-maxage, then max-age, then
// Expires − Date; none (or zero) means not stored.
StoreDecision decideStoreFrom(const RequestFacts& request, int status, const FieldReader& response,
                              std::optional<int64_t> ttl_override_s, int64_t now_ms);
template <class Headers>
StoreDecision decideStore(const RequestFacts& request, int status, const Headers& response_headers,
                          std::optional<int64_t> ttl_override_s, int64_t now_ms) {
  return decideStoreFrom(request, status, fieldReader(response_headers), ttl_override_s, now_ms);
}

// RFC 9111 3: 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501.
bool cacheableStatus(int status);
// Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade
// and those named in `connection`.
bool hopByHopField(std::string_view name, std::string_view connection);

// ---- conditional requests (RFC 9110 13) against a fresh entry ----

// If-None-Match (weak comparison, "*", lists) decides when present;
// otherwise If-Modified-Since against Last-Modified (or Date). GET and HEAD
// only, and only for a stored 2xx (a cached 404 is sent as is).
bool notModified(const CachedResponse& entry, const RequestFacts& request);
// The fields of a 304 from `entry`: ETag, Last-Modified, Cache-Control,
// Expires, Vary, Date, Content-Location (those present).
Fields notModifiedFields(const CachedResponse& entry);
// Weak comparison of one If-None-Match value (a list, or "*") with an ETag.
bool etagMatches(std::string_view if_none_match, std::string_view etag);

// ---- Cache-Status (RFC 9211) ----

inline constexpr std::string_view kCacheName = "isogate";

enum class Forward {
  kUriMiss,   // nothing stored for the URL ("uri-miss"; forwardFor() reports kMiss instead, see below)
  kVaryMiss,  // stored, but not for this request's Vary values
  kMiss,      // nothing usable stored: the plain miss DESIGN.md fixes ("isogate; fwd=miss; stored")
  kStale,     // stored but expired
  kRequest,   // the request forbade a stored answer
  kMethod,    // not GET/HEAD
  kBypass,    // the cache chose not to look (e.g. the store is off)
};
const char* forwardName(Forward fwd);

// Exactly "isogate; hit", as DESIGN.md fixes it (no ttl parameter, so that
// clients and tests comparing the whole value keep working). The ttl
// argument is accepted for API stability and not emitted.
std::string cacheStatusHit();
std::string cacheStatusHit(int64_t ttl_s);
// "isogate; fwd=miss[; fwd-status=S][; stored][; collapsed][; detail=D]"
// (fwd-status only when `fwd_status` > 0).
std::string cacheStatusForward(Forward fwd, bool stored, std::string_view detail = {}, int fwd_status = 0,
                               bool collapsed = false);

}  // namespace isogate::cache
