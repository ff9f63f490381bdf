// Wire-frame buffers recycled, as a NIC driver's page_pool recycles its receive pages (mlx5:
// the RX ring's pages go back to the pool when the stack frees the skb): the host that frees a
// received frame hands its buffer back instead of returning it to the allocator, and a NIC that
// builds a frame takes one. Without it the receiving host paid glibc's free() per packet --
// coalescing and consolidation driven by the other domains' allocations (issue #12 measured
// 70-120 host cycles a 2 KiB record on RX, and more for the TLS offload than for plain TCP with
// the same packets). Single-threaded, like the rest of the model; bounded, so a burst's frames
// return to the allocator.
#pragma once
#include <utility>
#include <vector>

#include "common/bytes.h"

namespace autonic {

namespace frame_pool_detail {
constexpr size_t kMaxFrames = 1024;
inline std::vector<Bytes>& pool() {
  static std::vector<Bytes> p;
  return p;
}
}  // namespace frame_pool_detail

// A frame buffer of n bytes (zeroed, as a fresh one), recycled when one is there.
inline Bytes frame_take(size_t n) {
  auto& p = frame_pool_detail::pool();
  if (p.empty()) return Bytes(n);
  Bytes b = std::move(p.back());
  p.pop_back();
  b.resize(n);
  return b;
}

// Gives a frame's buffer back (b is left empty).
inline void frame_give(Bytes&& b) {
  auto& p = frame_pool_detail::pool();
  if (b.capacity() == 0 || p.size() >= frame_pool_detail::kMaxFrames) {
    Bytes().swap(b);
    return;
  }
  b.clear();
  p.push_back(std::move(b));
}

}  // namespace autonic
