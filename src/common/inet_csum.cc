#include "common/inet_csum.h"

#include <cstring>

#include "common/bytes.h"

namespace autonic {

uint32_t csum_partial(const uint8_t* p, size_t len, uint32_t sum) {
  uint64_t s = sum;
  // 8 bytes at a time: the sum of big-endian 16-bit words equals (up to byte order, fixed at
  // the end) the sum over native 64-bit words with end-around carry (RFC 1071 §2 (B)).
  uint64_t acc = 0;
  while (len >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    acc += w;
    if (acc < w) ++acc;
    p += 8;
    len -= 8;
  }
  // fold 64 -> 32 -> 16 in native order then swap to network order.
  uint64_t f = (acc & 0xFFFFFFFF) + (acc >> 32);
  f = (f & 0xFFFFFFFF) + (f >> 32);
  f = (f & 0xFFFF) + (f >> 16);
  f = (f & 0xFFFF) + (f >> 16);
  f = (f & 0xFFFF) + (f >> 16);
  s += uint16_t((f >> 8) | (f << 8));  // native little-endian words -> big-endian words
  while (len >= 2) { s += load_be16(p); p += 2; len -= 2; }
  if (len) s += uint32_t(p[0]) << 8;
  while (s >> 32) s = (s & 0xFFFFFFFF) + (s >> 32);
  return uint32_t(s);
}

uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return uint16_t(sum);
}

static uint32_t tcp4_pseudo(const uint8_t* ip, size_t ip_len, size_t ihl) {
  uint32_t s = 0;
  s = csum_partial(ip + 12, 8, s);  // src + dst address
  s += 6;                           // protocol TCP
  s += uint32_t(ip_len - ihl);      // TCP length
  return s;
}

uint16_t tcp4_checksum(const uint8_t* ip, size_t ip_len) {
  const size_t ihl = size_t(ip[0] & 0x0F) * 4;
  uint32_t s = tcp4_pseudo(ip, ip_len, ihl);
  // checksum field (offset 16 in the TCP header) counted as zero
  s = csum_partial(ip + ihl, 16, s);
  s = csum_partial(ip + ihl + 18, ip_len - ihl - 18, s);
  return uint16_t(~csum_fold(s));
}

bool tcp4_checksum_ok(const uint8_t* ip, size_t ip_len) {
  const size_t ihl = size_t(ip[0] & 0x0F) * 4;
  uint32_t s = tcp4_pseudo(ip, ip_len, ihl);
  s = csum_partial(ip + ihl, ip_len - ihl, s);
  return csum_fold(s) == 0xFFFF;
}

void ipv4_set_header_checksum(uint8_t* ip) {
  const size_t ihl = size_t(ip[0] & 0x0F) * 4;
  store_be16(ip + 10, 0);
  store_be16(ip + 10, uint16_t(~csum_fold(csum_partial(ip, ihl, 0))));
}

}  // namespace autonic
