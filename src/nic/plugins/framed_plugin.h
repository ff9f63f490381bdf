// NIC plug-in for the framed L5P: magic/length probe and the keystream + CRC32C transform.
#pragma once
#include "l5p/framed/framed_cipher.h"
#include "nic/engine/plugin.h"

namespace autonic::nic {

// Static state the framed L5P hands to l5o create.
struct FramedL5State final : l5o::L5State {
  explicit FramedL5State(l5p::framed::Key k) : L5State(l5o::L5Proto::kFramed), key(k) {}
  l5p::framed::Key key;
};

class FramedPlugin final : public Plugin {
 public:
  l5o::L5Proto proto() const override { return l5o::L5Proto::kFramed; }
  size_t header_len() const override { return l5p::framed::kHeaderLen; }
  std::optional<uint32_t> probe(ByteSpan hdr) const override;
  std::unique_ptr<PluginFlow> make_flow(const l5o::L5State& state, l5o::Direction dir) const override;
};

}  // namespace autonic::nic
