// A fio-like block workload on the NVMe/TCP host: read | write | randread | randwrite | randrw,
// fixed I/O size, queue depth, total bytes. Every read is checked against what the namespace must
// hold (its initial pattern, or the write pattern once a slot was written); writes are verified
// by reading every written slot back at the end. Never two I/Os on one slot at once.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/cpu_meter.h"
#include "common/rng.h"
#include "l5p/nvme/nvme_host.h"

namespace autonic::apps {

struct FioConfig {
  std::string rw = "randread";
  uint32_t io_size = 4096;
  uint32_t depth = 1;
  uint64_t bytes = 1 << 20;
  uint64_t seed = 1;
  uint64_t region_limit = 64ull << 30;  // bytes of the namespace the workload may use at most
  // A namespace whose content we did not put there (a real target): write the region once,
  // sequentially, before the workload, so that every read has something to be checked against.
  bool prefill = false;
};

// What a namespace holds before any write, and what the workload writes.
uint64_t ns_pattern_seed(uint64_t seed);
uint64_t write_pattern_seed(uint64_t seed);

class Fio {
 public:
  Fio(l5p::nvme::NvmeHost& host, const Clock& clock, const FioConfig& cfg, CpuMeter* meter = nullptr);
  void start();
  bool done() const { return finished_ || failure.has_value(); }
  std::optional<std::string> failure;
  uint64_t wrong_bytes = 0, bytes_read_ok = 0, bytes_written = 0, ios = 0, bytes_prefilled = 0;
  double main_seconds = 0;
  std::vector<double> latencies_us;

 private:
  void pump();
  void issue(bool write, uint64_t slot, bool verify_phase);
  FioConfig cfg_;
  l5p::nvme::NvmeHost& host_;
  const Clock& clock_;
  Rng rng_;
  uint64_t slots_ = 0, next_seq_ = 0, issued_bytes_ = 0, inflight_ = 0;
  std::vector<uint8_t> busy_, written_;
  std::vector<uint64_t> verify_list_;
  size_t verify_pos_ = 0;
  bool verifying_ = false, finished_ = false, prefilling_ = false;
  uint64_t prefill_next_ = 0;
  Nanos t0_ = 0;
  std::vector<std::shared_ptr<Bytes>> free_bufs_;
  CpuMeter* meter_;
};

}  // namespace autonic::apps
