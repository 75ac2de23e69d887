#include "runtime/request_id.h"

#include <openssl/rand.h>

#include <cstdint>
#include <cstring>

namespace isogate {

namespace {

// xoshiro256** seeded per thread from the OS CSPRNG. Request ids need to be
// unique, not secret.
struct Xoshiro {
  uint64_t s[4];
  Xoshiro() {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(s), sizeof s) != 1) {
      std::memset(s, 0x5a, sizeof s);
      s[0] ^= reinterpret_cast<uintptr_t>(this);
    }
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

}  // namespace

bool isAcceptableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string generateRequestId() {
  thread_local Xoshiro rng;
  uint8_t bytes[16];
  uint64_t a = rng.next(), b = rng.next();
  std::memcpy(bytes, &a, 8);
  std::memcpy(bytes + 8, &b, 8);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // variant 10
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 15]);
  }
  return out;
}

}  // namespace isogate
