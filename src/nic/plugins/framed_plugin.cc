#include "nic/plugins/framed_plugin.h"

namespace autonic::nic {
namespace {

class FramedFlow final : public PluginFlow {
 public:
  explicit FramedFlow(const l5p::framed::Key& k) : c_(k) {}
  void begin(uint64_t msg_index, TcpSeq, ByteSpan header, TcpSeq) override { c_.begin(msg_index, header); }
  void tx(uint32_t offset, ByteSpan in, MutByteSpan out) override { c_.tx(offset, in, out); }
  void rx(uint32_t offset, ByteSpan in, MutByteSpan out) override { c_.rx(offset, in, out); }
  bool rx_verify() override { return c_.verify(); }
  size_t context_bytes() const override { return l5p::framed::MsgCipher::kStateBytes; }

 private:
  l5p::framed::MsgCipher c_;
};

}  // namespace

std::optional<uint32_t> FramedPlugin::probe(ByteSpan hdr) const {
  const auto h = l5p::framed::parse_header(hdr);
  if (!h) return std::nullopt;
  return h->msg_len();
}

std::unique_ptr<PluginFlow> FramedPlugin::make_flow(const l5o::L5State& state, l5o::Direction) const {
  const auto& s = static_cast<const FramedL5State&>(state);
  return std::make_unique<FramedFlow>(s.key);
}

}  // namespace autonic::nic
