#include "nic/engine/tx_offload.h"

namespace autonic::nic {

TxOffloadFlow::TxOffloadFlow(const Plugin& plugin, std::unique_ptr<PluginFlow> flow, TcpSeq start)
    : plugin_(plugin), flow_(std::move(flow)), start_(start) {
  cur_.reset(start, 0);
}

void TxOffloadFlow::recover_to_start() {
  cur_.reset(start_, 0, TcpSeq());
  framing_lost_ = false;
}

void TxOffloadFlow::recover(TcpSeq msg_start, uint64_t msg_index, TcpSeq payload_pos, ByteSpan prefix,
                            OffloadStats& st) {
  cur_.reset(msg_start, msg_index, payload_pos);
  framing_lost_ = false;
  ++st.tx_dump_packets;
  st.tx_dump_bytes += prefix.size();
  if (prefix.empty()) return;
  // Only the state matters; the output of the prefix is discarded.
  scratch().resize(prefix.size());
  const FeedResult r = feed(cur_, plugin_, *flow_, l5o::Direction::kTx, prefix, scratch());
  if (r.bad_header) framing_lost_ = true;
}

bool TxOffloadFlow::process(TcpSeq seq, MutByteSpan payload, OffloadStats& st) {
  if (payload.empty()) return true;
  size_t lead = 0;
  const bool at_start = cur_.pos() == start_ && cur_.msg_index == 0 && cur_.offset == 0;
  if (at_start && seq + uint32_t(payload.size()) <= start_ && !framing_lost_) {
    ++st.tx_bypass_packets;  // entirely before the offload (an inner engine sees these)
    return true;
  }
  if (seq != cur_.pos() && at_start && seq < start_ &&
      seq + uint32_t(payload.size()) > start_)
    lead = size_t(start_ - seq);  // pre-offload bytes in the same segment: not ours to touch
  else if (seq != cur_.pos() || framing_lost_) {
    ++st.tx_drop_no_sync_data;
    return false;
  }
  MutByteSpan mine = payload.subspan(lead);
  const FeedResult r = feed(cur_, plugin_, *flow_, l5o::Direction::kTx, mine, mine);
  if (r.bad_header) {
    // The L5P handed TCP bytes that are not a message where one must start: sending them
    // would put unprotected plaintext on the wire. Drop until the driver recovers us.
    framing_lost_ = true;
    ++st.tx_err;
    return false;
  }
  ++st.tx_encrypted_packets;
  st.tx_encrypted_bytes += payload.size();
  return true;
}

void TxOffloadFlow::freeze(Packer& p) const {
  cur_.pack(p, plugin_.header_len());
  p.put(start_);
  p.put(framing_lost_);
  flow_->freeze(p);
}

std::unique_ptr<TxOffloadFlow> TxOffloadFlow::thaw(const Plugin& plugin, Unpacker& u) {
  MsgCursor cur;
  cur.unpack(u, plugin.header_len());
  const auto start = u.get<TcpSeq>();
  const auto lost = u.get<bool>();
  auto t = std::make_unique<TxOffloadFlow>(plugin, plugin.thaw_flow(u), start);
  t->cur_ = cur;
  t->framing_lost_ = lost;
  return t;
}

size_t TxOffloadFlow::context_bytes() const {
  return flow_->context_bytes() + MsgCursor::context_bytes(plugin_.header_len());
}

}  // namespace autonic::nic
