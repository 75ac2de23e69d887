#include "crypto/jwt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "crypto/base64url.h"
#include "crypto/jwks.h"
#include "crypto/key.h"
#include "tests/crypto/test_issuer.h"

namespace isogate::crypto {
namespace {

using nlohmann::json;
using test_issuer::b64u;
using test_issuer::generatedKey;
using test_issuer::jwksText;
using test_issuer::KeyType;
using test_issuer::makeToken;
using test_issuer::publicJwk;
using test_issuer::tokenFromText;
using A = JwtAlgorithm;
using E = JwtError;

constexpr int64_t kNow = 1700000000;
const char kSecret[] = "a shared secret that is long enough for HS512 signatures, 64+ B";

JwtPolicy allow(std::initializer_list<JwtAlgorithm> algs) {
  JwtPolicy policy;
  policy.algorithms = JwtAlgorithmSet(algs);
  return policy;
}

std::shared_ptr<const KeySet> keySet(const std::string& text) {
  std::string error;
  std::shared_ptr<const KeySet> set = KeySet::parse(text, &error);
  EXPECT_NE(set, nullptr) << error;
  return set;
}

json withKid(json jwk, const std::string& kid) {
  jwk["kid"] = kid;
  return jwk;
}

json claimsValidForAnHour() { return {{"sub", "user-1"}, {"exp", kNow + 3600}}; }

// The three segments of a compact token.
std::vector<std::string> segments(const std::string& token) {
  size_t a = token.find('.'), b = token.find('.', a + 1);
  return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

// verifyJwt with an HMAC secret and HS256 allowed: the usual way to test
// everything that is not about keys.
class HsVerifier {
 public:
  explicit HsVerifier(JwtPolicy policy = allow({A::kHs256})) : policy_(std::move(policy)) {}
  JwtPolicy& policy() { return policy_; }
  JwtResult verify(const std::string& token, int64_t now = kNow) const {
    return verifyJwt(token, policy_, nullptr, secret_.get(), now);
  }
  // Signs exact header and claims texts with the secret.
  static std::string sign(std::string_view header_text, std::string_view claims_text) {
    return tokenFromText(header_text, claims_text, A::kHs256, nullptr, kSecret);
  }
  static std::string sign(const json& claims) {
    return makeToken(A::kHs256, nullptr, json::object(), claims, kSecret);
  }

 private:
  JwtPolicy policy_;
  std::unique_ptr<Key> secret_ = Key::fromSecret(kSecret);
};

::testing::AssertionResult hasError(const JwtResult& result, JwtError expected) {
  if (result.error == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected " << jwtErrorCode(expected) << ", got " << jwtErrorCode(result.error) << " ("
         << result.detail << ")";
}
#define EXPECT_JWT(result, expected) EXPECT_TRUE(hasError((result), (expected)))

// ------------------------------------------------------- RFC examples

// RFC 7515 A.1-A.3 share this payload; its exp is 1300819380.
constexpr char kRfcPayload[] =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q";
constexpr char kRfcClaims[] =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
constexpr int64_t kRfcNow = 1300819000;

TEST(JwtRfcExamples, Rfc7515A1Hs256) {
  const std::string token = std::string("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.") + kRfcPayload +
                            ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  std::string error;
  std::unique_ptr<Key> secret = Key::fromJwk(json{{"kty", "oct"},
                                                  {"k",
                                                   "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-"
                                                   "1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}},
                                             &error);
  ASSERT_NE(secret, nullptr) << error;
  const JwtPolicy policy = allow({A::kHs256});

  JwtResult result = verifyJwt(token, policy, nullptr, secret.get(), kRfcNow);
  EXPECT_JWT(result, E::kNone);
  EXPECT_EQ(result.header_json, "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");
  EXPECT_EQ(result.claims_json, kRfcClaims);
  EXPECT_EQ(result.alg, A::kHs256);
  EXPECT_EQ(result.kid, std::nullopt);
  EXPECT_EQ(result.exp, 1300819380);
  EXPECT_EQ(result.nbf, std::nullopt);

  // exp with the default 60 s of skew.
  EXPECT_JWT(verifyJwt(token, policy, nullptr, secret.get(), 1300819380 + 59), E::kNone);
  EXPECT_JWT(verifyJwt(token, policy, nullptr, secret.get(), 1300819380 + 60), E::kExpired);
  std::unique_ptr<Key> wrong = Key::fromSecret("not the RFC key");
  EXPECT_JWT(verifyJwt(token, policy, nullptr, wrong.get(), kRfcNow), E::kInvalidSignature);
}

TEST(JwtRfcExamples, Rfc7515A2Rs256) {
  const std::string token = std::string("eyJhbGciOiJSUzI1NiJ9.") + kRfcPayload +
                            ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__"
                            "dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5"
                            "jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_"
                            "nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1"
                            "L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-"
                            "eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYE"
                            "UipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
  const json jwk = {{"kty", "RSA"},
                    {"n",
                     "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-"
                     "4qPCJrcS2mJPMEzP1Pt0Bm4"
                     "d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-"
                     "bSf63kpaSHSXndS5z5rex"
                     "MdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_"
                     "I5IhlJH7aGhyxXFv"
                     "UK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"},
                    {"e", "AQAB"}};
  auto jwks = keySet(jwksText({jwk}));
  JwtResult result = verifyJwt(token, allow({A::kRs256}), jwks.get(), nullptr, kRfcNow);
  EXPECT_JWT(result, E::kNone);
  EXPECT_EQ(result.header_json, "{\"alg\":\"RS256\"}");
  EXPECT_EQ(result.claims_json, kRfcClaims);

  // The same key and signature under PS256 or RS384 must not pass.
  std::string as_ps256 = b64u("{\"alg\":\"PS256\"}") + token.substr(token.find('.'));
  EXPECT_JWT(verifyJwt(as_ps256, allow({A::kPs256}), jwks.get(), nullptr, kRfcNow),
             E::kInvalidSignature);
}

TEST(JwtRfcExamples, Rfc7515A3Es256) {
  const std::string token =
      std::string("eyJhbGciOiJFUzI1NiJ9.") + kRfcPayload +
      ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfK"
      "TUJqPP3-Kg6NU1Q";
  auto jwks = keySet(jwksText({{{"kty", "EC"},
                                {"crv", "P-256"},
                                {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                                {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}}));
  JwtResult result = verifyJwt(token, allow({A::kEs256}), jwks.get(), nullptr, kRfcNow);
  EXPECT_JWT(result, E::kNone);
  EXPECT_EQ(result.claims_json, kRfcClaims);
  EXPECT_JWT(verifyJwt(token, allow({A::kEs256}), jwks.get(), nullptr, 1300819380 + 60),
             E::kExpired);
}

TEST(JwtRfcExamples, Rfc8037A4Ed25519) {
  // The RFC signs the text "Example of Ed25519 signing", which is not a claims
  // object: the signature verifies and the token is then refused as malformed.
  const std::string input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  const std::string signature =
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
  auto jwks = keySet(jwksText({{{"kty", "OKP"},
                                {"crv", "Ed25519"},
                                {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}}));
  const JwtPolicy policy = allow({A::kEdDsa});

  JwtResult result = verifyJwt(input + "." + signature, policy, jwks.get(), nullptr, kNow);
  EXPECT_JWT(result, E::kMalformed);
  EXPECT_EQ(result.alg, A::kEdDsa);

  std::string tampered = signature;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  EXPECT_JWT(verifyJwt(input + "." + tampered, policy, jwks.get(), nullptr, kNow),
             E::kInvalidSignature);
}

// ------------------------------------------------ every algorithm, generated

class JwtEveryAlgorithm : public ::testing::TestWithParam<JwtAlgorithm> {
 protected:
  bool symmetric() const { return jwtAlgorithmKeyKind(GetParam()) == KeyKind::kSecret; }
  EVP_PKEY* key(int index) const {
    return symmetric() ? nullptr : generatedKey(test_issuer::keyTypeFor(GetParam()), index);
  }
  std::string sign(int index, json header, const json& claims) const {
    return makeToken(GetParam(), key(index), std::move(header), claims,
                     index == 0 ? std::string(kSecret) : std::string("another secret"));
  }
  JwtResult verify(const std::string& token, const JwtPolicy& policy) const {
    return verifyJwt(token, policy, jwks_.get(), secret_.get(), kNow);
  }
  void SetUp() override {
    if (!symmetric()) {
      jwks_ =
          keySet(jwksText({withKid(publicJwk(key(0)), "k0"), withKid(publicJwk(key(1)), "k1")}));
    }
  }

  std::shared_ptr<const KeySet> jwks_;
  std::unique_ptr<Key> secret_ = Key::fromSecret(kSecret);
};

TEST_P(JwtEveryAlgorithm, VerifiesTokensSignedWithTheConfiguredKey) {
  const JwtPolicy policy = allow({GetParam()});
  // Numbers that a double would round keep their exact text.
  const json claims = {{"sub", "user-1"},
                       {"exp", kNow + 3600},
                       {"nbf", kNow - 10},
                       {"big", 12345678901234567890u},
                       {"pi", 3.141592653589793}};
  const std::string token = sign(0, {{"kid", "k0"}, {"typ", "JWT"}}, claims);

  JwtResult result = verify(token, policy);
  EXPECT_JWT(result, E::kNone);
  EXPECT_EQ(result.alg, GetParam());
  EXPECT_EQ(result.kid, "k0");
  EXPECT_EQ(result.claims_json, claims.dump());
  EXPECT_EQ(json::parse(result.header_json)["alg"], jwtAlgorithmName(GetParam()));
  EXPECT_EQ(result.exp, kNow + 3600);
  EXPECT_EQ(result.nbf, kNow - 10);
  EXPECT_NE(result.claims_json.find("12345678901234567890"), std::string::npos);

  // Without a kid, the keys of the family are tried.
  EXPECT_JWT(verify(sign(0, json::object(), claims), policy), E::kNone);
  if (!symmetric()) {
    EXPECT_JWT(verify(sign(1, json::object(), claims), policy), E::kNone);
  }
}

TEST_P(JwtEveryAlgorithm, RejectsTamperingAndOtherKeys) {
  const JwtPolicy policy = allow({GetParam()});
  const std::string token = sign(0, {{"kid", "k0"}}, claimsValidForAnHour());
  std::vector<std::string> parts = segments(token);

  // Another key (or secret) signed it, under the configured kid.
  EXPECT_JWT(verify(sign(1, {{"kid", "k0"}}, claimsValidForAnHour()), policy),
             E::kInvalidSignature);
  // The claims were swapped for others.
  std::string forged_claims = b64u(json{{"sub", "admin"}, {"exp", kNow + 3600}}.dump());
  EXPECT_JWT(verify(parts[0] + "." + forged_claims + "." + parts[2], policy), E::kInvalidSignature);
  // One signature bit flipped; the signature truncated.
  std::string signature = *base64urlDecode(parts[2]);
  std::string flipped = signature;
  flipped[flipped.size() / 2] ^= 0x01;
  EXPECT_JWT(verify(parts[0] + "." + parts[1] + "." + b64u(flipped), policy), E::kInvalidSignature);
  EXPECT_JWT(verify(parts[0] + "." + parts[1] + "." + b64u(signature.substr(1)), policy),
             E::kInvalidSignature);
  // Not in the allow-list.
  const JwtAlgorithm other = GetParam() == A::kHs512 ? A::kHs256 : A::kHs512;
  EXPECT_JWT(verify(token, allow({other})), E::kUnsupportedAlg);
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, JwtEveryAlgorithm,
                         ::testing::Values(A::kRs256, A::kRs384, A::kRs512, A::kPs256, A::kPs384,
                                           A::kPs512, A::kEs256, A::kEs384, A::kEdDsa, A::kHs256,
                                           A::kHs384, A::kHs512),
                         [](const ::testing::TestParamInfo<JwtAlgorithm>& info) {
                           return std::string(jwtAlgorithmName(info.param));
                         });

TEST(JwtEcdsa, DerSignaturesAreRefused) {
  // JWS ECDSA signatures are raw r||s (RFC 7518 §3.4); the DER form OpenSSL
  // produces must not be accepted as well.
  EVP_PKEY* key = generatedKey(KeyType::kP256);
  auto jwks = keySet(jwksText({publicJwk(key)}));
  const std::string input = b64u("{\"alg\":\"ES256\"}") + "." + b64u(claimsValidForAnHour().dump());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  size_t len = 0;
  ASSERT_EQ(EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()),
            1);
  std::string der(len, '\0');
  ASSERT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  EVP_MD_CTX_free(ctx);
  der.resize(len);
  EXPECT_JWT(verifyJwt(input + "." + b64u(der), allow({A::kEs256}), jwks.get(), nullptr, kNow),
             E::kInvalidSignature);
}

// --------------------------------------------------------------- algorithms

TEST(JwtAlgorithms, NamesAreExactAndNoneDoesNotExist) {
  EXPECT_EQ(jwtAlgorithmFromName("RS256"), A::kRs256);
  EXPECT_EQ(jwtAlgorithmFromName("EdDSA"), A::kEdDsa);
  EXPECT_EQ(jwtAlgorithmFromName("rs256"), std::nullopt);
  EXPECT_EQ(jwtAlgorithmFromName("RS256 "), std::nullopt);
  EXPECT_EQ(jwtAlgorithmFromName("ES512"), std::nullopt);
  for (const char* none : {"none", "None", "NONE", "nOnE"}) {
    EXPECT_EQ(jwtAlgorithmFromName(none), std::nullopt) << none;
  }
}

TEST(JwtAlgorithms, ConfiguredListsRefuseNone) {
  std::string error;
  std::optional<JwtAlgorithmSet> set = parseJwtAlgorithms({"RS256", "ES256", "HS512"}, &error);
  ASSERT_TRUE(set) << error;
  EXPECT_TRUE(set->contains(A::kRs256));
  EXPECT_TRUE(set->contains(A::kEs256));
  EXPECT_TRUE(set->contains(A::kHs512));
  EXPECT_FALSE(set->contains(A::kPs256));
  EXPECT_FALSE(set->contains(A::kHs256));
  EXPECT_TRUE(set->hasSymmetric());
  EXPECT_TRUE(set->hasAsymmetric());
  EXPECT_FALSE(parseJwtAlgorithms({"RS256"}, &error)->hasSymmetric());

  for (std::vector<std::string> names : std::vector<std::vector<std::string>>{
           {"none"}, {"None"}, {"RS256", "NONE"}, {"nOnE", "HS256"}}) {
    error.clear();
    EXPECT_FALSE(parseJwtAlgorithms(names, &error));
    EXPECT_NE(error.find("none"), std::string::npos) << error;
  }
  EXPECT_FALSE(parseJwtAlgorithms({}, &error));
  EXPECT_FALSE(parseJwtAlgorithms({"rs256"}, &error));
  EXPECT_FALSE(parseJwtAlgorithms({"RSA-OAEP"}, &error));
}

TEST(JwtAlgorithms, AlgNoneIsNeverAccepted) {
  JwtPolicy everything;
  for (int i = 0; i <= static_cast<int>(A::kHs512); ++i)
    everything.algorithms.add(static_cast<A>(i));
  const HsVerifier verifier(everything);
  const std::string claims = b64u(claimsValidForAnHour().dump());
  for (const char* none : {"none", "None", "NONE", "nOnE"}) {
    const std::string header = b64u(json{{"alg", none}}.dump());
    // The classic unsigned form has an empty signature segment.
    EXPECT_JWT(verifier.verify(header + "." + claims + "."), E::kMalformed);
    EXPECT_JWT(verifier.verify(header + "." + claims + ".AAAA"), E::kUnsupportedAlg);
    // Even "signed" with the configured secret.
    EXPECT_JWT(verifier.verify(
                   HsVerifier::sign(json{{"alg", none}}.dump(), claimsValidForAnHour().dump())),
               E::kUnsupportedAlg);
  }
}

TEST(JwtAlgorithms, AlgMustBeAnAllowedName) {
  const HsVerifier verifier;
  const std::string claims = claimsValidForAnHour().dump();
  for (const char* header :
       {"{}", "{\"alg\":null}", "{\"alg\":256}", "{\"alg\":[\"HS256\"]}", "{\"alg\":\"hs256\"}",
        "{\"alg\":\"HS256 \"}", "{\"alg\":\"HS384\"}", "{\"alg\":\"ES512\"}", "{\"alg\":\"\"}"}) {
    EXPECT_JWT(verifier.verify(HsVerifier::sign(header, claims)), E::kUnsupportedAlg) << header;
  }
  EXPECT_JWT(verifier.verify(HsVerifier::sign("{\"alg\":\"HS256\"}", claims)), E::kNone);
}

// ------------------------------------------------------ algorithm confusion

TEST(JwtAlgorithmConfusion, PublicKeyBytesNeverBecomeAnHmacSecret) {
  EVP_PKEY* rsa = generatedKey(KeyType::kRsa2048);
  const json jwk = withKid(publicJwk(rsa), "rsa-1");
  auto jwks = keySet(jwksText({jwk}));
  const JwtPolicy both = allow({A::kRs256, A::kHs256});
  std::unique_ptr<Key> real_secret = Key::fromSecret(kSecret);
  std::string error;
  std::unique_ptr<Key> rsa_as_key = Key::fromJwk(jwk, &error);
  ASSERT_NE(rsa_as_key, nullptr) << error;

  // Everything an attacker might feed to HMAC as "the public key".
  const std::vector<std::string> guesses = {
      test_issuer::publicKeyPem(rsa), test_issuer::publicKeyDer(rsa), jwk.dump(), jwksText({jwk}),
      *base64urlDecode(jwk["n"].get<std::string>())};
  for (const std::string& guess : guesses) {
    for (const json& header : {json::object(), json{{"kid", "rsa-1"}}}) {
      const std::string token =
          makeToken(A::kHs256, nullptr, header, claimsValidForAnHour(), guess);
      // No secret configured: HS256 cannot be checked at all.
      EXPECT_JWT(verifyJwt(token, both, jwks.get(), nullptr, kNow), E::kUnsupportedAlg);
      // A secret configured: only it is used.
      EXPECT_JWT(verifyJwt(token, both, jwks.get(), real_secret.get(), kNow), E::kInvalidSignature);
      // HS256 not allowed.
      EXPECT_JWT(verifyJwt(token, allow({A::kRs256}), jwks.get(), real_secret.get(), kNow),
                 E::kUnsupportedAlg);
      // A public key passed where the secret goes is not a secret.
      EXPECT_JWT(verifyJwt(token, both, jwks.get(), rsa_as_key.get(), kNow), E::kUnsupportedAlg);
    }
  }
}

TEST(JwtAlgorithmConfusion, OctKeysInAJwksAreNeverUsed) {
  auto jwks = keySet(jwksText({{{"kty", "oct"}, {"k", b64u("shared")}, {"kid", "s"}},
                               withKid(publicJwk(generatedKey(KeyType::kEd25519)), "ed")}));
  EXPECT_EQ(jwks->findByKid("s"), nullptr);
  const std::string token =
      makeToken(A::kHs256, nullptr, {{"kid", "s"}}, claimsValidForAnHour(), "shared");
  EXPECT_JWT(verifyJwt(token, allow({A::kHs256, A::kEdDsa}), jwks.get(), nullptr, kNow),
             E::kUnsupportedAlg);
}

// --------------------------------------------------------------------- kid

TEST(JwtKid, IsOnlyAnExactLookupKey) {
  EVP_PKEY* key = generatedKey(KeyType::kEd25519);
  EVP_PKEY* other = generatedKey(KeyType::kEd25519, 1);
  const std::string nul_kid("a\0b", 3);
  auto jwks =
      keySet(jwksText({withKid(publicJwk(key), "key1"), withKid(publicJwk(other), nul_kid)}));
  const JwtPolicy policy = allow({A::kEdDsa});
  auto verifyWithKid = [&](EVP_PKEY* signer, const json& kid) {
    return verifyJwt(makeToken(A::kEdDsa, signer, {{"kid", kid}}, claimsValidForAnHour()), policy,
                     jwks.get(), nullptr, kNow);
  };

  EXPECT_JWT(verifyWithKid(key, "key1"), E::kNone);
  EXPECT_JWT(verifyWithKid(other, nul_kid), E::kNone);
  for (const std::string& kid :
       {std::string("../key1"), std::string("./key1"), std::string("key1/../key1"),
        std::string("..%2Fkey1"), std::string("/etc/passwd"), std::string("KEY1"),
        std::string("key1 "), std::string(" key1"), std::string("key1\0", 5),
        std::string("key1\0../x", 9), std::string("a"), std::string("")}) {
    EXPECT_JWT(verifyWithKid(key, kid), E::kUnknownKid) << json(kid).dump();
  }
  // NUL bytes are part of the kid, not a terminator.
  EXPECT_JWT(verifyWithKid(other, "a"), E::kUnknownKid);

  EXPECT_JWT(verifyWithKid(key, std::string(kMaxKidBytes, 'k')), E::kUnknownKid);
  EXPECT_JWT(verifyWithKid(key, std::string(kMaxKidBytes + 1, 'k')), E::kMalformed);
  for (const json& kid : {json(1), json(nullptr), json::array({"key1"}), json{{"id", "key1"}}}) {
    EXPECT_JWT(verifyWithKid(key, kid), E::kMalformed) << kid.dump();
  }
}

TEST(JwtKid, IsIgnoredForHmac) {
  const HsVerifier verifier;
  EXPECT_JWT(verifier.verify(makeToken(A::kHs256, nullptr, {{"kid", "../anything"}},
                                       claimsValidForAnHour(), kSecret)),
             E::kNone);
}

// ---------------------------------------------------------- embedded keys

TEST(JwtEmbeddedKeys, JkuX5uJwkAndX5cAreIgnored) {
  EVP_PKEY* trusted = generatedKey(KeyType::kP256);
  EVP_PKEY* attacker = generatedKey(KeyType::kP256, 1);
  auto jwks = keySet(jwksText({withKid(publicJwk(trusted), "trusted")}));
  const JwtPolicy policy = allow({A::kEs256});
  json hints = {{"jku", "https://attacker.example/jwks.json"},
                {"x5u", "https://attacker.example/cert.pem"},
                {"jwk", withKid(publicJwk(attacker), "attacker")},
                {"x5c", json::array({"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"})}};
  auto verifySigned = [&](EVP_PKEY* signer, json header) {
    return verifyJwt(makeToken(A::kEs256, signer, std::move(header), claimsValidForAnHour()),
                     policy, jwks.get(), nullptr, kNow);
  };

  // Signed by the configured key: the hints change nothing.
  EXPECT_JWT(verifySigned(trusted, hints), E::kNone);
  json with_kid = hints;
  with_kid["kid"] = "trusted";
  EXPECT_JWT(verifySigned(trusted, with_kid), E::kNone);

  // Signed by a key the token only points at: refused.
  EXPECT_JWT(verifySigned(attacker, hints), E::kInvalidSignature);
  EXPECT_JWT(verifySigned(attacker, with_kid), E::kInvalidSignature);
  with_kid["kid"] = "attacker";
  EXPECT_JWT(verifySigned(attacker, with_kid), E::kUnknownKid);
}

// ---------------------------------------------------------- key selection

TEST(JwtKeySelection, TheKeyMustFitTheAlgorithm) {
  EVP_PKEY* rsa = generatedKey(KeyType::kRsa2048);
  EVP_PKEY* p256 = generatedKey(KeyType::kP256);
  EVP_PKEY* p384 = generatedKey(KeyType::kP384);
  EVP_PKEY* ed = generatedKey(KeyType::kEd25519);
  json rs256_only = withKid(publicJwk(rsa), "rs256-only");
  rs256_only["alg"] = "RS256";
  auto jwks = keySet(jwksText({withKid(publicJwk(p256), "p256"), withKid(publicJwk(p384), "p384"),
                               withKid(publicJwk(ed), "ed"), rs256_only}));
  JwtPolicy policy;
  for (int i = 0; i <= static_cast<int>(A::kEdDsa); ++i) policy.algorithms.add(static_cast<A>(i));
  auto verifySigned = [&](A alg, EVP_PKEY* signer, json header) {
    return verifyJwt(makeToken(alg, signer, std::move(header), claimsValidForAnHour()), policy,
                     jwks.get(), nullptr, kNow);
  };

  EXPECT_JWT(verifySigned(A::kRs256, rsa, {{"kid", "rs256-only"}}), E::kNone);
  // A P-256 key named by an RS256 token.
  EXPECT_JWT(verifySigned(A::kRs256, rsa, {{"kid", "p256"}}), E::kInvalidSignature);
  // A JWK marked alg RS256 used for PS256, by kid and by search.
  EXPECT_JWT(verifySigned(A::kPs256, rsa, {{"kid", "rs256-only"}}), E::kInvalidSignature);
  EXPECT_JWT(verifySigned(A::kPs256, rsa, json::object()), E::kUnknownKid);
  // The curves are not interchangeable.
  EXPECT_JWT(verifySigned(A::kEs256, p256, {{"kid", "p384"}}), E::kInvalidSignature);
  EXPECT_JWT(verifySigned(A::kEs384, p384, {{"kid", "p256"}}), E::kInvalidSignature);
  EXPECT_JWT(verifySigned(A::kEdDsa, ed, {{"kid", "p256"}}), E::kInvalidSignature);
  EXPECT_JWT(verifySigned(A::kEs256, p256, json::object()), E::kNone);
  EXPECT_JWT(verifySigned(A::kEs384, p384, json::object()), E::kNone);

  // A set without any key of the family.
  auto ec_only = keySet(jwksText({publicJwk(p256)}));
  EXPECT_JWT(verifyJwt(makeToken(A::kRs256, rsa, json::object(), claimsValidForAnHour()), policy,
                       ec_only.get(), nullptr, kNow),
             E::kUnknownKid);
}

TEST(JwtKeySelection, WithoutKidAtMostEightKeysAreTried) {
  std::vector<json> jwks_keys;
  for (int i = 0; i < 10; ++i)
    jwks_keys.push_back(publicJwk(generatedKey(KeyType::kEd25519, 10 + i)));
  auto jwks = keySet(json{{"keys", jwks_keys}}.dump());
  const JwtPolicy policy = allow({A::kEdDsa});
  auto signedBy = [&](int index) {
    return makeToken(A::kEdDsa, generatedKey(KeyType::kEd25519, 10 + index), json::object(),
                     claimsValidForAnHour());
  };
  EXPECT_JWT(verifyJwt(signedBy(0), policy, jwks.get(), nullptr, kNow), E::kNone);
  EXPECT_JWT(verifyJwt(signedBy(kMaxKeysTriedWithoutKid - 1), policy, jwks.get(), nullptr, kNow),
             E::kNone);
  EXPECT_JWT(verifyJwt(signedBy(kMaxKeysTriedWithoutKid), policy, jwks.get(), nullptr, kNow),
             E::kInvalidSignature);
}

TEST(JwtKeySelection, MissingKeySources) {
  const std::string rs =
      makeToken(A::kRs256, generatedKey(KeyType::kRsa2048), {{"kid", "k"}}, claimsValidForAnHour());
  const std::string rs_no_kid =
      makeToken(A::kRs256, generatedKey(KeyType::kRsa2048), json::object(), claimsValidForAnHour());
  const JwtPolicy policy = allow({A::kRs256, A::kHs256});
  // No JWKS behaves as an empty one: the caller may fetch and retry.
  EXPECT_JWT(verifyJwt(rs, policy, nullptr, nullptr, kNow), E::kUnknownKid);
  EXPECT_JWT(verifyJwt(rs_no_kid, policy, nullptr, nullptr, kNow), E::kUnknownKid);
  auto empty = keySet("{\"keys\":[]}");
  EXPECT_JWT(verifyJwt(rs, policy, empty.get(), nullptr, kNow), E::kUnknownKid);
  // No secret: HS* cannot be verified.
  EXPECT_JWT(
      verifyJwt(HsVerifier::sign(claimsValidForAnHour()), policy, empty.get(), nullptr, kNow),
      E::kUnsupportedAlg);
}

// ------------------------------------------------------------------- size

// An HS256 token of exactly `size` bytes, found by growing a padding claim.
std::string hsTokenOfSize(size_t size) {
  for (int extra = 0; extra < 4; ++extra) {
    for (size_t pad = size * 3 / 4 - 200; pad < size; ++pad) {
      json claims = claimsValidForAnHour();
      claims["pad"] = std::string(pad, 'p');
      std::string token =
          makeToken(A::kHs256, nullptr, {{"x", std::string(extra, 'x')}}, claims, kSecret);
      if (token.size() == size) return token;
      if (token.size() > size) break;
    }
  }
  ADD_FAILURE() << "no token of " << size << " bytes";
  return "";
}

TEST(JwtSize, SixteenKibIsTheLimit) {
  const HsVerifier verifier;
  EXPECT_JWT(verifier.verify(hsTokenOfSize(kMaxJwtBytes)), E::kNone);
  JwtResult result = verifier.verify(hsTokenOfSize(kMaxJwtBytes + 1));
  EXPECT_JWT(result, E::kMalformed);
  EXPECT_EQ(result.alg, std::nullopt);  // refused before the header was read
}

TEST(JwtSize, HugeTokensAreRefusedBeforeDecoding) {
  std::string huge(10 << 20, 'A');
  huge[1000] = '.';
  huge[2000] = '.';
  const HsVerifier verifier;
  // The fastest of a few runs, so a preempted run cannot fail the test.
  auto fastest = std::chrono::steady_clock::duration::max();
  for (int run = 0; run < 5; ++run) {
    const auto start = std::chrono::steady_clock::now();
    JwtResult result = verifier.verify(huge);
    fastest = std::min(fastest, std::chrono::steady_clock::now() - start);
    EXPECT_JWT(result, E::kMalformed);
  }
  // Decoding 10 MB of base64 would take milliseconds; the size test takes
  // nanoseconds.
  EXPECT_LT(fastest, std::chrono::milliseconds(1));
}

// -------------------------------------------------------------- structure

TEST(JwtStructure, EmptyIsMissingToken) {
  const HsVerifier verifier;
  EXPECT_JWT(verifier.verify(""), E::kMissingToken);
  EXPECT_STREQ(jwtErrorCode(verifier.verify("").error), "missing_token");
}

TEST(JwtStructure, ExactlyThreeNonEmptySegments) {
  const HsVerifier verifier;
  const std::string token = HsVerifier::sign(claimsValidForAnHour());
  EXPECT_JWT(verifier.verify(token), E::kNone);
  std::vector<std::string> p = segments(token);
  for (const std::string& bad :
       {p[0], p[0] + "." + p[1], p[0] + "." + p[1] + "." + p[2] + "." + p[2],
        p[0] + "." + p[1] + "." + p[2] + ".", p[0] + "." + p[1] + ".", "." + p[1] + "." + p[2],
        p[0] + ".." + p[2], std::string(".."), std::string("."),
        p[0] + "." + p[1] + "..." + p[2]}) {
    EXPECT_JWT(verifier.verify(bad), E::kMalformed) << bad;
  }
}

TEST(JwtStructure, SegmentsAreStrictBase64url) {
  const HsVerifier verifier;
  const std::string token = HsVerifier::sign(claimsValidForAnHour());
  std::vector<std::string> p = segments(token);
  const std::string joined = p[0] + "." + p[1] + ".";
  std::vector<std::string> bad = {
      " " + token,
      token + " ",
      token + "\n",
      token + "\r\n",
      p[0] + " ." + p[1] + "." + p[2],
      p[0] + "." + p[1] + "." + p[2].substr(0, 10) + " " + p[2].substr(10),
      joined + p[2] + "=",
      p[0] + "==." + p[1] + "." + p[2],
      joined + "AAAAA",
      std::string(token).insert(5, 1, '\0')};
  for (char c : std::string("+/=*$\t")) {
    std::string s = p[2];
    s[3] = c;
    bad.push_back(joined + s);
  }
  // A 32-byte MAC leaves 2 unused bits in the last character; set one.
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string non_canonical = p[2];
  non_canonical.back() = kAlphabet[kAlphabet.find(non_canonical.back()) | 1];
  bad.push_back(joined + non_canonical);
  for (const std::string& b : bad) EXPECT_JWT(verifier.verify(b), E::kMalformed) << json(b).dump();
}

TEST(JwtStructure, HeaderMustBeAJsonObjectWithDistinctMembers) {
  const HsVerifier verifier;
  const std::string claims = claimsValidForAnHour().dump();
  std::string deep = "{\"alg\":\"HS256\",\"x\":";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}";
  for (const std::string& header :
       {std::string("not json"), std::string("[]"), std::string("\"HS256\""), std::string("null"),
        std::string("{\"alg\":\"HS256\""), std::string("{\"alg\":\"HS256\"} x"),
        std::string("{\"alg\":\"HS256\",\"alg\":\"HS256\"}"),
        std::string("{\"alg\":\"none\",\"alg\":\"HS256\"}"),
        std::string("{\"alg\":\"HS256\",\"alg\":\"none\"}"),
        std::string("{\"alg\":\"HS256\",\"x\":{\"a\":1,\"a\":2}}"),
        std::string("{\"alg\":\"HS256\",\"x\":[{\"a\":1,\"b\":2,\"a\":3}]}"),
        std::string("\xEF\xBB\xBF{\"alg\":\"HS256\"}"), std::string("/**/{\"alg\":\"HS256\"}"),
        std::string("{\"alg\":\"HS256\",\"x\":\"\xFF\"}"), deep}) {
    EXPECT_JWT(verifier.verify(HsVerifier::sign(header, claims)), E::kMalformed) << header;
  }
  // Equal names in different objects are not duplicates.
  EXPECT_JWT(verifier.verify(HsVerifier::sign(
                 "{\"alg\":\"HS256\",\"a\":{\"a\":1,\"b\":[{\"a\":1},{\"a\":2}]}}", claims)),
             E::kNone);
}

TEST(JwtStructure, CriticalExtensionsAreRefused) {
  const HsVerifier verifier;
  const std::string claims = claimsValidForAnHour().dump();
  for (const char* header :
       {"{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
        "{\"alg\":\"HS256\",\"b64\":false,\"crit\":[\"b64\"]}", "{\"alg\":\"HS256\",\"crit\":[]}",
        "{\"alg\":\"HS256\",\"crit\":null}"}) {
    EXPECT_JWT(verifier.verify(HsVerifier::sign(header, claims)), E::kMalformed) << header;
  }
}

// ----------------------------------------------------------------- claims

TEST(JwtClaims, MustBeAJsonObjectWithDistinctMembers) {
  const HsVerifier verifier;
  for (const char* claims :
       {"[]", "\"user-1\"", "42", "null", "not json", "{\"sub\":\"a\"",
        "{\"sub\":\"a\",\"sub\":\"b\"}", "{\"sub\":\"a\",\"x\":{\"r\":1,\"r\":1}}",
        "{\"exp\":1,\"exp\":99999999999}"}) {
    EXPECT_JWT(verifier.verify(HsVerifier::sign("{\"alg\":\"HS256\"}", claims)), E::kMalformed)
        << claims;
  }
  // Claims are only parsed once the signature holds.
  EXPECT_JWT(verifier.verify(tokenFromText("{\"alg\":\"HS256\"}", "not json", A::kHs256, nullptr,
                                           "wrong secret")),
             E::kInvalidSignature);
}

TEST(JwtClaims, TimeClaimsMustBeNumbers) {
  const HsVerifier verifier;
  for (const json& claims :
       {json{{"exp", "1700003600"}}, json{{"exp", nullptr}}, json{{"nbf", true}},
        json{{"iat", "yesterday"}}, json{{"iat", json::array({kNow})}}}) {
    EXPECT_JWT(verifier.verify(HsVerifier::sign(claims)), E::kMalformed) << claims.dump();
  }
  // iat is only type-checked: an iat in the future is fine.
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"iat", kNow + 86400}})), E::kNone);
}

TEST(JwtClaims, ExpiryAllowsTheSkew) {
  HsVerifier verifier;
  auto expiringAt = [](auto exp) { return HsVerifier::sign(json{{"exp", exp}}); };
  EXPECT_JWT(verifier.verify(expiringAt(kNow)), E::kNone);  // default skew 60
  EXPECT_JWT(verifier.verify(expiringAt(kNow - 59)), E::kNone);
  EXPECT_JWT(verifier.verify(expiringAt(kNow - 60)), E::kExpired);
  EXPECT_JWT(verifier.verify(expiringAt(-1)), E::kExpired);
  verifier.policy().clock_skew_s = 0;
  EXPECT_JWT(verifier.verify(expiringAt(kNow + 1)), E::kNone);
  EXPECT_JWT(verifier.verify(expiringAt(kNow)), E::kExpired);
  verifier.policy().clock_skew_s = -100;  // treated as 0
  EXPECT_JWT(verifier.verify(expiringAt(kNow)), E::kExpired);
  // Far-future and out-of-range values neither overflow nor expire.
  verifier.policy().clock_skew_s = 60;
  EXPECT_JWT(verifier.verify(expiringAt(1e300)), E::kNone);
  EXPECT_JWT(verifier.verify(expiringAt(UINT64_MAX)), E::kNone);
  EXPECT_JWT(verifier.verify(expiringAt(INT64_MIN)), E::kExpired);
  EXPECT_JWT(verifier.verify(expiringAt(-1e300)), E::kExpired);

  JwtResult expired = verifier.verify(expiringAt(kNow - 3600));
  EXPECT_JWT(expired, E::kExpired);
  EXPECT_TRUE(expired.claims_json.empty());  // failures carry no claims
  EXPECT_TRUE(expired.header_json.empty());
  EXPECT_STREQ(jwtErrorCode(expired.error), "expired");
}

TEST(JwtClaims, NotBeforeAllowsTheSkew) {
  HsVerifier verifier;
  auto validFrom = [](auto nbf) { return HsVerifier::sign(json{{"nbf", nbf}}); };
  EXPECT_JWT(verifier.verify(validFrom(kNow + 60)), E::kNone);
  EXPECT_JWT(verifier.verify(validFrom(kNow + 61)), E::kNotYetValid);
  verifier.policy().clock_skew_s = 0;
  EXPECT_JWT(verifier.verify(validFrom(kNow)), E::kNone);
  EXPECT_JWT(verifier.verify(validFrom(kNow + 1)), E::kNotYetValid);
  EXPECT_JWT(verifier.verify(validFrom(1e300)), E::kNotYetValid);
  EXPECT_JWT(verifier.verify(validFrom(-1e300)), E::kNone);
}

TEST(JwtClaims, FractionalDatesNeverExtendValidity) {
  HsVerifier verifier;
  verifier.policy().clock_skew_s = 0;
  JwtResult result =
      verifier.verify(HsVerifier::sign(json{{"exp", kNow + 10.5}, {"nbf", kNow - 10.5}}));
  EXPECT_JWT(result, E::kNone);
  EXPECT_EQ(result.exp, kNow + 10);  // rounded down
  EXPECT_EQ(result.nbf, kNow - 10);  // rounded up
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"exp", kNow + 0.5}})), E::kExpired);
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"nbf", kNow + 0.5}})), E::kNotYetValid);
}

TEST(JwtClaims, IssuerMustMatchExactly) {
  HsVerifier verifier;
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"iss", 42}})), E::kNone);  // not configured
  verifier.policy().issuer = "https://issuer.example";
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"iss", "https://issuer.example"}})), E::kNone);
  for (const json& iss : {json("https://issuer.example/"), json("https://ISSUER.example"),
                          json("https://issuer.example "), json(""), json(nullptr),
                          json::array({"https://issuer.example"})}) {
    EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"iss", iss}})), E::kInvalidIssuer)
        << iss.dump();
  }
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"sub", "x"}})), E::kInvalidIssuer);
}

TEST(JwtClaims, AudienceNeedsOneMatch) {
  HsVerifier verifier;
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"aud", 7}})), E::kNone);  // not configured
  verifier.policy().audience = {"api", "web"};
  for (const json& aud :
       {json("api"), json("web"), json::array({"other", "web"}), json::array({42, "api"})}) {
    EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"aud", aud}})), E::kNone) << aud.dump();
  }
  for (const json& aud :
       {json("API"), json("ap"), json(""), json::array(), json::array({"other"}), json(42),
        json(nullptr), json::array({json::array({"api"})}), json{{"api", true}}}) {
    EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"aud", aud}})), E::kInvalidAudience)
        << aud.dump();
  }
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"sub", "x"}})), E::kInvalidAudience);
}

TEST(JwtClaims, RequiredClaimsMustBePresent) {
  HsVerifier verifier;
  verifier.policy().required_claims = {"sub", "scope"};
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"sub", "x"}, {"scope", "read"}})), E::kNone);
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"sub", "x"}, {"scope", nullptr}})), E::kNone);
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"sub", "x"}})), E::kMissingClaim);
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"sub", "x"}, {"x", {{"scope", 1}}}})),
             E::kMissingClaim);
}

TEST(JwtClaims, ChecksRunInTheDocumentedOrder) {
  HsVerifier verifier;
  verifier.policy().issuer = "good";
  verifier.policy().audience = {"good"};
  verifier.policy().required_claims = {"sub"};
  const json bad_everything = {{"exp", kNow - 3600}, {"iss", "bad"}, {"aud", "bad"}};
  EXPECT_JWT(verifier.verify(tokenFromText("{\"alg\":\"HS256\"}", bad_everything.dump(), A::kHs256,
                                           nullptr, "wrong secret")),
             E::kInvalidSignature);
  EXPECT_JWT(verifier.verify(HsVerifier::sign(bad_everything)), E::kExpired);
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"nbf", kNow + 3600}, {"iss", "bad"}})),
             E::kNotYetValid);
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"iss", "bad"}, {"aud", "bad"}})),
             E::kInvalidIssuer);
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"iss", "good"}, {"aud", "bad"}})),
             E::kInvalidAudience);
  EXPECT_JWT(verifier.verify(HsVerifier::sign(json{{"iss", "good"}, {"aud", "good"}})),
             E::kMissingClaim);
  EXPECT_JWT(
      verifier.verify(HsVerifier::sign(json{{"iss", "good"}, {"aud", "good"}, {"sub", "x"}})),
      E::kNone);
}

// ----------------------------------------------------------- codes, bearer

TEST(JwtErrors, CodesAreStable) {
  EXPECT_STREQ(jwtErrorCode(E::kNone), "ok");
  EXPECT_STREQ(jwtErrorCode(E::kMissingToken), "missing_token");
  EXPECT_STREQ(jwtErrorCode(E::kMalformed), "malformed");
  EXPECT_STREQ(jwtErrorCode(E::kUnsupportedAlg), "unsupported_alg");
  EXPECT_STREQ(jwtErrorCode(E::kUnknownKid), "unknown_kid");
  EXPECT_STREQ(jwtErrorCode(E::kInvalidSignature), "invalid_signature");
  EXPECT_STREQ(jwtErrorCode(E::kExpired), "expired");
  EXPECT_STREQ(jwtErrorCode(E::kNotYetValid), "not_yet_valid");
  EXPECT_STREQ(jwtErrorCode(E::kInvalidIssuer), "invalid_issuer");
  EXPECT_STREQ(jwtErrorCode(E::kInvalidAudience), "invalid_audience");
  EXPECT_STREQ(jwtErrorCode(E::kMissingClaim), "missing_claim");
}

TEST(JwtBearer, ExtractsTheToken) {
  EXPECT_EQ(bearerToken("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(bearerToken("bearer abc"), "abc");
  EXPECT_EQ(bearerToken("BEARER   abc  "), "abc");
  EXPECT_EQ(bearerToken("  Bearer\tabc"), "abc");
  EXPECT_EQ(bearerToken("Bearer a b"), "a b");  // verifyJwt will call it malformed
  for (const char* value : {"", "Bearer", "Bearer ", "Bearer    ", "Bearerabc", "Basic abc",
                            "Token abc", "abc.def.ghi", "Bear abc"}) {
    EXPECT_EQ(bearerToken(value), std::nullopt) << value;
  }
}

// ------------------------------------------------------------- robustness

TEST(JwtRobustness, MutatedTokensNeverVerifyAndNeverThrow) {
  auto jwks = keySet(jwksText({withKid(publicJwk(generatedKey(KeyType::kP256)), "ec")}));
  std::unique_ptr<Key> secret = Key::fromSecret(kSecret);
  const JwtPolicy policy = allow({A::kEs256, A::kHs256});
  const std::vector<std::string> originals = {
      makeToken(A::kEs256, generatedKey(KeyType::kP256), {{"kid", "ec"}}, claimsValidForAnHour()),
      HsVerifier::sign(claimsValidForAnHour())};
  static const std::string kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \"{}";
  std::mt19937 random(12345);
  for (const std::string& original : originals) {
    EXPECT_JWT(verifyJwt(original, policy, jwks.get(), secret.get(), kNow), E::kNone);
    for (int i = 0; i < 3000; ++i) {
      std::string token = original;
      const int edits = 1 + static_cast<int>(random() % 3);
      for (int e = 0; e < edits; ++e) {
        size_t at = random() % token.size();
        switch (random() % 3) {
          case 0:
            token[at] = kChars[random() % kChars.size()];
            break;
          case 1:
            token.erase(at, 1 + random() % 4);
            break;
          default:
            token.insert(at, 1, kChars[random() % kChars.size()]);
            break;
        }
        if (token.empty()) token = ".";
      }
      if (token == original) continue;
      JwtResult result = verifyJwt(token, policy, jwks.get(), secret.get(), kNow);
      EXPECT_FALSE(result.valid()) << token;
    }
  }
}

}  // namespace
}  // namespace isogate::crypto
