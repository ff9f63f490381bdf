// fuzz_link_rx: what a real wire hands a host (issue #10). Any frames -- runts, other MACs,
// broadcasts, ARP of every shape, IPv6, IPv4 with lying lengths -- go into the receive port of a
// host set up as `autonic tls|nvme ...` sets one up on a TAP (NIC MAC filter, driver ARP,
// lwIP with a listener), and every frame it sends back is checked: an ARP reply only to a request
// for our address, well formed, from our MAC and IP, to the asker; nothing else but IPv4 from us.
// Input: repeated [u16 length][frame bytes]; the first byte picks a static neighbour or ARP
// (bit 0) and TSO + GRO with the NIC's interrupt moderation (bit 1: frames reach the driver in
// batches of up to 4, which GRO merges where it may -- issue #12).
#include <cstring>
#include <functional>
#include <vector>

#include "common/frame.h"
#include "common/inet_csum.h"
#include "driver/neigh.h"
#include "fuzz_util.h"
#include "tcpip/tcp_conn.h"
#include "testbed/host.h"

using namespace autonic;

namespace {

constexpr uint32_t kOurIp = 0xC0A84D01, kPeerIp = 0xC0A84D02;  // 192.168.77.1 / .2
constexpr std::array<uint8_t, 6> kOurMac{0x52, 0x54, 0x00, 0x77, 0x00, 0x01};

struct Capture final : wire::Link {
  std::vector<Bytes> out;
  void transmit(Bytes f) override { out.push_back(std::move(f)); }
};

void check_sent(const Bytes& f, const std::vector<Bytes>& in) {
  FUZZ_CHECK(f.size() >= kEthHeaderLen, "a sent frame shorter than an Ethernet header");
  FUZZ_CHECK(std::memcmp(f.data() + 6, kOurMac.data(), 6) == 0, "a sent frame not from our MAC");
  const uint16_t type = load_be16(&f[12]);
  if (type == kEtherTypeIpv4) {
    FUZZ_CHECK(f.size() >= kEthHeaderLen + 20 && load_be32(&f[kEthHeaderLen + 12]) == kOurIp,
               "an IPv4 frame not from our address");
    return;
  }
  FUZZ_CHECK(type == driver::Neighbours::kEtherTypeArp, "a sent frame neither IPv4 nor ARP");
  FUZZ_CHECK(f.size() == kEthHeaderLen + 28, "a malformed ARP frame sent");
  const uint8_t* a = f.data() + kEthHeaderLen;
  FUZZ_CHECK(load_be32(a + 14) == kOurIp && std::memcmp(a + 8, kOurMac.data(), 6) == 0, "ARP not about us");
  if (load_be16(a + 6) == 1) return;  // our own request (resolving a destination lwIP answered)
  FUZZ_CHECK(load_be16(a + 6) == 2, "an ARP operation other than request / reply");
  // A reply answers a request that asked for our address, to the asker's MAC.
  bool asked = false;
  for (const Bytes& q : in)
    if (q.size() >= kEthHeaderLen + 28 && load_be16(&q[12]) == driver::Neighbours::kEtherTypeArp &&
        load_be16(&q[kEthHeaderLen + 6]) == 1 && load_be32(&q[kEthHeaderLen + 24]) == kOurIp &&
        std::memcmp(&q[kEthHeaderLen + 8], a + 18, 6) == 0 && load_be32(&q[kEthHeaderLen + 14]) == load_be32(a + 24))
      asked = true;
  FUZZ_CHECK(asked, "an ARP reply nobody asked for");
}

// ---- seeds: one per kind of frame a real wire brings ----
Bytes eth(const std::array<uint8_t, 6>& dst, uint16_t type, Bytes payload) {
  Bytes f(kEthHeaderLen);
  std::memcpy(f.data(), dst.data(), 6);
  const uint8_t src[6] = {0x52, 0x54, 0, 0x77, 0, 2};
  std::memcpy(f.data() + 6, src, 6);
  store_be16(&f[12], type);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

Bytes syn_to_listener() {
  Bytes ip(40, 0);
  ip[0] = 0x45;
  store_be16(&ip[2], 40);
  ip[8] = 64;
  ip[9] = 6;
  store_be32(&ip[12], kPeerIp);
  store_be32(&ip[16], kOurIp);
  store_be16(&ip[10], 0);
  store_be16(&ip[20], 40000);
  store_be16(&ip[22], 4420);
  store_be32(&ip[24], 1000);
  ip[32] = 5 << 4;
  ip[33] = 0x02;  // SYN
  store_be16(&ip[34], 65535);
  Bytes f = eth(kOurMac, kEtherTypeIpv4, ip);
  store_be16(&f[kEthHeaderLen + 10], uint16_t(~csum_fold(csum_partial(&f[kEthHeaderLen], 20, 0))));
  store_be16(&f[kEthHeaderLen + 36], tcp4_checksum(&f[kEthHeaderLen], 40));
  return f;
}

// An in-sequence data segment of one flow to the listener's port (GRO merges runs of them).
Bytes data_segment(uint32_t seq, size_t len, uint8_t flags = 0x10) {
  Bytes f = syn_to_listener();
  f.resize(f.size() + len, uint8_t(seq));
  uint8_t* ip = &f[kEthHeaderLen];
  store_be16(ip + 2, uint16_t(40 + len));
  store_be32(ip + 24, seq);
  ip[33] = flags;
  store_be16(ip + 10, 0);
  store_be16(ip + 10, uint16_t(~csum_fold(csum_partial(ip, 20, 0))));
  store_be16(ip + 36, 0);
  store_be16(ip + 36, tcp4_checksum(ip, 40 + len));
  return f;
}

std::vector<fuzz::Seed> seeds() {
  driver::Neighbours peer(kPeerIp, driver::Mac{0x52, 0x54, 0, 0x77, 0, 2});
  driver::Neighbours stranger(0xC0A84D09, driver::Mac{0x52, 0x54, 0, 0x77, 0, 9});
  const std::array<uint8_t, 6> other{0x52, 0x54, 0, 0xee, 0xee, 0xee};
  auto input = [](bool static_peer, const std::vector<Bytes>& frames) {
    return fuzz::join_chunks(uint8_t(static_peer ? 1 : 0), frames);
  };
  return {
      {"arp-then-syn", input(false, {peer.request(kOurIp), syn_to_listener()})},
      {"syn-before-arp", input(false, {syn_to_listener(), peer.request(kOurIp)})},
      {"static-peer-syn", input(true, {syn_to_listener()})},
      {"gro-data-run", [&] {
         Bytes in = input(true, {data_segment(1001, 1000), data_segment(2001, 1000), data_segment(3001, 1000),
                                 data_segment(4001, 500, 0x18), data_segment(4501, 0)});
         in[0] = 3;  // static neighbour + TSO / GRO
         return in;
       }()},
      {"arp-for-another", input(false, {stranger.request(0xC0A84D05), peer.request(0xC0A84D07)})},
      {"ipv6-runt-foreign", input(false, {eth(kOurMac, 0x86DD, Bytes(40, 0x60)), Bytes(5, 1),
                                          eth(other, kEtherTypeIpv4, Bytes(40, 0x45))})},
  };
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  fuzz::maybe_write_seeds(argc, argv, seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  VirtualClock clock;
  tcpip::lwip_start(&clock, 1);
  {
    nic::NicConfig n;
    n.mac = kOurMac;
    const bool gro = data[0] & 2;
    std::vector<std::function<void()>> irqs;  // moderation timers, run every 4 frames
    if (gro) {
      n.rx_coalesce_ns = 8000;
      n.rx_coalesce_frames = 64;
      n.schedule = [&irqs](Nanos, std::function<void()> fn) { irqs.push_back(std::move(fn)); };
    }
    CpuMeter meter;
    testbed::Host host(kOurIp, kOurMac, {}, 1500, false, n, &meter, CpuDomain::kServerHost, CpuDomain::kServerNic);
    std::optional<driver::Mac> peer;
    if (data[0] & 1) peer = driver::Mac{0x52, 0x54, 0, 0x77, 0, 2};
    host.driver()->enable_arp(kOurIp, kPeerIp, peer);
    if (gro) {
      host.host_netif().set_tso(65536);
      host.driver()->enable_tso();
      host.driver()->enable_gro();
    }
    auto run_irqs = [&irqs] {
      std::vector<std::function<void()>> due;
      due.swap(irqs);
      for (auto& fn : due) fn();
    };
    Capture cap;
    wire::FrameSink* port = host.attach(&cap);
    tcpip::TcpListener listener(host.nif(), kOurIp, 4420, [](std::unique_ptr<tcpip::TcpConn>) {});
    std::vector<Bytes> in;
    for (size_t pos = 1; pos + 2 <= size && in.size() < 256;) {
      const size_t len = std::min<size_t>(load_be16(data + pos), size - pos - 2);
      in.emplace_back(data + pos + 2, data + pos + 2 + len);
      pos += 2 + len;
      port->deliver(in.back());
      if (in.size() % 4 == 0) run_irqs();
      clock.advance_to(clock.now() + 1'000'000);
      tcpip::lwip_run_timers();
    }
    run_irqs();
    for (const Bytes& f : cap.out) check_sent(f, in);
  }
  tcpip::lwip_stop();
  return 0;
}
