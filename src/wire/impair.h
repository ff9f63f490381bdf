// The wire's impairments, drawn per frame: one implementation shared by the simulated wire
// (sim_link.cc, which adds serialisation and delay) and by the fault wrapper around real devices
// (fault_link.cc), so `--loss 2%` means the same on both (smoltcp's FaultInjector is the model).
#pragma once
#include "common/bytes.h"
#include "common/clock.h"
#include "common/rng.h"

namespace autonic::wire {

struct LinkConfig {
  double rate_gbps = 100.0;
  uint64_t delay_ns = 10'000;
  double loss = 0;     // frame silently dropped
  double reorder = 0;  // frame held back so that later frames overtake it
  double dup = 0;      // frame delivered twice
  double corrupt = 0;  // line noise: one bit flipped, checksums left wrong (receiver drops)
  double tamper = 0;   // attacker: one TCP payload bit flipped, TCP checksum fixed up
  // Real devices only (FaultLink): the first this-many frames of a direction pass untouched, so a
  // peer's set-up (e.g. a Linux host's NVMe queue connects) completes and the faults hit the data.
  uint64_t faults_after = 0;
  bool any_fault() const { return loss > 0 || reorder > 0 || dup > 0 || corrupt > 0 || tamper > 0; }
};

struct WireStats {
  uint64_t frames = 0, bytes = 0, dropped = 0, reordered = 0, duplicated = 0, corrupted = 0,
           tampered = 0;
};

// One frame's fate. Every impairment is drawn for every frame, so the random sequence does not
// depend on which faults are enabled (same seed, same losses with or without --dup).
struct Impairment {
  bool lose = false, reorder = false, dup = false, corrupt = false, tamper = false;
  uint64_t r1 = 0, r2 = 0;  // where to flip a bit; how long to hold a reordered frame
  static Impairment draw(const LinkConfig& c, Rng& rng);
};

// A frame's time on a link of `rate_gbps`, with its preamble, inter-frame gap and FCS (24 bytes).
inline Nanos serialisation_ns(size_t frame_bytes, double rate_gbps) {
  return Nanos(double(frame_bytes + 24) * 8.0 / (rate_gbps > 1e-6 ? rate_gbps : 1e-6));
}
// How much longer than the link's delay a reordered frame is held back (`ser`: its serialisation):
// long enough for several later frames to overtake it. One rule for every simulated medium.
inline Nanos reorder_hold_ns(const Impairment& imp, const LinkConfig& c, Nanos ser) {
  return 4 * ser + Nanos(double(c.delay_ns) * (0.2 + double(imp.r2 % 1000) / 1250.0)) + 1000;
}

// Applies the draw's corruption or tampering to `frame` (a no-op for other fates), counting it.
void damage(const Impairment& imp, Bytes& frame, WireStats& stats);

}  // namespace autonic::wire
