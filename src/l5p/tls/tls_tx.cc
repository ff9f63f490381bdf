#include "l5p/tls/tls_tx.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <cstring>

#include "common/buf_pool.h"

namespace autonic::l5p::tls {

// Segment-aligned records. lwIP cuts the stream into MSS-sized segments; when a record's wire
// length is a multiple of the MSS (and the first record starts a segment), every record begins
// a packet. A loss then costs the NIC one record, not two: the packet holding the next header
// starts exactly at it, so the hardware re-sync (§4.3, Fig. 8b) marks it instead of passing it
// up half-processed. Record boundaries are the sender's choice in TLS (RFC 8446 §5.1), so this
// changes nothing for the peer.
static size_t aligned_record_size(size_t record_size, size_t mss, size_t overhead) {
  if (mss == 0 || record_size + overhead < 2 * mss) return record_size;
  return (record_size + overhead) / mss * mss - overhead;
}

TlsTx::TlsTx(const TrafficKeys& keys, TxMode mode, size_t record_size, size_t align_mss, size_t open_fill,
             TlsStats& st, uint64_t first_seq)
    : mode_(mode),
      record_size_(aligned_record_size(std::clamp<size_t>(record_size, 1, kMaxPlaintext), align_mss,
                                       kHeaderLen + record_shape(keys).overhead())),
      aligned_(record_size_ != std::clamp<size_t>(record_size, 1, kMaxPlaintext)), st_(st),
      crypto_(std::make_unique<RecordCrypto>(keys)), seq_(first_seq) {
  epochs_.push_back(proto::tls::TlsL5State::Epoch{0, first_seq, keys});
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
  const size_t limit = 64 * 1024;
  return map_.unwritten() >= limit ? 0 : limit - map_.unwritten();
}

void TlsTx::push_record(ContentType inner, ByteSpan content, const std::shared_ptr<const Bytes>* lent, size_t hint) {
  if (mode_ == TxMode::kOffload || (mode_ == TxMode::kOffloadZc && !lent)) {
    carve(inner, content.data(), content.size(), 1, hint);
    return;
  }
  const size_t clen = content.size();
  const RecordShape shape = crypto_->shape();
  const size_t ex = shape.explicit_nonce;
  const size_t trailer_len = (shape.inner_type ? 1 : 0) + kTagLen;  // type (1.3) + tag
  const uint16_t rec_len = uint16_t(ex + clen + trailer_len);
  uint8_t hdr[kHeaderLen + kExplicitNonceLen];
  // 1.3: opaque_type is always application_data (§5.2); 1.2: the real type (RFC 5246 §6.2.1).
  hdr[0] = uint8_t(shape.inner_type ? ContentType::kApplicationData : inner);
  store_be16(&hdr[1], kLegacyVersion);
  store_be16(&hdr[3], rec_len);
  if (ex) store_be64(&hdr[kHeaderLen], seq_);  // nonce_explicit (RFC 5288 §3), clear on the wire
  // The payload stream (an inner L5P's) is application data only; the NIC leaves a KeyUpdate
  // record out of it too (tls_plugin.cc outside_payload). (An alert ends the stream anyway.)
  const uint32_t payload_len = inner == ContentType::kHandshake ? 0u : uint32_t(clen);
  const uint64_t seq = seq_++;
  ++st_.tx_tls_records;
  std::vector<TxMsgMap::Piece> pieces = map_.take_pieces();
  pieces.reserve(3);
  uint64_t note = 0;  // debug builds: checksum of lent bytes, checked on release
  if (mode_ == TxMode::kSoftware) {
    // As Linux's tls_sw: the content is copied into the record's plaintext (there, the socket's
    // pages) and sealed from it into the record. Neither buffer is cleared first: seal() writes
    // every byte of the record, and the plaintext is written whole before it is read (both were
    // vectors of zeros, a memset of twice the bytes sent that software TLS's cost carried and
    // Linux's does not; issue #12, callgrind).
    uint8_t* rec = nullptr;
    TxMsgMap::Piece piece = new_piece(kHeaderLen + rec_len, &rec);
    std::memcpy(rec, hdr, kHeaderLen);
    const size_t inner_len = clen + (shape.inner_type ? 1 : 0);
    Bytes in = scratch_pool().take();  // (not one per connection: 128K of them, issue #13)
    if (in.size() < inner_len) in.resize(inner_len);
    std::memcpy(in.data(), content.data(), clen);
    if (shape.inner_type) in[clen] = uint8_t(inner);
    crypto_->seal(seq, ByteSpan(hdr, kHeaderLen), ByteSpan(in.data(), inner_len), rec + kHeaderLen);
    scratch_pool().give(in);
    st_.tx_tls_sw_encrypted_bytes += clen;
    pieces.push_back(std::move(piece));
  } else {
    // header [+ nonce] | the application's bytes, by reference | [type +] dummy tag | (debug) checksum
    Bytes trailer(trailer_len, 0);
    if (shape.inner_type) trailer[0] = uint8_t(inner);
    pieces.push_back(owned_piece(Bytes(hdr, hdr + kHeaderLen + ex)));
    pieces.push_back(TxMsgMap::Piece{content.data(), clen, *lent});
    pieces.push_back(owned_piece(std::move(trailer)));
#ifndef NDEBUG
    note = uint64_t(1) << 32 | crc32_iscsi(const_cast<uint8_t*>(content.data()), int(clen), 0);
#endif
    st_.tx_tls_zc_bytes += clen;
  }
  map_.push(std::move(pieces), note, payload_len);
}

size_t TlsTx::carve(ContentType inner, const uint8_t* content, size_t clen, size_t n, size_t hint) {
  const RecordShape shape = crypto_->shape();
  const size_t ex = shape.explicit_nonce, inner_type = shape.inner_type ? 1 : 0;
  const uint16_t rec_len = uint16_t(ex + clen + inner_type + kTagLen);
  const size_t unit = kHeaderLen + rec_len;
  uint8_t* at = arena_.alloc_run(unit, n, map_.next_index(), hint);
  uint8_t hdr[kHeaderLen + kExplicitNonceLen];
  // 1.3: opaque_type is always application_data (§5.2); 1.2: the real type (RFC 5246 §6.2.1).
  hdr[0] = uint8_t(inner_type ? ContentType::kApplicationData : inner);
  store_be16(&hdr[1], kLegacyVersion);
  store_be16(&hdr[3], rec_len);
  for (size_t i = 0; i < n; ++i, at += unit) {
    if (ex) {
      store_be64(&hdr[kHeaderLen], seq_ + i);  // nonce_explicit (RFC 5288 §3), clear on the wire
      std::memcpy(at, hdr, kHeaderLen + kExplicitNonceLen);
    } else {
      std::memcpy(at, hdr, kHeaderLen);
    }
    std::memcpy(at + kHeaderLen + ex, content + i * clen, clen);
    if (inner_type) at[kHeaderLen + clen] = uint8_t(inner);
    std::memset(at + unit - kTagLen, 0, kTagLen);
  }
  // The payload stream (an inner L5P's) is application data only; the NIC leaves a KeyUpdate
  // record out of it too (tls_plugin.cc outside_payload). (An alert ends the stream anyway.)
  const uint32_t payload_len = inner == ContentType::kHandshake ? 0u : uint32_t(clen);
  map_.push_carved(at - n * unit, uint32_t(unit), payload_len, uint32_t(n));
  seq_ += n;
  st_.tx_tls_records += n;
  return n;
}

size_t TlsTx::carve_records(ByteSpan data, size_t hint) {
  const size_t clen = record_size_;
  const size_t unit = kHeaderLen + clen + crypto_->shape().overhead();
  // What the loop in frame_records would take one record at a time: whole records only (a tail
  // goes the per-record way), while TCP's side has room (a record goes while room() > 0), up to
  // the next KeyUpdate.
  size_t n = std::min(data.size() / clen, (room() + unit - 1) / unit);
  if (rekey_every_) n = std::min<size_t>(n, rekey_every_ - records_since_rekey());
  if (n < 2) return 0;
  return carve(ContentType::kApplicationData, data.data(), clen, n, hint) * clen;
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
  // This write's records from here on, with their headers and tags: the arena's next chunk is
  // sized by it (computed once: a division per record was a measurable share at 2 KiB).
  const size_t per_record = kHeaderLen + kExplicitNonceLen + 1 + kTagLen;
  size_t hint = data.size() + (data.size() / record_size_ + 1) * per_record;
  while (taken < data.size() && room() > 0 && !data_blocked()) {
    if (!lent && first_trim_ == 0 && mode_ != TxMode::kSoftware) {
      const size_t k = carve_records(data.subspan(taken), hint);
      if (k) {
        taken += k;
        hint -= std::min(hint, k + k / record_size_ * per_record);
        continue;
      }
    }
    const size_t n = next_record_len(data.size() - taken, more);
    if (n == 0) break;
    push_record(ContentType::kApplicationData, data.subspan(taken, n), lent, hint);
    taken += n;
    hint -= std::min(hint, n + per_record);
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
  // Gathered records come one by one: a chunk for several of them.
  push_record(ContentType::kApplicationData, open_, nullptr, 8 * (record_size_ + kHeaderLen + kExplicitNonceLen + 1 + kTagLen));
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
  if (taken < data.size() && more && room() > 0 && !data_blocked()) {
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

// Epochs before the current one are dropped once TCP holds none of their records.
void TlsTx::trim_epochs() {
  while (epochs_.size() > 1 && epochs_[1].first_msg <= map_.oldest_index()) epochs_.erase(epochs_.begin());
}

bool TlsTx::can_rekey() const { return epochs_.size() == 1 || epochs_[1].first_msg <= map_.oldest_index(); }

void TlsTx::key_update(bool request_update, const TrafficKeys& next) {
  close_open_record();
  // KeyUpdate: msg_type 24, length 1, request_update (§4.6.3); the last message under these
  // keys, alone in its record (§5.1: handshake messages MUST NOT span key changes).
  const uint8_t ku[5] = {24, 0, 0, 1, uint8_t(request_update ? 1 : 0)};
  push_record(ContentType::kHandshake, ByteSpan(ku, sizeof ku), nullptr);
  // Segment-aligned records stay aligned: the next record is shorter by the KeyUpdate's wire
  // bytes, which share its first segment.
  if (aligned_) first_trim_ = kHeaderLen + sizeof ku + crypto_->shape().overhead();
  trim_epochs();
  crypto_ = std::make_unique<RecordCrypto>(next);
  seq_ = 0;
  epochs_.push_back(proto::tls::TlsL5State::Epoch{map_.next_index(), 0, next});
  ++st_.tx_tls_rekey_ok;
}

}  // namespace autonic::l5p::tls
