#include "cli/nicsim_stream.h"

#include <cstring>

#include "proto/nvme/nvme_l5_state.h"
#include "proto/nvme/nvme_pdu.h"
#include "proto/tls/tls_l5_state.h"

namespace autonic::cli::nicsim {

uint8_t MsgLayout::byte_at(uint32_t flow, uint64_t off, bool* checked) const {
  const uint64_t k = off / msg_len();
  const uint32_t o = uint32_t(off % msg_len());
  *checked = true;
  if (o >= hdr_len() + content) {  // trailer: TLS inner type first, then tag / digest (NIC's)
    if (l5 == L5::kTls && o == hdr_len() + content) return 0x17;  // application_data (RFC 8446 §5.2)
    *checked = false;
    return 0;
  }
  if (o >= hdr_len()) return content_byte(flow, k * content + (o - hdr_len()));
  if (l5 == L5::kTls) {
    // TLSCiphertext header: opaque_type application_data, legacy version 0x0303, length.
    const uint32_t len = content + trailer_len();
    const uint8_t h[5] = {0x17, 0x03, 0x03, uint8_t(len >> 8), uint8_t(len)};
    return h[o];
  }
  // H2CData (NVMe/TCP §3.6.2.6): common header, then CCCID, TTAG, DATAO, DATAL.
  using namespace proto::nvme;
  uint8_t h[24] = {uint8_t(PduType::kH2CData), uint8_t(kFlagDdgst | kFlagLast), 24, 24};
  put32(h + 4, msg_len());
  put16(h + 8, uint16_t(k));
  put16(h + 10, uint16_t(flow));
  put32(h + 12, 0);
  put32(h + 16, content);
  return h[o];
}

void fill_content(uint32_t flow, uint64_t pos, MutByteSpan out) {
  size_t i = 0;
  for (; i < out.size() && ((pos + i) & 7); ++i) out[i] = content_byte(flow, pos + i);
  for (; i + 8 <= out.size(); i += 8) {
    const uint64_t w = content_word(flow, (pos + i) >> 3);
    for (size_t b = 0; b < 8; ++b) out[i + b] = uint8_t(w >> (8 * b));  // little-endian, as content_byte
  }
  for (; i < out.size(); ++i) out[i] = content_byte(flow, pos + i);
}

void MsgLayout::fill(uint32_t flow, uint64_t off, MutByteSpan out) const {
  bool checked;
  const uint32_t L = msg_len();
  size_t i = 0;
  while (i < out.size()) {
    const uint64_t pos = off + i;
    const uint32_t o = uint32_t(pos % L);
    if (o >= hdr_len() && o < hdr_len() + content) {  // a run of content: the common case
      const size_t n = std::min<size_t>(hdr_len() + content - o, out.size() - i);
      fill_content(flow, (pos / L) * content + (o - hdr_len()), out.subspan(i, n));
      i += n;
      continue;
    }
    out[i++] = byte_at(flow, pos, &checked);
  }
}

size_t MsgLayout::check(uint32_t flow, uint64_t off, ByteSpan got) const {
  // What was sent, then compared where the receiver must see it unchanged (not the trailer's
  // tag / digest, which NIC A wrote).
  thread_local Bytes want;
  want.resize(got.size());
  fill(flow, off, want);
  const uint32_t L = msg_len();
  const uint32_t checked_end = hdr_len() + content + (l5 == L5::kTls ? 1 : 0);
  size_t bad = 0, i = 0;
  while (i < got.size()) {
    const uint32_t o = uint32_t((off + i) % L);
    const size_t n = std::min<size_t>(o < checked_end ? checked_end - o : L - o, got.size() - i);
    if (o < checked_end && std::memcmp(got.data() + i, want.data() + i, n) != 0)
      for (size_t j = 0; j < n; ++j) bad += got[i + j] != want[i + j];
    i += n;
  }
  return bad;
}

std::shared_ptr<const l5o::L5State> MsgLayout::state(uint32_t flow, uint64_t seed) const {
  if (l5 == L5::kNvme) return std::make_shared<proto::nvme::NvmeL5State>(false, true, false);
  proto::tls::TrafficKeys k;
  k.version = proto::tls::Version::kTls13;
  k.cipher = proto::tls::Cipher::kAes128Gcm;
  k.key.resize(16);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull ^ flow;
  for (size_t i = 0; i < 16; ++i) k.key[i] = uint8_t((x = x * 6364136223846793005ull + 1442695040888963407ull) >> 56);
  for (size_t i = 0; i < 12; ++i) k.iv[i] = uint8_t((x = x * 6364136223846793005ull + 1442695040888963407ull) >> 56);
  return std::make_shared<proto::tls::TlsL5State>(std::move(k), 0);
}

FlowKey flow_key(uint32_t flow, L5 l5) {
  // 10.x.y.z clients (2^15 ports each) to one server: 443 (TLS) or 4420 (NVMe/TCP).
  return FlowKey{0x0A000000u + (flow >> 15) + 1, 0xC0A80001u, uint16_t(10000 + (flow & 0x7FFF)),
                 uint16_t(l5 == L5::kTls ? 443 : 4420)};
}

TcpSeq flow_isn(uint32_t flow, uint64_t seed) {
  uint64_t x = (seed ^ 0xA5A5A5A5ull) * 0x9E3779B97F4A7C15ull + flow;
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  return TcpSeq(uint32_t(x ^ (x >> 29)));
}

Bytes make_frame(const FlowKey& k, TcpSeq seq, size_t payload_len, MutByteSpan* payload) {
  Bytes f(kEthHeaderLen + 20 + 20 + payload_len, 0);
  static constexpr uint8_t kMacs[12] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
  std::copy(kMacs, kMacs + 12, f.begin());
  store_be16(&f[12], kEtherTypeIpv4);
  uint8_t* ip = &f[kEthHeaderLen];
  ip[0] = 0x45;
  store_be16(ip + 2, uint16_t(40 + payload_len));
  store_be16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = 6;
  store_be32(ip + 12, k.saddr);
  store_be32(ip + 16, k.daddr);
  uint8_t* tcp = ip + 20;
  store_be16(tcp, k.sport);
  store_be16(tcp + 2, k.dport);
  store_be32(tcp + 4, seq.raw());
  tcp[12] = 5 << 4;
  tcp[13] = 0x18;  // ACK | PSH
  store_be16(tcp + 14, 65535);
  *payload = MutByteSpan(f.data() + kEthHeaderLen + 40, payload_len);
  return f;
}

}  // namespace autonic::cli::nicsim
