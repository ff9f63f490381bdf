// NVMe/TCP PDUs as a fuzz peer writes and reads them (fuzz_nvme_stream, fuzz_nic): a builder
// that frames a PDU exactly as the spec lays it out -- digests right unless asked to break one --
// and a framer that cuts a byte stream into PDUs by their plen.
#pragma once
#include <optional>

#include "common/bytes.h"
#include "proto/nvme/nvme_pdu.h"

namespace autonic::fuzz {

namespace nv = proto::nvme;  // the NVMe/TCP wire format

struct PduSpec {
  uint8_t type = 0;
  uint8_t flags = 0;          // type-specific flags (kFlagLast, ...); digest flags are added
  Bytes spec;                 // header bytes [8, hlen); shorter is zero-filled
  ByteSpan data;
  bool hd = false, dd = false;  // digests in effect on the connection
  uint8_t pad = 0;            // bytes between header (digest) and data (a peer's PDA)
  bool bad_hdgst = false, bad_ddgst = false;
};

// Offsets of the parts of a built PDU (for callers that place or mark the data part apart).
struct BuiltPdu {
  Bytes bytes;
  size_t data_off = 0, data_len = 0;
};

inline BuiltPdu build_pdu(const PduSpec& s) {
  const uint8_t hlen = nv::hlen_for(s.type).value_or(24);
  const bool has_data = !s.data.empty();
  const uint32_t hbytes = hlen + (s.hd ? uint32_t(nv::kDigestLen) : 0);
  const uint32_t pdo = has_data ? hbytes + s.pad : 0;
  const uint32_t plen = (has_data ? pdo : hbytes) + uint32_t(s.data.size()) +
                        (has_data && s.dd ? uint32_t(nv::kDigestLen) : 0);
  BuiltPdu b;
  Bytes& p = b.bytes;
  p.assign(hlen, 0);
  p[0] = s.type;
  p[1] = uint8_t(s.flags | (s.hd ? nv::kFlagHdgst : 0) | (has_data && s.dd ? nv::kFlagDdgst : 0));
  p[2] = hlen;
  p[3] = uint8_t(pdo);
  nv::put32(p.data() + 4, plen);
  for (size_t i = 0; i < s.spec.size() && 8 + i < hlen; ++i) p[8 + i] = s.spec[i];
  auto put_digest = [&p](ByteSpan over, bool bad) {
    uint8_t d[4];
    nv::put32(d, nv::digest(over) ^ (bad ? 0x5A5A5A5Au : 0u));
    p.insert(p.end(), d, d + 4);
  };
  if (s.hd) put_digest(ByteSpan(p.data(), hlen), s.bad_hdgst);
  if (has_data) {
    p.resize(pdo, 0);
    b.data_off = p.size();
    b.data_len = s.data.size();
    p.insert(p.end(), s.data.begin(), s.data.end());
    if (s.dd) put_digest(s.data, s.bad_ddgst);
  }
  return b;
}

// ICReq / ICResp (128 bytes, never digested). digests: bit 0 HDGST, bit 1 DDGST.
inline Bytes ic_pdu(nv::PduType t, uint8_t digests, uint32_t maxh2cdata) {
  Bytes ic(128, 0);
  ic[0] = uint8_t(t);
  ic[2] = 128;
  nv::put32(ic.data() + 4, 128);
  ic[11] = digests;
  if (t == nv::PduType::kICResp) nv::put32(ic.data() + 12, maxh2cdata);
  return ic;
}

// Cuts a byte stream into PDUs by the common header's plen; stops for good at a header that
// parse_common refuses (the queue fails there: nothing after it is framed).
class PduFramer {
 public:
  struct Pdu {
    size_t start;  // offset in the stream
    nv::CommonHeader ch;
    ByteSpan bytes;  // valid until the next feed()
  };
  // Appends bytes; returns the PDUs completed by them.
  std::vector<Pdu> feed(ByteSpan in) {
    std::vector<Pdu> out;
    buf_.insert(buf_.end(), in.begin(), in.end());
    while (!broken_) {
      const size_t avail = buf_.size() - at_;
      if (avail < nv::kCommonLen) break;
      nv::CommonHeader ch{};
      if (nv::parse_common(ByteSpan(buf_.data() + at_, nv::kCommonLen), &ch) != nv::HeaderError::kNone) {
        broken_ = true;
        break;
      }
      if (avail < ch.plen) break;
      out.push_back(Pdu{base_ + at_, ch, ByteSpan(buf_.data() + at_, ch.plen)});
      at_ += ch.plen;
    }
    return out;
  }
  // Frees consumed bytes (call once the PDUs of the last feed() are no longer looked at).
  void compact() {
    buf_.erase(buf_.begin(), buf_.begin() + long(at_));
    base_ += at_;
    at_ = 0;
  }
  bool broken() const { return broken_; }
  size_t next_start() const { return base_ + at_; }

 private:
  Bytes buf_;
  size_t at_ = 0, base_ = 0;
  bool broken_ = false;
};

}  // namespace autonic::fuzz
