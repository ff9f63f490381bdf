// No L5P: the application's bytes go straight to TCP (the "plain TCP" baseline).
#pragma once
#include <memory>

#include "l5p/stream.h"
#include "tcpip/tcp_conn.h"

namespace autonic::l5p {

class PlainStream final : public Stream, public tcpip::TcpConnHandler {
 public:
  explicit PlainStream(std::unique_ptr<tcpip::TcpConn> conn);
  void set_handler(StreamHandler* h) override { h_ = h; }
  size_t send(ByteSpan data, bool more = false) override;
  bool all_acked() const override;
  void shutdown() override { conn_->shutdown_tx(); }
  void export_stats(CounterMap&) const override {}

  void on_connected() override;
  void on_recv(pbuf* p) override;
  void on_sent(uint32_t acked) override;
  void on_error(const char* what) override;

 private:
  std::unique_ptr<tcpip::TcpConn> conn_;
  StreamHandler* h_ = nullptr;
  Bytes rxbuf_;  // the application's receive buffer (on_recv)
};

}  // namespace autonic::l5p
