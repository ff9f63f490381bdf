// run_net: one host on a real device. Build (device, faults, pcap, host, the verb's sessions),
// loop (poll() on the device until the next timer: no busy-waiting, the peer may share our two
// cores), close (TLS close_notify / TCP FIN, a short drain), report.
#include "testbed/net_run.h"

#include <malloc.h>
#include <poll.h>

#include <csignal>
#include <random>
#include <stdexcept>

#include "testbed/net_session.h"
#include "testbed/scenario_run.h"

namespace autonic::testbed {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_signal(int) { g_interrupted = 1; }

// Ctrl-C / SIGTERM end the run cleanly (the loop sees the flag; poll() returns EINTR).
struct SignalGuard {
  struct sigaction old_int{}, old_term{};
  SignalGuard() {
    g_interrupted = 0;
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
  }
  ~SignalGuard() {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  }
};

}  // namespace

NetRun::NetRun(const NetConfig& cfg)
    // ISNs from the kernel's random source: a real peer may remember the last run's
    // connection, and predictable ISNs are an attack surface (RFC 6528).
    : cfg_(cfg), wall0_(std::chrono::steady_clock::now()), lwip_(&clock_, uint64_t(std::random_device{}()) << 32 | std::random_device{}()) {
  dev_ = wire::open_device(cfg_.wire);
  if (!cfg_.sc.pcap.empty()) pcap_ = std::make_unique<wire::PcapTap>(cfg_.sc.pcap);
  devlink_ = std::make_unique<wire::DeviceLink>(*dev_, pcap_.get(), clock_);
  const bool client = is_client();
  nic::NicConfig n;
  n.ctx_cache_bytes = cfg_.sc.ctx_cache_bytes;
  n.ctx_policy = cfg_.sc.ctx_policy;
  n.faults = cfg_.sc.nic_faults;
  n.mac = cfg_.mac;
  if (cfg_.sc.trace)
    n.trace = [this](const std::string& line) { std::fprintf(stderr, "%12.6f NIC %s\n", double(clock_.now()) / 1e9, line.c_str()); };
  host_ = std::make_unique<Host>(cfg_.ip, cfg_.mac, std::array<uint8_t, 6>{}, cfg_.sc.mtu, false, n, &meter_,
                                 client ? CpuDomain::kClientHost : CpuDomain::kServerHost,
                                 client ? CpuDomain::kClientNic : CpuDomain::kServerNic);
  host_->host_netif().set_prefix(cfg_.prefix);
  host_->driver()->enable_arp(cfg_.ip, cfg_.peer_ip, cfg_.peer_mac);
  // TX: NIC -> faults -> device; RX: device -> faults -> NIC. Two directions, two seeds' streams.
  tx_faults_ = std::make_unique<wire::FaultLink>(cfg_.sc.link, cfg_.sc.seed, 0, clock_, events_,
                                                 [this](Bytes f) { devlink_->transmit(std::move(f)); });
  wire::FrameSink* nic = host_->attach(tx_faults_.get());
  rx_faults_ = std::make_unique<wire::FaultLink>(cfg_.sc.link, cfg_.sc.seed, 1, clock_, events_,
                                                 [nic](Bytes f) { nic->deliver(std::move(f)); });
  session_ = make_net_session(cfg_, *host_, clock_, meter_);
}

NetRun::~NetRun() {
  session_.reset();  // sessions (offload contexts) before the host; lwIP last (lwip_)
  host_.reset();
}

bool NetRun::is_client() const {
  return cfg_.verb == NetConfig::Verb::kConnect || cfg_.verb == NetConfig::Verb::kNvmeConnect;
}

// Waits in poll() for the device or the next timer, then runs what is due: frames in, queued
// frames out, held (reordered) frames, lwIP's timers.
void NetRun::step(Nanos& next_timer) {
  Nanos now = clock_.now();
  Nanos t = std::min(next_timer, events_.empty() ? next_timer : events_.next_time());
  const Nanos cap = now + 100'000'000;  // wake at least every 100 ms: stall and limit checks
  t = std::min(t, cap);
  const int timeout_ms = t > now ? int((t - now + 999'999) / 1'000'000) : 0;
  pollfd p{dev_->fd(), short(POLLIN | (dev_->tx_pending() ? POLLOUT : 0)), 0};
  const int r = ::poll(&p, 1, timeout_ms);
  if (r > 0 && (p.revents & POLLOUT)) dev_->flush();
  if (r > 0 && (p.revents & (POLLIN | POLLERR))) {
    Bytes f;
    for (int i = 0; i < 256 && dev_->recv(f); ++i) {  // a batch, then timers get their turn
      devlink_->record_rx(f);
      rx_faults_->deliver(std::move(f));
    }
  }
  now = clock_.now();
  while (!events_.empty() && events_.next_time() <= now) events_.run_next();
  if (now >= next_timer) {
    CpuScope scope(&meter_, CpuDomain::kOther);
    next_timer = tcpip::lwip_run_timers();
  }
}

std::string NetRun::run() {
  SignalGuard signals;
  const Nanos limit = Nanos(cfg_.sc.time_limit_s * 1e9), stall = Nanos(cfg_.sc.stall_s * 1e9);
  Nanos next_timer = 0, last_progress_t = 0;
  uint64_t last_progress = ~0ull;
  std::string outcome;
  for (;;) {
    if (g_interrupted) {
      outcome = "interrupted";
      break;
    }
    const NetSession::Status s = session_->poll(clock_.now());
    if (!s.failure.empty()) {
      outcome = s.failure;
      break;
    }
    if (s.done) break;
    const Nanos now = clock_.now();
    if (s.progress != last_progress) {
      last_progress = s.progress;
      last_progress_t = now;
    } else if (s.waiting_for_peer ? false : now - last_progress_t > stall) {
      outcome = "stalled";
      break;
    }
    if (now > limit) {
      outcome = s.waiting_for_peer ? "time_limit:no_peer" : "time_limit";
      break;
    }
    step(next_timer);
  }
  // Close as a well-behaved host does, and give the goodbye (close_notify, FIN, the peer's ACK)
  // a moment on the wire.
  // A target serves until told to stop: that is its normal end.
  if (cfg_.verb == NetConfig::Verb::kNvmeTarget && (outcome == "interrupted" || outcome == "time_limit:no_peer"))
    outcome.clear();
  session_->close();
  const Nanos until = clock_.now() + 1'000'000'000;  // a peer that never closes costs a second
  while (clock_.now() < until && !session_->closed()) step(next_timer);
  meter_.flush();
  return outcome;
}

Report NetRun::report(const std::string& outcome) {
  Report r;
  r.seed = cfg_.sc.seed;
  r.l5p = l5p_name(cfg_.sc.l5p);
  r.offload = offload_name(cfg_.sc.offload);
  r.clock = "real";
  r.outcome = outcome.empty() ? "ok" : outcome;
  CounterMap& m = is_client() ? r.client : r.server;
  const bool complete = session_->report(r, m);
  r.verified = outcome.empty() && complete && r.delivered_wrong_bytes == 0;
  r.sim_seconds = double(clock_.now()) / 1e9;
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
  // Per second of transfer when the session knows it (connected .. done), else of the whole run.
  const auto ts = r.extra.find("transfer_seconds");
  const double secs = ts != r.extra.end() && ts->second > 0 ? ts->second : r.sim_seconds;
  r.throughput_gbps = secs > 0 ? double(r.bytes_delivered) * 8 / secs / 1e9 : 0;
  const double b = double(std::max<uint64_t>(r.bytes_delivered, 1));
  const bool c = is_client();
  const auto host = c ? CpuDomain::kClientHost : CpuDomain::kServerHost, nic = c ? CpuDomain::kClientNic : CpuDomain::kServerNic,
             app = c ? CpuDomain::kClientApp : CpuDomain::kServerApp;
  (c ? r.host_cpb_client : r.host_cpb_server) = double(meter_.cycles(host) + meter_.cycles(app)) / b;
  (c ? r.app_cpb_client : r.app_cpb_server) = double(meter_.cycles(app)) / b;
  (c ? r.nic_cpb_client : r.nic_cpb_server) = double(meter_.cycles(nic)) / b;
  host_->export_stats(m, cfg_.sc.l5p);
  dev_->export_stats(m);
  const wire::WireStats& tx = tx_faults_->stats();
  const wire::WireStats& rx = rx_faults_->stats();
  r.wire = wire::WireStats{tx.frames + rx.frames, tx.bytes + rx.bytes, tx.dropped + rx.dropped,
                           tx.reordered + rx.reordered, tx.duplicated + rx.duplicated, tx.corrupted + rx.corrupted,
                           tx.tampered + rx.tampered};
  add_counter(m, "wire_tx_dropped", tx.dropped);
  add_counter(m, "wire_rx_dropped", rx.dropped);
  return r;
}

Report run_net(const NetConfig& cfg) {
  validate_config(cfg.sc);  // the checks `autonic run` makes (offload mode for the L5P, MTU, NVMe sizes)
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  NetRun run(cfg);
  const std::string outcome = run.run();
  return run.report(outcome);
}

}  // namespace autonic::testbed
