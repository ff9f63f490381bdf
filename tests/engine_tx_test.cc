// TX side of the engine with the driver's out-of-sequence logic (§4.2): after an in-order
// transmission, every retransmission pattern (any subset, any order, merged or split segments)
// must put exactly the software path's wire bytes on the wire.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "framed_fixture.h"
#include "l5p/framed/framed_tx.h"

using namespace autonic;
using namespace autonic::testing;

namespace {

// The driver's TX decision, as in driver.cc: shadow `expected`, recover on mismatch.
struct TxModel {
  TxModel(const FramedStream& s, TcpSeq base)
      : s_(s), base_(base), tx_(s.key, true, 20, st_),
        flow_(plugin_, plugin_.make_flow(proto::framed::FramedL5State(s.key), l5o::Direction::kTx), base),
        expected_(base) {
    tx_.start(base);
    EXPECT_EQ(tx_.queue(s.app), s.app.size());
  }
  // Sends bytes [off, off+len) of the stream; returns "" if the wire bytes are right.
  std::string send(uint32_t off, uint32_t len) {
    const TcpSeq seq = base_ + off;
    if (seq != expected_) {
      const l5o::TxMsgState ms = tx_.msgstate(seq);
      if (ms.kind != l5o::TxMsgState::Kind::kFound) return "no message state";
      flow_.recover(ms.msg_start, ms.msg_index, ms.payload_pos, ms.prefix, ost_);
    }
    Bytes pkt(s_.tx_input.begin() + off, s_.tx_input.begin() + off + len);
    if (!flow_.process(seq, pkt, ost_)) return "dropped";
    expected_ = seq + len;
    if (!std::equal(pkt.begin(), pkt.end(), s_.wire.begin() + off)) {
      std::ostringstream o;
      o << "segment [" << off << "," << off + len << ") wrong on the wire";
      return o.str();
    }
    return "";
  }
  const FramedStream& s_;
  TcpSeq base_;
  l5p::framed::FramedStats st_;
  l5p::framed::FramedTx tx_;
  nic::FramedPlugin plugin_;
  nic::OffloadStats ost_;
  nic::TxOffloadFlow flow_;
  TcpSeq expected_;
};

}  // namespace

TEST(EngineTx, EveryRetransmissionPatternGivesSoftwareWireBytes) {
  const FramedStream s = make_stream({20, 20, 20, 10});  // FramedTx cuts 70 B into 20,20,20,10
  const std::vector<uint32_t> cut_sets[] = {{7, 30, 41, 70}, {12, 36, 52, 80}, {1, 2, 50, 95}};
  uint64_t runs = 0;
  for (const auto& cuts_in : cut_sets) {
    std::vector<std::pair<uint32_t, uint32_t>> seg;
    uint32_t prev = 0;
    std::vector<uint32_t> cuts = cuts_in;
    cuts.push_back(uint32_t(s.wire.size()));
    for (uint32_t c : cuts) { seg.emplace_back(prev, c - prev); prev = c; }
    const int n = int(seg.size());
    // Retransmission sets: every permutation of every subset, each segment either as sent or
    // merged with its successor (lwIP may re-segment) .
    for (uint32_t mask = 1; mask < (1u << n); ++mask) {
      std::vector<int> v;
      for (int i = 0; i < n; ++i) if (mask & (1u << i)) v.push_back(i);
      do {
        for (int merge = 0; merge < 2; ++merge) {
          TxModel m(s, TcpSeq(0xFFFFFFD0u));
          for (auto [o, l] : seg) ASSERT_EQ(m.send(o, l), "") << "first transmission";
          for (int i : v) {
            uint32_t o = seg[size_t(i)].first, l = seg[size_t(i)].second;
            if (merge && i + 1 < n) l += seg[size_t(i) + 1].second;
            ASSERT_EQ(m.send(o, l), "") << "retransmitting segment " << i << " merge=" << merge;
          }
          ++runs;
        }
      } while (std::next_permutation(v.begin(), v.end()));
    }
  }
  EXPECT_GT(runs, 500u);
}

TEST(EngineTx, DumpBytesEqualRecoveredPrefixes) {
  const FramedStream s = make_stream({20, 20, 20, 10});
  TxModel m(s, TcpSeq(100));
  ASSERT_EQ(m.send(0, 40), "");
  ASSERT_EQ(m.send(40, 46), "");
  ASSERT_EQ(m.send(10, 20), "");  // message 0 (36 B) offset 10: prefix 10 B
  EXPECT_EQ(m.ost_.tx_dump_packets, 1u);
  EXPECT_EQ(m.ost_.tx_dump_bytes, 10u);
  ASSERT_EQ(m.send(50, 10), "");  // message 1 starts at 36: prefix 14 B
  EXPECT_EQ(m.ost_.tx_dump_bytes, 24u);
}

TEST(EngineTx, MismatchWithoutRecoveryIsDroppedNeverSentWrong) {
  const FramedStream s = make_stream({20, 20});
  nic::FramedPlugin plugin;
  nic::OffloadStats ost;
  nic::TxOffloadFlow flow(plugin, plugin.make_flow(proto::framed::FramedL5State(s.key), l5o::Direction::kTx), TcpSeq(0));
  Bytes pkt(s.tx_input.begin() + 10, s.tx_input.begin() + 20);
  EXPECT_FALSE(flow.process(TcpSeq(10), pkt, ost));
  EXPECT_EQ(ost.tx_drop_no_sync_data, 1u);
}

TEST(EngineTx, GarbageFromTheL5pIsNotSent) {
  // Bytes where a header must start are not a header: never put them on the wire.
  nic::FramedPlugin plugin;
  nic::OffloadStats ost;
  nic::TxOffloadFlow flow(plugin, plugin.make_flow(proto::framed::FramedL5State({1, 2}), l5o::Direction::kTx), TcpSeq(0));
  Bytes junk(40, 0xAB);
  EXPECT_FALSE(flow.process(TcpSeq(0), junk, ost));
  EXPECT_EQ(ost.tx_err, 1u);
}
