// End-to-end scenarios through lwIP, driver, NIC model and wire, each in its own process
// (run_isolated: lwIP is global). Every failure message carries the command line that replays it.
#include <gtest/gtest.h>

#include <sstream>

#include "test_util.h"
#include "testbed/testbed.h"

using namespace autonic;
using namespace autonic::testbed;
using autonic::testing::ctr;

namespace {

ScenarioConfig framed(OffloadMode m, uint64_t bytes, uint64_t seed) {
  ScenarioConfig c;
  c.l5p = L5pKind::kFramed;
  c.offload = m;
  c.bytes = bytes;
  c.seed = seed;
  return c;
}

std::string replay(const ScenarioConfig& c) {
  std::ostringstream o;
  o << "replay: build/autonic run --l5p " << l5p_name(c.l5p) << " --offload " << offload_name(c.offload)
    << " --bytes " << c.bytes << " --flows " << c.flows << " --msg-size " << c.msg_size << " --loss " << c.link.loss
    << " --reorder " << c.link.reorder << " --dup " << c.link.dup << " --corrupt " << c.link.corrupt << " --tamper "
    << c.link.tamper << " --mtu " << c.mtu << " --ctx-cache " << c.ctx_cache_bytes << " --seed " << c.seed
    << (c.tso ? " --tso on" : "") << (c.gro ? " --gro on" : "");
  return o.str();
}


}  // namespace

TEST(Scenario, SameSeedSameFramesOtherSeedOtherFrames) {
  ScenarioConfig c;
  c.bytes = 4u << 20;
  c.link.loss = 0.02;
  c.link.reorder = 0.02;
  c.link.dup = 0.01;
  c.seed = 7;
  const Report a = run_isolated(c), b = run_isolated(c);
  c.seed = 8;
  const Report d = run_isolated(c);
  ASSERT_TRUE(a.verified) << a.outcome << " " << replay(c);
  EXPECT_EQ(a.trace_hash, b.trace_hash) << replay(c);
  EXPECT_NE(a.trace_hash, d.trace_hash) << replay(c);
  EXPECT_GT(a.wire.dropped, 0u);
  EXPECT_GT(a.wire.reordered, 0u);
  EXPECT_GT(a.wire.duplicated, 0u);
}

TEST(Scenario, OffloadNeverChangesTheWireOrTheApplicationBytes) {
  // The software path and every offload mode must put identical frames on the wire, under loss,
  // reordering and duplication (DESIGN.md invariant 1, issue #2 item 6).
  uint64_t hash = 0;
  for (OffloadMode m : {OffloadMode::kOff, OffloadMode::kTx, OffloadMode::kRx, OffloadMode::kOn}) {
    ScenarioConfig c = framed(m, 3u << 20, 11);
    c.link.loss = 0.01;
    c.link.reorder = 0.01;
    c.link.dup = 0.01;
    const Report r = run_isolated(c);
    ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
    if (m == OffloadMode::kOff) hash = r.trace_hash;
    EXPECT_EQ(r.trace_hash, hash) << "wire bytes differ from the software path; " << replay(c);
  }
}

TEST(Scenario, InOrderEveryMessageFullyOffloaded) {
  const ScenarioConfig c = framed(OffloadMode::kOn, 8u << 20, 1);
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << replay(c);
  const uint64_t msgs = ctr(r.server, "rx_framed_msgs");
  EXPECT_EQ(msgs, (8u << 20) / 16384);
  EXPECT_EQ(ctr(r.server, "rx_framed_msgs_full"), msgs) << replay(c);
  EXPECT_EQ(ctr(r.server, "rx_framed_sw_decrypted_bytes"), 0u);
  EXPECT_EQ(ctr(r.client, "tx_framed_sw_encrypted_bytes"), 0u);
  EXPECT_EQ(ctr(r.client, "tx_framed_encrypted_bytes"), msgs * (16384 + 16)) << replay(c);
  EXPECT_EQ(ctr(r.client, "tx_framed_ooo"), 0u);
}

TEST(Scenario, LossAndReorderResyncAndRecover) {
  ScenarioConfig c = framed(OffloadMode::kOn, 16u << 20, 3);
  c.link.loss = 0.02;
  c.link.reorder = 0.02;
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  EXPECT_GT(ctr(r.server, "rx_framed_resync_req_start"), 0u) << replay(c);
  EXPECT_GT(ctr(r.server, "rx_framed_resync_res_ok"), 0u) << replay(c);
  EXPECT_GT(ctr(r.client, "tx_framed_ooo"), 0u) << replay(c);
  EXPECT_GT(ctr(r.client, "tx_framed_dump_bytes"), 0u) << replay(c);
  EXPECT_GT(ctr(r.server, "rx_framed_msgs_full"), 0u);
  EXPECT_GT(ctr(r.server, "rx_framed_msgs_partial") + ctr(r.server, "rx_framed_msgs_none"), 0u);
  EXPECT_EQ(ctr(r.server, "rx_framed_msgs_full") + ctr(r.server, "rx_framed_msgs_partial") +
                ctr(r.server, "rx_framed_msgs_none"),
            ctr(r.server, "rx_framed_msgs"));
}

TEST(Scenario, TamperedMessagesAreNeverDelivered) {
  for (OffloadMode m : {OffloadMode::kOff, OffloadMode::kRx, OffloadMode::kOn}) {
    ScenarioConfig c = framed(m, 8u << 20, 2);
    c.link.tamper = 0.001;
    const Report r = run_isolated(c);
    EXPECT_FALSE(r.verified) << replay(c);
    EXPECT_EQ(r.outcome, "integrity:bad_check") << replay(c);
    EXPECT_EQ(r.delivered_wrong_bytes, 0u) << replay(c);
    EXPECT_GT(r.wire.tampered, 0u);
  }
}

TEST(Scenario, LineNoiseIsDroppedByChecksumOffload) {
  ScenarioConfig c = framed(OffloadMode::kOn, 4u << 20, 4);
  c.link.corrupt = 0.01;
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  EXPECT_GT(r.wire.corrupted, 0u);
  EXPECT_GT(ctr(r.server, "nic_rx_csum_err") + ctr(r.client, "nic_rx_csum_err"), 0u) << replay(c);
}

TEST(Scenario, ContextCacheEvictsAndStaysCorrect) {
  ScenarioConfig c = framed(OffloadMode::kOn, 4u << 20, 5);
  c.flows = 16;
  c.ctx_cache_bytes = 1024;  // a handful of contexts: forces misses and evictions
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  EXPECT_GT(ctr(r.server, "nic_ctx_cache_evictions"), 0u) << replay(c);
  EXPECT_GT(ctr(r.server, "nic_ctx_dma_bytes"), 0u);
  EXPECT_EQ(ctr(r.server, "rx_framed_msgs_full"), ctr(r.server, "rx_framed_msgs"));
}

// TLS contexts evicted from a tiny cache are written back in their at-rest form (the engine and
// plug-in objects destroyed, mid-record too) and made again on their next fetch: with loss,
// TX recovery and RX resync run on contexts fetched back. Both versions (1.2 gathers an
// explicit nonce across packets), both offload modes.
TEST(Scenario, TlsContextsFrozenByTheCacheStayExact) {
  for (const char* version : {"1.3", "1.2"})
    for (OffloadMode m : {OffloadMode::kOn, OffloadMode::kZc}) {
      ScenarioConfig c;
      c.l5p = L5pKind::kTls;
      c.offload = m;
      c.tls_version = version;
      c.bytes = 2u << 20;
      c.flows = 8;
      c.link.loss = 0.01;
      c.ctx_cache_bytes = 512;  // two contexts
      c.seed = 11;
      const Report r = run_isolated(c);
      ASSERT_TRUE(r.verified) << r.outcome << " TLS " << version << " " << replay(c);
      EXPECT_GT(ctr(r.client, "nic_ctx_cache_evictions"), 0u) << replay(c);
      EXPECT_GT(ctr(r.server, "nic_ctx_cache_evictions"), 0u) << replay(c);
      EXPECT_GT(ctr(r.client, "tx_tls_encrypted_packets"), 0u) << replay(c);
      EXPECT_GT(ctr(r.server, "rx_tls_decrypted_packets"), 0u) << replay(c);
    }
}

TEST(Scenario, JumboFrames) {
  ScenarioConfig c = framed(OffloadMode::kOn, 4u << 20, 6);
  c.mtu = 9000;
  c.link.loss = 0.01;
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  EXPECT_LT(r.wire.frames, 2 * (4u << 20) / 8000);
}

// Fault matrix: every offload mode x loss x reorder (+ duplication) is byte-exact and
// deterministic.
class FaultMatrix : public ::testing::TestWithParam<std::tuple<OffloadMode, double, double>> {};

TEST_P(FaultMatrix, ByteExactAndDeterministic) {
  auto [mode, loss, reorder] = GetParam();
  ScenarioConfig c = framed(mode, 2u << 20, 21);
  c.msg_size = 4096;
  c.link.loss = loss;
  c.link.reorder = reorder;
  c.link.dup = 0.01;
  autonic::testing::run_exact_twice(c, replay(c));
}

// With TSO and GRO on (issue #12).
class GroTsoMatrix : public ::testing::TestWithParam<std::tuple<L5pKind, OffloadMode, double, double>> {};

TEST_P(GroTsoMatrix, ByteExactAndDeterministic) {
  auto [l5p, mode, loss, reorder] = GetParam();
  ScenarioConfig c = framed(mode, 2u << 20, 22);
  c.l5p = l5p;
  c.msg_size = 4096;
  c.tso = c.gro = true;
  c.link.loss = loss;
  c.link.reorder = reorder;
  c.link.dup = 0.01;
  const Report a = autonic::testing::run_exact_twice(c, replay(c));
  EXPECT_GT(ctr(a.client, "nic_tx_tso_packets"), 0u) << replay(c);
}

INSTANTIATE_TEST_SUITE_P(Framed, GroTsoMatrix,
                         ::testing::Combine(::testing::Values(L5pKind::kFramed),
                                            ::testing::Values(OffloadMode::kOff, OffloadMode::kOn),
                                            ::testing::Values(0.0, 0.05), ::testing::Values(0.0, 0.05)));
INSTANTIATE_TEST_SUITE_P(Tcp, GroTsoMatrix,
                         ::testing::Combine(::testing::Values(L5pKind::kTcp), ::testing::Values(OffloadMode::kOff),
                                            ::testing::Values(0.0, 0.05), ::testing::Values(0.0, 0.05)));

INSTANTIATE_TEST_SUITE_P(Framed, FaultMatrix,
                         ::testing::Combine(::testing::Values(OffloadMode::kOff, OffloadMode::kTx,
                                                              OffloadMode::kRx, OffloadMode::kOn),
                                            ::testing::Values(0.0, 0.02, 0.05),
                                            ::testing::Values(0.0, 0.05)));
