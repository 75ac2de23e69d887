#include "crypto/jwks.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

namespace isogate::crypto {
namespace {

using nlohmann::json;

// Checks the JWK members that say what the key is for. Returns "" when the
// key may verify signatures, else why not.
std::string checkIntendedUse(const json& jwk, std::optional<JwtAlgorithm>* alg) {
  if (auto use = jwk.find("use"); use != jwk.end()) {
    if (!use->is_string()) return "\"use\" is not a string";
    if (use->get_ref<const std::string&>() != "sig") return "\"use\" is not \"sig\"";
  }
  if (auto ops = jwk.find("key_ops"); ops != jwk.end()) {
    if (!ops->is_array()) return "\"key_ops\" is not an array";
    bool verify = false;
    for (const json& op : *ops) {
      if (!op.is_string()) return "\"key_ops\" holds a non-string";
      if (op.get_ref<const std::string&>() == "verify") verify = true;
    }
    if (!verify) return "\"key_ops\" does not contain \"verify\"";
  }
  if (auto name = jwk.find("alg"); name != jwk.end()) {
    if (!name->is_string()) return "\"alg\" is not a string";
    *alg = jwtAlgorithmFromName(name->get_ref<const std::string&>());
    if (!*alg) return "\"alg\" is not a supported JWS signature algorithm";
  }
  return "";
}

// Imports one JWK. Returns "" and fills *out, or says why the key is skipped.
std::string importKey(const json& jwk, JwksKey* out) {
  if (!jwk.is_object()) return "not a JSON object";
  if (auto kid = jwk.find("kid"); kid != jwk.end()) {
    if (!kid->is_string()) return "\"kid\" is not a string";
    const std::string& text = kid->get_ref<const std::string&>();
    if (text.size() > kMaxKidBytes) return "\"kid\" is longer than 256 bytes";
    out->kid = text;
  }
  if (auto kty = jwk.find("kty");
      kty != jwk.end() && kty->is_string() && kty->get_ref<const std::string&>() == "oct") {
    // An HMAC secret published in a key set is either a leak or a trap:
    // HS* tokens are verified only with the configured secret.
    return "symmetric (\"oct\") keys are never used from a JWKS";
  }
  std::string reason = checkIntendedUse(jwk, &out->alg);
  if (!reason.empty()) return reason;

  std::string error;
  std::unique_ptr<Key> key = Key::fromJwk(jwk, &error);
  if (!key) return error.empty() ? "the key could not be imported" : error;
  if (!key->isAsymmetric()) return "symmetric keys are never used from a JWKS";
  if (out->alg && jwtAlgorithmKeyKind(*out->alg) != key->kind()) {
    return std::string("\"alg\" ") + jwtAlgorithmName(*out->alg) + " does not fit the key type";
  }
  if (key->kind() == KeyKind::kRsa) {
    size_t bits = key->rsaModulusBits();
    if (bits < kMinRsaModulusBits) {
      return "RSA modulus of " + std::to_string(bits) + " bits is below 2048";
    }
    if (bits > kMaxRsaModulusBits) {
      return "RSA modulus of " + std::to_string(bits) + " bits is above 8192";
    }
  }
  out->key = std::move(key);
  return "";
}

std::string describeKey(size_t index, const std::optional<std::string>& kid) {
  std::string text = "keys[" + std::to_string(index) + "]";
  if (kid) {
    // dump() escapes control bytes so the line is safe to log.
    text += " (kid " + json(*kid).dump(-1, ' ', false, json::error_handler_t::replace) + ")";
  }
  return text;
}

}  // namespace

bool JwksKey::canVerify(JwtAlgorithm token_alg) const {
  if (!key || jwtAlgorithmKeyKind(token_alg) != key->kind()) return false;
  return !alg || *alg == token_alg;
}

std::shared_ptr<const KeySet> KeySet::parse(std::string_view json_text, std::string* error) {
  auto fail = [error](const char* reason) {
    if (error) *error = reason;
    return std::shared_ptr<const KeySet>();
  };
  if (json_text.size() > kMaxJwksBytes) return fail("JWKS document is larger than 1 MiB");
  try {
    json document = json::parse(json_text.begin(), json_text.end(), nullptr,
                                /*allow_exceptions=*/false);
    if (document.is_discarded()) return fail("JWKS document is not valid JSON");
    if (!document.is_object()) return fail("JWKS document is not a JSON object");
    auto keys = document.find("keys");
    if (keys == document.end() || !keys->is_array()) {
      return fail("JWKS document has no \"keys\" array");
    }

    std::shared_ptr<KeySet> set(new KeySet());
    for (size_t i = 0; i < keys->size(); ++i) {
      if (i == kMaxJwksKeys) {
        set->warnings_.push_back("only the first " + std::to_string(kMaxJwksKeys) + " of " +
                                 std::to_string(keys->size()) + " keys are used");
        break;
      }
      JwksKey entry;
      std::string reason = importKey((*keys)[i], &entry);
      if (reason.empty() && entry.kid && set->by_kid_.count(*entry.kid) != 0) {
        reason = "duplicate kid; the first key with it is used";
      }
      if (!reason.empty()) {
        set->warnings_.push_back(describeKey(i, entry.kid) + ": " + reason);
        continue;
      }
      if (entry.kid) set->by_kid_.emplace(*entry.kid, set->keys_.size());
      set->keys_.push_back(std::move(entry));
    }
    return set;
  } catch (const std::exception&) {
    return fail("JWKS document could not be processed");
  }
}

const JwksKey* KeySet::findByKid(std::string_view kid) const {
  auto it = by_kid_.find(kid);
  return it == by_kid_.end() ? nullptr : &keys_[it->second];
}

// ------------------------------------------------------------ Cache-Control

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

// delta-seconds (RFC 9111 §1.2.2), optionally quoted. Values too large to
// represent saturate, as the RFC asks.
std::optional<int64_t> parseDeltaSeconds(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  if (value.empty()) return std::nullopt;
  int64_t seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    if (seconds > (std::numeric_limits<int64_t>::max() - 9) / 10) {
      seconds = std::numeric_limits<int64_t>::max();
    } else {
      seconds = seconds * 10 + (c - '0');
    }
  }
  return seconds;
}

}  // namespace

int64_t jwksMaxAge(std::string_view cache_control, int64_t floor_s, int64_t ceiling_s,
                   int64_t default_s) {
  if (ceiling_s < floor_s) ceiling_s = floor_s;
  std::optional<int64_t> max_age, s_maxage;
  bool uncacheable = false;
  while (!cache_control.empty()) {
    size_t comma = cache_control.find(',');
    std::string_view directive = trim(cache_control.substr(0, comma));
    cache_control =
        comma == std::string_view::npos ? std::string_view() : cache_control.substr(comma + 1);
    size_t equals = directive.find('=');
    std::string_view name = trim(directive.substr(0, equals));
    std::string_view value =
        equals == std::string_view::npos ? std::string_view() : trim(directive.substr(equals + 1));
    if (equalsIgnoreCase(name, "no-store") || equalsIgnoreCase(name, "no-cache")) {
      uncacheable = true;
    } else if (equalsIgnoreCase(name, "s-maxage")) {
      if (!s_maxage) s_maxage = parseDeltaSeconds(value);
    } else if (equalsIgnoreCase(name, "max-age")) {
      if (!max_age) max_age = parseDeltaSeconds(value);
    }
  }
  int64_t seconds = default_s;
  if (uncacheable) {
    seconds = floor_s;
  } else if (s_maxage) {
    seconds = *s_maxage;
  } else if (max_age) {
    seconds = *max_age;
  }
  return std::clamp(seconds, floor_s, ceiling_s);
}

}  // namespace isogate::crypto
