#include "support/scripted_ctrl.h"

#include <algorithm>
#include <cstring>

#include "apps/pattern.h"
#include "proto/nvme/nvme_pdu.h"
#include "support/pdu_codec.h"

namespace autonic::testbed {

using namespace proto::nvme;

// Whatever the host sends on this connection, the script answers; what the stream does not take
// yet waits for on_writable.
class ScriptedCtrl::Peer final : public l5p::StreamHandler {
 public:
  Peer(ScriptedCtrl& ctrl, unsigned conn, l5p::Stream& s) : ctrl_(ctrl), conn_(conn), s_(s) {}
  void on_data(ByteSpan d) override {
    const Bytes out = ctrl_.on_bytes(conn_, d);
    pending_.insert(pending_.end(), out.begin(), out.end());
    on_writable();
  }
  void on_writable() override {
    size_t sent = 0;
    while (sent < pending_.size()) {
      const size_t n = s_.send(ByteSpan(pending_.data() + sent, pending_.size() - sent));
      if (n == 0) break;
      sent += n;
    }
    pending_.erase(pending_.begin(), pending_.begin() + long(sent));
  }
  void on_failed(const std::string&) override {}

 private:
  ScriptedCtrl& ctrl_;
  unsigned conn_;
  l5p::Stream& s_;
  Bytes pending_;
};

ScriptedCtrl::ScriptedCtrl() = default;
ScriptedCtrl::~ScriptedCtrl() = default;

void ScriptedCtrl::on_namespace(const NamespaceInfo& ns) {
  lba_size = ns.lba_size;
  ns_bytes = ns.bytes;
  pattern_seed = ns.pattern_seed;
}

l5p::StreamHandler* ScriptedCtrl::attach(l5p::Stream& s) {
  peers_.push_back(std::make_unique<Peer>(*this, unsigned(peers_.size()), s));
  return peers_.back().get();
}

Bytes ScriptedCtrl::pdu(const Conn& c, uint8_t type, uint8_t flags, const uint8_t* spec, ByteSpan data) const {
  return testing::make_pdu(c.hdgst, c.ddgst, type, flags, spec, data);
}

Bytes ScriptedCtrl::c2h_data(unsigned conn, uint16_t cid, uint32_t off, ByteSpan data, bool last) const {
  uint8_t spec[16] = {};
  put16(spec, cid);
  put32(spec + 4, off);
  put32(spec + 8, uint32_t(data.size()));
  return pdu(conns_.at(conn), uint8_t(PduType::kC2HData), last ? kFlagLast : 0, spec, data);
}

Bytes ScriptedCtrl::r2t(unsigned conn, uint16_t cid, uint16_t ttag, uint32_t off, uint32_t len) const {
  uint8_t spec[16] = {};
  put16(spec, cid);
  put16(spec + 2, ttag);
  put32(spec + 4, off);
  put32(spec + 8, len);
  return pdu(conns_.at(conn), uint8_t(PduType::kR2T), 0, spec, {});
}

Bytes ScriptedCtrl::capsule_resp(unsigned conn, uint16_t cid, uint16_t status, uint64_t dw0) const {
  uint8_t spec[16] = {};
  put64(spec, dw0);
  put16(spec + 12, cid);
  put16(spec + 14, uint16_t(status << 1));
  return pdu(conns_.at(conn), uint8_t(PduType::kCapsuleResp), 0, spec, {});
}

Bytes ScriptedCtrl::on_bytes(unsigned conn, ByteSpan in) {
  Conn& c = conns_[conn];
  c.in.insert(c.in.end(), in.begin(), in.end());
  Bytes out;
  size_t at = 0;
  // Whole PDUs only; a host that sends garbage gets no answer (the tests drive the host).
  while (c.in.size() - at >= kCommonLen) {
    CommonHeader h{};
    if (parse_common(ByteSpan(&c.in[at], kCommonLen), &h) != HeaderError::kNone) {
      c.in.clear();
      return out;
    }
    if (c.in.size() - at < h.plen) break;
    const uint8_t* p = &c.in[at];
    if (h.type == uint8_t(PduType::kICReq)) {
      c.ic = true;
      c.hdgst = p[11] & 1;
      c.ddgst = p[11] & 2;
      uint8_t ic[128] = {};
      ic[0] = uint8_t(PduType::kICResp);
      ic[2] = 128;
      put32(ic + 4, 128);
      ic[11] = p[11] & 3;
      put32(ic + 12, 128 * 1024);  // MAXH2CDATA
      out.insert(out.end(), ic, ic + 128);
    } else if (h.type == uint8_t(PduType::kCapsuleCmd)) {
      on_cmd(conn, p + 8, out);
    }
    at += h.plen;
  }
  c.in.erase(c.in.begin(), c.in.begin() + long(at));
  return out;
}

void ScriptedCtrl::on_cmd(unsigned conn, const uint8_t* sqe, Bytes& out) {
  const Cmd cmd{conn, le16(sqe + 2), sqe[0], sqe};
  Bytes a;
  auto resp = [&](uint16_t st, uint64_t dw0 = 0) {
    const Bytes r = capsule_resp(conn, cmd.cid, st, dw0);
    a.insert(a.end(), r.begin(), r.end());
  };
  auto data = [&](ByteSpan d) {
    for (size_t o = 0; o < d.size(); o += c2h_chunk) {
      const size_t n = std::min(c2h_chunk, d.size() - o);
      const Bytes b = c2h_data(conn, cmd.cid, uint32_t(o), d.subspan(o, n), o + n == d.size());
      a.insert(a.end(), b.begin(), b.end());
    }
  };
  if (cmd.opc == kOpFabrics) {
    const uint8_t fct = sqe[4];
    const uint32_t ofst = le32(sqe + 44);
    if (fct == kFcConnect) resp(kScSuccess, 1);
    else if (fct == kFcPropertyGet)
      resp(kScSuccess, ofst == 0x00 ? (uint64_t(255) | uint64_t(1) << 16 | uint64_t(10) << 24 | uint64_t(1) << 37)
                       : ofst == 0x08 ? 0x00010400 : ofst == 0x1C ? 1 : 0);
    else resp(kScSuccess);
  } else if (cmd.opc == kOpIdentify) {
    Bytes id(4096, 0);
    const uint8_t cns = sqe[40];
    if (cns == 1) {
      // The fields a Linux host (and ours) checks of a fabrics controller (nvme_init_identify,
      // nvme_tcp_setup_ctrl): the Connect's CNTLID, SGLs, capsule sizes (8 KiB in-capsule data).
      put16(&id[78], 1);
      id[512] = 0x66;                        // SQES
      id[513] = 0x44;                        // CQES
      put16(&id[514], 128);                  // MAXCMD
      put32(&id[516], 1);                    // NN
      put32(&id[536], 1u | 1u << 20);        // SGLS: SGLs, offset addressing
      put32(&id[1792], (8192 + 64) / 16);    // IOCCSZ
      put32(&id[1796], 1);                   // IORCSZ
    } else {
      const uint64_t nsze = ns_bytes / lba_size;
      put64(&id[0], nsze);
      put64(&id[8], nsze);
      put64(&id[16], nsze);
      uint8_t lbads = 0;
      while ((1u << lbads) < lba_size) ++lbads;
      id[130] = lbads;
    }
    if (identify) identify(cns, id);
    data(id);
    resp(kScSuccess);
  } else if (cmd.opc == kOpRead) {
    const uint64_t off = le64(sqe + 40) * lba_size;
    const uint64_t len = (uint64_t(le16(sqe + 48)) + 1) * lba_size;
    if (off + len > ns_bytes) {
      resp(kScLbaOutOfRange);
    } else {
      Bytes d(len);
      apps::pattern_fill(pattern_seed, off, d);
      data(d);
      resp(kScSuccess);
    }
  } else if (cmd.opc == kOpWrite && sqe[39] == kSglInCapsuleOffset) {
    resp(kScSuccess);  // (data not kept: tests read the pattern)
  } else {
    resp(kScInvalidOpcode);
  }
  if (answer) answer(cmd, a);
  out.insert(out.end(), a.begin(), a.end());
}

}  // namespace autonic::testbed
