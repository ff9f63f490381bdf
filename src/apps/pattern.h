// Deterministic payload: byte o of a flow is a function of (flow seed, o), so a receiver can
// verify every byte it gets without keeping a copy of what was sent.
#pragma once
#include <cstdint>
#include <cstring>

#include "common/bytes.h"
#include "common/rng.h"

namespace autonic::apps {

inline void pattern_fill(uint64_t flow_seed, uint64_t offset, MutByteSpan out) {
  size_t i = 0;
  while (i < out.size()) {
    const uint64_t o = offset + i;
    if (o % 8 == 0 && out.size() - i >= 8) {  // whole words: the common case
      const uint64_t w = splitmix64(flow_seed + o / 8);
      std::memcpy(out.data() + i, &w, 8);  // little-endian: byte j = w >> 8j, as below
      i += 8;
      continue;
    }
    const uint64_t w = splitmix64(flow_seed + o / 8);
    const size_t first = size_t(o % 8);
    const size_t n = std::min<size_t>(8 - first, out.size() - i);
    for (size_t j = 0; j < n; ++j) out[i + j] = uint8_t(w >> (8 * (first + j)));
    i += n;
  }
}

// Number of bytes in `data` that differ from the pattern at `offset`.
inline uint64_t pattern_mismatches(uint64_t flow_seed, uint64_t offset, ByteSpan data) {
  uint8_t buf[4096];
  uint64_t bad = 0;
  for (size_t i = 0; i < data.size(); i += sizeof buf) {
    const size_t n = std::min(sizeof buf, data.size() - i);
    pattern_fill(flow_seed, offset + i, MutByteSpan(buf, n));
    if (std::memcmp(buf, data.data() + i, n) == 0) continue;
    for (size_t j = 0; j < n; ++j) bad += buf[j] != data[i + j];
  }
  return bad;
}

}  // namespace autonic::apps
