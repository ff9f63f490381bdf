// One NVMe/TCP queue: connection set-up (ICReq/ICResp), PDU framing in both directions with
// header and data digests, the offload contexts (TX digest, RX digest check + DDP), the L5P side
// of TX recovery and RX resync, and fatal errors (TermReq). Host and controller logic sit on top.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/cpu_meter.h"
#include "l5o/l5o.h"
#include "l5p/common/msg_framer.h"
#include "l5p/common/offload_handle.h"
#include "l5p/common/tx_msg_map.h"
#include "l5p/nvme/nvme_error.h"
#include "l5p/nvme/nvme_stats.h"
#include "l5p/nvme/nvme_transport.h"
#include "proto/nvme/nvme_pdu.h"

namespace autonic::l5p::nvme {

// The wire format lives in src/proto/nvme/, shared with the NIC model; this L5P speaks it
// unqualified.
using namespace proto::nvme;

struct QueueConfig {
  bool hdgst = true, ddgst = true;
  bool offload_tx = false, offload_rx = false, ddp = false;
  bool crc_offload = true;  // trust the NIC's crc_ok marks (off: always check digests in software)
  l5o::Offload* offload = nullptr;
  uint32_t maxh2cdata = 128 * 1024;
  CpuMeter* meter = nullptr;  // to account copy and digest cycles apart (Fig. 10)
};

struct Pdu {
  CommonHeader ch;
  const uint8_t* hdr;  // hlen bytes
  ByteSpan data;       // where its data landed
  bool data_ok;        // data digest verified (or no digest / no data)
};

class QueueHandler {
 public:
  virtual ~QueueHandler() = default;
  virtual void on_established() = 0;
  // Where this PDU's data (ch.data_len() bytes) must go; an empty span rejects it (fatal).
  virtual MutByteSpan data_dest(const CommonHeader& ch, const uint8_t* hdr) = 0;
  virtual void on_pdu(const Pdu& p) = 0;
  virtual void on_failed(const std::string& outcome) = 0;
};

class NvmeQueue final : public TransportUser, public l5o::L5pOps, private MsgParser<NvmeError> {
 public:
  enum class Role : uint8_t { kHost, kController };
  NvmeQueue(std::unique_ptr<Transport> t, Role role, const QueueConfig& cfg, QueueHandler* h, NvmeStats& st);
  void start();  // host: sends ICReq

  // Sends a PDU. spec = bytes [8, hlen) of its header. Data is referenced if `keep` owns it,
  // copied otherwise. Returns the PDU's index among those sent (see handed_over()).
  uint64_t send(PduType t, uint8_t flags, const uint8_t* spec, ByteSpan data, std::shared_ptr<const void> keep = {});
  // PDUs before this index have gone to TCP whole (the rest wait for room in its send buffer).
  uint64_t handed_over() const { return map_.written_index(); }
  // Fatal transport error: TermReq with FES, then close (spec "Transport Errors").
  // fei: Fatal Error Information (for an invalid header field, the offset of the field).
  // Returns `e`, for the caller to hand on.
  NvmeError fatal(NvmeError e, uint32_t fei = 0);
  void fail(NvmeError e) { fatal(e); }
  bool failed() const { return failed_; }
  bool closed() const { return t_->closed(); }  // the connection is gone (closed, reset, aborted)
  uint32_t maxh2cdata() const { return maxh2cdata_; }
  bool ddp() const { return cfg_.ddp && bool(rx_h_); }
  // DDP registration for a read's buffer (l5o add/del_rr_state; paper §4.1).
  l5o::RrStateId add_rr(uint16_t cid, MutByteSpan dest);
  // The NIC's answer: until the queue has parsed up to `fence`, the buffer and the CID stay
  // the request's (bytes the NIC placed ahead of the parser may still point into it).
  l5o::RrTeardown del_rr(l5o::RrStateId id);
  // Stream position of the next byte the parser will read.
  TcpSeq parsed_pos() const { return framer_.pos(); }

  void on_transport_up() override;
  bool on_transport_data(ByteSpan d, bool marked, bool placed = false) override;
  void on_transport_closed() override;
  void on_transport_sent() override;
  void on_transport_error(const std::string& what) override;
  void on_transport_inner_lost() override;
  l5o::TxMsgState get_tx_msgstate(TcpSeq tcpsn) override { return map_.msgstate(tcpsn); }
  void resync_rx_req(TcpSeq tcpsn) override;
  void offload_lost(l5o::Direction dir) override;

 private:
  enum class Phase : uint8_t { kHeader, kPad, kData, kDigest };
  bool send_raw(ByteSpan bytes);  // false: the queue failed (kSendBufferFull)
  void establish();
  // MsgParser: the PDU parser the shared framer drives (phases within one PDU).
  Result check() override;
  uint32_t piece_limit(uint32_t off) const override;
  HeaderParse<NvmeError> parse_header(ByteSpan head) override;
  Result on_bytes(uint32_t off, ByteSpan bytes, const RxMarks& m) override;
  Result after_bytes() override;
  Result on_msg(const RxMsg& m) override;
  Result header_done();
  Result on_termreq();
  Result ic_done();
  void reset_pdu();
  void drop_rx_offload();

  std::unique_ptr<Transport> t_;
  Role role_;
  QueueConfig cfg_;
  QueueHandler* h_;
  NvmeStats& st_;
  TxMsgMap map_;
  MsgFramer<NvmeError> framer_;
  bool ic_done_ = false, failed_ = false, hdgst_ = false, ddgst_ = false, rx_offload_lost_ = false;
  uint32_t maxh2cdata_ = 0;
  std::set<l5o::RrStateId> live_rr_;                       // registered with the RX context
  std::map<l5o::RrStateId, l5o::RrTeardown> gone_rr_;      // torn down when it was dropped
  // receive parser (the framer keeps the position, the PDU's start and index, and its marks)
  Phase phase_ = Phase::kHeader;
  Bytes hdr_;
  CommonHeader ch_{};
  MutByteSpan dest_;
  uint32_t got_ = 0;     // bytes of the current phase
  uint32_t recv_dgst_ = 0;
  // Last, so destroyed first (TX, then RX: reverse order of declaration); every mapping goes
  // with the RX context.
  OffloadHandle rx_h_, tx_h_;
};

}  // namespace autonic::l5p::nvme
