#include "nic/plugins/tls/ghash.h"

#include <immintrin.h>

// GCC 12's own AVX-512 intrinsics (_mm512_broadcast_i32x4, _mm512_extracti64x4_epi64) fill
// their unused operand with a self-initialised "undefined" value that -Wuninitialized flags at
// every inlining site (GCC PR 105593): nothing here reads an uninitialised value.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// PCLMULQDQ and PSHUFB per function: the rest of the build keeps the baseline ISA.
#define AUTONIC_CLMUL __attribute__((target("pclmul,ssse3")))

namespace autonic::nic {
namespace {

// SP 800-38D numbers a block's bits from the most significant bit of byte 0 (x^0). Reversing
// the bytes puts x^0 at register bit 127: bit k holds the coefficient of x^(127-k).
AUTONIC_CLMUL inline __m128i reflect_bytes(__m128i x) {
  return _mm_shuffle_epi8(x, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}
AUTONIC_CLMUL inline __m128i load_block(const uint8_t* p) {
  return reflect_bytes(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
AUTONIC_CLMUL inline void store_block(uint8_t* p, __m128i x) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), reflect_bytes(x));
}

// Unreduced 256-bit products, summed: low and high 64x64 products and the middle term.
struct Acc {
  __m128i lo, hi, mid;
};

AUTONIC_CLMUL inline Acc acc_zero() { return Acc{_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()}; }

// a += x * h, Karatsuba: x1h1, x0h0 and (x0^x1)(h0^h1) ^ x1h1 ^ x0h0.
AUTONIC_CLMUL inline void mul_add(Acc& a, __m128i x, __m128i h) {
  const __m128i lo = _mm_clmulepi64_si128(x, h, 0x00), hi = _mm_clmulepi64_si128(x, h, 0x11);
  const __m128i xk = _mm_xor_si128(x, _mm_shuffle_epi32(x, 0x4E)), hk = _mm_xor_si128(h, _mm_shuffle_epi32(h, 0x4E));
  a.lo = _mm_xor_si128(a.lo, lo);
  a.hi = _mm_xor_si128(a.hi, hi);
  a.mid = _mm_xor_si128(a.mid, _mm_xor_si128(_mm_clmulepi64_si128(xk, hk, 0x00), _mm_xor_si128(lo, hi)));
}

// 128-bit shifts of a register by n in 1..63 bits, built from the 64-bit lane shifts.
AUTONIC_CLMUL inline __m128i shr128(__m128i x, int n) {
  return _mm_or_si128(_mm_srli_epi64(x, n), _mm_srli_si128(_mm_slli_epi64(x, 64 - n), 8));
}

// The product (reflected, 255 bits) reduced modulo g = x^128 + x^7 + x^2 + x + 1.
AUTONIC_CLMUL inline __m128i reduce(const Acc& a) {
  __m128i lo = _mm_xor_si128(a.lo, _mm_slli_si128(a.mid, 8));
  __m128i hi = _mm_xor_si128(a.hi, _mm_srli_si128(a.mid, 8));
  // The carry-less product of reflected operands is the reflected product shifted right by
  // one bit (it has 255 bits): shift [hi:lo] left by one.
  const __m128i lc = _mm_srli_epi64(lo, 63), hc = _mm_srli_epi64(hi, 63);
  lo = _mm_or_si128(_mm_slli_epi64(lo, 1), _mm_slli_si128(lc, 8));
  hi = _mm_or_si128(_mm_or_si128(_mm_slli_epi64(hi, 1), _mm_slli_si128(hc, 8)), _mm_srli_si128(lc, 8));
  // hi holds x^0..x^127, lo (call it L) x^128..x^255 = x^128 * l(x). With x^128 = 1 + x + x^2 +
  // x^7: l * (1 + x + x^2 + x^7), where multiplying by x^i is a right shift by i. The bits each
  // shift pushes out (degree >= 128) are T = L<<127 ^ L<<126 ^ L<<121, degree < 7, folded in
  // once more the same way (it cannot overflow again): the result is
  // hi ^ L' ^ L'>>1 ^ L'>>2 ^ L'>>7 with L' = L ^ T.
  const __m128i t = _mm_slli_si128(
      _mm_xor_si128(_mm_xor_si128(_mm_slli_epi64(lo, 63), _mm_slli_epi64(lo, 62)), _mm_slli_epi64(lo, 57)), 8);
  lo = _mm_xor_si128(lo, t);
  const __m128i folded = _mm_xor_si128(_mm_xor_si128(lo, shr128(lo, 1)), _mm_xor_si128(shr128(lo, 2), shr128(lo, 7)));
  return _mm_xor_si128(hi, folded);
}

AUTONIC_CLMUL inline __m128i load_u128(const uint64_t* w) { return _mm_load_si128(reinterpret_cast<const __m128i*>(w)); }

// 128-bit path: up to 8 blocks per reduction.
AUTONIC_CLMUL __m128i ghash_128(const GhashKey& k, __m128i acc, const uint8_t* blocks, size_t n_blocks) {
  while (n_blocks) {
    const size_t n = n_blocks < 8 ? n_blocks : 8;
    Acc a = acc_zero();
    for (size_t j = 0; j < n; ++j) {
      __m128i x = load_block(blocks + 16 * j);
      if (j == 0) x = _mm_xor_si128(x, acc);
      mul_add(a, x, load_u128(k.power(n - j)));
    }
    acc = reduce(a);
    blocks += 16 * n;
    n_blocks -= n;
  }
  return acc;
}

#define AUTONIC_VCLMUL __attribute__((target("pclmul,ssse3,avx512f,avx512bw,vpclmulqdq")))

AUTONIC_VCLMUL inline __m128i fold_lanes(__m512i v) {
  const __m256i h = _mm256_xor_si256(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  return _mm_xor_si128(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

// 512-bit path: 16 blocks per reduction, four per register; block j of the n <= 16 is
// multiplied by H^(n-j), so each register's four powers lie next to each other in pow[]
// (stored highest first). The products are schoolbook (the middle term as two
// multiplications): no per-lane shuffles. A last group of fewer than 16 blocks takes the
// same path with masked loads (lanes past the end are zero: they add nothing).
AUTONIC_VCLMUL __m128i ghash_512(const GhashKey& k, __m128i acc, const uint8_t* blocks, size_t n_blocks) {
  const __m512i rev = _mm512_broadcast_i32x4(_mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  while (n_blocks) {
    const size_t n = n_blocks < 16 ? n_blocks : 16;
    const uint64_t* pw = k.pow[GhashKey::kPowers - n];
    __m512i lo = _mm512_setzero_si512(), hi = lo, mid = lo;
    for (size_t j = 0; j < n; j += 4) {
      const size_t lanes = n - j < 4 ? n - j : 4;
      const __mmask8 m = __mmask8((1u << (2 * lanes)) - 1);
      const __m512i p = _mm512_maskz_loadu_epi64(m, pw + 2 * j);
      __m512i x = _mm512_shuffle_epi8(_mm512_maskz_loadu_epi64(m, blocks + 16 * j), rev);
      if (j == 0) x = _mm512_xor_si512(x, _mm512_zextsi128_si512(acc));
      lo = _mm512_xor_si512(lo, _mm512_clmulepi64_epi128(x, p, 0x00));
      hi = _mm512_xor_si512(hi, _mm512_clmulepi64_epi128(x, p, 0x11));
      mid = _mm512_xor_si512(
          mid, _mm512_xor_si512(_mm512_clmulepi64_epi128(x, p, 0x01), _mm512_clmulepi64_epi128(x, p, 0x10)));
    }
    acc = reduce(Acc{fold_lanes(lo), fold_lanes(hi), fold_lanes(mid)});
    blocks += 16 * n;
    n_blocks -= n;
  }
  return acc;
}

bool have_vclmul() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("vpclmulqdq");
  return yes;
}

}  // namespace

AUTONIC_CLMUL void GhashKey::init(const uint8_t h[16]) {
  const __m128i hr = load_block(h);
  __m128i p = hr;
  for (size_t e = 1; e <= kPowers; ++e) {
    if (e > 1) {
      Acc a = acc_zero();
      mul_add(a, p, hr);
      p = reduce(a);
    }
    _mm_store_si128(reinterpret_cast<__m128i*>(pow[kPowers - e]), p);
  }
}

// Y_i = (Y_{i-1} ^ C_i) * H (SP 800-38D Algorithm 2), k blocks at a time:
// Y_{i+k} = (Y_i ^ C_1) H^k ^ C_2 H^(k-1) ^ ... ^ C_k H, one reduction per k blocks.
AUTONIC_CLMUL void ghash_blocks(const GhashKey& k, uint8_t y[16], const uint8_t* blocks, size_t n_blocks) {
  __m128i acc = load_block(y);
  // (A block or two, as the lengths block or a held partial one: the 128-bit path is shorter.)
  acc = n_blocks >= 4 && have_vclmul() ? ghash_512(k, acc, blocks, n_blocks) : ghash_128(k, acc, blocks, n_blocks);
  store_block(y, acc);
}

AUTONIC_CLMUL void ghash_blocks_clmul128(const GhashKey& k, uint8_t y[16], const uint8_t* blocks, size_t n_blocks) {
  store_block(y, ghash_128(k, load_block(y), blocks, n_blocks));
}

}  // namespace autonic::nic
