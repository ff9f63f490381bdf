// wire/: the medium between two NIC ports. A Link is one direction; the NIC only sees this
// interface, so other backends (TAP device, raw Ethernet) can replace the simulated one without
// touching the layers above (DESIGN.md "Beyond one machine").
#pragma once
#include "common/bytes.h"

namespace autonic::wire {

// Where a link delivers frames: a NIC's receive port.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void deliver(Bytes frame) = 0;
};

class Link {
 public:
  virtual ~Link() = default;
  virtual void transmit(Bytes frame) = 0;
};

}  // namespace autonic::wire
