// Bounded on-NIC context cache (§6.5: the paper's NIC held ~20K contexts of 208 B in 4 MiB).
// All contexts live in host memory; the cache models which are on the NIC. A miss costs a
// context read over PCIe, an eviction a write-back: both counted in nic_ctx_dma_bytes.
#pragma once
#include <cstdint>
#include <list>
#include <unordered_map>

#include "common/counters.h"

namespace autonic::nic {

class ContextCache {
 public:
  explicit ContextCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}
  void touch(uint32_t id, size_t bytes);
  void remove(uint32_t id);
  void export_to(CounterMap& m) const;
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t evictions() const { return evictions_; }

 private:
  struct Entry { uint32_t id; size_t bytes; };
  size_t capacity_;
  size_t used_ = 0;
  size_t max_ctx_bytes_ = 0;
  std::list<Entry> lru_;  // front = most recent
  std::unordered_map<uint32_t, std::list<Entry>::iterator> map_;
  uint64_t hits_ = 0, misses_ = 0, evictions_ = 0, dma_bytes_ = 0;
};

}  // namespace autonic::nic
