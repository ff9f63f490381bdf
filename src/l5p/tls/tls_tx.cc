#include "l5p/tls/tls_tx.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <cstring>

namespace autonic::l5p::tls {

// Segment-aligned records. lwIP cuts the stream into MSS-sized segments; when a record's wire
// length is a multiple of the MSS (and the first record starts a segment), every record begins
// a packet. A loss then costs the NIC one record, not two: the packet holding the next header
// starts exactly at it, so the hardware re-sync (§4.3, Fig. 8b) marks it instead of passing it
// up half-processed. Record boundaries are the sender's choice in TLS (RFC 8446 §5.1), so this
// changes nothing for the peer.
static size_t aligned_record_size(size_t record_size, size_t mss) {
  const size_t overhead = kHeaderLen + 1 + kTagLen;
  if (mss == 0 || record_size + overhead < 2 * mss) return record_size;
  return (record_size + overhead) / mss * mss - overhead;
}

TlsTx::TlsTx(const TrafficKeys& keys, TxMode mode, size_t record_size, size_t align_mss, size_t open_fill,
             TlsStats& st, uint64_t first_seq)
    : keys_(keys), mode_(mode),
      record_size_(aligned_record_size(std::clamp<size_t>(record_size, 1, kMaxPlaintext), align_mss)),
      aligned_(record_size_ != std::clamp<size_t>(record_size, 1, kMaxPlaintext)), st_(st), crypto_(keys),
      seq_(first_seq) {
  if (aligned_ && open_fill < record_size_) first_trim_ = open_fill;
#ifndef NDEBUG
  // Debug builds enforce the zero-copy contract: a lent buffer is checksummed when queued and
  // checked when released.
  map_.set_on_release([this](const std::vector<TxMsgMap::Piece>& pieces, uint64_t note) {
    // note = 1 << 32 | crc32c of the lent bytes, for zero-copy records (pieces[1])
    if ((note >> 32) == 0 || pieces.size() < 2) return;
    if (crc32_iscsi(const_cast<uint8_t*>(pieces[1].data), int(pieces[1].len), 0) != uint32_t(note)) ++st_.tx_tls_zc_modified;
  });
#endif
}

size_t TlsTx::room() const {
  const size_t limit = 512 * 1024;
  return map_.unwritten() >= limit ? 0 : limit - map_.unwritten();
}

void TlsTx::push_record(ContentType inner, ByteSpan content, const std::shared_ptr<const Bytes>* lent) {
  const size_t clen = content.size();
  const uint16_t rec_len = uint16_t(clen + 1 + kTagLen);
  uint8_t hdr[kHeaderLen];
  hdr[0] = uint8_t(ContentType::kApplicationData);  // opaque_type (§5.2)
  store_be16(&hdr[1], kLegacyVersion);
  store_be16(&hdr[3], rec_len);
  std::vector<TxMsgMap::Piece> pieces;
  pieces.reserve(3);
  uint64_t note = 0;  // debug builds: checksum of lent bytes, checked on release
  if (mode_ == TxMode::kSoftware) {
    Bytes rec(kHeaderLen + rec_len);
    std::memcpy(rec.data(), hdr, kHeaderLen);
    Bytes innerpt(clen + 1);
    std::memcpy(innerpt.data(), content.data(), clen);
    innerpt[clen] = uint8_t(inner);
    crypto_.seal(seq_, ByteSpan(hdr, kHeaderLen), innerpt, rec.data() + kHeaderLen);
    st_.tx_tls_sw_encrypted_bytes += clen;
    pieces.push_back(owned_piece(std::move(rec)));
  } else if (lent) {
    // header | the application's bytes, by reference | type + dummy tag | (debug) checksum
    Bytes trailer(1 + kTagLen, 0);
    trailer[0] = uint8_t(inner);
    pieces.push_back(owned_piece(Bytes(hdr, hdr + kHeaderLen)));
    pieces.push_back(TxMsgMap::Piece{content.data(), clen, *lent});
    pieces.push_back(owned_piece(std::move(trailer)));
#ifndef NDEBUG
    note = uint64_t(1) << 32 | crc32_iscsi(const_cast<uint8_t*>(content.data()), int(clen), 0);
#endif
    st_.tx_tls_zc_bytes += clen;
  } else {
    // Offload: plaintext inner record with a dummy tag; the NIC fills both (§4.2).
    uint8_t* rec = nullptr;
    pieces.push_back(new_piece(kHeaderLen + rec_len, &rec));
    std::memcpy(rec, hdr, kHeaderLen);
    std::memcpy(rec + kHeaderLen, content.data(), clen);
    rec[kHeaderLen + clen] = uint8_t(inner);
    std::memset(rec + kHeaderLen + clen + 1, 0, kTagLen);
  }
  map_.push(std::move(pieces), note, uint32_t(clen));  // its content: the payload stream
  ++seq_;
  ++st_.tx_tls_records;
}

size_t TlsTx::next_record_len(size_t avail, bool more) {
  const size_t full = record_size_ - first_trim_;
  if (avail < full && more) return 0;  // wait for the rest of the record (MSG_MORE)
  first_trim_ = 0;
  return std::min(full, avail);
}

// Cuts records from `data` while TCP's side has room; with `more`, stops before a tail shorter
// than a record (the caller keeps it, or offers it again with what follows).
size_t TlsTx::frame_records(ByteSpan data, bool more, const std::shared_ptr<const Bytes>* lent) {
  size_t taken = 0;
  while (taken < data.size() && room() > 0) {
    const size_t n = next_record_len(data.size() - taken, more);
    if (n == 0) break;
    push_record(ContentType::kApplicationData, data.subspan(taken, n), lent);
    taken += n;
  }
  return taken;
}

size_t TlsTx::queue(ByteSpan data, bool more) {
  close_open_record();
  return frame_records(data, more, nullptr);
}

size_t TlsTx::queue_zc(const std::shared_ptr<const Bytes>& buf, size_t off, size_t len, bool more) {
  close_open_record();
  return frame_records(ByteSpan(buf->data() + off, len), more, &buf);
}

void TlsTx::close_open_record() {
  if (open_.empty()) return;
  first_trim_ = 0;
  push_record(ContentType::kApplicationData, open_, nullptr);
  open_.clear();
}

size_t TlsTx::queue_gather(ByteSpan data, bool more) {
  size_t taken = 0;
  if (!open_.empty()) {
    const size_t full = record_size_ - first_trim_;
    const size_t n = std::min(full - open_.size(), data.size());
    open_.insert(open_.end(), data.begin(), data.begin() + long(n));
    taken = n;
    if (open_.size() < full && more) return taken;
    close_open_record();
  }
  taken += frame_records(data.subspan(taken), more, nullptr);
  if (taken < data.size() && more && room() > 0) {
    // A tail shorter than a record: keep it open for the next call to fill.
    open_.assign(data.begin() + long(taken), data.end());
    return data.size();
  }
  if (!more && taken == data.size()) close_open_record();
  return taken;
}

void TlsTx::queue_alert(uint8_t level, uint8_t desc) {
  close_open_record();
  const uint8_t a[2] = {level, desc};
  push_record(ContentType::kAlert, ByteSpan(a, 2), nullptr);
  ++st_.tx_tls_alerts;
}

}  // namespace autonic::l5p::tls
