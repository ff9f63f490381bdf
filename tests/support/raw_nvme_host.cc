#include "support/raw_nvme_host.h"

#include "proto/nvme/nvme_pdu.h"

namespace autonic::testbed {

l5p::StreamHandler* RawNvmeHost::attach(l5p::Stream& s) {
  s_ = &s;
  return this;
}

void RawNvmeHost::on_writable() {
  while (sent_ < script_.size()) {
    const size_t n = s_->send(ByteSpan(script_.data() + sent_, script_.size() - sent_));
    if (n == 0) return;
    sent_ += n;
  }
}

void RawNvmeHost::report(std::map<std::string, double>& extra) const {
  using proto::nvme::PduType;
  const Bytes& g = got_;
  extra["raw_first_status"] = -1;
  extra["raw_termreq_fes"] = -1;
  extra["raw_rx_bytes"] = double(g.size());
  for (size_t o = 128; o + 8 <= g.size();) {
    const uint32_t plen = proto::nvme::le32(&g[o + 4]);
    if (plen < 8 || o + plen > g.size()) break;
    // (CIDs FFxxh: the script's set-up, Connect and CC.EN)
    if (g[o] == uint8_t(PduType::kCapsuleResp) && extra["raw_first_status"] < 0 && o + 8 + 16 <= g.size() &&
        proto::nvme::le16(&g[o + 8 + 12]) < 0xFF00)
      extra["raw_first_status"] = double(proto::nvme::le16(&g[o + 8 + 14]) >> 1);
    if (g[o] == uint8_t(PduType::kC2HTermReq)) extra["raw_termreq_fes"] = double(proto::nvme::le16(&g[o + 8]));
    o += plen;
  }
}

}  // namespace autonic::testbed
