// NVMe/TCP controller (target): Fabrics Connect, Property Get/Set (CAP, VS, CC, CSTS), Identify
// (controller, namespace), Read, Write (in-capsule or via R2T + H2CData), Flush, on a RAM- or
// file-backed namespace. Each accepted connection is one queue (qid from its Connect).
#pragma once
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "l5p/nvme/nvme_queue.h"

namespace autonic::l5p::nvme {

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
  NvmeController(std::shared_ptr<Namespace> ns, const QueueConfig& cfg, NvmeStats& st);
  ~NvmeController();
  void accept(std::unique_ptr<Transport> c);
  const std::string& failure() const { return failure_; }

 private:
  class Conn;
  friend class Conn;
  std::shared_ptr<Namespace> ns_;
  QueueConfig cfg_;
  NvmeStats& st_;
  std::vector<std::unique_ptr<Conn>> conns_;
  uint32_t cc_ = 0, csts_ = 0;
  std::string failure_;
};

inline constexpr uint32_t kIoccszBytes = 8192;  // in-capsule data we accept (IOCCSZ - 64 B SQE)
inline constexpr uint16_t kCntlid = 1;

}  // namespace autonic::l5p::nvme
