// Software prefetch over a byte range: asks the caches for every 64-byte line of [p, p + n) (a
// hint: never faults, never changes a byte). For data the NIC model wrote to the L3 (DDIO, with
// the model on a core of its own) that the host is about to read.
#pragma once
#include <cstddef>
#include <cstdint>

namespace autonic {

inline void prefetch_lines(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t o = 0; o < n; o += 64) __builtin_prefetch(b + o);
}

}  // namespace autonic
