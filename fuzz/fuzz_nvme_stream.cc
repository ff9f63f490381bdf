// Fuzz target: one side of an NVMe/TCP connection -- the PDU parser and queue (NvmeQueue) under
// the real host (NvmeHost) or controller (NvmeController) logic -- fed the other side's byte
// stream, cut into arbitrary chunks, over a fake Transport that records what the queue writes
// and never touches lwIP.
//
// Input: byte 0 = configuration (Config below), the rest drives a FuzzedDataProvider that
// decodes a list of ops. The fuzzer plays the peer: raw bytes, PDUs it frames itself (fields
// from the input, digests right unless told otherwise), or valid answers to what the queue sent
// (to reach deep states fast). It also plays the NIC's side of the l5o API (FakeOffload): DDP
// registrations, teardown answers with fences, resync requests.
//
// Oracles (sound for any input):
//  - no crash, no sanitizer report, bounded work per input;
//  - every PDU the queue writes is well formed (parse_common, framing, its own digests) and it
//    writes nothing after shutting its side down or after failing; failure is sticky;
//  - every PDU it accepts is framed alike by the NIC's probe (one framing rule);
//  - bytes handed to the transport by reference stay valid until acknowledged (ASan);
//  - host: a read that completes with success holds exactly the data the peer sent for it, and
//    never data whose (unmarked) digest was wrong; write data sent is the caller's buffer; a
//    buffer goes back to the caller only after its DDP mapping is gone and its fence is parsed;
//    no CID is reused while the peer still owes its answer;
//  - controller: read data equals a model of the namespace built from the writes it confirmed;
//    a write with a wrong data digest never succeeds; answers only commands it was sent;
//  - resync answers "yes" only at a real PDU start with its index; get_tx_msgstate describes
//    the PDUs actually written.
// "Clean" wires (every byte the fuzzer sent was a whole, well-framed PDU) enable the oracles
// that need to know what the queue parsed; raw bytes switch those off for that wire.
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "fuzz_util.h"
#include "l5p/nvme/nvme_ctrl.h"
#include "l5p/nvme/nvme_host.h"
#include "nic/plugins/nvme/nvme_plugin.h"
#include "nvme_wire.h"

namespace autonic::fuzz {
namespace {

using nv::PduType;

constexpr int kMaxOps = 64;
constexpr size_t kNsBytes = 64 * 1024;
// Both stream directions start close to 2^32: sequence numbers wrap inside most inputs.
constexpr uint32_t kRxIsn = 0xFFFFFF80u, kTxIsn = 0xFFFFFFC0u;
constexpr uint8_t kCanary = 0xC5;
// CC.IOSQES = 6 (64-byte SQEs), CC.IOCQES = 4 (16-byte CQEs): what nvmet_start_ctrl requires.
constexpr uint32_t kCcQueueEntrySizes = 0x00460000u;

// The input's first byte. prologue: the fuzzer sets the connection up (IC exchange, and for a
// host its whole admin bring-up) with valid PDUs before its ops; offload: the queue gets an l5o
// offload (RX context, and DDP for a host); small_h2c: MAXH2CDATA 4096.
namespace cfgbit {
constexpr uint8_t kController = 0x01, kHd = 0x02, kDd = 0x04, kPrologue = 0x08, kCrcOffload = 0x10,
                  kOffload = 0x20, kBigLba = 0x40, kSmallH2c = 0x80;
}
struct Config {
  bool controller, hd, dd, prologue, crc_offload, offload, big_lba, small_h2c;
  explicit Config(uint8_t f)
      : controller(f & cfgbit::kController), hd(f & cfgbit::kHd), dd(f & cfgbit::kDd), prologue(f & cfgbit::kPrologue),
        crc_offload(f & cfgbit::kCrcOffload), offload(f & cfgbit::kOffload), big_lba(f & cfgbit::kBigLba),
        small_h2c(f & cfgbit::kSmallH2c) {}
};

enum class Op : uint8_t {
  kRaw,      // raw bytes from the input
  kPdu,      // one PDU framed by the fuzzer, fields from the input
  kMain,     // host: submit an I/O; controller: send a command
  kAnswer,   // host: answer one pending command; controller: send H2CData for an R2T
  kAuto,     // answer everything pending validly (one round)
  kAck,      // TCP acknowledges everything written
  kClose,    // peer closed / transport error / the NIC lost the inner context
  kResync,   // the NIC asks whether a PDU starts at some tcpsn
  kTxState,  // the driver asks get_tx_msgstate for some tcpsn
  kNicMode,  // how the NIC answers teardowns and whether it places C2HData
  kAccept,   // controller: one more connection
  kCount
};
constexpr uint8_t kLastOp = uint8_t(Op::kCount) - 1;

// ---- op arguments (decoded from the input, or encoded into a seed) ----

// How bytes are cut into transport deliveries, and which of them carry the NIC's mark.
struct Cuts {
  uint8_t n = 0;
  std::array<uint16_t, 3> at{};
  uint8_t marks = 0;
  template <class V> void visit(V& v) {
    v.range(n, uint8_t(0), uint8_t(3));
    for (uint8_t i = 0; i < n; ++i) v(at[i]);
    v(marks);
  }
};
struct RawArgs {
  uint8_t wire = 0;
  uint16_t len = 0;
  Bytes data;
  Cuts cuts;
  template <class V> void visit(V& v) {
    v(wire);
    v.range(len, uint16_t(0), uint16_t(512));
    v.bytes(data, len);
    cuts.visit(v);
  }
};
constexpr uint8_t kPduTypes[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x09, 0x08};
struct PduArgs {
  uint8_t wire = 0, type = 0, flags = 0, knobs = 0, seed = 0;
  uint16_t dlen = 0;
  Bytes spec;
  Cuts cuts;
  enum : uint8_t { kPickCid = 1, kFlipHd = 2, kFlipDd = 4, kBadHd = 8, kBadDd = 16, kPad = 32 };
  template <class V> void visit(V& v) {
    v(wire);
    v.range(type, uint8_t(0), uint8_t(sizeof kPduTypes - 1));
    v(flags);
    v(knobs);
    v(seed);
    v.range(dlen, uint16_t(0), uint16_t(1024));
    v.bytes(spec, nv::hlen_for(kPduTypes[type]).value_or(24) - 8u);
    cuts.visit(v);
  }
};
struct SubmitArgs {  // host kMain
  bool write = false;
  uint8_t nlb = 1, seed = 0;
  uint16_t slba = 0;
  template <class V> void visit(V& v) {
    v(write);
    v.range(nlb, uint8_t(1), uint8_t(16));
    v.range(slba, uint16_t(0), uint16_t(160));
    v(seed);
  }
};
struct CommandArgs {  // controller kMain
  enum Kind : uint8_t { kConnect, kPropGet, kPropSet, kIdentify, kRead, kWriteIncap, kWriteR2t, kFlush, kOther };
  uint8_t wire = 0, kind = 0, cid = 0, b = 0, knobs = 0;
  uint16_t a = 0;
  Cuts cuts;
  enum : uint8_t { kBadNsid = 1, kBadSgl = 2, kBadDd = 4, kPad = 8, kBadHd = 16 };
  template <class V> void visit(V& v) {
    v(wire);
    v.range(kind, uint8_t(0), uint8_t(kOther));
    v.range(cid, uint8_t(0), uint8_t(7));
    v(a);
    v(b);
    v(knobs);
    cuts.visit(v);
  }
};
struct AnswerArgs {
  uint8_t wire = 0, pick = 0, how = 0, seed = 0, patch_val = 0;
  uint16_t patch_off = 0;
  Cuts cuts;
  // how: bits 0-1 status (0 = success), then the knobs below
  enum : uint8_t { kBadDd = 4, kSplit = 8, kNoResp = 16, kPatch = 32, kBadOffset = 64, kNoLast = 128 };
  template <class V> void visit(V& v) {
    v(wire);
    v(pick);
    v(how);
    v(seed);
    v(patch_off);
    v(patch_val);
    cuts.visit(v);
  }
};
struct WireArgs {
  uint8_t wire = 0, kind = 0;
  uint16_t v = 0;
  template <class V> void visit(V& vis) {
    vis(wire);
    vis.range(kind, uint8_t(0), uint8_t(2));
    vis(v);
  }
};
struct NicModeArgs {
  uint8_t confirm = 1;
  uint16_t fence = 0;
  bool place = false;
  template <class V> void visit(V& v) {
    v.range(confirm, uint8_t(0), uint8_t(7));
    v(fence);
    v(place);
  }
};
struct AcceptArgs {
  bool prologue = false;
  template <class V> void visit(V& v) { v(prologue); }
};

Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(seed + i * 31 + (i >> 8));
  return b;
}

// ---- the fuzzer's picture of a connection ----

// A command one side sent that the other still owes an answer (and its data).
struct Cmd {
  uint8_t opc = 0, fctype = 0, cns = 0;
  uint16_t qid = 0;  // a Connect's QID
  uint32_t len = 0;  // data the command moves (SGL length)
  uint32_t prop = 0;
  bool incap = false, write = false, reads_data = false, io_read = false;
  Bytes incap_data;
  uint64_t off = 0;  // namespace byte offset (controller model)
  int io = -1;       // host role: the harness's I/O
  // host role: the peer's solicitation of write data
  bool r2t_sent = false;
  uint32_t h2c_got = 0;
  // controller role: what the fuzzer (host) sent and the controller returned
  bool r2t_seen = false;
  uint16_t ttag = 0;
  uint32_t r2t_off = 0, r2t_len = 0, h2c_sent = 0, c2h_got = 0;
  Bytes staged;
  bool bad_digest = false;
};

// A command as its SQE describes it (what either side may infer without knowing the other).
// admin: it went to an admin queue, whose command set differs from an I/O queue's (Base 2.0
// §3.3.1): there 01h is not Write and 02h (Read's opcode) is Get Log Page, which reads a log.
Cmd parse_cmd(const uint8_t* sqe, ByteSpan data, uint32_t lba, bool admin = false) {
  Cmd c;
  c.opc = sqe[0];
  c.fctype = sqe[4];
  c.qid = nv::le16(sqe + 42);
  c.cns = sqe[40];
  c.len = nv::le32(sqe + 32);
  c.prop = nv::le32(sqe + 44);
  c.incap = sqe[39] == nv::kSglInCapsuleOffset;
  c.io_read = !admin && c.opc == nv::kOpRead;
  c.write = !admin && c.opc == nv::kOpWrite;
  c.reads_data = c.opc == nv::kOpRead || c.opc == nv::kOpIdentify;  // (02h: Read, or Get Log Page)
  c.incap_data.assign(data.begin(), data.end());
  c.off = nv::le64(sqe + 40) * lba;  // (only used once the controller confirmed the range)
  if (c.write && !c.incap && c.len <= (1u << 20)) c.staged.assign(c.len, 0);
  return c;
}

struct Wire {
  size_t idx = 0;
  l5p::nvme::TransportUser* user = nullptr;  // null once the queue (and its transport) is gone
  bool up = false, shut = false, aborted = false;
  bool failed = false;  // the queue stopped taking data (sticky)
  bool clean = true;
  // queue -> peer
  Bytes out;
  size_t out_parsed = 0;
  PduFramer out_framer;
  bool out_first = true;
  std::vector<size_t> out_starts;  // PDUs after the IC PDU: the message map's messages
  std::vector<std::pair<const uint8_t*, size_t>> lent;  // referenced by pump, held until acked
  size_t acked = 0;
  // peer -> queue
  uint64_t fed = 0;
  PduFramer in_framer;
  size_t in_pdus = 0;
  std::map<uint32_t, uint64_t> in_starts;  // tcpsn -> PDU index (after the IC PDU)
  // negotiation, as the peer knows it
  bool ic_pending = false, ic_done = false;
  bool hd = false, dd = false;
  uint32_t maxh2cdata = 0;
  int qid = -1;  // controller role: the QID its Connect got (seen answered with success)
  std::map<uint16_t, Cmd> pending;
  uint16_t next_ttag = 1;

  TcpSeq rx_pos() const { return TcpSeq(kRxIsn + uint32_t(fed)); }
};

struct Io {
  std::shared_ptr<Bytes> buf;  // dropped at completion: the host must be done with it by then
  Bytes shadow;                // read: what the peer sent for it; write: the data
  bool write = false, done = false, bad_digest = false, tracked = false;
};

class Harness;

// The NIC's side of the l5o API, as the queue sees it through the driver.
class FakeOffload final : public l5o::Offload {
 public:
  struct Ctx {
    size_t wire;
    l5o::Direction dir;
    l5o::L5pOps* ops;
    std::map<l5o::RrStateId, l5o::RrState> rr;
    std::set<uint32_t> asked;  // resync requests made
  };
  explicit FakeOffload(Harness& h) : h_(h) {}
  bool confirm = true;       // teardowns confirmed
  uint16_t fence_ahead = 0;  // 0: nothing placed; else the NIC ran this far ahead of the parser
  bool place = false;        // C2HData data arrives placed in the registered buffer (DDP)
  std::map<l5o::L5oHandle, Ctx> ctxs;
  std::map<const uint8_t*, std::optional<TcpSeq>> fences;  // by buffer: its last teardown's fence
  uint64_t redeletes = 0;  // teardowns of registrations already torn down

  l5o::L5oHandle create(const FlowKey& flow, l5o::Direction dir, std::shared_ptr<const l5o::L5State> state, TcpSeq,
                        l5o::L5pOps* ops) override {
    FUZZ_CHECK(state && state->proto == l5o::L5Proto::kNvmeTcp, "the NVMe queue created a non-NVMe offload context");
    const l5o::L5oHandle h = next_++;
    ctxs[h] = Ctx{flow.saddr, dir, ops, {}, {}};
    return h;
  }
  void update(l5o::L5oHandle, std::shared_ptr<const l5o::L5State>) override {}
  void destroy(l5o::L5oHandle h) override {
    FUZZ_CHECK(ctxs.erase(h) == 1, "destroy of an offload context that is not live (twice?)");
  }
  l5o::RrStateId add_rr_state(l5o::L5oHandle h, const l5o::RrState& rr) override {
    auto it = ctxs.find(h);
    FUZZ_CHECK(it != ctxs.end() && it->second.dir == l5o::Direction::kRx,
               "add_rr_state on a context that is not a live RX one");
    for (const auto& [id, r] : it->second.rr)
      FUZZ_CHECK(r.tag != rr.tag, "a CID registered for DDP while its previous registration is live");
    FUZZ_CHECK(!rr.dest.empty(), "an empty DDP registration");
    fences.erase(rr.dest.data());
    const l5o::RrStateId id = next_rr_++;
    it->second.rr[id] = rr;
    return id;
  }
  l5o::RrTeardown del_rr_state(l5o::L5oHandle h, l5o::RrStateId id) override;
  void resync_rx_resp(l5o::L5oHandle h, TcpSeq tcpsn, bool ok, uint64_t msg_index, TcpSeq) override;
  l5o::L5oHandle create_inner(l5o::L5oHandle, std::shared_ptr<const l5o::L5State>, TcpSeq, l5o::L5pOps*) override {
    FUZZ_CHECK(false, "NVMe/TCP on TCP stacked an inner offload context");
    return l5o::kNoHandle;
  }
  Ctx* ctx(size_t wire, bool rx_only) {
    for (auto& [h, c] : ctxs)
      if (c.wire == wire && (!rx_only || c.dir == l5o::Direction::kRx)) return &c;
    return nullptr;
  }
  // Is a registration live whose buffer overlaps [p, p + n)?
  bool maps_into(const uint8_t* p, size_t n) const {
    for (const auto& [h, c] : ctxs)
      for (const auto& [id, r] : c.rr)
        if (r.dest.data() < p + n && p < r.dest.data() + r.dest.size()) return true;
    return false;
  }

 private:
  Harness& h_;
  l5o::L5oHandle next_ = 1;
  l5o::RrStateId next_rr_ = 1;
};

class FakeTransport final : public l5p::nvme::Transport {
 public:
  FakeTransport(Harness& h, Wire& w) : h_(h), w_(w) {}
  ~FakeTransport() override { w_.user = nullptr; }
  void set_user(l5p::nvme::TransportUser* u) override { w_.user = u; }
  bool alive() const override { return !w_.aborted; }
  TcpSeq rx_pos() const override { return w_.rx_pos(); }
  TcpSeq tx_pos() const override { return TcpSeq(kTxIsn + uint32_t(w_.out.size())); }
  TcpSeq release_point() const override { return TcpSeq(kTxIsn + uint32_t(w_.acked)); }
  size_t pump(l5p::TxMsgMap& map) override;
  bool write_copy(ByteSpan b) override;
  void shutdown_tx() override { w_.shut = true; }
  void abort() override { w_.aborted = true; }
  l5o::L5oHandle create_offload(l5o::Offload* off, l5o::Direction dir, std::shared_ptr<const l5o::L5State> state,
                                TcpSeq start, l5o::L5pOps* ops) override {
    return off->create(FlowKey{uint32_t(w_.idx), 0, 0, 0}, dir, std::move(state), start, ops);
  }
  bool supports_ddp() const override { return true; }

 private:
  Harness& h_;
  Wire& w_;
};

class Harness {
 public:
  Harness(const Config& c, FuzzedDataProvider& in) : c_(c), in_(in), dec_(in), off_(*this) {}
  ~Harness() {
    // The queues go first (they destroy their offload contexts); the wires and the NIC stay.
    host_.reset();
    ctrl_.reset();
  }
  void run();

  // ---- called by the fakes ----
  void on_write(Wire& w, const uint8_t* p, size_t n, bool lent) {
    FUZZ_CHECK(!w.shut && !w.aborted, "the queue wrote after shutting down / aborting its transport");
    FUZZ_CHECK(!w.failed, "the queue wrote after it failed");
    w.out.insert(w.out.end(), p, p + n);
    if (lent) w.lent.emplace_back(p, n);
  }
  Wire& wire(size_t i) { return wires_[i]; }
  void check_resync(size_t wire, TcpSeq t, uint64_t idx) {
    const Wire& w = wires_[wire];
    auto it = w.in_starts.find(t.raw());
    FUZZ_CHECK(it != w.in_starts.end(), "resync answered yes where no PDU starts");
    FUZZ_CHECK(it->second == idx, "resync answered yes with the wrong PDU index");
  }

 private:
  template <class A> A decode() {
    A a;
    a.visit(dec_);
    return a;
  }
  Wire& new_wire() {
    wires_.emplace_back();
    wires_.back().idx = wires_.size() - 1;
    return wires_.back();
  }
  Wire* pick(uint8_t v) { return wires_.empty() ? nullptr : &wires_[v % wires_.size()]; }
  uint32_t lba() const { return c_.big_lba ? 4096 : 512; }
  bool all_clean() const {
    for (const Wire& w : wires_)
      if (!w.clean) return false;
    return true;
  }

  void bring_up();
  void settle();
  void feed(Wire& w, ByteSpan chunk, bool marked, bool placed);
  void deliver(Wire& w, ByteSpan bytes, const Cuts& cuts, bool may_mark, size_t place_lo = 0, size_t place_hi = 0,
               uint8_t* place_at = nullptr);
  void send_pdu(Wire& w, const PduSpec& s, const Cuts& cuts);
  void peer_sent(Wire& w, const PduSpec& s);
  void check_output(Wire& w);
  void on_out_pdu(Wire& w, const PduFramer::Pdu& p);
  void host_out(Wire& w, const PduFramer::Pdu& p, ByteSpan data);
  void ctrl_out(Wire& w, const PduFramer::Pdu& p, ByteSpan data);

  void op(Op o);
  void op_raw(const RawArgs& a);
  void op_pdu(const PduArgs& a);
  void op_ack(const WireArgs& a);
  void op_close(const WireArgs& a);
  void op_resync(const WireArgs& a);
  void op_tx_state(const WireArgs& a);
  // host role (the fuzzer is the controller)
  void host_submit(const SubmitArgs& a);
  void host_answer(Wire& w, uint16_t cid, const AnswerArgs& a);
  bool host_auto();
  void host_done(size_t io, uint16_t status);
  // controller role (the fuzzer is the host)
  void ctrl_command(Wire& w, const CommandArgs& a);
  void ctrl_h2c(Wire& w, uint16_t cid, const AnswerArgs& a);
  bool ctrl_auto();
  void ctrl_accept(bool prologue);

  const Config c_;
  FuzzedDataProvider& in_;
  Decoder dec_;
  FakeOffload off_;
  nic::NvmePlugin probe_;
  std::deque<Wire> wires_;
  std::deque<Io> ios_;
  l5p::nvme::NvmeStats st_;
  Bytes ns_model_ = Bytes(kNsBytes, 0);  // controller role: the namespace as confirmed writes left it
  bool host_ready_ = false;
  int ops_ = 0, completions_ = 0, answers_ = 0;
  int last_cmd_cid_ = -1;
  std::unique_ptr<l5p::nvme::NvmeHost> host_;
  std::unique_ptr<l5p::nvme::NvmeController> ctrl_;
};

// ---- the fakes ----

class LentWriter final : public l5p::TxMsgMap::Writer {
 public:
  LentWriter(Harness& h, Wire& w) : h_(h), w_(w) {}
  size_t room() override { return size_t(1) << 30; }
  size_t write(const uint8_t* d, size_t n, bool) override {
    h_.on_write(w_, d, n, true);
    return n;
  }
  void flush() override {}

 private:
  Harness& h_;
  Wire& w_;
};

size_t FakeTransport::pump(l5p::TxMsgMap& map) {
  LentWriter wr(h_, w_);
  return map.pump(wr);
}
bool FakeTransport::write_copy(ByteSpan b) {
  h_.on_write(w_, b.data(), b.size(), false);
  return true;
}

l5o::RrTeardown FakeOffload::del_rr_state(l5o::L5oHandle h, l5o::RrStateId id) {
  auto it = ctxs.find(h);
  FUZZ_CHECK(it != ctxs.end(), "del_rr_state on a context that is not live");
  auto r = it->second.rr.find(id);
  if (r == it->second.rr.end()) {
    // Torn down before (the host deletes again what it already deleted when a queue with fenced
    // commands fails): harmless while ids are never reused -- the NIC confirms, nothing is live.
    FUZZ_CHECK(id > 0 && id < next_rr_, "del_rr_state of a registration never made");
    ++redeletes;
    return l5o::RrTeardown{true, std::nullopt};
  }
  if (!confirm) return l5o::RrTeardown{false, std::nullopt};  // as far as the L5P knows, it stays
  std::optional<TcpSeq> fence;
  if (fence_ahead) fence = h_.wire(it->second.wire).rx_pos() + fence_ahead;
  fences[r->second.dest.data()] = fence;
  it->second.rr.erase(r);
  return l5o::RrTeardown{true, fence};
}

void FakeOffload::resync_rx_resp(l5o::L5oHandle h, TcpSeq tcpsn, bool ok, uint64_t msg_index, TcpSeq) {
  auto it = ctxs.find(h);
  FUZZ_CHECK(it != ctxs.end(), "resync answer for a context that is not live");
  FUZZ_CHECK(it->second.asked.count(tcpsn.raw()), "resync answer for a tcpsn the NIC never asked about");
  if (ok) h_.check_resync(it->second.wire, tcpsn, msg_index);
}

// ---- delivery ----

void Harness::bring_up() {
  for (size_t i = 0; i < wires_.size(); ++i) {
    Wire& w = wires_[i];
    if (!w.user || w.up) continue;
    w.up = true;
    if (!c_.controller) w.user->on_transport_up();  // the host speaks first (ICReq)
  }
}

// After anything the fuzzer did: new connections come up, what was written is checked, and
// every byte lent to the transport is read again (ASan: it must still be there).
void Harness::settle() {
  bring_up();
  for (size_t i = 0; i < wires_.size(); ++i) {
    Wire& w = wires_[i];
    check_output(w);
    uint8_t sum = 0;
    for (const auto& [p, n] : w.lent)
      for (size_t k = 0; k < n; ++k) sum ^= p[k];
    volatile uint8_t sink = sum;
    (void)sink;
  }
}

void Harness::feed(Wire& w, ByteSpan chunk, bool marked, bool placed) {
  if (!w.user || chunk.empty()) return;
  // The reference framing learns the bytes first: a resync answer may come out of this chunk.
  // Not after a failure: placed bytes may then point into a buffer the host has let go of
  // (legitimately: a failed queue reads nothing more -- ASan checks that it does not).
  if (!w.failed) {
    for (const auto& p : w.in_framer.feed(chunk)) {
      // One framing rule for the L5P and the NIC (nvme_pdu.h): the NIC's probe must see the
      // same PDU length, or a peer could hide a PDU from one of them.
      FUZZ_CHECK(nv::framed_len(p.ch) == p.ch.plen, "parse_common accepted a PDU whose layout does not add up to plen");
      if (p.ch.type > 0x01)
        FUZZ_CHECK(probe_.probe(p.bytes.first(nv::kCommonLen)) == p.ch.plen,
                   "the NIC's probe frames a PDU differently");
      if (w.in_pdus++ > 0) w.in_starts[kRxIsn + uint32_t(p.start)] = w.in_pdus - 2;
    }
    w.in_framer.compact();
    if (w.in_pdus > 0 && !w.in_framer.broken())
      w.in_starts[kRxIsn + uint32_t(w.in_framer.next_start())] = w.in_pdus - 1;
  }
  w.fed += chunk.size();
  const bool was_failed = w.failed;
  const bool ok = w.user->on_transport_data(chunk, marked, placed);
  if (was_failed) FUZZ_CHECK(!ok, "the queue took data after it failed (failure is not sticky)");
  if (!ok) w.failed = true;
}

// Delivers `bytes` in chunks. Bytes [place_lo, place_hi) come from `place_at` instead (where the
// NIC placed them, DDP), always marked: only marked packets are placed.
void Harness::deliver(Wire& w, ByteSpan bytes, const Cuts& cuts, bool may_mark, size_t place_lo, size_t place_hi,
                      uint8_t* place_at) {
  std::set<size_t> at = {0, bytes.size()};
  for (uint8_t i = 0; i < cuts.n; ++i) at.insert(cuts.at[i] % (bytes.size() + 1));
  if (place_at) at.insert({place_lo, place_hi});
  size_t k = 0;
  for (auto it = at.begin(); std::next(it) != at.end(); ++it, ++k) {
    const size_t lo = *it, hi = *std::next(it);
    if (place_at && lo >= place_lo && hi <= place_hi)
      feed(w, ByteSpan(place_at + (lo - place_lo), hi - lo), true, true);
    else
      feed(w, bytes.subspan(lo, hi - lo), may_mark && ((cuts.marks >> (k % 8)) & 1), false);
  }
  settle();
}

void Harness::send_pdu(Wire& w, const PduSpec& s, const Cuts& cuts) {
  if (!w.user) return;
  ++answers_;
  if (trace_on())
    std::fprintf(stderr, "[nvme_stream]   wire%zu in: type %u data %zu spec[0..4) %02x%02x%02x%02x\n", w.idx, s.type,
                 s.data.size(), s.spec.size() > 3 ? s.spec[0] : 0, s.spec.size() > 3 ? s.spec[1] : 0,
                 s.spec.size() > 3 ? s.spec[2] : 0, s.spec.size() > 3 ? s.spec[3] : 0);
  const BuiltPdu b = build_pdu(s);
  // The NIC marks a packet only if every PDU that ends in it verified: a broken digest never
  // arrives marked (a marked wrong digest would be the NIC lying, which the L5P trusts by design).
  const bool may_mark = !(s.bad_hdgst && s.hd) && !(s.bad_ddgst && s.dd);
  uint8_t* place_at = nullptr;
  // DDP: the NIC puts a C2HData's data into the buffer registered for its CID.
  if (off_.place && s.type == uint8_t(PduType::kC2HData) && b.data_len && !(s.bad_hdgst && s.hd)) {
    const nv::DataFields f = nv::data_fields(b.bytes.data());
    if (FakeOffload::Ctx* cx = off_.ctx(w.idx, true)) {
      for (const auto& [id, r] : cx->rr) {
        if (r.tag != f.cccid || f.length != b.data_len || uint64_t(f.offset) + f.length > r.dest.size()) continue;
        place_at = r.dest.data() + f.offset;
        std::memcpy(place_at, b.bytes.data() + b.data_off, b.data_len);
      }
    }
  }
  if (w.clean) peer_sent(w, s);
  deliver(w, b.bytes, cuts, may_mark, b.data_off, b.data_off + b.data_len, place_at);
}

// The peer's own bookkeeping of a PDU it sends on a clean wire (the queue parses exactly it).
void Harness::peer_sent(Wire& w, const PduSpec& s) {
  const uint8_t* spec = s.spec.data();
  auto f16 = [&](size_t o) { return o + 2 <= s.spec.size() ? nv::le16(spec + o) : uint16_t(0); };
  auto f32 = [&](size_t o) { return o + 4 <= s.spec.size() ? nv::le32(spec + o) : uint32_t(0); };
  switch (PduType(s.type)) {
    case PduType::kICResp:
      // (a PFV other than 0 or a MAXH2CDATA below 4096 fails the host: no negotiation happens)
      if (!w.ic_done && s.spec.size() >= 8 && f16(0) == 0 && f32(4) >= 4096) {
        w.ic_done = true;
        w.ic_pending = false;
        w.hd = spec[3] & 1;
        w.dd = spec[3] & 2;
        w.maxh2cdata = f32(4);
      }
      return;
    case PduType::kCapsuleResp:
      w.pending.erase(f16(12));
      return;
    case PduType::kC2HData: {
      auto it = w.pending.find(f16(0));
      if (it == w.pending.end() || it->second.io < 0) return;
      Io& io = ios_[size_t(it->second.io)];
      const uint32_t o = f32(4);
      if (!io.write && uint64_t(o) + s.data.size() <= io.shadow.size())
        std::copy(s.data.begin(), s.data.end(), io.shadow.begin() + o);
      if (s.bad_ddgst && s.dd) io.bad_digest = true;
      return;
    }
    case PduType::kR2T: {
      auto it = w.pending.find(f16(0));
      if (it != w.pending.end()) it->second.r2t_sent = true;
      return;
    }
    case PduType::kH2CData: {
      auto it = w.pending.find(f16(0));
      if (it == w.pending.end()) return;
      Cmd& c = it->second;
      const uint32_t o = f32(4);
      if (uint64_t(o) + s.data.size() <= c.staged.size()) std::copy(s.data.begin(), s.data.end(), c.staged.begin() + o);
      c.h2c_sent += uint32_t(s.data.size());
      if (s.bad_ddgst && s.dd) c.bad_digest = true;
      return;
    }
    case PduType::kCapsuleCmd: {
      if (!c_.controller || s.spec.size() < nv::kSqeLen) return;  // (to a host: it fails on it)
      Cmd c = parse_cmd(spec, s.data, lba(), w.qid == 0);
      c.bad_digest = s.bad_ddgst && s.dd && !s.data.empty();
      w.pending[nv::le16(spec + 2)] = std::move(c);
      return;
    }
    default:
      return;  // ICReq: recorded by ctrl_accept
  }
}

// ---- what the queue wrote ----

void Harness::check_output(Wire& w) {
  if (w.out_parsed == w.out.size()) return;
  const auto pdus = w.out_framer.feed(ByteSpan(w.out).subspan(w.out_parsed));
  w.out_parsed = w.out.size();
  FUZZ_CHECK(!w.out_framer.broken(), "the queue wrote a PDU its own parser refuses");
  for (const auto& p : pdus) on_out_pdu(w, p);
  w.out_framer.compact();
}

void Harness::on_out_pdu(Wire& w, const PduFramer::Pdu& p) {
  const nv::CommonHeader& ch = p.ch;
  const uint8_t* h = p.bytes.data();
  FUZZ_CHECK(nv::framed_len(ch) == ch.plen, "the queue wrote a PDU whose layout does not add up to plen");
  if (ch.hdgst())
    FUZZ_CHECK(nv::le32(h + ch.hlen) == nv::digest(ByteSpan(h, ch.hlen)), "the queue wrote a wrong header digest");
  const ByteSpan data = ch.data_len() ? p.bytes.subspan(ch.pdo, ch.data_len()) : ByteSpan();
  if (!data.empty() && ch.ddgst())
    FUZZ_CHECK(nv::le32(h + ch.pdo + ch.data_len()) == nv::digest(data), "the queue wrote a wrong data digest");
  const bool is_ic = ch.type <= 0x01;
  if (trace_on())
    std::fprintf(stderr, "[nvme_stream]   wire%zu out: type %u plen %u [8..12) %02x%02x%02x%02x cqe cid %u\n",
                 w.idx, ch.type, ch.plen, h[8], h[9], h[10], h[11], ch.plen >= 24 ? nv::le16(h + 20) : 0);
  if (w.out_first) {
    w.out_first = false;
    if (is_ic) {
      FUZZ_CHECK(ch.type == (c_.controller ? 0x01 : 0x00), "the queue opened with the other side's IC PDU");
      if (!c_.controller) {
        w.ic_pending = true;  // the host's ICReq: the fuzzer owes an ICResp
      } else {
        w.ic_done = true;
        w.hd = h[11] & 1;
        w.dd = h[11] & 2;
        w.maxh2cdata = nv::le32(h + 12);
        FUZZ_CHECK(w.maxh2cdata >= 4096, "the controller offered MAXH2CDATA below the spec's minimum");
      }
      return;
    }
  }
  FUZZ_CHECK(!is_ic, "the queue wrote an IC PDU after the connection was set up");
  w.out_starts.push_back(p.start);
  if (ch.is_term()) return;  // (a TermReq may answer a broken ICResp: before any negotiation)
  if (w.clean && w.ic_done) {
    FUZZ_CHECK(ch.hdgst() == w.hd, "the queue's header digest flag differs from what was negotiated");
    if (!data.empty()) FUZZ_CHECK(ch.ddgst() == w.dd, "the queue's data digest flag differs from what was negotiated");
  }
  if (c_.controller) ctrl_out(w, p, data);
  else host_out(w, p, data);
}

void Harness::host_out(Wire& w, const PduFramer::Pdu& p, ByteSpan data) {
  const uint8_t* h = p.bytes.data();
  switch (PduType(p.ch.type)) {
    case PduType::kCapsuleCmd: {
      const uint8_t* sqe = h + 8;
      const uint16_t cid = nv::le16(sqe + 2);
      if (w.clean) FUZZ_CHECK(!w.pending.count(cid), "the host reused a CID whose answer the controller still owes");
      Cmd c = parse_cmd(sqe, data, lba());
      // Wire 0 is the admin queue (the host connects it first): Read / Write there would be
      // admin opcodes (Get Log Page, Create I/O SQ), not I/O.
      if (w.idx == 0) FUZZ_CHECK(!c.write && !c.io_read, "the host sent a Read or Write on the admin queue");
      if (c.incap) FUZZ_CHECK(data.size() == c.len, "in-capsule data length differs from the SGL length");
      else FUZZ_CHECK(data.empty(), "the host put data in a capsule whose SGL says otherwise");
      w.pending[cid] = c;
      last_cmd_cid_ = cid;
      return;
    }
    case PduType::kH2CData: {
      const nv::DataFields f = nv::data_fields(h);
      auto it = w.pending.find(f.cccid);
      FUZZ_CHECK(f.length == data.size(), "H2CData length field differs from its data");
      if (w.clean) {
        FUZZ_CHECK(it != w.pending.end() && it->second.write && it->second.r2t_sent,
                   "the host sent H2CData nobody asked for");
        FUZZ_CHECK(f.length <= w.maxh2cdata, "the host sent more than MAXH2CDATA in one H2CData");
      }
      if (it == w.pending.end()) return;
      it->second.h2c_got += f.length;
      if (it->second.io >= 0) {
        const Io& io = ios_[size_t(it->second.io)];
        FUZZ_CHECK(uint64_t(f.offset) + f.length <= io.shadow.size() &&
                       std::equal(data.begin(), data.end(), io.shadow.begin() + f.offset),
                   "the host sent write data that is not the caller's buffer");
      }
      return;
    }
    default:
      FUZZ_CHECK(false, "the host wrote a PDU only a controller sends");
  }
}

void Harness::ctrl_out(Wire& w, const PduFramer::Pdu& p, ByteSpan data) {
  const uint8_t* h = p.bytes.data();
  switch (PduType(p.ch.type)) {
    case PduType::kCapsuleResp: {
      const uint8_t* cqe = h + 8;
      const uint16_t cid = nv::le16(cqe + 12);
      const uint16_t status = uint16_t(nv::le16(cqe + 14) >> 1);
      auto it = w.pending.find(cid);
      if (w.clean) FUZZ_CHECK(it != w.pending.end(), "the controller answered a command it was not sent (or twice)");
      if (it == w.pending.end()) return;
      const Cmd& c = it->second;
      if (w.clean && status == nv::kScSuccess && c.opc == nv::kOpFabrics && c.fctype == nv::kFcConnect)
        w.qid = c.qid;
      if (w.clean && status == nv::kScSuccess) {
        if (c.reads_data)
          FUZZ_CHECK(c.c2h_got == c.len, "the controller confirmed a read without sending all its data");
        if (c.write) {
          FUZZ_CHECK(!c.bad_digest, "the controller confirmed a write whose data digest was wrong");
          if (!c.incap) FUZZ_CHECK(c.h2c_sent == c.len, "the controller confirmed a write before all its data came");
          const Bytes& d = c.incap ? c.incap_data : c.staged;
          FUZZ_CHECK(c.off + d.size() <= ns_model_.size(), "the controller confirmed a write beyond the namespace");
          if (all_clean()) std::copy(d.begin(), d.end(), ns_model_.begin() + long(c.off));
        }
      }
      w.pending.erase(it);
      return;
    }
    case PduType::kC2HData: {
      const nv::DataFields f = nv::data_fields(h);
      auto it = w.pending.find(f.cccid);
      FUZZ_CHECK(f.length == data.size(), "C2HData length field differs from its data");
      if (!w.clean) return;
      FUZZ_CHECK(it != w.pending.end() && it->second.reads_data,
                 "the controller sent data for a command that reads none");
      Cmd& c = it->second;
      FUZZ_CHECK(f.offset == c.c2h_got && uint64_t(f.offset) + f.length <= c.len,
                 "the controller's C2HData is out of order or beyond its command");
      c.c2h_got += f.length;
      if (c.io_read && all_clean())
        FUZZ_CHECK(std::equal(data.begin(), data.end(), ns_model_.begin() + long(c.off + f.offset)),
                   "the controller returned data that differs from what was written there");
      return;
    }
    case PduType::kR2T: {
      const nv::DataFields f = nv::data_fields(h);
      auto it = w.pending.find(f.cccid);
      if (!w.clean) return;
      FUZZ_CHECK(it != w.pending.end() && it->second.write && !it->second.incap,
                 "the controller asked for data of a command that has none to send");
      Cmd& c = it->second;
      FUZZ_CHECK(f.length > 0 && uint64_t(f.offset) + f.length <= c.len,
                 "the controller's R2T lies outside its command");
      c.r2t_seen = true;
      c.ttag = f.ttag;
      c.r2t_off = f.offset;
      c.r2t_len = f.length;
      return;
    }
    default:
      FUZZ_CHECK(false, "the controller wrote a PDU only a host sends");
  }
}

// ---- ops ----

void Harness::op(Op o) {
  switch (o) {
    case Op::kRaw: return op_raw(decode<RawArgs>());
    case Op::kPdu: return op_pdu(decode<PduArgs>());
    case Op::kMain:
      if (c_.controller) {
        const auto a = decode<CommandArgs>();
        if (Wire* w = pick(a.wire)) ctrl_command(*w, a);
      } else {
        host_submit(decode<SubmitArgs>());
      }
      return;
    case Op::kAnswer: {
      const auto a = decode<AnswerArgs>();
      Wire* w = pick(a.wire);
      if (!w || w->pending.empty()) return;
      auto it = std::next(w->pending.begin(), long(a.pick % w->pending.size()));
      if (c_.controller) ctrl_h2c(*w, it->first, a);
      else if (w->ic_pending) host_answer(*w, 0, a);
      else host_answer(*w, it->first, a);
      return;
    }
    case Op::kAuto:
      c_.controller ? ctrl_auto() : host_auto();
      return;
    case Op::kAck: return op_ack(decode<WireArgs>());
    case Op::kClose: return op_close(decode<WireArgs>());
    case Op::kResync: return op_resync(decode<WireArgs>());
    case Op::kTxState: return op_tx_state(decode<WireArgs>());
    case Op::kNicMode: {
      const auto a = decode<NicModeArgs>();
      off_.confirm = a.confirm != 0;
      off_.fence_ahead = a.fence;
      off_.place = a.place;
      return;
    }
    case Op::kAccept: {
      const auto a = decode<AcceptArgs>();
      if (c_.controller) ctrl_accept(a.prologue);
      return;
    }
    case Op::kCount: return;
  }
}

void Harness::op_raw(const RawArgs& a) {
  Wire* w = pick(a.wire);
  if (!w) return;
  w->clean = false;  // whatever the queue makes of these bytes, the fuzzer no longer knows
  deliver(*w, a.data, a.cuts, true);
}

void Harness::op_pdu(const PduArgs& a) {
  Wire* w = pick(a.wire);
  if (!w) return;
  PduSpec s;
  s.type = kPduTypes[a.type];
  s.flags = a.flags & (nv::kFlagLast | nv::kFlagSuccess);
  s.spec = a.spec;
  s.spec.resize(nv::hlen_for(s.type).value_or(24) - 8u, 0);  // (the input may have run out)
  if ((a.knobs & PduArgs::kPickCid) && !w->pending.empty() && s.spec.size() >= 16) {
    const uint16_t cid = std::next(w->pending.begin(), long(a.seed % w->pending.size()))->first;
    nv::put16(s.spec.data() + (s.type == uint8_t(PduType::kCapsuleResp) ? 12 : 0), cid);
  }
  const Bytes data = pattern(a.dlen, a.seed);
  s.data = data;
  s.hd = w->hd != bool(a.knobs & PduArgs::kFlipHd);
  s.dd = w->dd != bool(a.knobs & PduArgs::kFlipDd);
  s.bad_hdgst = a.knobs & PduArgs::kBadHd;
  s.bad_ddgst = a.knobs & PduArgs::kBadDd;
  s.pad = (a.knobs & PduArgs::kPad) ? 4 : 0;
  send_pdu(*w, s, a.cuts);
}

void Harness::op_ack(const WireArgs& a) {
  Wire* w = pick(a.wire);
  if (!w) return;
  w->acked = w->out.size();
  if (w->user) w->user->on_transport_sent();
  w->lent.clear();  // TCP let go of everything: the queue may release it now
}

void Harness::op_close(const WireArgs& a) {
  Wire* w = pick(a.wire);
  if (!w || !w->user) return;
  switch (a.kind) {
    case 0:
      w->user->on_transport_closed();
      w->failed = true;
      break;
    case 1:
      w->user->on_transport_error("fuzz: transport error");
      w->failed = true;
      break;
    default:
      w->user->on_transport_inner_lost();
      break;
  }
}

void Harness::op_resync(const WireArgs& a) {
  Wire* w = pick(a.wire);
  if (!w || !w->user) return;
  FakeOffload::Ctx* cx = off_.ctx(w->idx, true);
  if (!cx) return;
  TcpSeq t;
  if (a.kind == 0 && !w->in_starts.empty())
    t = TcpSeq(std::next(w->in_starts.begin(), long(a.v % w->in_starts.size()))->first);
  else if (a.kind == 1) t = w->rx_pos() + uint32_t(a.v % 512) - 256u;
  else t = TcpSeq(kRxIsn + a.v);
  cx->asked.insert(t.raw());
  cx->ops->resync_rx_req(t);
}

void Harness::op_tx_state(const WireArgs& a) {
  Wire* w = pick(a.wire);
  if (!w || !w->user) return;
  FakeOffload::Ctx* cx = off_.ctx(w->idx, false);
  if (!cx) return;
  const TcpSeq t(kTxIsn + uint32_t(a.v % (w->out.size() + 8)));
  const l5o::TxMsgState s = cx->ops->get_tx_msgstate(t);
  if (s.kind != l5o::TxMsgState::Kind::kFound) return;
  const uint32_t start = s.msg_start.raw() - kTxIsn;
  FUZZ_CHECK(s.msg_index < w->out_starts.size() && w->out_starts[s.msg_index] == start,
             "get_tx_msgstate names a message start / index that is not where that PDU was written");
  FUZZ_CHECK(t >= s.msg_start && s.prefix.size() == size_t(t - s.msg_start),
             "get_tx_msgstate's prefix has the wrong length");
  // (the controller sends reads by reference from the namespace, which later writes change)
  if (!c_.controller)
    FUZZ_CHECK(std::equal(s.prefix.begin(), s.prefix.end(), w->out.begin() + start),
               "get_tx_msgstate's prefix differs from the bytes written");
}

// ---- host role ----

void Harness::host_submit(const SubmitArgs& a) {
  if (!host_ready_ || wires_.size() < 2) return;
  const size_t len = size_t(a.nlb) * host_->lba_size();
  const size_t idx = ios_.size();
  ios_.emplace_back();
  Io& io = ios_.back();
  io.write = a.write;
  io.buf = std::make_shared<Bytes>(a.write ? pattern(len, a.seed) : Bytes(len, kCanary));
  io.shadow = *io.buf;
  l5p::nvme::BlockIo b;
  b.write = a.write;
  b.slba = a.slba;
  b.nlb = a.nlb;
  b.buf = io.buf;
  b.done = [this, idx](uint16_t st) { host_done(idx, st); };
  last_cmd_cid_ = -1;
  if (!host_->submit(std::move(b))) {
    ios_[idx].done = true;
    ios_[idx].buf.reset();
    return;
  }
  Wire& w = wires_[1];
  settle();
  if (last_cmd_cid_ < 0) return;  // nothing went out (the transport is down)
  auto it = w.pending.find(uint16_t(last_cmd_cid_));
  if (it == w.pending.end()) return;
  it->second.io = int(idx);
  ios_[idx].tracked = true;
}

void Harness::host_done(size_t idx, uint16_t status) {
  Io& io = ios_[idx];
  FUZZ_CHECK(!io.done, "an I/O completed twice");
  io.done = true;
  ++completions_;
  Wire& w = wires_[1];
  FUZZ_CHECK(!w.failed, "an I/O completed after its queue failed");
  // The buffer goes back to the caller: the NIC must have no way left to write into it.
  FUZZ_CHECK(!off_.maps_into(io.buf->data(), io.buf->size()), "an I/O completed while its DDP mapping is live");
  if (auto f = off_.fences.find(io.buf->data()); f != off_.fences.end()) {
    if (f->second) FUZZ_CHECK(*f->second <= w.rx_pos(), "an I/O completed before the parser passed its DDP fence");
    off_.fences.erase(f);
  }
  if (status == nv::kScSuccess && io.tracked && w.clean && !io.write) {
    FUZZ_CHECK(!io.bad_digest, "a read completed with success although its data digest was wrong");
    FUZZ_CHECK(*io.buf == io.shadow, "a read completed with success but holds other data than the controller sent");
  }
  io.buf.reset();
}

Bytes identify_data(uint8_t cns, uint32_t lba) {
  Bytes d(4096, 0);
  if (cns == 1) {
    // What a Linux host (and ours) checks in a fabrics controller's data: the CNTLID the Connect
    // returned, SGLs, capsule sizes, ICDOFF 0 (nvme_init_identify, nvme_tcp_setup_ctrl).
    nv::put16(d.data(), 0x1B4B);
    d[77] = 0;  // MDTS: no limit
    nv::put16(d.data() + 78, 1);  // CNTLID: the Connect's (host_answer's DW0)
    d[512] = 0x66;
    d[513] = 0x44;
    nv::put16(d.data() + 514, 128);            // MAXCMD
    nv::put32(d.data() + 516, 1);              // NN
    nv::put32(d.data() + 536, 1u | 1u << 20);  // SGLS: SGLs, offset addressing
    nv::put32(d.data() + 1792, (8192 + 64) / 16);  // IOCCSZ: 8 KiB in-capsule data
    nv::put32(d.data() + 1796, 1);             // IORCSZ
  } else {
    const uint64_t nsze = kNsBytes / lba;
    nv::put64(d.data(), nsze);
    nv::put64(d.data() + 8, nsze);
    nv::put64(d.data() + 16, nsze);
    d[130] = lba == 4096 ? 12 : 9;
  }
  return d;
}

// Answers a command the host sent, as a controller would -- or, per a.how, not quite.
void Harness::host_answer(Wire& w, uint16_t cid, const AnswerArgs& a) {
  if (w.ic_pending) {
    PduSpec s;
    s.type = uint8_t(PduType::kICResp);
    s.spec.assign(120, 0);
    s.spec[3] = uint8_t((c_.hd ? 1 : 0) | (c_.dd ? 2 : 0));
    nv::put32(s.spec.data() + 4, c_.small_h2c ? 4096 : 128 * 1024);
    if (a.how & AnswerArgs::kPatch) s.spec[a.patch_off % s.spec.size()] = a.patch_val;
    send_pdu(w, s, a.cuts);
    return;
  }
  const Cmd c = w.pending[cid];
  static constexpr uint16_t kStatus[] = {nv::kScSuccess, nv::kScInvalidField, nv::kScDataTransferError,
                                         nv::kScLbaOutOfRange};
  const uint16_t status = kStatus[a.how & 3];
  auto respond = [&](uint64_t dw0) {
    PduSpec s;
    s.type = uint8_t(PduType::kCapsuleResp);
    s.spec.assign(16, 0);
    nv::put64(s.spec.data(), dw0);
    nv::put16(s.spec.data() + 12, cid);
    nv::put16(s.spec.data() + 14, uint16_t(status << 1));
    s.hd = w.hd;
    s.dd = w.dd;
    send_pdu(w, s, a.cuts);
  };
  if (c.write && !c.incap) {
    if (c.r2t_sent) return respond(0);
    PduSpec s;
    s.type = uint8_t(PduType::kR2T);
    s.spec.assign(16, 0);
    nv::put16(s.spec.data(), cid);
    nv::put16(s.spec.data() + 2, w.next_ttag++);
    nv::put32(s.spec.data() + 4, (a.how & AnswerArgs::kBadOffset) ? 512 : 0);
    nv::put32(s.spec.data() + 8, c.len);
    s.hd = w.hd;
    s.dd = w.dd;
    return send_pdu(w, s, a.cuts);
  }
  if (c.opc == nv::kOpFabrics) {
    uint64_t dw0 = 0;
    if (c.fctype == nv::kFcConnect) dw0 = 1;  // CNTLID
    if (c.fctype == nv::kFcPropertyGet) {
      switch (c.prop) {
        case 0x00: dw0 = uint64_t(255) | uint64_t(1) << 16 | uint64_t(10) << 24 | uint64_t(1) << 37; break;  // CAP
        case 0x08: dw0 = 0x00010400; break;  // VS
        case 0x1C: dw0 = 1; break;           // CSTS.RDY
        default: break;
      }
    }
    return respond(dw0);
  }
  if (c.reads_data && c.len > 0 && c.len <= (1u << 20)) {
    Bytes data = c.opc == nv::kOpIdentify ? identify_data(c.cns, lba()) : pattern(c.len, a.seed);
    data.resize(c.len);
    if (a.how & AnswerArgs::kPatch) data[a.patch_off % data.size()] = a.patch_val;
    const uint32_t half = (a.how & AnswerArgs::kSplit) && c.len > 1 ? c.len / 2 : c.len;
    for (uint32_t o = 0; o < c.len && w.user && !w.failed;) {
      const uint32_t n = o == 0 ? half : c.len - o;
      PduSpec s;
      s.type = uint8_t(PduType::kC2HData);
      s.flags = o + n == c.len && !(a.how & AnswerArgs::kNoLast) ? nv::kFlagLast : 0;
      s.spec.assign(16, 0);
      nv::put16(s.spec.data(), cid);
      nv::put32(s.spec.data() + 4, o + ((a.how & AnswerArgs::kBadOffset) ? 1 : 0));
      nv::put32(s.spec.data() + 8, n);
      s.data = ByteSpan(data).subspan(o, n);
      s.hd = w.hd;
      s.dd = w.dd;
      s.bad_ddgst = o == 0 && (a.how & AnswerArgs::kBadDd);
      send_pdu(w, s, a.cuts);
      o += n;
    }
    if (a.how & AnswerArgs::kNoResp) return;
  }
  if (w.user && !w.failed) respond(0);
}

// One round of valid answers to everything the host is waiting for. False: nothing to answer.
bool Harness::host_auto() {
  const int before = answers_;
  for (size_t i = 0; i < wires_.size(); ++i) {
    Wire& w = wires_[i];
    if (!w.user || w.failed) continue;
    AnswerArgs a;
    if (w.ic_pending) {
      host_answer(w, 0, a);
      continue;
    }
    std::vector<uint16_t> cids;
    for (const auto& [cid, c] : w.pending) cids.push_back(cid);
    for (uint16_t cid : cids) {
      if (!w.pending.count(cid) || !w.user || w.failed) continue;
      const Cmd& c = w.pending[cid];
      if (c.write && !c.incap && c.r2t_sent && c.h2c_got < c.len) continue;  // data still owed by the host
      a.seed = uint8_t(cid);
      host_answer(w, cid, a);
    }
  }
  return answers_ != before;
}

// ---- controller role ----

// A new connection; with prologue, set up as a Linux host does it: ICReq, Fabrics Connect (QID =
// the wire's index: wire 0 is the admin queue), and on the admin queue CC.EN with IOSQES 6 /
// IOCQES 4 (nvme_enable_ctrl) -- I/O commands are then taken on the I/O queues (wires 1, 2).
void Harness::ctrl_accept(bool prologue) {
  if (wires_.size() >= 3) return;
  Wire& w = new_wire();
  ctrl_->accept(std::make_unique<FakeTransport>(*this, w));
  w.up = true;
  if (!prologue) return;
  PduSpec ic;
  ic.type = uint8_t(PduType::kICReq);
  ic.spec.assign(120, 0);
  ic.spec[3] = uint8_t((c_.hd ? 1 : 0) | (c_.dd ? 2 : 0));
  send_pdu(w, ic, Cuts{});
  CommandArgs connect;
  connect.kind = CommandArgs::kConnect;
  connect.a = uint16_t(w.idx);
  ctrl_command(w, connect);
  if (w.idx != 0) return;
  CommandArgs enable;
  enable.kind = CommandArgs::kPropSet;
  enable.a = 1;
  ctrl_command(w, enable);
}

void Harness::ctrl_command(Wire& w, const CommandArgs& a) {
  Bytes sqe(64, 0), data;
  sqe[1] = 0x40;  // PSDT: SGL
  nv::put16(sqe.data() + 2, a.cid);
  const uint64_t nsze = kNsBytes / lba();
  switch (a.kind) {
    case CommandArgs::kConnect:
      sqe[0] = nv::kOpFabrics;
      sqe[4] = nv::kFcConnect;
      nv::put32(sqe.data() + 32, 1024);
      sqe[39] = nv::kSglInCapsuleOffset;
      nv::put16(sqe.data() + 42, uint16_t(a.a & 3));
      nv::put16(sqe.data() + 44, 127);
      data.assign(1024, 0);
      // CNTLID: any (admin queue) / the first controller's (I/O queues); our subsystem's NQN.
      nv::put16(data.data() + 16, (a.a & 3) == 0 ? 0xFFFF : l5p::nvme::kCntlid);
      std::memcpy(data.data() + 256, "nqn.2026-11.io.autonic:ram", 26);
      std::memcpy(data.data() + 512, "nqn.2026-11.io.autonic:fuzz", 27);
      break;
    case CommandArgs::kPropGet: {
      static constexpr uint32_t kProps[] = {0x00, 0x08, 0x14, 0x1C};
      sqe[0] = nv::kOpFabrics;
      sqe[4] = nv::kFcPropertyGet;
      nv::put32(sqe.data() + 44, a.b < 4 ? kProps[a.b] : a.a);
      break;
    }
    case CommandArgs::kPropSet:
      // CC: EN from a, with IOSQES 6 / IOCQES 4 as a host must write them (nvmet_start_ctrl), or
      // (b odd) any CC: other entry sizes (CSTS.CFS), SHN, MPS, CSS from a and b.
      sqe[0] = nv::kOpFabrics;
      sqe[4] = nv::kFcPropertySet;
      sqe[40] = (a.knobs & CommandArgs::kBadSgl) ? 1 : 0;  // ATTRIB: an 8-byte write (refused)
      nv::put32(sqe.data() + 44, 0x14);
      nv::put64(sqe.data() + 48, (a.b & 1) ? uint32_t(a.a) | uint32_t(a.b) << 16 : kCcQueueEntrySizes | (a.a & 1u));
      break;
    case CommandArgs::kIdentify:
      sqe[0] = nv::kOpIdentify;
      nv::put32(sqe.data() + 4, a.b % 3);
      nv::put32(sqe.data() + 32, (a.knobs & CommandArgs::kBadSgl) ? 512 : 4096);
      sqe[39] = nv::kSglTransportDataBlock;
      sqe[40] = uint8_t(a.a % 3);
      break;
    case CommandArgs::kRead:
    case CommandArgs::kWriteIncap:
    case CommandArgs::kWriteR2t: {
      const uint64_t slba = a.a % (nsze + 4);
      const uint32_t nlb = a.b % 16 + 1;
      const uint32_t len = nlb * lba();
      sqe[0] = a.kind == CommandArgs::kRead ? nv::kOpRead : nv::kOpWrite;
      nv::put32(sqe.data() + 4, (a.knobs & CommandArgs::kBadNsid) ? 2 : 1);
      nv::put32(sqe.data() + 32, (a.knobs & CommandArgs::kBadSgl) ? len + lba() : len);
      sqe[39] = a.kind == CommandArgs::kWriteIncap ? nv::kSglInCapsuleOffset : nv::kSglTransportDataBlock;
      nv::put64(sqe.data() + 40, slba);
      nv::put16(sqe.data() + 48, uint16_t(nlb - 1));
      if (a.kind == CommandArgs::kWriteIncap) data = pattern(len, uint8_t(a.cid * 7 + a.b));
      break;
    }
    case CommandArgs::kFlush:
      nv::put32(sqe.data() + 4, 1);
      break;
    default:
      sqe[0] = uint8_t(a.a);
      break;
  }
  PduSpec s;
  s.type = uint8_t(PduType::kCapsuleCmd);
  s.spec.assign(sqe.begin(), sqe.end());
  s.data = data;
  s.hd = w.hd;
  s.dd = w.dd;
  s.pad = (a.knobs & CommandArgs::kPad) ? 4 : 0;
  s.bad_hdgst = a.knobs & CommandArgs::kBadHd;
  s.bad_ddgst = a.knobs & CommandArgs::kBadDd;
  send_pdu(w, s, a.cuts);  // (peer_sent records it before it goes: the answer may come at once)
}

// H2CData for a write the controller solicited (R2T): the rest of the R2T's range.
void Harness::ctrl_h2c(Wire& w, uint16_t cid, const AnswerArgs& a) {
  auto it = w.pending.find(cid);
  if (it == w.pending.end() || !it->second.r2t_seen) return;
  const Cmd c = it->second;
  const uint32_t end = c.r2t_off + c.r2t_len;
  const Bytes all = pattern(c.len, uint8_t(cid * 13 + a.seed));
  const uint32_t maxd = std::max<uint32_t>(w.maxh2cdata, 1);
  uint32_t o = c.r2t_off + c.h2c_sent;
  for (int k = 0; o < end && k < 64 && w.user && !w.failed; ++k) {
    uint32_t n = std::min(maxd, end - o);
    if ((a.how & AnswerArgs::kSplit) && k == 0 && n > 1) n /= 2;
    PduSpec s;
    s.type = uint8_t(PduType::kH2CData);
    s.flags = o + n == end && !(a.how & AnswerArgs::kNoLast) ? nv::kFlagLast : 0;
    s.spec.assign(16, 0);
    nv::put16(s.spec.data(), cid);
    nv::put16(s.spec.data() + 2, c.ttag);
    nv::put32(s.spec.data() + 4, o + ((a.how & AnswerArgs::kBadOffset) && k == 0 ? 1 : 0));
    nv::put32(s.spec.data() + 8, n);
    s.data = ByteSpan(all).subspan(o, n);
    s.hd = w.hd;
    s.dd = w.dd;
    s.bad_ddgst = k == 0 && (a.how & AnswerArgs::kBadDd);
    send_pdu(w, s, a.cuts);
    o += n;
    if (a.how & AnswerArgs::kNoResp) break;  // (here: stop after one PDU)
  }
}

bool Harness::ctrl_auto() {
  const int before = answers_;
  for (size_t i = 0; i < wires_.size(); ++i) {
    Wire& w = wires_[i];
    std::vector<uint16_t> cids;
    for (const auto& [cid, c] : w.pending)
      if (c.r2t_seen && c.h2c_sent < c.r2t_len) cids.push_back(cid);
    for (uint16_t cid : cids) ctrl_h2c(w, cid, AnswerArgs{});
  }
  return answers_ != before;
}

// ---- the run ----

void Harness::run() {
  l5p::nvme::QueueConfig q;
  q.hdgst = c_.hd;
  q.ddgst = c_.dd;
  q.offload_rx = c_.offload;
  q.crc_offload = c_.crc_offload;
  q.offload = c_.offload ? &off_ : nullptr;
  q.maxh2cdata = c_.small_h2c ? 4096 : 128 * 1024;
  if (c_.controller) {
    ctrl_ = std::make_unique<l5p::nvme::NvmeController>(l5p::nvme::Namespace::ram(kNsBytes, lba()), q, st_,
                                                        l5p::nvme::CtrlConfig{});
    ctrl_accept(c_.prologue);
    if (c_.prologue) ctrl_accept(true);  // the admin queue, then one I/O queue (as the host role)
  } else {
    q.ddp = c_.offload;
    host_ = std::make_unique<l5p::nvme::NvmeHost>(
        [this] { return std::unique_ptr<l5p::nvme::Transport>(new FakeTransport(*this, new_wire())); }, q, q, st_,
        [this] { host_ready_ = true; }, [](const std::string&) {}, 1);
    host_->start();
    settle();
    if (c_.prologue)
      for (int i = 0; i < 24 && host_auto(); ++i) {
      }
  }
  while (in_.remaining_bytes() > 0 && ops_ < kMaxOps) {
    ++ops_;
    uint8_t o = 0;
    dec_.range(o, uint8_t(0), kLastOp);
    if (trace_on()) std::fprintf(stderr, "[nvme_stream] op %d\n", o);
    op(Op(o));
    settle();
  }
  if (trace_on()) {
    std::fprintf(stderr, "[nvme_stream] %s ready=%d ops=%d answers=%d completions=%d",
                 c_.controller ? "controller" : "host", host_ready_, ops_, answers_, completions_);
    for (const Wire& w : wires_)
      std::fprintf(stderr, " | wire%zu fed=%llu out=%zu pdus_out=%zu failed=%d clean=%d pending=%zu", w.idx,
                   (unsigned long long)w.fed, w.out.size(), w.out_starts.size(), w.failed, w.clean, w.pending.size());
    std::fprintf(stderr, " | redeletes=%llu", (unsigned long long)off_.redeletes);
    std::fprintf(stderr, " | cmds=%llu errors=%llu r2t=%llu h2c=%llu c2h=%llu fenced=%llu\n",
                 (unsigned long long)st_.nvme_cmds, (unsigned long long)st_.nvme_cmd_errors,
                 (unsigned long long)st_.nvme_r2t, (unsigned long long)st_.nvme_h2c_pdus,
                 (unsigned long long)st_.nvme_c2h_pdus, (unsigned long long)st_.nvme_fenced_completions);
  }
}

// ---- seeds ----

struct Script {
  SeedWriter w;
  Encoder e{w};
  template <class A> Script& op(Op o, A a) {
    uint8_t code = uint8_t(o);
    e.range(code, uint8_t(0), kLastOp);
    a.visit(e);
    return *this;
  }
  Script& op(Op o) {
    uint8_t code = uint8_t(o);
    e.range(code, uint8_t(0), kLastOp);
    return *this;
  }
  Seed seed(const char* name, uint8_t cfg) const {
    const uint8_t c[] = {cfg};
    return Seed{name, w.finish(c)};
  }
};

SubmitArgs submit(bool write, uint8_t nlb, uint16_t slba) {
  SubmitArgs a;
  a.write = write;
  a.nlb = nlb;
  a.slba = slba;
  a.seed = uint8_t(nlb * 3 + slba);
  return a;
}
CommandArgs command(uint8_t wire, CommandArgs::Kind k, uint8_t cid, uint16_t a, uint8_t b, uint8_t knobs = 0) {
  CommandArgs c;
  c.wire = wire;
  c.kind = k;
  c.cid = cid;
  c.a = a;
  c.b = b;
  c.knobs = knobs;
  return c;
}
AnswerArgs answer(uint8_t wire, uint8_t how, uint8_t cuts = 0, uint8_t marks = 0) {
  AnswerArgs a;
  a.wire = wire;
  a.how = how;
  a.cuts.n = cuts;
  for (uint8_t i = 0; i < cuts; ++i) a.cuts.at[i] = uint16_t(7 + 40 * i);
  a.cuts.marks = marks;
  return a;
}
WireArgs on_wire(uint8_t wire, uint8_t kind = 0, uint16_t v = 0) { return WireArgs{wire, kind, v}; }

std::vector<Seed> seeds() {
  using namespace cfgbit;
  std::vector<Seed> out;
  const uint8_t dig = kHd | kDd;
  out.push_back(Script().seed("host-bringup", kPrologue | dig));
  out.push_back(Script().op(Op::kMain, submit(false, 4, 0)).op(Op::kAuto).seed("host-read", kPrologue | dig));
  out.push_back(Script()
                    .op(Op::kMain, submit(false, 8, 3))
                    .op(Op::kAnswer, answer(1, AnswerArgs::kSplit, 2, 0xFF))
                    .seed("host-read-split-marked", kPrologue | dig | kCrcOffload));
  out.push_back(Script()
                    .op(Op::kMain, submit(false, 1, 1))
                    .op(Op::kAnswer, answer(1, AnswerArgs::kBadDd))
                    .seed("host-read-bad-digest", kPrologue | dig));
  out.push_back(Script().op(Op::kMain, submit(true, 2, 5)).op(Op::kAuto).seed("host-write-incap", kPrologue | kDd));
  out.push_back(Script()
                    .op(Op::kMain, submit(true, 4, 2))
                    .op(Op::kAuto)
                    .op(Op::kAuto)
                    .op(Op::kAck, on_wire(1))
                    .seed("host-write-r2t", kPrologue | dig | kBigLba | kSmallH2c));
  out.push_back(Script()
                    .op(Op::kNicMode, NicModeArgs{1, 100, true})
                    .op(Op::kMain, submit(false, 4, 0))
                    .op(Op::kAnswer, answer(1, 0, 1, 0xFF))
                    .op(Op::kMain, submit(false, 2, 9))
                    .op(Op::kAuto)
                    .op(Op::kResync, on_wire(1, 0, 1))
                    .op(Op::kResync, on_wire(1, 1, 300))
                    .op(Op::kTxState, on_wire(1, 0, 200))
                    .op(Op::kAck, on_wire(1))
                    .seed("host-ddp-fence-resync", kPrologue | dig | kOffload | kCrcOffload));
  out.push_back(Script()
                    .op(Op::kNicMode, NicModeArgs{0, 0, false})
                    .op(Op::kMain, submit(false, 1, 0))
                    .op(Op::kAuto)
                    .seed("host-ddp-unconfirmed", kPrologue | dig | kOffload));
  out.push_back(Script()
                    .op(Op::kMain, submit(false, 3, 0))
                    .op(Op::kMain, submit(true, 3, 0))
                    .op(Op::kAuto)
                    .op(Op::kAuto)
                    .seed("host-nodigest", kPrologue));
  {
    RawArgs r;
    r.data = ic_pdu(PduType::kICResp, 3, 128 * 1024);
    r.len = uint16_t(r.data.size());
    out.push_back(Script().op(Op::kRaw, r).seed("host-raw-icresp", dig));
  }
  {
    PduArgs p;
    p.wire = 1;
    p.type = 3;  // C2HTermReq
    p.spec.assign(16, 0);
    p.spec[0] = 1;
    out.push_back(Script().op(Op::kPdu, p).seed("host-termreq", kPrologue | dig));
  }
  out.push_back(Script().seed("ctrl-connect", kController | kPrologue | dig));
  // (controller role, prologue: wire 0 is the enabled admin queue, wire 1 I/O queue 1)
  out.push_back(Script()
                    .op(Op::kMain, command(1, CommandArgs::kWriteIncap, 1, 0, 1))
                    .op(Op::kMain, command(1, CommandArgs::kRead, 2, 0, 1))
                    .op(Op::kMain, command(0, CommandArgs::kIdentify, 3, 1, 1))
                    .op(Op::kMain, command(0, CommandArgs::kPropGet, 4, 0, 0))
                    .seed("ctrl-rw", kController | kPrologue | dig));
  out.push_back(Script()
                    .op(Op::kMain, command(1, CommandArgs::kWriteR2t, 3, 2, 3))
                    .op(Op::kAuto)
                    .op(Op::kMain, command(1, CommandArgs::kRead, 4, 2, 3))
                    .op(Op::kAck, on_wire(1))
                    .seed("ctrl-r2t", kController | kPrologue | dig | kSmallH2c | kBigLba));
  out.push_back(Script()
                    .op(Op::kMain, command(1, CommandArgs::kWriteIncap, 1, 5, 2))
                    .op(Op::kResync, on_wire(1, 0, 0))
                    .op(Op::kTxState, on_wire(1, 0, 150))
                    .op(Op::kAck, on_wire(1))
                    .op(Op::kAccept, AcceptArgs{true})
                    .op(Op::kMain, command(2, CommandArgs::kRead, 2, 5, 2))
                    .seed("ctrl-offload-two-queues", kController | kPrologue | dig | kOffload | kCrcOffload));
  out.push_back(Script()
                    .op(Op::kMain, command(1, CommandArgs::kWriteIncap, 1, 0, 0, CommandArgs::kBadDd))
                    .op(Op::kMain, command(1, CommandArgs::kRead, 2, 0, 0))
                    .op(Op::kMain, command(0, CommandArgs::kIdentify, 3, 1, 1, CommandArgs::kBadSgl))
                    .seed("ctrl-bad-digest-bad-sgl", kController | kPrologue | kDd));
  // The command sets apart: a Read on the admin queue is Get Log Page; then CC.EN = 0 (a reset)
  // and I/O is refused until a CC with the right entry sizes enables the controller again.
  out.push_back(Script()
                    .op(Op::kMain, command(0, CommandArgs::kRead, 1, 0, 1))
                    .op(Op::kMain, command(0, CommandArgs::kPropSet, 2, 0, 0))
                    .op(Op::kMain, command(1, CommandArgs::kRead, 3, 0, 1))
                    .op(Op::kMain, command(0, CommandArgs::kPropSet, 4, 1, 0x21))
                    .op(Op::kMain, command(0, CommandArgs::kPropSet, 5, 0, 0))
                    .op(Op::kMain, command(0, CommandArgs::kPropSet, 6, 1, 0))
                    .op(Op::kMain, command(1, CommandArgs::kWriteIncap, 7, 0, 1))
                    .seed("ctrl-admin-set-cc-reset", kController | kPrologue | dig));
  {
    RawArgs r;
    r.data = ic_pdu(PduType::kICReq, 3, 0);
    r.len = uint16_t(r.data.size());
    out.push_back(Script().op(Op::kRaw, r).seed("ctrl-raw-icreq", kController | dig));
  }
  return out;
}

}  // namespace
}  // namespace autonic::fuzz

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  autonic::fuzz::maybe_write_seeds(argc, argv, autonic::fuzz::seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace autonic::fuzz;
  if (size < 1) return 0;
  FuzzedDataProvider in(data + 1, size - 1);
  Harness h(Config(data[0]), in);
  h.run();
  return 0;
}
