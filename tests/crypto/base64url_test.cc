// crypto/base64url: RFC 4648 vectors and the strictness JWS and JWK rely on
// (one accepted spelling per byte string).
#include "crypto/base64url.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace isogate::crypto {
namespace {

TEST(Base64urlTest, EncodesRfc4648Vectors) {
  // RFC 4648 §10, without the padding §5 lets base64url drop.
  EXPECT_EQ(base64urlEncode(""), "");
  EXPECT_EQ(base64urlEncode("f"), "Zg");
  EXPECT_EQ(base64urlEncode("fo"), "Zm8");
  EXPECT_EQ(base64urlEncode("foo"), "Zm9v");
  EXPECT_EQ(base64urlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(base64urlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64urlEncode("foobar"), "Zm9vYmFy");
}

TEST(Base64urlTest, DecodesRfc4648Vectors) {
  EXPECT_EQ(base64urlDecode(""), "");
  EXPECT_EQ(base64urlDecode("Zg"), "f");
  EXPECT_EQ(base64urlDecode("Zm8"), "fo");
  EXPECT_EQ(base64urlDecode("Zm9v"), "foo");
  EXPECT_EQ(base64urlDecode("Zm9vYg"), "foob");
  EXPECT_EQ(base64urlDecode("Zm9vYmE"), "fooba");
  EXPECT_EQ(base64urlDecode("Zm9vYmFy"), "foobar");
}

TEST(Base64urlTest, UsesTheUrlSafeAlphabet) {
  EXPECT_EQ(base64urlEncode(std::string("\xfb\xff", 2)), "-_8");
  EXPECT_EQ(base64urlEncode(std::string("\xff\xff\xfe", 3)), "___-");
  EXPECT_EQ(base64urlDecode("-_8"), std::string("\xfb\xff", 2));
  EXPECT_EQ(base64urlDecode("___-"), std::string("\xff\xff\xfe", 3));
  // The standard alphabet's 62 and 63 are not base64url.
  EXPECT_EQ(base64urlDecode("+_8"), std::nullopt);
  EXPECT_EQ(base64urlDecode("-/8"), std::nullopt);
}

TEST(Base64urlTest, RejectsPadding) {
  EXPECT_EQ(base64urlDecode("Zg=="), std::nullopt);
  EXPECT_EQ(base64urlDecode("Zm8="), std::nullopt);
  EXPECT_EQ(base64urlDecode("Zm9v===="), std::nullopt);
  EXPECT_EQ(base64urlDecode("="), std::nullopt);
}

TEST(Base64urlTest, RejectsImpossibleLengths) {
  // 4n + 1 characters cannot encode whole bytes.
  EXPECT_EQ(base64urlDecode("Z"), std::nullopt);
  EXPECT_EQ(base64urlDecode("Zm9vY"), std::nullopt);
}

TEST(Base64urlTest, RejectsNonZeroTrailingBits) {
  // "Zg" is the only spelling of "f": "Zh".."Zv" set bits below the byte.
  EXPECT_EQ(base64urlDecode("Zh"), std::nullopt);
  EXPECT_EQ(base64urlDecode("Zv"), std::nullopt);
  EXPECT_EQ(base64urlDecode("Zm9"), std::nullopt);  // "Zm8" is "fo"
  EXPECT_EQ(base64urlDecode("Zm8"), "fo");
}

TEST(Base64urlTest, RejectsWhitespaceAndForeignBytes) {
  for (const char* text : {"Zm9v YmFy", " Zm9v", "Zm9v\n", "Zm9v\r\nYmFy", "Zm\t9v", "Zm9v.YmFy"}) {
    EXPECT_EQ(base64urlDecode(text), std::nullopt) << text;
  }
  EXPECT_EQ(base64urlDecode(std::string("Zm9v\0YmFy", 9)), std::nullopt);
  EXPECT_EQ(base64urlDecode("Zm9v\xc3\xa9"), std::nullopt);
  EXPECT_EQ(base64urlDecode("\xff\xff\xff\xff"), std::nullopt);
}

TEST(Base64urlTest, RoundTripsEveryByteAndLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(base64urlDecode(base64urlEncode(all)), all);
  std::mt19937 rng(7);
  for (size_t length = 0; length < 100; ++length) {
    std::string bytes(length, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string text = base64urlEncode(bytes);
    EXPECT_EQ(text.size(), (length * 4 + 2) / 3);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    EXPECT_EQ(base64urlDecode(text), bytes) << length;
  }
}

TEST(Base64urlTest, AcceptsExactlyTheCanonicalSpellings) {
  // Of the 64^2 two-character texts, only those whose second character has
  // its low four bits clear decode (64 * 4 = 256, one per byte); of the
  // three-character ones, those whose last has its low two bits clear.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  int two_ok = 0, three_ok = 0;
  for (char a : alphabet) {
    for (char b : alphabet) {
      std::string two{a, b};
      if (auto decoded = base64urlDecode(two)) {
        ++two_ok;
        EXPECT_EQ(base64urlEncode(*decoded), two);
      }
      for (char c : alphabet) {
        std::string three{a, b, c};
        if (auto decoded = base64urlDecode(three)) {
          ++three_ok;
          EXPECT_EQ(base64urlEncode(*decoded), three);
        }
      }
    }
  }
  EXPECT_EQ(two_ok, 256);
  EXPECT_EQ(three_ok, 65536);
}

}  // namespace
}  // namespace isogate::crypto
