// `autonic nicsim` (issue #13): the real NIC engines, plug-ins and context caches at scale
// without a TCP stack. Fitting working sets miss only cold; a tiny cache misses on capacity;
// the receiving NIC's output is the plaintext; same seed, same figures.
#include <gtest/gtest.h>

#include "cli/nicsim.h"

namespace autonic::cli::nicsim {
namespace {

Config small(L5 l5, uint32_t flows, size_t cache) {
  Config c;
  c.l5 = l5;
  c.flows = flows;
  c.burst = 4;
  c.packets = 24;  // several records / PDUs per flow, crossing packet boundaries
  c.msg_content = 4096;
  c.ctx_cache = cache;
  return c;
}

TEST(Nicsim, FittingFlowsMissOnlyCold) {
  for (L5 l5 : {L5::kTls, L5::kNvme})
    for (nic::CtxPolicy p : {nic::CtxPolicy::kLru, nic::CtxPolicy::kClock}) {
      Config c = small(l5, 64, 4u << 20);
      c.policy = p;
      const Result r = run(c);
      EXPECT_TRUE(r.ok(c));
      EXPECT_EQ(r.packets, 64u * 24);
      EXPECT_EQ(r.rx_marked, r.packets);  // every packet decrypted / verified by NIC B
      EXPECT_EQ(r.rx_bad_bytes, 0u);
      EXPECT_EQ(r.batches, 64u * 6);
      EXPECT_EQ(r.tx_cache.misses, 64u);
      EXPECT_EQ(r.tx_cache.cold_misses, 64u);
      EXPECT_EQ(r.rx_cache.cold_misses, 64u);
      EXPECT_EQ(r.rx_cache.misses, 64u);
      EXPECT_EQ(r.tx_cache.evictions + r.rx_cache.evictions, 0u);
      EXPECT_EQ(r.tx_cache.fetch_bytes, 64u * r.ctx_bytes_tx);
      EXPECT_LE(r.ctx_bytes_rx, 256u);
      EXPECT_LE(r.ctx_bytes_tx, 256u);
    }
}

TEST(Nicsim, TinyCacheMissesOnCapacityEveryTurn) {
  for (nic::CtxPolicy p : {nic::CtxPolicy::kLru, nic::CtxPolicy::kClock}) {
    Config c = small(L5::kNvme, 4096, 16 << 10);
    c.policy = p;
    const Result r = run(c);
    EXPECT_TRUE(r.ok(c));
    // Round-robin over far more flows than fit: each turn's first packet misses, the rest hit.
    const uint64_t turns = 4096u * 6;
    EXPECT_EQ(r.tx_cache.misses, turns);
    EXPECT_EQ(r.tx_cache.cold_misses, 4096u);
    EXPECT_EQ(r.tx_cache.hits, r.packets - turns);
    EXPECT_GT(r.tx_cache.evictions, turns - 4096u - 200);
    EXPECT_EQ(r.tx_cache.writeback_bytes, r.tx_cache.evictions * r.ctx_bytes_tx);
    EXPECT_NEAR(r.hit_rate(), 0.75, 1e-9);  // 1 - 1 / burst
  }
}

// Evicted TLS contexts drop their AES-GCM working state (key schedule, hash key powers) and
// rebuild it on their next packet, mostly in the middle of a record (a turn of 4 packets ends
// inside a 4 KiB record): every record still seals and opens exactly, with loss too.
TEST(Nicsim, TlsContextsParkedMidRecordResumeExactly) {
  for (double loss : {0.0, 0.02}) {
    Config c = small(L5::kTls, 2048, 16 << 10);
    c.loss = loss;
    const Result r = run(c);
    EXPECT_TRUE(r.ok(c));
    EXPECT_EQ(r.rx_bad_bytes, 0u);
    EXPECT_GT(r.tx_cache.evictions, 2048u * 5);
    EXPECT_GT(r.rx_cache.evictions, 2048u * 5);
    if (loss == 0) {
      EXPECT_EQ(r.rx_marked, r.packets);
    }
  }
}

TEST(Nicsim, SameSeedSameFigures) {
  Config c = small(L5::kTls, 512, 32 << 10);
  c.random_order = true;
  c.seed = 7;
  const Result a = run(c), b = run(c);
  EXPECT_TRUE(a.ok(c));
  EXPECT_EQ(a.tx_cache.hits, b.tx_cache.hits);
  EXPECT_EQ(a.rx_cache.evictions, b.rx_cache.evictions);
  EXPECT_EQ(a.rx_cache.writeback_bytes, b.rx_cache.writeback_bytes);
  c.seed = 8;
  const Result d = run(c);
  EXPECT_TRUE(d.ok(c));
  EXPECT_EQ(d.packets, a.packets);
}

// Loss and reordering between the NICs: B searches, asks, and the driver's answers from the
// record layout bring it back; whatever it marks is the plaintext.
TEST(Nicsim, LossAndReorderResyncAndStayCorrect) {
  for (L5 l5 : {L5::kTls, L5::kNvme}) {
    Config c = small(l5, 32, 4u << 20);
    c.packets = 96;
    c.loss = 0.02;
    c.reorder = 0.02;
    const Result r = run(c);
    EXPECT_TRUE(r.ok(c));
    EXPECT_EQ(r.rx_bad_bytes, 0u);
    EXPECT_GT(r.wire_lost, 0u);
    EXPECT_GT(r.resync_reqs, 0u);
    EXPECT_GT(r.rx_marked, r.packets / 2);  // resync brings most packets back to offload
  }
}

TEST(Nicsim, StreamLayoutRoundTrips) {
  for (L5 l5 : {L5::kTls, L5::kNvme}) {
    const MsgLayout m{l5, 1000};
    Bytes b(5000);
    m.fill(3, 777, b);
    EXPECT_EQ(m.check(3, 777, b), 0u);
    b[10] ^= 1;  // inside content or header: a checked byte
    EXPECT_EQ(m.check(3, 777, b), 1u);
  }
}

}  // namespace
}  // namespace autonic::cli::nicsim
