// NIC plug-in for NVMe/TCP (§5.1): magic = PDU type + the header length fixed for that type +
// plen >= hlen + a consistent data offset; per PDU: CRC32C data digest computed (TX) or checked
// (RX) over the data; C2HData payload placed straight into the buffer registered for its command
// (rr_state: CID -> buffer) -- copy offload.
#pragma once
#include "nic/engine/plugin.h"
#include "proto/nvme/nvme_l5_state.h"

namespace autonic::nic {

class NvmePlugin final : public Plugin {
 public:
  l5o::L5Proto proto() const override { return l5o::L5Proto::kNvmeTcp; }
  size_t header_len() const override { return 8; }
  std::optional<uint32_t> probe(ByteSpan hdr) const override;
  bool rx_transforms() const override { return false; }  // digests checked, payload untouched
  std::unique_ptr<PluginFlow> make_flow(const l5o::L5State& state, l5o::Direction dir) const override;
};

}  // namespace autonic::nic
