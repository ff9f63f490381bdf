// Whole-testbed fuzz target: a real autonic host (lwIP, driver, NIC model, NVMe/TCP host, its
// offloads) against a scripted hostile controller over a lossy wire -- or a scripted hostile
// host against our controller. The input picks the scenario and then, answer by answer, how the
// controller lies: bits flipped, bytes cut or appended, PDUs repeated, CIDs swapped, Identify
// fields rewritten. Oracles: no sanitizer report, no crash, bounded work per input (virtual
// time), and -- when digests are on and the lies are only bit flips, which a CRC always
// catches -- not one wrong byte handed to the application.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>

#include "l5p/nvme/ctrl_state.h"
#include "l5p/nvme/nvme_ctrl.h"
#include "nvme_wire.h"
#include "proto/nvme/nvme_pdu.h"
#include "support/raw_nvme_host.h"
#include "support/scripted_ctrl.h"
#include "testbed/testbed.h"

using namespace autonic;
using namespace autonic::testbed;

namespace {

// How one answer is rewritten.
void mutate(FuzzedDataProvider& in, bool flips_only, Bytes& out) {
  const unsigned ops = in.ConsumeIntegralInRange<unsigned>(0, flips_only ? 1 : 3);
  for (unsigned k = 0; k < ops && !out.empty(); ++k) {
    const unsigned op = flips_only ? 0 : in.ConsumeIntegralInRange<unsigned>(0, 5);
    const size_t at = in.ConsumeIntegralInRange<size_t>(0, out.size() - 1);
    switch (op) {
      case 0:  // one bit
        out[at] ^= uint8_t(1u << in.ConsumeIntegralInRange<unsigned>(0, 7));
        break;
      case 1:  // a byte set
        out[at] = in.ConsumeIntegral<uint8_t>();
        break;
      case 2:  // cut here
        out.resize(at);
        break;
      case 3: {  // raw bytes appended (possibly a whole forged PDU)
        const Bytes extra = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 256));
        out.insert(out.end(), extra.begin(), extra.end());
        break;
      }
      case 4: {  // the answer twice (same CIDs again: data after the response)
        const Bytes copy = out;
        out.insert(out.end(), copy.begin(), copy.end());
        break;
      }
      case 5:  // a 16-bit field (CID, offsets, lengths) rewritten in place
        if (at + 2 <= out.size()) proto::nvme::put16(&out[at], in.ConsumeIntegral<uint16_t>());
        break;
    }
  }
}

// A host's valid set-up of one queue, as Linux sends it: ICReq, Fabrics Connect (QID 0: a new
// controller; else that I/O queue of the controller the admin Connect made) and, on the admin
// queue, CC.EN with IOSQES 6 / IOCQES 4 (nvme_enable_ctrl). CIDs FFxxh: RawNvmeHost waits for
// their answers before the I/O queue's bytes go, and leaves them out of its report.
Bytes host_setup(uint16_t qid, bool hd, bool dd) {
  namespace nv = proto::nvme;
  Bytes out = fuzz::ic_pdu(nv::PduType::kICReq, uint8_t((hd ? 1 : 0) | (dd ? 2 : 0)), 0);
  auto capsule = [&](Bytes sqe, const Bytes& data) {
    fuzz::PduSpec p;
    p.type = uint8_t(nv::PduType::kCapsuleCmd);
    p.spec = std::move(sqe);
    p.data = data;
    p.hd = hd;
    p.dd = dd;
    const Bytes b = fuzz::build_pdu(p).bytes;
    out.insert(out.end(), b.begin(), b.end());
  };
  Bytes sqe(64, 0), data(1024, 0);
  sqe[0] = nv::kOpFabrics;
  sqe[1] = 0x40;
  nv::put16(&sqe[2], 0xFF00);
  sqe[4] = nv::kFcConnect;
  nv::put32(&sqe[32], 1024);
  sqe[39] = nv::kSglInCapsuleOffset;
  nv::put16(&sqe[42], qid);
  nv::put16(&sqe[44], 31);
  nv::put16(&data[16], qid == 0 ? 0xFFFF : l5p::nvme::kCntlid);
  const std::string sub = l5p::nvme::CtrlConfig{}.subnqn, host = "nqn.2026-11.io.autonic:fuzz-host";
  std::copy(sub.begin(), sub.end(), data.begin() + 256);
  std::copy(host.begin(), host.end(), data.begin() + 512);
  capsule(sqe, data);
  if (qid != 0) return out;
  Bytes cc(64, 0);
  cc[0] = nv::kOpFabrics;
  nv::put16(&cc[2], 0xFF01);
  cc[4] = nv::kFcPropertySet;
  nv::put32(&cc[44], 0x14);
  nv::put32(&cc[48], 0x00460001);
  capsule(cc, {});
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  ScenarioConfig c;
  const bool over_tls = in.ConsumeBool();
  c.l5p = over_tls ? L5pKind::kNvmeTls : L5pKind::kNvmeTcp;
  static const OffloadMode kModes[] = {OffloadMode::kOff, OffloadMode::kOn, OffloadMode::kRx, OffloadMode::kTx};
  static const OffloadMode kNvmeOnly[] = {OffloadMode::kDdp, OffloadMode::kCrc};
  c.offload = !over_tls && in.ConsumeBool() ? kNvmeOnly[in.ConsumeIntegralInRange<int>(0, 1)]
                                             : kModes[in.ConsumeIntegralInRange<int>(0, 3)];
  c.hdgst = in.ConsumeBool();
  c.ddgst = in.ConsumeBool();
  c.rw = in.ConsumeBool() ? "randread" : "randrw";
  c.io_size = 512u << in.ConsumeIntegralInRange<unsigned>(0, 5);  // 512 .. 16K
  c.depth = in.ConsumeIntegralInRange<uint32_t>(1, 8);
  c.bytes = uint64_t(c.io_size) * in.ConsumeIntegralInRange<uint32_t>(1, 16);
  c.ns_size = 1u << 20;
  c.link.loss = in.ConsumeIntegralInRange<int>(0, 3) * 0.01;
  c.link.reorder = in.ConsumeIntegralInRange<int>(0, 3) * 0.01;
  c.seed = in.ConsumeIntegral<uint8_t>();
  c.time_limit_s = 5;
  c.stall_s = 1;
  const bool hostile_host = in.ConsumeIntegralInRange<int>(0, 3) == 0;
  const bool flips_only = !hostile_host && c.hdgst && c.ddgst && in.ConsumeBool();
  if (flips_only) c.rw = "randread";  // the script serves reads from the pattern, keeps no writes
  if (hostile_host) {
    // Our controller against a host script: a valid ICReq, then the input -- or a valid admin
    // queue set-up and I/O queue 1's ICReq and Connect, then the input on the I/O queue (where
    // Read / Write / Flush and the R2T / H2CData exchange live).
    const bool io_queue = in.ConsumeBool();
    Bytes s = io_queue ? host_setup(1, c.hdgst, c.ddgst)
                       : fuzz::ic_pdu(proto::nvme::PduType::kICReq, uint8_t((c.hdgst ? 1 : 0) | (c.ddgst ? 2 : 0)), 0);
    const Bytes rest = in.ConsumeRemainingBytes<uint8_t>();
    s.insert(s.end(), rest.begin(), rest.end());
    c.nvme_peer = io_queue ? std::make_shared<RawNvmeHost>(host_setup(0, c.hdgst, c.ddgst), s)
                           : std::make_shared<RawNvmeHost>(s);
  } else {
    auto sc = std::make_shared<ScriptedCtrl>();
    sc->c2h_chunk = in.ConsumeIntegralInRange<size_t>(512, 8192);
    sc->identify = [&in, flips_only](uint8_t, Bytes& id) {
      if (flips_only || !in.ConsumeBool()) return;
      for (unsigned k = in.ConsumeIntegralInRange<unsigned>(1, 4); k > 0; --k) {
        // Mostly the fields the host reads: sizes, formats, MDTS.
        // (514 MAXCMD, 536 SGLS, 1792 IOCCSZ, 1800 ICDOFF: the fabrics fields a host checks)
        static const size_t kHot[] = {0, 1, 7, 8, 15, 25, 26, 77, 78, 128, 129, 130, 132, 134, 514, 536, 1792, 1800};
        const size_t at = in.ConsumeBool() ? kHot[in.ConsumeIntegralInRange<size_t>(0, std::size(kHot) - 1)]
                                           : in.ConsumeIntegralInRange<size_t>(0, id.size() - 1);
        id[at] = in.ConsumeIntegral<uint8_t>();
      }
    };
    sc->answer = [&in, flips_only](const ScriptedCtrl::Cmd&, Bytes& out) {
      if (in.remaining_bytes() > 0 && in.ConsumeBool()) mutate(in, flips_only, out);
    };
    c.nvme_peer = sc;
  }
  const Report r = run_scenario(c);
  if (flips_only && r.delivered_wrong_bytes != 0) {
    std::fprintf(stderr, "fuzz_hostile_peer: %llu wrong bytes delivered although every lie was a bit flip "
                 "under header and data digests (outcome %s)\n",
                 (unsigned long long)r.delivered_wrong_bytes, r.outcome.c_str());
    std::abort();
  }
  return 0;
}
