// The "framed" L5P: a minimal protocol that has exactly the properties the paper requires
// (Table 3), used to exercise the generic engine end to end and as the reference example of how
// to add an L5P. Wire format of one message (all integers big-endian):
//
//   0      4     5        6          8            12                12+len      16+len
//   | magic | type | version | reserved | length   | payload (enc.)  | check (4)  |
//   "AUTN"    1      1         0          payload bytes
//
// Magic pattern = magic + type + version + reserved (§3.3); the length bounds the message. The
// payload is XORed with a keystream keyed by (connection key, message index, offset), the check
// value is CRC32C over header + encrypted payload, seeded by (key, message index): both are
// size-preserving and incrementally computable over any byte range (§3.1, §3.2).
#pragma once
#include <cstdint>
#include <optional>

#include "common/bytes.h"

namespace autonic::proto::framed {

inline constexpr size_t kHeaderLen = 12;
inline constexpr size_t kTrailerLen = 4;
inline constexpr uint32_t kMagic = 0x4155544E;  // "AUTN"
inline constexpr uint8_t kTypeData = 1;
inline constexpr uint8_t kVersion = 1;
inline constexpr uint32_t kMaxPayload = 1u << 20;

struct Header {
  uint8_t type = kTypeData;
  uint32_t payload_len = 0;
  uint32_t msg_len() const { return uint32_t(kHeaderLen + payload_len + kTrailerLen); }
};

enum class HeaderError : uint8_t { kBadMagic, kBadType, kBadVersion, kTooLong };

// Parses a header (exactly kHeaderLen bytes).
inline std::optional<Header> parse_header(ByteSpan h, HeaderError* err = nullptr) {
  auto fail = [&](HeaderError e) { if (err) *err = e; return std::optional<Header>(); };
  if (h.size() < kHeaderLen) return fail(HeaderError::kBadMagic);
  if (load_be32(&h[0]) != kMagic || h[6] != 0 || h[7] != 0) return fail(HeaderError::kBadMagic);
  if (h[4] != kTypeData) return fail(HeaderError::kBadType);
  if (h[5] != kVersion) return fail(HeaderError::kBadVersion);
  const uint32_t len = load_be32(&h[8]);
  if (len > kMaxPayload) return fail(HeaderError::kTooLong);
  return Header{h[4], len};
}

inline void write_header(uint8_t* out, uint32_t payload_len) {
  store_be32(out, kMagic);
  out[4] = kTypeData;
  out[5] = kVersion;
  out[6] = out[7] = 0;
  store_be32(out + 8, payload_len);
}

struct Key {
  uint64_t k0 = 0, k1 = 0;
};

// Transform of message `index` (both the L5P's software cipher and the NIC model implement it,
// each its own way; splitmix64 is common/rng.h's, CRC32C the iSCSI polynomial):
//   base     = splitmix64(k0 ^ splitmix64(index + k1))
//   payload byte at offset o  ^=  byte (o mod 8) of splitmix64(base + o / 8), little-endian
//   check    = CRC32C over header || encrypted payload, register seeded with
//              uint32(splitmix64(base ^ kCrcSeedSalt)), stored big-endian after the payload
inline constexpr uint64_t kCrcSeedSalt = 0xC3C3C3C3ull;

}  // namespace autonic::proto::framed
