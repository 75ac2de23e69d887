#pragma once
// Header fields as the cache keeps them, and look-ups that work on any list
// of objects with `name` and `value` string members (isogate::HeaderList,
// cache::Fields), so callers never convert a request's headers to look one up.
// Plain values, no threads.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isogate::cache {

struct Field {
  std::string name;
  std::string value;
};
using Fields = std::vector<Field>;

bool equalsIgnoreCase(std::string_view a, std::string_view b);
std::string toLower(std::string_view s);
// Trims spaces and tabs at both ends.
std::string_view trimWhitespace(std::string_view s);

// The values of every field named `name` (case-insensitive) joined with ", "
// (RFC 9110 5.3), or nullopt when there is none.
template <class Headers>
std::optional<std::string> joinedField(const Headers& headers, std::string_view name) {
  std::optional<std::string> out;
  for (const auto& h : headers) {
    if (!equalsIgnoreCase(h.name, name)) continue;
    if (!out) {
      out.emplace(h.value);
    } else {
      out->append(", ").append(h.value);
    }
  }
  return out;
}

template <class Headers>
bool hasField(const Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (equalsIgnoreCase(h.name, name)) return true;
  }
  return false;
}

// Copies any {name, value} list into cache::Fields.
template <class Headers>
Fields toFields(const Headers& headers) {
  Fields out;
  out.reserve(headers.size());
  for (const auto& h : headers) out.push_back(Field{std::string(h.name), std::string(h.value)});
  return out;
}

}  // namespace isogate::cache
