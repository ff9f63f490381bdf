#include "l5p/common/rx_resync_answerer.h"

namespace autonic::l5p {

void RxResyncAnswerer::reply(TcpSeq t, bool ok, uint64_t idx, TcpSeq payload) {
  pending_.reset();
  answer_(t, ok, idx, payload);
}

void RxResyncAnswerer::request(TcpSeq tcpsn, TcpSeq pos, bool at_boundary, TcpSeq cur_start,
                               uint32_t cur_len) {
  const bool inside_current = !at_boundary && cur_len != 0 && tcpsn < cur_start + cur_len;
  if (tcpsn < pos || (tcpsn == pos && !at_boundary) || inside_current) {
    for (const Start& r : recent_)
      if (r.start == tcpsn) return reply(tcpsn, true, r.index, r.payload);
    return reply(tcpsn, false, 0, TcpSeq());
  }
  pending_ = tcpsn;  // answered when the stream reaches it
}

void RxResyncAnswerer::answer_pending(TcpSeq start, uint64_t index, TcpSeq payload) {
  if (*pending_ == start) reply(start, true, index, payload);
  else if (*pending_ < start) reply(*pending_, false, 0, TcpSeq());
}

}  // namespace autonic::l5p
