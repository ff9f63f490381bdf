// Descriptor rings between driver and NIC (§4.1 "Driver-NIC interface"). The send ring carries
// packets and offload context commands in one order, so a command takes effect exactly between
// the packets around it; the receive completion ring carries per-packet results.
#pragma once
#include <cstdint>
#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/frame.h"
#include "common/tcp_seq.h"
#include "l5o/l5o.h"

namespace autonic::nic {

struct SendDesc {
  enum class Kind : uint8_t {
    kPacket,      // frame; ctx != 0 => offload it with that context
    kCtxCreate,   // ctx, proto, dir, flow, tcpsn, state; outer != 0: an inner context on it
    kCtxDestroy,  // ctx
    kTxRecover,   // ctx, msg_start, msg_index, payload_pos, prefix (get_tx_msgstate answer)
                  // + the inner context's own recovery (inner_*), if it carries one
    kRxResyncResp,  // ctx, tcpsn, ok, msg_index, payload_pos
    kRrAdd,       // ctx, rr_id, rr
    kRrDel,       // ctx, rr_id
    kCtxUpdate,   // ctx, state: the static state from now on (l5o update)
  };
  Kind kind = Kind::kPacket;
  uint32_t ctx = 0;
  Bytes frame;
  // kPacket: TSO -- a TCP payload longer than this is cut into wire segments of at most this
  // many bytes (nic/tso.h; Linux skb_shinfo()->gso_size). 0: sent as it is.
  uint16_t gso_size = 0;
  // kPacket with ctx != 0: the protocol the driver bound it to, so a frame the NIC must drop
  // (its context is gone) is counted against the right L5P (tx_<proto>_drop_no_ctx).
  l5o::L5Proto proto{};
  // command fields
  l5o::Direction dir = l5o::Direction::kTx;
  FlowKey flow;
  TcpSeq tcpsn;
  std::shared_ptr<const l5o::L5State> state;
  TcpSeq msg_start;
  uint64_t msg_index = 0;
  Bytes prefix;
  bool ok = false;
  uint32_t rr_id = 0;
  l5o::RrState rr;
  // composed offloads
  uint32_t outer = 0;
  TcpSeq payload_pos;
  enum class InnerRecover : uint8_t { kNone, kFound, kToStart, kLost };
  InnerRecover inner = InnerRecover::kNone;
  TcpSeq inner_msg_start;
  uint64_t inner_msg_index = 0;
  TcpSeq inner_payload_pos;
  Bytes inner_prefix;
};

// Completion of a context command the driver waits for (the model's NIC runs commands when the
// doorbell rings, so the driver reads these right after it; mlx5 posts them on its ICOSQ's CQ),
// and the NIC's asynchronous events about contexts, on the same queue (mlx5's async EQ).
struct CmdCompletion {
  enum class Event : uint8_t {
    kDone,       // completion of command `kind` for ctx (kCtxCreate, kRrDel)
    kCtxLost,    // the NIC no longer holds ctx (evicted and not restorable): it processes nothing
                 // for it; frames bound to it are dropped
    kDevReset,   // device reset: every context and mapping is gone (Linux tls_device_down)
  };
  Event event = Event::kDone;
  SendDesc::Kind kind = SendDesc::Kind::kRrDel;
  uint32_t ctx = 0, rr_id = 0;
  bool ok = false;
  // kRrDel: see l5o::RrTeardown. kCtxLost: end of the last stream byte placed through any of
  // ctx's mappings (what the L5P must parse before it reuses their buffers).
  std::optional<TcpSeq> fence;
};

struct RxCompletion {
  Bytes frame;
  uint32_t ctx = 0;
  bool offloaded = false;            // the NIC's mark: decrypted / crc_ok
  // offloaded: the frame offset where the mark begins, 0 for the whole packet. Above the
  // payload's start, the bytes before it are unprocessed (the NIC offloaded from a message
  // header inside the packet, issue #15): the driver cuts the packet there.
  size_t mark_from = 0;
  std::optional<TcpSeq> resync_req;  // ask the L5P to confirm a header at this tcpsn
  // DDP: payload ranges the NIC already wrote to host buffers (payload offset, length, where).
  std::vector<PlacedRange> placed;
  // Composed offloads: the inner context's verdict on this packet's payload (e.g. NVMe crc_ok
  // inside TLS records the NIC decrypted) and its own resync request (inner-stream position).
  uint32_t inner_ctx = 0;
  bool inner_marked = false;
  size_t inner_mark_from = 0;  // as mark_from, for the inner mark (>= mark_from when nonzero)
  std::optional<TcpSeq> inner_resync_req;
};

// A descriptor ring: at most `capacity` entries, first in first out. Like a NIC's rings it
// is one array its entries are written into and read out of in place, so a steady stream of
// packets allocates nothing; unlike one it grows to the peak it has held (doubling, in powers of
// two, up to the capacity) instead of taking all of it up front, so an idle NIC holds a few
// entries, not 8192. (A std::deque, before, allocated and freed a block every three completions.)
// The producer's index and the consumer's are free-running counters on cache lines of their own,
// each written by one side only, as a NIC's producer and consumer indices: with the NIC model on
// a core of its own (common/core_hop.h) a push does not wait for the line the other side's pop
// just wrote. The producer re-reads the consumer's index only when the ring looks full.
template <typename T>
class Ring {
 public:
  explicit Ring(size_t capacity) : cap_(capacity) {}
  bool push(T&& v) {
    if (p_.tail - p_.seen_head >= std::min(cap_, buf_.size())) p_.seen_head = c_.head;
    const size_t n = p_.tail - p_.seen_head;
    if (n >= cap_) return false;
    if (n == buf_.size()) grow();
    buf_[p_.tail & (buf_.size() - 1)] = std::move(v);
    ++p_.tail;
    return true;
  }
  bool empty() const { return c_.head == p_.tail; }
  T pop() {
    T v = std::move(buf_[c_.head & (buf_.size() - 1)]);
    ++c_.head;
    return v;
  }
  size_t size() const { return p_.tail - c_.head; }
  const T& at(size_t i) const { return buf_[(c_.head + i) & (buf_.size() - 1)]; }  // i < size()
  const T& back() const { return buf_[(p_.tail - 1) & (buf_.size() - 1)]; }  // the entry pushed last
  const T* popped_last() const { return &buf_[(c_.head - 1) & (buf_.size() - 1)]; }  // its slot, moved from

 private:
  void grow() {  // the producer, with the ring full at its current size
    std::vector<T> b(buf_.empty() ? 16 : 2 * buf_.size());
    const size_t n = p_.tail - c_.head;
    for (size_t i = 0; i < n; ++i) b[i] = std::move(buf_[(c_.head + i) & (buf_.size() - 1)]);
    buf_.swap(b);
    c_.head = p_.seen_head = 0;
    p_.tail = n;
  }
  struct alignas(64) Producer {
    size_t tail = 0, seen_head = 0;
  };
  struct alignas(64) Consumer {
    size_t head = 0;
  };
  size_t cap_;
  std::vector<T> buf_;  // read by both sides, written only when it grows
  Producer p_;
  Consumer c_;
};

}  // namespace autonic::nic
