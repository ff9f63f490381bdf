// The driver remembers a peer's MSS for TSO only while it may need it, and never one entry per
// SYN a peer sends: a host with TSO on, its port listening, fed SYNs straight from the wire.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "common/clock.h"
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
  void transmit(Bytes) override { ++frames; }
};

// An Ethernet frame holding a SYN from the peer's `sport` to our listening port, MSS option `mss`.
Bytes syn(uint16_t sport, uint16_t mss) {
  Bytes f(14 + 20 + 24, 0);
  std::copy(kMac.begin(), kMac.end(), f.begin());
  std::copy(kPeerMac.begin(), kPeerMac.end(), f.begin() + 6);
  store_be16(&f[12], 0x0800);
  uint8_t* ip = &f[14];
  ip[0] = 0x45;
  store_be16(ip + 2, 44);
  store_be16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = 6;
  store_be32(ip + 12, kPeerIp);
  store_be32(ip + 16, kIp);
  ipv4_set_header_checksum(ip);
  uint8_t* tcp = ip + 20;
  store_be16(tcp, sport);
  store_be16(tcp + 2, kPort);
  store_be32(tcp + 4, 1000u * sport);
  tcp[12] = 6 << 4;  // 24 bytes: the MSS option
  tcp[13] = 0x02;    // SYN
  store_be16(tcp + 14, 65535);
  tcp[20] = 2;
  tcp[21] = 4;
  store_be16(tcp + 22, mss);
  store_be16(tcp + 16, tcp4_checksum(ip, 44));
  return f;
}

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

}  // namespace
}  // namespace autonic::testbed
