#pragma once
// The Workers KV limits and put-option rules, in one place for the Store,
// the kv binding and the `isogate kv` CLI. Pure functions, any thread.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kv/status.h"

namespace isogate::kv {

inline constexpr size_t kMaxKeyBytes = 512;
inline constexpr size_t kMaxValueBytes = 25 * 1024 * 1024;  // 25 MiB
inline constexpr size_t kMaxMetadataBytes = 1024;           // serialized JSON
inline constexpr uint32_t kMaxListLimit = 1000;
inline constexpr uint64_t kMinExpirationTtlSeconds = 60;
inline constexpr size_t kMaxNamespaceBytes = 200;

// Non-empty and at most kMaxKeyBytes bytes (kTooLarge / kInvalidArgument).
Status checkKey(std::string_view key);
// At most kMaxValueBytes (kTooLarge).
Status checkValueSize(size_t bytes);
// At most kMaxMetadataBytes (kTooLarge).
Status checkMetadata(std::string_view metadata_json);
// 1..kMaxNamespaceBytes bytes without NUL (kInvalidArgument).
Status checkNamespace(std::string_view name);

// Workers' put() rules, for callers that take user input (the binding and
// the CLI); the Store itself accepts any absolute expiration.
// expirationTtl: at least 60 seconds; *expiration = now_s + ttl_s.
Status expirationFromTtl(uint64_t ttl_s, uint64_t now_s, uint64_t* expiration);
// expiration (epoch seconds): at least 60 seconds after now_s.
Status checkExpiration(uint64_t expiration, uint64_t now_s);

}  // namespace isogate::kv
