// ScenarioRun, step 1: the world a run needs, built from its config. The order of construction
// is part of the run's determinism (lwIP's ISNs and ports, PRNG seeds): hosts, wire, flows'
// receivers, NVMe controller and host, test peer, then the bulk connections.
#include <malloc.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <iterator>
#include <stdexcept>

#include "apps/pattern.h"
#include "l5p/plain_stream.h"
#include "common/proc_mem.h"
#include "tcpip/pcb_hash.h"
#include "testbed/peer_hook.h"
#include "testbed/scenario_run.h"

namespace autonic::testbed {
namespace {

constexpr uint32_t kClientIp = 0x0A000001, kServerIp = 0x0A000002;
constexpr uint16_t kServerPort = 5001, kClientPortBase = 40000;
// A client port serves up to kFlowsPerServerPort flows, each towards its own server port
// (5001, 5002, ...): 131072 connections between two addresses need more than 64K 4-tuples.
// (lwIP's tcp_bind would refuse a port in use: these connects skip it, see connect_flow.)
constexpr uint32_t kFlowsPerServerPort = 25000;
// Churned connections (testbed/churn.h) go to their own server port from client ports below
// kClientPortBase: never a bulk flow's 4-tuple.
constexpr uint16_t kChurnPort = 6001;
constexpr std::array<uint8_t, 6> kClientMac{0x02, 0, 0, 0, 0, 1}, kServerMac{0x02, 0, 0, 0, 0, 2};

bool is_tls(L5pKind k) { return k == L5pKind::kTls || k == L5pKind::kNvmeTls; }
bool is_nvme(L5pKind k) { return k == L5pKind::kNvmeTcp || k == L5pKind::kNvmeTls; }

void validate_nvme(const ScenarioConfig& cfg) {
  if (cfg.lba_size != 512 && cfg.lba_size != 4096) throw std::invalid_argument("--lba-size must be 512 or 4096");
  if (cfg.io_size == 0 || cfg.io_size % cfg.lba_size || cfg.io_size > (32u << 20))
    throw std::invalid_argument("--io-size must be a multiple of the LBA size, up to 32M");
  if (cfg.ns_size < cfg.io_size) throw std::invalid_argument("--ns-size must hold at least one I/O");
  if (cfg.depth == 0 || cfg.depth > 1000) throw std::invalid_argument("--depth must be 1..1000");
  if (cfg.io_queues == 0 || cfg.io_queues > 64) throw std::invalid_argument("--queues must be 1..64");
  static const char* kRw[] = {"read", "write", "randread", "randwrite", "randrw"};
  if (std::find(std::begin(kRw), std::end(kRw), cfg.rw) == std::end(kRw))
    throw std::invalid_argument("--rw must be read|write|randread|randwrite|randrw");
}

}  // namespace

void validate_config(const ScenarioConfig& cfg) {
  if (cfg.flows == 0 || cfg.flows > kMaxFlows) throw std::invalid_argument("--flows must be 1..131072");
  if (cfg.burst > 4096) throw std::invalid_argument("--burst must be 1..4096 packets");
  if (cfg.churn > 10'000'000) throw std::invalid_argument("--churn must be 0..10000000");
  if (cfg.churn && (is_nvme(cfg.l5p) || cfg.bare)) throw std::invalid_argument("--churn is for tcp, framed and tls over the NIC");
  if (cfg.flows > kMaxAllAtOnceFlows || cfg.burst) {
    if (cfg.bidirectional) throw std::invalid_argument("--bidir is not for runs that take turns (--burst, --flows > 1000)");
    if (is_nvme(cfg.l5p)) throw std::invalid_argument("--burst / --flows > 1000 are for tcp, framed and tls (nvme: --queues)");
  }
  if (cfg.mtu < kMinMtu || cfg.mtu > kMaxMtu) throw std::invalid_argument("--mtu must be 576..9000");
  if (cfg.bytes == 0) throw std::invalid_argument("--bytes must be > 0");
  if (cfg.bare && cfg.l5p != L5pKind::kTcp) throw std::invalid_argument("bare wire only carries --l5p tcp");
  if (cfg.offload == OffloadMode::kZc && cfg.l5p != L5pKind::kTls)
    throw std::invalid_argument("--offload zc is for --l5p tls");
  if ((cfg.offload == OffloadMode::kCrc || cfg.offload == OffloadMode::kDdp) && cfg.l5p != L5pKind::kNvmeTcp)
    throw std::invalid_argument("--offload crc|ddp are for --l5p nvme (over TLS the NIC's NVMe engine runs inside "
                                "the TLS context: use on | tx | rx | tls)");
  if (cfg.offload == OffloadMode::kTls && cfg.l5p != L5pKind::kNvmeTls)
    throw std::invalid_argument("--offload tls (TLS offload only, NVMe digests in software) is for --l5p nvme-tls");
  if (is_nvme(cfg.l5p)) validate_nvme(cfg);
  if (cfg.record_size == 0 || cfg.record_size > 16384) throw std::invalid_argument("--record-size must be 1 .. 16K");
  if (is_tls(cfg.l5p)) parse_cipher(cfg.cipher);
  if (is_tls(cfg.l5p) && parse_tls_version(cfg.tls_version) == l5p::tls::Version::kTls12) {
    if (cfg.l5p == L5pKind::kNvmeTls)
      throw std::invalid_argument("--l5p nvme-tls needs --tls-version 1.3 (NVMe/TCP allows only TLS 1.3, TP 8011)");
    if (cfg.key_update_every)
      throw std::invalid_argument("--key-update-every is TLS 1.3's KeyUpdate (RFC 8446 §4.6.3): use --tls-version 1.3");
  }
}


ScenarioRun::ScenarioRun(const ScenarioConfig& cfg)
    : cfg_(cfg),
      nvme_(is_nvme(cfg.l5p)),
      nvme_tls_(cfg.l5p == L5pKind::kNvmeTls),
      wall0_(std::chrono::steady_clock::now()),
      clock_(cfg.real_clock ? static_cast<const Clock&>(rclock_) : vclock_),
      lwip_(&clock_, cfg.seed) {
  using Demux = ScenarioConfig::LwipDemux;
  if (cfg_.lwip_demux == Demux::kHash || (cfg_.lwip_demux == Demux::kAuto && cfg_.flows > kMaxAllAtOnceFlows))
    tcpip::pcb_hash_set_buckets(std::bit_ceil(std::max<size_t>(cfg_.flows, 64)));  // ~2 pcbs a bucket
  if (is_tls(cfg_.l5p)) {
    l5p::tls::install_deterministic_rand(cfg_.seed);  // reproducible handshakes
    tls_.creds = std::make_unique<l5p::tls::Credentials>();
    if (!cfg_.keylog.empty()) tls_.keylog = std::make_unique<l5p::tls::KeylogSink>(cfg_.keylog);
  }
  build_hosts_and_wire();
  build_flows();
  if (nvme_) build_nvme();
  const uint32_t groups = std::max<uint32_t>(1, (uint32_t(flows_.size()) + kFlowsPerServerPort - 1) / kFlowsPerServerPort);
  for (uint32_t g = 0; g < groups; ++g)
    listeners_.push_back(std::make_unique<tcpip::TcpListener>(
        server_->nif(), kServerIp, uint16_t(kServerPort + g),
        [this](std::unique_ptr<tcpip::TcpConn> c) { accept_flow(std::move(c)); }));
  connect_flows();
  if (cfg_.churn) build_churn();
}

void ScenarioRun::build_churn() {
  Churn::Hooks h;
  h.connect = [this](uint32_t, uint16_t port) {
    return make_stream(cfg_, tcpip::TcpConn::connect(client_->nif(), kClientIp, port, kServerIp, kChurnPort, true),
                       true, *client_, tls_);
  };
  h.defer = [this](std::function<void()> fn) { events_.schedule(clock_.now(), std::move(fn)); };
  churn_ = std::make_unique<Churn>(cfg_.churn, cfg_.churn_bytes, cfg_.seed, std::move(h));
  churn_listener_ = std::make_unique<tcpip::TcpListener>(
      server_->nif(), kServerIp, kChurnPort, [this](std::unique_ptr<tcpip::TcpConn> c) {
        const uint16_t port = c->tx_flow().dport;
        churn_->accept(port, make_stream(cfg_, std::move(c), false, *server_, tls_));
      });
  churn_->start();
}

void ScenarioRun::accept_flow(std::unique_ptr<tcpip::TcpConn> c) {
  const FlowKey k = c->tx_flow();  // server -> client
  const uint32_t port = k.dport - kClientPortBase, group = uint32_t(k.sport - kServerPort);
  const uint32_t i = group * kFlowsPerServerPort + port;
  if (k.dport < kClientPortBase || port >= kFlowsPerServerPort || i >= flows_.size() || flows_[i].server)
    return;  // unknown peer: dropped (aborted)
  Flow& f = flows_[i];
  f.server = make_stream(cfg_, std::move(c), false, *server_, tls_);
  if (cfg_.bidirectional)
    f.rsender = std::make_unique<apps::BulkSender>(*f.server, f.seed ^ 0xB1D1ull, f.bytes, &meter_);
  if (turns_) f.server_h = std::make_unique<TurnHandler>(*turns_, i, f.receiver.get(), false);
  else f.server_h = std::make_unique<apps::DuplexHandler>(f.rsender.get(), f.receiver.get());
  f.server->set_handler(f.server_h.get());
}

ScenarioRun::~ScenarioRun() { teardown(); }

void ScenarioRun::teardown() {
  // Streams (they destroy offload contexts) before the hosts; lwIP stops last (lwip_).
  // Most recently used flows first: lwIP unlinks a pcb by walking its list from the front
  // (tcp_abandon), where move-to-front keeps the latest -- O(1) each instead of O(flows).
  churn_.reset();
  if (turns_)
    for (auto it = turns_->finished().rbegin(); it != turns_->finished().rend(); ++it)
      Flow gone = std::move(flows_[*it]);  // destroyed here, members in the usual order
  flows_.clear();
  peer_streams_.clear();
  fio_.reset();
  nhost_.reset();
  ctrl_.reset();
}

nic::NicConfig ScenarioRun::nic_config(const char* who) {
  nic::NicConfig n;
  n.ctx_cache_bytes = cfg_.ctx_cache_bytes;
  n.ctx_policy = cfg_.ctx_policy;
  n.faults = cfg_.nic_faults;
  n.whole_packet_marks = cfg_.whole_packet_marks;
  n.core = core_.get();
  if (cfg_.gro)
    Host::rx_coalescing(n, [this](Nanos delay, std::function<void()> fn) { events_.schedule(clock_.now() + delay, std::move(fn)); });
  if (cfg_.trace)
    n.trace = [this, who](const std::string& line) {
      std::fprintf(stderr, "%12.6f %s NIC %s\n", double(clock_.now()) / 1e9, who, line.c_str());
    };
  return n;
}

void ScenarioRun::build_hosts_and_wire() {
  if (cfg_.nic_core) {
    std::string why;
    core_ = CoreHop::start(&why);
    if (!core_) throw std::runtime_error("--nic-core on: " + why);
    core_->carry(&meter_, sizeof meter_);
  }
  client_ = std::make_unique<Host>(kClientIp, kClientMac, kServerMac, cfg_.mtu, cfg_.bare, nic_config("client"),
                                   &meter_, CpuDomain::kClientHost, CpuDomain::kClientNic);
  server_ = std::make_unique<Host>(kServerIp, kServerMac, kClientMac, cfg_.mtu, cfg_.bare, nic_config("server"),
                                   &meter_, CpuDomain::kServerHost, CpuDomain::kServerNic);
  for (Host* h : {client_.get(), server_.get()}) h->amortise(cfg_.tso, cfg_.gro);
  wire_ = std::make_unique<wire::SimWire>(cfg_.link, cfg_.seed, clock_, events_);
  if (!cfg_.pcap.empty()) {
    tap_ = std::make_unique<wire::PcapTap>(cfg_.pcap);
    wire_->set_tap(tap_.get());
  }
  wire_->b_to_a().connect(client_->attach(&wire_->a_to_b()));
  wire_->a_to_b().connect(server_->attach(&wire_->b_to_a()));
  // The wire audit (issue #15: what the losses allowed the offload): kept for runs with a few
  // bulk flows and a fault that destroys frames -- a log entry a message, a fault a frame.
  const wire::LinkConfig& l = cfg_.link;
  if ((l.loss > 0 || l.corrupt > 0 || l.tamper > 0) && cfg_.flows <= kAuditMaxFlows && cfg_.churn == 0) {
    wire_->set_fault_log(&wire_faults_);
    client_->keep_msg_logs();
    server_->keep_msg_logs();
  }
}

void ScenarioRun::build_flows() {
  flows_.resize(nvme_ ? 0 : cfg_.flows);
  if (!nvme_ && (cfg_.burst || cfg_.flows > kMaxAllAtOnceFlows)) build_turns();
  for (uint32_t i = 0; i < flows_.size(); ++i) {
    Flow& f = flows_[i];
    f.seed = splitmix64(cfg_.seed * 1000003ull + i);
    f.bytes = cfg_.bytes / cfg_.flows + (i + 1 == cfg_.flows ? cfg_.bytes % cfg_.flows : 0);
    f.receiver = std::make_unique<apps::BulkReceiver>(f.seed, f.bytes, &meter_);
    if (!turns_ && !cfg_.bidirectional) f.receiver->on_start = [this] { data_phase_started(true); };
    if (cfg_.bidirectional)
      f.rreceiver = std::make_unique<apps::BulkReceiver>(f.seed ^ 0xB1D1ull, f.bytes, &meter_);
  }
}

void ScenarioRun::connect_flow(uint32_t i) {
  // Turns (many flows): every 4-tuple is distinct by construction (port i % 25000 towards server
  // port i / 25000), so lwIP's O(connections) bind check is skipped (tcp_conn.h).
  auto c = tcpip::TcpConn::connect(client_->nif(), kClientIp, uint16_t(kClientPortBase + i % kFlowsPerServerPort),
                                   kServerIp, uint16_t(kServerPort + i / kFlowsPerServerPort), turns_ != nullptr);
  Flow& f = flows_[i];
  f.client = make_stream(cfg_, std::move(c), true, *client_, tls_);
  f.sender = std::make_unique<apps::BulkSender>(*f.client, f.seed, f.bytes, &meter_);
  if (!turns_ && !cfg_.bidirectional) f.sender->on_start = [this] { data_phase_started(false); };
  if (turns_) {
    f.sender->set_limit(0);  // until its first turn
    f.client_h = std::make_unique<TurnHandler>(*turns_, i, f.sender.get(), true);
  } else {
    f.client_h = std::make_unique<apps::DuplexHandler>(f.sender.get(), f.rreceiver.get());
  }
  f.client->set_handler(f.client_h.get());
}

void ScenarioRun::data_phase_started(bool server) {
  if (++started_[server] < flows_.size()) return;
  meter_.flush();
  using D = CpuDomain;
  static constexpr D kSide[2][3] = {{D::kClientHost, D::kClientCopy, D::kClientDigest},
                                    {D::kServerHost, D::kServerCopy, D::kServerDigest}};
  for (D d : kSide[server]) established_cycles_[size_t(d)] = meter_.cycles(d);
  established_seen_ = started_[0] >= flows_.size() && started_[1] >= flows_.size();
}

void ScenarioRun::connect_flows() {
  if (!turns_) {
    for (uint32_t i = 0; i < flows_.size(); ++i) connect_flow(i);
    return;
  }
  turns_->start();
}

// Turns: connects and grants run from the event loop (now), never inside another flow's lwIP
// callback.
void ScenarioRun::build_turns() {
  std::vector<uint64_t> bytes(cfg_.flows);
  for (uint32_t i = 0; i < cfg_.flows; ++i)
    bytes[i] = cfg_.bytes / cfg_.flows + (i + 1 == cfg_.flows ? cfg_.bytes % cfg_.flows : 0);
  const uint32_t mss = cfg_.mtu - 40;  // IPv4 + TCP headers, no options
  const uint64_t turn = uint64_t(cfg_.burst ? cfg_.burst : kDefaultBurst) * mss;
  FlowTurns::Hooks hooks;
  // Both run from the event loop: the client's stack does the work (its SYN; encrypting and
  // sending a turn's bytes), so its domain is charged, not kOther.
  hooks.connect = [this](uint32_t i) {
    events_.schedule(clock_.now(), [this, i] {
      CpuScope scope(&meter_, CpuDomain::kClientHost);
      connect_flow(i);
    });
  };
  hooks.grant = [this](uint32_t i, uint64_t upto) {
    events_.schedule(clock_.now(), [this, i, upto] {
      CpuScope scope(&meter_, CpuDomain::kClientHost);
      flows_[i].sender->set_limit(upto);
    });
  };
  hooks.established = [this] {
    rss_established_ = rss_bytes();
    meter_.flush();  // the data phase's cycles start here: every handshake is done
    for (size_t d = 0; d < established_cycles_.size(); ++d) established_cycles_[d] = meter_.cycles(CpuDomain(d));
    established_seen_ = true;
  };
  rss_before_flows_ = rss_bytes();
  turns_ = std::make_unique<FlowTurns>(std::move(bytes), turn, cfg_.random_order, cfg_.seed, std::move(hooks));
}

std::unique_ptr<l5p::nvme::Transport> ScenarioRun::nvme_transport(std::unique_ptr<tcpip::TcpConn> c, bool is_client,
                                                                  Host& h) {
  return make_nvme_transport(cfg_, std::move(c), is_client, h, tls_, nvme_tls_sessions_);
}

std::shared_ptr<l5p::nvme::Namespace> ScenarioRun::build_namespace() const { return make_pattern_namespace(cfg_); }

void ScenarioRun::attach_peer_stream(std::unique_ptr<l5p::Stream> s) {
  s->set_handler(cfg_.nvme_peer->attach(*s));
  peer_streams_.push_back(std::move(s));
}

void ScenarioRun::build_nvme() {
  const auto ns = build_namespace();
  const bool peer_ctrl = cfg_.nvme_peer && cfg_.nvme_peer->side() == NvmePeerHook::Side::kController;
  const bool peer_host = cfg_.nvme_peer && cfg_.nvme_peer->side() == NvmePeerHook::Side::kHost;
  if (cfg_.nvme_peer)
    cfg_.nvme_peer->on_namespace({cfg_.lba_size, ns->bytes(), apps::ns_pattern_seed(cfg_.seed)});
  if (peer_ctrl) {
    // The controller's side is the test's peer on a plain stream (TLS: the peer's bytes are the
    // records' content).
    nvme_listener_ = std::make_unique<tcpip::TcpListener>(
        server_->nif(), kServerIp, cfg_.nvme_port, [this](std::unique_ptr<tcpip::TcpConn> c) {
          if (nvme_tls_) attach_peer_stream(make_tls(cfg_, std::move(c), false, *server_, tls_));
          else attach_peer_stream(std::make_unique<l5p::PlainStream>(std::move(c)));
        });
  } else {
    ctrl_ = std::make_unique<l5p::nvme::NvmeController>(ns, nvme_queue_config(cfg_, *server_, &meter_), ctrl_nst_,
                                                        l5p::nvme::CtrlConfig{});
    nvme_listener_ = std::make_unique<tcpip::TcpListener>(
        server_->nif(), kServerIp, cfg_.nvme_port, [this](std::unique_ptr<tcpip::TcpConn> c) {
          ctrl_->accept(nvme_transport(std::move(c), false, *server_));
        });
  }
  build_nvme_host();
  if (!peer_host) {
    nhost_->start();
    return;
  }
  // The test's peer stands in for the host: its connections to our controller (admin queue first).
  for (unsigned i = 0; i < cfg_.nvme_peer->connections(); ++i) {
    auto conn = tcpip::TcpConn::connect(client_->nif(), kClientIp, uint16_t(kClientPortBase + i), kServerIp,
                                        cfg_.nvme_port);
    if (nvme_tls_) attach_peer_stream(make_tls(cfg_, std::move(conn), true, *client_, tls_));  // bytes as app data
    else attach_peer_stream(std::make_unique<l5p::PlainStream>(std::move(conn)));
  }
}

void ScenarioRun::build_nvme_host() {
  const apps::FioConfig fc = fio_config(cfg_);
  const l5p::nvme::QueueConfig admin = nvme_admin_queue_config(cfg_, *client_, &meter_);
  uint16_t next_port = kClientPortBase;
  l5p::nvme::HostConfig hc;
  nhost_ = std::make_unique<l5p::nvme::NvmeHost>(
      [this, next_port]() mutable {
        return nvme_transport(
            tcpip::TcpConn::connect(client_->nif(), kClientIp, next_port++, kServerIp, cfg_.nvme_port), true,
            *client_);
      },
      admin, nvme_queue_config(cfg_, *client_, &meter_), host_nst_, [this] { fio_->start(); },
      [this](const std::string& o) {
        if (nvme_failure_.empty()) nvme_failure_ = o;
      },
      cfg_.io_queues, hc);
  fio_ = std::make_unique<apps::Fio>(*nhost_, clock_, fc, &meter_);
}

}  // namespace autonic::testbed
