// Real-network pieces that need no root: the QEMU dgram device (one frame per datagram, frames
// queued on EAGAIN and sent in order on POLLOUT), the fault wrapper (same seed, same fate), and
// the driver's neighbour table (ARP answered, hostile ARP bounded and counted).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/frame.h"
#include "driver/neigh.h"
#include "wire/device.h"
#include "wire/fault_link.h"

using namespace autonic;

namespace {

// A stand-in for QEMU: binds DIR/qemu.sock and reads what the device sends.
struct FakeQemu {
  std::filesystem::path dir;
  int fd = -1;
  FakeQemu() {
    char tmpl[] = "/tmp/autonic-dev-XXXXXX";
    dir = mkdtemp(tmpl);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    const std::string p = (dir / "qemu.sock").string();
    std::memcpy(a.sun_path, p.c_str(), p.size());
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  ~FakeQemu() {
    close(fd);
    std::filesystem::remove_all(dir);
  }
  std::optional<Bytes> read_one() {
    Bytes b(10000);
    const ssize_t n = recv(fd, b.data(), b.size(), 0);
    if (n < 0) return std::nullopt;
    b.resize(size_t(n));
    return b;
  }
  void send_to_host(ByteSpan f) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    const std::string p = (dir / "host.sock").string();
    std::memcpy(a.sun_path, p.c_str(), p.size());
    ASSERT_EQ(sendto(fd, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a), ssize_t(f.size()));
  }
};

Bytes numbered_frame(uint32_t i, size_t len = 1000) {
  Bytes f(len, uint8_t(i));
  store_be32(f.data(), i);
  return f;
}

}  // namespace

TEST(DgramDevice, QueuesOnEagainAndKeepsOrder) {
  FakeQemu q;
  auto dev = wire::open_device("qemu:" + q.dir.string());
  // QEMU's queue holds about 10 datagrams (net.unix.max_dgram_qlen): 200 frames must hit EAGAIN.
  constexpr uint32_t kFrames = 200;
  for (uint32_t i = 0; i < kFrames; ++i) dev->send(numbered_frame(i));
  EXPECT_GT(dev->stats().tx_eagain, 0u) << "the peer's queue never filled: the test proves nothing";
  EXPECT_TRUE(dev->tx_pending());
  uint32_t next = 0;
  for (int rounds = 0; next < kFrames && rounds < 10000; ++rounds) {
    while (auto f = q.read_one()) {
      ASSERT_EQ(f->size(), 1000u);
      ASSERT_EQ(load_be32(f->data()), next) << "frames reordered or lost by the device";
      ++next;
    }
    pollfd p{dev->fd(), POLLOUT, 0};
    if (poll(&p, 1, 10) > 0 && (p.revents & POLLOUT)) dev->flush();
  }
  EXPECT_EQ(next, kFrames);
  EXPECT_FALSE(dev->tx_pending());
  EXPECT_EQ(dev->stats().tx_frames, kFrames);
  EXPECT_EQ(dev->stats().tx_queue_drops, 0u);
}

TEST(DgramDevice, ReceivesFramesAndCountsRunts) {
  FakeQemu q;
  auto dev = wire::open_device("qemu:" + q.dir.string());
  q.send_to_host(Bytes(5, 1));  // a runt: never handed up
  q.send_to_host(numbered_frame(7, 60));
  Bytes f;
  ASSERT_TRUE(dev->recv(f));
  EXPECT_EQ(f.size(), 60u);
  EXPECT_EQ(load_be32(f.data()), 7u);
  EXPECT_FALSE(dev->recv(f));
  EXPECT_EQ(dev->stats().rx_runts, 1u);
  EXPECT_EQ(dev->stats().rx_frames, 1u);
}

TEST(DgramDevice, BadSpecIsAClearError) {
  EXPECT_THROW(wire::open_device("eth0"), std::runtime_error);
  EXPECT_THROW(wire::open_device("qemu:/nonexistent/dir/for/sure"), std::runtime_error);
}

TEST(FaultLink, SameSeedSameFateAndEveryFaultCounted) {
  auto run = [](uint64_t seed) {
    VirtualClock clock;
    EventQueue events;
    wire::LinkConfig c;
    c.loss = 0.1;
    c.reorder = 0.1;
    c.dup = 0.05;
    std::vector<uint32_t> out;
    wire::FaultLink fl(c, seed, 0, clock, events, [&](Bytes f) { out.push_back(load_be32(f.data())); });
    for (uint32_t i = 0; i < 2000; ++i) {
      clock.advance_to(Nanos(i) * 100'000);
      while (!events.empty() && events.next_time() <= clock.now()) events.run_next();
      fl.transmit(numbered_frame(i, 64));
    }
    clock.advance_to(1ull << 40);
    while (!events.empty()) events.run_next();
    const wire::WireStats& s = fl.stats();
    EXPECT_EQ(out.size(), 2000 - s.dropped + s.duplicated) << "seed " << seed;
    EXPECT_GT(s.dropped, 100u);
    EXPECT_GT(s.reordered, 100u);
    EXPECT_GT(s.duplicated, 50u);
    bool reordered = false;
    for (size_t i = 1; i < out.size(); ++i) reordered = reordered || out[i] < out[i - 1];
    EXPECT_TRUE(reordered) << "held frames never overtaken";
    return out;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(Neighbours, AnswersArpForUsLearnsAndBounds) {
  const driver::Mac us{0x52, 0x54, 0, 0, 0, 1}, peer{0x52, 0x54, 0, 0, 0, 2};
  driver::Neighbours n(0x0A000001, us);
  driver::Neighbours p(0x0A000002, peer);
  // The peer asks for us: we answer to its MAC and learn it.
  auto reply = n.on_arp(p.request(0x0A000001));
  ASSERT_TRUE(reply);
  EXPECT_EQ(std::memcmp(reply->data(), peer.data(), 6), 0);
  ASSERT_TRUE(n.lookup(0x0A000002));
  EXPECT_EQ(*n.lookup(0x0A000002), peer);
  // ... and the peer learns us from the reply.
  EXPECT_FALSE(p.on_arp(*reply));
  EXPECT_EQ(*p.lookup(0x0A000001), us);
  // A request for someone else: no answer, and no entry for a stranger.
  driver::Neighbours stranger(0x0A000009, driver::Mac{0x52, 0x54, 0, 0, 0, 9});
  EXPECT_FALSE(n.on_arp(stranger.request(0x0A000005)));
  EXPECT_FALSE(n.lookup(0x0A000009));
  // Malformed: short, wrong hardware type. Counted, no answer.
  Bytes bad = p.request(0x0A000001);
  EXPECT_FALSE(n.on_arp(ByteSpan(bad.data(), 30)));
  bad[kEthHeaderLen + 1] = 9;
  EXPECT_FALSE(n.on_arp(bad));
  CounterMap m;
  n.export_stats(m);
  EXPECT_EQ(m["drv_arp_bad"], 2u);
  // A static entry is never replaced; a flood of made-up senders asking for us is bounded.
  n.add_static(0x0A000003, driver::Mac{0x52, 0x54, 0, 0, 0, 3});
  driver::Neighbours liar(0x0A000003, driver::Mac{0x52, 0x54, 0, 0, 0, 0x66});
  n.on_arp(liar.request(0x0A000001));
  EXPECT_EQ((*n.lookup(0x0A000003))[5], 3);
  for (uint32_t i = 0; i < 1000; ++i) {
    driver::Neighbours flood(0x0B000000 + i, driver::Mac{0x52, 0x54, 0, 1, uint8_t(i >> 8), uint8_t(i)});
    n.on_arp(flood.request(0x0A000001));
  }
  CounterMap m2;
  n.export_stats(m2);
  EXPECT_GT(m2["drv_arp_table_full"], 0u);
}
