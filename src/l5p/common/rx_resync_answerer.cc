#include "l5p/common/rx_resync_answerer.h"

namespace autonic::l5p {

void RxResyncAnswerer::reply(TcpSeq t, bool ok, uint64_t idx) {
  ++(ok ? answered_ok : answered_fail);
  pending_.reset();
  answer_(t, ok, idx);
}

void RxResyncAnswerer::request(TcpSeq tcpsn, TcpSeq pos, bool at_boundary, TcpSeq cur_start,
                               uint32_t cur_len) {
  const bool inside_current = !at_boundary && cur_len != 0 && tcpsn < cur_start + cur_len;
  if (tcpsn < pos || (tcpsn == pos && !at_boundary) || inside_current) {
    for (auto& [s, idx] : recent_)
      if (s == tcpsn) return reply(tcpsn, true, idx);
    return reply(tcpsn, false, 0);
  }
  pending_ = tcpsn;  // answered when the stream reaches it
}

void RxResyncAnswerer::on_msg_start(TcpSeq start, uint64_t index) {
  recent_.emplace_back(start, index);
  if (recent_.size() > 64) recent_.pop_front();
  if (!pending_) return;
  if (*pending_ == start) reply(start, true, index);
  else if (*pending_ < start) reply(*pending_, false, 0);
}

void RxResyncAnswerer::on_msg_len(TcpSeq start, uint32_t len) {
  // A guess inside this message is wrong: say so now rather than at its end.
  if (pending_ && *pending_ > start && *pending_ < start + len) reply(*pending_, false, 0);
}

}  // namespace autonic::l5p
