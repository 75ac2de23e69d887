#pragma once
// The opaque list() cursor: base64url (no padding) of the last key a list()
// call looked at. It holds nothing but a key of the same namespace, so it is
// safe to hand to script code, and listing resumes after that key even when
// keys were deleted or added in between.

#include <optional>
#include <string>
#include <string_view>

namespace isogate::kv {

std::string encodeListCursor(std::string_view last_key);
// nullopt for anything encodeListCursor() cannot have produced (bad
// alphabet, padding, stray bits, or an empty or over-long key).
std::optional<std::string> decodeListCursor(std::string_view cursor);

}  // namespace isogate::kv
