#include "wire/pcap_tap.h"

#include <stdexcept>

namespace autonic::wire {

PcapTap::PcapTap(const std::string& path) {
  dead_ = pcap_open_dead(DLT_EN10MB, 65535);
  if (!dead_) throw std::runtime_error("pcap_open_dead failed");
  dumper_ = pcap_dump_open(dead_, path.c_str());
  if (!dumper_) {
    std::string err = pcap_geterr(dead_);
    pcap_close(dead_);
    throw std::runtime_error("cannot open pcap file " + path + ": " + err);
  }
}

PcapTap::~PcapTap() {
  if (dumper_) pcap_dump_close(dumper_);
  if (dead_) pcap_close(dead_);
}

void PcapTap::record(Nanos ts, ByteSpan frame) {
  pcap_pkthdr h{};
  h.ts.tv_sec = time_t(ts / 1'000'000'000ull);
  h.ts.tv_usec = suseconds_t((ts % 1'000'000'000ull) / 1000);
  h.caplen = h.len = bpf_u_int32(frame.size());
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, frame.data());
}

}  // namespace autonic::wire
