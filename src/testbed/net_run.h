// One autonic host on a real Ethernet device (issue #10): the same NIC model, driver, lwIP and L5P
// sessions as a testbed host, but one per process, on a TAP or a QEMU dgram socket, in real
// time, against whatever is at the other end (Linux's TCP, openssl, nvmet-tcp, another autonic).
// The CLI's `autonic tls|tcp serve|connect` and `autonic nvme connect|target` map onto NetConfig.
#pragma once
#include <array>
#include <optional>
#include <string>

#include "testbed/scenario.h"

namespace autonic::testbed {

struct NetConfig {
  enum class Verb : uint8_t { kServe, kConnect, kNvmeConnect, kNvmeTarget };
  Verb verb = Verb::kConnect;
  // What a simulated run would also say: the L5P (tcp | tls | nvme | nvme-tls), --offload, TLS
  // cipher and record size, NVMe workload and namespace, the fault flags (sc.link: loss, reorder,
  // dup, corrupt, tamper -- applied on both directions at our device), MTU, pcap, keylog, trace,
  // seed, time limit and stall.
  ScenarioConfig sc;
  std::string wire;  // tap:IFNAME | qemu:DIR
  uint32_t ip = 0;
  uint8_t prefix = 24;
  std::array<uint8_t, 6> mac{0x52, 0x54, 0x00, 0x77, 0x00, 0x01};
  std::optional<std::array<uint8_t, 6>> peer_mac;  // static neighbour; otherwise ARP
  uint32_t peer_ip = 0;    // connect verbs
  uint16_t port = 0;       // connect: the peer's; serve / target: ours
  uint64_t send_bytes = 0;  // stream verbs: pattern bytes we send (seed sc.seed)
  std::string send_file;    // ... or this file's bytes ("-": stdin, read whole before connecting)
  uint64_t recv_bytes = 0;  // ... we expect; 0: until the peer closes
  bool verify = false;      // check received bytes against the pattern of peer_seed
  uint64_t peer_seed = 1;
  std::string out_file;     // received bytes to a file ("-": stdout)
  // TLS: the server's certificate and key (PEM; empty: a fresh self-signed P-256 one); the
  // client checks the server against ca_file (empty: no check, like s_client -- the report's
  // tls_peer_unverified says so) and names it `host` (SNI for a DNS name); tickets the server
  // sends (OpenSSL's stock default is 2).
  std::string tls_cert, tls_key, tls_ca, tls_host;
  int tls_tickets = 0;
  // NVMe: the subsystem NQN (target: the one it serves; connect: the one it asks for) and our
  // host NQN. Empty: the defaults of l5p::nvme::CtrlConfig / HostConfig.
  std::string nqn, hostnqn;
};

// Runs until the workload is done (or fails, stalls, hits --time-limit, or Ctrl-C), closes
// cleanly, and reports as `autonic run` does (our counters under "client" for connect verbs,
// "server" for serve / target).
Report run_net(const NetConfig& cfg);

}  // namespace autonic::testbed
