// Access-log formatting: JSON escaping and timestamps.
#include "runtime/access_log.h"

#include <gtest/gtest.h>

#include <string>

namespace isogate {
namespace {

std::string jsonQuoted(std::string_view s) {
  std::string out;
  appendJsonString(out, s);
  return out;
}

TEST(AccessLogJson, EscapesQuotesBackslashesAndControlBytes) {
  EXPECT_EQ(jsonQuoted("plain text"), "\"plain text\"");
  EXPECT_EQ(jsonQuoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(jsonQuoted("line\nfeed\ttab\r"), "\"line\\nfeed\\ttab\\r\"");
  EXPECT_EQ(jsonQuoted(std::string("nul\0x", 5)), "\"nul\\u0000x\"");
  EXPECT_EQ(jsonQuoted("\x7f"), "\"\\u007f\"");
}

TEST(AccessLogJson, KeepsTheLogValidForNonUtf8Bytes) {
  EXPECT_EQ(jsonQuoted("caf\xc3\xa9"), "\"caf\\u00c3\\u00a9\"");
  EXPECT_EQ(jsonQuoted("\xff"), "\"\\u00ff\"");
}

TEST(AccessLogTimestamp, IsIso8601UtcWithMilliseconds) {
  EXPECT_EQ(formatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(formatTimestamp(1795814584123), "2026-11-27T21:23:04.123Z");
}

}  // namespace
}  // namespace isogate
