// The static NVMe/TCP offload state the queue hands to the NIC through l5o create (§5.1): the
// digests negotiated in ICReq/ICResp and whether C2HData may be placed (copy offload). Lives
// below both the L5P and the NIC model so neither has to include the other.
#pragma once
#include "l5o/l5o.h"

namespace autonic::proto::nvme {

struct NvmeL5State final : l5o::L5State {
  NvmeL5State(bool hd, bool dd, bool place) : L5State(l5o::L5Proto::kNvmeTcp), hdgst(hd), ddgst(dd), ddp(place) {}
  bool hdgst, ddgst, ddp;
};

}  // namespace autonic::proto::nvme
