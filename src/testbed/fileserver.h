// The file server (issue #14; the paper's nginx, §6.3, Fig. 12-15 and Table 4): three hosts on
// one switch (wire/sim_switch.h), each with its own lwIP netif, driver and NIC, seeing only the
// frames addressed to it --
//   client  10.0.0.1  wrk: `conns` connections, one GET outstanding on each, every body checked
//   web     10.0.0.2  the server (the device under test): HTTP/1.1 (or HTTPS) from the page
//                     cache (C2) or from a remote NVMe/TCP namespace (C1), optionally over TLS
//   storage 10.0.0.3  the NVMe/TCP controller holding the files
// Offloads run at the web server only; client and storage are the paper's load generator (one
// machine there, two hosts here) and run without. CPU: the web server's cycles are the server
// domains of the meter, the generator's the client domains.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/counters.h"
#include "wire/impair.h"
#include "wire/sim_switch.h"

namespace autonic::testbed {

struct FileServerConfig {
  enum class Source : uint8_t { kCache, kNvme, kNvmeTls } source = Source::kCache;
  bool https = true;
  // The web server's offloads (the paper's combinations): TLS towards the clients, zero-copy
  // send of file data (nginx's sendfile with kTLS offload), the NVMe/TCP copy (DDP) and CRC
  // offloads; over NVMe/TCP-TLS `storage_tls` offloads that queue's TLS, inside which the NVMe
  // engine runs (copy and CRC need it there).
  bool off_tls = false, off_zc = false, off_copy = false, off_crc = false, off_storage_tls = false;
  uint32_t file_size = 65536;  // bytes, a multiple of 4 KiB, at most 2 MiB (one NVMe read)
  uint32_t files = 64;
  uint32_t conns = 16;
  uint64_t requests = 256;
  uint32_t record_size = 16384;
  uint16_t mtu = 1500;
  // TSO and GRO on every host (ScenarioConfig::tso / gro), as a Linux server runs: lwIP builds
  // 64 KiB segments the NIC cuts, the driver merges each interrupt's in-sequence segments.
  bool tso_gro = true;
  wire::LinkConfig link;
  uint64_t seed = 1;
  double time_limit_s = 600, stall_s = 30;
  std::string pcap;
};

// Throws std::invalid_argument naming the first option out of range.
void validate_fileserver(const FileServerConfig& c);
// "none", or the offloads joined by '+', e.g. "tls+zc+copy+crc".
std::string fileserver_offloads(const FileServerConfig& c);
// Parses that form back ("none", "all", or names joined by '+' or ',').
void parse_fileserver_offloads(const std::string& s, FileServerConfig& c);

struct FileServerReport {
  std::string outcome = "ok";
  bool verified = false;
  uint64_t requests = 0, body_bytes = 0, wrong_bytes = 0, nvme_ios = 0;
  double sim_seconds = 0, wall_seconds = 0;
  Nanos latency_sum_ns = 0;  // GET sent -> body in, virtual time (wire and queues only)
  // Cycles (rdtsc): the web server's host (stack + app + copy + digest), its parts, its NIC
  // model; the generator's (client + storage) host and app.
  uint64_t web_host = 0, web_app = 0, web_copy = 0, web_digest = 0, web_nic = 0, gen_host = 0, gen_app = 0;
  struct Station {
    std::string name;
    uint32_t ip = 0;
    uint64_t rx_frames = 0, rx_foreign = 0, tx_frames = 0;  // foreign: not its MAC nor broadcast
    std::array<uint64_t, 3> rx_from{};  // IPv4 frames in from client, web, storage (by source address)
  };
  std::array<Station, 3> stations;
  std::array<wire::SwitchPortStats, 3> ports;
  wire::WireStats wire;
  uint64_t trace_hash = 0;
  CounterMap web, client, storage;
  std::string offloads, source;

  double web_cycles_per_byte() const { return body_bytes ? double(web_host) / double(body_bytes) : 0; }
  // Host cycles one synchronous GET spends on the critical path: the web server's and the
  // generator's stack (its own checking of the body aside), per request.
  double cycles_per_request() const {
    return requests ? double(web_host + gen_host - gen_app) / double(requests) : 0;
  }
  nlohmann::json to_json() const;
  static FileServerReport from_json(const nlohmann::json& j);
  std::string summary() const;
};

FileServerReport run_fileserver(const FileServerConfig& cfg);
// The same in a child process (lwIP is global), for experiments and tests.
FileServerReport run_fileserver_isolated(const FileServerConfig& cfg);

}  // namespace autonic::testbed
