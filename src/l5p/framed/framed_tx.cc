#include "l5p/framed/framed_tx.h"

#include <algorithm>
#include <cstring>

namespace autonic::l5p::framed {

FramedTx::FramedTx(const Key& key, bool offload, size_t msg_payload, FramedStats& st)
    : key_(key), offload_(offload), msg_payload_(std::clamp<size_t>(msg_payload, 1, kMaxPayload)), st_(st) {}

size_t FramedTx::queue(ByteSpan data) {
  const size_t limit = std::max<size_t>(2 * (msg_payload_ + kHeaderLen + kTrailerLen), 512 * 1024);
  size_t taken = 0;
  while (taken < data.size() && map_.unwritten() < limit) {
    const size_t n = std::min(msg_payload_, data.size() - taken);
    Bytes m(kHeaderLen + n + kTrailerLen);
    write_header(m.data(), uint32_t(n));
    std::memcpy(m.data() + kHeaderLen, data.data() + taken, n);
    const uint64_t index = next_index_++;
    if (!offload_) {
      // Software path: encrypt and fill the check value here.
      MsgCipher c(key_);
      c.begin(index, ByteSpan(m.data(), kHeaderLen));
      MutByteSpan body(m.data() + kHeaderLen, n + kTrailerLen);
      c.tx(uint32_t(kHeaderLen), body, body);
      st_.tx_sw_encrypted_bytes += n;
    }
    // With TX offload the payload stays plaintext and the check a dummy (zeros): the NIC
    // fills both in on the way out (§4.2).
    std::vector<TxMsgMap::Piece> pieces;
    pieces.push_back(owned_piece(std::move(m)));
    map_.push(std::move(pieces));
    taken += n;
    ++st_.tx_msgs;
    st_.tx_held_msgs_max = std::max<uint64_t>(st_.tx_held_msgs_max, map_.held());
  }
  return taken;
}

}  // namespace autonic::l5p::framed
