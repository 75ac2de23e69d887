#pragma once
// JSON parsing for security decisions (JWS headers and JWT claims), stricter
// than nlohmann's defaults: a document with a duplicate member name anywhere
// is refused (nlohmann would silently keep the last one, while another parser
// of the same token might keep the first), as are nesting deeper than
// kMaxStrictJsonDepth and a leading byte-order mark (which JSON.parse in the
// binding would reject). Never throws; any thread.

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace isogate::crypto {

inline constexpr int kMaxStrictJsonDepth = 32;

// The parsed document, or nullopt when `text` is not one strict JSON value.
std::optional<nlohmann::json> parseStrictJson(std::string_view text);

}  // namespace isogate::crypto
