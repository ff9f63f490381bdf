// The NIC engine's results do not depend on how the stream is cut into engine calls: one per
// packet, one per TSO super-segment spanning several messages, or one per NIC batch of
// contiguous segments (issue #12; what `autonic bench tls` / `bench nvme` (a) feed it).
// Covers the one-call fast paths (msg_cursor.cc, the plug-ins' "all data" cases) beside the walk.
#include <gtest/gtest.h>

#include "common/rng.h"
#include "l5p/tls/tls_sw.h"
#include "nic/engine/engine_stats.h"
#include "nic/engine/msg_cursor.h"
#include "nic/plugins/nvme/nvme_plugin.h"
#include "nic/plugins/tls/tls_plugin.h"
#include "proto/nvme/nvme_pdu.h"

using namespace autonic;

namespace {

// Cut sizes: every small one, then strides up to several messages per call.
std::vector<size_t> cuts() {
  std::vector<size_t> v;
  for (size_t c = 1; c <= 40; ++c) v.push_back(c);
  for (size_t c = 41; c <= 9000; c += 331) v.push_back(c);
  v.push_back(1448);
  v.push_back(65160);
  return v;
}

struct FeedOut {
  Bytes out;
  bool verified = true, bad_header = false;
};

FeedOut feed_in_cuts(const nic::Plugin& plugin, nic::PluginFlow& flow, l5o::Direction dir, const Bytes& in,
                     size_t cut, bool in_place) {
  FeedOut r;
  r.out = in_place ? in : Bytes(in.size());
  nic::MsgCursor cur;
  cur.reset(TcpSeq(0), 0);
  for (size_t o = 0; o < in.size(); o += cut) {
    const size_t n = std::min(cut, in.size() - o);
    const ByteSpan src = in_place ? ByteSpan(&r.out[o], n) : ByteSpan(&in[o], n);
    const auto f = nic::feed(cur, plugin, flow, dir, src, MutByteSpan(&r.out[o], n));
    r.verified = r.verified && f.all_verified;
    r.bad_header = r.bad_header || f.bad_header;
  }
  return r;
}

// ---- TLS: RX decrypts and verifies every record for any cut, in place or not ----

using namespace autonic::l5p::tls;

TrafficKeys tls_keys(Cipher c) {
  TrafficKeys k;
  k.cipher = c;
  k.key.resize(key_len(c));
  Rng r(5, 6);
  for (auto& b : k.key) b = uint8_t(r.next());
  for (auto& b : k.iv) b = uint8_t(r.next());
  return k;
}

// Records of varied lengths: the plaintext stream (header || content || type || zero tag) and
// the sealed one.
std::pair<Bytes, Bytes> tls_streams(const TrafficKeys& k) {
  RecordCrypto sw(k);
  Bytes plain, wire;
  Rng rng(7, 8);
  for (uint64_t s = 0; s < 6; ++s) {
    Bytes inner(300 + 997 * s);
    for (auto& b : inner) b = uint8_t(rng.next());
    inner.push_back(23);
    const uint16_t len = uint16_t(inner.size() + kTagLen);
    const Bytes hdr = {23, 3, 3, uint8_t(len >> 8), uint8_t(len)};
    Bytes rec = hdr;
    rec.resize(kHeaderLen + len);
    sw.seal(s, hdr, inner, rec.data() + kHeaderLen);
    wire.insert(wire.end(), rec.begin(), rec.end());
    plain.insert(plain.end(), hdr.begin(), hdr.end());
    plain.insert(plain.end(), inner.begin(), inner.end());
    plain.resize(plain.size() + kTagLen, 0);
  }
  return {plain, wire};
}

// The receiver's output keeps the tags (passed through); compare everything else.
Bytes without_tags(Bytes s, const Bytes& wire) {
  for (size_t o = 0; o < s.size();) {
    const size_t len = load_be16(&wire[o + 3]);
    std::fill(s.begin() + long(o + kHeaderLen + len - kTagLen), s.begin() + long(o + kHeaderLen + len), 0);
    o += kHeaderLen + len;
  }
  return s;
}

TEST(EngineChunking, TlsRxDecryptsAndVerifiesForEveryCut) {
  for (Cipher ci : {Cipher::kAes128Gcm, Cipher::kChacha20Poly1305}) {
    const TrafficKeys k = tls_keys(ci);
    const auto [plain, wire] = tls_streams(k);
    nic::TlsPlugin plugin;
    for (size_t cut : cuts())
      for (bool in_place : {false, true}) {
        auto flow = plugin.make_flow(proto::tls::TlsL5State(k, 0), l5o::Direction::kRx);
        const FeedOut r = feed_in_cuts(plugin, *flow, l5o::Direction::kRx, wire, cut, in_place);
        ASSERT_TRUE(r.verified) << cipher_name(ci) << " cut " << cut;
        ASSERT_FALSE(r.bad_header);
        ASSERT_EQ(without_tags(r.out, wire), plain) << cipher_name(ci) << " cut " << cut;
      }
    Bytes bad = wire;
    bad[bad.size() / 2] ^= 1;  // one ciphertext bit: that record's tag fails, for any cut
    for (size_t cut : {size_t(1448), size_t(65160)}) {
      auto flow = plugin.make_flow(proto::tls::TlsL5State(k, 0), l5o::Direction::kRx);
      EXPECT_FALSE(feed_in_cuts(plugin, *flow, l5o::Direction::kRx, bad, cut, false).verified);
    }
  }
}

// TLS 1.2 AES-GCM: each record's 8-byte explicit nonce comes first and may end a packet (the
// record's crypto starts only once it is whole). Content lengths include 0 and 6 -- six bytes of
// ciphertext is what the plug-in keeps aside as a possible TLS 1.3 KeyUpdate, and a packet
// ending inside the nonce of such a record once made it point before that buffer (UBSan,
// fuzz_tls_rx) -- and a 1.2 record whose plaintext looks like a KeyUpdate (24 0 0 1 0, type 22)
// is data, not a key change: TLS 1.2 has none.
TEST(EngineChunking, Tls12RxDecryptsAndVerifiesForEveryCutIncludingInsideTheNonce) {
  TrafficKeys k = tls_keys(Cipher::kAes128Gcm);
  k.version = Version::kTls12;
  RecordCrypto sw(k);
  Bytes plain, wire;
  Rng rng(9, 10);
  const std::vector<size_t> lens = {6, 0, 1, 6, 300, 1297, 6};
  for (uint64_t s = 0; s < lens.size(); ++s) {
    Bytes content(lens[s]);
    for (auto& b : content) b = uint8_t(rng.next());
    if (s == 3) content = {24, 0, 0, 1, 0, 22};
    const uint16_t len = uint16_t(kExplicitNonceLen + content.size() + kTagLen);
    const Bytes hdr = {23, 3, 3, uint8_t(len >> 8), uint8_t(len)};
    Bytes rec = hdr;
    rec.resize(kHeaderLen + len);
    sw.seal(s, hdr, content, rec.data() + kHeaderLen);
    wire.insert(wire.end(), rec.begin(), rec.end());
    // What the NIC hands up: the header, nonce and tag as they came, the content decrypted.
    std::copy(content.begin(), content.end(), rec.begin() + long(kHeaderLen + kExplicitNonceLen));
    plain.insert(plain.end(), rec.begin(), rec.end());
  }
  nic::TlsPlugin plugin;
  for (size_t cut : cuts())
    for (bool in_place : {false, true}) {
      proto::tls::TlsL5State state(k, 0);
      state.next = tls_keys(Cipher::kAes128Gcm);  // keys a (1.3) KeyUpdate would move to
      state.next->key[0] ^= 1;
      auto flow = plugin.make_flow(state, l5o::Direction::kRx);
      nic::OffloadStats st;
      flow->attach(nullptr, &st);
      const FeedOut r = feed_in_cuts(plugin, *flow, l5o::Direction::kRx, wire, cut, in_place);
      ASSERT_TRUE(r.verified) << "cut " << cut;
      ASSERT_FALSE(r.bad_header);
      ASSERT_EQ(r.out, plain) << "cut " << cut;
      ASSERT_EQ(st.rx_key_switch, 0u);
    }
}

// ---- NVMe/TCP: data digests checked on RX and filled on TX for any cut ----

using namespace autonic::proto::nvme;

// C2HData PDUs with header and data digests, data of varied lengths.
Bytes nvme_stream() {
  Bytes s;
  for (uint32_t i = 0; i < 5; ++i) {
    const uint32_t dlen = 100 + 2111 * i;
    Bytes h(24, 0);
    h[0] = uint8_t(PduType::kC2HData);
    h[1] = kFlagHdgst | kFlagDdgst;
    h[2] = 24;
    h[3] = 28;
    put32(h.data() + 4, 28 + dlen + 4);
    put32(h.data() + 16, dlen);
    uint8_t d[4];
    s.insert(s.end(), h.begin(), h.end());
    put32(d, digest(h));
    s.insert(s.end(), d, d + 4);
    Bytes data(dlen);
    for (uint32_t j = 0; j < dlen; ++j) data[j] = uint8_t(j * 13 + i);
    s.insert(s.end(), data.begin(), data.end());
    put32(d, digest(data));
    s.insert(s.end(), d, d + 4);
  }
  return s;
}

TEST(EngineChunking, NvmeDigestsForEveryCut) {
  const Bytes wire = nvme_stream();
  Bytes no_digests = wire;  // what the controller's L5P hands its NIC: data digests left zero
  for (size_t o = 0; o < wire.size();) {
    const uint32_t plen = le32(&wire[o + 4]);
    std::fill(no_digests.begin() + long(o + plen - 4), no_digests.begin() + long(o + plen), 0);
    o += plen;
  }
  Bytes bad = wire;
  bad[wire.size() / 2] ^= 0x10;
  nic::NvmePlugin plugin;
  const NvmeL5State st(true, true, false);
  for (size_t cut : cuts()) {
    auto rx = plugin.make_flow(st, l5o::Direction::kRx);
    const FeedOut r = feed_in_cuts(plugin, *rx, l5o::Direction::kRx, wire, cut, true);
    ASSERT_TRUE(r.verified) << "cut " << cut;
    ASSERT_EQ(r.out, wire);
    auto rx_bad = plugin.make_flow(st, l5o::Direction::kRx);
    ASSERT_FALSE(feed_in_cuts(plugin, *rx_bad, l5o::Direction::kRx, bad, cut, false).verified) << "cut " << cut;
    auto tx = plugin.make_flow(st, l5o::Direction::kTx);
    ASSERT_EQ(feed_in_cuts(plugin, *tx, l5o::Direction::kTx, no_digests, cut, true).out, wire) << "cut " << cut;
  }
}

}  // namespace
