#include "nic/ctx_cache.h"

#include <algorithm>

namespace autonic::nic {

const char* ctx_policy_name(CtxPolicy p) { return p == CtxPolicy::kClock ? "clock" : "lru"; }

bool parse_ctx_policy(std::string_view s, CtxPolicy* out) {
  if (s == "lru") *out = CtxPolicy::kLru;
  else if (s == "clock") *out = CtxPolicy::kClock;
  else return false;
  return true;
}

void ContextCache::touch(uint32_t id, size_t bytes) {
  max_ctx_bytes_ = std::max(max_ctx_bytes_, bytes);
  if (auto it = index_.find(id); it != index_.end()) return hit(it->second);
  ++st_.misses;
  if (!seen(id)) {
    ++st_.cold_misses;
    if (id >= seen_.size()) seen_.resize(std::max<size_t>(size_t(id) + 1, seen_.size() * 2));
    seen_[id] = true;
  }
  st_.fetch_bytes += bytes;  // fetch the context from host memory
  while (!index_.empty() && used_ + bytes > capacity_) evict_one();
  const uint32_t s = alloc_slot();
  Slot& e = slots_[s];
  e.id = id;
  e.bytes = uint32_t(bytes);
  e.live = true;
  // CLOCK: a new entry starts without its reference bit (it has been used once: the fetch),
  // so a context touched once is the first to go; LRU: it is the most recent.
  e.ref = false;
  if (policy_ == CtxPolicy::kLru) push_front(s);
  index_.emplace(id, s);
  used_ += bytes;
}

void ContextCache::hit(uint32_t s) {
  ++st_.hits;
  if (policy_ == CtxPolicy::kClock) {
    slots_[s].ref = true;
    return;
  }
  unlink(s);
  push_front(s);
}

void ContextCache::evict_one() {
  const uint32_t s = policy_ == CtxPolicy::kLru ? lru_victim() : clock_victim();
  Slot& v = slots_[s];
  used_ -= v.bytes;
  st_.writeback_bytes += v.bytes;  // write back its dynamic state
  ++st_.evictions;
  const uint32_t id = v.id;
  index_.erase(id);
  if (policy_ == CtxPolicy::kLru) unlink(s);
  free_slot(s);
  if (on_evict_) on_evict_(id);
}

// Second chance: the hand passes over live slots, clearing reference bits, and stops at the
// first live slot whose bit is clear. Terminates: after one sweep every bit is clear.
uint32_t ContextCache::clock_victim() {
  for (;;) {
    if (hand_ >= slots_.size()) hand_ = 0;
    Slot& e = slots_[hand_];
    const uint32_t s = hand_++;
    if (!e.live) continue;
    if (e.ref) {
      e.ref = false;
      continue;
    }
    return s;
  }
}

void ContextCache::unlink(uint32_t s) {
  Slot& e = slots_[s];
  (e.prev == kNil ? head_ : slots_[e.prev].next) = e.next;
  (e.next == kNil ? tail_ : slots_[e.next].prev) = e.prev;
  e.prev = e.next = kNil;
}

void ContextCache::push_front(uint32_t s) {
  Slot& e = slots_[s];
  e.prev = kNil;
  e.next = head_;
  (head_ == kNil ? tail_ : slots_[head_].prev) = s;
  head_ = s;
}

uint32_t ContextCache::alloc_slot() {
  if (free_ != kNil) {
    const uint32_t s = free_;
    free_ = slots_[s].next;
    slots_[s].next = kNil;
    return s;
  }
  slots_.emplace_back();
  return uint32_t(slots_.size() - 1);
}

void ContextCache::free_slot(uint32_t s) {
  Slot& e = slots_[s];
  e.live = false;
  e.ref = false;
  e.prev = kNil;
  e.next = free_;
  free_ = s;
}

void ContextCache::remove(uint32_t id) {
  if (id < seen_.size()) seen_[id] = false;
  auto it = index_.find(id);
  if (it == index_.end()) return;
  const uint32_t s = it->second;
  used_ -= slots_[s].bytes;
  if (policy_ == CtxPolicy::kLru) unlink(s);
  free_slot(s);
  index_.erase(it);
}

size_t ContextCache::heap_bytes() const {
  // unordered_map: one node (next pointer + pair, rounded) per entry plus its bucket array.
  const size_t node = sizeof(void*) + sizeof(std::pair<const uint32_t, uint32_t>) + 8;
  return slots_.capacity() * sizeof(Slot) + index_.size() * node + index_.bucket_count() * sizeof(void*) +
         seen_.capacity() / 8;
}

void ContextCache::export_to(CounterMap& m) const {
  add_counter(m, "nic_ctx_cache_hits", st_.hits);
  add_counter(m, "nic_ctx_cache_misses", st_.misses);
  add_counter(m, "nic_ctx_cache_cold_misses", st_.cold_misses);
  add_counter(m, "nic_ctx_cache_evictions", st_.evictions);
  add_counter(m, "nic_ctx_fetch_bytes", st_.fetch_bytes);
  add_counter(m, "nic_ctx_writeback_bytes", st_.writeback_bytes);
  add_counter(m, "nic_ctx_dma_bytes", st_.fetch_bytes + st_.writeback_bytes);
  add_counter(m, "nic_ctx_bytes", max_ctx_bytes_);
  add_counter(m, "nic_ctx_cache_capacity_bytes", capacity_);
}

}  // namespace autonic::nic
