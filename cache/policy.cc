#include "cache/policy.h"

#include <algorithm>

#include "cache/http_date.h"

namespace isogate::cache {

namespace {

// Splits a comma-separated list into trimmed, non-empty elements.
std::vector<std::string_view> listElements(std::string_view value) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view element = trimWhitespace(value.substr(start, comma - start));
    if (!element.empty()) out.push_back(element);
    start = comma + 1;
  }
  return out;
}

bool hasToken(std::string_view list, std::string_view token) {
  for (std::string_view e : listElements(list)) {
    if (equalsIgnoreCase(e, token)) return true;
  }
  return false;
}

std::optional<int64_t> parseDelta(std::string_view text) {
  text = trimWhitespace(text);
  if (text.empty()) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v < (int64_t{1} << 31)) v = v * 10 + (c - '0');
  }
  return std::min<int64_t>(v, int64_t{1} << 31);
}

StoreDecision notStored(std::string detail) {
  StoreDecision d;
  d.detail = std::move(detail);
  return d;
}

// The opaque-tag of an entity-tag without its weakness prefix ("\"x\"").
std::string_view opaqueTag(std::string_view tag) {
  tag = trimWhitespace(tag);
  if (tag.size() >= 2 && (tag[0] == 'W' || tag[0] == 'w') && tag[1] == '/') tag.remove_prefix(2);
  return tag;
}

}  // namespace

std::string requestUrl(std::string_view scheme, std::string_view authority, std::string_view path_and_query) {
  std::string out = toLower(scheme);
  out.append("://");
  std::string host = toLower(authority);
  // Drop the scheme's default port (the last ':' after any IPv6 literal).
  size_t bracket = host.rfind(']');
  size_t colon = host.rfind(':');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    std::string_view port = std::string_view(host).substr(colon + 1);
    if ((out == "http://" && port == "80") || (out == "https://" && port == "443") || port.empty()) {
      host.resize(colon);
    }
  }
  out.append(host);
  if (path_and_query.empty() || path_and_query[0] != '/') out.push_back('/');
  out.append(path_and_query);
  return out;
}

std::string makeKey(std::string_view ns, std::string_view url) {
  std::string key;
  key.reserve(ns.size() + url.size() + 5);
  if (!ns.empty()) {
    key.append(ns);
    key.push_back('\n');
  }
  key.append("GET ");
  key.append(url);
  return key;
}

std::string normalizeVaryValue(std::string_view value) {
  std::string out;
  for (std::string_view e : listElements(value)) {
    if (!out.empty()) out.append(", ");
    out.append(e);
  }
  return out;
}

std::vector<std::optional<std::string>> varyValues(const std::vector<std::string>& vary_names,
                                                   const FieldReader& request) {
  std::vector<std::optional<std::string>> out;
  out.reserve(vary_names.size());
  for (const std::string& name : vary_names) {
    std::optional<std::string> v = request(name);
    if (v) v = normalizeVaryValue(*v);
    out.push_back(std::move(v));
  }
  return out;
}

RequestFacts requestFactsFrom(std::string_view method, const FieldReader& request) {
  RequestFacts facts;
  facts.method = std::string(method);
  std::optional<std::string> cc = request("cache-control");
  if (cc) {
    facts.cache_control = parseCacheControl(*cc);
  } else if (std::optional<std::string> pragma = request("pragma")) {
    facts.pragma_no_cache = hasToken(*pragma, "no-cache");
  }
  facts.authorization = request("authorization").has_value();
  facts.if_none_match = request("if-none-match");
  facts.if_modified_since = request("if-modified-since");
  return facts;
}

RequestUse requestUse(const RequestFacts& request) {
  if (request.method != "GET" && request.method != "HEAD") return RequestUse::kBypassMethod;
  const CacheControl& cc = request.cache_control;
  if (cc.no_store || cc.no_cache || (cc.max_age && *cc.max_age == 0) || request.pragma_no_cache) {
    return RequestUse::kBypassRequest;
  }
  return RequestUse::kLookup;
}

bool cacheableStatus(int status) {
  switch (status) {
    case 200: case 203: case 204: case 300: case 301: case 308:
    case 404: case 405: case 410: case 414: case 501:
      return true;
    default:
      return false;
  }
}

bool hopByHopField(std::string_view name, std::string_view connection) {
  static constexpr std::string_view kHopByHop[] = {"connection", "keep-alive", "proxy-connection", "te",
                                                   "trailer", "transfer-encoding", "upgrade"};
  for (std::string_view h : kHopByHop) {
    if (equalsIgnoreCase(name, h)) return true;
  }
  return !connection.empty() && hasToken(connection, name);
}

StoreDecision decideStoreFrom(const RequestFacts& request, int status, const FieldReader& response,
                              std::optional<int64_t> ttl_override_s, int64_t now_ms) {
  if (request.method != "GET") return notStored("method");
  if (request.cache_control.no_store) return notStored("request-no-store");
  if (!cacheableStatus(status)) return notStored("status");

  CacheControl cc;
  if (std::optional<std::string> v = response("cache-control")) cc = parseCacheControl(*v);
  if (cc.no_store) return notStored("no-store");
  if (cc.private_) return notStored("private");
  if (cc.no_cache) return notStored("no-cache");

  StoreDecision d;
  if (std::optional<std::string> vary = response("vary")) {
    for (std::string_view name : listElements(*vary)) {
      if (name == "*") return notStored("vary-star");
      std::string lower = toLower(name);
      if (std::find(d.vary_names.begin(), d.vary_names.end(), lower) == d.vary_names.end()) {
        d.vary_names.push_back(std::move(lower));
      }
    }
  }
  // A body in some coding must never reach a client that did not ask for
  // it, even when the origin forgot to say Vary: Accept-Encoding.
  if (std::optional<std::string> ce = response("content-encoding")) {
    if (!equalsIgnoreCase(trimWhitespace(*ce), "identity") && !trimWhitespace(*ce).empty() &&
        std::find(d.vary_names.begin(), d.vary_names.end(), "accept-encoding") == d.vary_names.end()) {
      d.vary_names.push_back("accept-encoding");
    }
  }

  d.strip_fields = cc.private_fields;
  d.strip_fields.insert(d.strip_fields.end(), cc.no_cache_fields.begin(), cc.no_cache_fields.end());
  if (response("set-cookie") &&
      std::find(d.strip_fields.begin(), d.strip_fields.end(), "set-cookie") == d.strip_fields.end()) {
    return notStored("set-cookie");
  }
  if (request.authorization && !cc.public_ && !cc.s_maxage && !cc.must_revalidate) {
    return notStored("authorization");
  }

  // Age (RFC 9111 4.2.3), from the response's own Date and Age fields.
  int64_t now_s = now_ms / 1000;
  std::optional<int64_t> date;
  if (std::optional<std::string> v = response("date")) date = parseHttpDate(*v);
  int64_t apparent_age = date ? std::max<int64_t>(0, now_s - *date) : 0;
  int64_t age_value = 0;
  if (std::optional<std::string> v = response("age")) age_value = parseDelta(*v).value_or(0);
  d.initial_age_s = std::max(apparent_age, age_value);

  if (ttl_override_s) {
    if (*ttl_override_s <= 0) return notStored("ttl-zero");
    d.lifetime_ms = *ttl_override_s * 1000;
    d.store = true;
    return d;
  }

  std::optional<int64_t> lifetime_s;
  if (cc.s_maxage) {
    lifetime_s = cc.s_maxage;
  } else if (cc.max_age) {
    lifetime_s = cc.max_age;
  } else if (std::optional<std::string> v = response("expires")) {
    std::optional<int64_t> expires = parseHttpDate(*v);
    // An invalid Expires (e.g. "0") means already expired.
    lifetime_s = expires ? std::max<int64_t>(0, *expires - date.value_or(now_s)) : 0;
  }
  if (!lifetime_s) return notStored("no-freshness");
  int64_t left_ms = (*lifetime_s - d.initial_age_s) * 1000;
  if (left_ms <= 0) {
    StoreDecision stale = notStored("stale");
    return stale;
  }
  d.lifetime_ms = left_ms;
  d.store = true;
  return d;
}

bool etagMatches(std::string_view if_none_match, std::string_view etag) {
  if (trimWhitespace(if_none_match) == "*") return true;
  if (etag.empty()) return false;
  std::string_view want = opaqueTag(etag);
  // Entity-tags may contain commas inside their quotes: scan tag by tag.
  size_t i = 0;
  while (i < if_none_match.size()) {
    while (i < if_none_match.size() &&
           (if_none_match[i] == ' ' || if_none_match[i] == '\t' || if_none_match[i] == ',')) {
      ++i;
    }
    size_t start = i;
    if (i + 1 < if_none_match.size() && (if_none_match[i] == 'W' || if_none_match[i] == 'w') &&
        if_none_match[i + 1] == '/') {
      i += 2;
    }
    if (i < if_none_match.size() && if_none_match[i] == '"') {
      size_t close = if_none_match.find('"', i + 1);
      if (close == std::string_view::npos) return false;
      i = close + 1;
    } else {
      while (i < if_none_match.size() && if_none_match[i] != ',') ++i;
    }
    if (i > start && opaqueTag(if_none_match.substr(start, i - start)) == want) return true;
  }
  return false;
}

bool notModified(const CachedResponse& entry, const RequestFacts& request) {
  if (request.method != "GET" && request.method != "HEAD") return false;
  // Preconditions apply only to what would otherwise be a 2xx (RFC 9110 13.2.1).
  if (entry.status < 200 || entry.status >= 300) return false;
  if (request.if_none_match) return etagMatches(*request.if_none_match, entry.etag);
  if (!request.if_modified_since) return false;
  std::optional<int64_t> since = parseHttpDate(*request.if_modified_since);
  if (!since) return false;
  std::optional<int64_t> modified;
  if (!entry.last_modified.empty()) {
    modified = parseHttpDate(entry.last_modified);
  } else if (std::optional<std::string> date = joinedField(entry.headers, "date")) {
    modified = parseHttpDate(*date);
  } else {
    modified = entry.stored_ms / 1000;
  }
  return modified && *modified <= *since;
}

Fields notModifiedFields(const CachedResponse& entry) {
  static constexpr std::string_view kKept[] = {"etag", "last-modified", "cache-control", "expires",
                                               "vary", "date", "content-location"};
  Fields out;
  for (const Field& f : entry.headers) {
    for (std::string_view k : kKept) {
      if (equalsIgnoreCase(f.name, k)) {
        out.push_back(f);
        break;
      }
    }
  }
  return out;
}

const char* forwardName(Forward fwd) {
  switch (fwd) {
    case Forward::kUriMiss: return "uri-miss";
    case Forward::kVaryMiss: return "vary-miss";
    case Forward::kMiss: return "miss";
    case Forward::kStale: return "stale";
    case Forward::kRequest: return "request";
    case Forward::kMethod: return "method";
    case Forward::kBypass: return "bypass";
  }
  return "miss";
}

std::string cacheStatusHit() {
  std::string out(kCacheName);
  out.append("; hit");
  return out;
}

std::string cacheStatusHit(int64_t) { return cacheStatusHit(); }

std::string cacheStatusForward(Forward fwd, bool stored, std::string_view detail, int fwd_status, bool collapsed) {
  std::string out(kCacheName);
  out.append("; fwd=").append(forwardName(fwd));
  if (fwd_status > 0) out.append("; fwd-status=").append(std::to_string(fwd_status));
  if (stored) out.append("; stored");
  if (collapsed) out.append("; collapsed");
  if (!detail.empty()) out.append("; detail=").append(detail);
  return out;
}

}  // namespace isogate::cache
