#include "l5p/tls/tls_session.h"

#include <openssl/err.h>

#include "proto/tls/tls_l5_state.h"
#include "tcpip/lwip_glue.h"

namespace autonic::l5p::tls {

TlsSession::TlsSession(std::unique_ptr<tcpip::TcpConn> conn, Role role, const SessionConfig& cfg)
    : conn_(std::move(conn)), role_(role), cfg_(cfg),
      hs_(std::make_unique<TlsHandshake>(role, cfg.cipher, *cfg.creds, cfg.keylog, cfg.hs, cfg.version)) {
  conn_->set_handler(this);
  if (role_ == Role::kServer) rx_base_ = conn_->rcv_nxt();  // accepted: waits for ClientHello
  if (cfg_.openssl_only && cfg_.pad_block > 1 && cfg_.pad_after == 0) SSL_set_block_padding(hs_->ssl(), cfg_.pad_block);
}

void TlsSession::on_connected() {
  rx_base_ = conn_->rcv_nxt();
  if (hs_->step() == TlsHandshake::Status::kFailed) return fail(RxFailure{hs_->error(), std::nullopt});
  flush_handshake();
}

// A flight (or, with OpenSSL's record layer, its records) TCP does not take whole is never sent
// cut short: the peer would read what follows as its rest. The session fails, saying why. (Our
// sending side already shut: nothing goes out, as before -- the peer sees the FIN, not a cut.)
void TlsSession::flush_handshake() {
  const Bytes out = hs_->take_output();
  if (out.empty() || failed_) return;
  if (conn_->write(out.data(), out.size(), true, false) < out.size() && conn_->tx_open())
    return fail(RxFailure{"tls:send_buffer_full", std::nullopt});
  conn_->output();
}

void TlsSession::establish(TcpSeq rx_first) {
  ready_ = true;
  if (!hs_->peer_verified()) st_.tls_peer_unverified = 1;  // only with Verify::kNone
  if (cfg_.openssl_only) return;
  const TrafficKeys txk = hs_->keys(true), rxk = hs_->keys(false);
  rx_keys_ = rxk;
  const TcpSeq tx_first = conn_->write_seq();
  // TLS 1.3: a server's tickets went out under these keys as records 0..n-1 (flushed before
  // this). TLS 1.2: each side's Finished was record 0 under its keys (RFC 5246 §7.4.9).
  const bool v12 = cfg_.version == Version::kTls12;
  const uint64_t tx_seq = v12 ? 1 : hs_->tickets_sent(), rx_seq = v12 ? 1 : 0;
  TxMode mode = TxMode::kSoftware;
  if (cfg_.offload && cfg_.offload_tx) {
    tx_h_ = OffloadHandle(cfg_.offload, cfg_.offload->create(conn_->tx_flow(), l5o::Direction::kTx,
                                                             std::make_shared<proto::tls::TlsL5State>(txk, tx_seq), tx_first, this));
    if (tx_h_) mode = cfg_.zc ? TxMode::kOffloadZc : TxMode::kOffload;
  }
  tx_ = std::make_unique<TlsTx>(txk, mode, cfg_.record_size, cfg_.align_records ? conn_->mss() : 0,
                                conn_->open_segment_fill(), st_, tx_seq);
  tx_->start(tx_first);
  if (!v12) tx_->set_rekey_every(cfg_.key_update_every);
  rx_ = std::make_unique<TlsRx>(
      rxk, st_,
      [this](ByteSpan d, bool inner_marked) {
        if (!h_) return;
        if (!inner_lost_ && !rx_->inner_trusted()) {
          inner_lost_ = true;
          h_->on_inner_lost();
        }
        h_->on_payload(d, inner_marked);
      },
      [this](TcpSeq s, bool ok, uint64_t idx, TcpSeq payload) {
        if (rx_h_) rx_h_.offload()->resync_rx_resp(rx_h_.get(), s, ok, idx, payload);
      },
      role_ == Role::kClient, rx_seq);
  rx_->start(rx_first);
  rx_->set_msg_log(cfg_.rx_msg_log);
  rx_->on_rebase([this] { rebase_rx_offload(); });
  if (!v12) {
    rx_->on_key_update([this](bool requested, uint64_t first) { return on_peer_key_update(requested, first); });
    rx_->on_nic_misled([this](uint64_t first, uint64_t first_seq) {
      if (rx_h_) rx_h_.offload()->update(rx_h_.get(), rx_state(first, first_seq));
      return hs_->next_keys(false);
    });
  }
  if (cfg_.offload && cfg_.offload_rx)
    rx_h_ = OffloadHandle(cfg_.offload, cfg_.offload->create(conn_->tx_flow().reversed(), l5o::Direction::kRx,
                                                             rx_state(0, rx_seq), rx_first, this));
  hs_->release_ssl();  // our record layer from here on: only the traffic secrets stay
}

// The RX context's state: the current keys from record `first_msg` (sequence number
// `first_seq`) and, for TLS 1.3, the next generation ready for a KeyUpdate the NIC verifies.
std::shared_ptr<proto::tls::TlsL5State> TlsSession::rx_state(uint64_t first_msg, uint64_t first_seq) const {
  auto s = std::make_shared<proto::tls::TlsL5State>(
      std::vector<proto::tls::TlsL5State::Epoch>{{first_msg, first_seq, rx_keys_}});
  if (cfg_.version == Version::kTls13) s->next = hs_->next_keys(false);
  return s;
}

// Frames through `queue(from)` (bytes from offset `from` on), updating the keys each time the
// record layer stops for a KeyUpdate, then hands TCP what it can take.
// (A template, not a std::function: send()'s [&] capture did not fit std::function's inline
// buffer, so every send paid a heap allocation, its free and an indirect call -- ~220
// instructions a send of the offload's TX path; issue #12, callgrind.)
template <class Queue>
size_t TlsSession::queue_rekeying(size_t len, Queue&& queue) {
  size_t n = 0;
  for (;;) {
    n += queue(n);
    if (n == len || !tx_->data_blocked() || ku_waiting_) break;
    maybe_key_update();  // every key_update_every records
    if (tx_->data_blocked()) break;
  }
  tx_->pump(*conn_);
  return n;
}

size_t TlsSession::send(ByteSpan data, bool more) {
  if (!ready_ || failed_ || !conn_->alive()) return 0;
  if (cfg_.openssl_only) {
    // OpenSSL frames and seals; we move its output to TCP as buffer space allows.
    const size_t n = std::min(data.size(), send_room());
    if (n == 0) return 0;
    if (cfg_.pad_block > 1 && cfg_.pad_after > 0 && ossl_tx_ >= cfg_.pad_after)
      SSL_set_block_padding(hs_->ssl(), cfg_.pad_block);
    size_t written = 0;
    if (SSL_write_ex(hs_->ssl(), data.data(), n, &written) != 1) return 0;
    ossl_tx_ += written;
    openssl_key_update(ossl_ku_tx_, ossl_tx_);
    flush_handshake();
    return failed_ ? 0 : written;
  }
  return queue_rekeying(data.size(), [&](size_t from) { return tx_->queue(data.subspan(from), more); });
}

// RFC 8446 §4.6.3. Offload: the NIC's TX context learns the new epoch through l5o update before
// TCP gets any record under it; the old epoch stays in it for retransmissions.
void TlsSession::maybe_key_update() {
  if (!tx_ || !ready_ || failed_ || cfg_.version != Version::kTls13) return;
  const bool periodic = cfg_.key_update_every && tx_->records_since_rekey() >= cfg_.key_update_every;
  if (!ku_reply_ && !periodic) return;
  if (!tx_->can_rekey()) {
    if (!ku_waiting_) ++st_.tx_tls_rekey_deferred;
    ku_waiting_ = true;
    return;
  }
  ku_waiting_ = false;
  ku_reply_ = false;
  tx_->hold_data(false);
  tx_->key_update(false, hs_->update_keys(true));
  if (tx_h_) tx_h_.offload()->update(tx_h_.get(), std::make_shared<proto::tls::TlsL5State>(tx_->epochs()));
  tx_->pump(*conn_);
}

// The RX context learns where the new keys begin (it may have moved there itself, having
// verified the KeyUpdate; otherwise the resync that follows its failed record lands in the new
// epoch) and gets the generation after them.
TrafficKeys TlsSession::on_peer_key_update(bool requested, uint64_t first) {
  if (requested) {
    ++st_.rx_tls_rekey_requested;
    ku_reply_ = true;  // sent at the end of this receive (maybe_key_update), before more data
    tx_->hold_data(true);
  }
  rx_keys_ = hs_->update_keys(false);
  if (rx_h_) rx_h_.offload()->update(rx_h_.get(), rx_state(first, 0));
  return rx_keys_;
}

// The OpenSSL peer rekeys (and asks us to) every key_update_every records' worth of bytes it
// reads or writes; OpenSSL sends the KeyUpdate with its next write or handshake step.
void TlsSession::openssl_key_update(uint64_t& counted, uint64_t bytes) {
  if (!cfg_.key_update_every || cfg_.version != Version::kTls13) return;
  if (bytes - counted < cfg_.key_update_every * cfg_.record_size) return;
  counted = bytes;
  SSL_key_update(hs_->ssl(), SSL_KEY_UPDATE_REQUESTED);
  SSL_do_handshake(hs_->ssl());
}

size_t TlsSession::send_room() const {
  if (!usable()) return 0;
  if (tx_) return tx_->room();
  // OpenSSL endpoint: send() takes up to half of TCP's free buffer (records grow by their overhead).
  const size_t room = conn_->sndbuf();
  return room < 2 * (kMaxPlaintext + 64) ? 0 : room / 2;
}

size_t TlsSession::send_gather(ByteSpan data, bool more) {
  if (!usable() || cfg_.openssl_only) return send(data, more);
  return queue_rekeying(data.size(), [&](size_t from) { return tx_->queue_gather(data.subspan(from), more); });
}

void TlsSession::close_tx() {
  if (!conn_->alive()) return;
  if (in_recv_) {
    close_pending_ = true;
    return;
  }
  if (tx_) tx_->pump(*conn_);
  conn_->shutdown_tx();
}

void TlsSession::shutdown() {
  if (tx_ && ready_ && !failed_) tx_->queue_alert(1, 0);  // warning, close_notify (RFC 8446 §6.1)
  close_tx();
}

void TlsSession::abort() {
  failed_ = true;
  if (conn_->alive()) conn_->abort();
}

size_t TlsSession::send_zc(const std::shared_ptr<const Bytes>& buf, size_t off, size_t len, bool more) {
  if (!supports_zc()) return send(ByteSpan(buf->data() + off, len), more);
  if (!ready_ || failed_ || !conn_->alive()) return 0;
  return queue_rekeying(len, [&](size_t from) { return tx_->queue_zc(buf, off + from, len - from, more); });
}

bool TlsSession::all_acked() const {
  return ready_ && (!tx_ || tx_->idle()) && conn_->all_acked();
}

void TlsSession::openssl_read() {
  ossl_buf_.resize(kMaxPlaintext);
  for (;;) {
    size_t got = 0;
    const int rc = SSL_read_ex(hs_->ssl(), ossl_buf_.data(), ossl_buf_.size(), &got);
    if (rc == 1) {
      ossl_rx_ += got;
      openssl_key_update(ossl_ku_rx_, ossl_rx_);
      if (h_) h_->on_data(ByteSpan(ossl_buf_.data(), got));
      continue;
    }
    const int err = SSL_get_error(hs_->ssl(), rc);
    if (err == SSL_ERROR_WANT_READ) {
      // A KeyUpdate the peer asked for (or ours, above) goes out now, not with our next write.
      if (SSL_get_key_update_type(hs_->ssl()) != SSL_KEY_UPDATE_NONE) SSL_do_handshake(hs_->ssl());
      flush_handshake();
      return;
    }
    if (err == SSL_ERROR_ZERO_RETURN) return;  // close_notify
    char buf[200];
    ERR_error_string_n(ERR_peek_last_error(), buf, sizeof buf);
    flush_handshake();  // OpenSSL queued an alert
    return fail(RxFailure{std::string("openssl:") + buf, std::nullopt});
  }
}

void TlsSession::on_recv(pbuf* p) {
  if (!p) {  // FIN: a record cut short is an error (RFC 8446 §6.1: truncation)
    if (rx_ && rx_->mid_record()) fail(RxFailure{"tls:truncated_record", std::nullopt});
    else if (rx_ && rx_->truncated()) fail(RxFailure{"tls:truncated_handshake_message", std::nullopt});
    else if (h_ && !failed_) h_->on_eof();
    return;
  }
  const size_t total = p->tot_len;
  std::optional<RxFailure> err;
  bool became_ready = false;
  in_recv_ = true;
  tcpip::prefetch_payload(p->next);  // (the loop asks for two ahead of the packet it parses)
  for (pbuf* q = p; q && !err && !failed_; q = q->next) {
    if (q->len == 0) continue;
    ByteSpan d(static_cast<const uint8_t*>(q->payload), q->len);
    const bool marked = (q->flags & tcpip::kPbufFlagOffloaded) != 0;
    const bool inner_marked = (q->flags & tcpip::kPbufFlagInnerOk) != 0;
    if (!ready_ || cfg_.openssl_only) {
      hs_->input(d);
      hs_fed_ += d.size();
      if (!ready_) {
        const auto s = hs_->step();
        flush_handshake();
        if (failed_) break;
        if (s == TlsHandshake::Status::kFailed) {
          err = RxFailure{hs_->error(), std::nullopt};
          break;
        }
        if (s == TlsHandshake::Status::kInProgress) continue;
        became_ready = true;
        if (!cfg_.peer_raw.empty()) {
          conn_->write(cfg_.peer_raw.data(), cfg_.peer_raw.size(), true, false);
          if (cfg_.peer_fin) conn_->shutdown_tx();
        }
        if (cfg_.openssl_only && cfg_.peer_key_update) {  // tests: RFC 8446 §4.6.3
          SSL_key_update(hs_->ssl(), SSL_KEY_UPDATE_NOT_REQUESTED);
          SSL_do_handshake(hs_->ssl());
          flush_handshake();
          if (failed_) break;
        }
        if (cfg_.openssl_only) {
          establish(rx_base_);  // (keeps only the flags: OpenSSL's record layer goes on)
          continue;
        }
        // Our record layer takes over where OpenSSL stopped reading (§5.2).
        const Bytes left = hs_->take_leftover();
        establish(rx_base_ + uint32_t(hs_fed_ - left.size()));
        if (!left.empty()) err = rx_->input(left, false);
        continue;
      }
      continue;
    }
    // The packet after next is on its way while this one's records are parsed (issue #12: at
    // 2 KiB records the record layer's loop between copies left every record boundary a full
    // L3 wait: RX 1.27x plain TCP's host cycles, 1.15x prefetching the next packet; two ahead
    // (the next one was asked for a packet ago, above for the first) the receiver's cycles
    // went 0.97-0.99x at 2 KiB, 0.96-0.97x at 8 and 16 KiB, paired; three ahead nothing more,
    // and the first 512 bytes of the next one alone 1.06-1.18x. Plain TCP's one copy of the
    // chain gains nothing from it, measured).
    if (q->next) tcpip::prefetch_payload(q->next->next);
    err = rx_->input(d, marked, inner_marked, tcpip::is_placed(q), /*batch=*/true);
  }
  if (rx_ && !failed_) rx_->flush();  // the records of this recv() that wait, in one delivery
  in_recv_ = false;
  pbuf_free(p);
  if (cfg_.openssl_only && ready_ && !err && !failed_) openssl_read();
  if (err) {
    conn_->recved(total);  // first: lwIP's tcp_close would otherwise answer with a RST, dropping the alert
    return fail(*err);
  }
  if (failed_ || !conn_->alive()) return;
  conn_->recved(total);
  maybe_key_update();  // one the peer asked for goes before our next data (§4.6.3)
  if (close_pending_) {
    close_pending_ = false;
    close_tx();
  }
  if (became_ready && h_) h_->on_writable();
}

// TlsRx::take_rebase(): a record before any application data (NewSessionTickets) was left out
// of the payload stream; the NIC's context counted it, so a fresh one starts at the next record
// (the old one first: one context per flow). Records the old context already decrypted keep
// their marks; the new one finds its place through the usual resync (§4.3) if packets after
// its start already went by.
void TlsSession::rebase_rx_offload() {
  const std::optional<TlsRx::Rebase> rb = rx_ ? rx_->take_rebase() : std::nullopt;
  if (!rb || !rx_h_) return;
  rx_h_ = OffloadHandle();
  rx_h_ = OffloadHandle(cfg_.offload, cfg_.offload->create(conn_->tx_flow().reversed(), l5o::Direction::kRx,
                                                           rx_state(0, rb->seq), rb->start, this));
  ++st_.rx_tls_ctx_rebased;
}

void TlsSession::on_sent(uint32_t) {
  if (!ready_ || failed_) return;
  if (tx_) {
    tx_->on_acked(conn_->oldest_retained());
    maybe_key_update();  // deferred until the old epoch's records were acknowledged
  }
  // The application first: what it sends goes to TCP in the same pump as the records waiting
  // for room, one tcp_output per acknowledgement instead of two (issue #12).
  if (h_) h_->on_writable();
  if (tx_ && !failed_) tx_->pump(*conn_);  // (the application may have failed the session)
}

void TlsSession::on_error(const char* what) {
  if (failed_) return;
  failed_ = true;
  if (h_) h_->on_failed(what);
}

void TlsSession::fail(const RxFailure& f) {
  if (failed_) return;
  failed_ = true;
  // Tell the peer why (RFC 8446 §6.2: fatal alerts), then close.
  if (f.alert && tx_) {
    tx_->queue_alert(2, *f.alert);
    tx_->pump(*conn_);
    conn_->shutdown_tx();
  } else {
    conn_->abort();
  }
  if (h_) h_->on_failed(f.outcome);
}

l5o::TxMsgState TlsSession::get_tx_msgstate(TcpSeq tcpsn) {
  if (!tx_) return l5o::TxMsgState{l5o::TxMsgState::Kind::kBeforeOffload, {}, 0, {}};
  return tx_->msgstate(tcpsn);
}

void TlsSession::resync_rx_req(TcpSeq tcpsn) {
  if (rx_) rx_->resync_rx_req(tcpsn);
}

// Fail closed (l5o::L5pOps::offload_lost): records handed to TCP as plaintext for the NIC to
// encrypt can never be sent now (the driver drops them), so the connection ends with a clear
// outcome; Linux re-encrypts them in software (tls_sw_fallback) -- a possible refinement. An RX
// context gone costs only the offload: records are decrypted in software.
void TlsSession::offload_lost(l5o::Direction dir) {
  if (dir == l5o::Direction::kRx) return;
  fail(RxFailure{"tls:tx_offload_lost", std::nullopt});
}

}  // namespace autonic::l5p::tls
