// Shared by the NVMe/TCP and NVMe/TCP-over-TLS scenario tests: a workload config and the
// command line that replays it.
#pragma once
#include <sstream>
#include <string>

#include "testbed/testbed.h"

namespace autonic::testing {

inline std::string nvme_replay(const testbed::ScenarioConfig& c) {
  std::ostringstream o;
  o << "replay: build/autonic run --l5p " << testbed::l5p_name(c.l5p) << " --offload " << testbed::offload_name(c.offload)
    << " --rw " << c.rw << " --io-size " << c.io_size << " --depth " << c.depth << " --bytes " << c.bytes
    << " --ns-size " << c.ns_size << " --lba-size " << c.lba_size << " --loss " << c.link.loss << " --reorder "
    << c.link.reorder << " --dup " << c.link.dup << " --tamper " << c.link.tamper << " --seed " << c.seed
    << (c.openssl_peer ? " --openssl-peer" : "") << " --queues " << c.io_queues << (c.tso ? " --tso on" : "")
    << (c.gro ? " --gro on" : "");
  return o.str();
}

inline testbed::ScenarioConfig nvme_config(testbed::L5pKind l5p, testbed::OffloadMode m, const char* rw, uint32_t io,
                                           uint32_t depth, uint64_t bytes) {
  testbed::ScenarioConfig c;
  c.l5p = l5p;
  c.offload = m;
  c.rw = rw;
  c.io_size = io;
  c.depth = depth;
  c.bytes = bytes;
  c.ns_size = 16u << 20;
  return c;
}

}  // namespace autonic::testing
