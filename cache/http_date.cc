#include "cache/http_date.h"

#include <ctime>
#include <cstdio>
#include <cstring>

#include "cache/fields.h"

namespace isogate::cache {

namespace {

const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

int monthIndex(std::string_view m) {
  for (int i = 0; i < 12; ++i) {
    if (equalsIgnoreCase(m, kMonths[i])) return i;
  }
  return -1;
}

bool number(std::string_view s, int* out) {
  if (s.empty() || s.size() > 4) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool clock(std::string_view s, int* h, int* m, int* sec) {
  return s.size() == 8 && s[2] == ':' && s[5] == ':' && number(s.substr(0, 2), h) && number(s.substr(3, 2), m) &&
         number(s.substr(6, 2), sec) && *h < 24 && *m < 60 && *sec <= 60;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == sep) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != sep) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::optional<int64_t> make(int year, int month, int day, int h, int m, int s) {
  if (month < 0 || day < 1 || day > 31 || year < 1970) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

std::optional<int64_t> parseHttpDate(std::string_view text) {
  text = trimWhitespace(text);
  auto parts = split(text, ' ');
  int day, year, h, m, s;
  if (parts.size() == 6 && parts[0].size() == 4 && parts[0][3] == ',') {
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    if (parts[5] != "GMT" || !number(parts[1], &day) || !number(parts[3], &year) || !clock(parts[4], &h, &m, &s)) {
      return std::nullopt;
    }
    return make(year, monthIndex(parts[2]), day, h, m, s);
  }
  if (parts.size() == 4 && !parts[0].empty() && parts[0].back() == ',') {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    auto dmy = split(parts[1], '-');
    if (parts[3] != "GMT" || dmy.size() != 3 || !number(dmy[0], &day) || !number(dmy[2], &year) ||
        !clock(parts[2], &h, &m, &s)) {
      return std::nullopt;
    }
    if (dmy[2].size() == 2) year += year < 70 ? 2000 : 1900;
    return make(year, monthIndex(dmy[1]), day, h, m, s);
  }
  if (parts.size() == 5) {
    // asctime: Sun Nov  6 08:49:37 1994
    if (!number(parts[2], &day) || !clock(parts[3], &h, &m, &s) || !number(parts[4], &year)) return std::nullopt;
    return make(year, monthIndex(parts[1]), day, h, m, s);
  }
  return std::nullopt;
}

std::string formatHttpDate(int64_t unix_s) {
  time_t t = static_cast<time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday, kMonths[tm.tm_mon],
           tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace isogate::cache
