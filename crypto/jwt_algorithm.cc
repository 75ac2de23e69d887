#include "crypto/jwt_algorithm.h"

#include <array>

namespace isogate::crypto {
namespace {

struct AlgorithmInfo {
  JwtAlgorithm alg;
  const char* name;
  KeyKind key_kind;
  Hash hash;
};

constexpr std::array<AlgorithmInfo, 12> kAlgorithms = {{
    {JwtAlgorithm::kRs256, "RS256", KeyKind::kRsa, Hash::kSha256},
    {JwtAlgorithm::kRs384, "RS384", KeyKind::kRsa, Hash::kSha384},
    {JwtAlgorithm::kRs512, "RS512", KeyKind::kRsa, Hash::kSha512},
    {JwtAlgorithm::kPs256, "PS256", KeyKind::kRsa, Hash::kSha256},
    {JwtAlgorithm::kPs384, "PS384", KeyKind::kRsa, Hash::kSha384},
    {JwtAlgorithm::kPs512, "PS512", KeyKind::kRsa, Hash::kSha512},
    {JwtAlgorithm::kEs256, "ES256", KeyKind::kEcP256, Hash::kSha256},
    {JwtAlgorithm::kEs384, "ES384", KeyKind::kEcP384, Hash::kSha384},
    {JwtAlgorithm::kEdDsa, "EdDSA", KeyKind::kEd25519, Hash::kSha512},
    {JwtAlgorithm::kHs256, "HS256", KeyKind::kSecret, Hash::kSha256},
    {JwtAlgorithm::kHs384, "HS384", KeyKind::kSecret, Hash::kSha384},
    {JwtAlgorithm::kHs512, "HS512", KeyKind::kSecret, Hash::kSha512},
}};

const AlgorithmInfo& info(JwtAlgorithm alg) {
  // The table is in enum order.
  return kAlgorithms[static_cast<size_t>(alg)];
}

bool equalsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::optional<JwtAlgorithm> jwtAlgorithmFromName(std::string_view name) {
  for (const AlgorithmInfo& entry : kAlgorithms) {
    if (name == entry.name) return entry.alg;
  }
  return std::nullopt;
}

const char* jwtAlgorithmName(JwtAlgorithm alg) { return info(alg).name; }
KeyKind jwtAlgorithmKeyKind(JwtAlgorithm alg) { return info(alg).key_kind; }
Hash jwtAlgorithmHash(JwtAlgorithm alg) { return info(alg).hash; }

bool JwtAlgorithmSet::hasSymmetric() const {
  return contains(JwtAlgorithm::kHs256) || contains(JwtAlgorithm::kHs384) ||
         contains(JwtAlgorithm::kHs512);
}

bool JwtAlgorithmSet::hasAsymmetric() const {
  for (const AlgorithmInfo& entry : kAlgorithms) {
    if (entry.key_kind != KeyKind::kSecret && contains(entry.alg)) return true;
  }
  return false;
}

std::optional<JwtAlgorithmSet> parseJwtAlgorithms(const std::vector<std::string>& names,
                                                  std::string* error) {
  if (names.empty()) {
    if (error) *error = "algorithms must list at least one algorithm";
    return std::nullopt;
  }
  JwtAlgorithmSet set;
  for (const std::string& name : names) {
    if (equalsIgnoreAsciiCase(name, "none")) {
      if (error) *error = "algorithm \"none\" is never allowed: unsigned tokens cannot be verified";
      return std::nullopt;
    }
    std::optional<JwtAlgorithm> alg = jwtAlgorithmFromName(name);
    if (!alg) {
      if (error) {
        *error = "unknown algorithm \"" + name +
                 "\" (expected RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA, "
                 "HS256, HS384 or HS512)";
      }
      return std::nullopt;
    }
    set.add(*alg);
  }
  return set;
}

}  // namespace isogate::crypto
