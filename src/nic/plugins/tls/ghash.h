// GHASH (NIST SP 800-38D §6.4) with carry-less multiplication (PCLMULQDQ), written for the
// NIC's AES-GCM engine (gcm_stream.h) so that the running hash is ours to park and restore:
// OpenSSL's GCM context does not export its accumulator.
//
// Method (Intel's "Carry-Less Multiplication and Its Usage for Computing the GCM Mode" white
// paper, Gueron & Kounavis): blocks are byte-reflected into registers, so a field element's
// bits are reflected; the 128x128 product is formed with Karatsuba (3 multiplications), shifted
// left one bit (the reflected product lacks x^0's position) and reduced modulo
// x^128 + x^7 + x^2 + x + 1 by shifts. Eight blocks are hashed per reduction ("aggregated
// reduction"): Y' = (Y + C1) H^k + C2 H^(k-1) + ... + Ck H. Where the CPU has VPCLMULQDQ on
// 512-bit registers (AVX-512), four blocks go through each instruction and k = 16 (checked
// once at run time); elsewhere k = 8 with 128-bit PCLMULQDQ.
#pragma once
#include <cstddef>
#include <cstdint>

namespace autonic::nic {

// The key's powers H^16..H^1 (working state: made from H whenever a context is brought onto
// the NIC, 256 B), highest first so that four consecutive ones fill a 512-bit register in
// the order four consecutive blocks need them. Elements are kept in the reflected register
// form as two 64-bit words.
struct GhashKey {
  static constexpr size_t kPowers = 16;
  alignas(64) uint64_t pow[kPowers][2];  // pow[i] = H^(kPowers - i)
  const uint64_t* power(size_t e) const { return pow[kPowers - e]; }  // H^e, 1 <= e <= 16
  // h: E(K, 0^128), 16 bytes as SP 800-38D writes it.
  void init(const uint8_t h[16]);
};

// Y (the accumulator, 16 bytes in SP 800-38D's byte order) <- GHASH over `blocks` whole
// 16-byte blocks continuing from Y.
void ghash_blocks(const GhashKey& k, uint8_t y[16], const uint8_t* blocks, size_t n_blocks);
// The same with 128-bit PCLMULQDQ only (what CPUs without VPCLMULQDQ run; tests compare).
void ghash_blocks_clmul128(const GhashKey& k, uint8_t y[16], const uint8_t* blocks, size_t n_blocks);

}  // namespace autonic::nic
