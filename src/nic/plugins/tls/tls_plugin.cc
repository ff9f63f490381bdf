#include "nic/plugins/tls/tls_plugin.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "nic/engine/engine_stats.h"
#include "nic/plugins/tls/aead_stream.h"

namespace autonic::nic {
namespace {

using namespace proto::tls;  // record framing, nonce and AAD rules (RFC 8446 §5, RFC 5246 §6.2.3.3)

class TlsFlow final : public PluginFlow {
 public:
  TlsFlow(const TlsL5State& s, bool encrypt) : TlsFlow(s.epochs, encrypt) { next_ = copy_keys(s.next); }
  TlsFlow(std::vector<TlsL5State::Epoch> epochs, bool encrypt)
      : epochs_(std::move(epochs)), aead_(epochs_[0].keys.cipher, epochs_[0].keys.key), loaded_(epochs_[0].first_msg),
        encrypt_(encrypt) {}
  // At rest (pack.h): the key epochs, the record in progress, the AEAD's state. Not with a
  // pending KeyUpdate key or an inner engine (rare; such a flow stays as it is).
  bool freezable() const override { return !next_ && !inner_ && aead_.freezable(); }
  void freeze(Packer& p) const override {
    p.put(encrypt_);
    p.put(uint8_t(epochs_.size()));
    for (const TlsL5State::Epoch& e : epochs_) {
      p.put(e.first_msg);
      p.put(e.first_seq);
      p.put(e.keys.version);
      p.put(e.keys.cipher);
      p.put(uint8_t(e.keys.key.size()));
      p.put_bytes(e.keys.key.data(), e.keys.key.size());
      p.put(e.keys.iv);
    }
    p.put(ku_);
    p.put(msg_index_);
    p.put(loaded_);
    p.put(cur_);
    p.put(seq_);
    p.put(hdr_);
    p.put(nonce_);
    // Offsets inside one record (< 2^16: probe() bounds its length).
    p.put(uint16_t(body_));
    p.put(uint16_t(data_end_));
    p.put(uint16_t(content_end_));
    p.put(uint8_t(bad_ | started_ << 1 | tag_done_ << 2));
    p.put(tag_);
    p.put(payload_pos_);
    p.put(last_plain_);
    aead_.freeze(p);
  }
  static std::unique_ptr<TlsFlow> thaw(Unpacker& u) {
    const auto encrypt = u.get<bool>();
    std::vector<TlsL5State::Epoch> epochs(u.get<uint8_t>());
    for (TlsL5State::Epoch& e : epochs) {
      u.get(e.first_msg);
      u.get(e.first_seq);
      u.get(e.keys.version);
      u.get(e.keys.cipher);
      e.keys.key.resize(u.get<uint8_t>());
      u.get_bytes(e.keys.key.data(), e.keys.key.size());
      u.get(e.keys.iv);
    }
    auto f = std::make_unique<TlsFlow>(std::move(epochs), encrypt);
    f->thaw_record(u);
    return f;
  }

  void set_inner(InnerEngine* inner) override { inner_ = inner; }
  bool update(const l5o::L5State& s) override {
    if (s.proto != l5o::L5Proto::kTls) return false;
    epochs_ = static_cast<const TlsL5State&>(s).epochs;
    next_ = copy_keys(static_cast<const TlsL5State&>(s).next);
    return !epochs_.empty();
  }
  void attach(RrMap*, OffloadStats* st) override { stats_ = st; }
  void park() override { aead_.park(); }
  // TX: the record before each later key epoch is the KeyUpdate the L5P sent (tls_tx.cc
  // key_update): not NVMe (or any inner) stream bytes. (RX learns of a KeyUpdate only at its
  // end, too late: the L5P stops trusting inner marks then.)
  bool outside_payload(uint64_t msg_index) const override {
    if (!encrypt_) return false;
    for (size_t e = 1; e < epochs_.size(); ++e)
      if (epochs_[e].first_msg == msg_index + 1) return true;
    return false;
  }

  void begin(uint64_t msg_index, TcpSeq, ByteSpan header, TcpSeq payload_pos) override {
    payload_pos_ = payload_pos;
    msg_index_ = msg_index;
    const size_t e = epoch_of(msg_index);
    const TlsL5State::Epoch& ep = epochs_[e];
    if (ep.first_msg != loaded_) {
      aead_.rekey(ep.keys.cipher, ep.keys.key);  // a KeyUpdate epoch (or back to an older one)
      loaded_ = ep.first_msg;
    }
    cur_ = RecordKeys{ep.keys.version, ep.keys.cipher, ep.keys.iv};  // (a copy: update() may replace epochs_ mid-record)
    seq_ = ep.first_seq + (msg_index - ep.first_msg);
    const RecordShape shape = record_shape(ep.keys);
    const uint32_t len = load_be16(&header[3]);
    std::memcpy(hdr_, header.data(), kHeaderLen);
    // A record too short for its shape cannot verify: its bytes pass through untouched.
    bad_ = len < shape.min_len();
    body_ = uint32_t(kHeaderLen + shape.explicit_nonce);
    data_end_ = bad_ ? body_ : uint32_t(kHeaderLen + len - kTagLen);
    content_end_ = data_end_ - (shape.inner_type ? 1 : 0);
    tag_done_ = false;
    started_ = false;
    if (!bad_ && shape.explicit_nonce == 0) start(nullptr);
  }
  void tx(uint32_t offset, ByteSpan in, MutByteSpan out) override {
    // Common case first: record data only (no nonce, tag or inner engine): one AEAD update.
    if (plain_data(offset, in.size())) return aead_.update(in, out);
    size_t i = explicit_nonce(offset, in, out);
    if (i == in.size()) return;  // the piece ended inside the nonce: no data yet, no crypto started
    if (bad_) {
      // Never on the wire as plaintext (fail closed): a record too short to be one (the L5P
      // never makes such) goes out as zeros, which no receiver authenticates.
      std::memset(out.data() + i, 0, out.size() - i);
      return;
    }
    if (offset + i < data_end_) {
      const size_t n = std::min<size_t>(data_end_ - (offset + i), in.size() - i);
      ByteSpan src = in.subspan(i, n);
      MutByteSpan dst = out.subspan(i, n);
      if (inner_ && !outside_payload(msg_index_)) {
        // Composed offload: the inner L5P works on the plaintext first (NVMe fills its
        // digests), then it is encrypted -- TX order "NVMe then TLS".
        if (dst.data() != src.data()) std::memcpy(dst.data(), src.data(), n);
        to_inner(uint32_t(offset + i), dst);
        aead_.update(dst, dst);
      } else {
        aead_.update(src, dst);
      }
      i += n;
    }
    if (i < in.size()) {
      if (!tag_done_) {
        aead_.final_tag(tag_);
        tag_done_ = true;
      }
      for (; i < in.size(); ++i) out[i] = tag_[offset + i - data_end_];
    }
  }
  void rx(uint32_t offset, ByteSpan in, MutByteSpan out) override {
    if (plain_data(offset, in.size()) && !ku_sized()) return aead_.update(in, out);
    size_t i = explicit_nonce(offset, in, out);
    // A packet may end inside a 1.2 record's explicit nonce: nothing of the data is in it, and
    // [body_, ...) offsets below would count back from before the data (fuzz_tls_rx, UBSan).
    if (i == in.size()) return;
    if (bad_) return pass(i, in, out);
    if (offset + i < data_end_) {
      const size_t n = std::min<size_t>(data_end_ - (offset + i), in.size() - i);
      MutByteSpan dst = out.subspan(i, n);
      aead_.update(in.subspan(i, n), dst);
      if (ku_sized()) std::memcpy(ku_.data() + (offset + i - body_), dst.data(), n);
      if (inner_) {
        to_inner(uint32_t(offset + i), dst);  // RX order "TLS then NVMe"
        if (offset + i + n == data_end_) last_plain_ = dst[n - 1];  // the inner content type, unless padded
      }
      i += n;
    }
    for (; i < in.size(); ++i) {
      tag_[offset + i - data_end_] = in[i];
      out[i] = in[i];
    }
  }
  bool rx_verify() override {
    if (bad_ || !started_) return false;
    const bool ok = aead_.check_tag(tag_);
    if (ok && ku_sized() && is_key_update(ByteSpan(ku_).first(kKeyUpdateLen)) &&
        ku_[kKeyUpdateLen] == uint8_t(ContentType::kHandshake))
      on_key_update();
    // A zero where the content type belongs means padding (RFC 8446 §5.4): the padding went to
    // the inner engine as payload, so its positions no longer match the inner L5P's.
    if (ok && inner_ && last_plain_ == 0) inner_->on_broken();
    return ok;
  }
  size_t context_bytes() const override {
    // What a NIC keeps for a TLS flow (the record header, record index and cursor are the
    // engine's, MsgCursor::context_bytes): per live key epoch its key (16 / 32), static IV (12)
    // and the record sequence number it starts at (8); a pending next epoch (the key a
    // KeyUpdate will switch to) only as the host address of its key + IV (8): the NIC fetches
    // them when it meets the KeyUpdate record, a rare event; the AEAD's mid-record state (GHASH / Poly1305
    // partial state, see AeadStream::dynamic_state_bytes); the tag gathered (RX) or being
    // emitted (TX) across packets (16); TLS 1.2 AES-GCM's explicit nonce (8) gathered before
    // the record's crypto can start; one byte of flags (bad record, crypto started, tag done).
    // Host-only fields (the KeyUpdate plaintext kept for the L5P's check, pointers) are not
    // context state. Steady state, TLS 1.3 AES-128-GCM: 36 + 8 + 96 + 16 + 1 = 157 B.
    size_t n = 0;
    for (const auto& e : epochs_) n += e.keys.key.size() + 12 + 8;
    if (next_) n += 8;
    const TrafficKeys& k = epochs_.back().keys;
    return n + AeadStream::dynamic_state_bytes(k.cipher) + 16 + record_shape(k).explicit_nonce + 1;
  }

 private:
  void thaw_record(Unpacker& u) {
    u.get(ku_);
    u.get(msg_index_);
    u.get(loaded_);
    u.get(cur_);
    u.get(seq_);
    u.get(hdr_);
    u.get(nonce_);
    body_ = u.get<uint16_t>();
    data_end_ = u.get<uint16_t>();
    content_end_ = u.get<uint16_t>();
    const auto flags = u.get<uint8_t>();
    bad_ = flags & 1;
    started_ = flags & 2;
    tag_done_ = flags & 4;
    u.get(tag_);
    u.get(payload_pos_);
    u.get(last_plain_);
    aead_.thaw(u);
  }
  // An authenticated KeyUpdate (RFC 8446 §4.6.3) alone in its record: the next record is the
  // first under the next keys, sequence number 0 (§5.3). A KeyUpdate sharing its record, or
  // padded, is left to the L5P (it updates the context; resync finds the place meanwhile).
  // Its content already went to the inner engine as if it were inner stream bytes (the type
  // comes last): that engine's framing is broken from here on, so it stops (it would place
  // the following bytes at shifted offsets).
  void on_key_update() {
    if (inner_) inner_->on_broken();
    if (!next_) return;
    epochs_.push_back(TlsL5State::Epoch{msg_index_ + 1, 0, std::move(*next_)});
    next_.reset();
    if (stats_) ++stats_->rx_key_switch;
  }
  // The record could be a lone KeyUpdate (RFC 8446 §4.6.3: its 5 bytes and the inner type 22,
  // alone in a record): its plaintext is kept for rx_verify. TLS 1.3 only -- 1.2 has no KeyUpdate,
  // and a 1.2 record of six bytes that read so is application data.
  bool ku_sized() const { return cur_.version == Version::kTls13 && data_end_ - body_ == ku_.size(); }
  // [offset, offset + n) lies in the record's data and nothing but the AEAD needs it.
  bool plain_data(uint32_t offset, size_t n) const {
    return !inner_ && !bad_ && offset >= body_ && offset + n <= data_end_;
  }
  size_t epoch_of(uint64_t msg_index) const {
    size_t i = 0;
    while (i + 1 < epochs_.size() && epochs_[i + 1].first_msg <= msg_index) ++i;
    return i;
  }
  // The record's crypto starts once its nonce is known (TLS 1.2 AES-GCM: after the 8 bytes of
  // nonce_explicit, RFC 5288 §3, which may arrive in two packets).
  void start(const uint8_t* explicit_bytes) {
    TrafficKeys k;  // (no key: the nonce and AAD need version, cipher and iv)
    k.version = cur_.version;
    k.cipher = cur_.cipher;
    k.iv = cur_.iv;
    uint8_t nonce[12], aad[kMaxAadLen];
    record_nonce(k, seq_, explicit_bytes, nonce);
    const size_t alen = record_aad(k, seq_, hdr_, aad);
    aead_.begin(nonce, ByteSpan(aad, alen), encrypt_);
    started_ = true;
  }
  // Bytes of [offset, ...) inside the explicit nonce pass unchanged and are gathered; returns
  // how many of `in` it took.
  size_t explicit_nonce(uint32_t offset, ByteSpan in, MutByteSpan out) {
    if (offset >= body_) return 0;
    const size_t n = std::min<size_t>(body_ - offset, in.size());
    for (size_t i = 0; i < n; ++i) {
      nonce_[offset - kHeaderLen + i] = in[i];
      out[i] = in[i];
    }
    if (offset + n == body_ && !bad_) start(nonce_);
    return n;
  }
  static void pass(size_t from, ByteSpan in, MutByteSpan out) {
    if (out.data() != in.data()) std::memcpy(out.data() + from, in.data() + from, in.size() - from);
  }
  // Hands the content part of [offset, offset + bytes.size()) to the inner engine. The record's
  // content is taken to end one byte before the tag, at the inner content type (RFC 8446 §5.2).
  // A padded record (§5.4: the OpenSSL peer with block padding, or a hostile peer) breaks that
  // guess -- its type byte and zeros reach the inner engine as payload -- so rx_verify() tells
  // the inner engine its positions are broken, and the L5P (which finds the type byte itself)
  // stops trusting inner marks from the first padded record on.
  void to_inner(uint32_t offset, MutByteSpan bytes) {
    const uint32_t lo = std::max<uint32_t>(offset, body_);
    const uint32_t hi = std::min<uint32_t>(offset + uint32_t(bytes.size()), content_end_);
    if (lo >= hi) return;
    inner_->on_payload(payload_pos_ + (lo - body_), bytes.subspan(lo - offset, hi - lo));
  }

  static std::unique_ptr<TrafficKeys> copy_keys(const std::optional<TrafficKeys>& k) {
    return k ? std::make_unique<TrafficKeys>(*k) : nullptr;
  }
  // The current record's keys but the key itself (the AEAD holds its schedule).
  struct RecordKeys {
    Version version = Version::kTls13;
    Cipher cipher = Cipher::kAes128Gcm;
    std::array<uint8_t, 12> iv{};
  };

  std::vector<TlsL5State::Epoch> epochs_;
  std::unique_ptr<TrafficKeys> next_;  // (rare: a pointer, not an inline optional)
  std::array<uint8_t, kKeyUpdateLen + 1> ku_{};  // an unpadded KeyUpdate record's plaintext
  uint64_t msg_index_ = 0;
  OffloadStats* stats_ = nullptr;
  AeadStream aead_;
  uint64_t loaded_;  // first_msg of the epoch whose key schedule aead_ holds
  RecordKeys cur_;
  uint64_t seq_ = 0;
  bool encrypt_;
  uint8_t hdr_[kHeaderLen] = {};
  uint8_t nonce_[kExplicitNonceLen] = {};
  uint32_t body_ = 0, data_end_ = 0, content_end_ = 0;
  bool bad_ = false, started_ = false, tag_done_ = false;
  uint8_t tag_[16] = {};
  InnerEngine* inner_ = nullptr;
  TcpSeq payload_pos_;
  uint8_t last_plain_ = 0;
};

}  // namespace

std::optional<uint32_t> TlsPlugin::probe(ByteSpan hdr) const {
  uint16_t len = 0;
  if (check_header(hdr, &len) != HeaderCheck::kOk) return std::nullopt;
  return uint32_t(kHeaderLen + len);
}

uint32_t TlsPlugin::payload_len(ByteSpan hdr) const {
  // TLS 1.3: the record's content is its encrypted length minus the type byte and the tag.
  // (Only TLS 1.3 carries an inner L5P: NVMe/TCP requires it, NVMe TCP transport §3.6.1.)
  const uint32_t len = load_be16(&hdr[3]);
  return len > kTagLen ? len - uint32_t(kTagLen) - 1 : 0;
}

std::unique_ptr<PluginFlow> TlsPlugin::make_flow(const l5o::L5State& state, l5o::Direction dir) const {
  return std::make_unique<TlsFlow>(static_cast<const TlsL5State&>(state), dir == l5o::Direction::kTx);
}

std::unique_ptr<PluginFlow> TlsPlugin::thaw_flow(Unpacker& u) const { return TlsFlow::thaw(u); }

std::unique_ptr<Plugin> make_tls_plugin() { return std::make_unique<TlsPlugin>(); }

}  // namespace autonic::nic
