// `autonic bench tls` (c): the TLS offload's record layer alone, against the copy plain TCP makes
// of the same bytes -- in the cache, on one core, no lwIP, no NIC model. What it adds per record
// is the part of (b)'s offload/tcp gap that is the record layer's own instructions; the rest of
// that gap is memory (lines the NIC wrote, read from the L3; what a window of other work
// evicted), which only (b) sees. A change can read cheaper here and dearer in (b): holding a
// recv()'s pieces and copying them when their record ends, instead of at once, was 5-15 cycles
// a 16 KiB record cheaper here and made (b)'s receiver 5 % dearer (issue #12, 2026-11-29: the
// pieces had left the L1 by then). It repeats to ±5-10 % (best of 60 passes), where (b)'s single
// pairs swing by ±10-20 %.
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/bytes.h"

namespace autonic::cli {

// `count` TLS 1.3 records of `record` content bytes as the offload's NIC sees them in the clear:
// header, content (record i filled with i), the inner type (application data), a zero tag --
// what the L5P hands the TX NIC, and what the RX NIC leaves after decrypting them whole.
Bytes offload_records(size_t count, uint32_t record);

struct RecordLayerCycles {
  uint32_t record = 0;  // record content bytes
  // RX: records the NIC decrypted whole, in 1448-byte pieces, 45 a recv() (GRO's 64 KiB):
  // TlsRx::input per piece + one flush per recv(), against one memcpy per piece into a buffer.
  double rx_tls = 0, rx_copy = 0;
  // TX: 256 KiB application writes framed into offload records (TlsTx::queue: header, the copy
  // of the plaintext, the message map), pumped to TCP and acknowledged one pump later (on_acked,
  // the arena's release), against one memcpy per 64 KiB of the same write (tcp_write's copy).
  double tx_tls = 0, tx_copy = 0;
};

// Host cycles per record (rdtsc), the best of `rounds` passes over 1 MiB of records, the TLS
// and the copy pass interleaved.
RecordLayerCycles measure_record_layer(uint32_t record, int rounds = 60);

}  // namespace autonic::cli
