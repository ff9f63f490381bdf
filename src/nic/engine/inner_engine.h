// Adapters that let a generic TX / RX engine run as the inner engine of a composed offload
// (plugin.h, InnerEngine): the outer plug-in hands it payload chunks at inner-stream positions,
// and the inner engine treats each chunk as a TCP-level engine treats a packet -- in-sequence
// chunks are processed, gaps send it through its own recovery (TX: the driver's inner recovery
// descriptor; RX: hardware jump, search, resync request in inner coordinates).
#pragma once
#include <memory>
#include <optional>

#include "nic/engine/rx_offload.h"
#include "nic/engine/tx_offload.h"

namespace autonic::nic {

class InnerTx final : public InnerEngine {
 public:
  InnerTx(TxOffloadFlow* flow, OffloadStats* st) : flow_(flow), st_(st) {}
  // A chunk the inner context cannot place (no recovery was possible) goes out as the L5P
  // wrote it; counted as tx_drop_no_sync_data -- the peer's digest check then fails the PDU.
  void on_payload(TcpSeq pos, MutByteSpan bytes) override { flow_->process(pos, bytes, *st_); }

 private:
  TxOffloadFlow* flow_;
  OffloadStats* st_;
};

class InnerRx final : public InnerEngine {
 public:
  InnerRx(RxOffloadFlow* flow, OffloadStats* st) : flow_(flow), st_(st) {}
  void begin_packet() {
    all_marked_ = true;
    req_.reset();
  }
  void on_payload(TcpSeq pos, MutByteSpan bytes) override {
    if (broken_) {
      all_marked_ = false;
      return;
    }
    const RxVerdict v = flow_->process(pos, bytes, *st_);
    all_marked_ = all_marked_ && v.marked;
    if (v.resync_req) req_ = v.resync_req;
  }
  void on_broken() override {
    if (!broken_) ++st_->rx_err;
    broken_ = true;
    all_marked_ = false;
  }
  // Every payload chunk of the packet was processed in sequence and verified (vacuously true
  // for a packet without payload bytes: it carries nothing the inner L5P must check).
  bool all_marked() const { return all_marked_; }
  const std::optional<TcpSeq>& resync_req() const { return req_; }

 private:
  RxOffloadFlow* flow_;
  OffloadStats* st_;
  bool all_marked_ = true, broken_ = false;
  std::optional<TcpSeq> req_;
};

}  // namespace autonic::nic
