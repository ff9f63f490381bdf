// Incremental trace hash for the wire (same seed + scenario => same hash): FNV-1a's structure
// over 64-bit words (a byte-at-a-time FNV cost a quarter of the whole simulation).
#pragma once
#include <cstdint>
#include <cstring>
#include <span>

namespace autonic {

class Fnv1a64 {
 public:
  void update(std::span<const uint8_t> b) {
    size_t i = 0;
    for (; i + 8 <= b.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, b.data() + i, 8);
      h_ = (h_ ^ w) * 0x100000001B3ull;
      h_ ^= h_ >> 29;
    }
    for (; i < b.size(); ++i) h_ = (h_ ^ b[i]) * 0x100000001B3ull;
  }
  void update_u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) h_ = (h_ ^ uint8_t(v >> (8 * i))) * 0x100000001B3ull;
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xCBF29CE484222325ull;
};

}  // namespace autonic
