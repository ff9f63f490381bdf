// NVMe/TCP PDUs for test peers: build one (with the negotiated digests), or take whole PDUs off
// a byte stream, checking their digests. (ICReq/ICResp never carry digests.)
#pragma once
#include <cstdint>
#include <vector>

#include "common/bytes.h"

namespace autonic::testing {

struct RawPdu {
  uint8_t type = 0, flags = 0;
  Bytes hdr;   // hlen bytes: common header + PDU-specific header
  Bytes data;
  bool digests_ok = true;
  const uint8_t* spec() const { return hdr.data() + 8; }
};

Bytes make_pdu(bool hdgst, bool ddgst, uint8_t type, uint8_t flags, const uint8_t* spec, ByteSpan data);
// Whole PDUs from the front of `buf` (what is left stays for more bytes).
std::vector<RawPdu> pop_pdus(Bytes& buf);

}  // namespace autonic::testing
