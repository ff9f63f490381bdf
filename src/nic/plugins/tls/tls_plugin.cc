#include "nic/plugins/tls/tls_plugin.h"

#include <algorithm>
#include <cstring>

#include "nic/plugins/tls/gcm_stream.h"

namespace autonic::nic {
namespace {

using namespace proto::tls;  // record framing and nonce rule (RFC 8446 §5.2, §5.3)

class TlsFlow final : public PluginFlow {
 public:
  TlsFlow(const TlsL5State& s, bool encrypt)
      : keys_(s.keys), start_seq_(s.start_seq), gcm_(s.keys.key), encrypt_(encrypt) {}

  void set_inner(InnerEngine* inner) override { inner_ = inner; }

  void begin(uint64_t msg_index, TcpSeq, ByteSpan header, TcpSeq payload_pos) override {
    payload_pos_ = payload_pos;
    uint8_t nonce[12];
    record_nonce(keys_.iv, start_seq_ + msg_index, nonce);
    data_end_ = uint32_t(kHeaderLen + load_be16(&header[3]) - kTagLen);
    gcm_.begin(nonce, header, encrypt_);
    tag_done_ = false;
  }
  void tx(uint32_t offset, ByteSpan in, MutByteSpan out) override {
    size_t i = 0;
    if (offset < data_end_) {
      i = std::min<size_t>(data_end_ - offset, in.size());
      if (inner_) {
        // Composed offload: the inner L5P works on the plaintext first (NVMe fills its
        // digests), then it is encrypted -- TX order "NVMe then TLS".
        if (out.data() != in.data()) std::memcpy(out.data(), in.data(), i);
        to_inner(offset, out.first(i));
        gcm_.update(out.first(i), out.first(i));
      } else {
        gcm_.update(in.first(i), out.first(i));
      }
    }
    if (i < in.size()) {
      if (!tag_done_) {
        gcm_.final_tag(tag_);
        tag_done_ = true;
      }
      for (; i < in.size(); ++i) out[i] = tag_[offset + i - data_end_];
    }
  }
  void rx(uint32_t offset, ByteSpan in, MutByteSpan out) override {
    size_t i = 0;
    if (offset < data_end_) {
      i = std::min<size_t>(data_end_ - offset, in.size());
      gcm_.update(in.first(i), out.first(i));
      if (inner_) {
        to_inner(offset, out.first(i));  // RX order "TLS then NVMe"
        if (offset + i == data_end_) last_plain_ = out[i - 1];  // the inner content type, unless padded
      }
    }
    for (; i < in.size(); ++i) {
      tag_[offset + i - data_end_] = in[i];
      out[i] = in[i];
    }
  }
  bool rx_verify() override {
    const bool ok = gcm_.check_tag(tag_);
    // A zero where the content type belongs means padding (RFC 8446 §5.4): the padding went to
    // the inner engine as payload, so its positions no longer match the inner L5P's.
    if (ok && inner_ && last_plain_ == 0) inner_->on_broken();
    return ok;
  }
  size_t context_bytes() const override {
    // key + iv + record seq + GCM dynamic state (H, Y, GHASH acc, lengths, held partial block,
    // its keystream) + tag: what a NIC keeps per TLS flow.
    return keys_.key.size() + 12 + 8 + 6 * 16 + 16;
  }
 private:
  // Hands the content part of [offset, offset + bytes.size()) to the inner engine. The record's
  // content is taken to end one byte before the tag, at the inner content type (RFC 8446 §5.2).
  // A padded record (§5.4: the OpenSSL peer with block padding, or a hostile peer) breaks that
  // guess -- its type byte and zeros reach the inner engine as payload -- so rx_verify() tells
  // the inner engine its positions are broken, and the L5P (which finds the type byte itself)
  // stops trusting inner marks from the first padded record on.
  void to_inner(uint32_t offset, MutByteSpan bytes) {
    const uint32_t lo = std::max<uint32_t>(offset, uint32_t(kHeaderLen));
    const uint32_t hi = std::min<uint32_t>(offset + uint32_t(bytes.size()), data_end_ - 1);
    if (lo >= hi) return;
    inner_->on_payload(payload_pos_ + (lo - uint32_t(kHeaderLen)), bytes.subspan(lo - offset, hi - lo));
  }

  TrafficKeys keys_;
  uint64_t start_seq_;
  GcmStream gcm_;
  bool encrypt_;
  uint32_t data_end_ = 0;
  bool tag_done_ = false;
  uint8_t tag_[16] = {};
  InnerEngine* inner_ = nullptr;
  TcpSeq payload_pos_;
  uint8_t last_plain_ = 0;
};

}  // namespace

std::optional<uint32_t> TlsPlugin::probe(ByteSpan hdr) const {
  uint16_t len = 0;
  if (check_header(hdr, &len) != HeaderCheck::kOk) return std::nullopt;
  return uint32_t(kHeaderLen + len);
}

uint32_t TlsPlugin::payload_len(ByteSpan hdr) const {
  // TLS 1.3: the record's content is its encrypted length minus the type byte and the tag.
  const uint32_t len = load_be16(&hdr[3]);
  return len > kTagLen ? len - uint32_t(kTagLen) - 1 : 0;
}

std::unique_ptr<PluginFlow> TlsPlugin::make_flow(const l5o::L5State& state, l5o::Direction dir) const {
  return std::make_unique<TlsFlow>(static_cast<const TlsL5State&>(state), dir == l5o::Direction::kTx);
}

std::unique_ptr<Plugin> make_tls_plugin() { return std::make_unique<TlsPlugin>(); }

}  // namespace autonic::nic
