// lwIP's demultiplexing cost, measured apart from everything else (issue #13). tcp_input finds a
// segment's pcb by walking tcp_active_pcbs from the front and moving the match to the front
// (tcp_in.c); with many connections that walk is a per-packet cost Linux does not have (it
// hashes), and we may not change lwIP. So, for one TCP segment in kSampleEvery, the probe walks
// the same list with the same tests just before lwIP does, counting the pcbs it passes and
// timing the walk: pcbs and cycles per packet that belong to lwIP's design, not to the NIC or
// the L5P.
#pragma once
#include <cstdint>

#include "common/counters.h"
#include "tcpip/lwip.h"

namespace autonic::tcpip {

class DemuxProbe {
 public:
  static constexpr uint32_t kSampleEvery = 64;
  void on_input(const pbuf* p, const netif* inp);
  void export_to(CounterMap& m) const;

 private:
  uint64_t seen_ = 0, samples_ = 0, pcbs_ = 0, cycles_ = 0;
};

}  // namespace autonic::tcpip
