// HTTPS: the TLS listener (SNI, versions, ALPN, reload, malformed
// handshakes), https:// origins with verification, and `isogate dev --tls`.
// Clients are curl and `openssl s_client`; HTTPS origins are a second isogate
// process with a TLS listener. Certificates (a test CA, an RSA leaf for
// localhost/127.0.0.1, an ECDSA P-256 leaf for b.test/*.wild.test, and a
// self-signed one nobody trusts) are made with the openssl CLI in a temp dir.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/e2e/harness.h"

namespace isogate::e2e {
namespace {

const char* const kOpenssl = "/usr/bin/openssl";

bool fileExists(const std::string& path) { return access(path.c_str(), R_OK) == 0; }

// The test PKI, made once per test in `dir`.
struct TestPki {
  std::string dir;
  std::string ca;                  // ca.pem
  std::string a_cert, a_key;       // RSA, CN/SAN localhost + 127.0.0.1, signed by the CA
  std::string b_cert, b_key;       // ECDSA P-256, SAN b.test + *.wild.test, signed by the CA
  std::string self_cert, self_key;  // ECDSA P-256, self-signed localhost + 127.0.0.1 (untrusted)
};

bool openssl(const std::vector<std::string>& args, std::string* err) {
  std::vector<std::string> argv{kOpenssl};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = runCommand(argv, Millis(30000));
  if (r.exited && r.exit_code == 0) return true;
  *err = "openssl";
  for (const auto& a : args) *err += " " + a;
  *err += ": " + r.err;
  return false;
}

bool makePki(const TempDir& dir, TestPki* pki, std::string* err) {
  const std::string d = dir.path() + "/pki";
  mkdir(d.c_str(), 0700);
  pki->dir = d;
  pki->ca = d + "/ca.pem";
  const std::string ca_key = d + "/ca.key";
  if (!openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key,
                "-out", pki->ca, "-days", "2", "-subj", "/CN=isogate test CA", "-addext",
                "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"},
               err)) {
    return false;
  }
  auto leaf = [&](const std::string& name, const std::vector<std::string>& keyopts, const std::string& cn,
                  const std::string& san, std::string* cert, std::string* key) {
    *cert = d + "/" + name + ".pem";
    *key = d + "/" + name + ".key";
    const std::string csr = d + "/" + name + ".csr";
    const std::string ext = dir.write("pki/" + name + ".ext", "subjectAltName=" + san +
                                                                   "\nbasicConstraints=CA:FALSE\n"
                                                                   "extendedKeyUsage=serverAuth\n");
    std::vector<std::string> req{"req", "-newkey"};
    req.insert(req.end(), keyopts.begin(), keyopts.end());
    req.insert(req.end(), {"-nodes", "-keyout", *key, "-out", csr, "-subj", "/CN=" + cn});
    return openssl(req, err) && openssl({"x509", "-req", "-in", csr, "-CA", pki->ca, "-CAkey", ca_key,
                                         "-CAcreateserial", "-out", *cert, "-days", "2", "-extfile", ext},
                                        err);
  };
  if (!leaf("a", {"rsa:2048"}, "localhost", "DNS:localhost,IP:127.0.0.1", &pki->a_cert, &pki->a_key)) return false;
  if (!leaf("b", {"ec", "-pkeyopt", "ec_paramgen_curve:P-256"}, "b.test", "DNS:b.test,DNS:*.wild.test",
            &pki->b_cert, &pki->b_key)) {
    return false;
  }
  pki->self_cert = d + "/self.pem";
  pki->self_key = d + "/self.key";
  return openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                  pki->self_key, "-out", pki->self_cert, "-days", "2", "-subj", "/CN=localhost", "-addext",
                  "subjectAltName=DNS:localhost,IP:127.0.0.1"},
                 err);
}

// "isogate: listening on https://127.0.0.1:PORT" on the gateway's stderr.
uint16_t waitForHttpsPort(const GatewayProcess& gateway, Millis timeout) {
  return gateway.waitForListeningPort("listening on https", timeout);
}

std::string readFileText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TlsTest : public GatewayTest {
 protected:
  void SetUp() override {
    std::string err;
    ASSERT_TRUE(makePki(dir_, &pki_, &err)) << err;
  }

  // baseConfig() plus an HTTPS listener with `certificates` and a script
  // route /s/* that answers with the URL it saw.
  nlohmann::json tlsConfig(nlohmann::json certificates) {
    auto cfg = baseConfig();
    // Script entries are timed by the wall clock: a loaded machine must not trip cpu_ms here.
    cfg["limits"]["cpu_ms"] = 5000;
    cfg["tls"] = {{"listen", {"127.0.0.1:0"}}, {"certificates", std::move(certificates)}};
    dir_.write("url.js", R"JS(
export default {
  async fetch(request) {
    return Response.json({ url: request.url, who: "isogate" });
  }
};
)JS");
    cfg["routes"].push_back({{"name", "s"}, {"match", {{"path", "/s/*"}}}, {"script", "url.js"}});
    return cfg;
  }
  nlohmann::json certs(const std::string& cert, const std::string& key) {
    return nlohmann::json::array({{{"cert", cert}, {"key", key}}});
  }

  bool startTls(const nlohmann::json& cfg) {
    if (!startGateway(cfg)) return false;
    tls_port_ = waitForHttpsPort(*gateway_, Millis(10000));
    if (tls_port_ == 0) ADD_FAILURE() << "no https listener; stderr:\n" << gateway_->stderrText();
    return tls_port_ != 0;
  }

  // curl -sS against https://HOST:tls_port_ with HOST resolved to 127.0.0.1.
  CommandResult curlTls(const std::string& host, const std::string& target, std::vector<std::string> extra = {},
                        uint16_t port = 0) {
    if (port == 0) port = tls_port_;
    std::vector<std::string> args{"--cacert", pki_.ca, "--resolve", host + ":" + std::to_string(port) + ":127.0.0.1"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("https://" + host + ":" + std::to_string(port) + target);
    return runCurl(args);
  }

  // openssl s_client against the TLS port; stdin is empty so it quits after the handshake.
  // `linger`: keep stdin open that long, so post-handshake messages (TLS 1.3
  // session tickets) arrive before s_client quits.
  CommandResult sClient(std::vector<std::string> extra, Millis linger = Millis(0)) {
    std::vector<std::string> argv{kOpenssl, "s_client", "-connect", "127.0.0.1:" + std::to_string(tls_port_)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    StdinSource input;
    if (linger.count() > 0) {
      input = [linger](std::string&) {
        std::this_thread::sleep_for(linger);
        return false;
      };
    }
    return runCommand(argv, Millis(15000), input);
  }

  TestPki pki_;
  uint16_t tls_port_ = 0;
};

// The peer certificate's subject line from s_client output ("subject=CN = b.test").
std::string subjectOf(const CommandResult& r) {
  std::smatch m;
  static const std::regex kSubject(R"(subject=([^\n]*))");
  return std::regex_search(r.out, m, kSubject) ? m[1].str() : "";
}

// ---------------------------------------------------------------------------
// The listener.

TEST_F(TlsTest, HttpsGetThroughScriptAndProxyRoutes) {
  ASSERT_TRUE(startTls(tlsConfig(certs(pki_.a_cert, pki_.a_key))));

  CommandResult r = curlTls("localhost", "/s/hello?x=1");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  auto body = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(body.is_object()) << r.out;
  EXPECT_EQ(body["url"], "https://localhost:" + std::to_string(tls_port_) + "/s/hello?x=1");

  r = curlTls("localhost", "/api/items", {"-H", "X-Test: 1"});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  auto echo = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(echo.is_object()) << r.out;
  EXPECT_EQ(echo["target"], "/api/items");
  ASSERT_EQ(origin_.requestCount(), 1u);
  EXPECT_EQ(origin_.requests()[0].header("x-forwarded-proto").value_or(""), "https");

  // Keep-alive: curl sends the second request on the same TLS connection.
  const std::string base = "https://localhost:" + std::to_string(tls_port_);
  r = runCurl({"--cacert", pki_.ca, "--resolve", "localhost:" + std::to_string(tls_port_) + ":127.0.0.1", "-w",
               " connects=%{num_connects}\n", base + "/s/one", base + "/s/two"});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  EXPECT_NE(r.out.find("/s/one\",\"who\":\"isogate\"} connects=1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/s/two\",\"who\":\"isogate\"} connects=0"), std::string::npos) << r.out;

  // The plain listener is unaffected and says http.
  auto plain = get("/s/plain");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.json()["url"], "http://gateway.test/s/plain");
}

TEST_F(TlsTest, SniPicksTheCertificate) {
  nlohmann::json list = nlohmann::json::array(
      {{{"cert", pki_.a_cert}, {"key", pki_.a_key}}, {{"cert", pki_.b_cert}, {"key", pki_.b_key}}});
  ASSERT_TRUE(startTls(tlsConfig(list)));

  EXPECT_NE(subjectOf(sClient({"-servername", "b.test"})).find("b.test"), std::string::npos);
  EXPECT_NE(subjectOf(sClient({"-servername", "x.wild.test"})).find("b.test"), std::string::npos);
  EXPECT_NE(subjectOf(sClient({"-servername", "B.TEST"})).find("b.test"), std::string::npos);
  EXPECT_NE(subjectOf(sClient({"-servername", "localhost"})).find("localhost"), std::string::npos);
  // Unknown names, a wildcard two labels deep, and no SNI get the first certificate.
  EXPECT_NE(subjectOf(sClient({"-servername", "unknown.test"})).find("localhost"), std::string::npos);
  EXPECT_NE(subjectOf(sClient({"-servername", "a.b.wild.test"})).find("localhost"), std::string::npos);
  EXPECT_NE(subjectOf(sClient({"-noservername"})).find("localhost"), std::string::npos);

  // curl verifies each name against the certificate it is given.
  CommandResult r = curlTls("b.test", "/s/x");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  EXPECT_NE(r.out.find("https://b.test:"), std::string::npos) << r.out;
  r = curlTls("api.wild.test", "/s/x");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  r = curlTls("localhost", "/s/x");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
}

TEST_F(TlsTest, OldVersionsAreRefusedAndAlpnIsNegotiated) {
  ASSERT_TRUE(startTls(tlsConfig(certs(pki_.b_cert, pki_.b_key))));

  // The client is allowed TLS 1.1 (security level 0); the server refuses.
  CommandResult old = sClient({"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
  EXPECT_FALSE(old.exited && old.exit_code == 0) << old.out;
  EXPECT_NE(old.out.find("Cipher is (NONE)"), std::string::npos) << old.out;
  CommandResult v10 = sClient({"-tls1", "-cipher", "DEFAULT@SECLEVEL=0"});
  EXPECT_FALSE(v10.exited && v10.exit_code == 0) << v10.out;

  CommandResult v12 = sClient({"-tls1_2"});
  EXPECT_TRUE(v12.exited && v12.exit_code == 0) << v12.err;
  EXPECT_NE(v12.out.find("TLSv1.2"), std::string::npos) << v12.out;
  // TLS 1.2 uses ECDHE and an AEAD cipher.
  EXPECT_NE(v12.out.find("Cipher is ECDHE-ECDSA-"), std::string::npos) << v12.out;
  // No CBC suites offered: a client that only has them fails.
  CommandResult cbc = sClient({"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"});
  EXPECT_FALSE(cbc.exited && cbc.exit_code == 0) << cbc.out;
  CommandResult v13 = sClient({"-tls1_3"});
  EXPECT_TRUE(v13.exited && v13.exit_code == 0) << v13.err;
  EXPECT_NE(v13.out.find("TLSv1.3"), std::string::npos) << v13.out;

  CommandResult alpn11 = sClient({"-alpn", "http/1.1"});
  EXPECT_NE(alpn11.out.find("ALPN protocol: http/1.1"), std::string::npos) << alpn11.out;
  CommandResult alpn_both = sClient({"-alpn", "h2,http/1.1"});
  EXPECT_NE(alpn_both.out.find("ALPN protocol: "), std::string::npos) << alpn_both.out;
  CommandResult alpn_other = sClient({"-alpn", "spdy/3"});
  EXPECT_TRUE(alpn_other.exited && alpn_other.exit_code == 0) << alpn_other.err;
  EXPECT_NE(alpn_other.out.find("No ALPN negotiated"), std::string::npos) << alpn_other.out;
  // No renegotiation, no compression.
  EXPECT_NE(v12.out.find("Compression: NONE"), std::string::npos) << v12.out;
}

TEST_F(TlsTest, Http2WhenAlpnPicksH2) {
  ASSERT_TRUE(startTls(tlsConfig(certs(pki_.a_cert, pki_.a_key))));
  CommandResult alpn = sClient({"-alpn", "h2,http/1.1"});
  EXPECT_NE(alpn.out.find("ALPN protocol: h2"), std::string::npos) << alpn.out;

  CommandResult r = curlTls("localhost", "/s/h2", {"--http2", "-w", " %{http_version}"});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  EXPECT_NE(r.out.find("\"url\":\"https://localhost:" + std::to_string(tls_port_) + "/s/h2\""), std::string::npos)
      << r.out;
  EXPECT_TRUE(r.out.ends_with(" 2")) << r.out;
  // Proxy routes too.
  r = curlTls("localhost", "/api/h2?q=1", {"--http2", "-w", " %{http_version}"});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  EXPECT_NE(r.out.find("\"target\":\"/api/h2?q=1\""), std::string::npos) << r.out;
  EXPECT_TRUE(r.out.ends_with(" 2")) << r.out;
  // A client that only speaks HTTP/1.1 still gets it.
  r = curlTls("localhost", "/s/h1", {"--http1.1", "-w", " %{http_version}"});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  EXPECT_TRUE(r.out.ends_with(" 1.1")) << r.out;

  // 100 concurrent streams on one connection.
  CommandResult many = runCommand({"/usr/bin/nghttp", "-n", "-s", "-m", "100",
                                   "https://127.0.0.1:" + std::to_string(tls_port_) + "/s/many"},
                                  Millis(30000));
  ASSERT_TRUE(many.exited && many.exit_code == 0) << many.err << many.out;
  size_t ok = 0;
  for (size_t pos = 0; (pos = many.out.find(" 200 ", pos)) != std::string::npos; ++pos) ++ok;
  EXPECT_EQ(ok, 100u) << many.out;
}

TEST_F(TlsTest, LargeBodiesStreamBothWaysOverTls) {
  auto cfg = tlsConfig(certs(pki_.b_cert, pki_.b_key));
  cfg["limits"]["body_bytes"] = 64 * kMiB;
  ASSERT_TRUE(startTls(cfg));
  const uint64_t kTotal = 20 * kMiB;
  origin_.on("/api/download", TestOrigin::Behaviour::stream(kTotal));
  const std::string download = dir_.path() + "/download.bin";
  CommandResult r = curlTls("b.test", "/api/download", {"-o", download, "-w", "%{size_download}"});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  EXPECT_EQ(r.out, std::to_string(kTotal));
  PatternChecker check;
  std::string data = readFileText(download);
  check.update(data.data(), data.size());
  EXPECT_TRUE(check.ok());
  EXPECT_EQ(check.bytes(), kTotal);

  // Upload: a pattern body, streamed to the origin (HTTP/1.1 and HTTP/2).
  const uint64_t kUpload = 8 * kMiB;
  std::string body(kUpload, '\0');
  fillPattern(0, body.data(), body.size());
  const std::string upload = dir_.write("upload.bin", body);
  for (const char* version : {"--http1.1", "--http2"}) {
    SCOPED_TRACE(version);
    size_t before = origin_.requestCount();
    r = curlTls("b.test", "/api/upload", {version, "--data-binary", "@" + upload, "-o", "/dev/null", "-w", "%{http_code}"});
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
    EXPECT_EQ(r.out, "200");
    ASSERT_TRUE(origin_.waitForRequests(before + 1, Millis(5000)));
    auto req = origin_.requests().back();
    EXPECT_EQ(req.body_bytes, kUpload);
    EXPECT_TRUE(req.body_matches_pattern);
  }
}

TEST_F(TlsTest, SigtermDrainsHttpsAndHttp2Connections) {
  ASSERT_TRUE(startTls(tlsConfig(certs(pki_.a_cert, pki_.a_key))));
  origin_.on("/api/slow", TestOrigin::Behaviour::slow(1000));
  CommandResult h1, h2;
  std::thread t1([&] { h1 = curlTls("localhost", "/api/slow", {"--http1.1", "-w", " %{http_code} %{http_version}"}); });
  std::thread t2([&] { h2 = curlTls("localhost", "/api/slow", {"--http2", "-w", " %{http_code} %{http_version}"}); });
  ASSERT_TRUE(origin_.waitForRequests(2, Millis(5000)));
  gateway_->signal(SIGTERM);
  t1.join();
  t2.join();
  EXPECT_TRUE(h1.out.ends_with(" 200 1.1")) << h1.out << h1.err;
  EXPECT_TRUE(h2.out.ends_with(" 200 2")) << h2.out << h2.err;
  auto status = gateway_->waitExit(Millis(10000));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 0);
}

TEST_F(TlsTest, MinVersion13RefusesTls12) {
  auto cfg = tlsConfig(certs(pki_.a_cert, pki_.a_key));
  cfg["tls"]["min_version"] = "1.3";
  ASSERT_TRUE(startTls(cfg));
  CommandResult v12 = sClient({"-tls1_2"});
  EXPECT_FALSE(v12.exited && v12.exit_code == 0) << v12.out;
  CommandResult v13 = sClient({"-tls1_3"});
  EXPECT_TRUE(v13.exited && v13.exit_code == 0) << v13.err;
}

TEST_F(TlsTest, SessionsResume) {
  ASSERT_TRUE(startTls(tlsConfig(certs(pki_.b_cert, pki_.b_key))));
  const std::string sess = dir_.path() + "/sess.pem";
  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    SCOPED_TRACE(version);
    CommandResult first = sClient({version, "-sess_out", sess}, Millis(500));
    ASSERT_TRUE(first.exited && first.exit_code == 0) << first.err;
    CommandResult second = sClient({version, "-sess_in", sess});
    ASSERT_TRUE(second.exited && second.exit_code == 0) << second.err;
    EXPECT_NE(second.out.find("Reused, "), std::string::npos) << second.out;
  }
}

TEST_F(TlsTest, MalformedClientHelloClosesOnlyThatConnection) {
  auto cfg = tlsConfig(certs(pki_.a_cert, pki_.a_key));
  cfg["limits"]["header_timeout_ms"] = 1500;
  cfg["admin"] = {{"listen", "127.0.0.1:0"}};
  ASSERT_TRUE(startTls(cfg));

  // A client that completes a handshake and then sends slowly.
  std::thread good([&] {
    for (int i = 0; i < 5; ++i) {
      CommandResult r = curlTls("localhost", "/s/good");
      EXPECT_TRUE(r.exited && r.exit_code == 0) << r.err;
    }
  });
  const std::vector<std::string> garbage = {
      std::string("\x16\x03\x01\x00\x10garbage-garbage!", 21),                 // a record whose handshake is junk
      std::string("\x16\x03\x01\xff\xff", 5) + std::string(70000, 'A'),      // oversized record
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",                                    // plain HTTP on the TLS port
      std::string("\x16\x03\x01\x00\x2f\x01\x00\x00\x2b\x03\x03", 11) + std::string(43, '\0'),  // truncated hello
  };
  for (const std::string& bytes : garbage) {
    RawClient raw;
    ASSERT_TRUE(raw.connect(tls_port_));
    raw.sendAll(bytes);
    EXPECT_TRUE(raw.waitClosed(Millis(5000))) << "connection stays open after malformed bytes";
  }
  // A connection that never sends a ClientHello is closed after header_timeout_ms.
  RawClient silent;
  ASSERT_TRUE(silent.connect(tls_port_));
  EXPECT_TRUE(silent.waitClosed(Millis(6000)));
  good.join();

  CommandResult r = curlTls("localhost", "/s/after");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  EXPECT_TRUE(gateway_->running());

  // Counted in the metrics.
  std::smatch m;
  std::string err = gateway_->stderrText();
  ASSERT_TRUE(std::regex_search(err, m, std::regex(R"(admin listening on http://127\.0\.0\.1:(\d+))"))) << err;
  auto metrics = roundTrip(static_cast<uint16_t>(std::stoi(m[1].str())), buildRequest("GET", "/metrics"));
  ASSERT_EQ(metrics.status, 200);
  std::smatch failed, timeout;
  ASSERT_TRUE(std::regex_search(metrics.body, failed,
                                std::regex(R"re(isogate_tls_handshake_errors_total\{reason="failed"\} (\d+))re")))
      << metrics.body;
  EXPECT_GE(std::stoi(failed[1].str()), 3);
  ASSERT_TRUE(std::regex_search(metrics.body, timeout,
                                std::regex(R"re(isogate_tls_handshake_errors_total\{reason="timeout"\} (\d+))re")));
  EXPECT_GE(std::stoi(timeout[1].str()), 1);
}

TEST_F(TlsTest, ReloadServesTheNewCertificateToNewConnections) {
  const std::string cert = dir_.path() + "/server.pem";
  const std::string key = dir_.path() + "/server.key";
  dir_.write("server.pem", readFileText(pki_.a_cert));
  dir_.write("server.key", readFileText(pki_.a_key));
  ASSERT_TRUE(startTls(tlsConfig(certs("server.pem", "server.key"))));
  EXPECT_NE(subjectOf(sClient({})).find("localhost"), std::string::npos);

  dir_.write("server.pem", readFileText(pki_.b_cert));
  dir_.write("server.key", readFileText(pki_.b_key));
  gateway_->signal(SIGHUP);
  ASSERT_TRUE(pollUntil([&] { return gateway_->stderrText().find("reloaded") != std::string::npos; }, Millis(10000)))
      << gateway_->stderrText();
  EXPECT_TRUE(pollUntil([&] { return subjectOf(sClient({})).find("b.test") != std::string::npos; }, Millis(5000)));

  // A broken pair is refused and the previous certificates keep serving.
  dir_.write("server.key", readFileText(pki_.a_key));
  gateway_->signal(SIGHUP);
  ASSERT_TRUE(pollUntil(
      [&] { return gateway_->stderrText().find("tls.certificates[0].key: does not match") != std::string::npos; },
      Millis(10000)))
      << gateway_->stderrText();
  EXPECT_NE(subjectOf(sClient({})).find("b.test"), std::string::npos);
  (void)cert;
  (void)key;
}

TEST_F(TlsTest, ReloadKeepsEstablishedConnections) {
  dir_.write("server.pem", readFileText(pki_.a_cert));
  dir_.write("server.key", readFileText(pki_.a_key));
  ASSERT_TRUE(startTls(tlsConfig(certs("server.pem", "server.key"))));

  // One TLS connection: a request, then (after the reload) a second one.
  std::atomic<bool> reloaded{false};
  CommandResult client;
  std::thread t([&] {
    int step = 0;
    client = runCommand({kOpenssl, "s_client", "-quiet", "-connect", "127.0.0.1:" + std::to_string(tls_port_)},
                        Millis(20000), [&](std::string& chunk) {
                          if (step == 0) {
                            chunk = "GET /s/before HTTP/1.1\r\nHost: localhost\r\n\r\n";
                          } else if (step == 1) {
                            for (int i = 0; i < 200 && !reloaded; ++i) std::this_thread::sleep_for(Millis(50));
                            chunk = "GET /s/after HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
                          } else {
                            return false;
                          }
                          ++step;
                          return true;
                        });
  });
  std::this_thread::sleep_for(Millis(500));
  dir_.write("server.pem", readFileText(pki_.b_cert));
  dir_.write("server.key", readFileText(pki_.b_key));
  gateway_->signal(SIGHUP);
  EXPECT_TRUE(pollUntil([&] { return gateway_->stderrText().find("reloaded") != std::string::npos; }, Millis(10000)));
  reloaded = true;
  t.join();
  EXPECT_NE(client.out.find("/s/before\""), std::string::npos) << client.out << client.err;
  EXPECT_NE(client.out.find("/s/after\""), std::string::npos) << client.out << client.err;
  EXPECT_NE(subjectOf(sClient({})).find("b.test"), std::string::npos);
}

TEST_F(TlsTest, ConfigErrorsNameTheCertificate) {
  auto cfg = tlsConfig(certs(pki_.a_cert, pki_.b_key));
  const std::string path = dir_.write("isogate.json", cfg.dump(2));
  CommandResult r = runCommand({isogateBinary(), "check", "-c", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(path + ": tls.certificates[0].key: does not match the certificate"), std::string::npos)
      << r.err;

  cfg = tlsConfig(certs(pki_.a_cert, "missing.key"));
  dir_.write("isogate.json", cfg.dump(2));
  r = runCommand({isogateBinary(), "serve", "-c", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(path + ": tls.certificates[0].key: cannot read \"missing.key\""), std::string::npos) << r.err;

  dir_.write("notpem.pem", "hello\n");
  cfg = tlsConfig(certs("notpem.pem", pki_.a_key));
  dir_.write("isogate.json", cfg.dump(2));
  r = runCommand({isogateBinary(), "check", "-c", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(path + ": tls.certificates[0].cert: cannot load"), std::string::npos) << r.err;

  // An origin's CA file is checked at load too.
  cfg = baseConfig();
  cfg["origins"]["o"] = {{"url", "https://127.0.0.1:1"}, {"ca", "notpem.pem"}};
  dir_.write("isogate.json", cfg.dump(2));
  r = runCommand({isogateBinary(), "check", "-c", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(path + ": origins.o.ca: cannot load"), std::string::npos) << r.err;
}

// ---------------------------------------------------------------------------
// HTTPS origins.

class TlsOriginTest : public TlsTest {
 protected:
  // A second isogate serving `cert`/`key` over HTTPS with one script route
  // /o/* that answers {"origin": "tls", "url": request.url}. Returns its port.
  uint16_t startTlsOrigin(TempDir& dir, std::unique_ptr<GatewayProcess>* process, const std::string& cert,
                          const std::string& key) {
    dir.write("origin.js", R"JS(
export default {
  async fetch(request) {
    return Response.json({ origin: "tls", url: request.url, host: request.headers.get("host") });
  }
};
)JS");
    nlohmann::json cfg = {
        {"listen", {"127.0.0.1:0"}},
        {"workers", 1},
        {"limits", {{"cpu_ms", 5000}}},
        {"tls", {{"listen", {"127.0.0.1:0"}}, {"certificates", {{{"cert", cert}, {"key", key}}}}}},
        {"routes", {{{"match", {{"path", "/o/*"}}}, {"script", "origin.js"}}}},
    };
    const std::string path = dir.write("isogate.json", cfg.dump(2));
    *process = std::make_unique<GatewayProcess>(std::vector<std::string>{"serve", "-c", path}, dir.path());
    uint16_t port = waitForHttpsPort(**process, Millis(15000));
    if (port == 0) ADD_FAILURE() << "TLS origin did not start: " << (*process)->stderrText();
    return port;
  }

  TempDir good_dir_, wrong_dir_, self_dir_;
  std::unique_ptr<GatewayProcess> good_, wrong_, self_;
};

TEST_F(TlsOriginTest, VerifiedOriginPassesWrongNameFailsWith502) {
  const uint16_t good = startTlsOrigin(good_dir_, &good_, pki_.a_cert, pki_.a_key);       // localhost, 127.0.0.1
  const uint16_t wrong = startTlsOrigin(wrong_dir_, &wrong_, pki_.b_cert, pki_.b_key);    // b.test only
  const uint16_t self = startTlsOrigin(self_dir_, &self_, pki_.self_cert, pki_.self_key);  // not signed by the CA
  ASSERT_NE(good, 0);
  ASSERT_NE(wrong, 0);
  ASSERT_NE(self, 0);
  const std::string g = std::to_string(good), w = std::to_string(wrong), sp = std::to_string(self);

  auto cfg = tlsConfig(certs(pki_.a_cert, pki_.a_key));
  cfg["origins"]["secure"] = {{"url", "https://localhost:" + g}, {"ca", pki_.ca}};
  cfg["origins"]["secure_ip"] = {{"url", "https://127.0.0.1:" + g}, {"ca", "pki/ca.pem"}};
  cfg["origins"]["wrong"] = {{"url", "https://127.0.0.1:" + w}, {"ca", pki_.ca}, {"retries", 0}};
  cfg["origins"]["untrusted"] = {{"url", "https://127.0.0.1:" + sp}, {"retries", 0}};
  cfg["origins"]["insecure"] = {{"url", "https://localhost:" + w}, {"tls_verify", false}};
  auto route = [](const std::string& name, const std::string& origin) {
    return nlohmann::json{{"name", name},
                          {"match", {{"path", "/" + name + "/*"}}},
                          {"proxy", {{"origin", origin}, {"strip_prefix", "/" + name}}}};
  };
  cfg["routes"].push_back(route("secure", "secure"));
  cfg["routes"].push_back(route("secureip", "secure_ip"));
  cfg["routes"].push_back(route("wrong", "wrong"));
  cfg["routes"].push_back(route("untrusted", "untrusted"));
  cfg["routes"].push_back(route("insecure", "insecure"));
  dir_.write("fetcher.js", R"JS(
export default {
  async fetch(request, env) {
    const a = await env.SECURE.fetch("http://x/o/bound");
    const b = await fetch("https://127.0.0.1:" + env.GOOD + "/o/global");
    let failed = "";
    try { await fetch("https://127.0.0.1:" + env.WRONG + "/o/x"); } catch (e) { failed = String(e); }
    return Response.json({ a: await a.json(), b: await b.json(), failed });
  }
};
)JS");
  cfg["routes"].push_back({{"name", "fetcher"},
                           {"match", {{"path", "/fetcher"}}},
                           {"script", "fetcher.js"},
                           {"bindings",
                            {{"SECURE", {{"type", "origin"}, {"origin", "secure"}}}, {"GOOD", g}, {"WRONG", w}}}});
  ASSERT_TRUE(startTls(cfg));
  EXPECT_NE(gateway_->stderrText().find("origins.insecure.tls_verify: false"), std::string::npos)
      << "tls_verify false must warn at load: " << gateway_->stderrText();

  auto ok = get("/secure/o/items?x=1");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json()["origin"], "tls");
  EXPECT_EQ(ok.json()["url"], "https://localhost:" + g + "/o/items?x=1");
  // Keep-alive and session reuse to the origin: a few more in a row.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get("/secure/o/again").status, 200);

  auto ip = get("/secureip/o/ip");
  ASSERT_EQ(ip.status, 200) << ip.body;

  auto bad = get("/wrong/o/items");
  EXPECT_EQ(bad.status, 502) << bad.body;
  expectErrorBody(bad, "origin_unreachable");
  EXPECT_TRUE(pollUntil(
      [&] {
        return gateway_->stderrText().find("origin wrong: TLS handshake with 127.0.0.1:" + w +
                                           " failed: certificate verify failed: IP address mismatch") !=
               std::string::npos;
      },
      Millis(5000)))
      << gateway_->stderrText();

  auto untrusted = get("/untrusted/o/items");
  EXPECT_EQ(untrusted.status, 502) << untrusted.body;
  EXPECT_TRUE(pollUntil(
      [&] {
        return gateway_->stderrText().find("origin untrusted: TLS handshake with 127.0.0.1:" + sp +
                                           " failed: certificate verify failed: ") != std::string::npos;
      },
      Millis(5000)))
      << gateway_->stderrText();

  auto insecure = get("/insecure/o/items");
  ASSERT_EQ(insecure.status, 200) << insecure.body;
  EXPECT_EQ(insecure.json()["origin"], "tls");

  // Script fetch(): an origin binding and a global fetch to a configured
  // origin's URL both verify with its "ca"; an unverifiable one rejects.
  auto fetched = get("/fetcher");
  ASSERT_EQ(fetched.status, 200) << fetched.body;
  auto j = fetched.json();
  EXPECT_EQ(j["a"]["url"], "https://localhost:" + g + "/o/bound") << fetched.body;
  EXPECT_EQ(j["b"]["origin"], "tls") << fetched.body;
  EXPECT_NE(j["failed"].get<std::string>().find("TypeError"), std::string::npos) << fetched.body;
}

TEST_F(TlsOriginTest, LargeBodiesThroughAnHttpsOrigin) {
  // client -> gateway -> (TLS) -> isogate with a TLS listener -> TestOrigin.
  const uint64_t kTotal = 16 * kMiB;
  origin_.on("/big", TestOrigin::Behaviour::stream(kTotal));
  nlohmann::json middle = {
      {"listen", {"127.0.0.1:0"}},
      {"workers", 1},
      {"limits", {{"body_bytes", 64 * kMiB}}},
      {"tls", {{"listen", {"127.0.0.1:0"}}, {"certificates", {{{"cert", pki_.a_cert}, {"key", pki_.a_key}}}}}},
      {"origins", {{"back", {{"url", origin_.url()}}}}},
      {"routes", {{{"match", {{"path", "/*"}}}, {"proxy", {{"origin", "back"}}}}}},
  };
  const std::string path = good_dir_.write("isogate.json", middle.dump(2));
  good_ = std::make_unique<GatewayProcess>(std::vector<std::string>{"serve", "-c", path}, good_dir_.path());
  const uint16_t port = waitForHttpsPort(*good_, Millis(15000));
  ASSERT_NE(port, 0) << good_->stderrText();

  auto cfg = baseConfig();
  cfg["limits"]["body_bytes"] = 64 * kMiB;
  cfg["origins"]["mid"] = {{"url", "https://localhost:" + std::to_string(port)}, {"ca", pki_.ca}};
  cfg["routes"] = {{{"match", {{"path", "/*"}}}, {"proxy", {{"origin", "mid"}}}}};
  ASSERT_TRUE(startGateway(cfg));

  PatternChecker check;
  RawClient client;
  ASSERT_TRUE(client.connect(port_));
  ASSERT_TRUE(client.sendAll(buildRequest("GET", "/big")));
  ReadOptions options;
  options.body_sink = [&](const char* data, size_t len) { check.update(data, len); };
  auto resp = client.readResponse(Millis(30000), options);
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 200);
  EXPECT_TRUE(resp->complete);
  EXPECT_TRUE(check.ok());
  EXPECT_EQ(check.bytes(), kTotal);

  // And a large upload the other way.
  const uint64_t kUpload = 6 * kMiB;
  std::string body(kUpload, '\0');
  fillPattern(0, body.data(), body.size());
  size_t before = origin_.requestCount();
  auto up = request("POST", "/upload", {}, body, Millis(30000));
  EXPECT_EQ(up.status, 200) << up.body.substr(0, 200);
  ASSERT_TRUE(origin_.waitForRequests(before + 1, Millis(5000)));
  EXPECT_EQ(origin_.requests().back().body_bytes, kUpload);
  EXPECT_TRUE(origin_.requests().back().body_matches_pattern);
}

TEST_F(TlsOriginTest, JwksUrlOverHttps) {
  const uint16_t good = startTlsOrigin(good_dir_, &good_, pki_.a_cert, pki_.a_key);
  ASSERT_NE(good, 0);
  const std::string g = std::to_string(good);
  auto cfg = baseConfig();
  cfg["workers"] = 1;
  cfg["limits"]["cpu_ms"] = 5000;  // entries are timed by the wall clock; keep a loaded machine from tripping it
  // jwks_url at a configured origin's address uses its "ca"; one elsewhere
  // uses the system store, which does not know the test CA.
  cfg["origins"]["idp"] = {{"url", "https://127.0.0.1:" + g}, {"ca", pki_.ca}};
  dir_.write("auth.js", R"JS(
export default {
  async fetch(request, env) {
    const token = request.headers.get("x-token");
    const a = await env.TRUSTED.verify(token);
    const b = await env.UNTRUSTED.verify(token);
    return Response.json({ a: a.error, b: b.error });
  }
};
)JS");
  auto jwt = [](const std::string& url) {
    return nlohmann::json{{"type", "jwt"}, {"algorithms", {"ES256"}}, {"jwks_url", url}};
  };
  cfg["routes"].push_back({{"name", "auth"},
                           {"match", {{"path", "/auth"}}},
                           {"script", "auth.js"},
                           {"bindings",
                            {{"TRUSTED", jwt("https://127.0.0.1:" + g + "/o/jwks.json")},
                             {"UNTRUSTED", jwt("https://localhost:" + g + "/o/jwks.json")}}}});
  ASSERT_TRUE(startGateway(cfg));
  // A well-formed ES256 token whose key the JWKS must provide.
  const std::string token =
      "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ4In0."
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  auto r = get("/auth", {{"X-Token", token}});
  ASSERT_EQ(r.status, 200) << r.body;
  // The TLS origin answers with JSON that is not a JWKS: reaching that
  // verdict means the HTTPS fetch itself worked.
  EXPECT_TRUE(pollUntil(
      [&] {
        std::string err = gateway_->stderrText();
        return err.find("JWKS fetch from https://127.0.0.1:" + g + "/o/jwks.json failed (") != std::string::npos &&
               err.find("JWKS fetch from https://localhost:" + g + "/o/jwks.json failed (connect_failed)") !=
                   std::string::npos;
      },
      Millis(5000)))
      << gateway_->stderrText();
  std::string err = gateway_->stderrText();
  EXPECT_EQ(err.find("JWKS fetch from https://127.0.0.1:" + g + "/o/jwks.json failed (connect_failed)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("TLS handshake with localhost:" + g + " failed: certificate verify failed"), std::string::npos)
      << err;
}

TEST_F(TlsOriginTest, SessionsToAnOriginAreResumed) {
  // openssl s_server -www answers each request with a status page (saying
  // "Reused" for a resumed session) and closes, so every request is a new
  // connection and a new handshake.
  const uint16_t port = unusedPort();
  CommandResult server_result;
  std::thread server([&] {
    server_result = runCommand({kOpenssl, "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-naccept",
                                "3", "-cert", pki_.a_cert, "-key", pki_.a_key, "-www", "-quiet"},
                               Millis(30000));
  });
  struct Joiner {
    std::thread& t;
    ~Joiner() {
      if (t.joinable()) t.join();  // s_server exits after 3 connections or 30 s
    }
  } joiner{server};
  auto cfg = baseConfig();
  cfg["workers"] = 1;
  cfg["origins"]["s"] = {{"url", "https://localhost:" + std::to_string(port)}, {"ca", pki_.ca}};
  cfg["routes"].push_back({{"match", {{"path", "/status"}}}, {"proxy", {{"origin", "s"}}}});
  ASSERT_TRUE(startGateway(cfg));
  std::vector<std::string> pages;
  for (int i = 0; i < 3; ++i) {
    HttpResponse r;
    pollUntil(
        [&] {
          r = get("/status");
          return r.status == 200;
        },
        Millis(5000));
    ASSERT_EQ(r.status, 200) << r.body;
    pages.push_back(r.body);
  }
  server.join();
  EXPECT_NE(pages[0].find("New, TLSv1.3"), std::string::npos) << pages[0];
  EXPECT_NE(pages[1].find("Reused, TLSv1.3"), std::string::npos) << pages[1];
  EXPECT_NE(pages[2].find("Reused, TLSv1.3"), std::string::npos) << pages[2];
}

// ---------------------------------------------------------------------------
// isogate dev --tls

TEST_F(TlsTest, DevTlsMakesACertificateOnce) {
  dir_.write("hello.js", R"JS(
export default { async fetch(request) { return new Response("hello " + new URL(request.url).protocol); } };
)JS");
  nlohmann::json cfg = {{"routes", {{{"match", {{"path", "/*"}}}, {"script", "hello.js"}}}}};
  const std::string path = dir_.write("isogate.json", cfg.dump(2));
  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(run);
    GatewayProcess dev({"dev", "-c", path, "--port", "0", "--tls"}, dir_.path());
    ASSERT_NE(dev.waitForListening(Millis(15000)), 0) << dev.stderrText();
    const uint16_t port = waitForHttpsPort(dev, Millis(5000));
    ASSERT_NE(port, 0) << dev.stderrText();
    const std::string cert = dir_.path() + "/.isogate/tls/localhost.pem";
    EXPECT_TRUE(fileExists(cert));
    EXPECT_NE(dev.stderrText().find(run == 0 ? "created a self-signed TLS certificate for localhost: " + cert
                                             : "using the self-signed TLS certificate for localhost: " + cert),
              std::string::npos)
        << dev.stderrText();
    for (const std::string host : {"127.0.0.1", "localhost"}) {
      CommandResult r = runCurl({"--cacert", cert, "--resolve", "localhost:" + std::to_string(port) + ":127.0.0.1",
                                 "https://" + host + ":" + std::to_string(port) + "/x"});
      EXPECT_TRUE(r.exited && r.exit_code == 0) << r.err;
      EXPECT_EQ(r.out, "hello https:");
    }
    dev.signal(SIGTERM);
    dev.waitExit(Millis(10000));
  }
  struct stat info;
  ASSERT_EQ(stat((dir_.path() + "/.isogate/tls/localhost-key.pem").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace isogate::e2e
