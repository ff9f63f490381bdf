// The NIC driver (§4.1, §4.2): netif glue for lwIP, shadow offload contexts, TX
// out-of-sequence detection and recovery descriptors, RX completions -> pbufs with marks, and
// the l5o API (Listing 1) towards L5Ps.
#pragma once
#include <array>
#include <unordered_map>

#include "common/cpu_meter.h"
#include "nic/nic.h"
#include "tcpip/lwip_glue.h"

namespace autonic::driver {

struct DriverStats {
  uint64_t tx_packets = 0, rx_packets = 0, rx_offloaded_packets = 0, tx_ring_full_drops = 0;
  uint64_t rx_nontcp = 0;
};

class Driver final : public l5o::Offload {
 public:
  Driver(nic::Nic& nic, CpuMeter* meter, CpuDomain host, std::array<uint8_t, 6> own_mac,
         std::array<uint8_t, 6> peer_mac);

  // lwIP side. Attach after the netif exists (its input is where RX pbufs go).
  void attach_netif(tcpip::HostNetif* nif) { nif_ = nif; }
  err_t xmit(pbuf* p);  // netif->output: one IPv4 packet from lwIP
  void poll_rx();       // the NIC's interrupt: drain the completion ring

  // l5o::Offload (Listing 1)
  l5o::L5oHandle create(const FlowKey& flow, l5o::Direction dir, std::shared_ptr<const l5o::L5State> state,
                        TcpSeq tcpsn, l5o::L5pOps* ops) override;
  void destroy(l5o::L5oHandle h) override;
  l5o::RrStateId add_rr_state(l5o::L5oHandle h, const l5o::RrState& rr) override;
  l5o::RrTeardown del_rr_state(l5o::L5oHandle h, l5o::RrStateId id) override;
  void resync_rx_resp(l5o::L5oHandle h, TcpSeq tcpsn, bool ok, uint64_t msg_index,
                      TcpSeq payload_pos = TcpSeq()) override;
  l5o::L5oHandle create_inner(l5o::L5oHandle outer, std::shared_ptr<const l5o::L5State> state, TcpSeq start,
                              l5o::L5pOps* ops) override;

  const nic::OffloadStats& offload_stats(l5o::L5Proto p) const { return ostats_[size_t(p)]; }
  void export_stats(CounterMap& m) const;

 private:
  // Shadow of a NIC context (§4.2: "the driver shadows the NIC's context in software").
  struct Shadow {
    l5o::L5Proto proto;
    l5o::Direction dir;
    FlowKey flow;
    TcpSeq expected;  // TX: next tcpsn the NIC context will process
    TcpSeq start;     // first byte of the offload (create's tcpsn)
    l5o::L5pOps* ops;
    uint32_t inner = 0, outer = 0;  // composed offloads
  };
  void post(nic::SendDesc&& d);
  // Registers a shadow (linking it to its outer one, if any) and posts the NIC's create command.
  l5o::L5oHandle add_context(const Shadow& s, std::shared_ptr<const l5o::L5State> state);
  // TX recovery of an inner context, at the inner-stream position where the outer message
  // being recovered begins its payload.
  void recover_inner(const Shadow& outer, TcpSeq payload_pos, nic::SendDesc& r);
  Shadow* shadow(uint32_t id) {
    auto it = shadows_.find(id);
    return it == shadows_.end() ? nullptr : &it->second;
  }

  nic::Nic& nic_;
  CpuMeter* meter_;
  CpuDomain host_;
  std::array<uint8_t, 6> own_mac_, peer_mac_;
  tcpip::HostNetif* nif_ = nullptr;
  std::unordered_map<uint32_t, Shadow> shadows_;
  // TX flow -> (context id, its shadow); shadows_ is node-based, so the pointer stays valid.
  std::unordered_map<FlowKey, std::pair<uint32_t, Shadow*>, FlowKeyHash> tx_by_flow_;
  uint32_t next_ctx_ = 1;
  uint32_t next_rr_ = 1;
  DriverStats stats_;
  std::array<nic::OffloadStats, 3> ostats_{};
};

}  // namespace autonic::driver
