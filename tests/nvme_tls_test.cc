// NVMe/TCP over TLS (issue #4 part 4): the NIC's NVMe engine runs inside the TLS context on the
// records' payload -- TX: NVMe digests then TLS encryption; RX: TLS decryption then NVMe digest
// checks -- and each layer recovers from out-of-sequence data on its own. Scenarios run in their
// own process; every failure prints the command that replays it.
#include <gtest/gtest.h>

#include <deque>

#include "l5p/tls/tls_rx.h"
#include "nvme_fixture.h"
#include "test_util.h"
#include "testbed/testbed.h"

using namespace autonic;
using namespace autonic::testbed;
using autonic::testing::ctr;

namespace {

std::string replay(const ScenarioConfig& c) { return autonic::testing::nvme_replay(c); }

ScenarioConfig nvme_tls(OffloadMode m, const char* rw, uint32_t io, uint32_t depth, uint64_t bytes) {
  return autonic::testing::nvme_config(L5pKind::kNvmeTls, m, rw, io, depth, bytes);
}

}  // namespace

TEST(NvmeTlsScenario, BothOffloadsDoAllTheWorkOnACleanWire) {
  const ScenarioConfig c = nvme_tls(OffloadMode::kOn, "randrw", 64 * 1024, 8, 16u << 20);
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  // TLS: every application record both ways encrypted and decrypted by the NICs.
  EXPECT_GT(ctr(r.client, "tx_tls_encrypted_bytes"), 0u) << replay(c);
  EXPECT_GT(ctr(r.server, "tx_tls_encrypted_bytes"), 0u) << replay(c);
  EXPECT_GT(ctr(r.client, "rx_tls_decrypted_bytes"), 0u) << replay(c);
  EXPECT_GT(ctr(r.server, "rx_tls_decrypted_bytes"), 0u) << replay(c);
  EXPECT_EQ(ctr(r.client, "rx_tls_msgs_partial") + ctr(r.server, "rx_tls_msgs_partial"), 0u) << replay(c);
  // NVMe inside: digests computed by the NICs on the plaintext, checked on decrypted records.
  EXPECT_GT(ctr(r.client, "tx_nvme_tcp_crc_bytes"), 0u) << replay(c);
  EXPECT_GT(ctr(r.server, "tx_nvme_tcp_crc_bytes"), 0u) << replay(c);
  EXPECT_GT(ctr(r.client, "rx_nvme_tcp_crc_ok_packets"), 0u) << replay(c);
  EXPECT_GT(ctr(r.server, "rx_nvme_tcp_crc_ok_packets"), 0u) << replay(c);
  // On the I/O queue no data PDU needs a software CRC on either side (the admin queue's
  // Identify data, 8 KiB, is not offloaded).
  EXPECT_LE(ctr(r.client, "nvme_sw_crc_bytes"), 8192u) << replay(c);
  EXPECT_LE(ctr(r.server, "nvme_sw_crc_bytes"), 2048u) << replay(c);
  EXPECT_LE(ctr(r.client, "tx_nvme_sw_crc_bytes"), 1024u) << "only the admin queue's Connect data " << replay(c);
  EXPECT_EQ(ctr(r.server, "tx_nvme_sw_crc_bytes"), 0u) << replay(c);
  // ... and the copy offload composes too: the NIC decrypts C2HData payload straight into the
  // read buffers, the TLS layer hands those very addresses up, the queue's copy is skipped.
  const uint64_t skipped = ctr(r.client, "nvme_ddp_skip_bytes"), copied = ctr(r.client, "nvme_sw_copy_bytes");
  EXPECT_GT(skipped, 0u) << replay(c);
  EXPECT_GE(double(skipped), 0.99 * double(skipped + copied)) << replay(c);
  EXPECT_LE(copied, 8192u) << "only the admin queue's Identify data " << replay(c);
  EXPECT_GE(ctr(r.client, "rx_nvme_tcp_ddp_bytes"), skipped) << replay(c);
}

TEST(NvmeTlsScenario, SoftwareAndOffloadGiveIdenticalWireBytes) {
  // Ciphertext and digests are the same wherever they are computed: any slip in the composed
  // TX recovery (TLS record prefix + NVMe PDU prefix) would change the wire or fail the run.
  uint64_t hash = 0;
  for (OffloadMode m : {OffloadMode::kOff, OffloadMode::kTx, OffloadMode::kRx, OffloadMode::kTls, OffloadMode::kOn}) {
    ScenarioConfig c = nvme_tls(m, "randrw", 32 * 1024, 8, 4u << 20);
    c.link.loss = 0.02;
    c.link.reorder = 0.02;
    const Report r = run_isolated(c);
    ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
    if (m == OffloadMode::kOff) hash = r.trace_hash;
    EXPECT_EQ(r.trace_hash, hash) << replay(c);
    if (m == OffloadMode::kTls) {  // TLS in the NIC, NVMe digests in software
      EXPECT_GT(ctr(r.client, "rx_tls_decrypted_bytes"), 0u) << replay(c);
      EXPECT_EQ(ctr(r.client, "tx_nvme_tcp_crc_bytes") + ctr(r.server, "tx_nvme_tcp_crc_bytes"), 0u) << replay(c);
      EXPECT_EQ(ctr(r.client, "rx_nvme_tcp_crc_ok_packets"), 0u) << replay(c);
    }
    if (m == OffloadMode::kOn) {
      EXPECT_GT(ctr(r.client, "tx_tls_ooo"), 0u) << replay(c);
      EXPECT_GT(ctr(r.client, "tx_nvme_tcp_ooo"), 0u) << "inner recoveries ride on TLS ones " << replay(c);
    }
  }
}

TEST(NvmeTlsScenario, EachLayerResyncsOnItsOwn) {
  for (const char* rw : {"randread", "randwrite"}) {
    ScenarioConfig c = nvme_tls(OffloadMode::kOn, rw, 16 * 1024, 8, 8u << 20);
    c.link.loss = 0.02;
    c.link.reorder = 0.02;
    const Report r = run_isolated(c);
    ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
    const CounterMap& rx = std::string(rw) == "randread" ? r.client : r.server;
    EXPECT_GT(ctr(rx, "rx_tls_resync_res_ok") + ctr(rx, "rx_tls_resync_jump"), 0u) << replay(c);
    // The inner engine lost its place whenever TLS skipped records, and found it again in
    // payload coordinates: by its own hardware jump or by asking the NVMe L5P.
    EXPECT_GT(ctr(rx, "rx_nvme_tcp_resync"), 0u) << replay(c);
    EXPECT_GT(ctr(rx, "rx_nvme_tcp_resync_res_ok"), 0u) << replay(c);
    EXPECT_EQ(ctr(rx, "rx_nvme_tcp_resync_res_fail"), 0u) << replay(c);
    // ... and PDUs after the losses were again checked by the NIC alone.
    EXPECT_GT(ctr(rx, "rx_nvme_tcp_msgs_full"), 0u) << replay(c);
  }
}

TEST(NvmeTlsScenario, TamperNeverDeliversWrongData) {
  for (OffloadMode m : {OffloadMode::kOff, OffloadMode::kOn}) {
    ScenarioConfig c = nvme_tls(m, "randrw", 4096, 16, 8u << 20);
    c.link.tamper = 0.001;
    const Report r = run_isolated(c);
    EXPECT_NE(r.outcome, "ok") << replay(c);
    EXPECT_EQ(r.delivered_wrong_bytes, 0u) << replay(c);
  }
}

TEST(NvmeTlsScenario, InteropWithAnOpenSslRecordLayer) {
  // The controller's TLS is OpenSSL's own record layer (its record sizes, no offload); the host
  // still decrypts, checks digests and places data in its NIC, recovering from 1% loss.
  ScenarioConfig c = nvme_tls(OffloadMode::kOn, "randrw", 64 * 1024, 8, 8u << 20);
  c.openssl_peer = true;
  c.link.loss = 0.01;
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  EXPECT_EQ(ctr(r.server, "tx_tls_encrypted_bytes"), 0u) << replay(c);
  EXPECT_GT(ctr(r.client, "rx_tls_decrypted_bytes"), 0u) << replay(c);
  EXPECT_GT(ctr(r.client, "tx_tls_encrypted_bytes"), 0u) << replay(c);
  EXPECT_GT(ctr(r.client, "rx_nvme_tcp_crc_ok_packets"), 0u) << replay(c);
  EXPECT_GT(ctr(r.client, "nvme_ddp_skip_bytes"), 0u) << replay(c);
  EXPECT_GT(ctr(r.client, "tx_nvme_tcp_crc_bytes"), 0u) << replay(c);
}

TEST(NvmeTlsScenario, APaddingPeerTakesTheInnerOffloadAway) {
  // The controller's OpenSSL pads every record to a multiple of 256 bytes (RFC 8446 §5.4). The
  // NIC counts padding as payload, so inner positions stop matching the NVMe queue's: the NIC's
  // inner engine stops at the first padded record and the queue never (re)creates its inner RX
  // context. Reads still verify -- digests and copies in software -- and TLS stays offloaded.
  ScenarioConfig c = nvme_tls(OffloadMode::kOn, "randread", 64 * 1024, 8, 8u << 20);
  c.openssl_peer = true;
  c.tls_peer_pad = 256;
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c) << " (+ tls_peer_pad 256)";
  EXPECT_GT(ctr(r.client, "rx_tls_decrypted_bytes"), 0u);
  EXPECT_EQ(ctr(r.client, "rx_nvme_tcp_crc_ok_packets"), 0u);
  EXPECT_EQ(ctr(r.client, "nvme_ddp_skip_bytes"), 0u);
  const uint64_t copied = ctr(r.client, "nvme_sw_copy_bytes");
  EXPECT_GE(copied, c.bytes);
  EXPECT_GE(ctr(r.client, "nvme_sw_crc_bytes"), c.bytes);
}

TEST(NvmeTlsScenario, PaddingMidStreamStopsTheInnerEngineInTheNicAndTheQueue) {
  // Padding starts after 2 MiB: up to there the NIC checks digests and places data; at the first
  // padded record the NIC's inner engine stops (rx_nvme_tcp_err) and the NVMe queue destroys its
  // inner context (rx_nvme_tcp_sk_del before teardown). Nothing is misplaced: verified.
  ScenarioConfig c = nvme_tls(OffloadMode::kOn, "randread", 64 * 1024, 8, 8u << 20);
  c.openssl_peer = true;
  c.tls_peer_pad = 256;
  c.tls_peer_pad_after = 2u << 20;
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c) << " (+ tls_peer_pad 256 after 2M)";
  EXPECT_GT(ctr(r.client, "rx_nvme_tcp_crc_ok_packets"), 0u);
  EXPECT_GT(ctr(r.client, "nvme_ddp_skip_bytes"), 0u);
  EXPECT_LT(ctr(r.client, "nvme_ddp_skip_bytes"), c.bytes / 2);
  EXPECT_GE(ctr(r.client, "rx_nvme_tcp_err"), 1u) << "the NIC's inner engine saw the padding";
  EXPECT_EQ(ctr(r.client, "rx_nvme_tcp_sk_del"), 1u) << "the queue dropped its inner context";
}

TEST(NvmeTlsScenario, DdpAndCrcOnlyModesAreRefused) {
  for (OffloadMode m : {OffloadMode::kCrc, OffloadMode::kDdp}) {
    ScenarioConfig c = nvme_tls(m, "randread", 4096, 1, 1u << 20);
    EXPECT_THROW(run_isolated(c), std::runtime_error);
  }
}

// The fault matrix for NVMe over TLS is instantiated with NVMe/TCP's in nvme_test.cc.

// ---- the TLS record layer's side of the composition ----
namespace {
using namespace autonic::l5p::tls;

TrafficKeys test_keys() {
  TrafficKeys k;
  k.cipher = Cipher::kAes128Gcm;
  k.key.assign(16, 0x11);
  k.iv.fill(0x22);
  return k;
}

// A record as the NIC hands it up when it decrypted it: header | content | type | padding | tag.
Bytes decrypted_record(ByteSpan content, size_t padding) {
  const uint16_t len = uint16_t(content.size() + 1 + padding + kTagLen);
  Bytes r(kHeaderLen + len, 0);
  r[0] = 23;
  r[1] = r[2] = 3;
  store_be16(&r[3], len);
  std::copy(content.begin(), content.end(), r.begin() + kHeaderLen);
  r[kHeaderLen + content.size()] = 23;  // inner content type: application data
  return r;
}

struct Got {
  Bytes bytes;
  std::vector<std::pair<size_t, bool>> runs;  // (length, inner mark)
};
}  // namespace

TEST(TlsRxInnerMarks, CarriedPerPacketOnlyForRecordsTheNicDecryptedWhole) {
  TlsStats st;
  Got g;
  TlsRx rx(test_keys(), st, [&](ByteSpan d, bool m) {
    g.bytes.insert(g.bytes.end(), d.begin(), d.end());
    g.runs.emplace_back(d.size(), m);
  }, [](TcpSeq, bool, uint64_t, TcpSeq) {});
  rx.start(TcpSeq(1000));
  const Bytes content(100, 0xAB);
  const Bytes rec = decrypted_record(content, 0);
  // Two "packets": the first decrypted with crc_ok, the second decrypted without it.
  ASSERT_FALSE(rx.input(ByteSpan(rec).first(45), true, true));
  ASSERT_FALSE(rx.input(ByteSpan(rec).subspan(45), true, false));
  ASSERT_EQ(g.bytes, content);
  ASSERT_EQ(g.runs.size(), 2u);
  EXPECT_EQ(g.runs[0], std::make_pair(size_t(40), true));  // content bytes of packet 1
  EXPECT_EQ(g.runs[1], std::make_pair(size_t(60), false));
  EXPECT_EQ(rx.payload_pos(), TcpSeq(100));
}

TEST(TlsRxInnerMarks, APaddedRecordEndsTrustInInnerMarks) {
  // The NIC counts each record's content as its length minus type and tag; padding breaks
  // that correspondence, so inner marks can no longer be matched to our bytes.
  TlsStats st;
  Got g;
  TlsRx rx(test_keys(), st, [&](ByteSpan d, bool m) { g.runs.emplace_back(d.size(), m); },
           [](TcpSeq, bool, uint64_t, TcpSeq) {});
  rx.start(TcpSeq(0));
  const Bytes content(64, 0x5C);
  ASSERT_FALSE(rx.input(decrypted_record(content, 0), true, true));
  ASSERT_FALSE(rx.input(decrypted_record(content, 7), true, true));
  ASSERT_FALSE(rx.input(decrypted_record(content, 0), true, true));
  ASSERT_EQ(g.runs.size(), 3u);
  EXPECT_TRUE(g.runs[0].second);
  EXPECT_FALSE(g.runs[1].second);
  EXPECT_FALSE(g.runs[2].second);
  EXPECT_EQ(rx.payload_pos(), TcpSeq(64 + 71 + 64));  // the NIC's count includes the padding
  EXPECT_FALSE(rx.inner_trusted());
}

TEST(TlsRxPlaced, AFullRecordHandsUpThePlacedAddressesItself) {
  // Composed DDP: the NIC decrypted content bytes [20, 70) straight into the reader's buffer.
  TlsStats st;
  std::vector<ByteSpan> spans;
  Bytes out;
  TlsRx rx(test_keys(), st, [&](ByteSpan d, bool) {
    spans.push_back(d);
    out.insert(out.end(), d.begin(), d.end());
  }, [](TcpSeq, bool, uint64_t, TcpSeq) {});
  rx.start(TcpSeq(0));
  Bytes content(100);
  for (size_t i = 0; i < content.size(); ++i) content[i] = uint8_t(i * 7);
  const Bytes rec = decrypted_record(content, 0);
  Bytes dest(content.begin() + 20, content.begin() + 70);  // where the NIC placed them
  ASSERT_FALSE(rx.input(ByteSpan(rec).first(kHeaderLen + 20), true, true));
  ASSERT_FALSE(rx.input(dest, true, true, /*placed=*/true));
  ASSERT_FALSE(rx.input(ByteSpan(rec).subspan(kHeaderLen + 70), true, true));
  EXPECT_EQ(out, content);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[1].data(), dest.data()) << "the placed bytes must not be copied";
  EXPECT_EQ(spans[1].size(), 50u);
}

TEST(TlsRxPlaced, APaddedRecordWhoseTypeByteWasPlaced) {
  // Found by fuzz_tls_rx: the NIC's inner engine takes a padded record's type byte and padding
  // for payload and may place them; the type must be found there, not in the record copy (whose
  // placed ranges were never filled), or the record fails or is cut at the wrong byte.
  TlsStats st;
  Bytes out;
  TlsRx rx(test_keys(), st, [&](ByteSpan d, bool) { out.insert(out.end(), d.begin(), d.end()); },
           [](TcpSeq, bool, uint64_t, TcpSeq) {});
  rx.start(TcpSeq(0));
  Bytes content(100);
  for (size_t i = 0; i < content.size(); ++i) content[i] = uint8_t(i * 7 + 1);
  const Bytes rec = decrypted_record(content, 7);  // content || 23 || 7 zeros || tag
  // Inner bytes [90, 104): content tail, the type byte (100) and three zeros, placed.
  Bytes dest(rec.begin() + kHeaderLen + 90, rec.begin() + kHeaderLen + 104);
  ASSERT_FALSE(rx.input(ByteSpan(rec).first(kHeaderLen + 90), true, true));
  ASSERT_FALSE(rx.input(dest, true, true, /*placed=*/true));
  ASSERT_FALSE(rx.input(ByteSpan(rec).subspan(kHeaderLen + 104), true, true));
  EXPECT_EQ(out, content);
  EXPECT_FALSE(rx.inner_trusted());
}

// A padded record a peer cut into 1-byte packets, every third byte placed -- padding and type too:
// the type byte is found behind the padding and the content handed up right, with the placed
// ranges looked up by a cursor and a binary search (a scan of every placed range per padding
// byte, and per delivered range, was quadratic in the record before).
TEST(TlsRxPlaced, APaddedRecordInOneBytePiecesEveryThirdPlaced) {
  TlsStats st;
  Bytes out;
  TlsRx rx(test_keys(), st, [&](ByteSpan d, bool) { out.insert(out.end(), d.begin(), d.end()); },
           [](TcpSeq, bool, uint64_t, TcpSeq) {});
  rx.start(TcpSeq(0));
  for (const size_t pad : {0u, 1u, 40u})
  for (const size_t phase : {0u, 1u, 2u}) {  // (one of them places the type byte)
    Bytes content(300);
    for (size_t i = 0; i < content.size(); ++i) content[i] = uint8_t(i % 5 ? i * 11 + 1 : 0);
    const Bytes rec = decrypted_record(content, pad);  // content || 23 || pad zeros || tag
    std::deque<Bytes> dests;  // where the NIC placed each placed byte (stable addresses)
    out.clear();
    for (size_t i = 0; i < rec.size(); ++i) {
      const ByteSpan piece = ByteSpan(rec).subspan(i, 1);
      if (i >= kHeaderLen && i + kTagLen < rec.size() && i % 3 == phase) {
        dests.emplace_back(piece.begin(), piece.end());
        ASSERT_FALSE(rx.input(dests.back(), true, true, /*placed=*/true)) << "pad " << pad << " byte " << i;
      } else {
        ASSERT_FALSE(rx.input(piece, true, true)) << "pad " << pad << " byte " << i;
      }
    }
    EXPECT_EQ(out, content) << "pad " << pad << " phase " << phase;
  }
}

TEST(TlsRxPlaced, APartlyDecryptedRecordFallsBackToSoftwareWithThePlacedBytes) {
  // The NIC decrypted (and placed) the middle packet but not the last one: software needs the
  // whole ciphertext, so the placed plaintext is copied back and re-encrypted before the check.
  RecordCrypto sw(test_keys());
  TlsStats st;
  Bytes out;
  TlsRx rx(test_keys(), st, [&](ByteSpan d, bool m) {
    EXPECT_FALSE(m);
    out.insert(out.end(), d.begin(), d.end());
  }, [](TcpSeq, bool, uint64_t, TcpSeq) {});
  rx.start(TcpSeq(0));
  Bytes content(100);
  for (size_t i = 0; i < content.size(); ++i) content[i] = uint8_t(i * 13 + 1);
  // The record as it is on the wire (ciphertext).
  const uint16_t len = uint16_t(content.size() + 1 + kTagLen);
  Bytes hdr = {23, 3, 3, uint8_t(len >> 8), uint8_t(len)};
  Bytes inner = content;
  inner.push_back(23);
  Bytes wire(kHeaderLen + len);
  std::copy(hdr.begin(), hdr.end(), wire.begin());
  sw.seal(0, hdr, inner, wire.data() + kHeaderLen);
  Bytes placed(content.begin() + 20, content.begin() + 70);  // decrypted by the NIC, placed
  ASSERT_FALSE(rx.input(ByteSpan(wire).first(kHeaderLen + 20), false));
  ASSERT_FALSE(rx.input(placed, true, true, /*placed=*/true));
  ASSERT_FALSE(rx.input(ByteSpan(wire).subspan(kHeaderLen + 70), false));
  EXPECT_EQ(out, content);
  EXPECT_EQ(st.rx_tls_msgs_partial, 1u);
  EXPECT_EQ(st.rx_tls_reencrypted_bytes, 50u);
}
