// TLS control path (tls_main's role): the TLS 1.3 handshake is real -- OpenSSL 3 runs it over
// the lwIP connection through memory BIOs -- and when it completes our own record layer takes
// over with the negotiated traffic keys (as kTLS does after OpenSSL's handshake, §5.2).
#pragma once
#include <openssl/ssl.h>

#include <cstdio>
#include <memory>
#include <string>

#include "common/bytes.h"
#include "proto/tls/tls_record.h"

namespace autonic::l5p::tls {

// The wire format lives in src/proto/tls/, shared with the NIC model; this L5P speaks it
// unqualified.
using namespace proto::tls;

// Makes OpenSSL's randomness a function of the run seed so that handshakes, and so the frames on
// the wire, are reproducible. For a simulator only: never do this where secrecy matters.
void install_deterministic_rand(uint64_t seed);

// Writes SSLKEYLOGFILE lines (NSS key log format) so tshark can decrypt a capture.
class KeylogSink {
 public:
  explicit KeylogSink(const std::string& path);
  ~KeylogSink();
  void line(const char* l);

 private:
  FILE* f_ = nullptr;
};

// Server credentials: a self-signed P-256 certificate made at start-up; clients trust exactly it.
struct Credentials {
  Credentials();
  ~Credentials();
  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
};

class TlsHandshake {
 public:
  enum class Role : uint8_t { kClient, kServer };
  enum class Status : uint8_t { kInProgress, kDone, kFailed };

  TlsHandshake(Role role, Cipher cipher, const Credentials& creds, KeylogSink* keylog);
  ~TlsHandshake();
  TlsHandshake(const TlsHandshake&) = delete;
  TlsHandshake& operator=(const TlsHandshake&) = delete;

  Status step();                 // runs SSL_do_handshake
  void input(ByteSpan bytes);    // bytes received from TCP
  Bytes take_output();           // bytes to send on TCP
  Bytes take_leftover();         // received bytes OpenSSL did not consume (after kDone)
  const std::string& error() const { return error_; }
  // After kDone: this side's transmit and receive traffic keys (RFC 8446 §7.3).
  TrafficKeys keys(bool tx) const;
  SSL* ssl() { return ssl_; }  // for the OpenSSL-only peer, which keeps using it

 private:
  static void keylog_cb(const SSL* ssl, const char* line);
  Role role_;
  Cipher cipher_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;
  BIO* wbio_ = nullptr;
  KeylogSink* keylog_;
  Bytes client_secret_, server_secret_;
  std::string error_;
};

}  // namespace autonic::l5p::tls
