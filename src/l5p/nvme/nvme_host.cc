#include "l5p/nvme/nvme_host.h"

#include <algorithm>

#include <cstring>
#include <map>

#include "l5p/nvme/identify.h"
#include "l5p/nvme/nvme_ctrl.h"

namespace autonic::l5p::nvme {

// One host queue: command table by CID, data placement, R2T handling.
class NvmeHost::Queue final : public QueueHandler {
 public:
  struct Cmd {
    std::shared_ptr<Bytes> buf;  // read destination / write source
    bool write = false;
    bool digest_error = false;
    l5o::RrStateId rr = 0;
    std::function<void(uint16_t status, uint64_t dw0)> done;
    uint32_t received = 0;  // C2HData bytes so far (they must arrive in order, without gaps)
    // A write's bytes the controller has asked for so far (R2Ts) -- all of them when they went in
    // the capsule. An R2T may only ask for bytes past these: each byte leaves once.
    uint32_t solicited = 0;
    // Answered, but the NIC may have placed bytes ahead of the parser into its buffer: the
    // command (its buffer and its CID) completes once the parser reaches `fence`.
    bool responded = false;
    uint16_t status = 0;
    uint64_t dw0 = 0;
    TcpSeq fence;
  };

  Queue(NvmeHost& host, std::unique_ptr<Transport> c, const QueueConfig& cfg, std::function<void()> up)
      : host_(host), q_(std::move(c), NvmeQueue::Role::kHost, cfg, this, host.st_), up_(std::move(up)) {}

  NvmeQueue& q() { return q_; }
  size_t inflight() const { return cmds_.size(); }

  // Sends a command (SQE bytes 0..63, CID filled here). Returns false without a free CID.
  bool command(uint8_t* sqe, ByteSpan incap, std::shared_ptr<Bytes> buf, bool write,
               std::function<void(uint16_t, uint64_t)> done) {
    uint16_t cid = 0;
    // At most what the queue holds (SQSIZE, MAXCMD: a controller with SQ flow control has no
    // room for more), and a CID that is free.
    if (q_.failed() || (host_.queue_depth_ && cmds_.size() >= host_.queue_depth_)) return false;
    while (cid < kMaxCids && cmds_.count(cid)) ++cid;
    if (cid == kMaxCids) return false;
    put16(sqe + 2, cid);
    Cmd c{buf, write, false, 0, std::move(done)};
    if (write && !incap.empty()) c.solicited = uint32_t(incap.size());  // nothing left to ask for
    // Copy offload: tell the NIC where this read's data belongs before the command leaves (§5.1).
    if (!write && buf && q_.ddp()) c.rr = q_.add_rr(cid, MutByteSpan(*buf));
    cmds_[cid] = std::move(c);
    ++host_.st_.nvme_cmds;
    q_.send(PduType::kCapsuleCmd, 0, sqe, incap);
    return true;
  }

  void on_established() override { up_(); }
  void on_failed(const std::string& o) override {
    // Outstanding commands never complete with data: the connection is gone. Their buffers go
    // back to the caller, so the NIC must lose every mapping to them first.
    for (auto& [cid, c] : cmds_)
      if (!q_.del_rr(c.rr).confirmed && c.buf) held_.push_back(c.buf);  // the NIC may still write it
    cmds_.clear();
    host_.on_failed_(o);
  }

  MutByteSpan data_dest(const CommonHeader& ch, const uint8_t* hdr) override {
    if (ch.type != uint8_t(PduType::kC2HData)) return {};
    const DataFields f = data_fields(hdr);
    auto it = cmds_.find(f.cccid);
    // Data for a command we hold, not yet answered, inside its buffer, continuing exactly where
    // the previous C2HData stopped (so no byte is written twice and none is left unwritten).
    if (it == cmds_.end() || it->second.responded || it->second.write || !it->second.buf ||
        f.length != ch.data_len() || f.offset != it->second.received ||
        uint64_t(f.offset) + f.length > it->second.buf->size())
      return {};  // fatal, never placed anywhere else
    return MutByteSpan(it->second.buf->data() + f.offset, f.length);
  }

  void on_pdu(const Pdu& p) override {
    switch (PduType(p.ch.type)) {
      case PduType::kC2HData: {
        auto it = cmds_.find(data_fields(p.hdr).cccid);
        if (it != cmds_.end()) {
          it->second.received += uint32_t(p.data.size());
          if (!p.data_ok) it->second.digest_error = true;
        }
        ++host_.st_.nvme_c2h_pdus;
        break;
      }
      case PduType::kR2T: on_r2t(p); break;
      case PduType::kCapsuleResp: on_resp(p); break;
      default: q_.fatal(NvmeError::kUnexpectedPduAtHost);
    }
    if (!fenced_.empty()) complete_fenced();
  }

 private:
  static constexpr uint16_t kMaxCids = 1024;

  void on_r2t(const Pdu& p) {
    const DataFields f = data_fields(p.hdr);
    auto it = cmds_.find(f.cccid);
    // The R2T asks for bytes of a write we hold, not yet answered, inside its buffer, none of
    // them asked for before (Linux's nvme_tcp_handle_r2t refuses an offset below what it sent).
    // Without the last rule a hostile controller's 24-byte R2Ts, repeated, each made us queue the
    // whole buffer again -- up to MDTS a PDU, held until acknowledged.
    if (it == cmds_.end() || it->second.responded || !it->second.write || !it->second.buf ||
        uint64_t(f.offset) + f.length > it->second.buf->size() || f.length == 0 || f.offset < it->second.solicited)
      return q_.fail(NvmeError::kBadR2t);
    it->second.solicited = f.offset + f.length;
    ++host_.st_.nvme_r2t;
    // Several H2CData PDUs per R2T, each at most MAXH2CDATA; the buffer is sent by reference.
    const uint32_t maxd = q_.maxh2cdata();
    for (uint32_t o = 0; o < f.length; o += maxd) {
      const uint32_t n = std::min(maxd, f.length - o);
      uint8_t spec[16] = {};
      put16(spec, f.cccid);
      put16(spec + 2, f.ttag);
      put32(spec + 4, f.offset + o);
      put32(spec + 8, n);
      q_.send(PduType::kH2CData, o + n == f.length ? kFlagLast : 0, spec,
              ByteSpan(it->second.buf->data() + f.offset + o, n), it->second.buf);
      ++host_.st_.nvme_h2c_pdus;
    }
  }

  void on_resp(const Pdu& p) {
    const uint8_t* cqe = p.hdr + 8;
    const uint16_t cid = le16(cqe + 12);
    auto it = cmds_.find(cid);
    if (it == cmds_.end() || it->second.responded)
      return q_.fail(NvmeError::kResponseForUnknownCid);
    Cmd& c = it->second;
    uint16_t status = uint16_t(le16(cqe + 14) >> 1);
    // A bad data digest fails the command: its data is never handed out (§ data digest).
    if (c.digest_error && status == kScSuccess) status = kScDataTransferError;
    // "Success" for a read whose data did not all arrive would hand out whatever the buffer held.
    if (status == kScSuccess && !c.write && c.buf && c.received != c.buf->size()) {
      status = kScDataTransferError;
      ++host_.st_.nvme_short_reads;
    }
    if (status != kScSuccess) ++host_.st_.nvme_cmd_errors;
    c.responded = true;
    c.status = status;
    c.dw0 = le64(cqe);
    // The NIC's mapping goes first; the buffer and the CID follow once nothing it may have
    // placed is still ahead of the parser (§5.1: placement only while the request is held).
    const l5o::RrTeardown t = q_.del_rr(c.rr);
    c.rr = 0;  // torn down: a later connection failure must not tear it down again
    if (!t.confirmed) {
      if (c.buf) held_.push_back(c.buf);
      return q_.fail(NvmeError::kDdpTeardownUnconfirmed);
    }
    if (t.fence && *t.fence > q_.parsed_pos()) {
      c.fence = *t.fence;
      fenced_.push_back(cid);
      ++host_.st_.nvme_fenced_completions;
      return;
    }
    finish(it);
  }

  void finish(std::map<uint16_t, Cmd>::iterator it) {
    Cmd c = std::move(it->second);
    cmds_.erase(it);
    if (c.done) c.done(c.status, c.dw0);
  }

  void complete_fenced() {
    for (size_t i = 0; i < fenced_.size() && !q_.failed();) {
      auto it = cmds_.find(fenced_[i]);
      if (it == cmds_.end()) {
        fenced_.erase(fenced_.begin() + long(i));
      } else if (it->second.fence <= q_.parsed_pos()) {
        fenced_.erase(fenced_.begin() + long(i));
        finish(it);  // may submit (and send) more: fenced_ is re-read each round
      } else {
        ++i;
      }
    }
  }

  NvmeHost& host_;
  // Buffers the NIC may still write (a teardown it did not confirm): kept alive until the queue,
  // declared after them, has destroyed its offload contexts.
  std::vector<std::shared_ptr<Bytes>> held_;
  NvmeQueue q_;
  std::function<void()> up_;
  std::map<uint16_t, Cmd> cmds_;
  std::vector<uint16_t> fenced_;  // answered commands waiting for the parser to pass their fence
};

NvmeHost::NvmeHost(Connect connect, const QueueConfig& admin_cfg, const QueueConfig& io_cfg, NvmeStats& st,
                   std::function<void()> on_ready, std::function<void(const std::string&)> on_failed,
                   unsigned io_queues, HostConfig hc)
    : connect_(std::move(connect)), admin_cfg_(admin_cfg), io_cfg_(io_cfg), hc_(std::move(hc)), st_(st),
      on_ready_(std::move(on_ready)), on_failed_(std::move(on_failed)), io_queues_(std::max(1u, io_queues)),
      incap_max_(kIoccszBytes) {}

NvmeHost::~NvmeHost() = default;

size_t NvmeHost::inflight() const {
  size_t n = 0;
  for (const auto& q : io_) n += q->inflight();
  return n;
}

void NvmeHost::start() {
  set_init_state(InitState::kAdminConnect);  // the admin queue's ICReq first (the queue's work)
  admin_ = std::make_unique<Queue>(*this, connect_(), admin_cfg_, [this] { admin_step(); });
}

static void fabrics(uint8_t* sqe, uint8_t fctype) {
  std::memset(sqe, 0, kSqeLen);
  sqe[0] = kOpFabrics;
  sqe[1] = 0x40;  // PSDT: SGL
  sqe[4] = fctype;
}

// NVMe-oF 1.1 §3.3 Connect, as nvmf_connect_admin_queue / nvmf_connect_io_queue build it:
// KATO on the admin queue only, the Connect data (HOSTID, CNTLID, SUBNQN, HOSTNQN) in-capsule.
static void connect_cmd(uint8_t* sqe, uint16_t qid, uint16_t sqsize, Bytes& data, uint16_t cntlid,
                        const HostConfig& hc) {
  fabrics(sqe, kFcConnect);
  put32(sqe + 32, 1024);
  sqe[39] = kSglInCapsuleOffset;
  put16(sqe + 42, qid);
  put16(sqe + 44, sqsize);  // SQSIZE (0-based)
  if (qid == 0) put32(sqe + 48, hc.kato_ms);
  data.assign(1024, 0);
  std::memcpy(data.data(), hc.hostid.data(), 16);
  put16(data.data() + 16, cntlid);  // CNTLID: 0xFFFF = any (admin), the admin's for I/O queues
  std::memcpy(data.data() + 256, hc.subnqn.data(), std::min<size_t>(hc.subnqn.size(), 255));
  std::memcpy(data.data() + 512, hc.hostnqn.data(), std::min<size_t>(hc.hostnqn.size(), 255));
}

const char* NvmeHost::init_state_name(InitState s) {
  switch (s) {
    case InitState::kIdle: return "idle";
    case InitState::kAdminConnect: return "admin_connect";
    case InitState::kReadCap: return "read_cap";
    case InitState::kReadVs: return "read_vs";
    case InitState::kEnable: return "enable";
    case InitState::kWaitReady: return "wait_ready";
    case InitState::kIdentifyCtrl: return "identify_ctrl";
    case InitState::kIdentifyNs: return "identify_ns";
    case InitState::kIoConnect: return "io_connect";
    case InitState::kReady: return "ready";
  }
  return "?";
}

// The state a successful completion leads to. kIoConnect stays until every I/O queue is up
// (its completion sets kReady); kIdle and kReady issue nothing, so nothing completes in them.
NvmeHost::InitState NvmeHost::next_init_state(InitState s) {
  switch (s) {
    case InitState::kIdle: return InitState::kAdminConnect;
    case InitState::kAdminConnect: return InitState::kReadCap;
    case InitState::kReadCap: return InitState::kReadVs;
    case InitState::kReadVs: return InitState::kEnable;
    case InitState::kEnable: return InitState::kWaitReady;
    case InitState::kWaitReady: return InitState::kIdentifyCtrl;
    case InitState::kIdentifyCtrl: return InitState::kIdentifyNs;
    case InitState::kIdentifyNs: return InitState::kIoConnect;
    case InitState::kIoConnect: return InitState::kIoConnect;
    case InitState::kReady: return InitState::kReady;
  }
  return s;
}

// Admin bring-up, one command at a time (NVMe base spec "Controller Initialization"): each
// state issues its command; a successful completion moves to the next state and issues its own.
void NvmeHost::admin_step() {
  uint8_t sqe[kSqeLen];
  auto fail = [this](const std::string& what) { on_failed_(init_failed_outcome(what)); };
  auto next = [this](uint16_t st, uint64_t, const char* what) {
    if (st != kScSuccess) return on_failed_(init_failed_outcome(what));
    set_init_state(next_init_state(init_state_));
    admin_step();
  };
  Bytes data;
  switch (init_state_) {
    case InitState::kAdminConnect:  // NVMe-oF §3.3: the admin queue's Connect assigns CNTLID
      connect_cmd(sqe, 0, hc_.sqsize, data, 0xFFFF, hc_);
      admin_->command(sqe, data, nullptr, false, [this, next](uint16_t st, uint64_t dw0) {
        cntlid_ = uint16_t(dw0);
        next(st, dw0, "connect");
      });
      return;
    case InitState::kReadCap:  // CAP, then VS (NVMe-oF §3.5.1; CAP is 8 bytes: ATTRIB 1)
    case InitState::kReadVs:
      fabrics(sqe, kFcPropertyGet);
      sqe[40] = init_state_ == InitState::kReadCap ? 1 : 0;
      put32(sqe + 44, init_state_ == InitState::kReadCap ? 0x00 : 0x08);
      admin_->command(sqe, {}, nullptr, false, [this, next](uint16_t st, uint64_t v) {
        if (init_state_ == InitState::kReadCap) cap_ = v;
        next(st, v, "property_get");
      });
      return;
    case InitState::kEnable:  // CC.EN = 1, with IOSQES 6 / IOCQES 4 (nvme_enable_ctrl; nvmet_start_ctrl
      fabrics(sqe, kFcPropertySet);  // refuses others), MPS 0 (4 KiB), CSS 0 (NVM), AMS 0
      put32(sqe + 44, 0x14);
      put64(sqe + 48, 0x00460001);
      admin_->command(sqe, {}, nullptr, false, [next](uint16_t st, uint64_t v) { next(st, v, "enable"); });
      return;
    case InitState::kWaitReady:  // CSTS.RDY
      fabrics(sqe, kFcPropertyGet);
      put32(sqe + 44, 0x1C);
      admin_->command(sqe, {}, nullptr, false, [next, fail](uint16_t st, uint64_t v) {
        if (st == kScSuccess && !(v & 1)) return fail("not_ready");
        next(st, v, "csts");
      });
      return;
    case InitState::kIdentifyCtrl:  // Identify controller, then namespace 1
    case InitState::kIdentifyNs: {
      std::memset(sqe, 0, kSqeLen);
      sqe[0] = kOpIdentify;
      sqe[1] = 0x40;
      put32(sqe + 4, init_state_ == InitState::kIdentifyNs ? hc_.nsid : 0);
      put32(sqe + 32, 4096);
      sqe[39] = kSglTransportDataBlock;
      sqe[40] = init_state_ == InitState::kIdentifyCtrl ? 1 : 0;
      auto buf = std::make_shared<Bytes>(kIdentifyLen);
      admin_->command(sqe, {}, buf, false, [this, buf, next, fail](uint16_t st, uint64_t v) {
        if (st == kScSuccess) {
          std::optional<std::string> bad;
          if (init_state_ == InitState::kIdentifyCtrl) {
            CtrlInfo ci;
            bad = parse_identify_ctrl(*buf, cap_, &ci);
            if (!bad) bad = set_limits(ci);
          } else {
            NsInfo ni;
            bad = parse_identify_ns(*buf, &ni);
            nsze_ = ni.nsze;
            lba_size_ = ni.lba_size;
          }
          if (bad) return fail(*bad);
        }
        next(st, v, "identify");
      });
      return;
    }
    case InitState::kIoConnect: {  // the I/O queues, one after the other (qid 1..n)
      const uint16_t qid = uint16_t(io_.size() + 1);
      io_.push_back(std::make_unique<Queue>(*this, connect_(), io_cfg_, [this, qid] {
        uint8_t s[kSqeLen];
        Bytes d;
        // SQSIZE within CAP.MQES and MAXCMD, as nvme_tcp_setup_ctrl clamps it.
        uint16_t sqsize = hc_.sqsize;
        if (queue_depth_) sqsize = std::min<uint16_t>(sqsize, queue_depth_);
        connect_cmd(s, qid, sqsize, d, cntlid_, hc_);
        io_[qid - 1]->command(s, d, nullptr, false, [this](uint16_t st, uint64_t) {
          if (st != kScSuccess) return on_failed_(init_failed_outcome("io_connect"));
          if (io_.size() < io_queues_) return admin_step();
          set_init_state(InitState::kReady);
          on_ready_();
        });
      }));
      return;
    }
    case InitState::kIdle:   // start() not called: nothing to issue
    case InitState::kReady:  // all up: the admin queue stays idle
      return;
  }
}

bool NvmeHost::submit(BlockIo io) {
  if (io_.size() < io_queues_) return false;  // still bringing the queues up
  // Within the namespace, within one command's NLB (16 bits, 0-based), within MDTS, and a
  // buffer that holds it: a request the controller could misread is never sent.
  const uint64_t bytes = uint64_t(io.nlb) * lba_size_;
  if (io.nlb == 0 || io.nlb > 65536 || io.slba > nsze_ || io.nlb > nsze_ - io.slba ||
      (max_transfer_ && bytes > max_transfer_) || !io.buf || io.buf->size() != bytes)
    return false;
  Queue* q = io_[0].get();
  for (const auto& c : io_)
    if (c->inflight() < q->inflight()) q = c.get();
  uint8_t sqe[kSqeLen] = {};
  sqe[0] = io.write ? kOpWrite : kOpRead;
  sqe[1] = 0x40;
  put32(sqe + 4, hc_.nsid);
  const uint32_t len = io.nlb * lba_size_;
  put32(sqe + 32, len);
  put64(sqe + 40, io.slba);
  put16(sqe + 48, uint16_t(io.nlb - 1));
  ByteSpan incap;
  if (io.write && len <= incap_max_) {
    sqe[39] = kSglInCapsuleOffset;  // small writes travel in the capsule
    incap = ByteSpan(io.buf->data(), len);
  } else {
    sqe[39] = kSglTransportDataBlock;
  }
  auto done = std::move(io.done);
  return q->command(sqe, incap, io.buf, io.write, [done](uint16_t st, uint64_t) { done(st); });
}

}  // namespace autonic::l5p::nvme

namespace autonic::l5p::nvme {

// What Identify Controller allows this host to send (after parse_identify_ctrl's range checks),
// with what a Linux host refuses to run with (core.c nvme_init_identify, tcp.c
// nvme_tcp_setup_ctrl).
std::optional<std::string> NvmeHost::set_limits(const CtrlInfo& ci) {
  max_transfer_ = ci.max_transfer;
  if (ci.cntlid != cntlid_) return "identify_ctrl_cntlid";  // "Mismatching cntlid"
  if (ci.icdoff != 0) return "identify_ctrl_icdoff";        // data right after the SQE only
  if ((ci.sgls & 3) == 0) return "identify_ctrl_sgls";      // "Mandatory sgls are not supported"
  if (ci.ioccsz < 4 || ci.iorcsz < 1) return "identify_ctrl_capsule_size";
  auto clamp = [this](uint64_t lim) { max_transfer_ = max_transfer_ ? std::min(max_transfer_, lim) : lim; };
  clamp(kMaxIoBytes);
  if (hc_.one_h2c_per_r2t && io_cfg_.ddgst) clamp(admin_->q().maxh2cdata());
  // In-capsule write data: what IOCCSZ leaves after the 64-byte SQE, at most what we send inline.
  incap_max_ = uint32_t(std::min<uint64_t>(uint64_t(ci.ioccsz) * 16 - 64, kIoccszBytes));
  // Commands outstanding per queue: a queue of SQSIZE + 1 entries holds SQSIZE (one stays
  // empty), within CAP.MQES (0-based) and MAXCMD.
  uint32_t depth = std::min<uint32_t>(hc_.sqsize, uint32_t(cap_ & 0xFFFF));
  if (ci.maxcmd) depth = std::min<uint32_t>(depth, ci.maxcmd - 1u);
  if (depth == 0) return "identify_ctrl_maxcmd";
  queue_depth_ = uint16_t(depth);
  return std::nullopt;
}

bool NvmeHost::keep_alive() {
  if (!admin_ || init_state_ != InitState::kReady) return false;
  uint8_t sqe[kSqeLen] = {};
  sqe[0] = 0x18;  // Keep Alive (Base 2.0 §5.25): no data
  sqe[1] = 0x40;
  sqe[39] = kSglTransportDataBlock;
  return admin_->command(sqe, {}, nullptr, false, [this](uint16_t st, uint64_t) {
    if (st != kScSuccess) on_failed_("nvme:keep_alive_failed");
  });
}

}  // namespace autonic::l5p::nvme
