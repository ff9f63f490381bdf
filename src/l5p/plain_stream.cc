#include "l5p/plain_stream.h"

#include <algorithm>

namespace autonic::l5p {

PlainStream::PlainStream(std::unique_ptr<tcpip::TcpConn> conn) : conn_(std::move(conn)) {
  conn_->set_handler(this);
}

void PlainStream::on_connected() {
  if (h_) h_->on_writable();
}

size_t PlainStream::send(ByteSpan data, bool) {
  if (!conn_->alive()) return 0;
  const size_t n = std::min(data.size(), conn_->sndbuf());
  if (n == 0) return 0;
  const size_t w = conn_->write(data.data(), n, /*copy=*/true, /*more=*/false);
  if (w == 0) return 0;
  conn_->output();
  return w;
}

bool PlainStream::all_acked() const {
  return conn_->all_acked();
}

void PlainStream::on_recv(pbuf* p) {
  if (!p) {  // FIN
    if (h_) h_->on_eof();
    return;
  }
  const size_t total = p->tot_len;
  // The application's recv(): TCP's bytes are copied once into its buffer, as a socket read
  // copies an skb's, and as kTLS hands a record the NIC decrypted to the user with one copy --
  // so the plain-TCP baseline does the per-byte work a real one does and the TLS paths are
  // compared like for like (issue #12; README "Benchmarks" lists each path's copies).
  // The buffer only grows (to the largest read): resize() to each read's size cleared every
  // byte of a read larger than the one before it -- a quarter of the bytes received at 16 KiB
  // records, a cost no recv() into the application's buffer has, which the TLS paths' buffers
  // do not pay either (issue #12: callgrind found the memset).
  if (rxbuf_.size() < total) rxbuf_.resize(total);
  pbuf_copy_partial(p, rxbuf_.data(), u16_t(total), 0);
  if (h_ && total) h_->on_data(ByteSpan(rxbuf_.data(), total));
  pbuf_free(p);
  conn_->recved(total);
}

void PlainStream::on_sent(uint32_t) {
  if (h_) h_->on_writable();
}

void PlainStream::on_error(const char* what) {
  if (h_) h_->on_failed(what);
}

}  // namespace autonic::l5p
