// Incremental AES-GCM over arbitrary byte ranges with constant-size state: what the NIC's TLS
// engine needs to process a record cut into TCP segments at any byte (§3.2). Built on OpenSSL's
// EVP GCM, fed only whole 16-byte blocks: the partial block at a segment edge is produced from
// one extra AES block of keystream and its input bytes are held (<= 15) until the block
// completes. Feeding EVP the unaligned pieces directly works too, but drops it off its stitched
// AES-NI + PCLMUL fast path (issue #3: ~0.65 of one-shot speed on this machine).
#pragma once
#include <openssl/evp.h>

#include <array>
#include <cstdint>

#include "common/bytes.h"

namespace autonic::nic {

class GcmStream {
 public:
  GcmStream(ByteSpan key);  // 16 or 32 bytes: AES-128 / AES-256
  ~GcmStream();
  GcmStream(const GcmStream&) = delete;
  GcmStream& operator=(const GcmStream&) = delete;

  void begin(const uint8_t nonce[12], ByteSpan aad, bool encrypt);
  // Next in.size() bytes of the message (plaintext when encrypting, ciphertext when decrypting).
  void update(ByteSpan in, MutByteSpan out);
  void final_tag(uint8_t tag[16]);              // encrypt
  bool check_tag(const uint8_t tag[16]);        // decrypt
  size_t processed() const { return size_t(pos_); }

 private:
  void keystream_block(uint64_t block, uint8_t ks[16]);
  void flush_held();

  EVP_CIPHER_CTX* gcm_;
  EVP_CIPHER_CTX* ecb_;
  bool encrypt_ = true;
  std::array<uint8_t, 12> nonce_{};
  uint64_t pos_ = 0;          // message bytes processed
  std::array<uint8_t, 16> held_{};  // input bytes of the current partial block
  size_t held_len_ = 0;
  std::array<uint8_t, 16> ks_{};    // keystream of the current partial block
};

}  // namespace autonic::nic
