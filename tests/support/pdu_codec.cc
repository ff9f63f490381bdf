#include "support/pdu_codec.h"

#include <cstring>

#include "proto/nvme/nvme_pdu.h"

namespace autonic::testing {

using namespace proto::nvme;

Bytes make_pdu(bool hd, bool dd_neg, uint8_t type, uint8_t flags, const uint8_t* spec, ByteSpan data) {
  const uint8_t hlen = *hlen_for(type);
  const bool dd = dd_neg && !data.empty();
  const uint32_t hb = hlen + (hd ? 4u : 0u);
  Bytes b(hb, 0);
  b[0] = type;
  b[1] = uint8_t(flags | (hd ? kFlagHdgst : 0) | (dd ? kFlagDdgst : 0));
  b[2] = hlen;
  b[3] = data.empty() ? 0 : uint8_t(hb);
  put32(&b[4], uint32_t(hb + data.size() + (dd ? 4 : 0)));
  std::memcpy(&b[8], spec, hlen - 8u);
  if (hd) put32(&b[hlen], digest(ByteSpan(b.data(), hlen)));
  b.insert(b.end(), data.begin(), data.end());
  if (dd) {
    uint8_t g[4];
    put32(g, digest(data));
    b.insert(b.end(), g, g + 4);
  }
  return b;
}

std::vector<RawPdu> pop_pdus(Bytes& buf) {
  std::vector<RawPdu> v;
  size_t at = 0;
  while (buf.size() - at >= 8) {
    const uint8_t* p = &buf[at];
    const uint32_t plen = le32(p + 4);
    if (plen < 8 || buf.size() - at < plen) break;
    RawPdu r;
    r.type = p[0];
    r.flags = p[1];
    const uint8_t hlen = p[2], pdo = p[3];
    r.hdr.assign(p, p + hlen);
    const bool hd = r.flags & kFlagHdgst, dd = r.flags & kFlagDdgst;
    if (hd) r.digests_ok = digest(ByteSpan(p, hlen)) == le32(p + hlen);
    if (pdo) {
      const uint32_t dlen = plen - pdo - (dd ? 4u : 0u);
      r.data.assign(p + pdo, p + pdo + dlen);
      if (dd) r.digests_ok = r.digests_ok && digest(r.data) == le32(p + pdo + dlen);
    }
    v.push_back(std::move(r));
    at += plen;
  }
  buf.erase(buf.begin(), buf.begin() + long(at));
  return v;
}

}  // namespace autonic::testing
