// ChaCha20-Poly1305 (RFC 8439 §2.8) over arbitrary byte ranges with constant-size state, for the
// NIC's TLS engine: the ChaCha20 block counter + the unused rest of the current 64-byte
// keystream block, and Poly1305's accumulator (EVP's MAC context) + the two lengths.
//
// Built from OpenSSL's ChaCha20 and Poly1305 rather than its combined AEAD because of measured
// costs (autonic bench tls, this machine): OpenSSL's ChaCha20 runs 16 blocks (1 KiB) at a time
// at full speed and anything shorter through slower paths -- a call ending inside a block even
// runs the block function once more alone -- so 1448-byte segment updates of the combined AEAD
// ran at half the speed of whole records (14.5 vs 28.9 Gbps), and whole-block calls of ~1.4 KiB
// at 0.62. Here ChaCha20 only ever runs in 1 KiB units: in place over a segment's whole KiBs,
// and into a keystream window for the rest, which the next segment continues from. (The window
// is a software-speed cache; the state a NIC keeps is still the counter and one block's rest.)
// Likewise Poly1305 is only ever given whole 16-byte blocks (a segment's bytes are appended to
// the held partial block in a staging buffer): OpenSSL finishes a partial block through its
// scalar code and converts its vector state back and forth, 1448-byte updates ran at 0.74 of
// whole records, 16-byte multiples at 0.87.
#pragma once
#include <openssl/evp.h>

#include <array>
#include <cstdint>

#include "common/bytes.h"

namespace autonic::nic {

class ChachaPolyStream {
 public:
  ChachaPolyStream();
  ~ChachaPolyStream();
  ChachaPolyStream(const ChachaPolyStream&) = delete;
  ChachaPolyStream& operator=(const ChachaPolyStream&) = delete;

  void rekey(ByteSpan key);  // 32 bytes
  void begin(const uint8_t nonce[12], ByteSpan aad, bool encrypt);
  void update(ByteSpan in, MutByteSpan out);
  void final_tag(uint8_t tag[16]);
  bool check_tag(const uint8_t tag[16]);

 private:
  static constexpr size_t kBlock = 64, kUnit = 16 * kBlock;
  void crypt(ByteSpan in, MutByteSpan out);  // the keystream XOR, any length
  void mac_pad(uint64_t len);                // pad16 of the Poly1305 input (§2.8)
  EVP_CIPHER_CTX* chacha_;
  EVP_MAC_CTX* poly_;
  bool encrypt_ = true;
  uint64_t aad_len_ = 0, ct_len_ = 0;
  void mac(ByteSpan b);  // Poly1305 input, in whole blocks
  std::array<uint8_t, 2 * kUnit> held_{};  // staging: the partial block (< 16 B) at the front
  size_t held_len_ = 0;
  std::array<uint8_t, kUnit> window_{};  // keystream not used yet ...
  size_t window_at_ = kUnit;             // ... from this byte on
};

}  // namespace autonic::nic
