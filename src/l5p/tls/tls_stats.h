// TLS record-layer counters (Linux tls_stat names where one exists).
#pragma once
#include <cstdint>

#include "common/counters.h"

namespace autonic::l5p::tls {

struct TlsStats {
  uint64_t tx_tls_records = 0;
  uint64_t tx_tls_sw_encrypted_bytes = 0;   // sealed on the host (no TX offload)
  uint64_t tx_tls_zc_bytes = 0;             // application bytes sent by reference (offload+zc)
  uint64_t tx_tls_zc_modified = 0;          // lent buffers changed before acknowledgment (a bug)
  uint64_t rx_tls_records = 0;
  uint64_t rx_tls_msgs_full = 0;     // every packet decrypted by the NIC: no host crypto
  uint64_t rx_tls_msgs_partial = 0;  // re-encrypt the NIC's parts, then decrypt + authenticate
  uint64_t rx_tls_msgs_none = 0;     // software decrypt + authenticate
  uint64_t rx_tls_sw_decrypted_bytes = 0;
  uint64_t rx_tls_reencrypted_bytes = 0;
  uint64_t tls_decrypt_error = 0;    // bad tag: alert bad_record_mac (Linux TlsDecryptError)
  uint64_t rx_tls_alerts = 0;
  uint64_t rx_tls_post_handshake = 0;  // post-handshake messages consumed (NewSessionTicket)
  uint64_t rx_tls_ctx_rebased = 0;     // RX NIC context rebuilt after pre-data tickets (tls_rx.h)
  uint64_t tls_peer_unverified = 0;    // 1: the server's certificate was not verified (Verify::kNone)
  uint64_t tx_tls_alerts = 0;
  uint64_t rx_tls_resync_answer_ok = 0;
  uint64_t rx_tls_resync_answer_fail = 0;
  // KeyUpdate (RFC 8446 §4.6.3), named after Linux's TlsTxRekeyOk / TlsRxRekeyOk /
  // TlsRxRekeyReceived.
  uint64_t tx_tls_rekey_ok = 0;        // KeyUpdates sent: TX keys changed
  uint64_t tx_tls_rekey_deferred = 0;  // a KeyUpdate waited for the old epoch's records' ACKs
  uint64_t rx_tls_rekey_received = 0;  // KeyUpdates received ...
  uint64_t rx_tls_rekey_ok = 0;        // ... and RX keys changed
  uint64_t rx_tls_rekey_requested = 0;  // the peer asked for our KeyUpdate (update_requested)
  // Records after a KeyUpdate that the old RX NIC context had partly decrypted under the old
  // keys before the L5P moved it (tls_rx.cc): re-encrypted with those, then opened.
  uint64_t rx_tls_rekey_stale_marks = 0;

  void export_to(CounterMap& m) const {
#define C(x) add_counter(m, #x, x);
    C(tx_tls_records) C(tx_tls_sw_encrypted_bytes) C(tx_tls_zc_bytes) C(tx_tls_zc_modified)
    C(rx_tls_records) C(rx_tls_msgs_full) C(rx_tls_msgs_partial) C(rx_tls_msgs_none)
    C(rx_tls_sw_decrypted_bytes) C(rx_tls_reencrypted_bytes) C(tls_decrypt_error) C(rx_tls_alerts)
    C(rx_tls_post_handshake) C(rx_tls_ctx_rebased) C(tls_peer_unverified)
    C(tx_tls_alerts) C(rx_tls_resync_answer_ok) C(rx_tls_resync_answer_fail)
    C(tx_tls_rekey_ok) C(tx_tls_rekey_deferred) C(rx_tls_rekey_received) C(rx_tls_rekey_ok)
    C(rx_tls_rekey_requested) C(rx_tls_rekey_stale_marks)
#undef C
  }
};

}  // namespace autonic::l5p::tls
