// Deterministic per-component randomness (STYLE.md habit 8): every component owns a PRNG seeded
// from (run seed, component id); nothing reads std::random_device or the clock.
#pragma once
#include <cstdint>

namespace autonic {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// xoshiro256** (Blackman & Vigna): fast, good statistical quality, tiny state.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t component) {
    uint64_t x = splitmix64(seed) ^ splitmix64(component * 0x2545F4914F6CDD1Dull + 1);
    for (auto& w : s_) w = x = splitmix64(x);
  }
  uint64_t next() {
    const uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0]; s_[3] ^= s_[1]; s_[1] ^= s_[2]; s_[0] ^= s_[3];
    s_[2] ^= t; s_[3] = rotl(s_[3], 45);
    return r;
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0,1)
  bool chance(double p) { return p > 0 && uniform() < p; }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace autonic
