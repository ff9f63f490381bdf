#include "support/nvmet_like_ctrl.h"

#include <algorithm>
#include <cstring>

#include "proto/nvme/nvme_pdu.h"

namespace autonic::testing {

using namespace proto::nvme;

Bytes NvmetLikeCtrl::on_bytes(unsigned conn, ByteSpan in) {
  Conn& c = conns_[conn];
  c.in.insert(c.in.end(), in.begin(), in.end());
  Bytes out;
  for (const RawPdu& p : pop_pdus(c.in)) {
    if (!p.digests_ok) ++protocol_errors;
    if (p.type == uint8_t(PduType::kICReq)) on_ic(c, p, out);
    else if (p.type == uint8_t(PduType::kCapsuleCmd)) on_cmd(c, p, out);
    else if (p.type == uint8_t(PduType::kH2CData)) on_h2c(c, p, out);
    else ++protocol_errors;
  }
  return out;
}

void NvmetLikeCtrl::on_ic(Conn& c, const RawPdu& p, Bytes& out) {
  const uint8_t* h = p.hdr.data();
  // nvmet_tcp_handle_icreq: PFV 0, HPDA 0, MAXR2T 0 or -EPROTO.
  if (le16(h + 8) != 0 || h[10] != 0 || le32(h + 12) != 0) ++protocol_errors;
  c.ic = true;
  c.hd = h[11] & 1;
  c.dd = h[11] & 2;
  uint8_t ic[128] = {};
  ic[0] = uint8_t(PduType::kICResp);
  ic[2] = 128;
  put32(ic + 4, 128);
  ic[11] = h[11] & 3;
  put32(ic + 12, kMaxH2cData);
  out.insert(out.end(), ic, ic + 128);
}

void NvmetLikeCtrl::resp(const Conn& c, Bytes& out, uint16_t cid, uint16_t status, uint64_t dw0) const {
  uint8_t spec[16] = {};
  put64(spec, dw0);
  put16(spec + 10, c.qid);
  put16(spec + 12, cid);
  put16(spec + 14, uint16_t(status << 1));
  const Bytes b = make_pdu(c.hd, c.dd, uint8_t(PduType::kCapsuleResp), 0, spec, {});
  out.insert(out.end(), b.begin(), b.end());
}

void NvmetLikeCtrl::on_cmd(Conn& c, const RawPdu& p, Bytes& out) {
  const uint8_t* sqe = p.spec();
  const uint16_t cid = le16(sqe + 2);
  if (sqe[0] == kOpFabrics) return on_fabrics(c, sqe, p.data, out);
  if (c.qid == 0xFFFF) return resp(c, out, cid, kScInvalidOpcode | 0x4000);
  if (c.qid != 0) return on_io(c, sqe, p.data, out);
  if (sqe[0] != kOpIdentify) return resp(c, out, cid, sqe[0] == 0x18 ? kScSuccess : kScInvalidOpcode | 0x4000);
  Bytes id(4096, 0);
  if (sqe[40] == 1) {
    put16(&id[78], kCntlid);
    put32(&id[80], 0x00010300);
    put16(&id[320], 10);               // KAS
    id[512] = 0x66;
    id[513] = 0x44;
    put16(&id[514], 128);              // MAXCMD
    put32(&id[516], 1024);             // NN
    put32(&id[536], 1u | 1u << 20);    // SGLS
    std::memcpy(&id[768], subnqn.data(), subnqn.size());
    put32(&id[1792], (16384 + 64) / 16);  // IOCCSZ: 16 KiB in-capsule (NVMET_TCP_DEF_INLINE_DATA_SIZE)
    put32(&id[1796], 1);
    id[1803] = 1;
  } else if (sqe[40] == 0 && le32(sqe + 4) == 1) {
    const uint64_t nsze = ns.size() / 512;
    put64(&id[0], nsze);
    put64(&id[8], nsze);
    put64(&id[16], nsze);
    id[30] = 1;  // NMIC: shared
    id[130] = 9;
  } else {
    return resp(c, out, cid, kScInvalidField | 0x4000);
  }
  uint8_t spec[16] = {};
  put16(spec, cid);
  put32(spec + 8, 4096);
  const Bytes d = make_pdu(c.hd, c.dd, uint8_t(PduType::kC2HData), kFlagLast, spec, id);
  out.insert(out.end(), d.begin(), d.end());
  resp(c, out, cid, kScSuccess);
}

void NvmetLikeCtrl::on_fabrics(Conn& c, const uint8_t* sqe, const Bytes& data, Bytes& out) {
  const uint16_t cid = le16(sqe + 2);
  const uint32_t ofst = le32(sqe + 44);
  switch (sqe[4]) {
    case kFcConnect: {
      if (data.size() != 1024) return resp(c, out, cid, kScInvalidField | 0x4000);
      const uint16_t qid = le16(sqe + 42);
      connect_subnqn.assign(reinterpret_cast<const char*>(&data[256]));
      if (connect_subnqn != subnqn) return resp(c, out, cid, 0x182 | 0x4000, 1u << 16 | 256);
      const std::string host(reinterpret_cast<const char*>(&data[512]));
      if (qid == 0) {
        if (le16(&data[16]) != 0xFFFF) return resp(c, out, cid, 0x182 | 0x4000, 1u << 16 | 16);
        hostnqn = host;
        connect_kato_ms = le32(sqe + 48);
      } else if (le16(&data[16]) != kCntlid || host != hostnqn) {
        return resp(c, out, cid, 0x182 | 0x4000, 1u << 16 | 16);
      }
      c.qid = qid;
      return resp(c, out, cid, kScSuccess, kCntlid);
    }
    case kFcPropertyGet:
      if (sqe[40] & 1) return resp(c, out, cid, ofst == 0 ? kScSuccess : kScInvalidField | 0x4000,
                                   uint64_t(1023) | uint64_t(1) << 16 | uint64_t(15) << 24 | uint64_t(1) << 37);
      return resp(c, out, cid, kScSuccess, ofst == 0x08 ? 0x00010300 : ofst == 0x14 ? cc : ofst == 0x1C ? csts_ : 0);
    case kFcPropertySet:
      cc = le32(sqe + 48);
      // nvmet_start_ctrl: IOSQES 6 and IOCQES 4, or the controller fails.
      csts_ = !(cc & 1) ? 0 : (((cc >> 16) & 0xF) == required_iosqes && ((cc >> 20) & 0xF) == 4) ? 1 : 2;
      return resp(c, out, cid, kScSuccess);
    default: return resp(c, out, cid, kScInvalidOpcode | 0x4000);
  }
}

void NvmetLikeCtrl::on_io(Conn& c, const uint8_t* sqe, const Bytes& data, Bytes& out) {
  const uint16_t cid = le16(sqe + 2);
  const uint64_t off = le64(sqe + 40) * 512;
  const uint32_t len = (uint32_t(le16(sqe + 48)) + 1) * 512;
  if (le32(sqe + 4) != 1) return resp(c, out, cid, 0x0B | 0x4000);
  if (sqe[0] == kOpFlush) return resp(c, out, cid, kScSuccess);
  if (off + len > ns.size() || le32(sqe + 32) != len) return resp(c, out, cid, kScInvalidField | 0x4000);
  if (sqe[0] == kOpRead) {  // nvmet_setup_c2h_data_pdu: one C2HData for the whole transfer
    uint8_t spec[16] = {};
    put16(spec, cid);
    put32(spec + 8, len);
    const Bytes d = make_pdu(c.hd, c.dd, uint8_t(PduType::kC2HData), kFlagLast, spec, ByteSpan(&ns[off], len));
    out.insert(out.end(), d.begin(), d.end());
    return resp(c, out, cid, kScSuccess);
  }
  if (sqe[0] != kOpWrite) return resp(c, out, cid, kScInvalidOpcode | 0x4000);
  if (sqe[39] == kSglInCapsuleOffset) {
    if (data.size() != len || len > 16384) return resp(c, out, cid, kScInvalidField | 0x4000);
    std::memcpy(&ns[off], data.data(), len);
    ++writes_incapsule;
    return resp(c, out, cid, kScSuccess);
  }
  c.writes[cid] = Write{off, len};
  uint8_t spec[16] = {};  // nvmet_setup_r2t_pdu: the whole remaining transfer
  put16(spec, cid);
  put16(spec + 2, cid);
  put32(spec + 8, len);
  ++r2ts;
  const Bytes r = make_pdu(c.hd, c.dd, uint8_t(PduType::kR2T), 0, spec, {});
  out.insert(out.end(), r.begin(), r.end());
}

void NvmetLikeCtrl::on_h2c(Conn& c, const RawPdu& p, Bytes& out) {
  const DataFields f = data_fields(p.hdr.data());
  auto it = c.writes.find(f.ttag);
  if (it == c.writes.end() || f.cccid != f.ttag || f.offset != it->second.got || f.length != p.data.size() ||
      f.length > kMaxH2cData || uint64_t(f.offset) + f.length > it->second.len) {
    ++protocol_errors;
    return;
  }
  Write& w = it->second;
  max_h2c_pdu = std::max(max_h2c_pdu, f.length);
  std::memcpy(&ns[w.off + f.offset], p.data.data(), f.length);
  w.got += f.length;
  if (++w.pdus > 1 && c.dd) ++h2c_per_r2t_violations;  // 6.1 would see a data digest error here
  if (w.got < w.len) return;
  const uint16_t st = (w.pdus > 1 && c.dd) ? kScDataTransferError : kScSuccess;
  c.writes.erase(it);
  resp(c, out, f.cccid, st);
}

}  // namespace autonic::testing
