// Keys and signature checks on OpenSSL 3 EVP only. Keys are built from
// parameters (OSSL_PARAM_BLD + EVP_PKEY_fromdata), raw bytes or DER, never
// through the deprecated RSA_* / EC_KEY_* structures; the two defines below
// make any use of a deprecated API a compile error in this file.
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED

#include "crypto/key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstring>
#include <nlohmann/json.hpp>

#include "crypto/base64url.h"
#include "crypto/digest_verifier.h"

namespace isogate::crypto {

namespace {

// Owning pointers for the OpenSSL objects used here: every error path just
// returns, and whatever was built so far is freed.
template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;

// Failed OpenSSL calls queue errors on the calling thread. Nothing here
// reports them (the caller gets a bool or a short reason), so each entry
// point drops what it queued and leaves older entries alone.
class ErrorMark {
 public:
  ErrorMark() { ERR_set_mark(); }
  ~ErrorMark() { ERR_pop_to_mark(); }
  ErrorMark(const ErrorMark&) = delete;
  ErrorMark& operator=(const ErrorMark&) = delete;
};

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

bool fail(std::string* error, const char* reason) {
  if (error) *error = reason;
  return false;
}

size_t hashIndex(Hash hash) { return static_cast<size_t>(hash); }

// Digests fetched once per process: OpenSSL 3 would otherwise look the
// implementation up in the provider store on every EVP_*Init (a lock and a
// hash lookup per signature). Fetched EVP_MDs are immutable and shareable.
const EVP_MD* messageDigest(Hash hash) {
  static const std::array<const EVP_MD*, 4> kDigests = [] {
    const char* names[4] = {"SHA1", "SHA256", "SHA384", "SHA512"};
    const EVP_MD* fallbacks[4] = {EVP_sha1(), EVP_sha256(), EVP_sha384(), EVP_sha512()};
    std::array<const EVP_MD*, 4> out{};
    ErrorMark mark;
    for (size_t i = 0; i < 4; ++i) {
      const EVP_MD* fetched = EVP_MD_fetch(nullptr, names[i], nullptr);
      out[i] = fetched ? fetched : fallbacks[i];
    }
    return out;
  }();
  return kDigests[hashIndex(hash)];
}

// OSSL_MAC_PARAM_DIGEST values.
const char* digestParamName(Hash hash) {
  static const char* kNames[4] = {"SHA1", "SHA256", "SHA384", "SHA512"};
  return kNames[hashIndex(hash)];
}

EVP_MAC* hmacAlgorithm() {
  static EVP_MAC* mac = [] {
    ErrorMark mark;
    return EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  }();
  return mac;
}

std::optional<std::string> jwkMember(const nlohmann::json& jwk, const char* name, std::string* error) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    if (error) *error = std::string("JWK member \"") + name + "\" is missing or not a string";
    return std::nullopt;
  }
  std::optional<std::string> decoded = base64urlDecode(it->get_ref<const std::string&>());
  if (!decoded && error) *error = std::string("JWK member \"") + name + "\" is not strict base64url";
  return decoded;
}

BnPtr bignum(std::string_view be) {
  return BnPtr(BN_bin2bn(bytes(be), static_cast<int>(be.size()), nullptr));
}

// Checks an RSA public key's numbers: a modulus of a sane size that is odd,
// and an odd exponent 3 <= e < n (anything else cannot verify a real
// signature and only invites odd corner cases in the arithmetic).
bool checkRsaNumbers(const BIGNUM* n, const BIGNUM* e, std::string* error) {
  int bits = BN_num_bits(n);
  if (bits < static_cast<int>(kRsaImportMinBits)) return fail(error, "RSA modulus is shorter than 1024 bits");
  if (bits > static_cast<int>(kRsaImportMaxBits)) return fail(error, "RSA modulus is longer than 16384 bits");
  if (!BN_is_odd(n)) return fail(error, "RSA modulus is even");
  if (BN_num_bits(e) < 2 || !BN_is_odd(e) || BN_cmp(e, n) >= 0) {
    return fail(error, "RSA public exponent is not an odd number between 3 and the modulus");
  }
  return true;
}

BnPtr bnParam(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) return nullptr;
  return BnPtr(bn);
}

std::string bnBytes(const BIGNUM* bn, int pad_to = 0) {
  int size = std::max(BN_num_bytes(bn), pad_to);
  std::string out(static_cast<size_t>(size), '\0');
  if (size > 0) BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size);
  return out;
}

PkeyPtr fromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return nullptr;
  return PkeyPtr(pkey);
}

PkeyPtr buildRsa(std::string_view n_bytes, std::string_view e_bytes, std::string* error) {
  BnPtr n = bignum(n_bytes), e = bignum(e_bytes);
  if (!n || !e) return nullptr;
  if (!checkRsaNumbers(n.get(), e.get(), error)) return nullptr;
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return nullptr;
  }
  PkeyPtr pkey = fromParams("RSA", bld.get());
  if (!pkey) fail(error, "OpenSSL refused the RSA key");
  return pkey;
}

struct Curve {
  KeyKind kind;
  const char* jwk_name;      // "P-256"
  const char* openssl_name;  // OSSL_PKEY_PARAM_GROUP_NAME
  size_t field_bytes;
};
constexpr Curve kCurves[] = {
    {KeyKind::kEcP256, "P-256", "prime256v1", 32},
    {KeyKind::kEcP384, "P-384", "secp384r1", 48},
};

const Curve* curveForKind(KeyKind kind) {
  for (const Curve& c : kCurves) {
    if (c.kind == kind) return &c;
  }
  return nullptr;
}

bool sameAsciiCaseless(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The curve of a parsed EC key, by its OpenSSL group name. Keys spelled
// with explicit curve parameters are refused even when OpenSSL recognises
// the curve: RFC 5480 and Web Crypto want the namedCurve form.
const Curve* curveOfKey(const EVP_PKEY* pkey) {
  char encoding[32];
  size_t encoding_len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_ENCODING, encoding, sizeof encoding,
                                     &encoding_len) == 1 &&
      std::string_view(encoding, encoding_len) != OSSL_PKEY_EC_ENCODING_GROUP) {
    return nullptr;
  }
  char name[64];
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) {
    return nullptr;
  }
  std::string_view group(name, len);
  if (sameAsciiCaseless(group, "prime256v1") || sameAsciiCaseless(group, "P-256") ||
      sameAsciiCaseless(group, "secp256r1")) {
    return &kCurves[0];
  }
  if (sameAsciiCaseless(group, "secp384r1") || sameAsciiCaseless(group, "P-384")) return &kCurves[1];
  return nullptr;
}

// Full public-key validation: the point decodes, lies on the curve, is not
// the point at infinity and has the group's order.
bool ecPublicKeyValid(EVP_PKEY* pkey) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  return ctx && EVP_PKEY_public_check(ctx.get()) == 1;
}

PkeyPtr buildEc(const Curve& curve, std::string_view point, std::string* error) {
  // SEC1 encodings of a point: 04||x||y, or 02/03||x (y's parity). Hybrid
  // (06/07) and the lone 00 byte of the point at infinity are refused.
  bool uncompressed = point.size() == 1 + 2 * curve.field_bytes && point[0] == 0x04;
  bool compressed = point.size() == 1 + curve.field_bytes && (point[0] == 0x02 || point[0] == 0x03);
  if (!uncompressed && !compressed) {
    fail(error, "EC point has the wrong length or encoding for the curve");
    return nullptr;
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.openssl_name, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return nullptr;
  }
  PkeyPtr pkey = fromParams("EC", bld.get());
  if (!pkey || !ecPublicKeyValid(pkey.get())) {
    fail(error, "EC point is not on the curve");
    return nullptr;
  }
  return pkey;
}

PkeyPtr buildEd25519(std::string_view raw, std::string* error) {
  if (raw.size() != 32) {
    fail(error, "Ed25519 public key is not 32 bytes");
    return nullptr;
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(raw), raw.size()));
  if (!pkey) fail(error, "OpenSSL refused the Ed25519 key");
  return pkey;
}

// Encodings of the eight points of small order on edwards25519 (identity,
// order 2, two of order 4, four of order 8), as y little-endian with the
// sign of x in the top bit, plus the non-canonical y = p and y = p + 1.
// Their x-sign bit is ignored when comparing. From the curve equation: the
// order-8 points have d*y^4 + 2*y^2 - 1 = 0 (checked in key_test.cc).
constexpr unsigned char kEd25519SmallOrder[7][32] = {
    // y = 0: (sqrt(-1), 0) and (-sqrt(-1), 0), order 4
    {0},
    // y = 1: the identity
    {0x01},
    // order 8
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    // order 8: y = p - (the one above)
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    // y = p - 1: (0, -1), order 2
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    // y = p (non-canonical 0)
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    // y = p + 1 (non-canonical 1)
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

// EVP_DigestVerify with a fresh context (Ed25519, which has no
// verify-over-digest form).
bool digestVerify(EVP_PKEY* pkey, std::string_view data, std::string_view signature) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey) != 1) return false;
  return EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(data), data.size()) == 1;
}

// Hashes `data` and checks `signature` over the digest with a cached
// verify context (crypto/digest_verifier.h).
bool verifyOverDigest(EVP_PKEY* pkey, Hash hash, detail::VerifyPadding padding, std::string_view data,
                      std::string_view signature) {
  const EVP_MD* md = messageDigest(hash);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &digest_len, md, nullptr) != 1) return false;
  return detail::verifyDigest(pkey, md, padding,
                              std::string_view(reinterpret_cast<char*>(digest), digest_len), signature);
}

bool verifyRsa(const Key& key, Hash hash, std::string_view data, std::string_view signature,
               std::optional<size_t> pss_salt_length) {
  if (key.kind() != KeyKind::kRsa) return false;
  size_t bits = key.rsaModulusBits();
  // RFC 8017 §8.1.2 / §8.2.2: a signature is exactly k = ceil(bits/8) bytes.
  if (bits == 0 || signature.size() != (bits + 7) / 8) return false;
  if (pss_salt_length) {
    // EMSA-PSS (RFC 8017 §9.1.2): emLen = ceil((bits - 1) / 8) must hold the
    // hash, the salt and two more bytes. Checking here also keeps huge salt
    // lengths from reaching OpenSSL as negative ints, which mean "auto".
    size_t em_len = (bits - 1 + 7) / 8;
    size_t h_len = hashSize(hash);
    if (em_len < h_len + 2 || *pss_salt_length > em_len - h_len - 2) return false;
  }
  ErrorMark mark;
  detail::VerifyPadding padding;
  padding.rsa_padding = pss_salt_length ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING;
  padding.pss_salt_length = pss_salt_length ? static_cast<int>(*pss_salt_length) : 0;
  return verifyOverDigest(key.pkey(), hash, padding, data, signature);
}

}  // namespace

namespace detail {

bool isSmallOrderEd25519Point(const unsigned char* encoded) {
  for (const auto& entry : kEd25519SmallOrder) {
    if (std::memcmp(encoded, entry, 31) == 0 && (encoded[31] & 0x7f) == entry[31]) return true;
  }
  return false;
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Hashes

std::optional<Hash> hashFromName(std::string_view name) {
  static constexpr std::pair<const char*, Hash> kNames[] = {
      {"SHA-1", Hash::kSha1}, {"SHA-256", Hash::kSha256}, {"SHA-384", Hash::kSha384}, {"SHA-512", Hash::kSha512}};
  for (const auto& [n, h] : kNames) {
    if (sameAsciiCaseless(name, n)) return h;
  }
  return std::nullopt;
}

const char* hashName(Hash hash) {
  static const char* kNames[4] = {"SHA-1", "SHA-256", "SHA-384", "SHA-512"};
  return kNames[hashIndex(hash)];
}

size_t hashSize(Hash hash) {
  static constexpr size_t kSizes[4] = {20, 32, 48, 64};
  return kSizes[hashIndex(hash)];
}

// ---------------------------------------------------------------------------
// Key

Key::Key(KeyKind kind, EVP_PKEY* pkey, std::string secret) : kind_(kind), pkey_(pkey), secret_(std::move(secret)) {}

Key::~Key() {
  EVP_PKEY_free(pkey_);
  if (!secret_.empty()) OPENSSL_cleanse(secret_.data(), secret_.size());
}

std::unique_ptr<Key> Key::fromSecret(std::string bytes) {
  return std::unique_ptr<Key>(new Key(KeyKind::kSecret, nullptr, std::move(bytes)));
}

std::unique_ptr<Key> Key::fromJwk(const nlohmann::json& jwk, std::string* error) {
  ErrorMark mark;
  if (!jwk.is_object()) {
    fail(error, "JWK is not a JSON object");
    return nullptr;
  }
  auto kty_it = jwk.find("kty");
  if (kty_it == jwk.end() || !kty_it->is_string()) {
    fail(error, "JWK has no \"kty\" string");
    return nullptr;
  }
  const std::string& kty = kty_it->get_ref<const std::string&>();
  if (kty == "oct") {
    std::optional<std::string> k = jwkMember(jwk, "k", error);
    return k ? fromSecret(std::move(*k)) : nullptr;
  }
  // Only public keys: a JWK with private members is refused, not silently
  // reduced to its public half (the caller may not expect to hold a secret).
  for (const char* member : {"d", "p", "q", "dp", "dq", "qi", "oth"}) {
    if (jwk.contains(member)) {
      if (error) *error = std::string("JWK has the private member \"") + member + "\"; only public keys are accepted";
      return nullptr;
    }
  }
  if (kty == "RSA") {
    std::optional<std::string> n = jwkMember(jwk, "n", error);
    if (!n) return nullptr;
    std::optional<std::string> e = jwkMember(jwk, "e", error);
    if (!e) return nullptr;
    PkeyPtr pkey = buildRsa(*n, *e, error);
    return pkey ? std::unique_ptr<Key>(new Key(KeyKind::kRsa, pkey.release(), {})) : nullptr;
  }
  auto crv_it = jwk.find("crv");
  if (crv_it == jwk.end() || !crv_it->is_string()) {
    fail(error, "JWK has no \"crv\" string");
    return nullptr;
  }
  const std::string& crv = crv_it->get_ref<const std::string&>();
  if (kty == "EC") {
    const Curve* curve = nullptr;
    for (const Curve& c : kCurves) {
      if (crv == c.jwk_name) curve = &c;
    }
    if (!curve) {
      fail(error, "JWK \"crv\" is not P-256 or P-384");
      return nullptr;
    }
    std::optional<std::string> x = jwkMember(jwk, "x", error);
    if (!x) return nullptr;
    std::optional<std::string> y = jwkMember(jwk, "y", error);
    if (!y) return nullptr;
    // RFC 7518 §6.2.1.2: each coordinate is the full field size, no more, no less.
    if (x->size() != curve->field_bytes || y->size() != curve->field_bytes) {
      fail(error, "JWK \"x\" or \"y\" is not the curve's coordinate size");
      return nullptr;
    }
    PkeyPtr pkey = buildEc(*curve, std::string("\x04", 1) + *x + *y, error);
    return pkey ? std::unique_ptr<Key>(new Key(curve->kind, pkey.release(), {})) : nullptr;
  }
  if (kty == "OKP") {
    if (crv != "Ed25519") {
      fail(error, "JWK \"crv\" is not Ed25519");
      return nullptr;
    }
    std::optional<std::string> x = jwkMember(jwk, "x", error);
    if (!x) return nullptr;
    PkeyPtr pkey = buildEd25519(*x, error);
    return pkey ? std::unique_ptr<Key>(new Key(KeyKind::kEd25519, pkey.release(), {})) : nullptr;
  }
  fail(error, "JWK \"kty\" is not oct, RSA, EC or OKP");
  return nullptr;
}

std::unique_ptr<Key> Key::fromSpki(std::string_view der, std::string* error) {
  ErrorMark mark;
  if (der.size() > LONG_MAX) {
    fail(error, "SubjectPublicKeyInfo is too large");
    return nullptr;
  }
  const unsigned char* p = bytes(der);
  PkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey) {
    fail(error, "not a DER SubjectPublicKeyInfo OpenSSL can read");
    return nullptr;
  }
  if (p != bytes(der) + der.size()) {
    fail(error, "bytes after the SubjectPublicKeyInfo");
    return nullptr;
  }
  switch (EVP_PKEY_get_base_id(pkey.get())) {
    case EVP_PKEY_RSA: {
      // rsaEncryption only: id-RSASSA-PSS keys carry restrictions of their
      // own, and Web Crypto requires rsaEncryption for both RSA schemes.
      BnPtr n = bnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_N), e = bnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_E);
      if (!n || !e || !checkRsaNumbers(n.get(), e.get(), error)) return nullptr;
      return std::unique_ptr<Key>(new Key(KeyKind::kRsa, pkey.release(), {}));
    }
    case EVP_PKEY_EC: {
      const Curve* curve = curveOfKey(pkey.get());
      if (!curve) {
        fail(error, "EC key is not on a named P-256 or P-384 curve");
        return nullptr;
      }
      if (!ecPublicKeyValid(pkey.get())) {
        fail(error, "EC point is not on the curve");
        return nullptr;
      }
      return std::unique_ptr<Key>(new Key(curve->kind, pkey.release(), {}));
    }
    case EVP_PKEY_ED25519:
      return std::unique_ptr<Key>(new Key(KeyKind::kEd25519, pkey.release(), {}));
    default:
      fail(error, "key type is not RSA (rsaEncryption), EC P-256/P-384 or Ed25519");
      return nullptr;
  }
}

std::unique_ptr<Key> Key::fromRawPublic(KeyKind kind, std::string_view raw, std::string* error) {
  ErrorMark mark;
  PkeyPtr pkey;
  if (const Curve* curve = curveForKind(kind)) {
    pkey = buildEc(*curve, raw, error);
  } else if (kind == KeyKind::kEd25519) {
    pkey = buildEd25519(raw, error);
  } else {
    fail(error, "raw public keys are EC or Ed25519 keys only");
  }
  return pkey ? std::unique_ptr<Key>(new Key(kind, pkey.release(), {})) : nullptr;
}

size_t Key::rsaModulusBits() const {
  if (kind_ != KeyKind::kRsa) return 0;
  int bits = EVP_PKEY_get_bits(pkey_);
  return bits > 0 ? static_cast<size_t>(bits) : 0;
}

std::string Key::rsaPublicExponent() const {
  if (kind_ != KeyKind::kRsa) return {};
  ErrorMark mark;
  BnPtr e = bnParam(pkey_, OSSL_PKEY_PARAM_RSA_E);
  return e ? bnBytes(e.get()) : std::string();
}

nlohmann::json Key::toJwk() const {
  ErrorMark mark;
  nlohmann::json jwk = nlohmann::json::object();
  switch (kind_) {
    case KeyKind::kSecret:
      jwk["kty"] = "oct";
      jwk["k"] = base64urlEncode(secret_);
      break;
    case KeyKind::kRsa: {
      BnPtr n = bnParam(pkey_, OSSL_PKEY_PARAM_RSA_N), e = bnParam(pkey_, OSSL_PKEY_PARAM_RSA_E);
      jwk["kty"] = "RSA";
      jwk["n"] = n ? base64urlEncode(bnBytes(n.get())) : "";
      jwk["e"] = e ? base64urlEncode(bnBytes(e.get())) : "";
      break;
    }
    case KeyKind::kEcP256:
    case KeyKind::kEcP384: {
      const Curve* curve = curveForKind(kind_);
      std::string point = toRawPublic();
      jwk["kty"] = "EC";
      jwk["crv"] = curve->jwk_name;
      if (point.size() == 1 + 2 * curve->field_bytes) {
        jwk["x"] = base64urlEncode(std::string_view(point).substr(1, curve->field_bytes));
        jwk["y"] = base64urlEncode(std::string_view(point).substr(1 + curve->field_bytes));
      }
      break;
    }
    case KeyKind::kEd25519:
      jwk["kty"] = "OKP";
      jwk["crv"] = "Ed25519";
      jwk["x"] = base64urlEncode(toRawPublic());
      break;
  }
  return jwk;
}

std::string Key::toSpki() const {
  if (!pkey_) return {};
  ErrorMark mark;
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey_, &der);
  if (len <= 0 || !der) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string Key::toRawPublic() const {
  ErrorMark mark;
  if (const Curve* curve = curveForKind(kind_)) {
    // From the coordinates rather than the stored encoding, which keeps the
    // form the key was imported in (possibly compressed).
    BnPtr x = bnParam(pkey_, OSSL_PKEY_PARAM_EC_PUB_X), y = bnParam(pkey_, OSSL_PKEY_PARAM_EC_PUB_Y);
    if (!x || !y) return {};
    int field = static_cast<int>(curve->field_bytes);
    return std::string("\x04", 1) + bnBytes(x.get(), field) + bnBytes(y.get(), field);
  }
  if (kind_ == KeyKind::kEd25519) {
    std::string out(32, '\0');
    size_t len = out.size();
    if (EVP_PKEY_get_raw_public_key(pkey_, reinterpret_cast<unsigned char*>(out.data()), &len) != 1 || len != 32) {
      return {};
    }
    return out;
  }
  return {};
}

// ---------------------------------------------------------------------------
// Digests, MACs, comparisons

std::string digest(Hash hash, std::string_view data) {
  ErrorMark mark;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, messageDigest(hash), nullptr) != 1) return {};
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string hmac(Hash hash, std::string_view key, std::string_view data) {
  ErrorMark mark;
  EVP_MAC* algorithm = hmacAlgorithm();
  if (!algorithm) return {};
  MacCtxPtr ctx(EVP_MAC_CTX_new(algorithm));
  if (!ctx) return {};
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digestParamName(hash)), 0),
      OSSL_PARAM_construct_end(),
  };
  // A null key pointer means "keep the previous key" to OpenSSL; an empty
  // key is a valid HMAC key, so it gets a non-null pointer.
  static const unsigned char kEmpty = 0;
  const unsigned char* key_bytes = key.empty() ? &kEmpty : bytes(key);
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), bytes(data), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out, &len, sizeof out) != 1) {
    return {};
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

bool timingSafeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ---------------------------------------------------------------------------
// Signature checks

bool verifyHmac(const Key& key, Hash hash, std::string_view data, std::string_view mac) {
  if (key.kind() != KeyKind::kSecret || mac.size() != hashSize(hash)) return false;
  std::string expected = hmac(hash, key.secret(), data);
  bool equal = expected.size() == mac.size() && timingSafeEqual(expected, mac);
  OPENSSL_cleanse(expected.data(), expected.size());
  return equal;
}

bool verifyRsaPkcs1(const Key& key, Hash hash, std::string_view data, std::string_view signature) {
  return verifyRsa(key, hash, data, signature, std::nullopt);
}

bool verifyRsaPss(const Key& key, Hash hash, size_t salt_length, std::string_view data,
                  std::string_view signature) {
  return verifyRsa(key, hash, data, signature, salt_length);
}

bool verifyEcdsa(const Key& key, Hash hash, std::string_view data, std::string_view signature) {
  const Curve* curve = curveForKind(key.kind());
  if (!curve || signature.size() != 2 * curve->field_bytes) return false;
  ErrorMark mark;
  // EVP verifies DER (SEQUENCE { r INTEGER, s INTEGER }); JWS and Web Crypto
  // send r||s, each big-endian and padded to the field size.
  BnPtr r = bignum(signature.substr(0, curve->field_bytes));
  BnPtr s = bignum(signature.substr(curve->field_bytes));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || BN_is_zero(r.get()) || BN_is_zero(s.get())) return false;
  if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return false;
  r.release();  // owned by sig now
  s.release();
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0 || !der) return false;
  std::string der_sig(reinterpret_cast<char*>(der), static_cast<size_t>(der_len));
  OPENSSL_free(der);
  return verifyOverDigest(key.pkey(), hash, detail::VerifyPadding{}, data, der_sig);
}

bool verifyEd25519(const Key& key, std::string_view data, std::string_view signature) {
  if (key.kind() != KeyKind::kEd25519 || signature.size() != 64) return false;
  ErrorMark mark;
  unsigned char public_key[32];
  size_t len = sizeof public_key;
  if (EVP_PKEY_get_raw_public_key(key.pkey(), public_key, &len) != 1 || len != 32) return false;
  if (detail::isSmallOrderEd25519Point(public_key) || detail::isSmallOrderEd25519Point(bytes(signature))) {
    return false;
  }
  return digestVerify(key.pkey(), data, signature);
}

}  // namespace isogate::crypto
