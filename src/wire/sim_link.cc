#include "wire/sim_link.h"

#include <algorithm>

#include "common/frame.h"
#include "common/inet_csum.h"

namespace autonic::wire {

SimWire::SimWire(const LinkConfig& cfg, uint64_t seed, const Clock& clock, EventQueue& events)
    : cfg_(cfg), clock_(clock), events_(events), ab_(*this, 0, seed), ba_(*this, 1, seed) {}

SimLinkDir::SimLinkDir(SimWire& wire, int dir_id, uint64_t seed)
    : wire_(wire), dir_id_(dir_id), rng_(seed, 0x5749524500ull + uint64_t(dir_id)) {}

void SimLinkDir::transmit(Bytes frame) {
  SimWire& w = wire_;
  const LinkConfig& c = w.cfg_;
  const Nanos now = w.clock_.now();
  // Serialisation delay at the configured rate; frames queue behind each other.
  const Nanos ser = Nanos(double(frame.size() + 24) * 8.0 / std::max(c.rate_gbps, 1e-6));
  const Nanos start = std::max(now, busy_until_);
  busy_until_ = start + ser;
  const Nanos depart = busy_until_;

  ++w.stats_.frames;
  w.stats_.bytes += frame.size();
  w.hash_.update_u64(uint64_t(dir_id_) << 56 | frame.size());
  w.hash_.update(frame);
  if (w.tap_) w.tap_->record(start, frame);

  // Draw every impairment for every frame so the random sequence does not depend on which
  // faults are enabled elsewhere in the same direction.
  const bool lose = rng_.chance(c.loss);
  const bool reorder = rng_.chance(c.reorder);
  const bool dup = rng_.chance(c.dup);
  const bool corrupt = rng_.chance(c.corrupt);
  const bool tamper = rng_.chance(c.tamper);
  const uint64_t r1 = rng_.next(), r2 = rng_.next();

  if (lose) {
    ++w.stats_.dropped;
    return;
  }
  if (corrupt && frame.size() > kEthHeaderLen) {
    // Line noise in the IP packet; no checksum is fixed, so the receiver's check drops it.
    const size_t bit = kEthHeaderLen * 8 + r1 % ((frame.size() - kEthHeaderLen) * 8);
    frame[bit / 8] ^= uint8_t(1u << (bit % 8));
    ++w.stats_.corrupted;
  } else if (tamper) {
    auto v = TcpFrameView::parse(frame);
    if (v && v->payload_len > 0) {
      // An on-path attacker: flips a payload bit and repairs the TCP checksum so that only
      // the L5P's integrity check (TLS tag, NVMe digest, framed check value) can notice.
      const size_t bit = v->payload_off * 8 + r1 % (v->payload_len * 8);
      frame[bit / 8] ^= uint8_t(1u << (bit % 8));
      const uint16_t cs = tcp4_checksum(&frame[v->ip_off], v->ip_len);
      store_be16(&frame[v->tcp_off + 16], cs);
      ++w.stats_.tampered;
    }
  }
  Nanos arrive = depart + c.delay_ns;
  if (reorder) {
    // Held back long enough for several later frames to overtake it.
    arrive += 4 * ser + Nanos(double(c.delay_ns) * (0.2 + double(r2 % 1000) / 1250.0)) + 1000;
    ++w.stats_.reordered;
  }
  if (dup) {
    ++w.stats_.duplicated;
    deliver_at(arrive + ser + 1, frame);
  }
  deliver_at(arrive, std::move(frame));
}

void SimLinkDir::deliver_at(Nanos t, Bytes frame) {
  FrameSink* sink = sink_;
  wire_.events_.schedule(t, [sink, f = std::move(frame)]() mutable {
    if (sink) sink->deliver(std::move(f));
  });
}

}  // namespace autonic::wire
