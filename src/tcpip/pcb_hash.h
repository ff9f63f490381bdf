// lwIP's connection lists hashed by 4-tuple, without changing lwIP (issue #13).
//
// Why: tcp_input finds a segment's pcb by walking tcp_active_pcbs from the front (tcp_in.c, with
// move-to-front); Linux hashes the 4-tuple instead (inet_ehash, __inet_lookup_established). With
// 131072 connections (both hosts' pcbs in this one lwIP) a flow's turn walks past nearly all of
// them: O(flows^2) a run, the 44 minutes of the 131072-flow run. lwIP keeps its lists as two
// global heads (tcp_active_pcbs, tcp_tw_pcbs: tcp_priv.h) and matches a segment by its exact
// 4-tuple, so the set of pcbs a segment can match is known before lwIP runs. PcbHash keeps one
// pair of lists per bucket of a 4-tuple hash and, around every call into lwIP that reads or
// changes those lists for one connection, loads that connection's bucket into the two heads:
// lwIP walks a list of a few pcbs, and a pcb it creates (passive open) or moves (TIME_WAIT) goes
// into the bucket of its own 4-tuple, which is the one loaded. Calls that need every pcb -- the
// timers (tcp_slowtmr / tcp_fasttmr walk all connections), tcp_bind's port check, a listener's
// close, teardown -- see all buckets chained into one list each (PcbScope(kAllPcbs)) and the
// buckets are rebuilt after. A received packet that is not a whole TCP segment needs no bucket. Listen and bound pcbs stay in lwIP's own lists.
//
// With one bucket (the default) nothing is swapped: lwIP runs exactly as shipped. The testbed
// hashes when it runs many flows (`--lwip-demux`); the demux probe then measures the bucket walk.
// Every lwIP call that touches the lists goes through tcpip/ (lwip_glue, tcp_conn): nothing
// above this layer calls lwIP.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tcpip/lwip.h"

namespace autonic::tcpip {

// A connection as lwIP matches it: addresses in network order (as lwIP stores them), ports in
// host order, seen from the host that owns the pcb.
struct PcbTuple {
  uint32_t local_ip = 0, remote_ip = 0;
  uint16_t local_port = 0, remote_port = 0;
};
PcbTuple tuple_of(const tcp_pcb* pcb);
// The tuple of a received IPv4 TCP segment (the pbuf holds the IP packet, headers in its first
// buffer), from the receiving host's side; false if it is anything else (a fragment, another
// protocol, a header cut short: lwIP drops those before it walks a TCP list).
bool segment_tuple(const pbuf* p, PcbTuple* out);

// Number of buckets: a power of two, 1 = lwIP's own lists. Any time; existing pcbs are rehashed.
void pcb_hash_set_buckets(size_t n);
size_t pcb_hash_buckets();

inline constexpr struct AllPcbs {
} kAllPcbs;

// RAII: while it lives, lwIP's active / TIME_WAIT lists are the bucket of one 4-tuple, or
// (kAllPcbs) every pcb. Scopes nest: an inner one restores what the outer one loaded; inside an
// all-pcbs scope every other scope is a no-op (the lists already hold everything).
class PcbScope {
 public:
  explicit PcbScope(const PcbTuple& t);
  explicit PcbScope(AllPcbs);
  // A received IPv4 packet: its segment's bucket; nothing if it is not a whole TCP segment
  // (segment_tuple: lwIP drops it before any list walk). Nothing to parse while hashing is off.
  explicit PcbScope(const pbuf* received);
  ~PcbScope();
  PcbScope(const PcbScope&) = delete;
  PcbScope& operator=(const PcbScope&) = delete;

 private:
  void enter_bucket(const PcbTuple& t);
  void enter_all();
  enum class Mode : uint8_t { kNone, kBucket, kAll } mode_ = Mode::kNone;
  size_t prev_ = 0;
};

}  // namespace autonic::tcpip
