// TX side of the generic engine (§4.2): transforms in-sequence packets; a recovery descriptor
// from the driver (built from the L5P's get_tx_msgstate answer) rebuilds the dynamic state for
// an out-of-sequence packet by re-processing the message prefix ("dump" bytes, as mlx5 does).
#pragma once
#include <memory>

#include "nic/engine/engine_stats.h"
#include "nic/engine/msg_cursor.h"

namespace autonic::nic {

class TxOffloadFlow {
 public:
  TxOffloadFlow(const Plugin& plugin, std::unique_ptr<PluginFlow> flow, TcpSeq start);
  // Recovery descriptor: the message holding the next packet starts at msg_start with index
  // msg_index; prefix = its bytes up to the packet.
  // payload_pos: inner-stream position of that message's payload (composed offloads).
  void recover(TcpSeq msg_start, uint64_t msg_index, TcpSeq payload_pos, ByteSpan prefix, OffloadStats& st);
  // Recovery to a position before the offload began: rewind to its start.
  void recover_to_start();
  // The L5P no longer holds what the context needs: drop until the next recovery.
  void lose_framing() { framing_lost_ = true; }
  // Transforms a packet's payload in place (the NIC's own DMA copy, never lwIP's buffer).
  // Returns false if the packet must be dropped: it is not where the context is and the driver
  // gave nothing to recover from, or the engine lost the message framing.
  bool process(TcpSeq seq, MutByteSpan payload, OffloadStats& st);
  TcpSeq expected() const { return cur_.pos(); }
  // NIC context memory: the plug-in's state and the message cursor (TX recovery state comes
  // with the driver's descriptor, nothing is kept for it). Steady TLS 1.3 AES-128-GCM: 186 B.
  size_t context_bytes() const;
  PluginFlow& plugin_flow() { return *flow_; }
  // The at-rest form (pack.h): cursor, offload start, framing flag, then the plug-in's; only
  // if freezable(). thaw() makes the flow again (its work buffer to be set again).
  bool freezable() const { return !own_scratch_ && flow_->freezable(); }
  void freeze(Packer& p) const;
  static std::unique_ptr<TxOffloadFlow> thaw(const Plugin& plugin, Unpacker& u);
  // The recovery buffer: shared among the NIC's contexts (see RxOffloadFlow::set_scratch).
  void set_scratch(Bytes* s) { scratch_ = s; }

 private:
  const Plugin& plugin_;
  std::unique_ptr<PluginFlow> flow_;
  MsgCursor cur_;
  TcpSeq start_;  // first byte of the offload: bytes before it belong to the L5P's set-up
  bool framing_lost_ = false;
  // The work buffer: the NIC's shared one, else the flow's own, made on first use.
  Bytes& scratch() {
    if (!scratch_) {
      own_scratch_ = std::make_unique<Bytes>();
      scratch_ = own_scratch_.get();
    }
    return *scratch_;
  }
  std::unique_ptr<Bytes> own_scratch_;
  Bytes* scratch_ = nullptr;
};

}  // namespace autonic::nic
