// NVMe/TCP straight on lwIP: PDUs go to TCP by reference (the message map keeps them), the
// NIC's per-packet crc_ok mark rides on each pbuf.
#include "l5p/nvme/nvme_transport.h"
#include "tcpip/lwip_glue.h"
#include "tcpip/tcp_conn.h"

namespace autonic::l5p::nvme {
namespace {

class TcpTransport final : public Transport, public tcpip::TcpConnHandler {
 public:
  TcpTransport(std::unique_ptr<tcpip::TcpConn> c, MsgLog* log) : conn_(std::move(c)), log_(log) { conn_->set_handler(this); }
  MsgLog* rx_msg_log() const override { return log_; }
  void set_user(TransportUser* u) override { user_ = u; }
  bool alive() const override { return conn_->alive(); }
  TcpSeq rx_pos() const override { return conn_->alive() ? conn_->rcv_nxt() : TcpSeq(); }
  TcpSeq tx_pos() const override { return conn_->write_seq(); }
  TcpSeq release_point() const override { return conn_->oldest_retained(); }
  size_t pump(TxMsgMap& map) override { return map.pump(*conn_); }
  bool write_copy(ByteSpan b) override {
    const bool whole = conn_->write(b.data(), b.size(), true, false) == b.size();
    conn_->output();
    return whole;
  }
  void shutdown_tx() override {
    // lwIP's tcp_close answers with a RST (dropping our last PDU) while received data is
    // unaccounted for: close once the current receive callback has handed its bytes back.
    if (in_recv_) close_pending_ = true;
    else conn_->shutdown_tx();
  }
  void abort() override { conn_->abort(); }
  l5o::L5oHandle create_offload(l5o::Offload* off, l5o::Direction dir, std::shared_ptr<const l5o::L5State> state,
                                TcpSeq start, l5o::L5pOps* ops) override {
    const FlowKey f = dir == l5o::Direction::kTx ? conn_->tx_flow() : conn_->tx_flow().reversed();
    return off->create(f, dir, std::move(state), start, ops);
  }
  bool supports_ddp() const override { return true; }

  void on_connected() override { user_->on_transport_up(); }
  void on_recv(pbuf* p) override {
    if (!p) {
      // The peer closed: NVMe/TCP has no half-closed queue (nvmet releases the queue on the
      // peer's FIN, the Linux host tears it down), so our FIN follows what is queued. Left
      // open, the connection stayed in CLOSE_WAIT for the life of the process.
      user_->on_transport_closed();
      if (conn_->alive()) conn_->shutdown_tx();
      return;
    }
    const size_t total = p->tot_len;
    in_recv_ = true;
    for (pbuf* q = p; q; q = q->next) {
      if (q->len == 0) continue;  // a header pbuf emptied by lwIP before a placed or marked one
      // (placed pbufs point into the read buffer itself: the queue's copy finds src == dst)
      const bool marked = (q->flags & tcpip::kPbufFlagOffloaded) != 0;
      if (!user_->on_transport_data(ByteSpan(static_cast<const uint8_t*>(q->payload), q->len), marked,
                                    tcpip::is_placed(q)))
        break;
    }
    in_recv_ = false;
    pbuf_free(p);
    if (!conn_->alive()) return;
    conn_->recved(total);
    if (close_pending_) conn_->shutdown_tx();
  }
  void on_sent(uint32_t) override { user_->on_transport_sent(); }
  void on_error(const char* what) override { user_->on_transport_error(what); }

 private:
  std::unique_ptr<tcpip::TcpConn> conn_;
  MsgLog* log_;
  TransportUser* user_ = nullptr;
  bool in_recv_ = false, close_pending_ = false;
};

}  // namespace

std::unique_ptr<Transport> tcp_transport(std::unique_ptr<tcpip::TcpConn> conn, MsgLog* rx_msg_log) {
  return std::make_unique<TcpTransport>(std::move(conn), rx_msg_log);
}

}  // namespace autonic::l5p::nvme
