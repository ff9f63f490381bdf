#include <algorithm>
#include <cstdio>
#include <sstream>

#include "tcpip/demux_probe.h"
#include "testbed/scenario.h"

namespace autonic::testbed {

const char* l5p_name(L5pKind k) {
  switch (k) {
    case L5pKind::kTcp: return "tcp";
#define AUTONIC_L5PKIND_NAME(ident, E, counter, cli, shape) \
  case L5pKind::k##E:                                     \
    return cli;
    AUTONIC_L5P_REGISTRY(AUTONIC_L5PKIND_NAME)
#undef AUTONIC_L5PKIND_NAME
    case L5pKind::kNvmeTls: return "nvme-tls";
  }
  return "?";
}

std::vector<std::string> l5p_names() {
  std::vector<std::string> v{"tcp"};
#define AUTONIC_L5PKIND_CLI(ident, E, counter, cli, shape) v.push_back(cli);
  AUTONIC_L5P_REGISTRY(AUTONIC_L5PKIND_CLI)
#undef AUTONIC_L5PKIND_CLI
  v.push_back("nvme-tls");
  return v;
}

std::optional<L5pKind> l5p_from_name(const std::string& name) {
  for (uint8_t k = 0; k <= uint8_t(L5pKind::kNvmeTls); ++k)
    if (name == l5p_name(L5pKind(k))) return L5pKind(k);
  return std::nullopt;
}

std::vector<l5o::L5Proto> l5p_protos(L5pKind k) {
  if (k == L5pKind::kNvmeTls) return {l5o::L5Proto::kTls, l5o::L5Proto::kNvmeTcp};
#define AUTONIC_L5PKIND_PROTO(ident, E, counter, cli, shape) \
  if (k == L5pKind::k##E) return {l5o::L5Proto::k##E};
  AUTONIC_L5P_REGISTRY(AUTONIC_L5PKIND_PROTO)
#undef AUTONIC_L5PKIND_PROTO
  return {};
}

bool is_stream_l5p(const std::string& name) {
#define AUTONIC_L5PKIND_STREAM(ident, E, counter, cli, shape) \
  if (name == cli) return l5o::L5pShape::shape == l5o::L5pShape::kStream;
  AUTONIC_L5P_REGISTRY(AUTONIC_L5PKIND_STREAM)
#undef AUTONIC_L5PKIND_STREAM
  return false;
}

const char* offload_name(OffloadMode m) {
  switch (m) {
    case OffloadMode::kOff: return "off";
    case OffloadMode::kTx: return "tx";
    case OffloadMode::kRx: return "rx";
    case OffloadMode::kOn: return "on";
    case OffloadMode::kZc: return "zc";
    case OffloadMode::kCrc: return "crc";
    case OffloadMode::kDdp: return "ddp";
    case OffloadMode::kTls: return "tls";
  }
  return "?";
}

nlohmann::json Report::to_json() const {
  char hash[24];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(trace_hash));
  nlohmann::json j;
  j["verified"] = verified;
  j["outcome"] = outcome;
  j["delivered_wrong_bytes"] = delivered_wrong_bytes;
  j["bytes"] = bytes;
  j["bytes_delivered"] = bytes_delivered;
  j["directions"] = directions;
  j["bytes_per_direction"] = bytes / std::max<uint32_t>(directions, 1);
  j["seed"] = seed;
  j["l5p"] = l5p;
  j["offload"] = offload;
  j["clock"] = clock;
  j["sim_seconds"] = sim_seconds;
  j["wall_seconds"] = wall_seconds;
  j["throughput_gbps"] = throughput_gbps;
  j["host_cycles_per_byte"] = {{"client", host_cpb_client}, {"server", host_cpb_server}};
  j["nic_cycles_per_byte"] = {{"client", nic_cpb_client}, {"server", nic_cpb_server}};
  j["app_cycles_per_byte"] = {{"client", app_cpb_client}, {"server", app_cpb_server}};
  j["l5p_copy_cycles_per_byte"] = {{"client", copy_cpb_client}, {"server", copy_cpb_server}};
  j["l5p_digest_cycles_per_byte"] = {{"client", digest_cpb_client}, {"server", digest_cpb_server}};
  j["trace_hash"] = hash;
  j["wire"] = {{"frames", wire.frames},         {"bytes", wire.bytes},
               {"dropped", wire.dropped},       {"reordered", wire.reordered},
               {"duplicated", wire.duplicated}, {"corrupted", wire.corrupted},
               {"tampered", wire.tampered}};
  j["stats"] = {{"client", client}, {"server", server}};
  for (const auto& [k, v] : extra) j[k] = v;
  return j;
}

Report Report::from_json(const nlohmann::json& j) {
  Report r;
  r.verified = j.at("verified");
  r.outcome = j.at("outcome");
  r.delivered_wrong_bytes = j.at("delivered_wrong_bytes");
  r.bytes = j.at("bytes");
  r.bytes_delivered = j.at("bytes_delivered");
  r.directions = j.value("directions", 1u);
  r.seed = j.at("seed");
  r.l5p = j.at("l5p");
  r.offload = j.at("offload");
  r.clock = j.at("clock");
  r.sim_seconds = j.at("sim_seconds");
  r.wall_seconds = j.at("wall_seconds");
  r.throughput_gbps = j.at("throughput_gbps");
  r.host_cpb_client = j.at("host_cycles_per_byte").at("client");
  r.host_cpb_server = j.at("host_cycles_per_byte").at("server");
  r.nic_cpb_client = j.at("nic_cycles_per_byte").at("client");
  r.nic_cpb_server = j.at("nic_cycles_per_byte").at("server");
  r.app_cpb_client = j.at("app_cycles_per_byte").at("client");
  r.app_cpb_server = j.at("app_cycles_per_byte").at("server");
  r.copy_cpb_client = j.at("l5p_copy_cycles_per_byte").at("client");
  r.copy_cpb_server = j.at("l5p_copy_cycles_per_byte").at("server");
  r.digest_cpb_client = j.at("l5p_digest_cycles_per_byte").at("client");
  r.digest_cpb_server = j.at("l5p_digest_cycles_per_byte").at("server");
  r.trace_hash = std::stoull(j.at("trace_hash").get<std::string>(), nullptr, 16);
  const auto& w = j.at("wire");
  r.wire = wire::WireStats{w.at("frames"), w.at("bytes"), w.at("dropped"), w.at("reordered"),
                           w.at("duplicated"), w.at("corrupted"), w.at("tampered")};
  r.client = j.at("stats").at("client").get<CounterMap>();
  r.server = j.at("stats").at("server").get<CounterMap>();
  for (const char* k : {"iops", "lat_mean_us", "lat_p99_us", "raw_termreq_fes", "raw_first_status", "raw_rx_bytes",
                        "flows", "flows_established", "turns", "burst_packets", "rss_peak_mib", "rss_established_kib_per_flow", "churn_connections",
                        "churn_rss_first_mib", "churn_rss_last_mib", "audit_msgs", "audit_msgs_clean", "audit_msgs_full",
                        "audit_msgs_full_clean", "data_stack_cpb_client", "data_stack_cpb_server",
                        "setup_stack_kcycles_client", "setup_stack_kcycles_server"})
    if (j.contains(k)) r.extra[k] = j.at(k);
  return r;
}

// Many flows (issue #13): memory per flow, the NIC's context cache, lwIP's list walk.
std::string Report::scale_summary() const {
  auto c = [&](const CounterMap& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? 0.0 : double(it->second);
  };
  auto x = [&](const char* k) { auto it = extra.find(k); return it == extra.end() ? 0.0 : it->second; };
  auto both = [&](const std::string& k) { return c(client, k) + c(server, k); };
  char line[320];
  std::string o;
  const double flows = std::max(x("flows"), 1.0);
  std::snprintf(line, sizeof line,
                "  flows          %.0f, %.0f turns of %.0f packets; RSS peak %.0f MiB (%.1f KiB a flow, both ends); "
                "established, before data: %.1f KiB a flow (both ends)\n",
                flows, x("turns"), x("burst_packets"), x("rss_peak_mib"), x("rss_peak_mib") * 1024 / flows,
                x("rss_established_kib_per_flow"));
  o += line;
  const double hits = both("nic_ctx_cache_hits"), misses = both("nic_ctx_cache_misses");
  const double pkts = both("nic_tx_packets") + both("nic_rx_packets");
  std::snprintf(line, sizeof line,
                "  NIC ctx cache  hit rate %.2f%% (misses %.0f, cold %.0f), context DMA %.0f B (%.1f B a packet); "
                "packets per context batch TX %.1f / RX %.1f; TX packets per doorbell %.1f\n",
                100.0 * hits / std::max(hits + misses, 1.0), misses, both("nic_ctx_cache_cold_misses"),
                both("nic_ctx_dma_bytes"), both("nic_ctx_dma_bytes") / std::max(pkts, 1.0),
                both("nic_tx_ctx_packets") / std::max(both("nic_tx_ctx_batches"), 1.0),
                both("nic_rx_ctx_packets") / std::max(both("nic_rx_ctx_batches"), 1.0),
                c(client, "nic_tx_packets") / std::max(c(client, "nic_tx_doorbells"), 1.0));
  o += line;
  const double samples = std::max(both("lwip_demux_samples"), 1.0);
  const double buckets = c(client, "lwip_demux_buckets");
  const std::string lists = buckets > 1 ? "lists hashed into " + std::to_string(uint64_t(buckets)) + " buckets"
                                        : std::string("lwIP's own list");
  std::snprintf(line, sizeof line, "  lwIP demux     %.0f pcbs walked a packet, %.0f cycles a packet (%s; 1 in %u sampled)\n",
                both("lwip_demux_pcbs") / samples, both("lwip_demux_cycles") / samples, lists.c_str(),
                tcpip::DemuxProbe::kSampleEvery);
  o += line;
  return o;
}

// Connection churn: every context added was deleted, and memory stayed where it was.
std::string Report::churn_summary() const {
  auto c = [&](const CounterMap& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? 0ull : (unsigned long long)it->second;
  };
  auto x = [&](const char* k) { auto it = extra.find(k); return it == extra.end() ? 0.0 : it->second; };
  const std::string p = is_stream_l5p(l5p) ? l5p : "tls";
  char line[320];
  std::snprintf(line, sizeof line,
                "  churn          %.0f connections opened and closed; NIC contexts TX added %llu deleted %llu, RX added %llu "
                "deleted %llu; RSS %.0f MiB after the first round, %.0f MiB after the last\n",
                x("churn_connections"), c(client, "tx_" + p + "_ctx"), c(client, "tx_" + p + "_del"),
                c(server, "rx_" + p + "_sk_add"), c(server, "rx_" + p + "_sk_del"), x("churn_rss_first_mib"),
                x("churn_rss_last_mib"));
  return line;
}

std::string Report::summary() const {
  std::ostringstream o;
  auto c = [&](const CounterMap& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? uint64_t(0) : it->second;
  };
  o << "autonic run: l5p=" << l5p << " offload=" << offload << " clock=" << clock << " seed=" << seed << "\n";
  o << "  outcome        " << outcome << (verified ? "  (verified: every byte matches)" : "  (NOT verified)") << "\n";
  o << "  delivered      " << bytes_delivered << " / " << bytes << " bytes";
  if (directions > 1) o << " (" << directions << " directions x " << bytes / directions << ")";
  o << ", wrong bytes: " << delivered_wrong_bytes << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "  time           %.4f s simulated, %.3f s wall, %.2f Gbps\n", sim_seconds, wall_seconds, throughput_gbps);
  o << line;
  std::snprintf(line, sizeof line,
                "  host cycles/B  client %.2f  server %.2f (of which app %.2f / %.2f)   NIC cycles/B  client %.2f  server %.2f\n",
                host_cpb_client, host_cpb_server, app_cpb_client, app_cpb_server, nic_cpb_client, nic_cpb_server);
  o << line;
  o << "  wire           frames " << wire.frames << ", dropped " << wire.dropped << ", reordered " << wire.reordered
    << ", duplicated " << wire.duplicated << ", corrupted " << wire.corrupted << ", tampered " << wire.tampered << "\n";
  if (is_stream_l5p(l5p)) {
    // The record-oriented L5Ps share the engine's counter names: <dir>_<proto>_<what>.
    const std::string p = l5p;
    const uint64_t full = c(server, "rx_" + p + "_msgs_full"), part = c(server, "rx_" + p + "_msgs_partial"),
                   none = c(server, "rx_" + p + "_msgs_none");
    const double tot = double(std::max<uint64_t>(full + part + none, 1));
    std::snprintf(line, sizeof line, "  %-14s full %llu (%.1f%%)  partial %llu  none %llu\n",
                  p == "tls" ? "records rx" : "messages rx", (unsigned long long)full, 100.0 * double(full) / tot,
                  (unsigned long long)part, (unsigned long long)none);
    o << line;
    o << "  NIC tx         encrypted " << c(client, "tx_" + p + "_encrypted_bytes") << " B, out-of-seq "
      << c(client, "tx_" + p + "_ooo") << ", dump " << c(client, "tx_" + p + "_dump_bytes") << " B, dropped "
      << c(client, "tx_" + p + "_drop_no_sync_data");
    if (p == "tls") o << ", zero-copy " << c(client, "tx_tls_zc_bytes") << " B";
    o << "\n";
    o << "  NIC rx resync  requests " << c(server, "rx_" + p + "_resync_req_start") << ", confirmed "
      << c(server, "rx_" + p + "_resync_res_ok") << ", denied " << c(server, "rx_" + p + "_resync_res_fail")
      << ", cancelled " << c(server, "rx_" + p + "_resync_req_cancel") << ", hw jumps "
      << c(server, "rx_" + p + "_resync_jump") << "\n";
  }
  if (extra.count("audit_msgs")) {
    // What the wire's losses allowed (testbed/wire_audit.h), beside what the NIC did.
    // (A message a lost frame touched can still be full: the frame was resent before anything
    // after it arrived, e.g. the last one of a burst.)
    const double msgs = extra.at("audit_msgs"), clean = extra.at("audit_msgs_clean"), full = extra.at("audit_msgs_full"),
                 full_clean = extra.at("audit_msgs_full_clean");
    std::snprintf(line, sizeof line,
                  "  loss limit     %.0f of %.0f messages untouched by a lost frame (%.1f%%): %.1f%% of them full (+%.0f touched, full)\n",
                  clean, msgs, msgs > 0 ? 100.0 * clean / msgs : 0.0, clean > 0 ? 100.0 * full_clean / clean : 0.0,
                  full - full_clean);
    o << line;
  }
  if (extra.count("turns")) o << scale_summary();
  if (extra.count("churn_connections")) o << churn_summary();
  if (l5p == "nvme-tls") {
    // Both directions carry data (reads: controller -> host; writes: host -> controller).
    o << "  TLS records rx full " << c(client, "rx_tls_msgs_full") << " / partial " << c(client, "rx_tls_msgs_partial")
      << " / none " << c(client, "rx_tls_msgs_none") << " (host), full " << c(server, "rx_tls_msgs_full") << " / partial "
      << c(server, "rx_tls_msgs_partial") << " / none " << c(server, "rx_tls_msgs_none") << " (ctrl)\n";
    o << "  NIC TLS        encrypted " << c(client, "tx_tls_encrypted_bytes") << " B (host) " << c(server, "tx_tls_encrypted_bytes")
      << " B (ctrl), decrypted " << c(client, "rx_tls_decrypted_bytes") << " B (host) " << c(server, "rx_tls_decrypted_bytes")
      << " B (ctrl)\n";
  }
  if (l5p == "nvme" || l5p == "nvme-tls") {
    char b2[256];
    auto x = [&](const char* k) { auto it = extra.find(k); return it == extra.end() ? 0.0 : it->second; };
    std::snprintf(b2, sizeof b2, "  I/O            %.0f IOPS, latency mean %.1f us, p99 %.1f us\n", x("iops"), x("lat_mean_us"), x("lat_p99_us"));
    o << b2;
    o << "  host           data PDUs full " << c(client, "rx_nvme_tcp_msgs_full") << ", partial " << c(client, "rx_nvme_tcp_msgs_partial")
      << ", none " << c(client, "rx_nvme_tcp_msgs_none") << "; sw copy " << c(client, "nvme_sw_copy_bytes") << " B, sw crc "
      << c(client, "nvme_sw_crc_bytes") << " B\n";
    o << "  NIC            DDP " << c(client, "rx_nvme_tcp_ddp_bytes") << " B, TX crc " << c(client, "tx_nvme_tcp_crc_bytes") << " B (host) "
      << c(server, "tx_nvme_tcp_crc_bytes") << " B (ctrl), resync " << c(client, "rx_nvme_tcp_resync") << " (host) "
      << c(server, "rx_nvme_tcp_resync") << " (ctrl)\n";
  }
  o << "  trace hash     " << std::hex << trace_hash << std::dec << "\n";
  return o.str();
}

}  // namespace autonic::testbed
