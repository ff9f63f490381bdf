#include "cli/nicsim_cli.h"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/nicsim.h"
#include "cli/parse.h"

namespace autonic::cli {

using nicsim::Config;
using nicsim::Result;

void add_nicsim_options(CLI::App* app, NicsimArgs& a) {
  app->add_option("--flows", a.flows, "flows (one TX context on NIC A, one RX context on NIC B each), 1 .. 4M");
  app->add_option("--burst", a.burst, "packets per flow turn: one doorbell, one NIC batch (the paper's 8 .. 48)");
  app->add_option("--packets", a.packets, "packets per flow (0: two turns, 2 x burst)");
  app->add_option("--bytes", a.bytes, "stream bytes per flow instead of --packets (K/M/G)");
  app->add_option("--ctx-cache", a.ctx_cache, "each NIC's context cache capacity (bytes; K/M/G: 4M)");
  app->add_option("--ctx-policy", a.ctx_policy, "lru | clock")->check(CLI::IsMember({"lru", "clock"}));
  app->add_option("--l5p", a.l5p, "tls | nvme")->check(CLI::IsMember({"tls", "nvme"}));
  app->add_option("--order", a.order, "rr | random: flow order of each round")->check(CLI::IsMember({"rr", "random"}));
  app->add_option("--seed", a.seed, "seed (keys, ISNs, flow order, wire faults)");
  app->add_option("--loss", a.loss, "wire loss probability between the NICs (B resyncs; no retransmission)");
  app->add_option("--reorder", a.reorder, "probability a frame is held back behind the next one");
  app->add_option("--mss", a.mss, "payload bytes per packet, 64 .. 8960");
  app->add_option("--msg-size", a.msg_size, "TLS record plaintext / NVMe PDU data bytes, 16 .. 16K");
  app->add_flag("--json", a.json, "print one JSON object");
  app->add_flag("--sweep", a.sweep, "sweep flows x cache x burst x policy, print a Markdown table");
  app->add_flag("--quick", a.quick, "with --sweep: a small grid (seconds)");
}

namespace {

uint64_t num(const std::string& s, const char* opt, uint64_t lo, uint64_t hi) {
  auto v = parse_uint(s, lo, hi);
  if (!v) throw CLI::ValidationError(opt, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return *v;
}
uint64_t sz(const std::string& s, const char* opt) {
  auto v = parse_size(s);
  if (!v) throw CLI::ValidationError(opt, "must be a size (e.g. 4M)");
  return *v;
}
double prob(const std::string& s, const char* opt) {
  auto v = parse_prob(s);
  if (!v) throw CLI::ValidationError(opt, "must be a probability (2% or 0.02)");
  return *v;
}

Config to_config(const NicsimArgs& a) {
  Config c;
  c.flows = uint32_t(num(a.flows, "--flows", 1, 4u << 20));
  c.burst = uint32_t(num(a.burst, "--burst", 1, 4096));
  c.mss = uint32_t(num(a.mss, "--mss", 64, 8960));
  c.msg_content = uint32_t(sz(a.msg_size, "--msg-size"));
  if (c.msg_content < 16 || c.msg_content > 16384) throw CLI::ValidationError("--msg-size", "must be 16 .. 16K");
  c.packets = num(a.packets, "--packets", 0, 1u << 20);
  if (!a.bytes.empty()) c.packets = std::max<uint64_t>(1, (sz(a.bytes, "--bytes") + c.mss - 1) / c.mss);
  if (uint64_t(c.packets ? c.packets : 2 * c.burst) * c.mss >= (1ull << 31))
    throw CLI::ValidationError("--packets", "a flow's stream must stay below 2 GiB (TCP sequence space)");
  c.ctx_cache = sz(a.ctx_cache, "--ctx-cache");
  nic::parse_ctx_policy(a.ctx_policy, &c.policy);
  c.l5 = a.l5p == "nvme" ? nicsim::L5::kNvme : nicsim::L5::kTls;
  c.random_order = a.order == "random";
  c.seed = num(a.seed, "--seed", 0, UINT64_MAX);
  c.loss = prob(a.loss, "--loss");
  c.reorder = prob(a.reorder, "--reorder");
  return c;
}

std::string mib(uint64_t b) {
  char s[32];
  std::snprintf(s, sizeof s, "%.0f MiB", double(b) / (1 << 20));
  return s;
}

// One sweep point (its own Sim: memory is returned between points).
void sweep_row(std::ostream& o, Config c) {
  const Result r = nicsim::run(c);
  char line[320];
  std::snprintf(line, sizeof line, "| %u | %s | %u | %s | %.4f | %llu | %.1f | %.0f | %.0f | %.1f |%s\n", c.flows,
                mib(c.ctx_cache).c_str(), c.burst, nic::ctx_policy_name(c.policy), r.hit_rate(),
                static_cast<unsigned long long>(r.tx_cache.cold_misses + r.rx_cache.cold_misses), r.dma_per_packet(),
                double(r.tx_cycles) / double(r.packets), double(r.rx_cycles) / double(r.packets), r.wall_s,
                r.ok(c) ? "" : " FAILED");
  o << line << std::flush;
}

int run_sweep(const NicsimArgs& a) {
  Config base = to_config(a);
  const std::vector<uint32_t> flows = a.quick ? std::vector<uint32_t>{1024, 16384, 131072}
                                              : std::vector<uint32_t>{1024, 16384, 131072, 1u << 20};
  const std::vector<size_t> caches = {1u << 20, 4u << 20, 16u << 20};
  const std::vector<uint32_t> bursts = {1, 8, 48};
  std::cout << "| flows | cache | burst | policy | hit rate | cold misses | ctx DMA B/pkt | TX NIC cyc/pkt | RX NIC "
               "cyc/pkt | wall s |\n|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n";
  for (uint32_t f : flows)
    for (size_t cache : caches)
      for (uint32_t b : bursts)
        for (nic::CtxPolicy p : {nic::CtxPolicy::kLru, nic::CtxPolicy::kClock}) {
          Config c = base;
          c.flows = f;
          c.ctx_cache = cache;
          c.burst = b;
          c.policy = p;
          c.packets = 0;  // two turns per flow: the second shows what the cache kept
          sweep_row(std::cout, c);
        }
  return 0;
}

}  // namespace

int run_nicsim(const NicsimArgs& a) {
  if (a.sweep) return run_sweep(a);
  const Config c = to_config(a);
  const Result r = nicsim::run(c);
  std::cout << (a.json ? nicsim::to_json(c, r) + "\n" : nicsim::summary(c, r));
  return r.ok(c) ? 0 : 2;
}

}  // namespace autonic::cli
