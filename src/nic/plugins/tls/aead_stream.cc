#include "nic/plugins/tls/aead_stream.h"

#include <stdexcept>

namespace autonic::nic {

using proto::tls::Cipher;

AeadStream::AeadStream(Cipher cipher, ByteSpan key) { rekey(cipher, key); }

AeadStream::~AeadStream() = default;

void AeadStream::rekey(Cipher cipher, ByteSpan key) {
  if (key.size() != proto::tls::key_len(cipher)) throw std::invalid_argument("AEAD key length does not match the cipher");
  if (cipher == Cipher::kChacha20Poly1305) {
    if (!chacha_) chacha_ = std::make_unique<ChachaPolyStream>();
    chacha_->rekey(key);
    return;
  }
  chacha_.reset();
  gcm_.rekey(key);  // the key schedule is made when first needed, once per key
}

void AeadStream::park() {
  if (!chacha_) gcm_.park();
}

void AeadStream::begin(const uint8_t nonce[12], ByteSpan aad, bool encrypt) {
  if (chacha_) return chacha_->begin(nonce, aad, encrypt);
  gcm_.begin(nonce, aad, encrypt);
}

void AeadStream::update(ByteSpan in, MutByteSpan out) {
  if (chacha_) return chacha_->update(in, out);
  gcm_.update(in, out);
}

void AeadStream::final_tag(uint8_t tag[16]) {
  if (chacha_) return chacha_->final_tag(tag);
  gcm_.final_tag(tag);
}

bool AeadStream::check_tag(const uint8_t tag[16]) {
  if (chacha_) return chacha_->check_tag(tag);
  return gcm_.check_tag(tag);
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
