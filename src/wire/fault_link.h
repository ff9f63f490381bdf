// Impairments around a real device, one direction each (smoltcp's FaultInjector): the host's
// outgoing frames on their way to the device, and the device's frames on their way to the NIC.
// The same draws as the simulated wire (impair.h); timing is the real clock's: a reordered frame
// is held back a few milliseconds, long enough for the frames behind it to overtake it at the
// rates a TAP or QEMU carries. A pcap, if any, records what actually crossed the device.
#pragma once
#include <functional>

#include "common/clock.h"
#include "common/event_queue.h"
#include "wire/impair.h"
#include "wire/link.h"
#include "wire/pcap_tap.h"

namespace autonic::wire {

class FaultLink final : public Link, public FrameSink {
 public:
  using Out = std::function<void(Bytes)>;
  FaultLink(const LinkConfig& cfg, uint64_t seed, uint64_t dir_id, const Clock& clock, EventQueue& events, Out out);
  void transmit(Bytes frame) override { pass(std::move(frame)); }  // as a Link (host -> device)
  void deliver(Bytes frame) override { pass(std::move(frame)); }   // as a FrameSink (device -> NIC)
  const WireStats& stats() const { return st_; }

 private:
  void pass(Bytes frame);
  LinkConfig cfg_;
  Rng rng_;
  const Clock& clock_;
  EventQueue& events_;
  Out out_;
  WireStats st_;
};

// Connects a device to a host's NIC: frames the NIC sends go out (through the TX faults), frames
// read from the device come in (through the RX faults); both recorded in the pcap as they cross
// the device, timestamped with the run clock.
class DeviceLink final : public Link {
 public:
  DeviceLink(class Device& dev, PcapTap* pcap, const Clock& clock) : dev_(dev), pcap_(pcap), clock_(clock) {}
  void transmit(Bytes frame) override;
  // One received frame, recorded, on its way up.
  void record_rx(ByteSpan frame) {
    if (pcap_) pcap_->record(clock_.now(), frame);
  }

 private:
  Device& dev_;
  PcapTap* pcap_;
  const Clock& clock_;
};

}  // namespace autonic::wire
