#include "testbed/host.h"

#include <cstring>

namespace autonic::testbed {

Host::Host(uint32_t ip, std::array<uint8_t, 6> mac, std::array<uint8_t, 6> peer_mac, uint16_t mtu,
           bool bare, const nic::NicConfig& nic_cfg, CpuMeter* meter, CpuDomain host_dom,
           CpuDomain nic_dom)
    : ip_(ip), mac_(mac), peer_mac_(peer_mac), bare_(bare), meter_(meter), host_dom_(host_dom) {
  if (!bare_) {
    nic_ = std::make_unique<nic::Nic>(nic_cfg, meter, nic_dom);
    driver_ = std::make_unique<driver::Driver>(*nic_, meter, host_dom, mac, peer_mac);
    netif_ = std::make_unique<tcpip::HostNetif>(ip, mtu, /*hw_csum=*/true,
                                                [this](pbuf* p) { return driver_->xmit(p); });
    driver_->attach_netif(netif_.get());
  } else {
    netif_ = std::make_unique<tcpip::HostNetif>(ip, mtu, /*hw_csum=*/false,
                                                [this](pbuf* p) { return bare_xmit(p); });
  }
}

Host::~Host() = default;

void Host::amortise(bool tso, bool gro) {
  if (!driver_) return;  // bare lwIP: no NIC to cut or coalesce
  if (tso) {
    netif_->set_tso(kTsoBytes);
    driver_->enable_tso();
  }
  if (gro) driver_->enable_gro();
}

void Host::rx_coalescing(nic::NicConfig& n, std::function<void(Nanos, std::function<void()>)> schedule) {
  n.rx_coalesce_ns = kRxCoalesceNs;
  n.rx_coalesce_frames = kRxCoalesceFrames;
  n.schedule = std::move(schedule);
}

wire::FrameSink* Host::attach(wire::Link* tx) {
  tx_ = tx;
  if (nic_) {
    nic_->attach_link(tx);
    return nic_.get();
  }
  return this;
}

err_t Host::bare_xmit(pbuf* p) {
  CpuScope scope(meter_, host_dom_);
  Bytes frame(kEthHeaderLen + p->tot_len);
  std::memcpy(frame.data(), peer_mac_.data(), 6);
  std::memcpy(frame.data() + 6, mac_.data(), 6);
  store_be16(frame.data() + 12, kEtherTypeIpv4);
  pbuf_copy_partial(p, frame.data() + kEthHeaderLen, p->tot_len, 0);
  CpuScope wire_scope(meter_, CpuDomain::kOther);
  if (tx_) tx_->transmit(std::move(frame));
  return ERR_OK;
}

void Host::deliver(Bytes frame) {
  CpuScope scope(meter_, host_dom_);
  if (frame.size() <= kEthHeaderLen || load_be16(&frame[12]) != kEtherTypeIpv4) return;
  netif_->input(tcpip::make_rx_pbuf(std::move(frame), kEthHeaderLen, false));
}

void Host::export_stats(CounterMap& m, L5pKind l5p) const {
  netif_->export_stats(m);
  if (!nic_) return;
  nic_->export_stats(m);
  driver_->export_stats(m);
  auto proto = [&](l5o::L5Proto p) {
    nic::OffloadStats s = nic_->offload_stats(p);
    s.add(driver_->offload_stats(p));
    s.export_to(m, l5o::proto_name(p));
  };
  for (l5o::L5Proto p : l5p_protos(l5p)) proto(p);
  if (l5p == L5pKind::kNvmeTcp || l5p == L5pKind::kNvmeTls) {
    // mlx5 nvmeotcp names for what the generic engine and driver counted.
    const nic::OffloadStats& n = nic_->offload_stats(l5o::L5Proto::kNvmeTcp);
    const nic::OffloadStats& d = driver_->offload_stats(l5o::L5Proto::kNvmeTcp);
    add_counter(m, "rx_nvme_tcp_packets", n.rx_decrypted_packets);
    add_counter(m, "rx_nvme_tcp_bytes", n.rx_decrypted_bytes);
    add_counter(m, "rx_nvme_tcp_crc_ok_packets", n.rx_decrypted_packets);
    add_counter(m, "rx_nvme_tcp_resync", n.rx_resync_res_ok + n.rx_resync_jump);
    // (rx_nvme_tcp_sk_add / _sk_del come with the engine's counters above.)
    add_counter(m, "rx_nvme_tcp_setup", d.rx_rr_setup);
    add_counter(m, "rx_nvme_tcp_teardown", d.rx_rr_teardown);
    add_counter(m, "rx_nvme_tcp_teardown_unconfirmed", d.rx_rr_teardown_unconfirmed);
    add_counter(m, "rx_nvme_tcp_ddp_stale", n.rx_ddp_stale);
    add_counter(m, "rx_nvme_tcp_ddp_hdgst_skip", n.rx_ddp_hdgst_skip);
  }
}

}  // namespace autonic::testbed
