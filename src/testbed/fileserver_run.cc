// The file server's world (testbed/fileserver.h): three hosts on a switch, the storage's NVMe/TCP
// controller, the web server's NVMe/TCP host and HTTP server, the client's connections; the
// event loop; the report.
#include <malloc.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

#include "apps/file_source.h"
#include "apps/http.h"
#include "apps/fio.h"
#include "common/event_queue.h"
#include "l5p/nvme/nvme_ctrl.h"
#include "l5p/nvme/nvme_host.h"
#include "tcpip/lwip_glue.h"
#include "testbed/fileserver.h"
#include "testbed/host.h"
#include "testbed/sessions.h"
#include "wire/pcap_tap.h"

namespace autonic::testbed {
namespace {

constexpr uint32_t kClientIp = 0x0A000001, kWebIp = 0x0A000002, kStorageIp = 0x0A000003;
constexpr std::array<uint8_t, 6> kMacs[3] = {{0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}, {0x02, 0, 0, 0, 0, 3}};
constexpr uint32_t kIps[3] = {kClientIp, kWebIp, kStorageIp};
constexpr uint16_t kClientPortBase = 40000, kNvmePortBase = 50000;
constexpr Nanos kSettleNs = 1'000'000;

// What reaches a station from its switch port, counted on the way to its NIC: a frame not for
// its MAC (nor broadcast) would be another host's traffic leaking in.
class StationTap final : public wire::FrameSink {
 public:
  void connect(const std::array<uint8_t, 6>& mac, wire::FrameSink* nic) {
    mac_ = mac;
    nic_ = nic;
  }
  void deliver(Bytes frame) override {
    ++rx_frames;
    static constexpr std::array<uint8_t, 6> kBcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (frame.size() < 6 || (std::memcmp(frame.data(), mac_.data(), 6) != 0 &&
                             std::memcmp(frame.data(), kBcast.data(), 6) != 0))
      ++rx_foreign;
    if (frame.size() >= 34 && load_be16(&frame[12]) == kEtherTypeIpv4)
      for (size_t i = 0; i < 3; ++i) rx_from[i] += load_be32(&frame[26]) == kIps[i];
    nic_->deliver(std::move(frame));
  }
  uint64_t rx_frames = 0, rx_foreign = 0;
  std::array<uint64_t, 3> rx_from{};

 private:
  std::array<uint8_t, 6> mac_{};
  wire::FrameSink* nic_ = nullptr;
};

// Counts a station's frames on their way into the switch.
class CountingLink final : public wire::Link {
 public:
  explicit CountingLink(wire::Link& to) : to_(to) {}
  void transmit(Bytes frame) override {
    ++tx_frames;
    to_.transmit(std::move(frame));
  }
  uint64_t tx_frames = 0;

 private:
  wire::Link& to_;
};

ScenarioConfig tls_side(const FileServerConfig& c, bool web) {
  ScenarioConfig s;
  s.l5p = c.https ? L5pKind::kTls : L5pKind::kTcp;
  s.offload = !web ? OffloadMode::kOff : c.off_zc ? OffloadMode::kZc : c.off_tls ? OffloadMode::kOn : OffloadMode::kOff;
  s.record_size = c.record_size;
  s.seed = c.seed;
  return s;
}

ScenarioConfig nvme_side(const FileServerConfig& c, bool web) {
  ScenarioConfig s;
  s.l5p = c.source == FileServerConfig::Source::kNvmeTls ? L5pKind::kNvmeTls : L5pKind::kNvmeTcp;
  s.seed = c.seed;
  s.lba_size = 4096;
  s.ns_size = std::max<uint64_t>(uint64_t(c.files) * c.file_size, 1 << 20);
  s.offload = OffloadMode::kOff;
  if (!web) return s;
  if (s.l5p == L5pKind::kNvmeTls)
    s.offload = c.off_copy ? OffloadMode::kOn : c.off_storage_tls ? OffloadMode::kTls : OffloadMode::kOff;
  else
    s.offload = c.off_copy && c.off_crc ? OffloadMode::kOn
                : c.off_copy            ? OffloadMode::kDdp
                : c.off_crc             ? OffloadMode::kCrc
                                        : OffloadMode::kOff;
  return s;
}

class FileServerRun {
 public:
  explicit FileServerRun(const FileServerConfig& cfg);
  ~FileServerRun();
  std::string run();
  FileServerReport report(const std::string& outcome);

 private:
  struct Conn {
    std::unique_ptr<l5p::Stream> s;
    std::unique_ptr<l5p::StreamHandler> h;
  };
  void build_hosts();
  void build_storage();
  void connect_clients();
  std::string failure() const;

  const FileServerConfig& cfg_;
  const std::chrono::steady_clock::time_point wall0_ = std::chrono::steady_clock::now();
  const ScenarioConfig web_tls_, gen_tls_, web_nvme_, gen_nvme_;
  const bool nvme_;
  VirtualClock clock_;
  EventQueue events_;
  CpuMeter meter_;
  tcpip::LwipInstance lwip_;  // lwIP is global: started first, stopped last
  TlsShared tls_;
  std::unique_ptr<wire::SimSwitch> sw_;
  std::unique_ptr<wire::PcapTap> tap_;
  StationTap rx_taps_[3];
  std::unique_ptr<CountingLink> tx_links_[3];
  std::unique_ptr<Host> hosts_[3];  // client, web, storage (gone before the switch they use)
  apps::FileSet files_;
  // storage: the controller; web: the NVMe host and the files it reads
  l5p::nvme::NvmeStats host_nst_, ctrl_nst_;
  std::vector<l5p::tls::TlsSession*> nvme_tls_sessions_;
  std::unique_ptr<l5p::nvme::NvmeController> ctrl_;
  std::unique_ptr<tcpip::TcpListener> nvme_listener_, http_listener_;
  std::unique_ptr<l5p::nvme::NvmeHost> nhost_;
  std::unique_ptr<apps::FileSource> source_;
  apps::NvmeFiles* nvme_files_ = nullptr;
  std::string nvme_failure_;
  std::vector<Conn> web_conns_, client_conns_;
  apps::http::GetBudget budget_;
  std::array<uint64_t, size_t(CpuDomain::kCount)> baseline_{};  // cycles before the first GET
};

FileServerRun::FileServerRun(const FileServerConfig& cfg)
    : cfg_(cfg),
      web_tls_(tls_side(cfg, true)),
      gen_tls_(tls_side(cfg, false)),
      web_nvme_(nvme_side(cfg, true)),
      gen_nvme_(nvme_side(cfg, false)),
      nvme_(cfg.source != FileServerConfig::Source::kCache),
      lwip_(&clock_, cfg.seed) {
  l5p::tls::install_deterministic_rand(cfg_.seed);
  tls_.creds = std::make_unique<l5p::tls::Credentials>();
  files_.count = cfg_.files;
  files_.size = cfg_.file_size;
  files_.ns_seed = apps::ns_pattern_seed(cfg_.seed);
  budget_.left = cfg_.requests;
  budget_.conns = cfg_.conns;
  budget_.on_all_ready = [this] {
    // Every client is ready; the web server finishes its side of the handshakes within a round
    // trip (TLS 1.3: the client's Finished; accepts, offload contexts). The measurement starts
    // after that settles -- 1 ms of virtual time, idle but for those -- with every connection and
    // the NVMe queues up.
    events_.schedule(clock_.now() + kSettleNs, [this] {
      meter_.flush();
      for (size_t d = 0; d < baseline_.size(); ++d) baseline_[d] = meter_.cycles(CpuDomain(d));
      budget_.go = true;
      CpuScope scope(&meter_, CpuDomain::kClientHost);  // the client's stack sends the GETs
      for (Conn& c : client_conns_) c.h->on_writable();
    });
  };
  build_hosts();
  http_listener_ = std::make_unique<tcpip::TcpListener>(
      hosts_[1]->nif(), kWebIp, uint16_t(cfg_.https ? 443 : 80), [this](std::unique_ptr<tcpip::TcpConn> c) {
        Conn& w = web_conns_.emplace_back();
        w.s = make_stream(web_tls_, std::move(c), false, *hosts_[1], tls_);
        w.h = std::make_unique<apps::http::ServerConn>(*w.s, *source_, &meter_);
        w.s->set_handler(w.h.get());
      });
  if (nvme_) {
    build_storage();  // clients connect once the web server's NVMe queues are up
  } else {
    source_ = std::make_unique<apps::CachedFiles>(files_);
    connect_clients();
  }
}

void FileServerRun::build_hosts() {
  sw_ = std::make_unique<wire::SimSwitch>(cfg_.link, cfg_.seed, clock_, events_);
  if (!cfg_.pcap.empty()) {
    tap_ = std::make_unique<wire::PcapTap>(cfg_.pcap);
    sw_->set_tap(tap_.get());
  }
  static const CpuDomain kHostDom[3] = {CpuDomain::kClientHost, CpuDomain::kServerHost, CpuDomain::kClientHost};
  static const CpuDomain kNicDom[3] = {CpuDomain::kClientNic, CpuDomain::kServerNic, CpuDomain::kClientNic};
  for (int i = 0; i < 3; ++i) {
    nic::NicConfig nc;
    if (cfg_.tso_gro)
      Host::rx_coalescing(nc, [this](Nanos delay, std::function<void()> fn) { events_.schedule(clock_.now() + delay, std::move(fn)); });
    hosts_[i] = std::make_unique<Host>(kIps[i], kMacs[i], kMacs[(i + 1) % 3], cfg_.mtu, false, nc, &meter_,
                                       kHostDom[i], kNicDom[i]);
    hosts_[i]->amortise(cfg_.tso_gro, cfg_.tso_gro);
    for (int j = 0; j < 3; ++j)  // every other station, by its address (no ARP on the switch)
      if (j != i) hosts_[i]->driver()->add_neighbour(kIps[i], kIps[j], kMacs[j]);
    const size_t port = sw_->add_port(kMacs[i], &rx_taps_[i]);
    tx_links_[i] = std::make_unique<CountingLink>(sw_->uplink(port));
    rx_taps_[i].connect(kMacs[i], hosts_[i]->attach(tx_links_[i].get()));
  }
}

void FileServerRun::build_storage() {
  ctrl_ = std::make_unique<l5p::nvme::NvmeController>(make_pattern_namespace(gen_nvme_),
                                                      nvme_queue_config(gen_nvme_, *hosts_[2], &meter_), ctrl_nst_,
                                                      l5p::nvme::CtrlConfig{});
  nvme_listener_ = std::make_unique<tcpip::TcpListener>(
      hosts_[2]->nif(), kStorageIp, gen_nvme_.nvme_port, [this](std::unique_ptr<tcpip::TcpConn> c) {
        ctrl_->accept(make_nvme_transport(gen_nvme_, std::move(c), false, *hosts_[2], tls_, nvme_tls_sessions_));
      });
  uint16_t next_port = kNvmePortBase;
  nhost_ = std::make_unique<l5p::nvme::NvmeHost>(
      [this, next_port]() mutable {
        return make_nvme_transport(
            web_nvme_, tcpip::TcpConn::connect(hosts_[1]->nif(), kWebIp, next_port++, kStorageIp, web_nvme_.nvme_port),
            true, *hosts_[1], tls_, nvme_tls_sessions_);
      },
      nvme_admin_queue_config(web_nvme_, *hosts_[1], &meter_), nvme_queue_config(web_nvme_, *hosts_[1], &meter_),
      host_nst_,
      [this] {
        auto nf = std::make_unique<apps::NvmeFiles>(*nhost_, files_);
        nvme_files_ = nf.get();
        source_ = std::move(nf);
        connect_clients();
      },
      [this](const std::string& o) {
        if (nvme_failure_.empty()) nvme_failure_ = o;
      });
  nhost_->start();
}

void FileServerRun::connect_clients() {
  for (uint32_t i = 0; i < cfg_.conns; ++i) {
    Conn& c = client_conns_.emplace_back();
    c.s = make_stream(gen_tls_,
                      tcpip::TcpConn::connect(hosts_[0]->nif(), kClientIp, uint16_t(kClientPortBase + i), kWebIp,
                                              uint16_t(cfg_.https ? 443 : 80)),
                      true, *hosts_[0], tls_);
    c.h = std::make_unique<apps::http::Client>(*c.s, files_, budget_, splitmix64(cfg_.seed * 1000003 + i), clock_,
                                               &meter_);
    c.s->set_handler(c.h.get());
  }
}

FileServerRun::~FileServerRun() {
  // Connections (they destroy offload contexts) before the NVMe host, the files and the hosts;
  // lwIP stops last (lwip_).
  client_conns_.clear();
  web_conns_.clear();
  http_listener_.reset();
  nhost_.reset();
  source_.reset();
  ctrl_.reset();
  nvme_listener_.reset();
  for (auto& h : hosts_) h.reset();
}

std::string FileServerRun::failure() const {
  if (budget_.failure) return *budget_.failure;
  if (!nvme_failure_.empty()) return "nvme:" + nvme_failure_;
  if (ctrl_ && !ctrl_->failure().empty()) return "controller:" + ctrl_->failure();
  for (const Conn& w : web_conns_) {
    const auto* sc = static_cast<const apps::http::ServerConn*>(w.h.get());
    if (sc->failure) return "server:" + *sc->failure;
  }
  return {};
}

std::string FileServerRun::run() {
  const Nanos limit = Nanos(cfg_.time_limit_s * 1e9), stall = Nanos(cfg_.stall_s * 1e9);
  Nanos next_timer = 0, last_t = 0;
  uint64_t last_progress = ~0ull;
  std::string outcome;
  for (;;) {
    outcome = failure();
    if (!outcome.empty()) break;
    if (budget_.done == cfg_.requests) break;
    const uint64_t progress = budget_.body_bytes + (nhost_ ? uint64_t(nhost_->init_state()) : 0);
    const Nanos now = clock_.now();
    if (progress != last_progress) {
      last_progress = progress;
      last_t = now;
    } else if (now - last_t > stall) {
      outcome = "stalled";
      break;
    }
    if (now > limit) {
      outcome = "time_limit";
      break;
    }
    const Nanos t = events_.empty() ? next_timer : std::min(events_.next_time(), next_timer);
    clock_.advance_to(t);
    while (!events_.empty() && events_.next_time() <= clock_.now()) events_.run_next();
    if (clock_.now() >= next_timer) {
      CpuScope scope(&meter_, CpuDomain::kOther);
      next_timer = tcpip::lwip_run_timers();
    }
  }
  // Frames already on their way arrive (the last ACKs): no lwIP timer runs, so this ends, and
  // every frame sent has then reached its station. No new GET starts (a run that ended on a
  // failure, a stall or the time limit counts nothing after it).
  budget_.left = 0;
  budget_.go = false;
  while (!events_.empty()) {
    clock_.advance_to(std::max(clock_.now(), events_.next_time()));
    events_.run_next();
  }
  meter_.flush();
  return outcome;
}

FileServerReport FileServerRun::report(const std::string& outcome) {
  FileServerReport r;
  r.outcome = outcome.empty() ? "ok" : outcome;
  r.requests = budget_.done;
  r.body_bytes = budget_.body_bytes;
  r.wrong_bytes = budget_.wrong_bytes;
  r.verified = outcome.empty() && r.wrong_bytes == 0 && r.requests == cfg_.requests;
  r.latency_sum_ns = budget_.latency_sum;
  r.nvme_ios = nvme_files_ ? nvme_files_->ios : 0;
  r.sim_seconds = double(clock_.now()) / 1e9;
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
  using D = CpuDomain;
  const auto cyc = [&](D d) { return meter_.cycles(d) - baseline_[size_t(d)]; };
  r.web_app = cyc(D::kServerApp);
  r.web_copy = cyc(D::kServerCopy);
  r.web_digest = cyc(D::kServerDigest);
  r.web_host = cyc(D::kServerHost) + r.web_app + r.web_copy + r.web_digest;
  r.web_nic = cyc(D::kServerNic);
  r.gen_app = cyc(D::kClientApp);
  r.gen_host = cyc(D::kClientHost) + r.gen_app + cyc(D::kClientCopy) + cyc(D::kClientDigest);
  static const char* kNames[3] = {"client", "web", "storage"};
  for (int i = 0; i < 3; ++i) {
    r.stations[size_t(i)] = {kNames[i], kIps[i], rx_taps_[i].rx_frames, rx_taps_[i].rx_foreign,
                             tx_links_[i]->tx_frames, rx_taps_[i].rx_from};
    r.ports[size_t(i)] = sw_->port(size_t(i));
  }
  r.wire = sw_->stats();
  r.trace_hash = sw_->trace_hash();
  // The web server's offload counters: of each protocol it runs (TLS and NVMe/TCP: both).
  const bool tls = cfg_.https || web_nvme_.l5p == L5pKind::kNvmeTls;
  const L5pKind web_kinds = nvme_ ? (tls ? L5pKind::kNvmeTls : L5pKind::kNvmeTcp) : web_tls_.l5p;
  hosts_[0]->export_stats(r.client, web_tls_.l5p);
  hosts_[1]->export_stats(r.web, web_kinds);
  hosts_[2]->export_stats(r.storage, gen_nvme_.l5p);
  if (nvme_) {
    host_nst_.export_to(r.web);
    ctrl_nst_.export_to(r.storage);
  }
  for (const Conn& w : web_conns_) w.s->export_stats(r.web);
  for (const Conn& c : client_conns_) c.s->export_stats(r.client);
  r.offloads = fileserver_offloads(cfg_);
  r.source = cfg_.source == FileServerConfig::Source::kCache ? "cache"
             : cfg_.source == FileServerConfig::Source::kNvme ? "nvme"
                                                               : "nvme-tls";
  return r;
}

}  // namespace

FileServerReport run_fileserver(const FileServerConfig& cfg) {
  validate_fileserver(cfg);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);  // as run_scenario: no kernel page faults charged to a host
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  FileServerRun run(cfg);
  const std::string outcome = run.run();
  return run.report(outcome);
}

}  // namespace autonic::testbed
