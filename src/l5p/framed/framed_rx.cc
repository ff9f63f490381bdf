#include "l5p/framed/framed_rx.h"

#include <algorithm>
#include <cstring>

namespace autonic::l5p::framed {

FramedRx::FramedRx(const Key& key, FramedStats& st, Deliver deliver, Answer answer)
    : key_(key), st_(st), deliver_(std::move(deliver)),
      framer_(*this, uint32_t(kHeaderLen), [this, a = std::move(answer)](TcpSeq t, bool ok, uint64_t i, TcpSeq) {
        ++(ok ? st_.rx_resync_answer_ok : st_.rx_resync_answer_fail);
        a(t, ok, i);
      }) {
  framer_.arm(0);
}

HeaderParse<std::string> FramedRx::parse_header(ByteSpan head) {
  HeaderError e{};
  const auto h = framed::parse_header(head, &e);
  if (h) return HeaderParse<std::string>::length(h->msg_len());
  ++st_.rx_framing_err;
  switch (e) {
    case HeaderError::kBadMagic: return HeaderParse<std::string>::error("framing:bad_magic");
    case HeaderError::kBadType: return HeaderParse<std::string>::error("framing:bad_type");
    case HeaderError::kBadVersion: return HeaderParse<std::string>::error("framing:bad_version");
    case HeaderError::kTooLong: return HeaderParse<std::string>::error("framing:too_long");
  }
  return HeaderParse<std::string>::error("framing:bad_header");
}

FramedRx::Result FramedRx::on_bytes(uint32_t, ByteSpan bytes, const RxMarks&) {
  msg_.insert(msg_.end(), bytes.begin(), bytes.end());
  return std::nullopt;
}

FramedRx::Result FramedRx::on_msg(const RxMsg& m) {
  const uint32_t pay_len = m.len - uint32_t(kHeaderLen + kTrailerLen);
  ++st_.rx_msgs;
  if (log_) log_->add(m.start, m.len, m.offloaded == Offloaded::kFull);
  if (m.offloaded == Offloaded::kFull) {
    // Fully offloaded: the NIC decrypted every byte and verified the check (§4.3).
    ++st_.rx_msgs_full;
    deliver_(ByteSpan(msg_.data() + kHeaderLen, pay_len));
  } else if (auto err = open_in_software(m, pay_len)) {
    return err;  // never delivered
  }
  msg_.clear();
  return std::nullopt;
}

FramedRx::Result FramedRx::open_in_software(const RxMsg& m, uint32_t pay_len) {
  ByteSpan payload(msg_.data() + kHeaderLen, pay_len);
  MsgCipher c(key_);
  c.begin(m.index, ByteSpan(msg_.data(), kHeaderLen));
  plain_.resize(pay_len);
  if (m.offloaded == Offloaded::kNone) {
    ++st_.rx_msgs_none;
    c.absorb_ciphertext(payload);
    c.xor_payload(0, payload, plain_);
  } else {
    // Partially offloaded: the check is over ciphertext, so the NIC-decrypted parts are
    // re-encrypted first (like tls_device_fallback's partial-record path).
    ++st_.rx_msgs_partial;
    Bytes ct(payload.begin(), payload.end());
    for (const auto& r : m.ranges.ranges()) {
      if (!r.marked) continue;
      const uint32_t lo = std::max<uint32_t>(r.off, kHeaderLen);
      const uint32_t hi = std::min<uint32_t>(r.off + r.len, kHeaderLen + pay_len);
      if (lo >= hi) continue;
      MutByteSpan part(ct.data() + (lo - kHeaderLen), hi - lo);
      c.xor_payload(lo - uint32_t(kHeaderLen), part, part);
      st_.rx_reencrypted_bytes += hi - lo;
    }
    c.absorb_ciphertext(ct);
    c.xor_payload(0, ct, plain_);
  }
  st_.rx_sw_decrypted_bytes += pay_len;
  const uint32_t got = load_be32(msg_.data() + kHeaderLen + pay_len);
  if (got != c.check()) {
    ++st_.rx_integrity_err;
    return "integrity:bad_check";
  }
  deliver_(plain_);
  return std::nullopt;
}

}  // namespace autonic::l5p::framed
