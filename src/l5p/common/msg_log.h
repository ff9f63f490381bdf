// The receive side's finished messages, each with its stream extent and whether the NIC did all
// of its work (full): kept only when a run asks for it, so that the testbed can set the offload's
// result beside what the wire allowed -- the messages no impaired frame touched
// (testbed/wire_audit.h). The L5P fills it; the testbed owns it and names the flow.
#pragma once
#include <cstdint>
#include <vector>

#include "common/frame.h"
#include "common/tcp_seq.h"

namespace autonic::l5p {

struct MsgLog {
  struct Entry {
    TcpSeq start;
    uint32_t len;
    bool full;
  };
  FlowKey flow;  // the direction the messages travelled (set by the owner)
  std::vector<Entry> msgs;
  void add(TcpSeq start, uint32_t len, bool full) { msgs.push_back(Entry{start, len, full}); }
};

}  // namespace autonic::l5p
