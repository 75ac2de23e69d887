#pragma once
// One stored response. Immutable once built (EntryBuilder) and shared by
// every thread that serves it through std::shared_ptr<const CachedResponse>:
// a hit holds the pointer while it writes `body` to its client, so eviction
// or purge never frees bytes still being sent. Nothing in it is copied per hit.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cache/fields.h"

namespace isogate::cache {

struct CachedResponse {
  std::string key;   // the primary key (makeKey): namespace + "GET " + url
  std::string ns;    // the key's namespace ("" = the HTTP cache; caches.open(name) = name)
  std::string url;   // the full URL of the key (purge matches its prefix)
  int status = 200;
  std::string reason;  // "" = the standard phrase
  // End-to-end response fields as received, minus hop-by-hop fields,
  // Age, and fields a private="..." / no-cache="..." directive named.
  // Framing (Content-Length, Transfer-Encoding) is not stored: the body's
  // size is known.
  Fields headers;
  std::string body;
  int64_t stored_ms = 0;       // Unix ms when stored
  int64_t expires_ms = 0;      // Unix ms: fresh while now < expires_ms
  int64_t initial_age_s = 0;   // the corrected age when stored (RFC 9111 4.2.3)
  // Secondary key: the lower-case field names of the response's Vary (plus
  // accept-encoding when the body has a Content-Encoding the Vary did not
  // cover), and the request's normalised values for them (nullopt = absent).
  std::vector<std::string> vary_names;
  std::vector<std::optional<std::string>> vary_values;
  std::string etag;            // "" = none
  std::string last_modified;   // "" = none
  size_t charge = 0;           // bytes accounted against max_mb (body + headers + overhead)

  bool fresh(int64_t now_ms) const { return now_ms < expires_ms; }
  // The Age header value to send (whole seconds, never negative).
  int64_t ageSeconds(int64_t now_ms) const;
  // Whole seconds of freshness left.
  int64_t ttlSeconds(int64_t now_ms) const;
};

}  // namespace isogate::cache
