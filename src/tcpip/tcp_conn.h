// A C++ owner for one lwIP raw-API TCP pcb, following lwIP's callback contracts (rawapi.txt):
// the recv callback takes ownership of the pbuf; after tcp_abort the callback returns
// ERR_ABRT; the err callback is called after lwIP freed the pcb, so it never touches it.
#pragma once
#include <functional>
#include <memory>

#include "common/frame.h"
#include "common/tcp_seq.h"
#include "tcpip/lwip.h"

namespace autonic::tcpip {

class TcpConnHandler {
 public:
  virtual ~TcpConnHandler() = default;
  virtual void on_connected() {}
  // Takes ownership of `p` (a chain; each pbuf keeps its own offload mark). nullptr = FIN.
  virtual void on_recv(pbuf* p) = 0;
  virtual void on_sent(uint32_t acked) = 0;
  virtual void on_error(const char* what) = 0;
};

class TcpConn {
 public:
  // Active open from (local_ip:local_port on `nif`) to remote. Host byte order addresses.
  // unique_by_caller: the caller guarantees no other pcb has this 4-tuple (a local port may be
  // in use towards other remote ports), so lwIP's tcp_bind -- which walks every pcb of every
  // list to check the port, O(connections) per connect -- is skipped and the pcb takes its
  // local address as tcp_bind would set it (issue #13: 131072 connects).
  static std::unique_ptr<TcpConn> connect(netif* nif, uint32_t local_ip, uint16_t local_port,
                                          uint32_t remote_ip, uint16_t remote_port, bool unique_by_caller = false);
  explicit TcpConn(tcp_pcb* pcb);  // takes an accepted pcb
  ~TcpConn();
  TcpConn(const TcpConn&) = delete;
  TcpConn& operator=(const TcpConn&) = delete;

  void set_handler(TcpConnHandler* h) { handler_ = h; }
  bool alive() const { return pcb_ != nullptr; }
  // TCP still takes data to send (not shut down for sending, not closed): what tcp_write allows.
  bool tx_open() const;
  size_t sndbuf() const;
  // Queues bytes; copy=false hands TCP a reference (the caller keeps them intact until acked).
  // Returns how many were queued: lwIP takes at most 64 KiB a tcp_write, all or nothing, so a
  // longer write is several, and a later one can fail after earlier ones queued their bytes --
  // a caller that took "failed" for "nothing queued" would queue those bytes twice.
  size_t write(const uint8_t* data, size_t len, bool copy, bool more);
  void output();
  // Marks the last queued, unsent segment PSH (Linux's tcp_mark_push before tcp_push): a sender
  // that stops writing -- its data all queued, or TCP's room used up -- ends its burst there, as
  // tcp_sendmsg does at its end and before it waits for send-buffer room. The receiver's GRO
  // flushes at a PSH, so its super-segments end where the sender's bursts do.
  void push();
  void recved(size_t len);
  void close();
  void abort();
  // Sends FIN after everything queued (a fatal-error teardown that must deliver its last PDU);
  // unlike tcp_close it never turns into a RST because of unread receive data.
  void shutdown_tx();
  // Sequence numbers: next byte to be queued by write(), oldest unacknowledged byte, next
  // expected byte from the peer.
  TcpSeq write_seq() const { return TcpSeq(pcb_->snd_lbb); }
  TcpSeq snd_una() const { return TcpSeq(pcb_->lastack); }
  // First byte lwIP still holds a reference to: a partly acknowledged segment is kept (and
  // retransmitted) whole, so bytes before snd_una can still be needed. Buffers handed to TCP
  // by reference may be released only before this point.
  TcpSeq oldest_retained() const;
  TcpSeq rcv_nxt() const { return TcpSeq(pcb_->rcv_nxt); }
  // 5-tuple of this connection's outgoing packets.
  FlowKey tx_flow() const { return tx_flow_; }
  // Sending MSS on the wire: the payload of each packet the peer receives (with TSO, lwIP's own
  // segments are a whole multiple of it and the NIC cuts them: lwip_glue.h HostNetif::set_tso).
  size_t mss() const { return pcb_ ? (wire_mss_ ? wire_mss_ : pcb_->mss) : 0; }
  // Bytes already in the last queued, not yet sent wire segment that more writes would join.
  size_t open_segment_fill() const;
  // Every byte we sent is acknowledged: nothing queued in lwIP, or the connection ended cleanly
  // (both FINs, our data acknowledged) and its pcb went back to lwIP (see release_if_done).
  bool all_acked() const { return pcb_ ? tcp_sndqueuelen(pcb_) == 0 : done_; }

 private:
  void install();
  // After both FINs lwIP ends the pcb by itself, and frees one in TIME_WAIT 2 MSL later without
  // calling anyone (tcp_slowtmr): holding on to it would leave a dangling pointer, and ~TcpConn
  // would abort freed memory. So once both directions are done the pcb is handed back -- in
  // TIME_WAIT (lwIP purged its queues on the way in), or in CLOSING once no queued segment
  // carries our bytes (they reference the caller's memory, which may go with this TcpConn).
  void release_if_done();
  // Once established: with TSO, lwIP's MSS becomes the super-segment size (wire MSS kept).
  void size_segments();
  static err_t on_recv_cb(void* arg, tcp_pcb* pcb, pbuf* p, err_t err);
  static err_t on_sent_cb(void* arg, tcp_pcb* pcb, u16_t len);
  static void on_err_cb(void* arg, err_t err);
  static err_t on_connected_cb(void* arg, tcp_pcb* pcb, err_t err);

  tcp_pcb* pcb_;
  bool done_ = false;  // the pcb went back to lwIP after a clean end (release_if_done)
  TcpConnHandler* handler_ = nullptr;
  FlowKey tx_flow_;
  size_t wire_mss_ = 0;  // set when TSO raised lwIP's MSS
};

// Passive open: accepted connections are handed over as TcpConn.
class TcpListener {
 public:
  using Accept = std::function<void(std::unique_ptr<TcpConn>)>;
  TcpListener(netif* nif, uint32_t ip, uint16_t port, Accept on_accept);
  ~TcpListener();

 private:
  static err_t on_accept_cb(void* arg, tcp_pcb* newpcb, err_t err);
  tcp_pcb* pcb_ = nullptr;
  Accept on_accept_;
};

}  // namespace autonic::tcpip
