// Test fixture helpers: framed message streams in their three forms, and a model of the RX path
// (NIC engine -> driver -> TCP reassembly -> framed L5P) without lwIP, for exhaustive checks.
#pragma once
#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "common/rng.h"
#include "l5p/framed/framed_cipher.h"
#include "l5p/framed/framed_rx.h"
#include "nic/engine/rx_offload.h"
#include "nic/engine/tx_offload.h"
#include "nic/plugins/framed/framed_plugin.h"

namespace autonic::testing {

using namespace autonic::l5p::framed;

struct FramedStream {
  Key key{0x1234, 0x5678};
  Bytes wire;      // as on the wire (encrypted, check filled)
  Bytes plain;     // what a NIC-marked packet must hold: header, plaintext payload, check
  Bytes tx_input;  // what the L5P hands TCP under TX offload: plaintext, zero check
  Bytes app;       // concatenated payloads: what the application must receive
  std::vector<uint32_t> msg_starts;
};

inline FramedStream make_stream(const std::vector<uint32_t>& payload_sizes, uint64_t seed = 7) {
  FramedStream s;
  uint64_t idx = 0;
  for (uint32_t n : payload_sizes) {
    s.msg_starts.push_back(uint32_t(s.wire.size()));
    Bytes m(kHeaderLen + n + kTrailerLen);
    write_header(m.data(), n);
    for (uint32_t i = 0; i < n; ++i) m[kHeaderLen + i] = uint8_t(autonic::splitmix64(seed + idx * 1000 + i));
    s.app.insert(s.app.end(), m.begin() + kHeaderLen, m.begin() + kHeaderLen + n);
    s.tx_input.insert(s.tx_input.end(), m.begin(), m.end());
    MsgCipher c(s.key);
    c.begin(idx, ByteSpan(m.data(), kHeaderLen));
    Bytes w = m;
    MutByteSpan body(w.data() + kHeaderLen, n + kTrailerLen);
    c.tx(uint32_t(kHeaderLen), body, body);
    Bytes p = m;
    std::copy(w.end() - kTrailerLen, w.end(), p.end() - kTrailerLen);
    s.wire.insert(s.wire.end(), w.begin(), w.end());
    s.plain.insert(s.plain.end(), p.begin(), p.end());
    ++idx;
  }
  return s;
}

// RX path model. seq offsets are relative to `base` (chosen so that sequence numbers wrap).
class RxModel {
 public:
  RxModel(const FramedStream& s, TcpSeq base)
      : s_(s), base_(base),
        flow_(plugin_, plugin_.make_flow(proto::framed::FramedL5State(s.key), l5o::Direction::kRx), base),
        l5p_(s.key, st_, [this](ByteSpan d) { app_.insert(app_.end(), d.begin(), d.end()); },
             [this](TcpSeq t, bool ok, uint64_t idx) { flow_.resync_resp(t, ok, idx, TcpSeq(), ost_); }) {
    l5p_.start(base);
  }

  // One packet of wire bytes [off, off+len) arrives. Returns "" or a description of a broken
  // invariant.
  std::string arrive(uint32_t off, uint32_t len) {
    Bytes pkt(s_.wire.begin() + off, s_.wire.begin() + off + len);
    const nic::RxVerdict v = flow_.process(base_ + off, pkt, ost_);
    // Invariant: marked bytes (from mark_from on) are exactly the plain view; the rest are the
    // untouched wire bytes.
    const uint32_t from = v.marked ? v.mark_from : len;
    if (from > len || (v.marked && from == len)) return "mark_from out of the packet";
    if (!std::equal(pkt.begin(), pkt.begin() + from, s_.wire.begin() + off) ||
        !std::equal(pkt.begin() + from, pkt.end(), s_.plain.begin() + off + from)) {
      std::ostringstream o;
      o << "packet [" << off << "," << off + len << ") marked from " << from << ": bytes differ from "
        << (v.marked ? "wire before / plain after the mark" : "the wire (unmarked but modified)");
      return o.str();
    }
    if (v.marked) ++marked_packets_;
    if (v.marked && from) ++split_packets_;
    marks_.push_back(v.marked && from == 0);
    if (v.resync_req) l5p_.resync_rx_req(*v.resync_req);
    tcp_receive(off, Seg{std::move(pkt), from});
    return error_;
  }

  const Bytes& app() const { return app_; }
  const FramedStats& l5p_stats() const { return st_; }
  const nic::OffloadStats& nic_stats() const { return ost_; }
  nic::RxSyncState state() const { return flow_.state(); }
  // Per packet: marked whole.
  const std::vector<bool>& marks() const { return marks_; }
  uint64_t split_packets() const { return split_packets_; }

 private:
  struct Seg {
    Bytes bytes;
    uint32_t mark_from;  // bytes from here on are marked (bytes.size(): none)
  };
  // TCP reassembly: in-order delivery, out-of-order queueing, duplicates trimmed; each
  // delivered piece keeps its own bytes' marks (as lwIP's pbuf flags do, one pbuf a range).
  void tcp_receive(uint32_t off, Seg seg) {
    if (off > rcv_nxt_) {
      ooseq_.emplace(off, std::move(seg));
      return;
    }
    deliver(off, seg);
    for (auto it = ooseq_.begin(); it != ooseq_.end() && it->first <= rcv_nxt_;) {
      deliver(it->first, it->second);
      it = ooseq_.erase(it);
    }
  }
  void deliver(uint32_t off, const Seg& seg) {
    const uint32_t end = off + uint32_t(seg.bytes.size());
    if (end <= rcv_nxt_) return;
    for (const bool marked : {false, true}) {
      const uint32_t lo = std::max(rcv_nxt_, marked ? off + seg.mark_from : off);
      const uint32_t hi = marked ? end : off + seg.mark_from;
      if (lo >= hi) continue;
      rcv_nxt_ = hi;
      if (auto e = l5p_.input(ByteSpan(seg.bytes.data() + (lo - off), hi - lo), marked); e && error_.empty())
        error_ = "L5P failed: " + *e;
    }
  }

  const FramedStream& s_;
  TcpSeq base_;
  nic::FramedPlugin plugin_;
  nic::OffloadStats ost_;
  FramedStats st_;
  nic::RxOffloadFlow flow_;
  FramedRx l5p_;
  Bytes app_;
  uint32_t rcv_nxt_ = 0;
  std::map<uint32_t, Seg> ooseq_;
  std::string error_;
  uint64_t marked_packets_ = 0, split_packets_ = 0;
  std::vector<bool> marks_;
};

}  // namespace autonic::testing
