// `autonic nicsim` output: a summary for people, one JSON object for scripts.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/nicsim.h"

namespace autonic::cli::nicsim {
namespace {

nlohmann::json cache_json(const nic::CtxCacheStats& s) {
  return {{"hits", s.hits},
          {"misses", s.misses},
          {"cold_misses", s.cold_misses},
          {"evictions", s.evictions},
          {"fetch_bytes", s.fetch_bytes},
          {"writeback_bytes", s.writeback_bytes}};
}

double per(uint64_t a, uint64_t b) { return b ? double(a) / double(b) : 0; }

}  // namespace

std::string to_json(const Config& c, const Result& r) {
  nlohmann::json j;
  j["outcome"] = r.ok(c) ? "ok" : "failed";
  j["l5p"] = c.l5 == L5::kTls ? "tls" : "nvme";
  j["flows"] = r.flows;
  j["burst"] = c.burst;
  j["ctx_cache_bytes"] = c.ctx_cache;
  j["ctx_policy"] = nic::ctx_policy_name(c.policy);
  j["order"] = c.random_order ? "random" : "rr";
  j["seed"] = c.seed;
  j["packets"] = r.packets;
  j["batches"] = r.batches;
  j["packets_per_batch"] = per(r.packets, r.batches);
  j["rx_marked"] = r.rx_marked;
  j["rx_unmarked"] = r.rx_unmarked;
  j["rx_bad_bytes"] = r.rx_bad_bytes;
  j["wire_lost"] = r.wire_lost;
  j["resync_reqs"] = r.resync_reqs;
  j["hit_rate"] = r.hit_rate();
  j["tx_cache"] = cache_json(r.tx_cache);
  j["rx_cache"] = cache_json(r.rx_cache);
  j["ctx_dma_bytes_per_packet"] = r.dma_per_packet();
  j["ctx_bytes_tx"] = r.ctx_bytes_tx;
  j["ctx_bytes_rx"] = r.ctx_bytes_rx;
  j["tx_nic_cycles_per_packet"] = per(r.tx_cycles, r.packets);
  j["rx_nic_cycles_per_packet"] = per(r.rx_cycles, r.packets);
  j["rss_hwm_bytes"] = r.rss_hwm;
  j["model_bytes_per_flow"] = r.model_bytes_per_flow;
  j["wall_s"] = r.wall_s;
  return j.dump(2);
}

std::string summary(const Config& c, const Result& r) {
  char b[2048];
  const auto& t = r.tx_cache;
  const auto& x = r.rx_cache;
  std::snprintf(
      b, sizeof b,
      "nicsim %s: %llu flows, %llu packets in %llu batches (%.1f packets/batch), cache %zu B %s, order %s\n"
      "  outcome        %s (%llu marked, %llu unmarked, %llu wrong bytes, %llu lost, %llu resync requests)\n"
      "  context bytes  TX %zu, RX %zu (NIC memory per context)\n"
      "  TX cache       hits %llu, misses %llu (cold %llu), evictions %llu, fetch %llu B, write-back %llu B\n"
      "  RX cache       hits %llu, misses %llu (cold %llu), evictions %llu, fetch %llu B, write-back %llu B\n"
      "  hit rate       %.4f; context DMA %.1f B/packet\n"
      "  NIC cycles     TX %.0f, RX %.0f per packet\n"
      "  memory         VmHWM %.1f MiB, model %llu B/flow (both contexts)\n"
      "  wall           %.2f s\n",
      c.l5 == L5::kTls ? "tls" : "nvme", (unsigned long long)r.flows, (unsigned long long)r.packets,
      (unsigned long long)r.batches, per(r.packets, r.batches), c.ctx_cache, nic::ctx_policy_name(c.policy),
      c.random_order ? "random" : "rr", r.ok(c) ? "ok" : "FAILED", (unsigned long long)r.rx_marked,
      (unsigned long long)r.rx_unmarked, (unsigned long long)r.rx_bad_bytes, (unsigned long long)r.wire_lost,
      (unsigned long long)r.resync_reqs, r.ctx_bytes_tx, r.ctx_bytes_rx, (unsigned long long)t.hits,
      (unsigned long long)t.misses, (unsigned long long)t.cold_misses, (unsigned long long)t.evictions,
      (unsigned long long)t.fetch_bytes, (unsigned long long)t.writeback_bytes, (unsigned long long)x.hits,
      (unsigned long long)x.misses, (unsigned long long)x.cold_misses, (unsigned long long)x.evictions,
      (unsigned long long)x.fetch_bytes, (unsigned long long)x.writeback_bytes, r.hit_rate(), r.dma_per_packet(),
      per(r.tx_cycles, r.packets), per(r.rx_cycles, r.packets), double(r.rss_hwm) / (1 << 20),
      (unsigned long long)r.model_bytes_per_flow, r.wall_s);
  return b;
}

}  // namespace autonic::cli::nicsim
