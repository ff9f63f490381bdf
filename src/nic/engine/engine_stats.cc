#include "nic/engine/engine_stats.h"

namespace autonic::nic {

#define AUTONIC_OFFLOAD_COUNTERS(X)                                                           \
  X(tx, encrypted_packets) X(tx, encrypted_bytes) X(tx, drop_no_sync_data) X(tx, drop_no_ctx) X(tx, err)         \
  X(tx, ooo) X(tx, dump_packets) X(tx, dump_bytes) X(tx, bypass_packets) X(tx, crc_bytes)                      \
  X(rx, decrypted_packets) X(rx, decrypted_bytes) X(rx, split_packets) X(rx, ooo_packets) X(rx, resync_jump) X(rx, resync_jump_exact)       \
  X(rx, resync_req_pkt) X(rx, resync_req_start) X(rx, resync_req_end) X(rx, resync_req_skip)  \
  X(rx, resync_req_cancel) X(rx, resync_res_ok) X(rx, resync_res_fail)                        \
  X(rx, resync_res_stale) X(rx, resync_bad_pattern) X(rx, err) X(rx, ddp_bytes) X(rx, crc_bytes) X(rx, key_switch) X(rx, sk_add) X(rx, sk_del) X(rx, rr_setup) X(rx, rr_teardown) \
  X(tx, ctx) X(tx, del) X(tx, ctx_add_fail) X(rx, ctx_add_fail) X(tx, ctx_lost) X(rx, ctx_lost) X(tx, ctx_restore) X(rx, ctx_restore)

void OffloadStats::export_to(CounterMap& m, const std::string& proto) const {
#define X(dir, what) add_counter(m, #dir "_" + proto + "_" #what, dir##_##what);
  AUTONIC_OFFLOAD_COUNTERS(X)
#undef X
}

void OffloadStats::add(const OffloadStats& o) {
#define X(dir, what) dir##_##what += o.dir##_##what;
  AUTONIC_OFFLOAD_COUNTERS(X)
#undef X
}

}  // namespace autonic::nic
