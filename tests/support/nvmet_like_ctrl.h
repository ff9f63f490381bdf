// A scripted controller that behaves like Linux 6.1's nvmet-tcp target where our host meets it
// (drivers/nvme/target/tcp.c, fabrics-cmd.c, admin-cmd.c, core.c): ICResp MAXH2CDATA 4 MiB
// (NVMET_TCP_MAXH2CDATA) and CPDA 0, ICReq HPDA / MAXR2T 0 only; a dynamic CNTLID; CC refused
// (CSTS.CFS) unless IOSQES 6 / IOCQES 4 (nvmet_start_ctrl); Identify with nvmet's fabrics fields
// (MDTS 0, KAS, MAXCMD, SGLS, IOCCSZ for 16 KiB in-capsule data); a read's data in ONE C2HData
// PDU; writes beyond in-capsule size solicited by ONE R2T for the whole transfer -- and, as 6.1
// checks a data digest over the whole command, more than one H2CData for an R2T counted as a
// violation and failed (nvmet tears the queue down). Bytes in, bytes out, per connection.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "common/bytes.h"
#include "support/pdu_codec.h"

namespace autonic::testing {

class NvmetLikeCtrl {
 public:
  static constexpr uint16_t kCntlid = 7;
  static constexpr uint32_t kMaxH2cData = 0x400000;
  std::string subnqn = "nqn.2014-08.org.nvmexpress:nvmet-like";
  Bytes ns = Bytes(16u << 20, 0);  // namespace 1, 512-byte blocks
  // The CC.IOSQES it requires (nvmet: 6, 64-byte SQEs); another value makes any host's enable
  // fail (CSTS.CFS), for the host's not-ready path.
  uint8_t required_iosqes = 6;

  // What the host did, for the test to check.
  uint32_t h2c_per_r2t_violations = 0, protocol_errors = 0, connect_kato_ms = ~0u, cc = 0;
  std::string hostnqn, connect_subnqn;
  uint32_t max_h2c_pdu = 0, r2ts = 0, writes_incapsule = 0;

  Bytes on_bytes(unsigned conn, ByteSpan in);

 private:
  struct Write {
    uint64_t off = 0;
    uint32_t len = 0, got = 0, pdus = 0;
  };
  struct Conn {
    Bytes in;
    bool ic = false, hd = false, dd = false;
    uint16_t qid = 0xFFFF;
    std::map<uint16_t, Write> writes;  // by CID (= TTAG here)
  };
  void on_ic(Conn& c, const RawPdu& p, Bytes& out);
  void on_cmd(Conn& c, const RawPdu& p, Bytes& out);
  void on_fabrics(Conn& c, const uint8_t* sqe, const Bytes& data, Bytes& out);
  void on_io(Conn& c, const uint8_t* sqe, const Bytes& data, Bytes& out);
  void on_h2c(Conn& c, const RawPdu& p, Bytes& out);
  void resp(const Conn& c, Bytes& out, uint16_t cid, uint16_t status, uint64_t dw0 = 0) const;
  uint32_t csts_ = 0;
  std::map<unsigned, Conn> conns_;
};

}  // namespace autonic::testing
