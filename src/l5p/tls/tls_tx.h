// TLS transmit record layer (tls_device's TX role): frames application data into TLS 1.3 or
// TLS 1.2 records. Software: sealed here. Offload: plaintext with a dummy tag, the NIC encrypts (§4.2).
// Offload+zc: the application's buffer goes to TCP by reference and the NIC encrypts it to the
// wire; the host never copies or encrypts it (§5.2 "Zero-copy sendfile").
#pragma once
#include <memory>

#include "l5p/common/tx_msg_map.h"
#include "proto/tls/tls_l5_state.h"
#include "l5p/tls/tls_stats.h"
#include "l5p/tls/tls_sw.h"

namespace autonic::l5p::tls {

enum class TxMode : uint8_t { kSoftware, kOffload, kOffloadZc };

class TlsTx {
 public:
  // align_mss != 0: records are sized so each fills whole TCP segments (see tls_tx.cc);
  // open_fill = bytes already waiting in the segment the first record will join.
  // first_seq: the record sequence number of the first record (RFC 8446 §5.3); not 0 when
  // OpenSSL already sent NewSessionTickets under these keys.
  TlsTx(const TrafficKeys& keys, TxMode mode, size_t record_size, size_t align_mss, size_t open_fill,
        TlsStats& st, uint64_t first_seq = 0);
  void start(TcpSeq first) { map_.start(first); }
  // Copying send: frames up to data.size() bytes; returns how many were taken.
  // more: leave a tail shorter than a record for the next call (MSG_MORE).
  size_t queue(ByteSpan data, bool more = false);
  // Gathering send (Linux tls_sw's open record under MSG_MORE): like queue, but a tail shorter
  // than a record is taken and kept open for the next call to fill; !more closes it.
  size_t queue_gather(ByteSpan data, bool more);
  // Zero-copy send: the buffer is lent until TCP acknowledges it; it must not change meanwhile
  // (the shared_ptr<const> lets the owner see when it is released: use_count() == 1).
  size_t queue_zc(const std::shared_ptr<const Bytes>& buf, size_t off, size_t len, bool more = false);
  void queue_alert(uint8_t level, uint8_t desc);
  // TLS 1.3 KeyUpdate (RFC 8446 §4.6.3): queues the KeyUpdate under the current keys and
  // switches to `next` from the following record (sequence numbers from 0, §5.3). Only when
  // can_rekey(): every record of the epoch before the current one is acknowledged, so at most
  // two epochs are ever live (the NIC must still re-encrypt retransmissions of the old one).
  bool can_rekey() const;
  void key_update(bool request_update, const TrafficKeys& next);
  // The key epochs the NIC needs from now on (offload: handed over with l5o update).
  const std::vector<proto::tls::TlsL5State::Epoch>& epochs() const { return epochs_; }
  uint64_t records_since_rekey() const { return seq_ - epochs_.back().first_seq; }
  // Application data waits (alerts do not): every `n` records until the next key_update
  // (0: never), or until the KeyUpdate a peer asked for is out (§4.6.3: before our next data).
  void set_rekey_every(uint64_t n) { rekey_every_ = n; }
  void hold_data(bool h) { hold_ = h; }
  bool data_blocked() const { return hold_ || (rekey_every_ && records_since_rekey() >= rekey_every_); }
  void pump(tcpip::TcpConn& c) { map_.pump(c, aligned_); }
  void pump(TxMsgMap::Writer& w) { map_.pump(w, aligned_); }  // (tests: records to memory)
  void on_acked(TcpSeq snd_una) {
    map_.on_acked(snd_una);
    if (map_.idle()) arena_.release();  // nothing in flight: an idle connection holds no chunk
    else arena_.release_before(map_.oldest_index());
    trim_epochs();
  }
  l5o::TxMsgState msgstate(TcpSeq t) { return map_.msgstate(t); }
  bool idle() const { return map_.idle() && open_.empty(); }
  // Application-data (payload) stream positions: next byte taken / oldest byte still held.
  TcpSeq payload_pos() const { return map_.payload_end() + uint32_t(open_.size()); }
  TcpSeq oldest_payload() const { return map_.oldest_payload(); }
  TxMode mode() const { return mode_; }
  size_t room() const;

 private:
  size_t next_record_len(size_t avail, bool more);
  size_t frame_records(ByteSpan data, bool more, const std::shared_ptr<const Bytes>* lent);
  // Offload: as many whole application-data records from `data` as the per-record path would
  // cut now, carved in one arena run and pushed to the map as one; the bytes taken (0: none).
  size_t carve_records(ByteSpan data, size_t hint);
  // Offload (§4.2): up to n plaintext records of `inner` type and clen content bytes each, from
  // `content` on, with dummy tags for the NIC to fill, back to back in one arena run (as many as
  // its chunk holds, at least one) and pushed to the map as one; returns how many.
  size_t carve(ContentType inner, const uint8_t* content, size_t clen, size_t n, size_t hint);
  void close_open_record();
  // hint: bytes of records still to come in this write (sizes the arena's next chunk).
  void push_record(ContentType inner, ByteSpan content, const std::shared_ptr<const Bytes>* lent, size_t hint = 0);
  void trim_epochs();
  TxMode mode_;
  size_t record_size_;
  size_t first_trim_ = 0;  // the first record is shorter by this much to start aligned
  bool aligned_ = false;
  TlsStats& st_;
  std::unique_ptr<RecordCrypto> crypto_;
  std::vector<proto::tls::TlsL5State::Epoch> epochs_;
  TxMsgMap map_;
  PieceArena arena_;  // offload records (plaintext the NIC encrypts)
  uint64_t seq_ = 0;  // next record sequence number (RFC 8446 §5.3)
  Bytes open_;        // queue_gather: content of the record still being filled
  uint64_t rekey_every_ = 0;
  bool hold_ = false;
};

}  // namespace autonic::l5p::tls
