// Incremental FNV-1a 64: the wire's trace hash (same seed + scenario => same hash).
#pragma once
#include <cstdint>
#include <span>

namespace autonic {

class Fnv1a64 {
 public:
  void update(std::span<const uint8_t> b) {
    for (uint8_t c : b) h_ = (h_ ^ c) * 0x100000001B3ull;
  }
  void update_u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) h_ = (h_ ^ uint8_t(v >> (8 * i))) * 0x100000001B3ull;
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xCBF29CE484222325ull;
};

}  // namespace autonic
