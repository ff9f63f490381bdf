#include "l5p/tls/tls_sw.h"

#include <stdexcept>

#include "proto/tls/tls_evp.h"

namespace autonic::l5p::tls {

static const EVP_CIPHER* stream_cipher(Cipher c) {
  switch (c) {
    case Cipher::kAes128Gcm: return EVP_aes_128_ctr();
    case Cipher::kAes256Gcm: return EVP_aes_256_ctr();
    case Cipher::kChacha20Poly1305: return EVP_chacha20();
  }
  return nullptr;
}

RecordCrypto::RecordCrypto(const TrafficKeys& k) : k_(k) {
  if (k.key.size() != key_len(k.cipher)) throw std::invalid_argument("TLS key length does not match the cipher");
}

// OpenSSL's cipher contexts (~1.8 KiB for the pair) are made on first use: with the NIC doing
// the crypto, most connections never seal or open a record in software (issue #13's memory per
// flow), and the ones that do pay once.
EVP_CIPHER_CTX* RecordCrypto::aead() {
  if (!aead_) {
    aead_ = EVP_CIPHER_CTX_new();
    if (!aead_) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
    EVP_CipherInit_ex(aead_, evp_aead(k_.cipher), nullptr, k_.key.data(), nullptr, 1);
  }
  return aead_;
}

EVP_CIPHER_CTX* RecordCrypto::ctr() {
  if (!ctr_) {
    ctr_ = EVP_CIPHER_CTX_new();
    if (!ctr_) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
    EVP_EncryptInit_ex(ctr_, stream_cipher(k_.cipher), nullptr, k_.key.data(), nullptr);
  }
  return ctr_;
}

RecordCrypto::~RecordCrypto() {
  EVP_CIPHER_CTX_free(aead_);
  EVP_CIPHER_CTX_free(ctr_);
}

void RecordCrypto::seal(uint64_t seq, ByteSpan hdr, ByteSpan inner, uint8_t* out) {
  const size_t ex = shape().explicit_nonce;
  if (ex) store_be64(out, seq);  // nonce_explicit = the sequence number, as OpenSSL and Linux do
  uint8_t nonce[12], aad[kMaxAadLen];
  record_nonce(k_, seq, out, nonce);
  const size_t alen = record_aad(k_, seq, hdr.data(), aad);
  uint8_t* ct = out + ex;
  int l = 0;
  EVP_CIPHER_CTX* aead_ctx = aead();
  EVP_CipherInit_ex(aead_ctx, nullptr, nullptr, nullptr, nonce, 1);
  EVP_CipherUpdate(aead_ctx, nullptr, &l, aad, int(alen));
  EVP_CipherUpdate(aead_ctx, ct, &l, inner.data(), int(inner.size()));
  EVP_CipherFinal_ex(aead_ctx, ct + l, &l);
  EVP_CIPHER_CTX_ctrl(aead_ctx, EVP_CTRL_AEAD_GET_TAG, 16, ct + inner.size());
}

bool RecordCrypto::open(uint64_t seq, ByteSpan hdr, ByteSpan body, uint8_t* out) {
  const size_t ex = shape().explicit_nonce;
  if (body.size() < ex + kTagLen) return false;
  uint8_t nonce[12], aad[kMaxAadLen];
  record_nonce(k_, seq, body.data(), nonce);
  const size_t alen = record_aad(k_, seq, hdr.data(), aad);
  const size_t n = body.size() - ex - kTagLen;
  int l = 0;
  EVP_CIPHER_CTX* aead_ctx = aead();
  EVP_CipherInit_ex(aead_ctx, nullptr, nullptr, nullptr, nonce, 0);
  EVP_CipherUpdate(aead_ctx, nullptr, &l, aad, int(alen));
  EVP_CipherUpdate(aead_ctx, out, &l, body.data() + ex, int(n));
  EVP_CIPHER_CTX_ctrl(aead_ctx, EVP_CTRL_AEAD_SET_TAG, 16, const_cast<uint8_t*>(body.data() + ex + n));
  return EVP_CipherFinal_ex(aead_ctx, out + l, &l) > 0;
}

void RecordCrypto::ctr_xor(uint64_t seq, size_t off, MutByteSpan data, const uint8_t* explicit_nonce) {
  uint8_t nonce[12];
  record_nonce(k_, seq, explicit_nonce, nonce);
  uint8_t iv[16];
  size_t skip = 0;
  if (k_.cipher == Cipher::kChacha20Poly1305) {
    // RFC 8439 §2.8: block 0 makes the Poly1305 key, the data starts at block counter 1.
    // EVP_chacha20's 16-byte IV is the 32-bit little-endian counter, then the nonce.
    const uint32_t block = uint32_t(1 + off / 64);
    for (int i = 0; i < 4; ++i) iv[i] = uint8_t(block >> (8 * i));
    std::copy(nonce, nonce + 12, iv + 4);
    skip = off % 64;
  } else {
    // GCM's data counter starts at inc32(J0) = nonce || 2 (NIST SP 800-38D); records are short
    // enough (<= 2^14 + 2048 B) that the low 32 bits never wrap, so a 128-bit CTR matches.
    std::copy(nonce, nonce + 12, iv);
    store_be32(iv + 12, uint32_t(2 + off / 16));
    skip = off % 16;
  }
  EVP_CIPHER_CTX* ctr_ctx = ctr();
  EVP_EncryptInit_ex(ctr_ctx, nullptr, nullptr, nullptr, iv);
  int l = 0;
  uint8_t scratch[64] = {};
  if (skip) EVP_EncryptUpdate(ctr_ctx, scratch, &l, scratch, int(skip));  // advance within the block
  EVP_EncryptUpdate(ctr_ctx, data.data(), &l, data.data(), int(data.size()));
}

}  // namespace autonic::l5p::tls
