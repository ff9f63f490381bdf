#include "tcpip/demux_probe.h"

#include <x86intrin.h>

#include "tcpip/pcb_hash.h"

namespace autonic::tcpip {

void DemuxProbe::on_input(const pbuf* p, const netif* inp) {
  if (++seen_ % kSampleEvery != 0) return;
  // IPv4 + TCP headers in the first pbuf (the driver hands them so); anything else: not sampled.
  PcbTuple t;
  if (!segment_tuple(p, &t)) return;
  const uint32_t src = t.remote_ip, dst = t.local_ip;  // network order, as lwIP keeps addresses
  const uint16_t sport = t.remote_port, dport = t.local_port;
  const uint8_t idx = netif_get_index(inp);
  const uint64_t t0 = __rdtsc();
  uint64_t n = 0;
  // tcp_input's tests, in its order: bound to another netif, then ports and addresses.
  for (const tcp_pcb* pcb = tcp_active_pcbs; pcb; pcb = pcb->next) {
    ++n;
    if (pcb->netif_idx != NETIF_NO_INDEX && pcb->netif_idx != idx) continue;
    if (pcb->remote_port == sport && pcb->local_port == dport && ip_2_ip4(&pcb->remote_ip)->addr == src &&
        ip_2_ip4(&pcb->local_ip)->addr == dst)
      break;
  }
  cycles_ += __rdtsc() - t0;
  pcbs_ += n;
  ++samples_;
}

void DemuxProbe::export_to(CounterMap& m) const {
  add_counter(m, "lwip_demux_samples", samples_);
  add_counter(m, "lwip_demux_pcbs", pcbs_);
  add_counter(m, "lwip_demux_cycles", cycles_);
  add_counter(m, "lwip_demux_buckets", pcb_hash_buckets());  // 1: lwIP's own single list
}

}  // namespace autonic::tcpip
