// Framed L5P receive side: the shared MsgFramer finds the messages in TCP's pbufs, classifies
// each by the NIC's per-packet marks (full / partial / none) and answers the NIC's resync
// requests (§4.3); this class parses the header and skips the crypto only for full messages,
// falling back to software otherwise.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "l5p/common/msg_framer.h"
#include "l5p/common/msg_log.h"
#include "l5p/framed/framed_cipher.h"
#include "l5p/framed/framed_stats.h"

namespace autonic::l5p::framed {

class FramedRx final : private MsgParser<std::string> {
 public:
  using Deliver = std::function<void(ByteSpan)>;
  using Answer = std::function<void(TcpSeq tcpsn, bool ok, uint64_t msg_index)>;
  FramedRx(const Key& key, FramedStats& st, Deliver deliver, Answer answer);
  // Where the first message starts.
  void start(TcpSeq first_msg_seq) { framer_.start(first_msg_seq); }
  // Consumes one pbuf's bytes. Returns an outcome string on a fatal error (nothing of the bad
  // message is delivered), nullopt otherwise.
  std::optional<std::string> input(ByteSpan data, bool marked) { return framer_.input(data, RxMarks{marked}); }
  // l5o_resync_rx_req: the NIC guesses a message starts at tcpsn.
  void resync_rx_req(TcpSeq tcpsn) { framer_.resync_rx_req(tcpsn); }
  TcpSeq seq() const { return framer_.pos(); }
  // Record every finished message here (the testbed's wire audit); null: none.
  void set_msg_log(MsgLog* log) { log_ = log; }

 private:
  // MsgParser
  HeaderParse<std::string> parse_header(ByteSpan head) override;
  Result on_bytes(uint32_t off, ByteSpan bytes, const RxMarks& m) override;
  Result on_msg(const RxMsg& m) override;
  // Software path of a message the NIC did not (wholly) decrypt and verify.
  Result open_in_software(const RxMsg& m, uint32_t pay_len);

  Key key_;
  FramedStats& st_;
  Deliver deliver_;
  MsgFramer<std::string> framer_;
  Bytes msg_;  // bytes of the current message so far
  Bytes plain_;
  MsgLog* log_ = nullptr;
};

}  // namespace autonic::l5p::framed
