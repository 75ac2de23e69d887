#pragma once
// TLS settings built once per Deployment on the main thread and shared
// read-only by every worker (OpenSSL contexts are thread-safe once set up):
// the HTTPS listener's certificates (TlsServerContext) and the client side
// of https:// origins (TlsClientContext). A reload builds new contexts; a
// connection keeps the one it started with (it holds a shared_ptr), so
// established connections are not affected.

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/config.h"

namespace isogate {

class TlsServerContext {
 public:
  // Loads the certificates of `config.tls` (which must be set). Throws
  // ConfigError "FILE: tls.certificates[i].key: what is wrong".
  static std::shared_ptr<const TlsServerContext> create(const Config& config);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  // The context new connections start on (the default certificate); SNI
  // switches a connection to another certificate's context.
  SSL_CTX* defaultContext() const { return certificates_.front().ctx; }
  // The context whose certificate covers `server_name`: an exact
  // subjectAltName DNS name first, then a one-label wildcard ("*.a.com"),
  // else the default. Case-insensitive.
  SSL_CTX* select(std::string_view server_name) const;
  // Every name a certificate covers, by index (for messages and tests).
  const std::vector<std::string>& names(size_t index) const { return certificates_[index].names; }

  // ALPN: whether "h2" is offered (HTTP/2 over TLS). Set once at start.
  static void setOfferH2(bool offer);
  static bool offerH2();

 private:
  TlsServerContext() = default;

  struct Certificate {
    SSL_CTX* ctx = nullptr;
    std::vector<std::string> names;  // lower-case subjectAltName DNS names (or the CN)
  };
  std::vector<Certificate> certificates_;
  std::unordered_map<std::string, size_t> exact_;     // name -> certificate index
  std::unordered_map<std::string, size_t> wildcard_;  // "a.com" for "*.a.com" -> index
};

class TlsClientContext {
 public:
  // For an https:// origin: its "ca" file or the system store, or no
  // verification with tls_verify false. Throws ConfigError for an unusable
  // CA file ("FILE: origins.NAME.ca: ...").
  static std::shared_ptr<const TlsClientContext> create(const OriginConfig& origin, const std::string& config_file);
  // System store, verification on: egress hosts, jwks_url, and pools built
  // without a Deployment. Created on first use; process lifetime.
  static std::shared_ptr<const TlsClientContext> systemDefault();
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  SSL_CTX* context() const { return ctx_; }
  bool verify() const { return verify_; }

 private:
  TlsClientContext() = default;
  SSL_CTX* ctx_ = nullptr;
  bool verify_ = true;
};

// Warnings about TLS settings that load but weaken security (an origin with
// tls_verify false), one line each, for serve/dev/check to print at load.
std::vector<std::string> tlsWarnings(const Config& config);

// `isogate dev --tls`: the self-signed certificate under `dir` (created with
// its parents on first use, reused later): ECDSA P-256, subjectAltName
// localhost, 127.0.0.1 and ::1. Sets *cert and *key to the file paths and
// *created when it was made now. False with *error on failure.
bool ensureDevCertificate(const std::string& dir, std::string* cert, std::string* key, bool* created,
                          std::string* error);

}  // namespace isogate
