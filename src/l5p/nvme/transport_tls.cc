// NVMe/TCP over TLS: PDUs are the TLS session's application data. The TLS record layer copies
// them into records (as Linux's tls_sw / tls_device do with sendmsg data); the NVMe map keeps
// each PDU until the TLS session no longer holds any record carrying its bytes, so the NIC's
// inner (NVMe) context can be rebuilt for any record TLS retransmits. The NIC's inner mark
// (crc_ok inside records it decrypted) arrives with each delivered chunk.
#include "l5p/nvme/nvme_transport.h"
#include "l5p/tls/tls_session.h"

namespace autonic::l5p::nvme {
namespace {

class TlsTransport final : public Transport, public StreamHandler {
 public:
  explicit TlsTransport(std::unique_ptr<tls::TlsSession> s) : s_(std::move(s)) { s_->set_handler(this); }
  void set_user(TransportUser* u) override { user_ = u; }
  bool alive() const override { return s_->usable(); }
  TcpSeq rx_pos() const override { return s_->rx_payload_pos(); }
  TcpSeq tx_pos() const override { return s_->tx_payload_pos(); }
  TcpSeq release_point() const override { return s_->oldest_retained_payload(); }
  size_t pump(TxMsgMap& map) override {
    Writer w(*s_);
    return map.pump(w);
  }
  bool write_copy(ByteSpan b) override { return s_->send_gather(b, false) == b.size(); }
  void shutdown_tx() override { s_->close_tx(); }
  void abort() override { s_->abort(); }
  l5o::L5oHandle create_offload(l5o::Offload* off, l5o::Direction dir, std::shared_ptr<const l5o::L5State> state,
                                TcpSeq start, l5o::L5pOps* ops) override {
    const l5o::L5oHandle outer = dir == l5o::Direction::kTx ? s_->tx_handle() : s_->rx_handle();
    if (outer == l5o::kNoHandle) return l5o::kNoHandle;  // TLS in software: the NIC sees only ciphertext
    return off->create_inner(outer, std::move(state), start, ops);
  }
  bool supports_ddp() const override { return true; }

  // StreamHandler
  void on_data(ByteSpan d) override { on_payload(d, false); }
  void on_payload(ByteSpan d, bool inner_marked) override {
    if (!stopped_) stopped_ = !user_->on_transport_data(d, inner_marked);
  }
  void on_writable() override {
    if (!up_) {
      up_ = true;
      return user_->on_transport_up();
    }
    user_->on_transport_sent();
  }
  // The peer finished (its FIN after a whole record): as over TCP (transport_tcp.cc), the queue
  // ends, and our close_notify (RFC 8446 §6.1) and FIN answer. Before, the queue never heard of
  // it: a controller's queue stayed open, and held, after its host had gone.
  void on_eof() override {
    user_->on_transport_closed();
    if (s_->usable()) s_->shutdown();
  }
  // Gone once TCP is (a failed session's alert and FIN may still be on their way: the queue's
  // owner must not tear the connection down under them).
  bool closed() const override { return !s_->tcp_alive(); }
  void on_failed(const std::string& outcome) override { user_->on_transport_error(outcome); }
  void on_inner_lost() override { user_->on_transport_inner_lost(); }

 private:
  // The map's pieces go to the record layer, which gathers them into records (MSG_MORE).
  class Writer final : public TxMsgMap::Writer {
   public:
    explicit Writer(tls::TlsSession& s) : s_(s) {}
    size_t room() override { return s_.send_room(); }
    size_t write(const uint8_t* data, size_t n, bool more) override {
      return s_.send_gather(ByteSpan(data, n), more);
    }
    void flush() override {}

   private:
    tls::TlsSession& s_;
  };

  std::unique_ptr<tls::TlsSession> s_;
  TransportUser* user_ = nullptr;
  bool up_ = false, stopped_ = false;
};

}  // namespace

std::unique_ptr<Transport> tls_transport(std::unique_ptr<tls::TlsSession> session) {
  return std::make_unique<TlsTransport>(std::move(session));
}

}  // namespace autonic::l5p::nvme
