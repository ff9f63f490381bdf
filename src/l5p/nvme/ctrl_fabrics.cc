#include "l5p/nvme/ctrl_fabrics.h"

#include <cstring>

#include "proto/nvme/nvme_pdu.h"

namespace autonic::l5p::nvme {

using namespace proto::nvme;

namespace {

constexpr uint64_t kCap = uint64_t(kMqes) | uint64_t(1) << 16 | uint64_t(10) << 24 | uint64_t(1) << 37;  // MQES, CQR, TO 5 s, CSS NVM
constexpr uint32_t kVs = 0x00010400;
constexpr uint32_t kCcEn = 1, kCstsRdy = 1, kCstsCfs = 2, kCstsShstDone = 2u << 2;

// An NQN field (256 bytes): NUL-terminated UTF-8 (Base 2.0 §4.5); nullopt-like "" if unterminated.
bool nqn_field(const uint8_t* p, std::string* out) {
  const void* nul = std::memchr(p, 0, 256);
  if (!nul) return false;
  out->assign(reinterpret_cast<const char*>(p), size_t(static_cast<const uint8_t*>(nul) - p));
  return true;
}

FabricsReply invalid_param(uint32_t ipo) { return FabricsReply{uint16_t(kScConnectInvalidParam | kDnr), ipo}; }

}  // namespace

FabricsReply parse_connect(const CtrlConfig& cfg, const uint8_t* sqe, ByteSpan data, ConnectRequest* out) {
  if (data.size() != 1024) return FabricsReply{kScInvalidField};  // the Connect data travels in-capsule
  if (le16(sqe + 40) != 0) return FabricsReply{uint16_t(kScConnectFormat | kDnr)};  // RECFMT 0 only
  out->qid = le16(sqe + 42);
  out->sqsize = le16(sqe + 44);
  out->cattr = sqe[46];
  out->kato_ms = le32(sqe + 48);
  out->cntlid = le16(&data[16]);
  // The subsystem: ours, by its NQN (the discovery NQN included: we serve no discovery log).
  if (!nqn_field(&data[256], &out->subnqn) || out->subnqn != cfg.subnqn) return invalid_param(ipo_data(256));
  if (!nqn_field(&data[512], &out->hostnqn) || out->hostnqn.empty()) return invalid_param(ipo_data(512));
  // SQSIZE is 0-based; a queue of one entry cannot hold a command (nvmet: "queue size zero!").
  if (out->sqsize == 0 || out->sqsize > kMqes) return invalid_param(44);
  if (out->qid == 0 && out->cntlid != 0xFFFF) return invalid_param(ipo_data(16));  // dynamic model
  return FabricsReply{};
}

FabricsReply property_get(const CtrlState& st, const uint8_t* sqe) {
  const bool eight = sqe[40] & 1;  // ATTRIB: 8-byte property
  const uint32_t ofst = le32(sqe + 44);
  FabricsReply r;
  if (eight && ofst == 0x00) r.dw0 = kCap;
  else if (!eight && ofst == 0x08) r.dw0 = kVs;
  else if (!eight && ofst == 0x14) r.dw0 = st.cc;
  else if (!eight && ofst == 0x1C) r.dw0 = st.csts;
  else r.status = kScInvalidField | kDnr;  // nvmet_execute_prop_get
  return r;
}

FabricsReply property_set(CtrlState& st, const uint8_t* sqe, bool* disabled) {
  *disabled = false;
  const uint32_t ofst = le32(sqe + 44);
  if (ofst != 0x14) return FabricsReply{uint16_t(kScInvalidField | kDnr)};  // only CC is writable
  if (sqe[40] & 1) return FabricsReply{uint16_t(kScInvalidField | kDnr)};  // CC is 4 bytes
  const uint32_t old = st.cc, cc = le32(sqe + 48);
  st.cc = cc;
  if ((cc & kCcEn) && !(old & kCcEn)) {
    // nvmet_start_ctrl: IOSQES 6 (64 B), IOCQES 4 (16 B), MPS 0 (4 KiB), AMS 0, CSS 0 (NVM) or
    // the controller fails (CSTS.CFS) instead of becoming ready.
    const bool ok = ((cc >> 16) & 0xF) == 6 && ((cc >> 20) & 0xF) == 4 && ((cc >> 7) & 0xF) == 0 &&
                    ((cc >> 11) & 0x7) == 0 && ((cc >> 4) & 0x7) == 0;
    st.csts = ok ? kCstsRdy : kCstsCfs;
  } else if (!(cc & kCcEn) && (old & kCcEn)) {
    st.csts = 0;  // reset: the controller goes idle, its queues' state with it
    *disabled = true;
  }
  if (((cc >> 14) & 0x3) != 0 && ((old >> 14) & 0x3) == 0) {  // CC.SHN: shutdown, done at once
    st.csts = (st.csts & ~kCstsRdy) | kCstsShstDone;
    *disabled = true;
  } else if (((cc >> 14) & 0x3) == 0) {
    st.csts &= ~(3u << 2);
  }
  return FabricsReply{};
}

}  // namespace autonic::l5p::nvme
