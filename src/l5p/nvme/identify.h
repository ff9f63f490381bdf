// What the host takes from a controller's Identify data, validated before use (NVMe Base
// Specification, "Identify Controller" / "Identify Namespace" data structures). A controller
// must not decide the host's arithmetic: every field is range-checked against what this host
// supports, and anything else fails the connect with a reason.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.h"

namespace autonic::l5p::nvme {

inline constexpr size_t kIdentifyLen = 4096;

struct CtrlInfo {
  uint64_t max_transfer = 0;  // bytes per command (MDTS); 0 = no limit
  uint16_t cntlid = 0;
  // Fabrics fields (NVMe-oF 1.1 §4.1 / Base 2.0 Fig. 275) a Linux host checks too.
  uint16_t maxcmd = 0, kas = 0, icdoff = 0;
  uint32_t sgls = 0, ioccsz = 0, iorcsz = 0;
};

struct NsInfo {
  uint64_t nsze = 0;      // blocks
  uint32_t lba_size = 0;  // bytes, a power of two in [512, 4096]
};

// cap: the controller's CAP property (MPSMIN, bits 51:48, scales MDTS).
// nullopt on success, else what is wrong ("identify_ctrl_mdts", ...).
std::optional<std::string> parse_identify_ctrl(ByteSpan d, uint64_t cap, CtrlInfo* out);
std::optional<std::string> parse_identify_ns(ByteSpan d, NsInfo* out);

}  // namespace autonic::l5p::nvme
