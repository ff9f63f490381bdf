// A hostile NVMe/TCP controller (and host) cannot corrupt the other side's memory or data
// (issue #8). Each test reproduces one defect found by fuzzing: it failed before the fix (under
// ASan/UBSan, or with wrong data delivered) and passes after it. Every run is seeded and
// deterministic; a failure prints the seed and the attack to replay.
#include <gtest/gtest.h>

#include <cstring>
#include <iterator>
#include <utility>
#include <vector>
#include <set>

#include "common/inet_csum.h"
#include "l5p/nvme/identify.h"
#include "l5p/nvme/nvme_host.h"
#include "nic/nic.h"
#include "nic/plugins/nvme/nvme_plugin.h"
#include "nvme_fixture.h"
#include "proto/nvme/nvme_pdu.h"
#include "test_util.h"
#include "support/scripted_ctrl.h"
#include "testbed/testbed.h"

using namespace autonic;
using namespace autonic::testbed;
using namespace autonic::l5p::nvme;
using namespace autonic::proto::nvme;
using autonic::testing::ctr;

namespace {

// fio-like random reads from a scripted controller; `attack` installs the hostile behaviour.
Report run_against(const std::function<void(ScriptedCtrl&)>& attack, OffloadMode m = OffloadMode::kOn,
                   uint32_t io = 4096, uint32_t lba = 512, L5pKind l5p = L5pKind::kNvmeTcp, bool digests = true,
                   const char* rw = "randread") {
  ScenarioConfig c = autonic::testing::nvme_config(l5p, m, rw, io, 4, 64 * io);
  c.lba_size = lba;
  c.hdgst = c.ddgst = digests;
  c.stall_s = 2;
  auto ctrl = std::make_shared<ScriptedCtrl>();
  attack(*ctrl);
  c.nvme_peer = ctrl;
  return run_isolated(c);
}

std::string why(const Report& r) { return "outcome " + r.outcome + ", seed " + std::to_string(r.seed); }

}  // namespace

// The scripted controller itself is well-behaved unless told otherwise: the baseline verifies.
TEST(NvmeHostile, WellBehavedScriptedControllerVerifies) {
  for (OffloadMode m : {OffloadMode::kOff, OffloadMode::kOn}) {
    const Report r = run_against([](ScriptedCtrl&) {}, m);
    EXPECT_TRUE(r.verified) << why(r);
    EXPECT_EQ(r.delivered_wrong_bytes, 0u);
  }
  const Report t = run_against([](ScriptedCtrl&) {}, OffloadMode::kOn, 4096, 512, L5pKind::kNvmeTls);
  EXPECT_TRUE(t.verified) << why(t);
}

// ---- the host's start-up state machine (NvmeHost::InitState) ----

TEST(NvmeHostInit, EveryStateHasItsOwnName) {
  using S = NvmeHost::InitState;
  std::set<std::string> names;
  for (S s : {S::kIdle, S::kAdminConnect, S::kReadCap, S::kReadVs, S::kEnable, S::kWaitReady, S::kIdentifyCtrl,
              S::kIdentifyNs, S::kIoConnect, S::kReady}) {
    EXPECT_STRNE(NvmeHost::init_state_name(s), "?");
    names.insert(NvmeHost::init_state_name(s));
  }
  EXPECT_EQ(names.size(), 10u);
}

// The controller refuses the n-th start-up command: the host stops in that state and says which
// step failed -- the steps in the order of NVMe's controller initialization over Fabrics.
TEST(NvmeHostInit, ARefusedCommandFailsItsOwnStep) {
  const char* kStep[] = {"connect",  "property_get" /* CAP */, "property_get" /* VS */, "enable", "csts",
                         "identify" /* ctrl */, "identify" /* ns */, "io_connect"};
  for (unsigned n = 0; n < std::size(kStep); ++n) {
    const Report r = run_against([n](ScriptedCtrl& s) {
      s.answer = [n, &s, seen = 0u](const ScriptedCtrl::Cmd& c, Bytes& out) mutable {
        if (seen++ == n) out = s.capsule_resp(c.conn, c.cid, kScInvalidField);
      };
    });
    EXPECT_EQ(r.outcome, std::string("nvme:init_failed:") + kStep[n]) << "command " << n << ": " << why(r);
  }
  // CSTS.RDY = 0 after CC.EN = 1: the controller never became ready.
  const Report r = run_against([](ScriptedCtrl& s) {
    s.answer = [&s, seen = 0u](const ScriptedCtrl::Cmd& c, Bytes& out) mutable {
      if (seen++ == 4) out = s.capsule_resp(c.conn, c.cid, kScSuccess, 0);
    };
  });
  EXPECT_EQ(r.outcome, "nvme:init_failed:not_ready") << why(r);
}

// ---- defect 1: Identify data decides the host's arithmetic ----
TEST(NvmeHostile, IdentifyLbadsOutOfRangeFailsTheConnect) {
  for (uint8_t lbads : {0, 8, 13, 31, 32, 200}) {
    const Report r = run_against([lbads](ScriptedCtrl& s) {
      s.identify = [lbads](uint8_t cns, Bytes& d) { if (cns == 0) d[130] = lbads; };
    });
    EXPECT_EQ(r.outcome, "nvme:init_failed:identify_ns_lbads") << "LBADS " << int(lbads) << ": " << why(r);
    EXPECT_EQ(r.delivered_wrong_bytes, 0u);
  }
}

TEST(NvmeHostile, IdentifyUsesTheFormatFlbasSelects) {
  // Format 0 says 512-byte blocks, format 1 (selected) 4096: the host must use 4096 (Linux:
  // lbaf[flbas & 0xf]); reading format 0 would size every command wrong.
  const Report r = run_against([](ScriptedCtrl& s) {
    s.identify = [](uint8_t cns, Bytes& d) {
      if (cns != 0) return;
      const uint64_t nsze = le64(&d[0]);
      d[25] = 1;  // NLBAF: two formats
      d[26] = 1;  // FLBAS: the second
      d[128 + 2] = 9;
      d[132 + 2] = 12;
      put64(&d[0], nsze);
    };
  }, OffloadMode::kOn, 8192, 4096);
  EXPECT_TRUE(r.verified) << why(r);
}

TEST(NvmeHostile, IdentifyFieldsOutsideWhatTheHostSupports) {
  struct Case { const char* name; std::function<void(Bytes&)> tweak; const char* outcome; };
  const Case cases[] = {
      {"FLBAS past NLBAF", [](Bytes& d) { d[26] = 3; }, "nvme:init_failed:identify_ns_flbas"},
      {"FLBAS upper bits", [](Bytes& d) { d[26] = 0x20; }, "nvme:init_failed:identify_ns_flbas"},
      {"metadata", [](Bytes& d) { put16(&d[128], 8); }, "nvme:init_failed:identify_ns_metadata"},
      {"NSZE 0", [](Bytes& d) { put64(&d[0], 0); }, "nvme:init_failed:identify_ns_nsze"},
      {"NCAP > NSZE", [](Bytes& d) { put64(&d[8], le64(&d[0]) + 1); }, "nvme:init_failed:identify_ns_nsze"},
      {"NSZE overflows bytes", [](Bytes& d) { put64(&d[0], ~0ull); put64(&d[8], 0); },
       "nvme:init_failed:identify_ns_nsze"},
  };
  for (const Case& c : cases) {
    const Report r = run_against([&c](ScriptedCtrl& s) {
      s.identify = [&c](uint8_t cns, Bytes& d) { if (cns == 0) c.tweak(d); };
    });
    EXPECT_EQ(r.outcome, c.outcome) << c.name << ": " << why(r);
  }
}

TEST(NvmeHostile, HugeNamespaceDoesNotSizeTheWorkload) {
  // 2^40 blocks is a valid namespace, but the workload's bookkeeping follows its own
  // configuration, not the peer's claim (it would otherwise allocate a slot per I/O of it).
  const Report r = run_against([](ScriptedCtrl& s) {
    s.identify = [](uint8_t cns, Bytes& d) { if (cns == 0) { put64(&d[0], 1ull << 40); put64(&d[8], 1ull << 40); } };
  });
  EXPECT_TRUE(r.verified) << why(r);
}

TEST(NvmeHostile, MdtsBoundsTheIoSize) {
  // MDTS 1 with MPSMIN 0: 8 KiB per command; 64 KiB reads are refused before any is sent.
  const Report r = run_against([](ScriptedCtrl& s) {
    s.identify = [](uint8_t cns, Bytes& d) { if (cns == 1) d[77] = 1; };
  }, OffloadMode::kOn, 65536);
  EXPECT_EQ(r.outcome, "fio:io_size_exceeds_mdts") << why(r);
  const Report ok = run_against([](ScriptedCtrl& s) {
    s.identify = [](uint8_t cns, Bytes& d) { if (cns == 1) d[77] = 1; };
  }, OffloadMode::kOn, 8192);
  EXPECT_TRUE(ok.verified) << why(ok);
}

TEST(NvmeHostile, IdentifyParsersRejectShortData) {
  Bytes d(100, 0);
  CtrlInfo ci;
  NsInfo ni;
  EXPECT_TRUE(parse_identify_ctrl(d, 0, &ci).has_value());
  EXPECT_TRUE(parse_identify_ns(d, &ni).has_value());
}

// ---- defect 2: placement into a buffer whose request is gone ----
// The controller answers a read, then sends data for the same CID right behind the response --
// the next read on a reused CID, had the host already issued it. The NIC sees (and places) that
// data while the first read still holds the CID; the host must neither complete the first read
// with it nor hand the second read bytes placed in another buffer.
TEST(NvmeHostile, DataRightBehindTheResponseOnTheSameCid) {
  for (L5pKind l5p : {L5pKind::kNvmeTcp, L5pKind::kNvmeTls}) {
    for (OffloadMode m : {OffloadMode::kOff, OffloadMode::kOn}) {
      const Report r = run_against([](ScriptedCtrl& s) {
        s.answer = [&s](const ScriptedCtrl::Cmd& c, Bytes& out) {
          if (c.conn == 0 || c.opc != kOpRead) return;
          const uint32_t len = (uint32_t(le16(c.sqe + 48)) + 1) * s.lba_size;
          const Bytes junk(len, 0xA5);
          const Bytes extra = s.c2h_data(c.conn, c.cid, 0, junk, true);
          out.insert(out.end(), extra.begin(), extra.end());
        };
      }, m, 4096, 512, l5p);
      EXPECT_EQ(r.outcome, "nvme:data_out_of_range") << l5p_name(l5p) << " " << offload_name(m) << ": " << why(r);
      EXPECT_EQ(r.delivered_wrong_bytes, 0u) << l5p_name(l5p) << " " << offload_name(m);
      // With DDP the NIC placed part of it into the first read's buffer before the host parsed
      // the response: that read completed only once the parser had passed the placed bytes.
      if (m == OffloadMode::kOn) { EXPECT_GE(ctr(r.client, "nvme_fenced_completions"), 1u) << l5p_name(l5p); }
    }
  }
}

// "Success" for a read whose data never came would hand out whatever the buffer held before.
TEST(NvmeHostile, SuccessWithoutTheDataIsAFailedRead) {
  for (OffloadMode m : {OffloadMode::kOff, OffloadMode::kOn}) {
    const Report r = run_against([](ScriptedCtrl& s) {
      s.answer = [&s](const ScriptedCtrl::Cmd& c, Bytes& out) {
        if (c.conn != 0 && c.opc == kOpRead) out = s.capsule_resp(c.conn, c.cid, kScSuccess);
      };
    }, m);
    EXPECT_EQ(r.outcome, "nvme:io_error:status_4") << offload_name(m) << ": " << why(r);
    EXPECT_EQ(r.delivered_wrong_bytes, 0u);
    EXPECT_GE(ctr(r.client, "nvme_short_reads"), 1u);
  }
}

// NIC level: a teardown between two packets of one PDU stops placement at once, and what the
// NIC placed before is fenced. The buffer is freed right after its teardown: ASan catches any
// later write.
TEST(NvmeHostile, NicStopsPlacingTheMomentTheMappingIsDeleted) {
  nic::Nic n(nic::NicConfig{}, nullptr, CpuDomain::kClientNic);
  const FlowKey flow{0x0A000002, 0x0A000001, 4420, 40000};
  nic::SendDesc cr;
  cr.kind = nic::SendDesc::Kind::kCtxCreate;
  cr.ctx = 7;
  cr.dir = l5o::Direction::kRx;
  cr.flow = flow;
  cr.tcpsn = TcpSeq(1000);
  cr.state = std::make_shared<proto::nvme::NvmeL5State>(false, false, true);
  ASSERT_TRUE(n.post_send(std::move(cr)));
  auto* buf = new uint8_t[4096];
  nic::SendDesc add;
  add.kind = nic::SendDesc::Kind::kRrAdd;
  add.ctx = 7;
  add.rr_id = 1;
  add.rr = l5o::RrState{5, MutByteSpan(buf, 4096)};
  ASSERT_TRUE(n.post_send(std::move(add)));
  n.doorbell();
  ASSERT_FALSE(n.cmd_ring().empty());
  const nic::CmdCompletion created = n.cmd_ring().pop();
  ASSERT_EQ(created.kind, nic::SendDesc::Kind::kCtxCreate);
  ASSERT_TRUE(created.ok) << "the driver hands out a handle only for a context the NIC confirmed";
  // One C2HData PDU (CID 5, 4096 bytes), sent as two packets.
  Bytes pdu(24 + 4096, 0x5A);
  pdu[0] = 0x07; pdu[1] = kFlagLast; pdu[2] = 24; pdu[3] = 24;
  put32(&pdu[4], uint32_t(pdu.size()));
  std::memset(&pdu[8], 0, 16);
  put16(&pdu[8], 5);
  put32(&pdu[16], 4096);
  auto frame = [&](size_t off, size_t len) {
    Bytes f(kEthHeaderLen + 40 + len, 0);
    store_be16(&f[12], kEtherTypeIpv4);
    uint8_t* ip = &f[kEthHeaderLen];
    ip[0] = 0x45; store_be16(ip + 2, uint16_t(40 + len)); ip[8] = 64; ip[9] = 6;
    store_be32(ip + 12, flow.saddr); store_be32(ip + 16, flow.daddr);
    uint8_t* tcp = ip + 20;
    store_be16(tcp, flow.sport); store_be16(tcp + 2, flow.dport);
    store_be32(tcp + 4, 1000 + uint32_t(off));
    tcp[12] = 5 << 4;
    std::memcpy(tcp + 20, &pdu[off], len);
    store_be16(tcp + 16, tcp4_checksum(ip, 40 + len));
    return f;
  };
  n.deliver(frame(0, 1448));
  ASSERT_EQ(n.rx_ring().size(), 1u);
  const nic::RxCompletion c1 = n.rx_ring().pop();
  EXPECT_TRUE(c1.offloaded);
  ASSERT_EQ(c1.placed.size(), 1u);
  EXPECT_EQ(c1.placed[0].dst, buf);
  nic::SendDesc del;
  del.kind = nic::SendDesc::Kind::kRrDel;
  del.ctx = 7;
  del.rr_id = 1;
  ASSERT_TRUE(n.post_send(std::move(del)));
  n.doorbell();
  ASSERT_FALSE(n.cmd_ring().empty());
  const nic::CmdCompletion cc = n.cmd_ring().pop();
  EXPECT_TRUE(cc.ok);
  ASSERT_TRUE(cc.fence.has_value());
  EXPECT_EQ(*cc.fence, TcpSeq(1000 + 1448)) << "fence = end of the last byte placed";
  delete[] buf;  // the L5P lets go of it: the NIC must not touch it again
  n.deliver(frame(1448, 1448));
  n.deliver(frame(2896, pdu.size() - 2896));
  while (!n.rx_ring().empty()) EXPECT_TRUE(n.rx_ring().pop().placed.empty());
  EXPECT_EQ(n.offload_stats(l5o::L5Proto::kNvmeTcp).rx_ddp_stale, 1u);
}

// ---- defect 3: host and NIC framed a PDU differently ----
TEST(NvmeHostile, DataOffsetWithoutDataIsMalformed) {
  // plen == pdo > hlen: the bytes up to plen belong to no part of the PDU. Before the fix the
  // host took them for the next PDU and the NIC for padding -- a C2HData hidden there was
  // copied by the host over data the NIC had placed.
  uint8_t h[8] = {0x07, 0, 24, 64, 0, 0, 0, 0};
  put32(h + 4, 64);
  CommonHeader ch{};
  EXPECT_EQ(parse_common(ByteSpan(h, 8), &ch), HeaderError::kBadPdo);
  h[1] = kFlagDdgst;
  put32(h + 4, 68);
  EXPECT_EQ(parse_common(ByteSpan(h, 8), &ch), HeaderError::kBadPdo);
  nic::NvmePlugin plugin;
  EXPECT_FALSE(plugin.probe(ByteSpan(h, 8)));
}

TEST(NvmeHostile, HiddenPduInsidePaddingEndsTheConnection) {
  // A C2HData whose PDO == PLEN: everything after its header is "padding" to the NIC, and a
  // complete second C2HData (200 bytes of 0xEE for the same CID) to a host that ends the PDU
  // after its header. Before the fix the host copied those bytes over data the NIC had placed.
  for (OffloadMode m : {OffloadMode::kOff, OffloadMode::kOn}) {
    const Report r = run_against([](ScriptedCtrl& s) {
      s.answer = [&s](const ScriptedCtrl::Cmd& c, Bytes& out) {
        if (c.conn == 0 || c.opc != kOpRead) return;
        const Bytes hidden = s.c2h_data(c.conn, c.cid, 0, Bytes(200, 0xEE), false);
        Bytes front(24, 0);
        const uint32_t plen = uint32_t(24 + hidden.size());
        front[0] = 0x07; front[2] = 24; front[3] = uint8_t(plen);
        put32(&front[4], plen);
        put16(&front[8], c.cid);
        front.insert(front.end(), hidden.begin(), hidden.end());
        out.insert(out.begin(), front.begin(), front.end());
      };
    }, m, 4096, 512, L5pKind::kNvmeTcp, /*digests=*/false);
    EXPECT_EQ(r.outcome, "nvme:malformed_pdu") << offload_name(m) << ": " << why(r);
    EXPECT_EQ(r.delivered_wrong_bytes, 0u);
  }
}

// One framing for the queue and the NIC: on every header in a sweep, the NIC's probe accepts
// exactly what the queue's parser accepts (ICReq/ICResp aside: never offloaded), with the same
// length, and the layout the parser describes covers exactly plen bytes.
TEST(NvmeHostile, QueueAndNicFrameEveryHeaderAlike) {
  nic::NvmePlugin plugin;
  uint64_t accepted = 0;
  for (unsigned type = 0; type < 12; ++type)
    for (unsigned flags = 0; flags < 16; ++flags)
      for (unsigned hlen : {8u, 24u, 72u, 128u})
        for (unsigned pdo : {0u, 1u, 23u, 24u, 28u, 32u, 72u, 76u, 80u, 128u, 255u})
          for (uint32_t plen = 0; plen < 300; ++plen) {
            uint8_t h[8] = {uint8_t(type), uint8_t(flags), uint8_t(hlen), uint8_t(pdo), 0, 0, 0, 0};
            put32(h + 4, plen);
            CommonHeader ch{};
            const bool ok = parse_common(ByteSpan(h, 8), &ch) == HeaderError::kNone;
            const auto probed = plugin.probe(ByteSpan(h, 8));
            const bool offloadable = ok && type > 1;
            ASSERT_EQ(probed.has_value(), offloadable) << "type " << type << " flags " << flags << " pdo " << pdo << " plen " << plen;
            if (!ok) continue;
            ++accepted;
            if (probed) { ASSERT_EQ(*probed, plen); }
            ASSERT_EQ(framed_len(ch), plen) << "type " << type << " flags " << flags << " pdo " << pdo << " plen " << plen;
            ASSERT_EQ(ch.pdo != 0, ch.data_len() > 0);
            if (type == 6 || type == 7) { ASSERT_GT(ch.data_len(), 0u); }
          }
  EXPECT_GT(accepted, 1000u);
}

// ---- R2Ts: each byte of a write leaves once ----
// A write the controller solicits with R2Ts (16 KiB: past the 8 KiB in-capsule limit). `r2ts`
// lists the (offset, length) of the R2Ts it sends, then it answers success.
Report run_r2ts(std::vector<std::pair<uint32_t, uint32_t>> r2ts, uint32_t io = 16384) {
  return run_against([r2ts](ScriptedCtrl& s) {
    s.answer = [&s, r2ts](const ScriptedCtrl::Cmd& c, Bytes& out) {
      if (c.opc != kOpWrite) return;
      out.clear();
      for (auto [off, len] : r2ts) {
        const Bytes r = s.r2t(c.conn, c.cid, 1, off, len);
        out.insert(out.end(), r.begin(), r.end());
      }
      const Bytes r = s.capsule_resp(c.conn, c.cid, kScSuccess);
      out.insert(out.end(), r.begin(), r.end());
    };
  }, OffloadMode::kOn, io, 512, L5pKind::kNvmeTcp, true, "randwrite");
}

TEST(NvmeHostile, R2tsInOrderAreServed) {
  // (The scripted controller keeps no data: the run ends "ok", every write answered, each of
  // its two R2Ts served with one H2CData.)
  const Report r = run_r2ts({{0, 8192}, {8192, 8192}});
  EXPECT_EQ(r.outcome, "ok") << why(r);
  EXPECT_EQ(ctr(r.client, "nvme_r2t"), 2 * 64u) << why(r);
  EXPECT_EQ(ctr(r.client, "nvme_h2c_pdus"), 2 * 64u) << why(r);
  EXPECT_EQ(ctr(r.client, "nvme_cmd_errors"), 0u) << why(r);
}

// Before the fix the host answered every R2T with the bytes it named, so a controller's 24-byte
// R2Ts, repeated, made the host queue the write's whole buffer again each time.
TEST(NvmeHostile, AnR2tForBytesAlreadySolicitedFailsTheQueue) {
  for (const auto& r2ts : std::vector<std::vector<std::pair<uint32_t, uint32_t>>>{
           {{0, 16384}, {0, 16384}},        // the same R2T twice
           {{0, 8192}, {4096, 8192}},       // overlapping the first
           {{8192, 8192}, {0, 8192}}}) {    // going back
    const Report r = run_r2ts(r2ts);
    EXPECT_EQ(r.outcome, "nvme:bad_r2t") << why(r);
    EXPECT_EQ(ctr(r.client, "nvme_r2t"), 1u) << why(r);
    EXPECT_EQ(ctr(r.client, "nvme_h2c_pdus"), 1u) << "only the first R2T's data left: " << why(r);
  }
}

TEST(NvmeHostile, AnR2tForAnInCapsuleWriteFailsTheQueue) {
  const Report r = run_r2ts({{0, 4096}}, 4096);  // 4 KiB: the data went in the capsule
  EXPECT_EQ(r.outcome, "nvme:bad_r2t") << why(r);
  EXPECT_EQ(ctr(r.client, "nvme_h2c_pdus"), 0u) << why(r);
}
