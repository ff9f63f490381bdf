#include "l5p/tls/tls_ctrl.h"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
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

Credentials::Credentials(const std::string& cert_pem, const std::string& key_pem) {
  try {
    load_pem(cert_pem, key_pem);
  } catch (...) {  // no destructor runs for a constructor that throws
    release();
    throw;
  }
}

void Credentials::load_pem(const std::string& cert_pem, const std::string& key_pem) {
  BIO* b = BIO_new_file(cert_pem.c_str(), "r");
  if (!b) throw std::runtime_error("cannot open certificate file " + cert_pem);
  cert = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  chain = sk_X509_new_null();
  while (X509* extra = PEM_read_bio_X509(b, nullptr, nullptr, nullptr)) sk_X509_push(chain, extra);
  BIO_free(b);
  ERR_clear_error();  // the chain loop ends on "no start line"
  if (!cert) throw std::runtime_error("no PEM certificate in " + cert_pem);
  b = BIO_new_file(key_pem.c_str(), "r");
  if (!b) throw std::runtime_error("cannot open key file " + key_pem);
  key = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  if (!key) throw std::runtime_error("no PEM private key in " + key_pem + " (encrypted keys are not supported)");
  if (X509_check_private_key(cert, key) != 1)
    throw std::runtime_error("the key in " + key_pem + " does not match the certificate in " + cert_pem);
}

Credentials::~Credentials() { release(); }

void Credentials::release() {
  sk_X509_pop_free(chain, X509_free);
  X509_free(cert);
  EVP_PKEY_free(key);
  chain = nullptr;
  cert = nullptr;
  key = nullptr;
}

void Credentials::write_pem(const std::string& cert_pem, const std::string& key_pem) const {
  BIO* b = BIO_new_file(cert_pem.c_str(), "w");
  if (!b || PEM_write_bio_X509(b, cert) != 1) throw std::runtime_error("cannot write " + cert_pem);
  BIO_free(b);
  b = BIO_new_file(key_pem.c_str(), "w");
  if (!b || PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw std::runtime_error("cannot write " + key_pem);
  BIO_free(b);
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

// TLS 1.2 suites with the AEAD (ECDHE only: forward secrecy; ECDSA for our own P-256
// certificate, RSA for a real server's).
static const char* suite_name12(Cipher c) {
  switch (c) {
    case Cipher::kAes128Gcm: return "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
    case Cipher::kAes256Gcm: return "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
    case Cipher::kChacha20Poly1305: return "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  }
  return "";
}

TlsHandshake::TlsHandshake(Role role, Cipher cipher, const Credentials& creds, KeylogSink* keylog,
                           const HandshakeConfig& cfg, Version version)
    : role_(role), cipher_(cipher), version_(version), keylog_(keylog) {
  ctx_ = SSL_CTX_new(role == Role::kClient ? TLS_client_method() : TLS_server_method());
  if (!ctx_) throw std::runtime_error("SSL_CTX_new failed");
  const int v = version == Version::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx_, v);
  SSL_CTX_set_max_proto_version(ctx_, v);
  if (version == Version::kTls13) {
    SSL_CTX_set_ciphersuites(ctx_, suite_name(cipher));
  } else {
    SSL_CTX_set_cipher_list(ctx_, suite_name12(cipher));
    // Our record layer takes over after the handshake: a renegotiation (a handshake record
    // later) is refused there; no tickets unless asked (they would go before the Finished).
    SSL_CTX_set_options(ctx_, SSL_OP_NO_RENEGOTIATION);
    if (cfg.tickets <= 0) SSL_CTX_set_options(ctx_, SSL_OP_NO_TICKET);
  }
  // Session tickets only when asked: they are post-handshake records under the application
  // traffic keys (RFC 8446 §4.6.1). The receiver's record layer consumes them (tls_post_hs.h);
  // the sender's starts its record sequence numbers after them (tickets_sent()).
  SSL_CTX_set_num_tickets(ctx_, role == Role::kServer ? size_t(std::max(cfg.tickets, 0)) : 0);
  SSL_CTX_clear_options(ctx_, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
  SSL_CTX_set_keylog_callback(ctx_, keylog_cb);
  if (role == Role::kServer) setup_server(creds, cfg);
  ssl_ = SSL_new(ctx_);
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, rbio_, wbio_);  // ssl_ owns both
  SSL_set_app_data(ssl_, this);
  if (role == Role::kClient) {
    setup_client(creds, cfg);
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_msg_callback(ssl_, msg_cb);
    SSL_set_accept_state(ssl_);
  }
}

// A ticket carries the session, stamped with the wall clock when it is made; under the
// deterministic randomness (simulation) the stamp is the certificate's fixed notBefore instead,
// so that the ticket's bytes, and so the wire, are a function of the seed alone. OpenSSL calls
// this after stamping and before encrypting the ticket.
static int fixed_ticket_time(SSL* ssl, void*) {
  (void)SSL_SESSION_set_time(SSL_get_session(ssl), 1767225600L);  // 2026-01-01T00:00:00Z
  return 1;
}

void TlsHandshake::setup_server(const Credentials& creds, const HandshakeConfig& cfg) {
  SSL_CTX_use_certificate(ctx_, creds.cert);
  SSL_CTX_use_PrivateKey(ctx_, creds.key);
  if (creds.chain && sk_X509_num(creds.chain) > 0) SSL_CTX_set1_chain(ctx_, creds.chain);
  if (g_rand && cfg.tickets > 0) SSL_CTX_set_session_ticket_cb(ctx_, fixed_ticket_time, nullptr, nullptr);
}

static bool ip_literal(const std::string& h) {
  unsigned char buf[16];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

// Runs after SSL_new: the host name and SNI are per-connection settings.
void TlsHandshake::setup_client(const Credentials& creds, const HandshakeConfig& cfg) {
  using V = HandshakeConfig::Verify;
  switch (cfg.verify) {
    case V::kOwnCert:
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_), creds.cert);
      SSL_set_verify(ssl_, SSL_VERIFY_PEER, nullptr);
      SSL_set1_host(ssl_, "autonic-server");
      break;
    case V::kCaFile:
      if (SSL_CTX_load_verify_locations(ctx_, cfg.ca_file.c_str(), nullptr) != 1)
        throw std::runtime_error("cannot load CA file " + cfg.ca_file);
      SSL_set_verify(ssl_, SSL_VERIFY_PEER, nullptr);
      break;
    case V::kNone:
      SSL_set_verify(ssl_, SSL_VERIFY_NONE, nullptr);  // peer_verified() reports the result
      break;
  }
  if (cfg.host.empty()) return;
  if (ip_literal(cfg.host)) {
    if (cfg.verify != V::kOwnCert) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), cfg.host.c_str());
    return;  // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName"
  }
  SSL_set_tlsext_host_name(ssl_, cfg.host.c_str());
  if (cfg.verify != V::kOwnCert) SSL_set1_host(ssl_, cfg.host.c_str());
}

bool TlsHandshake::peer_verified() const {
  if (role_ == Role::kServer) return true;
  return SSL_get0_peer_certificate(ssl_) != nullptr && SSL_get_verify_result(ssl_) == X509_V_OK;
}

// Counts the NewSessionTickets this server writes (SSL_set_msg_callback sees each handshake
// message as it is sent; §4.6.1: type 4).
void TlsHandshake::msg_cb(int write_p, int, int content_type, const void* buf, size_t len, SSL* ssl, void*) {
  auto* self = static_cast<TlsHandshake*>(SSL_get_app_data(ssl));
  if (!self || !write_p || content_type != SSL3_RT_HANDSHAKE || len == 0) return;
  if (static_cast<const uint8_t*>(buf)[0] == SSL3_MT_NEWSESSION_TICKET) ++self->tickets_sent_;
}

TlsHandshake::~TlsHandshake() { release_ssl(); }

void TlsHandshake::release_ssl() {
  SSL_free(ssl_);  // and the BIOs it owns
  SSL_CTX_free(ctx_);
  ssl_ = nullptr;
  ctx_ = nullptr;
  rbio_ = wbio_ = nullptr;
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
  if (!wbio_) return {};  // released
  Bytes out(size_t(BIO_ctrl_pending(wbio_)));
  if (!out.empty()) BIO_read(wbio_, out.data(), int(out.size()));
  return out;
}

Bytes TlsHandshake::take_leftover() {
  if (!rbio_) return {};
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

// TLS 1.2 (RFC 5246 §6.3): key_block = PRF(master_secret, "key expansion", server_random +
// client_random), cut into client_write_key, server_write_key, client_write_IV, server_write_IV
// (AEAD suites have no MAC keys). The IV is the 4-byte salt for AES-GCM (RFC 5288 §3) and 12
// bytes for ChaCha20-Poly1305 (RFC 7905 §2).
TrafficKeys TlsHandshake::tls12_keys(bool client_dir) const {
  uint8_t master[SSL_MAX_MASTER_KEY_LENGTH];
  const size_t mlen = SSL_SESSION_get_master_key(SSL_get_session(ssl_), master, sizeof master);
  Bytes seed(13 + 2 * SSL3_RANDOM_SIZE);
  std::memcpy(seed.data(), "key expansion", 13);
  SSL_get_server_random(ssl_, seed.data() + 13, SSL3_RANDOM_SIZE);
  SSL_get_client_random(ssl_, seed.data() + 13 + SSL3_RANDOM_SIZE, SSL3_RANDOM_SIZE);
  const EVP_MD* md = SSL_CIPHER_get_handshake_digest(SSL_get_current_cipher(ssl_));
  if (mlen == 0 || !md) throw std::runtime_error("TLS 1.2 master secret not available");
  const size_t klen = key_len(cipher_), ivlen = cipher_ == Cipher::kChacha20Poly1305 ? 12 : 4;
  Bytes block(2 * (klen + ivlen));
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr);
  EVP_KDF_CTX* kctx = EVP_KDF_CTX_new(kdf);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(md)), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master, mlen),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed.data(), seed.size()),
      OSSL_PARAM_construct_end()};
  const int ok = EVP_KDF_derive(kctx, block.data(), block.size(), params);
  EVP_KDF_CTX_free(kctx);
  EVP_KDF_free(kdf);
  OPENSSL_cleanse(master, sizeof master);
  if (ok <= 0) throw std::runtime_error("TLS 1.2 key expansion failed");
  TrafficKeys k;
  k.version = Version::kTls12;
  k.cipher = cipher_;
  const size_t key_at = client_dir ? 0 : klen, iv_at = 2 * klen + (client_dir ? 0 : ivlen);
  k.key.assign(block.begin() + long(key_at), block.begin() + long(key_at + klen));
  std::copy(block.begin() + long(iv_at), block.begin() + long(iv_at + ivlen), k.iv.begin());
  return k;
}

Bytes TlsHandshake::next_secret(bool tx) const {
  const Bytes& s = (role_ == Role::kClient) == tx ? client_secret_ : server_secret_;
  if (s.empty() || version_ != Version::kTls13) throw std::runtime_error("KeyUpdate needs TLS 1.3 traffic secrets");
  return hkdf_expand_label(s, cipher_ == Cipher::kAes256Gcm ? "SHA384" : "SHA256", "traffic upd", s.size());
}

TrafficKeys TlsHandshake::update_keys(bool tx) {
  secret(tx) = next_secret(tx);
  return keys(tx);
}

TrafficKeys TlsHandshake::next_keys(bool tx) const { return keys_from(next_secret(tx)); }

TrafficKeys TlsHandshake::keys(bool tx) const {
  const bool client_dir = (role_ == Role::kClient) == tx;
  if (version_ == Version::kTls12) return tls12_keys(client_dir);
  return keys_from(client_dir ? client_secret_ : server_secret_);
}

TrafficKeys TlsHandshake::keys_from(const Bytes& secret) const {
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
