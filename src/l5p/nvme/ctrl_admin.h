// The controller's admin command set, as a Linux 6.1 host uses it after Connect (drivers/nvme/
// host/core.c: nvme_init_ctrl_finish, nvme_scan_work, nvme_start_keep_alive, nvme_enable_aen,
// nvme_hwmon_init): Identify (CNS 00h, 01h, 02h, 03h, 06h), Set/Get Features (Number of Queues,
// Asynchronous Event Configuration, Keep Alive Timer, Temperature Threshold), Get Log Page
// (error information, SMART, firmware slots, changed namespaces, commands supported and
// effects), Asynchronous Event Request (held), Keep Alive, Abort. Everything else: Invalid
// Opcode / Invalid Field, never silence. Pure functions of the command and the controller's
// state: the queue (nvme_ctrl.cc) moves the bytes.
#pragma once
#include <cstdint>
#include <memory>

#include "common/bytes.h"
#include "l5p/nvme/ctrl_state.h"

namespace autonic::l5p::nvme {

class Namespace;

struct AdminReply {
  uint16_t status = 0;
  uint64_t dw0 = 0;
  std::shared_ptr<Bytes> data;  // sent as C2HData before the response
  bool hold = false;            // an Asynchronous Event Request: answered later (or aborted)
};

AdminReply execute_admin(const CtrlConfig& cfg, CtrlState& st, const Namespace& ns, const uint8_t* sqe);

// Identify data structures (4096 bytes). ioccsz_bytes: in-capsule data we accept per command.
// MDTS (Identify Controller byte 77): the largest transfer a command may ask for, 2^MDTS pages
// of CAP.MPSMIN (4 KiB): 2 MiB. A command beyond it is refused (Invalid Field), so one 72-byte
// capsule never makes the controller stage more (at 65 536 blocks of 512 bytes it was 32 MiB).
inline constexpr uint8_t kMdts = 9;
inline constexpr uint64_t kMaxTransferBytes = uint64_t(4096) << kMdts;

Bytes identify_ctrl_data(const CtrlConfig& cfg, uint16_t cntlid, uint32_t ioccsz_bytes);
Bytes identify_ns_data(const CtrlConfig& cfg, const Namespace& ns);
// Namespace 1's NGUID: stable for a subsystem NQN (Linux rejects two namespaces with one ID).
void ns_nguid(const CtrlConfig& cfg, uint8_t out[16]);

}  // namespace autonic::l5p::nvme
