// Helpers shared by the TLS record-layer tests.
#pragma once
#include "l5p/tls/tls_sw.h"

namespace autonic::testing {

// One sealed TLS 1.3 record (opaque type 23) whose inner type is `type` (22 handshake, 21
// alert, 23 application data), sequence number `seq`.
inline Bytes tls13_record(l5p::tls::RecordCrypto& c, uint64_t seq, ByteSpan content, uint8_t type) {
  using namespace l5p::tls;
  const uint16_t len = uint16_t(content.size() + 1 + kTagLen);
  const Bytes hdr = {23, 3, 3, uint8_t(len >> 8), uint8_t(len)};
  Bytes inner(content.begin(), content.end());
  inner.push_back(type);
  Bytes w = hdr;
  w.resize(kHeaderLen + len);
  c.seal(seq, hdr, inner, w.data() + kHeaderLen);
  return w;
}

}  // namespace autonic::testing
