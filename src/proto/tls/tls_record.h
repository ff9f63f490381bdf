// TLS record framing shared by the record layer and the NIC plug-in (RFC 8446 §5.1-5.3).
//   TLSCiphertext: opaque_type(1) legacy_record_version(2) = 0x0303, length(2), encrypted_record
//   encrypted_record = AEAD(TLSInnerPlaintext = content || ContentType || zeros) || tag(16)
//   per-record nonce = iv XOR (0^32 || seq_be64)  (§5.3); AAD = the 5-byte header (§5.2)
#pragma once
#include <cstdint>
#include <array>
#include <optional>

#include "common/bytes.h"

namespace autonic::proto::tls {

inline constexpr size_t kHeaderLen = 5;
inline constexpr size_t kTagLen = 16;
inline constexpr size_t kMaxPlaintext = 1u << 14;            // §5.1
inline constexpr size_t kMaxCiphertext = (1u << 14) + 256;   // §5.2: record_overflow beyond
inline constexpr uint16_t kLegacyVersion = 0x0303;

enum class ContentType : uint8_t {
  kChangeCipherSpec = 20, kAlert = 21, kHandshake = 22, kApplicationData = 23,
};

enum class Cipher : uint8_t { kAes128Gcm, kAes256Gcm, kChacha20Poly1305 };
const char* cipher_name(Cipher c);
inline size_t key_len(Cipher c) { return c == Cipher::kAes128Gcm ? 16 : 32; }
inline bool offloadable(Cipher c) { return c != Cipher::kChacha20Poly1305; }

// Traffic keys for one direction (RFC 8446 §7.3).
struct TrafficKeys {
  Cipher cipher = Cipher::kAes128Gcm;
  Bytes key;
  std::array<uint8_t, 12> iv{};
};

inline void record_nonce(const std::array<uint8_t, 12>& iv, uint64_t seq, uint8_t out[12]) {
  for (int i = 0; i < 12; ++i) out[i] = iv[size_t(i)];
  for (int i = 0; i < 8; ++i) out[4 + i] ^= uint8_t(seq >> (8 * (7 - i)));
}

enum class HeaderCheck : uint8_t { kOk, kBadType, kBadVersion, kOverflow, kTooShort };

// The record-layer view of a header once the handshake is done.
inline HeaderCheck check_header(ByteSpan h, uint16_t* len) {
  const uint8_t type = h[0];
  if (type < 20 || type > 23) return HeaderCheck::kBadType;
  if (load_be16(&h[1]) != kLegacyVersion) return HeaderCheck::kBadVersion;
  *len = load_be16(&h[3]);
  if (*len > kMaxCiphertext) return HeaderCheck::kOverflow;
  if (*len < kTagLen + 1) return HeaderCheck::kTooShort;
  return HeaderCheck::kOk;
}

}  // namespace autonic::proto::tls
