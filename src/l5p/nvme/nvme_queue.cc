#include "l5p/nvme/nvme_queue.h"

#include <algorithm>

#include "proto/nvme/nvme_l5_state.h"

namespace autonic::l5p::nvme {

NvmeQueue::NvmeQueue(std::unique_ptr<Transport> t, Role role, const QueueConfig& cfg, QueueHandler* h, NvmeStats& st)
    : t_(std::move(t)), role_(role), cfg_(cfg), h_(h), st_(st),
      framer_(*this, uint32_t(kCommonLen), [this](TcpSeq at, bool ok, uint64_t idx, TcpSeq) {
        ++(ok ? st_.nvme_resync_answer_ok : st_.nvme_resync_answer_fail);
        if (rx_h_) rx_h_.offload()->resync_rx_resp(rx_h_.get(), at, ok, idx);
      }) {
  t_->set_user(this);
  if (role_ == Role::kController) framer_.start(t_->rx_pos());  // accepted: waits for ICReq
}

void NvmeQueue::on_transport_up() {
  if (role_ != Role::kHost) return;  // the controller waits for ICReq
  framer_.start(t_->rx_pos());
  start();
}

void NvmeQueue::start() {
  // ICReq: PFV 0, HPDA 0 (no data alignment), digests requested, MAXR2T 0 (one R2T at a time).
  uint8_t ic[128] = {};
  ic[0] = uint8_t(PduType::kICReq);
  ic[2] = 128;
  put32(ic + 4, 128);
  ic[11] = uint8_t((cfg_.hdgst ? 1 : 0) | (cfg_.ddgst ? 2 : 0));
  send_raw(ByteSpan(ic, 128));
}

// An ICReq / ICResp TCP does not take whole is never sent cut short (the peer would read the
// next PDU's bytes as its rest): the queue ends, with the connection, saying why.
bool NvmeQueue::send_raw(ByteSpan bytes) {
  if (t_->write_copy(bytes)) return true;
  if (!failed_) {
    failed_ = true;
    t_->abort();
    h_->on_failed(name(NvmeError::kSendBufferFull));
  }
  return false;
}

void NvmeQueue::establish() {
  ic_done_ = true;
  map_.start(t_->tx_pos());
  framer_.arm(0);  // PDUs are counted (and resyncs answered) from the offload's first on
  const bool ddp = cfg_.ddp && role_ == Role::kHost && t_->supports_ddp();
  auto state = std::make_shared<proto::nvme::NvmeL5State>(hdgst_, ddgst_, ddp);
  if (cfg_.offload && cfg_.offload_tx)
    tx_h_ = OffloadHandle(cfg_.offload, t_->create_offload(cfg_.offload, l5o::Direction::kTx, state, t_->tx_pos(), this));
  if (cfg_.offload && (cfg_.offload_rx || ddp) && !rx_offload_lost_)
    rx_h_ = OffloadHandle(cfg_.offload, t_->create_offload(cfg_.offload, l5o::Direction::kRx, state, framer_.pos(), this));
  h_->on_established();
}

uint64_t NvmeQueue::send(PduType t, uint8_t flags, const uint8_t* spec, ByteSpan data, std::shared_ptr<const void> keep) {
  if (failed_ || !t_->alive()) return map_.next_index();
  const uint8_t hlen = *hlen_for(uint8_t(t));
  const bool has_data = !data.empty();
  const uint32_t hbytes = hlen + (hdgst_ ? uint32_t(kDigestLen) : 0);
  const uint32_t plen = hbytes + uint32_t(data.size()) + (has_data && ddgst_ ? uint32_t(kDigestLen) : 0);
  uint8_t* h = nullptr;
  std::vector<TxMsgMap::Piece> pieces = map_.take_pieces();
  pieces.push_back(new_piece(hbytes, &h));
  h[0] = uint8_t(t);
  h[1] = uint8_t(flags | (hdgst_ ? kFlagHdgst : 0) | (has_data && ddgst_ ? kFlagDdgst : 0));
  h[2] = hlen;
  h[3] = has_data ? uint8_t(hbytes) : 0;
  put32(h + 4, plen);
  std::memcpy(h + 8, spec, hlen - 8);
  if (hdgst_) put32(h + hlen, digest(ByteSpan(h, hlen)));
  if (has_data) {
    if (keep) {
      pieces.push_back(TxMsgMap::Piece{data.data(), data.size(), std::move(keep)});
    } else {
      uint8_t* d = nullptr;
      pieces.push_back(new_piece(data.size(), &d));
      std::memcpy(d, data.data(), data.size());
    }
    if (ddgst_) {
      uint8_t* g = nullptr;
      pieces.push_back(new_piece(kDigestLen, &g));
      if (tx_h_) {
        put32(g, 0);  // dummy: the NIC fills it in (§5.1 "CRC offload")
      } else {
        AppScope dg(cfg_.meter, AppScope::Kind::kDigest);
        put32(g, digest(data));
        st_.tx_nvme_sw_crc_bytes += data.size();
      }
    }
  }
  const uint64_t idx = map_.push(std::move(pieces));
  t_->pump(map_);
  return idx;
}

NvmeError NvmeQueue::fatal(NvmeError e, uint32_t fei) {
  if (failed_) return e;
  if (t_->alive()) {
    uint8_t spec[16] = {};
    put16(spec, uint16_t(fes_of(e)));
    put32(spec + 2, fei);
    send(role_ == Role::kHost ? PduType::kH2CTermReq : PduType::kC2HTermReq, 0, spec, {});
    ++st_.nvme_termreq_sent;
    t_->shutdown_tx();
  }
  failed_ = true;
  h_->on_failed(name(e));
  return e;
}

l5o::RrStateId NvmeQueue::add_rr(uint16_t cid, MutByteSpan dest) {
  if (!ddp()) return 0;
  const l5o::RrStateId id = rx_h_.offload()->add_rr_state(rx_h_.get(), l5o::RrState{cid, dest});
  live_rr_.insert(id);
  return id;
}

l5o::RrTeardown NvmeQueue::del_rr(l5o::RrStateId id) {
  if (!id) return l5o::RrTeardown{true, std::nullopt};
  if (auto f = gone_rr_.find(id); f != gone_rr_.end()) {  // torn down with its context
    const l5o::RrTeardown t = f->second;
    gone_rr_.erase(f);
    return t;
  }
  live_rr_.erase(id);
  if (!ddp()) return l5o::RrTeardown{true, std::nullopt};
  return rx_h_.offload()->del_rr_state(rx_h_.get(), id);
}

void NvmeQueue::drop_rx_offload() {
  if (!rx_h_) return;
  // Each registration is torn down on its own first: its fence (what the NIC placed ahead of
  // the parser) still holds for the command it belongs to after the context is gone.
  for (l5o::RrStateId id : live_rr_) gone_rr_[id] = rx_h_.offload()->del_rr_state(rx_h_.get(), id);
  live_rr_.clear();
  rx_h_.reset();
}

void NvmeQueue::resync_rx_req(TcpSeq tcpsn) { framer_.resync_rx_req(tcpsn); }

// Fail closed (l5o::L5pOps::offload_lost): PDUs handed to TCP for the NIC to finish (digests)
// can no longer leave, so the queue ends; an RX context gone only ends placement and checks.
void NvmeQueue::offload_lost(l5o::Direction dir) {
  if (dir == l5o::Direction::kRx) return drop_rx_offload();
  tx_h_.reset();  // the driver keeps dropping what was handed over for it
  if (failed_) return;
  failed_ = true;
  t_->abort();
  h_->on_failed(name(NvmeError::kTxOffloadLost));
}

void NvmeQueue::on_transport_closed() {
  if (failed_) return;
  failed_ = true;
  h_->on_failed(name(NvmeError::kConnectionClosed));
}

bool NvmeQueue::on_transport_data(ByteSpan d, bool marked, bool placed) {
  if (failed_) return false;
  return !framer_.input(d, RxMarks{marked, false, placed}) && !failed_;
}

void NvmeQueue::reset_pdu() {
  phase_ = Phase::kHeader;
  hdr_.clear();
  got_ = 0;
  recv_dgst_ = 0;
  dest_ = {};
}

NvmeQueue::Result NvmeQueue::check() {
  if (failed_) return NvmeError::kStopped;  // said why already (a handler, a TermReq, ...)
  return std::nullopt;
}

uint32_t NvmeQueue::piece_limit(uint32_t) const {
  switch (phase_) {
    case Phase::kHeader: return uint32_t((hdr_.size() < kCommonLen ? kCommonLen : ch_.header_bytes()) - hdr_.size());
    case Phase::kPad: return ch_.pad_len() - got_;
    case Phase::kData: return uint32_t(dest_.size()) - got_;
    case Phase::kDigest: return uint32_t(kDigestLen) - got_;
  }
  return 0;
}

HeaderParse<NvmeError> NvmeQueue::parse_header(ByteSpan head) {
  const HeaderError e = parse_common(head, &ch_);
  if (e != HeaderError::kNone) return HeaderParse<NvmeError>::error(fatal(NvmeError::kMalformedPdu, fei_for(e)));
  return HeaderParse<NvmeError>::length(ch_.plen);
}

static bool overlaps(ByteSpan a, MutByteSpan b) {
  return !a.empty() && !b.empty() && a.data() < b.data() + b.size() && b.data() < a.data() + a.size();
}

NvmeQueue::Result NvmeQueue::on_bytes(uint32_t, ByteSpan d, const RxMarks& m) {
  const size_t n = d.size();
  switch (phase_) {
    case Phase::kHeader: hdr_.insert(hdr_.end(), d.begin(), d.end()); break;
    case Phase::kPad: got_ += uint32_t(n); break;
    case Phase::kData: {
      uint8_t* dst = dest_.data() + got_;
      if (d.data() == dst) {
        st_.nvme_ddp_skip_bytes += n;  // the NIC already put it here: src == dst (§5.1)
      } else if (m.placed || overlaps(d, dest_)) {
        // Placed for another request than the one this PDU belongs to: that memory is not
        // this PDU's to read (it may already be back with its owner). Never copy from it. Or
        // placed in this request's buffer at another offset than these bytes' own (a NIC whose
        // framing of the stream differs from ours): later placements may have overwritten
        // them already. Either way, fail closed.
        return fatal(NvmeError::kDdpMismatch);
      } else {
        AppScope copy(cfg_.meter, AppScope::Kind::kCopy);
        std::memcpy(dst, d.data(), n);
        if (ch_.type == uint8_t(PduType::kC2HData)) st_.nvme_sw_copy_bytes += n;
      }
      got_ += uint32_t(n);
      break;
    }
    case Phase::kDigest:
      for (size_t k = 0; k < n; ++k) recv_dgst_ |= uint32_t(d[k]) << (8 * (got_ + k));
      got_ += uint32_t(n);
      break;
  }
  return std::nullopt;
}

// Moves between the phases of a PDU; its end is the framer's (on_msg): parse_common makes every
// accepted PDU exactly plen bytes.
NvmeQueue::Result NvmeQueue::after_bytes() {
  if (phase_ == Phase::kHeader && hdr_.size() >= kCommonLen && hdr_.size() == ch_.header_bytes()) return header_done();
  if (phase_ == Phase::kPad && got_ == ch_.pad_len()) {
    phase_ = Phase::kData;
    got_ = 0;
  } else if (phase_ == Phase::kData && got_ == dest_.size()) {
    got_ = 0;
    if (ch_.ddgst()) phase_ = Phase::kDigest;
  }
  return std::nullopt;
}

NvmeQueue::Result NvmeQueue::header_done() {
  const bool is_ic = ch_.type == uint8_t(PduType::kICReq) || ch_.type == uint8_t(PduType::kICResp);
  const uint8_t want_ic = role_ == Role::kHost ? uint8_t(PduType::kICResp) : uint8_t(PduType::kICReq);
  if (!ic_done_ ? ch_.type != want_ic : is_ic) return fatal(NvmeError::kPduSequenceError);
  const bool from_host = ch_.type == 0x00 || ch_.type == 0x02 || ch_.type == 0x04 || ch_.type == 0x06;
  if (from_host != (role_ == Role::kController))  // e.g. a C2HData sent to a controller
    return fatal(NvmeError::kWrongDirectionPdu);
  if (!is_ic && !ch_.is_term() && (ch_.hdgst() != hdgst_ || (ch_.data_len() > 0 && ch_.ddgst() != ddgst_)))
    return fatal(NvmeError::kDigestFlagsMismatch);
  if (ch_.hdgst() && digest(ByteSpan(hdr_.data(), ch_.hlen)) != le32(hdr_.data() + ch_.hlen)) {
    ++st_.nvme_hdgst_errors;
    return fatal(NvmeError::kHeaderDigestError);
  }
  got_ = 0;
  // parse_common: no data means plen == header, but for a TermReq's error data (not read).
  if (ch_.data_len() == 0) return ch_.is_term() ? on_termreq() : std::nullopt;
  dest_ = h_->data_dest(ch_, hdr_.data());
  if (failed_) return NvmeError::kStopped;  // the handler rejected it (and said why)
  if (dest_.size() != ch_.data_len()) return fatal(NvmeError::kDataOutOfRange);
  phase_ = ch_.pad_len() > 0 ? Phase::kPad : Phase::kData;
  return std::nullopt;
}

NvmeQueue::Result NvmeQueue::on_termreq() {
  ++st_.nvme_termreq_received;
  failed_ = true;
  t_->abort();
  h_->on_failed(terminated_outcome(le16(hdr_.data() + 8)));
  return NvmeError::kStopped;
}

NvmeQueue::Result NvmeQueue::ic_done() {
  const uint8_t* h = hdr_.data();
  if (le16(h + 8) != 0) return fatal(NvmeError::kUnsupportedPfv);  // PFV 0 only
  hdgst_ = h[11] & 1;
  ddgst_ = h[11] & 2;
  if (role_ == Role::kController) {
    // HPDA (byte 10): we send data right after the header, so only 0 (as nvmet_tcp_handle_icreq).
    if (h[10] != 0) return fatal(NvmeError::kUnsupportedIcParam, 10);
    // Digests as the ICReq asks: a Linux host fails the connect if the ICResp differs
    // (nvme_tcp_init_connection: "header digest flag is cleared").
    maxh2cdata_ = cfg_.maxh2cdata;
    uint8_t ic[128] = {};
    ic[0] = uint8_t(PduType::kICResp);
    ic[2] = 128;
    put32(ic + 4, 128);
    ic[11] = uint8_t((hdgst_ ? 1 : 0) | (ddgst_ ? 2 : 0));
    put32(ic + 12, maxh2cdata_);
    if (!send_raw(ByteSpan(ic, 128))) return NvmeError::kStopped;
  } else {
    // The controller enables no digest we did not ask for, needs no data padding (CPDA, byte
    // 10: Linux refuses any but 0 too), and takes whole dwords (nvme_tcp_init_connection).
    if (((h[11] & 1) && !cfg_.hdgst) || ((h[11] & 2) && !cfg_.ddgst) || (h[11] & ~3))
      return fatal(NvmeError::kUnsupportedIcParam, 11);
    if (h[10] != 0) return fatal(NvmeError::kUnsupportedIcParam, 10);
    maxh2cdata_ = le32(h + 12);
    if (maxh2cdata_ < 4096 || maxh2cdata_ % 4 != 0) return fatal(NvmeError::kBadMaxh2cdata);
  }
  reset_pdu();
  establish();
  return std::nullopt;
}

NvmeQueue::Result NvmeQueue::on_msg(const RxMsg& m) {
  if (ch_.type == uint8_t(PduType::kICReq) || ch_.type == uint8_t(PduType::kICResp)) return ic_done();
  bool ok = true;
  if (ch_.data_len() > 0) {
    if (MsgLog* log = t_->rx_msg_log()) log->add(m.start, m.len, m.offloaded == Offloaded::kFull);
    ++(m.offloaded == Offloaded::kFull      ? st_.rx_nvme_tcp_msgs_full
       : m.offloaded == Offloaded::kPartial ? st_.rx_nvme_tcp_msgs_partial
                                            : st_.rx_nvme_tcp_msgs_none);
    if (ch_.ddgst() && !(cfg_.crc_offload && m.offloaded == Offloaded::kFull)) {
      // Not every packet carried the NIC's crc_ok: compute the digest here (§5.1).
      AppScope dg(cfg_.meter, AppScope::Kind::kDigest);
      ok = digest(dest_) == recv_dgst_;
      st_.nvme_sw_crc_bytes += dest_.size();
    }
    if (!ok) ++st_.nvme_ddgst_errors;
  }
  Pdu p{ch_, hdr_.data(), ByteSpan(dest_.data(), dest_.size()), ok};
  // Hand the header over (no copy): the parser starts the next PDU in a fresh buffer, so what
  // the handler reads stays stable while it reacts (and may itself send or receive).
  Bytes keep_hdr = std::move(hdr_);
  hdr_ = Bytes();
  p.hdr = keep_hdr.data();
  reset_pdu();
  h_->on_pdu(p);  // a failure it causes stops the framer (check) before the next byte
  return std::nullopt;
}

void NvmeQueue::on_transport_sent() {
  map_.on_acked(t_->release_point());
  t_->pump(map_);
}

void NvmeQueue::on_transport_inner_lost() {
  // The NIC could misread the stream from here on (and place data where it does not belong):
  // take its receive context away; digests and copies are done here from now on.
  drop_rx_offload();
  rx_offload_lost_ = true;  // (also if it comes before the context would have been set up)
}

void NvmeQueue::on_transport_error(const std::string& what) {
  if (failed_) return;
  failed_ = true;
  h_->on_failed(what);
}

}  // namespace autonic::l5p::nvme
