#include "l5p/nvme/nvme_queue.h"

#include <algorithm>

#include "proto/nvme/nvme_l5_state.h"

namespace autonic::l5p::nvme {

static const char* fes_name(uint16_t fes) {
  switch (fes) {
    case 0x01: return "invalid_header_field";
    case 0x02: return "pdu_sequence_error";
    case 0x03: return "header_digest_error";
    case 0x04: return "data_out_of_range";
    case 0x05: return "data_limit_exceeded";
    case 0x06: return "unsupported_parameter";
    default: return "unknown";
  }
}

NvmeQueue::NvmeQueue(std::unique_ptr<Transport> t, Role role, const QueueConfig& cfg, QueueHandler* h, NvmeStats& st)
    : t_(std::move(t)), role_(role), cfg_(cfg), h_(h), st_(st),
      resync_([this](TcpSeq at, bool ok, uint64_t idx, TcpSeq) {
        ++(ok ? st_.nvme_resync_answer_ok : st_.nvme_resync_answer_fail);
        if (cfg_.offload && rx_h_) cfg_.offload->resync_rx_resp(rx_h_, at, ok, idx);
      }) {
  t_->set_user(this);
  if (role_ == Role::kController) seq_ = t_->rx_pos();  // accepted: waits for ICReq
}

NvmeQueue::~NvmeQueue() {
  if (cfg_.offload) {
    if (tx_h_) cfg_.offload->destroy(tx_h_);
    if (rx_h_) cfg_.offload->destroy(rx_h_);  // every mapping goes with it
  }
}

void NvmeQueue::on_transport_up() {
  if (role_ != Role::kHost) return;  // the controller waits for ICReq
  seq_ = t_->rx_pos();
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

void NvmeQueue::send_raw(ByteSpan bytes) { t_->write_copy(bytes); }

void NvmeQueue::establish() {
  ic_done_ = true;
  map_.start(t_->tx_pos());
  pdu_index_ = 0;
  const bool ddp = cfg_.ddp && role_ == Role::kHost && t_->supports_ddp();
  auto state = std::make_shared<proto::nvme::NvmeL5State>(hdgst_, ddgst_, ddp);
  if (cfg_.offload && cfg_.offload_tx)
    tx_h_ = t_->create_offload(cfg_.offload, l5o::Direction::kTx, state, t_->tx_pos(), this);
  if (cfg_.offload && (cfg_.offload_rx || ddp) && !rx_offload_lost_)
    rx_h_ = t_->create_offload(cfg_.offload, l5o::Direction::kRx, state, seq_, this);
  h_->on_established();
}

void NvmeQueue::send(PduType t, uint8_t flags, const uint8_t* spec, ByteSpan data, std::shared_ptr<const void> keep) {
  if (failed_ || !t_->alive()) return;
  const uint8_t hlen = *hlen_for(uint8_t(t));
  const bool has_data = !data.empty();
  const uint32_t hbytes = hlen + (hdgst_ ? uint32_t(kDigestLen) : 0);
  const uint32_t plen = hbytes + uint32_t(data.size()) + (has_data && ddgst_ ? uint32_t(kDigestLen) : 0);
  uint8_t* h = nullptr;
  std::vector<TxMsgMap::Piece> pieces;
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
      if (tx_h_ != l5o::kNoHandle) {
        put32(g, 0);  // dummy: the NIC fills it in (§5.1 "CRC offload")
      } else {
        AppScope dg(cfg_.meter, AppScope::Kind::kDigest);
        put32(g, digest(data));
        st_.tx_nvme_sw_crc_bytes += data.size();
      }
    }
  }
  map_.push(std::move(pieces));
  t_->pump(map_);
}

void NvmeQueue::fatal(Fes fes, const std::string& outcome, uint32_t fei) {
  if (failed_) return;
  if (t_->alive()) {
    uint8_t spec[16] = {};
    put16(spec, uint16_t(fes));
    put32(spec + 2, fei);
    send(role_ == Role::kHost ? PduType::kH2CTermReq : PduType::kC2HTermReq, 0, spec, {});
    ++st_.nvme_termreq_sent;
    t_->shutdown_tx();
  }
  failed_ = true;
  h_->on_failed(outcome);
}

l5o::RrStateId NvmeQueue::add_rr(uint16_t cid, MutByteSpan dest) {
  if (!ddp()) return 0;
  const l5o::RrStateId id = cfg_.offload->add_rr_state(rx_h_, l5o::RrState{cid, dest});
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
  return cfg_.offload->del_rr_state(rx_h_, id);
}

void NvmeQueue::drop_rx_offload() {
  if (!cfg_.offload || !rx_h_) return;
  // Each registration is torn down on its own first: its fence (what the NIC placed ahead of
  // the parser) still holds for the command it belongs to after the context is gone.
  for (l5o::RrStateId id : live_rr_) gone_rr_[id] = cfg_.offload->del_rr_state(rx_h_, id);
  live_rr_.clear();
  cfg_.offload->destroy(rx_h_);
  rx_h_ = l5o::kNoHandle;
}

void NvmeQueue::resync_rx_req(TcpSeq tcpsn) {
  const bool at_boundary = phase_ == Phase::kHeader && hdr_.empty();
  resync_.request(tcpsn, seq_, at_boundary, pdu_start_, hdr_.size() >= kCommonLen ? ch_.plen : 0);
}

// Fail closed (l5o::L5pOps::offload_lost): PDUs handed to TCP for the NIC to finish (digests)
// can no longer leave, so the queue ends; an RX context gone only ends placement and checks.
void NvmeQueue::offload_lost(l5o::Direction dir) {
  if (dir == l5o::Direction::kRx) return drop_rx_offload();
  tx_h_ = l5o::kNoHandle;  // the driver keeps dropping its frames; nothing to destroy on the NIC
  if (failed_) return;
  failed_ = true;
  t_->abort();
  h_->on_failed("nvme:tx_offload_lost");
}

void NvmeQueue::on_transport_closed() {
  if (failed_) return;
  failed_ = true;
  h_->on_failed("nvme:connection_closed");
}

bool NvmeQueue::on_transport_data(ByteSpan d, bool marked, bool placed) {
  if (failed_) return false;
  return !input(d, marked, placed) && !failed_;
}

void NvmeQueue::reset_pdu() {
  phase_ = Phase::kHeader;
  hdr_.clear();
  got_ = 0;
  recv_dgst_ = 0;
  dest_ = {};
  all_marked_ = true;
  any_marked_ = false;
}

std::optional<std::string> NvmeQueue::input(ByteSpan d, bool marked, bool placed) {
  size_t i = 0;
  while (i < d.size() && !failed_) {
    if (phase_ == Phase::kHeader && hdr_.empty()) {
      pdu_start_ = seq_;
      if (ic_done_) resync_.on_msg_start(seq_, pdu_index_);
    }
    size_t n = 0;
    switch (phase_) {
      case Phase::kHeader: {
        const size_t need = (hdr_.size() < kCommonLen ? kCommonLen : ch_.header_bytes()) - hdr_.size();
        n = std::min(need, d.size() - i);
        hdr_.insert(hdr_.end(), d.begin() + long(i), d.begin() + long(i + n));
        break;
      }
      case Phase::kPad:
        n = std::min<size_t>(ch_.pad_len() - got_, d.size() - i);
        got_ += uint32_t(n);
        break;
      case Phase::kData: {
        n = std::min<size_t>(dest_.size() - got_, d.size() - i);
        uint8_t* dst = dest_.data() + got_;
        if (d.data() + i == dst) {
          st_.nvme_ddp_skip_bytes += n;  // the NIC already put it here: src == dst (§5.1)
        } else if (placed) {
          // Placed for another request than the one this PDU belongs to: that memory is not
          // this PDU's to read (it may already be back with its owner). Never copy from it.
          fatal(Fes::kInvalidHeaderField, "nvme:ddp_mismatch");
          return "nvme:ddp_mismatch";
        } else {
          AppScope copy(cfg_.meter, AppScope::Kind::kCopy);
          std::memcpy(dst, d.data() + i, n);
          if (ch_.type == uint8_t(PduType::kC2HData)) st_.nvme_sw_copy_bytes += n;
        }
        got_ += uint32_t(n);
        break;
      }
      case Phase::kDigest:
        n = std::min<size_t>(kDigestLen - got_, d.size() - i);
        for (size_t k = 0; k < n; ++k) recv_dgst_ |= uint32_t(d[i + k]) << (8 * (got_ + k));
        got_ += uint32_t(n);
        break;
    }
    all_marked_ = all_marked_ && marked;
    any_marked_ = any_marked_ || marked;
    i += n;
    seq_ += uint32_t(n);
    std::optional<std::string> err;
    if (phase_ == Phase::kHeader && hdr_.size() == kCommonLen) {
      const HeaderError e = parse_common(hdr_, &ch_);
      if (e != HeaderError::kNone) {
        fatal(Fes::kInvalidHeaderField, "nvme:malformed_pdu", fei_for(e));
        return "nvme:malformed_pdu";
      }
      if (ic_done_) resync_.on_msg_len(pdu_start_, ch_.plen);
    }
    if (phase_ == Phase::kHeader && hdr_.size() >= kCommonLen && hdr_.size() == ch_.header_bytes()) err = header_done();
    else if (phase_ == Phase::kPad && got_ == ch_.pad_len()) {
      phase_ = Phase::kData;
      got_ = 0;
      if (dest_.empty()) err = pdu_done();
    } else if (phase_ == Phase::kData && got_ == dest_.size()) {
      got_ = 0;
      if (ch_.ddgst()) phase_ = Phase::kDigest;
      else err = pdu_done();
    } else if (phase_ == Phase::kDigest && got_ == kDigestLen) {
      err = pdu_done();
    }
    if (err) return err;
  }
  return std::nullopt;
}

std::optional<std::string> NvmeQueue::header_done() {
  const bool is_ic = ch_.type == uint8_t(PduType::kICReq) || ch_.type == uint8_t(PduType::kICResp);
  const uint8_t want_ic = role_ == Role::kHost ? uint8_t(PduType::kICResp) : uint8_t(PduType::kICReq);
  if (!ic_done_ ? ch_.type != want_ic : is_ic) {
    fatal(Fes::kPduSequenceError, "nvme:pdu_sequence_error");
    return "nvme:pdu_sequence_error";
  }
  const bool from_host = ch_.type == 0x00 || ch_.type == 0x02 || ch_.type == 0x04 || ch_.type == 0x06;
  if (from_host != (role_ == Role::kController)) {  // e.g. a C2HData sent to a controller
    fatal(Fes::kInvalidHeaderField, "nvme:wrong_direction_pdu");
    return "nvme:wrong_direction_pdu";
  }
  if (!is_ic && !ch_.is_term() && (ch_.hdgst() != hdgst_ || (ch_.data_len() > 0 && ch_.ddgst() != ddgst_))) {
    fatal(Fes::kInvalidHeaderField, "nvme:digest_flags_mismatch");
    return "nvme:digest_flags_mismatch";
  }
  if (ch_.hdgst() && digest(ByteSpan(hdr_.data(), ch_.hlen)) != le32(hdr_.data() + ch_.hlen)) {
    ++st_.nvme_hdgst_errors;
    fatal(Fes::kHeaderDigestError, "nvme:header_digest_error");
    return "nvme:header_digest_error";
  }
  got_ = 0;
  if (ch_.data_len() == 0) return pdu_done();  // parse_common: no data means plen == header
  dest_ = h_->data_dest(ch_, hdr_.data());
  if (failed_) return "nvme:rejected";
  if (dest_.size() != ch_.data_len()) {
    fatal(Fes::kDataOutOfRange, "nvme:data_out_of_range");
    return "nvme:data_out_of_range";
  }
  phase_ = ch_.pad_len() > 0 ? Phase::kPad : Phase::kData;
  return std::nullopt;
}

std::optional<std::string> NvmeQueue::pdu_done() {
  if (ch_.type == uint8_t(PduType::kICReq) || ch_.type == uint8_t(PduType::kICResp)) {
    const uint8_t* h = hdr_.data();
    if (le16(h + 8) != 0) {  // PFV 0 only
      fatal(Fes::kUnsupportedParameter, "nvme:unsupported_pfv");
      return "nvme:unsupported_pfv";
    }
    hdgst_ = h[11] & 1;
    ddgst_ = h[11] & 2;
    if (role_ == Role::kController) {
      hdgst_ = hdgst_ && cfg_.hdgst;
      ddgst_ = ddgst_ && cfg_.ddgst;
      maxh2cdata_ = cfg_.maxh2cdata;
      uint8_t ic[128] = {};
      ic[0] = uint8_t(PduType::kICResp);
      ic[2] = 128;
      put32(ic + 4, 128);
      ic[11] = uint8_t((hdgst_ ? 1 : 0) | (ddgst_ ? 2 : 0));
      put32(ic + 12, maxh2cdata_);
      send_raw(ByteSpan(ic, 128));
    } else {
      maxh2cdata_ = le32(h + 12);
      if (maxh2cdata_ < 4096) {
        fatal(Fes::kUnsupportedParameter, "nvme:bad_maxh2cdata");
        return "nvme:bad_maxh2cdata";
      }
    }
    reset_pdu();
    establish();
    return std::nullopt;
  }
  if (ch_.type == uint8_t(PduType::kH2CTermReq) || ch_.type == uint8_t(PduType::kC2HTermReq)) {
    ++st_.nvme_termreq_received;
    failed_ = true;
    t_->abort();
    h_->on_failed(std::string("nvme:terminated:") + fes_name(le16(hdr_.data() + 8)));
    return "terminated";
  }
  bool ok = true;
  if (ch_.data_len() > 0) {
    ++(all_marked_ ? st_.rx_nvme_tcp_msgs_full : any_marked_ ? st_.rx_nvme_tcp_msgs_partial : st_.rx_nvme_tcp_msgs_none);
    if (ch_.ddgst() && !(cfg_.crc_offload && all_marked_)) {
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
  ++pdu_index_;
  h_->on_pdu(p);
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
