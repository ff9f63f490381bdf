// Failure injection for the NIC model (DESIGN.md "Fail closed").
#pragma once
#include <cstdint>

namespace autonic::nic {

// Failure injection for the fail-closed tests (DESIGN.md "Fail closed"): every way a context
// can be missing when the L5P counts on it. Counters are per NIC, deterministic.
struct NicFaults {
  uint32_t reject_create_from = 0;  // n > 0: the n-th create command and every later one are refused
  uint32_t cmd_ring_full_from = 0;  // n > 0: from the n-th create on, the command finds the ring full
  uint32_t lose_ctx_every = 0;      // n > 0: every n-th offloaded packet finds its context evicted
                                    // and not restorable (lost, with any inner context on it)
  uint64_t reset_after_tx = 0;      // n > 0: device reset after the n-th transmitted frame
  bool any() const { return reject_create_from || cmd_ring_full_from || lose_ctx_every || reset_after_tx; }
};

}  // namespace autonic::nic
