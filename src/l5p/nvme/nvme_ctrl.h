// NVMe/TCP controller (target, NVM subsystem `CtrlConfig::subnqn` with one namespace): Fabrics
// Connect (admin: a new controller, CNTLID; I/O: joins one), Property Get/Set (CAP, VS, CC,
// CSTS), the admin commands a Linux host sends (ctrl_admin.h), Read, Write (in-capsule or via
// R2T + H2CData), Flush, on a RAM- or file-backed namespace. Each accepted connection is one
// queue (qid from its Connect).
#pragma once
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "l5p/nvme/ctrl_fabrics.h"
#include "l5p/nvme/ctrl_state.h"
#include "l5p/nvme/nvme_queue.h"

namespace autonic::l5p::nvme {

inline constexpr uint32_t kIoccszBytes = 8192;  // in-capsule data we accept (IOCCSZ - 64 B SQE)
inline constexpr uint16_t kCntlid = 1;  // the first controller's; each admin Connect takes the next

class Namespace {
 public:
  // RAM-backed, filled with `fill(offset, span)`; or file-backed (created / sized as needed).
  static std::shared_ptr<Namespace> ram(uint64_t bytes, uint32_t lba_size);
  static std::shared_ptr<Namespace> file(const std::string& path, uint64_t bytes, uint32_t lba_size);
  ~Namespace();
  uint32_t lba_size() const { return lba_; }
  uint64_t nsze() const { return bytes_ / lba_; }
  uint64_t bytes() const { return bytes_; }
  // RAM namespaces expose their memory, so reads can be sent by reference (zero copy).
  std::shared_ptr<Bytes> memory() const { return ram_; }
  bool read(uint64_t off, MutByteSpan out) const;
  bool write(uint64_t off, ByteSpan in);

 private:
  uint32_t lba_ = 512;
  uint64_t bytes_ = 0;
  std::shared_ptr<Bytes> ram_;
  int fd_ = -1;
};

class NvmeController {
 public:
  NvmeController(std::shared_ptr<Namespace> ns, const QueueConfig& cfg, NvmeStats& st, CtrlConfig cc = {});
  ~NvmeController();
  void accept(std::unique_ptr<Transport> c);
  const std::string& failure() const { return failure_; }
  // Controllers (admin queues) connected now.
  size_t controllers() const { return ctrls_.size(); }
  // Connections held: the live ones, and those ended since the last accept().
  size_t connections() const { return conns_.size(); }

 private:
  class Conn;
  friend class Conn;
  std::shared_ptr<Namespace> ns_;
  QueueConfig cfg_;
  NvmeStats& st_;
  CtrlConfig ccfg_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::map<uint16_t, std::shared_ptr<CtrlState>> ctrls_;  // by CNTLID
  uint16_t next_cntlid_ = kCntlid;
  std::string failure_;
  FabricsReply attach_admin(const ConnectRequest& rq, std::shared_ptr<CtrlState>* out);
  FabricsReply attach_io(const ConnectRequest& rq, std::shared_ptr<CtrlState>* out);
};


}  // namespace autonic::l5p::nvme
