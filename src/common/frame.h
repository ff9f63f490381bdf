// Checked view of an Ethernet II / IPv4 / TCP frame (STYLE.md habit 5: parse once at the
// boundary, then accessors are in bounds). Anything else (ARP, IPv6, fragments) is "not TCP".
#pragma once
#include <cstdint>
#include <optional>
#include <span>

#include "common/bytes.h"
#include "common/tcp_seq.h"

namespace autonic {

inline constexpr size_t kEthHeaderLen = 14;
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;

struct FlowKey {  // TCP/IPv4 5-tuple (protocol is always TCP here)
  uint32_t saddr = 0, daddr = 0;
  uint16_t sport = 0, dport = 0;
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
  FlowKey reversed() const { return FlowKey{daddr, saddr, dport, sport}; }
};

struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const {
    uint64_t x = (uint64_t(k.saddr) << 32 | k.daddr) ^ (uint64_t(k.sport) << 16 | k.dport) * 0x9E3779B97F4A7C15ull;
    return size_t(x ^ (x >> 29));
  }
};

// DDP: bytes [off, off + len) of a received frame (offset from the frame's start) that the NIC
// already wrote to `dst`, an L5P's buffer; the driver hands them up by reference.
struct PlacedRange {
  size_t off, len;
  uint8_t* dst;
};

struct TcpFrameView {
  size_t ip_off = kEthHeaderLen;
  size_t ip_len = 0;       // IPv4 total length
  size_t tcp_off = 0;      // from frame start
  size_t payload_off = 0;  // from frame start
  size_t payload_len = 0;
  FlowKey key;
  TcpSeq seq;
  uint8_t tcp_flags = 0;

  // Validates lengths only (checksums are the NIC's job).
  static std::optional<TcpFrameView> parse(ByteSpan frame) {
    if (frame.size() < kEthHeaderLen + 20) return std::nullopt;
    if (load_be16(&frame[12]) != kEtherTypeIpv4) return std::nullopt;
    const uint8_t* ip = &frame[kEthHeaderLen];
    if ((ip[0] >> 4) != 4) return std::nullopt;
    const size_t ihl = size_t(ip[0] & 0x0F) * 4;
    const size_t total = load_be16(ip + 2);
    if (ihl < 20 || total < ihl + 20 || kEthHeaderLen + total > frame.size()) return std::nullopt;
    if (ip[9] != 6) return std::nullopt;                      // not TCP
    if ((load_be16(ip + 6) & 0x3FFF) != 0) return std::nullopt;  // fragment
    const uint8_t* tcp = ip + ihl;
    const size_t thl = size_t(tcp[12] >> 4) * 4;
    if (thl < 20 || ihl + thl > total) return std::nullopt;
    TcpFrameView v;
    v.ip_len = total;
    v.tcp_off = kEthHeaderLen + ihl;
    v.payload_off = v.tcp_off + thl;
    v.payload_len = total - ihl - thl;
    v.key = FlowKey{load_be32(ip + 12), load_be32(ip + 16), load_be16(tcp), load_be16(tcp + 2)};
    v.seq = TcpSeq(load_be32(tcp + 4));
    v.tcp_flags = tcp[13];
    return v;
  }
};

}  // namespace autonic
