#include "cache/cache_control.h"

#include <limits>

#include "cache/fields.h"

namespace isogate::cache {

namespace {

// delta-seconds (RFC 9111 1.2.2): digits only; values past 2^31 are
// clamped to 2^31 as the RFC requires. nullopt when malformed.
std::optional<int64_t> deltaSeconds(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    if (value < (int64_t{1} << 31)) value = value * 10 + (c - '0');
  }
  return std::min<int64_t>(value, int64_t{1} << 31);
}

std::vector<std::string> fieldNames(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view name = trimWhitespace(list.substr(start, comma - start));
    if (!name.empty()) out.push_back(toLower(name));
    start = comma + 1;
  }
  return out;
}

}  // namespace

CacheControl parseCacheControl(std::string_view value) {
  CacheControl cc;
  size_t i = 0;
  bool seen_max_age = false, seen_s_maxage = false;
  while (i < value.size()) {
    // directive name
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t' || value[i] == ',')) ++i;
    size_t name_start = i;
    while (i < value.size() && value[i] != '=' && value[i] != ',' && value[i] != ' ' && value[i] != '\t') ++i;
    std::string name = toLower(value.substr(name_start, i - name_start));
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    std::optional<std::string> arg;
    if (i < value.size() && value[i] == '=') {
      ++i;
      while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
      std::string a;
      if (i < value.size() && value[i] == '"') {
        ++i;
        while (i < value.size() && value[i] != '"') {
          if (value[i] == '\\' && i + 1 < value.size()) ++i;
          a.push_back(value[i++]);
        }
        if (i < value.size()) ++i;  // closing quote
      } else {
        while (i < value.size() && value[i] != ',' && value[i] != ' ' && value[i] != '\t') a.push_back(value[i++]);
      }
      arg = std::move(a);
    }
    // skip to the next comma (garbage after a directive is ignored)
    while (i < value.size() && value[i] != ',') ++i;
    if (name.empty()) continue;

    if (name == "no-store") {
      cc.no_store = true;
    } else if (name == "no-cache") {
      if (arg && !fieldNames(*arg).empty()) {
        for (auto& f : fieldNames(*arg)) cc.no_cache_fields.push_back(std::move(f));
      } else {
        cc.no_cache = true;
      }
    } else if (name == "private") {
      if (arg && !fieldNames(*arg).empty()) {
        for (auto& f : fieldNames(*arg)) cc.private_fields.push_back(std::move(f));
      } else {
        cc.private_ = true;
      }
    } else if (name == "public") {
      cc.public_ = true;
    } else if (name == "must-revalidate") {
      cc.must_revalidate = true;
    } else if (name == "proxy-revalidate") {
      cc.proxy_revalidate = true;
    } else if (name == "must-understand") {
      cc.must_understand = true;
    } else if (name == "no-transform") {
      cc.no_transform = true;
    } else if (name == "only-if-cached") {
      cc.only_if_cached = true;
    } else if (name == "immutable") {
      cc.immutable = true;
    } else if (name == "max-age") {
      if (!seen_max_age) {
        seen_max_age = true;
        // A malformed max-age means the response is stale (RFC 9111 4.2.1
        // recommends treating invalid freshness as stale).
        cc.max_age = arg ? deltaSeconds(*arg).value_or(0) : 0;
      }
    } else if (name == "s-maxage") {
      if (!seen_s_maxage) {
        seen_s_maxage = true;
        cc.s_maxage = arg ? deltaSeconds(*arg).value_or(0) : 0;
      }
    } else if (name == "max-stale") {
      cc.max_stale = arg ? deltaSeconds(*arg).value_or(std::numeric_limits<int64_t>::max())
                         : std::numeric_limits<int64_t>::max();
    } else if (name == "min-fresh") {
      if (arg) cc.min_fresh = deltaSeconds(*arg);
    }
  }
  return cc;
}

}  // namespace isogate::cache
