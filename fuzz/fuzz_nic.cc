// Fuzz target: the NIC model (nic::Nic) driven as the driver and the wire drive it -- context
// commands through the send ring (create NVMe / TLS / composed RX and TX contexts, destroy,
// DDP registrations and teardowns, resync answers, TX recovery, packets to transmit), doorbells
// at chosen moments, and received frames: mostly well-formed Ethernet/IPv4/TCP with a right
// checksum on the flows of the contexts, carrying NVMe/TCP PDUs (C2HData aimed at the registered
// CIDs), TLS records (possibly wrapping NVMe PDUs: the composed offload), or garbage -- in order,
// retransmitted, ahead of sequence, or as raw bytes.
//
// Oracles:
//  - DDP: every range the NIC reports placed lies in a buffer registered (kRrAdd processed) and
//    not yet torn down (kRrDel / kCtxDestroy processed) on that completion's context, inside the
//    frame's bytes, and holds them. Each buffer is its own heap block, freed the moment its
//    teardown is confirmed (or its context destroyed): ASan reports any later NIC write;
//  - placements come only with marked completions; an unmarked frame goes up unchanged;
//  - no crash, no sanitizer report, rings drained after every step.
#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "common/inet_csum.h"
#include "fuzz_util.h"
#include "l5p/tls/tls_sw.h"
#include "nic/nic.h"
#include "nic/plugins/nvme/nvme_plugin.h"
#include "nic/plugins/tls/tls_plugin.h"
#include "nvme_wire.h"

namespace autonic::fuzz {
namespace {

namespace tls = l5p::tls;
using nic::SendDesc;

constexpr int kMaxOps = 96;
constexpr size_t kMaxStream = 256 * 1024;
constexpr uint8_t kMaxCtx = 6;

// ---- arguments ----

enum class Op : uint8_t {
  kCreate, kDestroy, kRrAdd, kRrDel, kResyncResp, kTxRecover, kTxPacket, kAppendPdu, kAppendRecord,
  kAppendRaw, kFrame, kRawFrame, kDoorbell, kReset, kCount
};
constexpr uint8_t kLastOp = uint8_t(Op::kCount) - 1;

struct CreateArgs {
  enum Kind : uint8_t { kNvmeRx, kTlsRx, kNvmeInnerRx, kNvmeTx, kTlsTx, kNvmeInnerTx };
  uint8_t ctx = 1, kind = 0, flow = 0, outer = 1, opts = 0;  // opts: bit 0 hdgst, 1 ddgst, 2 no DDP, 3 off boundary
  uint16_t skew = 0;
  bool ring = true;  // doorbell right away (the driver does; later is allowed too)
  template <class V> void visit(V& v) {
    v.range(ctx, uint8_t(1), kMaxCtx);
    v.range(kind, uint8_t(0), uint8_t(kNvmeInnerTx));
    v.range(flow, uint8_t(0), uint8_t(1));
    v.range(outer, uint8_t(1), kMaxCtx);
    v(opts);
    v(skew);
    v(ring);
  }
};
struct CtxArgs {  // destroy
  uint8_t ctx = 1;
  bool ring = true;
  template <class V> void visit(V& v) {
    v.range(ctx, uint8_t(1), kMaxCtx);
    v(ring);
  }
};
struct RrAddArgs {
  uint8_t ctx = 1, tag = 0;
  uint16_t size = 0;
  bool ring = true;
  template <class V> void visit(V& v) {
    v.range(ctx, uint8_t(1), kMaxCtx);
    v.range(tag, uint8_t(0), uint8_t(7));
    v.range(size, uint16_t(1), uint16_t(8192));
    v(ring);
  }
};
struct RrDelArgs {
  uint8_t pick = 0;
  bool ring = true;
  template <class V> void visit(V& v) {
    v(pick);
    v(ring);
  }
};
struct ResyncArgs {
  // mode 0: the last request seen for ctx, answered as the L5P would (yes with the right index
  // and payload position if a message starts there); 1: that request, answer from the input;
  // 2: near it; 3: anywhere
  uint8_t ctx = 1, mode = 0, index = 0;
  bool ok = true, ring = true;
  uint16_t v = 0;
  template <class V> void visit(V& vis) {
    vis.range(ctx, uint8_t(1), kMaxCtx);
    vis.range(mode, uint8_t(0), uint8_t(3));
    vis(index);
    vis(ok);
    vis(ring);
    vis(v);
  }
};
struct TxRecoverArgs {
  uint8_t ctx = 1, index = 0, inner = 0;
  uint16_t start = 0, plen = 0;
  bool ring = true;
  template <class V> void visit(V& v) {
    v.range(ctx, uint8_t(1), kMaxCtx);
    v(index);
    v.range(inner, uint8_t(0), uint8_t(3));
    v(start);
    v.range(plen, uint16_t(0), uint16_t(300));
    v(ring);
  }
};
struct TxPacketArgs {
  uint8_t ctx = 0, flow = 0;  // ctx 0: plain packet
  uint16_t off = 0, len = 0;
  bool ring = true;
  template <class V> void visit(V& v) {
    v.range(ctx, uint8_t(0), kMaxCtx);
    v.range(flow, uint8_t(0), uint8_t(1));
    v(off);
    v.range(len, uint16_t(0), uint16_t(1460));
    v(ring);
  }
};
struct PduArgs {
  uint8_t flow = 0, type = 0, tag = 0, knobs = 0, seed = 0;  // type: 0 C2HData, 1 CapsuleResp, 2 R2T, 3 C2HTermReq
  uint16_t off = 0, len = 0;
  enum : uint8_t { kLast = 1, kBadDd = 2, kBadHd = 4, kOffOutside = 8, kPad = 16, kFlipDigests = 32, kRandomTag = 64 };
  template <class V> void visit(V& v) {
    v.range(flow, uint8_t(0), uint8_t(1));
    v.range(type, uint8_t(0), uint8_t(3));
    v(tag);
    v(knobs);
    v(seed);
    v(off);
    v.range(len, uint16_t(1), uint16_t(4096));
  }
};
struct RecordArgs {
  uint8_t flow = 0, knobs = 0;  // knobs: bit 0 wrong sequence number, 1 flip a byte, 2 padded
  uint16_t len = 0;
  template <class V> void visit(V& v) {
    v.range(flow, uint8_t(0), uint8_t(1));
    v(knobs);
    v.range(len, uint16_t(1), uint16_t(4096));
  }
};
struct RawArgs {
  uint8_t flow = 0;
  uint16_t len = 0;
  Bytes data;
  template <class V> void visit(V& v) {
    v.range(flow, uint8_t(0), uint8_t(1));
    v.range(len, uint16_t(0), uint16_t(512));
    v.bytes(data, len);
  }
};
struct FrameArgs {
  enum Where : uint8_t { kNext, kBack, kAhead, kAnywhere };
  // knobs: bits 0+4+5 all set: bad checksum (rare: the engine must see most frames); bit 1 TCP
  // options; bit 2 a tuple no context follows
  uint8_t flow = 0, where = 0, knobs = 0;
  uint16_t d = 0, len = 0;
  template <class V> void visit(V& v) {
    v.range(flow, uint8_t(0), uint8_t(1));
    v.range(where, uint8_t(0), uint8_t(kAnywhere));
    v(knobs);
    v(d);
    v.range(len, uint16_t(0), uint16_t(1460));
  }
};
struct RawFrameArgs {
  uint16_t len = 0;
  Bytes data;
  template <class V> void visit(V& v) {
    v.range(len, uint16_t(0), uint16_t(256));
    v.bytes(data, len);
  }
};

// ---- the wire side ----

struct Flow {
  FlowKey key;            // as received frames carry it
  uint32_t isn = 0;
  Bytes stream;           // the byte stream of this TCP direction
  size_t next = 0;        // next byte to send in order
  // what the stream carries (set by the last RX context created on it)
  bool tls = false, hd = false, dd = false;
  Bytes inner;            // composed: the NVMe stream inside TLS records
  size_t inner_sent = 0;  // inner bytes already put in records
  size_t inner_base = 0;  // inner byte where the TLS offload's payload count starts
  uint64_t rec_seq = 0;   // next TLS record sequence number (relative to the TLS context's start)
  // Message starts since the last context was created on the flow, as the L5P parsed them:
  // tcpsn (inner: TLS payload position) -> index, payload position of its content.
  struct Start {
    uint64_t index;
    uint32_t payload;
  };
  std::map<uint32_t, Start> starts, inner_starts;
  uint64_t msgs = 0, inner_msgs = 0;
};

Bytes make_frame(const FlowKey& k, uint32_t seq, ByteSpan payload, bool options, bool bad_csum) {
  const size_t thl = options ? 32 : 20, ip_len = 20 + thl + payload.size();
  Bytes f(kEthHeaderLen + ip_len, 0);
  for (int i = 0; i < 6; ++i) f[size_t(i)] = uint8_t(0x02 + i), f[size_t(6 + i)] = uint8_t(0x12 + i);
  store_be16(&f[12], kEtherTypeIpv4);
  uint8_t* ip = &f[kEthHeaderLen];
  ip[0] = 0x45;
  store_be16(ip + 2, uint16_t(ip_len));
  store_be16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = 6;
  store_be32(ip + 12, k.saddr);
  store_be32(ip + 16, k.daddr);
  store_be16(ip + 10, uint16_t(~csum_fold(csum_partial(ip, 20, 0))));
  uint8_t* tcp = ip + 20;
  store_be16(tcp, k.sport);
  store_be16(tcp + 2, k.dport);
  store_be32(tcp + 4, seq);
  store_be32(tcp + 8, 1);
  tcp[12] = uint8_t((thl / 4) << 4);
  tcp[13] = 0x18;  // PSH, ACK
  store_be16(tcp + 14, 65535);
  if (options) {  // NOP NOP timestamps
    tcp[20] = 1, tcp[21] = 1, tcp[22] = 8, tcp[23] = 10;
  }
  std::copy(payload.begin(), payload.end(), tcp + thl);
  store_be16(tcp + 16, uint16_t(tcp4_checksum(ip, ip_len) ^ (bad_csum ? 0x0101 : 0)));
  return f;
}

tls::TrafficKeys tls_keys() {
  tls::TrafficKeys k;
  k.cipher = tls::Cipher::kAes128Gcm;
  k.key.assign(16, 0x3C);
  for (size_t i = 0; i < k.iv.size(); ++i) k.iv[i] = uint8_t(i * 11 + 5);
  return k;
}

// A DDP buffer: its own heap block, so ASan sees any write after it is given back.
struct Buffer {
  uint8_t* p = nullptr;
  size_t n = 0;
  uint32_t ctx = 0, rr_id = 0;
  uint8_t tag = 0;
  bool registered = false;  // kRrAdd processed
  bool del_posted = false;
};

// A command the NIC has accepted into its send ring but not run yet.
struct Posted {
  SendDesc::Kind kind;
  uint32_t ctx, rr_id;
};

class Harness {
 public:
  explicit Harness(FuzzedDataProvider& in) : in_(in), dec_(in), keys_(tls_keys()), rc_(keys_) {
    nic::NicConfig cfg;
    cfg.ctx_cache_bytes = 2048;  // small: contexts get evicted and fetched again
    cfg.send_ring_entries = 16;  // small: commands can be refused (ring full)
    cfg.rx_ring_entries = 32;
    nic_ = std::make_unique<nic::Nic>(cfg, nullptr, CpuDomain::kServerNic);
    flows_[0].key = FlowKey{0x0A000001, 0x0A000002, 4420, 50000};
    flows_[1].key = FlowKey{0x0A000001, 0x0A000002, 443, 50001};
  }
  ~Harness() {
    // The NIC goes first: only then is no buffer reachable (one whose teardown it never
    // confirmed stays alive until here).
    nic_.reset();
    for (Buffer& b : bufs_) delete[] b.p;
  }
  void run();

 private:
  template <class A> A decode() {
    A a;
    a.visit(dec_);
    return a;
  }
  void op(Op o);
  void post(SendDesc&& d, bool ring);
  void doorbell();
  void deliver(Bytes frame);
  void check_completion(const nic::RxCompletion& c, const Bytes& sent);
  void append(Flow& f, ByteSpan pdu);

  void create(const CreateArgs& a);
  void rr_add(const RrAddArgs& a);
  void rr_del(const RrDelArgs& a);
  void resync_resp(const ResyncArgs& a);
  void tx_recover(const TxRecoverArgs& a);
  void tx_packet(const TxPacketArgs& a);
  void append_pdu(const PduArgs& a);
  void append_record(const RecordArgs& a);
  void frame(const FrameArgs& a);

  FuzzedDataProvider& in_;
  Decoder dec_;
  tls::TrafficKeys keys_;
  tls::RecordCrypto rc_;
  std::array<Flow, 2> flows_;
  std::deque<Buffer> bufs_;
  std::deque<Posted> posted_;
  std::map<uint32_t, TcpSeq> resync_req_;  // ctx -> the last position it asked about
  std::map<uint32_t, std::pair<uint8_t, uint8_t>> ctx_kind_;  // ctx -> (flow, CreateArgs::Kind)
  uint32_t next_rr_ = 1;
  int ops_ = 0;
  size_t frames_ = 0, marked_ = 0, placed_ = 0, freed_ = 0, resyncs_ = 0;
  std::unique_ptr<nic::Nic> nic_;
};

void Harness::post(SendDesc&& d, bool ring) {
  const Posted p{d.kind, d.ctx, d.rr_id};
  if (nic_->post_send(std::move(d)) && p.kind != SendDesc::Kind::kPacket) posted_.push_back(p);
  if (ring) doorbell();
}

// The NIC runs what is in its send ring; the driver reads the command completions. A buffer is
// freed as soon as the NIC confirmed its teardown, or its context is gone.
void Harness::doorbell() {
  nic_->doorbell();
  for (const Posted& p : posted_) {
    for (size_t i = 0; i < bufs_.size(); ++i) {
      Buffer& b = bufs_[i];
      if (!b.p) continue;
      if (p.kind == SendDesc::Kind::kRrAdd && b.rr_id == p.rr_id) b.registered = true;
      if (p.kind == SendDesc::Kind::kCtxDestroy && b.ctx == p.ctx && b.registered) {
        delete[] b.p;  // the context and every mapping in it are gone
        b.p = nullptr;
        ++freed_;
      }
    }
  }
  posted_.clear();
  auto& ring = nic_->cmd_ring();
  while (!ring.empty()) {
    const nic::CmdCompletion c = ring.pop();
    if (c.kind != SendDesc::Kind::kRrDel || !c.ok) continue;
    for (Buffer& b : bufs_) {
      if (b.p && b.del_posted && b.ctx == c.ctx && b.rr_id == c.rr_id) {
        delete[] b.p;
        b.p = nullptr;
        ++freed_;
      }
    }
  }
}

void Harness::deliver(Bytes frame) {
  ++frames_;
  const Bytes sent = frame;
  nic_->deliver(std::move(frame));
  auto& ring = nic_->rx_ring();
  while (!ring.empty()) {
    const nic::RxCompletion c = ring.pop();
    if (c.resync_req) resync_req_[c.ctx] = *c.resync_req;
    if (c.inner_resync_req) resync_req_[c.inner_ctx] = *c.inner_resync_req;
    check_completion(c, sent);
  }
}

void Harness::check_completion(const nic::RxCompletion& c, const Bytes& sent) {
  if (c.offloaded) ++marked_;
  if (!c.offloaded) FUZZ_CHECK(c.frame == sent, "the NIC changed a frame it did not mark");
  // A mark that begins inside the packet (issue #15): the bytes before it are the wire's, and
  // nothing is placed from them; the inner mark never begins before the outer one.
  const size_t from = c.offloaded ? c.mark_from : 0;
  FUZZ_CHECK(from <= c.frame.size() && std::equal(c.frame.begin(), c.frame.begin() + long(from), sent.begin()),
             "the NIC changed bytes before its mark");
  FUZZ_CHECK(!c.inner_marked || (c.offloaded && (c.inner_mark_from == 0 ? from == 0 : c.inner_mark_from >= from)),
             "the inner mark begins before the outer one");
  if (c.placed.empty()) return;
  FUZZ_CHECK(c.offloaded, "the NIC reported placements for a frame it did not mark");
  for (const PlacedRange& r : c.placed) FUZZ_CHECK(r.off >= from, "a placement from bytes the NIC did not mark");
  const auto tcp = TcpFrameView::parse(c.frame);
  FUZZ_CHECK(tcp.has_value(), "the NIC placed data from a frame that is not TCP");
  bool overlap = false;
  for (size_t i = 0; i < c.placed.size(); ++i) {
    const PlacedRange& r = c.placed[i];
    ++placed_;
    FUZZ_CHECK(r.len > 0 && r.off >= tcp->payload_off && r.off + r.len <= tcp->payload_off + tcp->payload_len,
               "a placement that is not inside the frame's TCP payload");
    bool inside = false;
    for (const Buffer& b : bufs_) {
      if (!b.p || !b.registered || (b.ctx != c.ctx && b.ctx != c.inner_ctx)) continue;
      if (r.dst >= b.p && r.dst + r.len <= b.p + b.n) inside = true;
    }
    FUZZ_CHECK(inside, "the NIC placed data outside every buffer registered (and not torn down) on its context");
    for (size_t j = 0; j < i; ++j)
      if (c.placed[j].dst < r.dst + r.len && r.dst < c.placed[j].dst + c.placed[j].len) overlap = true;
  }
  if (overlap) return;  // (a later PDU of the frame may have overwritten an earlier one's bytes)
  for (const PlacedRange& r : c.placed)
    FUZZ_CHECK(std::equal(r.dst, r.dst + r.len, c.frame.begin() + long(r.off)),
               "a placed buffer does not hold the bytes the NIC reports it placed");
}

void Harness::create(const CreateArgs& a) {
  Flow& f = flows_[a.flow];
  SendDesc d;
  d.kind = SendDesc::Kind::kCtxCreate;
  d.ctx = a.ctx;
  d.flow = f.key;
  const bool hd = a.opts & 1, dd = a.opts & 2, ddp = !(a.opts & 4);
  const uint32_t skew = (a.opts & 8) ? a.skew : 0;  // a start that is not a message boundary
  switch (a.kind) {
    case CreateArgs::kNvmeRx:
    case CreateArgs::kNvmeTx:
      d.dir = a.kind == CreateArgs::kNvmeRx ? l5o::Direction::kRx : l5o::Direction::kTx;
      d.state = std::make_shared<proto::nvme::NvmeL5State>(hd, dd, ddp);
      d.tcpsn = TcpSeq(f.isn + uint32_t(f.stream.size()) + skew);
      if (a.kind == CreateArgs::kNvmeRx) f.tls = false, f.hd = hd, f.dd = dd;
      break;
    case CreateArgs::kTlsRx:
    case CreateArgs::kTlsTx:
      d.dir = a.kind == CreateArgs::kTlsRx ? l5o::Direction::kRx : l5o::Direction::kTx;
      d.state = std::make_shared<proto::tls::TlsL5State>(keys_, 0);
      d.tcpsn = TcpSeq(f.isn + uint32_t(f.stream.size()) + skew);
      if (a.kind == CreateArgs::kTlsRx) {
        f.tls = true;
        f.rec_seq = 0;
        f.inner_base = f.inner_sent;
      }
      break;
    case CreateArgs::kNvmeInnerRx:
    case CreateArgs::kNvmeInnerTx:
      d.outer = a.outer;
      d.state = std::make_shared<proto::nvme::NvmeL5State>(hd, dd, ddp);
      d.tcpsn = TcpSeq(uint32_t(f.inner.size() - f.inner_base) + skew);  // in the TLS payload stream
      if (a.kind == CreateArgs::kNvmeInnerRx) f.hd = hd, f.dd = dd;
      break;
  }
  ctx_kind_[a.ctx] = {a.flow, a.kind};
  if (a.kind == CreateArgs::kNvmeRx || a.kind == CreateArgs::kTlsRx) f.starts.clear(), f.msgs = 0;
  if (a.kind == CreateArgs::kNvmeInnerRx) f.inner_starts.clear(), f.inner_msgs = 0;
  post(std::move(d), a.ring);
}

void Harness::rr_add(const RrAddArgs& a) {
  Buffer& b = bufs_.emplace_back();
  b.n = a.size;
  b.p = new uint8_t[b.n];
  std::fill(b.p, b.p + b.n, uint8_t(0xAB));
  b.ctx = a.ctx;
  b.rr_id = next_rr_++;
  b.tag = a.tag;
  SendDesc d;
  d.kind = SendDesc::Kind::kRrAdd;
  d.ctx = a.ctx;
  d.rr_id = b.rr_id;
  d.rr = l5o::RrState{a.tag, MutByteSpan(b.p, b.n)};
  post(std::move(d), a.ring);
}

void Harness::rr_del(const RrDelArgs& a) {
  std::vector<Buffer*> live;
  for (Buffer& b : bufs_)
    if (b.p && !b.del_posted) live.push_back(&b);
  if (live.empty()) return;
  Buffer& b = *live[a.pick % live.size()];
  b.del_posted = true;
  SendDesc d;
  d.kind = SendDesc::Kind::kRrDel;
  d.ctx = b.ctx;
  d.rr_id = b.rr_id;
  post(std::move(d), a.ring);
}

void Harness::resync_resp(const ResyncArgs& a) {
  SendDesc d;
  d.kind = SendDesc::Kind::kRxResyncResp;
  d.ctx = a.ctx;
  auto it = resync_req_.find(a.ctx);
  const TcpSeq last = it == resync_req_.end() ? TcpSeq(0) : it->second;
  d.tcpsn = a.mode <= 1 ? last : a.mode == 2 ? last + uint32_t(a.v % 64) - 32u : TcpSeq(a.v * 977u);
  d.ok = a.ok;
  d.msg_index = a.index;
  d.payload_pos = TcpSeq(a.v);
  if (a.mode == 0) {
    // The L5P's answer: yes exactly where one of the messages it parsed starts.
    auto k = ctx_kind_.find(a.ctx);
    d.ok = false;
    if (k != ctx_kind_.end()) {
      const Flow& f = flows_[k->second.first];
      const auto& starts = k->second.second == CreateArgs::kNvmeInnerRx ? f.inner_starts : f.starts;
      if (auto st = starts.find(last.raw()); st != starts.end()) {
        d.ok = true;
        d.msg_index = st->second.index;
        d.payload_pos = TcpSeq(st->second.payload);
      }
    }
  }
  ++resyncs_;
  post(std::move(d), a.ring);
}

void Harness::tx_recover(const TxRecoverArgs& a) {
  SendDesc d;
  d.kind = SendDesc::Kind::kTxRecover;
  d.ctx = a.ctx;
  const Flow& f = flows_[0];
  d.msg_start = TcpSeq(f.isn + a.start);
  d.msg_index = a.index;
  d.payload_pos = TcpSeq(a.start / 2);
  const size_t from = std::min<size_t>(a.start, f.stream.size());
  d.prefix.assign(f.stream.begin() + long(from), f.stream.begin() + long(std::min(f.stream.size(), from + a.plen)));
  d.prefix.resize(a.plen, 0x5A);
  d.inner = SendDesc::InnerRecover(a.inner);
  d.inner_msg_start = TcpSeq(a.start / 3);
  d.inner_msg_index = a.index / 2;
  d.inner_payload_pos = TcpSeq(a.start / 3);
  d.inner_prefix.assign(d.prefix.begin(), d.prefix.begin() + long(d.prefix.size() / 2));
  post(std::move(d), a.ring);
}

void Harness::tx_packet(const TxPacketArgs& a) {
  const Flow& f = flows_[a.flow];
  const size_t from = std::min<size_t>(a.off, f.stream.size());
  const size_t n = std::min<size_t>(a.len, f.stream.size() - from);
  SendDesc d;
  d.kind = SendDesc::Kind::kPacket;
  d.ctx = a.ctx;
  d.frame = make_frame(f.key.reversed(), f.isn + uint32_t(from), ByteSpan(f.stream).subspan(from, n), false, false);
  post(std::move(d), a.ring);
}

void Harness::append(Flow& f, ByteSpan pdu) {
  Bytes& to = f.tls ? f.inner : f.stream;
  if (to.size() + pdu.size() > kMaxStream) return;
  if (f.tls) f.inner_starts[uint32_t(f.inner.size() - f.inner_base)] = Flow::Start{f.inner_msgs++, 0};
  else f.starts[f.isn + uint32_t(f.stream.size())] = Flow::Start{f.msgs++, 0};
  to.insert(to.end(), pdu.begin(), pdu.end());
}

// An NVMe/TCP PDU the controller sends: C2HData aimed at a registered CID (inside its buffer,
// or not), or another PDU the NIC must walk past.
void Harness::append_pdu(const PduArgs& a) {
  Flow& f = flows_[a.flow];
  PduSpec s;
  s.hd = f.hd != bool(a.knobs & PduArgs::kFlipDigests);
  s.dd = f.dd;
  s.bad_hdgst = a.knobs & PduArgs::kBadHd;
  s.bad_ddgst = a.knobs & PduArgs::kBadDd;
  s.pad = (a.knobs & PduArgs::kPad) ? 8 : 0;
  s.spec.assign(16, 0);
  Bytes data;
  // The CID: one registered on this flow's contexts (by index), or any.
  uint16_t cid = a.tag;
  if (!(a.knobs & PduArgs::kRandomTag)) cid = a.tag % 8;
  switch (a.type) {
    case 0: {
      s.type = uint8_t(nv::PduType::kC2HData);
      s.flags = (a.knobs & PduArgs::kLast) ? nv::kFlagLast : 0;
      // Mostly inside the buffer of that tag (its size is up to the buffer): offset from the input.
      size_t bsize = 0;
      for (const Buffer& b : bufs_)
        if (b.p && b.tag == cid) bsize = b.n;
      const uint32_t len = bsize && !(a.knobs & PduArgs::kOffOutside) ? 1 + a.len % uint32_t(bsize) : a.len;
      const uint32_t off = bsize && !(a.knobs & PduArgs::kOffOutside) ? a.off % uint32_t(bsize - len + 1) : a.off;
      data.resize(len);
      for (size_t i = 0; i < len; ++i) data[i] = uint8_t(a.seed + i * 7);
      nv::put16(s.spec.data(), cid);
      nv::put32(s.spec.data() + 4, off);
      nv::put32(s.spec.data() + 8, len);
      break;
    }
    case 1:
      s.type = uint8_t(nv::PduType::kCapsuleResp);
      nv::put16(s.spec.data() + 12, cid);
      break;
    case 2:
      s.type = uint8_t(nv::PduType::kR2T);
      nv::put16(s.spec.data(), cid);
      nv::put32(s.spec.data() + 8, a.len);
      break;
    default:
      s.type = uint8_t(nv::PduType::kC2HTermReq);
      break;
  }
  s.data = data;
  append(f, build_pdu(s).bytes);
}

// A TLS record carrying the next bytes of the flow's inner (NVMe) stream, or filler.
void Harness::append_record(const RecordArgs& a) {
  Flow& f = flows_[a.flow];
  // The record's content is the next part of the inner stream (filler if there is none: it is
  // payload all the same, for the NIC and for the inner L5P).
  if (f.inner.size() == f.inner_sent) f.inner.resize(f.inner.size() + a.len, uint8_t(a.knobs));
  const size_t n = std::min<size_t>(a.len, f.inner.size() - f.inner_sent);
  Bytes inner(f.inner.begin() + long(f.inner_sent), f.inner.begin() + long(f.inner_sent + n));
  const uint32_t payload = uint32_t(f.inner_sent - f.inner_base);
  f.inner_sent += n;
  inner.push_back(uint8_t(tls::ContentType::kApplicationData));
  if (a.knobs & 4) inner.resize(inner.size() + 3, 0);  // padded: the inner offload must stop trusting
  const uint16_t len = uint16_t(inner.size() + tls::kTagLen);
  const uint8_t hdr[tls::kHeaderLen] = {23, 3, 3, uint8_t(len >> 8), uint8_t(len)};
  if (f.stream.size() + tls::kHeaderLen + len > kMaxStream) return;
  const size_t at = f.stream.size();
  f.starts[f.isn + uint32_t(at)] = Flow::Start{f.rec_seq, payload};
  f.stream.insert(f.stream.end(), hdr, hdr + tls::kHeaderLen);
  f.stream.resize(at + tls::kHeaderLen + len);
  const uint64_t seq = f.rec_seq + ((a.knobs & 1) ? 1 : 0);
  rc_.seal(seq, ByteSpan(hdr, tls::kHeaderLen), inner, f.stream.data() + at + tls::kHeaderLen);
  ++f.rec_seq;
  if (a.knobs & 2) f.stream[at + tls::kHeaderLen + inner.size() / 2] ^= 0x20;  // tampered on the way
}

void Harness::frame(const FrameArgs& a) {
  Flow& f = flows_[a.flow];
  size_t off = f.next;
  switch (a.where) {
    case FrameArgs::kNext: break;
    case FrameArgs::kBack: off = f.next - std::min<size_t>(f.next, a.d); break;
    case FrameArgs::kAhead: off = f.next + a.d; break;
    case FrameArgs::kAnywhere: off = a.d; break;
  }
  off = std::min(off, f.stream.size());
  const size_t n = std::min<size_t>(a.len, f.stream.size() - off);
  FlowKey k = f.key;
  if (a.knobs & 4) k.sport ^= 1;  // a flow no context follows
  const bool bad_csum = (a.knobs & 0x31) == 0x31;
  deliver(make_frame(k, f.isn + uint32_t(off), ByteSpan(f.stream).subspan(off, n), a.knobs & 2, bad_csum));
  if (a.where == FrameArgs::kNext) f.next = off + n;
}

void Harness::op(Op o) {
  switch (o) {
    case Op::kCreate: return create(decode<CreateArgs>());
    case Op::kDestroy: {
      const auto a = decode<CtxArgs>();
      SendDesc d;
      d.kind = SendDesc::Kind::kCtxDestroy;
      d.ctx = a.ctx;
      return post(std::move(d), a.ring);
    }
    case Op::kRrAdd: return rr_add(decode<RrAddArgs>());
    case Op::kRrDel: return rr_del(decode<RrDelArgs>());
    case Op::kResyncResp: return resync_resp(decode<ResyncArgs>());
    case Op::kTxRecover: return tx_recover(decode<TxRecoverArgs>());
    case Op::kTxPacket: return tx_packet(decode<TxPacketArgs>());
    case Op::kAppendPdu: return append_pdu(decode<PduArgs>());
    case Op::kAppendRecord: return append_record(decode<RecordArgs>());
    case Op::kAppendRaw: {
      const auto a = decode<RawArgs>();
      return append(flows_[a.flow], a.data);
    }
    case Op::kFrame: return frame(decode<FrameArgs>());
    case Op::kRawFrame: {
      auto a = decode<RawFrameArgs>();
      return deliver(std::move(a.data));
    }
    case Op::kDoorbell: return doorbell();
    case Op::kReset:  // device reset mid-stream (tls_device_down): every context and mapping gone
      nic_->reset();
      return doorbell();
    case Op::kCount: return;
  }
}

void Harness::run() {
  uint32_t isn = 0;
  dec_(isn);
  flows_[0].isn = isn;
  flows_[1].isn = isn * 7 + 0x80000000u;
  while (in_.remaining_bytes() > 0 && ops_ < kMaxOps) {
    ++ops_;
    uint8_t o = 0;
    dec_.range(o, uint8_t(0), kLastOp);
    op(Op(o));
  }
  doorbell();
  if (trace_on())
    std::fprintf(stderr,
                 "[nic] ops=%d frames=%zu marked=%zu placed=%zu buffers=%zu freed=%zu resyncs=%zu streams=%zu/%zu\n",
                 ops_, frames_, marked_, placed_, bufs_.size(), freed_, resyncs_, flows_[0].stream.size(),
                 flows_[1].stream.size());
}

// ---- seeds ----

struct Script {
  SeedWriter w;
  Encoder e{w};
  explicit Script(uint32_t isn) { e(isn); }
  template <class A> Script& op(Op o, A a) {
    uint8_t code = uint8_t(o);
    e.range(code, uint8_t(0), kLastOp);
    a.visit(e);
    return *this;
  }
  Script& frames(uint8_t flow, int n, uint16_t len = 1460) {
    for (int i = 0; i < n; ++i) op(Op::kFrame, FrameArgs{flow, FrameArgs::kNext, 0, 0, len});
    return *this;
  }
  Seed seed(const char* name) const { return Seed{name, w.finish()}; }
};

CreateArgs create_args(uint8_t ctx, CreateArgs::Kind k, uint8_t flow, uint8_t outer = 1, uint8_t opts = 3) {
  CreateArgs a;
  a.ctx = ctx;
  a.kind = k;
  a.flow = flow;
  a.outer = outer;
  a.opts = opts;
  return a;
}
PduArgs c2h(uint8_t flow, uint8_t tag, uint16_t off, uint16_t len, uint8_t knobs = PduArgs::kLast) {
  PduArgs a;
  a.flow = flow;
  a.type = 0;
  a.tag = tag;
  a.knobs = knobs;
  a.seed = uint8_t(tag * 17 + 1);
  a.off = off;
  a.len = len;
  return a;
}

std::vector<Seed> seeds() {
  std::vector<Seed> out;
  const RrAddArgs buf1{1, 1, 4096, true};
  out.push_back(Script(1000)
                    .op(Op::kCreate, create_args(1, CreateArgs::kNvmeRx, 0))
                    .op(Op::kRrAdd, buf1)
                    .op(Op::kAppendPdu, c2h(0, 1, 0, 4095))
                    .frames(0, 4)
                    .op(Op::kRrDel, RrDelArgs{0, true})
                    .seed("nvme-ddp-in-order"));
  out.push_back(Script(0xFFFFF000u)
                    .op(Op::kCreate, create_args(1, CreateArgs::kNvmeRx, 0))
                    .op(Op::kRrAdd, buf1)
                    .op(Op::kAppendPdu, c2h(0, 1, 0, 4095))
                    .frames(0, 1, 1000)
                    .op(Op::kRrDel, RrDelArgs{0, true})
                    .frames(0, 3)
                    .seed("nvme-ddp-teardown-mid-pdu"));
  {
    Script sc(77);
    sc.op(Op::kCreate, create_args(1, CreateArgs::kNvmeRx, 0))
        .op(Op::kRrAdd, buf1)
        .op(Op::kRrAdd, RrAddArgs{1, 2, 2048, false});
    for (int i = 0; i < 4; ++i) sc.op(Op::kAppendPdu, c2h(0, uint8_t(1 + i % 2), 0, 1999));
    sc.frames(0, 1, 300)
        .op(Op::kFrame, FrameArgs{0, FrameArgs::kAhead, 0, 2000, 1000})
        .op(Op::kFrame, FrameArgs{0, FrameArgs::kAhead, 0, 3000, 1460})
        .op(Op::kResyncResp, ResyncArgs{1, 0, 0, true, true, 0})
        .frames(0, 6);
    out.push_back(sc.seed("nvme-loss-resync-ddp"));
  }
  {
    Script sc(5);
    sc.op(Op::kCreate, create_args(2, CreateArgs::kTlsRx, 1));
    for (int i = 0; i < 4; ++i) sc.op(Op::kAppendRecord, RecordArgs{1, 0, 1000});
    sc.frames(1, 1, 500).op(Op::kFrame, FrameArgs{1, FrameArgs::kAhead, 0, 1500, 1000});
    sc.op(Op::kResyncResp, ResyncArgs{2, 0, 0, true, true, 0}).frames(1, 3);
    out.push_back(sc.seed("tls-rx-resync"));
  }
  {
    Script sc(9);
    sc.op(Op::kCreate, create_args(2, CreateArgs::kTlsRx, 1))
        .op(Op::kCreate, create_args(3, CreateArgs::kNvmeInnerRx, 1, 2))
        .op(Op::kRrAdd, RrAddArgs{3, 2, 3000, true})
        .op(Op::kAppendPdu, c2h(1, 2, 0, 2999))
        .op(Op::kAppendPdu, c2h(1, 5, 0, 100, PduArgs::kLast | PduArgs::kBadDd));
    for (int i = 0; i < 3; ++i) sc.op(Op::kAppendRecord, RecordArgs{1, 0, 1200});
    sc.frames(1, 4).op(Op::kRrDel, RrDelArgs{0, true}).frames(1, 1);
    out.push_back(sc.seed("composed-tls-nvme-ddp"));
  }
  {
    Script sc(123);
    sc.op(Op::kCreate, create_args(4, CreateArgs::kNvmeTx, 0))
        .op(Op::kAppendPdu, c2h(0, 3, 0, 2000))
        .op(Op::kTxPacket, TxPacketArgs{4, 0, 0, 1000, true})
        .op(Op::kTxPacket, TxPacketArgs{4, 0, 1000, 1000, true})
        .op(Op::kTxRecover, TxRecoverArgs{4, 0, 0, 0, 500, true})
        .op(Op::kTxPacket, TxPacketArgs{4, 0, 500, 1460, true})
        .op(Op::kCreate, create_args(5, CreateArgs::kTlsTx, 1))
        .op(Op::kAppendRecord, RecordArgs{1, 0, 800})
        .op(Op::kTxPacket, TxPacketArgs{5, 1, 0, 900, true});
    out.push_back(sc.seed("tx-nvme-tls-recover"));
  }
  {
    RawFrameArgs r;
    r.data = make_frame(FlowKey{1, 2, 3, 4}, 5, Bytes(40, 0x23), true, false);
    r.len = uint16_t(r.data.size());
    out.push_back(Script(0).op(Op::kRawFrame, r).op(Op::kDestroy, CtxArgs{1, true}).seed("raw-frame"));
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
  FuzzedDataProvider in(data, size);
  autonic::fuzz::Harness h(in);
  h.run();
  return 0;
}
