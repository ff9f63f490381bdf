#include "nic/engine/rx_offload.h"

#include <algorithm>
#include <cstring>

namespace autonic::nic {

const char* rx_sync_state_name(RxSyncState s) {
  switch (s) {
    case RxSyncState::kOffloading: return "offloading";
    case RxSyncState::kSearching: return "searching";
    case RxSyncState::kTracking: return "tracking";
  }
  return "?";
}

void RxOffloadFlow::set_state(RxSyncState s, TcpSeq at, const char* why) {
  if (trace_) {
    (*trace_->fn)(trace_->who + ": " + rx_sync_state_name(state_) + " -> " + rx_sync_state_name(s) + " at " + trace_->pos + " " +
              std::to_string(at.raw()) + " (" + why + ")");
  }
  state_ = s;
  if (s == RxSyncState::kOffloading) rs_.reset();
  else if (!rs_) rs_ = std::make_unique<Resync>();
}

RxOffloadFlow::RxOffloadFlow(const Plugin& plugin, std::unique_ptr<PluginFlow> flow, TcpSeq start)
    : plugin_(plugin), flow_(std::move(flow)) {
  cur_.reset(start, 0);
}

RxVerdict RxOffloadFlow::process(TcpSeq seq, MutByteSpan payload, OffloadStats& st) {
  RxVerdict v;
  if (payload.empty()) return v;
  switch (state_) {
    case RxSyncState::kOffloading:
      on_offloading(seq, payload, v, st);
      break;
    case RxSyncState::kSearching:
      ++st.rx_ooo_packets;
      start_search(seq, payload, seq - uint32_t(kMaxHeaderLen), v, st);  // incl. carried tail
      break;
    case RxSyncState::kTracking:
      ++st.rx_ooo_packets;
      track(seq, payload, v, st);
      break;
  }
  if (v.marked) {
    ++st.rx_decrypted_packets;
    st.rx_decrypted_bytes += payload.size() - v.mark_from;
    if (v.mark_from) ++st.rx_split_packets;
  }
  return v;
}

void RxOffloadFlow::on_offloading(TcpSeq seq, MutByteSpan payload, RxVerdict& v, OffloadStats& st) {
  const TcpSeq e = cur_.pos();
  const TcpSeq end = seq + uint32_t(payload.size());
  if (seq == e) return process_from(seq, payload, 0, v, st);
  ++st.rx_ooo_packets;
  if (end <= e) return;  // (Fig. 8a) retransmission of bytes already processed: no state change
  if (seq < e) {
    // Overlaps the expected byte (a retransmission carrying new bytes, or the packet holding
    // the message the L5P confirmed): the bytes from e on are in sequence.
    process_from(seq, payload, size_t(e - seq), v, st);
    return;
  }
  // seq > e: bytes [e, seq) are missing.
  if (cur_.len_known()) {
    const TcpSeq m = cur_.next_msg();
    if (end <= m) return;  // (Fig. 8b) still inside the current message: wait for the hole
    if (seq <= m) {
      // This packet holds the next header: jump to it (its state depends only on its index)
      // and offload from it, inside this packet.
      ++st.rx_resync_jump;
      if (trace_)
        (*trace_->fn)(trace_->who + ": offloading: hardware jump to the next header at " + trace_->pos + " " +
                  std::to_string(m.raw()));
      cur_.advance(plugin_, *flow_);
      if (seq == m) {
        ++st.rx_resync_jump_exact;
        --st.rx_ooo_packets;  // counted above; this packet is processed whole
      }
      process_from(seq, payload, size_t(m - seq), v, st);
      return;
    }
  }
  // (Fig. 8c) header lost or beyond it: the NIC no longer knows where messages start.
  set_state(RxSyncState::kSearching, seq, "out of sequence past the next header");
  rs_->tail_len = 0;
  start_search(seq, payload, seq, v, st);
}

void RxOffloadFlow::process_from(TcpSeq seq, MutByteSpan payload, size_t from, RxVerdict& v, OffloadStats& st) {
  // Processed into scratch at the packet's own offsets; written back and marked only if
  // everything verified. A plug-in that only checks (and places) leaves the bytes as they
  // are: processed in place.
  MutByteSpan work = payload;
  if (plugin_.rx_transforms()) {
    scratch().resize(payload.size());
    work = scratch();
  }
  work_ = work.data();
  const MutByteSpan in = payload.subspan(from), out = work.subspan(from);
  const FeedResult r = feed(cur_, plugin_, *flow_, l5o::Direction::kRx, in, out);
  if (r.bad_header) {
    // Our idea of the stream is wrong (e.g. a tampered length): search from the bad header.
    ++st.rx_resync_bad_pattern;
    const TcpSeq bad = cur_.pos();
    set_state(RxSyncState::kSearching, bad, "no header where one must start");
    rs_->tail_len = 0;
    start_search(seq, payload, bad + 1, v, st);
    return;
  }
  if (!r.all_verified) {
    // The NIC's check failed (or a TLS KeyUpdate it could not follow): pass the original bytes
    // up so software decides (and alerts); a wrong state would fail every later message too,
    // so search afresh.
    ++st.rx_err;
    set_state(RxSyncState::kSearching, seq + uint32_t(from), "integrity check failed in the NIC");
    rs_->tail_len = 0;
    return;
  }
  if (whole_packet_ && from) {
    // Whole-packet marks: the bytes before `from` were not the NIC's work, so none of the packet
    // is marked; software redoes what the NIC did (the message after a loss costs it too).
    if (trace_)
      (*trace_->fn)(trace_->who + ": offloading: packet at " + trace_->pos + " " + std::to_string(seq.raw()) +
                    " processed from " + std::to_string(from) + " bytes in, left unmarked (whole-packet marks)");
    return;
  }
  if (out.data() != in.data()) std::memcpy(in.data(), out.data(), in.size());
  v.marked = true;
  v.mark_from = uint32_t(from);
  if (trace_ && from)
    (*trace_->fn)(trace_->who + ": offloading: packet at " + trace_->pos + " " + std::to_string(seq.raw()) +
                  " marked from " + std::to_string((seq + uint32_t(from)).raw()) + " on (" + std::to_string(from) +
                  " bytes before it left to software)");
}

void RxOffloadFlow::start_search(TcpSeq seq, ByteSpan payload, TcpSeq min_seq, RxVerdict& v,
                                 OffloadStats& st) {
  const size_t hlen = plugin_.header_len();
  // The window searched is the carried-over tail (if this packet continues it in sequence)
  // followed by the payload. Only the few positions that straddle the two need a joined copy;
  // the rest are probed in the payload itself.
  const size_t tl = (rs_->tail_len > 0 && rs_->tail_end == seq) ? rs_->tail_len : 0;
  std::array<uint8_t, 2 * kMaxHeaderLen> joined{};
  const size_t lead = std::min(payload.size(), hlen - 1);
  std::memcpy(joined.data(), rs_->tail.data(), tl);
  std::memcpy(joined.data() + tl, payload.data(), lead);
  const size_t wsize = tl + payload.size();
  const TcpSeq wstart = seq - uint32_t(tl);
  auto window_at = [&](size_t i) { return i < tl ? joined.data() + i : payload.data() + (i - tl); };
  for (size_t i = 0; i + hlen <= wsize; ++i) {
    const TcpSeq c = wstart + uint32_t(i);
    if (c < min_seq) continue;
    const auto len = plugin_.probe(ByteSpan(window_at(i), hlen));
    if (!len || *len < hlen) continue;
    // (b) candidate found: ask the L5P, track from here meanwhile.
    rs_->candidate = c;
    rs_->next_hdr = c + *len;
    rs_->tracked = 1;
    rs_->tracked_payload = plugin_.payload_len(ByteSpan(window_at(i), hlen));
    rs_->tracked_pkts = 0;
    rs_->trk_hdr_have = 0;
    rs_->tail_len = 0;
    set_state(RxSyncState::kTracking, c, "magic pattern found: asking the L5P");
    v.resync_req = c;
    ++st.rx_resync_req_pkt;
    // Keep tracking inside the rest of this packet.
    const TcpSeq end = seq + uint32_t(payload.size());
    if (rs_->next_hdr < end) track(seq, payload, v, st);
    return;
  }
  const size_t keep = std::min(wsize, hlen - 1);
  uint8_t next_tail[kMaxHeaderLen];
  for (size_t k = 0; k < keep; ++k) next_tail[k] = *window_at(wsize - keep + k);
  std::memcpy(rs_->tail.data(), next_tail, keep);
  rs_->tail_len = keep;
  rs_->tail_end = seq + uint32_t(payload.size());
}

void RxOffloadFlow::track(TcpSeq seq, ByteSpan payload, RxVerdict& v, OffloadStats& st) {
  const size_t hlen = plugin_.header_len();
  const TcpSeq end = seq + uint32_t(payload.size());
  if (++rs_->tracked_pkts > kMaxTrackedPkts) {
    give_up_tracking(st);
    start_search(seq, payload, seq, v, st);
    return;
  }
  for (;;) {
    const TcpSeq want = rs_->next_hdr + uint32_t(rs_->trk_hdr_have);  // next header byte needed
    // Entirely before it: mid-message data (or an old retransmission), nothing to check.
    if (end <= want) return;
    // Starts after it: the packet holding it is late or lost; its retransmission will bring
    // it (kMaxTrackedPkts bounds the wait).
    if (want < seq) return;
    const size_t off = size_t(want - seq);
    const size_t n = std::min(hlen - rs_->trk_hdr_have, payload.size() - off);
    std::memcpy(rs_->trk_hdr.data() + rs_->trk_hdr_have, payload.data() + off, n);
    rs_->trk_hdr_have += n;
    if (rs_->trk_hdr_have < hlen) return;  // rest in the next packet
    const auto len = plugin_.probe(ByteSpan(rs_->trk_hdr.data(), hlen));
    rs_->trk_hdr_have = 0;
    if (!len || *len < hlen) {
      // (d1) unexpected pattern where a header must be: the guess was wrong.
      ++st.rx_resync_bad_pattern;
      const TcpSeq bad = rs_->next_hdr;
      give_up_tracking(st);
      start_search(seq, payload, bad + 1, v, st);
      return;
    }
    rs_->next_hdr += *len;
    rs_->tracked_payload += plugin_.payload_len(ByteSpan(rs_->trk_hdr.data(), hlen));
    if (++rs_->tracked > kMaxTrackedMsgs) {
      give_up_tracking(st);
      return;
    }
  }
}

void RxOffloadFlow::give_up_tracking(OffloadStats& st) {
  ++st.rx_resync_req_cancel;
  set_state(RxSyncState::kSearching, rs_->next_hdr, "resync request cancelled");
  rs_->tail_len = 0;
  rs_->trk_hdr_have = 0;
}

void RxOffloadFlow::resync_resp(TcpSeq tcpsn, bool ok, uint64_t msg_index, TcpSeq payload_pos,
                                OffloadStats& st) {
  if (state_ != RxSyncState::kTracking || tcpsn != rs_->candidate) {
    ++st.rx_resync_res_stale;
    return;
  }
  if (!ok) {
    ++st.rx_resync_res_fail;
    set_state(RxSyncState::kSearching, tcpsn, "L5P denied the guess");
    rs_->tail_len = 0;
    return;
  }
  // (d2) confirmed: the message at next_hdr has index msg_index + tracked (and its payload
  // follows that of the tracked messages). Resume there, carrying any header bytes of it
  // already seen.
  ++st.rx_resync_res_ok;
  cur_.reset(rs_->next_hdr, msg_index + rs_->tracked, payload_pos + rs_->tracked_payload);
  if (rs_->trk_hdr_have > 0) {
    scratch().resize(rs_->trk_hdr_have);
    Bytes part(rs_->trk_hdr.begin(), rs_->trk_hdr.begin() + rs_->trk_hdr_have);
    feed(cur_, plugin_, *flow_, l5o::Direction::kRx, part, scratch());
  }
  rs_->trk_hdr_have = 0;
  set_state(RxSyncState::kOffloading, rs_->next_hdr, "L5P confirmed: resume at the next message");
}

void RxOffloadFlow::freeze(Packer& p) const {
  cur_.pack(p, plugin_.header_len());
  flow_->freeze(p);
}

std::unique_ptr<RxOffloadFlow> RxOffloadFlow::thaw(const Plugin& plugin, Unpacker& u) {
  MsgCursor cur;
  cur.unpack(u, plugin.header_len());
  auto r = std::make_unique<RxOffloadFlow>(plugin, plugin.thaw_flow(u), cur.msg_start);
  r->cur_ = cur;
  return r;
}

size_t RxOffloadFlow::context_bytes() const {
  const size_t h = plugin_.header_len();
  return flow_->context_bytes() + MsgCursor::context_bytes(h) + resync_context_bytes(h);
}

}  // namespace autonic::nic
