#pragma once
// Internal to kv/: the bytes stored for one KV entry.
//
//   byte 0      flags: bit 0 has expiration, bit 1 has metadata
//   bytes 1-8   expiration, epoch seconds, little-endian (0 without)
//   bytes 9-12  metadata length, little-endian
//   then        metadata (JSON text), then the value
//
// A RecordView points into LMDB's map: valid only while the read or write
// transaction it came from is live, and only on that thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace isogate::kv {

inline constexpr size_t kRecordHeaderBytes = 13;

struct RecordView {
  std::optional<uint64_t> expiration;
  std::optional<std::string_view> metadata;
  std::string_view value;

  bool expiredAt(uint64_t now_s) const { return expiration && *expiration <= now_s; }
};

size_t recordSize(std::optional<std::string_view> metadata, size_t value_bytes);
// Writes exactly recordSize(metadata, value.size()) bytes to `out`.
void encodeRecord(std::optional<uint64_t> expiration, std::optional<std::string_view> metadata,
                  std::string_view value, char* out);
// nullopt if the bytes are not a record (a corrupted store).
std::optional<RecordView> decodeRecord(std::string_view bytes);

}  // namespace isogate::kv
