#include "l5p/framed/framed_tx.h"

#include <algorithm>
#include <cstring>

namespace autonic::l5p::framed {

FramedTx::FramedTx(const Key& key, bool offload, size_t msg_payload, FramedStats& st)
    : key_(key), offload_(offload), msg_payload_(std::clamp<size_t>(msg_payload, 1, kMaxPayload)), st_(st) {}

size_t FramedTx::queue(ByteSpan data) {
  const size_t limit = std::max<size_t>(2 * (msg_payload_ + kHeaderLen + kTrailerLen), 512 * 1024);
  size_t taken = 0;
  while (taken < data.size() && unwritten_ < limit) {
    const size_t n = std::min(msg_payload_, data.size() - taken);
    Msg m{next_seq_, next_index_++, Bytes(kHeaderLen + n + kTrailerLen), 0};
    write_header(m.bytes.data(), uint32_t(n));
    std::memcpy(m.bytes.data() + kHeaderLen, data.data() + taken, n);
    if (!offload_) {
      // Software path: encrypt and fill the check value here.
      MsgCipher c(key_);
      c.begin(m.index, ByteSpan(m.bytes.data(), kHeaderLen));
      MutByteSpan body(m.bytes.data() + kHeaderLen, n + kTrailerLen);
      c.tx(uint32_t(kHeaderLen), body, body);
      st_.tx_sw_encrypted_bytes += n;
    }
    // With TX offload the payload stays plaintext and the check a dummy (zeros): the NIC
    // fills both in on the way out (§4.2).
    next_seq_ += uint32_t(m.bytes.size());
    unwritten_ += m.bytes.size();
    taken += n;
    ++st_.tx_msgs;
    msgs_.push_back(std::move(m));
    st_.tx_held_msgs_max = std::max<uint64_t>(st_.tx_held_msgs_max, msgs_.size());
  }
  return taken;
}

void FramedTx::pump(tcpip::TcpConn& conn) {
  bool wrote = false;
  for (Msg& m : msgs_) {
    if (m.written == m.bytes.size()) continue;
    const size_t room = conn.sndbuf();
    if (room == 0) break;
    const size_t n = std::min(room, m.bytes.size() - m.written);
    // lwIP copies: the message stays here, unmodified, for get_tx_msgstate.
    if (!conn.write(m.bytes.data() + m.written, n, /*copy=*/true, /*more=*/true)) break;
    m.written += n;
    unwritten_ -= n;
    wrote = true;
    if (m.written < m.bytes.size()) break;
  }
  if (wrote) conn.output();
}

void FramedTx::on_acked(TcpSeq snd_una) {
  while (!msgs_.empty()) {
    const Msg& m = msgs_.front();
    if (m.written < m.bytes.size() || m.start + uint32_t(m.bytes.size()) > snd_una) break;
    msgs_.pop_front();
  }
}

l5o::TxMsgState FramedTx::msgstate(TcpSeq tcpsn) const {
  l5o::TxMsgState s;
  if (tcpsn < first_seq_) {
    s.kind = l5o::TxMsgState::Kind::kBeforeOffload;
    return s;
  }
  // Messages are contiguous in sequence space: binary search by start.
  auto it = std::upper_bound(msgs_.begin(), msgs_.end(), tcpsn,
                             [](TcpSeq t, const Msg& m) { return t < m.start; });
  if (it == msgs_.begin()) {
    s.kind = l5o::TxMsgState::Kind::kNoSyncData;
    return s;
  }
  const Msg& m = *std::prev(it);
  const uint32_t off = uint32_t(tcpsn - m.start);
  if (off >= m.bytes.size()) {
    s.kind = l5o::TxMsgState::Kind::kNoSyncData;
    return s;
  }
  s.kind = l5o::TxMsgState::Kind::kFound;
  s.msg_start = m.start;
  s.msg_index = m.index;
  s.prefix = ByteSpan(m.bytes.data(), off);
  return s;
}

}  // namespace autonic::l5p::framed
