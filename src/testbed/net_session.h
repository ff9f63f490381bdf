// What a real-network verb runs on its host (net_run.cc drives it): a byte stream (tcp, tls,
// framed) that connects or serves, an NVMe/TCP host with the fio-like workload, or an NVMe/TCP
// controller. Private to the testbed.
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/cpu_meter.h"
#include "common/event_queue.h"
#include "tcpip/lwip_glue.h"
#include "testbed/host.h"
#include "testbed/net_run.h"
#include "testbed/sessions.h"
#include "wire/device.h"
#include "wire/fault_link.h"
#include "wire/pcap_tap.h"

namespace autonic::testbed {

// Resolves the peer's MAC before the first connection (a connect verb).
class PeerResolver {
 public:
  PeerResolver(Host& h, uint32_t peer_ip) : h_(h), ip_(peer_ip) {}
  bool ready(Nanos now) {
    if (h_.driver()->resolved(ip_)) return true;
    if (now >= next_) {
      h_.driver()->resolve(ip_);
      next_ = now + 1'000'000'000;  // ARP retry: 1 s
    }
    return false;
  }

 private:
  Host& h_;
  uint32_t ip_;
  Nanos next_ = 0;
};

// A local port that differs between runs (the peer's kernel may still hold the last run's
// connection in TIME_WAIT): from the kernel's random source, in the dynamic range (RFC 6335).
uint16_t ephemeral_port();

// The TLS settings every session of a real-network run shares (credentials, verification).
TlsShared net_tls(const NetConfig& cfg);

class NetSession {
 public:
  struct Status {
    bool done = false;
    bool waiting_for_peer = false;  // no peer yet (ARP unanswered, nothing accepted): no stall
    uint64_t progress = 0;          // moves whenever the workload does
    std::string failure;
  };
  virtual ~NetSession() = default;
  virtual Status poll(Nanos now) = 0;
  virtual void close() = 0;          // a clean goodbye (close_notify / FIN)
  virtual bool closed() const = 0;   // ... acknowledged
  // Delivery fields, extra figures and the L5P's counters; true when the workload completed.
  virtual bool report(Report& r, CounterMap& m) const = 0;
};

std::unique_ptr<NetSession> make_net_session(const NetConfig& cfg, Host& host, const Clock& clock, CpuMeter& meter);

// The run itself (net_run.cc).
class NetRun {
 public:
  explicit NetRun(const NetConfig& cfg);
  ~NetRun();
  NetRun(const NetRun&) = delete;
  NetRun& operator=(const NetRun&) = delete;
  std::string run();
  Report report(const std::string& outcome);

 private:
  bool is_client() const;
  void step(Nanos& next_timer);

  const NetConfig& cfg_;
  const std::chrono::steady_clock::time_point wall0_;
  RealClock clock_;
  EventQueue events_;
  CpuMeter meter_;
  tcpip::LwipInstance lwip_;
  std::unique_ptr<wire::Device> dev_;
  std::unique_ptr<wire::PcapTap> pcap_;
  std::unique_ptr<wire::DeviceLink> devlink_;
  std::unique_ptr<wire::FaultLink> tx_faults_, rx_faults_;
  std::unique_ptr<Host> host_;
  std::unique_ptr<NetSession> session_;
};

}  // namespace autonic::testbed
