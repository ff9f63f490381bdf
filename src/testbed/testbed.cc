#include "testbed/testbed.h"

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include "apps/bulk.h"
#include "apps/fio.h"
#include "apps/pattern.h"
#include "l5p/nvme/nvme_ctrl.h"
#include "l5p/nvme/nvme_host.h"
#include "common/event_queue.h"
#include "l5p/framed/framed_session.h"
#include "l5p/tls/tls_session.h"
#include "l5p/plain_stream.h"
#include "testbed/host.h"
#include "testbed/scripted_ctrl.h"

namespace autonic::testbed {
namespace {

constexpr uint32_t kClientIp = 0x0A000001, kServerIp = 0x0A000002;
constexpr uint16_t kServerPort = 5001, kClientPortBase = 40000;
constexpr std::array<uint8_t, 6> kClientMac{0x02, 0, 0, 0, 0, 1}, kServerMac{0x02, 0, 0, 0, 0, 2};

struct Flow {
  std::unique_ptr<l5p::Stream> client, server;
  std::unique_ptr<apps::BulkSender> sender, rsender;        // client->server, server->client
  std::unique_ptr<apps::BulkReceiver> receiver, rreceiver;  // at the server, at the client
  std::unique_ptr<apps::DuplexHandler> client_h, server_h;
  uint64_t seed = 0, bytes = 0;
};

struct TlsShared {
  std::unique_ptr<l5p::tls::Credentials> creds;
  std::unique_ptr<l5p::tls::KeylogSink> keylog;
};

l5p::tls::Cipher parse_cipher(const std::string& c) {
  if (c == "aes128gcm") return l5p::tls::Cipher::kAes128Gcm;
  if (c == "aes256gcm") return l5p::tls::Cipher::kAes256Gcm;
  if (c == "chacha20poly1305") return l5p::tls::Cipher::kChacha20Poly1305;
  throw std::invalid_argument("unknown cipher '" + c + "' (aes128gcm | aes256gcm | chacha20poly1305)");
}

std::unique_ptr<l5p::tls::TlsSession> make_tls(const ScenarioConfig& cfg, std::unique_ptr<tcpip::TcpConn> c,
                                               bool client, Host& host, TlsShared& tls) {
  l5p::tls::SessionConfig sc;
  sc.cipher = parse_cipher(cfg.cipher);
  sc.record_size = cfg.record_size;
  sc.offload = host.driver();
  const OffloadMode m = cfg.offload;
  sc.offload_tx = m == OffloadMode::kTx || m == OffloadMode::kOn || m == OffloadMode::kZc || m == OffloadMode::kTls;
  sc.offload_rx = m == OffloadMode::kRx || m == OffloadMode::kOn || m == OffloadMode::kZc || m == OffloadMode::kTls;
  sc.zc = cfg.offload == OffloadMode::kZc;
  sc.creds = tls.creds.get();
  sc.keylog = tls.keylog.get();
  sc.openssl_only = cfg.openssl_peer && !client;
  sc.align_records = cfg.record_align;
  if (!client) {
    sc.peer_raw = cfg.tls_peer_raw;
    sc.peer_fin = cfg.tls_peer_fin;
    sc.pad_block = cfg.tls_peer_pad;
    sc.pad_after = cfg.tls_peer_pad_after;
  }
  return std::make_unique<l5p::tls::TlsSession>(
      std::move(c), client ? l5p::tls::TlsSession::Role::kClient : l5p::tls::TlsSession::Role::kServer, sc);
}

std::unique_ptr<l5p::Stream> make_stream(const ScenarioConfig& cfg, std::unique_ptr<tcpip::TcpConn> c,
                                         bool client, Host& host, TlsShared& tls) {
  if (cfg.l5p == L5pKind::kTcp) return std::make_unique<l5p::PlainStream>(std::move(c));
  if (cfg.l5p == L5pKind::kTls) return make_tls(cfg, std::move(c), client, host, tls);
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
  if (cfg.mtu < kMinMtu || cfg.mtu > kMaxMtu) throw std::invalid_argument("--mtu must be 576..9000");
  if (cfg.bytes == 0) throw std::invalid_argument("--bytes must be > 0");
  if (cfg.bare && cfg.l5p != L5pKind::kTcp) throw std::invalid_argument("bare wire only carries --l5p tcp");
  if (cfg.offload == OffloadMode::kZc && cfg.l5p != L5pKind::kTls)
    throw std::invalid_argument("--offload zc is for --l5p tls");
  if ((cfg.offload == OffloadMode::kCrc || cfg.offload == OffloadMode::kDdp) && cfg.l5p != L5pKind::kNvme)
    throw std::invalid_argument("--offload crc|ddp are for --l5p nvme (over TLS the NIC's NVMe engine runs inside "
                                "the TLS context: use on | tx | rx | tls)");
  if (cfg.offload == OffloadMode::kTls && cfg.l5p != L5pKind::kNvmeTls)
    throw std::invalid_argument("--offload tls (TLS offload only, NVMe digests in software) is for --l5p nvme-tls");
  if (cfg.l5p == L5pKind::kNvme || cfg.l5p == L5pKind::kNvmeTls) {
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
  if (cfg.record_size == 0 || cfg.record_size > 16384) throw std::invalid_argument("--record-size must be 1 .. 16K");
  if (cfg.l5p == L5pKind::kTls || cfg.l5p == L5pKind::kNvmeTls) parse_cipher(cfg.cipher);

  // Keep freed memory in the process: glibc would otherwise hand the heap top back to the kernel
  // and fault it in again (zeroed) moments later, and those kernel cycles would be charged to
  // whichever host / NIC domain happens to be running (measured: up to half of a DDP run's
  // host cycles at 64K depth 1).
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  const auto wall0 = std::chrono::steady_clock::now();
  VirtualClock vclock;
  RealClock rclock;
  const Clock& clock = cfg.real_clock ? static_cast<const Clock&>(rclock) : vclock;
  EventQueue events;
  CpuMeter meter;
  tcpip::lwip_start(&clock, cfg.seed);
  // lwIP is stopped after everything below is gone (listeners, connections, netifs), also when
  // a run ends in an exception: another run may follow in this process (fuzzing).
  struct LwipRun {
    ~LwipRun() { tcpip::lwip_stop(); }
  } lwip_run;
  TlsShared tls;
  if (cfg.l5p == L5pKind::kTls || cfg.l5p == L5pKind::kNvmeTls) {
    l5p::tls::install_deterministic_rand(cfg.seed);  // reproducible handshakes
    tls.creds = std::make_unique<l5p::tls::Credentials>();
    if (!cfg.keylog.empty()) tls.keylog = std::make_unique<l5p::tls::KeylogSink>(cfg.keylog);
  }

  auto nic_cfg = [&](const char* who) {
    nic::NicConfig n;
    n.ctx_cache_bytes = cfg.ctx_cache_bytes;
    if (cfg.trace)
      n.trace = [&clock, who](const std::string& line) {
        std::fprintf(stderr, "%12.6f %s NIC %s\n", double(clock.now()) / 1e9, who, line.c_str());
      };
    return n;
  };
  Host client(kClientIp, kClientMac, kServerMac, cfg.mtu, cfg.bare, nic_cfg("client"), &meter,
              CpuDomain::kClientHost, CpuDomain::kClientNic);
  Host server(kServerIp, kServerMac, kClientMac, cfg.mtu, cfg.bare, nic_cfg("server"), &meter,
              CpuDomain::kServerHost, CpuDomain::kServerNic);
  wire::SimWire wire(cfg.link, cfg.seed, clock, events);
  std::unique_ptr<wire::PcapTap> tap;
  if (!cfg.pcap.empty()) {
    tap = std::make_unique<wire::PcapTap>(cfg.pcap);
    wire.set_tap(tap.get());
  }
  wire.b_to_a().connect(client.attach(&wire.a_to_b()));
  wire.a_to_b().connect(server.attach(&wire.b_to_a()));

  const bool nvme = cfg.l5p == L5pKind::kNvme || cfg.l5p == L5pKind::kNvmeTls;
  const bool nvme_tls = cfg.l5p == L5pKind::kNvmeTls;
  // NVMe/TCP over TLS: each queue's TCP connection carries a TLS session (kept here too, for
  // its counters); the NVMe offload is stacked inside the TLS one.
  std::vector<l5p::tls::TlsSession*> nvme_tls_sessions;
  auto nvme_transport = [&](std::unique_ptr<tcpip::TcpConn> c, bool is_client, Host& h) {
    if (!nvme_tls) return l5p::nvme::tcp_transport(std::move(c));
    auto s = make_tls(cfg, std::move(c), is_client, h, tls);
    nvme_tls_sessions.push_back(s.get());
    return l5p::nvme::tls_transport(std::move(s));
  };
  std::vector<Flow> flows(nvme ? 0 : cfg.flows);
  for (uint32_t i = 0; i < flows.size(); ++i) {
    flows[i].seed = splitmix64(cfg.seed * 1000003ull + i);
    flows[i].bytes = cfg.bytes / cfg.flows + (i + 1 == cfg.flows ? cfg.bytes % cfg.flows : 0);
    flows[i].receiver = std::make_unique<apps::BulkReceiver>(flows[i].seed, flows[i].bytes, &meter);
    if (cfg.bidirectional)
      flows[i].rreceiver = std::make_unique<apps::BulkReceiver>(flows[i].seed ^ 0xB1D1ull, flows[i].bytes, &meter);
  }
  // ---- NVMe/TCP: controller on the server, host + fio on the client ----
  l5p::nvme::NvmeStats host_nst, ctrl_nst;
  std::unique_ptr<l5p::nvme::NvmeController> ctrl;
  std::unique_ptr<l5p::nvme::NvmeHost> nhost;
  std::unique_ptr<apps::Fio> fio;
  std::unique_ptr<tcpip::TcpListener> nvme_listener;
  std::string nvme_failure;
  // A scripted controller's connections: whatever the host sends, the script answers.
  struct ScriptedPeer final : l5p::StreamHandler {
    ScriptedCtrl* ctrl = nullptr;
    unsigned conn = 0;
    std::unique_ptr<l5p::Stream> s;
    Bytes pending;
    void on_data(ByteSpan d) override {
      const Bytes out = ctrl->on_bytes(conn, d);
      pending.insert(pending.end(), out.begin(), out.end());
      on_writable();
    }
    void on_writable() override {
      size_t sent = 0;
      while (sent < pending.size()) {
        const size_t n = s->send(ByteSpan(pending.data() + sent, pending.size() - sent));
        if (n == 0) break;
        sent += n;
      }
      pending.erase(pending.begin(), pending.begin() + long(sent));
    }
    void on_failed(const std::string&) override {}
  };
  std::vector<std::unique_ptr<ScriptedPeer>> scripted_peers;
  if (nvme) {
    auto ns = cfg.ns_file.empty() ? l5p::nvme::Namespace::ram(cfg.ns_size, cfg.lba_size)
                                  : l5p::nvme::Namespace::file(cfg.ns_file, cfg.ns_size, cfg.lba_size);
    {  // initial content: a pattern the workload can check every read against
      Bytes chunk(1 << 20);
      for (uint64_t o = 0; o < ns->bytes(); o += chunk.size()) {
        const size_t n = size_t(std::min<uint64_t>(chunk.size(), ns->bytes() - o));
        apps::pattern_fill(apps::ns_pattern_seed(cfg.seed), o, MutByteSpan(chunk.data(), n));
        ns->write(o, ByteSpan(chunk.data(), n));
      }
    }
    auto qcfg = [&](Host& h) {
      l5p::nvme::QueueConfig q;
      q.hdgst = cfg.hdgst;
      q.ddgst = cfg.ddgst;
      q.offload = h.driver();
      const OffloadMode m = cfg.offload;
      q.offload_tx = m == OffloadMode::kTx || m == OffloadMode::kOn || m == OffloadMode::kCrc;
      q.offload_rx = m == OffloadMode::kRx || m == OffloadMode::kOn || m == OffloadMode::kCrc;
      q.ddp = m == OffloadMode::kRx || m == OffloadMode::kOn || m == OffloadMode::kDdp;
      q.crc_offload = m != OffloadMode::kDdp;
      q.meter = &meter;
      return q;
    };
    if (cfg.scripted_ctrl) {
      // The controller's side is a scripted peer on a plain stream (TLS: the script's bytes are
      // the records' content); each connection gets the next index (admin first).
      auto& sc = *cfg.scripted_ctrl;
      sc.lba_size = cfg.lba_size;
      sc.ns_bytes = ns->bytes();
      sc.pattern_seed = apps::ns_pattern_seed(cfg.seed);
      nvme_listener = std::make_unique<tcpip::TcpListener>(
          server.nif(), kServerIp, cfg.nvme_port, [&](std::unique_ptr<tcpip::TcpConn> c) {
            auto p = std::make_unique<ScriptedPeer>();
            p->ctrl = cfg.scripted_ctrl.get();
            p->conn = unsigned(scripted_peers.size());
            if (nvme_tls) p->s = make_tls(cfg, std::move(c), false, server, tls);
            else p->s = std::make_unique<l5p::PlainStream>(std::move(c));
            p->s->set_handler(p.get());
            scripted_peers.push_back(std::move(p));
          });
    } else {
      ctrl = std::make_unique<l5p::nvme::NvmeController>(ns, qcfg(server), ctrl_nst);
      nvme_listener = std::make_unique<tcpip::TcpListener>(
          server.nif(), kServerIp, cfg.nvme_port,
          [&](std::unique_ptr<tcpip::TcpConn> c) { ctrl->accept(nvme_transport(std::move(c), false, server)); });
    }
    apps::FioConfig fc;
    fc.rw = cfg.rw;
    fc.io_size = cfg.io_size;
    fc.depth = cfg.depth;
    fc.bytes = cfg.bytes;
    fc.seed = cfg.seed;
    fc.region_limit = cfg.ns_size;
    uint16_t next_port = kClientPortBase;
    l5p::nvme::QueueConfig admin = qcfg(client);
    admin.offload_tx = admin.offload_rx = admin.ddp = false;  // the data path is the I/O queue
    nhost = std::make_unique<l5p::nvme::NvmeHost>(
        [&, next_port]() mutable {
          return nvme_transport(tcpip::TcpConn::connect(client.nif(), kClientIp, next_port++, kServerIp, cfg.nvme_port),
                                true, client);
        },
        admin, qcfg(client), host_nst, [&] { fio->start(); },
        [&](const std::string& o) { if (nvme_failure.empty()) nvme_failure = o; }, cfg.io_queues);
    fio = std::make_unique<apps::Fio>(*nhost, clock, fc, &meter);
    if (cfg.nvme_raw_script.empty()) nhost->start();
  }
  // Test hook: a raw client that sends a scripted byte sequence to the controller.
  struct RawPeer final : l5p::StreamHandler {
    const Bytes* script = nullptr;
    size_t sent = 0;
    Bytes got;
    l5p::Stream* s = nullptr;
    void on_data(ByteSpan d) override { got.insert(got.end(), d.begin(), d.end()); }
    void on_writable() override {
      while (sent < script->size()) {
        const size_t n = s->send(ByteSpan(script->data() + sent, script->size() - sent));
        if (n == 0) return;
        sent += n;
      }
    }
    void on_failed(const std::string&) override {}
  } raw_peer;
  std::unique_ptr<l5p::Stream> raw_stream;
  if (nvme && !cfg.nvme_raw_script.empty()) {
    raw_peer.script = &cfg.nvme_raw_script;
    auto conn = tcpip::TcpConn::connect(client.nif(), kClientIp, kClientPortBase, kServerIp, cfg.nvme_port);
    if (nvme_tls)  // the script travels as TLS application data
      raw_stream = make_tls(cfg, std::move(conn), true, client, tls);
    else
      raw_stream = std::make_unique<l5p::PlainStream>(std::move(conn));
    raw_peer.s = raw_stream.get();
    raw_stream->set_handler(&raw_peer);
  }

  tcpip::TcpListener listener(server.nif(), kServerIp, kServerPort, [&](std::unique_ptr<tcpip::TcpConn> c) {
    const uint32_t i = c->tx_flow().dport - kClientPortBase;
    if (i >= flows.size() || flows[i].server) return;  // unknown peer: dropped (aborted)
    Flow& f = flows[i];
    f.server = make_stream(cfg, std::move(c), false, server, tls);
    if (cfg.bidirectional)
      f.rsender = std::make_unique<apps::BulkSender>(*f.server, f.seed ^ 0xB1D1ull, f.bytes, &meter);
    f.server_h = std::make_unique<apps::DuplexHandler>(f.rsender.get(), f.receiver.get());
    f.server->set_handler(f.server_h.get());
  });
  for (uint32_t i = 0; i < flows.size(); ++i) {
    auto c = tcpip::TcpConn::connect(client.nif(), kClientIp, uint16_t(kClientPortBase + i), kServerIp, kServerPort);
    Flow& f = flows[i];
    f.client = make_stream(cfg, std::move(c), true, client, tls);
    f.sender = std::make_unique<apps::BulkSender>(*f.client, f.seed, f.bytes, &meter);
    f.client_h = std::make_unique<apps::DuplexHandler>(f.sender.get(), f.rreceiver.get());
    f.client->set_handler(f.client_h.get());
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
      for (apps::BulkReceiver* rcv : {f.receiver.get(), f.rreceiver.get()}) {
        if (!rcv) continue;
        done = done && rcv->complete();
        progress += rcv->received();
        if (outcome.empty() && rcv->failure) outcome = *rcv->failure;
      }
      if (outcome.empty() && f.sender->failure) outcome = *f.sender->failure;
      if (outcome.empty() && f.rsender && f.rsender->failure) outcome = *f.rsender->failure;
    }
    if (nvme) {
      done = fio->done();
      progress = fio->bytes_read_ok + fio->bytes_written + fio->ios;
      if (outcome.empty() && fio->failure) outcome = *fio->failure;
      if (outcome.empty() && !nvme_failure.empty()) outcome = nvme_failure;
      if (outcome.empty() && ctrl && !ctrl->failure().empty()) outcome = "controller:" + ctrl->failure();
      if (raw_stream) done = false;  // a scripted peer never completes: only the controller's verdict ends it
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
  // Let frames already on their way arrive (alerts, TermReqs, RSTs): a short drain in virtual
  // time, so the peer's view of the teardown is part of the run.
  if (!cfg.real_clock) {
    const Nanos until = clock.now() + 2'000'000;
    while (!events.empty() && events.next_time() <= until) {
      vclock.advance_to(events.next_time());
      events.run_next();
    }
  }
  meter.flush();

  r.seed = cfg.seed;
  r.bytes = cfg.bytes;
  r.l5p = l5p_name(cfg.l5p);
  r.offload = cfg.bare ? "bare" : offload_name(cfg.offload);
  r.clock = cfg.real_clock ? "real" : "virtual";
  bool all_complete = true;
  for (auto& f : flows)
    for (apps::BulkReceiver* rcv : {f.receiver.get(), f.rreceiver.get()}) {
      if (!rcv) continue;
      r.delivered_wrong_bytes += rcv->wrong_bytes();
      r.bytes_delivered += rcv->received();
      all_complete = all_complete && rcv->complete();
    }
  uint64_t expected = cfg.bidirectional ? 2 * cfg.bytes : cfg.bytes;
  if (nvme) {
    r.delivered_wrong_bytes = fio->wrong_bytes;
    r.bytes_delivered = fio->bytes_read_ok + fio->bytes_written;
    all_complete = fio->done() && !fio->failure;
    expected = r.bytes_delivered >= cfg.bytes ? r.bytes_delivered : cfg.bytes;
    std::vector<double> lat = fio->latencies_us;
    std::sort(lat.begin(), lat.end());
    double mean = 0;
    for (double v : lat) mean += v;
    r.extra["iops"] = fio->main_seconds > 0 ? double(fio->ios) / fio->main_seconds : 0;
    r.extra["lat_mean_us"] = lat.empty() ? 0 : mean / double(lat.size());
    r.extra["lat_p99_us"] = lat.empty() ? 0 : lat[std::min(lat.size() - 1, size_t(double(lat.size()) * 0.99))];
    if (raw_stream) {
      // What the scripted peer got after the 128-byte ICResp: the first CapsuleResp's status and
      // the FES of a C2HTermReq (spec: fatal errors end with one), -1 if none.
      const Bytes& g = raw_peer.got;
      r.extra["raw_first_status"] = -1;
      r.extra["raw_termreq_fes"] = -1;
      r.extra["raw_rx_bytes"] = double(g.size());
      for (size_t o = 128; o + 8 <= g.size();) {
        const uint32_t plen = l5p::nvme::le32(&g[o + 4]);
        if (plen < 8 || o + plen > g.size()) break;
        if (g[o] == uint8_t(l5p::nvme::PduType::kCapsuleResp) && r.extra["raw_first_status"] < 0)
          r.extra["raw_first_status"] = double(l5p::nvme::le16(&g[o + 8 + 14]) >> 1);
        if (g[o] == uint8_t(l5p::nvme::PduType::kC2HTermReq)) r.extra["raw_termreq_fes"] = double(l5p::nvme::le16(&g[o + 8]));
        o += plen;
      }
    }
  }
  r.outcome = outcome.empty() ? "ok" : outcome;
  r.verified = outcome.empty() && all_complete && r.delivered_wrong_bytes == 0 && r.bytes_delivered == expected;
  r.sim_seconds = double(clock.now()) / 1e9;
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  r.throughput_gbps = r.sim_seconds > 0 ? double(r.bytes_delivered) * 8 / r.sim_seconds / 1e9 : 0;
  // Per byte the application actually received (a run cut short by an error is not diluted).
  const double b = double(std::max<uint64_t>(r.bytes_delivered, 1));
  // Host CPU = app + L5P + TCP + driver; the app's share (pattern generation / checking) is
  // also reported apart, so the stack's own cost can be compared with the paper's.
  r.app_cpb_client = double(meter.cycles(CpuDomain::kClientApp)) / b;
  r.app_cpb_server = double(meter.cycles(CpuDomain::kServerApp)) / b;
  r.copy_cpb_client = double(meter.cycles(CpuDomain::kClientCopy)) / b;
  r.copy_cpb_server = double(meter.cycles(CpuDomain::kServerCopy)) / b;
  r.digest_cpb_client = double(meter.cycles(CpuDomain::kClientDigest)) / b;
  r.digest_cpb_server = double(meter.cycles(CpuDomain::kServerDigest)) / b;
  r.host_cpb_client = double(meter.cycles(CpuDomain::kClientHost)) / b + r.app_cpb_client + r.copy_cpb_client + r.digest_cpb_client;
  r.host_cpb_server = double(meter.cycles(CpuDomain::kServerHost)) / b + r.app_cpb_server + r.copy_cpb_server + r.digest_cpb_server;
  r.nic_cpb_client = double(meter.cycles(CpuDomain::kClientNic)) / b;
  r.nic_cpb_server = double(meter.cycles(CpuDomain::kServerNic)) / b;
  r.trace_hash = wire.trace_hash();
  r.wire = wire.stats();
  client.export_stats(r.client, cfg.l5p);
  server.export_stats(r.server, cfg.l5p);
  for (auto& f : flows) {
    if (f.client) f.client->export_stats(r.client);
    if (f.server) f.server->export_stats(r.server);
  }
  if (nvme) {
    host_nst.export_to(r.client);
    ctrl_nst.export_to(r.server);
  }
  for (l5p::tls::TlsSession* s : nvme_tls_sessions) s->export_stats(s->is_client() ? r.client : r.server);
  // Tear down in order: streams (they destroy offload contexts) before hosts.
  flows.clear();
  raw_stream.reset();
  scripted_peers.clear();
  fio.reset();
  nhost.reset();
  ctrl.reset();
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
