#include "kv/record.h"

#include <cstring>

namespace isogate::kv {
namespace {

constexpr uint8_t kHasExpiration = 1;
constexpr uint8_t kHasMetadata = 2;

void putLe(char* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[i] = char((v >> (8 * i)) & 0xff);
}

uint64_t getLe(const char* in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(uint8_t(in[i])) << (8 * i);
  return v;
}

}  // namespace

size_t recordSize(std::optional<std::string_view> metadata, size_t value_bytes) {
  return kRecordHeaderBytes + (metadata ? metadata->size() : 0) + value_bytes;
}

void encodeRecord(std::optional<uint64_t> expiration, std::optional<std::string_view> metadata,
                  std::string_view value, char* out) {
  uint8_t flags = (expiration ? kHasExpiration : 0) | (metadata ? kHasMetadata : 0);
  out[0] = char(flags);
  putLe(out + 1, expiration.value_or(0), 8);
  size_t metadata_bytes = metadata ? metadata->size() : 0;
  putLe(out + 9, metadata_bytes, 4);
  char* p = out + kRecordHeaderBytes;
  if (metadata_bytes != 0) memcpy(p, metadata->data(), metadata_bytes);
  p += metadata_bytes;
  if (!value.empty()) memcpy(p, value.data(), value.size());
}

std::optional<RecordView> decodeRecord(std::string_view bytes) {
  if (bytes.size() < kRecordHeaderBytes) return std::nullopt;
  uint8_t flags = uint8_t(bytes[0]);
  if ((flags & ~(kHasExpiration | kHasMetadata)) != 0) return std::nullopt;
  uint64_t metadata_bytes = getLe(bytes.data() + 9, 4);
  if (metadata_bytes > bytes.size() - kRecordHeaderBytes) return std::nullopt;
  if (!(flags & kHasMetadata) && metadata_bytes != 0) return std::nullopt;
  RecordView view;
  if (flags & kHasExpiration) view.expiration = getLe(bytes.data() + 1, 8);
  if (flags & kHasMetadata) view.metadata = bytes.substr(kRecordHeaderBytes, metadata_bytes);
  view.value = bytes.substr(kRecordHeaderBytes + metadata_bytes);
  return view;
}

}  // namespace isogate::kv
