#include "nic/plugins/tls/gcm_stream.h"

#include <stdexcept>

namespace autonic::nic {

GcmStream::GcmStream(ByteSpan key) : gcm_(EVP_CIPHER_CTX_new()) {
  if (!gcm_) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  if (key.size() != 16 && key.size() != 32) throw std::invalid_argument("AES-GCM key must be 16 or 32 bytes");
  // Key schedule once per context; each record only sets a new IV.
  EVP_CipherInit_ex(gcm_, key.size() == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(), nullptr, key.data(), nullptr, 1);
}

GcmStream::~GcmStream() { EVP_CIPHER_CTX_free(gcm_); }

void GcmStream::begin(const uint8_t nonce[12], ByteSpan aad, bool encrypt) {
  EVP_CipherInit_ex(gcm_, nullptr, nullptr, nullptr, nonce, encrypt ? 1 : 0);
  int outl = 0;
  if (!aad.empty()) EVP_CipherUpdate(gcm_, nullptr, &outl, aad.data(), int(aad.size()));
}

void GcmStream::update(ByteSpan in, MutByteSpan out) {
  int outl = 0;
  if (!in.empty()) EVP_CipherUpdate(gcm_, out.data(), &outl, in.data(), int(in.size()));
}

void GcmStream::final_tag(uint8_t tag[16]) {
  uint8_t scratch[16];
  int outl = 0;
  EVP_CipherFinal_ex(gcm_, scratch, &outl);
  EVP_CIPHER_CTX_ctrl(gcm_, EVP_CTRL_AEAD_GET_TAG, 16, tag);
}

bool GcmStream::check_tag(const uint8_t tag[16]) {
  EVP_CIPHER_CTX_ctrl(gcm_, EVP_CTRL_AEAD_SET_TAG, 16, const_cast<uint8_t*>(tag));
  uint8_t scratch[16];
  int outl = 0;
  return EVP_CipherFinal_ex(gcm_, scratch, &outl) > 0;
}

}  // namespace autonic::nic
