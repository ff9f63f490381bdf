// The static TLS offload state the record layer hands to the NIC through l5o create (§4.1): the
// traffic keys of one direction and the record sequence number the offload starts at. Lives
// below both the L5P and the NIC model so neither has to include the other.
#pragma once
#include <cstdint>
#include <utility>

#include "l5o/l5o.h"
#include "proto/tls/tls_record.h"

namespace autonic::proto::tls {

struct TlsL5State final : l5o::L5State {
  TlsL5State(TrafficKeys k, uint64_t first_seq)
      : L5State(l5o::L5Proto::kTls), keys(std::move(k)), start_seq(first_seq) {}
  TrafficKeys keys;
  uint64_t start_seq;  // TLS record sequence number of the offload's first record
};

}  // namespace autonic::proto::tls
