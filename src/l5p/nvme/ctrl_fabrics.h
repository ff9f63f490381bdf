// The controller's Fabrics commands (NVMe over Fabrics 1.1 §3.3 Connect, §3.4 Property Get,
// §3.5 Property Set) as pure checks and state changes; which controller a Connect creates or
// joins is NvmeController's business (nvme_ctrl.cc). Linux 6.1 counterparts:
// drivers/nvme/target/fabrics-cmd.c (nvmet_execute_admin_connect, nvmet_execute_io_connect,
// nvmet_execute_prop_get/set) and core.c (nvmet_update_cc, nvmet_start_ctrl).
#pragma once
#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "l5p/nvme/ctrl_state.h"

namespace autonic::l5p::nvme {

struct FabricsReply {
  uint16_t status = 0;
  uint64_t dw0 = 0;
};

struct ConnectRequest {
  uint16_t qid = 0, sqsize = 0, cntlid = 0;  // sqsize 0-based; cntlid from the Connect data
  uint8_t cattr = 0;
  uint32_t kato_ms = 0;
  std::string subnqn, hostnqn;
};

// Connect Invalid Parameters' DW0 names the offending field: IATTR (bit 16) 1 = in the Connect
// data, 0 = in the SQE; IPO = its byte offset (nvmet IPO_IATTR_CONNECT_DATA / _SQE).
inline constexpr uint32_t ipo_data(uint32_t off) { return 1u << 16 | off; }
inline constexpr uint32_t kMqes = 255;  // CAP.MQES: 256 entries per queue (0-based)

// Checks a Connect capsule against this subsystem; status 0 = fill `out` and go on.
FabricsReply parse_connect(const CtrlConfig& cfg, const uint8_t* sqe, ByteSpan data, ConnectRequest* out);
FabricsReply property_get(const CtrlState& st, const uint8_t* sqe);
// A CC write; *disabled: the controller was reset or shut down (held AERs end).
FabricsReply property_set(CtrlState& st, const uint8_t* sqe, bool* disabled);

}  // namespace autonic::l5p::nvme
