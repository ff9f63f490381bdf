// Framed L5P transmit side: frames application bytes into messages, transforms them in software
// or leaves that to the NIC, and keeps every message until TCP acknowledges it so that
// get_tx_msgstate can describe any retransmitted byte (§4.2; the paper's "~200 LoC" map).
#pragma once
#include "l5o/l5o.h"
#include "l5p/common/tx_msg_map.h"
#include "l5p/framed/framed_cipher.h"
#include "l5p/framed/framed_stats.h"
#include "tcpip/tcp_conn.h"

namespace autonic::l5p::framed {

class FramedTx {
 public:
  FramedTx(const Key& key, bool offload, size_t msg_payload, FramedStats& st);
  void start(TcpSeq first_msg_seq) { map_.start(first_msg_seq); }
  // Frames up to data.size() bytes into messages; returns how many were taken.
  size_t queue(ByteSpan data);
  // Hands queued message bytes to TCP as far as its send buffer allows.
  void pump(tcpip::TcpConn& conn) { map_.pump(conn); }
  // Releases messages TCP has fully acknowledged.
  void on_acked(TcpSeq snd_una) { map_.on_acked(snd_una); }
  l5o::TxMsgState msgstate(TcpSeq tcpsn) { return map_.msgstate(tcpsn); }
  bool idle() const { return map_.idle(); }

 private:
  Key key_;
  bool offload_;
  size_t msg_payload_;
  FramedStats& st_;
  TxMsgMap map_;
  uint64_t next_index_ = 0;
};

}  // namespace autonic::l5p::framed
