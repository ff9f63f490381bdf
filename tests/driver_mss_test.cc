// The driver remembers a peer's MSS for TSO only while it may need it, and never one entry per
// SYN a peer sends: a host with TSO on, its port listening, fed SYNs straight from the wire.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "common/frame.h"
#include "common/inet_csum.h"
#include "tcpip/tcp_conn.h"
#include "testbed/host.h"

namespace autonic::testbed {
namespace {

constexpr uint32_t kIp = 0x0A000002, kPeerIp = 0x0A000001;  // 10.0.0.2, 10.0.0.1
constexpr std::array<uint8_t, 6> kMac = {2, 0, 0, 0, 0, 2}, kPeerMac = {2, 0, 0, 0, 0, 1};
constexpr uint16_t kPort = 4420;

struct Capture final : wire::Link {
  size_t frames = 0;
  std::vector<Bytes> kept;  // with `keep`: every frame sent
  bool keep = false;
  void transmit(Bytes f) override {
    ++frames;
    if (keep) kept.push_back(std::move(f));
  }
};

// An Ethernet frame holding a segment from the peer's `sport` to our listening port: with
// `mss` != 0 a SYN carrying that MSS option, else a bare segment with `flags`.
Bytes segment(uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t mss = 0) {
  const size_t tcp_len = mss ? 24 : 20;
  Bytes f(14 + 20 + tcp_len, 0);
  std::copy(kMac.begin(), kMac.end(), f.begin());
  std::copy(kPeerMac.begin(), kPeerMac.end(), f.begin() + 6);
  store_be16(&f[12], 0x0800);
  uint8_t* ip = &f[14];
  ip[0] = 0x45;
  store_be16(ip + 2, uint16_t(20 + tcp_len));
  store_be16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = 6;
  store_be32(ip + 12, kPeerIp);
  store_be32(ip + 16, kIp);
  ipv4_set_header_checksum(ip);
  uint8_t* tcp = ip + 20;
  store_be16(tcp, sport);
  store_be16(tcp + 2, kPort);
  store_be32(tcp + 4, seq);
  store_be32(tcp + 8, ack);
  tcp[12] = uint8_t(tcp_len / 4 << 4);
  tcp[13] = mss ? 0x02 : flags;
  store_be16(tcp + 14, 65535);
  if (mss) {
    tcp[20] = 2;
    tcp[21] = 4;
    store_be16(tcp + 22, mss);
  }
  store_be16(tcp + 16, tcp4_checksum(ip, 20 + tcp_len));
  return f;
}
Bytes syn(uint16_t sport, uint16_t mss) { return segment(sport, 1000u * sport, 0, 0, mss); }

struct Rig {
  VirtualClock clock;
  tcpip::LwipInstance lwip{&clock, 1};
  Host host{kIp, kMac, kPeerMac, 1500, false, nic::NicConfig{}, nullptr, CpuDomain::kServerHost, CpuDomain::kServerNic};
  Capture out;
  wire::FrameSink* in = nullptr;
  std::vector<std::unique_ptr<tcpip::TcpConn>> accepted;
  tcpip::TcpListener listener{host.nif(), kIp, kPort, [this](std::unique_ptr<tcpip::TcpConn> c) { accepted.push_back(std::move(c)); }};
  Rig() {
    host.amortise(/*tso=*/true, /*gro=*/false);
    in = host.attach(&out);
  }
};

// A SYN flood (half-open connections lwIP later drops without a RST): before, every SYN's MSS
// stayed in the driver until a RST of ours -- 10 000 SYNs, 10 000 entries for the host's life.
TEST(DriverPeerMss, SynFloodKeepsABoundedTable) {
  Rig r;
  for (uint16_t p = 1; p <= 10000; ++p) r.in->deliver(syn(uint16_t(20000 + p), 1000));
  EXPECT_GT(r.out.frames, 0u) << "the host answered";
  EXPECT_GT(r.host.driver()->peer_mss_entries(), 0u) << "an MSS below the MTU's is remembered";
  EXPECT_LE(r.host.driver()->peer_mss_entries(), 4096u);
}

// A peer announcing what our MTU gives anyway (Linux over Ethernet: 1460) leaves nothing behind.
TEST(DriverPeerMss, TheUsualMssIsNotRemembered) {
  Rig r;
  for (uint16_t p = 1; p <= 100; ++p) r.in->deliver(syn(uint16_t(20000 + p), 1460));
  EXPECT_EQ(r.host.driver()->peer_mss_entries(), 0u);
}

// The handshake of a connection from the peer's `sport` announcing MSS `mss`; returns our ISN.
TcpSeq handshake(Rig& r, uint16_t sport, uint16_t mss) {
  r.out.keep = true;
  r.in->deliver(syn(sport, mss));
  std::optional<TcpFrameView> synack;
  for (const Bytes& f : r.out.kept)
    if (auto v = TcpFrameView::parse(f); v && (v->tcp_flags & 0x12) == 0x12) synack = v;
  if (!synack) return TcpSeq();
  r.in->deliver(segment(sport, 1000u * sport + 1, (synack->seq + 1).raw(), 0x10));  // the handshake's ACK
  r.out.kept.clear();
  return synack->seq;
}

// A connection whose peer announced MSS 1000 (below the 1460 our MTU gives): TSO cuts every
// super-segment at 1000 -- the entry moves from the SYN table to the flow with its first data --
// and the entry goes once the peer acknowledged our FIN.
TEST(DriverPeerMss, ASmallMssCutsTheFlowUntilOurFinIsAcknowledged) {
  Rig r;
  const uint16_t sport = 30000;
  const uint32_t isn = 1000u * sport;
  const TcpSeq our_isn = handshake(r, sport, 1000);
  ASSERT_EQ(r.accepted.size(), 1u);
  EXPECT_EQ(r.host.driver()->peer_mss_entries(), 1u);

  Bytes data(20000, 0x5A);
  ASSERT_EQ(r.accepted[0]->write(data.data(), data.size(), true, false), data.size());
  r.accepted[0]->output();
  size_t sent = 0;
  for (const Bytes& f : r.out.kept) {
    const auto v = TcpFrameView::parse(f);
    ASSERT_TRUE(v);
    EXPECT_LE(v->payload_len, 1000u) << "a segment longer than the peer's MSS";
    sent += v->payload_len;
  }
  EXPECT_GT(sent, 2000u) << "TSO sent several segments' worth";
  EXPECT_EQ(r.host.driver()->peer_mss_entries(), 1u) << "the flow's entry";

  r.in->deliver(segment(sport, isn + 1, (our_isn + 1 + uint32_t(data.size())).raw(), 0x10));  // all acknowledged
  r.out.kept.clear();
  r.accepted[0]->shutdown_tx();
  std::optional<TcpFrameView> fin;
  for (const Bytes& f : r.out.kept)
    if (auto v = TcpFrameView::parse(f); v && (v->tcp_flags & 0x01)) fin = v;
  ASSERT_TRUE(fin) << "our FIN left";
  r.in->deliver(segment(sport, isn + 1, (fin->seq + 1).raw(), 0x10));
  EXPECT_EQ(r.host.driver()->peer_mss_entries(), 0u) << "our FIN acknowledged: nothing more is cut";
}

// The FIN riding on the flow's first data (written, then shut, before anything left): the entry
// moves and learns where the FIN ends in the same frame, and goes when the peer acknowledges it.
// (With the FIN noted before the move, the entry stayed until a RST.)
TEST(DriverPeerMss, AFinOnTheFirstDataStillEndsTheEntry) {
  Rig r;
  const uint16_t sport = 30001;
  const TcpSeq our_isn = handshake(r, sport, 1000);
  ASSERT_EQ(r.accepted.size(), 1u);
  Bytes data(5000, 0x5A);
  ASSERT_EQ(r.accepted[0]->write(data.data(), data.size(), true, false), data.size());
  r.accepted[0]->shutdown_tx();
  bool fin = false;
  for (const Bytes& f : r.out.kept)
    if (auto v = TcpFrameView::parse(f); v && (v->tcp_flags & 0x01)) fin = true;
  ASSERT_TRUE(fin);
  r.in->deliver(segment(sport, 1000u * sport + 1, (our_isn + 1 + uint32_t(data.size()) + 1).raw(), 0x10));
  EXPECT_EQ(r.host.driver()->peer_mss_entries(), 0u);
}

}  // namespace
}  // namespace autonic::testbed
