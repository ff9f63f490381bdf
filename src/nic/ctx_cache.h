// Bounded on-NIC context cache (§6.5: the paper's NIC held ~20K contexts of 208 B in 4 MiB).
// All contexts live in host memory; the cache models which are on the NIC. A miss costs a
// context read over PCIe (fetch), an eviction a write-back of the victim's dynamic state: both
// counted, their sum in nic_ctx_dma_bytes. Two replacement policies a NIC can afford in
// hardware: LRU (a recency list) and CLOCK (second chance: one reference bit per slot and a
// hand sweeping the slots, the cheap approximation of LRU).
//
// Compact: only cached contexts hold a slot (flat vector, intrusive index-linked LRU list, a
// hash index id -> slot); a context never touched costs one bit (the cold-miss bitmap).
#pragma once
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/counters.h"

namespace autonic::nic {

enum class CtxPolicy : uint8_t { kLru, kClock };
const char* ctx_policy_name(CtxPolicy p);
// "lru" / "clock"; false if neither.
bool parse_ctx_policy(std::string_view s, CtxPolicy* out);

struct CtxCacheStats {
  uint64_t hits = 0, misses = 0;
  uint64_t cold_misses = 0;  // first touch of a context since its creation (compulsory)
  uint64_t evictions = 0;
  uint64_t fetch_bytes = 0;      // misses: contexts read from host memory
  uint64_t writeback_bytes = 0;  // evictions: state written back to host memory
};

class ContextCache {
 public:
  explicit ContextCache(size_t capacity_bytes, CtxPolicy policy = CtxPolicy::kLru)
      : capacity_(capacity_bytes), policy_(policy) {}
  // The NIC uses context `id` (`bytes` of state): a hit, or a miss that fetches it (evicting
  // as many victims as its bytes need).
  void touch(uint32_t id, size_t bytes);
  // The context is destroyed: its slot is freed without a write-back, and its next touch (a
  // new context under the same id) is cold again.
  void remove(uint32_t id);
  // Called with each victim's id after its eviction (the write-back): the owner parks the
  // context's state (drops what only a cached context needs).
  void set_evict_hook(std::function<void(uint32_t id)> fn) { on_evict_ = std::move(fn); }
  void export_to(CounterMap& m) const;
  const CtxCacheStats& stats() const { return st_; }
  uint64_t hits() const { return st_.hits; }
  uint64_t misses() const { return st_.misses; }
  uint64_t evictions() const { return st_.evictions; }
  size_t cached() const { return index_.size(); }
  size_t used_bytes() const { return used_; }
  bool contains(uint32_t id) const { return index_.count(id) != 0; }
  // Heap the cache's own structures hold (slots, index, cold bitmap): the model's cost.
  size_t heap_bytes() const;

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  struct Slot {
    uint32_t id = 0;
    uint32_t bytes = 0;
    uint32_t prev = kNil, next = kNil;  // LRU list (head = most recent); next also links free slots
    bool live = false;
    bool ref = false;  // CLOCK reference bit
  };
  void hit(uint32_t s);
  void evict_one();
  uint32_t lru_victim() const { return tail_; }
  uint32_t clock_victim();
  void unlink(uint32_t s);
  void push_front(uint32_t s);
  uint32_t alloc_slot();
  void free_slot(uint32_t s);
  bool seen(uint32_t id) const { return id < seen_.size() && seen_[id]; }

  size_t capacity_;
  CtxPolicy policy_;
  size_t used_ = 0;
  size_t max_ctx_bytes_ = 0;
  std::vector<Slot> slots_;
  uint32_t head_ = kNil, tail_ = kNil, free_ = kNil;
  uint32_t hand_ = 0;  // CLOCK
  std::unordered_map<uint32_t, uint32_t> index_;  // cached id -> slot
  std::vector<bool> seen_;                        // touched since creation (by id)
  CtxCacheStats st_;
  std::function<void(uint32_t id)> on_evict_;
};

}  // namespace autonic::nic
