#include "l5p/framed/framed_rx.h"

#include <algorithm>
#include <cstring>

namespace autonic::l5p::framed {

FramedRx::FramedRx(const Key& key, FramedStats& st, Deliver deliver, Answer answer)
    : key_(key), st_(st), deliver_(std::move(deliver)), resync_([this, a = std::move(answer)](TcpSeq t, bool ok, uint64_t i, TcpSeq) {
        ++(ok ? st_.rx_resync_answer_ok : st_.rx_resync_answer_fail);
        a(t, ok, i);
      }) {}

void FramedRx::resync_rx_req(TcpSeq tcpsn) {
  resync_.request(tcpsn, seq_, msg_.empty(), msg_start_, msg_len_);
}

std::optional<std::string> FramedRx::input(ByteSpan data, bool marked) {
  size_t i = 0;
  while (i < data.size()) {
    if (msg_.empty()) {
      msg_start_ = seq_;
      resync_.on_msg_start(seq_, msg_index_);
    }
    size_t want;
    if (msg_len_ == 0)
      want = kHeaderLen - msg_.size();
    else
      want = msg_len_ - msg_.size();
    const size_t n = std::min(want, data.size() - i);
    const uint32_t off = uint32_t(msg_.size());
    msg_.insert(msg_.end(), data.begin() + i, data.begin() + i + n);
    ranges_.add(off, uint32_t(n), marked);
    i += n;
    seq_ += uint32_t(n);
    if (msg_len_ == 0 && msg_.size() == kHeaderLen) {
      HeaderError e{};
      const auto h = parse_header(msg_, &e);
      if (!h) {
        ++st_.rx_framing_err;
        switch (e) {
          case HeaderError::kBadMagic: return "framing:bad_magic";
          case HeaderError::kBadType: return "framing:bad_type";
          case HeaderError::kBadVersion: return "framing:bad_version";
          case HeaderError::kTooLong: return "framing:too_long";
        }
        return "framing:bad_header";
      }
      msg_len_ = h->msg_len();
      resync_.on_msg_len(msg_start_, msg_len_);
    }
    if (msg_len_ != 0 && msg_.size() == msg_len_) {
      if (auto err = finish_msg()) return err;
    }
  }
  return std::nullopt;
}

std::optional<std::string> FramedRx::finish_msg() {
  const uint32_t pay_len = msg_len_ - uint32_t(kHeaderLen + kTrailerLen);
  const bool all = ranges_.all(), any = ranges_.any();
  ++st_.rx_msgs;
  ByteSpan payload(msg_.data() + kHeaderLen, pay_len);
  if (all) {
    // Fully offloaded: the NIC decrypted every byte and verified the check (§4.3).
    ++st_.rx_msgs_full;
    deliver_(payload);
  } else {
    MsgCipher c(key_);
    c.begin(msg_index_, ByteSpan(msg_.data(), kHeaderLen));
    plain_.resize(pay_len);
    if (!any) {
      ++st_.rx_msgs_none;
      c.absorb_ciphertext(payload);
      c.xor_payload(0, payload, plain_);
    } else {
      // Partially offloaded: the check is over ciphertext, so the NIC-decrypted parts are
      // re-encrypted first (like tls_device_fallback's partial-record path).
      ++st_.rx_msgs_partial;
      Bytes ct(msg_.begin() + kHeaderLen, msg_.begin() + kHeaderLen + pay_len);
      for (const auto& r : ranges_.ranges()) {
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
      return "integrity:bad_check";  // never delivered
    }
    deliver_(plain_);
  }
  msg_.clear();
  ranges_.clear();
  msg_len_ = 0;
  ++msg_index_;
  return std::nullopt;
}

}  // namespace autonic::l5p::framed
