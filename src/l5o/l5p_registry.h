// The L5P registry: every offloadable L5P is one line here, and nothing else names them all.
//
//   X(ident, Enumerator, "counter name", "--l5p name", Shape)
//
// From each line every layer derives its part by naming convention -- no layer keeps its own
// list, and no array is sized by hand:
//   l5o      l5o::L5Proto::k<Enumerator>, proto_name() = the counter name (tx_<name>_...);
//   nic      the plug-in from make_<ident>_plugin(), defined in src/nic/plugins/<ident>/;
//   driver   per-protocol counters, sized by kL5ProtoCount;
//   testbed  --l5p <name>: testbed::L5pKind::k<Enumerator>; a kStream L5P carries the bulk
//            workload through make_<ident>_stream(), defined in src/testbed/l5ps/<ident>/;
//            a kBlock one the fio-like workload (NVMe/TCP's queues).
// Adding an L5P: its folders (src/proto/<ident>, src/l5p/<ident>, src/nic/plugins/<ident>,
// src/testbed/l5ps/<ident>) plus one line below. README "The framed L5P" walks through it.
#pragma once
#include <cstddef>
#include <cstdint>

namespace autonic::l5o {

enum class L5pShape : uint8_t { kStream, kBlock };

}  // namespace autonic::l5o

#define AUTONIC_L5P_REGISTRY(X)                         \
  X(framed, Framed, "framed", "framed", kStream)       \
  X(tls, Tls, "tls", "tls", kStream)                   \
  X(nvme, NvmeTcp, "nvme_tcp", "nvme", kBlock)
