// The file server's options and report (testbed/fileserver.h); the run is fileserver_run.cc.
#include "testbed/fileserver.h"

#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "l5p/nvme/nvme_host.h"
#include "testbed/testbed.h"

namespace autonic::testbed {

void validate_fileserver(const FileServerConfig& c) {
  using S = FileServerConfig::Source;
  if (c.file_size == 0 || c.file_size % 4096 || c.file_size > l5p::nvme::kMaxIoBytes)
    throw std::invalid_argument("--file-size must be a multiple of 4K, up to 2M (one NVMe read)");
  if (c.files == 0 || uint64_t(c.files) * c.file_size > (1ull << 30))
    throw std::invalid_argument("--files must be >= 1, the files at most 1 GiB together");
  if (c.conns == 0 || c.conns > 1000) throw std::invalid_argument("--conns must be 1..1000");
  if (c.requests == 0) throw std::invalid_argument("--requests must be > 0");
  if (c.record_size == 0 || c.record_size > 16384) throw std::invalid_argument("--record-size must be 1 .. 16K");
  if (c.mtu < kMinMtu || c.mtu > kMaxMtu) throw std::invalid_argument("--mtu must be 576..9000");
  if ((c.off_tls || c.off_zc) && !c.https) throw std::invalid_argument("--offload tls / zc need --https");
  if ((c.off_copy || c.off_crc) && c.source == S::kCache)
    throw std::invalid_argument("--offload copy / crc need files on NVMe (--source nvme | nvme-tls)");
  if (c.off_storage_tls && c.source != S::kNvmeTls) throw std::invalid_argument("--offload storage-tls needs --source nvme-tls");
  if (c.source == S::kNvmeTls && (c.off_copy || c.off_crc) && !(c.off_copy && c.off_crc && c.off_storage_tls))
    throw std::invalid_argument("over NVMe/TCP-TLS the NIC's NVMe engine runs inside the TLS context: "
                                "copy and crc go together, with storage-tls");
}

namespace {
struct OffloadName {
  const char* name;
  bool FileServerConfig::*flag;
};
constexpr OffloadName kOffloads[] = {{"tls", &FileServerConfig::off_tls},
                                     {"zc", &FileServerConfig::off_zc},
                                     {"storage-tls", &FileServerConfig::off_storage_tls},
                                     {"copy", &FileServerConfig::off_copy},
                                     {"crc", &FileServerConfig::off_crc}};
}  // namespace

std::string fileserver_offloads(const FileServerConfig& c) {
  std::string s;
  for (const auto& o : kOffloads)
    if (c.*o.flag) {
      if (!s.empty()) s += '+';
      s += o.name;
    }
  return s.empty() ? "none" : s;
}

void parse_fileserver_offloads(const std::string& s, FileServerConfig& c) {
  for (const auto& o : kOffloads) c.*o.flag = false;
  if (s == "none") return;
  const bool all = s == "all";
  std::string item;
  std::istringstream in(s);
  while (!all && std::getline(in, item, '+')) {
    std::istringstream parts(item);
    for (std::string name; std::getline(parts, name, ',');) {
      bool found = false;
      for (const auto& o : kOffloads)
        if (name == o.name) c.*o.flag = found = true;
      if (!found) throw std::invalid_argument("--offload: unknown '" + name + "' (none, all, or tls, zc, storage-tls, copy, crc joined by +)");
    }
  }
  if (!all) return;
  // Every offload the configuration can use.
  c.off_tls = c.off_zc = c.https;
  c.off_copy = c.off_crc = c.source != FileServerConfig::Source::kCache;
  c.off_storage_tls = c.source == FileServerConfig::Source::kNvmeTls;
}

nlohmann::json FileServerReport::to_json() const {
  nlohmann::json j;
  j["verified"] = verified;
  j["outcome"] = outcome;
  j["source"] = source;
  j["offloads"] = offloads;
  j["requests"] = requests;
  j["body_bytes"] = body_bytes;
  j["wrong_bytes"] = wrong_bytes;
  j["nvme_ios"] = nvme_ios;
  j["sim_seconds"] = sim_seconds;
  j["wall_seconds"] = wall_seconds;
  j["latency_sum_ns"] = latency_sum_ns;
  j["cycles"] = {{"web_host", web_host}, {"web_app", web_app},   {"web_copy", web_copy}, {"web_digest", web_digest},
                 {"web_nic", web_nic},   {"gen_host", gen_host}, {"gen_app", gen_app}};
  j["web_host_cycles_per_byte"] = web_cycles_per_byte();
  for (size_t i = 0; i < stations.size(); ++i) {
    const Station& s = stations[i];
    const wire::SwitchPortStats& p = ports[i];
    j["stations"].push_back({{"name", s.name},
                             {"ip", s.ip},
                             {"rx_frames", s.rx_frames},
                             {"rx_foreign", s.rx_foreign},
                             {"tx_frames", s.tx_frames},
                             {"rx_from", s.rx_from},
                             {"port", {{"rx_frames", p.rx_frames}, {"tx_frames", p.tx_frames}, {"tx_bytes", p.tx_bytes},
                                       {"drop_unknown_dst", p.drop_unknown_dst}, {"drop_queue_full", p.drop_queue_full}}}});
  }
  j["wire"] = {{"frames", wire.frames}, {"bytes", wire.bytes}, {"dropped", wire.dropped}, {"reordered", wire.reordered},
               {"corrupted", wire.corrupted}, {"tampered", wire.tampered}};
  char hash[24];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(trace_hash));
  j["trace_hash"] = hash;
  j["stats"] = {{"client", client}, {"web", web}, {"storage", storage}};
  return j;
}

FileServerReport FileServerReport::from_json(const nlohmann::json& j) {
  FileServerReport r;
  r.verified = j.at("verified");
  r.outcome = j.at("outcome");
  r.source = j.at("source");
  r.offloads = j.at("offloads");
  r.requests = j.at("requests");
  r.body_bytes = j.at("body_bytes");
  r.wrong_bytes = j.at("wrong_bytes");
  r.nvme_ios = j.at("nvme_ios");
  r.sim_seconds = j.at("sim_seconds");
  r.wall_seconds = j.at("wall_seconds");
  r.latency_sum_ns = j.at("latency_sum_ns");
  const auto& c = j.at("cycles");
  r.web_host = c.at("web_host");
  r.web_app = c.at("web_app");
  r.web_copy = c.at("web_copy");
  r.web_digest = c.at("web_digest");
  r.web_nic = c.at("web_nic");
  r.gen_host = c.at("gen_host");
  r.gen_app = c.at("gen_app");
  for (size_t i = 0; i < r.stations.size(); ++i) {
    const auto& s = j.at("stations").at(i);
    const auto& p = s.at("port");
    r.stations[i] = {s.at("name"), s.at("ip"), s.at("rx_frames"), s.at("rx_foreign"), s.at("tx_frames"),
                     s.at("rx_from").get<std::array<uint64_t, 3>>()};
    r.ports[i] = {p.at("rx_frames"), p.at("tx_frames"), p.at("tx_bytes"), p.at("drop_unknown_dst"), p.at("drop_queue_full")};
  }
  const auto& w = j.at("wire");
  r.wire.frames = w.at("frames");
  r.wire.bytes = w.at("bytes");
  r.wire.dropped = w.at("dropped");
  r.wire.reordered = w.at("reordered");
  r.wire.corrupted = w.at("corrupted");
  r.wire.tampered = w.at("tampered");
  r.trace_hash = std::stoull(j.at("trace_hash").get<std::string>(), nullptr, 16);
  r.client = j.at("stats").at("client").get<CounterMap>();
  r.web = j.at("stats").at("web").get<CounterMap>();
  r.storage = j.at("stats").at("storage").get<CounterMap>();
  return r;
}

std::string FileServerReport::summary() const {
  std::ostringstream o;
  char b[512];
  std::snprintf(b, sizeof b,
                "file server: %s, files from %s, offloads %s\n"
                "  %llu GETs, %.1f MiB of bodies, %llu wrong bytes -> %s\n"
                "  web server (device under test): %.3f host cycles/byte (app %.3f, L5P copy %.3f, digest %.3f), NIC model %.3f\n"
                "  mean GET latency on the wire %.1f us; host cycles a GET (web + generator stacks) %.0f\n",
                verified ? "verified" : "NOT verified", source.c_str(), offloads.c_str(),
                static_cast<unsigned long long>(requests), double(body_bytes) / 1048576.0,
                static_cast<unsigned long long>(wrong_bytes), outcome.c_str(), web_cycles_per_byte(),
                body_bytes ? double(web_app) / double(body_bytes) : 0, body_bytes ? double(web_copy) / double(body_bytes) : 0,
                body_bytes ? double(web_digest) / double(body_bytes) : 0, body_bytes ? double(web_nic) / double(body_bytes) : 0,
                requests ? double(latency_sum_ns) / double(requests) / 1e3 : 0, cycles_per_request());
  o << b;
  for (size_t i = 0; i < stations.size(); ++i) {
    const Station& s = stations[i];
    std::snprintf(b, sizeof b, "  %-8s 10.0.0.%u: %llu frames in (%llu not for it), %llu out; switch drops %llu unknown, %llu queue\n",
                  s.name.c_str(), s.ip & 0xff, static_cast<unsigned long long>(s.rx_frames),
                  static_cast<unsigned long long>(s.rx_foreign), static_cast<unsigned long long>(s.tx_frames),
                  static_cast<unsigned long long>(ports[i].drop_unknown_dst),
                  static_cast<unsigned long long>(ports[i].drop_queue_full));
    o << b;
  }
  return o.str();
}

FileServerReport run_fileserver_isolated(const FileServerConfig& cfg) {
  return FileServerReport::from_json(json_in_child([&] { return run_fileserver(cfg).to_json(); }));
}

}  // namespace autonic::testbed
