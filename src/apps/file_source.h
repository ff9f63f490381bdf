// Where the file server's files come from (issue #14, the paper's C1 and C2, §6.3): the page
// cache (every file in memory, C2) or a remote NVMe/TCP namespace read per request (C1, the
// paper's ext4 with read-ahead set to the file size: one read of the whole file). File n is the
// namespace's bytes [n * size, (n + 1) * size), so a client checks a body against the
// namespace's pattern whichever source served it.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "l5p/nvme/nvme_host.h"

namespace autonic::apps {

struct FileSet {
  uint64_t count = 64;
  uint32_t size = 65536;
  uint64_t ns_seed = 0;  // the namespace's pattern (apps/pattern.h, ns_pattern_seed)
  uint64_t offset(uint64_t file) const { return file * size; }
};

class FileSource {
 public:
  // The file's bytes, or an error; may be called before fetch returns (cache) or later (NVMe).
  using Done = std::function<void(std::shared_ptr<const Bytes> data, const std::string& err)>;
  virtual ~FileSource() = default;
  virtual void fetch(uint64_t file, Done done) = 0;
};

// C2: the files in memory, built once from the namespace's pattern.
class CachedFiles final : public FileSource {
 public:
  explicit CachedFiles(const FileSet& fs);
  void fetch(uint64_t file, Done done) override;

 private:
  std::vector<std::shared_ptr<const Bytes>> files_;
};

// C1: each request reads its file from the NVMe/TCP namespace in one I/O (files are at most
// kMaxIoBytes) into a fresh buffer: with the copy offload the NIC places the data there.
class NvmeFiles final : public FileSource {
 public:
  NvmeFiles(l5p::nvme::NvmeHost& host, const FileSet& fs) : host_(host), fs_(fs) {}
  void fetch(uint64_t file, Done done) override;
  uint64_t ios = 0, io_errors = 0;

 private:
  void submit_waiting();
  l5p::nvme::NvmeHost& host_;
  FileSet fs_;
  std::deque<l5p::nvme::BlockIo> waiting_;  // I/Os the queues had no room for yet
};

}  // namespace autonic::apps
