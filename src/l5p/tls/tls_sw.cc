#include "l5p/tls/tls_sw.h"

#include <stdexcept>

namespace autonic::l5p::tls {

static const EVP_CIPHER* aead_cipher(Cipher c) {
  switch (c) {
    case Cipher::kAes128Gcm: return EVP_aes_128_gcm();
    case Cipher::kAes256Gcm: return EVP_aes_256_gcm();
    case Cipher::kChacha20Poly1305: return EVP_chacha20_poly1305();
  }
  return nullptr;
}

RecordCrypto::RecordCrypto(const TrafficKeys& k) : k_(k), aead_(EVP_CIPHER_CTX_new()), ctr_(EVP_CIPHER_CTX_new()) {
  if (!aead_ || !ctr_) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  EVP_CipherInit_ex(aead_, aead_cipher(k.cipher), nullptr, k.key.data(), nullptr, 1);
  if (k.cipher != Cipher::kChacha20Poly1305)
    EVP_EncryptInit_ex(ctr_, k.cipher == Cipher::kAes128Gcm ? EVP_aes_128_ctr() : EVP_aes_256_ctr(), nullptr,
                       k.key.data(), nullptr);
}

RecordCrypto::~RecordCrypto() {
  EVP_CIPHER_CTX_free(aead_);
  EVP_CIPHER_CTX_free(ctr_);
}

void RecordCrypto::seal(uint64_t seq, ByteSpan hdr, ByteSpan inner, uint8_t* out) {
  uint8_t nonce[12];
  record_nonce(k_.iv, seq, nonce);
  int l = 0;
  EVP_CipherInit_ex(aead_, nullptr, nullptr, nullptr, nonce, 1);
  EVP_CipherUpdate(aead_, nullptr, &l, hdr.data(), int(hdr.size()));
  EVP_CipherUpdate(aead_, out, &l, inner.data(), int(inner.size()));
  EVP_CipherFinal_ex(aead_, out + l, &l);
  EVP_CIPHER_CTX_ctrl(aead_, EVP_CTRL_AEAD_GET_TAG, 16, out + inner.size());
}

bool RecordCrypto::open(uint64_t seq, ByteSpan hdr, ByteSpan body, uint8_t* out) {
  if (body.size() < kTagLen) return false;
  uint8_t nonce[12];
  record_nonce(k_.iv, seq, nonce);
  const size_t n = body.size() - kTagLen;
  int l = 0;
  EVP_CipherInit_ex(aead_, nullptr, nullptr, nullptr, nonce, 0);
  EVP_CipherUpdate(aead_, nullptr, &l, hdr.data(), int(hdr.size()));
  EVP_CipherUpdate(aead_, out, &l, body.data(), int(n));
  EVP_CIPHER_CTX_ctrl(aead_, EVP_CTRL_AEAD_SET_TAG, 16, const_cast<uint8_t*>(body.data() + n));
  return EVP_CipherFinal_ex(aead_, out + l, &l) > 0;
}

void RecordCrypto::ctr_xor(uint64_t seq, size_t off, MutByteSpan data) {
  // GCM's data counter starts at inc32(J0) = nonce || 2 (NIST SP 800-38D); records are short
  // enough (<= 2^14 + 256 B) that the low 32 bits never wrap, so a 128-bit CTR matches.
  uint8_t ctr[16];
  uint8_t nonce[12];
  record_nonce(k_.iv, seq, nonce);
  std::copy(nonce, nonce + 12, ctr);
  store_be32(ctr + 12, uint32_t(2 + off / 16));
  EVP_EncryptInit_ex(ctr_, nullptr, nullptr, nullptr, ctr);
  int l = 0;
  uint8_t skip[16] = {};
  if (off % 16) EVP_EncryptUpdate(ctr_, skip, &l, skip, int(off % 16));  // advance within block
  EVP_EncryptUpdate(ctr_, data.data(), &l, data.data(), int(data.size()));
}

}  // namespace autonic::l5p::tls
