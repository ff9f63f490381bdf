#include "nic/plugins/gcm_stream.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "common/bytes.h"

namespace autonic::nic {

GcmStream::GcmStream(ByteSpan key) : gcm_(EVP_CIPHER_CTX_new()), ecb_(EVP_CIPHER_CTX_new()) {
  if (!gcm_ || !ecb_) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  const bool k256 = key.size() == 32;
  if (!k256 && key.size() != 16) throw std::invalid_argument("AES-GCM key must be 16 or 32 bytes");
  // Key schedules once per context; each record only sets a new IV.
  EVP_CipherInit_ex(gcm_, k256 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(), nullptr, key.data(), nullptr, 1);
  EVP_EncryptInit_ex(ecb_, k256 ? EVP_aes_256_ecb() : EVP_aes_128_ecb(), nullptr, key.data(), nullptr);
  EVP_CIPHER_CTX_set_padding(ecb_, 0);
}

GcmStream::~GcmStream() {
  EVP_CIPHER_CTX_free(gcm_);
  EVP_CIPHER_CTX_free(ecb_);
}

void GcmStream::begin(const uint8_t nonce[12], ByteSpan aad, bool encrypt) {
  encrypt_ = encrypt;
  std::memcpy(nonce_.data(), nonce, 12);
  pos_ = 0;
  held_len_ = 0;
  EVP_CipherInit_ex(gcm_, nullptr, nullptr, nullptr, nonce, encrypt ? 1 : 0);
  int outl = 0;
  if (!aad.empty()) EVP_CipherUpdate(gcm_, nullptr, &outl, aad.data(), int(aad.size()));
}

void GcmStream::keystream_block(uint64_t block, uint8_t ks[16]) {
  // NIST SP 800-38D: with a 96-bit IV, J0 = IV || 0^31 || 1; data block b uses inc32^(b+1)(J0).
  uint8_t ctr[16];
  std::memcpy(ctr, nonce_.data(), 12);
  store_be32(ctr + 12, uint32_t(2 + block));
  int outl = 0;
  EVP_EncryptUpdate(ecb_, ks, &outl, ctr, 16);
}

void GcmStream::update(ByteSpan in, MutByteSpan out) {
  size_t i = 0;
  int outl = 0;
  // 1. Finish the partial block carried from the previous range.
  if (held_len_ > 0) {
    const size_t n = std::min(16 - held_len_, in.size());
    for (size_t j = 0; j < n; ++j) {
      held_[held_len_ + j] = in[j];
      out[j] = in[j] ^ ks_[held_len_ + j];
    }
    held_len_ += n;
    pos_ += n;
    i = n;
    if (held_len_ < 16) return;
    uint8_t scratch[16];
    EVP_CipherUpdate(gcm_, scratch, &outl, held_.data(), 16);  // GHASH + counter advance
    held_len_ = 0;
  }
  // 2. Whole blocks: straight through EVP's fast path.
  const size_t bulk = (in.size() - i) & ~size_t(15);
  if (bulk > 0) {
    EVP_CipherUpdate(gcm_, out.data() + i, &outl, in.data() + i, int(bulk));
    i += bulk;
    pos_ += bulk;
  }
  // 3. A partial block at the end: output now from one keystream block, hold the input.
  if (i < in.size()) {
    keystream_block(pos_ / 16, ks_.data());
    const size_t n = in.size() - i;
    for (size_t j = 0; j < n; ++j) {
      held_[j] = in[i + j];
      out[i + j] = in[i + j] ^ ks_[j];
    }
    held_len_ = n;
    pos_ += n;
  }
}

void GcmStream::flush_held() {
  if (held_len_ == 0) return;
  uint8_t scratch[16];
  int outl = 0;
  EVP_CipherUpdate(gcm_, scratch, &outl, held_.data(), int(held_len_));
  held_len_ = 0;
}

void GcmStream::final_tag(uint8_t tag[16]) {
  flush_held();
  uint8_t scratch[16];
  int outl = 0;
  EVP_CipherFinal_ex(gcm_, scratch, &outl);
  EVP_CIPHER_CTX_ctrl(gcm_, EVP_CTRL_AEAD_GET_TAG, 16, tag);
}

bool GcmStream::check_tag(const uint8_t tag[16]) {
  flush_held();
  EVP_CIPHER_CTX_ctrl(gcm_, EVP_CTRL_AEAD_SET_TAG, 16, const_cast<uint8_t*>(tag));
  uint8_t scratch[16];
  int outl = 0;
  return EVP_CipherFinal_ex(gcm_, scratch, &outl) > 0;
}

}  // namespace autonic::nic
