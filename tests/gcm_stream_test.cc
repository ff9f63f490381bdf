// The NIC's own AES-GCM (our VAES AES-CTR or OpenSSL's + our GHASH, parkable mid-record) equals OpenSSL's
// EVP AES-GCM: random keys, IVs and AAD, lengths 0..20000, every split pattern (1-byte pieces,
// splits inside a block), and the working state dropped (park) between arbitrary pieces.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>

#include "common/rng.h"
#include "common/bytes.h"
#include "nic/plugins/tls/aes_ctr.h"
#include "nic/plugins/tls/gcm_stream.h"
#include "nic/plugins/tls/ghash.h"

using namespace autonic;

namespace {

struct Sealed {
  Bytes ct;
  uint8_t tag[16];
};

Sealed evp_seal(ByteSpan key, const uint8_t nonce[12], ByteSpan aad, ByteSpan pt) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(c, key.size() == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(), nullptr, key.data(), nonce);
  int l = 0;
  if (!aad.empty()) EVP_EncryptUpdate(c, nullptr, &l, aad.data(), int(aad.size()));
  Sealed s;
  s.ct.resize(pt.size() + 16);
  if (!pt.empty()) EVP_EncryptUpdate(c, s.ct.data(), &l, pt.data(), int(pt.size()));
  EVP_EncryptFinal_ex(c, s.ct.data() + pt.size(), &l);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, s.tag);
  EVP_CIPHER_CTX_free(c);
  s.ct.resize(pt.size());
  return s;
}

struct Case {
  Bytes key, aad, pt;
  uint8_t nonce[12];
};

Case random_case(Rng& r, size_t key_len, size_t aad_len, size_t pt_len) {
  Case c;
  c.key.resize(key_len);
  c.aad.resize(aad_len);
  c.pt.resize(pt_len);
  for (auto& b : c.key) b = uint8_t(r.next());
  for (auto& b : c.aad) b = uint8_t(r.next());
  for (auto& b : c.pt) b = uint8_t(r.next());
  for (auto& b : c.nonce) b = uint8_t(r.next());
  return c;
}

// Runs `in` through a GcmStream in pieces cut at `cuts` (ascending), parking after the pieces
// whose bit is set in `park_mask` (and before the tag if bit 63), in place when `in_place`.
Bytes run(nic::GcmStream& g, const Case& c, bool encrypt, ByteSpan in, const std::vector<size_t>& cuts,
          uint64_t park_mask, bool in_place) {
  Bytes out(in.size());
  if (in_place) std::memcpy(out.data(), in.data(), in.size());
  g.begin(c.nonce, c.aad, encrypt);
  size_t at = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : in.size();
    ByteSpan src = in_place ? ByteSpan(out).subspan(at, end - at) : in.subspan(at, end - at);
    g.update(src, MutByteSpan(out).subspan(at, end - at));
    if (park_mask >> (i % 63) & 1) g.park();
    at = end;
  }
  if (park_mask >> 63) g.park();
  return out;
}

void expect_matches(const Case& c, const std::vector<size_t>& cuts, uint64_t park_mask, bool in_place,
                    const std::string& what) {
  const Sealed want = evp_seal(c.key, c.nonce, c.aad, c.pt);
  nic::GcmStream enc, dec;
  enc.rekey(c.key);
  dec.rekey(c.key);
  const Bytes ct = run(enc, c, true, c.pt, cuts, park_mask, in_place);
  uint8_t tag[16];
  enc.final_tag(tag);
  ASSERT_EQ(ct, want.ct) << what;
  ASSERT_EQ(0, std::memcmp(tag, want.tag, 16)) << what;
  const Bytes back = run(dec, c, false, ct, cuts, park_mask >> 1 | park_mask << 63, in_place);
  ASSERT_EQ(back, c.pt) << what;
  ASSERT_TRUE(dec.check_tag(want.tag)) << what;
  uint8_t bad[16];
  std::memcpy(bad, want.tag, 16);
  bad[15] ^= 0x80;
  run(dec, c, false, ct, {}, 0, false);
  ASSERT_FALSE(dec.check_tag(bad)) << what;
}

// Every test below runs on both keystreams: our VAES CTR (where the CPU has it; aes_ctr.h) and
// OpenSSL's EVP CTR, the fallback elsewhere.
class GcmStreamPaths : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { nic::GcmStream::force_evp(GetParam()); }
  void TearDown() override { nic::GcmStream::force_evp(false); }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Keystream, GcmStreamPaths, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "Evp" : "Vaes"; });

TEST(AesCtr, CounterWrapsWithinItsLowWordAndMatchesOneBlockAtATime) {
  // inc32 (SP 800-38D §6.2): the low 32 bits wrap, the rest of the block never changes. Checked
  // against one-block encryptions of each counter block, over every length 0..300 in two
  // pieces, for both key sizes.
  if (!nic::AesCtr::available()) GTEST_SKIP() << "no VAES / AVX-512 on this CPU: GcmStream uses OpenSSL's CTR";
  Rng r(7, 9);
  for (size_t klen : {16, 32}) {
    Bytes key(klen);
    for (auto& b : key) b = uint8_t(r.next());
    nic::AesCtr c;
    c.init(key.data(), key.size());
    uint8_t cb[16];
    for (auto& b : cb) b = uint8_t(r.next());
    cb[12] = cb[13] = cb[14] = 0xFF;
    cb[15] = 0xF0;  // 16 blocks before the wrap
    for (size_t len = 0; len <= 600; len += 7) {
      Bytes in(len), out(len), want(len);
      for (auto& b : in) b = uint8_t(r.next());
      for (size_t i = 0; i < len; i += 16) {
        uint8_t blk[16], ks[16];
        std::memcpy(blk, cb, 16);
        store_be32(blk + 12, load_be32(cb + 12) + uint32_t(i / 16));
        c.encrypt_block(blk, ks);
        for (size_t j = i; j < std::min(len, i + 16); ++j) want[j] = in[j] ^ ks[j - i];
      }
      c.seek(cb, 0);
      const size_t cut = len ? size_t(r.next() % len) : 0;
      c.apply(in.data(), out.data(), cut);
      c.apply(in.data() + cut, out.data() + cut, len - cut);
      ASSERT_EQ(out, want) << "key " << klen << " len " << len << " cut " << cut;
    }
  }
}

TEST_P(GcmStreamPaths, KnownAnswerSp80038dTestCase2) {
  // The GCM specification's test case 2 (McGrew & Viega): K = 0^128, IV = 0^96, P = 0^128.
  const Bytes key(16, 0), pt(16, 0);
  const uint8_t nonce[12] = {};
  nic::GcmStream g;
  g.rekey(key);
  g.begin(nonce, {}, true);
  Bytes ct(16);
  g.update(pt, ct);
  uint8_t tag[16];
  g.final_tag(tag);
  const uint8_t want_ct[16] = {0x03, 0x88, 0xda, 0xce, 0x60, 0xb6, 0xa3, 0x92,
                               0xf3, 0x28, 0xc2, 0xb9, 0x71, 0xb2, 0xfe, 0x78};
  const uint8_t want_tag[16] = {0xab, 0x6e, 0x47, 0xd4, 0x2c, 0xec, 0x13, 0xbd,
                                0xf5, 0x3a, 0x67, 0xb2, 0x12, 0x57, 0xbd, 0xdf};
  EXPECT_EQ(0, std::memcmp(ct.data(), want_ct, 16));
  EXPECT_EQ(0, std::memcmp(tag, want_tag, 16));
}

TEST_P(GcmStreamPaths, EveryLengthAndAadMatchesOpenSsl) {
  Rng r(7, 1);
  for (size_t klen : {16, 32})
    for (size_t len = 0; len <= 300; ++len) {
      const Case c = random_case(r, klen, len % 41, len);
      const std::vector<size_t> cuts = len > 2 ? std::vector<size_t>{len / 3, len / 2} : std::vector<size_t>{};
      expect_matches(c, cuts, r.next(), len % 2, "len " + std::to_string(len) + " key " + std::to_string(klen));
    }
}

TEST_P(GcmStreamPaths, EveryTwoWaySplitWithParkMatchesOpenSsl) {
  Rng r(7, 2);
  for (size_t klen : {16, 32}) {
    const Case c = random_case(r, klen, 13, 100);  // the TLS 1.2 AAD; blocks and a partial one
    for (size_t a = 0; a <= c.pt.size(); ++a)
      for (uint64_t park : {0ull, 1ull, 2ull, ~0ull})
        expect_matches(c, {a}, park, a % 2, "split " + std::to_string(a) + " park " + std::to_string(park));
  }
}

TEST_P(GcmStreamPaths, OneBytePiecesAndRandomSplitsUpTo20000) {
  Rng r(7, 3);
  for (size_t klen : {16, 32}) {
    const Case small = random_case(r, klen, 5, 70);
    std::vector<size_t> ones;
    for (size_t i = 1; i < small.pt.size(); ++i) ones.push_back(i);
    expect_matches(small, ones, 0, false, "1-byte pieces");
    expect_matches(small, ones, r.next(), true, "1-byte pieces, parked");
    for (int round = 0; round < 60; ++round) {
      const size_t len = size_t(r.next() % 20001);
      const Case c = random_case(r, klen, size_t(r.next() % 40), len);
      std::vector<size_t> cuts;
      for (size_t at = 0; len;) {
        at += 1 + size_t(r.next() % (round % 3 == 0 ? 40 : 3000));
        if (at >= len) break;
        cuts.push_back(at);
      }
      expect_matches(c, cuts, r.next(), round % 2, "round " + std::to_string(round) + " len " + std::to_string(len));
    }
  }
}

TEST_P(GcmStreamPaths, RekeyAndReuseAcrossRecords) {
  // One stream, many records and keys: each record restarts from its own nonce, whether or not
  // the working state survived the previous one.
  Rng r(7, 4);
  nic::GcmStream g;
  for (int i = 0; i < 8; ++i) {
    const Case c = random_case(r, i % 3 ? 16 : 32, 13, 1000 + size_t(i));
    const Sealed want = evp_seal(c.key, c.nonce, c.aad, c.pt);
    g.rekey(c.key);
    for (int rec = 0; rec < 3; ++rec) {
      Bytes ct(c.pt.size());
      g.begin(c.nonce, c.aad, true);
      g.update(ByteSpan(c.pt).first(517), MutByteSpan(ct).first(517));
      if (rec == 1) g.park();
      g.update(ByteSpan(c.pt).subspan(517), MutByteSpan(ct).subspan(517));
      uint8_t tag[16];
      g.final_tag(tag);
      ASSERT_EQ(ct, want.ct);
      ASSERT_EQ(0, std::memcmp(tag, want.tag, 16));
    }
  }
}

TEST(Ghash, WidePathEquals128BitPath) {
  // This machine may take the VPCLMULQDQ path: the 128-bit one (other CPUs) must agree.
  Rng r(7, 5);
  for (int round = 0; round < 200; ++round) {
    uint8_t h[16], y0[16];
    for (auto& b : h) b = uint8_t(r.next());
    for (auto& b : y0) b = uint8_t(r.next());
    nic::GhashKey k;
    k.init(h);
    Bytes data(16 * size_t(round));
    for (auto& b : data) b = uint8_t(r.next());
    uint8_t a[16], b[16];
    std::memcpy(a, y0, 16);
    std::memcpy(b, y0, 16);
    nic::ghash_blocks(k, a, data.data(), size_t(round));
    nic::ghash_blocks_clmul128(k, b, data.data(), size_t(round));
    ASSERT_EQ(0, std::memcmp(a, b, 16)) << round << " blocks";
  }
}

TEST_P(GcmStreamPaths, FrozenAndThawedIntoAnotherStreamContinuesExactly) {
  // The at-rest form alone carries a record across: written at any byte, read into a stream
  // that held another key, the record ends with OpenSSL's bytes and tag.
  Rng r(7, 6);
  for (int round = 0; round < 200; ++round) {
    const size_t klen = round % 2 ? 16 : 32;
    const Case c = random_case(r, klen, 13, 1 + size_t(r.next() % 3000));
    const Sealed want = evp_seal(c.key, c.nonce, c.aad, c.pt);
    const size_t cut = size_t(r.next() % (c.pt.size() + 1));
    for (bool encrypt : {true, false}) {
      const Bytes& in = encrypt ? c.pt : want.ct;
      Bytes out(in.size());
      nic::GcmStream a;
      a.rekey(c.key);
      a.begin(c.nonce, c.aad, encrypt);
      a.update(ByteSpan(in).first(cut), MutByteSpan(out).first(cut));
      Bytes form;
      nic::Packer p(form);
      a.freeze(p);
      nic::GcmStream b;
      b.rekey(Bytes(32 - klen + 16, 0x5A));  // another key: the form replaces it
      nic::Unpacker u(form);
      b.thaw(u);
      ASSERT_TRUE(u.done());
      b.update(ByteSpan(in).subspan(cut), MutByteSpan(out).subspan(cut));
      ASSERT_EQ(out, encrypt ? want.ct : c.pt) << "round " << round << " cut " << cut;
      if (encrypt) {
        uint8_t tag[16];
        b.final_tag(tag);
        ASSERT_EQ(0, std::memcmp(tag, want.tag, 16)) << "round " << round << " cut " << cut;
      } else {
        ASSERT_TRUE(b.check_tag(want.tag)) << "round " << round << " cut " << cut;
      }
    }
  }
}
