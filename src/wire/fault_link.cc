#include "wire/fault_link.h"

#include "wire/device.h"

namespace autonic::wire {

namespace {
constexpr Nanos kReorderHoldMin = 1'000'000, kReorderHoldSpan = 4'000'000;  // 1-5 ms
}

FaultLink::FaultLink(const LinkConfig& cfg, uint64_t seed, uint64_t dir_id, const Clock& clock, EventQueue& events,
                     Out out)
    : cfg_(cfg), rng_(seed, 0x4641554C5400ull + dir_id), clock_(clock), events_(events), out_(std::move(out)) {}

void FaultLink::pass(Bytes frame) {
  ++st_.frames;
  st_.bytes += frame.size();
  if (!cfg_.any_fault() || st_.frames <= cfg_.faults_after) {
    out_(std::move(frame));
    return;
  }
  const Impairment imp = Impairment::draw(cfg_, rng_);
  if (imp.lose) {
    ++st_.dropped;
    return;
  }
  damage(imp, frame, st_);
  if (imp.dup) {
    ++st_.duplicated;
    out_(frame);
  }
  if (imp.reorder) {
    ++st_.reordered;
    Out& out = out_;
    events_.schedule(clock_.now() + kReorderHoldMin + imp.r2 % kReorderHoldSpan,
                     [&out, f = std::move(frame)]() mutable { out(std::move(f)); });
    return;
  }
  out_(std::move(frame));
}

void DeviceLink::transmit(Bytes frame) {
  if (pcap_) pcap_->record(clock_.now(), frame);
  dev_.send(std::move(frame));
}

}  // namespace autonic::wire
