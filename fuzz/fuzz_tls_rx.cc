// Fuzz target: the TLS 1.3 record layer's receive path (TlsRx), alone and behind the NIC's RX
// engine (RxOffloadFlow + TlsPlugin).
//
// The input builds a valid AES-GCM record stream from chosen plaintexts (application data,
// alerts, handshake records, padding), then tampers with it as an attacker on the path would
// (bit flips, truncation, inserted garbage, deleted or replayed ranges) and delivers it:
//  - path A: in chosen chunks with chosen marks, the marked bytes decrypted in place as the NIC
//    would have done -- a chunk is marked only if every record ending in it authenticates (the
//    NIC's rule); marked chunks may arrive "placed" (composed DDP: referenced, not copied);
//  - path B: cut into TCP segments that arrive in a chosen order, with drops and retransmissions,
//    through the NIC's real RX engine (which sets the marks, decrypts in place and asks for
//    resyncs that TlsRx answers), then TCP reassembly, then TlsRx.
// Oracles: TlsRx never hands up a byte that is not the sender's application plaintext, in order
// (tampered records end in an alert and never reach the application); an untampered stream
// delivered in full is handed up completely, with the outcome its records call for; a packet the
// NIC leaves unmarked carries the wire bytes, one it marks carries exactly their decryption.
#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "fuzz_util.h"
#include "l5p/tls/tls_post_hs.h"
#include "l5p/tls/tls_rx.h"
#include "l5p/tls/tls_sw.h"
#include "nic/engine/rx_offload.h"
#include "nic/plugins/tls/tls_plugin.h"

namespace autonic::fuzz {
namespace {

using namespace l5p::tls;

constexpr size_t kMaxWire = 64 * 1024;

// ---- arguments ----

struct RecordArgs {
  uint16_t len = 0;   // content bytes
  uint8_t kind = 0;   // 0-4 application data, 5 close_notify, 6 another alert, 7 handshake
  uint8_t pad = 0;    // zero padding after the content type (RFC 8446 §5.4)
  uint8_t seed = 0;
  template <class V> void visit(V& v) {
    v.range(len, uint16_t(0), uint16_t(17000));
    v.range(kind, uint8_t(0), uint8_t(7));
    v.range(pad, uint8_t(0), uint8_t(3));
    v(seed);
  }
};
struct MutationArgs {
  enum Kind : uint8_t { kFlip, kTruncate, kInsert, kOverwrite, kDelete, kReplay };
  uint8_t kind = 0, val = 0;
  uint32_t pos = 0;
  uint16_t len = 0;
  template <class V> void visit(V& v) {
    v.range(kind, uint8_t(0), uint8_t(kReplay));
    v(pos);
    v(val);
    v.range(len, uint16_t(0), uint16_t(600));
  }
};
struct ChunkArgs {  // path A
  uint16_t size = 0;
  uint8_t flags = 0;  // bit 0 marked, bit 1 placed, bit 2 inner mark
  template <class V> void visit(V& v) {
    v(size);
    v(flags);
  }
};
struct PacketArgs {  // path B
  uint16_t size = 0;
  uint8_t order = 0;  // arrival: by this key; >= 0xF0: lost, retransmitted after the rest
  template <class V> void visit(V& v) {
    v(size);
    v(order);
  }
};
struct Args {
  bool aes256 = false;
  uint8_t path = 0;
  std::vector<RecordArgs> recs;
  std::vector<MutationArgs> muts;
  std::vector<ChunkArgs> chunks;
  uint32_t isn = 0;
  std::vector<PacketArgs> pkts;
  template <class V> void visit(V& v) {
    v(aes256);
    uint8_t n = uint8_t(recs.size());
    v.range(n, uint8_t(1), uint8_t(12));
    recs.resize(n);
    for (auto& r : recs) r.visit(v);
    n = uint8_t(muts.size());
    v.range(n, uint8_t(0), uint8_t(4));
    muts.resize(n);
    for (auto& m : muts) m.visit(v);
    v.range(path, uint8_t(0), uint8_t(1));
    if (path == 0) {
      n = uint8_t(chunks.size());
      v.range(n, uint8_t(1), uint8_t(32));
      chunks.resize(n);
      for (auto& c : chunks) c.visit(v);
    } else {
      v(isn);
      n = uint8_t(pkts.size());
      v.range(n, uint8_t(1), uint8_t(32));
      pkts.resize(n);
      for (auto& p : pkts) p.visit(v);
    }
  }
};

TrafficKeys keys(bool aes256) {
  TrafficKeys k;
  k.cipher = aes256 ? Cipher::kAes256Gcm : Cipher::kAes128Gcm;
  k.key.resize(key_len(k.cipher));
  for (size_t i = 0; i < k.key.size(); ++i) k.key[i] = uint8_t(0x40 + i * 7);
  for (size_t i = 0; i < k.iv.size(); ++i) k.iv[i] = uint8_t(0x90 ^ (i * 13));
  return k;
}

// ---- the sender ----

struct Sent {
  Bytes wire;
  Bytes app;            // what TlsRx must hand up, in order, for the untampered stream
  bool fails = false;   // the untampered stream ends in a failure (an alert, overflow, ...)
  bool closes = false;  // ... or in close_notify with nothing after it
};

Sent send(const Args& a, RecordCrypto& rc) {
  Sent s;
  bool over = false;  // a record that ends the stream came already
  // Handshake-type records after the handshake are a message stream of their own (RFC 8446
  // §4.6, §5.1): their verdict is the post-handshake reassembler's (tls_post_hs.h, unit-tested on
  // its own in tls_post_handshake_test); what the model adds is where it sits in the record flow.
  l5p::tls::TlsStats ph_stats;
  l5p::tls::PostHandshakeRx post_hs(true, ph_stats);
  for (size_t i = 0; i < a.recs.size(); ++i) {
    const RecordArgs& r = a.recs[i];
    Bytes content(r.len);
    for (size_t k = 0; k < content.size(); ++k) content[k] = uint8_t(r.seed + k * 29 + (k >> 7));
    uint8_t type = uint8_t(ContentType::kApplicationData);
    if (r.kind == 5 || r.kind == 6) {
      type = uint8_t(ContentType::kAlert);
      content = {r.kind == 5 ? uint8_t(1) : uint8_t(2), r.kind == 5 ? uint8_t(0) : uint8_t(40)};
    } else if (r.kind == 7) {
      type = uint8_t(ContentType::kHandshake);
    }
    static constexpr uint8_t kPad[] = {0, 1, 17, 200};
    const size_t pad = kPad[r.pad];
    const size_t inner_len = content.size() + 1 + pad;
    if (inner_len + kTagLen > 0xFFFF || s.wire.size() + kHeaderLen + inner_len + kTagLen > kMaxWire) break;
    Bytes inner = content;
    inner.push_back(type);
    inner.resize(inner_len, 0);
    const uint16_t len = uint16_t(inner_len + kTagLen);
    const uint8_t hdr[kHeaderLen] = {23, 3, 3, uint8_t(len >> 8), uint8_t(len)};
    const size_t at = s.wire.size();
    s.wire.insert(s.wire.end(), hdr, hdr + kHeaderLen);
    s.wire.resize(at + kHeaderLen + len);
    rc.seal(i, ByteSpan(hdr, kHeaderLen), inner, s.wire.data() + at + kHeaderLen);
    // What the receiver makes of it (tls_rx.cc): the first record that ends the stream decides.
    if (over) continue;
    if (s.closes) {
      s.closes = false;
      s.fails = true;  // data after close_notify
      over = true;
    } else if (len > kMaxCiphertext) {
      s.fails = over = true;
    } else if (type == uint8_t(ContentType::kHandshake)) {
      if (content.size() > kMaxPlaintext || post_hs.feed(content)) s.fails = over = true;
    } else if (post_hs.mid_message()) {
      s.fails = over = true;  // no other record type inside a split handshake message
    } else if (type == uint8_t(ContentType::kApplicationData)) {
      if (content.size() > kMaxPlaintext) s.fails = over = true;
      else s.app.insert(s.app.end(), content.begin(), content.end());
    } else if (r.kind == 5) {
      s.closes = true;
    } else {
      s.fails = over = true;
    }
  }
  return s;
}

Bytes tamper(Bytes w, const std::vector<MutationArgs>& muts) {
  for (const MutationArgs& m : muts) {
    if (w.empty()) break;
    const size_t pos = m.pos % w.size();
    switch (m.kind) {
      case MutationArgs::kFlip: w[pos] ^= uint8_t(1u << (m.val % 8)); break;
      case MutationArgs::kTruncate: w.resize(pos); break;
      case MutationArgs::kInsert: w.insert(w.begin() + long(pos), m.len, m.val); break;
      case MutationArgs::kOverwrite: w[pos] = m.val; break;
      case MutationArgs::kDelete:
        w.erase(w.begin() + long(pos), w.begin() + long(std::min(w.size(), pos + m.len)));
        break;
      case MutationArgs::kReplay: {
        const Bytes r(w.begin() + long(pos), w.begin() + long(std::min(w.size(), pos + m.len)));
        w.insert(w.begin() + long(std::min(w.size(), pos + m.len)), r.begin(), r.end());
        break;
      }
    }
  }
  return w;
}

// The (possibly tampered) stream as the NIC frames it: records by their headers, until one its
// probe refuses (TlsRx frames the same way, but stops earlier, at a type other than
// application_data). plain = the wire with every record's ciphertext decrypted in place (what a
// NIC that processed it in sequence leaves); ends = where complete records end, and whether
// they authenticate.
// placeable: where a NIC running a composed offload (NVMe inside TLS) may place plaintext --
// record content as the inner L5P sees it: never a header, tag, content type or padding.
struct View {
  Bytes plain;
  size_t framed = 0;  // bytes inside records whose header is valid (complete or not)
  std::map<size_t, bool> ends;
  std::map<size_t, size_t> placeable;  // start -> end
};

View view(const Bytes& wire, RecordCrypto& rc) {
  View v;
  v.plain = wire;
  size_t pos = 0;
  v.framed = wire.size();  // (a header cut short at the end is framed as far as it goes)
  for (uint64_t seq = 0; pos + kHeaderLen <= wire.size(); ++seq) {
    v.framed = pos;
    uint16_t len = 0;
    if (check_header(ByteSpan(&wire[pos], kHeaderLen), &len) != HeaderCheck::kOk) break;
    const size_t end = pos + kHeaderLen + len, ct_end = std::min(end - kTagLen, wire.size());
    if (ct_end > pos + kHeaderLen)
      rc.ctr_xor(seq, 0, MutByteSpan(v.plain.data() + pos + kHeaderLen, ct_end - pos - kHeaderLen));
    v.framed = std::min(end, wire.size());
    // The inner L5P gets the record's plaintext but its last byte (tls_plugin.cc to_inner).
    if (ct_end > pos + kHeaderLen + 1) v.placeable[pos + kHeaderLen] = ct_end - 1;
    if (end > wire.size()) break;
    Bytes out(len - kTagLen);
    const bool ok = rc.open(seq, ByteSpan(&wire[pos], kHeaderLen), ByteSpan(&wire[pos + kHeaderLen], len), out.data());
    v.ends[end] = ok;
    if (ok) {
      // A padded record: the type byte and the zeros before the last byte are not content
      // either. (The NIC learns of the padding only at the record's end: see fuzz/README.md.)
      size_t type_at = out.size();
      while (type_at > 0 && out[type_at - 1] == 0) --type_at;
      if (type_at > 1) v.placeable[pos + kHeaderLen] = pos + kHeaderLen + type_at - 1;
      else v.placeable.erase(pos + kHeaderLen);
    }
    pos = end;
    v.framed = wire.size();
  }
  return v;
}

// ---- the receiver and the oracles ----

class Receiver {
 public:
  Receiver(const TrafficKeys& k, const Sent& s, l5p::RxResyncAnswerer::Answer answer)
      : s_(s), rx_(k, st_, [this](ByteSpan d, bool) { on_deliver(d); }, std::move(answer)) {}
  TlsRx& rx() { return rx_; }
  // False once TlsRx failed (the session would send its alert and close).
  bool input(ByteSpan d, bool marked, bool inner, bool placed) {
    if (failure_) return false;
    if (auto f = rx_.input(d, marked, inner, placed)) failure_ = f->outcome;
    return !failure_;
  }
  // untampered: the stream is what the sender sent; complete: all of it went in (unless TlsRx
  // stopped taking it).
  void finish(bool untampered, bool complete) {
    if (!untampered) return;
    if (failure_) {
      FUZZ_CHECK(s_.fails, "TlsRx failed on an untampered stream");
      FUZZ_CHECK(got_ == s_.app.size(), "TlsRx failed on an untampered stream before the record that calls for it");
    }
    if (!complete) return;
    FUZZ_CHECK(got_ == s_.app.size(), "TlsRx did not hand up all the application data of an untampered stream");
    FUZZ_CHECK(bool(failure_) == s_.fails, "TlsRx's verdict on an untampered stream is not what its records call for");
    if (!s_.fails) FUZZ_CHECK(rx_.closed() == s_.closes, "TlsRx missed (or invented) a close_notify");
  }
  size_t delivered() const { return got_; }
  const std::optional<std::string>& failure() const { return failure_; }

 private:
  void on_deliver(ByteSpan d) {
    FUZZ_CHECK(!failure_, "TlsRx handed data up after it failed");
    FUZZ_CHECK(got_ + d.size() <= s_.app.size() && std::equal(d.begin(), d.end(), s_.app.begin() + long(got_)),
               "TlsRx handed up bytes that are not the sender's plaintext (in order)");
    got_ += d.size();
  }
  const Sent& s_;
  TlsStats st_;
  TlsRx rx_;
  size_t got_ = 0;
  std::optional<std::string> failure_;
};

// Path A: chunks with the NIC's marks emulated.
void run_chunks(const Args& a, const TrafficKeys& k, const Sent& s, const Bytes& wire, RecordCrypto& rc) {
  const View v = view(wire, rc);
  Receiver r(k, s, [](TcpSeq, bool, uint64_t, TcpSeq) {});
  r.rx().start(TcpSeq(0));
  std::deque<Bytes> placed;  // "host buffers" placed chunks live in: valid until the input ends
  size_t pos = 0;
  for (size_t i = 0; i < a.chunks.size() && pos < wire.size(); ++i) {
    const bool last = i + 1 == a.chunks.size();
    const size_t n = last ? wire.size() - pos : 1 + a.chunks[i].size % (wire.size() - pos);
    // The NIC marks a packet only inside records it framed, and only if every record that
    // ends in it authenticated.
    bool marked = (a.chunks[i].flags & 1) && pos + n <= v.framed;
    for (auto e = v.ends.upper_bound(pos); marked && e != v.ends.end() && e->first <= pos + n; ++e)
      marked = e->second;
    ByteSpan d(marked ? &v.plain[pos] : &wire[pos], n);
    auto room = v.placeable.upper_bound(pos);
    const bool place = marked && (a.chunks[i].flags & 2) && room != v.placeable.begin() &&
                       pos + n <= std::prev(room)->second;
    if (place) d = placed.emplace_back(d.begin(), d.end());
    const bool ok = r.input(d, marked, marked && (a.chunks[i].flags & 4), place);
    pos += n;
    if (!ok) break;
  }
  r.finish(wire == s.wire, pos == wire.size());
  if (trace_on())
    std::fprintf(stderr, "[tls_rx] chunks: delivered %zu, %s\n", r.delivered(),
                 r.failure() ? r.failure()->c_str() : "ok");
}

// Path B: TCP segments through the NIC's RX engine, then TCP reassembly, then TlsRx.
class NicPath {
 public:
  NicPath(const TrafficKeys& k, const Sent& s, const Bytes& wire, const View& v, TcpSeq isn)
      : wire_(wire), v_(v), isn_(isn),
        flow_(plugin_, plugin_.make_flow(proto::tls::TlsL5State(k, 0), l5o::Direction::kRx), isn),
        r_(k, s, [this](TcpSeq t, bool ok, uint64_t idx, TcpSeq p) { flow_.resync_resp(t, ok, idx, p, ost_); }) {
    r_.rx().start(isn);
  }
  // A segment [off, off + len) of the stream arrives.
  void arrive(size_t off, size_t len) {
    Bytes pkt(wire_.begin() + long(off), wire_.begin() + long(off + len));
    const nic::RxVerdict verdict = flow_.process(isn_ + uint32_t(off), pkt, ost_);
    if (trace_on()) {
      size_t diff = len;
      for (size_t i = 0; i < len; ++i)
        if (pkt[i] != (verdict.marked ? v_.plain : wire_)[off + i]) { diff = i; break; }
      std::fprintf(stderr, "[tls_rx]   segment [%zu,%zu) %s, first difference from the %s view at %zu (framed %zu)\n",
                   off, off + len, verdict.marked ? "marked" : "unmarked", verdict.marked ? "plain" : "wire", diff,
                   v_.framed);
    }
    if (verdict.marked) {
      ++marked_;
      // (it may end in the first bytes of a header it cannot judge yet: left as they are)
      FUZZ_CHECK(off + len < v_.framed + kHeaderLen && std::equal(pkt.begin(), pkt.end(), v_.plain.begin() + long(off)),
                 "the NIC marked a packet whose bytes are not the decryption of the wire");
      for (auto e = v_.ends.upper_bound(off); e != v_.ends.end() && e->first <= off + len; ++e)
        FUZZ_CHECK(e->second, "the NIC marked a packet in which a record failed to authenticate");
    } else {
      FUZZ_CHECK(std::equal(pkt.begin(), pkt.end(), wire_.begin() + long(off)),
                 "the NIC changed the bytes of a packet it did not mark");
    }
    // As the driver does: the NIC's guess goes up before the packet (to a live session).
    if (verdict.resync_req && !dead_) r_.rx().resync_rx_req(*verdict.resync_req);
    tcp_receive(off, std::move(pkt), verdict.marked);
  }
  void finish(bool untampered, size_t total) { r_.finish(untampered, rcv_nxt_ == total); }
  size_t marked() const { return marked_; }
  const Receiver& receiver() const { return r_; }

 private:
  void tcp_receive(size_t off, Bytes pkt, bool marked) {
    if (off > rcv_nxt_) {
      ooseq_.emplace(off, std::make_pair(std::move(pkt), marked));
      return;
    }
    deliver(off, pkt, marked);
    for (auto it = ooseq_.begin(); it != ooseq_.end() && it->first <= rcv_nxt_;) {
      deliver(it->first, it->second.first, it->second.second);
      it = ooseq_.erase(it);
    }
  }
  void deliver(size_t off, const Bytes& pkt, bool marked) {
    const size_t end = off + pkt.size();
    if (end <= rcv_nxt_ || dead_) return;
    const ByteSpan fresh(pkt.data() + (rcv_nxt_ - off), end - rcv_nxt_);
    rcv_nxt_ = end;
    dead_ = !r_.input(fresh, marked, false, false);
  }

  const Bytes& wire_;
  const View& v_;
  TcpSeq isn_;
  nic::TlsPlugin plugin_;
  nic::OffloadStats ost_;
  nic::RxOffloadFlow flow_;
  Receiver r_;
  size_t rcv_nxt_ = 0, marked_ = 0;
  bool dead_ = false;
  std::multimap<size_t, std::pair<Bytes, bool>> ooseq_;
};

void run_nic(const Args& a, const TrafficKeys& k, const Sent& s, const Bytes& wire, RecordCrypto& rc) {
  const View v = view(wire, rc);
  NicPath p(k, s, wire, v, TcpSeq(a.isn));
  // Segments: the chosen sizes, the last one takes the rest.
  std::vector<std::pair<size_t, size_t>> segs;
  size_t pos = 0;
  for (size_t i = 0; i < a.pkts.size() && pos < wire.size(); ++i) {
    const size_t n = i + 1 == a.pkts.size() ? wire.size() - pos : 1 + a.pkts[i].size % (wire.size() - pos);
    segs.emplace_back(pos, n);
    pos += n;
  }
  std::vector<size_t> order(segs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return a.pkts[x].order < a.pkts[y].order; });
  std::vector<bool> seen(segs.size(), false);
  for (size_t i : order) {
    if (a.pkts[i].order >= 0xF0) continue;  // lost
    p.arrive(segs[i].first, segs[i].second);
    seen[i] = true;
  }
  for (size_t i = 0; i < segs.size(); ++i)  // the retransmissions, in order
    if (!seen[i]) p.arrive(segs[i].first, segs[i].second);
  p.finish(wire == s.wire, wire.size());
  if (trace_on())
    std::fprintf(stderr, "[tls_rx] nic: %zu segments, %zu marked, delivered %zu, %s\n", segs.size(), p.marked(),
                 p.receiver().delivered(), p.receiver().failure() ? p.receiver().failure()->c_str() : "ok");
}

void run(FuzzedDataProvider& in) {
  Args a;
  Decoder dec(in);
  a.visit(dec);
  const TrafficKeys k = keys(a.aes256);
  RecordCrypto rc(k);
  const Sent s = send(a, rc);
  const Bytes wire = tamper(s.wire, a.muts);
  if (trace_on())
    std::fprintf(stderr, "[tls_rx] %zu records, wire %zu (tampered: %d), app %zu, fails %d closes %d, path %c\n",
                 a.recs.size(), wire.size(), wire != s.wire, s.app.size(), s.fails, s.closes, a.path ? 'B' : 'A');
  if (wire.empty()) return;
  if (a.path == 0) run_chunks(a, k, s, wire, rc);
  else run_nic(a, k, s, wire, rc);
}

// ---- seeds ----

RecordArgs rec(uint16_t len, uint8_t kind = 0, uint8_t pad = 0) { return RecordArgs{len, kind, pad, uint8_t(len * 3)}; }

Seed seed(const char* name, Args a) {
  SeedWriter w;
  Encoder e(w);
  a.visit(e);
  return Seed{name, w.finish()};
}

std::vector<Seed> seeds() {
  std::vector<Seed> out;
  Args a;
  a.recs = {rec(100), rec(300), rec(0), rec(50)};
  a.chunks = {{40, 0}, {200, 1}, {7, 1}, {1000, 0}};
  out.push_back(seed("sw-chunks-marks", a));
  a.chunks = {{9, 1}, {89, 3}, {400, 1}, {5, 3}};
  out.push_back(seed("sw-placed", a));
  {
    Args p;
    p.recs = {rec(100, 0, 1), rec(20)};
    p.chunks = {{9, 1}, {95, 3}, {400, 1}};
    out.push_back(seed("sw-placed-padded", p));
  }
  a.recs = {rec(16384), rec(10, 0, 2), rec(2, 5)};
  a.chunks = {{1400, 1}, {1400, 1}, {1400, 0}};
  a.aes256 = true;
  out.push_back(seed("sw-max-record-close", a));
  a.aes256 = false;
  a.recs = {rec(64), rec(64), rec(64, 7)};
  a.muts = {{MutationArgs::kFlip, 0, 40, 0}};
  a.chunks = {{20, 1}};
  out.push_back(seed("sw-tampered", a));
  a.muts = {{MutationArgs::kReplay, 0, 0, 86}};
  out.push_back(seed("sw-replayed-record", a));
  Args b;
  b.path = 1;
  b.recs = {rec(200), rec(200), rec(200), rec(200), rec(200), rec(200)};
  b.isn = 0xFFFFFF00u;
  b.pkts = {{100, 1}, {150, 2}, {150, 3}, {150, 4}, {150, 5}, {150, 6}, {150, 7}, {150, 8}, {500, 9}};
  out.push_back(seed("nic-in-order", b));
  b.pkts = {{100, 1}, {150, 4}, {150, 2}, {150, 3}, {150, 5}, {150, 6}, {150, 7}, {150, 8}, {500, 9}};
  out.push_back(seed("nic-late-segment-resync", b));
  b.pkts = {{100, 1}, {150, 0xF5}, {150, 3}, {150, 4}, {150, 5}, {150, 6}, {150, 7}, {150, 8}, {500, 9}};
  out.push_back(seed("nic-loss", b));
  b.pkts = {{100, 4}, {150, 3}, {150, 2}, {150, 1}, {150, 5}, {150, 6}, {150, 7}, {150, 8}, {500, 9}};
  out.push_back(seed("nic-reorder", b));
  b.muts = {{MutationArgs::kFlip, 0, 500, 3}};
  out.push_back(seed("nic-tampered", b));
  b.muts = {{MutationArgs::kInsert, 0x17, 300, 5}};
  out.push_back(seed("nic-garbage-inserted", b));
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
  autonic::fuzz::run(in);
  return 0;
}
