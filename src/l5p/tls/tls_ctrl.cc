#include "l5p/tls/tls_ctrl.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cstring>
#include <stdexcept>
#include <string_view>

#include "common/rng.h"

namespace autonic::l5p::tls {

// ---- deterministic randomness (simulation only) ----
namespace {
Rng* g_rand = nullptr;  // process-wide like OpenSSL's own RAND state
int det_bytes(unsigned char* buf, int num) {
  for (int i = 0; i < num;) {
    const uint64_t w = g_rand->next();
    for (int j = 0; j < 8 && i < num; ++j, ++i) buf[i] = uint8_t(w >> (8 * j));
  }
  return 1;
}
int det_status() { return 1; }
}  // namespace

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
void install_deterministic_rand(uint64_t seed) {
  static Rng rng(0, 0);
  rng = Rng(seed, 0x7A9D);
  g_rand = &rng;
  static RAND_METHOD meth{nullptr, det_bytes, nullptr, nullptr, det_bytes, det_status};
  RAND_set_rand_method(&meth);
}
#pragma GCC diagnostic pop

// ---- keylog ----
KeylogSink::KeylogSink(const std::string& path) : f_(std::fopen(path.c_str(), "w")) {
  if (!f_) throw std::runtime_error("cannot open keylog file " + path);
}
KeylogSink::~KeylogSink() {
  if (f_) std::fclose(f_);
}
void KeylogSink::line(const char* l) {
  std::fprintf(f_, "%s\n", l);
  std::fflush(f_);
}

// ---- credentials ----
Credentials::Credentials() {
  key = EVP_EC_gen("P-256");
  cert = X509_new();
  if (!key || !cert) throw std::runtime_error("cannot create server credentials");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  // Fixed validity (2026-01-01 .. 2036-01-01) so the certificate bytes do not depend on today.
  ASN1_TIME_set_string(X509_getm_notBefore(cert), "20260101000000Z");
  ASN1_TIME_set_string(X509_getm_notAfter(cert), "20360101000000Z");
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("autonic-server"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  if (X509_sign(cert, key, EVP_sha256()) == 0) throw std::runtime_error("cannot sign certificate");
}

Credentials::~Credentials() {
  X509_free(cert);
  EVP_PKEY_free(key);
}

// ---- handshake ----
static const char* suite_name(Cipher c) {
  switch (c) {
    case Cipher::kAes128Gcm: return "TLS_AES_128_GCM_SHA256";
    case Cipher::kAes256Gcm: return "TLS_AES_256_GCM_SHA384";
    case Cipher::kChacha20Poly1305: return "TLS_CHACHA20_POLY1305_SHA256";
  }
  return "";
}

TlsHandshake::TlsHandshake(Role role, Cipher cipher, const Credentials& creds, KeylogSink* keylog)
    : role_(role), cipher_(cipher), keylog_(keylog) {
  ctx_ = SSL_CTX_new(role == Role::kClient ? TLS_client_method() : TLS_server_method());
  if (!ctx_) throw std::runtime_error("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx_, TLS1_3_VERSION);
  SSL_CTX_set_ciphersuites(ctx_, suite_name(cipher));
  // No session tickets: they would be post-handshake records under the application traffic
  // keys, consuming record sequence numbers before our record layer takes over.
  SSL_CTX_set_num_tickets(ctx_, 0);
  SSL_CTX_clear_options(ctx_, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
  SSL_CTX_set_keylog_callback(ctx_, keylog_cb);
  if (role == Role::kServer) {
    SSL_CTX_use_certificate(ctx_, creds.cert);
    SSL_CTX_use_PrivateKey(ctx_, creds.key);
  } else {
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_), creds.cert);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
  ssl_ = SSL_new(ctx_);
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, rbio_, wbio_);  // ssl_ owns both
  SSL_set_app_data(ssl_, this);
  if (role == Role::kClient) {
    SSL_set_connect_state(ssl_);
    SSL_set1_host(ssl_, "autonic-server");
  } else {
    SSL_set_accept_state(ssl_);
  }
}

TlsHandshake::~TlsHandshake() {
  SSL_free(ssl_);
  SSL_CTX_free(ctx_);
}

void TlsHandshake::keylog_cb(const SSL* ssl, const char* line) {
  auto* self = static_cast<TlsHandshake*>(SSL_get_app_data(ssl));
  if (!self) return;
  if (self->keylog_) self->keylog_->line(line);
  // "LABEL <client_random hex> <secret hex>"
  std::string_view l(line);
  const auto sp1 = l.find(' '), sp2 = l.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return;
  const std::string_view label = l.substr(0, sp1), hex = l.substr(sp2 + 1);
  Bytes secret(hex.size() / 2);
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = uint8_t(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  if (label == "CLIENT_TRAFFIC_SECRET_0") self->client_secret_ = std::move(secret);
  else if (label == "SERVER_TRAFFIC_SECRET_0") self->server_secret_ = std::move(secret);
}

void TlsHandshake::input(ByteSpan bytes) {
  if (!bytes.empty()) BIO_write(rbio_, bytes.data(), int(bytes.size()));
}

TlsHandshake::Status TlsHandshake::step() {
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) return Status::kDone;
  const int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::kInProgress;
  char buf[256];
  ERR_error_string_n(ERR_peek_last_error(), buf, sizeof buf);
  error_ = std::string("tls:handshake_failed: ") + buf;
  return Status::kFailed;
}

Bytes TlsHandshake::take_output() {
  Bytes out(size_t(BIO_ctrl_pending(wbio_)));
  if (!out.empty()) BIO_read(wbio_, out.data(), int(out.size()));
  return out;
}

Bytes TlsHandshake::take_leftover() {
  Bytes out(size_t(BIO_ctrl_pending(rbio_)));
  if (!out.empty()) BIO_read(rbio_, out.data(), int(out.size()));
  return out;
}

// HKDF-Expand-Label(Secret, Label, "", Length), RFC 8446 §7.1.
static Bytes hkdf_expand_label(const Bytes& secret, const char* digest, const std::string& label, size_t len) {
  // struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; }
  const std::string full = "tls13 " + label;
  uint8_t info[2 + 1 + 255 + 1];
  size_t info_len = 0;
  info[info_len++] = uint8_t(len >> 8);
  info[info_len++] = uint8_t(len);
  info[info_len++] = uint8_t(full.size());
  std::memcpy(info + info_len, full.data(), full.size());
  info_len += full.size();
  info[info_len++] = 0;  // empty context
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* kctx = EVP_KDF_CTX_new(kdf);
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, info_len),
      OSSL_PARAM_construct_end()};
  Bytes out(len);
  const int ok = EVP_KDF_derive(kctx, out.data(), len, params);
  EVP_KDF_CTX_free(kctx);
  EVP_KDF_free(kdf);
  if (ok <= 0) throw std::runtime_error("HKDF-Expand-Label failed");
  return out;
}

TrafficKeys TlsHandshake::keys(bool tx) const {
  const bool client_dir = (role_ == Role::kClient) == tx;
  const Bytes& secret = client_dir ? client_secret_ : server_secret_;
  if (secret.empty()) throw std::runtime_error("traffic secret not available");
  const char* digest = cipher_ == Cipher::kAes256Gcm ? "SHA384" : "SHA256";
  TrafficKeys k;
  k.cipher = cipher_;
  k.key = hkdf_expand_label(secret, digest, "key", key_len(cipher_));
  const Bytes iv = hkdf_expand_label(secret, digest, "iv", 12);
  std::copy(iv.begin(), iv.end(), k.iv.begin());
  return k;
}

}  // namespace autonic::l5p::tls
