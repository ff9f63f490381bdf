// The static framed offload state the L5P hands to the NIC through l5o create: the connection
// key of one direction. Lives below both the L5P and the NIC model so neither has to include
// the other.
#pragma once
#include "l5o/l5o.h"
#include "proto/framed/framed_wire.h"

namespace autonic::proto::framed {

struct FramedL5State final : l5o::L5State {
  explicit FramedL5State(Key k) : L5State(l5o::L5Proto::kFramed), key(k) {}
  Key key;
};

}  // namespace autonic::proto::framed
