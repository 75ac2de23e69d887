#include "cache/http_date.h"

#include <gtest/gtest.h>

namespace isogate::cache {
namespace {

TEST(HttpDateTest, ParsesThreeFormsAndFormats) {
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parseHttpDate("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_FALSE(parseHttpDate("0"));
  EXPECT_FALSE(parseHttpDate("yesterday"));
  EXPECT_EQ(formatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
}

}  // namespace
}  // namespace isogate::cache
