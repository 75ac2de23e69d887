#include "runtime/tls_context.h"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>

#include "runtime/tls_stream.h"

namespace isogate {

namespace {

// TLS 1.2 suites: ECDHE key exchange and AEAD ciphers only (Mozilla's
// "intermediate" list). TLS 1.3 keeps OpenSSL's defaults, which are all AEAD.
constexpr const char* kCiphers12 =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr long kCommonOptions = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_SSLv3 |
                                SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_IGNORE_UNEXPECTED_EOF;

// Session ticket keys rotate every hour; the previous key still decrypts
// (and asks for a renewed ticket), so a ticket is good for one to two hours.
constexpr int64_t kTicketKeyPeriodS = 3600;

std::string lowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

// The first error OpenSSL queued, or `fallback`; empties the queue.
std::string opensslError(const std::string& fallback) {
  std::string text;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    if (!text.empty()) continue;
    const char* reason = ERR_reason_error_string(code);
    if (reason) text = reason;
  }
  return text.empty() ? fallback : text;
}

// ---- session tickets ----

struct TicketKey {
  unsigned char name[16];
  unsigned char aes[32];
  unsigned char hmac[32];
  int64_t created = 0;
};

// Process-wide, so resumption works across workers and survives reloads.
class TicketKeys {
 public:
  static TicketKeys& instance() {
    static TicketKeys keys;
    return keys;
  }

  // The key to encrypt new tickets with.
  TicketKey current() {
    std::lock_guard<std::mutex> lock(mu_);
    rotateIfDue();
    return current_;
  }
  // The key named `name`: 1 = current, 2 = previous (renew the ticket), 0 = unknown.
  int find(const unsigned char* name, TicketKey* out) {
    std::lock_guard<std::mutex> lock(mu_);
    rotateIfDue();
    if (memcmp(name, current_.name, sizeof current_.name) == 0) {
      *out = current_;
      return 1;
    }
    if (has_previous_ && memcmp(name, previous_.name, sizeof previous_.name) == 0) {
      *out = previous_;
      return 2;
    }
    return 0;
  }

 private:
  TicketKeys() { current_ = fresh(); }

  static int64_t now() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
  }
  static TicketKey fresh() {
    TicketKey key;
    RAND_bytes(key.name, sizeof key.name);
    RAND_bytes(key.aes, sizeof key.aes);
    RAND_bytes(key.hmac, sizeof key.hmac);
    key.created = now();
    return key;
  }
  void rotateIfDue() {
    if (now() - current_.created < kTicketKeyPeriodS) return;
    previous_ = current_;
    has_previous_ = true;
    current_ = fresh();
  }

  std::mutex mu_;
  TicketKey current_;
  TicketKey previous_;
  bool has_previous_ = false;
};

int ticketKeyCallback(SSL*, unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher,
                      EVP_MAC_CTX* mac, int encrypt) {
  TicketKey key;
  int found = 1;
  if (encrypt) {
    key = TicketKeys::instance().current();
    memcpy(key_name, key.name, sizeof key.name);
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) return -1;
  } else {
    found = TicketKeys::instance().find(key_name, &key);
    if (found == 0) return 0;  // unknown or expired key: full handshake
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac, sizeof key.hmac),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  int ok = encrypt ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes, iv)
                   : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes, iv);
  if (ok != 1) return -1;
  return found;
}

// ---- server callbacks ----

std::atomic<bool> offer_h2{true};

int alpnSelect(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kWithH2[] = "\x02h2\x08http/1.1";
  static const unsigned char kHttp11[] = "\x08http/1.1";
  const bool h2 = offer_h2.load(std::memory_order_relaxed);
  const unsigned char* server = h2 ? kWithH2 : kHttp11;
  unsigned int server_len = h2 ? sizeof kWithH2 - 1 : sizeof kHttp11 - 1;
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, server, server_len, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no common protocol: carry on without ALPN (HTTP/1.1)
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

int serverNameCallback(SSL* ssl, int*, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;
  auto* context = static_cast<const TlsServerContext*>(arg);
  SSL_CTX* chosen = context->select(name);
  if (chosen != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, chosen);
  return SSL_TLSEXT_ERR_OK;
}

// The names a certificate covers: its subjectAltName DNS entries, or its
// common name when it has none.
std::vector<std::string> certificateNames(X509* cert) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
      if (name->type != GEN_DNS) continue;
      const ASN1_IA5STRING* dns = name->d.dNSName;
      names.push_back(lowerAscii(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                                  static_cast<size_t>(ASN1_STRING_length(dns)))));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) {
      names.push_back(lowerAscii(cn));
    }
  }
  return names;
}

}  // namespace

// ---------------------------------------------------------------------------
// TlsServerContext

void TlsServerContext::setOfferH2(bool offer) { offer_h2.store(offer); }
bool TlsServerContext::offerH2() { return offer_h2.load(); }

std::shared_ptr<const TlsServerContext> TlsServerContext::create(const Config& config) {
  const TlsConfig& tls = *config.tls;
  std::shared_ptr<TlsServerContext> out(new TlsServerContext());
  ERR_clear_error();
  for (size_t i = 0; i < tls.certificates.size(); ++i) {
    const TlsCertificateConfig& files = tls.certificates[i];
    const std::string where = config.file + ": tls.certificates[" + std::to_string(i) + "].";
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) throw ConfigError(where + "cert: " + opensslError("cannot create a TLS context"));
    out->certificates_.push_back(Certificate{ctx, {}});
    SSL_CTX_set_options(ctx, kCommonOptions);
    SSL_CTX_set_min_proto_version(ctx, tls.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_cipher_list(ctx, kCiphers12);
    SSL_CTX_set1_groups_list(ctx, kGroups);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    // Stateless resumption only: tickets whose keys rotate (see TicketKeys).
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_timeout(ctx, kTicketKeyPeriodS);
    SSL_CTX_set_num_tickets(ctx, 1);
    static const unsigned char kSessionContext[] = "isogate";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticketKeyCallback);
    SSL_CTX_set_alpn_select_cb(ctx, alpnSelect, nullptr);
    SSL_CTX_set_tlsext_servername_callback(ctx, serverNameCallback);
    SSL_CTX_set_tlsext_servername_arg(ctx, out.get());

    if (SSL_CTX_use_certificate_chain_file(ctx, files.cert.c_str()) != 1) {
      throw ConfigError(where + "cert: cannot load " + quoted(files.cert) + ": " +
                        opensslError("not a PEM certificate"));
    }
    EVP_PKEY* key = nullptr;
    if (BIO* in = BIO_new_file(files.key.c_str(), "r")) {
      key = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
      BIO_free(in);
    }
    if (!key) {
      throw ConfigError(where + "key: cannot load " + quoted(files.key) + ": " +
                        opensslError("not a PEM private key"));
    }
    const bool used = SSL_CTX_use_PrivateKey(ctx, key) == 1;
    EVP_PKEY_free(key);
    if (!used || SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      throw ConfigError(where + "key: does not match the certificate " + quoted(files.cert));
    }
    X509* leaf = SSL_CTX_get0_certificate(ctx);
    std::vector<std::string> names = certificateNames(leaf);
    for (const std::string& name : names) {
      if (name.size() > 2 && name.starts_with("*.")) {
        out->wildcard_.emplace(name.substr(2), i);  // the first certificate wins
      } else {
        out->exact_.emplace(name, i);
      }
    }
    out->certificates_.back().names = std::move(names);
  }
  return out;
}

TlsServerContext::~TlsServerContext() {
  for (Certificate& certificate : certificates_) SSL_CTX_free(certificate.ctx);
}

SSL_CTX* TlsServerContext::select(std::string_view server_name) const {
  if (certificates_.size() > 1 && !server_name.empty()) {
    std::string name = lowerAscii(server_name);
    if (name.back() == '.') name.pop_back();
    auto exact = exact_.find(name);
    if (exact != exact_.end()) return certificates_[exact->second].ctx;
    size_t dot = name.find('.');
    if (dot != std::string::npos && dot > 0) {
      auto wild = wildcard_.find(name.substr(dot + 1));
      if (wild != wildcard_.end()) return certificates_[wild->second].ctx;
    }
  }
  return certificates_.front().ctx;
}

// ---------------------------------------------------------------------------
// TlsClientContext

namespace {

int newClientSession(SSL* ssl, SSL_SESSION* session) { return TlsStream::deliverSession(ssl, session); }

SSL_CTX* newClientContext() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return nullptr;
  SSL_CTX_set_options(ctx, kCommonOptions);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(ctx, kCiphers12);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  static const unsigned char kAlpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn - 1);
  // Sessions are kept per origin address by the pool (AddressPool), not in
  // OpenSSL's internal cache.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, newClientSession);
  return ctx;
}

}  // namespace

std::shared_ptr<const TlsClientContext> TlsClientContext::create(const OriginConfig& origin,
                                                                 const std::string& config_file) {
  if (!origin.ca && origin.tls_verify) return systemDefault();
  std::shared_ptr<TlsClientContext> out(new TlsClientContext());
  ERR_clear_error();
  out->ctx_ = newClientContext();
  if (!out->ctx_) throw ConfigError(config_file + ": origins." + origin.name + ": cannot create a TLS context");
  out->verify_ = origin.tls_verify;
  if (origin.ca) {
    if (SSL_CTX_load_verify_locations(out->ctx_, origin.ca->c_str(), nullptr) != 1) {
      throw ConfigError(config_file + ": origins." + origin.name + ".ca: cannot load " + quoted(*origin.ca) + ": " +
                        opensslError("no PEM certificates"));
    }
  } else {
    SSL_CTX_set_default_verify_paths(out->ctx_);
  }
  ERR_clear_error();
  return out;
}

std::shared_ptr<const TlsClientContext> TlsClientContext::systemDefault() {
  static std::shared_ptr<const TlsClientContext> context = [] {
    std::shared_ptr<TlsClientContext> out(new TlsClientContext());
    out->ctx_ = newClientContext();
    // The system store (or SSL_CERT_FILE / SSL_CERT_DIR when set).
    SSL_CTX_set_default_verify_paths(out->ctx_);
    ERR_clear_error();
    return out;
  }();
  return context;
}

TlsClientContext::~TlsClientContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

std::vector<std::string> tlsWarnings(const Config& config) {
  std::vector<std::string> out;
  for (const auto& [name, origin] : config.origins) {
    if (origin.parsed.scheme == "https" && !origin.tls_verify) {
      out.push_back(config.file + ": origins." + name +
                    ".tls_verify: false: the origin's certificate and host name are not verified");
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// dev certificate

namespace {

bool writePem(const std::string& path, mode_t mode, const std::function<int(FILE*)>& write, std::string* error) {
  std::string tmp = path + ".tmp";
  FILE* f = fopen(tmp.c_str(), "w");
  if (!f) {
    *error = "cannot write " + tmp + ": " + strerror(errno);
    return false;
  }
  chmod(tmp.c_str(), mode);
  bool ok = write(f) == 1;
  ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

bool addExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

bool ensureDevCertificate(const std::string& dir, std::string* cert_path, std::string* key_path, bool* created,
                          std::string* error) {
  *cert_path = dir + "/localhost.pem";
  *key_path = dir + "/localhost-key.pem";
  *created = false;
  struct stat info;
  if (::stat(cert_path->c_str(), &info) == 0 && ::stat(key_path->c_str(), &info) == 0) return true;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create " + dir + ": " + ec.message();
    return false;
  }
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  bool ok = key && cert;
  if (ok) {
    X509_set_version(cert, 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 60L * 60 * 24 * 825);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("isogate dev"), -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1,
                               -1, 0);
    X509_set_issuer_name(cert, name);
    X509_set_pubkey(cert, key);
    ok = addExtension(cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") &&
         addExtension(cert, NID_basic_constraints, "critical,CA:FALSE") &&
         addExtension(cert, NID_ext_key_usage, "serverAuth") &&
         addExtension(cert, NID_subject_key_identifier, "hash") &&
         X509_sign(cert, key, EVP_sha256()) > 0;
  }
  if (ok) {
    ok = writePem(*key_path, 0600, [&](FILE* f) { return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr); },
                  error) &&
         writePem(*cert_path, 0644, [&](FILE* f) { return PEM_write_X509(f, cert); }, error);
  } else {
    *error = "cannot generate a certificate: " + opensslError("OpenSSL error");
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  ERR_clear_error();
  *created = ok;
  return ok;
}

}  // namespace isogate
