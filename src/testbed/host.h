// One simulated host: its lwIP netif, driver and NIC (or, for the bare baseline, a netif wired
// straight to the link).
#pragma once
#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "common/cpu_meter.h"
#include "driver/driver.h"
#include "l5p/common/msg_log.h"
#include "nic/nic.h"
#include "testbed/scenario.h"
#include "tcpip/lwip_glue.h"
#include "wire/link.h"

namespace autonic::testbed {

class Host : private wire::FrameSink {
 public:
  Host(uint32_t ip, std::array<uint8_t, 6> mac, std::array<uint8_t, 6> peer_mac, uint16_t mtu,
       bool bare, const nic::NicConfig& nic_cfg, CpuMeter* meter, CpuDomain host_dom,
       CpuDomain nic_dom);
  ~Host() override;
  // Connects the host to the wire: frames out on `tx`; returns where the wire delivers frames.
  wire::FrameSink* attach(wire::Link* tx);
  // Stack amortisation (issue #12): TSO -- lwIP builds segments of kTsoBytes the NIC cuts; GRO --
  // the driver merges each interrupt's batch (the NIC built with rx_coalescing). No-op when bare.
  void amortise(bool tso, bool gro);
  // The NIC moderation GRO needs: an interrupt kRxCoalesceNs after a batch's first completion
  // (or at kRxCoalesceFrames), timed by `schedule`.
  static void rx_coalescing(nic::NicConfig& n, std::function<void(Nanos, std::function<void()>)> schedule);
  netif* nif() { return netif_->raw(); }
  tcpip::HostNetif& host_netif() { return *netif_; }
  uint32_t ip() const { return ip_; }
  driver::Driver* driver() { return driver_.get(); }
  nic::Nic* nic() { return nic_.get(); }
  void export_stats(CounterMap& m, L5pKind l5p) const;
  // The wire audit (testbed/wire_audit.h): once kept, each receiving session asks for a log of
  // its messages (null while none are kept).
  void keep_msg_logs() { keep_logs_ = true; }
  l5p::MsgLog* new_rx_msg_log(const FlowKey& rx_flow) {
    if (!keep_logs_) return nullptr;
    msg_logs_.emplace_back().flow = rx_flow;
    return &msg_logs_.back();
  }
  const std::deque<l5p::MsgLog>& msg_logs() const { return msg_logs_; }

 private:
  void deliver(Bytes frame) override;  // bare mode receive
  err_t bare_xmit(pbuf* p);

  uint32_t ip_;
  std::array<uint8_t, 6> mac_, peer_mac_;
  bool bare_;
  CpuMeter* meter_;
  CpuDomain host_dom_;
  std::unique_ptr<nic::Nic> nic_;
  std::unique_ptr<driver::Driver> driver_;
  std::unique_ptr<tcpip::HostNetif> netif_;
  wire::Link* tx_ = nullptr;
  bool keep_logs_ = false;
  std::deque<l5p::MsgLog> msg_logs_;  // (a deque: the sessions hold pointers into it)
};

}  // namespace autonic::testbed
