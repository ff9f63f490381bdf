// One run of a scenario, in three steps: the constructor builds the world from the config (hosts,
// NICs and drivers, the wire, the L5P sessions and workloads), run() is the event loop, report()
// collects the result and the counters. Private to the testbed (testbed.cc drives it).
#pragma once
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/bulk.h"
#include "apps/fio.h"
#include "common/clock.h"
#include "common/core_hop.h"
#include "common/cpu_meter.h"
#include "common/event_queue.h"
#include "l5p/nvme/nvme_ctrl.h"
#include "l5p/nvme/nvme_host.h"
#include "testbed/churn.h"
#include "testbed/flow_turns.h"
#include "testbed/host.h"
#include "testbed/sessions.h"
#include "wire/pcap_tap.h"
#include "wire/sim_link.h"

namespace autonic::testbed {

// Throws std::invalid_argument naming the first option out of range or not meant for the L5P.
void validate_config(const ScenarioConfig& cfg);

class ScenarioRun {
 public:
  explicit ScenarioRun(const ScenarioConfig& cfg);
  ~ScenarioRun();
  ScenarioRun(const ScenarioRun&) = delete;
  ScenarioRun& operator=(const ScenarioRun&) = delete;

  // Runs until the workload completes or fails, stalls or hits the time limit; then drains the
  // frames already on the wire. Returns the failure outcome, empty if none.
  std::string run();
  Report report(const std::string& outcome);

 private:
  // One bulk connection: client -> server, and server -> client when bidirectional.
  struct Flow {
    std::unique_ptr<l5p::Stream> client, server;
    std::unique_ptr<apps::BulkSender> sender, rsender;        // client->server, server->client
    std::unique_ptr<apps::BulkReceiver> receiver, rreceiver;  // at the server, at the client
    std::unique_ptr<l5p::StreamHandler> client_h, server_h;
    uint64_t seed = 0, bytes = 0;
  };
  // build
  nic::NicConfig nic_config(const char* who);
  void build_hosts_and_wire();
  void build_flows();
  void build_nvme();
  std::shared_ptr<l5p::nvme::Namespace> build_namespace() const;
  void build_nvme_host();
  void attach_peer_stream(std::unique_ptr<l5p::Stream> s);
  std::unique_ptr<l5p::nvme::Transport> nvme_transport(std::unique_ptr<tcpip::TcpConn> c, bool is_client, Host& h);
  void connect_flows();
  void connect_flow(uint32_t i);
  void accept_flow(std::unique_ptr<tcpip::TcpConn> c);
  void build_turns();
  void build_churn();
  // run
  bool step_done(std::string& outcome, uint64_t& progress) const;
  bool bulk_done(std::string& outcome, uint64_t& progress) const;  // flows_ one by one (<= 1000)
  void advance(Nanos& next_timer);
  void drain();
  // report
  std::optional<uint64_t> report_delivery(Report& r) const;
  void report_cpu(Report& r) const;
  void report_counters(Report& r) const;
  void teardown();

  const ScenarioConfig& cfg_;
  const bool nvme_, nvme_tls_;
  const std::chrono::steady_clock::time_point wall0_;
  VirtualClock vclock_;
  RealClock rclock_;
  const Clock& clock_;
  EventQueue events_;
  CpuMeter meter_;
  std::unique_ptr<CoreHop> core_;  // --nic-core: outlives the hosts (their teardown still sends)
  tcpip::LwipInstance lwip_;  // lwIP is global: started first, stopped last
  TlsShared tls_;
  std::unique_ptr<Host> client_, server_;
  std::unique_ptr<wire::SimWire> wire_;
  std::unique_ptr<wire::PcapTap> tap_;
  static constexpr uint32_t kAuditMaxFlows = 64;
  std::vector<wire::SimWire::Fault> wire_faults_;  // the wire audit's (testbed/wire_audit.h)
  // NVMe/TCP over TLS: each queue's TCP connection carries a TLS session (kept here too, for
  // its counters); the NVMe offload is stacked inside the TLS one.
  std::vector<l5p::tls::TlsSession*> nvme_tls_sessions_;
  std::vector<Flow> flows_;
  // NVMe/TCP: controller on the server, host + fio on the client
  l5p::nvme::NvmeStats host_nst_, ctrl_nst_;
  std::unique_ptr<l5p::nvme::NvmeController> ctrl_;
  std::unique_ptr<l5p::nvme::NvmeHost> nhost_;
  std::unique_ptr<apps::Fio> fio_;
  std::unique_ptr<tcpip::TcpListener> nvme_listener_;
  std::string nvme_failure_;
  std::vector<std::unique_ptr<l5p::Stream>> peer_streams_;  // cfg.nvme_peer's side
  std::unique_ptr<FlowTurns> turns_;                         // many flows: who writes when
  // RSS before the first connection and once every connection is open, before any data: what
  // an established flow holds, data in flight aside (issue #13).
  uint64_t rss_before_flows_ = 0, rss_established_ = 0;
  // Cycles by domain once every connection was open: the data phase's cost apart from the
  // connections' set-up (TLS handshakes), the paper's steady state (fig19, bench tls / tcp).
  // Turns: when every flow is open. Otherwise each host's from its own sessions' first data
  // (a sender's first writable, a receiver's first bytes): a host's handshake ends there.
  std::array<uint64_t, size_t(CpuDomain::kCount)> established_cycles_{};
  bool established_seen_ = false;
  uint32_t started_[2] = {0, 0};  // client, server: flows whose data phase began
  void data_phase_started(bool server);
  std::unique_ptr<Churn> churn_;                             // short connections meanwhile
  std::unique_ptr<tcpip::TcpListener> churn_listener_;
  std::vector<std::unique_ptr<tcpip::TcpListener>> listeners_;  // bulk flows, one a server port
};

}  // namespace autonic::testbed
