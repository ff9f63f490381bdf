// The L5P's side of RX resync (§4.3, Fig. 7 (c)): holds the NIC's guess and answers it once the
// L5P's own parse of the stream reaches that tcpsn -- yes if a message starts exactly there,
// no as soon as it is known not to. Recent message starts are remembered so a guess about bytes
// already consumed is still answered.
#pragma once
#include <vector>
#include <functional>
#include <optional>

#include "common/tcp_seq.h"

namespace autonic::l5p {

class RxResyncAnswerer {
 public:
  // payload: where the message's payload begins in an inner L5P's stream (composed offloads).
  using Answer = std::function<void(TcpSeq tcpsn, bool ok, uint64_t msg_index, TcpSeq payload)>;
  explicit RxResyncAnswerer(Answer a) : answer_(std::move(a)) {}

  // l5o_resync_rx_req. `pos`: next byte the parser will consume; cur_start/cur_len: the message
  // being parsed (cur_len 0 if at a boundary or its header is incomplete).
  void request(TcpSeq tcpsn, TcpSeq pos, bool at_boundary, TcpSeq cur_start, uint32_t cur_len);
  // The parser starts message `index` at `start`. (Inline: once a message on the receive
  // path, issue #12; the answers go out of line.)
  void on_msg_start(TcpSeq start, uint64_t index, TcpSeq payload = TcpSeq()) {
    if (recent_.size() < kRecent) {
      recent_.push_back(Start{start, index, payload});
    } else {
      Start& s = recent_[next_];  // field by field: no temporary read back whole
      s.start = start;
      s.index = index;
      s.payload = payload;
      next_ = next_ + 1 == kRecent ? 0 : next_ + 1;
    }
    if (pending_) answer_pending(start, index, payload);
  }
  // The parser learnt the length of the message at `start`.
  void on_msg_len(TcpSeq start, uint32_t len) {
    // A guess inside this message is wrong: say so now rather than at its end.
    if (pending_ && *pending_ > start && *pending_ < start + len) reply(*pending_, false, 0, TcpSeq());
  }

 private:
  struct Start {
    TcpSeq start;
    uint64_t index;
    TcpSeq payload;
  };
  void reply(TcpSeq t, bool ok, uint64_t idx, TcpSeq payload);
  void answer_pending(TcpSeq start, uint64_t index, TcpSeq payload);
  Answer answer_;
  std::optional<TcpSeq> pending_;
  // The last kRecent message starts: a vector that grows to kRecent (a short-lived flow keeps a
  // few entries), then a ring over it (no allocation per message, as a deque's nodes were:
  // issue #12, a measured share of the per-record RX cost at 2 KiB).
  static constexpr size_t kRecent = 64;
  std::vector<Start> recent_;
  size_t next_ = 0;  // the ring's oldest entry, overwritten next, once recent_ is full
};

}  // namespace autonic::l5p
