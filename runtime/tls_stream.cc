#include "runtime/tls_stream.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <climits>

namespace isogate {

namespace {

bool isIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// OpenSSL's error queue is per thread and shared by every connection on it:
// take what a failed call left there and leave the queue empty.
std::string drainErrors() {
  std::string text;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    if (!text.empty()) continue;  // the first error is the cause
    const char* reason = ERR_reason_error_string(code);
    text = reason ? reason : "error " + std::to_string(ERR_GET_REASON(code));
  }
  return text;
}

}  // namespace

TlsStream::TlsStream(SSL* ssl) : ssl_(ssl) {
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio_, -1);  // empty means "want more", not EOF
  BIO_set_mem_eof_return(wbio_, -1);
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_app_data(ssl_, this);
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

std::unique_ptr<TlsStream> TlsStream::server(SSL_CTX* ctx) {
  SSL* ssl = SSL_new(ctx);
  if (!ssl) {
    drainErrors();
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return std::unique_ptr<TlsStream>(new TlsStream(ssl));
}

std::unique_ptr<TlsStream> TlsStream::client(SSL_CTX* ctx, const std::string& host, bool verify,
                                             SSL_SESSION* session, std::function<void(SSL_SESSION*)> on_session) {
  SSL* ssl = SSL_new(ctx);
  if (!ssl) {
    drainErrors();
    return nullptr;
  }
  SSL_set_connect_state(ssl);
  const bool ip = isIpLiteral(host);
  if (!ip) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    if (ok != 1) {
      drainErrors();
      SSL_free(ssl);
      return nullptr;
    }
    SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
  }
  if (session) SSL_set_session(ssl, session);
  std::unique_ptr<TlsStream> stream(new TlsStream(ssl));
  stream->on_session_ = std::move(on_session);
  return stream;
}

int TlsStream::deliverSession(SSL* ssl, SSL_SESSION* session) {
  auto* stream = static_cast<TlsStream*>(SSL_get_app_data(ssl));
  if (!stream || !stream->on_session_) return 0;
  stream->on_session_(session);
  return 1;
}

void TlsStream::feed(const char* data, size_t len) {
  while (len > 0) {
    int chunk = len > INT_MAX ? INT_MAX : static_cast<int>(len);
    int n = BIO_write(rbio_, data, chunk);
    if (n <= 0) return;  // a memory BIO only fails when out of memory
    data += n;
    len -= static_cast<size_t>(n);
  }
}

TlsStream::Result TlsStream::fail(int ret) {
  int error = SSL_get_error(ssl_, ret);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return Result::kWantMore;
  if (error == SSL_ERROR_ZERO_RETURN) return Result::kClosed;
  std::string reason = drainErrors();
  long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK && !handshake_done_ && (SSL_get_verify_mode(ssl_) & SSL_VERIFY_PEER)) {
    error_ = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  } else if (!reason.empty()) {
    error_ = reason;
  } else if (error == SSL_ERROR_SYSCALL) {
    error_ = "unexpected end of stream";
  } else {
    error_ = "TLS error " + std::to_string(error);
  }
  return Result::kError;
}

TlsStream::Result TlsStream::handshake() {
  if (handshake_done_) return Result::kOk;
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    handshake_done_ = true;
    return Result::kOk;
  }
  Result result = fail(r);
  return result == Result::kClosed ? Result::kError : result;
}

TlsStream::Result TlsStream::read(char* out, size_t cap, size_t* n) {
  *n = 0;
  ERR_clear_error();
  int r = SSL_read(ssl_, out, cap > INT_MAX ? INT_MAX : static_cast<int>(cap));
  if (r > 0) {
    *n = static_cast<size_t>(r);
    return Result::kOk;
  }
  return fail(r);
}

bool TlsStream::write(const char* data, size_t len) {
  while (len > 0) {
    ERR_clear_error();
    int chunk = len > INT_MAX ? INT_MAX : static_cast<int>(len);
    int r = SSL_write(ssl_, data, chunk);
    if (r <= 0) {
      fail(r);
      return false;
    }
    data += r;
    len -= static_cast<size_t>(r);
  }
  return true;
}

void TlsStream::shutdown() {
  if (shutdown_sent_ || !handshake_done_) return;
  shutdown_sent_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  drainErrors();
}

std::string_view TlsStream::pendingOutput() const {
  char* data = nullptr;
  long len = BIO_get_mem_data(wbio_, &data);
  return len > 0 ? std::string_view(data, static_cast<size_t>(len)) : std::string_view();
}

void TlsStream::clearOutput() { (void)BIO_reset(wbio_); }

std::string TlsStream::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return data ? std::string(reinterpret_cast<const char*>(data), len) : std::string();
}

}  // namespace isogate
