#include "l5p/tls/tls_rx.h"

#include <algorithm>
#include <cstring>

namespace autonic::l5p::tls {

// RFC 8446 §6 alert descriptions we send or name.
enum : uint8_t {
  kCloseNotify = 0, kUnexpectedMessage = 10, kBadRecordMac = 20, kRecordOverflow = 22,
  kDecodeError = 50, kInternalError = 80,
};

const char* alert_name(uint8_t d) {
  switch (d) {
    case kCloseNotify: return "close_notify";
    case kUnexpectedMessage: return "unexpected_message";
    case kBadRecordMac: return "bad_record_mac";
    case kRecordOverflow: return "record_overflow";
    case kDecodeError: return "decode_error";
    case kInternalError: return "internal_error";
    default: return "other";
  }
}

static RxFailure fatal(uint8_t alert) { return RxFailure{std::string("alert:") + alert_name(alert), alert}; }

TlsRx::TlsRx(const TrafficKeys& keys, TlsStats& st, Deliver deliver, RxResyncAnswerer::Answer answer)
    : crypto_(keys), st_(st), deliver_(std::move(deliver)),
      resync_([this, a = std::move(answer)](TcpSeq t, bool ok, uint64_t i, TcpSeq payload) {
        ++(ok ? st_.rx_tls_resync_answer_ok : st_.rx_tls_resync_answer_fail);
        a(t, ok, i, payload);  // the NIC context counts records from the offload's first: index = seq
      }) {}

void TlsRx::resync_rx_req(TcpSeq tcpsn) {
  resync_.request(tcpsn, seq_, rec_.empty(), rec_start_, rec_len_);
}

std::optional<RxFailure> TlsRx::input(ByteSpan data, bool marked, bool inner_marked, bool placed) {
  size_t i = 0;
  while (i < data.size()) {
    if (closed_) return RxFailure{"tls:data_after_close_notify", kUnexpectedMessage};
    if (rec_.empty()) {
      rec_start_ = seq_;
      resync_.on_msg_start(seq_, rec_seq_, payload_pos_);
    }
    const size_t want = (rec_len_ == 0 ? kHeaderLen : rec_len_) - rec_.size();
    const size_t n = std::min(want, data.size() - i);
    const uint32_t off = uint32_t(rec_.size());
    if (placed && rec_len_ != 0) {
      rec_.resize(rec_.size() + n);  // filled from placed_ only if software has to decrypt
      placed_.push_back(Placed{off, uint32_t(n), data.data() + i});
    } else {
      rec_.insert(rec_.end(), data.begin() + long(i), data.begin() + long(i + n));
    }
    ranges_.add(off, uint32_t(n), marked);
    inner_ranges_.add(off, uint32_t(n), marked && inner_marked);
    i += n;
    seq_ += uint32_t(n);
    if (rec_len_ == 0 && rec_.size() == kHeaderLen) {
      uint16_t len = 0;
      switch (check_header(rec_, &len)) {
        case HeaderCheck::kOk: break;
        case HeaderCheck::kOverflow: return fatal(kRecordOverflow);  // §5.2
        case HeaderCheck::kBadType:
        case HeaderCheck::kBadVersion:
        case HeaderCheck::kTooShort: return fatal(kDecodeError);
      }
      if (rec_[0] != uint8_t(ContentType::kApplicationData)) return fatal(kUnexpectedMessage);  // §5
      rec_len_ = uint32_t(kHeaderLen + len);
      resync_.on_msg_len(rec_start_, rec_len_);
    }
    if (rec_len_ != 0 && rec_.size() == rec_len_) {
      if (auto f = finish_record()) return f;
    }
  }
  return std::nullopt;
}

void TlsRx::deliver_range(uint32_t lo, uint32_t hi, bool inner_marked) {
  for (const Placed& p : placed_) {
    if (lo >= hi) return;
    if (p.off + p.len <= lo || p.off >= hi) continue;
    if (p.off > lo) {
      deliver_(ByteSpan(rec_.data() + lo, p.off - lo), inner_marked);
      lo = p.off;
    }
    const uint32_t end = std::min(hi, p.off + p.len);
    deliver_(ByteSpan(p.at + (lo - p.off), end - lo), inner_marked);
    lo = end;
  }
  if (lo < hi) deliver_(ByteSpan(rec_.data() + lo, hi - lo), inner_marked);
}

std::optional<RxFailure> TlsRx::finish_record() {
  const size_t body = rec_len_ - kHeaderLen, ct_len = body - kTagLen;
  const bool all = ranges_.all(), any = ranges_.any();
  ++st_.rx_tls_records;
  ByteSpan hdr(rec_.data(), kHeaderLen);
  ByteSpan inner;
  if (all) {
    // Every byte arrived in NIC-marked packets: decrypted and authenticated by the NIC.
    ++st_.rx_tls_msgs_full;
    inner = ByteSpan(rec_.data() + kHeaderLen, ct_len);
  } else {
    for (const Placed& p : placed_) std::memcpy(rec_.data() + p.off, p.at, p.len);
    if (any) {
      ++st_.rx_tls_msgs_partial;
      for (const auto& r : ranges_.ranges()) {
        if (!r.marked) continue;
        const uint32_t lo = std::max<uint32_t>(r.off, kHeaderLen);
        const uint32_t hi = std::min<uint32_t>(r.off + r.len, uint32_t(kHeaderLen + ct_len));
        if (lo >= hi) continue;
        crypto_.ctr_xor(rec_seq_, lo - kHeaderLen, MutByteSpan(rec_.data() + lo, hi - lo));
        st_.rx_tls_reencrypted_bytes += hi - lo;
      }
    } else {
      ++st_.rx_tls_msgs_none;
    }
    plain_.resize(ct_len);
    if (!crypto_.open(rec_seq_, hdr, ByteSpan(rec_.data() + kHeaderLen, body), plain_.data())) {
      ++st_.tls_decrypt_error;
      return fatal(kBadRecordMac);  // never delivered
    }
    st_.rx_tls_sw_decrypted_bytes += ct_len;
    inner = plain_;
  }
  // TLSInnerPlaintext: content || ContentType || zeros (§5.4): the type is the last non-zero byte.
  // In a record the NIC decrypted whole, placed ranges were never copied into rec_: their bytes
  // are read where the NIC put them (a padded record can have its type byte placed -- the NIC
  // cannot tell padding from content before the record ends).
  auto inner_at = [&](size_t i) -> uint8_t {
    if (all)
      for (const Placed& p : placed_)
        if (kHeaderLen + i >= p.off && kHeaderLen + i < size_t(p.off) + p.len) return p.at[kHeaderLen + i - p.off];
    return inner[i];
  };
  size_t end = inner.size();
  while (end > 0 && inner_at(end - 1) == 0) --end;
  if (end == 0) return fatal(kUnexpectedMessage);
  const uint8_t type = inner_at(end - 1);
  if (all && (type != uint8_t(ContentType::kApplicationData) || end != ct_len))
    for (const Placed& p : placed_) std::memcpy(rec_.data() + p.off, p.at, p.len);  // rare: read as bytes
  ByteSpan content = inner.first(end - 1);
  std::optional<RxFailure> result;
  // The NIC counts every record's content as ct_len - 1 payload bytes; a padded or
  // non-application-data record breaks that correspondence, and inner marks are no longer
  // attributable to our bytes: stop trusting them (software checks everything from then on).
  if (type != uint8_t(ContentType::kApplicationData) || end != ct_len) inner_trusted_ = false;
  payload_pos_ += uint32_t(ct_len - 1);
  if (type == uint8_t(ContentType::kApplicationData)) {
    if (content.size() > kMaxPlaintext) return fatal(kRecordOverflow);
    if (all && inner_trusted_) {
      // Hand the content over in runs of equal inner mark (per packet the NIC processed).
      for (const auto& r : inner_ranges_.ranges()) {
        const uint32_t lo = std::max<uint32_t>(r.off, kHeaderLen);
        const uint32_t hi = std::min<uint32_t>(r.off + r.len, uint32_t(kHeaderLen + content.size()));
        if (lo < hi) deliver_range(lo, hi, r.marked);
      }
    } else if (all) {
      deliver_range(kHeaderLen, uint32_t(kHeaderLen + content.size()), false);
    } else {
      deliver_(content, false);
    }
  } else if (type == uint8_t(ContentType::kAlert) && content.size() == 2) {
    ++st_.rx_tls_alerts;
    if (content[1] == kCloseNotify) closed_ = true;
    else result = RxFailure{std::string("alert:received:") + alert_name(content[1]), std::nullopt};
  } else {
    result = fatal(kUnexpectedMessage);  // post-handshake messages are not supported
  }
  rec_.clear();
  placed_.clear();
  ranges_.clear();
  inner_ranges_.clear();
  rec_len_ = 0;
  ++rec_seq_;
  return result;
}

}  // namespace autonic::l5p::tls
