// The NIC's incremental AEAD (AES-GCM, ChaCha20-Poly1305) equals OpenSSL's one-shot for every
// split of a record.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "common/rng.h"
#include "nic/plugins/tls/aead_stream.h"

using namespace autonic;

namespace {
using proto::tls::Cipher;
const EVP_CIPHER* evp(Cipher c) {
  return c == Cipher::kAes128Gcm ? EVP_aes_128_gcm() : c == Cipher::kAes256Gcm ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
}
Bytes one_shot(Cipher ci, ByteSpan key, const uint8_t* nonce, ByteSpan aad, ByteSpan pt, uint8_t tag[16]) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(c, evp(ci), nullptr, key.data(), nonce);
  int l = 0;
  EVP_EncryptUpdate(c, nullptr, &l, aad.data(), int(aad.size()));
  Bytes ct(pt.size() + 16);
  EVP_EncryptUpdate(c, ct.data(), &l, pt.data(), int(pt.size()));
  EVP_EncryptFinal_ex(c, ct.data() + l, &l);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag);
  EVP_CIPHER_CTX_free(c);
  ct.resize(pt.size());
  return ct;
}
}  // namespace

TEST(AeadStream, EveryTwoAndThreeWaySplitMatchesOneShot) {
  for (Cipher ci : {Cipher::kAes128Gcm, Cipher::kAes256Gcm, Cipher::kChacha20Poly1305}) {
    const size_t klen = proto::tls::key_len(ci);
    Rng r(1, uint64_t(ci) + 1);
    Bytes key(klen), pt(141), aad(13);  // > 2 ChaCha20 blocks; the TLS 1.2 AAD
    uint8_t nonce[12];
    for (auto& b : key) b = uint8_t(r.next());
    for (auto& b : pt) b = uint8_t(r.next());
    for (auto& b : aad) b = uint8_t(r.next());
    for (auto& b : nonce) b = uint8_t(r.next());
    uint8_t want_tag[16];
    const Bytes want = one_shot(ci, key, nonce, aad, pt, want_tag);
    nic::AeadStream enc(ci, key), dec(ci, key);
    for (size_t a = 0; a <= pt.size(); ++a)
      for (size_t b = a; b <= pt.size(); b += 3) {
        Bytes ct(pt.size()), back(pt.size());
        uint8_t tag[16];
        enc.begin(nonce, aad, true);
        enc.update(ByteSpan(pt).subspan(0, a), MutByteSpan(ct).subspan(0, a));
        enc.update(ByteSpan(pt).subspan(a, b - a), MutByteSpan(ct).subspan(a, b - a));
        enc.update(ByteSpan(pt).subspan(b), MutByteSpan(ct).subspan(b));
        enc.final_tag(tag);
        ASSERT_EQ(ct, want) << proto::tls::cipher_name(ci) << " split " << a << "," << b;
        ASSERT_EQ(0, memcmp(tag, want_tag, 16)) << "split " << a << "," << b;
        dec.begin(nonce, aad, false);
        dec.update(ByteSpan(ct).subspan(0, b), MutByteSpan(back).subspan(0, b));
        dec.update(ByteSpan(ct).subspan(b), MutByteSpan(back).subspan(b));
        ASSERT_TRUE(dec.check_tag(tag));
        ASSERT_EQ(back, pt);
        tag[0] ^= 1;
        dec.begin(nonce, aad, false);
        dec.update(ct, back);
        ASSERT_FALSE(dec.check_tag(tag));
      }
  }
}
