#include "kv/list_cursor.h"

#include <gtest/gtest.h>

#include <random>

#include "kv/limits.h"

namespace isogate::kv {
namespace {

TEST(ListCursorTest, RoundTripsAnyKey) {
  std::mt19937 rng(7);
  for (size_t length = 1; length <= kMaxKeyBytes; length += 1 + length / 8) {
    std::string key(length, '\0');
    for (char& c : key) c = char(rng());
    std::string cursor = encodeListCursor(key);
    EXPECT_EQ(cursor.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    EXPECT_EQ(decodeListCursor(cursor), key);
  }
  EXPECT_EQ(encodeListCursor("key-1"), "a2V5LTE");
}

TEST(ListCursorTest, RejectsWhatItCannotHaveMade) {
  EXPECT_FALSE(decodeListCursor(""));
  EXPECT_FALSE(decodeListCursor("a2V5LTE="));   // padding
  EXPECT_FALSE(decodeListCursor("a2V5+TE"));    // standard alphabet
  EXPECT_FALSE(decodeListCursor("a2V5L"));      // length 1 mod 4
  EXPECT_FALSE(decodeListCursor("a2V5LTF"));    // stray low bits
  EXPECT_FALSE(decodeListCursor(encodeListCursor(std::string(kMaxKeyBytes + 1, 'k'))));
}

}  // namespace
}  // namespace isogate::kv
