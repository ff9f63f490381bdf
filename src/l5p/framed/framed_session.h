// A framed L5P connection: handshake (a plaintext greeting carrying the per-connection nonce the
// keys derive from), then messages both ways, with TX and/or RX offload through l5o when the
// NIC supports it. The reference for how an L5P uses the offload interface.
#pragma once
#include <memory>

#include "l5o/l5o.h"
#include "l5p/common/offload_handle.h"
#include "l5p/framed/framed_rx.h"
#include "l5p/framed/framed_tx.h"
#include "l5p/stream.h"
#include "tcpip/tcp_conn.h"

namespace autonic::l5p::framed {

struct SessionConfig {
  uint64_t secret = 0;  // shared by both ends (stands in for a real key exchange)
  bool offload_tx = false;
  bool offload_rx = false;
  size_t msg_payload = 16384;
  l5o::Offload* offload = nullptr;  // this host's driver; null = software only
  MsgLog* rx_msg_log = nullptr;     // record every received message here (wire audit)
};

inline constexpr size_t kGreetingLen = 16;  // "AUTNHELO" + 8-byte nonce

class FramedSession final : public Stream, public tcpip::TcpConnHandler, public l5o::L5pOps {
 public:
  enum class Role : uint8_t { kClient, kServer };
  FramedSession(std::unique_ptr<tcpip::TcpConn> conn, Role role, const SessionConfig& cfg);

  // Stream
  void set_handler(StreamHandler* h) override { h_ = h; }
  size_t send(ByteSpan data, bool more = false) override;
  bool all_acked() const override;
  void export_stats(CounterMap& m) const override { st_.export_to(m); }

  // TcpConnHandler
  void on_connected() override;
  void on_recv(pbuf* p) override;
  void on_sent(uint32_t acked) override;
  void on_error(const char* what) override;

  // l5o::L5pOps (Listing 2)
  l5o::TxMsgState get_tx_msgstate(TcpSeq tcpsn) override;
  void resync_rx_req(TcpSeq tcpsn) override;
  void offload_lost(l5o::Direction dir) override;

 private:
  void establish(uint64_t nonce, TcpSeq rx_first);
  void fail(const std::string& outcome);
  Key key_for(uint64_t nonce, Role sender) const;

  std::unique_ptr<tcpip::TcpConn> conn_;
  Role role_;
  SessionConfig cfg_;
  StreamHandler* h_ = nullptr;
  FramedStats st_;
  std::unique_ptr<FramedTx> tx_;
  std::unique_ptr<FramedRx> rx_;
  bool ready_ = false;
  bool failed_ = false;
  TcpSeq rx_base_;
  Bytes greeting_;
  // Last, so destroyed first (TX, then RX: reverse order of declaration).
  OffloadHandle rx_h_, tx_h_;
};

}  // namespace autonic::l5p::framed
