#include "kv/limits.h"

#include <string>

namespace isogate::kv {
namespace {

Status tooLarge(const char* what, size_t bytes, size_t limit) {
  return Status(Status::Code::kTooLarge, std::string(what) + " is " + std::to_string(bytes) +
                                             " bytes; the limit is " + std::to_string(limit));
}

}  // namespace

Status checkKey(std::string_view key) {
  if (key.empty()) return Status(Status::Code::kInvalidArgument, "key must not be empty");
  if (key.size() > kMaxKeyBytes) return tooLarge("key", key.size(), kMaxKeyBytes);
  return Status();
}

Status checkValueSize(size_t bytes) {
  if (bytes > kMaxValueBytes) return tooLarge("value", bytes, kMaxValueBytes);
  return Status();
}

Status checkMetadata(std::string_view metadata_json) {
  if (metadata_json.size() > kMaxMetadataBytes) {
    return tooLarge("metadata (serialized)", metadata_json.size(), kMaxMetadataBytes);
  }
  return Status();
}

Status checkNamespace(std::string_view name) {
  if (name.empty()) return Status(Status::Code::kInvalidArgument, "namespace must not be empty");
  if (name.size() > kMaxNamespaceBytes) {
    return Status(Status::Code::kInvalidArgument,
                  "namespace is " + std::to_string(name.size()) + " bytes; the limit is " +
                      std::to_string(kMaxNamespaceBytes));
  }
  if (name.find('\0') != std::string_view::npos) {
    return Status(Status::Code::kInvalidArgument, "namespace must not contain NUL");
  }
  return Status();
}

Status expirationFromTtl(uint64_t ttl_s, uint64_t now_s, uint64_t* expiration) {
  if (ttl_s < kMinExpirationTtlSeconds) {
    return Status(Status::Code::kInvalidArgument,
                  "invalid expirationTtl of " + std::to_string(ttl_s) +
                      "; expirationTtl must be at least 60 seconds");
  }
  if (ttl_s > UINT64_MAX - now_s) {
    return Status(Status::Code::kInvalidArgument,
                  "invalid expirationTtl of " + std::to_string(ttl_s));
  }
  *expiration = now_s + ttl_s;
  return Status();
}

Status checkExpiration(uint64_t expiration, uint64_t now_s) {
  if (expiration < now_s + kMinExpirationTtlSeconds) {
    return Status(Status::Code::kInvalidArgument,
                  "invalid expiration of " + std::to_string(expiration) +
                      "; expiration must be at least 60 seconds in the future");
  }
  return Status();
}

}  // namespace isogate::kv
