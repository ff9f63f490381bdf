#include "l5p/nvme/ctrl_admin.h"

#include <algorithm>
#include <cstring>

#include "l5p/nvme/nvme_ctrl.h"
#include "proto/nvme/nvme_pdu.h"

namespace autonic::l5p::nvme {

using namespace proto::nvme;

namespace {

constexpr uint32_t kVs14 = 0x00010400;
constexpr uint64_t kMaxLogBytes = 1u << 20;  // a Get Log Page longer than this is refused (hostile peer)

AdminReply status(uint16_t s) { return AdminReply{s}; }
AdminReply with_data(Bytes d) {
  AdminReply r;
  r.data = std::make_shared<Bytes>(std::move(d));
  return r;
}

uint64_t fnv1a(const std::string& s, uint64_t h) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// ---- Identify (Base 2.0 §5.17) ----
AdminReply identify(const CtrlConfig& cfg, const CtrlState& st, const Namespace& ns, const uint8_t* sqe) {
  // The data goes where the command's SGL says, and only in the length it describes
  // (nvmet: nvmet_check_transfer_len(req, NVME_IDENTIFY_DATA_SIZE)).
  if (sqe[39] != kSglTransportDataBlock || le32(sqe + 32) != 4096) return status(kScInvalidField);
  const uint32_t nsid = le32(sqe + 4);
  switch (sqe[40]) {
    case 0x00:  // namespace; NN = 1, so any other NSID is not one of ours
      if (nsid != 1) return status(kScInvalidNs | kDnr);
      return with_data(identify_ns_data(cfg, ns));
    case 0x01:  // controller
      return with_data(identify_ctrl_data(cfg, st.cntlid, kIoccszBytes));
    case 0x02: {  // active namespace IDs above NSID (nvme_scan_ns_list)
      if (nsid >= 0xFFFFFFFE) return status(kScInvalidNs | kDnr);
      Bytes d(4096, 0);
      if (nsid < 1) put32(d.data(), 1);
      return with_data(std::move(d));
    }
    case 0x03: {  // namespace identification descriptors (nvme_identify_ns_descs): NGUID, CSI
      if (nsid != 1) return status(kScInvalidNs | kDnr);
      Bytes d(4096, 0);
      d[0] = 0x02;  // NIDT: NGUID
      d[1] = 16;
      ns_nguid(cfg, d.data() + 4);
      d[20] = 0x04;  // NIDT: Command Set Identifier
      d[21] = 1;
      d[24] = 0x00;  // NVM command set
      return with_data(std::move(d));
    }
    case 0x06:  // I/O command set specific controller (nvme_init_non_mdts_limits): NVM, no limits
      if (sqe[47] != 0x00) return status(kScInvalidField | kDnr);
      return with_data(Bytes(4096, 0));
    default:
      return status(kScInvalidField | kDnr);
  }
}

// ---- Get Log Page (Base 2.0 §5.16) ----
Bytes smart_log(const CtrlState& st) {
  Bytes d(512, 0);
  d[3] = 100;  // available spare (%)
  d[4] = 10;   // available spare threshold
  // Data units: thousands of 512-byte units, rounded up; commands counted as issued.
  put64(d.data() + 32, (st.read_units + 999) / 1000);
  put64(d.data() + 48, (st.write_units + 999) / 1000);
  put64(d.data() + 64, st.read_cmds);
  put64(d.data() + 80, st.write_cmds);
  return d;  // composite temperature 0, as nvmet reports it
}

Bytes effects_log() {
  Bytes d(4096, 0);
  for (uint8_t op : {kOpGetLogPage, kOpIdentify, kOpAbort, kOpSetFeatures, kOpGetFeatures, kOpAsyncEvent, kOpKeepAlive})
    put32(d.data() + 4 * op, 1);  // CSUPP
  put32(d.data() + 1024 + 4 * kOpFlush, 1);
  put32(d.data() + 1024 + 4 * kOpWrite, 1 | 2);  // CSUPP, LBCC (content changes)
  put32(d.data() + 1024 + 4 * kOpRead, 1);
  return d;
}

AdminReply get_log_page(const CtrlState& st, const uint8_t* sqe) {
  const uint8_t lid = sqe[40];
  const uint64_t len = ((uint64_t(le16(sqe + 44)) << 16 | le16(sqe + 42)) + 1) * 4;  // NUMDU:NUMDL, 0-based
  const uint64_t lpo = le64(sqe + 48);
  if (sqe[39] != kSglTransportDataBlock || le32(sqe + 32) != len || len > kMaxLogBytes)
    return status(kScInvalidField | kDnr);
  Bytes log;
  switch (lid) {
    case 0x01: log.assign(64, 0); break;  // error information: ELPE + 1 = 1 entry, none logged
    case 0x02: log = smart_log(st); break;
    case 0x03:                            // firmware slot information: slot 1 active
      log.assign(512, 0);
      log[0] = 1;
      std::memcpy(log.data() + 8, "1.0     ", 8);
      break;
    case 0x04: log.assign(4096, 0); break;  // changed namespace list: none changed
    case 0x05: log = effects_log(); break;
    default: return status(kScInvalidField | kDnr);  // ANA, discovery, telemetry, ...: not ours
  }
  if ((lpo & 3) != 0 || lpo > log.size()) return status(kScInvalidField | kDnr);
  Bytes d(len, 0);  // past the log's end: zeros (nvmet_zero_sgl)
  const size_t n = std::min<uint64_t>(len, log.size() - lpo);
  std::memcpy(d.data(), log.data() + lpo, n);
  return with_data(std::move(d));
}

// ---- Set / Get Features (Base 2.0 §5.27.1) ----
uint32_t num_queues_default(const CtrlConfig& cfg) {
  const uint32_t m = cfg.max_io_queues ? cfg.max_io_queues - 1u : 0u;
  return m | m << 16;
}

AdminReply set_features(const CtrlConfig& cfg, CtrlState& st, const uint8_t* sqe) {
  if (sqe[43] & 0x80) return status(kScFeatNotSaveable | kDnr);  // SV: nothing is saved here
  const uint32_t dw11 = le32(sqe + 44);
  switch (sqe[40]) {
    case kFidNumQueues: {  // nvme_set_queue_count: NSQR / NCQR, 0-based; FFFFh is invalid
      const uint32_t nsqr = dw11 & 0xFFFF, ncqr = dw11 >> 16;
      if (nsqr == 0xFFFF || ncqr == 0xFFFF || cfg.max_io_queues == 0) return status(kScInvalidField | kDnr);
      if (!st.io_qids.empty()) return status(kScCmdSeqError | kDnr);  // only before I/O queues exist
      st.nsqa = uint16_t(std::min<uint32_t>(nsqr, cfg.max_io_queues - 1u));
      st.ncqa = uint16_t(std::min<uint32_t>(ncqr, cfg.max_io_queues - 1u));
      st.queues_set = true;
      AdminReply r;
      r.dw0 = st.nsqa | uint32_t(st.ncqa) << 16;
      return r;
    }
    case kFidAsyncEventCfg: st.aec = dw11 & (0xFFu | kOaes); return status(kScSuccess);
    case kFidKeepAliveTimer: st.kato_ms = dw11; return status(kScSuccess);
    case kFidTempThreshold:  // composite sensor (TMPSEL 0), over-temperature (THSEL 0) only
      if ((dw11 >> 16) & 0x3F) return status(kScInvalidField | kDnr);
      st.temp_threshold = uint16_t(dw11);
      return status(kScSuccess);
    default: return status(kScInvalidField | kDnr);
  }
}

AdminReply get_features(const CtrlConfig& cfg, const CtrlState& st, const uint8_t* sqe) {
  const uint8_t sel = sqe[41] & 0x7;
  const uint8_t fid = sqe[40];
  const bool known = fid == kFidNumQueues || fid == kFidAsyncEventCfg || fid == kFidKeepAliveTimer ||
                     fid == kFidTempThreshold;
  if (!known || sel > 3) return status(kScInvalidField | kDnr);
  AdminReply r;
  if (sel == 3) {  // supported capabilities: changeable, not saveable, not per namespace
    r.dw0 = 0x4;
    return r;
  }
  const bool dflt = sel == 1;  // saved (2) = current: nothing is saved
  switch (fid) {
    case kFidNumQueues:
      r.dw0 = (dflt || !st.queues_set) ? num_queues_default(cfg) : (st.nsqa | uint32_t(st.ncqa) << 16);
      break;
    case kFidAsyncEventCfg: r.dw0 = dflt ? 0 : st.aec; break;
    case kFidKeepAliveTimer: r.dw0 = dflt ? 0 : st.kato_ms; break;
    case kFidTempThreshold:
      if ((le32(sqe + 44) >> 16) & 0x3F) return status(kScInvalidField | kDnr);
      r.dw0 = dflt ? 0x0157 : st.temp_threshold;
      break;
  }
  return r;
}

}  // namespace

AdminReply execute_admin(const CtrlConfig& cfg, CtrlState& st, const Namespace& ns, const uint8_t* sqe) {
  switch (sqe[0]) {
    case kOpIdentify: return identify(cfg, st, ns, sqe);
    case kOpGetLogPage: return get_log_page(st, sqe);
    case kOpSetFeatures: return set_features(cfg, st, sqe);
    case kOpGetFeatures: return get_features(cfg, st, sqe);
    case kOpKeepAlive: ++st.keep_alives; return status(kScSuccess);
    case kOpAbort: {  // Base 2.0 §5.1: DW0 bit 0 = 1, the command was not aborted
      AdminReply r;
      r.dw0 = 1;
      return r;
    }
    case kOpAsyncEvent: {  // held until an event (none is generated) or the controller's reset
      if (st.aers.size() > kAerl) return status(kScAerLimit | kDnr);
      AdminReply r;
      r.hold = true;
      return r;
    }
    default: return status(kScInvalidOpcode | kDnr);
  }
}

void ns_nguid(const CtrlConfig& cfg, uint8_t out[16]) {
  put64(out, fnv1a(cfg.subnqn + "/ns1", 0xcbf29ce484222325ull));
  put64(out + 8, fnv1a(cfg.subnqn + "/ns1/nguid", 0x84222325cbf29ce4ull));
}

Bytes identify_ctrl_data(const CtrlConfig& cfg, uint16_t cntlid, uint32_t ioccsz_bytes) {
  Bytes d(4096, 0);
  put16(d.data(), 0x1B4B);  // VID (made up)
  std::memcpy(d.data() + 4, "AUTONIC0000000000001", 20);
  std::memcpy(d.data() + 24, "autonic RAM namespace                   ", 40);
  std::memcpy(d.data() + 64, "1.0     ", 8);
  d[77] = kMdts;
  put16(d.data() + 78, cntlid);
  put32(d.data() + 80, kVs14);
  d[512] = 0x66;  // SQES
  d[513] = 0x44;  // CQES
  put32(d.data() + 516, 1);  // NN
  std::memcpy(d.data() + 768, cfg.subnqn.data(), std::min<size_t>(cfg.subnqn.size(), 255));
  put32(d.data() + 1792, (ioccsz_bytes + 64) / 16);  // IOCCSZ
  put32(d.data() + 1796, 1);                         // IORCSZ
  // What a Linux host checks (core.c nvme_init_identify, tcp.c nvme_tcp_setup_ctrl) or uses.
  d[72] = 6;                       // RAB
  put32(d.data() + 92, kOaes);     // OAES: Linux then sends Set Features AEC (nvme_enable_aen)
  d[111] = 1;                      // CNTRLTYPE: I/O controller
  d[258] = 3;                      // ACL
  d[259] = kAerl;                  // AERL
  d[260] = 0x03;                   // FRMW: one slot, read-only
  d[261] = 0x06;                   // LPA: commands supported and effects log, extended data
  put16(d.data() + 320, kKas);     // KAS: "keep-alive support is mandatory for fabrics"
  put16(d.data() + 514, cfg.maxcmd);  // MAXCMD: the host clamps its queue size to it
  put32(d.data() + 536, 1u | 1u << 20);  // SGLS: SGLs, offset addressing (in-capsule data)
  d[1803] = 1;                     // MSDBD (ICDOFF 0, FCATT 0: dynamic controller model)
  return d;
}

Bytes identify_ns_data(const CtrlConfig& cfg, const Namespace& ns) {
  Bytes d(4096, 0);
  put64(d.data(), ns.nsze());
  put64(d.data() + 8, ns.nsze());
  put64(d.data() + 16, ns.nsze());
  d[25] = 0;  // NLBAF: one format
  d[26] = 0;  // FLBAS
  uint8_t lbads = 0;
  while ((1u << lbads) < ns.lba_size()) ++lbads;
  d[128 + 2] = lbads;
  ns_nguid(cfg, d.data() + 104);  // NGUID, as the descriptor list says
  return d;
}

}  // namespace autonic::l5p::nvme
