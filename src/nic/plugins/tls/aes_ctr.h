// AES-CTR keystream for GCM's GCTR (NIST SP 800-38D §6.5, inc32 counter blocks), on VAES:
// four blocks an instruction, sixteen in flight. OpenSSL 3.0's EVP aes-*-ctr runs AES-NI one
// block a lane (0.23 cycles a byte here); with our own GHASH beside it the NIC engine came to
// 0.85-0.90 of OpenSSL's one-shot GCM (issue #12's goal: 0.9), and the keystream was two thirds
// of its time. Used where the CPU has VAES and AVX-512 (available()); GcmStream keeps EVP's
// CTR otherwise.
//
// The whole state is the key schedule, the next counter block and the unused rest of the
// current keystream block: GcmStream rebuilds it from its at-rest part (a parked context).
#pragma once
#include <cstddef>
#include <cstdint>

namespace autonic::nic {

class AesCtr {
 public:
  static bool available();  // VAES, AVX-512 F/BW and AES-NI on this CPU
  ~AesCtr();
  void init(const uint8_t* key, size_t key_len);  // 16 or 32 bytes
  // E(K, block): one block, outside the stream (H, E(K, J0)).
  void encrypt_block(const uint8_t in[16], uint8_t out[16]) const;
  // The stream continues at counter block `cb` (its low 32 bits count, big-endian), with
  // `skip` bytes of that block's keystream already used.
  void seek(const uint8_t cb[16], size_t skip);
  // out = in XOR keystream, n bytes; in and out may alias.
  void apply(const uint8_t* in, uint8_t* out, size_t n);

 private:
  void blocks(const uint8_t* in, uint8_t* out, size_t n_blocks);  // whole blocks from cb_
  alignas(64) uint8_t rk_[15 * 16] = {};                           // round keys
  int rounds_ = 0;
  uint8_t cb_[16] = {};  // the next counter block
  uint8_t ks_[16] = {};  // the current block's keystream
  uint8_t ks_used_ = 16;  // bytes of ks_ already used
};

}  // namespace autonic::nic
