// NVMe/TCP software counters (host and controller side).
#pragma once
#include <cstdint>

#include "common/counters.h"

namespace autonic::l5p::nvme {

struct NvmeStats {
  uint64_t nvme_sw_copy_bytes = 0;  // C2HData bytes the host copied itself (not placed by the NIC)
  uint64_t nvme_ddp_skip_bytes = 0; // bytes whose copy was skipped: source == destination (DDP)
  uint64_t nvme_sw_crc_bytes = 0;   // data bytes whose digest was computed in software
  uint64_t tx_nvme_sw_crc_bytes = 0;
  uint64_t rx_nvme_tcp_msgs_full = 0, rx_nvme_tcp_msgs_partial = 0, rx_nvme_tcp_msgs_none = 0;  // data PDUs
  uint64_t nvme_ddgst_errors = 0, nvme_hdgst_errors = 0, nvme_termreq_sent = 0, nvme_termreq_received = 0;
  uint64_t nvme_cmds = 0, nvme_cmd_errors = 0, nvme_r2t = 0, nvme_h2c_pdus = 0, nvme_c2h_pdus = 0;
  uint64_t nvme_resync_answer_ok = 0, nvme_resync_answer_fail = 0;
  uint64_t nvme_short_reads = 0;          // "success" for a read whose data did not all arrive: failed
  uint64_t nvme_fenced_completions = 0;   // completions held until the parser passed the DDP fence

  void export_to(CounterMap& m) const {
#define C(x) add_counter(m, #x, x);
    C(nvme_sw_copy_bytes) C(nvme_ddp_skip_bytes) C(nvme_sw_crc_bytes) C(tx_nvme_sw_crc_bytes)
    C(rx_nvme_tcp_msgs_full) C(rx_nvme_tcp_msgs_partial) C(rx_nvme_tcp_msgs_none) C(nvme_ddgst_errors)
    C(nvme_hdgst_errors) C(nvme_termreq_sent) C(nvme_termreq_received) C(nvme_cmds) C(nvme_cmd_errors)
    C(nvme_r2t) C(nvme_h2c_pdus) C(nvme_c2h_pdus) C(nvme_resync_answer_ok) C(nvme_resync_answer_fail)
    C(nvme_short_reads) C(nvme_fenced_completions)
#undef C
  }
};

}  // namespace autonic::l5p::nvme
