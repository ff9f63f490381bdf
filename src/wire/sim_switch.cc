#include "wire/sim_switch.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace autonic::wire {

// One port: the station's link into the switch (its uplink) and the switch's output towards it.
class SimSwitch::Port final : public Link {
 public:
  Port(SimSwitch& sw, size_t index, const Mac& mac, FrameSink* sink)
      : sw_(sw), index_(index), mac_(mac), sink_(sink), rng_(sw.seed_, 0x5357495443480000ull + index) {}
  // The station transmits: serialised onto its link, impaired, then forwarded at the switch.
  void transmit(Bytes frame) override;
  const Mac& mac() const { return mac_; }
  FrameSink* sink() const { return sink_; }
  SwitchPortStats st;
  Nanos up_busy = 0, down_busy = 0;  // serialisation on the link, each direction

 private:
  SimSwitch& sw_;
  size_t index_;
  Mac mac_;
  FrameSink* sink_;
  Rng rng_;
};

SimSwitch::SimSwitch(const LinkConfig& link, uint64_t seed, const Clock& clock, EventQueue& events,
                     uint64_t queue_bytes)
    : cfg_(link), seed_(seed), clock_(clock), events_(events), queue_bytes_(queue_bytes) {}

SimSwitch::~SimSwitch() = default;

size_t SimSwitch::add_port(const Mac& mac, FrameSink* sink) {
  for (const auto& p : ports_)
    if (p->mac() == mac) throw std::invalid_argument("switch: two ports with one MAC");
  ports_.push_back(std::make_unique<Port>(*this, ports_.size(), mac, sink));
  return ports_.size() - 1;
}

Link& SimSwitch::uplink(size_t port) { return *ports_.at(port); }
const SwitchPortStats& SimSwitch::port(size_t i) const { return ports_.at(i)->st; }

// Serialisation at the link rate behind what the link already carries; returns the departure.
Nanos SimSwitch::serialise(Nanos& busy_until, size_t bytes) const {
  busy_until = std::max(clock_.now(), busy_until) + serialisation_ns(bytes, cfg_.rate_gbps);
  return busy_until;
}

void SimSwitch::Port::transmit(Bytes frame) {
  SimSwitch& sw = sw_;
  ++st.rx_frames;
  sw.hash_.update_u64(uint64_t(index_) << 56 | frame.size());
  sw.hash_.update(frame);
  if (sw.tap_) sw.tap_->record(sw.clock_.now(), frame);
  const Nanos depart = sw.serialise(up_busy, frame.size());
  const Impairment imp = Impairment::draw(sw.cfg_, rng_);
  ++sw.stats_.frames;
  sw.stats_.bytes += frame.size();
  if (imp.lose) {
    ++sw.stats_.dropped;
    return;
  }
  damage(imp, frame, sw.stats_);
  const Nanos ser = serialisation_ns(frame.size(), sw.cfg_.rate_gbps);
  Nanos arrive = depart + Nanos(sw.cfg_.delay_ns);
  if (imp.reorder) {  // held back as on the two-host wire: later frames overtake it
    arrive += reorder_hold_ns(imp, sw.cfg_, ser);
    ++sw.stats_.reordered;
  }
  const size_t in = index_;
  if (imp.dup) {
    ++sw.stats_.duplicated;
    sw.events_.schedule(arrive + ser + 1, [&sw, in, f = frame]() mutable { sw.forward(in, std::move(f)); });
  }
  sw.events_.schedule(arrive, [&sw, in, f = std::move(frame)]() mutable { sw.forward(in, std::move(f)); });
}

// At the switch: the forwarding table is the ports' MACs (static, as configured switches hold
// their hosts); broadcasts (ARP) go to every port but the one they came in on.
void SimSwitch::forward(size_t in, Bytes frame) {
  if (frame.size() < 14) {  // no Ethernet header: nowhere to send it
    ++ports_[in]->st.drop_unknown_dst;
    return;
  }
  static constexpr Mac kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  Mac dst;
  std::memcpy(dst.data(), frame.data(), 6);
  if (dst == kBroadcast) {
    for (size_t p = 0; p < ports_.size(); ++p)
      if (p != in) send_out(p, frame);
    return;
  }
  for (size_t p = 0; p < ports_.size(); ++p)
    if (ports_[p]->mac() == dst && p != in) return send_out(p, std::move(frame));
  ++ports_[in]->st.drop_unknown_dst;
}

void SimSwitch::send_out(size_t out, Bytes frame) {
  Port& p = *ports_[out];
  const Nanos now = clock_.now();
  const double backlog_bytes = double(p.down_busy > now ? p.down_busy - now : 0) * cfg_.rate_gbps / 8.0;
  if (backlog_bytes > double(queue_bytes_)) {
    ++p.st.drop_queue_full;
    return;
  }
  const Nanos arrive = serialise(p.down_busy, frame.size()) + Nanos(cfg_.delay_ns);
  ++p.st.tx_frames;
  p.st.tx_bytes += frame.size();
  FrameSink* sink = p.sink();
  events_.schedule(arrive, [sink, f = std::move(frame)]() mutable { sink->deliver(std::move(f)); });
}

}  // namespace autonic::wire
