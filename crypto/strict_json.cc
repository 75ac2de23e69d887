#include "crypto/strict_json.h"

#include <vector>

namespace isogate::crypto {

std::optional<nlohmann::json> parseStrictJson(std::string_view text) {
  using nlohmann::json;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") return std::nullopt;

  bool acceptable = true;
  // Members seen in each open object. nlohmann inserts a duplicate name over
  // the earlier member, so an object whose size ends up smaller than the
  // number of names read held a duplicate.
  std::vector<size_t> names_read;
  json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        if (depth >= kMaxStrictJsonDepth) {
          acceptable = false;
          return false;  // discarded: nothing deeper is built
        }
        names_read.push_back(0);
        return true;
      case json::parse_event_t::array_start:
        if (depth >= kMaxStrictJsonDepth) {
          acceptable = false;
          return false;
        }
        return true;
      case json::parse_event_t::key:
        if (!names_read.empty()) ++names_read.back();
        return true;
      case json::parse_event_t::object_end:
        if (names_read.empty()) return true;  // only after a refusal above
        if (names_read.back() != parsed.size()) acceptable = false;
        names_read.pop_back();
        return true;
      default:
        return true;
    }
  };
  try {
    json document = json::parse(text.begin(), text.end(), check, /*allow_exceptions=*/false);
    if (!acceptable || document.is_discarded()) return std::nullopt;
    return document;
  } catch (const std::exception&) {
    // allow_exceptions=false covers syntax errors; this is for the rest
    // (e.g. out_of_range on absurd sizes, bad_alloc).
    return std::nullopt;
  }
}

}  // namespace isogate::crypto
