// `autonic nicsim`'s synthetic L5P streams: every flow carries back-to-back messages of one
// fixed length (TLS 1.3 records or NVMe/TCP H2CData PDUs with a data digest), so any stream byte
// -- header, content or trailer -- is a function of (flow, offset) and no flow keeps a buffer.
// The trailer (TLS tag, NVMe data digest) leaves the host as zeros: NIC A's TX engine fills it,
// exactly as the L5Ps hand records / PDUs to the offload.
#pragma once
#include <cstdint>
#include <memory>

#include "common/bytes.h"
#include "common/frame.h"
#include "common/tcp_seq.h"
#include "l5o/l5o.h"

namespace autonic::cli::nicsim {

enum class L5 : uint8_t { kTls, kNvme };

struct MsgLayout {
  L5 l5 = L5::kTls;
  uint32_t content = 16384;  // TLS record plaintext / NVMe PDU data bytes
  uint32_t hdr_len() const { return l5 == L5::kTls ? 5 : 24; }
  // Bytes after the content: TLS 1.3 inner content type + tag; NVMe data digest.
  uint32_t trailer_len() const { return l5 == L5::kTls ? 1 + 16 : 4; }
  uint32_t msg_len() const { return hdr_len() + content + trailer_len(); }
  // Writes stream bytes [off, off + out.size()) of flow `flow` as the host hands them to the NIC.
  void fill(uint32_t flow, uint64_t off, MutByteSpan out) const;
  // Plain-side check of bytes the receiving NIC processed (marked): header and content must be
  // what was sent (TLS: decrypted). Returns the number of wrong bytes.
  size_t check(uint32_t flow, uint64_t off, ByteSpan got) const;
  // The offload state the L5P would install for the flow (keys derived from flow and seed).
  std::shared_ptr<const l5o::L5State> state(uint32_t flow, uint64_t seed) const;

 private:
  uint8_t byte_at(uint32_t flow, uint64_t off, bool* checked) const;
};

// Content bytes of flow `flow`: 8 at a time from a mixed (flow, word index), so generating and
// checking them costs little next to the NIC's work.
inline uint64_t content_word(uint32_t flow, uint64_t word) {
  uint64_t x = (uint64_t(flow) << 40 ^ word) * 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  return x ^ (x >> 32);
}
inline uint8_t content_byte(uint32_t flow, uint64_t pos) { return uint8_t(content_word(flow, pos >> 3) >> (8 * (pos & 7))); }
// Content bytes [pos, pos + out.size()) of the flow.
void fill_content(uint32_t flow, uint64_t pos, MutByteSpan out);

// The flow's 5-tuple (unique for 2^32 flows) and initial sequence number.
FlowKey flow_key(uint32_t flow, L5 l5);
TcpSeq flow_isn(uint32_t flow, uint64_t seed);
// Ethernet II / IPv4 / TCP frame carrying `payload_len` stream bytes at `seq`; payload left for
// the caller to fill (returned span). TCP checksum left to the NIC (checksum offload).
Bytes make_frame(const FlowKey& k, TcpSeq seq, size_t payload_len, MutByteSpan* payload);

}  // namespace autonic::cli::nicsim
