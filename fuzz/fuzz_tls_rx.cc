// Fuzz target: the TLS record layer's receive path (TlsRx), alone and behind the NIC's RX
// engine (RxOffloadFlow + TlsPlugin), for TLS 1.3 and TLS 1.2 with AES-128-GCM, AES-256-GCM and
// ChaCha20-Poly1305.
//
// The input picks the version and cipher, builds a valid record stream from chosen plaintexts
// (application data, alerts, handshake records, padding; TLS 1.3 KeyUpdates, after which the
// sender seals under its next keys from sequence number 0, RFC 8446 §4.6.3, §5.3), then tampers
// with it as an attacker on the path would (bit flips, truncation, inserted garbage, deleted or
// replayed ranges) and delivers it:
//  - path A: in chosen chunks with chosen marks, the marked bytes decrypted in place as the NIC
//    would have done -- a chunk is marked only if every record ending in it authenticates (the
//    NIC's rule); marked chunks may arrive "placed" (composed DDP: referenced, not copied); a
//    lagging NIC marks the records after a KeyUpdate under the old keys (it never verifies one);
//  - path B: cut into TCP segments that arrive in a chosen order, with drops and retransmissions,
//    through the NIC's real RX engine (which sets the marks, decrypts in place, moves to the next
//    keys on a KeyUpdate it verifies and asks for resyncs that TlsRx answers), then TCP
//    reassembly, then TlsRx; the receiver's key updates and context rebuilds reach the NIC as
//    the session sends them (tls_session.cc), at once or, lagging, before the next packet.
// Oracles: TlsRx never hands up a byte that is not the sender's application plaintext, in order
// (tampered records end in an alert and never reach the application); an untampered stream
// delivered in full is handed up completely, with the outcome its records call for; a packet the
// NIC leaves unmarked carries the wire bytes, one it marks carries exactly their decryption
// (under the keys the stream's KeyUpdates call for, or under older ones the NIC may still hold).
#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_util.h"
#include "l5p/tls/tls_post_hs.h"
#include "l5p/tls/tls_rx.h"
#include "l5p/tls/tls_sw.h"
#include "nic/engine/rx_offload.h"
#include "nic/plugins/tls/tls_plugin.h"
#include "proto/tls/tls_l5_state.h"

namespace autonic::fuzz {
namespace {

using namespace l5p::tls;

constexpr size_t kMaxWire = 64 * 1024;

// ---- arguments ----

struct RecordArgs {
  uint16_t len = 0;   // content bytes
  uint8_t kind = 0;   // 0-4 application data, 5 close_notify, 6 another alert, 7 handshake, 8 KeyUpdate
  uint8_t pad = 0;    // zero padding after the content type (RFC 8446 §5.4; TLS 1.3 only)
  uint8_t seed = 0;   // content bytes; a KeyUpdate's request_update is its low bit
  template <class V> void visit(V& v) {
    v.range(len, uint16_t(0), uint16_t(17000));
    v.range(kind, uint8_t(0), uint8_t(8));
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
  uint8_t flags = 0;  // bit 0 marked, bit 1 placed, bit 2 inner mark, bit 3 batch, bit 4 flush after
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
// suite: bit 0 AES-256-GCM, bit 1 ChaCha20-Poly1305 (over bit 0), bit 2 TLS 1.2, bit 3 a lagging
// NIC (see Suite). 0 and 1 are the TLS 1.3 AES-GCM streams this target started with.
enum SuiteBits : uint8_t { kAes256 = 1, kChacha = 2, kTls12 = 4, kLagging = 8 };
struct Args {
  uint8_t suite = 0;
  uint8_t path = 0;
  std::vector<RecordArgs> recs;
  std::vector<MutationArgs> muts;
  std::vector<ChunkArgs> chunks;
  uint32_t isn = 0;
  std::vector<PacketArgs> pkts;
  template <class V> void visit(V& v) {
    v(suite);
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

// ---- versions, ciphers, key generations ----

struct Suite {
  Version version = Version::kTls13;
  Cipher cipher = Cipher::kAes128Gcm;
  // A NIC behind on KeyUpdates: path A marks every record after one under the keys before it
  // (as a NIC that jumped over the KeyUpdate, or could not verify it, does until it fails a
  // record); path B's l5o commands (key update, resync answers, context rebuild) reach the NIC
  // only before its next packet, as commands queued on the send ring do.
  bool lagging = false;
  bool v12() const { return version == Version::kTls12; }
  // RFC 5246 §7.4.9: in TLS 1.2 each side's Finished was record 0 under the traffic keys.
  uint64_t first_seq() const { return v12() ? 1 : 0; }
};

Suite suite_of(uint8_t bits) {
  Suite su;
  su.version = (bits & kTls12) ? Version::kTls12 : Version::kTls13;
  su.cipher = (bits & kChacha) ? Cipher::kChacha20Poly1305 : (bits & kAes256) ? Cipher::kAes256Gcm : Cipher::kAes128Gcm;
  su.lagging = bits & kLagging;
  return su;
}

// Generation `gen` of one direction's traffic keys (0 after the handshake, then one per
// KeyUpdate, RFC 8446 §7.2). Any deterministic function of it serves: sender and receiver
// derive the same, as the two ends' HKDF does.
TrafficKeys keys(const Suite& su, uint64_t gen) {
  TrafficKeys k;
  k.version = su.version;
  k.cipher = su.cipher;
  k.key.resize(key_len(k.cipher));
  for (size_t i = 0; i < k.key.size(); ++i) k.key[i] = uint8_t(0x40 + i * 7 + gen * 0x3B);
  for (size_t i = 0; i < k.iv.size(); ++i) k.iv[i] = uint8_t((0x90 ^ (i * 13)) + gen * 0x65);
  return k;
}

// ---- the sender ----

struct Plaintext {
  uint8_t type = uint8_t(ContentType::kApplicationData);
  Bytes content;
  bool key_update = false;
};

Plaintext plaintext(const RecordArgs& r) {
  Plaintext p;
  p.content.resize(r.len);
  for (size_t k = 0; k < p.content.size(); ++k) p.content[k] = uint8_t(r.seed + k * 29 + (k >> 7));
  if (r.kind == 5 || r.kind == 6) {
    p.type = uint8_t(ContentType::kAlert);
    p.content = {r.kind == 5 ? uint8_t(1) : uint8_t(2), r.kind == 5 ? uint8_t(0) : uint8_t(40)};
  } else if (r.kind == 7) {
    p.type = uint8_t(ContentType::kHandshake);
  } else if (r.kind == 8) {
    // KeyUpdate (RFC 8446 §4.6.3): msg_type 24, length 1, request_update 0 or 1.
    p.type = uint8_t(ContentType::kHandshake);
    p.content = {24, 0, 0, 1, uint8_t(r.seed & 1)};
    p.key_update = true;
  }
  return p;
}

struct Sent {
  Bytes wire;
  Bytes app;            // what TlsRx must hand up, in order, for the untampered stream
  bool fails = false;   // the untampered stream ends in a failure (an alert, overflow, ...)
  bool closes = false;  // ... or in close_notify with nothing after it
};

// What the receiver makes of the untampered stream, record by record (tls_rx.cc): the first
// record that ends the stream decides.
class RxModel {
 public:
  explicit RxModel(const Suite& su) : su_(su), post_hs_(true, ph_stats_) {}
  // A record of `len` body bytes, sealed under key generation `gen`; its content, if application
  // data the receiver hands up, is appended to `app`.
  void record(const Plaintext& p, size_t len, uint64_t gen, Bytes& app) {
    if (over_) return;
    if (closes_) {
      closes_ = false;  // data after close_notify
      return fail();
    }
    if (len > (su_.v12() ? kMaxCiphertext12 : kMaxCiphertext)) return fail();  // record_overflow
    // TLS 1.2: a handshake record now would be a renegotiation, which the receiver refuses.
    if (su_.v12() && p.type == uint8_t(ContentType::kHandshake)) return fail();
    if (gen != gen_) return fail();  // sealed under keys the receiver does not hold: bad_record_mac
    if (p.type == uint8_t(ContentType::kHandshake)) {
      // Handshake-type records after the handshake are a message stream of their own (RFC 8446
      // §4.6, §5.1): their verdict is the post-handshake reassembler's (tls_post_hs.h, unit-tested
      // on its own in tls_post_handshake_test); the model adds where it sits in the record flow.
      if (p.content.size() > kMaxPlaintext || post_hs_.feed(p.content)) return fail();
      if (post_hs_.take_key_update()) ++gen_;  // the receiver's next record is under the next keys
    } else if (post_hs_.mid_message()) {
      fail();  // no other record type inside a split handshake message
    } else if (p.type == uint8_t(ContentType::kApplicationData)) {
      if (p.content.size() > kMaxPlaintext) return fail();
      app.insert(app.end(), p.content.begin(), p.content.end());
    } else if (p.content.size() == 2 && p.content[1] == 0) {
      closes_ = true;  // close_notify
    } else {
      fail();
    }
  }
  bool fails() const { return fails_; }
  bool closes() const { return closes_; }

 private:
  void fail() { fails_ = over_ = true; }
  const Suite& su_;
  TlsStats ph_stats_;
  PostHandshakeRx post_hs_;
  uint64_t gen_ = 0;
  bool over_ = false, fails_ = false, closes_ = false;
};

Sent send(const Args& a, const Suite& su) {
  Sent s;
  RxModel model(su);
  uint64_t gen = 0, seq = su.first_seq();
  auto rc = std::make_unique<RecordCrypto>(keys(su, gen));
  for (const RecordArgs& r : a.recs) {
    const Plaintext p = plaintext(r);
    const RecordShape shape = rc->shape();
    static constexpr uint8_t kPad[] = {0, 1, 17, 200};
    Bytes inner = p.content;
    if (shape.inner_type) {  // TLSInnerPlaintext (§5.4); TLS 1.2 has no type byte, no padding
      inner.push_back(p.type);
      inner.resize(inner.size() + kPad[r.pad], 0);
    }
    const size_t len = shape.explicit_nonce + inner.size() + kTagLen;
    if (len > 0xFFFF || s.wire.size() + kHeaderLen + len > kMaxWire) break;
    // TLS 1.3: every protected record says application_data (§5.2); TLS 1.2: its real type.
    const uint8_t type = shape.inner_type ? uint8_t(ContentType::kApplicationData) : p.type;
    const uint8_t hdr[kHeaderLen] = {type, 3, 3, uint8_t(len >> 8), uint8_t(len)};
    const size_t at = s.wire.size();
    s.wire.insert(s.wire.end(), hdr, hdr + kHeaderLen);
    s.wire.resize(at + kHeaderLen + len);
    rc->seal(seq++, ByteSpan(hdr, kHeaderLen), inner, s.wire.data() + at + kHeaderLen);
    model.record(p, len, gen, s.app);
    if (p.key_update && !su.v12()) {
      // The sender's records after its KeyUpdate use its next keys, sequence numbers from 0.
      rc = std::make_unique<RecordCrypto>(keys(su, ++gen));
      seq = 0;
    }
  }
  s.fails = model.fails();
  s.closes = model.closes();
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

// ---- the stream as a NIC processing it in sequence sees it ----

// The receive key schedule along the stream: generation g's records start at record index
// first[g], sequence number seq0[g] (tls_l5_state.h's epochs).
class KeySchedule {
 public:
  explicit KeySchedule(const Suite& su) : su_(su) { add(0, su.first_seq()); }
  void add(uint64_t first_index, uint64_t first_seq) {
    epochs_.push_back(Epoch{first_index, first_seq, std::make_unique<RecordCrypto>(keys(su_, epochs_.size()))});
  }
  size_t gen() const { return epochs_.size() - 1; }
  RecordCrypto& crypto(size_t g) { return *epochs_[g].crypto; }
  // Generation g's sequence number for record `index` (an older generation's numbering runs on:
  // what a NIC that still holds those keys uses).
  uint64_t seq(size_t g, uint64_t index) const { return epochs_[g].first_seq + (index - epochs_[g].first); }

 private:
  struct Epoch {
    uint64_t first, first_seq;
    std::unique_ptr<RecordCrypto> crypto;
  };
  const Suite& su_;
  std::vector<Epoch> epochs_;
};

// The (possibly tampered) stream as the NIC frames it: records by their headers, until one its
// probe refuses (TlsRx frames the same way, but stops earlier, at a type it does not accept).
// plain = the wire with every record's ciphertext decrypted in place (what a NIC that processed
// it in sequence leaves), under the keys the stream calls for: the next generation after each
// record that authenticates and holds a KeyUpdate; ends = where complete records end, and
// whether they authenticate.
// placeable: where a NIC running a composed offload (NVMe inside TLS 1.3) may place plaintext --
// record content as the inner L5P sees it: never a header, tag, content type or padding.
struct View {
  struct Rec {
    size_t body = 0, end = 0;  // ciphertext start (after any explicit nonce); record end
    // The ciphertext decrypted under each older key generation, the last one first: a NIC that
    // has not (yet) moved on -- it did not verify the KeyUpdate itself (padded, jumped over, no
    // next keys yet) and the L5P's update has not reached it -- decrypts under those.
    std::vector<Bytes> older;
  };
  Bytes plain;
  size_t framed = 0;      // bytes inside records whose header is valid (complete or not)
  size_t nic_framed = 0;  // ... up to the first one the NIC's probe refuses
  std::map<size_t, bool> ends;
  std::map<size_t, size_t> placeable;  // start -> end
  std::map<size_t, Rec> recs;          // by start
};

// A TLS 1.3 record's plaintext is exactly one KeyUpdate (padding allowed).
bool holds_key_update(const Bytes& inner) {
  size_t n = inner.size();
  while (n > 0 && inner[n - 1] == 0) --n;
  static constexpr uint8_t kKu[] = {24, 0, 0, 1};
  return n == 6 && inner[5] == uint8_t(ContentType::kHandshake) && std::equal(kKu, kKu + 4, inner.begin()) &&
         inner[4] <= 1;
}

// Records that authenticate: the placeable part narrows to the content before the type byte.
void narrow_placeable(View& v, size_t body, const Bytes& inner) {
  // A padded record: the type byte and the zeros before the last byte are not content either.
  // (The NIC learns of the padding only at the record's end: see fuzz/README.md.)
  size_t type_at = inner.size();
  while (type_at > 0 && inner[type_at - 1] == 0) --type_at;
  if (type_at > 1) v.placeable[body] = body + type_at - 1;
  else v.placeable.erase(body);
}

// Record [pos, pos + kHeaderLen + len), index `index`, which the NIC's probe accepts: decrypted
// in place under the current keys (and aside under each older generation); false if it does not
// authenticate (or is cut short).
bool view_record(View& v, KeySchedule& ks, const Bytes& wire, size_t pos, uint64_t index, uint16_t len,
                 const Suite& su) {
  const RecordShape shape = record_shape(keys(su, 0));
  const size_t end = pos + kHeaderLen + len, body = pos + kHeaderLen + shape.explicit_nonce;
  const size_t ct_end = std::min(end - kTagLen, wire.size());
  // A record too short for its shape passes the NIC untouched (tls_plugin.cc begin()).
  const bool bad = len < shape.min_len();
  View::Rec& rec = v.recs[pos];
  const uint8_t* explicit_nonce = &wire[pos + kHeaderLen];  // (read only by TLS 1.2 AES-GCM)
  if (!bad && ct_end > body) {
    const size_t g = ks.gen();
    ks.crypto(g).ctr_xor(ks.seq(g, index), 0, MutByteSpan(v.plain.data() + body, ct_end - body), explicit_nonce);
    for (size_t o = g; o-- > 0;) {
      Bytes old(wire.begin() + long(body), wire.begin() + long(ct_end));
      ks.crypto(o).ctr_xor(ks.seq(o, index), 0, MutByteSpan(old.data(), old.size()), explicit_nonce);
      rec.older.push_back(std::move(old));
    }
  }
  // The inner L5P gets the record's plaintext but its last byte (tls_plugin.cc to_inner).
  if (!su.v12() && ct_end > body + 1) v.placeable[body] = ct_end - 1;
  if (end > wire.size() || bad) return false;
  Bytes out(len - shape.explicit_nonce - kTagLen);
  const bool ok = ks.crypto(ks.gen()).open(ks.seq(ks.gen(), index), ByteSpan(&wire[pos], kHeaderLen),
                                           ByteSpan(&wire[pos + kHeaderLen], len), out.data());
  if (ok && !su.v12()) {
    narrow_placeable(v, body, out);
    // §5.3: the next record is the first under the next keys, sequence number 0.
    if (holds_key_update(out)) ks.add(index + 1, 0);
  }
  return ok;
}

View view(const Bytes& wire, const Suite& su) {
  View v;
  v.plain = wire;
  KeySchedule ks(su);
  const RecordShape shape = record_shape(keys(su, 0));
  // Framing goes on past a record the NIC's probe refuses but TlsRx takes (TLS 1.2: an empty
  // ChaCha20 record, or one longer than 2^14 + 256): the NIC resyncs after it.
  const size_t min_len = std::min(kTagLen + 1, shape.min_len()), max_len = std::max(kMaxCiphertext, shape.max_len());
  size_t pos = 0;
  bool refused = false;  // the NIC's probe refused a record: in sequence it frames no further
  v.framed = v.nic_framed = wire.size();  // (a header cut short at the end is framed as far as it goes)
  auto framed_to = [&](size_t at) {
    v.framed = at;
    if (!refused) v.nic_framed = at;
  };
  for (uint64_t index = 0; pos + kHeaderLen <= wire.size(); ++index) {
    framed_to(pos);
    uint16_t len = 0;
    const ByteSpan hdr(&wire[pos], kHeaderLen);
    if (check_header(hdr, &len, min_len, max_len) != HeaderCheck::kOk) break;
    const size_t end = pos + kHeaderLen + len;
    View::Rec& rec = v.recs[pos];
    rec.body = pos + kHeaderLen + shape.explicit_nonce;
    rec.end = end;
    const bool probed = check_header(hdr, &len) == HeaderCheck::kOk;  // (tls_plugin.cc probe())
    refused = refused || !probed;
    const bool ok = probed && view_record(v, ks, wire, pos, index, len, su);
    framed_to(std::min(end, wire.size()));
    if (end > wire.size()) break;
    v.ends[end] = ok;  // (a record the NIC cannot frame, it cannot verify either)
    pos = end;
    framed_to(wire.size());
  }
  return v;
}

void trace_view(const View& v) {
  std::fprintf(stderr, "[tls_rx] records (framed %zu, by the NIC's probe %zu):", v.framed, v.nic_framed);
  for (const auto& [start, r] : v.recs) {
    const auto e = v.ends.find(r.end);
    std::fprintf(stderr, " [%zu,%zu)%s%s", start, r.end, e == v.ends.end() ? "" : e->second ? "" : " bad",
                 r.older.empty() ? "" : " (older keys)");
  }
  std::fprintf(stderr, "\n");
}

// ---- the receiver and the oracles ----

class Receiver {
 public:
  // rekeyed(first, gen): TlsRx moved to key generation `gen` from its record index `first` on.
  // The NIC's RX context now holds generation `gen` from record `first` (sequence number
  // `first_seq`) and, TLS 1.3, the next one (tls_session.cc rx_state).
  using Rekeyed = std::function<void(uint64_t first, uint64_t first_seq, uint64_t gen)>;
  Receiver(const Suite& su, const Sent& s, l5p::RxResyncAnswerer::Answer answer, Rekeyed rekeyed = {})
      : su_(su), s_(s), rekeyed_(std::move(rekeyed)),
        rx_(keys(su, 0), st_, [this](ByteSpan d, bool) { on_deliver(d); }, std::move(answer), true, su.first_seq()) {
    // The session's key source (tls_session.cc on_peer_key_update; TLS 1.3 only): the next
    // generation, which it also gives the NIC's RX context.
    if (!su.v12())
      rx_.on_key_update([this](bool, uint64_t first) {
        ++gen_;
        if (rekeyed_) rekeyed_(first, 0, gen_);
        return keys(su_, gen_);
      });
    // ... and when a record looked like a KeyUpdate to the NIC but was none (tls_rx.h
    // NicMisled): the context goes back to the current keys; TlsRx gets the ones it moved to.
    if (!su.v12())
      rx_.on_nic_misled([this](uint64_t first, uint64_t first_seq) {
        if (rekeyed_) rekeyed_(first, first_seq, gen_);
        return keys(su_, gen_ + 1);
      });
  }
  TlsRx& rx() { return rx_; }
  uint64_t gen() const { return gen_; }
  // False once TlsRx failed (the session would send its alert and close).
  // batch: as the session feeds a recv()'s pbufs (delivery at flush()); a failure flushes, as
  // the session does before it fails.
  bool input(ByteSpan d, bool marked, bool inner, bool placed, bool batch = false, bool flush = false) {
    if (failure_) return false;
    const auto f = rx_.input(d, marked, inner, placed, batch);
    if (flush || f) rx_.flush();  // (records before a failing one are the application's)
    if (f) failure_ = f->outcome;
    return !failure_;
  }
  // untampered: the stream is what the sender sent; complete: all of it went in (unless TlsRx
  // stopped taking it).
  void finish(bool untampered, bool complete) {
    if (!failure_) rx_.flush();  // the end of the last recv()
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
  const TlsStats& stats() const { return st_; }

 private:
  void on_deliver(ByteSpan d) {
    FUZZ_CHECK(!failure_, "TlsRx handed data up after it failed");
    FUZZ_CHECK(got_ + d.size() <= s_.app.size() && std::equal(d.begin(), d.end(), s_.app.begin() + long(got_)),
               "TlsRx handed up bytes that are not the sender's plaintext (in order)");
    got_ += d.size();
  }
  const Suite& su_;
  const Sent& s_;
  Rekeyed rekeyed_;
  TlsStats st_;
  TlsRx rx_;
  uint64_t gen_ = 0;
  size_t got_ = 0;
  std::optional<std::string> failure_;
};

// What a lagging NIC leaves (path A): every record after a KeyUpdate decrypted under the keys
// before it; it cannot verify those records, so no marked chunk holds one's end.
struct LaggingNic {
  Bytes plain;
  std::set<size_t> unverified_ends;
};
LaggingNic lagging_nic(const View& v) {
  LaggingNic n{v.plain, {}};
  for (const auto& [start, r] : v.recs) {
    if (r.older.empty()) continue;
    std::copy(r.older[0].begin(), r.older[0].end(), n.plain.begin() + long(r.body));
    n.unverified_ends.insert(r.end);
  }
  return n;
}

// Path A: chunks with the NIC's marks emulated.
void run_chunks(const Args& a, const Suite& su, const Sent& s, const Bytes& wire) {
  const View v = view(wire, su);
  if (trace_on()) trace_view(v);
  const LaggingNic lag = su.lagging ? lagging_nic(v) : LaggingNic{v.plain, {}};
  Receiver r(su, s, [](TcpSeq, bool, uint64_t, TcpSeq) {});
  r.rx().start(TcpSeq(0));
  std::deque<Bytes> placed;  // "host buffers" placed chunks live in: valid until the input ends
  size_t pos = 0;
  for (size_t i = 0; i < a.chunks.size() && pos < wire.size(); ++i) {
    const bool last = i + 1 == a.chunks.size();
    const size_t n = last ? wire.size() - pos : 1 + a.chunks[i].size % (wire.size() - pos);
    // The NIC marks a packet only inside records it framed, and only if every record that
    // ends in it authenticated (under the keys it holds).
    bool marked = (a.chunks[i].flags & 1) && pos + n <= v.nic_framed;
    for (auto e = v.ends.upper_bound(pos); marked && e != v.ends.end() && e->first <= pos + n; ++e)
      marked = e->second && !lag.unverified_ends.count(e->first);
    ByteSpan d(marked ? &lag.plain[pos] : &wire[pos], n);
    auto room = v.placeable.upper_bound(pos);
    const bool place = marked && (a.chunks[i].flags & 2) && room != v.placeable.begin() &&
                       pos + n <= std::prev(room)->second;
    if (place) d = placed.emplace_back(d.begin(), d.end());
    // (Inner marks and placement come from a composed offload: TLS 1.3 only.)
    const bool ok = r.input(d, marked, marked && !su.v12() && (a.chunks[i].flags & 4), place,
                            (a.chunks[i].flags & 8) != 0, (a.chunks[i].flags & 16) != 0);
    pos += n;
    if (!ok) break;
  }
  if (trace_on())
    std::fprintf(stderr, "[tls_rx] chunks: delivered %zu, rekeys %llu (stale marks %llu), %s\n", r.delivered(),
                 (unsigned long long)r.stats().rx_tls_rekey_ok, (unsigned long long)r.stats().rx_tls_rekey_stale_marks,
                 r.failure() ? r.failure()->c_str() : "ok");
  r.finish(wire == s.wire, pos == wire.size());
}

// A packet the NIC marked, the stream's bytes [off, off + pkt.size()): each record's part of it
// is that record's decryption under the keys the stream calls for, or all of it under one older
// generation (the NIC had not moved on yet).
bool nic_decryption(const View& v, ByteSpan pkt, size_t off) {
  const size_t stop = off + pkt.size();
  for (size_t at = off; at < stop;) {
    const auto r = v.recs.upper_bound(at);
    const View::Rec* rec = r != v.recs.begin() && std::prev(r)->second.end > at ? &std::prev(r)->second : nullptr;
    const size_t next = rec ? std::min(stop, rec->end) : r == v.recs.end() ? stop : std::min(stop, r->first);
    auto same = [&](const Bytes* old) {
      for (size_t i = at; i < next; ++i) {
        const bool in_old = old && i >= rec->body && i < rec->body + old->size();
        if (pkt[i - off] != (in_old ? (*old)[i - rec->body] : v.plain[i])) return false;
      }
      return true;
    };
    bool ok = same(nullptr);
    for (size_t g = 0; rec && !ok && g < rec->older.size(); ++g) ok = same(&rec->older[g]);
    if (!ok) return false;
    at = next;
  }
  return true;
}

// Path B: TCP segments through the NIC's RX engine, then TCP reassembly, then TlsRx. The NIC's
// RX context is the session's (tls_session.cc): keys and, TLS 1.3, the next generation; l5o
// update when TlsRx moves to new keys; rebuilt when TlsRx rebases.
class NicPath {
 public:
  NicPath(const Suite& su, const Sent& s, const Bytes& wire, const View& v, TcpSeq isn)
      : su_(su), wire_(wire), v_(v), isn_(isn), flow_(make_flow(su.first_seq(), 0, isn)),
        r_(su, s,
           [this](TcpSeq t, bool ok, uint64_t idx, TcpSeq p) {
             if (trace_on())
               std::fprintf(stderr, "[tls_rx]   resync answer: %u %s, record %llu\n", t.raw(), ok ? "yes" : "no",
                            (unsigned long long)idx);
             command([this, t, ok, idx, p] { flow_->resync_resp(t, ok, idx, p, ost_); });
           },
           [this](uint64_t first, uint64_t first_seq, uint64_t gen) {
             command([this, first, first_seq, gen] { flow_->plugin_flow().update(state(first, first_seq, gen)); });
           }) {
    r_.rx().start(isn);
    r_.rx().on_rebase([this] { rebase(); });
  }
  // A segment [off, off + len) of the stream arrives.
  void arrive(size_t off, size_t len) {
    for (auto& c : std::exchange(pending_, {})) c();  // l5o commands queued before this packet
    Bytes pkt(wire_.begin() + long(off), wire_.begin() + long(off + len));
    const nic::RxVerdict verdict = flow_->process(isn_ + uint32_t(off), pkt, ost_);
    // Marked from `from` on (a record header inside the packet, issue #15); before it, and all
    // of an unmarked packet, the wire's bytes.
    const size_t from = verdict.marked ? verdict.mark_from : len;
    if (trace_on()) trace(off, len, pkt, from);
    FUZZ_CHECK(from <= len && (!verdict.marked || from < len), "the NIC marked from outside the packet");
    FUZZ_CHECK(std::equal(pkt.begin(), pkt.begin() + long(from), wire_.begin() + long(off)),
               "the NIC changed bytes it did not mark");
    if (verdict.marked) {
      ++marked_;
      // (it may end in the first bytes of a header it cannot judge yet: left as they are)
      FUZZ_CHECK(off + len < v_.framed + kHeaderLen &&
                     nic_decryption(v_, ByteSpan(pkt.data() + from, len - from), off + from),
                 "the NIC marked bytes that are not the decryption of the wire");
      for (auto e = v_.ends.upper_bound(off + from); e != v_.ends.end() && e->first <= off + len; ++e)
        FUZZ_CHECK(e->second, "the NIC marked a packet in which a record failed to authenticate");
    }
    // As the driver does: the NIC's guess goes up before the packet (to a live session).
    if (verdict.resync_req && !dead_) r_.rx().resync_rx_req(*verdict.resync_req);
    tcp_receive(off, std::move(pkt), from);
  }
  void finish(bool untampered, size_t total) { r_.finish(untampered, rcv_nxt_ == total); }
  void print_summary(size_t segs) const {
    std::fprintf(stderr,
                 "[tls_rx] nic: %zu segments, %zu marked, key switches %llu, rebuilt %zu, delivered %zu "
                 "(stale marks %llu), %s\n",
                 segs, marked_, (unsigned long long)ost_.rx_key_switch, rebuilt_, r_.delivered(),
                 (unsigned long long)r_.stats().rx_tls_rekey_stale_marks,
                 r_.failure() ? r_.failure()->c_str() : "ok");
  }

 private:
  // The RX context's state as the session builds it (tls_session.cc rx_state): generation `gen`
  // from record `first_msg` (sequence number `first_seq`) and, TLS 1.3, the next one.
  proto::tls::TlsL5State state(uint64_t first_msg, uint64_t first_seq, uint64_t gen) const {
    proto::tls::TlsL5State s(std::vector<proto::tls::TlsL5State::Epoch>{{first_msg, first_seq, keys(su_, gen)}});
    if (!su_.v12()) s.next = keys(su_, gen + 1);
    return s;
  }
  std::unique_ptr<nic::RxOffloadFlow> make_flow(uint64_t first_seq, uint64_t gen, TcpSeq start) {
    auto f = std::make_unique<nic::RxOffloadFlow>(
        plugin_, plugin_.make_flow(state(0, first_seq, gen), l5o::Direction::kRx), start);
    f->plugin_flow().attach(nullptr, &ost_);  // (as nic.cc does: the plug-in's own counters)
    if (trace_on()) f->set_trace(&nic_trace_, "nic");
    return f;
  }
  // TlsRx left a record out of the payload stream: the session destroys the RX context and
  // creates one at the next record (tls_session.cc rebase_rx_offload).
  void rebase() {
    const std::optional<TlsRx::Rebase> rb = r_.rx().take_rebase();
    if (!rb) return;
    command([this, rb = *rb, gen = r_.gen()] {
      flow_ = make_flow(rb.seq, gen, rb.start);
      ++rebuilt_;
    });
  }
  // An l5o command to the NIC: at once, or (lagging) before the NIC's next packet.
  void command(std::function<void()> c) {
    if (su_.lagging) pending_.push_back(std::move(c));
    else c();
  }
  void trace(size_t off, size_t len, const Bytes& pkt, size_t from) const {
    size_t diff = len;
    for (size_t i = 0; i < len; ++i)
      if (pkt[i] != (i >= from ? v_.plain : wire_)[off + i]) {
        diff = i;
        break;
      }
    std::fprintf(stderr, "[tls_rx]   segment [%zu,%zu) marked from %zu, first difference from the wire / plain view at %zu (framed %zu)\n",
                 off, off + len, from, diff, v_.framed);
  }
  // Each packet with where its mark begins (its size: unmarked); TCP hands the ranges up as
  // lwIP does the driver's pbuf chain, each with its own flag.
  void tcp_receive(size_t off, Bytes pkt, size_t from) {
    if (off > rcv_nxt_) {
      ooseq_.emplace(off, std::make_pair(std::move(pkt), from));
      return;
    }
    deliver(off, pkt, from);
    for (auto it = ooseq_.begin(); it != ooseq_.end() && it->first <= rcv_nxt_;) {
      deliver(it->first, it->second.first, it->second.second);
      it = ooseq_.erase(it);
    }
  }
  void deliver(size_t off, const Bytes& pkt, size_t from) {
    const size_t end = off + pkt.size();
    for (const bool marked : {false, true}) {
      const size_t lo = std::max(rcv_nxt_, marked ? off + from : off), hi = marked ? end : off + from;
      if (lo >= hi || dead_) continue;
      rcv_nxt_ = hi;
      dead_ = !r_.input(ByteSpan(pkt.data() + (lo - off), hi - lo), marked, false, false);
    }
  }

  const Suite& su_;
  const Bytes& wire_;
  const View& v_;
  TcpSeq isn_;
  nic::TlsPlugin plugin_;
  nic::OffloadStats ost_;
  const nic::RxOffloadFlow::Trace nic_trace_ = [](const std::string& m) {
    std::fprintf(stderr, "[tls_rx]   %s\n", m.c_str());
  };
  std::unique_ptr<nic::RxOffloadFlow> flow_;
  Receiver r_;
  std::vector<std::function<void()>> pending_;
  size_t rcv_nxt_ = 0, marked_ = 0, rebuilt_ = 0;
  bool dead_ = false;
  std::multimap<size_t, std::pair<Bytes, size_t>> ooseq_;
};

void run_nic(const Args& a, const Suite& su, const Sent& s, const Bytes& wire) {
  const View v = view(wire, su);
  if (trace_on()) trace_view(v);
  NicPath p(su, s, wire, v, TcpSeq(a.isn));
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
  if (trace_on()) p.print_summary(segs.size());
  p.finish(wire == s.wire, wire.size());
}

void run(FuzzedDataProvider& in) {
  Args a;
  Decoder dec(in);
  a.visit(dec);
  const Suite su = suite_of(a.suite);
  const Sent s = send(a, su);
  const Bytes wire = tamper(s.wire, a.muts);
  if (trace_on())
    std::fprintf(stderr,
                 "[tls_rx] %s %s%s, %zu records, wire %zu (tampered: %d), app %zu, fails %d closes %d, path %c\n",
                 version_name(su.version), cipher_name(su.cipher), su.lagging ? " (lagging NIC)" : "", a.recs.size(),
                 wire.size(), wire != s.wire, s.app.size(), s.fails, s.closes, a.path ? 'B' : 'A');
  if (wire.empty()) return;
  if (a.path == 0) run_chunks(a, su, s, wire);
  else run_nic(a, su, s, wire);
}

// ---- seeds ----

RecordArgs rec(uint16_t len, uint8_t kind = 0, uint8_t pad = 0) { return RecordArgs{len, kind, pad, uint8_t(len * 3)}; }
RecordArgs key_update(bool request, uint8_t pad = 0) { return RecordArgs{0, 8, pad, uint8_t(request)}; }

Seed seed(const char* name, Args a) {
  SeedWriter w;
  Encoder e(w);
  a.visit(e);
  return Seed{name, w.finish()};
}

// Path A: TLS 1.3 AES-GCM (the streams this target started with).
void seeds_chunks(std::vector<Seed>& out) {
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
  a.suite = kAes256;
  out.push_back(seed("sw-max-record-close", a));
  a.suite = 0;
  a.recs = {rec(64), rec(64), rec(64, 7)};
  a.muts = {{MutationArgs::kFlip, 0, 40, 0}};
  a.chunks = {{20, 1}};
  out.push_back(seed("sw-tampered", a));
  a.muts = {{MutationArgs::kReplay, 0, 0, 86}};
  out.push_back(seed("sw-replayed-record", a));
}

// Path A: TLS 1.2 and ChaCha20-Poly1305; KeyUpdates (one first, before any data: TlsRx rebases).
void seeds_versions(std::vector<Seed>& out) {
  Args a;
  a.recs = {rec(100), rec(300), rec(2, 5)};
  a.chunks = {{40, 1}, {200, 1}, {7, 0}, {1000, 1}};
  a.suite = kTls12;
  out.push_back(seed("sw-tls12-aes128gcm", a));
  a.suite = kTls12 | kAes256;
  a.recs = {rec(16384), rec(17000), rec(20)};
  out.push_back(seed("sw-tls12-aes256gcm-overflow", a));
  a.suite = kTls12 | kChacha;
  a.recs = {rec(0), rec(100), rec(64, 7)};
  out.push_back(seed("sw-tls12-chacha-handshake", a));
  a.suite = kChacha;
  a.recs = {rec(100, 0, 1), rec(300), rec(2, 5)};
  out.push_back(seed("sw-tls13-chacha-padded", a));
  a.suite = 0;
  a.recs = {rec(100), key_update(false), rec(300), key_update(true, 1), rec(50), rec(2, 5)};
  a.chunks = {{90, 1}, {40, 1}, {200, 1}, {60, 1}, {1000, 1}};
  out.push_back(seed("sw-key-update", a));
  a.suite = kLagging;
  out.push_back(seed("sw-key-update-lagging", a));
  a.suite = kChacha | kLagging;
  a.chunks = {{120, 1}, {5, 1}, {30, 3}, {100, 1}, {1000, 1}};
  out.push_back(seed("sw-key-update-lagging-chacha-placed", a));
  a.suite = kAes256;
  a.recs = {key_update(true), rec(200), key_update(false, 2), rec(200)};
  a.chunks = {{10, 1}, {100, 1}, {2000, 1}};
  out.push_back(seed("sw-key-update-first", a));
  a.muts = {{MutationArgs::kFlip, 0, 30, 2}};
  out.push_back(seed("sw-key-update-tampered", a));
}

// Path B: through the NIC.
void seeds_nic(std::vector<Seed>& out) {
  Args b;
  b.path = 1;
  b.recs = {rec(200), rec(200), rec(200), rec(200), rec(200), rec(200)};
  b.isn = 0xFFFFFF00u;
  b.pkts = {{100, 1}, {150, 2}, {150, 3}, {150, 4}, {150, 5}, {150, 6}, {150, 7}, {150, 8}, {500, 9}};
  out.push_back(seed("nic-in-order", b));
  b.suite = kTls12;
  out.push_back(seed("nic-tls12-aes128gcm", b));
  b.suite = kTls12 | kChacha;
  out.push_back(seed("nic-tls12-chacha", b));
  b.suite = 0;
  b.pkts = {{100, 1}, {150, 4}, {150, 2}, {150, 3}, {150, 5}, {150, 6}, {150, 7}, {150, 8}, {500, 9}};
  out.push_back(seed("nic-late-segment-resync", b));
  b.suite = kTls12 | kAes256;
  out.push_back(seed("nic-tls12-aes256gcm-resync", b));
  b.suite = 0;
  b.pkts = {{100, 1}, {150, 0xF5}, {150, 3}, {150, 4}, {150, 5}, {150, 6}, {150, 7}, {150, 8}, {500, 9}};
  out.push_back(seed("nic-loss", b));
  b.pkts = {{100, 4}, {150, 3}, {150, 2}, {150, 1}, {150, 5}, {150, 6}, {150, 7}, {150, 8}, {500, 9}};
  out.push_back(seed("nic-reorder", b));
  b.muts = {{MutationArgs::kFlip, 0, 500, 3}};
  out.push_back(seed("nic-tampered", b));
  b.muts = {{MutationArgs::kInsert, 0x17, 300, 5}};
  out.push_back(seed("nic-garbage-inserted", b));
}

// Path B with KeyUpdates: the NIC moves itself (unpadded), by the L5P's update (padded), late
// (lagging), over a lost KeyUpdate (resync), and after a rebase (KeyUpdate before any data).
void seeds_nic_key_update(std::vector<Seed>& out) {
  Args b;
  b.path = 1;
  b.recs = {rec(200), key_update(false), rec(200), rec(200), key_update(true, 1), rec(200), rec(200), rec(2, 5)};
  b.pkts = {{100, 1}, {150, 2}, {150, 3}, {150, 4}, {150, 5}, {150, 6}, {150, 7}, {150, 8}, {500, 9}};
  out.push_back(seed("nic-key-update", b));
  b.suite = kLagging;
  out.push_back(seed("nic-key-update-lagging", b));
  b.suite = kChacha | kLagging;
  b.pkts = {{230, 1}, {60, 2}, {150, 3}, {170, 4}, {150, 5}, {150, 6}, {150, 7}, {150, 8}, {500, 9}};
  out.push_back(seed("nic-key-update-chacha-lagging", b));
  b.suite = 0;
  b.pkts = {{220, 1}, {40, 0xF1}, {150, 3}, {150, 4}, {150, 5}, {150, 6}, {150, 7}, {150, 8}, {500, 9}};
  out.push_back(seed("nic-key-update-lost", b));
  b.suite = kAes256;
  b.pkts = {{100, 1}, {150, 4}, {150, 2}, {150, 3}, {150, 5}, {150, 6}, {150, 7}, {150, 8}, {500, 9}};
  out.push_back(seed("nic-key-update-reorder", b));
  b.suite = kLagging;
  b.recs = {key_update(false), rec(300), key_update(true), rec(300), rec(300)};
  b.pkts = {{30, 1}, {150, 2}, {150, 3}, {150, 4}, {150, 5}, {150, 6}, {500, 9}};
  out.push_back(seed("nic-key-update-first-rebase", b));
  b.suite = 0;
  b.recs = {rec(200), key_update(false), key_update(false), rec(300), rec(300)};
  b.pkts = {{100, 1}, {300, 2}, {150, 3}, {150, 4}, {500, 9}};
  out.push_back(seed("nic-key-update-twice", b));
}

std::vector<Seed> seeds() {
  std::vector<Seed> out;
  seeds_chunks(out);
  seeds_versions(out);
  seeds_nic(out);
  seeds_nic_key_update(out);
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
