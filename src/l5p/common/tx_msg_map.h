// An L5P's transmit-side message map (§4.2): every message handed to TCP is kept, by tcpsn,
// until TCP acknowledges all of it, so the driver's get_tx_msgstate can rebuild the NIC context
// for any retransmitted byte. Messages are made of pieces: bytes the map owns, or bytes the
// application lent by reference (zero-copy send). TCP gets every piece by reference too (lwIP
// tcp_write without the copy flag): the map outlives TCP's own use of them.
#pragma once
#include <deque>
#include <memory>
#include <vector>

#include "common/bytes.h"
#include "common/fifo.h"
#include "l5o/l5o.h"
#include "tcpip/tcp_conn.h"

namespace autonic::l5p {

class TxMsgMap {
 public:
  struct Piece {
    const uint8_t* data = nullptr;
    size_t len = 0;
    std::shared_ptr<const void> keep;  // owner of data
  };

  // Where pump() hands the bytes: TCP by reference, or another L5P's stream (NVMe over TLS).
  class Writer {
   public:
    virtual ~Writer() = default;
    virtual size_t room() = 0;
    // Takes up to n bytes; more: the map has bytes right after these (MSG_MORE).
    virtual size_t write(const uint8_t* data, size_t n, bool more) = 0;
    virtual void flush() = 0;
  };

  void start(TcpSeq first) { first_seq_ = next_seq_ = first; }
  void set_copy(bool c) { copy_ = c; }
  // Appends a message; returns its index. `note` is the owner's, handed back on release.
  // payload_len: bytes of it that belong to an inner L5P's stream (composed offloads: a TLS
  // record's content), so msgstate can say where a message's payload begins in that stream.
  uint64_t push(std::vector<Piece> pieces, uint64_t note = 0, uint32_t payload_len = 0);
  // Appends a message of one owner-less piece carved from a PieceArena. Messages of the same
  // length and payload that follow each other in memory are kept as one run (an offload's
  // records cut from one write): a run is one entry whose messages msgstate() and on_acked()
  // tell apart by arithmetic, so a record costs no entry of its own (issue #12: at 2 KiB a
  // deque entry and its piece list per record were a measured share of the TX host cost).
  // count: as many such messages back to back from data on (one call for a run of records).
  // Returns the first one's index.
  uint64_t push_carved(const uint8_t* data, uint32_t len, uint32_t payload_len, uint32_t count = 1);
  // An empty piece list to fill for push(), recycled from released messages (no allocation per
  // message once the map runs).
  std::vector<Piece> take_pieces() {
    if (spare_.empty()) return {};
    std::vector<Piece> v = std::move(spare_.back());
    spare_.pop_back();
    return v;
  }
  // Writes as much as TCP's send buffer takes. Returns bytes written. whole_msgs: hand TCP only
  // complete messages (keeps segment-aligned records aligned: a partial write would let lwIP
  // send a short segment and shift every later boundary).
  size_t pump(tcpip::TcpConn& conn, bool whole_msgs = false);
  size_t pump(Writer& w, bool whole_msgs = false);
  // Releases messages fully acknowledged; returns how many were released.
  size_t on_acked(TcpSeq snd_una);
  // get_tx_msgstate: the prefix is assembled into a buffer valid until the next call.
  l5o::TxMsgState msgstate(TcpSeq tcpsn);
  bool idle() const { return msgs_.empty(); }
  // Inner-stream position after the last message pushed / of the oldest message still held.
  TcpSeq payload_end() const { return next_payload_; }
  TcpSeq oldest_payload() const { return msgs_.empty() ? next_payload_ : msgs_.front().payload_pos; }
  size_t unwritten() const { return unwritten_; }
  // Index the next message pushed gets / of the oldest message still held.
  uint64_t next_index() const { return next_index_; }
  uint64_t oldest_index() const { return msgs_.empty() ? next_index_ : msgs_.front().index; }
  size_t held() const { return size_t(next_index_ - oldest_index()); }
  // Index of the first message not yet handed to the writer whole (next_index() when all were).
  uint64_t written_index() const {
    if (first_unwritten_ >= msgs_.size()) return next_index_;
    const Msg& m = msgs_[first_unwritten_];
    return m.index + m.written / m.unit;  // (a run: its messages written whole so far)
  }
  // Visits released messages' pieces (e.g. to check that lent buffers were not modified).
  using OnRelease = std::function<void(const std::vector<Piece>&, uint64_t note)>;
  void set_on_release(OnRelease fn) { on_release_ = std::move(fn); }

 private:
  // One message, or a run of `count` messages of `unit` bytes (`payload_unit` of them payload)
  // each, back to back in pieces[0] (push_carved).
  struct Msg {
    TcpSeq start;
    uint64_t index;
    size_t len;  // all of it: count * unit
    std::vector<Piece> pieces;
    size_t written = 0;
    uint64_t note = 0;
    TcpSeq payload_pos;
    uint32_t unit = 0;
    uint32_t payload_unit = 0;
    uint32_t count = 1;
  };
  // Drops the first k messages of the run at the front (acknowledged).
  void advance_front(uint32_t k);
  struct Run {
    const uint8_t* data = nullptr;
    size_t len = 0;
    bool ends_stream = false;  // it reaches the end of the last message pushed
  };
  Run next_run(size_t limit, bool whole_msgs) const;
  Fifo<Msg> msgs_;
  std::vector<std::vector<Piece>> spare_;  // emptied piece lists of released messages
  size_t first_unwritten_ = 0;  // index into msgs_ of the first message not fully written
  TcpSeq first_seq_, next_seq_, next_payload_;
  uint64_t next_index_ = 0;
  size_t unwritten_ = 0;
  Bytes prefix_;
  bool copy_ = false;  // lwIP references the map's bytes (they outlive TCP's use)
  OnRelease on_release_;
};

// Helpers: a piece owning `b`; a new uninitialised piece of n bytes the caller fills via *data.
TxMsgMap::Piece owned_piece(Bytes b);
TxMsgMap::Piece new_piece(size_t n, uint8_t** data);

// Message buffers carved out of shared chunks, as Linux's sk_page_frag gives kTLS its record
// pages: one allocation per 64 KiB of messages instead of two per message (issue #12: per-record
// allocations were a measured share of the offload's TX host cost). A chunk is no larger than the
// write that needs it (`hint`: the bytes the caller is about to carve), and an idle connection
// keeps none (release()): 128K connections sending bursts hold their bursts (issue #13).
//
// A chunk holds whole messages: 64 KiB rounded up to the next one (four 16 KiB records, where
// three left a fourth of the chunk unused). Larger chunks would cut fewer runs -- every chunk end
// is another tcp_write, and another reference pbuf chained into a TSO segment; with a whole
// 256 KiB write per chunk the offload's TX path ran fewer instructions than plain TCP's
// (callgrind, data phase) -- but cost more cycles: paired against 64 KiB chunks, 128 KiB ones
// took 1.09x the host's TX cycles at 16 KiB records and 256 KiB ones 1.23x (a larger set of
// lines cycling between the host's copy and the NIC's reads; issue #12).
//
// Lifetime by message index, not by reference count: the map releases messages oldest first
// (TCP acknowledges in order), so a chunk is free once the map's oldest message is past the last
// one carved from it (release_before). Its pieces carry no owner (lwIP references the bytes
// only while the map holds their message: TxMsgMap::on_acked releases what lwIP let go of). A
// freed chunk is recycled for the next one needed, as a page frag is once its references went:
// a fresh 256 KiB allocation per 16 records cost the host ~190 cycles a 16 KiB record, and a
// reference count taken and dropped per record was a measurable share at 2 KiB (issue #12).
class PieceArena {
 public:
  // Up to `count` messages of `unit` bytes each, back to back, from message `first` (the map's
  // next_index()) on, valid until release_before passes the last: as many as the current chunk
  // holds, else as many as a new one does (max(unit, min(kChunk, hint)) bytes), at least one.
  // count becomes how many; they go to the map by push_carved (their piece has no owner).
  uint8_t* alloc_run(size_t unit, size_t& count, uint64_t first, size_t hint = kChunk);
  // The map holds no message before `oldest` any more.
  void release_before(uint64_t oldest);
  void release() {
    cur_ = Chunk{};
    full_.clear();
    spare_.clear();
    used_ = 0;
  }

 private:
  static constexpr size_t kChunk = 64 * 1024;
  struct Chunk {
    std::unique_ptr<uint8_t[]> mem;
    size_t cap = 0;
    uint64_t last = 0;  // index of the last message carved from it
  };
  void next_chunk(size_t n, size_t hint);
  Chunk cur_;
  size_t used_ = 0;
  std::deque<Chunk> full_;  // handed out whole, oldest first, messages still held
  static constexpr size_t kSpares = 8;  // a socket buffer's worth (TCP_SND_BUF 256 KiB) and more
  std::vector<Chunk> spare_;  // freed chunks, for the next ones needed (last freed first)
};

}  // namespace autonic::l5p
