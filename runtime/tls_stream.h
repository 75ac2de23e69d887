#pragma once
// One TLS session over memory BIOs. Its owner reads ciphertext from the
// socket and feed()s it, takes the ciphertext the session produces from
// pendingOutput() and writes it to the socket, so the same libuv read/write
// code carries plain TCP and TLS. Server side for client connections
// (ServerConnection), client side for origins (UpstreamConnection). Owned by
// its connection; loop thread only.

#include <openssl/ssl.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace isogate {

class TlsStream {
 public:
  enum class Result {
    kOk,        // done (handshake) or *n bytes of plaintext (read)
    kWantMore,  // needs more ciphertext from the peer
    kClosed,    // the peer sent close_notify (read)
    kError,     // fatal: errorText() says why; close the connection
  };

  // A server-side session on `ctx` (SNI and ALPN callbacks come with it).
  static std::unique_ptr<TlsStream> server(SSL_CTX* ctx);
  // A client-side session that sends SNI `host` (unless it is an IP
  // literal) and, when `verify`, checks the peer's certificate for `host`.
  // `session` (may be null) is offered for resumption; `on_session` receives
  // every new session the server issues (a reference the callee owns).
  static std::unique_ptr<TlsStream> client(SSL_CTX* ctx, const std::string& host, bool verify,
                                           SSL_SESSION* session, std::function<void(SSL_SESSION*)> on_session);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  SSL* ssl() const { return ssl_; }

  // Ciphertext from the peer.
  void feed(const char* data, size_t len);
  // Advances the handshake with what was fed.
  Result handshake();
  bool handshakeDone() const { return handshake_done_; }
  // Decrypts up to `cap` bytes into `out`.
  Result read(char* out, size_t cap, size_t* n);
  // Encrypts `len` bytes of plaintext into the output. False on a fatal error.
  bool write(const char* data, size_t len);
  // Queues close_notify (once; only after a completed handshake).
  void shutdown();

  // Ciphertext produced and not yet taken; valid until the next call.
  std::string_view pendingOutput() const;
  void clearOutput();

  // The protocol ALPN selected ("" if none), the TLS version ("TLSv1.3").
  std::string alpn() const;
  const char* version() const { return SSL_get_version(ssl_); }
  bool sessionReused() const { return SSL_session_reused(ssl_) == 1; }
  // Why the last call failed: a certificate verification error
  // ("certificate verify failed: hostname mismatch") or OpenSSL's reason.
  const std::string& errorText() const { return error_; }

  // Runs the new-session callback of the stream that owns `ssl` (used by
  // client contexts' SSL_CTX_sess_set_new_cb). Returns 1 if taken.
  static int deliverSession(SSL* ssl, SSL_SESSION* session);

 private:
  explicit TlsStream(SSL* ssl);
  Result fail(int ret);

  SSL* ssl_;
  BIO* rbio_;  // owned by ssl_
  BIO* wbio_;  // owned by ssl_
  bool handshake_done_ = false;
  bool shutdown_sent_ = false;
  std::string error_;
  std::function<void(SSL_SESSION*)> on_session_;
};

}  // namespace isogate
