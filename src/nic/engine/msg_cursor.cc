#include "nic/engine/msg_cursor.h"

#include <algorithm>
#include <cstring>

namespace autonic::nic {

FeedResult feed(MsgCursor& cur, const Plugin& plugin, PluginFlow& flow, l5o::Direction dir,
                ByteSpan in, MutByteSpan out) {
  FeedResult r;
  // Common case first: the range lies inside one message body and does not end it (every
  // 1448-byte segment but the ~1 in 11 that crosses a 16 KiB record's edge). One straight
  // plug-in call, no walk.
  if (cur.len_known() && !in.empty() && in.size() < size_t(cur.msg_len - cur.offset)) {
    if (dir == l5o::Direction::kTx)
      flow.tx(cur.offset, in, out);
    else
      flow.rx(cur.offset, in, out);
    cur.offset += uint32_t(in.size());
    return r;
  }
  const size_t hlen = plugin.header_len();
  size_t i = 0;
  while (i < in.size()) {
    if (!cur.len_known()) {
      // Header bytes are plaintext on the wire in both directions: copied through unchanged
      // and collected (they may be split across packets) until the length can be read.
      const size_t n = std::min(hlen - cur.offset, in.size() - i);
      std::memcpy(cur.hdr.data() + cur.offset, in.data() + i, n);
      if (out.data() + i != in.data() + i) std::memcpy(out.data() + i, in.data() + i, n);
      cur.offset += uint32_t(n);
      i += n;
      if (cur.offset < hlen) break;
      const auto len = plugin.probe(ByteSpan(cur.hdr.data(), hlen));
      if (!len || *len < hlen) {
        cur.offset = 0;
        r.bad_header = true;
        return r;
      }
      cur.msg_len = *len;
      flow.begin(cur.msg_index, cur.msg_start, ByteSpan(cur.hdr.data(), hlen), cur.payload);
    } else {
      const size_t n = std::min<size_t>(cur.msg_len - cur.offset, in.size() - i);
      if (dir == l5o::Direction::kTx)
        flow.tx(cur.offset, in.subspan(i, n), out.subspan(i, n));
      else
        flow.rx(cur.offset, in.subspan(i, n), out.subspan(i, n));
      cur.offset += uint32_t(n);
      i += n;
    }
    if (cur.len_known() && cur.offset == cur.msg_len) {
      if (dir == l5o::Direction::kRx && !flow.rx_verify()) r.all_verified = false;
      cur.advance(plugin, flow);
    }
  }
  return r;
}

}  // namespace autonic::nic
