// Generic offload engine counters, one set per protocol per NIC. Exported as
// <dir>_<proto>_<what> (mlx5 / tls_stat naming, e.g. rx_tls_resync_req_start).
#pragma once
#include <cstdint>
#include <string>

#include "common/counters.h"

namespace autonic::nic {

struct OffloadStats {
  // TX (NIC)
  uint64_t tx_encrypted_packets = 0;  // packets whose payload the NIC transformed
  uint64_t tx_encrypted_bytes = 0;
  uint64_t tx_drop_no_sync_data = 0;  // packet did not match the context and nothing to recover from
  uint64_t tx_err = 0;                // bytes the engine could not frame (bad header from the L5P)
  uint64_t tx_drop_no_ctx = 0;  // frames bound to a context the NIC does not hold: dropped, never sent as is
  // TX (driver)
  uint64_t tx_ooo = 0;           // out-of-sequence packets that needed context recovery (§4.2)
  uint64_t tx_dump_packets = 0;  // recovery descriptors carrying a message prefix
  uint64_t tx_dump_bytes = 0;    // message-prefix bytes re-processed by the NIC to rebuild state
  uint64_t tx_bypass_packets = 0;  // data before the offload started, sent as is
  uint64_t tx_crc_bytes = 0;       // data bytes whose digest the NIC computed (NVMe/TCP)
  // RX (NIC)
  uint64_t rx_decrypted_packets = 0;  // packets marked: processed in sequence, checks passed
  uint64_t rx_decrypted_bytes = 0;
  uint64_t rx_split_packets = 0;      // ... of them marked from inside (issue #15); for an inner
                                      // (composed) context: payload chunks, as for the two above
  uint64_t rx_ooo_packets = 0;        // packets the NIC could not process from their first byte
                                      // (split packets count here and in rx_decrypted_packets)
  uint64_t rx_resync_jump = 0;        // hardware-only resync onto the next header (§4.3, Fig. 8b)
  uint64_t rx_resync_jump_exact = 0;  // ... where the packet began exactly at that header (marked)
  uint64_t rx_resync_req_pkt = 0;     // packets that carried a resync request to the driver
  uint64_t rx_resync_req_start = 0;   // requests handed to the L5P
  uint64_t rx_resync_req_end = 0;     // requests the L5P answered
  uint64_t rx_resync_req_skip = 0;    // requests not delivered (no L5P attached)
  uint64_t rx_resync_req_cancel = 0;  // tracker gave up: unanswered past the bound or lost track
  uint64_t rx_resync_res_ok = 0;      // L5P confirmed the guess: offload resumes at next message
  uint64_t rx_resync_res_fail = 0;    // L5P denied the guess: back to searching
  uint64_t rx_resync_res_stale = 0;   // answer to a request the NIC had already abandoned
  uint64_t rx_resync_bad_pattern = 0; // tracked header position did not hold a header
  uint64_t rx_err = 0;                // integrity check failed in the NIC (packet left unmarked)
  uint64_t rx_ddp_bytes = 0;          // data bytes placed straight into the L5P's buffers (DDP)
  uint64_t rx_crc_bytes = 0;          // data bytes whose digest the NIC checked
  uint64_t rx_key_switch = 0;  // TLS: the NIC verified a KeyUpdate and moved to the next keys itself
  // driver: context and request-response state lifecycle
  uint64_t rx_sk_add = 0, rx_sk_del = 0, rx_rr_setup = 0, rx_rr_teardown = 0;
  uint64_t tx_ctx = 0, tx_del = 0;  // TX contexts added / deleted (mlx5 tx_tls_ctx, tx_tls_del)
  uint64_t rx_rr_teardown_unconfirmed = 0;  // the NIC did not confirm a teardown: tag kept forever
  uint64_t rx_ddp_stale = 0;  // placements refused: the registration was gone or replaced (§5.1)
  uint64_t rx_ddp_hdgst_skip = 0;  // PDUs not placed: the header digest (covers CID, offset) failed
  // context set-up and loss (fail closed, DESIGN.md): a context the NIC refused (or whose
  // command found the ring full) leaves the L5P in software; a lost one is re-created by the
  // driver from its shadow, or the L5P is told it is gone.
  uint64_t tx_ctx_add_fail = 0, rx_ctx_add_fail = 0;
  uint64_t tx_ctx_lost = 0, rx_ctx_lost = 0;
  uint64_t tx_ctx_restore = 0, rx_ctx_restore = 0;

  void export_to(CounterMap& m, const std::string& proto) const;
  void add(const OffloadStats& o);
};

}  // namespace autonic::nic
