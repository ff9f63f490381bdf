// Message buffers shared by every connection of the process: a receive path takes one when a
// message starts and gives it back when the message is consumed, so an idle connection holds
// none and a busy one reuses warm memory without a malloc per message (issue #13: 128K
// connections may hold the records in progress, not a 16 KiB buffer each; issue #12: no
// per-record allocation on the RX fast path). Single-threaded, like the rest of the model.
#pragma once
#include "common/bytes.h"

namespace autonic::l5p {

// An empty buffer, with the capacity of one given back earlier if there is one.
Bytes buf_pool_take();
// Keeps b's memory for the next taker (up to a bound; beyond it, freed). b is left empty.
void buf_pool_give(Bytes& b);

}  // namespace autonic::l5p
