#pragma once
// Cache-Control (RFC 9111 5.2) as a struct. Parsing is lenient the way
// caches must be: unknown directives are ignored, a malformed delta-seconds
// makes its directive count as absent (max-age) or as the safest meaning,
// duplicates keep the first value. Plain values, no threads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isogate::cache {

struct CacheControl {
  bool no_store = false;
  bool no_cache = false;          // unqualified `no-cache`
  bool private_ = false;          // unqualified `private`
  bool public_ = false;
  bool must_revalidate = false;
  bool proxy_revalidate = false;
  bool must_understand = false;
  bool no_transform = false;
  bool only_if_cached = false;    // request
  bool immutable = false;
  std::optional<int64_t> max_age;
  std::optional<int64_t> s_maxage;
  std::optional<int64_t> max_stale;  // request; INT64_MAX for a bare max-stale
  std::optional<int64_t> min_fresh;  // request
  // Field-qualified forms: private="Set-Cookie, X-Y" and no-cache="..." name
  // fields a shared cache must not store / send without revalidation; the
  // response itself may be stored without them. Lower-case.
  std::vector<std::string> private_fields;
  std::vector<std::string> no_cache_fields;
};

// Parses one Cache-Control value (pass several fields joined with ", ").
CacheControl parseCacheControl(std::string_view value);

}  // namespace isogate::cache
