// TLS receive record layer (tls_sw / tls_device RX roles): the shared MsgFramer finds the
// records in TCP's pbufs, classifies each by the NIC's marks and answers the NIC's resync
// requests (§4.3); this class parses the record header and opens each record -- full: skip the
// crypto; none: decrypt in software; partial: re-encrypt the NIC-decrypted parts, then decrypt +
// authenticate (as Linux's tls_device_reencrypt).
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "l5p/common/msg_framer.h"
#include "l5p/common/msg_log.h"
#include "l5p/tls/tls_failure.h"
#include "l5p/tls/tls_post_hs.h"
#include "l5p/tls/tls_stats.h"
#include "l5p/tls/tls_sw.h"

namespace autonic::l5p::tls {

class TlsRx final : private MsgParser<RxFailure> {
  friend class MsgFramer<RxFailure, TlsRx>;  // calls the hooks below directly (TlsRx is final)

 public:
  // Application data in order; inner_marked: the NIC's inner mark on these bytes (composed
  // offloads, e.g. NVMe crc_ok) -- only ever set for records the NIC decrypted whole.
  using Deliver = std::function<void(ByteSpan, bool inner_marked)>;
  // from_server: the records come from the server (this side is the client); it decides which
  // post-handshake messages are allowed (tls_post_hs.h). first_seq: the first record's
  // sequence number (TLS 1.2: 1, after the Finished).
  TlsRx(const TrafficKeys& keys, TlsStats& st, Deliver deliver, RxResyncAnswerer::Answer answer,
        bool from_server = true, uint64_t first_seq = 0);
  // TLS 1.3 KeyUpdate received (§4.6.3): the session derives the next receive keys (and sends
  // its own KeyUpdate if `requested`); they apply from the record with index `first` on (the
  // NIC context's numbering: the session tells the context so).
  using KeyUpdate = std::function<TrafficKeys(bool requested, uint64_t first)>;
  void on_key_update(KeyUpdate f) { on_key_update_ = std::move(f); }
  // A record that looks to the NIC like a lone KeyUpdate but is not one for us (the end of a
  // split handshake message): a NIC holding the next keys moved to them. The session puts the
  // context back on the current keys from record `first` (sequence number `first_seq`) and
  // returns those next keys; records the NIC may have processed under them meanwhile are checked
  // in software from then on (tls_rx.cc).
  using NicMisled = std::function<TrafficKeys(uint64_t first, uint64_t first_seq)>;
  void on_nic_misled(NicMisled f) { on_nic_misled_ = std::move(f); }
  void start(TcpSeq first) { framer_.start(first); }
  // placed: `data` is not packet memory but the inner L5P's own buffer, where the NIC already
  // put these decrypted bytes (composed DDP). It stays valid until the record is delivered, so it
  // is referenced, not copied, and a full record hands exactly those addresses up (the inner
  // L5P's copy then finds src == dst).
  // batch: application data of records the NIC decrypted whole waits for flush(), so one
  // recv()'s worth reaches the application in one call, as tls_sw_recvmsg copies every ready
  // record into one user buffer (issue #12: a delivery per 2 KiB record was a measured share of
  // the RX host cost). Without batch, input() delivers before it returns.
  std::optional<RxFailure> input(ByteSpan data, bool marked, bool inner_marked = false, bool placed = false,
                                 bool batch = false) {
    // NIC-decrypted bytes of a record already on the fast path (in_out_, its header parsed).
    // Most fall strictly inside its body (a 16 KiB record spans a dozen packets): copied after
    // the record's bytes so far and counted, no more (issue #12); nothing finishes, so nothing
    // is due for delivery either. A piece that ends the record goes on in stream().
    if (in_out_ && marked && !inner_marked && !placed && hdr_got_ == body_off_) {
      if (data.size() < framer_.body_left()) {
        out_.insert(out_.end(), data.begin(), data.end());
        framer_.count_body(uint32_t(data.size()), true);
        return std::nullopt;
      }
      data = data.subspan(stream(data));
      if (data.empty()) {
        if (!batch) flush();
        return std::nullopt;
      }
    }
    return input_general(data, RxMarks{marked, inner_marked, placed}, batch);
  }
  // Hands up the application data batched so far (in order with everything delivered before).
  void flush();
  // Payload (record content) stream position of the next record: the inner L5P's coordinates.
  TcpSeq payload_pos() const override { return payload_pos_; }
  // False once a record's content diverged from the NIC's payload count (padding, or a
  // non-application-data record) after application data was delivered: inner marks mean
  // nothing from then on.
  bool inner_trusted() const { return inner_trusted_; }
  // Before any application data, a divergent record (the NewSessionTickets a server sends a
  // round trip after our Finished, RFC 8446 §4.6.1) is left out of the payload stream, so the
  // inner L5P's origin stays right whenever it read payload_pos(); the NIC's context, which
  // counted that record as payload, is then rebuilt from the next record on (the session does
  // it: a new offload context whose first record has sequence number `seq`, at TCP `start`).
  struct Rebase {
    TcpSeq start;
    uint64_t seq;
  };
  std::optional<Rebase> take_rebase() { return std::exchange(rebase_, std::nullopt); }
  // Called at once when a rebase is due -- before the next record is delivered, which may make
  // the inner L5P create its context inside the TLS one (so it must be the new one).
  void on_rebase(std::function<void()> f) { on_rebase_ = std::move(f); }
  // A FIN now cuts a record or a handshake message short (RFC 8446 §6.1: truncation).
  bool truncated() const { return framer_.mid_msg() || post_hs_.mid_message(); }
  void resync_rx_req(TcpSeq tcpsn) { framer_.resync_rx_req(tcpsn); }
  bool closed() const { return closed_; }  // close_notify received
  bool mid_record() const { return framer_.mid_msg(); }
  // Record every finished record here (the testbed's wire audit); null: none.
  void set_msg_log(MsgLog* log) { log_ = log; }

 private:
  std::optional<RxFailure> input_general(ByteSpan data, const RxMarks& m, bool batch);
  // MsgParser (check() and on_bytes()'s fast path inline: the framer calls them directly, for
  // every piece of every packet)
  Result check() override {
    if (after_record_) [[unlikely]] return std::exchange(after_record_, std::nullopt);
    if (closed_) [[unlikely]] return RxFailure{"tls:data_after_close_notify", kUnexpectedMessage};
    return std::nullopt;
  }
  HeaderParse<RxFailure> parse_header(ByteSpan head) override;
  Result on_bytes(uint32_t off, ByteSpan bytes, const RxMarks& m) override {
    const bool plain_marked = m.marked && !m.placed && !m.inner_marked;
    if (off == 0) in_out_ = plain_marked && !ahead_;
    if (in_out_ && plain_marked && off >= body_off_) {  // the fast path's body bytes
      out_.insert(out_.end(), bytes.begin(), bytes.end());
      return std::nullopt;
    }
    return on_bytes_general(off, bytes, m);
  }
  Result on_bytes_general(uint32_t off, ByteSpan bytes, const RxMarks& m);
  Result on_msg(const RxMsg& m) override;
  // Opens a record the NIC did not (wholly) decrypt: false if it does not authenticate.
  bool open_in_software(const RxMsg& m, size_t ct_len);
  // Turns the NIC-decrypted ranges of a partial record back into ciphertext with `c` (or, run
  // again, undoes that). count: add to rx_tls_reencrypted_bytes.
  void reencrypt(const RxMsg& m, size_t ct_len, RecordCrypto& c, uint64_t seq, bool count = true);
  // After a KeyUpdate in record m: the next record is the first under the next keys.
  void rekey(const RxMsg& m);
  // Record m left the payload stream: the NIC context restarts after it (see take_rebase()),
  // record indices from 0 there.
  void rebase_after(const RxMsg& m);
  // A record's content by its inner type; a failure ends the session after this record.
  std::optional<RxFailure> on_content(const RxMsg& m, uint8_t type, ByteSpan content);
  // Hands the application data up, in runs of equal inner mark where the NIC decrypted it.
  void deliver_content(const RxMsg& m, ByteSpan content);
  // Hands content bytes [lo, hi) of the record up, from the placed buffers where they are there.
  void deliver_range(uint32_t lo, uint32_t hi, bool inner_marked);

  std::unique_ptr<RecordCrypto> crypto_;
  RecordShape shape_;
  uint32_t body_off_;  // first ciphertext byte of a record (after any explicit nonce)
  // Earlier key generations, newest first, with their sequence number bases (seq = base +
  // index). The NIC chooses a record's keys from what it knows when the record begins: a
  // KeyUpdate it did not see (lost, reordered, or crossed by a resync) leaves it on older keys
  // for a while, and a record it partly decrypted then carries marks made with those. It only
  // ever uses true generations, and the record layer knows every one up to the record it
  // opens, so the tag tells which (tls_rx.cc open_in_software).
  struct OldKeys {
    std::unique_ptr<RecordCrypto> crypto;
    uint64_t base;
  };
  static constexpr size_t kOldKeys = 8;
  std::deque<OldKeys> old_;
  std::optional<bool> ku_requested_;
  KeyUpdate on_key_update_;
  // The keys a misled NIC moved to (NicMisled) and their sequence base; while set, no NIC
  // verdict is taken on trust: full records are re-encrypted and opened here too.
  std::unique_ptr<RecordCrypto> ahead_;
  uint64_t ahead_base_ = 0;
  NicMisled on_nic_misled_;
  void check_nic_misled(const RxMsg& m, uint8_t type, ByteSpan content);
  // The NIC decrypted and authenticated the whole record, and we take its word (after a misled
  // NIC we do not: it may have used keys we never do).
  bool trusted_full(const RxMsg& m) const { return m.offloaded == Offloaded::kFull && !ahead_; }
  TlsStats& st_;
  Deliver deliver_;
  MsgFramer<RxFailure, TlsRx> framer_;
  MsgLog* log_ = nullptr;
  // The fast path. A record whose first bytes arrived NIC-decrypted (not placed, no inner mark)
  // is assembled straight into out_, its ciphertext-turned-plaintext right after the content of
  // the records finished before it (up to out_done_) and its header aside in hdr_: if the NIC
  // decrypted it whole, what stays is its content, and that is the record layer's one copy.
  // Anything else -- an unmarked, placed or inner-marked piece, or a record that is not plain
  // application data -- moves it to rec_ (demote) and the general path.
  Bytes out_;
  size_t out_done_ = 0;
  bool in_out_ = false;
  uint8_t hdr_[kHeaderLen + kExplicitNonceLen] = {};
  uint32_t hdr_got_ = 0;  // header bytes in hdr_
  void demote();
  bool finish_in_out(const RxMsg& m);
  // A record the NIC decrypted whole whose `content` bytes now follow out_done_ in out_: counted,
  // logged and kept for the next flush (finish_in_out, stream_end).
  void keep_full(TcpSeq start, uint32_t len, size_t content);
  // The streaming path (tls_rx.cc): from inside a fast-path record on through the records after
  // it in the same NIC-decrypted piece; returns how many bytes of `d` it took.
  size_t stream(ByteSpan d);
  bool stream_end(ByteSpan tail);   // the record's last bytes: false if the general path must end it
  bool stream_begin(ByteSpan head);  // the next record's header (body_off_ bytes): false if not ours
  Bytes rec_;  // the record; placed ranges are left unfilled unless software must decrypt
  struct Placed {
    uint32_t off, len;
    const uint8_t* at;
  };
  std::vector<Placed> placed_;
  MarkedRanges inner_ranges_;
  std::optional<RxFailure> after_record_;  // a record was consumed, then failed the session
  TcpSeq payload_pos_;        // payload stream position of the current record's content
  bool inner_trusted_ = true;  // false once a record's content diverged from the NIC's count
  bool delivered_ = false;     // application data has been handed up
  uint64_t seq_base_ = 0;      // record sequence number of framer index 0 (moved by a rebase)
  std::optional<Rebase> rebase_;
  std::function<void()> on_rebase_;
  PostHandshakeRx post_hs_;
  Bytes plain_;
  bool closed_ = false;
};

}  // namespace autonic::l5p::tls
