// NVMe/TCP: malformed PDUs from a scripted peer end in a TermReq with the right FES and a clean
// teardown; end-to-end workloads with and without the offloads (each run in its own process).
#include <gtest/gtest.h>

#include "l5p/nvme/nvme_ctrl.h"
#include "nvme_fixture.h"
#include "proto/nvme/nvme_pdu.h"
#include "support/raw_nvme_host.h"
#include "test_util.h"
#include "testbed/testbed.h"

using namespace autonic;
using namespace autonic::testbed;
using autonic::testing::ctr;
using namespace autonic::proto::nvme;
using autonic::l5p::nvme::kCntlid;

namespace {


std::string replay(const ScenarioConfig& c) { return autonic::testing::nvme_replay(c); }

ScenarioConfig nvme(OffloadMode m, const char* rw, uint32_t io, uint32_t depth, uint64_t bytes) {
  return autonic::testing::nvme_config(L5pKind::kNvmeTcp, m, rw, io, depth, bytes);
}

// ---- a scripted peer ----
// pdu() appends to `bytes`: the admin queue's script, or with io_queue the I/O queue's (QID 1),
// where Read / Write / Flush belong (an admin queue runs the admin command set).
struct Script {
  bool hd = false, dd = false;
  Bytes admin;  // with io_queue: the admin queue's set-up
  Bytes bytes;
  explicit Script(bool digests, bool io_queue = false) : hd(digests), dd(digests) {
    ic_req();
    connect(0, 0xFFFF);
    enable();
    if (!io_queue) return;
    admin = std::move(bytes);
    bytes.clear();
    ic_req();
    connect(1, kCntlid);
  }
  void ic_req() {
    Bytes ic(128, 0);
    ic[0] = 0x00;
    ic[2] = 128;
    put32(ic.data() + 4, 128);
    ic[11] = uint8_t((hd ? 1 : 0) | (dd ? 2 : 0));
    bytes.insert(bytes.end(), ic.begin(), ic.end());
  }
  // Fabrics Connect (admin queue: CNTLID FFFFh; I/O queue: the admin Connect's controller) and
  // CC.EN: a controller takes no other command before them. Their CIDs (FFxxh) are left out of
  // raw_first_status (RawNvmeHost::report).
  void connect(uint16_t qid, uint16_t cntlid) {
    Bytes sqe(64, 0);
    sqe[0] = kOpFabrics;
    sqe[1] = 0x40;
    put16(sqe.data() + 2, 0xFF00);
    sqe[4] = kFcConnect;
    put32(sqe.data() + 32, 1024);
    sqe[39] = kSglInCapsuleOffset;
    put16(sqe.data() + 42, qid);
    put16(sqe.data() + 44, 31);
    Bytes data(1024, 0);
    put16(data.data() + 16, cntlid);
    const std::string sub = "nqn.2026-11.io.autonic:ram", host = "nqn.2014-08.org.nvmexpress:uuid:test";
    std::copy(sub.begin(), sub.end(), data.begin() + 256);
    std::copy(host.begin(), host.end(), data.begin() + 512);
    pdu(0x04, sqe, data);
  }
  void enable() {  // IOSQES 6 / IOCQES 4, EN (nvmet_start_ctrl refuses other entry sizes)
    Bytes cc(64, 0);
    cc[0] = kOpFabrics;
    put16(cc.data() + 2, 0xFF01);
    cc[4] = kFcPropertySet;
    put32(cc.data() + 44, 0x14);
    put32(cc.data() + 48, 0x00460001);
    pdu(0x04, cc);
  }
  // A well-formed PDU (per the negotiated digests) unless the caller tweaks it after.
  size_t pdu(uint8_t type, const Bytes& spec, const Bytes& data = {}) {
    const uint8_t hlen = *hlen_for(type);
    const size_t at = bytes.size();
    Bytes h(hlen, 0);
    h[0] = type;
    h[1] = uint8_t((hd ? kFlagHdgst : 0) | (!data.empty() && dd ? kFlagDdgst : 0));
    h[2] = hlen;
    const uint32_t hb = hlen + (hd ? 4 : 0);
    h[3] = data.empty() ? 0 : uint8_t(hb);
    put32(h.data() + 4, uint32_t(hb + data.size() + (!data.empty() && dd ? 4 : 0)));
    std::copy(spec.begin(), spec.end(), h.begin() + 8);
    bytes.insert(bytes.end(), h.begin(), h.end());
    if (hd) { uint8_t d[4]; put32(d, digest(h)); bytes.insert(bytes.end(), d, d + 4); }
    bytes.insert(bytes.end(), data.begin(), data.end());
    if (!data.empty() && dd) { uint8_t d[4]; put32(d, digest(data)); bytes.insert(bytes.end(), d, d + 4); }
    return at;
  }
  // A Read or Write of `len` bytes (512-byte blocks) from block `slba` on namespace 1.
  static Bytes io_cmd(uint8_t opc, uint16_t cid, uint64_t slba, uint32_t len, uint8_t sgl) {
    Bytes sqe(64, 0);
    sqe[0] = opc;
    sqe[1] = 0x40;
    put16(sqe.data() + 2, cid);
    put32(sqe.data() + 4, 1);
    put32(sqe.data() + 32, len);
    sqe[39] = sgl;
    put64(sqe.data() + 40, slba);
    put16(sqe.data() + 48, uint16_t(len / 512 - 1));
    return sqe;
  }
  static Bytes write_cmd(uint16_t cid, uint32_t len, bool incap) {
    return io_cmd(kOpWrite, cid, 0, len, incap ? kSglInCapsuleOffset : kSglTransportDataBlock);
  }
  static Bytes read_cmd(uint16_t cid, uint64_t slba, uint32_t nlb) {
    return io_cmd(kOpRead, cid, slba, nlb * 512, kSglTransportDataBlock);
  }
  static Bytes h2c(uint16_t cid, uint16_t ttag, uint32_t off, uint32_t len) {
    Bytes s(16, 0);
    put16(s.data(), cid);
    put16(s.data() + 2, ttag);
    put32(s.data() + 4, off);
    put32(s.data() + 8, len);
    return s;
  }
};

Report run_script(const Script& s, L5pKind l5p = L5pKind::kNvmeTcp) {
  ScenarioConfig c = autonic::testing::nvme_config(l5p, OffloadMode::kOn, "randread", 4096, 1, 4096);
  c.nvme_peer = s.admin.empty() ? std::make_shared<RawNvmeHost>(s.bytes)
                                : std::make_shared<RawNvmeHost>(s.admin, s.bytes);
  c.stall_s = 2;
  return run_isolated(c);
}

double x(const Report& r, const char* k) {
  auto it = r.extra.find(k);
  return it == r.extra.end() ? -2 : it->second;
}

}  // namespace

TEST(NvmeMalformed, UnknownPduType) {
  Script s(false);
  const size_t at = s.pdu(0x04, Bytes(64, 0));
  s.bytes[at] = 0x08;  // no such PDU type
  const Report r = run_script(s);
  EXPECT_EQ(r.outcome, "controller:nvme:malformed_pdu");
  EXPECT_EQ(x(r, "raw_termreq_fes"), 1) << "peer got " << x(r, "raw_rx_bytes") << " bytes";
}

TEST(NvmeMalformed, BadHeaderLength) {
  Script s(false);
  const size_t at = s.pdu(0x04, Bytes(64, 0));
  s.bytes[at + 2] = 70;
  const Report r = run_script(s);
  EXPECT_EQ(r.outcome, "controller:nvme:malformed_pdu");
  EXPECT_EQ(x(r, "raw_termreq_fes"), 1);
}

TEST(NvmeMalformed, PlenShorterThanHeader) {
  Script s(false);
  const size_t at = s.pdu(0x04, Bytes(64, 0));
  put32(s.bytes.data() + at + 4, 40);
  EXPECT_EQ(run_script(s).outcome, "controller:nvme:malformed_pdu");
}

TEST(NvmeMalformed, DataOffsetInsideHeader) {
  Script s(false, true);
  const size_t at = s.pdu(0x04, Script::write_cmd(1, 512, true), Bytes(512, 7));
  s.bytes[at + 3] = 10;
  EXPECT_EQ(run_script(s).outcome, "controller:nvme:malformed_pdu");
}

TEST(NvmeMalformed, BadHeaderDigest) {
  Script s(true, true);
  const size_t at = s.pdu(0x04, Script::write_cmd(1, 512, true), Bytes(512, 7));
  s.bytes[at + 72] ^= 0x01;  // HDGST
  const Report r = run_script(s);
  EXPECT_EQ(r.outcome, "controller:nvme:header_digest_error");
  EXPECT_EQ(x(r, "raw_termreq_fes"), 3);
  EXPECT_EQ(ctr(r.server, "nvme_hdgst_errors"), 1u);
}

TEST(NvmeMalformed, BadDataDigestFailsTheCommandOnly) {
  Script s(true, true);
  const size_t at = s.pdu(0x04, Script::write_cmd(1, 512, true), Bytes(512, 7));
  s.bytes[at + 76 + 512] ^= 0x01;  // DDGST
  const Report r = run_script(s);
  EXPECT_EQ(x(r, "raw_first_status"), kScDataTransferError);
  EXPECT_EQ(ctr(r.server, "nvme_ddgst_errors"), 1u);
  EXPECT_EQ(x(r, "raw_termreq_fes"), -1);  // the connection lives on
}

TEST(NvmeMalformed, PduBeforeConnectionSetup) {
  Script s(false);
  s.bytes.clear();
  s.pdu(0x04, Bytes(64, 0));
  const Report r = run_script(s);
  EXPECT_EQ(r.outcome, "controller:nvme:pdu_sequence_error");
}

TEST(NvmeMalformed, DataBeyondTheCommand) {
  Script s(false, true);
  s.pdu(0x04, Script::write_cmd(1, 4096, false));            // R2T for 4096 bytes (ttag 1)
  s.pdu(0x06, Script::h2c(1, 1, 4096, 512), Bytes(512, 1));  // past its end
  const Report r = run_script(s);
  EXPECT_EQ(r.outcome, "controller:nvme:data_out_of_range");
  EXPECT_EQ(x(r, "raw_termreq_fes"), 4);
  EXPECT_EQ(ctr(r.server, "nvme_r2t"), 1u) << "the write was solicited (an I/O queue's command)";
}

TEST(NvmeMalformed, H2CDataWithoutR2T) {
  Script s(false, true);
  s.pdu(0x06, Script::h2c(9, 1, 0, 512), Bytes(512, 1));
  EXPECT_EQ(run_script(s).outcome, "controller:nvme:data_out_of_range");
}

// Issue #8 defect 4: an H2CData without data used to be counted by the length its header
// claimed, and with LAST the controller stored its zero-filled staging buffer and answered
// success. Now it is a malformed PDU (TermReq FES 1, FEI = PLEN's offset) and nothing is stored.
TEST(NvmeMalformed, H2CDataWithoutDataIsMalformed) {
  Script s(false, true);
  s.pdu(0x04, Script::write_cmd(1, 4096, false));         // R2T for 4096 bytes (ttag 1)
  const size_t at = s.pdu(0x06, Script::h2c(1, 1, 0, 4096));  // claims 4096 bytes, carries none
  s.bytes[at + 1] |= kFlagLast;
  const Report r = run_script(s);
  EXPECT_EQ(r.outcome, "controller:nvme:malformed_pdu");
  EXPECT_EQ(x(r, "raw_termreq_fes"), 1);
  EXPECT_EQ(x(r, "raw_first_status"), -1) << "no response, least of all success";
  EXPECT_EQ(ctr(r.server, "nvme_r2t"), 1u);
}

TEST(NvmeMalformed, H2CDataWithADataOffsetButNoData) {
  Script s(true, true);
  s.pdu(0x04, Script::write_cmd(1, 4096, false));
  const size_t at = s.pdu(0x06, Script::h2c(1, 1, 0, 4096));
  s.bytes[at + 1] |= kFlagLast;
  s.bytes[at + 3] = 28;  // PDO right after the header digest, PLEN unchanged (28): no data
  put32(s.bytes.data() + at + 24, digest(ByteSpan(s.bytes.data() + at, 24)));  // HDGST still valid
  const Report r = run_script(s);
  EXPECT_EQ(r.outcome, "controller:nvme:malformed_pdu");
  EXPECT_EQ(x(r, "raw_first_status"), -1);
}

TEST(NvmeMalformed, OverlappingH2CDataIsRefused) {
  // Two PDUs for the first half, none for the second: counting lengths said "complete".
  Script s(false, true);
  s.pdu(0x04, Script::write_cmd(1, 4096, false));
  s.pdu(0x06, Script::h2c(1, 1, 0, 2048), Bytes(2048, 1));
  const size_t at = s.pdu(0x06, Script::h2c(1, 1, 0, 2048), Bytes(2048, 2));
  s.bytes[at + 1] |= kFlagLast;
  const Report r = run_script(s);
  EXPECT_EQ(r.outcome, "controller:nvme:data_out_of_range");
  EXPECT_EQ(x(r, "raw_termreq_fes"), 4);
  EXPECT_EQ(x(r, "raw_first_status"), -1);
  EXPECT_EQ(ctr(r.server, "nvme_r2t"), 1u);
}

// A host may hold at most its queue's entries in flight (Connect SQSIZE 31 here: 32); the
// controller, as nvmet_tcp, keeps a pool of twice that and ends the queue past it. A command
// counts until its response went to TCP, so a host that reads nothing while it sends reads
// cannot make the controller queue their data without end (before: 160 x 64 KiB = 10 MiB queued
// for 11 KiB of capsules, and more for every further capsule).
TEST(NvmeMalformed, MoreCommandsThanTheQueueHoldsEndTheQueue) {
  for (const unsigned n : {32u, 160u}) {
    Script s(false, true);
    for (unsigned i = 0; i < n; ++i) s.pdu(0x04, Script::read_cmd(uint16_t(i), i * 128, 128));  // 64 KiB each
    const Report r = run_script(s);
    if (n == 32) {
      EXPECT_EQ(x(r, "raw_termreq_fes"), -1) << "a queue's worth is served";
      EXPECT_EQ(x(r, "raw_first_status"), kScSuccess);
      EXPECT_EQ(ctr(r.server, "nvme_c2h_pdus"), n) << r.outcome;
    } else {
      // (its TermReq, FES 2, queues behind the data TCP has not taken: the run ends first)
      EXPECT_EQ(r.outcome, "controller:nvme:too_many_commands");
      EXPECT_LT(ctr(r.server, "nvme_c2h_pdus"), 2 * 32u + 16u) << "answered: what TCP took, then 64 in flight";
    }
  }
}

// MDTS is 2 MiB (Identify Controller byte 77 = 9): a longer transfer is refused before anything
// is staged or read (it was unlimited: 65 536 blocks, 32 MiB, for one capsule).
TEST(NvmeMalformed, TransferBeyondMdtsIsRefused) {
  Script s(false, true);
  s.pdu(0x04, Script::read_cmd(1, 0, 8192));  // 4 MiB
  const Report r = run_script(s);
  EXPECT_EQ(x(r, "raw_first_status"), kScInvalidField | l5p::nvme::kDnr);
  EXPECT_EQ(ctr(r.server, "nvme_c2h_pdus"), 0u);
  EXPECT_EQ(x(r, "raw_termreq_fes"), -1);
}

// Found by fuzz_nvme_stream: the controller sent 4096 bytes of Identify data whatever length the
// command's SGL described. It must refuse the command instead (Invalid Field).
TEST(NvmeMalformed, IdentifyLongerThanItsSglIsRefused) {
  Script s(false);
  Bytes sqe(64, 0);
  sqe[0] = kOpIdentify;
  sqe[1] = 0x40;
  put16(sqe.data() + 2, 3);
  put32(sqe.data() + 32, 100);  // SGL length: 100 bytes
  sqe[39] = kSglTransportDataBlock;
  sqe[40] = 1;  // CNS: controller
  s.pdu(0x04, sqe);
  const Report r = run_script(s);
  EXPECT_EQ(x(r, "raw_first_status"), kScInvalidField);
  EXPECT_EQ(x(r, "raw_rx_bytes"), 128 + 3 * 24) << "ICResp, Connect's and CC's CapsuleResps, one more, no C2HData";
}

TEST(NvmeMalformed, DuplicateCid) {
  Script s(false, true);
  s.pdu(0x04, Script::write_cmd(5, 4096, false));  // waits for data: CID 5 stays in flight
  s.pdu(0x04, Script::write_cmd(5, 4096, false));
  const Report r = run_script(s);
  EXPECT_EQ(r.outcome, "controller:nvme:duplicate_cid");
  EXPECT_EQ(ctr(r.server, "nvme_r2t"), 1u);
}

// The command sets apart (Base 2.0 §3.3.1): a Write on the admin queue is opcode 01h of the
// admin set (Create I/O Submission Queue, which a fabrics controller does not have), refused as
// an invalid opcode -- no R2T, no data solicited.
TEST(NvmeMalformed, IoCommandOnTheAdminQueueIsAnAdminOpcode) {
  Script s(false);
  s.pdu(0x04, Script::write_cmd(1, 4096, false));
  const Report r = run_script(s);
  EXPECT_EQ(x(r, "raw_first_status"), kScInvalidOpcode | 0x4000);
  EXPECT_EQ(ctr(r.server, "nvme_r2t"), 0u);
}

// Over TLS the same checks hold, and the TermReq reaches the peer inside a TLS record before the
// session closes (the scripted peer speaks TLS; its bytes are the records' content).
TEST(NvmeMalformed, OverTlsUnknownPduType) {
  Script s(false);
  const size_t at = s.pdu(0x04, Bytes(64, 0));
  s.bytes[at] = 0x08;
  const Report r = run_script(s, L5pKind::kNvmeTls);
  EXPECT_EQ(r.outcome, "controller:nvme:malformed_pdu");
  EXPECT_EQ(x(r, "raw_termreq_fes"), 1) << "peer got " << x(r, "raw_rx_bytes") << " bytes";
}

TEST(NvmeMalformed, OverTlsBadHeaderDigest) {
  Script s(true, true);
  const size_t at = s.pdu(0x04, Script::write_cmd(1, 512, true), Bytes(512, 7));
  s.bytes[at + 72] ^= 0x01;  // HDGST
  const Report r = run_script(s, L5pKind::kNvmeTls);
  EXPECT_EQ(r.outcome, "controller:nvme:header_digest_error");
  EXPECT_EQ(x(r, "raw_termreq_fes"), 3);
}

TEST(NvmeMalformed, OverTlsBadDataDigestFailsTheCommandOnly) {
  Script s(true, true);
  const size_t at = s.pdu(0x04, Script::write_cmd(1, 512, true), Bytes(512, 7));
  s.bytes[at + 76 + 512] ^= 0x01;  // DDGST: checked by the controller's NIC inside the record
  const Report r = run_script(s, L5pKind::kNvmeTls);
  EXPECT_EQ(x(r, "raw_first_status"), kScDataTransferError);
  EXPECT_EQ(ctr(r.server, "nvme_ddgst_errors"), 1u);
  EXPECT_EQ(x(r, "raw_termreq_fes"), -1);
}

TEST(NvmeMalformed, WrongDirectionPdu) {
  Script s(false);
  s.pdu(0x07, Script::h2c(1, 0, 0, 512), Bytes(512, 1));  // C2HData sent to a controller
  EXPECT_EQ(run_script(s).outcome, "controller:nvme:wrong_direction_pdu");
}

// ---- end to end ----
TEST(NvmeScenario, RandomReadsArePlacedByTheNic) {
  const ScenarioConfig c = nvme(OffloadMode::kOn, "randread", 256 * 1024, 32, 32u << 20);
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  EXPECT_GE(double(ctr(r.client, "rx_nvme_tcp_ddp_bytes")), 0.99 * double(c.bytes)) << replay(c);
  EXPECT_LE(double(ctr(r.client, "nvme_sw_copy_bytes")), 0.01 * double(c.bytes)) << replay(c);
  EXPECT_LE(double(ctr(r.client, "nvme_sw_crc_bytes")), 0.01 * double(c.bytes)) << replay(c);
  EXPECT_GT(ctr(r.client, "rx_nvme_tcp_setup"), 0u);
  EXPECT_EQ(ctr(r.client, "rx_nvme_tcp_setup"), ctr(r.client, "rx_nvme_tcp_teardown"));
  EXPECT_GT(r.extra.at("iops"), 0);
}

TEST(NvmeScenario, LargeWritesUseSeveralH2CDataPerR2T) {
  ScenarioConfig c = nvme(OffloadMode::kOn, "randwrite", 512 * 1024, 4, 8u << 20);
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  const uint64_t writes = c.bytes / c.io_size;
  EXPECT_EQ(ctr(r.client, "nvme_r2t"), writes);
  EXPECT_EQ(ctr(r.client, "nvme_h2c_pdus"), writes * 4) << "MAXH2CDATA 128K: 4 PDUs per 512K R2T";
  EXPECT_GE(double(ctr(r.client, "tx_nvme_tcp_crc_bytes")), 0.99 * double(c.bytes));
}

TEST(NvmeScenario, SmallWritesTravelInCapsule) {
  ScenarioConfig c = nvme(OffloadMode::kOn, "randwrite", 4096, 8, 2u << 20);
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
  EXPECT_EQ(ctr(r.client, "nvme_r2t"), 0u);
  EXPECT_EQ(ctr(r.client, "nvme_h2c_pdus"), 0u);
}

TEST(NvmeScenario, SoftwareAndOffloadGiveIdenticalWireBytes) {
  uint64_t hash = 0;
  for (OffloadMode m : {OffloadMode::kOff, OffloadMode::kTx, OffloadMode::kRx, OffloadMode::kOn, OffloadMode::kCrc,
                        OffloadMode::kDdp}) {
    ScenarioConfig c = nvme(m, "randrw", 64 * 1024, 8, 4u << 20);
    c.link.loss = 0.01;
    c.link.reorder = 0.01;
    const Report r = run_isolated(c);
    ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
    if (m == OffloadMode::kOff) hash = r.trace_hash;
    EXPECT_EQ(r.trace_hash, hash) << replay(c);
  }
}

TEST(NvmeScenario, LossAndReorderResync) {
  for (const char* rw : {"randread", "randwrite"}) {
    ScenarioConfig c = nvme(OffloadMode::kOn, rw, 64 * 1024, 8, 8u << 20);
    c.link.loss = 0.02;
    c.link.reorder = 0.02;
    const Report r = run_isolated(c);
    ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
    EXPECT_GT(ctr(r.client, "rx_nvme_tcp_resync") + ctr(r.server, "rx_nvme_tcp_resync"), 0u) << replay(c);
  }
}

TEST(NvmeScenario, TamperNeverDeliversWrongData) {
  for (OffloadMode m : {OffloadMode::kOff, OffloadMode::kOn}) {
    ScenarioConfig c = nvme(m, "randrw", 4096, 16, 8u << 20);
    c.link.tamper = 0.001;
    const Report r = run_isolated(c);
    EXPECT_NE(r.outcome, "ok") << replay(c);
    EXPECT_EQ(r.delivered_wrong_bytes, 0u) << replay(c);
    // However the run ended, no buffer is left mapped in the NIC (every add_rr_state undone).
    EXPECT_EQ(ctr(r.client, "rx_nvme_tcp_setup"), ctr(r.client, "rx_nvme_tcp_teardown")) << replay(c);
  }
}

TEST(NvmeScenario, SeveralIoQueuesEachWithItsOwnContexts) {
  for (L5pKind l5p : {L5pKind::kNvmeTcp, L5pKind::kNvmeTls}) {
    ScenarioConfig c = autonic::testing::nvme_config(l5p, OffloadMode::kOn, "randread", 64 * 1024, 32, 16u << 20);
    c.io_queues = 4;
    const Report r = run_isolated(c);
    ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
    // One NVMe RX context per I/O queue (the admin queue is not offloaded) ...
    EXPECT_EQ(ctr(r.client, "rx_nvme_tcp_sk_add"), 4u) << replay(c);
    if (l5p == L5pKind::kNvmeTls) {
      EXPECT_EQ(ctr(r.client, "rx_tls_sk_add"), 5u) << "admin + 4 I/O sessions " << replay(c);
    }
    // ... and the reads, spread over the queues (least busy first), were placed by the NICs.
    const uint64_t skip = ctr(r.client, "nvme_ddp_skip_bytes"), copied = ctr(r.client, "nvme_sw_copy_bytes");
    EXPECT_GE(double(skip), 0.99 * double(skip + copied)) << replay(c);
    EXPECT_EQ(ctr(r.server, "nvme_cmds"), ctr(r.client, "nvme_cmds")) << replay(c);
  }
}

TEST(NvmeScenario, FourKLbaAndFileBackedNamespace) {
  ScenarioConfig c = nvme(OffloadMode::kOn, "randrw", 16 * 1024, 4, 2u << 20);
  c.lba_size = 4096;
  c.ns_file = ::testing::TempDir() + "autonic_ns.img";
  const Report r = run_isolated(c);
  ASSERT_TRUE(r.verified) << r.outcome << " " << replay(c);
}

// The fault matrix of #3, for NVMe/TCP and for NVMe/TCP over TLS (composed offloads).
class NvmeFaultMatrix
    : public ::testing::TestWithParam<std::tuple<L5pKind, OffloadMode, double, double>> {};

TEST_P(NvmeFaultMatrix, ByteExactAndDeterministic) {
  auto [l5p, mode, loss, reorder] = GetParam();
  ScenarioConfig c = autonic::testing::nvme_config(l5p, mode, "randrw", 32 * 1024, 8, 2u << 20);
  c.link.loss = loss;
  c.link.reorder = reorder;
  c.link.dup = 0.01;
  autonic::testing::run_exact_twice(c, replay(c));
}

// With TSO and GRO on (issue #12): PDUs cut mid-digest by the NIC, placed ranges inside merged
// segments.
class NvmeGroTsoMatrix : public ::testing::TestWithParam<std::tuple<L5pKind, OffloadMode, double, double>> {};

TEST_P(NvmeGroTsoMatrix, ByteExactAndDeterministic) {
  auto [l5p, mode, loss, reorder] = GetParam();
  ScenarioConfig c = autonic::testing::nvme_config(l5p, mode, "randrw", 32 * 1024, 8, 2u << 20);
  c.tso = c.gro = true;
  c.link.loss = loss;
  c.link.reorder = reorder;
  c.link.dup = 0.01;
  const Report a = autonic::testing::run_exact_twice(c, replay(c));
  EXPECT_GT(ctr(a.client, "nic_tx_tso_packets") + ctr(a.server, "nic_tx_tso_packets"), 0u) << replay(c);
}

INSTANTIATE_TEST_SUITE_P(Nvme, NvmeGroTsoMatrix,
                         ::testing::Combine(::testing::Values(L5pKind::kNvmeTcp, L5pKind::kNvmeTls),
                                            ::testing::Values(OffloadMode::kOff, OffloadMode::kOn),
                                            ::testing::Values(0.0, 0.05), ::testing::Values(0.0, 0.05)));

INSTANTIATE_TEST_SUITE_P(Nvme, NvmeFaultMatrix,
                         ::testing::Combine(::testing::Values(L5pKind::kNvmeTcp),
                                            ::testing::Values(OffloadMode::kOff, OffloadMode::kCrc, OffloadMode::kDdp,
                                                              OffloadMode::kOn),
                                            ::testing::Values(0.0, 0.02, 0.05), ::testing::Values(0.0, 0.05)));
INSTANTIATE_TEST_SUITE_P(NvmeTls, NvmeFaultMatrix,
                         ::testing::Combine(::testing::Values(L5pKind::kNvmeTls),
                                            ::testing::Values(OffloadMode::kOff, OffloadMode::kTls, OffloadMode::kOn),
                                            ::testing::Values(0.0, 0.02, 0.05), ::testing::Values(0.0, 0.05)));
