#include "apps/file_source.h"

#include "apps/pattern.h"

namespace autonic::apps {

CachedFiles::CachedFiles(const FileSet& fs) {
  files_.reserve(fs.count);
  for (uint64_t f = 0; f < fs.count; ++f) {
    auto b = std::make_shared<Bytes>(fs.size);
    pattern_fill(fs.ns_seed, fs.offset(f), *b);
    files_.push_back(std::move(b));
  }
}

void CachedFiles::fetch(uint64_t file, Done done) {
  if (file >= files_.size()) return done(nullptr, "no such file");
  done(files_[file], {});
}

void NvmeFiles::fetch(uint64_t file, Done done) {
  const uint32_t lba = host_.lba_size();
  if (file >= fs_.count) return done(nullptr, "no such file");
  if (lba == 0 || fs_.size % lba || fs_.offset(file + 1) > host_.nsze() * lba)
    return done(nullptr, "file outside the namespace");
  l5p::nvme::BlockIo io;
  io.slba = fs_.offset(file) / lba;
  io.nlb = fs_.size / lba;
  io.buf = std::make_shared<Bytes>(fs_.size);
  io.done = [this, buf = io.buf, done = std::move(done)](uint16_t status) {
    if (status != 0) {
      ++io_errors;
      done(nullptr, "nvme read status " + std::to_string(status));
    } else {
      done(buf, {});
    }
    submit_waiting();  // a CID is free again
  };
  ++ios;
  waiting_.push_back(std::move(io));
  submit_waiting();
}

void NvmeFiles::submit_waiting() {
  while (!waiting_.empty()) {
    if (host_.submit(waiting_.front())) {
      waiting_.pop_front();
    } else if (host_.inflight() == 0 && host_.init_state() == l5p::nvme::NvmeHost::InitState::kReady) {
      // Refused with every queue empty: not for want of a CID, so it never will be taken.
      auto io = std::move(waiting_.front());
      waiting_.pop_front();
      io.done(0xFFFF);
    } else {
      return;  // taken once a command completes
    }
  }
}

}  // namespace autonic::apps
