// An in-memory NVMe/TCP Transport for deterministic, clock-free tests: what the queue sends
// collects in `out`; the test hands bytes in with deliver() (no TCP, no NIC, no offloads).
#pragma once
#include <algorithm>
#include <cstdint>

#include "l5p/common/tx_msg_map.h"
#include "l5p/nvme/nvme_transport.h"

namespace autonic::testing {

class MemTransport final : public l5p::nvme::Transport, private l5p::TxMsgMap::Writer {
 public:
  Bytes out;  // sent by the queue, not yet taken by the test
  bool up_done = false, tx_shut = false;

  void set_user(l5p::nvme::TransportUser* u) override { u_ = u; }
  bool alive() const override { return alive_; }
  TcpSeq rx_pos() const override { return TcpSeq(rx_); }
  TcpSeq tx_pos() const override { return TcpSeq(tx_); }
  TcpSeq release_point() const override { return TcpSeq(tx_); }
  size_t pump(l5p::TxMsgMap& m) override { return m.pump(*this); }
  size_t copy_room = SIZE_MAX;  // what write_copy takes at most (tests: a full send buffer)
  bool write_copy(ByteSpan b) override {
    const size_t n = std::min(b.size(), copy_room);
    (void)write(b.data(), n, false);
    return n == b.size();
  }
  void shutdown_tx() override { tx_shut = true; }
  void abort() override { alive_ = false; }
  l5o::L5oHandle create_offload(l5o::Offload*, l5o::Direction, std::shared_ptr<const l5o::L5State>, TcpSeq,
                                l5o::L5pOps*) override {
    return l5o::kNoHandle;
  }
  bool supports_ddp() const override { return false; }

  void up() {
    up_done = true;
    u_->on_transport_up();
  }
  bool deliver(ByteSpan d) {
    const bool more = u_->on_transport_data(d, false);
    rx_ += uint32_t(d.size());
    return more;
  }
  // The peer closed the connection (its FIN): the transport is gone.
  void peer_close() {
    alive_ = false;
    u_->on_transport_closed();
  }
  Bytes take() {
    Bytes b;
    b.swap(out);
    if (!b.empty()) u_->on_transport_sent();  // everything "acknowledged": the map lets go
    return b;
  }

 private:
  size_t room() override { return size_t(1) << 40; }
  size_t write(const uint8_t* d, size_t n, bool) override {
    out.insert(out.end(), d, d + n);
    tx_ += uint32_t(n);
    return n;
  }
  void flush() override {}

  l5p::nvme::TransportUser* u_ = nullptr;
  bool alive_ = true;
  uint32_t rx_ = 0, tx_ = 0;
};

}  // namespace autonic::testing
