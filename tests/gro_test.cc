// GRO (driver/gro.h) and TSO (nic/tso.h), unit level: GRO never merges segments whose offload
// marks differ -- every mark pattern over runs of up to 6 segments, with gaps, PSH and other
// flows -- and what it hands lwIP is byte-exact: the same payload in the same order, each merged
// segment a valid IPv4/TCP packet whose pbufs all carry one mark. TSO's cuts are valid packets
// that reassemble to the super-segment. The driver's per-packet chain marks exactly the bytes the
// NIC processed (issue #15), and a packet marked from inside goes up alone.
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "common/inet_csum.h"
#include "driver/gro.h"
#include "nic/tso.h"

using namespace autonic;

namespace {

constexpr uint8_t kAck = 0x10, kPsh = 0x08, kFin = 0x01;
constexpr uint8_t kMarks[] = {0, tcpip::kPbufFlagOffloaded, tcpip::kPbufFlagOffloaded | tcpip::kPbufFlagInnerOk};

// An Ethernet + IPv4 + TCP frame with `len` payload bytes numbered from `seq`.
Bytes frame(uint16_t sport, uint32_t seq, size_t len, uint8_t flags = kAck, uint32_t ack = 77) {
  Bytes f(kEthHeaderLen + 40 + len);
  store_be16(&f[12], kEtherTypeIpv4);
  uint8_t* ip = &f[kEthHeaderLen];
  ip[0] = 0x45;
  store_be16(ip + 2, uint16_t(40 + len));
  ip[6] = 0x40;  // DF
  ip[8] = 64;
  ip[9] = 6;
  store_be32(ip + 12, 0x0A000001);
  store_be32(ip + 16, 0x0A000002);
  ipv4_set_header_checksum(ip);
  uint8_t* tcp = ip + 20;
  store_be16(tcp, sport);
  store_be16(tcp + 2, 443);
  store_be32(tcp + 4, seq);
  store_be32(tcp + 8, ack);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  store_be16(tcp + 14, 1000);
  for (size_t i = 0; i < len; ++i) tcp[20 + i] = uint8_t((seq + i) * 7 + sport);
  return f;
}

pbuf* rx_pbuf(Bytes f, uint8_t marks) {
  pbuf* p = tcpip::make_rx_pbuf(std::move(f), kEthHeaderLen, false);
  p->flags |= marks;
  return p;
}

// What lwIP receives: one entry per segment handed up.
struct Up {
  uint16_t sport;
  uint32_t seq;
  Bytes payload;
  uint8_t marks, flags;
};

struct Capture {
  std::vector<Up> ups;
  std::string error;
  void take(pbuf* p) {
    Bytes all(p->tot_len);
    pbuf_copy_partial(p, all.data(), p->tot_len, 0);
    const uint8_t* ip = all.data();
    if (load_be16(ip + 2) != all.size()) error += "IP total length != pbuf length; ";
    if (csum_fold(csum_partial(ip, 20, 0)) != 0xFFFF) error += "bad IPv4 header checksum; ";
    const uint8_t m = p->flags & driver::Gro::kMarkFlags;
    for (pbuf* q = p; q; q = q->next)
      if ((q->flags & driver::Gro::kMarkFlags) != m) error += "mixed marks in one segment; ";
    ups.push_back(Up{load_be16(ip + 20), load_be32(ip + 24), Bytes(all.begin() + 40, all.end()), m, ip[33]});
    pbuf_free(p);
  }
};

struct Pkt {
  uint32_t seq;
  size_t len;
  uint8_t marks, flags;
};

// Feeds one batch of packets of flow 1000 and returns what went up.
Capture run_batch(const std::vector<Pkt>& pkts) {
  Capture cap;
  driver::Gro gro([&](pbuf* p) { cap.take(p); });
  for (const Pkt& k : pkts) gro.receive(rx_pbuf(frame(1000, k.seq, k.len, k.flags), k.marks));
  gro.flush();
  return cap;
}

std::string describe(const std::vector<Pkt>& pkts) {
  std::ostringstream s;
  s << "packets (seq+len marks flags):";
  for (const Pkt& k : pkts) s << " (" << k.seq << "+" << k.len << " m" << int(k.marks) << " f" << int(k.flags) << ")";
  return s.str();
}

}  // namespace

// Every pattern of marks over runs of 1..6 in-sequence segments: the segments handed up are
// exactly the maximal runs of equal marks, each with those marks, byte-exact.
TEST(Gro, EveryMarkPatternMergesOnlyEqualMarks) {
  for (size_t n = 1; n <= 6; ++n) {
    size_t patterns = 1;
    for (size_t i = 0; i < n; ++i) patterns *= 3;
    for (size_t code = 0; code < patterns; ++code) {
      std::vector<Pkt> pkts;
      size_t c = code;
      uint32_t seq = 5000;
      for (size_t i = 0; i < n; ++i, c /= 3) {
        pkts.push_back(Pkt{seq, 1448, kMarks[c % 3], kAck});
        seq += 1448;
      }
      const Capture cap = run_batch(pkts);
      ASSERT_TRUE(cap.error.empty()) << cap.error << describe(pkts);
      size_t i = 0;
      for (const Up& u : cap.ups) {
        ASSERT_LT(i, pkts.size()) << describe(pkts);
        EXPECT_EQ(u.seq, pkts[i].seq) << describe(pkts);
        EXPECT_EQ(u.marks, pkts[i].marks) << describe(pkts);
        Bytes want;
        while (i < pkts.size() && want.size() < u.payload.size()) {
          EXPECT_EQ(pkts[i].marks, u.marks) << "a mark covers a byte it was not given: " << describe(pkts);
          const Bytes f = frame(1000, pkts[i].seq, pkts[i].len);
          want.insert(want.end(), f.begin() + kEthHeaderLen + 40, f.end());
          ++i;
        }
        EXPECT_EQ(u.payload, want) << describe(pkts);
        // Maximal: the next segment handed up starts with other marks.
        if (i < pkts.size()) {
          EXPECT_NE(pkts[i].marks, u.marks) << "equal marks not merged: " << describe(pkts);
        }
      }
      EXPECT_EQ(i, pkts.size()) << describe(pkts);
    }
  }
}

// Gaps, duplicates, PSH, FIN, pure ACKs, other flows and the size limit end a merge; nothing is
// lost, reordered within the flow, or merged across any of them.
TEST(Gro, FlushRules) {
  // gap: 3 packets, the second missing
  Capture a = run_batch({{0, 1000, kMarks[1], kAck}, {2000, 1000, kMarks[1], kAck}});
  ASSERT_EQ(a.ups.size(), 2u);
  EXPECT_EQ(a.ups[1].seq, 2000u);
  // duplicate (retransmission) of the segment just merged
  Capture d = run_batch({{0, 1000, 0, kAck}, {1000, 1000, 0, kAck}, {1000, 1000, 0, kAck}});
  ASSERT_EQ(d.ups.size(), 2u);
  EXPECT_EQ(d.ups[0].payload.size(), 2000u);
  EXPECT_EQ(d.ups[1].seq, 1000u);
  // PSH ends a segment (the packet with it joins, nothing after it does)
  Capture p = run_batch({{0, 1000, 0, kAck}, {1000, 1000, 0, kAck | kPsh}, {2000, 1000, 0, kAck}});
  ASSERT_EQ(p.ups.size(), 2u);
  EXPECT_EQ(p.ups[0].payload.size(), 2000u);
  EXPECT_TRUE(p.ups[0].flags & kPsh);
  // FIN and a pure ACK are never merged, and go up after what was held
  Capture f = run_batch({{0, 1000, 0, kAck}, {1000, 0, 0, kAck}, {1000, 1000, 0, kAck | kFin}});
  ASSERT_EQ(f.ups.size(), 3u);
  EXPECT_EQ(f.ups[0].payload.size(), 1000u);
  EXPECT_EQ(f.ups[2].flags & kFin, kFin);
  // the 64 KiB limit: 60 x 1448 bytes go up as two segments, each within an IPv4 length
  std::vector<Pkt> big;
  for (uint32_t i = 0; i < 60; ++i) big.push_back({i * 1448, 1448, kMarks[1], kAck});
  Capture b = run_batch(big);
  ASSERT_TRUE(b.error.empty()) << b.error;
  ASSERT_EQ(b.ups.size(), 2u);
  EXPECT_EQ(b.ups[0].payload.size() + b.ups[1].payload.size(), 60u * 1448);
}

TEST(Gro, FlowsInterleavedMergeApartDifferentAckFlushes) {
  Capture cap;
  driver::Gro gro([&](pbuf* p) { cap.take(p); });
  for (uint32_t i = 0; i < 4; ++i) {
    gro.receive(rx_pbuf(frame(1000, i * 100, 100), 0));
    gro.receive(rx_pbuf(frame(2000, i * 100, 100), kMarks[1]));
  }
  gro.receive(rx_pbuf(frame(1000, 400, 100, kAck, 78), 0));  // a new ACK number: not merged
  gro.flush();
  ASSERT_TRUE(cap.error.empty()) << cap.error;
  ASSERT_EQ(cap.ups.size(), 3u);
  size_t f1 = 0, f2 = 0;
  for (const Up& u : cap.ups) (u.sport == 1000 ? f1 : f2) += u.payload.size();
  EXPECT_EQ(f1, 500u);
  EXPECT_EQ(f2, 400u);
  EXPECT_EQ(gro.stats().rx_gro_skbs, 2u);
  EXPECT_EQ(gro.stats().rx_gro_packets, 8u);
}

// TSO: a super-segment cut at the MSS gives valid frames (IPv4 checksum, lengths, consecutive
// sequence numbers, PSH / FIN only on the last) whose payloads concatenate to the original.
TEST(Tso, CutsValidFramesThatReassemble) {
  for (size_t len : {1u, 1447u, 1448u, 1449u, 65160u, 30000u}) {
    const Bytes sup = frame(1000, 0xFFFFF000u, len, kAck | kPsh | kFin);
    const auto v = TcpFrameView::parse(sup);
    ASSERT_TRUE(v);
    std::vector<Bytes> out;
    nic::tso_segment(sup, *v, 1448, [&](Bytes f) { out.push_back(std::move(f)); });
    ASSERT_EQ(out.size(), (len + 1447) / 1448) << len;
    Bytes payload;
    uint32_t seq = 0xFFFFF000u;
    for (size_t i = 0; i < out.size(); ++i) {
      const auto w = TcpFrameView::parse(out[i]);
      ASSERT_TRUE(w) << len << " frame " << i;
      EXPECT_LE(w->payload_len, 1448u);
      EXPECT_EQ(w->seq.raw(), seq);
      EXPECT_EQ(csum_fold(csum_partial(&out[i][kEthHeaderLen], 20, 0)), 0xFFFF);
      const bool last = i + 1 == out.size();
      EXPECT_EQ(bool(w->tcp_flags & kPsh), last);
      EXPECT_EQ(bool(w->tcp_flags & kFin), last);
      payload.insert(payload.end(), out[i].begin() + long(w->payload_off), out[i].end());
      seq += uint32_t(w->payload_len);
    }
    EXPECT_EQ(payload, Bytes(sup.begin() + long(v->payload_off), sup.end())) << len;
  }
}

// The driver's pbuf chain for one received packet (tcpip::make_rx_pbuf_chain): cut where a mark
// begins inside the packet (issue #15) and around DDP placements, every pbuf carries the flags
// of exactly its own bytes -- never a mark on a byte the NIC did not process -- and the chain's
// bytes are the packet's.
TEST(RxChain, EveryPbufCarriesExactlyItsBytesMarks) {
  constexpr size_t kPay = 1448, kPayOff = kEthHeaderLen + 40;
  struct Case {
    size_t from, inner_from;  // payload offsets; SIZE_MAX: that mark absent
    std::vector<std::pair<size_t, size_t>> placed;  // payload [off, off + len)
  };
  const std::vector<Case> cases = {
      {0, SIZE_MAX, {}},        {1, SIZE_MAX, {}},        {700, SIZE_MAX, {}},    {1447, SIZE_MAX, {}},
      {0, 0, {}},               {300, 300, {}},           {300, 900, {}},         {0, 5, {}},
      {100, SIZE_MAX, {{200, 100}, {400, 1000}}},        {100, 500, {{600, 200}}}, {0, SIZE_MAX, {{0, 1448}}},
      {SIZE_MAX, SIZE_MAX, {}},
      // Placements the chain must leave out (the L5P then copies from the frame): before the
      // mark, out of order, on an unmarked packet, more than a chain holds.
      {100, SIZE_MAX, {{50, 20}, {400, 100}}},  {0, SIZE_MAX, {{400, 100}, {200, 50}}},
      {SIZE_MAX, SIZE_MAX, {{10, 10}}},
      {0, SIZE_MAX, {{0, 10}, {20, 10}, {40, 10}, {60, 10}, {80, 10}, {100, 10}, {120, 10}, {140, 10}, {160, 10}}},
  };
  for (const Case& k : cases) {
    const Bytes f = frame(1000, 9000, kPay);
    Bytes dst(f.begin() + kPayOff, f.end());  // where the NIC placed: the same bytes
    std::vector<PlacedRange> placed;
    for (auto [o, n] : k.placed) placed.push_back(PlacedRange{kPayOff + o, n, dst.data() + o});
    tcpip::RxFrameMarks m;
    m.offloaded = k.from != SIZE_MAX;
    m.from = m.offloaded && k.from ? kPayOff + k.from : 0;
    m.inner = k.inner_from != SIZE_MAX;
    m.inner_from = m.inner && k.inner_from ? kPayOff + k.inner_from : 0;
    pbuf* p = tcpip::make_rx_pbuf_chain(Bytes(f), kEthHeaderLen, m, placed);
    const std::string what = "mark from " + std::to_string(k.from) + ", inner from " + std::to_string(k.inner_from) +
                             ", " + std::to_string(placed.size()) + " placed";
    ASSERT_EQ(p->tot_len, f.size() - kEthHeaderLen) << what;
    size_t pos = kEthHeaderLen, placed_bytes = 0;
    for (pbuf* q = p; q; q = q->next) {
      const auto* b = static_cast<const uint8_t*>(q->payload);
      EXPECT_TRUE(std::equal(b, b + q->len, f.begin() + long(pos))) << what << " at " << pos;
      for (size_t i = 0; i < q->len; ++i)
        ASSERT_EQ(q->flags & driver::Gro::kMarkFlags, m.flags_at(pos + i)) << what << " byte " << pos + i;
      if (tcpip::is_placed(q)) {
        EXPECT_TRUE(b >= dst.data() && b + q->len <= dst.data() + dst.size()) << what;
        placed_bytes += q->len;
      }
      pos += q->len;
    }
    // What the chain may take: on a marked packet, at most 8 ranges, each after the previous one
    // and inside the marked bytes.
    size_t want_placed = 0, end = 0;
    if (k.from != SIZE_MAX && 2 * k.placed.size() + 3 <= 20)
      for (auto [o, n] : k.placed) {
        if (o < end || o < k.from || (k.inner_from != SIZE_MAX && o < k.inner_from)) continue;
        want_placed += n;
        end = o + n;
      }
    EXPECT_EQ(placed_bytes, want_placed) << what;
    pbuf_free(p);
  }
}

// A packet marked from inside (its pbufs differ) is never merged: it goes up alone, between
// the segments before and after it, its marks as they were.
TEST(Gro, PacketMarkedFromInsideGoesUpAlone) {
  std::vector<std::pair<size_t, uint8_t>> got;  // per segment handed up: payload, first marks
  std::vector<bool> mixed;
  driver::Gro gro([&](pbuf* p) {
    bool mix = false;
    for (pbuf* q = p->next; q; q = q->next) mix = mix || (q->flags & driver::Gro::kMarkFlags) != (p->flags & driver::Gro::kMarkFlags);
    got.emplace_back(p->tot_len - 40, p->flags & driver::Gro::kMarkFlags);
    mixed.push_back(mix);
    pbuf_free(p);
  });
  const uint8_t kOff = tcpip::kPbufFlagOffloaded;
  gro.receive(rx_pbuf(frame(1000, 5000, 1448), 0));
  gro.receive(rx_pbuf(frame(1000, 6448, 1448), 0));
  tcpip::RxFrameMarks m{true, kEthHeaderLen + 40 + 500, false, 0};
  gro.receive(tcpip::make_rx_pbuf_chain(frame(1000, 7896, 1448), kEthHeaderLen, m, {}));
  gro.receive(rx_pbuf(frame(1000, 9344, 1448), kOff));
  gro.receive(rx_pbuf(frame(1000, 10792, 1448), kOff));
  gro.flush();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], std::make_pair(size_t(2896), uint8_t(0)));
  EXPECT_EQ(got[1], std::make_pair(size_t(1448), uint8_t(0)));
  EXPECT_TRUE(mixed[1]);
  EXPECT_EQ(got[2], std::make_pair(size_t(2896), kOff));
  EXPECT_FALSE(mixed[0] || mixed[2]);
}
