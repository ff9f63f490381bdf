// What the wire allowed the offload (issue #15): of the messages a run's receivers finished,
// how many no destroyed frame touched -- every transmission of their bytes reached the receiving
// NIC intact, so the NIC could have offloaded them whole -- and how many of those the NIC did
// offload whole. Per message, exact (a lost spurious retransmission counts as touching, so the
// limit errs low, by the few such frames); the paper's (1 - p)^packets is this figure's
// expectation for fixed-size messages.
#pragma once
#include <cstdint>
#include <vector>

#include "l5p/common/msg_log.h"
#include "wire/sim_link.h"

namespace autonic::testbed {

struct WireAudit {
  uint64_t msgs = 0;        // messages the receivers finished (while a log was kept)
  uint64_t clean = 0;       // ... no lost, corrupted or tampered frame carried any byte of
  uint64_t full = 0;        // ... the NIC processed every byte of
  uint64_t full_clean = 0;  // ... both
  double limit() const { return msgs ? double(clean) / double(msgs) : 0; }
  double of_limit() const { return clean ? double(full) / double(clean) : 0; }
};

// Faults are matched to a log by its flow, sequence numbers unwrapped in the order the wire saw
// them: the first less than 2 GiB of the stream from the log's first message, each later one
// less than 2 GiB from the one before (any loss rate above ~1e-6 on runs of any length).
WireAudit audit_wire(const std::vector<wire::SimWire::Fault>& faults, const std::vector<const l5p::MsgLog*>& logs);

}  // namespace autonic::testbed
