// Framed L5P: the transform is split-invariant, the header parser rejects every malformed
// input (truncate / bit-flip sweep), software and offload paths agree.
#include <gtest/gtest.h>

#include "framed_fixture.h"

using namespace autonic;
using namespace autonic::testing;

TEST(FramedCipher, AnySplitGivesTheSameWireBytes) {
  const FramedStream s = make_stream({100});
  for (uint32_t cut = kHeaderLen; cut <= s.wire.size(); ++cut) {
    MsgCipher c(s.key);
    c.begin(0, ByteSpan(s.tx_input.data(), kHeaderLen));
    Bytes out = s.tx_input;
    c.tx(kHeaderLen, ByteSpan(s.tx_input.data() + kHeaderLen, cut - kHeaderLen),
         MutByteSpan(out.data() + kHeaderLen, cut - kHeaderLen));
    c.tx(cut, ByteSpan(s.tx_input.data() + cut, s.wire.size() - cut), MutByteSpan(out.data() + cut, s.wire.size() - cut));
    ASSERT_EQ(out, s.wire) << "split at " << cut;
  }
}

TEST(FramedCipher, RxVerifiesAndDetectsEveryBitFlip) {
  const FramedStream s = make_stream({24});
  for (size_t bit = kHeaderLen * 8; bit < s.wire.size() * 8; ++bit) {
    Bytes w = s.wire;
    w[bit / 8] ^= uint8_t(1u << (bit % 8));
    MsgCipher c(s.key);
    c.begin(0, ByteSpan(w.data(), kHeaderLen));
    Bytes out(w.size());
    c.rx(kHeaderLen, ByteSpan(w.data() + kHeaderLen, w.size() - kHeaderLen), MutByteSpan(out.data() + kHeaderLen, w.size() - kHeaderLen));
    EXPECT_FALSE(c.verify()) << "bit " << bit << " flipped but the check passed";
  }
}

TEST(FramedWire, HeaderParserTruncateAndBitFlipSweep) {
  Bytes h(kHeaderLen);
  write_header(h.data(), 1000);
  ASSERT_TRUE(parse_header(h));
  for (size_t n = 0; n < kHeaderLen; ++n) EXPECT_FALSE(parse_header(ByteSpan(h.data(), n))) << "truncated to " << n;
  for (size_t bit = 0; bit < 8 * 8; ++bit) {  // magic, type, version, reserved
    Bytes b = h;
    b[bit / 8] ^= uint8_t(1u << (bit % 8));
    EXPECT_FALSE(parse_header(b)) << "bit " << bit;
  }
  Bytes big = h;
  store_be32(big.data() + 8, kMaxPayload + 1);
  HeaderError e{};
  EXPECT_FALSE(parse_header(big, &e));
  EXPECT_EQ(e, HeaderError::kTooLong);
}

TEST(FramedRx, GarbageStreamFailsCleanlyWithoutDelivering) {
  FramedStats st;
  Bytes got;
  FramedRx rx(Key{1, 2}, st, [&](ByteSpan d) { got.insert(got.end(), d.begin(), d.end()); },
              [](TcpSeq, bool, uint64_t) {});
  rx.start(TcpSeq(0));
  Bytes junk(100, 0x42);
  auto e = rx.input(junk, false);
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, "framing:bad_magic");
  EXPECT_TRUE(got.empty());
}

TEST(FramedRx, ResyncRequestAnsweredWhenStreamReachesIt) {
  const FramedStream s = make_stream({10, 10, 10});  // messages of 26 B
  FramedStats st;
  std::vector<std::tuple<uint32_t, bool, uint64_t>> answers;
  FramedRx rx(s.key, st, [](ByteSpan) {}, [&](TcpSeq t, bool ok, uint64_t i) { answers.emplace_back(t.raw(), ok, i); });
  rx.start(TcpSeq(1000));
  rx.resync_rx_req(TcpSeq(1000 + 52));  // message 2
  rx.resync_rx_req(TcpSeq(1000 + 53));  // replaces it: not a message start
  ASSERT_FALSE(rx.input(ByteSpan(s.wire.data(), 70), false));  // msg 2 header complete at 64
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0], std::make_tuple(1053u, false, uint64_t(0)));
  rx.resync_rx_req(TcpSeq(1000 + 26));  // already passed, but a remembered start
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1], std::make_tuple(1026u, true, uint64_t(1)));
}
