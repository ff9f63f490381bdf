#include "l5p/nvme/nvme_ctrl.h"

#include "l5p/nvme/ctrl_admin.h"
#include "l5p/nvme/ctrl_fabrics.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <cstring>
#include <stdexcept>

namespace autonic::l5p::nvme {

// ---- namespace ----
std::shared_ptr<Namespace> Namespace::ram(uint64_t bytes, uint32_t lba_size) {
  auto ns = std::make_shared<Namespace>();
  ns->lba_ = lba_size;
  ns->bytes_ = bytes / lba_size * lba_size;
  ns->ram_ = std::make_shared<Bytes>(ns->bytes_);
  return ns;
}

std::shared_ptr<Namespace> Namespace::file(const std::string& path, uint64_t bytes, uint32_t lba_size) {
  auto ns = std::make_shared<Namespace>();
  ns->lba_ = lba_size;
  ns->bytes_ = bytes / lba_size * lba_size;
  ns->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
  if (ns->fd_ < 0 || ::ftruncate(ns->fd_, off_t(ns->bytes_)) != 0)
    throw std::runtime_error("cannot open namespace file " + path);
  return ns;
}

Namespace::~Namespace() {
  if (fd_ >= 0) ::close(fd_);
}

bool Namespace::read(uint64_t off, MutByteSpan out) const {
  if (off + out.size() > bytes_) return false;
  if (ram_) {
    std::memcpy(out.data(), ram_->data() + off, out.size());
    return true;
  }
  return ::pread(fd_, out.data(), out.size(), off_t(off)) == ssize_t(out.size());
}

bool Namespace::write(uint64_t off, ByteSpan in) {
  if (off + in.size() > bytes_) return false;
  if (ram_) {
    std::memcpy(ram_->data() + off, in.data(), in.size());
    return true;
  }
  return ::pwrite(fd_, in.data(), in.size(), off_t(off)) == ssize_t(in.size());
}

// ---- one controller queue ----
class NvmeController::Conn final : public QueueHandler {
 public:
  Conn(NvmeController& c, std::unique_ptr<Transport> tc)
      : c_(c), q_(std::move(tc), NvmeQueue::Role::kController, c.cfg_, this, c.st_) {}

  // Its queue failed and its connection is gone: nothing of it will run again.
  bool finished() const { return q_.failed() && q_.closed(); }

  void on_established() override {}
  void on_failed(const std::string& o) override {
    if (c_.failure_.empty()) c_.failure_ = o;
    detach();
  }

  MutByteSpan data_dest(const CommonHeader& ch, const uint8_t* hdr) override {
    if (ch.type == uint8_t(PduType::kCapsuleCmd)) {
      if (ch.data_len() > kIoccszBytes) return {};
      incap_.resize(ch.data_len());
      return incap_;
    }
    if (ch.type == uint8_t(PduType::kH2CData)) {
      const DataFields f = data_fields(hdr);
      auto it = writes_.find(f.cccid);
      // Data must answer an R2T we sent, stay inside it, respect MAXH2CDATA, and continue exactly
      // where the last H2CData stopped (Linux nvmet: data_offset == rbytes_done): overlapping or
      // skipped ranges would leave staged bytes that no PDU wrote -- zeros stored as success.
      // (parse_common already refused an H2CData without data.)
      if (it == writes_.end() || f.ttag != it->second.ttag || f.length != ch.data_len() || f.length == 0 ||
          f.length > q_.maxh2cdata() || f.offset != it->second.received ||
          uint64_t(f.offset) + f.length > it->second.data->size())
        return {};
      return MutByteSpan(it->second.data->data() + f.offset, f.length);
    }
    return {};
  }

  void on_pdu(const Pdu& p) override {
    switch (PduType(p.ch.type)) {
      case PduType::kCapsuleCmd: return on_cmd(p);
      case PduType::kH2CData: return on_h2c(p);
      default: q_.fatal(NvmeError::kUnexpectedPduAtController);
    }
  }

 private:
  struct PendingWrite {
    uint16_t ttag;
    uint64_t off;
    std::shared_ptr<Bytes> data;
    uint32_t received = 0;
    bool digest_error = false;
  };

  void respond(uint16_t cid, uint16_t status, uint64_t dw0 = 0) {
    uint8_t spec[16] = {};
    put64(spec, dw0);
    // SQHD: how far this queue's SQ has been consumed (Base 2.0 §4.6), FFFFh with SQ flow
    // control disabled (Connect CATTR bit 2; nvmet: sqhd_disabled).
    put16(spec + 8, sqflow_off_ ? 0xFFFF : sqhd_);
    put16(spec + 10, qid_);       // SQID
    put16(spec + 12, cid);
    put16(spec + 14, uint16_t(status << 1));
    if (status != kScSuccess) ++c_.st_.nvme_cmd_errors;
    answered_.push_back(q_.send(PduType::kCapsuleResp, 0, spec, {}));
    inflight_.erase(cid);
  }

  // Commands this queue holds at once: twice its entries (Connect's SQSIZE, 0-based), as nvmet_tcp
  // allocates its command pool; one more is fatal there ("out of commands") and here. A command
  // counts until its response has gone to TCP: one answered while TCP's buffer is full still
  // holds its data in the queue. Before, the CID was free the moment the response was queued,
  // so a host that kept its receive window shut and went on sending reads made the controller
  // queue their data without end.
  bool room_for_command() {
    while (!answered_.empty() && answered_.front() < q_.handed_over()) answered_.pop_front();
    return inflight_.size() + answered_.size() < 2 * (size_t(sqsize_) + 1);
  }

  void send_data(uint16_t cid, ByteSpan data, std::shared_ptr<const void> keep) {
    constexpr size_t kChunk = 128 * 1024;
    for (size_t o = 0; o < data.size(); o += kChunk) {
      const size_t n = std::min(kChunk, data.size() - o);
      uint8_t spec[16] = {};
      put16(spec, cid);
      put32(spec + 4, uint32_t(o));
      put32(spec + 8, uint32_t(n));
      q_.send(PduType::kC2HData, o + n == data.size() ? kFlagLast : 0, spec, data.subspan(o, n), keep);
      ++c_.st_.nvme_c2h_pdus;
    }
  }

  void on_cmd(const Pdu& p) {
    const uint8_t* sqe = p.hdr + 8;
    const uint16_t cid = le16(sqe + 2);
    ++c_.st_.nvme_cmds;
    if (!room_for_command()) {
      q_.fatal(NvmeError::kTooManyCommands);
      return;
    }
    if (!inflight_.insert(cid).second) {  // a CID still in use: the host broke the protocol
      q_.fatal(NvmeError::kDuplicateCid);
      return;
    }
    if (sqsize_) sqhd_ = uint16_t((sqhd_ + 1u) % (sqsize_ + 1u));
    if (!p.data_ok) return respond(cid, kScDataTransferError);  // bad in-capsule data digest
    if (sqe[0] == kOpFabrics) return on_fabrics(cid, sqe, p.data);
    // Connect comes first (nvmet_parse_connect_cmd), and nothing but Fabrics commands before
    // the controller is enabled and ready (nvmet_check_ctrl_status).
    if (!ctrl_) return respond(cid, kScInvalidOpcode | kDnr);
    if (!ctrl_->enabled()) return respond(cid, kScCmdSeqError | kDnr);
    // The admin queue runs the admin command set, I/O queues the NVM one (Base 2.0 §3.3.1;
    // nvmet_parse_admin_cmd / nvmet_parse_io_cmd): Read on an admin queue is Get Log Page.
    if (qid_ == 0) return on_admin(cid, sqe);
    on_io(cid, sqe, p);
  }

  void on_fabrics(uint16_t cid, const uint8_t* sqe, ByteSpan data) {
    const uint8_t fct = sqe[4];
    if (fct == kFcConnect) return on_connect(cid, sqe, data);
    // Property Get/Set: on a connected admin queue only (nvmet_parse_fabrics_admin_cmd).
    if (!ctrl_ || qid_ != 0 || (fct != kFcPropertyGet && fct != kFcPropertySet))
      return respond(cid, kScInvalidOpcode | kDnr);
    if (fct == kFcPropertyGet) {
      const FabricsReply r = property_get(*ctrl_, sqe);
      return respond(cid, r.status, r.dw0);
    }
    bool disabled = false;
    const FabricsReply r = property_set(*ctrl_, sqe, &disabled);
    if (disabled) end_aers(kScAbortSqDeletion);  // reset / shutdown: no event will come
    respond(cid, r.status, r.dw0);
  }

  void on_connect(uint16_t cid, const uint8_t* sqe, ByteSpan data) {
    if (ctrl_) return respond(cid, kScCmdSeqError | kDnr);  // one Connect per queue
    ConnectRequest rq;
    FabricsReply r = parse_connect(c_.ccfg_, sqe, data, &rq);
    if (r.status == kScSuccess) r = rq.qid == 0 ? c_.attach_admin(rq, &ctrl_) : c_.attach_io(rq, &ctrl_);
    if (r.status != kScSuccess) return respond(cid, r.status, r.dw0);
    qid_ = rq.qid;
    sqsize_ = rq.sqsize;
    sqflow_off_ = rq.cattr & 0x04;
    sqhd_ = uint16_t(1u % (sqsize_ + 1u));  // the Connect itself was consumed
    respond(cid, kScSuccess, ctrl_->cntlid);
  }

  void on_admin(uint16_t cid, const uint8_t* sqe) {
    const AdminReply r = execute_admin(c_.ccfg_, *ctrl_, *c_.ns_, sqe);
    if (r.hold) {
      ctrl_->aers.push_back(cid);  // stays in flight: its CID is not reused until it completes
      return;
    }
    if (r.data) send_data(cid, *r.data, r.data);
    respond(cid, r.status, r.dw0);
  }

  // Held Asynchronous Event Requests end with the controller (Base 2.0 §5.2: "aborted" status).
  void end_aers(uint16_t status) {
    if (!ctrl_ || qid_ != 0) return;
    std::vector<uint16_t> aers;
    aers.swap(ctrl_->aers);
    for (uint16_t cid : aers) respond(cid, status);
  }

  // The connection is gone: an admin queue takes its controller with it (nvmet deletes the
  // controller when its admin queue goes); an I/O queue frees its QID.
  void detach() {
    if (!ctrl_) return;
    if (qid_ == 0) {
      ctrl_->aers.clear();
      c_.ctrls_.erase(ctrl_->cntlid);
    } else {
      ctrl_->io_qids.erase(qid_);
    }
    ctrl_.reset();
  }

  void on_io(uint16_t cid, const uint8_t* sqe, const Pdu& p) {
    const uint8_t opc = sqe[0];
    const uint32_t nsid = le32(sqe + 4);
    if (opc == kOpFlush) return respond(cid, kScSuccess);  // VWC 0: nothing is cached
    if (opc != kOpRead && opc != kOpWrite) return respond(cid, kScInvalidOpcode);
    if (nsid != 1) return respond(cid, kScInvalidNs | kDnr);
    auto& ns = *c_.ns_;
    const uint8_t sgl_id = sqe[39];
    const uint32_t sgl_len = le32(sqe + 32);
    const uint64_t slba = le64(sqe + 40);
    const uint64_t nlb = uint64_t(le16(sqe + 48)) + 1;
    const uint64_t len = nlb * ns.lba_size();
    if (slba > ns.nsze() || nlb > ns.nsze() - slba) return respond(cid, kScLbaOutOfRange);
    if (sgl_len != len) return respond(cid, kScInvalidField);
    if (len > kMaxTransferBytes) return respond(cid, kScInvalidField | kDnr);  // beyond MDTS
    const uint64_t off = slba * ns.lba_size();
    (opc == kOpRead ? ctrl_->read_cmds : ctrl_->write_cmds)++;
    (opc == kOpRead ? ctrl_->read_units : ctrl_->write_units) += len / 512;
    if (opc == kOpRead) {
      if (auto mem = ns.memory()) {
        send_data(cid, ByteSpan(mem->data() + off, len), mem);  // zero copy from RAM
      } else {
        auto buf = std::make_shared<Bytes>(len);
        if (!ns.read(off, *buf)) return respond(cid, kScDataTransferError);
        send_data(cid, *buf, buf);
      }
      return respond(cid, kScSuccess);
    }
    if (sgl_id == kSglInCapsuleOffset) {  // in-capsule write
      if (p.data.size() != len) return respond(cid, kScInvalidField);
      return respond(cid, ns.write(off, p.data) ? kScSuccess : kScDataTransferError);
    }
    if (sgl_id != kSglTransportDataBlock) return respond(cid, kScInvalidField);
    // Solicit the data: one R2T for the whole transfer (as nvmet does); the host may split it
    // into several H2CData PDUs of at most MAXH2CDATA.
    PendingWrite w{next_ttag_++, off, std::make_shared<Bytes>(len)};
    uint8_t spec[16] = {};
    put16(spec, cid);
    put16(spec + 2, w.ttag);
    put32(spec + 4, 0);
    put32(spec + 8, uint32_t(len));
    writes_[cid] = std::move(w);
    ++c_.st_.nvme_r2t;
    q_.send(PduType::kR2T, 0, spec, {});
  }

  void on_h2c(const Pdu& p) {
    const DataFields f = data_fields(p.hdr);
    auto it = writes_.find(f.cccid);
    if (it == writes_.end()) return q_.fail(NvmeError::kH2cWithoutR2t);
    PendingWrite& w = it->second;
    ++c_.st_.nvme_h2c_pdus;
    w.received += uint32_t(p.data.size());  // what landed, not what the header claims (== here)
    w.digest_error = w.digest_error || !p.data_ok;
    if (!(p.ch.flags & kFlagLast)) return;
    if (w.received != w.data->size()) return q_.fail(NvmeError::kH2cIncomplete);
    // A bad data digest fails the command: the namespace is not touched.
    const uint16_t st = w.digest_error ? kScDataTransferError
                        : c_.ns_->write(w.off, *w.data) ? kScSuccess : kScDataTransferError;
    writes_.erase(it);
    respond(f.cccid, st);
  }

  NvmeController& c_;
  NvmeQueue q_;
  Bytes incap_;
  std::shared_ptr<CtrlState> ctrl_;  // set by a successful Connect
  uint16_t qid_ = 0, next_ttag_ = 1;
  uint16_t sqsize_ = 0, sqhd_ = 0;   // SQSIZE (0-based) from Connect; SQ head
  bool sqflow_off_ = false;
  std::map<uint16_t, PendingWrite> writes_;
  std::set<uint16_t> inflight_;
  std::deque<uint64_t> answered_;  // the CapsuleResp PDU of each command answered, until it went to TCP
};

NvmeController::NvmeController(std::shared_ptr<Namespace> ns, const QueueConfig& cfg, NvmeStats& st, CtrlConfig cc)
    : ns_(std::move(ns)), cfg_(cfg), st_(st), ccfg_(std::move(cc)) {}

NvmeController::~NvmeController() = default;

// Connections that ended go when the next one comes: a Conn is never destroyed inside its own
// callbacks, and a controller serving connection after connection holds only the live ones (and
// the ended since). Before, every connection's queue, buffers and map stayed for the controller's
// life.
void NvmeController::accept(std::unique_ptr<Transport> c) {
  std::erase_if(conns_, [](const std::unique_ptr<Conn>& k) { return k->finished(); });
  conns_.push_back(std::make_unique<Conn>(*this, std::move(c)));
}

// An admin Connect creates a controller with the next free CNTLID (dynamic controller model,
// NVMe-oF 1.1 §4.2; CNTLIDs FFF0h and above are reserved).
FabricsReply NvmeController::attach_admin(const ConnectRequest& rq, std::shared_ptr<CtrlState>* out) {
  if (ctrls_.size() >= 0xFFEF) return FabricsReply{uint16_t(kScConnectInvalidParam | kDnr), ipo_data(16)};
  while (next_cntlid_ == 0 || next_cntlid_ >= 0xFFF0 || ctrls_.count(next_cntlid_))
    next_cntlid_ = next_cntlid_ >= 0xFFF0 ? 1 : uint16_t(next_cntlid_ + 1);
  auto st = std::make_shared<CtrlState>();
  st->cntlid = next_cntlid_++;
  st->hostnqn = rq.hostnqn;
  st->kato_ms = rq.kato_ms;
  ctrls_[st->cntlid] = st;
  *out = st;
  return FabricsReply{};
}

// An I/O Connect joins the controller its data names, from the same host (nvmet_ctrl_find_get),
// with a QID of its own within what the controller grants (nvmet_install_queue).
FabricsReply NvmeController::attach_io(const ConnectRequest& rq, std::shared_ptr<CtrlState>* out) {
  auto it = ctrls_.find(rq.cntlid);
  if (it == ctrls_.end() || it->second->hostnqn != rq.hostnqn)
    return FabricsReply{uint16_t(kScConnectInvalidParam | kDnr), ipo_data(16)};
  CtrlState& st = *it->second;
  const uint32_t max_qid = st.queues_set ? uint32_t(std::min(st.nsqa, st.ncqa)) + 1 : ccfg_.max_io_queues;
  if (rq.qid > max_qid) return FabricsReply{uint16_t(kScInvalidQid | kDnr), 42};
  if (!st.io_qids.insert(rq.qid).second) return FabricsReply{uint16_t(kScCmdSeqError | kDnr)};
  *out = it->second;
  return FabricsReply{};
}

}  // namespace autonic::l5p::nvme
