// One TLS connection over lwIP: OpenSSL handshake, then our record layer with TX / RX / zc
// offload through l5o -- or, as an interop peer, OpenSSL's own record layer throughout.
#pragma once
#include <functional>
#include <memory>

#include "l5o/l5o.h"
#include "l5p/common/offload_handle.h"
#include "l5p/stream.h"
#include "l5p/tls/tls_ctrl.h"
#include "l5p/tls/tls_rx.h"
#include "l5p/tls/tls_tx.h"
#include "proto/tls/tls_l5_state.h"
#include "tcpip/tcp_conn.h"

namespace autonic::l5p::tls {

struct SessionConfig {
  Version version = Version::kTls13;
  Cipher cipher = Cipher::kAes128Gcm;
  // TLS 1.3: send a KeyUpdate every this many records (0: only when the peer asks, §4.6.3).
  // The OpenSSL peer: a KeyUpdate with update_requested every this many records it reads or
  // writes (SSL_key_update), so both sides' rekeying is exercised.
  uint64_t key_update_every = 0;
  size_t record_size = kMaxPlaintext;
  bool offload_tx = false, offload_rx = false, zc = false;
  l5o::Offload* offload = nullptr;
  const Credentials* creds = nullptr;
  HandshakeConfig hs;  // verification, SNI, tickets (default: the testbed's in-process peers)
  KeylogSink* keylog = nullptr;
  bool openssl_only = false;  // OpenSSL record layer, no offload: the interop peer
  bool align_records = true;  // size records to whole TCP segments (tls_tx.cc)
  // Tests: a misbehaving peer. Right after its handshake this endpoint writes these raw bytes to
  // TCP (bypassing any record layer) and, if peer_fin, closes its sending side.
  Bytes peer_raw;
  bool peer_fin = false;
  bool peer_key_update = false;  // OpenSSL peer: send a KeyUpdate right after the handshake
  MsgLog* rx_msg_log = nullptr;  // record every received record here (wire audit)
  size_t pad_block = 0;  // OpenSSL peer: pad records to a multiple of this (RFC 8446 §5.4) ...
  uint64_t pad_after = 0;  // ... once it has sent this many application bytes
};

class TlsSession final : public Stream, public tcpip::TcpConnHandler, public l5o::L5pOps {
 public:
  using Role = TlsHandshake::Role;
  TlsSession(std::unique_ptr<tcpip::TcpConn> conn, Role role, const SessionConfig& cfg);

  void set_handler(StreamHandler* h) override { h_ = h; }
  size_t send(ByteSpan data, bool more = false) override;
  size_t send_zc(const std::shared_ptr<const Bytes>& buf, size_t off, size_t len, bool more = false) override;
  bool supports_zc() const override { return tx_ && tx_->mode() == TxMode::kOffloadZc; }
  bool all_acked() const override;
  void export_stats(CounterMap& m) const override { st_.export_to(m); }

  // For an L5P running on top of this session (NVMe/TCP over TLS):
  bool is_client() const { return role_ == Role::kClient; }
  bool usable() const { return ready_ && !failed_ && conn_->alive(); }
  bool tcp_alive() const { return conn_->alive(); }  // (usable or not: an alert may be on its way)
  // Gathering send: sub-record tails are kept in an open record until !more (MSG_MORE).
  size_t send_gather(ByteSpan data, bool more);
  size_t send_room() const;
  // Payload (application data) stream positions, the inner L5P's coordinates.
  // (An OpenSSL-only endpoint counts what it wrote and read; OpenSSL copies what it is given, so
  // it retains nothing of ours.)
  TcpSeq tx_payload_pos() const { return tx_ ? tx_->payload_pos() : TcpSeq(uint32_t(ossl_tx_)); }
  TcpSeq rx_payload_pos() const { return rx_ ? rx_->payload_pos() : TcpSeq(uint32_t(ossl_rx_)); }
  TcpSeq oldest_retained_payload() const { return tx_ ? tx_->oldest_payload() : tx_payload_pos(); }
  l5o::L5oHandle tx_handle() const { return tx_h_.get(); }
  l5o::L5oHandle rx_handle() const { return rx_h_.get(); }
  // Closes the sending side after what is queued (deferred while delivering received data).
  void close_tx();
  // The application's end of stream: close_notify (RFC 8446 §6.1), then FIN.
  void shutdown() override;
  void abort();

  void on_connected() override;
  void on_recv(pbuf* p) override;
  void on_sent(uint32_t acked) override;
  void on_error(const char* what) override;

  l5o::TxMsgState get_tx_msgstate(TcpSeq tcpsn) override;
  void resync_rx_req(TcpSeq tcpsn) override;
  void offload_lost(l5o::Direction dir) override;

 private:
  void flush_handshake();
  void establish(TcpSeq rx_first);
  void fail(const RxFailure& f);
  void openssl_read();
  void rebase_rx_offload();
  // Sends a KeyUpdate if one is due and the old keys' records allow it (tls_tx.h can_rekey).
  void maybe_key_update();
  template <class Queue>
  size_t queue_rekeying(size_t len, Queue&& queue);
  TrafficKeys on_peer_key_update(bool requested, uint64_t first);
  std::shared_ptr<proto::tls::TlsL5State> rx_state(uint64_t first_msg, uint64_t first_seq) const;
  void openssl_key_update(uint64_t& counted, uint64_t bytes);

  std::unique_ptr<tcpip::TcpConn> conn_;
  Role role_;
  SessionConfig cfg_;
  StreamHandler* h_ = nullptr;
  TlsStats st_;
  std::unique_ptr<TlsHandshake> hs_;
  std::unique_ptr<TlsTx> tx_;
  std::unique_ptr<TlsRx> rx_;
  bool ready_ = false, failed_ = false;
  bool in_recv_ = false, close_pending_ = false, inner_lost_ = false;
  TcpSeq rx_base_;
  TrafficKeys rx_keys_;    // kept for a rebuilt RX context (rebase_rx_offload)
  uint64_t hs_fed_ = 0;  // bytes fed to OpenSSL during the handshake
  Bytes ossl_buf_;
  uint64_t ossl_tx_ = 0, ossl_rx_ = 0;  // application bytes through OpenSSL's record layer
  uint64_t ossl_ku_tx_ = 0, ossl_ku_rx_ = 0;  // ... when the OpenSSL peer last updated its keys
  bool ku_reply_ = false;    // the peer asked for our KeyUpdate (update_requested)
  bool ku_waiting_ = false;  // one is due but the old epoch's records are not acknowledged yet
  // Last, so destroyed first (TX, then RX: reverse order of declaration).
  OffloadHandle rx_h_, tx_h_;
};

}  // namespace autonic::l5p::tls
