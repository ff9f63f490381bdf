#include "nic/ctx_cache.h"

#include <algorithm>

namespace autonic::nic {

void ContextCache::touch(uint32_t id, size_t bytes) {
  max_ctx_bytes_ = std::max(max_ctx_bytes_, bytes);
  auto it = map_.find(id);
  if (it != map_.end()) {
    ++hits_;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  ++misses_;
  dma_bytes_ += bytes;  // fetch the context from host memory
  while (!lru_.empty() && used_ + bytes > capacity_) {
    const Entry& victim = lru_.back();
    used_ -= victim.bytes;
    dma_bytes_ += victim.bytes;  // write back its dynamic state
    ++evictions_;
    map_.erase(victim.id);
    lru_.pop_back();
  }
  lru_.push_front(Entry{id, bytes});
  map_[id] = lru_.begin();
  used_ += bytes;
}

void ContextCache::remove(uint32_t id) {
  auto it = map_.find(id);
  if (it == map_.end()) return;
  used_ -= it->second->bytes;
  lru_.erase(it->second);
  map_.erase(it);
}

void ContextCache::export_to(CounterMap& m) const {
  add_counter(m, "nic_ctx_cache_hits", hits_);
  add_counter(m, "nic_ctx_cache_misses", misses_);
  add_counter(m, "nic_ctx_cache_evictions", evictions_);
  add_counter(m, "nic_ctx_dma_bytes", dma_bytes_);
  add_counter(m, "nic_ctx_bytes", max_ctx_bytes_);
  add_counter(m, "nic_ctx_cache_capacity_bytes", capacity_);
}

}  // namespace autonic::nic
