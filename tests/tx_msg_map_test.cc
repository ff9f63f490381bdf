// TxMsgMap's runs (push_carved): messages carved back to back from one buffer are one entry,
// and every answer the map gives -- get_tx_msgstate for any tcpsn, what is released on an
// acknowledgement, what pump hands TCP -- must be the one a map of separate messages gives.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "l5p/common/tx_msg_map.h"

namespace autonic::l5p {
namespace {

// Records TCP's writes; room() is what the test allows, reported as at most `cap` (as lwIP's
// tcp_sndbuf reports at most 64 KiB of a larger buffer).
class MemWriter final : public TxMsgMap::Writer {
 public:
  size_t room_ = 1 << 20, cap = SIZE_MAX, flushes = 0;
  Bytes out;
  std::vector<size_t> writes;
  size_t room() override { return std::min(room_, cap); }
  size_t write(const uint8_t* d, size_t n, bool) override {
    out.insert(out.end(), d, d + n);
    writes.push_back(n);
    room_ -= n;
    return n;
  }
  void flush() override { ++flushes; }
};

struct Pair {
  TxMsgMap runs, single;
  Bytes buf = Bytes(64 * 1024);
  size_t used = 0;
  explicit Pair(TcpSeq first) {
    runs.start(first);
    single.start(first);
    for (size_t i = 0; i < buf.size(); ++i) buf[i] = uint8_t(i * 7 + 3);
  }
  // One message of `len` bytes (payload `pl`): carved into `runs`, a separate copy in `single`.
  void push(uint32_t len, uint32_t pl) {
    const uint8_t* d = buf.data() + used;
    used += len;
    const uint64_t a = runs.push_carved(d, len, pl);
    const uint64_t b = single.push({owned_piece(Bytes(d, d + len))}, 0, pl);
    ASSERT_EQ(a, b);
  }
  // `count` messages in one push_carved call; as many separate ones in `single`.
  void push_n(uint32_t len, uint32_t pl, uint32_t count) {
    const uint8_t* d = buf.data() + used;
    used += size_t(len) * count;
    const uint64_t a = runs.push_carved(d, len, pl, count);
    for (uint32_t i = 0; i < count; ++i) {
      const uint64_t b = single.push({owned_piece(Bytes(d + i * len, d + (i + 1) * len))}, 0, pl);
      if (i == 0) {
        ASSERT_EQ(a, b);
      }
    }
  }
  void expect_same(TcpSeq from, uint32_t span) {
    for (uint32_t i = 0; i < span; ++i) {
      const l5o::TxMsgState x = runs.msgstate(from + i), y = single.msgstate(from + i);
      ASSERT_EQ(int(x.kind), int(y.kind)) << "tcpsn offset " << i;
      if (x.kind != l5o::TxMsgState::Kind::kFound) continue;
      ASSERT_EQ(x.msg_start, y.msg_start) << i;
      ASSERT_EQ(x.msg_index, y.msg_index) << i;
      ASSERT_EQ(x.payload_pos, y.payload_pos) << i;
      ASSERT_EQ(Bytes(x.prefix.begin(), x.prefix.end()), Bytes(y.prefix.begin(), y.prefix.end())) << i;
    }
    EXPECT_EQ(runs.oldest_index(), single.oldest_index());
    EXPECT_EQ(runs.oldest_payload(), single.oldest_payload());
    EXPECT_EQ(runs.held(), single.held());
    EXPECT_EQ(runs.unwritten(), single.unwritten());
  }
};

TEST(TxMsgMapRuns, MsgstateAndAcksMatchSeparateMessages) {
  const TcpSeq first(0xFFFFF000u);  // the run crosses the sequence-number wrap
  Pair p(first);
  for (int i = 0; i < 6; ++i) p.push(1000, 979);
  p.push(5, 0);  // a different shape (a KeyUpdate) starts a new entry
  for (int i = 0; i < 4; ++i) p.push(1000, 979);
  const uint32_t total = 6 * 1000 + 5 + 4 * 1000;
  p.expect_same(first, total + 10);
  MemWriter wa, wb;
  wa.room_ = wb.room_ = 2500;  // TCP takes a run in part
  p.runs.pump(wa);
  p.single.pump(wb);
  EXPECT_EQ(wa.out, wb.out);
  wa.room_ = wb.room_ = 1 << 20;
  p.runs.pump(wa);
  p.single.pump(wb);
  ASSERT_EQ(wa.out, wb.out);
  ASSERT_EQ(wa.out.size(), total);
  // Acknowledgements inside a run, on a boundary, and past the short message.
  for (uint32_t acked : {999u, 1000u, 2500u, 6000u, 6004u, 6005u, 8200u, total}) {
    p.runs.on_acked(first + acked);
    p.single.on_acked(first + acked);
    p.expect_same(first, total + 10);
  }
  EXPECT_TRUE(p.runs.idle());
}

TEST(TxMsgMapRuns, WholeMessagesStayWholeInsideARun) {
  Pair p(TcpSeq(100));
  for (int i = 0; i < 8; ++i) p.push(1400, 1379);
  MemWriter w;
  w.room_ = 3000;  // two messages and a bit: only the two go
  p.runs.pump(w, /*whole_msgs=*/true);
  ASSERT_EQ(w.out.size(), 2800u);
  w.room_ = 100;
  EXPECT_EQ(p.runs.pump(w, true), 0u);
  w.room_ = 1 << 20;
  p.runs.pump(w, true);
  EXPECT_EQ(w.out, Bytes(p.buf.begin(), p.buf.begin() + 8 * 1400));
}

TEST(TxMsgMapRuns, NoRunAcrossWhatTcpAlreadyTook) {
  Pair p(TcpSeq(1));
  for (int i = 0; i < 3; ++i) p.push(500, 479);
  MemWriter wa, wb;
  p.runs.pump(wa);
  p.single.pump(wb);
  for (int i = 0; i < 3; ++i) p.push(500, 479);  // contiguous, but the entry before is written
  p.expect_same(TcpSeq(1), 3000);
  p.runs.pump(wa);
  p.single.pump(wb);
  EXPECT_EQ(wa.out, wb.out);
  p.runs.on_acked(TcpSeq(1) + 1700);
  p.single.on_acked(TcpSeq(1) + 1700);
  p.expect_same(TcpSeq(1), 3000);
}

// A run pushed in one call (TlsTx::carve_records) is the run pushed message by message: it joins
// the run before it when it follows in memory, starts its own otherwise.
TEST(TxMsgMapRuns, RunPushedAtOnceMatchesSeparateMessages) {
  const TcpSeq first(0xFFFFF800u);
  Pair p(first);
  p.push(1000, 979);
  p.push_n(1000, 979, 5);  // joins the first
  p.push_n(300, 300, 4);   // a new shape: a new run
  p.push(5, 0);
  p.push_n(300, 300, 3);
  const uint32_t total = 6 * 1000 + 7 * 300 + 5;
  p.expect_same(first, total + 10);
  MemWriter wa, wb;
  p.runs.pump(wa);
  p.single.pump(wb);
  EXPECT_EQ(wa.out, wb.out);
  for (uint32_t acked : {1500u, 2500u, 4200u, 6000u, 6600u, total}) {
    p.runs.on_acked(first + acked);
    p.single.on_acked(first + acked);
    p.expect_same(first, total + 10);
  }
}

// TCP may take part of a write (TcpConn::write: a write longer than one tcp_write is several,
// and a later one can fail after the first queued its bytes): the map counts what was taken and
// the next pump goes on from there -- every byte reaches TCP once, in order.
TEST(TxMsgMapRuns, PartlyTakenWritesResumeWhereTcpStopped) {
  class PartWriter final : public TxMsgMap::Writer {
   public:
    Bytes out;
    size_t take = 0;
    size_t room() override { return 1 << 20; }
    size_t write(const uint8_t* d, size_t n, bool) override {
      const size_t k = std::min(n, take);
      out.insert(out.end(), d, d + k);
      return k;
    }
    void flush() override {}
  };
  Pair p(TcpSeq(7));
  for (int i = 0; i < 20; ++i) p.push(1000, 979);
  p.push_n(300, 300, 10);
  PartWriter w;
  MemWriter whole;
  p.single.pump(whole);
  for (size_t take : {0u, 1u, 999u, 4000u, 7u, 65536u, 65536u}) {
    w.take = take;
    p.runs.pump(w);
  }
  EXPECT_EQ(w.out, whole.out);
  EXPECT_EQ(p.runs.unwritten(), 0u);
}

}  // namespace
}  // namespace autonic::l5p

namespace autonic::l5p {
namespace {

// written_index(): the first message not yet handed to the writer whole -- inside a run too, and
// the same for a run as for its messages pushed one by one (the NVMe controller counts its
// answered commands by it).
TEST(TxMsgMapRuns, WrittenIndexCountsMessagesHandedOverWhole) {
  Pair p(TcpSeq(1000));
  p.push_n(100, 90, 5);
  for (TxMsgMap* m : {&p.runs, &p.single}) {
    EXPECT_EQ(m->written_index(), 0u);
    MemWriter w;
    w.room_ = 250;  // two messages and half of the third
    m->pump(w);
    EXPECT_EQ(m->written_index(), 2u);
    w.room_ = 50;  // the third completes
    m->pump(w);
    EXPECT_EQ(m->written_index(), 3u);
    w.room_ = 1000;
    m->pump(w);
    EXPECT_EQ(m->written_index(), 5u);
    EXPECT_EQ(m->written_index(), m->next_index());
  }
}

// lwIP reports at most 64 KiB of room (tcp_sndbuf) however large its buffer: a run longer than
// the room reported is cut there, and the pump goes on with the room TCP has then -- as the same
// messages pumped one by one do -- instead of stopping (and pushing) with TCP's buffer half
// empty. Both maps hand over every byte in one pump and flush once.
TEST(TxMsgMapRuns, ARunCutByTheRoomReportedGoesOn) {
  for (bool whole : {false, true}) {
    Pair p(TcpSeq(7));
    p.push_n(400, 380, 5);  // one run of 2000 bytes, twice the room reported
    MemWriter wa, wb;
    wa.cap = wb.cap = 1000;
    EXPECT_EQ(p.runs.pump(wa, whole), 2000u) << "whole_msgs " << whole;
    EXPECT_EQ(p.single.pump(wb, whole), 2000u) << "whole_msgs " << whole;
    EXPECT_EQ(wa.out, wb.out);
    EXPECT_EQ(wa.out, Bytes(p.buf.begin(), p.buf.begin() + 2000));
    EXPECT_EQ(wa.flushes, 1u);
    EXPECT_EQ(wb.flushes, 1u);
    // A buffer that really is full still stops the pump where it ends.
    Pair q(TcpSeq(7));
    q.push_n(400, 380, 5);
    MemWriter wc;
    wc.cap = 1000;
    wc.room_ = 1500;
    EXPECT_EQ(q.runs.pump(wc, whole), whole ? 1200u : 1500u) << "whole_msgs " << whole;
  }
}

}  // namespace
}  // namespace autonic::l5p
