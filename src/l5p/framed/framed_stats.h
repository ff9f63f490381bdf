// Framed L5P software counters (the record layer's view), exported as <dir>_framed_<what>.
#pragma once
#include <cstdint>

#include "common/counters.h"

namespace autonic::l5p::framed {

struct FramedStats {
  uint64_t tx_msgs = 0;
  uint64_t tx_sw_encrypted_bytes = 0;  // transformed on the host (no TX offload)
  uint64_t tx_held_msgs_max = 0;       // most messages held for get_tx_msgstate at once
  uint64_t rx_msgs = 0;
  uint64_t rx_msgs_full = 0;     // every byte came in NIC-marked packets: no host crypto
  uint64_t rx_msgs_partial = 0;  // some: re-encrypt marked parts, check + decrypt in software
  uint64_t rx_msgs_none = 0;     // none: software decrypt + check
  uint64_t rx_sw_decrypted_bytes = 0;
  uint64_t rx_reencrypted_bytes = 0;
  uint64_t rx_integrity_err = 0;
  uint64_t rx_framing_err = 0;
  uint64_t rx_resync_answer_ok = 0;
  uint64_t rx_resync_answer_fail = 0;

  void export_to(CounterMap& m) const {
    add_counter(m, "tx_framed_msgs", tx_msgs);
    add_counter(m, "tx_framed_sw_encrypted_bytes", tx_sw_encrypted_bytes);
    add_counter(m, "tx_framed_held_msgs_max", tx_held_msgs_max);
    add_counter(m, "rx_framed_msgs", rx_msgs);
    add_counter(m, "rx_framed_msgs_full", rx_msgs_full);
    add_counter(m, "rx_framed_msgs_partial", rx_msgs_partial);
    add_counter(m, "rx_framed_msgs_none", rx_msgs_none);
    add_counter(m, "rx_framed_sw_decrypted_bytes", rx_sw_decrypted_bytes);
    add_counter(m, "rx_framed_reencrypted_bytes", rx_reencrypted_bytes);
    add_counter(m, "rx_framed_integrity_err", rx_integrity_err);
    add_counter(m, "rx_framed_framing_err", rx_framing_err);
    add_counter(m, "rx_framed_resync_answer_ok", rx_resync_answer_ok);
    add_counter(m, "rx_framed_resync_answer_fail", rx_resync_answer_fail);
  }
};

}  // namespace autonic::l5p::framed
