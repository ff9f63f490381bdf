// Offload fails closed (issue #9, DESIGN.md "Fail closed"): for every way a context can be
// missing when the L5P counts on it -- the NIC refuses it, its command finds the ring full, it
// is evicted and cannot be restored, the device resets mid-stream (Linux tls_device_down,
// CVE-2021-47131), it is re-created and refused again -- and for TLS, NVMe/TCP and NVMe/TCP
// over TLS: the run is verified or ends with a clear outcome, nothing wrong is delivered, and
// no byte meant to be encrypted appears on the wire (the pcap is scanned for the plaintext).
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <unordered_set>

#include "apps/fio.h"
#include "apps/pattern.h"
#include "common/clock.h"
#include "common/inet_csum.h"
#include "driver/driver.h"
#include "nic/nic.h"
#include "proto/nvme/nvme_l5_state.h"
#include "proto/tls/tls_l5_state.h"
#include "tcpip/lwip_glue.h"
#include "common/frame.h"
#include "common/rng.h"
#include "test_util.h"
#include "testbed/testbed.h"

using namespace autonic;
using namespace autonic::testbed;
using autonic::testing::ctr;

namespace {

enum class Fault { kRejectCreate, kRingFull, kEvictedLost, kReset, kResetRefused, kResetPartlyRefused };
const char* fault_name(Fault f) {
  switch (f) {
    case Fault::kRejectCreate: return "reject_create";
    case Fault::kRingFull: return "cmd_ring_full";
    case Fault::kEvictedLost: return "evicted_lost";
    case Fault::kReset: return "dev_reset";
    case Fault::kResetRefused: return "dev_reset_then_refused";
    case Fault::kResetPartlyRefused: return "dev_reset_then_partly_refused";
  }
  return "?";
}

// Contexts one host creates before the data flows (TX + RX per connection; NVMe: admin and
// one I/O queue -- the admin queue is not offloaded; over TLS each also carries an inner NVMe
// context).
uint32_t setup_creates(L5pKind k) { return k == L5pKind::kNvmeTls ? 4 : 2; }

ScenarioConfig make(L5pKind k, Fault f) {
  ScenarioConfig c;
  c.l5p = k;
  c.offload = OffloadMode::kOn;
  c.bytes = 2u << 20;
  c.seed = 3;
  c.link.loss = 0.005;  // retransmissions too: recovery paths after the fault
  if (k != L5pKind::kTls) {
    c.rw = "randrw";
    c.io_size = 16384;
    c.depth = 4;
    c.ns_size = 4u << 20;
  }
  nic::NicFaults& n = c.nic_faults;
  switch (f) {
    case Fault::kRejectCreate: n.reject_create_from = 1; break;
    case Fault::kRingFull: n.cmd_ring_full_from = 1; break;
    case Fault::kEvictedLost: n.lose_ctx_every = 97; break;
    case Fault::kReset: n.reset_after_tx = 400; break;
    case Fault::kResetRefused:
      n.reset_after_tx = 400;
      n.reject_create_from = setup_creates(k) + 1;
      break;
    case Fault::kResetPartlyRefused:  // the first context comes back, the rest do not (over
      n.reset_after_tx = 400;          // TLS: the outer TX one without its inner NVMe one)
      n.reject_create_from = setup_creates(k) + 2;
      break;
  }
  return c;
}

std::string replay(const ScenarioConfig& c) {
  const nic::NicFaults& n = c.nic_faults;
  std::ostringstream o;
  o << "replay: build/autonic run --l5p " << l5p_name(c.l5p) << " --offload on --bytes " << c.bytes
    << " --loss " << c.link.loss << " --seed " << c.seed;
  if (c.l5p != L5pKind::kTls)
    o << " --rw " << c.rw << " --io-size " << c.io_size << " --depth " << c.depth << " --ns-size " << c.ns_size;
  o << " --nic-fault reject-create-from=" << n.reject_create_from << ",ring-full-from=" << n.cmd_ring_full_from
    << ",lose-ctx-every=" << n.lose_ctx_every << ",reset-after-tx=" << n.reset_after_tx << " --pcap wire.pcap";
  return o.str();
}

// Every 8-byte word of the plaintext the run's applications wrote (apps/pattern.h).
std::unordered_set<uint64_t> plaintext_words(const ScenarioConfig& c) {
  std::unordered_set<uint64_t> w;
  auto add = [&w](uint64_t seed, uint64_t bytes) {
    for (uint64_t k = 0; k < bytes / 8; ++k) w.insert(splitmix64(seed + k));
  };
  if (c.l5p == L5pKind::kTls || c.l5p == L5pKind::kTcp) {
    add(splitmix64(c.seed * 1000003ull + 0), c.bytes);  // testbed.cc: flow 0's pattern seed
  } else {
    add(apps::ns_pattern_seed(c.seed), c.ns_size);
    add(apps::write_pattern_seed(c.seed), c.ns_size);
  }
  return w;
}

// TCP payload windows of the pcap that hold a plaintext word, at any byte offset.
uint64_t plaintext_hits(const std::string& pcap_path, const std::unordered_set<uint64_t>& words) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(pcap_path.c_str(), err);
  if (!p) ADD_FAILURE() << "cannot read " << pcap_path << ": " << err;
  if (!p) return ~0ull;
  uint64_t hits = 0, frames = 0;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) {
    ++frames;
    Bytes f(data, data + h->caplen);
    auto v = TcpFrameView::parse(f);
    if (!v) continue;
    for (size_t i = 0; i + 8 <= v->payload_len; ++i) {
      uint64_t x;
      std::memcpy(&x, &f[v->payload_off + i], 8);
      hits += words.count(x);
    }
  }
  pcap_close(p);
  EXPECT_GT(frames, 10u) << "the capture holds the run";
  return hits;
}

std::string pcap_path(const std::string& tag) {
  return (std::filesystem::temp_directory_path() / ("autonic_fc_" + tag + ".pcap")).string();
}

// A context counter summed over both hosts.
uint64_t both(const Report& r, const std::string& k) { return ctr(r.client, k) + ctr(r.server, k); }

const char* proto_of(L5pKind k) { return k == L5pKind::kTls ? "tls" : "nvme_tcp"; }

class FailClosed : public ::testing::TestWithParam<std::tuple<L5pKind, Fault>> {};

TEST_P(FailClosed, NoPlaintextOnTheWireNothingWrongDelivered) {
  const auto [k, f] = GetParam();
  ScenarioConfig c = make(k, f);
  c.pcap = pcap_path(std::string(l5p_name(k)) + "_" + fault_name(f));
  const Report r = run_scenario(c);
  SCOPED_TRACE(replay(c) + "   (outcome " + r.outcome + ")");
  EXPECT_EQ(r.delivered_wrong_bytes, 0u);
  const std::string p = proto_of(k);
  const std::string outer = k == L5pKind::kNvmeTls ? "tls" : p;
  switch (f) {
    case Fault::kRejectCreate:
    case Fault::kRingFull:
      // No context, no offload: the L5P stays in software and the run is simply verified.
      EXPECT_TRUE(r.verified);
      EXPECT_GT(both(r, "tx_" + outer + "_ctx_add_fail") + both(r, "rx_" + outer + "_ctx_add_fail"), 0u);
      EXPECT_EQ(both(r, "tx_" + outer + "_encrypted_packets"), 0u);
      if (f == Fault::kRingFull) {
        EXPECT_GT(both(r, "drv_cmd_ring_full"), 0u);
      }
      break;
    case Fault::kEvictedLost:
    case Fault::kReset:
      // The driver re-creates the context from its shadow; frames bound to it meanwhile were
      // dropped and TCP's retransmissions went through TX recovery.
      EXPECT_TRUE(r.verified);
      EXPECT_GT(both(r, "tx_" + outer + "_ctx_lost") + both(r, "rx_" + outer + "_ctx_lost"), 0u);
      EXPECT_GT(both(r, "tx_" + outer + "_ctx_restore"), 0u);
      EXPECT_GT(both(r, "tx_" + outer + "_encrypted_packets"), 0u);
      if (f == Fault::kReset) {
        EXPECT_GT(both(r, "nic_dev_resets"), 0u);
      }
      break;
    case Fault::kResetRefused:
      // Gone for good: the bytes handed over for the NIC can never leave; a clear end.
      EXPECT_FALSE(r.verified);
      EXPECT_NE(r.outcome.find("tx_offload_lost"), std::string::npos);
      EXPECT_GT(both(r, "tx_" + outer + "_drop_no_ctx"), 0u);
      break;
    case Fault::kResetPartlyRefused:
      // Whatever came back works; whatever did not ends the run clearly (TX) or costs only
      // the offload (RX).
      EXPECT_TRUE(r.verified || r.outcome.find("tx_offload_lost") != std::string::npos);
      EXPECT_GT(both(r, "nic_dev_resets"), 0u);
      break;
  }
  if (k != L5pKind::kNvmeTcp) {  // NVMe/TCP alone is cleartext by design
    EXPECT_EQ(plaintext_hits(c.pcap, plaintext_words(c)), 0u) << "plaintext meant to be encrypted left the host";
  }
  if (k != L5pKind::kTls) {  // a digest the NIC was to fill never leaves unfilled
    EXPECT_EQ(both(r, "nvme_ddgst_errors") + both(r, "nvme_hdgst_errors"), 0u) << "a frame left without its digest";
  }
  std::filesystem::remove(c.pcap);
}

std::string param_name(const ::testing::TestParamInfo<std::tuple<L5pKind, Fault>>& i) {
  std::string n = std::string(l5p_name(std::get<0>(i.param))) + "_" + fault_name(std::get<1>(i.param));
  for (char& ch : n)
    if (ch == '-') ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Matrix, FailClosed,
                         ::testing::Combine(::testing::Values(L5pKind::kTls, L5pKind::kNvmeTcp, L5pKind::kNvmeTls),
                                            ::testing::Values(Fault::kRejectCreate, Fault::kRingFull,
                                                              Fault::kEvictedLost, Fault::kReset,
                                                              Fault::kResetRefused, Fault::kResetPartlyRefused)),
                         param_name);

// The scan can fail: a plain TCP run carries the same pattern in the clear.
TEST(FailClosedScan, FindsPlaintextWhereThereIsSome) {
  ScenarioConfig c;
  c.l5p = L5pKind::kTcp;
  c.bytes = 256u << 10;
  c.seed = 3;
  c.pcap = pcap_path("tcp_scan");
  const Report r = run_scenario(c);
  ASSERT_TRUE(r.verified);
  EXPECT_GT(plaintext_hits(c.pcap, plaintext_words(c)), 1000u);
  std::filesystem::remove(c.pcap);
  // NVMe/TCP without TLS carries the namespace and write patterns in the clear.
  ScenarioConfig n = make(L5pKind::kNvmeTcp, Fault::kRejectCreate);
  n.nic_faults = {};
  n.pcap = pcap_path("nvme_scan");
  ASSERT_TRUE(run_scenario(n).verified);
  EXPECT_GT(plaintext_hits(n.pcap, plaintext_words(n)), 1000u);
  std::filesystem::remove(n.pcap);
}

// The L5P destroys its TX context while TCP still holds bytes handed over for it (e.g. a
// session torn down with records unacknowledged): a retransmission of them is dropped, never
// sent as the plaintext it is; bytes before the offload began still leave.
struct CaptureLink final : wire::Link {
  std::vector<Bytes> frames;
  void transmit(Bytes f) override { frames.push_back(std::move(f)); }
};

struct OneRecordOps final : l5o::L5pOps {
  TcpSeq start;
  l5o::TxMsgState get_tx_msgstate(TcpSeq) override {
    return l5o::TxMsgState{l5o::TxMsgState::Kind::kFound, start, 0, {}, {}};
  }
  void resync_rx_req(TcpSeq) override {}
};

// One IPv4/TCP packet from the flow, seq, carrying `payload`, as lwIP hands it to the netif.
pbuf* tcp_packet(const FlowKey& k, TcpSeq seq, ByteSpan payload) {
  pbuf* p = pbuf_alloc(PBUF_RAW, uint16_t(40 + payload.size()), PBUF_RAM);
  auto* ip = static_cast<uint8_t*>(p->payload);
  std::memset(ip, 0, 40);
  ip[0] = 0x45;
  store_be16(ip + 2, uint16_t(40 + payload.size()));
  ip[8] = 64;
  ip[9] = 6;
  store_be32(ip + 12, k.saddr);
  store_be32(ip + 16, k.daddr);
  store_be16(ip + 20, k.sport);
  store_be16(ip + 22, k.dport);
  store_be32(ip + 24, seq.raw());
  ip[32] = 5 << 4;
  std::memcpy(ip + 40, payload.data(), payload.size());
  return p;
}

TEST(FailClosedDriver, DestroyedTxContextNeverSendsItsBytesAsTheyAre) {
  VirtualClock clock;
  tcpip::lwip_start(&clock, 1);
  {
    nic::Nic n(nic::NicConfig{}, nullptr, CpuDomain::kClientNic);
    CaptureLink wire;
    n.attach_link(&wire);
    driver::Driver drv(n, nullptr, CpuDomain::kClientHost, {2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2});
    const FlowKey flow{0x0A000001, 0x0A000002, 40000, 443};
    OneRecordOps ops;
    ops.start = TcpSeq(5000);
    proto::tls::TrafficKeys keys;
    keys.key.assign(16, 0x11);
    const l5o::L5oHandle h = drv.create(flow, l5o::Direction::kTx,
                                        std::make_shared<proto::tls::TlsL5State>(keys, 0), ops.start, &ops);
    ASSERT_NE(h, l5o::kNoHandle);
    // One TLS record (header + 1000 plaintext bytes + room for the tag), as the L5P hands it over.
    Bytes rec(5 + 1000 + 16, 0);
    rec[0] = 23; rec[1] = 3; rec[2] = 3;
    store_be16(&rec[3], uint16_t(1000 + 16));
    apps::pattern_fill(42, 0, MutByteSpan(&rec[5], 1000));
    const ByteSpan plain(&rec[5], 1000);
    auto leaked = [&](const Bytes& f) {
      return std::search(f.begin(), f.end(), plain.begin(), plain.begin() + 64) != f.end();
    };
    pbuf* p = tcp_packet(flow, ops.start, rec);
    drv.xmit(p);
    ASSERT_EQ(wire.frames.size(), 1u);
    EXPECT_FALSE(leaked(wire.frames[0])) << "the NIC encrypted it";
    drv.destroy(h);
    drv.xmit(p);  // TCP retransmits the record after the L5P let go of its context
    EXPECT_EQ(wire.frames.size(), 1u) << "dropped, not sent as plaintext";
    EXPECT_EQ(drv.offload_stats(l5o::L5Proto::kTls).tx_drop_no_ctx, 1u);
    pbuf_free(p);
    const uint8_t hello[8] = {22, 3, 3, 0, 3, 1, 2, 3};  // handshake bytes before the offload
    pbuf* q = tcp_packet(flow, TcpSeq(5000 - 8), ByteSpan(hello, 8));
    drv.xmit(q);
    pbuf_free(q);
    EXPECT_EQ(wire.frames.size(), 2u) << "bytes before the offload still leave";
  }
  tcpip::lwip_stop();
}

// A device reset while the NIC has placed data ahead of the L5P's parser: the mapping's
// teardown, asked before the driver has read the loss off its queue, still reports the fence of
// what was placed (else the L5P could reuse a buffer the NIC wrote into).
TEST(FailClosedDriver, TeardownAfterAResetKeepsThePlacementFence) {
  VirtualClock clock;
  tcpip::lwip_start(&clock, 1);
  {
    nic::Nic n(nic::NicConfig{}, nullptr, CpuDomain::kClientNic);
    driver::Driver drv(n, nullptr, CpuDomain::kClientHost, {2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2});
    const FlowKey flow{0x0A000002, 0x0A000001, 4420, 40000};  // as received: controller -> host
    OneRecordOps ops;
    const l5o::L5oHandle h = drv.create(flow, l5o::Direction::kRx,
                                        std::make_shared<proto::nvme::NvmeL5State>(false, false, true), TcpSeq(1000), &ops);
    ASSERT_NE(h, l5o::kNoHandle);
    std::vector<uint8_t> buf(4096);
    const l5o::RrStateId id = drv.add_rr_state(h, l5o::RrState{5, MutByteSpan(buf.data(), buf.size())});
    // One C2HData PDU for CID 5 (24-byte header, 4096 data bytes, no digests); its first packet.
    Bytes pdu(24 + 4096, 0x5A);
    std::memset(pdu.data(), 0, 24);
    pdu[0] = 0x07; pdu[1] = 0x04; pdu[2] = 24; pdu[3] = 24;  // C2HData, LAST_PDU, hlen, pdo
    pdu[4] = uint8_t(pdu.size()); pdu[5] = uint8_t(pdu.size() >> 8);
    pdu[8] = 5;                                                // CID
    pdu[17] = 0x10;                                            // DATAL 4096 (little endian)
    pbuf* p = tcp_packet(flow, TcpSeq(1000), ByteSpan(pdu.data(), 1448));
    Bytes frame(kEthHeaderLen + p->tot_len, 0);
    store_be16(&frame[12], kEtherTypeIpv4);
    pbuf_copy_partial(p, frame.data() + kEthHeaderLen, p->tot_len, 0);
    pbuf_free(p);
    store_be16(&frame[kEthHeaderLen + 20 + 16], tcp4_checksum(&frame[kEthHeaderLen], frame.size() - kEthHeaderLen));
    n.deliver(std::move(frame));  // placed (DDP), handed to the driver
    ASSERT_EQ(buf[0], 0x5A) << "the NIC placed the first packet's data";
    n.reset();                    // device reset: the mapping is gone with the context
    const l5o::RrTeardown t = drv.del_rr_state(h, id);
    EXPECT_TRUE(t.confirmed);
    ASSERT_TRUE(t.fence.has_value()) << "the placement before the reset must still fence the buffer";
    EXPECT_EQ(*t.fence, TcpSeq(1000 + 1448)) << "end of the last byte placed";
    drv.destroy(h);
  }
  tcpip::lwip_stop();
}

}  // namespace
