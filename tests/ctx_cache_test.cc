// Context cache policies (§6.5): LRU order, CLOCK second chance, cold vs capacity misses and
// the exact fetch / write-back bytes of small hand-worked traces.
#include <gtest/gtest.h>

#include <vector>

#include "nic/ctx_cache.h"

namespace autonic::nic {
namespace {

// Room for three 100-byte contexts.
TEST(CtxCache, LruEvictsLeastRecentlyUsed) {
  ContextCache c(300, CtxPolicy::kLru);
  c.touch(1, 100);
  c.touch(2, 100);
  c.touch(3, 100);
  c.touch(1, 100);  // hit: order (recent first) 1 3 2
  c.touch(4, 100);  // evicts 2
  EXPECT_FALSE(c.contains(2));
  EXPECT_TRUE(c.contains(1) && c.contains(3) && c.contains(4));
  c.touch(2, 100);  // capacity miss: evicts 3
  EXPECT_FALSE(c.contains(3));
  const CtxCacheStats& s = c.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 5u);
  EXPECT_EQ(s.cold_misses, 4u);  // 1 2 3 4; the second miss on 2 is a capacity miss
  EXPECT_EQ(s.evictions, 2u);
  EXPECT_EQ(s.fetch_bytes, 500u);
  EXPECT_EQ(s.writeback_bytes, 200u);
  CounterMap m;
  c.export_to(m);
  EXPECT_EQ(m["nic_ctx_dma_bytes"], 700u);
  EXPECT_EQ(m["nic_ctx_cache_cold_misses"], 4u);
}

// The owner hears of each victim (to park its state), once, after it left the cache; a
// removed context is not a victim.
TEST(CtxCache, EvictHookNamesEachVictim) {
  for (CtxPolicy p : {CtxPolicy::kLru, CtxPolicy::kClock}) {
    ContextCache c(300, p);
    std::vector<uint32_t> victims;
    c.set_evict_hook([&](uint32_t id) {
      EXPECT_FALSE(c.contains(id));
      victims.push_back(id);
    });
    for (uint32_t id : {1, 2, 3}) c.touch(id, 100);
    c.remove(2);
    c.touch(4, 100);  // fits: nothing evicted
    c.touch(5, 100);  // evicts 1 (LRU; CLOCK: no reference bits set, the hand starts at 1)
    c.touch(6, 200);  // evicts two
    ASSERT_EQ(victims.size(), 3u);
    EXPECT_EQ(victims[0], 1u);
    EXPECT_EQ(c.stats().evictions, 3u);
  }
}

TEST(CtxCache, ClockGivesReferencedEntriesASecondChance) {
  ContextCache c(300, CtxPolicy::kClock);
  c.touch(1, 100);
  c.touch(2, 100);
  c.touch(3, 100);
  c.touch(1, 100);  // sets 1's reference bit
  c.touch(4, 100);  // hand: 1 referenced (cleared, passed), 2 not: evicted
  EXPECT_TRUE(c.contains(1));
  EXPECT_FALSE(c.contains(2));
  c.touch(5, 100);  // hand continues at 3: evicted
  EXPECT_FALSE(c.contains(3));
  c.touch(6, 100);  // hand wraps to 1: its bit was cleared on the first sweep -> evicted
  EXPECT_FALSE(c.contains(1));
  EXPECT_TRUE(c.contains(4));
  c.touch(4, 100);  // hit: 4's bit set
  c.touch(7, 100);  // hand at 4 (in 2's old slot): second chance; 5 evicted
  EXPECT_TRUE(c.contains(4));
  EXPECT_FALSE(c.contains(5));
  EXPECT_EQ(c.stats().evictions, 4u);
  EXPECT_EQ(c.stats().writeback_bytes, 400u);
  EXPECT_EQ(c.stats().cold_misses, 7u);
}

// LRU and CLOCK differ: a cyclic scan one larger than the cache misses every time under LRU.
TEST(CtxCache, CyclicScanLargerThanCacheMissesAlwaysUnderLru) {
  ContextCache c(300, CtxPolicy::kLru);
  for (int round = 0; round < 3; ++round)
    for (uint32_t id = 1; id <= 4; ++id) c.touch(id, 100);
  EXPECT_EQ(c.stats().hits, 0u);
  EXPECT_EQ(c.stats().cold_misses, 4u);
  EXPECT_EQ(c.stats().misses, 12u);
}

TEST(CtxCache, FittingWorkingSetMissesOnlyCold) {
  for (CtxPolicy p : {CtxPolicy::kLru, CtxPolicy::kClock}) {
    ContextCache c(64 * 200, p);
    for (int round = 0; round < 5; ++round)
      for (uint32_t id = 1; id <= 64; ++id) c.touch(id, 200);
    EXPECT_EQ(c.stats().misses, 64u) << ctx_policy_name(p);
    EXPECT_EQ(c.stats().cold_misses, 64u);
    EXPECT_EQ(c.stats().evictions, 0u);
    EXPECT_EQ(c.stats().hits, 64u * 4);
  }
}

// Variable sizes: one large fetch evicts as many victims as its bytes need.
TEST(CtxCache, LargeContextEvictsSeveralVictims) {
  ContextCache c(300, CtxPolicy::kLru);
  c.touch(1, 100);
  c.touch(2, 100);
  c.touch(3, 100);
  c.touch(9, 250);
  EXPECT_EQ(c.stats().evictions, 3u);
  EXPECT_EQ(c.used_bytes(), 250u);
  EXPECT_EQ(c.stats().writeback_bytes, 300u);
  EXPECT_EQ(c.stats().fetch_bytes, 550u);
}

// A destroyed context leaves without a write-back; a new one under its id is cold again.
TEST(CtxCache, RemoveFreesWithoutWritebackAndResetsCold) {
  for (CtxPolicy p : {CtxPolicy::kLru, CtxPolicy::kClock}) {
    ContextCache c(300, p);
    c.touch(1, 100);
    c.touch(2, 100);
    c.remove(1);
    EXPECT_EQ(c.used_bytes(), 100u);
    EXPECT_EQ(c.stats().writeback_bytes, 0u);
    c.touch(1, 100);
    EXPECT_EQ(c.stats().cold_misses, 3u);
    c.touch(3, 100);
    c.touch(4, 100);  // full: one eviction
    EXPECT_EQ(c.stats().evictions, 1u) << ctx_policy_name(p);
    EXPECT_EQ(c.cached(), 3u);
  }
}

TEST(CtxCache, PolicyNames) {
  CtxPolicy p = CtxPolicy::kLru;
  EXPECT_TRUE(parse_ctx_policy("clock", &p));
  EXPECT_EQ(p, CtxPolicy::kClock);
  EXPECT_TRUE(parse_ctx_policy("lru", &p));
  EXPECT_EQ(p, CtxPolicy::kLru);
  EXPECT_FALSE(parse_ctx_policy("fifo", &p));
}

}  // namespace
}  // namespace autonic::nic
