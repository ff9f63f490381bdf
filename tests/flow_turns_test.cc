// Many flows (issue #13): FlowTurns' scheduling rules on their own, then whole runs that take
// turns -- verified, deterministic, every context gone at the end, lwIP's walk measured.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "test_util.h"
#include "testbed/flow_turns.h"
#include "testbed/testbed.h"

using namespace autonic;
using namespace autonic::testbed;
using autonic::testing::ctr;

namespace {

// Drives FlowTurns by hand: connects complete when the test says, grants are recorded.
struct Harness {
  std::vector<uint32_t> connected;
  std::vector<std::pair<uint32_t, uint64_t>> grants;
  std::unique_ptr<FlowTurns> t;
  Harness(std::vector<uint64_t> bytes, uint64_t turn, bool random, uint64_t seed = 1) {
    FlowTurns::Hooks h;
    h.connect = [this](uint32_t i) { connected.push_back(i); };
    h.grant = [this](uint32_t i, uint64_t upto) { grants.emplace_back(i, upto); };
    t = std::make_unique<FlowTurns>(std::move(bytes), turn, random, seed, std::move(h));
  }
};

// Runs every granted turn to completion, oldest first; returns the flow order of the turns.
std::vector<uint32_t> drain(Harness& h, std::vector<uint64_t>& delivered) {
  std::vector<uint32_t> order;
  for (size_t k = 0; k < h.grants.size(); ++k) {
    const auto [f, upto] = h.grants[k];
    order.push_back(f);
    h.t->on_delivered(f, upto - delivered[f]);
    delivered[f] = upto;
  }
  return order;
}

std::string replay(const ScenarioConfig& c) {
  std::ostringstream o;
  o << "replay: build/autonic run --l5p " << l5p_name(c.l5p) << " --offload " << offload_name(c.offload) << " --flows "
    << c.flows << " --bytes " << c.bytes << " --burst " << c.burst << " --order " << (c.random_order ? "random" : "rr")
    << " --loss " << c.link.loss << " --ctx-cache " << c.ctx_cache_bytes << " --seed " << c.seed;
  return o.str();
}

}  // namespace

TEST(FlowTurns, OpensAWindowAtATimeThenTakesTurnsRoundRobin) {
  const uint32_t n = 600;
  Harness h(std::vector<uint64_t>(n, 3000), 1000, false);
  h.t->start();
  ASSERT_EQ(h.connected.size(), FlowTurns::kConnectWindow);  // no more handshakes at once
  for (uint32_t i = 0; i < n; ++i) {
    EXPECT_TRUE(h.grants.empty()) << "turns before every flow is open";
    h.t->on_established(i);
    EXPECT_LE(h.connected.size() - (i + 1), FlowTurns::kConnectWindow);
  }
  ASSERT_EQ(h.connected.size(), n);
  ASSERT_EQ(h.grants.size(), FlowTurns::kActiveTurns);  // at most this many write at once
  std::vector<uint64_t> delivered(n);
  const std::vector<uint32_t> order = drain(h, delivered);
  EXPECT_TRUE(h.t->done());
  EXPECT_EQ(h.t->turns(), 3u * n);
  // Round-robin: three rounds, each 0 .. n-1.
  for (size_t k = 0; k < order.size(); ++k) ASSERT_EQ(order[k], k % n) << "turn " << k;
  EXPECT_EQ(h.t->finished().size(), n);
  EXPECT_EQ(h.t->progress(), 3000ull * n + n);
}

TEST(FlowTurns, RandomOrderIsSeededAndFair) {
  auto run = [](uint64_t seed) {
    const uint32_t n = 300;
    Harness h(std::vector<uint64_t>(n, 2000), 1000, true, seed);
    h.t->start();
    for (uint32_t i = 0; i < n; ++i) h.t->on_established(i);
    std::vector<uint64_t> delivered(n);
    auto order = drain(h, delivered);
    EXPECT_TRUE(h.t->done());
    std::vector<int> turns(n);
    for (uint32_t f : order) ++turns[f];
    for (uint32_t f = 0; f < n; ++f) EXPECT_EQ(turns[f], 2) << "flow " << f;
    return order;
  };
  const auto a = run(7), b = run(7), c = run(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::vector<uint32_t> rr(a.size());
  for (size_t k = 0; k < rr.size(); ++k) rr[k] = uint32_t(k % 300);
  EXPECT_NE(a, rr);
}

TEST(FlowTurns, ALastShortTurnAndEmptyFlowsFinish) {
  Harness h({2500, 0, 1000}, 1000, false);
  h.t->start();
  for (uint32_t i = 0; i < 3; ++i) h.t->on_established(i);
  std::vector<uint64_t> delivered(3);
  drain(h, delivered);
  EXPECT_TRUE(h.t->done());
  EXPECT_EQ(delivered[0], 2500u);  // 1000 + 1000 + 500
  EXPECT_EQ(delivered[1], 0u);
}

TEST(ScaleRun, ManyTlsFlowsTakeTurnsVerifiedAndDeterministic) {
  ScenarioConfig c;
  c.l5p = L5pKind::kTls;
  c.offload = OffloadMode::kOn;
  c.flows = 1500;  // above 1000: turns by default
  c.bytes = 1500ull * 40000;
  const Report r = autonic::testing::run_exact_twice(c, replay(c));
  ASSERT_TRUE(r.verified) << replay(c);
  EXPECT_EQ(r.extra.at("flows_established"), 1500.0) << replay(c);
  EXPECT_GE(r.extra.at("turns"), 1500.0 * 4) << replay(c);  // 40000 B in turns of 8 x 1460
  EXPECT_EQ(ctr(r.server, "rx_tls_msgs_none") + ctr(r.server, "rx_tls_msgs_partial"), 0u) << replay(c);
  // Above 1000 flows lwIP's lists are hashed (tcpip/pcb_hash.h): 3000 pcbs in 2048 buckets, so
  // a segment's walk passes a pcb or two, not thousands.
  EXPECT_EQ(ctr(r.client, "lwip_demux_buckets"), 2048u) << replay(c);
  // A turn's packets reach the NIC back to back: one context lookup serves several (§6.5).
  EXPECT_GT(ctr(r.client, "nic_tx_ctx_packets"), 3 * ctr(r.client, "nic_tx_ctx_batches")) << replay(c);
  EXPECT_GT(ctr(r.server, "nic_rx_ctx_packets"), 3 * ctr(r.server, "nic_rx_ctx_batches")) << replay(c);
  EXPECT_EQ(ctr(r.client, "nic_ctx_cache_misses"), ctr(r.client, "nic_ctx_cache_cold_misses")) << replay(c);
  EXPECT_GT(ctr(r.client, "lwip_demux_samples"), 0u);
  EXPECT_LT(ctr(r.server, "lwip_demux_pcbs"), ctr(r.server, "lwip_demux_samples") * 3) << replay(c);
}

// lwIP's own list and the hashed lists carry the same runs: connects, handshakes, loss and
// reorder (retransmission timers walk every pcb: the buckets are chained for them and split
// after), and the teardown. Only the walk differs, and the probe sees it.
TEST(ScaleRun, LwipListsHashedOrNotCarryTheSameRuns) {
  for (L5pKind k : {L5pKind::kTcp, L5pKind::kTls}) {
    uint64_t walked[2] = {0, 0};
    for (auto d : {ScenarioConfig::LwipDemux::kList, ScenarioConfig::LwipDemux::kHash}) {
      ScenarioConfig c;
      c.l5p = k;
      c.offload = k == L5pKind::kTcp ? OffloadMode::kOff : OffloadMode::kOn;
      c.flows = 300;
      c.burst = 4;
      c.link.loss = 0.01;
      c.link.reorder = 0.01;
      c.bytes = 300ull * 20000;
      c.lwip_demux = d;
      const bool hash = d == ScenarioConfig::LwipDemux::kHash;
      const std::string rp = replay(c) + " --reorder 0.01 --lwip-demux " + (hash ? "hash" : "list");
      const Report r = autonic::testing::run_exact_twice(c, rp);
      ASSERT_TRUE(r.verified) << r.outcome << " " << rp;
      EXPECT_EQ(r.extra.at("flows_established"), 300.0) << rp;
      EXPECT_GT(r.wire.dropped, 0u) << rp;  // lost segments: lwIP retransmitted them
      EXPECT_EQ(ctr(r.client, "lwip_demux_buckets"), hash ? 512u : 1u) << rp;
      walked[hash] = (ctr(r.client, "lwip_demux_pcbs") + ctr(r.server, "lwip_demux_pcbs")) /
                     std::max<uint64_t>(ctr(r.client, "lwip_demux_samples") + ctr(r.server, "lwip_demux_samples"), 1);
    }
    EXPECT_GT(walked[0], 10 * std::max<uint64_t>(walked[1], 1)) << "list walk vs hashed walk, " << l5p_name(k);
  }
}

TEST(ScaleRun, BurstsForEveryStreamL5pAndRandomOrderUnderLoss) {
  for (L5pKind k : {L5pKind::kTcp, L5pKind::kFramed, L5pKind::kTls}) {
    ScenarioConfig c;
    c.l5p = k;
    c.offload = k == L5pKind::kTcp ? OffloadMode::kOff : OffloadMode::kOn;
    c.flows = 200;
    c.burst = 3;
    c.random_order = true;
    c.link.loss = 0.01;
    c.bytes = 200ull * 30000;
    c.ctx_cache_bytes = 4 * 1024;  // far fewer contexts than flows: misses, evictions
    const Report r = autonic::testing::run_exact_twice(c, replay(c));
    EXPECT_TRUE(r.verified) << replay(c);
    if (k != L5pKind::kTcp) {
      EXPECT_GT(ctr(r.client, "nic_ctx_cache_evictions"), 0u) << replay(c);
    }
  }
}

TEST(ScaleRun, TurnsRefuseWhatTheyDoNotCarry) {
  ScenarioConfig c;
  c.flows = 2000;
  c.bidirectional = true;
  EXPECT_THROW(run_scenario(c), std::invalid_argument);  // refused before anything is built
  c.bidirectional = false;
  c.l5p = L5pKind::kNvmeTcp;
  EXPECT_THROW(run_scenario(c), std::invalid_argument);
  c.l5p = L5pKind::kTls;
  c.flows = kMaxFlows + 1;
  EXPECT_THROW(run_scenario(c), std::invalid_argument);
  c.flows = 10;
  c.burst = 5000;
  EXPECT_THROW(run_scenario(c), std::invalid_argument);
}

TEST(ChurnRun, ShortConnectionsComeAndGoContextsDeletedBulkVerified) {
  for (L5pKind k : {L5pKind::kTls, L5pKind::kFramed}) {
    ScenarioConfig c;
    c.l5p = k;
    c.offload = OffloadMode::kOn;
    c.flows = 2;
    c.bytes = 8u << 20;
    c.churn = 700;
    c.link.loss = 0.005;
    // Hashed lists for one of the two: 700 pcbs come and go through their buckets.
    if (k == L5pKind::kFramed) c.lwip_demux = ScenarioConfig::LwipDemux::kHash;
    const std::string p = l5p_name(k);
    const std::string rp = replay(c) + " --churn 700" + (k == L5pKind::kFramed ? " --lwip-demux hash" : "");
    const Report r = autonic::testing::run_exact_twice(c, rp);
    ASSERT_TRUE(r.verified) << r.outcome << " " << rp;
    EXPECT_EQ(r.extra.at("churn_connections"), 700.0) << rp;
    // Every churned connection's contexts were added and deleted; the bulk flows' are still up.
    EXPECT_EQ(ctr(r.client, "tx_" + p + "_ctx"), 702u) << rp;
    EXPECT_EQ(ctr(r.client, "tx_" + p + "_del"), 700u) << rp;
    EXPECT_EQ(ctr(r.server, "rx_" + p + "_sk_add"), 702u) << rp;
    EXPECT_EQ(ctr(r.server, "rx_" + p + "_sk_del"), 700u) << rp;
  }
}
