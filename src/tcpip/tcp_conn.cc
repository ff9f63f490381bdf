#include "tcpip/tcp_conn.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "tcpip/lwip_glue.h"
#include "tcpip/pcb_hash.h"

namespace autonic::tcpip {

static const char* err_name(err_t e) {
  switch (e) {
    case ERR_ABRT: return "tcp:aborted";
    case ERR_RST: return "tcp:reset";
    case ERR_CLSD: return "tcp:closed";
    case ERR_TIMEOUT: return "tcp:timeout";
    default: return "tcp:error";
  }
}

static FlowKey flow_of(const tcp_pcb* pcb) {
  return FlowKey{lwip_ntohl(ip_2_ip4(&pcb->local_ip)->addr), lwip_ntohl(ip_2_ip4(&pcb->remote_ip)->addr),
                 pcb->local_port, pcb->remote_port};
}

std::unique_ptr<TcpConn> TcpConn::connect(netif* nif, uint32_t local_ip, uint16_t local_port,
                                          uint32_t remote_ip, uint16_t remote_port, bool unique_by_caller) {
  tcp_pcb* pcb = tcp_new();
  if (!pcb) throw std::runtime_error("tcp_new failed (out of memory for lwIP's pcbs)");
  tcp_bind_netif(pcb, nif);  // frames must leave through this host's NIC, never loop back
  ip_addr_t l, r;
  ip_addr_set_ip4_u32(&l, lwip_htonl(local_ip));
  ip_addr_set_ip4_u32(&r, lwip_htonl(remote_ip));
  // tcp_bind checks the port against every pcb; tcp_connect registers the pcb in the active
  // list of its own 4-tuple's bucket (pcb_hash.h).
  std::optional<PcbScope> lists;
  if (unique_by_caller) {
    // What tcp_bind sets, without its walk.
    ip_addr_set(&pcb->local_ip, &l);
    pcb->local_port = local_port;
    lists.emplace(PcbTuple{ip_2_ip4(&l)->addr, ip_2_ip4(&r)->addr, local_port, remote_port});
  } else {
    lists.emplace(kAllPcbs);
    if (tcp_bind(pcb, &l, local_port) != ERR_OK) {
      tcp_abort(pcb);
      throw std::runtime_error("tcp_bind failed");
    }
  }
  auto c = std::make_unique<TcpConn>(pcb);
  if (tcp_connect(pcb, &r, remote_port, on_connected_cb) != ERR_OK)
    throw std::runtime_error("tcp_connect failed");
  c->tx_flow_ = flow_of(pcb);
  return c;
}

TcpConn::TcpConn(tcp_pcb* pcb) : pcb_(pcb), tx_flow_(flow_of(pcb)) {
  install();
  if (pcb_->state == ESTABLISHED) size_segments();  // accepted
}

void TcpConn::size_segments() {
  const uint32_t tso = pcb_ ? HostNetif::tso_of(pcb_) : 0;
  // Not below the default MSS (536, RFC 9293 §3.7.1): a peer announcing a tiny MSS would have
  // the NIC cut each super-segment into tens of thousands of frames (Linux too keeps a floor,
  // tcp_min_snd_mss); such a connection sends per packet, as lwIP alone would.
  if (!tso || pcb_->mss < 536 || tso < 2u * pcb_->mss) return;
  wire_mss_ = pcb_->mss;
  // A whole multiple of the wire MSS: the NIC's cuts fall where lwIP's own would have, so
  // segment-aligned records (tls_tx.cc) stay aligned on the wire.
  pcb_->mss = u16_t(std::min<uint32_t>(tso, 0xFFFF - 120) / wire_mss_ * wire_mss_);
  // lwIP sends a segment only whole and only if it fits the congestion window (tcp_output), and
  // its window was sized from the wire MSS: raised to lwIP's initial window for the new MSS (two
  // super-segments, RFC 3390's rule for a large MSS), or nothing would ever leave.
  pcb_->cwnd = std::max<tcpwnd_size_t>(pcb_->cwnd, tcpwnd_size_t(2u * pcb_->mss));
}

TcpConn::~TcpConn() {
  if (pcb_) abort();
}

void TcpConn::install() {
  tcp_arg(pcb_, this);
  tcp_recv(pcb_, on_recv_cb);
  tcp_sent(pcb_, on_sent_cb);
  tcp_err(pcb_, on_err_cb);
  tcp_nagle_disable(pcb_);
}

size_t TcpConn::sndbuf() const {
  if (!pcb_) return 0;
  // Both the byte budget and the segment-queue budget limit what tcp_write accepts.
  if (tcp_sndqueuelen(pcb_) + 8 >= TCP_SND_QUEUELEN) return 0;
  return tcp_sndbuf(pcb_);
}

size_t TcpConn::write(const uint8_t* data, size_t len, bool copy, bool more) {
  if (!pcb_) return 0;
  const u8_t flags = (copy ? TCP_WRITE_FLAG_COPY : 0) | (more ? TCP_WRITE_FLAG_MORE : 0);
  size_t done = 0;
  while (done < len) {
    const u16_t n = u16_t(std::min<size_t>(len - done, 0xFFFF & ~0x3));
    if (tcp_write(pcb_, data + done, n, flags) != ERR_OK) break;
    done += n;
  }
  return done;
}

TcpSeq TcpConn::oldest_retained() const {
  if (!pcb_) return TcpSeq(0);
  if (pcb_->unacked) return TcpSeq(lwip_ntohl(pcb_->unacked->tcphdr->seqno));
  if (pcb_->unsent) return TcpSeq(lwip_ntohl(pcb_->unsent->tcphdr->seqno));
  return TcpSeq(pcb_->snd_nxt);
}

// The last queued, unsent segment (the one the next tcp_write may join), or null. lwIP 2.1.3
// keeps no pointer to it: tcp_write walks the list the same way.
static tcp_seg* last_unsent(const tcp_pcb* pcb) {
  tcp_seg* last = pcb ? pcb->unsent : nullptr;
  while (last && last->next) last = last->next;
  return last;
}

size_t TcpConn::open_segment_fill() const {
  const tcp_seg* last = last_unsent(pcb_);
  if (!last) return 0;
  const size_t fill = last->len < pcb_->mss ? last->len : 0;
  return wire_mss_ ? fill % wire_mss_ : fill;
}

void TcpConn::push() {
  if (tcp_seg* last = last_unsent(pcb_)) TCPH_SET_FLAG(last->tcphdr, TCP_PSH);
}

void TcpConn::output() {
  if (pcb_) tcp_output(pcb_);
}

void TcpConn::recved(size_t len) {
  while (pcb_ && len > 0) {
    const u16_t n = u16_t(std::min<size_t>(len, 0xFFFF));
    tcp_recved(pcb_, n);
    len -= n;
  }
}

void TcpConn::close() {
  if (!pcb_) return;
  tcp_arg(pcb_, nullptr);
  tcp_recv(pcb_, nullptr);
  tcp_sent(pcb_, nullptr);
  tcp_err(pcb_, nullptr);
  PcbScope lists(tuple_of(pcb_));  // an early close unlinks the pcb from its list
  if (tcp_close(pcb_) != ERR_OK) tcp_abort(pcb_);
  pcb_ = nullptr;
}

bool TcpConn::tx_open() const {
  return pcb_ && (pcb_->state == ESTABLISHED || pcb_->state == CLOSE_WAIT || pcb_->state == SYN_SENT ||
                  pcb_->state == SYN_RCVD);
}

void TcpConn::shutdown_tx() {
  if (!pcb_) return;
  PcbScope lists(tuple_of(pcb_));
  tcp_shutdown(pcb_, 0, 1);
}

void TcpConn::abort() {
  if (!pcb_) return;
  tcp_arg(pcb_, nullptr);
  tcp_err(pcb_, nullptr);
  PcbScope lists(tuple_of(pcb_));
  tcp_abort(pcb_);
  pcb_ = nullptr;
}

err_t TcpConn::on_connected_cb(void* arg, tcp_pcb*, err_t err) {
  auto* self = static_cast<TcpConn*>(arg);
  if (self && err == ERR_OK) self->size_segments();
  if (self && self->handler_ && err == ERR_OK) self->handler_->on_connected();
  return ERR_OK;
}

err_t TcpConn::on_recv_cb(void* arg, tcp_pcb* pcb, pbuf* p, err_t err) {
  auto* self = static_cast<TcpConn*>(arg);
  if (!self || !self->handler_ || err != ERR_OK) {
    if (p) {
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
    }
    return ERR_OK;
  }
  self->handler_->on_recv(p);  // takes ownership
  if (!self->pcb_) return ERR_ABRT;
  if (!p) self->release_if_done();  // the peer's FIN, maybe after ours
  return ERR_OK;
}

err_t TcpConn::on_sent_cb(void* arg, tcp_pcb*, u16_t len) {
  auto* self = static_cast<TcpConn*>(arg);
  if (!self) return ERR_OK;
  if (self->handler_) self->handler_->on_sent(len);
  if (!self->pcb_) return ERR_ABRT;
  self->release_if_done();  // an acknowledgement that took CLOSING to TIME_WAIT, or emptied it
  return ERR_OK;
}

static bool carries_bytes(const tcp_seg* s) {
  for (; s; s = s->next)
    if (s->len > 0) return true;
  return false;
}

void TcpConn::release_if_done() {
  if (!pcb_) return;
  const bool gone = pcb_->state == TIME_WAIT ||
                    (pcb_->state == CLOSING && !carries_bytes(pcb_->unsent) && !carries_bytes(pcb_->unacked));
  if (!gone) return;
  close();
  done_ = true;
}

void TcpConn::on_err_cb(void* arg, err_t err) {
  auto* self = static_cast<TcpConn*>(arg);
  if (!self) return;
  self->pcb_ = nullptr;  // already freed by lwIP
  if (self->handler_) self->handler_->on_error(err_name(err));
}

TcpListener::TcpListener(netif* nif, uint32_t ip, uint16_t port, Accept on_accept)
    : on_accept_(std::move(on_accept)) {
  tcp_pcb* pcb = tcp_new();
  tcp_bind_netif(pcb, nif);
  ip_addr_t l;
  ip_addr_set_ip4_u32(&l, lwip_htonl(ip));
  PcbScope all(kAllPcbs);  // tcp_bind checks the port against every pcb
  if (tcp_bind(pcb, &l, port) != ERR_OK) throw std::runtime_error("listen bind failed");
  pcb_ = tcp_listen(pcb);
  tcp_arg(pcb_, this);
  tcp_accept(pcb_, on_accept_cb);
}

TcpListener::~TcpListener() {
  if (!pcb_) return;
  PcbScope all(kAllPcbs);  // tcp_listen_closed clears every pcb's pointer to the listener
  tcp_close(pcb_);
}

err_t TcpListener::on_accept_cb(void* arg, tcp_pcb* newpcb, err_t err) {
  if (err != ERR_OK || !newpcb) return ERR_VAL;
  auto* self = static_cast<TcpListener*>(arg);
  self->on_accept_(std::make_unique<TcpConn>(newpcb));
  return ERR_OK;
}

}  // namespace autonic::tcpip
