// TLS against real peers (issue #10): post-handshake messages (RFC 8446 §4.6) through our
// record layer -- NewSessionTickets consumed, KeyUpdate checked, hostile framing fatal --
// and the handshake's real-peer options (PEM credentials, CA / no verification, SNI, tickets).
// Deterministic; scenario failures print the command and knobs that replay them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "common/rng.h"
#include "l5p/tls/tls_ctrl.h"
#include "l5p/tls/tls_rx.h"
#include "l5p/tls/tls_sw.h"
#include "nvme_fixture.h"
#include "test_util.h"
#include "tls_fixture.h"
#include "testbed/testbed.h"

using namespace autonic;
using namespace autonic::l5p::tls;
using autonic::testing::ctr;
using autonic::testbed::ScenarioConfig;
using autonic::testbed::Report;
using autonic::testbed::OffloadMode;
using autonic::testbed::L5pKind;

namespace {

TrafficKeys keys() {
  TrafficKeys k;
  k.key.resize(key_len(k.cipher));
  Rng r(10, 1);
  for (auto& b : k.key) b = uint8_t(r.next());
  for (auto& b : k.iv) b = uint8_t(r.next());
  return k;
}

// One sealed TLS 1.3 record of inner type `type`.
const auto record = &autonic::testing::tls13_record;

Bytes hs_msg(uint8_t type, const Bytes& body) {
  Bytes m(4 + body.size());
  m[0] = type;
  m[1] = uint8_t(body.size() >> 16);
  m[2] = uint8_t(body.size() >> 8);
  m[3] = uint8_t(body.size());
  std::copy(body.begin(), body.end(), m.begin() + 4);
  return m;
}

// NewSessionTicket (§4.6.1) shaped like OpenSSL's: lifetime, age_add, 8-byte nonce, ticket, no
// extensions.
Bytes ticket(size_t ticket_len = 180) {
  Bytes b = {0, 0, 0x1c, 0x20, 1, 2, 3, 4, 8};
  for (int i = 0; i < 8; ++i) b.push_back(uint8_t(i));
  b.push_back(uint8_t(ticket_len >> 8));
  b.push_back(uint8_t(ticket_len));
  b.resize(b.size() + ticket_len, 0xAB);
  b.push_back(0);
  b.push_back(0);
  return hs_msg(4, b);
}

struct Rx {
  explicit Rx(bool from_server = true)
      : rx(keys(), st, [this](ByteSpan d, bool) { got.insert(got.end(), d.begin(), d.end()); },
           [](TcpSeq, bool, uint64_t, TcpSeq) {}, from_server) {
    rx.start(TcpSeq(0));
  }
  // Seals each content as its own record, in order, and feeds them all.
  std::optional<RxFailure> feed(const std::vector<std::pair<uint8_t, Bytes>>& recs) {
    Bytes wire;
    for (const auto& [type, content] : recs) {
      const Bytes r = record(sw, seq++, content, type);
      wire.insert(wire.end(), r.begin(), r.end());
    }
    return rx.input(wire, false);
  }
  TlsStats st;
  Bytes got;
  RecordCrypto sw{keys()};
  uint64_t seq = 0;
  TlsRx rx;
};

const Bytes kData(100, 0x5C);
constexpr uint8_t kHs = 22, kAlert = 21, kApp = 23;

}  // namespace

TEST(TlsPostHandshake, TwoTicketsInOneRecordThenData) {
  Rx h;
  Bytes two = ticket();
  const Bytes t2 = ticket(200);
  two.insert(two.end(), t2.begin(), t2.end());
  ASSERT_FALSE(h.feed({{kHs, two}, {kApp, kData}}));
  EXPECT_EQ(h.got, kData);
  EXPECT_EQ(h.st.rx_tls_post_handshake, 2u);
  // Before any application data: the ticket record is left out of the payload stream, inner
  // marks stay trusted, and the NIC context is to be rebuilt from the next record (seq 1) on --
  // the data record (seq 1) decrypted above with the moved sequence base.
  EXPECT_TRUE(h.rx.inner_trusted());
  EXPECT_EQ(h.rx.payload_pos(), TcpSeq(uint32_t(kData.size())));
  const auto rb = h.rx.take_rebase();
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->seq, 1u);
  EXPECT_EQ(rb->start, TcpSeq(uint32_t(kHeaderLen + two.size() + 1 + kTagLen)));
}

TEST(TlsPostHandshake, TicketSplitOverRecordsAtEveryCut) {
  const Bytes t = ticket(40);
  for (size_t a = 1; a < t.size(); ++a)
    for (size_t b = a + 1; b < t.size(); b += 5) {
      Rx h;
      const Bytes p1(t.begin(), t.begin() + long(a)), p2(t.begin() + long(a), t.begin() + long(b)),
          p3(t.begin() + long(b), t.end());
      auto f = h.feed({{kHs, p1}, {kHs, p2}});
      ASSERT_FALSE(f) << "cut " << a << "," << b << ": " << f->outcome;
      EXPECT_TRUE(h.rx.truncated());
      ASSERT_FALSE(h.feed({{kHs, p3}, {kApp, kData}})) << "cut " << a << "," << b;
      EXPECT_EQ(h.got, kData);
      EXPECT_EQ(h.st.rx_tls_post_handshake, 1u);
      EXPECT_FALSE(h.rx.truncated());
    }
}

TEST(TlsPostHandshake, OversizedLengthIsRefusedBeforeBuffering) {
  Rx h;
  const Bytes hdr = {4, 0x01, 0x00, 0x01};  // 65537 > 64 KiB
  auto f = h.feed({{kHs, hdr}});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->outcome, "alert:decode_error:handshake_message_too_long");
  EXPECT_EQ(f->alert, 50);
}

TEST(TlsPostHandshake, LongMessageWithinTheBoundIsReassembled) {
  Rx h;
  const Bytes t = ticket(60000);  // spans four records
  std::vector<std::pair<uint8_t, Bytes>> recs;
  for (size_t o = 0; o < t.size(); o += kMaxPlaintext)
    recs.push_back({kHs, Bytes(t.begin() + long(o), t.begin() + long(std::min(t.size(), o + kMaxPlaintext)))});
  ASSERT_FALSE(h.feed(recs));
  EXPECT_EQ(h.st.rx_tls_post_handshake, 1u);
}

TEST(TlsPostHandshake, TruncatedMessageThenCloseNotifyOrData) {
  const Bytes t = ticket();
  const Bytes half(t.begin(), t.begin() + 50);
  for (uint8_t next : {kAlert, kApp}) {
    Rx h;
    const Bytes content = next == kAlert ? Bytes{1, 0} : kData;
    auto f = h.feed({{kHs, half}, {next, content}});
    ASSERT_TRUE(f) << int(next);
    EXPECT_EQ(f->outcome, "alert:unexpected_message") << "§5.1: no other record inside a message";
    EXPECT_TRUE(h.got.empty());
  }
  Rx h;  // a FIN now: the session ends as tls:truncated_handshake_message
  ASSERT_FALSE(h.feed({{kHs, half}}));
  EXPECT_FALSE(h.rx.mid_record());
  EXPECT_TRUE(h.rx.truncated());
}

TEST(TlsPostHandshake, KeyUpdateWithoutAKeySourceIsACleanFailure) {
  // (A session always gives TLS 1.3 its key source: tls_key_update_test.cc.)
  for (uint8_t req : {0, 1}) {
    Rx h;
    auto f = h.feed({{kHs, hs_msg(24, {req})}, {kApp, kData}});
    ASSERT_TRUE(f);
    EXPECT_EQ(f->outcome, "tls:key_update_unsupported");
    EXPECT_EQ(f->alert, 80);
    EXPECT_TRUE(h.got.empty()) << "nothing after the KeyUpdate is delivered";
  }
  Rx h;
  auto f = h.feed({{kHs, hs_msg(24, {0, 0})}});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->outcome, "alert:decode_error:bad_key_update");
  Rx g;
  f = g.feed({{kHs, hs_msg(24, {2})}});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->outcome, "alert:illegal_parameter:bad_key_update");
}

TEST(TlsPostHandshake, DisallowedMessagesAreUnexpected) {
  {
    Rx h(/*from_server=*/false);  // our server: a client never sends a ticket
    auto f = h.feed({{kHs, ticket()}});
    ASSERT_TRUE(f);
    EXPECT_EQ(f->outcome, "alert:unexpected_message:new_session_ticket_from_client");
  }
  for (uint8_t t : {1, 2, 8, 11, 13, 15, 20, 99}) {  // ClientHello .. Finished, CertificateRequest, unknown
    Rx h;
    auto f = h.feed({{kHs, hs_msg(t, Bytes(20, 1))}});
    ASSERT_TRUE(f) << int(t);
    EXPECT_EQ(f->outcome, "alert:unexpected_message:post_handshake_message") << int(t);
  }
  Rx h;
  auto f = h.feed({{kHs, {}}});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->outcome, "alert:unexpected_message:empty_handshake_record");
}

TEST(TlsPostHandshake, MalformedTicketIsDecodeError) {
  Bytes t = ticket();
  for (size_t cut : {size_t(4), size_t(12), t.size() - 1}) {
    Bytes body(t.begin() + 4, t.begin() + long(cut));
    Rx h;
    auto f = h.feed({{kHs, hs_msg(4, body)}});
    ASSERT_TRUE(f) << cut;
    EXPECT_EQ(f->outcome, "alert:decode_error:bad_new_session_ticket") << cut;
  }
}

TEST(TlsPostHandshake, TicketAfterDataStopsInnerTrust) {
  Rx h;
  ASSERT_FALSE(h.feed({{kApp, kData}}));  // the inner L5P may have a NIC context now
  ASSERT_FALSE(h.feed({{kHs, ticket()}, {kApp, kData}}));
  EXPECT_FALSE(h.rx.inner_trusted());
  EXPECT_FALSE(h.rx.take_rebase());
  EXPECT_EQ(h.got.size(), 2 * kData.size());
}

TEST(TlsPostHandshake, PaddedFirstApplicationRecordStillStopsInnerTrust) {
  // A padded application record is delivered: its own padding (RFC 8446 §5.4) already diverges.
  Rx h;
  Bytes inner = kData;
  inner.push_back(kApp);
  inner.resize(inner.size() + 30, 0);  // zeros after the type: padding
  const uint16_t len = uint16_t(inner.size() + kTagLen);
  const Bytes hdr = {23, 3, 3, uint8_t(len >> 8), uint8_t(len)};
  Bytes w = hdr;
  w.resize(kHeaderLen + len);
  h.sw.seal(0, hdr, inner, w.data() + kHeaderLen);
  ASSERT_FALSE(h.rx.input(w, false));
  EXPECT_EQ(h.got, kData);
  EXPECT_FALSE(h.rx.inner_trusted());
}

TEST(TlsPostHandshake, CloseNotifyThenFinIsAnOrderlyEnd) {
  Rx h(/*from_server=*/false);  // what stock s_client sends when done: close_notify, then FIN
  ASSERT_FALSE(h.feed({{kApp, kData}, {kAlert, Bytes{1, 0}}}));
  EXPECT_TRUE(h.rx.closed());
  EXPECT_FALSE(h.rx.truncated());
  EXPECT_EQ(h.got, kData);
}

// ---- handshake options, run in memory (no network) ----
namespace {

// Runs both handshakes to completion by passing their output across; false if either failed.
bool handshake(TlsHandshake& cl, TlsHandshake& sv, std::string* err) {
  for (int i = 0; i < 20; ++i) {
    const auto a = cl.step();
    sv.input(cl.take_output());
    const auto b = sv.step();
    cl.input(sv.take_output());
    if (a == TlsHandshake::Status::kFailed || b == TlsHandshake::Status::kFailed) {
      *err = cl.error() + " | " + sv.error();
      return false;
    }
    if (a == TlsHandshake::Status::kDone && b == TlsHandshake::Status::kDone) return true;
  }
  *err = "no progress";
  return false;
}

struct PemFiles {
  PemFiles() {
    static int n = 0;
    const std::string base = "/tmp/autonic_tls_pem_" + std::to_string(getpid()) + "_" + std::to_string(n++);
    cert = base + "_cert.pem";
    key = base + "_key.pem";
  }
  ~PemFiles() {
    std::remove(cert.c_str());
    std::remove(key.c_str());
  }
  std::string cert, key;
};

}  // namespace

TEST(TlsHandshakeConfig, PemCredentialsWithCaFileAndName) {
  PemFiles f;
  Credentials made;
  made.write_pem(f.cert, f.key);
  Credentials loaded(f.cert, f.key);
  HandshakeConfig sc;
  sc.tickets = 2;
  TlsHandshake sv(TlsHandshake::Role::kServer, Cipher::kAes128Gcm, loaded, nullptr, sc);
  HandshakeConfig cc;
  cc.verify = HandshakeConfig::Verify::kCaFile;
  cc.ca_file = f.cert;
  cc.host = "autonic-server";
  TlsHandshake cl(TlsHandshake::Role::kClient, Cipher::kAes128Gcm, made, nullptr, cc);
  std::string err;
  ASSERT_TRUE(handshake(cl, sv, &err)) << err;
  EXPECT_TRUE(cl.peer_verified());
  EXPECT_EQ(sv.tickets_sent(), 2u);
  const char* sni = SSL_get_servername(sv.ssl(), TLSEXT_NAMETYPE_host_name);
  ASSERT_NE(sni, nullptr);
  EXPECT_STREQ(sni, "autonic-server");
}

TEST(TlsHandshakeConfig, CaFileRejectsAWrongName) {
  PemFiles f;
  Credentials creds;
  creds.write_pem(f.cert, f.key);
  TlsHandshake sv(TlsHandshake::Role::kServer, Cipher::kAes128Gcm, creds, nullptr);
  HandshakeConfig cc;
  cc.verify = HandshakeConfig::Verify::kCaFile;
  cc.ca_file = f.cert;
  cc.host = "other.example";
  TlsHandshake cl(TlsHandshake::Role::kClient, Cipher::kAes128Gcm, creds, nullptr, cc);
  std::string err;
  EXPECT_FALSE(handshake(cl, sv, &err));
  EXPECT_NE(cl.error().find("certificate verify failed"), std::string::npos) << cl.error();
}

TEST(TlsHandshakeConfig, NoVerificationProceedsAndSaysSo) {
  Credentials server_creds, other;  // the client knows nothing of the server's certificate
  TlsHandshake sv(TlsHandshake::Role::kServer, Cipher::kAes128Gcm, server_creds, nullptr);
  HandshakeConfig cc;
  cc.verify = HandshakeConfig::Verify::kNone;
  cc.host = "192.168.77.2";  // an IP literal: no SNI (RFC 6066 §3)
  TlsHandshake cl(TlsHandshake::Role::kClient, Cipher::kAes128Gcm, other, nullptr, cc);
  std::string err;
  ASSERT_TRUE(handshake(cl, sv, &err)) << err;
  EXPECT_FALSE(cl.peer_verified());
  EXPECT_EQ(SSL_get_servername(sv.ssl(), TLSEXT_NAMETYPE_host_name), nullptr);
  EXPECT_EQ(sv.tickets_sent(), 0u) << "the default sends none";
}

TEST(TlsHandshakeConfig, OwnCertDefaultStillRejectsAStranger) {
  Credentials server_creds, other;
  TlsHandshake sv(TlsHandshake::Role::kServer, Cipher::kAes128Gcm, server_creds, nullptr);
  TlsHandshake cl(TlsHandshake::Role::kClient, Cipher::kAes128Gcm, other, nullptr);
  std::string err;
  EXPECT_FALSE(handshake(cl, sv, &err));
}

TEST(TlsHandshakeConfig, BadPemFilesThrowWithTheirName) {
  PemFiles f, g;
  Credentials a, b;
  a.write_pem(f.cert, f.key);
  b.write_pem(g.cert, g.key);
  EXPECT_THROW(Credentials(f.cert, g.key), std::runtime_error);  // key of another certificate
  EXPECT_THROW(Credentials("/nonexistent/cert.pem", f.key), std::runtime_error);
  EXPECT_THROW(Credentials(f.key, f.key), std::runtime_error);  // no certificate in it
}

// ---- end to end: our client (and NVMe host) against servers that send tickets ----
namespace {

std::string replay(const ScenarioConfig& c) {
  std::ostringstream o;
  o << "replay: build/autonic run --l5p " << (c.l5p == L5pKind::kTls ? "tls" : "nvme-tls") << " --offload "
    << testbed::offload_name(c.offload) << " --bytes " << c.bytes << " --loss " << c.link.loss << " --seed " << c.seed
    << (c.bidirectional ? " --bidir" : "") << (c.openssl_peer ? " --openssl-peer" : "")
    << " (ScenarioConfig: tls_tickets " << c.tls_tickets << ", tls_peer_key_update " << c.tls_peer_key_update << ")";
  return o.str();
}

ScenarioConfig with_tickets(OffloadMode m, bool openssl_peer, double loss, uint64_t seed) {
  ScenarioConfig c;
  c.l5p = L5pKind::kTls;
  c.offload = m;
  c.bytes = 2u << 20;
  c.seed = seed;
  c.bidirectional = true;
  c.openssl_peer = openssl_peer;
  c.link.loss = loss;
  c.tls_tickets = 2;  // OpenSSL's stock default
  return c;
}

}  // namespace

TEST(TlsTicketsScenario, OurClientAgainstServersSendingTwoTickets) {
  for (bool ossl : {true, false})
    for (OffloadMode m : {OffloadMode::kOff, OffloadMode::kOn, OffloadMode::kZc})
      for (double loss : {0.0, 0.02}) {
        const ScenarioConfig c = with_tickets(m, ossl, loss, 11);
        const Report r = testbed::run_isolated(c);
        ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
        EXPECT_EQ(r.delivered_wrong_bytes, 0u) << replay(c);
        EXPECT_EQ(ctr(r.client, "rx_tls_post_handshake"), 2u) << replay(c);
        if (m != OffloadMode::kOff && loss == 0) {
          EXPECT_GT(ctr(r.client, "rx_tls_msgs_full"), 0u) << replay(c);
          if (!ossl) {
            EXPECT_GT(ctr(r.server, "tx_tls_encrypted_bytes"), 0u) << "our server's TX offload after its tickets " << replay(c);
          }
        }
      }
}

TEST(TlsTicketsScenario, TicketsChangeNothingButTheirOwnRecords) {
  // Same seed with and without tickets: both verify; the wire differs only by the tickets.
  ScenarioConfig a = with_tickets(OffloadMode::kOn, false, 0.01, 12);
  ScenarioConfig b = a;
  b.tls_tickets = 0;
  const Report ra = testbed::run_isolated(a), rb = testbed::run_isolated(b);
  ASSERT_TRUE(ra.verified) << ra.outcome << " " << replay(a);
  ASSERT_TRUE(rb.verified) << rb.outcome << " " << replay(b);
  EXPECT_EQ(ctr(rb.client, "rx_tls_post_handshake"), 0u);
  // A ticket holds its session's creation time: a second later, the wire must still be the same
  // (tls_ctrl.cc: fixed_ticket_time).
  usleep(1100 * 1000);
  const Report ra2 = testbed::run_isolated(a);
  EXPECT_EQ(ra.trace_hash, ra2.trace_hash) << "deterministic " << replay(a);
}

TEST(TlsTicketsScenario, KeyUpdateFromTheServerRightAfterTickets) {
  // Before any application data: the KeyUpdate record leaves the payload stream like the
  // tickets, and the client's receive keys move (RFC 8446 §4.6.3).
  ScenarioConfig c = with_tickets(OffloadMode::kOn, true, 0.0, 13);
  c.tls_peer_key_update = true;
  c.bidirectional = true;
  const Report r = testbed::run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  EXPECT_EQ(ctr(r.client, "rx_tls_rekey_received"), 1u) << replay(c);
  EXPECT_EQ(ctr(r.client, "rx_tls_rekey_ok"), 1u) << replay(c);
  EXPECT_GT(ctr(r.client, "rx_tls_msgs_full"), 0u) << replay(c);
}

TEST(TlsTicketsScenario, NvmeOverTlsWithTickets) {
  // NVMe/TCP over TLS against a controller whose TLS sends two tickets, a round trip after the
  // host's Finished -- after the NVMe queue read its stream origin. They are left out of the
  // payload stream and the host's RX TLS context is rebuilt after them, so the inner (NVMe)
  // offload works as without tickets: digests checked and data placed by the NIC.
  for (bool ossl : {true, false}) {
    for (double loss : {0.0, 0.01}) {
      ScenarioConfig c = autonic::testing::nvme_config(L5pKind::kNvmeTls, OffloadMode::kOn, "randrw", 64 * 1024, 8, 4u << 20);
      c.openssl_peer = ossl;
      c.tls_tickets = 2;
      c.link.loss = loss;
      const Report r = testbed::run_isolated(c);
      ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
      EXPECT_EQ(r.delivered_wrong_bytes, 0u) << replay(c);
      EXPECT_GE(ctr(r.client, "rx_tls_post_handshake"), 2u) << replay(c);
      EXPECT_GE(ctr(r.client, "rx_tls_ctx_rebased"), 1u) << replay(c);
      EXPECT_GT(ctr(r.client, "rx_tls_decrypted_bytes"), 0u) << replay(c);
      EXPECT_GT(ctr(r.client, "rx_nvme_tcp_crc_ok_packets"), 0u) << replay(c);
      EXPECT_GT(ctr(r.client, "nvme_ddp_skip_bytes"), 0u) << replay(c);
      EXPECT_GT(ctr(r.client, "tx_nvme_tcp_crc_bytes"), 0u) << replay(c);
      // On a clean wire the new context resyncs within the first read: almost all data placed.
      if (loss == 0) {
        EXPECT_GE(double(ctr(r.client, "nvme_ddp_skip_bytes")), 0.9 * double(c.bytes)) << replay(c);
      }
    }
  }
}
