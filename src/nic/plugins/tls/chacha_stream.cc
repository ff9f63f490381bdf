#include "nic/plugins/tls/chacha_stream.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace autonic::nic {

ChachaPolyStream::ChachaPolyStream() : chacha_(EVP_CIPHER_CTX_new()) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "POLY1305", nullptr);
  poly_ = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  EVP_MAC_free(mac);  // the context keeps its own reference
  if (!chacha_ || !poly_) throw std::runtime_error("ChaCha20 / Poly1305 not available");
}

ChachaPolyStream::~ChachaPolyStream() {
  EVP_CIPHER_CTX_free(chacha_);
  EVP_MAC_CTX_free(poly_);
}

void ChachaPolyStream::rekey(ByteSpan key) {
  if (key.size() != 32) throw std::invalid_argument("ChaCha20 key must be 32 bytes");
  // The key once; each record only sets the counter and nonce (a full init costs ~1 us).
  EVP_EncryptInit_ex(chacha_, EVP_chacha20(), nullptr, key.data(), nullptr);
}

void ChachaPolyStream::begin(const uint8_t nonce[12], ByteSpan aad, bool encrypt) {
  encrypt_ = encrypt;
  // EVP_chacha20's IV: 32-bit little-endian block counter (0), then the nonce. Block 0's first
  // 32 bytes are the Poly1305 one-time key; the data starts at block 1 (§2.6, §2.8).
  uint8_t iv[16] = {};
  std::memcpy(iv + 4, nonce, 12);
  EVP_EncryptInit_ex(chacha_, nullptr, nullptr, nullptr, iv);
  uint8_t block0[kBlock] = {};
  int l = 0;
  EVP_EncryptUpdate(chacha_, block0, &l, block0, int(kBlock));
  EVP_MAC_init(poly_, block0, 32, nullptr);
  window_at_ = kUnit;
  aad_len_ = aad.size();
  ct_len_ = 0;
  held_len_ = 0;
  mac(aad);
  mac_pad(aad_len_);
}

void ChachaPolyStream::mac_pad(uint64_t len) {
  static const uint8_t zeros[16] = {};
  if (len % 16) mac(ByteSpan(zeros, 16 - len % 16));
}

void ChachaPolyStream::mac(ByteSpan b) {
  while (!b.empty()) {
    if (held_len_ == 0) {  // block-aligned: the whole blocks straight from the caller
      const size_t whole = b.size() / 16 * 16;
      if (whole) EVP_MAC_update(poly_, b.data(), whole);
      b = b.subspan(whole);
      std::memcpy(held_.data(), b.data(), b.size());
      held_len_ = b.size();
      return;
    }
    const size_t n = std::min(b.size(), held_.size() - held_len_);
    std::memcpy(held_.data() + held_len_, b.data(), n);
    held_len_ += n;
    b = b.subspan(n);
    const size_t whole = held_len_ / 16 * 16;
    if (whole) EVP_MAC_update(poly_, held_.data(), whole);
    std::memmove(held_.data(), held_.data() + whole, held_len_ - whole);
    held_len_ -= whole;
  }
}

void ChachaPolyStream::crypt(ByteSpan in, MutByteSpan out) {
  int l = 0;
  for (size_t i = 0; i < in.size();) {
    if (window_at_ == kUnit) {
      const size_t whole = (in.size() - i) / kUnit * kUnit;
      if (whole) {  // whole KiBs straight through, in place
        if (out.data() + i != in.data() + i) std::memcpy(out.data() + i, in.data() + i, whole);
        EVP_EncryptUpdate(chacha_, out.data() + i, &l, out.data() + i, int(whole));
        i += whole;
        continue;
      }
      static const std::array<uint8_t, kUnit> zeros{};  // the next KiB of keystream
      EVP_EncryptUpdate(chacha_, window_.data(), &l, zeros.data(), int(kUnit));
      window_at_ = 0;
    }
    const size_t n = std::min(in.size() - i, kUnit - window_at_);
    const uint8_t* ks = window_.data() + window_at_;
    for (size_t k = 0; k < n; ++k) out[i + k] = in[i + k] ^ ks[k];
    window_at_ += n;
    i += n;
  }
}

void ChachaPolyStream::update(ByteSpan in, MutByteSpan out) {
  if (in.empty()) return;
  // Poly1305 covers the ciphertext: read before an in-place decryption overwrites it.
  if (!encrypt_) mac(in);
  crypt(in, out);
  if (encrypt_) mac(out);
  ct_len_ += in.size();
}

void ChachaPolyStream::final_tag(uint8_t tag[16]) {
  mac_pad(ct_len_);
  uint8_t lens[16];
  for (int i = 0; i < 8; ++i) {
    lens[i] = uint8_t(aad_len_ >> (8 * i));  // le64 (§2.8)
    lens[8 + i] = uint8_t(ct_len_ >> (8 * i));
  }
  mac(ByteSpan(lens, sizeof lens));  // (the lengths end on a block boundary: nothing held)
  size_t tl = 0;
  EVP_MAC_final(poly_, tag, &tl, 16);
}

bool ChachaPolyStream::check_tag(const uint8_t tag[16]) {
  uint8_t want[16];
  final_tag(want);
  return CRYPTO_memcmp(want, tag, 16) == 0;
}

}  // namespace autonic::nic
