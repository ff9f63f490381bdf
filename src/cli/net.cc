#include "cli/net.h"

#include <arpa/inet.h>

#include <cstdio>
#include <iostream>
#include <optional>

#include "apps/pattern.h"
#include "cli/parse.h"
#include "cli/run_args.h"
#include "testbed/net_run.h"

namespace autonic::cli {

// One verb: its subcommand, the scenario flags it shares with `autonic run`, and its own.
struct NetVerb {
  CLI::App* cmd = nullptr;
  testbed::NetConfig::Verb verb{};
  std::string l5p;
  RunArgs ra;
  std::string wire, ip, mac = "52:54:00:77:00:01", peer_mac, target, port, send = "0", send_file, recv = "0", out, peer_seed,
                      time_limit = "600", stall = "30", traddr, trsvcid = "4420", nqn, hostnqn;
  std::string cert, key, ca, tickets = "0", faults_after = "0";
  bool verify = false, tls = false;
};

struct NetCommands {
  std::vector<std::unique_ptr<NetVerb>> verbs;
  CLI::App* pattern = nullptr;
  std::string pattern_seed = "1", pattern_bytes = "1M";
};

namespace {

std::optional<std::array<uint8_t, 6>> parse_mac(const std::string& s) {
  std::array<uint8_t, 6> m{};
  unsigned v[6];
  char tail;
  if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
    return std::nullopt;
  for (int i = 0; i < 6; ++i) m[size_t(i)] = uint8_t(v[i]);
  return m;
}

uint32_t parse_ipv4(const std::string& s, const char* what) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) throw CLI::ValidationError(what, "not an IPv4 address: '" + s + "'");
  return ntohl(a.s_addr);
}

uint64_t num(const std::string& v, const char* what, uint64_t lo, uint64_t hi) {
  auto n = parse_uint(v, lo, hi);
  if (!n) throw CLI::ValidationError(what, "must be an integer in " + std::to_string(lo) + " .. " + std::to_string(hi));
  return *n;
}

uint64_t size_or_throw(const std::string& v, const char* what) {
  auto s = parse_size(v);
  if (!s) throw CLI::ValidationError(what, "not a size: '" + v + "' (use e.g. 64M)");
  return *s;
}

// The flags every real-network verb has.
void add_common(NetVerb& v) {
  CLI::App* c = v.cmd;
  RunArgs& a = v.ra;
  c->add_option("--wire", v.wire, "tap:IFNAME (a Linux TAP) | qemu:DIR (QEMU -netdev dgram: DIR/host.sock is ours, DIR/qemu.sock QEMU's)")
      ->required();
  c->add_option("--ip", v.ip, "our address and prefix, e.g. 192.168.77.1/24")->required();
  c->add_option("--mac", v.mac, "our MAC (default 52:54:00:77:00:01)");
  c->add_option("--peer-mac", v.peer_mac, "the peer's MAC: a static neighbour (default: ARP)");
  c->add_option("--offload", a.offload, "off | tx | rx | on | zc (tls) | crc, ddp (nvme)")
      ->check(CLI::IsMember({"off", "tx", "rx", "on", "zc", "crc", "ddp", "tls"}));
  c->add_option("--mtu", a.mtu, "IP MTU, 576 .. 9000 (the device's must match)");
  c->add_option("--loss", a.loss, "drop this share of frames, both directions at our device (2% or 0.02)");
  c->add_option("--reorder", a.reorder, "hold back this share of frames 1-5 ms");
  c->add_option("--dup", a.dup, "duplicate this share of frames");
  c->add_option("--corrupt", a.corrupt, "flip a bit (checksums left wrong)");
  c->add_option("--tamper", a.tamper, "flip a TCP payload bit and fix the checksum (an on-path attacker)");
  c->add_option("--faults-after", v.faults_after, "the fault flags spare each direction's first N frames (let a peer's set-up through)");
  c->add_option("--pcap", a.pcap, "record every frame crossing our device");
  c->add_option("--keylog", a.keylog, "tls: write TLS secrets here (SSLKEYLOGFILE format)");
  c->add_option("--nic-fault", a.nic_fault, "inject NIC failures (see autonic run --help)");
  c->add_option("--ctx-cache", a.ctx_cache, "NIC context cache capacity (bytes)");
  c->add_option("--seed", a.seed, "seed of the fault draws and of the pattern we send");
  c->add_option("--time-limit", v.time_limit, "seconds before the run gives up (default 600)");
  c->add_option("--stall", v.stall, "seconds without progress before the run gives up (default 30)");
  c->add_flag("--trace", a.trace, "print every NIC RX resync state change (stderr)");
  c->add_flag("--json", a.json, "print one JSON object");
}

void add_stream(NetVerb& v, bool serve) {
  CLI::App* c = v.cmd;
  if (serve) c->add_option("--port", v.port, "TCP port to listen on")->required();
  else c->add_option("target", v.target, "HOST:PORT to connect to")->required();
  c->add_option("--send", v.send, "send this many bytes of the pattern of --seed (K/M/G)");
  c->add_option("--send-file", v.send_file, "send this file's bytes instead ('-': stdin, read to its end first)");
  c->add_option("--recv", v.recv, "done after receiving this many bytes (0: until the peer closes, with --out)");
  c->add_flag("--verify", v.verify, "check received bytes against the pattern of --peer-seed (both ends autonic, or a peer sending `autonic pattern` output)");
  c->add_option("--peer-seed", v.peer_seed, "the peer's pattern seed (default: --seed)");
  c->add_option("--out", v.out, "write received bytes to this file ('-': stdout)");
  if (v.l5p == "tls") {
    if (serve) {
      c->add_option("--cert", v.cert, "server certificate (PEM, chain may follow; default: a fresh self-signed one)");
      c->add_option("--key", v.key, "its private key (PEM)");
      c->add_option("--tickets", v.tickets, "NewSessionTickets to send after the handshake (stock OpenSSL: 2)");
    } else {
      c->add_option("--ca", v.ca, "check the server against these CAs (PEM); default: no check, like s_client");
    }
    c->add_option("--cipher", v.ra.cipher, "aes128gcm | aes256gcm | chacha20poly1305")
        ->check(CLI::IsMember({"aes128gcm", "aes256gcm", "chacha20poly1305"}));
    c->add_option("--tls-version", v.ra.tls_version, "1.3 | 1.2")->check(CLI::IsMember({"1.2", "1.3"}));
    c->add_option("--key-update-every", v.ra.key_update_every, "TLS 1.3: send a KeyUpdate every N records (0: never)");
    c->add_option("--record-size", v.ra.record_size, "record payload size, up to 16K");
    c->add_option("--record-align", v.ra.record_align, "mss | none")->check(CLI::IsMember({"mss", "none"}));
  }
}

void add_nvme(NetVerb& v, bool target) {
  CLI::App* c = v.cmd;
  RunArgs& a = v.ra;
  if (target) {
    c->add_option("--port", v.port, "TCP port to listen on (4420)");
    c->add_option("--ns-size", a.ns_size, "namespace size (RAM unless --ns-file)");
    c->add_option("--ns-file", a.ns_file, "back the namespace with this file");
    c->add_option("--lba-size", a.lba_size, "512 | 4096");
  } else {
    c->add_option("--traddr", v.traddr, "the controller's IPv4 address")->required();
    c->add_option("--trsvcid", v.trsvcid, "the controller's TCP port (4420)");
    c->add_option("--rw", a.rw, "read | write | randread | randwrite | randrw");
    c->add_option("--io-size", a.io_size, "I/O size");
    c->add_option("--depth", a.depth, "queue depth");
    c->add_option("--bytes", a.bytes, "bytes of I/O (the region is written once first, then read back to verify)");
    c->add_option("--queues", a.queues, "I/O queues (connections)");
    c->add_flag("--no-hdgst", a.no_hdgst, "do not ask for header digests");
    c->add_flag("--no-ddgst", a.no_ddgst, "do not ask for data digests");
  }
  c->add_option("--nqn", v.nqn, "subsystem NQN (default nqn.2026-11.io.autonic:ram)");
  if (!target) c->add_option("--hostnqn", v.hostnqn, "our host NQN (default nqn.2026-11.io.autonic:host)");
  c->add_flag("--tls", v.tls, "NVMe/TCP over TLS 1.3 (certificate handshake: both ends autonic)");
  if (target) {
    c->add_option("--cert", v.cert, "with --tls: certificate (PEM)");
    c->add_option("--key", v.key, "with --tls: its private key (PEM)");
  } else {
    c->add_option("--ca", v.ca, "with --tls: check the controller against these CAs (PEM)");
  }
}

NetVerb& new_verb(NetCommands& n, CLI::App* parent, const char* name, const char* help, testbed::NetConfig::Verb verb,
                  const std::string& l5p) {
  auto v = std::make_unique<NetVerb>();
  v->cmd = parent->add_subcommand(name, help);
  v->verb = verb;
  v->l5p = l5p;
  n.verbs.push_back(std::move(v));
  return *n.verbs.back();
}

testbed::NetConfig to_net_config(const NetVerb& v) {
  using Verb = testbed::NetConfig::Verb;
  testbed::NetConfig c;
  RunArgs a = v.ra;
  a.l5p = v.verb == Verb::kNvmeConnect || v.verb == Verb::kNvmeTarget ? (v.tls ? "nvme-tls" : "nvme") : v.l5p;
  c.sc = to_config(a);
  c.sc.real_clock = true;
  c.sc.link.faults_after = num(v.faults_after, "--faults-after", 0, UINT64_MAX);
  c.sc.time_limit_s = double(num(v.time_limit, "--time-limit", 1, 86400));
  c.sc.stall_s = double(num(v.stall, "--stall", 1, 86400));
  c.verb = v.verb;
  c.wire = v.wire;
  const size_t slash = v.ip.find('/');
  c.ip = parse_ipv4(v.ip.substr(0, slash), "--ip");
  c.prefix = uint8_t(slash == std::string::npos ? 24 : num(v.ip.substr(slash + 1), "--ip prefix", 1, 32));
  auto mac = parse_mac(v.mac);
  if (!mac) throw CLI::ValidationError("--mac", "not a MAC address: '" + v.mac + "'");
  c.mac = *mac;
  if (!v.peer_mac.empty()) {
    c.peer_mac = parse_mac(v.peer_mac);
    if (!c.peer_mac) throw CLI::ValidationError("--peer-mac", "not a MAC address: '" + v.peer_mac + "'");
  }
  if (v.verb == Verb::kConnect) {
    const size_t colon = v.target.rfind(':');
    if (colon == std::string::npos) throw CLI::ValidationError("target", "must be HOST:PORT");
    c.peer_ip = parse_ipv4(v.target.substr(0, colon), "target");
    c.port = uint16_t(num(v.target.substr(colon + 1), "target port", 1, 65535));
  } else if (v.verb == Verb::kNvmeConnect) {
    c.peer_ip = parse_ipv4(v.traddr, "--traddr");
    c.port = uint16_t(num(v.trsvcid, "--trsvcid", 1, 65535));
  } else {
    c.port = uint16_t(num(v.port.empty() ? "4420" : v.port, "--port", 1, 65535));
  }
  c.send_bytes = size_or_throw(v.send, "--send");
  c.send_file = v.send_file;
  if (!c.send_file.empty() && c.send_bytes > 0) throw CLI::ValidationError("--send-file", "goes with --send 0");
  c.recv_bytes = size_or_throw(v.recv, "--recv");
  c.verify = v.verify;
  c.peer_seed = v.peer_seed.empty() ? c.sc.seed : num(v.peer_seed, "--peer-seed", 0, UINT64_MAX);
  c.out_file = v.out;
  c.nqn = v.nqn;
  c.hostnqn = v.hostnqn;
  c.tls_cert = v.cert;
  c.tls_key = v.key;
  if (v.cert.empty() != v.key.empty()) throw CLI::ValidationError("--cert", "--cert and --key go together");
  c.tls_ca = v.ca;
  c.tls_host = v.verb == Verb::kConnect ? v.target.substr(0, v.target.rfind(':')) : v.traddr;
  c.tls_tickets = int(num(v.tickets, "--tickets", 0, 16));
  if (c.out_file == "-" && a.json) throw CLI::ValidationError("--out", "'-' (stdout) cannot go with --json");
  return c;
}

int run_pattern(const NetCommands& n) {
  const uint64_t seed = num(n.pattern_seed, "--seed", 0, UINT64_MAX), total = size_or_throw(n.pattern_bytes, "--bytes");
  Bytes buf(1 << 20);
  for (uint64_t off = 0; off < total; off += buf.size()) {
    const size_t len = size_t(std::min<uint64_t>(buf.size(), total - off));
    apps::pattern_fill(seed, off, MutByteSpan(buf.data(), len));
    if (std::fwrite(buf.data(), 1, len, stdout) != len) return 1;
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

std::shared_ptr<NetCommands> add_net_commands(CLI::App& app) {
  using Verb = testbed::NetConfig::Verb;
  auto n = std::make_shared<NetCommands>();
  for (const char* l5p : {"tls", "tcp"}) {
    CLI::App* p = app.add_subcommand(l5p, std::string("one ") + l5p + " host on a real network (TAP / QEMU)");
    p->require_subcommand(1);
    NetVerb& s = new_verb(*n, p, "serve", "accept one connection (like openssl s_server)", Verb::kServe, l5p);
    add_common(s);
    add_stream(s, true);
    NetVerb& c = new_verb(*n, p, "connect", "connect to HOST:PORT (like openssl s_client)", Verb::kConnect, l5p);
    add_common(c);
    add_stream(c, false);
  }
  CLI::App* nv = app.add_subcommand("nvme", "one NVMe/TCP host or target on a real network (TAP / QEMU)");
  nv->require_subcommand(1);
  NetVerb& nc = new_verb(*n, nv, "connect", "our NVMe/TCP host + the fio-like workload, verified by read-back", Verb::kNvmeConnect, "nvme");
  add_common(nc);
  add_nvme(nc, false);
  NetVerb& nt = new_verb(*n, nv, "target", "our NVMe/TCP controller, serving until Ctrl-C / --time-limit", Verb::kNvmeTarget, "nvme");
  add_common(nt);
  add_nvme(nt, true);
  n->pattern = app.add_subcommand("pattern", "write the bytes `--send N --seed S` sends to stdout (for a peer's input file)");
  n->pattern->add_option("--seed", n->pattern_seed, "pattern seed");
  n->pattern->add_option("--bytes", n->pattern_bytes, "how many bytes (K/M/G)");
  return n;
}

std::optional<int> run_net_command(const NetCommands& n) {
  if (*n.pattern) return run_pattern(n);
  for (const auto& v : n.verbs) {
    if (!*v->cmd) continue;
    const testbed::NetConfig cfg = to_net_config(*v);
    const testbed::Report r = testbed::run_net(cfg);
    if (v->ra.json) std::cout << r.to_json().dump(2) << std::endl;
    else std::cerr << r.summary();
    return r.verified ? 0 : 2;
  }
  return std::nullopt;
}

}  // namespace autonic::cli
