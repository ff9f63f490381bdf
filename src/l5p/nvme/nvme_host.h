// NVMe/TCP host (initiator): brings up an admin queue (Connect, CAP/VS, CC.EN, CSTS.RDY,
// Identify controller + namespace) and one I/O queue, then offers an asynchronous block API.
// Reads register their buffer with the NIC (add_rr_state) before the command goes out so the
// NIC can place C2HData straight there; the CID is reused only after the mapping is removed.
#pragma once
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "l5p/nvme/identify.h"
#include "l5p/nvme/nvme_queue.h"

namespace autonic::l5p::nvme {

// What the CLI (`autonic nvme connect --nqn Q`) sets; the defaults are what the testbed ran with.
struct HostConfig {
  std::string subnqn = "nqn.2026-11.io.autonic:ram";   // the subsystem to connect to
  std::string hostnqn = "nqn.2026-11.io.autonic:host";
  std::array<uint8_t, 16> hostid{};                     // Connect data HOSTID
  uint32_t nsid = 1;                                    // the namespace the block API addresses
  uint16_t sqsize = 127;  // Connect SQSIZE, 0-based (Linux: NVMF_DEF_QUEUE_SIZE 128 - 1)
  // Connect KATO (ms). 0: no keep-alive -- nvmet then runs no keep-alive timer for the
  // controller (nvmet_start_keep_alive_timer returns at kato 0), so a long run is never cut off.
  uint32_t kato_ms = 0;
  // Keep every write within one H2CData PDU: with data digests, I/Os are limited to the
  // controller's MAXH2CDATA (max_transfer()). For a target that checks a data digest over the
  // whole command, not per PDU (Linux 6.1 nvmet does, when one R2T is answered by several
  // H2CData). Off by default, as in a Linux host (nvme_tcp_try_send_data splits an R2T into
  // PDUs of MAXH2CDATA): nvmet itself offers MAXH2CDATA 4 MiB (NVMET_TCP_MAXH2CDATA), above
  // any I/O we issue (kMaxIoBytes), so with it the split never happens; a controller offering
  // less (ours: 128 KiB) checks each PDU's digest, as NVMe/TCP 1.0 §3.6.2.x DDGST says.
  bool one_h2c_per_r2t = false;
};

// The largest transfer one PDU of ours carries and our parser accepts (kMaxPdu bounds plen;
// nvmet sends a read's data as one C2HData): I/Os are kept at or below it.
inline constexpr uint64_t kMaxIoBytes = 2u << 20;

struct BlockIo {
  bool write = false;
  uint64_t slba = 0;
  uint32_t nlb = 0;                  // number of blocks (1-based)
  std::shared_ptr<Bytes> buf;        // nlb * lba_size bytes; lent until completion
  std::function<void(uint16_t status)> done;
};

class NvmeHost {
 public:
  // Start-up, one admin command at a time: NVMe base spec 2.0 §3.5.1 "Controller
  // Initialization" as NVMe over Fabrics 1.1 §3.3 (Connect) and §3.5 (Property Get/Set) do it,
  // on NVMe/TCP 1.0 queues (each connection opens with ICReq/ICResp, the queue's own work).
  enum class InitState : uint8_t {
    kIdle,          // start() not called yet
    kAdminConnect,  // admin queue up (ICResp in): Fabrics Connect, QID 0, CNTLID FFFFh
    kReadCap,       // Property Get CAP (offset 00h): MQES, timeouts; MDTS is in CAP.MPSMIN units
    kReadVs,        // Property Get VS (08h)
    kEnable,        // Property Set CC (14h), EN = 1
    kWaitReady,     // Property Get CSTS (1Ch): RDY must be 1
    kIdentifyCtrl,  // Identify CNS 01h: MDTS, I/O command sets
    kIdentifyNs,    // Identify CNS 00h, NSID 1: NSZE, LBA format
    kIoConnect,     // per I/O queue (QID 1..n): a connection, ICReq, Fabrics Connect
    kReady,         // every I/O queue connected: on_ready called, submit() takes I/O
  };
  static const char* init_state_name(InitState s);

  using Connect = std::function<std::unique_ptr<Transport>()>;  // a new queue's connection
  // io_queues: I/O queues to bring up (each its own connection and offload contexts, as a
  // Linux host has one per CPU); I/Os go to the least busy one.
  NvmeHost(Connect connect, const QueueConfig& admin_cfg, const QueueConfig& io_cfg, NvmeStats& st,
           std::function<void()> on_ready, std::function<void(const std::string&)> on_failed,
           unsigned io_queues = 1, HostConfig hc = {});
  ~NvmeHost();
  void start();
  // Sends a Keep Alive on the admin queue (once ready). With HostConfig::kato_ms > 0 the caller
  // calls it at least every kato_ms / 2 (Linux: nvme_keep_alive_work); false if not sent.
  bool keep_alive();
  // Submits an I/O on the I/O queue; false if all CIDs are in use.
  bool submit(BlockIo io);
  uint32_t lba_size() const { return lba_size_; }
  uint64_t nsze() const { return nsze_; }
  // Largest I/O to submit (Identify MDTS; and kMaxIoBytes and, for writes with data digests,
  // MAXH2CDATA); 0 = no limit.
  uint64_t max_transfer() const { return max_transfer_; }
  uint16_t cntlid() const { return cntlid_; }
  size_t inflight() const;
  // Commands the I/O queues hold at once (the controller's queue depth times the queues).
  size_t capacity() const { return queue_depth_ ? size_t(queue_depth_) * io_.size() : SIZE_MAX; }
  InitState init_state() const { return init_state_; }

 private:
  class Queue;
  void admin_step();
  void set_init_state(InitState s) { init_state_ = s; }
  static InitState next_init_state(InitState s);
  Connect connect_;
  QueueConfig admin_cfg_, io_cfg_;
  HostConfig hc_;
  NvmeStats& st_;
  std::function<void()> on_ready_;
  std::function<void(const std::string&)> on_failed_;
  std::unique_ptr<Queue> admin_;
  std::vector<std::unique_ptr<Queue>> io_;
  unsigned io_queues_ = 1;
  InitState init_state_ = InitState::kIdle;
  uint32_t lba_size_ = 512;
  uint64_t nsze_ = 0;
  uint16_t cntlid_ = 0;
  uint64_t cap_ = 0, max_transfer_ = 0;
  uint32_t incap_max_ = 0;      // in-capsule write data the I/O queues take (IOCCSZ)
  uint16_t queue_depth_ = 0;    // commands outstanding per I/O queue at most (SQSIZE, MAXCMD)
  std::optional<std::string> set_limits(const CtrlInfo& ci);
};

}  // namespace autonic::l5p::nvme
