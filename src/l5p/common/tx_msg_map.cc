#include "l5p/common/tx_msg_map.h"

#include <algorithm>
#include <cstring>

namespace autonic::l5p {

TxMsgMap::Piece owned_piece(Bytes b) {
  auto p = std::make_shared<Bytes>(std::move(b));
  return TxMsgMap::Piece{p->data(), p->size(), p};
}

TxMsgMap::Piece new_piece(size_t n, uint8_t** data) {
  std::shared_ptr<uint8_t[]> p(new uint8_t[n]);  // not zero-filled: the caller writes every byte
  *data = p.get();
  return TxMsgMap::Piece{p.get(), n, std::shared_ptr<const void>(p, p.get())};
}

void PieceArena::next_chunk(size_t n, size_t hint) {
  if (cur_.mem) full_.push_back(std::move(cur_));
  used_ = 0;
  while (!spare_.empty()) {
    Chunk c = std::move(spare_.back());
    spare_.pop_back();
    if (c.cap >= n) {
      cur_ = std::move(c);
      return;
    }
  }
  // Whole messages: a write's worth (hint) when it is smaller than kChunk, else kChunk rounded
  // up to the next whole message (three 16 KiB records in 64 KiB left a fourth of it unused).
  const size_t k = hint < kChunk ? hint / n : (kChunk + n - 1) / n;
  cur_.cap = n * std::max<size_t>(1, k);
  cur_.mem.reset(new uint8_t[cur_.cap]);  // not zero-filled: the caller writes every byte
}

void PieceArena::release_before(uint64_t oldest) {
  while (!full_.empty() && full_.front().last < oldest) {
    if (spare_.size() < kSpares) spare_.push_back(std::move(full_.front()));
    full_.pop_front();
  }
  // Every message of the current chunk released: start over in the same memory.
  if (cur_.mem && used_ > 0 && cur_.last < oldest) used_ = 0;
}

uint8_t* PieceArena::alloc_run(size_t unit, size_t& count, uint64_t first, size_t hint) {
  if (!cur_.mem || cur_.cap - used_ < unit) next_chunk(unit, hint);
  count = std::max<size_t>(1, std::min(count, (cur_.cap - used_) / unit));
  uint8_t* data = cur_.mem.get() + used_;
  used_ += count * unit;  // the next messages right after: pump() hands TCP runs of them in one write
  cur_.last = first + count - 1;
  return data;
}

uint64_t TxMsgMap::push(std::vector<Piece> pieces, uint64_t note, uint32_t payload_len) {
  size_t len = 0;
  for (const Piece& p : pieces) len += p.len;
  const uint64_t idx = next_index_++;
  msgs_.push_back(Msg{next_seq_, idx, len, std::move(pieces), 0, note, next_payload_, uint32_t(len), payload_len, 1});
  next_seq_ += uint32_t(len);
  next_payload_ += payload_len;
  unwritten_ += len;
  return idx;
}

uint64_t TxMsgMap::push_carved(const uint8_t* data, uint32_t len, uint32_t payload_len, uint32_t count) {
  const size_t all = size_t(len) * count;
  const uint64_t first = next_index_;
  const TcpSeq seq0 = next_seq_, pay0 = next_payload_;
  next_index_ += count;
  next_seq_ += uint32_t(all);
  next_payload_ += payload_len * count;
  unwritten_ += all;
  // The run at the back grows while nothing of it went to TCP past its last message (pump's
  // accounting by message stays exact) and the new messages are its next ones in memory.
  if (!msgs_.empty() && first_unwritten_ < msgs_.size()) {
    Msg& b = msgs_.back();
    if (b.unit == len && b.payload_unit == payload_len && b.note == 0 && b.pieces.size() == 1 &&
        !b.pieces[0].keep && b.pieces[0].data + b.len == data) {
      b.len += all;
      b.pieces[0].len += all;
      b.count += count;
      return first;
    }
  }
  std::vector<Piece> pieces = take_pieces();
  pieces.push_back(Piece{data, all, nullptr});
  msgs_.push_back(Msg{seq0, first, all, std::move(pieces), 0, 0, pay0, len, payload_len, count});
  return first;
}

namespace {
// lwIP: no-copy tcp_write (the map keeps the bytes until TCP lets go of them). `more` unless
// the write reaches the end of what the L5P queued: lwIP then sets PSH on its last segment, as
// Linux's tcp_sendmsg does at the end of each sendmsg() -- kTLS's records and nvme-tcp's PDUs
// included. And a pump that stops with bytes still queued (TCP's room used up) ends its burst
// with PSH too (flush: TcpConn::push), as tcp_sendmsg pushes before it waits for room. The
// receiver's GRO ends a super-segment at a PSH; without these the offload's bursts ran into each
// other there and were cut at interrupt-batch ends instead: ~23 % more lwIP passes than plain
// TCP for the same bytes with every write "more", still 3.5 % (2 KiB records, 256 MiB) with
// only the first rule (issue #12; TlsGro.OffloadBurstsEndWherePlainTcpsDo).
class TcpWriter final : public TxMsgMap::Writer {
 public:
  TcpWriter(tcpip::TcpConn& c, bool copy) : c_(c), copy_(copy) {}
  size_t room() override { return c_.sndbuf(); }
  size_t write(const uint8_t* data, size_t n, bool more) override {
    return c_.write(data, n, copy_, more);
  }
  void flush() override {
    c_.push();
    c_.output();
  }

 private:
  tcpip::TcpConn& c_;
  bool copy_;
};
}  // namespace

size_t TxMsgMap::pump(tcpip::TcpConn& conn, bool whole_msgs) {
  TcpWriter w(conn, copy_);
  return pump(w, whole_msgs);
}

// The unwritten bytes from message k, piece pi, offset skip on that are contiguous in memory --
// across pieces and messages (records carved one after another from a PieceArena chunk) -- up to
// `limit` bytes: handed to TCP in one write, so lwIP takes one reference for a run of records,
// as Linux's tcp_sendmsg takes a run of page frags, instead of one per record.
TxMsgMap::Run TxMsgMap::next_run(size_t limit, bool whole_msgs) const {
  Run r;
  const Msg& m0 = msgs_[first_unwritten_];
  size_t skip = m0.written, pi = 0;
  while (pi < m0.pieces.size() && skip >= m0.pieces[pi].len) skip -= m0.pieces[pi++].len;
  r.data = m0.pieces[pi].data + skip;
  for (size_t k = first_unwritten_; k < msgs_.size(); ++k, pi = 0, skip = 0) {
    const Msg& m = msgs_[k];
    if (k != first_unwritten_ && whole_msgs && limit - r.len < m.unit) return r;
    for (; pi < m.pieces.size(); ++pi, skip = 0) {
      const Piece& p = m.pieces[pi];
      if (p.data + skip != r.data + r.len) return r;  // not contiguous: the next run
      size_t n = std::min(limit - r.len, p.len - skip);
      if (whole_msgs && m.count > 1) n -= n % m.unit;  // a run's messages go whole too
      r.len += n;
      if (n < p.len - skip) return r;  // the room ends inside this piece
      r.ends_stream = k + 1 == msgs_.size() && pi + 1 == m.pieces.size();
    }
  }
  return r;
}

size_t TxMsgMap::pump(Writer& w, bool whole_msgs) {
  size_t total = 0;
  while (first_unwritten_ < msgs_.size()) {
    const Msg& m = msgs_[first_unwritten_];
    const size_t room = w.room();  // asked once a pass (lwIP's tcp_sndbuf and queue length)
    if (room == 0 || (whole_msgs && m.written % m.unit == 0 && room < m.unit)) break;
    const Run r = next_run(room, whole_msgs);
    const size_t n = w.write(r.data, r.len, !(r.ends_stream));
    total += n;
    unwritten_ -= n;
    for (size_t left = n; left > 0;) {  // the written bytes, message by message
      Msg& c = msgs_[first_unwritten_];
      const size_t take = std::min(left, c.len - c.written);
      c.written += take;
      left -= take;
      if (c.written == c.len) ++first_unwritten_;
    }
    // TCP took less, or nothing fit. A run cut by the room goes on with the room TCP has now:
    // lwIP reports at most 64 KiB (tcp_sndbuf) of a larger buffer, so a run longer than that
    // is cut with room left, and stopping there pushed a burst early that the same records
    // written one by one (software TLS) did not, with five records a chunk:
    // TlsVersions.SoftwareAndOffloadGiveIdenticalWireBytes, TxMsgMapRuns.ARunCutByTheRoom...
    if (n < r.len || n == 0) break;
  }
  if (total) w.flush();
  return total;
}

size_t TxMsgMap::on_acked(TcpSeq snd_una) {
  size_t n = 0;
  while (!msgs_.empty()) {
    const Msg& m = msgs_.front();
    if (m.start + uint32_t(m.len) > snd_una || first_unwritten_ == 0) {
      // A run partly acknowledged: its acknowledged messages go (oldest_index() stays exact).
      const uint32_t k = m.count > 1 && snd_una > m.start ? uint32_t(size_t(snd_una - m.start) / m.unit) : 0;
      if (k > 0 && size_t(k) * m.unit <= m.written) {
        advance_front(k);
        n += k;
      }
      break;
    }
    if (on_release_) on_release_(m.pieces, m.note);
    if (spare_.size() < 64) {
      spare_.push_back(std::move(msgs_.front().pieces));
      spare_.back().clear();  // lets go of the bytes now, keeps the capacity
    }
    n += m.count;
    msgs_.pop_front();
    --first_unwritten_;
  }
  msgs_.release_if_empty();  // nothing held: an idle connection keeps no array (issue #13)
  return n;
}

void TxMsgMap::advance_front(uint32_t k) {
  Msg& m = msgs_.front();
  const uint32_t bytes = k * m.unit;
  m.start += bytes;
  m.index += k;
  m.len -= bytes;
  m.written -= bytes;
  m.payload_pos += k * m.payload_unit;
  m.count -= k;
  m.pieces[0].data += bytes;
  m.pieces[0].len -= bytes;
}

l5o::TxMsgState TxMsgMap::msgstate(TcpSeq tcpsn) {
  l5o::TxMsgState s;
  if (tcpsn < first_seq_) {
    s.kind = l5o::TxMsgState::Kind::kBeforeOffload;
    return s;
  }
  // The first message starting after tcpsn (upper bound); the one before it holds tcpsn.
  size_t lo = 0, hi = msgs_.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (tcpsn < msgs_[mid].start) hi = mid;
    else lo = mid + 1;
  }
  if (lo == 0) {
    s.kind = l5o::TxMsgState::Kind::kNoSyncData;
    return s;
  }
  const Msg& m = msgs_[lo - 1];
  size_t off = size_t(tcpsn - m.start);
  if (off >= m.len) {
    s.kind = l5o::TxMsgState::Kind::kNoSyncData;
    return s;
  }
  const uint32_t k = uint32_t(off / m.unit);  // the message within a run (0 for one message)
  off -= size_t(k) * m.unit;
  prefix_.clear();
  for (const Piece& p : m.pieces) {
    if (prefix_.size() >= off) break;
    const uint8_t* d = p.data + size_t(k) * m.unit;  // (k > 0 only for a run: one piece)
    const size_t n = std::min(p.len, off - prefix_.size());
    prefix_.insert(prefix_.end(), d, d + n);
  }
  s.kind = l5o::TxMsgState::Kind::kFound;
  s.msg_start = m.start + uint32_t(size_t(k) * m.unit);
  s.msg_index = m.index + k;
  s.payload_pos = m.payload_pos + k * m.payload_unit;
  s.prefix = prefix_;
  return s;
}

}  // namespace autonic::l5p
