// TLS record framing shared by the record layer and the NIC plug-in.
// TLS 1.3 (RFC 8446 §5.1-5.3):
//   TLSCiphertext: opaque_type(1) = 23, legacy_record_version(2) = 0x0303, length(2), encrypted_record
//   encrypted_record = AEAD(TLSInnerPlaintext = content || ContentType || zeros) || tag(16)
//   nonce = iv XOR (0^32 || seq_be64) (§5.3); AAD = the 5-byte header (§5.2)
// TLS 1.2 AEAD (RFC 5246 §6.2.3.3):
//   TLSCiphertext: type(1) = the real content type, version(2) = 0x0303, length(2), fragment
//   AES-GCM (RFC 5288 §3): fragment = nonce_explicit(8) || ciphertext || tag(16);
//     nonce = salt(4, from the key block) || nonce_explicit. We (like OpenSSL and Linux) send
//     the record sequence number as nonce_explicit; a peer may send anything, so a receiver
//     reads it from the record.
//   ChaCha20-Poly1305 (RFC 7905 §2): fragment = ciphertext || tag(16); nonce as in TLS 1.3.
//   AAD = seq_num(8) || type(1) || version(2) || plaintext length(2) (RFC 5246 §6.2.3.3)
#pragma once
#include <cstdint>
#include <array>
#include <optional>

#include "common/bytes.h"

namespace autonic::proto::tls {

inline constexpr size_t kHeaderLen = 5;
inline constexpr size_t kTagLen = 16;
inline constexpr size_t kMaxPlaintext = 1u << 14;            // §5.1
inline constexpr size_t kMaxCiphertext = (1u << 14) + 256;   // 1.3 §5.2: record_overflow beyond
inline constexpr size_t kMaxCiphertext12 = (1u << 14) + 2048;  // RFC 5246 §6.2.3
inline constexpr size_t kExplicitNonceLen = 8;               // RFC 5288 §3
inline constexpr size_t kMaxAadLen = 13;
inline constexpr uint16_t kLegacyVersion = 0x0303;

enum class ContentType : uint8_t {
  kChangeCipherSpec = 20, kAlert = 21, kHandshake = 22, kApplicationData = 23,
};

enum class Cipher : uint8_t { kAes128Gcm, kAes256Gcm, kChacha20Poly1305 };
enum class Version : uint8_t { kTls12, kTls13 };
const char* cipher_name(Cipher c);
const char* version_name(Version v);
inline size_t key_len(Cipher c) { return c == Cipher::kAes128Gcm ? 16 : 32; }

// Traffic keys for one direction (RFC 8446 §7.3; RFC 5246 §6.3 for 1.2). For TLS 1.2 AES-GCM
// only the first 4 bytes of iv are used (the salt).
struct TrafficKeys {
  Version version = Version::kTls13;
  Cipher cipher = Cipher::kAes128Gcm;
  Bytes key;
  std::array<uint8_t, 12> iv{};
};

// The bytes a record carries besides its content, by version and cipher.
struct RecordShape {
  size_t explicit_nonce = 0;  // in the clear between the header and the ciphertext
  bool inner_type = true;     // 1.3: the content type is the last plaintext byte
  size_t overhead() const { return explicit_nonce + (inner_type ? 1 : 0) + kTagLen; }
  // Shortest / longest legal record body (the header's length field).
  size_t min_len() const { return explicit_nonce + kTagLen + (inner_type ? 1 : 0); }
  size_t max_len() const { return inner_type ? kMaxCiphertext : kMaxCiphertext12; }
};
inline RecordShape record_shape(const TrafficKeys& k) {
  if (k.version == Version::kTls13) return RecordShape{0, true};
  return RecordShape{k.cipher == Cipher::kChacha20Poly1305 ? 0u : kExplicitNonceLen, false};
}

// The per-record nonce. explicit_nonce: 1.2 AES-GCM only, the record's 8 bytes.
inline void record_nonce(const TrafficKeys& k, uint64_t seq, const uint8_t* explicit_nonce, uint8_t out[12]) {
  if (k.version == Version::kTls12 && k.cipher != Cipher::kChacha20Poly1305) {
    for (int i = 0; i < 4; ++i) out[i] = k.iv[size_t(i)];
    for (int i = 0; i < 8; ++i) out[4 + i] = explicit_nonce[i];
    return;
  }
  for (int i = 0; i < 12; ++i) out[i] = k.iv[size_t(i)];
  for (int i = 0; i < 8; ++i) out[4 + i] ^= uint8_t(seq >> (8 * (7 - i)));
}

// The additional data of record `seq` with header `hdr`; returns its length (5 or 13).
inline size_t record_aad(const TrafficKeys& k, uint64_t seq, const uint8_t hdr[kHeaderLen], uint8_t out[kMaxAadLen]) {
  if (k.version == Version::kTls13) {
    for (size_t i = 0; i < kHeaderLen; ++i) out[i] = hdr[i];
    return kHeaderLen;
  }
  const size_t body = load_be16(&hdr[3]);
  const size_t over = record_shape(k).explicit_nonce + kTagLen;
  store_be64(out, seq);
  out[8] = hdr[0];
  out[9] = hdr[1];
  out[10] = hdr[2];
  store_be16(&out[11], uint16_t(body >= over ? body - over : 0));
  return kMaxAadLen;
}

// A handshake message that is exactly one KeyUpdate (RFC 8446 §4.6.3): msg_type 24, length 1,
// request_update 0 or 1. What the NIC recognises in a record it decrypted, and the record layer
// recognises as what the NIC would have (tls_plugin.cc, tls_rx.cc).
inline constexpr size_t kKeyUpdateLen = 5;
inline bool is_key_update(ByteSpan m) {
  return m.size() == kKeyUpdateLen && m[0] == 24 && m[1] == 0 && m[2] == 0 && m[3] == 1 && m[4] <= 1;
}

enum class HeaderCheck : uint8_t { kOk, kBadType, kBadVersion, kOverflow, kTooShort };

// The record-layer view of a header once the handshake is done. The default bounds are the
// NIC's magic pattern (§3.3): every record anyone sends (an empty 1.2 ChaCha20 record, 16
// bytes, is legal but never seen; the L5P checks its own shape's bounds exactly).
inline HeaderCheck check_header(ByteSpan h, uint16_t* len, size_t min_len = kTagLen + 1,
                                size_t max_len = kMaxCiphertext) {
  const uint8_t type = h[0];
  if (type < 20 || type > 23) return HeaderCheck::kBadType;
  if (load_be16(&h[1]) != kLegacyVersion) return HeaderCheck::kBadVersion;
  *len = load_be16(&h[3]);
  if (*len > max_len) return HeaderCheck::kOverflow;
  if (*len < min_len) return HeaderCheck::kTooShort;
  return HeaderCheck::kOk;
}

}  // namespace autonic::proto::tls
