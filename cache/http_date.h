#pragma once
// HTTP dates (RFC 9110 5.6.7): IMF-fixdate, and on input also the obsolete
// RFC 850 and asctime forms. Seconds since the Unix epoch, UTC.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace isogate::cache {

std::optional<int64_t> parseHttpDate(std::string_view text);
// "Sun, 06 Nov 1994 08:49:37 GMT"
std::string formatHttpDate(int64_t unix_s);

}  // namespace isogate::cache
