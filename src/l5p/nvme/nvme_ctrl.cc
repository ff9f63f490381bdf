#include "l5p/nvme/nvme_ctrl.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
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

  void on_established() override {}
  void on_failed(const std::string& o) override {
    if (c_.failure_.empty()) c_.failure_ = o;
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
    put16(spec + 10, qid_);       // SQID
    put16(spec + 12, cid);
    put16(spec + 14, uint16_t(status << 1));
    if (status != kScSuccess) ++c_.st_.nvme_cmd_errors;
    q_.send(PduType::kCapsuleResp, 0, spec, {});
    inflight_.erase(cid);
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
    const uint8_t opc = sqe[0];
    const uint16_t cid = le16(sqe + 2);
    ++c_.st_.nvme_cmds;
    if (!inflight_.insert(cid).second) {  // a CID still in use: the host broke the protocol
      q_.fatal(NvmeError::kDuplicateCid);
      return;
    }
    if (!p.data_ok) return respond(cid, kScDataTransferError);  // bad in-capsule data digest
    const uint8_t sgl_id = sqe[39];
    const uint32_t sgl_len = le32(sqe + 32);
    if (opc == kOpFabrics) {
      const uint8_t fct = sqe[4];
      if (fct == kFcConnect) {
        if (p.data.size() != 1024) return respond(cid, kScInvalidField);
        qid_ = le16(sqe + 42);
        return respond(cid, kScSuccess, kCntlid);
      }
      if (fct == kFcPropertyGet) return respond(cid, kScSuccess, property(le32(sqe + 44)));
      if (fct == kFcPropertySet) {
        if (le32(sqe + 44) == 0x14) {  // CC: EN -> CSTS.RDY (controller ready at once)
          c_.cc_ = le32(sqe + 48);
          c_.csts_ = c_.cc_ & 1;
        }
        return respond(cid, kScSuccess);
      }
      return respond(cid, kScInvalidField);
    }
    const uint32_t nsid = le32(sqe + 4);
    auto& ns = *c_.ns_;
    switch (opc) {
      case kOpIdentify: {
        // The data goes where the command's SGL says, and only in the length it describes
        // (Linux nvmet: nvmet_check_transfer_len(req, NVME_IDENTIFY_DATA_SIZE)).
        if (sgl_id != kSglTransportDataBlock || sgl_len != 4096) return respond(cid, kScInvalidField);
        auto data = std::make_shared<Bytes>(4096, 0);
        const uint8_t cns = sqe[40];
        if (cns == 1) identify_ctrl(*data);
        else if (cns == 0 && nsid == 1) identify_ns(*data);
        else return respond(cid, kScInvalidField);
        send_data(cid, *data, data);
        return respond(cid, kScSuccess);
      }
      case kOpFlush:
        return respond(cid, kScSuccess);
      case kOpRead:
      case kOpWrite: {
        if (nsid != 1) return respond(cid, kScInvalidField);
        const uint64_t slba = le64(sqe + 40);
        const uint64_t nlb = uint64_t(le16(sqe + 48)) + 1;
        const uint64_t len = nlb * ns.lba_size();
        if (slba + nlb > ns.nsze()) return respond(cid, kScLbaOutOfRange);
        if (sgl_len != len) return respond(cid, kScInvalidField);
        const uint64_t off = slba * ns.lba_size();
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
        // Solicit the data: one R2T for the whole transfer; the host may split it into
        // several H2CData PDUs of at most MAXH2CDATA.
        PendingWrite w{next_ttag_++, off, std::make_shared<Bytes>(len)};
        uint8_t spec[16] = {};
        put16(spec, cid);
        put16(spec + 2, w.ttag);
        put32(spec + 4, 0);
        put32(spec + 8, uint32_t(len));
        writes_[cid] = std::move(w);
        ++c_.st_.nvme_r2t;
        q_.send(PduType::kR2T, 0, spec, {});
        return;
      }
      default:
        return respond(cid, kScInvalidOpcode);
    }
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

  uint64_t property(uint32_t ofst) const {
    switch (ofst) {
      case 0x00: return uint64_t(255) | uint64_t(1) << 16 | uint64_t(10) << 24 | uint64_t(1) << 37;  // CAP
      case 0x08: return 0x00010400;  // VS 1.4
      case 0x14: return c_.cc_;
      case 0x1C: return c_.csts_;
      default: return 0;
    }
  }

  void identify_ctrl(Bytes& d) const {
    put16(d.data(), 0x1B4B);  // VID (made up)
    std::memcpy(d.data() + 4, "AUTONIC0000000000001", 20);
    std::memcpy(d.data() + 24, "autonic RAM namespace                   ", 40);
    std::memcpy(d.data() + 64, "1.0     ", 8);
    d[77] = 0;                    // MDTS: no limit
    put16(d.data() + 78, kCntlid);
    put32(d.data() + 80, 0x00010400);
    d[512] = 0x66;                // SQES
    d[513] = 0x44;                // CQES
    put32(d.data() + 516, 1);     // NN
    const char nqn[] = "nqn.2026-11.io.autonic:ram";
    std::memcpy(d.data() + 768, nqn, sizeof nqn);
    put32(d.data() + 1792, (kIoccszBytes + 64) / 16);  // IOCCSZ
    put32(d.data() + 1796, 1);                          // IORCSZ
  }

  void identify_ns(Bytes& d) const {
    const auto& ns = *c_.ns_;
    put64(d.data(), ns.nsze());
    put64(d.data() + 8, ns.nsze());
    put64(d.data() + 16, ns.nsze());
    d[25] = 0;  // NLBAF: one format
    d[26] = 0;  // FLBAS
    uint8_t lbads = 0;
    while ((1u << lbads) < ns.lba_size()) ++lbads;
    d[128 + 2] = lbads;
  }

  NvmeController& c_;
  NvmeQueue q_;
  Bytes incap_;
  uint16_t qid_ = 0, next_ttag_ = 1;
  std::map<uint16_t, PendingWrite> writes_;
  std::set<uint16_t> inflight_;
};

NvmeController::NvmeController(std::shared_ptr<Namespace> ns, const QueueConfig& cfg, NvmeStats& st)
    : ns_(std::move(ns)), cfg_(cfg), st_(st) {}

NvmeController::~NvmeController() = default;

void NvmeController::accept(std::unique_ptr<Transport> c) {
  conns_.push_back(std::make_unique<Conn>(*this, std::move(c)));
}

}  // namespace autonic::l5p::nvme
