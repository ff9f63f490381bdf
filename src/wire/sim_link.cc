#include "wire/sim_link.h"

#include <algorithm>

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
  const Nanos ser = serialisation_ns(frame.size(), c.rate_gbps);
  const Nanos start = std::max(now, busy_until_);
  busy_until_ = start + ser;
  const Nanos depart = busy_until_;

  ++w.stats_.frames;
  w.stats_.bytes += frame.size();
  w.hash_.update_u64(uint64_t(dir_id_) << 56 | frame.size());
  w.hash_.update(frame);
  if (w.tap_) w.tap_->record(start, frame);

  const Impairment imp = Impairment::draw(c, rng_);
  if (w.faults_ && (imp.lose || imp.corrupt || imp.tamper))
    if (const auto v = TcpFrameView::parse(frame); v && v->payload_len > 0)
      w.faults_->push_back(SimWire::Fault{v->key, v->seq, uint32_t(v->payload_len)});
  if (imp.lose) {
    ++w.stats_.dropped;
    return;
  }
  damage(imp, frame, w.stats_);
  Nanos arrive = depart + c.delay_ns;
  if (imp.reorder) {
    arrive += reorder_hold_ns(imp, c, ser);
    ++w.stats_.reordered;
  }
  if (imp.dup) {
    ++w.stats_.duplicated;
    deliver_at(arrive + ser + 1, frame);
  }
  deliver_at(arrive, std::move(frame));
}

void SimLinkDir::deliver_at(Nanos t, Bytes frame) {
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = uint32_t(in_flight_.size());
    in_flight_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  in_flight_[slot] = std::move(frame);
  wire_.events_.schedule(t, [this, slot] {
    Bytes f = std::move(in_flight_[slot]);
    free_slots_.push_back(slot);
    if (sink_) sink_->deliver(std::move(f));
  });
}

}  // namespace autonic::wire
