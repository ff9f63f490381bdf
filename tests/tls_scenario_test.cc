// TLS end to end over lwIP with the NIC offloads (issue #3 acceptance, smaller sizes), each run
// in its own process. Failures print the replay command.
#include <gtest/gtest.h>

#include <sstream>

#include "test_util.h"
#include "testbed/testbed.h"

using namespace autonic;
using namespace autonic::testbed;
using autonic::testing::ctr;

namespace {

ScenarioConfig tls(OffloadMode m, uint64_t bytes, uint64_t seed) {
  ScenarioConfig c;
  c.l5p = L5pKind::kTls;
  c.offload = m;
  c.bytes = bytes;
  c.seed = seed;
  return c;
}

std::string replay(const ScenarioConfig& c) {
  std::ostringstream o;
  o << "replay: build/autonic run --l5p tls --offload " << offload_name(c.offload) << " --bytes " << c.bytes
    << " --cipher " << c.cipher << " --record-size " << c.record_size << " --loss " << c.link.loss << " --reorder "
    << c.link.reorder << " --dup " << c.link.dup << " --tamper " << c.link.tamper << " --seed " << c.seed
    << (c.bidirectional ? " --bidir" : "") << (c.openssl_peer ? " --openssl-peer" : "")
    << (c.record_align ? "" : " --record-align none") << (c.tso ? " --tso on" : "") << (c.gro ? " --gro on" : "");
  return o.str();
}


double full_fraction(const Report& r) {
  const double all = double(ctr(r.server, "rx_tls_msgs_full") + ctr(r.server, "rx_tls_msgs_partial") +
                            ctr(r.server, "rx_tls_msgs_none"));
  return all > 0 ? double(ctr(r.server, "rx_tls_msgs_full")) / all : 0;
}

}  // namespace

TEST(TlsScenario, InOrderAlmostEveryRecordOffloaded) {
  const ScenarioConfig c = tls(OffloadMode::kOn, 16u << 20, 1);
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  EXPECT_GE(full_fraction(r), 0.99) << replay(c);
  EXPECT_GE(double(ctr(r.client, "tx_tls_encrypted_bytes")), 0.99 * double(c.bytes)) << replay(c);
  EXPECT_EQ(ctr(r.client, "tx_tls_sw_encrypted_bytes"), 0u);
}

TEST(TlsScenario, SoftwareAndEveryOffloadModeGiveIdenticalWireBytes) {
  uint64_t hash = 0;
  for (OffloadMode m : {OffloadMode::kOff, OffloadMode::kTx, OffloadMode::kRx, OffloadMode::kOn, OffloadMode::kZc}) {
    ScenarioConfig c = tls(m, 4u << 20, 5);
    c.link.loss = 0.01;
    c.link.reorder = 0.01;
    c.link.dup = 0.01;
    const Report r = run_isolated(c);
    ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
    if (m == OffloadMode::kOff) hash = r.trace_hash;
    EXPECT_EQ(r.trace_hash, hash) << replay(c);
    if (m == OffloadMode::kZc) {
      EXPECT_GT(ctr(r.client, "tx_tls_zc_bytes"), 0u);
    }
    EXPECT_EQ(ctr(r.client, "tx_tls_zc_modified"), 0u) << "a lent buffer changed before it was acknowledged";
  }
}

TEST(TlsScenario, FivePercentLossHalfTheRecordsStillFull) {
  ScenarioConfig c = tls(OffloadMode::kOn, 32u << 20, 1);
  c.link.loss = 0.05;
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  EXPECT_GE(full_fraction(r), 0.50) << replay(c);
  EXPECT_GT(ctr(r.server, "rx_tls_resync_res_ok"), 0u) << replay(c);
  EXPECT_GT(ctr(r.client, "tx_tls_ooo"), 0u);
  EXPECT_GT(ctr(r.client, "tx_tls_dump_bytes"), 0u);
}

TEST(TlsScenario, TwoPercentReorder) {
  ScenarioConfig c = tls(OffloadMode::kOn, 32u << 20, 1);
  c.link.reorder = 0.02;
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  EXPECT_GE(full_fraction(r), 0.24) << replay(c);
  EXPECT_GT(ctr(r.server, "rx_tls_resync_req_start") + ctr(r.server, "rx_tls_resync_jump"), 0u);
}

TEST(TlsScenario, OpensslPeerInteropBothWaysUnderLoss) {
  // The server is plain OpenSSL (its own record layer, SSL_read/SSL_write over memory BIOs on
  // an lwIP connection); the autonic client's NIC offloads both TX and RX.
  ScenarioConfig c = tls(OffloadMode::kOn, 4u << 20, 9);
  c.openssl_peer = true;
  c.bidirectional = true;
  c.link.loss = 0.01;
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  EXPECT_EQ(r.bytes_delivered, 2 * c.bytes);
  EXPECT_EQ(r.bytes, 2 * c.bytes) << "the target covers both directions, like bytes_delivered";
  EXPECT_EQ(r.directions, 2u);
  EXPECT_GT(ctr(r.client, "tx_tls_encrypted_bytes"), 0u) << replay(c);
  EXPECT_GT(ctr(r.client, "rx_tls_msgs_full"), 0u) << replay(c);
  EXPECT_GT(ctr(r.client, "rx_tls_decrypted_bytes"), 0u);
}

TEST(TlsScenario, TamperEndsInBadRecordMacNeverDelivered) {
  for (OffloadMode m : {OffloadMode::kOff, OffloadMode::kRx, OffloadMode::kOn, OffloadMode::kZc}) {
    ScenarioConfig c = tls(m, 8u << 20, 2);
    c.link.tamper = 0.001;
    const Report r = run_isolated(c);
    EXPECT_EQ(r.outcome, "alert:bad_record_mac") << replay(c);
    EXPECT_EQ(r.delivered_wrong_bytes, 0u) << replay(c);
    EXPECT_GT(ctr(r.server, "tls_decrypt_error"), 0u);
  }
}

TEST(TlsScenario, CiphersAndRecordSizes) {
  for (const char* ci : {"aes128gcm", "aes256gcm", "chacha20poly1305"})
    for (uint32_t rs : {2048u, 16384u}) {
      ScenarioConfig c = tls(OffloadMode::kOn, 2u << 20, 4);
      c.cipher = ci;
      c.record_size = rs;
      c.link.loss = 0.01;
      const Report r = run_isolated(c);
      ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
      EXPECT_GT(ctr(r.server, "rx_tls_msgs_full"), 0u) << replay(c);
      EXPECT_EQ(ctr(r.client, "tx_tls_sw_encrypted_bytes"), 0u) << replay(c);  // every cipher offloaded
    }
}

class TlsFaultMatrix : public ::testing::TestWithParam<std::tuple<OffloadMode, double, double>> {};

TEST_P(TlsFaultMatrix, ByteExactAndDeterministic) {
  auto [mode, loss, reorder] = GetParam();
  ScenarioConfig c = tls(mode, 2u << 20, 31);
  c.record_size = 4096;
  c.link.loss = loss;
  c.link.reorder = reorder;
  c.link.dup = 0.01;
  autonic::testing::run_exact_twice(c, replay(c));
}

INSTANTIATE_TEST_SUITE_P(Tls, TlsFaultMatrix,
                         ::testing::Combine(::testing::Values(OffloadMode::kOff, OffloadMode::kTx, OffloadMode::kRx,
                                                              OffloadMode::kOn, OffloadMode::kZc),
                                            ::testing::Values(0.0, 0.02, 0.05), ::testing::Values(0.0, 0.05)));

// The same with TSO and GRO on (issue #12): super-segments cut by the NIC mid-record, batches
// merged only where marks agree -- still byte-exact and deterministic, unaligned records too.
class TlsGroTsoMatrix : public ::testing::TestWithParam<std::tuple<OffloadMode, double, double, bool>> {};

TEST_P(TlsGroTsoMatrix, ByteExactAndDeterministic) {
  auto [mode, loss, reorder, align] = GetParam();
  ScenarioConfig c = tls(mode, 2u << 20, 32);
  c.record_size = 4096;
  c.record_align = align;
  c.tso = c.gro = true;
  c.link.loss = loss;
  c.link.reorder = reorder;
  c.link.dup = 0.01;
  const Report a = autonic::testing::run_exact_twice(c, replay(c));
  EXPECT_GT(ctr(a.client, "nic_tx_tso_packets"), 0u) << replay(c);
  EXPECT_GT(ctr(a.server, "drv_rx_gro_skbs"), 0u) << replay(c);
}

INSTANTIATE_TEST_SUITE_P(Tls, TlsGroTsoMatrix,
                         ::testing::Combine(::testing::Values(OffloadMode::kOff, OffloadMode::kOn, OffloadMode::kZc),
                                            ::testing::Values(0.0, 0.05), ::testing::Values(0.0, 0.05),
                                            ::testing::Bool()));

// The offload's sender ends its bursts where plain TCP's does (TcpConn::push at the end of each
// pump, as tcp_sendmsg pushes before it waits for room): the receiver's GRO then builds as many
// super-segments from the same transfer -- one lwIP pass each -- as plain TCP's. Without the
// push, the TLS sender's TSO segments carried no PSH while the L5P had bytes queued, and GRO ran
// each one into the next and cut them at interrupt-batch ends instead: 806 super-segments
// against plain TCP's 640 here at 2 KiB records (issue #12).
TEST(TlsGro, OffloadBurstsEndWherePlainTcpsDo) {
  for (uint32_t rs : {2048u, 16384u}) {
    ScenarioConfig t = tls(OffloadMode::kOff, 32u << 20, 1), o = tls(OffloadMode::kOn, 32u << 20, 1);
    t.l5p = L5pKind::kTcp;
    for (ScenarioConfig* c : {&t, &o}) {
      c->msg_size = 256 * 1024;
      c->record_size = rs;
      c->record_align = false;
      c->tso = c->gro = true;
    }
    const Report rt = run_isolated(t), ro = run_isolated(o);
    const std::string again = "replay: build/autonic run --l5p tcp|tls --offload off|on --bytes 32M --msg-size 256K "
                              "--record-size " + std::to_string(rs) + " --record-align none --tso on --gro on --seed 1";
    ASSERT_EQ(rt.outcome, "ok") << again;
    ASSERT_EQ(ro.outcome, "ok") << again;
    const double skbs_t = double(ctr(rt.server, "drv_rx_gro_skbs")), skbs_o = double(ctr(ro.server, "drv_rx_gro_skbs"));
    const double tso_o = double(ctr(ro.client, "nic_tx_tso_packets"));
    ASSERT_GT(skbs_t, 0) << again;
    // The offload's wire carries ~1 % more bytes at 2 KiB (headers and tags): allow 2 %.
    EXPECT_LT(skbs_o, 1.02 * skbs_t) << "offload " << skbs_o << " GRO super-segments, plain TCP " << skbs_t << "\n"
                                      << again;
    EXPECT_LT(skbs_o, 1.02 * tso_o) << "GRO cut the sender's " << tso_o << " TSO segments into " << skbs_o << "\n"
                                     << again;
  }
}

// A peer that, once the handshake is done, sends garbage, an oversized record or a record cut
// short by FIN: the autonic endpoint (offload on) ends with the right alert and tears down
// cleanly, delivering nothing wrong.
namespace {
Report misbehaving_peer(Bytes raw, bool fin) {
  ScenarioConfig c = tls(OffloadMode::kOn, 1u << 20, 3);
  c.openssl_peer = true;  // the server's OpenSSL handles the handshake; then it misbehaves
  c.bidirectional = true;
  c.tls_peer_raw = std::move(raw);
  c.tls_peer_fin = fin;
  c.stall_s = 2;
  return run_isolated(c);
}
}  // namespace

TEST(TlsPeer, GarbageIsDecodeError) {
  const Report r = misbehaving_peer(Bytes(300, 0x42), false);
  EXPECT_EQ(r.outcome, "alert:decode_error");
  EXPECT_EQ(r.delivered_wrong_bytes, 0u);
}

TEST(TlsPeer, OversizedRecordIsRecordOverflow) {
  Bytes rec = {23, 3, 3, 0x48, 0x00};  // 18432 > 2^14 + 256
  rec.resize(rec.size() + 18432, 0x11);
  const Report r = misbehaving_peer(rec, false);
  EXPECT_EQ(r.outcome, "alert:record_overflow");
  EXPECT_EQ(r.delivered_wrong_bytes, 0u);
}

TEST(TlsPeer, TruncatedRecordThenFin) {
  Bytes rec = {23, 3, 3, 0x01, 0x00};  // 256 bytes announced, 40 sent, then FIN
  rec.resize(rec.size() + 40, 0x11);
  const Report r = misbehaving_peer(rec, true);
  EXPECT_EQ(r.outcome, "tls:truncated_record");
  EXPECT_EQ(r.delivered_wrong_bytes, 0u);
}

TEST(TlsPeer, ForgedRecordIsBadRecordMac) {
  Bytes rec = {23, 3, 3, 0x00, 0x40};  // well-formed header, 64 bytes that are not AEAD output
  rec.resize(rec.size() + 64, 0x77);
  const Report r = misbehaving_peer(rec, false);
  EXPECT_EQ(r.outcome, "alert:bad_record_mac");
  EXPECT_EQ(r.delivered_wrong_bytes, 0u);
}

// bench tls / tcp count the data phase: each host's stack cycles from its first data on. The
// set-up before it is reported apart; the two add up to the whole run's, and a TLS handshake
// (key exchange, certificate signature) is far dearer than TCP's connect.
TEST(TlsScenario, DataPhaseCyclesLeaveTheHandshakeOut) {
  ScenarioConfig t = tls(OffloadMode::kOn, 4u << 20, 1), p = t;
  p.l5p = L5pKind::kTcp;
  p.offload = OffloadMode::kOff;
  const Report rt = run_isolated(t), rp = run_isolated(p);
  for (const Report* r : {&rt, &rp}) {
    ASSERT_TRUE(r->verified) << r->outcome << " " << replay(t);
    for (const char* side : {"client", "server"}) {
      const std::string s(side);
      ASSERT_TRUE(r->extra.count("data_stack_cpb_" + s) && r->extra.count("setup_stack_kcycles_" + s)) << s;
      const double b = double(r->bytes_delivered), data = r->extra.at("data_stack_cpb_" + s) * b,
                   setup = r->extra.at("setup_stack_kcycles_" + s) * 1e3;
      const double whole = (s == "client" ? r->stack_cpb_client() : r->stack_cpb_server()) * b;
      EXPECT_GT(setup, 0) << s;
      EXPECT_NEAR(data + setup, whole, whole * 1e-6) << s;
    }
  }
  EXPECT_GT(rt.extra.at("setup_stack_kcycles_server"), 2 * rp.extra.at("setup_stack_kcycles_server")) << replay(t);
  EXPECT_GT(rt.extra.at("setup_stack_kcycles_client"), 2 * rp.extra.at("setup_stack_kcycles_client")) << replay(t);
}
