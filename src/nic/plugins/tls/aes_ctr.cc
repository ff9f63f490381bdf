#include "nic/plugins/tls/aes_ctr.h"

#include <cpuid.h>
#include <immintrin.h>
#include <openssl/crypto.h>

// GCC 12's _mm512_broadcast_i32x4 trips -Wuninitialized on its own "undefined" operand at every
// inlining site (GCC PR 105593, as in ghash.cc): nothing here reads an uninitialised value.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cstring>
#include <stdexcept>

#include "common/bytes.h"

namespace autonic::nic {
namespace {

#define AUTONIC_AESNI __attribute__((target("aes,sse4.1")))
#define AUTONIC_VAES __attribute__((target("aes,sse4.1,avx512f,avx512bw,vaes")))

// FIPS 197 §5.2 key expansion with AESKEYGENASSIST: each new round key is the previous one
// with its words prefix-XORed, plus the assist's RotWord/SubWord/Rcon word broadcast
// (shuffle 0xff; 0xaa takes SubWord alone, AES-256's odd round keys).
template <int kShuffle>
AUTONIC_AESNI __m128i next_key(__m128i prev, __m128i assist) {
  assist = _mm_shuffle_epi32(assist, kShuffle);
  prev = _mm_xor_si128(prev, _mm_slli_si128(prev, 4));
  prev = _mm_xor_si128(prev, _mm_slli_si128(prev, 4));
  prev = _mm_xor_si128(prev, _mm_slli_si128(prev, 4));
  return _mm_xor_si128(prev, assist);
}

AUTONIC_AESNI void expand_128(const uint8_t* key, __m128i* rk) {
  rk[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
#define AUTONIC_K128(i, rcon) rk[i] = next_key<0xff>(rk[i - 1], _mm_aeskeygenassist_si128(rk[i - 1], rcon))
  AUTONIC_K128(1, 0x01); AUTONIC_K128(2, 0x02); AUTONIC_K128(3, 0x04); AUTONIC_K128(4, 0x08);
  AUTONIC_K128(5, 0x10); AUTONIC_K128(6, 0x20); AUTONIC_K128(7, 0x40); AUTONIC_K128(8, 0x80);
  AUTONIC_K128(9, 0x1b); AUTONIC_K128(10, 0x36);
#undef AUTONIC_K128
}

AUTONIC_AESNI void expand_256(const uint8_t* key, __m128i* rk) {
  rk[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
  rk[1] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key + 16));
#define AUTONIC_K256(i, rcon)                                                           \
  rk[i] = next_key<0xff>(rk[i - 2], _mm_aeskeygenassist_si128(rk[i - 1], rcon));        \
  if (i + 1 < 15) rk[i + 1] = next_key<0xaa>(rk[i - 1], _mm_aeskeygenassist_si128(rk[i], 0))
  AUTONIC_K256(2, 0x01); AUTONIC_K256(4, 0x02); AUTONIC_K256(6, 0x04); AUTONIC_K256(8, 0x08);
  AUTONIC_K256(10, 0x10); AUTONIC_K256(12, 0x20);
  rk[14] = next_key<0xff>(rk[12], _mm_aeskeygenassist_si128(rk[13], 0x40));
#undef AUTONIC_K256
}

AUTONIC_AESNI void encrypt_one(const uint8_t* rk, int rounds, const uint8_t* in, uint8_t* out) {
  const auto* k = reinterpret_cast<const __m128i*>(rk);
  __m128i x = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in)), _mm_load_si128(k));
  for (int r = 1; r < rounds; ++r) x = _mm_aesenc_si128(x, _mm_load_si128(k + r));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_aesenclast_si128(x, _mm_load_si128(k + rounds)));
}

// Four counter blocks a register, sixteen a round trip. The counter word (bytes 12-15, big-
// endian) is byte-swapped within each lane so that a 32-bit add increments it (inc32: it wraps
// within its 32 bits, SP 800-38D §6.2), and swapped back before the rounds.
AUTONIC_VAES void ctr_blocks(const uint8_t* rk, int rounds, const uint8_t cb[16], const uint8_t* in, uint8_t* out,
                             size_t n) {
  const __m512i swap = _mm512_broadcast_i32x4(_mm_set_epi8(12, 13, 14, 15, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
  const __m512i four = _mm512_set_epi32(4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0);
  __m512i ctr = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(cb))), swap);
  ctr = _mm512_add_epi32(ctr, _mm512_set_epi32(3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0));
  __m512i k[15];
  for (int r = 0; r <= rounds; ++r)
    k[r] = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(rk) + r));
  while (n >= 16) {
    __m512i x[4];
    for (int j = 0; j < 4; ++j) {
      x[j] = _mm512_xor_si512(_mm512_shuffle_epi8(ctr, swap), k[0]);
      ctr = _mm512_add_epi32(ctr, four);
    }
    for (int r = 1; r < rounds; ++r)
      for (int j = 0; j < 4; ++j) x[j] = _mm512_aesenc_epi128(x[j], k[r]);
    for (int j = 0; j < 4; ++j) {
      x[j] = _mm512_aesenclast_epi128(x[j], k[rounds]);
      _mm512_storeu_si512(out + 64 * j, _mm512_xor_si512(x[j], _mm512_loadu_si512(in + 64 * j)));
    }
    in += 256;
    out += 256;
    n -= 16;
  }
  while (n) {  // up to 15 blocks: a register at a time, lanes past the end masked off
    const size_t lanes = n < 4 ? n : 4;
    const __mmask64 m = lanes == 4 ? ~__mmask64(0) : (__mmask64(1) << (16 * lanes)) - 1;
    __m512i x = _mm512_xor_si512(_mm512_shuffle_epi8(ctr, swap), k[0]);
    ctr = _mm512_add_epi32(ctr, four);
    for (int r = 1; r < rounds; ++r) x = _mm512_aesenc_epi128(x, k[r]);
    x = _mm512_aesenclast_epi128(x, k[rounds]);
    _mm512_mask_storeu_epi8(out, m, _mm512_xor_si512(x, _mm512_maskz_loadu_epi8(m, in)));
    in += 16 * lanes;
    out += 16 * lanes;
    n -= lanes;
  }
}

void inc32(uint8_t cb[16], uint32_t by) { store_be32(cb + 12, load_be32(cb + 12) + by); }

}  // namespace

bool AesCtr::available() {
  // VAES by CPUID (leaf 7, ECX bit 9): clang 14's __builtin_cpu_supports does not know it.
  // avx512f through the builtin also says the OS saves the AVX-512 state.
  static const bool yes = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    const bool vaes = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 9));
    return vaes && __builtin_cpu_supports("aes") && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw");
  }();
  return yes;
}

AesCtr::~AesCtr() { OPENSSL_cleanse(rk_, sizeof rk_); }

void AesCtr::init(const uint8_t* key, size_t key_len) {
  if (key_len != 16 && key_len != 32) throw std::invalid_argument("AES key must be 16 or 32 bytes");
  auto* rk = reinterpret_cast<__m128i*>(rk_);
  if (key_len == 16) expand_128(key, rk);
  else expand_256(key, rk);
  rounds_ = key_len == 16 ? 10 : 14;
  ks_used_ = 16;
}

void AesCtr::encrypt_block(const uint8_t in[16], uint8_t out[16]) const { encrypt_one(rk_, rounds_, in, out); }

void AesCtr::seek(const uint8_t cb[16], size_t skip) {
  std::memcpy(cb_, cb, 16);
  ks_used_ = 16;
  if (skip == 0) return;
  encrypt_one(rk_, rounds_, cb_, ks_);
  inc32(cb_, 1);
  ks_used_ = uint8_t(skip);
}

void AesCtr::blocks(const uint8_t* in, uint8_t* out, size_t n_blocks) {
  ctr_blocks(rk_, rounds_, cb_, in, out, n_blocks);
  inc32(cb_, uint32_t(n_blocks));
}

void AesCtr::apply(const uint8_t* in, uint8_t* out, size_t n) {
  while (n && ks_used_ < 16) {  // the rest of the current block's keystream first
    *out++ = *in++ ^ ks_[ks_used_++];
    --n;
  }
  if (const size_t whole = n / 16) {
    blocks(in, out, whole);
    in += 16 * whole;
    out += 16 * whole;
    n -= 16 * whole;
  }
  if (n == 0) return;
  encrypt_one(rk_, rounds_, cb_, ks_);  // a partial block: the rest of its keystream is kept
  inc32(cb_, 1);
  for (ks_used_ = 0; ks_used_ < n; ++ks_used_) out[ks_used_] = in[ks_used_] ^ ks_[ks_used_];
}

}  // namespace autonic::nic
