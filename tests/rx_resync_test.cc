// RX resync state machine (§4.3, Fig. 7), one test per (state, event), from fixtures that put a
// flow into each state (STYLE.md habit 6).
#include <gtest/gtest.h>

#include "framed_fixture.h"

using namespace autonic;
using namespace autonic::testing;
using nic::RxSyncState;

namespace {

struct Flow {
  explicit Flow(const FramedStream& s)
      : s_(s), f(plugin, plugin.make_flow(proto::framed::FramedL5State(s.key), l5o::Direction::kRx), TcpSeq(0)) {}
  nic::RxVerdict rx(uint32_t off, uint32_t len) {
    Bytes p(s_.wire.begin() + off, s_.wire.begin() + off + len);
    auto v = f.process(TcpSeq(off), p, st);
    last_pkt = p;
    return v;
  }
  const FramedStream& s_;
  nic::FramedPlugin plugin;
  nic::OffloadStats st;
  nic::RxOffloadFlow f;
  Bytes last_pkt;
};

// Bytes [a, b) of `x` followed by [b, c) of `y`.
Bytes concat(const Bytes& x, uint32_t a, uint32_t b, const Bytes& y, uint32_t c) {
  Bytes r(x.begin() + a, x.begin() + b);
  r.insert(r.end(), y.begin() + b, y.begin() + c);
  return r;
}

// 10 messages of 84 B (payload 68).
FramedStream ten() { return make_stream(std::vector<uint32_t>(10, 68)); }
constexpr uint32_t kMsg = 84;

// Packet 0 lost, then a packet beyond the first header: header lost => searching, and the
// packet [100,160) holds no header start... message 1 starts at 84, so search from 90.
void to_searching(Flow& fl) {
  fl.rx(90, 60);  // no header in [90,150): message 2 starts at 168
  ASSERT_EQ(fl.f.state(), RxSyncState::kSearching);
}

}  // namespace

TEST(RxOffloading, InSequencePacketsAreMarked) {
  const FramedStream s = ten();
  Flow fl(s);
  EXPECT_TRUE(fl.rx(0, 50).marked);
  EXPECT_TRUE(fl.rx(50, 100).marked);
  EXPECT_EQ(fl.last_pkt, Bytes(s.plain.begin() + 50, s.plain.begin() + 150));
}

TEST(RxOffloading, RetransmissionOfProcessedBytesChangesNothing) {
  const FramedStream s = ten();
  Flow fl(s);
  fl.rx(0, 100);
  EXPECT_FALSE(fl.rx(20, 50).marked);
  EXPECT_EQ(fl.f.state(), RxSyncState::kOffloading);
  EXPECT_TRUE(fl.rx(100, 20).marked);
}

TEST(RxOffloading, HoleInsideMessageThenNextHeaderJumps) {
  // Fig. 8b: data reordering within a message; the packet holding the next header re-syncs
  // the context in hardware, and the packet after it is offloaded.
  const FramedStream s = ten();
  Flow fl(s);
  fl.rx(0, 30);
  // [30,60) missing; [60,100) holds the header of msg 1 at 84: offloaded from there (issue
  // #15), the tail of msg 0 before it left as it arrived.
  const nic::RxVerdict v = fl.rx(60, 40);
  EXPECT_TRUE(v.marked);
  EXPECT_EQ(v.mark_from, 24u);
  EXPECT_EQ(fl.last_pkt, concat(s.wire, 60, 84, s.plain, 100));
  EXPECT_EQ(fl.st.rx_resync_jump, 1u);
  EXPECT_EQ(fl.st.rx_split_packets, 1u);
  EXPECT_TRUE(fl.rx(100, 40).marked);
}

TEST(RxOffloading, JumpOntoAHeaderThatFailsItsCheckMarksNothing) {
  // The message offloaded from inside a packet fails the NIC's check: nothing of the packet is
  // marked and every byte is the wire's.
  FramedStream s = ten();
  s.wire[84 + 20] ^= 1;  // msg 1's payload: its check fails
  Flow fl(s);
  fl.rx(0, 30);
  EXPECT_FALSE(fl.rx(60, kMsg + 40).marked);  // [60,184): msg 1 ends at 168 inside
  EXPECT_EQ(fl.last_pkt, Bytes(s.wire.begin() + 60, s.wire.begin() + 184));
  EXPECT_EQ(fl.st.rx_err, 1u);
  EXPECT_EQ(fl.st.rx_split_packets, 0u);
}

TEST(RxOffloading, LostHeaderStartsSearching) {
  const FramedStream s = ten();
  Flow fl(s);
  to_searching(fl);
}

TEST(RxSearching, PatternSplitAcrossInOrderPacketsIsFound) {
  const FramedStream s = ten();
  Flow fl(s);
  to_searching(fl);
  // Header of message 2 at 168 split 168..173 | 173..180.
  EXPECT_FALSE(fl.rx(150, 23).resync_req);
  auto v = fl.rx(173, 40);
  ASSERT_TRUE(v.resync_req);
  EXPECT_EQ(v.resync_req->raw(), 2 * kMsg);
  EXPECT_EQ(fl.f.state(), RxSyncState::kTracking);
}

TEST(RxSearching, SplitPatternNotJoinedAcrossAGap) {
  const FramedStream s = ten();
  Flow fl(s);
  to_searching(fl);
  fl.rx(150, 23);
  // Not contiguous with 173: the tail must not be glued to this packet.
  EXPECT_FALSE(fl.rx(174, 30).resync_req);
  EXPECT_EQ(fl.f.state(), RxSyncState::kSearching);
}

TEST(RxTracking, ConfirmResumesAtNextMessage) {
  const FramedStream s = ten();
  Flow fl(s);
  to_searching(fl);
  auto v = fl.rx(160, 30);  // header of msg 2 at 168
  ASSERT_TRUE(v.resync_req);
  fl.f.resync_resp(*v.resync_req, true, 2, TcpSeq(), fl.st);
  EXPECT_EQ(fl.st.rx_resync_res_ok, 1u);
  EXPECT_EQ(fl.f.state(), RxSyncState::kOffloading);
  // [190,260) holds msg 3's header at 252 (where the NIC resumes): marked from it.
  const nic::RxVerdict r = fl.rx(190, 70);
  EXPECT_TRUE(r.marked);
  EXPECT_EQ(r.mark_from, 62u);
  EXPECT_EQ(fl.last_pkt, concat(s.wire, 190, 252, s.plain, 260));
  EXPECT_TRUE(fl.rx(260, 60).marked);
  EXPECT_EQ(fl.last_pkt, Bytes(s.plain.begin() + 260, s.plain.begin() + 320));
}

TEST(RxTracking, DenialGoesBackToSearching) {
  const FramedStream s = ten();
  Flow fl(s);
  to_searching(fl);
  auto v = fl.rx(160, 30);
  fl.f.resync_resp(*v.resync_req, false, 0, TcpSeq(), fl.st);
  EXPECT_EQ(fl.st.rx_resync_res_fail, 1u);
  EXPECT_EQ(fl.f.state(), RxSyncState::kSearching);
}

TEST(RxTracking, WrongIndexFromL5pNeverMarksWrongBytes) {
  // A confirmation with the wrong message index makes the NIC's check fail: packets stay
  // unmarked (original bytes) rather than being "decrypted" wrongly.
  const FramedStream s = ten();
  Flow fl(s);
  to_searching(fl);
  auto v = fl.rx(160, 30);
  fl.f.resync_resp(*v.resync_req, true, 7, TcpSeq(), fl.st);
  fl.rx(190, 62);
  EXPECT_FALSE(fl.rx(252, kMsg).marked);
  EXPECT_EQ(fl.last_pkt, Bytes(s.wire.begin() + 252, s.wire.begin() + 252 + kMsg));
  EXPECT_EQ(fl.st.rx_err, 1u);
}

TEST(RxTracking, BadPatternAtTrackedHeaderGoesBackToSearching) {
  FramedStream s = ten();
  s.wire[3 * kMsg] ^= 0xFF;  // message 3's magic destroyed
  Flow fl(s);
  to_searching(fl);
  ASSERT_TRUE(fl.rx(160, 30).resync_req);
  fl.rx(190, 80);  // covers 252
  EXPECT_EQ(fl.st.rx_resync_bad_pattern, 1u);
  EXPECT_NE(fl.f.state(), RxSyncState::kOffloading);
}

TEST(RxTracking, StaleAnswerIsIgnored) {
  const FramedStream s = ten();
  Flow fl(s);
  to_searching(fl);
  ASSERT_TRUE(fl.rx(160, 30).resync_req);
  fl.f.resync_resp(TcpSeq(84), true, 1, TcpSeq(), fl.st);
  EXPECT_EQ(fl.st.rx_resync_res_stale, 1u);
  EXPECT_EQ(fl.f.state(), RxSyncState::kTracking);
}

TEST(RxTracking, UnansweredRequestIsCancelledAfterTheBound) {
  const FramedStream s = make_stream(std::vector<uint32_t>(nic::RxOffloadFlow::kMaxTrackedMsgs + 10, 4));
  Flow fl(s);
  fl.rx(10, 5);  // header lost
  ASSERT_EQ(fl.f.state(), RxSyncState::kSearching);
  ASSERT_TRUE(fl.rx(20, 40).resync_req);  // message 1 at 20 (messages are 20 B)
  // Never answered: keep tracking in-order packets until the bound cancels the request.
  for (uint32_t off = 60; off + 20 <= s.wire.size() && fl.f.state() == RxSyncState::kTracking; off += 20) fl.rx(off, 20);
  EXPECT_EQ(fl.st.rx_resync_req_cancel, 1u);
  EXPECT_NE(fl.f.state(), RxSyncState::kTracking);
}
