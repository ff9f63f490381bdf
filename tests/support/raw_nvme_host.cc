#include "support/raw_nvme_host.h"

#include "proto/nvme/nvme_pdu.h"

namespace autonic::testbed {

namespace {

using proto::nvme::le16;
using proto::nvme::le32;
using proto::nvme::PduType;

// Calls f(type, pdu bytes) for each whole PDU in `b` from `from` on (plen-framed).
template <class F> void each_pdu(const Bytes& b, size_t from, F f) {
  for (size_t o = from; o + 8 <= b.size();) {
    const uint32_t plen = le32(&b[o + 4]);
    if (plen < 8 || o + plen > b.size()) return;
    f(b[o], &b[o], plen);
    o += plen;
  }
}

// A set-up command's CID (the scripts' Connect and CC.EN): left out of raw_first_status.
bool setup_cid(uint16_t cid) { return cid >= 0xFF00; }

}  // namespace

RawNvmeHost::RawNvmeHost(Bytes script, Bytes io_script) {
  conns_[0].script = std::move(script);
  conns_[1].script = std::move(io_script);
  for (Conn& c : conns_) c.host = this;
  each_pdu(conns_[0].script, 0, [this](uint8_t t, const uint8_t* p, uint32_t plen) {
    if (t == uint8_t(PduType::kCapsuleCmd) && plen >= 8 + 64 && setup_cid(le16(p + 10))) ++setup_cmds_;
  });
}

l5p::StreamHandler* RawNvmeHost::attach(l5p::Stream& s) {
  Conn& c = conns_[attached_ < 2 ? attached_++ : 1];
  c.s = &s;
  return &c;
}

// The I/O queue's Connect needs the controller the admin Connect made, and its commands a
// controller enabled by CC (nvmet_check_ctrl_status): both answered on the admin queue first.
bool RawNvmeHost::io_may_start() const {
  size_t answered = 0;
  each_pdu(conns_[0].got, 128, [&answered](uint8_t t, const uint8_t* p, uint32_t plen) {
    if (t == uint8_t(PduType::kCapsuleResp) && plen >= 8 + 16 && setup_cid(le16(p + 8 + 12))) ++answered;
  });
  return answered >= setup_cmds_;
}

void RawNvmeHost::Conn::on_data(ByteSpan d) {
  got.insert(got.end(), d.begin(), d.end());
  if (this == &host->conns_[0] && host->conns_[1].s) host->conns_[1].on_writable();
}

void RawNvmeHost::Conn::on_writable() {
  if (this == &host->conns_[1] && !host->io_may_start()) return;
  while (s && sent < script.size()) {
    const size_t n = s->send(ByteSpan(script.data() + sent, script.size() - sent));
    if (n == 0) return;
    sent += n;
  }
}

void RawNvmeHost::report(std::map<std::string, double>& extra) const {
  const Bytes& g = received();
  extra["raw_first_status"] = -1;
  extra["raw_termreq_fes"] = -1;
  extra["raw_rx_bytes"] = double(g.size());
  each_pdu(g, 128, [&extra](uint8_t t, const uint8_t* p, uint32_t plen) {
    if (t == uint8_t(PduType::kCapsuleResp) && extra["raw_first_status"] < 0 && plen >= 8 + 16 &&
        !setup_cid(le16(p + 8 + 12)))
      extra["raw_first_status"] = double(le16(p + 8 + 14) >> 1);
    if (t == uint8_t(PduType::kC2HTermReq)) extra["raw_termreq_fes"] = double(le16(p + 8));
  });
}

}  // namespace autonic::testbed
