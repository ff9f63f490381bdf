#include "apps/fio.h"

#include <algorithm>

#include "apps/pattern.h"

namespace autonic::apps {

uint64_t ns_pattern_seed(uint64_t seed) { return splitmix64(seed ^ 0x4E53ull); }
uint64_t write_pattern_seed(uint64_t seed) { return splitmix64(seed ^ 0x5752ull); }

Fio::Fio(l5p::nvme::NvmeHost& host, const Clock& clock, const FioConfig& cfg, CpuMeter* meter)
    : cfg_(cfg), host_(host), clock_(clock), rng_(cfg.seed, 0xF10), meter_(meter) {
  // fio allocates its I/O buffers (iodepth x bs) before the run starts; so do we. Allocated on
  // first use instead, each buffer's pages were faulted in by the kernel during the run and those
  // cycles charged to whichever host was running: at depth 128 x 256 KiB (32 MiB of buffers) they
  // were most of what made a deep queue look dearer per byte (fig10, issue #14).
  const uint64_t pool = std::min<uint64_t>(cfg_.depth, (256ull << 20) / std::max<uint32_t>(cfg_.io_size, 1));
  for (uint64_t i = 0; i < pool; ++i) free_bufs_.push_back(std::make_shared<Bytes>(cfg_.io_size));
}

void Fio::start() {
  // The namespace size is the controller's word: the region the workload tracks (one slot per
  // I/O) is bounded by what it was configured for, never by what a peer announces.
  const uint64_t ns_bytes = std::min(host_.nsze() * host_.lba_size(), cfg_.region_limit);
  if (cfg_.io_size == 0 || cfg_.io_size % host_.lba_size() != 0 || cfg_.io_size > ns_bytes) {
    failure = "fio:bad_io_size";
    return;
  }
  if (host_.max_transfer() && cfg_.io_size > host_.max_transfer()) {
    failure = "fio:io_size_exceeds_mdts";
    return;
  }
  slots_ = ns_bytes / cfg_.io_size;
  busy_.assign(slots_, 0);
  written_.assign(slots_, 0);
  prefilling_ = cfg_.prefill;
  t0_ = clock_.now();
  pump();
}

void Fio::pump() {
  // No deeper than the queues the controller granted (SQSIZE / MAXCMD): like a block layer, the
  // workload waits for a free slot rather than submitting what the queue cannot take.
  const size_t depth = std::min<size_t>(cfg_.depth, host_.capacity());
  while (!failure && inflight_ < depth) {
    if (prefilling_) {
      if (prefill_next_ < slots_) {
        issue(true, prefill_next_++, true);
        continue;
      }
      if (inflight_ > 0) return;
      prefilling_ = false;
      t0_ = clock_.now();  // the workload's time starts after the fill
    }
    if (!verifying_) {
      if (issued_bytes_ >= cfg_.bytes) {
        if (inflight_ > 0) return;
        main_seconds = double(clock_.now() - t0_) / 1e9;
        // Writes are verified by reading every written slot back.
        for (uint64_t s = 0; s < slots_; ++s)
          if (written_[s]) verify_list_.push_back(s);
        verifying_ = true;
        continue;
      }
      const bool random = cfg_.rw.rfind("rand", 0) == 0;
      bool write = cfg_.rw == "write" || cfg_.rw == "randwrite";
      if (cfg_.rw == "randrw") write = rng_.next() & 1;
      uint64_t slot = random ? rng_.below(slots_) : next_seq_++ % slots_;
      for (int tries = 0; busy_[slot] && tries < 64; ++tries) slot = random ? rng_.below(slots_) : next_seq_++ % slots_;
      if (busy_[slot]) return;  // everything nearby busy: wait for a completion
      issued_bytes_ += cfg_.io_size;
      issue(write, slot, false);
    } else {
      if (verify_pos_ == verify_list_.size()) {
        if (inflight_ == 0) finished_ = true;
        return;
      }
      issue(false, verify_list_[verify_pos_++], true);
    }
  }
}

void Fio::issue(bool write, uint64_t slot, bool verify_phase) {
  std::shared_ptr<Bytes> buf;
  // A buffer is reused only when nothing else references it (the NVMe layer lends it to TCP).
  for (auto& b : free_bufs_)
    if (b.use_count() == 1) { buf = b; break; }
  if (!buf) {
    buf = std::make_shared<Bytes>(cfg_.io_size);
    free_bufs_.push_back(buf);
  }
  const uint64_t off = slot * cfg_.io_size;
  if (write) {
    AppScope app(meter_);
    pattern_fill(write_pattern_seed(cfg_.seed), off, *buf);
  }
  busy_[slot] = 1;
  ++inflight_;
  const Nanos t = clock_.now();
  l5p::nvme::BlockIo io;
  io.write = write;
  io.slba = off / host_.lba_size();
  io.nlb = cfg_.io_size / host_.lba_size();
  io.buf = buf;
  io.done = [this, write, slot, verify_phase, t, buf, off](uint16_t status) {
    busy_[slot] = 0;
    --inflight_;
    if (status != 0) {
      if (!failure) failure = "nvme:io_error:status_" + std::to_string(status);
      return;
    }
    if (!verify_phase) {
      latencies_us.push_back(double(clock_.now() - t) / 1e3);
      ++ios;
    }
    if (write) {
      written_[slot] = 1;
      (verify_phase ? bytes_prefilled : bytes_written) += cfg_.io_size;
    } else {
      const uint64_t seed = written_[slot] ? write_pattern_seed(cfg_.seed) : ns_pattern_seed(cfg_.seed);
      AppScope app(meter_);
      wrong_bytes += pattern_mismatches(seed, off, *buf);
      if (!verify_phase) bytes_read_ok += cfg_.io_size;
    }
    pump();
  };
  if (!host_.submit(std::move(io))) {
    busy_[slot] = 0;
    --inflight_;
    if (!failure) failure = "nvme:submit_failed";
  }
}

}  // namespace autonic::apps
