// TLS transmit record layer (tls_device's TX role): frames application data into TLS 1.3
// records. Software: sealed here. Offload: plaintext with a dummy tag, the NIC encrypts (§4.2).
// Offload+zc: the application's buffer goes to TCP by reference and the NIC encrypts it to the
// wire; the host never copies or encrypts it (§5.2 "Zero-copy sendfile").
#pragma once
#include <memory>

#include "l5p/common/tx_msg_map.h"
#include "l5p/tls/tls_stats.h"
#include "l5p/tls/tls_sw.h"

namespace autonic::l5p::tls {

enum class TxMode : uint8_t { kSoftware, kOffload, kOffloadZc };

class TlsTx {
 public:
  TlsTx(const TrafficKeys& keys, TxMode mode, size_t record_size, TlsStats& st);
  void start(TcpSeq first) { map_.start(first); }
  // Copying send: frames up to data.size() bytes; returns how many were taken.
  size_t queue(ByteSpan data);
  // Zero-copy send: the buffer is lent until TCP acknowledges it; it must not change meanwhile
  // (the shared_ptr<const> lets the owner see when it is released: use_count() == 1).
  size_t queue_zc(const std::shared_ptr<const Bytes>& buf, size_t off, size_t len);
  void queue_alert(uint8_t level, uint8_t desc);
  void pump(tcpip::TcpConn& c) { map_.pump(c); }
  void on_acked(TcpSeq snd_una) { map_.on_acked(snd_una); }
  l5o::TxMsgState msgstate(TcpSeq t) { return map_.msgstate(t); }
  bool idle() const { return map_.idle(); }
  TxMode mode() const { return mode_; }
  size_t room() const;

 private:
  void push_record(ContentType inner, ByteSpan content, const std::shared_ptr<const Bytes>* lent);
  TrafficKeys keys_;
  TxMode mode_;
  size_t record_size_;
  TlsStats& st_;
  RecordCrypto crypto_;
  TxMsgMap map_;
  uint64_t seq_ = 0;  // next record sequence number (RFC 8446 §5.3)
};

}  // namespace autonic::l5p::tls
