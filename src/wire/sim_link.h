// The simulated wire: a full-duplex point-to-point link with rate, one-way delay and seeded
// impairments, run by the testbed's event queue (virtual or real time). Every fault is counted;
// every frame put on the link feeds the trace hash (DESIGN.md: same seed => same frames).
#pragma once
#include <memory>
#include <vector>

#include "common/clock.h"
#include "common/event_queue.h"
#include "common/fnv_hash.h"
#include "common/frame.h"
#include "common/rng.h"
#include "wire/impair.h"
#include "wire/link.h"
#include "wire/pcap_tap.h"

namespace autonic::wire {

class SimWire;

// One direction of the wire.
class SimLinkDir final : public Link {
 public:
  SimLinkDir(SimWire& wire, int dir_id, uint64_t seed);
  void connect(FrameSink* sink) { sink_ = sink; }
  void transmit(Bytes frame) override;

 private:
  void deliver_at(Nanos t, Bytes frame);
  // Frames on the wire, each in a slot its delivery event names: the event captures two words
  // and allocates nothing. The simulator's own allocations then stay out of the heap the hosts'
  // stacks allocate from (lwIP mallocs every segment's pbuf): a closure per frame made plain
  // TCP's TX 16 % dearer in host cycles (0.088 -> 0.074 c/B, 128 MiB at 16 KiB, issue #12), and
  // with the NIC model on its own core its blocks reached the host dirty in the other core's cache.
  std::vector<Bytes> in_flight_;
  std::vector<uint32_t> free_slots_;
  SimWire& wire_;
  int dir_id_;
  Rng rng_;
  FrameSink* sink_ = nullptr;
  Nanos busy_until_ = 0;  // serialisation: the link sends one frame at a time
};

class SimWire {
 public:
  SimWire(const LinkConfig& cfg, uint64_t seed, const Clock& clock, EventQueue& events);
  SimLinkDir& a_to_b() { return ab_; }
  SimLinkDir& b_to_a() { return ba_; }
  void set_tap(PcapTap* tap) { tap_ = tap; }
  // Records the TCP payload range of every frame lost, corrupted or tampered with (not those
  // held back: a reordered frame may still arrive first) -- the bytes that never reach the
  // receiver intact on their first transmission (testbed/wire_audit.h).
  struct Fault {
    FlowKey flow;
    TcpSeq seq;
    uint32_t len;
  };
  void set_fault_log(std::vector<Fault>* log) { faults_ = log; }
  const WireStats& stats() const { return stats_; }
  uint64_t trace_hash() const { return hash_.value(); }

 private:
  friend class SimLinkDir;
  LinkConfig cfg_;
  const Clock& clock_;
  EventQueue& events_;
  PcapTap* tap_ = nullptr;
  std::vector<Fault>* faults_ = nullptr;
  WireStats stats_;
  Fnv1a64 hash_;
  SimLinkDir ab_, ba_;
};

}  // namespace autonic::wire
