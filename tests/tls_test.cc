// TLS record layer and NIC plug-in: NIC output equals software sealing for any segmentation;
// malformed input from a peer ends in the right alert and is never delivered.
#include <gtest/gtest.h>

#include "common/rng.h"
#include "l5p/tls/tls_rx.h"
#include "l5p/tls/tls_sw.h"
#include "l5p/tls/tls_tx.h"
#include "nic/engine/msg_cursor.h"
#include "nic/plugins/tls/tls_plugin.h"

using namespace autonic;
using namespace autonic::l5p::tls;

namespace {

TrafficKeys keys(Cipher c = Cipher::kAes128Gcm) {
  TrafficKeys k;
  k.cipher = c;
  k.key.resize(key_len(c));
  Rng r(3, 4);
  for (auto& b : k.key) b = uint8_t(r.next());
  for (auto& b : k.iv) b = uint8_t(r.next());
  return k;
}

// A record as the software path puts it on the wire, and as the L5P hands it to the NIC.
struct Rec {
  Bytes wire, offload_input;
};
// pad: zero bytes after the type (RFC 8446 §5.4).
Rec make_record(RecordCrypto& c, uint64_t seq, ByteSpan content, uint8_t type = 23, size_t pad = 0) {
  Rec r;
  Bytes inner(content.begin(), content.end());
  inner.push_back(type);
  inner.resize(inner.size() + pad, 0);
  const uint16_t len = uint16_t(inner.size() + kTagLen);
  Bytes hdr = {23, 3, 3, uint8_t(len >> 8), uint8_t(len)};
  r.wire = hdr;
  r.wire.resize(kHeaderLen + len);
  c.seal(seq, hdr, inner, r.wire.data() + kHeaderLen);
  r.offload_input = hdr;
  r.offload_input.insert(r.offload_input.end(), inner.begin(), inner.end());
  r.offload_input.resize(kHeaderLen + len, 0);
  return r;
}

}  // namespace

TEST(TlsPlugin, NicEncryptionEqualsSoftwareForEverySegmentSize) {
  for (Cipher ci : {Cipher::kAes128Gcm, Cipher::kAes256Gcm}) {
    const TrafficKeys k = keys(ci);
    RecordCrypto sw(k);
    Bytes content(1000);
    for (size_t i = 0; i < content.size(); ++i) content[i] = uint8_t(i * 7);
    Bytes wire, input;
    for (uint64_t s = 0; s < 3; ++s) {
      Rec r = make_record(sw, s, content);
      wire.insert(wire.end(), r.wire.begin(), r.wire.end());
      input.insert(input.end(), r.offload_input.begin(), r.offload_input.end());
    }
    nic::TlsPlugin plugin;
    for (size_t seg = 1; seg <= 1500; seg += (seg < 40 ? 1 : 97)) {
      auto flow = plugin.make_flow(proto::tls::TlsL5State(k, 0), l5o::Direction::kTx);
      nic::MsgCursor cur;
      cur.reset(TcpSeq(0), 0);
      Bytes out = input;
      for (size_t o = 0; o < out.size(); o += seg) {
        const size_t n = std::min(seg, out.size() - o);
        auto r = nic::feed(cur, plugin, *flow, l5o::Direction::kTx, ByteSpan(out.data() + o, n), MutByteSpan(out.data() + o, n));
        ASSERT_FALSE(r.bad_header);
      }
      ASSERT_EQ(out, wire) << cipher_name(ci) << " segment size " << seg;
    }
  }
}

TEST(TlsPlugin, ProbeIsTheRecordLayersBound) {
  nic::TlsPlugin p;
  const uint8_t ok[] = {23, 3, 3, 0x41, 0x00};
  EXPECT_EQ(p.probe(ok), 5u + 0x4100);
  const uint8_t too_long[] = {23, 3, 3, 0x41, 0x01};  // 2^14 + 257
  EXPECT_FALSE(p.probe(too_long));
  const uint8_t bad_type[] = {24, 3, 3, 0, 40};
  EXPECT_FALSE(p.probe(bad_type));
  const uint8_t bad_ver[] = {23, 3, 1, 0, 40};
  EXPECT_FALSE(p.probe(bad_ver));
  for (uint8_t t = 20; t <= 23; ++t) {
    const uint8_t h[] = {t, 3, 3, 0, 40};
    EXPECT_TRUE(p.probe(h)) << int(t);
  }
}

namespace {
struct RxHarness {
  TlsStats st;
  Bytes got;
  TlsRx rx{keys(), st, [this](ByteSpan d, bool) { got.insert(got.end(), d.begin(), d.end()); },
           [](TcpSeq, bool, uint64_t, TcpSeq) {}};
  RxHarness() { rx.start(TcpSeq(0)); }
};
}  // namespace

TEST(TlsRx, ValidRecordsDeliveredInAnySplit) {
  RecordCrypto sw(keys());
  Bytes content(300, 0x5A);
  Rec a = make_record(sw, 0, content), b = make_record(sw, 1, content);
  Bytes stream = a.wire;
  stream.insert(stream.end(), b.wire.begin(), b.wire.end());
  for (size_t cut = 1; cut < stream.size(); cut += 7) {
    RxHarness h;
    ASSERT_FALSE(h.rx.input(ByteSpan(stream).first(cut), false));
    ASSERT_FALSE(h.rx.input(ByteSpan(stream).subspan(cut), false));
    ASSERT_EQ(h.got.size(), 600u);
    EXPECT_EQ(h.st.rx_tls_msgs_none, 2u);
  }
}

TEST(TlsRx, EveryBitFlipIsRejectedWithoutDelivery) {
  RecordCrypto sw(keys());
  Rec a = make_record(sw, 0, Bytes(40, 1));
  for (size_t bit = 0; bit < a.wire.size() * 8; ++bit) {
    RxHarness h;
    Bytes w = a.wire;
    w[bit / 8] ^= uint8_t(1u << (bit % 8));
    auto f = h.rx.input(w, false);
    // A flip in the length may leave the record incomplete (no verdict yet): never delivered.
    EXPECT_TRUE(h.got.empty()) << "bit " << bit;
    if (bit >= 8 * kHeaderLen) {
      ASSERT_TRUE(f) << "bit " << bit;
      EXPECT_EQ(f->outcome, "alert:bad_record_mac");
    }
  }
}

TEST(TlsRx, OversizedRecordIsRecordOverflow) {
  RxHarness h;
  const uint8_t hdr[] = {23, 3, 3, 0x41, 0x01};
  auto f = h.rx.input(hdr, false);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->outcome, "alert:record_overflow");
  EXPECT_EQ(f->alert, 22);
}

TEST(TlsRx, GarbageIsDecodeError) {
  RxHarness h;
  Bytes junk(64, 0xEE);
  auto f = h.rx.input(junk, false);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->outcome, "alert:decode_error");
}

TEST(TlsRx, PlaintextRecordTypeAfterHandshakeIsUnexpected) {
  RxHarness h;
  const uint8_t hdr[] = {22, 3, 3, 0, 40};
  auto f = h.rx.input(hdr, false);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->outcome, "alert:unexpected_message");
}

TEST(TlsRx, TruncatedRecordIsVisible) {
  RecordCrypto sw(keys());
  Rec a = make_record(sw, 0, Bytes(40, 1));
  RxHarness h;
  EXPECT_FALSE(h.rx.input(ByteSpan(a.wire).first(20), false));
  EXPECT_TRUE(h.rx.mid_record());  // the session turns FIN now into tls:truncated_record
  EXPECT_TRUE(h.got.empty());
}

TEST(TlsRx, CloseNotifyEndsTheStream) {
  RecordCrypto sw(keys());
  const uint8_t alert[] = {1, 0};
  Rec a = make_record(sw, 0, alert, 21);
  RxHarness h;
  EXPECT_FALSE(h.rx.input(a.wire, false));
  EXPECT_TRUE(h.rx.closed());
}

TEST(TlsRx, PartialRecordReencryptsNicParts) {
  // The NIC decrypted the first half (marked); the second half is ciphertext.
  const TrafficKeys k = keys();
  RecordCrypto sw(k);
  Bytes content(500);
  for (size_t i = 0; i < content.size(); ++i) content[i] = uint8_t(i);
  Rec a = make_record(sw, 0, content);
  Bytes marked_part = a.wire;
  const size_t half = 250;
  for (size_t i = kHeaderLen; i < half; ++i) marked_part[i] = a.offload_input[i];  // plaintext
  RxHarness h;
  ASSERT_FALSE(h.rx.input(ByteSpan(marked_part).first(half), true));
  ASSERT_FALSE(h.rx.input(ByteSpan(a.wire).subspan(half), false));
  EXPECT_EQ(h.got, content);
  EXPECT_EQ(h.st.rx_tls_msgs_partial, 1u);
  EXPECT_EQ(h.st.rx_tls_reencrypted_bytes, half - kHeaderLen);
}

namespace {
Bytes filled(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(seed + i * 13);
  return b;
}
}  // namespace

// Records the NIC decrypted whole wait for flush() in batch mode and then arrive in one call, in
// order, whatever the cut of the stream -- a record may still be in progress at the flush.
TEST(TlsRx, BatchedFullRecordsArriveAtFlushInOrder) {
  RecordCrypto sw(keys());
  Bytes stream, want;
  for (uint64_t s = 0; s < 5; ++s) {
    const Bytes c = filled(200 + 97 * s, uint8_t(s));
    const Rec r = make_record(sw, s, c);
    stream.insert(stream.end(), r.offload_input.begin(), r.offload_input.end());  // NIC-decrypted
    want.insert(want.end(), c.begin(), c.end());
  }
  for (size_t cut = 1; cut < stream.size(); cut += 11) {
    RxHarness h;
    TlsRx& rx = h.rx;
    ASSERT_FALSE(rx.input(ByteSpan(stream).first(cut), true, false, false, /*batch=*/true));
    EXPECT_TRUE(h.got.empty()) << "cut " << cut << ": delivered before flush";
    rx.flush();
    const size_t first = h.got.size();
    ASSERT_EQ(Bytes(h.got.begin(), h.got.end()), Bytes(want.begin(), want.begin() + long(first))) << "cut " << cut;
    ASSERT_FALSE(rx.input(ByteSpan(stream).subspan(cut), true, false, false, true));
    rx.flush();
    ASSERT_EQ(h.got, want) << "cut " << cut;
    EXPECT_EQ(h.st.rx_tls_msgs_full, 5u);
    EXPECT_EQ(h.st.rx_tls_records, 5u);
    EXPECT_FALSE(rx.mid_record());
  }
}

// Full, partial (NIC-decrypted first part, ciphertext after), software-only, padded and full
// again, in one batch: each record by its own path, delivered in stream order.
TEST(TlsRx, BatchedMixedRecordsKeepStreamOrder) {
  RecordCrypto sw(keys());
  struct Piece {
    Bytes bytes;
    bool marked;
  };
  std::vector<Piece> pieces;
  Bytes want;
  auto add = [&](const Bytes& c) { want.insert(want.end(), c.begin(), c.end()); };
  const Bytes c0 = filled(300, 1), c1 = filled(400, 2), c2 = filled(150, 3), c3 = filled(120, 4), c4 = filled(333, 5);
  const Rec r0 = make_record(sw, 0, c0), r1 = make_record(sw, 1, c1), r2 = make_record(sw, 2, c2);
  const Rec r3 = make_record(sw, 3, c3, 23, 7), r4 = make_record(sw, 4, c4);
  pieces.push_back({r0.offload_input, true});
  add(c0);
  pieces.push_back({Bytes(r1.offload_input.begin(), r1.offload_input.begin() + 200), true});  // fast, then demoted
  pieces.push_back({Bytes(r1.wire.begin() + 200, r1.wire.end()), false});
  add(c1);
  pieces.push_back({r2.wire, false});
  add(c2);
  pieces.push_back({r3.offload_input, true});  // full but padded: the general path
  add(c3);
  pieces.push_back({r4.offload_input, true});
  add(c4);
  RxHarness h;
  for (const Piece& p : pieces) ASSERT_FALSE(h.rx.input(p.bytes, p.marked, false, false, /*batch=*/true));
  h.rx.flush();
  EXPECT_EQ(h.got, want);
  EXPECT_EQ(h.st.rx_tls_msgs_full, 3u);
  EXPECT_EQ(h.st.rx_tls_msgs_partial, 1u);
  EXPECT_EQ(h.st.rx_tls_msgs_none, 1u);
}

// A tampered record after good ones in one batch: the good ones still arrive (as they would
// have one by one), the bad one never does.
TEST(TlsRx, BatchedRecordsBeforeAForgeryStillArrive) {
  RecordCrypto sw(keys());
  const Bytes c0 = filled(256, 9), c1 = filled(256, 10);
  const Rec r0 = make_record(sw, 0, c0), r1 = make_record(sw, 1, c1);
  Bytes bad = r1.wire;
  bad[kHeaderLen + 10] ^= 1;
  RxHarness h;
  ASSERT_FALSE(h.rx.input(r0.offload_input, true, false, false, true));
  auto f = h.rx.input(bad, false, false, false, true);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->outcome, "alert:bad_record_mac");
  h.rx.flush();
  EXPECT_EQ(h.got, c0);
}

// Many recv()s of packet-sized pieces, each ending mid-record as they nearly always do: the
// record in progress stays in the buffer across flushes (moved to its front only now and then),
// pieces strictly inside a record take the body fast path, and a record partly or not at all
// decrypted by the NIC in between leaves the fast path for the general one. Every byte arrives
// once, in order; the classification counts stay exact. Seeds replay: the failure names one.
TEST(TlsRx, BatchedRecvsEndingMidRecordKeepEveryByteInOrder) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    RecordCrypto sw(keys());
    Rng rng(seed, 77);
    struct Piece {
      Bytes bytes;
      bool marked;
    };
    std::vector<Piece> pieces;
    Bytes want;
    uint64_t full = 0, other = 0;
    for (uint64_t s = 0; s < 120; ++s) {
      const Bytes c = filled(1 + rng.next() % 16384, uint8_t(s + seed));
      const Rec r = make_record(sw, s, c);
      want.insert(want.end(), c.begin(), c.end());
      const uint32_t kind = uint32_t(rng.next() % 8);  // 0: software, 1: partial, else full
      if (kind >= 2) {
        ++full;
        pieces.push_back({r.offload_input, true});
      } else if (kind == 1) {
        ++other;
        const size_t cut = 1 + rng.next() % (r.wire.size() - 1);
        pieces.push_back({Bytes(r.offload_input.begin(), r.offload_input.begin() + long(cut)), true});
        pieces.push_back({Bytes(r.wire.begin() + long(cut), r.wire.end()), false});
      } else {
        ++other;
        pieces.push_back({r.wire, false});
      }
    }
    RxHarness h;
    size_t since_flush = 0;
    for (const Piece& p : pieces)
      for (size_t o = 0; o < p.bytes.size();) {  // 1448-byte packets, a flush every ~64 KiB
        const size_t n = std::min<size_t>(1448, p.bytes.size() - o);
        ASSERT_FALSE(h.rx.input(ByteSpan(p.bytes).subspan(o, n), p.marked, false, false, true)) << "seed " << seed;
        o += n;
        since_flush += n;
        if (since_flush >= 65000 + rng.next() % 2000) {
          h.rx.flush();
          since_flush = 0;
          ASSERT_EQ(Bytes(h.got.begin(), h.got.end()), Bytes(want.begin(), want.begin() + long(h.got.size())))
              << "seed " << seed;
        }
      }
    h.rx.flush();
    ASSERT_EQ(h.got, want) << "seed " << seed;
    EXPECT_EQ(h.st.rx_tls_msgs_full, full) << "seed " << seed;
    EXPECT_EQ(h.st.rx_tls_msgs_partial + h.st.rx_tls_msgs_none, other) << "seed " << seed;
  }
}

// Pieces that cross record boundaries, as a GRO super-segment's packets do: every run of
// NIC-decrypted records is cut at random (1 byte to a few KiB, headers and 1.2's explicit nonce
// split anywhere), so the streaming path ends and starts records itself, hands over to the
// general path at a split header, a padded record or one the NIC did not decrypt, and takes over
// again. Every byte arrives once, in order, with exact counts; tiny records put several headers
// in one piece. TLS 1.3 and 1.2; seeds replay.
TEST(TlsRx, PiecesAcrossRecordBoundariesKeepEveryByteInOrder) {
  for (const Version v : {Version::kTls13, Version::kTls12})
    for (uint64_t seed = 1; seed <= 6; ++seed) {
      const std::string at = std::string(v == Version::kTls13 ? "1.3" : "1.2") + " seed " + std::to_string(seed);
      TrafficKeys k = keys();
      k.version = v;
      RecordCrypto sw(k);
      Rng rng(seed, 91);
      struct Run {
        Bytes bytes;
        bool marked;
      };
      std::vector<Run> runs;  // consecutive bytes of one mark: a piece never spans a mark change
      auto push = [&](ByteSpan b, bool marked) {
        if (runs.empty() || runs.back().marked != marked) runs.push_back({Bytes(), marked});
        runs.back().bytes.insert(runs.back().bytes.end(), b.begin(), b.end());
      };
      Bytes want;
      uint64_t full = 0, partial = 0, none = 0;
      for (uint64_t s = 0; s < 300; ++s) {
        const size_t len = rng.next() % 4 == 0 ? 1 + rng.next() % 40 : 1 + rng.next() % 5000;
        const Bytes c = filled(len, uint8_t(s * 3 + seed));
        const uint32_t kind = uint32_t(rng.next() % 10);  // 0: software, 1: partial, 2: padded (1.3), else full
        Bytes inner = c;
        if (v == Version::kTls13) {
          inner.push_back(23);
          if (kind == 2) inner.resize(inner.size() + 1 + rng.next() % 9, 0);
        }
        const size_t body_off = kHeaderLen + (v == Version::kTls12 ? kExplicitNonceLen : 0);
        const uint16_t rlen = uint16_t(body_off - kHeaderLen + inner.size() + kTagLen);
        const Bytes hdr = {23, 3, 3, uint8_t(rlen >> 8), uint8_t(rlen)};
        Bytes wire = hdr;
        wire.resize(kHeaderLen + rlen);
        sw.seal(s, hdr, inner, wire.data() + kHeaderLen);
        // What the RX NIC leaves: header, nonce and tag as they came, the rest decrypted.
        Bytes nic = wire;
        std::copy(inner.begin(), inner.end(), nic.begin() + long(body_off));
        want.insert(want.end(), c.begin(), c.end());
        if (kind == 0) {
          ++none;
          push(wire, false);
        } else if (kind == 1) {
          ++partial;
          const size_t cut = 1 + rng.next() % (wire.size() - 1);
          push(ByteSpan(nic).first(cut), true);
          push(ByteSpan(wire).subspan(cut), false);
        } else {
          ++full;
          push(nic, true);
        }
      }
      TlsStats st;
      Bytes got;
      TlsRx rx(k, st, [&](ByteSpan d, bool) { got.insert(got.end(), d.begin(), d.end()); },
               [](TcpSeq, bool, uint64_t, TcpSeq) {});
      rx.start(TcpSeq(0));
      for (const Run& run : runs)
        for (size_t o = 0; o < run.bytes.size();) {
          const size_t n = std::min<size_t>(rng.next() % 3 == 0 ? 1 + rng.next() % 8 : 1 + rng.next() % 3000, run.bytes.size() - o);
          ASSERT_FALSE(rx.input(ByteSpan(run.bytes).subspan(o, n), run.marked, false, false, true)) << at;
          o += n;
          if (rng.next() % 16 == 0) rx.flush();
        }
      rx.flush();
      ASSERT_EQ(got, want) << at;
      EXPECT_EQ(st.rx_tls_msgs_full, full) << at;
      EXPECT_EQ(st.rx_tls_msgs_partial, partial) << at;
      EXPECT_EQ(st.rx_tls_msgs_none, none) << at;
      EXPECT_EQ(st.rx_tls_records, 300u) << at;
      EXPECT_FALSE(rx.mid_record()) << at;
    }
}

namespace {
class TxMem final : public l5p::TxMsgMap::Writer {
 public:
  Bytes out;
  size_t room() override { return 1 << 30; }
  size_t write(const uint8_t* d, size_t n, bool) override {
    out.insert(out.end(), d, d + n);
    return n;
  }
  void flush() override {}
};
}  // namespace

// The offload's records cut from one write in a run (TlsTx::carve_records) are the records the
// per-record path cuts when the same bytes come one record at a time: same bytes (headers,
// TLS 1.2 explicit nonces, inner types, zeroed tags), same count, the same KeyUpdate bound.
TEST(TlsTx, RecordsCarvedInARunEqualRecordsCutOneByOne) {
  for (Version v : {Version::kTls13, Version::kTls12})
    for (size_t rs : {size_t(1000), size_t(2048), size_t(16384)})
      for (uint64_t rekey : {uint64_t(0), uint64_t(7)}) {
        TrafficKeys k = keys();
        k.version = v;
        const Bytes data = filled(300 * 1024 + 123, 42);
        TlsStats sa, sb;
        TlsTx a(k, TxMode::kOffload, rs, 0, 0, sa), b(k, TxMode::kOffload, rs, 0, 0, sb);
        a.start(TcpSeq(0));
        b.start(TcpSeq(0));
        a.set_rekey_every(rekey);
        b.set_rekey_every(rekey);
        TxMem wa, wb;
        size_t ta = 0, tb = 0;
        for (int round = 0; round < 200 && (ta < data.size() || tb < data.size()); ++round) {
          ta += a.queue(ByteSpan(data).subspan(ta), true);  // whole writes: runs
          for (size_t n = 1; n && tb < data.size();)          // one record a call: one by one
            tb += n = b.queue(ByteSpan(data).subspan(tb, std::min(rs, data.size() - tb)), true);
          a.pump(wa);
          b.pump(wb);
          a.on_acked(TcpSeq(0) + uint32_t(wa.out.size()));
          b.on_acked(TcpSeq(0) + uint32_t(wb.out.size()));
          if (a.data_blocked()) a.key_update(false, k);
          if (b.data_blocked()) b.key_update(false, k);
        }
        const std::string where = std::string(v == Version::kTls13 ? "1.3" : "1.2") + " record " +
                                  std::to_string(rs) + " rekey " + std::to_string(rekey);
        EXPECT_EQ(ta, tb) << where;
        ASSERT_EQ(wa.out.size(), wb.out.size()) << where;
        EXPECT_TRUE(wa.out == wb.out) << where;
        EXPECT_EQ(sa.tx_tls_records, sb.tx_tls_records) << where;
        EXPECT_GT(sa.tx_tls_records, 0u);
      }
}
