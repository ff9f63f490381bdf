// NVMe/TCP against Linux 6.1 (issue #10), in-process and deterministic (no clock, no TCP):
// (a) a scripted host replaying what a Linux 6.1 nvme-tcp host sends on `nvme connect` and an
//     8 MiB O_DIRECT write + read-back, against our controller, every response checked;
// (b) our host against a scripted controller that behaves like nvmet-tcp (support/
//     nvmet_like_ctrl.h): connect, 8 MiB written and read back, one H2CData per R2T.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "l5p/nvme/ctrl_state.h"
#include "l5p/nvme/nvme_ctrl.h"
#include "l5p/nvme/nvme_host.h"
#include "proto/nvme/nvme_pdu.h"
#include "support/mem_transport.h"
#include "support/nvmet_like_ctrl.h"
#include "support/pdu_codec.h"
#include "nvme_fixture.h"
#include "testbed/testbed.h"

using namespace autonic;
using namespace autonic::l5p::nvme;
using namespace autonic::proto::nvme;
using autonic::testing::MemTransport;
using autonic::testing::RawPdu;

namespace {

constexpr const char* kSubNqn = "nqn.2014-08.org.nvmexpress:autonic-test";
constexpr const char* kHostNqn = "nqn.2014-08.org.nvmexpress:uuid:0b5e0b5e-0000-4000-8000-000000000001";

Bytes pattern(size_t n, uint32_t seed) {
  Bytes b(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& v : b) v = uint8_t((x = x * 1103515245u + 12345u) >> 16);
  return b;
}

// ---- (a) a Linux 6.1 host, scripted ----
struct Resp {
  uint16_t status = 0xFFFF, sqhd = 0;
  uint64_t dw0 = 0;
  Bytes data;  // C2HData, in order
  bool answered = false;
};

struct LinuxConn {
  MemTransport* t = nullptr;
  uint16_t next_cid = 0;
  std::vector<std::pair<uint16_t, uint16_t>> others;  // (CID, status) answered meanwhile: AERs

  // ICReq as nvme_tcp_init_connection sends it: PFV 0, HPDA 0, both digests, MAXR2T 0.
  RawPdu icreq() {
    Bytes ic(128, 0);
    ic[2] = 128;
    put32(&ic[4], 128);
    ic[11] = 3;
    t->deliver(ic);
    Bytes out = t->take();
    auto v = autonic::testing::pop_pdus(out);
    return v.empty() ? RawPdu{} : v[0];
  }
  // One command; what comes back for it (data, then the CapsuleResp), each PDU's digests checked.
  Resp cmd(uint8_t* sqe, ByteSpan incap = {}, Bytes* h2c_src = nullptr) {
    const uint16_t cid = next_cid++;
    put16(sqe + 2, cid);
    t->deliver(autonic::testing::make_pdu(true, true, uint8_t(PduType::kCapsuleCmd), 0, sqe, incap));
    return collect(cid, h2c_src);
  }
  Resp collect(uint16_t cid, Bytes* h2c_src) {
    Resp r;
    Bytes out = t->take();
    for (size_t round = 0; round < 64 && !r.answered; ++round) {
      for (const RawPdu& p : autonic::testing::pop_pdus(out)) {
        EXPECT_TRUE(p.digests_ok);
        if (p.type == uint8_t(PduType::kC2HData)) {
          EXPECT_EQ(le32(p.spec() + 4), r.data.size());  // in order, no gaps
          r.data.insert(r.data.end(), p.data.begin(), p.data.end());
        } else if (p.type == uint8_t(PduType::kR2T) && h2c_src) {
          answer_r2t(p, *h2c_src);
        } else if (p.type == uint8_t(PduType::kCapsuleResp)) {
          if (le16(p.spec() + 12) != cid) {
            others.emplace_back(le16(p.spec() + 12), uint16_t(le16(p.spec() + 14) >> 1));
            continue;
          }
          r.status = uint16_t(le16(p.spec() + 14) >> 1);
          r.dw0 = le64(p.spec());
          r.sqhd = le16(p.spec() + 8);
          r.answered = true;
        } else {
          ADD_FAILURE() << "unexpected PDU type " << int(p.type);
        }
      }
      Bytes more = t->take();
      out.insert(out.end(), more.begin(), more.end());
    }
    return r;
  }
  // nvme_tcp_setup_h2c_data_pdu: H2CData of at most MAXH2CDATA each, LAST on the final one.
  void answer_r2t(const RawPdu& r2t, const Bytes& src) {
    const DataFields f = data_fields(r2t.hdr.data());
    for (uint32_t o = 0; o < f.length; o += 128 * 1024) {
      const uint32_t n = std::min<uint32_t>(128 * 1024, f.length - o);
      uint8_t spec[16] = {};
      put16(spec, f.cccid);
      put16(spec + 2, f.ttag);
      put32(spec + 4, f.offset + o);
      put32(spec + 8, n);
      t->deliver(autonic::testing::make_pdu(true, true, uint8_t(PduType::kH2CData), o + n == f.length ? kFlagLast : 0,
                                            spec, ByteSpan(&src[f.offset + o], n)));
    }
  }
};

void sqe_fabrics(uint8_t* s, uint8_t fct) {
  std::memset(s, 0, 64);
  s[0] = kOpFabrics;
  s[1] = 0x40;
  s[4] = fct;
}

Resp connect(LinuxConn& c, uint16_t qid, uint16_t cntlid, const char* subnqn = kSubNqn, uint16_t sqsize = 127) {
  uint8_t s[64];
  sqe_fabrics(s, kFcConnect);
  put32(s + 32, 1024);
  s[39] = kSglInCapsuleOffset;
  put16(s + 42, qid);
  put16(s + 44, sqsize);
  if (qid == 0) put32(s + 48, 5000);  // KATO: NVME_DEFAULT_KATO 5 s, in ms
  Bytes d(1024, 0);
  for (int i = 0; i < 16; ++i) d[size_t(i)] = uint8_t(0xA0 + i);  // HOSTID
  put16(&d[16], cntlid);
  std::memcpy(&d[256], subnqn, std::strlen(subnqn));
  std::memcpy(&d[512], kHostNqn, std::strlen(kHostNqn));
  return c.cmd(s, d);
}

Resp prop_get(LinuxConn& c, uint32_t ofst, bool eight) {
  uint8_t s[64];
  sqe_fabrics(s, kFcPropertyGet);
  s[40] = eight ? 1 : 0;
  put32(s + 44, ofst);
  return c.cmd(s);
}

Resp prop_set_cc(LinuxConn& c, uint32_t cc) {
  uint8_t s[64];
  sqe_fabrics(s, kFcPropertySet);
  put32(s + 44, 0x14);
  put32(s + 48, cc);
  return c.cmd(s);
}

// An admin command with data to the host (SGL: transport data block, as nvme_tcp_set_sg_host_data).
Resp admin(LinuxConn& c, uint8_t opc, uint32_t nsid, uint32_t len, uint32_t cdw10, uint32_t cdw11 = 0,
           uint32_t cdw14 = 0) {
  uint8_t s[64] = {};
  s[0] = opc;
  s[1] = 0x40;
  put32(s + 4, nsid);
  put32(s + 32, len);
  s[39] = kSglTransportDataBlock;
  put32(s + 40, cdw10);
  put32(s + 44, cdw11);
  put32(s + 56, cdw14);
  return c.cmd(s);
}

Resp io(LinuxConn& c, bool write, uint64_t slba, uint32_t nlb, Bytes* src) {
  uint8_t s[64] = {};
  s[0] = write ? kOpWrite : kOpRead;
  s[1] = 0x40;
  put32(s + 4, 1);
  put32(s + 32, nlb * 512);
  s[39] = kSglTransportDataBlock;
  put64(s + 40, slba);
  put16(s + 48, uint16_t(nlb - 1));
  return c.cmd(s, {}, src);
}

struct CtrlRig {
  l5p::nvme::NvmeStats st;
  std::unique_ptr<NvmeController> ctrl;
  CtrlRig() {
    CtrlConfig cc;
    cc.subnqn = kSubNqn;
    ctrl = std::make_unique<NvmeController>(Namespace::ram(16u << 20, 512), QueueConfig{}, st, cc);
  }
  LinuxConn open() {
    auto t = std::make_unique<MemTransport>();
    LinuxConn c{t.get()};
    ctrl->accept(std::move(t));
    return c;
  }
};

}  // namespace

TEST(NvmeLinuxHost, IcRespAndAdminBringUpAsLinuxExpects) {
  CtrlRig rig;
  LinuxConn a = rig.open();
  const RawPdu ic = a.icreq();
  ASSERT_EQ(ic.type, uint8_t(PduType::kICResp));
  EXPECT_EQ(le16(&ic.hdr[8]), 0);       // PFV
  EXPECT_EQ(ic.hdr[10], 0);             // CPDA: Linux refuses any other
  EXPECT_EQ(ic.hdr[11], 3);             // both digests, as asked (else "digest flag is cleared")
  const uint32_t maxh2c = le32(&ic.hdr[12]);
  EXPECT_TRUE(maxh2c >= 4096 && maxh2c % 4 == 0);

  // nvmf_connect_admin_queue: CNTLID FFFFh, KATO 5 s; the answer's DW0 is the new CNTLID.
  const Resp con = connect(a, 0, 0xFFFF, kSubNqn, 31);
  ASSERT_EQ(con.status, kScSuccess);
  const uint16_t cntlid = uint16_t(con.dw0);
  EXPECT_NE(cntlid, 0);
  EXPECT_LT(cntlid, 0xFFF0);
  EXPECT_EQ(con.sqhd, 1);  // the Connect consumed one SQ entry

  // nvme_enable_ctrl: CAP (8 bytes), CC with IOSQES/IOCQES/EN, CSTS.RDY; then VS.
  const Resp cap = prop_get(a, 0x00, true);
  ASSERT_EQ(cap.status, kScSuccess);
  EXPECT_GE(cap.dw0 & 0xFFFF, 127u);              // MQES
  EXPECT_TRUE((cap.dw0 >> 37) & 1);                // CSS: NVM
  EXPECT_EQ(prop_get(a, 0x00, false).status, kScInvalidField | kDnr) << "CAP is 8 bytes";
  EXPECT_EQ(prop_get(a, 0x1C, false).dw0 & 1, 0u) << "not ready before CC.EN";
  EXPECT_EQ(prop_set_cc(a, 0x00460001).status, kScSuccess);
  EXPECT_EQ(prop_get(a, 0x1C, false).dw0, 1u) << "CSTS.RDY";
  EXPECT_EQ(prop_get(a, 0x08, false).dw0, 0x00010400u);

  // nvme_init_identify + nvme_tcp_setup_ctrl's checks.
  const Resp idc = admin(a, kOpIdentify, 0, 4096, 0x01);
  ASSERT_EQ(idc.status, kScSuccess);
  ASSERT_EQ(idc.data.size(), 4096u);
  const Bytes& d = idc.data;
  EXPECT_EQ(le16(&d[78]), cntlid) << "Mismatching cntlid";
  EXPECT_NE(le16(&d[320]), 0) << "keep-alive support is mandatory for fabrics";
  EXPECT_NE(le16(&d[514]), 0) << "MAXCMD";
  EXPECT_NE(le32(&d[536]) & 3, 0u) << "Mandatory sgls are not supported";
  EXPECT_GE(le32(&d[1792]), 4u);
  EXPECT_GE(le32(&d[1796]), 1u);
  EXPECT_EQ(le16(&d[1800]), 0) << "icdoff is not supported";
  EXPECT_EQ(d[111], 1) << "CNTRLTYPE: I/O controller";
  EXPECT_STREQ(reinterpret_cast<const char*>(&d[768]), kSubNqn);
  EXPECT_EQ(admin(a, kOpIdentify, 0, 4096, 0x06).status, kScSuccess) << "CNS 06h, CSI NVM";
  EXPECT_EQ(admin(a, kOpIdentify, 0, 4096, 0x06, 0x01000000).status, kScInvalidField | kDnr) << "CSI 1";
  // LPA bit 1: the commands supported and effects log (nvme_get_effects_log).
  const Resp eff = admin(a, kOpGetLogPage, 0, 4096, 0x05 | (1023u << 16));
  ASSERT_EQ(eff.status, kScSuccess);
  EXPECT_EQ(le32(&eff.data[1024 + 4 * kOpRead]) & 1, 1u);
  // nvme_set_queue_count: 2 I/O queues asked (0-based), granted.
  const Resp nq = admin(a, kOpSetFeatures, 0, 0, kFidNumQueues, 1 | 1u << 16);
  EXPECT_EQ(nq.status, kScSuccess);
  EXPECT_EQ(nq.dw0, 1u | 1u << 16);
  EXPECT_EQ(admin(a, kOpSetFeatures, 0, 0, kFidAsyncEventCfg, kOaes).status, kScSuccess);  // nvme_enable_aen
  EXPECT_EQ(admin(a, kOpSetFeatures, 0, 0, kFidNumQueues | 0x80000000u, 0).status, kScFeatNotSaveable | kDnr);
  EXPECT_EQ(admin(a, kOpGetFeatures, 0, 0, kFidKeepAliveTimer).dw0, 5000u) << "KATO from Connect";
  EXPECT_EQ(admin(a, kOpGetFeatures, 0, 0, kFidTempThreshold).dw0, 0x0157u) << "nvme_hwmon_init";
  EXPECT_EQ(admin(a, kOpGetLogPage, 0xFFFFFFFF, 512, 0x02 | (127u << 16)).status, kScSuccess) << "SMART";
  EXPECT_EQ(admin(a, kOpKeepAlive, 0, 0, 0).status, kScSuccess);
  EXPECT_EQ(admin(a, 0x80, 0, 0, 0).status, kScInvalidOpcode | kDnr) << "Format NVM: not supported";
  EXPECT_EQ(admin(a, kOpGetLogPage, 0, 4096, 0x0C | (1023u << 16)).status, kScInvalidField | kDnr) << "no ANA";
  EXPECT_EQ(admin(a, kOpGetLogPage, 0, 4096, 0x02 | (127u << 16)).status, kScInvalidField | kDnr)
      << "length not what NUMD says";

  // nvme_scan_work: active namespace list, descriptors (NGUID + CSI), namespace.
  const Resp list = admin(a, kOpIdentify, 0, 4096, 0x02);
  ASSERT_EQ(list.status, kScSuccess);
  EXPECT_EQ(le32(&list.data[0]), 1u);
  EXPECT_EQ(le32(&list.data[4]), 0u);
  const Resp desc = admin(a, kOpIdentify, 1, 4096, 0x03);
  ASSERT_EQ(desc.status, kScSuccess);
  EXPECT_EQ(desc.data[0], 0x02);
  EXPECT_EQ(desc.data[1], 16);
  EXPECT_EQ(desc.data[20], 0x04);
  const Resp idn = admin(a, kOpIdentify, 1, 4096, 0x00);
  ASSERT_EQ(idn.status, kScSuccess);
  EXPECT_EQ(le64(&idn.data[0]), (16u << 20) / 512);
  EXPECT_EQ(idn.data[130], 9);
  EXPECT_EQ(0, std::memcmp(&idn.data[104], &desc.data[4], 16)) << "one NGUID";
  EXPECT_EQ(admin(a, kOpIdentify, 2, 4096, 0x00).status, kScInvalidNs | kDnr);

  // An AER is held (no event), then ends with the controller's reset (CC.EN 0) and shutdown.
  uint8_t aer[64] = {};
  aer[0] = kOpAsyncEvent;
  aer[1] = 0x40;
  EXPECT_FALSE(a.cmd(aer).answered);
  const uint16_t aer_cid = uint16_t(a.next_cid - 1);
  const Resp reset = prop_set_cc(a, 0x00460000);
  EXPECT_EQ(reset.status, kScSuccess);
  ASSERT_EQ(a.others.size(), 1u);
  EXPECT_EQ(a.others[0].first, aer_cid);
  EXPECT_EQ(a.others[0].second, kScAbortSqDeletion) << "the held AER ends with the reset";
  EXPECT_EQ(prop_get(a, 0x1C, false).dw0 & 1, 0u);
  EXPECT_EQ(admin(a, kOpIdentify, 0, 4096, 0x01).status, kScCmdSeqError | kDnr) << "disabled";
  EXPECT_EQ(prop_set_cc(a, 0x00000001).status, kScSuccess) << "EN with IOSQES 0";
  EXPECT_EQ(prop_get(a, 0x1C, false).dw0 & 3, 2u) << "CSTS.CFS (nvmet_start_ctrl)";
}

TEST(NvmeLinuxHost, AnIcRespTcpCannotTakeWholeEndsTheConnectionInsteadOfCuttingIt) {
  // TCP took 100 of the ICResp's 128 bytes: sending the rest later (or not at all) would let the
  // host read the next PDU's bytes as the ICResp's tail. The queue fails, says why, and aborts.
  CtrlRig rig;
  auto t = std::make_unique<MemTransport>();
  MemTransport* tp = t.get();
  tp->copy_room = 100;
  rig.ctrl->accept(std::move(t));
  LinuxConn a{tp};
  a.icreq();
  EXPECT_EQ(rig.ctrl->failure(), "nvme:send_buffer_full");
  EXPECT_FALSE(tp->alive()) << "the connection is aborted, its partial ICResp with it";
  uint8_t sqe[64] = {};
  sqe[0] = 0x7F;  // Fabrics Connect: never answered on a failed queue
  sqe[4] = 0x01;
  tp->deliver(autonic::testing::make_pdu(true, true, uint8_t(PduType::kCapsuleCmd), 0, sqe, {}));
  EXPECT_TRUE(tp->take().empty()) << "nothing follows the cut ICResp";
}

// Connect rules (nvmet fabrics-cmd.c) and the data path of `nvme connect` + an 8 MiB O_DIRECT
// write and read-back over two I/O queues (Linux opens one per CPU), digests on.
TEST(NvmeLinuxHost, ConnectRulesAndEightMiBWriteReadBack) {
  CtrlRig rig;
  LinuxConn a = rig.open();
  a.icreq();
  LinuxConn stray = rig.open();
  stray.icreq();
  uint8_t rd[64] = {};
  rd[0] = kOpRead;
  EXPECT_EQ(stray.cmd(rd).status, kScInvalidOpcode | kDnr) << "Connect comes first";
  const Resp disc = connect(stray, 0, 0xFFFF, "nqn.2014-08.org.nvmexpress.discovery");
  EXPECT_EQ(disc.status, kScConnectInvalidParam | kDnr) << "no discovery service here";
  EXPECT_EQ(disc.dw0, 1u << 16 | 256) << "IATTR 1, IPO: SUBNQN";
  EXPECT_EQ(connect(stray, 0, 5).status, kScConnectInvalidParam | kDnr) << "admin CNTLID must be FFFFh";
  EXPECT_EQ(connect(stray, 0, 0xFFFF, kSubNqn, 0).status, kScConnectInvalidParam | kDnr) << "SQSIZE 0";

  const uint16_t cntlid = uint16_t(connect(a, 0, 0xFFFF, kSubNqn, 31).dw0);
  ASSERT_EQ(prop_set_cc(a, 0x00460001).status, kScSuccess);
  ASSERT_EQ(admin(a, kOpSetFeatures, 0, 0, kFidNumQueues, 1 | 1u << 16).dw0, 1u | 1u << 16);
  EXPECT_EQ(rig.ctrl->controllers(), 1u);

  LinuxConn q[2] = {rig.open(), rig.open()};
  for (uint16_t i = 0; i < 2; ++i) {
    q[i].icreq();
    EXPECT_EQ(connect(q[i], uint16_t(i + 1), uint16_t(cntlid + 1)).status, kScConnectInvalidParam | kDnr)
        << "no such controller";
    const Resp r = connect(q[i], uint16_t(i + 1), cntlid);
    ASSERT_EQ(r.status, kScSuccess);
    EXPECT_EQ(uint16_t(r.dw0), cntlid);
  }
  LinuxConn q3 = rig.open();
  q3.icreq();
  EXPECT_EQ(connect(q3, 3, cntlid).status, kScInvalidQid | kDnr) << "2 I/O queues granted";

  // 8 MiB in 1 MiB commands (R2T, H2CData of 128 KiB), alternating queues; then read back.
  const Bytes want = pattern(8u << 20, 10);
  for (uint32_t k = 0; k < 8; ++k) {
    Bytes src(want.begin() + long(k) * (1 << 20), want.begin() + long(k + 1) * (1 << 20));
    const Resp w = io(q[k % 2], true, uint64_t(k) * 2048, 2048, &src);
    ASSERT_EQ(w.status, kScSuccess) << "write " << k;
  }
  uint16_t last_sqhd = 0;
  for (uint32_t k = 0; k < 8; ++k) {
    const Resp r = io(q[k % 2], false, uint64_t(k) * 2048, 2048, nullptr);
    ASSERT_EQ(r.status, kScSuccess) << "read " << k;
    ASSERT_EQ(r.data.size(), 1u << 20);
    EXPECT_EQ(0, std::memcmp(r.data.data(), &want[size_t(k) << 20], 1u << 20)) << "read " << k;
    if (k % 2) last_sqhd = r.sqhd;
  }
  EXPECT_EQ(last_sqhd, 1 + 8) << "queue 2: Connect, 4 writes, 4 reads consumed";
  EXPECT_EQ(rig.st.nvme_ddgst_errors, 0u);
  EXPECT_EQ(rig.st.nvme_hdgst_errors, 0u);
}

// ---- (b) our host against an nvmet-like controller ----
namespace {

struct HostRig {
  autonic::testing::NvmetLikeCtrl ctrl;
  std::vector<MemTransport*> ts;
  l5p::nvme::NvmeStats st;
  std::unique_ptr<NvmeHost> host;
  bool ready = false;
  std::string failed;

  explicit HostRig(const HostConfig& hc, unsigned ioq = 2) {
    QueueConfig qc;
    host = std::make_unique<NvmeHost>(
        [this] {
          auto t = std::make_unique<MemTransport>();
          ts.push_back(t.get());
          return t;
        },
        qc, qc, st, [this] { ready = true; }, [this](const std::string& o) { failed = o; }, ioq, hc);
  }
  // Moves bytes both ways until nothing moves.
  void pump() {
    for (bool any = true; any;) {
      any = false;
      for (size_t i = 0; i < ts.size(); ++i) {
        if (!ts[i]->up_done) {
          ts[i]->up();
          any = true;
        }
        const Bytes b = ts[i]->take();
        if (b.empty()) continue;
        any = true;
        const Bytes r = ctrl.on_bytes(unsigned(i), b);
        if (!r.empty()) ts[i]->deliver(r);
      }
    }
  }
};

HostConfig linux_host_config(const std::string& subnqn) {
  HostConfig hc;
  hc.subnqn = subnqn;
  hc.hostnqn = kHostNqn;
  return hc;
}

}  // namespace

// A controller serving connection after connection holds only the live ones: a connection the
// host closed goes at the next accept (before: every Conn, its queue and map, for the controller's
// life -- a leak per connection for `net nvme serve`).
TEST(NvmeLinuxHost, ClosedConnectionsGoAtTheNextAccept) {
  CtrlRig rig;
  LinuxConn live = rig.open();
  ASSERT_EQ(live.icreq().type, uint8_t(PduType::kICResp));
  for (int i = 0; i < 100; ++i) {
    LinuxConn c = rig.open();
    ASSERT_EQ(c.icreq().type, uint8_t(PduType::kICResp));
    ASSERT_EQ(connect(c, 0, 0xFFFF, kSubNqn, 31).status, kScSuccess);
    if (i % 2) c.t->deliver(Bytes(8, 0xEE));  // half of them end in a fatal error first
    c.t->peer_close();
    EXPECT_LE(rig.ctrl->connections(), 3u) << "connection " << i;
  }
  EXPECT_EQ(rig.ctrl->controllers(), 0u) << "each closed admin queue took its controller along";
  rig.open();
  EXPECT_EQ(rig.ctrl->connections(), 2u) << "the live one and the new one";
}

TEST(NvmeNvmetTarget, OurHostConnectsWritesAndReadsBackEightMiB) {
  autonic::testing::NvmetLikeCtrl probe;
  HostRig rig(linux_host_config(probe.subnqn));
  rig.host->start();
  rig.pump();
  ASSERT_TRUE(rig.ready) << rig.failed;
  EXPECT_EQ(rig.ctrl.cc, 0x00460001u) << "IOSQES 6 / IOCQES 4, or nvmet sets CSTS.CFS";
  EXPECT_EQ(rig.ctrl.connect_kato_ms, 0u) << "no keep-alive: nvmet runs no KATO timer";
  EXPECT_EQ(rig.ctrl.hostnqn, kHostNqn);
  EXPECT_EQ(rig.host->cntlid(), autonic::testing::NvmetLikeCtrl::kCntlid);
  ASSERT_EQ(rig.host->max_transfer(), kMaxIoBytes) << "MDTS 0, MAXH2CDATA 4 MiB: our PDU bound";

  const Bytes want = pattern(8u << 20, 3);
  int done = 0, bad = 0;
  auto submit = [&](bool write, uint32_t k, uint32_t bytes, std::shared_ptr<Bytes> buf) {
    BlockIo io;
    io.write = write;
    io.slba = uint64_t(k) * bytes / 512;
    io.nlb = bytes / 512;
    io.buf = std::move(buf);
    io.done = [&](uint16_t st) { ++done, bad += st != kScSuccess; };
    ASSERT_TRUE(rig.host->submit(std::move(io)));
  };
  const uint32_t chunk = uint32_t(kMaxIoBytes);
  for (uint32_t k = 0; k < (8u << 20) / chunk; ++k)
    submit(true, k, chunk, std::make_shared<Bytes>(want.begin() + long(k) * chunk, want.begin() + long(k + 1) * chunk));
  rig.pump();
  EXPECT_EQ(done, 4);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(rig.ctrl.r2ts, 4u);
  EXPECT_EQ(rig.ctrl.h2c_per_r2t_violations, 0u) << "one H2CData per R2T";
  EXPECT_EQ(0, std::memcmp(rig.ctrl.ns.data(), want.data(), want.size()));
  // Small writes go in-capsule (IOCCSZ says 16 KiB; we send at most 8 KiB inline).
  submit(true, 0, 4096, std::make_shared<Bytes>(want.begin(), want.begin() + 4096));
  rig.pump();
  EXPECT_EQ(rig.ctrl.writes_incapsule, 1u);

  std::vector<std::shared_ptr<Bytes>> back;
  for (uint32_t k = 0; k < (8u << 20) / chunk; ++k) {
    back.push_back(std::make_shared<Bytes>(chunk));
    submit(false, k, chunk, back.back());
  }
  rig.pump();
  EXPECT_EQ(done, 4 + 1 + 4);
  EXPECT_EQ(bad, 0);
  for (uint32_t k = 0; k < back.size(); ++k)
    EXPECT_EQ(0, std::memcmp(back[k]->data(), &want[size_t(k) * chunk], chunk)) << "read " << k;
  EXPECT_EQ(rig.ctrl.protocol_errors, 0u);
  EXPECT_EQ(rig.st.nvme_ddgst_errors, 0u);
}

// A CC the controller refuses (here: it wants other queue entry sizes than the IOSQES 6 /
// IOCQES 4 we write, as nvmet_start_ctrl refuses any CC without them) leaves it failed
// (CSTS.CFS), not ready: the host polls CSTS.RDY and gives up instead of sending Identify.
TEST(NvmeNvmetTarget, ControllerThatRefusesOurCcFailsTheHostNotReady) {
  autonic::testing::NvmetLikeCtrl probe;
  HostRig rig(linux_host_config(probe.subnqn), 1);
  rig.ctrl.required_iosqes = 7;
  rig.host->start();
  rig.pump();
  EXPECT_FALSE(rig.ready);
  EXPECT_EQ(rig.failed, "nvme:init_failed:not_ready");
  EXPECT_EQ(rig.ctrl.cc, 0x00460001u) << "IOSQES 6 / IOCQES 4, EN";
}

TEST(NvmeNvmetTarget, WrongSubsystemNqnFailsTheConnect) {
  HostRig rig(linux_host_config("nqn.2014-08.org.nvmexpress:someone-else"), 1);
  rig.host->start();
  rig.pump();
  EXPECT_FALSE(rig.ready);
  EXPECT_EQ(rig.failed, "nvme:init_failed:connect");
}

// Brings our host up against our own controller (in memory); its max_transfer(), 0 if not ready.
uint64_t max_transfer_against_our_ctrl(const HostConfig& hc) {
  l5p::nvme::NvmeStats cst;
  auto ctrl = std::make_shared<NvmeController>(Namespace::ram(16u << 20, 512), QueueConfig{}, cst, CtrlConfig{});
  std::vector<MemTransport*> hs;
  std::vector<MemTransport*> cs;
  l5p::nvme::NvmeStats hst;
  bool ready = false;
  std::string failed;
  NvmeHost host(
      [&] {
        auto h = std::make_unique<MemTransport>();
        auto c = std::make_unique<MemTransport>();
        hs.push_back(h.get());
        cs.push_back(c.get());
        ctrl->accept(std::move(c));
        return h;
      },
      QueueConfig{}, QueueConfig{}, hst, [&] { ready = true; }, [&](const std::string& o) { failed = o; }, 1, hc);
  host.start();
  for (bool any = true; any;) {
    any = false;
    for (size_t i = 0; i < hs.size(); ++i) {
      if (!hs[i]->up_done) hs[i]->up(), any = true;
      const Bytes a = hs[i]->take(), b = cs[i]->take();
      if (!a.empty()) cs[i]->deliver(a), any = true;
      if (!b.empty()) hs[i]->deliver(b), any = true;
    }
  }
  EXPECT_TRUE(ready) << failed;
  EXPECT_EQ(host.cntlid(), kCntlid);
  return ready ? host.max_transfer() : 0;
}

// Against our own controller: with one_h2c_per_r2t and data digests, I/Os stay within its
// MAXH2CDATA (128 KiB); by default (as a Linux host) only kMaxIoBytes bounds them -- larger
// writes go as several H2CData PDUs per R2T, each with its own data digest.
TEST(NvmeNvmetTarget, OneH2cDataPerR2tClampsWritesToMaxh2cdata) {
  HostConfig hc;
  EXPECT_EQ(max_transfer_against_our_ctrl(hc), l5p::nvme::kMaxIoBytes);
  hc.one_h2c_per_r2t = true;
  EXPECT_EQ(max_transfer_against_our_ctrl(hc), QueueConfig{}.maxh2cdata);
}

// The Linux wire through the whole model -- NIC offloads, loss, two I/O queues -- verifies:
// what a Linux peer needs costs our own pair nothing.
TEST(NvmeNvmetTarget, LinuxWireScenarioVerifies) {
  for (testbed::OffloadMode m : {testbed::OffloadMode::kOff, testbed::OffloadMode::kOn}) {
    testbed::ScenarioConfig c =
        autonic::testing::nvme_config(testbed::L5pKind::kNvmeTcp, m, "randrw", 64 * 1024, 8, 8u << 20);
    c.io_queues = 2;
    c.link.loss = 0.01;
    const testbed::Report r = testbed::run_isolated(c);
    EXPECT_TRUE(r.verified) << r.outcome << " " << autonic::testing::nvme_replay(c);
  }
}
