// The static TLS offload state the record layer hands to the NIC through l5o create (§4.1): the
// traffic keys of one direction and the record sequence number the offload starts at. Lives
// below both the L5P and the NIC model so neither has to include the other.
//
// KeyUpdate (RFC 8446 §4.6.3) changes the keys at a record boundary and restarts the sequence
// numbers at 0 (§5.3). A TX context must still re-encrypt retransmitted records of the old keys,
// so its state is a short list of key epochs by message index; the L5P replaces it with l5o
// update (ordered on the send queue before the first record under the new keys) and keeps at
// most two epochs live (the old one until its records are acknowledged). An RX context is
// given the next generation's keys in advance (`next`): when it decrypts and verifies a record
// that is exactly one KeyUpdate, it moves to them by itself from the following record on (the
// L5P confirms with an update naming that record, and supplies the generation after).
#pragma once
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "l5o/l5o.h"
#include "proto/tls/tls_record.h"

namespace autonic::proto::tls {

struct TlsL5State final : l5o::L5State {
  // Messages from first_msg on (the engine's index, counted from the offload's first record)
  // use `keys`; message i has record sequence number first_seq + (i - first_msg).
  struct Epoch {
    uint64_t first_msg = 0;
    uint64_t first_seq = 0;
    TrafficKeys keys;
  };
  TlsL5State(TrafficKeys k, uint64_t first_seq) : L5State(l5o::L5Proto::kTls) {
    epochs.push_back(Epoch{0, first_seq, std::move(k)});
  }
  explicit TlsL5State(std::vector<Epoch> e) : L5State(l5o::L5Proto::kTls), epochs(std::move(e)) {}
  // The epoch of message `msg_index` (the last one starting at or before it).
  size_t epoch_of(uint64_t msg_index) const {
    size_t i = 0;
    while (i + 1 < epochs.size() && epochs[i + 1].first_msg <= msg_index) ++i;
    return i;
  }
  std::vector<Epoch> epochs;  // ascending first_msg; never empty
  std::optional<TrafficKeys> next;  // RX, TLS 1.3: the keys a KeyUpdate moves to
};

}  // namespace autonic::proto::tls
