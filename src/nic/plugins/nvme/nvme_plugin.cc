#include "nic/plugins/nvme/nvme_plugin.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <cstring>

#include "nic/engine/engine_stats.h"
#include "proto/nvme/nvme_pdu.h"

namespace autonic::nic {
namespace {

using namespace proto::nvme;  // PDU formats and parse_common, the one framing rule

// The NIC's own CRC32C (ISA-L, the iSCSI polynomial NVMe/TCP digests use): running, uninverted
// register; the digest on the wire is its complement, little-endian (NVMe/TCP "PDU digests").
uint32_t nic_crc32c(uint32_t crc, ByteSpan data) {
  if (data.empty()) return crc;
  return crc32_iscsi(const_cast<uint8_t*>(data.data()), int(data.size()), crc);
}

class NvmeFlow final : public PluginFlow {
 public:
  NvmeFlow(const NvmeL5State& s, bool tx) : st_(s), tx_(tx) {}

  void attach(RrMap* rr, OffloadStats* stats) override {
    rr_ = rr;
    stats_ = stats;
  }
  std::vector<Placement>* placements() override { return &placements_; }
  bool uses_rr() const override { return !tx_ && st_.ddp; }

  void begin(uint64_t, TcpSeq msg_start, ByteSpan header, TcpSeq) override {
    // The engine begins a message only at a header probe() accepted: the same parser as the
    // L5P's, so data lies exactly where the queue will look for it.
    parse_common(header, &h_);
    msg_start_ = msg_start;
    std::copy(header.begin(), header.begin() + long(std::min(header.size(), spec_.size())), spec_.begin());
    crc_ = kCrcInit;
    recv_ = 0;
    data_start_ = h_.pdo;
    data_end_ = h_.pdo + h_.data_len();
    hdgst_ok_ = !h_.hdgst();  // without a header digest there is nothing to check
    hdgst_recv_ = 0;
    reg_ = 0;
    dead_ = false;
  }
  void tx(uint32_t offset, ByteSpan in, MutByteSpan out) override { walk(offset, in, out); }
  void rx(uint32_t offset, ByteSpan in, MutByteSpan out) override { walk(offset, in, out); }
  bool rx_verify() override {
    if (!h_.ddgst() || data_end_ <= data_start_) return true;
    return recv_ == ~crc_;
  }
  // NIC context memory (the common header and cursor are the engine's): the PDU-specific
  // header fields DDP steers by (CID, TTAG, data offset, data length: 16), the running CRC32C
  // of the data (4), the received data digest (4) and header digest (4) gathered across
  // packets, the registration placing this PDU (4) and the host buffer address it places at
  // (8). With cursor (32) and resync state (37): 109 B a context.
  size_t context_bytes() const override { return 16 + 4 + 4 + 4 + 4 + 8; }

 private:
  void walk(uint32_t offset, ByteSpan in, MutByteSpan out) {
    if (out.data() != in.data()) std::memcpy(out.data(), in.data(), in.size());  // no transform
    // Common case first: the whole range is PDU data (a segment inside a large C2HData).
    if (data_end_ > data_start_ && offset >= data_start_ && offset + in.size() <= data_end_) return data(offset, in);
    size_t i = 0;
    while (i < in.size()) {
      const uint32_t o = offset + uint32_t(i);
      if (o < h_.hlen) {  // PDU-specific header: keep what DDP needs (CID, data offset)
        const size_t n = std::min<size_t>(h_.hlen - o, in.size() - i);
        for (size_t j = 0; j < n; ++j)
          if (o + j < spec_.size()) spec_[o + j] = in[i + j];
        i += n;
      } else if (h_.hdgst() && o < uint32_t(h_.hlen) + kDigestLen) {
        // The header digest covers the CID and data offset DDP steers by: a header whose digest
        // fails is placed nowhere (the L5P then fails the connection on it).
        // Checked only where it steers a placement: never on TX, nor for PDUs DDP leaves alone.
        hdgst_recv_ |= uint32_t(in[i]) << (8 * (o - h_.hlen));
        if (o + 1 == uint32_t(h_.hlen) + kDigestLen && places()) {
          hdgst_ok_ = hdgst_recv_ == ~nic_crc32c(kCrcInit, ByteSpan(spec_.data(), h_.hlen));
          if (!hdgst_ok_ && stats_) ++stats_->rx_ddp_hdgst_skip;
        }
        ++i;
      } else if (data_end_ > data_start_ && o >= data_start_ && o < data_end_) {
        const size_t n = std::min<size_t>(data_end_ - o, in.size() - i);
        data(o, in.subspan(i, n));
        i += n;
      } else if (h_.ddgst() && data_end_ > data_start_ && o >= data_end_ && o < h_.plen) {
        const uint32_t k = o - data_end_;
        if (tx_) {
          out[i] = uint8_t(~crc_ >> (8 * k));  // little-endian ~crc32c
        } else {
          recv_ |= uint32_t(in[i]) << (8 * k);
        }
        ++i;
      } else {
        ++i;  // header digest / padding: passed through
      }
    }
  }

  // PDU data at PDU offset `o`: into the data digest; RX, placed (copy offload).
  void data(uint32_t o, ByteSpan piece) {
    crc_ = nic_crc32c(crc_, piece);
    if (tx_) {
      if (stats_) stats_->tx_crc_bytes += piece.size();
    } else {
      if (stats_) stats_->rx_crc_bytes += piece.size();
      place(o - data_start_, piece);
    }
  }

  // DDP applies to this PDU: a C2HData on a receive flow that places (its header, hlen 24, is
  // all in spec_).
  bool places() const { return !tx_ && st_.ddp && rr_ && h_.type == uint8_t(PduType::kC2HData); }

  // Copy offload: C2HData payload goes straight to the buffer registered for its command.
  // Placement is valid only while the L5P holds the request (§5.1): the registration found at
  // the PDU's first data byte must still be the live one for every packet -- a pointer kept
  // across packets would outlive a del_rr_state issued between them.
  void place(uint32_t data_off, ByteSpan piece) {
    if (!places() || dead_ || !hdgst_ok_) return;
    const uint16_t cid = le16(&spec_[8]);
    const uint32_t datao = le32(&spec_[12]);
    auto it = rr_->find(cid);
    if (it == rr_->end() || (reg_ != 0 && it->second.id != reg_)) {
      if (reg_ != 0 && stats_) ++stats_->rx_ddp_stale;  // deleted / replaced mid-PDU
      dead_ = true;  // the rest of this PDU goes up as it came: software copies it
      return;
    }
    const MutByteSpan dest = it->second.rr.dest;
    if (uint64_t(datao) + h_.data_len() > dest.size()) {  // out of range: leave it to software
      dead_ = true;
      return;
    }
    reg_ = it->second.id;
    uint8_t* dst = dest.data() + datao + data_off;
    std::memcpy(dst, piece.data(), piece.size());
    const TcpSeq end = msg_start_ + (data_start_ + data_off + uint32_t(piece.size()));
    if (!it->second.placed_end || *it->second.placed_end < end) it->second.placed_end = end;
    placements_.push_back(Placement{piece.data(), piece.size(), dst});
    if (stats_) stats_->rx_ddp_bytes += piece.size();
  }

  NvmeL5State st_;
  bool tx_;
  RrMap* rr_ = nullptr;
  TcpSeq msg_start_;
  OffloadStats* stats_ = nullptr;
  CommonHeader h_{};
  uint32_t crc_ = kCrcInit, recv_ = 0, data_start_ = 0, data_end_ = 0;
  std::array<uint8_t, 24> spec_{};
  bool hdgst_ok_ = true, dead_ = false;
  uint32_t hdgst_recv_ = 0;
  uint32_t reg_ = 0;  // the registration this PDU places into (0: none yet)
  std::vector<Placement> placements_;
};

}  // namespace

std::optional<uint32_t> NvmePlugin::probe(ByteSpan hdr) const {
  CommonHeader h{};
  if (parse_common(hdr, &h) != HeaderError::kNone) return std::nullopt;
  // ICReq/ICResp only open a connection: never a message the offload sees.
  if (h.type == uint8_t(PduType::kICReq) || h.type == uint8_t(PduType::kICResp)) return std::nullopt;
  return h.plen;
}

std::unique_ptr<PluginFlow> NvmePlugin::make_flow(const l5o::L5State& state, l5o::Direction dir) const {
  return std::make_unique<NvmeFlow>(static_cast<const NvmeL5State&>(state), dir == l5o::Direction::kTx);
}

std::unique_ptr<Plugin> make_nvme_plugin() { return std::make_unique<NvmePlugin>(); }

}  // namespace autonic::nic
