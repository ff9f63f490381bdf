#include "l5p/tls/tls_rx.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/buf_pool.h"

namespace autonic::l5p::tls {

const char* alert_name(uint8_t d) {
  switch (d) {
    case kCloseNotify: return "close_notify";
    case kUnexpectedMessage: return "unexpected_message";
    case kBadRecordMac: return "bad_record_mac";
    case kRecordOverflow: return "record_overflow";
    case kIllegalParameter: return "illegal_parameter";
    case kDecodeError: return "decode_error";
    case kInternalError: return "internal_error";
    default: return "other";
  }
}

static RxFailure fatal(uint8_t alert) { return RxFailure{std::string("alert:") + alert_name(alert), alert}; }

TlsRx::TlsRx(const TrafficKeys& keys, TlsStats& st, Deliver deliver, RxResyncAnswerer::Answer answer,
             bool from_server, uint64_t first_seq)
      : crypto_(std::make_unique<RecordCrypto>(keys)), shape_(record_shape(keys)),
      body_off_(uint32_t(kHeaderLen + shape_.explicit_nonce)), st_(st), deliver_(std::move(deliver)),
      framer_(*this, uint32_t(kHeaderLen), [this, a = std::move(answer)](TcpSeq t, bool ok, uint64_t i, TcpSeq payload) {
        ++(ok ? st_.rx_tls_resync_answer_ok : st_.rx_tls_resync_answer_fail);
        a(t, ok, i, payload);  // the NIC context counts records from the offload's first: index = seq
      }, /*header_in_place=*/true),
      seq_base_(first_seq), post_hs_(from_server, st) {
  framer_.arm(0);
}

std::optional<RxFailure> TlsRx::input_general(ByteSpan data, const RxMarks& m, bool batch) {
  std::optional<RxFailure> f = framer_.input(data, m);
  if (!f && after_record_) f = std::exchange(after_record_, std::nullopt);
  if (!batch) flush();
  return f;
}

void TlsRx::flush() {
  if (out_done_ > 0) deliver_(ByteSpan(out_.data(), out_done_), false);
  if (out_.size() == out_done_) {  // no record in progress
    out_done_ = 0;
    msg_pool().give(out_);  // an idle connection holds no buffer (issue #13)
    return;
  }
  // The record in progress (a recv() ends mid-record nearly always) moves to the front, so
  // the next recv()'s records are copied into the same lines as this one's, as plain TCP's
  // recv() fills one buffer from its start every time. Leaving it in place and moving it only
  // now and then (a buffer up to 128 KiB larger) made the receiver 2-4 % dearer, and the
  // sender on the same core 1-3 %, than this move of at most one record from the cache
  // (issue #12: 30 and 20 pairs in each order at 16 KiB and 2 KiB, 2026-11-29).
  out_.erase(out_.begin(), out_.begin() + long(out_done_));
  out_done_ = 0;
}

void TlsRx::demote() {
  if (rec_.capacity() == 0) rec_ = msg_pool().take();
  rec_.assign(hdr_, hdr_ + hdr_got_);
  rec_.insert(rec_.end(), out_.begin() + long(out_done_), out_.end());
  out_.resize(out_done_);
  // The fast path does not track inner marks: everything so far arrived without one.
  inner_ranges_.clear();
  if (!rec_.empty()) inner_ranges_.add(0, uint32_t(rec_.size()), false);
  in_out_ = false;
}

// A record assembled in out_ that the NIC decrypted and authenticated whole, holding application
// data without padding: its content stays where it is. False: the general path takes it.
bool TlsRx::finish_in_out(const RxMsg& m) {
  if (!trusted_full(m) || post_hs_.mid_message()) return false;
  const size_t ct_len = m.len - body_off_ - kTagLen;
  const uint8_t* body = out_.data() + out_done_;
  // 1.3: the last byte of TLSInnerPlaintext is the type when there is no padding (§5.4); a
  // padded record ends in zeros and goes the general way. 1.2: the header's type.
  const size_t content = shape_.inner_type ? ct_len - 1 : ct_len;
  const uint8_t type = shape_.inner_type ? (ct_len ? body[ct_len - 1] : 0) : hdr_[0];
  if (type != uint8_t(ContentType::kApplicationData) || (shape_.inner_type && ct_len == 0) || content > kMaxPlaintext)
    return false;
  keep_full(m.start, m.len, content);
  inner_ranges_.clear();
  return true;
}

void TlsRx::keep_full(TcpSeq start, uint32_t len, size_t content) {
  ++st_.rx_tls_records;
  ++st_.rx_tls_msgs_full;
  if (log_) log_->add(start, len, true);
  delivered_ = true;
  payload_pos_ += uint32_t(content);  // what the NIC counts as payload, exactly
  out_done_ += content;
  out_.resize(out_done_);
  in_out_ = false;
}

// The streaming path (issue #12). In a recv() of NIC-decrypted records the framer's loop runs
// every hook at each record boundary -- check(), the resync answerer, the header parse through
// HeaderParse, on_bytes, the RxMsg for on_msg, finish_in_out -- and that per-record bookkeeping
// was most of what the record layer added to plain TCP's copy at 2 KiB records. Here TlsRx ends
// a record and starts the next itself, keeping only what a record the NIC decrypted whole needs:
// the type check, the counters, the payload position, and the framer's position, index, marks
// and resync view (MsgFramer::begin_in_place / end_in_place). Whatever is not plain
// application data the NIC decrypted whole -- a padded record, an alert, a handshake message, a
// header cut by the piece's end, a bad header -- stops it, and the general path takes the rest
// of the piece from there, as before.
size_t TlsRx::stream(ByteSpan d) {
  size_t i = 0;
  for (;;) {
    const uint32_t left = framer_.body_left();
    if (d.size() - i < left) {  // the record goes on past this piece
      out_.insert(out_.end(), d.begin() + long(i), d.end());
      framer_.count_body(uint32_t(d.size() - i), true);
      return d.size();
    }
    if (!stream_end(d.subspan(i, left))) return i;
    i += left;
    if (d.size() - i < body_off_ || !stream_begin(d.subspan(i, body_off_))) return i;
    i += body_off_;
  }
}

bool TlsRx::stream_end(ByteSpan tail) {
  if (ahead_ || post_hs_.mid_message()) return false;  // (as trusted_full and finish_in_out)
  const uint32_t len = framer_.msg_len(), got = len - uint32_t(tail.size());  // record bytes before tail
  const size_t ct_len = len - body_off_ - kTagLen;
  size_t content = ct_len;
  if (shape_.inner_type) {
    // 1.3 (§5.4): unpadded, the byte before the tag is the inner type; a zero there is padding.
    const uint32_t at = len - uint32_t(kTagLen) - 1;
    const uint8_t type = at >= got ? tail[at - got] : out_[out_done_ + (at - body_off_)];
    if (type != uint8_t(ContentType::kApplicationData)) return false;
    content = ct_len - 1;
  } else if (hdr_[0] != uint8_t(ContentType::kApplicationData)) {
    return false;
  }
  if (content > kMaxPlaintext) return false;  // the general path refuses it
  // Only the content is copied: the type byte and the tag would be cut right away.
  const uint32_t content_end = uint32_t(body_off_ + content);
  if (content_end > got) out_.insert(out_.end(), tail.begin(), tail.begin() + long(content_end - got));
  framer_.count_body(uint32_t(tail.size()), true);
  keep_full(framer_.msg_start(), len, content);
  framer_.end_in_place();
  return true;
}

bool TlsRx::stream_begin(ByteSpan head) {
  uint16_t len = 0;
  // Application data with a good header only (parse_header's checks): anything else, and what
  // check() would refuse, is the general path's to report.
  if (after_record_ || closed_ || head[0] != uint8_t(ContentType::kApplicationData) ||
      check_header(head.first(kHeaderLen), &len, shape_.min_len(), shape_.max_len()) != HeaderCheck::kOk)
    return false;
  framer_.begin_in_place(uint32_t(kHeaderLen + len), body_off_);
  std::memcpy(hdr_, head.data(), body_off_);
  hdr_got_ = body_off_;
  in_out_ = true;
  return true;
}

HeaderParse<RxFailure> TlsRx::parse_header(ByteSpan head) {
  uint16_t len = 0;
  switch (check_header(head, &len, shape_.min_len(), shape_.max_len())) {
    case HeaderCheck::kOk: break;
    case HeaderCheck::kOverflow: return HeaderParse<RxFailure>::error(fatal(kRecordOverflow));  // §5.2
    case HeaderCheck::kBadType:
    case HeaderCheck::kBadVersion:
    case HeaderCheck::kTooShort: return HeaderParse<RxFailure>::error(fatal(kDecodeError));
  }
  // 1.3: every protected record says application_data (§5). 1.2: alerts and data; a handshake
  // record now would be a renegotiation, which we never accept (RFC 5746 aside: refused).
  const bool ok = shape_.inner_type ? head[0] == uint8_t(ContentType::kApplicationData)
                                    : head[0] == uint8_t(ContentType::kApplicationData) ||
                                          head[0] == uint8_t(ContentType::kAlert);
  if (!ok) return HeaderParse<RxFailure>::error(fatal(kUnexpectedMessage));
  return HeaderParse<RxFailure>::length(uint32_t(kHeaderLen + len));
}

TlsRx::Result TlsRx::on_bytes_general(uint32_t off, ByteSpan bytes, const RxMarks& m) {
  const uint32_t n = uint32_t(bytes.size());
  const bool plain_marked = m.marked && !m.placed && !m.inner_marked;
  if (off != 0 && in_out_ && !plain_marked) demote();
  if (in_out_) {
    if (out_.capacity() == 0) out_ = msg_pool().take();
    const uint32_t h = off < body_off_ ? std::min(n, body_off_ - off) : 0;
    if (h) {
      std::memcpy(hdr_ + off, bytes.data(), h);
      hdr_got_ = off + h;
    }
    out_.insert(out_.end(), bytes.begin() + h, bytes.end());
    return std::nullopt;
  }
  if (rec_.capacity() == 0) rec_ = msg_pool().take();  // a record starts: a buffer while it lasts
  if (m.placed && off >= body_off_) {
    rec_.resize(rec_.size() + n);  // filled from placed_ only if software has to decrypt
    placed_.push_back(Placed{off, n, bytes.data()});
  } else {
    rec_.insert(rec_.end(), bytes.begin(), bytes.end());
  }
  inner_ranges_.add(off, n, m.marked && m.inner_marked);
  return std::nullopt;
}

void TlsRx::deliver_range(uint32_t lo, uint32_t hi, bool inner_marked) {
  // placed_ is in stream order, without overlap: start at the first range not wholly before lo
  // and stop at the first one past hi. (Scanning all of it for each of the record's inner-mark
  // ranges was quadratic in a record a peer cut into 1-byte packets with alternating marks.)
  auto it = std::lower_bound(placed_.begin(), placed_.end(), lo,
                             [](const Placed& p, uint32_t v) { return p.off + p.len <= v; });
  for (; it != placed_.end() && lo < hi && it->off < hi; ++it) {
    const Placed& p = *it;
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

void TlsRx::reencrypt(const RxMsg& m, size_t ct_len, RecordCrypto& c, uint64_t seq, bool count) {
  for (const auto& r : m.ranges.ranges()) {
    if (!r.marked) continue;
    // The explicit nonce (1.2) and the tag pass the NIC unchanged.
    const uint32_t lo = std::max<uint32_t>(r.off, body_off_);
    const uint32_t hi = std::min<uint32_t>(r.off + r.len, uint32_t(body_off_ + ct_len));
    if (lo >= hi) continue;
    c.ctr_xor(seq, lo - body_off_, MutByteSpan(rec_.data() + lo, hi - lo), rec_.data() + kHeaderLen);
    if (count) st_.rx_tls_reencrypted_bytes += hi - lo;
  }
}

bool TlsRx::open_in_software(const RxMsg& m, size_t ct_len) {
  for (const Placed& p : placed_) std::memcpy(rec_.data() + p.off, p.at, p.len);
  // (hdr and body stay valid: rec_ is only ever overwritten in place below.)
  const ByteSpan hdr(rec_.data(), kHeaderLen), body(rec_.data() + kHeaderLen, m.len - kHeaderLen);
  if (plain_.capacity() == 0) plain_ = scratch_pool().take();
  plain_.resize(ct_len);  // (open() writes every byte: a buffer from scratch_pool() clears none)
  const uint64_t seq = seq_base_ + m.index;
  bool ok = false;
  if (m.offloaded == Offloaded::kNone) {
    ++st_.rx_tls_msgs_none;
    ok = crypto_->open(seq, hdr, body, plain_.data());
  } else {  // partial (or full, not trusted: see ahead_)
    ++st_.rx_tls_msgs_partial;
    // Marks made under the current keys (the common case) or, after a KeyUpdate the NIC did not
    // see, under another generation's (tls_rx.h OldKeys, ahead_): a wrong guess never
    // authenticates, and is undone by the same keystream again (XOR), no copy of the record.
    auto try_keys = [&](RecordCrypto& c, uint64_t s) {
      reencrypt(m, ct_len, c, s);
      if (crypto_->open(seq, hdr, body, plain_.data())) return true;
      reencrypt(m, ct_len, c, s, false);  // undo
      return false;
    };
    ok = try_keys(*crypto_, seq);
    const bool current = ok;
    for (size_t g = 0; !ok && g < old_.size(); ++g) ok = try_keys(*old_[g].crypto, old_[g].base + m.index);
    if (!ok && ahead_) ok = try_keys(*ahead_, ahead_base_ + m.index);
    if (ok && !current) ++st_.rx_tls_rekey_stale_marks;
  }
  if (!ok) {
    ++st_.tls_decrypt_error;
    return false;
  }
  st_.rx_tls_sw_decrypted_bytes += ct_len;
  return true;
}

void TlsRx::deliver_content(const RxMsg& m, ByteSpan content) {
  const bool all = trusted_full(m);
  if (all && inner_trusted_) {
    // Hand the content over in runs of equal inner mark (per packet the NIC processed).
    for (const auto& r : inner_ranges_.ranges()) {
      const uint32_t lo = std::max<uint32_t>(r.off, body_off_);
      const uint32_t hi = std::min<uint32_t>(r.off + r.len, uint32_t(body_off_ + content.size()));
      if (lo < hi) deliver_range(lo, hi, r.marked);
    }
  } else if (all) {
    deliver_range(body_off_, uint32_t(body_off_ + content.size()), false);
  } else {
    deliver_(content, false);
  }
}

std::optional<RxFailure> TlsRx::on_content(const RxMsg& m, uint8_t type, ByteSpan content) {
  if (type == uint8_t(ContentType::kHandshake)) {
    if (content.size() > kMaxPlaintext) return fatal(kRecordOverflow);
    return post_hs_.feed(content);
  }
  // §5.1: a handshake message split over records admits no other record type in between.
  if (post_hs_.mid_message()) return fatal(kUnexpectedMessage);
  if (type == uint8_t(ContentType::kApplicationData)) {
    if (content.size() > kMaxPlaintext) return fatal(kRecordOverflow);
    deliver_content(m, content);
    return std::nullopt;
  }
  if (type == uint8_t(ContentType::kAlert) && content.size() == 2) {
    ++st_.rx_tls_alerts;
    if (content[1] == kCloseNotify) {
      closed_ = true;
      return std::nullopt;
    }
    return RxFailure{std::string("alert:received:") + alert_name(content[1]), std::nullopt};
  }
  return fatal(kUnexpectedMessage);  // change_cipher_spec after the handshake, or a bad alert
}

void TlsRx::rebase_after(const RxMsg& m) {
  const uint64_t shift = m.index + 1;  // the next record's index now; 0 from here
  seq_base_ += shift;
  for (OldKeys& o : old_) o.base += shift;
  ahead_base_ += shift;
  framer_.arm(0);  // the next record is the new context's first
  rebase_ = Rebase{framer_.pos(), seq_base_};
  if (on_rebase_) on_rebase_();
}

void TlsRx::rekey(const RxMsg& m) {
  old_.push_front(OldKeys{std::move(crypto_), seq_base_});
  if (old_.size() > kOldKeys) old_.pop_back();
  const uint64_t first = m.index + 1;
  // §5.3: the sequence number restarts at 0 with new keys, at the next record; record indices
  // go on (they are the NIC context's too): seq = index - first, in modular arithmetic.
  seq_base_ = uint64_t(0) - first;
  crypto_ = std::make_unique<RecordCrypto>(on_key_update_(*ku_requested_, first));
  ku_requested_.reset();
  ++st_.rx_tls_rekey_ok;
}

// The NIC moves to the next keys on a verified record holding exactly one KeyUpdate
// (tls_plugin.cc: unpadded ones; a NIC that strips padding first would take padded ones too);
// one that is no KeyUpdate for us misled it (NicMisled).
void TlsRx::check_nic_misled(const RxMsg& m, uint8_t type, ByteSpan content) {
  const bool looks = shape_.inner_type && type == uint8_t(ContentType::kHandshake) && is_key_update(content);
  if (!looks || ku_requested_ || !on_nic_misled_) return;
  const uint64_t first = m.index + 1;
  ahead_ = std::make_unique<RecordCrypto>(on_nic_misled_(first, seq_base_ + first));
  ahead_base_ = uint64_t(0) - first;  // its sequence numbers from 0 at `first`
}

TlsRx::Result TlsRx::on_msg(const RxMsg& m) {
  if (in_out_) {
    if (finish_in_out(m)) return std::nullopt;
    demote();
  }
  flush();  // what the fast path holds goes first: the general path may deliver, rebase or rekey
  const size_t ct_len = m.len - body_off_ - kTagLen;
  const bool all = trusted_full(m);
  ++st_.rx_tls_records;
  if (log_) log_->add(m.start, m.len, all);
  ByteSpan inner;
  if (all) {
    // Every byte arrived in NIC-marked packets: decrypted and authenticated by the NIC.
    ++st_.rx_tls_msgs_full;
    inner = ByteSpan(rec_.data() + body_off_, ct_len);
  } else {
    if (!open_in_software(m, ct_len)) return fatal(kBadRecordMac);  // never delivered
    inner = plain_;
  }
  // TLSInnerPlaintext: content || ContentType || zeros (§5.4): the type is the last non-zero byte.
  // In a record the NIC decrypted whole, placed ranges were never copied into rec_: their bytes
  // are read where the NIC put them (a padded record can have its type byte placed -- the NIC
  // cannot tell padding from content before the record ends). TLS 1.2: the header's type, no
  // padding.
  // Called for the last byte, then for each one before it (padding is scanned backwards), so
  // the placed range holding it is found by a cursor walking placed_ (in stream order) down with
  // it: a padded record of 1-byte placed pieces cost a scan of all of them per zero before.
  size_t k = placed_.size();
  auto inner_at = [&](size_t i) -> uint8_t {
    if (all) {
      const size_t at = body_off_ + i;
      while (k > 0 && placed_[k - 1].off > at) --k;
      if (k > 0 && at < size_t(placed_[k - 1].off) + placed_[k - 1].len) return placed_[k - 1].at[at - placed_[k - 1].off];
    }
    return inner[i];
  };
  size_t end = inner.size();
  uint8_t type = rec_[0];
  if (shape_.inner_type) {
    while (end > 0 && inner_at(end - 1) == 0) --end;
    if (end == 0) return fatal(kUnexpectedMessage);
    type = inner_at(--end);
  }
  const size_t nic_count = ct_len - (shape_.inner_type ? 1 : 0);  // what the NIC counts as payload
  if (all && (type != uint8_t(ContentType::kApplicationData) || end != nic_count))
    for (const Placed& p : placed_) std::memcpy(rec_.data() + p.off, p.at, p.len);  // rare: read as bytes
  ByteSpan content = inner.first(end);
  // The NIC counts every record's content as payload; a padded or non-application-data record
  // breaks that correspondence, and inner marks are no longer attributable to our bytes: stop
  // trusting them (software checks everything from then on).
  const bool divergent = type != uint8_t(ContentType::kApplicationData) || end != nic_count;
  if (type == uint8_t(ContentType::kApplicationData)) delivered_ = true;  // (a padded one too)
  const bool before_data = divergent && !delivered_;
  if (!before_data) {
    if (divergent) inner_trusted_ = false;
    payload_pos_ += uint32_t(nic_count);
  }
  after_record_ = on_content(m, type, content);
  ku_requested_ = after_record_ ? std::nullopt : post_hs_.take_key_update();
  if (!after_record_) check_nic_misled(m, type, content);
  if (ku_requested_ && on_key_update_) {
    rekey(m);
  } else if (ku_requested_) {
    after_record_ = RxFailure{"tls:key_update_unsupported", uint8_t(kInternalError)};  // no key source (TLS 1.2 never gets here)
  }
  // Not part of the payload stream; the NIC context restarts after it (see take_rebase()).
  if (before_data && !after_record_) rebase_after(m);
  // Consumed (even if it fails the session: after_record_ stops the framer before the next).
  msg_pool().give(rec_);
  scratch_pool().give(plain_);
  placed_.clear();
  inner_ranges_.clear();
  return std::nullopt;
}

}  // namespace autonic::l5p::tls
