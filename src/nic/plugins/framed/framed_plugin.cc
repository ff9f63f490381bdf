#include "nic/plugins/framed/framed_plugin.h"

#include "nic/plugins/framed/framed_transform.h"

namespace autonic::nic {
namespace {

class FramedFlow final : public PluginFlow {
 public:
  explicit FramedFlow(const proto::framed::Key& k) : t_(k) {}
  void begin(uint64_t msg_index, TcpSeq, ByteSpan header, TcpSeq) override { t_.begin(msg_index, header); }
  void tx(uint32_t offset, ByteSpan in, MutByteSpan out) override { t_.tx(offset, in, out); }
  void rx(uint32_t offset, ByteSpan in, MutByteSpan out) override { t_.rx(offset, in, out); }
  bool rx_verify() override { return t_.verify(); }
  size_t context_bytes() const override { return FramedTransform::kContextBytes; }

 private:
  FramedTransform t_;
};

}  // namespace

std::optional<uint32_t> FramedPlugin::probe(ByteSpan hdr) const {
  const auto h = proto::framed::parse_header(hdr);
  if (!h) return std::nullopt;
  return h->msg_len();
}

std::unique_ptr<PluginFlow> FramedPlugin::make_flow(const l5o::L5State& state, l5o::Direction) const {
  const auto& s = static_cast<const proto::framed::FramedL5State&>(state);
  return std::make_unique<FramedFlow>(s.key);
}

std::unique_ptr<Plugin> make_framed_plugin() { return std::make_unique<FramedPlugin>(); }

}  // namespace autonic::nic
