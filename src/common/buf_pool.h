// Buffers recycled instead of freed, one pool per kind, process-wide (single-threaded, like the
// rest of the model) and bounded (beyond the bound a buffer goes back to the allocator).
//  - msg_pool(): an L5P's receive path takes one when a message starts and gives it back when
//    the message is consumed, so an idle connection holds none and a busy one reuses warm memory
//    without a malloc per message (issue #13: 128K connections may hold the records in progress,
//    not a 16 KiB buffer each; issue #12: no per-record allocation on the RX fast path).
//  - frame_pool(): wire frames, as a NIC driver's page_pool recycles its receive pages (mlx5: the
//    RX ring's pages go back to the pool when the stack frees the skb). The host that frees a
//    received frame gives its buffer back and a NIC that builds a frame takes one; before, the
//    receiving host paid glibc's free() per packet, its coalescing driven by the other domains'
//    allocations (issue #12: 70-120 host cycles a 2 KiB record on RX, more for the TLS offload
//    than for plain TCP with the same packets).
#pragma once
#include <utility>
#include <vector>

#include "common/bytes.h"

namespace autonic {

class BufPool {
 public:
  // keep_size: give() keeps a buffer's size, so the next taker's resize() to a size no larger
  // clears nothing (buffers written whole before they are read: see scratch_pool()).
  explicit BufPool(size_t max, bool keep_size = false) : max_(max), keep_size_(keep_size) {}
  // An empty buffer, with the capacity of one given back earlier if there is one (keep_size:
  // with its size too, and the bytes it held).
  Bytes take() {
    if (free_.empty()) return Bytes();
    Bytes b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  // Keeps b's memory for the next taker (up to the bound; beyond it, freed). b is left empty.
  void give(Bytes& b) {
    if (b.capacity() != 0 && free_.size() < max_) {
      if (!keep_size_) b.clear();
      free_.push_back(std::move(b));
    }
    b = Bytes();
  }

 private:
  std::vector<Bytes> free_;
  size_t max_;
  bool keep_size_;
};

// Enough for every message in progress at once across the active flows.
inline BufPool& msg_pool() {
  static BufPool p(1024);
  return p;
}
// Buffers an L5P writes whole before it reads them (software TLS's decrypted records): taken
// with the size they were given back with, so resizing one to the next record's length clears
// no byte. (From msg_pool(), emptied, every resize() cleared the whole record before the
// decryption overwrote it: a memset of every byte software TLS received, which no recv() path
// has -- it made software TLS look dearer than it is; issue #12, callgrind.)
inline BufPool& scratch_pool() {
  static BufPool p(64, /*keep_size=*/true);
  return p;
}
// A few socket buffers' worth of frames in flight.
inline BufPool& frame_pool() {
  static BufPool p(1024);
  return p;
}

// Super-segments the driver DMAs out of the host's pbufs (TSO: up to 64 KiB): the NIC gives a
// buffer back once it has cut it into wire frames, and the driver's next DMA takes it. Apart
// from frame_pool() so 64 KiB buffers are not handed out for 1.5 KiB frames; as a NIC's TX
// buffers, never memory the host's own allocations reuse (with the NIC model on its own core, a
// freed super-segment's lines are in the other core's cache).
inline BufPool& dma_pool() {
  static BufPool p(64);
  return p;
}

}  // namespace autonic
