#include "l5p/framed/framed_session.h"

#include <cstring>

#include "common/rng.h"
#include "proto/framed/framed_l5_state.h"
#include "tcpip/lwip_glue.h"

namespace autonic::l5p::framed {

static constexpr char kGreetingMagic[8] = {'A', 'U', 'T', 'N', 'H', 'E', 'L', 'O'};

FramedSession::FramedSession(std::unique_ptr<tcpip::TcpConn> conn, Role role, const SessionConfig& cfg)
    : conn_(std::move(conn)), role_(role), cfg_(cfg) {
  conn_->set_handler(this);
  if (role_ == Role::kServer) {
    // Accepted: established. Send the greeting, then offload from the first message on.
    const FlowKey f = conn_->tx_flow();
    const uint64_t nonce = splitmix64(cfg_.secret ^ (uint64_t(f.saddr) << 32 | f.daddr) ^
                                      (uint64_t(f.sport) << 16 | f.dport));
    uint8_t g[kGreetingLen];
    std::memcpy(g, kGreetingMagic, 8);
    for (int i = 0; i < 8; ++i) g[8 + i] = uint8_t(nonce >> (8 * i));
    conn_->write(g, kGreetingLen, true, false);
    conn_->output();
    establish(nonce, conn_->rcv_nxt());
  }
}

Key FramedSession::key_for(uint64_t nonce, Role sender) const {
  const uint64_t d = sender == Role::kClient ? 0xC11Eull : 0x5E4Eull;
  return Key{splitmix64(cfg_.secret ^ nonce ^ d), splitmix64(cfg_.secret + nonce * 3 + d)};
}

void FramedSession::establish(uint64_t nonce, TcpSeq rx_first) {
  const Role peer = role_ == Role::kClient ? Role::kServer : Role::kClient;
  const Key txk = key_for(nonce, role_), rxk = key_for(nonce, peer);
  const TcpSeq tx_first = conn_->write_seq();
  bool off_tx = false;
  if (cfg_.offload && cfg_.offload_tx) {
    tx_h_ = OffloadHandle(cfg_.offload, cfg_.offload->create(conn_->tx_flow(), l5o::Direction::kTx,
                                                             std::make_shared<proto::framed::FramedL5State>(txk), tx_first, this));
    off_tx = bool(tx_h_);  // no context: stay in software, never send plaintext
  }
  tx_ = std::make_unique<FramedTx>(txk, off_tx, cfg_.msg_payload, st_);
  tx_->start(tx_first);
  rx_ = std::make_unique<FramedRx>(
      rxk, st_, [this](ByteSpan d) { if (h_) h_->on_data(d); },
      [this](TcpSeq s, bool ok, uint64_t idx) {
        if (rx_h_) rx_h_.offload()->resync_rx_resp(rx_h_.get(), s, ok, idx);
      });
  rx_->start(rx_first);
  rx_->set_msg_log(cfg_.rx_msg_log);
  if (cfg_.offload && cfg_.offload_rx)
    rx_h_ = OffloadHandle(cfg_.offload, cfg_.offload->create(conn_->tx_flow().reversed(), l5o::Direction::kRx,
                                                             std::make_shared<proto::framed::FramedL5State>(rxk), rx_first, this));
  ready_ = true;
}

void FramedSession::on_connected() {
  rx_base_ = conn_->rcv_nxt();
  // Client: wait for the server's greeting before sending anything.
}

size_t FramedSession::send(ByteSpan data, bool) {
  if (!ready_ || failed_ || !conn_->alive()) return 0;
  const size_t n = tx_->queue(data);
  tx_->pump(*conn_);
  return n;
}

bool FramedSession::all_acked() const {
  return ready_ && tx_->idle() && conn_->all_acked();
}

void FramedSession::on_recv(pbuf* p) {
  if (!p) return;  // peer closed
  const size_t total = p->tot_len;
  std::optional<std::string> err;
  bool became_ready = false;
  for (pbuf* q = p; q && !err; q = q->next) {
    ByteSpan d(static_cast<const uint8_t*>(q->payload), q->len);
    const bool marked = (q->flags & tcpip::kPbufFlagOffloaded) != 0;
    if (!ready_) {
      const size_t n = std::min(kGreetingLen - greeting_.size(), d.size());
      greeting_.insert(greeting_.end(), d.begin(), d.begin() + n);
      d = d.subspan(n);
      if (greeting_.size() < kGreetingLen) continue;
      if (std::memcmp(greeting_.data(), kGreetingMagic, 8) != 0) {
        err = "handshake:bad_greeting";
        break;
      }
      uint64_t nonce = 0;
      for (int i = 0; i < 8; ++i) nonce |= uint64_t(greeting_[8 + i]) << (8 * i);
      establish(nonce, rx_base_ + uint32_t(kGreetingLen));
      became_ready = true;
    }
    if (!d.empty()) err = rx_->input(d, marked);
  }
  pbuf_free(p);
  if (err) {
    fail(*err);
    return;
  }
  conn_->recved(total);
  if (became_ready && h_) h_->on_writable();
}

void FramedSession::on_sent(uint32_t) {
  if (!ready_ || failed_) return;
  tx_->on_acked(conn_->oldest_retained());
  tx_->pump(*conn_);
  if (h_) h_->on_writable();
}

void FramedSession::on_error(const char* what) {
  if (failed_) return;
  failed_ = true;
  if (h_) h_->on_failed(what);
}

void FramedSession::fail(const std::string& outcome) {
  if (failed_) return;
  failed_ = true;
  conn_->abort();  // a clean teardown: RST to the peer, nothing more delivered
  if (h_) h_->on_failed(outcome);
}

l5o::TxMsgState FramedSession::get_tx_msgstate(TcpSeq tcpsn) {
  if (!tx_) return l5o::TxMsgState{l5o::TxMsgState::Kind::kBeforeOffload, {}, 0, {}};
  return tx_->msgstate(tcpsn);
}

// Fail closed (l5o::L5pOps::offload_lost): messages handed to TCP for the NIC to transform
// cannot leave any more, so the connection ends; an RX context gone costs only the offload.
void FramedSession::offload_lost(l5o::Direction dir) {
  if (dir == l5o::Direction::kTx) fail("framed:tx_offload_lost");
}

void FramedSession::resync_rx_req(TcpSeq tcpsn) {
  if (rx_) rx_->resync_rx_req(tcpsn);
}

}  // namespace autonic::l5p::framed
