// The one place lwIP's global state is touched (STYLE.md habit 7). lwIP keeps its pcbs, timers
// and pools in globals, so one process hosts one testbed run; tests that need several runs fork.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/frame.h"
#include "common/prefetch.h"
#include "tcpip/demux_probe.h"
#include "tcpip/lwip.h"

namespace autonic::tcpip {

// pbuf flag bit carrying the NIC's offload mark (decrypted / crc_ok) up the stack, on the pbufs
// of the bytes it covers (a packet marked from inside is a chain cut there: make_rx_pbuf_chain).
// lwIP keeps per-pbuf flags when it queues, trims and chains segments, and never merges two
// pbufs' bytes, so marks of different byte ranges never mix (DESIGN.md "Facts established").
inline constexpr uint8_t kPbufFlagOffloaded = 0x40;
// Composed offloads: the inner L5P's mark (NVMe crc_ok inside TLS records the NIC decrypted).
inline constexpr uint8_t kPbufFlagInnerOk = 0x80;

// Initialises lwIP once for this process: clock for sys_now(), seed for ISNs.
void lwip_start(const Clock* clock, uint64_t seed);
void lwip_stop();
// lwIP is global: a run starts it first and stops it after everything using it is gone -- also
// when the run ends in an exception, since another run may follow in this process (fuzzing).
struct LwipInstance {
  LwipInstance(const Clock* clock, uint64_t seed) { lwip_start(clock, seed); }
  ~LwipInstance() { lwip_stop(); }
  LwipInstance(const LwipInstance&) = delete;
  LwipInstance& operator=(const LwipInstance&) = delete;
};
// Runs due lwIP timers; returns the clock time of the next one.
Nanos lwip_run_timers();

// Wraps a received frame's bytes in a custom pbuf (no copy: the NIC's receive buffer goes up
// the stack as a real driver's does). `offset` skips the Ethernet header.
pbuf* make_rx_pbuf(Bytes&& frame, size_t offset, bool offloaded);
// The NIC's marks on one received frame. A mark may begin inside the packet (issue #15: the
// NIC offloaded from a message header there): from / inner_from are frame offsets, 0 for the
// whole packet.
struct RxFrameMarks {
  bool offloaded = false;
  size_t from = 0;
  bool inner = false;
  size_t inner_from = 0;
  // The pbuf flags of the byte at frame offset `pos`. The inner mark stands only on bytes the
  // outer one covers (whatever the completion says).
  uint8_t flags_at(size_t pos) const {
    const bool outer = offloaded && pos >= from;
    return uint8_t((outer ? kPbufFlagOffloaded : 0) | (outer && inner && pos >= inner_from ? kPbufFlagInnerOk : 0));
  }
  bool whole() const { return from == 0 && inner_from == 0; }  // every byte carries the same flags
};
// The packet as a chain of pbufs over the frame (one allocation for all), cut where a mark
// begins -- each pbuf carries the flags of exactly its bytes, never a mark on a byte the NIC did
// not process -- and, for DDP, around the placed payload ranges, which become PBUF_REF pbufs
// pointing into the host buffers the NIC wrote them to (so the L5P's copy finds src == dst,
// §5.1). The placed ranges lie inside the marked bytes.
pbuf* make_rx_pbuf_chain(Bytes&& frame, size_t offset, const RxFrameMarks& marks, const std::vector<PlacedRange>& placed);
// True for the pbufs of make_rx_pbuf_chain whose payload is a placed range: the bytes live in the
// L5P's destination buffer (stable until the L5P lets go of it), not in the frame.
bool is_placed(const pbuf* p);
// Asks the caches for every line of p's payload (a hint; no-op for null, and for a placed range,
// which the L5P never reads: its copy finds src == dst). A parser that walks a received chain a
// piece at a time calls it for the next pbuf before it handles this one: what the NIC wrote sits
// in the L3 (DDIO), and a per-message loop between the copies otherwise lets the core's loads
// run dry at each message boundary -- where a plain copy of the chain keeps them in flight, and
// the hardware prefetcher with it.
inline void prefetch_payload(const pbuf* p) {
  if (p && !is_placed(p)) prefetch_lines(p->payload, p->len);
}

// One host's network interface inside the shared lwIP instance.
class HostNetif {
 public:
  using Output = std::function<err_t(pbuf*)>;  // an IPv4 packet to send
  using Input = std::function<void(pbuf*)>;
  // hw_csum: the NIC generates and checks TCP checksums, so lwIP must not.
  HostNetif(uint32_t ip_be, uint16_t mtu, bool hw_csum, Output out);
  ~HostNetif();
  HostNetif(const HostNetif&) = delete;
  HostNetif& operator=(const HostNetif&) = delete;
  netif* raw() { return &nif_; }
  void set_prefix(uint8_t prefix_len);  // the on-link subnet (default /24)
  void input(pbuf* p);  // hands an IPv4 packet to lwIP (takes ownership)
  void export_stats(CounterMap& m) const { demux_.export_to(m); }
  // TSO: connections on this interface build TCP segments of up to `bytes` of payload (a whole
  // multiple of their wire MSS) for the NIC to cut (Linux: the device's gso_max_size). lwIP has a
  // single MSS per connection, so TcpConn raises it to this once the handshake has fixed the
  // wire MSS (tcp_conn.h). 0: off. The MTU -- and the MSS option lwIP sends -- stay the wire's.
  void set_tso(uint32_t bytes) { tso_ = bytes; }
  uint32_t tso() const { return tso_; }
  // The TSO size of the interface a connection is bound to (0: none, or not one of ours).
  static uint32_t tso_of(const tcp_pcb* pcb);

 private:
  static err_t output_trampoline(netif* n, pbuf* p, const ip4_addr_t* dst);
  netif nif_{};
  Output out_;
  uint32_t tso_ = 0;
  DemuxProbe demux_;
};

}  // namespace autonic::tcpip
