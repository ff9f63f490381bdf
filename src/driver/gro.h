// Generic receive offload in the driver (Linux napi_gro_receive / tcp4_gro_receive): within one
// NAPI batch, consecutive in-sequence TCP segments of one flow are merged into one large segment
// for lwIP -- one pass through IP and TCP input for up to 64 KiB -- as a chain of the packets'
// own pbufs (no copy: every packet's payload stays where the NIC wrote it, and keeps its pbuf).
//
// The offload rule (paper §4.3; Linux tcp_gro_receive flushes when skb->decrypted differs, and
// when the ULP DDP / CRC state differs): segments merge only if they carry the same offload marks
// (NIC processed: tcpip::kPbufFlagOffloaded; inner L5P's mark: kPbufFlagInnerOk), so the L5P's
// per-byte-range classification is exactly what it would be packet by packet. A held segment is
// handed up at a mark change, a gap, a segment that is not plain data (PSH ends it; SYN, FIN,
// RST, URG or no payload are never merged; nor is a packet whose marks begin inside it, issue
// #15), different ACK / options / IP fields, the size limit, and the batch end (flush()).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "common/counters.h"
#include "common/frame.h"
#include "tcpip/lwip_glue.h"

namespace autonic::driver {

struct GroStats {
  uint64_t rx_gro_packets = 0;  // packets handed up inside a merged segment (mlx5 rx_gro_packets)
  uint64_t rx_gro_skbs = 0;     // merged segments (of >= 2 packets) handed up (rx_gro_skbs)
  uint64_t rx_gro_bytes = 0;    // their payload bytes
  uint64_t rx_gro_flush_mark = 0;  // a held segment ended because the next one's marks differed (or changed inside it)
};

class Gro {
 public:
  using Deliver = std::function<void(pbuf*)>;  // an IPv4 packet (pbuf chain) for lwIP
  // max_len: largest IPv4 total length of a merged segment (lwIP's pbuf lengths are 16-bit).
  explicit Gro(Deliver deliver, size_t max_len = 65535) : deliver_(std::move(deliver)), max_len_(max_len) {}
  ~Gro();
  Gro(const Gro&) = delete;
  Gro& operator=(const Gro&) = delete;
  // Takes a received IPv4 packet: a pbuf chain whose first pbuf starts at the IPv4 header and
  // holds the whole IPv4 + TCP header; each pbuf carries the marks of its bytes.
  void receive(pbuf* p);
  // Batch end: every held segment goes up.
  void flush();
  const GroStats& stats() const { return st_; }
  void export_stats(CounterMap& m) const;

  static constexpr uint8_t kMarkFlags = tcpip::kPbufFlagOffloaded | tcpip::kPbufFlagInnerOk;
  static constexpr size_t kMaxFlows = 8;  // Linux: GRO_HASH_BUCKETS

 private:
  struct Seg;  // a parsed TCP/IPv4 packet (gro.cc)
  struct Held {
    FlowKey key;
    pbuf* head;  // the first packet's chain, later packets' payloads linked after `last`
    pbuf* last;  // (tot_len is set along the chain once, when it goes up: appends stay O(1))
    TcpSeq next;  // sequence number a segment must start at to join
    size_t ip_len;  // IPv4 total length so far
    size_t payload;  // TCP payload bytes so far
    size_t packets;
  };
  void up(Held& h);  // hands a held segment to lwIP
  bool can_join(const Held& h, const Seg& s) const;
  Deliver deliver_;
  size_t max_len_;
  std::vector<Held> held_;
  GroStats st_;
};

}  // namespace autonic::driver
