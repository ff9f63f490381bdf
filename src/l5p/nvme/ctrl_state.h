// The controller side's configuration and per-controller state (one per CNTLID: what an admin
// queue's Fabrics Connect creates and its I/O queues attach to), and the NVMe status values the
// controller answers with. Linux references are to v6.1 (drivers/nvme/target, "nvmet").
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace autonic::l5p::nvme {

// What the CLI (`autonic nvme target --nqn Q`) sets; the defaults are what the testbed ran with.
struct CtrlConfig {
  std::string subnqn = "nqn.2026-11.io.autonic:ram";
  // I/O queues one controller may connect (Linux opens one per CPU; nvmet: NVMET_NR_QUEUES 128).
  uint16_t max_io_queues = 128;
  // MAXCMD: commands outstanding per I/O queue (Linux clamps its sqsize to it, nvme_tcp_setup_ctrl).
  uint16_t maxcmd = 128;
};

// NVMe Base 2.0 §3.1.3.2 "Discovery Controller": its well-known NQN. We run no discovery
// service, so a Connect to it is refused like any unknown subsystem (Connect Invalid Parameters).
inline constexpr const char* kDiscoveryNqn = "nqn.2014-08.org.nvmexpress.discovery";

// Status field values (CQE DW3 bits 31:17, as kSc* in proto/nvme: SC 7:0, SCT 10:8, DNR 14).
inline constexpr uint16_t kDnr = 0x4000;
inline constexpr uint16_t kScInternalError = 0x06, kScAbortSqDeletion = 0x08, kScInvalidNs = 0x0B,
                          kScCmdSeqError = 0x0C;
// Command Specific (SCT 1): Base 2.0 Fig. 103, NVMe-oF 1.1 Fig. 34 (Connect).
inline constexpr uint16_t kScInvalidQid = 0x101, kScAerLimit = 0x105, kScFeatNotSaveable = 0x10D,
                          kScConnectFormat = 0x180, kScConnectInvalidParam = 0x182;

// Admin command opcodes a Linux host sends (Base 2.0 Fig. 139).
inline constexpr uint8_t kOpGetLogPage = 0x02, kOpAbort = 0x08, kOpSetFeatures = 0x09, kOpGetFeatures = 0x0A,
                         kOpAsyncEvent = 0x0C, kOpKeepAlive = 0x18;
// Feature identifiers (Base 2.0 Fig. 317).
inline constexpr uint8_t kFidTempThreshold = 0x04, kFidNumQueues = 0x07, kFidAsyncEventCfg = 0x0B,
                         kFidKeepAliveTimer = 0x0F;
inline constexpr uint8_t kAerl = 3;           // AERL: 4 Asynchronous Event Requests held at most
inline constexpr uint32_t kOaes = 1u << 8;    // OAES: Namespace Attribute Notices
inline constexpr uint16_t kKas = 10;          // KAS: 100 ms units (nvmet NVMET_KAS)

struct CtrlState {
  uint16_t cntlid = 0;
  std::string hostnqn;
  uint32_t cc = 0, csts = 0;
  uint32_t kato_ms = 0;          // Connect KATO / Set Features Keep Alive Timer
  uint32_t aec = 0;              // Asynchronous Event Configuration
  bool queues_set = false;       // Set Features Number of Queues done
  uint16_t nsqa = 0, ncqa = 0;   // I/O queues granted (0-based)
  uint16_t temp_threshold = 0x0157;  // 343 K: the default over-temperature threshold
  std::set<uint16_t> io_qids;    // connected I/O queues
  std::vector<uint16_t> aers;    // Asynchronous Event Requests held (admin queue CIDs)
  uint64_t keep_alives = 0;
  // SMART / Health Information (log 02h) counts.
  uint64_t read_cmds = 0, write_cmds = 0, read_units = 0, write_units = 0;  // units: 512 B
  bool enabled() const { return (cc & 1) && (csts & 1); }
};

}  // namespace autonic::l5p::nvme
