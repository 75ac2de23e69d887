// crypto/key: the RFC 7515 / RFC 8037 worked examples, JWK and SPKI import
// of keys OpenSSL generates and signs with here, and hostile input (wrong
// key kinds, damaged signatures, off-curve points, private JWKs, garbage).
#include "crypto/key.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "crypto/base64url.h"

namespace isogate::crypto {
namespace {

using nlohmann::json;

std::string b64(std::string_view text) {
  std::optional<std::string> bytes = base64urlDecode(text);
  EXPECT_TRUE(bytes.has_value()) << text;
  return bytes.value_or("");
}

std::string hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string flipBit(std::string s, size_t bit) {
  s[bit / 8] = static_cast<char>(s[bit / 8] ^ (1 << (bit % 8)));
  return s;
}

std::unique_ptr<Key> jwkKey(const json& jwk) {
  std::string error;
  std::unique_ptr<Key> key = Key::fromJwk(jwk, &error);
  EXPECT_NE(key, nullptr) << error << " for " << jwk.dump();
  return key;
}

std::string jwkError(const json& jwk) {
  std::string error;
  std::unique_ptr<Key> key = Key::fromJwk(jwk, &error);
  EXPECT_EQ(key, nullptr) << jwk.dump();
  EXPECT_FALSE(error.empty());
  return error;
}

// ---------------------------------------------------------------------------
// RFC 7515 appendix A (JWS examples) and RFC 8037 appendix A.4 (Ed25519).

const std::string kPayloadB64 =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

const json kA1Key = {{"kty", "oct"},
                     {"k", "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}};
const std::string kA1Input = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + kPayloadB64;
const std::string kA1Signature = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

const json kA2Key = {
    {"kty", "RSA"},
    {"n",
     "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-"
     "pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-"
     "UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-"
     "DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"},
    {"e", "AQAB"}};
const std::string kA2Input = "eyJhbGciOiJSUzI1NiJ9." + kPayloadB64;
const std::string kA2Signature =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1"
    "dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jz"
    "DwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQG"
    "e77Rw";

const json kA3Key = {{"kty", "EC"},
                     {"crv", "P-256"},
                     {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                     {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}};
const std::string kA3Input = "eyJhbGciOiJFUzI1NiJ9." + kPayloadB64;
const std::string kA3Signature = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

const json kEdKey = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}};
const std::string kEdInput = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const std::string kEdSignature =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

TEST(KeyRfcExamplesTest, A1Hs256) {
  auto key = jwkKey(kA1Key);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->kind(), KeyKind::kSecret);
  EXPECT_FALSE(key->isAsymmetric());
  EXPECT_EQ(key->secret().size(), 64u);
  std::string mac = b64(kA1Signature);
  EXPECT_EQ(hmac(Hash::kSha256, key->secret(), kA1Input), mac);
  EXPECT_TRUE(verifyHmac(*key, Hash::kSha256, kA1Input, mac));
  EXPECT_FALSE(verifyHmac(*key, Hash::kSha256, kA1Input, flipBit(mac, 77)));
  EXPECT_FALSE(verifyHmac(*key, Hash::kSha256, kA1Input + " ", mac));
  EXPECT_FALSE(verifyHmac(*key, Hash::kSha256, kA1Input, mac.substr(0, 16)));  // no truncated MACs
  EXPECT_FALSE(verifyHmac(*key, Hash::kSha384, kA1Input, mac));
}

TEST(KeyRfcExamplesTest, A2Rs256) {
  auto key = jwkKey(kA2Key);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->kind(), KeyKind::kRsa);
  EXPECT_EQ(key->rsaModulusBits(), 2048u);
  EXPECT_EQ(key->rsaPublicExponent(), std::string("\x01\x00\x01", 3));
  std::string sig = b64(kA2Signature);
  EXPECT_TRUE(verifyRsaPkcs1(*key, Hash::kSha256, kA2Input, sig));
  EXPECT_FALSE(verifyRsaPkcs1(*key, Hash::kSha256, kA2Input, flipBit(sig, 1000)));
  EXPECT_FALSE(verifyRsaPkcs1(*key, Hash::kSha256, kA2Input + ".", sig));
  EXPECT_FALSE(verifyRsaPkcs1(*key, Hash::kSha256, kA2Input, sig.substr(1)));
  EXPECT_FALSE(verifyRsaPkcs1(*key, Hash::kSha256, kA2Input, std::string(1, '\0') + sig));
  EXPECT_FALSE(verifyRsaPkcs1(*key, Hash::kSha384, kA2Input, sig));
  EXPECT_FALSE(verifyRsaPss(*key, Hash::kSha256, 32, kA2Input, sig));
}

TEST(KeyRfcExamplesTest, A3Es256) {
  auto key = jwkKey(kA3Key);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->kind(), KeyKind::kEcP256);
  std::string sig = b64(kA3Signature);
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(verifyEcdsa(*key, Hash::kSha256, kA3Input, sig));
  EXPECT_FALSE(verifyEcdsa(*key, Hash::kSha256, kA3Input, flipBit(sig, 3)));
  EXPECT_FALSE(verifyEcdsa(*key, Hash::kSha256, kA3Input, flipBit(sig, 300)));
  EXPECT_FALSE(verifyEcdsa(*key, Hash::kSha256, kA3Input.substr(1), sig));
  EXPECT_FALSE(verifyEcdsa(*key, Hash::kSha384, kA3Input, sig));
  // r||s must be exactly twice the field size: no DER, no short forms.
  EXPECT_FALSE(verifyEcdsa(*key, Hash::kSha256, kA3Input, sig.substr(0, 63)));
  EXPECT_FALSE(verifyEcdsa(*key, Hash::kSha256, kA3Input, sig + std::string(1, '\0')));
  EXPECT_FALSE(verifyEcdsa(*key, Hash::kSha256, kA3Input, ""));
  // r or s zero, or at/above the group order.
  EXPECT_FALSE(verifyEcdsa(*key, Hash::kSha256, kA3Input, std::string(32, '\0') + sig.substr(32)));
  EXPECT_FALSE(verifyEcdsa(*key, Hash::kSha256, kA3Input, sig.substr(0, 32) + std::string(32, '\0')));
  EXPECT_FALSE(verifyEcdsa(*key, Hash::kSha256, kA3Input, std::string(64, '\xff')));
}

TEST(KeyRfcExamplesTest, Rfc8037A4Ed25519) {
  auto key = jwkKey(kEdKey);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->kind(), KeyKind::kEd25519);
  std::string sig = b64(kEdSignature);
  EXPECT_TRUE(verifyEd25519(*key, kEdInput, sig));
  EXPECT_FALSE(verifyEd25519(*key, kEdInput, flipBit(sig, 5)));
  EXPECT_FALSE(verifyEd25519(*key, kEdInput, flipBit(sig, 400)));
  EXPECT_FALSE(verifyEd25519(*key, kEdInput + "x", sig));
  EXPECT_FALSE(verifyEd25519(*key, kEdInput, sig.substr(0, 63)));
  EXPECT_FALSE(verifyEd25519(*key, kEdInput, sig + "x"));
}

// ---------------------------------------------------------------------------
// Hashes, HMAC, comparison

TEST(KeyHashTest, NamesAndSizes) {
  EXPECT_EQ(hashFromName("SHA-256"), Hash::kSha256);
  EXPECT_EQ(hashFromName("sha-384"), Hash::kSha384);
  EXPECT_EQ(hashFromName("Sha-1"), Hash::kSha1);
  EXPECT_EQ(hashFromName("SHA-512"), Hash::kSha512);
  EXPECT_EQ(hashFromName("SHA256"), std::nullopt);
  EXPECT_EQ(hashFromName("SHA-224"), std::nullopt);
  EXPECT_EQ(hashFromName(""), std::nullopt);
  EXPECT_STREQ(hashName(Hash::kSha384), "SHA-384");
  EXPECT_EQ(hashSize(Hash::kSha1), 20u);
  EXPECT_EQ(hashSize(Hash::kSha512), 64u);
}

TEST(KeyHashTest, DigestsOfAbc) {
  // FIPS 180-2 appendix examples.
  EXPECT_EQ(hex(digest(Hash::kSha1, "abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(digest(Hash::kSha256, "abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(digest(Hash::kSha384, "abc")),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(hex(digest(Hash::kSha512, "abc")),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd"
            "454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(hex(digest(Hash::kSha256, "")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(KeyHashTest, HmacRfc4231) {
  std::string key1(20, '\x0b');
  EXPECT_EQ(hex(hmac(Hash::kSha256, key1, "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex(hmac(Hash::kSha384, key1, "Hi There")),
            "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6");
  EXPECT_EQ(hex(hmac(Hash::kSha512, key1, "Hi There")),
            "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4"
            "be9d914eeb61f1702e696c203a126854");
  EXPECT_EQ(hex(hmac(Hash::kSha256, "Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  auto key = Key::fromSecret("Jefe");
  EXPECT_TRUE(verifyHmac(*key, Hash::kSha256, "what do ya want for nothing?",
                         b64("W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM")));
}

TEST(KeyHashTest, HmacWithAnEmptyKey) {
  // An empty key is a valid HMAC key (zero-padded to the block size).
  EXPECT_EQ(hex(hmac(Hash::kSha256, "", "")), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  auto key = Key::fromSecret("");
  EXPECT_EQ(key->kind(), KeyKind::kSecret);
  EXPECT_TRUE(verifyHmac(*key, Hash::kSha256, "", hmac(Hash::kSha256, std::string(1, '\0'), "")));
}

TEST(KeyHashTest, TimingSafeEqual) {
  EXPECT_TRUE(timingSafeEqual("", ""));
  EXPECT_TRUE(timingSafeEqual("abc", "abc"));
  EXPECT_FALSE(timingSafeEqual("abc", "abd"));
  EXPECT_FALSE(timingSafeEqual("abc", "ab"));
  EXPECT_TRUE(timingSafeEqual(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(timingSafeEqual(std::string("a\0b", 3), std::string("a\0c", 3)));
}

// ---------------------------------------------------------------------------
// JWK

TEST(KeyJwkTest, RoundTrips) {
  for (const json& jwk : {kA1Key, kA2Key, kA3Key, kEdKey}) {
    auto key = jwkKey(jwk);
    ASSERT_NE(key, nullptr);
    EXPECT_EQ(key->toJwk(), jwk);
  }
}

TEST(KeyJwkTest, IgnoresMetadataMembers) {
  json jwk = kA3Key;
  jwk["kid"] = "1";
  jwk["alg"] = "ES256";
  jwk["use"] = "sig";
  jwk["key_ops"] = {"verify"};
  auto key = jwkKey(jwk);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->toJwk(), kA3Key);
}

TEST(KeyJwkTest, RefusesPrivateKeys) {
  json ec = kA3Key;
  ec["d"] = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
  EXPECT_NE(jwkError(ec).find("\"d\""), std::string::npos);
  json okp = kEdKey;
  okp["d"] = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
  jwkError(okp);
  for (const char* member : {"d", "p", "q", "dp", "dq", "qi"}) {
    json rsa = kA2Key;
    rsa[member] = "AQAB";
    EXPECT_NE(jwkError(rsa).find(member), std::string::npos) << member;
  }
  json oth = kA2Key;
  oth["oth"] = json::array();
  jwkError(oth);
}

TEST(KeyJwkTest, RefusesMalformedKeys) {
  jwkError(json::array());
  jwkError("RSA");
  jwkError(json::object());
  jwkError({{"kty", 1}});
  jwkError({{"kty", "rsa"}, {"n", kA2Key["n"]}, {"e", "AQAB"}});  // case-sensitive
  jwkError({{"kty", "oct"}});
  jwkError({{"kty", "oct"}, {"k", 5}});
  jwkError({{"kty", "oct"}, {"k", "Zg=="}});  // padded
  jwkError({{"kty", "oct"}, {"k", "Zh"}});    // non-canonical
  jwkError({{"kty", "RSA"}, {"n", kA2Key["n"]}});
  jwkError({{"kty", "RSA"}, {"e", "AQAB"}});
  jwkError({{"kty", "RSA"}, {"n", kA2Key["n"]}, {"e", ""}});
  jwkError({{"kty", "EC"}, {"x", kA3Key["x"]}, {"y", kA3Key["y"]}});
  json p521 = kA3Key;
  p521["crv"] = "P-521";
  jwkError(p521);
  json secp256k1 = kA3Key;
  secp256k1["crv"] = "secp256k1";
  jwkError(secp256k1);
  json no_y = kA3Key;
  no_y.erase("y");
  jwkError(no_y);
  json short_x = kA3Key;
  short_x["x"] = base64urlEncode(b64(kA3Key["x"].get<std::string>()).substr(1));
  jwkError(short_x);
  json long_y = kA3Key;
  long_y["y"] = base64urlEncode(std::string(1, '\0') + b64(kA3Key["y"].get<std::string>()));
  jwkError(long_y);
  json okp_x25519 = kEdKey;
  okp_x25519["crv"] = "X25519";
  jwkError(okp_x25519);
  json okp_short = kEdKey;
  okp_short["x"] = base64urlEncode(std::string(31, 'a'));
  jwkError(okp_short);
  jwkError({{"kty", "OKP"}, {"crv", "Ed25519"}});
}

TEST(KeyJwkTest, RefusesOffCurvePoints) {
  std::string y = b64(kA3Key["y"].get<std::string>());
  for (size_t bit : {0u, 9u, 255u}) {
    json off = kA3Key;
    off["y"] = base64urlEncode(flipBit(y, bit));
    EXPECT_NE(jwkError(off).find("curve"), std::string::npos);
  }
  // x = y = 0 is not on P-256 either.
  jwkError({{"kty", "EC"},
            {"crv", "P-256"},
            {"x", base64urlEncode(std::string(32, '\0'))},
            {"y", base64urlEncode(std::string(32, '\0'))}});
  // Nor on P-384 is the P-256 example padded out.
  jwkError({{"kty", "EC"},
            {"crv", "P-384"},
            {"x", base64urlEncode(std::string(16, '\0') + b64(kA3Key["x"].get<std::string>()))},
            {"y", base64urlEncode(std::string(16, '\0') + y)}});
}

TEST(KeyJwkTest, EnforcesRsaNumbers) {
  auto rsa = [](const std::string& n, const std::string& e) {
    return json{{"kty", "RSA"}, {"n", base64urlEncode(n)}, {"e", base64urlEncode(e)}};
  };
  std::string n2048 = b64(kA2Key["n"].get<std::string>());
  // Size bounds: 1024..16384 bits (moduli of all-ones bytes are odd).
  std::string error = jwkError(rsa(std::string(127, '\xff'), "\x01\x00\x01"));
  EXPECT_NE(error.find("1024"), std::string::npos) << error;
  EXPECT_NE(jwkKey(rsa(std::string(128, '\xff'), std::string("\x01\x00\x01", 3))), nullptr);
  EXPECT_NE(jwkKey(rsa(std::string(2048, '\xff'), std::string("\x01\x00\x01", 3))), nullptr);
  error = jwkError(rsa(std::string(2049, '\xff'), std::string("\x01\x00\x01", 3)));
  EXPECT_NE(error.find("16384"), std::string::npos) << error;
  // A leading zero byte does not change the number.
  auto padded = jwkKey(rsa(std::string(1, '\0') + n2048, std::string("\x01\x00\x01", 3)));
  ASSERT_NE(padded, nullptr);
  EXPECT_EQ(padded->rsaModulusBits(), 2048u);
  // Exponent: odd, at least 3, below n; modulus odd.
  jwkError(rsa(n2048, "\x01"));
  jwkError(rsa(n2048, "\x02"));
  jwkError(rsa(n2048, std::string("\x01\x00\x00", 3)));
  jwkError(rsa(n2048, n2048));
  EXPECT_NE(jwkKey(rsa(n2048, "\x03")), nullptr);
  std::string even = n2048;
  even.back() = static_cast<char>(even.back() & ~1);
  jwkError(rsa(even, std::string("\x01\x00\x01", 3)));
}

// ---------------------------------------------------------------------------
// SPKI import of keys generated and used by OpenSSL directly.

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;

std::string spkiOf(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey, &der);
  EXPECT_GT(len, 0);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

const EVP_MD* mdOf(Hash hash) {
  switch (hash) {
    case Hash::kSha1: return EVP_sha1();
    case Hash::kSha256: return EVP_sha256();
    case Hash::kSha384: return EVP_sha384();
    case Hash::kSha512: return EVP_sha512();
  }
  return nullptr;
}

// Signs with OpenSSL; `pss_salt` >= 0 selects RSA-PSS with that salt length.
std::string opensslSign(EVP_PKEY* pkey, const EVP_MD* md, std::string_view data, int pss_salt = -1) {
  std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey), 1);
  if (pss_salt >= 0) {
    EXPECT_GT(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 0);
    EXPECT_GT(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_salt), 0);
    EXPECT_GT(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md), 0);
  }
  size_t len = 0;
  auto* in = reinterpret_cast<const unsigned char*>(data.data());
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()), 1);
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, data.size()), 1);
  sig.resize(len);
  return sig;
}

// OpenSSL's DER ECDSA signature as JWS/Web Crypto r||s.
std::string ecdsaRaw(std::string_view der, size_t field_bytes) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_NE(sig, nullptr);
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * field_bytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  BN_bn2binpad(r, o, static_cast<int>(field_bytes));
  BN_bn2binpad(s, o + field_bytes, static_cast<int>(field_bytes));
  return out;
}

class KeySpkiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
    p256_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    p384_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
    ed25519_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  }
  static void TearDownTestSuite() {
    for (EVP_PKEY** k : {&rsa_, &p256_, &p384_, &ed25519_}) {
      EVP_PKEY_free(*k);
      *k = nullptr;
    }
  }
  void SetUp() override { ASSERT_TRUE(rsa_ && p256_ && p384_ && ed25519_); }

  static std::unique_ptr<Key> spkiKey(EVP_PKEY* pkey) {
    std::string error;
    std::string der = spkiOf(pkey);
    auto key = Key::fromSpki(der, &error);
    EXPECT_NE(key, nullptr) << error;
    if (key) {
      EXPECT_EQ(key->toSpki(), der);
    }
    return key;
  }

  static EVP_PKEY* rsa_;
  static EVP_PKEY* p256_;
  static EVP_PKEY* p384_;
  static EVP_PKEY* ed25519_;
};
EVP_PKEY* KeySpkiTest::rsa_ = nullptr;
EVP_PKEY* KeySpkiTest::p256_ = nullptr;
EVP_PKEY* KeySpkiTest::p384_ = nullptr;
EVP_PKEY* KeySpkiTest::ed25519_ = nullptr;

const std::string kMessage = "an edge gateway verifies what others signed";

TEST_F(KeySpkiTest, RsaPkcs1) {
  auto key = spkiKey(rsa_);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->kind(), KeyKind::kRsa);
  EXPECT_EQ(key->rsaModulusBits(), 2048u);
  for (Hash hash : {Hash::kSha1, Hash::kSha256, Hash::kSha384, Hash::kSha512}) {
    std::string sig = opensslSign(rsa_, mdOf(hash), kMessage);
    EXPECT_TRUE(verifyRsaPkcs1(*key, hash, kMessage, sig)) << hashName(hash);
    EXPECT_FALSE(verifyRsaPkcs1(*key, hash, kMessage, flipBit(sig, 2047))) << hashName(hash);
    EXPECT_FALSE(verifyRsaPkcs1(*key, hash, kMessage + "!", sig)) << hashName(hash);
    EXPECT_FALSE(verifyRsaPss(*key, hash, hashSize(hash), kMessage, sig)) << hashName(hash);
  }
  EXPECT_FALSE(verifyRsaPkcs1(*key, Hash::kSha384, kMessage, opensslSign(rsa_, EVP_sha256(), kMessage)));
}

TEST_F(KeySpkiTest, RsaPss) {
  auto key = spkiKey(rsa_);
  ASSERT_NE(key, nullptr);
  for (Hash hash : {Hash::kSha256, Hash::kSha384, Hash::kSha512}) {
    int salt = static_cast<int>(hashSize(hash));
    std::string sig = opensslSign(rsa_, mdOf(hash), kMessage, salt);
    EXPECT_TRUE(verifyRsaPss(*key, hash, hashSize(hash), kMessage, sig)) << hashName(hash);
    // The salt length is checked, not discovered.
    EXPECT_FALSE(verifyRsaPss(*key, hash, hashSize(hash) - 1, kMessage, sig)) << hashName(hash);
    EXPECT_FALSE(verifyRsaPss(*key, hash, 0, kMessage, sig)) << hashName(hash);
    EXPECT_FALSE(verifyRsaPss(*key, hash, hashSize(hash), kMessage, flipBit(sig, 9))) << hashName(hash);
    EXPECT_FALSE(verifyRsaPkcs1(*key, hash, kMessage, sig)) << hashName(hash);
  }
  std::string unsalted = opensslSign(rsa_, EVP_sha256(), kMessage, 0);
  EXPECT_TRUE(verifyRsaPss(*key, Hash::kSha256, 0, kMessage, unsalted));
  // The largest salt 2048-bit keys allow with SHA-256: 256 - 32 - 2.
  std::string max_salt = opensslSign(rsa_, EVP_sha256(), kMessage, 222);
  EXPECT_TRUE(verifyRsaPss(*key, Hash::kSha256, 222, kMessage, max_salt));
  // Salt lengths beyond the encoding (or beyond int) are plain failures.
  for (size_t salt : {size_t{223}, size_t{1} << 31, size_t{1} << 32, std::numeric_limits<size_t>::max()}) {
    EXPECT_FALSE(verifyRsaPss(*key, Hash::kSha256, salt, kMessage, max_salt)) << salt;
  }
}

// Verify contexts are cached per thread and key (crypto/digest_verifier.h):
// keys that come and go, more of them than the cache holds, never verify
// each other's signatures.
TEST_F(KeySpkiTest, CachedVerifyContextsFollowTheirKeys) {
  std::string previous_sig;
  for (int i = 0; i < 40; ++i) {
    PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    ASSERT_NE(pkey, nullptr);
    auto key = spkiKey(pkey.get());
    ASSERT_NE(key, nullptr);
    std::string sig = ecdsaRaw(opensslSign(pkey.get(), EVP_sha256(), kMessage), 32);
    EXPECT_TRUE(verifyEcdsa(*key, Hash::kSha256, kMessage, sig)) << i;
    EXPECT_FALSE(verifyEcdsa(*key, Hash::kSha256, kMessage, flipBit(sig, 3))) << i;
    EXPECT_TRUE(verifyEcdsa(*key, Hash::kSha256, kMessage, sig)) << i;
    if (!previous_sig.empty()) {
      EXPECT_FALSE(verifyEcdsa(*key, Hash::kSha256, kMessage, previous_sig)) << i;
    }
    previous_sig = sig;
  }
}

TEST_F(KeySpkiTest, Ecdsa) {
  struct Case {
    EVP_PKEY* pkey;
    KeyKind kind;
    size_t field;
  };
  for (const Case& c : {Case{p256_, KeyKind::kEcP256, 32}, Case{p384_, KeyKind::kEcP384, 48}}) {
    auto key = spkiKey(c.pkey);
    ASSERT_NE(key, nullptr);
    EXPECT_EQ(key->kind(), c.kind);
    for (Hash hash : {Hash::kSha1, Hash::kSha256, Hash::kSha384, Hash::kSha512}) {
      std::string der = opensslSign(c.pkey, mdOf(hash), kMessage);
      std::string sig = ecdsaRaw(der, c.field);
      EXPECT_TRUE(verifyEcdsa(*key, hash, kMessage, sig)) << c.field << " " << hashName(hash);
      EXPECT_FALSE(verifyEcdsa(*key, hash, kMessage, der)) << "DER is not the JWS encoding";
      EXPECT_FALSE(verifyEcdsa(*key, hash, kMessage, flipBit(sig, 8 * c.field + 3)));
      EXPECT_FALSE(verifyEcdsa(*key, hash, "x" + kMessage, sig));
    }
    // The JWK form of the same key verifies too.
    auto again = jwkKey(key->toJwk());
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again->toJwk(), key->toJwk());
    EXPECT_EQ(again->toSpki(), key->toSpki());
    std::string sig = ecdsaRaw(opensslSign(c.pkey, EVP_sha256(), kMessage), c.field);
    EXPECT_TRUE(verifyEcdsa(*again, Hash::kSha256, kMessage, sig));
  }
}

TEST_F(KeySpkiTest, Ed25519) {
  auto key = spkiKey(ed25519_);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->kind(), KeyKind::kEd25519);
  std::string sig = opensslSign(ed25519_, nullptr, kMessage);
  EXPECT_TRUE(verifyEd25519(*key, kMessage, sig));
  EXPECT_FALSE(verifyEd25519(*key, kMessage, flipBit(sig, 511)));
  EXPECT_TRUE(verifyEd25519(*jwkKey(key->toJwk()), kMessage, sig));
  EXPECT_EQ(key->toRawPublic().size(), 32u);
}

TEST_F(KeySpkiTest, WrongKeyKindNeverVerifies) {
  auto rsa = spkiKey(rsa_);
  auto p256 = spkiKey(p256_);
  auto ed = spkiKey(ed25519_);
  auto secret = Key::fromSecret("secret");
  std::string rsa_sig = opensslSign(rsa_, EVP_sha256(), kMessage);
  std::string ec_sig = ecdsaRaw(opensslSign(p256_, EVP_sha256(), kMessage), 32);
  std::string ed_sig = opensslSign(ed25519_, nullptr, kMessage);
  std::string mac = hmac(Hash::kSha256, "secret", kMessage);
  for (const Key* k : {p256.get(), ed.get(), secret.get()}) {
    EXPECT_FALSE(verifyRsaPkcs1(*k, Hash::kSha256, kMessage, rsa_sig));
    EXPECT_FALSE(verifyRsaPss(*k, Hash::kSha256, 32, kMessage, rsa_sig));
  }
  for (const Key* k : {rsa.get(), ed.get(), secret.get()}) EXPECT_FALSE(verifyEcdsa(*k, Hash::kSha256, kMessage, ec_sig));
  for (const Key* k : {rsa.get(), p256.get(), secret.get()}) EXPECT_FALSE(verifyEd25519(*k, kMessage, ed_sig));
  for (const Key* k : {rsa.get(), p256.get(), ed.get()}) EXPECT_FALSE(verifyHmac(*k, Hash::kSha256, kMessage, mac));
  // And an asymmetric key has no secret to leak.
  EXPECT_TRUE(rsa->secret().empty());
  EXPECT_EQ(secret->pkey(), nullptr);
  EXPECT_EQ(secret->toSpki(), "");
  EXPECT_EQ(rsa->toRawPublic(), "");
}

TEST_F(KeySpkiTest, RefusesUnsupportedKeyTypes) {
  std::string error;
  for (const char* curve : {"P-521", "secp256k1"}) {
    PkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(Key::fromSpki(spkiOf(k.get()), &error), nullptr) << curve;
    EXPECT_NE(error.find("P-256"), std::string::npos) << error;
  }
  for (const char* type : {"X25519", "ED448"}) {
    PkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(Key::fromSpki(spkiOf(k.get()), &error), nullptr) << type;
  }
  // P-256 spelled with explicit curve parameters instead of its name.
  PkeyPtr explicit_params(EVP_PKEY_dup(p256_));
  ASSERT_NE(explicit_params, nullptr);
  ASSERT_EQ(EVP_PKEY_set_utf8_string_param(explicit_params.get(), OSSL_PKEY_PARAM_EC_ENCODING,
                                           OSSL_PKEY_EC_ENCODING_EXPLICIT),
            1);
  std::string explicit_der = spkiOf(explicit_params.get());
  EXPECT_GT(explicit_der.size(), spkiOf(p256_).size() + 100);  // the parameters are spelled out
  EXPECT_EQ(Key::fromSpki(explicit_der, &error), nullptr);
  // id-RSASSA-PSS keys and moduli below 1024 bits.
  std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>> gen(EVP_PKEY_CTX_new_from_name(nullptr, "RSA-PSS", nullptr));
  ASSERT_NE(gen, nullptr);
  ASSERT_EQ(EVP_PKEY_keygen_init(gen.get()), 1);
  ASSERT_GT(EVP_PKEY_CTX_set_rsa_keygen_bits(gen.get(), 2048), 0);
  EVP_PKEY* generated = nullptr;
  ASSERT_EQ(EVP_PKEY_generate(gen.get(), &generated), 1);
  PkeyPtr pss(generated);
  EXPECT_EQ(Key::fromSpki(spkiOf(pss.get()), &error), nullptr);
  PkeyPtr small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(768)));
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(Key::fromSpki(spkiOf(small.get()), &error), nullptr);
  EXPECT_NE(error.find("1024"), std::string::npos) << error;
  PkeyPtr ok(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  EXPECT_NE(Key::fromSpki(spkiOf(ok.get()), &error), nullptr) << error;
}

TEST_F(KeySpkiTest, RefusesGarbageDer) {
  std::string error;
  std::string der = spkiOf(p256_);
  EXPECT_EQ(Key::fromSpki("", &error), nullptr);
  EXPECT_EQ(Key::fromSpki("not DER at all", &error), nullptr);
  EXPECT_EQ(Key::fromSpki(std::string(300, '\0'), &error), nullptr);
  EXPECT_EQ(Key::fromSpki(der.substr(0, der.size() - 1), &error), nullptr);
  EXPECT_EQ(Key::fromSpki(der.substr(1), &error), nullptr);
  EXPECT_EQ(Key::fromSpki(der + std::string(1, '\0'), &error), nullptr);
  EXPECT_NE(error.find("after"), std::string::npos) << error;
  // A JWK-shaped or PEM-shaped input is not DER either.
  EXPECT_EQ(Key::fromSpki(kA3Key.dump(), &error), nullptr);
  EXPECT_EQ(Key::fromSpki("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n", &error), nullptr);
}

TEST_F(KeySpkiTest, RefusesOffCurveSpki) {
  // The last bytes of a P-256 SPKI are the point's y coordinate.
  std::string der = spkiOf(p256_);
  std::string error;
  for (size_t from_end : {1u, 2u, 17u}) {
    std::string bad = der;
    bad[bad.size() - from_end] = static_cast<char>(bad[bad.size() - from_end] ^ 0x01);
    EXPECT_EQ(Key::fromSpki(bad, &error), nullptr) << from_end;
  }
}

TEST_F(KeySpkiTest, RawPublicKeys) {
  std::string error;
  auto p256 = spkiKey(p256_);
  std::string point = p256->toRawPublic();
  ASSERT_EQ(point.size(), 65u);
  EXPECT_EQ(point[0], '\x04');
  std::string sig = ecdsaRaw(opensslSign(p256_, EVP_sha256(), kMessage), 32);
  auto raw = Key::fromRawPublic(KeyKind::kEcP256, point, &error);
  ASSERT_NE(raw, nullptr) << error;
  EXPECT_TRUE(verifyEcdsa(*raw, Hash::kSha256, kMessage, sig));
  // Compressed: 02/03 by the parity of y, then x.
  std::string compressed = std::string(1, (point.back() & 1) ? '\x03' : '\x02') + point.substr(1, 32);
  auto from_compressed = Key::fromRawPublic(KeyKind::kEcP256, compressed, &error);
  ASSERT_NE(from_compressed, nullptr) << error;
  EXPECT_EQ(from_compressed->toRawPublic(), point);
  EXPECT_TRUE(verifyEcdsa(*from_compressed, Hash::kSha256, kMessage, sig));
  std::string wrong_parity = compressed;
  wrong_parity[0] = static_cast<char>(wrong_parity[0] ^ 1);
  auto other = Key::fromRawPublic(KeyKind::kEcP256, wrong_parity, &error);
  if (other) {
    EXPECT_FALSE(verifyEcdsa(*other, Hash::kSha256, kMessage, sig));
  }
  // Refused: off-curve, wrong curve size, hybrid form, infinity, RSA.
  EXPECT_EQ(Key::fromRawPublic(KeyKind::kEcP256, flipBit(point, 8 * 64), &error), nullptr);
  EXPECT_EQ(Key::fromRawPublic(KeyKind::kEcP384, point, &error), nullptr);
  std::string hybrid = point;
  hybrid[0] = (point.back() & 1) ? '\x07' : '\x06';
  EXPECT_EQ(Key::fromRawPublic(KeyKind::kEcP256, hybrid, &error), nullptr);
  EXPECT_EQ(Key::fromRawPublic(KeyKind::kEcP256, std::string(1, '\0'), &error), nullptr);
  EXPECT_EQ(Key::fromRawPublic(KeyKind::kEcP256, "", &error), nullptr);
  EXPECT_EQ(Key::fromRawPublic(KeyKind::kRsa, point, &error), nullptr);
  EXPECT_EQ(Key::fromRawPublic(KeyKind::kSecret, point, &error), nullptr);
  // Ed25519: exactly 32 bytes.
  auto ed = spkiKey(ed25519_);
  auto ed_raw = Key::fromRawPublic(KeyKind::kEd25519, ed->toRawPublic(), &error);
  ASSERT_NE(ed_raw, nullptr) << error;
  EXPECT_TRUE(verifyEd25519(*ed_raw, kMessage, opensslSign(ed25519_, nullptr, kMessage)));
  EXPECT_EQ(Key::fromRawPublic(KeyKind::kEd25519, ed->toRawPublic() + "x", &error), nullptr);
  EXPECT_EQ(Key::fromRawPublic(KeyKind::kEd25519, "", &error), nullptr);
}

// ---------------------------------------------------------------------------
// Ed25519 small-order points

TEST(KeyEd25519Test, RefusesSmallOrderKeysThatOpenSslAccepts) {
  // Public key A = identity, R = identity, S = 0: [S]B = R + [k]A holds for
  // every message, so plain RFC 8032 verification (OpenSSL) accepts it.
  std::string identity(32, '\0');
  identity[0] = 1;
  std::string forged = identity + std::string(32, '\0');
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                           reinterpret_cast<const unsigned char*>(identity.data()), 32));
  ASSERT_NE(pkey, nullptr);
  std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  ASSERT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(forged.data()), 64,
                             reinterpret_cast<const unsigned char*>(kMessage.data()), kMessage.size()),
            1)
      << "OpenSSL now refuses small-order keys itself";
  ERR_clear_error();
  std::string error;
  auto key = Key::fromRawPublic(KeyKind::kEd25519, identity, &error);
  ASSERT_NE(key, nullptr) << error;
  EXPECT_FALSE(verifyEd25519(*key, kMessage, forged));
  // A good key with a small-order R is refused too.
  auto good = jwkKey(kEdKey);
  std::string sig = b64(kEdSignature);
  EXPECT_FALSE(verifyEd25519(*good, kEdInput, identity + sig.substr(32)));
}

TEST(KeyEd25519Test, OrderEightEncodingsSatisfyTheCurveEquation) {
  // key.cc lists the y of the order-8 points; they must solve
  // d*y^4 + 2*y^2 - 1 = 0 (mod p), i.e. -121665*y^4 + 2*121666*y^2 - 121666
  // = 0 after multiplying by 121666 (d = -121665/121666).
  const char* ys[] = {"05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826",
                      "7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7"};
  std::unique_ptr<BN_CTX, Deleter<BN_CTX_free>> ctx(BN_CTX_new());
  BIGNUM* p = BN_new();
  BN_set_bit(p, 255);
  BN_sub_word(p, 19);
  for (const char* y_hex : ys) {
    BIGNUM* y = nullptr;
    ASSERT_GT(BN_hex2bn(&y, y_hex), 0);
    BIGNUM* y2 = BN_new();
    BIGNUM* y4 = BN_new();
    BIGNUM* t = BN_new();
    BIGNUM* sum = BN_new();
    BN_mod_sqr(y2, y, p, ctx.get());
    BN_mod_sqr(y4, y2, p, ctx.get());
    BN_set_word(t, 121665);
    BN_mod_mul(t, t, y4, p, ctx.get());
    BN_mod_sub(sum, p, t, p, ctx.get());  // -121665 y^4
    BN_set_word(t, 2 * 121666);
    BN_mod_mul(t, t, y2, p, ctx.get());
    BN_mod_add(sum, sum, t, p, ctx.get());
    BN_set_word(t, 121666);
    BN_mod_sub(sum, sum, t, p, ctx.get());
    EXPECT_TRUE(BN_is_zero(sum)) << y_hex;
    // key.cc's table holds the little-endian encoding, with either x sign.
    unsigned char le[32];
    BN_bn2lebinpad(y, le, 32);
    EXPECT_TRUE(detail::isSmallOrderEd25519Point(le)) << y_hex;
    le[31] |= 0x80;
    EXPECT_TRUE(detail::isSmallOrderEd25519Point(le)) << y_hex;
    for (BIGNUM* b : {y, y2, y4, t, sum}) BN_free(b);
  }
  BN_free(p);
}

TEST(KeyEd25519Test, SmallOrderTableCoversTheRestAndNothingElse) {
  auto encode = [](std::initializer_list<std::pair<int, unsigned char>> bytes, unsigned char fill) {
    std::string out(32, static_cast<char>(fill));
    for (auto [i, v] : bytes) out[i] = static_cast<char>(v);
    return out;
  };
  std::string small[] = {
      encode({}, 0x00),                        // y = 0 (order 4)
      encode({{0, 0x01}}, 0x00),               // y = 1 (identity)
      encode({{0, 0xec}, {31, 0x7f}}, 0xff),   // y = p - 1 (order 2)
      encode({{0, 0xed}, {31, 0x7f}}, 0xff),   // y = p
      encode({{0, 0xee}, {31, 0x7f}}, 0xff),   // y = p + 1
  };
  for (std::string s : small) {
    EXPECT_TRUE(detail::isSmallOrderEd25519Point(reinterpret_cast<const unsigned char*>(s.data()))) << hex(s);
    s[31] = static_cast<char>(s[31] ^ 0x80);
    EXPECT_TRUE(detail::isSmallOrderEd25519Point(reinterpret_cast<const unsigned char*>(s.data()))) << hex(s);
  }
  std::string good = b64(kEdKey["x"].get<std::string>());
  EXPECT_FALSE(detail::isSmallOrderEd25519Point(reinterpret_cast<const unsigned char*>(good.data())));
  std::string two = encode({{0, 0x02}}, 0x00);
  EXPECT_FALSE(detail::isSmallOrderEd25519Point(reinterpret_cast<const unsigned char*>(two.data())));
}

// ---------------------------------------------------------------------------
// Robustness

TEST(KeyRobustnessTest, LeavesTheOpenSslErrorQueueAlone) {
  ERR_clear_error();
  std::string error;
  Key::fromSpki("garbage", &error);
  Key::fromJwk({{"kty", "EC"}, {"crv", "P-256"}, {"x", kA3Key["x"]}, {"y", kA3Key["x"]}}, &error);
  auto key = jwkKey(kA2Key);
  verifyRsaPkcs1(*key, Hash::kSha256, "x", std::string(256, '\x01'));
  verifyEcdsa(*jwkKey(kA3Key), Hash::kSha256, "x", std::string(64, '\x01'));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(KeyRobustnessTest, SurvivesRandomAndMutatedInput) {
  std::mt19937 rng(1234);
  auto randomBytes = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  PkeyPtr p256(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  PkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  std::string seeds[] = {spkiOf(p256.get()), spkiOf(ed.get()), b64("MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE")};
  std::string error;
  for (int i = 0; i < 3000; ++i) {
    std::string der = seeds[i % 3];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !der.empty(); ++e) {
      switch (rng() % 3) {
        case 0: der[rng() % der.size()] = static_cast<char>(rng()); break;
        case 1: der.resize(rng() % der.size()); break;
        default: der.insert(rng() % (der.size() + 1), randomBytes(1 + rng() % 3)); break;
      }
    }
    if (auto key = Key::fromSpki(der, &error)) {
      std::string sig = randomBytes(64);
      EXPECT_FALSE(verifyEcdsa(*key, Hash::kSha256, "m", sig));
      EXPECT_FALSE(verifyEd25519(*key, "m", sig));
      EXPECT_NE(Key::fromJwk(key->toJwk(), &error), nullptr) << error;
    }
    Key::fromSpki(randomBytes(rng() % 200), &error);
    json jwk = {{"kty", i % 2 ? "EC" : "OKP"},
                {"crv", i % 2 ? "P-256" : "Ed25519"},
                {"x", base64urlEncode(randomBytes(32))},
                {"y", base64urlEncode(randomBytes(32))}};
    if (auto key = Key::fromJwk(jwk, &error)) {
      EXPECT_FALSE(verifyEd25519(*key, "m", randomBytes(64)));
    }
  }
  EXPECT_EQ(ERR_peek_error(), 0u);
}

}  // namespace
}  // namespace isogate::crypto
