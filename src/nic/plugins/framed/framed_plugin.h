// NIC plug-in for the framed L5P: magic/length probe and the keystream + CRC32C transform
// (the NIC's own implementation, framed_transform.h).
#pragma once
#include "nic/engine/plugin.h"
#include "proto/framed/framed_l5_state.h"
#include "proto/framed/framed_wire.h"

namespace autonic::nic {

class FramedPlugin final : public Plugin {
 public:
  l5o::L5Proto proto() const override { return l5o::L5Proto::kFramed; }
  size_t header_len() const override { return proto::framed::kHeaderLen; }
  std::optional<uint32_t> probe(ByteSpan hdr) const override;
  std::unique_ptr<PluginFlow> make_flow(const l5o::L5State& state, l5o::Direction dir) const override;
};

}  // namespace autonic::nic
