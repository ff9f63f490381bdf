#include "nic/plugins/nvme_plugin.h"

#include <algorithm>
#include <cstring>

#include "l5p/nvme/nvme_pdu.h"
#include "nic/engine/engine_stats.h"

namespace autonic::nic {
namespace {

using namespace l5p::nvme;

class NvmeFlow final : public PluginFlow {
 public:
  NvmeFlow(const NvmeL5State& s, bool tx) : st_(s), tx_(tx) {}

  void attach(const RrMap* rr, OffloadStats* stats) override {
    rr_ = rr;
    stats_ = stats;
  }
  std::vector<Placement>* placements() override { return &placements_; }

  void begin(uint64_t, ByteSpan header, TcpSeq) override {
    parse_common(header, &h_);
    crc_ = kCrcInit;
    recv_ = 0;
    data_start_ = h_.pdo;
    data_end_ = h_.pdo ? h_.plen - (h_.ddgst() ? uint32_t(kDigestLen) : 0) : 0;
    spec_.fill(0);
    dst_ = nullptr;
  }
  void tx(uint32_t offset, ByteSpan in, MutByteSpan out) override { walk(offset, in, out); }
  void rx(uint32_t offset, ByteSpan in, MutByteSpan out) override { walk(offset, in, out); }
  bool rx_verify() override {
    if (!h_.ddgst() || data_end_ <= data_start_) return true;
    return recv_ == ~crc_;
  }
  size_t context_bytes() const override { return 8 /*hdr*/ + 16 /*cid,datao*/ + 4 + 4 + 8; }

 private:
  void walk(uint32_t offset, ByteSpan in, MutByteSpan out) {
    if (out.data() != in.data()) std::memcpy(out.data(), in.data(), in.size());  // no transform
    size_t i = 0;
    while (i < in.size()) {
      const uint32_t o = offset + uint32_t(i);
      if (o < h_.hlen) {  // PDU-specific header: keep what DDP needs (CID, data offset)
        const size_t n = std::min<size_t>(h_.hlen - o, in.size() - i);
        for (size_t j = 0; j < n; ++j)
          if (o + j < spec_.size()) spec_[o + j] = in[i + j];
        i += n;
      } else if (data_end_ > data_start_ && o >= data_start_ && o < data_end_) {
        const size_t n = std::min<size_t>(data_end_ - o, in.size() - i);
        ByteSpan piece = in.subspan(i, n);
        crc_ = crc_update(crc_, piece);
        if (tx_) {
          if (stats_) stats_->tx_crc_bytes += n;
        } else {
          if (stats_) stats_->rx_crc_bytes += n;
          place(o - data_start_, piece);
        }
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

  // Copy offload: C2HData payload goes straight to the buffer registered for its command.
  void place(uint32_t data_off, ByteSpan piece) {
    if (!st_.ddp || !rr_ || h_.type != uint8_t(PduType::kC2HData)) return;
    if (!dst_) {
      const uint16_t cid = le16(&spec_[8]);
      const uint32_t datao = le32(&spec_[12]);
      auto it = rr_->find(cid);
      if (it == rr_->end()) return;
      const MutByteSpan dest = it->second.dest;
      const uint32_t dlen = h_.data_len();
      if (uint64_t(datao) + dlen > dest.size()) return;  // out of range: leave it to software
      dst_ = dest.data() + datao;
    }
    std::memcpy(dst_ + data_off, piece.data(), piece.size());
    placements_.push_back(Placement{piece.data(), piece.size(), dst_ + data_off});
    if (stats_) stats_->rx_ddp_bytes += piece.size();
  }

  NvmeL5State st_;
  bool tx_;
  const RrMap* rr_ = nullptr;
  OffloadStats* stats_ = nullptr;
  CommonHeader h_{};
  uint32_t crc_ = kCrcInit, recv_ = 0, data_start_ = 0, data_end_ = 0;
  std::array<uint8_t, 24> spec_{};
  uint8_t* dst_ = nullptr;
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

}  // namespace autonic::nic
