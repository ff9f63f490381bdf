// The receive-side message framer every L5P shares, in the spirit of Linux's tls_strp
// (net/tls/tls_strp.c): it owns the stream position and the message boundaries (start, index),
// tracks which bytes of the message arrived in NIC-marked packets, classifies each finished
// message full / partial / none (§4.3) and answers the NIC's resync requests from its own view of
// the boundaries (Fig. 7 (c)). An L5P plugs in only its header parser -- given the first bytes
// of a message: need more / error / total length -- and what it does with the bytes and the
// finished message.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "common/bytes.h"
#include "common/tcp_seq.h"
#include "l5p/common/marked_ranges.h"
#include "l5p/common/rx_resync_answerer.h"

namespace autonic::l5p {

// How the NIC handled a finished message (§4.3): every byte in marked packets, some, or none.
enum class Offloaded : uint8_t { kFull, kPartial, kNone };

// The flags TCP hands with a piece of the stream (pbuf flags).
struct RxMarks {
  bool marked = false;        // the NIC processed these bytes (decrypted / crc_ok)
  bool inner_marked = false;  // composed offloads: the inner L5P's mark
  bool placed = false;        // the bytes are in the inner L5P's own buffer already (DDP)
};

// A finished message as the framer saw it.
struct RxMsg {
  TcpSeq start;
  uint64_t index = 0;  // messages before it since the offload began
  uint32_t len = 0;
  Offloaded offloaded = Offloaded::kNone;
  MarkedRanges ranges;  // message offsets
};

// What the header parser says (tls_strp's parser callback: 0 / error / length).
template <class Failure>
struct HeaderParse {
  enum class Kind : uint8_t { kNeedMore, kError, kLength };
  Kind kind;
  uint32_t n = 0;  // kNeedMore: header bytes wanted in all; kLength: the message's total length
  std::optional<Failure> failure;
  static HeaderParse need_more(uint32_t total) { return {Kind::kNeedMore, total, std::nullopt}; }
  static HeaderParse length(uint32_t len) { return {Kind::kLength, len, std::nullopt}; }
  static HeaderParse error(Failure f) { return {Kind::kError, 0, std::move(f)}; }
};

// The L5P's part. Any hook returning a failure stops the framer where it stands.
template <class Failure>
class MsgParser {
 public:
  using Result = std::optional<Failure>;
  virtual ~MsgParser() = default;
  // Before each piece of input: a failure refuses the rest (e.g. data after close_notify).
  virtual Result check() { return std::nullopt; }
  // Largest piece the L5P takes at once from message offset `off` (its own sub-fields).
  virtual uint32_t piece_limit(uint32_t /*off*/) const { return UINT32_MAX; }
  // The message's first bytes (as many as asked for): need more / error / total length.
  virtual HeaderParse<Failure> parse_header(ByteSpan head) = 0;
  // Bytes [off, off + size) of the current message, before the framer counts them.
  virtual Result on_bytes(uint32_t off, ByteSpan bytes, const RxMarks& m) = 0;
  // After the framer counted them (and parsed the header if it just completed).
  virtual Result after_bytes() { return std::nullopt; }
  // The message is complete; the framer already stands at the next one (a handler may send or
  // receive). On a failure the framer goes back to the end of this message.
  virtual Result on_msg(const RxMsg& m) = 0;
  // Composed offloads: where the next message's payload begins in the inner L5P's stream.
  virtual TcpSeq payload_pos() const { return TcpSeq(); }
};

// Parser: the L5P's class when it is `final` and befriends the framer -- the hooks are then
// called directly, not through the vtable, on a path that runs for every piece of every packet
// (issue #12).
template <class Failure, class Parser = MsgParser<Failure>>
class MsgFramer {
 public:
  // head_len: the header bytes the parser wants first; answer: resync_rx_resp toward the NIC.
  // header_in_place: the parser's parse_header has no side effects, so a header that arrives
  // whole in one piece of input is parsed where it lies and its message handed on in one piece
  // with it (a TLS record: one on_bytes for header and body instead of two).
  MsgFramer(Parser& p, uint32_t head_len, RxResyncAnswerer::Answer answer, bool header_in_place = false)
      : p_(p), head_len_(head_len), resync_(std::move(answer)), in_place_(header_in_place) {
    cur_.need = head_len;
  }

  // The stream position of the first message.
  void start(TcpSeq pos) { pos_ = pos; }
  // From the next message on, number messages from `next_index` and tell the resync answerer
  // about them (the offload counts from its first message).
  void arm(uint64_t next_index) {
    cur_.index = next_index;
    armed_ = true;
  }
  TcpSeq pos() const { return pos_; }               // next byte to consume
  uint64_t index() const { return cur_.index; }     // of the message being assembled
  bool mid_msg() const { return cur_.off != 0; }

  // l5o_resync_rx_req: the NIC guesses a message starts at tcpsn.
  void resync_rx_req(TcpSeq tcpsn) { resync_.request(tcpsn, pos_, cur_.off == 0, cur_.start, cur_.len); }

  // Bytes of the current message's body left after what arrived (0 before its header is parsed).
  uint32_t body_left() const { return cur_.len ? cur_.len - cur_.off : 0; }
  // The parser's own fast path for a piece strictly inside the current message (n < body_left()):
  // it took the bytes itself and the framer only counts them. Nothing here can finish a message
  // or start one, so no hook is due (check() ran at the message's first piece; only a finished
  // message can change its answer). Issue #12: the general loop per piece of every packet was a
  // measured share of the TLS offload's RX cost.
  void count_body(uint32_t n, bool marked) {
    cur_.ranges.add(cur_.off, n, marked);
    cur_.off += n;
    pos_ += n;
  }

  // The parser's streaming path (issue #12), for messages whose every byte arrived NIC-marked
  // and that the parser consumes itself, header to end, without on_msg: begin_in_place() starts
  // the next message at pos() -- its header (header_bytes of it, already checked by the parser)
  // says `len` -- and end_in_place() ends the current one once count_body() reached its length.
  // What they keep is what finish() and the general loop keep for such a message: the
  // position, the index, the marks (should the message leave the streaming path half way) and
  // the resync answerer's view of the boundaries; what they skip is the RxMsg for on_msg.
  void begin_in_place(uint32_t len, uint32_t header_bytes) {
    cur_.start = pos_;
    if (armed_) {
      resync_.on_msg_start(pos_, cur_.index, p_.payload_pos());
      resync_.on_msg_len(pos_, len);
    }
    cur_.len = len;
    count_body(header_bytes, true);
  }
  TcpSeq msg_start() const { return cur_.start; }
  uint32_t msg_len() const { return cur_.len; }
  void end_in_place() {
    cur_.ranges.clear();
    cur_.head.clear();  // (a header that came in pieces was gathered here)
    ++cur_.index;
    cur_.off = cur_.len = 0;
    cur_.need = head_len_;
    cur_.start = pos_;
  }

  std::optional<Failure> input(ByteSpan data, const RxMarks& m) {
    size_t i = 0;
    while (i < data.size()) {
      if (auto f = p_.check()) return f;
      if (cur_.off == 0) {
        cur_.start = pos_;
        if (armed_) resync_.on_msg_start(pos_, cur_.index, p_.payload_pos());
        if (in_place_ && data.size() - i >= cur_.need)
          if (auto f = parse(data.subspan(i, cur_.need))) return f;
      }
      const uint32_t want = std::min((cur_.len ? cur_.len : cur_.need) - cur_.off, p_.piece_limit(cur_.off));
      const ByteSpan piece = data.subspan(i, std::min<size_t>(want, data.size() - i));
      if (auto f = p_.on_bytes(cur_.off, piece, m)) return f;
      if (cur_.len == 0) cur_.head.insert(cur_.head.end(), piece.begin(), piece.end());
      cur_.ranges.add(cur_.off, uint32_t(piece.size()), m.marked);
      cur_.off += uint32_t(piece.size());
      pos_ += uint32_t(piece.size());
      i += piece.size();
      if (cur_.len == 0 && cur_.off == cur_.need)
        if (auto f = parse(cur_.head)) return f;
      if (auto f = p_.after_bytes()) return f;
      if (cur_.len != 0 && cur_.off == cur_.len)
        if (auto f = finish()) return f;
    }
    return std::nullopt;
  }

 private:
  struct Cur {
    TcpSeq start;
    uint64_t index = 0;
    uint32_t off = 0;   // bytes of the message consumed
    uint32_t len = 0;   // 0 until the header is parsed
    uint32_t need = 0;  // header bytes the parser wants
    Bytes head;         // the header bytes so far
    MarkedRanges ranges;
  };

  std::optional<Failure> parse(ByteSpan head) {
    HeaderParse<Failure> r = p_.parse_header(head);
    if (r.kind == HeaderParse<Failure>::Kind::kError) return std::move(r.failure);
    if (r.kind == HeaderParse<Failure>::Kind::kNeedMore) {
      cur_.need = r.n;
      return std::nullopt;
    }
    cur_.len = r.n;
    if (armed_) resync_.on_msg_len(cur_.start, cur_.len);
    return std::nullopt;
  }

  std::optional<Failure> finish() {
    // The message goes to the parser in msg_, whose storage (and cur_'s) is reused message
    // after message: no allocation per message. cur_ moves on first: the parser may re-arm the
    // framer from on_msg (a rebase restarts the index).
    msg_.start = cur_.start;
    msg_.index = cur_.index;
    msg_.len = cur_.len;
    msg_.offloaded = cur_.ranges.all() ? Offloaded::kFull : cur_.ranges.any() ? Offloaded::kPartial : Offloaded::kNone;
    std::swap(msg_.ranges, cur_.ranges);
    cur_.ranges.clear();
    std::swap(done_head_, cur_.head);
    cur_.head.clear();
    const Cur was{cur_.start, cur_.index, cur_.off, cur_.len, cur_.need, {}, {}};
    cur_.start = pos_;
    cur_.index = msg_.index + 1;
    cur_.off = cur_.len = 0;
    cur_.need = head_len_;
    std::optional<Failure> f = p_.on_msg(msg_);
    if (f) {  // the message stays current (the session ends)
      cur_.start = was.start;
      cur_.index = was.index;
      cur_.off = was.off;
      cur_.len = was.len;
      cur_.need = was.need;
      std::swap(done_head_, cur_.head);
      std::swap(msg_.ranges, cur_.ranges);
    }
    return f;
  }

  Parser& p_;
  const uint32_t head_len_;
  RxResyncAnswerer resync_;
  TcpSeq pos_;
  Cur cur_;
  RxMsg msg_;
  Bytes done_head_;  // the finished message's header bytes (kept for a failed on_msg)
  bool armed_ = false;
  const bool in_place_;
};

}  // namespace autonic::l5p
