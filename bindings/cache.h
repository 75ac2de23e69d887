#pragma once
// The response cache as scripts reach it: the Workers Cache API
// (`caches.default`, `caches.open(name)`; installCache in registry.h) and what
// fetch() with `cacheTtl` shares with it (fetch.cc). Worker thread only; the
// store itself (cache/store.h) is process-wide and thread-safe.

#include <v8.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cache/entry.h"
#include "runtime/access_log.h"
#include "runtime/script_instance.h"

namespace isogate {

namespace cache {
class Store;
}

// The process's response store, or null when caching is off (cache.max_mb 0).
cache::Store* responseStore(ScriptInstance& instance);

// A script URL ("HTTP://Example.com:80/a?b#c") spelled as cache keys are
// (cache::requestUrl: lower-case scheme and host, no default port, no
// fragment).
std::string cacheKeyUrl(std::string_view url);

// A stored response as the parts of a script Response: [status, statusText,
// flatHeaders, bodyHandle | null], the headers with `Age` and `Cache-Status:
// cache_status` added. `not_modified` answers 304 with the entry's
// validators (RFC 9110 15.4.5); `head` leaves the body out. The body handle
// serves the stored bytes themselves: nothing is copied unless JavaScript
// reads them. The handle belongs to `request_id`.
v8::Local<v8::Array> storedResponseParts(ScriptInstance& instance, uint64_t request_id,
                                         const std::shared_ptr<const cache::CachedResponse>& entry,
                                         bool not_modified, bool head, const std::string& cache_status,
                                         int64_t now_ms);

// Records what the cache did for `request` in its access-log line (and so in
// isogate_cache_requests_total). A hit or miss is not downgraded by a later
// bypass of the same request (a script may consult the cache several times).
void setCacheUse(const RequestContext& request, CacheUse use);

}  // namespace isogate
