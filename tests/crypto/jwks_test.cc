#include "crypto/jwks.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/crypto/test_issuer.h"

namespace isogate::crypto {
namespace {

using nlohmann::json;
using test_issuer::b64u;
using test_issuer::generatedKey;
using test_issuer::jwksText;
using test_issuer::KeyType;
using test_issuer::publicJwk;

json withMembers(json jwk, const json& members) {
  for (auto& [name, value] : members.items()) jwk[name] = value;
  return jwk;
}

std::shared_ptr<const KeySet> parseOk(const std::string& text) {
  std::string error;
  std::shared_ptr<const KeySet> set = KeySet::parse(text, &error);
  EXPECT_NE(set, nullptr) << error;
  return set;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

// --------------------------------------------------------------- parsing

TEST(KeySetParse, ImportsEveryKeyTypeWithItsMembers) {
  auto set = parseOk(jwksText({
      withMembers(publicJwk(generatedKey(KeyType::kRsa2048)),
                  {{"kid", "rsa"}, {"alg", "RS256"}, {"use", "sig"}}),
      withMembers(publicJwk(generatedKey(KeyType::kP256)),
                  {{"kid", "p256"}, {"key_ops", {"verify"}}}),
      withMembers(publicJwk(generatedKey(KeyType::kP384)), {{"kid", "p384"}, {"alg", "ES384"}}),
      withMembers(publicJwk(generatedKey(KeyType::kEd25519)), {{"alg", "EdDSA"}}),  // no kid
  }));
  ASSERT_NE(set, nullptr);
  EXPECT_TRUE(set->warnings().empty()) << joined(set->warnings());
  ASSERT_EQ(set->keys().size(), 4u);
  EXPECT_FALSE(set->empty());

  const JwksKey* rsa = set->findByKid("rsa");
  ASSERT_NE(rsa, nullptr);
  EXPECT_EQ(rsa->key->kind(), KeyKind::kRsa);
  EXPECT_EQ(rsa->alg, JwtAlgorithm::kRs256);
  EXPECT_EQ(set->findByKid("p256")->key->kind(), KeyKind::kEcP256);
  EXPECT_EQ(set->findByKid("p256")->alg, std::nullopt);
  EXPECT_EQ(set->findByKid("p384")->key->kind(), KeyKind::kEcP384);
  EXPECT_EQ(set->keys()[3].kid, std::nullopt);
  EXPECT_EQ(set->keys()[3].key->kind(), KeyKind::kEd25519);
  EXPECT_EQ(set->findByKid("missing"), nullptr);
  EXPECT_EQ(set->findByKid("RSA"), nullptr);
  EXPECT_EQ(set->findByKid(""), nullptr);
}

TEST(KeySetParse, KeysThatCannotVerifySignaturesAreSkippedWithAWarning) {
  const json ec = publicJwk(generatedKey(KeyType::kP256));
  json private_ec = ec;
  private_ec["d"] = b64u(std::string(32, '\x01'));
  json off_curve = ec;
  off_curve["y"] = b64u(std::string(32, '\x01'));
  const json rsa = publicJwk(generatedKey(KeyType::kRsa2048));
  const std::vector<json> bad = {
      json("not an object"),
      json::array(),
      {{"kty", "oct"}, {"k", b64u("secret")}, {"kid", "oct"}},
      withMembers(ec, {{"use", "enc"}}),
      withMembers(ec, {{"use", 1}}),
      withMembers(ec, {{"key_ops", {"sign"}}}),
      withMembers(ec, {{"key_ops", json::array()}}),
      withMembers(ec, {{"key_ops", "verify"}}),
      withMembers(ec, {{"alg", "RSA-OAEP"}}),
      withMembers(ec, {{"alg", "none"}}),
      withMembers(ec, {{"alg", "HS256"}}),
      withMembers(ec, {{"alg", "RS256"}}),  // alg of another key type
      withMembers(ec, {{"alg", "ES384"}}),  // alg of another curve
      withMembers(rsa, {{"alg", "ES256"}}),
      withMembers(ec, {{"kid", 5}}),
      withMembers(ec, {{"kid", std::string(kMaxKidBytes + 1, 'k')}}),
      private_ec,
      off_curve,
      publicJwk(generatedKey(KeyType::kRsa1024)),
      {{"kty", "EC"}, {"crv", "P-521"}, {"x", "AA"}, {"y", "AA"}},
      {{"kty", "OKP"}, {"crv", "Ed448"}, {"x", b64u(std::string(57, '\x02'))}},
      {{"kty", "XYZ"}},
      {{"n", rsa["n"]}, {"e", rsa["e"]}},  // no kty
  };
  std::vector<json> keys = bad;
  keys.push_back(withMembers(ec, {{"kid", "good"}}));
  std::string error;
  auto set = KeySet::parse(json{{"keys", keys}}.dump(), &error);
  ASSERT_NE(set, nullptr) << error;
  ASSERT_EQ(set->keys().size(), 1u) << joined(set->warnings());
  EXPECT_NE(set->findByKid("good"), nullptr);
  EXPECT_EQ(set->warnings().size(), bad.size()) << joined(set->warnings());
  for (size_t i = 0; i < set->warnings().size(); ++i) {
    EXPECT_EQ(set->warnings()[i].rfind("keys[" + std::to_string(i) + "]", 0), 0u)
        << set->warnings()[i];
  }
}

TEST(KeySetParse, WarningsEscapeTheKid) {
  json key = withMembers(publicJwk(generatedKey(KeyType::kP256)),
                         {{"kid", std::string("evil\n\x1b[31m", 9)}, {"use", "enc"}});
  auto set = parseOk(jwksText({key}));
  ASSERT_EQ(set->warnings().size(), 1u);
  EXPECT_EQ(set->warnings()[0].find('\n'), std::string::npos);
  EXPECT_EQ(set->warnings()[0].find('\x1b'), std::string::npos);
}

TEST(KeySetParse, DuplicateKidsKeepTheFirstUsableKey) {
  const json ec = publicJwk(generatedKey(KeyType::kP256));
  const json ed = publicJwk(generatedKey(KeyType::kEd25519));
  auto set =
      parseOk(jwksText({withMembers(ec, {{"kid", "same"}, {"use", "enc"}}),  // skipped
                        withMembers(ed, {{"kid", "same"}}), withMembers(ec, {{"kid", "same"}})}));
  ASSERT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->findByKid("same")->key->kind(), KeyKind::kEd25519);
  EXPECT_EQ(set->warnings().size(), 2u) << joined(set->warnings());
}

TEST(KeySetParse, DocumentLimits) {
  std::string error;
  for (const char* text : {"", "not json", "[]", "{}", "{\"keys\":{}}", "{\"keys\":null}",
                           "{\"keys\":[]", "\"keys\""}) {
    error.clear();
    EXPECT_EQ(KeySet::parse(text, &error), nullptr) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
  auto empty = parseOk("{\"keys\":[]}");
  EXPECT_TRUE(empty->empty());

  // More than kMaxJwksKeys keys: the first ones are used.
  const json ed = publicJwk(generatedKey(KeyType::kEd25519));
  std::vector<json> many;
  for (size_t i = 0; i < kMaxJwksKeys + 5; ++i)
    many.push_back(withMembers(ed, {{"kid", std::to_string(i)}}));
  auto capped = parseOk(json{{"keys", many}}.dump());
  EXPECT_EQ(capped->keys().size(), kMaxJwksKeys);
  EXPECT_NE(capped->findByKid(std::to_string(kMaxJwksKeys - 1)), nullptr);
  EXPECT_EQ(capped->findByKid(std::to_string(kMaxJwksKeys)), nullptr);
  EXPECT_EQ(capped->warnings().size(), 1u);

  // The document size limit applies before parsing.
  std::string padded = jwksText({ed});
  padded.insert(padded.size() - 1, ",\"pad\":\"" + std::string(kMaxJwksBytes, ' ') + "\"");
  EXPECT_EQ(KeySet::parse(padded, &error), nullptr);
  EXPECT_NE(error.find("1 MiB"), std::string::npos) << error;
  std::string just_fits = jwksText({ed});
  just_fits.insert(just_fits.size() - 1,
                   ",\"pad\":\"" + std::string(kMaxJwksBytes - just_fits.size() - 9, ' ') + "\"");
  ASSERT_EQ(just_fits.size(), kMaxJwksBytes);
  EXPECT_EQ(parseOk(just_fits)->keys().size(), 1u);
}

TEST(KeySetParse, CanVerifyMatchesFamilyAndJwkAlg) {
  auto set =
      parseOk(jwksText({withMembers(publicJwk(generatedKey(KeyType::kRsa2048)), {{"kid", "any"}}),
                        withMembers(publicJwk(generatedKey(KeyType::kRsa2048)),
                                    {{"kid", "ps384"}, {"alg", "PS384"}}),
                        withMembers(publicJwk(generatedKey(KeyType::kP256)), {{"kid", "p256"}})}));
  const JwksKey* any = set->findByKid("any");
  const JwksKey* ps384 = set->findByKid("ps384");
  const JwksKey* p256 = set->findByKid("p256");
  for (JwtAlgorithm alg : {JwtAlgorithm::kRs256, JwtAlgorithm::kRs512, JwtAlgorithm::kPs256}) {
    EXPECT_TRUE(any->canVerify(alg));
    EXPECT_FALSE(p256->canVerify(alg));
  }
  EXPECT_FALSE(any->canVerify(JwtAlgorithm::kHs256));
  EXPECT_FALSE(any->canVerify(JwtAlgorithm::kEs256));
  EXPECT_TRUE(ps384->canVerify(JwtAlgorithm::kPs384));
  EXPECT_FALSE(ps384->canVerify(JwtAlgorithm::kPs256));
  EXPECT_FALSE(ps384->canVerify(JwtAlgorithm::kRs384));
  EXPECT_TRUE(p256->canVerify(JwtAlgorithm::kEs256));
  EXPECT_FALSE(p256->canVerify(JwtAlgorithm::kEs384));
  EXPECT_FALSE(p256->canVerify(JwtAlgorithm::kEdDsa));
  EXPECT_FALSE(p256->canVerify(JwtAlgorithm::kHs256));
}

// --------------------------------------------------------- Cache-Control

TEST(JwksMaxAge, ReadsMaxAgeAndSMaxage) {
  auto age = [](std::string_view value) { return jwksMaxAge(value, 60, 86400, 600); };
  EXPECT_EQ(age("max-age=3600"), 3600);
  EXPECT_EQ(age("public, max-age=3600, must-revalidate"), 3600);
  EXPECT_EQ(age("max-age=3600, s-maxage=7200"), 7200);
  EXPECT_EQ(age("s-maxage=120,max-age=7200"), 120);
  EXPECT_EQ(age("MAX-AGE=300"), 300);
  EXPECT_EQ(age("Max-Age=\"300\""), 300);
  EXPECT_EQ(age("  max-age = 300  "), 300);
  EXPECT_EQ(age("max-age=300, max-age=900"), 300);  // the first one counts
  EXPECT_EQ(age("public,,max-age=300,"), 300);
}

TEST(JwksMaxAge, NoStoreAndNoCacheGiveTheFloor) {
  auto age = [](std::string_view value) { return jwksMaxAge(value, 60, 86400, 600); };
  EXPECT_EQ(age("no-store"), 60);
  EXPECT_EQ(age("no-cache"), 60);
  EXPECT_EQ(age("max-age=3600, no-cache"), 60);
  EXPECT_EQ(age("No-Store, max-age=3600"), 60);
  EXPECT_EQ(age("no-cache=\"set-cookie\""), 60);
}

TEST(JwksMaxAge, MissingOrBrokenValuesGiveTheDefault) {
  auto age = [](std::string_view value) { return jwksMaxAge(value, 60, 86400, 600); };
  for (const char* value :
       {"", "public", "max-age", "max-age=", "max-age=abc", "max-age=-5", "max-age=1.5",
        "max-age=\"\"", "max-age=10s", "maxage=100", "xmax-age=100"}) {
    EXPECT_EQ(age(value), 600) << value;
  }
}

TEST(JwksMaxAge, ResultIsClamped) {
  EXPECT_EQ(jwksMaxAge("max-age=0", 60, 86400, 600), 60);
  EXPECT_EQ(jwksMaxAge("max-age=10", 60, 86400, 600), 60);
  EXPECT_EQ(jwksMaxAge("max-age=31536000", 60, 86400, 600), 86400);
  EXPECT_EQ(jwksMaxAge("max-age=99999999999999999999999999", 60, 86400, 600), 86400);
  EXPECT_EQ(jwksMaxAge("", 60, 86400, 5), 60);  // the default is clamped too
  EXPECT_EQ(jwksMaxAge("", 60, 86400, 1000000), 86400);
}

}  // namespace
}  // namespace isogate::crypto
