#include "nic/plugins/tls/aead_stream.h"

#include <stdexcept>

#include "proto/tls/tls_evp.h"

namespace autonic::nic {

using proto::tls::Cipher;

AeadStream::AeadStream(Cipher cipher, ByteSpan key) : ctx_(EVP_CIPHER_CTX_new()) {
  if (!ctx_) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  rekey(cipher, key);
}

AeadStream::~AeadStream() { EVP_CIPHER_CTX_free(ctx_); }

void AeadStream::rekey(Cipher cipher, ByteSpan key) {
  if (key.size() != proto::tls::key_len(cipher)) throw std::invalid_argument("AEAD key length does not match the cipher");
  if (cipher == Cipher::kChacha20Poly1305) {
    if (!chacha_) chacha_ = std::make_unique<ChachaPolyStream>();
    chacha_->rekey(key);
    return;
  }
  chacha_.reset();
  // Key schedule once per key; each record only sets a new nonce.
  EVP_CipherInit_ex(ctx_, proto::tls::evp_aead(cipher), nullptr, key.data(), nullptr, 1);
}

void AeadStream::begin(const uint8_t nonce[12], ByteSpan aad, bool encrypt) {
  if (chacha_) return chacha_->begin(nonce, aad, encrypt);
  EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, nonce, encrypt ? 1 : 0);
  int outl = 0;
  if (!aad.empty()) EVP_CipherUpdate(ctx_, nullptr, &outl, aad.data(), int(aad.size()));
}

void AeadStream::update(ByteSpan in, MutByteSpan out) {
  if (chacha_) return chacha_->update(in, out);
  int outl = 0;
  if (!in.empty()) EVP_CipherUpdate(ctx_, out.data(), &outl, in.data(), int(in.size()));
}

void AeadStream::final_tag(uint8_t tag[16]) {
  if (chacha_) return chacha_->final_tag(tag);
  uint8_t scratch[16];
  int outl = 0;
  EVP_CipherFinal_ex(ctx_, scratch, &outl);
  EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, 16, tag);
}

bool AeadStream::check_tag(const uint8_t tag[16]) {
  if (chacha_) return chacha_->check_tag(tag);
  EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, 16, const_cast<uint8_t*>(tag));
  uint8_t scratch[16];
  int outl = 0;
  return EVP_CipherFinal_ex(ctx_, scratch, &outl) > 0;
}

size_t AeadStream::dynamic_state_bytes(Cipher cipher) {
  // AES-GCM: H, counter block Y, GHASH accumulator, the two lengths, a held partial block and
  // its keystream (6 x 16). ChaCha20-Poly1305: block counter (4) and the position in the
  // current keystream block (1: the block is recomputed from key, nonce and counter when the
  // context is fetched, so its 64 bytes are not stored), Poly1305 r and s (32), accumulator
  // (17, rounded to 20), a partial 16-byte block and the two lengths (16 + 16).
  return cipher == Cipher::kChacha20Poly1305 ? 4 + 1 + 32 + 20 + 16 + 16 : 6 * 16;
}

}  // namespace autonic::nic
