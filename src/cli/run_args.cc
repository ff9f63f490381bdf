#include "cli/run_args.h"

#include "cli/parse.h"

namespace autonic::cli {

void add_run_options(CLI::App* run, RunArgs& a) {
  run->add_option("--l5p", a.l5p, "layer-5 protocol: tcp, a registered L5P (l5o/l5p_registry.h), or nvme-tls (NVMe/TCP over TLS)")
      ->check(CLI::IsMember(testbed::l5p_names()));
  run->add_option("--offload", a.offload,
                  "off | tx | rx | on | zc (tls: on + zero-copy send) | crc, ddp (nvme: digest only / copy only) | tls (nvme-tls: TLS only)")
      ->check(CLI::IsMember({"off", "tx", "rx", "on", "zc", "crc", "ddp", "tls"}));
  run->add_option("--rw", a.rw, "nvme: read | write | randread | randwrite | randrw");
  run->add_option("--io-size", a.io_size, "nvme: I/O size");
  run->add_option("--depth", a.depth, "nvme: queue depth");
  run->add_option("--queues", a.queues, "nvme: I/O queues (connections), each with its own offload contexts");
  run->add_option("--ns-size", a.ns_size, "nvme: namespace size");
  run->add_option("--lba-size", a.lba_size, "nvme: 512 | 4096");
  run->add_option("--ns-file", a.ns_file, "nvme: back the namespace with this file instead of RAM");
  run->add_option("--port", a.nvme_port, "nvme: controller TCP port (4420, the IANA NVMe/TCP port)");
  run->add_flag("--no-hdgst", a.no_hdgst, "nvme: do not negotiate header digests");
  run->add_flag("--no-ddgst", a.no_ddgst, "nvme: do not negotiate data digests");
  run->add_option("--cipher", a.cipher, "tls: aes128gcm | aes256gcm | chacha20poly1305")
      ->check(CLI::IsMember({"aes128gcm", "aes256gcm", "chacha20poly1305"}));
  run->add_option("--tls-version", a.tls_version, "tls: 1.3 | 1.2 (nvme-tls: 1.3 only)")->check(CLI::IsMember({"1.2", "1.3"}));
  run->add_option("--key-update-every", a.key_update_every,
                  "tls 1.3: each side sends a KeyUpdate every N records (the OpenSSL peer: one asking for ours); 0 = never");
  run->add_option("--record-size", a.record_size, "tls: record payload size, up to 16K");
  run->add_option("--record-align", a.record_align, "tls: mss = size records to whole TCP segments | none")
      ->check(CLI::IsMember({"mss", "none"}));
  run->add_option("--keylog", a.keylog, "tls: write TLS secrets to this file (SSLKEYLOGFILE format)");
  run->add_flag("--bidir", a.bidir, "the server sends the same amount back on every flow");
  run->add_flag("--openssl-peer", a.openssl_peer, "tls / nvme-tls: the server / controller uses OpenSSL's own record layer (interop)");
  run->add_option("--bytes", a.bytes, "bytes to transfer (K/M/G suffixes, powers of 2)");
  run->add_option("--flows", a.flows, "parallel connections, 1 .. 131072 (above 1000 they take turns: --burst)");
  run->add_option("--burst", a.burst, "packets a flow writes per turn: every flow opens first, then flows take turns (default 8 above 1000 flows; 0 = all at once)");
  run->add_option("--churn", a.churn, "open, use (4 KiB) and close this many short connections while the bulk flows run (tcp, framed, tls)");
  run->add_option("--order", a.order, "turn order: rr (round-robin) | random (seeded)")->check(CLI::IsMember({"rr", "random"}));
  run->add_option("--msg-size", a.msg_size, "L5P message payload size");
  run->add_option("--loss", a.loss, "frame loss probability (2% or 0.02)");
  run->add_option("--reorder", a.reorder, "frame reorder probability");
  run->add_option("--dup", a.dup, "frame duplication probability");
  run->add_option("--corrupt", a.corrupt, "line-noise bit flip probability (checksum left wrong)");
  run->add_option("--tamper", a.tamper, "attacker payload bit flip probability (checksum fixed)");
  run->add_option("--rate", a.rate, "link rate, Gbps");
  run->add_option("--delay", a.delay_us, "one-way delay, microseconds");
  run->add_option("--mtu", a.mtu, "IP MTU, 576 .. 9000 (1500; 9000 = jumbo frames)");
  run->add_option("--tso", a.tso, "on | off: lwIP builds 64 KiB segments, the NIC cuts them at the MSS (off: loss runs keep per-packet retransmission)")
      ->check(CLI::IsMember({"on", "off"}));
  run->add_option("--gro", a.gro, "on | off: NIC interrupt moderation + driver GRO that never merges different offload marks")
      ->check(CLI::IsMember({"on", "off"}));
  run->add_option("--nic-core", a.nic_core,
                  "on | off: run both NIC models on a second CPU, as a real NIC's engines keep out of the host's "
                  "caches (benchmarks; needs two CPUs)")
      ->check(CLI::IsMember({"on", "off"}));
  run->add_option("--seed", a.seed, "random seed, 0 .. 2^64-1 (same seed => same frames on the wire)");
  run->add_option("--clock", a.clock, "virtual | real")->check(CLI::IsMember({"virtual", "real"}));
  run->add_option("--pcap", a.pcap, "record the wire to this pcap file");
  run->add_option("--ctx-cache", a.ctx_cache, "NIC context cache capacity (bytes; K/M/G suffixes: 4M)");
  run->add_option("--ctx-policy", a.ctx_policy, "lru | clock: NIC context cache replacement")
      ->check(CLI::IsMember({"lru", "clock"}));
  run->add_option("--lwip-demux", a.lwip_demux,
                  "how lwIP finds a segment's connection: list (lwIP's own, walked) | hash (its lists bucketed "
                  "by 4-tuple) | auto (hash above 1000 flows)")
      ->check(CLI::IsMember({"auto", "list", "hash"}));
  run->add_option("--nic-marks", a.nic_marks,
                  "sub | packet: RX marks may begin inside a packet (issue #15), or whole packets only (the paper's NIC)")
      ->capture_default_str();
  run->add_option("--nic-fault", a.nic_fault,
                  "inject NIC failures (both hosts): reject-create-from=N,ring-full-from=N,lose-ctx-every=N,reset-after-tx=N");
  run->add_flag("--bare", a.bare, "lwIP over a bare wire: NIC and driver bypassed (baseline)");
  run->add_flag("--json", a.json, "print one JSON object");
  run->add_flag("--trace", a.trace, "print every NIC RX resync state change (stderr), with the virtual time");
}

testbed::ScenarioConfig to_config(const RunArgs& a) {
  testbed::ScenarioConfig c;
  auto size = [](const std::string& v, const char* what) {
    auto s = cli::parse_size(v);
    if (!s) throw CLI::ValidationError(what, "not a size: '" + v + "' (use e.g. 64M, 16K, 1G)");
    return *s;
  };
  auto uint = [](const std::string& v, const char* what, uint64_t lo, uint64_t hi) {
    auto n = cli::parse_uint(v, lo, hi);
    if (!n)
      throw CLI::ValidationError(what, "must be an unsigned integer in " + std::to_string(lo) + " .. " +
                                           std::to_string(hi) + ", got '" + v + "'");
    return *n;
  };
  auto prob = [](const std::string& v, const char* what) {
    auto p = cli::parse_prob(v);
    if (!p) throw CLI::ValidationError(what, "not a probability: '" + v + "' (use e.g. 2% or 0.02)");
    return *p;
  };
  c.l5p = testbed::l5p_from_name(a.l5p).value_or(testbed::L5pKind::kTcp);  // checked by IsMember
  c.offload = a.offload == "off" ? testbed::OffloadMode::kOff
              : a.offload == "tx" ? testbed::OffloadMode::kTx
              : a.offload == "rx" ? testbed::OffloadMode::kRx
              : a.offload == "zc" ? testbed::OffloadMode::kZc
              : a.offload == "crc" ? testbed::OffloadMode::kCrc
              : a.offload == "ddp" ? testbed::OffloadMode::kDdp
              : a.offload == "tls" ? testbed::OffloadMode::kTls
                                  : testbed::OffloadMode::kOn;
  c.bytes = size(a.bytes, "--bytes");
  const uint64_t ms = size(a.msg_size, "--msg-size");
  if (ms == 0 || ms > (1u << 20)) throw CLI::ValidationError("--msg-size", "must be 1 .. 1M");
  c.msg_size = uint32_t(ms);
  c.flows = uint32_t(uint(a.flows, "--flows", 1, testbed::kMaxFlows));
  c.burst = uint32_t(uint(a.burst, "--burst", 0, 4096));
  c.random_order = a.order == "random";
  c.churn = uint32_t(uint(a.churn, "--churn", 0, 10'000'000));
  c.link.loss = prob(a.loss, "--loss");
  c.link.reorder = prob(a.reorder, "--reorder");
  c.link.dup = prob(a.dup, "--dup");
  c.link.corrupt = prob(a.corrupt, "--corrupt");
  c.link.tamper = prob(a.tamper, "--tamper");
  if (!(a.rate > 0 && a.rate <= 10000)) throw CLI::ValidationError("--rate", "must be in (0, 10000] Gbps");
  if (!(a.delay_us >= 0 && a.delay_us <= 1e6)) throw CLI::ValidationError("--delay", "must be 0 .. 1e6 us");
  c.link.rate_gbps = a.rate;
  c.link.delay_ns = Nanos(a.delay_us * 1000);
  c.mtu = uint16_t(uint(a.mtu, "--mtu", testbed::kMinMtu, testbed::kMaxMtu));
  c.seed = uint(a.seed, "--seed", 0, UINT64_MAX);
  c.real_clock = a.clock == "real";
  c.pcap = a.pcap;
  c.bare = a.bare;
  c.tso = a.tso == "on";
  c.gro = a.gro == "on";
  c.nic_core = a.nic_core == "on";
  c.ctx_cache_bytes = size(a.ctx_cache, "--ctx-cache");
  nic::parse_ctx_policy(a.ctx_policy, &c.ctx_policy);  // checked by the option
  c.lwip_demux = a.lwip_demux == "list"   ? testbed::ScenarioConfig::LwipDemux::kList
                 : a.lwip_demux == "hash" ? testbed::ScenarioConfig::LwipDemux::kHash
                                          : testbed::ScenarioConfig::LwipDemux::kAuto;
  if (a.nic_marks != "sub" && a.nic_marks != "packet") throw CLI::ValidationError("--nic-marks", "must be sub | packet");
  c.whole_packet_marks = a.nic_marks == "packet";
  if (!a.nic_fault.empty()) {
    std::string err;
    auto f = cli::parse_nic_faults(a.nic_fault, &err);
    if (!f) throw CLI::ValidationError("--nic-fault", err);
    c.nic_faults = *f;
  }
  const uint64_t rs = size(a.record_size, "--record-size");
  if (rs == 0 || rs > 16384) throw CLI::ValidationError("--record-size", "must be 1 .. 16K (RFC 8446 §5.1)");
  c.record_size = uint32_t(rs);
  c.cipher = a.cipher;
  c.tls_version = a.tls_version;
  c.key_update_every = uint(a.key_update_every, "--key-update-every", 0, 1u << 30);
  c.keylog = a.keylog;
  c.record_align = a.record_align == "mss";
  c.bidirectional = a.bidir;
  c.openssl_peer = a.openssl_peer;
  c.trace = a.trace;
  c.rw = a.rw;
  const uint64_t ios = size(a.io_size, "--io-size");
  if (ios == 0 || ios > (32u << 20)) throw CLI::ValidationError("--io-size", "must be 1 .. 32M");
  c.io_size = uint32_t(ios);
  c.depth = uint32_t(uint(a.depth, "--depth", 1, 1000));
  c.io_queues = uint32_t(uint(a.queues, "--queues", 1, 64));
  c.ns_size = size(a.ns_size, "--ns-size");
  c.lba_size = uint32_t(uint(a.lba_size, "--lba-size", 512, 4096));  // 512 | 4096: the testbed says
  c.ns_file = a.ns_file;
  c.nvme_port = uint16_t(uint(a.nvme_port, "--port", 1, 65535));
  c.hdgst = !a.no_hdgst;
  c.ddgst = !a.no_ddgst;
  return c;
}

}  // namespace autonic::cli
