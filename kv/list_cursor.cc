#include "kv/list_cursor.h"

#include <cstdint>

#include "kv/limits.h"

namespace isogate::kv {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::string encodeListCursor(std::string_view last_key) {
  std::string out;
  out.reserve((last_key.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= last_key.size(); i += 3) {
    uint32_t v = (uint8_t(last_key[i]) << 16) | (uint8_t(last_key[i + 1]) << 8) | uint8_t(last_key[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = last_key.size() - i;
  if (rest == 1) {
    uint32_t v = uint8_t(last_key[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    uint32_t v = (uint8_t(last_key[i]) << 16) | (uint8_t(last_key[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> decodeListCursor(std::string_view cursor) {
  if (cursor.empty() || cursor.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(cursor.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : cursor) {
    int v = sextet(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  // Canonical form only: the unused low bits of the last character are zero.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  if (checkKey(out).code() != Status::Code::kOk) return std::nullopt;
  return out;
}

}  // namespace isogate::kv
