// Exhaustive small-scope check of the generic offload engine (STYLE.md habit 6): every drop /
// reorder / duplicate pattern of up to 6 packets spanning 2-3 unaligned messages, with sequence
// numbers that wrap. Asserts that a byte is marked only if the NIC processed it in sequence --
// a mark may begin inside a packet, at a message header (issue #15), and TCP hands each range
// up with its own mark --, that the application always gets the right bytes, and that offload
// resumes once packets flow in order again.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "framed_fixture.h"

using namespace autonic;
using namespace autonic::testing;

namespace {

struct Layout {
  const char* name;
  std::vector<uint32_t> payloads;   // the 2-3 messages the pattern is applied to
  std::vector<uint32_t> cuts;       // packet boundaries (offsets) inside them
};

// Messages appended after the pattern, sent in order, two packets each.
const std::vector<uint32_t> kTail = {30, 30, 30, 30};

std::vector<Layout> layouts() {
  // Header 12 B + trailer 4 B: msg lengths are payload + 16.
  return {
      {"2msg-mid", {20, 40}, {10, 25, 36, 50, 70}},               // cuts inside header & payload
      {"2msg-boundaries", {20, 40}, {12, 36, 48, 60, 72}},        // cuts on header/msg boundaries
      {"3msg-split-headers", {8, 8, 30}, {5, 20, 30, 47, 60}},    // headers split across packets
      {"3msg-small", {4, 10, 6}, {6, 20, 26, 41, 50}},            // several messages per packet
  };
}

std::string describe(const Layout& l, const std::vector<int>& pattern) {
  std::ostringstream o;
  o << "layout=" << l.name << " pattern=[";
  for (size_t i = 0; i < pattern.size(); ++i) o << (i ? "," : "") << pattern[i];
  o << "]";
  return o.str();
}

// Packets marked from a header inside them, over every pattern run (the patterns must reach
// the split, issue #15).
uint64_t g_split_packets = 0;

// Runs one pattern; returns "" if every invariant held.
std::string run_pattern(const Layout& l, const std::vector<int>& pattern) {
  std::vector<uint32_t> payloads = l.payloads;
  payloads.insert(payloads.end(), kTail.begin(), kTail.end());
  const FramedStream s = make_stream(payloads);
  const uint32_t head_len = s.msg_starts[l.payloads.size()];
  std::vector<std::pair<uint32_t, uint32_t>> pk;  // pattern packets [off, len)
  uint32_t prev = 0;
  for (uint32_t c : l.cuts) { pk.emplace_back(prev, c - prev); prev = c; }
  pk.emplace_back(prev, head_len - prev);

  RxModel m(s, TcpSeq(0xFFFFFFC0u));  // wraps inside the stream
  std::vector<bool> seen(pk.size(), false);
  for (int i : pattern) {
    if (auto e = m.arrive(pk[size_t(i)].first, pk[size_t(i)].second); !e.empty()) return e;
    seen[size_t(i)] = true;
  }
  // TCP retransmits what was lost, in order.
  for (size_t i = 0; i < pk.size(); ++i)
    if (!seen[i])
      if (auto e = m.arrive(pk[i].first, pk[i].second); !e.empty()) return "retransmit: " + e;
  // Then the tail flows in order: two packets per message.
  std::vector<size_t> tail_first_pkt;
  for (size_t t = 0; t < kTail.size(); ++t) {
    const uint32_t a = s.msg_starts[l.payloads.size() + t];
    const uint32_t b = t + 1 < kTail.size() ? s.msg_starts[l.payloads.size() + t + 1] : uint32_t(s.wire.size());
    const uint32_t mid = a + (b - a) / 2;
    tail_first_pkt.push_back(m.marks().size());
    if (auto e = m.arrive(a, mid - a); !e.empty()) return "tail: " + e;
    if (auto e = m.arrive(mid, b - mid); !e.empty()) return "tail: " + e;
  }
  if (m.app() != s.app) return "application bytes differ";
  g_split_packets += m.split_packets();
  // Offload resumed: the last tail message was fully offloaded (both packets marked).
  const size_t last = tail_first_pkt.back();
  if (!m.marks()[last] || !m.marks()[last + 1])
    return std::string("offload did not resume (state ") + nic::rx_sync_state_name(m.state()) + ")";
  if (m.l5p_stats().rx_msgs != payloads.size()) return "message count wrong";
  return "";
}

// Calls fn for every sequence that is a permutation of a subset of {0..n-1}.
template <typename Fn>
void for_each_subset_permutation(int n, Fn fn) {
  for (uint32_t mask = 0; mask < (1u << n); ++mask) {
    std::vector<int> v;
    for (int i = 0; i < n; ++i) if (mask & (1u << i)) v.push_back(i);
    do fn(v); while (std::next_permutation(v.begin(), v.end()));
  }
}

}  // namespace

TEST(EngineExhaustive, AllDropAndReorderPatternsOfSixPackets) {
  uint64_t runs = 0;
  g_split_packets = 0;
  for (const Layout& l : layouts()) {
    const int n = int(l.cuts.size()) + 1;
    for_each_subset_permutation(n, [&](const std::vector<int>& p) {
      if (::testing::Test::HasFailure()) return;  // report the first failing pattern only
      ++runs;
      const std::string e = run_pattern(l, p);
      ASSERT_EQ(e, "") << describe(l, p) << " (replay: EngineExhaustive with this layout/pattern)";
    });
  }
  if (!::testing::Test::HasFailure()) {
    EXPECT_EQ(runs, 4u * 1957u);
    EXPECT_GT(g_split_packets, 100u) << "the patterns no longer reach a mark inside a packet";
  }
}

TEST(EngineExhaustive, AllDuplicatePatterns) {
  // Every ordering of all packets with one packet duplicated at any position (n = 5 and 6
  // packets: the first five cuts, and all of them).
  uint64_t runs = 0;
  for (const Layout& full : layouts()) {
    for (size_t ncuts : {size_t(4), full.cuts.size()}) {
      Layout l = full;
      l.cuts.resize(ncuts);
      const int n = int(ncuts) + 1;
      std::vector<int> perm(static_cast<size_t>(n));
      std::iota(perm.begin(), perm.end(), 0);
      do {
        for (int dup = 0; dup < n; ++dup)
          for (size_t pos = 0; pos <= perm.size(); pos += (n == 6 ? 2 : 1)) {
            if (::testing::Test::HasFailure()) return;
            std::vector<int> p = perm;
            p.insert(p.begin() + long(pos), dup);
            ++runs;
            const std::string e = run_pattern(l, p);
            ASSERT_EQ(e, "") << describe(l, p);
          }
      } while (std::next_permutation(perm.begin(), perm.end()));
    }
  }
  EXPECT_GT(runs, 10000u);
}

TEST(EngineExhaustive, InOrderIsFullyOffloaded) {
  for (const Layout& l : layouts()) {
    std::vector<int> p(l.cuts.size() + 1);
    std::iota(p.begin(), p.end(), 0);
    std::vector<uint32_t> payloads = l.payloads;
    const FramedStream s = make_stream(payloads);
    RxModel m(s, TcpSeq(0xFFFFFFC0u));
    uint32_t prev = 0;
    std::vector<uint32_t> cuts = l.cuts;
    cuts.push_back(uint32_t(s.wire.size()));
    for (uint32_t c : cuts) { ASSERT_EQ(m.arrive(prev, c - prev), ""); prev = c; }
    EXPECT_EQ(m.app(), s.app);
    EXPECT_EQ(m.l5p_stats().rx_msgs_full, payloads.size()) << l.name;
    EXPECT_EQ(m.nic_stats().rx_resync_req_pkt, 0u);
  }
}

// Issue #15: one lost packet costs the messages it carries bytes of, and no more. Unaligned
// messages; every packet that holds no header byte is lost once (all others arrive in order,
// then its retransmission): the NIC tracks the damaged message's length across the gap and
// offloads the next message from its header inside the following packet, so every message the
// lost packet does not touch is fully offloaded -- the packet holding the next header is split.
// (A lost packet holding header bytes sends the NIC searching: the resync path, checked above.)
TEST(EngineExhaustive, OneLostPacketCostsOnlyItsMessages) {
  const std::vector<uint32_t> payloads = {20, 40, 30, 9, 50, 30, 30, 30};
  const FramedStream s = make_stream(payloads);
  const uint32_t total = uint32_t(s.wire.size());
  std::vector<uint32_t> ends(s.msg_starts.begin() + 1, s.msg_starts.end());
  ends.push_back(total);
  uint64_t runs = 0, splits = 0;
  for (uint32_t size : {7u, 13u, 23u, 31u, 45u}) {
    std::vector<std::pair<uint32_t, uint32_t>> pk;
    for (uint32_t o = 0; o < total; o += size) pk.emplace_back(o, std::min(size, total - o));
    for (size_t lost = 0; lost < pk.size(); ++lost) {
      const uint32_t lo = pk[lost].first, hi = lo + pk[lost].second;
      const bool holds_header = std::any_of(s.msg_starts.begin(), s.msg_starts.end(), [&](uint32_t m) {
        return m < hi && m + uint32_t(kHeaderLen) > lo;
      });
      // The tail of the stream has no next message to find: the last packets are not lost.
      if (holds_header || hi > s.msg_starts.back()) continue;
      const std::string what = "packets of " + std::to_string(size) + " B, packet " + std::to_string(lost) + " lost";
      RxModel m(s, TcpSeq(0xFFFFFFC0u));
      for (size_t i = 0; i < pk.size(); ++i) {
        if (i == lost) continue;
        ASSERT_EQ(m.arrive(pk[i].first, pk[i].second), "") << what;
      }
      ASSERT_EQ(m.arrive(lo, hi - lo), "") << what << " (retransmission)";
      ASSERT_EQ(m.app(), s.app) << what;
      uint64_t touched = 0;
      for (size_t k = 0; k < payloads.size(); ++k) touched += s.msg_starts[k] < hi && ends[k] > lo;
      EXPECT_EQ(m.l5p_stats().rx_msgs_full, payloads.size() - touched) << what;
      EXPECT_EQ(m.l5p_stats().rx_msgs, payloads.size()) << what;
      ++runs;
      splits += m.split_packets();
    }
  }
  EXPECT_GT(runs, 40u);
  EXPECT_GT(splits, runs / 2);  // most losses end mid-message: the next header is inside a packet
}
