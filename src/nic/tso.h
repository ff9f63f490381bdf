// TCP segmentation offload (TSO): the driver hands the NIC one frame whose TCP payload is larger
// than the wire's MSS (lwIP built a super-segment: tcpip/lwip_glue.h HostNetif::tso), and the NIC
// cuts it into wire frames of at most `mss` payload bytes, as Linux's GSO / a NIC's LSO do
// (mlx5: the WQE's MSS field). Every wire frame repeats the super-segment's IPv4 and TCP headers
// with its own IP total length and ID, TCP sequence number and flags: FIN and PSH only on the
// last one (they mark the end of what the stack sent), CWR only on the first (RFC 3168 §6.1.2:
// once per window). Checksums: the IPv4 header's here, the TCP one by the caller's checksum
// offload over each frame's final bytes.
#pragma once
#include <cstddef>
#include <functional>

#include "common/bytes.h"
#include "common/frame.h"

namespace autonic::nic {

// Cuts `frame` (parsed as `v`, payload already in its final form: the L5P offload ran over the
// whole super-segment, a stream transform that gives the same bytes in any cut) and hands each
// wire frame to `emit` in sequence order. mss >= 1.
void tso_segment(const Bytes& frame, const TcpFrameView& v, size_t mss, const std::function<void(Bytes)>& emit);

}  // namespace autonic::nic
