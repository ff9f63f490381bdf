// Framed L5P receive side: parses messages out of TCP's pbufs, classifies each by the NIC's
// per-packet marks (full / partial / none), skips the crypto only for full messages and falls
// back to software otherwise, and answers the NIC's resync requests (§4.3).
#pragma once
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "l5o/l5o.h"
#include "l5p/common/marked_ranges.h"
#include "l5p/common/rx_resync_answerer.h"
#include "l5p/framed/framed_cipher.h"
#include "l5p/framed/framed_stats.h"

namespace autonic::l5p::framed {

class FramedRx {
 public:
  using Deliver = std::function<void(ByteSpan)>;
  using Answer = std::function<void(TcpSeq tcpsn, bool ok, uint64_t msg_index)>;
  FramedRx(const Key& key, FramedStats& st, Deliver deliver, Answer answer);
  // Where the first message starts.
  void start(TcpSeq first_msg_seq) { seq_ = first_msg_seq; }
  // Consumes one pbuf's bytes. Returns an outcome string on a fatal error (nothing of the bad
  // message is delivered), nullopt otherwise.
  std::optional<std::string> input(ByteSpan data, bool marked);
  // l5o_resync_rx_req: the NIC guesses a message starts at tcpsn.
  void resync_rx_req(TcpSeq tcpsn);
  TcpSeq seq() const { return seq_; }

 private:
  std::optional<std::string> finish_msg();

  Key key_;
  FramedStats& st_;
  Deliver deliver_;
  TcpSeq seq_;              // tcpsn of the next byte to consume
  TcpSeq msg_start_;
  uint64_t msg_index_ = 0;  // index of the message being assembled
  Bytes msg_;               // bytes of the current message so far
  uint32_t msg_len_ = 0;    // 0 until the header is complete
  MarkedRanges ranges_;
  Bytes plain_;
  RxResyncAnswerer resync_;
};

}  // namespace autonic::l5p::framed
