#include "testbed/testbed.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include "apps/bulk.h"
#include "common/event_queue.h"
#include "l5p/framed/framed_session.h"
#include "l5p/plain_stream.h"
#include "testbed/host.h"

namespace autonic::testbed {
namespace {

constexpr uint32_t kClientIp = 0x0A000001, kServerIp = 0x0A000002;
constexpr uint16_t kServerPort = 5001, kClientPortBase = 40000;
constexpr std::array<uint8_t, 6> kClientMac{0x02, 0, 0, 0, 0, 1}, kServerMac{0x02, 0, 0, 0, 0, 2};

struct Flow {
  std::unique_ptr<l5p::Stream> client, server;
  std::unique_ptr<apps::BulkSender> sender;
  std::unique_ptr<apps::BulkReceiver> receiver;
  uint64_t seed = 0, bytes = 0;
};

std::unique_ptr<l5p::Stream> make_stream(const ScenarioConfig& cfg, std::unique_ptr<tcpip::TcpConn> c,
                                         bool client, Host& host) {
  if (cfg.l5p == L5pKind::kTcp) return std::make_unique<l5p::PlainStream>(std::move(c));
  l5p::framed::SessionConfig sc;
  sc.secret = splitmix64(cfg.seed ^ 0xF4A3Dull);
  sc.msg_payload = cfg.msg_size;
  sc.offload = host.driver();
  // The client sends, the server receives; each side offloads the direction(s) asked for.
  const bool tx = cfg.offload == OffloadMode::kTx || cfg.offload == OffloadMode::kOn;
  const bool rx = cfg.offload == OffloadMode::kRx || cfg.offload == OffloadMode::kOn;
  sc.offload_tx = tx;
  sc.offload_rx = rx;
  return std::make_unique<l5p::framed::FramedSession>(
      std::move(c), client ? l5p::framed::FramedSession::Role::kClient : l5p::framed::FramedSession::Role::kServer, sc);
}

}  // namespace

Report run_scenario(const ScenarioConfig& cfg) {
  if (cfg.flows == 0 || cfg.flows > 1000) throw std::invalid_argument("--flows must be 1..1000");
  if (cfg.mtu < 576 || cfg.mtu > 9000) throw std::invalid_argument("--mtu must be 576..9000");
  if (cfg.bytes == 0) throw std::invalid_argument("--bytes must be > 0");
  if (cfg.bare && cfg.l5p != L5pKind::kTcp) throw std::invalid_argument("bare wire only carries --l5p tcp");

  const auto wall0 = std::chrono::steady_clock::now();
  VirtualClock vclock;
  RealClock rclock;
  const Clock& clock = cfg.real_clock ? static_cast<const Clock&>(rclock) : vclock;
  EventQueue events;
  CpuMeter meter;
  tcpip::lwip_start(&clock, cfg.seed);

  nic::NicConfig ncfg;
  ncfg.ctx_cache_bytes = cfg.ctx_cache_bytes;
  Host client(kClientIp, kClientMac, kServerMac, cfg.mtu, cfg.bare, ncfg, &meter,
              CpuDomain::kClientHost, CpuDomain::kClientNic);
  Host server(kServerIp, kServerMac, kClientMac, cfg.mtu, cfg.bare, ncfg, &meter,
              CpuDomain::kServerHost, CpuDomain::kServerNic);
  wire::SimWire wire(cfg.link, cfg.seed, clock, events);
  std::unique_ptr<wire::PcapTap> tap;
  if (!cfg.pcap.empty()) {
    tap = std::make_unique<wire::PcapTap>(cfg.pcap);
    wire.set_tap(tap.get());
  }
  wire.b_to_a().connect(client.attach(&wire.a_to_b()));
  wire.a_to_b().connect(server.attach(&wire.b_to_a()));

  std::vector<Flow> flows(cfg.flows);
  for (uint32_t i = 0; i < cfg.flows; ++i) {
    flows[i].seed = splitmix64(cfg.seed * 1000003ull + i);
    flows[i].bytes = cfg.bytes / cfg.flows + (i + 1 == cfg.flows ? cfg.bytes % cfg.flows : 0);
    flows[i].receiver = std::make_unique<apps::BulkReceiver>(flows[i].seed, flows[i].bytes);
  }
  tcpip::TcpListener listener(server.nif(), kServerIp, kServerPort, [&](std::unique_ptr<tcpip::TcpConn> c) {
    const uint32_t i = c->tx_flow().dport - kClientPortBase;
    if (i >= flows.size() || flows[i].server) return;  // unknown peer: dropped (aborted)
    flows[i].server = make_stream(cfg, std::move(c), false, server);
    flows[i].server->set_handler(flows[i].receiver.get());
  });
  for (uint32_t i = 0; i < cfg.flows; ++i) {
    auto c = tcpip::TcpConn::connect(client.nif(), kClientIp, uint16_t(kClientPortBase + i), kServerIp, kServerPort);
    flows[i].client = make_stream(cfg, std::move(c), true, client);
    flows[i].sender = std::make_unique<apps::BulkSender>(*flows[i].client, flows[i].seed, flows[i].bytes);
    flows[i].client->set_handler(flows[i].sender.get());
  }

  // ---- event loop: wire events and lwIP timers, in time order ----
  Report r;
  const Nanos limit = Nanos(cfg.time_limit_s * 1e9), stall = Nanos(cfg.stall_s * 1e9);
  Nanos next_timer = 0, last_progress_t = 0;
  uint64_t last_progress = 0;
  std::string outcome;
  for (;;) {
    bool done = true;
    uint64_t progress = 0;
    for (auto& f : flows) {
      done = done && f.receiver->complete();
      progress += f.receiver->received();
      if (outcome.empty() && f.receiver->failure) outcome = *f.receiver->failure;
      if (outcome.empty() && f.sender->failure) outcome = *f.sender->failure;
    }
    if (done || !outcome.empty()) break;
    const Nanos now = clock.now();
    if (progress != last_progress) {
      last_progress = progress;
      last_progress_t = now;
    } else if (now - last_progress_t > stall) {
      outcome = "stalled";
      break;
    }
    if (now > limit) {
      outcome = "time_limit";
      break;
    }
    const Nanos t = events.empty() ? next_timer : std::min(events.next_time(), next_timer);
    if (cfg.real_clock) {
      while (rclock.now() < t) {}  // spin: benchmarks only, one thread
    } else {
      vclock.advance_to(t);
    }
    const Nanos now2 = clock.now();
    while (!events.empty() && events.next_time() <= now2) events.run_next();
    if (now2 >= next_timer) {
      CpuScope scope(&meter, CpuDomain::kOther);
      next_timer = tcpip::lwip_run_timers();
    }
  }
  meter.flush();

  r.seed = cfg.seed;
  r.bytes = cfg.bytes;
  r.l5p = l5p_name(cfg.l5p);
  r.offload = cfg.bare ? "bare" : offload_name(cfg.offload);
  r.clock = cfg.real_clock ? "real" : "virtual";
  bool all_complete = true;
  for (auto& f : flows) {
    r.delivered_wrong_bytes += f.receiver->wrong_bytes();
    r.bytes_delivered += f.receiver->received();
    all_complete = all_complete && f.receiver->complete();
  }
  r.outcome = outcome.empty() ? "ok" : outcome;
  r.verified = outcome.empty() && all_complete && r.delivered_wrong_bytes == 0 && r.bytes_delivered == cfg.bytes;
  r.sim_seconds = double(clock.now()) / 1e9;
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  r.throughput_gbps = r.sim_seconds > 0 ? double(r.bytes_delivered) * 8 / r.sim_seconds / 1e9 : 0;
  // Per byte the application actually received (a run cut short by an error is not diluted).
  const double b = double(std::max<uint64_t>(r.bytes_delivered, 1));
  r.host_cpb_client = double(meter.cycles(CpuDomain::kClientHost)) / b;
  r.host_cpb_server = double(meter.cycles(CpuDomain::kServerHost)) / b;
  r.nic_cpb_client = double(meter.cycles(CpuDomain::kClientNic)) / b;
  r.nic_cpb_server = double(meter.cycles(CpuDomain::kServerNic)) / b;
  r.trace_hash = wire.trace_hash();
  r.wire = wire.stats();
  const bool framed = cfg.l5p == L5pKind::kFramed;
  client.export_stats(r.client, framed);
  server.export_stats(r.server, framed);
  for (auto& f : flows) {
    if (f.client) f.client->export_stats(r.client);
    if (f.server) f.server->export_stats(r.server);
  }
  // Tear down in order: streams (they destroy offload contexts) before hosts.
  flows.clear();
  tcpip::lwip_stop();
  return r;
}

Report run_isolated(const ScenarioConfig& cfg) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    try {
      out = run_scenario(cfg).to_json().dump();
    } catch (const std::exception& e) {
      out = nlohmann::json{{"error", e.what()}}.dump();
    }
    size_t off = 0;
    while (off < out.size()) {
      const ssize_t n = write(fds[1], out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += size_t(n);
    }
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string in;
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, size_t(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || in.empty())
    throw std::runtime_error("scenario child crashed (status " + std::to_string(status) + ")");
  const auto j = nlohmann::json::parse(in);
  if (j.contains("error")) throw std::runtime_error(j["error"].get<std::string>());
  return Report::from_json(j);
}

}  // namespace autonic::testbed
