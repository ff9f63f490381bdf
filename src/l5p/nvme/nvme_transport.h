// What an NVMe/TCP queue runs on: a TCP connection, or a TLS session over one (NVMe/TCP over
// TLS, NVMe-oF TCP transport spec "Transport Layer Security"; paper §5.3). Positions are in the
// transport's byte stream: tcpsn for TCP, the TLS payload stream for TLS -- the same
// coordinates the NIC's (inner) offload context uses, so get_tx_msgstate and resync need no
// translation in the NVMe code.
#pragma once
#include <memory>
#include <string>

#include "l5o/l5o.h"
#include "l5p/common/msg_log.h"
#include "l5p/common/tx_msg_map.h"

namespace autonic::tcpip { class TcpConn; }
namespace autonic::l5p::tls { class TlsSession; }

namespace autonic::l5p::nvme {

class TransportUser {
 public:
  virtual ~TransportUser() = default;
  // Ready for PDUs (TCP connected / TLS handshake done).
  virtual void on_transport_up() = 0;
  // Bytes in stream order; marked = the NIC's crc_ok mark for them; placed = `d` is not packet
  // memory but the host buffer the NIC placed it in (DDP). False: stop delivering.
  virtual bool on_transport_data(ByteSpan d, bool marked, bool placed = false) = 0;
  virtual void on_transport_closed() = 0;  // the peer closed its side
  virtual void on_transport_sent() = 0;    // acknowledgements: release sent PDUs, write more
  virtual void on_transport_error(const std::string& what) = 0;
  // The NIC's inner (NVMe) receive context can no longer follow the outer stream: drop it.
  virtual void on_transport_inner_lost() {}
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void set_user(TransportUser* u) = 0;
  virtual bool alive() const = 0;
  // The connection below is gone (closed, reset, aborted): nothing more leaves or arrives.
  virtual bool closed() const { return !alive(); }
  virtual TcpSeq rx_pos() const = 0;  // stream position of the next byte to be received
  virtual TcpSeq tx_pos() const = 0;  // stream position of the next byte written
  // Bytes before this position are no longer needed by anything below (TCP retransmission,
  // an outer L5P's own message map): the NVMe map may release them.
  virtual TcpSeq release_point() const = 0;
  virtual size_t pump(TxMsgMap& map) = 0;
  // ICReq / ICResp, outside the message map, copied. False: TCP did not take them whole.
  virtual bool write_copy(ByteSpan bytes) = 0;
  // Close the sending side after what is queued (deferred until the current delivery returns).
  virtual void shutdown_tx() = 0;
  virtual void abort() = 0;
  // An offload context for this queue's PDUs: a TCP-level one, or one stacked inside the TLS
  // session's own context (l5o create_inner). kNoHandle if not possible.
  virtual l5o::L5oHandle create_offload(l5o::Offload* off, l5o::Direction dir,
                                        std::shared_ptr<const l5o::L5State> state, TcpSeq start,
                                        l5o::L5pOps* ops) = 0;
  // DDP needs payload in the packet buffers lwIP hands up: not through TLS records.
  virtual bool supports_ddp() const = 0;
  // Where the queue records each received data PDU (the testbed's wire audit), if anywhere:
  // positions in TCP's sequence space only.
  virtual MsgLog* rx_msg_log() const { return nullptr; }
};

std::unique_ptr<Transport> tcp_transport(std::unique_ptr<tcpip::TcpConn> conn, MsgLog* rx_msg_log = nullptr);
std::unique_ptr<Transport> tls_transport(std::unique_ptr<tls::TlsSession> session);

}  // namespace autonic::l5p::nvme
