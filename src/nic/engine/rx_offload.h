// RX side of the generic engine (§4.3, Fig. 7 and Fig. 8): in-sequence packets are processed
// and marked; out-of-sequence packets go up untouched while the flow resynchronises:
//
//   kOffloading --OoS packet beyond the next header--> kSearching          (a)
//   kSearching  --magic pattern + length found--> kTracking, resync_rx_req (b)
//   kTracking   --L5P confirms (resync_rx_resp ok)--> kOffloading at next message (d2)
//   kTracking   --L5P denies / bad pattern / unanswered too long--> kSearching (d1)
//
// Invariant: a byte is marked only if the NIC processed it, in sequence, from a correct state,
// and every message that ended inside the marked range verified. Unmarked bytes are the
// original wire bytes.
//
// Beyond the paper (issue #15): a mark may start inside a packet. When the NIC knows where the
// next message starts -- the damaged message's length, tracked across a gap (Fig. 8b), or the
// message the L5P confirmed (Fig. 7 (d2)) -- and that header lies inside a packet, it processes
// the packet from the header on and marks only those bytes (RxVerdict::mark_from); the bytes
// before it (the damaged message's tail) go up as they arrived. Linux marks whole skbs and mlx5
// whole packets, so there the packet holding the header is not offloaded, and one lost packet
// costs two messages.
#pragma once
#include <array>
#include <functional>
#include <string>
#include <memory>
#include <optional>

#include "nic/engine/engine_stats.h"
#include "nic/engine/msg_cursor.h"

namespace autonic::nic {

enum class RxSyncState : uint8_t { kOffloading, kSearching, kTracking };
const char* rx_sync_state_name(RxSyncState s);

struct RxVerdict {
  bool marked = false;
  // marked: the NIC processed bytes [mark_from, size) of the payload (0: the whole packet); the
  // bytes before are left as they arrived, for software.
  uint32_t mark_from = 0;
  std::optional<TcpSeq> resync_req;  // ask the L5P whether a message starts here
};

class RxOffloadFlow {
 public:
  // Bounds on an unanswered request (Linux learned in 2025 that an unbounded tracker wedges the
  // flow): after this many tracked messages or packets, the request is cancelled.
  static constexpr uint32_t kMaxTrackedMsgs = 64;
  static constexpr uint32_t kMaxTrackedPkts = 1024;

  RxOffloadFlow(const Plugin& plugin, std::unique_ptr<PluginFlow> flow, TcpSeq start);

  // Processes one received packet's payload (in place when marked).
  RxVerdict process(TcpSeq seq, MutByteSpan payload, OffloadStats& st);
  // The L5P's answer to a resync request (l5o_resync_rx_resp).
  // payload_pos: inner-stream position of that message's payload (composed offloads).
  void resync_resp(TcpSeq tcpsn, bool ok, uint64_t msg_index, TcpSeq payload_pos, OffloadStats& st);

  RxSyncState state() const { return state_; }
  // Optional trace of every state change (autonic run --trace), for reading the mechanism.
  using Trace = std::function<void(const std::string&)>;
  // who: how the context is named in the trace; pos: what its positions count (an inner
  // context's are bytes of the outer L5P's payload stream, not tcpsn).
  // Kept only when a trace is set: a million contexts do not each carry a name.
  void set_trace(const Trace* t, std::string who, const char* pos = "tcpsn") {
    if (!t || !*t) return trace_.reset();
    trace_ = std::make_unique<TraceTo>(TraceTo{t, std::move(who), pos});
  }
  // A NIC that marks whole packets only (the paper's and mlx5's, one flag per CQE, §4.3): a
  // packet whose offloaded bytes begin inside it is processed -- the context moves past it -- but
  // goes up unmarked. Off: marks begin inside a packet (issue #15).
  void set_whole_packet_marks(bool on) { whole_packet_ = on; }
  TcpSeq expected() const { return cur_.pos(); }
  // NIC context memory: the plug-in's state, the message cursor and the resync state machine
  // (resync_context_bytes). Steady TLS 1.3 AES-128-GCM: 157 + 29 + 31 = 217 B (the paper's
  // NIC: 208 B, §6.5).
  size_t context_bytes() const;
  // The resync machine as hardware packs it: state (1); kSearching: the last header_len - 1
  // bytes of the previous packet (a pattern split across packets) and their count (1), where
  // they end (4); kTracking: the candidate tcpsn (4), where the next header must begin (4),
  // messages tracked (1: <= kMaxTrackedMsgs) and packets (2: <= kMaxTrackedPkts), their
  // inner-stream bytes (4), the next header as gathered so far (header_len) and its count (1).
  static constexpr size_t resync_context_bytes(size_t header_len) {
    return 1 + (header_len - 1) + 1 + 4 + 4 + 4 + 1 + 2 + 4 + header_len + 1;
  }
  PluginFlow& plugin_flow() { return *flow_; }
  // The at-rest form (pack.h) of a flow offloading in sequence (a resyncing one, or one being
  // traced, stays as it is): its cursor, then the plug-in's. thaw() makes the flow again (its
  // work buffer to be set again).
  bool freezable() const {
    return state_ == RxSyncState::kOffloading && !trace_ && !own_scratch_ && flow_->freezable();
  }
  void freeze(Packer& p) const;
  static std::unique_ptr<RxOffloadFlow> thaw(const Plugin& plugin, Unpacker& u);
  // Where packets are processed before being written back: a buffer the NIC shares among its
  // contexts (one packet at a time), not one per context. Default: the flow's own.
  void set_scratch(Bytes* s) { scratch_ = s; }
  // Where a marked packet was processed before being written back: an inner engine fed by this
  // flow saw (and placed from) these bytes, at the packet's own offsets.
  const uint8_t* work_base() const { return work_; }

 private:
  void set_state(RxSyncState s, TcpSeq at, const char* why);
  void on_offloading(TcpSeq seq, MutByteSpan payload, RxVerdict& v, OffloadStats& st);
  // Processes payload[from..] from a correct state (cur_.pos() == seq + from), into the work
  // buffer at the same offsets; writes it back and marks it only if every message that ended
  // in it verified.
  void process_from(TcpSeq seq, MutByteSpan payload, size_t from, RxVerdict& v, OffloadStats& st);
  void start_search(TcpSeq seq, ByteSpan payload, TcpSeq min_seq, RxVerdict& v, OffloadStats& st);
  void track(TcpSeq seq, ByteSpan payload, RxVerdict& v, OffloadStats& st);
  void give_up_tracking(OffloadStats& st);

  const Plugin& plugin_;
  std::unique_ptr<PluginFlow> flow_;
  struct TraceTo {
    const Trace* fn;
    std::string who;
    const char* pos;
  };
  std::unique_ptr<TraceTo> trace_;
  bool whole_packet_ = false;
  RxSyncState state_ = RxSyncState::kOffloading;
  MsgCursor cur_;  // kOffloading: the next expected byte is cur_.pos()
  // The work buffer: the NIC's shared one, else the flow's own, made on first use.
  Bytes& scratch() {
    if (!scratch_) {
      own_scratch_ = std::make_unique<Bytes>();
      scratch_ = own_scratch_.get();
    }
    return *scratch_;
  }
  std::unique_ptr<Bytes> own_scratch_;
  Bytes* scratch_ = nullptr;
  const uint8_t* work_ = nullptr;  // where the last in-sequence packet was processed

  // Resync state (kSearching, kTracking): made when the flow leaves kOffloading and freed when
  // it returns -- a flow in sequence, the common case, does not carry it.
  struct Resync {
    // kSearching: tail of the last packet, so patterns split across in-order packets are found.
    std::array<uint8_t, kMaxHeaderLen> tail{};
    size_t tail_len = 0;
    TcpSeq tail_end;
    // kTracking
    TcpSeq candidate;          // tcpsn the L5P was asked about
    TcpSeq next_hdr;           // where the next header must begin
    uint64_t tracked = 0;      // messages from candidate to next_hdr
    uint32_t tracked_payload = 0;  // their inner-stream bytes (composed offloads)
    uint32_t tracked_pkts = 0;
    std::array<uint8_t, kMaxHeaderLen> trk_hdr{};
    size_t trk_hdr_have = 0;  // header bytes at next_hdr seen so far (split header)
  };
  std::unique_ptr<Resync> rs_;
};

}  // namespace autonic::nic
