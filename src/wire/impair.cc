#include "wire/impair.h"

#include "common/frame.h"
#include "common/inet_csum.h"

namespace autonic::wire {

Impairment Impairment::draw(const LinkConfig& c, Rng& rng) {
  Impairment i;
  i.lose = rng.chance(c.loss);
  i.reorder = rng.chance(c.reorder);
  i.dup = rng.chance(c.dup);
  i.corrupt = rng.chance(c.corrupt);
  i.tamper = rng.chance(c.tamper);
  i.r1 = rng.next();
  i.r2 = rng.next();
  return i;
}

void damage(const Impairment& imp, Bytes& frame, WireStats& stats) {
  if (imp.corrupt && frame.size() > kEthHeaderLen) {
    // Line noise in the IP packet; no checksum is fixed, so the receiver's check drops it.
    const size_t bit = kEthHeaderLen * 8 + imp.r1 % ((frame.size() - kEthHeaderLen) * 8);
    frame[bit / 8] ^= uint8_t(1u << (bit % 8));
    ++stats.corrupted;
  } else if (imp.tamper) {
    auto v = TcpFrameView::parse(frame);
    if (v && v->payload_len > 0) {
      // An on-path attacker: flips a payload bit and repairs the TCP checksum so that only
      // the L5P's integrity check (TLS tag, NVMe digest, framed check value) can notice.
      const size_t bit = v->payload_off * 8 + imp.r1 % (v->payload_len * 8);
      frame[bit / 8] ^= uint8_t(1u << (bit % 8));
      const uint16_t cs = tcp4_checksum(&frame[v->ip_off], v->ip_len);
      store_be16(&frame[v->tcp_off + 16], cs);
      ++stats.tampered;
    }
  }
}

}  // namespace autonic::wire
