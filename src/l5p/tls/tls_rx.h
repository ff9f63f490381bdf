// TLS receive record layer (tls_sw / tls_device RX roles): parses records from TCP's pbufs,
// classifies each by the NIC's marks -- full: skip the crypto; none: decrypt in software;
// partial: re-encrypt the NIC-decrypted parts, then decrypt + authenticate (as Linux's
// tls_device_reencrypt) -- and answers the NIC's resync requests (§4.3).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "l5p/common/marked_ranges.h"
#include "l5p/common/rx_resync_answerer.h"
#include "l5p/tls/tls_stats.h"
#include "l5p/tls/tls_sw.h"

namespace autonic::l5p::tls {

// What a fatal receive error asks the session to do.
struct RxFailure {
  std::string outcome;            // e.g. "alert:bad_record_mac"
  std::optional<uint8_t> alert;   // alert description to send to the peer, if any
};

class TlsRx {
 public:
  // Application data in order; inner_marked: the NIC's inner mark on these bytes (composed
  // offloads, e.g. NVMe crc_ok) -- only ever set for records the NIC decrypted whole.
  using Deliver = std::function<void(ByteSpan, bool inner_marked)>;
  TlsRx(const TrafficKeys& keys, TlsStats& st, Deliver deliver, RxResyncAnswerer::Answer answer);
  void start(TcpSeq first) { seq_ = first; }
  // placed: `data` is not packet memory but the inner L5P's own buffer, where the NIC already
  // put these decrypted bytes (composed DDP). It stays valid until the record is delivered, so it
  // is referenced, not copied, and a full record hands exactly those addresses up (the inner
  // L5P's copy then finds src == dst).
  std::optional<RxFailure> input(ByteSpan data, bool marked, bool inner_marked = false, bool placed = false);
  // Payload (record content) stream position of the next record: the inner L5P's coordinates.
  TcpSeq payload_pos() const { return payload_pos_; }
  // False once a record's content diverged from the NIC's payload count (padding, or a
  // non-application-data record): inner marks mean nothing from then on.
  bool inner_trusted() const { return inner_trusted_; }
  void resync_rx_req(TcpSeq tcpsn);
  bool closed() const { return closed_; }  // close_notify received
  bool mid_record() const { return !rec_.empty(); }

 private:
  std::optional<RxFailure> finish_record();
  // Hands content bytes [lo, hi) of the record up, from the placed buffers where they are there.
  void deliver_range(uint32_t lo, uint32_t hi, bool inner_marked);

  RecordCrypto crypto_;
  TlsStats& st_;
  Deliver deliver_;
  RxResyncAnswerer resync_;
  TcpSeq seq_, rec_start_;
  uint64_t rec_seq_ = 0;
  Bytes rec_;  // the record; placed ranges are left unfilled unless software must decrypt
  struct Placed {
    uint32_t off, len;
    const uint8_t* at;
  };
  std::vector<Placed> placed_;
  uint32_t rec_len_ = 0;  // total incl. header; 0 until the header is complete
  MarkedRanges ranges_, inner_ranges_;
  TcpSeq payload_pos_;        // payload stream position of the current record's content
  bool inner_trusted_ = true;  // false once a record's content diverged from the NIC's count
  Bytes plain_;
  bool closed_ = false;
};

const char* alert_name(uint8_t desc);

}  // namespace autonic::l5p::tls
