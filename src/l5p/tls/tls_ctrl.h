// TLS control path (tls_main's role): the TLS 1.3 / 1.2 handshake is real -- OpenSSL 3 runs it over
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

// Server credentials. Default: a self-signed P-256 certificate made at start-up (CN
// "autonic-server"); in-process clients trust exactly it. From PEM files: a real server's
// certificate (the file may carry its chain after it) and private key (`tls serve --cert/--key`).
struct Credentials {
  Credentials();
  // Throws std::runtime_error naming the file if it cannot be read or the key does not match.
  Credentials(const std::string& cert_pem, const std::string& key_pem);
  ~Credentials();
  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;
  // Writes the certificate and key as PEM (for a stock peer's -CAfile, or tests).
  void write_pem(const std::string& cert_pem, const std::string& key_pem) const;
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;  // intermediates sent after cert (PEM files only)

 private:
  void load_pem(const std::string& cert_pem, const std::string& key_pem);
  void release();
};

// How one handshake authenticates and what it advertises. The default is the testbed's
// in-process behaviour (byte-for-byte the same handshake as before this struct existed).
struct HandshakeConfig {
  // Client: how the server's certificate is checked.
  enum class Verify : uint8_t {
    kOwnCert,  // trust exactly creds.cert, name "autonic-server" (testbed)
    kCaFile,   // trust the CAs in ca_file (PEM); checks the name `host` if set (DNS name or IP)
    kNone,     // like s_client's default: the handshake goes on; peer_verified() tells
  };
  Verify verify = Verify::kOwnCert;
  std::string ca_file;
  // Client: the server's name as the user gave it. A DNS name goes out as SNI (RFC 6066 §3);
  // an IP literal does not (§3 forbids it) but is still what kCaFile checks.
  std::string host;
  // Server: NewSessionTickets sent after the handshake (RFC 8446 §4.6.1). 0 = none: the
  // testbed's reference runs; OpenSSL's own default is 2.
  int tickets = 0;
};

class TlsHandshake {
 public:
  enum class Role : uint8_t { kClient, kServer };
  enum class Status : uint8_t { kInProgress, kDone, kFailed };

  TlsHandshake(Role role, Cipher cipher, const Credentials& creds, KeylogSink* keylog,
               const HandshakeConfig& cfg = HandshakeConfig(), Version version = Version::kTls13);
  ~TlsHandshake();
  TlsHandshake(const TlsHandshake&) = delete;
  TlsHandshake& operator=(const TlsHandshake&) = delete;

  Status step();                 // runs SSL_do_handshake
  void input(ByteSpan bytes);    // bytes received from TCP
  Bytes take_output();           // bytes to send on TCP
  Bytes take_leftover();         // received bytes OpenSSL did not consume (after kDone)
  const std::string& error() const { return error_; }
  // After kDone: this side's transmit and receive traffic keys (RFC 8446 §7.3; TLS 1.2: from
  // the key block, RFC 5246 §6.3).
  TrafficKeys keys(bool tx) const;
  // TLS 1.3 KeyUpdate (§7.2): moves the direction's traffic secret to the next generation,
  // application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length),
  // and returns the keys derived from it.
  TrafficKeys update_keys(bool tx);
  // The keys update_keys(tx) would return, without moving (the RX NIC context holds them ready).
  TrafficKeys next_keys(bool tx) const;
  Version version() const { return version_; }
  SSL* ssl() { return ssl_; }  // for the OpenSSL-only peer, which keeps using it
  // After kDone and keys(): our record layer needs only the traffic secrets from here on, so
  // OpenSSL's connection and context (~120 KiB a connection) go -- with 128K connections that
  // is what decides whether they fit (issue #13). ssl() is null afterwards.
  void release_ssl();
  // After kDone. Client: false if the server's certificate did not verify (only possible with
  // Verify::kNone). Server: true.
  bool peer_verified() const;
  // Server, after kDone: NewSessionTickets OpenSSL sent under the application traffic keys --
  // they took the first record sequence numbers, so our record layer starts after them.
  uint64_t tickets_sent() const { return tickets_sent_; }

 private:
  static void keylog_cb(const SSL* ssl, const char* line);
  static void msg_cb(int write_p, int version, int content_type, const void* buf, size_t len, SSL* ssl, void* arg);
  void setup_server(const Credentials& creds, const HandshakeConfig& cfg);
  void setup_client(const Credentials& creds, const HandshakeConfig& cfg);
  TrafficKeys tls12_keys(bool client_dir) const;
  TrafficKeys keys_from(const Bytes& secret) const;  // TLS 1.3 key and iv (RFC 8446 §7.3)
  Bytes next_secret(bool tx) const;
  Bytes& secret(bool tx) { return (role_ == Role::kClient) == tx ? client_secret_ : server_secret_; }
  Role role_;
  Cipher cipher_;
  Version version_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;
  BIO* wbio_ = nullptr;
  KeylogSink* keylog_;
  Bytes client_secret_, server_secret_;
  std::string error_;
  uint64_t tickets_sent_ = 0;
};

}  // namespace autonic::l5p::tls
