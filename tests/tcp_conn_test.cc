// TcpConn's ownership of lwIP's pcb at the end of a connection: two hosts in one lwIP instance,
// their IPv4 packets handed straight across (no NIC, no wire), virtual time.
#include <gtest/gtest.h>

#include <deque>
#include <memory>

#include "common/clock.h"
#include "tcpip/lwip_glue.h"
#include "tcpip/tcp_conn.h"

namespace autonic::tcpip {
namespace {

constexpr uint32_t kIpA = 0x0A000001, kIpB = 0x0A000002;  // 10.0.0.1, 10.0.0.2

struct Events final : TcpConnHandler {
  bool connected = false, fin = false;
  std::string error;
  void on_connected() override { connected = true; }
  void on_recv(pbuf* p) override {
    if (!p) {
      fin = true;
      return;
    }
    pbuf_free(p);
  }
  void on_sent(uint32_t) override {}
  void on_error(const char* what) override { error = what; }
};

struct TwoHosts {
  VirtualClock clock;
  LwipInstance lwip{&clock, 1};
  std::deque<std::pair<HostNetif*, Bytes>> wire;  // (to, IPv4 packet)
  HostNetif a{kIpA, 1500, false, [this](pbuf* p) { return send(&b, p); }};
  HostNetif b{kIpB, 1500, false, [this](pbuf* p) { return send(&a, p); }};
  Nanos next_timer = 0;

  // A connection from a's `port` to b's listener, established.
  std::unique_ptr<TcpConn> client, server;
  std::unique_ptr<TcpListener> listener;
  void open(uint16_t port, Events& ea, Events& eb) {
    listener = std::make_unique<TcpListener>(b.raw(), kIpB, 4420, [this, &eb](std::unique_ptr<TcpConn> c) {
      server = std::move(c);
      server->set_handler(&eb);
    });
    client = TcpConn::connect(a.raw(), kIpA, port, kIpB, 4420);
    client->set_handler(&ea);
    run(10);
  }

  err_t send(HostNetif* to, pbuf* p) {
    Bytes pkt(p->tot_len);
    pbuf_copy_partial(p, pkt.data(), p->tot_len, 0);
    wire.emplace_back(to, std::move(pkt));
    return ERR_OK;
  }
  // Hands over the oldest packet in flight (false: none), or drops it.
  bool step(bool drop = false) {
    if (wire.empty()) return false;
    auto [to, pkt] = std::move(wire.front());
    wire.pop_front();
    if (drop) return true;
    pbuf* q = pbuf_alloc(PBUF_RAW, u16_t(pkt.size()), PBUF_RAM);
    pbuf_take(q, pkt.data(), u16_t(pkt.size()));
    to->input(q);
    return true;
  }
  // Delivers every packet in flight, then lets `ms` of virtual time pass, running lwIP's timers.
  void run(Nanos ms) {
    const Nanos until = clock.now() + ms * 1'000'000;
    for (;;) {
      while (step()) {}
      if (next_timer > until) break;
      clock.advance_to(next_timer);
      next_timer = lwip_run_timers();
    }
    clock.advance_to(until);
  }
};

// We close first (FIN), the peer follows: lwIP takes our pcb to TIME_WAIT and frees it 2 MSL
// later without calling anyone (tcp_slowtmr). The TcpConn must have let go of it by then -- it
// used to keep the pointer, and destroying it aborted freed memory (ASan: heap-use-after-free).
TEST(TcpConnTeardown, OurFinThenThePeersLeavesNoPcbBehind) {
  TwoHosts h;
  Events ea, eb;
  h.open(40000, ea, eb);
  ASSERT_TRUE(ea.connected);
  ASSERT_TRUE(h.server);
  auto& client = h.client;
  auto& server = h.server;

  client->shutdown_tx();
  h.run(10);
  ASSERT_TRUE(eb.fin) << "the server saw our FIN";
  EXPECT_TRUE(client->alive()) << "FIN_WAIT_2: the connection still receives";
  server->shutdown_tx();
  h.run(10);
  EXPECT_TRUE(ea.fin) << "we saw the server's FIN";
  ASSERT_FALSE(client->alive()) << "TIME_WAIT: the pcb is lwIP's (else the 2 MSL below would free it under us)";
  EXPECT_FALSE(server->alive()) << "LAST_ACK -> CLOSED: lwIP freed it and said so (ERR_CLSD)";
  h.run(300'000);  // past 2 MSL: lwIP frees the TIME_WAIT pcb
  client.reset();  // must not touch it
  server.reset();
}

// The peer closes first and we follow: our LAST_ACK ends in CLOSED, which lwIP reports (the
// error callback, ERR_CLSD), so our pcb is let go of there; the peer's goes to TIME_WAIT and is
// let go of at our FIN, as in the test above.
TEST(TcpConnTeardown, ThePeersFinThenOursEndsInClosed) {
  TwoHosts h;
  Events ea, eb;
  h.open(40001, ea, eb);
  ASSERT_TRUE(h.server);
  auto& client = h.client;
  auto& server = h.server;
  server->shutdown_tx();
  h.run(10);
  ASSERT_TRUE(ea.fin);
  EXPECT_TRUE(client->alive()) << "CLOSE_WAIT: we may still send";
  client->shutdown_tx();
  h.run(10);
  EXPECT_FALSE(client->alive());
  ASSERT_FALSE(server->alive());
  h.run(300'000);
}

// Both sides close at once while our data is unacknowledged: the peer's FIN takes us to CLOSING
// with segments that still reference our bytes (sent by reference), which lwIP may retransmit.
// The TcpConn keeps the pcb until they are acknowledged -- handed back then, its owner could free
// the bytes under lwIP's retransmission -- and lets go of it once they are.
TEST(TcpConnTeardown, SimultaneousCloseKeepsThePcbWhileOurBytesAreUnacknowledged) {
  TwoHosts h;
  Events ea, eb;
  h.open(40002, ea, eb);
  ASSERT_TRUE(h.server);
  Bytes data(1000, 0x42);
  ASSERT_EQ(h.client->write(data.data(), data.size(), /*copy=*/false, false), data.size());
  h.client->shutdown_tx();  // our data and FIN in flight
  h.server->shutdown_tx();  // the server's FIN crosses them
  ASSERT_TRUE(h.step());    // ours reach the server: CLOSING there, nothing of its bytes queued
  EXPECT_FALSE(h.server->alive()) << "CLOSING with no bytes queued: the pcb is lwIP's";
  EXPECT_TRUE(h.server->all_acked());
  ASSERT_TRUE(h.step());    // the server's FIN reaches us, acknowledging none of our data
  ASSERT_TRUE(ea.fin);
  EXPECT_TRUE(h.client->alive()) << "CLOSING with our 1000 bytes unacknowledged: still ours";
  EXPECT_FALSE(h.client->all_acked());
  ASSERT_TRUE(h.step(/*drop=*/true));  // the server's ACK of them is lost: lwIP retransmits
  h.run(10'000);
  EXPECT_FALSE(h.client->alive()) << "acknowledged: TIME_WAIT, the pcb is lwIP's";
  EXPECT_TRUE(h.client->all_acked());
  data.assign(data.size(), 0);  // the owner may reuse its bytes now
  h.run(300'000);
}

}  // namespace
}  // namespace autonic::tcpip
