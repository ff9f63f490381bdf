// Post-handshake messages (RFC 8446 §4.6) arriving in records our layer opens once OpenSSL's
// handshake is done: a real TLS 1.3 server sends NewSessionTickets under the application traffic
// keys right after it reads the client's Finished (§4.6.1; OpenSSL sends two by default).
// Handshake messages are a byte stream of their own across records (§5.1): a message may span
// records and one record may carry several, so they are reassembled here, in a bounded buffer
// (a hostile peer announces any 24-bit length).
#pragma once
#include <cstdint>
#include <optional>
#include <utility>

#include "common/bytes.h"
#include "l5p/tls/tls_failure.h"
#include "l5p/tls/tls_stats.h"

namespace autonic::l5p::tls {

// RFC 8446 §4 HandshakeType values we name.
enum class HsType : uint8_t {
  kNewSessionTicket = 4, kCertificate = 11, kCertificateRequest = 13, kCertificateVerify = 15,
  kFinished = 20, kKeyUpdate = 24,
};

class PostHandshakeRx {
 public:
  // A message larger than this is refused before it is buffered (a NewSessionTicket of a real
  // server is a few hundred bytes; OpenSSL's own limit for it is similar in spirit).
  static constexpr uint32_t kMaxMessage = 64 * 1024;
  // from_server: the messages come from the server (we are the client); the allowed set differs.
  PostHandshakeRx(bool from_server, TlsStats& st) : from_server_(from_server), st_(st) {}
  // The content of one handshake-type record: consumed message by message. A failure is fatal.
  std::optional<RxFailure> feed(ByteSpan content);
  // A message started and not finished: no other record type may come now (§5.1), nor a FIN.
  bool mid_message() const { return !buf_.empty(); }
  // A KeyUpdate ended the record just fed (§4.6.3): its request_update (true: the peer wants
  // ours). The record layer switches its receive keys from the next record on.
  std::optional<bool> take_key_update() { return std::exchange(key_update_, std::nullopt); }

 private:
  std::optional<RxFailure> on_message(uint8_t type, ByteSpan body);
  bool from_server_;
  TlsStats& st_;
  Bytes buf_;  // the message being reassembled (header included)
  std::optional<bool> key_update_;
};

}  // namespace autonic::l5p::tls
