// pcap tap (libpcap): records frames as they are put on a link, timestamped with the run clock.
#pragma once
#include <pcap/pcap.h>

#include <string>

#include "common/bytes.h"
#include "common/clock.h"

namespace autonic::wire {

class PcapTap {
 public:
  explicit PcapTap(const std::string& path);  // throws std::runtime_error on failure
  ~PcapTap();
  PcapTap(const PcapTap&) = delete;
  PcapTap& operator=(const PcapTap&) = delete;
  void record(Nanos ts, ByteSpan frame);

 private:
  pcap_t* dead_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
};

}  // namespace autonic::wire
