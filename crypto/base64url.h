#pragma once
// Base64url (RFC 4648 §5) without padding, as JWS and JWK use it.

#include <optional>
#include <string>
#include <string_view>

namespace isogate::crypto {

std::string base64urlEncode(std::string_view bytes);
// Strict decoding: only the URL-safe alphabet, no '=' padding, no
// whitespace, a length that is not 1 mod 4, and zero unused trailing bits.
// nullopt for anything else.
std::optional<std::string> base64urlDecode(std::string_view text);

}  // namespace isogate::crypto
