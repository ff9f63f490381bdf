// NVMe/TCP PDU formats (NVMe-oF TCP transport specification, "PDU formats"; field layouts as
// in Linux include/linux/nvme-tcp.h and Wireshark's dissector). Little-endian throughout.
//   common header: type(1) flags(1) hlen(1) pdo(1) plen(4)
//   [PDU-specific header up to hlen] [HDGST 4] [pad to pdo] [DATA] [DDGST 4]
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>

#include "common/bytes.h"

namespace autonic::proto::nvme {

enum class PduType : uint8_t {
  kICReq = 0x00, kICResp = 0x01, kH2CTermReq = 0x02, kC2HTermReq = 0x03,
  kCapsuleCmd = 0x04, kCapsuleResp = 0x05, kH2CData = 0x06, kC2HData = 0x07, kR2T = 0x09,
};

// Header lengths are fixed per type (spec "PDU Header Length").
inline std::optional<uint8_t> hlen_for(uint8_t type) {
  switch (type) {
    case 0x00: case 0x01: return 128;
    case 0x02: case 0x03: return 24;
    case 0x04: return 72;
    case 0x05: case 0x06: case 0x07: case 0x09: return 24;
    default: return std::nullopt;
  }
}

inline constexpr uint8_t kFlagHdgst = 0x01, kFlagDdgst = 0x02, kFlagLast = 0x04, kFlagSuccess = 0x08;
inline constexpr size_t kCommonLen = 8, kDigestLen = 4, kSqeLen = 64, kCqeLen = 16;
inline constexpr uint32_t kMaxPdu = 4u << 20;  // our bound on plen (malformed beyond)
inline constexpr uint32_t kMaxTermData = 128;   // TermReq error data (spec: the PDU in error, cut)

// Fatal Error Status (TermReq FES).
enum class Fes : uint16_t {
  kInvalidHeaderField = 0x01, kPduSequenceError = 0x02, kHeaderDigestError = 0x03,
  kDataOutOfRange = 0x04, kDataLimitExceeded = 0x05, kUnsupportedParameter = 0x06,
};

inline uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
inline uint32_t le32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
inline uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }
inline void put16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v); p[1] = uint8_t(v >> 8); }
inline void put32(uint8_t* p, uint32_t v) { for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i)); }
inline void put64(uint8_t* p, uint64_t v) { put32(p, uint32_t(v)); put32(p + 4, uint32_t(v >> 32)); }

// CRC32C digest as NVMe/TCP stores it: ~crc32c, little-endian. crc_update takes and returns the
// running (uninverted) register; start with kCrcInit.
inline constexpr uint32_t kCrcInit = 0xFFFFFFFFu;
uint32_t crc_update(uint32_t crc, ByteSpan data);
inline uint32_t digest(ByteSpan data) { return ~crc_update(kCrcInit, data); }

// A parsed common header. parse_common is the one framing rule for NVMe/TCP in this project:
// the queue (host and controller) and the NIC plug-in's probe both take a PDU's layout from it,
// so they can never disagree on where a PDU's data lies or where the next PDU begins (a PDU
// that two parsers frame differently lets a peer hide one PDU inside another's padding).
// Layout of an accepted PDU, exactly plen bytes:
//   [header hlen][HDGST 4 if hdgst()][pad to pdo][data data_len()][DDGST 4 if data and ddgst()]
// with pdo != 0 if and only if data_len() > 0.
struct CommonHeader {
  uint8_t type, flags, hlen, pdo;
  uint32_t plen;
  bool hdgst() const { return flags & kFlagHdgst; }
  bool ddgst() const { return flags & kFlagDdgst; }
  // Total bytes of header incl. header digest.
  uint32_t header_bytes() const { return hlen + (hdgst() ? uint32_t(kDigestLen) : 0); }
  // Padding between the header (digest) and the data (the peer's PDA).
  uint32_t pad_len() const { return pdo == 0 ? 0 : pdo - header_bytes(); }
  uint32_t data_len() const {
    if (pdo == 0) return 0;
    return plen - pdo - (ddgst() ? uint32_t(kDigestLen) : 0);
  }
  uint32_t ddgst_len() const { return data_len() > 0 && ddgst() ? uint32_t(kDigestLen) : 0; }
  bool is_term() const { return type == 0x02 || type == 0x03; }
  // TermReq: error data (up to 128 bytes, no data offset) follows its header.
  uint32_t term_data_len() const { return is_term() ? plen - header_bytes() : 0; }
};

enum class HeaderError : uint8_t { kNone, kUnknownType, kBadHlen, kBadPlen, kBadPdo };
// Fatal Error Information for a header error: the byte offset of the offending field.
inline uint32_t fei_for(HeaderError e) {
  switch (e) {
    case HeaderError::kBadHlen: return 2;
    case HeaderError::kBadPdo: return 3;
    case HeaderError::kBadPlen: return 4;
    default: return 0;
  }
}

// Which PDU types may / must carry data (spec "PDU formats": CapsuleCmd carries in-capsule data,
// H2CData and C2HData exist only to carry data; the others have none).
inline bool pdu_may_carry_data(uint8_t type) { return type == 0x04 || type == 0x06 || type == 0x07; }
inline bool pdu_must_carry_data(uint8_t type) { return type == 0x06 || type == 0x07; }

inline HeaderError parse_common(ByteSpan b, CommonHeader* h) {
  h->type = b[0];
  h->flags = b[1];
  h->hlen = b[2];
  h->pdo = b[3];
  h->plen = le32(&b[4]);
  const auto want = hlen_for(h->type);
  if (!want) return HeaderError::kUnknownType;
  if (h->hlen != *want) return HeaderError::kBadHlen;
  if (h->plen < h->header_bytes() || h->plen > kMaxPdu) return HeaderError::kBadPlen;
  if (h->type <= 0x01 && (h->plen != 128 || h->hdgst())) return HeaderError::kBadPlen;  // ICReq/ICResp
  if (h->is_term()) {  // header, then at most 128 bytes of error data (Linux: plen 24..152)
    if (h->pdo != 0) return HeaderError::kBadPdo;
    return h->plen <= h->header_bytes() + kMaxTermData ? HeaderError::kNone : HeaderError::kBadPlen;
  }
  if (h->pdo != 0) {
    const uint32_t tail = h->ddgst() ? uint32_t(kDigestLen) : 0;
    // Data must follow the header, and a data offset promises at least one byte of data:
    // "pdo != 0, plen == pdo (+ digest)" would leave the bytes up to plen without an owner.
    if (h->pdo < h->header_bytes() || uint64_t(h->pdo) + tail >= h->plen) return HeaderError::kBadPdo;
    if (!pdu_may_carry_data(h->type)) return HeaderError::kBadPdo;
  } else if (h->plen != h->header_bytes()) {
    return HeaderError::kBadPdo;  // data without a data offset
  } else if (pdu_must_carry_data(h->type)) {
    return HeaderError::kBadPlen;  // an H2CData / C2HData without data
  }
  return HeaderError::kNone;
}

// Bytes of the PDU from its first byte to the end of its framing as parse_common defines it;
// equals plen for every accepted header (tests and fuzzers check the two agree).
inline uint32_t framed_len(const CommonHeader& h) {
  return h.header_bytes() + h.pad_len() + h.data_len() + h.ddgst_len() + h.term_data_len();
}

// Data PDU (H2CData / C2HData) and R2T specific fields.
struct DataFields {
  uint16_t cccid, ttag;
  uint32_t offset, length;
};
inline DataFields data_fields(const uint8_t* hdr) {
  return DataFields{le16(hdr + 8), le16(hdr + 10), le32(hdr + 12), le32(hdr + 16)};
}

// NVMe command opcodes and fabrics command types used here.
inline constexpr uint8_t kOpFlush = 0x00, kOpWrite = 0x01, kOpRead = 0x02, kOpIdentify = 0x06, kOpFabrics = 0x7F;
inline constexpr uint8_t kFcPropertySet = 0x00, kFcConnect = 0x01, kFcPropertyGet = 0x04;
// SGL descriptor identifiers (type << 4 | subtype).
inline constexpr uint8_t kSglTransportDataBlock = 0x5A, kSglInCapsuleOffset = 0x01;
// Status codes (generic command status).
inline constexpr uint16_t kScSuccess = 0x00, kScInvalidOpcode = 0x01, kScInvalidField = 0x02,
                          kScDataTransferError = 0x04, kScLbaOutOfRange = 0x80;

}  // namespace autonic::proto::nvme
