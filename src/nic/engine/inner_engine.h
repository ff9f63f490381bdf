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
    none_ = false;
    unmarked_end_ = nullptr;
    req_.reset();
  }
  // `bytes` lie in the buffer the outer engine processed the packet into, at the packet's own
  // offsets, in order: the inner mark of the packet starts after the last inner byte left
  // unmarked (marks_from).
  void on_payload(TcpSeq pos, MutByteSpan bytes) override {
    if (broken_) {
      none_ = true;
      return;
    }
    const RxVerdict v = flow_->process(pos, bytes, *st_);
    if (!v.marked) unmarked_end_ = bytes.data() + bytes.size();
    else if (v.mark_from) unmarked_end_ = bytes.data() + v.mark_from;
    if (v.resync_req) req_ = v.resync_req;
  }
  void on_broken() override {
    if (!broken_) ++st_->rx_err;
    broken_ = true;
    none_ = true;
  }
  // The packet offset from which every inner payload byte of it was processed in sequence and
  // verified (`base`: where the outer engine processed the packet), nullopt if the inner engine
  // marks none of it. 0 for a packet without inner payload bytes: it carries nothing the inner
  // L5P must check.
  std::optional<size_t> marks_from(const uint8_t* base) const {
    if (none_) return std::nullopt;
    return unmarked_end_ ? size_t(unmarked_end_ - base) : 0;
  }
  const std::optional<TcpSeq>& resync_req() const { return req_; }

 private:
  RxOffloadFlow* flow_;
  OffloadStats* st_;
  bool none_ = false, broken_ = false;
  const uint8_t* unmarked_end_ = nullptr;
  std::optional<TcpSeq> req_;
};

}  // namespace autonic::nic
