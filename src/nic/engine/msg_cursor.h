// In-sequence message walker shared by TX and RX: given the context's position in the L5P
// message stream, processes any byte range of the TCP stream, crossing message boundaries by
// reading each header's length (§3.2: the NIC never assumes message/packet alignment).
#pragma once
#include <array>
#include <cstdint>

#include "common/bytes.h"
#include "common/tcp_seq.h"
#include "nic/engine/pack.h"
#include "nic/engine/plugin.h"

namespace autonic::nic {

struct MsgCursor {
  TcpSeq msg_start;        // tcpsn of the current message's first byte
  uint64_t msg_index = 0;  // messages before it since the offload began
  uint32_t offset = 0;     // bytes of it already processed
  uint32_t msg_len = 0;    // total length; 0 while its header is incomplete
  std::array<uint8_t, kMaxHeaderLen> hdr{};
  TcpSeq payload;          // inner-stream position of its payload (composed offloads)

  void reset(TcpSeq start, uint64_t index) {
    msg_start = start;
    msg_index = index;
    offset = 0;
    msg_len = 0;
  }
  void reset(TcpSeq start, uint64_t index, TcpSeq payload_pos) {
    payload = payload_pos;
    msg_start = start;
    msg_index = index;
    offset = 0;
    msg_len = 0;
  }
  TcpSeq pos() const { return msg_start + offset; }
  // Bytes of NIC context memory the cursor takes, packed as hardware keeps it (not sizeof):
  // the current message's tcpsn (4), its index since the offload began (8: with the epoch's
  // base, the TLS record sequence number), bytes of it done (4), its length (4), its header
  // as gathered so far (header_len: it may straddle packets) and the inner-stream position of
  // its payload (4, composed offloads).
  static constexpr size_t context_bytes(size_t header_len) { return 4 + 8 + 4 + 4 + header_len + 4; }
  // The at-rest form: the fields above, the header as far as header_len.
  void pack(Packer& p, size_t header_len) const {
    p.put(msg_start);
    p.put(msg_index);
    p.put(offset);
    p.put(msg_len);
    p.put_bytes(hdr.data(), header_len);
    p.put(payload);
  }
  void unpack(Unpacker& u, size_t header_len) {
    u.get(msg_start);
    u.get(msg_index);
    u.get(offset);
    u.get(msg_len);
    u.get_bytes(hdr.data(), header_len);
    u.get(payload);
  }
  bool len_known() const { return msg_len != 0; }
  TcpSeq next_msg() const { return msg_start + msg_len; }  // only if len_known()
  // Moves to the next message (only if len_known()).
  void advance(const Plugin& p, const PluginFlow& f) {
    const uint32_t n = f.outside_payload(msg_index) ? 0 : p.payload_len(ByteSpan(hdr.data(), p.header_len()));
    const TcpSeq next_payload = payload + n;
    reset(next_msg(), msg_index + 1, next_payload);
  }
};

struct FeedResult {
  bool bad_header = false;      // bytes at a message boundary were not a header
  bool all_verified = true;     // RX: every message that ended in the range verified
};

// Runs the plug-in over `in` (which starts at cur.pos()), writing to `out` (same size; may
// alias). Advances `cur`. On bad_header the cursor is left where the bad header began.
FeedResult feed(MsgCursor& cur, const Plugin& plugin, PluginFlow& flow, l5o::Direction dir,
                ByteSpan in, MutByteSpan out);

}  // namespace autonic::nic
