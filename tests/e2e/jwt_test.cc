// The `jwt` binding end to end: env.AUTH.verify(requestOrToken) in a real
// gateway, against tokens and keys made by an independent library (jose, run
// by tests/e2e/jose/make_tokens.mjs under /usr/bin/node). The handler is the
// classic auth gateway: verify, forward to the origin with X-User-ID and
// X-Scopes and without Authorization, else 401 with the error code.
//
// Covers every supported asymmetric algorithm (RS256, PS256, ES256, ES384,
// EdDSA) and HS256 with a secret from the environment; every error code;
// the JWKS fetched from jwks_url (cached per Cache-Control, refetched on an
// unknown kid at most once a minute, stale keys kept when the endpoint is
// down) and from jwks_file; and the classic attacks (alg none, algorithm
// confusion HS256-with-the-RSA-public-key, jku/x5u/jwk headers, huge and
// garbage tokens). `isogate check` refuses "none".

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

constexpr char kJwksPath[] = "/.well-known/jwks.json";
constexpr char kSecretEnv[] = "ISOGATE_E2E_JWT_HS_SECRET";
constexpr char kSecret[] = "e2e-hs256-shared-secret-0123456789abcdef-0123456789";

// The seed auth gateway. GET /verify verifies the X-Token header as a string
// and returns the whole result as JSON; every other path verifies the
// request's Authorization header and forwards to the origin.
constexpr char kAuthScript[] = R"JS(
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/verify") {
      const result = await env.AUTH.verify(request.headers.get("x-token") ?? "");
      return Response.json(result);
    }
    const auth = await env.AUTH.verify(request);
    if (!auth.valid) {
      return Response.json({ error: auth.error }, {
        status: 401,
        headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
      });
    }
    const c = auth.claims;
    let scopes = [];
    if (typeof c.scope === "string") scopes = c.scope.split(" ").filter((s) => s.length > 0);
    else if (Array.isArray(c.scp)) scopes = c.scp;
    const forwarded = new Request(request.url, request);
    forwarded.headers.delete("Authorization");
    forwarded.headers.set("X-User-ID", String(c.sub));
    forwarded.headers.set("X-Scopes", scopes.join(","));
    forwarded.headers.set("X-Token-Alg", String(auth.header.alg));
    return env.ORIGIN.fetch(forwarded);
  }
};
)JS";

std::string b64url(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  while (i + 3 <= in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
    i += 3;
  }
  if (in.size() - i == 1) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (in.size() - i == 2) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string httpJson(const nlohmann::json& body, const std::string& cache_control) {
  std::string text = body.dump();
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: " + cache_control +
         "\r\nContent-Length: " + std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text;
}

class JwtTest : public GatewayTest {
 protected:
  void SetUp() override {
    std::string script = std::string(ISOGATE_SOURCE_DIR) + "/tests/e2e/jose/make_tokens.mjs";
    std::string npm = std::string(ISOGATE_SOURCE_DIR) + "/tests/npm";
    ASSERT_TRUE(std::filesystem::exists(npm + "/node_modules/jose/package.json"))
        << "jose is not installed in " << npm << " (tools/test.sh runs npm ci there)";
    auto r = runCommand({"/usr/bin/node", script, npm, origin_.url(), kSecret}, Millis(60000));
    ASSERT_TRUE(r.exited && r.exit_code == 0) << "make_tokens.mjs failed (" << r.exit_code << "): " << r.err;
    data_ = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(data_.is_object()) << "make_tokens.mjs printed no JSON: " << r.out.substr(0, 500);
    // The attacker's JWKS, served where the jku header points. A gateway that
    // follows jku would find the attacker's key here.
    origin_.on("/attacker/", TestOrigin::Behaviour::rawResponse(httpJson(data_["attacker_jwks"], "max-age=3600")));
  }

  void TearDown() override {
    unsetenv(kSecretEnv);
    GatewayTest::TearDown();
  }

  std::string token(const std::string& name) const { return data_["tokens"].at(name).get<std::string>(); }

  void serveJwks(const nlohmann::json& jwks, const std::string& cache_control = "max-age=3600") {
    origin_.on(kJwksPath, TestOrigin::Behaviour::rawResponse(httpJson(jwks, cache_control)));
  }

  size_t jwksFetches() const { return origin_.requestsTo(kJwksPath).size(); }

  nlohmann::json jwksUrlBinding() const {
    return {{"type", "jwt"},
            {"algorithms", {"RS256", "PS256", "ES256", "ES384", "EdDSA"}},
            {"jwks_url", origin_.url() + kJwksPath},
            {"issuer", data_["issuer"]},
            {"audience", {"api", "admin"}},
            {"required_claims", {"tenant"}}};
  }

  nlohmann::json authConfig(const nlohmann::json& auth_binding) const {
    auto cfg = baseConfig();
    cfg["workers"] = 1;
    cfg["limits"]["header_bytes"] = 65536;  // room for the 20 KB token
    cfg["routes"] = nlohmann::json::array(
        {{{"name", "auth"},
          {"match", {{"path", "/*"}}},
          {"script", "auth.js"},
          {"bindings", {{"AUTH", auth_binding}, {"ORIGIN", {{"type", "origin"}, {"origin", "o"}}}}}}});
    return cfg;
  }

  bool startAuthGateway(const nlohmann::json& auth_binding) {
    dir_.write("auth.js", kAuthScript);
    return startGateway(authConfig(auth_binding));
  }

  // Serves the initial JWKS and starts the gateway with the jwks_url binding.
  bool startWithJwksUrl(const std::string& cache_control = "max-age=3600") {
    serveJwks(data_["jwks"], cache_control);
    return startAuthGateway(jwksUrlBinding());
  }

  HttpResponse callWithAuthorization(const std::string& path, const std::string& authorization) {
    Headers h;
    if (!authorization.empty()) h.emplace_back("Authorization", authorization);
    return get(path, h);
  }
  HttpResponse callWithToken(const std::string& path, const std::string& tok) {
    return callWithAuthorization(path, "Bearer " + tok);
  }
  // GET /verify with the token as a string argument of verify().
  nlohmann::json verifyString(const std::string& tok) {
    auto r = get("/verify", {{"X-Token", tok}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }

  static std::string errorOf(const HttpResponse& r) {
    auto j = r.json();
    return j.is_object() && j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>()
                                                                           : "(no error in body: " + r.body + ")";
  }

  // Expects a 401 from the handler with one of `codes` and the bearer challenge.
  void expectRejected(const std::string& label, const HttpResponse& r, const std::set<std::string>& codes) {
    EXPECT_EQ(r.status, 401) << label << ": " << r.body;
    std::string got = errorOf(r);
    std::string want;
    for (const auto& c : codes) want += (want.empty() ? "" : " or ") + c;
    EXPECT_TRUE(codes.count(got)) << label << ": error " << got << ", want " << want;
    EXPECT_EQ(r.header("www-authenticate").value_or(""), "Bearer error=\"invalid_token\"") << label;
  }

  nlohmann::json data_;
};

// ---------------------------------------------------------------------------
// Accepting.

TEST_F(JwtTest, ValidTokenOfEveryAlgorithmReachesOriginWithIdentityAndWithoutAuthorization) {
  ASSERT_TRUE(startWithJwksUrl());
  for (const auto& [alg, v] : data_["valid"].items()) {
    std::string path = "/v1/orders/" + alg + "?q=1";
    auto r = callWithToken(path, v["token"].get<std::string>());
    ASSERT_EQ(r.status, 200) << alg << ": " << r.body;
    auto seen = origin_.requestsTo("/v1/orders/" + alg);
    ASSERT_EQ(seen.size(), 1u) << alg << ": the origin should get the request once";
    EXPECT_EQ(seen[0].target, path) << alg;
    EXPECT_EQ(seen[0].header("x-user-id").value_or("(none)"), v["sub"].get<std::string>()) << alg;
    EXPECT_EQ(seen[0].header("x-scopes").value_or("(none)"), v["scopes"].get<std::string>()) << alg;
    EXPECT_EQ(seen[0].header("x-token-alg").value_or("(none)"), alg) << alg << ": result.header.alg";
    EXPECT_FALSE(seen[0].header("authorization")) << alg << ": Authorization must not reach the origin";
  }
}

TEST_F(JwtTest, ClockSkewAudienceArrayAndLowerCaseBearerAreAccepted) {
  ASSERT_TRUE(startWithJwksUrl());
  // exp 20 s ago and nbf in 20 s are inside the default 60 s clock skew.
  for (const char* name : {"expired_within_skew", "nbf_within_skew", "aud_array_ok"}) {
    auto r = callWithToken(std::string("/v1/") + name, token(name));
    EXPECT_EQ(r.status, 200) << name << ": " << r.body;
  }
  // RFC 7235: the auth scheme is case-insensitive.
  auto lower = callWithAuthorization("/v1/lower", "bearer " + data_["valid"]["ES256"]["token"].get<std::string>());
  EXPECT_EQ(lower.status, 200) << "\"bearer\" (lower case) should be accepted: " << lower.body;
}

TEST_F(JwtTest, VerifyAcceptsATokenStringAndReturnsClaimsAndHeader) {
  ASSERT_TRUE(startWithJwksUrl());
  auto ok = verifyString(data_["valid"]["EdDSA"]["token"].get<std::string>());
  ASSERT_TRUE(ok.is_object());
  EXPECT_EQ(ok.value("valid", false), true) << ok.dump();
  ASSERT_TRUE(ok.contains("claims") && ok["claims"].is_object()) << ok.dump();
  EXPECT_EQ(ok["claims"].value("sub", ""), "user-eddsa-1");
  EXPECT_EQ(ok["claims"].value("iss", ""), data_["issuer"].get<std::string>());
  EXPECT_EQ(ok["claims"].value("tenant", ""), "t-1");
  EXPECT_EQ(ok["claims"]["exp"], data_["now"].get<int64_t>() + 3600) << "exp stays a number";
  ASSERT_TRUE(ok.contains("header") && ok["header"].is_object()) << ok.dump();
  EXPECT_EQ(ok["header"].value("alg", ""), "EdDSA");
  EXPECT_EQ(ok["header"].value("kid", ""), "eddsa-1");
  EXPECT_FALSE(ok.contains("error") && !ok["error"].is_null()) << ok.dump();

  auto bad = verifyString(token("expired"));
  EXPECT_EQ(bad.value("valid", true), false) << bad.dump();
  EXPECT_EQ(bad.value("error", ""), "expired") << bad.dump();
  EXPECT_FALSE(bad.contains("claims") && bad["claims"].is_object() && bad["claims"].contains("sub"))
      << "an invalid token's claims should not be handed out as if trusted: " << bad.dump();
}

// ---------------------------------------------------------------------------
// Refusing, with the right error code.

TEST_F(JwtTest, InvalidTokensAre401WithTheirErrorCode) {
  ASSERT_TRUE(startWithJwksUrl());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"expired", "expired"},
      {"not_yet_valid", "not_yet_valid"},
      {"wrong_iss", "invalid_issuer"},
      {"wrong_aud", "invalid_audience"},
      {"wrong_aud_array", "invalid_audience"},
      {"missing_claim", "missing_claim"},
      {"unknown_kid", "unknown_kid"},
      {"rs384_not_allowed", "unsupported_alg"},
      {"tampered", "invalid_signature"},
  };
  for (const auto& [name, code] : cases) {
    auto r = callWithToken("/v1/neg/" + name, token(name));
    expectRejected(name, r, {code});
  }
  EXPECT_TRUE(origin_.requestsTo("/v1/").empty()) << "no refused token may reach the origin";
}

TEST_F(JwtTest, MissingOrNonBearerAuthorizationIsMissingToken) {
  ASSERT_TRUE(startWithJwksUrl());
  expectRejected("no Authorization", callWithAuthorization("/v1/a", ""), {"missing_token"});
  // Not a bearer token at all: nothing to verify. (Some gateways call this malformed.)
  expectRejected("Basic", callWithAuthorization("/v1/b", "Basic dXNlcjpwYXNz"), {"missing_token", "malformed"});
  expectRejected("empty Bearer", callWithAuthorization("/v1/c", "Bearer "), {"missing_token", "malformed"});
  EXPECT_TRUE(origin_.requestsTo("/v1/").empty());
}

// ---------------------------------------------------------------------------
// The JWKS: caching, rotation, outages, jwks_file.

TEST_F(JwtTest, JwksIsFetchedOnceAndCachedPerCacheControl) {
  ASSERT_TRUE(startWithJwksUrl("public, max-age=3600"));
  for (int i = 0; i < 4; ++i) {
    for (const auto& [alg, v] : data_["valid"].items()) {
      auto r = callWithToken("/v1/cache", v["token"].get<std::string>());
      ASSERT_EQ(r.status, 200) << alg << ": " << r.body;
    }
  }
  EXPECT_EQ(jwksFetches(), 1u) << "20 verifications with a JWKS fresh for an hour need one fetch";
  auto fetch = origin_.requestsTo(kJwksPath);
  ASSERT_FALSE(fetch.empty());
  EXPECT_EQ(fetch[0].method, "GET");
}

TEST_F(JwtTest, KeyRotationUnknownKidTriggersRefetch) {
  ASSERT_TRUE(startWithJwksUrl());
  ASSERT_EQ(callWithToken("/v1/before", data_["valid"]["RS256"]["token"].get<std::string>()).status, 200);
  size_t before = jwksFetches();
  ASSERT_GE(before, 1u);

  // The identity provider adds a new key and starts signing with it.
  serveJwks(data_["jwks_rotated"]);
  auto r = callWithToken("/v1/rotated", token("rotated"));
  ASSERT_EQ(r.status, 200) << "a token with a new kid should make the gateway refetch the JWKS: " << r.body;
  auto seen = origin_.requestsTo("/v1/rotated");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].header("x-user-id").value_or(""), "user-rs256-2");
  EXPECT_EQ(seen[0].header("x-scopes").value_or(""), "rotated");
  EXPECT_EQ(jwksFetches(), before + 1);
  // Old keys still work.
  EXPECT_EQ(callWithToken("/v1/after", data_["valid"]["ES384"]["token"].get<std::string>()).status, 200);
}

// A key the identity provider withdraws stops verifying as soon as the
// gateway has the new JWKS, even for a token it had verified (and cached)
// before.
TEST_F(JwtTest, WithdrawnKeyStopsVerifyingAfterTheJwksChanges) {
  ASSERT_TRUE(startWithJwksUrl());
  const std::string old_token = data_["valid"]["RS256"]["token"].get<std::string>();
  ASSERT_EQ(callWithToken("/v1/old", old_token).status, 200);
  ASSERT_EQ(callWithToken("/v1/old-again", old_token).status, 200);  // now cached

  // The new JWKS has only the rotated key; a token signed with it makes the
  // gateway refetch.
  nlohmann::json only_rotated = {{"keys", nlohmann::json::array()}};
  for (const auto& key : data_["jwks_rotated"]["keys"]) {
    if (key.value("kid", "") == "rs256-2") only_rotated["keys"].push_back(key);
  }
  ASSERT_EQ(only_rotated["keys"].size(), 1u);
  serveJwks(only_rotated);
  ASSERT_EQ(callWithToken("/v1/rotated", token("rotated")).status, 200);
  expectRejected("withdrawn key", callWithToken("/v1/old-after", old_token), {"unknown_kid"});
}

TEST_F(JwtTest, UnknownKidRefetchesAtMostOncePerMinute) {
  ASSERT_TRUE(startWithJwksUrl());
  ASSERT_EQ(callWithToken("/v1/first", data_["valid"]["PS256"]["token"].get<std::string>()).status, 200);
  size_t before = jwksFetches();
  for (int i = 0; i < 10; ++i) {
    expectRejected("unknown kid #" + std::to_string(i), callWithToken("/v1/ghost", token("unknown_kid")),
                   {"unknown_kid"});
  }
  EXPECT_LE(jwksFetches(), before + 1)
      << "tokens with unknown kids must not make the gateway hammer the JWKS endpoint";
}

TEST_F(JwtTest, CachedKeysStillVerifyWhenJwksEndpointIsDown) {
  ASSERT_TRUE(startWithJwksUrl("max-age=1"));
  for (const auto& [alg, v] : data_["valid"].items()) {
    ASSERT_EQ(callWithToken("/v1/up", v["token"].get<std::string>()).status, 200) << alg;
  }
  // The identity provider goes away: connections are reset.
  origin_.on(kJwksPath, TestOrigin::Behaviour::reset());
  std::this_thread::sleep_for(Millis(1500));  // the cached JWKS is now stale
  // An unknown kid makes the gateway try the dead endpoint (the first
  // unknown-kid refetch since the keys were loaded).
  size_t before = jwksFetches();
  expectRejected("unknown kid while down", callWithToken("/v1/ghost", token("unknown_kid")), {"unknown_kid"});
  EXPECT_GT(jwksFetches(), before) << "the unknown kid should have made the gateway try the (dead) JWKS endpoint; "
                                      "without that attempt this test proves little";
  for (int round = 0; round < 2; ++round) {
    for (const auto& [alg, v] : data_["valid"].items()) {
      auto r = callWithToken("/v1/down/" + alg, v["token"].get<std::string>());
      EXPECT_EQ(r.status, 200) << alg << " (round " << round << "): stale keys must be kept while the JWKS "
                               << "endpoint is down: " << r.body;
    }
    std::this_thread::sleep_for(Millis(300));
  }
  EXPECT_TRUE(gateway_->running());
}

TEST_F(JwtTest, JwksFileKeySource) {
  dir_.write("keys/jwks.json", data_["jwks"].dump());
  auto binding = jwksUrlBinding();
  binding.erase("jwks_url");
  binding["jwks_file"] = "keys/jwks.json";  // relative to the config file
  ASSERT_TRUE(startAuthGateway(binding));
  for (const char* alg : {"ES256", "EdDSA", "RS256"}) {
    auto r = callWithToken(std::string("/v1/file/") + alg, data_["valid"][alg]["token"].get<std::string>());
    EXPECT_EQ(r.status, 200) << alg << ": " << r.body;
  }
  expectRejected("unknown kid", callWithToken("/v1/file/ghost", token("unknown_kid")), {"unknown_kid"});
  expectRejected("expired", callWithToken("/v1/file/expired", token("expired")), {"expired"});
}

// ---------------------------------------------------------------------------
// HMAC with a secret from the environment.

TEST_F(JwtTest, Hs256WithSecretFromEnvironment) {
  ASSERT_EQ(setenv(kSecretEnv, kSecret, 1), 0);  // inherited by the gateway process
  nlohmann::json binding = {{"type", "jwt"},
                            {"algorithms", {"HS256"}},
                            {"secret", kSecretEnv},
                            {"issuer", data_["issuer"]},
                            {"audience", "api"},
                            {"required_claims", {"tenant"}}};
  ASSERT_TRUE(startAuthGateway(binding));
  auto r = callWithToken("/v1/hs", data_["hs"]["valid"].get<std::string>());
  ASSERT_EQ(r.status, 200) << r.body;
  auto seen = origin_.requestsTo("/v1/hs");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].header("x-user-id").value_or(""), "hs-user");
  EXPECT_EQ(seen[0].header("x-scopes").value_or(""), "a,b");
  EXPECT_FALSE(seen[0].header("authorization"));

  expectRejected("wrong secret", callWithToken("/v1/hs-bad", data_["hs"]["wrong_secret"].get<std::string>()),
                 {"invalid_signature"});
  expectRejected("expired", callWithToken("/v1/hs-bad", data_["hs"]["expired"].get<std::string>()), {"expired"});
  expectRejected("HS512 not in algorithms",
                 callWithToken("/v1/hs-bad", data_["hs"]["hs512_not_allowed"].get<std::string>()),
                 {"unsupported_alg"});
  expectRejected("RS256 on an HMAC binding", callWithToken("/v1/hs-bad", data_["hs"]["rs256"].get<std::string>()),
                 {"unsupported_alg"});
  expectRejected("alg none", callWithToken("/v1/hs-bad", token("alg_none")), {"unsupported_alg", "malformed"});
  EXPECT_TRUE(origin_.requestsTo("/v1/hs-bad").empty());
}

// ---------------------------------------------------------------------------
// Attacks.

TEST_F(JwtTest, AlgNoneIsRefused) {
  ASSERT_TRUE(startWithJwksUrl());
  for (const char* name : {"alg_none", "alg_none_with_kid", "alg_none_upper_signed"}) {
    expectRejected(name, callWithToken("/v1/none", token(name)), {"unsupported_alg", "malformed"});
    auto j = verifyString(token(name));
    EXPECT_EQ(j.value("valid", true), false) << name << ": " << j.dump();
  }
  EXPECT_TRUE(origin_.requestsTo("/v1/").empty());
}

TEST_F(JwtTest, AlgorithmConfusionHmacSignedWithRsaPublicKeyIsRefused) {
  ASSERT_TRUE(startWithJwksUrl());
  // HS256 tokens whose HMAC key is the RSA public key (PEM text or JWK JSON),
  // carrying the RSA key's kid: a verifier that lets the token pick the
  // algorithm would accept them.
  for (const char* name : {"hs_confusion_pem", "hs_confusion_pem_trimmed", "hs_confusion_jwk"}) {
    expectRejected(name, callWithToken("/v1/confusion", token(name)), {"unsupported_alg", "invalid_signature"});
  }
  // RS256 signature, but the kid names the EC key: the key decides what it can verify.
  expectRejected("kid_alg_mismatch", callWithToken("/v1/confusion", token("kid_alg_mismatch")),
                 {"unsupported_alg", "invalid_signature"});
  EXPECT_TRUE(origin_.requestsTo("/v1/").empty());
}

TEST_F(JwtTest, JkuX5uAndEmbeddedJwkHeadersAreIgnored) {
  ASSERT_TRUE(startWithJwksUrl());
  for (const char* name :
       {"jku_attacker_kid", "jku_legit_kid", "x5u_attacker_kid", "jwk_embedded", "jwk_embedded_legit_kid"}) {
    expectRejected(name, callWithToken("/v1/jku", token(name)), {"unknown_kid", "invalid_signature"});
  }
  EXPECT_TRUE(origin_.requestsTo("/attacker/").empty())
      << "the gateway fetched a key URL named by the token (jku/x5u)";
  EXPECT_TRUE(origin_.requestsTo("/v1/").empty());
}

TEST_F(JwtTest, OversizedAndGarbageTokensAreMalformedAndTheGatewayStaysUp) {
  ASSERT_TRUE(startWithJwksUrl());
  std::string big = token("oversized");
  ASSERT_GT(big.size(), 20u * 1024);
  expectRejected("20 KB token (validly signed)", callWithToken("/v1/big", big), {"malformed"});
  EXPECT_EQ(verifyString(big).value("error", ""), "malformed");

  std::string good = data_["valid"]["RS256"]["token"].get<std::string>();
  std::string h = good.substr(0, good.find('.'));
  std::string rest = good.substr(good.find('.') + 1);
  std::string p = rest.substr(0, rest.find('.'));
  std::string s = rest.substr(rest.find('.') + 1);
  struct Garbage {
    std::string label;
    std::string token;
    std::set<std::string> codes;
  };
  const std::set<std::string> kMalformed = {"malformed"};
  const std::vector<Garbage> garbage = {
      {"one segment", "abc", kMalformed},
      {"two segments", h + "." + p, kMalformed},
      {"four segments", good + ".abc", kMalformed},
      {"empty segments", "..", kMalformed},
      {"bad base64 everywhere", "!!!.@@@.###", kMalformed},
      {"bad base64 in signature", h + "." + p + ".%%%%", kMalformed},
      {"header not JSON", b64url("not json at all") + "." + p + "." + s, kMalformed},
      {"payload not JSON (validly signed)", token("payload_not_json"), kMalformed},
      {"payload a JSON array (validly signed)", token("payload_json_array"), kMalformed},
      {"header is a JSON array", b64url("[\"RS256\"]") + "." + p + "." + s, kMalformed},
      {"payload a JSON string (validly signed)", token("payload_json_string"), kMalformed},
      // RFC 7515 makes alg required; either reading is fine.
      {"header without alg", b64url("{\"kid\":\"rs256-1\"}") + "." + p + "." + s, {"malformed", "unsupported_alg"}},
      {"random bytes", b64url(std::string("\x00\xff\x10\x80\x7f", 5)) + "." + b64url("\xc3\x28") + "." + s,
       kMalformed},
  };
  for (const auto& g : garbage) {
    expectRejected(g.label, callWithToken("/v1/garbage", g.token), g.codes);
  }
  // Straight to verify(), including bytes that never pass as a header value.
  for (const std::string& tok : {std::string("a.b.c"), std::string("x"), std::string(4096, '.'),
                                std::string(17 * 1024, 'A')}) {
    auto j = verifyString(tok);
    EXPECT_EQ(j.value("valid", true), false) << j.dump();
    EXPECT_EQ(j.value("error", ""), "malformed") << tok.substr(0, 40);
  }
  EXPECT_TRUE(gateway_->running()) << "garbage tokens must not take the gateway down";
  EXPECT_EQ(callWithToken("/v1/still-ok", good).status, 200);
  EXPECT_TRUE(origin_.requestsTo("/v1/garbage").empty());
  EXPECT_TRUE(origin_.requestsTo("/v1/big").empty());
}

// ---------------------------------------------------------------------------
// Config.

TEST_F(JwtTest, CheckRefusesAlgNoneNamingTheJsonPath) {
  dir_.write("auth.js", kAuthScript);
  auto binding = jwksUrlBinding();
  binding["algorithms"] = {"none"};
  std::string file = dir_.write("isogate.json", authConfig(binding).dump(2));
  auto r = runCommand({isogateBinary(), "check", "-c", file}, Millis(20000));
  ASSERT_TRUE(r.exited) << r.err;
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(file + ": routes[0].bindings.AUTH.algorithms[0]: "), std::string::npos) << r.err;

  // Also when it is hidden behind a valid algorithm.
  binding["algorithms"] = {"RS256", "none"};
  dir_.write("isogate.json", authConfig(binding).dump(2));
  auto r2 = runCommand({isogateBinary(), "check", "-c", file}, Millis(20000));
  EXPECT_EQ(r2.exit_code, 1) << r2.err;
  EXPECT_NE(r2.err.find(file + ": routes[0].bindings.AUTH.algorithms[1]: "), std::string::npos) << r2.err;

  // serve refuses to start with it.
  GatewayProcess gw({"serve", "-c", file}, dir_.path());
  auto status = gw.waitExit(Millis(15000));
  ASSERT_TRUE(status) << "serve should exit on a config accepting alg none";
  EXPECT_EQ(status->code, 1);
  EXPECT_TRUE(gw.listeningPorts().empty());
}

TEST_F(JwtTest, CheckRefusesHmacAlgorithmWithAPublicKeySource) {
  dir_.write("auth.js", kAuthScript);
  auto binding = jwksUrlBinding();
  binding["algorithms"] = {"RS256", "HS256"};
  std::string file = dir_.write("isogate.json", authConfig(binding).dump(2));
  auto r = runCommand({isogateBinary(), "check", "-c", file}, Millis(20000));
  ASSERT_TRUE(r.exited) << r.err;
  EXPECT_EQ(r.exit_code, 1) << "HS256 with a JWKS key source is the algorithm-confusion setup: " << r.err;
  EXPECT_NE(r.err.find(file + ": routes[0].bindings.AUTH"), std::string::npos) << r.err;

  // And a valid one passes, so the refusals above are about the algorithms.
  dir_.write("isogate.json", authConfig(jwksUrlBinding()).dump(2));
  auto ok = runCommand({isogateBinary(), "check", "-c", file}, Millis(20000));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

}  // namespace
}  // namespace isogate::e2e
