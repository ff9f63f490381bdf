#include "l5p/tls/tls_post_hs.h"

#include <algorithm>

namespace autonic::l5p::tls {

namespace {
constexpr size_t kHsHeader = 4;  // msg_type(1) length(3) (§4)

RxFailure fatal(uint8_t alert, const char* why) {
  return RxFailure{std::string("alert:") + alert_name(alert) + ":" + why, alert};
}

uint32_t be24(const uint8_t* p) { return uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]; }

// NewSessionTicket (§4.6.1): uint32 ticket_lifetime; uint32 ticket_age_add;
// opaque ticket_nonce<0..255>; opaque ticket<1..2^16-1>; Extension extensions<0..2^16-2>.
// We keep no session cache: the ticket is checked for its shape and dropped.
bool well_formed_ticket(ByteSpan b) {
  size_t at = 8;
  if (b.size() < at + 1) return false;
  at += 1 + b[at];  // nonce
  if (b.size() < at + 2) return false;
  const size_t ticket = load_be16(&b[at]);
  if (ticket == 0) return false;
  at += 2 + ticket;
  if (b.size() < at + 2) return false;
  at += 2 + load_be16(&b[at]);  // extensions (early_data's max_early_data_size, ignored)
  return at == b.size();
}
}  // namespace

std::optional<RxFailure> PostHandshakeRx::feed(ByteSpan content) {
  // §5.1: zero-length handshake fragments MUST NOT be sent.
  if (content.empty()) return fatal(kUnexpectedMessage, "empty_handshake_record");
  while (!content.empty()) {
    if (buf_.size() < kHsHeader) {
      const size_t n = std::min(kHsHeader - buf_.size(), content.size());
      buf_.insert(buf_.end(), content.begin(), content.begin() + long(n));
      content = content.subspan(n);
      if (buf_.size() < kHsHeader) break;
      if (be24(&buf_[1]) > kMaxMessage) return fatal(kDecodeError, "handshake_message_too_long");
    }
    const size_t want = kHsHeader + be24(&buf_[1]);
    const size_t n = std::min(want - buf_.size(), content.size());
    buf_.insert(buf_.end(), content.begin(), content.begin() + long(n));
    content = content.subspan(n);
    if (buf_.size() < want) break;
    const Bytes msg = std::move(buf_);
    buf_.clear();
    if (auto f = on_message(msg[0], ByteSpan(msg).subspan(kHsHeader))) return f;
    // §5.1: handshake messages MUST NOT span key changes -- a KeyUpdate ends its record.
    if (key_update_ && !content.empty()) return fatal(kUnexpectedMessage, "data_after_key_update");
  }
  return std::nullopt;
}

std::optional<RxFailure> PostHandshakeRx::on_message(uint8_t type, ByteSpan body) {
  switch (HsType(type)) {
    case HsType::kNewSessionTicket:
      // Only a server sends tickets (§4.6.1): from a client it is out of place.
      if (!from_server_) return fatal(kUnexpectedMessage, "new_session_ticket_from_client");
      if (!well_formed_ticket(body)) return fatal(kDecodeError, "bad_new_session_ticket");
      ++st_.rx_tls_post_handshake;
      return std::nullopt;
    case HsType::kKeyUpdate:
      // §4.6.3: request_update is one byte, 0 or 1.
      if (body.size() != 1) return fatal(kDecodeError, "bad_key_update");
      if (body[0] > 1) return fatal(kIllegalParameter, "bad_key_update");
      key_update_ = body[0] == 1;
      ++st_.rx_tls_rekey_received;
      return std::nullopt;
    default:
      // Post-handshake authentication (CertificateRequest, or a client's Certificate /
      // CertificateVerify / Finished) is never negotiated by us (§4.6.2); anything else is
      // a handshake-only message.
      return fatal(kUnexpectedMessage, "post_handshake_message");
  }
}

}  // namespace autonic::l5p::tls
