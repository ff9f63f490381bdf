// The simulated wire generalised to N hosts (issue #14): an Ethernet switch with one full-duplex
// link per port. A station's frames cross its own link to the switch (serialisation at the port
// rate, the link's delay, the seeded impairments), are forwarded by destination MAC from the
// switch's static forwarding table, and queue on the output port's link to the destination --
// two senders towards one port share its rate, as on a real switch. A frame for a MAC no port
// holds is dropped and counted (no flooding: every station sees only frames addressed to it,
// and broadcasts go to every other port). An output queue longer than `queue_bytes` drops the
// frame at its tail (counted), as a switch buffer overflows.
#pragma once
#include <array>
#include <memory>
#include <vector>

#include "common/clock.h"
#include "common/event_queue.h"
#include "common/fnv_hash.h"
#include "common/rng.h"
#include "wire/impair.h"
#include "wire/link.h"
#include "wire/pcap_tap.h"

namespace autonic::wire {

using Mac = std::array<uint8_t, 6>;

struct SwitchPortStats {
  uint64_t rx_frames = 0, tx_frames = 0, tx_bytes = 0;
  uint64_t drop_unknown_dst = 0;  // frames in on this port for a MAC no port holds
  uint64_t drop_queue_full = 0;   // frames out on this port dropped at the tail of its queue
};

class SimSwitch {
 public:
  SimSwitch(const LinkConfig& link, uint64_t seed, const Clock& clock, EventQueue& events,
            uint64_t queue_bytes = 4u << 20);
  ~SimSwitch();
  SimSwitch(const SimSwitch&) = delete;
  SimSwitch& operator=(const SimSwitch&) = delete;
  // A station with `mac` on a new port: frames for it are delivered to `sink`; it transmits on
  // the returned link. Returns the port's index in port().
  size_t add_port(const Mac& mac, FrameSink* sink);
  Link& uplink(size_t port);
  const SwitchPortStats& port(size_t i) const;
  size_t ports() const { return ports_.size(); }
  void set_tap(PcapTap* tap) { tap_ = tap; }
  const WireStats& stats() const { return stats_; }  // the impairments, over every port
  uint64_t trace_hash() const { return hash_.value(); }

 private:
  class Port;
  void forward(size_t in, Bytes frame);
  void send_out(size_t out, Bytes frame);
  Nanos serialise(Nanos& busy_until, size_t bytes) const;

  LinkConfig cfg_;
  uint64_t seed_;
  const Clock& clock_;
  EventQueue& events_;
  uint64_t queue_bytes_;
  PcapTap* tap_ = nullptr;
  WireStats stats_;
  Fnv1a64 hash_;
  std::vector<std::unique_ptr<Port>> ports_;
};

}  // namespace autonic::wire
