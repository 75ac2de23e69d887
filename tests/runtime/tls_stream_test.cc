// TlsStream over memory only: a server and a client session handing each
// other their output, with the contexts the gateway builds (TlsServerContext,
// TlsClientContext) and the certificate `isogate dev --tls` generates.

#include "runtime/tls_stream.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "runtime/tls_context.h"

namespace isogate {
namespace {

class TlsStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/isogate-tls-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    bool created = false;
    std::string error;
    ASSERT_TRUE(ensureDevCertificate(dir_ + "/tls", &cert_, &key_, &created, &error)) << error;
    EXPECT_TRUE(created);
    // A second call finds the files.
    std::string cert2, key2;
    ASSERT_TRUE(ensureDevCertificate(dir_ + "/tls", &cert2, &key2, &created, &error)) << error;
    EXPECT_FALSE(created);
    EXPECT_EQ(cert2, cert_);

    Config config;
    config.file = "isogate.json";
    config.tls.emplace();
    config.tls->certificates = {{cert_, key_}};
    server_ = TlsServerContext::create(config);

    OriginConfig origin;
    origin.name = "o";
    origin.ca = cert_;  // the self-signed certificate is its own trust anchor
    client_ = TlsClientContext::create(origin, "isogate.json");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Moves output between the two sessions until neither has anything to say.
  static void pump(TlsStream& a, TlsStream& b) {
    for (int i = 0; i < 20; ++i) {
      bool moved = false;
      if (!a.handshakeDone()) a.handshake();
      if (!b.handshakeDone()) b.handshake();
      for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
        std::string_view out = from->pendingOutput();
        if (!out.empty()) {
          to->feed(out.data(), out.size());
          from->clearOutput();
          moved = true;
        }
        if (!to->handshakeDone()) to->handshake();
      }
      if (!moved) return;
    }
  }

  std::string dir_, cert_, key_;
  std::shared_ptr<const TlsServerContext> server_;
  std::shared_ptr<const TlsClientContext> client_;
};

TEST_F(TlsStreamTest, HandshakeAndDataBothWays) {
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    auto server = TlsStream::server(server_->defaultContext());
    auto client = TlsStream::client(client_->context(), host, true, nullptr, nullptr);
    ASSERT_TRUE(server && client);
    EXPECT_EQ(client->handshake(), TlsStream::Result::kWantMore);
    pump(*client, *server);
    ASSERT_TRUE(client->handshakeDone()) << client->errorText();
    ASSERT_TRUE(server->handshakeDone()) << server->errorText();
    EXPECT_STREQ(client->version(), "TLSv1.3");
    EXPECT_EQ(server->alpn(), "http/1.1");  // what origins are offered

    ASSERT_TRUE(client->write("GET / HTTP/1.1\r\n\r\n", 18));
    pump(*client, *server);
    char buf[64];
    size_t n = 0;
    ASSERT_EQ(server->read(buf, sizeof buf, &n), TlsStream::Result::kOk);
    EXPECT_EQ(std::string(buf, n), "GET / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(server->read(buf, sizeof buf, &n), TlsStream::Result::kWantMore);

    server->shutdown();
    pump(*client, *server);
    EXPECT_EQ(client->read(buf, sizeof buf, &n), TlsStream::Result::kClosed);
  }
}

TEST_F(TlsStreamTest, WrongHostNameFailsVerification) {
  auto server = TlsStream::server(server_->defaultContext());
  auto client = TlsStream::client(client_->context(), "other.example", true, nullptr, nullptr);
  pump(*client, *server);
  EXPECT_FALSE(client->handshakeDone());
  EXPECT_EQ(client->errorText(), "certificate verify failed: hostname mismatch");

  // The system store does not know the self-signed certificate.
  auto server2 = TlsStream::server(server_->defaultContext());
  auto system = TlsStream::client(TlsClientContext::systemDefault()->context(), "localhost", true, nullptr, nullptr);
  pump(*system, *server2);
  EXPECT_FALSE(system->handshakeDone());
  EXPECT_NE(system->errorText().find("certificate verify failed: "), std::string::npos) << system->errorText();

  // Without verification the same handshake succeeds.
  auto server3 = TlsStream::server(server_->defaultContext());
  auto unverified = TlsStream::client(client_->context(), "other.example", false, nullptr, nullptr);
  pump(*unverified, *server3);
  EXPECT_TRUE(unverified->handshakeDone()) << unverified->errorText();
}

TEST_F(TlsStreamTest, SessionsResumeWithTickets) {
  SSL_SESSION* saved = nullptr;
  {
    auto server = TlsStream::server(server_->defaultContext());
    auto client = TlsStream::client(client_->context(), "localhost", true, nullptr, [&](SSL_SESSION* session) {
      if (saved) SSL_SESSION_free(saved);
      saved = session;
    });
    pump(*client, *server);
    ASSERT_TRUE(client->handshakeDone());
    // TLS 1.3 tickets arrive after the handshake: reading delivers them.
    char buf[16];
    size_t n;
    client->read(buf, sizeof buf, &n);
    EXPECT_FALSE(client->sessionReused());
    // OpenSSL forgets the session of a connection freed without close_notify.
    client->shutdown();
  }
  ASSERT_NE(saved, nullptr);
  auto server = TlsStream::server(server_->defaultContext());
  auto client = TlsStream::client(client_->context(), "localhost", true, saved, nullptr);
  pump(*client, *server);
  ASSERT_TRUE(client->handshakeDone());
  EXPECT_TRUE(client->sessionReused());
  EXPECT_TRUE(server->sessionReused());
  SSL_SESSION_free(saved);
}

TEST_F(TlsStreamTest, GarbageIsAFatalError) {
  auto server = TlsStream::server(server_->defaultContext());
  const char junk[] = "\x16\x03\x01\x00\x05hello, this is not TLS";
  server->feed(junk, sizeof junk - 1);
  EXPECT_EQ(server->handshake(), TlsStream::Result::kError);
  EXPECT_FALSE(server->errorText().empty());
}

TEST_F(TlsStreamTest, ServerContextErrorsNameTheFile) {
  std::string other_cert, other_key;
  bool created;
  std::string error;
  ASSERT_TRUE(ensureDevCertificate(dir_ + "/other", &other_cert, &other_key, &created, &error));
  Config config;
  config.file = "isogate.json";
  config.tls.emplace();
  config.tls->certificates = {{cert_, key_}, {cert_, other_key}};
  try {
    TlsServerContext::create(config);
    FAIL() << "a key that does not match its certificate must fail";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "isogate.json: tls.certificates[1].key: does not match the certificate \"" + cert_ + "\"");
  }
  config.tls->certificates = {{key_, key_}};
  try {
    TlsServerContext::create(config);
    FAIL() << "a key is not a certificate";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("isogate.json: tls.certificates[0].cert: cannot load"), std::string::npos)
        << e.what();
  }
}

TEST_F(TlsStreamTest, SelectFallsBackToTheDefault) {
  EXPECT_EQ(server_->select("localhost"), server_->defaultContext());
  EXPECT_EQ(server_->select("unknown.example"), server_->defaultContext());
  EXPECT_EQ(server_->names(0), std::vector<std::string>{"localhost"});
}

}  // namespace
}  // namespace isogate
