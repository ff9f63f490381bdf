// A run's configuration and its report (the CLI's `autonic run` maps 1:1 onto these).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/counters.h"
#include "l5o/l5o.h"
#include "nic/ctx_cache.h"
#include "nic/nic_faults.h"
#include "wire/sim_link.h"

namespace autonic::testbed {

class NvmePeerHook;

// IP MTU range the model runs with: 576, the datagram every IPv4 host must accept (RFC 791), up
// to 9000, jumbo frames -- lwIP's TCP_MSS (src/tcpip/port/lwipopts.h) is 9000 - 40 bytes of
// IPv4 + TCP headers, and frames beyond it are not sized for (netif mtu is a u16 in lwIP).
inline constexpr uint16_t kMinMtu = 576, kMaxMtu = 9000;
// TSO / GRO parameters (ScenarioConfig::tso / gro): Linux's default gso_max_size (64 KiB); the
// NAPI budget (64 packets a poll) and an 8 us moderation timer (mlx5's default rx-usecs).
inline constexpr uint32_t kTsoBytes = 65536;
inline constexpr uint64_t kRxCoalesceNs = 8000;
inline constexpr uint32_t kRxCoalesceFrames = 64;
// Connections in one run (issue #13): 128K, the paper's Fig. 19. Beyond kMaxAllAtOnceFlows a run
// takes turns (ScenarioConfig::burst), so memory stays per flow rather than per byte queued.
inline constexpr uint32_t kMaxFlows = 131072, kMaxAllAtOnceFlows = 1000, kDefaultBurst = 8;

// --l5p: plain TCP, every registered L5P (l5o/l5p_registry.h, same enumerator as its
// l5o::L5Proto), and NVMe/TCP over TLS (a composition of two of them).
enum class L5pKind : uint8_t {
  kTcp,
#define AUTONIC_L5PKIND_ENUM(ident, E, counter, cli, shape) k##E,
  AUTONIC_L5P_REGISTRY(AUTONIC_L5PKIND_ENUM)
#undef AUTONIC_L5PKIND_ENUM
  kNvmeTls,
};
// zc (tls) = on + zero-copy send; crc / ddp (nvme) = only the digest / only the copy offload
// tls (nvme-tls) = the TLS offload only, NVMe digests in software
enum class OffloadMode : uint8_t { kOff, kTx, kRx, kOn, kZc, kCrc, kDdp, kTls };

struct ScenarioConfig {
  L5pKind l5p = L5pKind::kTcp;
  OffloadMode offload = OffloadMode::kOn;
  uint64_t bytes = 16ull << 20;
  uint32_t flows = 1;  // 1 .. kMaxFlows
  // Turns (testbed/flow_turns.h, issue #13): every flow is opened first, then flows take turns
  // writing `burst` wire packets' worth (burst x MSS) each. 0: every flow sends everything at
  // once -- up to kMaxAllAtOnceFlows flows; more flows take turns of kDefaultBurst packets.
  uint32_t burst = 0;
  bool random_order = false;  // turn order: round-robin, or seeded random among waiting flows
  // Connection churn (testbed/churn.h): this many short connections opened, used and closed
  // while the bulk flows run, each carrying churn_bytes.
  uint32_t churn = 0;
  uint32_t churn_bytes = 4096;
  uint32_t msg_size = 16384;
  wire::LinkConfig link;
  uint16_t mtu = 1500;
  uint64_t seed = 1;
  bool real_clock = false;
  bool bare = false;  // lwIP over a bare wire: NIC model and driver bypassed (benchmark baseline)
  std::string pcap;
  size_t ctx_cache_bytes = 4u << 20;
  nic::CtxPolicy ctx_policy = nic::CtxPolicy::kLru;  // --ctx-policy
  // How lwIP finds a segment's connection (tcpip/pcb_hash.h): its own single list walked with
  // move-to-front (kList), or that list hashed into per-4-tuple buckets (kHash), as Linux's
  // established hash. kAuto: hashed beyond kMaxAllAtOnceFlows flows, lwIP as shipped below.
  enum class LwipDemux : uint8_t { kAuto, kList, kHash } lwip_demux = LwipDemux::kAuto;
  nic::NicFaults nic_faults;  // fail-closed checks: contexts refused, lost, reset (both NICs)
  bool whole_packet_marks = false;  // --nic-marks packet: both NICs mark whole packets only (the paper's)
  double time_limit_s = 600;  // simulated seconds
  double stall_s = 30;        // no progress for this long => outcome "stalled"
  bool trace = false;         // print every NIC RX resync state change (stderr)
  bool bidirectional = false; // the server also sends `bytes` back on every flow
  // Stack amortisation (issue #12), both hosts: TSO -- lwIP builds segments of up to kTsoBytes,
  // the NIC cuts them at the wire MSS (nic/tso.h); GRO -- the NIC moderates its interrupt
  // (kRxCoalesceNs / kRxCoalesceFrames) and the driver merges each batch's in-sequence segments
  // of equal offload marks (driver/gro.h). Off by default: lwIP retransmits whole segments and
  // has no SACK-based recovery, so with TSO one lost packet costs a 64 KiB retransmission and
  // lwIP's congestion window moves in super-segments -- the loss experiments keep per-packet
  // segments (README "TSO and GRO").
  bool tso = false, gro = false;
  // --nic-core on: both NIC models run on a second CPU (common/core_hop.h), so their passes over
  // the frames do not evict the host's caches, as a real NIC's do not. Same run, same counters;
  // only the host-cycle figures change. Needs two CPUs (the run fails, saying so, without them).
  bool nic_core = false;
  // TLS
  std::string cipher = "aes128gcm";
  std::string tls_version = "1.3";  // "1.3" | "1.2"
  uint64_t key_update_every = 0;    // TLS 1.3: a KeyUpdate every this many records (both sides)
  uint32_t record_size = 16384;
  bool record_align = true;   // size TLS records to whole TCP segments
  std::string keylog;
  bool openssl_peer = false;  // the server uses OpenSSL's record layer (interop peer), no offload
  Bytes tls_peer_raw;         // tests: the server writes these raw bytes after its handshake
  bool tls_peer_fin = false;  // ... and then closes its sending side
  uint16_t tls_peer_pad = 0;  // tests: the OpenSSL peer pads its records to a multiple of this
  uint64_t tls_peer_pad_after = 0;  // ... from this many application bytes on
  // NewSessionTickets the TLS server sends after its handshake (either server: the OpenSSL peer
  // or ours). 0 keeps the reference runs' wire bytes; a stock OpenSSL server sends 2.
  int tls_tickets = 0;
  bool tls_peer_key_update = false;  // tests: the OpenSSL peer sends a KeyUpdate after its handshake
  // NVMe/TCP
  std::string rw = "randread";
  uint32_t io_size = 4096;
  uint32_t depth = 1;
  uint32_t io_queues = 1;  // nvme: I/O queues (connections) the host brings up
  uint64_t ns_size = 64ull << 20;
  uint32_t lba_size = 512;
  std::string ns_file;        // file-backed namespace instead of RAM
  uint16_t nvme_port = 4420;  // IANA NVMe/TCP port
  bool hdgst = true, ddgst = true;
  // Tests / fuzzing: a stand-in for our controller (the host talks to a scripted, hostile one)
  // or for the host (a byte script talks to our controller; the run then ends only with the
  // controller's verdict). See testbed/peer_hook.h; implementations in tests/support/.
  std::shared_ptr<NvmePeerHook> nvme_peer;
};

struct Report {
  bool verified = false;
  std::string outcome = "ok";
  uint64_t delivered_wrong_bytes = 0;
  // bytes: the target bytes_delivered is checked against, over every direction that carries
  // the workload (bulk --bidir: 2 x --bytes; NVMe: reads and writes together, one workload).
  uint64_t bytes = 0, bytes_delivered = 0;
  uint32_t directions = 1;
  uint64_t seed = 0;
  double sim_seconds = 0, wall_seconds = 0, throughput_gbps = 0;
  double host_cpb_client = 0, host_cpb_server = 0, nic_cpb_client = 0, nic_cpb_server = 0;
  double app_cpb_client = 0, app_cpb_server = 0;  // part of host: the workload's own work
  double copy_cpb_client = 0, copy_cpb_server = 0, digest_cpb_client = 0, digest_cpb_server = 0;  // part of host
  double stack_cpb_client() const { return host_cpb_client - app_cpb_client; }
  double stack_cpb_server() const { return host_cpb_server - app_cpb_server; }
  // The same from the data phase on (connection set-up, TLS handshakes, left out) where the run
  // knows it began (bulk flows), else the whole run's.
  double data_cpb_client() const { return extra_or("data_stack_cpb_client", stack_cpb_client()); }
  double data_cpb_server() const { return extra_or("data_stack_cpb_server", stack_cpb_server()); }
  double extra_or(const char* k, double dflt) const {
    const auto it = extra.find(k);
    return it == extra.end() ? dflt : it->second;
  }
  uint64_t trace_hash = 0;
  wire::WireStats wire;
  CounterMap client, server;
  std::string l5p, offload, clock;
  std::map<std::string, double> extra;  // workload-specific results (iops, latency)

  nlohmann::json to_json() const;
  std::string summary() const;
  std::string scale_summary() const;  // runs that take turns (many flows)
  std::string churn_summary() const;  // runs with --churn
  static Report from_json(const nlohmann::json& j);
};

const char* l5p_name(L5pKind k);
// The kind `--l5p name` selects; nullopt for an unknown name.
std::optional<L5pKind> l5p_from_name(const std::string& name);
// Every --l5p name, in registry order.
std::vector<std::string> l5p_names();
// The offload protocols a kind runs (NVMe/TCP over TLS: both).
std::vector<l5o::L5Proto> l5p_protos(L5pKind k);
// True for a registered L5P that carries the bulk stream workload (l5o::L5pShape::kStream).
bool is_stream_l5p(const std::string& name);
const char* offload_name(OffloadMode m);

}  // namespace autonic::testbed
