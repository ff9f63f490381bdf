#include "l5p/common/tx_msg_map.h"

#include <algorithm>
#include <cstring>

namespace autonic::l5p {

TxMsgMap::Piece owned_piece(Bytes b) {
  auto p = std::make_shared<Bytes>(std::move(b));
  return TxMsgMap::Piece{p->data(), p->size(), p};
}

TxMsgMap::Piece new_piece(size_t n, uint8_t** data) {
  std::shared_ptr<uint8_t[]> p(new uint8_t[n]);  // not zero-filled: the caller writes every byte
  *data = p.get();
  return TxMsgMap::Piece{p.get(), n, std::shared_ptr<const void>(p, p.get())};
}

uint64_t TxMsgMap::push(std::vector<Piece> pieces, uint64_t note) {
  size_t len = 0;
  for (const Piece& p : pieces) len += p.len;
  const uint64_t idx = next_index_++;
  msgs_.push_back(Msg{next_seq_, idx, len, std::move(pieces), 0, note});
  next_seq_ += uint32_t(len);
  unwritten_ += len;
  return idx;
}

size_t TxMsgMap::pump(tcpip::TcpConn& conn, bool whole_msgs) {
  size_t total = 0;
  while (first_unwritten_ < msgs_.size()) {
    Msg& m = msgs_[first_unwritten_];
    if (whole_msgs && m.written == 0 && conn.sndbuf() < m.len) break;
    // Walk to the piece holding byte m.written.
    size_t skip = m.written;
    size_t pi = 0;
    while (pi < m.pieces.size() && skip >= m.pieces[pi].len) skip -= m.pieces[pi++].len;
    bool blocked = false;
    for (; pi < m.pieces.size(); ++pi, skip = 0) {
      const Piece& p = m.pieces[pi];
      const size_t room = conn.sndbuf();
      if (room == 0) { blocked = true; break; }
      const size_t n = std::min(room, p.len - skip);
      if (!conn.write(p.data + skip, n, /*copy=*/copy_, /*more=*/true)) { blocked = true; break; }
      m.written += n;
      unwritten_ -= n;
      total += n;
      if (skip + n < p.len) { blocked = true; break; }
    }
    if (blocked) break;
    ++first_unwritten_;
  }
  if (total) conn.output();
  return total;
}

size_t TxMsgMap::on_acked(TcpSeq snd_una) {
  size_t n = 0;
  while (!msgs_.empty() && first_unwritten_ > 0) {
    const Msg& m = msgs_.front();
    if (m.start + uint32_t(m.len) > snd_una) break;
    if (on_release_) on_release_(m.pieces, m.note);
    msgs_.pop_front();
    --first_unwritten_;
    ++n;
  }
  return n;
}

l5o::TxMsgState TxMsgMap::msgstate(TcpSeq tcpsn) {
  l5o::TxMsgState s;
  if (tcpsn < first_seq_) {
    s.kind = l5o::TxMsgState::Kind::kBeforeOffload;
    return s;
  }
  auto it = std::upper_bound(msgs_.begin(), msgs_.end(), tcpsn,
                             [](TcpSeq t, const Msg& m) { return t < m.start; });
  if (it == msgs_.begin()) {
    s.kind = l5o::TxMsgState::Kind::kNoSyncData;
    return s;
  }
  const Msg& m = *std::prev(it);
  const size_t off = size_t(tcpsn - m.start);
  if (off >= m.len) {
    s.kind = l5o::TxMsgState::Kind::kNoSyncData;
    return s;
  }
  prefix_.clear();
  for (const Piece& p : m.pieces) {
    if (prefix_.size() >= off) break;
    const size_t n = std::min(p.len, off - prefix_.size());
    prefix_.insert(prefix_.end(), p.data, p.data + n);
  }
  s.kind = l5o::TxMsgState::Kind::kFound;
  s.msg_start = m.start;
  s.msg_index = m.index;
  s.prefix = prefix_;
  return s;
}

}  // namespace autonic::l5p
